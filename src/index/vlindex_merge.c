/*
 * vlindex_merge.c — vlake.merge(index): fold the delta and the tombstones
 * into a new lake part and switch the metapage to it atomically.
 *
 *  1. seal: under the metapage lock, the live delta chain becomes the
 *     "sealed" chain and inserts start a new one.  Scans search both, so
 *     nothing is invisible at any moment.  (If a previous merge died after
 *     sealing, its sealed chain is reused and the live delta waits.)
 *  2. write: the new part holds the old part's rows minus tombstones, plus
 *     the sealed delta, assigned to the existing centroids (k-means runs
 *     only when there was no lake part yet; REINDEX re-clusters).  The files
 *     are new, uniquely named objects; nothing existing is modified.  On a
 *     vlake table the part has no vectors file (the re-rank reads the
 *     table), so the old rows cannot be re-encoded from it: the new part
 *     keeps the old rotation seed and copies their codes as they are; only
 *     the sealed delta is encoded.
 *  3. swap: one GenericXLog record sets the new file set, drops the sealed
 *     chain and the tombstones.  A scan reads the metapage once, so it sees
 *     the old set (old part + sealed + live delta) or the new one (new part
 *     + live delta), never a mix.
 * The heap is locked in ShareUpdateExclusiveLock, like VACUUM, so no new
 * tombstones appear while the merge runs; inserts and queries continue.
 * A crash or ERROR before the swap leaves the old set in place (the new
 * files are orphans no metapage names).
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "access/relation.h"
#include "access/transam.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "index/vlindex.h"
#include "objstore/objstore.h"

typedef struct MergeSource
{
	VlIndexPart	   *part;			/* old part, or NULL */
	int64		nold;			/* surviving old rows (first in seq order) */
	int		   *old_list;
	int		   *old_idx;
	float	   *delta;			/* [ndelta][dim] */
	int			dim;
	/* codes kept (vlake tables): the delta encoded with the old rotation */
	const int  *assign;
	const uint64 *delta_refs;
	const float *centroids;
	float	   *tmp;			/* [2 * pdim] */
} MergeSource;

/* The old rows' codes as they are, the delta's encoded like a build's. */
static void
merge_get_encoded(VlIndexCodeSource *src, int64 seq, float *vec, uint64 *code,
				  IvfFactor *f, uint64 *ref)
{
	MergeSource *ms = src->arg;
	VlIndexPart	   *part = ms->part;

	if (seq < ms->nold)
	{
		VlIndexList	   *l = &part->list[ms->old_list[seq]];
		int			j = ms->old_idx[seq];

		memcpy(code, l->codes + (size_t) j * part->words, sizeof(uint64) * part->words);
		*f = l->factors[j];
		*ref = l->refs[j];
		/* vec is NULL: a vlake table's part has no vectors file */
	}
	else
	{
		const float *v = ms->delta + (seq - ms->nold) * ms->dim;

		ivf_encode(&part->rot, (IvfMetric) part->metric, v,
				   ms->centroids + (size_t) ms->assign[seq] * ms->dim, code, f, ms->tmp);
		*ref = ms->delta_refs[seq - ms->nold];
	}
}

static void
merge_get(VlIndexVecSource *src, int64 seq, float *out)
{
	MergeSource *ms = src->arg;

	if (seq < ms->nold)
		vlindex_part_fetch_vectors(ms->part, &ms->old_list[seq], &ms->old_idx[seq], 1, 0, out);
	else
		memcpy(out, ms->delta + (seq - ms->nold) * ms->dim, sizeof(float) * ms->dim);
}

/*
 * Step 1: seal the live delta (unless a sealed chain is still pending).
 * Returns false when a sealed chain was pending (an earlier merge died after
 * sealing it): entries inserted since then are in the live delta, not in
 * what this merge folds.
 */
