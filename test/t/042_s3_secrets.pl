# S3 credentials never reach logs (at debug5 with log_statement = all),
# error messages, EXPLAIN, pg_stat_activity or catalogs a non-owner can
# read.  The setup follows docs/s3.md: the statement that carries the
# secret runs with statement logging switched off for that transaction.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_admin s3_setup_node s3_unique_prefix s3_env);

plan skip_all => 'S3 test server not running (see docs/s3.md)' unless s3_available();

my $node = PostgreSQL::Test::Cluster->new('s3secrets');
$node->init;
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'vlake, pg_stat_statements'
log_min_messages = debug5
client_min_messages = notice
log_statement = 'all'
log_min_error_statement = debug5
log_error_verbosity = verbose
log_connections = on
vlake.cache_size = 0
vlake.s3_retry_base_delay = 10
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake; CREATE EXTENSION pg_stat_statements');

my $secret = s3_env('secret_key');
my $sess = s3_admin('POST', '/session');
my $root = s3_setup_node($node);                 # documented setup, main secret
my $p = s3_unique_prefix('secrets');
my $base = "$root$p";

# a second role with temporary credentials (session token), same way
$node->safe_psql('postgres', qq{
CREATE ROLE alice LOGIN;
GRANT USAGE ON FOREIGN SERVER s3test TO alice;
GRANT EXECUTE ON FUNCTION vlake.lake_read(text, bigint, bigint), vlake.lake_write(text, bytea),
  vlake.lake_stat(text) TO alice;
BEGIN;
SET LOCAL log_statement = 'none';
SET LOCAL log_min_error_statement = 'panic';
SET LOCAL log_min_duration_statement = -1;
SET LOCAL pg_stat_statements.track_utility = off;
CREATE USER MAPPING FOR alice SERVER s3test
  OPTIONS (access_key '$sess->{access_key}', secret_key '$sess->{secret_key}', session_token '$sess->{session_token}');
COMMIT;
CREATE ROLE mallory LOGIN;
GRANT USAGE ON FOREIGN SERVER s3test TO mallory;
GRANT EXECUTE ON FUNCTION vlake.lake_read(text, bigint, bigint) TO mallory;
});

# a failing CREATE USER MAPPING done the documented way logs no statement
my ($rc, $out, $err) = $node->psql('postgres', qq{
BEGIN;
SET LOCAL log_statement = 'none';
SET LOCAL log_min_error_statement = 'panic';
CREATE USER MAPPING FOR mallory SERVER s3test OPTIONS (access_key 'x', secret_key '$secret', bogus 'y');
COMMIT;});
like($err, qr/invalid option "bogus"/, 'a bad user mapping is refused');
unlike($err, qr/\Q$secret\E/, '  without echoing the secret');

# runtime: successes and failures of every kind
$node->safe_psql('postgres', "SELECT vlake.lake_write('${base}a', 'data')");
$node->safe_psql('postgres', "SELECT vlake.lake_read('${base}a')");
$node->safe_psql('postgres', "SELECT * FROM vlake.lake_list('$base')");
$node->safe_psql('postgres', "SET ROLE alice; SELECT vlake.lake_read('${base}a')");
my @errors;
s3_admin('POST', '/faults', { method => 'GET', action => 'status', status => 500, count => 20 });
(undef, undef, $err) = $node->psql('postgres', "SET vlake.s3_max_retries = 3; SELECT vlake.lake_read('${base}a')");
push @errors, $err;
s3_admin('DELETE', '/faults');
(undef, undef, $err) = $node->psql('postgres', "SELECT vlake.lake_read('${base}missing')");
push @errors, $err;
(undef, undef, $err) = $node->psql('postgres', "SET ROLE mallory; SELECT vlake.lake_read('${base}a')");
like($err, qr/no user mapping for role "mallory"/, 'a role without a mapping gets no one else\'s credentials');
push @errors, $err;
# wrong credentials: the server refuses them, the error shows no secret
$node->safe_psql('postgres', qq{BEGIN; SET LOCAL log_statement = 'none';
ALTER USER MAPPING FOR alice SERVER s3test OPTIONS (SET session_token 'bad-token-value');
COMMIT;});
(undef, undef, $err) = $node->psql('postgres', "SET ROLE alice; SELECT vlake.lake_read('${base}a')");
like($err, qr/HTTP 403 InvalidToken/, 'wrong token: clear error');
push @errors, $err;
(undef, undef, $err) = $node->psql('postgres', "SET ROLE alice; SELECT vlake.lake_stat('${base}a')");
push @errors, $err;
for my $e (@errors)
{
	unlike($e, qr/\Q$secret\E|\Q$sess->{secret_key}\E|\Q$sess->{session_token}\E|Signature=|Credential=/,
		'error message carries no credential: ' . (split /\n/, $e)[0]);
}

