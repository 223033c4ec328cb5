#!/usr/bin/env bash
# make bench-sparse — top-10 by inner product over sparsevec (docs/bm25-index.md,
# "Sparse vectors"; docs/benchmarks.md), side by side on one private cluster:
#   (a) index: SELECT id FROM sv ORDER BY emb <#> q LIMIT 10   (vlake_sparse index scan)
#   (b) exact: the same with index scans off (a sequential scan computing <#> per row + top-N sort)
# SPARSE_ROWS rows (100000) of random sparse vectors: 30,000 dimensions, 5-60
# nonzeros, dimensions skewed (dimension rank^3), weights in (0, 3]; 30
# queries of 5-60 nonzeros drawn the same way.  Each engine answers every
# query once (warm-up), then ROUNDS (3) rounds alternate the engines; reported:
# the median wall time per query (clock_timestamp() around each query in one
# plpgsql session), and their ratio.  Results also in build/bench-sparse/results.txt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"
rows=${SPARSE_ROWS:-100000}
rounds=${ROUNDS:-3}
make -s -j2 all >/dev/null
work=$VLAKE_SRC/build/bench-sparse
port=${PORT:-$(vlake_port 57900)}
mkdir -p "$work"; [ "$(id -u)" -eq 0 ] && chmod 777 "$work"
bin=$(vlake_private_install "$work/inst")
vlake_cluster_start "$bin" "$work/data" "$port" "$work/sock" "shared_buffers = 512MB" \
  "vlake.allowed_file_roots = '$work'"
trap 'vlake_cluster_stop "$bin" "$work/data"' EXIT
psql() { vlake_as_pg "$bin/psql" -h "$work/sock" -p "$port" -d postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql <<SQL
CREATE EXTENSION vlake;
CREATE FUNCTION rand_sv(seed int, lo int, hi int) RETURNS sparsevec LANGUAGE sql IMMUTABLE AS \$\$
  SELECT ('{' || string_agg(d::text || ':' || w::text, ',') || '}/30000')::sparsevec
    FROM (SELECT DISTINCT ON (d) d, w FROM (
            SELECT 1 + floor(30000 * power((abs(hashint8(seed::bigint * 1000 + j)) % 1000003) / 1000003.0, 3))::int AS d,
                   round((0.001 + 3 * (abs(hashint8(seed::bigint * 7919 + j)) % 100000) / 100000.0)::numeric, 4) AS w
              FROM generate_series(1, lo + abs(hashint4(seed)) % (hi - lo + 1)) j) s
          ORDER BY d, w) t \$\$;
CREATE TABLE sv (id int PRIMARY KEY, emb sparsevec(30000));
INSERT INTO sv SELECT i, rand_sv(i, 5, 60) FROM generate_series(1, $rows) i;
CREATE TABLE q (qid int, v sparsevec);
INSERT INTO q SELECT i, rand_sv(900000 + i, 5, 60) FROM generate_series(1, 30) i;
\timing on
CREATE INDEX sv_idx ON sv USING vlake_sparse (emb);
\timing off
VACUUM ANALYZE sv;
CREATE TABLE t (engine text, round int, qid int, ms float8);
CREATE PROCEDURE run(engine text, r int) LANGUAGE plpgsql AS \$\$
DECLARE x record; t0 timestamptz; ids int[];
BEGIN
  IF engine = 'index' THEN SET enable_seqscan = off; SET enable_indexscan = on;
  ELSE SET enable_indexscan = off; SET enable_seqscan = on; END IF;
  FOR x IN SELECT qid, v FROM q ORDER BY qid LOOP
    t0 := clock_timestamp();
    -- EXECUTE: planned each time under this engine's settings (no cached plan shared)
    EXECUTE 'SELECT array_agg(id) FROM (SELECT id FROM sv ORDER BY emb <#> \$1 LIMIT 10) s' INTO ids USING x.v;
    INSERT INTO t VALUES (engine, r, x.qid, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END \$\$;
CALL run('index', 0); CALL run('exact', 0);
-- the plans
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM sv ORDER BY emb <#> (SELECT v FROM q WHERE qid = 1) LIMIT 10;
RESET enable_seqscan; SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM sv ORDER BY emb <#> (SELECT v FROM q WHERE qid = 1) LIMIT 10;
SQL
for r in $(seq 1 "$rounds"); do psql -c "CALL run('index', $r)" -c "CALL run('exact', $r)"; done
{
  echo "bench-sparse: $rows rows, 30 queries, $rounds rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  psql -A -F ' ' -t -c "SELECT pg_size_pretty(pg_relation_size('sv')) AS heap, (SELECT part_bytes FROM vlake.bm25_index_info('sv_idx')) AS part_bytes" | sed 's/^/heap, index part bytes: /'
  psql -c "SELECT engine, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3) AS median_ms,
             round(avg(ms)::numeric, 3) AS mean_ms FROM t WHERE round > 0 GROUP BY engine ORDER BY engine"
  psql -At -c "SELECT 'exact / index, median per query: ' || round((percentile_cont(0.5) WITHIN GROUP (ORDER BY e.ms / i.ms))::numeric, 1)
             FROM t i JOIN t e USING (round, qid) WHERE i.engine = 'index' AND e.engine = 'exact' AND round > 0"
} | tee "$work/results.txt"
