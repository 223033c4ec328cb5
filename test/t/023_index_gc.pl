# vlake index garbage collection is exact with respect to snapshots:
#  1. a cursor opened before a merge keeps reading the old part, and GC
#     keeps it while the snapshot lives; afterwards GC deletes it;
#  2. the files of an uncommitted CREATE INDEX survive GC; after ROLLBACK
#     GC removes them; a build that commits keeps its part;
#  1b. the same for a query on a physical standby with hot_standby_feedback;
#  2b. kill -9 of a build while it writes its files: GC removes what it
#     left, temporary files of interrupted uploads included;
#  3. DROP INDEX: the part is retired by one pass, deleted by the next;
#  5. on S3 (when the test server runs): the same rule, checked against the
#     server's own key list;
#  4. kill -9 of a backend during GC, of the server after marking, and a
#     half-deleted part: the next passes finish, never touching referenced
#     parts, and the index answers exactly like a sequential scan.
# The oracle is the lake directory on disk.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Path qw(remove_tree);
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_setup_node s3_unique_prefix s3_oracle_keys);

my $lake = PostgreSQL::Test::Utils::tempdir('vlake_lake');

my $node = PostgreSQL::Test::Cluster->new('gc');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'vlake'
vlake.allowed_file_roots = '$lake'
vlake.default_location = 'file://$lake'
autovacuum = off
restart_after_crash = on
});
$node->start;

my $vec = q{(SELECT array_agg(sin(i * 0.731 + j * 1.37) * 3 + cos(i * 0.119 * j) ORDER BY j)::real[]::vector
             FROM generate_series(1, 16) j)};
$node->safe_psql('postgres', qq{
CREATE EXTENSION vlake;
CREATE TABLE t (id int PRIMARY KEY, embedding vector(16));
INSERT INTO t SELECT i, $vec FROM generate_series(1, 3000) i;
CREATE INDEX t_idx ON t USING vlake (embedding vector_l2_ops) WITH (lists = 20);
});

# ---- helpers: the lake on disk is the oracle ----

# { part prefix => [sorted file names] } for every part directory with files
sub parts_on_disk
{
	my %parts;
	my $root = "$lake/vlake_index";
	return \%parts unless -d $root;
	opendir(my $d, $root) or die "opendir $root: $!";
	for my $p (grep { !/^\./ } readdir($d))
	{
		next unless -d "$root/$p";
		opendir(my $pd, "$root/$p") or die;
		my @files = sort grep { -f "$root/$p/$_" } readdir($pd);
		closedir($pd);
		$parts{"vlake_index/$p"} = \@files if @files;
	}
	closedir($d);
	return \%parts;
}

# temporary files of interrupted uploads (.vlake-tmp.*) under vlake_index/
sub temporaries
{
	my $n = 0;
	my $root = "$lake/vlake_index";
	opendir(my $d, $root) or return 0;
	for my $p (grep { !/^\./ } readdir($d))
	{
		opendir(my $pd, "$root/$p") or next;
		$n += scalar(grep { /^\.vlake-tmp\./ } readdir($pd));
		closedir($pd);
	}
	closedir($d);
	return $n;
}

sub current_part
{
	my ($idx) = @_;
	my $f = $node->safe_psql('postgres', "SELECT files[1] FROM vlake.index_info('$idx')");
	$f =~ s{/index\.meta$}{} or die "no part for $idx: $f";
	return $f;
}

