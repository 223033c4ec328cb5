#!/usr/bin/env bash
# unit_lake_delvec_interop: delete vectors written by vlake, read by another
# implementation.  unit_lake_delvec writes sample delete vectors and their
# row IDs; test/tools/delvec_roaring.mjs reads them with roaring-wasm (and
# its own walk of the 64-bit envelope) and requires the same row IDs and the
# same bytes.  Skips (exit 0, saying so) when node or the npm test tooling
# (npm ci in test/tools) is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${VLAKE_SRC:-$(cd "$here/../.." && pwd)}
tools=$src/test/tools
if ! command -v node >/dev/null || [ ! -d "$tools/node_modules/roaring-wasm" ]; then
  echo "SKIP: needs node and roaring-wasm (npm ci in test/tools)"
  exit 0
fi
work=$(mktemp -d "${VLAKE_TEST_WORK:-/tmp}/delvec_interop.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$here/unit_lake_delvec" --samples "$work" >/dev/null
node "$tools/delvec_roaring.mjs" "$work"
