/*
 * unit_fts_query — BM25 queries (src/fulltext/fts_query.c) against an
 * independent oracle.
 *
 *   - the parser: a table of FTS5 query texts and the trees they give
 *     (precedence: implicit AND > NOT > AND > OR, left associative; "",
 *     '+', empty phrases as FTS5's EOF nodes, stop word gaps) or the
 *     errors (syntax, unsupported FTS5 syntax, limits);
 *   - random corpora (1 to 3 sources of array postings with positions and
 *     block bounds, 1 to 3 fields with weights 2 / 1 / 0.5, position gaps,
 *     deleted documents) and random queries (phrases of 1 to 3 terms,
 *     implicit and explicit AND, OR, NOT, nesting, empty phrases, absent
 *     terms), built as the oracle's own tree and rendered as FTS5 text:
 *     the oracle evaluates every document from its token list (its own
 *     phrase matcher, boolean evaluation and BM25 sum) and
 *       * fts_query_df equals the oracle's phrase document counts,
 *       * fts_query_doc equals its per-document frequencies and match,
 *       * fts_query_matches returns exactly the oracle's matching rows,
 *       * fts_query_topk returns the oracle's top-k (scores within 1e-9
 *         relative, the same rows up to ties).
 * Exit status 0 = pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fulltext/fts_postings.h"
#include "fulltext/fts_query.h"

static int	failures = 0;
static int	checks = 0;

#define CHECK(cond, ...) do { checks++; \
	if (!(cond)) { failures++; if (failures < 30) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); printf("\n"); } } } while (0)

static void *
m_alloc(void *arg, size_t n)
{
	(void) arg;
	return malloc(n ? n : 1);
}

static void
m_free(void *arg, void *p)
{
	(void) arg;
	free(p);
}

static FtsAllocator mem = {m_alloc, m_free, NULL};

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
rn(int n)
{
	return (int) (rnd() % (uint64_t) n);
}

/* ------------------------------------------------------------ parser -- */

static void
expect_tree(FtsAnalyzer *a, const char *query, const char *tree)
{
	FtsQuery   *q = NULL;
	char		err[256],
				buf[1024];
	FtsQueryStatus st = fts_query_parse(query, strlen(query), a, &mem, &q, err, sizeof(err));

	CHECK(st == FTS_QUERY_OK, "parse [%s]: status %d: %s", query, st, err);
	if (st != FTS_QUERY_OK)
		return;
	fts_query_format(q, buf, sizeof(buf));
	CHECK(strcmp(buf, tree) == 0, "[%s] gives %s, expected %s", query, buf, tree);
	fts_query_free(q);
}

static void
expect_error(FtsAnalyzer *a, const char *query, FtsQueryStatus want, const char *msg)
{
	FtsQuery   *q = NULL;
	char		err[256];
	FtsQueryStatus st = fts_query_parse(query, strlen(query), a, &mem, &q, err, sizeof(err));

	CHECK(st == want && q == NULL && strstr(err, msg) != NULL,
		  "[%s]: status %d (want %d), message \"%s\" (want \"%s\")", query, st, want, err, msg);
	fts_query_free(q);
}

/* An allocator failing after n allocations: every error path frees. */
static int	fail_after;
static int	live_allocs;

static void *
f_alloc(void *arg, size_t n)
{
	(void) arg;
	if (fail_after-- <= 0)
		return NULL;
	live_allocs++;
	return malloc(n ? n : 1);
}

static void
f_free(void *arg, void *p)
{
	(void) arg;
	live_allocs--;
	free(p);
}

