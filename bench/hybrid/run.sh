#!/usr/bin/env bash
# make bench-hybrid: the hybrid scan (ORDER BY vlake.rrf(...) LIMIT 10)
# beside the two-CTE FULL OUTER JOIN pattern it replaces (docs/hybrid.md),
# on one table of ROWS rows (default 100,000): a 32-d embedding and a second
# 32-d embedding (both with a vlake cosine index), a sparsevec of 4 of 1,000
# terms (a vlake_sparse index), a short text of 4 words from a 2,300-word
# vocabulary, 2 of them tied to the row's cluster (a vlake_bm25 index), a
# language column (filter: 1/3 of rows).
# Query sets (QUERIES random queries each, default 20):
#   dense+dense    both branches vlake index scans
#   dense+sparse   a vlake index branch and a vlake_sparse index branch
#   dense+bm25     a vlake index branch and a vlake_bm25 branch: the OR of
#                  two words of a row (the CTE forms rank the rows that
#                  match, body @@@ q, as a BM25 branch ranks)
# Forms, each with the WHERE lang = 'en' filter:
#   hybrid         ORDER BY vlake.rrf(b1, b2) LIMIT 10
#   cte N=100      each CTE ORDER BY its branch LIMIT 100 (the index scan,
#                  as the pattern is written), row_number() after the
#                  LIMIT, FULL OUTER JOIN, RRF in SQL, LIMIT 10
#   cte unlimited  each CTE over all filtered rows (no LIMIT)
# Prints the median and mean latency per form (each query run once after a
# warm-up pass), and how many of the hybrid's rows each CTE form returns
# (ids and order: "same" counts queries with identical results).  The
# agreement is measured with the index exact (vlake.probes = all lists,
# vlake.rerank_epsilon = 10), latencies with the defaults and exact.
# Throwaway cluster under build/bench-hybrid.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VLAKE_SRC"
make -s -j2 all >/dev/null
rows=${ROWS:-100000}; queries=${QUERIES:-20}

