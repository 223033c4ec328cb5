-- Bit strings longer than 16,000 bits under USING vlake (pgvector's HNSW
-- takes bit up to 64,000; vlake up to 350,000).  Such an index keeps each
-- string packed and clusters a sample of its bits (docs/index.md); the
-- re-rank is exact.  Every check compares with a sequential scan (the
-- index disabled), by distances, so ties may come in any order.
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/index_bit_wide' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';

-- pseudo-random bits from md5: n bits from seed s, each 1 with p = 1/2,
-- or with p = 1/16 (noise: the AND of four such strings)
CREATE FUNCTION rbits(s text, n int) RETURNS bit varying
LANGUAGE sql IMMUTABLE AS $$
  SELECT (('x' || string_agg(md5(s || ':' || j), '' ORDER BY j))::bit varying)::bit varying
  FROM generate_series(1, (n + 127) / 128) j $$;
CREATE FUNCTION rbits_n(s text, n int) RETURNS bit varying
LANGUAGE sql IMMUTABLE AS $$
  SELECT substring(rbits(s, n) FROM 1 FOR n) $$;
CREATE FUNCTION noise(s text, n int) RETURNS bit varying
LANGUAGE sql IMMUTABLE AS $$
  SELECT rbits_n(s || 'a', n) & rbits_n(s || 'b', n) & rbits_n(s || 'c', n) & rbits_n(s || 'd', n) $$;

