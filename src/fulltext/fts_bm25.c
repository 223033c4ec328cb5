/*
 * fts_bm25.c — BM25 scoring and block-max WAND top-k (fts_bm25.h).
 *
 * Why the search is exact.  Documents are visited in increasing id order
 * and the heap keeps the k best so far, ordered by (score desc, doc asc);
 * theta is the k-th best score once k documents are held.  A document
 * visited later has a larger id than every held one, so it can only enter
 * with a score strictly above theta: skipping a document whose score is
 * bounded by theta or less loses nothing.  Two bounds skip documents:
 *
 *  1. the pivot (WAND): with the cursors sorted by current doc, the pivot
 *     is the first cursor where the running sum of the terms' max bounds
 *     exceeds theta.  A document before the pivot's doc d can only hold
 *     terms of the cursors before the pivot, whose bounds sum to <= theta.
 *  2. the blocks (block-max): for the cursors up to the pivot (and those
 *     tied with it at d), the blocks holding d, or following it, bound
 *     every document in [d, e), e = the smallest block end + 1 and at most
 *     the next cursor's doc (that cursor holds nothing below its doc).  If
 *     those block bounds sum to <= theta, the whole run is skipped and the
 *     cursors move to e without decoding what lies between.
 *
 * Rounding: a computed contribution never exceeds the computed bound of its
 * block (each step of the formula is monotone in f and in dl, and IEEE
 * rounding is monotone), but sums taken in different orders can differ in
 * the last bits, so bound sums are compared with a relative slack of 1e-9:
 * that can only make the search score a document it could have skipped.
 * Scores are summed in query-term order, so a document's score does not
 * depend on the order the cursors happened to be in.
 */
#include <math.h>
#include <string.h>

#include "fulltext/fts_bm25.h"

#define BOUND_SLACK (1.0 + 1e-9)

double
fts_bm25_idf(const FtsBm25 *p, double df)
{
	double		x = (p->ndocs - df + 0.5) / (df + 0.5);

	if (p->idf == FTS_IDF_LUCENE)
		return log(1.0 + x);
	x = log(x);
	return x <= 0.0 ? 1e-6 : x;
}

double
fts_bm25_term(const FtsBm25 *p, double idf, double f, double dl)
{
	if (p->impact)
		return (double) (float) (idf * f);
	return idf * (f * (p->k1 + 1.0)) / (f + p->k1 * (1.0 - p->b + p->b * dl / p->avgdl));
}

double
fts_bm25_bound(const FtsBm25 *p, double idf, double max_f, double min_dl)
{
	if (p->impact)
		return idf * max_f * FTS_IMPACT_SLACK;
	return fts_bm25_term(p, idf, max_f, min_dl);
}

/* ---------------------------------------------------------------- heap -- */

/* Is a better than b: higher score, or the same score and a lower doc. */
static inline bool
better(const FtsHit *a, const FtsHit *b)
{
	return a->score > b->score || (a->score == b->score && a->doc < b->doc);
}

