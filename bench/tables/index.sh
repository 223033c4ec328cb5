#!/usr/bin/env bash
# make bench-tables-index — one copy of the vectors: Fashion-MNIST in a vlake
# table (USING vlake, embedded lake) with a vlake index, side by side with the
# same index on a heap table, in one run on one private cluster.
#
# The vlake table's index keeps no vectors.bin: its exact re-rank reads the
# table's vector ColumnGroup (docs/index.md, "On vlake tables").  Reported:
#   - build time of CREATE INDEX on each (serial: max_parallel_maintenance_workers = 0);
#   - lake bytes: the vlake index part (index.meta + codes.bin), the heap
#     index part (+ vectors.bin), the vlake table's vector ColumnGroup and all
#     its lake files, and (part + table files) / vector bytes;
#   - per vlake.probes setting: recall@10 over QUERIES test vectors (ground
#     truth: build/bin/ann_truth, exact integer L2 over the IDX files,
#     independent of vlake), the wall time per query of those queries in one
#     statement, and pgbench QPS (-M prepared -c 1): ROUNDS rounds of
#     BENCH_SECONDS each, heap and vlake alternating, reported as the median
#     QPS of each and the median (and range) of the rounds' vlake/heap
#     ratios — on a shared machine one run of each is mostly noise.
# Vectors are stored inline in the heap table (SET STORAGE PLAIN), as in
# bench-ann.  Env: FMNIST_DIR (/usr/share/datasets/fashion-mnist, package
# dataset-fashion-mnist), PROBES ("8 16 32"), QUERIES (10000), ROUNDS (5),
# BENCH_SECONDS (4), PAGE_CACHE (vlake.page_cache_size, default 64MB: the vlake table's
# re-rank values come through it; the heap table lives in shared_buffers =
# 1GB), PORT (default derived from the checkout), KEEP=1 keeps the cluster.
# Results: printed, and kept in build/bench-tables-index/results.txt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

ds=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
secs=${BENCH_SECONDS:-4}
rounds=${ROUNDS:-5}
probes_list=${PROBES:-"8 16 32"}
nq=${QUERIES:-10000}
make -s -j2 all build/bin/fmnist build/bin/ann_truth >/dev/null

work=$(vlake_work_dir bench-tables-index)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=${PORT:-$(vlake_port 56900)}
lake="$work/lake"
rm -rf "$lake"; mkdir -p "$lake"; [ "$(id -u)" -eq 0 ] && chown postgres: "$lake" "$work"
res="$work/results.txt"; : > "$res"
vlake_cluster_start "$bin" "$data" "$port" "$sock" \
  "vlake.allowed_file_roots = '$lake'" "vlake.default_location = 'file://$lake'" \
  "maintenance_work_mem = '1GB'" "shared_buffers = '1GB'" "jit = off" \
  "max_parallel_workers_per_gather = 0" "max_parallel_maintenance_workers = 0" \
  "vlake.page_cache_size = '${PAGE_CACHE:-64MB}'"
