-- halfvec: binary16 storage, float32 arithmetic.  Rounding is checked
-- against bit patterns worked out by hand from IEEE 754 (the oracle), via
-- halfvec_send; distances against a float8 computation over the stored
-- (rounded) values.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;

SELECT '[1,2,3]'::halfvec, '  [ 1.5 , -2 ]  '::halfvec;
-- 0.1 is stored as 0.0999755859375 (0x2e66)
SELECT '[0.1]'::halfvec, halfvec_send('[0.1]');
-- largest finite (0x7bff), rounding down to it (65519), smallest subnormal (0x0001)
SELECT halfvec_send('[65504, 65519, -65504, 5.9604645e-08]');
-- ties to even: 1+2^-11 -> 1 (0x3c00); 1+3*2^-11 -> 1+2^-9 (0x3c02); 2049 -> 2048; 2051 -> 2052
SELECT '[1.00048828125, 1.00146484375, 2049, 2051]'::halfvec;
SELECT halfvec_send('[1.00048828125, 1.00146484375, 2049, 2051]');
-- subnormals: 2^-25 is a tie -> 0; just above it -> 2^-24; 1e-9 -> 0; -0 kept
SELECT halfvec_send('[2.98023223876953125e-08, 3e-08, 1e-9, -0]');
SELECT '[6.1035156e-05, 6.097555e-05]'::halfvec AS smallest_normal_and_largest_subnormal;

-- typmod and casts to/from vector
CREATE TABLE ht (id int, h halfvec(3));
INSERT INTO ht VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, '[1,2,4]'), (4, NULL);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ht'::regclass AND attname = 'h';
SELECT '[0.1,0.2]'::vector::halfvec, '[0.1,0.2]'::halfvec::vector;
INSERT INTO ht VALUES (5, '[7,8,9]'::vector);
SELECT id, h FROM ht ORDER BY h, id;
SELECT pg_column_size('[1,2,3,4,5,6,7,8]'::halfvec) AS half_bytes, pg_column_size('[1,2,3,4,5,6,7,8]'::vector) AS vector_bytes;

-- binary round trip (COPY BINARY uses send/recv)
\getenv lake VLAKE_TEST_LAKE
\set binfile :lake '/halfvec_bin.copy'
COPY ht TO :'binfile' (FORMAT binary);
CREATE TABLE ht2 (LIKE ht);
COPY ht2 FROM :'binfile' (FORMAT binary);
SELECT count(*) AS same FROM ht JOIN ht2 USING (id) WHERE ht.h = ht2.h;

-- distances against float8 over the rounded values
CREATE FUNCTION h(real[]) RETURNS halfvec LANGUAGE sql IMMUTABLE AS
$$ SELECT ('[' || array_to_string($1, ',') || ']')::halfvec $$;
CREATE FUNCTION rounded(float8) RETURNS real LANGUAGE sql IMMUTABLE AS
$$ SELECT btrim(('[' || $1::real || ']')::halfvec::text, '[]')::real $$;
CREATE TABLE hr AS
SELECT i, array_agg(rounded(((i * 7919 + j * 104729) % 2001 - 1000) / 97.0) ORDER BY j) AS a
FROM generate_series(1, 12) i, generate_series(1, 45) j GROUP BY i;
SELECT count(*) AS pairs,
  max(abs((h(a.a) <-> h(b.a)) - (SELECT sqrt(sum((x::float8 - y) ^ 2)) FROM unnest(a.a, b.a) u(x, y)))) < 1e-4 AS l2_ok,
  max(abs((h(a.a) <#> h(b.a)) + (SELECT sum(x::float8 * y) FROM unnest(a.a, b.a) u(x, y)))) < 1e-3 AS ip_ok,
  max(abs(inner_product(h(a.a), h(b.a)) - (SELECT sum(x::float8 * y) FROM unnest(a.a, b.a) u(x, y)))) < 1e-3 AS ip2_ok,
  max(abs((h(a.a) <+> h(b.a)) - (SELECT sum(abs(x::float8 - y)) FROM unnest(a.a, b.a) u(x, y)))) < 1e-3 AS l1_ok,
  max(abs((h(a.a) <=> h(b.a)) - (SELECT 1 - sum(x::float8 * y) / sqrt(sum(x::float8 * x) * sum(y::float8 * y)) FROM unnest(a.a, b.a) u(x, y)))) < 1e-6 AS cos_ok,
  max(abs(halfvec_l2_squared_distance(h(a.a), h(b.a)) - (SELECT sum((x::float8 - y) ^ 2) FROM unnest(a.a, b.a) u(x, y)))) < 1e-2 AS l2sq_ok,
  max(abs(l2_norm(h(a.a)) - (SELECT sqrt(sum(x::float8 * x)) FROM unnest(a.a) x))) < 1e-9 AS norm_ok
FROM hr a, hr b;

SELECT '[0,0]'::halfvec <-> '[3,4]', '[1,2,3]'::halfvec <#> '[4,5,6]', '[1,0]'::halfvec <=> '[0,1]', '[1,2,3]'::halfvec <+> '[4,0,3]';
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec), vector_norm('[3,4]'::halfvec), l2_normalize('[3,4]'::halfvec);
SELECT round(halfvec_spherical_distance('[1,0]', '[0,1]')::numeric, 6) AS quarter_turn, halfvec_negative_inner_product('[1,2]', '[3,4]');

-- arithmetic: float32 then rounded back to half
SELECT '[1,2,3]'::halfvec + '[4,5,6]', '[1,2,3]'::halfvec - '[4,5,6]', '[1,2,3]'::halfvec * '[4,5,6]';
SELECT '[0.1]'::halfvec + '[0.2]' AS rounded_sum;
SELECT '[60000]'::halfvec + '[60000]';
SELECT '[1e-4]'::halfvec * '[1e-4]';
SELECT '[1,2]'::halfvec || '[3]', subvector('[1,2,3,4]'::halfvec, 2, 2);

-- ordering, hashing
SELECT '[1,2]'::halfvec < '[1,2,0]', '[-0]'::halfvec = '[0]', halfvec_hash('[-0]') = halfvec_hash('[0]');
CREATE INDEX ht_btree ON ht (h);
CREATE INDEX ht_hash ON ht USING hash (h);
SET enable_seqscan = off;
SELECT id FROM ht WHERE h = '[1,2,4]';
RESET enable_seqscan;

-- aggregates
SELECT avg(h), sum(h) FROM ht;
SELECT sum(h) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(h);
SELECT avg(h) FROM ht WHERE false;

DROP TABLE ht, ht2, hr;
DROP FUNCTION h, rounded;
