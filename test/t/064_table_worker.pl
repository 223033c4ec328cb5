# The table maintenance task of vlake's database workers.
#  - by size: a delta that reaches vlake.flush_threshold live rows is moved
#    to a lake segment without anyone calling vlake.flush();
#  - by age: a smaller delta is flushed once the table's last lake version
#    is older than vlake.flush_max_age;
#  - garbage collection: the files of an aborted COPY into segments (a part
#    no catalog names) are removed, the committed segments' files stay;
#  - retention: with a retention of 0 the workers remove the expired
#    manifests and the files only they name; the latest stays readable;
#  - small writes do not make small files: 10,000 single-row INSERT
#    transactions from two pgbench clients end up in the lake as a few
#    segments (one per flush), not 10,000 files.
# Oracles: the rows inserted (kept here), the lake directory listing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Find;

my $node = PostgreSQL::Test::Cluster->new('table_worker');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vlake'
vlake.worker_databases = 'postgres'
vlake.flush_naptime = 1
vlake.flush_threshold = 500
vlake.flush_max_age = 20
vlake.table_gc_min_age = 0
vlake.index_merge_naptime = 3600
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vlake;
	CREATE TABLE big (id int PRIMARY KEY, v text) USING vlake;
});

sub lake_rows
{
	my ($t) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(sum(row_count), 0) FROM vlake.table_segments('$t')");
}

# ---- by size
$node->safe_psql('postgres', "INSERT INTO big SELECT g, 'r' || g FROM generate_series(1, 800) g");
ok($node->poll_query_until('postgres', "SELECT coalesce(sum(row_count), 0) = 800 FROM vlake.table_segments('big')"),
	'the worker flushed a delta past the size threshold');
is($node->safe_psql('postgres', "SELECT count(*), sum(id) FROM big"), '800|320400',
	'every row is there once');

# ---- by age: 10 rows, below the size threshold, in a table just created
$node->safe_psql('postgres', "CREATE TABLE small (id int PRIMARY KEY, v text) USING vlake; "
	  . "INSERT INTO small SELECT g, 's' FROM generate_series(1, 10) g");
is(lake_rows('small'), '0', 'a small delta stays in the delta at first');
ok($node->poll_query_until('postgres', "SELECT coalesce(sum(row_count), 0) = 10 FROM vlake.table_segments('small')"),
	'the worker flushed the small delta once it was old enough');
is($node->safe_psql('postgres', "SELECT count(*) FROM small"), '10', 'rows intact');

# ---- GC: an aborted COPY's files go, committed ones stay
my $root = $node->safe_psql('postgres',
	"SELECT substr(root, length('file://') + 1) FROM vlake.datasets WHERE relid = 'big'::regclass");
sub parquet_dirs
{
	my %dirs;
	find(sub { $dirs{$File::Find::dir} = 1 if /\.parquet$/ }, "$root/data") if -d "$root/data";
	return sort keys %dirs;
}
my @before = parquet_dirs();
$node->safe_psql('postgres', q{
	SET vlake.copy_lake_threshold = 0;
	BEGIN;
	COPY big FROM PROGRAM 'seq 1001 3000 | sed "s/$/\tx/"';
	ROLLBACK;
});
my @with_aborted = parquet_dirs();
is(scalar(@with_aborted), scalar(@before) + 1, 'the aborted COPY left one part of files');
my $ok = 0;
my $t0 = time();
for (1 .. 300)
{
	my @now = parquet_dirs();
	if (@now == @before) { $ok = 1; last; }
	# the snapshot horizon moves on only as transactions take xids
	$node->safe_psql('postgres', 'SELECT pg_current_xact_id()');
	sleep 1;
}
ok($ok, 'garbage collection removed the aborted COPY\'s files');
note('removed after ' . (time() - $t0) . ' s');
is_deeply([ parquet_dirs() ], \@before, 'the committed segments\' files are all still there');
is($node->safe_psql('postgres', "SELECT count(*), sum(id) FROM big"), '800|320400',
	'the table reads the same after garbage collection');

# ---- 10,000 single-row INSERT transactions, two clients
$node->safe_psql('postgres', "CREATE TABLE ins (id bigint PRIMARY KEY, v text) USING vlake");
my $script = PostgreSQL::Test::Utils::tempdir() . '/insert.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	"INSERT INTO ins VALUES (nextval('ins_seq'), repeat('x', 50));\n");
$node->safe_psql('postgres', "CREATE SEQUENCE ins_seq");
$node->command_ok(
	[ 'pgbench', '-n', '-c', '2', '-t', '5000', '-f', $script, $node->connstr('postgres') ],
	'pgbench: 10,000 single-row INSERT transactions');
