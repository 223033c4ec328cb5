#!/usr/bin/env bash
# Install what vlake needs to build, test and run its demo on Debian 12.
# Idempotent: only missing packages are installed, and npm ci runs only when
# the lock file changed.  Usage: scripts/install-deps.sh [build|test|quickstart]
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-build}

build_pkgs=(make gcc postgresql-15 postgresql-server-dev-15 libcurl4-openssl-dev
            libssl-dev libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev
            libroaring-dev libroaring0 libstemmer-dev libstemmer0d)
# libroaring-dev: CRoaring headers (delete vectors); libroaring0 (which it
# depends on) is the runtime vlake.so links, named for the servers' sake.
# libstemmer-dev / libstemmer0d: the Snowball stemmers of the full-text
# analyzer (docs/fulltext.md), the same way.
test_pkgs=(libipc-run-perl nodejs npm valgrind clang procps openssl bc curl)
# Used directly, so named even though other packages pull them in today:
# prove (perl) for the TAP suites, the CA store for `npm ci` over https.
test_pkgs+=(perl ca-certificates)
demo_pkgs=(dataset-fashion-mnist)
# ---- parquet-meta: libFuzzer runtime for unit_fuzz_parquet ----
test_pkgs+=(clang-14 libclang-rt-14-dev)
# ---- end parquet-meta ----
# ---- fulltext: the analyzer's oracles (TAP 078, docs/fulltext.md) ----
# sqlite3 (FTS5's tokens), libstemmer-tools (the `stemwords` command),
# dict-gcide (real English text; it pulls in dictd, whose service no test
# uses), unicode-data (DerivedAge.txt, and the source of
# scripts/gen-fts-unicode.py's tables).
test_pkgs+=(sqlite3 libstemmer-tools dict-gcide unicode-data)
# ---- end fulltext ----
# ---- hybrid: PostGIS predicates inside a hybrid query (regress
# hybrid_postgis, docs/hybrid.md) ----
test_pkgs+=(postgresql-15-postgis-3)
# ---- end hybrid ----

pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}" "${demo_pkgs[@]}") ;;
  quickstart) pkgs+=("${demo_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|quickstart]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# node and npm may come from outside Debian on a developer's machine.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=($(printf '%s\n' "${missing[@]}" | grep -vxE 'nodejs|npm' || true))
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "vlake: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm test tooling (S3 test server, DuckDB oracle): test/tools/package.json.
if [ "$what" = test ] && [ -f test/tools/package-lock.json ]; then
  stamp=test/tools/node_modules/.vlake-lock
  if ! cmp -s test/tools/package-lock.json "$stamp" 2>/dev/null; then
    (cd test/tools && npm ci --no-audit --no-fund --loglevel=error)
    cp test/tools/package-lock.json "$stamp"
  fi
fi
