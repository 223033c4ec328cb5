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
 *
 * When plan_create_index_workers() grants workers, vlindex_parallel.c runs
 * the scan, the assignment and the encoding in parallel; this file keeps
 * the serial path (max_parallel_maintenance_workers = 0, small tables) and
 * the pieces both share.
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/buffile.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "index/vlindex.h"
#include "index/vlindex_build.h"
#include "objstore/objstore.h"

#define VL_SAMPLE_PER_LIST	32


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

void
vl_build_read_exact(BufFile *file, void *out, size_t len)
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

void
vl_build_state_init(VlBuildState *st, Relation index, Size budget, uint64 rng_seed)
{
	memset(st, 0, sizeof(*st));
	st->index = index;
	st->metric = vl_index_metric(index, &st->et);
	st->budget = budget;
	st->refs_cap = 1024;
	st->refs = palloc(sizeof(uint64) * st->refs_cap);
	st->rng = rng_seed;
	st->vec = palloc(sizeof(float) * VL_MAX_DIM);
	st->report_progress = true;
}

void
vl_build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
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
	{
		int64		done = st->n;

		if (st->shared_tuples)
			done = (int64) pg_atomic_add_fetch_u64(st->shared_tuples, 1024);
		if (st->report_progress)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
	}
}

void
vl_build_read_vector(VlBuildState *st, int64 seq, float *out)
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
		vl_build_read_exact(st->file, out, sizeof(float) * st->dim);
	}
}

static void
source_get(VlVecSource *src, int64 seq, float *out)
{
	vl_build_read_vector((VlBuildState *) src->arg, seq, out);
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
	int64		want = vl_build_sample_size(lists, st->n);
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

/* Lists of a new part: the reloption, else sqrt(rows); never more than rows. */
int
vl_build_list_count(Relation index, int64 n)
{
	VlOptions  *opts = (VlOptions *) index->rd_options;
	int			lists;

	lists = (opts && opts->lists > 0) ? opts->lists : (int) Max(1, ceil(sqrt((double) n)));
	return (int) Min((int64) lists, n);
}

/* k-means training points wanted for this many lists and rows. */
int64
vl_build_sample_size(int lists, int64 n)
{
	return Min((int64) lists * VL_SAMPLE_PER_LIST, n);
}

/*
 * centroids[lists][dim] from the training points train[m][dim]: k-means++
 * seeding and iters Lloyd iterations (iters = 0: the seeds alone).
 */
void
vl_build_kmeans(const float *train, int m, int dim, int lists, uint64 seed,
				int iters, float *centroids)
{
	IvfKmeansScratch ks;

	ks.assign = palloc(sizeof(int) * m);
	ks.sums = palloc_extended(sizeof(double) * lists * dim, MCXT_ALLOC_HUGE);
	ks.counts = palloc(sizeof(int64) * lists);
	ks.mind = palloc(sizeof(float) * m);
	ivf_kmeans(train, m, dim, lists, iters, seed, centroids, &ks,
			   kmeans_tick, NULL);
	pfree(ks.assign);
	pfree(ks.sums);
	pfree(ks.counts);
	pfree(ks.mind);
}

/* DEBUG1: how long the build phase that just ended took (tuning aid). */
void
vl_build_phase_done(Relation index, const char *what, instr_time *since)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, *since);
	ereport(DEBUG1,
			(errmsg_internal("vlake index \"%s\": %s took %.0f ms",
							 RelationGetRelationName(index), what,
							 INSTR_TIME_GET_MILLISEC(now))));
	INSTR_TIME_SET_CURRENT(*since);
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

/* The serial build: one process scans, clusters, assigns and writes. */
static void
build_serial(Relation heap, Relation index, IndexInfo *info,
			 char *location, VlBuildOutput *out)
{
	VlBuildState st;
	instr_time	t;

	INSTR_TIME_SET_CURRENT(t);
	vl_build_state_init(&st, index, (Size) maintenance_work_mem * 1024,
						UINT64_C(0x5EED) ^ RelationGetRelid(index));

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VL_PHASE_LOAD);
	out->reltuples = table_index_build_scan(heap, index, info, true, true,
											vl_build_callback, &st, NULL);
	out->n = st.n;
	out->dim = st.dim;
	vl_build_phase_done(index, "scan", &t);

	if (st.n > 0)
	{
		float	   *train,
				   *centroids;
		int			m;
		int		   *assign;
		uint64		seed = ivf_rand(&st.rng);
		VlVecSource src;
		int			lists = vl_build_list_count(index, st.n);

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VL_PHASE_CLUSTER);
		train = training_sample(&st, lists, &m);
		centroids = palloc(sizeof(float) * st.dim * lists);
		vl_build_kmeans(train, m, st.dim, lists, seed, VL_KMEANS_ITERS, centroids);
		vl_build_phase_done(index, "sample + k-means", &t);

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VL_PHASE_ASSIGN);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, st.n);
		assign = palloc_extended(sizeof(int) * st.n, MCXT_ALLOC_HUGE);
		if (st.file)
			BufFileSeek(st.file, 0, 0, SEEK_SET);
		for (int64 i = 0; i < st.n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (st.file)
				vl_build_read_exact(st.file, st.vec, sizeof(float) * st.dim);
			else
				memcpy(st.vec, st.mem + i * st.dim, sizeof(float) * st.dim);
			assign[i] = ivf_nearest(centroids, lists, st.dim, st.vec, NULL);
			if ((i & 1023) == 0)
				pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, i);
		}
		vl_build_phase_done(index, "assign", &t);

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VL_PHASE_WRITE);
		if (location == NULL)
			location = vl_location_for(index);	/* ERRORs with a hint */
		src.get = source_get;
		src.arg = &st;
		vl_write_part(index, location, st.metric, st.dim, lists, centroids, seed,
					  st.n, assign, st.refs, &src, out->prefix, &out->meta_size,
					  out->meta_etag, &out->meta_blob);
		out->lists = lists;
		if (st.file)
			BufFileClose(st.file);
		vl_build_phase_done(index, "encode + write", &t);
	}
}

/* Workers to ask for: none for bootstrap, else what the planner grants. */
static int
build_workers(Relation heap, Relation index)
{
	if (IsBootstrapProcessingMode() || !IsUnderPostmaster)
		return 0;
	return plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
}

IndexBuildResult *
vl_build(Relation heap, Relation index, IndexInfo *info)
{
	IndexBuildResult *result = palloc0(sizeof(IndexBuildResult));
	VlElemType	et;
	IvfMetric	metric = vl_index_metric(index, &et);
	/* an empty table writes no files: the location may come later */
	char	   *location = vl_location_resolve(index, true);
	VlBuildOutput out;
	int			nworkers;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake index build",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	if (info->ii_NumIndexAttrs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vlake indexes have exactly one column")));

	memset(&out, 0, sizeof(out));
	nworkers = build_workers(heap, index);
	if (nworkers <= 0 ||
		!vl_build_parallel(heap, index, info, nworkers, location, &out))
	{
		ereport(DEBUG1,
				(errmsg_internal("vlake index \"%s\": serial build",
								 RelationGetRelationName(index))));
		build_serial(heap, index, info, location, &out);
	}
	if (out.n > 0 && location == NULL)
		location = vl_location_for(index);	/* (the builds checked it already) */

	write_metapage(index, MAIN_FORKNUM, metric, et, location ? location : "", out.dim,
				   out.lists, out.n, out.prefix, out.meta_size, out.meta_etag,
				   out.meta_blob);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);

	result->heap_tuples = out.reltuples;
	result->index_tuples = out.n;
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
