-- workers layer: vlake's database workers.

-- The databases vlake's background workers serve (vlake.worker_databases);
-- ERROR with a hint when vlake is not preloaded or the setting is empty.
CREATE FUNCTION vlake.worker_databases() RETURNS text
    AS 'MODULE_PATHNAME', 'vlake_worker_databases' LANGUAGE C STRICT;

-- One GC pass over a vlake table's dataset root now, as the table
-- maintenance task runs it (docs/tables.md, "Retention"): the manifests
-- and delete vectors of expired versions, then the lake parts neither the
-- catalog nor a retained version's manifest names, once no snapshot needs
-- them and min_age (default vlake.table_gc_min_age) has passed since their
-- retirement mark.  Returns the URIs removed (superuser).
CREATE FUNCTION vlake.table_gc(tbl regclass, min_age interval DEFAULT NULL,
    dry_run boolean DEFAULT false)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'vlake_table_gc' LANGUAGE C CALLED ON NULL INPUT;
REVOKE ALL ON FUNCTION vlake.table_gc(regclass, interval, boolean) FROM PUBLIC;

-- One GC pass over the datasets of dropped tables whose retention has
-- passed (vlake.dropped_datasets), as the table maintenance task runs it:
-- their manifests and delete vectors, then their lake parts (table and
-- index) once no snapshot needs them and min_age has passed since their
-- retirement mark; a dataset with nothing of vlake's left is forgotten.
-- Returns the URIs removed (superuser).
CREATE FUNCTION vlake.dropped_table_gc(min_age interval DEFAULT NULL,
    dry_run boolean DEFAULT false)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'vlake_dropped_table_gc' LANGUAGE C CALLED ON NULL INPUT;
REVOKE ALL ON FUNCTION vlake.dropped_table_gc(interval, boolean) FROM PUBLIC;
