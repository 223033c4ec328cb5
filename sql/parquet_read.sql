-- Parquet reader: values of files written by DuckDB (test/data/parquet,
-- see make_fixtures.mjs) compared with DuckDB's own reading of them
-- (the *.csv oracles); pruning, take and errors.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
SET timezone = 'UTC';
\getenv src VLAKE_SRC
\getenv lake VLAKE_TEST_LAKE
\set fixtures :src '/test/data/parquet'
\set dir :lake '/parquet_read'
\set cmd 'rm -rf ' :dir ' && mkdir -p ' :dir ' && cp ' :fixtures '/*.parquet ' :fixtures '/*.csv ' :dir
COPY (SELECT 1) TO PROGRAM :'cmd';
SELECT set_config('pqtest.dir', 'file://' || :'dir', false) IS NOT NULL AS ok;
CREATE FUNCTION pq(f text) RETURNS text LANGUAGE sql AS
  $$ SELECT current_setting('pqtest.dir') || '/' || f $$;

-- ---------------------------------------------------------------- schema
SELECT column_name, physical_type, logical_type, converted_type, repetition,
       leaf_path, max_definition_level AS d, max_repetition_level AS r, unsupported
  FROM vlake.parquet_schema(pq('types.parquet')) ORDER BY column_index;
SELECT num_rows, num_row_groups, num_columns, created_by LIKE 'DuckDB%' AS duckdb
  FROM vlake.parquet_file_info(pq('types.parquet'));
SELECT row_group, column_name, num_rows, codec, null_count, min_value, max_value
  FROM vlake.parquet_metadata(pq('sorted.parquet')) WHERE column_name IN ('id', 'name')
  ORDER BY row_group, column_name;

-- ------------------------------------------------ every type vs DuckDB
CREATE TEMP TABLE types_expected (id bigint, i32 int, i16 int2, i8 int2, u32 int8,
  b bool, f real, d float8, s text, bin bytea, dt date, ts timestamp, tstz timestamptz,
  ts_ms timestamp, ts_ns timestamp, dec9 numeric, dec18 numeric, dec38 numeric, u uuid,
  vec real[], emb real[], ints int[], strs text[]);
\set csv :dir '/types.csv'
COPY types_expected FROM :'csv' WITH (FORMAT csv, NULL '\N');
CREATE TEMP VIEW types_read AS
  SELECT * FROM vlake.parquet_read(pq('types.parquet')) AS t(id bigint, i32 int, i16 int2,
    i8 int2, u32 int8, b bool, f real, d float8, s text, bin bytea, dt date, ts timestamp,
    tstz timestamptz, ts_ms timestamp, ts_ns timestamp, dec9 numeric, dec18 numeric,
    dec38 numeric, u uuid, vec real[], emb real[], ints int[], strs text[]);
SELECT (SELECT count(*) FROM types_read) AS rows_read,
       (SELECT count(*) FROM (SELECT * FROM types_read EXCEPT ALL SELECT * FROM types_expected) x) AS not_in_oracle,
       (SELECT count(*) FROM (SELECT * FROM types_expected EXCEPT ALL SELECT * FROM types_read) x) AS not_read;
-- a few rows to look at
SELECT id, s, bin, dt, ts_ns, dec38, vec, ints, strs FROM types_read WHERE id IN (0, 3, 6, 7);
-- lists as vectors; a list with a null element cannot be one
SELECT id, emb FROM vlake.parquet_read(pq('types.parquet'), '{id,emb}') AS t(id bigint, emb vector) LIMIT 3;
-- any column can be read as text
SELECT * FROM vlake.parquet_read(pq('types.parquet'), '{tstz,dec9,u}') AS t(a text, b text, c text) LIMIT 2;

-- ------------------------- codecs, v2 pages, dictionaries on/off vs DuckDB
CREATE TEMP TABLE small_expected (id bigint, k text, v float8, vec real[]);
\set csv :dir '/small.csv'
COPY small_expected FROM :'csv' WITH (FORMAT csv, NULL '\N');
SELECT f, (SELECT array_agg(DISTINCT codec) FROM vlake.parquet_metadata(pq(f))) AS codecs,
       (SELECT count(*) FROM vlake.parquet_read(pq(f)) AS t(id bigint, k text, v float8, vec real[])) AS rows_read,
       (SELECT count(*) FROM (SELECT * FROM vlake.parquet_read(pq(f)) AS t(id bigint, k text, v float8, vec real[])
                              EXCEPT ALL SELECT * FROM small_expected) x) AS wrong
  FROM unnest(ARRAY['codec_uncompressed.parquet', 'codec_snappy.parquet', 'codec_gzip.parquet',
                    'codec_zstd.parquet', 'codec_lz4.parquet', 'pages_v2.parquet', 'nodict.parquet']) f;
