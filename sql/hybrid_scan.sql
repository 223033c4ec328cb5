-- The hybrid custom scan (docs/hybrid.md): ORDER BY vlake.rrf(...) /
-- vlake.fuse(...) LIMIT k over dense (vlake index, and no index), sparse and
-- filtered branches.  Oracle: the same fusion computed in plain SQL over the
-- complete filtered rankings (row_number() over each full ordering, ties by
-- ctid, full outer join, terms summed in branch order, fused ties by ctid).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;

CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT setseed(0.5);
CREATE TABLE docs (id int PRIMARY KEY, lang text, tag int, meta jsonb,
                   emb vector(4), emb2 vector(4), sp sparsevec(8));
-- ties: emb2 and sp take few distinct values; some vectors are NULL
INSERT INTO docs
SELECT i, (ARRAY['en', 'de', 'fr'])[1 + i % 3], i % 7,
       jsonb_build_object('tag', i % 5, 'pub', i % 2 = 0),
       CASE WHEN i % 50 = 0 THEN NULL ELSE ARRAY[random(), random(), random(), random()]::vector END,
       ARRAY[round(random() * 4), round(random() * 4), 1, 1]::vector,
       CASE WHEN i % 40 = 0 THEN NULL ELSE
         ('{' || (1 + i % 4) || ':' || round(random()::numeric, 1) || ',' ||
          (5 + (i * 7) % 4) || ':' || round(random()::numeric, 1) || '}/8')::sparsevec END
FROM generate_series(1, 3000) i;
CREATE INDEX docs_emb_idx ON docs USING vlake (emb vector_cosine_ops) WITH (lists = 4);
-- an index whose ranking has many ties (L2 over emb2's few distinct values):
-- the scan ranks ties in ctid order whatever order the index returns them in
CREATE INDEX docs_emb2_idx ON docs USING vlake (emb2 vector_l2_ops) WITH (lists = 4);
ANALYZE docs;
-- every list probed and a 10-sigma error bound: the index branch returns
-- the exact cosine order (the oracle's); an approximate order would be the
-- branch's ranking as the index returns it (docs/hybrid.md)
SET vlake.probes = 4;
SET vlake.rerank_epsilon = 10;

-- branch i of a query: (expression, weighted-sum bound)
CREATE FUNCTION branch_sql(b text, q vector, s sparsevec, OUT expr text, OUT bound float8)
LANGUAGE sql AS $$
  SELECT CASE b WHEN 'dense' THEN format('emb <=> %L::vector', q)
                WHEN 'dense_l2' THEN format('emb <-> %L::vector', q)
                WHEN 'noindex' THEN format('emb2 <=> %L::vector', q)
                WHEN 'tied_idx' THEN format('emb2 <-> %L::vector', q)
                WHEN 'sparse' THEN format('sp <#> %L::sparsevec', s) END,
         CASE b WHEN 'dense' THEN 2 WHEN 'dense_l2' THEN 1.5 WHEN 'noindex' THEN 2
                WHEN 'tied_idx' THEN 4 WHEN 'sparse' THEN 0 END
$$;

-- The oracle: ids of the fused top-lim in order.
CREATE FUNCTION oracle(method text, branches text[], q vector, s sparsevec,
                       filter text, weights float8[], rrf_k float8, lim int, off int DEFAULT 0)
RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
  ctes text := '';
  terms text := '0::float8';
  joins text := '';
  anyof text := 'false';
  e text; bnd float8; w float8;
  res int[];
BEGIN
  FOR i IN 1 .. array_length(branches, 1) LOOP
    SELECT * INTO e, bnd FROM branch_sql(branches[i], q, s);
    w := coalesce(weights[i], 1);
    ctes := ctes || format(', b%s AS (SELECT ctid AS t, %s AS d, row_number() OVER (ORDER BY %s, ctid) AS r '
                           'FROM docs WHERE (%s) AND (%s) IS NOT NULL)', i, e, e, filter, e);
    joins := joins || format(' LEFT JOIN b%s ON b%s.t = x.ctid', i, i);
    anyof := anyof || format(' OR b%s.r IS NOT NULL', i);
    IF method = 'rrf' THEN
      terms := terms || format(' + coalesce(%s::float8 / (%s::float8 + b%s.r), 0)', w, rrf_k, i);
    ELSE
      -- larger is better: v = -d, lo = -bound, best = max(-d of rank 1, lo)
      terms := terms || format(' + coalesce(CASE WHEN (SELECT greatest(-d, %s) FROM b%s WHERE r = 1) > %s '
                               'THEN %s::float8 * ((greatest(-b%s.d, %s) - %s) / ((SELECT greatest(-d, %s) FROM b%s WHERE r = 1) - %s)) '
                               'ELSE 0 END, 0)', -bnd, i, -bnd, w, i, -bnd, -bnd, -bnd, i, -bnd);
    END IF;
  END LOOP;
  EXECUTE format('WITH x0 AS (SELECT 1)%s SELECT array_agg(id ORDER BY f DESC, ctid) FROM '
                 '(SELECT x.id, x.ctid, %s AS f FROM docs x%s WHERE %s ORDER BY f DESC, x.ctid LIMIT %s OFFSET %s) z',
                 ctes, terms, joins, anyof, lim, off) INTO res;
  RETURN coalesce(res, '{}');
END $$;

-- The hybrid query's ids in order.
CREATE FUNCTION hybrid(method text, branches text[], q vector, s sparsevec,
                       filter text, weights float8[], rrf_k float8, lim int, off int DEFAULT 0)
RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
  args text := '';
  res int[];
  e text; bnd float8;
  bounds float8[];
BEGIN
  FOR i IN 1 .. array_length(branches, 1) LOOP
    SELECT * INTO e, bnd FROM branch_sql(branches[i], q, s);
    args := args || CASE WHEN i > 1 THEN ', ' ELSE '' END || e;
    bounds := bounds || bnd;
  END LOOP;
  IF weights IS NOT NULL THEN
    args := args || format(', weights => %L::float8[]', weights);
  END IF;
  IF method = 'rrf' THEN
    args := args || format(', k => %s', rrf_k);
  ELSIF 'dense_l2' = ANY (branches) OR 'tied_idx' = ANY (branches) THEN
    args := args || format(', bounds => %L::float8[]', bounds);
  END IF;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM docs WHERE %s ORDER BY vlake.%s(%s) LIMIT %s OFFSET %s) z',
                 filter, CASE method WHEN 'rrf' THEN 'rrf' ELSE 'fuse' END, args, lim, off) INTO res;
  RETURN coalesce(res, '{}');
