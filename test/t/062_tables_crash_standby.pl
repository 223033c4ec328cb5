# vlake tables: a physical standby returns the same rows as the primary
# (delta and lake rows, deletes and updates of lake rows, COPY segments);
# an immediate stop (kill -9 of the postmaster) during a COPY that writes
# segments and during a flush loses no committed row and shows no aborted
# one; pg_dump + restore returns the same rows.  The oracle is a heap table
# h given the same committed statements as the vlake table t.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $lake = PostgreSQL::Test::Utils::tempdir('vlake_lake');

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'vlake'
vlake.allowed_file_roots = '$lake'
vlake.default_location = 'file://$lake'
restart_after_crash = on
});
$primary->start;

# the same statements on h (heap) and t (vlake): TBL names the table
sub on_both
{
	my ($node, $db, $sql) = @_;
	for my $tbl ('h', 't')
	{
		(my $s = $sql) =~ s/\bTBL\b/$tbl/g;
		$node->safe_psql($db, $s);
	}
}

# every row, in id order, as one digest, plus the count
my $rows_q = q{SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x.id)), '-') FROM TBL x};
sub rows_of
{
	my ($node, $db, $tbl, $path) = @_;
	(my $q = $rows_q) =~ s/\bTBL\b/$tbl/g;
	my $set = $path eq 'index'
	  ? 'SET enable_seqscan = off; SET enable_bitmapscan = off;'
	  : 'SET enable_indexscan = off; SET enable_bitmapscan = off;';
	$q =~ s/ FROM TBL x/ FROM $tbl x WHERE x.id > -1/ if $path eq 'index';
	return $node->safe_psql($db, "$set $q");
}

sub same_as_heap
{
	my ($node, $db, $what) = @_;
	my $heap = rows_of($node, $db, 'h', 'seq');
	is(rows_of($node, $db, 't', 'seq'), $heap, "$what: vlake rows = heap rows (seq scan)");
	is(rows_of($node, $db, 't', 'index'), $heap, "$what: vlake rows = heap rows (index scan)");
}

$primary->safe_psql('postgres', q{
CREATE EXTENSION vlake;
CREATE TABLE h (id int PRIMARY KEY, txt text, v vector(3));
CREATE TABLE t (id int PRIMARY KEY, txt text, v vector(3)) USING vlake;
});
my $gen = q{SELECT g, CASE WHEN g % 10 = 0 THEN NULL
                          WHEN g % 333 = 0 THEN repeat(md5(g::text), 200)
                          ELSE 'r' || g END,
                   ARRAY[sin(g), cos(g), g % 7]::real[]::vector
            FROM generate_series};
on_both($primary, 'postgres', "INSERT INTO TBL $gen(1, 5000) g");
$primary->safe_psql('postgres', q{SELECT vlake.flush('t')});
on_both($primary, 'postgres', "INSERT INTO TBL $gen(5001, 6000) g");
ok($primary->safe_psql('postgres', q{SELECT count(*) FROM vlake.table_segments('t')}) > 0,
	't has lake segments');
same_as_heap($primary, 'postgres', 'primary, delta and lake rows');

# ---- physical standby ----
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->start;

# after the backup: updates and deletes of lake and delta rows, a flush,
# COPY into segments
on_both($primary, 'postgres', q{UPDATE TBL SET txt = 'updated' WHERE id % 17 = 0});
on_both($primary, 'postgres', q{DELETE FROM TBL WHERE id % 23 = 0});
$primary->safe_psql('postgres', q{SELECT vlake.flush('t')});
my $copyfile = "$lake/copy.data";
$primary->safe_psql('postgres', "COPY ($gen(6001, 9000) g) TO '$copyfile'");
on_both($primary, 'postgres', "SET vlake.copy_lake_threshold = 0; COPY TBL FROM '$copyfile'");
on_both($primary, 'postgres', q{UPDATE TBL SET txt = 'again' WHERE id % 29 = 0});
$primary->wait_for_catchup($standby);
same_as_heap($primary, 'postgres', 'primary after updates, deletes, flush, COPY');
for my $path ('seq', 'index')
{
	is(rows_of($standby, 'postgres', 't', $path), rows_of($primary, 'postgres', 't', $path),
		"standby returns the primary's rows ($path scan)");
}
is(rows_of($standby, 'postgres', 't', 'seq'), rows_of($primary, 'postgres', 'h', 'seq'),
	"standby's vlake rows = primary's heap rows");
