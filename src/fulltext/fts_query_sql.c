/*
 * fts_query_sql.c — the BM25 operators evaluated outside an index scan
 * (docs/bm25.md): text/text[] @@@ bm25query (does the document match, FTS5
 * semantics) and text/text[] <@> bm25query (minus the document's BM25
 * score, SQLite FTS5's bm25() sign).
 *
 * The query is parsed once per call site: fn_extra keeps the parsed query
 * and, for a query naming an index, the index's settings and each phrase's
 * idf from the index's statistics as of the first call (one statement
 * scores every row against the same statistics).  A query naming no index
 * matches with the configuration vlake.fts_config and cannot be scored.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "fulltext/fts_am.h"
#include "fulltext/fts_config.h"
#include "fulltext/fts_query.h"

PG_FUNCTION_INFO_V1(vlake_bm25_match_text);
PG_FUNCTION_INFO_V1(vlake_bm25_match_array);
PG_FUNCTION_INFO_V1(vlake_bm25_score_text);
PG_FUNCTION_INFO_V1(vlake_bm25_score_array);

/* What a call site derives from its query (in fn_mcxt). */
typedef struct QueryCache
{
	char	   *text;			/* the query text it was made for */
	Oid			indexoid;
	char		config[FTS_CONFIG_NAME_MAX];
	FtsQuery   *q;
	bool		scored;			/* idf below is set (settings: whenever indexoid is) */
	FtsIndexSettings settings;
	double	   *idf;			/* [q->nphrases] */
} QueryCache;

static void *
cxt_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, size, MCXT_ALLOC_NO_OOM);
}

static void
cxt_free(void *arg, void *ptr)
{
	pfree(ptr);
}

static void
cache_free(QueryCache *c)
{
	fts_query_free(c->q);
	if (c->idf)
		pfree(c->idf);
	pfree(c->text);
	pfree(c);
}

/* The query as UTF-8 (the analyzer's input); its syntax is ASCII. */
static FtsQuery *
parse_query(const char *text, const char *config, MemoryContext cxt)
{
	FtsAnalyzer *a = fts_config_analyzer(config);
	FtsAllocator mem = {cxt_alloc, cxt_free, cxt};
	const char *utf8 = text;
	size_t		len = strlen(text);
	FtsQuery   *q = NULL;
	char		err[256];
	FtsQueryStatus st;

	if (GetDatabaseEncoding() != PG_UTF8 && GetDatabaseEncoding() != PG_SQL_ASCII)
	{
		utf8 = pg_server_to_any(text, len, PG_UTF8);
		if (utf8 != text)
			len = strlen(utf8);
	}
	st = fts_query_parse(utf8, len, a, &mem, &q, err, sizeof(err));
	switch (st)
	{
		case FTS_QUERY_OK:
			break;
		case FTS_QUERY_SYNTAX:
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("invalid bm25query: %s", err),
					 errdetail("Query: %s", text),
					 errhint("A bm25query is in SQLite FTS5's query syntax: words, \"phrases\", AND, OR, NOT and parentheses.")));
			break;
		case FTS_QUERY_UNSUPPORTED:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("bm25query: %s", err),
					 errdetail("Query: %s", text),
					 errhint("vlake supports FTS5's words, \"phrases\", +, AND, OR, NOT and parentheses; quote a word to search it as it is.")));
			break;
		case FTS_QUERY_LIMIT:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("bm25query is too complex: %s", err)));
			break;
		case FTS_QUERY_BAD_TEXT:
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("bm25query: %s", err)));
			break;
		case FTS_QUERY_NO_MEMORY:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory parsing a bm25query")));
			break;
	}
	return q;
}

/*
 * The call site's cache for query fq, (re)built when the query, its index
 * or (without an index) vlake.fts_config changed.  score: the idf of each
 * phrase is wanted (ERROR without an index).
 */
static QueryCache *
get_cache(FunctionCallInfo fcinfo, FtsQueryDatum *fq, bool score)
{
	QueryCache *c = fcinfo->flinfo->fn_extra;
	MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
	const char *config = fts_default_config ? fts_default_config : "english";

	if (score && !OidIsValid(fq->indexoid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a BM25 score needs the index whose statistics score the query"),
				 errdetail("Query: %s", fq->query),
				 errhint("Make the query with to_bm25query(query, index), e.g. body <@> to_bm25query(%s, 'docs_body_idx').",
						 quote_literal_cstr(fq->query))));
	if (c != NULL && c->indexoid == fq->indexoid && strcmp(c->text, fq->query) == 0 &&
		(OidIsValid(fq->indexoid) || strcmp(c->config, config) == 0) &&
		(c->scored || !score))
		return c;
	if (c != NULL)
	{
		cache_free(c);
		fcinfo->flinfo->fn_extra = NULL;
	}
	c = MemoryContextAllocZero(cxt, sizeof(QueryCache));
	c->text = MemoryContextStrdup(cxt, fq->query);
	c->indexoid = fq->indexoid;
	if (OidIsValid(fq->indexoid))
	{
		FtsSource **src;
		int			nsrc = fts_am_sources(fq->indexoid, &c->settings, &src);

		strlcpy(c->config, c->settings.config, sizeof(c->config));
		c->q = parse_query(fq->query, c->config, cxt);
		c->idf = MemoryContextAllocZero(cxt, sizeof(double) * (c->q->nphrases + 1));
		/* @@@ needs the configuration only; the statistics are for <@> */
		if (score && c->q->nphrases > 0)
		{
			FtsAllocator mem = {cxt_alloc, cxt_free, CurrentMemoryContext};

			fts_query_stats(src, nsrc, &c->settings.params);
			if (!fts_query_df(c->q, src, nsrc, &mem, c->idf))
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("out of memory counting the documents of a bm25query's phrases")));
			for (int i = 0; i < c->q->nphrases; i++)
				c->idf[i] = fts_bm25_idf(&c->settings.params, c->idf[i]);
		}
		c->scored = score;
	}
	else
	{
		strlcpy(c->config, config, sizeof(c->config));
		c->q = parse_query(fq->query, c->config, cxt);
	}
	fcinfo->flinfo->fn_extra = c;
	return c;
}

