#!/usr/bin/env bash
# unit_fuzz_fts_analyzer: run the full-text analyzer fuzzer
# (fuzz_fts_analyzer, libFuzzer + ASan/UBSan) for a bounded time, seeded
# with a few texts in several scripts.  Exit status is libFuzzer's: non-zero
# on a crash, sanitizer report, broken invariant, leak or timeout.
# VLAKE_FUZZ_FTS_SECONDS (default 10) bounds the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${VLAKE_TEST_WORK:-/tmp}/fuzz_fts_analyzer
rm -rf "$work"; mkdir -p "$work/corpus" "$work/artifacts"
printf 'The quick brown fox, jumped over the lazy dogs.' > "$work/corpus/en"
printf 'Éléphant naïve ÆRØ ǖ Straße ΣΟΦΟΣ e\xcc\x81t\xc3\xa9' > "$work/corpus/latin"
printf '中文字 ٣٤ \xee\x80\x80 \xf0\x9f\x98\x80 \xcd\xb8 x\xef\xbf\xbey' > "$work/corpus/other"
printf 'bad \xc3( \xed\xa0\x80 \xf4\x90\x80\x80' > "$work/corpus/invalid"
exec "$here/fuzz_fts_analyzer" -max_total_time="${VLAKE_FUZZ_FTS_SECONDS:-10}" -timeout=20 \
  -rss_limit_mb=2560 -malloc_limit_mb=2560 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus"
