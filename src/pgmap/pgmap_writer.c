/*
 * pgmap_writer.c — Postgres values onto the generic Parquet writer
 * (pgmap_writer.h): the type mapping, value conversion, and the footer keys
 * of vlake's layouts.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "layout/layout_keys.h"
#include "pgmap/pgmap_writer.h"
#include "vector/vector.h"
#include "vlake.h"

/* Days and microseconds between 1970-01-01 (Parquet) and 2000-01-01 (PG). */
#define UNIX_TO_PG_DAYS		10957
#define UNIX_TO_PG_USECS	INT64CONST(946684800000000)

#define UNCONSTRAINED_NUMERIC_PRECISION 38
#define UNCONSTRAINED_NUMERIC_SCALE 16

typedef enum PgmapKind
{
	K_BOOL, K_INT16, K_INT32, K_INT64, K_FLOAT4, K_FLOAT8,
	K_DEC32, K_DEC64, K_DECFLBA,
	K_TEXT,						/* text-like varlena: bytes as stored */
	K_BYTEA,
	K_NAME,
	K_OUTPUT,					/* output function text (json, jsonb, others) */
	K_UUID, K_DATE, K_TIMESTAMP, K_TIMESTAMPTZ,
	K_VECTOR,					/* LIST<FLOAT> */
	K_HALFVEC_FLBA,				/* FIXED_LEN_BYTE_ARRAY(2*dim) */
	K_HALFVEC_BA				/* BYTE_ARRAY of binary16 (dimension unknown) */
} PgmapKind;

typedef struct PgmapColumn
{
	char	   *name;
	int			attno;			/* 0-based in the tuple descriptor */
	PgmapKind	kind;
	Oid			typid;
	int32		typmod;
	FmgrInfo	outfn;
	PqType		phys;
	int32		type_length;
	int32		precision;
	int32		scale;
	int			dim;			/* fixed vector dimension, -1 unknown */
	int			seen_dim;		/* -1 none yet, -2 varying, else all rows' */
	bool		infinities;		/* PgmapWriterOptions.infinities */
} PgmapColumn;

struct PgmapWriter
{
	PqWriter   *pw;
	PgmapWriterOptions opts;
	int			ncols;
	PgmapColumn *cols;
};

void
pgmap_writer_default_options(PgmapWriterOptions *opts)
{
	parquet_writer_default_options(&opts->parquet);
	opts->vector_layout = false;
	opts->first_row_id = -1;
	opts->infinities = false;
}

/* ------------------------------------------------------------- mapping --- */

static char *
type_name_of(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	char	   *name;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	name = pstrdup(NameStr(((Form_pg_type) GETSTRUCT(tup))->typname));
	ReleaseSysCache(tup);
	return name;
}

/* Bytes of a big-endian two's complement integer holding 10^p - 1. */
static int
decimal_bytes(int precision)
{
	int			n = 1;

	/* 2^(8n-1) > 10^p  <=>  (8n-1) * log10(2) > p */
	while ((8.0 * n - 1) * 0.30102999566398120 <= precision)
		n++;
	return n;
}

