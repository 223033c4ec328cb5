/*
 * pgmap_datum.c — Parquet physical values to Postgres Datums (see
 * pgmap_datum.h).
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "lake/lake_error.h"
#include "pgmap/pgmap_datum.h"
#include "vector/vector.h"

/* Unix epoch (1970-01-01) to Postgres epoch (2000-01-01). */
#define UNIX_TO_PG_DAYS		10957
#define UNIX_TO_PG_USECS	(INT64CONST(10957) * USECS_PER_DAY)
#define JULIAN_UNIX_EPOCH	2440588

static void
value_error(PqReader *r, const PqColumnDesc *col, const char *fmt,...)
pg_attribute_printf(3, 4) pg_attribute_noreturn();

/* "invalid Parquet file "<uri>": invalid value in column "<c>": <reason>" */
static void
value_error(PqReader *r, const PqColumnDesc *col, const char *fmt,...)
{
	char		reason[512];
	LakeErrorContext ctx = {"Parquet file", r->name, NULL, NULL};
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	lake_report(LAKE_CORRUPT, &ctx, "invalid value in column \"%s\": %s", col->name, reason);
}

/* ---------------------------------------------------------------- types */

static Oid
scalar_pg_type(const PqSchemaElement *e, PqType type, int32 type_length)
{
	const PqLogicalType *lt = &e->logical_type;
	int			ct = e->has_converted_type ? (int) e->converted_type : -1;

	if (lt->kind == PARQUET_LT_DECIMAL || ct == PARQUET_CT_DECIMAL)
	{
		if (type == PARQUET_INT32 || type == PARQUET_INT64 || type == PARQUET_BYTE_ARRAY ||
			type == PARQUET_FIXED_LEN_BYTE_ARRAY)
			return NUMERICOID;
	}
	switch (type)
	{
		case PARQUET_BOOLEAN:
			return BOOLOID;
		case PARQUET_INT32:
			if (lt->kind == PARQUET_LT_DATE || ct == PARQUET_CT_DATE)
				return DATEOID;
			if (lt->kind == PARQUET_LT_TIME || ct == PARQUET_CT_TIME_MILLIS)
				return TIMEOID;
			if (lt->kind == PARQUET_LT_INTEGER)
			{
				if (!lt->is_signed)
					return lt->bit_width == 32 ? INT8OID : INT4OID;
				return lt->bit_width <= 16 ? INT2OID : INT4OID;
			}
			if (ct == PARQUET_CT_INT_8 || ct == PARQUET_CT_INT_16)
				return INT2OID;
			if (ct == PARQUET_CT_UINT_32)
				return INT8OID;
			return INT4OID;
		case PARQUET_INT64:
			if (lt->kind == PARQUET_LT_TIMESTAMP)
				return lt->is_adjusted_to_utc ? TIMESTAMPTZOID : TIMESTAMPOID;
			if (ct == PARQUET_CT_TIMESTAMP_MILLIS || ct == PARQUET_CT_TIMESTAMP_MICROS)
				return TIMESTAMPTZOID;
			if (lt->kind == PARQUET_LT_TIME || ct == PARQUET_CT_TIME_MICROS)
				return TIMEOID;
			if ((lt->kind == PARQUET_LT_INTEGER && !lt->is_signed) || ct == PARQUET_CT_UINT_64)
				return NUMERICOID;
			return INT8OID;
		case PARQUET_INT96:
			return TIMESTAMPOID;
		case PARQUET_FLOAT:
			return FLOAT4OID;
		case PARQUET_DOUBLE:
			return FLOAT8OID;
		case PARQUET_BYTE_ARRAY:
			if (lt->kind == PARQUET_LT_STRING || lt->kind == PARQUET_LT_ENUM ||
				ct == PARQUET_CT_UTF8 || ct == PARQUET_CT_ENUM)
				return TEXTOID;
			if (lt->kind == PARQUET_LT_JSON || ct == PARQUET_CT_JSON)
				return JSONOID;
			return BYTEAOID;
		case PARQUET_FIXED_LEN_BYTE_ARRAY:
			if (lt->kind == PARQUET_LT_UUID && type_length == 16)
				return UUIDOID;
			if (lt->kind == PARQUET_LT_FLOAT16 && type_length == 2)
				return FLOAT4OID;
			return BYTEAOID;
	}
	return InvalidOid;
}

