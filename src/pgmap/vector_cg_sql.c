/*
 * vector_cg_sql.c — SQL surface of take by row number (vector_cg.h):
 *
 *   vlake.layout_vcg_take(uri, row_numbers bigint[], column_name)
 *   vlake.layout_vcg_scan(uri, column_name)
 *   vlake.vector_cg_bench(uri, column_name, ntake, repeats)   (bench/ only)
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "parquet/parquet_meta.h"
#include "layout/vector_cg.h"
#include "objstore/objstore.h"
#include "vector/half.h"

static VectorCG *
open_cg(text *uri_text, text *column_text)
{
	char	   *uri = text_to_cstring(uri_text);
	const char *slash = strrchr(uri, '/');
	const char *scheme = strstr(uri, "://");

	if (scheme == NULL || slash == NULL || slash < scheme + 3 || slash[1] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not the URI of a lake object", uri)));
	return layout_vcg_open(parquet_source_open_uri(uri),
						   column_text ? text_to_cstring(column_text) : NULL);
}

/* One row's values as real[]: float32 lists, or binary16 (halfvec CGs). */
static Datum
float_array(const char *vals, int k, bool f16)
{
	int			n = f16 ? k / 2 : k;
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		float4		f;

		if (f16)
		{
			uint16		h;

			memcpy(&h, vals + (size_t) i * 2, 2);
			f = vec_half_to_float(h);
		}
		else
			memcpy(&f, vals + (size_t) i * 4, 4);
		elems[i] = Float4GetDatum(f);
	}
	return PointerGetDatum(construct_array(elems, n, FLOAT4OID, 4, true, TYPALIGN_INT));
}

/* bytes per row, and whether rows are binary16 */
static size_t
require_float(VectorCG *cg, bool *f16)
{
	*f16 = layout_vcg_is_float16(cg);
	if (!*f16 && layout_vcg_physical_type(cg) != PARQUET_FLOAT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vector_cg functions return float4 values, but the column holds %s",
						parquet_type_name(layout_vcg_physical_type(cg)))));
	return (size_t) layout_vcg_values_per_row(cg) * layout_vcg_value_width(cg);
}

PG_FUNCTION_INFO_V1(vlake_vector_cg_take);
Datum
vlake_vector_cg_take(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	VectorCG   *cg = open_cg(PG_GETARG_TEXT_PP(0), PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2));
	Datum	   *elems;
	bool	   *enulls;
	int			n;
	int64	   *rows;
	char	   *out;
	bool	   *isnull;
	bool		f16;
	size_t		rowbytes = require_float(cg, &f16);
	int			k = f16 ? (int) rowbytes : layout_vcg_values_per_row(cg);
	InitMaterializedSRF(fcinfo, 0);
	deconstruct_array(arr, INT8OID, 8, true, TYPALIGN_DOUBLE, &elems, &enulls, &n);
	rows = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (enulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("row numbers must not be null")));
		rows[i] = DatumGetInt64(elems[i]);
	}
	out = palloc_extended((size_t) Max(n, 1) * rowbytes, MCXT_ALLOC_HUGE);
	isnull = palloc(sizeof(bool) * Max(n, 1));
	layout_vcg_take(cg, rows, n, out, isnull);
	for (int i = 0; i < n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, isnull[i]};

		values[0] = Int32GetDatum(i + 1);
		values[1] = Int64GetDatum(rows[i]);
		values[2] = isnull[i] ? (Datum) 0 : float_array(out + (size_t) i * rowbytes, k, f16);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

typedef struct CgScanState
{
	ReturnSetInfo *rsinfo;
	int			k;
	size_t		rowbytes;
	bool		f16;
} CgScanState;

static void
scan_page(void *arg, int64 first_row, int nrows, const char *values, const bool *isnull)
{
	CgScanState  *ss = arg;

	for (int i = 0; i < nrows; i++)
	{
		Datum		v[2];
		bool		nulls[2] = {false, isnull[i]};

		v[0] = Int64GetDatum(first_row + i);
		v[1] = isnull[i] ? (Datum) 0 : float_array(values + (size_t) i * ss->rowbytes, ss->k, ss->f16);
		tuplestore_putvalues(ss->rsinfo->setResult, ss->rsinfo->setDesc, v, nulls);
	}
}

