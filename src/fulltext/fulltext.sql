
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

-- ---- BM25 queries and operators (docs/bm25.md) ----
-- A full-text query in SQLite FTS5's query syntax, with the vlake_bm25 index
-- whose configuration and statistics score it (to_bm25query).  Its text
-- form is the query alone.
CREATE TYPE bm25query;
CREATE FUNCTION bm25query_in(cstring) RETURNS bm25query
    AS 'MODULE_PATHNAME', 'vlake_bm25query_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bm25query_out(bm25query) RETURNS cstring
    AS 'MODULE_PATHNAME', 'vlake_bm25query_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bm25query_recv(internal) RETURNS bm25query
    AS 'MODULE_PATHNAME', 'vlake_bm25query_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bm25query_send(bm25query) RETURNS bytea
    AS 'MODULE_PATHNAME', 'vlake_bm25query_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE bm25query (
    INPUT = bm25query_in, OUTPUT = bm25query_out,
    RECEIVE = bm25query_recv, SEND = bm25query_send,
    INTERNALLENGTH = VARIABLE, STORAGE = extended, ALIGNMENT = int4);

CREATE FUNCTION to_bm25query(query text, index regclass) RETURNS bm25query
    AS 'MODULE_PATHNAME', 'vlake_to_bm25query' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- Outside an index scan: does the document match (FTS5 semantics), and minus
-- its BM25 score under the named index's statistics (FTS5's bm25() sign:
-- lower is better).  A text[] document is one field per element.
CREATE FUNCTION bm25_match_text(doc text, query bm25query) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_bm25_match_text' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bm25_match_array(doc text[], query bm25query) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_bm25_match_array' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bm25_score_text(doc text, query bm25query) RETURNS float8
    AS 'MODULE_PATHNAME', 'vlake_bm25_score_text' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bm25_score_array(doc text[], query bm25query) RETURNS float8
    AS 'MODULE_PATHNAME', 'vlake_bm25_score_array' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The planner's estimate of the rows doc @@@ q matches: from the document
-- frequencies of the index the query names, else 0.1%.
CREATE FUNCTION bm25_matchsel(internal, oid, internal, integer) RETURNS float8
    AS 'MODULE_PATHNAME', 'vlake_bm25_matchsel' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE OPERATOR @@@ (LEFTARG = text, RIGHTARG = bm25query, PROCEDURE = bm25_match_text,
    RESTRICT = bm25_matchsel, JOIN = contjoinsel);
CREATE OPERATOR @@@ (LEFTARG = text[], RIGHTARG = bm25query, PROCEDURE = bm25_match_array,
    RESTRICT = bm25_matchsel, JOIN = contjoinsel);
CREATE OPERATOR <@> (LEFTARG = text, RIGHTARG = bm25query, PROCEDURE = bm25_score_text);
CREATE OPERATOR <@> (LEFTARG = text[], RIGHTARG = bm25query, PROCEDURE = bm25_score_array);

-- ---- the vlake_bm25 index access method (docs/bm25.md) ----
CREATE FUNCTION vlake_bm25_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME', 'vlake_bm25_handler' LANGUAGE C;
CREATE ACCESS METHOD vlake_bm25 TYPE INDEX HANDLER vlake_bm25_handler;
COMMENT ON ACCESS METHOD vlake_bm25 IS 'BM25 full-text index: postings in the lake, WAL-logged delta';

CREATE OPERATOR CLASS bm25_text_ops DEFAULT FOR TYPE text USING vlake_bm25 AS
    OPERATOR 1 @@@ (text, bm25query),
    OPERATOR 2 <@> (text, bm25query) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS bm25_text_array_ops DEFAULT FOR TYPE text[] USING vlake_bm25 AS
    OPERATOR 1 @@@ (text[], bm25query),
    OPERATOR 2 <@> (text[], bm25query) FOR ORDER BY float_ops;

-- ---- vlake_sparse: exact inner-product top-k over sparsevec (docs/bm25-index.md) ----
-- The vlake_bm25 machinery with impacts instead of positions: ORDER BY emb <#> q.
CREATE FUNCTION vlake_sparse_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME', 'vlake_sparse_handler' LANGUAGE C;
CREATE ACCESS METHOD vlake_sparse TYPE INDEX HANDLER vlake_sparse_handler;
COMMENT ON ACCESS METHOD vlake_sparse IS 'sparse-vector inner-product index (learned sparse retrieval) on the BM25 postings engine';
CREATE OPERATOR CLASS sparsevec_ip_ops DEFAULT FOR TYPE sparsevec USING vlake_sparse AS
    OPERATOR 1 <#> (sparsevec, sparsevec) FOR ORDER BY float_ops;

-- Fold an index's delta and tombstones into a new lake part (the database
-- workers do it when vlake.bm25_merge_threshold documents are pending).
CREATE FUNCTION vlake.bm25_merge(index regclass) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_bm25_merge' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION vlake.bm25_index_info(index regclass,
    OUT config text, OUT fields int, OUT location text, OUT part text,
    OUT part_docs bigint, OUT part_bytes bigint, OUT delta_docs bigint,
    OUT delta_bytes bigint, OUT tombstones bigint, OUT generation bigint)
    AS 'MODULE_PATHNAME', 'vlake_bm25_index_info' LANGUAGE C STRICT STABLE;
