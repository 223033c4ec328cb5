-- The segment files of vlake tables (src/tableam/vltab_segment.h): a heap
-- table with every common type is written as one segment and read back; the
-- heap table is the oracle (EXCEPT both ways, on the values and on their
-- text forms).  Also: the ColumnGroup plan, statistics, projection reading
-- only the needed groups (I/O counters), take by row ID, columns added or
-- dropped after the write, and bad input.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
\getenv lake VLAKE_TEST_LAKE
SELECT set_config('test.lake', :'lake', false) IS NOT NULL AS lake_set;
\set root 'file://' :lake '/tables_segment/'
SELECT set_config('test.root', :'root', false) IS NOT NULL AS root_set;
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('rm -rf %s/tables_segment', current_setting('test.lake')));
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

-- ------------------------------------------------------------ the source
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (x integer, label text);
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE src (
  id integer, i2 smallint, gone integer, i8 bigint, f4 real, f8 double precision,
  n numeric, n2 numeric(10,2), b boolean, t text, vc varchar(10), ch char(5),
  by bytea, d date, ts timestamp, tz timestamptz, u uuid, j jsonb, js json,
  ia integer[], m mood, c pair, dom posint, iv interval, v vector(3), h halfvec(3),
  vu vector, big text);
ALTER TABLE src DROP COLUMN gone;
INSERT INTO src
SELECT i,
  CASE WHEN i % 7 = 1 THEN NULL ELSE (i * 37 % 65536 - 32768)::smallint END,
  CASE WHEN i % 7 = 2 THEN NULL ELSE i::bigint * 1000000007 * (CASE WHEN i % 2 = 0 THEN -1 ELSE 1 END) END,
  CASE WHEN i % 7 = 3 THEN NULL ELSE (i / 7.0)::real END,
  CASE WHEN i % 7 = 4 THEN NULL ELSE i * pi() END,
  CASE WHEN i % 7 = 5 THEN NULL ELSE (i::numeric / 3)::numeric(40, 25) * 10 ^ (i % 11) END,
  CASE WHEN i % 7 = 6 THEN NULL ELSE (i * 1.25)::numeric(10,2) END,
  CASE WHEN i % 5 = 0 THEN NULL ELSE i % 2 = 0 END,
  CASE WHEN i % 6 = 0 THEN NULL ELSE 'row ' || i || repeat(' é€😀', i % 4) END,
  CASE WHEN i % 6 = 1 THEN NULL ELSE left('v' || i, 10) END,
  CASE WHEN i % 6 = 2 THEN NULL ELSE 'c' || (i % 100) END,
  CASE WHEN i % 6 = 3 THEN NULL ELSE decode(md5(i::text), 'hex') || '\x00ff'::bytea END,
  CASE WHEN i % 8 = 0 THEN NULL ELSE date '2000-01-01' + (i * 97 - 5000) END,
  CASE WHEN i % 8 = 1 THEN NULL ELSE timestamp '1969-12-31 23:59:59.999999' + i * interval '1 day 1.000001 s' END,
  CASE WHEN i % 8 = 2 THEN NULL ELSE timestamptz '2024-03-01 12:00+02' - i * interval '17 hours 0.5 s' END,
  CASE WHEN i % 8 = 3 THEN NULL ELSE md5('u' || i)::uuid END,
  CASE WHEN i % 8 = 4 THEN NULL ELSE jsonb_build_object('i', i, 'a', jsonb_build_array(i, 'x', NULL, 1.50)) END,
  CASE WHEN i % 8 = 5 THEN NULL ELSE format('{"i": %s,  "dup": 1, "dup": 2}', i)::json END,
  CASE WHEN i % 9 = 0 THEN NULL WHEN i % 9 = 1 THEN '{}' WHEN i % 9 = 2 THEN ARRAY[1, NULL, 3]
       ELSE ARRAY[i, -i] END,
  CASE WHEN i % 9 = 3 THEN NULL ELSE (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::mood END,
  CASE WHEN i % 9 = 4 THEN NULL WHEN i % 9 = 5 THEN ROW(NULL, 'a "b", c')::pair ELSE ROW(i, 'p' || i)::pair END,
  CASE WHEN i % 9 = 6 THEN NULL ELSE i + 1 END,
  CASE WHEN i % 9 = 7 THEN NULL ELSE make_interval(months => i, days => -i, secs => i / 3.0) END,
  CASE WHEN i % 10 = 0 THEN NULL ELSE ARRAY[i, -i / 3.0, 1e-7 * i]::vector(3) END,
  CASE WHEN i % 10 = 1 THEN NULL ELSE ARRAY[i % 100, 0.5, -2]::halfvec(3) END,
  CASE WHEN i % 10 = 2 THEN NULL ELSE array_fill(i::real / 4, ARRAY[1 + i % 5])::vector END,
  CASE WHEN i % 50 = 3 THEN repeat(md5(i::text), 20000)   -- 640 kB, compressible
       WHEN i % 50 = 4 THEN (SELECT string_agg(md5(i::text || k), '') FROM generate_series(1, 5000) k)
       WHEN i % 4 = 0 THEN NULL ELSE 'short ' || i END
FROM generate_series(1, 300) i;
-- special values
INSERT INTO src (id, f4, f8, n, n2, t, vc, ch, by, d, ts, tz, ia, j, big) VALUES
  (1001, 'NaN', 'Infinity', 'NaN', 'NaN', '', '', '', '', 'infinity', 'infinity', '-infinity',
   '{{1,2},{3,4}}', '"just a string"', ''),
  (1002, '-Infinity', '-0', 'Infinity', -99999999.99, E'tab\there\nnew line \\ back', 'ünïcödé', 'x',
   '\x00', '-infinity', '-infinity', 'infinity', '[0:1]={5,6}', 'null', E'\\x00'),
  (1003, '-0', 'NaN', '-Infinity', 0, 'end', NULL, NULL, NULL, '4713-01-01 BC', '4713-01-01 00:00 BC',
   '294247-01-01 00:00 UTC', NULL, '[]', NULL),
  (1004, 1.17549435e-38, 2.2250738585072014e-308, 1e-300, 0.01, 'x', NULL, NULL, NULL,
   '5874897-12-31', '294247-01-01 00:00:00.999999', '1970-01-01 00:00 UTC', NULL, '{}', NULL);
INSERT INTO src (id) VALUES (1005);   -- every other column NULL
SELECT count(*) AS rows, count(*) FILTER (WHERE pg_column_compression(big) IS NOT NULL) AS compressed,
       count(*) FILTER (WHERE length(big) > 100000) AS long_big
FROM src;

-- -------------------------------------------------------------- write
CREATE TEMP TABLE w AS
  SELECT * FROM vlake.segment_write('src', current_setting('test.root'), 'seg1', 1000);
-- one scalar group, a vector ColumnGroup per vector(n)/halfvec(n), a group
-- of its own for every long or unbounded column (incl. vector without dim)
SELECT group_no, kind, path, attnums, row_count, size > 0 AS has_size, etag <> '' AS has_etag
FROM w ORDER BY group_no;
-- statistics of the scalar group, in the text forms of docs/manifest.md
SELECT a.attname, s->>'null_count' AS null_count, s->>'min' AS min, s->>'max' AS max
FROM w, jsonb_array_elements(w.stats) s
JOIN pg_attribute a ON a.attrelid = 'src'::regclass AND a.attnum = (s->>'field_id')::int
WHERE w.group_no = 0 ORDER BY a.attnum;
-- null counts of every column are right (the heap is the oracle)
CREATE FUNCTION pg_temp.heap_nulls(col name) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) - count(%I) FROM src', col) INTO n;
  RETURN n;
