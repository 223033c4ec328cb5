-- Schema evolution without rewrites, column backfills and UPDATEs that
-- write only the columns they change (docs/tables.md, "Changing columns").
-- The oracle is a heap table h given the same statements as the vlake
-- table t; the catalog's file list (paths and ETags) and the write counters
-- prove which files were (not) written.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
SET vlake.copy_lake_threshold = 0;

CREATE FUNCTION emb(i int, d int, salt int) RETURNS vector LANGUAGE sql IMMUTABLE AS
$$ SELECT array_agg(((i * 7 + j * salt) % 101)::real / 10 ORDER BY j)::real[]::vector
   FROM generate_series(1, d) j $$;

CREATE TABLE h (id int PRIMARY KEY, video int, caption text, tag varchar(20), e vector(16));
CREATE TABLE t (id int PRIMARY KEY, video int, caption text, tag varchar(20), e vector(16)) USING vlake;
INSERT INTO h SELECT g, g % 37, 'caption ' || g, 'tag' || (g % 5), emb(g, 16, 3)
  FROM generate_series(1, 3000) g;
-- three segments (COPY writes them directly) and a few delta rows
COPY (SELECT * FROM h WHERE id <= 1000) TO '/tmp/vlake_evolve_1.csv' (FORMAT csv);
COPY (SELECT * FROM h WHERE id > 1000 AND id <= 2000) TO '/tmp/vlake_evolve_2.csv' (FORMAT csv);
COPY (SELECT * FROM h WHERE id > 2000 AND id <= 2990) TO '/tmp/vlake_evolve_3.csv' (FORMAT csv);
COPY t FROM '/tmp/vlake_evolve_1.csv' (FORMAT csv);
COPY t FROM '/tmp/vlake_evolve_2.csv' (FORMAT csv);
COPY t FROM '/tmp/vlake_evolve_3.csv' (FORMAT csv);
INSERT INTO t SELECT * FROM h WHERE id > 2990;
CREATE INDEX t_video ON t (video);
CREATE INDEX h_video ON h (video);

-- same rows through a sequential scan and through the video index
CREATE FUNCTION same(label text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a bigint; b bigint; c bigint; n bigint;
BEGIN
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  EXECUTE 'SELECT count(*) FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM h) x' INTO a;
  EXECUTE 'SELECT count(*) FROM (SELECT * FROM h EXCEPT ALL SELECT * FROM t) x' INTO b;
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  EXECUTE 'SELECT count(*) FROM (SELECT * FROM t WHERE video IN (3, 17) EXCEPT ALL
            SELECT * FROM h WHERE video IN (3, 17)) x' INTO c;
  SELECT count(*) INTO n FROM h;
  RETURN format('%s: %s rows, %s', label, n,
                CASE WHEN a + b + c = 0 THEN 'same' ELSE format('DIFFER (%s, %s, %s)', a, b, c) END);
END $$;

-- what the lake holds now, to compare later (the delta flushed first: a
-- backfill flushes it, which writes a segment of its own)
SELECT vlake.flush('t');
CREATE TABLE files0 AS SELECT segment_id, group_no, kind, path, etag, attnums FROM vlake.files
  WHERE relid = 't'::regclass;
CREATE TABLE tids0 AS SELECT id, ctid AS tid FROM t;
SELECT count(*) AS segments FROM vlake.table_segments('t');
SELECT same('loaded');

-- ======== ADD COLUMN / DROP COLUMN rewrite no file; a constant default is
-- written once per segment into a small file of that column only (so that
-- other engines reading the published files see it too)
ALTER TABLE t ADD COLUMN score int DEFAULT 7, ADD COLUMN label text, ADD COLUMN e2 vector(32);
ALTER TABLE h ADD COLUMN score int DEFAULT 7, ADD COLUMN label text, ADD COLUMN e2 vector(32);
SELECT same('added columns');
SELECT count(*) FROM t WHERE score = 7;          -- the default, from lake rows without the column
SELECT count(*) FROM t WHERE score = 7 AND id <= 1000;
ALTER TABLE t DROP COLUMN tag;
ALTER TABLE h DROP COLUMN tag;
SELECT same('dropped a column');
SELECT count(*) AS old_files_gone FROM (
  SELECT segment_id, group_no, path, etag FROM files0
  EXCEPT SELECT segment_id, group_no, path, etag FROM vlake.files WHERE relid = 't'::regclass) x;
