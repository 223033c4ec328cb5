#!/usr/bin/env bash
# make bench-tables-cold [ROWS=N]  —  bench/tables/cold_s3.sh [rows]  (default 1,000,000)
#
# Primary-key lookups of a vlake table whose lake is on S3 (the project's S3
# test server on 127.0.0.1), from a backend with empty caches:
#   1. load: the rows of bench-tables (build/bin/tablegen: id bigint, video_id
#      bigint, duration real, aesthetic real, caption text ~200 B, embedding
#      vector(768)) COPYed into a vlake table WITH (location = 's3://...'),
#      the COPY's delta rows flushed, VACUUM, ALTER TABLE ADD PRIMARY KEY
#      (as bench-tables: id nullable, so ALTER TABLE also checks NOT NULL);
#      the statement's lake I/O is reported;
#   2. for each added latency of S3_LATENCY_MS ("0 25"): the cluster is
#      restarted (empty per-backend memory tier and page cache), the local
#      disk cache emptied, the test server told to delay every request; in
#      one new backend, 1,000 random ids (fixed seed) are fetched through the
#      btree, each reading id, duration, length(caption) and
#      vector_dims(embedding) (3 ColumnGroups): total ms, ms per lookup, GET
#      requests and bytes read from S3 (vlake.io_stats); then the same
#      lookups again in the same backend (warm).
# Env: LOOKUPS (1000), SEED (42), S3_LATENCY_MS ("0 25"), CACHE_SIZE
# (vlake.cache_size of the disk cache, default 1GB; 0 reads exact ranges
# straight from S3), KEEP=1 keeps the cluster and the server.
# Results: printed, and kept in build/bench-tables-cold/results-<rows>.txt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

rows=${1:-${ROWS:-1000000}}
nlook=${LOOKUPS:-1000}
seed=${SEED:-42}
lats=${S3_LATENCY_MS:-"0 25"}
make -s -j2 all build/bin/tablegen >/dev/null

work=$(vlake_work_dir bench-tables-cold)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 56700)
cache="$work/cache"; mkdir -p "$cache"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
res="$work/results-$rows.txt"; : > "$res"
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# ---- data: the binary COPY file of bench-tables (same generator and seed) ----
file="$work/rows-$rows-seed$seed.copy"
if [ ! -s "$file" ]; then
  build/bin/tablegen "$rows" "$seed" > "$file.tmp" && mv "$file.tmp" "$file"
fi
chmod a+r "$file"

# ---- the S3 test server and the cluster ----
eval "$(VLAKE_TEST_S3_OWNER_PID=$$ test/tools/s3server/start.sh "$work/s3")"
settings=("shared_buffers = '1GB'" "max_wal_size = '32GB'" "checkpoint_timeout = '1h'" "jit = off"
  "max_parallel_workers_per_gather = 0" "max_parallel_maintenance_workers = 0"
  "maintenance_work_mem = '1GB'" "vlake.cache_dir = '$cache'"
  "vlake.cache_size = '${CACHE_SIZE:-1GB}'")
