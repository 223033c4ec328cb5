-- vlake tables and logical replication (src/tableam/vltab_logical.c):
-- naming a vlake table in a publication is refused; a publication that takes
-- it implicitly makes every write logical decoding would get wrong (a flush,
-- COPY into segments, a change of a lake row) fail, while the delta's own
-- writes, which decoding does see, go on.
CREATE EXTENSION vlake;
\getenv lake VLAKE_TEST_LAKE
SELECT 'file://' || :'lake' || '/tables_publication' AS lakeuri \gset
SET vlake.default_location = :'lakeuri';
SET client_min_messages = error;	-- CREATE PUBLICATION warns when wal_level < logical
CREATE TABLE h (id int PRIMARY KEY, v text);
CREATE TABLE t (id int PRIMARY KEY, v text) USING vlake;
INSERT INTO t SELECT g, 'lake ' || g FROM generate_series(1, 100) g;
SELECT vlake.flush('t');
-- named: refused
CREATE PUBLICATION p_t FOR TABLE h, t;
CREATE PUBLICATION p_h FOR TABLE h;
ALTER PUBLICATION p_h ADD TABLE t;
ALTER PUBLICATION p_h SET TABLE h, t;
ALTER PUBLICATION p_h DROP TABLE h;
SELECT pubname, tablename FROM pg_publication_tables ORDER BY 1, 2;
-- FOR ALL TABLES: delta writes go on, what decoding would miss fails
CREATE PUBLICATION p_all FOR ALL TABLES;
INSERT INTO t VALUES (101, 'delta');
UPDATE t SET v = 'delta 2' WHERE id = 101;
DELETE FROM t WHERE id = 101;
SELECT vlake.flush('t');
UPDATE t SET v = 'changed' WHERE id = 1;
DELETE FROM t WHERE id = 2;
SET vlake.copy_lake_threshold = 0;
COPY t FROM PROGRAM 'seq 201 300 | sed "s/$/\tcopied/"';
RESET vlake.copy_lake_threshold;
COPY t FROM PROGRAM 'seq 301 310 | sed "s/$/\tcopied/"';	-- below the threshold: the delta
SELECT count(*), min(v), max(id) FROM t;
DROP PUBLICATION p_all;
-- TABLES IN SCHEMA
CREATE SCHEMA s;
CREATE TABLE s.t2 (id int) USING vlake;
INSERT INTO s.t2 VALUES (1);
CREATE PUBLICATION p_s FOR TABLES IN SCHEMA s;
SELECT vlake.flush('s.t2');
DROP PUBLICATION p_s;
SELECT vlake.flush('s.t2');
-- out of every publication, everything works again
SELECT vlake.flush('t');
DELETE FROM t WHERE id = 2;
SELECT count(*), sum(id) FROM t;
DROP PUBLICATION p_h;
RESET client_min_messages;