END $$;
SELECT count(*) AS columns_with_stats,
       count(*) FILTER (WHERE (s->>'null_count')::bigint <> pg_temp.heap_nulls(a.attname)) AS wrong_null_counts
FROM w, jsonb_array_elements(w.stats) s
JOIN pg_attribute a ON a.attrelid = 'src'::regclass AND a.attnum = (s->>'field_id')::int;
-- min/max agree with the heap (in the manifest's order and units)
CREATE TEMP VIEW st AS
  SELECT a.attname::text AS col, s->>'min' AS min, s->>'max' AS max
  FROM w, jsonb_array_elements(w.stats) s
  JOIN pg_attribute a ON a.attrelid = 'src'::regclass AND a.attnum = (s->>'field_id')::int;
SELECT min(i2)::text = (SELECT min FROM st WHERE col = 'i2') AS i2_min,
       max(i8)::text = (SELECT max FROM st WHERE col = 'i8') AS i8_max,
       (min(d) FILTER (WHERE isfinite(d)) - date '1970-01-01')::text =
         (SELECT min FROM st WHERE col = 'd') AS d_min_is_not_finite,
       (SELECT min = '-2147483647' AND max = '2147483647' FROM st WHERE col = 'd') AS d_infinities,
       max(u::text) = (SELECT max FROM st WHERE col = 'u') AS u_max,
       max(vc COLLATE "C") = (SELECT max FROM st WHERE col = 'vc') AS vc_max,
       min(ch COLLATE "C")::text = rtrim((SELECT min FROM st WHERE col = 'ch')) AS ch_min,
       (SELECT min || '/' || max FROM st WHERE col = 'b') AS b_bounds
FROM src;
CREATE TEMP TABLE files AS SELECT jsonb_agg(to_jsonb(w) ORDER BY group_no) AS f FROM w;

-- --------------------------------------------------------- round trip
CREATE TEMP VIEW back AS
  SELECT * FROM vlake.segment_read(NULL::src, current_setting('test.root'), 1000,
                                    (SELECT count(*) FROM src), (SELECT f FROM files));
SELECT count(*) AS rows_back FROM back;
-- values (every column with an equality operator; json as jsonb)
SELECT count(*) AS missing FROM (
  SELECT id, i2, i8, f4, f8, n, n2, b, t, vc, ch, by, d, ts, tz, u, j, js::text, ia, m, c, dom, iv, v, h, vu, big FROM src
  EXCEPT ALL
  SELECT id, i2, i8, f4, f8, n, n2, b, t, vc, ch, by, d, ts, tz, u, j, js::text, ia, m, c, dom, iv, v, h, vu, big FROM back) x;
SELECT count(*) AS extra FROM (
  SELECT id, i2, i8, f4, f8, n, n2, b, t, vc, ch, by, d, ts, tz, u, j, js::text, ia, m, c, dom, iv, v, h, vu, big FROM back
  EXCEPT ALL
  SELECT id, i2, i8, f4, f8, n, n2, b, t, vc, ch, by, d, ts, tz, u, j, js::text, ia, m, c, dom, iv, v, h, vu, big FROM src) x;
-- text forms too (catches what = forgives: numeric display scale, -0, array bounds)
SELECT count(*) AS text_diff FROM (
  (SELECT s::text FROM src s EXCEPT ALL SELECT r::text FROM back r)
  UNION ALL
  (SELECT r::text FROM back r EXCEPT ALL SELECT s::text FROM src s)) x;
-- row IDs follow heap order: row first_row_id + k is the k-th row of the heap
SELECT bool_and(b.id = s.id) AS heap_order
FROM (SELECT id, row_number() OVER () AS k FROM back) b
JOIN (SELECT id, row_number() OVER (ORDER BY ctid) AS k FROM src) s USING (k);
-- the special rows, side by side
SELECT id, f4, f8, n, n2, d, ts, tz, ia, j, t, length(big) AS big_len
FROM back WHERE id > 1000 ORDER BY id;

-- ---------------------------------------------------- projection and I/O
-- The reader reads the versions the catalog names (size and ETag): no head
-- requests.  Without the memory tier every read goes to the store: a scan of
-- one group is its footer and its column chunks (2 reads).
SET vlake.cache_memory_size = 0;
CREATE TEMP VIEW io AS
  SELECT coalesce(sum(head_requests), 0) AS heads, coalesce(sum(get_requests), 0) AS gets,
         coalesce(sum(bytes_requested), 0) AS bytes
  FROM vlake.io_stats WHERE prefix = current_setting('test.root');
CREATE FUNCTION pg_temp.read_cols(cols text[]) RETURNS SETOF src LANGUAGE sql AS $$
  SELECT * FROM vlake.segment_read(NULL::src, current_setting('test.root'), 1000,
                                    (SELECT count(*) FROM src), (SELECT f FROM files), cols) $$;
-- bytes of the files holding these columns
CREATE FUNCTION pg_temp.group_bytes(cols text[]) RETURNS bigint LANGUAGE sql AS $$
  SELECT sum(size)::bigint FROM w WHERE EXISTS (
    SELECT FROM unnest(cols) c JOIN pg_attribute a ON a.attrelid = 'src'::regclass AND a.attname = c
    WHERE a.attnum = ANY (w.attnums)) $$;
SELECT vlake.io_stats_reset();
SELECT count(*), sum(id), count(i8) FROM pg_temp.read_cols(ARRAY['id', 'i8']);
SELECT heads, gets FROM io;
SELECT vlake.io_stats_reset();
SELECT count(v) AS v_only FROM pg_temp.read_cols(ARRAY['v']);
SELECT heads, gets FROM io;
SELECT vlake.io_stats_reset();
SELECT count(*) FILTER (WHERE id IS NOT NULL AND t IS NULL AND big IS NOT NULL) AS id_big
FROM pg_temp.read_cols(ARRAY['id', 'big']);
SELECT heads, gets, bytes > pg_temp.group_bytes(ARRAY['big']) AS all_of_big FROM io;
-- the oracle that needs no counters: with every other file of the segment
-- gone, a read of scalar columns still works, and a read of a removed
-- group fails
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
                 format('cd %s/tables_segment && mv seg1 seg1_all && mkdir seg1 && mv seg1_all/scalar.parquet seg1/',
                        current_setting('test.lake')));
