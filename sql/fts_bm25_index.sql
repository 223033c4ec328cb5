-- The vlake_bm25 index access method (docs/bm25.md): its scans against an
-- oracle that scores every document in SQL from the analyzer's tokens
-- (the BM25 formula written out with ln()), against the same queries with
-- the index disabled (the operators evaluated per row), and through its
-- delta, tombstones and merge.  The comparison with SQLite FTS5 on a real
-- corpus is TAP 079.
CREATE EXTENSION vlake;
SET extra_float_digits = 0;
SET jit = off;

-- A deterministic corpus: 3,000 documents of 3-40 words from a 60-word
-- vocabulary, skewed (word i drawn with probability falling in i).
CREATE TABLE docs (id int PRIMARY KEY, body text);
CREATE FUNCTION corpus_words() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(w ORDER BY n) FROM unnest(string_to_array(
    'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november '
    'oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basalt '
    'cobalt dune ember fjord granite harbor iris jade kelp lagoon marble nectar onyx pearl quartz '
    'river slate tundra umber violet willow xenon yarrow zinc acorn birch cedar dahlia elm fern',
    ' ')) WITH ORDINALITY AS t(w, n) $$;
CREATE FUNCTION corpus_doc(i int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg((corpus_words())[1 + floor(60 * power(
           (abs(hashint8(i::bigint * 1000 + j)) % 100000) / 100000.0, 2.2))::int], ' ')
    FROM generate_series(1, 3 + abs(hashint4(i)) % 38) j $$;
INSERT INTO docs SELECT i, corpus_doc(i) FROM generate_series(1, 3000) i;
INSERT INTO docs VALUES (3001, NULL), (3002, ''), (3003, '!!! ???');

-- The oracle: FTS5's BM25 (k1 1.2, b 0.75, idf floor 1e-6) in SQL over the
-- tokens of the 'simple' configuration (refresh_toks() after each change);
-- q is scored as the OR of its terms, a term given twice counting twice.
CREATE TABLE toks (id int, term text);
CREATE TABLE dls (id int, dl float8);
CREATE FUNCTION refresh_toks() RETURNS void LANGUAGE sql AS $$
  TRUNCATE toks, dls;
  INSERT INTO toks SELECT d.id, t.term FROM docs d, vlake.fts_tokens(d.body, 'simple') t;
  INSERT INTO dls SELECT d.id, count(t.term) FROM docs d LEFT JOIN toks t USING (id)
    WHERE d.body IS NOT NULL GROUP BY d.id;
  ANALYZE toks, dls; $$;
SELECT refresh_toks();
CREATE FUNCTION oracle(q text) RETURNS TABLE (id int, score float8) LANGUAGE sql STABLE AS $$
  WITH stats AS (SELECT count(*)::float8 AS n, avg(dl) AS avgdl FROM dls),
       qt AS (SELECT term FROM vlake.fts_tokens(q, 'simple')),
       df AS (SELECT term, count(DISTINCT id)::float8 AS df FROM toks WHERE term IN (SELECT term FROM qt) GROUP BY term),
       tf AS (SELECT id, term, count(*)::float8 AS tf FROM toks WHERE term IN (SELECT term FROM qt) GROUP BY id, term),
       idf AS (SELECT term, CASE WHEN ln((s.n - df + 0.5) / (df + 0.5)) <= 0 THEN 1e-6
                                 ELSE ln((s.n - df + 0.5) / (df + 0.5)) END AS idf FROM df, stats s)
  SELECT tf.id, sum(idf.idf * tf.tf * 2.2 / (tf.tf + 1.2 * (1 - 0.75 + 0.75 * dls.dl / s.avgdl)))
    FROM qt JOIN tf USING (term) JOIN idf USING (term) JOIN dls USING (id), stats s GROUP BY tf.id $$;

CREATE INDEX docs_bm25 ON docs USING vlake_bm25 (body) WITH (config = 'simple');
SELECT config, fields, part IS NOT NULL AS has_part, part_docs, delta_docs, tombstones
  FROM vlake.bm25_index_info('docs_bm25');

CREATE TABLE queries (q text);
INSERT INTO queries VALUES ('alpha'), ('zinc'), ('fern'), ('alpha bravo'), ('kelp marble'),
  ('quartz river slate'), ('nosuchword'), ('alpha nosuchword'), ('echo echo');

-- ORDER BY <@> LIMIT 10 uses the index ...
EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY body <@> to_bm25query('kelp marble', 'docs_bm25') LIMIT 10;
-- ... and equals the oracle's top 10 (ties by id) with the same scores.
CREATE FUNCTION check_topk(k int) RETURNS TABLE (q text, same_ids boolean, max_rel_err float8)
LANGUAGE plpgsql AS $$
DECLARE r record; a int[]; b int[]; e float8;
BEGIN
  SET LOCAL enable_seqscan = off;
  FOR r IN SELECT * FROM queries LOOP
    SELECT array_agg(x.id ORDER BY round(x.s::numeric, 9), x.id), max(abs(x.s + o.score) / greatest(o.score, 1e-300))
      INTO a, e
      FROM (SELECT d.id, d.body <@> to_bm25query(r.q, 'docs_bm25') AS s FROM docs d
             ORDER BY d.body <@> to_bm25query(r.q, 'docs_bm25') LIMIT k) x
      LEFT JOIN oracle(r.q) o USING (id)
      WHERE x.s < 0;
    SELECT array_agg(o.id ORDER BY round(-o.score::numeric, 9), o.id) INTO b
      FROM (SELECT * FROM oracle(r.q) ORDER BY score DESC, id LIMIT k) o;
    q := r.q; same_ids := a IS NOT DISTINCT FROM b; max_rel_err := CASE WHEN e < 1e-9 THEN 0 ELSE e END;
    RETURN NEXT;
  END LOOP;
END $$;
SELECT * FROM check_topk(10);
SELECT * FROM check_topk(100);

-- The index's order equals the order of the operators evaluated per row
-- (index disabled), for every row, including rows holding no query term.
CREATE FUNCTION check_order(qq text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; sa float8[]; sb float8[];
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  SELECT array_agg(id), array_agg(s) INTO a, sa FROM
    (SELECT id, body <@> to_bm25query(qq, 'docs_bm25') s FROM docs
      ORDER BY body <@> to_bm25query(qq, 'docs_bm25')) x;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  SELECT array_agg(id), array_agg(s) INTO b, sb FROM
    (SELECT id, body <@> to_bm25query(qq, 'docs_bm25') s FROM docs WHERE body IS NOT NULL
      ORDER BY body <@> to_bm25query(qq, 'docs_bm25'), id) x;
  -- equal scores may come in any order: compare the score lists and the id sets per score
  RETURN sa = sb AND (SELECT bool_and(x) FROM (
    SELECT array_agg(i ORDER BY i) = array_agg(j ORDER BY j) AS x
      FROM unnest(a, sa, b, sb) AS u(i, s, j, t) GROUP BY s) y);
END $$;
SELECT q, check_order(q) FROM queries;

-- WHERE @@@ (FTS5 semantics: implicit AND) returns the matching rows, by
-- an index scan and a bitmap scan, equal to the operator per row.
CREATE FUNCTION check_match(qq text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; c int[];
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
  SELECT array_agg(id ORDER BY id) INTO a FROM docs WHERE body @@@ to_bm25query(qq, 'docs_bm25');
  SET LOCAL enable_bitmapscan = on; SET LOCAL enable_indexscan = off;
  SELECT array_agg(id ORDER BY id) INTO b FROM docs WHERE body @@@ to_bm25query(qq, 'docs_bm25');
  SET LOCAL enable_seqscan = on; SET LOCAL enable_bitmapscan = off;
  SELECT array_agg(id ORDER BY id) INTO c FROM docs WHERE body @@@ to_bm25query(qq, 'docs_bm25');
  RETURN a IS NOT DISTINCT FROM b AND b IS NOT DISTINCT FROM c;
END $$;
SELECT q, check_match(q) FROM (VALUES ('alpha'), ('alpha bravo'), ('kelp OR zinc'), ('alpha NOT bravo'),
  ('"alpha bravo"'), ('(kelp OR zinc) AND alpha'), ('nosuchword')) v(q);
EXPLAIN (COSTS OFF) SELECT id FROM docs WHERE body @@@ 'zinc';
-- the planner's estimate of the matches comes from the index's document
-- frequencies: a frequent term (alpha) is ranked by the ordered scan even at
-- LIMIT 100, as is a rare one
SELECT round(100.0 * count(*) / 3003) AS alpha_pct FROM docs WHERE body @@@ 'alpha';
EXPLAIN (COSTS OFF) SELECT id FROM docs WHERE body @@@ to_bm25query('alpha', 'docs_bm25')
  ORDER BY body <@> to_bm25query('alpha', 'docs_bm25') LIMIT 100;
EXPLAIN (COSTS OFF) SELECT id FROM docs WHERE body @@@ to_bm25query('fern', 'docs_bm25')
  ORDER BY body <@> to_bm25query('fern', 'docs_bm25') LIMIT 100;
SELECT count(*) FROM docs WHERE body @@@ 'zinc';
-- match and rank together: only matches, best first (equal scores in any order)
SET enable_seqscan = off;
SELECT array_agg(round(-s::numeric, 9)) = (SELECT array_agg(round(score::numeric, 9) ORDER BY score DESC)
          FROM oracle('kelp marble') o WHERE o.id IN (SELECT id FROM docs WHERE body @@@ 'kelp marble'))
  AS same_scores
  FROM (SELECT body <@> to_bm25query('kelp marble', 'docs_bm25') s FROM docs
         WHERE body @@@ to_bm25query('kelp marble', 'docs_bm25')
         ORDER BY body <@> to_bm25query('kelp marble', 'docs_bm25') LIMIT 1000) x;
RESET enable_seqscan;

-- Inserts go to the delta and count in the statistics at once.
INSERT INTO docs SELECT i, corpus_doc(i) FROM generate_series(3004, 3300) i;
SELECT refresh_toks();
SELECT part_docs, delta_docs FROM vlake.bm25_index_info('docs_bm25');
SELECT * FROM check_topk(10);
SELECT q, check_order(q) FROM queries WHERE q IN ('zinc', 'kelp marble');
-- An UPDATE is a delete and an insert.
UPDATE docs SET body = body || ' zinc zinc' WHERE id % 97 = 0;
SELECT q, check_match(q) FROM (VALUES ('zinc'), ('zinc zinc')) v(q);
-- VACUUM leaves tombstones; a removed row is never returned, even when its
-- TID is reused.  (Statistics count the removed rows until a merge: the
-- oracle is compared after the merge.)
DELETE FROM docs WHERE id % 5 = 0;
VACUUM docs;
SELECT tombstones > 0 AS has_tombstones FROM vlake.bm25_index_info('docs_bm25');
SELECT q, check_match(q) FROM (VALUES ('alpha'), ('zinc'), ('kelp marble')) v(q);
INSERT INTO docs SELECT i, 'zinc ' || corpus_doc(i) FROM generate_series(3301, 3400) i;
SELECT q, check_match(q) FROM (VALUES ('zinc'), ('alpha')) v(q);
-- The merge folds delta and tombstones into a new part.
SELECT vlake.bm25_merge('docs_bm25');
SELECT part_docs = (SELECT count(*) FROM docs WHERE body IS NOT NULL) AS all_docs, delta_docs, tombstones,
       generation FROM vlake.bm25_index_info('docs_bm25');
SELECT vlake.bm25_merge('docs_bm25');
SELECT refresh_toks();
SELECT * FROM check_topk(10);
SELECT q, check_order(q) FROM queries WHERE q IN ('zinc', 'alpha bravo');

-- text[]: one field per element, weighted
CREATE TABLE art (id int, title text, body text);
INSERT INTO art SELECT i, corpus_doc(i + 10000), corpus_doc(i) FROM generate_series(1, 500) i;
CREATE INDEX art_bm25 ON art USING vlake_bm25 ((ARRAY[title, body])) WITH (config = 'simple', weights = '2, 1');
SELECT config, fields FROM vlake.bm25_index_info('art_bm25');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM art ORDER BY ARRAY[title, body] <@> to_bm25query('zinc', 'art_bm25') LIMIT 5;
-- the oracle: f = 2 x (occurrences in the title) + occurrences in the body,
-- |d| = tokens of both, N = 500
WITH t AS (SELECT id, (SELECT count(*) FROM vlake.fts_tokens(title, 'simple') WHERE term = 'zinc') AS ft,
                  (SELECT count(*) FROM vlake.fts_tokens(body, 'simple') WHERE term = 'zinc') AS fb,
                  (SELECT count(*) FROM vlake.fts_tokens(title, 'simple'))
                + (SELECT count(*) FROM vlake.fts_tokens(body, 'simple')) AS dl FROM art),
     s AS (SELECT count(*)::float8 AS n, avg(dl)::float8 AS avgdl,
                  count(*) FILTER (WHERE ft + fb > 0)::float8 AS df FROM t),
     o AS (SELECT id, greatest(ln((s.n - s.df + 0.5) / (s.df + 0.5)), 1e-6) * (2 * ft + fb) * 2.2
                      / ((2 * ft + fb) + 1.2 * (1 - 0.75 + 0.75 * dl / s.avgdl)) AS score
             FROM t, s WHERE ft + fb > 0 ORDER BY score DESC, id LIMIT 20),
     x AS (SELECT id, ARRAY[title, body] <@> to_bm25query('zinc', 'art_bm25') AS s FROM art
             ORDER BY ARRAY[title, body] <@> to_bm25query('zinc', 'art_bm25') LIMIT 20)
SELECT (SELECT array_agg(round(-s::numeric, 9) ORDER BY s) FROM x)
     = (SELECT array_agg(round(score::numeric, 9) ORDER BY score DESC) FROM o) AS weighted_scores_equal,
       (SELECT count(*) FROM x JOIN o USING (id)) AS same_ids;
RESET enable_seqscan;

-- The index's cached part does not grow with the queries it serves (each
-- search's cursors live in the search's memory).
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM docs ORDER BY body <@> to_bm25query('alpha bravo', 'docs_bm25') LIMIT 10) x;
CREATE TEMP TABLE mem0 AS SELECT sum(total_bytes) AS b FROM pg_backend_memory_contexts WHERE name LIKE 'vlake_bm25%';
DO $$ DECLARE q text; BEGIN
  FOR i IN 1..100 LOOP FOR q IN SELECT unnest(ARRAY['alpha', 'alpha bravo', 'kelp OR zinc', '"alpha bravo"']) LOOP
    PERFORM (SELECT array_agg(id) FROM (SELECT id FROM docs WHERE body @@@ to_bm25query(q, 'docs_bm25')
             ORDER BY body <@> to_bm25query(q, 'docs_bm25') LIMIT 10) x);
  END LOOP; END LOOP; END $$;
SELECT (SELECT sum(total_bytes) FROM pg_backend_memory_contexts WHERE name LIKE 'vlake_bm25%') = b AS cache_not_growing FROM mem0;
RESET enable_seqscan;

-- english (stemming, stop words): |d| counts the stop words (the analyzer's
-- positions), in the index as in the operators; stemmed query terms match
CREATE TABLE en (id int, body text);
INSERT INTO en SELECT i, (ARRAY['The cats are running to the house', 'A running cat', 'Houses of the running dogs',
  'the the the dog', 'Running, ran, runs: the runner ran'])[1 + i % 5] || ' ' || corpus_doc(i)
  FROM generate_series(1, 300) i;
CREATE INDEX en_bm25 ON en USING vlake_bm25 (body);
SELECT config FROM vlake.bm25_index_info('en_bm25');
SET enable_seqscan = off;
CREATE TEMP TABLE en_idx AS SELECT id, round(s::numeric, 9) s FROM (SELECT id, body <@> to_bm25query('cats running house', 'en_bm25') s
  FROM en ORDER BY body <@> to_bm25query('cats running house', 'en_bm25') LIMIT 40) x;
RESET enable_seqscan;
SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT (SELECT array_agg(s ORDER BY s, id) FROM en_idx)
     = (SELECT array_agg(s ORDER BY s, id) FROM (SELECT id, round((body <@> to_bm25query('cats running house', 'en_bm25'))::numeric, 9) s
          FROM en ORDER BY 2, 1 LIMIT 40) y) AS english_scores_equal,
       (SELECT count(*) FROM en WHERE body @@@ to_bm25query('cat AND run', 'en_bm25')) AS stemmed_matches;
RESET enable_indexscan; RESET enable_bitmapscan;
SET enable_seqscan = off;
SELECT count(*) AS stemmed_matches_index FROM en WHERE body @@@ to_bm25query('cat AND run', 'en_bm25');
RESET enable_seqscan;

-- On a vlake table: lake rows (flushed), delta rows, rows a flush moved
-- after the build (their old TIDs lead to them), deletes: the index equals
-- the operators row by row.
CREATE TABLE vt (id int, body text) USING vlake;
INSERT INTO vt SELECT i, corpus_doc(i) FROM generate_series(1, 1500) i;
SELECT vlake.flush('vt') > 0 AS flushed;
INSERT INTO vt SELECT i, corpus_doc(i) FROM generate_series(1501, 1700) i;
CREATE INDEX vt_bm25 ON vt USING vlake_bm25 (body) WITH (config = 'simple');
SELECT vlake.flush('vt') > 0 AS flushed_after_build;
INSERT INTO vt SELECT i, 'zinc ' || corpus_doc(i) FROM generate_series(1701, 1800) i;
DELETE FROM vt WHERE id % 9 = 0;
CREATE FUNCTION check_vt(qq text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a int[]; b int[]; sa float8[]; sb float8[];
BEGIN
  SET LOCAL enable_seqscan = off;
  SELECT array_agg(id ORDER BY id) INTO a FROM vt WHERE body @@@ to_bm25query(qq, 'vt_bm25');
  SELECT array_agg(round(s::numeric, 9)) INTO sa FROM (SELECT body <@> to_bm25query(qq, 'vt_bm25') s FROM vt
    ORDER BY body <@> to_bm25query(qq, 'vt_bm25') LIMIT 30) x;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  SELECT array_agg(id ORDER BY id) INTO b FROM vt WHERE body @@@ to_bm25query(qq, 'vt_bm25');
  SELECT array_agg(round(s::numeric, 9)) INTO sb FROM (SELECT body <@> to_bm25query(qq, 'vt_bm25') s FROM vt
    WHERE body IS NOT NULL ORDER BY body <@> to_bm25query(qq, 'vt_bm25') LIMIT 30) x;
  RETURN a = b AND sa = sb;
END $$;
SELECT q, check_vt(q) FROM (VALUES ('zinc'), ('alpha bravo'), ('kelp OR marble')) v(q);
SELECT vlake.bm25_merge('vt_bm25');
SELECT q, check_vt(q) FROM (VALUES ('zinc'), ('alpha bravo')) v(q);

-- Errors
CREATE INDEX ON docs USING vlake_bm25 (body) WITH (config = 'klingon');
CREATE INDEX ON docs USING vlake_bm25 (body) WITH (weights = '1, 2');
CREATE INDEX ON docs USING vlake_bm25 (body) WITH (weights = '1, x');
CREATE INDEX ON docs USING vlake_bm25 (body) WITH (idf = 'tfidf');
SELECT id FROM docs ORDER BY body <@> to_bm25query('alpha', 'docs_pkey') LIMIT 1;
SET enable_seqscan = off;
SELECT id FROM art ORDER BY ARRAY[title, body] <@> to_bm25query('alpha', 'docs_bm25') LIMIT 1;
SELECT id FROM docs WHERE body @@@ 'alpha AND' LIMIT 1;
RESET enable_seqscan;
-- the Lucene IDF variant is a setting: every score changes, the order of a one-term query does not
ALTER INDEX docs_bm25 SET (idf = 'lucene');
SELECT (SELECT body <@> to_bm25query('alpha', 'docs_bm25') FROM docs WHERE id = 1) < -1e-3 AS lucene_idf_positive;
DROP TABLE docs, art, vt, en;
DROP EXTENSION vlake;
