/*
 * bench_kernels — nanoseconds per distance for each kernel level.
 *
 * `make bench-kernels`.  For 128, 768 and 1536 dimensions, float32 and
 * binary16 inputs, squared L2 / inner product / L1 / one-pass cosine
 * (a.b, a.a, b.b), and every level this
 * CPU runs, it times one query against a pool of vectors for about 0.1 s
 * per cell, best of 9 runs of 11 ms of this thread's CPU time (the clock
 * is read every 2048 calls).  Thread CPU time and the minimum over short
 * runs keep the figures usable on a shared, busy machine: time spent
 * descheduled is not counted (cache and sibling-hyperthread interference
 * still is).  Two tables: a pool of 4 vectors (L1-resident:
 * arithmetic throughput) and of 64 (L2-resident at 768+ dimensions: what a
 * re-rank over cached candidates sees).  Prints Markdown (docs/vector.md).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vector/distance.h"
#include "vector/half.h"

/* vectors compared against the query per sweep: 4 stays in L1, 64 in L2 */
static int	POOL = 4;

static volatile float sink;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ULL;

static float
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float) ((double) (rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

typedef struct
{
	int			dim;
	float	   *f;				/* (POOL + 1) * dim; vector 0 is the query */
	uint16_t   *h;
} Data;

static double
time_f32(vec_f32_kernel k, const Data *d)
{
	double		best = 1e300;

	for (int rep = 0; rep < 9; rep++)
	{
		long		calls = 0;
		double		t0 = now_ns(),
					t1;
		float		acc = 0;

		do
		{
			for (int r = 0; r < 2048 / POOL; r++)
				for (int j = 1; j <= POOL; j++)
					acc += k(d->f, d->f + (size_t) j * d->dim, d->dim);
			calls += 2048 / POOL * POOL;
			t1 = now_ns();
		} while (t1 - t0 < 1.1e7);
		sink = acc;
		if ((t1 - t0) / calls < best)
			best = (t1 - t0) / calls;
	}
	return best;
}

static double
time_f16(vec_f16_kernel k, const Data *d)
{
	double		best = 1e300;

	for (int rep = 0; rep < 9; rep++)
	{
		long		calls = 0;
		double		t0 = now_ns(),
					t1;
		float		acc = 0;

		do
		{
			for (int r = 0; r < 2048 / POOL; r++)
				for (int j = 1; j <= POOL; j++)
					acc += k(d->h, d->h + (size_t) j * d->dim, d->dim);
			calls += 2048 / POOL * POOL;
			t1 = now_ns();
		} while (t1 - t0 < 1.1e7);
		sink = acc;
		if ((t1 - t0) / calls < best)
			best = (t1 - t0) / calls;
	}
	return best;
}

/* the one-pass cosine kernel (a.b, a.a, b.b) */
static double
time_cos(const VecKernelSet *ks, bool f16, const Data *d)
{
	double		best = 1e300;

	for (int rep = 0; rep < 9; rep++)
	{
		long		calls = 0;
		double		t0 = now_ns(),
					t1;
		float		acc = 0;
		float		parts[3];

		do
		{
			for (int r = 0; r < 2048 / POOL; r++)
				for (int j = 1; j <= POOL; j++)
				{
					if (f16)
						ks->cos_f16(d->h, d->h + (size_t) j * d->dim, d->dim, parts);
					else
						ks->cos_f32(d->f, d->f + (size_t) j * d->dim, d->dim, parts);
					acc += parts[0];
				}
			calls += 2048 / POOL * POOL;
			t1 = now_ns();
		} while (t1 - t0 < 1.1e7);
		sink = acc;
		if ((t1 - t0) / calls < best)
			best = (t1 - t0) / calls;
	}
	return best;
}

static void
print_table(const VecKernelSet *const *sets, int nsets)
{
	static const int dims[] = {128, 768, 1536};
	static const char *const names[4] = {"l2sq", "dot", "l1", "cosine"};

	printf("| dims | kernel | input |");
	for (int s = 0; s < nsets; s++)
		printf(" %s ns |", sets[s]->name);
	printf(" best speed-up |\n|---:|---|---|");
	for (int s = 0; s < nsets; s++)
		printf("---:|");
	printf("---:|\n");

	for (size_t di = 0; di < sizeof(dims) / sizeof(dims[0]); di++)
	{
		Data		d;
		size_t		n = (size_t) (POOL + 1) * dims[di];

		d.dim = dims[di];
		d.f = malloc(sizeof(float) * n);
		d.h = malloc(sizeof(uint16_t) * n);
		for (size_t i = 0; i < n; i++)
		{
			d.f[i] = rnd();
			vec_float_to_half(d.f[i], &d.h[i]);
		}
		for (int f16 = 0; f16 <= 1; f16++)
			for (int k = 0; k < 4; k++)
			{
				double		scalar = 0,
							best = 1e300;

				printf("| %d | %s | %s |", d.dim, names[k], f16 ? "f16" : "f32");
				for (int s = 0; s < nsets; s++)
				{
					const VecKernelSet *ks = sets[s];
					vec_f32_kernel kf[3] = {ks->l2sq_f32, ks->dot_f32, ks->l1_f32};
					vec_f16_kernel kh[3] = {ks->l2sq_f16, ks->dot_f16, ks->l1_f16};
					double		ns = k == 3 ? time_cos(ks, f16, &d) :
						f16 ? time_f16(kh[k], &d) : time_f32(kf[k], &d);

					if (s == 0)
						scalar = ns;
					if (ns < best)
						best = ns;
					printf(" %.1f |", ns);
					fflush(stdout);
				}
				printf(" %.1fx |\n", scalar / best);
			}
		free(d.f);
		free(d.h);
	}
}

int
main(void)
{
	static const char *const levels[] = {"scalar", "avx2", "avx512", "neon"};
	const VecKernelSet *sets[4];
	int			nsets = 0;

	for (int i = 0; i < 4; i++)
		if ((sets[nsets] = distance_kernel_set(levels[i])) != NULL)
			nsets++;

	printf("dispatcher default: %s\n", distance_init());
	for (int pass = 0; pass < 2; pass++)
	{
		POOL = pass == 0 ? 4 : 64;
		printf("\npool of %d vectors (%s)\n\n", POOL, pass == 0 ? "L1-resident" : "L2-resident");
		print_table(sets, nsets);
	}
	return 0;
}
