/*
 * fuzz_hyb_fusion.c — libFuzzer harness for the fusion core of hybrid
 * retrieval (src/planner/hyb_fusion.c, docs/hybrid.md).
 *
 * The input is a fusion spec and a stream of batches for arbitrary branch
 * numbers, with arbitrary keys (duplicates included) and scores (out of
 * order, NaN, infinities), and an allocator that may fail.  An error
 * status is a normal outcome.  A failure is a crash, a sanitizer report, a
 * leak, or a broken promise of a run without errors:
 *   - once hyb_final() said so, the top-k is that of fusing the rows fed
 *     until the end, whatever came after (the oracle below, brute force);
 *   - when every branch has ended the state is final, with exactly
 *     min(k, distinct rows) rows;
 *   - hyb_next_branch() names an open branch unless final.
 *
 * Build: make build/bin/fuzz_hyb_fusion (clang -fsanitize=fuzzer,address).
 * Run:   build/bin/unit_fuzz_hyb_fusion (bounded time).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/hyb_fusion.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXROWS 4096

typedef struct Fed
{
	int			n;
	uint64_t	keys[MAXROWS];
	double		scores[MAXROWS];
} Fed;

static Fed	fed[HYB_MAX_BRANCHES];
static int	allocs_left;

static void *
f_alloc(void *arg, size_t n)
{
	if (allocs_left == 0)
		return NULL;
	if (allocs_left > 0)
		allocs_left--;
	return malloc(n);
}

static void
f_free(void *arg, void *p)
{
	free(p);
}

typedef struct Scored
{
	uint64_t	key;
	double		score;
} Scored;

static int
cmp_scored(const void *a, const void *b)
{
	const Scored *x = a,
			   *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* Brute-force fusion of the rows fed, per docs/hybrid.md. */
static int
oracle(const HybSpec *sp, Scored *out)
{
	int			n = 0;

	for (int a = 0; a < sp->nbranches; a++)
		for (int i = 0; i < fed[a].n; i++)
		{
			uint64_t	key = fed[a].keys[i];
			bool		dup = false;
			double		s = 0.0;

			for (int j = 0; j < n && !dup; j++)
				dup = out[j].key == key;
			if (dup)
				continue;
			for (int b = 0; b < sp->nbranches; b++)
			{
				const HybBranchSpec *bs = &sp->branch[b];
				double		term = 0.0;

				for (int p = 0; p < fed[b].n; p++)
				{
					if (fed[b].keys[p] != key)
						continue;
					if (sp->method == HYB_RRF)
						term = bs->weight / (sp->rrf_k + (double) (p + 1));
					else
					{
						double		sign = bs->ascending ? -1.0 : 1.0;
						double		lo = sign * bs->bound;
						double		top = fmax(sign * fed[b].scores[0], lo);
						double		v = fmax(sign * fed[b].scores[p], lo);

						term = top > lo ? bs->weight * ((v - lo) / (top - lo)) : 0.0;
					}
				}
				s += term;
			}
			out[n].key = key;
			out[n].score = s;
			n++;
		}
	qsort(out, n, sizeof(Scored), cmp_scored);
	return n;
}