static bool
seal_delta(Relation index, VlIndexMetaData *out)
{
	Buffer		buf = ReadBuffer(index, VLINDEX_METAPAGE_BLKNO);
	GenericXLogState *xs;
	VlIndexMetaData *m;
	bool		fresh;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	m = VlIndexPageGetMeta(BufferGetPage(buf));
	fresh = m->sealed_head == InvalidBlockNumber;
	if (m->sealed_head == InvalidBlockNumber && m->delta_head != InvalidBlockNumber)
	{
		xs = GenericXLogStart(index);
		m = VlIndexPageGetMeta(GenericXLogRegisterBuffer(xs, buf, 0));
		m->sealed_head = m->delta_head;
		m->sealed_count = m->delta_count;
		m->delta_head = m->delta_tail = InvalidBlockNumber;
		m->delta_count = 0;
		GenericXLogFinish(xs);
	}
	/* read the buffer's page again: m pointed into GenericXLog's copy */
	m = VlIndexPageGetMeta(BufferGetPage(buf));
	memcpy(out, m, sizeof(VlIndexMetaData));
	UnlockReleaseBuffer(buf);
	return fresh;
}

typedef struct SealedRows
{
	float	   *vecs;
	uint64	   *refs;
	int64		n;
	int64		cap;
	int			dim;
} SealedRows;

static void
sealed_row(void *arg, ItemPointer tid, const float *x)
{
	SealedRows *s = arg;

	if (s->n == s->cap)
	{
		s->cap *= 2;
		s->vecs = repalloc_huge(s->vecs, sizeof(float) * s->dim * s->cap);
		s->refs = repalloc_huge(s->refs, sizeof(uint64) * s->cap);
	}
	memcpy(s->vecs + s->n * s->dim, x, sizeof(float) * s->dim);
	s->refs[s->n] = lake_rowref_from_tid(tid);
	s->n++;
}

/* Read the sealed chain into a growing array of vectors and TIDs. */
static int64
read_sealed(Relation index, const VlIndexMetaData *meta, float **vecs, uint64 **refs)
{
	SealedRows	s;

	s.dim = meta->dim;
	s.n = 0;
	s.cap = 64;
	s.vecs = palloc_extended(sizeof(float) * s.dim * s.cap, MCXT_ALLOC_HUGE);
	s.refs = palloc(sizeof(uint64) * s.cap);
	(void) vlindex_delta_walk(index, meta->sealed_head, s.dim, meta->generation,
							  sealed_row, &s);
	*vecs = s.vecs;
	*refs = s.refs;
	return s.n;
}

/*
 * Record a chain the switch replaces in the metapage m (being WAL-logged),
 * to be recycled once no snapshot predates the switch (vlindex_pages.c).
 * With no room left its pages stay unused until REINDEX.
 */
static void
retire_chain(Relation index, VlIndexMetaData *m, BlockNumber head, uint16 kind)
{
	if (head == InvalidBlockNumber)
		return;
	if (m->nretired >= VLINDEX_MAX_RETIRED)
	{
		elog(LOG, "vlake index \"%s\": too many merged chains awaiting VACUUM, block %u not recycled",
			 RelationGetRelationName(index), head);
		return;
	}
	m->retired[m->nretired].head = head;
	m->retired[m->nretired].kind = kind;
	m->retired[m->nretired].xid = U64FromFullTransactionId(ReadNextFullTransactionId());
	m->nretired++;
}

/* Step 3: point the metapage at the new part. */
static void
swap_part(Relation index, const VlIndexMetaData *snap, int dim, int lists,
		  int64 nvec, const char *prefix, uint64 meta_size, const char *meta_etag,
		  BlockNumber blob_head)
{
	Buffer		buf = ReadBuffer(index, VLINDEX_METAPAGE_BLKNO);
	GenericXLogState *xs;
	VlIndexMetaData *m;
	XLogRecPtr	lsn;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	m = VlIndexPageGetMeta(BufferGetPage(buf));
	if (m->generation != snap->generation || m->sealed_head != snap->sealed_head)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("vlake index \"%s\" changed during the merge",
						RelationGetRelationName(index)),
				 errhint("Retry vlake.merge().")));
	xs = GenericXLogStart(index);
	m = VlIndexPageGetMeta(GenericXLogRegisterBuffer(xs, buf, 0));
	m->dim = dim;
	m->lists = lists;
	m->nvec = nvec;
	m->generation++;
	strlcpy(m->prefix, prefix, VLINDEX_PREFIX_MAX);
	m->meta_size = meta_size;
	strlcpy(m->meta_etag, meta_etag, sizeof(m->meta_etag));
	retire_chain(index, m, snap->sealed_head, VLINDEX_PAGE_DELTA);
	retire_chain(index, m, m->tomb_head, VLINDEX_PAGE_TOMB);
	retire_chain(index, m, m->meta_blob_head, VLINDEX_PAGE_BLOB);
	m->meta_blob_head = blob_head;
	m->sealed_head = InvalidBlockNumber;
	m->sealed_count = 0;
	m->tomb_head = m->tomb_tail = InvalidBlockNumber;
	m->tomb_count = 0;
	lsn = GenericXLogFinish(xs);
	UnlockReleaseBuffer(buf);

	/*
	 * The merge has no transaction ID, so its commit would not flush WAL:
	 * flush here, so that when vlake.merge() returns the switch is durable
	 * and on its way to standbys.
	 */
	XLogFlush(lsn);
}

