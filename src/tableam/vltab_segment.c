/*
 * vltab_segment.c — the files of one segment of a vlake table (see
 * vltab_segment.h and docs/tables.md, "Segment files").
 *
 * Writing: the columns are planned into ColumnGroups (plan_columns), each
 * group gets its own pgmap writer over a copy of the table's descriptor in
 * which every column of the other groups is marked dropped, so that the
 * Parquet field id of a column stays its attnum.  A column whose type pgmap
 * cannot store exactly is given to pgmap as text (its output function) and
 * listed in the file's footer key VLTAB_KV_TEXT_OUTPUT.  Per-column
 * statistics are computed here from the values, in the text forms of
 * docs/manifest.md.
 *
 * Reading: the packed reader (layout/packed_reader.h) over only the groups
 * that hold the requested columns, opened on first use and kept per set of
 * groups; columns are matched by field id, not name.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "lake/lake_error.h"
#include "lake/lake_fault.h"
#include "layout/layout_keys.h"
#include "layout/packed_reader.h"
#include "objref/objref.h"
#include "objstore/objstore.h"
#include "parquet/byte_source.h"
#include "parquet/parquet_writer.h"
#include "pgmap/pgmap_datum.h"
#include "pgmap/pgmap_writer.h"
#include "tableam/vltab_segment.h"
#include "vector/vector.h"

int			vltab_page_bytes = VLTAB_PAGE_BYTES;	/* GUC vlake.segment_page_bytes */

/* Footer key: the field ids (attnums) stored as their type's text output. */
#define VLTAB_KV_TEXT_OUTPUT	"vlake.text_output"
/* Footer key prefix: "vlake.pg_type.<attnum>" = format_type of the column. */
#define VLTAB_KV_PG_TYPE		"vlake.pg_type."

#define VLTAB_STAT_MAX_BYTES	1024	/* docs/manifest.md: string statistics */

#define UNIX_TO_PG_DAYS		10957
#define UNIX_TO_PG_USECS	(INT64CONST(10957) * USECS_PER_DAY)

/* How a column's values are stored. */
typedef enum ColEncoding
{
	ENC_NATIVE,					/* pgmap's typed mapping */
	ENC_TEXT,					/* the type's text output, as STRING */
	ENC_JSONB					/* JSON text output (jsonb, objref), as JSON */
} ColEncoding;

/* Which statistics a column gets (docs/manifest.md, text forms). */
typedef enum StatKind
{
	ST_NONE,					/* null count only */
	ST_BOOL,
	ST_INT,						/* int2, int4, int8 */
	ST_FLOAT4,
	ST_FLOAT8,
	ST_DATE,					/* days since 1970-01-01 */
	ST_TIMESTAMP,				/* µs since 1970-01-01 */
	ST_UUID,					/* bytewise */
	ST_STRING					/* bytewise */
} StatKind;

/* The plan of one column. */
typedef struct ColPlan
{
	VltabGroupKind kind;
	ColEncoding enc;
	StatKind	stat;
	Oid			basetype;		/* getBaseType of the column type */
	int32		basetypmod;
} ColPlan;

static bool
type_is(Oid typid, Oid (*oidfn) (void))
{
	Oid			t = oidfn();

	return OidIsValid(t) && typid == t;
}

/* Declared length limit (characters) of varchar(n) / char(n), else -1. */
static int
char_limit(Oid basetype, int32 typmod)
{
	if ((basetype == VARCHAROID || basetype == BPCHAROID) && typmod >= (int32) VARHDRSZ)
		return typmod - VARHDRSZ;
	return -1;
}

/*
 * The storage plan of one column: its group kind, encoding and statistics.
 * Types pgmap stores exactly are stored natively; everything else as text.
 */
static void
plan_column(Form_pg_attribute att, ColPlan *cp)
{
	int32		typmod = att->atttypmod;
	Oid			base = getBaseTypeAndTypmod(att->atttypid, &typmod);

	cp->basetype = base;
	cp->basetypmod = typmod;
	cp->stat = ST_NONE;
	cp->enc = ENC_NATIVE;
	cp->kind = VLTAB_GROUP_SCALAR;

	if (type_is(base, vector_type_oid))
	{
		/* a vector ColumnGroup needs a fixed dimension; else a plain file */
		cp->kind = typmod > 0 ? VLTAB_GROUP_VECTOR : VLTAB_GROUP_LONG_TEXT;
		return;
	}
	if (type_is(base, objref_type_oid))
	{
		/* its text form is a JSON object: a JSON column other engines read */
		cp->kind = VLTAB_GROUP_LONG_TEXT;
		cp->enc = ENC_JSONB;
		return;
	}
	if (type_is(base, halfvec_type_oid))
	{
		if (typmod > 0)
			cp->kind = VLTAB_GROUP_VECTOR;
		else
		{
			/* pgmap writes these as raw bytes it cannot read back as halfvec */
			cp->kind = VLTAB_GROUP_LONG_TEXT;
			cp->enc = ENC_TEXT;
		}
		return;
	}
	switch (base)
	{
		case BOOLOID:
			cp->stat = ST_BOOL;
			break;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			cp->stat = ST_INT;
			break;
		case FLOAT4OID:
			cp->stat = ST_FLOAT4;
			break;
		case FLOAT8OID:
			cp->stat = ST_FLOAT8;
			break;
		case DATEOID:
			cp->stat = ST_DATE;
			break;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			cp->stat = ST_TIMESTAMP;
			break;
		case UUIDOID:
			cp->stat = ST_UUID;
			break;
		case VARCHAROID:
		case BPCHAROID:
			{
				int			n = char_limit(base, typmod);

				if (n >= 0 && n <= VLTAB_SHORT_TEXT_BYTES)
					cp->stat = ST_STRING;
				else
					cp->kind = VLTAB_GROUP_LONG_TEXT;
				break;
			}
		case TEXTOID:
		case BYTEAOID:
		case JSONOID:
			cp->kind = VLTAB_GROUP_LONG_TEXT;
			break;
		case JSONBOID:
			cp->kind = VLTAB_GROUP_LONG_TEXT;
			cp->enc = ENC_JSONB;
			break;
		case NUMERICOID:
			/*
			 * Text, not DECIMAL: unconstrained numeric does not fit a DECIMAL,
			 * and NaN fits none (docs/tables.md).
			 */
			cp->enc = ENC_TEXT;
			break;
		case INETOID:
		case CIDROID:
			cp->enc = ENC_TEXT;
			break;
		default:
			cp->enc = ENC_TEXT;
			/* fixed width (enums, intervals, ...) stay scalar; varlena of
			 * unbounded size (arrays, composites, ...) get a group of their own */
			if (att->attlen < 0)
				cp->kind = VLTAB_GROUP_LONG_TEXT;
			break;
	}
}

static const char *
kind_file_prefix(VltabGroupKind kind)
{
	switch (kind)
	{
		case VLTAB_GROUP_SCALAR:
			return "scalar";
		case VLTAB_GROUP_VECTOR:
			return "v_";
		case VLTAB_GROUP_LONG_TEXT:
			return "t_";
	}
	return "?";
}

/* ================================================================ writer */

typedef struct WCol
{
	AttrNumber	attnum;
	int			group;			/* index into w->groups */
	ColPlan		plan;
	FmgrInfo	outfn;			/* ENC_TEXT, ENC_JSONB */
	bool		varlena;
	bool		objref;			/* an objref column: listed in its group's
								 * object list */
	/* statistics */
	int64		null_count;
	int64		nvalues;
	bool		no_minmax;		/* a value (NaN) that has no place in the order */
	union
	{
		int64		i;
		double		f;
	}			min, max;
	char	   *smin;			/* ST_STRING / ST_UUID bytes (in w->cxt) */
	int			sminlen;
	char	   *smax;
	int			smaxlen;
} WCol;

/* One reference of a group's rows, for its object list. */
typedef struct WRef
{
	int64		row_id;
	AttrNumber	attnum;
	ObjRef	   *ref;			/* detoasted copy, in the writer's context */
} WRef;

