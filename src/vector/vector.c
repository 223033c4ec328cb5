/*
 * vector.c — the vector type: text and binary I/O, typmod, distances,
 * element-wise arithmetic, ordering and hashing.
 *
 * Text format (pgvector's): '[1,2.5,-3e-2]', whitespace allowed around
 * brackets, numbers and commas.  Output is the shortest decimal that reads
 * back to the same float ('[1,2.5,-0.03]').
 *
 * Binary format (pgvector's): int16 dim, int16 reserved (0), dim float4s,
 * all big-endian.
 *
 * Distances go through the kernels of distance.c, chosen once per process
 * by CPU features.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "vector/distance.h"
#include "vector/vector_internal.h"

/* ------------------------------------------------------- validation --- */

void
vec_check_dim(int dim, const char *typname)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (dim > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot have more than %d dimensions", typname, VECTOR_MAX_DIM),
				 errdetail("The value has %d dimensions.", dim)));
}

void
vec_check_same_dim(int adim, int bdim)
{
	if (adim != bdim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("different vector dimensions %d and %d", adim, bdim),
				 errhint("Both operands must have the same number of dimensions.")));
}

void
vec_check_typmod(int dim, int32 typmod, const char *typname)
{
	if (typmod != -1 && dim != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected %d dimensions, not %d", typmod, dim),
				 errdetail("The column or value is declared as %s(%d).", typname, typmod)));
}

void
vec_check_element(float v, const char *typname)
{
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN is not allowed in type %s", typname)));
	if (isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value is not allowed in type %s", typname)));
}

void
vec_check_result(float r, float a, float b, bool is_mul)
{
	if (isinf(r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow")));
	if (is_mul && r == 0.0f && a != 0.0f && b != 0.0f)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: underflow")));
}

int32
vec_typmod_in(ArrayType *ta, const char *typname)
{
	return vec_typmod_in_max(ta, typname, VECTOR_MAX_DIM);
}

int32
vec_typmod_in_max(ArrayType *ta, const char *typname, int32 maxdim)
{
	int32	   *mods;
	int			n;

	mods = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier for type %s", typname),
				 errdetail("%s takes one modifier, the number of dimensions.", typname)));
	if (mods[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", typname)));
	if (mods[0] > maxdim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d", typname, maxdim)));
	return mods[0];
}

/* ------------------------------------------------------ text parsing --- */

/* The literal as quoted in an error message: long literals are cut. */
char *
vec_literal_for_message(const char *str)
{
	size_t		len = strlen(str);

	if (len <= 60)
		return pstrdup(str);
	return psprintf("%.*s...", pg_mbcliplen(str, len, 57), str);
}

static void
syntax_error(const char *str, const char *typname, const char *p, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"",
					typname, vec_literal_for_message(str)),
			 errdetail("%s at character %d.", what, (int) (p - str) + 1),
			 errhint("A %s literal looks like '[1,2,3]'.", typname)));
}

static inline const char *
skip_space(const char *p)
{
	while (isspace((unsigned char) *p))
		p++;
	return p;
}

bool
vec_parse_element(const char *p, char **end, const char *typname, float *out)
{
	float		v;

	errno = 0;
	v = strtof(p, end);
	if (*end == p)
		return false;
	if (errno == ERANGE && (v == 0.0f || isinf(v)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%.*s\" is out of range for type %s",
						(int) Min(*end - p, 40), p, typname),
				 errdetail("Elements must be within the range of type real (about 1e-45 to 3.4e38 in magnitude).")));
	vec_check_element(v, typname);
	*out = v;
	return true;
}

