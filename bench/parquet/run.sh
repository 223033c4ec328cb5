#!/usr/bin/env bash
# make bench-parquet: figures for Parquet take / scan / size (issue 5).
#
#  1. One file of 40,000 rows {id int8, name text, value float8,
#     vector vector(128)} on the local file system, warm OS cache:
#     time to take 1,000 random rows (vector, id and value columns), a full
#     scan of the vector column, file size vs raw bytes; whole rows (all
#     four columns) with vlake.parquet_take, also on a variant of the file
#     with the name column uncompressed.
#  2. When the S3 test server can be started: a 1,000,000-row vector
#     ColumnGroup (128 dimensions) on s3://, then in a fresh session with the
#     disk cache off, take 1,000 random rows and report the bytes and requests
#     the object-store counters saw against the bytes of those vectors.
#
# Runs a throwaway cluster under build/bench-parquet; prints a table.
# BENCH_PARQUET_S3_ROWS overrides the 1,000,000 rows of part 2.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"
make -s -j2 all >/dev/null

work=$(vlake_work_dir bench-parquet)
bin=$(vlake_private_install "$work/install")
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 55300)
lake="$work/lake"; rm -rf "$lake"; mkdir -p "$lake"; [ "$(id -u)" -eq 0 ] && chown postgres: "$lake"
cleanup() { vlake_cluster_stop "$bin" "$data"; [ -n "${s3_pid:-}" ] && kill "$s3_pid" 2>/dev/null || true; }
trap cleanup EXIT
vlake_cluster_start "$bin" "$data" "$port" "$sock" \
  "vlake.allowed_file_roots = '$lake'" "shared_buffers = '256MB'" "work_mem = '64MB'"
psql_b() { vlake_as_pg "$bin/psql" -X -q -A -F ' | ' -t -h "$sock" -p "$port" -U postgres -d postgres "$@"; }
psql_b -c "CREATE EXTENSION vlake" >/dev/null

file="$lake/bench40k.parquet"
psql_b >/dev/null <<SQL
SELECT setseed(0.42);
CREATE TABLE bench AS
SELECT g::int8 AS id, 'name-' || md5(g::text) AS name, random() AS value,
       (SELECT array_agg(random()::real) FROM generate_series(1, 128 + 0 * g))::vector(128) AS vector
FROM generate_series(0, 39999) g;
-- take-able layout: fixed-width columns PLAIN uncompressed in 128-row pages,
-- the text column zstd-compressed.
SELECT vlake.parquet_write('file://$file', 'SELECT * FROM bench ORDER BY id',
  '{"compression": "none", "dictionary": false, "page_rows": 128,
    "columns": {"name": {"compression": "zstd"}}}');
SQL
raw=$(psql_b -c "SELECT 40000 * (8 + 8 + 128 * 4) + sum(octet_length(name)) FROM bench")
size=$(stat -c %s "$file")
cat "$file" > /dev/null   # warm OS cache

echo "figure | value"
echo "40k rows: file size (bytes) | $size"
echo "40k rows: raw value bytes | $raw"
psql_b -c "SELECT '40k rows: size / raw', round($size::numeric / $raw, 4)"
for col in vector id value; do
  psql_b -c "SELECT '40k rows: $col ' || operation || ' (best / median ms over 20)',
                    round(best_ms::numeric, 3) || ' / ' || round(median_ms::numeric, 3)
             FROM vlake.vector_cg_bench('file://$file', '$col', 1000, 20)
             WHERE operation IN ('open', 'take') OR '$col' = 'vector'"
done

# ---- whole rows: vlake.parquet_take of 1,000 random rows, all four columns
# (and the name column alone), timed inside the backend like the figures
# above: best / median of 50 runs, each with fresh random rows.  Also on a
# variant of the file with the name column uncompressed.
file_plain="$lake/bench40k_plain.parquet"
psql_b >/dev/null <<SQL
SELECT vlake.parquet_write('file://$file_plain', 'SELECT * FROM bench ORDER BY id',
  '{"compression": "none", "dictionary": false, "page_rows": 128}');
CREATE FUNCTION take_bench(q text, reps int, OUT best_ms float8, OUT median_ms float8)
LANGUAGE plpgsql AS \$\$
DECLARE
  t float8[] := '{}';
  rows int8[];
  t0 timestamptz;
  n int8;
BEGIN
  FOR i IN 1..reps LOOP
    SELECT array_agg((random() * 39999)::int8) INTO rows FROM generate_series(1, 1000);
    t0 := clock_timestamp();
    EXECUTE q INTO n USING rows;
    t := t || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
    IF n <> 1000 THEN RAISE 'took % rows', n; END IF;
  END LOOP;
  SELECT min(v), percentile_cont(0.5) WITHIN GROUP (ORDER BY v) INTO best_ms, median_ms FROM unnest(t) v;
