-- Lineage of source objects (docs/objref.md, "Lineage"): the object lists
-- vlake writes beside every ColumnGroup holding an objref column, the
-- manifest's "objects" members (format 3), vlake.table_objects and
-- vlake.object_rows.  Oracle: a heap twin given the same statements, its
-- references parsed from their JSON text (not vlake's accessors), at every
-- step: delta rows, flushes, deletes, UPDATEs folded back into row IDs,
-- backfill, compaction, time travel to each older version.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
\set root 'file://' :lake '/objref_lineage/t'
SET vlake.copy_lake_threshold = 0;
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'cat > /dev/null; ' || cmd);
END $$;
SELECT pg_temp.sh(format('rm -rf %s/objref_lineage', :'lake'));

-- table_objects(tbl) against the oracle's distinct references of oracle
-- (a heap table): 'same (n objects)' or what differs
CREATE FUNCTION pg_temp.same(tbl text, oracle text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  o text := format($q$
    SELECT r::text::jsonb->>'uri' AS uri, (r::text::jsonb->>'size')::bigint AS size,
           r::text::jsonb->>'sha256' AS sha256, r::text::jsonb->>'mime' AS mime, count(*) AS rows
      FROM (SELECT a AS r FROM %1$s WHERE a IS NOT NULL
            UNION ALL SELECT b FROM %1$s WHERE b IS NOT NULL) s
     GROUP BY 1, 2, 3, 4$q$, oracle);
  f text := format('SELECT * FROM vlake.table_objects(%L)', tbl);
  n_only bigint; o_only bigint; n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s EXCEPT ALL %s) d', f, o) INTO n_only;
  EXECUTE format('SELECT count(*) FROM (%s EXCEPT ALL %s) d', o, f) INTO o_only;
  EXECUTE format('SELECT count(*) FROM (%s) d', f) INTO n;
  IF n_only = 0 AND o_only = 0 THEN
    RETURN format('same (%s objects)', n);
  END IF;
  RETURN format('DIFFER: %s only in table_objects, %s only in the oracle', n_only, o_only);
END $$;

-- the groups of the latest manifest holding fields 2 (a) and 3 (b): does
-- each have an object list, and does the count of each group read (the last
-- one holding its field) equal the non-null values of the segment's rows in
-- the oracle (ids = row IDs + 1 here)?  A list holds the references of
-- every row of its file, deleted or not (readers apply the delete vector),
-- until a compaction erases the deleted rows: the oracle is then h, before
-- it hall (h and the deleted rows as they were when deleted).
CREATE FUNCTION pg_temp.lists(oracle text) RETURNS TABLE (field int, groups bigint, with_list bigint, counts_ok bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH m AS (SELECT vlake.table_manifest('t') AS m),
    g AS (SELECT (s->>'first_row_id')::bigint AS lo, (s->>'end_row_id')::bigint AS hi,
                 (g->'field_ids'->>0)::int AS field, g->'objects' AS o, gi,
                 max(gi) OVER (PARTITION BY s->>'id', g->'field_ids'->>0) AS last
            FROM m, jsonb_array_elements(m->'segments') s,
                 jsonb_array_elements(s->'groups') WITH ORDINALITY AS x(g, gi)
           WHERE g->'field_ids' @> '[2]' OR g->'field_ids' @> '[3]')
    SELECT field, count(*), count(o),
           count(*) FILTER (WHERE gi <> last OR (o->>'count')::bigint =
             (SELECT count(CASE WHEN field = 2 THEN a ELSE b END) FROM %s WHERE id - 1 >= lo AND id - 1 < hi))
      FROM g GROUP BY field ORDER BY field$q$, oracle);
END $$;

CREATE TABLE t (id int PRIMARY KEY, a objref, b objref, note text) USING vlake WITH (location = :'root');
CREATE TABLE h (id int PRIMARY KEY, a objref, b objref, note text);
CREATE TABLE gone (LIKE h);
CREATE VIEW hall AS SELECT * FROM h UNION ALL SELECT * FROM gone;
-- 400 rows: a on 13 objects (two MIME types), b on 5 objects for every 4th row
INSERT INTO h SELECT i,
    CASE WHEN i % 10 <> 0 THEN vlake.objref('s3://bkt/o' || (i % 13), i % 13, repeat(to_hex(i % 13), 64),
                                             CASE WHEN i % 2 = 0 THEN 'image/png' END) END,
    CASE WHEN i % 4 = 0 THEN vlake.objref('file:///x/b' || (i % 5) || '.pdf', 100 + i % 5, repeat('b', 64), 'application/pdf') END,
    'n' || i
  FROM generate_series(1, 400) i;
