-- vlake tables: TID range scans and TABLESAMPLE over lake rows as well as
-- the delta.  Oracle: a heap table with the same rows and changes.  Lake
-- row IDs follow COPY order from 0 (docs/tables.md, "Row IDs and TIDs"), so
-- the row with id k was written with row ID k - 1 and has the TID
-- (2147483648 + (k - 1) / 256, 1 + (k - 1) % 256).
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/tables_tid' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';
SET vlake.copy_lake_threshold = 0;
SET vlake.segment_rows = 1000;
SET max_parallel_workers_per_gather = 0;

CREATE TABLE h (id int, g int, e vector(4));
INSERT INTO h SELECT k, k % 13, ARRAY[k, -k, k % 7, 1]::real[]::vector
  FROM generate_series(1, 5000) k;
CREATE TABLE t (LIKE h) USING vlake;
SELECT :'lake' || '/tables_tid.csv' AS csv \gset
COPY h TO :'csv' (FORMAT csv);
COPY t FROM :'csv' (FORMAT csv);
-- changes of lake rows and new delta rows, the same on both
DELETE FROM h WHERE id % 10 = 0 AND id <= 2000;
DELETE FROM t WHERE id % 10 = 0 AND id <= 2000;
UPDATE h SET g = -g WHERE id BETWEEN 3000 AND 3010;
UPDATE t SET g = -g WHERE id BETWEEN 3000 AND 3010;
INSERT INTO h SELECT k, k % 13, ARRAY[k, 0, 0, 1]::real[]::vector FROM generate_series(5001, 5050) k;
INSERT INTO t SELECT k, k % 13, ARRAY[k, 0, 0, 1]::real[]::vector FROM generate_series(5001, 5050) k;
SELECT count(*) AS segments, sum(row_count) AS lake_rows FROM vlake.table_segments('t');

-- ---------------------------------------------------------- TID ranges
CREATE FUNCTION tid_of(k int) RETURNS tid LANGUAGE sql IMMUTABLE AS
  $$ SELECT format('(%s,%s)', 2147483648 + (k - 1) / 256, 1 + (k - 1) % 256)::tid $$;
EXPLAIN (COSTS OFF)
SELECT id FROM t WHERE ctid >= '(2147483652,1)' AND ctid < '(2147483656,1)';
-- lake blocks 4..7: row IDs 1024..2047, the ids 1025..2048 not deleted
SELECT (SELECT count(*) FROM t WHERE ctid >= '(2147483652,1)' AND ctid < '(2147483656,1)') AS n,
       (SELECT count(*) FROM h WHERE id BETWEEN 1025 AND 2048) AS oracle;
SELECT count(*) AS differences FROM (
  (SELECT * FROM t WHERE ctid >= '(2147483652,1)' AND ctid < '(2147483656,1)'
   EXCEPT SELECT * FROM h WHERE id BETWEEN 1025 AND 2048)
  UNION ALL
  (SELECT * FROM h WHERE id BETWEEN 1025 AND 2048
   EXCEPT SELECT * FROM t WHERE ctid >= '(2147483652,1)' AND ctid < '(2147483656,1)')) x;
-- each row at its TID, in TID order
SELECT bool_and(ctid = tid_of(id)) AS tids_from_row_ids,
       bool_and(ctid > prev) AS ascending
  FROM (SELECT ctid, id, lag(ctid, 1, '(0,0)') OVER () AS prev
          FROM t WHERE ctid BETWEEN '(2147483649,200)' AND '(2147483659,17)') x;
-- a range across the delta and the lake's first rows: every delta row (the
-- inserted ones and the new versions of the updated), then row IDs 0..4
SELECT (SELECT count(*) FROM t WHERE ctid <= '(2147483648,5)') AS n,
       (SELECT count(*) FROM h WHERE id > 5000 OR id BETWEEN 3000 AND 3010 OR id <= 5) AS oracle;
-- offsets the executor makes out of bounds: 0 and past a block's rows
SELECT (SELECT count(*) FROM t WHERE ctid > '(2147483648,65535)' AND ctid <= '(2147483650,0)') AS block_1_only,
       (SELECT count(*) FROM h WHERE id BETWEEN 257 AND 512) AS oracle,
       (SELECT count(*) FROM t WHERE ctid >= '(2147483667,1)') AS last_block,
       (SELECT count(*) FROM h WHERE id BETWEEN 4865 AND 5000) AS oracle_last,
       (SELECT count(*) FROM t WHERE ctid > '(4294967294,1)') AS beyond_every_row;
