-- vlake index: pgvector's other operator classes under USING vlake
-- (vector_l1_ops, halfvec_l1_ops, bit_hamming_ops, bit_jaccard_ops) and the
-- default classes.  Oracle: exact search by a sequential scan with the same
-- SQL operators; recall counts a returned row at the distance of the 10th
-- true neighbour as a hit (Hamming distances tie often).
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/index_pgvector_classes' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';

-- 3000 clustered rows (40 clusters): 32-d vector and halfvec, and 64-bit
-- strings whose bits are the signs of a clustered 64-d vector plus noise.
CREATE TABLE items (id int PRIMARY KEY, cat int, embedding vector(32),
                    half halfvec(32), bits bit(64));
CREATE FUNCTION gen(i int, dim int, seed float8) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg((sin((i % 40) * 13.7 + j * 0.9) * 4 + sin(i * seed + j * 3.17) * 1.6)::real
                   ORDER BY j)
  FROM generate_series(1, dim) j $$;
INSERT INTO items
SELECT i, i % 100, gen(i, 32, 7.31)::vector, gen(i, 32, 7.31)::halfvec,
       binary_quantize(gen(i, 64, 5.37)::vector)::bit(64)
FROM generate_series(1, 3000) i;
CREATE TABLE queries (qid int, embedding vector(32), half halfvec(32), bits bit(64));
INSERT INTO queries
SELECT q, gen(q + 7, 32, 5.11)::vector, gen(q + 7, 32, 5.11)::halfvec,
       binary_quantize(gen(q + 7, 64, 2.93)::vector)::bit(64)
FROM generate_series(1, 40) q;

-- recall@10 of the index against a sequential scan for ORDER BY col op q.col
CREATE FUNCTION recall(op text, col text) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  EXECUTE format('CREATE TEMP TABLE truth AS SELECT q.qid, max(x.d) AS kth FROM queries q,
     LATERAL (SELECT i.%1$I %2$s q.%1$I AS d FROM items i ORDER BY i.%1$I %2$s q.%1$I LIMIT 10) x
     GROUP BY q.qid', col, op);
  SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = off;
  EXECUTE format('CREATE TEMP TABLE got AS SELECT q.qid, x.d FROM queries q,
     LATERAL (SELECT i.%1$I %2$s q.%1$I AS d FROM items i ORDER BY i.%1$I %2$s q.%1$I LIMIT 10) x',
     col, op);
  SELECT count(*) FILTER (WHERE g.d <= t.kth) / 400.0 INTO r FROM got g JOIN truth t USING (qid);
  DROP TABLE truth; DROP TABLE got;
  RETURN r;
END $$;

-- rows the index returns for each query (n of them, passing a filter on
-- cat) out of exact order: must be 0 (the scan orders what it returns by the
-- exact distance).  With a 6-sigma error bound: at the default 1.9 the
-- RaBitQ bound misses about 1e-3 of the estimates, which can show as a rare
-- out-of-order row for any class (L2 included); an invalid bound shows
-- whatever the width.
CREATE FUNCTION out_of_order(op text, col text, n int, modulo int DEFAULT 1) RETURNS bigint
LANGUAGE plpgsql SET enable_seqscan = off SET vlake.rerank_epsilon = 6 AS $$
DECLARE r bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (SELECT x.d < lag(x.d) OVER (PARTITION BY q.qid ORDER BY x.rn) AS bad
     FROM queries q, LATERAL (SELECT d, row_number() OVER () AS rn FROM
       (SELECT i.%1$I %2$s q.%1$I AS d FROM items i WHERE i.cat %% %4$s = 0
        ORDER BY i.%1$I %2$s q.%1$I LIMIT %3$s) y) x) z WHERE bad', col, op, n, modulo)
  INTO r;
  RETURN r;
END $$;

-- every class: the plan, recall, exact order of 100 rows and of a filtered
-- (1 in 50) scan that turns exhaustive, the exhaustive search exact
CREATE FUNCTION check_class(cls text, op text, col text,
    OUT uses_index bool, OUT recall_ok bool, OUT ordered bool, OUT filtered_ordered bool,
    OUT exhaustive_exact bool)
LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  EXECUTE format('CREATE INDEX items_idx ON items USING vlake (%I %s) WITH (lists = 40)', col, cls);
  SET LOCAL enable_seqscan = off;
  uses_index := false;
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY %I %s (SELECT %1$I FROM queries WHERE qid = 1) LIMIT 10',
                             col, op) LOOP
    uses_index := uses_index OR line LIKE '%Index Scan using items_idx%';
  END LOOP;
  recall_ok := recall(op, col) >= 0.9;
  ordered := out_of_order(op, col, 100) = 0;
  filtered_ordered := out_of_order(op, col, 30, 50) = 0;
  SET LOCAL vlake.probes = 1000;
  SET LOCAL vlake.rerank_epsilon = 6;
  exhaustive_exact := recall(op, col) = 1;
  DROP INDEX items_idx;
