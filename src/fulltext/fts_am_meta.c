/*
 * fts_am_meta.c — the vlake_bm25 metapage and its two byte logs (delta and
 * tombstones).  Every change is WAL-logged through GenericXLog.
 *
 * Why a log and how it stays consistent on a crash: a record is written
 * into the log's pages first (beyond the metapage's byte count, where no
 * reader looks), and the metapage's count moves past it in the WAL record
 * of its last chunk.  A crash before that leaves bytes no reader trusts;
 * the next append writes over them.  Readers copy the metapage under a
 * share lock and read only [start, bytes) of that copy; appends are
 * serialized by the metapage's exclusive lock.
 *
 * Recycling: a part switch that folds every byte of a log starts a new
 * chain and records the old one as retired with the next transaction ID; a
 * later merge or VACUUM frees its pages only when no snapshot anywhere can
 * be older than that ID (GlobalVisCheckRemovableFullXid: every scan that
 * read the old metapage holds such a snapshot until it ends), marking them
 * FREE (WAL-logged) before the free space map hears of them, so a page is
 * reused only once nothing can read it — the rule of the vector index's
 * chains (src/index/vlindex_pages.c).  A standby does not hold back the
 * primary's horizon without hot_standby_feedback: every log page carries
 * the metapage generation at which it joined its log, and a reader meeting
 * a FREE page or one stamped after its metapage copy stops with a
 * serialization failure rather than read another chain's bytes.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/transam.h"
#include "commands/vacuum.h"
#include "storage/indexfsm.h"
#include "utils/snapmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

#include "fulltext/fts_am_internal.h"

static void
bad_meta(Relation index, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" is not a valid vlake_bm25 index",
					RelationGetRelationName(index)),
			 errdetail("%s", detail),
			 errhint("REINDEX it.")));
}

void
fts_meta_read(Relation index, FtsMetaData *out)
{
	Buffer		buf;
	FtsMetaData *m;

	if (RelationGetNumberOfBlocks(index) == 0)
		bad_meta(index, "It has no metapage.");
	buf = ReadBuffer(index, FTS_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	m = FtsPageGetMeta(BufferGetPage(buf));
	memcpy(out, m, sizeof(FtsMetaData));
	UnlockReleaseBuffer(buf);
	if (out->magic != FTS_META_MAGIC || out->version != FTS_META_VERSION)
		bad_meta(index, psprintf("Bad metapage magic %08x or version %u.", out->magic, out->version));
	if (out->nfields < 1 || out->nfields > FTS_MAX_FIELDS ||
		out->delta.start > out->delta.bytes || out->tomb.start > out->tomb.bytes ||
		memchr(out->prefix, '\0', sizeof(out->prefix)) == NULL ||
		memchr(out->location, '\0', sizeof(out->location)) == NULL ||
		memchr(out->config, '\0', sizeof(out->config)) == NULL)
		bad_meta(index, "The metapage holds impossible values.");
}

static void
set_meta_page(Page page, const FtsMetaData *m)
{
	FtsMetaData *pm;

	pm = FtsPageGetMeta(page);
	memcpy(pm, m, sizeof(FtsMetaData));
	((PageHeader) page)->pd_lower = (char *) pm + sizeof(FtsMetaData) - (char *) page;
}

/* Write block 0 of an empty relation (build, buildempty on the init fork). */
void
fts_meta_init(Relation index, ForkNumber fork, const FtsMetaData *m)
{
	Buffer		buf;
	GenericXLogState *xs;
	Page		page;

	buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
	Assert(BufferGetBlockNumber(buf) == FTS_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	xs = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xs, buf, GENERIC_XLOG_FULL_IMAGE);
	PageInit(page, BLCKSZ, 0);
	set_meta_page(page, m);
	GenericXLogFinish(xs);
	UnlockReleaseBuffer(buf);
}

static FtsLog *
log_of(FtsMetaData *m, int which)
{
	return which == FTS_LOG_DELTA ? &m->delta : &m->tomb;
}

static bool
is_free_page(Page page)
{
	return PageIsNew(page) ||
		(PageGetSpecialSize(page) == MAXALIGN(sizeof(FtsPageOpaque)) &&
		 ((FtsPageOpaque *) PageGetSpecialPointer(page))->page_id == FTS_PAGE_ID &&
		 ((FtsPageOpaque *) PageGetSpecialPointer(page))->kind == FTS_PAGE_FREE);
}

