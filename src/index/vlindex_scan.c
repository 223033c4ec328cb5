/*
 * vlindex_scan.c — ordered scans: ORDER BY col <-> $1 [LIMIT k].
 *
 * The scan does not know k, so it produces rows lazily in exact distance
 * order:
 *   1. the query is compared with every centroid; the nearest vlake.probes
 *      lists are probed: their codes (warm tier, or one ranged read) give
 *      each row an estimated distance and a lower bound;
 *   2. delta rows (inserted after the build) get exact distances at once;
 *   3. a row is returned when its exact distance is no larger than the
 *      smallest lower bound still pending; otherwise the next batch of
 *      candidates, in lower-bound order, is re-ranked exactly with vectors
 *      fetched in one ranged read.  The first batch takes every candidate
 *      whose lower bound beats the 10th best estimate, so a LIMIT 10 query
 *      usually needs a single re-rank round trip;
 *   4. when the candidates of the probed lists are exhausted, or
 *      vlake.exhaustive_after rows (default 100, and at least 1/8 of the
 *      rows of the first probed lists: rows well inside the probed region
 *      are as good as an unfiltered query's) have been returned and more
 *      are wanted (a WHERE clause is rejecting rows), the scan turns
 *      exhaustive (vlake.iterative_scan = exhaustive, the default): every
 *      remaining list is probed at once, so all remaining candidates —
 *      with the results not yet returned — are ordered together and come
 *      out in exact order (up to the RaBitQ error bound).  Each row
 *      returned before the switch had an exact distance no larger than
 *      every pending lower bound of the lists probed then; only rows of
 *      lists not probed yet can have been closer.  A filtered query
 *      therefore returns k rows whenever k rows match, and a very
 *      selective one degrades into an exact search rather than into a
 *      series of IVF rounds whose rows interleave out of order
 *      (vlake.iterative_scan = rounds keeps that older behaviour).
 * With a second level (groups of lists, index.meta version 3), step 1
 * compares the query with the group centroids first and then only with the
 * centroids of the lists of the nearest groups (vlake.hierarchy_cover x
 * probes lists); later steps compare with the rest only when they need it.
 * Rows VACUUM removed from the lake part are skipped via the tombstones.
 *
 * On a vlake table the part has no vectors file: step 3 reads the indexed
 * column of the batch's rows from the table (vltab_index_take: one request
 * per segment's vector ColumnGroup), as the scan's snapshot sees them; a
 * row it does not see is dropped from the candidates, and a TID is returned
 * once even if the index holds two entries for it (a lake row whose vector
 * was rewritten in place has its old entry and a new one).
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/varbit.h"

#include "index/vlindex.h"
#include "tableam/vltab_index.h"
#include "vector/distance.h"

#define FIRST_BATCH_K	10
#define NEXT_BATCH		32
#define MAX_BATCH		4096
/* vectors of one re-rank batch held at once: 32 MB (512 at 16,000-d) */
#define MAX_BATCH_BYTES	((Size) 32 << 20)

typedef struct VlIndexCand
{
	float		lb;
	int			list;
	int			idx;
} VlIndexCand;

typedef struct VlIndexResult
{
	float		dist;
	ItemPointerData tid;
} VlIndexResult;

typedef struct VlIndexScanOpaque
{
	MemoryContext cxt;			/* reset at each rescan */
	bool		started;
	bool		noquery;
	VlIndexMetaData meta;
	VlIndexPart	   *part;
	IvfMetric	metric;			/* of the codes */
	VlIndexDist	dist;			/* of ORDER BY: the exact re-rank's */
	VlIndexElemType	et;
	float	   *q;
	double		qpop;			/* Jaccard: bits set in the query */
	/* a wide bit index (vlindex.h): its length, the query's string as the
	 * bit type stores it (the heap re-rank's) and as 24-bit words, room to
	 * unpack a candidate, and the bits one sampled bit stands for */
	int			bitlen;
	bits8	   *qraw;
	uint32	   *qbits;
	uint32	   *vbits;
	double		bits_ratio;
	float	   *qrot;
	int			dim;
	int			cdim;			/* floats of query-centroid distances: dim, or
								 * a wide bit index's sample (its packed
								 * string adds nothing measurable to them) */
	/* lists in probe order */
	int		   *order;
	float	   *cdist;			/* query-centroid distance, by list */
	bool		cdist_all;		/* cdist holds every list (else only pool) */
	int		   *pool;			/* lists the first probes are chosen from */
	int			npool;
	int			nprobed;
	int			nordered;		/* order[0..nordered) is final */
	bool		exhaustive;		/* every list has been probed at once */
	int64		nreturned;		/* rows returned so far */
	float		last_dist;		/* distance of the last row returned */
	int64		first_rows;		/* rows of the first probed lists */
	/*
	 * candidates: cand[0..nnear) is a min-heap on lb; cand[nnear..ncand)
	 * are unordered "far" candidates, all with lb above every near one,
	 * moved into the heap only if the near ones run out (most LIMIT k
	 * queries finish before that, and skip ordering thousands of codes).
	 */
	VlIndexCand	   *cand;
	int			nnear;
	int			ncand;
	float		far_floor;		/* every far candidate has lb > far_floor */
	int			capcand;
	float		first_threshold;
	bool		first_done;
	/* exact results: min-heap on dist */
	VlIndexResult   *res;
	int			nres;
	int			capres;
	/* sorted tombstones */
	uint64	   *tomb;
	int			ntomb;
	/* re-rank from the table (part->table_vectors), and the TIDs returned */
	VltabIndexTake *take;
	HTAB	   *returned;
} VlIndexScanOpaque;

/* ---------------------------------------------------------------- heaps */

/* Append without ordering; cand_heapify() restores the heap afterwards. */
static inline void
cand_append(VlIndexScanOpaque *so, float lb, int list, int idx)
{
	if (so->ncand == so->capcand)
	{
		so->capcand = Max(1024, so->capcand * 2);
		so->cand = so->cand ? repalloc_huge(so->cand, sizeof(VlIndexCand) * so->capcand) :
			MemoryContextAllocHuge(so->cxt, sizeof(VlIndexCand) * so->capcand);
	}
	so->cand[so->ncand].lb = lb;
	so->cand[so->ncand].list = list;
	so->cand[so->ncand].idx = idx;
	so->ncand++;
}

