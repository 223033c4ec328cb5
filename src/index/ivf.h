/*
 * ivf.h — the backend-independent core of the vlake index: k-means,
 * a structured random rotation, RaBitQ-class 1-bit codes of residuals with
 * their error bound, and the fast scan of codes against a 4-bit query.
 *
 * No postgres.h here: unit tests and benchmark tools link ivf.c directly.
 * Functions never allocate; callers pass buffers whose sizes are given in
 * the comments (the backend pallocs them, tools malloc them).
 *
 * Distances ("dist") are what the SQL operators return, smaller is closer:
 *   IVF_L2      squared Euclidean internally, sqrt() only when reported
 *   IVF_IP      negative inner product
 *   IVF_COSINE  vectors are normalised on the way in; then as IVF_L2
 *               (1 - cos = |a - b|^2 / 2 for unit vectors)
 */
#ifndef VLAKE_IVF_H
#define VLAKE_IVF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum IvfMetric
{
	IVF_L2 = 0,
	IVF_IP = 1,
	IVF_COSINE = 2
} IvfMetric;

/* Per-vector factors stored next to each code (20 bytes). */
typedef struct IvfFactor
{
	float		r;				/* |o - c|: residual norm */
	float		inv_ip;			/* 1 / <x_bar, P o_u>: estimator scale */
	float		err;			/* error factor: eps0-free part of the bound */
	float		extra;			/* L2: r^2; IP: <c, o - c> */
	float		pop;			/* popcount of the code */
} IvfFactor;

/* Rotation: three rounds of random sign flips + normalised Walsh-Hadamard on
 * the zero-padded vector.  pdim is the next power of two >= dim (>= 64). */
typedef struct IvfRotation
{
	int			dim;
	int			pdim;
	const uint8_t *signs;		/* 3 * pdim bytes of 0/1, from the seed */
} IvfRotation;

extern int	ivf_padded_dim(int dim);
extern void ivf_make_signs(uint64_t seed, int pdim, uint8_t *signs);
/* out[pdim] = P * in[dim] (zero-padded). */
extern void ivf_rotate(const IvfRotation *rot, const float *in, float *out);

/* A small deterministic PRNG (splitmix64). */
extern uint64_t ivf_rand(uint64_t *state);

/* Interrupt / progress callback for long loops; may longjmp (ERROR). */
typedef void (*ivf_tick_fn) (void *arg, int64_t done);

/*
 * k-means: k-means++ seeding then Lloyd iterations on x[n][dim].
 * centroids[k][dim] out; scratch: assign[n] ints, sums[k][dim] doubles,
 * counts[k] int64, mind[n] floats, blocks (ivf_nearest_batch; may be
 * NULL).  Empty clusters are re-seeded from the point farthest from its
 * centroid.  Returns the final mean squared error.
 */
typedef struct IvfKmeansScratch
{
	int		   *assign;
	double	   *sums;
	int64_t    *counts;
	float	   *mind;
	float	   *blocks;			/* ivf_block_floats(k, dim) floats, or NULL
								 * (one centroid at a time: slower) */
} IvfKmeansScratch;

extern double ivf_kmeans(const float *x, int n, int dim, int k, int iters,
						 uint64_t seed, float *centroids, IvfKmeansScratch *s,
						 ivf_tick_fn tick, void *tick_arg);

/*
 * The k-means++ seeds are drawn from every ivf_seed_stride()-th point, so
 * from about IVF_SEED_PER_CENTRE points per centre (all points when there
 * are fewer): the seeding is serial and costs a pass over its candidates
 * per centre, while the Lloyd iterations use every point.
 */
#define IVF_SEED_PER_CENTRE 8
extern int	ivf_seed_stride(int n, int k);

/*
 * ivf_list_path(): order[lists] out, a path through the centroids (greedy
 * nearest neighbour from the one farthest from their mean), so that lists
 * near each other in space can be numbered next to each other: the lists a
 * query probes then lie in a few runs of adjacent blocks of codes.bin.
 * mean[dim] is scratch.  Returns false, order untouched, when there is
 * nothing to order (lists <= 2) or the lists^2 * dim distance work would
 * exceed IVF_PATH_MAX_WORK (the numbering is then left as it is).
 */
#define IVF_PATH_MAX_WORK 2e10
extern bool ivf_list_path(const float *centroids, int lists, int dim, int *order,
						  float *mean, ivf_tick_fn tick, void *tick_arg);

