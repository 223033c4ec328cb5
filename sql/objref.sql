-- References to raw objects (docs/objref.md): the objref type, its text form
-- and validation, the verifying constructor, reading through the object
-- store (size and SHA-256 checked), file:// confinement, and objref columns
-- of vlake tables.  Oracles: sha256() of the bytes the test wrote, and a heap
-- twin given the same statements.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
SELECT set_config('test.lake', :'lake', false) IS NOT NULL AS lake_set;
\set dir :lake '/objref'
\set a 'file://' :dir '/src/a.txt'
\set b 'file://' :dir '/src/b.bin'
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- the program reads its input, so the pipe is never closed early
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'cat > /dev/null; ' || cmd);
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
SELECT pg_temp.sh(format('rm -rf %1$s/objref && mkdir -p %1$s/objref/src && printf "hello world" > %1$s/objref/src/a.txt && head -c 300000 /dev/zero | tr "\0" "x" > %1$s/objref/src/b.bin',
                         current_setting('test.lake')));
-- the oracle of each file's bytes: pg_read_binary_file (superuser)
CREATE TEMP TABLE truth AS
  SELECT n, pg_read_binary_file(:'dir' || '/src/' || n) AS bytes FROM (VALUES ('a.txt'), ('b.bin')) v(n);

-- ---- the text form: canonical output, tolerant input, validation ----
SELECT '{"uri":"s3://bkt/k.mp4","size":123,"sha256":"B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9","mime":"video/mp4"}'::objref;
SELECT ' { "mime" : null, "sha256":"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
   "size": 0, "uri":"file:///x/y\u00e9" } '::objref;
SELECT r::text::objref = r AS round_trip
  FROM (SELECT '{"uri":"s3://bkt/a\"b","size":9007199254740991,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","mime":"application/pdf; q=1"}'::objref r) s;
SELECT pg_temp.try(format('SELECT %L::objref', v)) AS input, v
  FROM unnest(ARRAY[
    '',
    '[]',
    '"s3://bkt/k"',
    '{"uri":"s3://bkt/k","size":1}',
    '{"uri":"s3://bkt/k","size":1,"sha256":"abc"}',
    '{"uri":"s3://bkt/k","size":1,"sha256":"g000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":"s3://bkt/k","size":-1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":"s3://bkt/k","size":1.5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":"s3://bkt/k","size":9007199254740992,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":"s3://bkt/k","size":"1","sha256":"0000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":"http://h/k","size":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":"s3://bkt/","size":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":"file:///a/../etc/passwd","size":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":"s3://bkt/k","size":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","mime":"video"}',
    '{"uri":"s3://bkt/k","size":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","mime":1}',
    '{"uri":"s3://bkt/k","size":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","etag":"x"}',
    '{"uri":"s3://bkt/k","uri":"s3://bkt/j","size":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":{"a":1},"size":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}',
    '{"uri":"s3://bkt/k","size":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"'
  ]) v;
SELECT pg_temp.try(format('SELECT %L::objref', '{"uri":"s3://bkt/' || repeat('k', 1100) || '","size":1,"sha256":"' || repeat('0', 64) || '"}')) AS long_uri;
SELECT pg_temp.try(format('SELECT vlake.objref(%L, 1, %L, %L)', 's3://bkt/k', repeat('0', 64), 'a/' || repeat('b', 300))) AS long_mime;

-- ---- the verifying constructor: size and SHA-256 of the bytes (oracle: sha256()) ----
SELECT vlake.objref_size(r) = length(t.bytes) AS size_ok,
       vlake.objref_sha256(r) = encode(sha256(t.bytes), 'hex') AS sha_ok,
       vlake.objref_mime(r) AS mime, vlake.objref_uri(r) = :'a' AS uri_ok
  FROM vlake.objref(:'a', 'text/plain') r, truth t WHERE t.n = 'a.txt';
SELECT vlake.objref_size(r) = length(t.bytes) AS size_ok,
       vlake.objref_sha256(r) = encode(sha256(t.bytes), 'hex') AS sha_ok,
       vlake.objref_mime(r) IS NULL AS no_mime
  FROM vlake.objref(:'b') r, truth t WHERE t.n = 'b.bin';
-- given parts: no I/O (the object need not exist)
SELECT vlake.objref('s3://bkt/none.mp4', 7, repeat('AB', 32), 'video/mp4');
SELECT pg_temp.try('SELECT vlake.objref(''s3://bkt/none.mp4'', verify => false)') AS verify_false_needs_parts;
SELECT pg_temp.try(format('SELECT vlake.objref(%L)', 'file://' || current_setting('test.lake') || '/objref/src/missing')) AS missing;

