#!/usr/bin/env bash
# make bench-tables-evolve [ROWS=N]  —  bench/tables/evolve.sh [rows]  (default 1,000,000)
#
# The issue-11 "changing columns" figures, vlake tables side by side with heap
# in one run on one private cluster (docs/benchmarks.md, "Changing columns"):
#   1. backfill of a new vector(768) column for every row: vlake.backfill()
#      from a staging table vs heap's UPDATE ... FROM the same staging table
#   2. correction of caption on 1% of the rows: UPDATE (+ vlake.flush(), which
#      folds the new values back into the rows' IDs) vs heap's UPDATE
# For each: time, lake bytes written (vlake.io_stats), WAL bytes
# (pg_current_wal_lsn), temporary file bytes (pg_stat_database), the table's
# growth, and the ColumnGroup files the operation added, by kind.
# Env: SEED (42), KEEP=1 keeps the cluster running.
# Results: printed, and kept in build/bench-tables-evolve/results-<rows>.txt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

rows=${1:-1000000}
seed=${SEED:-42}
make -s -j2 all build/bin/tablegen >/dev/null

work=$(vlake_work_dir bench-tables-evolve)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 56700)
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
res="$work/results-$rows.txt"; : > "$res"

# ---- data: the table's rows and, from another seed, the new embeddings ----
file="$work/rows-$rows-seed$seed.copy"
v2file="$work/rows-$rows-seed$((seed + 7)).copy"
for f in "$file:$seed" "$v2file:$((seed + 7))"; do
  path=${f%%:*}; s=${f##*:}
  [ -s "$path" ] || { build/bin/tablegen "$rows" "$s" > "$path.tmp" && mv "$path.tmp" "$path"; }
  chmod a+r "$path"
done

cleanup() { [ "${KEEP:-0}" = 1 ] || vlake_cluster_stop "$bin" "$data"; }
trap cleanup EXIT
settings=("shared_buffers = '2GB'" "max_wal_size = '32GB'" "checkpoint_timeout = '1h'"
  "jit = off" "max_parallel_workers_per_gather = 0" "maintenance_work_mem = '1GB'"
  "work_mem = '256MB'")
vlake_cluster_start "$bin" "$data" "$port" "$sock" "${settings[@]}"
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) print "-"; else printf "%.2f", a/b }'; }

cols="id bigint PRIMARY KEY, video_id bigint, duration real, aesthetic real, caption text, embedding vector(768)"
q >/dev/null <<SQL
CREATE EXTENSION vlake;
CREATE TABLE t_heap ($cols);
CREATE TABLE t_vlake ($cols) USING vlake;
CREATE TABLE v2src_full ($cols);
SQL
say "# bench-tables-evolve: $rows rows x (id bigint PK, video_id bigint, duration real, aesthetic real, caption text ~200 B, embedding vector(768)), + embedding_v2 vector(768)"
say "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty'), load at start: $(load)"
say "# settings: ${settings[*]}; embedded lake; no worker databases"
t0=$(date +%s.%N)
q -c "COPY t_heap FROM '$file' WITH (FORMAT binary)" -c "COPY t_vlake FROM '$file' WITH (FORMAT binary)" \
  -c "SELECT vlake.flush('t_vlake')" >/dev/null
q -c "COPY v2src_full FROM '$v2file' WITH (FORMAT binary)" \
  -c "CREATE TABLE v2src AS SELECT id, embedding AS v FROM v2src_full" -c "DROP TABLE v2src_full" \
  -c "ALTER TABLE v2src ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE v2src, t_heap" -c "VACUUM t_vlake" >/dev/null
say "loaded both tables and the staging table v2src(id, v vector(768)) in $(secs_since "$t0") s; lake: $(q -c "SELECT format('%s segments, %s bytes', count(*), sum(bytes)) FROM vlake.table_segments('t_vlake')")"

# size of a table: heap incl. TOAST; vlake: delta + every listed lake file
size() { if [ "$1" = heap ]; then q -c "SELECT pg_total_relation_size('t_heap')";
         else q -c "SELECT pg_total_relation_size('t_vlake') + coalesce((SELECT sum(size) FROM vlake.files WHERE relid = 't_vlake'::regclass), 0)"; fi; }
temp_bytes() { q -c "SELECT pg_stat_force_next_flush()" >/dev/null; sleep 1.2; q -c "SELECT temp_bytes FROM pg_stat_database WHERE datname = 'postgres'"; }

