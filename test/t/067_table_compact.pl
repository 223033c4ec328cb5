# Compaction of a vlake table (vlake.compact) under crashes, and the
# workers' compaction task.
#
# Each round deletes committed rows (the oracle: ids kept in Perl), then runs
# vlake.compact() with one fault point armed — compact_after_files (new
# files written, catalog untouched) or compact_after_catalog (catalog
# swapped, not committed) — and one way to die: crash (abort() of the
# backend), kill (the backend sleeps at the point, the postmaster gets
# SIGKILL) or error.  After recovery: exactly the committed rows, values
# intact, through sequential and index scans; no version was added; a
# compaction then succeeds and changes nothing a query sees; DuckDB reading
# the published manifest (test/tools/table_manifest_read.mjs) finds the same
# rows (and the object lists of the objref column agree with it row by row).
# At the end the table GC removes the parts the crashed compactions wrote and
# the files (object lists too) completed ones replaced, and the workers' task
# compacts a table on its own.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use File::Find;
use File::Basename;
use Time::HiRes qw(usleep);

my $src   = $ENV{VLAKE_SRC} // '.';
my $tools = "$src/test/tools";
my $have_duckdb = -d "$tools/node_modules/\@duckdb/node-api";

my $node = PostgreSQL::Test::Cluster->new('table_compact');
$node->init;
# no workers until the end (they would compact and collect at every start)
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vlake'
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vlake;
	CREATE TABLE t (id bigint PRIMARY KEY, note text, e vector(4), r objref) USING vlake;
});
# the objref column: every file of it carries an object list, which the
# compactions rewrite and retire with the file (docs/objref.md, "Lineage")
my $refsql = "CASE WHEN g % 3 <> 0 THEN vlake.objref('s3://bkt/o' || g % 13, g % 13, repeat('b', 64)) END";
(my $refsql_id = $refsql) =~ s/\bg\b/id/g;
# six segments of 500 rows, then six small adjacent ones of 200 (one flush each)
for my $k (0 .. 11)
{
	my ($a, $b) = $k < 6 ? (1 + $k * 500, 500 + $k * 500) : (3001 + ($k - 6) * 200, 3200 + ($k - 6) * 200);
	$node->safe_psql('postgres', "INSERT INTO t SELECT g, 'row ' || g || repeat('x', (g % 7) * 40), "
		  . "array[g, g + 1, g + 2, g + 3]::real[]::vector, $refsql FROM generate_series($a, $b) g; "
		  . "SELECT vlake.flush('t')");
}
my %committed = map { $_ => 1 } (1 .. 4200);

sub wait_ready
{
	for (1 .. 600)
	{
		my $ok = eval { $node->safe_psql('postgres', 'SELECT 1') eq '1' };
		return 1 if $ok;
		usleep(100_000);
	}
	return 0;
}

sub check_state
{
	my ($what) = @_;
	my @got = split /\n/, $node->safe_psql('postgres', 'SELECT id FROM t ORDER BY id');
	my @want = sort { $a <=> $b } keys %committed;
	is_deeply(\@got, [ map { "$_" } @want ], "$what: exactly the committed rows, once each");
	my $probe = join(',', map { $want[ int(rand(@want)) ] } 1 .. 30);
	my %distinct = map { $_ => 1 } split /,/, $probe;
	is($node->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM t WHERE id IN ($probe)"),
		scalar(keys %distinct) . '', "$what: index scan finds the probed rows");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE e IS DISTINCT FROM array[id, id + 1, id + 2, id + 3]::real[]::vector "
		  . "OR note IS DISTINCT FROM 'row ' || id || repeat('x', (id % 7)::int * 40) "
		  . "OR r IS DISTINCT FROM $refsql_id"),
		'0', "$what: every row's values are intact");
}

sub check_lake
{
	my ($what) = @_;
	return unless $have_duckdb;
	$node->safe_psql('postgres', "SELECT vlake.table_publish('t')");
	my $root = $node->safe_psql('postgres',
		"SELECT substr(root, length('file://') + 1) FROM vlake.datasets WHERE relid = 't'::regclass");
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/table_manifest_read.mjs", $root ], '>', \$out, '2>', \$err)
	  or die "table_manifest_read failed: $err";
	my $lake = JSON::PP->new->decode($out);
	my @fields = @{ $lake->{fields} };
	my ($idcol) = grep { $fields[$_] eq 'id' } 0 .. $#fields;
	my ($ecol) = grep { $fields[$_] eq 'note' } 0 .. $#fields;
	my @ids = sort { $a <=> $b } map { $_->[$idcol] } @{ $lake->{rows} };
	my @want = sort { $a <=> $b } keys %committed;
	is_deeply(\@ids, [ map { "$_" } @want ], "$what: DuckDB reads exactly the committed rows from the published lake");
	my $bad = grep { !defined $_->[$ecol] || $_->[$ecol] ne 'row ' . $_->[$idcol] . ('x' x (($_->[$idcol] % 7) * 40)) }
	  @{ $lake->{rows} };
	is($bad, 0, "$what: DuckDB reads every live row's values");
}

sub version
{
	return $node->safe_psql('postgres', "SELECT version FROM vlake.datasets WHERE relid = 't'::regclass");
}

# the segment files on disk, and those the catalog names
my $root = $node->safe_psql('postgres',
	"SELECT substr(root, length('file://') + 1) FROM vlake.datasets WHERE relid = 't'::regclass");