static void
cand_sift_down(VlIndexCand *h, int n, int i)
{
	VlIndexCand		x = h[i];

	while (true)
	{
		int			l = 2 * i + 1,
					m;

		if (l >= n)
			break;
		m = (l + 1 < n && h[l + 1].lb < h[l].lb) ? l + 1 : l;
		if (h[m].lb >= x.lb)
			break;
		h[i] = h[m];
		i = m;
	}
	h[i] = x;
}

/*
 * Rebuild the near heap from all candidates: those with lb <= threshold
 * become the heap (Floyd's O(n) construction), the others stay far.
 */
static void
cand_partition(VlIndexScanOpaque *so, float threshold)
{
	int			n = 0;

	for (int i = 0; i < so->ncand; i++)
	{
		if (so->cand[i].lb <= threshold)
		{
			VlIndexCand		t = so->cand[n];

			so->cand[n++] = so->cand[i];
			so->cand[i] = t;
		}
	}
	so->nnear = n;
	so->far_floor = threshold;
	for (int i = n / 2 - 1; i >= 0; i--)
		cand_sift_down(so->cand, n, i);
}

/*
 * When the near heap is empty, move in the far candidates that could beat
 * bound (the best exact result not yet returned; +inf if none).
 */
/* k-th smallest (0-based) of x[0..n), reordering x (quickselect). */
static float
kth_smallest(float *x, int n, int k)
{
	int			lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		float		pivot = x[(lo + hi) / 2];
		int			i = lo,
					j = hi;

		while (i <= j)
		{
			while (x[i] < pivot)
				i++;
			while (x[j] > pivot)
				j--;
			if (i <= j)
			{
				float		t = x[i];

				x[i] = x[j];
				x[j] = t;
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return x[k];
}

#define REFILL_CHUNK 64
#define REFILL_SAMPLE 512

/*
 * A lower bound that about want of the candidates have at or below it: the
 * matching order statistic of an evenly strided sample.  A selection over
 * all candidates (20,000 at 20 lists of 1M rows) cost more than the
 * partition it feeds; the sample's error only changes how many candidates
 * one refill moves, never which ones are correct to return (the caller
 * keeps the threshold at or above its bound).
 */
static float
cand_lb_quantile(VlIndexScanOpaque *so, int want)
{
	float		sample[REFILL_SAMPLE];
	int			n = so->ncand,
				m = Min(n, REFILL_SAMPLE);
	double		stride = (double) n / m;
	int			k;

	for (int i = 0; i < m; i++)
		sample[i] = so->cand[(int) (i * stride)].lb;
	k = (int) ((double) want * m / n);
	return kth_smallest(sample, m, Min(Max(k, 0), m - 1));
}

static void
cand_refill_slow(VlIndexScanOpaque *so, float bound, int chunk)
{
	float		threshold = bound;

	/*
	 * Move at least about chunk candidates at a time, so that a filtered
	 * query that consumes rows one by one does not re-partition all the far
	 * candidates for every row — and about 1/32 of them, so that the O(ncand)
	 * partition stays a small cost per candidate moved when many lists were
	 * probed.
	 */
	chunk = Max(chunk, so->ncand / 32);
	if (so->ncand > 4 * chunk)
		threshold = Max(bound, cand_lb_quantile(so, chunk));
	cand_partition(so, threshold);
}

static inline void
cand_refill(VlIndexScanOpaque *so, float bound, int chunk)
{
	if (so->nnear == 0 && so->ncand > 0 && bound > so->far_floor)
		cand_refill_slow(so, bound, chunk);
}

/* Smallest lower bound still pending (a floor for it, for far ones). */
static inline float
cand_pending(VlIndexScanOpaque *so)
{
	if (so->nnear > 0)
		return so->cand[0].lb;
	if (so->ncand > 0)
		return so->far_floor;
	return get_float4_infinity();
}

/* Pop the smallest lb; the caller has called cand_refill(). */
static VlIndexCand
cand_pop(VlIndexScanOpaque *so)
{
	VlIndexCand		top = so->cand[0];

	so->nnear--;
	if (so->nnear > 0)
	{
		so->cand[0] = so->cand[so->nnear];
		cand_sift_down(so->cand, so->nnear, 0);
	}
	/* close the gap left at the end of the near heap */
	so->ncand--;
	so->cand[so->nnear] = so->cand[so->ncand];
	return top;
}

static void
res_push(VlIndexScanOpaque *so, float dist, ItemPointer tid)
{
	int			i;

	if (so->nres == so->capres)
	{
		so->capres = Max(64, so->capres * 2);
		so->res = so->res ? repalloc_huge(so->res, sizeof(VlIndexResult) * so->capres) :
			MemoryContextAllocHuge(so->cxt, sizeof(VlIndexResult) * so->capres);
	}
	i = so->nres++;
	while (i > 0)
	{
		int			p = (i - 1) / 2;

		if (so->res[p].dist <= dist)
			break;
		so->res[i] = so->res[p];
		i = p;
	}
	so->res[i].dist = dist;
	so->res[i].tid = *tid;
}

static VlIndexResult
res_pop(VlIndexScanOpaque *so)
{
	VlIndexResult	top = so->res[0];
	VlIndexResult	last = so->res[--so->nres];
	int			i = 0,
				n = so->nres;

	while (true)
	{
		int			l = 2 * i + 1,
					m;

		if (l >= n)
			break;
		m = (l + 1 < n && so->res[l + 1].dist < so->res[l].dist) ? l + 1 : l;
		if (so->res[m].dist >= last.dist)
			break;
		so->res[i] = so->res[m];
		i = m;
	}
	if (n > 0)
		so->res[i] = last;
	return top;
}

/* ------------------------------------------------------------ distances */

/* Add the popcounts of two bit strings of nbytes bytes (zero padding) to
 * c: Hamming's in c[0], or Jaccard's three (vec_jaccard_bits). */
static inline void
bits_counts(VlIndexScanOpaque *so, const uint8 *a, const uint8 *b, size_t nbytes,
			uint64_t c[3])
{
	uint64_t	part[3];

	if (so->dist == VLINDEX_DIST_HAMMING)
	{
		c[0] += vec_hamming_bits(a, b, nbytes);
		return;
	}
	vec_jaccard_bits(a, b, nbytes, part);
	for (int k = 0; k < 3; k++)
		c[k] += part[k];
}

static float
bits_dist_from_counts(VlIndexScanOpaque *so, const uint64_t c[3])
{
	if (so->dist == VLINDEX_DIST_HAMMING)
		return (float) c[0];
	/* pgvector's convention: no common bit = distance 1 */
	if (c[0] == 0)
		return 1.0f;
	return (float) (1.0 - (double) c[0] / (double) (c[1] + c[2] - c[0]));
}

/* Exact distance in internal units (L2: squared; IP: negative; cosine:
 * 1 - cos with both sides normalised; L1, Hamming and Jaccard as the SQL
 * operators compute them: bits are 0/1 floats, so the sums are exact
 * integers). */
static float
exact_dist_wide(VlIndexScanOpaque *so, const float *v)
{
	uint64_t	c[3] = {0, 0, 0};

	vlindex_bits_unpack(v, so->bitlen, so->vbits);
	bits_counts(so, (const uint8 *) so->qbits, (const uint8 *) so->vbits,
				sizeof(uint32) * VLINDEX_BITS_WORDS(so->bitlen), c);
	return bits_dist_from_counts(so, c);
}

static inline float
exact_dist(VlIndexScanOpaque *so, const float *v)
{
	if (so->bitlen > 0)
		return exact_dist_wide(so, v);
	switch (so->dist)
	{
		case VLINDEX_DIST_L1:
			return vec_l1_f32(so->q, v, so->dim);
		case VLINDEX_DIST_JACCARD:
			{
				double		ab = vec_dot_f32(so->q, v, so->dim),
							bb = vec_dot_f32(v, v, so->dim);

				/* pgvector's convention: no common bit = distance 1 */
				if (ab == 0)
					return 1.0f;
				return (float) (1.0 - ab / (so->qpop + bb - ab));
			}
		default:
			/* L2, IP, cosine; Hamming = squared L2 of 0/1 vectors */
			return ivf_exact_distance(so->metric, so->q, v, so->dim);
	}
}

static double
output_dist(VlIndexScanOpaque *so, float d)
{
	if (so->dist == VLINDEX_DIST_L2)
		return sqrt(Max(d, 0));
	return d;
}

/*
 * A squared-L2 estimate or lower bound h of a candidate (the codes'
 * geometry) as one of the ORDER BY distance, for the classes that order by
 * something else.  Each map is non-decreasing in h, so the order of the
 * candidates and the first re-rank batch stay those of h, and a lower
 * bound of h gives a lower bound of the distance:
 *   L1 >= L2 = sqrt(h);
 *   Hamming = h exactly;
 *   Jaccard = H / |q or v| and |q or v| <= |q| + H, so J >= H / (|q| + H)
 *   (and J = 1 >= it when no bit is common).
 * L1's bound is loose by up to sqrt(dim): such a scan re-ranks most
 * candidates of the lists it probes before its first row, but every row
 * still comes out in exact order.
 */
static inline float
bound_from_l2sq(VlIndexScanOpaque *so, float h)
{
	h = Max(h, 0.0f);
	if (so->bitlen > 0)
	{
		/*
		 * A wide bit index's h estimates Hamming H from a sample: the
		 * sampled bits that differ, times bits_ratio.  Its standard
		 * deviation is about sqrt(ratio * H), so the least H with
		 * h <= H + eps * sqrt(ratio * H) (the same eps as the codes'
		 * bound) stands in for the bound; it grows with h.
		 */
		double		e = vlindex_epsilon * sqrt(so->bits_ratio),
					s = (sqrt(e * e + 4.0 * h) - e) / 2.0;

		h = (float) (s * s);
	}
	switch (so->dist)
	{
		case VLINDEX_DIST_L1:
			return sqrtf(h);
		case VLINDEX_DIST_JACCARD:
			return so->qpop + h > 0 ? (float) (h / (so->qpop + h)) : 0.0f;
		default:
			return h;
	}
}

static int
cmp_by_dist(const void *a, const void *b, void *arg)
{
	const float *cd = arg;
	float		x = cd[*(const int *) a],
				y = cd[*(const int *) b];

	return x < y ? -1 : x > y;
}

static bool
tombstoned(VlIndexScanOpaque *so, uint64 ref)
{
	int			lo = 0,
				hi = so->ntomb - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (so->tomb[mid] == ref)
			return true;
		if (so->tomb[mid] < ref)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* ----------------------------------------------------------------- scan */

static void
delta_row(void *arg, ItemPointer tid, const float *x)
{
	VlIndexScanOpaque *so = arg;

	res_push(so, exact_dist(so, x), tid);
	vlindex_stats.delta_scanned++;
}

static void
load_delta_chain(IndexScanDesc scan, VlIndexScanOpaque *so, BlockNumber blk)
{
	(void) vlindex_delta_walk(scan->indexRelation, blk, so->dim, so->meta.generation,
							  delta_row, so);
}

/* Rows inserted after the build: the live delta and a sealed one. */
static void
load_delta(IndexScanDesc scan, VlIndexScanOpaque *so)
{
	load_delta_chain(scan, so, so->meta.delta_head);
	load_delta_chain(scan, so, so->meta.sealed_head);
}

/*
 * Reorder lists[0..n) so that its first k entries are the k with the
 * smallest d[] (in no particular order): quickselect on the list numbers.
 */
static void
select_nearest(int *lists, int n, int k, const float *d)
{
	int			lo = 0,
				hi = n - 1;

	if (k <= 0 || k >= n)
		return;
	while (lo < hi)
	{
		float		pivot = d[lists[(lo + hi) / 2]];
		int			i = lo,
					j = hi;

		while (i <= j)
		{
			while (d[lists[i]] < pivot)
				i++;
			while (d[lists[j]] > pivot)
				j--;
			if (i <= j)
			{
				int			t = lists[i];

				lists[i] = lists[j];
				lists[j] = t;
				i++;
				j--;
			}
		}
		if (k - 1 <= j)
			hi = j;
		else if (k - 1 >= i)
			lo = i;
		else
			break;
	}
}

/* Distances from the query to the centroids of lists[0..n). */
static void
compute_cdist(VlIndexScanOpaque *so, const int *lists, int n)
{
	VlIndexPart	   *part = so->part;

	for (int i = 0; i < n; i++)
	{
		int			c = lists[i];
		const float *cv = part->centroids + (size_t) c * part->dim;

		so->cdist[c] = so->metric == IVF_IP ?
			-vec_dot_f32(so->q, cv, so->cdim) : vec_l2sq_f32(so->q, cv, so->cdim);
	}
	vlindex_stats.centroids_compared += n;
}

/* The lists the first probes are chosen from, with their distances. */
static void
choose_pool(VlIndexScanOpaque *so, int probes)
{
	VlIndexPart	   *part = so->part;
	int			lists = part->lists;
	int			cover = ivf_group_cover(probes, vlindex_hierarchy_cover);

	so->pool = palloc(sizeof(int) * lists);
	/*
	 * The second level only when it compares at most half the centroids:
	 * ranking the groups and gathering their lists cost something too
	 * (hier_select: at 1,024 lists and 64 probes, 646 centroids compared
	 * through the groups took as long as all 1,024).
	 */
	if (part->groups > 0 && vlindex_hierarchy_cover > 0 &&
		2 * (part->groups + cover) <= lists)
	{
		float	   *gdist = palloc(sizeof(float) * part->groups);
		uint8	   *gtaken = palloc(part->groups);

		so->npool = ivf_select_group_lists(so->metric, so->q, so->dim,
										   part->gcent, part->gradius, part->groups,
										   part->gstart, part->gmembers,
										   cover,
										   gdist, gtaken, so->pool);
		vlindex_stats.centroids_compared += part->groups;
		pfree(gdist);
		pfree(gtaken);
		compute_cdist(so, so->pool, so->npool);
		so->cdist_all = (so->npool == lists);
	}
	else
	{
		for (int c = 0; c < lists; c++)
			so->pool[c] = c;
		so->npool = lists;
		compute_cdist(so, so->pool, lists);
		so->cdist_all = true;
	}
}

/*
 * Make order[0..upto) the lists to probe, nearest first.  The first probes
 * pick them from the pool by partial selection; later rounds compare the
 * query with the centroids not compared yet and sort the rest once.
 */
static void
order_lists(VlIndexScanOpaque *so, int upto)
{
	int			lists = so->part->lists;

	upto = Min(upto, lists);
	if (upto <= so->nordered)
		return;
	if (so->nordered == 0 && upto <= 64)
	{
		/* insertion of each pool list into a sorted prefix of length upto */
		int			n = 0;

		upto = Min(upto, so->npool);
		for (int p = 0; p < so->npool; p++)
		{
			int			c = so->pool[p];
			float		d = so->cdist[c];
			int			k;

			if (n == upto && d >= so->cdist[so->order[n - 1]])
				continue;
			k = n < upto ? n++ : n - 1;
			while (k > 0 && so->cdist[so->order[k - 1]] > d)
			{
				so->order[k] = so->order[k - 1];
				k--;
			}
			so->order[k] = c;
		}
		so->nordered = upto;
		return;
	}
	if (so->nordered == 0)
	{
		/*
		 * First probes, many of them: select the nearest upto lists of the
		 * pool (quickselect), sort only those.
		 */
		upto = Min(upto, so->npool);
		memcpy(so->order, so->pool, sizeof(int) * so->npool);
		select_nearest(so->order, so->npool, upto, so->cdist);
		qsort_arg(so->order, upto, sizeof(int), cmp_by_dist, so->cdist);
		so->nordered = upto;
		return;
	}
	/* everything not yet in order, sorted */
	{
		bool	   *taken = palloc0(sizeof(bool) * lists);
		int			n = so->nordered;

		for (int i = 0; i < so->nordered; i++)
			taken[so->order[i]] = true;
		for (int c = 0; c < lists; c++)
			if (!taken[c])
				so->order[n++] = c;
		if (!so->cdist_all)
		{
			/* the centroids the second level let the first probes skip */
			bool	   *known = palloc0(sizeof(bool) * lists);
			int			m = 0;
			int		   *rest = palloc(sizeof(int) * lists);

			for (int p = 0; p < so->npool; p++)
				known[so->pool[p]] = true;
			for (int c = 0; c < lists; c++)
				if (!known[c])
					rest[m++] = c;
			compute_cdist(so, rest, m);
			so->cdist_all = true;
			pfree(known);
			pfree(rest);
		}
		qsort_arg(so->order + so->nordered, lists - so->nordered, sizeof(int),
				  cmp_by_dist, so->cdist);
		so->nordered = lists;
		pfree(taken);
	}
}

/*
 * Probe the next batch of lists: scan their codes into the candidate heap.
 * With adaptive (vlake.probes = 0, first probes only), nprobe is the
 * ceiling and the probing stops earlier when ivf_probe_stop_decide() says
 * so; the codes of every list up to the ceiling are loaded together (one
 * ranged read when cold), so stopping early never costs a round trip.
 */
static void
probe_lists(VlIndexScanOpaque *so, int nprobe, const IvfProbeParams *adaptive)
{
	VlIndexPart	   *part = so->part;
	int			from = so->nprobed,
				to = Min(part->lists, from + nprobe);
	int			maxcount = 0;
	float	   *est,
			   *lb;
	uint64	   *planes = palloc(sizeof(uint64) * 4 * part->words);
	float	   *tmp = palloc(sizeof(float) * part->pdim);
	IvfProbeStop ps;
	IvfMetric	codemetric = so->metric == IVF_COSINE ? IVF_L2 : so->metric;
	int			i,
				loaded;

	order_lists(so, to);
	to = Min(to, so->nordered);
	/*
	 * Adaptive probing of a remote part loads the floor's lists first and
	 * the rest in growing stages only if the probing goes on (most queries
	 * stop at the floor): a cold query then fetches about floor/ceiling of
	 * the codes, at the price of one more round trip for the queries that
	 * probe past the floor.  Local parts load up to the ceiling at once.
	 */
	loaded = to;
	if (adaptive && part->remote)
		loaded = Min(to, from + Max(adaptive->floor, 1));
	vlindex_part_load_lists(part, so->order + from, loaded - from);
	for (i = from; i < to; i++)
		maxcount = Max(maxcount, (int) part->dir[so->order[i]].count);
	est = palloc(sizeof(float) * Max(maxcount, 1));
	lb = palloc(sizeof(float) * Max(maxcount, 1));
	/* the FIRST_BATCH_K best estimates, and the stopping rule's state */
	ivf_probe_stop_init(&ps, FIRST_BATCH_K);

	for (i = from; i < to; i++)
	{
		int			c = so->order[i];
		VlIndexList	   *l = &part->list[c];
		const float *cv = part->centroids + (size_t) c * part->dim;
		IvfQueryPart qp;
		IvfProbeList obs;

		if (i == loaded)
		{
			/* the next stage: half as many lists again as loaded so far */
			int			upto = Min(to, loaded + Max(1, (loaded - from) / 2));

			vlindex_part_load_lists(part, so->order + loaded, upto - loaded);
			loaded = upto;
		}
		if (l->count > 0)
		{
			float		rq2 = vec_l2sq_f32(so->q, cv, so->cdim);
			float		qc = so->metric == IVF_IP ? vec_dot_f32(so->q, cv, so->cdim) : 0;

			ivf_query_prepare(part->pdim, so->qrot, vlindex_part_crot(part, c),
							  rq2, qc, planes, tmp, &qp);
			ivf_scan_codes(codemetric, &qp, l->codes, l->factors, l->count,
						   (float) vlindex_epsilon, est, lb);
			for (int j = 0; j < l->count; j++)
			{
				if (so->metric == IVF_COSINE)
				{
					/* codes measure |a - b|^2 = 2 (1 - cos) on unit vectors */
					est[j] *= 0.5f;
					lb[j] *= 0.5f;
				}
				else if (so->dist > VLINDEX_DIST_COSINE)
				{
					est[j] = bound_from_l2sq(so, est[j]);
					lb[j] = bound_from_l2sq(so, lb[j]);
				}
				cand_append(so, lb[j], c, j);
			}
			vlindex_stats.codes_scanned += l->count;
		}
		if (!so->first_done || adaptive)
			ivf_probe_stop_observe(&ps, est, l->count, &obs);
		CHECK_FOR_INTERRUPTS();
		if (adaptive && ivf_probe_stop_decide(adaptive, &obs, i + 1 - from))
		{
			i++;
			break;
		}
	}
	to = Min(i, to);
	vlindex_stats.lists_probed += to - from;
	if (!so->first_done)
	{
		so->first_threshold = ps.ntop > 0 ? ps.top[ps.ntop - 1] : 0;
		if (vlindex_rerank_min > 0 && so->ncand > vlindex_rerank_min)
		{
			/* at least vlake.rerank_min candidates in the first batch */
			float	   *lbs = palloc(sizeof(float) * so->ncand);

			for (int j = 0; j < so->ncand; j++)
				lbs[j] = so->cand[j].lb;
			so->first_threshold = Max(so->first_threshold,
									  kth_smallest(lbs, so->ncand, vlindex_rerank_min - 1));
			pfree(lbs);
		}
		else if (vlindex_rerank_min > 0)
			so->first_threshold = get_float4_infinity();
		cand_partition(so, so->first_threshold);
	}
	else
		cand_partition(so, get_float4_infinity());
	so->nprobed = to;
	pfree(est);
	pfree(lb);
	pfree(planes);
	pfree(tmp);
}

/*
 * Exhaustive mode: probe every list not probed yet, in one go (their codes
 * in one ranged read when they are not in memory), so that the remaining
 * candidates are all ordered by lower bound together.  List order does not
 * matter here, so no centroid is compared.
 */
static void
probe_rest(VlIndexScanOpaque *so)
{
	int			lists = so->part->lists;
	bool	   *taken = palloc0(sizeof(bool) * lists);
	int			n = so->nprobed;

	for (int i = 0; i < so->nprobed; i++)
		taken[so->order[i]] = true;
	for (int c = 0; c < lists; c++)
		if (!taken[c])
			so->order[n++] = c;
	pfree(taken);
	so->nordered = lists;
	so->exhaustive = true;
	probe_lists(so, lists - so->nprobed, NULL);
}

/*
 * Re-rank batch size after the first batch: grows with the rows returned
 * so far (a filter that rejected many rows will reject many more), so a
 * selective filter costs a few large vector reads, not hundreds of small
 * ones; at most twice the re-ranks it needed.
 */
static int
next_batch_size(VlIndexScanOpaque *so)
{
	return (int) Max(NEXT_BATCH, Min(so->nreturned, MAX_BATCH));
}

/*
 * Exact distances of candidates from the table's column (no vectors file):
 * rows the scan's snapshot does not see, or whose value is NULL now, are
 * dropped.
 */
static void
rerank_from_table(IndexScanDesc scan, VlIndexScanOpaque *so, const int *lists,
				  const int *idx, int n)
{
	VlIndexPart	   *part = so->part;
	ItemPointerData *tids = palloc(sizeof(ItemPointerData) * n);
	Datum	   *vals = palloc(sizeof(Datum) * n);
	bool	   *nulls = palloc(sizeof(bool) * n);
	bool	   *found = palloc(sizeof(bool) * n);
	float	   *vecs = palloc(sizeof(float) * part->dim * n);
	float	   *vec = palloc(sizeof(float) * part->dim);

	if (so->take == NULL)
	{
		AttrNumber	attnum = scan->indexRelation->rd_index->indkey.values[0];

		if (scan->heapRelation != NULL)
			so->take = vltab_index_take_begin(scan->heapRelation, scan->xs_snapshot, attnum);
		if (so->take == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("vlake index \"%s\" re-ranks from its vlake table, which this scan does not read",
							RelationGetRelationName(scan->indexRelation)),
					 errhint("REINDEX the index.")));
	}
	for (int i = 0; i < n; i++)
		lake_rowref_to_tid(part->list[lists[i]].refs[idx[i]], &tids[i]);
	vltab_index_take_vectors(so->take, tids, n, part->dim, vecs, vals, nulls, found);
	for (int i = 0; i < n; i++)
	{
		float	   *v = vec;

		if (!found[i] || nulls[i])
			continue;
		if (vals[i] == (Datum) 0)
		{
			/* read as stored: what vlindex_datum_to_floats does after */
			v = vecs + (size_t) i * part->dim;
			if (so->metric == IVF_COSINE)
				ivf_normalize(v, part->dim);
		}
		else
			vlindex_datum_to_floats(vals[i], so->et, so->metric, VLINDEX_USER_DIM(&so->meta),
									vec, NULL, scan->indexRelation);
		res_push(so, exact_dist(so, v), &tids[i]);
	}
	vlindex_stats.round_trips++;
	pfree(tids);
	pfree(vals);
	pfree(nulls);
	pfree(found);
	pfree(vecs);
	pfree(vec);
}

/*
 * Can the re-rank of this scan read the candidates' vectors from the heap
 * table rather than from the part's vectors.bin?  For a remote part
 * (vectors.bin is then a round trip per batch, the heap pages are local),
 * and for a wide bit index whose column has storage PLAIN: its string is
 * compared in place in the heap page, where a row of vectors.bin is a third
 * larger and is copied out of the file first (MAIN may compress a string,
 * and decompressing costs more than the copy).  Only
 * for a plain column of a heap table, with vlake.rerank_from_heap on.  The
 * values are those the build wrote to vectors.bin (an index entry's TID
 * holds the same row until VACUUM tombstones the entry), so the exact
 * distances, hence the answers, are the same.
 */
static bool
rerank_heap_usable(IndexScanDesc scan, VlIndexScanOpaque *so)
{
	Relation	heap = scan->heapRelation;
	AttrNumber	attnum = scan->indexRelation->rd_index->indkey.values[0];
	char		storage;

	if (!vlindex_rerank_from_heap || so->part->table_vectors ||
		heap == NULL || heap->rd_tableam != GetHeapamTableAmRoutine() ||
		scan->indexRelation->rd_index->indnatts != 1 || attnum == 0)
		return false;
	if (so->part->remote)
		return true;
	storage = TupleDescAttr(RelationGetDescr(heap), attnum - 1)->attstorage;
	return so->bitlen > 0 && storage == TYPSTORAGE_PLAIN;
}

/*
 * Hamming or Jaccard of the query and a wide bit index's heap value, as the
 * bit type stores it (no sample, no packing), chunk by chunk, each chunk
 * after the prefetch of the same bytes of the next row (next, may be NULL):
 * the rows come from memory, and with the next one's lines in flight the
 * compare of 8 kB strings ran 1.5x as fast as one row at a time.
 */
#define BITS_CHUNK	512

static float
heap_bits_dist(VlIndexScanOpaque *so, const VarBit *v, const VarBit *next)
{
	size_t		nbytes = VARBITBYTES(v);
	uint64_t	c[3] = {0, 0, 0};

	for (size_t off = 0; off < nbytes; off += BITS_CHUNK)
	{
		size_t		len = Min(BITS_CHUNK, nbytes - off);

		if (next != NULL)
			for (size_t l = 0; l < len; l += 64)
				__builtin_prefetch(VARBITS(next) + off + l, 0, 3);
		bits_counts(so, so->qraw + off, VARBITS(v) + off, len, c);
	}
	return bits_dist_from_counts(so, c);
}

/*
 * A candidate's wide bit string from the heap, into slot (its detoasted
 * copy, if any, in cxt), advancing *i past candidates whose tuple is gone;
 * NULL when none is left.
 */
static const VarBit *
heap_bits_fetch(IndexScanDesc scan, VlIndexScanOpaque *so, IndexFetchTableData *fetch,
				const int *lists, const int *idx, int n, int *i,
				TupleTableSlot *slot, MemoryContext cxt, ItemPointer tid)
{
	AttrNumber	attnum = scan->indexRelation->rd_index->indkey.values[0];

	for (; *i < n; (*i)++)
	{
		bool		call_again = false,
					all_dead = false,
					isnull;
		Datum		d;
		VarBit	   *v;
		MemoryContext old;

		lake_rowref_to_tid(so->part->list[lists[*i]].refs[idx[*i]], tid);
		if (!table_index_fetch_tuple(fetch, tid, SnapshotAny, slot, &call_again, &all_dead))
			continue;
		d = slot_getattr(slot, attnum, &isnull);
		if (isnull)
		{
			ExecClearTuple(slot);
			continue;
		}
		old = MemoryContextSwitchTo(cxt);
		v = DatumGetVarBitP(d);
		MemoryContextSwitchTo(old);
		if (VARBITLEN(v) != so->bitlen)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("table row of index \"%s\" has %d bits, the index %d",
							RelationGetRelationName(scan->indexRelation), VARBITLEN(v),
							so->bitlen),
					 errhint("REINDEX the index.")));
		(*i)++;
		return v;
	}
	return NULL;
}

