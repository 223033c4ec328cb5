# The embedded lake and DROP DATABASE:
#  1. on a fresh cluster with no vlake setting at all, a first CREATE INDEX
#     ... USING vlake succeeds, writes its part under $PGDATA/vlake_lake,
#     and answers like exact search;
#  2. after DROP DATABASE, GC passes run from another database remove every
#     part of the dropped database, and nothing else: not the parts of a
#     live database, not a part of another cluster (another system
#     identifier) nor a part of unknown origin left under the dropped
#     database's OID;
#  3. the background worker of a listed database does the same by itself,
#     also at a location only the dropped database used (the cluster's
#     registry of lake roots, $PGDATA/vlake_locations, leads it there).
# The oracle is the lake directory on disk and a sequential scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Path qw(make_path);

my $node = PostgreSQL::Test::Cluster->new('embedded');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'vlake'
vlake.worker_databases = 'postgres'
vlake.index_merge_naptime = 1
autovacuum = off
});
# section 3 only: a second lake, used by nothing but a database it drops
my $lake2 = PostgreSQL::Test::Utils::tempdir('vlake_lake2');
$node->start;
my $lake = $node->data_dir . '/vlake_lake';

my $vec = q{(SELECT array_agg(sin(i * 0.731 + j * 1.37) * 3 + cos(i * 0.119 * j) ORDER BY j)::real[]::vector
             FROM generate_series(1, 16) j)};
sub make_index
{
	my ($db, $with) = @_;
	$with //= '';
	$node->safe_psql($db, qq{
CREATE EXTENSION vlake;
CREATE TABLE t (id int PRIMARY KEY, embedding vector(16));
INSERT INTO t SELECT i, $vec FROM generate_series(1, 2000) i;
CREATE INDEX t_idx ON t USING vlake (embedding vector_l2_ops) $with;
});
}

# nearest neighbour of 50 rows through the index vs a sequential scan
sub mismatches
{
	my ($db) = @_;
	my $q = q{SELECT string_agg((SELECT t2.id FROM t t2 ORDER BY t2.embedding <-> t1.embedding LIMIT 1)::text, ',' ORDER BY t1.id)
	          FROM t t1 WHERE t1.id % 40 = 0};
	my $ann = $node->safe_psql($db, "SET enable_seqscan = off; SET vlake.probes = 1000; $q");
	my $exact = $node->safe_psql($db, "SET enable_indexscan = off; SET enable_bitmapscan = off; $q");
	return $ann eq $exact ? 0 : "$ann\n$exact";
}

# part directories (with files) under the embedded lake, by database OID
sub parts_of
{
	my ($oid, $where) = @_;
	my $root = ($where // $lake) . "/vlake_index";
	return () unless -d $root;
	opendir(my $d, $root) or die "opendir $root: $!";
	my @p = sort grep { /^db${oid}_/ && -d "$root/$_" } readdir($d);
	closedir($d);
	return grep {
		opendir(my $pd, "$root/$_") or die;
		my @files = grep { !/^\./ } readdir($pd);
		closedir($pd);
		scalar(@files) > 0;
	} @p;
}

# ---- 1. the embedded lake needs no setting ----
make_index('postgres');
is($node->safe_psql('postgres', q{SELECT location FROM vlake.index_info('t_idx')}),
	"file://$lake/", 'the index location is the embedded lake');
my $pg_oid = $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'postgres'});
is(scalar(parts_of($pg_oid)), 1, 'its part is under $PGDATA/vlake_lake');
is(mismatches('postgres'), 0, 'the index answers like exact search');

# ---- 2. DROP DATABASE, then GC from another database ----
$node->safe_psql('postgres', 'CREATE DATABASE keep');
$node->safe_psql('postgres', 'CREATE DATABASE dropme');
make_index('keep');
make_index('dropme');
my $keep_oid = $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'keep'});
my $drop_oid = $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'dropme'});
# a REINDEX leaves a replaced part of dropme behind too
$node->safe_psql('dropme', 'REINDEX INDEX t_idx');
is(scalar(parts_of($drop_oid)), 2, 'dropme has its part and a replaced one');
my @keep_parts = parts_of($keep_oid);
is(scalar(@keep_parts), 1, 'keep has its part');

# parts GC must never touch: another cluster's, and one of unknown origin
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');
my $other = sprintf('%016x', ($sysid + 1) % (2**53));
my @foreign = ("db${drop_oid}_rel1_6560f00d000001_0123456789abcdef_c${other}_x2a",
			   "db${drop_oid}_rel2_6560f00d000002_0123456789abcdef");
for my $f (@foreign)
{
	make_path("$lake/vlake_index/$f");
	open(my $fh, '>', "$lake/vlake_index/$f/index.meta") or die;
	print $fh "not ours\n";
	close($fh);
}

$node->safe_psql('postgres', 'DROP DATABASE dropme');
my $gone = 0;
for (1 .. 30)
{
	$node->safe_psql('keep', 'SELECT count(*) FROM vlake.index_gc()');
	my @left = grep { !/_c\Q$other\E_|_0123456789abcdef$/ } parts_of($drop_oid);
	if (!@left) { $gone = 1; last; }
	sleep(1);
}
ok($gone, 'GC passes from another database removed every part of the dropped database');
is_deeply([ parts_of($keep_oid) ], \@keep_parts, 'the live database keeps its part');
ok(-f "$lake/vlake_index/$_/index.meta", "a part GC must not touch is kept: $_") for @foreign;
is(mismatches('keep'), 0, 'the live database\'s index still answers like exact search');
is(mismatches('postgres'), 0, 'so does the first database\'s');

# ---- 3. the worker of a listed database does it by itself ----
$node->append_conf('postgresql.conf', "vlake.allowed_file_roots = '$lake2'");
$node->reload;
$node->safe_psql('postgres', 'CREATE DATABASE dropme2');
make_index('dropme2');
$node->safe_psql('dropme2', qq{CREATE INDEX t_idx2 ON t USING vlake (embedding vector_l2_ops) WITH (location = 'file://$lake2/')});
my $drop2_oid = $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'dropme2'});
is(scalar(parts_of($drop2_oid)), 1, 'dropme2 has its part in the embedded lake');
is(scalar(parts_of($drop2_oid, $lake2)), 1, 'and one in a lake only it uses');
my $registry = slurp_file($node->data_dir . '/vlake_locations');
ok((grep { $_ eq "file://$lake2/" } split(/\n/, $registry)),
	'the cluster recorded the second lake as a root it wrote to');
$node->safe_psql('postgres', 'DROP DATABASE dropme2');
$gone = 0;
for (1 .. 900)
{
	if (!parts_of($drop2_oid) && !parts_of($drop2_oid, $lake2)) { $gone = 1; last; }
	select(undef, undef, undef, 0.1);
}
ok($gone, 'the worker of another database removed the dropped database\'s parts by itself, in both lakes');
is_deeply([ parts_of($keep_oid) ], \@keep_parts, 'and left the live database\'s part alone');

$node->stop;
done_testing();
