#!/usr/bin/env bash
# make bench-ann-cold — cold query of a vlake index whose files are on S3.
#
# Fashion-MNIST train vectors indexed with location = s3://… on the
# project's S3 test server (loopback), then: server restarted, local disk
# cache emptied, 25 ms added to every S3 request; the first query of a new
# backend is timed and its bytes / round trips reported, then recall@10 of
# the next queries against the exact ground truth (bench/ann/run.sh computes
# it; run that first or let this script compute it).
# DATASET=blend: the same over bench/ann/versus.sh's 1,000,000 x 128 set
# (build/bin/fmblend; taken from BLEND_DIR, default that script's cache,
# generated when missing) and its 1,000 queries.  The recall of the cold
# queries is compared with that of the same queries run again, warm.
# Env: FMNIST_DIR, S3_LATENCY_MS (default 25), COLD_QUERIES (default 200),
# CACHE_SIZE (vlake.cache_size of the local disk cache, default 1GB; 0
# reads exact ranges straight from S3 instead of filling 64 kB cache blocks).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"

ds=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
set_=${DATASET:-fmnist}
lat=${S3_LATENCY_MS:-25}
nq=${COLD_QUERIES:-200}
work=$(vlake_work_dir bench-ann)
cold="$work/cold"; rm -rf "$cold"; mkdir -p "$cold"
bin=$(vlake_private_install "$cold/install")
data="$cold/pgdata"; sock="$cold/sock"; port=${PORT:-$(vlake_port 56300)}
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$cold"

eval "$(VLAKE_TEST_S3_OWNER_PID=$$ test/tools/s3server/start.sh "$cold/s3")"
vlake_cluster_start "$bin" "$data" "$port" "$sock" \
  "maintenance_work_mem = '1GB'" "shared_buffers = '1GB'" "jit = off" \
  "max_parallel_workers_per_gather = 0" "vlake.cache_dir = '$cold/cache'" \
  "vlake.cache_size = '${CACHE_SIZE:-1GB}'"
trap 'vlake_cluster_stop "$bin" "$data"; kill "$s3_pid" 2>/dev/null || true' EXIT
psql() { vlake_as_pg "$bin/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
admin() { curl -s -X "$1" -H 'content-type: application/json' "$VLAKE_TEST_S3_ADMIN$2" ${3:+-d "$3"}; }

if [ "$set_" = blend ]; then
  items=items; queries=queries; q0=1; dim=128
  bd=${BLEND_DIR:-$(vlake_work_dir bench-ann-versus)/data-blend-1000000-1000}
  if [ ! -s "$bd/truth10.tsv" ]; then
    mkdir -p "$bd"
    build/bin/fmblend base "$ds" 1000000 42 > "$bd/base.tmp" && mv "$bd/base.tmp" "$bd/base.bin"
    build/bin/fmblend query "$ds" 1000 42 > "$bd/query.tmp" && mv "$bd/query.tmp" "$bd/query.bin"
    build/bin/fmblend truth "$ds" 1000000 1000 42 10 > "$bd/truth.tmp" && mv "$bd/truth.tmp" "$bd/truth10.tsv"
  fi
  truth="$bd/truth10.tsv"
else
  items=fm_train; queries=fm_test; q0=0; dim=784
  truth="$work/truth10.tsv"
  if [ ! -s "$truth" ]; then
    build/bin/ann_truth "$ds/train-images-idx3-ubyte.gz" "$ds/t10k-images-idx3-ubyte.gz" 10 > "$truth.tmp"
    mv "$truth.tmp" "$truth"
  fi
fi
cp "$truth" "$cold/truth10.tsv"; chmod a+r "$cold/truth10.tsv"

psql <<SQL
CREATE EXTENSION vlake;
CREATE SERVER s3bench FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint '$VLAKE_TEST_S3_ENDPOINT', region 'us-east-1', url_style 'path', bucket '$VLAKE_TEST_S3_BUCKET');
BEGIN;
SET LOCAL log_statement = 'none';
CREATE USER MAPPING FOR CURRENT_USER SERVER s3bench
  OPTIONS (access_key '$VLAKE_TEST_S3_ACCESS_KEY', secret_key '$VLAKE_TEST_S3_SECRET_KEY');
COMMIT;
CREATE TABLE truth (qid int, ids int[], kth float8);
SQL
if [ "$set_" = blend ]; then
  psql -c "CREATE TABLE items (id int PRIMARY KEY, embedding vector(128))" \
       -c "CREATE TABLE queries (id int PRIMARY KEY, embedding vector(128))"
  psql -c "COPY items FROM STDIN (FORMAT binary)" < "$bd/base.bin"
  psql -c "COPY queries FROM STDIN (FORMAT binary)" < "$bd/query.bin"
