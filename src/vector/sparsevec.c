/*
 * sparsevec.c — the sparsevec type: vectors of up to 1,000,000,000
 * dimensions that store only their non-zero elements (at most 16,000).
 *
 * Text format (pgvector's): '{1:0.5,7:1.2}/30000' — 1-based index:value
 * pairs, then the dimension count.  Input accepts the pairs in any order
 * (they are sorted), drops zero pairs (without checking their indices, as
 * pgvector does) and refuses duplicate indices.
 * Output lists the pairs by increasing index, values printed as vector
 * prints its elements (shortest text that reads back to the same float).
 *
 * Binary format (pgvector's): int32 dim, int32 nnz, int32 reserved (0),
 * nnz int32 indices (0-based, strictly increasing), nnz float4 values
 * (finite, non-zero), all big-endian.  The stored layout is the same
 * (vector.h), so a value is canonical: equal vectors have equal bytes.
 *
 * Distances walk both index lists in one merge and add the terms, in
 * increasing index order, into a single float accumulator: the order
 * pgvector's source states, so the results equal a pgvector built without
 * reassociating float sums to the last bit (docs/vector.md).
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>

#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "vector/half.h"
#include "vector/vector_internal.h"

SparseVector *
sparsevec_new(int dim, int nnz)
{
	Size		size = SPARSEVEC_SIZE(nnz);
	SparseVector *v = (SparseVector *) palloc0(size);

	SET_VARSIZE(v, size);
	v->dim = dim;
	v->nnz = nnz;
	return v;
}

/* ------------------------------------------------------- validation --- */

static void
sparse_check_dim(int64 dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sparsevec must have at least 1 dimension")));
	if (dim > SPARSEVEC_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sparsevec cannot have more than %d dimensions", SPARSEVEC_MAX_DIM)));
}

static void
sparse_check_nnz(int64 nnz)
{
	if (nnz > SPARSEVEC_MAX_NNZ)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sparsevec cannot have more than %d non-zero elements", SPARSEVEC_MAX_NNZ),
				 errdetail("The value has " INT64_FORMAT " non-zero elements.", nnz)));
}

/* ------------------------------------------------------ text parsing --- */

static void
sparse_syntax_error(const char *str, const char *p, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type sparsevec: \"%s\"",
					vec_literal_for_message(str)),
			 errdetail("%s at character %d.", what, (int) (p - str) + 1),
			 errhint("A sparsevec literal looks like '{1:0.5,7:1.2}/10': 1-based index:value pairs, then the number of dimensions.")));
}

static inline const char *
sparse_skip_space(const char *p)
{
	while (isspace((unsigned char) *p))
		p++;
	return p;
}

/*
 * A decimal integer at p (optional sign), saturated to the int64 range so
 * that absurd values are reported as out of bounds, not as syntax errors.
 * False when no digits start at p.
 */
static bool
sparse_parse_int(const char *p, char **end, int64 *out)
{
	long long	v;

	/* strtoll would skip leading blanks: the caller already did */
	if (!(isdigit((unsigned char) *p) ||
		  ((*p == '-' || *p == '+') && isdigit((unsigned char) p[1]))))
		return false;
	errno = 0;
	v = strtoll(p, end, 10);
	*out = (int64) v;			/* on ERANGE strtoll saturates */
	return true;
}

typedef struct SparseEntry
{
	int64		index;			/* 1-based, as written */
	float		value;
} SparseEntry;

