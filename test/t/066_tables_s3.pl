# vlake tables whose lake is on S3 (the S3 test server; docs/tables.md, "S3"):
#  - a vlake table WITH (location = 's3://...') and a heap table given the
#    same statements (the oracle): INSERTs into the delta and flushes, COPY
#    written as segments, UPDATE and DELETE of lake rows;
#  - every read path equals heap's: sequential scan, btree lookups, a
#    parallel sequential scan, an exact-enough vlake (ANN) index scan;
#  - the bucket, read through the server's admin endpoint (not vlake's
#    client), holds every segment file and delete vector the catalog lists,
#    with the catalog's size and ETag (MD5 of the bytes), and a manifest for
#    every committed version;
#  - the dataset downloaded and read by DuckDB from the latest manifest
#    (test/tools/table_manifest_read.mjs, delete vectors applied) equals heap,
#    and the vlake index part it lists (on S3, under the root) is complete;
#  - a restart; kill -9 of the postmaster in the middle of a flush and of a
#    COPY; a crash of the backend, and kill -9 of the postmaster, between a
#    commit and its publication, repaired by vlake.table_publish(): nothing
#    lost, nothing twice;
#  - injected S3 failures (503, connection reset, connection refused) are
#    retried, or end in an ERROR naming the object, and lose nothing;
#  - the S3 secret is in no line of the server log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use Digest::MD5 qw(md5_hex);
use File::Path qw(make_path);
use File::Basename qw(dirname);
use Time::HiRes qw(usleep);
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_admin s3_oracle_get s3_oracle_keys s3_setup_node
  s3_unique_prefix s3_env);

plan skip_all => 'S3 test server not running (see docs/s3.md)' unless s3_available();
my $tools = "$ENV{VLAKE_SRC}/test/tools";
plan skip_all => 'DuckDB test tooling not installed (scripts/install-deps.sh test)'
  unless -d "$tools/node_modules/\@duckdb/node-api";

# the secret, read before anything can lose it (VlakeS3 keeps it out of %ENV)
my $secret = s3_env('secret_key');

my $node = PostgreSQL::Test::Cluster->new('tables_s3');
$node->init;
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'vlake'
restart_after_crash = on
vlake.cache_size = 0
vlake.s3_retry_base_delay = 10
vlake.s3_retry_max_delay = 50
log_statement = 'all'
log_min_messages = debug1
log_min_error_statement = error
TimeZone = 'UTC'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');
my $s3root = s3_setup_node($node);
my $bucket = s3_env('bucket');
my $p = s3_unique_prefix('tables');
my $loc = "${s3root}${p}t/";

sub sql { return $node->safe_psql('postgres', shift) }
sub psql_err { my ($rc, $out, $err) = $node->psql('postgres', shift); return ($rc, $err) }

# run the same statement on the vlake table t and the heap table h (%T)
sub both
{
	my ($stmt, $pre) = @_;
	$pre //= '';
	for my $tbl (qw(t h))
	{
		(my $s = $stmt) =~ s/%T/$tbl/g;
		sql("$pre $s");
	}
}

sub fault
{
	my (%r) = @_;
	$r{key} = '^' . quotemeta($p) . $r{key} if defined $r{key};
	s3_admin('POST', '/faults', \%r);
}
sub clear_faults { s3_admin('DELETE', '/faults') }

my $cols = "id, name, score, grp, emb::text";
sub rows_of { return sql("SELECT $cols FROM $_[0] ORDER BY id") }

# every row of t equals heap's, by a sequential scan (and a count of each)
sub same_rows
{
	my ($what, $pre) = @_;
	$pre //= '';
	my $t = sql("$pre SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT $cols FROM t ORDER BY id");
	my $h = rows_of('h');
	my @t = split /\n/, $t;
	my @h = split /\n/, $h;
	is(scalar(@t), scalar(@h), "$what: as many rows as heap (" . scalar(@h) . ")");
	ok($t eq $h, "$what: every row equals heap's (sequential scan)");
}

sub wait_ready
{
	for (1 .. 600)
	{
		return 1 if eval { sql('SELECT 1') eq '1' };
		usleep(100_000);
	}
	return 0;
}

