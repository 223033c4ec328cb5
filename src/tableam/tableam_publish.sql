-- tableam layer: publication of vlake tables to the lake (docs/tables.md,
-- "Publication"; docs/manifest.md).  Every lake version of a table is
-- published as the manifest "_manifest/<version>.json" under its dataset
-- root, after the commit that made it.

-- The current delete vector of each segment that has deleted rows: the
-- immutable file under the dataset root ("deletes/...") that holds the row
-- IDs of its deleted rows, as of the version that wrote it.  Replaced (not
-- updated in place) by the transaction that changes the segment's deletes;
-- MVCC gives each snapshot the delete vectors of the version it sees.
CREATE TABLE vlake.delete_files (
    relid           oid NOT NULL,
    segment_id      bigint NOT NULL,
    version         bigint NOT NULL,        -- the lake version that wrote it
    path            text NOT NULL,          -- relative to the dataset root
    cardinality     bigint NOT NULL,
    size            bigint NOT NULL,
    etag            text NOT NULL,
    PRIMARY KEY (relid, segment_id)
);
REVOKE ALL ON vlake.delete_files FROM PUBLIC;

-- Publish every committed version of a vlake table that the lake does not
-- have yet (a crash between a commit and its publication); returns how many
-- manifests it wrote.  Only the latest version can be rebuilt from the
-- catalog: an older missing version is reported, not written.  Owner only.
CREATE FUNCTION vlake.table_publish(tbl regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_table_publish' LANGUAGE C STRICT;

-- The published manifest of a vlake table, read from the lake: the latest
-- version, or the given one.
CREATE FUNCTION vlake.table_manifest(tbl regclass, version bigint DEFAULT NULL)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vlake_table_manifest' LANGUAGE C;
