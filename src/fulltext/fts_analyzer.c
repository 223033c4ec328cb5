/*
 * fts_analyzer.c — the full-text analyzer core (fts_analyzer.h,
 * docs/fulltext.md).  No postgres.h: this file is linked into unit tests
 * and the fuzzer as is.
 */
#include "fulltext/fts_analyzer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "fulltext/fts_unicode_data.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct FtsAnalyzer
{
	struct sb_stemmer *stemmer; /* NULL: no stemming */
	char	  **stop;			/* sorted, case-folded; NULL: none */
	size_t	   *stop_len;
	int			nstop;
	char	   *buf;			/* the current token, folded */
	size_t		bufcap;
	char	   *buf2;			/* stemmed token without diacritics */
	size_t		buf2cap;
};

/* ------------------------------------------------------------ characters */

int
fts_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	int			n;
	uint32_t	v,
				min;

	if (c < 0x80)
	{
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;				/* continuation byte, C0/C1, F5..FF */
	if (len < (size_t) n)
		return 0;
	for (int i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > FTS_UNICODE_MAX || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

int
fts_utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *) out;

	if (cp < 0x80)
	{
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800)
	{
		o[0] = 0xC0 | (cp >> 6);
		o[1] = 0x80 | (cp & 0x3F);
		return 2;
	}
	if (cp < 0x10000)
	{
		o[0] = 0xE0 | (cp >> 12);
		o[1] = 0x80 | ((cp >> 6) & 0x3F);
		o[2] = 0x80 | (cp & 0x3F);
		return 3;
	}
	o[0] = 0xF0 | (cp >> 18);
	o[1] = 0x80 | ((cp >> 12) & 0x3F);
	o[2] = 0x80 | ((cp >> 6) & 0x3F);
	o[3] = 0x80 | (cp & 0x3F);
	return 4;
}

/* index of the entry whose key is cp in a sorted [n][2] map, or -1 */
static int
map_find(const uint32_t (*map)[2], int n, uint32_t cp)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (map[mid][0] == cp)
			return mid;
		if (map[mid][0] < cp)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