END $$;
SELECT count(*), sum(id), count(i8), count(u) FROM pg_temp.read_cols(ARRAY['id', 'i8', 'u']);
SELECT pg_temp.try($$SELECT count(*) FROM pg_temp.read_cols(ARRAY['id', 'big'])$$);
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
                 format('cd %s/tables_segment && mv seg1/scalar.parquet seg1_all/ && rmdir seg1 && mv seg1_all seg1', current_setting('test.lake')));
END $$;
-- columns not asked for are NULL; the projected ones equal the heap's
SELECT count(*) AS projected_diff FROM (
  SELECT id, h, m, NULL::int8 AS i8 FROM src
  EXCEPT ALL SELECT id, h, m, i8 FROM pg_temp.read_cols(ARRAY['m', 'h', 'id'])) x;
-- no columns: every row, all NULL, and no file opened
SELECT vlake.io_stats_reset();
SELECT count(*) AS rows, count(id) AS ids FROM pg_temp.read_cols('{}');
SELECT * FROM io;

-- ------------------------------------------------------- take by row ID
-- row ID 1000 + k is the heap's k-th row (0-based)
CREATE TEMP TABLE heap_k AS SELECT row_number() OVER (ORDER BY ctid) - 1 AS k, s FROM src s;
SELECT count(*) AS take_diff FROM (
  SELECT r::text FROM vlake.segment_take(NULL::src, current_setting('test.root'), 1000,
           (SELECT count(*) FROM src), (SELECT f FROM files),
           ARRAY[1000 + 304, 1000, 1000 + 153, 1000 + 3, 1000 + 153, 1000 + 303]) r
  EXCEPT ALL
  SELECT s::text FROM unnest(ARRAY[304, 0, 153, 3, 153, 303]) k JOIN heap_k USING (k)) x;
