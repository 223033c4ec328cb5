/*
 * parquet_sql.c — SQL functions over the Parquet reader, for operators and
 * tests:
 *
 *   vlake.parquet_file_info(uri)      size, rows, row groups, writer, key/values
 *   vlake.parquet_schema(uri)         one row per column: types, levels, mapping
 *   vlake.parquet_metadata(uri)       one row per column chunk: codec, sizes, stats
 *   vlake.parquet_read(uri, columns, filter_column, filter_min, filter_max)
 *                                     SETOF record (caller gives the column list)
 *   vlake.parquet_take(uri, row_numbers, columns)   SETOF record
 *   vlake.parquet_scan_stats(...) / vlake.parquet_take_stats(...)
 *                                     what a read touched (pruning, bytes)
 *   vlake.parquet_validate(uri)       decode every readable column
 *
 * URIs: file:///abs/path (or /abs/path) and s3://bucket/key, read through
 * the objstore layer (file:// confined to vlake.allowed_file_roots).  Like
 * vlake.lake_list, these functions are revoked from PUBLIC.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "lake/lake_error.h"
#include "layout/layout_keys.h"
#include "layout/packed_reader.h"
#include "pgmap/pgmap_datum.h"
#include "parquet/parquet_page_cache.h"
#include "parquet/parquet_reader.h"

#define ROW_NUMBER_COLUMN "_row_number"

/* The functions below are not STRICT (optional arguments may be NULL). */
static void
require_args(FunctionCallInfo fcinfo, int n, const char *const *names)
{
	for (int i = 0; i < n; i++)
		if (PG_ARGISNULL(i) && names[i] != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null", names[i])));
}

/* Error context while turning values into Datums: which file/column/row. */
typedef struct ConvertContext
{
	const char *file;
	const char *column;
	int64		row;
} ConvertContext;

static void
convert_error_context(void *arg)
{
	ConvertContext *cc = arg;

	if (cc->column)
		errcontext("Parquet file \"%s\", column \"%s\", row %lld",
				   cc->file, cc->column, (long long) cc->row);
}

static void
push_convert_context(ErrorContextCallback *cb, ConvertContext *cc)
{
	memset(cc, 0, sizeof(*cc));
	cb->callback = convert_error_context;
	cb->arg = cc;
	cb->previous = error_context_stack;
	error_context_stack = cb;
}

/*
 * Rows into a tuplestore: a row's Datums are built in a context reset for
 * every row (the tuplestore copies them), so emitting reuses the same
 * memory instead of growing the caller's context by every value.
 */
typedef struct RowEmitter
{
	Datum	   *values;
	bool	   *nulls;
	MemoryContext row_cxt;
	MemoryContext caller;
	ErrorContextCallback errcb;
	ConvertContext cc;
} RowEmitter;

static void
emitter_begin(RowEmitter *e, int ncols)
{
	e->values = palloc(sizeof(Datum) * Max(ncols, 1));
	e->nulls = palloc(sizeof(bool) * Max(ncols, 1));
	e->caller = CurrentMemoryContext;
	e->row_cxt = AllocSetContextCreate(CurrentMemoryContext, "parquet row",
									   ALLOCSET_DEFAULT_SIZES);
	push_convert_context(&e->errcb, &e->cc);
}

/* Start a row: its Datums go into e->values / e->nulls. */
static void
emitter_row(RowEmitter *e)
{
	MemoryContextReset(e->row_cxt);
	MemoryContextSwitchTo(e->row_cxt);
}

static void
emitter_put(RowEmitter *e, Tuplestorestate *ts, TupleDesc td)
{
	e->cc.column = NULL;
	MemoryContextSwitchTo(e->caller);
	tuplestore_putvalues(ts, td, e->values, e->nulls);
}

static void
emitter_end(RowEmitter *e)
{
	error_context_stack = e->errcb.previous;
	MemoryContextSwitchTo(e->caller);
	MemoryContextDelete(e->row_cxt);
}

/* ------------------------------------------------------------ opening */

/* file:///abs, /abs (taken as file://) or s3://bucket/key, through objstore. */
static PqReader *
open_uri(text *uri_text)
{
	char	   *uri = text_to_cstring(uri_text);
	PqReader   *r;

	if (uri[0] == '/')
		uri = psprintf("file://%s", uri);
	r = parquet_reader_open(parquet_source_open_uri(uri));
	layout_reader_init(r);
	return r;
}

static void
close_reader(PqReader *r)
{
	parquet_source_close(r->src);
}

/* ---------------------------------------------------------- helpers */

static Datum
text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Element i of a projection's text[] of column names; NULL is refused. */
static char *
projection_name(const Datum *elems, const bool *nulls, int i)
{
	if (nulls[i])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("column names must not be null")));
	return TextDatumGetCString(elems[i]);
}

