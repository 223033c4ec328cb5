#!/usr/bin/env bash
# unit_fuzz_fts_postings: run the BM25 postings image fuzzer
# (fuzz_fts_postings, libFuzzer + ASan/UBSan) for a bounded time, seeded with
# a few valid images the fuzzer writes itself (VLAKE_FUZZ_SEED_DIR).  Exit
# status is libFuzzer's: non-zero on a crash, sanitizer report, leak, timeout
# or a broken promise (abort).  VLAKE_FUZZ_POSTINGS_SECONDS (default 10)
# bounds the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${VLAKE_TEST_WORK:-/tmp}/fuzz_fts_postings
rm -rf "$work"; mkdir -p "$work/corpus" "$work/artifacts"
export VLAKE_FUZZ_SEED_DIR="$work/corpus"
exec "$here/fuzz_fts_postings" -max_total_time="${VLAKE_FUZZ_POSTINGS_SECONDS:-10}" -timeout=20 \
  -rss_limit_mb=2560 -malloc_limit_mb=2560 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus"
