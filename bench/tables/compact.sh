#!/usr/bin/env bash
# make bench-tables-compact [ROWS=N]  —  bench/tables/compact.sh [rows]  (default 1,000,000)
#
# Compaction of a vlake table (vlake.compact): the bench-tables table
# (tablegen: id, video_id, duration, aesthetic, caption, embedding
# vector(768)) copied into 10 lake segments of N/10 rows, then:
#   1. 2% of the rows deleted (every 50th id), compact with the defaults
#      (vlake.compact_min_savings 0.2): nothing should be rewritten;
#   2. 10% of the table deleted as half of the rows of the first two
#      segments (even ids <= N/5), compact with the defaults: those two
#      segments' files are rewritten, no other;
#   3. another 8% deleted uniformly (ids = 1, 2 mod 25), compact with
#      min_savings 0.05: every segment's files are rewritten.
# (merge => false: the segments are below vlake.compact_small_segment_rows
# at small N, and a merge rewrites everything.)
# Figures per step: time of vlake.compact (ms), its counts, bytes written
# (vlake.io_stats) against the table's size (vlake.table_segments).
# Env: SEED (42), FILE (an existing tablegen COPY file of the same rows),
# KEEP=1 keeps the cluster running.  Results: printed, and kept in
# build/bench-tables-compact/results-<rows>.txt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

rows=${1:-1000000}
seed=${SEED:-42}
make -s -j2 all build/bin/tablegen >/dev/null

work=$(vlake_work_dir bench-tables-compact)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 56960)
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
res="$work/results-$rows.txt"; : > "$res"

file=${FILE:-"$work/rows-$rows-seed$seed.copy"}
if [ ! -s "$file" ]; then
  build/bin/tablegen "$rows" "$seed" > "$file.tmp" && mv "$file.tmp" "$file"
fi
chmod a+r "$file"

cleanup() { [ "${KEEP:-0}" = 1 ] || vlake_cluster_stop "$bin" "$data"; }
trap cleanup EXIT
vlake_cluster_start "$bin" "$data" "$port" "$sock" "shared_buffers = '1GB'" "jit = off" \
  "max_parallel_workers_per_gather = 0" "max_wal_size = '8GB'"

q >/dev/null <<SQL
CREATE EXTENSION vlake;
SET vlake.copy_lake_threshold = 0;
SET vlake.segment_rows = $((rows / 10));
CREATE TABLE t (id bigint, video_id bigint, duration real, aesthetic real,
                caption text, embedding vector(768)) USING vlake;
COPY t FROM '$file' WITH (FORMAT binary);
SQL
size() { q -c "SELECT sum(bytes) FROM vlake.table_segments('t')"; }
say "# bench-tables-compact: $rows rows (tablegen seed $seed) in $(q -c "SELECT count(*) FROM vlake.table_segments('t')") segments, $(size) bytes"
say "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty'), load $(cut -d' ' -f1-3 /proc/loadavg)"

step() { # step TITLE DELETE-CONDITION MIN-SAVINGS
  local before out
  q -c "DELETE FROM t WHERE $2" >/dev/null
  before=$(size)
  out=$(q -c "SELECT vlake.io_stats_reset()" \
          -c "SELECT format('%s ms; rows purged %s, files rewritten %s, read %s B, written %s B', round(extract(epoch FROM clock_timestamp() - now()) * 1000), rows_purged, groups_rewritten, bytes_read, bytes_written) FROM vlake.compact('t', $3, false)" \
          -c "SELECT coalesce(sum(bytes_written), 0) FROM vlake.io_stats")
  local line io
  line=$(printf '%s\n' "$out" | tail -2 | head -1)
  io=$(printf '%s\n' "$out" | tail -1)
  say "$1 (DELETE WHERE $2; min_savings $3): $line; object store written $io B = $(q -c "SELECT round(100.0 * $io / $before, 1)")% of the table ($before B before, $(size) B after); $(q -c "SELECT count(*) FROM t") rows"
}
step "2% deleted" "id % 50 = 0" 0.2
step "10% deleted in two segments" "id <= $((rows / 5)) AND id % 2 = 0" 0.2
step "8% more deleted uniformly" "id % 25 IN (1, 2)" 0.05
