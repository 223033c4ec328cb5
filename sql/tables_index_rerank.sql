-- A vlake index on a vlake table keeps no copy of the vectors: its exact
-- re-rank reads the table's vector column (docs/index.md, "On vlake
-- tables"; src/tableam/vltab_index.h, vltab_index_take).  The oracle: a heap
-- twin h given the same statements, searched exactly (no index), against the
-- vlake index of t probing every list (vlake.probes = lists), so that the
-- results must be equal, row for row, after each kind of change: delta
-- inserts, deletes and updates of lake and delta rows, flushes, merges, a
-- column added with a default and updates of other columns, backfills
-- (column patches) of another column and of the vector column, compaction
-- (row IDs kept), VACUUM, a
-- transaction's own changes and its rollback; for l2, inner product and
-- cosine, vector and halfvec.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
SELECT set_config('test.lake', :'lake', false) IS NOT NULL AS lake_set;
\set root 'file://' :lake '/tables_index_rerank/t'
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('rm -rf %s/tables_index_rerank', current_setting('test.lake')));
END $$;

SET vlake.copy_lake_threshold = 0;
SET vlake.segment_rows = 300;
CREATE TABLE t (id int NOT NULL, note text, emb vector(6), h halfvec(6)) USING vlake WITH (location = :'root');
CREATE TABLE h (id int NOT NULL, note text, emb vector(6), h halfvec(6));
-- deterministic vectors without ties
CREATE FUNCTION pg_temp.v(i int) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY[sin(i * 1.1), cos(i * 0.7), sin(i * 0.13), cos(i * 0.031), sin(i * 2.9), (i % 11) / 11.0]::real[] $$;
CREATE FUNCTION pg_temp.both(stmt text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE replace(stmt, '$T', 't');
  EXECUTE replace(stmt, '$T', 'h');
END $$;
-- queries
CREATE TABLE q (qid int, v vector(6));
INSERT INTO q SELECT j, pg_temp.v(100000 + j * 37)::vector FROM generate_series(1, 12) j;

-- Mismatches between the index scan of t and the exact order of h, over
-- every query: top k ids in order (ORDER BY distance; ties are unlikely
-- with these vectors, and would show up here).
CREATE FUNCTION pg_temp.mismatches(col text, op text, k int DEFAULT 10) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n bigint := 0; got int[]; want int[]; r record;
  cast_to text := CASE WHEN col = 'h' THEN 'halfvec(6)' ELSE 'vector(6)' END;
BEGIN
  FOR r IN SELECT qid, v FROM q LOOP
    SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = on;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM t WHERE %I IS NOT NULL ORDER BY %I %s $1::%s LIMIT %s) x',
                   col, col, op, cast_to, k) INTO got USING r.v;
    SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM h WHERE %I IS NOT NULL ORDER BY %I %s $1::%s, id LIMIT %s) x',
                   col, col, op, cast_to, k) INTO want USING r.v;
    IF got IS DISTINCT FROM want THEN
      n := n + 1;
      RAISE NOTICE 'query % on %: got %, want %', r.qid, col, got, want;
    END IF;
  END LOOP;
  RETURN n;
