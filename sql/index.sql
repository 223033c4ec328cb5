-- vlake index: recall against exact search, writes after the build,
-- VACUUM, EXPLAIN counters and bad lake files.
-- Each regress test has its own database: create (and drop) the extension.
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/index_regress' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';

-- 3000 clustered 32-d vectors (40 clusters) and 40 queries, deterministic.
CREATE TABLE items (id int PRIMARY KEY, cat int, embedding vector(32));
INSERT INTO items
SELECT i, i % 100,
       (SELECT array_agg(sin((i % 40) * 13.7 + j * 0.9) * 4 + sin(i * 7.31 + j * 3.17) * 0.8
                         ORDER BY j)::real[]::vector
        FROM generate_series(1, 32) j)
FROM generate_series(1, 3000) i;
CREATE TABLE queries (qid int, embedding vector(32));
INSERT INTO queries
SELECT q, (SELECT array_agg(sin((q % 40) * 13.7 + j * 0.9) * 4 + cos(q * 5.11 + j * 1.3) * 0.9
                            ORDER BY j)::real[]::vector
           FROM generate_series(1, 32) j)
FROM generate_series(1, 40) q;

-- recall@10 of the index against a sequential scan, for one operator
CREATE FUNCTION recall(op text, col text DEFAULT 'embedding') RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  EXECUTE format('CREATE TEMP TABLE truth AS SELECT q.qid, x.id FROM queries q,
     LATERAL (SELECT id FROM items ORDER BY %I %s q.embedding::%s LIMIT 10) x',
     col, op, CASE WHEN col = 'embedding' THEN 'vector' ELSE 'halfvec' END);
  SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = off;
  EXECUTE format('CREATE TEMP TABLE got AS SELECT q.qid, x.id FROM queries q,
     LATERAL (SELECT id FROM items ORDER BY %I %s q.embedding::%s LIMIT 10) x',
     col, op, CASE WHEN col = 'embedding' THEN 'vector' ELSE 'halfvec' END);
  SELECT count(*) / 400.0 INTO r FROM truth JOIN got USING (qid, id);
  DROP TABLE truth; DROP TABLE got;
  RETURN r;
END $$;

CREATE INDEX items_l2 ON items USING vlake (embedding vector_l2_ops);
SELECT metric, dims, lists, lake_vectors, delta_vectors, tombstones, array_length(files, 1)
  FROM vlake.index_info('items_l2');
-- the plan uses the index
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1) LIMIT 10;
RESET enable_seqscan;
SELECT recall('<->') >= 0.95 AS l2_recall_ok;
-- with every list probed and a wide error bound (6 sigma), the
-- bound-driven re-rank is exact
SET vlake.probes = 1000;
SET vlake.rerank_epsilon = 6;
SELECT recall('<->') = 1 AS l2_exhaustive_exact;
RESET vlake.probes;
RESET vlake.rerank_epsilon;
DROP INDEX items_l2;

CREATE INDEX items_ip ON items USING vlake (embedding vector_ip_ops) WITH (lists = 30);
SELECT recall('<#>') >= 0.95 AS ip_recall_ok;
DROP INDEX items_ip;
CREATE INDEX items_cos ON items USING vlake (embedding vector_cosine_ops);
SELECT recall('<=>') >= 0.95 AS cosine_recall_ok;
DROP INDEX items_cos;

ALTER TABLE items ADD COLUMN h halfvec(32);
UPDATE items SET h = embedding::halfvec;
CREATE INDEX items_h_l2 ON items USING vlake (h halfvec_l2_ops);
SELECT recall('<->', 'h') >= 0.95 AS halfvec_l2_recall_ok;
DROP INDEX items_h_l2;
CREATE INDEX items_h_ip ON items USING vlake (h halfvec_ip_ops);
SELECT recall('<#>', 'h') >= 0.95 AS halfvec_ip_recall_ok;
DROP INDEX items_h_ip;
CREATE INDEX items_h_cos ON items USING vlake (h halfvec_cosine_ops);
SELECT recall('<=>', 'h') >= 0.95 AS halfvec_cosine_recall_ok;
DROP INDEX items_h_cos;
ALTER TABLE items DROP COLUMN h;

-- writes after the build
CREATE INDEX items_l2 ON items USING vlake (embedding vector_l2_ops);
SET enable_seqscan = off;
-- a row inserted after the build is found (it is its own nearest neighbour)
INSERT INTO items VALUES (5001, 1, (SELECT array_agg(j * 100.0)::real[]::vector FROM generate_series(1, 32) j));
SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 5001) LIMIT 1;
SELECT delta_vectors FROM vlake.index_info('items_l2');
-- deleted rows are never returned, also after VACUUM reuses their slots
DELETE FROM items WHERE id IN (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 3) LIMIT 5);
DELETE FROM items WHERE id = 5001;
VACUUM items;
SELECT tombstones >= 5 AS tombstoned FROM vlake.index_info('items_l2');
SELECT count(*) AS deleted_returned FROM (
  SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 3) LIMIT 10) x
  WHERE id NOT IN (SELECT id FROM items);
