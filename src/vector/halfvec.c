/*
 * halfvec.c — the halfvec type: vectors stored as IEEE 754 binary16 (half
 * the bytes of vector), computed in float32.
 *
 * Text and binary formats are pgvector's: '[1,2,3]' in and out (the output
 * shows the exact float value of each stored half, shortest round-trip
 * form); binary is int16 dim, int16 reserved, dim uint16 half bit patterns.
 *
 * Conversion to half rounds to nearest, ties to even; values beyond the
 * largest finite half (65504) are refused with 22003 rather than stored as
 * infinity.  Tiny values become subnormal halves or zero.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "vector/distance.h"
#include "vector/half.h"
#include "vector/vector_internal.h"

HalfVector *
halfvec_new(int dim)
{
	Size		size = HALFVEC_SIZE(dim);
	HalfVector *v = (HalfVector *) palloc0(size);

	SET_VARSIZE(v, size);
	v->dim = dim;
	return v;
}

/* float -> half, or ERROR 22003 when it does not fit. */
half
vec_to_half_checked(float f)
{
	uint16_t	h;

	if (!vec_float_to_half(f, &h))
	{
		vec_check_element(f, "halfvec");	/* NaN / Infinity: say so */
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%g\" is out of range for type halfvec", f),
				 errdetail("halfvec elements must lie between -65504 and 65504.")));
	}
	return h;
}

static inline float
hf(half h)
{
	return vec_half_to_float(h);
}

/* ---------------------------------------------------------------- I/O --- */

PG_FUNCTION_INFO_V1(vlake_halfvec_in);
Datum
vlake_halfvec_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	float	   *x = vec_parse_literal(str, "halfvec", &dim);
	HalfVector *v;

	vec_check_typmod(dim, typmod, "halfvec");
	v = halfvec_new(dim);
	for (int i = 0; i < dim; i++)
		v->x[i] = vec_to_half_checked(x[i]);
	pfree(x);
	PG_RETURN_HALFVEC_P(v);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_out);
Datum
vlake_halfvec_out(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	char	   *buf = palloc((Size) v->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 3);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += vec_format_float(hf(v->x[i]), p);
	}
	*p++ = ']';
	*p = '\0';
	PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_typmod_in);
Datum
vlake_halfvec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vec_typmod_in(PG_GETARG_ARRAYTYPE_P(0), "halfvec"));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_recv);
Datum
vlake_halfvec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	int			unused;
	int			left;
	HalfVector *v;

	if (buf->len - buf->cursor < 4)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("binary halfvec value is too short"),
				 errdetail("A binary halfvec starts with a 4-byte header; %d bytes were sent.",
						   buf->len - buf->cursor)));
	dim = (int16) pq_getmsgint(buf, sizeof(int16));
	unused = (int16) pq_getmsgint(buf, sizeof(int16));
	vec_check_dim(dim, "halfvec");
	vec_check_typmod(dim, typmod, "halfvec");
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid binary halfvec: reserved field is %d, expected 0", unused)));
	left = buf->len - buf->cursor;
	if (left < dim * (int) sizeof(half))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("binary halfvec value is too short"),
				 errdetail("The header announces %d dimensions (%d bytes), but only %d bytes follow.",
						   dim, dim * (int) sizeof(half), left)));
	if (left > dim * (int) sizeof(half))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary halfvec value is too long"),
				 errdetail("The header announces %d dimensions (%d bytes), but %d bytes follow.",
						   dim, dim * (int) sizeof(half), left)));

	v = halfvec_new(dim);
	for (int i = 0; i < dim; i++)
	{
		v->x[i] = (half) pq_getmsgint(buf, sizeof(half));
		vec_check_element(hf(v->x[i]), "halfvec");
	}
	PG_RETURN_HALFVEC_P(v);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_send);
Datum
vlake_halfvec_send(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, v->unused);
	for (int i = 0; i < v->dim; i++)
		pq_sendint16(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_typmod_cast);
Datum
vlake_halfvec_typmod_cast(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	vec_check_typmod(v->dim, PG_GETARG_INT32(1), "halfvec");
	PG_RETURN_HALFVEC_P(v);
}

/* ---------------------------------------------------- vector <-> halfvec --- */

PG_FUNCTION_INFO_V1(vlake_vector_to_halfvec);
Datum
vlake_vector_to_halfvec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	HalfVector *r;

	vec_check_typmod(v->dim, PG_GETARG_INT32(1), "halfvec");
	r = halfvec_new(v->dim);
	for (int i = 0; i < v->dim; i++)
		r->x[i] = vec_to_half_checked(v->x[i]);
	PG_RETURN_HALFVEC_P(r);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_to_vector);
