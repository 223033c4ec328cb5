#!/usr/bin/env bash
# unit_fuzz_manifest: run the manifest decoder fuzzer (fuzz_manifest,
# libFuzzer + ASan/UBSan) for a bounded time, seeded with the spec's example
# (test/data/manifest/) and a dictionary of the format's keys and values.
# Exit status is libFuzzer's: non-zero on a crash, sanitizer report, leak,
# timeout or over-allocation.  VLAKE_FUZZ_MANIFEST_SECONDS (default 10)
# bounds the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${VLAKE_SRC:-$(cd "$here/../.." && pwd)}
work=${VLAKE_TEST_WORK:-/tmp}/fuzz_manifest
rm -rf "$work"; mkdir -p "$work/corpus" "$work/artifacts"
cp "$src"/test/data/manifest/*.json "$work/corpus/"
{
  for k in format format_version dataset_id version parent_version next_row_id schema next_field_id \
           fields id name type nullable dim element precision scale pg_type segments first_row_id \
           end_row_id row_count groups path layout field_ids size etag stats field_id null_count min max \
           deletes cardinality indexes params data_version location lineage operation writer \
           timestamp_us rows_added rows_deleted bytes_written models model model_version properties \
           vlake.manifest vector float16 decimal parquet vector_cg long_text Infinity; do
    printf '"\\"%s\\""\n' "$k"
  done
  printf '"\\\\u"\n"\\\\ud800"\n"null"\n"true"\n"9007199254740991"\n"-9223372036854775808"\n'
} > "$work/manifest.dict"

exec "$here/fuzz_manifest" -max_total_time="${VLAKE_FUZZ_MANIFEST_SECONDS:-10}" -timeout=20 \
  -rss_limit_mb=2560 -malloc_limit_mb=2560 -max_len=65536 -print_final_stats=1 \
  -dict="$work/manifest.dict" -artifact_prefix="$work/artifacts/" "$work/corpus"
