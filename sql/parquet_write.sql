-- vlake.parquet_write and vector ColumnGroup take: options, errors, and
-- values checked against Postgres itself (the table is the oracle).
-- DuckDB reading vlake's files is covered by test/t/050_parquet_duckdb.pl.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
SELECT set_config('pqtest.root', 'file://' || :'lake' || '/parquet_write/', false) IS NOT NULL AS ok;
CREATE FUNCTION pq_uri(name text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('pqtest.root') || name $$;
-- run a statement, report ok or the SQLSTATE and message (lake path hidden)
CREATE FUNCTION pq_try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || replace(SQLERRM, current_setting('pqtest.root'), '$ROOT/');
END $$;
CREATE FUNCTION pq_write(name text, query text, opts text DEFAULT '{}') RETURNS text
  LANGUAGE sql AS $$
  SELECT pq_try(format('SELECT vlake.parquet_write(%L, %L, %L)', pq_uri(name), query, opts)) $$;

-- start from an empty directory (the lake outlives test runs)
DO $$ BEGIN PERFORM vlake.lake_delete(pq_uri(key)) FROM vlake.lake_list(pq_uri('')); END $$;
SELECT vlake.lake_write(pq_uri('.keep'), '');

-- options
SELECT pq_write('o1.parquet', 'SELECT 1 AS a', '{"compresion": "zstd"}');
SELECT pq_write('o2.parquet', 'SELECT 1 AS a', '{"compression": "brotli"}');
SELECT pq_write('o3.parquet', 'SELECT 1 AS a', '{"compression": 3}');
SELECT pq_write('o4.parquet', 'SELECT 1 AS a', '{"layout": "columnar"}');
SELECT pq_write('o5.parquet', 'SELECT 1 AS a', '{"columns": {"b": {"compression": "zstd"}}}');
SELECT pq_write('o6.parquet', 'SELECT 1 AS a', '{"columns": {"a": {"codec": "zstd"}}}');
SELECT pq_write('o7.parquet', 'SELECT 1 AS a', '{"metadata": {"vlake.layout": "x"}}');
SELECT pq_write('o8.parquet', 'SELECT 1 AS a', '{"page_rows": -1}');
SELECT pq_write('o9.parquet', 'SELECT 1 AS a', '{"dictionary": "yes"}');
SELECT pq_write('o10.parquet', 'SELECT 1 AS a', '[1, 2]');
SELECT pq_write('o11.parquet', 'CREATE TEMP TABLE x (a int)');
SELECT pq_write('o12.parquet', 'SELECT ''x''::text AS t', '{"columns": {"t": {"encoding": "delta_binary_packed"}}}');
SELECT pq_write('o13.parquet', 'SELECT 1::int8 AS i', '{"columns": {"i": {"encoding": "rle"}}}');
SELECT pq_write('o14.parquet', 'SELECT 1 AS a', '{"columns": {"a": {"page_rows": 0}}}');
SELECT pq_write('', 'SELECT 1 AS a');
SELECT pq_try($$SELECT vlake.parquet_write('file:///etc/passwd.parquet', 'SELECT 1')$$)
  ~ 'is not allowed' AS confined;
SELECT pq_write('ok1.parquet', 'SELECT 1 AS a, ''x''::text AS b',
  '{"compression": "snappy", "dictionary": false, "row_group_rows": 1, "columns": {"b": {"compression": "none", "field_id": 9}}, "metadata": {"k": "v"}}');

-- an existing object is never overwritten
SELECT pq_write('ok1.parquet', 'SELECT 2 AS a');

-- values Parquet cannot hold: a clear error naming the column
SELECT pq_write('v1.parquet', 'SELECT ''NaN''::numeric AS n');
SELECT pq_write('v2.parquet', 'SELECT 1e30::numeric AS big');
SELECT pq_write('v3.parquet', 'SELECT ''infinity''::date AS d');
SELECT pq_write('v4.parquet', 'SELECT ''-infinity''::timestamptz AS t');
-- numeric(p,s) beyond DECIMAL(38) is written as its exact text
SELECT pq_write('v5.parquet', 'SELECT 1.5::numeric(50,2) AS wide');

-- an error while writing leaves nothing visible
SELECT pq_write('err.parquet', 'SELECT 1 / (g - 500) AS x FROM generate_series(1, 1000) g');
SELECT count(*) AS leftover FROM vlake.lake_list(pq_uri('')) WHERE key LIKE 'err%';

-- vector ColumnGroups
CREATE TABLE emb (id int PRIMARY KEY, e vector(3));
INSERT INTO emb SELECT g, CASE WHEN g % 17 = 5 THEN NULL
  ELSE array[g, -g, g / 8.0]::vector(3) END FROM generate_series(0, 999) g;
SELECT pq_write('cg2.parquet', 'SELECT e, e AS f FROM emb', '{"layout": "vector"}');
SELECT pq_write('cg3.parquet', 'SELECT id FROM emb', '{"layout": "vector"}');
SELECT pq_write('cg4.parquet', $$SELECT CASE WHEN g = 3 THEN '[1,2]'::vector ELSE '[1,2,3]'::vector END FROM generate_series(1, 5) g$$,
  '{"layout": "vector"}');
SELECT pq_write('cg.parquet', 'SELECT e FROM emb ORDER BY id', '{"layout": "vector", "page_rows": 100}');
SELECT pq_write('cgnn.parquet', 'SELECT e FROM emb WHERE e IS NOT NULL ORDER BY id', '{"layout": "vector", "page_rows": 64}');

-- the footer records the layout, the dimension and the first row ID
SELECT pq_write('cgrid.parquet', 'SELECT e FROM emb ORDER BY id', '{"layout": "vector", "first_row_id": 1000000}');
SELECT key_value_metadata FROM vlake.parquet_file_info(pq_uri('cgrid.parquet'));

-- take returns exactly the table's vectors (nulls included), in request order
WITH want AS (SELECT g AS ord, r FROM unnest('{999,0,5,99,100,101,500,5,998,22}'::bigint[]) WITH ORDINALITY AS u(r, g))
SELECT count(*) AS rows,
       count(*) FILTER (WHERE t.embedding IS NOT DISTINCT FROM emb.e::real[]) AS equal,
       count(*) FILTER (WHERE t.embedding IS NULL) AS nulls,
       bool_and(t.ord = want.ord AND t.row_number = want.r) AS in_order
FROM vlake.vector_cg_take(pq_uri('cg.parquet'), '{999,0,5,99,100,101,500,5,998,22}') t
JOIN want ON want.ord = t.ord JOIN emb ON emb.id = want.r;
-- every row of the null-free ColumnGroup, by take and by scan
WITH nn AS (SELECT row_number() OVER (ORDER BY id) - 1 AS rn, e FROM emb WHERE e IS NOT NULL)
SELECT count(*) AS rows, count(*) FILTER (WHERE t.embedding = nn.e::real[]) AS equal
FROM vlake.vector_cg_take(pq_uri('cgnn.parquet'), (SELECT array_agg(rn ORDER BY rn DESC) FROM nn)) t
JOIN nn ON nn.rn = t.row_number;
SELECT count(*) AS rows, count(*) FILTER (WHERE s.embedding IS NOT DISTINCT FROM emb.e::real[]) AS equal
FROM vlake.vector_cg_scan(pq_uri('cg.parquet')) s JOIN emb ON emb.id = s.row_number;
-- a halfvec ColumnGroup: FIXED_LEN_BYTE_ARRAY(2*dim) of binary16, nulls included
CREATE TABLE hemb (id int, h halfvec(3));
INSERT INTO hemb SELECT g, CASE WHEN g % 9 = 4 THEN NULL ELSE array[g * 0.5, -1, 0.25]::halfvec(3) END
  FROM generate_series(0, 499) g;
SELECT pq_write('hcg.parquet', 'SELECT h FROM hemb ORDER BY id', '{"layout": "vector", "page_rows": 50}');
SELECT count(*) AS rows, count(*) FILTER (WHERE t.embedding IS NOT DISTINCT FROM hemb.h::real[]) AS equal
FROM vlake.vector_cg_take(pq_uri('hcg.parquet'), '{0,4,13,499,250,100,49,50}') t JOIN hemb ON hemb.id = t.row_number;
SELECT count(*) AS rows, count(*) FILTER (WHERE s.embedding IS NOT DISTINCT FROM hemb.h::real[]) AS equal
FROM vlake.vector_cg_scan(pq_uri('hcg.parquet')) s JOIN hemb ON hemb.id = s.row_number;
SELECT pq_write('hcg2.parquet', 'SELECT h::halfvec FROM hemb', '{"layout": "vector"}');
SELECT pq_try($$SELECT * FROM vlake.vector_cg_take(pq_uri('cg.parquet'), '{1000}')$$);
SELECT pq_try($$SELECT * FROM vlake.vector_cg_take(pq_uri('cg.parquet'), '{-1}')$$);
SELECT pq_try($$SELECT * FROM vlake.vector_cg_take(pq_uri('ok1.parquet'), '{0}', 'b')$$);
SELECT pq_try($$SELECT * FROM vlake.vector_cg_take(pq_uri('ok1.parquet'), '{0}', 'zz')$$);
SELECT pq_try($$SELECT * FROM vlake.vector_cg_take(pq_uri('missing.parquet'), '{0}')$$);
-- a fixed-width scalar column of an uncompressed file is take-able too
SELECT pq_write('ints.parquet', 'SELECT g::float4 AS f FROM generate_series(0, 9999) g',
  '{"compression": "none", "dictionary": false, "page_rows": 1000}');
SELECT array_agg(embedding[1] ORDER BY ord) FROM vlake.vector_cg_take(pq_uri('ints.parquet'), '{9999,0,1234,1000,999}');

-- corrupt files: clear errors, no crash
SELECT vlake.lake_write(pq_uri('junk.parquet'), 'not a parquet file at all');
SELECT pq_try($$SELECT * FROM vlake.vector_cg_take(pq_uri('junk.parquet'), '{0}')$$);
SELECT vlake.lake_write(pq_uri('tiny.parquet'), 'PAR1');
SELECT pq_try($$SELECT * FROM vlake.vector_cg_take(pq_uri('tiny.parquet'), '{0}')$$);
SELECT vlake.lake_write(pq_uri('badlen.parquet'), '\x50415231000000000000ffffff7f50415231'::bytea);
SELECT pq_try($$SELECT * FROM vlake.vector_cg_take(pq_uri('badlen.parquet'), '{0}')$$);
-- footer bytes flipped
SELECT vlake.lake_write(pq_uri('flipped.parquet'),
  (SELECT overlay(f PLACING '\xffffffffffff'::bytea FROM length(f) - 40) FROM vlake.lake_read(pq_uri('cg.parquet')) f));
SELECT pq_try($$SELECT * FROM vlake.vector_cg_take(pq_uri('flipped.parquet'), '{0}')$$) ~ '^XX001' AS corrupt_detected;

-- every byte of the footer and page index region flipped in turn: each take
-- either succeeds or raises an ERROR (never crashes the backend)
DO $$
DECLARE
  f bytea := vlake.lake_read(pq_uri('cgnn.parquet'));
  n int := length(f);
  bad bytea;
  outcome text;
  errors int := 0;
BEGIN
  FOR i IN greatest(0, n - 1200) .. n - 1 LOOP
    bad := set_byte(f, i, (get_byte(f, i) + 1 + i % 254) % 256);
    PERFORM vlake.lake_delete(pq_uri('fuzz.parquet'));
    PERFORM vlake.lake_write(pq_uri('fuzz.parquet'), bad);
    outcome := pq_try($q$SELECT count(*) FROM vlake.vector_cg_take(pq_uri('fuzz.parquet'), '{0,1,500,940}')$q$);
    IF outcome <> 'ok' THEN
      errors := errors + 1;
      IF outcome !~ '^(XX001|0A000|22023)' THEN
        RAISE EXCEPTION 'unexpected error at byte %: %', i, outcome;
      END IF;
    END IF;
  END LOOP;
  RAISE NOTICE 'corrupted files rejected: %', CASE WHEN errors > 100 THEN 'many' ELSE 'few' END;
END $$;
