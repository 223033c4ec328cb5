# vlake index past 2,000 dimensions under crashes and on a standby: a delta
# item of a 16,000-d vector spans eight pages, appended by several WAL
# records (src/index/vlindex_delta.c).  A backend that crashes between two
# of them (fault point index_delta_chunk, action crash: abort(), the server
# restarts and replays) leaves an unfinished item that no scan returns;
# inserts after it work; a physical standby replays the chunked items and
# returns what the primary returns; a merge after the crash folds exactly
# the committed rows.  The oracle is exact search (sequential scan + sort).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

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
$primary->safe_psql('postgres', q{
CREATE EXTENSION vlake;
CREATE FUNCTION gv(i int) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(cos((abs(i) % 5) * 2.3 + j * 0.011) + hashint4(i * 104729 + j) / 2147483648.0 * 0.7
                   ORDER BY j)::real[]::vector
  FROM generate_series(1, 16000) j
$$;
CREATE TABLE g (id int PRIMARY KEY, v vector(16000));
INSERT INTO g SELECT i, gv(i) FROM generate_series(1, 30) i;
CREATE INDEX g_vl ON g USING vlake (v vector_l2_ops) WITH (lists = 3);
INSERT INTO g SELECT i, gv(i) FROM generate_series(31, 50) i;
});

# ids of the 5 nearest rows of a few queries: through the index (every list
# is probed: lists = 3 < 8 probes) and by exact search
my $knn = q{
SELECT string_agg(ids, ' ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',') FROM (
      SELECT id FROM g ORDER BY v <-> gv(-q) LIMIT 5) s) AS ids
  FROM generate_series(1, 4) q) z;
};
my $index = "SET enable_seqscan = off; $knn";
my $exact = "SET enable_indexscan = off; SET enable_bitmapscan = off; $knn";
my $count = q{SET enable_seqscan = off;
SELECT count(*) || '/' || count(DISTINCT id) FROM (SELECT id FROM g ORDER BY v <-> gv(-1)) s};

is($primary->safe_psql('postgres', $index), $primary->safe_psql('postgres', $exact),
	'16,000-d index with chunked delta items answers as exact search');

# ---- a crash between two records of one item ----
my $log_pos = -s $primary->logfile;
my ($ret, $out, $err) = $primary->psql('postgres',
	"SET vlake.fault_points = 'index_delta_chunk:crash'; INSERT INTO g VALUES (1001, gv(1001));");
isnt($ret, 0, 'the insert died at the fault point');
like(slurp_file($primary->logfile, $log_pos), qr/vlake fault point index_delta_chunk reached: crashing/,
	'the backend crashed between two pages of its item');
$primary->poll_query_until('postgres', 'SELECT true') or die 'server did not restart';

is($primary->safe_psql('postgres', $count), '50/50',
	'after recovery every committed row is returned once, the unfinished item never');
is($primary->safe_psql('postgres', 'SELECT delta_vectors FROM vlake.index_info(\'g_vl\')'), '20',
	'the unfinished item is not counted');
$primary->safe_psql('postgres', 'INSERT INTO g SELECT i, gv(i) FROM generate_series(51, 60) i');
is($primary->safe_psql('postgres', $index), $primary->safe_psql('postgres', $exact),
	'inserts after the crash: index answers as exact search');
is($primary->safe_psql('postgres', $count), '60/60', 'rows after the unfinished item are found');

# ---- physical standby ----
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres', q{
INSERT INTO g SELECT i, gv(i) FROM generate_series(61, 70) i;
DELETE FROM g WHERE id IN (5, 44, 62);
VACUUM g;
});
$primary->wait_for_catchup($standby, 'replay');
my $p = $primary->safe_psql('postgres', $index);
is($standby->safe_psql('postgres', $index), $p, 'the standby answers as the primary (chunked delta replayed)');
is($p, $primary->safe_psql('postgres', $exact), 'and as exact search after VACUUM');
is($standby->safe_psql('postgres', $count), '67/67', 'the standby returns every row once');

# ---- merge, then the standby again ----
is($primary->safe_psql('postgres', "SELECT vlake.merge('g_vl')"), '67', 'the merge folds exactly the committed rows');
$primary->wait_for_catchup($standby, 'replay');
$p = $primary->safe_psql('postgres', $index);
is($p, $primary->safe_psql('postgres', $exact), 'after the merge: index answers as exact search');
is($standby->safe_psql('postgres', $index), $p, 'the standby answers as the primary after the merge');

$standby->stop;
$primary->stop;
done_testing();
