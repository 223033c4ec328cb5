#!/usr/bin/env bash
# make bench-tables [ROWS=N]  —  bench/tables/run.sh [rows]  (default 1,000,000)
#
# The issue-10 figures of vlake tables (CREATE TABLE ... USING vlake, embedded
# lake) side by side with heap, in one run on one private cluster:
#   1. COPY of N rows (binary COPY file from build/bin/tablegen, fixed seed):
#      rows/s, and bytes (heap: pg_total_relation_size incl. TOAST; vlake: the
#      delta's pg_total_relation_size + the lake files of vlake.table_segments)
#   2. single-row INSERT transactions: pgbench, 2 clients, INSERT_SECONDS (30)
#   3. SELECT sum(duration): bytes read (heap: shared buffers hit+read x 8 kB
#      from EXPLAIN (ANALYZE, BUFFERS); vlake: the same for the delta + the
#      session's vlake.io_stats bytes_requested) and time, best of 3 warm runs
#   4. 1,000 random primary-key lookups in one plpgsql loop (every column
#      read: id, duration, length(caption), vector_dims(embedding)); run twice
#      with the same ids, the second is the warm figure (heap's pages then
#      come from shared buffers, vlake's from the backend's page cache,
#      vlake.page_cache_size)
# Env: INSERT_SECONDS (30), LOOKUPS (1000), SEED (42), KEEP=1 keeps the
# cluster running at the end (psql line printed).
# Results: printed, and kept in build/bench-tables/results-<rows>.txt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

rows=${1:-1000000}
secs=${INSERT_SECONDS:-30}
nlook=${LOOKUPS:-1000}
seed=${SEED:-42}
make -s -j2 all build/bin/tablegen >/dev/null

work=$(vlake_work_dir bench-tables)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 56600)
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
res="$work/results-$rows.txt"; : > "$res"

# ---- data: reproducible binary COPY files (kept between runs) ----
file="$work/rows-$rows-seed$seed.copy"
pool="$work/pool-seed$((seed + 1)).copy"
if [ ! -s "$file" ]; then
  t0=$(date +%s.%N)
  build/bin/tablegen "$rows" "$seed" > "$file.tmp" && mv "$file.tmp" "$file"
  vlake_log "generated $file in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
fi
[ -s "$pool" ] || { build/bin/tablegen 1000 $((seed + 1)) > "$pool.tmp" && mv "$pool.tmp" "$pool"; }
chmod a+r "$file" "$pool"

# ---- the cluster ----
cleanup() { [ "${KEEP:-0}" = 1 ] || vlake_cluster_stop "$bin" "$data"; }
trap cleanup EXIT
settings=("shared_buffers = '2GB'" "max_wal_size = '32GB'" "checkpoint_timeout = '1h'"
  "synchronous_commit = on" "jit = off" "max_parallel_workers_per_gather = 0"
  "maintenance_work_mem = '1GB'")
vlake_cluster_start "$bin" "$data" "$port" "$sock" "${settings[@]}"
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) print "-"; else printf "%.2f", a/b }'; }

q >/dev/null <<SQL
CREATE EXTENSION vlake;
CREATE TABLE pool (id bigint PRIMARY KEY, video_id bigint, duration real, aesthetic real,
                   caption text, embedding vector(768));
COPY pool FROM '$pool' WITH (FORMAT binary);
VACUUM ANALYZE pool;
CREATE TABLE t_heap (id bigint, video_id bigint, duration real, aesthetic real,
                     caption text, embedding vector(768));
CREATE TABLE t_vlake (id bigint, video_id bigint, duration real, aesthetic real,
                      caption text, embedding vector(768)) USING vlake;
CREATE SEQUENCE t_heap_ins START $((rows + 1));
CREATE SEQUENCE t_vlake_ins START $((rows + 1));
SQL

say "# bench-tables: $rows rows x (id bigint, video_id bigint, duration real, aesthetic real, caption text ~200 B, embedding vector(768))"
say "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty'), load at start: $(load)"
say "# settings: ${settings[*]}; vlake.copy_lake_threshold = $(q -c 'SHOW vlake.copy_lake_threshold'), vlake.segment_rows = $(q -c 'SHOW vlake.segment_rows'); no vlake worker databases (no background flush)"
say "# COPY file: $file ($(stat -c %s "$file") bytes, binary COPY)"

