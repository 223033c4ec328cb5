#!/usr/bin/env bash
# make bench-index-gc: cost of vlake index garbage collection.  A throwaway
# cluster builds a small vlake index (2,000 x 16-d, 10 lists) and merges it
# N times (default 200), leaving N unreferenced parts; then times the pass
# that retires them (one mark PUT each) and the pass that deletes them, over
# file:// and, when the S3 test server can be started, s3:// (loopback).
# Prints "location | figure | value".  Usage: bench/index_gc/run.sh [N]
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"
n=${1:-200}
make -s -j2 all >/dev/null

work=$(vlake_work_dir bench-index-gc)
bin=$(vlake_private_install "$work/install")
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 55300)
lake="$work/lake"; rm -rf "$lake"; mkdir -p "$lake"; [ "$(id -u)" -eq 0 ] && chown postgres: "$lake"
cleanup() { vlake_cluster_stop "$bin" "$data"; [ -n "${s3_pid:-}" ] && kill "$s3_pid" 2>/dev/null || true; }
trap cleanup EXIT
vlake_cluster_start "$bin" "$data" "$port" "$sock" "vlake.allowed_file_roots = '$lake'" "autovacuum = off"
psql_b() { vlake_as_pg "$bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres "$@"; }
psql_b -c "CREATE EXTENSION vlake" >/dev/null

# ms taken by one statement, in its own transaction
timed() { psql_b -c "SELECT round(extract(epoch FROM clock_timestamp() - now()) * 1000, 1) FROM ($1) x LIMIT 1"; }

run() { # run LABEL LOCATION
  local label=$1 loc=$2 tab
  tab="t_$(printf '%s' "$label" | tr -c 'a-z0-9' '_')"
  psql_b >/dev/null <<SQL
CREATE TABLE $tab (id int, embedding vector(16));
INSERT INTO $tab SELECT i, (SELECT array_agg(sin(i * 0.37 + j) ORDER BY j)::real[]::vector FROM generate_series(1, 16) j)
  FROM generate_series(1, 2000) i;
CREATE INDEX ${tab}_idx ON $tab USING vlake (embedding vector_l2_ops) WITH (lists = 10, location = '$loc');
SQL
  for i in $(seq 1 "$n"); do
    psql_b -c "INSERT INTO $tab VALUES (2000 + $i, (SELECT embedding FROM $tab WHERE id = $i)); SELECT vlake.merge('${tab}_idx')" >/dev/null
  done
  local parts; parts=$(psql_b -c "SELECT count(*) FROM vlake.index_gc_parts('$loc') WHERE state <> 'referenced'")
  echo "$label | unreferenced parts | $parts"
  echo "$label | retiring pass (ms) | $(timed "SELECT count(*) FROM vlake.index_gc('$loc')")"
  echo "$label | deleting pass (ms) | $(timed "SELECT count(*) FROM vlake.index_gc('$loc')")"
  echo "$label | parts left | $(psql_b -c "SELECT count(*) FROM vlake.index_gc_parts('$loc') WHERE state <> 'referenced'")"
  echo "$label | idle pass (ms) | $(timed "SELECT count(*) FROM vlake.index_gc('$loc')")"
  psql_b -c "DROP TABLE $tab" >/dev/null
}

echo "location | figure | value"
run "file://" "file://$lake/"
if [ -x test/tools/s3server/start.sh ] && [ -d test/tools/node_modules ]; then
  eval "$(test/tools/s3server/start.sh "$work/s3")"
  psql_b >/dev/null <<SQL
CREATE SERVER bench_s3 FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint '$VLAKE_TEST_S3_ENDPOINT', region 'us-east-1', url_style 'path', bucket '$VLAKE_TEST_S3_BUCKET');
BEGIN; SET LOCAL log_statement = 'none';
CREATE USER MAPPING FOR CURRENT_USER SERVER bench_s3
  OPTIONS (access_key '$VLAKE_TEST_S3_ACCESS_KEY', secret_key '$VLAKE_TEST_S3_SECRET_KEY');
COMMIT;
SQL
  run "s3:// (loopback)" "s3://$VLAKE_TEST_S3_BUCKET/bench-gc/"
else
  echo "s3:// | skipped | the S3 test server is not available" >&2
fi