static int
sparse_entry_cmp(const void *a, const void *b)
{
	int64		ia = ((const SparseEntry *) a)->index;
	int64		ib = ((const SparseEntry *) b)->index;

	return (ia > ib) - (ia < ib);
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_in);
Datum
vlake_sparsevec_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	const char *p = sparse_skip_space(str);
	SparseEntry *e;
	int			n = 0;
	int			cap = 16;
	int64		dim;
	char	   *end;
	SparseVector *v;
	float	   *vx;

	if (*p != '{')
		sparse_syntax_error(str, p, "Expected \"{\"");
	p = sparse_skip_space(p + 1);

	e = palloc(sizeof(SparseEntry) * cap);
	if (*p == '}')
		p++;
	else
	{
		for (;;)
		{
			int64		index;
			float		value;

			p = sparse_skip_space(p);
			if (!sparse_parse_int(p, &end, &index))
				sparse_syntax_error(str, p, "Expected an index");
			p = sparse_skip_space(end);
			if (*p != ':')
				sparse_syntax_error(str, p, "Expected \":\"");
			p = sparse_skip_space(p + 1);
			if (!vec_parse_element(p, &end, "sparsevec", &value))
				sparse_syntax_error(str, p, "Expected a number");

			/*
			 * A zero pair is read and then forgotten: like pgvector, its
			 * index is neither range- nor duplicate-checked, so every
			 * literal pgvector accepts loads here.
			 */
			if (value != 0.0f)
			{
				sparse_check_nnz(n + 1);
				if (n == cap)
				{
					cap *= 2;	/* at most SPARSEVEC_MAX_NNZ entries */
					e = repalloc(e, sizeof(SparseEntry) * cap);
				}
				e[n].index = index;
				e[n].value = value;
				n++;
			}

			p = sparse_skip_space(end);
			if (*p == ',')
			{
				p++;
				continue;
			}
			if (*p == '}')
			{
				p++;
				break;
			}
			if (*p == '\0')
				sparse_syntax_error(str, p, "Missing \"}\"");
			sparse_syntax_error(str, p, "Expected \",\" or \"}\"");
		}
	}

	p = sparse_skip_space(p);
	if (*p != '/')
		sparse_syntax_error(str, p, "Expected \"/\" and the number of dimensions");
	p = sparse_skip_space(p + 1);
	if (!sparse_parse_int(p, &end, &dim))
		sparse_syntax_error(str, p, "Expected the number of dimensions");
	p = sparse_skip_space(end);
	if (*p != '\0')
		sparse_syntax_error(str, p, "Unexpected text after the number of dimensions");

	sparse_check_dim(dim);
	vec_check_typmod((int) dim, typmod, "sparsevec");

	for (int i = 0; i < n; i++)
		if (e[i].index < 1 || e[i].index > dim)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sparsevec index " INT64_FORMAT " is out of bounds", e[i].index),
					 errdetail("Indices run from 1 to the number of dimensions, " INT64_FORMAT ".", dim)));

	/* pairs may come in any order; a repeated index is ambiguous */
	qsort(e, n, sizeof(SparseEntry), sparse_entry_cmp);
	for (int i = 1; i < n; i++)
		if (e[i].index == e[i - 1].index)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sparsevec indices must not contain duplicates"),
					 errdetail("Index " INT64_FORMAT " appears more than once.", e[i].index)));

	v = sparsevec_new((int) dim, n);
	vx = SPARSEVEC_VALUES(v);
	for (int i = 0; i < n; i++)
	{
		v->indices[i] = (int32) (e[i].index - 1);
		vx[i] = e[i].value;
	}
	pfree(e);
	PG_RETURN_SPARSEVEC_P(v);
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_out);
Datum
vlake_sparsevec_out(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *vx = SPARSEVEC_VALUES(v);
	/* per pair: 10 digits, ':', a float, ','; then "{}/" and 10 digits */
	char	   *buf = palloc((Size) v->nnz * (10 + 1 + FLOAT_SHORTEST_DECIMAL_LEN + 1) + 16);
	char	   *p = buf;

	*p++ = '{';
	for (int i = 0; i < v->nnz; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += sprintf(p, "%d:", v->indices[i] + 1);
		p += vec_format_float(vx[i], p);
	}
	p += sprintf(p, "}/%d", v->dim);
	PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_typmod_in);
Datum
vlake_sparsevec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vec_typmod_in_max(PG_GETARG_ARRAYTYPE_P(0), "sparsevec",
									  SPARSEVEC_MAX_DIM));
}