SELECT id, v, h, vu, left(big, 10) AS big
FROM vlake.segment_take(NULL::src, current_setting('test.root'), 1000, (SELECT count(*) FROM src),
                        (SELECT f FROM files), ARRAY[1000 + 304, 1000 + 2, 1000 + 50, 1000 + 10, 1000], ARRAY['id', 'v', 'h', 'vu', 'big']);
-- take reads only the groups of the asked columns (page cache emptied: the
-- takes above kept the pages they decoded)
SELECT vlake.page_cache_reset();
SELECT vlake.io_stats_reset();
SELECT id, vc FROM vlake.segment_take(NULL::src, current_setting('test.root'), 1000, (SELECT count(*) FROM src),
                        (SELECT f FROM files), ARRAY[1000 + 7], ARRAY['id', 'vc']);
SELECT heads, gets FROM io;

-- the page cache (vlake.page_cache_size): takes keep the decoded pages and
-- value rows of the file versions the catalog names; taken again, they are
-- neither read nor decoded, and the rows are still the heap's.  Every row,
-- in a shuffled order with repeats, three times: cold, from the cache, and
-- with the cache off.
CREATE TEMP TABLE take_ids AS
  SELECT array_agg(k ORDER BY (k * 7919) % 311, k) AS ks FROM (
    SELECT g AS k FROM generate_series(0, 304) g UNION ALL SELECT 17 UNION ALL SELECT 290) x;
