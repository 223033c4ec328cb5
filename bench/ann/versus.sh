#!/usr/bin/env bash
# make bench-ann-1m / bench-ann-versus — the vlake index beside pgvector
# 0.8.6's HNSW (m = 16, ef_construction = 64) and IVFFlat, one run.
#
# DATASET=blend (default): 1,000,000 x 128 blends of two Fashion-MNIST
#   training images, randomly projected, plus noise (build/bin/fmblend,
#   seed 42); 1,000 queries made the same way from the test images; exact
#   top-10 in double precision by fmblend (independent of both engines).
# DATASET=fmnist: the 60,000 Fashion-MNIST training images (784-d, raw
#   pixels), the first NQ (default all 10,000) test images as queries,
#   truth by build/bin/ann_truth.
#
# Two clusters of the same PostgreSQL 15 server binaries and the same
# settings, run one after the other on one port: pgvector's (a private
# install built by scripts/peer-pgvector.sh from the tarball) and vlake's.
# The pgvector cluster is kept with its indexes under $WORK/pgv-$DATASET and
# its build figures in $WORK/results-$DATASET-pgvector-build.tsv, so a later
# run (PHASES=vlake) re-measures only vlake; PGV_REBUILD=1 starts it afresh.
#
# Per index: build wall time, size, peak build memory (bench/ann/memwatch.sh:
# Pss of private anonymous memory + dynamic shared memory of every backend of
# the cluster, sampled every 0.1 s, shared_buffers excluded, minus the
# sample before the build).  Time and memory come from two builds: the
# first after loading, timed with nothing else running; then the index is
# dropped and built again while memwatch samples.  Reading /proc/PID/smaps
# of every backend ten times a second costs ~10 ms of CPU per read and
# holds each process's mmap lock while it walks its page tables, which
# slowed vlake's 1.5 s Fashion-MNIST build by 10-30%.  Per setting of the sweep: recall@10 over every
# query, backend CPU per query (/proc/PID/stat of the backend running all
# queries in one statement, after an untimed pass of the same statement)
# and pgbench QPS (-M prepared -c 1, random query, BENCH_SECONDS).  At the
# end: per engine, the fastest setting reaching recall 0.95 and 0.99, and
# vlake's QPS over HNSW's there.
#
# Env: DATASET, PHASES ("pgvector vlake"), BENCH_SECONDS (10), WORK (cache
# dir, default build/bench-ann-versus), PORT, VLAKE_PROBES, HNSW_EF,
# IVF_PROBES, IVF_LISTS, SHARED_BUFFERS (2GB), MWM (maintenance_work_mem, 4GB).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"

set_=${DATASET:-blend}
phases=${PHASES:-"pgvector vlake"}
secs=${BENCH_SECONDS:-10}
work=${WORK:-$(vlake_work_dir bench-ann-versus)}
port=${PORT:-$(vlake_port 56400)}
sock="$work/sock"
mkdir -p "$work" "$sock"
[ "$(id -u)" -eq 0 ] && chown postgres: "$work" "$sock"
clk=$(getconf CLK_TCK)
fmdir=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
conf=("shared_buffers = '${SHARED_BUFFERS:-2GB}'" "maintenance_work_mem = '${MWM:-4GB}'"
      "max_parallel_maintenance_workers = 2" "max_parallel_workers = 8"
      "max_parallel_workers_per_gather = 0" "jit = off" "max_wal_size = '20GB'"
      "checkpoint_timeout = '1h'" "listen_addresses = ''")
load() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- data set (cached) ----
case $set_ in
  blend)
    n=${N:-1000000}; nq=${NQ:-1000}; dim=128; fmt=binary
    vlake_probes=${VLAKE_PROBES:-"0 3 4 6 8 12 16 24 32"}
    hnsw_ef=${HNSW_EF:-"10 20 40 64 100 160 250"}
    ivf_probes=${IVF_PROBES:-"1 2 4 8 16 32 64"}
    ivf_lists=${IVF_LISTS:-1000}
    ds="$work/data-blend-$n-$nq"
    if [ ! -s "$ds/truth10.tsv" ]; then
      mkdir -p "$ds"
      echo "generating the data set and its exact top-10 (build/bin/fmblend) ..."
      build/bin/fmblend base "$fmdir" "$n" 42 > "$ds/base.tmp" && mv "$ds/base.tmp" "$ds/base.bin"
      build/bin/fmblend query "$fmdir" "$nq" 42 > "$ds/query.tmp" && mv "$ds/query.tmp" "$ds/query.bin"
      build/bin/fmblend truth "$fmdir" "$n" "$nq" 42 10 > "$ds/truth.tmp" && mv "$ds/truth.tmp" "$ds/truth10.tsv"
    fi
    base="$ds/base.bin"; query="$ds/query.bin" ;;
  fmnist)
    n=60000; nq=${NQ:-10000}; dim=784; fmt=text
    vlake_probes=${VLAKE_PROBES:-"0 4 6 8 12 16 24"}
    hnsw_ef=${HNSW_EF:-"10 20 40 64 100 160"}
    ivf_probes=${IVF_PROBES:-"1 2 4 8 16 32"}
    ivf_lists=${IVF_LISTS:-245}
    ds="$work/data-fmnist-$nq"
    if [ ! -s "$ds/truth10.tsv" ]; then
      # the first NQ test images (ann_truth prints queries in order)
      mkdir -p "$ds"
      build/bin/fmnist copy "$fmdir/train-images-idx3-ubyte.gz" "$fmdir/train-labels-idx1-ubyte.gz" | cut -f1,4 > "$ds/base.txt"
      build/bin/fmnist copy "$fmdir/t10k-images-idx3-ubyte.gz" "$fmdir/t10k-labels-idx1-ubyte.gz" | cut -f1,4 > "$ds/query.all"
      head -n "$nq" "$ds/query.all" > "$ds/query.txt"
      build/bin/ann_truth "$fmdir/train-images-idx3-ubyte.gz" "$fmdir/t10k-images-idx3-ubyte.gz" 10 > "$ds/truth.all"
      head -n "$nq" "$ds/truth.all" > "$ds/truth.tmp"
      mv "$ds/truth.tmp" "$ds/truth10.tsv"
    fi
    base="$ds/base.txt"; query="$ds/query.txt" ;;
  *) echo "DATASET is blend or fmnist" >&2; exit 2 ;;
esac
copyopt=$([ "$fmt" = binary ] && echo "(FORMAT binary)" || echo "")

psql_() { local b=$1; shift; vlake_as_pg "$b/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

load_tables() { # load_tables BIN TABLE... — items tables, queries, truth
  local b=$1 t; shift
  for t in "$@"; do
    psql_ "$b" -c "CREATE TABLE $t (id int, embedding vector($dim))" \
               -c "ALTER TABLE $t ALTER COLUMN embedding SET STORAGE PLAIN"
    psql_ "$b" -c "COPY $t FROM STDIN $copyopt" < "$base"
  done
  psql_ "$b" -c "CREATE TABLE queries (id int PRIMARY KEY, embedding vector($dim))" \
             -c "ALTER TABLE queries ALTER COLUMN embedding SET STORAGE PLAIN" \
             -c "CREATE TABLE truth (qid int, ids int[], kth float8)"
  psql_ "$b" -c "COPY queries FROM STDIN $copyopt" < "$query"
  psql_ "$b" -c "COPY truth FROM STDIN" < "$ds/truth10.tsv"
  psql_ "$b" -c "VACUUM ANALYZE" -c "CHECKPOINT"
}

build_index() { # build_index BIN DATA INDEX "CREATE INDEX ..." — prints "seconds peak_MB"
  local b=$1 d=$2 idx=$3 sql=$4 pm t0 t1 mw peak basekb
  pm=$(head -1 "$d/postmaster.pid")
  # the timed build, unobserved
  sleep 0.5
  t0=$(date +%s.%N)
  psql_ "$b" -c "$sql" >/dev/null
  t1=$(date +%s.%N)
  # the same build again, for its peak memory
  psql_ "$b" -c "DROP INDEX $idx" >/dev/null
  rm -f "$work/mem.out"
  bench/ann/memwatch.sh "$pm" "$work/mem.out" & mw=$!
  sleep 0.5
  psql_ "$b" -c "$sql" >/dev/null
  kill -TERM "$mw"; wait "$mw" || true
  read -r peak basekb < "$work/mem.out"
  echo "$(echo "$t1 - $t0" | bc) $(( (peak - basekb) / 1024 ))"
}

# run_setting BIN TABLE "SET ..." — "recall cpu_us wall_us pgbench_qps min_rows"
run_setting() {
  local b=$1 tbl=$2 sets=$3 r qps
  local q="SELECT q.id AS qid, x.id, x.d FROM queries q,
    LATERAL (SELECT id, embedding <-> q.embedding AS d FROM $tbl ORDER BY embedding <-> q.embedding LIMIT 10) x"
  r=$(psql_ "$b" -At -F ' ' <<SQL | tail -1
$sets
CREATE TEMP TABLE warm AS $q;
SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t0,
       clock_timestamp() AS w0 \gset
CREATE TEMP TABLE got AS $q;
SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t1,
       clock_timestamp() AS w1 \gset
SELECT round(sum(CASE WHEN g.id = ANY (tr.ids) OR g.d <= tr.kth * (1 + 1e-6) THEN 1 ELSE 0 END)::numeric
             / (SELECT sum(cardinality(ids)) FROM truth), 4),
       round(((:'t1'::int[])[1] + (:'t1'::int[])[2] - (:'t0'::int[])[1] - (:'t0'::int[])[2])
             * 1e6 / $clk / $nq),
       round(extract(epoch FROM :'w1'::timestamptz - :'w0'::timestamptz) * 1e6 / $nq),
       (SELECT min(c) FROM (SELECT count(*) c FROM got GROUP BY qid) s)
FROM truth tr JOIN got g ON g.qid = tr.qid;
SQL
)
  local qmin qmax
  read -r qmin qmax <<<"$(psql_ "$b" -At -F ' ' -c "SELECT min(id), max(id) FROM queries")"
  cat > "$work/q_$tbl.sql" <<SQL
\set qid random($qmin, $qmax)
SELECT id FROM $tbl ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = :qid) LIMIT 10;
SQL
  chmod a+r "$work/q_$tbl.sql"
  local opts; opts=$(echo "$sets" | sed -E 's/SET ([a-z_.]+) = ([^;]+);/-c \1=\2 /g')
  qps=$(vlake_as_pg env PGOPTIONS="$opts" "$b/pgbench" -n -M prepared -c 1 -T "$secs" -h "$sock" -p "$port" \
        -U postgres -f "$work/q_$tbl.sql" postgres 2>/dev/null | awk '/^tps/{printf "%.0f", $3}')
  read -r rc cpu wall minrows <<<"$r"
  echo "$rc $cpu $wall ${qps:-0} $minrows"
}

