#!/usr/bin/env bash
# make bench-tables-prune [ROWS=N]  —  bench/tables/prune.sh [rows]  (default 1,000,000)
#
# Page skipping of vlake table scans: the bench-tables table (tablegen, one
# lake segment of N rows) loaded into a vlake table, then selective queries
# on an id range of RANGE rows (1,000) in the middle of the table, each with
# the condition as pruning sees it (id BETWEEN a AND b) and hidden from it
# (id + 0 BETWEEN a AND b: neither segment nor page skipping applies):
#   1. SELECT sum(duration): the scalar group only
#   2. SELECT sum(vector_dims(embedding)): the vector ColumnGroup too
# Figures: best of 3 warm runs (ms), and the bytes read from segment files
# and pages read/skipped (vlake.table_scan_stats of one run).
# Env: SEED (42), RANGE (1000), FILE (an existing tablegen COPY file of the
# same rows, e.g. bench-tables'), KEEP=1 keeps the cluster running.
# Results: printed, and kept in build/bench-tables-prune/results-<rows>.txt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

rows=${1:-1000000}
seed=${SEED:-42}
range=${RANGE:-1000}
make -s -j2 all build/bin/tablegen >/dev/null

work=$(vlake_work_dir bench-tables-prune)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 56950)
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
CREATE TABLE t (id bigint, video_id bigint, duration real, aesthetic real,
                caption text, embedding vector(768)) USING vlake;
COPY t FROM '$file' WITH (FORMAT binary);
SQL
lo=$((rows / 2)); hi=$((lo + range - 1))
say "# bench-tables-prune: $rows rows (tablegen seed $seed), id range $lo..$hi ($range rows)"
say "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty'), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "# $(q -c "SELECT format('%s segments, %s rows, %s bytes', count(*), sum(row_count), sum(bytes)) FROM vlake.table_segments('t')")"

for what in "sum(duration)" "sum(vector_dims(embedding))"; do
  for cond in "id BETWEEN $lo AND $hi" "id + 0 BETWEEN $lo AND $hi"; do
    sql="SELECT $what FROM t WHERE $cond"
    ms=$(q -c '\timing on' -c "$sql" -c "$sql" -c "$sql" -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -3 | sort -n | head -1)
    st=$(q -c "SELECT vlake.table_scan_stats_reset()" -c "$sql" \
          -c "SELECT format('bytes read %s, pages read %s, pages skipped %s, rows skipped %s', bytes_read, pages_read, pages_skipped, rows_skipped) FROM vlake.table_scan_stats()" | tail -1)
    say "$sql: best $ms ms; $st"
  done
done
