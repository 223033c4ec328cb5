-- Time travel, lineage and retention of vlake tables (docs/tables.md, "Time
-- travel", "Lineage", "Retention").  Oracle: a heap twin given the same
-- statements; after each lake version, a heap copy of the rows that version
-- holds (the delta is part of no version: every version here is taken with
-- an empty delta, or its delta rows are left out of the copy by hand).
-- Every version is compared EXCEPT both ways, by number and by timestamp.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
SELECT set_config('test.lake', :'lake', false) IS NOT NULL AS lake_set;
\set root 'file://' :lake '/tables_timetravel/t'
\set rroot 'file://' :lake '/tables_timetravel/r'
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('rm -rf %s/tables_timetravel; mkdir -p %s/tables_timetravel',
                 current_setting('test.lake'), current_setting('test.lake')));
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

SET vlake.copy_lake_threshold = 0;
SET vlake.segment_rows = 1000;
CREATE TABLE t (id int PRIMARY KEY, name text, score float8, emb vector(3))
  USING vlake WITH (location = :'root');
CREATE TABLE h (id int PRIMARY KEY, name text, score float8, emb vector(3));
-- one oracle per version: oracle(version) = the rows of h then
CREATE TABLE oracles (tname text, version bigint, tbl text, PRIMARY KEY (tname, version));
CREATE FUNCTION pg_temp.latest(tname text DEFAULT 't') RETURNS bigint LANGUAGE sql
  AS $$ SELECT max(version) FROM vlake.table_versions(tname::regclass) $$;
CREATE FUNCTION pg_temp.keep(query text DEFAULT 'SELECT * FROM h', tname text DEFAULT 't')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint := pg_temp.latest(tname);
        o text := CASE WHEN tname = 't' THEN 'o' || v ELSE tname || '_o' || v END;
BEGIN
  EXECUTE format('CREATE TABLE %I AS %s', o, query);
  INSERT INTO oracles VALUES (tname, v, o);
  RETURN v;
END $$;
-- rows of t read under a setting that are not in the oracle, and the reverse
CREATE FUNCTION pg_temp.diff(setting text, value text, oracle text, cols text,
                             tname text DEFAULT 't') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE a bigint; b bigint; n bigint;
BEGIN
  PERFORM set_config(setting, value, true);
  EXECUTE format('SELECT count(*) FROM (SELECT %s FROM %I EXCEPT ALL SELECT %s FROM %I) x', cols, tname, cols, oracle) INTO a;
  EXECUTE format('SELECT count(*) FROM (SELECT %s FROM %I EXCEPT ALL SELECT %s FROM %I) x', cols, oracle, cols, tname) INTO b;
  EXECUTE format('SELECT count(*) FROM %I', tname) INTO n;
  PERFORM set_config(setting, CASE WHEN setting = 'vlake.as_of_version' THEN '0' ELSE '' END, true);
  RETURN format('%s rows, %s extra, %s missing', n, a, b);
END $$;
-- every kept version, by number, by its commit time, and by a time between
-- it and the next version
CREATE FUNCTION pg_temp.check_all(cols text, tname text DEFAULT 't') RETURNS TABLE (version bigint,
  by_number text, by_time text, by_time_between text) LANGUAGE plpgsql AS $$
DECLARE o record; ts timestamptz; nxt timestamptz;
BEGIN
  FOR o IN SELECT * FROM oracles x WHERE x.tname = check_all.tname ORDER BY x.version LOOP
    SELECT v.committed INTO ts FROM vlake.table_versions(tname::regclass) v WHERE v.version = o.version;
    SELECT v.committed INTO nxt FROM vlake.table_versions(tname::regclass) v WHERE v.version = o.version + 1;
    version := o.version;
    by_number := pg_temp.diff('vlake.as_of_version', o.version::text, o.tbl, cols, tname);
    by_time := pg_temp.diff('vlake.as_of_timestamp', ts::text, o.tbl, cols, tname);
    by_time_between := pg_temp.diff('vlake.as_of_timestamp',
                                    (ts + (coalesce(nxt, ts + '1 ms') - ts) / 2)::text, o.tbl, cols, tname);
    RETURN NEXT;
  END LOOP;