-- new rows land in the freed slots; each is found with its own vector
INSERT INTO items SELECT 6000 + i, 1, (SELECT array_agg(j * -50.0 - i)::real[]::vector FROM generate_series(1, 32) j)
  FROM generate_series(1, 6) i;
SELECT bool_and((SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) = i1.id) AS inserted_found
  FROM items i1 WHERE id > 6000;
-- the new rows are far away: a stale lake entry for a reused slot would
-- surface here with the deleted row's distance
SELECT count(*) AS stale_returned FROM (
  SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 3) LIMIT 10) x
  WHERE id > 6000;
RESET enable_seqscan;
SELECT recall('<->') >= 0.95 AS recall_after_writes;

-- vlake.merge folds the delta and the tombstones into a new lake part
SELECT lake_vectors AS before_lake, delta_vectors AS before_delta, generation AS before_gen
  FROM vlake.index_info('items_l2') \gset
SELECT vlake.merge('items_l2') = (SELECT count(*) FROM items) AS merged_all_rows;
SELECT lake_vectors = (SELECT count(*) FROM items) AS lake_has_all, delta_vectors, tombstones,
       generation = :before_gen + 1 AS new_generation
  FROM vlake.index_info('items_l2');
SET enable_seqscan = off;
SELECT bool_and((SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) = i1.id) AS merged_rows_found
  FROM items i1 WHERE id > 6000;
SELECT count(*) AS stale_after_merge FROM (
  SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 3) LIMIT 10) x
  WHERE id > 6000;
RESET enable_seqscan;
SELECT recall('<->') >= 0.95 AS recall_after_merge;
-- nothing to fold: no new part
SELECT vlake.merge('items_l2') = (SELECT count(*) FROM items) AS noop_merge,
       (SELECT generation FROM vlake.index_info('items_l2')) = :before_gen + 1 AS same_generation;

-- an index built on an empty table: everything goes to the delta; the
-- first merge clusters it into a lake part
CREATE TABLE later (id int, embedding vector(32));
CREATE INDEX later_idx ON later USING vlake (embedding vector_cosine_ops);
INSERT INTO later SELECT id, embedding FROM items WHERE id <= 2000;
SELECT lists, lake_vectors, delta_vectors FROM vlake.index_info('later_idx');
SELECT vlake.merge('later_idx');
SELECT lists > 0 AS clustered, lake_vectors, delta_vectors FROM vlake.index_info('later_idx');
SET enable_seqscan = off;
SELECT bool_and((SELECT l2.id FROM later l2 ORDER BY l2.embedding <=> l1.embedding LIMIT 1) = l1.id) AS self_found
  FROM later l1 WHERE id % 50 = 0;
RESET enable_seqscan;
DROP TABLE later;

-- filtered queries return k rows whenever k rows match (iterative scan)
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT count(*) AS filtered_rows FROM (
  SELECT id FROM items WHERE cat = 7 ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1) LIMIT 10) x;
RESET enable_seqscan; RESET enable_bitmapscan;

-- EXPLAIN ANALYZE shows what the scan did
SET enable_seqscan = off;
CREATE FUNCTION explain_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF l LIKE 'vlake%' THEN RETURN NEXT regexp_replace(l, '=[0-9]+', '=N', 'g'); END IF;
  END LOOP;
END $$;
SELECT explain_lines('SELECT id FROM items ORDER BY embedding <-> ''[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32]'' LIMIT 5');
-- in JSON: a "vlake" object after the plan; the counters add up (lists were
-- probed, rows re-ranked, and the re-rank vectors came through ObjStore:
-- from its memory tier, the local cache or the lake)
CREATE FUNCTION explain_json(q text) RETURNS json LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO j;
  RETURN j;
END $$;
WITH e AS (SELECT explain_json('SELECT id FROM items ORDER BY embedding <-> ''[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32]'' LIMIT 5') -> 1 AS v)
SELECT (v->>'Index Scans')::int AS scans, (v->>'Lists Probed')::int > 0 AS probed,
       (v->>'Re-ranked')::int >= 5 AS reranked,
       (v->>'Object Store Memory Bytes')::bigint + (v->>'Local Cache Bytes')::bigint
         + (v->>'Lake Bytes')::bigint > 0 AS vectors_read
  FROM e;