# EXPLAIN and pg_stat_activity see only the statement
my $explain = $node->safe_psql('postgres', "EXPLAIN (VERBOSE, ANALYZE, COSTS OFF) SELECT vlake.lake_read('${base}a')");
unlike($explain, qr/\Q$secret\E|\Q$sess->{secret_key}\E/, 'EXPLAIN ANALYZE VERBOSE shows no secret');
s3_admin('POST', '/faults', { method => 'GET', action => 'delay', ms => 3000, count => 1 });
my $bg = $node->background_psql('postgres');
$bg->query_until(qr/started/, "\\echo started\nSELECT length(vlake.lake_read('${base}a'));\n");
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%lake_read%' AND pid <> pg_backend_pid()")
  or die 'call never showed up in pg_stat_activity';
my $act = $node->safe_psql('postgres', "SELECT query, coalesce(wait_event, '') FROM pg_stat_activity WHERE pid <> pg_backend_pid()");
unlike($act, qr/\Q$secret\E/, 'pg_stat_activity of a running S3 call shows no secret');
$bg->quit;
s3_admin('DELETE', '/faults');

# non-owners cannot read the secrets from the catalogs
($rc, $out, $err) = $node->psql('postgres', "SET ROLE mallory; SELECT umoptions FROM pg_user_mapping");
like($err, qr/permission denied for table pg_user_mapping/, 'pg_user_mapping is closed to non-superusers');
$out = $node->safe_psql('postgres', "SET ROLE mallory; SELECT coalesce(array_to_string(umoptions, ','), 'NULL') FROM pg_user_mappings ORDER BY usename");
unlike($out, qr/\Q$secret\E|\Q$sess->{secret_key}\E/, 'pg_user_mappings shows other roles\' options to nobody else');
$out = $node->safe_psql('postgres', "SET ROLE alice; SELECT usename || ':' || coalesce(array_to_string(umoptions, ','), 'NULL') FROM pg_user_mappings ORDER BY usename");
like($out, qr/^alice:.*access_key=\Q$sess->{access_key}\E/m, 'a role sees its own mapping');
unlike($out, qr/\Q$secret\E/, '  but not another role\'s secret');
$out = $node->safe_psql('postgres', "SET ROLE mallory; SELECT coalesce(array_to_string(srvoptions, ','), '') FROM pg_foreign_server");
unlike($out, qr/secret/, 'server options hold no secret');

# the whole server log, at debug5 with log_statement = all
my $log = slurp_file($node->logfile);
ok(length($log) > 10000, 'the log is verbose (debug5)');
like($log, qr/statement: SELECT vlake\.lake_read/, 'log_statement logged the S3 calls');
unlike($log, qr/\Q$secret\E/, 'the main secret key is in no log line');
unlike($log, qr/\Q$sess->{secret_key}\E/, 'the temporary secret key is in no log line');
unlike($log, qr/\Q$sess->{session_token}\E/, 'the session token is in no log line');
unlike($log, qr/Signature=[0-9a-f]{64}/, 'no request signature is in the log');

my $pss = $node->safe_psql('postgres', "SELECT string_agg(query, E'\\n') FROM pg_stat_statements");
like($pss, qr/lake_read/, 'pg_stat_statements recorded the calls');
unlike($pss, qr/\Q$secret\E|\Q$sess->{secret_key}\E|\Q$sess->{session_token}\E/, 'pg_stat_statements holds no secret');

# positive control: the checks do find a secret that is logged
$node->safe_psql('postgres', "CREATE USER MAPPING FOR mallory SERVER s3test OPTIONS (access_key 'x', secret_key 'controlsecret42')");
$log = slurp_file($node->logfile);
like($log, qr/controlsecret42/, 'control: without the documented SET LOCAL, log_statement = all would log it');
like($node->safe_psql('postgres', "SELECT string_agg(query, E'\\n') FROM pg_stat_statements"), qr/controlsecret42/,
	'control: and pg_stat_statements would keep it');

$node->stop;
done_testing();