SELECT kind, attnums, count(*), max(size) < 1024 AS small FROM vlake.files
  WHERE relid = 't'::regclass AND path NOT IN (SELECT path FROM files0) GROUP BY 1, 2;
SELECT operation FROM vlake.versions WHERE relid = 't'::regclass ORDER BY version DESC LIMIT 1;
DELETE FROM files0;
INSERT INTO files0 SELECT segment_id, group_no, kind, path, etag, attnums FROM vlake.files
  WHERE relid = 't'::regclass;

-- ======== backfill a vector column: only its ColumnGroup is written
SELECT vlake.io_stats_reset();
SELECT vlake.backfill('t', 'e2', 'SELECT id, emb(id, 32, 5) FROM t');
UPDATE h SET e2 = emb(id, 32, 5);
SELECT same('backfilled e2');
-- bytes written: at most 1.1 x the new column's raw size (32 float4 per row)
SELECT sum(bytes_written) <= 1.1 * 3000 * 32 * 4 AS within_110pct,
       sum(bytes_written) >= 2990 * 32 * 4 AS wrote_the_column
  FROM vlake.io_stats;
-- every old file is still listed with the same bytes; the new ones hold e2 only
SELECT count(*) AS old_files_kept FROM files0 f JOIN vlake.files g
  ON g.relid = 't'::regclass AND g.path = f.path AND g.etag = f.etag;
SELECT kind, attnums, count(*) FROM vlake.files
  WHERE relid = 't'::regclass AND path NOT IN (SELECT path FROM files0) GROUP BY 1, 2;
-- no row moved
SELECT count(*) AS moved FROM t JOIN tids0 USING (id) WHERE t.ctid <> tids0.tid;
-- a second backfill of some rows supersedes the first's file of those segments
SELECT vlake.backfill('t', 'e2', 'SELECT id, emb(id, 32, 11) FROM t WHERE id % 100 = 1');
UPDATE h SET e2 = emb(id, 32, 11) WHERE id % 100 = 1;
SELECT same('backfilled again');
SELECT count(*) AS e2_files FROM vlake.files WHERE relid = 't'::regclass AND attnums = '{7}';

-- backfill by another key, from a staging table (as from Parquet files:
-- vlake.parquet_read works the same way); rows the source does not name keep
-- their value
CREATE TABLE staging (video int, lbl text);
INSERT INTO staging SELECT v, 'video ' || v FROM generate_series(0, 20) v;
SELECT vlake.backfill('t', 'label', 'SELECT video, lbl FROM staging', key => 'video');
UPDATE h SET label = s.lbl FROM staging s WHERE h.video = s.video;
SELECT same('backfilled label by video');
SELECT count(*) FILTER (WHERE label IS NULL) AS unlabelled FROM t;