/* Projection: column indexes for names (NULL: every readable column);
 * -1 stands for the row number pseudo-column. */
static int *
resolve_columns(PqReader *r, ArrayType *names, int *ncols)
{
	int		   *cols;

	if (names == NULL)
	{
		int			n = 0;

		cols = palloc(sizeof(int) * Max(r->ncolumns, 1));
		for (int i = 0; i < r->ncolumns; i++)
			if (r->columns[i].unsupported == NULL)
				cols[n++] = i;
		*ncols = n;
		return cols;
	}
	else
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		cols = palloc(sizeof(int) * Max(n, 1));
		for (int i = 0; i < n; i++)
		{
			char	   *name;

			name = projection_name(elems, nulls, i);
			if (strcmp(name, ROW_NUMBER_COLUMN) == 0)
			{
				cols[i] = -1;
				continue;
			}
			cols[i] = parquet_reader_column(r, name);
			if (cols[i] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" does not exist in Parquet file \"%s\"", name, r->name)));
			if (r->columns[cols[i]].unsupported)
			{
				LakeErrorContext ctx = {"Parquet file", r->name, NULL, NULL};

				lake_report(LAKE_UNSUPPORTED, &ctx, "column \"%s\": %s",
							name, r->columns[cols[i]].unsupported);
			}
		}
		*ncols = n;
		return cols;
	}
}

/* The real (non pseudo) columns of a projection. */
static int *
real_columns(const int *cols, int ncols, int *nreal)
{
	int		   *out = palloc(sizeof(int) * Max(ncols, 1));
	int			n = 0;

	for (int i = 0; i < ncols; i++)
		if (cols[i] >= 0)
			out[n++] = cols[i];
	*nreal = n;
	return out;
}

static void
check_result_types(PqReader *r, TupleDesc td, const int *cols, int ncols)
{
	if (td->natts != ncols)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the column definition list has %d columns but %d columns are read from \"%s\"",
						td->natts, ncols, r->name)));
	for (int i = 0; i < ncols; i++)
	{
		Oid			want = TupleDescAttr(td, i)->atttypid;

		if (cols[i] < 0)
		{
			if (want != INT8OID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column %s must be declared bigint", ROW_NUMBER_COLUMN)));
			continue;
		}
		if (!pgmap_target_ok(&r->columns[cols[i]], want))
		{
			Oid			def = pgmap_column_pg_type(&r->columns[cols[i]]);

			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of \"%s\" cannot be returned as %s",
							r->columns[cols[i]].name, r->name, format_type_be(want)),
					 errhint("Declare it as %s (see vlake.parquet_schema).",
							 format_type_be(def))));
		}
	}
}

/* Emit the rows of a batch (optionally filtered) into the tuplestore. */
static int64
emit_batch(PqReader *r, PqBatch *b, const int *cols, int ncols, TupleDesc td,
		   Tuplestorestate *ts, const PqPredicate *filter, int filter_pos)
{
	int64		emitted = 0;
	RowEmitter	e;

	emitter_begin(&e, ncols);
	e.cc.file = r->name;
	for (int64 k = 0; k < b->nrows; k++)
	{
		int			vi = 0;

		if (filter && !pgmap_vector_matches(&r->columns[filter->column], filter,
										 &b->cols[filter_pos], k))
			continue;
		emitted++;
		if (ts == NULL)
			continue;			/* counting only */
		emitter_row(&e);
		for (int i = 0; i < ncols; i++)
		{
			if (cols[i] < 0)
			{
				e.values[i] = Int64GetDatum(b->row_numbers[k]);
				e.nulls[i] = false;
				continue;
			}
			e.cc.column = r->columns[cols[i]].name;
			e.cc.row = b->row_numbers[k];
			e.values[i] = pgmap_vector_datum(r, &r->columns[cols[i]], &b->cols[vi], k,
										  TupleDescAttr(td, i)->atttypid, &e.nulls[i]);
			vi++;
		}
		emitter_put(&e, ts, td);
	}
	emitter_end(&e);
	return emitted;
}

