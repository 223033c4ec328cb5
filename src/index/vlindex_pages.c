/*
 * vlindex_pages.c — the index relation's chain pages (delta, tombstones,
 * the copy of index.meta) and their recycling.
 *
 * A merge replaces the sealed delta, the tombstones and the copy of
 * index.meta with a new lake part; their pages become garbage, but a scan
 * that read the metapage before the switch may still be following them.  So
 * the switch records each replaced chain in the metapage with the next
 * transaction ID (a "retired" chain), and a chain is recycled only when no
 * snapshot anywhere can be older than that ID
 * (GlobalVisCheckRemovableFullXid with the shared horizon, which includes
 * replication slots and hot_standby_feedback): every scan that could follow
 * it holds a snapshot with xmin at or below that ID until it ends.
 *
 * Recycling (at the start of a merge and in VACUUM): collect the chain's
 * blocks, mark each page FREE (WAL-logged, links kept), drop the chain from
 * the metapage, then tell the free space map.  A crash between the steps
 * repeats the walk (FREE pages keep their links) or leaves FREE pages that
 * VACUUM's scan of the index puts into the free space map; a page reaches
 * the map only once nothing can read it.  Two recyclers never meet: merge
 * and VACUUM both hold ShareUpdateExclusiveLock on the table, which
 * conflicts with itself.  New chain pages come from the
 * map first (a page is taken only if it is really FREE or new), else the
 * relation is extended.
 *
 * Standbys: replay does not wait for standby queries, so without
 * hot_standby_feedback a long standby query could follow a chain whose
 * pages the primary recycled.  Every chain page carries the metapage
 * generation at which it joined its chain; a scan of generation G that
 * meets a FREE page or one stamped after G stops with a serialization
 * failure instead of returning rows of another chain.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/transam.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "index/vlindex.h"

void
vlindex_init_chain_page(Page page, uint16 kind, uint64 stamp)
{
	VlIndexPageOpaque *op;

	PageInit(page, BLCKSZ, sizeof(VlIndexPageOpaque));
	op = (VlIndexPageOpaque *) PageGetSpecialPointer(page);
	op->next = InvalidBlockNumber;
	op->kind = kind;
	op->page_id = VLINDEX_PAGE_ID;
	op->stamp = stamp;
}

static bool
is_vl_page(Page page)
{
	return !PageIsNew(page) &&
		PageGetSpecialSize(page) == MAXALIGN(sizeof(VlIndexPageOpaque)) &&
		((VlIndexPageOpaque *) PageGetSpecialPointer(page))->page_id == VLINDEX_PAGE_ID;
}

bool
vlindex_chain_page_recycled(Page page, uint64 generation)
{
	VlIndexPageOpaque *op = (VlIndexPageOpaque *) PageGetSpecialPointer(page);

	return is_vl_page(page) && (op->kind == VLINDEX_PAGE_FREE || op->stamp > generation);
}

void
vlindex_check_chain_page(Relation index, BlockNumber blk, Page page, uint16 kind, uint64 generation)
{
	VlIndexPageOpaque *op = (VlIndexPageOpaque *) PageGetSpecialPointer(page);

	if (!is_vl_page(page))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("vlake index \"%s\" has a damaged page %u",
						RelationGetRelationName(index), blk),
				 errhint("REINDEX the index.")));
	if (vlindex_chain_page_recycled(page, generation))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("page %u of vlake index \"%s\" was recycled while a scan needed it",
						blk, RelationGetRelationName(index)),
				 errdetail("The scan started before a merge replaced the page's chain."),
				 errhint("Retry the query.  On a standby, hot_standby_feedback = on prevents this.")));
	if (op->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("vlake index \"%s\" has a page of kind %u at block %u where kind %u belongs",
						RelationGetRelationName(index), op->kind, blk, kind),
				 errhint("REINDEX the index.")));
}

/* A page from the free space map that is really free, locked; or invalid. */
static Buffer
reuse_free_page(Relation index)
{
	for (;;)
	{
		BlockNumber blk = GetFreeIndexPage(index);
		Buffer		buf;
		Page		page;

		if (blk == InvalidBlockNumber)
			return InvalidBuffer;
		buf = ReadBuffer(index, blk);
		if (ConditionalLockBuffer(buf))
		{
			page = BufferGetPage(buf);
			if (PageIsNew(page) ||
				(is_vl_page(page) &&
				 ((VlIndexPageOpaque *) PageGetSpecialPointer(page))->kind == VLINDEX_PAGE_FREE))
				return buf;
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
	}
}

Buffer
vlindex_new_buffer(Relation index)
{
	Buffer		buf = reuse_free_page(index);
	bool		needlock = !RELATION_IS_LOCAL(index);

	if (BufferIsValid(buf))
		return buf;
	/* locked before the extension lock is released (see vlindex_vacuum_free_pages) */
	if (needlock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (needlock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * The blocks of retired chain e, appended to *blocks.  The walk stops at a
 * page that is not of the chain's kind (or FREE, from an interrupted
 * recycling) and never visits more blocks than the relation has.
 */
static int
collect_chain(Relation index, const VlIndexRetiredChain *e, BlockNumber **blocks, int n, int *cap)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber blk = e->head;
	int			seen = 0;

	while (blk != InvalidBlockNumber && blk != VLINDEX_METAPAGE_BLKNO && blk < nblocks &&
		   seen++ < (int) nblocks)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		VlIndexPageOpaque *op;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		op = (VlIndexPageOpaque *) PageGetSpecialPointer(page);
		if (!is_vl_page(page) || (op->kind != e->kind && op->kind != VLINDEX_PAGE_FREE))
		{
			UnlockReleaseBuffer(buf);
			elog(LOG, "vlake index \"%s\": retired chain at block %u ends at unexpected block %u",
				 RelationGetRelationName(index), e->head, blk);
			break;
		}
		if (n == *cap)
		{
			*cap *= 2;
			*blocks = repalloc(*blocks, sizeof(BlockNumber) * *cap);
		}
		(*blocks)[n++] = blk;
		blk = op->next;
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
	return n;
}

static void
mark_free(Relation index, BlockNumber blk)
{
	Buffer		buf = ReadBuffer(index, blk);
	GenericXLogState *xs;
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	xs = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xs, buf, 0);
	((VlIndexPageOpaque *) PageGetSpecialPointer(page))->kind = VLINDEX_PAGE_FREE;
	GenericXLogFinish(xs);
	UnlockReleaseBuffer(buf);
}

/* Drop the retired entries flagged in done[] (matched by head and xid). */
static void
forget_retired(Relation index, const VlIndexRetiredChain *snap, int nsnap, const bool *done)
{
	Buffer		buf = ReadBuffer(index, VLINDEX_METAPAGE_BLKNO);
	GenericXLogState *xs;
	VlIndexMetaData *m;
	uint32		keep = 0;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	xs = GenericXLogStart(index);
	m = VlIndexPageGetMeta(GenericXLogRegisterBuffer(xs, buf, 0));
	for (uint32 i = 0; i < m->nretired; i++)
	{
		bool		drop = false;

		for (int j = 0; j < nsnap; j++)
			if (done[j] && snap[j].head == m->retired[i].head && snap[j].xid == m->retired[i].xid)
				drop = true;
		if (!drop)
			m->retired[keep++] = m->retired[i];
	}
	m->nretired = keep;
	GenericXLogFinish(xs);
	UnlockReleaseBuffer(buf);
}

int64
vlindex_recycle_retired(Relation index)
{
	VlIndexMetaData meta;
	bool	   *done;
	int			cap = 64,
				n = 0;
	BlockNumber *blocks = palloc(sizeof(BlockNumber) * cap);
	bool		any = false;

	vlindex_meta_read(index, &meta);
	done = palloc0(sizeof(bool) * Max(meta.nretired, 1));
	for (uint32 i = 0; i < meta.nretired && i < VLINDEX_MAX_RETIRED; i++)
	{
		FullTransactionId xid = FullTransactionIdFromU64(meta.retired[i].xid);

		if (!GlobalVisCheckRemovableFullXid(NULL, xid))
			continue;
		n = collect_chain(index, &meta.retired[i], &blocks, n, &cap);
		done[i] = any = true;
	}
	if (!any)
		return 0;
	for (int k = 0; k < n; k++)
		mark_free(index, blocks[k]);
	forget_retired(index, meta.retired, Min(meta.nretired, VLINDEX_MAX_RETIRED), done);
	for (int k = 0; k < n; k++)
		RecordFreeIndexPage(index, blocks[k]);
	IndexFreeSpaceMapVacuum(index);
	return n;
}

BlockNumber
vlindex_vacuum_free_pages(Relation index)
{
	BlockNumber nblocks,
				nfree = 0;
	bool		needlock = !RELATION_IS_LOCAL(index);

	/* pages being added are locked by their extender before this returns */
	if (needlock)
		LockRelationForExtension(index, ExclusiveLock);
	nblocks = RelationGetNumberOfBlocks(index);
	if (needlock)
		UnlockRelationForExtension(index, ExclusiveLock);
	for (BlockNumber blk = VLINDEX_METAPAGE_BLKNO + 1; blk < nblocks; blk++)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		bool		free_page;

		vacuum_delay_point();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		free_page = PageIsNew(page) ||
			(is_vl_page(page) && ((VlIndexPageOpaque *) PageGetSpecialPointer(page))->kind == VLINDEX_PAGE_FREE);
		UnlockReleaseBuffer(buf);
		if (free_page)
		{
			RecordFreeIndexPage(index, blk);
			nfree++;
		}
	}
	IndexFreeSpaceMapVacuum(index);
	return nfree;
}
