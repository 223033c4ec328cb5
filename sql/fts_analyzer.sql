-- The full-text analyzer's SQL surface (docs/fulltext.md): vlake.fts_tokens
-- and vlake.fts_configs, their defaults, positions around stop words, NULLs,
-- and clear errors.  Its agreement with SQLite FTS5 and Snowball is TAP 078.
-- Each regress test has its own database: create (and drop) the extension.
CREATE EXTENSION vlake;

-- simple: FTS5 unicode61 tokens (letters, digits, private use; folded;
-- one diacritic removed)
SELECT * FROM vlake.fts_tokens('Hello, World! foo_bar x1y2 Éléphant ǖ naïve', 'simple');
-- the default is english: stop words leave their positions empty
SELECT * FROM vlake.fts_tokens('The quick brown foxes jumped over the lazy dogs');
-- a phrase keeps its gaps: "of the" are stop words in both
SELECT array_agg(position ORDER BY position) FROM vlake.fts_tokens('president of the united states');
SELECT * FROM vlake.fts_tokens('Häuser über Bücher', 'german');
-- nothing to split
SELECT count(*) FROM vlake.fts_tokens('', 'simple');
SELECT count(*) FROM vlake.fts_tokens(' -- ,,, ', 'english');
SELECT count(*) FROM vlake.fts_tokens(NULL, 'english');
SELECT count(*) FROM vlake.fts_tokens('x', NULL);
-- a long document: 100,000 tokens, positions 0..99999
SELECT count(*), min(position), max(position), count(DISTINCT term)
  FROM vlake.fts_tokens(repeat('Alpha beta, ', 50000), 'simple');

-- configurations
SELECT config, stemmer, stop_words, stop_word_count > 0 AS has_stop_words
  FROM vlake.fts_configs() WHERE config IN ('simple', 'english', 'german', 'porter', 'arabic')
  ORDER BY config;
SELECT count(*) >= 20 AS many_languages FROM vlake.fts_configs();

-- errors name the configuration
SELECT * FROM vlake.fts_tokens('x', 'klingon');
SELECT * FROM vlake.fts_tokens('x', 'English');
SELECT * FROM vlake.fts_tokens('x', '');

DROP EXTENSION vlake;
