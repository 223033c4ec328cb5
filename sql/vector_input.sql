-- Bad input for vector and halfvec: every case is a clear ERROR with the
-- SQLSTATE a client can act on.  try() runs a statement and reports
-- "SQLSTATE: message (detail)" so the codes are part of the expected output.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;

CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(d, '') || ')', '');
END $$;

-- text literals, vector (left) and halfvec (right)
SELECT lit, try(format('SELECT %L::vector', lit)) AS vector,
            try(format('SELECT %L::halfvec', lit)) AS halfvec
FROM (VALUES ('[1,2,3]'), (''), ('   '), ('1,2,3'), ('[1,2,3'), ('[1,2,3]x'), ('[1,2,3] ]'),
             ('[1,,2]'), ('[,1]'), ('[1,]'), ('[1 2]'), ('[a]'), ('[1e]'), ('[0x]'), ('[--1]'),
             ('[]'), ('[ ]'), ('[NaN]'), ('[nan,1]'), ('[Infinity]'), ('[-inf]'),
             ('[1e39]'), ('[-1e39]'), ('[1e-50]'), ('[70000]'), ('[65520]'), ('[65519]'),
             ('{1,2}'), ('[[1,2]]')) t(lit);

-- the error as a user sees it (message, detail, hint)
SELECT '[1,2,oops]'::vector;
SELECT '[1,2,3] trailing'::vector;
SELECT '[]'::vector;
SELECT '[1e39]'::vector;
SELECT '[NaN]'::vector;
SELECT '[70000]'::halfvec;
-- long literals are cut in the message
SELECT ('[' || repeat('1,', 100) || 'x]')::vector;

-- too many dimensions (text, concatenation, typmod)
SELECT try(format('SELECT %L::vector', '[' || repeat('1,', 16000) || '1]'));
SELECT vector_dims(('[' || repeat('1,', 15999) || '1]')::vector) AS max_dims_ok;
SELECT try(format('SELECT %L::vector || %L::vector', '[' || repeat('1,', 9999) || '1]', '[' || repeat('1,', 9999) || '1]'));
SELECT t, try(format('SELECT NULL::%s', t)) FROM (VALUES ('vector(0)'), ('vector(-1)'), ('vector(16001)'), ('vector(16000)'),
    ('vector(3,4)'), ('halfvec(0)'), ('halfvec(16001)'), ('vector(''a'')')) v(t);
CREATE TABLE vt (v vector(3), h halfvec(2));
SELECT try($$INSERT INTO vt (v) VALUES ('[1,2]')$$), try($$INSERT INTO vt (h) VALUES ('[1,2,3]')$$),
       try($$INSERT INTO vt (v) VALUES ('[1,2,3,4]'::vector)$$), try($$INSERT INTO vt (h) VALUES ('[1,2,3]'::vector)$$);
INSERT INTO vt (v) VALUES ('[1,2]');

-- mismatched dimensions in operators and functions
SELECT op, try(format('SELECT %L::vector %s %L::vector', '[1,2]', op, '[1,2,3]')) AS vector,
           try(format('SELECT %L::halfvec %s %L::halfvec', '[1,2]', op, '[1,2,3]')) AS halfvec
FROM (VALUES ('<->'), ('<=>'), ('<#>'), ('<+>'), ('+'), ('-'), ('*')) t(op);
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT try($$SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v)$$) AS avg_mixed_dims;
SELECT try($$SELECT sum(h) FROM (VALUES ('[1,2]'::halfvec), ('[1]')) t(h)$$) AS sum_mixed_dims;

-- overflow in arithmetic
SELECT try($$SELECT '[3e38]'::vector + '[3e38]'$$), try($$SELECT '[-3e38]'::vector - '[3e38]'$$),
       try($$SELECT '[1e30]'::vector * '[1e30]'$$), try($$SELECT '[1e-30]'::vector * '[1e-30]'$$),
       try($$SELECT '[60000]'::halfvec * '[2]'$$), try($$SELECT '[1e30]'::vector::halfvec$$);

-- arrays
SELECT a, try(format('SELECT %s::vector', a)) AS vector, try(format('SELECT %s::halfvec', a)) AS halfvec
FROM (VALUES ('ARRAY[1,NULL,3]'), ('ARRAY[[1,2],[3,4]]'), ($$'{}'::int[]$$), ($$ARRAY['NaN']::float8[]$$),
             ($$ARRAY['-Infinity']::real[]$$), ($$ARRAY['NaN']::numeric[]$$), ($$ARRAY['Infinity']::numeric[]$$),
             ('ARRAY[1e39]::float8[]'), ('ARRAY[1e39]::numeric[]'), ('ARRAY[1e400]::numeric[]'),
             ('ARRAY[70000]'), ('ARRAY[1,2]::vector(3)'), ('array_fill(1, ARRAY[16001])')) t(a);

