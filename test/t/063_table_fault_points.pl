# vlake tables under crashes at every step of their lake writes.
#
# Each round arms one fault point (vlake.fault_points) of the flush or of a
# COPY into lake segments, with one way to die:
#   crash   the backend abort()s at the point (as kill -9 of it: the server
#           restarts all backends and recovers);
#   kill    the backend sleeps at the point and the test kills the
#           postmaster with SIGKILL, then starts it;
#   error   the step raises an ERROR (the transaction aborts, no crash).
# Rows committed before the round are the oracle (kept in Perl, not read
# back from vlake): after recovery every committed row is present exactly
# once, no row of the interrupted COPY is visible, index and sequential
# scans agree, and a new flush and COPY work; the table's objref column makes
# every segment file of it carry an object list (objects_before_finish dies
# while one is written), which the lake check reads back row by row.
# Rounds are drawn at random
# (the seed is printed; VLAKE_FAULT_SEED replays a run).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use Time::HiRes qw(usleep);

my $src   = $ENV{VLAKE_SRC} // '.';
my $tools = "$src/test/tools";
my $have_duckdb = -d "$tools/node_modules/\@duckdb/node-api";

my $seed = $ENV{VLAKE_FAULT_SEED} // time();
srand($seed);
note("random seed $seed (VLAKE_FAULT_SEED=$seed replays it)");
my $rounds = $ENV{VLAKE_FAULT_ROUNDS} // 14;

my $node = PostgreSQL::Test::Cluster->new('table_faults');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'vlake'\nrestart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vlake;
	CREATE TABLE t (id bigint PRIMARY KEY, note text, e vector(4), r objref) USING vlake;
});

my %committed;    # the oracle: ids of committed rows
my $next_id = 1;

sub rows_sql
{
	my ($from, $to) = @_;
	return "SELECT g, 'row ' || g || repeat('x', (g % 7) * 40), "
	  . "array[g, g + 1, g + 2, g + 3]::real[]::vector, "
	  . "CASE WHEN g % 5 <> 0 THEN vlake.objref('s3://bkt/o' || g % 11, g % 11, repeat('a', 64)) END "
	  . "FROM generate_series($from, $to) g";
}

# committed delta rows (small INSERT transactions)
sub insert_committed
{
	my $n = 1 + int(rand(300));
	my ($a, $b) = ($next_id, $next_id + $n - 1);
	$node->safe_psql('postgres', "INSERT INTO t " . rows_sql($a, $b));
	$committed{$_} = 1 for ($a .. $b);
	$next_id = $b + 1;
}

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
	my $ids = $node->safe_psql('postgres', 'SELECT id FROM t ORDER BY id');
	my @got = split /\n/, $ids;
	my @want = sort { $a <=> $b } keys %committed;
	is(scalar(@got), scalar(@want), "$what: row count is the committed count");
	is_deeply(\@got, [ map { "$_" } @want ], "$what: exactly the committed rows, once each");
	# the same through the primary key (index fetches of lake and delta rows)
	my $probe = join(',', map { $want[ int(rand(@want)) ] } 1 .. 20) || '0';
	my $by_index = $node->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off; "
		  . "SELECT count(*) FROM t WHERE id IN ($probe)");
	my %distinct = map { $_ => 1 } split /,/, $probe;
	is($by_index, scalar(keys %distinct) . '', "$what: index scan finds the probed rows");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE e <> array[id, id + 1, id + 2, id + 3]::real[]::vector "
		  . "OR note <> 'row ' || id || repeat('x', (id % 7)::int * 40) "
		  . "OR r IS DISTINCT FROM CASE WHEN id % 5 <> 0 THEN vlake.objref('s3://bkt/o' || id % 11, id % 11, repeat('a', 64)) END"),
		'0', "$what: every row's values are intact");
}

# The lake as another engine sees it: after a flush of the delta and a
# repair of publication (vlake.table_publish), the latest published
# manifest's files, read by DuckDB with the delete vectors applied
# (test/tools/table_manifest_read.mjs, which knows only docs/manifest.md),
# hold exactly the committed rows.
sub check_lake
{
	my ($what) = @_;
	return unless $have_duckdb;
	$node->safe_psql('postgres', "SELECT vlake.flush('t'); SELECT vlake.table_publish('t')");
	my $root = $node->safe_psql('postgres',
		"SELECT substr(root, length('file://') + 1) FROM vlake.datasets WHERE relid = 't'::regclass");
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/table_manifest_read.mjs", $root ], '>', \$out, '2>', \$err)
	  or die "table_manifest_read failed: $err";
	my $lake = JSON::PP->new->decode($out);
	my @fields = @{ $lake->{fields} };
	my ($idcol) = grep { $fields[$_] eq 'id' } 0 .. $#fields;
	my @ids = sort { $a <=> $b } map { $_->[$idcol] } @{ $lake->{rows} };
	my @want = sort { $a <=> $b } keys %committed;
	is_deeply(\@ids, [ map { "$_" } @want ], "$what: DuckDB reads exactly the committed rows from the published lake");
	my @chain = @{ $lake->{chain} };
	is_deeply(\@chain, [ 1 .. $chain[-1] ], "$what: the manifest chain has no gap");
}

# run $cmd (SQL or a psql backslash command) in a background psql with the
# fault armed; returns the harness and its stderr
sub start_armed
{
	my ($point, $action, $cmd) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-d', $node->connstr('postgres'), '-v', 'ON_ERROR_STOP=1',
		  '-c', "SET vlake.copy_lake_threshold = 0; SET vlake.segment_rows = 500; "
		  . "SET vlake.fault_points = '$point:" . ($action eq 'kill' ? 'sleep' : $action) . "'",
		  '-c', $cmd ],
		'<', \$in, '>', \$out, '2>', \$err);
	return ($h, \$err);
}

