/*
 * fts_query.c — FTS5 query syntax, evaluation on one document and over the
 * sources of an index (fts_query.h, docs/bm25.md).
 *
 * The grammar is FTS5's (fts5parse.y, SQLite 3.40), without NEAR and
 * column filters:
 *
 *   or    := and { OR and }
 *   and   := not { AND not }
 *   not   := prim { NOT prim }
 *   prim  := '(' or ')' | phrase { phrase }      -- the run: implicit AND
 *   phrase:= string { '+' string }
 *
 * so "a OR b c" is a OR (b AND c), and "a (b)" is a syntax error as in
 * FTS5.  Empty phrases follow FTS5's EOF nodes (fts_query.h).
 *
 * A multi-term phrase is searched by a cursor over the intersection of its
 * terms' cursors whose positions are checked (what FTS5 does with its
 * position lists).  Its bounds: a phrase occurrence in field c is an
 * occurrence of each of its terms in c, so the phrase's weighted frequency
 * is at most any term's, and the terms' cursors are opened with the
 * phrase's idf: any term's block bound bounds the phrase (the smallest is
 * taken).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fulltext/fts_query.h"

/* ----------------------------------------------------------- memory -- */

typedef struct Chunk
{
	struct Chunk *next;
	double		align[];		/* the user's bytes */
} Chunk;

static void *
qalloc(FtsQuery *q, size_t size)
{
	Chunk	   *c = q->mem.alloc(q->mem.arg, sizeof(Chunk) + size);

	if (c == NULL)
		return NULL;
	c->next = q->chunks;
	q->chunks = c;
	return c->align;
}

void
fts_query_free(FtsQuery *q)
{
	Chunk	   *c;
	FtsAllocator mem;

	if (q == NULL)
		return;
	mem = q->mem;
	c = q->chunks;
	while (c != NULL)
	{
		Chunk	   *n = c->next;

		mem.free(mem.arg, c);
		c = n;
	}
	mem.free(mem.arg, q);
}

/* ----------------------------------------------------------- parser -- */

typedef enum Tok
{
	T_EOF,
	T_STRING,					/* bareword or "quoted" */
	T_AND,
	T_OR,
	T_NOT,
	T_LP,
	T_RP,
	T_PLUS,
	T_OTHER						/* syntax FTS5 has and vlake refuses */
} Tok;

/* A growable phrase being built, and the nodes built so far. */
typedef struct Parser
{
	const char *text;
	size_t		len;
	size_t		at;				/* next byte */
	FtsAnalyzer *an;
	FtsQuery   *q;
	int			depth;
	FtsQueryStatus status;
	char	   *err;
	size_t		errlen;
	/* the current token */
	Tok			tok;
	size_t		tstart,
				tend;			/* its bytes */
	char	   *str;			/* T_STRING: the unquoted text */
	size_t		slen;
	/* phrases as parsed (before dropping), nodes */
	int			cap_phrases;
	int			cap_nodes;
	/* the phrase being analyzed */
	FtsQueryTerm *pterms;
	int			npterms;
	uint32_t	pbase;			/* offset of the string being analyzed */
	uint32_t	pnext;			/* the offset after the last term */
	bool		pfirst;			/* no term in this string yet */
	uint32_t	pfirstpos;
} Parser;

#define EMPTY_NODE (-1)

static int
fail(Parser *ps, FtsQueryStatus st, const char *fmt, const char *a, int alen)
{
	if (ps->status == FTS_QUERY_OK)
	{
		ps->status = st;
		if (ps->errlen > 0)
		{
			if (a != NULL)
				snprintf(ps->err, ps->errlen, fmt, alen, a);
			else
				snprintf(ps->err, ps->errlen, "%s", fmt);
		}
	}
	return EMPTY_NODE;
}

static int
fail_near(Parser *ps)
{
	if (ps->tok == T_EOF)
		return fail(ps, FTS_QUERY_SYNTAX, "syntax error at end of query", NULL, 0);
	return fail(ps, FTS_QUERY_SYNTAX, "syntax error near \"%.*s\"",
				ps->text + ps->tstart, (int) (ps->tend - ps->tstart));
}