sweep() { # sweep BIN ENGINE TABLE GUC VALUES... — appends to $res
  local b=$1 eng=$2 tbl=$3 guc=$4 v out; shift 4
  for v in "$@"; do
    out=$(run_setting "$b" "$tbl" "SET $guc = $v;")
    read -r rc cpu wall qps minrows <<<"$out"
    printf '%s\t%s=%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$eng" "$guc" "$v" "$rc" "$cpu" "$wall" "$qps" "$minrows" "$(load)" | tee -a "$res"
  done
}

echo "== $set_: $n x $dim, $nq queries; $(nproc) cores shared with other sessions; $(date -u '+%F %T') UTC; load $(load)"
echo "settings (both clusters): ${conf[*]}"

# ------------------------------------------------------------ pgvector ----
if [[ " $phases " == *" pgvector "* ]]; then
  pgbin=$(scripts/peer-pgvector.sh "$work/pgv")
  pgd="$work/pgv-$set_/data"
  bres="$work/results-$set_-pgvector-build.tsv"
  if [ -n "${PGV_REBUILD:-}" ] || [ ! -s "$bres" ]; then
    vlake_cluster_stop "$pgbin" "$pgd"
    rm -rf "$work/pgv-$set_"; mkdir -p "$work/pgv-$set_"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$work/pgv-$set_"
    vlake_as_pg "$pgbin/initdb" -D "$pgd" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
    { echo "port = $port"; echo "unix_socket_directories = '$sock'"; printf '%s\n' "${conf[@]}"; } \
      | vlake_as_pg tee -a "$pgd/postgresql.conf" >/dev/null
    vlake_as_pg "$pgbin/pg_ctl" -D "$pgd" -l "$pgd/server.log" -w -t 60 start >/dev/null
    psql_ "$pgbin" -c "CREATE EXTENSION vector"
    load_tables "$pgbin" items items_ivf
    echo "pgvector $(psql_ "$pgbin" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'"); load $(load)"
    : > "$bres.tmp"
    read -r s m <<<"$(build_index "$pgbin" "$pgd" items_hnsw "CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)")"
    sz=$(psql_ "$pgbin" -At -c "SELECT pg_relation_size('items_hnsw')")
    printf 'hnsw\t%s\t%s\t%s\t%s\t%s\n' "$s" "$sz" "$m" "$(load)" "$(date -u '+%F %T')" | tee -a "$bres.tmp"
    read -r s m <<<"$(build_index "$pgbin" "$pgd" items_ivf_idx "CREATE INDEX items_ivf_idx ON items_ivf USING ivfflat (embedding vector_l2_ops) WITH (lists = $ivf_lists)")"
    sz=$(psql_ "$pgbin" -At -c "SELECT pg_relation_size('items_ivf_idx')")
    printf 'ivfflat\t%s\t%s\t%s\t%s\t%s\n' "$s" "$sz" "$m" "$(load)" "$(date -u '+%F %T')" | tee -a "$bres.tmp"
    psql_ "$pgbin" -c "CHECKPOINT"
    mv "$bres.tmp" "$bres"
  else
    vlake_cluster_stop "$pgbin" "$pgd"
    vlake_as_pg "$pgbin/pg_ctl" -D "$pgd" -l "$pgd/server.log" -w -t 60 start >/dev/null
    echo "pgvector cluster kept from an earlier run ($pgd); build figures from $bres"
  fi
  res="$work/results-$set_-pgvector.tsv"; : > "$res"
  sweep "$pgbin" hnsw items hnsw.ef_search $hnsw_ef
  sweep "$pgbin" ivfflat items_ivf ivfflat.probes $ivf_probes
  vlake_cluster_stop "$pgbin" "$pgd"
