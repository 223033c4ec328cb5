# A vlake index whose files are on the S3 test server, read cold (a new
# backend each time, no disk cache): the adaptive probing loads the codes of
# the floor's lists first and further lists in stages only when it probes
# past the floor, re-ranks from the heap (not vectors.bin), keeps a list as
# one disk-cache entry, reads lists lying close together in codes.bin in one
# request, and numbers the lists along a path through their centroids so
# that a query's lists lie close together (docs/index.md, "How a remote
# index is read").
# Top-10 sets are compared as sets (ORDER BY id): some rows share a vector.
# Oracles: exact search (a sequential scan), the server's own count of GET
# requests per key (a fault rule that only counts), the stage sizes computed
# here from the documented floor/ceiling formula, and the server's request
# log (VLAKE_TEST_S3_REQUEST_LOG, set by scripts/test.sh) for the waves.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use POSIX qw(ceil);
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_admin s3_oracle_get s3_oracle_keys s3_setup_node s3_unique_prefix);

plan skip_all => 'S3 test server not running (see docs/s3.md)' unless s3_available();

my $node = PostgreSQL::Test::Cluster->new('s3cold');
$node->init;
# no disk cache and no memory tier: every list is one exact ranged GET
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'vlake'
vlake.cache_size = 0
vlake.cache_memory_size = 0
vlake.s3_max_retries = 0
enable_seqscan = off
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');
my $root = s3_setup_node($node);
my $p = s3_unique_prefix('cold');
sub sql { return $node->safe_psql('postgres', shift) }

# 100 tight clusters of 200 points in 16-d: a query's 10 nearest rows lie in
# its own cluster, so the top-10 of the index is the exact one.
srand(46);
my ($nclus, $per, $dim, $lists) = (100, 200, 16, 100);
my @cent = map { [ map { rand() * 10 } 1 .. $dim ] } 1 .. $nclus;
my $copy = '';
my $id = 0;
for my $c (@cent)
{
	for (1 .. $per)
	{
		$id++;
		$copy .= "$id\t[" . join(',', map { sprintf('%.5f', $_ + (rand() - 0.5) * 0.2) } @$c) . "]\n";
	}
}
$node->safe_psql('postgres', 'CREATE TABLE items (id int PRIMARY KEY, v vector(16))');
my $file = PostgreSQL::Test::Utils::tempdir() . '/items.tsv';
PostgreSQL::Test::Utils::append_to_file($file, $copy);
sql("COPY items FROM '$file'");
is(sql('SELECT count(*) FROM items'), $nclus * $per, 'rows loaded');
sql("CREATE INDEX items_v ON items USING vlake (v vector_l2_ops) WITH (lists = $lists, location = '$root$p')");
my $codes_re = '^' . quotemeta($p) . '.*/codes\.bin$';

# The floor and ceiling of vlake.probes = 0 (docs/index.md) and the stage
# boundaries of a remote part's loading: the floor, then half as many lists
# again as loaded each time, up to the ceiling.
my $floor = ceil(0.55 * sqrt($lists));
$floor = 8 if $floor < 8;
my $ceiling = 4 * $floor;
my @stages = ($floor);
push @stages, $stages[-1] + int($stages[-1] / 2 || 1) < $ceiling
  ? $stages[-1] + int($stages[-1] / 2 || 1) : $ceiling
  while $stages[-1] < $ceiling;
note "floor $floor, ceiling $ceiling, stages @stages";

# a fault rule that never fails anything: the server counts the GETs of
# codes.bin under our prefix in its "fired" field
my $vecs_re = '^' . quotemeta($p) . '.*/vectors\.bin$';
sub count_gets_of
{
	my ($re, $sub) = @_;
	s3_admin('DELETE', '/faults');
	s3_admin('POST', '/faults', { method => 'GET', key => $re, action => 'delay', ms => 0, count => 1000000 });
	my @r = $sub->();
	my ($rule) = grep { defined $_->{key} && $_->{key} eq $re } @{ s3_admin('GET', '/faults') };
	s3_admin('DELETE', '/faults');
	return ($rule->{fired}, @r);
}
sub count_gets { return count_gets_of($codes_re, @_) }

sub knn { "SELECT id FROM items ORDER BY v <-> (SELECT v FROM items WHERE id = $_[0]) LIMIT 10" }

sub exact
{
	return sql("SET enable_indexscan = off; SET enable_bitmapscan = off; "
		  . "SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM items "
		  . "ORDER BY v <-> (SELECT v FROM items WHERE id = $_[0]) LIMIT 10) s");
}

sub stage_end
{
	my ($probed) = @_;
	for my $s (@stages) { return $s if $s >= $probed }
	return $ceiling;
}

