/*
 * embgen — a reproducible synthetic set of high-dimensional, unit-length
 * "embeddings" for the vlake benchmarks (bench/ann/halfvec3072.sh).
 *
 *   embgen base N DIM SEED         COPY text "id\t[x,...]" of N vectors
 *   embgen query NQ DIM SEED       COPY text of NQ query vectors (ids 1..NQ)
 *   embgen base-bin / query-bin    the same rows as (id int, v halfvec)
 *                                  in COPY's binary format (no float
 *                                  parsing: a 100,000-row load is I/O)
 *   embgen truth N NQ DIM SEED K   exact cosine top-K of each query:
 *                                  "qid\t{id,...}\tkth distance"
 *
 * Structure, not uniform noise: 300 topic centres, 10 sub-topics each, and
 * per-vector noise, each N(0, I/DIM) scaled (1, 0.6, 0.45), then normalised:
 * a vector's cosine to its topic centre is about 0.8, neighbours within a
 * sub-topic are clearly nearer than the rest of the topic, topics are
 * nearly orthogonal.  Queries are new draws from the same process (another
 * stream).  Every value is rounded to half precision before it is printed
 * and before the truth uses it, so the truth is exact for a halfvec column;
 * it is computed here in double precision, independently of vlake, pgvector
 * and PostgreSQL.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPICS 300
#define SUBTOPICS 10

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

/* topic centres [TOPICS][dim], then sub-topic offsets [TOPICS*SUBTOPICS][dim] */
static float *
model(int dim, uint64_t seed)
{
	uint64_t	s = seed;
	size_t		n = (size_t) TOPICS * (1 + SUBTOPICS) * dim;
	float	   *m = malloc(sizeof(float) * n);
	double		sc = 1.0 / sqrt((double) dim);

	if (!m)
		exit(2);
	for (size_t i = 0; i < (size_t) TOPICS * dim; i++)
		m[i] = (float) (gauss(&s) * sc);
	for (size_t i = (size_t) TOPICS * dim; i < n; i++)
		m[i] = (float) (gauss(&s) * sc * 0.6);
	return m;
}

/* vector i of a stream (1 = base, 2 = queries), unit length, half-rounded */
static void
vec(const float *m, int dim, uint64_t seed, int stream, long i, float *out)
{
	uint64_t	s = seed * 1000003 + (uint64_t) stream * UINT64_C(0x1234567) + (uint64_t) i * 7919;
	int			t = (int) (next(&s) % TOPICS);
	int			u = (int) (next(&s) % SUBTOPICS);
	const float *c = m + (size_t) t * dim;
	const float *o = m + (size_t) TOPICS * dim + ((size_t) t * SUBTOPICS + u) * dim;
	double		sc = 0.45 / sqrt((double) dim),
				norm = 0;

	for (int j = 0; j < dim; j++)
	{
		out[j] = c[j] + o[j] + (float) (gauss(&s) * sc);
		norm += (double) out[j] * out[j];
	}
	norm = sqrt(norm);
	for (int j = 0; j < dim; j++)
		out[j] = (float) (_Float16) (float) (out[j] / norm);
}

static void
print_vecs(long n, int dim, uint64_t seed, int stream)
{
	float	   *m = model(dim, seed);
	float	   *v = malloc(sizeof(float) * dim);

	for (long i = 0; i < n; i++)
	{
		vec(m, dim, seed, stream, i, v);
		printf("%ld\t[", i + 1);
		for (int j = 0; j < dim; j++)
			printf(j ? ",%.5g" : "%.5g", v[j]);
		fputs("]\n", stdout);
	}
}

static void
put16(uint16_t v)
{
	putchar(v >> 8);
	putchar(v & 0xff);
}

static void
put32(uint32_t v)
{
	put16(v >> 16);
	put16(v & 0xffff);
}

/* COPY ... (FORMAT binary) of (id int, v halfvec(dim)) */
static void
print_bin(long n, int dim, uint64_t seed, int stream)
{
	float	   *m = model(dim, seed);
	float	   *v = malloc(sizeof(float) * dim);

	fwrite("PGCOPY\n\377\r\n\0", 1, 11, stdout);
	put32(0);					/* flags */
	put32(0);					/* header extension */
	for (long i = 0; i < n; i++)
	{
		vec(m, dim, seed, stream, i, v);
		put16(2);
		put32(4);
		put32((uint32_t) (i + 1));
		put32(4 + 2 * dim);
		put16(dim);
		put16(0);
		for (int j = 0; j < dim; j++)
		{
			_Float16	h = (_Float16) v[j];
			uint16_t	bits;

			memcpy(&bits, &h, 2);
			put16(bits);
		}
	}
	put16(0xffff);				/* trailer */
}

typedef struct Hit
{
	double		d;
	long		id;
} Hit;

static void
truth(long n, int nq, int dim, uint64_t seed, int k)
{
	float	   *m = model(dim, seed);
	float	   *base = malloc(sizeof(float) * (size_t) n * dim);
	double	   *bnorm = malloc(sizeof(double) * n);
	float	   *q = malloc(sizeof(float) * dim);
	Hit		   *top = malloc(sizeof(Hit) * k);

	if (!base || !bnorm)
		exit(2);
	for (long i = 0; i < n; i++)
	{
		double		s = 0;

		vec(m, dim, seed, 1, i, base + (size_t) i * dim);
		for (int j = 0; j < dim; j++)
			s += (double) base[(size_t) i * dim + j] * base[(size_t) i * dim + j];
		bnorm[i] = sqrt(s);
	}
	for (int qi = 0; qi < nq; qi++)
	{
		double		qn = 0;
		int			have = 0;

		vec(m, dim, seed, 2, qi, q);
		for (int j = 0; j < dim; j++)
			qn += (double) q[j] * q[j];
		qn = sqrt(qn);
		for (long i = 0; i < n; i++)
		{
			const float *b = base + (size_t) i * dim;
			double		dot = 0,
						d;
			int			p;

			for (int j = 0; j < dim; j++)
				dot += (double) q[j] * b[j];
			d = 1.0 - dot / (qn * bnorm[i]);
			if (have == k && d >= top[k - 1].d)
				continue;
			p = have < k ? have++ : k - 1;
			while (p > 0 && top[p - 1].d > d)
			{
				top[p] = top[p - 1];
				p--;
			}
			top[p].d = d;
			top[p].id = i + 1;
		}
		printf("%d\t{", qi + 1);
		for (int j = 0; j < have; j++)
			printf(j ? ",%ld" : "%ld", top[j].id);
		printf("}\t%.9g\n", top[have - 1].d);
	}
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "base") == 0)
		print_vecs(atol(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10), 1);
	else if (argc == 5 && strcmp(argv[1], "query") == 0)
		print_vecs(atol(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10), 2);
	else if (argc == 5 && strcmp(argv[1], "base-bin") == 0)
		print_bin(atol(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10), 1);
	else if (argc == 5 && strcmp(argv[1], "query-bin") == 0)
		print_bin(atol(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10), 2);
	else if (argc == 7 && strcmp(argv[1], "truth") == 0)
		truth(atol(argv[2]), atoi(argv[3]), atoi(argv[4]), strtoull(argv[5], NULL, 10), atoi(argv[6]));
	else
	{
		fprintf(stderr, "usage: embgen base|base-bin N DIM SEED | query|query-bin NQ DIM SEED | truth N NQ DIM SEED K\n");
		return 1;
	}
	return 0;
}