float *
vec_parse_literal(const char *str, const char *typname, int *dim)
{
	const char *p = skip_space(str);
	int			n = 0;
	int			cap = 16;
	float	   *x;

	if (*p != '[')
		syntax_error(str, typname, p, "Expected \"[\"");
	p = skip_space(p + 1);
	if (*p == ']')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must have at least 1 dimension", typname),
				 errdetail("The literal \"%s\" is empty.", vec_literal_for_message(str))));

	x = palloc(sizeof(float) * cap);
	for (;;)
	{
		char	   *end;
		float		v;

		p = skip_space(p);
		if (*p == '\0' || *p == ',' || *p == ']')
			syntax_error(str, typname, p, "Expected a number");
		if (!vec_parse_element(p, &end, typname, &v))
			syntax_error(str, typname, p, "Expected a number");
		if (n == VECTOR_MAX_DIM)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s cannot have more than %d dimensions", typname, VECTOR_MAX_DIM)));
		if (n == cap)
		{
			cap = Min(cap * 2, VECTOR_MAX_DIM);
			x = repalloc(x, sizeof(float) * cap);
		}
		x[n++] = v;

		p = skip_space(end);
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == ']')
		{
			p++;
			break;
		}
		if (*p == '\0')
			syntax_error(str, typname, p, "Missing \"]\"");
		syntax_error(str, typname, p, "Expected \",\" or \"]\"");
	}
	p = skip_space(p);
	if (*p != '\0')
		syntax_error(str, typname, p, "Unexpected text after \"]\"");

	*dim = n;
	return x;
}

int
vec_format_float(float v, char *buf)
{
	return float_to_shortest_decimal_bufn(v, buf);
}

/* ------------------------------------------------------------ basics --- */

Vector *
vector_new(int dim)
{
	Size		size = VECTOR_SIZE(dim);
	Vector	   *v = (Vector *) palloc0(size);

	SET_VARSIZE(v, size);
	v->dim = dim;
	return v;
}

/* ---------------------------------------------------------------- I/O --- */

PG_FUNCTION_INFO_V1(vlake_vector_in);
Datum
vlake_vector_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	float	   *x;
	int			dim;
	Vector	   *v;

	x = vec_parse_literal(str, "vector", &dim);
	vec_check_typmod(dim, typmod, "vector");
	v = vector_new(dim);
	memcpy(v->x, x, sizeof(float) * dim);
	pfree(x);
	PG_RETURN_VECTOR_P(v);
}

PG_FUNCTION_INFO_V1(vlake_vector_out);
Datum
vlake_vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	char	   *buf = palloc((Size) v->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 3);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += vec_format_float(v->x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(vlake_vector_typmod_in);
Datum
vlake_vector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vec_typmod_in(PG_GETARG_ARRAYTYPE_P(0), "vector"));
}

/*
 * Binary input.  The element bytes left in the message must be exactly
 * dim * 4: fewer is a truncated message (08P01, as the protocol reports
 * short reads), more is a malformed value (22P03).
 */
PG_FUNCTION_INFO_V1(vlake_vector_recv);
Datum
vlake_vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	int			unused;
	int			left;
	Vector	   *v;

	if (buf->len - buf->cursor < 4)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("binary vector value is too short"),
				 errdetail("A binary vector starts with a 4-byte header; %d bytes were sent.",
						   buf->len - buf->cursor)));
	dim = (int16) pq_getmsgint(buf, sizeof(int16));
	unused = (int16) pq_getmsgint(buf, sizeof(int16));
	vec_check_dim(dim, "vector");
	vec_check_typmod(dim, typmod, "vector");
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid binary vector: reserved field is %d, expected 0", unused)));
	left = buf->len - buf->cursor;
	if (left < dim * (int) sizeof(float))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("binary vector value is too short"),
				 errdetail("The header announces %d dimensions (%d bytes), but only %d bytes follow.",
						   dim, dim * (int) sizeof(float), left)));
	if (left > dim * (int) sizeof(float))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary vector value is too long"),
				 errdetail("The header announces %d dimensions (%d bytes), but %d bytes follow.",
						   dim, dim * (int) sizeof(float), left)));

	v = vector_new(dim);
	for (int i = 0; i < dim; i++)
	{
		v->x[i] = pq_getmsgfloat4(buf);
		vec_check_element(v->x[i], "vector");
	}
	PG_RETURN_VECTOR_P(v);
}

PG_FUNCTION_INFO_V1(vlake_vector_send);
Datum
vlake_vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, v->unused);
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* vector(n) coercion: the cast applied when storing into a vector(n) */
PG_FUNCTION_INFO_V1(vlake_vector_typmod_cast);
Datum
vlake_vector_typmod_cast(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	vec_check_typmod(v->dim, PG_GETARG_INT32(1), "vector");
	PG_RETURN_VECTOR_P(v);
}

/* ---------------------------------------------------------- distances --- */

