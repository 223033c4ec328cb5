-- BM25 queries outside an index scan (docs/bm25.md): text/text[] @@@
-- bm25query (FTS5 match semantics) and <@> (needs an index).  The match
-- lists below were checked against SQLite FTS5 on the same documents
-- (simple configuration); TAP 079 compares hundreds of generated queries.
CREATE EXTENSION vlake;

CREATE TABLE docs (id int PRIMARY KEY, body text);
INSERT INTO docs VALUES
  (1, 'a b'), (2, 'c'), (3, 'a c'), (4, 'b c d'), (5, 'd'),
  (6, 'the quick brown fox'), (7, 'brown quick fox, quick brown'),
  (8, 'It''s a fox_hound'), (9, ''), (10, 'Élan ÇA vital');

SET vlake.fts_config = 'simple';
CREATE FUNCTION matches(q text) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM docs WHERE body @@@ q::bm25query $$;
SELECT q, matches(q) FROM (VALUES
  ('a'), ('A'), ('a b'), ('a AND b'), ('a OR b c'), ('d OR a AND b'), ('a AND b OR d'),
  ('c NOT a b'), ('c NOT (a b)'), ('c NOT a'), ('a NOT b NOT c'), ('a OR b NOT c'),
  ('(a OR d) AND (b OR c)'), ('"quick brown"'), ('quick+brown'), ('"brown quick" fox'),
  ('"fox hound"'), ('fox_hound'), ('"It""s"'), ('"it s" OR nothing'), ('elan ca'),
  ('"..." a'), ('"..." AND a'), ('"..." OR d'), ('a NOT "..."'), ('"..."'),
  ('and'), ('near'), ('NEAR')) AS v(q);

-- text[]: one field per element; a phrase does not span two fields
SELECT ARRAY['x y', 'z'] @@@ 'y z'::bm25query AS both_words,
       ARRAY['x y', 'z'] @@@ '"y z"'::bm25query AS spanning_phrase,
       ARRAY['x y z', NULL, 'w'] @@@ '"y z" w'::bm25query AS with_null,
       ARRAY[]::text[] @@@ 'a'::bm25query AS empty_array;

-- english (the default): stemming, and stop words keep their gaps
RESET vlake.fts_config;
SHOW vlake.fts_config;
SELECT 'The running dogs' @@@ 'run' AS stemmed,
       'The running dogs' @@@ '"running dog"' AS phrase,
       'president of the united states' @@@ '"president of the united"' AS gaps,
       'president united states' @@@ '"president of the united"' AS no_gap,
       'the dogs' @@@ 'the dog' AS stop_word_dropped,
       'the dogs' @@@ 'the AND dog' AS explicit_and_with_nothing;
-- NULLs: the operators are strict
SELECT NULL::text @@@ 'a'::bm25query AS null_doc, 'a'::text @@@ NULL::bm25query AS null_query;

-- errors
SELECT 'a' @@@ 'a OR'::bm25query;
SELECT 'a' @@@ 'a (b)'::bm25query;
SELECT 'a' @@@ '"abc'::bm25query;
SELECT 'a' @@@ 'a*'::bm25query;
SELECT 'a' @@@ 'body:a'::bm25query;
SELECT 'a' @@@ 'NEAR(a b)'::bm25query;
SELECT 'a' @@@ '^a'::bm25query;
SELECT 'a' @@@ (SELECT string_agg('w', ' OR ') FROM generate_series(1, 65))::bm25query;
SELECT 'a' <@> 'a'::bm25query;
SELECT ARRAY['a'] <@> 'it''s'::bm25query;
SELECT 'a' @@@ to_bm25query('a', 'docs_pkey');
SET vlake.fts_config = 'klingon';
SELECT 'a' @@@ 'a'::bm25query;
RESET vlake.fts_config;

DROP TABLE docs;
DROP FUNCTION matches(text);
DROP EXTENSION vlake CASCADE;