/*
 * rerank_from_heap for a wide bit index: two rows held at once, so that the
 * next one is prefetched while this one is compared.
 */
static void
rerank_heap_bits(IndexScanDesc scan, VlIndexScanOpaque *so, const int *lists,
				 const int *idx, int n)
{
	IndexFetchTableData *fetch = table_index_fetch_begin(scan->heapRelation);
	TupleTableSlot *slot[2];
	MemoryContext cxt[2];
	ItemPointerData tid[2];
	const VarBit *cur;
	int			i = 0;

	for (int s = 0; s < 2; s++)
	{
		slot[s] = table_slot_create(scan->heapRelation, NULL);
		cxt[s] = AllocSetContextCreate(CurrentMemoryContext, "vlake heap re-rank",
									   ALLOCSET_SMALL_SIZES);
	}
	cur = heap_bits_fetch(scan, so, fetch, lists, idx, n, &i, slot[0], cxt[0], &tid[0]);
	for (int s = 0; cur != NULL; s ^= 1)
	{
		const VarBit *next = heap_bits_fetch(scan, so, fetch, lists, idx, n, &i,
											 slot[s ^ 1], cxt[s ^ 1], &tid[s ^ 1]);

		res_push(so, heap_bits_dist(so, cur, next), &tid[s]);
		ExecClearTuple(slot[s]);
		MemoryContextReset(cxt[s]);
		cur = next;
		CHECK_FOR_INTERRUPTS();
	}
	vlindex_stats.heap_reranked += n;
	for (int s = 0; s < 2; s++)
	{
		ExecDropSingleTupleTableSlot(slot[s]);
		MemoryContextDelete(cxt[s]);
	}
	table_index_fetch_end(fetch);
}