END $$;
-- The values of the rows an index scan returns (the executor fetches each
-- row and computes the ORDER BY distance again): equal to the heap twin's.
CREATE FUNCTION pg_temp.value_mismatches(col text, op text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n bigint := 0; got text[]; want text[]; r record;
  cast_to text := CASE WHEN col = 'h' THEN 'halfvec(6)' ELSE 'vector(6)' END;
  sel text := 'SELECT array_agg(x::text) FROM (SELECT id, note, emb::text, h::text, round((%I %s $1::%s)::numeric, 4) FROM %I WHERE %I IS NOT NULL ORDER BY %I %s $1::%s%s LIMIT 10) x';
BEGIN
  FOR r IN SELECT qid, v FROM q LOOP
    SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = on;
    EXECUTE format(sel, col, op, cast_to, 't', col, col, op, cast_to, '') INTO got USING r.v;
    SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
    EXECUTE format(sel, col, op, cast_to, 'h', col, col, op, cast_to, ', id') INTO want USING r.v;
    IF got IS DISTINCT FROM want THEN
      n := n + 1;
      RAISE NOTICE 'query % on %: got %, want %', r.qid, col, got, want;
    END IF;
  END LOOP;
  RETURN n;
END $$;
-- The plan of the checked query is an index scan of t.
CREATE FUNCTION pg_temp.uses_index(col text, op text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE line text; found bool := false;
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY %I %s (SELECT v FROM q LIMIT 1)::text::%s LIMIT 10',
                             col, op, CASE WHEN col = 'h' THEN 'halfvec(6)' ELSE 'vector(6)' END) LOOP
    found := found OR line LIKE '%Index Scan using%';
  END LOOP;
  RETURN found;
END $$;
CREATE FUNCTION pg_temp.check_all(k int DEFAULT 10) RETURNS TABLE (l2 bigint, ip bigint, cosine bigint, half_l2 bigint)
LANGUAGE sql AS $$
  SELECT pg_temp.mismatches('emb', '<->', k), pg_temp.mismatches('emb', '<#>', k),
         pg_temp.mismatches('emb', '<=>', k), pg_temp.mismatches('h', '<->', k) $$;

-- ======== rows: two COPY'd segments, flushed rows, delta rows (some NULL)
\set rows :lake '/tables_index_rerank_rows.tsv'
COPY (SELECT i, 'c' || i, pg_temp.v(i)::vector, pg_temp.v(i)::halfvec FROM generate_series(1, 600) i) TO :'rows';
COPY t FROM :'rows';
COPY h FROM :'rows';
SELECT pg_temp.both($$INSERT INTO $T SELECT i, 'f' || i, pg_temp.v(i), pg_temp.v(i) FROM generate_series(601, 800) i$$);
SELECT vlake.flush('t') AS flushed;
SELECT pg_temp.both($$INSERT INTO $T SELECT i, 'd' || i, CASE WHEN i % 9 <> 0 THEN pg_temp.v(i)::vector END,
                                    pg_temp.v(i) FROM generate_series(801, 900) i$$);
SELECT count(*) AS segments FROM vlake.table_segments('t');

CREATE INDEX t_l2 ON t USING vlake (emb vector_l2_ops) WITH (lists = 8);
CREATE INDEX t_ip ON t USING vlake (emb vector_ip_ops) WITH (lists = 8);
CREATE INDEX t_cos ON t USING vlake (emb vector_cosine_ops) WITH (lists = 8);
CREATE INDEX t_h ON t USING vlake (h halfvec_l2_ops) WITH (lists = 8);
SET vlake.probes = 8;    -- every list: the index must equal exact search
-- RaBitQ lower bounds hold with high probability at the default width (a
-- deep scan may swap two near-equal neighbours, heap tables alike): wide
-- bounds make the order exact
SET vlake.rerank_epsilon = 10;

-- no index part holds a vectors file; each holds codes and index.meta only
SELECT i.relname, array_length(x.files, 1) AS nfiles,
       bool_and(f NOT LIKE '%vectors.bin') AS no_vectors_file
  FROM pg_class i, vlake.index_info(i.oid) x, unnest(x.files) f
 WHERE i.relname IN ('t_l2', 't_ip', 't_cos', 't_h')
 GROUP BY 1, 2 ORDER BY 1;
SELECT count(*) AS vectors_files FROM pg_ls_dir(current_setting('test.lake') || '/tables_index_rerank/t/vlake_index') d,
       pg_ls_dir(current_setting('test.lake') || '/tables_index_rerank/t/vlake_index/' || d) f
 WHERE f = 'vectors.bin';
SELECT pg_temp.uses_index('emb', '<->') AS l2_index, pg_temp.uses_index('emb', '<#>') AS ip_index,
       pg_temp.uses_index('emb', '<=>') AS cos_index, pg_temp.uses_index('h', '<->') AS half_index;
SELECT * FROM pg_temp.check_all();
SELECT * FROM pg_temp.check_all(200);   -- deep: many re-rank batches
SELECT pg_temp.value_mismatches('emb', '<->') AS l2_values, pg_temp.value_mismatches('emb', '<=>') AS cos_values,
       pg_temp.value_mismatches('h', '<->') AS half_values;

-- ======== deletes and updates of lake rows and delta rows
SELECT pg_temp.both($$DELETE FROM $T WHERE id % 7 = 0$$);
SELECT pg_temp.both($$UPDATE $T SET emb = pg_temp.v(id + 5000), h = pg_temp.v(id + 5000) WHERE id % 10 = 3$$);
SELECT pg_temp.both($$UPDATE $T SET note = 'n' || id WHERE id % 10 = 4$$);          -- other columns
SELECT pg_temp.both($$UPDATE $T SET emb = NULL WHERE id % 50 = 1$$);
SELECT pg_temp.both($$INSERT INTO $T SELECT i, 'e' || i, pg_temp.v(i), pg_temp.v(i) FROM generate_series(901, 950) i$$);
SELECT * FROM pg_temp.check_all();
SELECT pg_temp.value_mismatches('emb', '<->') AS l2_values, pg_temp.value_mismatches('h', '<->') AS half_values;

-- ======== a transaction's own changes, and its rollback
BEGIN;
SELECT pg_temp.both($$DELETE FROM $T WHERE id % 5 = 2$$);
SELECT pg_temp.both($$UPDATE $T SET emb = pg_temp.v(id + 7000) WHERE id % 10 = 6$$);
SELECT * FROM pg_temp.check_all();
ROLLBACK;
SELECT * FROM pg_temp.check_all();

-- ======== flush (lake rows get new TIDs, entries in the index's delta)
SELECT vlake.flush('t') > 0 AS flushed;
SELECT * FROM pg_temp.check_all();
-- merges fold them into new parts (codes copied, no vectors file)
SELECT count(*) AS merged FROM (SELECT vlake.merge(c) FROM unnest(ARRAY['t_l2', 't_ip', 't_cos', 't_h']::regclass[]) c) m;
SELECT bool_and(f NOT LIKE '%vectors.bin') AS no_vectors_file
  FROM pg_class i, vlake.index_info(i.oid) x, unnest(x.files) f
 WHERE i.relname IN ('t_l2', 't_ip', 't_cos', 't_h');
SELECT * FROM pg_temp.check_all();
SELECT * FROM pg_temp.check_all(200);

-- ======== a column added with a default, other columns changed, VACUUM
SELECT pg_temp.both($$ALTER TABLE $T ADD COLUMN tag int DEFAULT 7$$);
SELECT pg_temp.both($$UPDATE $T SET tag = id % 3 WHERE id % 4 = 0$$);
SELECT pg_temp.both($$DELETE FROM $T WHERE id % 11 = 0$$);
VACUUM t;
SELECT pg_temp.both($$INSERT INTO $T SELECT i, 'g' || i, pg_temp.v(i), pg_temp.v(i), 1 FROM generate_series(951, 1000) i$$);
SELECT * FROM pg_temp.check_all();
SELECT vlake.flush('t') > 0 AS flushed;
SELECT count(*) AS merged FROM (SELECT vlake.merge(c) FROM unnest(ARRAY['t_l2', 't_ip', 't_cos', 't_h']::regclass[]) c) m;
SELECT * FROM pg_temp.check_all();
-- with a filter on another column (the scan goes on past k rows)
SET enable_seqscan = off;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM t WHERE tag = 1 ORDER BY emb <-> (SELECT v FROM q WHERE qid = 3) LIMIT 10) x)
     = (SELECT array_agg(id) FROM (SELECT id FROM h WHERE tag = 1 ORDER BY emb <-> (SELECT v FROM q WHERE qid = 3), id LIMIT 10) x)
       AS filtered_equal;
