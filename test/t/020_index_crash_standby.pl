# vlake index: kill -9 during REINDEX leaves the previous index usable and
# the build restartable; a physical standby returns the same results as the
# primary (the metapage and delta are WAL-logged, the lake files shared);
# kill -9 during a merge loses no row.
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
maintenance_work_mem = '64MB'
restart_after_crash = on
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION vlake;
CREATE TABLE items (id int PRIMARY KEY, embedding vector(64));
INSERT INTO items
SELECT i, (SELECT array_agg(sin((i % 50) * 3.1 + j) * 3 + sin(i * 1.7 + j * 2.3) ORDER BY j)::real[]::vector
           FROM generate_series(1, 64) j)
FROM generate_series(1, 40000) i;
CREATE INDEX items_idx ON items USING vlake (embedding vector_l2_ops);
});

# ids of the 10 nearest rows for a few queries, through the index
my $probe = q{
SET enable_seqscan = off;
SELECT string_agg(ids, ' ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',') FROM (
      SELECT id FROM items
      ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = q) LIMIT 10) s) AS ids
  FROM generate_series(1, 4000, 397) q) z;
};
my $before = $primary->safe_psql('postgres', $probe);
ok($before =~ /,/, 'index answers before the crash');

# ---- kill -9 while REINDEX is building ----
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, "\\echo started\nREINDEX INDEX items_idx;\n");
my $killed = 0;
for (my $i = 0; $i < 6000 && !$killed; $i++)
{
	my $phase = $primary->safe_psql('postgres',
		"SELECT phase FROM pg_stat_progress_create_index WHERE pid = $pid");
	if ($phase =~ /building index/)
	{
		kill 'KILL', $pid;
		$killed = 1;
	}
	usleep(5_000) unless $killed;
}
ok($killed, 'backend killed while the index was being built');
eval { $bg->quit; };
$primary->poll_query_until('postgres', 'SELECT true') or die 'server did not restart';

is($primary->safe_psql('postgres', $probe), $before,
	'after kill -9 during REINDEX the previous index answers as before');
$primary->safe_psql('postgres', 'REINDEX INDEX items_idx');
my $after_reindex = $primary->safe_psql('postgres', $probe);
ok($after_reindex =~ /,/, 'REINDEX restarts cleanly after the crash');

# ---- physical standby ----
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->start;

# writes after the backup: delta rows and a merge, replayed by the standby
$primary->safe_psql('postgres', q{
INSERT INTO items
SELECT i, (SELECT array_agg(cos(i * 0.37 + j) * 5 ORDER BY j)::real[]::vector FROM generate_series(1, 64) j)
FROM generate_series(40001, 40300) i;
DELETE FROM items WHERE id % 97 = 0;
});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $probe), $primary->safe_psql('postgres', $probe),
	'standby returns the same results as the primary (delta, deletes)');

$primary->safe_psql('postgres', 'VACUUM items');
$primary->safe_psql('postgres', q{SELECT vlake.merge('items_idx')});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $probe), $primary->safe_psql('postgres', $probe),
	'standby returns the same results as the primary after a merge');
is($standby->safe_psql('postgres', q{SELECT lake_vectors, delta_vectors, tombstones FROM vlake.index_info('items_idx')}),
	$primary->safe_psql('postgres', q{SELECT lake_vectors, delta_vectors, tombstones FROM vlake.index_info('items_idx')}),
	'standby metapage names the same lake part');

# wide bit strings: the metapage's bitlen (set by a build, and by the first
# insert into an index built empty, where pd_lower grows over it) reaches
# the standby and survives crash recovery; distances are compared with a
# sequential scan's (the oracle), per query as sorted lists
$primary->safe_psql('postgres', q{
CREATE TABLE wb (id int, b bit varying);
CREATE INDEX wb_idx ON wb USING vlake (b bit_hamming_ops);
INSERT INTO wb SELECT i, (SELECT ('x' || string_agg(md5(i % 9 || ':' || j || CASE WHEN j % 7 = i % 7 THEN i::text ELSE '' END), '' ORDER BY j))::bit varying
                          FROM generate_series(1, 160) j)
  FROM generate_series(1, 300) i;
CREATE TABLE wb2 AS SELECT * FROM wb;
CREATE INDEX wb2_idx ON wb2 USING vlake (b bit_jaccard_ops);
});
my $wprobe = q{
SET enable_seqscan = %s; SET enable_indexscan = %s; SET vlake.probes = 100; SET vlake.rerank_epsilon = 10;
SELECT string_agg(ds, ' ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(d::text, ',' ORDER BY d) FROM (
      SELECT b <~> (SELECT b FROM wb WHERE id = q) AS d FROM wb
      ORDER BY b <~> (SELECT b FROM wb WHERE id = q) LIMIT 8) s) ||
     (SELECT string_agg(d::text, ',' ORDER BY d) FROM (
      SELECT b <%> (SELECT b FROM wb2 WHERE id = q) AS d FROM wb2
      ORDER BY b <%> (SELECT b FROM wb2 WHERE id = q) LIMIT 8) s) AS ds
  FROM generate_series(1, 300, 37) q) z;
};
my $wexact = $primary->safe_psql('postgres', sprintf($wprobe, 'on', 'off'));
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SELECT string_agg(dims::text, ',') FROM (SELECT (vlake.index_info(i)).dims FROM unnest(ARRAY['wb_idx', 'wb2_idx']::regclass[]) i) x}),
	'20480,20480', 'standby: wide bit indexes report their bit length');
