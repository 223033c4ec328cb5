-- vlake index over sparsevec: pgvector's HNSW classes sparsevec_l2_ops,
-- sparsevec_ip_ops, sparsevec_cosine_ops, sparsevec_l1_ops under USING vlake
-- (the vectors are densified, up to 16,000 dimensions).  Oracle: exact
-- search by a sequential scan with the same SQL operators.
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/index_sparsevec_classes' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';

-- 2,000 rows of sparsevec(1000) with 12 nonzeros each: 25 topics, each a set
-- of 30 dimensions; a row takes 12 of its topic's dimensions (seeded),
-- values around the topic's weights plus noise.
CREATE FUNCTION sgen(i int, seed float8) RETURNS sparsevec LANGUAGE sql IMMUTABLE AS $$
  SELECT ('{' || string_agg(d || ':' || v, ',' ORDER BY d) || '}/1000')::sparsevec
  FROM (SELECT DISTINCT ON (d) d, round((1.5 + sin(d * 0.37) + sin(i * seed + d) * 0.6)::numeric, 4) AS v
        FROM (SELECT 1 + ((i % 25) * 37 + ((abs(sin(i * seed + k * 1.7)) * 30)::int)) % 1000 AS d
              FROM generate_series(1, 12) k) s
        ORDER BY d) t $$;
CREATE TABLE items (id int PRIMARY KEY, s sparsevec(1000));
INSERT INTO items SELECT i, sgen(i, 7.31) FROM generate_series(1, 2000) i;
CREATE TABLE queries (qid int, s sparsevec(1000));
INSERT INTO queries SELECT q, sgen(q + 3, 5.11) FROM generate_series(1, 30) q;
SELECT count(*), min(vector_dims(s)), max(vector_dims(s)) FROM items;

-- recall@10 of the index against a sequential scan (a row at the 10th true
-- distance counts), and whether the first 30 distances equal the exact ones
-- position by position (with every list probed)
CREATE FUNCTION check_class(op text) RETURNS TABLE (recall float8, exact_top30 bool)
LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  EXECUTE format('CREATE TEMP TABLE truth AS SELECT q.qid, x.n, x.d FROM queries q,
     LATERAL (SELECT row_number() OVER () n, d FROM (SELECT i.s %1$s q.s AS d FROM items i
              ORDER BY i.s %1$s q.s LIMIT 30) y) x', op);
  SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = off;
  EXECUTE format('CREATE TEMP TABLE got AS SELECT q.qid, x.n, x.d FROM queries q,
     LATERAL (SELECT row_number() OVER () n, d FROM (SELECT i.s %1$s q.s AS d FROM items i
              ORDER BY i.s %1$s q.s LIMIT 10) y) x', op);
  SET LOCAL vlake.probes = 1000;
  EXECUTE format('CREATE TEMP TABLE got30 AS SELECT q.qid, x.n, x.d FROM queries q,
     LATERAL (SELECT row_number() OVER () n, d FROM (SELECT i.s %1$s q.s AS d FROM items i
              ORDER BY i.s %1$s q.s LIMIT 30) y) x', op);
  RETURN QUERY
    SELECT (SELECT count(*) FILTER (WHERE g.d <= t.kth + 1e-6 * greatest(1, abs(t.kth)))::float8 / count(*)
            FROM got g JOIN (SELECT qid, max(d) kth FROM truth WHERE n <= 10 GROUP BY qid) t USING (qid)),
           (SELECT bool_and(abs(g.d - t.d) <= 1e-5 * greatest(1, abs(t.d))) AND count(*) = 30 * 30
            FROM got30 g JOIN truth t USING (qid, n));
  DROP TABLE truth, got, got30;
END $$;

SET vlake.rerank_epsilon = 6;   -- order checks at a 6-sigma bound (see index_pgvector_classes)
CREATE INDEX items_l2 ON items USING vlake (s);   -- the default class: L2
SELECT metric, dims FROM vlake.index_info('items_l2');
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY s <-> (SELECT s FROM queries WHERE qid = 1) LIMIT 10;
SELECT recall >= 0.9 AS recall_ok, exact_top30 FROM check_class('<->');
DROP INDEX items_l2;

CREATE INDEX items_ip ON items USING vlake (s sparsevec_ip_ops);
SELECT metric FROM vlake.index_info('items_ip');
SELECT recall >= 0.9 AS recall_ok, exact_top30 FROM check_class('<#>');
DROP INDEX items_ip;

CREATE INDEX items_cos ON items USING vlake (s sparsevec_cosine_ops);
SELECT metric FROM vlake.index_info('items_cos');
SELECT recall >= 0.9 AS recall_ok, exact_top30 FROM check_class('<=>');
DROP INDEX items_cos;

CREATE INDEX items_l1 ON items USING vlake (s sparsevec_l1_ops);
SELECT metric FROM vlake.index_info('items_l1');
SELECT recall >= 0.9 AS recall_ok, exact_top30 FROM check_class('<+>');

-- rows inserted after the build (delta), deleted rows, then a merge
INSERT INTO items SELECT i, sgen(i, 7.31) FROM generate_series(2001, 2300) i;
DELETE FROM items WHERE id % 7 = 0;
VACUUM items;
SELECT recall >= 0.9 AS recall_ok, exact_top30 FROM check_class('<+>');
SELECT vlake.merge('items_l1') = (SELECT count(*) FROM items) AS merged_all;
SELECT recall >= 0.9 AS recall_ok, exact_top30 FROM check_class('<+>');
DROP INDEX items_l1;

-- dimensions: a value of another dimension than the index's, and above 16,000
CREATE TABLE wide (id int, s sparsevec);
INSERT INTO wide VALUES (1, '{1:1}/5'), (2, '{2:1}/5');
CREATE INDEX wide_idx ON wide USING vlake (s);
INSERT INTO wide VALUES (3, '{1:1}/6');
DROP INDEX wide_idx;
INSERT INTO wide VALUES (4, '{1:1,16001:2}/16001');
CREATE INDEX ON wide USING vlake (s);
DROP TABLE wide;

-- a vlake table: the index re-ranks from the table's rows
CREATE TABLE vitems (id int, s sparsevec(1000)) USING vlake;
INSERT INTO vitems SELECT id, s FROM items;
CREATE INDEX vitems_idx ON vitems USING vlake (s sparsevec_cosine_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM vitems ORDER BY s <=> (SELECT s FROM queries WHERE qid = 2) LIMIT 10;
WITH q AS (SELECT s FROM queries WHERE qid = 2),
     got AS (SELECT v.s <=> q.s AS d FROM vitems v, q ORDER BY v.s <=> q.s LIMIT 10)
SELECT count(*) AS rows, max(d) <= (SELECT max(d) FROM (SELECT i.s <=> q.s AS d FROM items i, q
                                    ORDER BY 1 LIMIT 10) t) + 1e-6 AS within_true_top10
FROM got;
RESET enable_seqscan;
