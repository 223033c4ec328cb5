/*
 * byte_source.c — ByteSource over memory and over lake objects (objstore).
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "lake/lake_error.h"
#include "parquet/byte_source.h"

#ifndef VLAKE_FRONTEND_TOOL
#include "objstore/objstore.h"
#endif

void
parquet_source_read_ranges(ByteSource *src, ByteRange *ranges, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (ranges[i].offset > src->size || ranges[i].length > src->size - ranges[i].offset)
			lake_corrupt("Parquet file", src->name,
						 "read past the end: range at offset %llu of %llu bytes, object size %llu bytes",
						 (unsigned long long) ranges[i].offset,
						 (unsigned long long) ranges[i].length,
						 (unsigned long long) src->size);
		src->nbytes += ranges[i].length;
	}
	if (n == 0)
		return;
	src->nrequests++;
	src->nranges += n;
	src->read_ranges(src, ranges, n);
}

char *
parquet_source_read(ByteSource *src, uint64 offset, uint64 length)
{
	ByteRange	r;

	if (length > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot read %llu bytes at once from \"%s\"",
						(unsigned long long) length, src->name)));
	r.offset = offset;
	r.length = length;
	r.dest = palloc(Max(length, 1));
	parquet_source_read_ranges(src, &r, 1);
	return r.dest;
}

void
parquet_source_close(ByteSource *src)
{
	if (src->close)
		src->close(src);
}

/* ---- memory ---- */

static void
memory_read_ranges(ByteSource *src, ByteRange *ranges, int n)
{
	for (int i = 0; i < n; i++)
		memcpy(ranges[i].dest, (const char *) src->state + ranges[i].offset, ranges[i].length);
}

ByteSource *
parquet_source_from_memory(const void *data, uint64 size, const char *name)
{
	ByteSource *src = palloc0(sizeof(ByteSource));

	src->name = name;
	src->size = size;
	src->state = (void *) data;
	src->read_ranges = memory_read_ranges;
	return src;
}

#ifndef VLAKE_FRONTEND_TOOL
/* ---- object store (file:// and s3:// lakes) ---- */

typedef struct ObjSourceState
{
	ObjStore   *store;
	char	   *key;
} ObjSourceState;

static void
objstore_read_ranges(ByteSource *src, ByteRange *ranges, int n)
{
	ObjSourceState *st = src->state;
	ObjRange   *or = palloc(sizeof(ObjRange) * n);

	for (int i = 0; i < n; i++)
	{
		or[i].offset = ranges[i].offset;
		or[i].length = ranges[i].length;
		or[i].dest = ranges[i].dest;
	}
	objstore_get_ranges(st->store, st->key, or, n);
	pfree(or);
}

static void
objstore_source_close(ByteSource *src)
{
	ObjSourceState *st = src->state;

	if (st->store)
		objstore_close(st->store);
	st->store = NULL;
}

ByteSource *
parquet_source_open_uri(const char *uri)
{
	ByteSource *src = palloc0(sizeof(ByteSource));
	ObjSourceState *st = palloc0(sizeof(ObjSourceState));
	const char *slash = strrchr(uri, '/');
	char	   *root;
	ObjStat		stat;

	if (slash == NULL || slash[1] == '\0' || strstr(uri, "://") == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not the URI of an object", uri),
				 errhint("Use file:///absolute/path/file.parquet or s3://bucket/key.parquet.")));
	root = pnstrdup(uri, slash - uri + 1);
	st->store = objstore_open(root);
	st->key = pstrdup(slash + 1);
	if (!objstore_head(st->store, st->key, &stat))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("object \"%s\" does not exist", uri)));
	src->name = pstrdup(uri);
	src->size = stat.size;
	src->state = st;
	src->read_ranges = objstore_read_ranges;
	src->close = objstore_source_close;
	return src;
}
#endif