-- ---- confinement: file:// outside vlake.allowed_file_roots ----
SELECT pg_temp.try('SELECT vlake.objref(''file:///etc/hostname'')') AS outside_roots;
SELECT pg_temp.try(format('SELECT vlake.objref_read(vlake.objref(%L, 1, %L))', 'file:///etc/hostname', repeat('0', 64))) AS read_outside_roots;

-- ---- reading: whole (checksum) and ranges, against the bytes ----
SELECT vlake.objref_read(vlake.objref(:'a')) = t.bytes AS whole_ok FROM truth t WHERE t.n = 'a.txt';
SELECT convert_from(vlake.objref_read(vlake.objref(:'a'), 6), 'UTF8') AS tail,
       convert_from(vlake.objref_read(vlake.objref(:'a'), 2, 3), 'UTF8') AS mid,
       length(vlake.objref_read(vlake.objref(:'a'), 11)) AS at_end,
       convert_from(vlake.objref_read(vlake.objref(:'a'), 8, 100), 'UTF8') AS clipped;
SELECT vlake.objref_read(vlake.objref(:'b')) = t.bytes AS whole_b_ok,
       vlake.objref_read(vlake.objref(:'b'), 123456, 1000) = substring(t.bytes from 123457 for 1000) AS range_b_ok
  FROM truth t WHERE t.n = 'b.bin';
SELECT pg_temp.try(format('SELECT vlake.objref_read(vlake.objref(%L), 12)', :'a')) AS past_end,
       pg_temp.try(format('SELECT vlake.objref_read(vlake.objref(%L), -1)', :'a')) AS negative;
SET vlake.objref_read_max_bytes = 100000;
SELECT pg_temp.try(format('SELECT vlake.objref_read(vlake.objref(%L))', :'b')) AS over_limit;
SELECT length(vlake.objref_read(vlake.objref(:'b'), 200000, 100000)) AS a_range_under_limit;
RESET vlake.objref_read_max_bytes;

-- ---- a changed object: every whole-object read and verify refuses it ----
CREATE TEMP TABLE refs AS SELECT vlake.objref(:'a', 'text/plain') AS r;
SELECT vlake.objref_verify(r) FROM refs;
-- same size, other bytes
SELECT pg_temp.sh(format('printf "HELLO WORLD" > %s/objref/src/a.txt', current_setting('test.lake')));
SELECT pg_temp.try('SELECT vlake.objref_read(r) FROM refs') AS read_changed;
SELECT pg_temp.try('SELECT vlake.objref_verify(r) FROM refs') AS verify_changed;
-- a range read checks the size only
SELECT convert_from(vlake.objref_read(r, 0, 5), 'UTF8') AS range_of_changed FROM refs;
-- other size
SELECT pg_temp.sh(format('printf "hello" > %s/objref/src/a.txt', current_setting('test.lake')));
SELECT pg_temp.try('SELECT vlake.objref_read(r, 0, 1) FROM refs') AS read_resized;
DO $$
BEGIN
  PERFORM vlake.objref_verify(r) FROM refs;
EXCEPTION WHEN data_corrupted THEN
  RAISE NOTICE 'SQLSTATE %', SQLSTATE;
END $$;
SELECT pg_temp.sh(format('printf "hello world" > %s/objref/src/a.txt', current_setting('test.lake')));
SELECT vlake.objref_verify(r) AS restored FROM refs;

-- ---- verify on INSERT: a CHECK constraint ----
CREATE TEMP TABLE checked (id int, r objref CHECK (vlake.objref_verify(r)));
INSERT INTO checked VALUES (1, vlake.objref(:'a'));
SELECT pg_temp.try(format('INSERT INTO checked VALUES (2, vlake.objref(%L, 11, %L))', :'a', repeat('0', 64))) AS bad_insert;
SELECT count(*) FROM checked;

-- ---- equality, order, btree and hash: grouping, DISTINCT, an index ----
CREATE TEMP TABLE many AS
  SELECT i, vlake.objref('s3://bkt/o' || (i % 7), i % 7, repeat(to_hex(i % 7), 64), CASE WHEN i % 2 = 0 THEN 'image/png' END) AS r
  FROM generate_series(1, 200) i;
SELECT count(DISTINCT r) AS distinct_refs, count(DISTINCT vlake.objref_uri(r)) AS distinct_uris FROM many;
SET enable_hashagg = off;
SELECT vlake.objref_uri(r) AS uri, vlake.objref_mime(r) AS mime, count(*) FROM many GROUP BY r ORDER BY r LIMIT 4;
RESET enable_hashagg;
SET enable_sort = off;
SELECT count(*) AS groups FROM (SELECT r FROM many GROUP BY r) g;
RESET enable_sort;
-- binary I/O: a binary COPY round trip
\set binfile :dir '/many.bin'
COPY many TO :'binfile' (FORMAT binary);
CREATE TEMP TABLE many2 (LIKE many);
COPY many2 FROM :'binfile' (FORMAT binary);
SELECT (SELECT count(*) FROM many2) AS copied,
       (SELECT count(*) FROM (SELECT * FROM many EXCEPT ALL SELECT * FROM many2) d) AS differ;
