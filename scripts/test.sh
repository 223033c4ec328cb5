#!/usr/bin/env bash
# make test: install what the tests need, build, and run every suite —
# unit tests, pg_regress, isolation, TAP — against throwaway clusters.
# Exits non-zero when any test fails.  Optional: SUITES="unit regress isolation tap",
# TAP_TESTS="050 052" (TAP scripts by number)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

SUITES=${SUITES:-"unit regress isolation tap"}
scripts/install-deps.sh test
make -s -j2 WERROR=1 all tools

work=$(vlake_work_dir test)
bin=$(vlake_private_install "$work/install")
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
pgxs=$(cd "$(dirname "$($PG_CONFIG --pgxs)")/../.." && pwd)
export PATH="$bin:$PATH"

# The servers and test drivers run as the PostgreSQL user; when it cannot
# read this checkout (say, under /root), they work on a copy of it.
if ! vlake_as_pg test -r "$VLAKE_SRC/sql" 2>/dev/null; then
  rm -rf "$work/src"; mkdir -p "$work/src"
  tar -C "$VLAKE_SRC" --exclude=./build -cf - . | tar -C "$work/src" -xf -
  mkdir -p "$work/src/build"; cp -a "$VLAKE_SRC/build/bin" "$work/src/build/" 2>/dev/null || true
  chown -R postgres: "$work/src"
  VLAKE_SRC="$work/src"; cd "$VLAKE_SRC"
fi
export VLAKE_SRC VLAKE_TEST_WORK="$work"

passed=0; failed=0; failures=(); skipped=()
record() { # record NAME STATUS
  if [ "$2" = ok ]; then passed=$((passed+1)); else failed=$((failed+1)); failures+=("$1"); fi
}

data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 54400)
cleanup() {
  vlake_cluster_stop "$bin" "$data"
  [ -n "${s3_pid:-}" ] && kill "$s3_pid" 2>/dev/null || true
}
trap cleanup EXIT

# S3-compatible test server over loopback, shared by the suites that need it.
if [ -x test/tools/s3server/start.sh ] && [ -d test/tools/node_modules ]; then
  # the server logs every request (TAP 046 counts the waves of a cold query in it)
  export VLAKE_TEST_S3_REQUEST_LOG="$work/s3-requests.log"
  : > "$VLAKE_TEST_S3_REQUEST_LOG"
  eval "$(test/tools/s3server/start.sh "$work/s3")"   # sets VLAKE_TEST_S3_* and s3_pid
  export VLAKE_TEST_S3_ENDPOINT VLAKE_TEST_S3_ADMIN VLAKE_TEST_S3_ACCESS_KEY VLAKE_TEST_S3_SECRET_KEY VLAKE_TEST_S3_BUCKET
fi

# ---- unit tests: stand-alone binaries, exit status is the verdict ----
if [[ " $SUITES " == *" unit "* ]]; then
  for t in build/bin/unit_*; do
    [ -x "$t" ] || continue
    if "$t" > "$work/$(basename "$t").log" 2>&1; then
      echo "unit $(basename "$t") ... ok"; record "$t" ok
    else
      echo "unit $(basename "$t") ... FAILED"; cat "$work/$(basename "$t").log"; record "$t" fail
    fi
  done
fi

# ---- regress and isolation run on one shared cluster ----
if [[ " $SUITES " == *" regress "* || " $SUITES " == *" isolation "* ]]; then
  # autovacuum off: suites that DELETE, VACUUM and then count what VACUUM
  # removed (tombstones, dead delta rows) must not race an autoanalyze whose
  # snapshot holds the horizon back; they failed that way now and then on a
  # loaded machine.
  vlake_cluster_start "$bin" "$data" "$port" "$sock" \
    "vlake.allowed_file_roots = '$work/lake'" "max_worker_processes = 16" \
    "autovacuum = off"
  mkdir -p "$work/lake"; [ "$(id -u)" -eq 0 ] && chown postgres: "$work/lake"
  # the same runner as `make installcheck`, against this run's cluster
  set +e
  vlake_as_pg env PGHOST="$sock" PGPORT="$port" PGUSER=postgres VLAKE_TEST_LAKE="$work/lake" \
      VLAKE_SRC="$VLAKE_SRC" OUT="$work/installcheck" \
      SUITES="$(for s in $SUITES; do case $s in regress|isolation) printf '%s ' "$s" ;; esac; done)" \
      scripts/installcheck.sh > "$work/installcheck.log" 2>&1
  set -e
  grep -vE '^[0-9]+ passed, [0-9]+ failed$|^failed: ' "$work/installcheck.log" || true
  for r in $(sed -nE 's/^(regress|isolation) ([^ ]+) \.\.\. (ok|FAILED)$/\1\/\2:\3/p' "$work/installcheck.log"); do
    if [ "${r##*:}" = ok ]; then record "${r%:*}" ok; else record "${r%:*}" fail; fi
  done
fi
vlake_cluster_stop "$bin" "$data"

# ---- TAP: each script makes its own clusters with PostgreSQL::Test::Cluster ----
# TAP_TESTS="050 052" runs only the scripts whose names start with those numbers
tap_scripts=$(ls test/t/*.pl 2>/dev/null | while read -r f; do
  [ -z "${TAP_TESTS:-}" ] && { echo "$f"; continue; }
  for n in $TAP_TESTS; do if [[ "$(basename "$f")" == "$n"* ]]; then echo "$f"; fi; done
done)
if [[ " $SUITES " == *" tap "* ]] && [ -n "$tap_scripts" ]; then
  tapdir="$work/tap"; rm -rf "$tapdir"; mkdir -p "$tapdir"; [ "$(id -u)" -eq 0 ] && chown postgres: "$tapdir"
  set +e
  vlake_as_pg env TESTDIR="$tapdir" PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
      VLAKE_SRC="$VLAKE_SRC" PERL5LIB="$pgxs/src/test/perl:$VLAKE_SRC/test/perl" \
      prove ${PROVE_FLAGS:-} $tap_scripts > "$tapdir/prove.log" 2>&1
  set -e
  grep -E '^(test/t/|ok|not ok|#)' "$tapdir/prove.log" | grep -vE '^ok [0-9]+ ' | tail -200 || true
  for f in $tap_scripts; do
    if grep -qE "^${f//./\\.} \.+ ok" "$tapdir/prove.log"; then record "tap/$f" ok
    elif grep -qE "^${f//./\\.} \.+ skipped:" "$tapdir/prove.log"; then
      # the script found what it tests absent from this build and said why (plan skip_all)
      record "tap/$f" ok; skipped+=("tap/$f")
    else record "tap/$f" fail; fi
  done
fi

echo
[ ${#skipped[@]} -gt 0 ] && printf 'skipped (counted as passed; the reason is above): %s\n' "${skipped[@]}"
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