static bool
is_float16(const PqColumnDesc *col)
{
	return col->type == PARQUET_FIXED_LEN_BYTE_ARRAY && col->type_length == 2 &&
		col->leaf_elem->logical_type.kind == PARQUET_LT_FLOAT16;
}

Oid
pgmap_column_pg_type(const PqColumnDesc *col)
{
	Oid			elem;

	if (col->unsupported)
		return InvalidOid;
	elem = scalar_pg_type(col->leaf_elem, col->type, col->type_length);
	if (!col->is_list)
		return elem;
	if (col->type == PARQUET_FLOAT && OidIsValid(vector_type_oid()))
		return vector_type_oid();
	if (is_float16(col) && OidIsValid(halfvec_type_oid()))
		return halfvec_type_oid();
	return OidIsValid(elem) ? get_array_type(elem) : InvalidOid;
}

Oid
pgmap_column_safe_type(const PqColumnDesc *col)
{
	Oid			elem;

	if (!col->is_list || col->unsupported)
		return pgmap_column_pg_type(col);
	elem = scalar_pg_type(col->leaf_elem, col->type, col->type_length);
	return OidIsValid(elem) ? get_array_type(elem) : InvalidOid;
}

bool
pgmap_target_ok(const PqColumnDesc *col, Oid target)
{
	Oid			def = pgmap_column_pg_type(col);

	if (!OidIsValid(def))
		return false;
	if (target == def || target == TEXTOID || target == pgmap_column_safe_type(col))
		return true;
	if (col->is_list && (col->type == PARQUET_FLOAT || is_float16(col)))
		return target == FLOAT4ARRAYOID ||
			(target == vector_type_oid() && OidIsValid(target)) ||
			(is_float16(col) && target == halfvec_type_oid() && OidIsValid(target));
	/* raw binary (vlake writes halfvec as fp16 bytes): halfvec or vector */
	if (!col->is_list && def == BYTEAOID)
	{
		int			w = col->type == PARQUET_FIXED_LEN_BYTE_ARRAY ? col->type_length : 0;

		if (target == halfvec_type_oid() && OidIsValid(target) && w % 2 == 0)
			return true;
		if (target == vector_type_oid() && OidIsValid(target) && w % 4 == 0)
			return true;
	}
	if (def == JSONOID && target == JSONBOID)
		return true;
	return false;
}

/* ------------------------------------------------------------- helpers */

static Oid
type_output_fn(Oid typ)
{
	Oid			fn;
	bool		isvarlena;

	getTypeOutputInfo(typ, &fn, &isvarlena);
	return fn;
}

static float
half_to_float(uint16 h)
{
	uint32		sign = (uint32) (h >> 15) << 31;
	uint32		exp = (h >> 10) & 0x1f;
	uint32		mant = h & 0x3ff;
	uint32		bits;
	float		f;

	if (exp == 0)
	{
		/* zero or subnormal: mant * 2^-24 */
		f = ldexpf((float) mant, -24);
		return sign ? -f : f;
	}
	if (exp == 31)
		bits = sign | 0x7f800000 | (mant << 13);	/* inf / nan */
	else
		bits = sign | ((exp + 112) << 23) | (mant << 13);
	memcpy(&f, &bits, 4);
	return f;
}

/* Big-endian two's complement integer of n bytes, as a decimal string
 * with scale digits after the point. */
