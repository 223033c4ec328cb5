/*
 * probe_sim — offline study of when an IVF scan may stop probing lists.
 *
 * Builds the vlake index's structures in memory with ivf.c (k-means on a
 * sample of 32 points per list, nearest-centroid assignment, RaBitQ codes),
 * computes the exact top-10 of each query by brute force, and for each query
 * probes up to CEIL lists in centroid order, recording per list what a scan
 * could see (how many of its codes entered the running top-10 estimates, the
 * running 10th estimate) and how many true neighbours it holds.  Then prints,
 * for fixed probes and for the adaptive rule of ivf_probe_stop() with several
 * parameters, the mean lists probed, the codes scanned and the recall@10 of
 * an exact re-rank of the probed lists (the scan's answer up to the RaBitQ
 * error bound).
 *
 *   probe_sim fmnist DIR NQ LISTS CEIL
 *   probe_sim copy FILE.bin QUERIES.bin NQ LISTS CEIL   (binary COPY of
 *                     (id int4, embedding vector), e.g. from fmblend)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "index/ivf.h"
#include "vector/distance.h"

#define K 10

static void
die(const char *what)
{
	fprintf(stderr, "probe_sim: %s\n", what);
	exit(1);
}

static unsigned char *
read_all(const char *path, size_t *len)
{
	gzFile		f = gzopen(path, "rb");
	size_t		cap = 1 << 20,
				n = 0;
	unsigned char *buf = malloc(cap);
	int			got;

	if (!f || !buf)
		die(path);
	while ((got = gzread(f, buf + n, (unsigned) (cap - n))) > 0)
	{
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	gzclose(f);
	*len = n;
	return buf;
}

static uint32_t
be32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static float *
load_idx(const char *path, int *n, int *dim)
{
	size_t		len;
	unsigned char *b = read_all(path, &len);
	float	   *x;

	*n = be32(b + 4);
	*dim = be32(b + 8) * be32(b + 12);
	x = malloc(sizeof(float) * (size_t) *n * *dim);
	for (size_t i = 0; i < (size_t) *n * *dim; i++)
		x[i] = b[16 + i];
	free(b);
	return x;
}

/* binary COPY (id int4, embedding vector) */
static float *
load_copy(const char *path, int *n, int *dim)
{
	size_t		len,
				p = 19;
	unsigned char *b = read_all(path, &len);
	size_t		cap = 1024;
	float	   *x = NULL;

	*n = 0;
	*dim = 0;
	p += be32(b + 15);
	while (p + 2 <= len)
	{
		int			nf = (b[p] << 8) | b[p + 1];
		int			d;

		if (nf == 0xFFFF)
			break;
		p += 2 + 4 + 4 + 4;		/* nfields, len, id, len */
		d = (b[p] << 8) | b[p + 1];
		p += 4;
		if (!x)
		{
			*dim = d;
			x = malloc(sizeof(float) * cap * d);
		}
		if ((size_t) *n == cap)
			x = realloc(x, sizeof(float) * (cap *= 2) * d);
		for (int j = 0; j < d; j++)
		{
			uint32_t	u = be32(b + p + 4 * j);
			float		f;

			memcpy(&f, &u, 4);
			x[(size_t) *n * d + j] = f;
		}
		p += 4 * d;
		(*n)++;
	}
	free(b);
	return x;
}

typedef struct
{
	float		d;
	int			i;
} DI;

static int
cmp_di(const void *a, const void *b)
{
	float		x = ((const DI *) a)->d,
				y = ((const DI *) b)->d;

	return x < y ? -1 : x > y;
}

/* per query, per probed list (in probe order) */
typedef struct
{
	int			truth;			/* true top-10 rows in this list */
	int			count;
	IvfProbeList obs;			/* what the scan saw */
	float		cdist;
	float		kth;			/* k-th estimate after this list */
	float		minest;
} Rec;

