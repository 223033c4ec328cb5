-- The vector type: I/O, typmod, distances, arithmetic, ordering, aggregates.
-- Distances are checked against the same formula computed by PostgreSQL in
-- double precision over float8 arrays (an independent oracle).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;

-- text I/O: whitespace tolerant, shortest round-trip output
SELECT '[1,2,3]'::vector;
SELECT '  [ 1 , -2.5 ,3e2 ]  '::vector;
SELECT '[0.1, 1e-7, 3.4028235e38, -1.17549435e-38, 1.4e-45]'::vector;
SELECT '[1.0000001, 0.3, 0.30000001]'::vector;
SELECT '[-0]'::vector;
-- output reads back to the same value (round trip of awkward floats)
SELECT v::text::vector = v AS round_trips
FROM (SELECT '[0.1,0.2,0.30000001,1.1754944e-38,123456.79,7e-45]'::vector AS v) s;

-- typmod
CREATE TABLE vt (id int, v vector(3));
INSERT INTO vt VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, '[1,2,4]'), (4, NULL);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'vt'::regclass AND attname = 'v';
SELECT '[1,2]'::vector(2);
SELECT vector_dims(v) FROM vt WHERE id = 1;

-- binary round trip through send/recv (COPY BINARY)
\getenv lake VLAKE_TEST_LAKE
\set binfile :lake '/vector_bin.copy'
COPY vt TO :'binfile' (FORMAT binary);
CREATE TABLE vt2 (LIKE vt);
COPY vt2 FROM :'binfile' (FORMAT binary);
SELECT count(*) AS same FROM vt JOIN vt2 USING (id) WHERE vt.v = vt2.v;
SELECT vector_send('[1,-2]'::vector);

