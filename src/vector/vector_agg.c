/*
 * vector_agg.c — avg() and sum() over vector (and halfvec, see halfvec.c).
 *
 * The transition state is a float8[]: element 1 is the row count, elements
 * 2..dim+1 the per-dimension sums, in double precision so that summing many
 * float32 vectors loses nothing visible.  A plain array state needs no
 * serialisation, so the combine function alone makes the aggregates
 * parallel.  Inside an aggregate the state is updated in place (it belongs
 * to the aggregate's memory context), avoiding a copy per row.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"

#include "vector/vector_internal.h"

static ArrayType *
new_state(int nelems)
{
	Size		nbytes = ARR_OVERHEAD_NONULLS(1) + sizeof(float8) * nelems;
	ArrayType  *a = (ArrayType *) palloc0(nbytes);

	SET_VARSIZE(a, nbytes);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = FLOAT8OID;
	ARR_DIMS(a)[0] = nelems;
	ARR_LBOUND(a)[0] = 1;
	return a;
}

/* Validate the state array (it may come from a user calling the function). */
double
vec_agg_state(ArrayType *state, int *dim, double **sums)
{
	int			nelems;
	double	   *d;

	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID ||
		(nelems = ARR_DIMS(state)[0]) < 1 || nelems - 1 > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid state for a vector aggregate"),
				 errdetail("Expected a one-dimensional double precision array without NULLs: the count, then one sum per dimension.")));
	d = (double *) ARR_DATA_PTR(state);
	*dim = nelems - 1;
	*sums = d + 1;
	return d[0];
}

ArrayType *
vec_agg_accum(FunctionCallInfo fcinfo, ArrayType *state, const float *x, int dim)
{
	int			sdim;
	double	   *sums;
	double		count = vec_agg_state(state, &sdim, &sums);

	if (sdim == 0)
	{
		/* first row: the state takes this row's dimension */
		state = new_state(dim + 1);
		sums = (double *) ARR_DATA_PTR(state) + 1;
		count = 0;
	}
	else
	{
		if (sdim != dim)
			vec_check_same_dim(sdim, dim);
		if (!AggCheckCallContext(fcinfo, NULL))
		{
			state = (ArrayType *) pg_detoast_datum_copy((struct varlena *) state);
			sums = (double *) ARR_DATA_PTR(state) + 1;
		}
	}
	for (int i = 0; i < dim; i++)
		sums[i] += x[i];
	((double *) ARR_DATA_PTR(state))[0] = count + 1;
	return state;
}

PG_FUNCTION_INFO_V1(vlake_vector_accum);
Datum
vlake_vector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *v = PG_GETARG_VECTOR_P(1);

	PG_RETURN_ARRAYTYPE_P(vec_agg_accum(fcinfo, state, v->x, v->dim));
}

/* Merge two partial states (parallel aggregation). */
PG_FUNCTION_INFO_V1(vlake_vector_combine);
Datum
vlake_vector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *s1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *s2 = PG_GETARG_ARRAYTYPE_P(1);
	int			d1,
				d2;
	double	   *sum1,
			   *sum2;
	double		c1 = vec_agg_state(s1, &d1, &sum1);
	double		c2 = vec_agg_state(s2, &d2, &sum2);

	if (d2 == 0)
		PG_RETURN_ARRAYTYPE_P(s1);
	if (d1 == 0)
		PG_RETURN_ARRAYTYPE_P(s2);
	vec_check_same_dim(d1, d2);
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		s1 = (ArrayType *) pg_detoast_datum_copy((struct varlena *) s1);
		vec_agg_state(s1, &d1, &sum1);
	}
	for (int i = 0; i < d1; i++)
		sum1[i] += sum2[i];
	((double *) ARR_DATA_PTR(s1))[0] = c1 + c2;
	PG_RETURN_ARRAYTYPE_P(s1);
}

/* Final value element i: sum / divisor, refused if outside float range. */
static float
final_element(double sum, double divisor)
{
	double		r = sum / divisor;

	if (fabs(r) > FLT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow"),
				 errdetail("An element of the aggregate result does not fit in type real.")));
	return (float) r;
}

static Datum
vector_final(FunctionCallInfo fcinfo, bool average)
{
	int			dim;
	double	   *sums;
	double		count = vec_agg_state(PG_GETARG_ARRAYTYPE_P(0), &dim, &sums);
	Vector	   *r;

	if (count == 0 || dim == 0)
		PG_RETURN_NULL();
	r = vector_new(dim);
	for (int i = 0; i < dim; i++)
		r->x[i] = final_element(sums[i], average ? count : 1.0);
	PG_RETURN_VECTOR_P(r);
}

PG_FUNCTION_INFO_V1(vlake_vector_avg);
Datum
vlake_vector_avg(PG_FUNCTION_ARGS)
{
	return vector_final(fcinfo, true);
}

PG_FUNCTION_INFO_V1(vlake_vector_sum);
Datum
vlake_vector_sum(PG_FUNCTION_ARGS)
{
	return vector_final(fcinfo, false);
}
