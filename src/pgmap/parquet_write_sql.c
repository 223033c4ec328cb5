/*
 * parquet_write_sql.c — vlake.parquet_write(uri, query, options): write the
 * result of a query to a new Parquet file in the lake.
 *
 * The query runs through an SPI cursor and is fetched in batches, so memory
 * stays bounded by the writer's row-group budget, whatever the result size.
 * The file is created through the object store (file:// confined to
 * vlake.allowed_file_roots, s3:// as a multipart upload) and becomes visible
 * only when complete; an error or cancel leaves nothing visible.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "pgmap/pgmap_writer.h"
#include "parquet/parquet_codec.h"
#include "objstore/objstore.h"

#define FETCH_BATCH 1000

/* ------------------------------------------------------------- options -- */

static char *
jbv_text(JsonbValue *v, const char *key)
{
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Parquet option \"%s\" must be a string", key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static int64
jbv_int(JsonbValue *v, const char *key, int64 min, int64 max)
{
	int64		r;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Parquet option \"%s\" must be a number", key)));
	r = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v->val.numeric)));
	if (r < min || r > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Parquet option \"%s\" must be between " INT64_FORMAT " and " INT64_FORMAT,
						key, min, max)));
	return r;
}

static bool
jbv_bool(JsonbValue *v, const char *key)
{
	if (v->type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Parquet option \"%s\" must be true or false", key)));
	return v->val.boolean;
}

static PqCodec
parse_codec(const char *name)
{
	PqCodec		c;

	if (!parquet_codec_from_name(name, &c))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown Parquet compression \"%s\"", name),
				 errhint("Use zstd, snappy, gzip, lz4_raw or none.")));
	return c;
}

typedef void (*member_fn) (const char *key, JsonbValue *v, void *arg);

/* Nested containers arrive as jbvBinary when iterating with skipNested. */
static void
for_each_member_skip(JsonbContainer *jc, const char *what, member_fn fn, void *arg)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (!JsonContainerIsObject(jc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", what)));
	it = JsonbIteratorInit(jc);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
			fn(key, &v, arg);
	}
}

static void
column_option(const char *key, JsonbValue *v, void *arg)
{
	PqColumnOptions *co = arg;

	if (strcmp(key, "compression") == 0)
		co->codec = parse_codec(jbv_text(v, key));
	else if (strcmp(key, "dictionary") == 0)
		co->dictionary = jbv_bool(v, key) ? 1 : 0;
	else if (strcmp(key, "field_id") == 0)
		co->field_id = (int32) jbv_int(v, key, 0, PG_INT32_MAX);
	else if (strcmp(key, "encoding") == 0)
	{
		char	   *e = jbv_text(v, key);

		if (pg_strcasecmp(e, "plain") == 0)
			co->encoding = PARQUET_ENC_PLAIN;
		else if (pg_strcasecmp(e, "delta_binary_packed") == 0)
			co->encoding = PARQUET_ENC_DELTA_BINARY_PACKED;
		else if (pg_strcasecmp(e, "byte_stream_split") == 0)
			co->encoding = PARQUET_ENC_BYTE_STREAM_SPLIT;
		else if (pg_strcasecmp(e, "delta_length_byte_array") == 0)
			co->encoding = PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown Parquet column encoding \"%s\"", e),
					 errhint("Use plain, delta_binary_packed, byte_stream_split or delta_length_byte_array.")));
	}
	else if (strcmp(key, "page_rows") == 0)
		co->page_rows = (int) jbv_int(v, key, 1, 1000000);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown Parquet column option \"%s\"", key),
				 errhint("Column options are compression, dictionary, encoding, page_rows and field_id.")));
}

static void
columns_member(const char *key, JsonbValue *v, void *arg)
{
	PgmapWriterOptions *o = arg;
	PqColumnOptions *co = palloc0(sizeof(PqColumnOptions));

	co->name = pstrdup(key);
	co->codec = -1;
	co->dictionary = -1;
	co->field_id = -1;
	co->encoding = -1;
	if (v->type != jbvBinary)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options for Parquet column \"%s\" must be a JSON object", key)));
	for_each_member_skip(v->val.binary.data, "column options", column_option, co);
	o->parquet.columns = lappend(o->parquet.columns, co);
}

static void
metadata_member(const char *key, JsonbValue *v, void *arg)
{
	PgmapWriterOptions *o = arg;
	PqKeyValue *kv = palloc0(sizeof(PqKeyValue));

	if (strncmp(key, "vlake.", 6) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Parquet metadata key \"%s\" is reserved", key),
				 errdetail("Keys starting with \"vlake.\" are written by vlake itself.")));
	kv->key = pstrdup(key);
	kv->value = jbv_text(v, key);
	o->parquet.key_values = lappend(o->parquet.key_values, kv);
}

