#!/usr/bin/env bash
# make bench-tables-timetravel [ROWS=N]  —  bench/tables/timetravel.sh [rows]  (default 2,000,000)
#
# Time travel and retention of a vlake table (docs/tables.md, "Time travel",
# "Retention"): a table (id bigint, a int, t text) of N rows COPYed to lake
# segments (version 1), 10% of them deleted (version 2, delete vectors),
# then:
#   1. SELECT count(*), sum(a): the present (catalog and vlake.row_states),
#      as_of_version = 2 (the same rows from the manifest and its delete
#      vectors) and as_of_version = 1 (before the delete);
#   2. the per-query cost of resolving a version (manifest and delete
#      vectors decoded once per transaction): a query whose segments are all
#      skipped, present vs as of version 2;
#   3. the table GC with VERSIONS retained versions (single-row deletes):
#      the first pass of a backend reads every retained manifest, the next
#      ones only new versions.
# Figures: best of 3 warm runs (ms).  Env: VERSIONS (200), KEEP=1 keeps the
# cluster, PORT and WORK override the port and the work directory.
# Results: printed, and kept in <work>/results-<rows>.txt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

rows=${1:-2000000}
versions=${VERSIONS:-200}
make -s -j2 all >/dev/null

work=${WORK:-$(vlake_work_dir bench-tables-timetravel)}
mkdir -p "$work"
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=${PORT:-$(vlake_port 57150)}
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
res="$work/results-$rows.txt"; : > "$res"

cleanup() { [ "${KEEP:-0}" = 1 ] || vlake_cluster_stop "$bin" "$data"; }
trap cleanup EXIT
vlake_cluster_start "$bin" "$data" "$port" "$sock" "shared_buffers = '512MB'" "jit = off" \
  "max_parallel_workers_per_gather = 0" "max_wal_size = '4GB'"
# best of 3 of 4 runs (the first warms the caches), ms; settings in PGOPTIONS
best() { q -c '\timing on' "$@" "$@" "$@" "$@" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -3 | sort -n | head -1; }

q >/dev/null <<SQL
CREATE EXTENSION vlake;
SET vlake.copy_lake_threshold = 0;
CREATE TABLE t (id bigint, a int, t text) USING vlake;
INSERT INTO t SELECT 0, 0, '' WHERE false;
COPY t FROM PROGRAM 'seq 1 $rows | awk ''{print \$1"\t"(\$1%1000)"\tvalue"\$1}''';
DELETE FROM t WHERE id % 10 = 0;
SQL
say "# bench-tables-timetravel: $rows rows, 10% deleted, $versions versions for the GC"
say "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty'), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "# $(q -c "SELECT format('%s segments, %s rows, %s bytes', count(*), sum(row_count), sum(bytes)) FROM vlake.table_segments('t')")"

scan="SELECT count(*), sum(a) FROM t"
say "scan, present:            $(best -c "$scan") ms"
say "scan, as_of_version = 2:  $(PGOPTIONS='-c vlake.as_of_version=2' best -c "$scan") ms"
say "scan, as_of_version = 1:  $(PGOPTIONS='-c vlake.as_of_version=1' best -c "$scan") ms"
none="SELECT count(*) FROM t WHERE id < 0"
say "no segment read, present:           $(best -c "$none") ms"
say "no segment read, as_of_version = 2: $(PGOPTIONS='-c vlake.as_of_version=2' best -c "$none") ms"

for i in $(seq 1 "$versions"); do echo "DELETE FROM t WHERE id = $((i * 10 + 1));"; done | q
say "# $(q -c "SELECT format('%s versions, %s retained', count(*), count(*) FILTER (WHERE retained)) FROM vlake.table_versions('t')")"
gc="SELECT count(*) FROM vlake.table_gc('t')"
say "GC pass, first of a backend, then the next two: $(q -c '\timing on' -c "$gc" -c "$gc" -c "$gc" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tr '\n' ' ')ms"