DROP FUNCTION explain_json;
-- vlake.rerank_min widens the first re-rank batch
CREATE FUNCTION reranked(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF l LIKE 'vlake index:%' THEN RETURN substring(l from 're-ranked=([0-9]+)')::int; END IF;
  END LOOP;
END $$;
SET vlake.rerank_min = 200;
SELECT reranked('SELECT id FROM items ORDER BY embedding <-> ''[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32]'' LIMIT 5') >= 200 AS rerank_min_honoured;
RESET vlake.rerank_min;
DROP FUNCTION reranked;
RESET enable_seqscan;

-- prewarm loads every list into this backend
SELECT vlake.prewarm('items_l2') > 0 AS prewarmed;

-- bad lake files: a clear ERROR naming the file.  (index.meta is also
-- copied into the index relation, so queries do not read the file; the
-- codes and the re-rank vectors are read from the lake.)
SELECT location || '/' || files[2] AS codes_uri, location || '/' || files[3] AS vecs_uri
  FROM vlake.index_info('items_l2') \gset
\set codes_path `echo :'codes_uri' | sed "s|^file://||"`
\set vecs_path `echo :'vecs_uri' | sed "s|^file://||"`
\setenv CODES_PATH :codes_path
\setenv VECS_PATH :vecs_path
-- a new backend has no warm copy
\c
SET vlake.default_location = :'lakeuri';
\! cp -p "$VECS_PATH" "$VECS_PATH.orig"
\! truncate -s 100 "$VECS_PATH"
\set VERBOSITY terse
SET enable_seqscan = off;
SELECT regexp_replace(:'vecs_path', '.*/', '') AS truncated_file;
DO $$ BEGIN
  PERFORM id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1) LIMIT 1;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '"[^"]*/vlake_index/[^"]*/', '"…/', 'g');
END $$;
-- put the bytes and the timestamp back (same inode: the same version again)
\! cp "$VECS_PATH.orig" "$VECS_PATH" && touch -r "$VECS_PATH.orig" "$VECS_PATH"
-- a flipped byte in the codes of the first list (all lists probed): the
-- file's version (size, ETag) no longer matches what index.meta recorded
\! touch -r "$CODES_PATH" "$CODES_PATH.ref"
\! printf 'X' | dd of="$CODES_PATH" bs=1 seek=200 conv=notrunc status=none
\c
SET vlake.default_location = :'lakeuri';
SET enable_seqscan = off;
SET vlake.probes = 1000;
DO $$ BEGIN
  PERFORM id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1) LIMIT 1;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '"[^"]*/vlake_index/[^"]*/', '"…/', 'g');
END $$;
-- the same corruption with the file's timestamp restored (same version as
-- far as the store can tell): the list checksum catches it
\! touch -r "$CODES_PATH.ref" "$CODES_PATH"
DO $$ BEGIN
  PERFORM id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1) LIMIT 1;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '"[^"]*/vlake_index/[^"]*/', '"…/', 'g');
END $$;
RESET vlake.probes;
-- a missing file (in a new backend: the old one keeps its warm copy)
\! rm -f "$CODES_PATH"
\c
SET vlake.default_location = :'lakeuri';
SET enable_seqscan = off;
DO $$ BEGIN
  PERFORM id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1) LIMIT 1;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'error: %', regexp_replace(SQLERRM, '"[^"]*/vlake_index/[^"]*/', '"…/', 'g');
END $$;
-- REINDEX writes a fresh set of files and the index works again
REINDEX INDEX items_l2;
SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1) LIMIT 10) x;
RESET enable_seqscan;
\set VERBOSITY default

-- REINDEX CONCURRENTLY builds a new index (new files) and swaps it in
SELECT files[1] AS old_meta FROM vlake.index_info('items_l2') \gset
REINDEX INDEX CONCURRENTLY items_l2;
SELECT files[1] <> :'old_meta' AS new_files FROM vlake.index_info('items_l2');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 2) LIMIT 10) x;
RESET enable_seqscan;

-- unlogged tables (init fork metapage) and TRUNCATE
CREATE UNLOGGED TABLE u (id int, embedding vector);
CREATE INDEX u_idx ON u USING vlake (embedding vector_l2_ops);
INSERT INTO u VALUES (1, '[1,1,1]'), (2, '[5,5,5]'), (3, '[9,9,9]');
SET enable_seqscan = off;
SELECT id FROM u ORDER BY embedding <-> '[4,4,4]' LIMIT 2;
TRUNCATE u;
INSERT INTO u VALUES (4, '[0,0,1]');
SELECT id FROM u ORDER BY embedding <-> '[4,4,4]' LIMIT 2;
-- a vector of another dimension is refused
INSERT INTO u VALUES (5, '[1,2]');
RESET enable_seqscan;
DROP TABLE u;

