-- tableam layer: versions other engines commit to a vlake table's manifest
-- chain (docs/manifest.md, "Commits by other engines"; docs/tables.md,
-- "Adopting other engines' versions").

-- The versions of a table's catalog that another engine committed (vlake
-- adopted them from the lake): their lineage writer, verbatim.  Their other
-- lineage is in vlake.versions, as for vlake's own.
CREATE TABLE vlake.foreign_versions (
    relid           oid NOT NULL,
    version         bigint NOT NULL,
    writer          text NOT NULL,
    PRIMARY KEY (relid, version)
);
REVOKE ALL ON vlake.foreign_versions FROM PUBLIC;

-- Adopt the versions other engines committed under a vlake table's dataset
-- root after the catalog's latest one (new segments, ColumnGroups of new
-- columns, delete vectors), and merge a version of this table that lost the
-- race for its number; returns the number of versions adopted.  Owner only.
CREATE FUNCTION vlake.table_refresh(tbl regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_table_refresh' LANGUAGE C STRICT;
