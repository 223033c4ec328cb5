-- tableam layer: vlake tables (docs/tables.md).  The table access method
-- and the catalog tables that hold each table's lake state.  The catalog
-- tables are changed only by vlake's C code, inside the writing
-- transaction; their rows are MVCC like any row, which is what makes a
-- segment visible to exactly the snapshots that see its writer committed.
-- Nobody but the owner of the extension reads them directly (they carry
-- column statistics, i.e. data): see the vlake.table_* functions.

CREATE FUNCTION vlake_table_handler(internal) RETURNS table_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;

-- The table access method.  Its SQL name is vlake_table because the index
-- access method already owns the name vlake; CREATE TABLE ... USING vlake,
-- CREATE TABLE ... AS and ALTER TABLE ... SET ACCESS METHOD vlake are
-- translated to it (needs vlake in shared_preload_libraries).
CREATE ACCESS METHOD vlake_table TYPE TABLE HANDLER vlake_table_handler;
COMMENT ON ACCESS METHOD vlake_table IS 'vlake table: rows in lake segments (ColumnGroup Parquet files) and a WAL-logged delta';

-- One row per vlake table.
CREATE TABLE vlake.datasets (
    relid           oid PRIMARY KEY,
    dataset_id      uuid NOT NULL UNIQUE,
    root            text NOT NULL,          -- dataset root URI, ends in '/'
    version         bigint NOT NULL,        -- last committed lake version (0: none)
    next_row_id     bigint NOT NULL,
    next_segment_id bigint NOT NULL,
    created         timestamptz NOT NULL,
    -- row IDs below this were handed out, maybe to a writer that aborted:
    -- raised in place (not transactionally) before any is used, so a row ID
    -- is never handed out twice (stale index entries of an aborted COPY
    -- must never point at another row)
    row_id_limit    bigint NOT NULL DEFAULT 0
);

-- Lake segments: row IDs [first_row_id, end_row_id).  A segment row is
-- inserted by the transaction that wrote the segment (COPY, flush) and
-- deleted by the one that removes it (TRUNCATE, compaction).
CREATE TABLE vlake.segments (
    relid           oid NOT NULL,
    segment_id      bigint NOT NULL,
    first_row_id    bigint NOT NULL,
    end_row_id      bigint NOT NULL,
    row_count       bigint NOT NULL,
    version         bigint NOT NULL,        -- the lake version that added it
    operation       text NOT NULL,          -- copy, flush, ...
    PRIMARY KEY (relid, segment_id)
);

-- The ColumnGroup files of each segment.
CREATE TABLE vlake.files (
    relid           oid NOT NULL,
    segment_id      bigint NOT NULL,
    group_no        int NOT NULL,
    kind            text NOT NULL,          -- parquet, vector_cg, long_text
    path            text NOT NULL,          -- relative to the dataset root
    attnums         int2[] NOT NULL,
    size            bigint NOT NULL,
    etag            text NOT NULL,
    row_count       bigint NOT NULL,
    stat_attnums    int2[],                 -- statistics, aligned arrays
    null_counts     int8[],
    mins            text[],
    maxs            text[],
    -- deleted rows whose values a compaction erased (NULL placeholders: the
    -- file keeps one row per row ID); the statistics ignore them
    purged_rows     bigint NOT NULL DEFAULT 0,
    -- the file's object list (files holding objref columns): the Parquet
    -- file of its references, sorted by (uri, row_id); NULL: none
    objects_path    text,
    objects_size    bigint,
    objects_etag    text,
    objects_count   bigint,
    PRIMARY KEY (relid, segment_id, group_no)
);

