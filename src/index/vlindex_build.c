/*
 * vlindex_build.c — CREATE INDEX / REINDEX for the vlake index.
 *
 * One heap scan collects every vector (as float4, normalised for cosine)
 * with its row reference.  Vectors stay in memory while they fit in
 * maintenance_work_mem (3/4 of it); past that they spill to a temporary
 * file and k-means trains on a uniform reservoir sample that takes the
 * remaining quarter.  Then: k-means (k-means++ seeding, Lloyd iterations)
 * on at most 32 points per list, assignment of every vector to its nearest
 * centroid, and the lake files written list by list (vlindex_write_part).  The
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
#include <sys/mman.h>
#include <sys/resource.h>

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

#define VLINDEX_SAMPLE_PER_LIST	32


char *
vlindex_build_phasename(int64 phase)
{
	switch (phase)
	{
		case VLINDEX_PHASE_LOAD:
			return "loading tuples";
		case VLINDEX_PHASE_CLUSTER:
			return "computing centroids";
		case VLINDEX_PHASE_ASSIGN:
			return "assigning tuples";
		case VLINDEX_PHASE_WRITE:
			return "writing lake files";
		default:
			return NULL;
	}
}

char *
vlindex_location_for(Relation index)
{
	return vlindex_location_resolve(index, false);
}

/* The index location, or NULL (missing_ok) when none is configured. */
char *
vlindex_location_resolve(Relation index, bool missing_ok)
{
	VlIndexOptions  *opts = (VlIndexOptions *) index->rd_options;
	const char *loc = NULL;

	if (opts && opts->location_offset)
		loc = (const char *) opts + opts->location_offset;
	/* an index of a vlake table: next to the table's data, under its
	 * dataset root (the manifest names the part by a relative path) */
	if (!loc || loc[0] == '\0')
	{
		char	   *root = vlindex_table_location(index);

		if (root != NULL)
			return lake_location_choose(root);
	}
	/* nothing configured: decided when the first part is written */
	if ((!loc || loc[0] == '\0') && missing_ok &&
		(!lake_default_location || lake_default_location[0] == '\0'))
		return NULL;
	return lake_location_choose(loc);
}

/*
 * Map the next VLINDEX_PREFAULT bytes of the in-memory vectors before the
 * rows reach them, in one call (Linux 5.14+): every 4 kB page of a fresh
 * allocation otherwise costs a page fault on first write, and on virtual
 * machines a fault is dear — 188 MB of Fashion-MNIST vectors took ~0.5 s
 * of CPU in faults, half that populated 8 MB at a time.  A refusal (older
 * kernel) is harmless: the rows fault their pages in as before.
 */
#define VLINDEX_PREFAULT	(8 * 1024 * 1024)

static void
prefault(VlIndexBuildState *st, Size upto)
{
#ifdef MADV_POPULATE_WRITE
	Size		cap = sizeof(float) * st->dim * st->mem_have;
	uintptr_t	base = (uintptr_t) st->mem;
	uintptr_t	lo = TYPEALIGN(4096, base + st->prefaulted),
				hi = TYPEALIGN_DOWN(4096, base + Min(cap, st->prefaulted + VLINDEX_PREFAULT));

	if (upto <= st->prefaulted)
		return;
	if (hi > lo)
		(void) madvise((void *) lo, hi - lo, MADV_POPULATE_WRITE);
	st->prefaulted = Min(cap, st->prefaulted + VLINDEX_PREFAULT);
#endif
}

static void
spill_vector(VlIndexBuildState *st, const float *v)
{
	BufFileWrite(st->file, (void *) v, sizeof(float) * st->dim);
}

