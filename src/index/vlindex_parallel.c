/*
 * vlindex_parallel.c — CREATE INDEX ... USING vlake with parallel workers.
 *
 * PostgreSQL 15 plans parallel builds for btree only, so the access method
 * runs its own: plan_create_index_workers() says how many workers (it obeys
 * max_parallel_maintenance_workers, the table's parallel_workers reloption,
 * the table size and maintenance_work_mem), a ParallelContext launches
 * them, and the leader takes part as participant 0 (workers are 1..n).
 *
 *   1. scan: every participant pulls heap blocks from one shared parallel
 *      table scan and keeps its vectors as the serial build does
 *      (VlIndexBuildState), within its share of maintenance_work_mem,
 *      publishes its row count and waits.
 *   2. cluster: the leader draws how many rows of a uniform sample of all
 *      rows come from each participant, and each participant copies that
 *      many of its rows (a uniform subset, from its reservoir once it
 *      spilled) into a DSM segment; the leader seeds k-means there; the
 *      Lloyd iterations are shared (participants assign chunks of the
 *      sample, the leader reduces); the centroids go to a shared file.
 *   3. assign + encode: every participant assigns its own rows to their
 *      nearest centroid, RaBitQ-encodes them, and writes one *run*: a list
 *      of per-list counts, then its rows in list order (code, factors, row
 *      reference and, on s3://, vector).
 *   4. write (leader): vlindex_write_part_encoded() streams the lake files
 *      list by list, taking list c of run 0, then of run 1, ...: each run
 *      is read sequentially once.  The files have the serial build's
 *      format; only the order of rows within a list differs.
 *   5. vectors (file://, during 4): once vectors.bin is begun, every
 *      participant writes its own rows' vectors into it, at offsets the
 *      leader plans from the runs' counts (objstore_shared_open), so a
 *      vector is copied once, not through a run and the leader; s3:// has
 *      no positional writes, so there the vectors travel in the runs.  A
 *      vlake table's part has no vectors.bin: no vectors anywhere.
 *
 * Memory: each participant gets maintenance_work_mem / (workers planned + 1)
 * for its vectors (3/4) and reservoir (1/4, used once it spills), as nbtsort
 * splits it; the reservoirs are freed once their samples are written, so while the leader trains k-means on
 * at most a quarter of the budget the participants' vectors hold the other
 * three quarters.  Past its share a participant spills to a private
 * temporary file.  The leader's write phase needs ~12 bytes per row (list
 * number, sort order) plus one list's codes, like the serial build.
 *
 * Synchronisation: one condition variable and a spinlock-protected state in
 * the DSM segment.  A worker ERROR reaches the leader as an ERROR at its
 * next CHECK_FOR_INTERRUPTS (also while it sleeps on the condition
 * variable); a leader ERROR or cancel aborts the transaction, which
 * terminates the workers.  Temporary files live in a SharedFileSet removed
 * when the segment goes away.
 */
#include "postgres.h"

#include <fcntl.h>

#include "access/heapam.h"
#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "executor/instrument.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/buffile.h"
#include "storage/condition_variable.h"
#include "storage/dsm.h"
#include "storage/sharedfileset.h"
#include "storage/shm_toc.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "index/vlindex.h"
#include "index/vlindex_build.h"
#include "objstore/objstore.h"

#define VLINDEX_PKEY_SHARED		UINT64CONST(0x564C4B0000000001)
#define VLINDEX_PKEY_SCAN		UINT64CONST(0x564C4B0000000002)
#define VLINDEX_PKEY_QUERY		UINT64CONST(0x564C4B0000000003)
#define VLINDEX_PKEY_BUFUSAGE	UINT64CONST(0x564C4B0000000004)
#define VLINDEX_PKEY_WALUSAGE	UINT64CONST(0x564C4B0000000005)

#define VLINDEX_FILE_CENTROIDS	"vlake_centroids"
#define VLINDEX_FILE_RUN			"vlake_run_%d"
#define VLINDEX_FILE_VECPLAN		"vlake_vector_plan"

typedef enum VlIndexParPhase
{
	VLINDEX_PAR_SCAN = 0,			/* participants scan the heap */
	VLINDEX_PAR_SAMPLE,				/* participants copy their share of the sample */
	VLINDEX_PAR_KMEANS,				/* Lloyd iterations on the shared sample */
	VLINDEX_PAR_ASSIGN,				/* centroids published: assign + encode */
	VLINDEX_PAR_VECTORS,			/* vectors.bin begun: write your vectors */
	VLINDEX_PAR_DONE					/* nothing to assign (no rows) */
} VlIndexParPhase;

/* What a participant reports after its scan. */
typedef struct VlIndexParticipant
{
	int64		n;				/* rows it collected */
	int64		nsample;		/* rows it can offer the sample (all, or its reservoir) */
	int64		take;			/* VLINDEX_PAR_SAMPLE: how many of them it gives, */
	int64		take_at;		/* from this row of the k-means segment's sample on */
	int			dim;			/* their dimension (0 if none) */
	int			udim;			/* as users see it (bits: the length) */
	bool		spilled;		/* past its memory share, in a temp file */
} VlIndexParticipant;

typedef struct VlIndexParShared
{
	/* set before launch, read-only afterwards */
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			planned;		/* participants planned: workers + leader */
	Size		share;			/* maintenance_work_mem bytes per participant */
	uint64		rng_seed;

	ConditionVariable cv;		/* any change below */
	slock_t		mutex;
	int			scans_done;
	int			samples_done;
	int			assigns_done;
	int			vectors_done;
	bool		vectors_in_runs;	/* else kept for VLINDEX_PAR_VECTORS (or unused) */
	double		reltuples;
	VlIndexParPhase	phase;
	int			lists;			/* phase 2 inputs, set with the phase */
	int			dim;
	uint64		seed;
	dsm_handle	km_handle;		/* VLINDEX_PAR_KMEANS: the k-means segment */
	int			kiter;			/* Lloyd iteration to run (-1: none yet) */
	int			kdone;			/* participants done with it */

	pg_atomic_uint64 tuples;	/* rows scanned (progress) */
	pg_atomic_uint64 assigned;	/* rows assigned (progress) */

	SharedFileSet fileset;
	VlIndexParticipant part[FLEXIBLE_ARRAY_MEMBER];	/* [planned] */
} VlIndexParShared;

PGDLLEXPORT void vlake_index_build_main(dsm_segment *seg, shm_toc *toc);

