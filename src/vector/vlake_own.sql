-- ------------------------------------------------------------ vlake_own --
-- vlake's own objects over the vector types, created whichever extension
-- provides the types (vlake, or pgvector installed in vlake's schema:
-- scripts/gen-install-sql.sh, docs/pgvector.md).  The C functions read the
-- types' varlena layouts, which pgvector's types share.

-- which extension's vector, halfvec and sparsevec types vlake uses:
-- 'pgvector' when pgvector was installed in vlake's schema before vlake,
-- else 'vlake'
CREATE FUNCTION vlake.type_provider() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN EXISTS (
        SELECT FROM pg_extension l
        JOIN pg_type t ON t.typnamespace = l.extnamespace AND t.typname = 'vector'
        JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid
             AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vector'
        WHERE l.extname = 'vlake')
    THEN 'pgvector' ELSE 'vlake' END
$$;

-- with pgvector's types, extension vlake depends on extension vector (as a
-- `requires` would): pg_dump restores pgvector first, DROP EXTENSION vector
-- names vlake
CREATE FUNCTION vlake.record_type_provider() RETURNS text
    AS 'MODULE_PATHNAME', 'vlake_record_type_provider' LANGUAGE C;
SELECT vlake.record_type_provider();
DROP FUNCTION vlake.record_type_provider();

-- which distance kernels this backend uses (scalar, avx2, avx512, neon)
CREATE FUNCTION vlake.distance_kernels() RETURNS text
    AS 'MODULE_PATHNAME', 'vlake_distance_kernels' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- overloads pgvector does not have
CREATE FUNCTION vector_norm(halfvec) RETURNS float8
    AS 'MODULE_PATHNAME', 'vlake_halfvec_l2_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_dims(sparsevec) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlake_sparsevec_vector_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- hash opclasses (pgvector has none): hash joins, hash aggregation,
-- DISTINCT and UNION by hashing.  Equal values under the types' = (vlake's
-- or pgvector's, elementwise float equality) hash alike: -0 hashes as 0.
CREATE FUNCTION vector_hash(vector) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlake_vector_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR CLASS vector_ops DEFAULT FOR TYPE vector USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 vector_hash(vector);
CREATE FUNCTION halfvec_hash(halfvec) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlake_halfvec_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR CLASS halfvec_ops DEFAULT FOR TYPE halfvec USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 halfvec_hash(halfvec);
CREATE FUNCTION sparsevec_hash(sparsevec) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlake_sparsevec_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR CLASS sparsevec_ops DEFAULT FOR TYPE sparsevec USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 sparsevec_hash(sparsevec);