# run LABEL SIDE SQL...: time, WAL, lake bytes written, temp bytes, growth, new files
declare -A secs wal lake tmp grow
run() {
  local label=$1 side=$2; shift 2
  local args=() s0 lsn0 tb0 l
  for s in "$@"; do args+=(-c "$s"); done
  q -c "CHECKPOINT" >/dev/null
  q -c "SET client_min_messages = warning" -c "CREATE TABLE IF NOT EXISTS files_before AS SELECT path FROM vlake.files WHERE false" \
    -c "TRUNCATE files_before" -c "INSERT INTO files_before SELECT path FROM vlake.files WHERE relid = 't_vlake'::regclass" >/dev/null
  s0=$(size "$side"); tb0=$(temp_bytes); lsn0=$(q -c "SELECT pg_current_wal_lsn()")
  l=$(load); t0=$(date +%s.%N)
  lake[$label.$side]=$(q -c "SELECT vlake.io_stats_reset()" "${args[@]}" -c "SELECT coalesce(sum(bytes_written), 0) FROM vlake.io_stats" | tail -1)
  secs[$label.$side]=$(secs_since "$t0")
  wal[$label.$side]=$(q -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')::bigint")
  tmp[$label.$side]=$(( $(temp_bytes) - tb0 ))
  grow[$label.$side]=$(( $(size "$side") - s0 ))
  say "$label $side: ${secs[$label.$side]} s; lake bytes written ${lake[$label.$side]}; WAL ${wal[$label.$side]}; temp files ${tmp[$label.$side]}; table growth ${grow[$label.$side]} (load before: $l)"
  [ "$side" = vlake ] && say "  files added by kind: $(q -c "SELECT coalesce(string_agg(format('%s %s x %s B', kind, n, s), ', '), 'none') FROM (SELECT kind, count(*) n, sum(size) s FROM vlake.files WHERE relid = 't_vlake'::regclass AND path NOT IN (SELECT path FROM files_before) GROUP BY kind ORDER BY kind) k")"
  return 0
}

# ---- 1. backfill embedding_v2 ----
q -c "ALTER TABLE t_heap ADD COLUMN embedding_v2 vector(768)" -c "ALTER TABLE t_vlake ADD COLUMN embedding_v2 vector(768)" >/dev/null
q -c "CREATE TABLE tids_before AS SELECT id, ctid AS tid FROM t_vlake" >/dev/null
run backfill heap "UPDATE t_heap h SET embedding_v2 = s.v FROM v2src s WHERE h.id = s.id"
run backfill vlake "SELECT vlake.backfill('t_vlake', 'embedding_v2', 'SELECT id, v FROM v2src')"
raw=$((rows * 768 * 4))
say "  raw size of the new column: $raw bytes (rows x 768 x 4); vlake lake bytes / raw = $(ratio "${lake[backfill.vlake]}" "$raw"); row IDs changed: $(q -c "SELECT count(*) FROM t_vlake JOIN tids_before USING (id) WHERE t_vlake.ctid <> tid")"
say "  check: rows whose embedding_v2 differs between heap and vlake: $(q -c "SELECT count(*) FROM t_heap h JOIN t_vlake v USING (id) WHERE h.embedding_v2 IS DISTINCT FROM v.embedding_v2")"

# ---- 2. correct caption on 1% of the rows ----
run caption heap "UPDATE t_heap SET caption = 'corrected: ' || caption WHERE id % 100 = 7"
run caption vlake "UPDATE t_vlake SET caption = 'corrected: ' || caption WHERE id % 100 = 7" "SELECT vlake.flush('t_vlake')"
say "  row IDs changed: $(q -c "SELECT count(*) FROM t_vlake JOIN tids_before USING (id) WHERE t_vlake.ctid <> tid"); rows differing from heap: $(q -c "SELECT count(*) FROM t_heap h JOIN t_vlake v USING (id) WHERE h.caption IS DISTINCT FROM v.caption")"

say ""
say "| figure | heap | vlake | vlake / heap |"
say "|---|---:|---:|---:|"
for op in backfill caption; do
  say "| $op: time (s) | ${secs[$op.heap]} | ${secs[$op.vlake]} | $(ratio "${secs[$op.vlake]}" "${secs[$op.heap]}") |"
  say "| $op: bytes written (WAL + lake + temp) | $((wal[$op.heap] + tmp[$op.heap])) | $((wal[$op.vlake] + lake[$op.vlake] + tmp[$op.vlake])) | $(ratio $((wal[$op.vlake] + lake[$op.vlake] + tmp[$op.vlake])) $((wal[$op.heap] + tmp[$op.heap]))) |"
  say "| $op: table growth (bytes) | ${grow[$op.heap]} | ${grow[$op.vlake]} | $(ratio "${grow[$op.vlake]}" "${grow[$op.heap]}") |"
done
say "# results: $res"
