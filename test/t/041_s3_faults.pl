# Fault injection against the S3 test server: every injected fault is
# either retried to success or surfaces as a clear ERROR naming the URI and
# the cause, and never leaves a partial object visible.  Oracle: the
# server's store read over its admin endpoint.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_admin s3_oracle_get s3_oracle_keys s3_setup_node
  s3_unique_prefix s3_env);

plan skip_all => 'S3 test server not running (see docs/s3.md)' unless s3_available();

my $node = PostgreSQL::Test::Cluster->new('s3faults');
$node->init;
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'vlake'
vlake.cache_size = 0
vlake.cache_memory_size = 0
vlake.s3_retry_base_delay = 10
vlake.s3_retry_max_delay = 50
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');
my $root = s3_setup_node($node);
my $bucket = s3_env('bucket');
my $p = s3_unique_prefix('faults');
my $base = "$root$p";

sub sql { return $node->safe_psql('postgres', shift) }
sub psql_err { my ($rc, $out, $err) = $node->psql('postgres', shift); return $err }

# fault(rule...): install rules for keys under our prefix; returns nothing.
sub fault
{
	my (%r) = @_;
	$r{key} = '^' . quotemeta($p . $r{key}) . '$' if defined $r{key};
	s3_admin('POST', '/faults', \%r);
}
sub clear { s3_admin('DELETE', '/faults') }
sub fired { return s3_admin('GET', '/stats')->{faultsFired} }

my $data = join('', map { chr(($_ * 13 + 5) % 256) } 0 .. 199_999);
my $hex = unpack('H*', $data);
sql("SELECT vlake.lake_write('${base}obj', '\\x$hex'::bytea)");
is(s3_oracle_get("${p}obj"), $data, 'setup: object stored');

my $read_whole = "SELECT md5(vlake.lake_read('${base}obj'))";
my $want_md5 = sql("SELECT md5('\\x$hex'::bytea)");
my $read_range = "SELECT encode(vlake.lake_read('${base}obj', 1000, 4096), 'hex')";
my $want_range = unpack('H*', substr($data, 1000, 4096));

# ---- reads: every transient fault is retried to the right bytes
for my $case (
	[ 'HTTP 500 twice', { action => 'status', status => 500, count => 2 } ],
	[ '503 SlowDown three times', { action => 'status', status => 503, code => 'SlowDown', count => 3 } ],
	[ '429 once', { action => 'status', status => 429, code => 'TooManyRequests', count => 1 } ],
	[ 'connection reset before answering', { action => 'reset', count => 1 } ],
	[ 'connection dropped mid-body', { action => 'drop', count => 2 } ],
	[ 'body truncated, connection closed', { action => 'truncate', count => 1 } ],
	[ 'short body with a lying Content-Length', { action => 'short', count => 1 } ])
{
	my ($name, $rule) = @$case;
	clear();
	my $before = fired();
	fault(%$rule, method => 'GET', key => 'obj');
	is(sql($read_whole), $want_md5, "whole GET survives: $name");
	is(fired() - $before, $rule->{count}, "  ($name: all $rule->{count} fault(s) hit)");
	fault(%$rule, method => 'GET', key => 'obj');
	is(sql($read_range), $want_range, "range GET survives: $name");
}
clear();

# a stall longer than the request timeout is a timeout, retried
fault(method => 'GET', key => 'obj', action => 'delay', ms => 3000, count => 1);
is(sql("SET vlake.s3_request_timeout = '500ms'; $read_range"), $want_range, 'a timed-out request is retried');
clear();

# ---- persistent faults surface as clear errors
fault(method => 'GET', key => 'obj', action => 'status', status => 500, count => 100);
my $err = psql_err("SET vlake.s3_max_retries = 2; $read_range");
like($err, qr/could not read "s3:\/\/\Q$bucket\E\/\Q$p\Eobj": HTTP 500 InternalError/, 'retries exhausted: ERROR names the URI and status');
like($err, qr/3 attempt\(s\)/, '  and says how many attempts were made');
clear();
fault(method => 'GET', key => 'obj', action => 'drop', count => 100);
$err = psql_err("SET vlake.s3_max_retries = 1; $read_range");
like($err, qr/could not read "s3:\/\/\Q$bucket\E\/\Q$p\Eobj": .*(transfer closed|connection|Recv failure|Connection reset)/i,
	'a connection dropped every time: ERROR names the URI and the cause');
