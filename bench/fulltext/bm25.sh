#!/usr/bin/env bash
# make bench-bm25 — BM25 top-10 on GCIDE (docs/bm25.md, "Benchmarks";
# docs/benchmarks.md), side by side in one run on one private cluster:
#   (a) vlake:   SELECT id FROM docs WHERE body @@@ q ORDER BY body <@> q LIMIT 10
#                q = to_bm25query($1, 'docs_body_idx'), a vlake_bm25 index (config 'simple')
#   (b) ts_rank: SELECT id FROM docs WHERE to_tsvector('simple', body) @@ to_tsquery('simple', $1)
#                ORDER BY ts_rank(to_tsvector('simple', body), to_tsquery('simple', $1)) DESC LIMIT 10
#                over a GIN index on to_tsvector('simple', body)
#   (c) SQLite FTS5 (sqlite3 CLI): SELECT rowid FROM d WHERE d MATCH '...' ORDER BY bm25(d) LIMIT 10
# The corpus and the queries are bench/fulltext/corpus.pl's (DOCS GCIDE
# entries, BM25_REPEAT copies of each: 5 is the synthetic 5x variant).
# Query sets, from its queries.tsv: "frequent" (its 40 single terms in > 1% of
# the documents), "rare" (its 40 single terms in 1..20 documents) and
# "frequent OR" (20 pairs of the frequent terms, a OR b / 'a | b').
# Measured per set and engine, in ROUNDS rounds alternating the engines: the
# wall time per query of the set's queries run one after the other in one
# session (prepared statements in psql; one sqlite3 process with .timer on,
# summing its per-statement real time), and the CPU time per query (the
# backend's utime + stime from /proc/self/stat, as bench/tables/index.sh's
# cpu_us; sqlite3's user + sys). Reported: medians over the rounds, and the
# median (and range) of the rounds' ratios. Each engine answers each set once
# before the timed rounds (warm caches: shared_buffers 1GB; FTS5's database
# file in the page cache, cache_size 256MB).
# Each measurement repeats the set until it lasts MIN_SECONDS (1; the count of
# passes is fixed per engine and set by the warm-up pass), so that the 10 ms
# clock ticks of /proc/self/stat do not matter.
# FORCE_INDEX_SCAN=1 turns bitmap and sequential scans off in vlake's session
# (to measure the index's ordered scan should the planner prefer another plan).
# Env: BM25_DOCS (60000), BM25_REPEAT (1), ROUNDS (5), MIN_SECONDS (1), PORT (default derived from the
# checkout), KEEP=1 keeps the cluster. Results: printed, and kept in
# build/bench-bm25/results.txt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"

ndocs=${BM25_DOCS:-60000}
repeat=${BM25_REPEAT:-1}
min_s=${MIN_SECONDS:-1}
rounds=${ROUNDS:-5}
make -s -j2 all >/dev/null

work=$(vlake_work_dir bench-bm25)
bin=$(vlake_private_install "$work/install")
data="$work/pgdata"; sock="$work/sock"; port=${PORT:-$(vlake_port 57400)}
res="$work/results.txt"; : > "$res"
say() { echo "$*" | tee -a "$res"; }
corpus="$work/corpus-$ndocs-$repeat"
[ -s "$corpus/queries.tsv" ] || perl bench/fulltext/corpus.pl "$corpus" "$ndocs" 300 12 "$repeat"
chmod -R a+rX "$work"
vlake_cluster_start "$bin" "$data" "$port" "$sock" \
  "maintenance_work_mem = '1GB'" "shared_buffers = '1GB'" "jit = off" \
  "max_parallel_workers_per_gather = 0" "max_parallel_maintenance_workers = 0"
