#!/usr/bin/env bash
# make bench-objstore: lake I/O figures over file:// (and s3:// when the S3
# test server can be started): p50/p99 of 1,000 random 4 KiB range reads with
# cold and warm vlake caches, throughput of a 256 MiB upload and download.
# Runs a throwaway cluster under build/bench-objstore; prints a table.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"
make -s -j2 all >/dev/null

work=$(vlake_work_dir bench-objstore)
bin=$(vlake_private_install "$work/install")
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 55100)
lake="$work/lake"; rm -rf "$lake"; mkdir -p "$lake"; [ "$(id -u)" -eq 0 ] && chown postgres: "$lake"
cleanup() { vlake_cluster_stop "$bin" "$data"; [ -n "${s3_pid:-}" ] && kill "$s3_pid" 2>/dev/null || true; }
trap cleanup EXIT
vlake_cluster_start "$bin" "$data" "$port" "$sock" \
  "vlake.allowed_file_roots = '$lake'" "vlake.cache_size = '2GB'" "shared_buffers = '128MB'"
psql_b() { vlake_as_pg "$bin/psql" -X -q -A -F ' | ' -t -h "$sock" -p "$port" -U postgres -d postgres "$@"; }
psql_b -c "CREATE EXTENSION vlake" >/dev/null

run() { # run LABEL ROOT CACHE_FILE_URIS
  psql_b -v cache_file_uris="$3" -c "SET bench.root = '$2'" -c "SET bench.label = '$1'" \
    -f bench/objstore/bench.sql | grep -v '^ *$' | grep ' | ' || true
}

echo "label | figure | value"
run "file:// (direct pread)" "file://$lake/direct/" off
run "file:// (through disk cache)" "file://$lake/cached/" on

# s3:// over the loopback test server, when it is available on this branch.
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
  run "s3:// (loopback test server)" "s3://$VLAKE_TEST_S3_BUCKET/bench/" on
else
  echo "s3:// | skipped | the S3 test server is not available on this branch (test/tools/s3server + npm ci)" >&2
fi
