-- Publication of vlake tables (docs/tables.md, "Publication"): every commit
-- that changes a table's lake publishes the manifest of its new version
-- (docs/manifest.md).  The oracle is the table itself (counts, ids, what
-- each statement did) and the chain rules of the manifest spec; the TAP
-- test 061 reads the files with DuckDB.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
SELECT set_config('test.lake', :'lake', false) IS NOT NULL AS lake_set;
\set root 'file://' :lake '/tables_manifest/t'
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('rm -rf %s/tables_manifest', current_setting('test.lake')));
END $$;
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text;
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
  RETURN replace(SQLSTATE || ': ' || msg, current_setting('test.lake'), '$LAKE');
END $$;
-- remove a file of the lake (to simulate a lost put)
CREATE FUNCTION pg_temp.rm(rel text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
                 format('rm -f %s/tables_manifest/t/%s', current_setting('test.lake'), rel));
END $$;

SET vlake.copy_lake_threshold = 0;
CREATE TABLE t (id int NOT NULL, name text, score float8, grp varchar(8), emb vector(3))
  USING vlake WITH (location = :'root');
ALTER TABLE t ADD COLUMN dropme int;
ALTER TABLE t DROP COLUMN dropme;
-- the latest manifest, and one version of it
CREATE FUNCTION pg_temp.m(v bigint DEFAULT NULL) RETURNS jsonb LANGUAGE sql
  AS $$ SELECT vlake.table_manifest('t', v) $$;

-- nothing committed to the lake yet
SELECT pg_temp.try('SELECT vlake.table_manifest(''t'')');
INSERT INTO t SELECT i, 'n' || i, i * 0.5, 'g' || (i % 3), ARRAY[i, i + 1, i + 2]::real[]::vector
  FROM generate_series(1, 100) i;
SELECT pg_temp.try('SELECT vlake.table_manifest(''t'')');

-- version 1: a flush of the delta
SELECT vlake.flush('t');
SELECT m->'format', m->'format_version', m->'version', m->'parent_version', m->'next_row_id',
       m->'dataset_id' = to_jsonb((SELECT dataset_id::text FROM vlake.datasets WHERE relid = 't'::regclass)) AS dataset_id_ok,
       m->'lineage'->'operation' AS op, m->'lineage'->'rows_added' AS added,
       (m->'lineage'->>'bytes_written')::bigint = (SELECT sum(size) FROM vlake.files WHERE relid = 't'::regclass) AS bytes_ok,
       m->'lineage'->>'writer' LIKE 'vlake % (database %, role %)' AS writer_ok,
       m->'schema'->'next_field_id' AS next_field_id, m->'indexes', m->'properties'
  FROM pg_temp.m() m;
-- fields: id = attnum (6 was dropped: not listed, never reused), types
SELECT f->'id' AS id, f->>'name' AS name, f->>'type' AS type, f->'nullable' AS nullable,
       f->'dim' AS dim, f->>'element' AS element, f->>'pg_type' AS pg_type
  FROM jsonb_array_elements(pg_temp.m()->'schema'->'fields') f;
-- the segment and its ColumnGroups, against vlake.files
SELECT s->'id' AS seg, s->'first_row_id' AS first, s->'end_row_id' AS "end", s->'row_count' AS rows,
       g->>'layout' AS layout, g->'field_ids' AS field_ids, g->'row_count' AS g_rows,
       (g->>'size')::bigint = f.size AS size_ok, g->>'etag' = f.etag AS etag_ok,
       jsonb_array_length(g->'stats') AS nstats
  FROM jsonb_array_elements(pg_temp.m()->'segments') s, jsonb_array_elements(s->'groups') g
  JOIN vlake.files f ON f.relid = 't'::regclass AND f.path = g->>'path'
  ORDER BY 1, 5, 6::text;
-- statistics of the scalar group
SELECT st FROM jsonb_array_elements(pg_temp.m()->'segments'->0->'groups') g,
       jsonb_array_elements(g->'stats') st
 WHERE g->>'layout' = 'parquet' ORDER BY st->>'field_id';

-- version 2: COPY straight into a segment
COPY t (id, name, score, grp, emb) FROM stdin;
101	n101	50.5	g2	[1,2,3]
102	\N	51	g0	[4,5,6]
103	n103	\N	\N	\N
\.
SELECT m->'version', m->'parent_version', m->'next_row_id', m->'lineage'->'operation',
       m->'lineage'->'rows_added', jsonb_array_length(m->'segments') AS nsegments
  FROM pg_temp.m() m;

-- a rolled-back flush publishes nothing
INSERT INTO t SELECT i, 'n' || i, i, 'g', NULL FROM generate_series(104, 110) i;
BEGIN;
SELECT vlake.flush('t');
ROLLBACK;
SELECT pg_temp.m()->'version' AS still_2;
-- and a flush in a subtransaction that rolls back, then one that commits
BEGIN;
SAVEPOINT a;
SELECT vlake.flush('t');
ROLLBACK TO a;
SELECT count(*) FROM t;
COMMIT;
SELECT pg_temp.m()->'version' AS still_2;
SELECT vlake.flush('t');
SELECT m->'version', m->'parent_version', m->'lineage'->'rows_added',
       jsonb_array_length(m->'segments') AS nsegments FROM pg_temp.m() m;

