# VlakeS3 — helpers for TAP suites that run against the S3 test server
# (test/tools/s3server, started by scripts/test.sh; see docs/s3.md).
package VlakeS3;

use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;
use Test::More;

our @EXPORT_OK = qw(s3_available s3_admin s3_oracle_get s3_oracle_keys s3_setup_node
  s3_unique_prefix s3_env);
use Exporter 'import';

# The test server's settings, read once.  The secret is then removed from
# the environment: servers started by the test inherit it, and at
# log_min_messages = debug5 the postmaster logs its whole environment
# (the reason docs/s3.md says never to give credentials to the server
# through environment variables).
my %S3 = map { $_ => $ENV{"VLAKE_TEST_S3_$_"} } qw(ENDPOINT ADMIN ACCESS_KEY SECRET_KEY BUCKET);
delete $ENV{VLAKE_TEST_S3_SECRET_KEY};

sub s3_env { return $S3{ uc(shift) } }

# True when the test server is running (scripts/test.sh exports its address).
sub s3_available
{
	return defined s3_env('endpoint') && defined s3_env('admin');
}

my $http = HTTP::Tiny->new(timeout => 60);

# s3_admin(METHOD, PATH, [DATA]) -> decoded JSON; dies on failure.
sub s3_admin
{
	my ($method, $path, $data) = @_;
	my %opt;
	$opt{content} = encode_json($data) if defined $data;
	my $r = $http->request($method, s3_env('admin') . $path, \%opt);
	die "admin $method $path: $r->{status} $r->{content}" unless $r->{success};
	return decode_json($r->{content});
}

# The bytes of a key as the server stores them (undef when missing): an
# oracle that does not go through vlake's S3 client.
sub s3_oracle_get
{
	my ($key) = @_;
	my $r = $http->get(s3_env('admin') . '/object?key=' . _esc($key));
	return undef if $r->{status} == 404;
	die "oracle get $key: $r->{status}" unless $r->{success};
	return $r->{content};
}

sub s3_oracle_keys
{
	my ($prefix) = @_;
	my $r = $http->get(s3_env('admin') . '/keys?prefix=' . _esc($prefix));
	die "oracle keys: $r->{status}" unless $r->{success};
	return decode_json($r->{content})->{keys};
}

sub _esc
{
	my $s = shift;
	$s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord($1))/ge;
	return $s;
}

my $counter = 0;

sub s3_unique_prefix
{
	my ($name) = @_;
	$counter++;
	return "$name-$$-" . time() . "-$counter/";
}

# Create the server and the user mapping for the current superuser in $db,
# with logging of the statement switched off as docs/s3.md recommends.
sub s3_setup_node
{
	my ($node, %o) = @_;
	my $db = $o{db} // 'postgres';
	my $server = $o{server} // 's3test';
	my $style = $o{url_style} // 'path';
	my $endpoint = $o{endpoint} // s3_env('endpoint');
	my $ak = $o{access_key} // s3_env('access_key');
	my $sk = $o{secret_key} // s3_env('secret_key');
	my $bucket = s3_env('bucket');
	my $token = $o{session_token} ? ", session_token '$o{session_token}'" : '';
	$node->safe_psql($db, qq{
CREATE SERVER $server FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint '$endpoint', region 'us-east-1', url_style '$style', bucket '$bucket');
BEGIN;
SET LOCAL log_statement = 'none';
SET LOCAL log_min_error_statement = 'panic';
SET LOCAL log_min_duration_statement = -1;
SET LOCAL pg_stat_statements.track_utility = off;
CREATE USER MAPPING FOR CURRENT_USER SERVER $server
  OPTIONS (access_key '$ak', secret_key '$sk'$token);
COMMIT;
});
	return "s3://$bucket/";
}

1;