my $csv = PostgreSQL::Test::Utils::tempdir('copy') . '/rows.csv';

# objects_before_finish: while the object list of the objref column is written
my @flush_points = qw(flush_before_finish objects_before_finish flush_after_files flush_after_catalog flush_before_commit);
my @copy_points = qw(copy_after_batch copy_after_files copy_after_catalog);
my @actions = qw(crash kill error);
my %seen;

insert_committed() for 1 .. 3;
check_state('start');

for my $round (1 .. $rounds)
{
	insert_committed();
	my $is_copy = rand() < 0.5;
	my @points = $is_copy ? @copy_points : @flush_points;
	my $point = $points[ int(rand(@points)) ];
	my $action = $actions[ int(rand(@actions)) ];
	# cover every point with a crash at least once
	for my $p (@flush_points, @copy_points)
	{
		if (!$seen{$p} && $round > $rounds - scalar(@flush_points) - scalar(@copy_points))
		{
			($point, $action) = ($p, 'crash');
			$is_copy = ($p =~ /^copy/);
			last;
		}
	}
	$seen{$point} = 1 if $action eq 'crash';
	my $what = "round $round: $point:$action";
	my $log_pos = -s $node->logfile;
	my $sql;
	if ($is_copy)
	{
		my $n = 600 + int(rand(1500));
		my $data = $node->safe_psql('postgres',
			"COPY (" . rows_sql($next_id, $next_id + $n - 1) . ") TO STDOUT (FORMAT csv)");
		open(my $fh, '>', $csv) or die "$csv: $!";
		print $fh $data, "\n";
		close $fh;
		$sql = "\\copy t FROM '$csv' (FORMAT csv)";
		$next_id += $n;    # these ids never commit
	}
	else
	{
		$sql = "SELECT vlake.flush('t')";
	}
	my ($h, $err) = start_armed($point, $action, $sql);
	if ($action eq 'kill')
	{
		my $reached = 0;
		for (1 .. 600)
		{
			my $log = slurp_file($node->logfile, $log_pos);
			if ($log =~ /vlake fault point \Q$point\E reached/) { $reached = 1; last; }
			usleep(50_000);
		}
		ok($reached, "$what: the backend reached the point");
		$node->kill9;    # SIGKILL to the postmaster
		$h->finish;      # the sleeping backend exits when it sees the postmaster gone
		# the orphaned children leave within a few seconds; until then the
		# old shared memory is in use and a start fails
		my $started = 0;
		for (1 .. 60)
		{
			if ($node->start(fail_ok => 1)) { $started = 1; last; }
			$node->{_pid} = undef;    # a failed start read the dead postmaster's pid file
			sleep 1;
		}
		ok($started, "$what: the server starts again after SIGKILL of the postmaster");
	}
	else
	{
		$h->finish;
		if ($action eq 'crash')
		{
			my $log = slurp_file($node->logfile, $log_pos);
			like($log, qr/vlake fault point \Q$point\E reached: crashing/, "$what: the backend crashed at the point");
		}
		else
		{
			like($$err, qr/vlake fault point \Q$point\E reached/, "$what: the step failed with an ERROR");
		}
	}
	ok(wait_ready(), "$what: the server accepts queries again");
	check_state($what);
	# and the table keeps working: a flush and a committed COPY into segments
	$node->safe_psql('postgres', "SELECT vlake.flush('t')");
	my $n = 1 + int(rand(800));
	$node->safe_psql('postgres', "SET vlake.copy_lake_threshold = 0; SET vlake.segment_rows = 500; "
		  . "INSERT INTO t " . rows_sql($next_id, $next_id + $n - 1));
	$committed{$_} = 1 for ($next_id .. $next_id + $n - 1);
	$next_id += $n;
	check_state("$what, then a flush and more rows");
	check_lake($what) if $round % 5 == 0;
}
# A column patch (vlake.backfill, and a flush folding updates back) dying
# after its files are written: nothing of it is visible, the table keeps its
# values, and the same backfill then works.  (It writes the values the rows
# already have, so check_state's value checks hold either way.)
my $backfill = "SELECT vlake.backfill('t', 'note', 'SELECT id, note FROM t WHERE id % 3 = 0', key => 'id')";
$node->safe_psql('postgres', "SELECT vlake.flush('t')");
for my $action (qw(crash error))
{
	my $what = "backfill, patch_after_files:$action";
	my $files = $node->safe_psql('postgres', "SELECT count(*) FROM vlake.files WHERE relid = 't'::regclass");
	my $log_pos = -s $node->logfile;
	my ($h, $err) = start_armed('patch_after_files', $action, $backfill);
	$h->finish;
	if ($action eq 'crash')
	{
		like(slurp_file($node->logfile, $log_pos), qr/vlake fault point patch_after_files reached: crashing/,
			"$what: the backend crashed at the point");
	}
	else
	{
		like($$err, qr/vlake fault point patch_after_files reached/, "$what: the step failed with an ERROR");
	}
	ok(wait_ready(), "$what: the server accepts queries again");
	is($node->safe_psql('postgres', "SELECT count(*) FROM vlake.files WHERE relid = 't'::regclass"), $files,
		"$what: no file of the patch is listed");
	check_state($what);
}
$node->safe_psql('postgres', $backfill);
check_state('a backfill after the failed ones');
check_lake('the end');

$node->stop;
done_testing();