/* A new log page, exclusively locked: a recycled one, else a new one. */
static Buffer
new_log_buffer(Relation index)
{
	Buffer		buf;

	for (;;)
	{
		BlockNumber blk = GetFreeIndexPage(index);

		if (blk == InvalidBlockNumber || blk == FTS_METAPAGE_BLKNO)
			break;
		buf = ReadBuffer(index, blk);
		if (ConditionalLockBuffer(buf))
		{
			if (is_free_page(BufferGetPage(buf)))
				return buf;
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
	}
	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

static void
init_log_page(Page page, int which, uint64 stamp)
{
	FtsPageOpaque *op;

	PageInit(page, BLCKSZ, sizeof(FtsPageOpaque));
	op = (FtsPageOpaque *) PageGetSpecialPointer(page);
	op->next = InvalidBlockNumber;
	op->kind = which;
	op->page_id = FTS_PAGE_ID;
	op->stamp = stamp;
}

static void
check_log_page(Relation index, BlockNumber blk, Page page, int which, uint64 generation)
{
	FtsPageOpaque *op;

	if (is_free_page(page) || (PageGetSpecialSize(page) == MAXALIGN(sizeof(FtsPageOpaque)) &&
							   ((FtsPageOpaque *) PageGetSpecialPointer(page))->stamp > generation))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("a page of index \"%s\" was recycled while this query read it",
						RelationGetRelationName(index)),
				 errdetail("A merge replaced the log the query was reading."),
				 errhint("Retry the query; on a standby, hot_standby_feedback prevents this.")));

	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(FtsPageOpaque)))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" block %u is not a vlake_bm25 log page",
						RelationGetRelationName(index), blk)));
	op = (FtsPageOpaque *) PageGetSpecialPointer(page);
	if (op->page_id != FTS_PAGE_ID || op->kind != which)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" block %u is not a page of its %s log",
						RelationGetRelationName(index), blk,
						which == FTS_LOG_DELTA ? "delta" : "tombstone")));
}

/*
 * Append rec[0..len) as one record ([uint32 len][bytes]).  The record's
 * chunks go into the tail page and new pages; the metapage changes in the
 * WAL record of the last chunk only.
 */
void
fts_log_append(Relation index, int which, const char *rec, uint32 len)
{
	Buffer		metabuf = ReadBuffer(index, FTS_METAPAGE_BLKNO);
	FtsMetaData m;
	FtsLog	   *log;
	StringInfoData all;
	uint64		off;
	uint64		written = 0;
	Buffer		cur = InvalidBuffer;
	BlockNumber curblk;
	BlockNumber head;

	initStringInfo(&all);
	appendBinaryStringInfo(&all, (const char *) &len, sizeof(len));
	appendBinaryStringInfo(&all, rec, len);

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	memcpy(&m, FtsPageGetMeta(BufferGetPage(metabuf)), sizeof(m));
	log = log_of(&m, which);
	off = log->bytes;
	head = log->head;
	curblk = log->tail;

	while (written < (uint64) all.len)
	{
		uint64		in_page = off % FTS_LOG_CHUNK;
		uint64		n = Min((uint64) all.len - written, FTS_LOG_CHUNK - in_page);
		bool		need_new = (curblk == InvalidBlockNumber) || (in_page == 0 && off > 0);
		bool		last = written + n == (uint64) all.len;
		GenericXLogState *xs = GenericXLogStart(index);
		Page		page;
		Buffer		prev = InvalidBuffer;

		CHECK_FOR_INTERRUPTS();
		if (need_new)
		{
			prev = cur;
			if (!BufferIsValid(prev) && curblk != InvalidBlockNumber)
			{
				prev = ReadBuffer(index, curblk);
				LockBuffer(prev, BUFFER_LOCK_EXCLUSIVE);
			}
			cur = new_log_buffer(index);
			page = GenericXLogRegisterBuffer(xs, cur, GENERIC_XLOG_FULL_IMAGE);
			init_log_page(page, which, m.generation);
			if (BufferIsValid(prev))
			{
				Page		pp = GenericXLogRegisterBuffer(xs, prev, 0);

				((FtsPageOpaque *) PageGetSpecialPointer(pp))->next = BufferGetBlockNumber(cur);
			}
			else
				head = BufferGetBlockNumber(cur);
			curblk = BufferGetBlockNumber(cur);
			in_page = 0;
		}
		else
		{
			if (!BufferIsValid(cur))
			{
				cur = ReadBuffer(index, curblk);
				LockBuffer(cur, BUFFER_LOCK_EXCLUSIVE);
				check_log_page(index, curblk, BufferGetPage(cur), which, m.generation);
			}
			page = GenericXLogRegisterBuffer(xs, cur, 0);
		}
		memcpy(PageGetContents(page) + in_page, all.data + written, n);
		if (((PageHeader) page)->pd_lower < (LocationIndex) (PageGetContents(page) + in_page + n - (char *) page))
			((PageHeader) page)->pd_lower = PageGetContents(page) + in_page + n - (char *) page;
		written += n;
		off += n;
		if (last)
		{
			Page		mp = GenericXLogRegisterBuffer(xs, metabuf, 0);
			FtsMetaData *pm = FtsPageGetMeta(mp);
			FtsLog	   *pl = log_of(pm, which);

			pl->head = head;
			pl->tail = curblk;
			pl->bytes = off;
			pl->records++;
		}
		GenericXLogFinish(xs);
		if (BufferIsValid(prev) && prev != cur)
			UnlockReleaseBuffer(prev);
	}
	if (BufferIsValid(cur))
		UnlockReleaseBuffer(cur);
	UnlockReleaseBuffer(metabuf);
	pfree(all.data);
}

