/*
 * bench_fts_postings — the postings engine of the BM25 index
 * (src/fulltext/fts_postings.c) on a synthetic corpus: DOCS documents
 * (default 200,000) of 0-200 tokens (uniform, mean 100) drawn from a Zipf(1.0)
 * vocabulary of VOCAB terms (default 100,000), one field.  Reports:
 *   - build: documents added + finish (s), the builder's peak memory, the
 *     image size and bytes per posting;
 *   - open: header, CRCs, dictionary and document checks (lazy lists), and
 *     with every list checked (FTSP_OPEN_VALIDATE_ALL);
 *   - decode: every posting of every list by next() (postings/s), and with
 *     positions;
 *   - top-10 (fts_topk) of 1-3 terms: frequent terms (1-20% of documents)
 *     and any terms, per-query latency (median and p95 over QUERIES queries)
 *     including open_term (whose first use checks the list), then again
 *     with the lists already checked;
 *   - merge of the image with itself dropping 10% of the documents.
 * Times are CPU time of the process (single-threaded, no I/O), the corpus
 * generator's excluded.  Usage: bench_fts_postings [DOCS [VOCAB [QUERIES]]].
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fulltext/fts_postings.h"

static size_t peak = 0,
			cur_bytes = 0;

typedef struct Hdr
{
	size_t		n;
	size_t		pad;
} Hdr;

static void *
b_alloc(void *arg, size_t n)
{
	Hdr		   *h = malloc(sizeof(Hdr) + n);

	if (!h)
		return NULL;
	h->n = n;
	cur_bytes += n;
	if (cur_bytes > peak)
		peak = cur_bytes;
	return h + 1;
}

static void *
b_realloc(void *arg, void *p, size_t old, size_t n)
{
	Hdr		   *h = (Hdr *) p - 1;

	cur_bytes -= h->n;
	h = realloc(h, sizeof(Hdr) + n);
	if (!h)
		return NULL;
	h->n = n;
	cur_bytes += n;
	if (cur_bytes > peak)
		peak = cur_bytes;
	return h + 1;
}

static void
b_free(void *arg, void *p)
{
	Hdr		   *h = (Hdr *) p - 1;

	cur_bytes -= h->n;
	free(h);
}

static const FtsAlloc ba = {b_alloc, b_realloc, b_free, NULL};

static double
now(void)
{
	struct timespec ts;

	/* CPU time: the machine is shared, and nothing here waits for I/O */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
