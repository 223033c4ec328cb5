-- vlake tables: page skipping.  A sequential scan skips the pages of the
-- scalar group whose ColumnIndex excludes its "column op constant" quals,
-- and reads of the other groups only the rows that survive.  Oracle: a
-- heap table with the same rows; hundreds of generated conditions must give
-- the same rows, and the counters of vlake.table_scan_stats must show that
-- pages were skipped.
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/tables_prune' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';
SET vlake.copy_lake_threshold = 0;
SET vlake.segment_rows = 5000;
SET vlake.segment_page_bytes = 1024;   -- many pages per segment
SET max_parallel_workers_per_gather = 0;
SET timezone = 'UTC';

-- ---- the bugs of an earlier attempt, each on its own ----

-- COPY of a float column one of whose pages holds only NaNs: such a page
-- has no min/max, so its chunk gets no ColumnIndex (it crashed the writer)
CREATE TABLE nan_h (id int, x float8, r real);
INSERT INTO nan_h SELECT g, CASE WHEN g <= 3000 THEN 'NaN' ELSE g::float8 END,
       CASE WHEN g <= 3000 THEN 'NaN' ELSE g::real END FROM generate_series(1, 4000) g;
CREATE TABLE nan_t (LIKE nan_h) USING vlake;
SELECT :'lake' || '/tables_prune_nan.csv' AS nan_csv \gset
COPY nan_h TO :'nan_csv' (FORMAT csv);
COPY nan_t FROM :'nan_csv' (FORMAT csv);
-- NaN sorts above every number: x > 100 holds for the NaN rows too
SELECT (SELECT count(*) FROM nan_t WHERE x > 100) AS x_gt, (SELECT count(*) FROM nan_h WHERE x > 100) AS heap,
       (SELECT count(*) FROM nan_t WHERE r >= 3500) AS r_ge, (SELECT count(*) FROM nan_h WHERE r >= 3500) AS heap,
       (SELECT count(*) FROM nan_t WHERE x < 3500) AS x_lt, (SELECT count(*) FROM nan_h WHERE x < 3500) AS heap;

-- timestamp bounds near the end of the range overflowed µs since 1970 in
-- segment skipping (rows went missing)
CREATE TABLE ts_h (id int, ts timestamp, tz timestamptz, d date);
INSERT INTO ts_h VALUES (1, '2020-01-01', '2020-01-01', '2020-01-01'),
  (2, 'infinity', 'infinity', 'infinity'), (3, '-infinity', '-infinity', '-infinity'),
  (4, '4713-01-01 BC', '4713-01-01 BC', '4713-01-01 BC');
CREATE TABLE ts_t (LIKE ts_h) USING vlake;
SELECT :'lake' || '/tables_prune_ts.csv' AS ts_csv \gset
COPY ts_h TO :'ts_csv' (FORMAT csv);
COPY ts_t FROM :'ts_csv' (FORMAT csv);
SELECT (SELECT string_agg(id::text, ',' ORDER BY id) FROM ts_t WHERE ts < '294276-12-31 23:59:59') AS ts_lt_end,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM ts_t WHERE tz <= '294276-12-30 00:00:00+00') AS tz_le_end,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM ts_t WHERE ts > '294276-12-31 23:59:59') AS ts_gt_end,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM ts_t WHERE ts >= '4714-11-24 00:00:00 BC') AS ts_ge_start,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM ts_t WHERE d < '5874897-12-31') AS d_lt_end,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM ts_t WHERE d > '4714-11-24 BC') AS d_gt_start;

-- real statistics read back as doubles ("0.100000001" is below 0.1f) made
-- a segment whose max is 0.1f look like it had no row >= 0.1f
CREATE TABLE r4_h (id int, r real);
INSERT INTO r4_h VALUES (1, 0.05), (2, 0.1), (3, 0.3), (4, 1e-30), (5, 3.4e38);
CREATE TABLE r4_t (LIKE r4_h) USING vlake;
SELECT :'lake' || '/tables_prune_r4.csv' AS r4_csv \gset
COPY r4_h TO :'r4_csv' (FORMAT csv);
COPY r4_t FROM :'r4_csv' (FORMAT csv);
SELECT stat_attnums, mins, maxs FROM vlake.files WHERE relid = 'r4_t'::regclass;
SELECT (SELECT string_agg(id::text, ',' ORDER BY id) FROM r4_t WHERE r >= 0.3::real) AS ge_max,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM r4_t WHERE r >= 3.4e38::real) AS ge_big,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM r4_t WHERE r <= 1e-30::real) AS le_min,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM r4_t WHERE r = 0.1::real) AS eq,
       (SELECT string_agg(id::text, ',' ORDER BY id) FROM r4_t WHERE r > 0.29999999) AS gt_double;

