// Writes the Parquet fixtures used by sql/parquet_read*.sql with DuckDB (an
// independent writer), plus, for each, a CSV of the values as DuckDB reads
// them back, rendered in PostgreSQL input syntax: the oracle the regression
// tests compare vlake's reader against.
//
//   node test/data/parquet/make_fixtures.mjs test/data/parquet
// (needs @duckdb/node-api, e.g. from test/tools).  The outputs are checked
// in; rerun only to change them.
import { DuckDBInstance } from '@duckdb/node-api';

const out = process.argv[2] ?? '.';
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run(`SET TimeZone = 'UTC'`);

// 40 rows of every scalar type vlake maps, plus lists, with nulls.
await c.run(`CREATE TABLE types AS SELECT
    i::BIGINT AS id,
    (i * 1000003 - 20000000)::INTEGER AS i32,
    (i * 97 - 2000)::SMALLINT AS i16,
    (i - 20)::TINYINT AS i8,
    (i * 100000000)::UINTEGER AS u32,
    (i % 3 = 0) AS b,
    (i / 4.0 - 3)::FLOAT AS f,
    (i * 1.0e10 / 7)::DOUBLE AS d,
    CASE WHEN i % 5 = 4 THEN NULL ELSE 'row ' || i || repeat('é', i % 4) END AS s,
    CASE WHEN i % 7 = 6 THEN NULL ELSE ('\\x00\\xff' || i::VARCHAR)::BLOB END AS bin,
    (DATE '1969-12-25' + (i * 400)::INTEGER) AS dt,
    (TIMESTAMP '1999-12-31 23:59:59' + i * INTERVAL 1 DAY + i * INTERVAL 123457 MICROSECOND) AS ts,
    (TIMESTAMPTZ '2024-02-29 12:00:00+00' + i * INTERVAL 13 HOUR) AS tstz,
    (TIMESTAMP '2001-01-01 00:00:00' + i * INTERVAL 1001 MILLISECOND)::TIMESTAMP_MS AS ts_ms,
    (TIMESTAMP '2001-01-01 00:00:00' + i * INTERVAL 1 SECOND)::TIMESTAMP_NS AS ts_ns,
    ((i - 20) * 1234.56)::DECIMAL(9,2) AS dec9,
    ((i - 20) * 123456789.0123)::DECIMAL(18,4) AS dec18,
    ((i - 20) * 12345678901234567890.0123456789)::DECIMAL(38,10) AS dec38,
    CASE WHEN i % 6 = 5 THEN NULL ELSE ('00000000-0000-4000-8000-' || lpad(i::VARCHAR, 12, '0'))::UUID END AS u,
    CASE WHEN i % 8 = 7 THEN NULL WHEN i % 8 = 6 THEN []::FLOAT[]
         ELSE list_transform(range(i % 5 + 1), x -> CASE WHEN x = 3 AND i % 2 = 1 THEN NULL ELSE (x + i / 8.0)::FLOAT END) END AS vec,
    [i, i + 0.5, -i, 1.0 / (i + 1)]::FLOAT[4] AS emb,
    CASE WHEN i % 4 = 3 THEN NULL ELSE list_transform(range(i % 3), x -> (x * i)::INTEGER) END AS ints,
    ['a' || i, NULL, 'ü']::VARCHAR[] AS strs
  FROM range(40) t(i)`);
await c.run(`COPY types TO '${out}/types.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 16)`);

const pgList = (col) => `CASE WHEN ${col} IS NULL THEN NULL ELSE '{' || array_to_string(list_transform(${col}, x -> coalesce(x::VARCHAR, 'NULL')), ',') || '}' END`;
await c.run(`COPY (SELECT id, i32, i16, i8, u32, b, f, d, s,
    CASE WHEN bin IS NULL THEN NULL ELSE '\\x' || lower(hex(bin)) END AS bin,
    dt, ts, tstz, ts_ms, ts_ns, dec9, dec18, dec38, u,
    ${pgList('vec')} AS vec, ${pgList('emb')} AS emb, ${pgList('ints')} AS ints,
    '{' || array_to_string(list_transform(strs, x -> coalesce('"' || x || '"', 'NULL')), ',') || '}' AS strs
  FROM read_parquet('${out}/types.parquet') ORDER BY id)
  TO '${out}/types.csv' (HEADER false, DELIMITER ',', NULLSTR '\\N', QUOTE '"')`);

// The same small table under every codec, v1 and v2 pages, with and without
// dictionaries.
await c.run(`CREATE TABLE small AS SELECT i::BIGINT AS id,
    CASE WHEN i % 9 = 0 THEN NULL ELSE 'k' || (i % 13) END AS k,
    (i * 0.25)::DOUBLE AS v,
    list_transform(range(3), x -> (x + i)::FLOAT) AS vec
  FROM range(3000) t(i)`);
for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4']) {
  await c.run(`COPY small TO '${out}/codec_${codec}.parquet' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 1000)`);
}
await c.run(`COPY small TO '${out}/pages_v2.parquet' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1000, PARQUET_VERSION V2)`);
await c.run(`COPY small TO '${out}/nodict.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000, DICTIONARY_SIZE_LIMIT 1)`);
await c.run(`COPY (SELECT id, k, v, ${pgList('vec')} FROM small ORDER BY id) TO '${out}/small.csv' (HEADER false, NULLSTR '\\N')`);

// Many row groups and pages of a sorted key, for pruning and take.
await c.run(`COPY (SELECT i::BIGINT AS id, (i // 1000)::INTEGER AS grp, 'name-' || i AS name,
    (i % 97) * 0.5 AS score
  FROM range(20000) t(i)) TO '${out}/sorted.parquet'
  (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 5000)`);
console.log('fixtures written to', out);