/* Min-heap of the k best: the root is the worst held. */
static void
heap_sift_down(FtsHit *h, int n, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					w = i;
		FtsHit		t;

		if (l < n && better(&h[w], &h[l]))
			w = l;
		if (r < n && better(&h[w], &h[r]))
			w = r;
		if (w == i)
			return;
		t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

static void
heap_push(FtsHit *h, int *n, int k, FtsHit x)
{
	int			i;

	if (*n == k)
	{
		if (!better(&x, &h[0]))
			return;
		h[0] = x;
		heap_sift_down(h, k, 0);
		return;
	}
	i = (*n)++;
	h[i] = x;
	while (i > 0 && better(&h[(i - 1) / 2], &h[i]))
	{
		FtsHit		t = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* -------------------------------------------------------------- cursors -- */

typedef struct TopkState
{
	FtsCursor **terms;
	int		   *order;			/* active cursors, by current doc */
	int			nact;
	FtsTopkStats *stats;
} TopkState;

/* Move cursor order[j] to target; false (and dropped later) at its end. */
static bool
advance(TopkState *s, int j, uint64_t target)
{
	FtsCursor  *c = s->terms[s->order[j]];

	s->stats->seeks++;
	return c->next(c, target);
}

/* Drop ended cursors (ended[j]) and sort the rest by doc (insertion sort:
 * few terms, mostly sorted). */
static void
resort(TopkState *s, const bool *ended)
{
	int			n = 0;

	for (int j = 0; j < s->nact; j++)
		if (!ended[j])
			s->order[n++] = s->order[j];
	s->nact = n;
	for (int j = 1; j < n; j++)
	{
		int			x = s->order[j];
		uint64_t	d = s->terms[x]->doc;
		int			i = j - 1;

		while (i >= 0 && s->terms[s->order[i]]->doc > d)
		{
			s->order[i + 1] = s->order[i];
			i--;
		}
		s->order[i + 1] = x;
	}
}

size_t
fts_topk_scratch(int nterms, int k)
{
	return sizeof(FtsHit) * (size_t) (k > 0 ? k : 1) +
		sizeof(double) * (size_t) (nterms + 1) +
		sizeof(int) * (size_t) (nterms + 1) +
		sizeof(bool) * (size_t) (nterms + 1) + 16;
}

int
fts_topk(const FtsBm25 *p, FtsCursor **terms, int nterms, int k, FtsDocLen doclen,
		 void *doclen_arg, void *scratch, FtsHit *out, FtsTopkStats *stats)
{
	return fts_topk_filtered(p, terms, nterms, k, doclen, doclen_arg, NULL, NULL, 0,
							 scratch, out, stats);
}

int
fts_topk_filtered(const FtsBm25 *p, FtsCursor **terms, int nterms, int k,
				  FtsDocLen doclen, void *doclen_arg, FtsTopkFilter filter,
				  void *filter_arg, uint64_t required, void *scratch, FtsHit *out,
				  FtsTopkStats *stats)
{
	FtsHit	   *heap = scratch;
	double	   *contrib = (double *) (heap + (k > 0 ? k : 1));
	int		   *order = (int *) (contrib + nterms + 1);
	bool	   *ended = (bool *) (order + nterms + 1);
	TopkState	s;
	FtsTopkStats dummy;
	int			nheap = 0;

	if (stats == NULL)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (k <= 0 || nterms <= 0 || nterms > FTS_MAX_TERMS)
		return 0;
	s.terms = terms;
	s.order = order;
	s.nact = 0;
	s.stats = stats;
	for (int i = 0; i < nterms; i++)
	{
		order[s.nact] = i;
		ended[s.nact] = !advance(&s, s.nact, 0);
		s.nact++;
		contrib[i] = 0.0;
	}
	resort(&s, ended);

	while (s.nact > 0)
	{
		double		theta = nheap == k ? heap[0].score : -INFINITY;
		double		acc = 0.0;
		int			piv = -1;
		uint64_t	d;
		uint64_t	scored;

		if (required != 0)
		{
			/* no document before the furthest required cursor's can match */
			uint64_t	m = 0,
						seen = 0;
			bool		moved = false;

			for (int j = 0; j < s.nact; j++)
				if ((required >> order[j]) & 1)
				{
					seen |= UINT64_C(1) << order[j];
					if (terms[order[j]]->doc > m)
						m = terms[order[j]]->doc;
				}
			if (seen != required)
				break;			/* a required cursor ended: no match left */
			memset(ended, 0, sizeof(bool) * s.nact);
			for (int j = 0; j < s.nact; j++)
				if (terms[order[j]]->doc < m)
				{
					ended[j] = !advance(&s, j, m);
					moved = true;
				}
			if (moved)
			{
				resort(&s, ended);
				continue;
			}
		}

		/* 1. the pivot: the first cursor where the bounds can beat theta */
		for (int j = 0; j < s.nact; j++)
		{
			FtsCursor  *c = terms[order[j]];

			acc += c->max_bound * c->weight;
			if (nheap < k || acc * BOUND_SLACK > theta)
			{
				piv = j;
				break;
			}
		}
		if (piv < 0)
			break;				/* no document left can beat theta */
		d = terms[order[piv]]->doc;
		while (piv + 1 < s.nact && terms[order[piv + 1]]->doc == d)
			piv++;
		stats->pivots++;
		memset(ended, 0, sizeof(bool) * s.nact);

		/* 2. the blocks: can anything in [d, e) beat theta? */
		if (nheap == k)
		{
			double		bsum = 0.0;
			uint64_t	e = piv + 1 < s.nact ? terms[order[piv + 1]]->doc : UINT64_MAX;

			for (int j = 0; j <= piv; j++)
			{
				FtsCursor  *c = terms[order[j]];
				uint64_t	last;
				double		bound;

				if (!c->shallow(c, d, &last, &bound))
					continue;	/* nothing at or after d: contributes 0 */
				if (last < d)
				{
					/* not the block the contract asks for: no skip by it */
					last = UINT64_MAX - 1;
					bound = c->max_bound;
				}
				bsum += bound * c->weight;
				if (last < e - 1)
					e = last + 1;
			}
			if (bsum * BOUND_SLACK <= theta)
			{
				/* e > d: every block end is >= d, the next cursor is past d */
				stats->block_skips++;
				for (int j = 0; j <= piv; j++)
					ended[j] = !advance(&s, j, e);
				resort(&s, ended);
				continue;
			}
		}

		scored = ~UINT64_C(0);
		if (terms[order[0]]->doc == d && filter != NULL)
		{
			uint64_t	present = 0;

			for (int j = 0; j <= piv; j++)
				present |= UINT64_C(1) << order[j];
			scored = present;
			if (!filter(filter_arg, d, present, &scored))
			{
				for (int j = 0; j <= piv; j++)
					ended[j] = !advance(&s, j, d + 1);
				resort(&s, ended);
				continue;
			}
		}
		if (terms[order[0]]->doc == d)
		{
			/* every cursor up to the pivot is at d: score d */
			double		dl = doclen(doclen_arg, d);
			double		score = 0.0;
			FtsHit		hit;

			for (int j = 0; j <= piv; j++)
			{
				FtsCursor  *c = terms[order[j]];

				if ((scored >> order[j]) & 1)
					contrib[order[j]] = c->weight * fts_bm25_term(p, c->idf, c->f, dl);
			}
			for (int i = 0; i < nterms; i++)
			{
				score += contrib[i];
				if (p->impact)
					score = (double) (float) score; /* binary32, as sparsevec's <#> */
				contrib[i] = 0.0;
			}
			hit.doc = d;
			hit.score = score;
			heap_push(heap, &nheap, k, hit);
			stats->scored++;
			for (int j = 0; j <= piv; j++)
				ended[j] = !advance(&s, j, d + 1);
		}
		else
		{
			/* the cursors before the pivot's doc join it at d */
			for (int j = 0; j <= piv; j++)
				if (terms[order[j]]->doc < d)
					ended[j] = !advance(&s, j, d);
		}
		resort(&s, ended);
	}

	/* the heap, best first */
	for (int n = nheap; n > 0; n--)
	{
		out[n - 1] = heap[0];
		heap[0] = heap[n - 1];
		heap_sift_down(heap, n - 1, 0);
	}
	return nheap;
}
