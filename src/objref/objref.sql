-- ---------------------------------------------------------------- objref --
-- References to raw objects that stay in object storage (docs/objref.md).

CREATE TYPE objref;

CREATE FUNCTION objref_in(cstring) RETURNS objref
    AS 'MODULE_PATHNAME', 'vlake_objref_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_out(objref) RETURNS cstring
    AS 'MODULE_PATHNAME', 'vlake_objref_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_recv(internal) RETURNS objref
    AS 'MODULE_PATHNAME', 'vlake_objref_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_send(objref) RETURNS bytea
    AS 'MODULE_PATHNAME', 'vlake_objref_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE objref (
    INPUT     = objref_in,
    OUTPUT    = objref_out,
    RECEIVE   = objref_recv,
    SEND      = objref_send,
    ALIGNMENT = double,
    STORAGE   = extended
);
COMMENT ON TYPE objref IS 'reference to an object in object storage: uri, size, sha256, mime (docs/objref.md)';

-- ordering: uri (bytewise), size, sha256, mime (none first)
CREATE FUNCTION objref_cmp(objref, objref) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlake_objref_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_eq(objref, objref) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_objref_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_ne(objref, objref) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_objref_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_lt(objref, objref) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_objref_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_le(objref, objref) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_objref_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_gt(objref, objref) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_objref_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_ge(objref, objref) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_objref_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION objref_hash(objref) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlake_objref_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR = (LEFTARG = objref, RIGHTARG = objref, PROCEDURE = objref_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR <> (LEFTARG = objref, RIGHTARG = objref, PROCEDURE = objref_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR < (LEFTARG = objref, RIGHTARG = objref, PROCEDURE = objref_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = objref, RIGHTARG = objref, PROCEDURE = objref_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (LEFTARG = objref, RIGHTARG = objref, PROCEDURE = objref_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (LEFTARG = objref, RIGHTARG = objref, PROCEDURE = objref_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS objref_ops DEFAULT FOR TYPE objref USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 objref_cmp(objref, objref);
CREATE OPERATOR CLASS objref_hash_ops DEFAULT FOR TYPE objref USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 objref_hash(objref);

-- constructors
CREATE FUNCTION vlake.objref(uri text, mime text DEFAULT NULL, verify boolean DEFAULT true)
    RETURNS objref
    AS 'MODULE_PATHNAME', 'vlake_objref' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION vlake.objref(text, text, boolean) IS
    'reference to the object at uri, its size and SHA-256 read through the object store';
CREATE FUNCTION vlake.objref(uri text, size bigint, sha256 text, mime text DEFAULT NULL)
    RETURNS objref
    AS 'MODULE_PATHNAME', 'vlake_objref_from_parts' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION vlake.objref(text, bigint, text, text) IS
    'reference from its parts, without reading the object';

-- accessors
CREATE FUNCTION vlake.objref_uri(objref) RETURNS text
    AS 'MODULE_PATHNAME', 'vlake_objref_uri' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vlake.objref_size(objref) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlake_objref_size' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vlake.objref_sha256(objref) RETURNS text
    AS 'MODULE_PATHNAME', 'vlake_objref_sha256' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vlake.objref_mime(objref) RETURNS text
    AS 'MODULE_PATHNAME', 'vlake_objref_mime' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- reading the object (size checked; whole-object reads also the SHA-256)
CREATE FUNCTION vlake.objref_read(r objref, "offset" bigint DEFAULT 0, length bigint DEFAULT NULL)
    RETURNS bytea
    AS 'MODULE_PATHNAME', 'vlake_objref_read' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
-- true, or an ERROR naming the object and what does not match (for CHECK)
CREATE FUNCTION vlake.objref_verify(r objref) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlake_objref_verify' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
