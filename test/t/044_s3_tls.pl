# s3:// over https: the test server with a throwaway CA.  The certificate
# is verified (a server whose CA is not trusted is refused at once, not
# retried); the server option ca_file (superusers only) names the CA.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{VLAKE_SRC};
plan skip_all => 'needs the S3 test server (npm ci in test/tools) and openssl'
  unless -d "$src/test/tools/node_modules/\@20minutes/s3rver" && system('openssl version >/dev/null 2>&1') == 0;

my $dir = PostgreSQL::Test::Utils::tempdir('s3tls');
# its own server: the suite's request log (scripts/test.sh) is the shared server's
my $env = `VLAKE_TEST_S3_REQUEST_LOG= VLAKE_TEST_S3_TLS=1 VLAKE_TEST_S3_OWNER_PID=$$ "$src/test/tools/s3server/start.sh" "$dir"`;
die "could not start the https test server" if $? != 0;
my %s3 = $env =~ /^(\w+)=(.*)$/mg;
my $pid = $s3{s3_pid};
END { kill 'TERM', $pid if $pid }
like($s3{VLAKE_TEST_S3_ENDPOINT}, qr/^https:\/\/127\.0\.0\.1:\d+$/, 'https test server started');

my $node = PostgreSQL::Test::Cluster->new('s3tls');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'vlake'\nvlake.cache_size = 0");
$node->start;
my ($ak, $sk, $bucket, $ep, $ca) = @s3{qw(VLAKE_TEST_S3_ACCESS_KEY VLAKE_TEST_S3_SECRET_KEY VLAKE_TEST_S3_BUCKET VLAKE_TEST_S3_ENDPOINT VLAKE_TEST_S3_CA_FILE)};
my ($port) = $ep =~ /:(\d+)$/;
$node->safe_psql('postgres', qq{
CREATE EXTENSION vlake;
CREATE SERVER tls FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint '$ep', url_style 'path', uri_prefix 's3://$bucket/path/', ca_file '$ca');
CREATE SERVER tlsv FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint 'https://s3.localhost:$port', url_style 'virtual', uri_prefix 's3://$bucket/virtual/', ca_file '$ca');
CREATE SERVER untrusted FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint '$ep', url_style 'path', uri_prefix 's3://$bucket/untrusted/');
BEGIN;
SET LOCAL log_statement = 'none';
CREATE USER MAPPING FOR CURRENT_USER SERVER tls OPTIONS (access_key '$ak', secret_key '$sk');
CREATE USER MAPPING FOR CURRENT_USER SERVER tlsv OPTIONS (access_key '$ak', secret_key '$sk');
CREATE USER MAPPING FOR CURRENT_USER SERVER untrusted OPTIONS (access_key '$ak', secret_key '$sk');
COMMIT;
});

$node->safe_psql('postgres', "SELECT vlake.lake_write('s3://$bucket/path/a.txt', 'over tls')");
is($node->safe_psql('postgres', "SELECT convert_from(vlake.lake_read('s3://$bucket/path/a.txt'), 'UTF8')"),
	'over tls', 'path-style over https with the CA of ca_file');
$node->safe_psql('postgres', "SELECT vlake.lake_write('s3://$bucket/virtual/b.txt', 'virtual tls')");
is($node->safe_psql('postgres', "SELECT convert_from(vlake.lake_read('s3://$bucket/virtual/b.txt'), 'UTF8')"),
	'virtual tls', 'virtual-hosted over https (certificate for *.s3.localhost)');

my ($rc, $out, $err) = $node->psql('postgres', "SELECT vlake.lake_read('s3://$bucket/untrusted/a.txt')");
like($err, qr/could not stat "s3:\/\/\Q$bucket\E\/untrusted\/a\.txt": .*(SSL certificate problem|certificate)/i,
	'a server certificate from an untrusted CA is refused, naming the URI');
like($err, qr/Gave up after 1 attempt/, '  at once: certificate errors are not retried');

$node->safe_psql('postgres', "CREATE ROLE owner_nosu LOGIN; GRANT USAGE ON FOREIGN DATA WRAPPER vlake_s3 TO owner_nosu");
($rc, $out, $err) = $node->psql('postgres',
	"SET ROLE owner_nosu; CREATE SERVER mine FOREIGN DATA WRAPPER vlake_s3 OPTIONS (bucket 'abc', ca_file '/etc/passwd')");
like($err, qr/only superusers may set the option ca_file/, 'ca_file is for superusers only');

$node->stop;
done_testing();
