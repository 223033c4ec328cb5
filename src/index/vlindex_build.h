/*
 * vlindex_build.h — pieces of CREATE INDEX shared by the serial build
 * (vlindex_build.c) and the parallel build (vlindex_parallel.c).
 */
#ifndef VLAKE_VLINDEX_BUILD_H
#define VLAKE_VLINDEX_BUILD_H

#include "port/atomics.h"
#include "portability/instr_time.h"
#include "storage/buffile.h"

#include "index/vlindex.h"

/* Subphases reported in pg_stat_progress_create_index. */
#define VLINDEX_PHASE_LOAD		1
#define VLINDEX_PHASE_CLUSTER	2
#define VLINDEX_PHASE_ASSIGN		3
#define VLINDEX_PHASE_WRITE		4

#define VLINDEX_KMEANS_ITERS		6	/* Lloyd iterations after k-means++ seeding */

/*
 * The vectors one scanning process collected: in memory up to 3/4 of its
 * budget, then in a private temporary file; a reservoir sample (the other
 * quarter, kept from the moment they spill) for k-means when they spill.
 */
typedef struct VlIndexBuildState
{
	Relation	index;
	IvfMetric	metric;
	VlIndexElemType	et;
	int			dim;			/* floats of a vector */
	int			udim;			/* the dimension users see (bits: length) */
	int64		n;
	float	   *mem;
	int64		mem_cap;
	int64		mem_have;		/* vectors mem has room for */
	Size		prefaulted;		/* bytes of mem mapped ahead of the rows */
	BufFile    *file;
	uint64	   *refs;
	int64		refs_cap;
	float	   *sample;
	int64		nsample;
	int64		sample_cap;
	uint64		rng;
	float	   *vec;
	Size		budget;
	/* parallel build: scanned-row counter shared by all participants */
	pg_atomic_uint64 *shared_tuples;
	bool		report_progress;	/* this process owns the progress row */
} VlIndexBuildState;

/* The outcome of a build, before the metapage is written. */
typedef struct VlIndexBuildOutput
{
	int			dim;
	int			udim;
	int			lists;
	int64		n;
	double		reltuples;
	char		prefix[VLINDEX_PREFIX_MAX];
	uint64		meta_size;
	char		meta_etag[128];
	char	   *meta_blob;
} VlIndexBuildOutput;

/* vlindex_build.c */
extern void vlindex_build_state_init(VlIndexBuildState *st, Relation index, Size budget,
								uint64 rng_seed);
extern void vlindex_build_callback(Relation index, ItemPointer tid, Datum *values,
							  bool *isnull, bool alive, void *state);
extern void vlindex_build_read_vector(VlIndexBuildState *st, int64 seq, float *out);
extern void vlindex_build_read_exact(BufFile *file, void *out, size_t len);
extern int	vlindex_build_list_count(Relation index, int64 n);
extern int64 vlindex_build_sample_size(int lists, int64 n);
extern void vlindex_build_pick(uint64 *rng, int64 n, int64 k, int64 *idx);
/* wall and CPU time at the start of a build phase (DEBUG1 timings) */
typedef struct VlIndexPhaseClock
{
	instr_time	wall;
	double		cpu_ms;
} VlIndexPhaseClock;

extern void vlindex_build_clock_start(VlIndexPhaseClock *clock);
extern void vlindex_build_phase_done(Relation index, const char *what, VlIndexPhaseClock *clock);
extern void vlindex_build_kmeans(const float *train, int m, int dim, int lists,
							uint64 seed, int iters, float *centroids);
extern void vlindex_build_order_lists(float *centroids, int lists, int dim);
extern void vlindex_build_assign(VlIndexBuildState *st, const float *centroids, int lists,
								 int *assign, pg_atomic_uint64 *done);

/* vlindex_parallel.c */
extern bool vlindex_build_parallel(Relation heap, Relation index, IndexInfo *info,
							  int nworkers, const char *location,
							  VlIndexBuildOutput *out);

#endif							/* VLAKE_VLINDEX_BUILD_H */
