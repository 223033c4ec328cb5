-- vlake tables behave like heap tables.  The oracle is a heap table h given
-- the same statements as the vlake table t: after every step cmp() asserts
-- that both hold the same multiset of rows, read through a sequential scan,
-- btree index scans (two indexes), a bitmap scan and a GIN bitmap scan.
-- The statement sequence (test/data/tables/ops.psql) runs from four
-- starting states: rows only in the delta, only in lake segments (after
-- vlake.flush), in both, and written as segments by COPY.
CREATE EXTENSION vlake;
\getenv src VLAKE_SRC
\getenv lake VLAKE_TEST_LAKE
SET client_min_messages = warning;

-- deterministic rows: NULLs in every nullable column, TOASTed long text
-- (6400 hex characters, incompressible enough to go out of line), arrays
-- for GIN, vectors
CREATE FUNCTION gen(lo int, hi int)
RETURNS TABLE (id int, k int, txt text, arr int[], emb vector(3))
LANGUAGE sql IMMUTABLE AS $$
  SELECT g, g % 17,
         CASE WHEN g % 11 = 0 THEN NULL
              WHEN g % 13 = 0 THEN (SELECT string_agg(md5(g::text || '/' || i), '')
                                    FROM generate_series(1, 200) i)
              ELSE 'row ' || g END,
         CASE WHEN g % 9 = 0 THEN NULL ELSE ARRAY[g % 5, g % 7, g] END,
         CASE WHEN g % 19 = 0 THEN NULL
              ELSE ARRAY[sin(g), cos(g * 1.7), sin(g * 0.3)]::real[]::vector END
  FROM generate_series(lo, hi) g $$;

-- h and t with the same columns and indexes, filled according to state
CREATE PROCEDURE reset_pair(state text, copyfile text)
LANGUAGE plpgsql AS $$
DECLARE tbl text;
BEGIN
  DROP TABLE IF EXISTS h;
  DROP TABLE IF EXISTS t;
  CREATE TABLE h (id int PRIMARY KEY, k int, txt text, arr int[], emb vector(3));
  CREATE TABLE t (id int PRIMARY KEY, k int, txt text, arr int[], emb vector(3)) USING vlake;
  FOREACH tbl IN ARRAY ARRAY['h', 't'] LOOP
    EXECUTE format('CREATE INDEX ON %I (k)', tbl);
    EXECUTE format('CREATE INDEX ON %I USING gin (arr)', tbl);
  END LOOP;
  COMMIT;
  IF state = 'delta' THEN
    INSERT INTO h SELECT * FROM gen(1, 300);
    INSERT INTO t SELECT * FROM gen(1, 300);
  ELSIF state = 'lake' THEN
    INSERT INTO h SELECT * FROM gen(1, 300);
    INSERT INTO t SELECT * FROM gen(1, 300);
    COMMIT;
    PERFORM vlake.flush('t');
  ELSIF state = 'mixed' THEN
    INSERT INTO h SELECT * FROM gen(1, 200);
    INSERT INTO t SELECT * FROM gen(1, 200);
    COMMIT;
    PERFORM vlake.flush('t');
    COMMIT;
    INSERT INTO h SELECT * FROM gen(201, 300);
    INSERT INTO t SELECT * FROM gen(201, 300);
  ELSIF state = 'copy' THEN
    EXECUTE format('COPY (SELECT * FROM gen(1, 300)) TO %L', copyfile);
    EXECUTE format('COPY h FROM %L', copyfile);
    EXECUTE format('COPY t FROM %L', copyfile);
  END IF;
  COMMIT;
END $$;