static void
test_parser(void)
{
	char		err[256];
	FtsAnalyzer *s = fts_analyzer_new(FTS_SIMPLE_CONFIG, NULL, err, sizeof(err));
	FtsAnalyzer *en = fts_analyzer_new("english", "/usr/share/postgresql/15/tsearch_data/english.stop",
									   err, sizeof(err));
	char		big[4096];

	CHECK(s != NULL && en != NULL, "analyzers: %s", err);
	if (s == NULL || en == NULL)
		return;
	expect_tree(s, "a", "\"a\"");
	expect_tree(s, "Hello", "\"hello\"");
	expect_tree(s, "a b c", "(AND (AND \"a\" \"b\") \"c\")");
	expect_tree(s, "a AND b", "(AND \"a\" \"b\")");
	expect_tree(s, "a OR b AND c", "(OR \"a\" (AND \"b\" \"c\"))");
	expect_tree(s, "a AND b OR c", "(OR (AND \"a\" \"b\") \"c\")");
	expect_tree(s, "a AND b NOT c", "(AND \"a\" (NOT \"b\" \"c\"))");
	expect_tree(s, "a NOT b AND c", "(AND (NOT \"a\" \"b\") \"c\")");
	expect_tree(s, "a NOT b NOT c", "(NOT (NOT \"a\" \"b\") \"c\")");
	expect_tree(s, "c NOT a b", "(NOT \"c\" (AND \"a\" \"b\"))");
	expect_tree(s, "a OR b c", "(OR \"a\" (AND \"b\" \"c\"))");
	expect_tree(s, "a OR b OR c", "(OR (OR \"a\" \"b\") \"c\")");
	expect_tree(s, "(a OR b) AND c", "(AND (OR \"a\" \"b\") \"c\")");
	expect_tree(s, "((a))", "\"a\"");
	expect_tree(s, "\"a b\"", "\"a b\"");
	expect_tree(s, "\"a b\" c", "(AND \"a b\" \"c\")");
	expect_tree(s, "a+b", "\"a b\"");
	expect_tree(s, "\"a\" + \"b c\" + d", "\"a b c d\"");
	expect_tree(s, "a_b", "\"a b\"");
	expect_tree(s, "\"It\"\"s\"", "\"it s\"");
	expect_tree(s, "\"AND\" \"or\"", "(AND \"and\" \"or\")");
	expect_tree(s, "and or not", "(AND (AND \"and\" \"or\") \"not\")");
	expect_tree(s, "near", "\"near\"");
	expect_tree(s, "NEAR", "\"near\"");
	expect_tree(s, "Élan ÇA", "(AND \"elan\" \"ca\")");
	expect_tree(s, " \t a \r\n", "\"a\"");
	/* empty phrases: FTS5's EOF */
	expect_tree(s, "\"...\"", "(EMPTY)");
	expect_tree(s, "\"...\" a", "\"a\"");
	expect_tree(s, "a \"...\" b", "(AND \"a\" \"b\")");
	expect_tree(s, "\"...\" AND a", "(EMPTY)");
	expect_tree(s, "a AND \"...\"", "(EMPTY)");
	expect_tree(s, "\"...\" OR a", "\"a\"");
	expect_tree(s, "a NOT \"...\"", "\"a\"");
	expect_tree(s, "\"...\" NOT a", "(EMPTY)");
	expect_tree(s, "(a AND \"\") OR b", "\"b\"");
	expect_tree(s, "\"\"", "(EMPTY)");
	/* stop words keep their gaps; a phrase of stop words is empty */
	expect_tree(en, "\"the running of the dogs\"", "\"run dog@3\"");
	expect_tree(en, "\"of the dogs\"", "\"dog\"");
	expect_tree(en, "the dogs", "\"dog\"");
	expect_tree(en, "the AND dogs", "(EMPTY)");
	expect_tree(en, "\"runs\" + \"the dogs\"", "\"run dog@2\"");
	/* errors */
	expect_error(s, "", FTS_QUERY_SYNTAX, "syntax error at end of query");
	expect_error(s, "   ", FTS_QUERY_SYNTAX, "syntax error at end of query");
	expect_error(s, "AND", FTS_QUERY_SYNTAX, "syntax error near \"AND\"");
	expect_error(s, "a AND", FTS_QUERY_SYNTAX, "at end of query");
	expect_error(s, "a OR OR b", FTS_QUERY_SYNTAX, "near \"OR\"");
	expect_error(s, "NOT a", FTS_QUERY_SYNTAX, "near \"NOT\"");
	expect_error(s, "()", FTS_QUERY_SYNTAX, "near \")\"");
	expect_error(s, "(a", FTS_QUERY_SYNTAX, "at end of query");
	expect_error(s, "a)", FTS_QUERY_SYNTAX, "near \")\"");
	expect_error(s, "a (b)", FTS_QUERY_SYNTAX, "near \"(\"");
	expect_error(s, "(a) b", FTS_QUERY_SYNTAX, "near \"b\"");
	expect_error(s, "(a OR b) c", FTS_QUERY_SYNTAX, "near \"c\"");
	expect_error(s, "\"NEAR\" (a)", FTS_QUERY_SYNTAX, "near \"(\"");
	expect_error(s, "a.b", FTS_QUERY_SYNTAX, "near \".\"");
	expect_error(s, "a + OR", FTS_QUERY_SYNTAX, "near \"OR\"");
	expect_error(s, "\"abc", FTS_QUERY_SYNTAX, "unterminated string");
	expect_error(s, "a\"\"\"", FTS_QUERY_SYNTAX, "unterminated string");
	expect_error(s, "a*", FTS_QUERY_UNSUPPORTED, "prefix");
	expect_error(s, "body:a", FTS_QUERY_UNSUPPORTED, "column filter");
	expect_error(s, "{a b}: c", FTS_QUERY_UNSUPPORTED, "column filter");
	expect_error(s, "a -b:c", FTS_QUERY_UNSUPPORTED, "column filter");
	expect_error(s, "^a", FTS_QUERY_UNSUPPORTED, "initial token");
	expect_error(s, "NEAR(a b)", FTS_QUERY_UNSUPPORTED, "NEAR");
	expect_error(s, "x NEAR (a b, 3)", FTS_QUERY_UNSUPPORTED, "NEAR");
	expect_error(s, "a\xff", FTS_QUERY_BAD_TEXT, "UTF-8");
	{
		const char	nul[] = "a\0b";
		FtsQuery   *q = NULL;

		CHECK(fts_query_parse(nul, 3, s, &mem, &q, err, sizeof(err)) == FTS_QUERY_SYNTAX &&
			  q == NULL && strstr(err, "NUL"), "NUL byte: %s", err);
	}
	/* limits */
	big[0] = '\0';
	for (int i = 0; i < 65; i++)
		strcat(big, i ? " OR a" : "a");
	expect_error(s, big, FTS_QUERY_LIMIT, "more than 64 phrases");
	big[0] = '\0';
	for (int i = 0; i < 64; i++)
		strcat(big, i ? " OR a" : "a");
	{
		FtsQuery   *q = NULL;

		CHECK(fts_query_parse(big, strlen(big), s, &mem, &q, err, sizeof(err)) == FTS_QUERY_OK &&
			  q->nphrases == 64, "64 phrases: %s", err);
		fts_query_free(q);
	}
	memset(big, 0, sizeof(big));
	for (int i = 0; i < 65; i++)
		big[i] = '(';
	strcat(big, "a");
	for (int i = 0; i < 65; i++)
		strcat(big, ")");
	expect_error(s, big, FTS_QUERY_LIMIT, "parentheses");
	strcpy(big, "\"");
	for (int i = 0; i < 33; i++)
		strcat(big, "w ");
	strcat(big, "\"");
	expect_error(s, big, FTS_QUERY_LIMIT, "32 terms");
	/* failing allocations: an error, nothing kept */
	for (int n = 0; n < 40; n++)
	{
		FtsAllocator fa = {f_alloc, f_free, NULL};
		FtsQuery   *q = NULL;
		FtsQueryStatus st;
		const char *text = "(a OR \"b c d\") AND e NOT f g h";

		fail_after = n;
		live_allocs = 0;
		st = fts_query_parse(text, strlen(text), s, &fa, &q, err, sizeof(err));
		CHECK(st == FTS_QUERY_OK || (st == FTS_QUERY_NO_MEMORY && q == NULL),
			  "failing allocator %d: status %d", n, st);
		fts_query_free(q);
		CHECK(live_allocs == 0, "failing allocator %d: %d allocations left", n, live_allocs);
	}
	fts_analyzer_free(s);
	fts_analyzer_free(en);
}