RESET enable_seqscan;

-- ======== backfills: another column (column patches beside the vector
-- files: the re-rank keeps reading the vectors through the segment reader),
-- then the vector column itself (its indexes are rebuilt)
SELECT vlake.backfill('t', 'tag', $$SELECT id, id % 5 FROM t WHERE id % 2 = 0$$, 'id') > 0 AS backfilled;
UPDATE h SET tag = id % 5 WHERE id % 2 = 0;
SELECT * FROM pg_temp.check_all();
SELECT vlake.backfill('t', 'emb', $$SELECT id, pg_temp.v(id + 9000)::vector FROM t WHERE id % 3 = 1$$, 'id') > 0 AS backfilled;
UPDATE h SET emb = pg_temp.v(id + 9000) WHERE id % 3 = 1;
SELECT * FROM pg_temp.check_all();
SELECT bool_and(f NOT LIKE '%vectors.bin') AS no_vectors_file
  FROM pg_class i, vlake.index_info(i.oid) x, unnest(x.files) f
 WHERE i.relname IN ('t_l2', 't_ip', 't_cos', 't_h');
-- a delete after the backfill, the rows that remain flushed and merged
SELECT pg_temp.both($$DELETE FROM $T WHERE id % 13 = 0$$);
SELECT pg_temp.both($$INSERT INTO $T SELECT i, 'k' || i, pg_temp.v(i), pg_temp.v(i), 2 FROM generate_series(1001, 1040) i$$);
SELECT vlake.flush('t') > 0 AS flushed;
SELECT count(*) AS merged FROM (SELECT vlake.merge(c) FROM unnest(ARRAY['t_l2', 't_ip', 't_cos', 't_h']::regclass[]) c) m;
SELECT * FROM pg_temp.check_all();
SELECT * FROM pg_temp.check_all(200);

-- ======== compaction: segments merged, deleted rows erased, superseded
-- columns dropped, row IDs (and so the index's references) kept
SELECT segments_merged > 0 AS merged_segments, rows_purged > 0 AS purged, groups_rewritten > 0 AS rewritten
  FROM vlake.compact('t', 0);
SELECT count(*) AS segments_after_compaction FROM vlake.table_segments('t');
SELECT * FROM pg_temp.check_all();
SELECT * FROM pg_temp.check_all(200);

-- ======== REINDEX: a fresh part over the lake rows, again without vectors
REINDEX INDEX t_l2;
SELECT array_length(files, 1) AS nfiles FROM vlake.index_info('t_l2');
SELECT pg_temp.mismatches('emb', '<->') AS l2_after_reindex;

-- ======== the same index on the heap twin keeps its vectors file
CREATE INDEX h_l2 ON h USING vlake (emb vector_l2_ops) WITH (lists = 8,
  location = :'root');
SELECT array_length(files, 1) AS heap_index_nfiles, files[3] LIKE '%vectors.bin' AS heap_has_vectors
  FROM vlake.index_info('h_l2');
DROP INDEX h_l2;
-- an expression index of a vlake table keeps its own vectors (the re-rank
-- reads a column, not an expression)
CREATE INDEX t_expr ON t USING vlake ((emb::halfvec(6)) halfvec_l2_ops) WITH (lists = 4);
SELECT array_length(files, 1) AS expr_index_nfiles FROM vlake.index_info('t_expr');
DROP INDEX t_expr;

DROP TABLE t, h, q;
