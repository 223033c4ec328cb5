-- s3:// configuration, the Postgres way (see docs/s3.md):
--   CREATE SERVER lake FOREIGN DATA WRAPPER vlake_s3
--     OPTIONS (bucket 'b', endpoint 'https://...', region '...', url_style 'virtual'|'path');
--   CREATE USER MAPPING FOR role SERVER lake OPTIONS (access_key '...', secret_key '...');
CREATE FUNCTION vlake.s3_fdw_validator(text[], oid) RETURNS void
    AS 'MODULE_PATHNAME', 'vlake_s3_fdw_validator' LANGUAGE C STRICT;
CREATE FOREIGN DATA WRAPPER vlake_s3 VALIDATOR vlake.s3_fdw_validator;
COMMENT ON FOREIGN DATA WRAPPER vlake_s3 IS 'vlake: endpoints (servers) and credentials (user mappings) of s3:// lakes';
