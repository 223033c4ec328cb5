-- tableam layer: debug functions over the segment files of vlake tables
-- (src/tableam/vltab_segment.h; docs/tables.md, "Segment files").  They
-- write every row of a table as one segment and read a segment back as rows
-- of a table's row type, for the tests.  Superuser only.

CREATE FUNCTION vlake.segment_write(source regclass, root text, prefix text, first_row_id bigint)
    RETURNS TABLE(group_no integer, kind text, path text, attnums smallint[], size bigint,
                  etag text, row_count bigint, stats jsonb)
    AS 'MODULE_PATHNAME', 'vlake_segment_write' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION vlake.segment_write(regclass, text, text, bigint) IS
    'debug: write every row of a table (heap order; row IDs from first_row_id) as the ColumnGroup files of one segment under root/prefix';

-- files: jsonb_agg(to_jsonb(w)) of the rows vlake.segment_write returned
-- (path, attnums, size, etag, row_count); target: NULL::<table> for its row type.
CREATE FUNCTION vlake.segment_read(target anyelement, root text, first_row_id bigint,
                                   row_count bigint, files jsonb, columns text[] DEFAULT NULL)
    RETURNS SETOF anyelement
    AS 'MODULE_PATHNAME', 'vlake_segment_read' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION vlake.segment_read(anyelement, text, bigint, bigint, jsonb, text[]) IS
    'debug: the rows of a segment in row-ID order as the target''s row type; columns not listed (or not in the files) are null';

CREATE FUNCTION vlake.segment_take(target anyelement, root text, first_row_id bigint,
                                   row_count bigint, files jsonb, row_ids bigint[],
                                   columns text[] DEFAULT NULL)
    RETURNS SETOF anyelement
    AS 'MODULE_PATHNAME', 'vlake_segment_take' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION vlake.segment_take(anyelement, text, bigint, bigint, jsonb, bigint[], text[]) IS
    'debug: rows of a segment by row ID, in the order given';

REVOKE ALL ON FUNCTION vlake.segment_write(regclass, text, text, bigint),
    vlake.segment_read(anyelement, text, bigint, bigint, jsonb, text[]),
    vlake.segment_take(anyelement, text, bigint, bigint, jsonb, bigint[], text[]) FROM PUBLIC;
