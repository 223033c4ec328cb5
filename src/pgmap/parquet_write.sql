-- formats layer: writing Parquet files (parquet-codec).  See docs/parquet-layout.md.

CREATE FUNCTION vlake.parquet_write(uri text, query text, options jsonb DEFAULT '{}',
                                    OUT rows bigint, OUT bytes bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'vlake_parquet_write' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vlake.parquet_write(text, text, jsonb) IS
    'write the result of a query to a new Parquet file (file:// or s3:// URI); options: compression, compression_level, dictionary, dictionary_max_bytes, page_bytes, page_rows, row_group_rows, row_group_bytes, statistics, layout ("default" or "vector"), metadata {key: value}, columns {name: {compression, dictionary, field_id}}';
REVOKE ALL ON FUNCTION vlake.parquet_write(text, text, jsonb) FROM PUBLIC;