bool
fts_is_token_char(uint32_t cp)
{
	int			lo = 0,
				hi = (int) NELEM(fts_token_ranges) - 1;

	if (cp < 0x80)				/* the common case, without a search */
		return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (cp < fts_token_ranges[mid][0])
			hi = mid - 1;
		else if (cp > fts_token_ranges[mid][1])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool
fts_is_diacritic(uint32_t cp)
{
	int			lo = 0,
				hi = (int) NELEM(fts_diacritics) - 1;

	if (cp < fts_diacritics[0] || cp > fts_diacritics[NELEM(fts_diacritics) - 1])
		return false;
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (fts_diacritics[mid] == cp)
			return true;
		if (fts_diacritics[mid] < cp)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

uint32_t
fts_fold(uint32_t cp, bool remove_diacritics)
{
	int			i;

	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
	i = map_find(fts_fold_map, NELEM(fts_fold_map), cp);
	if (i >= 0)
		cp = fts_fold_map[i][1];
	if (remove_diacritics)
	{
		if (fts_is_diacritic(cp))
			return 0;
		i = map_find(fts_unaccent_map, NELEM(fts_unaccent_map), cp);
		if (i >= 0)
			cp = fts_unaccent_map[i][1];
	}
	return cp;
}

const char *
fts_unicode_version(void)
{
	return FTS_UNICODE_VERSION;
}

const char **
fts_stemmer_languages(void)
{
	return sb_stemmer_list();
}

/* ------------------------------------------------------------ stop words */

static bool
grow(char **buf, size_t *cap, size_t need)
{
	size_t		n = *cap ? *cap : 64;
	char	   *p;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

/* case fold (diacritics kept) s[0..len) into *out; false on bad UTF-8/OOM */
static bool
fold_word(const char *s, size_t len, char **out, size_t *outlen)
{
	char	   *o = malloc(len * 4 / 1 + 4);	/* a fold never grows past 4 bytes a char */
	size_t		n = 0;

	if (!o)
		return false;
	for (size_t i = 0; i < len;)
	{
		uint32_t	cp;
		int			l = fts_utf8_decode((const unsigned char *) s + i, len - i, &cp);

		if (l == 0)
		{
			free(o);
			return false;
		}
		n += fts_utf8_encode(fts_fold(cp, false), o + n);
		i += l;
	}
	*out = o;
	*outlen = n;
	return true;
}

static int
stop_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int			c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al < bl ? -1 : al > bl);
}

static const FtsAnalyzer *sort_ctx;

static int
stop_sort_cmp(const void *x, const void *y)
{
	int			i = *(const int *) x,
				j = *(const int *) y;

	return stop_cmp(sort_ctx->stop[i], sort_ctx->stop_len[i], sort_ctx->stop[j], sort_ctx->stop_len[j]);
}

static bool
is_stop_word(const FtsAnalyzer *a, const char *w, size_t len)
{
	int			lo = 0,
				hi = a->nstop - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = stop_cmp(a->stop[mid], a->stop_len[mid], w, len);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/*
 * Load a stop word file as Postgres reads its tsearch_data/<lang>.stop:
 * one word a line, surrounding white space trimmed, empty lines skipped;
 * each word case folded like the text.
 */
static bool
load_stop_words(FtsAnalyzer *a, const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		linecap = 0;
	ssize_t		n;
	int			cap = 0,
				lineno = 0;

	if (!f)
	{
		snprintf(err, errlen, "cannot open stop word file \"%s\": %s", path, strerror(errno));
		return false;
	}
	while ((n = getline(&line, &linecap, f)) >= 0)
	{
		char	   *s = line,
				   *w;
		size_t		wl;

		lineno++;
		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		while (n > 0 && (*s == ' ' || *s == '\t'))
			s++, n--;
		if (n == 0)
			continue;
		if (!fold_word(s, n, &w, &wl))
		{
			snprintf(err, errlen, "stop word file \"%s\", line %d: not valid UTF-8", path, lineno);
			goto fail;
		}
		if (a->nstop == cap)
		{
			int			ncap = cap ? cap * 2 : 128;
			char	  **p = realloc(a->stop, sizeof(char *) * ncap);
			size_t	   *q;

			if (p)
				a->stop = p;
			q = p ? realloc(a->stop_len, sizeof(size_t) * ncap) : NULL;
			if (!q)
			{
				free(w);
				snprintf(err, errlen, "out of memory reading stop word file \"%s\"", path);
				goto fail;
			}
			a->stop_len = q;
			cap = ncap;
		}
		a->stop[a->nstop] = w;
		a->stop_len[a->nstop] = wl;
		a->nstop++;
	}
	free(line);
	fclose(f);
	if (a->nstop > 1)
	{
		/* sort through an index array: two parallel arrays */
		int		   *idx = malloc(sizeof(int) * a->nstop);
		char	  **s2 = malloc(sizeof(char *) * a->nstop);
		size_t	   *l2 = malloc(sizeof(size_t) * a->nstop);

		if (!idx || !s2 || !l2)
		{
			free(idx), free(s2), free(l2);
			snprintf(err, errlen, "out of memory reading stop word file \"%s\"", path);
			return false;
		}
		for (int i = 0; i < a->nstop; i++)
			idx[i] = i;
		sort_ctx = a;
		qsort(idx, a->nstop, sizeof(int), stop_sort_cmp);
		for (int i = 0; i < a->nstop; i++)
			s2[i] = a->stop[idx[i]], l2[i] = a->stop_len[idx[i]];
		free(a->stop), free(a->stop_len), free(idx);
		a->stop = s2;
		a->stop_len = l2;
	}
	return true;
fail:
	free(line);
	fclose(f);
	return false;
}

/* ------------------------------------------------------------- analyzer */

FtsAnalyzer *
fts_analyzer_new(const char *language, const char *stop_path, char *err, size_t errlen)
{
	FtsAnalyzer *a = calloc(1, sizeof(FtsAnalyzer));

	if (!a)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (language && strcmp(language, FTS_SIMPLE_CONFIG) != 0)
	{
		a->stemmer = sb_stemmer_new(language, "UTF_8");
		if (!a->stemmer)
		{
			snprintf(err, errlen, "libstemmer has no algorithm \"%s\"", language);
			fts_analyzer_free(a);
			return NULL;
		}
	}
	if (stop_path && !load_stop_words(a, stop_path, err, errlen))
	{
		fts_analyzer_free(a);
		return NULL;
	}
	return a;
}

void
fts_analyzer_free(FtsAnalyzer *a)
{
	if (!a)
		return;
	if (a->stemmer)
		sb_stemmer_delete(a->stemmer);
	for (int i = 0; i < a->nstop; i++)
		free(a->stop[i]);
	free(a->stop);
	free(a->stop_len);
	free(a->buf);
	free(a->buf2);
	free(a);
}

int
fts_analyzer_stop_word_count(const FtsAnalyzer *a)
{
	return a->nstop;
}

/*
 * Finish one token held in a->buf[0..len) (case folded; in the simple mode
 * diacritics are already removed).  Returns FTS_OK, FTS_STOPPED or
 * FTS_NO_MEMORY.
 */
static FtsResult
emit(FtsAnalyzer *a, size_t len, uint32_t pos, size_t start, size_t end,
	 FtsTokenFn fn, void *arg)
{
	const char *term = a->buf;
	size_t		tlen = len;

	if (a->nstop > 0 && is_stop_word(a, a->buf, len))
		return FTS_OK;			/* its position stays taken */
	if (a->stemmer)
	{
		const sb_symbol *st;
		size_t		n = 0;

		if (len > INT32_MAX)
			return FTS_NO_MEMORY;
		st = sb_stemmer_stem(a->stemmer, (const sb_symbol *) a->buf, (int) len);
		if (!st)
			return FTS_NO_MEMORY;
		tlen = sb_stemmer_length(a->stemmer);
		/* diacritics go after stemming: the stemmers expect them */
		if (!grow(&a->buf2, &a->buf2cap, tlen + 4))
			return FTS_NO_MEMORY;
		for (size_t i = 0; i < tlen;)
		{
			uint32_t	cp;
			int			l = fts_utf8_decode(st + i, tlen - i, &cp);

			if (l == 0)			/* not expected from libstemmer: keep the byte */
			{
				a->buf2[n++] = st[i++];
				continue;
			}
			cp = fts_fold(cp, true);
			if (cp)
				n += fts_utf8_encode(cp, a->buf2 + n);
			i += l;
		}
		term = a->buf2;
		tlen = n;
	}
	return fn(arg, term, tlen, pos, start, end) ? FTS_OK : FTS_STOPPED;
}

FtsResult
fts_analyze(FtsAnalyzer *a, const char *text, size_t len, FtsTokenFn fn, void *arg,
			size_t *bad_offset)
{
	const unsigned char *s = (const unsigned char *) text;
	bool		strip = (a->stemmer == NULL);	/* simple mode: FTS5's folding */
	size_t		i = 0;
	uint32_t	pos = 0;

	/* validate first, so that an error never follows emitted tokens */
	while (i < len)
	{
		uint32_t	cp;
		int			l;

		if (s[i] < 0x80)
		{
			i++;
			continue;
		}
		l = fts_utf8_decode(s + i, len - i, &cp);
		if (l == 0)
		{
			if (bad_offset)
				*bad_offset = i;
			return FTS_INVALID_UTF8;
		}
		i += l;
	}

	i = 0;
	while (i < len)
	{
		uint32_t	cp;
		int			l = fts_utf8_decode(s + i, len - i, &cp);
		size_t		start = i,
					n = 0;
		FtsResult	r;

		if (!fts_is_token_char(cp))
		{
			i += l;
			continue;
		}
		/* a token: token characters, and diacritics after its first one */
		for (;;)
		{
			uint32_t	f = fts_fold(cp, strip);

			if (!grow(&a->buf, &a->bufcap, n + 4))
				return FTS_NO_MEMORY;
			if (f)
				n += fts_utf8_encode(f, a->buf + n);
			i += l;
			if (i >= len)
				break;
			l = fts_utf8_decode(s + i, len - i, &cp);
			if (!fts_is_token_char(cp) && !fts_is_diacritic(cp))
				break;
		}
		r = emit(a, n, pos, start, i, fn, arg);
		if (r != FTS_OK)
			return r;
		pos++;
	}
	return FTS_OK;
}