# ---- 1. COPY ----
declare -A copy_s bytes
for t in heap vlake; do
  q -c "CHECKPOINT" >/dev/null
  l=$(load); t0=$(date +%s.%N)
  q -c "COPY t_$t FROM '$file' WITH (FORMAT binary)"
  copy_s[$t]=$(secs_since "$t0")
  say "copy $t: ${copy_s[$t]} s, $(awk -v n="$rows" -v s="${copy_s[$t]}" 'BEGIN{printf "%.0f", n/s}') rows/s (load before: $l)"
done
bytes[heap]=$(q -c "SELECT pg_total_relation_size('t_heap')")
say "bytes heap: $(q -c "SELECT format('%s total = main %s + toast %s (+ fsm/vm)', pg_total_relation_size('t_heap'), pg_relation_size('t_heap'), pg_total_relation_size(reltoastrelid)) FROM pg_class WHERE oid = 't_heap'::regclass")"
vl_bytes() { q -c "SELECT pg_total_relation_size('t_vlake') + coalesce((SELECT sum(bytes) FROM vlake.table_segments('t_vlake')), 0)"; }
vl_detail() { q -c "SELECT format('delta %s (main %s) + lake %s in %s segments, %s files, %s rows', pg_total_relation_size('t_vlake'), pg_relation_size('t_vlake'), coalesce(sum(bytes), 0), count(*), coalesce(sum(files), 0), coalesce(sum(row_count), 0)) FROM vlake.table_segments('t_vlake')"; }
bytes[vlake]=$(vl_bytes)
say "bytes vlake after COPY: ${bytes[vlake]} total = $(vl_detail)"
t0=$(date +%s.%N)
flushed=$(q -c "SELECT vlake.flush('t_vlake')")
say "vlake.flush after COPY: $flushed rows in $(secs_since "$t0") s"
bytes[vlake_flushed]=$(vl_bytes)
say "bytes vlake after flush: ${bytes[vlake_flushed]} total = $(vl_detail)"
say "lake files by kind: $(q -c "SELECT string_agg(format('%s %s', kind, s), ', ') FROM (SELECT kind, sum(size) s FROM vlake.files WHERE relid = 't_vlake'::regclass GROUP BY kind ORDER BY kind) k")"

# VACUUM both; ANALYZE heap only: ANALYZE of a vlake table takes each of its
# 30,000 sampled lake rows with a whole-page read of the caption file (82 s at
# 50,000 rows in the first runs), so it runs only with ANALYZE_VLAKE=1.  The
# plans do not depend on it (a seq scan; a lookup by primary key).
declare -A idx_s
for t in heap vlake; do
  what="VACUUM"; { [ $t = heap ] || [ "${ANALYZE_VLAKE:-0}" = 1 ]; } && what="VACUUM ANALYZE"
  t0=$(date +%s.%N)
  q -c "$what t_$t"
  say "$what $t: $(secs_since "$t0") s"
done
bytes[vlake_vacuumed]=$(vl_bytes)
bytes[heap_vacuumed]=$(q -c "SELECT pg_total_relation_size('t_heap')")
say "bytes after VACUUM: heap ${bytes[heap_vacuumed]}; vlake ${bytes[vlake_vacuumed]} = $(vl_detail)"
# The primary keys are built serially (max_parallel_maintenance_workers = 0)
# for both: a parallel build on a vlake table fails (probed below).
for t in heap vlake; do
  t0=$(date +%s.%N)
  q -c "SET max_parallel_maintenance_workers = 0" -c "ALTER TABLE t_$t ADD PRIMARY KEY (id)"
  idx_s[$t]=$(secs_since "$t0")
  say "add primary key $t (serial build): ${idx_s[$t]} s"
done
t0=$(date +%s.%N)
if out=$(q -c "SET max_parallel_maintenance_workers = 2" -c "CREATE UNIQUE INDEX t_vlake_parallel_probe ON t_vlake (id)" 2>&1); then
  say "parallel btree build on t_vlake (id): ok in $(secs_since "$t0") s"
  q -c "DROP INDEX t_vlake_parallel_probe"
else
  say "parallel btree build on t_vlake (id): FAILED after $(secs_since "$t0") s: $(echo "$out" | tr '\n' ' ')"
fi
q -c "CHECKPOINT" >/dev/null