/*
 * A participant's rows in list order, kept after its run is written when it
 * writes its vectors into vectors.bin itself (VLINDEX_PAR_VECTORS).
 */
typedef struct VlIndexParRows
{
	int			lists;
	int64	   *start;			/* [lists + 1]: list c is order[start[c] ..] */
	int64	   *order;			/* row seq numbers, list by list */
} VlIndexParRows;

static char *
file_name(const char *fmt, int participant)
{
	return psprintf(fmt, participant);
}

/* ---------------------------------------------------------- participants */

/* Phase 1: scan this participant's share of the heap. */
static void
participant_scan(VlIndexParShared *sh, ParallelTableScanDesc pscan, Relation heap,
				 Relation index, IndexInfo *info, int me, bool progress,
				 VlIndexBuildState *st)
{
	TableScanDesc scan = table_beginscan_parallel(heap, pscan);
	double		reltuples;

	/*
	 * Read a heap through a ring of buffers (BAS_BULKREAD), as a sequential
	 * scan of a table larger than a quarter of shared_buffers does: the
	 * build reads each block once, so it has no reason to fill the buffer
	 * pool with the table (evicting what queries use), and a buffer first
	 * used costs page faults for its shared memory, the ring's few buffers
	 * only once (measured: reading a 240 MB table not in shared_buffers
	 * took 1.6 s through fresh buffers, 0.2 s through a ring).  Blocks
	 * already in shared_buffers are read where they are.
	 */
	if (heap->rd_tableam == GetHeapamTableAmRoutine())
	{
		HeapScanDesc hscan = (HeapScanDesc) scan;

		if (hscan->rs_strategy == NULL)
			hscan->rs_strategy = GetAccessStrategy(BAS_BULKREAD);
	}

	reltuples = table_index_build_scan(heap, index, info, true, progress,
									   vlindex_build_callback, st, scan);
	pg_atomic_add_fetch_u64(&sh->tuples, (uint64) (st->n & 1023));

	/* what it can offer the k-means sample: its rows, or its reservoir */
	SpinLockAcquire(&sh->mutex);
	sh->part[me].n = st->n;
	sh->part[me].nsample = st->file ? st->nsample : st->n;
	sh->part[me].dim = st->dim;
	sh->part[me].udim = st->udim;
	sh->part[me].spilled = (st->file != NULL);
	sh->reltuples += reltuples;
	sh->scans_done++;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->cv);
}

/* Free the vectors a participant collected. */
static void
participant_release(VlIndexBuildState *st)
{
	if (st->file)
		BufFileClose(st->file);
	st->file = NULL;
	if (st->mem)
		pfree(st->mem);
	st->mem = NULL;
}

/*
 * Phase 3: assign this participant's rows to the nearest centroid, encode
 * them and write its run: int64 counts[lists], then per list, per row:
 * code[words] uint64, IvfFactor, row reference uint64 and, if
 * sh->vectors_in_runs, vector[dim] float.  Otherwise the vectors stay
 * where they are and *rows says where each list's rows are, for
 * participant_vectors.
 */
static void
participant_assign(VlIndexParShared *sh, VlIndexBuildState *st, int me,
				   VlIndexParRows *rows)
{
	int			lists,
				dim;
	uint64		seed;
	int			pdim,
				words;
	float	   *centroids;
	int		   *assign;
	int64	   *start,
			   *fill,
			   *order;
	uint8	   *signs;
	IvfRotation rot;
	float	   *tmp,
			   *vec = st->vec;
	uint64	   *code;
	IvfFactor	fac;
	BufFile    *f;
	bool		with_vectors;

	SpinLockAcquire(&sh->mutex);
	lists = sh->lists;
	dim = sh->dim;
	seed = sh->seed;
	with_vectors = sh->vectors_in_runs;
	SpinLockRelease(&sh->mutex);
	pdim = ivf_padded_dim(dim);
	words = pdim / 64;

	centroids = palloc_extended(sizeof(float) * (Size) lists * dim, MCXT_ALLOC_HUGE);
	f = BufFileOpenFileSet(&sh->fileset.fs, VLINDEX_FILE_CENTROIDS, O_RDONLY, false);
	vlindex_build_read_exact(f, centroids, sizeof(float) * (Size) lists * dim);
	BufFileClose(f);

	/* assignment: the expensive part, one pass in scan order */
	assign = palloc_extended(sizeof(int) * Max(st->n, 1), MCXT_ALLOC_HUGE);
	vlindex_build_assign(st, centroids, lists, assign, &sh->assigned);

	/* counting sort by list */
	start = palloc0(sizeof(int64) * (lists + 1));
	fill = palloc0(sizeof(int64) * lists);
	order = palloc_extended(sizeof(int64) * Max(st->n, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < st->n; i++)
		start[assign[i] + 1]++;
	for (int c = 0; c < lists; c++)
		start[c + 1] += start[c];
	for (int64 i = 0; i < st->n; i++)
		order[start[assign[i]] + fill[assign[i]]++] = i;
	pfree(assign);

	signs = palloc(3 * pdim);
	ivf_make_signs(seed, pdim, signs);
	rot.dim = dim;
	rot.pdim = pdim;
	rot.signs = signs;
	tmp = palloc(sizeof(float) * 2 * pdim);
	code = palloc(sizeof(uint64) * words);

	f = BufFileCreateFileSet(&sh->fileset.fs, file_name(VLINDEX_FILE_RUN, me));
	for (int c = 0; c < lists; c++)
	{
		int64		cnt = start[c + 1] - start[c];

		BufFileWrite(f, &cnt, sizeof(cnt));
	}
	for (int c = 0; c < lists; c++)
	{
		const float *cen = centroids + (Size) c * dim;

		for (int64 j = start[c]; j < start[c + 1]; j++)
		{
			int64		seq = order[j];

			CHECK_FOR_INTERRUPTS();
			vlindex_build_read_vector(st, seq, vec);
			ivf_encode(&rot, st->metric, vec, cen, code, &fac, tmp);
			BufFileWrite(f, code, sizeof(uint64) * words);
			BufFileWrite(f, &fac, sizeof(fac));
			BufFileWrite(f, &st->refs[seq], sizeof(uint64));
			if (with_vectors)
				BufFileWrite(f, vec, sizeof(float) * dim);
		}
	}
	BufFileClose(f);

	if (with_vectors)
	{
		/* the rows now live in the run: free them before the leader writes */
		participant_release(st);
		pfree(order);
		pfree(start);
	}
	else
	{
		rows->lists = lists;
		rows->start = start;
		rows->order = order;
	}
	pfree(fill);
	pfree(centroids);

	SpinLockAcquire(&sh->mutex);
	sh->assigns_done++;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->cv);
}

