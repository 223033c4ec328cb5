#!/usr/bin/env bash
# bench/ann/memwatch.sh POSTMASTER_PID OUT — peak memory of a cluster's
# backends while an index builds (the leader and its parallel workers).
#
# Every 0.1 s, for every client backend and parallel worker of the cluster, /proc/PID/smaps is read and
# the proportional set size (Pss) is summed over private anonymous mappings
# (heap, stack, anonymous mmap: palloc'd memory, maintenance_work_mem) and
# dynamic shared memory segments (/dev/shm/PostgreSQL.*: a parallel build's
# shared state, e.g. pgvector's HNSW graph).  The main shared memory segment
# (shared_buffers) and files are left out; Pss counts a shared page once
# across processes.  Writes "PEAK_KB BASELINE_KB" to OUT when killed (TERM),
# the baseline being the first sample (taken before the build starts).
set -u
pm=$1 out=$2
peak=0 base=-1
sample() {
  local files=() p
  # client backends ("postgres: USER DB [local] ...") and parallel workers
  for p in $(ps -o pid=,args= --ppid "$pm" 2>/dev/null | awk '/\[local\]|parallel worker/ {print $1}'); do
    files+=("/proc/$p/smaps")
  done
  [ ${#files[@]} -eq 0 ] && { echo 0; return; }
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / { path = $6; perms = $2;
      keep = (path ~ /^\/dev\/shm\/PostgreSQL\./) ||
             (substr(perms, 4, 1) == "p" && (path == "" || path ~ /^\[(heap|stack|anon)/)); next }
    keep && /^Pss:/ { s += $2 }
    END { print s + 0 }' "${files[@]}" 2>/dev/null || echo 0
}
finish() { echo "$peak $base" > "$out"; exit 0; }
trap finish TERM INT
while :; do
  cur=$(sample)
  [ "$base" -lt 0 ] && base=$cur
  [ "$cur" -gt "$peak" ] && peak=$cur
  [ -n "${MEMWATCH_LOG:-}" ] && echo "$(date +%T.%N) $cur" >> "$MEMWATCH_LOG"
  sleep 0.1
done