/* fetch both operands and check their dimensions; no declarations may follow */
#define GET_TWO_VECTORS(a, b) \
	Vector	   *a = PG_GETARG_VECTOR_P(0); \
	Vector	   *b = PG_GETARG_VECTOR_P(1); \
	vec_check_same_dim(a->dim, b->dim)

/* the same, for functions that declare more locals */
#define DECL_TWO_VECTORS(a, b) \
	Vector	   *a = PG_GETARG_VECTOR_P(0); \
	Vector	   *b = PG_GETARG_VECTOR_P(1)

PG_FUNCTION_INFO_V1(vlake_l2_distance);
Datum
vlake_l2_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8(sqrt((double) vec_l2sq_f32(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(vlake_vector_l2_squared_distance);
Datum
vlake_vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8((double) vec_l2sq_f32(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vlake_inner_product);
Datum
vlake_inner_product(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8((double) vec_dot_f32(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vlake_vector_negative_inner_product);
Datum
vlake_vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8(-(double) vec_dot_f32(a->x, b->x, a->dim));
}

/*
 * 1 - cos(a, b).  NaN when either vector has zero norm (the angle is
 * undefined), as pgvector does; the similarity is clamped to [-1, 1] so
 * rounding never yields a distance outside [0, 2].
 */
double
vec_cosine_from_parts(double dot, double na, double nb)
{
	double		sim;

	if (na == 0.0 || nb == 0.0)
		return get_float8_nan();
	sim = dot / sqrt(na * nb);
	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	return 1.0 - sim;
}

PG_FUNCTION_INFO_V1(vlake_cosine_distance);
Datum
vlake_cosine_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_VECTORS(a, b);
	float		parts[3];

	vec_check_same_dim(a->dim, b->dim);
	vec_cos_f32(a->x, b->x, a->dim, parts);
	PG_RETURN_FLOAT8(vec_cosine_from_parts(parts[0], parts[1], parts[2]));
}

/*
 * Angle between two unit vectors, scaled to [0, 1]: a metric on the sphere,
 * for index structures that need the triangle inequality.
 */
PG_FUNCTION_INFO_V1(vlake_vector_spherical_distance);
Datum
vlake_vector_spherical_distance(PG_FUNCTION_ARGS)
{
	DECL_TWO_VECTORS(a, b);
	double		dot;

	vec_check_same_dim(a->dim, b->dim);
	dot = vec_dot_f32(a->x, b->x, a->dim);

	if (dot > 1.0)
		dot = 1.0;
	else if (dot < -1.0)
		dot = -1.0;
	PG_RETURN_FLOAT8(acos(dot) / M_PI);
}

PG_FUNCTION_INFO_V1(vlake_l1_distance);
Datum
vlake_l1_distance(PG_FUNCTION_ARGS)
{
	GET_TWO_VECTORS(a, b);
	PG_RETURN_FLOAT8((double) vec_l1_f32(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vlake_vector_dims);
Datum
vlake_vector_dims(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_VECTOR_P(0)->dim);
}

/* Euclidean norm, accumulated in double (no overflow for finite floats). */
static double
vector_norm_internal(const Vector *v)
{
	double		s = 0.0;

	for (int i = 0; i < v->dim; i++)
		s += (double) v->x[i] * (double) v->x[i];
	return sqrt(s);
}

PG_FUNCTION_INFO_V1(vlake_vector_norm);
Datum
vlake_vector_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(vector_norm_internal(PG_GETARG_VECTOR_P(0)));
}

/* v / |v|; the zero vector is returned unchanged (it has no direction). */
PG_FUNCTION_INFO_V1(vlake_l2_normalize);
Datum
vlake_l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	double		norm = vector_norm_internal(v);
	Vector	   *r = vector_new(v->dim);

	for (int i = 0; i < v->dim; i++)
		r->x[i] = norm > 0.0 ? (float) (v->x[i] / norm) : v->x[i];
	PG_RETURN_VECTOR_P(r);
}

/* --------------------------------------------------------- arithmetic --- */

PG_FUNCTION_INFO_V1(vlake_vector_add);
Datum
vlake_vector_add(PG_FUNCTION_ARGS)
{
	DECL_TWO_VECTORS(a, b);
	Vector	   *r;

	vec_check_same_dim(a->dim, b->dim);
	r = vector_new(a->dim);

	for (int i = 0; i < a->dim; i++)
	{
		r->x[i] = a->x[i] + b->x[i];
		vec_check_result(r->x[i], a->x[i], b->x[i], false);
	}
	PG_RETURN_VECTOR_P(r);
}

PG_FUNCTION_INFO_V1(vlake_vector_sub);
Datum
vlake_vector_sub(PG_FUNCTION_ARGS)
{
	DECL_TWO_VECTORS(a, b);
	Vector	   *r;

	vec_check_same_dim(a->dim, b->dim);
	r = vector_new(a->dim);

	for (int i = 0; i < a->dim; i++)
	{
		r->x[i] = a->x[i] - b->x[i];
		vec_check_result(r->x[i], a->x[i], b->x[i], false);
	}
	PG_RETURN_VECTOR_P(r);
}

PG_FUNCTION_INFO_V1(vlake_vector_mul);
Datum
vlake_vector_mul(PG_FUNCTION_ARGS)
{
	DECL_TWO_VECTORS(a, b);
	Vector	   *r;

	vec_check_same_dim(a->dim, b->dim);
	r = vector_new(a->dim);

	for (int i = 0; i < a->dim; i++)
	{
		r->x[i] = a->x[i] * b->x[i];
		vec_check_result(r->x[i], a->x[i], b->x[i], true);
	}
	PG_RETURN_VECTOR_P(r);
}

/* a || b: concatenation */
PG_FUNCTION_INFO_V1(vlake_vector_concat);
Datum
vlake_vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *r;

	vec_check_dim(a->dim + b->dim, "vector");
	r = vector_new(a->dim + b->dim);
	memcpy(r->x, a->x, sizeof(float) * a->dim);
	memcpy(r->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(r);
}

/* subvector(v, start, count): elements start .. start+count-1 (1-based) */
PG_FUNCTION_INFO_V1(vlake_subvector);
Datum
vlake_subvector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		end = start + (int64) PG_GETARG_INT32(2);	/* exclusive */
	Vector	   *r;

	if (PG_GETARG_INT32(2) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vector must have at least 1 dimension"),
				 errdetail("subvector() was asked for %d elements.", PG_GETARG_INT32(2))));
	start = Max(start, 1);
	end = Min(end, (int64) v->dim + 1);
	if (end <= start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vector must have at least 1 dimension"),
				 errdetail("The range asked for lies outside the %d dimensions of the vector.", v->dim)));
	r = vector_new((int) (end - start));
	memcpy(r->x, v->x + (start - 1), sizeof(float) * r->dim);
	PG_RETURN_VECTOR_P(r);
}