END $$;

SELECT cls, c.*
FROM (VALUES ('vector_l2_ops', '<->', 'embedding'),
             ('vector_l1_ops', '<+>', 'embedding'),
             ('halfvec_l1_ops', '<+>', 'half'),
             ('bit_hamming_ops', '<~>', 'bits'),
             ('bit_jaccard_ops', '<%>', 'bits')) v(cls, op, col),
     LATERAL check_class(cls, op, col) c;

-- writes after the build (the delta), VACUUM (tombstones) and a merge, for
-- each new class: recall and order against the table as it is then
CREATE FUNCTION check_writes(cls text, op text, col text,
    OUT delta_recall_ok bool, OUT delta_ordered bool,
    OUT merged bigint, OUT merged_recall_ok bool, OUT merged_ordered bool, OUT metric text)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE INDEX items_idx ON items USING vlake (%I %s) WITH (lists = 40)', col, cls);
  -- 500 new rows, nearer to the queries than most: they must come back
  INSERT INTO items
  SELECT 10000 + i, i % 100, gen(i % 40 + 7, 32, 5.11 + i)::vector,
         gen(i % 40 + 7, 32, 5.11 + i)::halfvec,
         binary_quantize(gen(i % 40 + 7, 64, 2.93 + i)::vector)::bit(64)
  FROM generate_series(1, 500) i;
  delta_recall_ok := recall(op, col) >= 0.9;
  delta_ordered := out_of_order(op, col, 100) = 0;
  DELETE FROM items WHERE id % 3 = 0;
  metric := (SELECT i.metric FROM vlake.index_info('items_idx') i);
  merged := vlake.merge('items_idx');
  merged_recall_ok := recall(op, col) >= 0.9;
  merged_ordered := out_of_order(op, col, 100) = 0;
  DROP INDEX items_idx;
END $$;

CREATE TABLE items_base AS SELECT * FROM items;
SELECT * FROM check_writes('vector_l1_ops', '<+>', 'embedding');
TRUNCATE items; INSERT INTO items SELECT * FROM items_base;
SELECT * FROM check_writes('halfvec_l1_ops', '<+>', 'half');
TRUNCATE items; INSERT INTO items SELECT * FROM items_base;
SELECT * FROM check_writes('bit_hamming_ops', '<~>', 'bits');
TRUNCATE items; INSERT INTO items SELECT * FROM items_base;
SELECT * FROM check_writes('bit_jaccard_ops', '<%>', 'bits');
TRUNCATE items; INSERT INTO items SELECT * FROM items_base;

-- VACUUM with tombstones, then inserts, for Jaccard and Hamming
CREATE INDEX items_jac ON items USING vlake (bits bit_jaccard_ops) WITH (lists = 40);
DELETE FROM items WHERE id % 4 = 1;
VACUUM items;
SELECT tombstones > 0 AS has_tombstones FROM vlake.index_info('items_jac');
SELECT recall('<%>', 'bits') >= 0.9 AS jaccard_vacuum_recall_ok;
SELECT out_of_order('<%>', 'bits', 100) AS jaccard_vacuum_out_of_order;
DROP INDEX items_jac;
CREATE INDEX items_ham ON items USING vlake (bits bit_hamming_ops) WITH (lists = 40);
DELETE FROM items WHERE id % 4 = 2;
VACUUM items;
SELECT recall('<~>', 'bits') >= 0.9 AS hamming_vacuum_recall_ok;
SELECT vlake.merge('items_ham') > 0 AS merged;
SELECT recall('<~>', 'bits') >= 0.9 AS hamming_merged_recall_ok;
DROP INDEX items_ham;