/* A document's tokens, one field after the other. */
typedef struct DocTokens
{
	const FtsQuery *q;			/* only its terms are kept */
	FtsDocToken *tok;
	int			n,
				cap;
	uint32_t	field;
	double		dl;				/* |d|: per field, the last position + 1 */
	uint32_t	field_len;
} DocTokens;

static bool
add_token(void *arg, const char *term, size_t len, uint32_t position,
		  size_t start, size_t end)
{
	DocTokens  *d = arg;
	char	   *copy;
	bool		wanted = false;

	if (position > FTS_MAX_POSITION)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a document field has more than %u tokens", FTS_MAX_POSITION + 1)));
	if (position + 1 > d->field_len)
		d->field_len = position + 1;
	/* matching and scoring look at the query's terms only: keep just those */
	for (int i = 0; i < d->q->nphrases && !wanted; i++)
		for (int j = 0; j < d->q->phrases[i].nterms && !wanted; j++)
			wanted = d->q->phrases[i].terms[j].len == len &&
				memcmp(d->q->phrases[i].terms[j].text, term, len) == 0;
	if (!wanted)
		return true;
	if (d->n == d->cap)
	{
		d->cap = d->cap ? d->cap * 2 : 64;
		d->tok = d->tok ? repalloc_huge(d->tok, sizeof(FtsDocToken) * d->cap)
			: palloc(sizeof(FtsDocToken) * d->cap);
	}
	copy = palloc(len + 1);
	memcpy(copy, term, len);
	copy[len] = '\0';
	d->tok[d->n].term = copy;
	d->tok[d->n].len = (uint32_t) len;
	d->tok[d->n].pos = FTS_POSITION(d->field, position);
	d->n++;
	return true;
}

static void
add_field(DocTokens *d, const char *config, const char *text, size_t len)
{
	d->field_len = 0;
	fts_config_analyze(config, text, len, add_token, d);
	d->dl += d->field_len;
}

static void
doc_text(DocTokens *d, const FtsQuery *q, const char *config, text *t)
{
	memset(d, 0, sizeof(*d));
	d->q = q;
	add_field(d, config, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

/* A text[]: element i (in storage order, NULLs skipped) is field i. */
static void
doc_array(DocTokens *d, const FtsQuery *q, const char *config, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	memset(d, 0, sizeof(*d));
	d->q = q;
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n > FTS_MAX_FIELDS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a text[] document has %d fields, more than %d", n, FTS_MAX_FIELDS)));
	for (int i = 0; i < n; i++)
	{
		text	   *t;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(elems[i]);
		d->field = (uint32_t) i;
		add_field(d, config, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		CHECK_FOR_INTERRUPTS();
	}
}

static bool
doc_match(QueryCache *c, DocTokens *d, double *f)
{
	bool		match;
	FtsAllocator mem = {cxt_alloc, cxt_free, CurrentMemoryContext};

	if (!fts_query_doc(c->q, d->tok, d->n, OidIsValid(c->indexoid) ? c->settings.weights : NULL,
					   OidIsValid(c->indexoid) ? c->settings.nfields : 0, &mem, f, &match))
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	return match;
}

static double
doc_score(QueryCache *c, DocTokens *d)
{
	double	   *f = palloc(sizeof(double) * (c->q->nphrases + 1));

	if (fts_query_empty(c->q))
		return 0.0;
	doc_match(c, d, f);
	/* FTS5's sign: lower is better; + 0.0 turns -0 into 0 */
	return -fts_query_score(c->q, &c->settings.params, c->idf, f, d->dl) + 0.0;
}

Datum
vlake_bm25_match_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	FtsQueryDatum *fq = PG_GETARG_FTSQUERY_P(1);
	QueryCache *c = get_cache(fcinfo, fq, false);
	DocTokens	d;
	double	   *f;

	if (fts_query_empty(c->q))
		PG_RETURN_BOOL(false);
	doc_text(&d, c->q, c->config, t);
	f = palloc(sizeof(double) * c->q->nphrases);
	PG_RETURN_BOOL(doc_match(c, &d, f));
}

Datum
vlake_bm25_match_array(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	FtsQueryDatum *fq = PG_GETARG_FTSQUERY_P(1);
	QueryCache *c = get_cache(fcinfo, fq, false);
	DocTokens	d;
	double	   *f;

	if (fts_query_empty(c->q))
		PG_RETURN_BOOL(false);
	doc_array(&d, c->q, c->config, a);
	f = palloc(sizeof(double) * c->q->nphrases);
	PG_RETURN_BOOL(doc_match(c, &d, f));
}

Datum
vlake_bm25_score_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	FtsQueryDatum *fq = PG_GETARG_FTSQUERY_P(1);
	QueryCache *c = get_cache(fcinfo, fq, true);
	DocTokens	d;

	doc_text(&d, c->q, c->config, t);
	PG_RETURN_FLOAT8(doc_score(c, &d));
}

Datum
vlake_bm25_score_array(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	FtsQueryDatum *fq = PG_GETARG_FTSQUERY_P(1);
	QueryCache *c = get_cache(fcinfo, fq, true);
	DocTokens	d;

	doc_array(&d, c->q, c->config, a);
	PG_RETURN_FLOAT8(doc_score(c, &d));
}