ok($node->poll_query_until('postgres',
		"SELECT coalesce(sum(row_count), 0) = 10000 FROM vlake.table_segments('ins')"),
	'the workers moved every inserted row to the lake');
is($node->safe_psql('postgres', "SELECT count(*), count(DISTINCT id) FROM ins"), '10000|10000',
	'every row is there once');
my $ins_root = $node->safe_psql('postgres',
	"SELECT substr(root, length('file://') + 1) FROM vlake.datasets WHERE relid = 'ins'::regclass");
my ($files, $manifests) = (0, 0);
find(sub { $files++ if -f $_ && /\.parquet$/ }, "$ins_root/data");
find(sub { $manifests++ if -f $_ }, "$ins_root/_manifest") if -d "$ins_root/_manifest";
my $flushes = $node->safe_psql('postgres', "SELECT count(*) FROM vlake.table_segments('ins')");
note("10,000 insert transactions: $flushes segments, $files Parquet files, $manifests version files");
# a flush per vlake.flush_threshold (500) rows at most, a few files each
cmp_ok($flushes, '<=', 10000 / 500 + 2, 'one segment per flush of at least the threshold (or the age)');
cmp_ok($files, '<=', 3 * (10000 / 500 + 2), 'a few files a segment: not a file per transaction');
cmp_ok($manifests, '<=', $flushes + 2, 'a published version per flush, none per insert');

# ---- retention: the workers expire what only old versions need
# (docs/tables.md, "Retention"): with a retention of 0 only the latest
# version of 'big' is retained; after a TRUNCATE and a flush the workers
# remove the older manifests and the truncated segments' files, and the
# latest version stays readable, by time travel too.
sub manifest_versions
{
	my @v;
	find(sub { push @v, $1 if /^(\d{20})\.json$/ }, "$root/_manifest") if -d "$root/_manifest";
	return sort @v;
}
$node->safe_psql('postgres', "SELECT vlake.set_retention('big', '0')");
$node->safe_psql('postgres', "TRUNCATE big");
$node->safe_psql('postgres', "INSERT INTO big SELECT g, 'n' || g FROM generate_series(1, 600) g");
ok($node->poll_query_until('postgres', "SELECT coalesce(sum(row_count), 0) = 600 FROM vlake.table_segments('big')"),
	'the worker flushed the new rows');
my $latest = $node->safe_psql('postgres', "SELECT max(version) FROM vlake.table_versions('big')");
cmp_ok($latest, '>=', 3, 'big has older versions (its first flush, the TRUNCATE)');
$ok = 0;
for (1 .. 300)
{
	my @m = manifest_versions();
	my @d = parquet_dirs();
	if (@m == 1 && @d == 1) { $ok = 1; last; }
	$node->safe_psql('postgres', 'SELECT pg_current_xact_id()');
	sleep 1;
}
ok($ok, 'the workers removed the expired manifests and the truncated segments\' files');
is_deeply([ manifest_versions() ], [ sprintf('%020d', $latest) ], 'the latest manifest stays');
is($node->safe_psql('postgres', "SELECT count(*), sum(id) FROM big"), '600|180300',
	'the table reads the same');
is($node->safe_psql('postgres', "SET vlake.as_of_version = $latest; SELECT count(*), sum(id) FROM big"),
	'600|180300', 'the latest version reads by time travel');
my ($ret, $out, $err) = $node->psql('postgres', "SET vlake.as_of_version = 1; SELECT count(*) FROM big");
like($err, qr/version 1 of vlake table "big" is no longer retained/, 'an expired version is refused');

# ---- a dropped table: the workers remove its dataset once its retention
# has passed (docs/tables.md, "Dropping a table"), and only what vlake wrote
$node->safe_psql('postgres', "ALTER TABLE ins SET (retention = '0s')");
my $user_file = "$ins_root/data/kept-by-the-user.txt";
PostgreSQL::Test::Utils::append_to_file($user_file, "not vlake's\n");
$node->safe_psql('postgres', "DROP TABLE ins");
is($node->safe_psql('postgres', "SELECT relname FROM vlake.dropped_datasets"), 'ins',
	'DROP TABLE records the dataset');
$ok = 0;
for (1 .. 300)
{
	my $vlake_files = 0;
	find(sub { $vlake_files++ if -f $_ && $_ ne 'kept-by-the-user.txt' }, $ins_root);
	if ($vlake_files == 0
		&& $node->safe_psql('postgres', "SELECT count(*) FROM vlake.dropped_datasets") eq '0')
	{
		$ok = 1;
		last;
	}
	$node->safe_psql('postgres', 'SELECT pg_current_xact_id()');
	sleep 1;
}
ok($ok, 'the workers removed every file vlake wrote under the dropped table\'s root, then its row');
ok(-f $user_file, 'a file vlake did not write stays');

$node->stop;
done_testing();
