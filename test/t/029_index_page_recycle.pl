# vlake index pages replaced by merges (sealed delta, tombstones, the copy
# of index.meta) are reused once no snapshot can need them: the index stops
# growing over insert/merge/VACUUM cycles, a snapshot older than a merge
# keeps the replaced pages from being recycled, and every row stays findable
# (exact nearest neighbour of each sampled row is the row itself, checked
# against the table).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $lake = PostgreSQL::Test::Utils::tempdir('vlake_lake');
my $node = PostgreSQL::Test::Cluster->new('recycle');
$node->init;
$node->append_conf('postgresql.conf', qq{
vlake.allowed_file_roots = '$lake'
vlake.default_location = 'file://$lake'
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION vlake;
CREATE TABLE items (id int, v vector(64));
CREATE FUNCTION vec(i int) RETURNS vector LANGUAGE sql IMMUTABLE AS
  $$ SELECT (SELECT array_agg(sin(i * 0.37 + j * 1.3) ORDER BY j) FROM generate_series(1, 64) j)::real[]::vector $$;
INSERT INTO items SELECT i, vec(i) FROM generate_series(1, 2000) i;
CREATE INDEX items_idx ON items USING vlake (v vector_l2_ops) WITH (lists = 8);
});

# one cycle: 1,000 new rows (the delta: ~35 pages), 200 deleted, merge, VACUUM
sub cycle
{
	my ($k) = @_;
	my $lo = 2000 + ($k - 1) * 1000 + 1;
	my $hi = $lo + 999;
	$node->safe_psql('postgres', qq{
INSERT INTO items SELECT i, vec(i) FROM generate_series($lo, $hi) i;
DELETE FROM items WHERE id % 50 = $k;
VACUUM items;
SELECT vlake.merge('items_idx');
VACUUM items;
});
	return $node->safe_psql('postgres', q{SELECT pg_relation_size('items_idx') / 8192});
}

# every sampled row is its own nearest neighbour through the index (all
# lists probed), and no deleted row comes back
sub all_found
{
	return $node->safe_psql('postgres', q{
SET enable_seqscan = off; SET vlake.probes = 8;
SELECT count(*) FROM (SELECT id, v FROM items WHERE id % 37 = 0) s
 WHERE (SELECT i2.id FROM items i2 ORDER BY i2.v <-> s.v LIMIT 1) <> s.id;
});
}

# A chain retired by a merge is recycled once the oldest snapshot is newer
# than the merge: after some transaction ID has been used since (txid_current).
my @sizes;
push @sizes, cycle($_) for 1 .. 6;
$node->safe_psql('postgres', 'SELECT txid_current()');
$node->safe_psql('postgres', 'VACUUM items');
note("index pages after each cycle: @sizes");
cmp_ok($sizes[5], '<=', $sizes[1] + 4,
	"the index stops growing once merged pages are recycled (@sizes)");
is($node->safe_psql('postgres', q{SELECT retired_chains FROM vlake.index_info('items_idx')}),
	'0', 'VACUUM recycled every retired chain');
is(all_found(), '0', 'every row is found after six recycle cycles');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off; SET vlake.probes = 8;
SELECT count(*) FROM items WHERE id % 50 BETWEEN 1 AND 6 AND id <= 2000}), '0',
	'deleted rows are gone from the table');

# a snapshot older than the merge holds the replaced pages back
my $old = $node->background_psql('postgres');
$old->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$old->query_safe('SELECT count(*) FROM items');
$node->safe_psql('postgres', q{
INSERT INTO items SELECT i, vec(i) FROM generate_series(9001, 9500) i;
SELECT vlake.merge('items_idx');
});
$node->safe_psql('postgres', 'SELECT txid_current()');
$node->safe_psql('postgres', 'VACUUM items');
my $held = $node->safe_psql('postgres', q{SELECT retired_chains FROM vlake.index_info('items_idx')});
cmp_ok($held, '>=', 1, 'a merged chain is not recycled while an older snapshot lives');
is($old->query_safe(q{SET enable_seqscan = off; SET vlake.probes = 8;
SELECT count(*) FROM (SELECT id, v FROM items WHERE id % 37 = 0) s
 WHERE (SELECT i2.id FROM items i2 ORDER BY i2.v <-> s.v LIMIT 1) <> s.id}),
	'0', 'the old snapshot still finds its rows');
$old->query_safe('COMMIT');
$old->quit;
$node->safe_psql('postgres', 'SELECT txid_current()');
$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', q{SELECT retired_chains FROM vlake.index_info('items_idx')}),
	'0', 'recycled once the snapshot ended');
is(all_found(), '0', 'every row is found after recycling');

# crash after recycling: WAL replay gives the same free pages and chains
$node->stop('immediate');
$node->start;
$node->safe_psql('postgres', q{INSERT INTO items SELECT i, vec(i) FROM generate_series(9501, 9800) i});
is(all_found(), '0', 'every row is found after a crash and new inserts into reused pages');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off; SET vlake.probes = 8;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> vec(9700) LIMIT 1) x WHERE id = 9700}),
	'1', 'a row inserted into a reused page is found');
$node->stop;
done_testing();
