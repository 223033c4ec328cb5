-- Parquet reader on deliberately broken files (test/data/parquet/broken,
-- made by make_broken.py): every one gives a clear ERROR naming the file
-- and the defect; none crashes or allocates without bound.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv src VLAKE_SRC
\getenv lake VLAKE_TEST_LAKE
\set fixtures :src '/test/data/parquet/broken'
\set dir :lake '/parquet_broken'
\set shapes :lake '/parquet_shapes'
\set cmd 'rm -rf ' :dir ' ' :shapes ' && mkdir -p ' :dir ' ' :shapes ' && cp ' :fixtures '/*.parquet ' :dir ' && cp ' :fixtures '/../legacy_shapes.parquet ' :shapes
COPY (SELECT 1) TO PROGRAM :'cmd';
SELECT set_config('pqtest.dir', 'file://' || :'dir', false) IS NOT NULL AS ok;

-- Reads every page of every column; reports the SQLSTATE, the message, the
-- detail and (for page decoding errors) the context naming the file, with
-- the (machine dependent) directory replaced.
CREATE FUNCTION pq_try(f text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  detail text;
  ctx text;
BEGIN
  RETURN 'ok: ' || vlake.parquet_validate(current_setting('pqtest.dir') || '/' || f) || ' rows';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, ctx = PG_EXCEPTION_CONTEXT;
  ctx := split_part(ctx, E'\n', 1);
  RETURN replace(sqlstate || ': ' || sqlerrm || coalesce(nullif(' (' || detail || ')', ' ()'), '')
                 || CASE WHEN ctx LIKE 'Parquet file%' THEN ' [' || ctx || ']' ELSE '' END,
                 current_setting('pqtest.dir'), '$DIR');
END $$;

-- the undamaged original reads, with the values its generator wrote
SELECT pq_try('good.parquet');
SELECT * FROM vlake.parquet_read(current_setting('pqtest.dir') || '/good.parquet') AS t(id bigint, s text);

-- shapes older writers produce (hand-made, see make_broken.py): a bare
-- REPEATED primitive, a legacy 2-level LIST, a struct (not readable) and
-- INT96 timestamps
SET timezone = 'UTC';
SELECT set_config('pqtest.shapes', replace(current_setting('pqtest.dir'), 'parquet_broken', 'parquet_shapes') || '/legacy_shapes.parquet', false) IS NOT NULL AS ok;
SELECT column_name, physical_type, repetition, leaf_path, max_definition_level AS d,
       max_repetition_level AS r, pg_type, unsupported
  FROM vlake.parquet_schema(current_setting('pqtest.shapes'));
SELECT * FROM vlake.parquet_read(current_setting('pqtest.shapes')) AS t(r int[], l int[], ts timestamp);
SELECT * FROM vlake.parquet_take(current_setting('pqtest.shapes'), '{2,0,1}', '{ts,l,r}') AS t(ts timestamp, l int[], r int[]);
SELECT vlake.parquet_validate(current_setting('pqtest.shapes'));
CREATE FUNCTION pq_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN sqlstate || ': ' || replace(sqlerrm, current_setting('pqtest.shapes'), '$FILE');
END $$;
SELECT pq_err($q$SELECT * FROM vlake.parquet_read(current_setting('pqtest.shapes'), '{st}') AS t(st text)$q$);
DROP FUNCTION pq_err(text);

\pset format unaligned
SELECT f, pq_try(f || '.parquet') FROM unnest(ARRAY[
  'empty', 'too_small', 'not_parquet', 'bad_magic', 'encrypted_footer',
  'footer_len_too_big', 'truncated_footer', 'huge_list_count', 'huge_num_children',
  'deep_nesting', 'row_count_mismatch', 'offset_past_eof', 'page_overrun',
  'bad_dict_index', 'def_level_too_big', 'size_lie', 'huge_uncompressed', 'invalid_utf8']) f;

\pset format aligned
DROP FUNCTION pq_try(text);