Datum
vlake_halfvec_to_vector(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	Vector	   *r;

	vec_check_typmod(v->dim, PG_GETARG_INT32(1), "vector");
	r = vector_new(v->dim);
	for (int i = 0; i < v->dim; i++)
		r->x[i] = hf(v->x[i]);
	PG_RETURN_VECTOR_P(r);
}

/* ---------------------------------------------------------- distances --- */

#define DECL_TWO_HALFVECS(a, b) \
	HalfVector *a = PG_GETARG_HALFVEC_P(0); \
	HalfVector *b = PG_GETARG_HALFVEC_P(1)

PG_FUNCTION_INFO_V1(vlake_halfvec_l2_distance);
Datum
vlake_halfvec_l2_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_HALFVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8(sqrt((double) vec_l2sq_f16(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_l2_squared_distance);
Datum
vlake_halfvec_l2_squared_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_HALFVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8((double) vec_l2sq_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_inner_product);
Datum
vlake_halfvec_inner_product(PG_FUNCTION_ARGS)
{
	DECL_TWO_HALFVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8((double) vec_dot_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_negative_inner_product);
Datum
vlake_halfvec_negative_inner_product(PG_FUNCTION_ARGS)
{
	DECL_TWO_HALFVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8(-(double) vec_dot_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_cosine_distance);
Datum
vlake_halfvec_cosine_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_HALFVECS(a, b);
	float		parts[3];

	vec_check_same_dim(a->dim, b->dim);
	vec_cos_f16(a->x, b->x, a->dim, parts);
	PG_RETURN_FLOAT8(vec_cosine_from_parts(parts[0], parts[1], parts[2]));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_spherical_distance);
Datum
vlake_halfvec_spherical_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_HALFVECS(a, b);
	double		dot;

	vec_check_same_dim(a->dim, b->dim);
	dot = vec_dot_f16(a->x, b->x, a->dim);
	dot = Max(-1.0, Min(1.0, dot));
	PG_RETURN_FLOAT8(acos(dot) / M_PI);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_l1_distance);
Datum
vlake_halfvec_l1_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_HALFVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8((double) vec_l1_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_vector_dims);
Datum
vlake_halfvec_vector_dims(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_HALFVEC_P(0)->dim);
}

static double
halfvec_norm_internal(const HalfVector *v)
{
	double		s = 0.0;

	for (int i = 0; i < v->dim; i++)
	{
		double		x = hf(v->x[i]);

		s += x * x;
	}
	return sqrt(s);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_l2_norm);
Datum
vlake_halfvec_l2_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(halfvec_norm_internal(PG_GETARG_HALFVEC_P(0)));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_l2_normalize);
Datum
vlake_halfvec_l2_normalize(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	double		norm = halfvec_norm_internal(v);
	HalfVector *r = halfvec_new(v->dim);

	for (int i = 0; i < v->dim; i++)
		r->x[i] = norm > 0.0 ? vec_to_half_checked((float) (hf(v->x[i]) / norm)) : v->x[i];
	PG_RETURN_HALFVEC_P(r);
}

/* --------------------------------------------------------- arithmetic --- */

typedef enum
{
	HV_ADD, HV_SUB, HV_MUL
} HalfOp;

static Datum
halfvec_arith(FunctionCallInfo fcinfo, HalfOp op)
{
	DECL_TWO_HALFVECS(a, b);
	HalfVector *r;

	vec_check_same_dim(a->dim, b->dim);
	r = halfvec_new(a->dim);
	for (int i = 0; i < a->dim; i++)
	{
		float		x = hf(a->x[i]);
		float		y = hf(b->x[i]);
		float		z = op == HV_ADD ? x + y : op == HV_SUB ? x - y : x * y;
		uint16_t	h;

		if (!vec_float_to_half(z, &h))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: overflow"),
					 errdetail("Element %d of the result (%g) does not fit in type halfvec.", i + 1, z)));
		if (op == HV_MUL && (h & 0x7fff) == 0 && x != 0.0f && y != 0.0f)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: underflow"),
					 errdetail("Element %d of the result (%g) is too small for type halfvec.", i + 1, z)));
		r->x[i] = h;
	}
	PG_RETURN_HALFVEC_P(r);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_add);
Datum
vlake_halfvec_add(PG_FUNCTION_ARGS)
{
	return halfvec_arith(fcinfo, HV_ADD);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_sub);