typedef struct WGroup
{
	VltabGroupKind kind;
	char	   *key;			/* relative to the store root */
	int			natts;
	AttrNumber *attnums;
	TupleDesc	gdesc;			/* the table's, other groups' columns dropped */
	PqSink	   *sink;
	PgmapWriter *pw;
	/* object list (groups holding objref columns): the references so far */
	bool		has_objref;
	WRef	   *refs;
	int64		nrefs;
	int64		maxrefs;
	PqSink	   *osink;			/* while the list is written (finish) */
} WGroup;

struct VltabSegmentWriter
{
	MemoryContext cxt;
	MemoryContext rowcxt;
	ObjStore   *store;
	char	   *prefix;
	TupleDesc	desc;
	int64		first_row_id;
	int64		nrows;
	int			ncols;
	WCol	   *cols;			/* non-dropped columns, attnum order */
	int			ngroups;
	WGroup	   *groups;
	Datum	   *values;			/* converted row, desc->natts */
	bool	   *isnull;
	bool		done;
};

static void
check_prefix(const char *root, const char *prefix)
{
	size_t		n = strlen(root);

	if (n == 0 || root[n - 1] != '/')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("segment root \"%s\" must end in \"/\"", root)));
	if (prefix[0] == '\0' || prefix[0] == '/' || prefix[strlen(prefix) - 1] == '/')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("segment prefix \"%s\" must be a relative path without a leading or trailing \"/\"",
						prefix)));
}

/* The footer keys of a group: text-output columns and the Postgres types. */
static List *
group_keys(VltabSegmentWriter *w, WGroup *g)
{
	List	   *kvs = NIL;
	StringInfoData text;

	initStringInfo(&text);
	for (int i = 0; i < g->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(w->desc, g->attnums[i] - 1);

		for (int c = 0; c < w->ncols; c++)
			if (w->cols[c].attnum == g->attnums[i] && w->cols[c].plan.enc != ENC_NATIVE)
				appendStringInfo(&text, "%s%d", text.len ? "," : "", g->attnums[i]);
		kvs = layout_add_key(kvs, psprintf(VLTAB_KV_PG_TYPE "%d", g->attnums[i]),
							 format_type_with_typemod(att->atttypid, att->atttypmod));
	}
	if (text.len > 0)
		kvs = layout_add_key(kvs, VLTAB_KV_TEXT_OUTPUT, text.data);
	return kvs;
}

static void
begin_group(VltabSegmentWriter *w, WGroup *g)
{
	PgmapWriterOptions opts;

	g->gdesc = CreateTupleDescCopy(w->desc);
	for (int i = 0; i < g->gdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(g->gdesc, i);
		bool		mine = false;

		for (int k = 0; k < g->natts; k++)
			mine |= (g->attnums[k] == i + 1);
		if (!mine)
		{
			att->attisdropped = true;
			continue;
		}
		for (int c = 0; c < w->ncols; c++)
		{
			WCol	   *col = &w->cols[c];

			if (col->attnum != i + 1 || col->plan.enc == ENC_NATIVE)
				continue;
			/* pgmap gets the text we make: a STRING (or JSON) column */
			att->atttypid = col->plan.enc == ENC_JSONB ? JSONOID : TEXTOID;
			att->atttypmod = -1;
			att->attlen = -1;
			att->attbyval = false;
			att->attalign = TYPALIGN_INT;
			att->attstorage = TYPSTORAGE_EXTENDED;
			att->attndims = 0;
		}
	}
	pgmap_writer_default_options(&opts);
	opts.first_row_id = w->first_row_id;
	opts.infinities = true;
	opts.parquet.key_values = group_keys(w, g);
	if (g->kind == VLTAB_GROUP_VECTOR)
	{
		opts.vector_layout = true;
		opts.parquet.codec = PARQUET_CODEC_UNCOMPRESSED;
		opts.parquet.dictionary = false;
		opts.parquet.page_rows = 128;
	}
	else
	{
		/*
		 * Small pages: a fetch by row ID (an index scan) decompresses the
		 * pages holding the row, so page size is what one fetch costs;
		 * 16 kB keeps scans and compression close to 1 MB pages' and makes
		 * a fetch much cheaper (docs/benchmarks.md, vlake tables).
		 */
		opts.parquet.page_bytes = vltab_page_bytes;
		/*
		 * No dictionary: a fetch would read and decode a column's whole
		 * dictionary page (tens of kB for a 1M-row segment) to get one
		 * value; zstd over plain values compresses nearly as well.
		 */
		opts.parquet.dictionary = false;
	}
	g->sink = parquet_sink_open_objstore(w->store, g->key);
	g->pw = pgmap_writer_begin(g->sink, g->gdesc, &opts);
}

VltabSegmentWriter *
vltab_segment_begin(const char *root, const char *prefix, TupleDesc desc, int64 first_row_id)
{
	return vltab_segment_begin_grouped(root, prefix, desc, first_row_id, NULL);
}

/*
 * A user's choice for one column (vlake.set_column_group): 's' puts a
 * variable-width column that would have a file of its own into the scalar
 * group (with statistics when it is a string); 'o' gives a variable-width
 * column of the scalar group a file of its own.  Fixed-width columns and
 * vectors keep their plan.
 */
static void
apply_override(Form_pg_attribute att, ColPlan *cp, char choice)
{
	if (choice == 's' && cp->kind == VLTAB_GROUP_LONG_TEXT && att->attlen == -1 &&
		cp->enc != ENC_JSONB)
	{
		cp->kind = VLTAB_GROUP_SCALAR;
		if (cp->enc == ENC_NATIVE &&
			(cp->basetype == TEXTOID || cp->basetype == VARCHAROID || cp->basetype == BPCHAROID))
			cp->stat = ST_STRING;
	}
	else if (choice == 'o' && cp->kind == VLTAB_GROUP_SCALAR && att->attlen == -1)
	{
		cp->kind = VLTAB_GROUP_LONG_TEXT;
		cp->stat = ST_NONE;
	}
}

VltabSegmentWriter *
vltab_segment_begin_grouped(const char *root, const char *prefix, TupleDesc desc,
							int64 first_row_id, const char *groups)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vltab segment writer",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	VltabSegmentWriter *w = palloc0(sizeof(VltabSegmentWriter));
	int			scalar_group = -1;

	check_prefix(root, prefix);
	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vlake table segments need a database with UTF8 encoding, not %s",
						GetDatabaseEncodingName()),
				 errdetail("Parquet strings are UTF-8.")));
	if (first_row_id < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("first row ID of a segment must not be negative")));
	w->cxt = cxt;
	w->rowcxt = AllocSetContextCreate(cxt, "vltab segment row", ALLOCSET_DEFAULT_SIZES);
	w->prefix = pstrdup(prefix);
	w->desc = CreateTupleDescCopy(desc);
	w->first_row_id = first_row_id;
	w->cols = palloc0(sizeof(WCol) * Max(desc->natts, 1));
	w->groups = palloc0(sizeof(WGroup) * Max(desc->natts, 1));
	w->values = palloc0(sizeof(Datum) * Max(desc->natts, 1));
	w->isnull = palloc0(sizeof(bool) * Max(desc->natts, 1));

	/* the plan: scalar columns in group 0, every other column on its own */
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		WCol	   *c;
		WGroup	   *g;

		if (att->attisdropped)
			continue;
		c = &w->cols[w->ncols++];
		c->attnum = i + 1;
		c->varlena = att->attlen == -1;
		plan_column(att, &c->plan);
		c->objref = type_is(c->plan.basetype, objref_type_oid);
		if (groups)
			apply_override(att, &c->plan, groups[i]);
		if (c->plan.enc != ENC_NATIVE)
		{
			Oid			outfn;
			bool		isvarlena;

			getTypeOutputInfo(att->atttypid, &outfn, &isvarlena);
			fmgr_info_cxt(outfn, &c->outfn, cxt);
		}
		if (c->plan.kind == VLTAB_GROUP_SCALAR && scalar_group >= 0)
		{
			c->group = scalar_group;
			g = &w->groups[scalar_group];
			g->attnums[g->natts++] = c->attnum;
			continue;
		}
		c->group = w->ngroups;
		g = &w->groups[w->ngroups++];
		g->kind = c->plan.kind;
		g->attnums = palloc(sizeof(AttrNumber) * (c->plan.kind == VLTAB_GROUP_SCALAR ? desc->natts : 1));
		g->attnums[g->natts++] = c->attnum;
		if (c->plan.kind == VLTAB_GROUP_SCALAR)
		{
			scalar_group = c->group;
			g->key = psprintf("%s/scalar.parquet", prefix);
		}
		else
			g->key = psprintf("%s/%s%d.parquet", prefix, kind_file_prefix(g->kind), c->attnum);
	}
	/* the scalar group first: group numbers are 0 = scalar, then attnum order */
	if (scalar_group > 0)
	{
		WGroup		sg = w->groups[scalar_group];

		memmove(&w->groups[1], &w->groups[0], sizeof(WGroup) * scalar_group);
		w->groups[0] = sg;
		for (int c = 0; c < w->ncols; c++)
			w->cols[c].group = w->cols[c].group == scalar_group ? 0 :
				w->cols[c].group < scalar_group ? w->cols[c].group + 1 : w->cols[c].group;
	}

	for (int c = 0; c < w->ncols; c++)
		if (w->cols[c].objref)
			w->groups[w->cols[c].group].has_objref = true;
	w->store = objstore_open(root);
	for (int g = 0; g < w->ngroups; g++)
		begin_group(w, &w->groups[g]);
	MemoryContextSwitchTo(old);
	return w;
}