/* ------------------------------------------------------- file_info */

PG_FUNCTION_INFO_V1(vlake_parquet_file_info);
Datum
vlake_parquet_file_info(PG_FUNCTION_ARGS)
{
	PqReader   *r = open_uri(PG_GETARG_TEXT_PP(0));
	PqFileMetaData *m = r->meta;
	TupleDesc	td;
	Datum		values[7];
	bool		nulls[7] = {0};
	char	  **kv = palloc(sizeof(char *) * Max(m->num_key_value, 1));

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	for (int i = 0; i < m->num_key_value; i++)
		kv[i] = psprintf("%s=%s", m->key_value[i].key,
						 m->key_value[i].value ? m->key_value[i].value : "");
	values[0] = Int64GetDatum((int64) r->src->size);
	values[1] = Int64GetDatum(m->num_rows);
	values[2] = Int32GetDatum(m->num_row_groups);
	values[3] = Int32GetDatum(r->ncolumns);
	values[4] = Int32GetDatum(m->version);
	if (m->created_by)
		values[5] = CStringGetTextDatum(m->created_by);
	else
		nulls[5] = true;
	values[6] = text_array(kv, m->num_key_value);
	close_reader(r);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(td), values, nulls)));
}

/* ------------------------------------------------------------ schema */

PG_FUNCTION_INFO_V1(vlake_parquet_schema);
Datum
vlake_parquet_schema(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PqReader   *r = open_uri(PG_GETARG_TEXT_PP(0));

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < r->ncolumns; i++)
	{
		PqColumnDesc *c = &r->columns[i];
		const PqSchemaElement *leaf = c->leaf_elem;
		Datum		values[12];
		bool		nulls[12] = {0};
		Oid			pgt = pgmap_column_pg_type(c);

		values[0] = Int32GetDatum(i + 1);
		values[1] = CStringGetTextDatum(c->name);
		values[2] = Int32GetDatum(c->field_id);
		nulls[2] = !c->has_field_id;
		if (leaf && !c->unsupported)
		{
			char	   *lt = parquet_logical_type_string(&leaf->logical_type);

			values[3] = CStringGetTextDatum(leaf->type == PARQUET_FIXED_LEN_BYTE_ARRAY
											? psprintf("FIXED_LEN_BYTE_ARRAY(%d)", leaf->type_length)
											: parquet_type_name(leaf->type));
			values[4] = CStringGetTextDatum(lt);
			nulls[4] = (lt[0] == '\0');
			values[5] = CStringGetTextDatum(leaf->has_converted_type
											? parquet_converted_type_name(leaf->converted_type) : "");
			nulls[5] = !leaf->has_converted_type;
			values[7] = CStringGetTextDatum(c->path);
			values[8] = Int32GetDatum(c->max_def);
			values[9] = Int32GetDatum(c->max_rep);
		}
		else
			nulls[3] = nulls[4] = nulls[5] = nulls[7] = nulls[8] = nulls[9] = true;
		values[6] = CStringGetTextDatum(c->is_list ? "LIST" :
										parquet_repetition_name(r->meta->schema[c->top_schema_index].repetition));
		if (OidIsValid(pgt))
			values[10] = CStringGetTextDatum(format_type_be(pgt));
		else
			nulls[10] = true;
		if (c->unsupported)
			values[11] = CStringGetTextDatum(c->unsupported);
		else
			nulls[11] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	close_reader(r);
	return (Datum) 0;
}

/* ---------------------------------------------------------- metadata */

static Datum
stat_text(PqReader *r, PqColumnDesc *col, const PqStatistics *s, bool want_max, bool *isnull)
{
	const PqBytes *b = NULL;
	char	   *t;

	if (want_max)
		b = s->has_max_value ? &s->max_value : (s->has_max && col->type != PARQUET_BYTE_ARRAY ? &s->max : NULL);
	else
		b = s->has_min_value ? &s->min_value : (s->has_min && col->type != PARQUET_BYTE_ARRAY ? &s->min : NULL);
	*isnull = true;
	if (b == NULL || col->unsupported)
		return (Datum) 0;
	t = pgmap_physical_to_text(r, col, b);
	if (t == NULL)
		return (Datum) 0;
	*isnull = false;
	return CStringGetTextDatum(t);
}