/*
 * Exact distances of candidates from the heap's column.  A TID whose
 * tuple is gone (pruned, not yet VACUUMed) is dropped: the executor would
 * drop it as well.  Any tuple version is read (SnapshotAny): a HOT chain
 * shares the indexed value, and visibility is the executor's business, as
 * with vectors.bin.
 */
static void
rerank_from_heap(IndexScanDesc scan, VlIndexScanOpaque *so, const int *lists,
				 const int *idx, int n)
{
	VlIndexPart	   *part = so->part;
	AttrNumber	attnum = scan->indexRelation->rd_index->indkey.values[0];
	IndexFetchTableData *fetch = table_index_fetch_begin(scan->heapRelation);
	TupleTableSlot *slot = table_slot_create(scan->heapRelation, NULL);
	float	   *vec = palloc(sizeof(float) * part->dim);
	/* a detoasted value per row: freed row by row */
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "vlake heap re-rank",
												 ALLOCSET_SMALL_SIZES);

	for (int i = 0; i < n; i++)
	{
		ItemPointerData tid;
		bool		call_again = false,
					all_dead = false,
					isnull;
		Datum		d;

		lake_rowref_to_tid(part->list[lists[i]].refs[idx[i]], &tid);
		if (!table_index_fetch_tuple(fetch, &tid, SnapshotAny, slot, &call_again, &all_dead))
			continue;
		d = slot_getattr(slot, attnum, &isnull);
		if (!isnull)
		{
			MemoryContext old = MemoryContextSwitchTo(rowcxt);

			vlindex_datum_to_floats(d, so->et, so->metric, VLINDEX_USER_DIM(&so->meta), vec, NULL,
									scan->indexRelation);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
			res_push(so, exact_dist(so, vec), &tid);
		}
		ExecClearTuple(slot);
		if ((i & 63) == 63)
			CHECK_FOR_INTERRUPTS();
	}
	vlindex_stats.heap_reranked += n;
	ExecDropSingleTupleTableSlot(slot);
	table_index_fetch_end(fetch);
	MemoryContextDelete(rowcxt);
	pfree(vec);
}