void
vlindex_build_read_exact(BufFile *file, void *out, size_t len)
{
	if (BufFileRead(file, out, len) != len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read vlake index build temporary file")));
}

/*
 * idx[0..k) := k distinct indices of [0, n), uniformly (partial
 * Fisher-Yates); idx has room for n.
 */
void
vlindex_build_pick(uint64 *rng, int64 n, int64 k, int64 *idx)
{
	for (int64 i = 0; i < n; i++)
		idx[i] = i;
	for (int64 i = 0; i < k; i++)
	{
		int64		j = i + (int64) (ivf_rand(rng) % (uint64) (n - i));
		int64		t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
}

/*
 * The reservoir exists only once the vectors spill: while they are all in
 * memory a sample is drawn from them directly (a reservoir kept from the
 * first row would copy every vector a second time).  It starts as a
 * uniform subset of the rows in memory, in random slots — the state
 * algorithm R would have reached — so every fixed set of its slots is a
 * uniform sample too.
 */
static void
start_reservoir(VlIndexBuildState *st)
{
	int64		k = Min(st->n, st->sample_cap);
	int64	   *idx = palloc_extended(sizeof(int64) * Max(st->n, 1), MCXT_ALLOC_HUGE);

	st->sample = MemoryContextAllocHuge(CurrentMemoryContext,
										sizeof(float) * st->dim * st->sample_cap);
	vlindex_build_pick(&st->rng, st->n, k, idx);
	for (int64 i = 0; i < k; i++)
		memcpy(st->sample + i * st->dim, st->mem + idx[i] * st->dim, sizeof(float) * st->dim);
	st->nsample = k;
	pfree(idx);
}

static void
start_spilling(VlIndexBuildState *st)
{
	start_reservoir(st);
	st->file = BufFileCreateTemp(false);
	for (int64 i = 0; i < st->n; i++)
		spill_vector(st, st->mem + i * st->dim);
	pfree(st->mem);
	st->mem = NULL;
}

void
vlindex_build_state_init(VlIndexBuildState *st, Relation index, Size budget, uint64 rng_seed)
{
	memset(st, 0, sizeof(*st));
	st->index = index;
	st->metric = vlindex_metric(index, &st->et);
	st->budget = budget;
	st->refs_cap = 1024;
	st->refs = palloc(sizeof(uint64) * st->refs_cap);
	st->rng = rng_seed;
	st->vec = palloc(sizeof(float) * VLINDEX_MAX_DIM);
	st->report_progress = true;
}

void
vlindex_build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool alive, void *state)
{
	VlIndexBuildState *st = state;
	int			dim,
				udim;

	CHECK_FOR_INTERRUPTS();
	if (isnull[0])
		return;

	udim = vlindex_datum_to_floats(values[0], st->et, st->metric, st->udim, st->vec, &dim,
								   index);
	if (st->dim == 0)
	{
		/* first vector fixes the dimension and the memory layout */
		st->dim = dim;
		st->udim = udim;
		st->mem_cap = Max(1, (int64) (st->budget * 3 / 4) / (int64) (sizeof(float) * dim));
		st->sample_cap = Max(256, (int64) (st->budget / 4) / (int64) (sizeof(float) * dim));
		st->mem_have = Min(st->mem_cap, 1024);
		st->mem = MemoryContextAllocHuge(CurrentMemoryContext,
										 sizeof(float) * dim * st->mem_have);
	}

	if (st->n == st->refs_cap)
	{
		st->refs_cap *= 2;
		st->refs = repalloc_huge(st->refs, sizeof(uint64) * st->refs_cap);
	}
	st->refs[st->n] = lake_rowref_from_tid(tid);

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
		prefault(st, sizeof(float) * st->dim * (st->n + 1));
		memcpy(st->mem + st->n * st->dim, st->vec, sizeof(float) * st->dim);
	}

	/* reservoir sample (algorithm R), once spilling */
	if (st->file != NULL && st->nsample < st->sample_cap)
		memcpy(st->sample + st->nsample++ * st->dim, st->vec, sizeof(float) * st->dim);
	else if (st->file != NULL)
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
vlindex_build_read_vector(VlIndexBuildState *st, int64 seq, float *out)
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
		vlindex_build_read_exact(st->file, out, sizeof(float) * st->dim);
	}
}

static void
source_get(VlIndexVecSource *src, int64 seq, float *out)
{
	vlindex_build_read_vector((VlIndexBuildState *) src->arg, seq, out);
}

static void
kmeans_tick(void *arg, int64_t done)
{
	CHECK_FOR_INTERRUPTS();
}