if [ -z "${KEEP:-}" ]; then trap 'vlake_cluster_stop "$bin" "$data"' EXIT; fi
psql() { vlake_as_pg "$bin/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

# ---- ground truth (cached: it does not depend on vlake) ----
truth="$work/truth10.tsv"
if [ ! -s "$truth" ]; then
  echo "computing exact ground truth (ann_truth) ..."
  build/bin/ann_truth "$ds/train-images-idx3-ubyte.gz" "$ds/t10k-images-idx3-ubyte.gz" 10 > "$truth.tmp"
  mv "$truth.tmp" "$truth"
fi
chmod a+r "$truth"

# ---- load: the same rows into a heap table and a vlake table ----
psql -c "CREATE EXTENSION vlake" \
     -c "CREATE TABLE fm_test (id int PRIMARY KEY, label int, category text, embedding vector(784))" \
     -c "CREATE TABLE fm_heap (id int PRIMARY KEY, label int, category text, embedding vector(784))" \
     -c "ALTER TABLE fm_heap ALTER COLUMN embedding SET STORAGE PLAIN" \
     -c "CREATE TABLE fm_lake (id int PRIMARY KEY, label int, category text, embedding vector(784))
           USING vlake WITH (location = 'file://$lake/fm_lake/')" \
     -c "CREATE TABLE truth (qid int, ids int[], kth float8)"
build/bin/fmnist copy "$ds/t10k-images-idx3-ubyte.gz" "$ds/t10k-labels-idx1-ubyte.gz" | psql -c "COPY fm_test FROM STDIN"
build/bin/fmnist copy "$ds/train-images-idx3-ubyte.gz" "$ds/train-labels-idx1-ubyte.gz" | psql -c "COPY fm_heap FROM STDIN"
# every row into the lake (no delta rows): COPY past a threshold of 0
build/bin/fmnist copy "$ds/train-images-idx3-ubyte.gz" "$ds/train-labels-idx1-ubyte.gz" \
  | psql -c "SET vlake.copy_lake_threshold = 0" -c "COPY fm_lake FROM STDIN"
psql -c "COPY truth FROM '$truth'" -c "VACUUM ANALYZE fm_heap" -c "VACUUM ANALYZE fm_test" -c "ANALYZE fm_lake"

say "== bench-tables-index, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores shared with other work (load: $(cut -d' ' -f1-3 /proc/loadavg)) =="
say "rows: 60,000 x 784 (Fashion-MNIST train) in each table; queries: $nq of the 10,000 test vectors; probes: $probes_list; shared_buffers 1GB, vlake.page_cache_size ${PAGE_CACHE:-64MB}"

# ---- build ----
build_once() { # build_once TABLE — wall ms of CREATE INDEX
  psql -At -c "CHECKPOINT" -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" \
    -c "CREATE INDEX ${1}_idx ON $1 USING vlake (embedding vector_l2_ops)" \
    -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" \
    | awk 'NR==1{a=$1} NR==2{b=$1} END{printf "%.0f", b-a}'
}
heap_build=$(build_once fm_heap)
lake_build=$(build_once fm_lake)

# ---- lake bytes ----
part_bytes() { # part_bytes INDEX — bytes of the files of its current part
  psql -At -c "SELECT sum((pg_stat_file(regexp_replace(i.location, '^file://', '') ||
                                         CASE WHEN i.location LIKE '%/' THEN '' ELSE '/' END || f)).size)
                 FROM vlake.index_info('$1') i, unnest(i.files) f"
}
heap_part=$(part_bytes fm_heap_idx)
lake_part=$(part_bytes fm_lake_idx)
heap_files=$(psql -At -c "SELECT array_to_string(ARRAY(SELECT regexp_replace(f, '.*/', '') FROM vlake.index_info('fm_heap_idx') i, unnest(i.files) f), ' ')")
lake_files=$(psql -At -c "SELECT array_to_string(ARRAY(SELECT regexp_replace(f, '.*/', '') FROM vlake.index_info('fm_lake_idx') i, unnest(i.files) f), ' ')")
vec_bytes=$(psql -At -c "SELECT sum(size) FROM vlake.files WHERE relid = 'fm_lake'::regclass AND kind = 'vector_cg'")
table_bytes=$(psql -At -c "SELECT sum(bytes) FROM vlake.table_segments('fm_lake')")
# every object under the table's dataset root (segments, manifests, index part)
root_bytes=$(du -sb "$lake/fm_lake" | cut -f1)
lists=$(psql -At -c "SELECT lists FROM vlake.index_info('fm_lake_idx')")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.3f", a / b; else printf "n/a" }'; }
range() { echo "$(median "$@") ($(printf '%s\n' "$@" | sort -g | head -1)–$(printf '%s\n' "$@" | sort -g | tail -1))"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END{ if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mb() { awk -v a="$1" 'BEGIN{ printf "%.1f MB", a / 1048576 }'; }
say ""
say "build (serial, $lists lists): heap table $heap_build ms, vlake table $lake_build ms (vlake/heap $(ratio "$lake_build" "$heap_build"))"
say "index part, heap table ($heap_files): $(mb "$heap_part")"
say "index part, vlake table ($lake_files): $(mb "$lake_part")"
say "vlake table: vector ColumnGroup $(mb "$vec_bytes"), all segment files $(mb "$table_bytes"), dataset root on disk $(mb "$root_bytes")"
say "index part / vectors: vlake $(ratio "$lake_part" "$vec_bytes"), heap $(ratio "$heap_part" "$vec_bytes"); (vlake table files + its index part) / vectors: $(ratio $((table_bytes + lake_part)) "$vec_bytes")"

# ---- recall and QPS per setting, heap and vlake interleaved ----
recall_sql() { # recall_sql TABLE — recall@10 and wall µs per query of $nq queries in one statement
  cat <<SQL
SET enable_seqscan = off;
SELECT clock_timestamp() AS w0 \gset
CREATE TEMP TABLE got AS
  SELECT t.id AS qid, x.id, x.d FROM (SELECT * FROM fm_test WHERE id < $nq) t,
  LATERAL (SELECT id, embedding <-> t.embedding AS d FROM $1 ORDER BY embedding <-> t.embedding LIMIT 10) x;
SELECT clock_timestamp() AS w1 \gset
SELECT round(sum(CASE WHEN g.id = ANY (tr.ids) OR g.d <= tr.kth * (1 + 1e-6) THEN 1 ELSE 0 END)::numeric
             / (SELECT sum(cardinality(ids)) FROM truth WHERE qid < $nq), 4) AS recall,
       round(extract(epoch FROM :'w1'::timestamptz - :'w0'::timestamptz) * 1e6 / $nq) AS wall_us
  FROM truth tr JOIN got g ON g.qid = tr.qid;
SQL
}
qps() { # qps TABLE PROBES
  cat > "$work/q_$1.sql" <<SQL
\set qid random(0, 9999)
SELECT id FROM $1 ORDER BY embedding <-> (SELECT embedding FROM fm_test WHERE id = :qid) LIMIT 10;
SQL
  chmod a+r "$work/q_$1.sql"
  vlake_as_pg env PGOPTIONS="-c vlake.probes=$2" "$bin/pgbench" -n -M prepared -c 1 -T "$secs" \
    -h "$sock" -p "$port" -U postgres -f "$work/q_$1.sql" postgres 2>/dev/null | awk '/^tps/{printf "%.0f", $3}'
}
cpu_us() { # cpu_us TABLE PROBES — the backend's CPU time (utime + stime of /proc/self/stat) per
  # query over CPU_QUERIES prepared queries after 200 warm-up ones, in one session: less
  # sensitive to other work on the machine than wall-clock QPS
  local f="$work/cpu_$1.sql" n=${CPU_QUERIES:-3000}
  { echo "SET vlake.probes = $2;"
    echo "PREPARE q(int) AS SELECT id FROM $1 ORDER BY embedding <-> (SELECT embedding FROM fm_test WHERE id = \$1) LIMIT 10;"
    awk -v n=200 'BEGIN{srand(7); for (i = 0; i < n; i++) printf "EXECUTE q(%d);\n", int(rand() * 10000)}'
    echo "SELECT (string_to_array(pg_read_file('/proc/self/stat'), ' '))[14:15] AS c0 \\gset"
    awk -v n="$n" 'BEGIN{srand(11); for (i = 0; i < n; i++) printf "EXECUTE q(%d);\n", int(rand() * 10000)}'
    echo "SELECT (string_to_array(pg_read_file('/proc/self/stat'), ' '))[14:15] AS c1 \\gset"
    echo "SELECT round((((:'c1'::int[])[1] + (:'c1'::int[])[2]) - ((:'c0'::int[])[1] + (:'c0'::int[])[2]))"
    echo "       * 1e6 / $(getconf CLK_TCK) / $n) AS cpu_us;"
  } > "$f"
  chmod a+r "$f"
  psql -At -v ON_ERROR_STOP=1 -f "$f" | tail -1
}
say ""
say "| probes | recall@10 heap | recall@10 vlake | vlake/heap | µs/query heap | µs/query vlake | pgbench QPS heap | pgbench QPS vlake | QPS vlake/heap | CPU µs/query heap | CPU µs/query vlake | heap/vlake CPU (= QPS ratio on an idle core) |"
say "|---|---|---|---|---|---|---|---|---|---|---|---|"
for p in $probes_list; do
  read -r hr hw <<<"$( { echo "SET vlake.probes = $p;"; recall_sql fm_heap; } | psql -At -F ' ' | tail -1)"
  read -r lr lw <<<"$( { echo "SET vlake.probes = $p;"; recall_sql fm_lake; } | psql -At -F ' ' | tail -1)"
  hs=(); ls=(); rs=(); hc=(); lc=(); rc=()
  for ((r = 0; r < rounds; r++)); do
    hs+=("$(qps fm_heap "$p")"); ls+=("$(qps fm_lake "$p")"); rs+=("$(ratio "${ls[-1]}" "${hs[-1]}")")
    hc+=("$(cpu_us fm_heap "$p")"); lc+=("$(cpu_us fm_lake "$p")"); rc+=("$(ratio "${hc[-1]}" "${lc[-1]}")")
  done
  say "| $p | $hr | $lr | $(ratio "$lr" "$hr") | $hw | $lw | $(median "${hs[@]}") | $(median "${ls[@]}") | $(range "${rs[@]}") | $(median "${hc[@]}") | $(median "${lc[@]}") | $(range "${rc[@]}") |"
done
say ""
say "EXPLAIN ANALYZE of one query on each (warm):"
ex="EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM %s ORDER BY embedding <-> (SELECT embedding FROM fm_test WHERE id = 1) LIMIT 10"
for t in fm_heap fm_lake; do
  psql -c "$(printf "$ex" $t)" -c "$(printf "$ex" $t)" | grep -E "^ *vlake" | tail -2 | sed "s/^/  $t: /" | tee -a "$res"
done
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${KEEP:-}" ]; then
  echo "cluster kept: $bin/psql -h $sock -p $port -U postgres postgres"
fi
