# Shared shell functions for vlake's workflows (sourced, not run).
#
# A "private install" is a copy of the system PostgreSQL server tree with vlake
# installed into it (make install DESTDIR=...).  PostgreSQL finds its lib and
# share directories relative to its binary, so servers started from the copy
# load this checkout's vlake.so and never the system-wide one.  That lets tests
# run without root for `make install` and lets several checkouts test at once.

VLAKE_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}

vlake_log() { printf 'vlake: %s\n' "$*" >&2; }

# The OS user that runs PostgreSQL servers: initdb refuses to run as root.
vlake_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# Run a command as the PostgreSQL user, keeping the environment.
vlake_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- env "PATH=$PATH" "$@"
  else
    "$@"
  fi
}

# A directory inside the checkout when the PostgreSQL user can reach it,
# otherwise one under /tmp (e.g. a checkout under /root, run as root).
vlake_work_dir() {
  local name=$1 dir
  dir="$VLAKE_SRC/build/$name"
  if ! mkdir -p "$dir" 2>/dev/null || ! [ -w "$dir" ]; then
    # not root, in a checkout root built (a test run as postgres): /tmp
    dir="/tmp/vlake-$name-$(id -u)-$(printf '%s' "$VLAKE_SRC" | cksum | cut -d' ' -f1)"
    mkdir -p "$dir"
  elif [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -w "$dir" 2>/dev/null; then
    chown postgres: "$dir" 2>/dev/null || true
    if ! runuser -u postgres -- test -w "$dir" 2>/dev/null; then
      dir="/tmp/vlake-$name-$(printf '%s' "$VLAKE_SRC" | cksum | cut -d' ' -f1)"
      mkdir -p "$dir"; chown postgres: "$dir"
    fi
  fi
  echo "$dir"
}

# A port derived from the checkout path, so parallel checkouts do not collide.
vlake_port() {
  local base=$1
  echo $(( base + $(printf '%s' "$VLAKE_SRC" | cksum | cut -d' ' -f1) % 500 ))
}

# vlake_private_install DIR: copy the server tree and install vlake into it.
# Prints the bin directory.
vlake_private_install() {
  local dest=$1 bindir pkglibdir sharedir
  bindir=$($PG_CONFIG --bindir); pkglibdir=$($PG_CONFIG --pkglibdir); sharedir=$($PG_CONFIG --sharedir)
  rm -rf "$dest"
  mkdir -p "$dest$bindir" "$dest$pkglibdir" "$dest$sharedir"
  cp -a "$bindir/." "$dest$bindir/"
  cp -a "$pkglibdir/." "$dest$pkglibdir/"
  cp -a "$sharedir/." "$dest$sharedir/"
  rm -f "$dest$pkglibdir"/vlake.so "$dest$sharedir"/extension/vlake*
  make -s -C "$VLAKE_SRC" install DESTDIR="$dest" >/dev/null
  echo "$dest$bindir"
}

# vlake_cluster_start BINDIR DATADIR PORT SOCKDIR [conf lines...]
vlake_cluster_start() {
  local bin=$1 data=$2 port=$3 sock=$4; shift 4
  vlake_cluster_stop "$bin" "$data"
  rm -rf "$data"; mkdir -p "$sock"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$sock" "$(dirname "$data")"
  vlake_as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
  {
    echo "port = $port"
    echo "listen_addresses = 'localhost'"
    echo "unix_socket_directories = '$sock'"
    echo "shared_preload_libraries = 'vlake'"
    echo "max_prepared_transactions = 10"
    printf '%s\n' "$@"
  } | vlake_as_pg tee -a "$data/postgresql.conf" >/dev/null
  vlake_as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null || {
    cat "$data/server.log" >&2; return 1; }
}

vlake_cluster_stop() {
  local bin=$1 data=$2
  if [ -f "$data/postmaster.pid" ]; then
    vlake_as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
