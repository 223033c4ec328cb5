-- pgvector's settings on a vlake index (docs/migrate-from-pgvector.md).
-- 1. vlake.iterative_scan accepts pgvector's values: relaxed_order is
--    vlake's exhaustive mode; strict_order is exhaustive mode that drops a
--    row closer than one already returned, so the output is in order.
-- 2. hnsw.* / ivfflat.* settings (placeholders here: pgvector is not
--    loaded) do nothing for vlake: the first vlake scan of the session that
--    runs while one holds a value other than pgvector's default raises a
--    WARNING naming the vlake setting, once per setting and value.
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/index_pgvector_settings' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';

-- 3,000 clustered 16-d rows, 50 lists
CREATE TABLE items (id int PRIMARY KEY, embedding vector(16));
INSERT INTO items
SELECT i, (SELECT array_agg(sin((abs(hashint4(i)) % 30) * 5.1 + j) * 3 + hashint4(i * 31 + j) / 2147483648.0
                            ORDER BY j)::real[]::vector
           FROM generate_series(1, 16) j)
FROM generate_series(1, 3000) i;
CREATE INDEX items_vl ON items USING vlake (embedding vector_l2_ops) WITH (lists = 50);
ANALYZE items;

-- ---- 1. iterative scan modes
SET vlake.iterative_scan = strict_order;
SHOW vlake.iterative_scan;
SET vlake.iterative_scan = relaxed_order;
SHOW vlake.iterative_scan;		-- the same mode as exhaustive
SET vlake.iterative_scan = off;
SHOW vlake.iterative_scan;
SET vlake.iterative_scan = sorted;	-- not a value
RESET vlake.iterative_scan;

-- a selective filter (2% of the rows) with 2 probed lists: the scan goes
-- exhaustive after its first lists; rows are collected in output order
CREATE FUNCTION filtered(mode text) RETURNS TABLE (rk bigint, id int, d float8) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE qv vector := (SELECT embedding FROM items WHERE id = 17);
BEGIN
  PERFORM set_config('vlake.iterative_scan', mode, true);
  SET LOCAL vlake.probes = 2; SET LOCAL vlake.exhaustive_after = 1;
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = on;
  RETURN QUERY SELECT row_number() OVER (), x.id, x.d FROM (
    SELECT i.id, i.embedding <-> qv AS d FROM items i
     WHERE i.id % 50 = 0 ORDER BY i.embedding <-> qv LIMIT 40) x;
END $$;
-- the exact answer: a sequential scan and a sort
CREATE FUNCTION exact() RETURNS TABLE (id int, d float8) LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = on;
  RETURN QUERY SELECT i.id, i.embedding <-> q.embedding
    FROM items i, (SELECT embedding FROM items WHERE id = 17) q
   WHERE i.id % 50 = 0 ORDER BY 2 LIMIT 40;
END $$;
-- strict_order: in non-decreasing distance order, every row a true match
SELECT count(*) > 0 AS some_rows,
       bool_and(d >= coalesce(prev, 0)) AS in_order,
       bool_and(id % 50 = 0) AS all_match
  FROM (SELECT id, d, lag(d) OVER (ORDER BY rk) AS prev FROM filtered('strict_order')) s;
-- relaxed_order returns k rows, a superset of strict_order's, recall >= 0.95
SELECT count(*) AS relaxed_rows,
       (SELECT count(*) FROM filtered('strict_order') s
         WHERE s.id NOT IN (SELECT id FROM filtered('relaxed_order'))) AS strict_not_in_relaxed,
       (SELECT count(*) FROM filtered('relaxed_order') r JOIN exact() e USING (id)) >= 38 AS recall_ok
  FROM filtered('relaxed_order');
-- off: only the rows of the first probed lists
SELECT count(*) < 40 AS off_stops_early FROM filtered('off');
-- a row closer than rows already returned: two clusters, A on [0, 1] and
-- B on [9, 10], plus one row at 5.1, which k-means puts in B's list; a
-- query at 4.9 probes A's list first (one probe) and turns exhaustive after
-- 1/8 of its rows, then finds the row at 5.1: relaxed_order returns it
-- there, out of order; strict_order drops it
CREATE TABLE ab (id int, v vector(2));
INSERT INTO ab SELECT i, ARRAY[i / 100.0, 0]::vector FROM generate_series(1, 100) i;
INSERT INTO ab SELECT 100 + i, ARRAY[9 + i / 100.0, 0]::vector FROM generate_series(1, 100) i;
INSERT INTO ab VALUES (1000, '[5.1,0]');
CREATE INDEX ab_vl ON ab USING vlake (v vector_l2_ops) WITH (lists = 2);
CREATE FUNCTION ab_scan(mode text) RETURNS TABLE (rk bigint, id int, d float8) LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  PERFORM set_config('vlake.iterative_scan', mode, true);
  SET LOCAL vlake.probes = 1; SET LOCAL vlake.exhaustive_after = 1;
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  RETURN QUERY SELECT row_number() OVER (), x.id, x.d FROM (
    SELECT ab.id, ab.v <-> '[4.9,0]' AS d FROM ab ORDER BY ab.v <-> '[4.9,0]' LIMIT 30) x;
END $$;
SELECT mode, count(*) AS rows_returned,
       count(*) FILTER (WHERE d < prev) AS out_of_order,
       bool_or(id = 1000) AS has_row_at_5_1
  FROM unnest(ARRAY['relaxed_order', 'strict_order']) mode,
       LATERAL (SELECT id, d, lag(d) OVER (ORDER BY rk) AS prev FROM ab_scan(mode)) s
 GROUP BY mode ORDER BY mode;

-- the plan of those queries
SET vlake.probes = 2; SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE id % 50 = 0
  ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 17) LIMIT 40;
RESET vlake.probes; RESET enable_seqscan; RESET enable_bitmapscan;

-- ---- 2. pgvector's settings
CREATE FUNCTION knn() RETURNS SETOF int LANGUAGE sql AS $$
  SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 1) LIMIT 3
$$;
SET enable_seqscan = off;
SET hnsw.ef_search = 100;		-- SET itself says nothing
SELECT count(*) FROM knn();		-- WARNING
SELECT count(*) FROM knn();		-- once per session and value: nothing
SET hnsw.ef_search = 200;
SELECT count(*) FROM knn();		-- a new value: WARNING again
SET hnsw.ef_search = 100;
SELECT count(*) FROM knn();		-- reported already
RESET hnsw.ef_search;
-- pgvector's defaults say nothing
SET hnsw.ef_search = 40;
SET ivfflat.probes = 1;
SET hnsw.iterative_scan = off;
SELECT count(*) FROM knn();
-- no vlake scan, no WARNING: a sequential scan, a plain EXPLAIN
SET ivfflat.probes = 10;
SET enable_seqscan = on; SET enable_indexscan = off;
SELECT count(*) FROM knn();
SET enable_seqscan = off; SET enable_indexscan = on;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 1;
-- the first vlake scan reports it, and every other setting of pgvector
SET hnsw.iterative_scan = strict_order;
SET hnsw.max_scan_tuples = 1000;
SET hnsw.scan_mem_multiplier = 2;
SET ivfflat.iterative_scan = relaxed_order;
SET ivfflat.max_probes = 10;
SELECT count(*) FROM knn();
SELECT count(*) FROM knn();
