/*
 * manifest.h — the dataset manifest document: in-memory model and its JSON
 * codec (layer "manifest").  The format is specified in docs/manifest.md;
 * this header is the C side of that page.
 *
 * Every committed version N of a dataset (a vlake table) is one immutable
 * JSON document at "<dataset root>/_manifest/<N, 20 digits>.json".  This
 * file knows the document only: building keys, encoding, decoding,
 * validating.  Reading and publishing it (objstore, put-if-absent) and the
 * catalog tables that mirror it are the callers' business.
 *
 * Memory: every result is palloc'd in CurrentMemoryContext; nothing is
 * freed piecemeal (decode in a context of its own and delete it).
 * Decoding a document of len bytes allocates at most
 * MANIFEST_DECODE_MEMORY_FACTOR * len + 64 kB in total.
 *
 * Errors: every problem with a document ERRORs through lake_report() as
 *   invalid vlake manifest "<uri>": <JSON path>: <reason>      (XX001)
 *   cannot read vlake manifest "<uri>": <JSON path>: <reason>  (0A000)
 * e.g. `segments[3].groups[0].size: must be an integer in [0, 2^53-1]`.
 * LAKE_UNSUPPORTED is used only for a newer format_version (or a value this
 * build cannot represent); everything else breaking the spec is
 * LAKE_CORRUPT.  manifest_encode() validates its input first, so vlake never
 * writes a document its own reader would refuse (the "uri" is then
 * "(new manifest)").
 *
 * Backend-free: only palloc, ereport and StringInfo, so the unit test and
 * the fuzzer link it with test/fuzz/pg_standin.c.
 */
#ifndef VLAKE_MANIFEST_H
#define VLAKE_MANIFEST_H

#include "postgres.h"

/* ---- names under the dataset root ---- */
#define MANIFEST_DIR			"_manifest/"
#define MANIFEST_HINT_KEY		"_manifest/_latest"	/* optional, may be stale */
#define MANIFEST_VERSION_DIGITS	20
/* "_manifest/" + 20 digits + ".json" + NUL */
#define MANIFEST_KEY_LEN		(10 + MANIFEST_VERSION_DIGITS + 5 + 1)

#define MANIFEST_FORMAT_NAME	"vlake.manifest"
#define MANIFEST_FORMAT_VERSION	3	/* the newest this build reads and writes */
/* Format 2 is format 1 plus the field type "object_ref"; format 3 is format
 * 2 plus a group's optional object list ("objects").  A writer writes the
 * lowest one the document needs (manifest_format_needed). */
#define MANIFEST_FORMAT_OBJECT_REF 2
#define MANIFEST_FORMAT_OBJECT_LIST 3

/* ---- limits (docs/manifest.md, "Limits") ---- */
#define MANIFEST_MAX_BYTES		((size_t) 64 * 1024 * 1024)
#define MANIFEST_MAX_DEPTH		16		/* nesting of arrays and objects */
#define MANIFEST_MAX_INT		INT64CONST(9007199254740991)	/* 2^53 - 1 */
#define MANIFEST_MAX_FIELD_ID	INT64CONST(2147483647)
#define MANIFEST_MAX_FIELDS		1600
#define MANIFEST_MAX_SEGMENTS	1000000
#define MANIFEST_MAX_GROUPS		1600	/* per segment */
#define MANIFEST_MAX_INDEXES	1024
#define MANIFEST_MAX_PARAMS		64		/* per index */
#define MANIFEST_MAX_PROPERTIES	1024	/* per properties map */
#define MANIFEST_MAX_VECTOR_DIM	16000
#define MANIFEST_MAX_DECIMAL_PRECISION 38
/* string lengths in bytes of UTF-8 */
#define MANIFEST_MAX_NAME		63		/* field names (NAMEDATALEN - 1) */
#define MANIFEST_MAX_PATH		1024	/* paths, locations */
#define MANIFEST_MAX_ETAG		127
#define MANIFEST_MAX_TEXT		256		/* writer, model, type names, pg_type, keys */
#define MANIFEST_MAX_OPERATION	32
#define MANIFEST_MAX_VALUE		4096	/* properties and params values */
#define MANIFEST_MAX_STAT		1024	/* statistics min / max */

#define MANIFEST_DECODE_MEMORY_FACTOR 64

/* ---- the model ---- */
typedef enum ManifestType
{
	MANIFEST_T_BOOLEAN,
	MANIFEST_T_INT16,
	MANIFEST_T_INT32,
	MANIFEST_T_INT64,
	MANIFEST_T_FLOAT32,
	MANIFEST_T_FLOAT64,
	MANIFEST_T_DECIMAL,			/* precision, scale */
	MANIFEST_T_STRING,
	MANIFEST_T_BINARY,
	MANIFEST_T_JSON,
	MANIFEST_T_UUID,
	MANIFEST_T_DATE,
	MANIFEST_T_TIMESTAMP,
	MANIFEST_T_TIMESTAMPTZ,
	MANIFEST_T_VECTOR,			/* dim, element */
	MANIFEST_T_OBJECT_REF		/* format 2: JSON text of a reference to a
								 * raw object (docs/objref.md) */
} ManifestType;

typedef enum ManifestElement
{
	MANIFEST_E_NONE,			/* not a vector */
	MANIFEST_E_FLOAT32,
	MANIFEST_E_FLOAT16
} ManifestElement;

typedef enum ManifestLayout
{
	MANIFEST_L_PARQUET,			/* "parquet": scalar / short text group */
	MANIFEST_L_VECTOR_CG,		/* "vector_cg": one vector field */
	MANIFEST_L_LONG_TEXT		/* "long_text": one string/json/binary field */
} ManifestLayout;