END $$;
CREATE FUNCTION pg_temp.both(stmt text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE replace(stmt, '$T', 't');
  EXECUTE replace(stmt, '$T', 'h');
END $$;

-- a table without a version yet
SET vlake.as_of_version = 1;
SELECT pg_temp.try('SELECT count(*) FROM t');
RESET vlake.as_of_version;

-- v1: a flush of the delta
SELECT pg_temp.both($$INSERT INTO $T SELECT i, 'n' || i, i * 0.5, ARRAY[i, -i, 1]::vector(3)
                      FROM generate_series(1, 200) i$$);
SELECT vlake.flush('t');
SELECT pg_temp.keep();
-- v2: COPY written as segments (3 of them)
DO $$ BEGIN
  EXECUTE format($q$COPY (SELECT i, 'c' || i, i * 0.25, ARRAY[i, 2, -i]::vector(3)
                          FROM generate_series(1001, 3500) i) TO %L$q$,
                 current_setting('test.lake') || '/tables_timetravel/rows.csv');
  EXECUTE format('COPY t FROM %L', current_setting('test.lake') || '/tables_timetravel/rows.csv');
  EXECUTE format('COPY h FROM %L', current_setting('test.lake') || '/tables_timetravel/rows.csv');
END $$;
SELECT pg_temp.keep();
SELECT count(*) AS segments FROM vlake.table_segments('t');
-- v3: DELETE of lake rows
SELECT pg_temp.both('DELETE FROM $T WHERE id % 7 = 0');
SELECT pg_temp.keep();
-- v4: UPDATE of lake rows (the new versions go to the delta: not in v4)
CREATE TABLE staged AS SELECT * FROM h WHERE id % 11 <> 0;
SELECT pg_temp.both('UPDATE $T SET score = score + 1000 WHERE id % 11 = 0');
SELECT pg_temp.keep('SELECT * FROM staged');
-- v5: their flush
SELECT vlake.flush('t');
SELECT pg_temp.keep();
-- the delta is part of no version: a row not flushed is not read
INSERT INTO t VALUES (99999, 'delta', 0, '[0,0,0]');
SET vlake.as_of_version = 5;
SELECT count(*) FROM t WHERE id = 99999;
RESET vlake.as_of_version;
DELETE FROM t WHERE id = 99999;

SELECT version, parent, operation, rows_added, rows_deleted, bytes_written > 0 AS wrote,
       writer ~ '^vlake .*role' AS writer_ok, published, retained, models
  FROM vlake.table_versions('t') ORDER BY 1;
SELECT * FROM pg_temp.check_all('id, name, score, emb::text');

-- v6: ADD COLUMN, then rows that have it; older versions are read with the
-- table's current columns (compared on the columns they had)
SELECT pg_temp.both('ALTER TABLE $T ADD COLUMN extra int');
SELECT pg_temp.both($$INSERT INTO $T SELECT i, 'x' || i, i, ARRAY[1, 1, i]::vector(3), i * 3
                      FROM generate_series(5001, 5100) i$$);
SELECT vlake.flush('t');
SELECT pg_temp.keep();
SELECT * FROM pg_temp.check_all('id, name, score, emb::text');
SET vlake.as_of_version = 6;
SELECT count(*) FILTER (WHERE extra = id * 3) AS new_rows_extra,
       count(*) FILTER (WHERE id < 5001 AND extra IS NULL) AS old_rows_null
  FROM t;
RESET vlake.as_of_version;
-- v7: DROP COLUMN, and a DELETE of rows of several segments
SELECT pg_temp.both('ALTER TABLE $T DROP COLUMN name');
SELECT pg_temp.both('DELETE FROM $T WHERE id BETWEEN 150 AND 1100 OR id % 13 = 0');
SELECT pg_temp.keep();
-- v8: TRUNCATE; v9: rows again
SELECT pg_temp.both('TRUNCATE $T');
SELECT pg_temp.keep();
SELECT pg_temp.both($$INSERT INTO $T SELECT i, i, ARRAY[i, i, i]::vector(3), 0
                      FROM generate_series(1, 50) i$$);
SELECT vlake.flush('t');
SELECT pg_temp.keep();
SELECT * FROM pg_temp.check_all('id, score, emb::text');

-- a past version in a join with the present of a heap table, and
-- materialized into a heap table
SET vlake.as_of_version = 3;
SELECT count(*) FROM t JOIN o3 USING (id) WHERE t.score = o3.score;
CREATE TABLE v3_copy AS SELECT * FROM t;
RESET vlake.as_of_version;
SELECT count(*) FROM (SELECT id, score FROM v3_copy EXCEPT ALL SELECT id, score FROM o3) x;
-- SET LOCAL
BEGIN;
SET LOCAL vlake.as_of_version = 2;
SELECT count(*) FROM t;
COMMIT;
SELECT count(*) FROM t;
-- TID range scans read the version too
SET vlake.as_of_version = 3;
SELECT count(*) FROM t WHERE ctid >= '(2147483648,1)';
SELECT count(*) FROM o3;
-- a parallel scan
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT count(*), sum(score) FROM t;
SELECT count(*), sum(score) FROM t;
SELECT count(*), sum(score) FROM o3;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- indexes are not used under a setting, even when asked to
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM t WHERE id = 78;
SELECT id, score FROM t WHERE id = 78;
SELECT id, score FROM o3 WHERE id = 78;
RESET vlake.as_of_version;
EXPLAIN (COSTS OFF) SELECT * FROM t WHERE id = 7;
-- a plan made before the setting (an index scan) is refused, not misread
PREPARE q(int) AS SELECT score FROM t WHERE id = $1;
SET plan_cache_mode = force_generic_plan;
EXECUTE q(7);
SET vlake.as_of_version = 3;
SELECT pg_temp.try('EXECUTE q(7)');
RESET plan_cache_mode;
RESET enable_seqscan;

-- writes are refused: a past version is read-only
SELECT pg_temp.try($$INSERT INTO t VALUES (-1, 0, '[1,1,1]', 0)$$);
SELECT pg_temp.try('UPDATE t SET score = 0 WHERE id = 1');
SELECT pg_temp.try('DELETE FROM t WHERE id = 1');
SELECT pg_temp.try('SELECT * FROM t WHERE id = 1 FOR UPDATE');
SELECT pg_temp.try('TRUNCATE t');
SELECT pg_temp.try($$SELECT vlake.flush('t')$$);
SELECT pg_temp.try($$COPY t (id) FROM PROGRAM 'echo 7777'$$);
SELECT pg_temp.try('SELECT * FROM t TABLESAMPLE BERNOULLI (50)');
-- heap tables are not affected
INSERT INTO h VALUES (-1, 0, '[1,1,1]', 0);
DELETE FROM h WHERE id = -1;
RESET vlake.as_of_version;

-- errors name the table
SET vlake.as_of_version = 10;
SELECT pg_temp.try('SELECT count(*) FROM t');
SET vlake.as_of_version = 3;
CREATE TABLE young (id int) USING vlake;
SELECT pg_temp.try('SELECT count(*) FROM t, young');
RESET vlake.as_of_version;
INSERT INTO young VALUES (1);
SELECT vlake.flush('young');
SET vlake.as_of_version = 3;
SELECT pg_temp.try('SELECT count(*) FROM t, young');
RESET vlake.as_of_version;
SET vlake.as_of_timestamp = '2001-01-01 00:00+00';
SELECT pg_temp.try('SELECT count(*) FROM t');
SET vlake.as_of_timestamp = 'not a time';
SELECT pg_temp.try('SELECT count(*) FROM t');
SET vlake.as_of_version = 3;
SET vlake.as_of_timestamp = 'now';
SELECT pg_temp.try('SELECT count(*) FROM t');
RESET vlake.as_of_version;
RESET vlake.as_of_timestamp;
SET vlake.as_of_version = -1;
-- a version whose manifest is gone (lost, or removed by GC)
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('rm -f %s/tables_timetravel/t/_manifest/00000000000000000002.json',
                 current_setting('test.lake')));