work=$(vlake_work_dir bench-hybrid)
bin=$(vlake_private_install "$work/install")
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
data="$work/pgdata"; sock="$work/sock"; port=${BENCH_PORT:-$(vlake_port 55450)}
cleanup() { vlake_cluster_stop "$bin" "$data"; }
trap cleanup EXIT
vlake_cluster_start "$bin" "$data" "$port" "$sock" "shared_buffers = '256MB'" "work_mem = '64MB'"
psql_b() { vlake_as_pg "$bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres "$@"; }
psql_b -c "CREATE EXTENSION vlake" >/dev/null

t0=$(date +%s)
psql_b <<SQL >/dev/null
SELECT setseed(0.1);
-- clustered vectors: 64 centres, so rankings are correlated as real ones are
CREATE TABLE centres AS SELECT c, array_agg(random()::real) AS v
  FROM generate_series(0, 63) c, generate_series(1, 32) d GROUP BY c;
CREATE TABLE docs AS
SELECT i AS id, (ARRAY['en', 'de', 'fr'])[1 + i % 3] AS lang,
       (SELECT array_agg(v[d] + (random() * 0.3)::real ORDER BY d) FROM generate_series(1, 32) d)::vector(32) AS emb,
       (SELECT array_agg(v[d] + (random() * 0.5)::real ORDER BY d) FROM generate_series(1, 32) d)::vector(32) AS emb2,
       ('{' || t1 || ':' || round((0.2 + random())::numeric, 2) || ',' || t2 || ':' || round((0.2 + random())::numeric, 2) || ','
            || t3 || ':' || round((0.2 + random())::numeric, 2) || ',' || t4 || ':' || round((0.2 + random())::numeric, 2) || '}/1000')::sparsevec(1000) AS sp,
       'w' || (c * 5 + i % 7) || ' w' || (400 + (i * 17) % 900) || ' w' || (c * 3 + i % 11) || ' w' || (1300 + (i * 31) % 1000) AS body
FROM (SELECT i, c, centres.v
      FROM generate_series(1, $rows) i JOIN centres ON centres.c = i % 64) s0
      CROSS JOIN LATERAL (SELECT 1 + (c * 3 + i % 7) % 250 AS t1, 251 + (c * 7 + i % 5) % 250 AS t2,
                                 501 + (i * 13) % 250 AS t3, 751 + (i * 31) % 250 AS t4) t;
ALTER TABLE docs ADD PRIMARY KEY (id);
CREATE INDEX docs_emb_idx ON docs USING vlake (emb vector_cosine_ops);
CREATE INDEX docs_emb2_idx ON docs USING vlake (emb2 vector_cosine_ops);
CREATE INDEX docs_sp_idx ON docs USING vlake_sparse (sp);
CREATE INDEX docs_body_idx ON docs USING vlake_bm25 (body) WITH (config = 'simple');
VACUUM ANALYZE docs;
-- queries: a perturbed row of the table each
CREATE TABLE qs AS
SELECT n, (SELECT emb FROM docs WHERE id = 1 + (n * 7919) % $rows) AS q1,
          (SELECT emb2 FROM docs WHERE id = 1 + (n * 7919) % $rows) AS q2,
          (SELECT sp FROM docs WHERE id = 1 + (n * 7919) % $rows) AS q3,
          (SELECT split_part(body, ' ', 1) || ' OR ' || split_part(body, ' ', 2) FROM docs WHERE id = 1 + (n * 7919) % $rows) AS q4
FROM generate_series(1, $queries) n;
SQL
echo "setup: $rows rows, 2 vlake indexes, a vlake_sparse and a vlake_bm25 index: $(( $(date +%s) - t0 )) s"

psql_b <<'SQL' >/dev/null
CREATE FUNCTION form_sql(form text, b1 text, b2 text, depth int) RETURNS text LANGUAGE sql AS $f$
  -- a BM25 branch (b2 = 'body <@> q') ranks the rows that match: the CTE's filter adds body @@@ q
  SELECT replace(replace(x, '%M2%', CASE WHEN b2 LIKE 'body <@>%' THEN ' AND body @@@ ' || substr(b2, 10) ELSE '' END), '%M1%', '')
  FROM (SELECT CASE form
    WHEN 'hybrid' THEN format('SELECT array_agg(id) FROM (SELECT id FROM docs WHERE lang = %L ORDER BY vlake.rrf(%s, %s) LIMIT 10) z', 'en', b1, b2)
    WHEN 'cte' THEN CASE WHEN depth > 0 THEN
      -- as the pattern is written: each branch its index scan ORDER BY b LIMIT N,
      -- ranks numbered after the LIMIT (a window ordered by (b, ctid) over the
      -- table would sort every row first)
      format('WITH a AS (SELECT id, t, row_number() OVER () r FROM (SELECT id, ctid AS t FROM docs WHERE lang = %2$L ORDER BY %1$s LIMIT %5$s) s), '
             'b AS (SELECT id, t, row_number() OVER () r FROM (SELECT id, ctid AS t FROM docs WHERE lang = %2$L%%M2%% ORDER BY %3$s LIMIT %5$s) s) %4$s',
             b1, 'en', b2, 'SELECT array_agg(id ORDER BY f DESC, t) FROM (SELECT coalesce(a.id, b.id) AS id, coalesce(a.t, b.t) AS t, '
                '0::float8 + coalesce(1::float8 / (60 + a.r), 0) + coalesce(1::float8 / (60 + b.r), 0) AS f '
                'FROM a FULL OUTER JOIN b ON a.t = b.t ORDER BY f DESC, t LIMIT 10) z', depth)
    ELSE
      -- every filtered row of each branch, ties by ctid: the complete rankings
      format('WITH a AS (SELECT id, ctid AS t, row_number() OVER (ORDER BY %1$s, ctid) r FROM docs WHERE lang = %2$L), '
             'b AS (SELECT id, ctid AS t, row_number() OVER (ORDER BY %3$s, ctid) r FROM docs WHERE lang = %2$L%%M2%%) %4$s',
             b1, 'en', b2, 'SELECT array_agg(id ORDER BY f DESC, t) FROM (SELECT coalesce(a.id, b.id) AS id, coalesce(a.t, b.t) AS t, '
                '0::float8 + coalesce(1::float8 / (60 + a.r), 0) + coalesce(1::float8 / (60 + b.r), 0) AS f '
                'FROM a FULL OUTER JOIN b ON a.t = b.t ORDER BY f DESC, t LIMIT 10) z') END END AS x) y
$f$;
CREATE FUNCTION branches(qset text, n int, OUT b1 text, OUT b2 text) LANGUAGE sql AS $f$
  SELECT format('emb <=> %L::vector', q1),
         CASE qset WHEN 'dense+dense' THEN format('emb2 <=> %L::vector', q2)
                   WHEN 'dense+bm25' THEN format('body <@> to_bm25query(%L, %L)', q4, 'docs_body_idx')
                   ELSE format('sp <#> %L::sparsevec', q3) END
  FROM qs WHERE qs.n = branches.n
$f$;
-- latency of one form over every query (after a warm-up pass): median, mean ms
CREATE FUNCTION bench(qset text, form text, depth int, OUT median_ms float8, OUT mean_ms float8) LANGUAGE plpgsql AS $f$
DECLARE t timestamptz; ms float8[] := '{}'; r int[]; b record;
BEGIN
  FOR pass IN 1 .. 2 LOOP
    FOR n IN 1 .. (SELECT count(*) FROM qs) LOOP
      SELECT * INTO b FROM branches(qset, n);
      t := clock_timestamp();
      EXECUTE form_sql(form, b.b1, b.b2, depth) INTO r;
      IF pass = 2 THEN ms := ms || (extract(epoch FROM clock_timestamp() - t) * 1000)::float8; END IF;
    END LOOP;
  END LOOP;
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), avg(x) INTO median_ms, mean_ms FROM unnest(ms) x;
END $f$;
-- agreement with the hybrid: queries with identical ids in identical order,
-- and the hybrid's rows the form returns at all
CREATE FUNCTION agree(qset text, depth int, OUT same int, OUT rows_found int, OUT rows_all int) LANGUAGE plpgsql AS $f$
DECLARE h int[]; c int[]; b record;
BEGIN
  same := 0; rows_found := 0; rows_all := 0;
  FOR n IN 1 .. (SELECT count(*) FROM qs) LOOP
    SELECT * INTO b FROM branches(qset, n);
    EXECUTE form_sql('hybrid', b.b1, b.b2, 0) INTO h;
    EXECUTE form_sql('cte', b.b1, b.b2, depth) INTO c;
    IF h = c THEN same := same + 1; END IF;
    rows_found := rows_found + (SELECT count(*) FROM unnest(h) x WHERE x = ANY (c));
    rows_all := rows_all + cardinality(h);
  END LOOP;
