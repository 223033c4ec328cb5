#!/usr/bin/env bash
# make bench-objref-lists: what the object lists of objref columns cost
# (docs/objref.md, "Lineage").  Two vlake tables of ROWS rows (default
# 200,000) with an objref column, flushed to one segment each: "clips", 100
# rows per object (video URIs), and "images", one object per row (the worst
# case: a random SHA-256 per row); and the same rows with the reference as
# jsonb (the same JSON text in the same kind of file, no list).  Prints, per
# table, the bytes of the objref group file and of its list, and the flush
# time of the objref table against the jsonb one (RUNS runs each,
# alternating, min and max), then vlake.table_objects' time.  Throwaway
# cluster under build/bench-objref-lists.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"
make -s -j2 all >/dev/null
rows=${ROWS:-200000}; runs=${RUNS:-3}

work=$(vlake_work_dir bench-objref-lists)
bin=$(vlake_private_install "$work/install")
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
data="$work/pgdata"; sock="$work/sock"; port=${BENCH_PORT:-$(vlake_port 55350)}
lake="$work/lake"; rm -rf "$lake"; mkdir -p "$lake"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$lake"
cleanup() { vlake_cluster_stop "$bin" "$data"; }
trap cleanup EXIT
vlake_cluster_start "$bin" "$data" "$port" "$sock" "vlake.allowed_file_roots = '$lake'"
psql_b() { vlake_as_pg "$bin/psql" -X -q -A -t -h "$sock" -p "$port" -U postgres -d postgres "$@"; }
psql_b -c "CREATE EXTENSION vlake" >/dev/null
psql_b <<SQL >/dev/null
CREATE TABLE src_clips AS SELECT i AS id,
  vlake.objref('s3://media-bucket/videos/2026/12/video-' || lpad((i / 100)::text, 6, '0') || '.mp4',
               10000000 + i / 100, encode(sha256(((i / 100)::text)::bytea), 'hex'), 'video/mp4') AS src,
  'clip ' || i AS caption FROM generate_series(0, $rows - 1) i;
CREATE TABLE src_images AS SELECT i AS id,
  vlake.objref('s3://media-bucket/images/2026/12/img-' || lpad(i::text, 8, '0') || '.jpg',
               100000 + i, encode(sha256((i::text)::bytea), 'hex'), 'image/jpeg') AS src,
  'img ' || i AS caption FROM generate_series(0, $rows - 1) i;
SQL

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
n=0
flush_ms() { # flush_ms SOURCE TYPE: flush time in $took; leaves table t<n>
  n=$((n + 1))
  psql_b -c "SET vlake.copy_lake_threshold = 0;
    CREATE TABLE t$n (id int, src $2, caption text) USING vlake WITH (location = 'file://$lake/t$n');
    INSERT INTO t$n SELECT id, src::text::$2, caption FROM $1; CHECKPOINT" >/dev/null
  local t; t=$(date +%s%N); psql_b -c "SELECT vlake.flush('t$n')" >/dev/null; took=$(ms "$t")
}
echo "table | rows | objects | group file bytes | list bytes | list/group | all files | flush objref min-max ms | flush jsonb min-max ms | table_objects ms"
for s in clips images; do
  o=(); j=()
  for r in $(seq 1 "$runs"); do
    flush_ms "src_$s" objref; o+=("$took"); last=$n
    flush_ms "src_$s" jsonb; j+=("$took")
  done
  sizes=$(psql_b -F ' ' -c "SELECT sum(size) FILTER (WHERE objects_path IS NOT NULL), sum(objects_size), sum(size)
                             FROM vlake.files WHERE relid = 't$last'::regclass")
  read -r g l a <<<"$sizes"
  objs=$(psql_b -c "SELECT count(*) FROM vlake.table_objects('t$last')")
  t=$(date +%s%N); psql_b -c "SELECT count(*) FROM vlake.table_objects('t$last')" >/dev/null; to=$(ms "$t")
  mm() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd- ; }
  echo "$s | $rows | $objs | $g | $l | $(awk -v l="$l" -v g="$g" 'BEGIN { printf "%.2f", l / g }') | $a | $(mm "${o[@]}") | $(mm "${j[@]}") | $to"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
