/*
 * objstore_stats.c — exact I/O counters, per backend and per root prefix.
 *
 * Every counter is incremented at the one place the event happens (the
 * read path in objstore.c / objstore_cache.c, the request wrappers in
 * objstore.c), so the numbers are exact, not sampled.  They live in this
 * backend's memory: vlake.io_stats() shows the calling session's counters,
 * one row per store root URI ("prefix"); vlake.io_stats_reset() zeroes them.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "objstore/objstore_internal.h"

struct ObjIoStats
{
	ObjIoStats *next;
	char	   *prefix;
	uint64		requests[OBJ_REQ_NKINDS];
	double		time_ms[OBJ_REQ_NKINDS];
	uint64		bytes_read;		/* fetched from the store by get requests */
	uint64		bytes_written;	/* sent to the store by put requests */
	uint64		bytes_requested;	/* asked for by callers of the read path */
	uint64		bytes_memory;	/* served from the memory tier */
	uint64		bytes_disk;		/* served from the disk tier */
	uint64		mem_hits;
	uint64		mem_misses;
	uint64		disk_hits;		/* in blocks */
	uint64		disk_misses;	/* in blocks */
	uint64		disk_fill_bytes;	/* written into the disk cache */
	uint64		histogram[OBJ_LAT_BUCKETS];
};

static ObjIoStats *all_stats = NULL;

void
objstore_io_totals(ObjIoTotals *out)
{
	memset(out, 0, sizeof(*out));
	for (ObjIoStats *s = all_stats; s; s = s->next)
	{
		out->bytes_memory += s->bytes_memory;
		out->bytes_disk += s->bytes_disk;
		out->bytes_lake += s->bytes_read;
		out->get_requests += s->requests[OBJ_REQ_GET];
	}
}

ObjIoStats *
objstats_for_root(const char *root_uri)
{
	ObjIoStats *s;

	for (s = all_stats; s; s = s->next)
		if (strcmp(s->prefix, root_uri) == 0)
			return s;
	s = MemoryContextAllocZero(TopMemoryContext, sizeof(ObjIoStats));
	s->prefix = MemoryContextStrdup(TopMemoryContext, root_uri);
	s->next = all_stats;
	all_stats = s;
	return s;
}

void
objstats_request(ObjIoStats *s, ObjReqKind kind, instr_time start, uint64 bytes)
{
	instr_time	now;
	double		us;
	int			b = 0;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	us = INSTR_TIME_GET_MICROSEC(now);
	s->requests[kind]++;
	s->time_ms[kind] += us / 1000.0;
	while (b < OBJ_LAT_BUCKETS - 1 && us >= (double) (UINT64CONST(1) << b))
		b++;
	s->histogram[b]++;
	if (kind == OBJ_REQ_GET)
		s->bytes_read += bytes;
	else if (kind == OBJ_REQ_PUT)
		s->bytes_written += bytes;
}

void
objstats_requested(ObjIoStats *s, uint64 bytes)
{
	s->bytes_requested += bytes;
}

void
objstats_mem(ObjIoStats *s, bool hit, uint64 bytes_served)
{
	if (hit)
	{
		s->mem_hits++;
		s->bytes_memory += bytes_served;
	}
	else
		s->mem_misses++;
}

void
objstats_disk(ObjIoStats *s, uint64 hits, uint64 misses, uint64 bytes_served)
{
	s->disk_hits += hits;
	s->disk_misses += misses;
	s->bytes_disk += bytes_served;
}

void
objstats_disk_fill(ObjIoStats *s, uint64 bytes)
{
	s->disk_fill_bytes += bytes;
}

/* ---------------------------------------------------------------- SQL ---- */

#define IO_STATS_COLS 22

PG_FUNCTION_INFO_V1(vlake_io_stats);
Datum
vlake_io_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ObjIoStats *s;

	InitMaterializedSRF(fcinfo, 0);
	for (s = all_stats; s; s = s->next)
	{
		Datum		values[IO_STATS_COLS];
		bool		nulls[IO_STATS_COLS];
		Datum		hist[OBJ_LAT_BUCKETS];
		int			i = 0;

		memset(nulls, 0, sizeof(nulls));
		values[i++] = CStringGetTextDatum(s->prefix);
		for (int k = 0; k < OBJ_REQ_NKINDS; k++)
			values[i++] = Int64GetDatum((int64) s->requests[k]);
		values[i++] = Int64GetDatum((int64) s->bytes_requested);
		values[i++] = Int64GetDatum((int64) s->bytes_read);
		values[i++] = Int64GetDatum((int64) s->bytes_written);
		values[i++] = Int64GetDatum((int64) s->bytes_memory);
		values[i++] = Int64GetDatum((int64) s->bytes_disk);
		values[i++] = Int64GetDatum((int64) s->mem_hits);
		values[i++] = Int64GetDatum((int64) s->mem_misses);
		values[i++] = Int64GetDatum((int64) s->disk_hits);
		values[i++] = Int64GetDatum((int64) s->disk_misses);
		values[i++] = Int64GetDatum((int64) s->disk_fill_bytes);
		for (int k = 0; k < OBJ_REQ_NKINDS; k++)
			values[i++] = Float8GetDatum(s->time_ms[k]);
		for (int b = 0; b < OBJ_LAT_BUCKETS; b++)
			hist[b] = Int64GetDatum((int64) s->histogram[b]);
		values[i++] = PointerGetDatum(construct_array(hist, OBJ_LAT_BUCKETS, INT8OID,
													  8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		Assert(i == IO_STATS_COLS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(vlake_io_stats_reset);
Datum
vlake_io_stats_reset(PG_FUNCTION_ARGS)
{
	ObjIoStats *s;

	for (s = all_stats; s; s = s->next)
	{
		ObjIoStats *next = s->next;
		char	   *prefix = s->prefix;

		memset(s, 0, sizeof(*s));
		s->next = next;
		s->prefix = prefix;
	}
	PG_RETURN_VOID();
}
