/*
 * objstore_sql.c — operator functions over lake objects (vlake.lake_*).
 *
 * Each takes a full object URI; the store is opened on the URI's directory
 * part, so file:// confinement and the io_stats prefix are those of that
 * directory.  EXECUTE is revoked from PUBLIC by the install script: only
 * superusers, or roles a superuser grants it to, may call them, and even
 * then file:// stays inside vlake.allowed_file_roots.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "objstore/objstore_internal.h"

static void
uri_error_context(void *arg)
{
	errcontext("opening the store of lake URI \"%s\"", (const char *) arg);
}

/* Open the store of a full object URI; *key receives the rest. */
static ObjStore *
open_for_uri(text *uri_text, char **key)
{
	char	   *uri = text_to_cstring(uri_text);
	char	   *root;
	ObjStore   *store;
	ErrorContextCallback errcb;

	objstore_split_uri(uri, &root, key);
	errcb.callback = uri_error_context;
	errcb.arg = uri;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	store = objstore_open(root);
	error_context_stack = errcb.previous;
	return store;
}

static char *
require_key(ObjStore *store, char *key)
{
	if (key[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" names a directory, not a lake object", objstore_root_uri(store))));
	return key;
}

PG_FUNCTION_INFO_V1(vlake_lake_list);
Datum
vlake_lake_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *prefix;
	ObjStore   *store;
	List	   *entries;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	store = open_for_uri(PG_GETARG_TEXT_PP(0), &prefix);
	entries = objstore_list(store, prefix);
	foreach(lc, entries)
	{
		ObjListEntry *e = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(e->key);
		values[1] = Int64GetDatum((int64) e->size);
		values[2] = CStringGetTextDatum(e->etag);
		nulls[2] = e->etag[0] == '\0';
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	objstore_close(store);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(vlake_lake_stat);
Datum
vlake_lake_stat(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *key;
	ObjStore   *store;
	ObjStat		st;

	InitMaterializedSRF(fcinfo, 0);
	store = open_for_uri(PG_GETARG_TEXT_PP(0), &key);
	if (objstore_head(store, require_key(store, key), &st))
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Int64GetDatum((int64) st.size);
		values[1] = CStringGetTextDatum(st.etag);
		nulls[1] = st.etag[0] == '\0';
		values[2] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) st.mtime));
		nulls[2] = st.mtime == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	objstore_close(store);
	return (Datum) 0;
}

static void
check_length(int64 len, const char *what)
{
	if (len < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", what)));
	if (len > (int64) (MaxAllocSize - VARHDRSZ))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot read " INT64_FORMAT " bytes into one bytea value", len),
				 errhint("Read at most 1 GB at a time.")));
}

/* lake_read(uri, offset default 0, length default NULL = to the end) */
PG_FUNCTION_INFO_V1(vlake_lake_read);
Datum
vlake_lake_read(PG_FUNCTION_ARGS)
{
	char	   *key;
	ObjStore   *store;
	int64		offset;
	int64		length;
	bytea	   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	store = open_for_uri(PG_GETARG_TEXT_PP(0), &key);
	require_key(store, key);
	offset = PG_GETARG_INT64(1);
	check_length(offset, "offset");
	if (PG_ARGISNULL(2))
	{
		ObjStat		st;

		if (offset == 0)
		{
			uint64		len;
			char	   *data = objstore_get(store, key, &len);

			check_length((int64) len, "length");
			result = palloc(len + VARHDRSZ);
			SET_VARSIZE(result, len + VARHDRSZ);
			memcpy(VARDATA(result), data, len);
			objstore_close(store);
			PG_RETURN_BYTEA_P(result);
		}
		if (!objstore_head(store, key, &st))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("lake object \"%s\" does not exist", objstore_uri(store, key))));
		length = (uint64) offset > st.size ? 0 : (int64) (st.size - offset);
		if ((uint64) offset > st.size)
			offset = st.size;
	}
	else
		length = PG_GETARG_INT64(2);
	check_length(length, "length");
	result = palloc(length + VARHDRSZ);
	SET_VARSIZE(result, length + VARHDRSZ);
	objstore_get_range(store, key, offset, length, VARDATA(result));
	objstore_close(store);
	PG_RETURN_BYTEA_P(result);
}

