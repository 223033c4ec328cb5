-- sparsevec: text and binary I/O, typmod, input errors, distances, casts,
-- ordering.  Oracles: the (index, value) rows the vectors are built from,
-- with distances computed by PostgreSQL in double precision over them, the
-- same values as dense vectors with the dense operators, and hand-computed
-- bytes of the binary format.
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

-- text I/O: pairs sorted, zeros dropped, whitespace tolerated,
-- shortest round-trip floats
SELECT '{1:1.5,3:3.5}/5'::sparsevec;
SELECT ' { 3 : -2 , 1:0.1 ,2:0 } / 5 '::sparsevec;
SELECT '{}/1'::sparsevec, '{ }/3'::sparsevec, '{1:0}/2'::sparsevec;
SELECT '{1:1.5e38,2:-1.4e-45,3:0.30000001}/3'::sparsevec;
SELECT '{1000000000:1}/1000000000'::sparsevec;
SELECT v::text::sparsevec = v AS round_trips
FROM (SELECT '{1:0.1,5:0.2,9:0.30000001,10:1.1754944e-38,12:123456.79,20:7e-45}/20'::sparsevec AS v) s;

-- typmod
CREATE TABLE st (id int, v sparsevec(5));
INSERT INTO st VALUES (1, '{1:1,5:2}/5'), (2, '{}/5'), (3, NULL);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'st'::regclass AND attname = 'v';
SELECT try($$INSERT INTO st VALUES (4, '{1:1}/4')$$);
SELECT try($$SELECT '{}/3'::sparsevec(2)$$);
SELECT try($$SELECT '{}/3'::sparsevec(0)$$), try($$SELECT '{}/3'::sparsevec(1000000001)$$),
       try($$SELECT '{}/3'::sparsevec(3, 4)$$);
SELECT '{}/1000000000'::sparsevec(1000000000);
SELECT vector_dims(v) FROM st WHERE id = 1;

-- input errors: every one an ERROR with its SQLSTATE
SELECT lit, try(format('SELECT %L::sparsevec', lit)) AS result
FROM (VALUES (''), ('{'), ('{}'), ('{}/'), ('{}/1a'), ('[1,2]'), ('{:}/1'), ('{,}/1'), ('{1,}/1'),
             ('{:1}/1'), ('{1:}/1'), ('{1a:1}/1'), ('{1:1a}/1'), ('{1:1,}/1'), ('{1:1 2:1}/2'),
             ('{1:1}'), ('{1:1}/2/3'), ('{1.5:1}/2'), ('{ 1 : 1 / 2'),
             ('{1:hello}/2'), ('{1:NaN}/2'), ('{1:Infinity}/2'), ('{1:-inf}/2'),
             ('{1:4e38}/2'), ('{1:-1e-46}/2'),
             ('{}/0'), ('{}/-1'), ('{}/1000000001'), ('{}/99999999999999999999'), ('{}/-99999999999999999999'),
             ('{0:1}/1'), ('{2:1}/1'), ('{-1:1}/3'), ('{2147483648:1}/3'), ('{99999999999999999999:1}/3'),
             ('{2:0}/1'), -- zero pairs are dropped unchecked, as pgvector does
             ('{1:1,1:2}/2'), ('{2:1,1:1,2:3}/3'), ('{1:0,1:1}/2')) t(lit);
-- 16,000 non-zero elements are fine, 16,001 are not (zeros do not count)
SELECT vector_dims(('{' || string_agg(i || ':1', ',') || '}/100000')::sparsevec)
FROM generate_series(1, 16000) i;
SELECT try(format('SELECT %L::sparsevec', '{' || string_agg(i || ':1', ',') || '}/100000'))
FROM generate_series(1, 16001) i;
SELECT vector_dims(('{' || string_agg(i || ':' || (i % 2), ',') || '}/100000')::sparsevec)
FROM generate_series(1, 32000) i;
-- a long bad literal is cut in the message
SELECT try(format('SELECT %L::sparsevec', '{' || string_agg(i || ':1', ',') || ',x}/100'))
FROM generate_series(1, 40) i;