END $$;

-- the plan: one custom scan, an index branch and a Sort branch, the filter
-- in both, no Sort above
EXPLAIN (COSTS OFF)
SELECT id FROM docs WHERE lang = 'en' AND meta @> '{"pub": true}'
ORDER BY vlake.rrf(emb <=> '[1,0,0,0]', sp <#> '{1:1,5:1}/8') LIMIT 10;

-- one worked query, beside the oracle
SELECT hybrid('rrf', '{dense,sparse}', '[1,0.5,0,0]', '{1:1,5:1}/8', 'lang = ''en''', NULL, 60, 10)
     = oracle('rrf', '{dense,sparse}', '[1,0.5,0,0]', '{1:1,5:1}/8', 'lang = ''en''', NULL, 60, 10) AS same;

-- Random queries: methods, branch sets, filters of every kind, weights, k,
-- LIMIT and OFFSET.  Report the cases that differ (none expected) and how
-- many returned exactly LIMIT rows.
CREATE TABLE cases AS
SELECT n,
       (ARRAY['rrf', 'fuse'])[1 + n % 2] AS method,
       (ARRAY['{dense,sparse}', '{dense}', '{sparse,noindex}', '{dense,noindex,sparse}', '{noindex}', '{dense_l2,sparse}', '{tied_idx,sparse}', '{tied_idx}', '{dense,tied_idx}'])[1 + n % 9]::text[] AS branches,
       ARRAY[random(), random(), random(), random()]::vector AS q,
       ('{' || (1 + n % 4) || ':1,' || (5 + n % 3) || ':' || round(random()::numeric, 1) || '}/8')::sparsevec AS s,
       (ARRAY['true', 'lang = ''en''', 'meta @> ''{"tag": 3}''', 'tag < 2 AND meta @> ''{"pub": true}''',
              'id % 97 = 1', 'id < 0', 'lang = ''de'' OR tag = 6'])[1 + n % 7] AS filter,
       CASE WHEN n % 3 = 0 THEN NULL ELSE ARRAY[round(random()::numeric * 2, 2), 1, round(random()::numeric, 2)]::float8[] END AS weights,
       (ARRAY[60, 0, 1, 10.5])[1 + n % 4]::float8 AS rrf_k,
       (ARRAY[10, 1, 25, 3, 100])[1 + n % 5] AS lim,
       CASE WHEN n % 11 = 0 THEN 5 ELSE 0 END AS off
FROM generate_series(1, 108) n;
UPDATE cases SET weights = weights[1:array_length(branches, 1)] WHERE weights IS NOT NULL;

SELECT n, method, branches, filter, lim, off,
       hybrid(method, branches, q, s, filter, weights, rrf_k, lim, off) AS got,
       oracle(method, branches, q, s, filter, weights, rrf_k, lim, off) AS want
FROM cases
WHERE hybrid(method, branches, q, s, filter, weights, rrf_k, lim, off)
      IS DISTINCT FROM oracle(method, branches, q, s, filter, weights, rrf_k, lim, off);

SELECT count(*) AS cases,
       count(*) FILTER (WHERE cardinality(hybrid(method, branches, q, s, filter, weights, rrf_k, lim, off)) = lim) AS full_k,
       count(*) FILTER (WHERE cardinality(hybrid(method, branches, q, s, filter, weights, rrf_k, lim, off)) < lim) AS fewer
FROM cases;

-- the fused value (minus the fused score) is output exactly: the scan asks
-- the core for exact scores when the query outputs it
SELECT array_agg(ROW(id, -f)::text) = (
  WITH b1 AS (SELECT ctid AS t, row_number() OVER (ORDER BY emb <=> '[0,0,1,1]', ctid) AS r FROM docs WHERE tag = 1 AND emb IS NOT NULL),
       b2 AS (SELECT ctid AS t, row_number() OVER (ORDER BY sp <#> '{3:1}/8', ctid) AS r FROM docs WHERE tag = 1 AND sp IS NOT NULL)
  SELECT array_agg(ROW(id, f)::text ORDER BY f DESC, ctid) FROM (
    SELECT x.id, x.ctid, 0::float8 + coalesce(2::float8 / (60 + b1.r), 0) + coalesce(1::float8 / (60 + b2.r), 0) AS f
    FROM docs x LEFT JOIN b1 ON b1.t = x.ctid LEFT JOIN b2 ON b2.t = x.ctid
    WHERE b1.r IS NOT NULL OR b2.r IS NOT NULL ORDER BY f DESC, x.ctid LIMIT 7) z) AS exact_scores
FROM (SELECT id, vlake.rrf(emb <=> '[0,0,1,1]', sp <#> '{3:1}/8', weights => '{2,1}') AS f FROM docs WHERE tag = 1
      ORDER BY vlake.rrf(emb <=> '[0,0,1,1]', sp <#> '{3:1}/8', weights => '{2,1}') LIMIT 7) h;

-- EXPLAIN ANALYZE shows the depth each branch was read to, the candidates
-- and the rows returned (numbers masked)
CREATE FUNCTION explain_masked(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, '[0-9]+', 'N', 'g');
  END LOOP;
END $$;
SELECT explain_masked($$SELECT id FROM docs WHERE lang = 'fr'
  ORDER BY vlake.fuse(emb <=> '[1,1,0,0]', sp <#> '{4:1}/8', weights => '{1,0.5}') LIMIT 5$$);

-- rerank: the fused top max(LIMIT, rerank_window) rows re-ordered by fused
-- score + rerank(row); the oracle re-orders its own fused top-W the same way
CREATE FUNCTION rerank_oracle(w int, lim int, boost float8) RETURNS text[] LANGUAGE sql AS $$
  WITH b1 AS (SELECT ctid AS t, row_number() OVER (ORDER BY emb <=> '[0.5,0,1,0]', ctid) AS r FROM docs WHERE lang <> 'fr' AND emb IS NOT NULL),
       b2 AS (SELECT ctid AS t, row_number() OVER (ORDER BY sp <#> '{1:1,6:1}/8', ctid) AS r FROM docs WHERE lang <> 'fr' AND sp IS NOT NULL),
       fused AS (SELECT x.id, x.ctid, x.tag, 0::float8 + coalesce(1::float8 / (60 + b1.r), 0) + coalesce(1::float8 / (60 + b2.r), 0) AS f
                 FROM docs x LEFT JOIN b1 ON b1.t = x.ctid LEFT JOIN b2 ON b2.t = x.ctid
                 WHERE b1.r IS NOT NULL OR b2.r IS NOT NULL ORDER BY f DESC, x.ctid LIMIT w)
  SELECT array_agg(ROW(id, f + boost * tag)::text ORDER BY f + boost * tag DESC, ctid)
  FROM (SELECT * FROM fused ORDER BY f + boost * tag DESC, ctid LIMIT lim) z
$$;
SELECT array_agg(ROW(id, -v)::text) = rerank_oracle(20, 10, 0.001) AS rerank_w20,
       array_agg(id) <> (SELECT array_agg(id) FROM (SELECT id FROM docs WHERE lang <> 'fr'
         ORDER BY vlake.rrf(emb <=> '[0.5,0,1,0]', sp <#> '{1:1,6:1}/8') LIMIT 10) p) AS order_changed
FROM (SELECT id, vlake.rrf(emb <=> '[0.5,0,1,0]', sp <#> '{1:1,6:1}/8', rerank => 0.001::float8 * tag, rerank_window => 20) AS v
      FROM docs WHERE lang <> 'fr'
      ORDER BY vlake.rrf(emb <=> '[0.5,0,1,0]', sp <#> '{1:1,6:1}/8', rerank => 0.001::float8 * tag, rerank_window => 20) LIMIT 10) h;
-- the window defaults to 100; LIMIT above the window widens it
SELECT array_agg(ROW(id, -v)::text) = rerank_oracle(100, 7, 0.0005) AS rerank_default
FROM (SELECT id, vlake.rrf(emb <=> '[0.5,0,1,0]', sp <#> '{1:1,6:1}/8', rerank => 0.0005::float8 * tag) AS v
      FROM docs WHERE lang <> 'fr'
      ORDER BY vlake.rrf(emb <=> '[0.5,0,1,0]', sp <#> '{1:1,6:1}/8', rerank => 0.0005::float8 * tag) LIMIT 7) h;
SELECT array_agg(ROW(id, -v)::text) = rerank_oracle(30, 30, 0.002) AS rerank_limit_over_window
FROM (SELECT id, vlake.rrf(emb <=> '[0.5,0,1,0]', sp <#> '{1:1,6:1}/8', rerank => 0.002::float8 * tag, rerank_window => 5) AS v
      FROM docs WHERE lang <> 'fr'
      ORDER BY vlake.rrf(emb <=> '[0.5,0,1,0]', sp <#> '{1:1,6:1}/8', rerank => 0.002::float8 * tag, rerank_window => 5) LIMIT 30) h;
SELECT explain_masked($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[0.5,0,1,0]', rerank => 0.001::float8 * tag, rerank_window => 20) LIMIT 3$$);

-- a parameterised LIMIT and OFFSET under a generic plan: k is evaluated at
-- execution, not planning
PREPARE p(int, int) AS SELECT array_agg(id) FROM (SELECT id FROM docs WHERE tag = 3
  ORDER BY vlake.rrf(emb <=> '[0,1,0,0]', sp <#> '{2:1}/8') LIMIT $1 OFFSET $2) z;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE p(5, 0);
EXECUTE p(5, 0) \gset r5_
EXECUTE p(40, 0) \gset r40_
EXECUTE p(3, 4) \gset r3_
EXECUTE p(1000, 0) \gset rall_
RESET plan_cache_mode;
SELECT :'r5_array_agg'::int[] = oracle('rrf', '{dense,sparse}', '[0,1,0,0]', '{2:1}/8', 'tag = 3', NULL, 60, 5) AS lim5,
       :'r40_array_agg'::int[] = oracle('rrf', '{dense,sparse}', '[0,1,0,0]', '{2:1}/8', 'tag = 3', NULL, 60, 40) AS lim40,
       :'r3_array_agg'::int[] = oracle('rrf', '{dense,sparse}', '[0,1,0,0]', '{2:1}/8', 'tag = 3', NULL, 60, 3, 4) AS lim3_off4,
       :'rall_array_agg'::int[] = oracle('rrf', '{dense,sparse}', '[0,1,0,0]', '{2:1}/8', 'tag = 3', NULL, 60, 1000) AS lim1000,
       cardinality(:'rall_array_agg'::int[]) = (SELECT count(*) FROM docs WHERE tag = 3 AND (emb IS NOT NULL OR sp IS NOT NULL)) AS all_rows;

-- LIMIT ALL (k unknown): the scan fuses with k = 100, and when more rows
-- are read, again with 2k, skipping what it returned; still exact
SELECT array_agg(id) = oracle('rrf', '{dense}', '[1,1,1,0]', NULL, 'id % 13 = 0', NULL, 60, 10000) AS limit_all,
       count(*)
FROM (SELECT id FROM docs WHERE id % 13 = 0 ORDER BY vlake.rrf(emb <=> '[1,1,1,0]') LIMIT ALL) z;

-- a correlated (LATERAL) hybrid subquery: rescanned per outer row with new
-- parameters in its branches
SELECT count(*) AS outer_rows,
       count(*) FILTER (WHERE got = oracle('rrf', '{dense,noindex}', q, NULL, 'tag = ' || t, NULL, 60, 4)) AS same
FROM (SELECT n % 7 AS t, ARRAY[n, 1, 2, n % 3]::vector AS q FROM generate_series(1, 6) n) o,
     LATERAL (SELECT array_agg(id) AS got FROM (SELECT id FROM docs WHERE tag = o.t
              ORDER BY vlake.rrf(emb <=> o.q, emb2 <=> o.q) LIMIT 4) z) h;

-- errors
SELECT try($$SELECT vlake.rrf(emb <=> '[1,0,0,0]') FROM docs LIMIT 1$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[1,0,0,0]')$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[1,0,0,0]') DESC LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[1,0,0,0]'), id LIMIT 3$$);
SELECT try($$SELECT d.id FROM docs d JOIN docs e USING (id) ORDER BY vlake.rrf(d.emb <=> '[1,0,0,0]') LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(tag::float8) LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> emb2) LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[1,0,0,0]', weights => '{1,2}') LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[1,0,0,0]', weights => '{-1}') LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[1,0,0,0]', k => -1) LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.fuse(emb <-> '[1,0,0,0]') LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.fuse(emb <-> '[1,0,0,0]', bounds => '{1,2}') LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(NULL) LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[1,0,0,0]', rerank => random()) LIMIT 3$$);
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[1,0,0,0]', rerank => 1, rerank_window => 0) LIMIT 3$$);

-- privileges: a role without SELECT gets an ERROR
CREATE ROLE hyb_reader;
CREATE ROLE hyb_none;
GRANT SELECT ON docs TO hyb_reader;
SET ROLE hyb_none;
SELECT try($$SELECT id FROM docs ORDER BY vlake.rrf(emb <=> '[1,0,0,0]') LIMIT 3$$);
RESET ROLE;

-- row-level security holds inside the scan (in every branch): the role's
-- hybrid query equals the oracle over the rows its policy shows, computed
-- by the table owner with the policy's predicate as a filter
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_pub ON docs FOR SELECT TO hyb_reader USING ((meta ->> 'pub')::boolean AND tag <> 4);
CREATE TABLE rls_want AS
SELECT oracle('rrf', '{dense,sparse}', '[0.2,0.9,0.1,0]', '{2:1,6:0.5}/8',
              $$(meta ->> 'pub')::boolean AND tag <> 4 AND lang = 'fr'$$, NULL, 60, 20) AS want,
       oracle('fuse', '{dense,noindex}', '[0.2,0.9,0.1,0]', NULL,
              $$(meta ->> 'pub')::boolean AND tag <> 4$$, '{1,3}', 60, 15) AS want2;
GRANT SELECT ON rls_want TO hyb_reader;
SET ROLE hyb_reader;
SELECT hybrid('rrf', '{dense,sparse}', '[0.2,0.9,0.1,0]', '{2:1,6:0.5}/8', $$lang = 'fr'$$, NULL, 60, 20) = want AS rls_rrf,
       hybrid('fuse', '{dense,noindex}', '[0.2,0.9,0.1,0]', NULL, 'true', '{1,3}', 60, 15) = want2 AS rls_fuse,
       cardinality(want) AS rows
FROM rls_want;
RESET ROLE;
DROP TABLE rls_want;
DROP POLICY docs_pub ON docs;
ALTER TABLE docs DISABLE ROW LEVEL SECURITY;
DROP ROLE hyb_none;
REVOKE ALL ON docs FROM hyb_reader;
DROP ROLE hyb_reader;
