/*
 * vlindex_delta.c — the items of the delta chains (rows inserted after the
 * build), up to 16,000 dimensions.
 *
 * Up to VLINDEX_DELTA_SINGLE_MAX_DIM dimensions an item is one
 * VlIndexDeltaItem (TID + float4 vector), which fits an empty page.  Above
 * it — a 16,000-d vector is 64 kB, eight pages — an item is a run of
 * VlIndexDeltaChunk items, consecutive in chain order, each holding a slice
 * of the vector: the first slice fills what is left of the tail page, the
 * next ones whole new pages.  Every chunk carries the TID, the item's serial
 * number and the position of its first float, so a reader reassembles an
 * item only from chunks that continue each other exactly.
 *
 * Crash safety.  GenericXLog takes at most four pages per record, so an item
 * is appended by several records (metapage + tail page + one new page each),
 * all under the metapage's exclusive lock, which serialises inserts; the
 * metapage's delta_count goes up with the last chunk.  A crash or ERROR in
 * between (fault point index_delta_chunk) leaves a prefix of the item's chunks with no ending: readers skip
 * it (the row's transaction did not commit, so nothing may see it).  A scan
 * that meets an item still being appended sees the same incomplete prefix
 * and skips it for the same reason.  VACUUM deletes every chunk of a dead
 * TID (the callback is asked chunk by chunk and answers alike), and the
 * space of deleted items, whole or chunked, is reclaimed by the merge that
 * retires their chain, as before.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "index/vlindex.h"
#include "lake/lake_fault.h"

/* A chunk shorter than this starts on a new page instead. */
#define MIN_CHUNK_FLOATS	64

/* Floats of a chunk that fit in free bytes of a page (PageGetFreeSpace). */
static int
chunk_room(Size free)
{
	Size		room;

	if (free < MAXALIGN(VLINDEX_DELTA_CHUNK_HDR + sizeof(float)))
		return 0;
	/* MAXALIGN(hdr + 4n) <= free */
	room = (free & ~((Size) MAXIMUM_ALIGNOF - 1)) - VLINDEX_DELTA_CHUNK_HDR;
	return (int) (room / sizeof(float));
}

void
vlindex_check_dim(Relation index, const VlIndexMetaData *m, int dim, int udim)
{
	/* both: a wide bit string and a narrow one can share a float count */
	if (m->dim != 0 && ((int) m->dim != dim || VLINDEX_USER_DIM(m) != udim))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s has %d dimensions, index \"%s\" has %d",
						m->elemtype == VLINDEX_ELEM_BIT ? "bit string" : "vector",
						udim, RelationGetRelationName(index), VLINDEX_USER_DIM(m))));
}