sub data_files { return [ grep { $_ ne 'retired.mark' } @{ $_[0] } ]; }
sub has_mark { return scalar(grep { $_ eq 'retired.mark' } @{ $_[0] // [] }); }

# one GC pass, in its own transaction; returns the number of objects removed
sub gc { return $node->safe_psql('postgres', 'SELECT count(*) FROM vlake.index_gc()'); }

sub gc_passes { my $n = shift; gc() for 1 .. $n; }

# what vlake.index_gc_parts() says of a part (changes nothing)
sub gc_state
{
	my ($prefix, $min_age) = @_;
	$min_age //= '0';
	return $node->safe_psql('postgres',
		"SELECT state FROM vlake.index_gc_parts(min_age => '$min_age') WHERE part = 'file://$lake/$prefix'");
}

# GC until the part is gone (bounded; each pass lets the horizon move)
sub gc_until_gone
{
	my ($prefix) = @_;
	for (1 .. 20)
	{
		gc();
		return 1 unless exists parts_on_disk()->{$prefix};
	}
	return 0;
}

my $complete = [qw(codes.bin index.meta part.birth vectors.bin)];

my $a = current_part('t_idx');
is_deeply(parts_on_disk()->{$a}, $complete, 'the build wrote a complete part');
gc_passes(3);
is_deeply(parts_on_disk()->{$a}, $complete, 'GC leaves a referenced part alone');

# ---- 1. an open cursor keeps reading the part a merge replaced ----
$node->safe_psql('postgres', qq{INSERT INTO t SELECT i, $vec FROM generate_series(3001, 3200) i});
my $q = $node->safe_psql('postgres', 'SELECT embedding FROM t WHERE id = 7');
my $s = $node->background_psql('postgres', on_error_stop => 1);
$s->query_safe(qq{
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET enable_seqscan = off;
SET vlake.probes = 1;
DECLARE c CURSOR FOR SELECT id FROM t ORDER BY embedding <-> '$q';
});
is($s->query_safe('FETCH 1 FROM c'), '7', 'the cursor starts on the old part');

$node->safe_psql('postgres', q{SELECT vlake.merge('t_idx')});
my $b = current_part('t_idx');
isnt($b, $a, 'the merge wrote a new part');
gc_passes(4);
my $on_disk = parts_on_disk();
ok(exists $on_disk->{$a}, 'old part kept while a snapshot that read it lives');
is_deeply(data_files($on_disk->{$a}), $complete, '... with all its files');
ok(has_mark($on_disk->{$a}), '... and a retirement mark');

# the cursor probes further lists of the old part (its files are needed)
my @rest = split /\n/, $s->query_safe('FETCH ALL FROM c');
is(scalar(@rest), 3199, 'the open cursor still returns every remaining row');
$s->query_safe('COMMIT');
$s->quit;
ok(gc_until_gone($a), 'after the snapshot ends GC deletes the old part');
is_deeply(parts_on_disk()->{$b}, $complete, 'the current part is untouched');

# ---- 1b. a standby query, protected by hot_standby_feedback ----
$node->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b1', has_streaming => 1);
$standby->append_conf('postgresql.conf', qq{
hot_standby_feedback = on
wal_receiver_status_interval = 1
});
$standby->start;
$node->wait_for_catchup($standby);
my $ss = $standby->background_psql('postgres', on_error_stop => 1);
$ss->query_safe(qq{
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET enable_seqscan = off;
SET vlake.probes = 1;
DECLARE c CURSOR FOR SELECT id FROM t ORDER BY embedding <-> '$q';
});
is($ss->query_safe('FETCH 1 FROM c'), '7', 'a standby cursor starts on the current part');
ok($node->poll_query_until('postgres',
	q{SELECT backend_xmin IS NOT NULL FROM pg_stat_replication}),
	'the standby reports its snapshots (hot_standby_feedback)');
$node->safe_psql('postgres', qq{
INSERT INTO t SELECT i, $vec FROM generate_series(3201, 3300) i;
SELECT vlake.merge('t_idx');});
my $b2 = current_part('t_idx');
isnt($b2, $b, 'a second merge replaced the part');
gc_passes(4);
is_deeply(data_files(parts_on_disk()->{$b} // []), $complete,
	'GC keeps the part a standby snapshot may still read');
@rest = split /\n/, $ss->query_safe('FETCH ALL FROM c');
is(scalar(@rest), 3199, 'the standby cursor still returns every remaining row');
$ss->query_safe('COMMIT');
$ss->quit;
my $gone = 0;
for (1 .. 300)
{
	gc();
	last if ($gone = !exists parts_on_disk()->{$b});
	select(undef, undef, undef, 0.1);
}
ok($gone, 'once the standby query ended, GC deletes the part');
my ($sret, $sout, $serr) = $standby->psql('postgres', 'SELECT vlake.index_gc()');
like($serr, qr/garbage collection cannot run during recovery/, 'GC refuses to run on a standby');
$standby->stop;
$b = $b2;

# ---- 2. an uncommitted CREATE INDEX ----
my %before = %{ parts_on_disk() };
$s = $node->background_psql('postgres', on_error_stop => 1);
$s->query_safe(q{BEGIN; CREATE INDEX t_idx2 ON t USING vlake (embedding vector_cosine_ops) WITH (lists = 10)});
my @new = grep { !exists $before{$_} } keys %{ parts_on_disk() };
is(scalar(@new), 1, 'the uncommitted build wrote one part');
my $u = $new[0];
gc_passes(4);
is_deeply(parts_on_disk()->{$u}, $complete, 'GC keeps the files of an uncommitted build');
is(gc_state($u), 'writing', 'index_gc_parts() says its writer may still be running');
$s->query_safe('ROLLBACK');
ok(gc_until_gone($u), 'after ROLLBACK GC removes them');

# a build that commits while GC runs keeps its part
$s->query_safe(q{BEGIN; CREATE INDEX t_idx3 ON t USING vlake (embedding vector_ip_ops) WITH (lists = 10)});
gc_passes(2);
$s->query_safe('COMMIT');
$s->quit;
my $c = current_part('t_idx3');
gc_passes(4);
is_deeply(parts_on_disk()->{$c}, $complete, 'a build that committed during GC keeps its part, unmarked');

# ---- 2b. kill -9 while a build writes its lake files ----
$node->safe_psql('postgres', qq{
CREATE TABLE big (id int, embedding vector(32));
INSERT INTO big SELECT i, (SELECT array_agg(sin(i * 0.37 + j) ORDER BY j)::real[]::vector
                           FROM generate_series(1, 32) j) FROM generate_series(1, 100000) i;});
%before = %{ parts_on_disk() };
$s = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $s->query_safe('SELECT pg_backend_pid()');
$s->query_until(qr/started/, "\\echo started\nCREATE INDEX big_idx ON big USING vlake (embedding vector_l2_ops) WITH (lists = 50);\n");
my $killed = 0;
# kill it once its part directory exists and index.meta does not yet
for (1 .. 120000)
{
	my $now = parts_on_disk();
	my @mine = grep { !exists $before{$_} } keys %$now;
	if (@mine && grep({ $_ eq 'part.birth' } @{ $now->{ $mine[0] } })
		&& !grep({ $_ eq 'index.meta' } @{ $now->{ $mine[0] } }))
	{
		kill 'KILL', $pid;
		$killed = 1;
		last;
	}
	last unless kill(0, $pid);
	select(undef, undef, undef, 0.002);
}
ok($killed, 'build killed while writing its lake files');
eval { $s->quit; };
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not restart';
my @left = grep { !exists $before{$_} } keys %{ parts_on_disk() };
is(scalar(@left), 1, 'the killed build left one part directory');
my @left_files = @{ parts_on_disk()->{ $left[0] } // [] };
note('left by the killed build: ' . join(' ', @left_files));
ok(scalar(grep { $_ eq 'part.birth' } @left_files), '... findable by its part.birth, written first');
ok(gc_until_gone($left[0]), 'GC removes everything the killed build left');
is(temporaries(), 0, 'no temporary file is left in any part directory');
$node->safe_psql('postgres', 'DROP TABLE big');

# ---- 3. DROP INDEX: retired by one pass, deleted by the next ----
# a DROP in progress holds the index exclusively: GC does not wait for it
$s = $node->background_psql('postgres', on_error_stop => 1);
$s->query_safe('BEGIN; DROP INDEX t_idx3');
gc_passes(2);
is_deeply(parts_on_disk()->{$c}, $complete, 'GC passes by an index locked by a DROP in progress');
$s->query_safe('COMMIT');
$s->quit;
is(gc(), '0', 'the first pass after DROP INDEX deletes nothing');
is_deeply(parts_on_disk()->{$c}, [ sort(@$complete, 'retired.mark') ], '... it retires the part');
is(gc_state($c), 'removable', 'index_gc_parts(): the next pass deletes it');
is(gc_state($c, '1 day'), 'retired', '... unless min_age keeps it');
is(gc_state(current_part('t_idx')), 'referenced', '... and the current part is referenced');
is(gc(), '5', 'the second pass deletes its five objects');
ok(!exists parts_on_disk()->{$c}, 'the dropped index has no files left');

# ---- names: parts written before birth xids, other clusters' parts, junk ----
my $dboid = $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'postgres'});
my $legacy = "vlake_index/db${dboid}_rel1_6b01a0000000_0123456789abcdef";
my $foreign = "vlake_index/db${dboid}_rel1_6b01a0000000_0123456789abcdef_c0000000000000001_x3";
my $junk = "vlake_index/db${dboid}_notapart";
my $bad_mark = "vlake_index/db${dboid}_rel1_6b01a0000000_0123456789abcdee_c"
  . sprintf('%016x', $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()'))
  . '_x3';
for my $p ($legacy, $foreign, $junk, $bad_mark)
{
	mkdir("$lake/$p") or die "mkdir: $!";
	open(my $fh, '>', "$lake/$p/codes.bin") or die;
	print $fh "x";
	close($fh);
}
open(my $mfh, '>', "$lake/$bad_mark/retired.mark") or die;
print $mfh "not a mark";
close($mfh);
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM vlake.index_gc()');
like($err, qr/ignoring invalid vlake index retirement mark .*retired\.mark/, 'an invalid mark is reported');
ok(exists parts_on_disk()->{$bad_mark}, '... and its part kept for now');
ok(gc_until_gone($legacy), 'a part named without a birth xid is collected (pending, then retired)');
ok(gc_until_gone($bad_mark), 'a part with an invalid mark is collected after a new mark');
gc_passes(3);
ok(exists parts_on_disk()->{$foreign}, 'another cluster\'s part is never touched');
ok(exists parts_on_disk()->{$junk}, 'an object GC cannot parse is never touched');
remove_tree("$lake/$foreign", "$lake/$junk");

# ---- 4. crashes ----
# three replaced parts, retired by one pass
my @old;
for my $k (0 .. 2)
{
	my $lo = 4000 + $k * 100;
	push @old, current_part('t_idx');
	$node->safe_psql('postgres', qq{
INSERT INTO t SELECT i, $vec FROM generate_series($lo, $lo + 99) i;
SELECT vlake.merge('t_idx');});
}
my $cur = current_part('t_idx');
gc();
$on_disk = parts_on_disk();
is(scalar(grep { has_mark($on_disk->{$_}) } @old), 3,
	'three replaced parts retired');

# kill -9 the server after marking
my $pm = $node->safe_psql('postgres', 'SELECT pid FROM pg_stat_activity WHERE backend_type = \'checkpointer\'');
$node->kill9;
# the postmaster's children exit when they notice its death; then restart
for (1 .. 600) { last unless kill(0, $pm); select(undef, undef, undef, 0.1); }
my $started = 0;
for (1 .. 100) { last if ($started = $node->start(fail_ok => 1)); sleep 1; }
ok($started, 'server restarted after kill -9');
# a pass killed in the middle of deleting: one part lost a data file, another
# everything but its mark
unlink("$lake/$old[0]/codes.bin") or die;
unlink("$lake/$old[1]/$_") or die for qw(codes.bin index.meta part.birth vectors.bin);

# kill -9 a backend while it collects (whatever it had done stays done)
$s = $node->background_psql('postgres', on_error_stop => 0);
$pid = $s->query_safe('SELECT pg_backend_pid()');
$s->query_until(qr/started/, "\\echo started\nSELECT count(*) FROM vlake.index_gc();\n");
kill 'KILL', $pid;
eval { $s->quit; };
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not restart';

for my $p (@old) { ok(gc_until_gone($p), "a crash-interrupted part is finished off: $p"); }
$on_disk = parts_on_disk();
is_deeply($on_disk->{$cur}, $complete, 'the referenced part was never touched');
is(scalar(keys %$on_disk), 1, 'no other part is left in the lake');

my $exact_sql = q{
SELECT string_agg(ids, ' ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',') FROM (
      SELECT id FROM t ORDER BY embedding <-> (SELECT embedding FROM t WHERE id = q), id LIMIT 10) s) AS ids
  FROM t AS qt(q) WHERE q % 211 = 1) z};
my $exact = $node->safe_psql('postgres', "SET enable_indexscan = off; $exact_sql");
my $via_index = $node->safe_psql('postgres', qq{
SET enable_seqscan = off; SET vlake.probes = 1000; SET vlake.rerank_epsilon = 10;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY embedding <-> '$q' LIMIT 1;
SELECT string_agg(ids, ' ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',') FROM (
      SELECT id FROM t ORDER BY embedding <-> (SELECT embedding FROM t WHERE id = q) LIMIT 10) s) AS ids
  FROM t AS qt(q) WHERE q % 211 = 1) z});