/* Choose the k-means training points: a uniform sample of the vectors. */
static float *
training_sample(VlIndexBuildState *st, int lists, int *m_out)
{
	int64		want = vlindex_build_sample_size(lists, st->n);
	float	   *x;

	if (st->file == NULL)
	{
		/* everything is in memory: a uniform subset of it */
		int64	   *idx = palloc_extended(sizeof(int64) * st->n, MCXT_ALLOC_HUGE);

		vlindex_build_pick(&st->rng, st->n, want, idx);
		x = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * st->dim * want);
		for (int64 i = 0; i < want; i++)
			memcpy(x + i * st->dim, st->mem + idx[i] * st->dim, sizeof(float) * st->dim);
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
vlindex_build_list_count(Relation index, int64 n)
{
	VlIndexOptions  *opts = (VlIndexOptions *) index->rd_options;
	int			lists;

	lists = (opts && opts->lists > 0) ? opts->lists : (int) Max(1, ceil(sqrt((double) n)));
	return (int) Min((int64) lists, n);
}

/* k-means training points wanted for this many lists and rows. */
int64
vlindex_build_sample_size(int lists, int64 n)
{
	return Min((int64) lists * VLINDEX_SAMPLE_PER_LIST, n);
}

/*
 * Renumber the lists along a path through their centroids (ivf_list_path):
 * the lists a query probes then sit in a few runs of adjacent blocks of
 * codes.bin, which a cold query reads in as many ranged requests.  Only the
 * numbering changes, before anything is assigned: the lists themselves, and
 * so the answers, are the same.
 */
void
vlindex_build_order_lists(float *centroids, int lists, int dim)
{
	int		   *order = palloc(sizeof(int) * Max(lists, 1));
	float	   *mean = palloc(sizeof(float) * dim);

	if (ivf_list_path(centroids, lists, dim, order, mean, kmeans_tick, NULL))
	{
		Size		row = sizeof(float) * dim;
		float	   *old = palloc_extended(row * lists, MCXT_ALLOC_HUGE);

		memcpy(old, centroids, row * lists);
		for (int c = 0; c < lists; c++)
			memcpy(centroids + (size_t) c * dim, old + (size_t) order[c] * dim, row);
		pfree(old);
	}
	pfree(order);
	pfree(mean);
}

/*
 * centroids[lists][dim] from the training points train[m][dim]: k-means++
 * seeding and iters Lloyd iterations (iters = 0: the seeds alone).
 */
void
vlindex_build_kmeans(const float *train, int m, int dim, int lists, uint64 seed,
				int iters, float *centroids)
{
	IvfKmeansScratch ks;

	ks.assign = palloc(sizeof(int) * m);
	ks.sums = palloc_extended(sizeof(double) * lists * dim, MCXT_ALLOC_HUGE);
	ks.counts = palloc(sizeof(int64) * lists);
	ks.mind = palloc(sizeof(float) * m);
	ks.blocks = palloc_extended(sizeof(float) * ivf_block_floats(lists, dim), MCXT_ALLOC_HUGE);
	ivf_kmeans(train, m, dim, lists, iters, seed, centroids, &ks,
			   kmeans_tick, NULL);
	pfree(ks.assign);
	pfree(ks.sums);
	pfree(ks.counts);
	pfree(ks.mind);
	pfree(ks.blocks);
}

/*
 * assign[seq] := the list nearest to each of the state's vectors, in scan
 * order, VLINDEX_ASSIGN_BATCH at a time (ivf_nearest_batch); progress
 * through `done` (shared by the participants of a parallel build) or, when
 * it is NULL, the row number.
 */
#define VLINDEX_ASSIGN_BATCH 256

void
vlindex_build_assign(VlIndexBuildState *st, const float *centroids, int lists, int *assign,
					 pg_atomic_uint64 *done)
{
	int			dim = st->dim;
	float	   *blocks = palloc_extended(sizeof(float) * ivf_block_floats(lists, dim),
										 MCXT_ALLOC_HUGE);
	float	   *buf = st->file ? palloc(sizeof(float) * dim * VLINDEX_ASSIGN_BATCH) : NULL;

	ivf_centroid_blocks(centroids, lists, dim, blocks);
	if (st->file)
		BufFileSeek(st->file, 0, 0, SEEK_SET);
	for (int64 lo = 0; lo < st->n; lo += VLINDEX_ASSIGN_BATCH)
	{
		int			m = (int) Min(st->n - lo, VLINDEX_ASSIGN_BATCH);
		const float *x = st->mem + lo * dim;
		int64		progress = lo + m;

		CHECK_FOR_INTERRUPTS();
		if (st->file)
		{
			vlindex_build_read_exact(st->file, buf, sizeof(float) * dim * m);
			x = buf;
		}
		ivf_nearest_batch(centroids, blocks, lists, dim, x, m, assign + lo, NULL);
		if (done)
			progress = (int64) pg_atomic_add_fetch_u64(done, m);
		if (st->report_progress)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, progress);
	}
	pfree(blocks);
	if (buf)
		pfree(buf);
}

