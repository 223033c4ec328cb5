#!/usr/bin/env bash
# unit_fuzz_fts_query: run the BM25 query parser fuzzer (fuzz_fts_query,
# libFuzzer + ASan/UBSan) for a bounded time, seeded with FTS5 queries.
# The first byte of an input is the number of allocations that succeed
# (255: all).  VLAKE_FUZZ_FTS_SECONDS (default 10) bounds the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${VLAKE_TEST_WORK:-/tmp}/fuzz_fts_query
rm -rf "$work"; mkdir -p "$work/corpus" "$work/artifacts"
printf '\xffa OR b c NOT "d e" AND (f OR g+h)' > "$work/corpus/ops"
printf '\xff"It""s" the running of the dogs' > "$work/corpus/quotes"
printf '\x05((a AND "" ) OR b) NOT NEAR(c d) x:y ^z w*' > "$work/corpus/refused"
printf '\xff\xc3\xa9l\xc3\xa9phant \xe4\xb8\xad\xe6\x96\x87 \xff' > "$work/corpus/utf8"
exec "$here/fuzz_fts_query" -max_total_time="${VLAKE_FUZZ_FTS_SECONDS:-10}" -timeout=20 \
  -rss_limit_mb=2560 -malloc_limit_mb=2560 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus"