END $$;
SET vlake.as_of_version = 2;
SELECT pg_temp.try('SELECT count(*) FROM t');
RESET vlake.as_of_version;
SELECT version, published, retained FROM vlake.table_versions('t') WHERE version <= 3 ORDER BY 1;

-- privileges and row-level security apply as to a present read
CREATE ROLE tt_reader;
SET ROLE tt_reader;
SET vlake.as_of_version = 3;
SELECT pg_temp.try('SELECT count(*) FROM t');
RESET vlake.as_of_version;
RESET ROLE;
GRANT SELECT ON t TO tt_reader;
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY small ON t FOR SELECT TO tt_reader USING (id < 100);
SET ROLE tt_reader;
SET vlake.as_of_version = 3;
SELECT count(*) FROM t;
RESET vlake.as_of_version;
SELECT pg_temp.try($$SELECT * FROM vlake.table_versions('t')$$);
RESET ROLE;
SELECT count(*) FROM o3 WHERE id < 100;
ALTER TABLE t DISABLE ROW LEVEL SECURITY;
SELECT count(*) AS owner_versions FROM vlake.table_versions('t');
SET ROLE tt_reader;
SELECT count(*) AS reader_versions FROM vlake.table_versions('t');
RESET ROLE;
DROP POLICY small ON t;
REVOKE SELECT ON t FROM tt_reader;
DROP ROLE tt_reader;