END $f$;
SQL

lists=$(psql_b -c "SELECT ceil(sqrt($rows))::int")
echo
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "query set | index | form | median ms | mean ms | same as hybrid (queries) | hybrid's rows found"
for qset in dense+dense dense+sparse dense+bm25; do
  for mode in default exact; do
    set_exact=""
    [ "$mode" = exact ] && set_exact="SET vlake.probes = $lists; SET vlake.rerank_epsilon = 10;"
    for form in hybrid "cte 100" "cte 0"; do
      f=${form%% *}; d=${form#* }; [ "$f" = hybrid ] && d=0
      lat=$(psql_b -F ' ' -c "$set_exact SELECT round(median_ms::numeric, 2), round(mean_ms::numeric, 2) FROM bench('$qset', '$f', $d)" | tail -1)
      ag="- | -"
      if [ "$f" = cte ] && [ "$mode" = exact ]; then
        ag=$(psql_b -F ' ' -c "$set_exact SELECT same || '/$queries', rows_found || '/' || rows_all FROM agree('$qset', $d)" | tail -1)
        ag=${ag/ / | }
      fi
      label=$form; [ "$form" = "cte 0" ] && label="cte unlimited"; [ "$form" = "cte 100" ] && label="cte N=100"
      echo "$qset | $mode | $label | ${lat/ / | } | $ag"
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "EXPLAIN ANALYZE of one hybrid query per set (default index settings):"
for qset in dense+dense dense+sparse dense+bm25; do
  q=$(psql_b -c "SELECT format('SELECT id FROM docs WHERE lang = %L ORDER BY vlake.rrf(%s, %s) LIMIT 10', 'en', b1, b2) FROM branches('$qset', 1)")
  echo "$qset:"
  psql_b -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $q" | grep -E "VlakeHybrid|Branch|Candidates|Rows Returned|Fused k|Scan|Sort" | sed -E 's/(Order By|Sort Key): .*/\1: .../' || true
done
