/*
 * synth — a reproducible synthetic vector set for the vlake benchmarks.
 *
 *   synth base N DIM SEED      COPY text "id\t[x,...]" of N vectors
 *   synth query NQ DIM SEED    COPY text of NQ query vectors (ids 1..NQ)
 *   synth truth N NQ DIM SEED K  exact top-K of each query, "qid\t{id,...}"
 *
 * Vectors: 1,000 Gaussian clusters (centres N(0, 1) per coordinate, spread
 * 0.35), drawn with splitmix64 + Box-Muller from SEED; queries from the same
 * clusters with another stream.  The truth is computed here, in double
 * precision, independently of vlake and PostgreSQL.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLUSTERS 1000

static uint64_t
next(uint64_t *s)
{
	uint64_t	z = (*s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static double
gauss(uint64_t *s)
{
	double		u1 = ((next(s) >> 11) + 1.0) / 9007199254740993.0;
	double		u2 = (next(s) >> 11) / 9007199254740992.0;

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static float *
centres(int dim, uint64_t seed)
{
	uint64_t	s = seed;
	float	   *c = malloc(sizeof(float) * CLUSTERS * dim);

	for (int i = 0; i < CLUSTERS * dim; i++)
		c[i] = (float) gauss(&s);
	return c;
}

/* vector i of a stream (stream 1 = base, 2 = queries) */
static void
vec(const float *c, int dim, uint64_t seed, int stream, long i, float *out)
{
	uint64_t	s = seed * 1000003 + (uint64_t) stream * UINT64_C(0x1234567) + (uint64_t) i * 7919;
	int			k = (int) (next(&s) % CLUSTERS);

	for (int j = 0; j < dim; j++)
		out[j] = c[k * dim + j] + (float) (gauss(&s) * 0.35);
}

static void
print_vecs(long n, int dim, uint64_t seed, int stream)
{
	float	   *c = centres(dim, seed);
	float	   *v = malloc(sizeof(float) * dim);

	for (long i = 0; i < n; i++)
	{
		vec(c, dim, seed, stream, i, v);
		printf("%ld\t[", i + 1);
		for (int j = 0; j < dim; j++)
			printf(j ? ",%.6g" : "%.6g", v[j]);
		printf("]\n");
	}
	free(v);
	free(c);
}

typedef struct
{
	double		d;
	long		id;
} DI;

static void
truth(long n, int nq, int dim, uint64_t seed, int k)
{
	float	   *c = centres(dim, seed);
	float	   *base = malloc(sizeof(float) * (size_t) n * dim);
	float	   *q = malloc(sizeof(float) * dim);
	DI		   *best = malloc(sizeof(DI) * (k + 1));

	for (long i = 0; i < n; i++)
		vec(c, dim, seed, 1, i, base + (size_t) i * dim);
	for (int qi = 0; qi < nq; qi++)
	{
		int			nb = 0;

		vec(c, dim, seed, 2, qi, q);
		for (long i = 0; i < n; i++)
		{
			double		d = 0;
			int			p;

			for (int j = 0; j < dim; j++)
			{
				double		t = (double) q[j] - base[(size_t) i * dim + j];

				d += t * t;
			}
			if (nb == k && d >= best[k - 1].d)
				continue;
			p = nb < k ? nb++ : k - 1;
			while (p > 0 && best[p - 1].d > d)
			{
				best[p] = best[p - 1];
				p--;
			}
			best[p].d = d;
			best[p].id = i + 1;
		}
		printf("%d\t{", qi + 1);
		for (int t = 0; t < nb; t++)
			printf(t ? ",%ld" : "%ld", best[t].id);
		/* the k-th distance (as the SQL operator reports it): ties count */
		printf("}\t%.9g\n", sqrt(best[nb - 1].d));
	}
	free(base);
	free(q);
	free(best);
	free(c);
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "base") == 0)
		print_vecs(atol(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10), 1);
	else if (argc == 5 && strcmp(argv[1], "query") == 0)
		print_vecs(atol(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10), 2);
	else if (argc == 7 && strcmp(argv[1], "truth") == 0)
		truth(atol(argv[2]), atoi(argv[3]), atoi(argv[4]), strtoull(argv[5], NULL, 10), atoi(argv[6]));
	else
	{
		fprintf(stderr, "usage: synth base N DIM SEED | query NQ DIM SEED | truth N NQ DIM SEED K\n");
		return 2;
	}
	return 0;
}