/*
 * lake_read_ranges(uri, offsets bigint[], lengths bigint[], known_size, known_etag)
 * -> bytea[], all ranges in one call; with known_size and known_etag the
 * read skips the validating head (and fails if the object changed).
 */
PG_FUNCTION_INFO_V1(vlake_lake_read_ranges);
Datum
vlake_lake_read_ranges(PG_FUNCTION_ARGS)
{
	char	   *key;
	ObjStore   *store;
	ArrayType  *offs;
	ArrayType  *lens;
	Datum	   *od;
	Datum	   *ld;
	bool	   *on;
	bool	   *ln;
	int			n;
	int			nl;
	ObjRange   *ranges;
	Datum	   *out;
	int64		total = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	offs = PG_GETARG_ARRAYTYPE_P(1);
	lens = PG_GETARG_ARRAYTYPE_P(2);
	deconstruct_array(offs, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &od, &on, &n);
	deconstruct_array(lens, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &ld, &ln, &nl);
	if (n != nl)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("offsets and lengths must have the same number of elements")));
	store = open_for_uri(PG_GETARG_TEXT_PP(0), &key);
	require_key(store, key);
	ranges = palloc0(sizeof(ObjRange) * Max(n, 1));
	out = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bytea	   *b;

		if (on[i] || ln[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("offsets and lengths must not contain NULL")));
		check_length(DatumGetInt64(od[i]), "offset");
		check_length(DatumGetInt64(ld[i]), "length");
		total += DatumGetInt64(ld[i]);
		check_length(total, "total length");
		b = palloc(DatumGetInt64(ld[i]) + VARHDRSZ);
		SET_VARSIZE(b, DatumGetInt64(ld[i]) + VARHDRSZ);
		ranges[i].offset = DatumGetInt64(od[i]);
		ranges[i].length = DatumGetInt64(ld[i]);
		ranges[i].dest = VARDATA(b);
		out[i] = PointerGetDatum(b);
	}
	if (!PG_ARGISNULL(3) && !PG_ARGISNULL(4))
	{
		/* The caller knows the version: no validating head request. */
		ObjStat		known;

		memset(&known, 0, sizeof(known));
		check_length(PG_GETARG_INT64(3), "known_size");
		known.size = PG_GETARG_INT64(3);
		text_to_cstring_buffer(PG_GETARG_TEXT_PP(4), known.etag, sizeof(known.etag));
		objstore_get_ranges_known(store, key, &known, ranges, n);
	}
	else
		objstore_get_ranges(store, key, ranges, n);
	objstore_close(store);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n, BYTEAOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(vlake_lake_write);
Datum
vlake_lake_write(PG_FUNCTION_ARGS)
{
	char	   *key;
	ObjStore   *store = open_for_uri(PG_GETARG_TEXT_PP(0), &key);
	bytea	   *data = PG_GETARG_BYTEA_PP(1);

	objstore_put(store, require_key(store, key), VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data));
	objstore_close(store);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(vlake_lake_write_if_absent);
Datum
vlake_lake_write_if_absent(PG_FUNCTION_ARGS)
{
	char	   *key;
	ObjStore   *store = open_for_uri(PG_GETARG_TEXT_PP(0), &key);
	bytea	   *data = PG_GETARG_BYTEA_PP(1);
	bool		created;

	created = objstore_put_if_absent(store, require_key(store, key),
									 VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data));
	objstore_close(store);
	PG_RETURN_BOOL(created);
}

PG_FUNCTION_INFO_V1(vlake_lake_write_if_match);
Datum
vlake_lake_write_if_match(PG_FUNCTION_ARGS)
{
	char	   *key;
	ObjStore   *store = open_for_uri(PG_GETARG_TEXT_PP(0), &key);
	bytea	   *data = PG_GETARG_BYTEA_PP(1);
	char	   *etag = text_to_cstring(PG_GETARG_TEXT_PP(2));
	bool		replaced;

	replaced = objstore_put_if_match(store, require_key(store, key),
									 VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), etag);
	objstore_close(store);
	PG_RETURN_BOOL(replaced);
}

