#!/usr/bin/env bash
# make installcheck: the pg_regress and isolation suites against a running
# server that has vlake installed (make install) and preloaded, named by the
# usual libpq variables.  Each test gets its own database, so no test depends
# on another's leftovers.  Exits non-zero when a test fails.
#   PGHOST, PGPORT, PGUSER   the server (a superuser)
#   VLAKE_TEST_LAKE          a directory the server may use as a lake (in its
#                            vlake.allowed_file_roots); default: a fresh one
#                            under /tmp, which then must be allowed too
#   SUITES                   "regress isolation" (default) or either one
#   OUT                      where results go (default build/installcheck)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

SUITES=${SUITES:-"regress isolation"}
out=${OUT:-$VLAKE_SRC/build/installcheck}
pgxs=$(cd "$(dirname "$($PG_CONFIG --pgxs)")/../.." && pwd)
export VLAKE_SRC VLAKE_TEST_LAKE=${VLAKE_TEST_LAKE:-/tmp/vlake-installcheck-lake}
mkdir -p "$VLAKE_TEST_LAKE" "$out"

passed=0; failed=0; failures=()
run_suite() { # run_suite KIND DRIVER INPUTDIR TESTS...
  local kind=$1 driver=$2 inputdir=$3; shift 3
  local dir="$out/$kind" t
  rm -rf "$dir"; mkdir -p "$dir"
  : > "$dir/all.diffs"
  for t in "$@"; do
    set +e
    "$driver" --inputdir="$inputdir" --outputdir="$dir" --dbname="vlake_${kind}_$t" "$t" \
      > "$dir/$t.driver.log" 2>&1
    set -e
    if grep -qE '\.\.\. +ok' "$dir/$t.driver.log"; then
      echo "$kind $t ... ok"; passed=$((passed+1))
    else
      echo "$kind $t ... FAILED"; failed=$((failed+1)); failures+=("$kind/$t")
      cat "$dir/regression.diffs" >> "$dir/all.diffs" 2>/dev/null || cat "$dir/$t.driver.log"
    fi
  done
  [ -s "$dir/all.diffs" ] && head -300 "$dir/all.diffs" || true
}

if [[ " $SUITES " == *" regress "* ]]; then
  run_suite regress "$pgxs/src/test/regress/pg_regress" "$VLAKE_SRC" \
    $(cd sql && ls *.sql | sed 's/\.sql$//' | sort)
fi
if [[ " $SUITES " == *" isolation "* ]]; then
  run_suite isolation "$pgxs/src/test/isolation/pg_isolation_regress" "$VLAKE_SRC/test/isolation" \
    $(cd test/isolation/specs && ls *.spec | sed 's/\.spec$//' | sort)
fi

[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