else
  psql -c "CREATE TABLE fm_train (id int PRIMARY KEY, label int, category text, embedding vector(784))" \
       -c "CREATE TABLE fm_test (id int PRIMARY KEY, label int, category text, embedding vector(784))" \
       -c "ALTER TABLE fm_train ALTER COLUMN embedding SET STORAGE PLAIN" \
       -c "ALTER TABLE fm_test ALTER COLUMN embedding SET STORAGE PLAIN"
  build/bin/fmnist copy "$ds/train-images-idx3-ubyte.gz" "$ds/train-labels-idx1-ubyte.gz" | psql -c "COPY fm_train FROM STDIN"
  build/bin/fmnist copy "$ds/t10k-images-idx3-ubyte.gz" "$ds/t10k-labels-idx1-ubyte.gz" | psql -c "COPY fm_test FROM STDIN"
fi
psql -c "COPY truth FROM '$cold/truth10.tsv'" -c "VACUUM ANALYZE $items" -c "VACUUM ANALYZE $queries"
t0=$(date +%s.%N)
psql -c "CREATE INDEX fm_idx ON $items USING vlake (embedding vector_l2_ops) WITH (location = 's3://$VLAKE_TEST_S3_BUCKET/ann/')"
echo "build with files on S3 (no added latency): $(echo "$(date +%s.%N) - $t0" | bc) s"
psql -At -c "SELECT 'files: ' || array_to_string(files, ', ') FROM vlake.index_info('fm_idx')"

# cold: restart, empty the local disk cache, add latency
vlake_as_pg "$bin/pg_ctl" -D "$data" -w -m fast restart -l "$data/server.log" >/dev/null
rm -rf "$cold/cache"/* 2>/dev/null || true
admin PUT /latency "{\"ms\": $lat}" >/dev/null
echo "== cold: server restarted, disk cache empty (vlake.cache_size ${CACHE_SIZE:-1GB}), +${lat} ms per S3 request (machine shared with other work) =="
q="SELECT id FROM $items ORDER BY embedding <-> (SELECT embedding FROM $queries WHERE id = $q0) LIMIT 10"
[ -n "${VLAKE_TEST_S3_REQUEST_LOG:-}" ] && echo "--- cold query starts" >> "$VLAKE_TEST_S3_REQUEST_LOG"
psql -c "\\timing on" -c "$q" | grep -E "^Time"
[ -n "${VLAKE_TEST_S3_REQUEST_LOG:-}" ] && echo "--- cold query ends" >> "$VLAKE_TEST_S3_REQUEST_LOG"
vlake_as_pg "$bin/pg_ctl" -D "$data" -w -m fast restart -l "$data/server.log" >/dev/null
rm -rf "$cold/cache"/* 2>/dev/null || true
psql -c "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) $q" | grep -E "vlake|Execution Time"
# recall of the next queries, the warm tier filling up as lists are touched
psql -At -F ' ' <<SQL
\\timing on
CREATE TEMP TABLE got AS SELECT t.id AS qid, x.id, x.d FROM $queries t,
  LATERAL (SELECT id, embedding <-> t.embedding AS d FROM $items ORDER BY embedding <-> t.embedding LIMIT 10) x
  WHERE t.id < $q0 + $nq;
CREATE TEMP TABLE got_warm AS SELECT t.id AS qid, x.id, x.d FROM $queries t,
  LATERAL (SELECT id, embedding <-> t.embedding AS d FROM $items ORDER BY embedding <-> t.embedding LIMIT 10) x
  WHERE t.id < $q0 + $nq;
\\timing off
SELECT 'recall@10 over the first $nq queries (cold start): ' ||
  round(sum(CASE WHEN g.id = ANY (tr.ids) OR g.d <= tr.kth * (1 + 1e-6) THEN 1 ELSE 0 END)::numeric / ($nq * 10), 4)
FROM truth tr JOIN got g ON g.qid = tr.qid;
SELECT 'recall@10 of the same queries run again (warm): ' ||
  round(sum(CASE WHEN g.id = ANY (tr.ids) OR g.d <= tr.kth * (1 + 1e-6) THEN 1 ELSE 0 END)::numeric / ($nq * 10), 4)
FROM truth tr JOIN got_warm g ON g.qid = tr.qid;
SQL
# one of those queries again, in a new backend and in the same one: what a
# query costs once the lists it probes were fetched
q1="SELECT id FROM $items ORDER BY embedding <-> (SELECT embedding FROM $queries WHERE id = $q0 + 1) LIMIT 10"
echo "query $q0 + 1 again, new backend, then the same backend:"
psql -c "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) $q1" -c "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) $q1" | grep -E "vlake|Execution Time"
admin PUT /latency '{"ms": 0}' >/dev/null
