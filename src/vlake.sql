-- vlake extension install script.  Built by concatenating src/vlake.sql and
-- each layer's src/<layer>/<layer>.sql in layer order (see Makefile).
--
-- Types, operators and operator classes are created in the schema chosen by
-- CREATE EXTENSION (public by default, as pgvector does, so existing queries
-- keep working).  Administrative functions live in the schema "vlake".
\echo Use "CREATE EXTENSION vlake" to load this file. \quit

CREATE SCHEMA IF NOT EXISTS vlake;
GRANT USAGE ON SCHEMA vlake TO PUBLIC;

CREATE FUNCTION vlake.version() RETURNS text
    AS 'MODULE_PATHNAME', 'vlake_version' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
