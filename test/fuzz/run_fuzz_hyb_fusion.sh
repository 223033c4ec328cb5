#!/usr/bin/env bash
# unit_fuzz_hyb_fusion: run the fusion core fuzzer (fuzz_hyb_fusion,
# libFuzzer + ASan/UBSan) for a bounded time from an empty corpus; it
# checks every run without errors against brute-force fusion.  Exit status
# is libFuzzer's: non-zero on a crash, sanitizer report, leak, timeout or a
# broken promise (abort).  VLAKE_FUZZ_HYB_SECONDS (default 10) bounds the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${VLAKE_TEST_WORK:-/tmp}/fuzz_hyb_fusion
rm -rf "$work"; mkdir -p "$work/corpus" "$work/artifacts"
exec "$here/fuzz_hyb_fusion" -max_total_time="${VLAKE_FUZZ_HYB_SECONDS:-10}" -timeout=20 \
  -rss_limit_mb=2560 -malloc_limit_mb=2560 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus"
