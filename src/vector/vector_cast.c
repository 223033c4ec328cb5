/*
 * vector_cast.c — casts between vector/halfvec and SQL arrays:
 * integer[], real[], double precision[], numeric[] -> vector, halfvec
 * vector, halfvec -> real[]
 *
 * An array must be one-dimensional, without NULLs, with 1..16000 elements,
 * each finite and within the range of real (and of binary16 for halfvec).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "vector/half.h"
#include "vector/vector_internal.h"

/* element i (0-based) of an array as a float, ERROR if it does not fit */
static float
element_to_float(Datum d, Oid elemtype, int i, const char *typname)
{
	double		x;

	switch (elemtype)
	{
		case INT2OID:
			x = DatumGetInt16(d);
			break;
		case INT4OID:
			x = DatumGetInt32(d);
			break;
		case INT8OID:
			x = (double) DatumGetInt64(d);
			break;
		case FLOAT4OID:
			x = DatumGetFloat4(d);
			break;
		case FLOAT8OID:
			x = DatumGetFloat8(d);
			break;
		case NUMERICOID:
			/* NaN / +-Infinity as such; a finite number too big gives +-inf */
			if (numeric_is_nan(DatumGetNumeric(d)))
				vec_check_element(NAN, typname);
			if (numeric_is_inf(DatumGetNumeric(d)))
				vec_check_element(INFINITY, typname);
			x = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot cast an array of type %s to %s",
							format_type_be(elemtype), typname)));
	}
	if (elemtype != NUMERICOID && (isnan(x) || isinf(x)))
		vec_check_element((float) x, typname);
	if (fabs(x) > FLT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("array element %d (%g) is out of range for type %s", i + 1, x, typname)));
	return (float) x;
}

/*
 * A one-dimensional array without NULLs as floats; *dim gets the count.
 * sparse: the array is a sparsevec's dense form (up to 10^9 elements, the
 * non-zero limit checked by the caller) rather than a vector's (16,000).
 */
float *
vec_array_to_floats(ArrayType *arr, const char *typname, bool sparse, int *dim)
{
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	float	   *x;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot cast a %d-dimensional array to %s", ARR_NDIM(arr), typname),
				 errhint("Use a one-dimensional array, e.g. ARRAY[1,2,3].")));
	n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	if (!sparse || n < 1)
		vec_check_dim(n, typname);

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	x = palloc(sizeof(float) * n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array element %d is NULL", i + 1),
					 errdetail("A %s cannot contain NULLs.", typname)));
		x[i] = element_to_float(elems[i], elemtype, i, typname);
	}
	*dim = n;
	return x;
}

PG_FUNCTION_INFO_V1(vlake_array_to_vector);
Datum
vlake_array_to_vector(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = vec_array_to_floats(PG_GETARG_ARRAYTYPE_P(0), "vector", false, &dim);
	Vector	   *v;

	vec_check_typmod(dim, PG_GETARG_INT32(1), "vector");
	v = vector_new(dim);
	memcpy(v->x, x, sizeof(float) * dim);
	PG_RETURN_VECTOR_P(v);
}

PG_FUNCTION_INFO_V1(vlake_array_to_halfvec);
Datum
vlake_array_to_halfvec(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = vec_array_to_floats(PG_GETARG_ARRAYTYPE_P(0), "halfvec", false, &dim);
	HalfVector *v;

	vec_check_typmod(dim, PG_GETARG_INT32(1), "halfvec");
	v = halfvec_new(dim);
	for (int i = 0; i < dim; i++)
		v->x[i] = vec_to_half_checked(x[i]);
	PG_RETURN_HALFVEC_P(v);
}

static ArrayType *
floats_to_array(const float *x, int dim)
{
	Datum	   *d = palloc(sizeof(Datum) * dim);

	for (int i = 0; i < dim; i++)
		d[i] = Float4GetDatum(x[i]);
	return construct_array(d, dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
}

PG_FUNCTION_INFO_V1(vlake_vector_to_float4);
Datum
vlake_vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_ARRAYTYPE_P(floats_to_array(v->x, v->dim));
}

PG_FUNCTION_INFO_V1(vlake_halfvec_to_float4);
Datum
vlake_halfvec_to_float4(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	float	   *x = palloc(sizeof(float) * v->dim);

	for (int i = 0; i < v->dim; i++)
		x[i] = vec_half_to_float(v->x[i]);
	PG_RETURN_ARRAYTYPE_P(floats_to_array(x, v->dim));
}
