#!/usr/bin/env bash
# Start vlake's S3 test server on a free 127.0.0.1 port, in the background.
#   eval "$(test/tools/s3server/start.sh DIR)"
# prints VLAKE_TEST_S3_ENDPOINT/_ADMIN/_ACCESS_KEY/_SECRET_KEY/_BUCKET and s3_pid.
# Stop it with: kill "$s3_pid"  (it also exits by itself when the process that
# started it goes away, or after VLAKE_TEST_S3_MAX_LIFETIME seconds, 6 h by default).
# Env: VLAKE_TEST_S3_OWNER_PID (pid to follow; default: our parent),
#      VLAKE_TEST_S3_PORT (fixed port instead of a free one),
#      VLAKE_TEST_S3_KEEP_DATA=1 (keep the objects of the previous run),
#      VLAKE_TEST_S3_TLS=1 (https with a fresh self-signed CA; also prints
#        VLAKE_TEST_S3_CA_FILE, the CA certificate to trust).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: start.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -f "$dir/ready.env"
# a fresh bucket each time, unless asked to keep what is there (quick start)
[ "${VLAKE_TEST_S3_KEEP_DATA:-0}" = 1 ] || rm -rf "$dir/data"
[ -d "$here/../node_modules/@20minutes/s3rver" ] || {
  echo "start.sh: run 'npm ci' in test/tools first" >&2; exit 1; }

owner=${VLAKE_TEST_S3_OWNER_PID:-$PPID}
args=(--dir "$dir" --bucket "${VLAKE_TEST_S3_BUCKET_NAME:-vlake-test}"
      --owner-pid "$owner" --max-lifetime "${VLAKE_TEST_S3_MAX_LIFETIME:-21600}")
[ -n "${VLAKE_TEST_S3_PORT:-}" ] && args+=(--port "$VLAKE_TEST_S3_PORT")
if [ "${VLAKE_TEST_S3_TLS:-0}" = 1 ]; then
  # a throwaway CA and a server certificate for 127.0.0.1, localhost, *.s3.localhost
  tls="$dir/tls"; rm -rf "$tls"; mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vlake test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:s3.localhost,DNS:*.s3.localhost\n' > "$tls/ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 2 -extfile "$tls/ext" -out "$tls/server.pem" >/dev/null 2>&1
  chmod 644 "$tls/ca.pem"
  args+=(--tls-cert "$tls/server.pem" --tls-key "$tls/server.key")
fi

# setsid: not in our process group, so a terminal ^C goes to the owner, whose
# exit we notice; stdout/stderr to a file so $(start.sh) does not wait on us.
# --openssl-legacy-provider: s3rver makes ListObjectsV2 continuation tokens
# with DES, which OpenSSL 3 keeps in its legacy provider.
setsid node --openssl-legacy-provider "$here/server.js" "${args[@]}" </dev/null >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  if [ -s "$dir/ready.env" ]; then
    cat "$dir/ready.env"
    [ "${VLAKE_TEST_S3_TLS:-0}" = 1 ] && echo "VLAKE_TEST_S3_CA_FILE=$dir/tls/ca.pem"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start.sh: S3 test server exited during start-up:" >&2
    cat "$dir/server.log" >&2; exit 1
  fi
  sleep 0.1
done
echo "start.sh: S3 test server not ready after 30 s" >&2
kill "$pid" 2>/dev/null || true
exit 1
