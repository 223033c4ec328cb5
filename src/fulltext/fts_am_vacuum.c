/*
 * fts_am_vacuum.c — VACUUM of a vlake_bm25 index (tombstones for the rows it
 * removed), the merge that folds the delta and the tombstones into a new
 * lake part (vlake.bm25_merge, run by the database workers), what an index
 * holds (vlake.bm25_index_info), and which lake parts the metapages name
 * (for the lake's snapshot-exact GC, src/lake/lake_part.c).
 *
 * Why the merge is safe with concurrent writers: it holds
 * ShareUpdateExclusiveLock on the table (so no VACUUM, no other merge) but
 * not against INSERT.  It folds the delta and tombstone bytes of the
 * metapage copy it read; inserts appended meanwhile stay in the delta (the
 * switch moves the log's start, never drops bytes past what was folded).
 * The new part is written completely before the metapage names it; a
 * crash before the switch leaves an unnamed part that GC retires; the old
 * part is unnamed by the switch and GC deletes it once no snapshot that
 * could have read the old metapage remains.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "commands/vacuum.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "fulltext/fts_am_postings.h"
#include "lake/lake_fault.h"
#include "lake/lake_rowref.h"

PG_FUNCTION_INFO_V1(vlake_bm25_merge);
PG_FUNCTION_INFO_V1(vlake_bm25_index_info);

/* ---- VACUUM ---- */

#define TOMB_BATCH 1000

typedef struct TombWriter
{
	Relation	index;
	uint64		buf[TOMB_BATCH];
	int			n;
	double		removed;
} TombWriter;

static void
tomb_flush(TombWriter *w)
{
	if (w->n > 0)
		fts_log_append(w->index, FTS_LOG_TOMB, (const char *) w->buf, sizeof(uint64) * w->n);
	w->n = 0;
}

static void
tomb_add(TombWriter *w, uint64 t)
{
	w->buf[w->n++] = t;
	w->removed++;
	if (w->n == TOMB_BATCH)
		tomb_flush(w);
}

IndexBulkDeleteResult *
fts_am_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				  IndexBulkDeleteCallback callback, void *state)
{
	Relation	index = info->index;
	FtsAmSources *s;
	TombWriter *w = palloc0(sizeof(TombWriter));
	double		kept = 0;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	w->index = index;
	s = fts_am_get_sources(index);
	for (int i = 0; i < s->nsources; i++)
	{
		FtsSource  *src = s->sources[i];
		bool		is_delta = s->delta_offsets != NULL && i == s->nsources - 1;

		for (uint64 doc = 0; doc < src->ndocs; doc++)
		{
			ItemPointerData tid;
			uint64		ref;

			vacuum_delay_point();
			if (src->deleted(src, doc))
				continue;
			ref = src->doc_ref(src, doc);
			lake_rowref_to_tid(ref, &tid);
			if (callback(&tid, state))
				tomb_add(w, is_delta ? (FTS_TOMB_DELTA | s->delta_offsets[doc]) : ref);
			else
				kept++;
		}
	}
	tomb_flush(w);
	stats->tuples_removed += w->removed;
	stats->num_index_tuples = kept;
	stats->num_pages = RelationGetNumberOfBlocks(index);
	pfree(w);
	return stats;
}

IndexBulkDeleteResult *
fts_am_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	fts_log_recycle(info->index);
	fts_log_vacuum_free_pages(info->index);
	if (stats == NULL)
	{
		FtsMetaData m;

		stats = palloc0(sizeof(IndexBulkDeleteResult));
		fts_meta_read(info->index, &m);
		stats->num_index_tuples = m.part_docs + m.delta.records;
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}

/* ---- merge ---- */

static bool
merge_deleted(void *arg, int input, uint64_t doc)
{
	FtsAmSources *s = arg;
	FtsSource  *src = s->sources[input];

	return src->deleted(src, doc);
}

