/*
 * fts_am_build.c — building a vlake_bm25 index (every row analyzed into
 * one postings image, written as a lake part) and inserting into it (the
 * row's tokens appended to the WAL-logged delta log).
 */
#include "postgres.h"

#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "objstore/objstore.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fulltext/fts_am_internal.h"
#include "fulltext/fts_am_postings.h"
#include "fulltext/fts_config.h"
#include "lake/lake_rowref.h"
#include "vector/vector.h"

/* ---- one row's document: fields analyzed into tokens ---- */

typedef struct DocTokens
{
	Relation	index;
	int			field;
	uint32		count;			/* |d| so far: the fields' lengths */
	uint32		field_len;		/* this field's: its last position + 1 */
	FtsDocSink *sink;
} DocTokens;

static bool
doc_token(void *arg, const char *term, size_t len, uint32_t position,
		  size_t start, size_t end)
{
	DocTokens  *d = arg;

	if (len > FTS_MAX_TERM_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("document too large for vlake_bm25 index \"%s\"",
						RelationGetRelationName(d->index)),
				 errdetail("A term has %zu bytes; the limit is %d.", len, FTS_MAX_TERM_BYTES)));
	if (position > FTS_MAX_POSITION)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("document too large for vlake_bm25 index \"%s\"",
						RelationGetRelationName(d->index)),
				 errdetail("A field has more than %u tokens.", (unsigned) FTS_MAX_POSITION)));
	d->sink->token(d->sink, term, len, FTS_POSITION(d->field, position));
	if (position + 1 > d->field_len)
		d->field_len = position + 1;
	return true;
}

static void
analyze_field(DocTokens *d, const FtsIndexSettings *s, text *t)
{
	if (d->field >= s->nfields)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row has more fields than vlake_bm25 index \"%s\" has weights",
						RelationGetRelationName(d->index)),
				 errdetail("The index has %d fields (option \"weights\").", s->nfields)));
	d->field_len = 0;
	fts_config_analyze(s->config, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), doc_token, d);
	/* |d| counts stop words too (the analyzer's positions), as the operators do */
	d->count += d->field_len;
}

/*
 * Analyze the indexed value (text or text[]) into sink; returns |d|: per
 * field, the last token's position + 1 (stop words count; a trailing stop
 * word does not), summed over the fields.
 */
uint32
fts_am_analyze_value(Relation index, const FtsIndexSettings *s, Datum value, FtsDocSink *sink)
{
	DocTokens	d = {index, 0, 0, 0, sink};
	Oid			type = TupleDescAttr(RelationGetDescr(index), 0)->atttypid;

	if (type == TEXTARRAYOID)
	{
		ArrayType  *arr = DatumGetArrayTypeP(value);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("vlake_bm25 index \"%s\" indexes one-dimensional text arrays",
							RelationGetRelationName(index))));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			d.field = i;
			if (!nulls[i])
				analyze_field(&d, s, DatumGetTextPP(elems[i]));
		}
	}
	else
		analyze_field(&d, s, DatumGetTextPP(value));
	return d.count;
}

/*
 * A sparsevec row: each nonzero (i, v) a token, term i as 4 big-endian
 * bytes (the dictionary then sorts by dimension), the float's bits in the
 * position slot; |d| = nnz.  Inner products with non-negative weights are
 * what the exact top-k bounds need: a negative weight is refused.
 */
uint32
fts_am_sparse_value(Relation index, Datum value, ItemPointer tid, FtsDocSink *sink)
{
	SparseVector *v = DatumGetSparseVector(value);
	const float *x = SPARSEVEC_VALUES(v);

	for (int i = 0; i < v->nnz; i++)
	{
		uint32		d = (uint32) v->indices[i];
		char		term[4];
		uint32		bits;

		if (!(x[i] >= 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("vlake_sparse index \"%s\" cannot index row %s: element %d is negative (%g)",
							RelationGetRelationName(index),
							tid ? psprintf("(%u,%u)", ItemPointerGetBlockNumber(tid),
										   ItemPointerGetOffsetNumber(tid)) : "?",
							v->indices[i] + 1, (double) x[i]),
					 errdetail("vlake_sparse indexes non-negative weights, as learned sparse models produce.")));
		term[0] = (char) (d >> 24);
		term[1] = (char) (d >> 16);
		term[2] = (char) (d >> 8);
		term[3] = (char) d;
		memcpy(&bits, &x[i], sizeof(bits));
		sink->token(sink, term, 4, bits);
	}
	return (uint32) v->nnz;
}

/* ---- build ---- */

typedef struct BuildState
{
	Relation	index;
	FtsIndexSettings settings;
	FtsAmBuilder *builder;
	double		tuples;
	MemoryContext tmp;
} BuildState;

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *arg)
{
	BuildState *bs = arg;
	MemoryContext old;
	uint32		dl;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmp);
	fts_am_builder_begin(bs->builder, lake_rowref_from_tid(tid));
	if (bs->settings.params.impact)
		dl = fts_am_sparse_value(index, values[0], tid, &bs->builder->sink);
	else
		dl = fts_am_analyze_value(index, &bs->settings, values[0], &bs->builder->sink);
	fts_am_builder_end(bs->builder, dl);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmp);
	bs->tuples++;
}