static bool
is_bareword(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		(c >= 'A' && c <= 'Z') || c == '_' || c == 0x1A;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Read the next token into ps->tok; false (status set) on error. */
static bool
next_token(Parser *ps)
{
	const char *t = ps->text;
	size_t		i = ps->at;

	while (i < ps->len && is_space(t[i]))
		i++;
	ps->tstart = i;
	if (i >= ps->len)
	{
		ps->tok = T_EOF;
		ps->tend = ps->at = i;
		return true;
	}
	switch (t[i])
	{
		case '(':
			ps->tok = T_LP;
			i++;
			break;
		case ')':
			ps->tok = T_RP;
			i++;
			break;
		case '+':
			ps->tok = T_PLUS;
			i++;
			break;
		case '{':
		case '}':
		case ':':
		case ',':
		case '*':
		case '-':
		case '^':
			ps->tok = T_OTHER;
			i++;
			break;
		case '"':
			{
				size_t		n = 0;

				/* the unquoted text is no longer than the quoted one */
				ps->str = qalloc(ps->q, ps->len - i + 1);
				if (ps->str == NULL)
				{
					fail(ps, FTS_QUERY_NO_MEMORY, "out of memory", NULL, 0);
					return false;
				}
				for (i++;; i++)
				{
					if (i >= ps->len)
					{
						ps->tend = ps->len;
						fail(ps, FTS_QUERY_SYNTAX, "unterminated string", NULL, 0);
						return false;
					}
					if (t[i] == '"')
					{
						if (i + 1 < ps->len && t[i + 1] == '"')
							i++;	/* "" is one quote */
						else
							break;
					}
					ps->str[n++] = t[i];
				}
				i++;
				ps->str[n] = '\0';
				ps->slen = n;
				ps->tok = T_STRING;
				break;
			}
		default:
			if (!is_bareword((unsigned char) t[i]))
			{
				ps->tend = i + 1;
				ps->tok = T_OTHER;
				ps->at = i + 1;
				return true;
			}
			while (i < ps->len && is_bareword((unsigned char) t[i]))
				i++;
			ps->tok = T_STRING;
			ps->str = (char *) t + ps->tstart;
			ps->slen = i - ps->tstart;
			if (ps->slen == 2 && memcmp(ps->str, "OR", 2) == 0)
				ps->tok = T_OR;
			else if (ps->slen == 3 && memcmp(ps->str, "AND", 3) == 0)
				ps->tok = T_AND;
			else if (ps->slen == 3 && memcmp(ps->str, "NOT", 3) == 0)
				ps->tok = T_NOT;
			break;
	}
	ps->tend = ps->at = i;
	return true;
}

static int
new_node(Parser *ps, FtsQueryNodeType type, int phrase, int left, int right)
{
	FtsQuery   *q = ps->q;

	if (q->nnodes == ps->cap_nodes)
	{
		int			cap = ps->cap_nodes ? ps->cap_nodes * 2 : 16;
		FtsQueryNode *n = qalloc(q, sizeof(FtsQueryNode) * cap);

		if (n == NULL)
			return fail(ps, FTS_QUERY_NO_MEMORY, "out of memory", NULL, 0);
		if (q->nnodes > 0)
			memcpy(n, q->nodes, sizeof(FtsQueryNode) * q->nnodes);
		q->nodes = n;
		ps->cap_nodes = cap;
	}
	q->nodes[q->nnodes].type = type;
	q->nodes[q->nnodes].phrase = phrase;
	q->nodes[q->nnodes].left = left;
	q->nodes[q->nnodes].right = right;
	return q->nnodes++;
}

static bool
add_term(void *arg, const char *term, size_t len, uint32_t position,
		 size_t start, size_t end)
{
	Parser	   *ps = arg;
	char	   *copy;
	uint32_t	off;

	(void) start;
	(void) end;
	if (ps->npterms == FTS_QUERY_MAX_PHRASE_TERMS)
	{
		fail(ps, FTS_QUERY_LIMIT, "a phrase has more than " "32" " terms", NULL, 0);
		return false;
	}
	if (ps->pfirst)
	{
		ps->pfirst = false;
		ps->pfirstpos = ps->npterms == 0 ? position : 0;
	}
	/* the phrase's first term is at offset 0; later strings follow on */
	off = ps->pbase + position - ps->pfirstpos;
	copy = qalloc(ps->q, len + 1);
	if (copy == NULL)
	{
		fail(ps, FTS_QUERY_NO_MEMORY, "out of memory", NULL, 0);
		return false;
	}
	memcpy(copy, term, len);
	copy[len] = '\0';
	ps->pterms[ps->npterms].text = copy;
	ps->pterms[ps->npterms].len = (uint32_t) len;
	ps->pterms[ps->npterms].offset = off;
	ps->npterms++;
	ps->pnext = off + 1;
	return true;
}

/* phrase := string { '+' string }: a phrase node, or EMPTY_NODE */
static int
parse_phrase(Parser *ps)
{
	FtsQuery   *q = ps->q;
	FtsQueryPhrase *ph;

	ps->pterms = qalloc(q, sizeof(FtsQueryTerm) * FTS_QUERY_MAX_PHRASE_TERMS);
	if (ps->pterms == NULL)
		return fail(ps, FTS_QUERY_NO_MEMORY, "out of memory", NULL, 0);
	ps->npterms = 0;
	ps->pbase = 0;
	ps->pnext = 0;
	for (;;)
	{
		FtsResult	r;
		size_t		bad;

		/* ps->tok is T_STRING */
		if (ps->slen == 4 && memcmp(ps->str, "NEAR", 4) == 0 &&
			ps->text[ps->tstart] != '"')
		{
			size_t		i = ps->at;

			while (i < ps->len && is_space(ps->text[i]))
				i++;
			if (i < ps->len && ps->text[i] == '(')
				return fail(ps, FTS_QUERY_UNSUPPORTED,
							"NEAR groups are not supported", NULL, 0);
		}
		ps->pbase = ps->pnext;
		ps->pfirst = true;
		r = fts_analyze(ps->an, ps->str, ps->slen, add_term, ps, &bad);
		if (ps->status != FTS_QUERY_OK)
			return EMPTY_NODE;
		if (r == FTS_INVALID_UTF8)
			return fail(ps, FTS_QUERY_BAD_TEXT, "the query is not valid UTF-8", NULL, 0);
		if (r != FTS_OK)
			return fail(ps, FTS_QUERY_NO_MEMORY, "out of memory", NULL, 0);
		if (!next_token(ps))
			return EMPTY_NODE;
		if (ps->tok == T_OTHER && ps->text[ps->tstart] == '*')
			return fail(ps, FTS_QUERY_UNSUPPORTED, "prefix queries (*) are not supported", NULL, 0);
		if (ps->tok == T_OTHER && ps->text[ps->tstart] == ':')
			return fail(ps, FTS_QUERY_UNSUPPORTED, "column filters are not supported", NULL, 0);
		if (ps->tok != T_PLUS)
			break;
		if (!next_token(ps))
			return EMPTY_NODE;
		if (ps->tok != T_STRING)
			return fail_near(ps);
	}
	if (ps->npterms == 0)
		return EMPTY_NODE;		/* FTS5's EOF phrase: matches nothing */
	if (q->nphrases == FTS_QUERY_MAX_PHRASES)
		return fail(ps, FTS_QUERY_LIMIT, "a query has more than 64 phrases", NULL, 0);
	if (q->nphrases == ps->cap_phrases)
	{
		int			cap = ps->cap_phrases ? ps->cap_phrases * 2 : 8;
		FtsQueryPhrase *p = qalloc(q, sizeof(FtsQueryPhrase) * cap);

		if (p == NULL)
			return fail(ps, FTS_QUERY_NO_MEMORY, "out of memory", NULL, 0);
		if (q->nphrases > 0)
			memcpy(p, q->phrases, sizeof(FtsQueryPhrase) * q->nphrases);
		q->phrases = p;
		ps->cap_phrases = cap;
	}
	ph = &q->phrases[q->nphrases];
	ph->nterms = ps->npterms;
	ph->terms = ps->pterms;
	return new_node(ps, FTS_QNODE_PHRASE, q->nphrases++, -1, -1);
}

static int	parse_or(Parser *ps);

/* The refusals of FTS5 syntax before a phrase. */
static int
fail_other(Parser *ps)
{
	char		c = ps->tok == T_OTHER ? ps->text[ps->tstart] : '\0';

	if (ps->tok == T_OTHER && (c == '{' || c == '-'))
		return fail(ps, FTS_QUERY_UNSUPPORTED, "column filters are not supported", NULL, 0);
	if (ps->tok == T_OTHER && c == '^')
		return fail(ps, FTS_QUERY_UNSUPPORTED, "initial token queries (^) are not supported", NULL, 0);
	return fail_near(ps);
}

static int
parse_prim(Parser *ps)
{
	int			acc = EMPTY_NODE;
	bool		any = false;

	if (ps->tok == T_LP)
	{
		int			n;

		if (++ps->depth > FTS_QUERY_MAX_DEPTH)
			return fail(ps, FTS_QUERY_LIMIT, "a query nests more than 64 parentheses", NULL, 0);
		if (!next_token(ps))
			return EMPTY_NODE;
		n = parse_or(ps);
		if (ps->status != FTS_QUERY_OK)
			return EMPTY_NODE;
		if (ps->tok != T_RP)
			return fail_near(ps);
		ps->depth--;
		if (!next_token(ps))
			return EMPTY_NODE;
		return n;
	}
	if (ps->tok != T_STRING)
		return fail_other(ps);
	/* the run of phrases: implicit AND, FTS5 drops its empty phrases */
	while (ps->tok == T_STRING)
	{
		int			n = parse_phrase(ps);

		if (ps->status != FTS_QUERY_OK)
			return EMPTY_NODE;
		any = true;
		if (n == EMPTY_NODE)
			continue;
		acc = acc == EMPTY_NODE ? n : new_node(ps, FTS_QNODE_AND, -1, acc, n);
		if (ps->status != FTS_QUERY_OK)
			return EMPTY_NODE;
	}
	(void) any;
	if (ps->tok == T_OTHER)
		return fail_other(ps);
	return acc;
}

static int
parse_not(Parser *ps)
{
	int			l = parse_prim(ps);

	while (ps->status == FTS_QUERY_OK && ps->tok == T_NOT)
	{
		int			r;

		if (!next_token(ps))
			return EMPTY_NODE;
		r = parse_prim(ps);
		if (ps->status != FTS_QUERY_OK)
			return EMPTY_NODE;
		if (l != EMPTY_NODE && r != EMPTY_NODE)
			l = new_node(ps, FTS_QNODE_NOT, -1, l, r);
		/* EMPTY NOT x = EMPTY; x NOT EMPTY = x */
	}
	return l;
}

static int
parse_and(Parser *ps)
{
	int			l = parse_not(ps);

	while (ps->status == FTS_QUERY_OK && ps->tok == T_AND)
	{
		int			r;

		if (!next_token(ps))
			return EMPTY_NODE;
		r = parse_not(ps);
		if (ps->status != FTS_QUERY_OK)
			return EMPTY_NODE;
		/* an explicit AND with an empty side matches nothing (FTS5) */
		l = (l == EMPTY_NODE || r == EMPTY_NODE) ? EMPTY_NODE :
			new_node(ps, FTS_QNODE_AND, -1, l, r);
	}
	return l;
}

static int
parse_or(Parser *ps)
{
	int			l = parse_and(ps);

	while (ps->status == FTS_QUERY_OK && ps->tok == T_OR)
	{
		int			r;

		if (!next_token(ps))
			return EMPTY_NODE;
		r = parse_and(ps);
		if (ps->status != FTS_QUERY_OK)
			return EMPTY_NODE;
		if (l == EMPTY_NODE)
			l = r;
		else if (r != EMPTY_NODE)
			l = new_node(ps, FTS_QNODE_OR, -1, l, r);
	}
	return l;
}

/* Renumber the phrases the tree keeps, in text order (a pre-order walk
 * visits leaves left to right).  map: old -> new. */
static void
keep_phrases(FtsQuery *q, int node, int *map, FtsQueryPhrase *kept, int *nkept)
{
	FtsQueryNode *n = &q->nodes[node];

	if (n->type == FTS_QNODE_PHRASE)
	{
		kept[*nkept] = q->phrases[n->phrase];
		map[n->phrase] = (*nkept)++;
		n->phrase = map[n->phrase];
		return;
	}
	keep_phrases(q, n->left, map, kept, nkept);
	keep_phrases(q, n->right, map, kept, nkept);
}

FtsQueryStatus
fts_query_parse(const char *text, size_t len, FtsAnalyzer *a,
				const FtsAllocator *mem, FtsQuery **out, char *err, size_t errlen)
{
	Parser		ps;
	FtsQuery   *q;
	int			root;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	q = mem->alloc(mem->arg, sizeof(FtsQuery));
	if (q == NULL)
	{
		if (errlen > 0)
			snprintf(err, errlen, "out of memory");
		return FTS_QUERY_NO_MEMORY;
	}
	memset(q, 0, sizeof(*q));
	q->mem = *mem;
	q->root = -1;
	memset(&ps, 0, sizeof(ps));
	ps.text = text;
	ps.len = len;
	ps.an = a;
	ps.q = q;
	ps.err = err;
	ps.errlen = errlen;
	if (memchr(text, '\0', len) != NULL)
		fail(&ps, FTS_QUERY_SYNTAX, "the query contains a NUL byte", NULL, 0);
	else if (next_token(&ps))
	{
		root = parse_or(&ps);
		if (ps.status == FTS_QUERY_OK && ps.tok != T_EOF)
			fail_near(&ps);
		if (ps.status == FTS_QUERY_OK && root != EMPTY_NODE)
		{
			int			map[FTS_QUERY_MAX_PHRASES];
			FtsQueryPhrase *kept = qalloc(q, sizeof(FtsQueryPhrase) * (q->nphrases + 1));
			int			nkept = 0;

			if (kept == NULL)
				fail(&ps, FTS_QUERY_NO_MEMORY, "out of memory", NULL, 0);
			else
			{
				keep_phrases(q, root, map, kept, &nkept);
				q->phrases = kept;
				q->nphrases = nkept;
				q->root = root;
			}
		}
		else
			q->nphrases = 0;
	}
	if (ps.status != FTS_QUERY_OK)
	{
		fts_query_free(q);
		return ps.status;
	}
	*out = q;
	return FTS_QUERY_OK;
}

static bool
eval_node(const FtsQuery *q, int node, uint64_t present)
{
	const FtsQueryNode *n = &q->nodes[node];

	switch (n->type)
	{
		case FTS_QNODE_PHRASE:
			return (present >> n->phrase) & 1;
		case FTS_QNODE_AND:
			return eval_node(q, n->left, present) && eval_node(q, n->right, present);
		case FTS_QNODE_OR:
			return eval_node(q, n->left, present) || eval_node(q, n->right, present);
		case FTS_QNODE_NOT:
			return eval_node(q, n->left, present) && !eval_node(q, n->right, present);
	}
	return false;
}

bool
fts_query_eval(const FtsQuery *q, uint64_t present)
{
	return q->root >= 0 && eval_node(q, q->root, present);
}

static uint64_t
scored_node(const FtsQuery *q, int node, uint64_t present)
{
	const FtsQueryNode *n = &q->nodes[node];

	if (!eval_node(q, node, present))
		return 0;				/* FTS5 zeroes a failed part's positions */
	switch (n->type)
	{
		case FTS_QNODE_PHRASE:
			return UINT64_C(1) << n->phrase;
		case FTS_QNODE_AND:
		case FTS_QNODE_OR:
			return scored_node(q, n->left, present) | scored_node(q, n->right, present);
		case FTS_QNODE_NOT:
			return scored_node(q, n->left, present);
	}
	return 0;
}

uint64_t
fts_query_scored(const FtsQuery *q, uint64_t present)
{
	return q->root >= 0 ? scored_node(q, q->root, present) : 0;
}

typedef struct Out
{
	char	   *buf;
	size_t		cap,
				n;
} Out;

static void
put(Out *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++, o->n++)
		if (o->n + 1 < o->cap)
			o->buf[o->n] = s[i];
}