/* Bytes [start, bytes) of the log as the metapage copy m describes it. */
char *
fts_log_read(Relation index, const FtsLog *log, int which, uint64 generation)
{
	uint64		len = log->bytes - log->start;
	char	   *out = palloc_extended(Max(len, 1), MCXT_ALLOC_HUGE);
	uint64		pos = 0;		/* log offset of the current page */
	BlockNumber blk = log->head;
	uint64		got = 0;

	while (pos < log->bytes)
	{
		Buffer		buf;
		Page		page;
		uint64		lo,
					hi;

		CHECK_FOR_INTERRUPTS();
		if (blk == InvalidBlockNumber || blk >= RelationGetNumberOfBlocks(index))
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("the %s log of index \"%s\" ends before byte %llu",
							which == FTS_LOG_DELTA ? "delta" : "tombstone",
							RelationGetRelationName(index), (unsigned long long) log->bytes)));
		if (pos + FTS_LOG_CHUNK <= log->start)
		{
			/* entirely folded: only its link is needed */
			buf = ReadBuffer(index, blk);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			check_log_page(index, blk, page, which, generation);
			blk = ((FtsPageOpaque *) PageGetSpecialPointer(page))->next;
			UnlockReleaseBuffer(buf);
			pos += FTS_LOG_CHUNK;
			continue;
		}
		buf = ReadBuffer(index, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		check_log_page(index, blk, page, which, generation);
		lo = Max(pos, log->start) - pos;
		hi = Min(pos + FTS_LOG_CHUNK, log->bytes) - pos;
		memcpy(out + got, PageGetContents(page) + lo, hi - lo);
		got += hi - lo;
		blk = ((FtsPageOpaque *) PageGetSpecialPointer(page))->next;
		UnlockReleaseBuffer(buf);
		pos += FTS_LOG_CHUNK;
	}
	Assert(got == len);
	return out;
}

/*
 * Name a new lake part; the delta and tombstone bytes up to the given
 * offsets are folded into it.  A log whose every byte is folded starts a
 * new chain.
 */
void
fts_meta_switch_part(Relation index, const char *location, const char *prefix,
					 uint64 size, const char *etag, uint64 docs,
					 uint64 delta_upto, uint64 delta_records,
					 uint64 tomb_upto, uint64 tomb_records)
{
	Buffer		metabuf = ReadBuffer(index, FTS_METAPAGE_BLKNO);
	GenericXLogState *xs;
	Page		page;
	FtsMetaData *m;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	xs = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xs, metabuf, 0);
	m = FtsPageGetMeta(page);
	m->generation++;
	strlcpy(m->location, location, sizeof(m->location));
	strlcpy(m->prefix, prefix, sizeof(m->prefix));
	m->part_size = size;
	m->part_docs = docs;
	strlcpy(m->part_etag, etag ? etag : "", sizeof(m->part_etag));
	for (int which = FTS_LOG_DELTA; which <= FTS_LOG_TOMB; which++)
	{
		FtsLog	   *log = log_of(m, which);
		uint64		upto = which == FTS_LOG_DELTA ? delta_upto : tomb_upto;
		uint64		recs = which == FTS_LOG_DELTA ? delta_records : tomb_records;

		Assert(upto >= log->start && upto <= log->bytes && recs <= log->records);
		if (upto == log->bytes)
		{
			/* the old chain: recycled once no snapshot can follow it */
			if (log->head != InvalidBlockNumber && m->nretired < FTS_MAX_RETIRED)
			{
				m->retired[m->nretired].head = log->head;
				m->retired[m->nretired].kind = which;
				m->retired[m->nretired].xid = U64FromFullTransactionId(ReadNextFullTransactionId());
				m->nretired++;
			}
			log->head = log->tail = InvalidBlockNumber;
			log->bytes = log->start = log->records = 0;
		}
		else
		{
			log->start = upto;
			log->records -= recs;
		}
	}
	GenericXLogFinish(xs);
	UnlockReleaseBuffer(metabuf);
}

