-- parquet_take on a file laid out for offset-computed take (uncompressed
-- PLAIN fixed-width columns with an OffsetIndex: values located without
-- decoding pages) mixed with columns that must be decoded (nulls,
-- dictionary, zstd text).  Oracle: the table the file was written from.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
\set dir :lake '/parquet_take'
\set cmd 'rm -rf ' :dir ' && mkdir -p ' :dir
COPY (SELECT 1) TO PROGRAM :'cmd';
SELECT set_config('pqtest.dir', 'file://' || :'dir', false) IS NOT NULL AS ok;
SELECT set_config('pqtest.file', current_setting('pqtest.dir') || '/take.parquet', false) IS NOT NULL AS ok;

-- 10,000 rows; pages of 100 rows, row groups of 3,000 (the last one short)
CREATE TABLE take_src AS
  SELECT i::bigint AS id, (i * 7 - 5000)::int AS i4,
         CASE WHEN i % 10 = 3 THEN NULL ELSE i * 0.25 END::float8 AS nul,
         (i % 5)::float8 AS dict,
         'n' || md5(i::text) AS name,
         ARRAY[i, -i, i / 3.0, 1.5]::real[] AS vec
  FROM generate_series(0, 9999) i;
SELECT rows FROM vlake.parquet_write(current_setting('pqtest.file'),
  'SELECT id, i4, nul, dict, name, vec::vector(4) AS vec FROM take_src ORDER BY id',
  '{"compression": "none", "dictionary": false, "page_rows": 100, "row_group_rows": 3000,
    "columns": {"dict": {"dictionary": true}, "name": {"compression": "zstd"}}}');
-- the shapes this test relies on: which chunks qualify for offset-computed take
SELECT column_name, bool_and(codec = 'UNCOMPRESSED') AS uncompressed,
       bool_or(encodings::text LIKE '%DICTIONARY%') AS dictionary, sum(null_count) AS nulls
  FROM vlake.parquet_metadata(current_setting('pqtest.file'))
  GROUP BY column_name ORDER BY column_name;

-- 2,000 random row numbers (duplicates included) over every row group
SELECT setseed(0.5);
CREATE TABLE take_rows AS
  SELECT array_agg((random() * 9999)::bigint ORDER BY g) AS r FROM generate_series(1, 2000) g;
CREATE TABLE take_out AS
  SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'), (SELECT r FROM take_rows),
                                   '{_row_number,id,i4,nul,dict,name,vec}')
    AS t(rn bigint, id bigint, i4 int, nul float8, dict float8, name text, vec real[]);
-- as many rows as asked, in the order asked
SELECT count(*) AS n, (SELECT array_agg(rn) FROM take_out) = (SELECT r FROM take_rows) AS same_order
  FROM take_out;
-- the values against the source table
SELECT count(*) AS wrong FROM (
  SELECT rn, id, i4, nul, dict, name, vec FROM take_out
  EXCEPT ALL
  SELECT s.id, s.* FROM (SELECT unnest(r) AS rn FROM take_rows) q JOIN take_src s ON s.id = q.rn) x;
SELECT count(*) AS missing FROM (
  SELECT s.id, s.* FROM (SELECT unnest(r) AS rn FROM take_rows) q JOIN take_src s ON s.id = q.rn
  EXCEPT ALL
  SELECT rn, id, i4, nul, dict, name, vec FROM take_out) x;
SELECT count(*) FILTER (WHERE nul IS NULL) > 0 AS saw_nulls FROM take_out;

-- each column alone, and edge rows: first/last of pages, row groups, file
SELECT count(*) AS wrong FROM (
  SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'),
                  '{0,99,100,2999,3000,3001,5999,6000,8999,9000,9999,9999,0}', '{id,i4,vec}')
    AS t(id bigint, i4 int, vec real[])
  EXCEPT ALL
  (SELECT id, i4, vec FROM take_src
    WHERE id IN (0, 99, 100, 2999, 3000, 3001, 5999, 6000, 8999, 9000, 9999)
   UNION ALL SELECT id, i4, vec FROM take_src WHERE id IN (9999, 0))) x;
SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'), '{9999,0,4321,4321}', '{vec}') AS t(v real[]);
SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'), '{4321,17,4321}', '{i4}') AS t(v int);
SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'), '{}', '{id,vec}') AS t(id bigint, v real[]);