END \$\$;
SQL
size_plain=$(stat -c %s "$file_plain")
cat "$file_plain" > /dev/null
echo "40k rows, name uncompressed: file size (bytes) | $size_plain"
psql_b -c "SELECT '40k rows, name uncompressed: size / raw', round($size_plain::numeric / $raw, 4)"
# "batches": vlake.parquet_take_stats, the reader's take into column batches
# (like a library take into Arrow arrays); "SQL rows": vlake.parquet_take,
# which also builds a Datum per value and a tuple per row.
for f in "$file" "$file_plain"; do
  label="name zstd"; [ "$f" = "$file_plain" ] && label="name uncompressed"
  for cols in '{id,name,value,vector}' '{id,value,vector}' '{name}'; do
    coldef=$(echo "$cols" | sed 's/[{}]//g; s/id/id int8/; s/name/name text/; s/value/value float8/; s/vector/vector real[]/')
    psql_b -c "SELECT setseed(0.3); SELECT '40k rows ($label): take 1,000 rows $cols into batches (best / median ms over 50)',
                      round(best_ms::numeric, 3) || ' / ' || round(median_ms::numeric, 3)
               FROM take_bench(format(\$q\$SELECT (vlake.parquet_take_stats(%L, \$1, %L)).rows_taken\$q\$, 'file://$f', '$cols'), 50)" | grep -v '^$'
    psql_b -c "SELECT setseed(0.3); SELECT '40k rows ($label): take 1,000 rows $cols as SQL rows (best / median ms over 50)',
                      round(best_ms::numeric, 3) || ' / ' || round(median_ms::numeric, 3)
               FROM take_bench(format(\$q\$SELECT count(*) FROM vlake.parquet_take(%L, \$1, %L) AS x($coldef)\$q\$, 'file://$f', '$cols'), 50)" | grep -v '^$'
  done
done

# ---- part 2: S3 cold take from a 1M-row vector ColumnGroup
s3rows=${BENCH_PARQUET_S3_ROWS:-1000000}
if [ -x test/tools/s3server/start.sh ] && [ -d test/tools/node_modules/@20minutes/s3rver ]; then
  eval "$(test/tools/s3server/start.sh "$work/s3")"
  psql_b >/dev/null <<SQL
CREATE SERVER bench_s3 FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint '$VLAKE_TEST_S3_ENDPOINT', region 'us-east-1', url_style 'path', bucket '$VLAKE_TEST_S3_BUCKET');
BEGIN; SET LOCAL log_statement = 'none';
CREATE USER MAPPING FOR CURRENT_USER SERVER bench_s3
  OPTIONS (access_key '$VLAKE_TEST_S3_ACCESS_KEY', secret_key '$VLAKE_TEST_S3_SECRET_KEY');
COMMIT;
SQL
  uri="s3://$VLAKE_TEST_S3_BUCKET/bench/vec$s3rows.parquet"
  t0=$(date +%s.%N)
  psql_b -c "SELECT vlake.parquet_write('$uri',
      'SELECT array_fill((g % 1000)::real, ARRAY[128])::vector(128) AS embedding FROM generate_series(0, $((s3rows - 1))) g',
      '{\"layout\": \"vector\"}')" >/dev/null
  t1=$(date +%s.%N)
  echo "s3 ${s3rows} rows: write ColumnGroup (s, incl. generating rows) | $(echo "$t1 - $t0" | bc)"
  # a fresh session: empty memory cache; disk cache off (cold)
  psql_b <<SQL
SET vlake.cache_size = 0;
SELECT vlake.io_stats_reset();
SELECT setseed(0.7);
CREATE TEMP TABLE ids AS SELECT DISTINCT (random() * ($s3rows - 1))::int8 AS r FROM generate_series(1, 1000);
SELECT vlake.io_stats_reset();
SELECT 's3 ${s3rows} rows: take ' || count(*) || ' random rows: checked rows', count(*) FILTER (WHERE embedding[1] = (row_number % 1000))
  FROM vlake.vector_cg_take('$uri', (SELECT array_agg(r) FROM ids));
SELECT 's3 ${s3rows} rows: take: bytes read / vector bytes', bytes_read || ' / ' || (SELECT count(*) * 512 FROM ids)
       || ' = ' || round(bytes_read::numeric / (SELECT count(*) * 512 FROM ids), 3)
  FROM vlake.io_stats WHERE prefix LIKE 's3://%';
SELECT 's3 ${s3rows} rows: take: GET requests', get_requests FROM vlake.io_stats WHERE prefix LIKE 's3://%';
SQL
else
  echo "s3 | skipped | the S3 test server is not available (test/tools/s3server + npm ci)" >&2
fi
