/*
 * fuzz_fts_query.c — libFuzzer harness for the BM25 query parser
 * (src/fulltext/fts_query.c).  The input's first byte picks how many
 * allocations succeed (255: all); the rest is a query, parsed with the
 * simple configuration and with English (stop words, stemming).  Errors are
 * normal outcomes; a failure is a crash, a sanitizer report, a leak, or a
 * broken invariant:
 *   - an error leaves no query and a message; out of memory only when an
 *     allocation failed;
 *   - a query has <= 64 phrases of 1..32 terms, the first at offset 0 and
 *     the others at increasing offsets, non-empty terms; its tree refers to
 *     phrases and nodes that exist and uses every phrase once;
 *   - the query evaluated on a document made of the query's own text (every
 *     phrase of a query is in it... not necessarily in order, so only the
 *     frequencies' signs are checked against the presence mask it implies).
 * Build: make build/bin/fuzz_fts_query.  Run: build/bin/unit_fuzz_fts_query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fulltext/fts_query.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int	budget;
static long live;
static bool failed_alloc;

static void *
f_alloc(void *arg, size_t n)
{
	(void) arg;
	if (budget == 0)
	{
		failed_alloc = true;
		return NULL;
	}
	if (budget > 0)
		budget--;
	live++;
	return malloc(n ? n : 1);
}

static void
f_free(void *arg, void *p)
{
	(void) arg;
	live--;
	free(p);
}

static FtsAnalyzer *simple,
		   *english;

typedef struct Toks
{
	FtsDocToken tok[512];
	char		text[512][32];
	int			n;
} Toks;

static bool
add_tok(void *arg, const char *term, size_t len, uint32_t pos, size_t s, size_t e)
{
	Toks	   *t = arg;

	(void) s;
	(void) e;
	if (t->n == 512 || len >= 32)
		return t->n < 512;
	memcpy(t->text[t->n], term, len);
	t->tok[t->n].term = t->text[t->n];
	t->tok[t->n].len = (uint32_t) len;
	t->tok[t->n].pos = FTS_POSITION(t->n % 3, pos);
	t->n++;
	return true;
}

static void
check_tree(const FtsQuery *q, int node, int *uses, int depth)
{
	const FtsQueryNode *n;

	if (node < 0 || node >= q->nnodes || depth > 200)
		abort();
	n = &q->nodes[node];
	if (n->type == FTS_QNODE_PHRASE)
	{
		if (n->phrase < 0 || n->phrase >= q->nphrases)
			abort();
		uses[n->phrase]++;
		return;
	}
	check_tree(q, n->left, uses, depth + 1);
	check_tree(q, n->right, uses, depth + 1);
}

static void
one(FtsAnalyzer *a, const char *text, size_t len, int allocs)
{
	FtsAllocator mem = {f_alloc, f_free, NULL};
	FtsQuery   *q = NULL;
	char		err[256];
	char		buf[256];
	FtsQueryStatus st;
	static Toks toks;
	int			uses[FTS_QUERY_MAX_PHRASES] = {0};

	budget = allocs;
	failed_alloc = false;
	live = 0;
	st = fts_query_parse(text, len, a, &mem, &q, err, sizeof(err));
	if (st != FTS_QUERY_OK)
	{
		if (q != NULL || err[0] == '\0' || (st == FTS_QUERY_NO_MEMORY && !failed_alloc) || live != 0)
			abort();
		return;
	}
	if (q->nphrases < 0 || q->nphrases > FTS_QUERY_MAX_PHRASES || (q->root < 0) != (q->nphrases == 0))
		abort();
	for (int i = 0; i < q->nphrases; i++)
	{
		const FtsQueryPhrase *ph = &q->phrases[i];

		if (ph->nterms < 1 || ph->nterms > FTS_QUERY_MAX_PHRASE_TERMS || ph->terms[0].offset != 0)
			abort();
		for (int j = 0; j < ph->nterms; j++)
			if (ph->terms[j].len == 0 || strlen(ph->terms[j].text) != ph->terms[j].len ||
				(j > 0 && ph->terms[j].offset <= ph->terms[j - 1].offset))
				abort();
	}
	if (q->root >= 0)
	{
		check_tree(q, q->root, uses, 0);
		for (int i = 0; i < q->nphrases; i++)
			if (uses[i] != 1)
				abort();
	}
	fts_query_format(q, buf, sizeof(buf));
	(void) fts_query_eval(q, 0);
	(void) fts_query_eval(q, ~UINT64_C(0));
	budget = -1;
	toks.n = 0;
	if (fts_analyze(a, text, len, add_tok, &toks, NULL) == FTS_OK)
	{
		double		f[FTS_QUERY_MAX_PHRASES];
		double		w[3] = {2, 1, 0.5};
		bool		match;
		uint64_t	present = 0;

		fts_query_doc(q, toks.tok, toks.n, w, 3, &mem, f, &match);
		for (int i = 0; i < q->nphrases; i++)
		{
			if (f[i] < 0)
				abort();
			if (f[i] > 0)
				present |= UINT64_C(1) << i;
		}
		if (match != fts_query_eval(q, present))
			abort();
	}
	fts_query_free(q);
	if (live != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		err[256];
	int			allocs;

	if (simple == NULL)
	{
		simple = fts_analyzer_new(FTS_SIMPLE_CONFIG, NULL, err, sizeof(err));
		english = fts_analyzer_new("english", NULL, err, sizeof(err));
		if (simple == NULL || english == NULL)
			abort();
	}
	if (size < 1)
		return 0;
	allocs = data[0] == 255 ? -1 : data[0];
	one(simple, (const char *) data + 1, size - 1, allocs);
	one(english, (const char *) data + 1, size - 1, allocs);
	return 0;
}