/* ---- statistics ---- */

static int
bytes_cmp(const char *a, int alen, const char *b, int blen)
{
	int			r = memcmp(a, b, Min(alen, blen));

	return r != 0 ? r : (alen > blen) - (alen < blen);
}

static void
stat_bytes(VltabSegmentWriter *w, WCol *c, const char *p, int len)
{
	if (c->nvalues == 0 || bytes_cmp(p, len, c->smin, c->sminlen) < 0)
	{
		if (c->smin)
			pfree(c->smin);
		c->smin = MemoryContextAlloc(w->cxt, Max(len, 1));
		memcpy(c->smin, p, len);
		c->sminlen = len;
	}
	if (c->nvalues == 0 || bytes_cmp(p, len, c->smax, c->smaxlen) > 0)
	{
		if (c->smax)
			pfree(c->smax);
		c->smax = MemoryContextAlloc(w->cxt, Max(len, 1));
		memcpy(c->smax, p, len);
		c->smaxlen = len;
	}
}

static void
stat_int(WCol *c, int64 v)
{
	if (c->nvalues == 0 || v < c->min.i)
		c->min.i = v;
	if (c->nvalues == 0 || v > c->max.i)
		c->max.i = v;
}

static void
stat_value(VltabSegmentWriter *w, WCol *c, Datum d)
{
	switch (c->plan.stat)
	{
		case ST_NONE:
			return;
		case ST_BOOL:
			stat_int(c, DatumGetBool(d) ? 1 : 0);
			break;
		case ST_INT:
			stat_int(c, c->plan.basetype == INT2OID ? DatumGetInt16(d) :
					 c->plan.basetype == INT4OID ? DatumGetInt32(d) : DatumGetInt64(d));
			break;
		case ST_FLOAT4:
		case ST_FLOAT8:
			{
				double		f = c->plan.stat == ST_FLOAT4 ? DatumGetFloat4(d) : DatumGetFloat8(d);

				if (isnan(f))
				{
					/* NaN sorts above everything in Postgres, and
					 * docs/manifest.md has no text for it: no bounds */
					c->no_minmax = true;
					return;
				}
				else
				{
					if (c->nvalues == 0 || f < c->min.f)
						c->min.f = f;
					if (c->nvalues == 0 || f > c->max.f)
						c->max.f = f;
				}
				break;
			}
		case ST_DATE:
			{
				DateADT		dt = DatumGetDateADT(d);

				/* the value as written (pgmap_writer.h, infinities) */
				stat_int(c, DATE_IS_NOBEGIN(dt) ? -PG_INT32_MAX :
						 DATE_IS_NOEND(dt) ? PG_INT32_MAX : (int64) dt + UNIX_TO_PG_DAYS);
				break;
			}
		case ST_TIMESTAMP:
			{
				Timestamp	t = DatumGetTimestamp(d);
				int64		u;

				/* a finite value that overflows: the writer refuses it next */
				if (TIMESTAMP_IS_NOBEGIN(t))
					u = -PG_INT64_MAX;
				else if (TIMESTAMP_IS_NOEND(t) || pg_add_s64_overflow(t, UNIX_TO_PG_USECS, &u))
					u = PG_INT64_MAX;
				stat_int(c, u);
				break;
			}
		case ST_UUID:
			stat_bytes(w, c, (const char *) DatumGetUUIDP(d)->data, UUID_LEN);
			break;
		case ST_STRING:
			{
				struct varlena *v = (struct varlena *) DatumGetPointer(d);

				stat_bytes(w, c, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
				break;
			}
	}
	c->nvalues++;
}

static char *
float_text(double f, bool is4)
{
	if (isinf(f))
		return pstrdup(f > 0 ? "Infinity" : "-Infinity");
	return psprintf(is4 ? "%.9g" : "%.17g", f);
}

static char *
uuid_text(const char *b)
{
	pg_uuid_t	u;

	memcpy(u.data, b, UUID_LEN);
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&u)));
}

/* min/max text (docs/manifest.md); false when the column has none. */
static bool
stat_texts(WCol *c, char **min, char **max)
{
	if (c->nvalues == 0 || c->no_minmax)
		return false;
	switch (c->plan.stat)
	{
		case ST_NONE:
			return false;
		case ST_BOOL:
			*min = pstrdup(c->min.i ? "true" : "false");
			*max = pstrdup(c->max.i ? "true" : "false");
			return true;
		case ST_INT:
		case ST_DATE:
		case ST_TIMESTAMP:
			*min = psprintf(INT64_FORMAT, c->min.i);
			*max = psprintf(INT64_FORMAT, c->max.i);
			return true;
		case ST_FLOAT4:
		case ST_FLOAT8:
			*min = float_text(c->min.f, c->plan.stat == ST_FLOAT4);
			*max = float_text(c->max.f, c->plan.stat == ST_FLOAT4);
			return true;
		case ST_UUID:
			*min = uuid_text(c->smin);
			*max = uuid_text(c->smax);
			return true;
		case ST_STRING:
			{
				int			minlen;

				/* a long max would need rounding up: no bounds rather */
				if (c->smaxlen > VLTAB_STAT_MAX_BYTES)
					return false;
				/* a prefix of the min is still a lower bound */
				minlen = c->sminlen <= VLTAB_STAT_MAX_BYTES ? c->sminlen :
					pg_mbcliplen(c->smin, c->sminlen, VLTAB_STAT_MAX_BYTES);
				*min = pnstrdup(c->smin, minlen);
				*max = pnstrdup(c->smax, c->smaxlen);
				return true;
			}
	}
	return false;
}

/* ---- object lists ---- */

/* Keep a reference of the row being added for its group's object list. */
static void
note_ref(VltabSegmentWriter *w, WCol *c, Datum d)
{
	WGroup	   *g = &w->groups[c->group];
	ObjRef	   *r = DatumGetObjRefP(d);	/* in the row context */
	WRef	   *e;

	if (g->nrefs == g->maxrefs)
	{
		g->maxrefs = Max(g->maxrefs * 2, 256);
		g->refs = g->refs == NULL ?
			MemoryContextAllocHuge(w->cxt, sizeof(WRef) * g->maxrefs) :
			repalloc_huge(g->refs, sizeof(WRef) * g->maxrefs);
	}
	e = &g->refs[g->nrefs++];
	e->row_id = w->first_row_id + w->nrows;
	e->attnum = c->attnum;
	e->ref = MemoryContextAlloc(w->cxt, VARSIZE(r));
	memcpy(e->ref, r, VARSIZE(r));
}

/* (uri bytewise, row_id, field id): the order docs/manifest.md promises */
static int
wref_cmp(const void *a, const void *b)
{
	const WRef *x = a,
			   *y = b;
	int			n = memcmp(OBJREF_URI(x->ref), OBJREF_URI(y->ref),
						   Min(x->ref->uri_len, y->ref->uri_len));

	if (n != 0)
		return n;
	if (x->ref->uri_len != y->ref->uri_len)
		return x->ref->uri_len < y->ref->uri_len ? -1 : 1;
	if (x->row_id != y->row_id)
		return x->row_id < y->row_id ? -1 : 1;
	return (int) x->attnum - (int) y->attnum;
}