/* The settings a build fixes, from the reloptions and the column type. */
static void
build_settings(Relation index, FtsIndexSettings *s)
{
	Oid			type = TupleDescAttr(RelationGetDescr(index), 0)->atttypid;
	FtsIndexOptions *o = (FtsIndexOptions *) index->rd_options;

	fts_am_settings(index, NULL, s);
	if (s->params.impact)
		return;					/* sparsevec: fixed by fts_am_settings */
	if (type != TEXTARRAYOID)
	{
		if (o && o->weights_offset && s->nfields > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("vlake_bm25 index \"%s\" on a text column has one field, but \"weights\" gives %d",
							RelationGetRelationName(index), s->nfields),
					 errhint("Index ARRAY[col1, col2, ...] to weight several columns.")));
		s->nfields = 1;
	}
}

IndexBuildResult *
fts_am_build(Relation heap, Relation index, IndexInfo *info)
{
	IndexBuildResult *result = palloc0(sizeof(IndexBuildResult));
	BuildState	bs;
	FtsMetaData m;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake_bm25 build",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	memset(&bs, 0, sizeof(bs));
	bs.index = index;
	build_settings(index, &bs.settings);
	bs.builder = fts_am_builder_create(index, &bs.settings);
	bs.tmp = AllocSetContextCreate(cxt, "vlake_bm25 build row", ALLOCSET_DEFAULT_SIZES);
	result->heap_tuples = table_index_build_scan(heap, index, info, true, true,
												 build_callback, &bs, NULL);
	result->index_tuples = bs.tuples;

	memset(&m, 0, sizeof(m));
	m.magic = FTS_META_MAGIC;
	m.version = FTS_META_VERSION;
	strlcpy(m.config, bs.settings.config, sizeof(m.config));
	m.nfields = bs.settings.nfields;
	memcpy(m.weights, bs.settings.weights, sizeof(double) * bs.settings.nfields);
	m.delta.head = m.delta.tail = InvalidBlockNumber;
	m.tomb.head = m.tomb.tail = InvalidBlockNumber;
	strlcpy(m.location, fts_am_location(index), sizeof(m.location));
	fts_am_write_part(index, bs.builder, m.location, m.prefix, &m.part_size, m.part_etag,
					  &m.part_docs);
	m.generation = 1;
	fts_meta_init(index, MAIN_FORKNUM, &m);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return result;
}

/* Unlogged index: an empty metapage in the init fork (no part). */
void
fts_am_buildempty(Relation index)
{
	FtsMetaData m;
	FtsIndexSettings s;

	build_settings(index, &s);
	memset(&m, 0, sizeof(m));
	m.magic = FTS_META_MAGIC;
	m.version = FTS_META_VERSION;
	strlcpy(m.config, s.config, sizeof(m.config));
	m.nfields = s.nfields;
	memcpy(m.weights, s.weights, sizeof(double) * s.nfields);
	m.delta.head = m.delta.tail = InvalidBlockNumber;
	m.tomb.head = m.tomb.tail = InvalidBlockNumber;
	fts_meta_init(index, INIT_FORKNUM, &m);
}

/* ---- insert: one delta record ---- */

typedef struct RecordSink
{
	FtsDocSink	sink;
	StringInfoData buf;
	uint32		ntokens;
} RecordSink;

static void
record_token(FtsDocSink *s, const char *term, size_t len, uint32 position)
{
	RecordSink *r = (RecordSink *) s;
	uint16		l = (uint16) len;

	appendBinaryStringInfo(&r->buf, (const char *) &l, sizeof(l));
	appendBinaryStringInfo(&r->buf, term, len);
	appendBinaryStringInfo(&r->buf, (const char *) &position, sizeof(position));
	r->ntokens++;
}

bool
fts_am_insert(Relation index, Datum *values, bool *isnull, ItemPointer tid,
			  Relation heap, IndexUniqueCheck check, bool unchanged,
			  IndexInfo *info)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake_bm25 insert",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	FtsMetaData m;
	FtsIndexSettings s;
	RecordSink	r;
	FtsDeltaHeader h;

	if (isnull[0])
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return false;
	}
	fts_meta_read(index, &m);
	fts_am_settings(index, &m, &s);
	memset(&r, 0, sizeof(r));
	r.sink.token = record_token;
	initStringInfo(&r.buf);
	memset(&h, 0, sizeof(h));
	appendBinaryStringInfo(&r.buf, (const char *) &h, sizeof(h));
	h.ref = lake_rowref_from_tid(tid);
	h.doclen = s.params.impact ? fts_am_sparse_value(index, values[0], tid, &r.sink)
		: fts_am_analyze_value(index, &s, values[0], &r.sink);
	h.ntokens = r.ntokens;
	memcpy(r.buf.data, &h, sizeof(h));
	if ((uint64) r.buf.len > MaxAllocSize / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("document too large for vlake_bm25 index \"%s\"",
						RelationGetRelationName(index))));
	fts_log_append(index, FTS_LOG_DELTA, r.buf.data, r.buf.len);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return false;
}