/* Re-rank the next batch of candidates exactly. */
static void
rerank_batch(IndexScanDesc scan, VlIndexScanOpaque *so)
{
	VlIndexPart	   *part = so->part;
	int			cap = next_batch_size(so),
				n = 0;
	int		   *lists,
			   *idx;
	float	   *vecs;

	if (!so->first_done)
	{
		/* everything whose lower bound beats the 10th best estimate */
		cap = so->nnear;
		so->first_done = true;
	}
	cap = Min(cap, so->ncand);
	/* the rest of a large first batch follows in later batches */
	cap = Min(cap, (int) Max(1, MAX_BATCH_BYTES / (sizeof(float) * part->dim)));
	lists = palloc(sizeof(int) * Max(cap, 1));
	idx = palloc(sizeof(int) * Max(cap, 1));
	/* only near candidates: the far ones cannot beat the next result yet */
	while (n < cap && so->nnear > 0)
	{
		VlIndexCand		c = cand_pop(so);

		if (so->ntomb > 0 && tombstoned(so, part->list[c.list].refs[c.idx]))
			continue;
		lists[n] = c.list;
		idx[n] = c.idx;
		n++;
	}
	if (n > 0 && part->table_vectors)
	{
		rerank_from_table(scan, so, lists, idx, n);
		vlindex_stats.reranked += n;
	}
	else if (n > 0 && rerank_heap_usable(scan, so))
	{
		if (so->bitlen > 0)
			rerank_heap_bits(scan, so, lists, idx, n);
		else
			rerank_from_heap(scan, so, lists, idx, n);
		vlindex_stats.reranked += n;
	}
	else if (n > 0)
	{
		vecs = palloc(sizeof(float) * part->dim * n);
		/* a wide bit string's re-rank reads only its packed string */
		vlindex_part_fetch_vectors(part, lists, idx, n,
								   so->bitlen > 0 ? VLINDEX_BITS_SAMPLE : 0, vecs);
		for (int i = 0; i < n; i++)
		{
			ItemPointerData tid;

			lake_rowref_to_tid(part->list[lists[i]].refs[idx[i]], &tid);
			res_push(so, exact_dist(so, vecs + (size_t) i * part->dim), &tid);
		}
		vlindex_stats.reranked += n;
		pfree(vecs);
	}
	pfree(lists);
	pfree(idx);
}