PG_FUNCTION_INFO_V1(vlake_parquet_metadata);
Datum
vlake_parquet_metadata(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PqReader   *r = open_uri(PG_GETARG_TEXT_PP(0));
	PqFileMetaData *m = r->meta;

	InitMaterializedSRF(fcinfo, 0);
	for (int g = 0; g < m->num_row_groups; g++)
	{
		for (int i = 0; i < r->ncolumns; i++)
		{
			PqColumnDesc *c = &r->columns[i];
			PqColumnChunk *cc;
			PqColumnMetaData *cm;
			Datum		values[13];
			bool		nulls[13] = {0};
			char	  **encs;

			if (c->leaf < 0 || c->unsupported)
				continue;
			cc = &m->row_groups[g].columns[c->leaf];
			cm = &cc->meta_data;
			encs = palloc(sizeof(char *) * Max(cm->num_encodings, 1));
			for (int e = 0; e < cm->num_encodings; e++)
				encs[e] = (char *) parquet_encoding_name(cm->encodings[e]);
			values[0] = Int32GetDatum(g);
			values[1] = CStringGetTextDatum(c->name);
			values[2] = Int64GetDatum(m->row_groups[g].num_rows);
			values[3] = Int64GetDatum(cm->num_values);
			values[4] = CStringGetTextDatum(parquet_codec_name(cm->codec));
			values[5] = text_array(encs, cm->num_encodings);
			values[6] = Int64GetDatum(cm->total_compressed_size);
			values[7] = Int64GetDatum(cm->total_uncompressed_size);
			values[8] = Int64GetDatum(cm->statistics.null_count);
			nulls[8] = !(cm->has_statistics && cm->statistics.has_null_count);
			values[9] = stat_text(r, c, &cm->statistics, false, &nulls[9]);
			values[10] = stat_text(r, c, &cm->statistics, true, &nulls[10]);
			if (!cm->has_statistics)
				nulls[9] = nulls[10] = true;
			values[11] = BoolGetDatum(cc->has_column_index);
			values[12] = BoolGetDatum(cc->has_offset_index);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	close_reader(r);
	return (Datum) 0;
}

/* -------------------------------------------------------------- read */

typedef struct ReadArgs
{
	PqReader   *r;
	int		   *cols;			/* projection incl. pseudo columns */
	int			ncols;
	int		   *real;			/* columns the scan reads */
	int			nreal;
	bool		has_filter;
	PqPredicate filter;
	int			filter_pos;		/* index of the filter column in real[] */
} ReadArgs;

static void
read_args(FunctionCallInfo fcinfo, ReadArgs *a)
{
	static const char *const req[] = {"uri"};
	ArrayType  *names;

	require_args(fcinfo, 1, req);
	names = PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1);
	memset(a, 0, sizeof(*a));
	a->r = open_uri(PG_GETARG_TEXT_PP(0));
	a->cols = resolve_columns(a->r, names, &a->ncols);
	a->real = real_columns(a->cols, a->ncols, &a->nreal);
	if (!PG_ARGISNULL(2))
	{
		char	   *fname = text_to_cstring(PG_GETARG_TEXT_PP(2));
		int			fc = parquet_reader_column(a->r, fname);
		PqColumnDesc *col;

		if (fc < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" does not exist in Parquet file \"%s\"", fname, a->r->name)));
		col = &a->r->columns[fc];
		if (col->unsupported || !parquet_column_filterable(col))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot filter on column \"%s\" of type %s", fname,
							OidIsValid(pgmap_column_pg_type(col)) ? format_type_be(pgmap_column_pg_type(col)) : "unsupported")));
		a->has_filter = true;
		a->filter.column = fc;
		if (!PG_ARGISNULL(3))
		{
			a->filter.has_lo = true;
			a->filter.lo = pgmap_text_to_physical(a->r, col, text_to_cstring(PG_GETARG_TEXT_PP(3)));
		}
		if (!PG_ARGISNULL(4))
		{
			a->filter.has_hi = true;
			a->filter.hi = pgmap_text_to_physical(a->r, col, text_to_cstring(PG_GETARG_TEXT_PP(4)));
		}
		/* the scan must also read the filter column to apply it exactly */
		a->filter_pos = -1;
		for (int i = 0; i < a->nreal; i++)
			if (a->real[i] == fc)
				a->filter_pos = i;
		if (a->filter_pos < 0)
		{
			a->real = repalloc(a->real, sizeof(int) * (a->nreal + 1));
			a->filter_pos = a->nreal;
			a->real[a->nreal++] = fc;
		}
	}
}

