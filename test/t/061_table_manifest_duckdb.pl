# Publication of vlake tables read by an independent engine
# (docs/tables.md, "Publication"; docs/manifest.md):
#  - a table with several segments (flush, COPY), deletes and an update of
#    lake rows, and rows in the delta; after a last flush, its latest
#    manifest is read straight from the lake directory with Node
#    (test/tools/table_manifest_read.mjs): every listed ColumnGroup file with
#    DuckDB, columns by Parquet field id, every delete vector with the
#    tool's own decoder of the portable Roaring format (cross-checked with
#    roaring-wasm), and the resulting rows equal SELECT ... FROM the table
#    (the oracle);
#  - kill -9 between a commit and its publication (vlake.fault_points =
#    'publish_before_put:crash'): after the restart the version is committed and
#    unpublished, vlake.table_publish() publishes it, and the chain
#    1..latest is complete, each version once, each the successor of the
#    one before; the lake's rows still equal the table's;
#  - the publication task of the database workers publishes such a version
#    on its own.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;

my $src   = $ENV{VLAKE_SRC} // '.';
my $tools = "$src/test/tools";
plan skip_all => 'DuckDB test tooling not installed (scripts/install-deps.sh test)'
  unless -d "$tools/node_modules/\@duckdb/node-api";

my $lake = PostgreSQL::Test::Utils::tempdir('lake');
my $root = "$lake/t";
my $node = PostgreSQL::Test::Cluster->new('table_manifest');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'vlake'\nvlake.allowed_file_roots = '$lake'\n"
	  . "restart_after_crash = on\nTimeZone = 'UTC'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');

# ---------------------------------------------------------------- helpers --
sub lake_read
{
	my @args = @_;
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/table_manifest_read.mjs", $root, @args ],
		'>', \$out, '2>', \$err)
	  or die "table_manifest_read failed: $err";
	return JSON::PP->new->decode($out);
}

sub num_eq
{
	my ($a, $b) = @_;
	return $a eq $b
	  || (($a =~ /^[-+0-9.eE]+$/) && ($b =~ /^[-+0-9.eE]+$/) && $a == $b);
}

sub cell_eq
{
	my ($g, $w) = @_;
	return 0 if defined($g) != defined($w);
	return 1 if !defined $g;
	return 1 if num_eq($g, $w);
	# vectors: DuckDB "[1.0, 2.0]" vs Postgres "[1,2]"
	if ($g =~ /^\[.*\]$/ && $w =~ /^\[.*\]$/)
	{
		my @a = split /,\s*/, substr($g, 1, -1);
		my @b = split /,\s*/, substr($w, 1, -1);
		return @a == @b && !grep { !num_eq($a[$_], $b[$_]) } 0 .. $#a;
	}
	return 0;
}

# The table's rows as the oracle: every column as text (undef for null).
sub pg_rows
{
	my $out = $node->safe_psql('postgres',
		"SELECT id, name, score, grp, emb::text FROM t ORDER BY id",
		extra_params => [ '-F', "\x1f", '-P', 'null=<NULL>' ]);
	return [ map { [ map { $_ eq '<NULL>' ? undef : $_ } split /\x1f/, $_, -1 ] }
		  split /\n/, $out ];
}

