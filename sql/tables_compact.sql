-- vlake tables: compaction (vlake.compact, docs/tables.md "Compaction").
-- Oracle: a heap table given the same statements.  Compaction must keep
-- every row ID (ctid of surviving rows unchanged, indexes valid without a
-- rebuild), erase deleted rows only in the files worth rewriting, and merge
-- adjacent small segments.
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/tables_compact' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';
SET vlake.copy_lake_threshold = 0;
SET vlake.segment_rows = 1000;
SET max_parallel_workers_per_gather = 0;

CREATE TABLE h (id int NOT NULL, g int, s text, e vector(16));
INSERT INTO h SELECT k, k % 13, repeat(md5(k::text), 4),
       (SELECT array_agg(((k * 31 + j * 7) % 101)::real / 10) FROM generate_series(1, 16) j)::vector
  FROM generate_series(1, 4000) k;
CREATE TABLE t (LIKE h INCLUDING ALL) USING vlake;
SELECT :'lake' || '/tables_compact.csv' AS csv \gset
COPY h TO :'csv' (FORMAT csv);
COPY t FROM :'csv' (FORMAT csv);
CREATE INDEX ON h (id);
CREATE INDEX ON t (id);
CREATE INDEX t_e ON t USING vlake (e vector_l2_ops) WITH (lists = 4);
-- segment 1 (ids 1..1000): half deleted; segment 2: 2% deleted; segment 3:
-- 1% updated (the new versions go to the delta); new delta rows
DELETE FROM h WHERE id <= 1000 AND id % 2 = 0;
DELETE FROM t WHERE id <= 1000 AND id % 2 = 0;
DELETE FROM h WHERE id BETWEEN 1001 AND 2000 AND id % 50 = 0;
DELETE FROM t WHERE id BETWEEN 1001 AND 2000 AND id % 50 = 0;
UPDATE h SET g = -g WHERE id BETWEEN 2500 AND 2509;
UPDATE t SET g = -g WHERE id BETWEEN 2500 AND 2509;
INSERT INTO h VALUES (4001, 1, 'delta', NULL);
INSERT INTO t VALUES (4001, 1, 'delta', NULL);
SELECT segment_id, first_row_id, end_row_id, row_count, files FROM vlake.table_segments('t');

CREATE TEMP TABLE ctid_before AS SELECT id, ctid AS tid FROM t;
CREATE TEMP TABLE seg_before AS SELECT * FROM vlake.table_segments('t');
CREATE TEMP TABLE files_before AS SELECT segment_id, group_no, kind, path, size
  FROM vlake.files WHERE relid = 't'::regclass;
SELECT version AS v_before FROM vlake.datasets WHERE relid = 't'::regclass \gset

-- bad input
SELECT * FROM vlake.compact('h');
SELECT * FROM vlake.compact('t', 1.5);
SELECT * FROM vlake.compact(NULL);

-- ======== purge only (no merge): the half-deleted segment's files are
-- rewritten, the 2% and 1% ones are not
SELECT vlake.io_stats_reset();
SELECT segments_merged, rows_purged, groups_rewritten, groups_dropped,
       bytes_read > 0 AS read, bytes_written > 0 AS wrote
  FROM vlake.compact('t', merge => false);
-- what the object store wrote: the rewritten files and their birth markers
SELECT sum(bytes_written) >= (SELECT sum(size) FROM vlake.files f
                               WHERE relid = 't'::regclass
                                 AND NOT EXISTS (SELECT 1 FROM files_before b WHERE b.path = f.path))
         AS io_counted,
       sum(bytes_written) < (SELECT bytes FROM seg_before ORDER BY first_row_id LIMIT 1) AS less_than_segment
  FROM vlake.io_stats;
-- per file: which changed, and the rewritten ones are smaller
SELECT b.segment_id, b.kind, f.path <> b.path AS rewritten,
       CASE WHEN b.kind <> 'parquet' THEN f.size < b.size END AS smaller,
       f.purged_rows
  FROM files_before b JOIN vlake.files f
    ON f.relid = 't'::regclass AND f.segment_id = b.segment_id AND f.group_no = b.group_no
 ORDER BY b.segment_id, b.group_no;
SELECT s.segment_id, s.row_count = b.row_count AS same_rows, s.first_row_id = b.first_row_id AS same_range,
       s.bytes < b.bytes AS smaller
  FROM vlake.table_segments('t') s JOIN seg_before b USING (segment_id) ORDER BY 1;
-- the replaced files are listed for the table GC (their part is still in use)
SELECT count(*) AS retired, bool_and(path IN (SELECT path FROM files_before WHERE segment_id = 1)) AS old_files_of_segment_1
  FROM vlake.retired_files WHERE relid = 't'::regclass;
-- one new version "compact", published
SELECT version = :v_before + 1 AS one_version FROM vlake.datasets WHERE relid = 't'::regclass;
SELECT operation, rows_added, rows_deleted, bytes_written > 0 AS bytes
  FROM vlake.versions WHERE relid = 't'::regclass AND version = :v_before + 1;
SELECT (m->>'version')::bigint = :v_before + 1 AS published,
       (SELECT sum((sg->'deletes'->>'cardinality')::bigint) FROM jsonb_array_elements(m->'segments') sg)
         AS deletes_in_manifest
  FROM vlake.table_manifest('t') m;
-- the same rows as heap, the same ctids as before
SELECT count(*) AS missing FROM (SELECT id, g, s, e::text FROM h EXCEPT SELECT id, g, s, e::text FROM t) x;
SELECT count(*) AS extra FROM (SELECT id, g, s, e::text FROM t EXCEPT SELECT id, g, s, e::text FROM h) x;
SELECT count(*) AS rows, count(*) FILTER (WHERE b.tid = t.ctid) AS same_ctid
  FROM t JOIN ctid_before b USING (id);
