/*
 * fmblend — a reproducible 128-d vector set with the structure of real
 * images: random projections of blends of two Fashion-MNIST images.
 *
 *   fmblend base  DIR N SEED          binary COPY (id int4, embedding vector(128))
 *   fmblend query DIR NQ SEED         the same, queries (from the test images)
 *   fmblend truth DIR N NQ SEED K     exact top-K of each query in double
 *                                     precision: "qid\t{id,...}\tkth-distance"
 *
 * DIR holds the gzip IDX files of Debian's dataset-fashion-mnist.  A fixed
 * random projection P (128 x 784, N(0, 1/128) from SEED; pixels scaled to
 * [0, 1]) maps every image to 128-d; vector i is w * P a + (1 - w) * P b + e
 * with images a, b (a != b) and w ~ U(0, 1) drawn from vector i's own stream,
 * e ~ N(0, 0.05^2) per coordinate.  The projection is linear, so blending the
 * projected images equals projecting the blended pixels; it is done that way
 * because projecting 1M blends would cost 1e11 multiply-adds.  Base vectors
 * blend training images, queries test images (ids 1..N, 1..NQ).
 *
 * The truth regenerates the same float32 values the COPY stream carries and
 * compares them in double precision, independently of vlake and PostgreSQL.
 * The COPY stream is PostgreSQL's binary format with the vector type's
 * binary layout (int16 dim, int16 0, dim big-endian float4), which vlake's
 * vector and pgvector's share.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define DIM 128
#define NOISE 0.05

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "fmblend: %s: %s\n", path, what);
	exit(1);
}

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n);

	if (!p)
		die("out of memory", "malloc");
	return p;
}

static uint64_t
next(uint64_t *s)
{
	uint64_t	z = (*s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static double
unif(uint64_t *s)
{
	return (next(s) >> 11) / 9007199254740992.0;
}

static double
gauss(uint64_t *s)
{
	double		u1 = ((next(s) >> 11) + 1.0) / 9007199254740993.0;
	double		u2 = unif(s);

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static unsigned char *
read_gz(const char *path, size_t *len)
{
	gzFile		f = gzopen(path, "rb");
	size_t		cap = 1 << 20, n = 0;
	unsigned char *buf = xmalloc(cap);
	int			got;

	if (!f)
		die("cannot open", path);
	while ((got = gzread(f, buf + n, (unsigned) (cap - n))) > 0)
	{
		n += got;
		if (n == cap && !(buf = realloc(buf, cap *= 2)))
			die("out of memory", path);
	}
	if (got < 0)
		die("corrupt gzip stream", path);
	gzclose(f);
	*len = n;
	return buf;
}

static uint32_t
be32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

/*
 * The images of one IDX file (rank 3, unsigned bytes, 28 x 28), projected:
 * returns count x DIM doubles.  Sizes are checked before any read.
 */
static double *
projected(const char *dir, const char *name, uint64_t seed, uint32_t *count)
{
	char		path[4096];
	size_t		len, hdr = 16, isz;
	unsigned char *buf;
	double	   *proj, *out;
	uint64_t	s = seed ^ UINT64_C(0x5eed0f9a0e3c7b21);

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int) sizeof(path))
		die("path too long", dir);
	buf = read_gz(path, &len);
	if (len < hdr || buf[0] != 0 || buf[1] != 0 || buf[2] != 0x08 || buf[3] != 3)
		die("not an unsigned-byte IDX file of rank 3", path);
	*count = be32(buf + 4);
	isz = (size_t) be32(buf + 8) * be32(buf + 12);
	if (isz != 784 || (len - hdr) / isz < *count || *count < 2)
		die("IDX header does not match 28 x 28 images in the file", path);

	/* the same P for both files: drawn from SEED alone, row by row */
	proj = xmalloc(sizeof(double) * DIM * isz);
	for (size_t k = 0; k < DIM * isz; k++)
		proj[k] = gauss(&s) / sqrt((double) DIM);
	out = xmalloc(sizeof(double) * DIM * *count);
	for (uint32_t i = 0; i < *count; i++)
	{
		double		px[784];

		for (size_t j = 0; j < isz; j++)
			px[j] = buf[hdr + (size_t) i * isz + j] / 255.0;
		for (int d = 0; d < DIM; d++)
		{
			const double *row = proj + (size_t) d * isz;
			double		acc = 0;

			for (size_t j = 0; j < isz; j++)
				acc += row[j] * px[j];
			out[(size_t) i * DIM + d] = acc;
		}
	}
	free(proj);
	free(buf);
	return out;
}

/* vector i (0-based) of a stream: 1 = base, 2 = queries */
static void
blend(const double *img, uint32_t nimg, uint64_t seed, int stream, long i, float *out)
{
	uint64_t	s = seed * 1000003 + (uint64_t) stream * UINT64_C(0x9876543) + (uint64_t) i * 7919;
	uint32_t	a, b;
	double		w;

	(void) next(&s);
	a = (uint32_t) (next(&s) % nimg);
	do
		b = (uint32_t) (next(&s) % nimg);
	while (b == a);
	w = unif(&s);
	for (int d = 0; d < DIM; d++)
		out[d] = (float) (w * img[(size_t) a * DIM + d] + (1 - w) * img[(size_t) b * DIM + d]
						  + NOISE * gauss(&s));
}

