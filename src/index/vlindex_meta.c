/*
 * vlindex_meta.c — the index metapage (block 0): which lake files form the
 * index, and where the delta and tombstone page chains are.  Every change
 * goes through GenericXLog, so crash recovery and physical standbys see the
 * same file set as the primary.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

#include "index/vlindex.h"

void
vl_meta_init_page(Page page, IvfMetric metric, VlElemType et, const char *location)
{
	VlMetaData *m;

	PageInit(page, BLCKSZ, 0);
	m = VlPageGetMeta(page);
	memset(m, 0, sizeof(VlMetaData));
	m->magic = VL_META_MAGIC;
	m->version = VL_META_VERSION;
	m->metric = metric;
	m->elemtype = et;
	strlcpy(m->location, location ? location : "", VL_LOCATION_MAX);
	m->delta_head = m->delta_tail = InvalidBlockNumber;
	m->tomb_head = m->tomb_tail = InvalidBlockNumber;
	m->sealed_head = InvalidBlockNumber;
	((PageHeader) page)->pd_lower = (char *) m + sizeof(VlMetaData) - (char *) page;
}

/* Copy of the metapage contents, read under a share lock. */
void
vl_meta_read(Relation index, VlMetaData *out)
{
	Buffer		buf = ReadBuffer(index, VL_METAPAGE_BLKNO);
	VlMetaData *m;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	m = VlPageGetMeta(BufferGetPage(buf));
	if (m->magic != VL_META_MAGIC || m->version != VL_META_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a valid vlake index",
						RelationGetRelationName(index)),
				 errdetail("Bad metapage magic %08x or version %u.", m->magic, m->version)));
	memcpy(out, m, sizeof(VlMetaData));
	UnlockReleaseBuffer(buf);
}

/* A new page at the end of the index, returned exclusively locked. */
Buffer
vl_new_buffer(Relation index)
{
	Buffer		buf;
	bool		needlock = !RELATION_IS_LOCAL(index);

	if (needlock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (needlock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}
