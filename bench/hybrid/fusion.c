/*
 * bench_hyb_fusion — CPU cost of the fusion core (src/planner/hyb_fusion.c)
 * per fused query, and how deep it pulls, against fusing the complete
 * rankings (docs/hybrid.md).  `make bench-hybrid-fusion`.
 *
 * Rankings as in unit_hyb_fusion's typical cases: a heavy-tailed relevance
 * per row; branch 0 a cosine distance over all rows (bound 2), the others
 * BM25-like scores over the best quarter (bound 0); "independent": scores
 * unrelated across branches (the worst case).  Batches double from 8, as
 * the scan will pull them.  The complete fusion is timed on arrays indexed
 * by row (no hashing), a lower bound for any unlimited-branch plan's CPU.
 * Times: median of 15 runs, CPU time of this process.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner/hyb_fusion.h"

static uint64_t
rnd(uint64_t *s)
{
	uint64_t	z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double
gauss(uint64_t *s)
{
	double		u1 = ((rnd(s) >> 11) + 1.0) / 9007199254740993.0;
	double		u2 = (rnd(s) >> 11) / 9007199254740992.0;

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static void *
b_alloc(void *arg, size_t n)
{
	return malloc(n);
}

static void
b_free(void *arg, void *p)
{
	free(p);
}

typedef struct Sc
{
	uint64_t	key;
	double		s;
} Sc;

static int
cmp_sc(const void *a, const void *b)
{
	const Sc   *x = a,
			   *y = b;

	if (x->s != y->s)
		return x->s > y->s ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
cmp_d(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

#define RUNS 15

static void
one(int n, int nb, int k, HybMethod method, bool independent)
{
	uint64_t	s = 42 + n + nb * 7 + k * 13 + method * 101 + independent * 1001;
	double	   *rel = malloc(sizeof(double) * n);
	uint64_t   *keys[HYB_MAX_BRANCHES];
	double	   *scores[HYB_MAX_BRANCHES];
	int			len[HYB_MAX_BRANCHES];
	HybSpec		spec = {0};
	double		t_core[RUNS],
				t_full[RUNS];
	int64_t		pulled = 0,
				total = 0;
	Sc		   *tmp = malloc(sizeof(Sc) * n);
	double	   *acc = malloc(sizeof(double) * n);

	for (int i = 0; i < n; i++)
		rel[i] = exp(1.5 * gauss(&s));
	spec.method = method;
	spec.nbranches = nb;
	spec.k = k;
	spec.rrf_k = HYB_RRF_K_DEFAULT;
	spec.alloc = b_alloc;
	spec.free = b_free;
	for (int b = 0; b < nb; b++)
	{
		spec.branch[b].weight = 1;
		spec.branch[b].ascending = b == 0;
		spec.branch[b].bound = b == 0 ? 2.0 : 0.0;
		for (int i = 0; i < n; i++)
		{
			tmp[i].key = (uint64_t) i;
			tmp[i].s = independent ? exp(1.5 * gauss(&s)) : rel[i] * exp(0.3 * gauss(&s));
		}
		qsort(tmp, n, sizeof(Sc), cmp_sc);
		len[b] = b == 0 ? n : n / 4;
		keys[b] = malloc(sizeof(uint64_t) * n);
		scores[b] = malloc(sizeof(double) * n);
		for (int i = 0; i < len[b]; i++)
		{
			keys[b][i] = tmp[i].key;
			scores[b][i] = b == 0 ? 2.0 / (1.0 + tmp[i].s) : tmp[i].s;
		}
		total += len[b];
	}

	for (int run = 0; run < RUNS; run++)
	{
		HybState   *st;
		int			cur[HYB_MAX_BRANCHES] = {0},
					batch[HYB_MAX_BRANCHES];
		double		t0 = now();
		int			b;

		for (b = 0; b < nb; b++)
			batch[b] = 8;
		hyb_create(&spec, &st);
		while ((b = hyb_next_branch(st)) >= 0)
		{
			int			m = batch[b];

			if (m > len[b] - cur[b])
				m = len[b] - cur[b];
			hyb_add(st, b, keys[b] + cur[b], scores[b] + cur[b], m, cur[b] + m == len[b]);
			cur[b] += m;
			batch[b] *= 2;
		}
		t_core[run] = now() - t0;
		pulled = 0;
		for (b = 0; b < nb; b++)
			pulled += cur[b];
		hyb_destroy(st);

		/* complete fusion: every row of every ranking, then the top k */
		t0 = now();
		memset(acc, 0, sizeof(double) * n);
		for (b = 0; b < nb; b++)
		{
			double		lo = b == 0 ? -2.0 : 0.0;
			double		best = b == 0 ? -scores[b][0] : scores[b][0];

			for (int i = 0; i < len[b]; i++)
			{
				double		v = b == 0 ? -scores[b][i] : scores[b][i];

				acc[keys[b][i]] += method == HYB_RRF ? 1.0 / (60.0 + i + 1) : (v - lo) / (best - lo);
			}
		}
		for (int i = 0; i < n; i++)
		{
			tmp[i].key = (uint64_t) i;
			tmp[i].s = acc[i];
		}
		qsort(tmp, n, sizeof(Sc), cmp_sc);
		t_full[run] = now() - t0;
	}
	qsort(t_core, RUNS, sizeof(double), cmp_d);
	qsort(t_full, RUNS, sizeof(double), cmp_d);
	printf("| %s | %s | %d | %d | %d | %lld / %lld (%.2f%%) | %.1f | %.1f |\n",
		   method == HYB_RRF ? "RRF" : "weighted sum", independent ? "independent" : "correlated",
		   n, nb, k, (long long) pulled, (long long) total, 100.0 * pulled / total,
		   t_core[RUNS / 2] * 1e6, t_full[RUNS / 2] * 1e6);
	for (int b = 0; b < nb; b++)
	{
		free(keys[b]);
		free(scores[b]);
	}
	free(rel);
	free(tmp);
	free(acc);
}

int
main(void)
{
	printf("| fusion | rankings | rows | branches | k | rows pulled | core µs | complete fusion µs |\n");
	printf("|---|---|---:|---:|---:|---|---:|---:|\n");
	for (int m = 0; m < 2; m++)
		for (int ind = 0; ind < 2; ind++)
			for (int nb = 2; nb <= 3; nb++)
				for (int k = 10; k <= 100; k *= 10)
					one(100000, nb, k, (HybMethod) m, ind);
	return 0;
}