-- version 4: deletes of lake rows make delete vectors
DELETE FROM t WHERE id % 10 = 0 OR id = 102;
SELECT m->'version', m->'lineage'->'operation', m->'lineage'->'rows_deleted',
       m->'lineage'->'rows_added' FROM pg_temp.m() m;
-- per segment: cardinality = deleted rows of its row-ID range (ids 1..100
-- are rows 0..99 of segment 1; 101..103 segment 2; 104..110 segment 3)
SELECT s->'id' AS seg, s->'deletes'->'cardinality' AS cardinality,
       s->'deletes'->>'path' ~ ('^deletes/' || (s->>'id') || '-v4-[0-9a-f]{32}\.bin$') AS path_ok,
       (s->'deletes'->>'size')::int > 8 AS size_ok
  FROM jsonb_array_elements(pg_temp.m()->'segments') s ORDER BY 1;
SELECT count(*) AS rows_left FROM t;
-- an UPDATE of a lake row deletes it there too (the new version is in the delta)
UPDATE t SET name = 'renamed' WHERE id = 1;
SELECT m->'version', m->'lineage'->'rows_deleted',
       m->'segments'->0->'deletes'->'cardinality' AS seg1_cardinality,
       m->'segments'->1->'deletes' = pg_temp.m(4)->'segments'->1->'deletes' AS seg2_vector_kept
  FROM pg_temp.m() m;
-- a delete of delta rows only changes no lake version
DELETE FROM t WHERE id = 1;
SELECT pg_temp.m()->'version' AS still_5;
-- a rolled-back delete of lake rows neither
BEGIN;
DELETE FROM t WHERE id < 50;
ROLLBACK;
SELECT pg_temp.m()->'version' AS still_5;

-- one transaction, several lake changes: one version
BEGIN;
COPY t (id, name) FROM stdin;
200	x
201	y
\.
DELETE FROM t WHERE id = 2;
COMMIT;
SELECT m->'version', m->'lineage'->'operation', m->'lineage'->'rows_added',
       m->'lineage'->'rows_deleted', jsonb_array_length(m->'segments') AS nsegments
  FROM pg_temp.m() m;

-- the chain: versions 1.. each with parent = version - 1, next_row_id never decreasing
SELECT v, pg_temp.m(v)->'version' AS version, pg_temp.m(v)->'parent_version' AS parent,
       pg_temp.m(v)->'next_row_id' AS next_row_id, pg_temp.m(v)->'lineage'->>'operation' AS op,
       pg_temp.m(v)->'dataset_id' = pg_temp.m(1)->'dataset_id' AS same_dataset
  FROM generate_series(1, 6) v;

-- TRUNCATE publishes an empty version
TRUNCATE t;
SELECT m->'version', m->'parent_version', m->'lineage'->'operation', m->'segments',
       m->'next_row_id' FROM pg_temp.m() m;
SELECT count(*) FROM vlake.delete_files WHERE relid = 't'::regclass;

-- repair: nothing missing
SELECT vlake.table_publish('t');
-- the latest manifest lost (a crash between commit and put): rebuilt from
-- the catalog, byte for byte
SELECT pg_temp.m() AS before \gset
SELECT pg_temp.rm('_manifest/00000000000000000007.json');
SELECT pg_temp.m()->'version' AS now_6;
SELECT vlake.table_publish('t');
SELECT pg_temp.m() = :'before'::jsonb AS same_document;
-- an older version lost cannot be rebuilt: reported, not written
SELECT pg_temp.rm('_manifest/00000000000000000003.json');
SELECT vlake.table_publish('t');
SELECT pg_temp.try('SELECT vlake.table_manifest(''t'', 3)');
-- the next writer (another session: this one knows it put version 7)
-- publishes its parent if that is missing
SELECT pg_temp.rm('_manifest/00000000000000000007.json');
\c
SET vlake.copy_lake_threshold = 0;
COPY t (id, name) FROM stdin;
300	z
\.
SELECT vlake.table_manifest('t', 7) = :'before'::jsonb AS parent_republished,
       vlake.table_manifest('t')->'version' AS latest;
SELECT set_config('test.lake', :'lake', false) IS NOT NULL AS lake_set;
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text;
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
  RETURN replace(SQLSTATE || ': ' || msg, current_setting('test.lake'), '$LAKE');
END $$;
-- the hint names a recent version
SELECT pg_read_file(current_setting('test.lake') || '/tables_manifest/t/_manifest/_latest') AS hint;

-- errors
SELECT pg_temp.try('SELECT vlake.table_manifest(''t'', 99)');
SELECT pg_temp.try('SELECT vlake.table_manifest(''t'', 0)');
CREATE TABLE h (a int);
SELECT pg_temp.try('SELECT vlake.table_publish(''h'')');
CREATE ROLE manifest_reader;
GRANT SELECT ON t TO manifest_reader;
SET ROLE manifest_reader;
SELECT pg_temp.try('SELECT vlake.table_publish(''t'')');
SELECT vlake.table_manifest('t')->'version' AS reader_sees;
RESET ROLE;
REVOKE ALL ON t FROM manifest_reader;
DROP ROLE manifest_reader;
DROP TABLE t;
DROP TABLE h;