-- the same answers as a sequential scan filtering on ctid
SET enable_tidscan = off;
CREATE TEMP TABLE seq AS SELECT ctid AS c, * FROM t WHERE ctid >= '(2147483650,100)' AND ctid < '(2147483662,3)';
RESET enable_tidscan;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE c IS NULL OR r IS NULL) AS differences
  FROM seq FULL JOIN (SELECT ctid AS r, * FROM t
                       WHERE ctid >= '(2147483650,100)' AND ctid < '(2147483662,3)') tr
       ON c = r AND seq.id = tr.id AND seq.g = tr.g AND seq.e = tr.e;
-- backward scans are refused as on every vlake scan
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id FROM t WHERE ctid >= '(2147483664,1)';
FETCH 2 FROM c;
FETCH BACKWARD 1 FROM c;
ROLLBACK;

-- --------------------------------------------------------- TABLESAMPLE
-- 100%: every row, lake and delta, equal to heap's
SELECT count(*) AS differences FROM (
  (SELECT * FROM t TABLESAMPLE BERNOULLI (100) EXCEPT ALL SELECT * FROM h)
  UNION ALL (SELECT * FROM h EXCEPT ALL SELECT * FROM t TABLESAMPLE BERNOULLI (100))) x;
SELECT count(*) AS differences FROM (
  (SELECT * FROM t TABLESAMPLE SYSTEM (100) EXCEPT ALL SELECT * FROM h)
  UNION ALL (SELECT * FROM h EXCEPT ALL SELECT * FROM t TABLESAMPLE SYSTEM (100))) x;
SELECT (SELECT count(*) FROM t TABLESAMPLE BERNOULLI (0)) AS bernoulli_0,
       (SELECT count(*) FROM t TABLESAMPLE SYSTEM (0)) AS system_0;
-- BERNOULLI (30): about 30% of the rows (4,861 rows: 1,458 +- 6 standard
-- deviations), from the lake and the delta, each a row of heap's, none twice,
-- the same rows again with the same seed
CREATE TEMP TABLE b1 AS SELECT * FROM t TABLESAMPLE BERNOULLI (30) REPEATABLE (7);
CREATE TEMP TABLE b2 AS SELECT * FROM t TABLESAMPLE BERNOULLI (30) REPEATABLE (7);
SELECT count(*) BETWEEN 1458 - 6 * 32 AND 1458 + 6 * 32 AS about_30_percent,
       count(*) = count(DISTINCT id) AS no_duplicates,
       count(*) FILTER (WHERE id > 5000 OR id BETWEEN 3000 AND 3010) > 0 AS from_the_delta,
       count(*) FILTER (WHERE id <= 5000 AND id NOT BETWEEN 3000 AND 3010) > 1000 AS from_the_lake
  FROM b1;
SELECT (SELECT count(*) FROM (SELECT * FROM b1 EXCEPT SELECT * FROM h) x) AS not_in_heap,
       (SELECT count(*) FROM (SELECT * FROM b1 EXCEPT SELECT * FROM b2) x) +
       (SELECT count(*) FROM (SELECT * FROM b2 EXCEPT SELECT * FROM b1) x) AS repeat_differs;
-- SYSTEM samples whole blocks: a lake block's visible rows (heap's rows
-- with the block of their row ID) come all or none
CREATE TEMP TABLE s1 AS SELECT ctid AS c, * FROM t TABLESAMPLE SYSTEM (25) REPEATABLE (3);
WITH sb AS (SELECT (c::text::point)[0] AS blk, count(*) AS n FROM s1
             WHERE (c::text::point)[0] >= 2147483648 GROUP BY 1),
     hb AS (SELECT 2147483648 + (id - 1) / 256 AS blk, count(*) AS visible FROM h
             WHERE id <= 5000 AND id NOT BETWEEN 3000 AND 3010 GROUP BY 1)
SELECT (SELECT count(*) FROM (SELECT id, g, e FROM s1 EXCEPT SELECT * FROM h) x) AS not_in_heap,
       count(*) > 0 AS some_lake_blocks,
       count(*) < (SELECT count(*) FROM hb) AS not_every_block,
       bool_and(n = visible) AS whole_blocks
  FROM sb JOIN hb USING (blk);
