
-- ---- full text (src/fulltext/, docs/fulltext.md) ----
-- The analyzer: a text's terms with their positions (index of the token in
-- the text, stop words counted, from 0) under a configuration: 'simple'
-- (SQLite FTS5 unicode61 tokens: no stop words, no stemming) or a Snowball
-- language with the server's stop word list.
CREATE FUNCTION vlake.fts_tokens(doc text, config text DEFAULT 'english',
    OUT "position" int, OUT term text) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_fts_tokens' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

-- The configurations: 'simple', then every libstemmer language; stop_words
-- is the stop word file a language uses, under the server's share directory
-- ($(pg_config --sharedir)), NULL for none.
CREATE FUNCTION vlake.fts_configs(OUT config text, OUT stemmer text,
    OUT stop_words text, OUT stop_word_count int) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_fts_configs' LANGUAGE C STRICT STABLE PARALLEL SAFE;
