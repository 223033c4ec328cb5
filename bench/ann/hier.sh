#!/usr/bin/env bash
# make bench-ann-hier — query CPU of the vlake index with and without its
# second level (groups of lists) at many lists.
#
# A reproducible synthetic set (build/bin/synth: 1,000 Gaussian clusters,
# seeded) of N vectors (default 1,000,000 x 32 dims) indexed with
# lists = LISTS (default 4,000; above the default hierarchy_threshold of
# 1,024, so the build writes a second level of ceil(sqrt(4000)) = 64
# groups).  NQ queries (default 100) with an exact top-10 computed by synth
# in double precision (independent of vlake).  For each vlake.probes
# setting, the same index is queried with vlake.hierarchy_cover = 0 (the
# second level ignored: every centroid compared) and with the default (8):
# recall@10, backend CPU per query (from /proc, warm: the query set is run
# once untimed, then REPS times (default 10) timed, each set as one
# statement) and the EXPLAIN ANALYZE counters of one query.
# Env: N, DIM, LISTS, NQ, REPS, PROBES (list to sweep, 0 = automatic).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"

n=${N:-1000000}; dim=${DIM:-32}; lists=${LISTS:-4000}; nq=${NQ:-100}
probes_list=${PROBES:-"16 32 64 0"}
seed=42
work=$(vlake_work_dir bench-ann-hier)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 55950)
lake="$work/lake"
mkdir -p "$lake"; [ "$(id -u)" -eq 0 ] && chown postgres: "$lake" "$work"
vlake_cluster_start "$bin" "$data" "$port" "$sock" \
  "vlake.allowed_file_roots = '$lake'" "vlake.default_location = 'file://$lake'" \
  "maintenance_work_mem = '1GB'" "shared_buffers = '512MB'" "jit = off" \
  "max_parallel_workers_per_gather = 0"
trap 'vlake_cluster_stop "$bin" "$data"' EXIT
psql() { vlake_as_pg "$bin/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

truth="$work/truth_${n}_${dim}_${nq}.tsv"
if [ ! -s "$truth" ]; then
  echo "computing exact ground truth (synth truth) ..."
  build/bin/synth truth "$n" "$nq" "$dim" "$seed" 10 > "$truth.tmp"; mv "$truth.tmp" "$truth"
fi
chmod a+r "$truth"

psql -c "CREATE EXTENSION vlake" \
     -c "CREATE TABLE items (id int, embedding vector($dim))" \
     -c "ALTER TABLE items ALTER COLUMN embedding SET STORAGE PLAIN" \
     -c "CREATE TABLE queries (id int, embedding vector($dim))" \
     -c "CREATE TABLE truth (qid int, ids int[], kth float8)"
build/bin/synth base "$n" "$dim" "$seed" | psql -c "COPY items FROM STDIN"
build/bin/synth query "$nq" "$dim" "$seed" | psql -c "COPY queries FROM STDIN"
psql -c "COPY truth FROM '$truth'" -c "VACUUM ANALYZE items" -c "VACUUM ANALYZE queries"

echo "== machine: $(nproc) cores, shared with other engineers' builds and tests while this ran (load: $(cut -d' ' -f1-3 /proc/loadavg)) =="
b0=$(date +%s.%N)
psql -c "CREATE INDEX items_idx ON items USING vlake (embedding vector_l2_ops) WITH (lists = $lists)"
b1=$(date +%s.%N)
echo "build: $(echo "$b1 - $b0" | bc) s wall; $n x $dim, lists $lists"
psql -At -c "SELECT 'warm in-memory part: ' || round(vlake.prewarm('items_idx') / 1048576.0, 1) || ' MB'"

clk=$(getconf CLK_TCK)
reps=${REPS:-10}
run() { # run PROBES COVER -> "recall cpu_us"
  {
    echo "SET vlake.probes = $1; SET vlake.hierarchy_cover = $2; SET enable_seqscan = off;"
    echo "SELECT vlake.prewarm('items_idx') \gset"
    echo "CREATE TEMP TABLE warmup AS SELECT q.id AS qid, x.id FROM queries q,
      LATERAL (SELECT id FROM items ORDER BY embedding <-> q.embedding LIMIT 10) x;"
    echo "SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t0 \gset"
    for r in $(seq 1 "$reps"); do
      echo "CREATE TEMP TABLE got$r AS SELECT q.id AS qid, x.id, x.d FROM queries q,
        LATERAL (SELECT id, embedding <-> q.embedding AS d FROM items ORDER BY embedding <-> q.embedding LIMIT 10) x;"
    done
    echo "SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t1 \gset"
    echo "SELECT round(sum(CASE WHEN g.id = ANY (t.ids) OR g.d <= t.kth * (1 + 1e-6) THEN 1 ELSE 0 END)::numeric
             / (SELECT sum(cardinality(ids)) FROM truth), 4),
       round(((:'t1'::int[])[1] + (:'t1'::int[])[2] - (:'t0'::int[])[1] - (:'t0'::int[])[2])
             * 1e6 / $clk / $nq / $reps)
      FROM truth t JOIN got1 g ON g.qid = t.qid;"
  } | psql -At -F ' ' | tail -1
}
counters() { # counters PROBES COVER
  psql -At -c "SET vlake.probes = $1" -c "SET vlake.hierarchy_cover = $2" -c "SET enable_seqscan = off" \
    -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 1) LIMIT 10" \
    | grep '^vlake index:' | sed 's/^vlake index: scans=1 //'
}
for p in $probes_list; do
  for cover in 0 8; do
    read -r rc cpu <<<"$(run "$p" "$cover")"
    label=$([ "$cover" = 0 ] && echo "one level (cover 0)" || echo "two levels (cover $cover)")
    echo "probes=$p (0 = auto), $label: recall@10 $rc, backend CPU $cpu us/query; $(counters "$p" "$cover")"
  done
done
