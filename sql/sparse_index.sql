-- vlake_sparse (docs/bm25-index.md, "Sparse vectors"): ORDER BY emb <#> q
-- LIMIT k through the index against exact search (the same query with index
-- scans disabled: sparsevec's own <#> on every row, ties by id), after the
-- build, inserts (delta), deletes + VACUUM (tombstones) and
-- vlake.bm25_merge; queries of more than 64 nonzeros (the exact fallback);
-- the errors.
CREATE EXTENSION vlake;
SET extra_float_digits = 0;
SET jit = off;

-- Deterministic random sparse vectors: 30,000 dimensions, 5-60 nonzeros,
-- dimensions skewed (low ones frequent), weights in (0, 3].
CREATE FUNCTION rand_sv(seed int, lo int, hi int) RETURNS sparsevec LANGUAGE sql IMMUTABLE AS $$
  SELECT ('{' || string_agg(d::text || ':' || w::text, ',') || '}/30000')::sparsevec
    FROM (SELECT DISTINCT ON (d) d, w FROM (
            SELECT 1 + floor(30000 * power((abs(hashint8(seed::bigint * 1000 + j)) % 1000003) / 1000003.0, 3))::int AS d,
                   round((0.001 + 3 * (abs(hashint8(seed::bigint * 7919 + j)) % 100000) / 100000.0)::numeric, 4) AS w
              FROM generate_series(1, lo + abs(hashint4(seed)) % (hi - lo + 1)) j) s
          ORDER BY d, w) t $$;
CREATE TABLE sv (id int PRIMARY KEY, emb sparsevec(30000));
INSERT INTO sv SELECT i, rand_sv(i, 5, 60) FROM generate_series(1, 3000) i;
INSERT INTO sv VALUES (3001, NULL), (3002, '{}/30000');
CREATE INDEX sv_idx ON sv USING vlake_sparse (emb);

-- queries: 5-60 nonzeros, and 70-120 (more than the top-k's 64 terms)
CREATE TABLE q (qid int PRIMARY KEY, v sparsevec);
INSERT INTO q SELECT i, rand_sv(100000 + i, 5, 60) FROM generate_series(1, 40) i;
INSERT INTO q SELECT i, rand_sv(100000 + i, 70, 120) FROM generate_series(41, 46) i;

-- top-k of one query, by the index or by exact search (ids in order)
CREATE FUNCTION topk(qv sparsevec, k int, use_index bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  IF use_index THEN
    SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
    SELECT array_agg(id) INTO r FROM (SELECT id FROM sv ORDER BY emb <#> qv LIMIT k) s;
  ELSE
    SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
    SELECT array_agg(id) INTO r FROM (SELECT id FROM sv ORDER BY emb <#> qv, id LIMIT k) s;
  END IF;
  RETURN r;
END $$;
-- the queries whose top-k by the index differs from exact search
CREATE FUNCTION mismatches(k int) RETURNS TABLE (qid int, idx int[], exact int[]) LANGUAGE sql AS $$
  SELECT qid, topk(v, k, true), topk(v, k, false) FROM q
   WHERE topk(v, k, true) IS DISTINCT FROM topk(v, k, false) $$;

-- the plan uses the index
EXPLAIN (COSTS OFF) SELECT id FROM sv ORDER BY emb <#> (SELECT v FROM q WHERE qid = 1) LIMIT 10;
-- the exact search has ties only at score 0: a top-10 is well defined
SELECT count(*) AS queries_with_10_positive FROM q
 WHERE (SELECT count(*) FROM sv WHERE (emb <#> v) < 0) >= 10;

SELECT * FROM mismatches(10);
SELECT * FROM mismatches(1);
SELECT * FROM mismatches(57);
-- the scores the index orders by are sparsevec's own (the column is computed by <#>)
SET enable_seqscan = off;
SELECT count(*) AS out_of_order FROM (
  SELECT d, lag(d) OVER (ORDER BY n) AS prev FROM (
    SELECT emb <#> (SELECT v FROM q WHERE qid = 3) AS d, row_number() OVER () AS n
      FROM sv ORDER BY emb <#> (SELECT v FROM q WHERE qid = 3)) s) t
 WHERE d < prev;
-- every row comes back (the rows holding no query dimension last, and NULLs not at all)
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM sv ORDER BY emb <#> (SELECT v FROM q WHERE qid = 5)) s;
RESET enable_seqscan;

-- inserts: the delta
INSERT INTO sv SELECT i, rand_sv(i, 5, 60) FROM generate_series(3003, 3600) i;
SELECT delta_docs FROM vlake.bm25_index_info('sv_idx');
SELECT * FROM mismatches(10);
SELECT * FROM mismatches(57);

-- deletes + VACUUM: tombstones in the part and in the delta
DELETE FROM sv WHERE id % 7 = 0 OR id IN (SELECT id FROM sv WHERE id > 3003 AND id % 5 = 0);
VACUUM sv;
SELECT tombstones > 0 AS tombstoned FROM vlake.bm25_index_info('sv_idx');
SELECT * FROM mismatches(10);
SELECT * FROM mismatches(57);

-- merge: one new part without the deleted rows
SELECT vlake.bm25_merge('sv_idx');
SELECT part_docs, delta_docs, tombstones FROM vlake.bm25_index_info('sv_idx');
SELECT * FROM mismatches(10);
SELECT * FROM mismatches(57);
-- an update after the merge (a new delta and a tombstone)
UPDATE sv SET emb = rand_sv(id + 50000, 5, 60) WHERE id % 11 = 0;
VACUUM sv;
SELECT * FROM mismatches(10);

-- errors: a negative weight in a row (build and insert), in a query
INSERT INTO sv VALUES (9999, '{3:1,5:-0.5}/30000');
CREATE TABLE sv_neg (id int, emb sparsevec(5));
INSERT INTO sv_neg VALUES (1, '{1:1,2:-2}/5');
CREATE INDEX ON sv_neg USING vlake_sparse (emb);
SET enable_seqscan = off;
SELECT id FROM sv ORDER BY emb <#> '{3:1,5:-0.5}/30000' LIMIT 1;
RESET enable_seqscan;
-- the index is not a vlake_bm25 index for a bm25query
SELECT to_bm25query('x', 'sv_idx');

DROP TABLE sv, sv_neg, q;
DROP FUNCTION mismatches(int), topk(sparsevec, int, bool), rand_sv(int, int, int);