# ---- 3. scan of one scalar column ----
# Two spellings: "plain" is SELECT sum(duration) FROM t.  Under an Agg the
# planner gives the seq scan a physical tlist (every column), and the vlake
# executor hook projects lake reads by the scan's tlist, so "plain" reads
# every column of the lake; "exact" (the column in an OFFSET 0 subquery)
# gives the scan an exact tlist: what the projection reads when it applies.
declare -A scan_ms scan_bytes
for form in plain exact; do
  for t in heap vlake; do
    if [ $form = plain ]; then sql="SELECT sum(duration) FROM t_$t"
    else sql="SELECT sum(duration) FROM (SELECT duration FROM t_$t OFFSET 0) s"; fi
    l=$(load)
    # one warm-up, then best of 3
    scan_ms[$t.$form]=$(q -c '\timing on' -c "$sql" -c "$sql" -c "$sql" -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -3 | sort -n | head -1)
    bufs=$(q -c "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, COSTS OFF, TIMING OFF) $sql" | tee "$work/scan-$t-$form.plan" |
           sed -n 's/.*Buffers: shared\(.*\)/\1/p' | head -1 | grep -o '[0-9]\+' | awk '{s+=$1} END{print s+0}')
    lake=0
    if [ "$t" = vlake ]; then
      lake=$(q -c "SELECT vlake.io_stats_reset()" -c "$sql" -c "SELECT coalesce(sum(bytes_requested), 0) FROM vlake.io_stats" | tail -1)
      q -c "SELECT vlake.io_stats_reset()" -c "$sql" \
        -c "SELECT format('lake io ($form): %s get requests, %s bytes requested, %s bytes read from the store', sum(get_requests), sum(bytes_requested), sum(bytes_read)) FROM vlake.io_stats" | tail -1 | tee -a "$res"
    fi
    scan_bytes[$t.$form]=$((bufs * 8192 + lake))
    say "scan $t ($form: $sql): best ${scan_ms[$t.$form]} ms; bytes read $((scan_bytes[$t.$form])) = $bufs buffers x 8 kB + $lake lake bytes; scan tlist: $(grep -A1 'Seq Scan' "$work/scan-$t-$form.plan" | sed -n 's/ *Output: //p') (load before: $l)"
  done
done

# ---- 4. primary-key lookups ----
declare -A look_ms look_cold_ms
for t in heap vlake; do
  lookups_function "lookups_$t" "t_$t" | q >/dev/null
  # plan check: the lookup goes through the primary key
  q -c "EXPLAIN (COSTS OFF) SELECT id, duration, length(caption), vector_dims(embedding) FROM t_$t WHERE id = 42" | tr '\n' ' ' | sed 's/  */ /g' > "$work/lookup-$t.plan"
  l=$(load)
  out=$(q -c "SELECT round(lookups_$t($nlook, $rows, 0.5)::numeric, 1)" -c "SELECT round(lookups_$t($nlook, $rows, 0.5)::numeric, 1)")
  look_cold_ms[$t]=$(echo "$out" | sed -n 1p); look_ms[$t]=$(echo "$out" | sed -n 2p)
  say "lookups $t: $nlook in ${look_ms[$t]} ms warm (first run ${look_cold_ms[$t]} ms); plan: $(cat "$work/lookup-$t.plan") (load before: $l)"
done
if [ "${LOOKUP_IO:-1}" = 1 ]; then
  q -c "SELECT vlake.io_stats_reset()" -c "SELECT lookups_vlake($nlook, $rows, 0.5)" \
    -c "SELECT format('vlake lookups io (first run in a new backend): %s get requests, %s head requests, %s bytes requested, %s bytes read', sum(get_requests), sum(head_requests), sum(bytes_requested), sum(bytes_read)) FROM vlake.io_stats" \
    -c "SELECT lookups_vlake($nlook, $rows, 0.5)" \
    -c "SELECT format('vlake page cache after both runs: %s hits, %s misses, %s entries, %s bytes', hits, misses, entries, bytes) FROM vlake.page_cache_stats()" \
    | grep -E '^vlake (lookups io|page cache)' | tee -a "$res"
fi

# ---- 2. single-row INSERT transactions (last: they add delta rows) ----
# Two rounds, alternating heap / vlake (the machine is shared: one 30 s run
# of vlake once measured 0.40 x heap and 1.1 x heap on a rerun); the figure
# is the better round of each.
declare -A tps
for t in heap vlake; do
  cat > "$work/insert-$t.sql" <<SQL