static char *
decimal_string(PqReader *r, const PqColumnDesc *col, const uint8 *be, int n, int scale)
{
	uint8		mag[128];
	bool		neg;
	uint32		limbs[40];
	int			nlimbs = 0;
	char		digits[400];
	int			nd = 0;
	StringInfoData s;

	if (n <= 0)
		value_error(r, col, "empty decimal value");
	if (n > (int) sizeof(mag))
		value_error(r, col, "decimal value of %d bytes is too long", n);
	neg = (be[0] & 0x80) != 0;
	memcpy(mag, be, n);
	if (neg)
	{
		/* two's complement negate */
		int			carry = 1;

		for (int i = n - 1; i >= 0; i--)
		{
			int			v = (uint8) ~mag[i] + carry;

			mag[i] = (uint8) v;
			carry = v >> 8;
		}
	}
	/* repeated division by 10^9 */
	for (;;)
	{
		uint64		rem = 0;
		bool		zero = true;

		for (int i = 0; i < n; i++)
		{
			uint64		cur = (rem << 8) | mag[i];

			mag[i] = (uint8) (cur / 1000000000);
			rem = cur % 1000000000;
			if (mag[i])
				zero = false;
		}
		limbs[nlimbs++] = (uint32) rem;
		if (zero || nlimbs == lengthof(limbs))
			break;
	}
	for (int i = nlimbs - 1; i >= 0; i--)
		nd += snprintf(digits + nd, sizeof(digits) - nd, i == nlimbs - 1 ? "%u" : "%09u", limbs[i]);
	initStringInfo(&s);
	if (neg)
		appendStringInfoChar(&s, '-');
	if (scale <= 0)
	{
		appendStringInfoString(&s, digits);
		for (int i = 0; i < -scale; i++)
			appendStringInfoChar(&s, '0');
	}
	else if (nd <= scale)
	{
		appendStringInfoString(&s, "0.");
		for (int i = 0; i < scale - nd; i++)
			appendStringInfoChar(&s, '0');
		appendStringInfoString(&s, digits);
	}
	else
	{
		appendBinaryStringInfo(&s, digits, nd - scale);
		appendStringInfoChar(&s, '.');
		appendStringInfoString(&s, digits + nd - scale);
	}
	return s.data;
}

static int
decimal_scale(const PqColumnDesc *col)
{
	const PqSchemaElement *e = col->leaf_elem;

	if (e->logical_type.kind == PARQUET_LT_DECIMAL)
		return e->logical_type.scale;
	return e->has_scale ? e->scale : 0;
}

static Datum
numeric_from_string(char *s)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(s), ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
}

static Datum
timestamp_from_units(PqReader *r, const PqColumnDesc *col, int64 v, PqTimeUnit unit)
{
	int64		us;

	/* DuckDB's infinities (pgmap_writer.h: PgmapWriterOptions.infinities) */
	if (v == PG_INT64_MAX || v == -PG_INT64_MAX)
	{
		Timestamp	t;

		if (v > 0)
			TIMESTAMP_NOEND(t);
		else
			TIMESTAMP_NOBEGIN(t);
		return TimestampGetDatum(t);
	}
	switch (unit)
	{
		case PARQUET_UNIT_MILLIS:
			if (pg_mul_s64_overflow(v, 1000, &us))
				value_error(r, col, "timestamp %lld ms out of range", (long long) v);
			break;
		case PARQUET_UNIT_NANOS:
			us = v / 1000 - ((v % 1000) < 0 ? 1 : 0);
			break;
		default:
			us = v;
	}
	if (pg_sub_s64_overflow(us, UNIX_TO_PG_USECS, &us) || !IS_VALID_TIMESTAMP(us))
		value_error(r, col, "timestamp out of range");
	return Int64GetDatum(us);
}

