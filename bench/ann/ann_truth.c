/*
 * ann_truth — exact k-nearest-neighbour ground truth for the ANN benchmark,
 * computed independently of vlake: reads the Fashion-MNIST IDX files
 * directly and ranks by squared L2 distance computed exactly in integer
 * arithmetic (pixels are 0..255, so the sum fits 32 bits), reported in
 * double precision.  Optional filter: only base rows with id % 100 < pct
 * (the benchmark's "sel" column) are candidates.
 *
 *   ann_truth BASE_IMAGES.gz QUERY_IMAGES.gz K [PCT]
 *
 * Output (COPY text): qid, ids as {a,b,...}, distance of the k-th as float8
 * (Euclidean), so ties at the k-th place can be counted as hits.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "ann_truth: %s: %s\n", path, what);
	exit(1);
}

static unsigned char *
read_gz(const char *path, size_t *len)
{
	gzFile		f = gzopen(path, "rb");
	size_t		cap = 1 << 20,
				n = 0;
	unsigned char *buf = malloc(cap);
	int			got;

	if (!f || !buf)
		die("cannot open", path);
	while ((got = gzread(f, buf + n, (unsigned) (cap - n))) > 0)
	{
		n += got;
		if (n == cap)
		{
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				die("out of memory", path);
		}
	}
	if (got < 0)
		die("read error", path);
	gzclose(f);
	*len = n;
	return buf;
}

static uint32_t
be32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static const unsigned char *
images(const char *path, uint32_t *count, size_t *dim)
{
	size_t		len;
	unsigned char *buf = read_gz(path, &len);

	if (len < 16 || buf[2] != 0x08 || buf[3] != 3)
		die("not an IDX image file", path);
	*count = be32(buf + 4);
	*dim = (size_t) be32(buf + 8) * be32(buf + 12);
	if (*dim == 0 || *dim > 1 << 20 || (len - 16) / *dim < *count)
		die("IDX header does not match the file size", path);
	return buf + 16;
}

/* exact squared distance of two byte vectors */
__attribute__((optimize("O3")))
static int64_t
l2sq_u8(const unsigned char *a, const unsigned char *b, size_t n)
{
	int32_t		s = 0;

	for (size_t j = 0; j < n; j++)
	{
		int32_t		t = (int32_t) a[j] - (int32_t) b[j];

		s += t * t;
	}
	return s;
}

int
main(int argc, char **argv)
{
	uint32_t	nb,
				nq;
	size_t		db,
				dq;
	const unsigned char *base,
			   *query;
	int			k,
				pct;
	double	   *bestd;
	long	   *besti;

	if (argc < 4)
	{
		fprintf(stderr, "usage: ann_truth BASE.gz QUERY.gz K [PCT]\n");
		return 2;
	}
	base = images(argv[1], &nb, &db);
	query = images(argv[2], &nq, &dq);
	k = atoi(argv[3]);
	pct = argc > 4 ? atoi(argv[4]) : 100;
	if (db != dq || k < 1 || k > 1000)
		die("dimensions differ or bad K", argv[2]);
	bestd = malloc(sizeof(double) * (k + 1));
	besti = malloc(sizeof(long) * (k + 1));

	for (uint32_t q = 0; q < nq; q++)
	{
		const unsigned char *qv = query + (size_t) q * dq;
		int			n = 0;

		for (uint32_t i = 0; i < nb; i++)
		{
			const unsigned char *bv = base + (size_t) i * db;
			double		d;
			int			pos;

			if ((int) (i % 100) >= pct)
				continue;
			d = (double) l2sq_u8(qv, bv, db);
			if (n == k && d >= bestd[k - 1])
				continue;
			/* insertion into the sorted top-k (ties keep the lower id) */
			pos = n < k ? n++ : k - 1;
			while (pos > 0 && bestd[pos - 1] > d)
			{
				bestd[pos] = bestd[pos - 1];
				besti[pos] = besti[pos - 1];
				pos--;
			}
			bestd[pos] = d;
			besti[pos] = i;
		}
		printf("%u\t{", q);
		for (int j = 0; j < n; j++)
			printf(j ? ",%ld" : "%ld", besti[j]);
		printf("}\t%.17g\n", n > 0 ? sqrt(bestd[n - 1]) : 0.0);
	}
	return 0;
}
