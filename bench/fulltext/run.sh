#!/usr/bin/env bash
# make bench-fts-analyzer: the analyzer core's throughput on GCIDE
# (docs/fulltext.md, "Speed"; docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${VLAKE_BENCH_WORK:-/tmp/vlake_bench_fts}
mkdir -p "$work"
[ -s "$work/gcide.txt" ] || zcat /usr/share/dictd/gcide.dict.dz > "$work/gcide.txt"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
build/bin/bench_fts_analyzer "$work/gcide.txt" "$(pg_config --sharedir)"
