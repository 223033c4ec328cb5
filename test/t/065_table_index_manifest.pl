# The lake parts of vlake indexes in the manifests of vlake tables, read by
# an independent reader (docs/manifest.md, "Indexes"; docs/tables.md,
# "Indexes in the manifest"):
#  - a table with lake rows (flush, COPY), deleted lake rows, delta rows and a
#    vlake index (and a btree, which is not listed); rows appended and
#    deleted after the build.  test/tools/table_manifest_read.mjs reads the
#    latest manifest and the index part it names from the lake directory
#    alone (index.meta and codes.bin as docs/index-format.md lays them out,
#    checksums included; the part has no vectors.bin: its re-rank reads the
#    vector field of the version's ColumnGroups) and uses it as the manifest
#    spec says: every row of [first_row_id, end_row_id) of the version has
#    its entry there, and the exact top 10 of queries found from the
#    part plus a scan of the rows outside its range equal Postgres' exact
#    ORDER BY (the oracle);
#  - every published manifest passes the independent checker
#    test/tools/manifest_check.mjs;
#  - kill -9 between the commit of a REINDEX and its publication: the
#    version is committed, vlake.table_publish() publishes it, and it names
#    the part the index uses (the manifest is rebuilt from the catalog);
#  - the index maintenance task of the database workers merges the index:
#    the next manifest names the merged part, which the reader uses again;
#  - DROP INDEX publishes a version without it.
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
my $node = PostgreSQL::Test::Cluster->new('table_index_manifest');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'vlake'\nvlake.allowed_file_roots = '$lake'\n"
	  . "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');

my @queries = ([ 2050.3, 3.1, 1.2 ], [ 500.3, 3.1, 1.2 ], [ 4321.7, 0.2, 2.9 ],
	[ 2.2, 6.4, 0.1 ], [ 5508.1, 1.5, 1.5 ]);

# The reader's view of the latest version (or $version).
sub lake_read
{
	my ($version) = @_;
	my ($out, $err);
	IPC::Run::run(
		[ 'node', "$tools/table_manifest_read.mjs", $root, (defined $version ? ($version) : ()),
		  '--queries=' . encode_json(\@queries), '--k=10' ],
		'>', \$out, '2>', \$err)
	  or die "table_manifest_read failed: $err";
	return JSON::PP->new->decode($out);
}

# Postgres' exact top 10 of a query among the rows in the lake (a TID
# block >= 2^31; the delta is not published), no index, as ids.
sub exact_top10
{
	my ($q) = @_;
	my $v = '[' . join(',', @$q) . ']';
	return $node->safe_psql('postgres', qq{
		SET enable_indexscan = off; SET enable_bitmapscan = off;
		SELECT string_agg(id::text, ',' ORDER BY d, id)
		  FROM (SELECT id, emb <-> '$v' AS d FROM t
		         WHERE emb IS NOT NULL AND (ctid::text::point)[0] >= 2147483648
		         ORDER BY emb <-> '$v', id LIMIT 10) x});
}