-- the ORDER BY values the index hands back are the operators' own
SET enable_seqscan = off;
CREATE INDEX items_ham ON items USING vlake (bits);
CREATE INDEX items_jac ON items USING vlake (bits bit_jaccard_ops);
SELECT count(*) AS hamming_rows_differing FROM (
  SELECT bits <~> q AS d, hamming_distance(bits, q) AS e
  FROM items, (SELECT bits AS q FROM queries WHERE qid = 3) s ORDER BY bits <~> q LIMIT 50) x
WHERE d <> e;
DROP INDEX items_ham;
SELECT count(*) AS jaccard_rows_differing FROM (
  SELECT bits <%> q AS d, jaccard_distance(bits, q) AS e
  FROM items, (SELECT bits AS q FROM queries WHERE qid = 3) s ORDER BY bits <%> q LIMIT 50) x
WHERE d <> e;
DROP INDEX items_jac;
RESET enable_seqscan;

-- default operator classes: USING vlake (col) without a class
CREATE INDEX items_dv ON items USING vlake (embedding);
CREATE INDEX items_dh ON items USING vlake (half);
CREATE INDEX items_db ON items USING vlake (bits);
SELECT c.relname, o.opcname, (SELECT metric FROM vlake.index_info(c.oid::regclass))
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_opclass o ON o.oid = i.indclass[0]
WHERE c.relname IN ('items_dv', 'items_dh', 'items_db') ORDER BY 1;
SELECT opcname, opcintype::regtype FROM pg_opclass
WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'vlake') AND opcdefault ORDER BY 1;
DROP INDEX items_dv, items_dh, items_db;

-- errors: a query of another length than the index's; too many bits (wide
-- bit strings up to the limit: index_bit_wide)
CREATE INDEX items_ham ON items USING vlake (bits);
SELECT id FROM items ORDER BY bits <~> '101' LIMIT 1;
CREATE TABLE toowide (b bit(350001));
INSERT INTO toowide VALUES (repeat('1', 350001)::bit(350001));
CREATE INDEX ON toowide USING vlake (b);
DROP TABLE toowide;
-- 3,000 bits: more than a page holds as floats, so rows inserted after the
-- build are delta items in chunks; Hamming top 10 against a sequential scan
CREATE TABLE wide (id int, b bit(3000));
INSERT INTO wide SELECT i, binary_quantize(gen(i, 3000, 1.7)::vector)::bit(3000) FROM generate_series(1, 200) i;
CREATE INDEX wide_idx ON wide USING vlake (b) WITH (lists = 4);
INSERT INTO wide SELECT i, binary_quantize(gen(i, 3000, 2.9)::vector)::bit(3000) FROM generate_series(201, 260) i;
CREATE TABLE wide_q AS SELECT binary_quantize(gen(3, 3000, 0.4)::vector)::bit(3000) AS q;
SET enable_seqscan = off;
SET vlake.rerank_epsilon = 6;  -- every list is probed (4): exact up to the bound
EXPLAIN (COSTS OFF) SELECT b <~> (SELECT q FROM wide_q) AS d FROM wide ORDER BY b <~> (SELECT q FROM wide_q) LIMIT 10;
CREATE TABLE wide_got AS SELECT b <~> (SELECT q FROM wide_q) AS d FROM wide ORDER BY b <~> (SELECT q FROM wide_q) LIMIT 10;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT (SELECT array_agg(d ORDER BY d) FROM wide_got) =
       (SELECT array_agg(d) FROM (SELECT b <~> q AS d FROM wide, wide_q ORDER BY 1 LIMIT 10) s)
       AS wide_top10_exact;
RESET enable_indexscan;
RESET vlake.rerank_epsilon;
DROP TABLE wide;
-- an empty index, then a first row
CREATE TABLE empty_bits (b bit varying);
CREATE INDEX empty_bits_idx ON empty_bits USING vlake (b bit_jaccard_ops);
SELECT * FROM empty_bits ORDER BY b <%> '1010' LIMIT 1;
INSERT INTO empty_bits VALUES ('1010'), ('0111'), ('0000'), ('1110');
INSERT INTO empty_bits VALUES ('10100');
SET enable_seqscan = off;
SELECT b, b <%> '1010' AS d FROM empty_bits ORDER BY b <%> '1010';
RESET enable_seqscan;

DROP EXTENSION vlake CASCADE;