/*
 * Write the object list of group g next to its file ("<file name without
 * .parquet>.objects.parquet"): one row per non-null reference, sorted by
 * (uri, row_id), columns uri, row_id, field_id, size, sha256 (lowercase
 * hex), mime (docs/manifest.md, "Object lists").  zstd with dictionaries:
 * sorted URIs and repeated checksums compress to little.  Sets f's objects
 * fields.
 */
static void
write_objects(VltabSegmentWriter *w, WGroup *g, VltabSegmentFile *f)
{
	TupleDesc	desc = CreateTemplateTupleDesc(6);
	PgmapWriterOptions opts;
	PgmapWriter *pw;
	char	   *key;
	size_t		klen = strlen(g->key);
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "vltab object list row",
												 ALLOCSET_SMALL_SIZES);
	uint64		size;
	ObjStat		st;

	TupleDescInitEntry(desc, 1, "uri", TEXTOID, -1, 0);
	TupleDescInitEntry(desc, 2, "row_id", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 3, "field_id", INT4OID, -1, 0);
	TupleDescInitEntry(desc, 4, "size", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 5, "sha256", TEXTOID, -1, 0);
	TupleDescInitEntry(desc, 6, "mime", TEXTOID, -1, 0);
	for (int i = 0; i < 5; i++)
		TupleDescAttr(desc, i)->attnotnull = true;
	if (klen > 8 && strcmp(g->key + klen - 8, ".parquet") == 0)
		klen -= 8;
	key = psprintf("%.*s.objects.parquet", (int) klen, g->key);
	if (g->nrefs > 1)
		qsort(g->refs, g->nrefs, sizeof(WRef), wref_cmp);
	pgmap_writer_default_options(&opts);
	g->osink = parquet_sink_open_objstore(w->store, key);
	pw = pgmap_writer_begin(g->osink, desc, &opts);
	for (int64 i = 0; i < g->nrefs; i++)
	{
		const ObjRef *r = g->refs[i].ref;
		Datum		values[6];
		bool		nulls[6] = {0};
		char		hex[2 * OBJREF_SHA256_LEN + 1];
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(rowcxt);
		old = MemoryContextSwitchTo(rowcxt);
		objref_sha256_hex(r->sha256, hex);
		values[0] = PointerGetDatum(cstring_to_text_with_len(OBJREF_URI(r), r->uri_len));
		values[1] = Int64GetDatum(g->refs[i].row_id);
		values[2] = Int32GetDatum(g->refs[i].attnum);
		values[3] = Int64GetDatum(r->size);
		values[4] = PointerGetDatum(cstring_to_text(hex));
		if (OBJREF_MIME(r))
			values[5] = PointerGetDatum(cstring_to_text_with_len(OBJREF_MIME(r), r->mime_len));
		else
			nulls[5] = true;
		pgmap_writer_add_row(pw, values, nulls);
		MemoryContextSwitchTo(old);
	}
	/* a crash here leaves the part's files unnamed (tests: TAP 063) */
	lake_fault("objects_before_finish");
	size = pgmap_writer_finish(pw);
	if (!objstore_head(w->store, key, &st) || st.size != size)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("object list \"%s\" is missing or has another size after it was written",
						objstore_uri(w->store, key))));
	MemoryContextDelete(rowcxt);
	f->objects_path = key;
	f->objects_size = (int64) size;
	f->objects_etag = pstrdup(st.etag);
	f->objects_count = g->nrefs;
}

/* ---- rows ---- */

void
vltab_segment_add(VltabSegmentWriter *w, Datum *values, bool *isnull)
{
	MemoryContext old;

	CHECK_FOR_INTERRUPTS();
	if (w->done)
		elog(ERROR, "vltab_segment_add after finish or abort");
	MemoryContextReset(w->rowcxt);
	old = MemoryContextSwitchTo(w->rowcxt);
	for (int i = 0; i < w->ncols; i++)
	{
		WCol	   *c = &w->cols[i];
		int			a = c->attnum - 1;
		Datum		d = values[a];

		w->isnull[a] = isnull[a];
		if (isnull[a])
		{
			c->null_count++;
			w->values[a] = (Datum) 0;
			continue;
		}
		if (c->objref)
			note_ref(w, c, d);
		if (c->plan.enc != ENC_NATIVE)
		{
			/* the output function detoasts for itself */
			w->values[a] = PointerGetDatum(cstring_to_text(OutputFunctionCall(&c->outfn, d)));
			continue;
		}
		if (c->varlena)
			d = PointerGetDatum(pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d)));
		w->values[a] = d;
		stat_value(w, c, d);
	}
	for (int g = 0; g < w->ngroups; g++)
		pgmap_writer_add_row(w->groups[g].pw, w->values, w->isnull);
	w->nrows++;
	MemoryContextSwitchTo(old);
}

VltabSegmentFile *
vltab_segment_finish(VltabSegmentWriter *w, int *nfiles)
{
	MemoryContext caller = CurrentMemoryContext;
	VltabSegmentFile *files = palloc0(sizeof(VltabSegmentFile) * Max(w->ngroups, 1));

	if (w->done)
		elog(ERROR, "vltab_segment_finish after finish or abort");
	for (int g = 0; g < w->ngroups; g++)
	{
		WGroup	   *wg = &w->groups[g];
		VltabSegmentFile *f = &files[g];
		uint64		size;
		ObjStat		st;

		MemoryContextSwitchTo(w->cxt);
		size = pgmap_writer_finish(wg->pw);

		if (!objstore_head(w->store, wg->key, &st))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("segment file \"%s\" is missing after it was written",
							objstore_uri(w->store, wg->key))));
		if (st.size != size)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("segment file \"%s\" has %llu bytes after it was written with %llu",
							objstore_uri(w->store, wg->key),
							(unsigned long long) st.size, (unsigned long long) size)));
		MemoryContextSwitchTo(caller);

		f->group_no = g;
		f->kind = wg->kind;
		f->path = pstrdup(wg->key);
		f->natts = wg->natts;
		f->attnums = palloc(sizeof(AttrNumber) * wg->natts);
		memcpy(f->attnums, wg->attnums, sizeof(AttrNumber) * wg->natts);
		f->size = (int64) size;
		f->etag = pstrdup(st.etag);
		f->row_count = w->nrows;
		if (wg->has_objref)
		{
			MemoryContextSwitchTo(w->cxt);
			write_objects(w, wg, f);
			MemoryContextSwitchTo(caller);
			f->objects_path = pstrdup(f->objects_path);
			f->objects_etag = pstrdup(f->objects_etag);
		}
		f->stats = palloc0(sizeof(VltabColumnStats) * wg->natts);
		for (int i = 0; i < wg->natts; i++)
		{
			for (int c = 0; c < w->ncols; c++)
			{
				WCol	   *col = &w->cols[c];
				VltabColumnStats *s;

				if (col->attnum != wg->attnums[i])
					continue;
				s = &f->stats[f->nstats++];
				s->attnum = col->attnum;
				s->null_count = col->null_count;
				if (!stat_texts(col, &s->min, &s->max))
					s->min = s->max = NULL;
			}
		}
	}
	w->done = true;
	*nfiles = w->ngroups;
	objstore_close(w->store);
	MemoryContextDelete(w->cxt);
	return files;
}

void
vltab_segment_abort(VltabSegmentWriter *w)
{
	if (w == NULL || w->done)
		return;
	w->done = true;
	for (int g = 0; g < w->ngroups; g++)
	{
		PqSink	   *sink = w->groups[g].sink;

		if (sink && !sink->done)
			sink->abort(sink);
		sink = w->groups[g].osink;
		if (sink && !sink->done)
			sink->abort(sink);
	}
	MemoryContextDelete(w->cxt);
}

/* ================================================================ reader */

