-- tableam layer: the lake parts of the indexes of vlake tables, as the
-- manifest lists them (docs/manifest.md, "Indexes"; docs/tables.md,
-- "Indexes in the manifest").  An index access method whose data lives in
-- the lake records its current part here through src/tableam/vltab_index.h,
-- in the transaction that makes the part current; the row goes with the
-- index (DROP INDEX), the table, or its lake contents (TRUNCATE, SET ACCESS
-- METHOD heap).  Only such indexes have a row: btree, GIN, ... indexes of
-- vlake tables live in Postgres alone.
CREATE TABLE vlake.table_indexes (
    relid           oid NOT NULL,           -- the vlake table
    indexrelid      oid NOT NULL,           -- the index (its name: pg_class)
    type            text NOT NULL,          -- manifest index type: vlake_ivf
    attnum          int2 NOT NULL,          -- indexed column = manifest field id
    param_names     text[] NOT NULL,        -- manifest params, aligned arrays
    param_values    text[] NOT NULL,
    data_version    bigint NOT NULL,        -- the lake version that recorded it
    first_row_id    bigint NOT NULL,        -- row IDs it covers: [first, end)
    end_row_id      bigint NOT NULL,
    location        text NOT NULL,          -- root URI of the index's lake files
    prefix          text NOT NULL,          -- the part's key prefix under location
    PRIMARY KEY (relid, indexrelid)
);
REVOKE ALL ON vlake.table_indexes FROM PUBLIC;
