#!/usr/bin/env bash
# make bench-ann-bits — 64,000-bit strings (pgvector HNSW's bit limit):
# vlake's index beside pgvector's HNSW (bit_hamming_ops) in one run.
#
# Data, made in SQL from md5 (so both clusters load the same rows): 100
# random centres of 64,000 bits; row i is centre i % 100 XOR two noise
# strings (each bit 1 with p = 1/16) shifted by amounts drawn from i, so
# about 12% of a row's bits differ from its centre.  N rows (default
# 100,000), NQ queries (default 100) made the same way from other shifts.
# Truth: the exact Hamming top 10 of each query by a sequential scan with
# pgvector's <~> (an oracle independent of vlake), computed in pgvector's
# cluster and loaded into vlake's.
#
# Two clusters of one private install (vlake + pgvector 0.8.6 from
# scripts/peer-pgvector.sh), one after the other on the same port:
# pgvector's (no preloaded library) and vlake's.  Same settings for both:
# shared_buffers 2GB, maintenance_work_mem MWM (default 4GB; HNSW builds its
# graph in memory), max_parallel_maintenance_workers 2, jit off.
#   pgvector: CREATE INDEX ... USING hnsw (b bit_hamming_ops)
#             WITH (m = 16, ef_construction = 64); hnsw.ef_search swept.
#   vlake:    CREATE INDEX ... USING vlake (b bit_hamming_ops) (default
#             lists = sqrt(rows)); vlake.probes swept (0 = auto), then
#             vlake.rerank_from_heap off (the re-rank reads vectors.bin, not
#             the PLAIN column in place); then the build again at VLAKE_MWM
#             (default 256MB), which must spill.
# Per build: wall time and peak memory of the backends and workers
# (bench/ann/memwatch.sh).  Per setting: recall@10 (a returned row at the
# distance of the 10th true neighbour counts), backend CPU per query, QPS of
# one client.  Env: N, NQ, REPS, EF, PROBES, MWM, VLAKE_MWM, PORT, WORK.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"

n=${N:-100000}; nq=${NQ:-100}; reps=${REPS:-2}; bits=64000
efs=${EF:-"40 100"}
probes_list=${PROBES:-"0 8 16"}
mwm=${MWM:-4GB}; vmwm=${VLAKE_MWM:-256MB}
work=${WORK:-$(vlake_work_dir bench-ann-bits)}
port=${PORT:-$(vlake_port 56400)}
sock="$work/sock"; lake="$work/lake"
mkdir -p "$lake"; [ "$(id -u)" -eq 0 ] && chown postgres: "$lake" "$work"

bin=$(vlake_private_install "$work/install")
scripts/peer-pgvector.sh "$work/install" >/dev/null

common=("shared_buffers = '2GB'" "maintenance_work_mem = '$mwm'" "max_parallel_maintenance_workers = 2"
        "jit = off" "max_parallel_workers_per_gather = 0" "vlake.allowed_file_roots = '$lake'"
        "vlake.default_location = 'file://$lake'")
