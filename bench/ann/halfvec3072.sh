#!/usr/bin/env bash
# make bench-ann-3072 — a 3,072-dimension halfvec set (the size of OpenAI's
# text-embedding-3-large), vlake's index beside pgvector's HNSW in one run.
#
# Data: build/bin/embgen (300 topics x 10 sub-topics + noise, unit length,
# values rounded to half precision; seeded, so every run loads the same
# rows): N rows (default 100,000) and NQ queries (default 200) drawn from the
# same process, with the exact cosine top-10 computed by embgen in double
# precision (independent of vlake and pgvector).  Column halfvec(3072),
# STORAGE PLAIN (a 6 kB row fits a page: the executor's distance recheck of
# the returned rows reads no TOAST; both sides alike).
#
# Two clusters of one private install (vlake + pgvector 0.8.6 from
# scripts/peer-pgvector.sh), one after the other on the same port, never at
# the same time: pgvector's (no preloaded library) and vlake's (vlake
# preloaded).  Same settings for both: shared_buffers 2GB,
# maintenance_work_mem 4GB (HNSW builds its graph in memory),
# max_parallel_maintenance_workers 2, jit off.
#   pgvector: CREATE INDEX ... USING hnsw (embedding halfvec_cosine_ops)
#             WITH (m = 16, ef_construction = 64); hnsw.ef_search swept.
#   vlake:    CREATE INDEX ... USING vlake (embedding halfvec_cosine_ops)
#             (default lists = sqrt(rows)); vlake.probes swept (0 = auto).
# Per setting: recall@10 (a returned row at the distance of the 10th true
# neighbour counts), backend CPU per query (/proc, over REPS passes of the
# query set, after one untimed warm pass), wall QPS of one client over the
# same passes.  Env: N, NQ, REPS, EF (list), PROBES (list), PORT.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"

n=${N:-100000}; dim=3072; nq=${NQ:-200}; reps=${REPS:-3}; seed=3072
efs=${EF:-"40 100 200"}
probes_list=${PROBES:-"0 4 8 16"}
work=$(vlake_work_dir bench-ann-3072)
port=${PORT:-$(vlake_port 56300)}
sock="$work/sock"; lake="$work/lake"
mkdir -p "$lake"; [ "$(id -u)" -eq 0 ] && chown postgres: "$lake" "$work"

bin=$(vlake_private_install "$work/install")
scripts/peer-pgvector.sh "$work/install" >/dev/null

truth="$work/truth_${n}_${dim}_${nq}_${seed}.tsv"
if [ ! -s "$truth" ]; then
  echo "computing the exact cosine top-10 (embgen truth) ..."
  build/bin/embgen truth "$n" "$nq" "$dim" "$seed" 10 > "$truth.tmp"; mv "$truth.tmp" "$truth"
fi
chmod a+r "$truth"

common=("shared_buffers = '2GB'" "maintenance_work_mem = '4GB'" "max_parallel_maintenance_workers = 2"
        "jit = off" "max_parallel_workers_per_gather = 0" "vlake.allowed_file_roots = '$lake'"
        "vlake.default_location = 'file://$lake'")
