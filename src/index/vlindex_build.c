/*
 * vlindex_build.c — CREATE INDEX / REINDEX for the vlake index.
 *
 * One heap scan collects every vector (as float4, normalised for cosine)
 * with its row reference.  Vectors stay in memory while they fit in
 * maintenance_work_mem (3/4 of it); past that they spill to a temporary
 * file and k-means trains on a uniform reservoir sample that takes the
 * remaining quarter.  Then: k-means (k-means++ seeding, Lloyd iterations)
 * on at most 32 points per list, assignment of every vector to its nearest
 * centroid, and the lake files written list by list (vl_write_part).  The
 * metapage naming the new files is written last; if the build fails or is
 * killed, the transaction aborts and the files it wrote are orphans that
 * no metapage names.
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/buffile.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "index/vlindex.h"
#include "objstore/objstore.h"

#define VL_PHASE_LOAD		1
#define VL_PHASE_CLUSTER	2
#define VL_PHASE_ASSIGN		3
#define VL_PHASE_WRITE		4

#define VL_SAMPLE_PER_LIST	32
#define VL_KMEANS_ITERS		6

typedef struct VlBuildState
{
	Relation	index;
	IvfMetric	metric;
	VlElemType	et;
	int			dim;
	int64		n;
	/* vectors: in memory up to mem_cap, then in a temporary file */
	float	   *mem;
	int64		mem_cap;
	int64		mem_have;		/* vectors mem has room for */
	BufFile    *file;
	uint64	   *refs;
	int64		refs_cap;
	/* reservoir sample, used when the vectors spill */
	float	   *sample;
	int64		nsample;
	int64		sample_cap;
	uint64		rng;
	float	   *vec;
	Size		budget;
} VlBuildState;

char *
vl_build_phasename(int64 phase)
{
	switch (phase)
	{
		case VL_PHASE_LOAD:
			return "loading tuples";
		case VL_PHASE_CLUSTER:
			return "computing centroids";
		case VL_PHASE_ASSIGN:
			return "assigning tuples";
		case VL_PHASE_WRITE:
			return "writing lake files";
		default:
			return NULL;
	}
}

char *
vl_location_for(Relation index)
{
	return vl_location_resolve(index, false);
}

/* The index location, or NULL (missing_ok) when none is configured. */
char *
vl_location_resolve(Relation index, bool missing_ok)
{
	VlOptions  *opts = (VlOptions *) index->rd_options;
	const char *loc = NULL;

	if (opts && opts->location_offset)
		loc = (const char *) opts + opts->location_offset;
	if (!loc || loc[0] == '\0')
		loc = vl_default_location;
	if ((!loc || loc[0] == '\0') && missing_ok)
		return NULL;
	if (!loc || loc[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vlake index \"%s\" has no location for its lake files",
						RelationGetRelationName(index)),
				 errhint("Set vlake.default_location or use WITH (location = 'file:///…' or 's3://…').")));
	if (strlen(loc) >= VL_LOCATION_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vlake index location is too long")));
	return pstrdup(loc);
}

static void
spill_vector(VlBuildState *st, const float *v)
{
	BufFileWrite(st->file, (void *) v, sizeof(float) * st->dim);
}

static void
spill_read(BufFile *file, float *out, size_t len)
{
	if (BufFileRead(file, out, len) != len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read vlake index build temporary file")));
}

static void
start_spilling(VlBuildState *st)
{
	st->file = BufFileCreateTemp(false);
	for (int64 i = 0; i < st->n; i++)
		spill_vector(st, st->mem + i * st->dim);
	pfree(st->mem);
	st->mem = NULL;
}

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool alive, void *state)
{
	VlBuildState *st = state;
	int			dim;

	CHECK_FOR_INTERRUPTS();
	if (isnull[0])
		return;

	vl_datum_to_floats(values[0], st->et, st->metric, st->dim, st->vec, &dim, index);
	if (st->dim == 0)
	{
		/* first vector fixes the dimension and the memory layout */
		st->dim = dim;
		st->mem_cap = Max(1, (int64) (st->budget * 3 / 4) / (int64) (sizeof(float) * dim));
		st->sample_cap = Max(256, (int64) (st->budget / 4) / (int64) (sizeof(float) * dim));
		st->sample = MemoryContextAllocHuge(CurrentMemoryContext,
											sizeof(float) * dim * st->sample_cap);
		st->mem_have = Min(st->mem_cap, 1024);
		st->mem = MemoryContextAllocHuge(CurrentMemoryContext,
										 sizeof(float) * dim * st->mem_have);
	}

	if (st->n == st->refs_cap)
	{
		st->refs_cap *= 2;
		st->refs = repalloc_huge(st->refs, sizeof(uint64) * st->refs_cap);
	}
	st->refs[st->n] = vl_rowref_from_tid(tid);

	if (st->file == NULL && st->n >= st->mem_cap)
		start_spilling(st);
	if (st->file)
		spill_vector(st, st->vec);
	else
	{
		/* grow the in-memory array geometrically up to mem_cap */
		if (st->n >= st->mem_have)
		{
			st->mem_have = Min(st->mem_cap, st->n * 2);
			st->mem = repalloc_huge(st->mem, sizeof(float) * st->dim * st->mem_have);
		}
		memcpy(st->mem + st->n * st->dim, st->vec, sizeof(float) * st->dim);
	}

	/* reservoir sample (algorithm R) */
	if (st->nsample < st->sample_cap)
		memcpy(st->sample + st->nsample++ * st->dim, st->vec, sizeof(float) * st->dim);
	else
	{
		uint64		j = ivf_rand(&st->rng) % (uint64) (st->n + 1);

		if (j < (uint64) st->sample_cap)
			memcpy(st->sample + j * st->dim, st->vec, sizeof(float) * st->dim);
	}
	st->n++;
	if ((st->n & 1023) == 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, st->n);
}

