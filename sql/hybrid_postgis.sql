-- PostGIS predicates inside a hybrid query (docs/hybrid.md): the spatial
-- filter holds in every branch, including a branch whose scan uses the GiST
-- index for the filter.  Oracle: fusion in plain SQL over the complete
-- filtered rankings.  Skips (alternative output hybrid_postgis_1.out) when
-- the postgis extension is not installed (Debian postgresql-15-postgis-3,
-- installed by scripts/install-deps.sh test).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
SELECT count(*) = 0 AS no_postgis FROM pg_available_extensions WHERE name = 'postgis' \gset
\if :no_postgis
\echo 'skipped: the postgis extension is not installed (apt-get install postgresql-15-postgis-3)'
\quit
\endif
SET client_min_messages = warning;
CREATE EXTENSION postgis;
RESET client_min_messages;

SELECT setseed(0.25);
CREATE TABLE places (id int PRIMARY KEY, kind text, geom geometry(Point, 4326),
                     emb vector(3), sp sparsevec(6));
INSERT INTO places
SELECT i, (ARRAY['cafe', 'shop', 'park'])[1 + i % 3],
       ST_SetSRID(ST_MakePoint(random() * 10, random() * 10), 4326),
       ARRAY[random(), random(), random()]::vector,
       ('{' || (1 + i % 3) || ':' || round(random()::numeric, 1) || ',' || (4 + i % 3) || ':1}/6')::sparsevec
FROM generate_series(1, 4000) i;
CREATE INDEX places_geom_idx ON places USING gist (geom);
CREATE INDEX places_emb_idx ON places USING vlake (emb vector_l2_ops) WITH (lists = 4);
ANALYZE places;
SET vlake.probes = 4;
SET vlake.rerank_epsilon = 10;

CREATE FUNCTION oracle(filter text, q vector, s sparsevec, lim int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE res int[];
BEGIN
  EXECUTE format($q$
    WITH b1 AS (SELECT ctid AS t, row_number() OVER (ORDER BY emb <-> %L::vector, ctid) AS r FROM places WHERE %s),
         b2 AS (SELECT ctid AS t, row_number() OVER (ORDER BY sp <#> %L::sparsevec, ctid) AS r FROM places WHERE %s)
    SELECT array_agg(id ORDER BY f DESC, ctid) FROM (
      SELECT x.id, x.ctid, 0::float8 + coalesce(1::float8 / (60 + b1.r), 0) + coalesce(1::float8 / (60 + b2.r), 0) AS f
      FROM places x LEFT JOIN b1 ON b1.t = x.ctid LEFT JOIN b2 ON b2.t = x.ctid
      WHERE b1.r IS NOT NULL OR b2.r IS NOT NULL ORDER BY f DESC, x.ctid LIMIT %s) z$q$,
    q, filter, s, filter, lim) INTO res;
  RETURN coalesce(res, '{}');
END $$;
CREATE FUNCTION hybrid(filter text, q vector, s sparsevec, lim int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE res int[];
BEGIN
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM places WHERE %s '
                 'ORDER BY vlake.rrf(emb <-> %L::vector, sp <#> %L::sparsevec) LIMIT %s) z',
                 filter, q, s, lim) INTO res;
  RETURN coalesce(res, '{}');
END $$;

EXPLAIN (COSTS OFF)
SELECT id FROM places
WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint(5, 5), 4326), 1.5) AND kind = 'cafe'
ORDER BY vlake.rrf(emb <-> '[1,0,0]', sp <#> '{1:1}/6') LIMIT 10;

SELECT filter, lim, hybrid(filter, q, s, lim) = oracle(filter, q, s, lim) AS same,
       cardinality(hybrid(filter, q, s, lim)) AS rows
FROM (VALUES
  ($$ST_DWithin(geom, ST_SetSRID(ST_MakePoint(5, 5), 4326), 1.5) AND kind = 'cafe'$$, '[1,0,0]'::vector, '{1:1}/6'::sparsevec, 10),
  ($$ST_Intersects(geom, ST_MakeEnvelope(0, 0, 3, 2, 4326))$$, '[0.2,0.5,0.9]', '{2:1,5:0.5}/6', 25),
  ($$ST_Contains(ST_Buffer(ST_SetSRID(ST_MakePoint(8, 2), 4326), 2), geom) OR kind = 'park'$$, '[0.9,0.9,0.1]', '{3:1}/6', 50),
  ($$ST_X(geom) < 0.3 AND ST_Y(geom) > 9$$, '[0.5,0.5,0.5]', '{1:1,2:1,3:1}/6', 10),
  ($$ST_DWithin(geom, ST_SetSRID(ST_MakePoint(-50, -50), 4326), 1)$$, '[1,1,1]', '{4:1}/6', 10)
) v(filter, q, s, lim);