like($via_index, qr/Index Scan using t_idx/, 'the query uses the index');
$via_index =~ s/.*\n//s;
is($via_index, $exact, 'after the crashes the index answers exactly like a sequential scan');

# ---- 5. S3 ----
SKIP:
{
	skip 'no S3 test server', 4 unless s3_available();
	my $root = s3_setup_node($node);
	my $pfx = s3_unique_prefix('indexgc');
	my $loc = "$root$pfx";
	$node->safe_psql('postgres', qq{
CREATE TABLE s3t (id int, embedding vector(16));
INSERT INTO s3t SELECT i, $vec FROM generate_series(1, 500) i;
CREATE INDEX s3t_idx ON s3t USING vlake (embedding vector_l2_ops) WITH (lists = 5, location = '$loc');});
	my $old = $node->safe_psql('postgres', q{SELECT files[1] FROM vlake.index_info('s3t_idx')});
	$old =~ s{/index\.meta$}{};
	$node->safe_psql('postgres', qq{
INSERT INTO s3t SELECT i, $vec FROM generate_series(501, 600) i;
SELECT vlake.merge('s3t_idx');});
	my $new = $node->safe_psql('postgres', q{SELECT files[1] FROM vlake.index_info('s3t_idx')});
	$new =~ s{/index\.meta$}{};
	is_deeply([ sort @{ s3_oracle_keys("$pfx$old/") } ],
		[ map { "$pfx$old/$_" } @$complete ], 'S3: the old part is complete after the merge');
	my $gone = 0;
	for (1 .. 20)
	{
		$node->safe_psql('postgres', qq{SELECT count(*) FROM vlake.index_gc('$loc')});
		last if ($gone = !@{ s3_oracle_keys("$pfx$old/") });
	}
	ok($gone, 'S3: GC deleted the replaced part');
	is_deeply([ sort @{ s3_oracle_keys("$pfx$new/") } ],
		[ map { "$pfx$new/$_" } @$complete ], 'S3: the current part is untouched');
	is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FROM s3t a WHERE (SELECT b.id FROM s3t b ORDER BY b.embedding <-> a.embedding LIMIT 1) <> a.id}),
		'0', 'S3: every row is found through the index after GC');
}

$node->stop;
done_testing();