/*
 * Binary input.  Checks everything text input guarantees, since stored
 * values are trusted by the distance code: dimension and count in range,
 * indices in range and strictly increasing, values finite and non-zero,
 * and exactly 8 * nnz bytes after the header (fewer: 08P01, more: 22P03).
 */
PG_FUNCTION_INFO_V1(vlake_sparsevec_recv);
Datum
vlake_sparsevec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int32		dim;
	int32		nnz;
	int32		unused;
	int64		left;
	int64		need;
	SparseVector *v;
	float	   *vx;

	if (buf->len - buf->cursor < 12)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("binary sparsevec value is too short"),
				 errdetail("A binary sparsevec starts with a 12-byte header; %d bytes were sent.",
						   buf->len - buf->cursor)));
	dim = (int32) pq_getmsgint(buf, sizeof(int32));
	nnz = (int32) pq_getmsgint(buf, sizeof(int32));
	unused = (int32) pq_getmsgint(buf, sizeof(int32));
	sparse_check_dim(dim);
	vec_check_typmod(dim, typmod, "sparsevec");
	if (nnz < 0 || nnz > dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary sparsevec: %d non-zero elements in %d dimensions", nnz, dim)));
	sparse_check_nnz(nnz);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid binary sparsevec: reserved field is %d, expected 0", unused)));
	left = buf->len - buf->cursor;
	need = (int64) nnz * 8;
	if (left < need)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("binary sparsevec value is too short"),
				 errdetail("The header announces %d non-zero elements (" INT64_FORMAT " bytes), but only " INT64_FORMAT " bytes follow.",
						   nnz, need, left)));
	if (left > need)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary sparsevec value is too long"),
				 errdetail("The header announces %d non-zero elements (" INT64_FORMAT " bytes), but " INT64_FORMAT " bytes follow.",
						   nnz, need, left)));

	v = sparsevec_new(dim, nnz);
	vx = SPARSEVEC_VALUES(v);
	for (int i = 0; i < nnz; i++)
	{
		v->indices[i] = (int32) pq_getmsgint(buf, sizeof(int32));
		if (v->indices[i] < 0 || v->indices[i] >= dim)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary sparsevec: index %d is out of bounds", v->indices[i]),
					 errdetail("Binary indices are 0-based and below the number of dimensions, %d.", dim)));
		if (i > 0 && v->indices[i] <= v->indices[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary sparsevec: indices must be strictly increasing"),
					 errdetail("Index %d follows index %d.", v->indices[i], v->indices[i - 1])));
	}
	for (int i = 0; i < nnz; i++)
	{
		vx[i] = pq_getmsgfloat4(buf);
		vec_check_element(vx[i], "sparsevec");
		if (vx[i] == 0.0f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary sparsevec: value %d is zero", i + 1),
					 errdetail("A sparsevec stores non-zero elements only.")));
	}
	PG_RETURN_SPARSEVEC_P(v);
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_send);
Datum
vlake_sparsevec_send(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *vx = SPARSEVEC_VALUES(v);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, v->dim);
	pq_sendint32(&buf, v->nnz);
	pq_sendint32(&buf, v->unused);
	for (int i = 0; i < v->nnz; i++)
		pq_sendint32(&buf, v->indices[i]);
	for (int i = 0; i < v->nnz; i++)
		pq_sendfloat4(&buf, vx[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* sparsevec(n) coercion: the cast applied when storing into a sparsevec(n) */
PG_FUNCTION_INFO_V1(vlake_sparsevec_typmod_cast);
Datum
vlake_sparsevec_typmod_cast(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);

	vec_check_typmod(v->dim, PG_GETARG_INT32(1), "sparsevec");
	PG_RETURN_SPARSEVEC_P(v);
}

/* -------------------------------------------------------------- casts --- */

/* a dense array of floats as a sparsevec: zeros (and -0) dropped */
static SparseVector *
sparse_from_dense(const float *x, int dim)
{
	int			nnz = 0;
	int			k = 0;
	SparseVector *v;
	float	   *vx;

	for (int i = 0; i < dim; i++)
		nnz += (x[i] != 0.0f);
	sparse_check_nnz(nnz);
	v = sparsevec_new(dim, nnz);
	vx = SPARSEVEC_VALUES(v);
	for (int i = 0; i < dim; i++)
	{
		if (x[i] == 0.0f)
			continue;
		v->indices[k] = i;
		vx[k] = x[i];
		k++;
	}
	return v;
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_from_vector);
Datum
vlake_sparsevec_from_vector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	vec_check_typmod(v->dim, PG_GETARG_INT32(1), "sparsevec");
	PG_RETURN_SPARSEVEC_P(sparse_from_dense(v->x, v->dim));
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_from_halfvec);
Datum
vlake_sparsevec_from_halfvec(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	float	   *x = palloc(sizeof(float) * v->dim);

	vec_check_typmod(v->dim, PG_GETARG_INT32(1), "sparsevec");
	for (int i = 0; i < v->dim; i++)
		x[i] = vec_half_to_float(v->x[i]);
	PG_RETURN_SPARSEVEC_P(sparse_from_dense(x, v->dim));
}