/* A packed reader over one set of groups, and how its columns map. */
typedef struct ROpen
{
	Bitmapset  *groups;			/* indexes into r->files */
	PackedReader *p;
	int		   *colidx;			/* [natts]: packed column, -1 if not here */
	bool	   *text;			/* [natts]: stored as text output */
} ROpen;

/* How to make a column's Datum. */
typedef struct RCol
{
	int			file;			/* index into r->files, -1: no file has it */
	Oid			basetype;
	int32		basetypmod;
	ColEncoding enc;			/* expected from the plan (the footer decides) */
	FmgrInfo	infn;
	Oid			ioparam;
	bool		have_infn;
	bool		has_missing;	/* file < 0: reads as missing, not NULL */
	Datum		missing;
} RCol;

struct VltabSegmentReader
{
	MemoryContext cxt;
	MemoryContext callcxt;		/* take: reset per call */
	char	   *root;
	TupleDesc	desc;
	int64		first_row_id;
	int64		row_count;
	int			nfiles;
	VltabSegmentFile *files;
	ObjStore   *store;			/* on root, opened on first use */
	ByteSource **srcs;			/* per file, opened on first use */
	RCol	   *cols;			/* [natts] */
	List	   *opens;			/* of ROpen* */
	/*
	 * The last fixed take's rows (ascending row IDs, at most
	 * MEMO_MAX_BYTES): an index scan re-ranks candidates, then the executor
	 * fetches the winners with the same column (ORDER BY emb <-> q computes
	 * the distance again), from the same files, so this reader's bytes.
	 */
	AttrNumber	memo_att;		/* 0: none (buffers may be allocated) */
	bool		memo_half;
	int			memo_dim;
	int			memo_n;
	int			memo_cap;		/* of memo_rows */
	int64	   *memo_rows;
	char	   *memo_bytes;
	Datum		memo_datum;		/* the last one vltab_segment_take built */
};

#define MEMO_MAX_BYTES (1024 * 1024)

struct VltabSegmentScan
{
	VltabSegmentReader *r;
	ROpen	   *o;				/* NULL: no file holds a requested column */
	MemoryContext cxt;
	MemoryContext rowcxt;
	int			ncols;
	int		   *cols;			/* packed columns */
	AttrNumber *atts;			/* their attnums */
	PackedScan *ps;
	PqBatch    *batch;
	int64		pos;			/* next row in batch */
	int64		next_row_id;	/* when o == NULL */
};

int
vltab_segment_file_of(const VltabSegmentFile *files, int nfiles, AttrNumber attnum)
{
	int			best = -1;

	for (int f = 0; f < nfiles; f++)
		for (int i = 0; i < files[f].natts; i++)
			if (files[f].attnums[i] == attnum &&
				(best < 0 || files[f].group_no > files[best].group_no))
				best = f;
	return best;
}

static VltabSegmentFile *
copy_files(const VltabSegmentFile *files, int nfiles)
{
	VltabSegmentFile *out = palloc0(sizeof(VltabSegmentFile) * Max(nfiles, 1));

	for (int i = 0; i < nfiles; i++)
	{
		out[i] = files[i];
		out[i].path = pstrdup(files[i].path);
		out[i].etag = pstrdup(files[i].etag ? files[i].etag : "");
		out[i].objects_path = files[i].objects_path ? pstrdup(files[i].objects_path) : NULL;
		out[i].objects_etag = files[i].objects_etag ? pstrdup(files[i].objects_etag) : NULL;
		out[i].attnums = palloc(sizeof(AttrNumber) * Max(files[i].natts, 1));
		memcpy(out[i].attnums, files[i].attnums, sizeof(AttrNumber) * files[i].natts);
		out[i].nstats = 0;
		out[i].stats = NULL;
	}
	return out;
}

VltabSegmentReader *
vltab_segment_open(const char *root, TupleDesc desc, int64 first_row_id, int64 row_count,
				   const VltabSegmentFile *files, int nfiles)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vltab segment reader",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	VltabSegmentReader *r = palloc0(sizeof(VltabSegmentReader));

	if (root[0] == '\0' || root[strlen(root) - 1] != '/')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("segment root \"%s\" must end in \"/\"", root)));
	if (first_row_id < 0 || row_count < 0 || row_count > PG_INT64_MAX - first_row_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid segment row range: first row ID " INT64_FORMAT ", " INT64_FORMAT " rows",
						first_row_id, row_count)));
	r->cxt = cxt;
	r->callcxt = AllocSetContextCreate(cxt, "vltab segment take", ALLOCSET_DEFAULT_SIZES);
	r->root = pstrdup(root);
	r->desc = CreateTupleDescCopy(desc);
	r->first_row_id = first_row_id;
	r->row_count = row_count;
	r->nfiles = nfiles;
	r->files = copy_files(files, nfiles);
	r->srcs = palloc0(sizeof(ByteSource *) * Max(nfiles, 1));
	r->cols = palloc0(sizeof(RCol) * Max(desc->natts, 1));
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		RCol	   *c = &r->cols[a];
		ColPlan		plan;

		c->file = -1;
		if (att->attisdropped)
			continue;
		/* ADD COLUMN ... DEFAULT without a rewrite: files lack the column */
		if (att->atthasmissing)
		{
			bool		isnull;
			Datum		d = getmissingattr(desc, a + 1, &isnull);

			if (!isnull)
			{
				c->has_missing = true;
				c->missing = datumCopy(d, att->attbyval, att->attlen);
			}
		}
		plan_column(att, &plan);
		c->basetype = plan.basetype;
		c->basetypmod = plan.basetypmod;
		c->enc = plan.enc;
	}
	for (int f = 0; f < nfiles; f++)
	{
		if (files[f].row_count != row_count)
			lake_corrupt("segment file", files[f].path,
						 "the catalog gives it " INT64_FORMAT " rows, the segment has " INT64_FORMAT,
						 files[f].row_count, row_count);
		for (int i = 0; i < files[f].natts; i++)
		{
			AttrNumber	an = files[f].attnums[i];

			/* columns dropped since, or unknown to desc: never read */
			if (an < 1 || an > desc->natts || TupleDescAttr(desc, an - 1)->attisdropped)
				continue;
			if (r->cols[an - 1].file >= 0 &&
				files[r->cols[an - 1].file].group_no == files[f].group_no)
				lake_corrupt("segment file", files[f].path,
							 "column %d is also in \"%s\" of the same group", an,
							 files[r->cols[an - 1].file].path);
			/* a later group's copy of a column supersedes an earlier one's */
			if (r->cols[an - 1].file < 0 ||
				files[r->cols[an - 1].file].group_no < files[f].group_no)
				r->cols[an - 1].file = f;
		}
	}
	for (int a = 0; a < desc->natts; a++)
		if (r->cols[a].file >= 0)
			r->cols[a].has_missing = false;
	MemoryContextSwitchTo(old);
	return r;
}

void
vltab_segment_close(VltabSegmentReader *r)
{
	for (int f = 0; f < r->nfiles; f++)
		if (r->srcs[f])
			parquet_source_close(r->srcs[f]);
	if (r->store)
		objstore_close(r->store);
	MemoryContextDelete(r->cxt);
}

/*
 * A ByteSource over the version of a file the catalog names (size, ETag):
 * no head request to open it, none to validate each read
 * (objstore_get_ranges_known), and an ERROR if the store no longer holds
 * that version.
 */
typedef struct KnownFile
{
	ObjStore   *store;
	char	   *key;
	ObjStat		known;
} KnownFile;

static void
known_read_ranges(ByteSource *src, ByteRange *ranges, int n)
{
	KnownFile  *kf = src->state;
	ObjRange   *or = palloc(sizeof(ObjRange) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		or[i].offset = ranges[i].offset;
		or[i].length = ranges[i].length;
		or[i].dest = ranges[i].dest;
	}
	objstore_get_ranges_known(kf->store, kf->key, &kf->known, or, n);
	pfree(or);
}

static void
known_close(ByteSource *src)
{
	/* the store is the reader's */
}