/* ------------------------------------------------------------ corpus -- */

#define NWORDS 10
static const char *words[NWORDS] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};

typedef struct Doc
{
	int			ntok;
	int			word[64];		/* index in words */
	uint32_t	pos[64];		/* FTS_POSITION, increasing */
	bool		deleted;
	uint64_t	ref;
} Doc;

typedef struct Posting
{
	uint64_t	doc;
	double		f;
	int			npos;
	uint32_t	pos[64];
} Posting;

typedef struct Src
{
	FtsSource	s;
	Doc		   *docs;
	int			ndocs;
	int			block;			/* postings per block */
	Posting    *post[NWORDS];	/* by word */
	int			npost[NWORDS];
	int			src_index,
				nsrc;
} Src;

static double weights[3] = {2.0, 1.0, 0.5};

typedef struct ACursor
{
	FtsCursor	c;
	Src		   *src;
	int			w;
	int			at;				/* current posting, -1 before the first */
	const FtsBm25 *p;
} ACursor;

static double
block_bound(ACursor *ac, int blk)
{
	Src		   *s = ac->src;
	double		maxf = 0,
				mindl = 1e300;

	for (int i = blk * s->block; i < (blk + 1) * s->block && i < s->npost[ac->w]; i++)
	{
		Posting    *p = &s->post[ac->w][i];

		if (p->f > maxf)
			maxf = p->f;
		if (s->docs[p->doc].ntok < mindl)
			mindl = s->docs[p->doc].ntok;
	}
	return fts_bm25_bound(ac->p, ac->c.idf, maxf, mindl);
}

