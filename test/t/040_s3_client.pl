# The s3:// backend against the S3 test server (test/tools/s3server):
# addressing (path and virtual-hosted), reads, ranges, conditional writes,
# multipart streamed writes, listing across pages, deletes, session tokens,
# wrong credentials.  Oracle: the server's own store, read over its admin
# endpoint, never through vlake's S3 client.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_admin s3_oracle_get s3_oracle_keys s3_setup_node
  s3_unique_prefix s3_env);

plan skip_all => 'S3 test server not running (see docs/s3.md)' unless s3_available();

my $node = PostgreSQL::Test::Cluster->new('s3client');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'vlake'\nvlake.cache_size = 0");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');
my $root = s3_setup_node($node);
my $bucket = s3_env('bucket');
s3_admin('DELETE', '/faults');

sub sql { return $node->safe_psql('postgres', shift) }

my $p = s3_unique_prefix('client');
my $base = "$root$p";

# ---- whole object, stat, ranges
my $payload = join('', map { chr(($_ * 7 + 3) % 256) } 0 .. 99_999);
my $hex = unpack('H*', $payload);
sql("SELECT vlake.lake_write('${base}data/obj.bin', '\\x$hex'::bytea)");
is(s3_oracle_get("${p}data/obj.bin"), $payload, 'PUT stores the exact bytes');
is(sql("SELECT size FROM vlake.lake_stat('${base}data/obj.bin')"), '100000', 'HEAD gives the size');
is(sql("SELECT encode(vlake.lake_read('${base}data/obj.bin'), 'hex') = '$hex'"), 't',
	'GET returns the whole object');
is(sql("SELECT encode(vlake.lake_read('${base}data/obj.bin', 12345, 4096), 'hex')"),
	unpack('H*', substr($payload, 12345, 4096)), 'range read');
is(sql(qq{SELECT string_agg(encode(r, 'hex'), ',' ORDER BY o)
	FROM unnest(vlake.lake_read_ranges('${base}data/obj.bin', '{0,99990,50000}', '{10,10,1}')) WITH ORDINALITY AS t(r, o)}),
	join(',', map { unpack('H*', $_) } substr($payload, 0, 10), substr($payload, 99990, 10), substr($payload, 50000, 1)),
	'several ranges in one call');