/*
 * Phase 5 (file:// lakes): write this participant's vectors straight into
 * vectors.bin, list by list, at the offsets the leader planned (list c of
 * participant p follows list c of participants 0..p-1), instead of copying
 * them through the run and the leader.  1 MB per write.
 */
static void
participant_vectors(VlIndexParShared *sh, VlIndexBuildState *st, int me,
					VlIndexParRows *rows)
{
	BufFile    *f;
	uint32		len;
	char	   *name,
			   *uri;
	uint64	   *off = palloc(sizeof(uint64) * Max(rows->lists, 1));
	int			dim = sh->dim,	/* st->dim is 0 if it found no rows */
				cap;
	Size		vbytes = sizeof(float) * (Size) dim;
	float	   *buf;
	ObjSharedFile *out;

	/* the plan: name, URI, then offsets[participant][list] */
	f = BufFileOpenFileSet(&sh->fileset.fs, VLINDEX_FILE_VECPLAN, O_RDONLY, false);
	vlindex_build_read_exact(f, &len, sizeof(len));
	name = palloc(len + 1);
	vlindex_build_read_exact(f, name, len);
	name[len] = '\0';
	vlindex_build_read_exact(f, &len, sizeof(len));
	uri = palloc(len + 1);
	vlindex_build_read_exact(f, uri, len);
	uri[len] = '\0';
	if (BufFileSeek(f, 0, 2 * sizeof(uint32) + strlen(name) + strlen(uri) +
					sizeof(uint64) * (Size) me * rows->lists, SEEK_SET) != 0)
		elog(ERROR, "vlake parallel build: could not seek in the vector plan");
	vlindex_build_read_exact(f, off, sizeof(uint64) * rows->lists);
	BufFileClose(f);

	cap = Max(1, (int) (VLINDEX_WRITE_CHUNK / vbytes));
	buf = palloc_extended(vbytes * cap, MCXT_ALLOC_HUGE);
	out = objstore_shared_open(name, uri);
	for (int c = 0; c < rows->lists; c++)
	{
		uint64		at = off[c];
		int			fill = 0;

		for (int64 j = rows->start[c]; j < rows->start[c + 1]; j++)
		{
			CHECK_FOR_INTERRUPTS();
			vlindex_build_read_vector(st, rows->order[j], buf + (Size) fill * dim);
			if (++fill == cap || j + 1 == rows->start[c + 1])
			{
				objstore_shared_pwrite(out, (const char *) buf, vbytes * fill, at);
				at += vbytes * fill;
				fill = 0;
			}
		}
	}
	objstore_shared_close(out);

	participant_release(st);
	pfree(rows->order);
	pfree(rows->start);
	pfree(buf);
	pfree(off);
	pfree(name);
	pfree(uri);

	SpinLockAcquire(&sh->mutex);
	sh->vectors_done++;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->cv);
}

/*
 * Parallel Lloyd iterations.  The leader seeds (k-means++, serial) and puts
 * the training sample, the centroids and one slot per participant in a DSM
 * segment of its own; per iteration the participants assign chunks of the
 * sample and sum them per list in their slot, then the leader reduces the slots into
 * new centroids exactly as ivf_kmeans() does (an empty list takes the
 * point farthest from its centroid).
 */
typedef struct VlIndexKmShared
{
	int			m;				/* training points */
	int			dim;
	int			lists;
	int			nparts;
	Size		off_centroids;	/* float [lists][dim] */
	Size		off_train;		/* float [m][dim] */
	Size		off_sums;		/* double [nparts][lists][dim] */
	Size		off_counts;		/* int64 [nparts][lists] */
	Size		off_mind;		/* float [m]: distance to the nearest centroid */
	pg_atomic_uint64 next;		/* next sample point to hand out */
} VlIndexKmShared;

#define KM_CHUNK	64			/* sample points handed out at a time */

#define KM_ARRAY(km, off, type) ((type *) ((char *) (km) + (km)->off))

static Size
km_layout(VlIndexKmShared *km, int m, int dim, int lists, int nparts)
{
	Size		sz = MAXALIGN(sizeof(VlIndexKmShared));

	km->m = m;
	km->dim = dim;
	km->lists = lists;
	km->nparts = nparts;
	km->off_centroids = sz;
	sz = add_size(sz, MAXALIGN(mul_size(sizeof(float), mul_size(lists, dim))));
	km->off_train = sz;
	sz = add_size(sz, MAXALIGN(mul_size(sizeof(float), mul_size(m, dim))));
	km->off_sums = sz;
	sz = add_size(sz, mul_size(sizeof(double), mul_size(nparts, mul_size(lists, dim))));
	km->off_counts = sz;
	sz = add_size(sz, mul_size(sizeof(int64), mul_size(nparts, lists)));
	km->off_mind = sz;
	sz = add_size(sz, mul_size(sizeof(float), m));
	return sz;
}

/*
 * One participant's share of a Lloyd iteration: chunks of the sample taken
 * from a shared counter, so a participant the OS runs less (a busy machine)
 * does not hold the others back at the end of the iteration.
 */
static void
km_step(VlIndexKmShared *km, int me)
{
	int			dim = km->dim,
				lists = km->lists;
	const float *cen = KM_ARRAY(km, off_centroids, float);
	const float *x = KM_ARRAY(km, off_train, float);
	double	   *sums = KM_ARRAY(km, off_sums, double) + (Size) me * lists * dim;
	int64	   *counts = KM_ARRAY(km, off_counts, int64) + (Size) me * lists;
	float	   *mind = KM_ARRAY(km, off_mind, float);
	float	   *blocks = palloc_extended(sizeof(float) * ivf_block_floats(lists, dim),
										 MCXT_ALLOC_HUGE);
	int			near[KM_CHUNK];

	memset(sums, 0, sizeof(double) * (Size) lists * dim);
	memset(counts, 0, sizeof(int64) * lists);
	ivf_centroid_blocks(cen, lists, dim, blocks);
	for (;;)
	{
		uint64		lo = pg_atomic_fetch_add_u64(&km->next, KM_CHUNK);
		uint64		hi = Min(lo + KM_CHUNK, (uint64) km->m);

		if (lo >= (uint64) km->m)
			break;
		CHECK_FOR_INTERRUPTS();
		ivf_nearest_batch(cen, blocks, lists, dim, x + (Size) lo * dim, (int) (hi - lo),
						  near, &mind[lo]);
		for (uint64 i = lo; i < hi; i++)
		{
			const float *xi = x + (Size) i * dim;
			int			c = near[i - lo];
			double	   *sum = sums + (Size) c * dim;

			counts[c]++;
			for (int j = 0; j < dim; j++)
				sum[j] += xi[j];
		}
	}
	pfree(blocks);
}

