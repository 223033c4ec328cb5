-- Hybrid queries over a dense branch (vlake index) and a BM25 branch (the
-- vlake_bm25 index, <@>) with filters (docs/hybrid.md).  Oracle: the same
-- fusion in plain SQL over the complete rankings: every filtered row's
-- <@> and distance computed row by row (no index), row_number() over each
-- with ctid as the tie-break, a BM25 branch ranking the documents with a
-- score (<@> < 0).  <@> itself is checked against SQLite FTS5 in TAP 080.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;

SELECT setseed(0.75);
CREATE TABLE docs (id int PRIMARY KEY, lang text, tag int, meta jsonb, body text, emb vector(4));
-- word w drawn with probability ~ 1/w (Zipf-like), 3 to 25 words per doc
INSERT INTO docs
SELECT i, (ARRAY['en', 'de'])[1 + i % 2], i % 5, jsonb_build_object('tag', i % 4),
       (SELECT string_agg((ARRAY['alpha','bravo','charlie','delta','echo','foxtrot','golf','hotel','india','juliet',
                                 'kilo','lima','mike','november','oscar','papa','quebec','romeo','sierra','tango',
                                 'uniform','victor','whiskey','xray','yankee','zulu','red','green','blue','amber'])
                          [1 + (floor(30 ^ random() - 1)::int + g * 0) % 30], ' ')
        FROM generate_series(1, 3 + (i * 7) % 23) g),
       ARRAY[random(), random(), random(), random()]::vector
FROM generate_series(1, 2000) i;
CREATE INDEX docs_body_idx ON docs USING vlake_bm25 (body) WITH (config = 'simple');
CREATE INDEX docs_emb_idx ON docs USING vlake (emb vector_cosine_ops) WITH (lists = 4);
ANALYZE docs;
SET vlake.probes = 4;
SET vlake.rerank_epsilon = 10;

CREATE FUNCTION oracle(method text, q vector, t text, filter text, lim int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE res int[];
BEGIN
  EXECUTE format($q$
    WITH b1 AS (SELECT ctid AS t, emb <=> %1$L::vector AS d, row_number() OVER (ORDER BY emb <=> %1$L::vector, ctid) AS r
                FROM docs WHERE %3$s),
         b2 AS (SELECT t, d, row_number() OVER (ORDER BY d, t) AS r FROM (
                  SELECT ctid AS t, body <@> to_bm25query(%2$L, 'docs_body_idx') AS d FROM docs WHERE %3$s) s WHERE d < 0)
    SELECT array_agg(id ORDER BY f DESC, ctid) FROM (
      SELECT x.id, x.ctid, %4$s AS f
      FROM docs x LEFT JOIN b1 ON b1.t = x.ctid LEFT JOIN b2 ON b2.t = x.ctid
      WHERE b1.r IS NOT NULL OR b2.r IS NOT NULL ORDER BY f DESC, x.ctid LIMIT %5$s) z$q$,
    q, t, filter,
    CASE method WHEN 'rrf' THEN '0::float8 + coalesce(1::float8 / (60 + b1.r), 0) + coalesce(1::float8 / (60 + b2.r), 0)'
      ELSE '0::float8 + coalesce(CASE WHEN (SELECT greatest(-d, -2) FROM b1 WHERE r = 1) > -2 THEN 1::float8 * ((greatest(-b1.d, -2) - -2) / ((SELECT greatest(-d, -2) FROM b1 WHERE r = 1) - -2)) ELSE 0 END, 0)'
           ' + coalesce(CASE WHEN (SELECT greatest(-d, 0) FROM b2 WHERE r = 1) > 0 THEN 1::float8 * ((greatest(-b2.d, 0) - 0) / ((SELECT greatest(-d, 0) FROM b2 WHERE r = 1) - 0)) ELSE 0 END, 0)' END,
    lim) INTO res;
  RETURN coalesce(res, '{}');
END $$;
CREATE FUNCTION hybrid(method text, q vector, t text, filter text, lim int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE res int[];
BEGIN
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM docs WHERE %s '
                 'ORDER BY vlake.%s(emb <=> %L::vector, body <@> to_bm25query(%L, %L)) LIMIT %s) z',
                 filter, CASE method WHEN 'rrf' THEN 'rrf' ELSE 'fuse' END, q, t, 'docs_body_idx', lim) INTO res;
  RETURN coalesce(res, '{}');
END $$;

-- both branches are index scans, the filter in both
EXPLAIN (COSTS OFF)
SELECT id FROM docs WHERE lang = 'en'
ORDER BY vlake.rrf(emb <=> '[1,0,0,0]', body <@> to_bm25query('golf OR hotel', 'docs_body_idx')) LIMIT 10;

CREATE TABLE cases AS
SELECT n, (ARRAY['rrf', 'fuse'])[1 + n % 2] AS method,
       ARRAY[random(), random(), random(), random()]::vector AS q,
       (ARRAY['alpha', 'golf', 'zulu', 'kilo OR lima', 'bravo charlie', '"alpha bravo"', 'delta NOT echo',
              'red OR green OR blue', '(india OR juliet) AND alpha', 'amber'])[1 + n % 10] AS t,
       (ARRAY['true', 'lang = ''en''', 'meta @> ''{"tag": 1}''', 'tag < 2 AND lang = ''de''', 'id < 0'])[1 + n % 5] AS filter,
       (ARRAY[10, 1, 25, 5])[1 + n % 4] AS lim
FROM generate_series(1, 60) n;

SELECT n, method, t, filter, lim, hybrid(method, q, t, filter, lim) AS got, oracle(method, q, t, filter, lim) AS want
FROM cases WHERE hybrid(method, q, t, filter, lim) IS DISTINCT FROM oracle(method, q, t, filter, lim);
SELECT count(*) AS cases,
       count(*) FILTER (WHERE cardinality(hybrid(method, q, t, filter, lim)) = lim) AS full_k
FROM cases;

-- the text filter @@@ as a WHERE clause holds in both branches
SELECT hybrid('rrf', '[0.1,0.9,0.2,0.3]', 'golf OR hotel', $$body @@@ to_bm25query('golf AND hotel', 'docs_body_idx')$$, 10)
     = oracle('rrf', '[0.1,0.9,0.2,0.3]', 'golf OR hotel', $$body @@@ to_bm25query('golf AND hotel', 'docs_body_idx')$$, 10) AS with_match_filter;