static bool
a_next(FtsCursor *c, uint64_t target)
{
	ACursor    *ac = (ACursor *) c;
	Src		   *s = ac->src;

	if (ac->at < 0)
		ac->at = 0;
	while (ac->at < s->npost[ac->w] && s->post[ac->w][ac->at].doc < target)
		ac->at++;
	if (ac->at >= s->npost[ac->w])
		return false;
	c->doc = s->post[ac->w][ac->at].doc;
	c->f = s->post[ac->w][ac->at].f;
	return true;
}

static bool
a_shallow(FtsCursor *c, uint64_t target, uint64_t *last, double *bound)
{
	ACursor    *ac = (ACursor *) c;
	Src		   *s = ac->src;
	int			i = 0,
				blk,
				end;

	while (i < s->npost[ac->w] && s->post[ac->w][i].doc < target)
		i++;
	if (i >= s->npost[ac->w])
		return false;
	blk = i / s->block;
	end = (blk + 1) * s->block;
	if (end > s->npost[ac->w])
		end = s->npost[ac->w];
	*last = s->post[ac->w][end - 1].doc;
	*bound = block_bound(ac, blk);
	return true;
}

static int
a_positions(FtsCursor *c, const uint32_t **pos)
{
	ACursor    *ac = (ACursor *) c;
	Posting    *p = &ac->src->post[ac->w][ac->at];

	*pos = p->pos;
	return p->npos;
}

static int
word_of(const char *t, size_t len)
{
	for (int i = 0; i < NWORDS; i++)
		if (strlen(words[i]) == len && memcmp(words[i], t, len) == 0)
			return i;
	return -1;
}

static uint64_t
a_term_df(FtsSource *fs, const char *t, size_t len)
{
	Src		   *s = (Src *) fs;
	int			w = word_of(t, len);

	return w < 0 ? 0 : (uint64_t) s->npost[w];
}

/* Cursors live as long as the source: a simple list freed at the end. */
static void *cursor_list[100000];
static int	ncursors;

static FtsCursor *
a_open(FtsSource *fs, const char *t, size_t len, const FtsBm25 *p, double idf)
{
	Src		   *s = (Src *) fs;
	int			w = word_of(t, len);
	ACursor    *ac;

	if (w < 0 || s->npost[w] == 0)
		return NULL;
	ac = calloc(1, sizeof(ACursor));
	cursor_list[ncursors++] = ac;
	ac->src = s;
	ac->w = w;
	ac->at = -1;
	ac->p = p;
	ac->c.idf = idf;
	ac->c.weight = 1.0;
	ac->c.next = a_next;
	ac->c.shallow = a_shallow;
	ac->c.positions = a_positions;
	ac->c.max_bound = 0;
	for (int b = 0; b * s->block < s->npost[w]; b++)
	{
		double		x = block_bound(ac, b);

		if (x > ac->c.max_bound)
			ac->c.max_bound = x;
	}
	return &ac->c;
}

static double
a_doclen(FtsSource *fs, uint64_t doc)
{
	return ((Src *) fs)->docs[doc].ntok;
}

static uint64_t
a_ref(FtsSource *fs, uint64_t doc)
{
	return ((Src *) fs)->docs[doc].ref;
}

static bool
a_deleted(FtsSource *fs, uint64_t doc)
{
	return ((Src *) fs)->docs[doc].deleted;
}

static void
build_source(Src *s, int ndocs, int nfields, int nsrc, int si)
{
	memset(s, 0, sizeof(*s));
	s->docs = calloc(ndocs ? ndocs : 1, sizeof(Doc));
	s->ndocs = ndocs;
	s->block = 1 + rn(6);
	for (int d = 0; d < ndocs; d++)
	{
		Doc		   *doc = &s->docs[d];

		doc->ref = (uint64_t) d * nsrc + si;	/* refs grow with docs */
		doc->deleted = rn(10) == 0;
		for (int fld = 0; fld < nfields; fld++)
		{
			int			len = rn(12);
			uint32_t	p = 0;

			for (int i = 0; i < len && doc->ntok < 64; i++)
			{
				/* skewed words, and gaps as stop words leave */
				int			w = rn(3) == 0 ? rn(NWORDS) : rn(4);

				if (rn(8) == 0)
					p++;
				doc->word[doc->ntok] = w;
				doc->pos[doc->ntok] = FTS_POSITION(fld, p);
				doc->ntok++;
				p++;
			}
		}
	}
	for (int w = 0; w < NWORDS; w++)
	{
		s->post[w] = calloc(ndocs ? ndocs : 1, sizeof(Posting));
		for (int d = 0; d < ndocs; d++)
		{
			Posting    *p = &s->post[w][s->npost[w]];

			memset(p, 0, sizeof(*p));
			p->doc = d;
			for (int i = 0; i < s->docs[d].ntok; i++)
				if (s->docs[d].word[i] == w)
				{
					p->pos[p->npos++] = s->docs[d].pos[i];
					p->f += weights[FTS_POSITION_FIELD(s->docs[d].pos[i])];
				}
			if (p->npos > 0)
				s->npost[w]++;
		}
	}
	s->s.ndocs = ndocs;
	s->s.ntokens = 0;
	for (int d = 0; d < ndocs; d++)
		s->s.ntokens += s->docs[d].ntok;
	s->s.nfields = nfields;
	s->s.field_weights = weights;
	s->s.term_df = a_term_df;
	s->s.open_term = a_open;
	s->s.doclen = a_doclen;
	s->s.doc_ref = a_ref;
	s->s.deleted = a_deleted;
}