-- 30 clusters: row i is centre i % 30 with 1/16 of its bits flipped
CREATE TABLE centre AS SELECT k, rbits_n('c' || k, 64000) AS b FROM generate_series(0, 29) k;
CREATE TABLE items (id int, b bit(64000));
INSERT INTO items SELECT i, (c.b # noise('r' || i, 64000))::bit(64000)
  FROM generate_series(1, 600) i JOIN centre c ON c.k = i % 30;
CREATE TABLE queries (qid int, q bit(64000));
INSERT INTO queries SELECT q, (c.b # noise('q' || q, 64000))::bit(64000)
  FROM generate_series(1, 8) q JOIN centre c ON c.k = (q * 7) % 30;

-- queries whose top k by the index differs from the sequential scan's
-- (distances compared as sorted arrays); the index settings are the caller's
CREATE FUNCTION topk_mismatch(op text, k int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE r bigint;
BEGIN
  SET LOCAL enable_seqscan = off;
  EXECUTE format('CREATE TEMP TABLE got AS SELECT q.qid, (SELECT array_agg(d ORDER BY d) FROM
     (SELECT i.b %1$s q.q AS d FROM items i ORDER BY i.b %1$s q.q LIMIT %2$s) x) AS a
     FROM queries q', op, k);
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  EXECUTE format('CREATE TEMP TABLE truth AS SELECT q.qid, (SELECT array_agg(d ORDER BY d) FROM
     (SELECT i.b %1$s q.q AS d FROM items i ORDER BY i.b %1$s q.q LIMIT %2$s) x) AS a
     FROM queries q', op, k);
  SELECT count(*) INTO r FROM got g JOIN truth t USING (qid) WHERE g.a IS DISTINCT FROM t.a;
  DROP TABLE got; DROP TABLE truth;
  RETURN r;
END $$;

-- recall@10 at the default settings (by distance: rows within the true 10th)
CREATE FUNCTION recall(op text) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  EXECUTE format('CREATE TEMP TABLE truth AS SELECT q.qid, max(x.d) AS kth FROM queries q,
     LATERAL (SELECT i.b %1$s q.q AS d FROM items i ORDER BY i.b %1$s q.q LIMIT 10) x
     GROUP BY q.qid', op);
  SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = off;
  EXECUTE format('CREATE TEMP TABLE got AS SELECT q.qid, x.d FROM queries q,
     LATERAL (SELECT i.b %1$s q.q AS d FROM items i ORDER BY i.b %1$s q.q LIMIT 10) x', op);
  SELECT count(*) FILTER (WHERE g.d <= t.kth) / 80.0 INTO r FROM got g JOIN truth t USING (qid);
  DROP TABLE truth; DROP TABLE got;
  RETURN r;
END $$;

-- exhaustive settings: every list probed, every candidate re-ranked
CREATE FUNCTION exhaustive_mismatch(op text) RETURNS bigint
LANGUAGE sql SET vlake.probes = 30 SET vlake.rerank_epsilon = 10 AS $$
  SELECT topk_mismatch(op, 20) $$;

-- Hamming
CREATE INDEX items_ham ON items USING vlake (b bit_hamming_ops) WITH (lists = 30);
SELECT metric, dims, lists, lake_vectors FROM vlake.index_info('items_ham');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY b <~> (SELECT q FROM queries WHERE qid = 1) LIMIT 5;
RESET enable_seqscan;
SELECT exhaustive_mismatch('<~>') AS hamming_mismatch;
SELECT recall('<~>') >= 0.9 AS hamming_recall_ok;

-- inserts after the build go to the delta
INSERT INTO items SELECT i, (c.b # noise('r' || i, 64000))::bit(64000)
  FROM generate_series(601, 700) i JOIN centre c ON c.k = i % 30;
SELECT delta_vectors FROM vlake.index_info('items_ham');
SELECT exhaustive_mismatch('<~>') AS hamming_delta_mismatch;

-- DELETE + VACUUM: lake rows become tombstones, delta rows go
DELETE FROM items WHERE id % 7 = 0;
VACUUM items;
SELECT tombstones > 0 AS tombstoned FROM vlake.index_info('items_ham');
SELECT exhaustive_mismatch('<~>') AS hamming_vacuum_mismatch;

-- a merge folds the delta and the tombstones into a new part
SELECT vlake.merge('items_ham') > 0 AS merged;
SELECT lake_vectors = (SELECT count(*) FROM items) AS all_in_lake, delta_vectors, tombstones
FROM vlake.index_info('items_ham');
SELECT exhaustive_mismatch('<~>') AS hamming_merged_mismatch;
SELECT recall('<~>') >= 0.9 AS hamming_merged_recall_ok;
DROP INDEX items_ham;

-- Jaccard, built in parallel where workers are available
SET max_parallel_maintenance_workers = 2;
CREATE INDEX items_jac ON items USING vlake (b bit_jaccard_ops) WITH (lists = 30);
RESET max_parallel_maintenance_workers;
SELECT metric, dims, lake_vectors = (SELECT count(*) FROM items) AS all_in_lake
FROM vlake.index_info('items_jac');
SELECT exhaustive_mismatch('<%>') AS jaccard_mismatch;
SELECT recall('<%>') >= 0.9 AS jaccard_recall_ok;
INSERT INTO items SELECT i, (c.b # noise('r' || i, 64000))::bit(64000)
  FROM generate_series(701, 760) i JOIN centre c ON c.k = i % 30;
DELETE FROM items WHERE id % 11 = 0;
VACUUM items;
SELECT exhaustive_mismatch('<%>') AS jaccard_delta_mismatch;
SELECT vlake.merge('items_jac') > 0 AS merged;
SELECT exhaustive_mismatch('<%>') AS jaccard_merged_mismatch;

-- errors: a query of another length, also one whose packed form has the
-- same size as the index's (64,001 bits)
SET enable_seqscan = off;
SELECT id FROM items ORDER BY b <%> '101' LIMIT 1;
SELECT id FROM items ORDER BY b <%> rbits_n('z', 64001) LIMIT 1;
RESET enable_seqscan;
DROP INDEX items_jac;

-- 20,000 bits, an index built empty: the first insert fixes the length
CREATE TABLE mid (id int, b bit varying);
CREATE INDEX mid_ham ON mid USING vlake (b bit_hamming_ops);
INSERT INTO mid SELECT i, substring(c.b FROM 1 FOR 20000) # noise('m' || i, 20000)
  FROM generate_series(1, 300) i JOIN centre c ON c.k = i % 30;
SELECT dims, delta_vectors FROM vlake.index_info('mid_ham');
INSERT INTO mid VALUES (0, rbits_n('y', 20001));
-- 1,858 bits as floats are as many as 20,000 packed: still refused
INSERT INTO mid VALUES (0, rbits_n('y', 1858));
SELECT vlake.merge('mid_ham') > 0 AS merged;
WITH q AS (SELECT substring(b FROM 1 FOR 20000) AS q FROM centre WHERE k = 4),
     got AS (SELECT array_agg(d ORDER BY d) AS a FROM (SELECT m.b <~> q.q AS d FROM mid m, q
              ORDER BY m.b <~> q.q LIMIT 15) x)
SELECT (SELECT a FROM got) = (SELECT array_agg(d ORDER BY d) FROM
        (SELECT hamming_distance(m.b, q.q) AS d FROM mid m, q ORDER BY 1 LIMIT 15) y) AS mid_exact;
DROP TABLE mid;

-- 17,003 bits: pad bits in the last byte, a part-filled last packed group;
-- Jaccard, every list probed, against jaccard_distance
CREATE TABLE odd (id int, b bit(17003));
INSERT INTO odd SELECT i, (substring(c.b FROM 1 FOR 17003) # noise('o' || i, 17003))::bit(17003)
  FROM generate_series(1, 200) i JOIN centre c ON c.k = i % 30;
CREATE INDEX odd_jac ON odd USING vlake (b bit_jaccard_ops) WITH (lists = 10);
SET enable_seqscan = off;
SET vlake.probes = 10;
SET vlake.rerank_epsilon = 10;
WITH q AS (SELECT substring(b FROM 1 FOR 17003)::bit(17003) AS q FROM centre WHERE k = 7)
SELECT (SELECT array_agg(d ORDER BY d) FROM (SELECT o.b <%> q.q AS d FROM odd o, q
          ORDER BY o.b <%> q.q LIMIT 15) x)
     = (SELECT array_agg(d ORDER BY d) FROM (SELECT jaccard_distance(o.b, q.q) AS d FROM odd o, q
          ORDER BY 1 LIMIT 15) y) AS odd_exact;
RESET enable_seqscan;
RESET vlake.probes;
RESET vlake.rerank_epsilon;
DROP TABLE odd;

-- a narrow index (1,858 bits) refuses a 20,000-bit string (same float count)
CREATE TABLE narrow (b bit varying);
CREATE INDEX narrow_ham ON narrow USING vlake (b bit_hamming_ops);
INSERT INTO narrow VALUES (rbits_n('n', 1858));
INSERT INTO narrow VALUES (rbits_n('n', 20000));
SET enable_seqscan = off;
SELECT b <~> rbits_n('n', 20000) FROM narrow ORDER BY b <~> rbits_n('n', 20000) LIMIT 1;
RESET enable_seqscan;
DROP TABLE narrow;

-- the limit, and one bit more
CREATE TABLE huge (b bit varying);
CREATE INDEX huge_ham ON huge USING vlake (b bit_hamming_ops);
INSERT INTO huge VALUES (rbits_n('h', 350000));
INSERT INTO huge VALUES (rbits_n('h', 350001));
SELECT dims FROM vlake.index_info('huge_ham');
SET enable_seqscan = off;
SELECT b <~> rbits_n('h', 350000) AS d FROM huge ORDER BY b <~> rbits_n('h', 350000) LIMIT 1;
RESET enable_seqscan;
DROP TABLE huge;

-- a vlake table: the index re-ranks from the table's rows (lake rows after
-- the flush, delta rows after it)
CREATE TABLE vitems (id int, b bit(64000)) USING vlake;
INSERT INTO vitems SELECT id, b FROM items WHERE id % 3 <> 0;
SELECT vlake.flush('vitems') > 0 AS flushed;
CREATE INDEX vitems_ham ON vitems USING vlake (b bit_hamming_ops) WITH (lists = 30);
INSERT INTO vitems SELECT id, b FROM items WHERE id % 3 = 0;
SET enable_seqscan = off;
SET vlake.probes = 30;
SET vlake.rerank_epsilon = 10;
SELECT count(*) FILTER (WHERE g.a IS DISTINCT FROM t.a) AS vlake_table_mismatch
FROM (SELECT q.qid, (SELECT array_agg(d ORDER BY d) FROM (SELECT v.b <~> q.q AS d FROM vitems v
       ORDER BY v.b <~> q.q LIMIT 20) x) AS a FROM queries q) g
JOIN (SELECT q.qid, (SELECT array_agg(d ORDER BY d) FROM (SELECT hamming_distance(i.b, q.q) AS d
       FROM items i ORDER BY 1 LIMIT 20) x) AS a FROM queries q) t USING (qid);
RESET enable_seqscan;
RESET vlake.probes;
RESET vlake.rerank_epsilon;
DROP TABLE vitems;

-- a column stored in the heap's pages (STORAGE PLAIN): the re-rank compares
-- the heap's strings in place (vlake.rerank_from_heap), same answers; rows
-- deleted and not yet vacuumed are still found by their TIDs
ALTER TABLE items RENAME TO items_ext;
CREATE TABLE items (id int, b bit(64000));
ALTER TABLE items ALTER COLUMN b SET STORAGE PLAIN;
INSERT INTO items SELECT id, b FROM items_ext;
CREATE FUNCTION heap_reranked(op text) RETURNS bool
LANGUAGE plpgsql AS $$
DECLARE l text; r bool := false;
BEGIN
  SET LOCAL enable_seqscan = off;
  FOR l IN EXECUTE format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
      SELECT id FROM items ORDER BY b %s (SELECT q FROM queries WHERE qid = 1) LIMIT 5', op) LOOP
    r := r OR l LIKE '%re-ranked from the heap=%';
  END LOOP;
  RETURN r;
END $$;
CREATE INDEX items_ham ON items USING vlake (b bit_hamming_ops) WITH (lists = 30);
SELECT heap_reranked('<~>') AS hamming_heap_reranked;
SELECT exhaustive_mismatch('<~>') AS hamming_heap_mismatch;
SELECT recall('<~>') >= 0.9 AS hamming_heap_recall_ok;
DELETE FROM items WHERE id % 5 = 0;
SELECT exhaustive_mismatch('<~>') AS hamming_heap_deleted_mismatch;
SET vlake.rerank_from_heap = off;
SELECT heap_reranked('<~>') AS hamming_heap_reranked_off;
SELECT exhaustive_mismatch('<~>') AS hamming_vectors_mismatch;
RESET vlake.rerank_from_heap;
DROP INDEX items_ham;
CREATE INDEX items_jac ON items USING vlake (b bit_jaccard_ops) WITH (lists = 30);
SELECT heap_reranked('<%>') AS jaccard_heap_reranked;
SELECT exhaustive_mismatch('<%>') AS jaccard_heap_mismatch;
SELECT recall('<%>') >= 0.9 AS jaccard_heap_recall_ok;
DROP TABLE items;
ALTER TABLE items_ext RENAME TO items;
DROP FUNCTION heap_reranked(text);

DROP TABLE items, queries, centre;
DROP FUNCTION topk_mismatch(text, int), recall(text), exhaustive_mismatch(text),
  rbits(text, int), rbits_n(text, int), noise(text, int);