rnd(uint64_t *st)
{
	uint64_t	z = (*st += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Zipf(1.0) rank by inverse CDF of the continuous 1/(r+1) on [0, n) */
static int
zipf1(uint64_t *st, int n)
{
	double		u = (rnd(st) >> 11) * (1.0 / 9007199254740992.0);
	int			r = (int) (exp(u * log((double) n + 1.0))) - 1;

	return r < 0 ? 0 : (r >= n ? n - 1 : r);
}

static int
dcmp(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

static bool
drop10(void *arg, int input, uint64_t doc)
{
	return doc % 10 == 3;
}

static void
topk_run(FtsSource *s, const FtsBm25 *p, char (*names)[16], const int (*q)[3], const int *nq,
		 int nqueries, double *lat, long *hits)
{
	FtsHit		out[10];
	void	   *scratch = malloc(fts_topk_scratch(3, 10));

	for (int i = 0; i < nqueries; i++)
	{
		FtsCursor  *c[3];
		int			n = 0;
		double		t0 = now();

		for (int k = 0; k < nq[i]; k++)
		{
			const char *t = names[q[i][k]];
			size_t		len = strlen(t);
			uint64_t	df = s->term_df(s, t, len);

			if (df)
				c[n++] = s->open_term(s, t, len, p, fts_bm25_idf(p, (double) df));
		}
		*hits += fts_topk(p, c, n, 10, (FtsDocLen) s->doclen, s, scratch, out, NULL);
		lat[i] = now() - t0;
	}
	free(scratch);
}

static void
report(const char *what, double *lat, int n)
{
	qsort(lat, n, sizeof(double), dcmp);
	printf("  %-44s median %8.3f ms   p95 %8.3f ms\n", what, 1e3 * lat[n / 2], 1e3 * lat[n * 95 / 100]);
}

int
main(int argc, char **argv)
{
	int			ndocs = argc > 1 ? atoi(argv[1]) : 200000;
	int			vocab = argc > 2 ? atoi(argv[2]) : 100000;
	int			nqueries = argc > 3 ? atoi(argv[3]) : 200;
	char		(*names)[16] = malloc(sizeof(*names) * vocab);
	double		w[1] = {1.0};
	FtsPostingsError err;
	FtsPostingsBuilder *b;
	uint64_t	st = 1;
	uint8_t    *img,
			   *merged;
	size_t		size,
				msize;
	double		t0,
				t_build,
				t_open,
				t_open_all;
	long		tokens = 0;
	FtsPostingsReader *r;
	FtsSource  *s;
	FtsBm25		p;
	int			(*q)[3] = malloc(sizeof(*q) * nqueries * 2);
	int		   *nq = malloc(sizeof(int) * nqueries * 2);
	double	   *lat = malloc(sizeof(double) * nqueries * 2);
	long		hits = 0;
	uint64_t	npost = 0;

	for (int t = 0; t < vocab; t++)
		snprintf(names[t], sizeof(names[t]), "w%d", t);
	peak = cur_bytes = 0;
	t_build = 0;
	b = fts_postings_builder_create(&ba, 1, w, 0, &err);
	for (int d = 0; d < ndocs; d++)
	{
		int			len = (int) (rnd(&st) % 201);
		int			doc[200];

		for (int i = 0; i < len; i++)
			doc[i] = zipf1(&st, vocab);
		t0 = now();
		fts_postings_begin_doc(b, (uint64_t) d << 16 | 1, &err);
		for (int i = 0; i < len; i++)
		{
			const char *t = names[doc[i]];

			if (fts_postings_add_token(b, t, strlen(t), (uint32_t) i, &err) != FTSP_OK)
			{
				fprintf(stderr, "%s\n", err.message);
				return 1;
			}
		}
		fts_postings_end_doc(b, (uint32_t) len, &err);
		t_build += now() - t0;
		tokens += len;
	}
	printf("corpus: %d documents, %ld tokens, vocabulary %d (Zipf 1.0), 1 field\n", ndocs, tokens, vocab);
	printf("  builder memory before finish: %.1f MB\n", fts_postings_builder_memory(b) / 1e6);
	t0 = now();
	if (fts_postings_builder_finish(b, &img, &size, &err) != FTSP_OK)
	{
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	fts_postings_builder_free(b);
	t_build += now() - t0;

	t0 = now();
	r = fts_postings_open(&ba, img, size, 0, &err);
	t_open = now() - t0;
	if (!r)
	{
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	fts_postings_close(r);
	t0 = now();
	r = fts_postings_open(&ba, img, size, FTSP_OPEN_VALIDATE_ALL, &err);
	t_open_all = now() - t0;
	fts_postings_close(r);
	r = fts_postings_open(&ba, img, size, 0, &err);
	s = fts_postings_source(r);
	for (uint64_t t = 0; t < fts_postings_nterms(r); t++)
	{
		size_t		l;
		uint64_t	df;

		fts_postings_term(r, t, &l, &df);
		npost += df;
	}
	printf("build (add + finish), CPU: %.2f s (%.2f M tokens/s), peak memory %.1f MB (image included)\n",
		   t_build, tokens / t_build / 1e6, peak / 1e6);
	printf("image: %.1f MB, %llu terms, %llu postings, %.2f bytes/posting, %.2f bytes/token (positions included)\n",
		   size / 1e6, (unsigned long long) fts_postings_nterms(r), (unsigned long long) npost,
		   (double) size / npost, (double) size / tokens);
	printf("open: %.1f ms (header, CRC-32C of every section, dictionary, documents); with every list checked: %.1f ms\n",
		   1e3 * t_open, 1e3 * t_open_all);

	p.k1 = 1.2;
	p.b = 0.75;
	p.idf = FTS_IDF_FTS5;
	p.ndocs = (double) s->ndocs;
	p.avgdl = s->ntokens / s->ndocs;

	/* decode every posting */
	{
		FtsPostingsReader *r2 = fts_postings_open(&ba, img, size, FTSP_OPEN_VALIDATE_ALL, &err);
		FtsSource  *s2 = fts_postings_source(r2);
		double		td,
					tp;
		uint64_t	n = 0,
					np = 0;

		t0 = now();
		for (uint64_t t = 0; t < fts_postings_nterms(r2); t++)
		{
			size_t		l;
			const char *term = fts_postings_term(r2, t, &l, NULL);
			FtsCursor  *c = s2->open_term(s2, term, l, &p, 1.0);

			for (bool first = true; c->next(c, first ? 0 : c->doc + 1); first = false)
				n++;
		}
		td = now() - t0;
		fts_postings_close(r2);
		r2 = fts_postings_open(&ba, img, size, FTSP_OPEN_VALIDATE_ALL, &err);
		s2 = fts_postings_source(r2);
		t0 = now();
		for (uint64_t t = 0; t < fts_postings_nterms(r2); t++)
		{
			size_t		l;
			const char *term = fts_postings_term(r2, t, &l, NULL);
			FtsCursor  *c = s2->open_term(s2, term, l, &p, 1.0);
			const uint32_t *pos;

			for (bool first = true; c->next(c, first ? 0 : c->doc + 1); first = false)
				np += c->positions(c, &pos);
		}
		tp = now() - t0;
		fts_postings_close(r2);
		printf("decode every posting by next(): %.0f M postings/s; with positions: %.0f M postings/s (%.0f M positions/s)\n",
			   n / td / 1e6, n / tp / 1e6, np / tp / 1e6);
	}

	/* queries: frequent terms (df 1-20%) and any terms (Zipf) */
	for (int i = 0; i < 2 * nqueries; i++)
	{
		nq[i] = 1 + (int) (rnd(&st) % 3);
		for (int k = 0; k < nq[i]; k++)
		{
			if (i < nqueries)
			{
				int			t;

				do
				{
					t = (int) (rnd(&st) % 2000);
				} while (!(s->term_df(s, names[t], strlen(names[t])) >= 0.01 * ndocs &&
						   s->term_df(s, names[t], strlen(names[t])) <= 0.2 * ndocs));
				q[i][k] = t;
			}
			else
				q[i][k] = zipf1(&st, vocab);
		}
	}
	printf("top-10 (fts_topk over the image's cursors), %d queries of 1-3 terms each, open_term included:\n", nqueries);
	topk_run(s, &p, names, q, nq, nqueries, lat, &hits);
	report("frequent terms (1-20%), lists checked on use", lat, nqueries);
	topk_run(s, &p, names, q, nq, nqueries, lat, &hits);
	report("frequent terms, lists already checked", lat, nqueries);
	topk_run(s, &p, names, q + nqueries, nq + nqueries, nqueries, lat, &hits);
	report("any terms (Zipf), lists checked on use", lat, nqueries);
	topk_run(s, &p, names, q + nqueries, nq + nqueries, nqueries, lat, &hits);
	report("any terms, lists already checked", lat, nqueries);
	fts_postings_close(r);

	/* merge */
	r = fts_postings_open(&ba, img, size, 0, &err);
	t0 = now();
	if (fts_postings_merge(&ba, &r, 1, drop10, NULL, 0, &merged, &msize, &err) != FTSP_OK)
	{
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	printf("merge (the image alone, 10%% of the documents dropped): %.2f s, %.1f MB\n", now() - t0, msize / 1e6);
	fts_postings_close(r);
	b_free(NULL, merged);
	b_free(NULL, img);
	printf("(%ld hits)\n", hits);
	return 0;
}
