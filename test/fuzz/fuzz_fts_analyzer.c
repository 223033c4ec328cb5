/*
 * fuzz_fts_analyzer.c — libFuzzer harness for the full-text analyzer
 * (src/fulltext/fts_analyzer.c).  The input is a text, analyzed with the
 * simple configuration and with the English stemmer.  FTS_INVALID_UTF8 is
 * a normal outcome; a failure is a crash, a sanitizer report, or a broken
 * invariant of what was emitted:
 *   - byte ranges are in order, inside the input, and start on a token;
 *   - positions start at 0 and grow by one (no stop words here);
 *   - terms are non-empty valid UTF-8;
 *   - simple terms are a fixed point: analyzing them joined by spaces gives
 *     them back (folding and diacritic removal are idempotent, and a term
 *     never holds a separator).
 * Build: make build/bin/fuzz_fts_analyzer.  Run: build/bin/unit_fuzz_fts_analyzer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fulltext/fts_analyzer.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Seen
{
	size_t		size;
	long		count;
	size_t		last_end;
	char	   *joined;
	size_t		jlen,
				jcap;
} Seen;

static bool
check_token(void *arg, const char *term, size_t len, uint32_t pos, size_t start, size_t end)
{
	Seen	   *s = arg;
	uint32_t	cp;

	if (pos != (uint32_t) s->count || start < s->last_end || end <= start || end > s->size || len == 0)
	{
		fprintf(stderr, "bad token %ld: pos %u, bytes %zu..%zu of %zu, len %zu\n",
				s->count, pos, start, end, s->size, len);
		abort();
	}
	for (size_t i = 0; i < len;)
	{
		int			l = fts_utf8_decode((const unsigned char *) term + i, len - i, &cp);

		if (l == 0)
		{
			fprintf(stderr, "term %ld is not valid UTF-8\n", s->count);
			abort();
		}
		i += l;
	}
	if (s->jlen + len + 1 > s->jcap)
	{
		s->jcap = (s->jlen + len + 1) * 2;
		s->joined = realloc(s->joined, s->jcap);
	}
	memcpy(s->joined + s->jlen, term, len);
	s->jlen += len;
	s->joined[s->jlen++] = ' ';
	s->count++;
	s->last_end = end;
	return true;
}

static FtsAnalyzer *simple,
		   *english;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		err[256];
	Seen		s1 = {0},
				s2 = {0},
				s3 = {0};
	FtsResult	r;

	if (!simple)
	{
		simple = fts_analyzer_new(FTS_SIMPLE_CONFIG, NULL, err, sizeof(err));
		english = fts_analyzer_new("english", NULL, err, sizeof(err));
		if (!simple || !english)
			abort();
	}
	s1.size = s2.size = size;
	r = fts_analyze(simple, (const char *) data, size, check_token, &s1, NULL);
	if (r != FTS_OK && r != FTS_INVALID_UTF8)
		abort();
	if (fts_analyze(english, (const char *) data, size, check_token, &s2, NULL) != r ||
		(r == FTS_OK && s2.count != s1.count))
	{
		fprintf(stderr, "english and simple disagree on the tokens\n");
		abort();
	}
	if (r == FTS_OK)
	{
		s3.size = s1.jlen;
		if (fts_analyze(simple, s1.joined ? s1.joined : "", s1.jlen, check_token, &s3, NULL) != FTS_OK ||
			s3.jlen != s1.jlen || (s1.jlen && memcmp(s3.joined, s1.joined, s1.jlen) != 0))
		{
			fprintf(stderr, "simple terms are not a fixed point\n");
			abort();
		}
	}
	free(s1.joined);
	free(s2.joined);
	free(s3.joined);
	return 0;
}
