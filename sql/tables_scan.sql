-- vlake tables: what a scan reads.  Oracles: a heap table with the same
-- rows (results) and the catalog's file list (which files and bytes a
-- scan may touch, by the I/O counters of vlake.io_stats).
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/tables_scan' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';
SET vlake.copy_lake_threshold = 0;
SET vlake.segment_rows = 1000;

CREATE TABLE h (id int, cat text, price real, day date, note text, e vector(8));
INSERT INTO h SELECT g, 'c' || (g % 5), (g % 97) / 4.0, date '2024-01-01' + g / 10,
       repeat(md5(g::text), 4), array_fill(g::real, ARRAY[8])::vector
  FROM generate_series(1, 5000) g;
CREATE TABLE t (LIKE h) USING vlake;
SELECT :'lake' || '/tables_scan.csv' AS csv \gset
COPY h TO :'csv' (FORMAT csv);
COPY t FROM :'csv' (FORMAT csv);

-- five segments of 1,000 rows, each a scalar file, a file per long column
-- (cat, note) and a vector ColumnGroup
SELECT count(*) AS segments, sum(row_count) AS rows, sum(files) AS files FROM vlake.table_segments('t');

-- results equal heap's
SELECT (SELECT count(*) FROM (SELECT * FROM h EXCEPT SELECT * FROM t) x) AS only_heap,
       (SELECT count(*) FROM (SELECT * FROM t EXCEPT SELECT * FROM h) x) AS only_vlake;

-- What a scan touches, proved by removing files: a second table with the
-- same rows loses every file but its scalar ones, and, for segments past
-- the first, those too; queries that need only what is left still answer
-- (as heap does), the others fail naming a missing file.
CREATE TABLE p (LIKE h) USING vlake;
COPY p FROM :'csv' (FORMAT csv);
SELECT root AS p_root FROM vlake.datasets WHERE relid = 'p'::regclass \gset
SELECT count(vlake.lake_delete(:'p_root' || f.path)) AS removed_long_and_vector_files
  FROM vlake.files f WHERE f.relid = 'p'::regclass AND f.kind <> 'parquet';
SET max_parallel_workers_per_gather = 0;
-- one scalar column: the scalar files only
SELECT (SELECT sum(price) FROM p) = (SELECT sum(price) FROM h) AS scalar_scan_ok;
-- count(*) reads no file at all (next: the scalar files go too)
SELECT count(vlake.lake_delete(:'p_root' || f.path)) AS removed_scalar_files_of_later_segments
  FROM vlake.files f JOIN vlake.segments s USING (relid, segment_id)
  WHERE f.relid = 'p'::regclass AND f.kind = 'parquet' AND s.first_row_id >= 1000;
SELECT count(*) FROM p;
-- segment skipping: id < 500 and 500 > id need the first segment only
SELECT (SELECT sum(price) FROM p WHERE id < 500) = (SELECT sum(price) FROM h WHERE id < 500) AS skipped_lt,
       (SELECT count(*) FROM p WHERE 500 > id) AS skipped_gt_commuted,
       (SELECT count(*) FROM p WHERE day < date '2024-01-20') = (SELECT count(*) FROM h WHERE day < date '2024-01-20') AS skipped_by_date;