/* ---- recycling ---- */

static void
mark_free(Relation index, BlockNumber blk)
{
	Buffer		buf = ReadBuffer(index, blk);
	GenericXLogState *xs;
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	xs = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xs, buf, 0);
	if (!PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(FtsPageOpaque)))
		((FtsPageOpaque *) PageGetSpecialPointer(page))->kind = FTS_PAGE_FREE;
	GenericXLogFinish(xs);
	UnlockReleaseBuffer(buf);
}

/*
 * Free the pages of retired chains no snapshot can still follow: mark them
 * FREE, drop the chains from the metapage, then tell the free space map.
 * Callers hold ShareUpdateExclusiveLock on the table (merge, VACUUM), so
 * two recyclers never meet; a crash between the steps leaves FREE pages
 * that VACUUM hands to the map.
 */
int64
fts_log_recycle(Relation index)
{
	FtsMetaData m;
	bool		done[FTS_MAX_RETIRED] = {0};
	List	   *blocks = NIL;
	ListCell   *lc;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	bool		any = false;

	fts_meta_read(index, &m);
	for (uint32 i = 0; i < m.nretired && i < FTS_MAX_RETIRED; i++)
	{
		BlockNumber blk = m.retired[i].head;
		BlockNumber steps = 0;

		if (!GlobalVisCheckRemovableFullXid(NULL, FullTransactionIdFromU64(m.retired[i].xid)))
			continue;
		while (blk != InvalidBlockNumber && blk < nblocks && blk != FTS_METAPAGE_BLKNO &&
			   steps++ < nblocks)
		{
			Buffer		buf = ReadBuffer(index, blk);
			Page		page;
			BlockNumber next = InvalidBlockNumber;

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			if (!PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(FtsPageOpaque)) &&
				((FtsPageOpaque *) PageGetSpecialPointer(page))->page_id == FTS_PAGE_ID)
			{
				next = ((FtsPageOpaque *) PageGetSpecialPointer(page))->next;
				blocks = lappend_int(blocks, (int) blk);
			}
			UnlockReleaseBuffer(buf);
			blk = next;
		}
		done[i] = any = true;
	}
	if (!any)
		return 0;
	foreach(lc, blocks)
		mark_free(index, (BlockNumber) lfirst_int(lc));
	{
		Buffer		metabuf = ReadBuffer(index, FTS_METAPAGE_BLKNO);
		GenericXLogState *xs;
		FtsMetaData *pm;
		uint32		keep = 0;

		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		xs = GenericXLogStart(index);
		pm = FtsPageGetMeta(GenericXLogRegisterBuffer(xs, metabuf, 0));
		for (uint32 i = 0; i < pm->nretired; i++)
		{
			bool		drop = false;

			for (uint32 j = 0; j < m.nretired && j < FTS_MAX_RETIRED; j++)
				if (done[j] && m.retired[j].head == pm->retired[i].head &&
					m.retired[j].xid == pm->retired[i].xid)
					drop = true;
			if (!drop)
				pm->retired[keep++] = pm->retired[i];
		}
		pm->nretired = keep;
		GenericXLogFinish(xs);
		UnlockReleaseBuffer(metabuf);
	}
	foreach(lc, blocks)
		RecordFreeIndexPage(index, (BlockNumber) lfirst_int(lc));
	IndexFreeSpaceMapVacuum(index);
	return list_length(blocks);
}

/* Every FREE (or never initialized) page into the free space map. */
void
fts_log_vacuum_free_pages(Relation index)
{
	BlockNumber nblocks;

	LockRelationForExtension(index, ExclusiveLock);
	nblocks = RelationGetNumberOfBlocks(index);
	UnlockRelationForExtension(index, ExclusiveLock);
	for (BlockNumber blk = FTS_METAPAGE_BLKNO + 1; blk < nblocks; blk++)
	{
		Buffer		buf = ReadBuffer(index, blk);
		bool		free_page;

		vacuum_delay_point();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		free_page = is_free_page(BufferGetPage(buf));
		UnlockReleaseBuffer(buf);
		if (free_page)
			RecordFreeIndexPage(index, blk);
	}
	IndexFreeSpaceMapVacuum(index);
}
