#!/usr/bin/env bash
# make bench-objref: what verifying and reading referenced objects costs
# (docs/objref.md).  One 256 MiB object of random bytes in a file:// lake:
# sha256sum of the file (the floor: one read + SHA-256 in one process), then
# vlake.objref(uri) (head, streamed read through the object store in 4 MB
# chunks, SHA-256), vlake.objref_verify, a whole-object vlake.objref_read of
# a 48 MiB object (read + checksum + bytea), and 1,000 random 64 KiB range
# reads.  Each timed once after one warm-up (the OS page cache holds the
# files: these are CPU and copy costs, not disk speed).  Throwaway cluster
# under build/bench-objref; prints a table.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"
make -s -j2 all >/dev/null

work=$(vlake_work_dir bench-objref)
bin=$(vlake_private_install "$work/install")
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
data="$work/pgdata"; sock="$work/sock"; port=${BENCH_PORT:-$(vlake_port 55300)}
lake="$work/lake"; rm -rf "$lake"; mkdir -p "$lake"
head -c $((256 * 1024 * 1024)) /dev/urandom > "$lake/big.bin"
head -c $((48 * 1024 * 1024)) /dev/urandom > "$lake/mid.bin"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$lake"
cleanup() { vlake_cluster_stop "$bin" "$data"; }
trap cleanup EXIT
vlake_cluster_start "$bin" "$data" "$port" "$sock" "vlake.allowed_file_roots = '$lake'"
psql_b() { vlake_as_pg "$bin/psql" -X -q -A -t -h "$sock" -p "$port" -U postgres -d postgres "$@"; }
psql_b -c "CREATE EXTENSION vlake" >/dev/null

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
mbps() { awk -v mb="$1" -v ms="$2" 'BEGIN { printf "%.0f MB/s", (ms > 0) ? (mb * 1000 / ms) : 0 }'; }
echo "figure | time | rate"
sha256sum "$lake/big.bin" >/dev/null
t=$(date +%s%N); sha256sum "$lake/big.bin" >/dev/null; d=$(ms "$t")
echo "sha256sum, 256 MiB | $d ms | $(mbps 268.4 "$d")"
psql_b -c "SELECT vlake.objref('file://$lake/big.bin')" >/dev/null
t=$(date +%s%N); psql_b -c "SELECT vlake.objref('file://$lake/big.bin')" >/dev/null; d=$(ms "$t")
echo "vlake.objref(uri), 256 MiB | $d ms | $(mbps 268.4 "$d")"
ref=$(psql_b -c "SELECT vlake.objref('file://$lake/big.bin')")
t=$(date +%s%N); psql_b -c "SELECT vlake.objref_verify('$ref')" >/dev/null; d=$(ms "$t")
echo "vlake.objref_verify, 256 MiB | $d ms | $(mbps 268.4 "$d")"
mid=$(psql_b -c "SELECT vlake.objref('file://$lake/mid.bin')")
psql_b -c "SELECT length(vlake.objref_read('$mid'))" >/dev/null
t=$(date +%s%N); psql_b -c "SELECT length(vlake.objref_read('$mid'))" >/dev/null; d=$(ms "$t")
echo "vlake.objref_read whole (checksum), 48 MiB | $d ms | $(mbps 50.3 "$d")"
t=$(date +%s%N)
psql_b -c "SELECT sum(length(vlake.objref_read('$ref', (random() * (256 * 1024 * 1024 - 65536))::bigint, 65536))) FROM generate_series(1, 1000)" >/dev/null
d=$(ms "$t")
echo "1,000 random 64 KiB vlake.objref_read ranges | $d ms | $(awk -v ms="$d" 'BEGIN { printf "%.2f ms per read", ms / 1000 }')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