sub parts_on_disk
{
	my %dirs;
	find(sub { $dirs{$File::Find::name} = 1 if /\.parquet$/ }, "$root/data") if -d "$root/data";
	return sort keys %dirs;
}
sub parts_named
{
	my %dirs = map { ("$root/" . $_) => 1 } split /\n/,
	  $node->safe_psql('postgres', "SELECT path FROM vlake.files WHERE relid = 't'::regclass UNION ALL "
		  . "SELECT objects_path FROM vlake.files WHERE relid = 't'::regclass AND objects_path IS NOT NULL");
	return sort keys %dirs;
}

check_state('start');
is($node->safe_psql('postgres', "SELECT count(*) FROM vlake.table_segments('t')"), '12', '12 segments');

my $round = 0;
for my $point (qw(compact_after_files compact_after_catalog))
{
	for my $action (qw(crash kill error))
	{
		$round++;
		my $what = "$point:$action";
		# delete 40% of one 500-row segment and a few rows elsewhere
		my $base = 1 + ($round % 6) * 500;
		my @del = grep { $committed{$_} } (grep { $_ % 5 < 2 } $base .. $base + 499), map { 3001 + $round * 37 + $_ } 0 .. 3;
		$node->safe_psql('postgres', "DELETE FROM t WHERE id IN (" . join(',', @del) . ")");
		delete $committed{$_} for @del;
		my $v = version();
		my $log_pos = -s $node->logfile;
		my ($in, $out, $err) = ('', '', '');
		my $h = IPC::Run::start(
			[ 'psql', '-X', '-d', $node->connstr('postgres'), '-v', 'ON_ERROR_STOP=1',
			  '-c', "SET vlake.compact_small_segment_rows = 300; SET vlake.fault_points = '$point:"
			  . ($action eq 'kill' ? 'sleep' : $action) . "'",
			  '-c', "SELECT * FROM vlake.compact('t')" ],
			'<', \$in, '>', \$out, '2>', \$err);
		if ($action eq 'kill')
		{
			my $reached = 0;
			for (1 .. 600)
			{
				if (slurp_file($node->logfile, $log_pos) =~ /vlake fault point \Q$point\E reached/) { $reached = 1; last; }
				usleep(50_000);
			}
			ok($reached, "$what: the backend reached the point");
			$node->kill9;
			$h->finish;
			my $started = 0;
			for (1 .. 60)
			{
				if ($node->start(fail_ok => 1)) { $started = 1; last; }
				$node->{_pid} = undef;
				sleep 1;
			}
			ok($started, "$what: the server starts again after SIGKILL of the postmaster");
		}
		else
		{
			$h->finish;
			if ($action eq 'crash')
			{
				like(slurp_file($node->logfile, $log_pos), qr/vlake fault point \Q$point\E reached: crashing/,
					"$what: the backend crashed at the point");
			}
			else
			{
				like($err, qr/vlake fault point \Q$point\E reached/, "$what: the compaction failed with an ERROR");
			}
		}
		ok(wait_ready(), "$what: the server accepts queries again");
		is(version(), $v, "$what: no version was added");
		check_state($what);
		my $res = $node->safe_psql('postgres',
			"SET vlake.compact_small_segment_rows = 300; SELECT rows_purged > 0, groups_rewritten > 0 FROM vlake.compact('t')");
		is($res, 't|t', "$what: then a compaction purges and rewrites");
		is(version(), $v + 1, "$what: which adds one version");
		check_state("$what, then compacted");
		check_lake("$what, then compacted") if $round % 3 == 0;
	}
}
# merges happened (small segments of 200 rows were adjacent)
cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM vlake.table_segments('t')"), '<', 12,
	'the small adjacent segments were merged');

# ---- the table GC removes the parts the interrupted compactions wrote (kept
# until now by vlake.table_gc_min_age)
my @named = parts_named();
my @on_disk = parts_on_disk();
cmp_ok(scalar(@on_disk), '>', scalar(@named),
	'interrupted compactions left files no catalog names (and completed ones the files they replaced)');
# the workers now: table GC at once (no past version retained: the files
# only they name go too), compaction every second
$node->append_conf('postgresql.conf', q{
vlake.worker_databases = 'postgres'
vlake.flush_naptime = 1
vlake.flush_threshold = 1000000
vlake.flush_max_age = 100000
vlake.table_gc_min_age = 0
vlake.table_retention = 0
vlake.compact_naptime = 1
vlake.compact_small_segment_rows = 300
vlake.index_merge_naptime = 3600
});
$node->restart;
my $ok = 0;
for (1 .. 300)
{
	my %named = map { $_ => 1 } parts_named();
	if (!grep { !$named{$_} } parts_on_disk()) { $ok = 1; last; }
	$node->safe_psql('postgres', 'SELECT pg_current_xact_id()');
	sleep 1;
}
ok($ok, 'garbage collection removed every file no catalog names');
is_deeply([ parts_on_disk() ], [ parts_named() ], 'and kept every file the catalog names');
check_state('after garbage collection');
check_lake('after garbage collection');

# ---- the workers' compaction task
my $v = version();
$node->safe_psql('postgres', "DELETE FROM t WHERE id BETWEEN 3001 AND 3600");
delete $committed{$_} for 3001 .. 3600;
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM vlake.versions WHERE relid = 't'::regclass AND version > $v AND operation = 'compact'"),
	'the workers compacted the table');
check_state('after the workers\' compaction');

$node->stop;
done_testing();