-- a row still in the delta (this transaction's) is updated in place
BEGIN;
INSERT INTO t (id, video, caption, e) VALUES (5001, 3, 'own row', emb(5001, 16, 3));
INSERT INTO h (id, video, caption, e) VALUES (5001, 3, 'own row', emb(5001, 16, 3));
SELECT vlake.backfill('t', 'label', $$SELECT 5001, 'own label' UNION ALL SELECT 2, 'two'$$);
UPDATE h SET label = 'own label' WHERE id = 5001;
UPDATE h SET label = 'two' WHERE id = 2;
COMMIT;
SELECT same('backfilled a delta row');

-- refused: a key given twice, unknown columns, no privilege; a rolled-back
-- backfill leaves nothing
SELECT vlake.backfill('t', 'score', 'SELECT 5, 1 UNION ALL SELECT 5, 2');
SELECT vlake.backfill('t', 'nosuch', 'SELECT 1, 1');
SELECT vlake.backfill('t', 'score', 'SELECT 1, 1', key => 'nosuch');
BEGIN;
SELECT vlake.backfill('t', 'score', 'SELECT id, -1 FROM t');
SELECT count(*) FROM t WHERE score = -1;
ROLLBACK;
SELECT same('after a rolled-back backfill');
CREATE ROLE vlake_evolve_reader;
GRANT SELECT ON t TO vlake_evolve_reader;
SET ROLE vlake_evolve_reader;
SELECT vlake.backfill('t', 'score', 'SELECT 1, 1');
RESET ROLE;

-- backfilling an indexed column rebuilds its indexes
SELECT vlake.backfill('t', 'video', 'SELECT id, video + 100 FROM t WHERE id % 3 = 0');
UPDATE h SET video = video + 100 WHERE id % 3 = 0;
SELECT same('backfilled the indexed column');

-- ======== UPDATE of a short column on 1% of the rows, then a flush:
-- the rows keep their row IDs and no vector file is written
CREATE TABLE files1 AS SELECT path, etag, kind FROM vlake.files WHERE relid = 't'::regclass;
SELECT vlake.flush('t');
CREATE TABLE tids1 AS SELECT id, ctid AS tid FROM t;
UPDATE t SET caption = 'corrected ' || id WHERE id % 100 = 42;
UPDATE h SET caption = 'corrected ' || id WHERE id % 100 = 42;
SELECT same('captions corrected, before the flush');
SELECT vlake.flush('t');
SELECT same('captions corrected, flushed');
SELECT count(*) AS moved FROM t JOIN tids1 USING (id) WHERE t.ctid <> tids1.tid;
SELECT count(*) AS new_vector_files FROM vlake.files
  WHERE relid = 't'::regclass AND kind = 'vector_cg' AND path NOT IN (SELECT path FROM files1);
SELECT count(*) AS lake_rows_updated FROM vlake.row_states WHERE relid = 't'::regclass;
-- an UPDATE that changes an indexed column gives the row a new row ID
UPDATE t SET video = -1 WHERE id = 77;
UPDATE h SET video = -1 WHERE id = 77;
SELECT vlake.flush('t');
SELECT (SELECT ctid FROM t WHERE id = 77) <> (SELECT tid FROM tids1 WHERE id = 77) AS moved_77;
SELECT same('indexed column updated');
SET enable_seqscan = off;
SELECT id, video FROM t WHERE video = -1;
RESET enable_seqscan;

-- ======== the manifest lists the patches: a later group holding a field
-- supersedes an earlier one's copy
SELECT s->>'id' AS segment, jsonb_agg(g->'field_ids' ORDER BY ord) AS groups
  FROM vlake.table_manifest('t') m, jsonb_array_elements(m->'segments') s,
       jsonb_array_elements(s->'groups') WITH ORDINALITY AS x(g, ord)
  GROUP BY 1 ORDER BY 1;

-- an update waiting in the delta survives a compaction that erases deleted
-- rows: its row's other columns are kept for the flush that folds it back
UPDATE t SET caption = 'compacted ' || id WHERE id % 100 = 43;
UPDATE h SET caption = 'compacted ' || id WHERE id % 100 = 43;
DELETE FROM t WHERE id % 100 = 44;
DELETE FROM h WHERE id % 100 = 44;
SELECT rows_purged > 0 AS purged FROM vlake.compact('t', min_savings => 0);
SELECT vlake.flush('t');
SELECT same('folded after a compaction');
SELECT count(*) AS moved FROM t JOIN tids1 USING (id) WHERE t.ctid <> tids1.tid AND id <> 77;

-- ======== the embedding model is per column and a change is a version
SELECT max(version) AS v FROM vlake.versions WHERE relid = 't'::regclass \gset
SELECT vlake.set_embedding_model('t', 'e2', 'example/e2-model', '2');
SELECT operation FROM vlake.versions WHERE relid = 't'::regclass AND version = :v + 1;
SELECT m->'lineage'->'operation' AS op, m->'lineage'->'models' AS models
  FROM vlake.table_manifest('t') m;

-- ======== a rewrite (a volatile default, a type change) moves every row
-- into the delta; VACUUM FULL keeps the lake rows where they are
ALTER TABLE t ADD COLUMN r int DEFAULT (random() * 0)::int;
ALTER TABLE h ADD COLUMN r int DEFAULT (random() * 0)::int;
SELECT same('volatile default (a rewrite)');
SELECT count(*) AS segments FROM vlake.table_segments('t');
SELECT vlake.flush('t') AS flushed;
ALTER TABLE t ALTER COLUMN video TYPE bigint;
ALTER TABLE h ALTER COLUMN video TYPE bigint;
SELECT same('type change (a rewrite)');
SELECT vlake.flush('t') AS flushed;
VACUUM FULL t;
SELECT same('vacuum full');
SELECT count(*) AS segments FROM vlake.table_segments('t');

DROP TABLE t, h, staging, files0, files1, tids0, tids1;
DROP ROLE vlake_evolve_reader;