-- index scans: btree and vlake (every list probed) return heap's rows
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS btree_diff FROM (
  (SELECT id, g FROM t WHERE id BETWEEN 900 AND 1100 EXCEPT SELECT id, g FROM h WHERE id BETWEEN 900 AND 1100)
  UNION ALL
  (SELECT id, g FROM h WHERE id BETWEEN 900 AND 1100 EXCEPT SELECT id, g FROM t WHERE id BETWEEN 900 AND 1100)) x;
SET vlake.probes = 4;
SELECT (SELECT e FROM h WHERE id = 3) AS q \gset
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY e <-> :'q' LIMIT 20;
SELECT array_agg(round((e <-> :'q')::numeric, 4) ORDER BY e <-> :'q') =
       (SELECT array_agg(round(d::numeric, 4) ORDER BY d)
          FROM (SELECT e <-> :'q' AS d FROM h ORDER BY e <-> :'q' LIMIT 20) x) AS vlake_index_ok,
       bool_and(t.e::text = (SELECT h.e::text FROM h WHERE h.id = t.id)) AS same_vectors
  FROM (SELECT * FROM t ORDER BY e <-> :'q' LIMIT 20) t;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- again: nothing left worth rewriting (2% deleted does not rewrite a group)
SELECT segments_merged, rows_purged, groups_rewritten FROM vlake.compact('t', merge => false);
-- with min_savings 0 the 2% segment is rewritten too (the updated rows of the
-- 1% segment are not erased: a flush folds their new versions back)
SELECT segments_merged, rows_purged, groups_rewritten FROM vlake.compact('t', 0, false);

-- ======== merges: adjacent small segments, not across a gap
CREATE TABLE h2 (id int, v text);
CREATE TABLE t2 (id int, v text) USING vlake;
INSERT INTO h2 SELECT k, 'r' || k FROM generate_series(1, 1500) k;
SELECT :'lake' || '/tables_compact_2.csv' AS csv2 \gset
COPY (SELECT * FROM h2 WHERE id <= 300) TO :'csv2' (FORMAT csv);
COPY t2 FROM :'csv2' (FORMAT csv);
COPY (SELECT * FROM h2 WHERE id BETWEEN 301 AND 600) TO :'csv2' (FORMAT csv);
COPY t2 FROM :'csv2' (FORMAT csv);
COPY (SELECT * FROM h2 WHERE id BETWEEN 601 AND 900) TO :'csv2' (FORMAT csv);
COPY t2 FROM :'csv2' (FORMAT csv);
-- an aborted COPY leaves a gap of reserved row IDs
BEGIN;
COPY t2 FROM :'csv2' (FORMAT csv);
ROLLBACK;
COPY (SELECT * FROM h2 WHERE id BETWEEN 901 AND 1200) TO :'csv2' (FORMAT csv);
COPY t2 FROM :'csv2' (FORMAT csv);
COPY (SELECT * FROM h2 WHERE id BETWEEN 1201 AND 1500) TO :'csv2' (FORMAT csv);
COPY t2 FROM :'csv2' (FORMAT csv);
CREATE INDEX ON t2 (id);
DELETE FROM h2 WHERE id % 3 = 0;
DELETE FROM t2 WHERE id % 3 = 0;
UPDATE h2 SET v = v || '!' WHERE id % 7 = 0;
UPDATE t2 SET v = v || '!' WHERE id % 7 = 0;
CREATE TEMP TABLE ctid2 AS SELECT id, ctid AS tid FROM t2;
SELECT first_row_id, end_row_id, row_count FROM vlake.table_segments('t2');
SELECT segments_merged, rows_purged, groups_rewritten FROM vlake.compact('t2');
SELECT first_row_id, end_row_id, row_count FROM vlake.table_segments('t2');
SELECT count(*) AS missing FROM (SELECT * FROM h2 EXCEPT SELECT * FROM t2) x;
SELECT count(*) AS extra FROM (SELECT * FROM t2 EXCEPT SELECT * FROM h2) x;
SELECT count(*) AS rows, count(*) FILTER (WHERE b.tid = t2.ctid) AS same_ctid
  FROM t2 JOIN ctid2 b USING (id);
SET enable_seqscan = off;
SELECT count(*) AS btree_rows, sum(id) = (SELECT sum(id) FROM h2 WHERE id BETWEEN 250 AND 1250) AS same_ids
  FROM t2 WHERE id BETWEEN 250 AND 1250;
RESET enable_seqscan;
-- the merged segments' delete vectors: one per segment, cumulative, in the manifest
SELECT jsonb_array_length(m->'segments') AS segments,
       (SELECT sum((sg->'deletes'->>'cardinality')::bigint) FROM jsonb_array_elements(m->'segments') sg)
         = (SELECT count(*) FROM generate_series(1, 1500) k WHERE k % 3 = 0 OR k % 7 = 0) AS deletes_ok
  FROM vlake.table_manifest('t2') m;
SELECT count(*) AS delete_files_of_removed_segments FROM vlake.delete_files d
 WHERE relid = 't2'::regclass
   AND NOT EXISTS (SELECT 1 FROM vlake.segments s WHERE s.relid = d.relid AND s.segment_id = d.segment_id);
-- later deletes and updates of merged rows
DELETE FROM h2 WHERE id BETWEEN 100 AND 110;
DELETE FROM t2 WHERE id BETWEEN 100 AND 110;
SELECT count(*) AS diff FROM ((SELECT * FROM h2 EXCEPT SELECT * FROM t2) UNION ALL (SELECT * FROM t2 EXCEPT SELECT * FROM h2)) x;

-- no compaction in progress now
SELECT count(*) AS running FROM vlake.stat_progress_compact;