static ByteSource *
open_file(VltabSegmentReader *r, const VltabSegmentFile *f)
{
	ByteSource *src;
	KnownFile  *kf;

	if (r->store == NULL)
		r->store = objstore_open(r->root);
	if (f->size <= 0)
		return parquet_source_open_uri(objstore_uri(r->store, f->path));
	if (strlen(f->etag) >= sizeof(kf->known.etag))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ETag of segment file \"%s\" is too long", f->path)));
	src = palloc0(sizeof(ByteSource));
	kf = palloc0(sizeof(KnownFile));
	kf->store = r->store;
	kf->key = f->path;
	kf->known.size = (uint64) f->size;
	strlcpy(kf->known.etag, f->etag, sizeof(kf->known.etag));
	src->name = objstore_uri(r->store, f->path);
	src->size = (uint64) f->size;
	src->state = kf;
	src->version = kf->known.etag;
	src->read_ranges = known_read_ranges;
	src->close = known_close;
	return src;
}

static const char *
footer_value(PqReader *pr, const char *key)
{
	for (int i = 0; i < pr->meta->num_key_value; i++)
		if (strcmp(pr->meta->key_value[i].key, key) == 0)
			return pr->meta->key_value[i].value;
	return NULL;
}

/* Is field id an in the comma-separated list s? */
static bool
list_has(const char *s, int an)
{
	while (s && *s)
	{
		char	   *end;
		long		v = strtol(s, &end, 10);

		if (end == s)
			return false;
		if (v == an)
			return true;
		s = (*end == ',') ? end + 1 : end;
	}
	return false;
}

/* The Parquet type a column must be read as (pgmap_vector_datum target). */
static Oid
read_target(RCol *c, bool text)
{
	if (text)
		return c->basetype == JSONBOID ? JSONBOID : TEXTOID;
	switch (c->basetype)
	{
		case VARCHAROID:
		case BPCHAROID:
			return TEXTOID;		/* the same bytes */
		default:
			return c->basetype;
	}
}

static ROpen *
open_groups(VltabSegmentReader *r, Bitmapset *groups)
{
	ListCell   *lc;
	MemoryContext old;
	ROpen	   *o;
	ByteSource **srcs;
	int			n = bms_num_members(groups);
	int			g = -1,
				k = 0;

	foreach(lc, r->opens)
	{
		o = lfirst(lc);
		if (bms_equal(o->groups, groups))
			return o;
	}
	old = MemoryContextSwitchTo(r->cxt);
	o = palloc0(sizeof(ROpen));
	o->groups = bms_copy(groups);
	srcs = palloc(sizeof(ByteSource *) * n);
	while ((g = bms_next_member(groups, g)) >= 0)
	{
		if (r->srcs[g] == NULL)
			r->srcs[g] = open_file(r, &r->files[g]);
		srcs[k++] = r->srcs[g];
	}
	o->p = layout_packed_open_patched(srcs, n, r->first_row_id, true);
	if (o->p->nrows != r->row_count)
		lake_corrupt("segment file", o->p->groups[0]->name,
					 "it has %lld rows, the segment " INT64_FORMAT,
					 (long long) o->p->nrows, r->row_count);
	o->colidx = palloc(sizeof(int) * Max(r->desc->natts, 1));
	o->text = palloc0(sizeof(bool) * Max(r->desc->natts, 1));
	for (int a = 0; a < r->desc->natts; a++)
		o->colidx[a] = -1;
	for (int c = 0; c < o->p->ncolumns; c++)
	{
		const PqColumnDesc *cd = layout_packed_column_desc(o->p, c);
		PqReader   *pr = layout_packed_column_reader(o->p, c);
		int			an = cd->has_field_id ? cd->field_id : -1;
		RCol	   *rc;
		Oid			target;

		if (an < 1 || an > r->desc->natts || r->cols[an - 1].file < 0)
			continue;			/* not a column of desc, or not from this file */
		rc = &r->cols[an - 1];
		if (!bms_is_member(rc->file, groups) || strcmp(pr->name, r->srcs[rc->file]->name) != 0)
			continue;			/* read from another file (a later group's, say) */
		if (o->colidx[an - 1] >= 0)
			lake_corrupt("segment file", pr->name, "field id %d appears twice", an);
		o->colidx[an - 1] = c;
		o->text[an - 1] = list_has(footer_value(pr, VLTAB_KV_TEXT_OUTPUT), an);
		/*
		 * A file another engine wrote has no such key: a column of a type
		 * vlake stores as its text (objref's JSON, numeric, ...) that the
		 * file holds as a string is that text (docs/manifest.md, types).
		 */
		if (!o->text[an - 1] && rc->enc != ENC_NATIVE && cd->type == PARQUET_BYTE_ARRAY)
			o->text[an - 1] = true;
		target = read_target(rc, o->text[an - 1]);
		if (!pgmap_target_ok(cd, target))
			lake_corrupt("segment file", pr->name,
						 "column \"%s\" (field id %d) cannot be read as %s",
						 cd->name, an, format_type_be(target));
		if (o->text[an - 1] && target == TEXTOID && !rc->have_infn)
		{
			Oid			infn;

			getTypeInputInfo(rc->basetype, &infn, &rc->ioparam);
			fmgr_info_cxt(infn, &rc->infn, r->cxt);
			rc->have_infn = true;
		}
	}
	/* every column the catalog places in these files must be there */
	g = -1;
	while ((g = bms_next_member(groups, g)) >= 0)
		for (int i = 0; i < r->files[g].natts; i++)
		{
			AttrNumber	an = r->files[g].attnums[i];

			if (an >= 1 && an <= r->desc->natts && r->cols[an - 1].file == g &&
				o->colidx[an - 1] < 0)
				lake_corrupt("segment file", r->srcs[g]->name, "it has no column with field id %d", an);
		}
	r->opens = lappend(r->opens, o);
	MemoryContextSwitchTo(old);
	return o;
}

/* The groups holding attrs; their attnums into *atts (n returned). */
static ROpen *
open_for(VltabSegmentReader *r, Bitmapset *attrs, int *ncols, int **cols, AttrNumber **atts)
{
	Bitmapset  *groups = NULL;
	ROpen	   *o;
	int			a = -1;
	int			n = 0;

	while ((a = bms_next_member(attrs, a)) >= 0)
	{
		if (a < 1 || a > r->desc->natts)
			elog(ERROR, "vltab segment: attnum %d out of range", a);
		if (r->cols[a - 1].file >= 0)
			groups = bms_add_member(groups, r->cols[a - 1].file);
	}
	*ncols = 0;
	*cols = palloc(sizeof(int) * Max(r->desc->natts, 1));
	*atts = palloc(sizeof(AttrNumber) * Max(r->desc->natts, 1));
	if (groups == NULL)
		return NULL;
	o = open_groups(r, groups);
	a = -1;
	while ((a = bms_next_member(attrs, a)) >= 0)
		if (o->colidx[a - 1] >= 0)
		{
			(*cols)[n] = o->colidx[a - 1];
			(*atts)[n++] = a;
		}
	*ncols = n;
	bms_free(groups);
	return o;
}

/*
 * A row's values before its files are read: NULL, or for a column no file
 * holds and that was added with a default (attmissingval), that default,
 * as heap gives it for tuples older than the column.
 */
static void
fill_absent(VltabSegmentReader *r, Datum *values, bool *isnull)
{
	for (int a = 0; a < r->desc->natts; a++)
	{
		values[a] = r->cols[a].missing;
		isnull[a] = !r->cols[a].has_missing;
	}
}

/* Row k of batch column v as the Datum of attnum an (in CurrentMemoryContext). */
static Datum
column_datum(VltabSegmentReader *r, ROpen *o, int pcol, AttrNumber an,
			 const PqColumnVector *v, int64 k, bool *isnull)
{
	RCol	   *rc = &r->cols[an - 1];
	bool		as_text = o->text[an - 1];
	Oid			target = read_target(rc, as_text);
	Datum		d;

	d = pgmap_vector_datum(layout_packed_column_reader(o->p, pcol),
						   layout_packed_column_desc(o->p, pcol), v, k, target, isnull);
	if (*isnull || !as_text || target != TEXTOID)
		return d;
	return InputFunctionCall(&rc->infn, text_to_cstring(DatumGetTextPP(d)),
							 rc->ioparam, rc->basetypmod);
}

/* ---- page skipping ---- */