/* Fold the delta and the tombstones into a new part; false: nothing to fold. */
static bool
bm25_merge(Relation index)
{
	FtsAmSources *s = fts_am_get_sources(index);
	FtsMetaData m = s->meta;
	FtsPostingsReader *inputs[2];
	uint8	   *image;
	size_t		size;
	FtsPostingsError err;
	FtsAlloc	a;
	char		prefix[LAKE_PREFIX_MAX];
	char		etag[128];
	uint64		psize;
	uint64		docs;

	if (m.delta.records == 0 && m.tomb.records == 0)
		return false;
	/* pages of logs earlier merges emptied, once nothing can read them */
	fts_log_recycle(index);
	for (int i = 0; i < s->nsources; i++)
		inputs[i] = s->readers[i];
	fts_am_alloc_init(&a, CurrentMemoryContext);
	if (fts_postings_merge(&a, inputs, s->nsources, merge_deleted, s,
						   Max((size_t) maintenance_work_mem * 1024, (size_t) 256 * 1024 * 1024),
						   &image, &size, &err) != FTSP_OK)
		fts_am_postings_error(index, RelationGetRelationName(index), &err);
	lake_fault("bm25_merge_write");
	fts_am_write_image(index, image, size, m.location[0] ? m.location : fts_am_location(index),
					   prefix, &psize, etag);
	{
		/* the documents the new part holds */
		FtsPostingsReader *r = fts_postings_open(&a, image, size, 0, &err);

		if (r == NULL)
			fts_am_postings_error(index, prefix, &err);
		docs = fts_postings_ndocs(r);
		fts_postings_close(r);
	}
	lake_fault("bm25_merge_switch");
	fts_meta_switch_part(index, m.location[0] ? m.location : fts_am_location(index), prefix,
						 psize, etag, docs, m.delta.bytes, m.delta.records,
						 m.tomb.bytes, m.tomb.records);
	pfree(image);
	return true;
}

static Relation
open_bm25_index(Oid indexoid, LOCKMODE heaplock, Relation *heap)
{
	Oid			heapoid = IndexGetRelation(indexoid, true);
	Relation	index;

	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation with OID %u is not an index", indexoid)));
	*heap = table_open(heapoid, heaplock);
	index = index_open(indexoid, heaplock);
	if (!fts_am_is_ours(index->rd_rel->relam))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vlake_bm25 or vlake_sparse index", RelationGetRelationName(index))));
	return index;
}

/* vlake.bm25_merge(index regclass) → bool: folded something */
Datum
vlake_bm25_merge(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	heap;
	Relation	index = open_bm25_index(indexoid, ShareUpdateExclusiveLock, &heap);
	bool		done;

	if (!pg_class_ownercheck(RelationGetRelid(heap), GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(heap->rd_rel->relkind),
					   RelationGetRelationName(heap));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot merge a vlake_bm25 index during recovery")));
	/* a part prefix needs an xid (lake_part_new_prefix) */
	(void) GetCurrentTransactionId();
	done = bm25_merge(index);
	index_close(index, NoLock);
	table_close(heap, NoLock);
	PG_RETURN_BOOL(done);
}

/* vlake.bm25_index_info(index) */
Datum
vlake_bm25_index_info(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	heap;
	Relation	index = open_bm25_index(indexoid, AccessShareLock, &heap);
	FtsMetaData m;
	TupleDesc	desc;
	Datum		v[10];
	bool		n[10] = {0};
	FtsIndexSettings set;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	fts_meta_read(index, &m);
	fts_am_settings(index, &m, &set);
	v[0] = CStringGetTextDatum(m.config);
	v[1] = Int32GetDatum(m.nfields);
	v[2] = CStringGetTextDatum(m.location);
	v[3] = CStringGetTextDatum(m.prefix);
	n[3] = m.prefix[0] == '\0';
	v[4] = Int64GetDatum((int64) m.part_docs);
	v[5] = Int64GetDatum((int64) m.part_size);
	v[6] = Int64GetDatum((int64) m.delta.records);
	v[7] = Int64GetDatum((int64) (m.delta.bytes - m.delta.start));
	v[8] = Int64GetDatum((int64) m.tomb.records);
	v[9] = Int64GetDatum((int64) m.generation);
	index_close(index, NoLock);
	table_close(heap, NoLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, n)));
}

/* ---- GC: the parts metapages name ---- */

static void
add_metapage_prefix(LakeRefs *refs, Relation index)
{
	FtsMetaData m;

	fts_meta_read(index, &m);
	if (m.prefix[0] != '\0')
		lake_refs_add(refs, m.prefix);
}

/* Every prefix a vlake_bm25 or vlake_sparse metapage of this database names. */
static void
collect_refs(LakeRefs *refs)
{
	const char *ams[] = {FTS_AM_NAME, FTS_SPARSE_AM_NAME};

	for (int i = 0; i < lengthof(ams); i++)
	{
		Oid			am = get_index_am_oid(ams[i], true);

		if (OidIsValid(am))
			lake_refs_add_indexes(refs, am, add_metapage_prefix);
	}
}

const LakePartKind fts_part_kind = {
	.dir = "vlake_bm25",
	.noun = "vlake_bm25 index",
	.lock_key = 0x564C4246,		/* "VLBF" */
	.collect_refs = collect_refs,
};
