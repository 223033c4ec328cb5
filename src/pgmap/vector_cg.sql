-- formats layer: take by row number from vector ColumnGroups (parquet-codec).
-- See docs/parquet-layout.md.  Reading goes through the object store, so
-- file:// stays confined to vlake.allowed_file_roots.

CREATE FUNCTION vlake.vector_cg_take(uri text, row_numbers bigint[], column_name text DEFAULT NULL)
    RETURNS TABLE(ord integer, row_number bigint, embedding real[])
    AS 'MODULE_PATHNAME', 'vlake_vector_cg_take' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION vlake.vector_cg_take(text, bigint[], text) IS
    'rows of a vector ColumnGroup (or any take-able Parquet column) by 0-based row number, fetching only their byte ranges';

CREATE FUNCTION vlake.vector_cg_scan(uri text, column_name text DEFAULT NULL)
    RETURNS TABLE(row_number bigint, embedding real[])
    AS 'MODULE_PATHNAME', 'vlake_vector_cg_scan' LANGUAGE C VOLATILE CALLED ON NULL INPUT;

CREATE FUNCTION vlake.vector_cg_bench(uri text, column_name text, ntake integer, repeats integer,
    OUT operation text, OUT best_ms float8, OUT median_ms float8, OUT bytes bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_vector_cg_bench' LANGUAGE C VOLATILE CALLED ON NULL INPUT;

REVOKE ALL ON FUNCTION vlake.vector_cg_take(text, bigint[], text), vlake.vector_cg_scan(text, text),
    vlake.vector_cg_bench(text, text, integer, integer) FROM PUBLIC;
