-- ------------------------------------------------------- Parquet reader --
-- Inspection and reading of Parquet files (see docs/parquet.md).  They read
-- server files, so only superusers (or roles granted EXECUTE) may call them.

CREATE FUNCTION vlake.parquet_file_info(uri text,
    OUT file_size bigint, OUT num_rows bigint, OUT num_row_groups integer,
    OUT num_columns integer, OUT format_version integer, OUT created_by text,
    OUT key_value_metadata text[])
    AS 'MODULE_PATHNAME', 'vlake_parquet_file_info' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION vlake.parquet_schema(uri text)
    RETURNS TABLE (column_index integer, column_name text, field_id integer,
                   physical_type text, logical_type text, converted_type text,
                   repetition text, leaf_path text, max_definition_level integer,
                   max_repetition_level integer, pg_type text, unsupported text)
    AS 'MODULE_PATHNAME', 'vlake_parquet_schema' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION vlake.parquet_metadata(uri text)
    RETURNS TABLE (row_group integer, column_name text, num_rows bigint,
                   num_values bigint, codec text, encodings text[],
                   compressed_bytes bigint, uncompressed_bytes bigint,
                   null_count bigint, min_value text, max_value text,
                   has_column_index boolean, has_offset_index boolean)
    AS 'MODULE_PATHNAME', 'vlake_parquet_metadata' LANGUAGE C STRICT VOLATILE;

-- Rows of the projected columns (all readable columns when NULL), in file
-- order; the caller declares the result columns, e.g.
--   SELECT * FROM vlake.parquet_read('file:///d/f.parquet', '{id,name}')
--            AS t(id bigint, name text);
-- "_row_number" in columns yields the file row number (bigint).  With
-- filter_column, only rows with filter_min <= value <= filter_max are
-- returned, and row groups / pages whose statistics exclude them are skipped.
CREATE FUNCTION vlake.parquet_read(uri text, columns text[] DEFAULT NULL,
    filter_column text DEFAULT NULL, filter_min text DEFAULT NULL,
    filter_max text DEFAULT NULL)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_parquet_read' LANGUAGE C VOLATILE;

CREATE FUNCTION vlake.parquet_take(uri text, row_numbers bigint[],
    columns text[] DEFAULT NULL)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_parquet_take' LANGUAGE C VOLATILE;

CREATE FUNCTION vlake.parquet_scan_stats(uri text, columns text[] DEFAULT NULL,
    filter_column text DEFAULT NULL, filter_min text DEFAULT NULL,
    filter_max text DEFAULT NULL,
    OUT rows_returned bigint, OUT row_groups bigint, OUT row_groups_skipped bigint,
    OUT pages_read bigint, OUT pages_skipped bigint, OUT read_requests bigint,
    OUT bytes_read bigint)
    AS 'MODULE_PATHNAME', 'vlake_parquet_scan_stats' LANGUAGE C VOLATILE;

CREATE FUNCTION vlake.parquet_take_stats(uri text, row_numbers bigint[],
    columns text[] DEFAULT NULL,
    OUT rows_taken bigint, OUT read_requests bigint, OUT ranges bigint,
    OUT bytes_read bigint)
    AS 'MODULE_PATHNAME', 'vlake_parquet_take_stats' LANGUAGE C VOLATILE;

-- Decode every page of every readable column; returns the row count or
-- raises the first error found.
CREATE FUNCTION vlake.parquet_validate(uri text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_parquet_validate' LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION vlake.parquet_file_info(text), vlake.parquet_schema(text),
    vlake.parquet_metadata(text),
    vlake.parquet_read(text, text[], text, text, text),
    vlake.parquet_take(text, bigint[], text[]),
    vlake.parquet_scan_stats(text, text[], text, text, text),
    vlake.parquet_take_stats(text, bigint[], text[]),
    vlake.parquet_validate(text) FROM PUBLIC;

-- A segment stored as several ColumnGroup files covering the same row IDs
-- (first_row_id + file row number): one table over them.  "_row_id" in
-- columns yields the row ID.  first_row_id NULL: taken from the files'
-- vlake.first_row_id footer key (if given too, they must agree).  Only the groups holding projected columns are
-- read (their footers are read by every call).
CREATE FUNCTION vlake.packed_read(uris text[], first_row_id bigint, columns text[] DEFAULT NULL)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_packed_read' LANGUAGE C VOLATILE;
CREATE FUNCTION vlake.packed_take(uris text[], first_row_id bigint, row_ids bigint[],
    columns text[] DEFAULT NULL)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_packed_take' LANGUAGE C VOLATILE;
CREATE FUNCTION vlake.packed_take_stats(uris text[], first_row_id bigint, row_ids bigint[],
    columns text[] DEFAULT NULL)
    RETURNS TABLE (group_index integer, uri text, read_requests bigint, bytes_read bigint)
    AS 'MODULE_PATHNAME', 'vlake_packed_take_stats' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION vlake.packed_read(text[], bigint, text[]),
    vlake.packed_take(text[], bigint, bigint[], text[]),
    vlake.packed_take_stats(text[], bigint, bigint[], text[]) FROM PUBLIC;

-- The backend's cache of decoded Parquet pages (vlake.page_cache_size): what
-- takes of versioned files (vlake table lookups) found in it since the last
-- reset, and what it holds now.  Per backend.
CREATE FUNCTION vlake.page_cache_stats(OUT hits bigint, OUT misses bigint, OUT inserts bigint,
    OUT evictions bigint, OUT entries bigint, OUT bytes bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'vlake_page_cache_stats' LANGUAGE C VOLATILE STRICT;
-- Empty this backend's page cache and zero its counters.
CREATE FUNCTION vlake.page_cache_reset() RETURNS void
    AS 'MODULE_PATHNAME', 'vlake_page_cache_reset' LANGUAGE C VOLATILE STRICT;
