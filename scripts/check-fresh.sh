#!/usr/bin/env bash
# check-fresh: run the README's set-up commands on a pristine Debian 12 root,
# the way a new user would, to prove that the project's own scripts install
# everything they use.  In a chroot made with `debootstrap --variant=minbase
# bookworm`, from a copy of this checkout at /opt/vlake, it runs
#   scripts/quickstart.sh, scripts/quickstart.sh stop, scripts/test.sh
# prints the wall time of each phase, and ends with test.sh's
# `N passed, N failed` line.  Exits non-zero when any of them fails.
#
# Needs root (debootstrap, mount, chroot) and Debian's apt mirror.  Kept
# between runs, in $VLAKE_FRESH_CACHE (default /var/cache/vlake-fresh):
#   bookworm-minbase.tar   the bare root as debootstrap made it (nothing of
#                          the project; VLAKE_FRESH_REFRESH=1 makes it anew)
#   apt/                   downloaded .deb files, seeded into each root
#   npm/                   npm's download cache, mounted at /root/.npm
# Each run unpacks a new root under ${TMPDIR:-/var/tmp} and removes it at the
# end, on success, failure or interruption.  The mounts (/proc, /sys, /dev,
# /dev/pts, /dev/shm) live in a private mount and PID namespace (unshare), so
# they vanish with the run's processes and are never visible on the host.
#
# Optional: VLAKE_FRESH_STEPS="quickstart test" (a subset),
# VLAKE_FRESH_LOGS=DIR (keep the phases' output and build/test/ there), and
# SUITES, TAP_TESTS, PROVE_FLAGS, VLAKE_FUZZ_SECONDS, passed on to test.sh.
set -euo pipefail

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
log() { printf 'check-fresh: %s\n' "$*" >&2; }

# ---- inside the namespaces: mount, chroot, run one command, unmount --------
# check-fresh.sh --inner ROOT NPM_CACHE LOG COMMAND
if [ "${1:-}" = --inner ]; then
  root=$2 npm_cache=$3 out=$4 cmd=$5
  mounted=()
  inner_umount() {
    local i m
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
      m=${mounted[i]}
      umount "$m" 2>/dev/null || umount -l "$m" || true
    done
    mounted=()
  }
  trap inner_umount EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mnt() { mount "$@"; mounted+=("${!#}"); }   # the last argument is the target

  mnt -t proc -o nosuid,nodev,noexec proc "$root/proc"
  mnt -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
  # A /dev of its own: a few device nodes on a tmpfs, a new devpts instance
  # and a new /dev/shm; nothing of the host's /dev is mounted in.
  mnt -t tmpfs -o mode=755,nosuid,size=1m vlake-dev "$root/dev"
  for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<< "$d"
    if ! mknod -m 666 "$root/dev/$name" c "$major" "$minor" 2>/dev/null; then
      touch "$root/dev/$name"; mnt --bind "/dev/$name" "$root/dev/$name"
    fi
  done
  ln -s /proc/self/fd "$root/dev/fd"
  ln -s /proc/self/fd/0 "$root/dev/stdin"
  ln -s /proc/self/fd/1 "$root/dev/stdout"
  ln -s /proc/self/fd/2 "$root/dev/stderr"
  mkdir "$root/dev/pts" "$root/dev/shm"
  mnt -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$root/dev/pts"
  ln -s pts/ptmx "$root/dev/ptmx"
  mnt -t tmpfs -o mode=1777,nosuid,nodev vlake-shm "$root/dev/shm"
  mkdir -p "$npm_cache" "$root/root/.npm"
  mnt --bind "$npm_cache" "$root/root/.npm"

  # A root login's environment, not the caller's (whose locale, say, may not
  # exist in a bare root); C.UTF-8 is built into Debian 12's libc.
  envv=(HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8 TERM="${TERM:-dumb}"
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  for v in CI SUITES TAP_TESTS PROVE_FLAGS VLAKE_FUZZ_SECONDS VLAKE_PORT \
           http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!v+x}" ] && envv+=("$v=${!v}")
  done
  set +e
  chroot "$root" /usr/bin/env -i "${envv[@]}" /bin/bash -c "cd /opt/vlake && $cmd" \
    </dev/null 2>&1 | tee -a "$out"
  rc=${PIPESTATUS[0]}
  set -e
  exit "$rc"
fi

# ---- on the host -------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || { log "run as root (it uses debootstrap, mount and chroot)"; exit 2; }
src=$(cd "$(dirname "$self")/.." && pwd)
cache=${VLAKE_FRESH_CACHE:-/var/cache/vlake-fresh}
suite=bookworm
tarball="$cache/$suite-minbase.tar"
steps=${VLAKE_FRESH_STEPS:-quickstart test}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", b - a }'; }

# The host's Debian sources (the mirror may be a snapshot; its apt options
# travel with it).  deb822 first, as on Debian 12; else the one-line format.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sources=/etc/apt/sources.list.d/debian.sources
  mirror=$(awk '/^URIs:/ { print $2; exit }' "$sources")