CREATE FUNCTION pg_temp.take_all_diff() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (
    (SELECT r::text FROM vlake.segment_take(NULL::src, current_setting('test.root'), 1000,
              (SELECT count(*) FROM src), (SELECT f FROM files),
              (SELECT array_agg(1000 + k) FROM take_ids, unnest(ks) k)) r
     EXCEPT ALL
     SELECT s::text FROM take_ids, unnest(ks) k JOIN heap_k USING (k))
    UNION ALL
    (SELECT s::text FROM take_ids, unnest(ks) k JOIN heap_k USING (k)
     EXCEPT ALL
     SELECT r::text FROM vlake.segment_take(NULL::src, current_setting('test.root'), 1000,
              (SELECT count(*) FROM src), (SELECT f FROM files),
              (SELECT array_agg(1000 + k) FROM take_ids, unnest(ks) k)) r)) x $$;
SELECT vlake.page_cache_reset();
SELECT vlake.io_stats_reset();
SELECT pg_temp.take_all_diff() AS cold_diff;
CREATE TEMP TABLE io_cold AS SELECT * FROM io;
CREATE TEMP TABLE pc_cold AS SELECT * FROM vlake.page_cache_stats();
SELECT inserts > 0 AS kept, entries = inserts AS all_kept, evictions FROM pc_cold;
SELECT vlake.io_stats_reset();
SELECT pg_temp.take_all_diff() AS cached_diff;
-- what is still read: each take opens the files (footers, offset indexes)
SELECT w.heads, w.gets < c.gets AS fewer_gets, w.bytes < c.bytes / 2 AS under_half_the_bytes
FROM io w, io_cold c;
SELECT s.hits > c.hits AS hits_warm, s.misses = c.misses AS no_new_misses,
       s.inserts = c.inserts AS no_new_inserts
FROM vlake.page_cache_stats() s, pc_cold c;
SET vlake.page_cache_size = 0;
SELECT vlake.page_cache_reset();
SELECT vlake.io_stats_reset();
SELECT pg_temp.take_all_diff() AS uncached_diff;
SELECT heads, gets > 0 AS reads FROM io;
SELECT hits, inserts, entries FROM vlake.page_cache_stats();
-- a budget smaller than the take: what one take uses stays until it ends,
-- older entries go first, and the rows are still right
SET vlake.page_cache_size = 64;
SELECT pg_temp.take_all_diff() AS small_cache_diff;
SELECT pg_temp.take_all_diff() AS small_cache_diff_again;
SELECT evictions > 0 AS evicted FROM vlake.page_cache_stats();
RESET vlake.page_cache_size;
RESET vlake.cache_memory_size;
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_take(NULL::src, %L, 1000, 305, %L, ARRAY[999])$$,
                          current_setting('test.root'), (SELECT f FROM files)));
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_take(NULL::src, %L, 1000, 305, %L, ARRAY[1305])$$,
                          current_setting('test.root'), (SELECT f FROM files)));