static void
map_column(PgmapColumn *c, Form_pg_attribute att, PqSchemaElement *e)
{
	Oid			typid = getBaseType(att->atttypid);
	char	   *tname = type_name_of(typid);

	c->typid = typid;
	c->typmod = att->atttypmod;
	c->dim = -1;
	e->has_type = true;
	switch (typid)
	{
		case BOOLOID:
			c->kind = K_BOOL;
			c->phys = PARQUET_BOOLEAN;
			break;
		case INT2OID:
			c->kind = K_INT16;
			c->phys = PARQUET_INT32;
			e->has_converted_type = true;
			e->converted_type = PARQUET_CT_INT_16;
			e->logical_type.kind = PARQUET_LT_INTEGER;
			e->logical_type.bit_width = 16;
			e->logical_type.is_signed = true;
			break;
		case INT4OID:
			c->kind = K_INT32;
			c->phys = PARQUET_INT32;
			break;
		case INT8OID:
			c->kind = K_INT64;
			c->phys = PARQUET_INT64;
			break;
		case FLOAT4OID:
			c->kind = K_FLOAT4;
			c->phys = PARQUET_FLOAT;
			break;
		case FLOAT8OID:
			c->kind = K_FLOAT8;
			c->phys = PARQUET_DOUBLE;
			break;
		case NUMERICOID:
			if (att->atttypmod >= (int32) VARHDRSZ)
			{
				int32		tm = att->atttypmod - VARHDRSZ;

				c->precision = (tm >> 16) & 0xffff;
				c->scale = (int16) (tm & 0xffff);
			}
			else
			{
				c->precision = UNCONSTRAINED_NUMERIC_PRECISION;
				c->scale = UNCONSTRAINED_NUMERIC_SCALE;
			}
			if (c->precision > 38 || c->scale < 0 || c->scale > c->precision)
			{
				/* no Parquet DECIMAL for these: keep the exact text */
				c->kind = K_OUTPUT;
				c->phys = PARQUET_BYTE_ARRAY;
				e->has_converted_type = true;
				e->converted_type = PARQUET_CT_UTF8;
				e->logical_type.kind = PARQUET_LT_STRING;
				break;
			}
			if (c->precision <= 9)
			{
				c->kind = K_DEC32;
				c->phys = PARQUET_INT32;
			}
			else if (c->precision <= 18)
			{
				c->kind = K_DEC64;
				c->phys = PARQUET_INT64;
			}
			else
			{
				c->kind = K_DECFLBA;
				c->phys = PARQUET_FIXED_LEN_BYTE_ARRAY;
				c->type_length = decimal_bytes(c->precision);
			}
			e->has_converted_type = true;
			e->converted_type = PARQUET_CT_DECIMAL;
			e->has_scale = e->has_precision = true;
			e->scale = c->scale;
			e->precision = c->precision;
			e->logical_type.kind = PARQUET_LT_DECIMAL;
			e->logical_type.scale = c->scale;
			e->logical_type.precision = c->precision;
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			c->kind = K_TEXT;
			c->phys = PARQUET_BYTE_ARRAY;
			e->has_converted_type = true;
			e->converted_type = PARQUET_CT_UTF8;
			e->logical_type.kind = PARQUET_LT_STRING;
			break;
		case NAMEOID:
			c->kind = K_NAME;
			c->phys = PARQUET_BYTE_ARRAY;
			e->has_converted_type = true;
			e->converted_type = PARQUET_CT_UTF8;
			e->logical_type.kind = PARQUET_LT_STRING;
			break;
		case JSONOID:
		case JSONBOID:
			c->kind = typid == JSONOID ? K_TEXT : K_OUTPUT;
			c->phys = PARQUET_BYTE_ARRAY;
			e->has_converted_type = true;
			e->converted_type = PARQUET_CT_JSON;
			e->logical_type.kind = PARQUET_LT_JSON;
			break;
		case BYTEAOID:
			c->kind = K_BYTEA;
			c->phys = PARQUET_BYTE_ARRAY;
			break;
		case UUIDOID:
			c->kind = K_UUID;
			c->phys = PARQUET_FIXED_LEN_BYTE_ARRAY;
			c->type_length = 16;
			e->logical_type.kind = PARQUET_LT_UUID;
			break;
		case DATEOID:
			c->kind = K_DATE;
			c->phys = PARQUET_INT32;
			e->has_converted_type = true;
			e->converted_type = PARQUET_CT_DATE;
			e->logical_type.kind = PARQUET_LT_DATE;
			break;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			c->kind = typid == TIMESTAMPOID ? K_TIMESTAMP : K_TIMESTAMPTZ;
			c->phys = PARQUET_INT64;
			e->logical_type.kind = PARQUET_LT_TIMESTAMP;
			e->logical_type.unit = PARQUET_UNIT_MICROS;
			e->logical_type.is_adjusted_to_utc = (typid == TIMESTAMPTZOID);
			/* the converted type only exists for UTC-adjusted values */
			if (typid == TIMESTAMPTZOID)
			{
				e->has_converted_type = true;
				e->converted_type = PARQUET_CT_TIMESTAMP_MICROS;
			}
			break;
		default:
			if (strcmp(tname, "vector") == 0 && att->attlen == -1)
			{
				c->kind = K_VECTOR;
				c->phys = PARQUET_FLOAT;
				c->dim = att->atttypmod > 0 ? att->atttypmod : -1;
			}
			else if (strcmp(tname, "halfvec") == 0 && att->attlen == -1)
			{
				if (att->atttypmod > 0)
				{
					c->kind = K_HALFVEC_FLBA;
					c->phys = PARQUET_FIXED_LEN_BYTE_ARRAY;
					c->dim = att->atttypmod;
					c->type_length = 2 * c->dim;
				}
				else
				{
					c->kind = K_HALFVEC_BA;
					c->phys = PARQUET_BYTE_ARRAY;
				}
			}
			else
			{
				/* anything else: its text form, which round-trips */
				c->kind = K_OUTPUT;
				c->phys = PARQUET_BYTE_ARRAY;
				e->has_converted_type = true;
				e->converted_type = PARQUET_CT_UTF8;
				e->logical_type.kind = PARQUET_LT_STRING;
			}
			break;
	}
	if (c->kind == K_OUTPUT)
	{
		Oid			outfn;
		bool		isvarlena;

		getTypeOutputInfo(att->atttypid, &outfn, &isvarlena);
		fmgr_info(outfn, &c->outfn);
	}
	e->type = c->phys;
	e->type_length = c->type_length;
}