int
main(int argc, char **argv)
{
	float	   *x,
			   *q;
	int			n,
				dim,
				nqall,
				nq,
				lists,
				ceil_;

	if (argc == 6 && strcmp(argv[1], "fmnist") == 0)
	{
		char		p[1024];
		int			d2;

		snprintf(p, sizeof(p), "%s/train-images-idx3-ubyte.gz", argv[2]);
		x = load_idx(p, &n, &dim);
		snprintf(p, sizeof(p), "%s/t10k-images-idx3-ubyte.gz", argv[2]);
		q = load_idx(p, &nqall, &d2);
		nq = atoi(argv[3]);
		lists = atoi(argv[4]);
		ceil_ = atoi(argv[5]);
	}
	else if (argc == 7 && strcmp(argv[1], "copy") == 0)
	{
		int			d2;

		x = load_copy(argv[2], &n, &dim);
		q = load_copy(argv[3], &nqall, &d2);
		nq = atoi(argv[4]);
		lists = atoi(argv[5]);
		ceil_ = atoi(argv[6]);
	}
	else
		die("usage: probe_sim fmnist DIR NQ LISTS CEIL | copy BASE QUERIES NQ LISTS CEIL");
	if (nq > nqall)
		nq = nqall;
	if (ceil_ > lists)
		ceil_ = lists;
	fprintf(stderr, "%d x %d, %d queries, %d lists\n", n, dim, nq, lists);

	/* k-means on a sample, as the build */
	int			ns = 32 * lists < n ? 32 * lists : n;
	float	   *sample = malloc(sizeof(float) * (size_t) ns * dim);
	uint64_t	st = 7;

	for (int i = 0; i < ns; i++)
		memcpy(sample + (size_t) i * dim, x + (size_t) (ivf_rand(&st) % n) * dim, sizeof(float) * dim);
	float	   *cent = malloc(sizeof(float) * (size_t) lists * dim);
	IvfKmeansScratch ks = {malloc(sizeof(int) * ns), malloc(sizeof(double) * lists * dim),
	malloc(sizeof(int64_t) * lists), malloc(sizeof(float) * ns)};

	ivf_kmeans(sample, ns, dim, lists, 6, 42, cent, &ks, NULL, NULL);
	int		   *assign = malloc(sizeof(int) * n),
			   *cnt = calloc(lists, sizeof(int)),
			   *start = calloc(lists + 1, sizeof(int)),
			   *rows = malloc(sizeof(int) * n);

	for (int i = 0; i < n; i++)
		cnt[assign[i] = ivf_nearest(cent, lists, dim, x + (size_t) i * dim, NULL)]++;
	for (int c = 0; c < lists; c++)
		start[c + 1] = start[c] + cnt[c];
	{
		int		   *pos = malloc(sizeof(int) * lists);

		memcpy(pos, start, sizeof(int) * lists);
		for (int i = 0; i < n; i++)
			rows[pos[assign[i]]++] = i;
		free(pos);
	}
	fprintf(stderr, "assigned\n");

	/* codes */
	int			pdim = ivf_padded_dim(dim),
				words = pdim / 64;
	uint8_t    *signs = malloc(3 * pdim);
	IvfRotation rot = {dim, pdim, signs};
	uint64_t   *codes = malloc(sizeof(uint64_t) * words * (size_t) n);
	IvfFactor  *fac = malloc(sizeof(IvfFactor) * n);
	float	   *tmp = malloc(sizeof(float) * 2 * pdim);
	float	   *crot = malloc(sizeof(float) * (size_t) lists * pdim);

	ivf_make_signs(99, pdim, signs);
	for (int c = 0; c < lists; c++)
		ivf_rotate(&rot, cent + (size_t) c * dim, crot + (size_t) c * pdim);
	for (int r = 0; r < n; r++)
	{
		int			i = rows[r];

		ivf_encode(&rot, IVF_L2, x + (size_t) i * dim, cent + (size_t) assign[i] * dim,
				   codes + (size_t) r * words, &fac[r], tmp);
	}
	fprintf(stderr, "encoded\n");

	/* truth, then per-query records */
	Rec		   *rec = calloc((size_t) nq * ceil_, sizeof(Rec));
	DI		   *all = malloc(sizeof(DI) * (n > lists ? n : lists));
	float	   *qrot = malloc(sizeof(float) * pdim);
	uint64_t   *planes = malloc(sizeof(uint64_t) * 4 * words);
	int			maxc = 0;

	for (int c = 0; c < lists; c++)
		maxc = cnt[c] > maxc ? cnt[c] : maxc;
	float	   *est = malloc(sizeof(float) * maxc),
			   *lb = malloc(sizeof(float) * maxc);

	for (int qi = 0; qi < nq; qi++)
	{
		const float *qv = q + (size_t) qi * dim;
		int			tl[K];
		IvfProbeStop ps;

		for (int i = 0; i < n; i++)
		{
			all[i].d = vec_l2sq_f32(qv, x + (size_t) i * dim, dim);
			all[i].i = i;
		}
		/* partial: only the K best matter */
		for (int k = 0; k < K; k++)
		{
			int			b = k;

			for (int i = k + 1; i < n; i++)
				if (all[i].d < all[b].d)
					b = i;
			DI			t = all[k];

			all[k] = all[b];
			all[b] = t;
			tl[k] = assign[all[k].i];
		}
		for (int c = 0; c < lists; c++)
		{
			all[c].d = vec_l2sq_f32(qv, cent + (size_t) c * dim, dim);
			all[c].i = c;
		}
		qsort(all, lists, sizeof(DI), cmp_di);
		ivf_rotate(&rot, qv, qrot);
		ivf_probe_stop_init(&ps, K);
		for (int p = 0; p < ceil_; p++)
		{
			int			c = all[p].i;
			IvfQueryPart qp;
			Rec		   *r = &rec[(size_t) qi * ceil_ + p];

			for (int k = 0; k < K; k++)
				r->truth += tl[k] == c;
			r->count = cnt[c];
			if (cnt[c] == 0)
				continue;
			ivf_query_prepare(pdim, qrot, crot + (size_t) c * pdim, all[p].d, 0, planes, tmp, &qp);
			ivf_scan_codes(IVF_L2, &qp, codes + (size_t) start[c] * words, fac + start[c],
						   cnt[c], 1.9f, est, lb);
			ivf_probe_stop_observe(&ps, est, cnt[c], &r->obs);
			r->cdist = all[p].d;
			r->kth = ps.ntop == K ? ps.top[K - 1] : 1e30f;
			r->minest = 1e30f;
			for (int j = 0; j < cnt[c]; j++)
				r->minest = est[j] < r->minest ? est[j] : r->minest;
		}
		if (qi % 100 == 0)
			fprintf(stderr, "query %d\n", qi);
	}

	/* fixed probes */
	printf("rule\tparam\tlists\tcodes\trecall\n");
	for (int p = 1; p <= ceil_; p = p < 24 ? p + 1 : p * 5 / 4 + 1)
	{
		double		hit = 0,
					codes_ = 0;
		int			bad = 0;

		for (int qi = 0; qi < nq; qi++)
		{
			double		h0 = hit;

			for (int i = 0; i < p; i++)
			{
				hit += rec[(size_t) qi * ceil_ + i].truth;
				codes_ += rec[(size_t) qi * ceil_ + i].count;
			}
			bad += hit - h0 <= 7;
		}
		printf("fixed\t%d\t%d\t%.0f\t%.4f\t%d\n", p, p, codes_ / nq, hit / nq / K, bad);
	}
	/* the adaptive rule, over its parameters */
	{
		int			floors[] = {6, 8, 12, 16, 20};
		int			pats[] = {1, 2, 3, 4, 6, 8};
		double		ratios[] = {0, 0.25};

		for (int fi = 0; fi < 5; fi++)
			for (int pi = 0; pi < 6; pi++)
				for (int ri = 0; ri < 2; ri++)
				{
					IvfProbeParams pp = {floors[fi], ceil_, pats[pi], ratios[ri]};
					double		hit = 0,
								codes_ = 0,
								nl = 0;
					int			bad = 0;

					for (int qi = 0; qi < nq; qi++)
					{
						int			stopped = ceil_;
						double		h0 = hit;

						for (int i = 0; i < ceil_; i++)
							if (ivf_probe_stop_decide(&pp, &rec[(size_t) qi * ceil_ + i].obs, i + 1))
							{
								stopped = i + 1;
								break;
							}
						for (int i = 0; i < stopped; i++)
						{
							hit += rec[(size_t) qi * ceil_ + i].truth;
							codes_ += rec[(size_t) qi * ceil_ + i].count;
						}
						nl += stopped;
						bad += hit - h0 <= 7;
					}
					printf("adaptive\tfloor=%d,patience=%d,depth=%.2f\t%.1f\t%.0f\t%.4f\t%d\n",
						   floors[fi], pats[pi], ratios[ri], nl / nq, codes_ / nq, hit / nq / K, bad);
				}
	}
	/* centroid distance against the k-th estimate: stop when the next list's
	 * centroid is farther than gamma x the k-th estimate */
	{
		int			floors[] = {1, 2, 4, 8};
		double		gammas[] = {0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.7, 2.0};

		for (int fi = 0; fi < 4; fi++)
			for (int gi = 0; gi < 10; gi++)
			{
				double		hit = 0,
							codes_ = 0,
							nl = 0;

				for (int qi = 0; qi < nq; qi++)
				{
					Rec		   *r = &rec[(size_t) qi * ceil_];
					int			stopped = ceil_;

					for (int i = 0; i + 1 < ceil_; i++)
						if (i + 1 >= floors[fi] && r[i + 1].cdist > gammas[gi] * r[i].kth)
						{
							stopped = i + 1;
							break;
						}
					for (int i = 0; i < stopped; i++)
					{
						hit += r[i].truth;
						codes_ += r[i].count;
					}
					nl += stopped;
				}
				printf("cdist-kth\tfloor=%d,gamma=%.2f\t%.1f\t%.0f\t%.4f\n",
					   floors[fi], gammas[gi], nl / nq, codes_ / nq, hit / nq / K);
			}
	}
	/* patience on "the list's best estimate is within (1+delta) of the k-th" */
	{
		int			pats[] = {1, 2, 3, 4, 6};
		double		deltas[] = {0, 0.05, 0.1, 0.2};

		for (int pi = 0; pi < 5; pi++)
			for (int di = 0; di < 4; di++)
			{
				double		hit = 0,
							codes_ = 0,
							nl = 0;

				for (int qi = 0; qi < nq; qi++)
				{
					Rec		   *r = &rec[(size_t) qi * ceil_];
					int			stopped = ceil_,
								quiet = 0;

					for (int i = 0; i < ceil_; i++)
					{
						if (r[i].minest > (1 - deltas[di]) * r[i].kth)
							quiet++;
						else
							quiet = 0;
						if (i + 1 >= 4 && quiet >= pats[pi])
						{
							stopped = i + 1;
							break;
						}
					}
					for (int i = 0; i < stopped; i++)
					{
						hit += r[i].truth;
						codes_ += r[i].count;
					}
					nl += stopped;
				}
				printf("margin\tpatience=%d,delta=%.2f\t%.1f\t%.0f\t%.4f\n",
					   pats[pi], deltas[di], nl / nq, codes_ / nq, hit / nq / K);
			}
	}
	return 0;
}
