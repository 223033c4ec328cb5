-- DROP TABLE of a vlake table (docs/tables.md, "Dropping a table"): its
-- dataset stays in the lake as published for the table's retention, then
-- the garbage collection removes what vlake wrote under its root —
-- manifests, delete vectors, table parts, index parts — and nothing else.
-- Oracle: the files on disk (pg_ls_dir), listed before the DROP.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
SELECT set_config('test.lake', :'lake', false) IS NOT NULL AS lake_set;
\set root1 'file://' :lake '/tables_drop/d1/'
\set root2 'file://' :lake '/tables_drop/d2/'
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('rm -rf %s/tables_drop; mkdir -p %s/tables_drop',
                 current_setting('test.lake'), current_setting('test.lake')));
END $$;
-- every file under a root, relative, recursively (directories left out)
CREATE FUNCTION pg_temp.files(root text) RETURNS SETOF text LANGUAGE sql AS $$
  WITH RECURSIVE t(p, d) AS (
    SELECT x, (pg_stat_file(current_setting('test.lake') || '/tables_drop/' || root || '/' || x)).isdir
      FROM pg_ls_dir(current_setting('test.lake') || '/tables_drop/' || root, true, false) x
    UNION ALL
    SELECT t.p || '/' || x, (pg_stat_file(current_setting('test.lake') || '/tables_drop/' || root || '/' || t.p || '/' || x)).isdir
      FROM t, pg_ls_dir(current_setting('test.lake') || '/tables_drop/' || root || '/' || t.p, true, false) x
     WHERE t.d)
  SELECT p FROM t WHERE NOT d ORDER BY 1 $$;
-- what each file is, for the listings below
CREATE FUNCTION pg_temp.kinds(root text) RETURNS TABLE (kind text, n bigint) LANGUAGE sql AS $$
  SELECT CASE WHEN f ~ '^_manifest/' THEN 'manifest' WHEN f ~ '^deletes/' THEN 'delete vector'
              WHEN f ~ '^data/db' THEN 'table part' WHEN f ~ '^vlake_index/db' THEN 'index part'
              ELSE f END, count(*)
    FROM pg_temp.files(root) f GROUP BY 1 ORDER BY 1 $$;
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN regexp_replace(SQLERRM, 'file://[^"]*', '<uri>', 'g');
END $$;

-- ======== two tables: d1 with retention 0 (due at once), d2 with 7 days
CREATE TABLE d1 (id int NOT NULL, note text, emb vector(3)) USING vlake
  WITH (location = :'root1', retention = '0s');
CREATE TABLE d2 (id int NOT NULL, note text) USING vlake WITH (location = :'root2', retention = '7 days');
INSERT INTO d1 SELECT i, 'n' || i, ARRAY[i, i % 7, 1]::real[]::vector FROM generate_series(1, 500) i;
INSERT INTO d2 SELECT i, 'm' || i FROM generate_series(1, 50) i;
SELECT vlake.flush('d1') AS flushed1, vlake.flush('d2') AS flushed2;
DELETE FROM d1 WHERE id % 10 = 0;      -- a delete vector
CREATE INDEX d1_emb ON d1 USING vlake (emb vector_l2_ops) WITH (lists = 4);   -- an index part under the root
INSERT INTO d1 SELECT i, 'x' || i, ARRAY[i, 1, 1]::real[]::vector FROM generate_series(501, 600) i;
SELECT vlake.flush('d1') AS flushed_again;
-- objects vlake did not write, inside the root and inside data/: never touched
DO $$ BEGIN
  EXECUTE format('COPY (SELECT %L) TO %L', 'user bytes', current_setting('test.lake') || '/tables_drop/d1/media.txt');
  EXECUTE format('COPY (SELECT %L) TO %L', 'user bytes', current_setting('test.lake') || '/tables_drop/d1/data/notes.txt');
END $$;
SELECT * FROM pg_temp.kinds('d1');

-- ======== a DROP that rolls back records nothing and removes nothing
BEGIN;
DROP TABLE d1;
ROLLBACK;
SELECT count(*) AS dropped_rows FROM vlake.dropped_datasets;
SELECT count(*) AS rows_still_there FROM d1;

-- ======== DROP: the dataset is recorded with its retention; nothing is removed yet
CREATE TEMP TABLE before AS SELECT f FROM pg_temp.files('d1') f;
DROP TABLE d1;
DROP TABLE d2;
SELECT relname, root = :'root1' OR root = :'root2' AS root_ok, retention, dropped_at <= now() AS dropped_at_ok
  FROM vlake.dropped_datasets ORDER BY relname;
SELECT count(*) AS files_missing FROM before b WHERE b.f NOT IN (SELECT pg_temp.files('d1'));
-- the root still holds the dataset: a new table cannot take it
SELECT pg_temp.try(format('CREATE TABLE d1b (id int) USING vlake WITH (location = %L); INSERT INTO d1b VALUES (1); SELECT vlake.flush(''d1b'')', :'root1')) AS reuse_before_gc;

-- ======== GC passes: manifests and delete vectors first, then the parts
-- (retired by one pass, removed by a later one), then the row
SELECT count(*) FILTER (WHERE x ~ '/_manifest/') > 0 AS manifests_removed,
       count(*) FILTER (WHERE x ~ '/deletes/') > 0 AS delete_vectors_removed
  FROM vlake.dropped_table_gc('0') x;
SELECT count(*) >= 0 AS pass FROM vlake.dropped_table_gc('0');
SELECT count(*) >= 0 AS pass FROM vlake.dropped_table_gc('0');
SELECT relname FROM vlake.dropped_datasets ORDER BY relname;
-- what is left under d1's root: only what vlake did not write
SELECT * FROM pg_temp.files('d1');
-- d2 (7 days of retention) is intact
SELECT * FROM pg_temp.kinds('d2');
-- the root can hold a new table now
SELECT pg_temp.try(format('CREATE TABLE d1c (id int) USING vlake WITH (location = %L)', :'root1')) AS reuse_after_gc;
INSERT INTO d1c VALUES (1), (2);
SELECT vlake.flush('d1c') AS flushed, count(*) AS rows FROM d1c;

-- ======== privileges
CREATE ROLE vlake_drop_user;
SET ROLE vlake_drop_user;
SELECT pg_temp.try('SELECT * FROM vlake.dropped_datasets') AS catalog_select;
SELECT pg_temp.try('SELECT * FROM vlake.dropped_table_gc()') AS gc_call;
RESET ROLE;
DROP ROLE vlake_drop_user;
DROP TABLE d1c;
SELECT pg_temp.try('SELECT * FROM vlake.dropped_table_gc(''-1 s'')') AS negative_min_age;