/*
 * Does the column's physical type hold the statistics' units for its
 * Postgres type?  (What the writer stores natively; a file from elsewhere
 * with, say, millisecond timestamps makes no predicate.)
 */
static bool
physical_matches(Oid basetype, const PqColumnDesc *cd)
{
	const PqLogicalType *lt = &cd->leaf_elem->logical_type;

	if (!parquet_column_filterable(cd))
		return false;
	switch (basetype)
	{
		case BOOLOID:
			return cd->type == PARQUET_BOOLEAN;
		case INT2OID:
		case INT4OID:
			return cd->type == PARQUET_INT32 &&
				(lt->kind == PARQUET_LT_NONE || lt->kind == PARQUET_LT_INTEGER);
		case INT8OID:
			return cd->type == PARQUET_INT64 &&
				(lt->kind == PARQUET_LT_NONE || lt->kind == PARQUET_LT_INTEGER);
		case DATEOID:
			return cd->type == PARQUET_INT32 && lt->kind == PARQUET_LT_DATE;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return cd->type == PARQUET_INT64 && lt->kind == PARQUET_LT_TIMESTAMP &&
				lt->unit == PARQUET_UNIT_MICROS;
		case FLOAT4OID:
			return cd->type == PARQUET_FLOAT;
		case FLOAT8OID:
			return cd->type == PARQUET_DOUBLE;
		default:
			return false;
	}
}

static PqBytes
phys_bytes(const void *v, int len)
{
	PqBytes		b;

	b.data = palloc(len);
	memcpy(b.data, v, len);
	b.len = len;
	return b;
}

/*
 * A bound as a physical value; false: no bound (the column holds no value
 * beyond it).  Bounds out of the physical range clamp to its ends and
 * float bounds round outwards (up for hi, down for lo): a looser bound
 * skips less, never a matching page.
 */
static bool
bound_bytes(PqType type, bool is_float, int64 i, double f, bool is_hi, PqBytes *out)
{
	switch (type)
	{
		case PARQUET_BOOLEAN:
			{
				uint8		b = (i != 0);

				if (i < 0 || i > 1)
					return false;
				*out = phys_bytes(&b, 1);
				return true;
			}
		case PARQUET_INT32:
			{
				int32		v;

				if (is_hi ? i >= PG_INT32_MAX : i <= PG_INT32_MIN)
					return false;
				v = (int32) Max(Min(i, PG_INT32_MAX), PG_INT32_MIN);
				*out = phys_bytes(&v, 4);
				return true;
			}
		case PARQUET_INT64:
			*out = phys_bytes(&i, 8);
			return true;
		case PARQUET_FLOAT:
			{
				float		v;

				if (isnan(f))
					return false;
				/* out of float's range: its ends (a cast would be undefined) */
				if (f > FLT_MAX)
					v = is_hi ? INFINITY : FLT_MAX;
				else if (f < -FLT_MAX)
					v = is_hi ? -FLT_MAX : -INFINITY;
				else
					v = (float) f;
				if (is_hi && (double) v < f)
					v = nextafterf(v, INFINITY);
				else if (!is_hi && (double) v > f)
					v = nextafterf(v, -INFINITY);
				*out = phys_bytes(&v, 4);
				return true;
			}
		case PARQUET_DOUBLE:
			if (isnan(f))
				return false;
			*out = phys_bytes(&f, 8);
			return true;
		default:
			return false;
	}
}

/* The range as a predicate on packed column pcol; false if none applies. */
static bool
range_predicate(VltabSegmentReader *r, ROpen *o, const VltabRange *rg, PqPredicate *p)
{
	AttrNumber	an = rg->attnum;
	const PqColumnDesc *cd;

	if (an < 1 || an > r->desc->natts || o->colidx[an - 1] < 0 || o->text[an - 1])
		return false;
	cd = layout_packed_column_desc(o->p, o->colidx[an - 1]);
	if (!physical_matches(r->cols[an - 1].basetype, cd) ||
		rg->is_float != (cd->type == PARQUET_FLOAT || cd->type == PARQUET_DOUBLE))
		return false;
	memset(p, 0, sizeof(PqPredicate));
	p->column = o->colidx[an - 1];
	p->nan_matches = rg->nan_matches;
	p->has_lo = rg->has_lo && bound_bytes(cd->type, rg->is_float, rg->lo_i, rg->lo_f, false, &p->lo);
	p->has_hi = rg->has_hi && bound_bytes(cd->type, rg->is_float, rg->hi_i, rg->hi_f, true, &p->hi);
	return p->has_lo || p->has_hi;
}

VltabSegmentScan *
vltab_segment_scan_begin_pruned(VltabSegmentReader *r, Bitmapset *attrs,
								const VltabRange *ranges, int nranges)
{
	MemoryContext cxt = AllocSetContextCreate(r->cxt, "vltab segment scan", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	VltabSegmentScan *s = palloc0(sizeof(VltabSegmentScan));
	PqPredicate *preds = palloc(sizeof(PqPredicate) * Max(nranges, 1));
	int			npreds = 0;

	s->r = r;
	s->cxt = cxt;
	s->rowcxt = AllocSetContextCreate(cxt, "vltab segment scan row", ALLOCSET_DEFAULT_SIZES);
	s->o = open_for(r, attrs, &s->ncols, &s->cols, &s->atts);
	if (s->o && s->ncols > 0)
	{
		for (int i = 0; i < nranges; i++)
			if (range_predicate(r, s->o, &ranges[i], &preds[npreds]))
				npreds++;
		s->ps = layout_packed_scan_begin_pruned(s->o->p, s->ncols, s->cols, preds, npreds, 1024);
	}
	s->next_row_id = r->first_row_id;
	MemoryContextSwitchTo(old);
	return s;
}

void
vltab_segment_scan_counts(VltabSegmentScan *s, VltabScanCounts *counts)
{
	PqScanStats st;

	if (s->ps == NULL)
		return;
	layout_packed_scan_stats(s->ps, &st);
	counts->pages_read += st.pages_read;
	counts->pages_skipped += st.pages_skipped;
	counts->rows_skipped += st.rows_skipped;
}

int64
vltab_segment_bytes_read(VltabSegmentReader *r)
{
	int64		n = 0;

	for (int f = 0; f < r->nfiles; f++)
		if (r->srcs[f])
			n += (int64) r->srcs[f]->nbytes;
	return n;
}

VltabSegmentScan *
vltab_segment_scan_begin(VltabSegmentReader *r, Bitmapset *attrs)
{
	return vltab_segment_scan_begin_pruned(r, attrs, NULL, 0);
}

bool
vltab_segment_scan_next(VltabSegmentScan *s, int64 *row_id, Datum *values, bool *isnull)
{
	VltabSegmentReader *r = s->r;
	MemoryContext old;

	CHECK_FOR_INTERRUPTS();
	MemoryContextReset(s->rowcxt);
	fill_absent(r, values, isnull);
	if (s->ps == NULL)
	{
		/* no file holds a requested column: every row, all NULL */
		if (s->next_row_id - r->first_row_id >= r->row_count)
			return false;
		*row_id = s->next_row_id++;
		return true;
	}
	if (s->batch == NULL || s->pos >= s->batch->nrows)
	{
		old = MemoryContextSwitchTo(s->cxt);
		s->batch = layout_packed_scan_next(s->ps);
		MemoryContextSwitchTo(old);
		s->pos = 0;
		if (s->batch == NULL || s->batch->nrows == 0)
			return false;
	}
	old = MemoryContextSwitchTo(s->rowcxt);
	*row_id = s->batch->row_numbers[s->pos];
	for (int i = 0; i < s->ncols; i++)
	{
		AttrNumber	an = s->atts[i];

		values[an - 1] = column_datum(r, s->o, s->cols[i], an, &s->batch->cols[i], s->pos,
									  &isnull[an - 1]);
	}
	MemoryContextSwitchTo(old);
	s->pos++;
	return true;
}

void
vltab_segment_scan_end(VltabSegmentScan *s)
{
	if (s->ps)
		layout_packed_scan_end(s->ps);
	MemoryContextDelete(s->cxt);
}

/*
 * The rows' values of attrs into values/isnull (row k at k * natts), the
 * Datums allocated in datum_cxt; the packed take (each ColumnGroup's pages
 * in one request) lives in the reader's callcxt until the next take.
 */
static void
take_into(VltabSegmentReader *r, Bitmapset *attrs, const int64 *row_ids, int n,
		  Datum *values, bool *isnull, MemoryContext datum_cxt)
{
	int			natts = r->desc->natts;
	MemoryContext old;
	ROpen	   *o;
	int			ncols;
	int		   *cols;
	AttrNumber *atts;
	PqBatch    *b = NULL;

	MemoryContextReset(r->callcxt);
	for (int k = 0; k < n; k++)
	{
		if (row_ids[k] < r->first_row_id || row_ids[k] - r->first_row_id >= r->row_count)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("row ID " INT64_FORMAT " is outside the segment's rows " INT64_FORMAT ".." INT64_FORMAT,
							row_ids[k], r->first_row_id, r->first_row_id + r->row_count - 1)));
	}
	for (int k = 0; k < n; k++)
		fill_absent(r, values + k * natts, isnull + k * natts);
	old = MemoryContextSwitchTo(r->callcxt);
	o = open_for(r, attrs, &ncols, &cols, &atts);
	if (o && ncols > 0)
		b = layout_packed_take(o->p, ncols, cols, row_ids, n);
	MemoryContextSwitchTo(datum_cxt);
	for (int k = 0; b && k < n; k++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < ncols; i++)
			values[k * natts + atts[i] - 1] =
				column_datum(r, o, cols[i], atts[i], &b->cols[i], k,
							 &isnull[k * natts + atts[i] - 1]);
	}
	MemoryContextSwitchTo(old);
}