-- binary format, by hand: int32 dim, nnz, reserved, 0-based indices, float4 values
SELECT sparsevec_send('{2:1.5,5:-2}/6') = '\x00000006000000020000000000000001000000043fc00000c0000000'::bytea AS send_bytes;
SELECT sparsevec_send('{}/3') = '\x000000030000000000000000'::bytea AS send_empty;

-- binary input (recv) through COPY FORMAT binary with hand-made files
\getenv lake VLAKE_TEST_LAKE
\set f :lake '/vector_sparse_bad.copy'
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
CREATE FUNCTION try_copy(tbl text, field bytea, path text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM copy_field(path, field);
  RETURN try(format('COPY %I FROM %L (FORMAT binary)', tbl, path));
END $$;
CREATE TABLE sb (v sparsevec);
CREATE TABLE sb3 (v sparsevec(3));
SELECT what, try_copy(tbl, field, :'f') FROM (VALUES
  ('ok',                  'sb',  '\x00000006000000020000000000000001000000043fc00000c0000000'::bytea),
  ('ok, empty',           'sb',  '\x000000030000000000000000'),
  ('short header',        'sb',  '\x0000000600000002'),
  ('too short',           'sb',  '\x00000006000000020000000000000001000000043fc00000'),
  ('too long',            'sb',  '\x00000006000000010000000000000001000000043fc00000'),
  ('reserved set',        'sb',  '\x00000006000000010000000100000001bf800000'),
  ('zero dims',           'sb',  '\x000000000000000000000000'),
  ('negative dims',       'sb',  '\xffffffff0000000000000000'),
  ('too many dims',       'sb',  '\x3b9aca010000000000000000'),
  ('negative nnz',        'sb',  '\x00000006ffffffff00000000'),
  ('nnz above dims',      'sb',  '\x00000001000000020000000000000000000000013f8000003f800000'),
  ('nnz above 16000',     'sb',  '\x3b9aca0000003e8100000000'),
  ('index negative',      'sb',  '\x000000060000000100000000ffffffff3f800000'),
  ('index = dims',        'sb',  '\x0000000600000001000000000000000640000000'),
  ('indices unsorted',    'sb',  '\x000000060000000200000000000000040000000140000000c0000000'),
  ('indices repeated',    'sb',  '\x000000060000000200000000000000040000000440000000c0000000'),
  ('zero value',          'sb',  '\x0000000600000001000000000000000100000000'),
  ('negative zero value', 'sb',  '\x0000000600000001000000000000000180000000'),
  ('NaN value',           'sb',  '\x00000006000000010000000000000001ffc00000'),
  ('Infinity value',      'sb',  '\x00000006000000010000000000000001ff800000'),
  ('wrong typmod',        'sb3', '\x000000060000000000000000')) t(what, tbl, field);
SELECT v FROM sb;
-- one error as the user sees it
SELECT copy_field(:'f', '\x000000060000000200000000000000040000000140000000c0000000');
COPY sb FROM :'f' (FORMAT binary);

-- the data: 60 vectors of 50 dimensions from (id, idx, val) rows, written
-- in random order, some values zero; ids 1-30 small integers (every sum
-- exact: distances must be equal), 31-60 random reals
SELECT setseed(0.17);
CREATE TABLE pairs AS
SELECT id, idx, CASE WHEN id <= 30 THEN floor(random() * 17 - 8)
                     ELSE (random() * 2 - 1)::real::float8 END AS val
FROM generate_series(1, 60) id, generate_series(1, 50) idx
WHERE random() < 0.25 OR (id = 7 AND idx = 50) OR (id = 8 AND idx = 1);
DELETE FROM pairs WHERE id IN (5, 35);				-- two zero vectors
CREATE TABLE sp AS
SELECT id, ('{' || coalesce(string_agg(idx || ':' || val, ',' ORDER BY random()), '') || '}/50')::sparsevec AS v
FROM generate_series(1, 60) id LEFT JOIN pairs USING (id) GROUP BY id;
CREATE TABLE dense AS
SELECT id, array_agg(coalesce(val, 0)::real ORDER BY idx) AS a
FROM generate_series(1, 60) id CROSS JOIN generate_series(1, 50) idx LEFT JOIN pairs USING (id, idx)
GROUP BY id;

-- text output: the pairs with non-zero values, by index
SELECT count(*) AS vectors,
       count(*) FILTER (WHERE v::text = '{' || coalesce((SELECT string_agg(idx || ':' || val::real, ',' ORDER BY idx)
                                                         FROM pairs p WHERE p.id = sp.id AND p.val <> 0), '') || '}/50') AS text_ok
FROM sp;
-- casts: sparsevec -> vector equals the dense array; vector -> sparsevec back
SELECT count(*) FILTER (WHERE s.v::vector = d.a::vector) AS to_vector_ok,
       count(*) FILTER (WHERE d.a::vector::sparsevec = s.v) AS from_vector_ok,
       count(*) FILTER (WHERE s.v::halfvec::real[] = d.a::halfvec::real[]) AS to_halfvec_ok,
       count(*) FILTER (WHERE d.a::halfvec::sparsevec::vector = d.a::halfvec::vector) AS from_halfvec_ok
FROM sp s JOIN dense d USING (id);

-- distances over all pairs of vectors against the oracle over the rows
CREATE TABLE oracle AS
SELECT a.id AS ida, b.id AS idb,
       sum((coalesce(pa.val, 0) - coalesce(pb.val, 0)) ^ 2) AS l2sq,
       sum(coalesce(pa.val, 0) * coalesce(pb.val, 0)) AS ip,
       sum(abs(coalesce(pa.val, 0) - coalesce(pb.val, 0))) AS l1,
       sum(coalesce(pa.val, 0) ^ 2) AS na, sum(coalesce(pb.val, 0) ^ 2) AS nb
FROM generate_series(1, 60) a(id) CROSS JOIN generate_series(1, 60) b(id) CROSS JOIN generate_series(1, 50) i(idx)
LEFT JOIN pairs pa ON pa.id = a.id AND pa.idx = i.idx
LEFT JOIN pairs pb ON pb.id = b.id AND pb.idx = i.idx
GROUP BY 1, 2;
ALTER TABLE oracle ADD COLUMN l2 float8;
UPDATE oracle SET l2 = sqrt(l2sq);
CREATE TABLE got AS
SELECT a.id AS ida, b.id AS idb, a.v <-> b.v AS l2, a.v <#> b.v AS nip, inner_product(a.v, b.v) AS ip,
       a.v <+> b.v AS l1, a.v <=> b.v AS cos, l2_distance(a.v, b.v) AS l2f, l1_distance(a.v, b.v) AS l1f,
       cosine_distance(a.v, b.v) AS cosf, sparsevec_l2_squared_distance(a.v, b.v) AS l2sq,
       a.v::vector <-> b.v::vector AS dl2, a.v::vector <#> b.v::vector AS dnip,
       a.v::vector <+> b.v::vector AS dl1, a.v::vector <=> b.v::vector AS dcos
FROM sp a CROSS JOIN sp b;
-- integers: exact, against both oracles
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE g.l2 = o.l2 AND g.l2f = o.l2 AND g.l2sq = o.l2sq AND g.dl2 = g.l2) AS l2_exact,
       count(*) FILTER (WHERE g.ip = o.ip AND g.nip = -o.ip AND g.dnip = g.nip) AS ip_exact,
       count(*) FILTER (WHERE g.l1 = o.l1 AND g.l1f = o.l1 AND g.dl1 = g.l1) AS l1_exact,
       count(*) FILTER (WHERE (o.na = 0 OR o.nb = 0) AND g.cos = 'NaN' AND g.dcos = 'NaN'
                         OR abs(g.cos - (1 - greatest(-1, least(1, o.ip / sqrt(o.na * o.nb))))) < 1e-12
                            AND g.cosf = g.cos AND abs(g.dcos - g.cos) < 1e-6) AS cos_ok