/* CPU milliseconds this process has used (user + system). */
static double
cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
		(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

void
vlindex_build_clock_start(VlIndexPhaseClock *clock)
{
	INSTR_TIME_SET_CURRENT(clock->wall);
	clock->cpu_ms = cpu_ms();
}

/*
 * DEBUG1: how long the build phase that just ended took, and the CPU this
 * process spent in it (tuning aid: on a busy machine the wall time mostly
 * says how much CPU the build was given).
 */
void
vlindex_build_phase_done(Relation index, const char *what, VlIndexPhaseClock *clock)
{
	instr_time	now;
	double		cpu = cpu_ms();

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, clock->wall);
	ereport(DEBUG1,
			(errmsg_internal("vlake index \"%s\": %s took %.0f ms (CPU %.0f ms in this process)",
							 RelationGetRelationName(index), what,
							 INSTR_TIME_GET_MILLISEC(now), cpu - clock->cpu_ms)));
	vlindex_build_clock_start(clock);
}

static void
write_metapage(Relation index, ForkNumber fork, IvfMetric metric, VlIndexElemType et,
			   const char *location, int dim, int udim, int lists, uint64 nvec,
			   const char *prefix, uint64 meta_size, const char *meta_etag,
			   const char *meta_blob)
{
	Buffer		buf;
	Page		page;
	GenericXLogState *xs;
	VlIndexMetaData *m;

	buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
	Assert(BufferGetBlockNumber(buf) == VLINDEX_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	xs = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xs, buf, GENERIC_XLOG_FULL_IMAGE);
	vlindex_meta_init_page(page, metric, et, location);
	m = VlIndexPageGetMeta(page);
	vlindex_meta_set_dim(page, dim, udim);
	m->lists = lists;
	m->nvec = nvec;
	m->generation = 1;
	strlcpy(m->prefix, prefix ? prefix : "", VLINDEX_PREFIX_MAX);
	m->meta_size = meta_size;
	strlcpy(m->meta_etag, meta_etag ? meta_etag : "", sizeof(m->meta_etag));
	GenericXLogFinish(xs);

	/* then the copy of index.meta after it, and its head in the metapage */
	if (meta_blob && meta_size > 0)
	{
		BlockNumber head = vlindex_blob_write(index, fork, meta_blob, meta_size, 1);

		xs = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(xs, buf, 0);
		VlIndexPageGetMeta(page)->meta_blob_head = head;
		GenericXLogFinish(xs);
	}
	UnlockReleaseBuffer(buf);
}