static void
merge_tick(void *arg, int64_t done)
{
	CHECK_FOR_INTERRUPTS();
}

PG_FUNCTION_INFO_V1(vlake_index_merge);
Datum
vlake_index_merge(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Oid			heapoid = vlindex_check_access(indexoid, true);
	/* table first, then index, as VACUUM does */
	Relation	heap = relation_open(heapoid, ShareUpdateExclusiveLock);
	Relation	index = vlindex_open(indexoid, ShareUpdateExclusiveLock);
	VlIndexMetaData meta;
	MergeSource ms;
	VlIndexVecSource src;
	float	   *delta;
	uint64	   *delta_refs,
			   *refs;
	int		   *assign;
	int64		ndelta,
				total;
	int			lists,
				dim;
	float	   *centroids;
	char		prefix[VLINDEX_PREFIX_MAX];
	char		meta_etag[128] = "";
	uint64		meta_size = 0;
	char	   *meta_blob = NULL;
	BlockNumber blob_head = InvalidBlockNumber;
	uint64		seed;
	const char *location;
	int64		end_row_id;
	bool		fresh;

	/* pages of earlier merges no snapshot needs any more are reused first */
	vlindex_recycle_retired(index);
	/* vlake tables: read before the seal, so every row committed by then has
	 * its entry in the old part or the sealed chain (vltab_index.h) */
	end_row_id = vlindex_table_next_row_id(heap);
	fresh = seal_delta(index, &meta);
	memset(&ms, 0, sizeof(ms));
	dim = meta.dim;
	location = meta.location[0] ? meta.location : vlindex_location_for(index);
	if (dim == 0 || (meta.sealed_count == 0 && meta.tomb_count == 0 && meta.sealed_head == InvalidBlockNumber))
	{
		/* nothing to fold */
		relation_close(index, ShareUpdateExclusiveLock);
		relation_close(heap, ShareUpdateExclusiveLock);
		PG_RETURN_INT64((int64) meta.nvec);
	}
	ndelta = read_sealed(index, &meta, &delta, &delta_refs);
	ms.dim = dim;
	ms.delta = delta;

	if (meta.lists > 0 && meta.nvec > 0)
	{
		VlIndexPart	   *part = vlindex_part_get(index, &meta);
		int		   *all = palloc(sizeof(int) * part->lists);
		int			ntomb;
		uint64	   *tomb = vlindex_tombstones_load(index, &meta, &ntomb);
		int64		k = 0;

		for (int c = 0; c < part->lists; c++)
			all[c] = c;
		vlindex_part_load_lists(part, all, part->lists);
		ms.part = part;
		ms.old_list = palloc_extended(sizeof(int) * Max(part->nvec, 1), MCXT_ALLOC_HUGE);
		ms.old_idx = palloc_extended(sizeof(int) * Max(part->nvec, 1), MCXT_ALLOC_HUGE);
		total = part->nvec + ndelta;
		refs = palloc_extended(sizeof(uint64) * Max(total, 1), MCXT_ALLOC_HUGE);
		assign = palloc_extended(sizeof(int) * Max(total, 1), MCXT_ALLOC_HUGE);
		for (int c = 0; c < part->lists; c++)
		{
			VlIndexList	   *l = &part->list[c];

			for (int j = 0; j < l->count; j++)
			{
				uint64		ref = l->refs[j];

				if (ntomb > 0 && bsearch(&ref, tomb, ntomb, sizeof(uint64), lake_rowref_cmp))
					continue;
				ms.old_list[k] = c;
				ms.old_idx[k] = j;
				refs[k] = ref;
				assign[k] = c;
				k++;
			}
		}
		ms.nold = k;
		lists = part->lists;
		centroids = part->centroids;
	}
	else
	{
		/* first lake part: cluster the delta */
		IvfKmeansScratch ks;
		int			m = (int) Min(ndelta, (int64) 1 << 20);

		lists = (int) Max(1, Min(ndelta, (int64) ceil(sqrt((double) ndelta))));
		centroids = palloc(sizeof(float) * dim * lists);
		ks.assign = palloc(sizeof(int) * Max(m, 1));
		ks.sums = palloc_extended(sizeof(double) * lists * dim, MCXT_ALLOC_HUGE);
		ks.counts = palloc(sizeof(int64) * lists);
		ks.mind = palloc(sizeof(float) * Max(m, 1));
		ks.blocks = palloc_extended(sizeof(float) * ivf_block_floats(lists, dim), MCXT_ALLOC_HUGE);
		if (ndelta > 0)
			ivf_kmeans(delta, m, dim, lists, 6, meta.generation + 17, centroids, &ks,
					   merge_tick, NULL);
		total = ndelta;
		refs = palloc_extended(sizeof(uint64) * Max(total, 1), MCXT_ALLOC_HUGE);
		assign = palloc_extended(sizeof(int) * Max(total, 1), MCXT_ALLOC_HUGE);
		ms.nold = 0;
	}
	for (int64 i = 0; i < ndelta; i++)
	{
		CHECK_FOR_INTERRUPTS();
		refs[ms.nold + i] = delta_refs[i];
		assign[ms.nold + i] = ivf_nearest(centroids, lists, dim, delta + i * dim, NULL);
	}
	total = ms.nold + ndelta;

	prefix[0] = '\0';
	if (total > 0)
	{
		if (ms.part != NULL && vlindex_table_rerank_column(index) != 0)
		{
			VlIndexCodeSource csrc = {0};

			ms.assign = assign;
			ms.delta_refs = delta_refs;
			ms.centroids = centroids;
			ms.tmp = palloc(sizeof(float) * 2 * ms.part->pdim);
			csrc.get = merge_get_encoded;
			csrc.arg = &ms;
			vlindex_write_part_encoded(index, location, (IvfMetric) meta.metric, dim, lists,
									   centroids, ms.part->seed, total, assign, &csrc, prefix,
									   &meta_size, meta_etag, &meta_blob);
		}
		else
		{
			src.get = merge_get;
			src.arg = &ms;
			if (!pg_strong_random(&seed, sizeof(seed)))
				seed = meta.generation * 7919 + 1;
			vlindex_write_part(index, location, (IvfMetric) meta.metric, dim, lists,
							   centroids, seed, total, assign, refs, &src, prefix,
							   &meta_size, meta_etag, &meta_blob);
		}
		/* new pages, not yet named by the metapage: invisible until the swap */
		blob_head = vlindex_blob_write(index, MAIN_FORKNUM, meta_blob, meta_size, meta.generation + 1);
	}
	/*
	 * On a vlake table the new part goes into its manifest with this
	 * commit.  Recorded before the switch: an ERROR up to the switch undoes
	 * both.  A sealed chain left by an earlier merge holds only what was
	 * inserted before that merge began: keep the range recorded then.
	 */
	if (!fresh)
		end_row_id = Min(end_row_id, vlindex_table_recorded_end(heap, index));
	vlindex_table_record(heap, index, location, prefix, (IvfMetric) meta.metric, dim,
						 total > 0 ? lists : 0, total, meta_size, meta_etag, meta_blob,
						 end_row_id);
	swap_part(index, &meta, dim, total > 0 ? lists : 0, total, prefix,
			  meta_size, meta_etag, blob_head);
	vlindex_part_forget(indexoid);

	relation_close(index, ShareUpdateExclusiveLock);
	relation_close(heap, ShareUpdateExclusiveLock);
	PG_RETURN_INT64(total);
}