static PqTimeUnit
timestamp_unit(const PqColumnDesc *col)
{
	const PqSchemaElement *e = col->leaf_elem;

	if (e->logical_type.kind == PARQUET_LT_TIMESTAMP || e->logical_type.kind == PARQUET_LT_TIME)
		return e->logical_type.unit;
	if (e->has_converted_type &&
		(e->converted_type == PARQUET_CT_TIMESTAMP_MILLIS || e->converted_type == PARQUET_CT_TIME_MILLIS))
		return PARQUET_UNIT_MILLIS;
	return PARQUET_UNIT_MICROS;
}

/* One scalar value (slot i of v) as a Datum of the element/scalar type. */
static Datum
scalar_datum(PqReader *r, const PqColumnDesc *col, const PqColumnVector *v, int64 i, Oid typ)
{
	const uint8 *p = v->fixed ? v->fixed + (size_t) i * v->width : NULL;
	const PqBytes *b = v->bin ? &v->bin[i] : NULL;

	switch (col->type)
	{
		case PARQUET_BOOLEAN:
			return BoolGetDatum(p[0] != 0);
		case PARQUET_INT32:
			{
				int32		x;

				memcpy(&x, p, 4);
				switch (typ)
				{
					case INT2OID:
						if (x < PG_INT16_MIN || x > PG_INT16_MAX)
							value_error(r, col, "%d out of range for a 16-bit integer", x);
						return Int16GetDatum((int16) x);
					case INT8OID:
						return Int64GetDatum((int64) (uint32) x);
					case INT4OID:
						if (col->leaf_elem->logical_type.kind == PARQUET_LT_INTEGER &&
							!col->leaf_elem->logical_type.is_signed)
							return Int32GetDatum((int32) (col->leaf_elem->logical_type.bit_width == 8 ? (uint8) x : (uint16) x));
						if (col->leaf_elem->has_converted_type &&
							(col->leaf_elem->converted_type == PARQUET_CT_UINT_8 ||
							 col->leaf_elem->converted_type == PARQUET_CT_UINT_16))
							return Int32GetDatum((int32) (col->leaf_elem->converted_type == PARQUET_CT_UINT_8 ? (uint8) x : (uint16) x));
						return Int32GetDatum(x);
					case DATEOID:
						if (x == PG_INT32_MAX || x == -PG_INT32_MAX)
						{
							/* DuckDB's infinities, as timestamp_from_units */
							DateADT		dt;

							if (x > 0)
								DATE_NOEND(dt);
							else
								DATE_NOBEGIN(dt);
							return DateADTGetDatum(dt);
						}
						if (x < (int32) (DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE + UNIX_TO_PG_DAYS) ||
							x > (int32) (DATE_END_JULIAN - POSTGRES_EPOCH_JDATE + UNIX_TO_PG_DAYS - 1))
							value_error(r, col, "date %d days from 1970-01-01 out of range", x);
						return DateADTGetDatum((DateADT) (x - UNIX_TO_PG_DAYS));
					case TIMEOID:
						if (x < 0 || (int64) x * 1000 > USECS_PER_DAY)
							value_error(r, col, "time of day %d ms out of range", x);
						return TimeADTGetDatum((TimeADT) x * 1000);
					case NUMERICOID:
						return numeric_from_string(decimal_string(r, col, (uint8[]) {
							(uint8) (x >> 24), (uint8) (x >> 16), (uint8) (x >> 8), (uint8) x}, 4,
																	decimal_scale(col)));
				}
				break;
			}
		case PARQUET_INT64:
			{
				int64		x;

				memcpy(&x, p, 8);
				switch (typ)
				{
					case INT8OID:
						return Int64GetDatum(x);
					case TIMESTAMPOID:
					case TIMESTAMPTZOID:
						return timestamp_from_units(r, col, x, timestamp_unit(col));
					case TIMEOID:
						{
							PqTimeUnit u = timestamp_unit(col);
							int64		us = (u == PARQUET_UNIT_NANOS) ? x / 1000 : x;

							if (us < 0 || us > USECS_PER_DAY)
								value_error(r, col, "time of day out of range");
							return TimeADTGetDatum(us);
						}
					case NUMERICOID:
						{
							uint8		be[9];

							if (col->leaf_elem->logical_type.kind == PARQUET_LT_DECIMAL ||
								(col->leaf_elem->has_converted_type && col->leaf_elem->converted_type == PARQUET_CT_DECIMAL))
							{
								for (int k = 0; k < 8; k++)
									be[k] = (uint8) (x >> (56 - 8 * k));
								return numeric_from_string(decimal_string(r, col, be, 8, decimal_scale(col)));
							}
							/* unsigned 64-bit */
							be[0] = 0;
							for (int k = 0; k < 8; k++)
								be[k + 1] = (uint8) (x >> (56 - 8 * k));
							return numeric_from_string(decimal_string(r, col, be, 9, 0));
						}
				}
				break;
			}
		case PARQUET_INT96:
			{
				int64		nanos;
				int32		jday;
				int64		us;

				memcpy(&nanos, p, 8);
				memcpy(&jday, p + 8, 4);
				if (nanos < 0 || nanos >= INT64CONST(86400000000000) ||
					jday < 0 || jday > 5373484)
					value_error(r, col, "INT96 timestamp out of range");
				us = ((int64) jday - JULIAN_UNIX_EPOCH) * USECS_PER_DAY + nanos / 1000 - UNIX_TO_PG_USECS;
				if (!IS_VALID_TIMESTAMP(us))
					value_error(r, col, "INT96 timestamp out of range");
				return TimestampGetDatum(us);
			}
		case PARQUET_FLOAT:
			{
				float		f;

				memcpy(&f, p, 4);
				return Float4GetDatum(f);
			}
		case PARQUET_DOUBLE:
			{
				double		d;

				memcpy(&d, p, 8);
				return Float8GetDatum(d);
			}
		case PARQUET_BYTE_ARRAY:
		case PARQUET_FIXED_LEN_BYTE_ARRAY:
			switch (typ)
			{
				case TEXTOID:
				case JSONOID:
					{
						char	   *s;

						if (!pg_verify_mbstr(PG_UTF8, (const char *) b->data, b->len, true))
							value_error(r, col, "string is not valid UTF-8");
						s = pg_any_to_server((const char *) b->data, b->len, PG_UTF8);
						if (s == (char *) b->data)
							s = pnstrdup(s, b->len);
						if (typ == JSONOID)
							return DirectFunctionCall1(json_in, CStringGetDatum(s));	/* validates */
						return PointerGetDatum(cstring_to_text(s));
					}
				case NUMERICOID:
					return numeric_from_string(decimal_string(r, col, b->data, b->len,
															  decimal_scale(col)));
				case UUIDOID:
					{
						pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

						memcpy(u->data, b->data, UUID_LEN);
						return UUIDPGetDatum(u);
					}
				case FLOAT4OID:
					{
						uint16		h = (uint16) (b->data[0] | (b->data[1] << 8));

						return Float4GetDatum(half_to_float(h));
					}
				case BYTEAOID:
					{
						bytea	   *out = palloc(VARHDRSZ + b->len);

						SET_VARSIZE(out, VARHDRSZ + b->len);
						memcpy(VARDATA(out), b->data, b->len);
						return PointerGetDatum(out);
					}
			}
			break;
	}
	elog(ERROR, "parquet: no conversion of %s to type %u", parquet_type_name(col->type), typ);
	pg_unreachable();
}