/* Scan into ts (NULL: just count); returns rows emitted. */
static int64
run_scan(ReadArgs *a, TupleDesc td, Tuplestorestate *ts, PqScanStats *stats)
{
	PqScan	   *s = parquet_scan_begin(a->r, a->nreal, a->real, a->has_filter ? &a->filter : NULL,
								  a->has_filter ? 1 : 0, 4096);
	PqBatch    *b;
	int64		n = 0;

	while ((b = parquet_scan_next(s)) != NULL)
		n += emit_batch(a->r, b, a->cols, a->ncols, td, ts,
						a->has_filter ? &a->filter : NULL, a->filter_pos);
	if (stats)
		*stats = *parquet_scan_stats(s);
	parquet_scan_end(s);
	return n;
}

PG_FUNCTION_INFO_V1(vlake_parquet_read);
Datum
vlake_parquet_read(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ReadArgs	a;

	read_args(fcinfo, &a);
	/* a copy of the column definition list: the executor frees setDesc */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	check_result_types(a.r, rsinfo->setDesc, a.cols, a.ncols);
	run_scan(&a, rsinfo->setDesc, rsinfo->setResult, NULL);
	close_reader(a.r);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(vlake_parquet_scan_stats);
Datum
vlake_parquet_scan_stats(PG_FUNCTION_ARGS)
{
	ReadArgs	a;
	TupleDesc	td;
	PqScanStats st;
	Datum		values[7];
	bool		nulls[7] = {0};
	int64		n;

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	read_args(fcinfo, &a);
	n = run_scan(&a, NULL, NULL, &st);
	values[0] = Int64GetDatum(n);
	values[1] = Int64GetDatum(st.row_groups_total);
	values[2] = Int64GetDatum(st.row_groups_skipped);
	values[3] = Int64GetDatum(st.pages_read);
	values[4] = Int64GetDatum(st.pages_skipped);
	values[5] = Int64GetDatum((int64) a.r->src->nrequests);
	values[6] = Int64GetDatum((int64) a.r->src->nbytes);
	close_reader(a.r);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(td), values, nulls)));
}

/* -------------------------------------------------------------- take */

static PqBatch *
do_take(PqReader *r, ArrayType *rows_arr, int *real, int nreal, int64 *nrows_out)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int64	   *rows;

	deconstruct_array(rows_arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	rows = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("row numbers must not be null")));
		rows[i] = DatumGetInt64(elems[i]);
	}
	*nrows_out = n;
	return parquet_take(r, nreal, real, rows, n);
}