vlake_cluster_start "$bin" "$data" "$port" "$sock" "${settings[@]}"
cleanup() {
  [ "${KEEP:-0}" = 1 ] && return
  vlake_cluster_stop "$bin" "$data"; kill "$s3_pid" 2>/dev/null || true
}
trap cleanup EXIT
admin() { curl -s -X "$1" -H 'content-type: application/json' "$VLAKE_TEST_S3_ADMIN$2" ${3:+-d "$3"}; }
restart() {
  vlake_as_pg "$bin/pg_ctl" -D "$data" -w -m fast restart -l "$data/server.log" >/dev/null
  rm -rf "${cache:?}"/* 2>/dev/null || true
}
io() { # io LABEL: the session's lake counters
  echo "SELECT format('$1: %s GET, %s HEAD requests, %s bytes read from S3, %s bytes requested', coalesce(sum(get_requests), 0), coalesce(sum(head_requests), 0), coalesce(sum(bytes_read), 0), coalesce(sum(bytes_requested), 0)) FROM vlake.io_stats"
}

q >/dev/null <<SQL
CREATE EXTENSION vlake;
CREATE SERVER s3bench FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint '$VLAKE_TEST_S3_ENDPOINT', region 'us-east-1', url_style 'path', bucket '$VLAKE_TEST_S3_BUCKET');
BEGIN;
SET LOCAL log_statement = 'none';
SET LOCAL log_min_error_statement = 'panic';
CREATE USER MAPPING FOR CURRENT_USER SERVER s3bench
  OPTIONS (access_key '$VLAKE_TEST_S3_ACCESS_KEY', secret_key '$VLAKE_TEST_S3_SECRET_KEY');
COMMIT;
CREATE TABLE t (id bigint, video_id bigint, duration real, aesthetic real,
                caption text, embedding vector(768))
  USING vlake WITH (location = 's3://$VLAKE_TEST_S3_BUCKET/tables/t/');
$(lookups_function lookups t)
SQL

say "# bench-tables-cold: $rows rows x (id bigint, video_id bigint, duration real, aesthetic real, caption text ~200 B, embedding vector(768)), lake on the S3 test server (127.0.0.1)"
say "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty'), load at start: $(load)"
say "# settings: ${settings[*]}"

# ---- 1. load ----
t0=$(date +%s.%N)
q -c "COPY t FROM '$file' WITH (FORMAT binary)"
say "copy: $(secs_since "$t0") s (load: $(load))"
t0=$(date +%s.%N)
say "flush: $(q -c "SELECT vlake.flush('t')") delta rows in $(secs_since "$t0") s"
q -c "VACUUM t"
say "lake: $(q -c "SELECT format('%s segments, %s files, %s bytes, %s rows', count(*), sum(files), sum(bytes), sum(row_count)) FROM vlake.table_segments('t')")"
say "lake files by kind: $(q -c "SELECT string_agg(format('%s %s', kind, s), ', ') FROM (SELECT kind, sum(size) s FROM vlake.files WHERE relid = 't'::regclass GROUP BY kind ORDER BY kind) k")"
t0=$(date +%s.%N)
out=$(q -c "SELECT vlake.io_stats_reset()" -c "ALTER TABLE t ADD PRIMARY KEY (id)" -c "$(io 'add primary key io')" | tail -1)
say "add primary key (serial build): $(secs_since "$t0") s; $out"
q -c "EXPLAIN (COSTS OFF) SELECT id, duration, length(caption), vector_dims(embedding) FROM t WHERE id = 42" | tr '\n' ' ' | sed 's/  */ /g; s/$/\n/' | tee -a "$res"
q -c "CHECKPOINT" >/dev/null

# ---- 2. cold and warm lookups, per added latency ----
declare -A cold warm cold_io warm_io
for lat in $lats; do
  restart
  admin PUT /latency "{\"ms\": $lat}" >/dev/null
  l=$(load)
  out=$(q -c "SELECT vlake.page_cache_reset()" -c "SELECT vlake.io_stats_reset()" \
          -c "SELECT round(lookups($nlook, $rows, 0.5)::numeric, 1)" -c "$(io cold)" \
          -c "SELECT vlake.io_stats_reset()" \
          -c "SELECT round(lookups($nlook, $rows, 0.5)::numeric, 1)" -c "$(io warm)" | grep -v '^$')
  cold[$lat]=$(echo "$out" | sed -n 1p); cold_io[$lat]=$(echo "$out" | sed -n 2p)
  warm[$lat]=$(echo "$out" | sed -n 3p); warm_io[$lat]=$(echo "$out" | sed -n 4p)
  say "+$lat ms per request: cold $nlook lookups ${cold[$lat]} ms ($(awk -v a="${cold[$lat]}" -v n="$nlook" 'BEGIN{printf "%.2f", a/n}') ms each); ${cold_io[$lat]} (load before: $l)"
  say "+$lat ms per request: warm $nlook lookups ${warm[$lat]} ms ($(awk -v a="${warm[$lat]}" -v n="$nlook" 'BEGIN{printf "%.3f", a/n}') ms each); ${warm_io[$lat]}"
done
admin PUT /latency '{"ms": 0}' >/dev/null
say "# load at end: $(load)"
if [ "${KEEP:-0}" = 1 ]; then
  echo "kept: $bin/psql -h $sock -p $port -U postgres postgres; S3 test server pid $s3_pid"
fi