# ------------------------------------------------- writes of every kind --
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id int NOT NULL, name text, score float8, grp varchar(8), emb vector(3))
	  USING vlake WITH (location = '$loc');
	CREATE TABLE h (id int NOT NULL, name text, score float8, grp varchar(8), emb vector(3));
});
is(sql("SELECT root FROM vlake.datasets WHERE relid = 't'::regclass"), $loc, 'the dataset root is the S3 location');
my $rowsql = "SELECT i, 'name ' || i, i * 0.25, 'g' || (i % 7), ARRAY[i, -i, i % 5]::real[]::vector FROM generate_series";
both("INSERT INTO %T $rowsql(1, 3000) i");
is(sql("SELECT count(*) FROM vlake.table_segments('t')"), '0', 'small INSERTs stay in the delta');
is(sql("SELECT vlake.flush('t')"), '3000', 'the flush moves the delta to S3');
# COPY rows 3001..5500 (nulls in score and grp) as segments of 1000 rows
my $csv = PostgreSQL::Test::Utils::tempdir('copy') . '/rows.tsv';
open(my $fh, '>', $csv) or die;
printf $fh "%d\tc%d\t%s\t%s\t[%d,1,2]\n", $_, $_, ($_ % 3 ? $_ / 8 : '\\N'), ($_ % 11 ? 'h' : '\\N'), $_
  for 3001 .. 5500;
close $fh;
both("COPY %T FROM '$csv'", 'SET vlake.copy_lake_threshold = 0; SET vlake.segment_rows = 1000;');
is(sql("SELECT count(*) FROM vlake.table_segments('t')"), '4', 'COPY wrote three segments to S3');
is(sql("SELECT count(*) FROM t"), '5500', 'every row is visible');
both("ALTER TABLE %T ADD PRIMARY KEY (id)");
both("CREATE INDEX ON %T (grp)");
both("DELETE FROM %T WHERE id % 13 = 0");
both("DELETE FROM %T WHERE id BETWEEN 3100 AND 3999");
both("UPDATE %T SET name = 'updated', score = -score WHERE id % 101 = 0");
both("INSERT INTO %T VALUES (9001, 'delta', NULL, NULL, NULL), (9002, 'delta 2', 1.5, 'g1', '[1,2,3]')");
cmp_ok(sql("SELECT count(*) FROM vlake.row_states WHERE relid = 't'::regclass"), '>', 900,
	'the deletes and updates marked lake rows');

# ----------------------------------------------------- every read path --
same_rows('after every kind of write');
# btree lookups, of lake and delta rows
my $look = "SET enable_seqscan = off; SET enable_bitmapscan = off;";
like(sql("$look EXPLAIN (COSTS OFF) SELECT * FROM t WHERE id IN (5, 3050, 9001)"), qr/Index Scan using t_pkey/,
	'lookups use the primary key');
my $ids = join(',', map { ($_ * 7919) % 5600 } 1 .. 200) . ',9001,9002,101,202';
is(sql("$look SELECT $cols FROM t WHERE id IN ($ids) ORDER BY id"),
	sql("SELECT $cols FROM h WHERE id IN ($ids) ORDER BY id"), 'primary-key lookups equal heap');
is(sql("$look SELECT $cols FROM t WHERE grp = 'g3' ORDER BY id"),
	sql("SELECT $cols FROM h WHERE grp = 'g3' ORDER BY id"), 'lookups through the btree on grp equal heap');
# a parallel sequential scan
my $par = "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"
  . " SET min_parallel_table_scan_size = 0; SET enable_indexscan = off; SET enable_bitmapscan = off;";
like(sql("$par EXPLAIN (COSTS OFF) SELECT count(*), sum(id), sum(score) FROM t WHERE id % 3 = 0"),
	qr/Parallel Seq Scan on t/, 'the plan is a parallel sequential scan');
is(sql("$par SELECT count(*), sum(id), sum(score), count(DISTINCT name) FROM t WHERE id % 3 = 0"),
	sql("SELECT count(*), sum(id), sum(score), count(DISTINCT name) FROM h WHERE id % 3 = 0"),
	'a parallel sequential scan equals heap');
