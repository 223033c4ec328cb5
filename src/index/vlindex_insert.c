/*
 * vlindex_insert.c — writes after the build: the delta and the tombstones.
 *
 * aminsert appends (TID, vector) to the delta, a chain of index pages that
 * every scan searches exhaustively (items above 2,000 dimensions span pages:
 * vlindex_delta.c).  Inserts serialise on the metapage lock
 * (held exclusively while the tail page is extended), which keeps the chain
 * and its counters consistent; every change is GenericXLog-logged.
 *
 * VACUUM: rows of the lake part cannot be removed from immutable files, so
 * their row references go to the tombstone chain that scans filter on;
 * dead delta items are deleted from their pages.  vlake.merge() later folds
 * both into a new lake part.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "index/vlindex.h"

/*
 * Append one item that fits a page to a chain (delta or tombstones) whose
 * head/tail/count live in the metapage.  Takes the metapage lock exclusively.
 */
void
vlindex_chain_append(Relation index, uint16 kind, const void *item, Size size,
			 int set_dim, int set_udim)
{
	Buffer		metabuf = ReadBuffer(index, VLINDEX_METAPAGE_BLKNO);
	Buffer		tailbuf = InvalidBuffer,
				newbuf = InvalidBuffer;
	GenericXLogState *xs;
	Page		metapage,
				tailpage = NULL,
				newpage;
	VlIndexMetaData *m;
	BlockNumber tail;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	m = VlIndexPageGetMeta(BufferGetPage(metabuf));
	if (set_dim > 0)
		vlindex_check_dim(index, m, set_dim, set_udim);	/* m->dim 0: set below */
	tail = kind == VLINDEX_PAGE_DELTA ? m->delta_tail : m->tomb_tail;

	if (tail != InvalidBlockNumber)
	{
		tailbuf = ReadBuffer(index, tail);
		LockBuffer(tailbuf, BUFFER_LOCK_EXCLUSIVE);
		if (PageGetFreeSpace(BufferGetPage(tailbuf)) < MAXALIGN(size))
		{
			newbuf = vlindex_new_buffer(index);
		}
	}
	else
		newbuf = vlindex_new_buffer(index);

	xs = GenericXLogStart(index);
	metapage = GenericXLogRegisterBuffer(xs, metabuf, 0);
	m = VlIndexPageGetMeta(metapage);
	if (set_dim > 0 && m->dim == 0)
		vlindex_meta_set_dim(metapage, set_dim, set_udim);
	if (BufferIsValid(tailbuf))
		tailpage = GenericXLogRegisterBuffer(xs, tailbuf, 0);
	if (BufferIsValid(newbuf))
	{
		BlockNumber nb = BufferGetBlockNumber(newbuf);

		newpage = GenericXLogRegisterBuffer(xs, newbuf, GENERIC_XLOG_FULL_IMAGE);
		vlindex_init_chain_page(newpage, kind, m->generation);
		if (tailpage)
			((VlIndexPageOpaque *) PageGetSpecialPointer(tailpage))->next = nb;
		if (kind == VLINDEX_PAGE_DELTA)
		{
			if (m->delta_head == InvalidBlockNumber)
				m->delta_head = nb;
			m->delta_tail = nb;
		}
		else
		{
			if (m->tomb_head == InvalidBlockNumber)
				m->tomb_head = nb;
			m->tomb_tail = nb;
		}
		tailpage = newpage;
	}
	if (PageAddItem(tailpage, (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "could not add item to vlake index \"%s\"", RelationGetRelationName(index));
	if (kind == VLINDEX_PAGE_DELTA)
		m->delta_count++;
	else
		m->tomb_count++;
	GenericXLogFinish(xs);

	if (BufferIsValid(newbuf))
		UnlockReleaseBuffer(newbuf);
	if (BufferIsValid(tailbuf))
		UnlockReleaseBuffer(tailbuf);
	UnlockReleaseBuffer(metabuf);
}

bool
vlindex_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		  Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
		  IndexInfo *indexInfo)
{
	VlIndexElemType	et;
	IvfMetric	metric;
	int			dim,
				udim;
	float	   *x;

	if (isnull[0])
		return false;
	metric = vlindex_metric(index, &et);
	x = palloc(sizeof(float) * VLINDEX_MAX_DIM);
	udim = vlindex_datum_to_floats(values[0], et, metric, 0, x, &dim, index);
	vlindex_delta_append(index, heap_tid, x, dim, udim);
	pfree(x);
	return false;
}


uint64 *
vlindex_tombstones_load(Relation index, const VlIndexMetaData *meta, int *n)
{
	BlockNumber blk = meta->tomb_head;
	int			cap = 64,
				cnt = 0;
	uint64	   *out = palloc(sizeof(uint64) * cap);

	while (blk != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		OffsetNumber maxoff;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		vlindex_check_chain_page(index, blk, page, VLINDEX_PAGE_TOMB, meta->generation);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);

			if (!ItemIdIsUsed(iid) || ItemIdGetLength(iid) != sizeof(uint64))
				continue;
			if (cnt == cap)
			{
				cap *= 2;
				out = repalloc_huge(out, sizeof(uint64) * cap);
			}
			memcpy(&out[cnt++], PageGetItem(page, iid), sizeof(uint64));
		}
		blk = ((VlIndexPageOpaque *) PageGetSpecialPointer(page))->next;
		UnlockReleaseBuffer(buf);
	}
	qsort(out, cnt, sizeof(uint64), lake_rowref_cmp);
	*n = cnt;
	return out;
}