-- lineage: the embedding model in force at each version
SELECT vlake.set_embedding_model('t', 'emb', 'clip', 'v2');
SELECT pg_temp.both('DELETE FROM $T WHERE id = 1');
SELECT version, operation, models FROM vlake.table_versions('t') WHERE version >= 9 ORDER BY 1;

-- a column whose type changed since (a rewrite that keeps its attnum): the
-- older versions cannot be read as the new type
ALTER TABLE t ALTER COLUMN score TYPE numeric;
SELECT version, operation FROM vlake.table_versions('t') WHERE version > 10 ORDER BY 1;
SET vlake.as_of_version = 9;
SELECT pg_temp.try('SELECT count(*) FROM t');
RESET vlake.as_of_version;

-- -------------------------------------------- compaction and backfill --
-- Compaction and column patches stop naming files in vlake.files; the
-- versions before them still read their own files (kept by the GC while
-- those versions are retained).
CREATE TABLE c (id int PRIMARY KEY, a int, b text) USING vlake;
CREATE TABLE hc (id int PRIMARY KEY, a int, b text);
CREATE FUNCTION pg_temp.both_c(stmt text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE replace(stmt, '$T', 'c');
  EXECUTE replace(stmt, '$T', 'hc');
END $$;
SELECT pg_temp.both_c($$INSERT INTO $T SELECT i, i % 10, 'b' || i FROM generate_series(1, 300) i$$);
SELECT vlake.flush('c');
SELECT pg_temp.keep('SELECT * FROM hc', 'c');
SELECT pg_temp.both_c($$INSERT INTO $T SELECT i, i % 10, 'b' || i FROM generate_series(301, 600) i$$);
SELECT vlake.flush('c');
SELECT pg_temp.keep('SELECT * FROM hc', 'c');
SELECT pg_temp.both_c('DELETE FROM $T WHERE id % 3 = 0');
SELECT pg_temp.keep('SELECT * FROM hc', 'c');
SELECT vlake.backfill('c', 'b', $$SELECT id, 'patched' || id FROM c WHERE id % 5 = 0$$);
UPDATE hc SET b = 'patched' || id WHERE id % 5 = 0;
SELECT pg_temp.keep('SELECT * FROM hc', 'c');
SELECT segments_merged > 0 AS merged, rows_purged > 0 AS purged
  FROM vlake.compact('c', 0.0);
SELECT pg_temp.keep('SELECT * FROM hc', 'c');
SELECT version, operation FROM vlake.table_versions('c') ORDER BY 1;
SELECT * FROM pg_temp.check_all('id, a, b', 'c');
-- every file every published manifest names (groups, delete vectors) is
-- in the lake with its size
CREATE FUNCTION pg_temp.missing_files(tname text) RETURNS TABLE (manifests bigint, files bigint,
  missing bigint) LANGUAGE sql AS $$
  WITH root AS (SELECT regexp_replace(root, '^file://', '') AS dir FROM vlake.datasets
                 WHERE relid = tname::regclass),
       m AS (SELECT v.version, vlake.table_manifest(tname::regclass, v.version) AS doc
               FROM vlake.table_versions(tname::regclass) v WHERE v.published),
       f AS (SELECT g->>'path' AS path, (g->>'size')::bigint AS size
               FROM m, jsonb_array_elements(doc->'segments') seg, jsonb_array_elements(seg->'groups') g
             UNION ALL
             SELECT seg#>>'{deletes,path}', (seg#>>'{deletes,size}')::bigint
               FROM m, jsonb_array_elements(doc->'segments') seg WHERE seg ? 'deletes')
  SELECT (SELECT count(*) FROM m), count(*),
         count(*) FILTER (WHERE (pg_stat_file(root.dir || f.path, true)).size IS DISTINCT FROM f.size)
    FROM f, root $$;
SELECT * FROM pg_temp.missing_files('c');
-- GC passes (retention 7 days): every version still reads as it was
SELECT count(*) FILTER (WHERE x ~ '/data/db') AS data_files_removed FROM vlake.table_gc('c', '0') x;
SELECT count(*) FILTER (WHERE x ~ '/data/db') AS data_files_removed FROM vlake.table_gc('c', '0') x;
SELECT * FROM pg_temp.check_all('id, a, b', 'c');
SELECT * FROM pg_temp.missing_files('c');
-- the latest version while the lake lacks its manifest (a publication to
-- repair) reads from the catalog
SELECT set_config('test.c_root', regexp_replace(root, '^file://', ''), false) IS NOT NULL AS got_root
  FROM vlake.datasets WHERE relid = 'c'::regclass;
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('rm -f %s_manifest/00000000000000000005.json',
                 current_setting('test.c_root')));