PG_FUNCTION_INFO_V1(vlake_parquet_take);
Datum
vlake_parquet_take(PG_FUNCTION_ARGS)
{
	static const char *const req[] = {"uri", "row_numbers"};

	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PqReader   *r = (require_args(fcinfo, 2, req), open_uri(PG_GETARG_TEXT_PP(0)));
	ArrayType  *names = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	int			ncols,
				nreal;
	int		   *cols = resolve_columns(r, names, &ncols);
	int		   *real = real_columns(cols, ncols, &nreal);
	PqBatch    *b;
	int64		n;

	/* a copy of the column definition list: the executor frees setDesc */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	check_result_types(r, rsinfo->setDesc, cols, ncols);
	b = do_take(r, PG_GETARG_ARRAYTYPE_P(1), real, nreal, &n);
	emit_batch(r, b, cols, ncols, rsinfo->setDesc, rsinfo->setResult, NULL, 0);
	close_reader(r);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(vlake_parquet_take_stats);
Datum
vlake_parquet_take_stats(PG_FUNCTION_ARGS)
{
	static const char *const req[] = {"uri", "row_numbers"};

	PqReader   *r = (require_args(fcinfo, 2, req), open_uri(PG_GETARG_TEXT_PP(0)));
	ArrayType  *names = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	int			ncols,
				nreal;
	int		   *cols = resolve_columns(r, names, &ncols);
	int		   *real = real_columns(cols, ncols, &nreal);
	uint64		req0 = r->src->nrequests,
				ranges0 = r->src->nranges,
				bytes0 = r->src->nbytes;
	TupleDesc	td;
	Datum		values[4];
	bool		nulls[4] = {0};
	int64		n;

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	(void) do_take(r, PG_GETARG_ARRAYTYPE_P(1), real, nreal, &n);
	values[0] = Int64GetDatum(n);
	values[1] = Int64GetDatum((int64) (r->src->nrequests - req0));
	values[2] = Int64GetDatum((int64) (r->src->nranges - ranges0));
	values[3] = Int64GetDatum((int64) (r->src->nbytes - bytes0));
	close_reader(r);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(td), values, nulls)));
}

/* ----------------------------------------------------------- validate */

PG_FUNCTION_INFO_V1(vlake_parquet_validate);
Datum
vlake_parquet_validate(PG_FUNCTION_ARGS)
{
	PqReader   *r = open_uri(PG_GETARG_TEXT_PP(0));
	int			ncols;
	int		   *cols = resolve_columns(r, NULL, &ncols);
	int64		rows = 0;
	ErrorContextCallback errcb;
	ConvertContext cc;

	push_convert_context(&errcb, &cc);
	cc.file = r->name;
	/* one column at a time: every page of every readable column */
	for (int i = 0; i < ncols; i++)
	{
		PqScan	   *s = parquet_scan_begin(r, 1, &cols[i], NULL, 0, 4096);
		PqBatch    *b;
		Oid			typ = pgmap_column_safe_type(&r->columns[cols[i]]);

		rows = 0;
		while ((b = parquet_scan_next(s)) != NULL)
		{
			/* convert too: values must be valid for their Postgres type */
			for (int64 k = 0; k < b->nrows; k++)
			{
				bool		isnull;

				cc.column = r->columns[cols[i]].name;
				cc.row = b->row_numbers[k];
				(void) pgmap_vector_datum(r, &r->columns[cols[i]], &b->cols[0], k, typ, &isnull);
			}
			cc.column = NULL;
			rows += b->nrows;
		}
		parquet_scan_end(s);
		if (rows != r->meta->num_rows)
			lake_corrupt("Parquet file", r->name, "column \"%s\" has %lld rows, the footer says %lld",
						 r->columns[cols[i]].name, (long long) rows, (long long) r->meta->num_rows);
	}
	error_context_stack = errcb.previous;
	close_reader(r);
	PG_RETURN_INT64(r->meta->num_rows);
}

/* ------------------------------------------------------ packed reader */

#define ROW_ID_COLUMN "_row_id"

/* first_row_id < 0: from the files' footers */
static PackedReader *
open_packed(ArrayType *uris, int64 first_row_id)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	ByteSource **srcs;

	deconstruct_array(uris, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	srcs = palloc(sizeof(ByteSource *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		char	   *uri;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ColumnGroup URIs must not be null")));
		uri = TextDatumGetCString(elems[i]);
		if (uri[0] == '/')
			uri = psprintf("file://%s", uri);
		srcs[i] = parquet_source_open_uri(uri);
	}
	return layout_packed_open(srcs, n, first_row_id);
}

static void
close_packed(PackedReader *p)
{
	for (int g = 0; g < p->ngroups; g++)
		close_reader(p->groups[g]);
}

/* Projection over the packed columns; -1 = the row ID pseudo-column. */
static int *
packed_resolve(PackedReader *p, ArrayType *names, int *ncols)
{
	int		   *cols;
	int			n = 0;

	if (names == NULL)
	{
		cols = palloc(sizeof(int) * Max(p->ncolumns, 1));
		for (int i = 0; i < p->ncolumns; i++)
			if (layout_packed_column_desc(p, i)->unsupported == NULL)
				cols[n++] = i;
	}
	else
	{
		Datum	   *elems;
		bool	   *nulls;
		int			ne;

		deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &ne);
		cols = palloc(sizeof(int) * Max(ne, 1));
		for (int i = 0; i < ne; i++)
		{
			char	   *name;

			name = projection_name(elems, nulls, i);
			if (strcmp(name, ROW_ID_COLUMN) == 0)
				cols[n++] = -1;
			else if ((cols[n++] = layout_packed_column(p, name)) < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" does not exist in the segment's ColumnGroups", name)));
			else if (layout_packed_column_desc(p, cols[n - 1])->unsupported)
			{
				LakeErrorContext ctx = {"ColumnGroup", layout_packed_column_reader(p, cols[n - 1])->name,
				NULL, NULL};

				lake_report(LAKE_UNSUPPORTED, &ctx, "column \"%s\": %s", name,
							layout_packed_column_desc(p, cols[n - 1])->unsupported);
			}
		}
	}
	*ncols = n;
	return cols;
}