static Datum
list_as_vector(PqReader *r, const PqColumnDesc *col, const PqColumnVector *v, int64 k, bool as_half)
{
	int64		from = v->offsets[k],
				to = v->offsets[k + 1];
	int64		dim = to - from;

	if (dim < 1 || dim > VECTOR_MAX_DIM)
		value_error(r, col, "list of %lld elements cannot be a %s (1 to %d dimensions)",
					(long long) dim, as_half ? "halfvec" : "vector", VECTOR_MAX_DIM);
	if (memchr(v->elem_null + from, true, dim) != NULL)
		value_error(r, col, "list with a null element cannot be a %s", as_half ? "halfvec" : "vector");
	if (!as_half)
	{
		Vector	   *vec = palloc(VECTOR_SIZE(dim));
		const uint32 *bits = (const uint32 *) vec->x;
		uint32		special = 0;

		SET_VARSIZE(vec, VECTOR_SIZE(dim));
		vec->dim = (int16) dim;
		vec->unused = 0;
		if (col->type == PARQUET_FLOAT)
			memcpy(vec->x, v->fixed + (size_t) from * 4, sizeof(float) * dim);
		else
			for (int64 e = 0; e < dim; e++)
				vec->x[e] = half_to_float((uint16) (v->bin[from + e].data[0] | (v->bin[from + e].data[1] << 8)));
		/* NaN and infinity have every exponent bit set: one branch-free pass
		 * (the re-rank of a vlake index converts every candidate here) */
		for (int64 e = 0; e < dim; e++)
			special |= (uint32) ((bits[e] & 0x7f800000) == 0x7f800000);
		if (special)
			value_error(r, col, "NaN or infinity cannot be stored in a vector");
		return PointerGetDatum(vec);
	}
	else
	{
		HalfVector *hv = palloc0(HALFVEC_SIZE(dim));

		SET_VARSIZE(hv, HALFVEC_SIZE(dim));
		hv->dim = (int16) dim;
		for (int64 e = 0; e < dim; e++)
		{
			if (col->type == PARQUET_FLOAT)
				value_error(r, col, "list<float> to halfvec is not supported; read it as vector");
			hv->x[e] = (half) (v->bin[from + e].data[0] | (v->bin[from + e].data[1] << 8));
		}
		return PointerGetDatum(hv);
	}
}