PG_FUNCTION_INFO_V1(vlake_lake_delete);
Datum
vlake_lake_delete(PG_FUNCTION_ARGS)
{
	char	   *key;
	ObjStore   *store = open_for_uri(PG_GETARG_TEXT_PP(0), &key);

	objstore_delete(store, require_key(store, key));
	objstore_close(store);
	PG_RETURN_VOID();
}

/* lake_delete_many(root, keys[]): one delete_many call under one root */
PG_FUNCTION_INFO_V1(vlake_lake_delete_many);
Datum
vlake_lake_delete_many(PG_FUNCTION_ARGS)
{
	char	   *root = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *keys = NIL;
	ObjStore   *store;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("keys must not contain NULL")));
		keys = lappend(keys, TextDatumGetCString(elems[i]));
	}
	store = objstore_open(root);
	objstore_delete_many(store, keys);
	objstore_close(store);
	PG_RETURN_INT32(n);
}

/* lake_reclaim_temporaries(uri_prefix, min_age interval) -> bigint */
PG_FUNCTION_INFO_V1(vlake_lake_reclaim_temporaries);
Datum
vlake_lake_reclaim_temporaries(PG_FUNCTION_ARGS)
{
	char	   *prefix;
	ObjStore   *store = open_for_uri(PG_GETARG_TEXT_PP(0), &prefix);
	Interval   *age = PG_GETARG_INTERVAL_P(1);
	int64		secs;
	int64		n;

	secs = (int64) (age->time / USECS_PER_SEC) +
		((int64) age->day + (int64) age->month * DAYS_PER_MONTH) * SECS_PER_DAY;
	n = objstore_reclaim_temporaries(store, prefix, Max(secs, 0));
	objstore_close(store);
	PG_RETURN_INT64(n);
}

/*
 * lake_write_agg(uri, chunk): a streamed write of the aggregated chunks, in
 * aggregation order.  The object appears when the aggregate finishes;
 * an ERROR, a cancel or a crash before that leaves nothing visible.
 */
typedef struct WriteAggState
{
	ObjWriter  *writer;
	char	   *uri;
	int64		bytes;
} WriteAggState;

PG_FUNCTION_INFO_V1(vlake_lake_write_agg_step);
Datum
vlake_lake_write_agg_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	WriteAggState *st = PG_ARGISNULL(0) ? NULL : (WriteAggState *) PG_GETARG_POINTER(0);
	char	   *uri;
	bytea	   *chunk;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "lake_write_agg_step called in non-aggregate context");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the URI of lake_write_agg must not be NULL")));
	uri = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (st == NULL)
	{
		char	   *key;
		char	   *root;
		ObjStore   *store;

		st = MemoryContextAllocZero(aggcxt, sizeof(WriteAggState));
		st->uri = MemoryContextStrdup(aggcxt, uri);
		objstore_split_uri(uri, &root, &key);
		store = objstore_open(root);
		st->writer = objstore_writer_begin(store, require_key(store, key));
		objstore_close(store);
	}
	else if (strcmp(st->uri, uri) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lake_write_agg must write one object, got \"%s\" and \"%s\"", st->uri, uri)));
	if (st->writer == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lake_write_agg cannot be used as a window function")));
	if (!PG_ARGISNULL(2))
	{
		chunk = PG_GETARG_BYTEA_PP(2);
		objstore_writer_write(st->writer, VARDATA_ANY(chunk), VARSIZE_ANY_EXHDR(chunk));
		st->bytes += VARSIZE_ANY_EXHDR(chunk);
	}
	CHECK_FOR_INTERRUPTS();
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(vlake_lake_write_agg_final);
Datum
vlake_lake_write_agg_final(PG_FUNCTION_ARGS)
{
	WriteAggState *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (WriteAggState *) PG_GETARG_POINTER(0);
	if (st->writer)
	{
		ObjWriter  *w = st->writer;

		st->writer = NULL;
		objstore_writer_finish(w);
	}
	PG_RETURN_INT64(st->bytes);
}

PG_FUNCTION_INFO_V1(vlake_cache_sweep);
Datum
vlake_cache_sweep(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(objcache_sweep());
}