SELECT DISTINCT column_name, encodings FROM vlake.parquet_metadata(pq('pages_v2.parquet')) ORDER BY 1;

-- ------------------------------------------ projection, filters, pruning
-- sorted.parquet: id = row number 0..19999, grp = id / 1000, name = 'name-' || id,
-- score = (id % 97) * 0.5 (a DECIMAL); row groups of 6144 rows.
CREATE TEMP VIEW sorted_oracle AS
  SELECT i::bigint AS id, (i / 1000)::int AS grp, 'name-' || i AS name, ((i % 97) * 0.5)::numeric AS score
  FROM generate_series(0, 19999) i;
CREATE TEMP TABLE sorted_read AS
  SELECT * FROM vlake.parquet_read(pq('sorted.parquet')) AS t(id bigint, grp int, name text, score numeric);
SELECT (SELECT count(*) FROM sorted_read) AS rows_read,
       (SELECT count(*) FROM (SELECT * FROM sorted_read EXCEPT ALL SELECT * FROM sorted_oracle) x) AS wrong,
       (SELECT count(*) FROM (SELECT * FROM sorted_oracle EXCEPT ALL SELECT * FROM sorted_read) x) AS missing;
-- projection in any order, with the row number
SELECT * FROM vlake.parquet_read(pq('sorted.parquet'), '{name,_row_number}') AS t(name text, r bigint)
  WHERE r IN (0, 6143, 6144, 19999);
-- a range filter returns exactly the matching rows and skips row groups
SELECT * FROM vlake.parquet_read(pq('sorted.parquet'), '{id,name}', 'id', '7000', '7003')
  AS t(id bigint, name text);
SELECT rows_returned, row_groups, row_groups_skipped
  FROM vlake.parquet_scan_stats(pq('sorted.parquet'), '{id}', 'id', '7000', '7010');
SELECT rows_returned, row_groups_skipped
  FROM vlake.parquet_scan_stats(pq('sorted.parquet'), '{name}', 'grp', '13', NULL);
SELECT rows_returned, row_groups_skipped
  FROM vlake.parquet_scan_stats(pq('sorted.parquet'), '{id}', 'name', 'name-19990', 'name-19999');
SELECT (SELECT count(*) FROM sorted_oracle WHERE name BETWEEN 'name-19990' AND 'name-19999') AS oracle;
SELECT rows_returned, row_groups_skipped
  FROM vlake.parquet_scan_stats(pq('sorted.parquet'), '{id}', 'id', '100000', NULL);
-- filters on values no statistics exclude still return exactly the matches
SELECT (SELECT count(*) FROM vlake.parquet_read(pq('sorted.parquet'), '{id}', 'name', 'name-5', 'name-6') AS t(id bigint)) AS read,
       (SELECT count(*) FROM sorted_oracle WHERE name BETWEEN 'name-5' AND 'name-6') AS oracle,
       (SELECT row_groups_skipped FROM vlake.parquet_scan_stats(pq('sorted.parquet'), '{id}', 'name', 'name-5', 'name-6')) AS skipped;

-- ------------------------------------------------------------------ take
SELECT * FROM vlake.parquet_take(pq('sorted.parquet'), '{19999,5,6144,5,0,12000}', '{id,name,_row_number}')
  AS t(id bigint, name text, r bigint);
SELECT count(*) AS wrong FROM (
  SELECT t.* FROM vlake.parquet_take(pq('sorted.parquet'),
                    (SELECT array_agg((i * 7919) % 20000) FROM generate_series(1, 500) i)) AS t(id bigint, grp int, name text, score numeric)
  EXCEPT ALL
  SELECT o.* FROM generate_series(1, 500) i JOIN sorted_oracle o ON o.id = (i * 7919) % 20000) x;
