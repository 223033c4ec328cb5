/*
 * bench_fts_analyzer — throughput of the full-text analyzer core
 * (src/fulltext/fts_analyzer.c) on real text: the lines of a file (default:
 * GCIDE, Debian dict-gcide, decompressed by the caller) analyzed one by one
 * with the simple, english and german configurations; MB/s and tokens/s,
 * median of 5 rounds.  Usage: bench_fts_analyzer FILE [SHAREDIR].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fulltext/fts_analyzer.h"

static bool
count(void *arg, const char *t, size_t l, uint32_t p, size_t s, size_t e)
{
	(*(long *) arg)++;
	return true;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmpd(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	FILE	   *f;
	char	   *text = NULL;
	size_t		len = 0,
				cap = 0,
				n;
	char		buf[1 << 16];
	const char *share = argc > 2 ? argv[2] : "/usr/share/postgresql/15";
	const char *configs[] = {"simple", "english", "german"};

	if (argc < 2 || !(f = fopen(argv[1], "r")))
	{
		fprintf(stderr, "usage: %s FILE [SHAREDIR]\n", argv[0]);
		return 2;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
	{
		if (len + n > cap)
			text = realloc(text, cap = (len + n) * 2);
		memcpy(text + len, buf, n);
		len += n;
	}
	fclose(f);
	for (int c = 0; c < 3; c++)
	{
		char		err[256],
					stop[1024];
		FtsAnalyzer *a;
		double		t[5];
		long		tokens = 0,
					bad = 0;

		snprintf(stop, sizeof(stop), "%s/tsearch_data/%s.stop", share, configs[c]);
		a = fts_analyzer_new(configs[c], c ? stop : NULL, err, sizeof(err));
		if (!a)
		{
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		for (int r = 0; r < 5; r++)
		{
			double		t0 = now();

			tokens = 0;
			bad = 0;
			for (size_t i = 0; i < len;)
			{
				char	   *nl = memchr(text + i, '\n', len - i);
				size_t		e = nl ? (size_t) (nl - text) : len;

				if (fts_analyze(a, text + i, e - i, count, &tokens, NULL) == FTS_INVALID_UTF8)
					bad++;		/* GCIDE has a few Latin-1 lines: skipped */
				i = e + 1;
			}
			t[r] = now() - t0;
		}
		qsort(t, 5, sizeof(double), cmpd);
		printf("%-8s %8.1f MB/s %8.2f M terms/s  (%.1f MB, %ld terms emitted, %ld invalid lines skipped, median of 5: %.3f s)\n",
			   configs[c], len / t[2] / 1e6, tokens / t[2] / 1e6, len / 1e6, tokens, bad, t[2]);
		fts_analyzer_free(a);
	}
	return 0;
}