static void check_vector_values(ROpen *o, int pcol, const char *vals, size_t nv);

const char *
vltab_segment_take_fixed(VltabSegmentReader *r, AttrNumber attnum, const int64 *row_ids,
						 int n, int dim, bool *half)
{
	RCol	   *rc;
	ROpen	   *o;
	int			ncols;
	int		   *cols;
	AttrNumber *atts;
	const PqColumnDesc *col;
	size_t		rowbytes;
	char	   *out;
	bool		keep;
	MemoryContext old;

#ifdef WORDS_BIGENDIAN
	return NULL;				/* values are stored little-endian */
#endif
	if (attnum < 1 || attnum > r->desc->natts)
		elog(ERROR, "vltab segment: attnum %d out of range", attnum);
	rc = &r->cols[attnum - 1];
	*half = type_is(rc->basetype, halfvec_type_oid);
	if (rc->file < 0 || n <= 0 || dim < 1 || (!*half && !type_is(rc->basetype, vector_type_oid)))
		return NULL;
	r->memo_att = 0;			/* what it held is about to be overwritten */
	MemoryContextReset(r->callcxt);
	old = MemoryContextSwitchTo(r->callcxt);
	o = open_for(r, bms_make_singleton(attnum), &ncols, &cols, &atts);
	MemoryContextSwitchTo(old);
	if (o == NULL || ncols != 1 || o->text[attnum - 1])
		return NULL;
	/* what pgmap writes: vector as LIST<FLOAT>, halfvec as FLBA(2 * dim) */
	col = layout_packed_column_desc(o->p, cols[0]);
	if (*half ? (col->is_list || col->type != PARQUET_FIXED_LEN_BYTE_ARRAY)
		: (!col->is_list || col->type != PARQUET_FLOAT))
		return NULL;
	rowbytes = (size_t) dim * (*half ? 2 : 4);
	/*
	 * Into the memo's buffer, kept across takes (fresh memory per take
	 * cost page faults), unless the batch is large: then memory of callcxt.
	 */
	keep = rowbytes * n <= MEMO_MAX_BYTES;
	for (int k = 1; k < n && keep; k++)
		keep = row_ids[k] > row_ids[k - 1];
	if (keep && r->memo_bytes == NULL)
		r->memo_bytes = MemoryContextAlloc(r->cxt, MEMO_MAX_BYTES);
	if (keep && n > r->memo_cap)
	{
		if (r->memo_rows)
			pfree(r->memo_rows);
		r->memo_cap = Max(n, 256);
		r->memo_rows = MemoryContextAlloc(r->cxt, sizeof(int64) * r->memo_cap);
	}
	out = keep ? r->memo_bytes : MemoryContextAllocHuge(r->callcxt, rowbytes * n);
	if (!layout_packed_take_fixed(o->p, cols[0], row_ids, n, rowbytes, out))
		return NULL;
	if (!*half)
		check_vector_values(o, cols[0], out, rowbytes / 4 * n);
	if (keep)
	{
		memcpy(r->memo_rows, row_ids, sizeof(int64) * n);
		r->memo_att = attnum;
		r->memo_half = *half;
		r->memo_dim = dim;
		r->memo_n = n;
	}
	return out;
}

/* NaN and infinity (every exponent bit set) are no vector's values: one
 * branch-free pass in blocks the compiler vectorizes. */
static void
check_vector_values(ROpen *o, int pcol, const char *vals, size_t nv)
{
	uint32		special = 0;
	size_t		i = 0;

	for (; i + 16 <= nv; i += 16)
	{
		uint32		bits[16];

		memcpy(bits, vals + i * 4, sizeof(bits));
		for (int e = 0; e < 16; e++)
			special |= (bits[e] & 0x7f800000) == 0x7f800000;
	}
	for (; i < nv; i++)
	{
		uint32		bits;

		memcpy(&bits, vals + i * 4, 4);
		special |= (bits & 0x7f800000) == 0x7f800000;
	}
	if (special)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid vector in Parquet file \"%s\": NaN or infinity cannot be stored in a vector",
						layout_packed_column_reader(o->p, pcol)->name),
				 errdetail("Column \"%s\".", layout_packed_column_desc(o->p, pcol)->path)));
}

/* Row row_id's value of column attnum from the memo, as a Datum, or 0. */
static Datum
memo_datum(VltabSegmentReader *r, AttrNumber attnum, int64 row_id)
{
	int			lo = 0,
				hi = r->memo_n - 1;
	size_t		rowbytes;

	if (r->memo_att != attnum || attnum == 0)
		return (Datum) 0;
	rowbytes = (size_t) r->memo_dim * (r->memo_half ? 2 : 4);
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (r->memo_rows[mid] == row_id)
		{
			const char *src = r->memo_bytes + rowbytes * mid;

			if (r->memo_half)
			{
				HalfVector *hv = halfvec_new(r->memo_dim);

				memcpy(hv->x, src, rowbytes);
				return PointerGetDatum(hv);
			}
			else
			{
				Vector	   *v = vector_new(r->memo_dim);

				memcpy(v->x, src, rowbytes);
				return PointerGetDatum(v);
			}
		}
		if (r->memo_rows[mid] < row_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return (Datum) 0;
}


void
vltab_segment_take(VltabSegmentReader *r, Bitmapset *attrs, int64 row_id,
				   Datum *values, bool *isnull)
{
	Datum		memo = (Datum) 0;

	if (r->memo_att != 0 && bms_is_member(r->memo_att, attrs))
	{
		MemoryContext old = MemoryContextSwitchTo(r->cxt);

		/* the memo's Datum outlives take_into's reset of callcxt: in cxt,
		 * freed at the next take of this reader */
		if (r->memo_datum)
			pfree(DatumGetPointer(r->memo_datum));
		r->memo_datum = memo = memo_datum(r, r->memo_att, row_id);
		MemoryContextSwitchTo(old);
	}
	if (memo == (Datum) 0)
	{
		take_into(r, attrs, &row_id, 1, values, isnull, r->callcxt);
		return;
	}
	attrs = bms_del_member(bms_copy(attrs), r->memo_att);
	take_into(r, attrs, &row_id, 1, values, isnull, r->callcxt);
	bms_free(attrs);
	values[r->memo_att - 1] = memo;
	isnull[r->memo_att - 1] = false;
}

void
vltab_segment_take_rows(VltabSegmentReader *r, Bitmapset *attrs, const int64 *row_ids,
						int n, Datum *values, bool *isnull)
{
	take_into(r, attrs, row_ids, n, values, isnull, CurrentMemoryContext);
}
