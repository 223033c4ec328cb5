-- tableam layer: compaction of vlake tables (src/tableam/vltab_compact.c,
-- docs/tables.md "Compaction").

-- Files a committed compaction stopped naming whose part (directory) other
-- files of the table still use: the table GC deletes each once no snapshot
-- can read the catalog that named it, no retained version names it and
-- vlake.table_gc_min_age has passed (whole unnamed parts go by the part GC).
CREATE TABLE vlake.retired_files (
    relid           oid NOT NULL,
    path            text NOT NULL,          -- relative to the dataset root
    retired_xid     xid8 NOT NULL,          -- the compaction's transaction
    retired_version bigint NOT NULL,        -- its version (the first not naming it)
    retired         timestamptz NOT NULL,
    PRIMARY KEY (relid, path)
);
REVOKE ALL ON vlake.retired_files FROM PUBLIC;

-- Merge adjacent small segments and rewrite the lake files worth it
-- (deleted rows erased, superseded columns dropped), keeping every row ID.
-- min_savings: NULL = vlake.compact_min_savings.  Owner only.
CREATE FUNCTION vlake.compact(tbl regclass, min_savings float8 DEFAULT NULL,
    merge boolean DEFAULT true,
    OUT segments_merged bigint, OUT rows_purged bigint, OUT groups_rewritten bigint,
    OUT groups_dropped bigint, OUT bytes_read bigint, OUT bytes_written bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'vlake_compact' LANGUAGE C VOLATILE CALLED ON NULL INPUT;

-- Compactions running now (vlake.compact() and the workers' task), in the
-- style of pg_stat_progress_*.
CREATE FUNCTION vlake.stat_progress_compact(
    OUT pid integer, OUT datid oid, OUT relid oid, OUT phase text,
    OUT segments_total bigint, OUT segments_done bigint, OUT groups_rewritten bigint,
    OUT rows_purged bigint, OUT bytes_read bigint, OUT bytes_written bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_stat_progress_compact' LANGUAGE C VOLATILE STRICT;
CREATE VIEW vlake.stat_progress_compact AS SELECT * FROM vlake.stat_progress_compact();
GRANT SELECT ON vlake.stat_progress_compact TO PUBLIC;