PG_FUNCTION_INFO_V1(vlake_vector_cg_scan);
Datum
vlake_vector_cg_scan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	VectorCG   *cg = open_cg(PG_GETARG_TEXT_PP(0), PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1));
	CgScanState	ss;

	ss.rowbytes = require_float(cg, &ss.f16);
	InitMaterializedSRF(fcinfo, 0);
	ss.rsinfo = rsinfo;
	ss.k = ss.f16 ? (int) ss.rowbytes : layout_vcg_values_per_row(cg);
	layout_vcg_scan(cg, scan_page, &ss);
	return (Datum) 0;
}

/* ---------------------------------------------------------- benchmark --- */

typedef struct SumState
{
	double		sum;
	int64		rows;
	size_t		rowbytes;
} SumState;

static void
sum_page(void *arg, int64 first_row, int nrows, const char *values, const bool *isnull)
{
	SumState   *s = arg;

	/* touch one value per row so the copy cannot be skipped */
	for (int i = 0; i < nrows; i++)
	{
		float		f;

		memcpy(&f, values + (size_t) i * s->rowbytes, 4);
		s->sum += f;
	}
	s->rows += nrows;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/*
 * Times open, take of ntake random rows (fixed seed, a new random set per
 * repeat) and a full scan into memory; reports best and median over
 * repeats.  For bench/parquet only: tests never assert on time.
 */
PG_FUNCTION_INFO_V1(vlake_vector_cg_bench);
Datum
vlake_vector_cg_bench(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *uri = PG_GETARG_TEXT_PP(0);
	text	   *col = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	int			ntake = PG_GETARG_INT32(2);
	int			repeats = Max(PG_GETARG_INT32(3), 1);
	const char *ops[3] = {"open", "take", "scan"};
	double	   *ms[3];
	pg_prng_state prng;
	VectorCG   *cg = open_cg(uri, col);
	size_t		rowbytes = (size_t) layout_vcg_values_per_row(cg) * layout_vcg_value_width(cg);
	int64		nrows = layout_vcg_rows(cg);
	int64	   *rows = palloc(sizeof(int64) * Max(ntake, 1));
	char	   *out = palloc_extended(rowbytes * Max(ntake, 1), MCXT_ALLOC_HUGE);
	bool	   *isnull = palloc(sizeof(bool) * Max(ntake, 1));
	double		check = 0;

	InitMaterializedSRF(fcinfo, 0);
	pg_prng_seed(&prng, 42);
	for (int o = 0; o < 3; o++)
		ms[o] = palloc(sizeof(double) * repeats);
	for (int rep = 0; rep < repeats; rep++)
	{
		instr_time	t0,
					t1;
		SumState	ss = {0, 0, rowbytes};

		CHECK_FOR_INTERRUPTS();
		INSTR_TIME_SET_CURRENT(t0);
		cg = open_cg(uri, col);
		INSTR_TIME_SET_CURRENT(t1);
		INSTR_TIME_SUBTRACT(t1, t0);
		ms[0][rep] = INSTR_TIME_GET_MILLISEC(t1);

		for (int i = 0; i < ntake && nrows > 0; i++)
			rows[i] = (int64) pg_prng_uint64_range(&prng, 0, nrows - 1);
		INSTR_TIME_SET_CURRENT(t0);
		layout_vcg_take(cg, rows, ntake, out, isnull);
		INSTR_TIME_SET_CURRENT(t1);
		INSTR_TIME_SUBTRACT(t1, t0);
		ms[1][rep] = INSTR_TIME_GET_MILLISEC(t1);
		check += out[0];

		INSTR_TIME_SET_CURRENT(t0);
		layout_vcg_scan(cg, sum_page, &ss);
		INSTR_TIME_SET_CURRENT(t1);
		INSTR_TIME_SUBTRACT(t1, t0);
		ms[2][rep] = INSTR_TIME_GET_MILLISEC(t1);
		if (ss.rows != nrows)
			elog(ERROR, "scan returned " INT64_FORMAT " rows of " INT64_FORMAT, ss.rows, nrows);
		check += ss.sum;
	}
	for (int o = 0; o < 3; o++)
	{
		Datum		v[4];
		bool		nulls[4] = {false, false, false, false};

		qsort(ms[o], repeats, sizeof(double), cmp_double);
		v[0] = CStringGetTextDatum(ops[o]);
		v[1] = Float8GetDatum(ms[o][0]);
		v[2] = Float8GetDatum(ms[o][repeats / 2]);
		v[3] = Int64GetDatum(o == 1 ? (int64) (ntake * rowbytes) : o == 2 ? (int64) (nrows * rowbytes) : 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	(void) check;
	return (Datum) 0;
}