/* integer[], real[], double precision[], numeric[] -> sparsevec (pgvector's
 * array_to_sparsevec): the array is the dense form; zeros are dropped. */
PG_FUNCTION_INFO_V1(vlake_array_to_sparsevec);
Datum
vlake_array_to_sparsevec(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = vec_array_to_floats(PG_GETARG_ARRAYTYPE_P(0), "sparsevec", true, &dim);

	sparse_check_dim(dim);
	vec_check_typmod(dim, PG_GETARG_INT32(1), "sparsevec");
	PG_RETURN_SPARSEVEC_P(sparse_from_dense(x, dim));
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_to_vector);
Datum
vlake_sparsevec_to_vector(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *vx = SPARSEVEC_VALUES(v);
	Vector	   *r;

	vec_check_dim(v->dim, "vector");
	vec_check_typmod(v->dim, PG_GETARG_INT32(1), "vector");
	r = vector_new(v->dim);		/* zero-filled */
	for (int i = 0; i < v->nnz; i++)
		r->x[v->indices[i]] = vx[i];
	PG_RETURN_VECTOR_P(r);
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_to_halfvec);
Datum
vlake_sparsevec_to_halfvec(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *vx = SPARSEVEC_VALUES(v);
	HalfVector *r;

	vec_check_dim(v->dim, "halfvec");
	vec_check_typmod(v->dim, PG_GETARG_INT32(1), "halfvec");
	r = halfvec_new(v->dim);	/* zero-filled: +0 halves */
	for (int i = 0; i < v->nnz; i++)
		r->x[v->indices[i]] = vec_to_half_checked(vx[i]);
	PG_RETURN_HALFVEC_P(r);
}

/* ---------------------------------------------------------- distances --- */

/*
 * Each kernel merges the two sorted index lists and adds one term per
 * index present in either operand, in increasing index order, to one float
 * accumulator.  The terms and their order are pgvector's; keep them so.
 */
static float
sparse_l2sq(const SparseVector *a, const SparseVector *b)
{
	const float *ax = SPARSEVEC_VALUES(a);
	const float *bx = SPARSEVEC_VALUES(b);
	float		s = 0.0f;
	int			i = 0,
				j = 0;

	while (i < a->nnz && j < b->nnz)
	{
		if (a->indices[i] == b->indices[j])
		{
			float		d = ax[i] - bx[j];

			s += d * d;
			i++, j++;
		}
		else if (a->indices[i] < b->indices[j])
		{
			s += ax[i] * ax[i];
			i++;
		}
		else
		{
			s += bx[j] * bx[j];
			j++;
		}
	}
	for (; i < a->nnz; i++)
		s += ax[i] * ax[i];
	for (; j < b->nnz; j++)
		s += bx[j] * bx[j];
	return s;
}

