#!/usr/bin/env bash
# make bench-ann — Fashion-MNIST ANN benchmark of the vlake index.
#
# Indexes the 60,000 train vectors (784-d) of Fashion-MNIST, queries with the
# 10,000 test vectors, one client.  Ground truth is computed independently of
# vlake by build/bin/ann_truth (exact integer L2 over the IDX files).
# Reports build time, warm in-memory size, recall@10 and QPS for several
# vlake.probes settings, and filtered queries at 1%, 10% and 50% selectivity.
# Env: FMNIST_DIR (default /usr/share/datasets/fashion-mnist), BENCH_SECONDS
# (pgbench duration per setting, default 15), PROBES (list to sweep),
# STORAGE (plain = vectors stored inline in the heap, the default here;
# "default" keeps the type's TOAST storage).  ORDER BY <-> makes the executor
# recompute the distance of every returned row from the heap tuple; with
# TOASTed 3 KB vectors that detoast costs as much as the index scan itself,
# for any index AM, so the figures are given with inline storage.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"

ds=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
secs=${BENCH_SECONDS:-15}
probes_list=${PROBES:-"0 8 12 16 24"}
work=$(vlake_work_dir bench-ann)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 55900)
lake="$work/lake"
mkdir -p "$lake"; [ "$(id -u)" -eq 0 ] && chown postgres: "$lake" "$work"
vlake_cluster_start "$bin" "$data" "$port" "$sock" \
  "vlake.allowed_file_roots = '$lake'" "vlake.default_location = 'file://$lake'" \
  "maintenance_work_mem = '1GB'" "shared_buffers = '1GB'" "jit = off" \
  "max_parallel_workers_per_gather = 0"
