-- Parquet reader with a page index (ColumnIndex + OffsetIndex), on a file
-- written by vlake.parquet_write: page pruning, and take reading only the
-- pages that hold the rows.  Oracle: the generating query.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
\set dir :lake '/parquet_pageindex'
\set cmd 'rm -rf ' :dir ' && mkdir -p ' :dir
COPY (SELECT 1) TO PROGRAM :'cmd';
SELECT set_config('pqtest.file', 'file://' || :'dir' || '/pi.parquet', false) IS NOT NULL AS ok;

-- 100,000 rows, pages of 1,000 rows, row groups of 50,000 rows
CREATE TEMP VIEW oracle AS
  SELECT i::bigint AS id, 'n' || i AS name, CASE WHEN i % 10 = 3 THEN NULL ELSE i * 0.5 END::float8 AS v,
         ARRAY[i, -i, i / 7.0]::real[] AS vec
  FROM generate_series(0, 99999) i;
-- vectors are written as lists of float; read back as real[] to compare
SELECT rows FROM vlake.parquet_write(current_setting('pqtest.file'),
  'SELECT id, name, v, vec::vector AS vec FROM oracle',
  '{"page_rows": 1000, "row_group_rows": 50000, "compression": "zstd"}');
SELECT count(*) AS chunks, bool_and(has_column_index) AS ci, bool_and(has_offset_index) AS oi
  FROM vlake.parquet_metadata(current_setting('pqtest.file'));

-- everything reads back
SELECT (SELECT count(*) FROM (SELECT * FROM vlake.parquet_read(current_setting('pqtest.file'))
          AS t(id bigint, name text, v float8, vec real[]) EXCEPT ALL SELECT * FROM oracle) x) AS wrong,
       (SELECT count(*) FROM (SELECT * FROM oracle EXCEPT ALL SELECT * FROM vlake.parquet_read(current_setting('pqtest.file'))
          AS t(id bigint, name text, v float8, vec real[])) x) AS missing;

-- chunks bigger than vlake.parquet_scan_window are read in windows
SET vlake.parquet_scan_window = '64kB';
SELECT (SELECT count(*) FROM (SELECT * FROM vlake.parquet_read(current_setting('pqtest.file'))
          AS t(id bigint, name text, v float8, vec real[]) EXCEPT ALL SELECT * FROM oracle) x) AS wrong,
       (SELECT count(*) FROM vlake.parquet_read(current_setting('pqtest.file')) AS t(id bigint, name text, v float8, vec real[])) AS rows,
       (SELECT read_requests > 8 FROM vlake.parquet_scan_stats(current_setting('pqtest.file'))) AS windowed;
RESET vlake.parquet_scan_window;

-- page pruning: 1,000 matching rows span two pages of the second row group
SELECT rows_returned, row_groups_skipped, pages_read, pages_skipped
  FROM vlake.parquet_scan_stats(current_setting('pqtest.file'), '{id,name}', 'id', '60500', '61499');
SELECT count(*) AS wrong, (SELECT count(*) FROM vlake.parquet_read(current_setting('pqtest.file'), '{id}', 'id', '60500', '61499') AS t(id bigint)) AS rows
  FROM (SELECT * FROM vlake.parquet_read(current_setting('pqtest.file'), '{id,name,v,vec}', 'id', '60500', '61499')
          AS t(id bigint, name text, v float8, vec real[])
        EXCEPT ALL SELECT * FROM oracle WHERE id BETWEEN 60500 AND 61499) x;
-- a filter on a non-sorted column prunes nothing but stays exact
SELECT (SELECT count(*) FROM vlake.parquet_read(current_setting('pqtest.file'), '{id}', 'v', '100', '110') AS t(id bigint)) AS read,
       (SELECT count(*) FROM oracle WHERE v BETWEEN 100 AND 110) AS oracle;

-- take: rows in any order, duplicates, across row groups; two requests
-- (offset indexes, then the pages), one range per touched page
SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'), '{99999,0,50000,49999,0,1013}', '{_row_number,id,name,v,vec}')
  AS t(r bigint, id bigint, name text, v float8, vec real[]);
SELECT rows_taken, read_requests,
       ranges <= 2 * 4 + 2 * 2 + 2 * 2 AS ranges_bounded   -- pages + dictionaries + offset indexes
  FROM vlake.parquet_take_stats(current_setting('pqtest.file'), '{10,20,60010,60020}', '{id,vec}');
SELECT count(*) AS wrong_of_1000 FROM (
  SELECT t.* FROM vlake.parquet_take(current_setting('pqtest.file'),
      (SELECT array_agg((i * 7919) % 100000) FROM generate_series(1, 1000) i)) AS t(id bigint, name text, v float8, vec real[])
  EXCEPT ALL
  SELECT o.* FROM generate_series(1, 1000) i JOIN oracle o ON o.id = (i * 7919) % 100000) x;
-- vectors straight from the file
SELECT * FROM vlake.parquet_take(current_setting('pqtest.file'), '{7,70000}', '{id,vec}') AS t(id bigint, vec vector);
DROP VIEW oracle;

-- halfvec (fp16 bytes: FIXED_LEN_BYTE_ARRAY with a dimension, BYTE_ARRAY
-- without), json and a few scalars written by vlake read back equal
CREATE TEMP TABLE hv AS
  SELECT i AS id, ARRAY[i, i / 3.0, -i]::real[]::halfvec(3) AS h3,
         ARRAY[i, 0.5]::real[]::halfvec AS h, json_build_object('i', i) AS j,
         i::int2 AS s, make_time(i % 24, i % 60, 0) AS t
  FROM generate_series(1, 100) i;
SELECT rows FROM vlake.parquet_write(replace(current_setting('pqtest.file'), 'pi.parquet', 'hv.parquet'),
  'SELECT * FROM hv', '{}');
SELECT count(*) AS wrong FROM (
  SELECT id, h3::text, h::text, j::text, s, t FROM vlake.parquet_read(replace(current_setting('pqtest.file'), 'pi.parquet', 'hv.parquet'))
    AS x(id int, h3 halfvec, h halfvec, j json, s int2, t text)
  EXCEPT ALL SELECT id, h3::text, h::text, j::text, s, t::text FROM hv) x;
SELECT id, h3, h FROM vlake.parquet_read(replace(current_setting('pqtest.file'), 'pi.parquet', 'hv.parquet'), '{id,h3,h}')
  AS x(id int, h3 halfvec, h halfvec) LIMIT 2;