clear();
fault(method => 'GET', key => 'obj', action => 'short', count => 100);
$err = psql_err("SET vlake.s3_max_retries = 1; $read_range");
like($err, qr/could not read "s3:\/\/.*obj": .*short body|range request/, 'a server that keeps lying about the body: ERROR');
clear();
fault(method => 'GET', key => 'obj', action => 'status', status => 503, code => 'SlowDown', count => 100);
$err = psql_err("SET vlake.s3_retry_timeout = '200ms'; SET vlake.s3_retry_base_delay = '100ms'; SET vlake.s3_retry_max_delay = '100ms'; $read_range");
like($err, qr/HTTP 503 SlowDown/, 'the retry time bound stops retrying');
clear();

# ---- a cancel interrupts a slow transfer, and the connection pool recovers
fault(method => 'GET', key => 'obj', action => 'delay', ms => 20000, count => 1);
$err = psql_err("SET statement_timeout = '300ms'; $read_range");
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout cancels a stalled S3 request');
clear();
is(sql($read_range), $want_range, 'the next request in a new session works');
is(sql("SET statement_timeout = '300ms'; SELECT 1; RESET statement_timeout; $read_range"), "1\n$want_range",
	'and in the same session after a cancel');

# ---- writes
for my $case (
	[ 'HTTP 500 once', { action => 'status', status => 500, count => 1 } ],
	[ 'SlowDown twice', { action => 'status', status => 503, code => 'SlowDown', count => 2 } ],
	[ 'reset before applying', { action => 'reset', count => 1 } ],
	[ 'reset after applying (lost answer)', { action => 'reset', when => 'after', count => 1 } ],
	[ '500 after applying', { action => 'status', status => 500, when => 'after', count => 1 } ])
{
	my ($name, $rule) = @$case;
	clear();
	(my $k = "put-$name") =~ s/[^a-z0-9]+/-/gi;
	fault(%$rule, method => 'PUT', key => $k);
	sql("SELECT vlake.lake_write('$base$k', 'v1')");
	is(s3_oracle_get("$p$k"), 'v1', "PUT survives: $name");
}
clear();
fault(method => 'PUT', key => 'put-fails', action => 'status', status => 500, count => 100);
$err = psql_err("SET vlake.s3_max_retries = 1; SELECT vlake.lake_write('${base}put-fails', 'x')");
like($err, qr/could not write "s3:\/\/.*put-fails": HTTP 500/, 'PUT that keeps failing: ERROR naming the URI');
is(s3_oracle_get("${p}put-fails"), undef, '  and no object is visible');
clear();
sql("SELECT vlake.lake_write('${base}put-keep', 'old')");
fault(method => 'PUT', key => 'put-keep', action => 'reset', count => 100);
$err = psql_err("SET vlake.s3_max_retries = 1; SELECT vlake.lake_write('${base}put-keep', 'new')");
like($err, qr/could not write "s3:\/\/.*put-keep"/, 'overwrite that keeps failing: ERROR');
is(s3_oracle_get("${p}put-keep"), 'old', '  and the old version is still whole');
clear();

# ---- conditional writes across lost answers
fault(method => 'PUT', key => 'cond-lost', action => 'reset', when => 'after', count => 1);
is(sql("SELECT vlake.lake_write_if_absent('${base}cond-lost', 'mine')"), 't',
	'put-if-absent whose answer was lost: the retry sees 412, reads back, and knows it won');
is(s3_oracle_get("${p}cond-lost"), 'mine', '  the object is ours');
clear();
fault(method => 'PUT', key => 'cond-lost5', action => 'status', status => 500, when => 'after', count => 1);
is(sql("SELECT vlake.lake_write_if_absent('${base}cond-lost5', 'mine')"), 't',
	'same with a 500 after applying');