# The reader finds the index, the part is complete and usable.
sub reader_uses_index
{
	my ($name, $expect_location) = @_;
	my $view = lake_read();
	my @ix = grep { $_->{name} eq 't_emb' } @{ $view->{indexes} };
	is(scalar(@ix), 1, "$name: the manifest lists t_emb");
	my $ix = $ix[0];
	is_deeply([ sort map { $_->{name} } @{ $view->{indexes} } ], ['t_emb'],
		"$name: and no other index (the btree is Postgres-only)");
	is($ix->{field_id}, 3, "$name: field id = attnum of emb");
	is($ix->{location}, $expect_location, "$name: the location is the part the index uses")
	  if defined $expect_location;
	like($ix->{location}, qr{^vlake_index/db\d+_rel\d+_[^/]+/$}, "$name: a path under the dataset root");
	is($ix->{part}{missing}, 0, "$name: every row of [first_row_id, end_row_id) has its entry");
	is($ix->{part}{rerank}, 'table', "$name: no vectors.bin, the re-rank reads the ColumnGroup");
	is($ix->{part}{mismatched}, 0, "$name: with the vector of the ColumnGroup");
	cmp_ok($ix->{part}{used}, '>', 1000, "$name: the part serves most rows ($ix->{part}{used})");
	for my $i (0 .. $#queries)
	{
		my $got = join(',', map { $_->[0] } @{ $ix->{topk}[$i] });
		is($got, exact_top10($queries[$i]),
			"$name: query $i: part + scan beyond its range = Postgres' exact top 10");
	}
	return $ix;
}

# Every published manifest passes the independent checker.
sub all_manifests_check
{
	my ($name) = @_;
	opendir(my $d, "$root/_manifest") or die;
	my @files = map { "$root/_manifest/$_" } sort grep { /^[0-9]{20}\.json$/ } readdir($d);
	closedir $d;
	my ($out, $err);
	my $ok = IPC::Run::run([ 'node', "$tools/manifest_check.mjs", @files ], '>', \$out, '2>', \$err);
	ok($ok, "$name: manifest_check.mjs accepts all " . scalar(@files) . " manifests") or diag($err);
}

sub current_location
{
	return $node->safe_psql('postgres',
		"SELECT regexp_replace(files[1], '[^/]*\$', '') FROM vlake.index_info('t_emb')");
}

sub latest_committed
{
	return $node->safe_psql('postgres',
		"SELECT version FROM vlake.datasets WHERE relid = 't'::regclass");
}

# ------------------------------------------------------ a table and its index --
my $csv = "$lake/copy.tsv";
open(my $fh, '>', $csv) or die;
printf $fh "%d\tc%d\t[%d,%d,%d]\n", $_, $_, $_, $_ % 7, $_ % 3 for 3001 .. 5000;
close $fh;
$node->safe_psql('postgres', qq{
	SET vlake.copy_lake_threshold = 0;
	SET vlake.segment_rows = 1000;
	CREATE TABLE t (id int NOT NULL, note text, emb vector(3)) USING vlake WITH (location = 'file://$root');
	INSERT INTO t SELECT i, 'n' || i, ARRAY[i, i % 7, i % 3] FROM generate_series(1, 3000) i;
	SELECT vlake.flush('t');
	COPY t FROM '$csv';
	DELETE FROM t WHERE id % 13 = 0;
	INSERT INTO t SELECT i, 'd' || i, CASE WHEN i % 10 <> 0 THEN ARRAY[i, i % 7, i % 3]::real[]::vector END
	  FROM generate_series(5001, 5200) i;
	CREATE INDEX t_emb ON t USING vlake (emb vector_l2_ops) WITH (lists = 20);
	CREATE INDEX t_id ON t (id);
});
# after the build: rows beyond its range (flushed delta rows, a COPY), deletes in it
open($fh, '>', $csv) or die;
printf $fh "%d\tc%d\t[%d,%d,%d]\n", $_, $_, $_, $_ % 7, $_ % 3 for 5201 .. 5600;
close $fh;
$node->safe_psql('postgres', qq{
	SET vlake.copy_lake_threshold = 0;
	SELECT vlake.flush('t');
	COPY t FROM '$csv';
	DELETE FROM t WHERE id % 17 = 0;
	INSERT INTO t SELECT i, 'x', ARRAY[i, 1, 1] FROM generate_series(5601, 5620) i;
});
my $ix = reader_uses_index('after the build', current_location());
is($ix->{end_row_id}, 5000, 'the range ends at the rows flushed before the build');
cmp_ok($ix->{part}{delta_refs}, '>', 0, 'entries of delta rows are there, and skipped');
cmp_ok($ix->{part}{scanned_beyond}, '>=', 400, 'rows appended after the build are found by the scan');
all_manifests_check('after the build');

# ------------------------------------- kill -9 between commit and publication --
my $before = latest_committed();
my ($in, $out, $err) = ('', '', '');
IPC::Run::run(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  "SET vlake.fault_points = 'publish_before_put:crash'; REINDEX INDEX t_emb" ],
	'<', \$in, '>', \$out, '2>', \$err);
like($err, qr/server closed the connection|terminated/, 'the backend died after the REINDEX committed');
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not recover';
is(latest_committed(), $before + 1, 'the REINDEX made a version');
ok(!-e sprintf("$root/_manifest/%020d.json", $before + 1), 'which is not published');
is($node->safe_psql('postgres', "SELECT vlake.table_publish('t')"), '1',
	'vlake.table_publish() publishes it');
$ix = reader_uses_index('after the repair', current_location());
is($ix->{data_version}, $before + 1, 'the repaired version names the REINDEX part as of itself');
is($ix->{end_row_id}, $node->safe_psql('postgres',
	"SELECT next_row_id FROM vlake.datasets WHERE relid = 't'::regclass"),
	'and its range covers every lake row');
all_manifests_check('after the repair');

# ------------------------------------------------ the workers merge the index --
$node->append_conf('postgresql.conf',
	"vlake.worker_databases = 'postgres'\nvlake.index_merge_naptime = 1\n"
	  . "vlake.index_merge_threshold = 50\nvlake.flush_naptime = 3600\n");
$node->restart;
my $published = $ix->{location};
$node->safe_psql('postgres', qq{
	SET vlake.copy_lake_threshold = 0;
	INSERT INTO t SELECT i, 'm', ARRAY[i, 2, 2] FROM generate_series(5621, 5720) i;
	SELECT vlake.flush('t');
});
my $merged = 0;
for (1 .. 600)
{
	my $loc = $node->safe_psql('postgres',
		"SELECT x->>'location' FROM jsonb_array_elements(vlake.table_manifest('t')->'indexes') x");
	if ($loc ne $published) { $merged = 1; last; }
	select(undef, undef, undef, 0.1);
}
ok($merged, 'the merge task published a new part');
is($node->safe_psql('postgres',
	"SELECT vlake.table_manifest('t')->'lineage'->>'operation'"), 'index', 'as an index version');
reader_uses_index('after the merge', current_location());
all_manifests_check('after the merge');

# ----------------------------------------------------------------- DROP INDEX --
$node->safe_psql('postgres', 'DROP INDEX t_emb');
is($node->safe_psql('postgres', "SELECT vlake.table_manifest('t')->'indexes'"), '[]',
	'DROP INDEX publishes a version without it');
all_manifests_check('after DROP INDEX');

$node->stop;
done_testing();