static double
score_of(uint8_t v)
{
	switch (v)
	{
		case 0x7f:
			return NAN;
		case 0x7e:
			return INFINITY;
		case 0x80:
			return -INFINITY;
		default:
			return (int8_t) v / 4.0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static HybResult first[64 + 1],
				now[64 + 1];
	static Scored want[HYB_MAX_BRANCHES * MAXROWS];
	static uint64_t keys[256];
	static double scores[256];
	HybSpec		sp = {0};
	HybState   *st = NULL;
	size_t		p = 0;
	int			nfirst = -1;
	bool		broken = false;

	if (size < 4 + 3 * HYB_MAX_BRANCHES)
		return 0;
	sp.method = data[0] & 1;
	sp.exact_scores = (data[0] >> 1) & 1;
	sp.nbranches = (data[0] >> 2) % 10;	/* 0 and 9: invalid */
	sp.k = data[1] % 66;		/* 0 and 65: invalid / larger than MAXK */
	if (sp.k > 64)
		sp.k = 64;
	sp.rrf_k = data[2] == 255 ? -1.0 : data[2] / 4.0;
	allocs_left = data[3] < 16 ? data[3] : -1;
	p = 4;
	for (int b = 0; b < HYB_MAX_BRANCHES; b++, p += 3)
	{
		sp.branch[b].weight = data[p] == 255 ? NAN : data[p] / 32.0;
		sp.branch[b].ascending = data[p + 1] & 1;
		sp.branch[b].bound = score_of(data[p + 2]);
	}
	sp.alloc = f_alloc;
	sp.free = f_free;
	memset(fed, 0, sizeof(fed));
	if (hyb_create(&sp, &st) != HYB_OK)
		return 0;

	while (p + 2 <= size)
	{
		int			b = data[p] % (HYB_MAX_BRANCHES + 1);
		int			n = data[p + 1] & 0x3f;
		bool		end = data[p + 1] & 0x40;
		bool		sorted = data[p + 1] & 0x80;
		HybStatus	rc;

		p += 2;
		if (p + 2 * (size_t) n > size)
			n = (int) ((size - p) / 2);
		for (int i = 0; i < n; i++, p += 2)
		{
			keys[i] = data[p] & 0x3f;
			/* sorted: a valid continuation; else raw scores */
			scores[i] = sorted ? -(double) (data[p + 1] + 256 * (p + 2)) : score_of(data[p + 1]);
			if (sorted && b < sp.nbranches && sp.branch[b].ascending)
				scores[i] = -scores[i];
		}
		rc = hyb_add(st, b, keys, scores, n, end);
		if (rc != HYB_OK)
		{
			if (hyb_add(st, 0, keys, scores, 0, false) != rc || hyb_final(st) ||
				hyb_next_branch(st) != -1 || hyb_topk(st, now) != 0)
				abort();		/* errors are sticky */
			broken = true;
			break;
		}
		for (int i = 0; i < n && fed[b].n < MAXROWS; i++)
		{
			fed[b].keys[fed[b].n] = keys[i];
			fed[b].scores[fed[b].n++] = scores[i];
		}
		if (hyb_final(st))
		{
			if (nfirst < 0)
				nfirst = hyb_topk(st, first);
			if (hyb_next_branch(st) != -1)
				abort();
		}
		else
		{
			int			nb = hyb_next_branch(st);

			if (nb < 0 || nb >= sp.nbranches || hyb_exhausted(st, nb))
				abort();
		}
		if (fed[b].n >= MAXROWS)
			break;
	}

	if (!broken && hyb_status(st) == HYB_OK)
	{
		int			nw;
		int			ng;

		/* end every branch: final by definition */
		for (int b = 0; b < sp.nbranches && hyb_status(st) == HYB_OK; b++)
			if (!hyb_exhausted(st, b))
				hyb_add(st, b, NULL, NULL, 0, true);
		if (hyb_status(st) == HYB_OK)
		{
			nw = oracle(&sp, want);
			ng = hyb_topk(st, now);
			if (!hyb_final(st) || ng != (nw < sp.k ? nw : sp.k))
				abort();
			for (int i = 0; i < ng; i++)
				if (now[i].key != want[i].key || now[i].score != want[i].score ||
					now[i].upper != want[i].score)
				{
					fprintf(stderr, "row %d: %llu %.17g, want %llu %.17g\n", i,
							(unsigned long long) now[i].key, now[i].score,
							(unsigned long long) want[i].key, want[i].score);
					abort();
				}
			/* what was final before stays the answer */
			if (nfirst >= 0)
			{
				if (nfirst != ng)
					abort();
				for (int i = 0; i < ng; i++)
					if (first[i].key != now[i].key ||
						!(first[i].score <= now[i].score && now[i].score <= first[i].upper) ||
						(sp.exact_scores && first[i].score != now[i].score))
					{
						fprintf(stderr, "final top-k changed at row %d\n", i);
						abort();
					}
			}
		}
	}
	hyb_destroy(st);
	return 0;
}