\set r random(1, 1000)
INSERT INTO t_$t SELECT nextval('t_${t}_ins'), video_id, duration, aesthetic, caption, embedding FROM pool WHERE id = :r;
SQL
  chmod a+r "$work/insert-$t.sql"
done
for round in 1 2; do
  for t in heap vlake; do
    q -c "CHECKPOINT" >/dev/null
    l=$(load)
    out=$(vlake_as_pg "$bin/pgbench" -n -c 2 -j 2 -T "$secs" -f "$work/insert-$t.sql" -h "$sock" -p "$port" -U postgres postgres 2>&1)
    v=$(echo "$out" | sed -n 's/^tps = \([0-9]*\)\.[0-9]* (without.*/\1/p')
    [ -z "${tps[$t]:-}" ] || [ "$v" -gt "${tps[$t]}" ] && tps[$t]=$v
    say "insert $t round $round: $v TPS, $(echo "$out" | grep -E 'latency average|transactions actually' | tr '\n' ';' ) (load before: $l)"
  done
done
say "vlake delta after the inserts: $(q -c "SELECT count(*) FROM t_vlake") rows visible, $(vl_detail)"
say "# load at end: $(load)"

# ---- summary ----
rate() { awk -v n="$rows" -v s="$1" 'BEGIN{printf "%.0f", n/s}'; }
{
  echo
  echo "| figure | heap | vlake | vlake / heap | target |"
  echo "|---|---:|---:|---:|---|"
  echo "| COPY $rows rows, rows/s | $(rate "${copy_s[heap]}") | $(rate "${copy_s[vlake]}") | $(ratio "${copy_s[heap]}" "${copy_s[vlake]}") | ≥ 1 |"
  echo "| bytes after COPY | ${bytes[heap]} | ${bytes[vlake]} | $(ratio "${bytes[vlake]}" "${bytes[heap]}") | ≤ 1 |"
  echo "| bytes, vlake flushed (all in the lake; delta not yet vacuumed) | ${bytes[heap]} | ${bytes[vlake_flushed]} | $(ratio "${bytes[vlake_flushed]}" "${bytes[heap]}") | ≤ 1 |"
  echo "| bytes after flush and VACUUM | ${bytes[heap_vacuumed]} | ${bytes[vlake_vacuumed]} | $(ratio "${bytes[vlake_vacuumed]}" "${bytes[heap_vacuumed]}") | ≤ 1 |"
  echo "| single-row INSERT, TPS (pgbench -c 2, ${secs} s, better of 2 rounds) | ${tps[heap]} | ${tps[vlake]} | $(ratio "${tps[vlake]}" "${tps[heap]}") | ≥ 0.5 |"
  for form in plain exact; do
    echo "| sum(duration) ($form): bytes read | ${scan_bytes[heap.$form]} | ${scan_bytes[vlake.$form]} | vlake = $(awk -v a="${scan_bytes[vlake.$form]}" -v b="${bytes[vlake_vacuumed]}" 'BEGIN{printf "%.3f%%", 100*a/b}') of its table; heap $(awk -v a="${scan_bytes[heap.$form]}" -v b="${bytes[heap]}" 'BEGIN{printf "%.3f%%", 100*a/b}') | ≤ 5% |"
    echo "| sum(duration) ($form): ms, best of 3 warm | ${scan_ms[heap.$form]} | ${scan_ms[vlake.$form]} | $(ratio "${scan_ms[vlake.$form]}" "${scan_ms[heap.$form]}") | ≤ 1 |"
  done
  echo "| $nlook PK lookups, ms, warm | ${look_ms[heap]} | ${look_ms[vlake]} | $(ratio "${look_ms[vlake]}" "${look_ms[heap]}") | ≤ 2 |"
  echo "| (first run of the same lookups) | ${look_cold_ms[heap]} | ${look_cold_ms[vlake]} | $(ratio "${look_cold_ms[vlake]}" "${look_cold_ms[heap]}") | |"
  echo "| ADD PRIMARY KEY, s | ${idx_s[heap]} | ${idx_s[vlake]} | $(ratio "${idx_s[vlake]}" "${idx_s[heap]}") | |"
} | tee -a "$res"
if [ "${KEEP:-0}" = 1 ]; then
  echo "cluster kept: $bin/psql -h $sock -p $port -U postgres postgres  (stop: $bin/pg_ctl -D $data stop)"
fi