-- a DML statement (TBL names the table, no RETURNING) on h and on t; the
-- rows it returns (RETURNING *) must be the same
CREATE FUNCTION on_both(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE nh bigint; nt bigint; sh text; st text;
BEGIN
  EXECUTE format('WITH r AS (%s RETURNING *) SELECT count(*), coalesce(string_agg(r::text, E''\n'' ORDER BY r::text), '''') FROM r',
                 replace(stmt, 'TBL', 'h')) INTO nh, sh;
  EXECUTE format('WITH r AS (%s RETURNING *) SELECT count(*), coalesce(string_agg(r::text, E''\n'' ORDER BY r::text), '''') FROM r',
                 replace(stmt, 'TBL', 't')) INTO nt, st;
  IF nh = nt AND sh = st THEN
    RETURN format('%s rows, same', nh);
  END IF;
  RETURN format('DIFFERENT: heap %s rows, vlake %s rows; heap only: %s; vlake only: %s', nh, nt,
    (SELECT string_agg(x, ' | ') FROM (SELECT unnest(string_to_array(sh, E'\n')) EXCEPT ALL SELECT unnest(string_to_array(st, E'\n'))) s(x)),
    (SELECT string_agg(x, ' | ') FROM (SELECT unnest(string_to_array(st, E'\n')) EXCEPT ALL SELECT unnest(string_to_array(sh, E'\n'))) s(x)));
END $$;

-- the multiset difference of one query (QTBL names the table) on h and t
CREATE FUNCTION diffq(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE nh bigint; nt bigint; hmt bigint; tmh bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) x', replace(q, 'QTBL', 'h')) INTO nh;
  EXECUTE format('SELECT count(*) FROM (%s) x', replace(q, 'QTBL', 't')) INTO nt;
  EXECUTE format('SELECT count(*) FROM (SELECT x::text FROM (%s) x EXCEPT ALL SELECT x::text FROM (%s) x) d',
                 replace(q, 'QTBL', 'h'), replace(q, 'QTBL', 't')) INTO hmt;
  EXECUTE format('SELECT count(*) FROM (SELECT x::text FROM (%s) x EXCEPT ALL SELECT x::text FROM (%s) x) d',
                 replace(q, 'QTBL', 't'), replace(q, 'QTBL', 'h')) INTO tmh;
  IF nh = nt AND hmt = 0 AND tmh = 0 THEN
    RETURN 'same';
  END IF;
  RETURN format('DIFFERENT (heap %s rows, vlake %s, heap-only %s, vlake-only %s)', nh, nt, hmt, tmh);
END $$;

-- each read path, forced by the function's settings (bitmap scans with the
-- default effective_io_concurrency: prefetching must skip lake blocks)
CREATE FUNCTION d_seq(q text) RETURNS text LANGUAGE sql
  SET enable_indexscan = off SET enable_bitmapscan = off SET enable_seqscan = on
  AS $$ SELECT diffq(q) $$;
CREATE FUNCTION d_index(q text) RETURNS text LANGUAGE sql
  SET enable_seqscan = off SET enable_bitmapscan = off SET enable_indexscan = on
  AS $$ SELECT diffq(q) $$;
CREATE FUNCTION d_bitmap(q text) RETURNS text LANGUAGE sql
  SET enable_seqscan = off SET enable_indexscan = off SET enable_bitmapscan = on
  AS $$ SELECT diffq(q) $$;

