/*
 * unit_fts_analyzer — tests of the full-text analyzer core
 * (src/fulltext/fts_analyzer.c, docs/fulltext.md): word splitting, case
 * folding, diacritics, positions and byte ranges, empty and huge input,
 * invalid UTF-8 (an error before any token), stop words and Snowball
 * stemming.  The expected tokens are written out by hand from the rules of
 * SQLite FTS5's unicode61 tokenizer and the Snowball algorithms, not taken
 * from the analyzer.  Exit status 0 = pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fulltext/fts_analyzer.h"

static int	failures = 0;

#define CHECK(cond, ...) do { \
	if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); printf("\n"); } } while (0)

/* collected tokens: "term@pos" joined with spaces */
typedef struct Out
{
	char	   *s;
	size_t		len,
				cap;
	long		count;
	uint32_t	last_pos;
	size_t		last_start,
				last_end;
	long		stop_after;		/* ask to stop after this many (-1: never) */
	bool		keep;			/* build the string */
} Out;

static bool
collect(void *arg, const char *term, size_t len, uint32_t pos, size_t start, size_t end)
{
	Out		   *o = arg;

	o->count++;
	o->last_pos = pos;
	o->last_start = start;
	o->last_end = end;
	if (o->keep)
	{
		char		num[32];
		int			nl = snprintf(num, sizeof(num), "@%u", pos);

		if (o->len + len + nl + 2 > o->cap)
		{
			o->cap = (o->len + len + nl + 2) * 2;
			o->s = realloc(o->s, o->cap);
		}
		if (o->len)
			o->s[o->len++] = ' ';
		memcpy(o->s + o->len, term, len);
		o->len += len;
		memcpy(o->s + o->len, num, nl);
		o->len += nl;
		o->s[o->len] = 0;
	}
	return o->stop_after < 0 || o->count < o->stop_after;
}

static FtsResult
run(FtsAnalyzer *a, const char *text, size_t len, Out *o, size_t *bad)
{
	free(o->s);
	memset(o, 0, sizeof(*o));
	o->keep = true;
	o->stop_after = -1;
	o->s = calloc(1, 1);
	return fts_analyze(a, text, len, collect, o, bad);
}

static void
expect(FtsAnalyzer *a, const char *text, const char *want)
{
	Out			o = {0};
	FtsResult	r = run(a, text, strlen(text), &o, NULL);

	CHECK(r == FTS_OK, "\"%s\": result %d", text, r);
	CHECK(strcmp(o.s, want) == 0, "\"%s\": got \"%s\", want \"%s\"", text, o.s, want);
	free(o.s);
}

static void
expect_invalid(FtsAnalyzer *a, const char *text, size_t len, size_t want_off)
{
	Out			o = {0};
	size_t		bad = 12345;
	FtsResult	r = run(a, text, len, &o, &bad);

	CHECK(r == FTS_INVALID_UTF8, "invalid input at %zu: result %d", want_off, r);
	CHECK(bad == want_off, "invalid input: offset %zu, want %zu", bad, want_off);
	CHECK(o.count == 0, "invalid input: %ld tokens emitted before the error", o.count);
	free(o.s);
}