-- binary input (recv) through COPY FORMAT binary with hand-made files:
-- 11-byte signature, flags, header extension, one tuple of one field, trailer
\getenv lake VLAKE_TEST_LAKE
\set f :lake '/vector_input_bad.copy'
CREATE FUNCTION write_file(path text, content bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE o oid;
BEGIN
  o := lo_from_bytea(0, content);
  PERFORM lo_export(o, path);
  PERFORM lo_unlink(o);
END $$;
CREATE FUNCTION copy_field(path text, field bytea) RETURNS void LANGUAGE sql AS $$
  SELECT write_file(path, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                          || '\x0001'::bytea || int4send(length(field)) || field || '\xffff'::bytea)
$$;
CREATE TABLE vb (v vector);
CREATE TABLE hb (h halfvec);
CREATE TABLE vb3 (v vector(3));
CREATE FUNCTION try_copy(tbl text, field bytea, path text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM copy_field(path, field);
  RETURN try(format('COPY %I FROM %L (FORMAT binary)', tbl, path));
END $$;
SELECT what, try_copy(tbl, field, :'f') FROM (VALUES
  ('vector ok',             'vb',  '\x000200003f80000040000000'::bytea),
  ('vector short header',   'vb',  '\x0002'),
  ('vector too short',      'vb',  '\x000300003f80000040000000'),
  ('vector too long',       'vb',  '\x000100003f80000040000000'),
  ('vector reserved set',   'vb',  '\x000100013f800000'),
  ('vector zero dims',      'vb',  '\x00000000'),
  ('vector negative dims',  'vb',  '\xffff0000'),
  ('vector too many dims',  'vb',  '\x3e810000'),
  ('vector NaN',            'vb',  '\x000100007fc00000'),
  ('vector Infinity',       'vb',  '\x000100007f800000'),
  ('vector wrong typmod',   'vb3', '\x000200003f80000040000000'),
  ('halfvec ok',            'hb',  '\x000200003c004000'),
  ('halfvec too short',     'hb',  '\x000200003c00'),
  ('halfvec too long',      'hb',  '\x000100003c004000'),
  ('halfvec Infinity',      'hb',  '\x000100007c00'),
  ('halfvec NaN',           'hb',  '\x000100007e00')) t(what, tbl, field);
SELECT v FROM vb;
SELECT h FROM hb;
-- one error as the user sees it
SELECT copy_field(:'f', '\x000300003f80000040000000');
COPY vb FROM :'f' (FORMAT binary);

-- fuzz: random strings over the literal alphabet and random binary fields.
-- Each must parse or fail with one of the documented SQLSTATEs (never
-- crash, never another error); what parses must print and re-read equal.
SELECT setseed(0.42);
CREATE TABLE fuzz_text AS
SELECT i, string_agg(substr('[[]],,,.-+eE0123456789   naifxX', 1 + (random() * 30)::int, 1), '') AS lit
FROM generate_series(1, 3000) i, generate_series(1, 1 + (i % 24)) j GROUP BY i;
INSERT INTO fuzz_text SELECT 3000 + i, '[' || lit || ']' FROM fuzz_text WHERE i <= 3000;
SELECT split_part(try(format('SELECT %L::vector', lit)), ':', 1) AS vector_result,
       split_part(try(format('SELECT %L::halfvec', lit)), ':', 1) AS halfvec_result, count(*) > 0 AS seen
FROM fuzz_text GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS accepted, count(*) FILTER (WHERE lit::vector::text::vector = lit::vector) AS round_trip
FROM fuzz_text WHERE try(format('SELECT %L::vector', lit)) = 'ok';
CREATE TABLE fuzz_bin AS
SELECT i, (SELECT string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), '')
           FROM generate_series(1, 1 + (i % 13)) WHERE i > 0) AS hex
FROM generate_series(1, 300) i;
-- half of them get a plausible header (dim 1..3, reserved 0) in front
UPDATE fuzz_bin SET hex = '000' || (1 + i % 3) || '0000' || hex WHERE i % 2 = 0;
SELECT split_part(try_copy('vb', decode(hex, 'hex'), :'f'), ':', 1) AS vector_recv,
       split_part(try_copy('hb', decode(hex, 'hex'), :'f'), ':', 1) AS halfvec_recv, count(*) > 0 AS seen
FROM fuzz_bin GROUP BY 1, 2 ORDER BY 1, 2;

DROP TABLE vt, vb, hb, vb3, fuzz_text, fuzz_bin;
DROP FUNCTION try_copy, copy_field, write_file, try;