END $$;
SELECT version, published FROM vlake.table_versions('c') WHERE version = 5;
SELECT pg_temp.diff('vlake.as_of_version', '5', 'c_o5', 'id, a, b', 'c');
SELECT vlake.table_publish('c');
SELECT version, published FROM vlake.table_versions('c') WHERE version = 5;
-- retention 0: the versions before the latest expire, their files go
SELECT vlake.set_retention('c', '0');
SELECT count(*) FILTER (WHERE x ~ '/_manifest/') AS manifests_removed FROM vlake.table_gc('c', '0') x;
SELECT count(*) FILTER (WHERE x ~ '/data/db') > 0 AS data_files_removed FROM vlake.table_gc('c', '0') x;
SELECT version, retained FROM vlake.table_versions('c') ORDER BY 1;
SELECT * FROM pg_temp.missing_files('c');
SELECT pg_temp.diff('vlake.as_of_version', '5', 'c_o5', 'id, a, b', 'c');
SET vlake.as_of_version = 4;
SELECT pg_temp.try('SELECT count(*) FROM c');
RESET vlake.as_of_version;
DROP TABLE c, hc;

-- ---------------------------------------------------------- retention --
-- the option and the setting
SHOW vlake.table_retention;
SELECT pg_temp.try($$CREATE TABLE bad (id int) WITH (retention = '1 day')$$);
SELECT pg_temp.try($$CREATE TABLE bad (id int) USING vlake WITH (retention = '-1 day')$$);
SELECT pg_temp.try($$CREATE TABLE bad (id int) USING vlake WITH (retention = 'soon')$$);
SELECT pg_temp.try($$ALTER TABLE h SET (retention = '1 day')$$);
CREATE TABLE r (id int, v text) USING vlake WITH (location = :'rroot', retention = '1 hour');
SELECT retention FROM vlake.table_retention WHERE relid = 'r'::regclass;
ALTER TABLE r SET (retention = '2 hours', fillfactor = 90);
SELECT retention FROM vlake.table_retention WHERE relid = 'r'::regclass;
ALTER TABLE r RESET (retention);
SELECT count(*) FROM vlake.table_retention WHERE relid = 'r'::regclass;
SELECT vlake.set_retention('r', '1 hour');
SELECT retention FROM vlake.table_retention WHERE relid = 'r'::regclass;