static void
packed_check_types(PackedReader *p, TupleDesc td, const int *cols, int ncols)
{
	if (td->natts != ncols)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the column definition list has %d columns but %d columns are read",
						td->natts, ncols)));
	for (int i = 0; i < ncols; i++)
	{
		Oid			want = TupleDescAttr(td, i)->atttypid;

		if (cols[i] < 0)
		{
			if (want != INT8OID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column %s must be declared bigint", ROW_ID_COLUMN)));
		}
		else if (!pgmap_target_ok(layout_packed_column_desc(p, cols[i]), want))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" cannot be returned as %s",
							layout_packed_column_desc(p, cols[i])->name, format_type_be(want)),
					 errhint("Declare it as %s (see vlake.parquet_schema).",
							 format_type_be(pgmap_column_pg_type(layout_packed_column_desc(p, cols[i]))))));
	}
}

static void
packed_emit(PackedReader *p, PqBatch *b, const int *cols, int ncols, const int *real_pos,
			TupleDesc td, Tuplestorestate *ts)
{
	RowEmitter	e;

	emitter_begin(&e, ncols);
	for (int64 k = 0; k < b->nrows; k++)
	{
		emitter_row(&e);
		for (int i = 0; i < ncols; i++)
		{
			if (cols[i] < 0)
			{
				e.values[i] = Int64GetDatum(b->row_numbers[k]);
				e.nulls[i] = false;
				continue;
			}
			e.cc.file = layout_packed_column_reader(p, cols[i])->name;
			e.cc.column = layout_packed_column_desc(p, cols[i])->name;
			e.cc.row = b->row_numbers[k];
			e.values[i] = pgmap_vector_datum(layout_packed_column_reader(p, cols[i]),
										  layout_packed_column_desc(p, cols[i]),
										  &b->cols[real_pos[i]], k,
										  TupleDescAttr(td, i)->atttypid, &e.nulls[i]);
		}
		emitter_put(&e, ts, td);
	}
	emitter_end(&e);
}

/* real columns of a projection and each output column's position among them */
static int *
packed_real(const int *cols, int ncols, int *nreal, int **real_pos)
{
	int		   *real = palloc(sizeof(int) * Max(ncols, 1));

	*real_pos = palloc(sizeof(int) * Max(ncols, 1));
	*nreal = 0;
	for (int i = 0; i < ncols; i++)
	{
		(*real_pos)[i] = *nreal;
		if (cols[i] >= 0)
			real[(*nreal)++] = cols[i];
	}
	return real;
}

PG_FUNCTION_INFO_V1(vlake_packed_read);
Datum
vlake_packed_read(PG_FUNCTION_ARGS)
{
	static const char *const req[] = {"uris"};

	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PackedReader *p = (require_args(fcinfo, lengthof(req), req),
					   open_packed(PG_GETARG_ARRAYTYPE_P(0), PG_ARGISNULL(1) ? -1 : PG_GETARG_INT64(1)));
	int			ncols,
				nreal;
	int		   *pos;
	int		   *cols = packed_resolve(p, PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2), &ncols);
	int		   *real = packed_real(cols, ncols, &nreal, &pos);
	PackedScan *s;
	PqBatch    *b;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	packed_check_types(p, rsinfo->setDesc, cols, ncols);
	s = layout_packed_scan_begin(p, nreal, real, 4096);
	while ((b = layout_packed_scan_next(s)) != NULL)
		packed_emit(p, b, cols, ncols, pos, rsinfo->setDesc, rsinfo->setResult);
	layout_packed_scan_end(s);
	close_packed(p);
	return (Datum) 0;
}

