/*
 * hyb_fusion.c — fusion of ranked branches with exact early termination.
 * The formulas, the tie-break and the proof that a final top-k cannot
 * change are in docs/hybrid.md; the comments here point at its steps.
 *
 * Every fused score, bound and contribution is a sum over the branches in
 * branch order of one non-negative term per branch.  IEEE addition,
 * division and multiplication by a non-negative constant are monotone, so a
 * sum of termwise smaller terms in the same order is never larger: the
 * bounds hold for the doubles computed, not only for the real numbers.
 */
#include "planner/hyb_fusion.h"

#include <math.h>
#include <string.h>

#define HYB_MAX_ROWS ((int32_t) 1 << 30)	/* keeps the hash's size a uint32 */
#define TOP_MARK 0x80000000u		/* in HybRow.seen, during evaluate() */
/* the open branches (of mask open) that have not returned row r */
#define UNSEEN(r) (open & ~(r)->seen & ((1u << HYB_MAX_BRANCHES) - 1))

typedef struct HybRow
{
	uint64_t	key;
	uint32_t	seen;			/* bit b: branch b returned the row */
	double		contrib[HYB_MAX_BRANCHES];	/* exact term of branch b, once seen */
} HybRow;

struct HybState
{
	HybSpec		spec;
	HybStatus	status;
	int64_t		depth[HYB_MAX_BRANCHES];
	bool		exhausted[HYB_MAX_BRANCHES];
	double		last[HYB_MAX_BRANCHES];	/* last score, larger = better */
	double		low[HYB_MAX_BRANCHES];	/* HYB_WSUM: bound, larger = better */
	double		best[HYB_MAX_BRANCHES]; /* HYB_WSUM: max(first score, low) */
	HybRow	   *rows;
	int32_t		nrows;
	int32_t		rowcap;
	uint32_t   *hash;			/* open addressing: row index + 1, 0 = empty */
	uint32_t	hashcap;		/* power of two, > 2 * nrows */
	/* the last evaluation */
	int32_t    *top;			/* row indices, best first */
	int32_t		ntop;
	int32_t		topcap;
	bool		evaluated;
	double	   *toplb;
	double	   *topub;
	bool		final;
	int			next;			/* the branch to deepen; -1 when final */
};

const char *
hyb_status_message(HybStatus status)
{
	switch (status)
	{
		case HYB_OK:
			return "ok";
		case HYB_ERR_SPEC:
			return "invalid fusion specification";
		case HYB_ERR_BRANCH:
			return "rows for a branch that does not exist or has ended";
		case HYB_ERR_ORDER:
			return "a branch returned a row that ranks better than the row before it";
		case HYB_ERR_SCORE:
			return "a branch returned a score that cannot be fused (NaN, or out of the normalisable range)";
		case HYB_ERR_DUPLICATE:
			return "a branch returned the same row twice";
		case HYB_ERR_NOMEM:
			return "out of memory";
		case HYB_ERR_LIMIT:
			return "too many rows to fuse";
	}
	return "unknown fusion status";
}