/* -------------------------------------------------------------- values --- */

static int
digit_at(const char *s, int i, int n)
{
	return i < n ? s[i] - '0' : 0;
}

/*
 * numeric -> unscaled integer at the column's scale, from its exact text
 * form.  Digits beyond the scale (only possible for unconstrained numeric)
 * are rounded half away from zero, as numeric's round() does.
 */
static __int128
numeric_unscaled(PgmapColumn *c, Datum d)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, d));
	const char *p = s;
	bool		neg = false;
	const char *intpart,
			   *frac = "";
	int			nint,
				nfrac = 0;
	__int128	v = 0;
	__int128	limit = 1;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	if (!isdigit((unsigned char) *p))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cannot write numeric value %s to Parquet column \"%s\"", s, c->name),
				 errdetail("Parquet DECIMAL has no NaN or infinity.")));
	intpart = p;
	while (isdigit((unsigned char) *p))
		p++;
	nint = p - intpart;
	if (*p == '.')
	{
		frac = ++p;
		while (isdigit((unsigned char) *p))
			p++;
		nfrac = p - frac;
	}
	for (int i = 0; i < c->precision; i++)
		limit *= 10;
	for (int i = 0; i < nint; i++)
	{
		v = v * 10 + (intpart[i] - '0');
		if (v >= limit)
			goto overflow;
	}
	for (int i = 0; i < c->scale; i++)
	{
		v = v * 10 + digit_at(frac, i, nfrac);
		if (v >= limit)
			goto overflow;
	}
	if (digit_at(frac, c->scale, nfrac) >= 5)
	{
		v++;
		if (v >= limit)
			goto overflow;
	}
	pfree(s);
	return neg ? -v : v;

overflow:
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("numeric value %s does not fit Parquet column \"%s\" DECIMAL(%d,%d)",
					s, c->name, c->precision, c->scale),
			 errhint("Cast the column to numeric(p,s) with a suitable precision, or to text.")));
	return 0;
}

static int64
timestamp_to_unix(PgmapColumn *c, int64 ts)
{
	int64		r;

	if (TIMESTAMP_NOT_FINITE(ts) && c->infinities)
		return TIMESTAMP_IS_NOBEGIN(ts) ? -PG_INT64_MAX : PG_INT64_MAX;
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot write an infinite timestamp to Parquet column \"%s\"", c->name)));
	if (pg_add_s64_overflow(ts, UNIX_TO_PG_USECS, &r))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for Parquet column \"%s\"", c->name)));
	return r;
}

/* PLAIN (little-endian) bytes of a 32- or 64-bit integer in tmp. */
static const char *
plain_int32(int32 v, char *tmp, int *len)
{
	memcpy(tmp, &v, 4);
	*len = 4;
	return tmp;
}

static const char *
plain_int64(int64 v, char *tmp, int *len)
{
	memcpy(tmp, &v, 8);
	*len = 8;
	return tmp;
}