static float
sparse_dot(const SparseVector *a, const SparseVector *b)
{
	const float *ax = SPARSEVEC_VALUES(a);
	const float *bx = SPARSEVEC_VALUES(b);
	float		s = 0.0f;
	int			i = 0,
				j = 0;

	while (i < a->nnz && j < b->nnz)
	{
		if (a->indices[i] == b->indices[j])
		{
			s += ax[i] * bx[j];
			i++, j++;
		}
		else if (a->indices[i] < b->indices[j])
			i++;
		else
			j++;
	}
	return s;
}

static float
sparse_l1(const SparseVector *a, const SparseVector *b)
{
	const float *ax = SPARSEVEC_VALUES(a);
	const float *bx = SPARSEVEC_VALUES(b);
	float		s = 0.0f;
	int			i = 0,
				j = 0;

	while (i < a->nnz && j < b->nnz)
	{
		if (a->indices[i] == b->indices[j])
		{
			s += fabsf(ax[i] - bx[j]);
			i++, j++;
		}
		else if (a->indices[i] < b->indices[j])
			s += fabsf(ax[i++]);
		else
			s += fabsf(bx[j++]);
	}
	for (; i < a->nnz; i++)
		s += fabsf(ax[i]);
	for (; j < b->nnz; j++)
		s += fabsf(bx[j]);
	return s;
}

static float
sparse_sumsq(const SparseVector *v)
{
	const float *vx = SPARSEVEC_VALUES(v);
	float		s = 0.0f;

	for (int i = 0; i < v->nnz; i++)
		s += vx[i] * vx[i];
	return s;
}

#define DECL_TWO_SPARSEVECS(a, b) \
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0); \
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1)

PG_FUNCTION_INFO_V1(vlake_sparsevec_l2_distance);
Datum
vlake_sparsevec_l2_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_SPARSEVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8(sqrt((double) sparse_l2sq(a, b)));
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_l2_squared_distance);
Datum
vlake_sparsevec_l2_squared_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_SPARSEVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8((double) sparse_l2sq(a, b));
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_inner_product);
Datum
vlake_sparsevec_inner_product(PG_FUNCTION_ARGS)
{
	DECL_TWO_SPARSEVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8((double) sparse_dot(a, b));
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_negative_inner_product);
Datum
vlake_sparsevec_negative_inner_product(PG_FUNCTION_ARGS)
{
	DECL_TWO_SPARSEVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8(-(double) sparse_dot(a, b));
}

/*
 * 1 - cos(a, b), clamped to [0, 2]; NaN when either vector is zero.  The
 * sums of squares are float sums, as in pgvector: when one underflows to 0
 * for a non-zero vector (every element below about 1e-19 in magnitude) the
 * quotient is infinite and clamps to 0 or 2, as pgvector's does.
 */
PG_FUNCTION_INFO_V1(vlake_sparsevec_cosine_distance);
Datum
vlake_sparsevec_cosine_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_SPARSEVECS(a, b);
	double		sim;

	vec_check_same_dim(a->dim, b->dim);
	sim = (double) sparse_dot(a, b) /
		sqrt((double) sparse_sumsq(a) * (double) sparse_sumsq(b));
	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	PG_RETURN_FLOAT8(1.0 - sim);	/* NaN stays NaN */
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_l1_distance);
Datum
vlake_sparsevec_l1_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_SPARSEVECS(a, b);
	vec_check_same_dim(a->dim, b->dim);
	PG_RETURN_FLOAT8((double) sparse_l1(a, b));
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_vector_dims);
Datum
vlake_sparsevec_vector_dims(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_SPARSEVEC_P(0)->dim);
}

/* Euclidean norm, accumulated in double (no overflow for finite floats) */
static double
sparse_norm(const SparseVector *v)
{
	const float *vx = SPARSEVEC_VALUES(v);
	double		s = 0.0;

	for (int i = 0; i < v->nnz; i++)
		s += (double) vx[i] * (double) vx[i];
	return sqrt(s);
}

PG_FUNCTION_INFO_V1(vlake_sparsevec_l2_norm);
Datum
vlake_sparsevec_l2_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(sparse_norm(PG_GETARG_SPARSEVEC_P(0)));
}