static uint64_t
hyb_hash(uint64_t x)
{
	/* splitmix64's finaliser: keys are TIDs or row IDs, far from random */
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* RRF's term: the slack of a branch at depth d is this at rank d + 1, the
 * same expression, so a later row's term never exceeds it. */
static double
rrf_term(const HybState *st, int b, int64_t rank)
{
	return st->spec.branch[b].weight / (st->spec.rrf_k + (double) rank);
}

/* HYB_WSUM's term of score v (larger = better); monotone in v. */
static double
wsum_term(const HybState *st, int b, double v)
{
	double		lo = st->low[b];

	if (!(st->best[b] > lo))
		return 0.0;				/* every score is at the bound */
	if (v < lo)
		v = lo;
	return st->spec.branch[b].weight * ((v - lo) / (st->best[b] - lo));
}

/* The most a row branch b has not returned yet can still get from it. */
static double
slack(const HybState *st, int b)
{
	if (st->exhausted[b])
		return 0.0;
	if (st->spec.method == HYB_RRF)
		return rrf_term(st, b, st->depth[b] + 1);
	if (st->depth[b] == 0)
		return st->spec.branch[b].weight;	/* normalised scores are <= 1 */
	return wsum_term(st, b, st->last[b]);
}

HybStatus
hyb_create(const HybSpec *spec, HybState **state)
{
	HybState   *st;

	*state = NULL;
	if (spec == NULL || spec->alloc == NULL || spec->free == NULL ||
		spec->nbranches < 1 || spec->nbranches > HYB_MAX_BRANCHES ||
		spec->k < 1 || spec->k > HYB_MAX_ROWS ||
		(spec->method != HYB_RRF && spec->method != HYB_WSUM))
		return HYB_ERR_SPEC;
	if (spec->method == HYB_RRF && !(isfinite(spec->rrf_k) && spec->rrf_k >= 0))
		return HYB_ERR_SPEC;
	for (int b = 0; b < spec->nbranches; b++)
	{
		const HybBranchSpec *bs = &spec->branch[b];

		if (!(isfinite(bs->weight) && bs->weight >= 0))
			return HYB_ERR_SPEC;
		if (spec->method == HYB_WSUM && !isfinite(bs->bound))
			return HYB_ERR_SPEC;
	}
	st = spec->alloc(spec->alloc_arg, sizeof(HybState));
	if (st == NULL)
		return HYB_ERR_NOMEM;
	memset(st, 0, sizeof(HybState));
	st->spec = *spec;
	for (int b = 0; b < spec->nbranches; b++)
		st->low[b] = spec->branch[b].ascending ? -spec->branch[b].bound : spec->branch[b].bound;
	*state = st;
	return HYB_OK;
}

void
hyb_destroy(HybState *st)
{
	if (st == NULL)
		return;
	if (st->rows)
		st->spec.free(st->spec.alloc_arg, st->rows);
	if (st->hash)
		st->spec.free(st->spec.alloc_arg, st->hash);
	if (st->top)
		st->spec.free(st->spec.alloc_arg, st->top);
	if (st->toplb)
		st->spec.free(st->spec.alloc_arg, st->toplb);
	if (st->topub)
		st->spec.free(st->spec.alloc_arg, st->topub);
	st->spec.free(st->spec.alloc_arg, st);
}

static HybStatus
fail(HybState *st, HybStatus s)
{
	st->status = s;
	st->final = false;
	st->ntop = 0;
	return s;
}

static HybStatus
grow(HybState *st)
{
	if (st->nrows >= HYB_MAX_ROWS)
		return HYB_ERR_LIMIT;
	if (st->nrows == st->rowcap)
	{
		int32_t		cap = st->rowcap ? st->rowcap * 2 : 64;
		HybRow	   *rows;

		if (cap > HYB_MAX_ROWS)
			cap = HYB_MAX_ROWS;
		rows = st->spec.alloc(st->spec.alloc_arg, sizeof(HybRow) * (size_t) cap);
		if (rows == NULL)
			return HYB_ERR_NOMEM;
		if (st->nrows)
			memcpy(rows, st->rows, sizeof(HybRow) * (size_t) st->nrows);
		if (st->rows)
			st->spec.free(st->spec.alloc_arg, st->rows);
		st->rows = rows;
		st->rowcap = cap;
	}
	if ((uint64_t) (st->nrows + 1) * 2 > st->hashcap)
	{
		uint32_t	cap = st->hashcap ? st->hashcap * 2 : 256;
		uint32_t   *h = st->spec.alloc(st->spec.alloc_arg, sizeof(uint32_t) * (size_t) cap);

		if (h == NULL)
			return HYB_ERR_NOMEM;
		memset(h, 0, sizeof(uint32_t) * (size_t) cap);
		for (int32_t i = 0; i < st->nrows; i++)
		{
			uint32_t	p = (uint32_t) hyb_hash(st->rows[i].key) & (cap - 1);

			while (h[p] != 0)
				p = (p + 1) & (cap - 1);
			h[p] = (uint32_t) i + 1;
		}
		if (st->hash)
			st->spec.free(st->spec.alloc_arg, st->hash);
		st->hash = h;
		st->hashcap = cap;
	}
	return HYB_OK;
}

/* The row of key, created unseen when new; NULL with *err set on failure. */
static HybRow *
lookup(HybState *st, uint64_t key, HybStatus *err)
{
	uint32_t	p;

	if (st->hashcap)
	{
		p = (uint32_t) hyb_hash(key) & (st->hashcap - 1);
		while (st->hash[p] != 0)
		{
			HybRow	   *r = &st->rows[st->hash[p] - 1];

			if (r->key == key)
				return r;
			p = (p + 1) & (st->hashcap - 1);
		}
	}
	if ((*err = grow(st)) != HYB_OK)
		return NULL;
	p = (uint32_t) hyb_hash(key) & (st->hashcap - 1);
	while (st->hash[p] != 0)
		p = (p + 1) & (st->hashcap - 1);
	st->hash[p] = (uint32_t) st->nrows + 1;
	memset(&st->rows[st->nrows], 0, sizeof(HybRow));
	st->rows[st->nrows].key = key;
	return &st->rows[st->nrows++];
}

/* a ranks before c: larger fused score, then the smaller key */
static bool
before(double sa, uint64_t ka, double sc, uint64_t kc)
{
	return sa > sc || (sa == sc && ka < kc);
}

static void
bounds(const HybState *st, const HybRow *r, const double *sl, double *lb, double *ub)
{
	double		l = 0.0,
				u = 0.0;

	for (int b = 0; b < st->spec.nbranches; b++)
	{
		if (r->seen & (1u << b))
		{
			l += r->contrib[b];
			u += r->contrib[b];
		}
		else
			u += sl[b];
	}
	*lb = l;
	*ub = u;
}

/* Heap of the k best rows by lower bound, the worst at the root. */
static void
sift_down(int32_t *h, double *hl, const HybRow *rows, int32_t n, int32_t i)
{
	for (;;)
	{
		int32_t		w = i,
					l = 2 * i + 1,
					r = l + 1;

		if (l < n && before(hl[w], rows[h[w]].key, hl[l], rows[h[l]].key))
			w = l;
		if (r < n && before(hl[w], rows[h[w]].key, hl[r], rows[h[r]].key))
			w = r;
		if (w == i)
			return;
		{
			int32_t		t = h[i];
			double		tl = hl[i];

			h[i] = h[w];
			hl[i] = hl[w];
			h[w] = t;
			hl[w] = tl;
		}
		i = w;
	}
}

/*
 * Recompute the top-k and decide finality (docs/hybrid.md, "Termination"):
 * final when every branch has ended, or when k rows are seen and
 *  (1) each top row is certainly before the next: lb_i > ub_{i+1}, or equal
 *      with the smaller key;
 *  (2) the k-th is certainly before every other seen row (the one with the
 *      largest upper bound, smallest key among equals, decides);
 *  (3) the k-th's lower bound exceeds what a row no branch has returned can
 *      get (strictly: its key is unknown);
 *  (4) with exact_scores, every top row's bounds are equal.
 */
static HybStatus
evaluate(HybState *st)
{
	int			nb = st->spec.nbranches;
	int32_t		k = st->spec.k;
	int32_t		n = 0;
	double		sl[HYB_MAX_BRANCHES];
	double		phantom = 0.0;
	bool		all_ended = true;
	bool		final = false;
	uint32_t	open = 0;
	uint32_t	block = 0;

	if (st->topcap < k && st->topcap < st->nrows)
	{
		/* k may be a large LIMIT: the arrays grow with the rows seen */
		int64_t		m = st->nrows > 2 * (int64_t) st->topcap ? st->nrows : 2 * (int64_t) st->topcap;

		if (m < 64)
			m = 64;
		if (m > k)
			m = k;
		if (st->top)
		{
			st->spec.free(st->spec.alloc_arg, st->top);
			st->spec.free(st->spec.alloc_arg, st->toplb);
			st->spec.free(st->spec.alloc_arg, st->topub);
		}
		st->top = st->spec.alloc(st->spec.alloc_arg, sizeof(int32_t) * (size_t) m);
		st->toplb = st->spec.alloc(st->spec.alloc_arg, sizeof(double) * (size_t) m);
		st->topub = st->spec.alloc(st->spec.alloc_arg, sizeof(double) * (size_t) m);
		st->topcap = (int32_t) m;
		if (!st->top || !st->toplb || !st->topub)
		{
			st->topcap = 0;		/* hyb_destroy frees what was allocated */
			return HYB_ERR_NOMEM;
		}
	}
	st->evaluated = true;
	for (int b = 0; b < nb; b++)
	{
		sl[b] = slack(st, b);
		phantom += sl[b];
		if (!st->exhausted[b])
		{
			all_ended = false;
			open |= 1u << b;
		}
	}

	/* the k best by lower bound */
	for (int32_t i = 0; i < st->nrows; i++)
	{
		double		lb,
					ub;

		bounds(st, &st->rows[i], sl, &lb, &ub);
		if (n < k)
		{
			int32_t		j = n++;

			st->top[j] = i;
			st->toplb[j] = lb;
			/* sift up */
			while (j > 0)
			{
				int32_t		p = (j - 1) / 2;

				if (!before(st->toplb[p], st->rows[st->top[p]].key, st->toplb[j], st->rows[st->top[j]].key))
					break;
				{
					int32_t		t = st->top[p];
					double		tl = st->toplb[p];

					st->top[p] = st->top[j];
					st->toplb[p] = st->toplb[j];
					st->top[j] = t;
					st->toplb[j] = tl;
				}
				j = p;
			}
		}
		else if (before(lb, st->rows[i].key, st->toplb[0], st->rows[st->top[0]].key))
		{
			st->top[0] = i;
			st->toplb[0] = lb;
			sift_down(st->top, st->toplb, st->rows, n, 0);
		}
	}
	/* heap -> best first */
	for (int32_t m = n; m > 1; m--)
	{
		int32_t		t = st->top[0];
		double		tl = st->toplb[0];

		st->top[0] = st->top[m - 1];
		st->toplb[0] = st->toplb[m - 1];
		st->top[m - 1] = t;
		st->toplb[m - 1] = tl;
		sift_down(st->top, st->toplb, st->rows, m - 1, 0);
	}
	for (int32_t j = 0; j < n; j++)
	{
		double		lb;

		bounds(st, &st->rows[st->top[j]], sl, &lb, &st->topub[j]);
	}
	st->ntop = n;

	if (all_ended)
		final = true;
	else if (n < k)
		block = open;
	else
	{
		const HybRow *kr = &st->rows[st->top[k - 1]];
		double		klb = st->toplb[k - 1];

		if (!(klb > phantom))	/* (3) */
			block |= open;
		for (int32_t j = 0; j + 1 < k; j++)	/* (1) */
			if (!before(st->toplb[j], st->rows[st->top[j]].key,
						st->topub[j + 1], st->rows[st->top[j + 1]].key))
				block |= UNSEEN(&st->rows[st->top[j]]) | UNSEEN(&st->rows[st->top[j + 1]]);
		for (int32_t j = 0; st->spec.exact_scores && j < k; j++)	/* (4) */
			if (st->toplb[j] != st->topub[j])
				block |= UNSEEN(&st->rows[st->top[j]]);
		/* (2): mark the top rows with the seen bits' spare high bit */
		for (int32_t j = 0; j < k; j++)
			st->rows[st->top[j]].seen |= TOP_MARK;
		for (int32_t i = 0; i < st->nrows; i++)
		{
			double		lb,
						ub;

			if (st->rows[i].seen & TOP_MARK)
				continue;
			bounds(st, &st->rows[i], sl, &lb, &ub);
			if (!before(klb, kr->key, ub, st->rows[i].key))
				block |= UNSEEN(&st->rows[i]) | UNSEEN(kr);
		}
		for (int32_t j = 0; j < k; j++)
			st->rows[st->top[j]].seen &= ~TOP_MARK;
		/*
		 * A failed condition involves a row some open branch has not
		 * returned (two complete rows are in lower-bound order already).
		 */
		final = block == 0;
	}

	/*
	 * Deepen one of the branches a failed condition waits for (the loosest
	 * branch overall may bound nothing that matters: the top rows may wait
	 * for a text branch to say whether they match).  RRF: the loosest of
	 * them, whose slack falls with depth as w / (rrf_k + d).  HYB_WSUM: the
	 * shallowest (then the loosest), as a normalised score says nothing
	 * about how fast the branch's tail falls: a dense branch's normalised
	 * distance stays near 1 deep down while a text branch's drops at once.
	 */
	st->next = -1;
	for (int b = 0; !final && b < nb; b++)
	{
		int			c = st->next;

		if (!(block & (1u << b)))
			continue;
		if (c < 0 ||
			(st->spec.method == HYB_WSUM && st->depth[b] < st->depth[c]) ||
			((st->spec.method == HYB_RRF || st->depth[b] == st->depth[c]) && sl[b] > sl[c]))
			st->next = b;
	}
	st->final = final;
	return HYB_OK;
}

HybStatus
hyb_add(HybState *st, int b, const uint64_t *keys, const double *scores,
		int n, bool exhausted)
{
	HybStatus	s;

	if (st->status != HYB_OK)
		return st->status;
	if (b < 0 || b >= st->spec.nbranches || n < 0 ||
		(st->exhausted[b] && n > 0))
		return fail(st, HYB_ERR_BRANCH);
	for (int i = 0; i < n; i++)
	{
		double		v = scores[i];
		double		term;
		HybRow	   *r;

		if (isnan(v))
			return fail(st, HYB_ERR_SCORE);
		if (st->spec.branch[b].ascending)
			v = -v;
		if (st->depth[b] > 0 && v > st->last[b])
			return fail(st, HYB_ERR_ORDER);
		if (st->depth[b] >= HYB_MAX_ROWS)
			return fail(st, HYB_ERR_LIMIT);
		if (st->spec.method == HYB_WSUM)
		{
			if (isinf(v) && v > 0)
				return fail(st, HYB_ERR_SCORE);
			if (st->depth[b] == 0)
			{
				st->best[b] = v > st->low[b] ? v : st->low[b];
				if (isinf(st->best[b] - st->low[b]))
					return fail(st, HYB_ERR_SCORE);
			}
			term = wsum_term(st, b, v);
		}
		else
			term = rrf_term(st, b, st->depth[b] + 1);
		r = lookup(st, keys[i], &s);
		if (r == NULL)
			return fail(st, s);
		if (r->seen & (1u << b))
			return fail(st, HYB_ERR_DUPLICATE);
		r->seen |= 1u << b;
		r->contrib[b] = term;
		st->depth[b]++;
		st->last[b] = v;
	}
	if (exhausted)
		st->exhausted[b] = true;
	if ((s = evaluate(st)) != HYB_OK)
		return fail(st, s);
	return HYB_OK;
}

bool
hyb_final(const HybState *st)
{
	if (st->status != HYB_OK)
		return false;
	if (!st->evaluated)
	{
		/* nothing added yet: final only if there is nothing to add */
		for (int b = 0; b < st->spec.nbranches; b++)
			if (!st->exhausted[b])
				return false;
		return true;
	}
	return st->final;
}

int
hyb_next_branch(const HybState *st)
{
	int			best = -1;

	if (st->status != HYB_OK || hyb_final(st))
		return -1;
	if (st->evaluated)
		return st->next;
	/* before the first batch: the loosest branch */
	for (int b = 0; b < st->spec.nbranches; b++)
		if (!st->exhausted[b] && (best < 0 || slack(st, b) > slack(st, best)))
			best = b;
	return best;
}

int
hyb_topk(const HybState *st, HybResult *out)
{
	if (st->status != HYB_OK)
		return 0;
	for (int32_t j = 0; j < st->ntop; j++)
	{
		out[j].key = st->rows[st->top[j]].key;
		out[j].score = st->toplb[j];
		out[j].upper = st->topub[j];
	}
	return st->ntop;
}

int64_t
hyb_depth(const HybState *st, int b)
{
	return (b >= 0 && b < st->spec.nbranches) ? st->depth[b] : 0;
}

bool
hyb_exhausted(const HybState *st, int b)
{
	return (b >= 0 && b < st->spec.nbranches) ? st->exhausted[b] : false;
}

int64_t
hyb_rows_seen(const HybState *st)
{
	return st->nrows;
}

HybStatus
hyb_status(const HybState *st)
{
	return st->status;
}