SELECT * FROM vlake.parquet_take(pq('types.parquet'), '{39,7,3}', '{id,vec,strs}') AS t(id bigint, vec real[], strs text[]);
-- without an offset index, take reads the touched column chunks: two row
-- groups here, in one request per step
SELECT rows_taken, read_requests, ranges FROM vlake.parquet_take_stats(pq('sorted.parquet'), '{1,2,19000}', '{id}');

-- take_layout.parquet: written by vlake (2026-11-21) in the take-able layout
-- (uncompressed PLAIN, pages of 8 rows, name in pages of 3, row groups of
-- 24) from id = 0..39, name = 'name-' || id, value = id * 0.5 (a decimal),
-- vec = [id, -id, id / 4, 1]; it is also a fuzzer seed for that path
CREATE TEMP VIEW take_layout_read AS
  SELECT * FROM vlake.parquet_take(pq('take_layout.parquet'), '{39,0,7,8,23,24,31,7}')
    AS t(id bigint, name text, value numeric, vec real[]);
CREATE TEMP VIEW take_layout_oracle AS
  SELECT g::bigint AS id, 'name-' || g AS name, g * 0.5 AS value, ARRAY[g, -g, g / 4.0, 1]::real[] AS vec
    FROM unnest('{39,0,7,8,23,24,31,7}'::int[]) g;
SELECT (SELECT count(*) FROM take_layout_read) AS rows_taken,
       (SELECT count(*) FROM (SELECT * FROM take_layout_read EXCEPT ALL SELECT * FROM take_layout_oracle) x) AS wrong,
       (SELECT count(*) FROM (SELECT * FROM take_layout_oracle EXCEPT ALL SELECT * FROM take_layout_read) x) AS missing;
DROP VIEW take_layout_read, take_layout_oracle;

-- ---------------------------------------------------------------- errors
-- (messages name the file; the machine dependent directory is replaced)
CREATE FUNCTION pq_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN sqlstate || ': ' || replace(sqlerrm, current_setting('pqtest.dir'), '$DIR');
END $$;
SELECT pq_err(q) FROM unnest(ARRAY[
  $q$SELECT * FROM vlake.parquet_read(pq('sorted.parquet'), '{nope}') AS t(x int)$q$,
  $q$SELECT * FROM vlake.parquet_read(pq('sorted.parquet'), '{id}') AS t(x text, y int)$q$,
  $q$SELECT * FROM vlake.parquet_read(pq('sorted.parquet'), '{id}') AS t(x int)$q$,
  $q$SELECT * FROM vlake.parquet_read(pq('sorted.parquet'), '{id}', 'nope', '1', '2') AS t(x bigint)$q$,
  $q$SELECT * FROM vlake.parquet_read(pq('types.parquet'), '{id}', 'vec', '1', '2') AS t(x bigint)$q$,
  $q$SELECT * FROM vlake.parquet_read(pq('types.parquet'), '{id}', 'dec9', '1', '2') AS t(x bigint)$q$,
  $q$SELECT * FROM vlake.parquet_read(pq('sorted.parquet'), '{id}', 'id', 'abc', NULL) AS t(x bigint)$q$,
  $q$SELECT * FROM vlake.parquet_read(pq('types.parquet'), '{vec}') AS t(x vector)$q$,
  $q$SELECT * FROM vlake.parquet_take(pq('sorted.parquet'), '{20000}', '{id}') AS t(x bigint)$q$,
  $q$SELECT * FROM vlake.parquet_take(pq('sorted.parquet'), '{-1}', '{id}') AS t(x bigint)$q$,
  $q$SELECT * FROM vlake.parquet_take(pq('sorted.parquet'), '{1,NULL}', '{id}') AS t(x bigint)$q$,
  $q$SELECT vlake.parquet_validate(pq('missing.parquet'))$q$,
  $q$SELECT vlake.parquet_validate('relative/path.parquet')$q$,
  $q$SELECT vlake.parquet_validate('file:///etc/passwd')$q$]) q;
DROP FUNCTION pq_err(text);
-- not for everyone
CREATE ROLE pq_reader_nobody;
SET ROLE pq_reader_nobody;
SELECT vlake.parquet_validate('/etc/passwd');
RESET ROLE;
DROP ROLE pq_reader_nobody;
DROP VIEW types_read;
DROP FUNCTION pq(text);