/* The leader's reduction: new centroids from every participant's sums. */
static void
km_reduce(VlIndexKmShared *km)
{
	int			dim = km->dim,
				lists = km->lists,
				m = km->m;
	float	   *cen = KM_ARRAY(km, off_centroids, float);
	const float *x = KM_ARRAY(km, off_train, float);
	const double *sums = KM_ARRAY(km, off_sums, double);
	const int64 *counts = KM_ARRAY(km, off_counts, int64);
	float	   *mind = KM_ARRAY(km, off_mind, float);

	for (int c = 0; c < lists; c++)
	{
		int64		cnt = 0;
		float	   *cc = cen + (Size) c * dim;

		for (int p = 0; p < km->nparts; p++)
			cnt += counts[(Size) p * lists + c];
		if (cnt == 0)
		{
			/* re-seed an empty list with the worst-served point */
			int			far = 0;

			for (int i = 1; i < m; i++)
				if (mind[i] > mind[far])
					far = i;
			memcpy(cc, x + (Size) far * dim, sizeof(float) * dim);
			mind[far] = 0;
			continue;
		}
		for (int j = 0; j < dim; j++)
		{
			double		s = 0;

			for (int p = 0; p < km->nparts; p++)
				s += sums[((Size) p * lists + c) * dim + j];
			cc[j] = (float) (s / cnt);
		}
	}
}

/* A worker attaches to the k-means segment the leader published. */
static dsm_segment *
worker_attach_kmeans(VlIndexParShared *sh)
{
	dsm_segment *seg;
	dsm_handle	handle;

	SpinLockAcquire(&sh->mutex);
	handle = sh->km_handle;
	SpinLockRelease(&sh->mutex);
	seg = dsm_attach(handle);
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not attach to the vlake index build's k-means segment")));
	return seg;
}

/*
 * Phase 2a: copy this participant's share of the k-means sample (as many
 * rows as the leader's draw gave it, a uniform subset of its rows, or of
 * its reservoir once it spilled) straight into the k-means segment.
 */
static void
participant_sample(VlIndexParShared *sh, VlIndexBuildState *st, int me,
				   VlIndexKmShared *km)
{
	int64		k = sh->part[me].take;

	if (k > 0)
	{
		int64		have = sh->part[me].nsample;
		const float *from = st->file ? st->sample : st->mem;
		float	   *to = KM_ARRAY(km, off_train, float) + (Size) sh->part[me].take_at * km->dim;
		int64	   *idx = palloc_extended(sizeof(int64) * Max(have, 1), MCXT_ALLOC_HUGE);

		if (k > have || st->dim != km->dim)
			elog(ERROR, "vlake parallel build: participant %d cannot give %lld sample rows",
				 me, (long long) k);
		vlindex_build_pick(&st->rng, have, k, idx);
		for (int64 i = 0; i < k; i++)
		{
			CHECK_FOR_INTERRUPTS();
			memcpy(to + (Size) i * km->dim, from + (Size) idx[i] * km->dim,
				   sizeof(float) * km->dim);
		}
		pfree(idx);
	}
	if (st->sample)
		pfree(st->sample);
	st->sample = NULL;

	SpinLockAcquire(&sh->mutex);
	sh->samples_done++;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->cv);
}