static void
free_source(Src *s)
{
	for (int w = 0; w < NWORDS; w++)
		free(s->post[w]);
	free(s->docs);
}

/* ------------------------------------------------------------ oracle -- */

typedef enum OType
{
	O_PHRASE, O_RUN, O_AND, O_OR, O_NOT
} OType;

typedef struct ONode
{
	OType		type;
	int			nw;				/* O_PHRASE: words (-1: absent "zz"), nw 0: empty */
	int			w[3];
	int			n;				/* O_RUN: children; the others: 2 */
	struct ONode *kid[3];
} ONode;

static ONode pool[4096];
static int	npool;

static ONode *
gen(int depth)
{
	ONode	   *n = &pool[npool++];
	int			r = depth <= 0 ? 0 : rn(6);

	memset(n, 0, sizeof(*n));
	if (r <= 1)
	{
		n->type = O_PHRASE;
		n->nw = rn(12) == 0 ? 0 : 1 + (rn(3) == 0 ? rn(3) : 0);
		for (int i = 0; i < n->nw; i++)
			n->w[i] = rn(20) == 0 ? -1 : (rn(2) ? rn(4) : rn(NWORDS));
		return n;
	}
	if (r == 2)
	{
		n->type = O_RUN;
		n->n = 2 + rn(2);
		for (int i = 0; i < n->n; i++)
		{
			n->kid[i] = gen(0);
		}
		return n;
	}
	n->type = r == 3 ? O_AND : r == 4 ? O_OR : O_NOT;
	n->n = 2;
	n->kid[0] = gen(depth - 1);
	n->kid[1] = gen(depth - 1);
	return n;
}

static void
render(ONode *n, char *out, bool top)
{
	static const char *ops[] = {"", "", " AND ", " OR ", " NOT "};

	switch (n->type)
	{
		case O_PHRASE:
			if (n->nw == 0)
			{
				strcat(out, rn(2) ? "\"..\"" : "\"\"");
				return;
			}
			if (n->nw == 1 && rn(2))
			{
				strcat(out, n->w[0] < 0 ? "zz" : words[n->w[0]]);
				return;
			}
			if (rn(3) == 0)
			{
				/* a + b */
				for (int i = 0; i < n->nw; i++)
				{
					if (i)
						strcat(out, " + ");
					strcat(out, n->w[i] < 0 ? "zz" : words[n->w[i]]);
				}
				return;
			}
			strcat(out, "\"");
			for (int i = 0; i < n->nw; i++)
			{
				if (i)
					strcat(out, " ");
				strcat(out, n->w[i] < 0 ? "ZZ" : words[n->w[i]]);
			}
			strcat(out, "\"");
			return;
		case O_RUN:
			for (int i = 0; i < n->n; i++)
			{
				if (i)
					strcat(out, " ");
				render(n->kid[i], out, false);
			}
			return;
		default:
			if (!top)
				strcat(out, "(");
			render(n->kid[0], out, false);
			strcat(out, ops[n->type]);
			render(n->kid[1], out, false);
			if (!top)
				strcat(out, ")");
			return;
	}
}

/* FTS5's EOF rules: NULL is the empty node. */
static ONode *
simplify(ONode *n)
{
	ONode	   *l,
			   *r,
			   *acc = NULL;

	switch (n->type)
	{
		case O_PHRASE:
			return n->nw == 0 ? NULL : n;
		case O_RUN:
			for (int i = 0; i < n->n; i++)
			{
				ONode	   *k = simplify(n->kid[i]);
				ONode	   *a;

				if (k == NULL)
					continue;
				if (acc == NULL)
				{
					acc = k;
					continue;
				}
				a = &pool[npool++];
				memset(a, 0, sizeof(*a));
				a->type = O_AND;
				a->n = 2;
				a->kid[0] = acc;
				a->kid[1] = k;
				acc = a;
			}
			return acc;
		default:
			l = simplify(n->kid[0]);
			r = simplify(n->kid[1]);
			if (n->type == O_AND)
				return l && r ? (n->kid[0] = l, n->kid[1] = r, n) : NULL;
			if (n->type == O_OR)
				return !l ? r : !r ? l : (n->kid[0] = l, n->kid[1] = r, n);
			return !l ? NULL : !r ? l : (n->kid[0] = l, n->kid[1] = r, n);
	}
}