static ArrayType *
nonnull_int8_array(FunctionCallInfo fcinfo, int argno, int64 **vals, int *n)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(argno);
	Datum	   *elems;
	bool	   *nulls;

	deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, n);
	*vals = palloc(sizeof(int64) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("row IDs must not be null")));
		(*vals)[i] = DatumGetInt64(elems[i]);
	}
	return a;
}

PG_FUNCTION_INFO_V1(vlake_packed_take);
Datum
vlake_packed_take(PG_FUNCTION_ARGS)
{
	static const char *const req[] = {"uris", NULL, "row_ids"};

	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PackedReader *p = (require_args(fcinfo, lengthof(req), req),
					   open_packed(PG_GETARG_ARRAYTYPE_P(0), PG_ARGISNULL(1) ? -1 : PG_GETARG_INT64(1)));
	int			ncols,
				nreal,
				nids;
	int		   *pos;
	int		   *cols = packed_resolve(p, PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3), &ncols);
	int		   *real = packed_real(cols, ncols, &nreal, &pos);
	int64	   *ids;
	PqBatch    *b;

	(void) nonnull_int8_array(fcinfo, 2, &ids, &nids);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	packed_check_types(p, rsinfo->setDesc, cols, ncols);
	b = layout_packed_take(p, nreal, real, ids, nids);
	packed_emit(p, b, cols, ncols, pos, rsinfo->setDesc, rsinfo->setResult);
	close_packed(p);
	return (Datum) 0;
}

/* Per ColumnGroup: what a take read after opening (footers excluded). */
PG_FUNCTION_INFO_V1(vlake_packed_take_stats);
Datum
vlake_packed_take_stats(PG_FUNCTION_ARGS)
{
	static const char *const req[] = {"uris", NULL, "row_ids"};

	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PackedReader *p = (require_args(fcinfo, lengthof(req), req),
					   open_packed(PG_GETARG_ARRAYTYPE_P(0), PG_ARGISNULL(1) ? -1 : PG_GETARG_INT64(1)));
	int			ncols,
				nreal,
				nids;
	int		   *pos;
	int		   *cols = packed_resolve(p, PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3), &ncols);
	int		   *real = packed_real(cols, ncols, &nreal, &pos);
	int64	   *ids;
	uint64	   *req0 = palloc(sizeof(uint64) * p->ngroups);
	uint64	   *bytes0 = palloc(sizeof(uint64) * p->ngroups);

	(void) nonnull_int8_array(fcinfo, 2, &ids, &nids);
	InitMaterializedSRF(fcinfo, 0);
	for (int g = 0; g < p->ngroups; g++)
	{
		req0[g] = p->groups[g]->src->nrequests;
		bytes0[g] = p->groups[g]->src->nbytes;
	}
	(void) layout_packed_take(p, nreal, real, ids, nids);
	for (int g = 0; g < p->ngroups; g++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = Int32GetDatum(g + 1);
		values[1] = CStringGetTextDatum(p->groups[g]->name);
		values[2] = Int64GetDatum((int64) (p->groups[g]->src->nrequests - req0[g]));
		values[3] = Int64GetDatum((int64) (p->groups[g]->src->nbytes - bytes0[g]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	close_packed(p);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(vlake_page_cache_stats);
Datum
vlake_page_cache_stats(PG_FUNCTION_ARGS)
{
	PqPageCacheStats st;
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {0};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	parquet_page_cache_stats(&st);
	values[0] = Int64GetDatum(st.hits);
	values[1] = Int64GetDatum(st.misses);
	values[2] = Int64GetDatum(st.inserts);
	values[3] = Int64GetDatum(st.evictions);
	values[4] = Int64GetDatum(st.entries);
	values[5] = Int64GetDatum(st.bytes);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

PG_FUNCTION_INFO_V1(vlake_page_cache_reset);
Datum
vlake_page_cache_reset(PG_FUNCTION_ARGS)
{
	parquet_page_cache_reset();
	PG_RETURN_VOID();
}