-- an OffsetIndex whose page locations are out of order is an ERROR naming
-- the file, for scans that use it and for takes: pages listed out of row
-- order, then pages in row order whose offsets are out of file order (read
-- as each other's rows before)
\getenv src VLAKE_SRC
SELECT :'lake' || '/tables_prune_oi.parquet' AS oi_file \gset
SELECT 'rm -f ' || :'oi_file' AS rm_oi \gset
COPY (SELECT 1) TO PROGRAM :'rm_oi';
SELECT rows FROM vlake.parquet_write('file://' || :'oi_file',
  'SELECT g::bigint AS id FROM generate_series(1, 1000) g', '{"page_rows": 100}');
SELECT 'python3 ' || :'src' || '/test/data/parquet/swap_offset_index.py ' || :'oi_file' AS swap \gset
COPY (SELECT 1) TO PROGRAM :'swap';
CREATE FUNCTION try_read(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN sqlstate || ': ' || regexp_replace(sqlerrm, '"file://[^"]*/', '"');
END $$;
SELECT try_read(format('SELECT * FROM vlake.parquet_read(%L, NULL, ''id'', ''500'', ''520'') AS t(id bigint)',
                       'file://' || :'oi_file')) AS filtered_scan,
       try_read(format('SELECT * FROM vlake.parquet_take(%L, ''{5,950}'') AS t(id bigint)',
                       'file://' || :'oi_file')) AS take;
SELECT 'rm -f ' || :'oi_file' AS rm_oi \gset
COPY (SELECT 1) TO PROGRAM :'rm_oi';
SELECT rows FROM vlake.parquet_write('file://' || :'oi_file',
  'SELECT g::bigint AS id FROM generate_series(1, 1000) g', '{"page_rows": 100}');
SELECT :'swap' || ' offsets 3 4' AS swap_offsets \gset
COPY (SELECT 1) TO PROGRAM :'swap_offsets';
SELECT try_read(format('SELECT * FROM vlake.parquet_read(%L, NULL, ''id'', ''300'', ''520'') AS t(id bigint)',
                       'file://' || :'oi_file')) AS filtered_scan,
       try_read(format('SELECT * FROM vlake.parquet_take(%L, ''{5,350}'') AS t(id bigint)',
                       'file://' || :'oi_file')) AS take;

-- ---- one data set in a heap table and a vlake table ----
-- 20,000 rows in 4 segments of 5,000, 1 kB pages; the columns follow id
-- (pages cover narrow ranges) with NULLs, extremes, ±Infinity, NaN (and a
-- page of only NaNs), -0.0, infinite dates and timestamps spread in.
CREATE TABLE h (id int, i2 smallint, i8 bigint, f4 real, f8 float8, d date,
                ts timestamp, tz timestamptz, b bool, e vector(4));
INSERT INTO h SELECT g,
  CASE WHEN g % 97 = 0 THEN NULL WHEN g = 1 THEN -32768 WHEN g = 20000 THEN 32767 ELSE g / 2 - 5000 END,
  CASE WHEN g % 89 = 0 THEN NULL WHEN g = 2 THEN -9223372036854775808 WHEN g = 19999 THEN 9223372036854775807
       ELSE g::bigint * 100000000000000 END,
  CASE WHEN g % 83 = 0 THEN NULL WHEN g % 1000 = 7 OR g BETWEEN 12001 AND 12600 THEN 'NaN'
       WHEN g = 3 THEN '-Infinity' WHEN g = 19998 THEN 'Infinity' WHEN g % 1000 = 11 THEN '-0'
       ELSE g / 3.0 END,
  CASE WHEN g % 79 = 0 THEN NULL WHEN g % 1000 = 9 OR g BETWEEN 8001 AND 8600 THEN 'NaN'
       WHEN g = 4 THEN '-Infinity' WHEN g = 19997 THEN 'Infinity' WHEN g % 1000 = 13 THEN '-0'
       ELSE g / 7.0 END,
  CASE WHEN g % 73 = 0 THEN NULL WHEN g = 5 THEN '-infinity' WHEN g = 19996 THEN 'infinity'
       ELSE date '2000-01-01' + g END,
  CASE WHEN g % 71 = 0 THEN NULL WHEN g = 6 THEN '-infinity' WHEN g = 19995 THEN 'infinity'
       ELSE timestamp '2000-01-01' + g * interval '1 minute' END,
  CASE WHEN g % 67 = 0 THEN NULL WHEN g = 8 THEN '-infinity' WHEN g = 19994 THEN 'infinity'
       ELSE timestamptz '2000-01-01 00:00:00+00' + g * interval '1 hour' END,
  CASE WHEN g % 5 = 0 THEN NULL ELSE g > 12000 END,
  array_fill(g::real, ARRAY[4])::vector
  FROM generate_series(1, 20000) g;
-- a segment of only NULLs and NaNs
INSERT INTO h SELECT g, NULL, NULL, 'NaN', 'NaN', NULL, NULL, NULL, NULL, NULL FROM generate_series(20001, 21000) g;
CREATE TABLE t (LIKE h) USING vlake;
SELECT :'lake' || '/tables_prune.csv' AS csv \gset
COPY (SELECT * FROM h ORDER BY id) TO :'csv' (FORMAT csv);
COPY t FROM :'csv' (FORMAT csv);
SELECT count(*) AS segments, sum(row_count) AS rows FROM vlake.table_segments('t');
SELECT (SELECT count(*) FROM (SELECT * FROM h EXCEPT SELECT * FROM t) x) AS only_heap,
       (SELECT count(*) FROM (SELECT * FROM t EXCEPT SELECT * FROM h) x) AS only_vlake;

-- Conditions: each column against constants at its boundaries and inside
-- its pages, with every operator, both ways round (constant op column),
-- cross-type constants, and ANDs of two columns.
CREATE TABLE consts (col text, c text);
INSERT INTO consts VALUES
  ('id', '0'), ('id', '1'), ('id', '2500'), ('id', '5000'), ('id', '5001'), ('id', '12345'), ('id', '21000'),
  ('id', '2147483647'), ('id', '-2147483648'), ('id', '2.5'), ('id', '3.0::numeric'), ('id', '12345::int8'),
  ('id', '99999999999::int8'), ('id', '7::int2'),
  ('i2', '-32768'), ('i2', '-32767'), ('i2', '0'), ('i2', '1234'), ('i2', '32767'), ('i2', '40000'),
  ('i2', '-40000::int8'), ('i2', '100::int8'), ('i2', '2.5::numeric'), ('i2', '-4999::int2'),
  ('i8', '-9223372036854775808'), ('i8', '-9223372036854775807'), ('i8', '0'), ('i8', '100000000000000'),
  ('i8', '777700000000000000'), ('i8', '9223372036854775807'), ('i8', '5::int2'), ('i8', '2147483647::int4'),
  ('i8', '1e18::numeric'),
  ('f4', '''NaN''::real'), ('f4', '''Infinity''::real'), ('f4', '''-Infinity''::real'), ('f4', '0'),
  ('f4', '''-0''::real'), ('f4', '0.1::real'), ('f4', '1000.33333::real'), ('f4', '4000'),
  ('f4', '6666.6665::real'), ('f4', '(1/3.0)::float8'), ('f4', '2500.1::float8'), ('f4', '1e39::float8'),
  ('f4', '2.5::numeric'),
  ('f8', '''NaN''::float8'), ('f8', '''Infinity''::float8'), ('f8', '''-Infinity''::float8'), ('f8', '0'),
  ('f8', '''-0''::float8'), ('f8', '(1/7.0)::float8'), ('f8', '1000.5'), ('f8', '1142.857142857143::float8'),
  ('f8', '2000'), ('f8', '0.1::real'), ('f8', '1e308'), ('f8', '2500::numeric'),
  ('d', '''2000-01-01''::date'), ('d', '''2000-01-02''::date'), ('d', '''2010-06-01''::date'),
  ('d', '''2054-10-04''::date'), ('d', '''infinity''::date'), ('d', '''-infinity''::date'),
  ('d', '''5874897-12-31''::date'), ('d', '''4714-11-24 BC''::date'), ('d', '''2010-06-01''::timestamp'),
  ('ts', '''2000-01-01''::timestamp'), ('ts', '''2000-01-05 12:00''::timestamp'),
  ('ts', '''2000-01-14 21:20''::timestamp'), ('ts', '''infinity''::timestamp'),
  ('ts', '''294276-12-31 23:59:59''::timestamp'), ('ts', '''4714-11-24 00:00:00 BC''::timestamp'),
  ('ts', '''2000-01-05''::timestamptz'), ('ts', '''2000-01-05''::date'),
  ('tz', '''2000-01-01 00:00+00''::timestamptz'), ('tz', '''2000-06-01 00:00+00''::timestamptz'),
  ('tz', '''2002-04-14 08:00+00''::timestamptz'), ('tz', '''-infinity''::timestamptz'),
  ('tz', '''294276-12-30 00:00+00''::timestamptz'), ('tz', '''2000-06-01''::timestamp'),
  ('b', 'true'), ('b', 'false');
CREATE TABLE conds (cond text, with_e bool);
INSERT INTO conds
  SELECT format('%s %s %s', col, op, c), false FROM consts, unnest('{<,<=,=,>=,>,<>}'::text[]) op
  UNION ALL
  SELECT format('%s %s %s', c, op, col), false FROM consts, unnest('{<,>=}'::text[]) op
  UNION ALL
  SELECT format('%s %s %s AND %s %s %s', a.col, '>=', a.c, b.col, '<', b.c), false
    FROM consts a JOIN consts b ON a.col < b.col
    WHERE a.c IN ('2500', '1000.5', '0', '''2010-06-01''::date') AND b.c IN ('12345', '4000', '1234', '''2000-01-14 21:20''::timestamp')
  UNION ALL
  SELECT cond, false FROM unnest(ARRAY['f8 IS NULL', 'i2 IS NOT NULL AND id < 3000', 'id IN (3, 4000, 17000)',
    'id < 100 OR id > 20900', 'f8 = ''NaN''', 'f4 > 5000 OR f4 IS NULL', 'NOT (id > 100)',
    'id BETWEEN 4990 AND 5010', 'id + 0 < 100', 'b', 'NOT b', 'b IS TRUE']) cond;
-- the same with the vector column projected (its group reads the surviving rows only)
INSERT INTO conds SELECT cond, true FROM conds
  WHERE cond LIKE 'id %' OR cond LIKE 'f8 %' OR cond LIKE 'ts %' OR cond LIKE '% AND %';

CREATE FUNCTION check_cond(cond text, with_e bool) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  what text := CASE WHEN with_e THEN 'id::text || coalesce(e::text, ''-'')' ELSE 'id::text' END;
  q text := 'SELECT count(*) || '':'' || coalesce(md5(string_agg(' || what || ', '','' ORDER BY id)), '''') FROM %s WHERE ' || cond;
  vl text;
  hp text;
BEGIN
  EXECUTE format(q, 't') INTO vl;
  EXECUTE format(q, 'h') INTO hp;
  RETURN CASE WHEN vl = hp THEN 'ok' ELSE 'vlake ' || vl || ' heap ' || hp END;
EXCEPTION WHEN OTHERS THEN
  RETURN 'error: ' || sqlerrm;
END $$;

SELECT vlake.table_scan_stats_reset();
SELECT count(*) AS conditions, count(*) FILTER (WHERE with_e) AS with_vector FROM conds;
-- every condition: the same rows as heap (errors both ways are fine: the
-- operator does not exist; they are listed)
SELECT cond, with_e, r FROM (SELECT cond, with_e, check_cond(cond, with_e) r FROM conds) x
  WHERE r <> 'ok' ORDER BY cond, with_e;
SELECT segments_skipped > 0 AS segments_skipped, pages_skipped > 100 AS pages_skipped,
       rows_skipped > 100000 AS rows_skipped FROM vlake.table_scan_stats();

-- the same through parallel scans (workers count in their own sessions)
SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT count(*) AS conditions, count(*) FILTER (WHERE check_cond(cond, with_e) = 'ok') AS ok
  FROM (SELECT * FROM conds ORDER BY cond, with_e LIMIT 60) x;
EXPLAIN (COSTS OFF) SELECT count(*) FROM t WHERE id < 100;
SET max_parallel_workers_per_gather = 0;

-- Pruning happened: a selective condition reads a few pages of one
-- segment; bytes far below a full read of the same columns.
SELECT vlake.table_scan_stats_reset();
SELECT sum(f8) FROM t WHERE id > 0;
SELECT bytes_read AS full_bytes, pages_read AS full_pages FROM vlake.table_scan_stats() \gset
SELECT vlake.table_scan_stats_reset();
SELECT sum(f8) FROM t WHERE id BETWEEN 12000 AND 12100;
SELECT segments_total, segments_skipped, pages_skipped > 0 AS pages_skipped, rows_skipped > 4000 AS rows_skipped,
       pages_read < :full_pages / 10 AS few_pages, bytes_read < :full_bytes / 4 AS few_bytes
  FROM vlake.table_scan_stats();
-- with the vector column: its group reads only the surviving rows' pages
SELECT vlake.table_scan_stats_reset();
SELECT sum(vector_dims(e)) FROM t WHERE id > 0;
SELECT bytes_read AS full_bytes FROM vlake.table_scan_stats() \gset
SELECT vlake.table_scan_stats_reset();
SELECT sum(vector_dims(e)) FROM t WHERE id BETWEEN 12000 AND 12100;
SELECT pages_skipped > 0 AS pages_skipped, bytes_read < :full_bytes / 4 AS few_bytes FROM vlake.table_scan_stats();

-- every type skips pages; not: float lower bounds in segments holding a
-- NaN (every segment of t: f4 > 6000, f8 >= 2500), booleans (bit-packed,
-- a segment fits one page)
CREATE FUNCTION pages_skipped(tbl text, cond text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  PERFORM vlake.table_scan_stats_reset();
  EXECUTE 'SELECT count(*) FROM ' || tbl || ' WHERE ' || cond;
  RETURN (SELECT pages_skipped FROM vlake.table_scan_stats());
END $$;
SELECT cond, pages_skipped('t', cond) > 0 AS skipped FROM unnest(ARRAY['i2 < -4000', 'i8 > 1700000000000000000',
  'f4 < 100', 'f4 > 6000', 'f8 = 100', 'f8 >= 2500', 'd = ''2030-01-01''', 'ts < ''2000-01-02''',
  'tz > ''2002-01-01 00:00+00''', 'b = false', 'i2 < 100::int8', 'f4 < 100::float8']) cond;

-- a float column without NaN: lower bounds skip pages too
CREATE TABLE fl (LIKE h) USING vlake;
INSERT INTO fl SELECT id, NULL, NULL, id, id FROM h WHERE id <= 5000;
SELECT vlake.flush('fl');
SELECT cond, pages_skipped('fl', cond) > 0 AS skipped FROM (VALUES ('f4 > 4000'), ('f8 >= 4000')) v(cond);

-- EXPLAIN ANALYZE prints the statement's counts after the plan
CREATE FUNCTION explain_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, 'bytes=[0-9]+', 'bytes=N');
  END LOOP;
END $$;
SELECT explain_lines('SELECT sum(f8) FROM t WHERE id BETWEEN 12000 AND 12100');
SELECT explain_lines('SELECT count(*) FROM h WHERE id < 10');   -- a heap table: no line

-- what does not prune: text, OR, IN, IS NULL (still right, as checked above)
SELECT vlake.table_scan_stats_reset();
SELECT count(*) FROM t WHERE id IN (3, 4000) OR f8 IS NULL;
SELECT segments_skipped, pages_skipped FROM vlake.table_scan_stats();