CREATE FUNCTION cmp(label text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE n bigint; r text[];
BEGIN
  SELECT count(*) INTO n FROM h;
  r := ARRAY[
    'seq ' || d_seq('SELECT * FROM QTBL'),
    -- a projected scan (only some columns of lake rows are read)
    'proj ' || d_seq('SELECT id, txt FROM QTBL WHERE k < 5'),
    'pkey ' || d_index('SELECT * FROM QTBL WHERE id > -1000000'),
    'k ' || d_index('SELECT * FROM QTBL WHERE k >= -1000000'),
    'bitmap ' || d_bitmap('SELECT * FROM QTBL WHERE id > -1000000 OR k < 3'),
    'gin ' || d_bitmap($q$SELECT * FROM QTBL WHERE arr @> '{3}' OR arr && '{100,200,250}'$q$)];
  IF r = ARRAY['seq same', 'proj same', 'pkey same', 'k same', 'bitmap same', 'gin same'] THEN
    RETURN format('%s: %s rows, same on every path', label, n);
  END IF;
  RETURN format('%s: %s heap rows, %s', label, n, array_to_string(r, ', '));
END $$;

SELECT :'lake' || '/tables_copy.data' AS copyfile \gset

-- the plans cmp() forces
CALL reset_pair('lake', :'copyfile');
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM t WHERE id > -1000000;
EXPLAIN (COSTS OFF) SELECT * FROM t WHERE k >= -1000000;
SET enable_indexscan = off; SET enable_bitmapscan = on;
EXPLAIN (COSTS OFF) SELECT * FROM t WHERE id > -1000000 OR k < 3;
EXPLAIN (COSTS OFF) SELECT * FROM t WHERE arr @> '{3}' OR arr && '{100,200,250}';
RESET enable_seqscan; RESET enable_indexscan; RESET enable_bitmapscan;

-- ======== state 1: rows only in the delta
CALL reset_pair('delta', :'copyfile');
SELECT count(*) AS segments FROM vlake.table_segments('t');
\i test/data/tables/ops.psql

-- ======== state 2: rows only in lake segments (vlake.flush)
CALL reset_pair('lake', :'copyfile');
SELECT count(*) AS segments, sum(row_count) AS lake_rows FROM vlake.table_segments('t');
\i test/data/tables/ops.psql

-- ======== state 3: mixed, 200 lake rows and 100 delta rows
CALL reset_pair('mixed', :'copyfile');
SELECT count(*) AS segments, sum(row_count) AS lake_rows FROM vlake.table_segments('t');
\i test/data/tables/ops.psql

-- ======== state 4: COPY with vlake.copy_lake_threshold = 0 writes segments
SET vlake.copy_lake_threshold = 0;
CALL reset_pair('copy', :'copyfile');
SELECT count(*) > 0 AS has_segments, sum(row_count) AS lake_rows FROM vlake.table_segments('t');
\i test/data/tables/ops.psql
RESET vlake.copy_lake_threshold;

-- ======== beyond the matrix: one vlake table t (and its heap twin h)
CALL reset_pair('mixed', :'copyfile');

-- a SCROLL cursor: heap scans backwards; vlake tables refuse backward
-- scans with a clear error (a documented limit, vltab_scan_getnextslot)
BEGIN;
DECLARE sh SCROLL CURSOR FOR SELECT id FROM h WHERE id <= 3;
DECLARE st SCROLL CURSOR FOR SELECT id FROM t WHERE id <= 3;
SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
FETCH ALL FROM sh;
FETCH BACKWARD 1 FROM sh;
FETCH ALL FROM st;
FETCH BACKWARD 1 FROM st;
ROLLBACK;

-- the vlake ANN index on the vector column: with every list probed and a
-- wide error bound its top-k equals the exact order on the heap table
CREATE INDEX t_emb ON t USING vlake (emb vector_l2_ops);
SELECT vlake.flush('t') > 0 AS flushed_after_index;
SELECT on_both($$INSERT INTO TBL SELECT * FROM gen(401, 450)$$);
SELECT on_both($$UPDATE TBL SET emb = '[0.5,0.5,0.5]' WHERE id = 20$$);
SELECT on_both($$DELETE FROM TBL WHERE id IN (21, 22, 23)$$);
SET vlake.probes = 1000;
SET vlake.rerank_epsilon = 6;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY emb <-> '[0.5,0.5,0.5]' LIMIT 10;
CREATE TEMP TABLE ann_q AS SELECT q, ARRAY[sin(q * 3.1), cos(q), sin(q * 0.7)]::real[]::vector AS v
  FROM generate_series(1, 10) q;
SELECT q.q, (SELECT array_agg(id) FROM (SELECT id FROM t ORDER BY emb <-> q.v LIMIT 10) x)
          = (SELECT array_agg(id) FROM (SELECT id FROM h ORDER BY emb <-> q.v, id LIMIT 10) x)
       AS top10_equal
FROM ann_q q ORDER BY q.q;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM t ORDER BY emb <-> '[0.5,0.5,0.5]' LIMIT 3) x) AS ann_top3,
       (SELECT array_agg(id) FROM (SELECT id FROM h ORDER BY emb <-> '[0.5,0.5,0.5]', id LIMIT 3) x) AS exact_top3;
RESET enable_seqscan; RESET vlake.probes; RESET vlake.rerank_epsilon;

-- ANALYZE runs, and its statistics cover the lake rows as heap's cover all
-- of its rows: the same reltuples, and k's 17 distinct values
ANALYZE h;
ANALYZE t;
SELECT (SELECT reltuples FROM pg_class WHERE relname = 't') AS vlake_reltuples,
       (SELECT reltuples FROM pg_class WHERE relname = 'h') AS heap_reltuples;