static ONode *ophr[128];
static int	nophr;

static void
list_phrases(ONode *n)
{
	if (n->type == O_PHRASE)
	{
		ophr[nophr++] = n;
		return;
	}
	list_phrases(n->kid[0]);
	list_phrases(n->kid[1]);
}

/* weighted occurrences of phrase n in doc: brute force over token pairs */
static double
o_freq(const ONode *n, const Doc *d)
{
	double		f = 0;

	for (int i = 0; i < d->ntok; i++)
	{
		bool		ok = true;

		for (int j = 0; j < n->nw && ok; j++)
		{
			bool		found = false;

			for (int t = 0; t < d->ntok; t++)
				if (d->pos[t] == d->pos[i] + (uint32_t) j && d->word[t] == n->w[j])
					found = true;
			ok = found;
		}
		if (ok)
			f += weights[FTS_POSITION_FIELD(d->pos[i])];
	}
	return f;
}

static bool
o_eval(const ONode *n, const Doc *d)
{
	switch (n->type)
	{
		case O_PHRASE:
			return o_freq(n, d) > 0;
		case O_AND:
			return o_eval(n->kid[0], d) && o_eval(n->kid[1], d);
		case O_OR:
			return o_eval(n->kid[0], d) || o_eval(n->kid[1], d);
		case O_NOT:
			return o_eval(n->kid[0], d) && !o_eval(n->kid[1], d);
		default:
			return false;
	}
}

/* FTS5's scored phrases: those of the parts of the query the doc matches */
static bool
o_counted(const ONode *n, const Doc *d, const ONode *p)
{
	if (!o_eval(n, d))
		return false;
	switch (n->type)
	{
		case O_PHRASE:
			return n == p;
		case O_AND:
		case O_OR:
			return o_counted(n->kid[0], d, p) || o_counted(n->kid[1], d, p);
		case O_NOT:
			return o_counted(n->kid[0], d, p);
		default:
			return false;
	}
}

typedef struct OHit
{
	uint64_t	ref;
	double		score;
} OHit;

static int
cmp_ohit(const void *a, const void *b)
{
	const OHit *x = a,
			   *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a,
				y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

typedef struct Collect
{
	uint64_t   *refs;
	int			n;
} Collect;

static bool
collect(void *arg, uint64_t ref)
{
	Collect    *c = arg;

	c->refs[c->n++] = ref;
	return true;
}

static bool
close_enough(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)) + 1e-300;
}

/* ---- the same corpus as a postings image (fts_postings.c) ---- */

static void *
p_alloc(void *arg, size_t n)
{
	(void) arg;
	return malloc(n ? n : 1);
}

static void *
p_realloc(void *arg, void *ptr, size_t old, size_t n)
{
	(void) arg;
	(void) old;
	return realloc(ptr, n ? n : 1);
}

static FtsAlloc palloc_ = {p_alloc, p_realloc, m_free, NULL};

/* The image's FtsSource with the array corpus's deleted documents. */
typedef struct ImageSource
{
	FtsSource	s;				/* a copy of the reader's, state unchanged */
	Src		   *arr;
	FtsPostingsReader *r;
	uint8_t    *image;
} ImageSource;

static bool
img_deleted(FtsSource *fs, uint64_t doc)
{
	return ((ImageSource *) fs)->arr->docs[doc].deleted;
}

static bool
build_image(Src *s, int nfields, ImageSource *out)
{
	FtsPostingsError err;
	FtsPostingsBuilder *b = fts_postings_builder_create(&palloc_, nfields, weights, 0, &err);
	size_t		size;

	memset(out, 0, sizeof(*out));
	if (b == NULL)
		return false;
	for (int d = 0; d < s->ndocs; d++)
	{
		Doc		   *doc = &s->docs[d];

		if (fts_postings_begin_doc(b, doc->ref, &err) != FTSP_OK)
			return false;
		for (int t = 0; t < doc->ntok; t++)
			if (fts_postings_add_token(b, words[doc->word[t]], strlen(words[doc->word[t]]),
									   doc->pos[t], &err) != FTSP_OK)
				return false;
		if (fts_postings_end_doc(b, (uint32_t) doc->ntok, &err) != FTSP_OK)
			return false;
	}
	if (fts_postings_builder_finish(b, &out->image, &size, &err) != FTSP_OK)
		return false;
	fts_postings_builder_free(b);
	out->r = fts_postings_open(&palloc_, out->image, size, FTSP_OPEN_VALIDATE_ALL, &err);
	if (out->r == NULL)
	{
		printf("image: %s\n", err.message);
		return false;
	}
	out->s = *fts_postings_source(out->r);
	out->s.deleted = img_deleted;
	out->arr = s;
	return true;
}

