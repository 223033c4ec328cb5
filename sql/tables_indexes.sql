-- The lake parts of vlake indexes in the manifest of a vlake table
-- (docs/tables.md, "Indexes in the manifest"; docs/manifest.md, "Indexes").
-- The oracles: the table itself (attnums, the row IDs of its lake rows from
-- their TIDs, its vectors), the files of the part read here byte by byte as
-- docs/index-format.md describes them (independently of vlake's reader), and
-- the chain of published versions.  TAP test 065 reads the same with Node.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
SELECT set_config('test.lake', :'lake', false) IS NOT NULL AS lake_set;
\set root 'file://' :lake '/tables_indexes/t'
\set far 'file://' :lake '/tables_indexes/elsewhere'
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('rm -rf %s/tables_indexes', current_setting('test.lake')));
END $$;
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text;
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
  RETURN replace(SQLSTATE || ': ' || msg, current_setting('test.lake'), '$LAKE');
END $$;

SET vlake.copy_lake_threshold = 0;
-- emb is the 3rd live column but attnum 4 (a dropped column before it)
CREATE TABLE t (id int NOT NULL, dropme int, note text, emb vector(3), h halfvec(3))
  USING vlake WITH (location = :'root');
ALTER TABLE t DROP COLUMN dropme;

-- the latest manifest (or version v), and its entry for one index
CREATE FUNCTION pg_temp.m(v bigint DEFAULT NULL) RETURNS jsonb LANGUAGE sql
  AS $$ SELECT vlake.table_manifest('t', v) $$;
CREATE FUNCTION pg_temp.ix(name text, v bigint DEFAULT NULL) RETURNS jsonb LANGUAGE sql
  AS $$ SELECT x FROM jsonb_array_elements(pg_temp.m(v)->'indexes') x WHERE x->>'name' = name $$;
CREATE FUNCTION pg_temp.version() RETURNS bigint LANGUAGE sql
  AS $$ SELECT version FROM vlake.datasets WHERE relid = 't'::regclass $$;