-- distances vs a float8 oracle over random vectors
CREATE TABLE rv AS
SELECT i, array_agg(((i * 7919 + j * 104729) % 2001 - 1000) / 97.0::float8 ORDER BY j)::float4[] AS a
FROM generate_series(1, 20) i, generate_series(1, 37) j GROUP BY i;
CREATE FUNCTION f8(float4[]) RETURNS float8[] LANGUAGE sql IMMUTABLE AS $$ SELECT $1::float8[] $$;
CREATE FUNCTION oracle_dot(float8[], float8[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT sum(x * y) FROM unnest($1, $2) u(x, y) $$;
CREATE FUNCTION oracle_l2(float8[], float8[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT sqrt(sum((x - y) ^ 2)) FROM unnest($1, $2) u(x, y) $$;
CREATE FUNCTION oracle_l1(float8[], float8[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT sum(abs(x - y)) FROM unnest($1, $2) u(x, y) $$;
CREATE FUNCTION vec(float4[]) RETURNS vector LANGUAGE sql IMMUTABLE AS
$$ SELECT ('[' || array_to_string($1, ',') || ']')::vector $$;
SELECT count(*) AS pairs,
  max(abs((vec(a.a) <-> vec(b.a)) - oracle_l2(f8(a.a), f8(b.a))) / greatest(oracle_l2(f8(a.a), f8(b.a)), 1)) < 1e-5 AS l2_ok,
  max(abs((vec(a.a) <#> vec(b.a)) + oracle_dot(f8(a.a), f8(b.a))) / greatest(sqrt(oracle_dot(f8(a.a), f8(a.a)) * oracle_dot(f8(b.a), f8(b.a))), 1)) < 1e-5 AS ip_ok,
  max(abs(inner_product(vec(a.a), vec(b.a)) - oracle_dot(f8(a.a), f8(b.a))) / greatest(sqrt(oracle_dot(f8(a.a), f8(a.a)) * oracle_dot(f8(b.a), f8(b.a))), 1)) < 1e-5 AS ip2_ok,
  max(abs((vec(a.a) <=> vec(b.a)) - (1 - oracle_dot(f8(a.a), f8(b.a)) / sqrt(oracle_dot(f8(a.a), f8(a.a)) * oracle_dot(f8(b.a), f8(b.a)))))) < 1e-5 AS cos_ok,
  max(abs((vec(a.a) <+> vec(b.a)) - oracle_l1(f8(a.a), f8(b.a))) / greatest(oracle_l1(f8(a.a), f8(b.a)), 1)) < 1e-5 AS l1_ok,
  max(abs(vector_l2_squared_distance(vec(a.a), vec(b.a)) - oracle_l2(f8(a.a), f8(b.a)) ^ 2) / greatest(oracle_l2(f8(a.a), f8(b.a)) ^ 2, 1)) < 1e-5 AS l2sq_ok,
  max(abs(vector_norm(vec(a.a)) - sqrt(oracle_dot(f8(a.a), f8(a.a))))) < 1e-9 AS norm_ok
FROM rv a, rv b;

-- small exact cases
SELECT l2_distance('[0,0]'::vector, '[3,4]'), '[0,0]'::vector <-> '[3,4]';
SELECT inner_product('[1,2,3]'::vector, '[4,5,6]'), '[1,2,3]'::vector <#> '[4,5,6]';
SELECT cosine_distance('[1,0]'::vector, '[0,1]'), '[1,1]'::vector <=> '[2,2]', '[1,0]'::vector <=> '[-1,0]';
SELECT cosine_distance('[0,0]'::vector, '[1,1]');  -- undefined angle: NaN
SELECT l1_distance('[1,2,3]'::vector, '[4,0,3]'), '[1,2,3]'::vector <+> '[4,0,3]';
SELECT vector_norm('[3,4]'::vector), l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector);
SELECT round(vector_spherical_distance('[1,0]'::vector, '[0,1]')::numeric, 6) AS quarter_turn;

-- arithmetic
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]', subvector('[1,2,3,4,5]'::vector, 2, 3), subvector('[1,2,3]'::vector, 0, 2);

-- ordering, equality, btree and hash opclasses
SELECT id, v FROM vt WHERE v IS NOT NULL ORDER BY v;
SELECT '[1,2]'::vector < '[1,2,0]', '[1,2]'::vector = '[1,2]', '[-0]'::vector = '[0]', '[1]'::vector <> '[2]';
SELECT vector_cmp('[1,3]'::vector, '[1,2]'), vector_cmp('[1,2]'::vector, '[1,2]'), vector_cmp('[0,9]'::vector, '[1]');
SELECT vector_hash('[-0,1]'::vector) = vector_hash('[0,1]'::vector) AS hash_ignores_sign_of_zero;
CREATE INDEX vt_btree ON vt (v);
CREATE INDEX vt_hash ON vt USING hash (v);
SET enable_seqscan = off;
SELECT id FROM vt WHERE v = '[1,2,4]';
RESET enable_seqscan;
SELECT DISTINCT v FROM (VALUES ('[1,1]'::vector), ('[1,1]'), ('[2,2]')) t(v) ORDER BY v;

-- aggregates (NULLs skipped, empty input gives NULL)
SELECT avg(v), sum(v) FROM vt;
SELECT avg(v) IS NULL AS empty_avg, sum(v) IS NULL AS empty_sum FROM vt WHERE false;
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[2,3]'), ('[4,5]')) t(v);
-- parallel plan; exact answer known: sum(1..20000) = 200010000
CREATE TABLE big AS SELECT i, ('[' || i || ',' || -i || ',1]')::vector AS v FROM generate_series(1, 20000) i;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM big;
SELECT avg(v), sum(v) FROM big;
RESET ALL;
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);  -- overflow

SELECT vlake.distance_kernels() IN ('scalar', 'avx2', 'avx512', 'neon') AS known_level;
DROP TABLE vt, vt2, rv, big;
DROP FUNCTION f8, oracle_dot, oracle_l2, oracle_l1, vec;