static void
top_option(const char *key, JsonbValue *v, void *arg)
{
	PgmapWriterOptions *o = arg;

	if (strcmp(key, "compression") == 0)
		o->parquet.codec = parse_codec(jbv_text(v, key));
	else if (strcmp(key, "compression_level") == 0)
		o->parquet.codec_level = (int) jbv_int(v, key, 0, 22);
	else if (strcmp(key, "dictionary") == 0)
		o->parquet.dictionary = jbv_bool(v, key);
	else if (strcmp(key, "dictionary_max_bytes") == 0)
		o->parquet.dictionary_max_bytes = (size_t) jbv_int(v, key, 1024, 256 * 1024 * 1024);
	else if (strcmp(key, "page_bytes") == 0)
		o->parquet.page_bytes = (size_t) jbv_int(v, key, 1024, 256 * 1024 * 1024);
	else if (strcmp(key, "page_rows") == 0)
		o->parquet.page_rows = (int) jbv_int(v, key, 0, 1000000);
	else if (strcmp(key, "row_group_rows") == 0)
		o->parquet.row_group_rows = jbv_int(v, key, 1, PG_INT64_MAX);
	else if (strcmp(key, "row_group_bytes") == 0)
		o->parquet.row_group_bytes = (size_t) jbv_int(v, key, 65536, (int64) 1024 * 1024 * 1024);
	else if (strcmp(key, "first_row_id") == 0)
		o->first_row_id = jbv_int(v, key, 0, PG_INT64_MAX);
	else if (strcmp(key, "statistics") == 0)
		o->parquet.statistics = jbv_bool(v, key);
	else if (strcmp(key, "layout") == 0)
	{
		char	   *l = jbv_text(v, key);

		if (strcmp(l, "vector") == 0)
			o->vector_layout = true;
		else if (strcmp(l, "default") == 0)
			o->vector_layout = false;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown Parquet layout \"%s\"", l),
					 errhint("Use \"default\" or \"vector\".")));
	}
	else if (strcmp(key, "columns") == 0 || strcmp(key, "metadata") == 0)
	{
		if (v->type != jbvBinary)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("Parquet option \"%s\" must be a JSON object", key)));
		for_each_member_skip(v->val.binary.data, key,
							 strcmp(key, "columns") == 0 ? columns_member : metadata_member, o);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown Parquet write option \"%s\"", key)));
}

/* Options from jsonb (NULL = defaults); the vector layout implies its own. */
static void
writer_options_from_jsonb(Jsonb *jb, PgmapWriterOptions *opts)
{
	pgmap_writer_default_options(opts);
	if (jb)
		for_each_member_skip(&jb->root, "Parquet options", top_option, opts);
	if (opts->vector_layout)
	{
		opts->parquet.codec = PARQUET_CODEC_UNCOMPRESSED;
		opts->parquet.dictionary = false;
		if (opts->parquet.page_rows <= 0)
			opts->parquet.page_rows = 128;
	}
}

/* -------------------------------------------------------------- SQL ---- */

static ObjStore *
open_store_for(const char *uri, char **key)
{
	const char *slash = strrchr(uri, '/');
	const char *scheme = strstr(uri, "://");
	char	   *root;

	if (scheme == NULL || slash == NULL || slash < scheme + 3 || slash[1] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not the URI of a lake object", uri),
				 errhint("Use file:///path/to/file.parquet or s3://bucket/key.parquet.")));
	root = pnstrdup(uri, slash - uri + 1);
	*key = pstrdup(slash + 1);
	return objstore_open(root);
}

/* Run the query through a cursor and stream its rows into the sink. */
static void
write_query(PqSink *sink, const char *query, PgmapWriterOptions *opts,
			int64 *rows, uint64 *size)
{
	PgmapWriter *w = NULL;
	SPIPlanPtr	plan;
	Portal		portal;
	MemoryContext batch_cxt;
	MemoryContext outer = CurrentMemoryContext;
	Datum	   *values = NULL;
	bool	   *nulls = NULL;

	SPI_connect();
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for the Parquet query: %s", SPI_result_code_string(SPI_result));
	if (!SPI_is_cursor_plan(plan))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the query given to vlake.parquet_write must return rows")));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	batch_cxt = AllocSetContextCreate(outer, "parquet_write batch", ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_BATCH);
		if (w == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(outer);

			w = pgmap_writer_begin(sink, SPI_tuptable->tupdesc, opts);
			values = palloc(sizeof(Datum) * Max(SPI_tuptable->tupdesc->natts, 1));
			nulls = palloc(sizeof(bool) * Max(SPI_tuptable->tupdesc->natts, 1));
			MemoryContextSwitchTo(old);
		}
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			MemoryContext old = MemoryContextSwitchTo(batch_cxt);

			CHECK_FOR_INTERRUPTS();
			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
			pgmap_writer_add_row(w, values, nulls);
			MemoryContextSwitchTo(old);
			MemoryContextReset(batch_cxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	*rows = pgmap_writer_rows(w);
	*size = pgmap_writer_finish(w);
	SPI_finish();
}

PG_FUNCTION_INFO_V1(vlake_parquet_write);
Datum
vlake_parquet_write(PG_FUNCTION_ARGS)
{
	char	   *uri = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Jsonb	   *jb = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	PgmapWriterOptions opts;
	ObjStore   *store;
	char	   *key;
	PqSink	   *sink;
	uint64		size = 0;
	int64		rows = 0;
	TupleDesc	rtd;
	Datum		out[2];
	bool		outnull[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &rtd) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	writer_options_from_jsonb(jb, &opts);
	store = open_store_for(uri, &key);
	sink = parquet_sink_open_objstore(store, key);

	/* an error anywhere leaves nothing visible: abort the upload at once */
	PG_TRY();
	{
		write_query(sink, query, &opts, &rows, &size);
	}
	PG_CATCH();
	{
		if (!sink->done)
			sink->abort(sink);
		PG_RE_THROW();
	}
	PG_END_TRY();

	out[0] = Int64GetDatum(rows);
	out[1] = Int64GetDatum((int64) size);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(rtd), out, outnull)));
}
