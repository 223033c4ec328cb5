-- workers layer: vlake's database workers.

-- The databases vlake's background workers serve (vlake.worker_databases);
-- ERROR with a hint when vlake is not preloaded or the setting is empty.
CREATE FUNCTION vlake.worker_databases() RETURNS text
    AS 'MODULE_PATHNAME', 'vlake_worker_databases' LANGUAGE C STRICT;
