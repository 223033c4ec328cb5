/*
 * vlindex_meta.c — the index metapage (block 0): which lake files form the
 * index, and where the delta and tombstone page chains are.  Every change
 * goes through GenericXLog, so crash recovery and physical standbys see the
 * same file set as the primary.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

#include "index/vlindex.h"

void
vlindex_meta_init_page(Page page, IvfMetric metric, VlIndexElemType et, const char *location)
{
	VlIndexMetaData *m;

	PageInit(page, BLCKSZ, 0);
	m = VlIndexPageGetMeta(page);
	memset(m, 0, sizeof(VlIndexMetaData));
	m->magic = VLINDEX_META_MAGIC;
	m->version = VLINDEX_META_VERSION;
	m->metric = metric;
	m->elemtype = et;
	strlcpy(m->location, location ? location : "", VLINDEX_LOCATION_MAX);
	m->delta_head = m->delta_tail = InvalidBlockNumber;
	m->tomb_head = m->tomb_tail = InvalidBlockNumber;
	m->sealed_head = InvalidBlockNumber;
	m->meta_blob_head = InvalidBlockNumber;
	m->nretired = 0;
	((PageHeader) page)->pd_lower = (char *) m + sizeof(VlIndexMetaData) - (char *) page;
}

/*
 * Set the dimension (floats of a vector) and, from udim, the bit length of
 * a wide bit index.  bitlen is the metapage's last field: a metapage
 * written before it had a shorter pd_lower, and GenericXLog would not keep
 * bytes past it, so pd_lower grows over it here.
 */
void
vlindex_meta_set_dim(Page metapage, int dim, int udim)
{
	VlIndexMetaData *m = VlIndexPageGetMeta(metapage);
	uint16		lower = (char *) m + sizeof(VlIndexMetaData) - (char *) metapage;

	m->dim = dim;
	m->bitlen = (m->elemtype == VLINDEX_ELEM_BIT && VLINDEX_BITS_WIDE(udim)) ? udim : 0;
	if (((PageHeader) metapage)->pd_lower < lower)
		((PageHeader) metapage)->pd_lower = lower;
}

/* Copy of the metapage contents, read under a share lock. */
void
vlindex_meta_read(Relation index, VlIndexMetaData *out)
{
	Buffer		buf = ReadBuffer(index, VLINDEX_METAPAGE_BLKNO);
	VlIndexMetaData *m;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	m = VlIndexPageGetMeta(BufferGetPage(buf));
	if (m->magic != VLINDEX_META_MAGIC || m->version != VLINDEX_META_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a valid vlake index",
						RelationGetRelationName(index)),
				 errdetail("Bad metapage magic %08x or version %u.", m->magic, m->version)));
	memcpy(out, m, sizeof(VlIndexMetaData));
	UnlockReleaseBuffer(buf);
}

/*
 * Store a byte string (a copy of index.meta) in a chain of new pages, one
 * item of at most VLINDEX_BLOB_CHUNK bytes per page, each page WAL-logged as a
 * full image.  Returns the first block.
 */
BlockNumber
vlindex_blob_write(Relation index, ForkNumber fork, const char *data, uint64 len, uint64 stamp)
{
	BlockNumber head = InvalidBlockNumber;
	Buffer		prev = InvalidBuffer;
	uint64		off = 0;

	while (off < len)
	{
		uint64		n = Min(len - off, (uint64) VLINDEX_BLOB_CHUNK);
		Buffer		buf;
		GenericXLogState *xs;
		Page		page;

		if (fork == MAIN_FORKNUM)
			buf = vlindex_new_buffer(index);
		else
		{
			buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		}
		xs = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(xs, buf, GENERIC_XLOG_FULL_IMAGE);
		vlindex_init_chain_page(page, VLINDEX_PAGE_BLOB, stamp);
		if (PageAddItem(page, (Item) (data + off), n, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "could not add blob item to vlake index \"%s\"", RelationGetRelationName(index));
		if (BufferIsValid(prev))
		{
			Page		pp = GenericXLogRegisterBuffer(xs, prev, 0);

			((VlIndexPageOpaque *) PageGetSpecialPointer(pp))->next = BufferGetBlockNumber(buf);
		}
		GenericXLogFinish(xs);
		if (BufferIsValid(prev))
			UnlockReleaseBuffer(prev);
		else
			head = BufferGetBlockNumber(buf);
		prev = buf;
		off += n;
		CHECK_FOR_INTERRUPTS();
	}
	if (BufferIsValid(prev))
		UnlockReleaseBuffer(prev);
	return head;
}

/* Read back a blob of len bytes; ERROR if the chain does not hold it. */
char *
vlindex_blob_read(Relation index, BlockNumber head, uint64 len, uint64 generation)
{
	char	   *out = palloc_extended(Max(len, 1), MCXT_ALLOC_HUGE);
	uint64		off = 0;
	BlockNumber blk = head;

	while (off < len)
	{
		Buffer		buf;
		Page		page;
		VlIndexPageOpaque *op;
		ItemId		iid;
		Size		n;

		if (blk == InvalidBlockNumber || blk >= RelationGetNumberOfBlocks(index))
			goto bad;
		buf = ReadBuffer(index, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		op = (VlIndexPageOpaque *) PageGetSpecialPointer(page);
		/* a recycled page is a serialization failure, not damage */
		if (vlindex_chain_page_recycled(page, generation))
			vlindex_check_chain_page(index, blk, page, VLINDEX_PAGE_BLOB, generation);
		if (PageGetSpecialSize(page) != MAXALIGN(sizeof(VlIndexPageOpaque)) ||
			op->page_id != VLINDEX_PAGE_ID || op->kind != VLINDEX_PAGE_BLOB ||
			PageGetMaxOffsetNumber(page) != 1)
		{
			UnlockReleaseBuffer(buf);
			goto bad;
		}
		iid = PageGetItemId(page, FirstOffsetNumber);
		n = ItemIdGetLength(iid);
		if (n == 0 || n > len - off)
		{
			UnlockReleaseBuffer(buf);
			goto bad;
		}
		memcpy(out + off, PageGetItem(page, iid), n);
		off += n;
		blk = op->next;
		UnlockReleaseBuffer(buf);
	}
	return out;

bad:
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("vlake index \"%s\" has a damaged copy of index.meta at block %u",
					RelationGetRelationName(index), blk),
			 errhint("REINDEX the index.")));
	return NULL;
}