/*
 * Second level ("hierarchical IVF"): the lists' centroids clustered into
 * groups, so that a query compares with the group centroids first and then
 * only with the centroids of the lists of its nearest groups.
 *
 * ivf_default_groups(): ceil(4 sqrt(lists)), at most lists.  Groups of
 * about sqrt(lists) / 4 lists: a query takes several whole groups to cover
 * its multiple of probes lists, which hedges against a group whose mean
 * stands for several unrelated natural clusters (with ceil(sqrt(lists))
 * groups, 1M vectors in 1,000 clusters and 4,000 lists lost 2-6 points of
 * recall@10 at 8-16 probes; with 4 sqrt(lists), none).
 *
 * ivf_group_lists(): k-means (seeded) on the lists' centroids[lists][dim]
 * into at most `want` groups, then each list assigned to its nearest group
 * and the group centroids recomputed as the mean of their members; empty
 * groups are dropped.  Out: gcent[want][dim] (first `returned` rows used),
 * gstart[want + 1] (group g owns members[gstart[g] .. gstart[g + 1])),
 * members[lists] (every list exactly once).  Scratch as ivf_kmeans with
 * n = lists, k = want.  Memory: O(lists + want * dim), no allocation.
 * Returns the number of groups (>= 1 when lists >= 1).
 */
extern int	ivf_default_groups(int lists);
extern int	ivf_group_lists(const float *centroids, int lists, int dim, int want,
							int iters, uint64_t seed, float *gcent,
							uint32_t *gstart, uint32_t *members,
							IvfKmeansScratch *s, ivf_tick_fn tick, void *tick_arg);

/*
 * Validation of a second level read from a file: gstart[0] = 0,
 * gstart[groups] = lists, non-decreasing, and members a permutation of
 * 0..lists-1 (every list reachable exactly once).  seen: lists bytes of
 * scratch.  Returns NULL when valid, else a static description.
 */
extern const char *ivf_check_groups(int lists, int groups, const uint32_t *gstart,
									const uint32_t *members, uint8_t *seen);

/*
 * Radius of each group: the largest distance from its centre to one of its
 * lists' centroids (derived data, computed when a part is loaded).
 */
extern void ivf_group_radii(const float *centroids, int dim, const float *gcent,
							int groups, const uint32_t *gstart,
							const uint32_t *members, float *radius);

/*
 * Lists a query compares through the second level for `probes` probed
 * lists: probes x factor up to 16 probes, then the factor shrinks with
 * sqrt(16 / probes), down to 2: the lists a wider probed region misses
 * lie on its boundary, which grows more slowly than the region (unit_ivf:
 * at 32 probes 4x keeps 0.998 of the nearest lists, at 8 probes 8x does).
 */
extern int	ivf_group_cover(int probes, double factor);

/*
 * Query side of the second level: the lists of the groups nearest to q,
 * nearest group first, until at least `cover` lists are taken (whole
 * groups, so possibly more).  L2/cosine rank groups by squared L2 to the
 * group centre.  IP ranks them by <q, g> + |q| radius 2/sqrt(dim), an
 * estimate of the best inner product of q with a list centroid of the
 * group: a group's mean can have a small inner product with q while one of
 * its lists, far from the mean in q's direction, has a large one.  gdist[groups] and
 * gtaken[groups] are scratch.  Writes the lists to out[] (room for every
 * list) and returns how many.
 */
extern int	ivf_select_group_lists(IvfMetric metric, const float *q, int dim,
								   const float *gcent, const float *gradius,
								   int groups, const uint32_t *gstart,
								   const uint32_t *members, int cover,
								   float *gdist, uint8_t *gtaken, int *out);

/* Index of the centroid nearest to v (squared L2); *dist receives it. */
extern int	ivf_nearest(const float *centroids, int k, int dim,
						const float *v, float *dist);

/*
 * The same for n vectors x[n][dim] at once: assign[i] (and dist[i] unless
 * dist is NULL) as ivf_nearest() would give them, up to float rounding.
 * blocks: the centroids rearranged by ivf_centroid_blocks() into
 * ivf_block_floats(k, dim) floats (or NULL: one vector at a time); several
 * times faster with many vectors and centroids.
 */
#define IVF_BLOCK	16
extern size_t ivf_block_floats(int k, int dim);
extern void ivf_centroid_blocks(const float *centroids, int k, int dim,
								float *blocks);
extern void ivf_nearest_batch(const float *centroids, const float *blocks,
							  int k, int dim, const float *x, int n,
							  int *assign, float *dist);