-- and the removed files are really needed by other queries
CREATE FUNCTION fails_on(q text, file text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN CASE WHEN SQLERRM LIKE 'lake object "%/' || file || '" does not exist'
              THEN 'missing ' || file ELSE SQLERRM END;
END $$;
SELECT fails_on('SELECT sum(price) FROM p WHERE id > 4000', 'scalar.parquet') AS later_segment,
       fails_on('SELECT count(*) FROM p WHERE note IS NULL AND id < 10', 't_5.parquet') AS long_column;
RESET max_parallel_workers_per_gather;

-- the same skipping on the intact table gives heap's answers
SELECT (SELECT count(*) FROM t WHERE 4500 < id) AS ge, (SELECT count(*) FROM h WHERE 4500 < id) AS ge_heap,
       (SELECT count(*) FROM t WHERE day = date '2024-03-01') AS day, (SELECT count(*) FROM h WHERE day = date '2024-03-01') AS day_heap,
       (SELECT count(*) FROM t WHERE id > 100000) AS none;

-- parallel scans give the same answers
SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT count(*), sum(id), sum(price) FROM t WHERE id % 3 = 0;
SELECT count(*), sum(id), sum(price) FROM h WHERE id % 3 = 0;
RESET max_parallel_workers_per_gather;

-- Index builds read only the ColumnGroups of the columns the index needs
-- (key, INCLUDE, expression and predicate columns).  Counters: building a
-- btree on id asks the store for fewer bytes than the vector ColumnGroups
-- alone hold (the catalog's sizes are the oracle); an index on (id, e) asks
-- for more.
SELECT sum(size) AS t_vector_bytes FROM vlake.files
  WHERE relid = 't'::regclass AND kind = 'vector_cg' \gset
SELECT vlake.io_stats_reset();
CREATE INDEX t_id_build ON t (id);
SELECT sum(bytes_requested) > 0 AS build_read_the_lake,
       sum(bytes_requested) < :t_vector_bytes AS build_read_no_vector_file
  FROM vlake.io_stats;
DROP INDEX t_id_build;
SELECT vlake.io_stats_reset();
CREATE INDEX t_id_build ON t (id, e);
SELECT sum(bytes_requested) > :t_vector_bytes AS build_read_the_vector_files
  FROM vlake.io_stats;
DROP INDEX t_id_build;
-- Proof by removal: a table without its vector files still builds such
-- indexes, and they give heap's answers; an index of the vector column
-- cannot be built (its files are gone).
CREATE TABLE q (LIKE h) USING vlake;
COPY q FROM :'csv' (FORMAT csv);
SELECT root AS q_root FROM vlake.datasets WHERE relid = 'q'::regclass \gset
SELECT count(vlake.lake_delete(:'q_root' || f.path)) AS removed_vector_files
  FROM vlake.files f WHERE f.relid = 'q'::regclass AND f.kind = 'vector_cg';
-- ALTER TABLE's own scan that checks NOT NULL (ADD PRIMARY KEY on a
-- nullable column, SET NOT NULL) reads only the checked columns, and still
-- finds a NULL in a lake row
ALTER TABLE q ADD PRIMARY KEY (id);
ALTER TABLE q ALTER price SET NOT NULL, ALTER day SET NOT NULL;
INSERT INTO q (id, price, day) VALUES (-1, 0, date '2024-01-01');
SELECT vlake.flush('q');
ALTER TABLE q ALTER cat SET NOT NULL;
DELETE FROM q WHERE id = -1;
-- a subcommand that may need other columns: the scan reads them all
SELECT fails_on('ALTER TABLE q ALTER cat SET NOT NULL, ADD CHECK (e IS NOT NULL)', 'v_6.parquet') AS check_constraint;
-- a query the statement runs (an event trigger's whole-row scan of the
-- table being checked) is not restricted to the checked columns: it sees
-- the vectors heap has
CREATE FUNCTION t_rows() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'rows with a vector: % (heap: %)',
    (SELECT count(*) FROM t x WHERE x.e IS NOT NULL AND x::text <> ''),
    (SELECT count(*) FROM h x WHERE x.e IS NOT NULL AND x::text <> '');
END $$;
CREATE EVENT TRIGGER t_rows ON ddl_command_end WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION t_rows();
ALTER TABLE t ALTER id SET NOT NULL;
DROP EVENT TRIGGER t_rows;
DROP FUNCTION t_rows();
ALTER TABLE t ALTER id DROP NOT NULL;
CREATE INDEX q_expr ON q (lower(cat), (price * 2)) INCLUDE (day);
CREATE INDEX q_partial ON q (day) WHERE note LIKE 'a%' AND price > 10;
CREATE INDEX h_expr ON h (lower(cat), (price * 2)) INCLUDE (day);
CREATE INDEX h_partial ON h (day) WHERE note LIKE 'a%' AND price > 10;
SELECT fails_on('CREATE INDEX q_e ON q (e)', 'v_6.parquet') AS vector_index;
SET enable_seqscan = off; SET enable_bitmapscan = off;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT id, day FROM q WHERE lower(cat) = 'c3' AND price * 2 < 20;
SELECT (SELECT array_agg(id ORDER BY id) FROM q WHERE lower(cat) = 'c3' AND price * 2 < 20)
     = (SELECT array_agg(id ORDER BY id) FROM h WHERE lower(cat) = 'c3' AND price * 2 < 20)
       AS expression_index_ok;
EXPLAIN (COSTS OFF) SELECT count(*) FROM q WHERE note LIKE 'a%' AND price > 10 AND day > date '2024-02-01';
SELECT (SELECT count(*) FROM q WHERE note LIKE 'a%' AND price > 10 AND day > date '2024-02-01') AS partial,
       (SELECT count(*) FROM h WHERE note LIKE 'a%' AND price > 10 AND day > date '2024-02-01') AS partial_heap;
SELECT (SELECT array_agg(price ORDER BY id) FROM q WHERE id BETWEEN 100 AND 130)
     = (SELECT array_agg(price ORDER BY id) FROM h WHERE id BETWEEN 100 AND 130) AS pk_ok;
RESET enable_seqscan; RESET enable_bitmapscan; RESET max_parallel_workers_per_gather;
DROP INDEX h_expr, h_partial;
DROP TABLE q;

-- a column's group can be chosen: cat (unbounded text) into the scalar group
SELECT vlake.set_column_group('t', 'cat', 'scalar');
SELECT vlake.set_column_group('t', 'price', 'own');   -- fixed width: refused
SELECT vlake.set_column_group('t', 'nosuch', 'own');
SELECT vlake.set_column_group('t', 'cat', 'other');
INSERT INTO t SELECT g, 'c' || (g % 5), 1, date '2024-01-01', 'n', NULL FROM generate_series(5001, 5100) g;
SELECT vlake.flush('t');
SELECT f.kind, f.attnums FROM vlake.files f JOIN vlake.segments s USING (relid, segment_id)
  WHERE relid = 't'::regclass AND s.first_row_id = (SELECT max(first_row_id) FROM vlake.segments WHERE relid = 't'::regclass)
  ORDER BY group_no;
SELECT count(*) FROM t WHERE cat = 'c3';

-- a location is one dataset's
SELECT :'lakeuri' || 'own_place/' AS own_place \gset
CREATE TABLE t2 (a int) USING vlake WITH (location = :'own_place');
SELECT root = :'own_place' AS at_its_location FROM vlake.datasets WHERE relid = 't2'::regclass;
SELECT root AS t_root FROM vlake.datasets WHERE relid = 't'::regclass \gset
DO $$ BEGIN
  EXECUTE format('CREATE TABLE t3 (a int) USING vlake WITH (location = %L)',
                 (SELECT root FROM vlake.datasets WHERE relid = 't'::regclass));
EXCEPTION WHEN duplicate_object THEN
  RAISE NOTICE 'refused: %', regexp_replace(SQLERRM, '"[^"]*"', '"..."');
END $$;
CREATE TABLE t4 (a int) WITH (location = :'lakeuri');   -- not a vlake table

DROP TABLE t;
SELECT count(*) FROM vlake.segments WHERE relid NOT IN (SELECT oid FROM pg_class);

-- the embedding model of a vector column, published in the next version's
-- lineage; refused for other columns and bad values
CREATE TABLE m (id int, e vector(3), h halfvec, note text) USING vlake;
SELECT vlake.set_embedding_model('m', 'note', 'any/model');
SELECT vlake.set_embedding_model('m', 'h', 'any/model');        -- halfvec without a dimension
SELECT vlake.set_embedding_model('m', 'e', '');
SELECT vlake.set_embedding_model('m', 'e', repeat('x', 257));
SELECT vlake.set_embedding_model('m', 'nosuch', 'any/model');
SELECT vlake.set_embedding_model('m', 'e', 'intfloat/e5-small', '2024-01');
INSERT INTO m VALUES (1, '[1,2,3]', NULL, 'n');
SELECT vlake.flush('m');
SELECT x->'lineage'->'models' AS models FROM vlake.table_manifest('m') x;