/*
 * v / |v|.  The zero vector is returned unchanged; an element that
 * underflows to zero in the division is dropped, so the result stays
 * canonical (no stored zeros).
 */
PG_FUNCTION_INFO_V1(vlake_sparsevec_l2_normalize);
Datum
vlake_sparsevec_l2_normalize(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	const float *vx = SPARSEVEC_VALUES(v);
	double		norm = sparse_norm(v);
	float	   *x;
	int			nnz = 0;
	SparseVector *r;
	float	   *rx;

	if (norm == 0.0)
		PG_RETURN_SPARSEVEC_P(v);
	x = palloc(sizeof(float) * Max(v->nnz, 1));
	for (int i = 0; i < v->nnz; i++)
	{
		x[i] = (float) (vx[i] / norm);
		nnz += (x[i] != 0.0f);
	}
	r = sparsevec_new(v->dim, nnz);
	rx = SPARSEVEC_VALUES(r);
	nnz = 0;
	for (int i = 0; i < v->nnz; i++)
	{
		if (x[i] == 0.0f)
			continue;
		r->indices[nnz] = v->indices[i];
		rx[nnz] = x[i];
		nnz++;
	}
	PG_RETURN_SPARSEVEC_P(r);
}

/* --------------------------------------------------- ordering, hashing --- */

/*
 * vector's order (and pgvector's for sparsevec): the dense elements over the
 * dimensions both have, lexicographically, a missing element counting as 0;
 * then fewer dimensions first.  Stored values are never zero, so the first
 * index (below both dimension counts) where the pairs differ decides.
 */
static int
sparse_cmp(const SparseVector *a, const SparseVector *b)
{
	const float *ax = SPARSEVEC_VALUES(a);
	const float *bx = SPARSEVEC_VALUES(b);
	int			mindim = Min(a->dim, b->dim);
	int			i = 0,
				j = 0;

	for (;;)
	{
		int			ia = i < a->nnz ? a->indices[i] : INT_MAX;
		int			ib = j < b->nnz ? b->indices[j] : INT_MAX;

		if (ia >= mindim && ib >= mindim)
			break;
		if (ia == ib)
		{
			if (ax[i] != bx[j])
				return ax[i] < bx[j] ? -1 : 1;
			i++, j++;
		}
		else if (ia < ib)		/* a has ax[i] where b has 0 */
			return ax[i] < 0.0f ? -1 : 1;
		else					/* b has bx[j] where a has 0 */
			return bx[j] < 0.0f ? 1 : -1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define SPARSEVEC_CMP_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int c = sparse_cmp(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)); \
	PG_RETURN_BOOL(expr); \
}

SPARSEVEC_CMP_FN(vlake_sparsevec_lt, c < 0)
SPARSEVEC_CMP_FN(vlake_sparsevec_le, c <= 0)
SPARSEVEC_CMP_FN(vlake_sparsevec_eq, c == 0)
SPARSEVEC_CMP_FN(vlake_sparsevec_ne, c != 0)
SPARSEVEC_CMP_FN(vlake_sparsevec_ge, c >= 0)
SPARSEVEC_CMP_FN(vlake_sparsevec_gt, c > 0)

PG_FUNCTION_INFO_V1(vlake_sparsevec_cmp);
Datum
vlake_sparsevec_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(sparse_cmp(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)));
}

/* Equal values have equal pairs (no stored zeros, so no -0 either). */
PG_FUNCTION_INFO_V1(vlake_sparsevec_hash);
Datum
vlake_sparsevec_hash(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	const float *vx = SPARSEVEC_VALUES(v);
	uint32		h = hash_bytes_uint32((uint32) v->dim);

	for (int i = 0; i < v->nnz; i++)
	{
		uint32		bits;

		memcpy(&bits, &vx[i], sizeof(bits));
		h = hash_combine(h, hash_bytes_uint32((uint32) v->indices[i]));
		h = hash_combine(h, hash_bytes_uint32(bits));
	}
	PG_RETURN_UINT32(h);
}
