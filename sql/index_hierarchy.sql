-- vlake index: the second level (groups of lists).  A small
-- hierarchy_threshold forces two levels on a small set: queries compare the
-- group centroids, then only the lists of the nearest groups; recall against
-- exact search (a sequential scan: an independent path) stays >= 0.95 and
-- matches the one-level search, and every row stays reachable.
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/index_hierarchy' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';

-- 10,000 clustered 32-d vectors (50 clusters), deterministic (hashint4)
CREATE TABLE items (id int PRIMARY KEY, cat text, embedding vector(32));
INSERT INTO items
SELECT i, CASE WHEN abs(hashint4(i + 7777777)) % 1000 < 5 THEN 'rare' ELSE 'rest' END,
       (SELECT array_agg(sin(c * 13.7 + j * 0.9) * 4 + hashint4(i * 131 + j) / 2147483648.0 * 1.25
                         ORDER BY j)::real[]::vector
        FROM generate_series(1, 32) j)
FROM generate_series(1, 10000) i,
     LATERAL (SELECT abs(hashint4(i)) % 50 AS c) x;
ANALYZE items;
CREATE TABLE queries (qid int, embedding vector(32));
INSERT INTO queries
SELECT q, (SELECT array_agg(sin((q % 50) * 13.7 + j * 0.9) * 4 + hashint4(-q * 131 - j) / 2147483648.0 * 1.25
                            ORDER BY j)::real[]::vector
           FROM generate_series(1, 32) j)
FROM generate_series(1, 40) q;

-- recall@10 of the (forced) index against a sequential scan
CREATE FUNCTION recall(op text, filter text DEFAULT 'true') RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = on;
  EXECUTE format('CREATE TEMP TABLE truth AS SELECT q.qid, x.id FROM queries q,
     LATERAL (SELECT id FROM items WHERE %s ORDER BY embedding %s q.embedding LIMIT 10) x', filter, op);
  SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = off;
  EXECUTE format('CREATE TEMP TABLE got AS SELECT q.qid, x.id FROM queries q,
     LATERAL (SELECT id FROM items WHERE %s ORDER BY embedding %s q.embedding LIMIT 10) x', filter, op);
  SELECT count(*)::float8 / (SELECT count(*) FROM truth) INTO r FROM truth JOIN got USING (qid, id);
  IF (SELECT count(*) FROM got) <> (SELECT count(*) FROM truth) THEN r := -1; END IF;
  DROP TABLE truth; DROP TABLE got;
  RETURN r;
END $$;
-- centroids one query compared (EXPLAIN ANALYZE counters)
CREATE FUNCTION centroids_compared(op text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  SET LOCAL enable_seqscan = off;
  FOR l IN EXECUTE format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
      SELECT id FROM items ORDER BY embedding %s (SELECT embedding FROM queries WHERE qid = 5) LIMIT 10', op) LOOP
    IF l LIKE 'vlake index:%' THEN RETURN substring(l from 'centroids compared=([0-9]+)')::int; END IF;
  END LOOP;
END $$;

-- the threshold is at least 1
CREATE INDEX bad ON items USING vlake (embedding vector_l2_ops) WITH (hierarchy_threshold = 0);

-- 400 lists, threshold 16: two levels (ceil(4 sqrt(400)) = 80 groups).
-- 20 probes, cover 4: whole groups until at least 80 lists, plus the (at
-- most 80) group centroids: at most half the 400 lists, so queries use the
-- second level
SET vlake.probes = 20;
SET vlake.hierarchy_cover = 4;
CREATE INDEX items_l2 ON items USING vlake (embedding vector_l2_ops)
  WITH (lists = 400, hierarchy_threshold = 16);
SELECT lists FROM vlake.index_info('items_l2');
SELECT centroids_compared('<->') BETWEEN 80 + 1 AND 399 AS second_level_used;
SET vlake.hierarchy_cover = 0;
SELECT centroids_compared('<->') = 400 AS cover_0_compares_all;
CREATE TEMP TABLE flat AS SELECT recall('<->') AS r;
SET vlake.hierarchy_cover = 4;
SELECT recall('<->') >= 0.95 AS l2_recall_ok,
       recall('<->') >= (SELECT r FROM flat) - 0.02 AS l2_as_good_as_one_level;
-- a small cover still reaches every list it needs for the first probes
SET vlake.hierarchy_cover = 1;
SELECT centroids_compared('<->') < 80 + 40 AS cover_1_compares_few;
SELECT recall('<->') >= 0.90 AS cover_1_recall_ok;
SET vlake.hierarchy_cover = 4;

-- every row is reachable: a full ordered scan returns each row once, in
-- exhaustive mode and in rounds (which compares the remaining centroids)
SET enable_seqscan = off;
SELECT count(*) = 10000 AS all_rows, count(DISTINCT id) = 10000 AS each_once
  FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 3)) s;
SET vlake.iterative_scan = rounds;
SELECT count(*) = 10000 AS all_rows, count(DISTINCT id) = 10000 AS each_once
  FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 3)) s;
