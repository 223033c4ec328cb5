#!/usr/bin/env bash
# unit_fuzz_parquet: run the Parquet decoder fuzzer (fuzz_parquet, libFuzzer
# + ASan/UBSan) for a bounded time from a seed corpus made of the checked-in
# fixtures (whole files, their footers, and the broken corpus).  Exit status
# is libFuzzer's: non-zero on a crash, sanitizer report, leak, timeout or
# over-allocation.  VLAKE_FUZZ_SECONDS (default 40) bounds the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${VLAKE_SRC:-$(cd "$here/../.." && pwd)}
work=${VLAKE_TEST_WORK:-/tmp}/fuzz_parquet
rm -rf "$work"; mkdir -p "$work/corpus" "$work/artifacts"

n=0
for f in "$src"/test/data/parquet/*.parquet "$src"/test/data/parquet/broken/*.parquet; do
  [ -s "$f" ] || continue
  n=$((n+1))
  { printf '\000'; cat "$f"; } > "$work/corpus/file_$n"
  size=$(stat -c %s "$f")
  [ "$size" -ge 12 ] || continue
  len=$(tail -c 8 "$f" | head -c 4 | od -An -tu4 | tr -d ' ')
  if [ "$len" -gt 0 ] && [ "$len" -le $((size - 12)) ]; then
    { printf '\001'; tail -c $((len + 8)) "$f" | head -c "$len"; } > "$work/corpus/footer_$n"
  fi
done

exec "$here/fuzz_parquet" -max_total_time="${VLAKE_FUZZ_SECONDS:-40}" -timeout=20 \
  -rss_limit_mb=2560 -malloc_limit_mb=2560 -max_len=262144 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus"