/* PLAIN bytes of a scalar value; *tmp is scratch space of >= 16 bytes. */
static const char *
scalar_bytes(PgmapColumn *c, Datum d, char *tmp, int *len)
{
	switch (c->kind)
	{
		case K_BOOL:
			tmp[0] = DatumGetBool(d) ? 1 : 0;
			*len = 1;
			return tmp;
		case K_INT16:
			return plain_int32(DatumGetInt16(d), tmp, len);
		case K_INT32:
			return plain_int32(DatumGetInt32(d), tmp, len);
		case K_INT64:
			return plain_int64(DatumGetInt64(d), tmp, len);
		case K_FLOAT4:
			{
				float4		v = DatumGetFloat4(d);

				memcpy(tmp, &v, 4);
				*len = 4;
				return tmp;
			}
		case K_FLOAT8:
			{
				float8		v = DatumGetFloat8(d);

				memcpy(tmp, &v, 8);
				*len = 8;
				return tmp;
			}
		case K_DEC32:
			return plain_int32((int32) numeric_unscaled(c, d), tmp, len);
		case K_DEC64:
			return plain_int64((int64) numeric_unscaled(c, d), tmp, len);
		case K_DECFLBA:
			{
				__int128	v = numeric_unscaled(c, d);

				/* big-endian two's complement, type_length bytes */
				for (int i = c->type_length - 1; i >= 0; i--)
				{
					tmp[i] = (char) (v & 0xff);
					v >>= 8;
				}
				*len = c->type_length;
				return tmp;
			}
		case K_DATE:
			{
				DateADT		dt = DatumGetDateADT(d);

				if (DATE_NOT_FINITE(dt) && c->infinities)
					return plain_int32(DATE_IS_NOBEGIN(dt) ? -PG_INT32_MAX : PG_INT32_MAX, tmp, len);
				if (DATE_NOT_FINITE(dt))
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("cannot write an infinite date to Parquet column \"%s\"", c->name)));
				return plain_int32(dt + UNIX_TO_PG_DAYS, tmp, len);
			}
		case K_TIMESTAMP:
		case K_TIMESTAMPTZ:
			return plain_int64(timestamp_to_unix(c, DatumGetInt64(d)), tmp, len);
		case K_UUID:
			memcpy(tmp, DatumGetUUIDP(d)->data, UUID_LEN);
			*len = UUID_LEN;
			return tmp;
		case K_TEXT:
		case K_BYTEA:
			{
				struct varlena *vl = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));

				*len = VARSIZE_ANY_EXHDR(vl);
				return VARDATA_ANY(vl);
			}
		case K_NAME:
			{
				const char *s = NameStr(*DatumGetName(d));

				*len = strlen(s);
				return s;
			}
		case K_OUTPUT:
			{
				char	   *s = OutputFunctionCall(&c->outfn, d);

				*len = strlen(s);
				return s;
			}
		case K_HALFVEC_FLBA:
		case K_HALFVEC_BA:
			{
				HalfVector *hv = DatumGetHalfVector(d);

				if (c->kind == K_HALFVEC_FLBA && hv->dim != c->dim)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("halfvec of %d dimensions in Parquet column \"%s\" of %d dimensions",
									hv->dim, c->name, c->dim)));
				*len = hv->dim * (int) sizeof(half);
				return (const char *) hv->x;
			}
		default:
			elog(ERROR, "unexpected Parquet writer kind %d", c->kind);
	}
	return NULL;
}

/* ---------------------------------------------------------------- API ---- */

