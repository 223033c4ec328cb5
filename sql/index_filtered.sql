-- vlake index: filtered queries with selective predicates and no btree on
-- the filter column.  With the index forced, every query returns k rows
-- when k rows match, and recall@10 against an exact filtered ground truth
-- (a sequential scan + sort with index scans disabled: an independent
-- path) is >= 0.95 at 0.2%, 1% and 10% selectivity (measured over five
-- builds: 1.000, 1.000, 0.980-0.997; unfiltered 0.977-0.997).  The scan turns
-- exhaustive when its first probed lists run out of rows or after
-- vlake.exhaustive_after rows
-- (vlake.iterative_scan = exhaustive); the previous behaviour (rounds of
-- vlake.probes lists) is measured too, and is worse at 1%.
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/index_filtered' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';

-- 20,000 clustered 64-d vectors (50 clusters), deterministic: cluster and
-- category and noise come from hashint4 (platform independent).
CREATE TABLE items (id int PRIMARY KEY, cat text, embedding vector(64));
INSERT INTO items
SELECT i,
       CASE WHEN h < 2 THEN 'rare' WHEN h < 12 THEN 'one' WHEN h < 112 THEN 'ten' ELSE 'rest' END,
       (SELECT array_agg(sin(c * 13.7 + j * 0.9) * 4 + hashint4(i * 131 + j) / 2147483648.0 * 1.25
                         ORDER BY j)::real[]::vector
        FROM generate_series(1, 64) j)
FROM generate_series(1, 20000) i,
     LATERAL (SELECT abs(hashint4(i)) % 50 AS c, abs(hashint4(i + 7777777)) % 1000 AS h) x;
ANALYZE items;
SELECT cat, count(*) FROM items GROUP BY cat ORDER BY cat;
CREATE TABLE queries (qid int, embedding vector(64));
INSERT INTO queries
SELECT q, (SELECT array_agg(sin((q % 50) * 13.7 + j * 0.9) * 4 + hashint4(-q * 131 - j) / 2147483648.0 * 1.25
                            ORDER BY j)::real[]::vector
           FROM generate_series(1, 64) j)
FROM generate_series(1, 30) q;

CREATE INDEX items_vl ON items USING vlake (embedding vector_l2_ops);

-- exact filtered top 10 of every query, by a sequential scan (settings are
-- all set explicitly: SET LOCAL lasts until the end of the transaction)
CREATE FUNCTION truth(c text) RETURNS TABLE (qid int, id int) LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  SET LOCAL enable_seqscan = on;
  RETURN QUERY EXECUTE 'SELECT q.qid, x.id FROM queries q,
    LATERAL (SELECT i.id FROM items i WHERE i.cat = $1 ORDER BY i.embedding <-> q.embedding LIMIT 10) x'
    USING c;
END $$;
-- the same through the vlake index (forced)
CREATE FUNCTION got(c text) RETURNS TABLE (qid int, id int) LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
  SET LOCAL enable_indexscan = on;
  RETURN QUERY EXECUTE 'SELECT q.qid, x.id FROM queries q,
    LATERAL (SELECT i.id FROM items i WHERE i.cat = $1 ORDER BY i.embedding <-> q.embedding LIMIT 10) x'
    USING c;
END $$;
CREATE FUNCTION check_filtered(c text, OUT every_query_10_rows bool, OUT recall float8)
LANGUAGE sql AS $$
  WITH g AS (SELECT * FROM got(c)), t AS (SELECT * FROM truth(c))
  SELECT (SELECT count(*) = 30 AND bool_and(n = 10)
            FROM (SELECT count(*) AS n FROM g GROUP BY qid) x),
         (SELECT count(*) FROM g JOIN t USING (qid, id)) / (SELECT count(*) FROM t)::float8
$$;

-- the index is used (forced) and counts its work
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE cat = 'rare'
  ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1) LIMIT 10;
RESET enable_seqscan; RESET enable_bitmapscan;

SELECT c AS category, every_query_10_rows, recall >= 0.95 AS recall_ok
  FROM unnest(ARRAY['rare', 'one', 'ten']) c, LATERAL check_filtered(c);

-- the previous behaviour, rounds of vlake.probes lists: the 1% filter
-- finds its 10 rows in the first lists probed, which hold only part of the
-- nearest matching rows; exhaustive mode (after vlake.exhaustive_after
-- rows) orders the rest exactly
SET vlake.iterative_scan = rounds;
CREATE TEMP TABLE rounds AS SELECT * FROM check_filtered('one');
RESET vlake.iterative_scan;
CREATE TEMP TABLE exhaustive AS SELECT * FROM check_filtered('one');
-- (measured over five builds, whose k-means seeds differ with the index
-- OID: rounds 0.907-0.953, exhaustive 1.000; with the per-query default of
-- issue 13 some builds' rounds reach 0.97 and more, so the check is only
-- that rounds is not better than exhaustive)
SELECT r.every_query_10_rows, e.recall >= 0.95 AS exhaustive_ok,
       r.recall <= e.recall AS rounds_not_better
  FROM rounds r, exhaustive e;
-- vlake.exhaustive_after = 0: exhaustive only once the first lists run out,
-- which is never worse than rounds (equal when no query runs out of its
-- first lists; whether one does depends on the build's k-means seed)
SET vlake.exhaustive_after = 0;
SELECT (SELECT recall FROM check_filtered('one')) >= (SELECT recall FROM rounds) AS not_worse_than_rounds;
RESET vlake.exhaustive_after;
-- off: the first probed lists only, fewer rows than k for the rare category
SET vlake.iterative_scan = off;
SELECT count(*) < 300 AS off_returns_fewer_rows FROM got('rare');
-- "on" still means "keep searching" (exhaustive)
SET vlake.iterative_scan = on;
SHOW vlake.iterative_scan;
SELECT every_query_10_rows FROM check_filtered('rare');
RESET vlake.iterative_scan;

-- every row comes out of a full ordered scan exactly once
SET enable_seqscan = off;
SELECT count(*) = 20000 AS all_rows, count(DISTINCT id) = 20000 AS each_once
  FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 3)) s;
RESET enable_seqscan;

-- planner (costs follow k / selectivity): without a btree on cat, the 10%
-- filter and no filter use the vlake index, the 1% and 0.2% filters a
-- sequential scan + top-N sort (the index would re-rank ~1,000 and ~4,500
-- rows); with a btree on cat, the 1% and 0.2% filters use the btree
CREATE FUNCTION plan_of(c text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; r text := ''; q text := (SELECT embedding::text FROM queries WHERE qid = 7);
BEGIN
  FOR l IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM items %s ORDER BY embedding <-> %L LIMIT 10',
                          CASE WHEN c IS NULL THEN '' ELSE format('WHERE cat = %L', c) END, q) LOOP
    IF l ~ 'Scan' THEN r := r || ' / ' || regexp_replace(l, '^[ ->]*', ''); END IF;
  END LOOP;
  RETURN substr(r, 4);
END $$;
SELECT c AS category, plan_of(c) FROM unnest(ARRAY['ten', 'one', 'rare', NULL]) c;
CREATE INDEX items_cat ON items (cat);
ANALYZE items;
SELECT c AS category, plan_of(c) FROM unnest(ARRAY['ten', 'one', 'rare', NULL]) c;
DROP FUNCTION plan_of(text);

DROP TABLE items, queries;
DROP FUNCTION truth(text), got(text), check_filtered(text);
DROP EXTENSION vlake;
