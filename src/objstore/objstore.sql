-- objstore layer: operator functions over lake objects and the I/O counters.
-- The lake_* functions are for superusers (or roles they grant them to);
-- file:// access stays confined to vlake.allowed_file_roots for everyone.

CREATE FUNCTION vlake.lake_list(uri text, OUT key text, OUT size bigint, OUT etag text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_lake_list' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION vlake.lake_list(text) IS
    'objects under a URI prefix (recursive, sorted by key); keys are relative to the directory part of the URI';

CREATE FUNCTION vlake.lake_stat(uri text, OUT size bigint, OUT etag text, OUT mtime timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_lake_stat' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION vlake.lake_read(uri text, "offset" bigint DEFAULT 0, length bigint DEFAULT NULL)
    RETURNS bytea
    AS 'MODULE_PATHNAME', 'vlake_lake_read' LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION vlake.lake_read_ranges(uri text, offsets bigint[], lengths bigint[],
                                       known_size bigint DEFAULT NULL, known_etag text DEFAULT NULL)
    RETURNS bytea[]
    AS 'MODULE_PATHNAME', 'vlake_lake_read_ranges' LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION vlake.lake_write(uri text, data bytea) RETURNS void
    AS 'MODULE_PATHNAME', 'vlake_lake_write' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION vlake.lake_write_if_absent(uri text, data bytea) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_lake_write_if_absent' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION vlake.lake_write_if_match(uri text, data bytea, etag text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_lake_write_if_match' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION vlake.lake_delete(uri text) RETURNS void
    AS 'MODULE_PATHNAME', 'vlake_lake_delete' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION vlake.lake_delete_many(root text, keys text[]) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlake_lake_delete_many' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION vlake.lake_delete_many(text, text[]) IS
    'delete keys (relative to the root URI) in one batch; missing keys are not an error';

CREATE FUNCTION vlake.lake_reclaim_temporaries(uri text, min_age interval DEFAULT '1 day')
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_lake_reclaim_temporaries' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION vlake.lake_reclaim_temporaries(text, interval) IS
    'remove leftovers of interrupted writes under a URI prefix older than min_age; returns how many';

CREATE FUNCTION vlake.lake_write_agg_step(internal, text, bytea) RETURNS internal
    AS 'MODULE_PATHNAME', 'vlake_lake_write_agg_step' LANGUAGE C CALLED ON NULL INPUT VOLATILE;
CREATE FUNCTION vlake.lake_write_agg_final(internal) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_lake_write_agg_final' LANGUAGE C VOLATILE;
CREATE AGGREGATE vlake.lake_write_agg(uri text, chunk bytea) (
    SFUNC = vlake.lake_write_agg_step,
    STYPE = internal,
    FINALFUNC = vlake.lake_write_agg_final,
    FINALFUNC_MODIFY = READ_WRITE
);

CREATE FUNCTION vlake.cache_sweep() RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_cache_sweep' LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION vlake.lake_list(text), vlake.lake_stat(text),
    vlake.lake_read(text, bigint, bigint), vlake.lake_read_ranges(text, bigint[], bigint[], bigint, text),
    vlake.lake_write(text, bytea), vlake.lake_write_if_absent(text, bytea),
    vlake.lake_write_if_match(text, bytea, text), vlake.lake_delete(text),
    vlake.lake_delete_many(text, text[]), vlake.lake_reclaim_temporaries(text, interval),
    vlake.lake_write_agg_step(internal, text, bytea), vlake.lake_write_agg(text, bytea),
    vlake.cache_sweep()
    FROM PUBLIC;

-- I/O counters of the calling session, per store root ("prefix").
CREATE FUNCTION vlake.io_stats(
    OUT prefix text,
    OUT head_requests bigint, OUT get_requests bigint, OUT put_requests bigint,
    OUT list_requests bigint, OUT delete_requests bigint,
    OUT bytes_requested bigint, OUT bytes_read bigint, OUT bytes_written bigint,
    OUT bytes_from_memory bigint, OUT bytes_from_disk bigint,
    OUT memory_hits bigint, OUT memory_misses bigint,
    OUT disk_hits bigint, OUT disk_misses bigint, OUT disk_fill_bytes bigint,
    OUT head_time_ms float8, OUT get_time_ms float8, OUT put_time_ms float8,
    OUT list_time_ms float8, OUT delete_time_ms float8,
    OUT latency_histogram bigint[])
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_io_stats' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION vlake.io_stats() IS
    'this session''s lake I/O counters per store root; latency_histogram[i] counts requests under 2^(i-1) microseconds (the last is open-ended)';

CREATE VIEW vlake.io_stats AS SELECT * FROM vlake.io_stats();
GRANT SELECT ON vlake.io_stats TO PUBLIC;

CREATE FUNCTION vlake.io_stats_reset() RETURNS void
    AS 'MODULE_PATHNAME', 'vlake_io_stats_reset' LANGUAGE C STRICT VOLATILE;
