-- ---- hybrid retrieval (src/planner/, docs/hybrid.md) ----
-- Fusion of up to 8 ranked branches, each an ordering expression
-- "column operator constant" whose ascending order is its ranking
-- (embedding <=> $1, body <@> to_bm25query(...), sparse <#> $2), as the
-- ORDER BY of a single-table query with a LIMIT: the hybrid custom scan
-- computes them; anywhere else they raise an ERROR.  The value is minus the
-- fused score (ascending = best first).  rerank: an expression of the row
-- added to the fused score of each of the fused top max(LIMIT + OFFSET,
-- rerank_window) rows, which are then re-ordered by the sum.
-- Reciprocal rank fusion: sum of weights[i] / (k + rank_i).
CREATE FUNCTION vlake.rrf(b1 float8, b2 float8 DEFAULT NULL, b3 float8 DEFAULT NULL, b4 float8 DEFAULT NULL, b5 float8 DEFAULT NULL, b6 float8 DEFAULT NULL, b7 float8 DEFAULT NULL, b8 float8 DEFAULT NULL,
    weights float8[] DEFAULT NULL, k float8 DEFAULT 60,
    rerank float8 DEFAULT NULL, rerank_window int DEFAULT 100) RETURNS float8
    AS 'MODULE_PATHNAME', 'vlake_rrf' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Weighted sum of scores normalised between each branch's best score and
-- its bound (the worst score that counts; defaults: <=> 2, <@> and <#> 0).
CREATE FUNCTION vlake.fuse(b1 float8, b2 float8 DEFAULT NULL, b3 float8 DEFAULT NULL, b4 float8 DEFAULT NULL, b5 float8 DEFAULT NULL, b6 float8 DEFAULT NULL, b7 float8 DEFAULT NULL, b8 float8 DEFAULT NULL,
    weights float8[] DEFAULT NULL, bounds float8[] DEFAULT NULL,
    rerank float8 DEFAULT NULL, rerank_window int DEFAULT 100) RETURNS float8
    AS 'MODULE_PATHNAME', 'vlake_fuse' LANGUAGE C IMMUTABLE PARALLEL SAFE;
