-- Casts between vector / halfvec and SQL arrays; the oracle is the array
-- itself (values that are exact in float32 / binary16 must come back equal).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;

SELECT ARRAY[1,2,3]::vector, ARRAY[1.5,2,-3]::real[]::vector, ARRAY[0.1,2]::float8[]::vector,
       ARRAY[1.25,-2]::numeric[]::vector;
SELECT ARRAY[1,2,3]::halfvec, ARRAY[1.5,2,-3]::real[]::halfvec, ARRAY[0.1,2]::float8[]::halfvec,
       ARRAY[1.25,-2]::numeric[]::halfvec;
SELECT '[1,2.5,-3]'::vector::real[], '[1,2.5,-3]'::halfvec::real[];
-- round trips: float32 values survive vector, binary16-exact values survive halfvec
SELECT a = a::vector::real[] AS vector_round_trip
FROM (SELECT array_agg((i * 0.731)::real) AS a FROM generate_series(-50, 50) i) s;
SELECT a = a::halfvec::real[] AS halfvec_round_trip
FROM (SELECT array_agg((i * 0.125)::real) AS a FROM generate_series(-50, 50) i) s;
-- typmod through assignment casts
CREATE TABLE ct (v vector(3), h halfvec(3));
INSERT INTO ct VALUES (ARRAY[1,2,3], ARRAY[4,5,6]), (ARRAY[1.5,2.5,3.5]::real[], ARRAY[1.5,2.5,3.5]::float8[]);
SELECT * FROM ct;
-- vector -> real[] for array functions
SELECT array_length('[1,2,3]'::vector::real[], 1), ('[4,5,6]'::vector::real[])[2];
-- large vector through arrays
SELECT vector_dims(array_fill(0.5::real, ARRAY[16000])::vector) AS dims,
       vector_norm(array_fill(0.5::real, ARRAY[16000])::vector) = sqrt(16000 * 0.25) AS norm_ok;
DROP TABLE ct;