# ---- cold queries at the default settings: the floor's codes, not the ceiling's
for my $q (1, 4321, 9999, 15000, 19876)
{
	my ($gets, $plan) = count_gets(sub {
		sql("SET enable_seqscan = off; EXPLAIN (ANALYZE, COSTS OFF) " . knn($q)) });
	my ($probed) = $plan =~ /lists probed=(\d+)/;
	# each request is one list or several lying close together in codes.bin
	cmp_ok($gets, '>=', 1, "query $q: $probed lists probed, codes fetched ($gets GETs, server's count)");
	cmp_ok($gets, '<=', stage_end($probed),
		"query $q: at most the " . stage_end($probed) . " lists of its stages fetched");
	is(sql("SET enable_seqscan = off; SELECT string_agg(id::text, ',' ORDER BY id) FROM (" . knn($q) . ") s"), exact($q),
		"query $q: cold answer = exact search");
}

# ---- the re-rank reads the heap (local), not vectors.bin; off: vectors.bin
{
	my ($gets, $plan) = count_gets_of($vecs_re, sub {
		sql("EXPLAIN (ANALYZE, COSTS OFF) " . knn(3333)) });
	is($gets, 0, 'vectors.bin is not read (server\'s count)');
	my ($rr) = $plan =~ /re-ranked=(\d+)/;
	like($plan, qr/re-ranked from the heap=$rr\)/, "all $rr re-ranks from the heap");
	($gets) = count_gets_of($vecs_re, sub {
		sql("SET vlake.rerank_from_heap = off; EXPLAIN (ANALYZE, COSTS OFF) " . knn(3333)) });
	cmp_ok($gets, '>', 0, "vlake.rerank_from_heap = off: vectors.bin read ($gets GETs)");
	is(sql("SET vlake.rerank_from_heap = off; SELECT string_agg(id::text, ',' ORDER BY id) FROM (" . knn(3333) . ") s"),
		exact(3333), '  and the same answer as exact search');
}

# ---- probing to the ceiling: every stage is one wave of GETs
my $probe_all = "SET vlake.probe_patience = 1000; ";
{
	my ($gets, $plan) = count_gets(sub {
		sql($probe_all . "SET enable_seqscan = off; EXPLAIN (ANALYZE, COSTS OFF) " . knn(777)) });
	like($plan, qr/lists probed=$ceiling\b/, "patience 1000 probes the ceiling ($ceiling lists)");
	cmp_ok($gets, '<=', $ceiling, "the codes of the $ceiling lists fetched in at most $ceiling GETs ($gets, server's count)");
	is(sql($probe_all . "SET enable_seqscan = off; SELECT string_agg(id::text, ',' ORDER BY id) FROM (" . knn(777) . ") s"), exact(777),
		'answer = exact search');
}