static void
format_node(const FtsQuery *q, int node, Out *o)
{
	const FtsQueryNode *n = &q->nodes[node];
	static const char *ops[] = {"", "(AND ", "(OR ", "(NOT "};

	if (n->type == FTS_QNODE_PHRASE)
	{
		const FtsQueryPhrase *ph = &q->phrases[n->phrase];

		put(o, "\"", 1);
		for (int i = 0; i < ph->nterms; i++)
		{
			char		num[16];

			if (i > 0)
				put(o, " ", 1);
			put(o, ph->terms[i].text, ph->terms[i].len);
			if (ph->terms[i].offset != (uint32_t) i)
			{
				snprintf(num, sizeof(num), "@%u", ph->terms[i].offset);
				put(o, num, strlen(num));
			}
		}
		put(o, "\"", 1);
		return;
	}
	put(o, ops[n->type], strlen(ops[n->type]));
	format_node(q, n->left, o);
	put(o, " ", 1);
	format_node(q, n->right, o);
	put(o, ")", 1);
}

size_t
fts_query_format(const FtsQuery *q, char *buf, size_t buflen)
{
	Out			o = {buf, buflen, 0};

	if (q->root < 0)
		put(&o, "(EMPTY)", 7);
	else
		format_node(q, q->root, &o);
	if (buflen > 0)
		buf[o.n < buflen ? o.n : buflen - 1] = '\0';
	return o.n;
}