-- ---------------------------------------- schema changes after the write
-- a column added later reads as NULL; a column dropped later is skipped
CREATE TABLE evolve (a integer, b text, c vector(2));
INSERT INTO evolve SELECT i, 'b' || i, ARRAY[i, i]::vector(2) FROM generate_series(1, 5) i;
CREATE TEMP TABLE ew AS SELECT * FROM vlake.segment_write('evolve', current_setting('test.root'), 'seg_evolve', 0);
ALTER TABLE evolve DROP COLUMN b;
ALTER TABLE evolve ADD COLUMN b text DEFAULT 'new';
ALTER TABLE evolve RENAME COLUMN a TO a_renamed;
SELECT * FROM vlake.segment_read(NULL::evolve, current_setting('test.root'), 0, 5,
                                  (SELECT jsonb_agg(to_jsonb(ew)) FROM ew));
-- a table without rows makes files without rows
CREATE TABLE empty_t (a integer, v vector(4));
SELECT group_no, kind, path, row_count FROM vlake.segment_write('empty_t', current_setting('test.root'), 'seg_empty', 7);

-- ------------------------------------------------------------ bad input
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_write('src', %L, 'seg1', 0)$$, current_setting('test.root')));
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_write('src', %L, 'x', 0)$$, rtrim(current_setting('test.root'), '/')));
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_write('src', %L, '/x/', 0)$$, current_setting('test.root')));
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_write('src', %L, 'x', -1)$$, current_setting('test.root')));
SELECT pg_temp.try($$SELECT * FROM vlake.segment_write('src', 'file:///etc/', 'x', 0)$$);
-- a value Parquet cannot hold: the error names the column, nothing is left behind
CREATE TABLE too_late (ts timestamp);
INSERT INTO too_late VALUES ('294276-12-31 23:59:59');
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_write('too_late', %L, 'seg_bad', 0)$$, current_setting('test.root')));
SELECT count(*) AS left_behind FROM vlake.lake_list(current_setting('test.root') || 'seg_bad/');
-- wrong row count, missing file, corrupt file list
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_read(NULL::src, %L, 1000, 304, %L)$$,
                          current_setting('test.root'), (SELECT f FROM files)));
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_read(NULL::src, %L, 1000, 305, %L)$$,
                          current_setting('test.root'),
                          (SELECT jsonb_set(f, '{0,path}', '"seg1/nope.parquet"') FROM files)));
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_read(NULL::src, %L, 1000, 305, %L)$$,
                          current_setting('test.root'),
                          (SELECT jsonb_set(f, '{1,path}', to_jsonb((f->0->>'path'))) FROM files)));
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_read(NULL::src, %L, 0, 305, %L)$$,
                          current_setting('test.root'), (SELECT f FROM files)));
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_read(NULL::src, %L, 1000, 305, '{}')$$,
                          current_setting('test.root')));
SELECT pg_temp.try(format($$SELECT * FROM vlake.segment_read(NULL::src, %L, 1000, 305, %L, ARRAY['nope'])$$,
                          current_setting('test.root'), (SELECT f FROM files)));
-- superuser only
SELECT has_function_privilege('public', 'vlake.segment_write(regclass, text, text, bigint)', 'EXECUTE') AS public_write,
       has_function_privilege('public', 'vlake.segment_read(anyelement, text, bigint, bigint, jsonb, text[])', 'EXECUTE') AS public_read;