if [ -z "${KEEP:-}" ]; then trap 'vlake_cluster_stop "$bin" "$data"' EXIT; fi
psql() { vlake_as_pg "$bin/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
ms() { awk 'NR==1{a=$1} NR==2{b=$1} END{printf "%.0f", b-a}'; }
now="SELECT extract(epoch FROM clock_timestamp()) * 1000"

# ---- load and build ----
psql -c "CREATE EXTENSION vlake" \
     -c "CREATE TABLE docs (id int PRIMARY KEY, title text, body text)" \
     -c "COPY docs FROM '$corpus/docs.csv' WITH (FORMAT csv)" \
     -c "VACUUM ANALYZE docs"
n=$(psql -At -c "SELECT count(*) FROM docs")
gin_build=$(psql -At -c "CHECKPOINT" -c "$now" \
  -c "CREATE INDEX docs_gin ON docs USING gin (to_tsvector('simple', body))" -c "$now" | ms)
# without the access method (a build before it), the vlake column reads 0 and the ratios n/a
have_bm25=$(psql -At -c "SELECT count(*) FROM pg_am WHERE amname = 'vlake_bm25'")
bm25_build=n/a
if [ "$have_bm25" = 1 ]; then
  bm25_build=$(psql -At -c "CHECKPOINT" -c "$now" \
    -c "CREATE INDEX docs_body_idx ON docs USING vlake_bm25 (body) WITH (config = 'simple')" -c "$now" | ms)
fi
gin_size=$(psql -At -c "SELECT pg_relation_size('docs_gin')")
heap_size=$(psql -At -c "SELECT pg_table_size('docs')")
psql -c "ANALYZE docs"

db="$work/fts5.db"; rm -f "$db"
t0=$(date +%s%N)
sqlite3 -bail "$db" <<SQL
CREATE TABLE src (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
.import --csv $corpus/docs.csv src
CREATE VIRTUAL TABLE d USING fts5(body);
INSERT INTO d (rowid, body) SELECT id, body FROM src;
DROP TABLE src;
VACUUM;
SQL
fts5_build=$(( ($(date +%s%N) - t0) / 1000000 ))

# ---- the query sets ----
awk -F'\t' '$2 == "freq" {print $3}' "$corpus/queries.tsv" > "$work/set_frequent"
awk -F'\t' '$2 == "rare" {print $3}' "$corpus/queries.tsv" > "$work/set_rare"
awk -F'\t' '$2 == "freq" {t[n++] = $3} END {for (i = 0; i + 1 < n && i < 40; i += 2) print t[i] " OR " t[i+1]}' \
  "$corpus/queries.tsv" > "$work/set_frequent_OR"
sets="frequent rare frequent_OR"
matches() { # matches SET — average number of matching documents (FTS5's count)
  while read -r q; do echo "SELECT count(*) FROM d WHERE d MATCH '$q';"; done < "$work/set_$1" \
    | sqlite3 "$db" | awk '{s += $1} END {printf "%.0f", s / NR}'
}
tsq() { sed 's/ OR / | /g' <<<"$1"; }

prepare() { # prepare ENGINE — the statement measured, as q(text)
  if [ "$1" = vlake ]; then
    [ -n "${FORCE_INDEX_SCAN:-}" ] && echo "SET enable_bitmapscan = off; SET enable_seqscan = off;"
    echo "PREPARE q(text) AS SELECT id FROM docs WHERE body @@@ to_bm25query(\$1, 'docs_body_idx')"
    echo "  ORDER BY body <@> to_bm25query(\$1, 'docs_body_idx') LIMIT 10;"
  else
    echo "PREPARE q(text) AS SELECT id FROM docs WHERE to_tsvector('simple', body) @@ to_tsquery('simple', \$1)"
    echo "  ORDER BY ts_rank(to_tsvector('simple', body), to_tsquery('simple', \$1)) DESC LIMIT 10;"
  fi
}
pg_script() { # pg_script ENGINE SET PASSES — prints "wall_us cpu_us" per query of the set
  local f="$work/run_$1_$2.sql" nq p
  nq=$(( $(wc -l < "$work/set_$2") * $3 ))
  {
    prepare "$1"
    echo "SELECT clock_timestamp() AS w0, (string_to_array(pg_read_file('/proc/self/stat'), ' '))[14:15] AS c0 \\gset"
    for ((p = 0; p < $3; p++)); do
      while read -r q; do
        if [ "$1" = vlake ]; then echo "EXECUTE q('$q');"; else echo "EXECUTE q('$(tsq "$q")');"; fi
      done < "$work/set_$2"
    done
    echo "SELECT (string_to_array(pg_read_file('/proc/self/stat'), ' '))[14:15] AS c1, clock_timestamp() AS w1 \\gset"
    echo "SELECT round(extract(epoch FROM :'w1'::timestamptz - :'w0'::timestamptz) * 1e6 / $nq),"
    echo "       round((((:'c1'::int[])[1] + (:'c1'::int[])[2]) - ((:'c0'::int[])[1] + (:'c0'::int[])[2]))"
    echo "             * 1e6 / $(getconf CLK_TCK) / $nq);"
  } > "$f"
  chmod a+r "$f"
  if [ "$1" = vlake ] && [ "$have_bm25" != 1 ]; then echo '0 0'; return; fi
  psql -At -F ' ' -f "$f" | tail -1
}
fts5_script() { # fts5_script SET PASSES — "wall_us cpu_us" per query: the wall time of the
  # sqlite3 process less that of the same process without the queries (start, open, a warm-up
  # query), CPU as .timer's user + sys summed over the statements (its real time has ms digits)
  local f="$work/run_fts5_$1.sql" nq p t0 t1 t2 cpu
  nq=$(( $(wc -l < "$work/set_$1") * $2 ))
  { echo "PRAGMA cache_size = -262144;"; echo ".output /dev/null"; echo "SELECT count(*) FROM d WHERE d MATCH 'a';"
    echo ".output stdout"; } > "$f.base"
  { cat "$f.base"; echo ".timer on"; echo ".output /dev/null"
    for ((p = 0; p < $2; p++)); do
      while read -r q; do echo "SELECT rowid FROM d WHERE d MATCH '$q' ORDER BY bm25(d) LIMIT 10;"; done < "$work/set_$1"
    done
  } > "$f"
  t0=$(date +%s%N); sqlite3 "$db" < "$f.base" >/dev/null; t1=$(date +%s%N)
  cpu=$(sqlite3 "$db" < "$f" | awk -v n="$nq" '/^Run Time:/ {c += $6 + $8} END {printf "%.0f", c * 1e6 / n}')
  t2=$(date +%s%N)
  echo "$(( (t2 - t1 - (t1 - t0)) / 1000 / nq )) $cpu"
}

# the plans, and a warm-up pass of each engine over each set
say "== bench-bm25, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores shared with other work (load: $(cut -d' ' -f1-3 /proc/loadavg)) =="
say "corpus: $n documents (bench/fulltext/corpus.pl $ndocs GCIDE entries x $repeat), body $(psql -At -c "SELECT pg_size_pretty(sum(length(body))::bigint) FROM docs") of text; heap $(awk -v a="$heap_size" 'BEGIN{printf "%.1f MB", a/1048576}')"
say "build: vlake_bm25 $bm25_build ms; GIN on to_tsvector('simple', body) $gin_build ms ($(awk -v a="$gin_size" 'BEGIN{printf "%.1f MB", a/1048576}')); FTS5 import + index $fts5_build ms (database $(du -m "$db" | cut -f1) MB)"
q1=$(head -1 "$work/set_frequent")
say "plans of the statements measured (first frequent query, '$q1'${FORCE_INDEX_SCAN:+; vlake with FORCE_INDEX_SCAN: bitmap and sequential scans off}):"
for e in vlake tsrank; do
  [ "$e" = vlake ] && [ "$have_bm25" != 1 ] && continue
  say "  $e:"
  { prepare "$e"; for i in 1 2 3 4 5 6; do echo "EXECUTE q('$q1');"; done
    echo "EXPLAIN (COSTS OFF) EXECUTE q('$q1');"; } > "$work/plan_$e.sql"
  chmod a+r "$work/plan_$e.sql"
  psql -At -f "$work/plan_$e.sql" | grep -vE '^[0-9]+$' | sed 's/^/    /' | tee -a "$res"
done
declare -A passes
passes_for() { # passes_for KEY "wall_us cpu_us" SET — passes of the set that last MIN_SECONDS
  local w=${2%% *} nq
  nq=$(wc -l < "$work/set_$3")
  passes[$1]=$(awk -v w="$w" -v n="$nq" -v m="$min_s" 'BEGIN{ p = (w > 0) ? int(m * 1e6 / (w * n)) + 1 : 1; print p }')
}
for s in $sets; do
  passes_for "vlake $s" "$(pg_script vlake "$s" 1)" "$s"
  passes_for "tsrank $s" "$(pg_script tsrank "$s" 1)" "$s"
  passes_for "fts5 $s" "$(fts5_script "$s" 1)" "$s"
done

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END{ if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { echo "$(median "$@") ($(printf '%s\n' "$@" | sort -g | head -1)–$(printf '%s\n' "$@" | sort -g | tail -1))"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1f", a / b; else printf "n/a" }'; }
say ""
say "| set | queries (passes vlake / ts_rank / FTS5) | avg matches | vlake µs/query (CPU) | ts_rank µs/query (CPU) | FTS5 µs/query (CPU) | vlake QPS | ts_rank / vlake wall | ts_rank / vlake CPU | FTS5 / vlake wall | FTS5 / vlake CPU |"
say "|---|---|---|---|---|---|---|---|---|---|---|"
for s in $sets; do
  vw=(); vc=(); tw=(); tc=(); fw=(); fc=(); rtw=(); rtc=(); rfw=(); rfc=()
  for ((r = 0; r < rounds; r++)); do
    read -r a b <<<"$(pg_script vlake "$s" "${passes[vlake $s]}")"; vw+=("$a"); vc+=("$b")
    read -r a b <<<"$(pg_script tsrank "$s" "${passes[tsrank $s]}")"; tw+=("$a"); tc+=("$b")
    read -r a b <<<"$(fts5_script "$s" "${passes[fts5 $s]}")"; fw+=("$a"); fc+=("$b")
    rtw+=("$(ratio "${tw[-1]}" "${vw[-1]}")"); rtc+=("$(ratio "${tc[-1]}" "${vc[-1]}")")
    rfw+=("$(ratio "${fw[-1]}" "${vw[-1]}")"); rfc+=("$(ratio "${fc[-1]}" "${vc[-1]}")")
  done
  mvw=$(median "${vw[@]}")
  say "| $s | $(wc -l < "$work/set_$s") (${passes[vlake $s]} / ${passes[tsrank $s]} / ${passes[fts5 $s]}) | $(matches "$s") | $mvw ($(median "${vc[@]}")) | $(median "${tw[@]}") ($(median "${tc[@]}")) | $(median "${fw[@]}") ($(median "${fc[@]}")) | $(awk -v w="$mvw" 'BEGIN{ if (w > 0) printf "%.0f", 1e6 / w; else print "n/a" }') | $(range "${rtw[@]}") | $(range "${rtc[@]}") | $(range "${rfw[@]}") | $(range "${rfc[@]}") |"
done
say ""
say "(µs/query: wall time of the set's queries, repeated for >= ${min_s} s, in one session, over their number, median of $rounds rounds; CPU: the backend's (sqlite3's) user + sys; QPS = 10^6 / wall µs, one client)"
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${KEEP:-}" ]; then
  echo "cluster kept: $bin/psql -h $sock -p $port -U postgres postgres"
fi