-- only the owner may merge; SELECT is needed to prewarm or inspect
CREATE ROLE vlake_index_reader;
SET ROLE vlake_index_reader;
SELECT vlake.merge('items_l2');
SELECT vlake.prewarm('items_l2');
RESET ROLE;
DROP ROLE vlake_index_reader;

-- garbage collection: parts no index of this database names any more
-- (REINDEX, merges, the corrupted part, dropped indexes) are retired by
-- one pass and deleted by a later one, once no snapshot can need them;
-- the files of the current parts stay
SELECT count(*) AS removed_by_first_pass FROM vlake.index_gc(:'lakeuri');
-- with a long min_age nothing retired is old enough
SELECT count(*) AS young_removed FROM vlake.index_gc(:'lakeuri', '1 day');
-- passes, each in its own transaction, until nothing is left to remove
-- (a snapshot another session holds only delays this)
CREATE TEMP TABLE gc_log (pass int, uri text);
CREATE PROCEDURE gc_until_clean(loc text) LANGUAGE plpgsql AS $$
DECLARE idle int := 0;
BEGIN
  FOR n IN 1..100 LOOP
    INSERT INTO gc_log SELECT n, g FROM vlake.index_gc(loc, dry_run => true) g;
    INSERT INTO gc_log SELECT -n, g FROM vlake.index_gc(loc) g;
    COMMIT;
    IF EXISTS (SELECT FROM gc_log WHERE pass = -n) THEN idle := 0; ELSE idle := idle + 1; END IF;
    EXIT WHEN idle >= 3 AND EXISTS (SELECT FROM gc_log WHERE pass < 0);
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
CALL gc_until_clean(:'lakeuri');
SELECT count(*) > 0 AS removed FROM gc_log WHERE pass < 0;
-- a dry run lists exactly what the same pass then deletes
SELECT count(*) AS dry_run_mismatch FROM
  (SELECT abs(pass), uri FROM gc_log WHERE pass > 0
   EXCEPT SELECT abs(pass), uri FROM gc_log WHERE pass < 0) x;
SELECT count(*) AS current_files_removed
  FROM gc_log g, vlake.index_info('items_l2') i
  WHERE g.uri LIKE '%' || i.files[1] OR g.uri LIKE '%' || i.files[2] OR g.uri LIKE '%' || i.files[3];
SELECT count(*) AS left_over FROM vlake.index_gc(:'lakeuri', '0', true);
DROP PROCEDURE gc_until_clean;
-- every part left is one a metapage names
SELECT state, count(*) FROM vlake.index_gc_parts(:'lakeuri') GROUP BY state;
SELECT count(*) AS parts_not_named FROM vlake.index_gc_parts(:'lakeuri') p
  WHERE NOT EXISTS (SELECT FROM pg_class c JOIN pg_am a ON a.oid = c.relam, vlake.index_info(c.oid) i
                    WHERE a.amname = 'vlake' AND c.relkind = 'i' AND p.part LIKE '%' || split_part(i.files[1], '/index.meta', 1));
\c
SET vlake.default_location = :'lakeuri';
SET enable_seqscan = off;
SELECT count(*) AS after_gc FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 4) LIMIT 10) x;
SET vlake.probes = 1000;
SELECT count(*) AS after_gc_all_lists FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 4) LIMIT 10) x;
RESET vlake.probes;
RESET enable_seqscan;
-- only superusers
CREATE ROLE vlake_index_nobody;
SET ROLE vlake_index_nobody;
SELECT vlake.index_gc(:'lakeuri');
SELECT vlake.index_gc_parts(:'lakeuri');
RESET ROLE;
DROP ROLE vlake_index_nobody;

-- a location must be a root the object store serves
CREATE INDEX ON items USING vlake (embedding vector_l2_ops) WITH (location = 'http://example.com/lake/');
CREATE INDEX ON items USING vlake (embedding vector_l2_ops) WITH (location = 'file://relative/dir/');
SET vlake.default_location = 'ftp://example.com/lake/';
SET vlake.default_location = 'file:///a/../b/';

-- no location configured: the embedded lake under the data directory
SET vlake.default_location = '';
CREATE INDEX ON items USING vlake (embedding vector_l2_ops);
SELECT location LIKE 'file:///%/vlake_lake/' AS embedded_lake,
       lake_vectors = (SELECT count(*) FROM items) AS all_rows
FROM vlake.index_info('items_embedding_idx');

DROP TABLE items, queries;
DROP FUNCTION recall, explain_lines;
DROP EXTENSION vlake CASCADE;