static void
test_characters(void)
{
	uint32_t	cp;
	char		buf[4];
	int			bad = 0;

	/* every scalar value round-trips through the strict codec */
	for (uint32_t c = 0; c <= FTS_UNICODE_MAX; c++)
	{
		int			n;

		if (c >= 0xD800 && c <= 0xDFFF)
			continue;
		n = fts_utf8_encode(c, buf);
		if (fts_utf8_decode((unsigned char *) buf, n, &cp) != n || cp != c)
			bad++;
	}
	CHECK(bad == 0, "%d code points do not round-trip", bad);
	CHECK(fts_is_token_char('a') && fts_is_token_char('Z') && fts_is_token_char('7'), "ASCII alnum");
	CHECK(!fts_is_token_char('_') && !fts_is_token_char('-') && !fts_is_token_char(' '), "ASCII punctuation");
	CHECK(fts_is_token_char(0x00E9) && fts_is_token_char(0x4E2D) && fts_is_token_char(0x0663), "é, 中, ٣");
	CHECK(fts_is_token_char(0xE000) && fts_is_token_char(0x10FFFD), "private use (Co)");
	CHECK(fts_is_token_char(0x0378), "unassigned U+0378 (Cn) is a token character, as in FTS5");
	CHECK(!fts_is_token_char(0xFFFE) && !fts_is_token_char(0xFFFF), "U+FFFE/U+FFFF separate");
	CHECK(!fts_is_token_char(0x00A0) && !fts_is_token_char(0x2014) && !fts_is_token_char(0x1F600),
		  "no-break space, em dash, emoji separate");
	CHECK(!fts_is_token_char(0x0301) && fts_is_diacritic(0x0301) && !fts_is_diacritic(0x0332),
		  "U+0301 continues a token; U+0332 does not");
	CHECK(fts_fold('A', true) == 'a' && fts_fold(0x00C9, false) == 0x00E9 && fts_fold(0x00C9, true) == 'e',
		  "É folds to é, or e without diacritics");
	CHECK(fts_fold(0x03A3, false) == 0x03C3 && fts_fold(0x03C2, false) == 0x03C3, "Σ and ς fold to σ");
	CHECK(fts_fold(0x00DF, true) == 0x00DF, "ß has no simple folding");
	CHECK(fts_fold(0x01D6, true) == 0x01D6, "ǖ (two marks) keeps them with remove_diacritics 1");
	CHECK(fts_fold(0x0301, true) == 0 && fts_fold(0x0301, false) == 0x0301, "a diacritic is dropped or kept");
	CHECK(fts_fold(0x10400, true) == 0x10428, "Deseret folds");
	CHECK(fts_fold(0x1E900, true) == 0x1E900, "Adlam (beyond the BMP) does not fold, as in FTS5");
	CHECK(strcmp(fts_unicode_version(), "15.0.0") == 0, "tables from Unicode %s", fts_unicode_version());
}

static void
test_simple(void)
{
	char		err[256];
	FtsAnalyzer *a = fts_analyzer_new(FTS_SIMPLE_CONFIG, NULL, err, sizeof(err));
	Out			o = {0};

	CHECK(a != NULL, "simple: %s", err);
	expect(a, "", "");
	expect(a, " ,.;-- _ ", "");
	expect(a, "Hello, World! foo_bar x1y2 I'm", "hello@0 world@1 foo@2 bar@3 x1y2@4 i@5 m@6");
	expect(a, "The the THE", "the@0 the@1 the@2");
	expect(a, "Éléphant ÇA naïve Ærø", "elephant@0 ca@1 naive@2 ærø@3");
	/* decomposed e + U+0301 is one token "e"; a mark never starts one */
	expect(a, "e\xCC\x81t\xC3\xA9 \xCC\x81x", "ete@0 x@1");
	expect(a, "ǖ Straße ΣΟΦΟΣ", "ǖ@0 straße@1 σοφοσ@2");
	expect(a, "中文字 ٣٤ a\xEE\x80\x80z", "中文字@0 ٣٤@1 a\xEE\x80\x80z@2");
	expect(a, "a\xC2\xA0" "b\xE2\x80\x94" "c\xF0\x9F\x98\x80" "d", "a@0 b@1 c@2 d@3");

	/* byte ranges */
	run(a, "  Ab, c\xC3\xA9", 10, &o, NULL);
	CHECK(o.count == 2 && o.last_start == 6 && o.last_end == 9 && o.last_pos == 1,
		  "byte range of \"cé\": %zu..%zu pos %u", o.last_start, o.last_end, o.last_pos);

	/* the callback stops the analysis */
	free(o.s);
	memset(&o, 0, sizeof(o));
	o.stop_after = 2;
	CHECK(fts_analyze(a, "a b c d", 7, collect, &o, NULL) == FTS_STOPPED && o.count == 2, "stop after 2");

	/* invalid UTF-8: an error at the first bad byte, before any token */
	expect_invalid(a, "ok \x80", 4, 3);				/* stray continuation */
	expect_invalid(a, "ab \xC0\x80", 5, 3);			/* overlong NUL */
	expect_invalid(a, "\xE0\x80\x80", 3, 0);			/* overlong */
	expect_invalid(a, "x \xED\xA0\x80 y", 7, 2);		/* surrogate */
	expect_invalid(a, "\xF4\x90\x80\x80", 4, 0);		/* above U+10FFFF */
	expect_invalid(a, "word \xE2\x82", 7, 5);		/* truncated */
	expect_invalid(a, "\xF5\x80\x80\x80", 4, 0);
	expect_invalid(a, "abc \xC3(", 6, 4);			/* bad continuation */
	free(o.s);
	fts_analyzer_free(a);
}