data=""
trap '[ -n "$data" ] && vlake_cluster_stop "$bin" "$data"' EXIT
psql() { vlake_as_pg "$bin/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
clk=$(getconf CLK_TCK)

load() { # load EXTENSION
  local l0 l1
  l0=$(date +%s.%N)
  psql <<SQL
CREATE EXTENSION $1;
CREATE FUNCTION rbits(s text, p int) RETURNS bit($bits) LANGUAGE sql IMMUTABLE AS \$\$
  SELECT ('x' || string_agg(md5(s || ':' || j), '' ORDER BY j))::bit($bits)
  FROM generate_series(1, $bits / 128) j \$\$;
CREATE TABLE centre AS SELECT k, rbits('c' || k, 0) AS b FROM generate_series(0, 99) k;
CREATE TABLE noise AS SELECT k, rbits('n' || k || 'a', 0) & rbits('n' || k || 'b', 0)
  & rbits('n' || k || 'c', 0) & rbits('n' || k || 'd', 0) AS b FROM generate_series(0, 63) k;
CREATE TABLE items (id int, b bit($bits));
ALTER TABLE items ALTER COLUMN b SET STORAGE PLAIN;
INSERT INTO items SELECT i, c.b # (n1.b >> ((i * 131) % 5000)) # (n2.b << ((i * 17) % 4000))
  FROM generate_series(1, $n) i JOIN centre c ON c.k = i % 100
  JOIN noise n1 ON n1.k = (i / 100) % 64 JOIN noise n2 ON n2.k = (i * 7 + 3) % 64;
CREATE TABLE queries (id int, b bit($bits));
INSERT INTO queries SELECT q, c.b # (n1.b << ((q * 71) % 5000 + 1)) # (n2.b >> ((q * 29) % 4000 + 1))
  FROM generate_series(1, $nq) q JOIN centre c ON c.k = (q * 37) % 100
  JOIN noise n1 ON n1.k = (q * 5) % 64 JOIN noise n2 ON n2.k = (q * 11 + 1) % 64;
VACUUM ANALYZE items; VACUUM ANALYZE queries; CHECKPOINT;
SQL
  l1=$(date +%s.%N)
  echo "  load: $(printf '%.0f' "$(echo "$l1 - $l0" | bc)") s for $n rows, table $(psql -At -c "SELECT pg_size_pretty(pg_table_size('items'))")"
}

build() { # build "CREATE INDEX ..." -> "seconds peak_MB"
  local pm t0 t1 mw peak basekb
  pm=$(head -1 "$data/postmaster.pid")
  rm -f "$work/mem.out"
  bench/ann/memwatch.sh "$pm" "$work/mem.out" & mw=$!
  sleep 0.5
  t0=$(date +%s.%N)
  psql -c "$1"
  t1=$(date +%s.%N)
  kill -TERM "$mw"; wait "$mw" || true
  read -r peak basekb < "$work/mem.out"
  echo "$(printf '%.1f' "$(echo "$t1 - $t0" | bc)") $(( (peak - basekb) / 1024 ))"
}

run() { # run "SET ...;" -> "recall cpu_us qps"
  {
    echo "$1 SET enable_seqscan = off;"
    echo "CREATE TEMP TABLE warmup AS SELECT q.id AS qid, x.id FROM queries q,
      LATERAL (SELECT id FROM items ORDER BY b <~> q.b LIMIT 10) x;"
    echo "SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t0,
                 extract(epoch FROM clock_timestamp()) AS w0 \gset"
    for r in $(seq 1 "$reps"); do
      echo "CREATE TEMP TABLE got$r AS SELECT q.id AS qid, x.id, x.d FROM queries q,
        LATERAL (SELECT id, b <~> q.b AS d FROM items ORDER BY b <~> q.b LIMIT 10) x;"
    done
    echo "SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t1,
                 extract(epoch FROM clock_timestamp()) AS w1 \gset"
    echo "SELECT round(count(*) FILTER (WHERE g.d <= t.kth)::numeric / (10 * $nq), 4),
       round(((:'t1'::int[])[1] + (:'t1'::int[])[2] - (:'t0'::int[])[1] - (:'t0'::int[])[2])
             * 1e6 / $clk / $nq / $reps),
       round($nq * $reps / (:w1 - :w0))
      FROM truth t JOIN got1 g ON g.qid = t.qid;"
  } | psql -At -F ' ' | tail -1
}

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; load before: $(cut -d' ' -f1-3 /proc/loadavg) =="
echo "== $n x bit($bits), $nq queries, $reps timed passes, Hamming =="

# ---- pgvector HNSW (and the truth, by a sequential scan)
data="$work/pgdata-pgvector"
vlake_cluster_start "$bin" "$data" "$port" "$sock" "${common[@]}" "shared_preload_libraries = ''"
echo "pgvector 0.8.6 HNSW (m = 16, ef_construction = 64):"
load vector
t0=$(date +%s.%N)
psql -c "CREATE TABLE truth AS SELECT q.id AS qid, max(x.d) AS kth FROM queries q,
  LATERAL (SELECT b <~> q.b AS d FROM items ORDER BY b <~> q.b LIMIT 10) x GROUP BY q.id"
psql -c "COPY truth TO STDOUT" > "$work/truth.tsv"
echo "  truth (sequential scan, pgvector <~>): $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s for $nq queries"
read -r s mem <<<"$(build "CREATE INDEX items_hnsw ON items USING hnsw (b bit_hamming_ops) WITH (m = 16, ef_construction = 64)")"
echo "  build: $s s wall, peak $mem MB (load after: $(cut -d' ' -f1-3 /proc/loadavg)); index size $(psql -At -c "SELECT pg_size_pretty(pg_relation_size('items_hnsw'))")"
for ef in $efs; do
  read -r rc cpu qps <<<"$(run "SET hnsw.ef_search = $ef;")"
  echo "  ef_search $ef: recall@10 $rc, backend CPU $cpu us/query, $qps QPS (1 client; load $(cut -d' ' -f1 /proc/loadavg))"
done
vlake_cluster_stop "$bin" "$data"; rm -rf "$data"

# ---- vlake
data="$work/pgdata-vlake"
rm -rf "${lake:?}"/*
vlake_cluster_start "$bin" "$data" "$port" "$sock" "${common[@]}"
echo "vlake (default options):"
load vlake
psql -c "CREATE TABLE truth (qid int, kth float8)"
psql -c "COPY truth FROM STDIN" < "$work/truth.tsv"
read -r s mem <<<"$(build "CREATE INDEX items_vlake ON items USING vlake (b bit_hamming_ops)")"
echo "  build: $s s wall, peak $mem MB (load after: $(cut -d' ' -f1-3 /proc/loadavg)); lake files $(du -sh "$lake" | cut -f1), warm part $(psql -At -c "SELECT round(vlake.prewarm('items_vlake') / 1048576.0) || ' MB'"), lists $(psql -At -c "SELECT lists FROM vlake.index_info('items_vlake')")"
for p in $probes_list; do
  read -r rc cpu qps <<<"$(run "SET vlake.probes = $p;")"
  echo "  probes $p (0 = auto): recall@10 $rc, backend CPU $cpu us/query, $qps QPS (1 client; load $(cut -d' ' -f1 /proc/loadavg))"
done
read -r rc cpu qps <<<"$(run "SET vlake.probes = 0; SET vlake.rerank_from_heap = off;")"
echo "  probes 0, vlake.rerank_from_heap off (re-rank from vectors.bin): recall@10 $rc, backend CPU $cpu us/query, $qps QPS (1 client; load $(cut -d' ' -f1 /proc/loadavg))"
psql -c "DROP INDEX items_vlake"
read -r s mem <<<"$(build "SET maintenance_work_mem = '$vmwm'; CREATE INDEX items_vlake ON items USING vlake (b bit_hamming_ops)")"
echo "  build at maintenance_work_mem $vmwm: $s s wall, peak $mem MB (load after: $(cut -d' ' -f1-3 /proc/loadavg))"
read -r rc cpu qps <<<"$(run "SET vlake.probes = 0;")"
echo "  probes 0: recall@10 $rc, backend CPU $cpu us/query, $qps QPS"
vlake_cluster_stop "$bin" "$data"; rm -rf "$data"; data=""
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg) =="