# the vlake index (its part on S3, under the table's root), every list probed
sql("CREATE INDEX t_ann ON t USING vlake (emb vector_l2_ops)");
# (the nearest rows of this point are at distinct distances: no ties)
my $knn = "SELECT id FROM %s ORDER BY emb <-> '[1234.3,-1234.1,2.2]' LIMIT 10";
is(sql("SET vlake.probes = 100000; $look " . sprintf($knn, 't')), sql(sprintf($knn, 'h')),
	'the vlake index, every list probed, gives heap\'s exact top 10');
like(sql("SET vlake.probes = 100000; $look EXPLAIN (COSTS OFF) " . sprintf($knn, 't')), qr/Index Scan using t_ann/,
	'  through the vlake index');

# ------------------------------------------- the bucket and the catalog --
sub bucket_matches_catalog
{
	my ($what) = @_;
	my %keys = map { $_ => 1 } @{ s3_oracle_keys($p) };
	my $listed = sql("SELECT path, size, etag FROM vlake.files WHERE relid = 't'::regclass
	                  UNION ALL SELECT path, size, etag FROM vlake.delete_files WHERE relid = 't'::regclass");
	my ($n, $bad) = (0, 0);
	for my $line (split /\n/, $listed)
	{
		my ($path, $size, $etag) = split /\|/, $line;
		$etag =~ s/"//g;
		my $bytes = s3_oracle_get("${p}t/$path");
		$n++;
		next if defined $bytes && length($bytes) == $size && md5_hex($bytes) eq $etag;
		diag("$what: $path: " . (defined $bytes ? length($bytes) . ' bytes, md5 ' . md5_hex($bytes) : 'missing')
			  . ", catalog $size $etag") if $bad++ < 5;
	}
	cmp_ok($n, '>', 5, "$what: the catalog lists segment files and delete vectors ($n)");
	is($bad, 0, "$what: each is in the bucket with the catalog's size and ETag");
	my $version = sql("SELECT version FROM vlake.datasets WHERE relid = 't'::regclass");
	my @manifests = sort grep { m{^\Q${p}\Et/_manifest/[0-9]{20}\.json$} } keys %keys;
	is_deeply([ map { 0 + (m{([0-9]{20})\.json$})[0] } @manifests ], [ 1 .. $version ],
		"$what: manifests of versions 1..$version, each once");
	return $version;
}
my $ndel = sql("SELECT count(*) FROM vlake.delete_files WHERE relid = 't'::regclass");
cmp_ok($ndel, '>=', 3, "delete vectors of several segments ($ndel)");
bucket_matches_catalog('after the writes');

# DuckDB reads the downloaded dataset (after a flush: the delta is not in
# the lake) and agrees with heap
sub lake_matches_heap
{
	my ($what) = @_;
	sql("SELECT vlake.flush('t')");
	my $dir = PostgreSQL::Test::Utils::tempdir('download');
	for my $key (@{ s3_oracle_keys("${p}t/") })
	{
		(my $rel = $key) =~ s{^\Q${p}\Et/}{};
		make_path(dirname("$dir/$rel"));
		open(my $out, '>:raw', "$dir/$rel") or die "$dir/$rel: $!";
		print $out s3_oracle_get($key);
		close $out;
	}
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/table_manifest_read.mjs", $dir ], '>', \$out, '2>', \$err)
	  or die "table_manifest_read failed: $err";
	my $lake = JSON::PP->new->decode($out);
	is_deeply($lake->{fields}, [qw(id name score grp emb)], "$what: the manifest's fields");
	# DuckDB's text of each value, compared with heap's as numbers where numeric
	my @got = sort { $a->[0] <=> $b->[0] } @{ $lake->{rows} };
	my @want = map { [ map { $_ eq '<NULL>' ? undef : $_ } split /\x1f/, $_, -1 ] } split /\n/,
	  $node->safe_psql('postgres', "SELECT $cols FROM h ORDER BY id",
		extra_params => [ '-F', "\x1f", '-P', 'null=<NULL>' ]);
	is(scalar(@got), scalar(@want), "$what: DuckDB reads as many rows as heap holds");
	my $bad = 0;
	for my $r (0 .. $#want)
	{
		for my $c (0 .. 4)
		{
			my ($g, $w) = ($got[$r][$c], $want[$r][$c]);
			next if !defined $g && !defined $w;
			if (defined $g && defined $w)
			{
				next if $g eq $w;
				next if $g =~ /^[-+0-9.eE]+$/ && $w =~ /^[-+0-9.eE]+$/ && $g == $w;
				(my $gv = $g) =~ s/[\s\[\]]//g;
				(my $wv = $w) =~ s/[\[\]]//g;
				my @a = split /,/, $gv;
				my @b = split /,/, $wv;
				next if $g =~ /^\[/ && @a == @b && !grep { $a[$_] != $b[$_] } 0 .. $#a;
			}
			diag("$what: row $r col $c: lake " . ($g // 'NULL') . ", heap " . ($w // 'NULL')) if $bad++ < 5;
		}
	}
	is($bad, 0, "$what: every value DuckDB reads equals heap's");
	# the vlake index's part, downloaded with the dataset, is usable as listed
	my @ix = grep { $_->{name} eq 't_ann' } @{ $lake->{indexes} // [] };
	is(scalar(@ix), 1, "$what: the manifest lists the vlake index");
	like($ix[0]{location} // '', qr{^vlake_index/}, "$what: its part is under the dataset root, on S3");
	is($ix[0]{part}{missing} // -1, 0, "$what: the part has an entry for every row of its range");
	is($ix[0]{part}{mismatched} // -1, 0, "$what: with the ColumnGroups' vectors");
}
lake_matches_heap('after the writes');

# ------------------------------------------------------------ restart --
$node->restart;
same_rows('after a restart');
is(sql("$look SELECT $cols FROM t WHERE id IN ($ids) ORDER BY id"),
	sql("SELECT $cols FROM h WHERE id IN ($ids) ORDER BY id"), 'after a restart: lookups equal heap');

# -------------------------------------------- kill -9 in the middle --
# Arm a fault point to sleep, wait until the backend reaches it, SIGKILL
# the postmaster, start again.
sub kill_at
{
	my ($point, $cmd) = @_;
	my $log_pos = -s $node->logfile;
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-d', $node->connstr('postgres'), '-v', 'ON_ERROR_STOP=1',
		  '-c', "SET vlake.copy_lake_threshold = 0; SET vlake.segment_rows = 500; "
		  . "SET vlake.fault_points = '$point:sleep'", '-c', $cmd ],
		'<', \$in, '>', \$out, '2>', \$err);
	my $reached = 0;
	for (1 .. 600)
	{
		if (slurp_file($node->logfile, $log_pos) =~ /vlake fault point \Q$point\E reached/) { $reached = 1; last; }
		usleep(50_000);
	}
	ok($reached, "$point: the backend reached the point");
	$node->kill9;
	$h->finish;
	my $started = 0;
	for (1 .. 60)
	{
		if ($node->start(fail_ok => 1)) { $started = 1; last; }
		$node->{_pid} = undef;
		sleep 1;
	}
	ok($started, "$point: the server starts again after SIGKILL of the postmaster");
	ok(wait_ready(), "$point: and accepts queries");
}

# a flush killed after writing its files to S3: the rows stay in the delta
both("INSERT INTO %T $rowsql(10001, 10400) i");
kill_at('flush_after_files', "SELECT vlake.flush('t')");
same_rows('flush killed after its files');
is(sql("SELECT vlake.flush('t')"), '400', 'the next flush moves the rows once');
same_rows('after the next flush');
# a COPY killed after a batch went to S3: none of its rows is visible
open($fh, '>', $csv) or die;
printf $fh "%d\tk%d\t1\tk\t[1,2,3]\n", $_, $_ for 20001 .. 21500;
close $fh;
kill_at('copy_after_batch', "COPY t FROM '$csv'");
same_rows('COPY killed after a batch');
# and a committed version whose manifest was never put
my $before = sql("SELECT version FROM vlake.datasets WHERE relid = 't'::regclass");
my ($rc, $err) = psql_err("SET vlake.fault_points = 'publish_before_put:crash'; DELETE FROM t WHERE id % 17 = 0");
like($err, qr/server closed the connection|terminated/, 'a backend dies between its commit and its publication');
ok(wait_ready(), 'the server recovers');
sql("DELETE FROM h WHERE id % 17 = 0");    # it committed
is(sql("SELECT version FROM vlake.datasets WHERE relid = 't'::regclass"), $before + 1, 'the version committed');
ok(!defined s3_oracle_get(sprintf("${p}t/_manifest/%020d.json", $before + 1)), 'but is not in the bucket');
is(sql("SELECT vlake.table_publish('t')"), '1', 'vlake.table_publish() puts it');
same_rows('after the crash before publication');
# the same with kill -9 of the postmaster while the committed backend waits
$before = sql("SELECT version FROM vlake.datasets WHERE relid = 't'::regclass");
kill_at('publish_before_put', "DELETE FROM t WHERE id % 19 = 0");
sql("DELETE FROM h WHERE id % 19 = 0");    # it committed
is(sql("SELECT version FROM vlake.datasets WHERE relid = 't'::regclass"), $before + 1,
	'killed after its commit: the version committed');
ok(!defined s3_oracle_get(sprintf("${p}t/_manifest/%020d.json", $before + 1)), '  but is not in the bucket');
is(sql("SELECT vlake.table_publish('t')"), '1', '  vlake.table_publish() puts it');
same_rows('after kill -9 before publication');
bucket_matches_catalog('after the repair');
lake_matches_heap('after the crashes');

# ------------------------------------------------- injected S3 failures --
# transient: retried to success
clear_faults();
both("INSERT INTO %T $rowsql(30001, 30200) i");
fault(method => 'PUT', key => 't/data/', action => 'status', status => 503, code => 'SlowDown', count => 2);
is(sql("SELECT vlake.flush('t')"), '200', 'a flush whose PUTs get 503 twice is retried to success');
fault(method => 'GET', key => 't/data/', action => 'reset', count => 2);
same_rows('reads whose connections are reset twice are retried');
clear_faults();
# persistent: an ERROR naming the object, nothing lost
both("INSERT INTO %T $rowsql(30201, 30300) i");
fault(method => 'PUT', key => 't/data/', action => 'status', status => 503, code => 'SlowDown', count => 1000);
($rc, $err) = psql_err("SET vlake.s3_max_retries = 1; SELECT vlake.flush('t')");
like($err, qr/ERROR:.*"s3:\/\/\Q$bucket\E\/\Q$p\Et\/data\/[^"]+".*HTTP 503 SlowDown/,
	'a flush whose PUTs keep failing: ERROR naming the object and the status');
clear_faults();
same_rows('after the failed flush');
fault(method => 'GET', key => 't/data/.*scalar', action => 'reset', count => 1000);
($rc, $err) = psql_err("SET vlake.s3_max_retries = 1; SELECT count(*), sum(score) FROM t");
like($err, qr/ERROR:.*"s3:\/\/\Q$bucket\E\/\Q$p\Et\/data\/[^"]+scalar\.parquet".*(reset|Recv failure|connection)/i,
	'a scan whose reads keep being reset: ERROR naming the object');
clear_faults();
my $endpoint = s3_env('endpoint');
sql("ALTER SERVER s3test OPTIONS (SET endpoint 'http://127.0.0.1:9')");
($rc, $err) = psql_err("SET vlake.s3_max_retries = 1; SELECT vlake.flush('t')");
like($err, qr/ERROR:.*"s3:\/\/\Q$bucket\E\/\Q$p\Et\/[^"]*".*(connect|Connection refused)/i,
	'a flush to an endpoint nobody listens on: ERROR naming the object');
($rc, $err) = psql_err("SET vlake.s3_max_retries = 1; SELECT sum(score) FROM t");
like($err, qr/ERROR:.*"s3:\/\/\Q$bucket\E\/\Q$p\Et\/[^"]*".*(connect|Connection refused)/i,
	'a scan of it: ERROR naming the object');
sql("ALTER SERVER s3test OPTIONS (SET endpoint '$endpoint')");
same_rows('after the endpoint is back');
is(sql("SELECT vlake.flush('t')"), '100', 'the delta rows the failed flushes left are flushed once');
bucket_matches_catalog('after the failures');
lake_matches_heap('after the failures');

# -------------------------------------------------------- the secret --
$node->stop;
my $log = slurp_file($node->logfile);
like($log, qr/statement: SELECT vlake\.flush/, 'the log has the statements (log_statement = all)');
unlike($log, qr/\Q$secret\E/, 'the S3 secret is in no line of the server log');

done_testing();