SELECT attname, count(*) AS tables, min(n_distinct) = max(n_distinct) AS same_n_distinct,
       bool_and(null_frac > 0) = bool_or(null_frac > 0) AS same_has_nulls
  FROM pg_stats WHERE schemaname = 'public' AND tablename IN ('h', 't') AND attname IN ('id', 'k', 'arr')
  GROUP BY attname ORDER BY attname;
SELECT n_distinct AS k_n_distinct_vlake FROM pg_stats WHERE schemaname = 'public' AND tablename = 't' AND attname = 'k';

-- privileges: a role without SELECT is refused; with SELECT it reads
CREATE ROLE vlake_tables_reader;
SET ROLE vlake_tables_reader;
SELECT count(*) FROM h;
SELECT count(*) FROM t;
SELECT vlake.flush('t');
RESET ROLE;
GRANT SELECT ON h, t TO vlake_tables_reader;
SET ROLE vlake_tables_reader;
SELECT count(*) FROM h;
SELECT count(*) FROM t;
SELECT d_seq('SELECT * FROM QTBL') AS reader_seq, d_index('SELECT * FROM QTBL WHERE id > 0') AS reader_index;
UPDATE h SET k = 0 WHERE id = 1;
UPDATE t SET k = 0 WHERE id = 1;
RESET ROLE;

-- row-level security: one policy filters the same rows from both tables,
-- on sequential, index and bitmap scans (lake and delta rows alike)
ALTER TABLE h ENABLE ROW LEVEL SECURITY;
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY even_k ON h FOR SELECT USING (k % 2 = 0);
CREATE POLICY even_k ON t FOR SELECT USING (k % 2 = 0);
SET ROLE vlake_tables_reader;
SELECT count(*) AS visible_heap FROM h;
SELECT count(*) AS visible_vlake FROM t;
SELECT d_seq('SELECT * FROM QTBL') AS rls_seq,
       d_index('SELECT * FROM QTBL WHERE id > 0') AS rls_index,
       d_bitmap('SELECT * FROM QTBL WHERE id > 0 OR k < 3') AS rls_bitmap;
SELECT count(*) AS odd_k_vlake FROM t WHERE k % 2 = 1;
RESET ROLE;
ALTER TABLE h DISABLE ROW LEVEL SECURITY;
ALTER TABLE t DISABLE ROW LEVEL SECURITY;
DROP POLICY even_k ON h;
DROP POLICY even_k ON t;
REVOKE ALL ON h, t FROM vlake_tables_reader;
DROP ROLE vlake_tables_reader;

-- CREATE TABLE ... USING vlake AS SELECT
CREATE TABLE t_ctas USING vlake AS SELECT * FROM h;
SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 't_ctas';
SELECT (SELECT count(*) FROM (SELECT x::text FROM h x EXCEPT ALL SELECT x::text FROM t_ctas x) d) AS h_minus_ctas,
       (SELECT count(*) FROM (SELECT x::text FROM t_ctas x EXCEPT ALL SELECT x::text FROM h x) d) AS ctas_minus_h;
SELECT vlake.flush('t_ctas') = (SELECT count(*) FROM h) AS ctas_rows_flushed;
SELECT (SELECT count(*) FROM (SELECT x::text FROM h x EXCEPT ALL SELECT x::text FROM t_ctas x) d) AS h_minus_ctas,
       (SELECT count(*) FROM (SELECT x::text FROM t_ctas x EXCEPT ALL SELECT x::text FROM h x) d) AS ctas_minus_h;

-- ALTER TABLE ... SET ACCESS METHOD vlake, and back to heap: same rows,
-- indexes rebuilt and used
CREATE TABLE t_am AS SELECT * FROM h;
ALTER TABLE t_am ADD PRIMARY KEY (id);
CREATE INDEX ON t_am (k);
ALTER TABLE t_am SET ACCESS METHOD vlake;
SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 't_am';
SELECT vlake.flush('t_am') >= 0 AS flushed;
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT (SELECT count(*) FROM (SELECT x::text FROM h x EXCEPT ALL SELECT x::text FROM t_am x) d) AS h_minus_am,
       (SELECT count(*) FROM (SELECT x::text FROM t_am x EXCEPT ALL SELECT x::text FROM h x) d) AS am_minus_h;