-- Deleted, updated and locked lake rows: one row per lake row that a
-- transaction deleted, updated (new_tid: the new version, in the delta) or
-- locked.  Its MVCC visibility is the visibility of the deletion; the
-- unique key makes two writers of one row meet.
CREATE TABLE vlake.row_states (
    relid           oid NOT NULL,
    row_id          bigint NOT NULL,
    kind            "char" NOT NULL,        -- d: deleted, u: updated, l: locked
    new_tid         tid,
    -- 'u': the columns the update changed (a flush folds the new version
    -- back into the row's ID when none of them is indexed)
    attrs           int2[],
    PRIMARY KEY (relid, row_id)
);

-- Delta rows a flush moved to the lake: lets a writer whose snapshot
-- predates the flush find the row's lake copy instead of failing.
CREATE TABLE vlake.moved_rows (
    relid           oid NOT NULL,
    delta_tid       tid NOT NULL,
    flush_xid       xid8 NOT NULL,
    row_id          bigint NOT NULL
);
CREATE INDEX ON vlake.moved_rows (relid, delta_tid);

-- The lineage of every lake version (manifest "lineage").
CREATE TABLE vlake.versions (
    relid           oid NOT NULL,
    version         bigint NOT NULL,
    operation       text NOT NULL,
    writer          text NOT NULL,
    committed       timestamptz NOT NULL,
    rows_added      bigint NOT NULL,
    rows_deleted    bigint NOT NULL,
    bytes_written   bigint NOT NULL,
    PRIMARY KEY (relid, version)
);

-- A user's ColumnGroup choice for a column (vlake.set_column_group).
CREATE TABLE vlake.column_groups (
    relid           oid NOT NULL,
    attnum          int2 NOT NULL,
    grp             "char" NOT NULL CHECK (grp IN ('s', 'o')),  -- scalar, own
    PRIMARY KEY (relid, attnum)
);

REVOKE ALL ON vlake.column_groups FROM PUBLIC;

-- The embedding model of a vector column, from a lake version on
-- (vlake.set_embedding_model; published in every manifest's lineage).
CREATE TABLE vlake.column_models (
    relid           oid NOT NULL,
    attnum          int2 NOT NULL,
    since_version   bigint NOT NULL,
    model           text NOT NULL,
    model_version   text NOT NULL,
    PRIMARY KEY (relid, attnum, since_version)
);
REVOKE ALL ON vlake.column_models FROM PUBLIC;

-- Declare the embedding model of a vector column of a vlake table: the
-- manifests of the next version on name it in their lineage.  Owner only.
CREATE FUNCTION vlake.set_embedding_model(tbl regclass, col name, model text,
                                          model_version text DEFAULT '') RETURNS void
    AS 'MODULE_PATHNAME', 'vlake_set_embedding_model' LANGUAGE C STRICT;
REVOKE ALL ON vlake.datasets, vlake.segments, vlake.files, vlake.row_states,
    vlake.moved_rows, vlake.versions FROM PUBLIC;

-- Where a column of a vlake table goes in segments written from now on:
-- 'scalar' (the scalar group, with statistics for strings), 'own' (a file
-- of its own) or 'auto'.  Variable-width columns only; owner only.
CREATE FUNCTION vlake.set_column_group(tbl regclass, col name, grp text) RETURNS void
    AS 'MODULE_PATHNAME', 'vlake_set_column_group' LANGUAGE C STRICT;

-- New values of one column for the rows whose key matches: source is a
-- query giving (key, value) pairs (from a query over the table itself, a
-- staging table, vlake.parquet_read of Parquet files, ...); key defaults to
-- the table's one-column primary key.  Writes only that column's
-- ColumnGroup of the segments holding those rows; row IDs do not change.
-- Returns the number of rows given a value.  Needs UPDATE on the table.
CREATE FUNCTION vlake.backfill(tbl regclass, col name, source text, key name DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_backfill' LANGUAGE C;

-- Move the delta's settled rows of a vlake table to a new lake segment now
-- (the flush task does this in the background); returns the rows moved.
CREATE FUNCTION vlake.flush(tbl regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_flush' LANGUAGE C STRICT;

-- Where a vlake table's rows are: the delta and each visible segment.
CREATE FUNCTION vlake.table_segments(tbl regclass,
    OUT segment_id bigint, OUT first_row_id bigint, OUT end_row_id bigint,
    OUT row_count bigint, OUT files int, OUT bytes bigint, OUT version bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_table_segments' LANGUAGE C STRICT;

-- What this session's sequential scans of vlake tables read and skipped
-- since the last reset: segments (skipped by their statistics), pages of
-- the scalar group (skipped by their ColumnIndex), rows not returned thanks
-- to skipped pages, bytes read from segment files.  Parallel workers count
-- in their own sessions, not the leader's.
CREATE FUNCTION vlake.table_scan_stats(
    OUT scans bigint, OUT segments_total bigint, OUT segments_skipped bigint,
    OUT pages_read bigint, OUT pages_skipped bigint, OUT rows_skipped bigint,
    OUT bytes_read bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'vlake_table_scan_stats' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION vlake.table_scan_stats_reset() RETURNS void
    AS 'MODULE_PATHNAME', 'vlake_table_scan_stats_reset' LANGUAGE C STRICT VOLATILE;

-- Time travel, lineage and retention (docs/tables.md).

-- A table's own retention (the retention option of CREATE TABLE / ALTER
-- TABLE ... SET, or vlake.set_retention); without a row, the setting
-- vlake.table_retention applies.
CREATE TABLE vlake.table_retention (
    relid           oid PRIMARY KEY,
    retention       interval NOT NULL
);
REVOKE ALL ON vlake.table_retention FROM PUBLIC;

-- The datasets of dropped vlake tables (DROP TABLE, or a change of access
-- method): the lake keeps each as published for its retention, then the
-- garbage collection removes what vlake wrote under its root and the row
-- (docs/tables.md, "Dropping a table").
CREATE TABLE vlake.dropped_datasets (
    dataset_id      uuid PRIMARY KEY,
    root            text NOT NULL,
    relname         text NOT NULL,          -- for people: the table's name then
    dropped_at      timestamptz NOT NULL,
    retention       interval NOT NULL       -- the table's, when it was dropped
);
REVOKE ALL ON vlake.dropped_datasets FROM PUBLIC;

-- Set (NULL: remove) the retention of a vlake table.  Owner only.
CREATE FUNCTION vlake.set_retention(tbl regclass, retention interval) RETURNS void
    AS 'MODULE_PATHNAME', 'vlake_set_retention' LANGUAGE C;

-- The lineage of a vlake table: one row per committed version, whether the
-- lake has its manifest, and whether it is still retained (readable by
-- vlake.as_of_version / vlake.as_of_timestamp).  Same privilege rule as
-- vlake.table_manifest.
CREATE FUNCTION vlake.table_versions(tbl regclass,
    OUT version bigint, OUT parent bigint, OUT operation text, OUT rows_added bigint,
    OUT rows_deleted bigint, OUT bytes_written bigint, OUT writer text,
    OUT committed timestamptz, OUT models jsonb, OUT published boolean,
    OUT retained boolean)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_table_versions' LANGUAGE C STRICT;

-- Lineage of source objects (docs/objref.md, "Lineage"): the distinct
-- references held by the objref columns of the rows the caller sees (under
-- vlake.as_of_version / as_of_timestamp: of that version), and the rows
-- referencing one object.  Run as the caller: SELECT on the table needed.
CREATE FUNCTION vlake.table_objects(tbl regclass,
    OUT uri text, OUT size bigint, OUT sha256 text, OUT mime text, OUT rows bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_table_objects' LANGUAGE C STRICT;
CREATE FUNCTION vlake.object_rows(tbl regclass, uri text,
    OUT ctid tid, OUT row_id bigint, OUT col name, OUT ref objref)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_object_rows' LANGUAGE C STRICT;
