#!/usr/bin/env bash
# scripts/peer-pgvector.sh PREFIX — a private PostgreSQL install with pgvector
# (the peer vlake's vector types are compared with; never part of vlake).
#
# Builds pgvector from its release tarball (PGVECTOR_TARBALL, default
# ../shared/peers/pgvector-0.8.6.tar.gz beside the checkout; PostgreSQL licence) once into
# build/peers/ (kept while the tarball's checksum is unchanged), then installs
# it into PREFIX the way vlake_private_install installs vlake: PREFIX gets a
# copy of the server tree of $PG_CONFIG (or of the system's, when that one
# has no server headers), unless it already has one, and
# pgvector via make install DESTDIR=PREFIX.  Prints the bindir of PREFIX.
#
# pgvector is built with OPTFLAGS="" (no -march=native), as distributions
# package it, so its arithmetic does not depend on the build machine's CPU.
# PGVECTOR_CFLAGS, when set, replaces pgvector's extra compiler flags
# (-ftree-vectorize -fassociative-math ...): PGVECTOR_CFLAGS="" gives a build
# whose float sums run in source order, which vlake's sparsevec matches to
# the last bit (test/t/070_sparsevec_pgvector.pl; docs/vector.md).
# Exits 3 when the tarball is missing (callers skip, they do not fail).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest=${1:?usage: scripts/peer-pgvector.sh PREFIX}
# the peers live beside the checkout (../shared/peers; CI's fresh root gets
# a copy there from scripts/check-fresh.sh)
tarball=
for t in "${PGVECTOR_TARBALL:-}" "$VLAKE_SRC/../shared/peers/pgvector-0.8.6.tar.gz" \
         /work/shared/peers/pgvector-0.8.6.tar.gz; do
  [ -n "$t" ] && [ -f "$t" ] && { tarball=$t; break; }
done
[ -n "$tarball" ] || { vlake_log "peer-pgvector: pgvector-0.8.6.tar.gz not found (PGVECTOR_TARBALL, ../shared/peers)"; exit 3; }

# A pg_config with server headers: a private install's copy (first in PATH
# inside the test suites) reports include paths it does not have.
pgc=
for c in "$PG_CONFIG" /usr/bin/pg_config "$(command -v pg_config || true)"; do
  [ -n "$c" ] && inc=$("$c" --includedir-server 2>/dev/null) && [ -f "$inc/postgres.h" ] && { pgc=$c; break; }
done
[ -n "$pgc" ] || { vlake_log "peer-pgvector: no pg_config with server headers"; exit 1; }
flags=(PG_CONFIG="$pgc" OPTFLAGS="")
[ -n "${PGVECTOR_CFLAGS+set}" ] && flags+=(PG_CFLAGS="$PGVECTOR_CFLAGS")
sum=$( (sha256sum "$tarball"; printf '%s\n' "${flags[@]:1}") | sha256sum | cut -d' ' -f1)
peers=$(vlake_work_dir peers)
build="$peers/pgvector-${sum:0:16}"
if [ ! -f "$build/.built" ]; then
  rm -rf "$build"; mkdir -p "$build"
  tar -C "$build" --strip-components=1 -xzf "$tarball"
  make -s -C "$build" -j2 "${flags[@]}" >"$build/build.log" 2>&1 ||
    { cat "$build/build.log" >&2; exit 1; }
  touch "$build/.built"
fi

bindir=$($pgc --bindir); pkglibdir=$($pgc --pkglibdir); sharedir=$($pgc --sharedir)
if [ ! -x "$dest$bindir/postgres" ]; then
  mkdir -p "$dest$bindir" "$dest$pkglibdir" "$dest$sharedir"
  cp -a "$bindir/." "$dest$bindir/"
  cp -a "$pkglibdir/." "$dest$pkglibdir/"
  cp -a "$sharedir/." "$dest$sharedir/"
fi
make -s -C "$build" "${flags[@]}" install DESTDIR="$dest" >/dev/null
echo "$dest$bindir"