static Datum
fixed_as_vector(PqReader *r, const PqColumnDesc *col, const PqBytes *b, bool as_half)
{
	int			dim = as_half ? b->len / 2 : b->len / 4;

	if (dim < 1 || dim > VECTOR_MAX_DIM || b->len % (as_half ? 2 : 4) != 0)
		value_error(r, col, "value of %d bytes cannot be a %s", b->len, as_half ? "halfvec" : "vector");
	if (as_half)
	{
		HalfVector *hv = palloc0(HALFVEC_SIZE(dim));

		SET_VARSIZE(hv, HALFVEC_SIZE(dim));
		hv->dim = dim;
		memcpy(hv->x, b->data, 2 * dim);
		return PointerGetDatum(hv);
	}
	else
	{
		Vector	   *vec = palloc0(VECTOR_SIZE(dim));

		SET_VARSIZE(vec, VECTOR_SIZE(dim));
		vec->dim = dim;
		memcpy(vec->x, b->data, 4 * dim);
		for (int e = 0; e < dim; e++)
			if (isnan(vec->x[e]) || isinf(vec->x[e]))
				value_error(r, col, "NaN or infinity cannot be stored in a vector");
		return PointerGetDatum(vec);
	}
}

/*
 * Whether a list's physical values, as stored, are the elements of an array
 * of elemtype (same width, same representation, no conversion or check).
 */
static bool
list_copies_as_is(const PqColumnDesc *col, Oid elemtype)
{
	const PqSchemaElement *e = col->leaf_elem;
	bool		narrow_unsigned =
		(e->logical_type.kind == PARQUET_LT_INTEGER && !e->logical_type.is_signed) ||
		(e->has_converted_type &&
		 (e->converted_type == PARQUET_CT_UINT_8 || e->converted_type == PARQUET_CT_UINT_16));

	switch (col->type)
	{
		case PARQUET_FLOAT:
			return elemtype == FLOAT4OID;
		case PARQUET_DOUBLE:
			return elemtype == FLOAT8OID;
		case PARQUET_INT32:
			/* scalar_datum widens unsigned 8/16-bit values */
			return elemtype == INT4OID && !narrow_unsigned;
		case PARQUET_INT64:
			return elemtype == INT8OID;
		default:
			return false;
	}
}