/* --------------------------------------------------- ordering, hashing --- */

/*
 * Lexicographic on the elements, then shorter before longer.  Elements
 * are never NaN, so this is a total order; -0 equals 0.
 */
static int
vector_cmp_internal(const Vector *a, const Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define VECTOR_CMP_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int c = vector_cmp_internal(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)); \
	PG_RETURN_BOOL(expr); \
}

VECTOR_CMP_FN(vlake_vector_lt, c < 0)
VECTOR_CMP_FN(vlake_vector_le, c <= 0)
VECTOR_CMP_FN(vlake_vector_eq, c == 0)
VECTOR_CMP_FN(vlake_vector_ne, c != 0)
VECTOR_CMP_FN(vlake_vector_ge, c >= 0)
VECTOR_CMP_FN(vlake_vector_gt, c > 0)

PG_FUNCTION_INFO_V1(vlake_vector_cmp);
Datum
vlake_vector_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vector_cmp_internal(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

/* Equal vectors hash equally: -0 is hashed as 0. */
PG_FUNCTION_INFO_V1(vlake_vector_hash);
Datum
vlake_vector_hash(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	uint32		h = hash_bytes_uint32((uint32) v->dim);

	for (int i = 0; i < v->dim; i++)
	{
		float		f = v->x[i] == 0.0f ? 0.0f : v->x[i];
		uint32		bits;

		memcpy(&bits, &f, sizeof(bits));
		h = hash_combine(h, hash_bytes_uint32(bits));
	}
	PG_RETURN_UINT32(h);
}