static void
read_vector(VlBuildState *st, int64 seq, float *out)
{
	if (st->file == NULL)
	{
		memcpy(out, st->mem + seq * st->dim, sizeof(float) * st->dim);
		return;
	}
	else
	{
		uint64		pos = (uint64) seq * st->dim * sizeof(float);
		int			fileno;
		off_t		off;

		if (BufFileSeekBlock(st->file, pos / BLCKSZ) != 0)
			elog(ERROR, "could not seek in vlake index build temporary file");
		BufFileTell(st->file, &fileno, &off);
		if (BufFileSeek(st->file, fileno, off + (off_t) (pos % BLCKSZ), SEEK_SET) != 0)
			elog(ERROR, "could not seek in vlake index build temporary file");
		spill_read(st->file, out, sizeof(float) * st->dim);
	}
}

static void
source_get(VlVecSource *src, int64 seq, float *out)
{
	read_vector((VlBuildState *) src->arg, seq, out);
}

static void
kmeans_tick(void *arg, int64_t done)
{
	CHECK_FOR_INTERRUPTS();
}

/* Choose the k-means training points: a uniform sample of the vectors. */
static float *
training_sample(VlBuildState *st, int lists, int *m_out)
{
	int64		want = Min((int64) lists * VL_SAMPLE_PER_LIST, st->n);
	float	   *x;

	if (st->file == NULL)
	{
		/* everything is in memory: partial Fisher-Yates over indices */
		int64	   *idx = palloc_extended(sizeof(int64) * st->n, MCXT_ALLOC_HUGE);

		for (int64 i = 0; i < st->n; i++)
			idx[i] = i;
		x = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * st->dim * want);
		for (int64 i = 0; i < want; i++)
		{
			int64		j = i + (int64) (ivf_rand(&st->rng) % (uint64) (st->n - i));
			int64		t = idx[i];

			idx[i] = idx[j];
			idx[j] = t;
			memcpy(x + i * st->dim, st->mem + idx[i] * st->dim, sizeof(float) * st->dim);
		}
		pfree(idx);
	}
	else
	{
		/* reservoir is already a uniform sample; take its first `want` */
		want = Min(want, st->nsample);
		x = st->sample;
	}
	*m_out = (int) want;
	return x;
}

static void
write_metapage(Relation index, ForkNumber fork, IvfMetric metric, VlElemType et,
			   const char *location, int dim, int lists, uint64 nvec,
			   const char *prefix, uint64 meta_size, const char *meta_etag,
			   const char *meta_blob)
{
	Buffer		buf;
	Page		page;
	GenericXLogState *xs;
	VlMetaData *m;

	buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
	Assert(BufferGetBlockNumber(buf) == VL_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	xs = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xs, buf, GENERIC_XLOG_FULL_IMAGE);
	vl_meta_init_page(page, metric, et, location);
	m = VlPageGetMeta(page);
	m->dim = dim;
	m->lists = lists;
	m->nvec = nvec;
	m->generation = 1;
	strlcpy(m->prefix, prefix ? prefix : "", VL_PREFIX_MAX);
	m->meta_size = meta_size;
	strlcpy(m->meta_etag, meta_etag ? meta_etag : "", sizeof(m->meta_etag));
	GenericXLogFinish(xs);

	/* then the copy of index.meta after it, and its head in the metapage */
	if (meta_blob && meta_size > 0)
	{
		BlockNumber head = vl_blob_write(index, fork, meta_blob, meta_size, 1);

		xs = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(xs, buf, 0);
		VlPageGetMeta(page)->meta_blob_head = head;
		GenericXLogFinish(xs);
	}
	UnlockReleaseBuffer(buf);
}