fi

# --------------------------------------------------------------- vlake ----
if [[ " $phases " == *" vlake "* ]]; then
  vbin=$(vlake_private_install "$work/vlake-inst")
  vd="$work/vlake-$set_/data"; lake="$work/vlake-$set_/lake"
  rm -rf "$work/vlake-$set_"; mkdir -p "$lake"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$work/vlake-$set_"
  vlake_cluster_start "$vbin" "$vd" "$port" "$sock" "${conf[@]}" \
    "vlake.allowed_file_roots = '$lake'" "vlake.default_location = 'file://$lake'"
  trap 'vlake_cluster_stop "$vbin" "$vd"' EXIT
  psql_ "$vbin" -c "CREATE EXTENSION vlake"
  load_tables "$vbin" items
  echo "vlake $(git rev-parse --short HEAD); load $(load)"
  bres="$work/results-$set_-vlake-build.tsv"
  read -r s m <<<"$(build_index "$vbin" "$vd" items_vlake "CREATE INDEX items_vlake ON items USING vlake (embedding vector_l2_ops)")"
  # the metapage relation + the current part's lake files (the dropped first
  # build's part waits for vlake.index_gc)
  sz=$(psql_ "$vbin" -At -c "SELECT pg_relation_size('items_vlake')")
  for f in $(psql_ "$vbin" -At -c "SELECT unnest(files) FROM vlake.index_info('items_vlake')"); do
    sz=$(( sz + $(stat -c %s "$lake/$f") ))
  done
  warm=$(psql_ "$vbin" -At -c "SELECT vlake.prewarm('items_vlake')")
  lists=$(psql_ "$vbin" -At -c "SELECT lists FROM vlake.index_info('items_vlake')")
  # as pgvector's side checkpoints after its builds: the lake files just
  # written (512 MB at 1M) are flushed before the sweep, not during it
  psql_ "$vbin" -c "CHECKPOINT"; sync -f "$lake"
  printf 'vlake\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$sz" "$m" "$(load)" "$(date -u '+%F %T')" "$warm" "$lists" | tee "$bres"
  res="$work/results-$set_-vlake.tsv"; : > "$res"
  sweep "$vbin" vlake items vlake.probes $vlake_probes
fi

# ------------------------------------------------------------- summary ----
echo
echo "== builds (engine, seconds, index bytes, peak build memory MB, load, date[, vlake warm bytes, lists]) =="
cat "$work/results-$set_-pgvector-build.tsv" "$work/results-$set_-vlake-build.tsv" 2>/dev/null || true
echo "== sweep (engine, setting, recall@10, backend CPU us/query, one-statement wall us/query, pgbench QPS, fewest rows, load) =="
cat "$work/results-$set_-pgvector.tsv" "$work/results-$set_-vlake.tsv" 2>/dev/null || true
echo "== fastest setting at recall >= target (QPS = 1e6 / backend CPU; pgbench QPS) =="
cat "$work/results-$set_-pgvector.tsv" "$work/results-$set_-vlake.tsv" 2>/dev/null | awk -F'\t' '
  { for (t = 1; t <= 2; t++) { target = (t == 1 ? 0.95 : 0.99)
      if ($3 + 0 >= target) { q = 1e6 / ($4 > 0 ? $4 : 1)
        if (q > best[$1, t]) { best[$1, t] = q; set[$1, t] = $2; rec[$1, t] = $3; pgb[$1, t] = $6 } } } }
  END { for (t = 1; t <= 2; t++) { target = (t == 1 ? 0.95 : 0.99)
      for (e in eng) ; split("vlake hnsw ivfflat", E, " ")
      for (i = 1; i <= 3; i++) if (best[E[i], t])
        printf "recall >= %.2f  %-8s %-20s recall %s  %6.0f QPS (CPU)  %5d QPS (pgbench)\n", target, E[i], set[E[i], t], rec[E[i], t], best[E[i], t], pgb[E[i], t]
      if (best["vlake", t] && best["hnsw", t])
        printf "recall >= %.2f  vlake / HNSW: %.2fx (CPU), %.2fx (pgbench)\n", target, best["vlake", t] / best["hnsw", t], (pgb["hnsw", t] ? pgb["vlake", t] / pgb["hnsw", t] : 0) } }'