RESET vlake.iterative_scan;
-- and any single row, through the index
SELECT count(*) = 20 AS each_row_found FROM generate_series(1, 10000, 500) i,
  LATERAL (SELECT id FROM items WHERE id = i ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 9) LIMIT 1) x;
RESET enable_seqscan;
-- a 0.5% filter: 10 rows for every query, recall >= 0.95
SELECT recall('<->', 'cat = ''rare''') >= 0.95 AS filtered_recall_ok;

-- rows added after the build are folded into a new part, which keeps its
-- second level (the groups are computed again from the same centroids)
INSERT INTO items
SELECT 10000 + i, 'rest', (SELECT embedding FROM items WHERE id = i) FROM generate_series(1, 300) i;
SELECT vlake.merge('items_l2');
SELECT lake_vectors, delta_vectors FROM vlake.index_info('items_l2');
SELECT centroids_compared('<->') < 400 AS second_level_after_merge;
SET enable_seqscan = off;
SELECT count(*) = 10300 AS all_rows_after_merge
  FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 3)) s;
RESET enable_seqscan;
SELECT recall('<->') >= 0.95 AS l2_recall_after_merge;
DELETE FROM items WHERE id > 10000;
DROP INDEX items_l2;

-- inner product and cosine rank groups with their own measures (IP needs
-- more probes on this set for recall >= 0.95, with one level too)
SET vlake.probes = 30;
SET vlake.hierarchy_cover = 3;
CREATE INDEX items_ip ON items USING vlake (embedding vector_ip_ops)
  WITH (lists = 400, hierarchy_threshold = 16);
SELECT centroids_compared('<#>') < 400 AS ip_second_level_used;
SET vlake.hierarchy_cover = 0;
CREATE TEMP TABLE flat_ip AS SELECT recall('<#>') AS r;
SET vlake.hierarchy_cover = 3;
SELECT recall('<#>') >= 0.95 AS ip_recall_ok,
       recall('<#>') >= (SELECT r FROM flat_ip) - 0.02 AS ip_as_good_as_one_level;
DROP INDEX items_ip;
CREATE INDEX items_cos ON items USING vlake (embedding vector_cosine_ops)
  WITH (lists = 400, hierarchy_threshold = 16);
SELECT centroids_compared('<=>') < 400 AS cosine_second_level_used;
SELECT recall('<=>') >= 0.95 AS cosine_recall_ok;
DROP INDEX items_cos;

RESET vlake.probes;
RESET vlake.hierarchy_cover;
-- below the threshold (default 1,024): one level, every centroid compared
CREATE INDEX items_flat ON items USING vlake (embedding vector_l2_ops) WITH (lists = 400);
SELECT centroids_compared('<->') = 400 AS one_level_below_threshold;
-- a second level that would compare more than half the centroids is not
-- used: 100 lists in 40 groups, 8 probes x cover 8 = 64 lists + 40 groups
DROP INDEX items_flat;
CREATE INDEX items_flat ON items USING vlake (embedding vector_l2_ops)
  WITH (lists = 100, hierarchy_threshold = 16);
SET vlake.probes = 8;
SELECT centroids_compared('<->') = 100 AS no_saving_one_level;
RESET vlake.probes;
DROP INDEX items_flat;

DROP TABLE items, queries;
DROP FUNCTION recall(text, text), centroids_compared(text);
DROP EXTENSION vlake;