-- other sampling methods are refused rather than sampling the delta only
CREATE EXTENSION tsm_system_rows;
SELECT count(*) FROM t TABLESAMPLE SYSTEM_ROWS (10);
SELECT count(*) FROM h TABLESAMPLE SYSTEM_ROWS (10);
-- ------------------------------------------------- bitmap scans, nested
-- Bitmap scans fetch a lake block's rows in one batch; an inner bitmap scan
-- of the same table, run once per outer row, shares the segments' readers
-- with the outer scan's batch in progress: the join equals heap's.
CREATE INDEX ON h (id);
CREATE INDEX ON t (id);
CREATE INDEX ON h (g);
CREATE INDEX ON t (g);
SET enable_seqscan = off; SET enable_indexscan = off;
SET enable_hashjoin = off; SET enable_mergejoin = off;
EXPLAIN (COSTS OFF)
SELECT a.id, b.e FROM t a JOIN t b ON b.id = a.id + 1 WHERE a.g = 3;
SELECT count(*) AS differences FROM (
  (SELECT a.id, a.e, b.e AS be FROM t a JOIN t b ON b.id = a.id + 1 WHERE a.g = 3
   EXCEPT ALL SELECT a.id, a.e, b.e FROM h a JOIN h b ON b.id = a.id + 1 WHERE a.g = 3)
  UNION ALL
  (SELECT a.id, a.e, b.e FROM h a JOIN h b ON b.id = a.id + 1 WHERE a.g = 3
   EXCEPT ALL SELECT a.id, a.e, b.e FROM t a JOIN t b ON b.id = a.id + 1 WHERE a.g = 3)) x;
SELECT (SELECT count(*) FROM t a JOIN t b ON b.id = a.id + 1 WHERE a.g = 3) AS joined,
       (SELECT count(*) FROM h a JOIN h b ON b.id = a.id + 1 WHERE a.g = 3) AS oracle;
RESET enable_seqscan; RESET enable_indexscan; RESET enable_hashjoin; RESET enable_mergejoin;

-- ------------------------------------------------------------- ANALYZE
-- Every row is in the sample (4,850 rows, fewer than 300 x 100): the
-- statistics equal heap's, and the lake rows came in batches (a request
-- per ColumnGroup and batch, not per row: 4,800 lake rows, two groups)
SELECT vlake.io_stats_reset() IS NULL AS reset;
ANALYZE t;
SELECT sum(get_requests) < 200 AS batched_requests FROM vlake.io_stats;
ANALYZE h;
SELECT attname,
       count(DISTINCT (null_frac, n_distinct, most_common_vals::text, most_common_freqs::text,
                       histogram_bounds::text)) AS different_stats
  FROM pg_stats WHERE schemaname = 'public' AND tablename IN ('h', 't') AND attname IN ('id', 'g')
  GROUP BY attname ORDER BY attname;
SELECT (SELECT reltuples FROM pg_class WHERE relname = 't') AS vlake_reltuples,
       (SELECT reltuples FROM pg_class WHERE relname = 'h') AS heap_reltuples;
-- a sample smaller than the table (3,000 rows: runs of consecutive rows
-- over the lake) still estimates the row count, and finds g's 13 common values
SET default_statistics_target = 10;
ANALYZE t;
RESET default_statistics_target;
SELECT abs(reltuples - 4850) < 4850 * 0.05 AS reltuples_close
  FROM pg_class WHERE relname = 't';
SELECT n_distinct >= 13 AS g_n_distinct_ok FROM pg_stats
 WHERE schemaname = 'public' AND tablename = 't' AND attname = 'g';

-- privileges and row-level security hold on both paths
CREATE ROLE vlake_tid_reader;
SET ROLE vlake_tid_reader;
SELECT count(*) FROM t WHERE ctid >= '(2147483652,1)';
SELECT count(*) FROM t TABLESAMPLE BERNOULLI (100);
RESET ROLE;
GRANT SELECT ON h, t TO vlake_tid_reader;
ALTER TABLE h ENABLE ROW LEVEL SECURITY;
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY odd ON h FOR SELECT USING (id % 2 = 1);
CREATE POLICY odd ON t FOR SELECT USING (id % 2 = 1);
SET ROLE vlake_tid_reader;
SELECT (SELECT count(*) FROM t WHERE ctid >= '(2147483652,1)' AND ctid < '(2147483656,1)') AS tid_range,
       (SELECT count(*) FROM h WHERE id BETWEEN 1025 AND 2048) AS oracle;
SELECT count(*) AS differences FROM (
  (SELECT * FROM t TABLESAMPLE SYSTEM (100) EXCEPT ALL SELECT * FROM h)
  UNION ALL (SELECT * FROM h EXCEPT ALL SELECT * FROM t TABLESAMPLE BERNOULLI (100))) x;
RESET ROLE;
DROP POLICY odd ON h;
DROP POLICY odd ON t;
REVOKE ALL ON h, t FROM vlake_tid_reader;
DROP ROLE vlake_tid_reader;