static void
test_huge(void)
{
	char		err[256];
	FtsAnalyzer *a = fts_analyzer_new(FTS_SIMPLE_CONFIG, NULL, err, sizeof(err));
	size_t		n = 30 * 1000 * 1000;
	char	   *big = malloc(n);
	Out			o = {0};

	/* 10 million tokens "ab" */
	for (size_t i = 0; i < n; i += 3)
		memcpy(big + i, "Ab ", 3);
	o.stop_after = -1;
	CHECK(fts_analyze(a, big, n, collect, &o, NULL) == FTS_OK, "huge");
	CHECK(o.count == 10000000 && o.last_pos == 9999999 && o.last_start == n - 3,
		  "huge: %ld tokens, last at %u", o.count, o.last_pos);

	/* one token of 30 MB */
	memset(big, 'Q', n);
	memset(&o, 0, sizeof(o));
	o.stop_after = -1;
	CHECK(fts_analyze(a, big, n, collect, &o, NULL) == FTS_OK && o.count == 1 && o.last_end == n,
		  "one huge token: %ld", o.count);
	free(big);
	fts_analyzer_free(a);
}

static void
test_language(void)
{
	char		err[256];
	char		path[] = "/tmp/unit_fts_stopXXXXXX";
	int			fd = mkstemp(path);
	FILE	   *f = fdopen(fd, "w");
	FtsAnalyzer *a;

	fputs("the\n  And \n\n\xC3\x9C" "ber\r\nof\n", f);	/* "Über" folds to "über" */
	fclose(f);
	a = fts_analyzer_new("english", path, err, sizeof(err));
	CHECK(a != NULL, "english: %s", err);
	if (a)
	{
		CHECK(fts_analyzer_stop_word_count(a) == 4, "4 stop words, got %d", fts_analyzer_stop_word_count(a));
		/* stop words keep their positions; known Snowball English stems */
		expect(a, "The running ponies and the caresses", "run@1 poni@2 caress@5");
		expect(a, "über generously ÜBER happiness Of", "generous@1 happi@3");
		/* diacritics go after stemming */
		expect(a, "Naïvely", "naiv@0");
		fts_analyzer_free(a);
	}
	a = fts_analyzer_new("german", NULL, err, sizeof(err));
	CHECK(a != NULL, "german: %s", err);
	if (a)
	{
		/* the German stemmer sees the umlauts (häuser -> haus), then they go */
		expect(a, "Häuser Bücher", "haus@0 buch@1");
		fts_analyzer_free(a);
	}
	unlink(path);
	CHECK(fts_analyzer_new("klingon", NULL, err, sizeof(err)) == NULL && strstr(err, "klingon"),
		  "unknown language: %s", err);
	CHECK(fts_analyzer_new("english", "/nonexistent/x.stop", err, sizeof(err)) == NULL &&
		  strstr(err, "/nonexistent/x.stop"), "missing stop file: %s", err);
	f = fopen(path, "w");
	fputs("ok\n\xFF\n", f);
	fclose(f);
	CHECK(fts_analyzer_new("english", path, err, sizeof(err)) == NULL && strstr(err, "line 2"),
		  "invalid stop file: %s", err);
	unlink(path);
	{
		bool		english = false;

		for (const char **l = fts_stemmer_languages(); *l; l++)
			english |= strcmp(*l, "english") == 0;
		CHECK(english, "libstemmer lists english");
	}
}

int
main(void)
{
	test_characters();
	test_simple();
	test_huge();
	test_language();
	if (failures)
	{
		printf("unit_fts_analyzer: %d failures\n", failures);
		return 1;
	}
	printf("unit_fts_analyzer: all passed\n");
	return 0;
}