INSERT INTO t SELECT * FROM h;
-- delta rows only
SELECT pg_temp.same('t', 'h') AS delta_only;
SELECT vlake.flush('t') AS flushed;
SELECT version AS v1 FROM vlake.datasets WHERE relid = 't'::regclass \gset
CREATE TEMP TABLE h1 AS SELECT * FROM h;
SELECT pg_temp.same('t', 'h') AS after_flush;
SELECT vlake.table_manifest('t')->'format_version' AS format_version;
SELECT * FROM pg_temp.lists('hall');
-- the scalar group (id) has no list
SELECT count(*) FILTER (WHERE objects_path IS NOT NULL) AS with_list,
       count(*) FILTER (WHERE objects_path IS NULL) AS without,
       bool_and(objects_path IS NULL) FILTER (WHERE kind = 'parquet') AS scalar_has_none,
       bool_and(objects_path LIKE '%.objects.parquet') AS named_after_file
  FROM vlake.files WHERE relid = 't'::regclass;

-- new delta rows, deleted lake rows
INSERT INTO h SELECT i, vlake.objref('s3://bkt/new' || (i % 3), 7, repeat('e', 64)), NULL, 'n' || i FROM generate_series(401, 500) i;
INSERT INTO t SELECT * FROM h WHERE id > 400;
INSERT INTO gone SELECT * FROM h WHERE id % 7 = 0 AND id <= 400;
DELETE FROM h WHERE id % 7 = 0 AND id <= 400;
DELETE FROM t WHERE id % 7 = 0 AND id <= 400;
-- every row of object o0 gone: it is no longer referenced
INSERT INTO gone SELECT * FROM h WHERE a = vlake.objref('s3://bkt/o0', 0, repeat('0', 64)) OR a = vlake.objref('s3://bkt/o0', 0, repeat('0', 64), 'image/png');
DELETE FROM h WHERE a = vlake.objref('s3://bkt/o0', 0, repeat('0', 64)) OR a = vlake.objref('s3://bkt/o0', 0, repeat('0', 64), 'image/png');
DELETE FROM t WHERE a = vlake.objref('s3://bkt/o0', 0, repeat('0', 64)) OR a = vlake.objref('s3://bkt/o0', 0, repeat('0', 64), 'image/png');
SELECT pg_temp.same('t', 'h') AS deletes_and_delta;
SELECT count(*) AS o0_listed FROM vlake.table_objects('t') WHERE uri = 's3://bkt/o0';
SELECT vlake.flush('t') AS flushed;
SELECT version AS v2 FROM vlake.datasets WHERE relid = 't'::regclass \gset
CREATE TEMP TABLE h2 AS SELECT * FROM h;
SELECT pg_temp.same('t', 'h') AS after_second_flush;

-- UPDATE of the objref column of lake rows: the flush folds the new values
-- back into their row IDs (a column patch: a new file of a, with its list)
UPDATE h SET a = vlake.objref('s3://bkt/moved' || (id % 4), 9, repeat('c', 64), 'video/mp4') WHERE id % 9 = 0;
UPDATE t SET a = vlake.objref('s3://bkt/moved' || (id % 4), 9, repeat('c', 64), 'video/mp4') WHERE id % 9 = 0;
SELECT pg_temp.same('t', 'h') AS updated_in_delta;
SELECT vlake.flush('t') >= 0 AS flushed;
SELECT version AS v3 FROM vlake.datasets WHERE relid = 't'::regclass \gset
CREATE TEMP TABLE h3 AS SELECT * FROM h;
SELECT pg_temp.same('t', 'h') AS after_fold;
SELECT count(*) AS patch_files_with_list FROM vlake.files
 WHERE relid = 't'::regclass AND attnums = '{2}' AND group_no > 2 AND objects_path IS NOT NULL;
SELECT * FROM pg_temp.lists('hall');

-- backfill of b for the odd ids (the other rows keep theirs)
UPDATE h SET b = vlake.objref('s3://bkt/bf' || (id % 3), id % 3, repeat('d', 64)) WHERE id % 2 = 1;
SELECT vlake.backfill('t', 'b', $$SELECT id, vlake.objref('s3://bkt/bf' || (id % 3), id % 3, repeat('d', 64)) FROM h WHERE id % 2 = 1$$, 'id') AS backfilled;
SELECT version AS v4 FROM vlake.datasets WHERE relid = 't'::regclass \gset
CREATE TEMP TABLE h4 AS SELECT * FROM h;
SELECT pg_temp.same('t', 'h') AS after_backfill;
SELECT * FROM pg_temp.lists('hall');

