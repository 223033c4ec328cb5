#!/usr/bin/env bash
# scripts/peer-pgvector.sh PREFIX — a private PostgreSQL install with pgvector
# (the peer vlake's vector types are compared with; never part of vlake).
#
# Builds pgvector from its release tarball (PGVECTOR_TARBALL, default
# /work/shared/peers/pgvector-0.8.6.tar.gz; PostgreSQL licence) once into
# build/peers/ (kept while the tarball's checksum is unchanged), then installs
# it into PREFIX the way vlake_private_install installs vlake: PREFIX gets a
# copy of the server tree of $PG_CONFIG (unless it already has one) and
# pgvector via make install DESTDIR=PREFIX.  Prints the bindir of PREFIX.
#
# pgvector is built with OPTFLAGS="" (no -march=native), as distributions
# package it, so its arithmetic does not depend on the build machine's CPU.
# Exits 3 when the tarball is missing (callers skip, they do not fail).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest=${1:?usage: scripts/peer-pgvector.sh PREFIX}
tarball=${PGVECTOR_TARBALL:-/work/shared/peers/pgvector-0.8.6.tar.gz}
[ -f "$tarball" ] || { vlake_log "peer-pgvector: $tarball not found"; exit 3; }

sum=$(sha256sum "$tarball" | cut -d' ' -f1)
peers=$(vlake_work_dir peers)
build="$peers/pgvector-${sum:0:16}"
if [ ! -f "$build/.built" ]; then
  rm -rf "$build"; mkdir -p "$build"
  tar -C "$build" --strip-components=1 -xzf "$tarball"
  make -s -C "$build" -j2 PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >"$build/build.log" 2>&1 ||
    { cat "$build/build.log" >&2; exit 1; }
  touch "$build/.built"
fi

bindir=$($PG_CONFIG --bindir); pkglibdir=$($PG_CONFIG --pkglibdir); sharedir=$($PG_CONFIG --sharedir)
if [ ! -x "$dest$bindir/postgres" ]; then
  mkdir -p "$dest$bindir" "$dest$pkglibdir" "$dest$sharedir"
  cp -a "$bindir/." "$dest$bindir/"
  cp -a "$pkglibdir/." "$dest$pkglibdir/"
  cp -a "$sharedir/." "$dest$sharedir/"
fi
make -s -C "$build" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" install DESTDIR="$dest" >/dev/null
echo "$dest$bindir"