static bool
in_sorted(const uint64 *a, int n, uint64 v)
{
	return n > 0 && bsearch(&v, a, n, sizeof(uint64), lake_rowref_cmp) != NULL;
}

IndexBulkDeleteResult *
vlindex_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	VlIndexMetaData meta;
	BlockNumber blk;
	bool		chunked;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	vlindex_meta_read(index, &meta);
	chunked = VLINDEX_DELTA_CHUNKED(meta.dim);

	/* lake part: tombstone the dead row references */
	if (meta.lists > 0 && meta.nvec > 0)
	{
		VlIndexPart	   *part = vlindex_part_get(index, &meta);
		int		   *all = palloc(sizeof(int) * part->lists);
		int			ntomb;
		uint64	   *tomb = vlindex_tombstones_load(index, &meta, &ntomb);

		for (int c = 0; c < part->lists; c++)
			all[c] = c;
		vlindex_part_load_lists(part, all, part->lists);
		for (int c = 0; c < part->lists; c++)
		{
			VlIndexList	   *l = &part->list[c];

			for (int j = 0; j < l->count; j++)
			{
				ItemPointerData tid;
				uint64		ref = l->refs[j];

				vacuum_delay_point();
				if (in_sorted(tomb, ntomb, ref))
					continue;
				lake_rowref_to_tid(ref, &tid);
				if (callback(&tid, callback_state))
				{
					vlindex_chain_append(index, VLINDEX_PAGE_TOMB, &ref, sizeof(uint64), 0, 0);
					stats->tuples_removed++;
				}
				else
					stats->num_index_tuples++;
			}
		}
		pfree(all);
		pfree(tomb);
	}

	/* delta (live and sealed chains): delete dead items in place */
	for (int chain = 0; chain < 2; chain++)
	{
	blk = chain == 0 ? meta.delta_head : meta.sealed_head;
	while (blk != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		OffsetNumber dead[MaxOffsetNumber];
		int			ndead = 0,
					nremoved = 0;
		OffsetNumber maxoff;

		vacuum_delay_point();
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		vlindex_check_chain_page(index, blk, page, VLINDEX_PAGE_DELTA, meta.generation);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			VlIndexDeltaItem *item;
			bool		counts = true;

			if (!ItemIdIsUsed(iid))
				continue;
			/* both layouts start with the TID; every chunk of a dead
			 * item goes, an item is counted at its first chunk */
			item = (VlIndexDeltaItem *) PageGetItem(page, iid);
			if (chunked)
				counts = ItemIdGetLength(iid) > VLINDEX_DELTA_CHUNK_HDR &&
					((VlIndexDeltaChunk *) item)->first == 0;
			if (callback(&item->tid, callback_state))
			{
				dead[ndead++] = off;
				if (counts)
					nremoved++;
			}
			else if (counts)
				stats->num_index_tuples++;
		}
		if (ndead > 0)
		{
			GenericXLogState *xs = GenericXLogStart(index);
			Page		p = GenericXLogRegisterBuffer(xs, buf, 0);

			PageIndexMultiDelete(p, dead, ndead);
			GenericXLogFinish(xs);
			stats->tuples_removed += nremoved;
		}
		blk = ((VlIndexPageOpaque *) PageGetSpecialPointer(page))->next;
		UnlockReleaseBuffer(buf);
	}
	}
	return stats;
}

IndexBulkDeleteResult *
vlindex_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	/* merged-away chains no snapshot needs, then every free page, to the FSM */
	vlindex_recycle_retired(info->index);
	(void) vlindex_vacuum_free_pages(info->index);
	if (stats == NULL)
	{
		VlIndexMetaData meta;

		stats = palloc0(sizeof(IndexBulkDeleteResult));
		vlindex_meta_read(info->index, &meta);
		stats->num_index_tuples = (double) meta.nvec + meta.delta_count +
			meta.sealed_count - meta.tomb_count;
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