static void
free_image(ImageSource *im)
{
	if (im->r)
		fts_postings_close(im->r);
	free(im->image);
}

static long topk_scored,
			topk_matches,
			topk_rejected;

static void
test_random(int rounds, bool images)
{
	char		err[256];
	FtsAnalyzer *an = fts_analyzer_new(FTS_SIMPLE_CONFIG, NULL, err, sizeof(err));

	for (int round = 0; round < rounds; round++)
	{
		int			nsrc = 1 + rn(3);
		int			nfields = 1 + rn(3);
		Src			src[3];
		ImageSource img[3];
		FtsSource  *fs[3];
		int			total = 0;
		FtsBm25		p;
		double		tokens = 0;

		for (int s = 0; s < nsrc; s++)
		{
			build_source(&src[s], rn(4) == 0 ? rn(5) : 20 + rn(300), nfields, nsrc, s);
			fs[s] = &src[s].s;
			if (images)
			{
				bool		ok = build_image(&src[s], nfields, &img[s]);

				CHECK(ok, "building the image of source %d", s);
				if (!ok)
					return;
				fs[s] = &img[s].s;
			}
			total += src[s].ndocs;
			for (int d = 0; d < src[s].ndocs; d++)
				tokens += src[s].docs[d].ntok;
		}
		p.k1 = rn(2) ? 1.2 : 0.9;
		p.b = rn(2) ? 0.75 : 0.4;
		p.idf = rn(2) ? FTS_IDF_FTS5 : FTS_IDF_LUCENE;
		p.impact = false;
		for (int qi = 0; qi < 20; qi++)
		{
			char		text[8192] = "";
			ONode	   *tree,
					   *simple;
			FtsQuery   *q = NULL;
			FtsQueryStatus st;
			double		odf[128],
						qdf[128],
						oidf[128];
			OHit	   *oh = malloc(sizeof(OHit) * (total + 1));
			int			nmatch = 0;
			uint64_t   *orefs = malloc(sizeof(uint64_t) * (total + 1));
			Collect		col = {malloc(sizeof(uint64_t) * (total + 1)), 0};
			double		avgdl = total > 0 && tokens > 0 ? tokens / total : 1.0;
			int			k = 1 + rn(rn(4) == 0 ? 60 : 12);
			FtsHit	   *hits = malloc(sizeof(FtsHit) * k);
			int			got;
			FtsQueryStats qs;

			npool = 0;
			tree = gen(1 + rn(3));
			render(tree, text, true);
			st = fts_query_parse(text, strlen(text), an, &mem, &q, err, sizeof(err));
			CHECK(st == FTS_QUERY_OK, "[%s]: %s", text, err);
			if (st != FTS_QUERY_OK)
				goto next;
			simple = simplify(tree);
			nophr = 0;
			if (simple)
				list_phrases(simple);
			CHECK(fts_query_empty(q) == (simple == NULL) && q->nphrases == nophr,
				  "[%s]: %d phrases, oracle %d", text, q->nphrases, nophr);
			if (q->nphrases != nophr)
				goto next;
			/* phrase df */
			for (int i = 0; i < nophr; i++)
			{
				odf[i] = 0;
				for (int s = 0; s < nsrc; s++)
					for (int d = 0; d < src[s].ndocs; d++)
						if (o_freq(ophr[i], &src[s].docs[d]) > 0)
							odf[i]++;
				if (p.idf == FTS_IDF_FTS5)
				{
					oidf[i] = log((total - odf[i] + 0.5) / (odf[i] + 0.5));
					if (oidf[i] <= 0)
						oidf[i] = 1e-6;
				}
				else
					oidf[i] = log(1 + (total - odf[i] + 0.5) / (odf[i] + 0.5));
			}
			CHECK(fts_query_df(q, fs, nsrc, &mem, qdf), "df: no memory");
			for (int i = 0; i < nophr; i++)
				CHECK(qdf[i] == odf[i], "[%s] phrase %d: df %g, oracle %g", text, i, qdf[i], odf[i]);
			/* every document: frequencies, match, score */
			for (int s = 0; s < nsrc; s++)
				for (int d = 0; d < src[s].ndocs; d++)
				{
					Doc		   *doc = &src[s].docs[d];
					FtsDocToken tok[64];
					double		f[128],
								score = 0;
					bool		match,
								omatch = simple != NULL && o_eval(simple, doc);

					for (int t = 0; t < doc->ntok; t++)
					{
						/* reversed: the function sorts them */
						int			u = doc->ntok - 1 - t;

						tok[t].term = words[doc->word[u]];
						tok[t].len = strlen(words[doc->word[u]]);
						tok[t].pos = doc->pos[u];
					}
					fts_query_doc(q, tok, doc->ntok, weights, nfields, &mem, f, &match);
					CHECK(match == omatch, "[%s] doc %d/%d: match %d, oracle %d", text, s, d, match, omatch);
					for (int i = 0; i < nophr; i++)
					{
						double		of = o_freq(ophr[i], doc);

						if (omatch && !o_counted(simple, doc, ophr[i]))
							of = 0;

						CHECK(fabs(f[i] - of) < 1e-12, "[%s] doc %d/%d phrase %d: f %g, oracle %g",
							  text, s, d, i, f[i], of);
						score += oidf[i] * (of * (p.k1 + 1)) /
							(of + p.k1 * (1 - p.b + p.b * doc->ntok / avgdl));
					}
					if (omatch && !doc->deleted)
					{
						oh[nmatch].ref = doc->ref;
						oh[nmatch].score = score;
						orefs[nmatch] = doc->ref;
						nmatch++;
					}
					{
						FtsBm25		pp = p;
						double		qscore;

						pp.ndocs = total;
						pp.avgdl = avgdl;
						qscore = fts_query_score(q, &pp, oidf, f, doc->ntok);
						CHECK(close_enough(qscore, score), "[%s] doc %d/%d: score %.17g, oracle %.17g",
							  text, s, d, qscore, score);
					}
				}
			/* every match */
			CHECK(fts_query_matches(q, fs, nsrc, &mem, collect, &col), "matches: no memory");
			qsort(col.refs, col.n, sizeof(uint64_t), cmp_u64);
			qsort(orefs, nmatch, sizeof(uint64_t), cmp_u64);
			CHECK(col.n == nmatch && (nmatch == 0 || memcmp(col.refs, orefs, sizeof(uint64_t) * nmatch) == 0),
				  "[%s]: %d matches, oracle %d", text, col.n, nmatch);
			/* the top k */
			qsort(oh, nmatch, sizeof(OHit), cmp_ohit);
			got = fts_query_topk(q, fs, nsrc, &p, k, &mem, hits, &qs);
			CHECK(got == (nmatch < k ? nmatch : k), "[%s] k %d: %d hits, oracle %d", text, k, got, nmatch);
			topk_scored += qs.topk.scored;
			topk_rejected += qs.rejected;
			topk_matches += nmatch;
			for (int i = 0; i < got && i < nmatch; i++)
			{
				bool		found = false;

				CHECK(close_enough(hits[i].score, oh[i].score), "[%s] rank %d: score %.17g, oracle %.17g",
					  text, i, hits[i].score, oh[i].score);
				/* the row is a match of that score (the same rows up to ties) */
				for (int j = 0; j < nmatch; j++)
					if (oh[j].ref == hits[i].doc)
					{
						found = close_enough(oh[j].score, hits[i].score);
						break;
					}
				CHECK(found, "[%s] rank %d: ref %llu is not a match of score %.17g", text, i,
					  (unsigned long long) hits[i].doc, hits[i].score);
				if (i > 0)
					CHECK(hits[i - 1].score > hits[i].score ||
						  (hits[i - 1].score == hits[i].score && hits[i - 1].doc < hits[i].doc),
						  "[%s] rank %d: out of order", text, i);
			}
	next:
			fts_query_free(q);
			free(oh);
			free(orefs);
			free(col.refs);
			free(hits);
		}
		for (int s = 0; s < nsrc; s++)
		{
			if (images)
				free_image(&img[s]);
			free_source(&src[s]);
		}
		for (int i = 0; i < ncursors; i++)
			free(cursor_list[i]);
		ncursors = 0;
	}
	fts_analyzer_free(an);
}

int
main(int argc, char **argv)
{
	int			rounds = argc > 1 ? atoi(argv[1]) : 150;

	test_parser();
	test_random(rounds, false);
	printf("unit_fts_query: array postings: %d checks, %d failures; top-k scored %ld documents for %ld matches, refused %ld candidates\n",
		   checks, failures, topk_scored, topk_matches, topk_rejected);
	topk_scored = topk_matches = topk_rejected = 0;
	test_random(rounds / 3, true);
	printf("unit_fts_query: with postings images (fts_postings.c): %d checks, %d failures; top-k scored %ld documents for %ld matches, refused %ld candidates\n",
		   checks, failures, topk_scored, topk_matches, topk_rejected);
	return failures ? 1 : 0;
}