static Datum
list_as_array(PqReader *r, const PqColumnDesc *col, const PqColumnVector *v, int64 k, Oid elemtype)
{
	int64		from = v->offsets[k],
				to = v->offsets[k + 1];
	int			n = (int) (to - from);
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (to - from > MaxArraySize)
		value_error(r, col, "list too long");
	if (n > 0 && list_copies_as_is(col, elemtype) &&
		memchr(v->elem_null + from, true, n) == NULL)
	{
		/* the physical values are the array's elements: one copy */
		ArrayType  *a = construct_empty_array(elemtype);
		Size		bytes = (Size) n * v->width;

		a = repalloc(a, ARR_OVERHEAD_NONULLS(1) + bytes);
		SET_VARSIZE(a, ARR_OVERHEAD_NONULLS(1) + bytes);
		a->ndim = 1;
		a->dataoffset = 0;
		*ARR_DIMS(a) = n;
		*ARR_LBOUND(a) = 1;
		memcpy(ARR_DATA_PTR(a), v->fixed + (size_t) from * v->width, bytes);
		return PointerGetDatum(a);
	}
	for (int e = 0; e < n; e++)
	{
		nulls[e] = v->elem_null[from + e];
		d[e] = nulls[e] ? (Datum) 0 : scalar_datum(r, col, v, from + e, elemtype);
	}
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(d, nulls, 1, dims, lbs, elemtype,
											  typlen, typbyval, typalign));
}

Datum
pgmap_vector_datum(PqReader *r, const PqColumnDesc *col, const PqColumnVector *v, int64 k,
				Oid target, bool *isnull)
{
	Oid			def = pgmap_column_pg_type(col);
	Datum		d;

	*isnull = v->row_null[k];
	if (*isnull)
		return (Datum) 0;
	if (col->is_list)
	{
		Oid			vec = vector_type_oid();
		Oid			hvec = halfvec_type_oid();
		Oid			want = (target == TEXTOID) ? def : target;

		if (OidIsValid(vec) && want == vec)
			d = list_as_vector(r, col, v, k, false);
		else if (OidIsValid(hvec) && want == hvec)
			d = list_as_vector(r, col, v, k, true);
		else
			d = list_as_array(r, col, v, k,
							  scalar_pg_type(col->leaf_elem, col->type, col->type_length));
		if (target == TEXTOID)
			d = PointerGetDatum(cstring_to_text(OidOutputFunctionCall(
				type_output_fn(want), d)));
		return d;
	}
	if (def == BYTEAOID && target != def && target != TEXTOID)
		return fixed_as_vector(r, col, &v->bin[k], target == halfvec_type_oid());
	d = scalar_datum(r, col, v, k, def);
	if (target == def)
		return d;
	if (target == JSONBOID)
		return DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(DatumGetTextPP(d))));
	/* text */
	return PointerGetDatum(cstring_to_text(OidOutputFunctionCall(type_output_fn(def), d)));
}

/* ------------------------------------------------------- stats as text */

char *
pgmap_physical_to_text(PqReader *r, const PqColumnDesc *col, const PqBytes *b)
{
	PqColumnVector v = {0};
	bool		isnull[1] = {false};
	PqColumnDesc flat = *col;
	Oid			typ;
	int			width;

	flat.is_list = false;
	typ = pgmap_column_pg_type(&flat);
	if (!OidIsValid(typ))
		return NULL;
	width = col->type == PARQUET_BOOLEAN ? 1 : col->type == PARQUET_INT32 || col->type == PARQUET_FLOAT ? 4 :
		col->type == PARQUET_INT64 || col->type == PARQUET_DOUBLE ? 8 : col->type == PARQUET_INT96 ? 12 : 0;
	v.nrows = 1;
	v.row_null = isnull;
	v.width = width;
	if (width > 0)
	{
		if (b->len != width)
			return NULL;
		v.fixed = b->data;
	}
	else
	{
		if (col->type == PARQUET_FIXED_LEN_BYTE_ARRAY && b->len != col->type_length)
			return NULL;
		v.bin = (PqBytes *) b;
	}
	/* stats of a string column may be truncated mid-character */
	if (typ == TEXTOID && !pg_verify_mbstr(PG_UTF8, (const char *) b->data, b->len, true))
		return NULL;
	return OidOutputFunctionCall(type_output_fn(typ),
								 scalar_datum(r, &flat, &v, 0, typ));
}