SKIP:
{
	my $log = $ENV{VLAKE_TEST_S3_REQUEST_LOG};
	skip 'VLAKE_TEST_S3_REQUEST_LOG not set', 4 unless $log && -f $log;
	# 300 ms added to each GET of our index: a wave is a burst of requests,
	# the next one starts only after its answers
	s3_admin('DELETE', '/faults');
	s3_admin('POST', '/faults', { method => 'GET', key => '^' . quotemeta($p), action => 'delay', ms => 300, count => 1000000 });
	my $mark = -s $log;
	my $plan = sql($probe_all . "SET enable_seqscan = off; EXPLAIN (ANALYZE, COSTS OFF) " . knn(1234));
	s3_admin('DELETE', '/faults');
	open my $fh, '<', $log or die "$log: $!";
	seek $fh, $mark, 0;
	my (@waves, $last);
	while (my $line = <$fh>)
	{
		my ($ms, $method, $path) = split ' ', $line;
		next unless $method eq 'GET' && index($path, $p) >= 0;
		my $file = $path =~ /codes\.bin$/ ? 'codes' : $path =~ /vectors\.bin$/ ? 'vectors' : 'other';
		push @waves, { file => $file, n => 0 } if !defined $last || $ms - $last > 150;
		$waves[-1]{n}++;
		$last = $ms;
	}
	close $fh;
	my @codes = map { $_->{n} } grep { $_->{file} eq 'codes' } @waves;
	my @want = ($stages[0], map { $stages[$_] - $stages[$_ - 1] } 1 .. $#stages);
	is(scalar(@codes), scalar(@want), "codes fetched in " . scalar(@want) . " waves, one per stage (server's log: @codes GETs)");
	ok(!grep({ $codes[$_] > $want[$_] } 0 .. $#codes), "no wave has more GETs than its stage has lists (@want)");
	my ($trips) = $plan =~ /index round trips=(\d+)/;
	is($trips, scalar(@waves), "EXPLAIN's index round trips = the waves in the server's log ($trips)");
	ok(!grep({ $_->{file} eq 'other' } @waves), 'nothing else fetched');
}

# ---- a failed GET in a later stage: a clear ERROR, and the next query works.
# The stages are fetched one after the other, so the last of the query's
# GETs (counted first) belongs to the last stage, after the floor's.
my ($all_gets) = count_gets(sub { sql($probe_all . knn(555)) });
s3_admin('DELETE', '/faults');
s3_admin('POST', '/faults', { method => 'GET', key => $codes_re, action => 'status', status => 403,
	code => 'AccessDenied', skip => $all_gets - 1, count => 1 });
my ($rc, $out, $err) = $node->psql('postgres', $probe_all . knn(555));
isnt($rc, 0, 'a GET failing in the second stage fails the query');
like($err, qr/ERROR:.*codes\.bin/, 'the ERROR names the file');
like($err, qr/403|AccessDenied|denied/i, 'and the cause');
my $fired = (grep { $_->{action} eq 'status' } @{ s3_admin('GET', '/faults') })[0]{fired};
is($fired, 1, 'the fault hit (after the floor\'s GETs succeeded)');
s3_admin('DELETE', '/faults');
is(sql($probe_all . "SET enable_seqscan = off; SELECT string_agg(id::text, ',' ORDER BY id) FROM (" . knn(555) . ") s"), exact(555),
	'the next query works and answers exactly');
is(sql("SET enable_seqscan = off; SELECT string_agg(id::text, ',' ORDER BY id) FROM (" . knn(555) . ") s"), exact(555),
	'so does one at the default settings');

# ---- rows changed since the build: the heap holds every version the index
# points at; the executor drops those the snapshot does not see
sql("UPDATE items SET v = (SELECT v FROM items WHERE id = 5000) WHERE id IN (2, 3)");
sql("DELETE FROM items WHERE id IN (4, 5, 6)");
for my $q (1, 5000)
{
	is(sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM (" . knn($q) . ") s"), exact($q),
		"after UPDATE and DELETE: query $q = exact search");
}
sql("VACUUM items");
sql("INSERT INTO items SELECT 100000 + id, v FROM items WHERE id BETWEEN 10 AND 20");
for my $q (1, 5000, 12)
{
	is(sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM (" . knn($q) . ") s"), exact($q),
		"after VACUUM and INSERT: query $q = exact search");
}

# ---- a wide bit string (over 16,000 bits, packed in the index): the heap
# re-rank reads the string and compares it like the query
sql("CREATE TABLE wide (id int PRIMARY KEY, b bit(17000))");
sql("INSERT INTO wide SELECT i, (SELECT string_agg((hashint4(i * 17000 + j) & 1)::text, '') "
	  . "FROM generate_series(1, 17000) j)::bit(17000) FROM generate_series(1, 300) i");
sql("CREATE INDEX wide_b ON wide USING vlake (b bit_hamming_ops) WITH (lists = 4, location = '${root}${p}wide/')");
{
	my $wq = "SELECT string_agg(d::text, ',' ORDER BY d) FROM (SELECT b <~> (SELECT b FROM wide WHERE id = 7) AS d "
	  . "FROM wide ORDER BY b <~> (SELECT b FROM wide WHERE id = 7) LIMIT 10) s";
	my $plan = sql("EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM wide ORDER BY b <~> (SELECT b FROM wide WHERE id = 7) LIMIT 10");
	like($plan, qr/re-ranked from the heap=\d+/, 'wide bit index on S3: re-ranked from the heap');
	is(sql($wq), sql("SET enable_indexscan = off; SET enable_bitmapscan = off; $wq"),
		'  its 10 Hamming distances = a sequential scan\'s');
}

# ---- with the disk cache: a list is one entry, fetched exactly once
SKIP:
{
	my $log = $ENV{VLAKE_TEST_S3_REQUEST_LOG};
	skip 'VLAKE_TEST_S3_REQUEST_LOG not set', 9 unless $log && -f $log;
	my $cache = "SET vlake.cache_size = '64MB'; ";
	my $mark = -s $log;
	my ($gets, $plan) = count_gets(sub { sql($cache . "EXPLAIN (ANALYZE, COSTS OFF) " . knn(8888)) });
	my ($lake) = $plan =~ /lake=(\d+)/;
	open my $fh, '<', $log or die "$log: $!";
	seek $fh, $mark, 0;
	my ($sum, $aligned, $n) = (0, 0, 0);
	while (my $line = <$fh>)
	{
		my ($ms, $method, $path, $range) = split ' ', $line;
		next unless $method eq 'GET' && index($path, $p) >= 0 && $path =~ /codes\.bin$/;
		my ($a, $b) = ($range // '') =~ /bytes=(\d+)-(\d+)/ or next;
		$n++;
		$sum += $b - $a + 1;
		$aligned++ if $a % 65536 == 0 && ($b + 1) % 65536 == 0;
	}
	close $fh;
	is($n, $gets, "cold with the disk cache: $gets GETs of codes.bin in the log");
	# a request may span nearby lists: the bytes between them are read too
	cmp_ok($sum, '>=', $lake, "their ranges cover the bytes EXPLAIN says came from the lake ($lake)");
	cmp_ok($sum - $lake, '<=', $n * 128 * 1024, "  plus at most 128 kB between lists per request ($sum in all)");
	cmp_ok($aligned, '<', $n, 'ranges are the lists, not 64 kB cache blocks');
	($gets) = count_gets(sub { sql($cache . knn(8888)) });
	is($gets, 0, 'a new backend finds those lists in the disk cache (no GET)');
	my $cached = $n;

	# every list at once: the missing lists that touch in codes.bin are
	# fetched as one request, then kept list by list
	my $all = $cache . "SET vlake.probes = $lists; ";
	($gets, $plan) = count_gets(sub { sql($all . "EXPLAIN (ANALYZE, COSTS OFF) " . knn(6000)) });
	like($plan, qr/lists probed=$lists\b/, "vlake.probes = $lists probes every list");
	cmp_ok($gets, '<=', $cached + 1,
		"the other lists come in at most " . ($cached + 1) . " GETs (runs between the $cached cached ones), not one per list ($gets)");
	is(sql($all . "SELECT string_agg(id::text, ',' ORDER BY id) FROM (" . knn(6000) . ") s"), exact(6000),
		'  and answer exactly');
	($gets) = count_gets(sub { sql($all . knn(6000)) });
	is($gets, 0, 'after which every list is in the disk cache');
}

# ---- the lists numbered along a path through their centroids: on clusters
# spaced along a line, the list numbers follow the line (index.meta as
# stored on the server, read by the layout of docs/index-format.md), and a
# cold query reads its floor's lists, next to each other in codes.bin, in
# one request
{
	my ($nline, $per_line) = (24, 40);
	sql("CREATE TABLE line (id int PRIMARY KEY, v vector(16))");
	sql("INSERT INTO line SELECT i, ('[' || ((i / $per_line) * 100 + (hashint4(i) % 100) / 1000.0)::text "
		  . "|| repeat(',0', 15) || ']')::vector FROM generate_series(0, " . ($nline * $per_line - 1) . ") i");
	sql("CREATE INDEX line_v ON line USING vlake (v vector_l2_ops) WITH (lists = $nline, location = '$root${p}line/')");
	my ($meta_key) = grep { m{/index\.meta$} } @{ s3_oracle_keys("${p}line/") };
	my $meta = s3_oracle_get($meta_key);
	my ($magic, $version, $metric, $mdim, $pdim, $mlists) = unpack('a8 V V V V V', $meta);
	is($mlists, $nline, "index.meta of the line index: $nline lists");
	my @x = map { unpack('f<', substr($meta, 320 + $_ * $mdim * 4, 4)) } 0 .. $mlists - 1;
	my $dir = 320 + $mlists * $mdim * 4;
	my @off = map { unpack('Q<', substr($meta, $dir + $_ * 24, 8)) } 0 .. $mlists - 1;
	my $sign = $x[-1] <=> $x[0];
	ok($sign != 0 && !grep({ (($x[$_] <=> $x[$_ - 1]) || $sign) != $sign } 1 .. $#x),
		'list numbers follow the line: centroid x ' . join(' ', map { sprintf('%.0f', $_) } @x));
	ok(!grep({ $off[$_] <= $off[$_ - 1] } 1 .. $#off), 'and so do their blocks in codes.bin');
	my $lq = "SELECT id FROM line ORDER BY v <-> ('[1200' || repeat(',0', 15) || ']')::vector LIMIT 10";
	my ($gets, $plan) = count_gets_of('^' . quotemeta($p) . 'line/.*/codes\.bin$',
		sub { sql("SET enable_seqscan = off; EXPLAIN (ANALYZE, COSTS OFF) $lq") });
	my ($probed) = $plan =~ /lists probed=(\d+)/;
	cmp_ok($probed, '>=', 8, "a cold query in the middle of the line probes $probed lists");
	is($gets, 1, '  and reads their codes in one request (server\'s count)');
	is(sql("SET enable_seqscan = off; SELECT string_agg(id::text, ',' ORDER BY id) FROM ($lq) s"),
		sql("SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT string_agg(id::text, ',' ORDER BY id) FROM ($lq) s"),
		'  and answers as exact search does');
}

done_testing();