/* Normalise v in place to unit length (no-op for the zero vector). */
extern void ivf_normalize(float *v, int dim);

/*
 * Encode the residual of v to centroid c: code[pdim/64] words, factors.
 * tmp: 2 * pdim floats.
 */
extern void ivf_encode(const IvfRotation *rot, IvfMetric metric,
					   const float *v, const float *c,
					   uint64_t *code, IvfFactor *f, float *tmp);

/*
 * Query side.  The query q is rotated once (qrot = P q); for each probed
 * partition ivf_query_prepare() quantises P(q - c) = qrot - crot to 4 bits
 * per dimension as four bit planes.
 */
typedef struct IvfQueryPart
{
	int			words;			/* pdim / 64 */
	uint64_t   *planes;			/* [4][words] */
	float		lo;				/* value of quantised level 0 */
	float		delta;			/* step between levels */
	float		sumq;			/* sum of the quantised values */
	float		rq;				/* |q - c| */
	float		rq2;			/* |q - c|^2 */
	float		qc;				/* <q, c> (IP) */
	float		inv_sqrt_d;		/* 1 / sqrt(pdim) */
} IvfQueryPart;

/* planes: 4 * pdim/64 words. tmp: pdim floats. */
extern void ivf_query_prepare(int pdim, const float *qrot, const float *crot,
							  float rq2, float qc, uint64_t *planes,
							  float *tmp, IvfQueryPart *qp);

/*
 * Estimate distances for n codes of one partition: est[i] and lower bound
 * lb[i] (eps0 scales the error bound; 1.9 leaves ~1e-3 misses per estimate
 * in theory, larger is safer).  Distances are squared L2 / negative IP.
 */
extern void ivf_scan_codes(IvfMetric metric, const IvfQueryPart *qp,
						   const uint64_t *codes, const IvfFactor *f, int n,
						   float eps0, float *est, float *lb);

/*
 * Adaptive probing (vlake.probes = 0): a query probes lists nearest first
 * and decides after each one whether to go on.  The scan does not know the
 * LIMIT, so it watches the k (IVF_PROBE_K) best RaBitQ estimates seen so
 * far: a list is *quiet* when none of its codes entered them.  The lists of
 * a query's neighbourhood keep entering them; once `patience` lists in a
 * row plus `depth` times the position of the last list that contributed
 * were quiet, the lists further out (farther centroids) rarely hold a true
 * neighbour, and the scan stops — never before `floor` lists nor after
 * `ceiling`.  Easy queries (one dense cluster) stop early, queries between
 * clusters go on.
 */
#define IVF_PROBE_K 10

typedef struct IvfProbeParams
{
	int			floor;			/* lists always probed */
	int			ceiling;		/* lists never exceeded */
	int			patience;		/* quiet lists in a row that stop the probing */
	double		depth;			/* + this x the position of the last contributor */
} IvfProbeParams;

/* What the scan saw in one probed list (for the decision and for tools). */
typedef struct IvfProbeList
{
	int			entered;		/* codes that entered the k best estimates */
	int			quiet;			/* quiet lists in a row, this one included */
	int			last_contrib;	/* lists probed when one last contributed */
} IvfProbeList;

/* Running state of one query: the k best estimates, sorted. */
typedef struct IvfProbeStop
{
	int			k;
	int			ntop;
	float		top[IVF_PROBE_K];
	int			probed;
	int			quiet;
	int			last_contrib;
} IvfProbeStop;

extern void ivf_probe_stop_init(IvfProbeStop *ps, int k);
/* Account for one probed list's estimates est[n]; fills *obs (may be NULL). */
extern void ivf_probe_stop_observe(IvfProbeStop *ps, const float *est, int n,
								   IvfProbeList *obs);
/* After `probed` lists with the last one's observation: stop probing? */
extern bool ivf_probe_stop_decide(const IvfProbeParams *pp,
								  const IvfProbeList *obs, int probed);

/* Exact distance between two float vectors for a metric (squared L2,
 * negative IP, or for cosine 1 - cos computed from the raw vectors). */
extern float ivf_exact_distance(IvfMetric metric, const float *a,
								const float *b, int dim);

/* Name of the code-scan implementation chosen for this CPU. */
extern const char *ivf_scan_level(void);
/* Force the portable scan / quantiser (tests compare both paths). */
extern void ivf_set_generic(bool generic);

#endif							/* VLAKE_IVF_H */