/* ------------------------------------------------------ text to physical */

PqBytes
pgmap_text_to_physical(PqReader *r, const PqColumnDesc *col, const char *s)
{
	PqBytes		out;
	Oid			typ = pgmap_column_pg_type(col);

	if (col->is_list)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot filter on list column \"%s\"", col->name)));
	switch (col->type)
	{
		case PARQUET_INT32:
			{
				int32		x;

				if (typ == DATEOID)
				{
					DateADT		d = DatumGetDateADT(DirectFunctionCall1(date_in, CStringGetDatum(s)));

					if (DATE_NOT_FINITE(d))
						ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
										errmsg("filter bound must be a finite date")));
					x = d + UNIX_TO_PG_DAYS;
				}
				else if (typ == INT2OID || typ == INT4OID)
					x = DatumGetInt32(DirectFunctionCall1(int4in, CStringGetDatum(s)));
				else
					break;
				out.len = 4;
				out.data = palloc(4);
				memcpy(out.data, &x, 4);
				return out;
			}
		case PARQUET_INT64:
			{
				int64		x;

				if (typ == TIMESTAMPOID || typ == TIMESTAMPTZOID)
				{
					Timestamp	t = DatumGetTimestamp(DirectFunctionCall3(typ == TIMESTAMPOID ? timestamp_in : timestamptz_in,
																		  CStringGetDatum(s), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
					PqTimeUnit	u = timestamp_unit(col);

					if (TIMESTAMP_NOT_FINITE(t))
						ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
										errmsg("filter bound must be a finite timestamp")));
					x = t + UNIX_TO_PG_USECS;
					if (u == PARQUET_UNIT_MILLIS)
						x = x / 1000;
					else if (u == PARQUET_UNIT_NANOS)
						x = x * 1000;
				}
				else if (typ == INT8OID)
					x = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(s)));
				else
					break;
				out.len = 8;
				out.data = palloc(8);
				memcpy(out.data, &x, 8);
				return out;
			}
		case PARQUET_FLOAT:
			{
				float		f = DatumGetFloat4(DirectFunctionCall1(float4in, CStringGetDatum(s)));

				out.len = 4;
				out.data = palloc(4);
				memcpy(out.data, &f, 4);
				return out;
			}
		case PARQUET_DOUBLE:
			{
				double		f = DatumGetFloat8(DirectFunctionCall1(float8in, CStringGetDatum(s)));

				out.len = 8;
				out.data = palloc(8);
				memcpy(out.data, &f, 8);
				return out;
			}
		case PARQUET_BYTE_ARRAY:
			if (typ != TEXTOID)
				break;
			out.len = strlen(s);
			out.data = (uint8 *) pstrdup(s);
			return out;
		default:
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot filter on column \"%s\" of type %s", col->name, format_type_be(typ))));
	pg_unreachable();
}

bool
pgmap_vector_matches(const PqColumnDesc *col, const PqPredicate *p, const PqColumnVector *v, int64 k)
{
	PqBytes		val;

	if (v->row_null[k])
		return false;
	if (v->fixed)
	{
		val.data = v->fixed + (size_t) k * v->width;
		val.len = v->width;
	}
	else
		val = v->bin[k];
	/* a single value is its own min and max */
	return parquet_stats_may_match(col, p, &val, &val);
}