FROM got g JOIN oracle o USING (ida, idb) WHERE ida <= 30 AND idb <= 30;
-- reals: within float32 rounding of the double-precision oracle
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE abs(g.l2 - o.l2) <= 1e-5 * o.l2 AND abs(g.dl2 - g.l2) <= 1e-5 * o.l2) AS l2_ok,
       count(*) FILTER (WHERE abs(g.ip - o.ip) <= 1e-5 * sqrt(o.na * o.nb) AND abs(g.dnip - g.nip) <= 1e-5 * sqrt(o.na * o.nb)) AS ip_ok,
       count(*) FILTER (WHERE abs(g.l1 - o.l1) <= 1e-5 * o.l1 AND abs(g.dl1 - g.l1) <= 1e-5 * o.l1) AS l1_ok,
       count(*) FILTER (WHERE (o.na = 0 OR o.nb = 0) AND g.cos = 'NaN'
                         OR abs(g.cos - (1 - o.ip / sqrt(o.na * o.nb))) < 1e-5 AND g.cos BETWEEN 0 AND 2) AS cos_ok
FROM got g JOIN oracle o USING (ida, idb) WHERE ida > 30 OR idb > 30;
-- norms and normalisation: as the dense functions compute them
SELECT count(*) FILTER (WHERE l2_norm(s.v) = vector_norm(d.a::vector)
                          AND abs(l2_norm(s.v) - sqrt(o.na)) <= 1e-12 * sqrt(o.na)) AS norm_ok,
       count(*) FILTER (WHERE l2_normalize(s.v)::vector = l2_normalize(d.a::vector)) AS normalize_ok