trap 'vlake_cluster_stop "$bin" "$data"' EXIT
psql() { vlake_as_pg "$bin/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

# ---- ground truth (cached: it does not depend on vlake) ----
truth="$work/truth10.tsv"
if [ ! -s "$truth" ]; then
  echo "computing exact ground truth (ann_truth) ..."
  build/bin/ann_truth "$ds/train-images-idx3-ubyte.gz" "$ds/t10k-images-idx3-ubyte.gz" 10 > "$truth.tmp"
  mv "$truth.tmp" "$truth"
fi
for pct in 1 10 50; do
  if [ ! -s "$work/truth10_$pct.tsv" ]; then
    build/bin/ann_truth "$ds/train-images-idx3-ubyte.gz" "$ds/t10k-images-idx3-ubyte.gz" 10 $pct > "$work/truth10_$pct.tsv.tmp"
    mv "$work/truth10_$pct.tsv.tmp" "$work/truth10_$pct.tsv"
  fi
done
chmod a+r "$work"/truth10*.tsv

# ---- load ----
psql -c "CREATE EXTENSION vlake" \
     -c "CREATE TABLE fm_train (id int PRIMARY KEY, label int, category text, embedding vector(784))" \
     -c "CREATE TABLE fm_test (id int PRIMARY KEY, label int, category text, embedding vector(784))" \
     -c "CREATE TABLE truth (qid int, ids int[], kth float8, pct int)"
if [ "${STORAGE:-plain}" = plain ]; then
  psql -c "ALTER TABLE fm_train ALTER COLUMN embedding SET STORAGE PLAIN" \
       -c "ALTER TABLE fm_test ALTER COLUMN embedding SET STORAGE PLAIN"
fi
build/bin/fmnist copy "$ds/train-images-idx3-ubyte.gz" "$ds/train-labels-idx1-ubyte.gz" | psql -c "COPY fm_train FROM STDIN"
build/bin/fmnist copy "$ds/t10k-images-idx3-ubyte.gz" "$ds/t10k-labels-idx1-ubyte.gz" | psql -c "COPY fm_test FROM STDIN"
psql -c "ALTER TABLE fm_train ADD COLUMN sel int" -c "UPDATE fm_train SET sel = id % 100" \
     -c "CREATE INDEX ON fm_train (sel)" -c "VACUUM ANALYZE fm_train" -c "VACUUM ANALYZE fm_test"
for f in "" _1 _10 _50; do
  p=${f#_}; p=${p:-100}
  psql -c "COPY truth (qid, ids, kth) FROM '$work/truth10$f.tsv'" -c "UPDATE truth SET pct = $p WHERE pct IS NULL"
done

echo "== machine: $(nproc) cores, shared with other work while this ran (load: $(cut -d' ' -f1-3 /proc/loadavg)) =="
# ---- build ----
build_once() { # build_once NAME "SET ...;" — prints the wall time in ms; the
  # build's DEBUG1 lines (workers launched, time per phase) go to $work/NAME.log
  psql -At -c "$2 SET client_min_messages = debug1" -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" \
    -c "CREATE INDEX $1 ON fm_train USING vlake (embedding vector_l2_ops)" \
    -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" 2>"$work/$1.log" \
    | awk 'NR==1{a=$1} NR==2{b=$1} END{printf "%.0f", b-a}'
}
psql -c "CHECKPOINT"
# the serial build first, for comparison (dropped again)
serial_ms=$(build_once fm_idx_serial "SET max_parallel_maintenance_workers = 0;")
psql -c "DROP INDEX fm_idx_serial" -c "CHECKPOINT"
echo "build, serial (max_parallel_maintenance_workers = 0): $serial_ms ms"
grep -o 'vlake index.*' "$work/fm_idx_serial.log" | sed 's/^/  /' || true
# the index the rest of the benchmark uses: default settings (parallel
# when the planner grants workers: max_parallel_maintenance_workers = 2)
build_ms=$(build_once fm_idx "")
psql -At -c "SELECT 'build: ' || $build_ms || ' ms; lists ' || lists || ', vectors ' || lake_vectors FROM vlake.index_info('fm_idx')"
grep -o 'vlake index.*' "$work/fm_idx.log" | sed 's/^/  /' || true
psql -At -c "SELECT 'warm in-memory part (centroids + all codes): ' || round(vlake.prewarm('fm_idx') / 1048576.0, 1) || ' MB'"

ex="EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM fm_train ORDER BY embedding <-> (SELECT embedding FROM fm_test WHERE id = 1) LIMIT 10"
echo "first query of a new backend, then the same query warm:"
psql -c "$ex" -c "$ex" | grep vlake

# ---- recall and QPS per setting ----
cat > "$work/q.sql" <<'SQL'
\set qid random(0, 9999)
SELECT id FROM fm_train ORDER BY embedding <-> (SELECT embedding FROM fm_test WHERE id = :qid) LIMIT 10;
SQL
chmod a+r "$work/q.sql"
recall_sql() { # recall_sql PCT WHERE — all 10,000 queries in one statement;
  # prints recall, fewest rows returned, backend CPU µs/query, wall µs/query
  cat <<SQL
SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t0,
       clock_timestamp() AS w0 \gset
CREATE TEMP TABLE got AS
  SELECT t.id AS qid, x.id, x.d FROM fm_test t,
  LATERAL (SELECT id, embedding <-> t.embedding AS d FROM fm_train $2 ORDER BY embedding <-> t.embedding LIMIT 10) x;
SELECT (string_to_array(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' '))[14:15] AS t1,
       clock_timestamp() AS w1 \gset
SELECT round(sum(CASE WHEN g.id = ANY (tr.ids) OR g.d <= tr.kth * (1 + 1e-6) THEN 1 ELSE 0 END)::numeric
             / (SELECT sum(cardinality(ids)) FROM truth WHERE pct = $1), 4) AS recall,
       min(n) AS min_rows,
       round(((:'t1'::int[])[1] + (:'t1'::int[])[2] - (:'t0'::int[])[1] - (:'t0'::int[])[2])
             * 1e6 / current_setting('bench.clk_tck', true)::numeric / 10000) AS cpu_us,
       round(extract(epoch FROM :'w1'::timestamptz - :'w0'::timestamptz) * 1e6 / 10000) AS wall_us
FROM truth tr JOIN got g ON g.qid = tr.qid AND tr.pct = $1
JOIN (SELECT qid, count(*) n FROM got GROUP BY qid) c ON c.qid = tr.qid;
SQL
}
clk=$(getconf CLK_TCK)
report() { # report LABEL "recall min_rows cpu_us wall_us" QPS
  read -r rc mr cpu wall <<<"$2"
  echo "$1: recall@10 $rc, fewest rows $mr, backend CPU ${cpu} us/query (=> $(( 1000000 / (cpu > 0 ? cpu : 1) )) QPS CPU-bound), one-statement wall ${wall} us/query, pgbench QPS $3"
}
for p in $probes_list; do
  r=$( { echo "SET bench.clk_tck = $clk; SET vlake.probes = $p; SELECT vlake.prewarm('fm_idx');"; recall_sql 100 ''; } | psql -At -F ' ' | tail -1)
  qps=$(vlake_as_pg env PGOPTIONS="-c vlake.probes=$p" "$bin/pgbench" -n -M prepared -c 1 -T "$secs" -h "$sock" -p "$port" -U postgres -f "$work/q.sql" postgres 2>/dev/null \
        | awk '/^tps/{printf "%.0f", $3}')
  report "probes=$p (0 = default)" "$r" "$qps"
done

# ---- filtered ----
for pct in 1 10 50; do
  r=$( { echo "SET bench.clk_tck = $clk; SELECT vlake.prewarm('fm_idx');"; recall_sql $pct "WHERE sel < $pct"; } | psql -At -F ' ' | tail -1)
  cat > "$work/qf.sql" <<SQL
\set qid random(0, 9999)
SELECT id FROM fm_train WHERE sel < $pct ORDER BY embedding <-> (SELECT embedding FROM fm_test WHERE id = :qid) LIMIT 10;
SQL
  chmod a+r "$work/qf.sql"
  plan=$(psql -At -c "EXPLAIN SELECT id FROM fm_train WHERE sel < $pct ORDER BY embedding <-> (SELECT embedding FROM fm_test WHERE id = 1) LIMIT 10" | grep -oE "(Index Scan using [a-z_]+ on fm_train|Seq Scan on fm_train|Bitmap Heap Scan on fm_train)" | head -1 || true)
  qps=$(vlake_as_pg "$bin/pgbench" -n -M prepared -c 1 -T "$secs" -h "$sock" -p "$port" -U postgres -f "$work/qf.sql" postgres 2>/dev/null | awk '/^tps/{printf "%.0f", $3}')
  report "filter ${pct}% [$plan]" "$r" "$qps"
done