CREATE FUNCTION pg_temp.ls(dir text) RETURNS TABLE (f text) LANGUAGE sql AS $$
  SELECT x FROM pg_ls_dir(current_setting('test.lake') || '/tables_timetravel/r/' || dir, true, false) x
  ORDER BY 1 $$;
-- segment parts with files (GC leaves empty directories behind)
CREATE FUNCTION pg_temp.parts() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pg_temp.ls('data') d
   WHERE EXISTS (SELECT FROM pg_ls_dir(current_setting('test.lake') || '/tables_timetravel/r/data/' || d.f) x
                  WHERE x = 'part.birth') $$;
CREATE FUNCTION pg_temp.gc() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM vlake.table_gc('r', '0') $$;
-- v1 copy, v2 and v3 deletes (two delete vectors), v4 truncate, v5 copy
INSERT INTO r SELECT i, 'x' FROM generate_series(1, 300) i;
SELECT vlake.flush('r');
DELETE FROM r WHERE id <= 10;
DELETE FROM r WHERE id <= 20;
TRUNCATE r;
INSERT INTO r SELECT i, 'y' FROM generate_series(1, 100) i;
SELECT vlake.flush('r');
SELECT version, operation, retained FROM vlake.table_versions('r') ORDER BY 1;
SELECT count(*) AS manifests FROM pg_temp.ls('_manifest') WHERE f <> '_latest';
SELECT count(*) AS delete_vectors FROM pg_temp.ls('deletes');
SELECT pg_temp.parts() AS parts;
-- within the retention GC removes nothing a version needs
SELECT pg_temp.gc(), pg_temp.gc(), pg_temp.gc();
SELECT count(*) AS manifests FROM pg_temp.ls('_manifest') WHERE f <> '_latest';
SELECT count(*) AS delete_vectors FROM pg_temp.ls('deletes');
SELECT pg_temp.parts() AS parts;
SET vlake.as_of_version = 1;
SELECT count(*), min(id), max(id) FROM r;
SET vlake.as_of_version = 3;
SELECT count(*), min(id), max(id) FROM r;
RESET vlake.as_of_version;
-- a retention of 2 seconds: nothing goes before, what only v1..v4 need
-- goes after (the latest stays readable)
SELECT vlake.set_retention('r', '2 seconds');
SELECT pg_temp.gc();
SELECT version, retained FROM vlake.table_versions('r') ORDER BY 1;
SELECT pg_sleep(2.5);
SELECT version, retained FROM vlake.table_versions('r') ORDER BY 1;
SET vlake.as_of_version = 1;
SELECT pg_temp.try('SELECT count(*) FROM r');
RESET vlake.as_of_version;
-- (a pass marks the part that only expired versions name, the next one,
-- in a later transaction, removes it)
SELECT pg_temp.gc() > 0 AS removed;
SELECT pg_temp.parts() AS parts;
SELECT pg_temp.gc() > 0 AS removed;
SELECT f FROM pg_temp.ls('_manifest');
SELECT count(*) AS delete_vectors FROM pg_temp.ls('deletes');
SELECT pg_temp.parts() AS parts;
SET vlake.as_of_version = 5;
SELECT count(*), min(id), max(id), min(v) FROM r;
RESET vlake.as_of_version;
SELECT count(*) FROM r;
-- a new version: the former latest expires at once (retention 0)
SELECT vlake.set_retention('r', '0');
DELETE FROM r WHERE id > 90;
SELECT version, retained FROM vlake.table_versions('r') WHERE version >= 5 ORDER BY 1;
SELECT pg_temp.gc() > 0 AS removed;
SELECT f FROM pg_temp.ls('_manifest');
SELECT count(*) AS delete_vectors FROM pg_temp.ls('deletes');
SET vlake.as_of_version = 6;
SELECT count(*), max(id) FROM r;
RESET vlake.as_of_version;
-- DROP TABLE forgets the option
SELECT 'r'::regclass::oid AS r_oid \gset
DROP TABLE r;
SELECT count(*) FROM vlake.table_retention WHERE relid = :r_oid;
DROP TABLE t, h, young, staged, v3_copy;