CREATE INDEX ON many (r);
SET enable_seqscan = off;
SELECT count(*) FROM many WHERE r = vlake.objref('s3://bkt/o3', 3, repeat('3', 64), 'image/png');
RESET enable_seqscan;
SELECT vlake.objref('s3://bkt/a', 1, repeat('0', 64)) < vlake.objref('s3://bkt/b', 0, repeat('0', 64)) AS by_uri,
       vlake.objref('s3://bkt/a', 1, repeat('0', 64)) < vlake.objref('s3://bkt/a', 1, repeat('0', 64), 'x/y') AS no_mime_first,
       vlake.objref('s3://bkt/a', 1, repeat('0', 64)) <> vlake.objref('s3://bkt/a', 1, repeat('1', 64)) AS sha_counts;

-- ---- objref columns of vlake tables (heap twin h as the oracle) ----
SET vlake.copy_lake_threshold = 0;
\set root 'file://' :dir '/t'
\set root2 'file://' :dir '/plain'
CREATE TABLE t (id int, r objref, note text) USING vlake WITH (location = :'root');
CREATE TABLE h (id int, r objref, note text);
INSERT INTO t SELECT i, r, 'n' || i FROM many;
INSERT INTO t VALUES (1000, NULL, 'null ref'), (1001, vlake.objref(:'a', 'text/plain'), 'a'),
  (1002, '{"uri":"s3://bkt/\u00e9\"q","size":0,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}', 'escapes');
INSERT INTO h SELECT * FROM t;
SELECT vlake.flush('t') > 0 AS flushed;
-- the heap twin as of this version (time travel below)
SELECT version AS v1 FROM vlake.datasets WHERE relid = 't'::regclass \gset
CREATE TEMP TABLE h1 AS SELECT * FROM h;
SELECT count(*) AS lake_files FROM vlake.files WHERE relid = 't'::regclass;
-- every row and value alike, read from the lake segment
SELECT (SELECT count(*) FROM t) AS n,
       (SELECT count(*) FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM h) d) AS t_only,
       (SELECT count(*) FROM (SELECT * FROM h EXCEPT ALL SELECT * FROM t) d) AS h_only;
SELECT id, vlake.objref_uri(r) AS uri FROM t WHERE r = vlake.objref('s3://bkt/o3', 3, repeat('3', 64), 'image/png') ORDER BY id LIMIT 3;
SELECT vlake.objref_read(r) = (SELECT bytes FROM truth WHERE n = 'a.txt') AS read_from_lake_row FROM t WHERE id = 1001;
DELETE FROM t WHERE id % 3 = 0;
DELETE FROM h WHERE id % 3 = 0;
UPDATE t SET r = vlake.objref('s3://bkt/updated', 1, repeat('f', 64)) WHERE id % 5 = 0;
UPDATE h SET r = vlake.objref('s3://bkt/updated', 1, repeat('f', 64)) WHERE id % 5 = 0;
SELECT vlake.flush('t') >= 0 AS flushed_again;
SELECT (SELECT count(*) FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM h) d) AS t_only,
       (SELECT count(*) FROM (SELECT * FROM h EXCEPT ALL SELECT * FROM t) d) AS h_only;
-- time travel: version v1 still holds the references it had (row -> source object)
SET vlake.as_of_version = :v1;
SELECT (SELECT count(*) FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM h1) d) AS t_v1_only,
       (SELECT count(*) FROM (SELECT * FROM h1 EXCEPT ALL SELECT * FROM t) d) AS h1_only,
       (SELECT count(DISTINCT r) FROM t) AS v1_objects;
RESET vlake.as_of_version;
SELECT count(DISTINCT r) AS latest_objects FROM t;
-- the manifest: an object_ref field held by a long_text group, with its object list (format 3)
SELECT m->'format_version' AS format_version, f->>'type' AS type, f->>'pg_type' AS pg_type
  FROM vlake.table_manifest('t') m, jsonb_array_elements(m->'schema'->'fields') f WHERE f->>'name' = 'r';
SELECT DISTINCT g->>'layout' AS layout
  FROM vlake.table_manifest('t') m, jsonb_array_elements(m->'segments') s, jsonb_array_elements(s->'groups') g
  WHERE g->'field_ids' @> '[2]';
-- a table without objref columns keeps format 1
CREATE TABLE plain (id int) USING vlake WITH (location = :'root2');
INSERT INTO plain VALUES (1);
SELECT vlake.flush('plain') > 0 AS flushed;
SELECT vlake.table_manifest('plain')->'format_version' AS plain_format_version;
DROP TABLE t, h, plain;
SELECT pg_temp.sh(format('rm -rf %s/objref', current_setting('test.lake')));