-- offset-computed take reads only the values: one row of vec is 16 bytes
-- (the reader keeps the column's OffsetIndexes, here from the footer read);
-- the column with nulls is decoded, so its whole page (100 values and
-- levels, compressed) is read, not one 8-byte value
SELECT rows_taken, read_requests, bytes_read < 600 AS value_bytes_only
  FROM vlake.parquet_take_stats(current_setting('pqtest.file'), '{4321}', '{vec}');
SELECT rows_taken, read_requests, bytes_read > 100 AS whole_page
  FROM vlake.parquet_take_stats(current_setting('pqtest.file'), '{4321}', '{nul}');

-- per-column page_rows: name in pages of 5 rows, the rest in pages of 100;
-- values are unchanged
SELECT rows FROM vlake.parquet_write(current_setting('pqtest.dir') || '/small_name_pages.parquet',
  'SELECT id, name, vec::vector(4) AS vec FROM take_src ORDER BY id',
  '{"compression": "none", "dictionary": false, "page_rows": 100, "columns": {"name": {"page_rows": 5}}}');
SELECT c, (SELECT pages_read FROM vlake.parquet_scan_stats(current_setting('pqtest.dir') || '/small_name_pages.parquet', ARRAY[c]))
  FROM unnest('{id,name,vec}'::text[]) c;
SELECT count(*) AS wrong FROM (
  SELECT * FROM vlake.parquet_take(current_setting('pqtest.dir') || '/small_name_pages.parquet', (SELECT r FROM take_rows))
    AS t(id bigint, name text, vec real[])
  EXCEPT ALL
  SELECT s.id, s.name, s.vec FROM (SELECT unnest(r) AS rn FROM take_rows) q JOIN take_src s ON s.id = q.rn) x;

-- a damaged OffsetIndex: page 1 of vec claims to start at row 101 instead of
-- 100.  Computing offsets from it would return row 99's bytes for row 100;
-- instead the index's irregular shape sends take to decode the pages, which
-- reports the mismatch (or returns the right values) -- never wrong values.
SELECT rows FROM vlake.parquet_write(current_setting('pqtest.dir') || '/oi_ok.parquet',
  'SELECT vec::vector(4) AS vec FROM take_src WHERE id < 1000 ORDER BY id',
  '{"compression": "none", "dictionary": false, "page_rows": 100, "statistics": true}');
CREATE TABLE oi_file AS
  SELECT vlake.lake_read(current_setting('pqtest.dir') || '/oi_ok.parquet') AS b,
         4 + (SELECT sum(compressed_bytes) FROM vlake.parquet_metadata(current_setting('pqtest.dir') || '/oi_ok.parquet'))::int AS data_end;
-- PageLocation.first_row_index = 100 is field 3 (i64, delta 1: 0x16), zigzag varint C8 01, end of struct
SELECT data_end + position('\x16c80100'::bytea IN substring(b FROM data_end + 1)) - 1 AS at
  FROM oi_file \gset
SELECT :at > 0 AS found_entry;
SELECT vlake.lake_write(current_setting('pqtest.dir') || '/oi_bad.parquet',
                        overlay(b PLACING '\x16ca0100'::bytea FROM :at + 1)) FROM oi_file;
CREATE FUNCTION take_or_error(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE wrong bigint; d text;
BEGIN
  EXECUTE q INTO wrong;
  RETURN CASE WHEN wrong = 0 THEN 'right values' ELSE wrong || ' wrong values' END;
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN sqlstate || ': ' || replace(sqlerrm, current_setting('pqtest.dir'), '$DIR') || ' ' || d;
END $$;
SELECT take_or_error(format($q$
  SELECT count(*) FROM (
    SELECT * FROM vlake.parquet_take(%L, '{99,100,101,150,999}', '{_row_number,vec}') AS t(r bigint, v real[])
    EXCEPT ALL SELECT id, vec FROM take_src WHERE id IN (99, 100, 101, 150, 999)) x$q$,
  current_setting('pqtest.dir') || '/oi_bad.parquet')) AS parquet_take;
SELECT take_or_error(format($q$
  SELECT count(*) FROM (
    SELECT row_number, embedding::real[] FROM vlake.vector_cg_take(%L, '{99,100,101,150,999}')
    EXCEPT ALL SELECT id, vec FROM take_src WHERE id IN (99, 100, 101, 150, 999)) x$q$,
  current_setting('pqtest.dir') || '/oi_bad.parquet')) AS vector_cg_take;
-- the intact file, in the same session after the errors
SELECT take_or_error(format($q$
  SELECT count(*) FROM (
    SELECT * FROM vlake.parquet_take(%L, '{99,100,101,150,999}', '{_row_number,vec}') AS t(r bigint, v real[])
    EXCEPT ALL SELECT id, vec FROM take_src WHERE id IN (99, 100, 101, 150, 999)) x$q$,
  current_setting('pqtest.dir') || '/oi_ok.parquet')) AS intact;
DROP FUNCTION take_or_error(text);
DROP TABLE oi_file;

-- bad row numbers
CREATE FUNCTION take_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN sqlstate || ': ' || replace(sqlerrm, current_setting('pqtest.dir'), '$DIR');
END $$;
SELECT take_err(q) FROM unnest(ARRAY[
  $q$SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'), '{-1}', '{id}') AS t(x bigint)$q$,
  $q$SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'), '{5,10000}', '{vec}') AS t(x real[])$q$,
  $q$SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'), '{1,NULL}', '{id}') AS t(x bigint)$q$]) q;
DROP FUNCTION take_err(text);
DROP TABLE take_src, take_rows, take_out;