clear();
sql("SELECT vlake.lake_write('${base}cond-other', 'theirs')");
fault(method => 'PUT', key => 'cond-other', action => 'reset', count => 1);
is(sql("SELECT vlake.lake_write_if_absent('${base}cond-other', 'mine')"), 'f',
	'put-if-absent after a reset, when another writer owns the key: false');
is(s3_oracle_get("${p}cond-other"), 'theirs', '  and their object is untouched');
clear();
my $etag = sql("SELECT etag FROM vlake.lake_stat('${base}cond-other')");
fault(method => 'PUT', key => 'cond-other', action => 'reset', when => 'after', count => 1);
is(sql("SELECT vlake.lake_write_if_match('${base}cond-other', 'mine2', '$etag')"), 't',
	'If-Match whose answer was lost: recognised as ours');
is(s3_oracle_get("${p}cond-other"), 'mine2', '  stored');
clear();

# ---- multipart streamed writes
my $mb = 1024 * 1024;
my $stream = sub {
	my ($k, $n, $extra) = @_;
	$extra //= '';
	return $node->psql('postgres', qq{SET vlake.s3_part_size = '5MB'; $extra
SELECT vlake.lake_write_agg('$base$k', decode(repeat(lpad(to_hex(i), 2, '0'), $mb), 'hex') ORDER BY i)
  FROM generate_series(1, $n) i});
};
my $want_stream = sub { join('', map { chr($_) x $mb } 1 .. shift) };

fault(method => 'PUT', key => 'mp1', action => 'status', status => 503, code => 'SlowDown', count => 2);
fault(method => 'PUT', key => 'mp1', action => 'drop', count => 1);
my ($rc) = $stream->('mp1', 11);
is($rc, 0, 'multipart upload with failing part uploads succeeds');
ok(s3_oracle_get("${p}mp1") eq $want_stream->(11), '  with the exact bytes');
clear();
fault(method => 'POST', key => 'mp2', action => 'reset', when => 'after', count => 1, skip => 1);
($rc) = $stream->('mp2', 11);
is($rc, 0, 'lost answer to CompleteMultipartUpload: recognised as done');
ok(s3_oracle_get("${p}mp2") eq $want_stream->(11), '  with the exact bytes');
clear();
fault(method => 'PUT', key => 'mp3', action => 'status', status => 500, count => 100, skip => 1);
($rc, my $out, $err) = $stream->('mp3', 11, 'SET vlake.s3_max_retries = 1;');
like($err, qr/could not upload a part of "s3:\/\/.*mp3": HTTP 500/, 'a part that keeps failing: ERROR naming the URI');
is(s3_oracle_get("${p}mp3"), undef, '  no object visible');
is_deeply(s3_admin('GET', "/uploads?prefix=$p")->{uploads}, [], '  the multipart upload was aborted');
clear();
fault(method => 'POST', key => 'mp4', action => 'reset', when => 'after', count => 1);
($rc, $out, $err) = $stream->('mp4', 11);
like($err, qr/could not start the multipart upload of "s3:\/\/.*mp4": .*not retried/,
	'CreateMultipartUpload is not retried after a lost answer (it would orphan an upload)');
is(s3_oracle_get("${p}mp4"), undef, '  no object visible');
my $orphans = s3_admin('GET', "/uploads?prefix=$p")->{uploads};
is(scalar @$orphans, 1, '  the one upload the server made is left for lifecycle clean-up');
is(sql("SELECT vlake.lake_reclaim_temporaries('${base}', '1 day')"), '0', 'reclaim spares uploads younger than the age bound');
is(sql("SELECT vlake.lake_reclaim_temporaries('${base}mp', '0')"), '1', 'reclaim aborts the orphaned upload (ListMultipartUploads)');
is_deeply(s3_admin('GET', "/uploads?prefix=$p")->{uploads}, [], '  and none is left');
clear();
fault(method => 'POST', key => 'mp5', action => 'status', status => 500, count => 100, skip => 1);
fault(method => 'DELETE', key => 'mp5', action => 'status', status => 500, count => 100);
($rc, $out, $err) = $stream->('mp5', 11, 'SET vlake.s3_max_retries = 1;');
like($err, qr/could not complete the multipart upload of "s3:\/\/.*mp5": HTTP 500/, 'Complete that keeps failing: ERROR');
like($err, qr/WARNING:  could not abort the multipart upload of "s3:\/\/.*mp5"/, '  abort failing too: a WARNING, not a crash');
is(s3_oracle_get("${p}mp5"), undef, '  no object visible');
clear();

