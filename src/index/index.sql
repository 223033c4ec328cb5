-- The vlake index access method: IVF lists with RaBitQ codes, stored as lake
-- files; see docs/index.md.

CREATE FUNCTION vlake_index_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD vlake TYPE INDEX HANDLER vlake_index_handler;
COMMENT ON ACCESS METHOD vlake IS 'vlake ANN index (IVF + RaBitQ codes, lake files)';

-- One ORDER BY operator per class; its strategy number names the distance
-- (1 = L2, 2 = negative inner product, 3 = cosine, 4 = L1, 5 = Hamming,
-- 6 = Jaccard).  The L2 classes are the defaults for vector and halfvec
-- (as ivfflat's vector_l2_ops is pgvector's default) and Hamming for bit, so
-- USING vlake (col) works without naming a class.
CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING vlake AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING vlake AS
    OPERATOR 2 <#> (vector, vector) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING vlake AS
    OPERATOR 3 <=> (vector, vector) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS vector_l1_ops FOR TYPE vector USING vlake AS
    OPERATOR 4 <+> (vector, vector) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS halfvec_l2_ops DEFAULT FOR TYPE halfvec USING vlake AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS halfvec_ip_ops FOR TYPE halfvec USING vlake AS
    OPERATOR 2 <#> (halfvec, halfvec) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS halfvec_cosine_ops FOR TYPE halfvec USING vlake AS
    OPERATOR 3 <=> (halfvec, halfvec) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS halfvec_l1_ops FOR TYPE halfvec USING vlake AS
    OPERATOR 4 <+> (halfvec, halfvec) FOR ORDER BY float_ops;
-- sparsevec is densified (up to 16,000 dimensions); its default here is L2
-- like the dense types' (vlake_sparse's sparsevec_ip_ops indexes any
-- dimension, for inner product).
CREATE OPERATOR CLASS sparsevec_l2_ops DEFAULT FOR TYPE sparsevec USING vlake AS
    OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS sparsevec_ip_ops FOR TYPE sparsevec USING vlake AS
    OPERATOR 2 <#> (sparsevec, sparsevec) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS sparsevec_cosine_ops FOR TYPE sparsevec USING vlake AS
    OPERATOR 3 <=> (sparsevec, sparsevec) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS sparsevec_l1_ops FOR TYPE sparsevec USING vlake AS
    OPERATOR 4 <+> (sparsevec, sparsevec) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS bit_hamming_ops DEFAULT FOR TYPE bit USING vlake AS
    OPERATOR 5 <~> (bit, bit) FOR ORDER BY float_ops;
CREATE OPERATOR CLASS bit_jaccard_ops FOR TYPE bit USING vlake AS
    OPERATOR 6 <%> (bit, bit) FOR ORDER BY float_ops;

-- Load an index's lake part (centroids and every list's codes) into this
-- backend's memory; returns the bytes held.
CREATE FUNCTION vlake.prewarm(index regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_index_prewarm' LANGUAGE C STRICT;

-- Fold the delta and the tombstones into a new lake part and switch the
-- metapage to it; returns the number of vectors in the new part.
CREATE FUNCTION vlake.merge(index regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_index_merge' LANGUAGE C STRICT;

-- What the metapage says about an index.
CREATE FUNCTION vlake.index_info(index regclass,
    OUT metric text, OUT dims int, OUT lists int, OUT lake_vectors bigint,
    OUT delta_vectors bigint, OUT tombstones bigint, OUT generation bigint,
    OUT location text, OUT files text[], OUT retired_chains int)
    AS 'MODULE_PATHNAME', 'vlake_index_info' LANGUAGE C STRICT;

-- One garbage-collection pass over the index parts of this database under
-- location: parts no metapage names are retired (a mark with the next
-- transaction ID), and deleted by a later pass once no snapshot anywhere can
-- still need them and min_age (default vlake.index_gc_min_age) has passed.
-- Returns the URIs of the objects deleted (superuser).
CREATE FUNCTION vlake.index_gc(location text DEFAULT NULL,
    min_age interval DEFAULT NULL, dry_run boolean DEFAULT false)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'vlake_index_gc' LANGUAGE C CALLED ON NULL INPUT;
REVOKE ALL ON FUNCTION vlake.index_gc(text, interval, boolean) FROM PUBLIC;

-- Every index part of this database under location and what a GC pass
-- would do with it now (state: referenced, locked, writing, unreferenced,
-- retired, removable); changes nothing (superuser).
CREATE FUNCTION vlake.index_gc_parts(location text DEFAULT NULL, min_age interval DEFAULT NULL,
    OUT part text, OUT state text, OUT objects int, OUT bytes bigint,
    OUT birth_xid xid8, OUT mark_xid xid8, OUT marked_at timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlake_index_gc_parts' LANGUAGE C CALLED ON NULL INPUT;
REVOKE ALL ON FUNCTION vlake.index_gc_parts(text, interval) FROM PUBLIC;