/* A worker's part of the Lloyd iterations, until the leader moves on. */
static VlIndexParPhase
worker_kmeans(VlIndexParShared *sh, int me, VlIndexKmShared *km)
{
	int			last = -1;
	VlIndexParPhase	phase;

	for (;;)
	{
		int			it;

		SpinLockAcquire(&sh->mutex);
		phase = sh->phase;
		it = sh->kiter;
		SpinLockRelease(&sh->mutex);
		if (phase != VLINDEX_PAR_KMEANS)
			break;
		if (it > last)
		{
			km_step(km, me);
			last = it;
			SpinLockAcquire(&sh->mutex);
			sh->kdone++;
			SpinLockRelease(&sh->mutex);
			ConditionVariableBroadcast(&sh->cv);
			continue;
		}
		ConditionVariableSleep(&sh->cv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
	return phase;
}

/* A worker sleeps here until the leader moves on from phase `from`. */
static VlIndexParPhase
wait_for_next_phase(VlIndexParShared *sh, VlIndexParPhase from)
{
	VlIndexParPhase	phase;

	for (;;)
	{
		SpinLockAcquire(&sh->mutex);
		phase = sh->phase;
		SpinLockRelease(&sh->mutex);
		if (phase != from)
			break;
		ConditionVariableSleep(&sh->cv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
	return phase;
}

/* Entry point of a worker (by name, from the ParallelContext). */
void
vlake_index_build_main(dsm_segment *seg, shm_toc *toc)
{
	VlIndexParShared *sh;
	ParallelTableScanDesc pscan;
	Relation	heap,
				index;
	LOCKMODE	heap_lock,
				index_lock;
	IndexInfo  *info;
	VlIndexBuildState st;
	BufferUsage *bufusage;
	WalUsage   *walusage;
	int			me = ParallelWorkerNumber + 1;
	VlIndexParPhase	phase;
	VlIndexParRows rows;

	debug_query_string = shm_toc_lookup(toc, VLINDEX_PKEY_QUERY, true);
	pgstat_report_activity(STATE_RUNNING, debug_query_string);

	sh = shm_toc_lookup(toc, VLINDEX_PKEY_SHARED, false);
	pscan = shm_toc_lookup(toc, VLINDEX_PKEY_SCAN, false);

	/* the lock modes index.c holds in the leader (same lock group) */
	if (!sh->isconcurrent)
	{
		heap_lock = ShareLock;
		index_lock = AccessExclusiveLock;
	}
	else
	{
		heap_lock = ShareUpdateExclusiveLock;
		index_lock = RowExclusiveLock;
	}
	heap = table_open(sh->heaprelid, heap_lock);
	index = index_open(sh->indexrelid, index_lock);

	InstrStartParallelQuery();
	SharedFileSetAttach(&sh->fileset, seg);

	info = BuildIndexInfo(index);
	info->ii_Concurrent = sh->isconcurrent;

	if (me >= sh->planned)
		elog(ERROR, "vlake parallel build: unexpected worker number %d", me);
	vlindex_build_state_init(&st, index, sh->share, sh->rng_seed ^ ((uint64) me * UINT64_C(0x9E3779B97F4A7C15)));
	st.shared_tuples = &sh->tuples;
	st.report_progress = false;

	participant_scan(sh, pscan, heap, index, info, me, false, &st);
	phase = wait_for_next_phase(sh, VLINDEX_PAR_SCAN);
	if (phase == VLINDEX_PAR_SAMPLE)
	{
		dsm_segment *kseg = worker_attach_kmeans(sh);
		VlIndexKmShared *km = dsm_segment_address(kseg);

		participant_sample(sh, &st, me, km);
		phase = wait_for_next_phase(sh, VLINDEX_PAR_SAMPLE);
		if (phase == VLINDEX_PAR_KMEANS)
			phase = worker_kmeans(sh, me, km);
		dsm_detach(kseg);
	}
	if (phase == VLINDEX_PAR_ASSIGN)
	{
		participant_assign(sh, &st, me, &rows);
		if (!sh->vectors_in_runs &&
			wait_for_next_phase(sh, VLINDEX_PAR_ASSIGN) == VLINDEX_PAR_VECTORS)
			participant_vectors(sh, &st, me, &rows);
	}

	bufusage = shm_toc_lookup(toc, VLINDEX_PKEY_BUFUSAGE, false);
	walusage = shm_toc_lookup(toc, VLINDEX_PKEY_WALUSAGE, false);
	InstrEndParallelQuery(&bufusage[ParallelWorkerNumber],
						  &walusage[ParallelWorkerNumber]);

	index_close(index, index_lock);
	table_close(heap, heap_lock);
}

/* ---------------------------------------------------------------- leader */

/* Sleep until *counter reaches target, reporting a progress counter. */
static void
leader_wait(VlIndexParShared *sh, int *counter, int target, pg_atomic_uint64 *progress)
{
	for (;;)
	{
		int			done;

		SpinLockAcquire(&sh->mutex);
		done = *counter;
		SpinLockRelease(&sh->mutex);
		if (progress)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
										 (int64) pg_atomic_read_u64(progress));
		if (done >= target)
			break;
		ConditionVariableSleep(&sh->cv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
}

static void
leader_set_phase(VlIndexParShared *sh, VlIndexParPhase phase, int lists, int dim, uint64 seed)
{
	SpinLockAcquire(&sh->mutex);
	sh->lists = lists;
	sh->dim = dim;
	sh->seed = seed;
	sh->phase = phase;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->cv);
}

/*
 * A uniform sample of the rows of all participants, in two steps.  Plan:
 * how many come from each participant follows the multivariate
 * hypergeometric law (want draws without replacement over the union);
 * a participant whose reservoir is smaller than its share contributes the
 * whole reservoir.  Returns the sample size.  Fill (participant_sample):
 * each participant's share is a uniform subset of its rows, or of its
 * reservoir (itself a uniform sample of its rows).
 */
static int64
leader_sample_plan(VlIndexParShared *sh, int nparts, int64 total, int lists,
				   uint64 *rng, int64 *take)
{
	int64		want = vlindex_build_sample_size(lists, total);
	int64	   *left = palloc(sizeof(int64) * nparts);
	int64		m = 0;

	for (int p = 0; p < nparts; p++)
	{
		left[p] = sh->part[p].n;
		take[p] = 0;
	}
	for (int64 i = 0; i < want; i++)
	{
		uint64		r = ivf_rand(rng) % (uint64) (total - i);

		for (int p = 0; p < nparts; p++)
		{
			if (r < (uint64) left[p])
			{
				left[p]--;
				take[p]++;
				break;
			}
			r -= (uint64) left[p];
		}
	}
	for (int p = 0; p < nparts; p++)
	{
		take[p] = Min(take[p], sh->part[p].nsample);
		m += take[p];
	}
	pfree(left);
	return m;
}

/*
 * Phase 2: centroids[lists][dim].  The sample goes into a DSM segment, each
 * participant copying its share (participant_sample); k-means++ seeding in
 * the leader, then the Lloyd iterations shared with the workers, unless
 * there is nothing to iterate (no more points than lists) or the
 * per-participant sums would take more than an eighth of
 * maintenance_work_mem: then the leader runs the whole k-means as the
 * serial build does.
 */
static void
leader_kmeans(VlIndexParShared *sh, VlIndexBuildState *st, int nparts, int64 total,
			  int dim, int lists, uint64 seed, uint64 *rng, float *centroids)
{
	int64	   *take = palloc(sizeof(int64) * nparts);
	int64		m = leader_sample_plan(sh, nparts, total, lists, rng, take);
	Size		sums = mul_size(sizeof(double), mul_size(nparts, mul_size(lists, dim)));
	bool		shared_iters = !(m <= lists || sums > (Size) maintenance_work_mem * 1024 / 8);
	VlIndexKmShared layout;
	Size		size = km_layout(&layout, (int) m, dim, lists, shared_iters ? nparts : 0);
	dsm_segment *seg;
	VlIndexKmShared *km;
	int64		at = 0;

	seg = dsm_create(size, 0);
	km = dsm_segment_address(seg);
	memcpy(km, &layout, sizeof(layout));
	pg_atomic_init_u64(&km->next, 0);
	SpinLockAcquire(&sh->mutex);
	for (int p = 0; p < nparts; p++)
	{
		sh->part[p].take = take[p];
		sh->part[p].take_at = at;
		at += take[p];
	}
	sh->km_handle = dsm_segment_handle(seg);
	sh->kiter = -1;
	SpinLockRelease(&sh->mutex);
	pfree(take);
	leader_set_phase(sh, VLINDEX_PAR_SAMPLE, lists, dim, seed);
	participant_sample(sh, st, 0, km);
	leader_wait(sh, &sh->samples_done, nparts, NULL);

	if (!shared_iters)
	{
		ereport(DEBUG1,
				(errmsg_internal("vlake index build: k-means on %lld points in the leader",
								 (long long) m)));
		vlindex_build_kmeans(KM_ARRAY(km, off_train, float), (int) m, dim, lists, seed,
							 VLINDEX_KMEANS_ITERS, centroids);
		dsm_detach(seg);
		return;
	}

	ereport(DEBUG1,
			(errmsg_internal("vlake index build: k-means on %lld points, Lloyd iterations shared by %d participants",
							 (long long) m, nparts)));
	vlindex_build_kmeans(KM_ARRAY(km, off_train, float), (int) m, dim, lists, seed, 0,
					KM_ARRAY(km, off_centroids, float));
	leader_set_phase(sh, VLINDEX_PAR_KMEANS, lists, dim, seed);
	for (int it = 0; it < VLINDEX_KMEANS_ITERS; it++)
	{
		pg_atomic_write_u64(&km->next, 0);
		SpinLockAcquire(&sh->mutex);
		sh->kdone = 0;
		sh->kiter = it;
		SpinLockRelease(&sh->mutex);
		ConditionVariableBroadcast(&sh->cv);

		km_step(km, 0);
		SpinLockAcquire(&sh->mutex);
		sh->kdone++;
		SpinLockRelease(&sh->mutex);
		leader_wait(sh, &sh->kdone, nparts, NULL);
		km_reduce(km);
	}
	memcpy(centroids, KM_ARRAY(km, off_centroids, float), sizeof(float) * (Size) lists * dim);
	/* workers detach when they see the next phase; the segment outlives us */
	dsm_detach(seg);
}

/* Reading the runs back, list by list (VlIndexCodeSource). */
typedef struct RunReader
{
	int			nruns;
	int64	   *base;			/* first seq of run p; base[nruns] = total */
	int64	   *next;			/* next seq expected from run p */
	BufFile   **files;
	int			dim;
	int			words;
	bool		has_vectors;	/* sh->vectors_in_runs (then vec is never NULL) */
	/* the vectors written by the participants (VLINDEX_PAR_VECTORS) */
	VlIndexParShared *sh;
	int			lists;
	int64	   *counts;			/* [run][list] */
	VlIndexBuildState *st;		/* the leader's own rows */
	VlIndexParRows *rows;
} RunReader;

static void
run_get(VlIndexCodeSource *src, int64 seq, float *vec, uint64 *code, IvfFactor *f,
		uint64 *ref)
{
	RunReader  *rr = src->arg;
	int			p = 0;

	while (p + 1 < rr->nruns && seq >= rr->base[p + 1])
		p++;
	if (seq != rr->next[p])
		elog(ERROR, "vlake parallel build: row %lld of run %d requested out of order",
			 (long long) seq, p);
	rr->next[p]++;
	vlindex_build_read_exact(rr->files[p], code, sizeof(uint64) * rr->words);
	vlindex_build_read_exact(rr->files[p], f, sizeof(IvfFactor));
	vlindex_build_read_exact(rr->files[p], ref, sizeof(uint64));
	if (rr->has_vectors)
		vlindex_build_read_exact(rr->files[p], vec, sizeof(float) * rr->dim);
}

/*
 * vectors.bin is begun: plan where each participant's rows of each list go
 * (list c of run p right after list c of runs 0..p-1, as run_get's order
 * has it) and let the participants write them.
 */
static void
run_vectors_begin(VlIndexCodeSource *src, const char *name, const char *uri,
				  const VlIndexListDir *dir)
{
	RunReader  *rr = src->arg;
	uint64	   *at = palloc(sizeof(uint64) * rr->lists);
	Size		vbytes = sizeof(float) * (Size) rr->dim;
	BufFile    *f;
	uint32		len;

	f = BufFileCreateFileSet(&rr->sh->fileset.fs, VLINDEX_FILE_VECPLAN);
	len = strlen(name);
	BufFileWrite(f, &len, sizeof(len));
	BufFileWrite(f, (void *) name, len);
	len = strlen(uri);
	BufFileWrite(f, &len, sizeof(len));
	BufFileWrite(f, (void *) uri, len);
	for (int c = 0; c < rr->lists; c++)
		at[c] = dir[c].vecs_off;
	for (int p = 0; p < rr->nruns; p++)
	{
		BufFileWrite(f, at, sizeof(uint64) * rr->lists);
		for (int c = 0; c < rr->lists; c++)
			at[c] += vbytes * rr->counts[(Size) p * rr->lists + c];
	}
	BufFileClose(f);
	pfree(at);
	leader_set_phase(rr->sh, VLINDEX_PAR_VECTORS, rr->sh->lists, rr->sh->dim, rr->sh->seed);
}

/* The leader writes its own vectors too, then waits for the others'. */
static uint64
run_vectors_end(VlIndexCodeSource *src)
{
	RunReader  *rr = src->arg;

	participant_vectors(rr->sh, rr->st, 0, rr->rows);
	leader_wait(rr->sh, &rr->sh->vectors_done, rr->nruns, NULL);
	return sizeof(float) * (uint64) rr->dim * (uint64) rr->base[rr->nruns];
}

/*
 * Phase 4: the lake files from the runs.  Row seq numbers go run by run,
 * and within a run in its (list-sorted) order, so the writer's stable
 * counting sort asks for list c of run 0, then list c of run 1, ...: each
 * run file is read front to back.
 */
static void
leader_write(VlIndexParShared *sh, Relation index, int nparts, int64 total,
			 int dim, int lists, const float *centroids, uint64 seed,
			 const char *location, VlIndexBuildState *st, VlIndexParRows *rows,
			 bool shared_vectors, VlIndexBuildOutput *out)
{
	RunReader	rr;
	VlIndexCodeSource src;
	int		   *assign = palloc_extended(sizeof(int) * total, MCXT_ALLOC_HUGE);
	int64	   *counts_all = palloc(sizeof(int64) * lists * nparts);
	int64		pos = 0;

	memset(&src, 0, sizeof(src));
	rr.sh = sh;
	rr.lists = lists;
	rr.counts = counts_all;
	rr.st = st;
	rr.rows = rows;
	rr.has_vectors = sh->vectors_in_runs;
	rr.nruns = nparts;
	rr.base = palloc(sizeof(int64) * (nparts + 1));
	rr.next = palloc(sizeof(int64) * nparts);
	rr.files = palloc(sizeof(BufFile *) * nparts);
	rr.dim = dim;
	rr.words = ivf_padded_dim(dim) / 64;
	for (int p = 0; p < nparts; p++)
	{
		int64		sum = 0;
		int64	   *counts = counts_all + (Size) p * lists;

		rr.base[p] = rr.next[p] = pos;
		rr.files[p] = BufFileOpenFileSet(&sh->fileset.fs, file_name(VLINDEX_FILE_RUN, p),
										 O_RDONLY, false);
		vlindex_build_read_exact(rr.files[p], counts, sizeof(int64) * lists);
		for (int c = 0; c < lists; c++)
		{
			if (counts[c] < 0 || counts[c] > sh->part[p].n - sum)
				elog(ERROR, "vlake parallel build: run %d has a bad count for list %d", p, c);
			sum += counts[c];
			for (int64 k = 0; k < counts[c]; k++)
				assign[pos++] = c;
		}
		if (sum != sh->part[p].n)
			elog(ERROR, "vlake parallel build: run %d holds %lld rows, expected %lld",
				 p, (long long) sum, (long long) sh->part[p].n);
	}
	rr.base[nparts] = pos;
	Assert(pos == total);

	src.get = run_get;
	src.arg = &rr;
	if (shared_vectors)
	{
		src.vectors_begin = run_vectors_begin;
		src.vectors_end = run_vectors_end;
	}
	vlindex_write_part_encoded(index, location, vlindex_metric(index, NULL),
						  dim, lists, centroids, seed, total, assign, &src,
						  out->prefix, &out->meta_size, out->meta_etag,
						  &out->meta_blob);
	for (int p = 0; p < nparts; p++)
		BufFileClose(rr.files[p]);
	pfree(assign);
	pfree(counts_all);
}

/* The leader's handle on the parallel context. */
typedef struct VlIndexParLeader
{
	ParallelContext *pcxt;
	Snapshot	snapshot;
	VlIndexParShared *sh;
	ParallelTableScanDesc pscan;
	BufferUsage *bufusage;
	WalUsage   *walusage;
	int			nparts;			/* workers launched + the leader */
} VlIndexParLeader;

static void
leader_end(VlIndexParLeader *ld)
{
	if (IsMVCCSnapshot(ld->snapshot))
		UnregisterSnapshot(ld->snapshot);
	DestroyParallelContext(ld->pcxt);
	ExitParallelMode();
}

/* Wait for the workers to exit (raising their ERROR if any), take their
 * buffer and WAL usage into the statement's. */
static void
leader_finish_workers(VlIndexParLeader *ld)
{
	WaitForParallelWorkersToFinish(ld->pcxt);
	for (int i = 0; i < ld->pcxt->nworkers_launched; i++)
		InstrAccumParallelQuery(&ld->bufusage[i], &ld->walusage[i]);
}

/*
 * Set up the DSM segment (shared state, parallel scan, usage counters,
 * query text) and launch the workers.  Returns false, with everything
 * undone, when none could be launched.
 */
static bool
leader_begin(Relation heap, Relation index, IndexInfo *info, int nworkers,
			 uint64 rng_seed, VlIndexParLeader *ld)
{
	ParallelContext *pcxt;
	Size		est_shared,
				est_scan;
	VlIndexParShared *sh;
	int			planned = nworkers + 1,
				nkeys = 4;

	EnterParallelMode();
	pcxt = CreateParallelContext("vlake", "vlake_index_build_main", nworkers);
	ld->pcxt = pcxt;

	/*
	 * As nbtsort.c: a plain build sees every tuple (SnapshotAny, the scan
	 * decides what is live); CONCURRENTLY indexes what an MVCC snapshot sees.
	 * table_parallelscan_initialize serialises it for the workers.
	 */
	ld->snapshot = info->ii_Concurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;

	est_shared = add_size(offsetof(VlIndexParShared, part),
						  mul_size(sizeof(VlIndexParticipant), planned));
	shm_toc_estimate_chunk(&pcxt->estimator, est_shared);
	est_scan = table_parallelscan_estimate(heap, ld->snapshot);
	shm_toc_estimate_chunk(&pcxt->estimator, est_scan);
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(sizeof(BufferUsage), pcxt->nworkers));
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(sizeof(WalUsage), pcxt->nworkers));
	if (debug_query_string)
	{
		shm_toc_estimate_chunk(&pcxt->estimator, strlen(debug_query_string) + 1);
		nkeys++;
	}
	shm_toc_estimate_keys(&pcxt->estimator, nkeys);

	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		/* no dynamic shared memory: no workers either */
		leader_end(ld);
		return false;
	}

	sh = shm_toc_allocate(pcxt->toc, est_shared);
	memset(sh, 0, est_shared);
	sh->heaprelid = RelationGetRelid(heap);
	sh->indexrelid = RelationGetRelid(index);
	sh->isconcurrent = info->ii_Concurrent;
	sh->planned = planned;
	sh->share = (Size) maintenance_work_mem * 1024 / planned;
	sh->rng_seed = rng_seed;
	ConditionVariableInit(&sh->cv);
	SpinLockInit(&sh->mutex);
	sh->phase = VLINDEX_PAR_SCAN;
	pg_atomic_init_u64(&sh->tuples, 0);
	pg_atomic_init_u64(&sh->assigned, 0);
	SharedFileSetInit(&sh->fileset, pcxt->seg);
	shm_toc_insert(pcxt->toc, VLINDEX_PKEY_SHARED, sh);
	ld->sh = sh;

	ld->pscan = shm_toc_allocate(pcxt->toc, est_scan);
	table_parallelscan_initialize(heap, ld->pscan, ld->snapshot);
	shm_toc_insert(pcxt->toc, VLINDEX_PKEY_SCAN, ld->pscan);

	ld->bufusage = shm_toc_allocate(pcxt->toc, mul_size(sizeof(BufferUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, VLINDEX_PKEY_BUFUSAGE, ld->bufusage);
	ld->walusage = shm_toc_allocate(pcxt->toc, mul_size(sizeof(WalUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, VLINDEX_PKEY_WALUSAGE, ld->walusage);
	if (debug_query_string)
	{
		char	   *q = shm_toc_allocate(pcxt->toc, strlen(debug_query_string) + 1);

		memcpy(q, debug_query_string, strlen(debug_query_string) + 1);
		shm_toc_insert(pcxt->toc, VLINDEX_PKEY_QUERY, q);
	}

	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg_internal("vlake index \"%s\": parallel build, %d of %d workers launched",
							 RelationGetRelationName(index), pcxt->nworkers_launched,
							 nworkers)));
	if (pcxt->nworkers_launched == 0)
	{
		WaitForParallelWorkersToFinish(pcxt);
		leader_end(ld);
		return false;
	}
	ld->nparts = pcxt->nworkers_launched + 1;
	return true;
}

/* After the scan: the row count and dimension over all participants. */
static int64
leader_gather(VlIndexParLeader *ld, Relation index, int *dim_out, int *udim_out)
{
	VlIndexParShared *sh = ld->sh;
	int64		total = 0;
	int			dim = 0,
				udim = 0,
				spilled = 0;

	for (int p = 0; p < ld->nparts; p++)
	{
		if (sh->part[p].n == 0)
			continue;
		if (dim == 0)
		{
			dim = sh->part[p].dim;
			udim = sh->part[p].udim;
		}
		else if (sh->part[p].udim != udim)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("vector has %d dimensions, index \"%s\" has %d",
							sh->part[p].udim, RelationGetRelationName(index), udim)));
		total += sh->part[p].n;
		spilled += sh->part[p].spilled ? 1 : 0;
	}
	ereport(DEBUG1,
			(errmsg_internal("vlake index \"%s\": %lld rows scanned by %d participants (leader: %lld), %d spilled to disk",
							 RelationGetRelationName(index), (long long) total, ld->nparts,
							 (long long) sh->part[0].n, spilled)));
	*dim_out = dim;
	*udim_out = udim;
	return total;
}

/*
 * Build the index with up to nworkers workers.  Returns false, having done
 * nothing, when no worker could be launched (the caller builds serially).
 */
bool
vlindex_build_parallel(Relation heap, Relation index, IndexInfo *info, int nworkers,
				  const char *location, VlIndexBuildOutput *out)
{
	VlIndexParLeader ld;
	VlIndexParShared *sh;
	int			nparts,
				dim,
				udim,
				lists;
	int64		total;
	uint64		rng = UINT64_C(0x5EED) ^ RelationGetRelid(index),
				seed;
	VlIndexBuildState st;
	VlIndexParRows rows;
	float	   *centroids;
	BufFile    *f;
	VlIndexPhaseClock t;
	bool		table_vectors,
				shared_vectors;

	vlindex_build_clock_start(&t);
	if (!leader_begin(heap, index, info, nworkers, ivf_rand(&rng), &ld))
		return false;
	sh = ld.sh;
	nparts = ld.nparts;

	/* 1. scan, the leader as participant 0 */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VLINDEX_PHASE_LOAD);
	vlindex_build_state_init(&st, index, sh->share, sh->rng_seed);
	st.shared_tuples = &sh->tuples;
	participant_scan(sh, ld.pscan, heap, index, info, 0, true, &st);

	/*
	 * A worker that failed to start must not leave us waiting forever.
	 * Checked after the leader's own scan, as nbtsort does: waiting before
	 * it would leave the leader idle while the workers start.
	 */
	WaitForParallelWorkersToAttach(ld.pcxt);
	leader_wait(sh, &sh->scans_done, nparts, &sh->tuples);
	vlindex_build_phase_done(index, "launch + scan", &t);

	total = leader_gather(&ld, index, &dim, &udim);
	out->reltuples = sh->reltuples;
	out->n = total;
	out->dim = dim;
	out->udim = udim;
	if (total == 0)
	{
		leader_set_phase(sh, VLINDEX_PAR_DONE, 0, 0, 0);
		leader_finish_workers(&ld);
		leader_end(&ld);
		return true;
	}
	if (location == NULL)
		location = vlindex_location_for(index);	/* ERRORs with a hint */

	/* 2. k-means on a uniform sample, centroids to the workers */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VLINDEX_PHASE_CLUSTER);
	lists = vlindex_build_list_count(index, total);
	seed = ivf_rand(&rng);
	centroids = palloc_extended(sizeof(float) * (Size) lists * dim, MCXT_ALLOC_HUGE);
	leader_kmeans(sh, &st, nparts, total, dim, lists, seed, &rng, centroids);
	vlindex_build_order_lists(centroids, lists, dim);
	f = BufFileCreateFileSet(&sh->fileset.fs, VLINDEX_FILE_CENTROIDS);
	BufFileWrite(f, centroids, sizeof(float) * (Size) lists * dim);
	BufFileClose(f);
	vlindex_build_phase_done(index, "sample + k-means", &t);

	/*
	 * 3. assign + encode, everyone.  The vectors go through the runs only
	 * when vectors.bin is written as one stream (s3://); on a vlake table
	 * the part has no vectors.bin at all.
	 */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VLINDEX_PHASE_ASSIGN);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, total);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
	table_vectors = vlindex_table_rerank_column(index) != 0;
	{
		ObjStore   *store = objstore_open(location);

		shared_vectors = !table_vectors && objstore_shared_writes(store);
		objstore_close(store);
	}
	SpinLockAcquire(&sh->mutex);
	sh->vectors_in_runs = !table_vectors && !shared_vectors;
	SpinLockRelease(&sh->mutex);
	leader_set_phase(sh, VLINDEX_PAR_ASSIGN, lists, dim, seed);
	participant_assign(sh, &st, 0, &rows);
	leader_wait(sh, &sh->assigns_done, nparts, &sh->assigned);
	if (!shared_vectors)
	{
		leader_set_phase(sh, VLINDEX_PAR_DONE, lists, dim, seed);
		leader_finish_workers(&ld);
		participant_release(&st);
		if (!sh->vectors_in_runs)
		{
			pfree(rows.start);
			pfree(rows.order);
		}
	}
	vlindex_build_phase_done(index, "assign + encode", &t);

	/* 4. the lake files (5. with the workers writing their vectors) */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, VLINDEX_PHASE_WRITE);
	leader_write(sh, index, nparts, total, dim, lists, centroids, seed, location,
				 &st, &rows, shared_vectors, out);
	if (shared_vectors)
	{
		leader_finish_workers(&ld);
		ereport(DEBUG1,
				(errmsg_internal("vlake index \"%s\": vectors.bin written by %d participants",
								 RelationGetRelationName(index), nparts)));
	}
	out->lists = lists;
	vlindex_build_phase_done(index, "write", &t);

	leader_end(&ld);
	return true;
}