SELECT (SELECT array_agg(id ORDER BY id) FROM t_am WHERE k = 5) = (SELECT array_agg(id ORDER BY id) FROM h WHERE k = 5) AS k_index_equal;
RESET enable_seqscan; RESET enable_bitmapscan;
ALTER TABLE t_am SET ACCESS METHOD heap;
SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 't_am';
SELECT (SELECT count(*) FROM (SELECT x::text FROM h x EXCEPT ALL SELECT x::text FROM t_am x) d) AS h_minus_am,
       (SELECT count(*) FROM (SELECT x::text FROM t_am x EXCEPT ALL SELECT x::text FROM h x) d) AS am_minus_h;
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT (SELECT array_agg(id ORDER BY id) FROM t_am WHERE k = 5) = (SELECT array_agg(id ORDER BY id) FROM h WHERE k = 5) AS k_index_equal;
RESET enable_seqscan; RESET enable_bitmapscan;

-- a parallel index build over lake rows builds the index heap builds
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = 0;
CREATE INDEX h_k_id ON h (k, id);
CREATE INDEX t_k_id ON t (k, id);
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;
SELECT count(*) AS indexes_built FROM pg_indexes WHERE indexname IN ('h_k_id', 't_k_id');
SELECT d_index('SELECT * FROM QTBL WHERE k >= 0 AND id > 0') AS parallel_built_index;

-- an aborted COPY into segments leaves btree entries behind, as an aborted
-- heap insert does; they must never lead to rows written later
-- (row IDs are never handed out twice: vlake.datasets.row_id_limit is
-- raised in place before use and survives the abort)
SET vlake.copy_lake_threshold = 0;
CREATE TABLE ra_h (id int PRIMARY KEY, v text);
CREATE TABLE ra_t (id int PRIMARY KEY, v text) USING vlake;
COPY (SELECT g, 'aborted' FROM generate_series(1, 5) g) TO :'copyfile';
BEGIN;
COPY ra_h FROM :'copyfile';
COPY ra_t FROM :'copyfile';
ROLLBACK;
COPY (SELECT g, 'committed' FROM generate_series(101, 105) g) TO :'copyfile';
COPY ra_h FROM :'copyfile';
COPY ra_t FROM :'copyfile';
RESET vlake.copy_lake_threshold;
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT * FROM ra_h ORDER BY id;
SELECT * FROM ra_t ORDER BY id;
SELECT * FROM ra_h WHERE id = 3;
SELECT * FROM ra_t WHERE id = 3;
RESET enable_seqscan; RESET enable_bitmapscan;
DROP TABLE ra_h, ra_t;

-- vlake.table_segments: its columns, and rows that add up
SELECT * FROM vlake.table_segments('t') LIMIT 0;
SELECT count(*) > 0 AS has_segments,
       bool_and(end_row_id - first_row_id = row_count) AS ranges_match,
       bool_and(files >= 1 AND bytes > 0 AND version >= 1) AS sane
  FROM vlake.table_segments('t');
SELECT vlake.table_segments('h');

-- DROP TABLE removes every catalog row of the table
SELECT 't'::regclass::oid AS t_oid \gset
SELECT (SELECT count(*) FROM vlake.datasets WHERE relid = :t_oid) AS datasets,
       (SELECT count(*) FROM vlake.segments WHERE relid = :t_oid) > 0 AS has_segments,
       (SELECT count(*) FROM vlake.files WHERE relid = :t_oid) > 0 AS has_files;
BEGIN;
DROP TABLE t;
ROLLBACK;
SELECT (SELECT count(*) FROM vlake.datasets WHERE relid = :t_oid) AS datasets_after_rollback;
DROP TABLE t;
SELECT (SELECT count(*) FROM vlake.datasets WHERE relid = :t_oid) AS datasets,
       (SELECT count(*) FROM vlake.segments WHERE relid = :t_oid) AS segments,
       (SELECT count(*) FROM vlake.files WHERE relid = :t_oid) AS files,
       (SELECT count(*) FROM vlake.row_states WHERE relid = :t_oid) AS row_states,
       (SELECT count(*) FROM vlake.moved_rows WHERE relid = :t_oid) AS moved_rows,
       (SELECT count(*) FROM vlake.versions WHERE relid = :t_oid) AS versions;
DROP TABLE h, t_ctas, t_am;