/* Add one chunk of x[first .. first + n) to page. */
static void
add_chunk(Relation index, Page page, ItemPointer tid, uint32 serial, const float *x,
		  int first, int n, char *scratch)
{
	VlIndexDeltaChunk *c = (VlIndexDeltaChunk *) scratch;
	Size		size = VLINDEX_DELTA_CHUNK_HDR + sizeof(float) * n;

	memset(c, 0, VLINDEX_DELTA_CHUNK_HDR);
	c->tid = *tid;
	c->serial = serial;
	c->first = first;
	memcpy(c->x, x + first, sizeof(float) * n);
	if (PageAddItem(page, (Item) c, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "could not add item to vlake index \"%s\"", RelationGetRelationName(index));
}

static void
append_chunked(Relation index, ItemPointer tid, const float *x, int dim, int udim)
{
	Buffer		metabuf = ReadBuffer(index, VLINDEX_METAPAGE_BLKNO);
	uint32		serial = pg_prng_uint32(&pg_global_prng_state);
	char	   *scratch = palloc(BLCKSZ);
	int			off = 0;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	vlindex_check_dim(index, VlIndexPageGetMeta(BufferGetPage(metabuf)), dim, udim);
	while (off < dim)
	{
		VlIndexMetaData *m = VlIndexPageGetMeta(BufferGetPage(metabuf));
		BlockNumber tail = m->delta_tail;
		Buffer		tailbuf = InvalidBuffer,
					newbuf = InvalidBuffer;
		GenericXLogState *xs;
		Page		tailpage = NULL,
					metapage;
		int			ntail = 0;

		CHECK_FOR_INTERRUPTS();
		if (tail != InvalidBlockNumber)
		{
			tailbuf = ReadBuffer(index, tail);
			LockBuffer(tailbuf, BUFFER_LOCK_EXCLUSIVE);
			ntail = Min(dim - off, chunk_room(PageGetFreeSpace(BufferGetPage(tailbuf))));
			if (ntail < Min(dim - off, MIN_CHUNK_FLOATS))
				ntail = 0;
		}
		if (off + ntail < dim)
			newbuf = vlindex_new_buffer(index);

		xs = GenericXLogStart(index);
		metapage = GenericXLogRegisterBuffer(xs, metabuf, 0);
		m = VlIndexPageGetMeta(metapage);
		if (m->dim == 0)
			vlindex_meta_set_dim(metapage, dim, udim);
		if (BufferIsValid(tailbuf))
			tailpage = GenericXLogRegisterBuffer(xs, tailbuf, 0);
		if (ntail > 0)
		{
			add_chunk(index, tailpage, tid, serial, x, off, ntail, scratch);
			off += ntail;
		}
		if (BufferIsValid(newbuf))
		{
			BlockNumber nb = BufferGetBlockNumber(newbuf);
			Page		newpage = GenericXLogRegisterBuffer(xs, newbuf, GENERIC_XLOG_FULL_IMAGE);
			int			n;

			vlindex_init_chain_page(newpage, VLINDEX_PAGE_DELTA, m->generation);
			if (tailpage)
				((VlIndexPageOpaque *) PageGetSpecialPointer(tailpage))->next = nb;
			if (m->delta_head == InvalidBlockNumber)
				m->delta_head = nb;
			m->delta_tail = nb;
			n = Min(dim - off, chunk_room(PageGetFreeSpace(newpage)));
			add_chunk(index, newpage, tid, serial, x, off, n, scratch);
			off += n;
		}
		/* the item counts once its last chunk is in */
		if (off == dim)
			m->delta_count++;
		GenericXLogFinish(xs);
		if (BufferIsValid(newbuf))
			UnlockReleaseBuffer(newbuf);
		if (BufferIsValid(tailbuf))
			UnlockReleaseBuffer(tailbuf);
		/* crash tests: an item left unfinished between two records */
		if (off < dim)
			lake_fault("index_delta_chunk");
	}
	UnlockReleaseBuffer(metabuf);
	pfree(scratch);
}

/* aminsert's append: one item, single or chunked by the dimension. */
void
vlindex_delta_append(Relation index, ItemPointer tid, const float *x, int dim, int udim)
{
	VlIndexDeltaItem *item;

	if (VLINDEX_DELTA_CHUNKED(dim))
	{
		append_chunked(index, tid, x, dim, udim);
		return;
	}
	item = palloc0(VLINDEX_DELTA_ITEM_SIZE(dim));
	item->tid = *tid;
	memcpy(item->x, x, sizeof(float) * dim);
	vlindex_chain_append(index, VLINDEX_PAGE_DELTA, item, VLINDEX_DELTA_ITEM_SIZE(dim), dim,
						 udim);
	pfree(item);
}

/*
 * Call fn for every complete item of the delta chain starting at head
 * (pages checked against the scan's generation); returns how many.  Chunked
 * items are reassembled in a buffer of dim floats; a run of chunks that
 * does not reach the end of its vector (an append a crash, an ERROR or a
 * concurrent insert left unfinished, or an item VACUUM deleted while the
 * walk was between its pages) is skipped.
 */
int64
vlindex_delta_walk(Relation index, BlockNumber head, int dim, uint64 generation,
				   VlIndexDeltaFn fn, void *arg)
{
	bool		chunked = VLINDEX_DELTA_CHUNKED(dim);
	float	   *vec = chunked ? palloc(sizeof(float) * dim) : NULL;
	ItemPointerData cur_tid;
	uint32		cur_serial = 0;
	int			have = 0;		/* floats of the current item so far; 0 = none */
	BlockNumber blk = head;
	int64		n = 0;

	ItemPointerSetInvalid(&cur_tid);
	while (blk != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		vlindex_check_chain_page(index, blk, page, VLINDEX_PAGE_DELTA, generation);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			Size		len = ItemIdGetLength(iid);
			VlIndexDeltaChunk *c;
			int			cnt;

			if (!ItemIdIsUsed(iid) || ItemIdIsDead(iid))
				continue;
			if (!chunked)
			{
				VlIndexDeltaItem *item;

				if (len != VLINDEX_DELTA_ITEM_SIZE(dim))
					continue;
				item = (VlIndexDeltaItem *) PageGetItem(page, iid);
				fn(arg, &item->tid, item->x);
				n++;
				continue;
			}
			/* a chunk: sizes checked before use */
			if (len <= VLINDEX_DELTA_CHUNK_HDR ||
				(len - VLINDEX_DELTA_CHUNK_HDR) % sizeof(float) != 0)
			{
				have = 0;
				continue;
			}
			c = (VlIndexDeltaChunk *) PageGetItem(page, iid);
			cnt = (int) ((len - VLINDEX_DELTA_CHUNK_HDR) / sizeof(float));
			if (c->first == 0)
			{
				/* a new item; an unfinished one before it is dropped */
				cur_tid = c->tid;
				cur_serial = c->serial;
				have = 0;
			}
			else if (have == 0 || c->first != (uint32) have || c->serial != cur_serial ||
					 !ItemPointerEquals(&c->tid, &cur_tid))
			{
				have = 0;		/* not the continuation of the current item */
				continue;
			}
			if (cnt > dim - have)
			{
				have = 0;
				continue;
			}
			memcpy(vec + have, c->x, sizeof(float) * cnt);
			have += cnt;
			if (have == dim)
			{
				fn(arg, &cur_tid, vec);
				n++;
				have = 0;
			}
		}
		blk = ((VlIndexPageOpaque *) PageGetSpecialPointer(page))->next;
		UnlockReleaseBuffer(buf);
	}
	if (vec)
		pfree(vec);
	return n;
}