# ---- listing and deleting
sql("SELECT vlake.lake_write('${base}many/' || lpad(i::text, 5, '0'), 'x') FROM generate_series(1, 1100) i");
fault(method => 'GET', key => '', action => 'status', status => 503, code => 'SlowDown', count => 1, skip => 1);
s3_admin('POST', '/faults', { method => 'GET', key => '^$', action => 'drop', count => 1, skip => 1 });
is(sql("SELECT count(*) FROM vlake.lake_list('${base}many/')"), '1100', 'listing pages survive SlowDown and a dropped page');
clear();
is(scalar @{ s3_oracle_keys("${p}many/") }, 1100, 'oracle agrees');
my $f0 = fired();
s3_admin('POST', '/faults', { method => 'POST', key => '^$', action => 'status', status => 500, count => 1 });
s3_admin('POST', '/faults', { method => 'POST', key => '^$', action => 'reset', when => 'after', count => 1 });
is(sql("SELECT vlake.lake_delete_many('${base}many/', array_agg(lpad(i::text, 5, '0'))) FROM generate_series(1, 1100) i"),
	'1100', 'DeleteObjects batches survive a 500 and a lost answer');
is(fired() - $f0, 2, '  (both faults hit)');
is(scalar @{ s3_oracle_keys("${p}many/") }, 0, 'oracle: all deleted');

# ---- kill -9 in the middle of a multipart upload
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(qr/started/, "\\echo started\n" . qq{SET vlake.s3_part_size = '5MB'; SET vlake.s3_upload_parallel = 1;
SELECT vlake.lake_write_agg('${base}killed', decode(repeat('ef', $mb), 'hex') || (SELECT ''::bytea FROM pg_sleep(0.05 + i * 0)))
  FROM generate_series(1, 400) i;
});
	my $started = 0;
	for (1 .. 600)
	{
		$started = scalar @{ s3_admin('GET', "/uploads?prefix=${p}killed")->{uploads} };
		last if $started;
		select(undef, undef, undef, 0.1);
	}
	is($started, 1, 'a streamed write has a multipart upload under way');
	kill 'KILL', $pid;
	eval { $bg->{run}->kill_kill };
	$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
	is(s3_oracle_get("${p}killed"), undef, 'after kill -9 mid-upload the object is not visible');
	is(sql("SELECT count(*) FROM vlake.lake_list('${base}killed')"), '0', '  nor listed');
	is(sql("SELECT vlake.lake_reclaim_temporaries('${base}killed', '0')"), '1', 'GC aborts the upload the crash left behind');
	is_deeply(s3_admin('GET', "/uploads?prefix=${p}killed")->{uploads}, [], '  and no part is left');
	is(sql("SELECT vlake.lake_reclaim_temporaries('${base}', '0')"), '1',
		'GC also aborts the upload whose abort failed earlier (mp5)');
	is_deeply(s3_admin('GET', "/uploads?prefix=${p}")->{uploads}, [], '  nothing is left under the prefix');
}

# ---- an endpoint nobody listens on
sql(qq{CREATE SERVER dead FOREIGN DATA WRAPPER vlake_s3 OPTIONS (endpoint 'http://127.0.0.1:9', url_style 'path', uri_prefix '${root}dead/');
BEGIN; SET LOCAL log_statement = 'none';
CREATE USER MAPPING FOR CURRENT_USER SERVER dead OPTIONS (access_key 'a', secret_key 'deadsecretvalue');
COMMIT;});
$err = psql_err("SET vlake.s3_max_retries = 1; SELECT vlake.lake_read('${root}dead/x')");
like($err, qr/could not stat "s3:\/\/\Q$bucket\E\/dead\/x": .*(connect|Connection refused)/i, 'connection refused: ERROR naming the URI');
like($err, qr/Gave up after 2 attempt/, '  after the retries');
unlike($err, qr/deadsecretvalue/, '  no secret in it');

$node->stop;
done_testing();