/* The serial build: one process scans, clusters, assigns and writes. */
static void
build_serial(Relation heap, Relation index, IndexInfo *info,
			 char *location, VlIndexBuildOutput *out)
{
	VlIndexBuildState st;
	VlIndexPhaseClock t;

	vlindex_build_clock_start(&t);
	vlindex_build_state_init(&st, index, (Size) maintenance_work_mem * 1024,
						UINT64_C(0x5EED) ^ RelationGetRelid(index));

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VLINDEX_PHASE_LOAD);
	out->reltuples = table_index_build_scan(heap, index, info, true, true,
											vlindex_build_callback, &st, NULL);
	out->n = st.n;
	out->dim = st.dim;
	out->udim = st.udim;
	vlindex_build_phase_done(index, "scan", &t);

	if (st.n > 0)
	{
		float	   *train,
				   *centroids;
		int			m;
		int		   *assign;
		uint64		seed = ivf_rand(&st.rng);
		VlIndexVecSource src;
		int			lists = vlindex_build_list_count(index, st.n);

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VLINDEX_PHASE_CLUSTER);
		train = training_sample(&st, lists, &m);
		centroids = palloc(sizeof(float) * st.dim * lists);
		vlindex_build_kmeans(train, m, st.dim, lists, seed, VLINDEX_KMEANS_ITERS, centroids);
		vlindex_build_order_lists(centroids, lists, st.dim);
		vlindex_build_phase_done(index, "sample + k-means", &t);

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VLINDEX_PHASE_ASSIGN);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, st.n);
		assign = palloc_extended(sizeof(int) * st.n, MCXT_ALLOC_HUGE);
		vlindex_build_assign(&st, centroids, lists, assign, NULL);
		vlindex_build_phase_done(index, "assign", &t);

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VLINDEX_PHASE_WRITE);
		if (location == NULL)
			location = vlindex_location_for(index);	/* ERRORs with a hint */
		src.get = source_get;
		src.arg = &st;
		vlindex_write_part(index, location, st.metric, st.dim, lists, centroids, seed,
					  st.n, assign, st.refs, &src, out->prefix, &out->meta_size,
					  out->meta_etag, &out->meta_blob);
		out->lists = lists;
		if (st.file)
			BufFileClose(st.file);
		vlindex_build_phase_done(index, "encode + write", &t);
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
vlindex_build(Relation heap, Relation index, IndexInfo *info)
{
	IndexBuildResult *result = palloc0(sizeof(IndexBuildResult));
	VlIndexElemType	et;
	IvfMetric	metric = vlindex_metric(index, &et);
	/* an empty table writes no files: the location may come later */
	char	   *location = vlindex_location_resolve(index, true);
	VlIndexBuildOutput out;
	int			nworkers;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake index build",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	/* vlake tables: read before the scan, so every row committed by then
	 * is in the part (the range the manifest promises, vltab_index.h) */
	int64		end_row_id = vlindex_table_next_row_id(heap);

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	if (info->ii_NumIndexAttrs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vlake indexes have exactly one column")));

	memset(&out, 0, sizeof(out));
	nworkers = build_workers(heap, index);
	if (nworkers <= 0 ||
		!vlindex_build_parallel(heap, index, info, nworkers, location, &out))
	{
		ereport(DEBUG1,
				(errmsg_internal("vlake index \"%s\": serial build",
								 RelationGetRelationName(index))));
		build_serial(heap, index, info, location, &out);
	}
	if (out.n > 0 && location == NULL)
		location = vlindex_location_for(index);	/* (the builds checked it already) */

	write_metapage(index, MAIN_FORKNUM, metric, et, location ? location : "", out.dim,
				   out.udim, out.lists, out.n, out.prefix, out.meta_size, out.meta_etag,
				   out.meta_blob);
	/* on a vlake table: the part goes into its manifest with this commit */
	vlindex_table_record(heap, index, location, out.prefix, metric, out.dim, out.lists, out.n,
						 out.meta_size, out.meta_etag, out.meta_blob, end_row_id);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);

	result->heap_tuples = out.reltuples;
	result->index_tuples = out.n;
	return result;
}

void
vlindex_buildempty(Relation index)
{
	VlIndexElemType	et;
	IvfMetric	metric = vlindex_metric(index, &et);
	VlIndexOptions  *opts = (VlIndexOptions *) index->rd_options;
	const char *loc = (opts && opts->location_offset) ?
		(const char *) opts + opts->location_offset : lake_default_location;

	write_metapage(index, INIT_FORKNUM, metric, et, loc ? loc : "", 0, 0, 0, 0, NULL, 0, NULL, NULL);
}