FROM sp s JOIN dense d USING (id) JOIN oracle o ON o.ida = s.id AND o.idb = s.id;
SELECT l2_normalize('{}/3'::sparsevec), l2_normalize('{1:3,3:-4}/3'::sparsevec),
       l2_normalize('{1:1e-45,2:1e30}/2'::sparsevec);
SELECT try($$SELECT '{1:1}/2'::sparsevec <-> '{1:1}/3'$$), try($$SELECT inner_product('{}/2'::sparsevec, '{}/3')$$);
-- distances of vectors too long for the dense types (no overflow of the merge)
SELECT '{1:3,1000000000:1}/1000000000'::sparsevec <-> '{1:-1,999999999:2}/1000000000' AS l2,
       '{1:3,1000000000:1}/1000000000'::sparsevec <#> '{1:-1,1000000000:2}/1000000000' AS nip;

-- more casts: typmods, dimensions the dense types cannot hold, halfvec range
SELECT '[0,1.5,0,-2]'::vector::sparsevec, '[0,0]'::vector::sparsevec, '[0,0.5,-0]'::halfvec::sparsevec;
SELECT '{2:1.5,4:-2}/4'::sparsevec::vector, '{2:0.1}/3'::sparsevec::halfvec;
SELECT try($$SELECT '{1:1}/16001'::sparsevec::vector$$), try($$SELECT '{1:1e5}/2'::sparsevec::halfvec$$),
       try($$SELECT '[1,2]'::vector::sparsevec(3)$$), try($$SELECT '{1:1}/2'::sparsevec::vector(3)$$);
INSERT INTO st VALUES (5, '[0,0,7,0,0]'::vector);
CREATE TABLE vfroms (v vector);
INSERT INTO vfroms SELECT v FROM st WHERE id = 5;
SELECT * FROM vfroms;

-- ordering: for one dimension count, the order of the dense arrays
SELECT (SELECT array_agg(id ORDER BY v, id) FROM sp) = (SELECT array_agg(id ORDER BY a, id) FROM dense) AS order_ok;
-- across dimension counts: vector's order (elements over the dimensions both
-- have, a missing one counting as 0, then fewer dimensions first)
CREATE TABLE mixed AS SELECT v FROM (VALUES ('{}/3'::sparsevec), ('{1:1,2:2}/2'), ('{1:1,2:2,3:3}/3'), ('{3:-1}/3'),
    ('{}/2'), ('{2:1}/2'), ('{1:-1}/5'), ('{5:1}/5'), ('{1:1,2:2}/3'), ('{2:-1,3:1}/3'), ('{2:-1}/2')) t(v);