$standby->stop;

# ---- immediate stop during a COPY that writes segments ----
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, "\\echo started\n"
	. "SET vlake.copy_lake_threshold = 0; SET vlake.segment_rows = 20000;\n"
	. "COPY t (id) FROM PROGRAM 'seq 100001 3100000';\n");
my $seen = 0;
for (my $i = 0; $i < 3000 && !$seen; $i++)
{
	my $n = $primary->safe_psql('postgres',
		"SELECT tuples_processed FROM pg_stat_progress_copy WHERE pid = $pid");
	$seen = 1 if $n ne '' && $n > 100000;
	usleep(10_000) unless $seen;
}
ok($seen, 'COPY into segments was running');
$primary->stop('immediate');
eval { $bg->quit; };
$primary->start;
is($primary->safe_psql('postgres', 'SELECT count(*) FROM t WHERE id > 100000'), '0',
	'no row of the interrupted COPY is visible');
same_as_heap($primary, 'postgres', 'after an immediate stop during COPY');

# ---- immediate stop during a flush ----
on_both($primary, 'postgres', "INSERT INTO TBL $gen(200001, 400000) g");
$bg = $primary->background_psql('postgres', on_error_stop => 0);
$pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, "\\echo started\nSELECT vlake.flush('t');\n");
$primary->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $pid AND query LIKE '%flush%' AND state = 'active'")
  or die 'flush did not start';
usleep(300_000);
my $still = $primary->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND state = 'active'");
$primary->stop('immediate');
eval { $bg->quit; };
note("flush still running at the stop: $still");
$primary->start;
same_as_heap($primary, 'postgres', 'after an immediate stop during a flush');
# the table still works: a flush, writes and reads
# (the killed flush's btree entries for its lake TIDs survive the crash;
# its row IDs are never handed out again, so they name nothing)
$primary->safe_psql('postgres', q{SELECT vlake.flush('t')});
on_both($primary, 'postgres', q{UPDATE TBL SET txt = 'post-crash' WHERE id % 1000 = 1});
on_both($primary, 'postgres', q{DELETE FROM TBL WHERE id % 1000 = 2});
same_as_heap($primary, 'postgres', 'writes after the crashes');

# ---- committed COPY just before an immediate stop ----
$primary->safe_psql('postgres', "COPY ($gen(500001, 530000) g) TO '$copyfile'");
on_both($primary, 'postgres', "SET vlake.copy_lake_threshold = 0; COPY TBL FROM '$copyfile'");
$primary->stop('immediate');
$primary->start;
same_as_heap($primary, 'postgres', 'a COPY committed before an immediate stop');

# ---- pg_dump and restore into a new database ----
my $dump = PostgreSQL::Test::Utils::tempdir() . '/dump.sql';
$primary->command_ok(['pg_dump', '-d', $primary->connstr('postgres'), '-f', $dump], 'pg_dump');
$primary->safe_psql('postgres', 'CREATE DATABASE restored');
$primary->command_ok(['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-q', '-d', $primary->connstr('restored'),
	'-f', $dump], 'restore');
is($primary->safe_psql('restored',
	q{SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE relname = 't'}),
	'vlake_table', 'restored t is a vlake table');
# (the restore's ADD PRIMARY KEY on t is a parallel build over 230k lake rows)
is($primary->safe_psql('restored', q{SELECT count(*) FROM pg_indexes WHERE tablename = 't'}),
	'1', 'restored t has its primary key');
for my $path ('seq', 'index')
{
	is(rows_of($primary, 'restored', 't', $path), rows_of($primary, 'postgres', 'h', $path),
		"restored vlake rows = original heap rows ($path scan)");
}

done_testing();