Datum
vlake_halfvec_sub(PG_FUNCTION_ARGS)
{
	return halfvec_arith(fcinfo, HV_SUB);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_mul);
Datum
vlake_halfvec_mul(PG_FUNCTION_ARGS)
{
	return halfvec_arith(fcinfo, HV_MUL);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_concat);
Datum
vlake_halfvec_concat(PG_FUNCTION_ARGS)
{
	DECL_TWO_HALFVECS(a, b);
	HalfVector *r;

	vec_check_dim(a->dim + b->dim, "halfvec");
	r = halfvec_new(a->dim + b->dim);
	memcpy(r->x, a->x, sizeof(half) * a->dim);
	memcpy(r->x + a->dim, b->x, sizeof(half) * b->dim);
	PG_RETURN_HALFVEC_P(r);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_subvector);
Datum
vlake_halfvec_subvector(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		end = start + (int64) PG_GETARG_INT32(2);
	HalfVector *r;

	start = Max(start, 1);
	end = Min(end, (int64) v->dim + 1);
	if (PG_GETARG_INT32(2) < 1 || end <= start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("halfvec must have at least 1 dimension"),
				 errdetail("The range asked for selects no element of the %d dimensions.", v->dim)));
	r = halfvec_new((int) (end - start));
	memcpy(r->x, v->x + (start - 1), sizeof(half) * r->dim);
	PG_RETURN_HALFVEC_P(r);
}

/* --------------------------------------------------- ordering, hashing --- */

static int
halfvec_cmp_internal(const HalfVector *a, const HalfVector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		float		x = hf(a->x[i]);
		float		y = hf(b->x[i]);

		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define HALFVEC_CMP_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int c = halfvec_cmp_internal(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)); \
	PG_RETURN_BOOL(expr); \
}

HALFVEC_CMP_FN(vlake_halfvec_lt, c < 0)
HALFVEC_CMP_FN(vlake_halfvec_le, c <= 0)
HALFVEC_CMP_FN(vlake_halfvec_eq, c == 0)
HALFVEC_CMP_FN(vlake_halfvec_ne, c != 0)
HALFVEC_CMP_FN(vlake_halfvec_ge, c >= 0)
HALFVEC_CMP_FN(vlake_halfvec_gt, c > 0)

PG_FUNCTION_INFO_V1(vlake_halfvec_cmp);
Datum
vlake_halfvec_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(halfvec_cmp_internal(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_hash);
Datum
vlake_halfvec_hash(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	uint32		h = hash_bytes_uint32((uint32) v->dim);

	for (int i = 0; i < v->dim; i++)
	{
		uint32		bits = v->x[i] == 0x8000 ? 0 : v->x[i];	/* -0 hashes as 0 */

		h = hash_combine(h, hash_bytes_uint32(bits));
	}
	PG_RETURN_UINT32(h);
}

/* --------------------------------------------------------- aggregates --- */

PG_FUNCTION_INFO_V1(vlake_halfvec_accum);
Datum
vlake_halfvec_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	HalfVector *v = PG_GETARG_HALFVEC_P(1);
	float	   *x = palloc(sizeof(float) * v->dim);
	ArrayType  *r;

	for (int i = 0; i < v->dim; i++)
		x[i] = hf(v->x[i]);
	r = vec_agg_accum(fcinfo, state, x, v->dim);
	pfree(x);
	PG_RETURN_ARRAYTYPE_P(r);
}

static Datum
halfvec_final(FunctionCallInfo fcinfo, bool average)
{
	int			dim;
	double	   *sums;
	double		count = vec_agg_state(PG_GETARG_ARRAYTYPE_P(0), &dim, &sums);
	HalfVector *r;

	if (count == 0 || dim == 0)
		PG_RETURN_NULL();
	r = halfvec_new(dim);
	for (int i = 0; i < dim; i++)
	{
		double		e = sums[i] / (average ? count : 1.0);

		if (fabs(e) > FLT_MAX)	/* the float conversion itself overflows */
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%g\" is out of range for type halfvec", e)));
		r->x[i] = vec_to_half_checked((float) e);
	}
	PG_RETURN_HALFVEC_P(r);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_avg);
Datum
vlake_halfvec_avg(PG_FUNCTION_ARGS)
{
	return halfvec_final(fcinfo, true);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_sum);
Datum
vlake_halfvec_sum(PG_FUNCTION_ARGS)
{
	return halfvec_final(fcinfo, false);
}
