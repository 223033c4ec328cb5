#!/usr/bin/env bash
# scripts/valgrind.sh [regress tests...] [-- isolation specs...]
#
# Runs pg_regress tests (and isolation specs) against a throwaway cluster
# whose every process runs under valgrind memcheck, then prints the reports
# that have a vlake frame (src/…, vlake.so) and a count of the others
# (PostgreSQL's own known reports: uninitialised padding written to WAL and
# the relcache init file).  Exits non-zero when a report names vlake code.
#   scripts/valgrind.sh tables_segment tables_scan -- tables_lookup_vlake
# Slow: each backend runs ~30x slower.  Reports: build/valgrind/vg.*.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VLAKE_SRC"

regress=(); iso=(); target=regress
for a in "$@"; do
  if [ "$a" = -- ]; then target=iso; continue; fi
  if [ $target = regress ]; then regress+=("$a"); else iso+=("$a"); fi
done
[ ${#regress[@]} -gt 0 ] || [ ${#iso[@]} -gt 0 ] || { echo "usage: $0 regress... [-- isolation...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/install-deps.sh)" >&2; exit 2; }

make -s -j2 all >/dev/null
work=$(vlake_work_dir valgrind)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=$(vlake_port 56900); lake="$work/lake"
rm -rf "$work"/vg.*.log "$lake" "$work/out"; mkdir -p "$lake" "$work/out"
[ "$(id -u)" -eq 0 ] && chown postgres: "$work/out"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"

# the postmaster is a wrapper that execs the real one under valgrind
real="$bin/postgres.real"
[ -f "$real" ] || mv "$bin/postgres" "$real"
cat > "$bin/postgres" <<EOF
#!/bin/sh
exec valgrind --quiet --trace-children=yes --track-origins=yes --num-callers=30 \\
  --read-var-info=no --error-limit=no --log-file=$work/vg.%p.log "$real" "\$@"
EOF
chmod 755 "$bin/postgres"
cleanup() { vlake_cluster_stop "$bin" "$data"; mv "$real" "$bin/postgres"; }
trap cleanup EXIT
vlake_cluster_start "$bin" "$data" "$port" "$sock" "vlake.allowed_file_roots = '$lake'" \
  "max_connections = 20" "statement_timeout = 0"

pgxs=$(cd "$(dirname "$(${PG_CONFIG:-pg_config} --pgxs)")/../.." && pwd)
# each test in its own new database, as scripts/installcheck.sh runs them
run() {
  local drv=$1 dir=$2 t=$3
  vlake_as_pg "$bin/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres \
    -c "DROP DATABASE IF EXISTS vg_$t" -c "CREATE DATABASE vg_$t"
  vlake_as_pg env VLAKE_SRC="$VLAKE_SRC" VLAKE_TEST_LAKE="$lake" "$drv" --use-existing --host="$sock" --port="$port" \
    --user=postgres --dbname="vg_$t" --inputdir="$dir" --outputdir="$work/out/$t" \
    --bindir="$bin" "$t" | grep -E '^(not )?ok|^test |FAILED' || true
}
for t in ${regress[@]+"${regress[@]}"}; do run "$pgxs/src/test/regress/pg_regress" "$VLAKE_SRC" "$t"; done
for t in ${iso[@]+"${iso[@]}"}; do run "$pgxs/src/test/isolation/pg_isolation_regress" "$VLAKE_SRC/test/isolation" "$t"; done
vlake_cluster_stop "$bin" "$data"

ours=0; theirs=0
for f in "$work"/vg.*.log; do
  [ -s "$f" ] || continue
  # one report = a block starting at "==pid== <kind>" up to a blank "==pid== " line
  n=$(awk '/^==[0-9]+== [A-Z]/{blk=$0; next} /^==[0-9]+== $/{ if (blk ~ /vlake|src\//) c++; blk=""; next} {blk=blk"\n"$0} END{print c+0}' "$f")
  m=$(grep -cE '^==[0-9]+== (Invalid|Conditional|Syscall|Use of|Mismatched|Source and)' "$f" || true)
  if [ "$n" -gt 0 ]; then ours=$((ours + n)); echo "== $f"; cat "$f"; fi
  theirs=$((theirs + m - n))
done
echo "valgrind: $ours report(s) with a vlake frame, $theirs other report(s); logs in $work"
[ "$ours" -eq 0 ]