IndexBuildResult *
vl_build(Relation heap, Relation index, IndexInfo *info)
{
	IndexBuildResult *result = palloc0(sizeof(IndexBuildResult));
	VlBuildState st;
	/* an empty table writes no files: the location may come later */
	char	   *location = vl_location_resolve(index, true);
	VlOptions  *opts = (VlOptions *) index->rd_options;
	char		prefix[VL_PREFIX_MAX] = "";
	char		meta_etag[128] = "";
	uint64		meta_size = 0;
	char	   *meta_blob = NULL;
	int			lists = 0;
	double		reltuples;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake index build",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	if (info->ii_NumIndexAttrs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vlake indexes have exactly one column")));

	memset(&st, 0, sizeof(st));
	st.index = index;
	st.metric = vl_index_metric(index, &st.et);
	st.budget = (Size) maintenance_work_mem * 1024;
	st.refs_cap = 1024;
	st.refs = palloc(sizeof(uint64) * st.refs_cap);
	st.rng = UINT64_C(0x5EED) ^ RelationGetRelid(index);
	st.vec = palloc(sizeof(float) * VL_MAX_DIM);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VL_PHASE_LOAD);
	reltuples = table_index_build_scan(heap, index, info, true, true,
									   build_callback, &st, NULL);

	if (st.n > 0)
	{
		float	   *train,
				   *centroids;
		int			m;
		int		   *assign;
		IvfKmeansScratch ks;
		uint64		seed = ivf_rand(&st.rng);
		VlVecSource src;

		lists = (opts && opts->lists > 0) ? opts->lists : (int) Max(1, ceil(sqrt((double) st.n)));
		lists = (int) Min((int64) lists, st.n);

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VL_PHASE_CLUSTER);
		train = training_sample(&st, lists, &m);
		centroids = palloc(sizeof(float) * st.dim * lists);
		ks.assign = palloc(sizeof(int) * m);
		ks.sums = palloc_extended(sizeof(double) * lists * st.dim, MCXT_ALLOC_HUGE);
		ks.counts = palloc(sizeof(int64) * lists);
		ks.mind = palloc(sizeof(float) * m);
		ivf_kmeans(train, m, st.dim, lists, VL_KMEANS_ITERS, seed, centroids, &ks,
				   kmeans_tick, NULL);

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VL_PHASE_ASSIGN);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, st.n);
		assign = palloc_extended(sizeof(int) * st.n, MCXT_ALLOC_HUGE);
		if (st.file)
			BufFileSeek(st.file, 0, 0, SEEK_SET);
		for (int64 i = 0; i < st.n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (st.file)
				spill_read(st.file, st.vec, sizeof(float) * st.dim);
			else
				memcpy(st.vec, st.mem + i * st.dim, sizeof(float) * st.dim);
			assign[i] = ivf_nearest(centroids, lists, st.dim, st.vec, NULL);
			if ((i & 1023) == 0)
				pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, i);
		}

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VL_PHASE_WRITE);
		if (location == NULL)
			location = vl_location_for(index);	/* ERRORs with a hint */
		src.get = source_get;
		src.arg = &st;
		vl_write_part(index, location, st.metric, st.dim, lists, centroids, seed,
					  st.n, assign, st.refs, &src, prefix, &meta_size, meta_etag,
					  &meta_blob);
		if (st.file)
			BufFileClose(st.file);
	}

	write_metapage(index, MAIN_FORKNUM, st.metric, st.et, location ? location : "", st.dim,
				   lists, st.n, prefix, meta_size, meta_etag, meta_blob);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);

	result->heap_tuples = reltuples;
	result->index_tuples = st.n;
	return result;
}

void
vl_buildempty(Relation index)
{
	VlElemType	et;
	IvfMetric	metric = vl_index_metric(index, &et);
	VlOptions  *opts = (VlOptions *) index->rd_options;
	const char *loc = (opts && opts->location_offset) ?
		(const char *) opts + opts->location_offset : vl_default_location;

	write_metapage(index, INIT_FORKNUM, metric, et, loc ? loc : "", 0, 0, 0, NULL, 0, NULL, NULL);
}