# ---- ranges within 128 kB of each other share one GET (the bytes between
# them dropped), farther ones get their own; each range exact (memory tier
# off, or it would read the whole object)
{
	my $big = join('', map { chr(($_ * 13 + 5) % 251) } 0 .. 399_999);
	sql("SELECT vlake.lake_write('${base}data/big.bin', '\\x" . unpack('H*', $big) . "'::bytea)");
	for my $case ([[0, 300_000, 150_000], [10, 10, 10], 3], [[0, 131_082], [10, 10], 1],
				  [[0, 131_083], [10, 10], 2], [[200, 100, 150, 120_000], [100, 100, 60_000, 5], 1])
	{
		my ($offs, $lens, $want) = @$case;
		s3_admin('DELETE', '/stats');
		my $got = sql("SET vlake.cache_memory_size = 0; SELECT string_agg(encode(r, 'hex'), ',' ORDER BY o) "
			  . "FROM unnest(vlake.lake_read_ranges('${base}data/big.bin', '{" . join(',', @$offs) . "}', '{"
			  . join(',', @$lens) . "}')) WITH ORDINALITY AS t(r, o)");
		is($got, join(',', map { unpack('H*', substr($big, $offs->[$_], $lens->[$_])) } 0 .. $#$offs),
			"ranges at @$offs: each range's bytes");
		is(s3_admin('GET', '/stats')->{byMethod}{GET}, $want, "  in $want GET(s)");
	}
}
my ($rc, $out, $err) = $node->psql('postgres', "SELECT vlake.lake_read('${base}data/obj.bin', 99990, 100)");
like($err, qr/s3:\/\/\Q$bucket\E\/\Q${p}\Edata\/obj\.bin/, 'reading past the end names the object');
($rc, $out, $err) = $node->psql('postgres', "SELECT vlake.lake_read('${base}data/missing.bin')");
like($err, qr/"s3:\/\/\Q$bucket\E\/\Q${p}\Edata\/missing\.bin" does not exist/, 'missing object: clear error naming it');
is(sql("SELECT count(*) FROM vlake.lake_stat('${base}data/missing.bin')"), '0', 'stat of a missing object is empty');

# ---- keys that need escaping
my $odd = 'odd/a b+c%d~e&f=g;h,é.bin';
sql("SELECT vlake.lake_write('$base$odd', 'odd')");
is(s3_oracle_get("$p$odd"), 'odd', 'key with spaces, +, %, UTF-8 is stored under its exact name');
is(sql("SELECT convert_from(vlake.lake_read('$base$odd'), 'UTF8')"), 'odd', 'and read back');

# ---- conditional writes
is(sql("SELECT vlake.lake_write_if_absent('${base}cond/m1', 'first')"), 't', 'put-if-absent creates');
is(sql("SELECT vlake.lake_write_if_absent('${base}cond/m1', 'second')"), 'f', 'put-if-absent refuses an existing key');
is(s3_oracle_get("${p}cond/m1"), 'first', 'the refused write changed nothing');
my $etag = sql("SELECT etag FROM vlake.lake_stat('${base}cond/m1')");
is(sql("SELECT vlake.lake_write_if_match('${base}cond/m1', 'third', 'not-the-etag')"), 'f', 'If-Match with a stale etag is refused');
is(sql("SELECT vlake.lake_write_if_match('${base}cond/m1', 'third', '$etag')"), 't', 'If-Match with the current etag replaces');
is(s3_oracle_get("${p}cond/m1"), 'third', 'the conditional replace is stored');
is(sql("SELECT vlake.lake_write_if_match('${base}cond/none', 'x', '$etag')"), 'f', 'If-Match on a missing key is refused');

# ---- streamed writes: small (one PUT) and multipart
sql("SELECT vlake.lake_write_agg('${base}stream/small', c ORDER BY i) FROM (VALUES (1, 'ab'::bytea), (2, 'cd')) v(i, c)");
is(s3_oracle_get("${p}stream/small"), 'abcd', 'small streamed write');
my $chunk = 1024 * 1024;
sql(qq{SET vlake.s3_part_size = '5MB';
SELECT vlake.lake_write_agg('${base}stream/big', decode(repeat(lpad(to_hex(i), 2, '0'), $chunk), 'hex') ORDER BY i)
  FROM generate_series(1, 12) i});
my $big = s3_oracle_get("${p}stream/big");
is(length($big), 12 * $chunk, 'multipart upload has the full size');
is($big, join('', map { chr($_) x $chunk } 1 .. 12), 'multipart upload has the exact bytes in order');
is_deeply(s3_admin('GET', "/uploads?prefix=$p")->{uploads}, [], 'no multipart upload left open');
my $before = s3_admin('GET', '/stats')->{byMethod};
($rc, $out, $err) = $node->psql('postgres', qq{SET vlake.s3_part_size = '5MB'; SET vlake.s3_upload_parallel = 1;
SELECT vlake.lake_write_agg('${base}stream/failed', CASE WHEN i < 8 THEN decode(repeat('ab', $chunk), 'hex') ELSE (1/(i-8))::text::bytea END)
  FROM generate_series(1, 9) i});
like($err, qr/division by zero/, 'a streamed write can fail midway');
is(s3_oracle_get("${p}stream/failed"), undef, 'the failed streamed write left no object');
my $after = s3_admin('GET', '/stats')->{byMethod};
ok(($after->{POST} // 0) > ($before->{POST} // 0) && ($after->{DELETE} // 0) > ($before->{DELETE} // 0),
	'the failed write had started a multipart upload, and aborted it');
is_deeply(s3_admin('GET', "/uploads?prefix=$p")->{uploads}, [], 'and its multipart upload was aborted');

# ---- listing across pages (> 1000 keys) and batch delete
sql("SELECT vlake.lake_write('${base}many/' || lpad(i::text, 5, '0'), int4send(i)) FROM generate_series(1, 1234) i");
is(scalar @{ s3_oracle_keys("${p}many/") }, 1234, 'oracle sees 1234 keys');
is(sql("SELECT count(*), count(DISTINCT key), min(key), max(key), sum(size) FROM vlake.lake_list('${base}many/')"),
	'1234|1234|00001|01234|4936', 'list returns all 1234 keys across pages, relative to the URI');
my $stats = s3_admin('GET', '/stats');
ok($stats->{requests} > 0, 'server counted requests');
sql("SELECT vlake.lake_delete('${base}many/' || lpad(i::text, 5, '0')) FROM generate_series(1, 10) i");
is(scalar @{ s3_oracle_keys("${p}many/") }, 1224, 'single deletes');
sql("SELECT vlake.lake_delete('${base}many/00001')");
pass('deleting a missing object is not an error');

# ---- long reads of a known version are split into parallel pieces
{
	my $st = sql("SELECT size || ',' || etag FROM vlake.lake_stat('${base}data/obj.bin')");
	my ($size, $etag) = split /,/, $st;
	my $g0 = s3_admin('GET', '/stats')->{byMethod}{GET} // 0;
	s3_admin('POST', '/faults', { method => 'GET', key => quotemeta("${p}data/obj.bin"), action => 'drop', count => 1, skip => 2 });
	is(sql(qq{SET vlake.s3_read_part_size = '16kB';
SELECT encode((vlake.lake_read_ranges('${base}data/obj.bin', '{100}', '{99000}', $size, '$etag'))[1], 'hex')}),
		unpack('H*', substr($payload, 100, 99000)), 'a 99,000-byte read of a known version, in 16 kB pieces, one of them dropped once');
	my $g1 = s3_admin('GET', '/stats')->{byMethod}{GET};
	cmp_ok($g1 - $g0, '>=', 7, 'was sent as parallel range requests (' . ($g1 - $g0) . ' GETs)');
	s3_admin('DELETE', '/faults');
}

# ---- overwrite is atomic: concurrent readers see one whole version
{
	my $va = 'A' x 300_000;
	my $vb = 'B' x 300_000;
	sql("SELECT vlake.lake_write('${base}flip', convert_to(repeat('A', 300000), 'UTF8'))");
	my $writer = $node->background_psql('postgres');
	$writer->query_until(qr/go/, "\\echo go\n" . qq{DO \$\$ BEGIN FOR j IN 1..30 LOOP
  PERFORM vlake.lake_write('${base}flip', convert_to(repeat(CASE WHEN j % 2 = 0 THEN 'A' ELSE 'B' END, 300000), 'UTF8'));
END LOOP; END \$\$;
});
	my $seen = sql(qq{SELECT string_agg(DISTINCT v, ',') FROM (
  SELECT md5(vlake.lake_read('${base}flip')) AS v FROM generate_series(1, 30)) t});
	$writer->query_safe('SELECT 1');
	$writer->quit;
	my %ok = map { $_ => 1 } (sql("SELECT md5(repeat('A', 300000)::bytea)"), sql("SELECT md5(repeat('B', 300000)::bytea)"));
	my @bad = grep { !$ok{$_} } split /,/, $seen;
	is(scalar @bad, 0, 'readers racing 30 overwrites only ever see a whole version');
}

# ---- connections are kept alive and reused across requests and statements
s3_admin('DELETE', '/stats');
sql(qq{DO \$\$ BEGIN FOR i IN 1..40 LOOP
  PERFORM vlake.lake_read('${base}data/obj.bin', i * 100, 100);
END LOOP; END \$\$;
SELECT vlake.lake_read('${base}data/obj.bin', 0, 10);
SELECT vlake.lake_read_ranges('${base}data/obj.bin', '{0,10,20,30}', '{5,5,5,5}');});
my $st = s3_admin('GET', '/stats');
cmp_ok($st->{requests}, '>=', 41, "many requests ($st->{requests})");
cmp_ok($st->{connections}, '<=', 4, "over few connections ($st->{connections}): connection reuse");

# ---- the test server's added latency (for benchmarks) is real latency
is(s3_admin('PUT', '/latency', { ms => 2000 })->{ms}, 2000, 'latency can be added');
($rc, $out, $err) = $node->psql('postgres', "SET vlake.s3_request_timeout = '300ms'; SET vlake.s3_max_retries = 0; SELECT vlake.lake_read('${base}data/obj.bin', 0, 10)");
like($err, qr/could not (read|stat) "s3:\/\/.*obj\.bin": .*(timed out|Timeout)/i, 'a request slower than vlake.s3_request_timeout fails with a timeout');
s3_admin('PUT', '/latency', { ms => 0 });
is(sql("SELECT length(vlake.lake_read('${base}data/obj.bin', 0, 10))"), '10', 'and works again without the latency');

# ---- virtual-hosted addressing (bucket.s3.localhost)
my ($port) = s3_env('endpoint') =~ /:(\d+)$/;
my $vroot = s3_unique_prefix('vhost');
sql(qq{CREATE SERVER s3vhost FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint 'http://s3.localhost:$port', url_style 'virtual', uri_prefix '${root}$vroot');
BEGIN; SET LOCAL log_statement = 'none';
CREATE USER MAPPING FOR CURRENT_USER SERVER s3vhost OPTIONS (access_key '@{[s3_env('access_key')]}', secret_key '@{[s3_env('secret_key')]}');
COMMIT;});
sql("SELECT vlake.lake_write('${root}${vroot}v.txt', 'virtual')");
is(s3_oracle_get("${vroot}v.txt"), 'virtual', 'virtual-hosted style PUT (longest uri_prefix picks the server)');
is(sql("SELECT convert_from(vlake.lake_read('${root}${vroot}v.txt'), 'UTF8')"), 'virtual', 'virtual-hosted style GET');

# ---- session tokens and wrong credentials (another role)
my $sess = s3_admin('POST', '/session');
sql(qq{CREATE ROLE tok LOGIN; GRANT USAGE ON FOREIGN SERVER s3test TO tok;
GRANT EXECUTE ON FUNCTION vlake.lake_read(text, bigint, bigint), vlake.lake_write(text, bytea) TO tok;
BEGIN; SET LOCAL log_statement = 'none';
CREATE USER MAPPING FOR tok SERVER s3test OPTIONS (access_key '$sess->{access_key}', secret_key '$sess->{secret_key}', session_token '$sess->{session_token}');
COMMIT;});
is($node->safe_psql('postgres', "SET ROLE tok; SELECT convert_from(vlake.lake_read('${base}cond/m1'), 'UTF8')"),
	'third', 'temporary credentials with a session token work');
sql(qq{BEGIN; SET LOCAL log_statement = 'none';
ALTER USER MAPPING FOR tok SERVER s3test OPTIONS (SET session_token 'wrong-token');
COMMIT;});
($rc, $out, $err) = $node->psql('postgres', "SET ROLE tok; SELECT vlake.lake_read('${base}cond/m1')");
like($err, qr/HTTP 403 InvalidToken/, 'a wrong session token is refused by the server');
sql(qq{BEGIN; SET LOCAL log_statement = 'none';
ALTER USER MAPPING FOR tok SERVER s3test OPTIONS (DROP session_token, SET access_key '@{[s3_env('access_key')]}', SET secret_key 'wrongsecret123');
COMMIT;});
($rc, $out, $err) = $node->psql('postgres', "SET ROLE tok; SELECT vlake.lake_read('${base}cond/m1')");
like($err, qr/could not (read|stat) "s3:\/\/.*cond\/m1": HTTP 403 SignatureDoesNotMatch/, 'wrong secret key: clear error naming the object');
like($err, qr/HINT:.*access_key, secret_key/, 'with a hint at the user mapping');
unlike($err, qr/wrongsecret123|\Q$sess->{secret_key}\E/, 'the error shows no secret');
sql(qq{BEGIN; SET LOCAL log_statement = 'none';
ALTER USER MAPPING FOR tok SERVER s3test OPTIONS (SET access_key 'NOSUCHKEY');
COMMIT;});
($rc, $out, $err) = $node->psql('postgres', "SET ROLE tok; SELECT vlake.lake_read('${base}cond/m1')");
like($err, qr/HTTP 403 InvalidAccessKeyId/, 'unknown access key: clear error');

# ---- a PUBLIC mapping serves roles without their own
sql(qq{CREATE ROLE pub LOGIN; GRANT USAGE ON FOREIGN SERVER s3test TO pub;
GRANT EXECUTE ON FUNCTION vlake.lake_read(text, bigint, bigint) TO pub;
BEGIN; SET LOCAL log_statement = 'none';
CREATE USER MAPPING FOR PUBLIC SERVER s3test OPTIONS (access_key '@{[s3_env('access_key')]}', secret_key '@{[s3_env('secret_key')]}');
COMMIT;});
is($node->safe_psql('postgres', "SET ROLE pub; SELECT convert_from(vlake.lake_read('${base}cond/m1'), 'UTF8')"),
	'third', 'a role without its own mapping uses the PUBLIC one');
sql("DROP USER MAPPING FOR PUBLIC SERVER s3test");

# ---- configuration errors
($rc, $out, $err) = $node->psql('postgres', "SELECT vlake.lake_read('s3://no-such-server-bucket/x')");
like($err, qr/no vlake_s3 server covers "s3:\/\/no-such-server-bucket\/"/, 'no server for the bucket');
($rc, $out, $err) = $node->psql('postgres', "CREATE SERVER bad FOREIGN DATA WRAPPER vlake_s3 OPTIONS (bucket 'b1b', url_style 'sideways')");
like($err, qr/invalid url_style "sideways"/, 'validator checks url_style');
($rc, $out, $err) = $node->psql('postgres', "CREATE SERVER bad FOREIGN DATA WRAPPER vlake_s3 OPTIONS (bucket 'b1b', secret_key 'zzsecretzz')");
like($err, qr/invalid option "secret_key"/, 'validator rejects a secret on the server');
unlike($err, qr/zzsecretzz/, 'without echoing its value');
($rc, $out, $err) = $node->psql('postgres', "CREATE SERVER bad FOREIGN DATA WRAPPER vlake_s3 OPTIONS (endpoint 'http://127.0.0.1:1')");
like($err, qr/exactly one of the options bucket and uri_prefix/, 'validator wants a bucket or uri_prefix');
sql("CREATE ROLE nomap LOGIN; GRANT USAGE ON FOREIGN SERVER s3test TO nomap; GRANT EXECUTE ON FUNCTION vlake.lake_read(text, bigint, bigint) TO nomap");
($rc, $out, $err) = $node->psql('postgres', "SET ROLE nomap; SELECT vlake.lake_read('${base}cond/m1')");
like($err, qr/no user mapping for role "nomap" on server "s3test"/, 'no user mapping: clear error');
sql("CREATE ROLE nousage LOGIN; GRANT EXECUTE ON FUNCTION vlake.lake_read(text, bigint, bigint) TO nousage");
($rc, $out, $err) = $node->psql('postgres', "SET ROLE nousage; SELECT vlake.lake_read('${base}cond/m1')");
like($err, qr/permission denied for foreign server s3test/, 'USAGE on the server is required');

$node->stop;
done_testing();
