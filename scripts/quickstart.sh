#!/usr/bin/env bash
# make quickstart: install, build, install vlake, start a throwaway cluster
# inside the checkout (build/quickstart, its own port), load Fashion-MNIST,
# run k-NN queries, and print how to connect.  A second run starts afresh.
#   scripts/quickstart.sh        run the demo (the cluster keeps running)
#   scripts/quickstart.sh stop   stop the demo cluster
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

port=${VLAKE_PORT:-55432}

if [ "${1:-}" = stop ]; then
  id postgres >/dev/null 2>&1 || { vlake_log "no demo cluster (nothing installed yet)"; exit 0; }
  work=$(vlake_work_dir quickstart)
  bin=$($PG_CONFIG --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
  vlake_cluster_stop "$bin" "$work/pgdata"; vlake_log "demo cluster stopped"; exit 0
fi

scripts/install-deps.sh quickstart
# Only after the install: on a fresh machine the postgres user the work
# directory is chosen for does not exist before it (and `stop` must find
# the same directory).
work=$(vlake_work_dir quickstart)
data="$work/pgdata"; sock="$work/sock"
bin=$($PG_CONFIG --bindir)
# Only what the demo runs: the extension and the Fashion-MNIST loader (the
# `tools` target also builds the unit tests and the libFuzzer target, whose
# runtime only the test dependencies install).
make -s -j2 all build/bin/fmnist
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo make -s install >/dev/null

# No vlake setting: the index files go to the embedded lake, a directory
# under the data directory (docs/index.md, "Where the files go").
vlake_cluster_start "$bin" "$data" "$port" "$sock"
lake="$data/vlake_lake"

psql_demo() { "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres "$@"; }
psql_demo -d postgres -c "CREATE DATABASE vlake_demo" >/dev/null

fm=/usr/share/datasets/fashion-mnist
vlake_log "loading Fashion-MNIST (60,000 train + 10,000 test vectors, 784 dims)"
psql_demo -d vlake_demo <<'SQL'
CREATE EXTENSION vlake;
-- a vlake table: its rows live in the lake (ColumnGroup Parquet files + manifest)
CREATE TABLE items   (id bigint PRIMARY KEY, label int, category text, embedding vector(784)) USING vlake;
CREATE TABLE queries (id bigint PRIMARY KEY, label int, category text, embedding vector(784));
SQL
build/bin/fmnist copy "$fm/train-images-idx3-ubyte.gz" "$fm/train-labels-idx1-ubyte.gz" |
  psql_demo -d vlake_demo -c "COPY items FROM STDIN"
build/bin/fmnist copy "$fm/t10k-images-idx3-ubyte.gz" "$fm/t10k-labels-idx1-ubyte.gz" |
  psql_demo -d vlake_demo -c "COPY queries FROM STDIN"
psql_demo -d vlake_demo -c "ANALYZE" >/dev/null

echo
echo "== the items table is a lake dataset: segments of ColumnGroup files and a published manifest"
psql_demo -d vlake_demo <<'SQL'
SELECT segment_id, first_row_id, end_row_id, files, pg_size_pretty(bytes) AS bytes FROM vlake.table_segments('items');
SELECT m->>'version' AS version, jsonb_array_length(m->'segments') AS segments,
       (SELECT string_agg(regexp_replace(g->>'path', '^.*/', '') || ' (' || (g->>'layout') || ')', ', ')
          FROM jsonb_array_elements(m->'segments'->0->'groups') g) AS first_segment_files
FROM vlake.table_manifest('items') m;
SQL

echo
echo "== building a vlake ANN index; its files are written to the embedded lake ($lake)"
psql_demo -d vlake_demo <<SQL
\\timing on
CREATE INDEX items_embedding_idx ON items USING vlake (embedding vector_l2_ops);
\\timing off
SELECT location FROM vlake.index_info('items_embedding_idx');
SELECT key, size FROM vlake.lake_list((SELECT location FROM vlake.index_info('items_embedding_idx'))) ORDER BY key;
SQL

echo "== k-NN through the index: the 5 training images nearest to test image 0 (an ankle boot)"
psql_demo -d vlake_demo <<'SQL'
SELECT id, category, round((embedding <-> (SELECT embedding FROM queries WHERE id = 0))::numeric, 1) AS l2_distance
FROM items
ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0)
LIMIT 5;
SQL

echo "== filtered k-NN: the 5 nearest sneakers to test image 0, and how the index served it"
psql_demo -d vlake_demo <<'SQL'
SELECT id, category, round((embedding <-> (SELECT embedding FROM queries WHERE id = 0))::numeric, 1) AS l2_distance
FROM items
WHERE category = 'Sneaker'
ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0)
LIMIT 5;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM items
WHERE category = 'Sneaker'
ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0)
LIMIT 5;
SQL

echo "== recall@10 of the index against exact search, over 100 test images"
psql_demo -d vlake_demo <<'SQL'
CREATE TEMP TABLE ann AS
  SELECT q.id AS qid, ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10) AS ids
  FROM queries q WHERE q.id < 100;
SET enable_indexscan = off;   -- exact: a sequential scan computes every distance
CREATE TEMP TABLE exact AS
  SELECT q.id AS qid, ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10) AS ids
  FROM queries q WHERE q.id < 100;
RESET enable_indexscan;
SELECT round(avg(cardinality(ARRAY(SELECT unnest(a.ids) INTERSECT SELECT unnest(e.ids)))::numeric / 10), 4)
       AS recall_at_10
FROM ann a JOIN exact e USING (qid);
SQL

cat <<EOF
The demo cluster is running (data in $data).
Connect:  psql -h $sock -p $port -U postgres vlake_demo
      or  psql -h localhost -p $port -U postgres vlake_demo
Stop it:  scripts/quickstart.sh stop
EOF