data=""
trap '[ -n "$data" ] && vlake_cluster_stop "$bin" "$data"' EXIT
psql() { vlake_as_pg "$bin/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
clk=$(getconf CLK_TCK)

load() { # load EXTENSION
  psql -c "CREATE EXTENSION $1" \
       -c "CREATE TABLE items (id int, embedding halfvec($dim))" \
       -c "ALTER TABLE items ALTER COLUMN embedding SET STORAGE PLAIN" \
       -c "CREATE TABLE queries (id int, embedding halfvec($dim))" \
       -c "CREATE TABLE truth (qid int, ids int[], kth float8)"
  local l0 l1
  l0=$(date +%s.%N)
  build/bin/embgen base-bin "$n" "$dim" "$seed" | psql -c "COPY items FROM STDIN (FORMAT binary)"
  l1=$(date +%s.%N)
  build/bin/embgen query-bin "$nq" "$dim" "$seed" | psql -c "COPY queries FROM STDIN (FORMAT binary)"
  psql -c "COPY truth FROM '$truth'" -c "VACUUM ANALYZE items" -c "VACUUM ANALYZE queries"
  echo "  load: $(printf '%.0f' "$(echo "$l1 - $l0" | bc)") s for $n rows (COPY binary)"
}

build() { # build "CREATE INDEX ..." -> prints seconds
  local b0 b1
  b0=$(date +%s.%N)
  psql -c "$1"
  b1=$(date +%s.%N)
  printf '%.1f' "$(echo "$b1 - $b0" | bc)"
}

run() { # run "SET ...;" -> "recall cpu_us qps"
  {
    echo "$1 SET enable_seqscan = off;"
    echo "CREATE TEMP TABLE warmup AS SELECT q.id AS qid, x.id FROM queries q,
      LATERAL (SELECT id FROM items ORDER BY embedding <=> q.embedding LIMIT 10) x;"
    echo "SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t0,
                 extract(epoch FROM clock_timestamp()) AS w0 \gset"
    for r in $(seq 1 "$reps"); do
      echo "CREATE TEMP TABLE got$r AS SELECT q.id AS qid, x.id, x.d FROM queries q,
        LATERAL (SELECT id, embedding <=> q.embedding AS d FROM items ORDER BY embedding <=> q.embedding LIMIT 10) x;"
    done
    echo "SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t1,
                 extract(epoch FROM clock_timestamp()) AS w1 \gset"
    echo "SELECT round(sum(CASE WHEN g.id = ANY (t.ids) OR g.d <= t.kth * (1 + 1e-6) + 1e-6 THEN 1 ELSE 0 END)::numeric
             / (SELECT sum(cardinality(ids)) FROM truth), 4),
       round(((:'t1'::int[])[1] + (:'t1'::int[])[2] - (:'t0'::int[])[1] - (:'t0'::int[])[2])
             * 1e6 / $clk / $nq / $reps),
       round($nq * $reps / (:w1 - :w0))
      FROM truth t JOIN got1 g ON g.qid = t.qid;"
  } | psql -At -F ' ' | tail -1
}

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; load before: $(cut -d' ' -f1-3 /proc/loadavg) =="
echo "== $n x $dim halfvec, $nq queries, $reps timed passes, cosine =="

# ---- pgvector HNSW
data="$work/pgdata-pgvector"
vlake_cluster_start "$bin" "$data" "$port" "$sock" "${common[@]}" "shared_preload_libraries = ''"
echo "pgvector 0.8.6 HNSW (m = 16, ef_construction = 64):"
load vector
s=$(build "CREATE INDEX items_hnsw ON items USING hnsw (embedding halfvec_cosine_ops) WITH (m = 16, ef_construction = 64)")
echo "  build: $s s wall (load after: $(cut -d' ' -f1-3 /proc/loadavg)); index size $(psql -At -c "SELECT pg_size_pretty(pg_relation_size('items_hnsw'))")"
for ef in $efs; do
  read -r rc cpu qps <<<"$(run "SET hnsw.ef_search = $ef;")"
  echo "  ef_search $ef: recall@10 $rc, backend CPU $cpu us/query, $qps QPS (1 client; load $(cut -d' ' -f1 /proc/loadavg))"
done
vlake_cluster_stop "$bin" "$data"; rm -rf "$data"

# ---- vlake
data="$work/pgdata-vlake"
rm -rf "$lake"/*
vlake_cluster_start "$bin" "$data" "$port" "$sock" "${common[@]}"
echo "vlake (default options):"
load vlake
s=$(build "CREATE INDEX items_vlake ON items USING vlake (embedding halfvec_cosine_ops)")
echo "  build: $s s wall (load after: $(cut -d' ' -f1-3 /proc/loadavg)); lake files $(du -sh "$lake" | cut -f1), warm part $(psql -At -c "SELECT round(vlake.prewarm('items_vlake') / 1048576.0) || ' MB'"), lists $(psql -At -c "SELECT lists FROM vlake.index_info('items_vlake')")"
for p in $probes_list; do
  read -r rc cpu qps <<<"$(run "SET vlake.probes = $p;")"
  echo "  probes $p (0 = auto): recall@10 $rc, backend CPU $cpu us/query, $qps QPS (1 client; load $(cut -d' ' -f1 /proc/loadavg))"
done
vlake_cluster_stop "$bin" "$data"; rm -rf "$data"; data=""
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg) =="