SELECT v FROM mixed ORDER BY v;
SELECT array_agg(v::text ORDER BY v) = array_agg(v::text ORDER BY v::vector) AS same_order_as_vector FROM mixed;
SELECT count(*) AS pairs, count(*) FILTER (WHERE sparsevec_cmp(a.v, b.v) = vector_cmp(a.v::vector, b.v::vector)) AS cmp_as_vector
FROM mixed a, mixed b;
SELECT sparsevec_cmp('{1:1,2:2}/2', '{1:1,2:2,3:3}/3'), sparsevec_cmp('{1:2,2:3}/2', '{1:1,2:2,3:3}/3'),
       '{1:1}/2'::sparsevec = '{1:1}/3', '{1:1}/2'::sparsevec = '{1:1,2:0}/2',
       '{1:1}/2'::sparsevec < '{1:1}/3', '{2:-1}/2'::sparsevec < '{}/2';
-- btree (unique) and hash (DISTINCT, GROUP BY) agree with equality
CREATE UNIQUE INDEX sp_v ON sp (v) WHERE id <> 35;	-- 5 and 35 are both zero vectors
SELECT try($$INSERT INTO sp SELECT 61, v FROM sp WHERE id = 1$$);
SET enable_seqscan = off;
SELECT id FROM sp WHERE v = (SELECT v FROM sp WHERE id = 12) AND id <> 35;
RESET enable_seqscan;
SET enable_sort = off;
SELECT count(DISTINCT v) AS distinct_v, (SELECT count(*) FROM (SELECT v FROM sp GROUP BY v) g) AS groups,
       (SELECT count(DISTINCT v::text) FROM sp) AS distinct_text FROM sp;
RESET enable_sort;

-- binary COPY round trip (send -> recv) keeps every value
\set binfile :lake '/vector_sparse_bin.copy'
COPY sp TO :'binfile' (FORMAT binary);
CREATE TABLE sp2 (LIKE sp);
COPY sp2 FROM :'binfile' (FORMAT binary);
SELECT count(*) AS rows, count(*) FILTER (WHERE a.v = b.v AND a.v::text = b.v::text
                                          AND sparsevec_send(a.v) = sparsevec_send(b.v)) AS equal
FROM sp a JOIN sp2 b USING (id);

-- fuzz: random strings over the literal alphabet.  Each parses or fails with
-- one of the documented SQLSTATEs; what parses prints and re-reads equal.
SELECT setseed(0.42);
CREATE TABLE fuzz_text AS
SELECT i, string_agg(substr('{{}}::,,//-+.eE0123456789  naif', 1 + (random() * 31)::int, 1), '') AS lit
FROM generate_series(1, 3000) i, generate_series(1, 1 + (i % 24)) j GROUP BY i;
INSERT INTO fuzz_text SELECT 3000 + i, '{' || lit || '}/' || (i % 30) FROM fuzz_text WHERE i <= 3000;
INSERT INTO fuzz_text SELECT 6000 + i, '{' || (i % 7) || ':' || lit || '}/5' FROM fuzz_text WHERE i <= 3000;
SELECT split_part(try(format('SELECT %L::sparsevec', lit)), ':', 1) AS result, count(*) > 0 AS seen
FROM fuzz_text GROUP BY 1 ORDER BY 1;
SELECT count(*) AS accepted, count(*) = count(*) FILTER (WHERE lit::sparsevec::text::sparsevec = lit::sparsevec) AS round_trip
FROM fuzz_text WHERE try(format('SELECT %L::sparsevec', lit)) = 'ok';
-- fuzz binary: random bytes, half behind a plausible header
CREATE TABLE fuzz_bin AS
SELECT i, (SELECT string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), '')
           FROM generate_series(1, 1 + (i % 17)) WHERE i > 0) AS hex
FROM generate_series(1, 400) i;
UPDATE fuzz_bin SET hex = '0000000' || (1 + i % 9) || '0000000' || (i % 3) || '00000000' || hex WHERE i % 2 = 0;
SELECT split_part(try_copy('sb', decode(hex, 'hex'), :'f'), ':', 1) AS recv, count(*) > 0 AS seen
FROM fuzz_bin GROUP BY 1 ORDER BY 1;
SELECT count(*) = count(*) FILTER (WHERE v::text::sparsevec = v) AS received_round_trip FROM sb;

DROP TABLE st, sb, sb3, mixed, pairs, sp, sp2, dense, oracle, got, vfroms, fuzz_text, fuzz_bin;
DROP FUNCTION try_copy, copy_field, write_file, try;