# The lake's rows (sorted by id) equal the table's.
sub lake_matches_table
{
	my ($name) = @_;
	my $lake = lake_read();
	is_deeply($lake->{fields}, [qw(id name score grp emb)], "$name: fields of the manifest");
	my @got = sort { $a->[0] <=> $b->[0] } @{ $lake->{rows} };
	my $want = pg_rows();
	is(scalar(@got), scalar(@$want), "$name: as many rows in the lake as in the table");
	my $bad = 0;
	for my $r (0 .. $#$want)
	{
		for my $c (0 .. 4)
		{
			next if cell_eq($got[$r][$c], $want->[$r][$c]);
			diag("$name: row $r column $c: lake '" . ($got[$r][$c] // 'NULL')
				  . "', table '" . ($want->[$r][$c] // 'NULL') . "'")
			  if $bad++ < 5;
		}
	}
	is($bad, 0, "$name: every value of the lake equals the table's");
	return $lake;
}

sub latest_committed
{
	return $node->safe_psql('postgres',
		"SELECT version FROM vlake.datasets WHERE relid = 't'::regclass");
}

# The chain 1..latest: each version once, version = key, parent = v - 1.
sub chain_complete
{
	my ($name) = @_;
	my $latest = latest_committed();
	opendir(my $d, "$root/_manifest") or die;
	my @keys = sort grep { /^[0-9]{20}\.json$/ } readdir($d);
	closedir $d;
	is_deeply([ map { 0 + substr($_, 0, 20) } @keys ], [ 1 .. $latest ],
		"$name: versions 1..$latest published, no gap, no duplicate");
	my $ok = 1;
	for my $v (1 .. $latest)
	{
		my $doc = $node->safe_psql('postgres',
			"SELECT m->>'version', coalesce(m->>'parent_version', 'null') FROM vlake.table_manifest('t', $v) m");
		$ok = 0 unless $doc eq "$v|" . ($v == 1 ? 'null' : $v - 1);
	}
	ok($ok, "$name: every version names its predecessor as parent");
}

# ------------------------------------------------ several segments, deletes --
$node->safe_psql('postgres', qq{
	SET vlake.copy_lake_threshold = 0;
	CREATE TABLE t (id int NOT NULL, name text, score float8, grp varchar(8), emb vector(3))
	  USING vlake WITH (location = 'file://$root');
	INSERT INTO t SELECT i, 'name ' || i, i * 0.25, 'g' || (i % 7),
	                     ARRAY[i, -i, i % 5]::real[]::vector
	  FROM generate_series(1, 3000) i;
});
$node->safe_psql('postgres', "SELECT vlake.flush('t')");
# COPY rows 3001..5500 (nulls in score and grp), written as segments of 1000
my $csv = "$lake/copy.tsv";
open(my $fh, '>', $csv) or die;
for my $i (3001 .. 5500)
{
	printf $fh "%d\tc%d\t%s\t%s\t[%d,1,2]\n", $i, $i, ($i % 3 ? $i / 8 : '\\N'),
	  ($i % 11 ? 'h' : '\\N'), $i;
}
close $fh;
$node->safe_psql('postgres', qq{
	SET vlake.copy_lake_threshold = 0;
	SET vlake.segment_rows = 1000;
	COPY t FROM '$csv';
});
$node->safe_psql('postgres', "DELETE FROM t WHERE id % 13 = 0");
$node->safe_psql('postgres', "DELETE FROM t WHERE id BETWEEN 3100 AND 3999");
$node->safe_psql('postgres', "UPDATE t SET name = 'updated' WHERE id % 101 = 0");
$node->safe_psql('postgres', "INSERT INTO t VALUES (9001, 'delta', NULL, NULL, NULL)");
$node->safe_psql('postgres', "SELECT vlake.flush('t')");
my $nseg = $node->safe_psql('postgres', "SELECT count(*) FROM vlake.table_segments('t')");
cmp_ok($nseg, '>=', 5, "several segments ($nseg)");
my $lakeview = lake_matches_table('several segments and deletes');
my $deleted_in_table = $node->safe_psql('postgres',
	"SELECT count(*) FROM vlake.row_states WHERE relid = 't'::regclass AND kind IN ('d', 'u')");
is($lakeview->{deleted}, $deleted_in_table, 'the delete vectors hold every deleted lake row');
cmp_ok($lakeview->{deleted}, '>', 900, 'deletes in several segments');
chain_complete('normal commits');

# --------------------------------------------------------- column patches --
# A backfill and an UPDATE folded back by a flush add files holding some
# columns to existing segments; the reader knows only manifest.md's rule
# (a later group holding a field supersedes the earlier copies).
my $files_before = $node->safe_psql('postgres',
	"SELECT count(*) FROM vlake.files WHERE relid = 't'::regclass");
$node->safe_psql('postgres',
	"SELECT vlake.backfill('t', 'score', 'SELECT id, id * 2.5 FROM t WHERE id % 5 = 0', key => 'id')");
$node->safe_psql('postgres',
	"SELECT vlake.backfill('t', 'emb', \$\$SELECT id, '[7,7,7]' FROM t WHERE id % 9 = 0\$\$, key => 'id')");
$node->safe_psql('postgres', "UPDATE t SET name = 'fixed ' || id WHERE id % 100 = 1");
$node->safe_psql('postgres', "SELECT vlake.flush('t')");
cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM vlake.files WHERE relid = 't'::regclass"),
	'>', $files_before, 'the segments have column patches');
is($node->safe_psql('postgres', "SELECT count(*) FROM vlake.row_states WHERE relid = 't'::regclass AND kind = 'u' AND attrs IS NOT NULL"),
	'0', 'the updates were folded back into their rows');
lake_matches_table('column patches');
# a column added with a default: every lake row reads it, as Postgres does
$node->safe_psql('postgres', "ALTER TABLE t ADD COLUMN extra int DEFAULT 42");
my $lv = lake_read();
is_deeply($lv->{fields}, [qw(id name score grp emb extra)], 'the added column is in the manifest');
is(scalar(grep { ($_->[5] // '') ne '42' } @{ $lv->{rows} }), 0,
	'every lake row has the default of the added column');
is(scalar(@{ $lv->{rows} }), $node->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'as many rows as the table');
$node->safe_psql('postgres', "ALTER TABLE t DROP COLUMN extra");
$node->safe_psql('postgres', "DELETE FROM t WHERE id = 2");	# a version with the column gone
lake_matches_table('the added column dropped');

# ------------------------------------------- kill -9 between commit and put --
my $before = latest_committed();
my ($in, $out, $err) = ('', '', '');
IPC::Run::run(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  "SET vlake.fault_points = 'publish_before_put:crash'; DELETE FROM t WHERE id % 17 = 0" ],
	'<', \$in, '>', \$out, '2>', \$err);
like($err, qr/server closed the connection|terminated/, 'the backend died after its commit');
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not recover';
is(latest_committed(), $before + 1, 'the version was committed');
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE id % 17 = 0"), '0',
	'the deletes were committed');
ok(!-e sprintf("$root/_manifest/%020d.json", $before + 1), 'and it is not published');
is($node->safe_psql('postgres', "SELECT vlake.table_publish('t')"), '1',
	'vlake.table_publish() publishes it');
is($node->safe_psql('postgres', "SELECT vlake.table_publish('t')"), '0', 'a second run has nothing to do');
chain_complete('after the crash');
lake_matches_table('after the crash');

# ---------------------------------------- the workers' publication task --
# (the workers' compaction would take versions of its own: off)
$node->append_conf('postgresql.conf',
	"vlake.worker_databases = 'postgres'\nvlake.publish_naptime = 1\n"
	  . "vlake.compact_naptime = 86400\nvlake.compact_min_savings = 1\nvlake.compact_small_segment_rows = 0\n");
$node->restart;
$before = latest_committed();
IPC::Run::run(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  "SET vlake.fault_points = 'publish_before_put:crash'; INSERT INTO t VALUES (9002, 'x'); SELECT vlake.flush('t')" ],
	'<', \$in, '>', \$out, '2>', \$err);
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not recover';
is(latest_committed(), $before + 1, 'another version committed before the crash');
my $key = sprintf("$root/_manifest/%020d.json", $before + 1);
my $found = 0;
for (1 .. 300)
{
	if (-e $key) { $found = 1; last; }
	select(undef, undef, undef, 0.1);
}
ok($found, 'the publication task published it');
chain_complete('after the task');
lake_matches_table('after the task');

$node->stop;
done_testing();