typedef struct ManifestKV
{
	char	   *key;
	char	   *value;
} ManifestKV;

typedef struct ManifestField
{
	int32		id;				/* >= 1, < next_field_id, never reused */
	char	   *name;
	ManifestType type;
	bool		nullable;
	int32		dim;			/* vector: 1 .. MANIFEST_MAX_VECTOR_DIM */
	ManifestElement element;	/* vector */
	int32		precision;		/* decimal: 1 .. 38 */
	int32		scale;			/* decimal: 0 .. precision */
	char	   *pg_type;		/* optional (NULL): Postgres type text */
} ManifestField;

typedef struct ManifestStat
{
	int32		field_id;
	int64		null_count;
	char	   *min;			/* NULL when absent; text per the field type */
	char	   *max;
} ManifestStat;

/*
 * The object list of a group holding object_ref fields (format 3): a Parquet
 * file of one row per non-null reference of the group, sorted by (uri,
 * row_id) (docs/manifest.md, "Object lists").
 */
typedef struct ManifestObjects
{
	char	   *path;			/* relative to the dataset root */
	int64		size;			/* bytes */
	char	   *etag;			/* "" when the store has none */
	int64		count;			/* rows of the file: the group's references */
} ManifestObjects;

typedef struct ManifestGroup
{
	char	   *path;			/* relative to the dataset root */
	ManifestLayout layout;
	int			nfield_ids;
	int32	   *field_ids;
	int64		size;			/* bytes */
	char	   *etag;			/* "" when the store has none */
	int64		row_count;
	int			nstats;
	ManifestStat *stats;
	ManifestObjects *objects;	/* NULL: none (optional, format 3) */
} ManifestGroup;

typedef struct ManifestDeletes
{
	char	   *path;			/* portable 64-bit roaring bitmap of row IDs */
	int64		cardinality;
	int64		size;
	char	   *etag;
} ManifestDeletes;

typedef struct ManifestSegment
{
	int64		id;
	int64		first_row_id;	/* row IDs [first_row_id, end_row_id) */
	int64		end_row_id;
	int64		row_count;
	int			ngroups;
	ManifestGroup *groups;
	ManifestDeletes *deletes;	/* NULL: no deleted rows */
} ManifestSegment;

typedef struct ManifestIndex
{
	char	   *name;
	char	   *type;
	int32		field_id;
	int			nparams;
	ManifestKV *params;
	int64		data_version;	/* the dataset version it was built from */
	int64		first_row_id;	/* rows it covers: [first_row_id, end_row_id) */
	int64		end_row_id;
	char	   *location;		/* relative prefix or absolute URI */
} ManifestIndex;

typedef struct ManifestModel
{
	int32		field_id;		/* a vector field */
	char	   *model;
	char	   *model_version;
} ManifestModel;

typedef struct ManifestLineage
{
	char	   *operation;
	char	   *writer;
	int64		timestamp_us;	/* microseconds since 1970-01-01 UTC */
	int64		rows_added;
	int64		rows_deleted;
	int64		bytes_written;
	int			nmodels;
	ManifestModel *models;
} ManifestLineage;

typedef struct Manifest
{
	int32		format_version;
	char		dataset_id[37];	/* lowercase 8-4-4-4-12 UUID */
	int64		version;		/* >= 1 */
	int64		parent_version; /* 0: none (version 1) */
	int64		next_row_id;
	int32		next_field_id;
	int			nfields;
	ManifestField *fields;
	int			nsegments;
	ManifestSegment *segments;
	int			nindexes;
	ManifestIndex *indexes;
	ManifestLineage lineage;
	int			nproperties;
	ManifestKV *properties;
} Manifest;

/* ---- keys ---- */

/* "_manifest/00000000000000000042.json" into buf[MANIFEST_KEY_LEN]. */
extern void manifest_key(int64 version, char *buf);

/* The version a listed key names, or false when the key is not exactly a
 * manifest key (readers skip everything else under _manifest/). */
extern bool manifest_parse_key(const char *key, int64 *version);

/* ---- the codec ---- */

/* Canonical JSON of a valid manifest (validated first; ERROR when it would
 * exceed MANIFEST_MAX_BYTES, about 45,000 segments of 3 groups with
 * statistics); NUL-terminated,
 * *len (if not NULL) receives its length.  Deterministic: the same model
 * gives the same bytes. */
extern char *manifest_encode(const Manifest *m, size_t *len);

/* Parse and validate a document; uri names it in errors.  When uri ends
 * with a version key ("…/_manifest/<20 digits>.json"), the document's
 * version must be that version. */
extern Manifest *manifest_decode(const char *buf, size_t len, const char *uri);

/* The document rules of docs/manifest.md ("Validation"); ERROR on the first
 * broken one. */
extern void manifest_validate(const Manifest *m, const char *uri);

/* The rules between a version and its parent: same dataset, version =
 * parent + 1, next_row_id and next_field_id never decrease, a field id keeps
 * its type.  uri names the child. */
extern void manifest_validate_successor(const Manifest *parent,
										const Manifest *child, const char *uri);

/* The lowest format version that can hold the document (1 or 2). */
extern int32 manifest_format_needed(const Manifest *m);

/* Names of enum values as the document spells them. */
extern const char *manifest_type_name(ManifestType t);
extern const char *manifest_layout_name(ManifestLayout l);

#endif							/* VLAKE_MANIFEST_H */