else
  sources=/etc/apt/sources.list
  mirror=$(awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                                            if ($(i + 1) == s) { print $i; exit } }' "$sources" 2>/dev/null || true)
fi
mirror=${VLAKE_FRESH_MIRROR:-${mirror:-http://deb.debian.org/debian}}

tmp="" ns_pid="" results=()
kill_chroot_procs() { # every process whose root is inside $1 (ours: we made it)
  local p r n
  for n in 1 2 3 4 5 6 7 8 9 10; do
    local left=0
    for p in /proc/[0-9]*; do
      r=$(readlink "$p/root" 2>/dev/null) || continue
      case $r in "$1"|"$1"/*) left=1; kill -KILL "${p#/proc/}" 2>/dev/null || true ;; esac
    done
    [ "$left" = 0 ] && return 0
    sleep 1
  done
  return 1
}
mounts_under() { findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1 || $0 == d' | sort -r; }
remove_tree() { # unmount what is left under $1 (there should be nothing), then rm
  local d=$1 m
  kill_chroot_procs "$d" || log "processes still running in $d"
  for m in $(mounts_under "$d"); do umount "$m" 2>/dev/null || umount -l "$m" || true; done
  if [ -n "$(mounts_under "$d")" ]; then
    log "NOT removing $d: still mounted:"; mounts_under "$d" >&2; return 1
  fi
  rm -rf --one-file-system "$d"
}
harvest_debs() { # keep the .deb files this run downloaded
  local f
  [ -d "$tmp/root/var/cache/apt/archives" ] || return 0
  mkdir -p "$cache/apt"
  for f in "$tmp/root/var/cache/apt/archives"/*.deb; do
    [ -f "$f" ] && [ ! -e "$cache/apt/${f##*/}" ] || continue
    ln "$f" "$cache/apt/" 2>/dev/null || cp "$f" "$cache/apt/"
  done
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$ns_pid" ] && kill -0 "$ns_pid" 2>/dev/null; then
    kill -KILL "$ns_pid" 2>/dev/null || true   # --kill-child takes the namespace with it
    wait "$ns_pid" 2>/dev/null || true
  fi
  if [ -n "$tmp" ]; then
    harvest_debs || true
    if [ -n "${VLAKE_FRESH_LOGS:-}" ] && [ -d "$tmp/root/opt/vlake/build" ]; then
      mkdir -p "$VLAKE_FRESH_LOGS"
      cp "$tmp"/*.log "$VLAKE_FRESH_LOGS/" 2>/dev/null || true
      tar -C "$tmp/root/opt/vlake/build" --exclude=./test/install --exclude=./test/src \
          --exclude=./quickstart/pgdata --exclude=./quickstart/lake --exclude=./bin -cf - . |
        tar -C "$VLAKE_FRESH_LOGS" -xf - || true
      log "logs and test outputs kept in $VLAKE_FRESH_LOGS"
    fi
    remove_tree "$tmp" || rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'log terminated; exit 143' TERM

# run_ns CMD...: in a new mount and PID namespace; all its processes die with
# it, and it dies with us even if we are killed (setpriv --pdeathsig).  Job
# control on for the fork only: the job gets its own process group and keeps
# default SIGINT/SIGQUIT handling (a non-interactive shell ignores them in
# background jobs); our INT/TERM traps end it.
run_ns() {
  set -m
  setpriv --pdeathsig KILL -- unshare --mount --pid --fork --kill-child --propagation private -- "$@" </dev/null 7>&- 9>&- &
  ns_pid=$!
  set +m
  local rc=0
  wait "$ns_pid" || rc=$?
  ns_pid=""
  return "$rc"
}

# ---- phase 1: the root --------------------------------------------------------
t0=$(now)
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap on the host"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
mkdir -p "$cache/apt" "$cache/npm"
# Roots left by a run that was killed outright (nothing holds their lock).
for d in "${TMPDIR:-/var/tmp}"/vlake-fresh.*; do
  [ -d "$d" ] && [ -n "$(find "$d" -maxdepth 0 -mmin +2)" ] || continue
  if exec 8>>"$d/.lock" && flock -n 8; then log "removing $d, left by a killed run"; remove_tree "$d" || true; fi
  exec 8>&-
done
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/vlake-fresh.XXXXXX")
exec 7>"$tmp/.lock"; flock 7   # held while we run
exec 9>"$cache/.lock"
flock 9   # one builder of the cached root at a time
if [ "${VLAKE_FRESH_REFRESH:-0}" = 1 ] || [ ! -s "$tarball" ]; then
  log "making the bare $suite root with debootstrap --variant=minbase from $mirror (cached in $tarball)"
  mkdir "$tmp/bootstrap"
  if ! run_ns debootstrap --variant=minbase "$suite" "$tmp/bootstrap" "$mirror" > "$tmp/debootstrap.log" 2>&1; then
    tail -30 "$tmp/debootstrap.log" >&2; log "debootstrap failed"; exit 1
  fi
  rm -f "$tmp/bootstrap/var/cache/apt/archives/"*.deb
  tar --numeric-owner -C "$tmp/bootstrap" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  remove_tree "$tmp/bootstrap"
  prep_kind="root made with debootstrap"
else
  prep_kind="cached root"
fi
flock -u 9; exec 9>&-

root="$tmp/root"; mkdir "$root"
tar --numeric-owner -C "$root" -xpf "$tarball"

# What a new machine of this network has and a bare root lacks: name
# resolution, the mirror configuration, the npm registry configuration and
# the local certificate authorities (a TLS-inspecting egress proxy's, say;
# ca-certificates adds them to the system store when a package installs it),
# and no services started by package scripts inside a chroot.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
if [ -d /usr/local/share/ca-certificates ]; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -rL /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi
[ -f /etc/npmrc ] && cp -L /etc/npmrc "$root/etc/npmrc"
[ -s "$root/etc/hosts" ] ||
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
    "$(cat /proc/sys/kernel/hostname)" > "$root/etc/hosts"
if [ "$sources" = /etc/apt/sources.list.d/debian.sources ]; then
  rm -f "$root/etc/apt/sources.list"
  cp "$sources" "$root/etc/apt/sources.list.d/debian.sources"
else
  cp "$sources" "$root/etc/apt/sources.list"
fi
[ -f /etc/apt/apt.conf.d/99artifact-registry ] &&
  cp /etc/apt/apt.conf.d/99artifact-registry "$root/etc/apt/apt.conf.d/"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"

# Downloaded packages from earlier runs (apt still chooses what to install).
find "$cache/apt" -maxdepth 1 -name '*.deb' -exec cp -l -t "$root/var/cache/apt/archives/" {} + 2>/dev/null ||
  find "$cache/apt" -maxdepth 1 -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +

# The checkout: tracked and untracked files as they are in the work tree,
# without ignored ones (build output, node_modules) and without .git.
mkdir -p "$root/opt/vlake"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do
       case $f in build/*|test/tools/node_modules/*) continue ;; esac
       if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
     done | tar --null --no-recursion -T - -cf -) |
    tar -C "$root/opt/vlake" --no-same-owner -xf -
else
  tar -C "$src" --exclude-vcs --exclude-vcs-ignores --exclude=./build \
      --exclude=./test/tools/node_modules -cf - . |
    tar -C "$root/opt/vlake" --no-same-owner -xf -
fi
# The test peers (../shared/peers beside the checkout, e.g. the pgvector
# tarball TAP 070 builds): copied to /opt/shared/peers, beside /opt/vlake.
for p in "$src/../shared/peers" /work/shared/peers; do
  if [ -d "$p" ]; then
    mkdir -p "$root/opt/shared/peers"
    cp -a "$p"/. "$root/opt/shared/peers/"
    break
  fi
done
t1=$(now)
results+=("root prep $(secs "$t0" "$t1") s ($prep_kind)")
log "root prep: $(secs "$t0" "$t1") s ($prep_kind; $(du -sh "$cache" | cut -f1) in $cache)"

# The quick start's fixed port may be taken on the host (a developer's own
# demo): the chroot shares the host's network.
qs_env=""
if (exec 3<>/dev/tcp/127.0.0.1/55432) 2>/dev/null; then
  for p in $(seq 55440 55499); do
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { qs_env="export VLAKE_PORT=$p; "; break; }
  done
  log "port 55432 is in use on the host: the quick start uses ${qs_env#export }"
fi

failed=()
run_step() { # run_step NAME WHAT COMMAND
  local name=$1 what=$2 cmd=$3 t rc=0
  log "== $name: in chroot $root, cd /opt/vlake; $what"
  t=$(now)
  run_ns "$self" --inner "$root" "$cache/npm" "$tmp/$name.log" "$cmd" || rc=$?
  if [ "$rc" = 0 ]; then
    results+=("$name $(secs "$t" "$(now)") s ok")
  else
    results+=("$name $(secs "$t" "$(now)") s FAILED (exit $rc)"); failed+=("$name")
  fi
  log "$name: ${results[-1]#"$name "}"
}

for step in $steps; do
  case $step in
    quickstart)
      # One namespace for both, so that `stop` meets the running demo cluster
      # (the namespace's end would kill it otherwise); no server may outlive it.
      run_step quickstart "scripts/quickstart.sh, then scripts/quickstart.sh stop" \
        "${qs_env}scripts/quickstart.sh && scripts/quickstart.sh stop &&
        { ! grep -qsx postgres /proc/[0-9]*/comm ||
          { echo 'check-fresh: a server still runs after scripts/quickstart.sh stop'; exit 1; }; }" ;;
    test)
      run_step test scripts/test.sh scripts/test.sh ;;
    *) log "unknown step $step (VLAKE_FRESH_STEPS: quickstart test)"; exit 2 ;;
  esac
done

echo
for r in "${results[@]}"; do echo "check-fresh: $r"; done
[ ${#failed[@]} -eq 0 ] || echo "check-fresh: FAILED: ${failed[*]}"
if [[ " $steps " == *" test "* ]]; then
  last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/test.log" | tail -1 || true)
  if [ -n "$last" ]; then echo "$last"; else echo "check-fresh: test.sh printed no result line"; failed+=(test); fi
fi
[ ${#failed[@]} -eq 0 ]
