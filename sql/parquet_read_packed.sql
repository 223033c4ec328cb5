-- The packed reader: one table over a segment's ColumnGroups (files that
-- cover the same row IDs in different layouts).  Oracle: the generating
-- queries.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
\set dir :lake '/parquet_packed'
\set cmd 'rm -rf ' :dir ' && mkdir -p ' :dir
COPY (SELECT 1) TO PROGRAM :'cmd';
SELECT set_config('pqtest.dir', 'file://' || :'dir', false) IS NOT NULL AS ok;
CREATE FUNCTION seg() RETURNS text[] LANGUAGE sql AS $$
  SELECT ARRAY[current_setting('pqtest.dir') || '/scalars.parquet',
               current_setting('pqtest.dir') || '/vectors.parquet'] $$;

-- segment of row IDs 1,000,000 .. 1,019,999: scalars in one ColumnGroup
-- (row groups of 6,000 rows), vectors in another (vector layout, small pages)
CREATE TEMP VIEW oracle AS
  SELECT 1000000 + i AS row_id, i::bigint AS id, 'item ' || i AS title,
         ARRAY[i, i % 7, -i]::real[] AS emb
  FROM generate_series(0, 19999) i;
SELECT rows FROM vlake.parquet_write(current_setting('pqtest.dir') || '/scalars.parquet',
  'SELECT id, title FROM oracle', '{"row_group_rows": 6000}');
SELECT rows FROM vlake.parquet_write(current_setting('pqtest.dir') || '/vectors.parquet',
  'SELECT emb::vector AS emb FROM oracle', '{"layout": "vector"}');

-- a scan zips the groups row for row
SELECT (SELECT count(*) FROM vlake.packed_read(seg(), 1000000, '{_row_id,id,title,emb}')
          AS t(row_id bigint, id bigint, title text, emb real[])) AS rows_read,
       (SELECT count(*) FROM (SELECT * FROM vlake.packed_read(seg(), 1000000, '{_row_id,id,title,emb}')
          AS t(row_id bigint, id bigint, title text, emb real[]) EXCEPT ALL SELECT * FROM oracle) x) AS wrong;
SELECT * FROM vlake.packed_read(seg(), 1000000, '{title,emb,_row_id}') AS t(title text, emb vector, r bigint)
  WHERE r IN (1000000, 1005999, 1006000, 1019999);

-- take by row ID across groups, in the order given
SELECT * FROM vlake.packed_take(seg(), 1000000, '{1019999,1000000,1012345,1000000}', '{_row_id,title,emb}')
  AS t(r bigint, title text, emb vector);
SELECT count(*) AS wrong FROM (
  SELECT * FROM vlake.packed_take(seg(), 1000000,
      (SELECT array_agg(1000000 + (i * 7919) % 20000) FROM generate_series(1, 1000) i), '{_row_id,id,title,emb}')
    AS t(row_id bigint, id bigint, title text, emb real[])
  EXCEPT ALL
  SELECT o.* FROM generate_series(1, 1000) i JOIN oracle o ON o.row_id = 1000000 + (i * 7919) % 20000) x;
-- only the group holding the projected column is read
SELECT group_index, read_requests, bytes_read > 0 AS read_something
  FROM vlake.packed_take_stats(seg(), 1000000, '{1000001,1010000}', '{emb}');
SELECT group_index, read_requests, bytes_read > 0 AS read_something
  FROM vlake.packed_take_stats(seg(), 1000000, '{1000001,1010000}', '{title}');

-- ColumnGroups written with first_row_id carry it in their footers
SELECT rows FROM vlake.parquet_write(current_setting('pqtest.dir') || '/s2.parquet',
  'SELECT id, title FROM oracle', '{"first_row_id": 1000000}');
SELECT rows FROM vlake.parquet_write(current_setting('pqtest.dir') || '/v2.parquet',
  'SELECT emb::vector AS emb FROM oracle', '{"layout": "vector", "first_row_id": 1000000}');
SELECT * FROM vlake.packed_take(ARRAY[current_setting('pqtest.dir') || '/s2.parquet', current_setting('pqtest.dir') || '/v2.parquet'],
  NULL, '{1000007}', '{_row_id,id,emb}') AS t(r bigint, id bigint, emb vector);

-- errors
CREATE FUNCTION pq_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN sqlstate || ': ' || replace(sqlerrm, current_setting('pqtest.dir'), '$DIR');
END $$;
SELECT rows FROM vlake.parquet_write(current_setting('pqtest.dir') || '/short.parquet',
  'SELECT i::bigint AS other FROM generate_series(1, 10) i', '{}');
SELECT pq_err(q) FROM unnest(ARRAY[
  $q$SELECT * FROM vlake.packed_take(seg(), 1000000, '{999999}', '{id}') AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.packed_take(seg(), 1000000, '{1020000}', '{id}') AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.packed_read(seg(), 0, '{nope}') AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.packed_read(seg() || (current_setting('pqtest.dir') || '/short.parquet'), 0, '{id}') AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.packed_read(seg() || seg(), 0, '{id}') AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.packed_read('{}', 0) AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.packed_read(seg(), NULL, '{id}') AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.packed_read(ARRAY[current_setting('pqtest.dir') || '/s2.parquet'], 5, '{id}') AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.packed_read(NULL, 0, '{id}') AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.packed_take(seg(), 0, NULL, '{id}') AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.parquet_read(NULL) AS t(id bigint)$q$,
  $q$SELECT * FROM vlake.parquet_take((seg())[1], NULL) AS t(id bigint)$q$]) q;
DROP FUNCTION pq_err(text);
DROP VIEW oracle;
DROP FUNCTION seg();