static const char *
images_file(int stream)
{
	return stream == 1 ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz";
}

static void
put16(uint16_t v, FILE *f)
{
	unsigned char b[2] = {v >> 8, v & 0xff};

	fwrite(b, 1, 2, f);
}

static void
put32(uint32_t v, FILE *f)
{
	unsigned char b[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};

	fwrite(b, 1, 4, f);
}

static void
copy_out(const char *dir, long n, uint64_t seed, int stream)
{
	uint32_t	nimg;
	double	   *img = projected(dir, images_file(stream), seed, &nimg);
	float		v[DIM];

	fwrite("PGCOPY\n\377\r\n\0", 1, 11, stdout);
	put32(0, stdout);			/* flags */
	put32(0, stdout);			/* header extension length */
	for (long i = 0; i < n; i++)
	{
		blend(img, nimg, seed, stream, i, v);
		put16(2, stdout);
		put32(4, stdout);
		put32((uint32_t) (i + 1), stdout);
		put32(4 + 4 * DIM, stdout);
		put16(DIM, stdout);
		put16(0, stdout);
		for (int d = 0; d < DIM; d++)
		{
			uint32_t	u;

			memcpy(&u, &v[d], 4);
			put32(u, stdout);
		}
	}
	put16(0xffff, stdout);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("write failed", "stdout");
	free(img);
}

typedef struct
{
	double		d;
	long		id;
} DI;

/*
 * Exact top-k by brute force.  The base is walked in blocks that stay in
 * cache while every query is compared with them.
 */
static void
truth(const char *dir, long n, int nq, uint64_t seed, int k)
{
	uint32_t	ntr, nte;
	double	   *tr = projected(dir, images_file(1), seed, &ntr);
	double	   *te = projected(dir, images_file(2), seed, &nte);
	float	   *base = xmalloc(sizeof(float) * (size_t) n * DIM);
	double	   *q = xmalloc(sizeof(double) * (size_t) nq * DIM);
	DI		   *best = xmalloc(sizeof(DI) * (size_t) nq * k);
	int		   *nb = calloc(nq, sizeof(int));
	float		v[DIM];
	const long	block = 2048;

	if (k < 1 || nq < 1 || n < k || !nb)
		die("bad arguments", "truth");
	for (long i = 0; i < n; i++)
		blend(tr, ntr, seed, 1, i, base + (size_t) i * DIM);
	for (int i = 0; i < nq; i++)
	{
		blend(te, nte, seed, 2, i, v);
		for (int d = 0; d < DIM; d++)
			q[(size_t) i * DIM + d] = v[d];
	}
	free(tr);
	free(te);
	for (long b0 = 0; b0 < n; b0 += block)
	{
		long		b1 = b0 + block < n ? b0 + block : n;

		for (int qi = 0; qi < nq; qi++)
		{
			const double *qv = q + (size_t) qi * DIM;
			DI		   *bq = best + (size_t) qi * k;

			for (long i = b0; i < b1; i++)
			{
				const float *x = base + (size_t) i * DIM;
				double		s0 = 0, s1 = 0, s2 = 0, s3 = 0;
				int			p;

				for (int d = 0; d < DIM; d += 4)
				{
					double		t0 = qv[d] - x[d], t1 = qv[d + 1] - x[d + 1],
								t2 = qv[d + 2] - x[d + 2], t3 = qv[d + 3] - x[d + 3];

					s0 += t0 * t0;
					s1 += t1 * t1;
					s2 += t2 * t2;
					s3 += t3 * t3;
				}
				s0 = (s0 + s1) + (s2 + s3);
				if (nb[qi] == k && s0 >= bq[k - 1].d)
					continue;
				p = nb[qi] < k ? nb[qi]++ : k - 1;
				while (p > 0 && bq[p - 1].d > s0)
				{
					bq[p] = bq[p - 1];
					p--;
				}
				bq[p].d = s0;
				bq[p].id = i + 1;
			}
		}
	}
	for (int qi = 0; qi < nq; qi++)
	{
		const DI   *bq = best + (size_t) qi * k;

		printf("%d\t{", qi + 1);
		for (int t = 0; t < nb[qi]; t++)
			printf(t ? ",%ld" : "%ld", bq[t].id);
		/* the k-th distance (as the SQL operator reports it): ties count */
		printf("}\t%.17g\n", sqrt(bq[nb[qi] - 1].d));
	}
	free(base);
	free(q);
	free(best);
	free(nb);
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "base") == 0)
		copy_out(argv[2], atol(argv[3]), strtoull(argv[4], NULL, 10), 1);
	else if (argc == 5 && strcmp(argv[1], "query") == 0)
		copy_out(argv[2], atol(argv[3]), strtoull(argv[4], NULL, 10), 2);
	else if (argc == 7 && strcmp(argv[1], "truth") == 0)
		truth(argv[2], atol(argv[3]), atoi(argv[4]), strtoull(argv[5], NULL, 10), atoi(argv[6]));
	else
	{
		fprintf(stderr, "usage: fmblend base DIR N SEED | query DIR NQ SEED | truth DIR N NQ SEED K\n");
		return 2;
	}
	return 0;
}