is($standby->safe_psql('postgres', sprintf($wprobe, 'off', 'on')), $wexact,
	'standby: wide bit indexes return the exact top 8 (delta and lake part)');
$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', sprintf($wprobe, 'off', 'on')), $wexact,
	'after crash recovery: wide bit indexes return the exact top 8');

# ---- kill -9 during a merge: nothing lost ----
$primary->safe_psql('postgres', q{
INSERT INTO items
SELECT i, (SELECT array_agg(sin(i * 0.11 + j * 0.5) * 4 ORDER BY j)::real[]::vector FROM generate_series(1, 64) j)
FROM generate_series(50001, 52000) i;
});
$bg = $primary->background_psql('postgres', on_error_stop => 0);
$pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, "\\echo started\nSELECT vlake.merge('items_idx');\n");
usleep(50_000);
kill 'KILL', $pid;
eval { $bg->quit; };
$primary->poll_query_until('postgres', 'SELECT true') or die 'server did not restart';
my $missing = $primary->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FROM items i1 WHERE id > 50000 AND id % 40 = 0 AND
  (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) <> i1.id;
});
is($missing, '0', 'rows inserted before a killed merge are all found');
$primary->safe_psql('postgres', q{SELECT vlake.merge('items_idx')});
is($primary->safe_psql('postgres', q{SELECT delta_vectors FROM vlake.index_info('items_idx')}), '0',
	'a later merge completes');
is($primary->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FROM items i1 WHERE id > 50000 AND id % 40 = 0 AND
  (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) <> i1.id;
}), '0', 'and every row is still found');

# ---- concurrent inserts during a merge lose nothing ----
$primary->safe_psql('postgres', q{
INSERT INTO items
SELECT i, (SELECT array_agg(sin(i * 0.23 + j * 0.7) * 4 ORDER BY j)::real[]::vector FROM generate_series(1, 64) j)
FROM generate_series(60001, 61000) i;
});
$bg = $primary->background_psql('postgres', on_error_stop => 1);
$bg->query_until(qr/started/, "\\echo started\nSELECT vlake.merge('items_idx');\n");
# inserts in separate transactions while the merge runs
for my $k (0 .. 19)
{
	my $lo = 70001 + $k * 50;
	my $hi = $lo + 49;
	$primary->safe_psql('postgres', qq{
INSERT INTO items
SELECT i, (SELECT array_agg(cos(i * 0.29 + j * 0.3) * 4 ORDER BY j)::real[]::vector FROM generate_series(1, 64) j)
FROM generate_series($lo, $hi) i;
});
}
$bg->quit;
is($primary->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FROM items i1 WHERE id > 60000 AND id % 7 = 0 AND
  (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) <> i1.id;
}), '0', 'rows inserted before and during a merge are all found');
is($primary->safe_psql('postgres', q{SELECT lake_vectors + delta_vectors FROM vlake.index_info('items_idx')}),
	$primary->safe_psql('postgres', q{SELECT count(*) FROM items}),
	'lake part + delta hold every row after a merge with concurrent inserts');

# ---- a build past maintenance_work_mem (spill file + reservoir sample) ----
$primary->safe_psql('postgres', q{
SET maintenance_work_mem = '1MB';
REINDEX INDEX items_idx;
});
my $exact = $primary->safe_psql('postgres', q{
SET enable_indexscan = off;
SELECT string_agg(ids, ' ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',' ORDER BY id) FROM (
      SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = q) LIMIT 10) s) AS ids
  FROM generate_series(1, 4000, 101) q WHERE q % 97 <> 0) z;
});
my $approx = $primary->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT string_agg(ids, ' ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',' ORDER BY id) FROM (
      SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = q) LIMIT 10) s) AS ids
  FROM generate_series(1, 4000, 101) q WHERE q % 97 <> 0) z;
});
my ($hits, $total) = (0, 0);
my @e = split / /, $exact;
my @a = split / /, $approx;
for my $i (0 .. $#e)
{
	my %want = map { $_ => 1 } split /,/, $e[$i];
	for my $id (split /,/, $a[$i]) { $hits++ if $want{$id}; }
	$total += scalar(keys %want);
}
cmp_ok($hits / ($total || 1), '>=', 0.95,
	"index built past maintenance_work_mem: recall@10 against exact search >= 0.95");

$standby->stop;
$primary->stop;
done_testing();