-- compaction: purge without merging (superseded files dropped, deleted
-- rows erased: their references leave the rewritten lists), then merge
SELECT segments_merged, rows_purged > 0 AS purged, groups_rewritten > 0 AS rewritten
  FROM vlake.compact('t', 0.0, merge => false);
SELECT pg_temp.same('t', 'h') AS after_purge;
-- every object list a compaction stopped naming is retired with its file
SELECT count(*) AS retired_lists,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM vlake.retired_files r2
                                       WHERE r2.relid = r.relid
                                         AND r2.path = replace(r.path, '.objects.parquet', '.parquet'))) AS with_their_file
  FROM vlake.retired_files r WHERE relid = 't'::regclass AND path LIKE '%.objects.parquet';
SELECT * FROM pg_temp.lists('h');
SELECT segments_merged > 0 AS merged FROM vlake.compact('t');
SELECT version AS v5 FROM vlake.datasets WHERE relid = 't'::regclass \gset
SELECT pg_temp.same('t', 'h') AS after_merge;
SELECT * FROM pg_temp.lists('h');

-- time travel: each version answers for itself
SET vlake.as_of_version = :v1;
SELECT pg_temp.same('t', 'h1') AS as_of_v1;
SET vlake.as_of_version = :v2;
SELECT pg_temp.same('t', 'h2') AS as_of_v2;
SET vlake.as_of_version = :v3;
SELECT pg_temp.same('t', 'h3') AS as_of_v3;
SET vlake.as_of_version = :v4;
SELECT pg_temp.same('t', 'h4') AS as_of_v4;
RESET vlake.as_of_version;

-- object -> rows: the rows referencing s3://bkt/o3 in either column, by id
-- against the oracle; lake rows carry their row ID, delta rows none
INSERT INTO h VALUES (501, vlake.objref('s3://bkt/o3', 3, repeat('3', 64)), NULL, 'delta');
INSERT INTO t VALUES (501, vlake.objref('s3://bkt/o3', 3, repeat('3', 64)), NULL, 'delta');
SELECT (SELECT count(*) FROM vlake.object_rows('t', 's3://bkt/o3')) AS rows,
       (SELECT count(*) FROM (SELECT t.id FROM t JOIN vlake.object_rows('t', 's3://bkt/o3') o ON t.ctid = o.ctid
                              EXCEPT ALL
                              SELECT id FROM h WHERE a::text::jsonb->>'uri' = 's3://bkt/o3'
                                                  OR b::text::jsonb->>'uri' = 's3://bkt/o3') d) AS t_only,
       (SELECT count(*) FROM (SELECT id FROM h WHERE a::text::jsonb->>'uri' = 's3://bkt/o3'
                                                  OR b::text::jsonb->>'uri' = 's3://bkt/o3'
                              EXCEPT ALL
                              SELECT t.id FROM t JOIN vlake.object_rows('t', 's3://bkt/o3') o ON t.ctid = o.ctid) d) AS h_only;
SELECT count(*) FILTER (WHERE row_id IS NULL) AS delta_rows,
       count(*) FILTER (WHERE row_id IS NOT NULL) AS lake_rows,
       bool_and(col = 'a') AS all_in_a
  FROM vlake.object_rows('t', 's3://bkt/o3');
SELECT count(*) AS none FROM vlake.object_rows('t', 's3://bkt/no-such-object');
-- on a heap table too (no row IDs)
SELECT count(*) AS heap_rows, count(row_id) AS heap_row_ids FROM vlake.object_rows('h', 's3://bkt/o3');
SELECT pg_temp.same('h', 'h') AS heap_itself;

-- privileges: SELECT on the table is needed
CREATE ROLE lineage_reader;
SET ROLE lineage_reader;
SELECT * FROM vlake.table_objects('t');
SELECT * FROM vlake.object_rows('t', 's3://bkt/o3');
RESET ROLE;
GRANT SELECT ON t TO lineage_reader;
SET ROLE lineage_reader;
SELECT count(*) AS objects_seen FROM vlake.table_objects('t');
RESET ROLE;

-- bad input
CREATE TABLE plain (id int);
SELECT * FROM vlake.table_objects('plain');
SELECT * FROM vlake.table_objects('t_pkey');
SELECT * FROM vlake.table_objects(NULL);
CREATE VIEW v AS SELECT a, b FROM h;
SELECT count(*) AS from_view FROM vlake.table_objects('v');
SELECT * FROM vlake.object_rows('v', 's3://bkt/o3');

DROP VIEW v, hall;
DROP TABLE t, h, gone, plain;
REVOKE ALL ON SCHEMA vlake FROM lineage_reader;
DROP ROLE lineage_reader;
SELECT pg_temp.sh(format('rm -rf %s/objref_lineage', :'lake'));