PgmapWriter *
pgmap_writer_begin(PqSink *sink, TupleDesc tupdesc, const PgmapWriterOptions *opts)
{
	PgmapWriter *w = palloc0(sizeof(PgmapWriter));
	PqWriterColumn *specs = palloc0(sizeof(PqWriterColumn) * Max(tupdesc->natts, 1));
	PqWriterOptions popts = opts->parquet;
	int			n = 0;

	w->opts = *opts;
	w->cols = palloc0(sizeof(PgmapColumn) * Max(tupdesc->natts, 1));
	if (opts->vector_layout)
	{
		ListCell   *lc;

		/* the layout's own codec and encoding, whatever a column asks */
		popts.codec = PARQUET_CODEC_UNCOMPRESSED;
		popts.dictionary = false;
		popts.columns = NIL;
		foreach(lc, opts->parquet.columns)
		{
			PqColumnOptions *co = palloc(sizeof(PqColumnOptions));

			*co = *(PqColumnOptions *) lfirst(lc);
			co->codec = -1;
			co->dictionary = -1;
			popts.columns = lappend(popts.columns, co);
		}
	}
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		PgmapColumn *c = &w->cols[n];
		PqWriterColumn *spec = &specs[n];

		if (att->attisdropped)
			continue;
		c->name = pstrdup(NameStr(att->attname));
		c->attno = i;
		map_column(c, att, &spec->elem);
		c->seen_dim = -1;
		c->infinities = opts->infinities;
		spec->name = c->name;
		spec->nullable = !att->attnotnull;
		spec->is_list = (c->kind == K_VECTOR);
		spec->field_id = i + 1;
		n++;
	}
	w->ncols = n;
	w->pw = parquet_writer_begin(sink, n, specs, &popts);
	if (opts->vector_layout)
	{
		for (int i = 0; i < n; i++)
		{
			PgmapColumn *c = &w->cols[i];

			if (c->kind != K_VECTOR && c->kind != K_HALFVEC_FLBA)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("a vector ColumnGroup holds one vector column, but column \"%s\" has type %s",
								c->name, format_type_be(TupleDescAttr(tupdesc, c->attno)->atttypid)),
						 c->kind == K_HALFVEC_BA ?
						 errhint("Declare the halfvec dimension, e.g. halfvec(768).") : 0));
		}
		if (n != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a vector ColumnGroup holds exactly one vector column, not %d columns", n)));
	}
	return w;
}

void
pgmap_writer_add_row(PgmapWriter *w, Datum *values, bool *isnull)
{
	char		tmp[32];

	for (int i = 0; i < w->ncols; i++)
	{
		PgmapColumn *c = &w->cols[i];
		Datum		d = values[c->attno];

		if (isnull[c->attno])
			parquet_writer_null(w->pw, i);
		else if (c->kind == K_VECTOR)
		{
			Vector	   *v = DatumGetVector(d);

			if (c->dim >= 0 && v->dim != c->dim)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("vector of %d dimensions in Parquet column \"%s\" of %d dimensions",
								v->dim, c->name, c->dim)));
			if (w->opts.vector_layout && c->dim < 0)
				c->dim = v->dim;
			if (c->seen_dim == -1)
				c->seen_dim = v->dim;
			else if (c->seen_dim != v->dim)
				c->seen_dim = -2;
			parquet_writer_list(w->pw, i, v->x, v->dim);
		}
		else
		{
			int			len;
			const char *bytes = scalar_bytes(c, d, tmp, &len);

			parquet_writer_value(w->pw, i, bytes, len);
		}
	}
	parquet_writer_end_row(w->pw);
}

int64
pgmap_writer_rows(PgmapWriter *w)
{
	return parquet_writer_rows(w->pw);
}

uint64
pgmap_writer_finish(PgmapWriter *w)
{
	List	   *kvs = NIL;

	kvs = layout_add_key(kvs, LAYOUT_KV_WRITER, "vlake " VLAKE_VERSION_STR);
	if (w->opts.vector_layout)
		kvs = layout_vcg_keys(kvs, w->cols[0].dim, w->opts.parquet.page_rows,
							  w->cols[0].kind == K_HALFVEC_FLBA);
	if (w->opts.first_row_id >= 0)
		kvs = layout_add_key(kvs, LAYOUT_KV_FIRST_ROW_ID,
							 psprintf(INT64_FORMAT, w->opts.first_row_id));
	/* fixed dimension of each vector column: makes it take-able (vector_cg.h) */
	for (int c = 0; c < w->ncols; c++)
	{
		PgmapColumn *col = &w->cols[c];
		int			dim = col->dim > 0 ? col->dim : col->seen_dim;

		if (col->kind != K_VECTOR || dim <= 0 || (col->seen_dim != -1 && col->seen_dim != dim))
			continue;
		kvs = layout_add_key(kvs, psprintf("%s.%s", LAYOUT_KV_VECTOR_DIM, col->name),
							 psprintf("%d", dim));
	}
	return parquet_writer_finish(w->pw, kvs);
}
