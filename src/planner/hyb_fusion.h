/*
 * hyb_fusion.h — the backend-independent core of hybrid retrieval: fusion
 * of B ranked branches (dense distance, BM25, sparse score ...) into one
 * top-k, with exact early termination (docs/hybrid.md).
 *
 * The caller (the hybrid custom scan, later; the unit test and the fuzzer
 * now) pulls rows from each branch in that branch's rank order, in batches,
 * and hands every batch to hyb_add().  After each batch the state says
 *   - the current fused top-k            hyb_topk()
 *   - whether it is final                hyb_final(): fusing the complete
 *     rankings would give the same rows in the same order (and, with
 *     exact_scores, the same fused scores)
 *   - which branch to deepen next        hyb_next_branch()
 * A branch that reports the end of its ranking contributes nothing more;
 * when every branch is exhausted the top-k is final by definition.
 *
 * No postgres.h here: unit tests and the fuzzer link hyb_fusion.c directly.
 * Memory comes from the caller's allocator (the backend: a memory context);
 * errors are returned as HybStatus, never raised, and are sticky: after one,
 * every call returns it again (the scan reports it as an ERROR).
 */
#ifndef VLAKE_HYB_FUSION_H
#define VLAKE_HYB_FUSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HYB_MAX_BRANCHES 8
#define HYB_RRF_K_DEFAULT 60.0

typedef enum HybMethod
{
	HYB_RRF = 0,				/* sum of w_b / (rrf_k + rank_b) */
	HYB_WSUM = 1				/* sum of w_b * (s - bound_b) / (best_b - bound_b) */
} HybMethod;

typedef struct HybBranchSpec
{
	double		weight;			/* finite, >= 0 */
	bool		ascending;		/* true: smaller scores rank first (distances) */
	double		bound;			/* HYB_WSUM: the worst score the branch can
								 * return (cosine distance: 2; BM25: 0); a
								 * worse score counts as the bound */
} HybBranchSpec;

typedef void *(*hyb_alloc_fn) (void *arg, size_t size);	/* NULL: out of memory */
typedef void (*hyb_free_fn) (void *arg, void *ptr);

typedef struct HybSpec
{
	HybMethod	method;
	int			nbranches;		/* 1 .. HYB_MAX_BRANCHES */
	int			k;				/* rows wanted, >= 1 */
	double		rrf_k;			/* HYB_RRF: finite, >= 0 (HYB_RRF_K_DEFAULT) */
	bool		exact_scores;	/* final only when the top-k's fused scores
								 * are exact too, not only their order */
	HybBranchSpec branch[HYB_MAX_BRANCHES];
	hyb_alloc_fn alloc;
	hyb_free_fn free;
	void	   *alloc_arg;
} HybSpec;

typedef enum HybStatus
{
	HYB_OK = 0,
	HYB_ERR_SPEC,				/* invalid HybSpec */
	HYB_ERR_BRANCH,				/* no such branch, or rows after its end */
	HYB_ERR_ORDER,				/* a score ranks better than the one before it */
	HYB_ERR_SCORE,				/* NaN, or a score HYB_WSUM cannot normalise */
	HYB_ERR_DUPLICATE,			/* a branch returned the same key twice */
	HYB_ERR_NOMEM,				/* the allocator returned NULL */
	HYB_ERR_LIMIT				/* more than INT32_MAX rows in a branch or in all */
} HybStatus;

typedef struct HybState HybState;

/* One row of the top-k: its fused score lies in [score, upper]; they are
 * equal when the row is complete (seen or ended in every branch). */
typedef struct HybResult
{
	uint64_t	key;
	double		score;
	double		upper;
} HybResult;

extern const char *hyb_status_message(HybStatus status);

extern HybStatus hyb_create(const HybSpec *spec, HybState **state);
extern void hyb_destroy(HybState *state);

/*
 * The next n rows of branch b, best first, continuing where its previous
 * batch ended; scores in the branch's own direction.  exhausted: the
 * branch has no rows after these (n may be 0).
 */
extern HybStatus hyb_add(HybState *state, int b, const uint64_t *keys,
						 const double *scores, int n, bool exhausted);

extern bool hyb_final(const HybState *state);
/* The branch whose bound is loosest (ties: the lowest number); -1 once
 * final.  Before the first batch: the heaviest branch. */
extern int	hyb_next_branch(const HybState *state);
/* Copies the current top-k (best first, at most k rows) to out; returns
 * the count.  Final: exactly min(k, rows of all branches) rows. */
extern int	hyb_topk(const HybState *state, HybResult *out);

/* Counters: rows taken from branch b so far, whether it ended, and the
 * distinct rows seen (for EXPLAIN and the benchmarks). */
extern int64_t hyb_depth(const HybState *state, int b);
extern bool hyb_exhausted(const HybState *state, int b);
extern int64_t hyb_rows_seen(const HybState *state);
extern HybStatus hyb_status(const HybState *state);

#endif							/* VLAKE_HYB_FUSION_H */