-- a file of the dataset (a manifest path relative to the root, or file://…)
CREATE FUNCTION pg_temp.path(loc text) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN loc LIKE 'file://%' THEN substr(loc, 8)
              ELSE current_setting('test.lake') || '/tables_indexes/t/' || loc END $$;
CREATE FUNCTION pg_temp.size(loc text) RETURNS bigint LANGUAGE sql
  AS $$ SELECT (pg_stat_file(pg_temp.path(loc), true)).size $$;
-- little-endian integers of a bytea (offsets from 0)
CREATE FUNCTION pg_temp.u32(b bytea, o int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT get_byte(b, o)::bigint | (get_byte(b, o + 1)::bigint << 8) |
         (get_byte(b, o + 2)::bigint << 16) | (get_byte(b, o + 3)::bigint << 24) $$;
CREATE FUNCTION pg_temp.u64(b bytea, o int) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT pg_temp.u32(b, o) | (pg_temp.u32(b, o + 4) << 32) $$;
CREATE FUNCTION pg_temp.f32(b bytea, o int) RETURNS real LANGUAGE sql IMMUTABLE AS $$
  SELECT (CASE WHEN e = 0 THEN m * 2 ^ -149 ELSE (m + 8388608) * 2 ^ (e - 150) END
          * CASE WHEN s = 1 THEN -1 ELSE 1 END)::real
    FROM (SELECT x >> 31 AS s, (x >> 23) & 255 AS e, x & 8388607 AS m
            FROM (SELECT pg_temp.u32(b, o) AS x) a) b $$;
-- The header of a part's index.meta (docs/index-format.md).
CREATE FUNCTION pg_temp.meta(loc text, OUT magic bytea, OUT version bigint, OUT metric bigint,
                             OUT dim bigint, OUT pdim bigint, OUT lists bigint, OUT nvec bigint,
                             OUT codes_size bigint, OUT vectors_size bigint)
LANGUAGE sql AS $$
  SELECT substr(b, 1, 8), pg_temp.u32(b, 8), pg_temp.u32(b, 12), pg_temp.u32(b, 16),
         pg_temp.u32(b, 20), pg_temp.u32(b, 24), pg_temp.u64(b, 32), pg_temp.u64(b, 48),
         pg_temp.u64(b, 56)
    FROM pg_read_binary_file(pg_temp.path(loc || 'index.meta')) b $$;
-- Every row reference of a part (codes.bin, list by list) with its vector
-- (vectors.bin; NULL when the part has none, vectors_size 0: an index of a
-- vlake table re-ranks from the table): lake rows as their row ID (block
-- >= 2^31), delta rows as row_id NULL.
CREATE FUNCTION pg_temp.refs(loc text) RETURNS TABLE (row_id bigint, vec real[])
LANGUAGE plpgsql AS $$
DECLARE
  meta bytea := pg_read_binary_file(pg_temp.path(loc || 'index.meta'));
  codes bytea := pg_read_binary_file(pg_temp.path(loc || 'codes.bin'));
  vecs bytea := CASE WHEN pg_temp.u64(meta, 56) > 0
                     THEN pg_read_binary_file(pg_temp.path(loc || 'vectors.bin')) END;
  dim int := pg_temp.u32(meta, 16);
  words int := pg_temp.u32(meta, 20) / 64;
  lists int := pg_temp.u32(meta, 24);
  dir int := 320 + 4 * lists * dim;
  coff bigint; voff bigint; cnt int; ref bigint; blk bigint;
BEGIN
  FOR l IN 0 .. lists - 1 LOOP
    coff := pg_temp.u64(meta, dir + 24 * l);
    voff := pg_temp.u64(meta, dir + 24 * l + 8);
    cnt := pg_temp.u32(meta, dir + 24 * l + 16);
    FOR j IN 0 .. cnt - 1 LOOP
      ref := pg_temp.u64(codes, (coff + 8 * (cnt * words + j))::int);
      blk := ref >> 16;
      row_id := CASE WHEN blk >= 2147483648 THEN (blk - 2147483648) * 256 + (ref & 65535) - 1 END;
      vec := CASE WHEN vecs IS NOT NULL THEN ARRAY(SELECT pg_temp.f32(vecs, (voff + 4 * (j * dim + k))::int) FROM generate_series(0, dim - 1) k) END;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
-- The row ID of each lake row of t (from its TID), NULL for delta rows.
CREATE FUNCTION pg_temp.row_id(tid tid) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN (tid::text::point)[0] >= 2147483648
              THEN ((tid::text::point)[0]::bigint - 2147483648) * 256 + (tid::text::point)[1]::bigint - 1 END $$;
-- Does the part at loc hold every lake row of t below end with a vector (and
-- that vector), and every delta row of t?
CREATE FUNCTION pg_temp.covers(loc text, "end" bigint) RETURNS TABLE (lake_rows bigint, missing bigint,
                                                                     wrong_vector bigint, delta_refs bigint)
LANGUAGE sql AS $$
  WITH p AS (SELECT * FROM pg_temp.refs(loc)),
       r AS (SELECT pg_temp.row_id(ctid) AS row_id, emb::real[] AS vec FROM t
              WHERE emb IS NOT NULL AND pg_temp.row_id(ctid) < "end")
  SELECT (SELECT count(*) FROM r),
         (SELECT count(*) FROM r WHERE NOT EXISTS (SELECT FROM p WHERE p.row_id = r.row_id)),
         (SELECT count(*) FROM r JOIN p USING (row_id) WHERE p.vec <> r.vec),
         (SELECT count(*) FROM p WHERE p.row_id IS NULL) $$;

-- rows: 300 by COPY (a segment), 100 flushed from the delta, 20 left in it
\set rows :lake '/tables_indexes_rows.tsv'
COPY (SELECT i, 'n' || i, ARRAY[i, i % 7, i % 3]::real[]::vector, ARRAY[i % 5, 1, 1]::real[]::halfvec
        FROM generate_series(1, 300) i) TO :'rows';
COPY t (id, note, emb, h) FROM :'rows';
INSERT INTO t SELECT i, 'n' || i, ARRAY[i, i % 7, i % 3], ARRAY[i % 5, 1, 1] FROM generate_series(301, 400) i;
SELECT vlake.flush('t');
INSERT INTO t SELECT i, 'n' || i, ARRAY[i, i % 7, i % 3], NULL FROM generate_series(401, 420) i;
INSERT INTO t VALUES (421, 'no vector', NULL, NULL);
SELECT pg_temp.version() AS v_before, pg_temp.m()->'indexes' AS no_index_yet;

-- ======== CREATE INDEX: a new version lists the part
CREATE INDEX t_emb ON t USING vlake (emb vector_l2_ops) WITH (lists = 4);
SELECT pg_temp.version() AS v, m->'version' AS published, m->'lineage'->'operation' AS op,
       (m->'lineage'->>'bytes_written')::bigint > 0 AS bytes_written,
       jsonb_array_length(m->'indexes') AS nindexes
  FROM pg_temp.m() m;
SELECT x->>'name' AS name, x->>'type' AS type, x->'field_id' AS field_id,
       (x->'field_id')::int = (SELECT attnum FROM pg_attribute
                                WHERE attrelid = 't'::regclass AND attname = 'emb') AS field_is_attnum,
       x->'data_version' AS data_version, x->'first_row_id' AS first, x->'end_row_id' AS "end",
       (x->'params') - 'index_meta_etag'::text - 'index_meta_size'::text AS params
  FROM pg_temp.ix('t_emb') x;
-- the location: relative, the part the index's metapage names, under the
-- dataset root (an index of a vlake table writes next to its data)
SELECT i.location = :'root' || '/' AS index_under_dataset_root,
       x->>'location' ~ '^vlake_index/db[0-9]+_rel[0-9]+_[^/]+/$' AS relative,
       x->>'location' = regexp_replace(i.files[1], '[^/]*$', '') AS names_current_part
  FROM pg_temp.ix('t_emb') x, vlake.index_info('t_emb') i;
-- the files are there, and are the part the params describe
SELECT pg_temp.size(x->>'location' || 'index.meta') = (x->'params'->>'index_meta_size')::bigint AS meta_size_ok,
       h.magic = 'VLIXMETA'::bytea AS magic_ok, h.version, h.metric, h.dim,
       h.lists = (x->'params'->>'lists')::int AS lists_ok,
       h.nvec = (x->'params'->>'vectors')::bigint AS vectors_ok,
       h.codes_size = pg_temp.size(x->>'location' || 'codes.bin') AS codes_ok,
       -- no copy of the vectors: the re-rank reads the table's column
       h.vectors_size = 0 AND pg_temp.size(x->>'location' || 'vectors.bin') IS NULL AS no_vectors_file
  FROM pg_temp.ix('t_emb') x, pg_temp.meta(x->>'location') h;
-- the row range covers every flushed row: [0, next_row_id), each lake row
-- with its vector in the part; the 20 delta rows are there by heap TID
SELECT (x->'end_row_id')::bigint = (SELECT max(pg_temp.row_id(ctid)) + 1 FROM t) AS end_is_next_row_id,
       c.*
  FROM pg_temp.ix('t_emb') x, pg_temp.covers(x->>'location', (x->'end_row_id')::bigint) c;

-- ======== only lake-stored, plain indexes are listed
SELECT pg_temp.version() AS v_before_others \gset
CREATE INDEX t_id ON t (id);                                               -- btree
CREATE INDEX t_part ON t USING vlake (emb vector_l2_ops) WHERE id > 100;   -- partial
CREATE INDEX t_expr ON t USING vlake ((emb::halfvec(3)) halfvec_l2_ops);   -- expression
SELECT pg_temp.version() = :v_before_others AS no_new_version,
       (SELECT array_agg(x->>'name') FROM jsonb_array_elements(pg_temp.m()->'indexes') x) AS listed;
DROP INDEX t_part, t_expr;
-- a halfvec index: another field, another metric
CREATE INDEX t_h ON t USING vlake (h halfvec_cosine_ops) WITH (lists = 2);
SELECT x->>'name' AS name, x->'field_id' AS field_id, x->'params'->>'metric' AS metric,
       x->'data_version' AS data_version, pg_temp.m()->'version' AS version
  FROM jsonb_array_elements(pg_temp.m()->'indexes') x ORDER BY 1;
-- a rolled-back CREATE INDEX publishes nothing
SELECT pg_temp.version() AS v_rb \gset
BEGIN;
CREATE INDEX t_rb ON t USING vlake (emb vector_ip_ops);
ROLLBACK;
SELECT pg_temp.version() = :v_rb AS still_same_version, pg_temp.ix('t_rb') IS NULL AS not_listed;

-- ======== a merge: the manifest names the new part
SELECT pg_temp.ix('t_emb')->>'location' AS loc_before \gset
INSERT INTO t SELECT i, 'n' || i, ARRAY[i, i % 7, i % 3], NULL FROM generate_series(501, 560) i;
SELECT vlake.flush('t');
SELECT vlake.merge('t_emb') > 0 AS merged;
SELECT x->>'location' <> :'loc_before' AS new_part,
       x->>'location' = regexp_replace(i.files[1], '[^/]*$', '') AS names_current_part,
       x->'data_version' = m->'version' AS data_version_ok, m->'lineage'->'operation' AS op,
       (x->'end_row_id')::bigint = (m->'next_row_id')::bigint AS end_is_next_row_id,
       pg_temp.size(x->>'location' || 'index.meta') = (x->'params'->>'index_meta_size')::bigint AS meta_ok
  FROM pg_temp.m() m, pg_temp.ix('t_emb') x, vlake.index_info('t_emb') i;
SELECT c.* FROM pg_temp.ix('t_emb') x, pg_temp.covers(x->>'location', (x->'end_row_id')::bigint) c;
-- the previous version still lists the previous part
SELECT pg_temp.ix('t_emb', (pg_temp.m()->>'version')::bigint - 1)->>'location' = :'loc_before' AS old_version_old_part;

-- ======== a merge that switched the index and rolled back: the catalog,
-- and so the published manifest, still name the previous part, which GC
-- keeps; the next merge publishes the part the index uses
SELECT pg_temp.ix('t_emb')->>'location' AS loc_published, pg_temp.version() AS v_pub \gset
INSERT INTO t SELECT i, 'n' || i, ARRAY[i, i % 7, i % 3], NULL FROM generate_series(601, 620) i;
BEGIN;
SELECT vlake.merge('t_emb') > 0 AS merged;
ROLLBACK;
SELECT pg_temp.version() = :v_pub AS no_version,
       pg_temp.ix('t_emb')->>'location' = :'loc_published' AS manifest_unchanged,
       regexp_replace(i.files[1], '[^/]*$', '') <> :'loc_published' AS index_uses_another_part
  FROM vlake.index_info('t_emb') i;
SELECT state AS published_part FROM vlake.index_gc_parts(:'root')
 WHERE part = :'root' || '/' || rtrim(:'loc_published', '/');
SELECT count(*) >= 0 AS gc_ran FROM vlake.index_gc(:'root', '0');
SELECT count(*) >= 0 AS gc_ran FROM vlake.index_gc(:'root', '0');
SELECT pg_temp.size(:'loc_published' || 'index.meta') > 0 AS published_part_kept;
INSERT INTO t VALUES (621, 'x', '[1,1,1]', NULL);
SELECT vlake.merge('t_emb') > 0 AS merged;
SELECT x->>'location' = regexp_replace(i.files[1], '[^/]*$', '') AS names_current_part,
       pg_temp.version() = :v_pub + 1 AS one_version
  FROM pg_temp.ix('t_emb') x, vlake.index_info('t_emb') i;

-- ======== REINDEX: a new part, a new version
SELECT pg_temp.ix('t_emb')->>'location' AS loc_before \gset
REINDEX INDEX t_emb;
SELECT x->>'location' <> :'loc_before' AS new_part,
       x->>'location' = regexp_replace(i.files[1], '[^/]*$', '') AS names_current_part,
       x->'data_version' = m->'version' AS data_version_ok, m->'lineage'->'operation' AS op
  FROM pg_temp.m() m, pg_temp.ix('t_emb') x, vlake.index_info('t_emb') i;
SELECT c.* FROM pg_temp.ix('t_emb') x, pg_temp.covers(x->>'location', (x->'end_row_id')::bigint) c;

-- ======== an index built before a COPY of the same transaction: one
-- version, whose new rows are beyond the part's range
BEGIN;
REINDEX INDEX t_emb;
COPY t (id, note, emb, h) FROM :'rows' WHERE id <= 50;
COMMIT;
SELECT m->'lineage'->'operation' AS op, m->'lineage'->'rows_added' AS rows_added,
       x->'data_version' = m->'version' AS data_version_ok,
       (m->'next_row_id')::bigint - (x->'end_row_id')::bigint AS rows_beyond_range
  FROM pg_temp.m() m, pg_temp.ix('t_emb') x;

-- ======== an index in another location: an absolute URI
CREATE INDEX t_far ON t USING vlake (emb vector_ip_ops) WITH (lists = 3, location = :'far');
SELECT x->>'location' LIKE :'far' || '/vlake_index/%/' AS absolute,
       pg_temp.size(x->>'location' || 'index.meta') = (x->'params'->>'index_meta_size')::bigint AS meta_ok,
       x->'params'->>'metric' AS metric
  FROM pg_temp.ix('t_far') x;

-- ======== a rename is published with the next version (like a column's)
ALTER INDEX t_far RENAME TO t_far2;
SELECT pg_temp.ix('t_far') IS NOT NULL AS old_name_until_next_version;
DELETE FROM t WHERE id = 5;
SELECT pg_temp.ix('t_far2') IS NOT NULL AS renamed, pg_temp.ix('t_far') IS NULL AS old_name_gone;

-- ======== DROP INDEX: a version without it
SELECT pg_temp.version() AS v_drop \gset
DROP INDEX t_h;
SELECT pg_temp.version() = :v_drop + 1 AS new_version, pg_temp.m()->'lineage'->'operation' AS op,
       (SELECT array_agg(x->>'name' ORDER BY x->>'name') FROM jsonb_array_elements(pg_temp.m()->'indexes') x) AS listed;
-- a DROP INDEX rolled back: nothing
BEGIN;
DROP INDEX t_far2;
ROLLBACK;
SELECT pg_temp.version() = :v_drop + 1 AS no_version;
DROP INDEX t_id;                                    -- a btree: nothing either
SELECT pg_temp.version() = :v_drop + 1 AS no_version;

-- ======== indexes created with their table (LIKE ... INCLUDING INDEXES): the
-- table keeps its location, an index's first part goes under it
\set root2 'file://' :lake '/tables_indexes/t2'
CREATE TABLE t2 (LIKE t INCLUDING INDEXES) USING vlake WITH (location = :'root2');
SELECT root = :'root2' || '/' AS location_kept FROM vlake.datasets WHERE relid = 't2'::regclass;
INSERT INTO t2 SELECT * FROM t WHERE id <= 100;
SELECT vlake.flush('t2');
SELECT count(*) AS merged FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 't2'::regclass AND vlake.merge(c.oid) > 0;
SELECT x->'params'->>'metric' AS metric,
       CASE WHEN x->>'location' LIKE 'vlake_index/%' THEN 'under the dataset root'
            WHEN x->>'location' LIKE :'far' || '/vlake_index/%' THEN 'its own location' END AS location,
       x->'end_row_id' AS "end"
  FROM jsonb_array_elements(vlake.table_manifest('t2')->'indexes') x ORDER BY 1;
DROP TABLE t2;

-- ======== repair: the latest manifest rebuilt from the catalog is the
-- same document, index entries included
SELECT pg_temp.m() AS before \gset
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
                 format('rm -f %s/tables_indexes/t/_manifest/%s.json', current_setting('test.lake'),
                        lpad((SELECT version FROM vlake.datasets WHERE relid = 't'::regclass)::text, 20, '0')));
END $$;
SELECT vlake.table_publish('t');
SELECT pg_temp.m() = :'before'::jsonb AS same_document, jsonb_array_length(pg_temp.m()->'indexes') AS nindexes;

-- ======== TRUNCATE: the parts covered the old rows; a version without them
TRUNCATE t;
SELECT m->'lineage'->'operation' AS op, m->'indexes' AS indexes FROM pg_temp.m() m;
SELECT count(*) AS catalog_rows FROM vlake.table_indexes WHERE relid = 't'::regclass;

-- ======== SET ACCESS METHOD heap: the rows go with the dataset
INSERT INTO t VALUES (1, 'a', '[1,2,3]', NULL);
SELECT vlake.flush('t');
REINDEX INDEX t_emb;
SELECT count(*) AS catalog_rows FROM vlake.table_indexes WHERE relid = 't'::regclass;
ALTER TABLE t SET ACCESS METHOD heap;
SELECT count(*) AS catalog_rows FROM vlake.table_indexes WHERE relid = 't'::regclass;
DROP TABLE t;