static void
start_scan(IndexScanDesc scan, VlIndexScanOpaque *so)
{
	Relation	index = scan->indexRelation;
	MemoryContext old = MemoryContextSwitchTo(so->cxt);
	Datum		qd;

	so->started = true;
	vlindex_stats.scans++;
	if (scan->numberOfOrderBys < 1 || scan->orderByData[0].sk_flags & SK_ISNULL)
	{
		so->noquery = true;
		MemoryContextSwitchTo(old);
		return;
	}
	vlindex_warn_pgvector_settings(index);
	vlindex_meta_read(index, &so->meta);
	so->metric = (IvfMetric) so->meta.metric;
	so->dist = vlindex_dist(index);
	so->et = (VlIndexElemType) so->meta.elemtype;
	if (so->meta.dim == 0)
	{
		/* nothing was ever indexed */
		so->noquery = true;
		MemoryContextSwitchTo(old);
		return;
	}
	so->dim = so->meta.dim;
	so->cdim = so->meta.bitlen > 0 ? VLINDEX_BITS_SAMPLE : so->dim;
	so->q = palloc(sizeof(float) * so->dim);
	qd = scan->orderByData[0].sk_argument;
	vlindex_datum_to_floats(qd, so->et, so->metric, VLINDEX_USER_DIM(&so->meta), so->q, NULL,
							index);
	so->bitlen = (int) so->meta.bitlen;
	if (so->bitlen > 0)
	{
		size_t		nbytes = sizeof(uint32) * VLINDEX_BITS_WORDS(so->bitlen);
		uint64_t	c[3];
		VarBit	   *qv = DatumGetVarBitP(qd);

		so->qbits = palloc(nbytes);
		so->vbits = palloc(nbytes);
		vlindex_bits_unpack(so->q, so->bitlen, so->qbits);
		so->qraw = palloc(VARBITBYTES(qv));
		memcpy(so->qraw, VARBITS(qv), VARBITBYTES(qv));
		so->bits_ratio = (double) so->bitlen / VLINDEX_BITS_SAMPLE;
		vec_jaccard_bits((const uint8 *) so->qbits, (const uint8 *) so->qbits, nbytes, c);
		so->qpop = (double) c[1];
	}
	else if (so->dist == VLINDEX_DIST_JACCARD)
		so->qpop = vec_dot_f32(so->q, so->q, so->dim);

	load_delta(scan, so);
	so->tomb = vlindex_tombstones_load(index, &so->meta, &so->ntomb);

	if (so->meta.lists > 0 && so->meta.nvec > 0)
	{
		VlIndexPart	   *part = vlindex_part_get(index, &so->meta);

		so->part = part;
		so->qrot = palloc(sizeof(float) * part->pdim);
		ivf_rotate(&part->rot, so->q, so->qrot);
		so->order = palloc(sizeof(int) * part->lists);
		so->cdist = palloc(sizeof(float) * part->lists);
		so->nordered = 0;
		if (vlindex_probes > 0)
		{
			choose_pool(so, vlindex_default_probes(part->lists));
			probe_lists(so, vlindex_default_probes(part->lists), NULL);
		}
		else
		{
			/* automatic: floor .. ceiling lists, decided per query */
			IvfProbeParams pp;

			vlindex_auto_probes(part->lists, &pp.floor, &pp.ceiling);
			pp.patience = vlindex_probe_patience;
			pp.depth = 0;
			choose_pool(so, pp.ceiling);
			probe_lists(so, pp.ceiling, &pp);
		}
		so->first_rows = so->ncand;
	}
	MemoryContextSwitchTo(old);
}