/* ------------------------------------------------------ one document -- */

static int
cmp_token_pos(const void *a, const void *b)
{
	uint32_t	x = ((const FtsDocToken *) a)->pos,
				y = ((const FtsDocToken *) b)->pos;

	return x < y ? -1 : x > y;
}

static bool
token_is(const FtsDocToken *t, const FtsQueryTerm *term)
{
	return t->len == term->len && memcmp(t->term, term->text, term->len) == 0;
}

/* The token at position pos (tok sorted by position), or NULL. */
static const FtsDocToken *
token_at(const FtsDocToken *tok, int ntok, uint32_t pos)
{
	int			lo = 0,
				hi = ntok;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (tok[mid].pos < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ntok && tok[lo].pos == pos ? &tok[lo] : NULL;
}

static double
field_weight(const double *w, int nfields, uint32_t pos)
{
	uint32_t	field = FTS_POSITION_FIELD(pos);

	return w != NULL && field < (uint32_t) nfields ? w[field] : 1.0;
}

/* Does the phrase occur at position start (same field for every term)? */
static bool
phrase_at(const FtsQueryPhrase *ph, const FtsDocToken *tok, int ntok, uint32_t start)
{
	for (int i = 1; i < ph->nterms; i++)
	{
		const FtsDocToken *t;

		if ((start & FTS_MAX_POSITION) + (uint64_t) ph->terms[i].offset > FTS_MAX_POSITION)
			return false;
		t = token_at(tok, ntok, start + ph->terms[i].offset);
		if (t == NULL || !token_is(t, &ph->terms[i]))
			return false;
	}
	return true;
}

bool
fts_query_doc(const FtsQuery *q, FtsDocToken *tok, int ntok,
			  const double *field_weights, int nfields,
			  const FtsAllocator *mem, double *f, bool *match)
{
	uint64_t	present = 0;

	(void) mem;
	if (ntok > 1)
		qsort(tok, ntok, sizeof(FtsDocToken), cmp_token_pos);
	for (int p = 0; p < q->nphrases; p++)
	{
		const FtsQueryPhrase *ph = &q->phrases[p];

		f[p] = 0.0;
		for (int j = 0; j < ntok; j++)
			if (token_is(&tok[j], &ph->terms[0]) && phrase_at(ph, tok, ntok, tok[j].pos))
				f[p] += field_weight(field_weights, nfields, tok[j].pos);
		if (f[p] > 0.0)
			present |= UINT64_C(1) << p;
	}
	*match = fts_query_eval(q, present);
	if (*match)
	{
		uint64_t	scored = fts_query_scored(q, present);

		for (int p = 0; p < q->nphrases; p++)
			if (!((scored >> p) & 1))
				f[p] = 0.0;
	}
	return true;
}

double
fts_query_score(const FtsQuery *q, const FtsBm25 *p, const double *idf,
				const double *f, double dl)
{
	double		score = 0.0;

	for (int i = 0; i < q->nphrases; i++)
		score += fts_bm25_term(p, idf[i], f[i], dl);
	return score;
}

/* ------------------------------------------------------ over sources -- */

void
fts_query_stats(FtsSource **src, int nsrc, FtsBm25 *p)
{
	double		n = 0.0,
				tokens = 0.0;

	for (int i = 0; i < nsrc; i++)
	{
		n += (double) src[i]->ndocs;
		tokens += src[i]->ntokens;
	}
	p->ndocs = n;
	p->avgdl = n > 0.0 && tokens > 0.0 ? tokens / n : 1.0;
}

/* A phrase of several terms as a cursor: its terms' intersection with the
 * positions checked. */
typedef struct PhraseCursor
{
	FtsCursor	c;
	const FtsQueryPhrase *ph;
	FtsSource  *src;
	FtsCursor **terms;			/* [ph->nterms] */
	const uint32_t **pos;		/* scratch: each term's positions */
	int		   *npos;
	int		   *at;
	bool		started;
	bool		ended;
} PhraseCursor;

/* The weighted occurrences of the phrase in the doc all terms are at. */
static double
phrase_count(PhraseCursor *pc)
{
	const FtsQueryPhrase *ph = pc->ph;
	int			n = ph->nterms;
	double		f = 0.0;

	for (int i = 0; i < n; i++)
	{
		FtsCursor  *t = pc->terms[i];

		pc->npos[i] = t->positions != NULL ? t->positions(t, &pc->pos[i]) : 0;
		pc->at[i] = 0;
	}
	/* each start position of term 0, the others' pointers only move on */
	for (int j = 0; j < pc->npos[0]; j++)
	{
		uint32_t	start = pc->pos[0][j];
		bool		ok = true;

		for (int i = 1; i < n && ok; i++)
		{
			uint64_t	want = (uint64_t) start + ph->terms[i].offset;

			if ((start & FTS_MAX_POSITION) + (uint64_t) ph->terms[i].offset > FTS_MAX_POSITION)
			{
				ok = false;
				break;
			}
			while (pc->at[i] < pc->npos[i] && pc->pos[i][pc->at[i]] < want)
				pc->at[i]++;
			ok = pc->at[i] < pc->npos[i] && pc->pos[i][pc->at[i]] == want;
		}
		if (ok)
			f += field_weight(pc->src->field_weights, pc->src->nfields, start);
	}
	return f;
}

static bool
phrase_next(FtsCursor *c, uint64_t target)
{
	PhraseCursor *pc = (PhraseCursor *) c;
	int			n = pc->ph->nterms;
	uint64_t	d = target;

	if (pc->ended)
		return false;
	if (pc->started && target <= c->doc)
		return true;
	if (!pc->started)
	{
		/* fresh term cursors: a first next() each */
		for (int i = 0; i < n; i++)
			if (!pc->terms[i]->next(pc->terms[i], target))
			{
				pc->ended = true;
				return false;
			}
		pc->started = true;
	}
	for (;;)
	{
		bool		aligned = true;

		for (int i = 0; i < n; i++)
		{
			FtsCursor  *t = pc->terms[i];

			if (t->doc < d && !t->next(t, d))
			{
				pc->ended = true;
				return false;
			}
			if (t->doc > d)
			{
				d = t->doc;
				aligned = false;
				break;
			}
		}
		if (!aligned)
			continue;
		/* all at d: check the positions */
		{
			double		f = phrase_count(pc);

			if (f > 0.0)
			{
				c->doc = d;
				c->f = f;
				return true;
			}
			if (d == UINT64_MAX)
			{
				pc->ended = true;
				return false;
			}
			d++;
		}
	}
}

static bool
phrase_shallow(FtsCursor *c, uint64_t target, uint64_t *block_last, double *block_bound)
{
	PhraseCursor *pc = (PhraseCursor *) c;
	bool		any = false;

	for (int i = 0; i < pc->ph->nterms; i++)
	{
		FtsCursor  *t = pc->terms[i];
		uint64_t	last;
		double		bound;

		if (!t->shallow(t, target, &last, &bound))
			return false;		/* no doc >= target holds that term */
		if (!any || bound < *block_bound)
		{
			*block_last = last;
			*block_bound = bound;
			any = true;
		}
	}
	return any;
}

/*
 * A cursor for phrase ph in src (NULL when some term is in no document, or
 * out of memory: *oom).  Memory from mem, recorded in the list for
 * free_list.
 */
typedef struct Alloced
{
	struct Alloced *next;
	double		align[];
} Alloced;

static void *
lalloc(const FtsAllocator *mem, Alloced **list, size_t size)
{
	Alloced    *a = mem->alloc(mem->arg, sizeof(Alloced) + size);

	if (a == NULL)
		return NULL;
	a->next = *list;
	*list = a;
	return a->align;
}

static void
free_list(const FtsAllocator *mem, Alloced *list)
{
	while (list != NULL)
	{
		Alloced    *n = list->next;

		mem->free(mem->arg, list);
		list = n;
	}
}

static FtsCursor *
open_phrase(const FtsQueryPhrase *ph, FtsSource *src, const FtsBm25 *p, double idf,
			const FtsAllocator *mem, Alloced **list, bool *oom)
{
	PhraseCursor *pc;

	*oom = false;
	if (ph->nterms == 1)
		return src->open_term(src, ph->terms[0].text, ph->terms[0].len, p, idf);
	pc = lalloc(mem, list, sizeof(PhraseCursor) +
				ph->nterms * (sizeof(FtsCursor *) + sizeof(uint32_t *) + 2 * sizeof(int)));
	if (pc == NULL)
	{
		*oom = true;
		return NULL;
	}
	memset(pc, 0, sizeof(*pc));
	pc->terms = (FtsCursor **) (pc + 1);
	pc->pos = (const uint32_t **) (pc->terms + ph->nterms);
	pc->npos = (int *) (pc->pos + ph->nterms);
	pc->at = pc->npos + ph->nterms;
	pc->ph = ph;
	pc->src = src;
	pc->c.max_bound = INFINITY;
	for (int i = 0; i < ph->nterms; i++)
	{
		FtsCursor  *t = src->open_term(src, ph->terms[i].text, ph->terms[i].len, p, idf);

		if (t == NULL)
			return NULL;
		pc->terms[i] = t;
		if (t->max_bound < pc->c.max_bound)
			pc->c.max_bound = t->max_bound;
	}
	pc->c.next = phrase_next;
	pc->c.shallow = phrase_shallow;
	pc->c.positions = NULL;
	pc->c.idf = idf;
	pc->c.weight = 1.0;
	pc->c.state = pc;
	return &pc->c;
}

bool
fts_query_df(const FtsQuery *q, FtsSource **src, int nsrc,
			 const FtsAllocator *mem, double *df)
{
	FtsBm25		p = {1.2, 0.75, FTS_IDF_FTS5, 1.0, 1.0};

	fts_query_stats(src, nsrc, &p);
	for (int i = 0; i < q->nphrases; i++)
	{
		const FtsQueryPhrase *ph = &q->phrases[i];

		df[i] = 0.0;
		for (int s = 0; s < nsrc; s++)
		{
			Alloced    *list = NULL;
			FtsCursor  *c;
			bool		oom;
			uint64_t	n = 0;

			if (ph->nterms == 1)
			{
				df[i] += (double) src[s]->term_df(src[s], ph->terms[0].text, ph->terms[0].len);
				continue;
			}
			c = open_phrase(ph, src[s], &p, 1.0, mem, &list, &oom);
			if (oom)
				return false;
			if (c != NULL)
				for (uint64_t d = 0; c->next(c, d); d = c->doc + 1)
				{
					n++;
					if (c->doc == UINT64_MAX)
						break;
				}
			free_list(mem, list);
			df[i] += (double) n;
		}
	}
	return true;
}

/* The phrases every matching document holds (bit i: phrase i). */
static uint64_t
required_phrases(const FtsQuery *q, int node)
{
	const FtsQueryNode *n = &q->nodes[node];

	switch (n->type)
	{
		case FTS_QNODE_PHRASE:
			return UINT64_C(1) << n->phrase;
		case FTS_QNODE_AND:
			return required_phrases(q, n->left) | required_phrases(q, n->right);
		case FTS_QNODE_OR:
			return required_phrases(q, n->left) & required_phrases(q, n->right);
		case FTS_QNODE_NOT:
			return required_phrases(q, n->left);
	}
	return 0;
}

/* The filter of fts_topk_filtered: map cursor bits to phrase bits. */
typedef struct FilterArg
{
	const FtsQuery *q;
	FtsSource  *src;
	int		   *phrase_of;		/* cursor index -> phrase */
	uint64_t	rejected;
} FilterArg;

static bool
topk_filter(void *arg, uint64_t doc, uint64_t present, uint64_t *scored)
{
	FilterArg  *fa = arg;
	uint64_t	phrases = 0,
				sp;

	for (int i = 0; (present >> i) != 0; i++)
		if ((present >> i) & 1)
			phrases |= UINT64_C(1) << fa->phrase_of[i];
	/* deleted() first: it is called for every candidate (a backend's hook) */
	if ((fa->src->deleted != NULL && fa->src->deleted(fa->src, doc)) ||
		!fts_query_eval(fa->q, phrases))
	{
		fa->rejected++;
		return false;
	}
	sp = fts_query_scored(fa->q, phrases);
	*scored = 0;
	for (int i = 0; (present >> i) != 0; i++)
		if (((present >> i) & 1) && ((sp >> fa->phrase_of[i]) & 1))
			*scored |= UINT64_C(1) << i;
	return true;
}

static double
source_doclen(void *arg, uint64_t doc)
{
	FtsSource  *s = arg;

	return s->doclen(s, doc);
}

static int
cmp_hit(const void *a, const void *b)
{
	const FtsHit *x = a,
			   *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* Open every phrase's cursor in src: cursors[n], phrase_of[n]. */
static int
open_all(const FtsQuery *q, FtsSource *src, const FtsBm25 *p, const double *idf,
		 const FtsAllocator *mem, Alloced **list, FtsCursor **cursors,
		 int *phrase_of, bool *oom)
{
	int			n = 0;

	for (int i = 0; i < q->nphrases; i++)
	{
		FtsCursor  *c = open_phrase(&q->phrases[i], src, p, idf ? idf[i] : 1.0,
									mem, list, oom);

		if (*oom)
			return -1;
		if (c == NULL)
			continue;
		cursors[n] = c;
		phrase_of[n++] = i;
	}
	return n;
}

int
fts_query_topk(const FtsQuery *q, FtsSource **src, int nsrc, const FtsBm25 *params,
			   int k, const FtsAllocator *mem, FtsHit *out, FtsQueryStats *stats)
{
	FtsBm25		p = *params;
	FtsQueryStats dummy;
	Alloced    *list = NULL;
	double	   *df,
			   *idf;
	FtsHit	   *all;
	int			nall = 0;
	void	   *scratch;
	uint64_t	need;

	if (stats == NULL)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (k <= 0 || fts_query_empty(q) || nsrc <= 0)
		return 0;
	fts_query_stats(src, nsrc, &p);
	df = lalloc(mem, &list, sizeof(double) * 2 * q->nphrases);
	all = lalloc(mem, &list, sizeof(FtsHit) * (size_t) k * nsrc);
	scratch = lalloc(mem, &list, fts_topk_scratch(q->nphrases, k));
	if (df == NULL || all == NULL || scratch == NULL || !fts_query_df(q, src, nsrc, mem, df))
	{
		free_list(mem, list);
		return -1;
	}
	need = required_phrases(q, q->root);
	idf = df + q->nphrases;
	for (int i = 0; i < q->nphrases; i++)
		idf[i] = fts_bm25_idf(&p, df[i]);
	for (int s = 0; s < nsrc; s++)
	{
		Alloced    *slist = NULL;
		FtsCursor  *cursors[FTS_QUERY_MAX_PHRASES];
		int			phrase_of[FTS_QUERY_MAX_PHRASES];
		bool		oom = false;
		int			n = open_all(q, src[s], &p, idf, mem, &slist, cursors, phrase_of, &oom);
		FilterArg	fa = {q, src[s], phrase_of, 0};
		FtsTopkStats ts;
		int			got;
		uint64_t	required = 0,
					held = 0;

		if (oom)
		{
			free_list(mem, slist);
			free_list(mem, list);
			return -1;
		}

		/* the required phrases as cursor bits; one absent: nothing matches here */
		for (int i = 0; i < n; i++)
		{
			held |= UINT64_C(1) << phrase_of[i];
			if ((need >> phrase_of[i]) & 1)
				required |= UINT64_C(1) << i;
		}
		if ((need & held) != need)
			n = 0;
		got = n > 0 ? fts_topk_filtered(&p, cursors, n, k, source_doclen, src[s],
										topk_filter, &fa, required, scratch,
										all + nall, &ts) : 0;
		free_list(mem, slist);
		for (int i = 0; i < got; i++)
			all[nall + i].doc = src[s]->doc_ref(src[s], all[nall + i].doc);
		nall += got;
		if (n > 0)
		{
			stats->topk.scored += ts.scored;
			stats->topk.pivots += ts.pivots;
			stats->topk.block_skips += ts.block_skips;
			stats->topk.seeks += ts.seeks;
		}
		stats->rejected += fa.rejected;
	}
	qsort(all, nall, sizeof(FtsHit), cmp_hit);
	if (nall > k)
		nall = k;
	memcpy(out, all, sizeof(FtsHit) * nall);
	free_list(mem, list);
	return nall;
}

bool
fts_query_matches(const FtsQuery *q, FtsSource **src, int nsrc,
				  const FtsAllocator *mem, FtsMatchFn fn, void *arg)
{
	FtsBm25		p = {1.2, 0.75, FTS_IDF_FTS5, 1.0, 1.0};

	if (fts_query_empty(q))
		return true;
	fts_query_stats(src, nsrc, &p);
	for (int s = 0; s < nsrc; s++)
	{
		Alloced    *list = NULL;
		FtsCursor  *cursors[FTS_QUERY_MAX_PHRASES];
		int			phrase_of[FTS_QUERY_MAX_PHRASES];
		bool		live[FTS_QUERY_MAX_PHRASES];
		bool		oom = false;
		int			n = open_all(q, src[s], &p, NULL, mem, &list, cursors, phrase_of, &oom);
		bool		stop = false;

		if (oom)
		{
			free_list(mem, list);
			return false;
		}
		for (int i = 0; i < n; i++)
			live[i] = cursors[i]->next(cursors[i], 0);
		while (!stop)
		{
			uint64_t	d = UINT64_MAX;
			uint64_t	present = 0;
			bool		any = false;

			for (int i = 0; i < n; i++)
				if (live[i] && (!any || cursors[i]->doc < d))
				{
					d = cursors[i]->doc;
					any = true;
				}
			if (!any)
				break;
			for (int i = 0; i < n; i++)
				if (live[i] && cursors[i]->doc == d)
					present |= UINT64_C(1) << phrase_of[i];
			if (!(src[s]->deleted != NULL && src[s]->deleted(src[s], d)) &&
				fts_query_eval(q, present))
				stop = !fn(arg, src[s]->doc_ref(src[s], d));
			for (int i = 0; i < n; i++)
				if (live[i] && cursors[i]->doc == d)
					live[i] = d < UINT64_MAX && cursors[i]->next(cursors[i], d + 1);
		}
		free_list(mem, list);
		if (stop)
			break;
	}
	return true;
}
