#!/usr/bin/env bash
# make quickstart-s3: the S3 path of the quick start.  Starts the project's
# S3-compatible test server on 127.0.0.1 (test/tools/s3server), a throwaway
# cluster with vlake (private install under build/quickstart-s3), points
# vlake at the server (a vlake_s3 server + user mapping, see docs/s3.md),
# writes, lists and reads lake objects over S3, and prints how to connect.
#   scripts/quickstart-s3.sh        run it (cluster and S3 server keep running)
#   scripts/quickstart-s3.sh stop   stop both
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

port=${VLAKE_PORT:-55433}
work=$(vlake_work_dir quickstart-s3)
data="$work/pgdata"; sock="$work/sock"; s3dir="$work/s3"

stop_all() {
  [ -x "$work/install$($PG_CONFIG --bindir)/pg_ctl" ] &&
    vlake_cluster_stop "$work/install$($PG_CONFIG --bindir)" "$data"
  if [ -f "$s3dir/ready.env" ]; then
    pid=$(sed -n 's/^s3_pid=//p' "$s3dir/ready.env")
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  fi
}
if [ "${1:-}" = stop ]; then stop_all; vlake_log "quick start (S3) stopped"; exit 0; fi
stop_all

scripts/install-deps.sh test            # also runs npm ci for the S3 server
make -s -j2 all
bin=$(vlake_private_install "$work/install")
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
vlake_cluster_start "$bin" "$data" "$port" "$sock"
postmaster=$(head -1 "$data/postmaster.pid")

# The S3 server lives as long as the cluster (it follows the postmaster).
eval "$(VLAKE_TEST_S3_OWNER_PID=$postmaster VLAKE_TEST_S3_KEEP_DATA=1 VLAKE_TEST_S3_MAX_LIFETIME=2592000 \
        test/tools/s3server/start.sh "$s3dir")"
chmod 600 "$s3dir/ready.env"

psql_q() { vlake_as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres "$@"; }
psql_q <<SQL
CREATE EXTENSION IF NOT EXISTS vlake;
DROP SERVER IF EXISTS lake CASCADE;
CREATE SERVER lake FOREIGN DATA WRAPPER vlake_s3
  OPTIONS (endpoint '$VLAKE_TEST_S3_ENDPOINT', region 'us-east-1', url_style 'path',
           bucket '$VLAKE_TEST_S3_BUCKET');
BEGIN;
SET LOCAL log_statement = 'none';
SET LOCAL log_min_error_statement = 'panic';
SET LOCAL log_min_duration_statement = -1;
SET LOCAL pg_stat_statements.track_utility = off;
CREATE USER MAPPING FOR CURRENT_USER SERVER lake
  OPTIONS (access_key '$VLAKE_TEST_S3_ACCESS_KEY', secret_key '$VLAKE_TEST_S3_SECRET_KEY');
COMMIT;
SQL

lake="s3://$VLAKE_TEST_S3_BUCKET/quickstart/"
echo "== writing 3 objects to $lake, one of them only if absent"
psql_q <<SQL
SELECT vlake.lake_write('${lake}hello.txt', convert_to('hello from vlake over S3', 'UTF8'));
SELECT vlake.lake_write('${lake}vectors.bin', decode(repeat('00010203', 1024), 'hex'));
SELECT vlake.lake_write_if_absent('${lake}_manifest/00000001.json', convert_to('{"version": 1}', 'UTF8')) AS created,
       vlake.lake_write_if_absent('${lake}_manifest/00000001.json', convert_to('{"version": 1}', 'UTF8')) AS created_again;
SQL
echo "== listing and reading them back"
psql_q <<SQL
SELECT key, size FROM vlake.lake_list('$lake') ORDER BY key;
SELECT convert_from(vlake.lake_read('${lake}hello.txt'), 'UTF8') AS hello,
       encode(vlake.lake_read('${lake}vectors.bin', 4088, 8), 'hex') AS range_4088_8;
SELECT prefix, get_requests, put_requests, list_requests, bytes_read, bytes_written FROM vlake.io_stats;
SQL

cat <<EOT
The cluster and the S3 test server are running.
Connect:      psql -h $sock -p $port -U postgres postgres
S3 endpoint:  $VLAKE_TEST_S3_ENDPOINT  (bucket $VLAKE_TEST_S3_BUCKET; credentials in $s3dir/ready.env)
Lake root:    $lake   (server "lake", see docs/s3.md)
Stop both:    scripts/quickstart-s3.sh stop
EOT