IndexScanDesc
vlindex_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	VlIndexScanOpaque *so = palloc0(sizeof(VlIndexScanOpaque));

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake index scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	/* the AM owns the ORDER BY value arrays */
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc(sizeof(bool) * Max(norderbys, 1));
	memset(scan->xs_orderbynulls, true, sizeof(bool) * Max(norderbys, 1));
	return scan;
}

void
vlindex_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
		  int norderbys)
{
	VlIndexScanOpaque *so = scan->opaque;
	MemoryContext cxt = so->cxt;

	/* the take pins a delta buffer: released before its memory goes */
	vltab_index_take_end(so->take);
	MemoryContextReset(cxt);
	memset(so, 0, sizeof(VlIndexScanOpaque));
	so->cxt = cxt;
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

bool
vlindex_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	VlIndexScanOpaque *so = scan->opaque;

	if (dir != ForwardScanDirection)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vlake index scans only go forward")));
	if (!so->started)
		start_scan(scan, so);
	if (so->noquery)
		return false;

	for (;;)
	{
		float		pending;
		bool		more_lists = so->part && so->nprobed < so->part->lists;

		CHECK_FOR_INTERRUPTS();
		if (more_lists && VLINDEX_ITERATIVE_GOES_EXHAUSTIVE(vlindex_iterative) &&
			(so->ncand == 0 ||
			 (vlindex_exhaustive_after > 0 &&
			  so->nreturned >= Max(vlindex_exhaustive_after, so->first_rows / 8))))
		{
			/*
			 * The probed lists are exhausted, or more rows were wanted than a
			 * top-k query asks for (a filter is rejecting them): go
			 * exhaustive before returning anything else, so that the rest is
			 * ordered together with every other row.
			 */
			MemoryContext old = MemoryContextSwitchTo(so->cxt);

			probe_rest(so);
			MemoryContextSwitchTo(old);
			continue;
		}
		cand_refill(so, so->nres > 0 ? so->res[0].dist : get_float4_infinity(),
					Max(REFILL_CHUNK, next_batch_size(so)));
		pending = cand_pending(so);
		if (so->nres > 0 && so->res[0].dist <= pending)
		{
			VlIndexResult	r = res_pop(so);

			/*
			 * strict_order: a row closer than one already returned (found
			 * after the switch to exhaustive, in a list not probed before,
			 * or past the error bound) is dropped, so the output is in
			 * order; the other modes return it.
			 */
			if (vlindex_iterative == VLINDEX_ITERATIVE_STRICT && so->nreturned > 0 &&
				r.dist < so->last_dist)
				continue;
			if (so->part && so->part->table_vectors)
			{
				/* each TID once (see the header comment) */
				bool		dup;

				if (so->returned == NULL)
				{
					HASHCTL		ctl;

					ctl.keysize = sizeof(ItemPointerData);
					ctl.entrysize = sizeof(ItemPointerData);
					ctl.hcxt = so->cxt;
					so->returned = hash_create("vlake index scan TIDs", 256, &ctl,
											   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
				}
				(void) hash_search(so->returned, &r.tid, HASH_ENTER, &dup);
				if (dup)
					continue;
			}
			so->nreturned++;
			so->last_dist = r.dist;

			scan->xs_heaptid = r.tid;
			scan->xs_recheck = false;
			scan->xs_recheckorderby = false;
			if (scan->numberOfOrderBys > 0)
			{
				scan->xs_orderbyvals[0] = Float8GetDatum(output_dist(so, r.dist));
				scan->xs_orderbynulls[0] = false;
			}
			return true;
		}
		if (so->ncand > 0)
		{
			MemoryContext old = MemoryContextSwitchTo(so->cxt);

			rerank_batch(scan, so);
			MemoryContextSwitchTo(old);
			continue;
		}
		if (more_lists && vlindex_iterative == VLINDEX_ITERATIVE_ROUNDS)
		{
			MemoryContext old = MemoryContextSwitchTo(so->cxt);

			probe_lists(so, vlindex_default_probes(so->part->lists), NULL);
			MemoryContextSwitchTo(old);
			continue;
		}
		return false;
	}
}

void
vlindex_endscan(IndexScanDesc scan)
{
	VlIndexScanOpaque *so = scan->opaque;

	vltab_index_take_end(so->take);
	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}
