/*
 * fts_am_scan.c — scans of a vlake_bm25 index.
 *
 * WHERE doc @@@ q (no ORDER BY): every matching row (gettuple or bitmap).
 * ORDER BY doc <@> q: rows by score, best first, through the exact top-k
 * search (block-max WAND, fts_query_topk): a batch of k rows, and when the
 * executor wants more (a LIMIT beyond k, rows a filter or visibility
 * rejected) the next batch of 4k, skipping the rows already returned — each
 * batch is exact, so the order is.  With a WHERE doc @@@ q of the same
 * query, only matching rows are ranked; without one every indexed row comes
 * back (the sum over the query's phrases it holds; rows holding none last,
 * score 0), as a sort would return them.
 *
 * A vlake_sparse index (a sparsevec column): ORDER BY emb <#> q, the same
 * batches, each an exact inner-product top-k per source (fts_topk in
 * impact mode: the query's nonzeros are the terms, their weights the
 * idf), merged by score; rows holding no query dimension last, score 0.
 */
#include "postgres.h"

#include "access/relscan.h"
#include "miscadmin.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fulltext/fts_am_postings.h"
#include "fulltext/fts_config.h"
#include "fulltext/fts_query.h"
#include "lake/lake_rowref.h"
#include "vector/vector.h"

/* Rows of the first ranked batch (a LIMIT 10 is served by one). */
#define FTS_FIRST_BATCH 10

typedef struct FtsScan
{
	MemoryContext cxt;			/* reset by rescan */
	FtsAllocator mem;
	FtsAmSources *s;
	bool		ordered;
	bool		started;
	bool		recheck;		/* more conditions than the index applies */
	bool		nothing;		/* a NULL condition: no row */
	FtsQuery   *match;			/* the first @@@ key's query, or NULL */
	FtsQuery   *rank;			/* the ORDER BY's query (OR of its phrases without a match) */
	/* ranked batches */
	FtsHit	   *hits;
	int			nhits;
	int			pos;
	int			k;
	bool		ranked_done;	/* every document with a score was returned */
	HTAB	   *returned;		/* refs returned so far */
	/* score-0 rows (ranking without a match) */
	int			zsrc;
	uint64		zdoc;
	/* unordered: every match */
	uint64	   *refs;
	uint64		nrefs;
	uint64		rpos;
	FtsQueryStats stats;
	/* vlake_sparse */
	bool		sparse;
	SparseVector *sq;			/* the ORDER BY's query vector, or NULL */
} FtsScan;

static void *
scan_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, Max(size, 1), MCXT_ALLOC_HUGE);
}

static void
scan_free(void *arg, void *ptr)
{
	if (ptr)
		pfree(ptr);
}

IndexScanDesc
fts_am_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	FtsScan    *so = palloc0(sizeof(FtsScan));

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake_bm25 scan",
									ALLOCSET_DEFAULT_SIZES);
	so->mem.alloc = scan_alloc;
	so->mem.free = scan_free;
	so->mem.arg = so->cxt;
	scan->opaque = so;
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc0(sizeof(bool) * Max(norderbys, 1));
	return scan;
}

/* Parse a query against this index (its configuration). */
static FtsQuery *
parse_query(IndexScanDesc scan, Datum d)
{
	FtsScan    *so = scan->opaque;
	FtsQueryDatum *qd = DatumGetFtsQueryP(d);
	FtsQuery   *q;
	char		err[256];
	FtsQueryStatus st;

	if (OidIsValid(qd->indexoid) && qd->indexoid != RelationGetRelid(scan->indexRelation))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bm25query names index \"%s\", but the scan uses index \"%s\"",
						get_rel_name(qd->indexoid), RelationGetRelationName(scan->indexRelation)),
				 errhint("Name the index the query is planned with in to_bm25query().")));
	st = fts_query_parse(qd->query, strlen(qd->query),
						 fts_config_analyzer(so->s->settings.config), &so->mem, &q,
						 err, sizeof(err));
	if (st == FTS_QUERY_NO_MEMORY)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (st != FTS_QUERY_OK)
		ereport(ERROR,
				(errcode(st == FTS_QUERY_LIMIT ? ERRCODE_PROGRAM_LIMIT_EXCEEDED :
						 st == FTS_QUERY_UNSUPPORTED ? ERRCODE_FEATURE_NOT_SUPPORTED :
						 st == FTS_QUERY_BAD_TEXT ? ERRCODE_CHARACTER_NOT_IN_REPERTOIRE :
						 ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid bm25query \"%s\": %s", qd->query, err)));
	return q;
}

/* The same phrases under one OR: ranks every document holding any. */
static FtsQuery *
any_phrase(FtsScan *so, const FtsQuery *q)
{
	FtsQuery   *r = MemoryContextAlloc(so->cxt, sizeof(FtsQuery));

	*r = *q;
	if (q->nphrases == 0)
		return r;
	r->nodes = MemoryContextAlloc(so->cxt, sizeof(FtsQueryNode) * (2 * q->nphrases));
	for (int i = 0; i < q->nphrases; i++)
	{
		r->nodes[i].type = FTS_QNODE_PHRASE;
		r->nodes[i].phrase = i;
		r->nodes[i].left = r->nodes[i].right = -1;
	}
	r->nnodes = q->nphrases;
	r->root = 0;
	for (int i = 1; i < q->nphrases; i++)
	{
		FtsQueryNode *n = &r->nodes[r->nnodes];

		n->type = FTS_QNODE_OR;
		n->phrase = -1;
		n->left = r->root;
		n->right = i;
		r->root = r->nnodes++;
	}
	return r;
}

void
fts_am_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	FtsScan    *so = scan->opaque;
	MemoryContext old;
	char	   *match_text = NULL;

	MemoryContextReset(so->cxt);
	so->hits = NULL;
	so->nhits = so->pos = 0;
	so->k = FTS_FIRST_BATCH;
	so->ranked_done = false;
	so->returned = NULL;
	so->zsrc = 0;
	so->zdoc = 0;
	so->refs = NULL;
	so->nrefs = so->rpos = 0;
	so->started = false;
	so->match = so->rank = NULL;
	so->recheck = so->nothing = false;
	memset(&so->stats, 0, sizeof(so->stats));
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

	old = MemoryContextSwitchTo(so->cxt);
	so->s = fts_am_get_sources(scan->indexRelation);
	so->ordered = scan->numberOfOrderBys > 0;
	so->sparse = so->s->settings.params.impact;
	so->sq = NULL;
	if (so->sparse)
	{
		/* the opclass has only ORDER BY <#>: no keys */
		if (so->ordered && !(scan->orderByData[0].sk_flags & SK_ISNULL))
		{
			SparseVector *q = (SparseVector *) PG_DETOAST_DATUM_COPY(scan->orderByData[0].sk_argument);
			const float *qx = SPARSEVEC_VALUES(q);

			for (int i = 0; i < q->nnz; i++)
				if (!(qx[i] >= 0))
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("vlake_sparse index \"%s\" cannot rank by a query with a negative weight (element %d is %g)",
									RelationGetRelationName(scan->indexRelation), q->indices[i] + 1,
									(double) qx[i]),
							 errdetail("The index's exact top-k bounds need non-negative weights, as learned sparse models produce."),
							 errhint("Disable index scans (SET enable_indexscan = off) to rank by such a query.")));
			so->sq = q;
		}
		MemoryContextSwitchTo(old);
		return;
	}
	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		k = &scan->keyData[i];

		if (k->sk_flags & SK_ISNULL)
			so->nothing = true;
		else if (so->match == NULL)
		{
			so->match = parse_query(scan, k->sk_argument);
			match_text = DatumGetFtsQueryP(k->sk_argument)->query;
		}
		else
			so->recheck = true;	/* the executor checks the others */
	}
	if (so->ordered && !(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		Datum		d = scan->orderByData[0].sk_argument;

		if (so->match && strcmp(match_text, DatumGetFtsQueryP(d)->query) == 0)
			so->rank = so->match;	/* rank the matches of the same query */
		else
		{
			so->rank = any_phrase(so, parse_query(scan, d));
			if (so->match)
				so->recheck = true;	/* ranked without it: the executor filters */
		}
	}
	MemoryContextSwitchTo(old);
}

/* ---- ordered ---- */

static double
sparse_doclen(void *arg, uint64_t doc)
{
	FtsSource  *s = arg;

	return s->doclen(s, doc);
}

static bool
sparse_keep(void *arg, uint64_t doc, uint64_t present, uint64_t *scored)
{
	FtsSource  *s = arg;

	return !(s->deleted && s->deleted(s, doc));
}

static int
hit_cmp(const void *x, const void *y)
{
	const FtsHit *a = x,
			   *b = y;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return (a->doc > b->doc) - (a->doc < b->doc);
}

/*
 * The k best rows of one source by inner product with q, into out (doc =
 * the source's document): fts_topk in impact mode, or with more query
 * nonzeros than FTS_MAX_TERMS every posting of the query's dimensions
 * scored into a float per document (the same float sums, in dimension
 * order) and sorted.
 */
static int
sparse_source_topk(FtsScan *so, FtsSource *src, int k, FtsHit *out)
{
	SparseVector *q = so->sq;
	const float *qx = SPARSEVEC_VALUES(q);
	const FtsBm25 *p = &so->s->settings.params;
	int			n = 0;

	if (q->nnz <= FTS_MAX_TERMS)
	{
		FtsCursor  *cur[FTS_MAX_TERMS];
		int			ncur = 0;
		void	   *scratch;

		for (int i = 0; i < q->nnz; i++)
		{
			uint32		d = (uint32) q->indices[i];
			char		term[4] = {(char) (d >> 24), (char) (d >> 16), (char) (d >> 8), (char) d};
			FtsCursor  *c = src->open_term(src, term, 4, p, (double) qx[i]);

			if (c)
				cur[ncur++] = c;
		}
		if (ncur == 0)
			return 0;
		scratch = palloc_extended(fts_topk_scratch(ncur, k), MCXT_ALLOC_HUGE);
		n = fts_topk_filtered(p, cur, ncur, k, sparse_doclen, src, sparse_keep, src, 0, scratch, out, NULL);
		pfree(scratch);
		return n;
	}
	else
	{
		float	   *acc = palloc0_array(float, Max(src->ndocs, 1));
		bool	   *held = palloc0_array(bool, Max(src->ndocs, 1));
		FtsHit	   *all;
		uint64		nall = 0;

		for (int i = 0; i < q->nnz; i++)
		{
			uint32		d = (uint32) q->indices[i];
			char		term[4] = {(char) (d >> 24), (char) (d >> 16), (char) (d >> 8), (char) d};
			FtsCursor  *c = src->open_term(src, term, 4, p, (double) qx[i]);
			uint64		target = 0;

			if (c == NULL)
				continue;
			while (c->next(c, target))
			{
				CHECK_FOR_INTERRUPTS();
				/* sparsevec's arithmetic: a float product added to a float */
				acc[c->doc] += (float) c->f * qx[i];
				held[c->doc] = true;
				target = c->doc + 1;
			}
		}
		for (uint64 doc = 0; doc < src->ndocs; doc++)
			if (held[doc] && !(src->deleted && src->deleted(src, doc)))
				nall++;
		all = palloc_extended(sizeof(FtsHit) * Max(nall, 1), MCXT_ALLOC_HUGE);
		nall = 0;
		for (uint64 doc = 0; doc < src->ndocs; doc++)
			if (held[doc] && !(src->deleted && src->deleted(src, doc)))
			{
				all[nall].doc = doc;
				all[nall++].score = (double) acc[doc];
			}
		qsort(all, nall, sizeof(FtsHit), hit_cmp);
		n = (int) Min(nall, (uint64) k);
		memcpy(out, all, sizeof(FtsHit) * n);
		pfree(all);
		pfree(acc);
		pfree(held);
		return n;
	}
}

/* The k best rows over every source (doc = row reference), ties by reference. */
static int
sparse_topk(FtsScan *so, int k, FtsHit *out)
{
	FtsAmSources *s = so->s;
	FtsHit	   *all = palloc_extended(sizeof(FtsHit) * (Size) k * Max(s->nsources, 1), MCXT_ALLOC_HUGE);
	int			nall = 0;

	for (int i = 0; i < s->nsources; i++)
	{
		int			n = sparse_source_topk(so, s->sources[i], k, all + nall);

		for (int j = 0; j < n; j++)
			all[nall + j].doc = s->sources[i]->doc_ref(s->sources[i], all[nall + j].doc);
		nall += n;
	}
	qsort(all, nall, sizeof(FtsHit), hit_cmp);
	nall = Min(nall, k);
	memcpy(out, all, sizeof(FtsHit) * nall);
	pfree(all);
	return nall;
}

static void
next_batch(IndexScanDesc scan)
{
	FtsScan    *so = scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->cxt);
	int			n;

	if (so->hits)
		so->k = so->k > INT_MAX / 4 ? INT_MAX : so->k * 4;
	so->hits = palloc_extended(sizeof(FtsHit) * (Size) so->k, MCXT_ALLOC_HUGE);
	if (so->sparse)
		n = sparse_topk(so, so->k, so->hits);
	else
		n = fts_query_topk(so->rank, so->s->sources, so->s->nsources, &so->s->settings.params,
						   so->k, &so->mem, so->hits, &so->stats);
	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	so->nhits = n;
	so->pos = 0;
	if (n < so->k)
		so->ranked_done = true;
	MemoryContextSwitchTo(old);
}

static bool
mark_returned(FtsScan *so, uint64 ref)
{
	bool		found;

	if (so->returned == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(uint64);
		ctl.hcxt = so->cxt;
		so->returned = hash_create("vlake_bm25 returned", 256, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	hash_search(so->returned, &ref, HASH_ENTER, &found);
	return !found;
}

static bool
was_returned(FtsScan *so, uint64 ref)
{
	bool		found = false;

	if (so->returned)
		hash_search(so->returned, &ref, HASH_FIND, &found);
	return found;
}

static bool
next_ranked(IndexScanDesc scan, uint64 *ref, double *score)
{
	FtsScan    *so = scan->opaque;

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (so->pos < so->nhits)
		{
			FtsHit	   *h = &so->hits[so->pos++];

			if (!mark_returned(so, h->doc))
				continue;
			*ref = h->doc;
			*score = h->score;
			return true;
		}
		if (so->ranked_done)
			return false;
		next_batch(scan);
	}
}

/* Rows holding no phrase of the query: score 0, in source order. */
static bool
next_zero(IndexScanDesc scan, uint64 *ref)
{
	FtsScan    *so = scan->opaque;

	while (so->zsrc < so->s->nsources)
	{
		FtsSource  *src = so->s->sources[so->zsrc];

		while (so->zdoc < src->ndocs)
		{
			uint64		doc = so->zdoc++;
			uint64		r;

			CHECK_FOR_INTERRUPTS();
			if (src->deleted && src->deleted(src, doc))
				continue;
			r = src->doc_ref(src, doc);
			if (was_returned(so, r))
				continue;
			*ref = r;
			return true;
		}
		so->zsrc++;
		so->zdoc = 0;
	}
	return false;
}

/* ---- unordered: every match ---- */

typedef struct Collect
{
	uint64	   *refs;
	uint64		n;
	uint64		cap;
	MemoryContext cxt;
} Collect;

static bool
collect_ref(void *arg, uint64_t ref)
{
	Collect    *c = arg;

	if (c->n == c->cap)
	{
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->refs = c->refs ? repalloc_huge(c->refs, sizeof(uint64) * c->cap)
			: MemoryContextAllocHuge(c->cxt, sizeof(uint64) * c->cap);
	}
	c->refs[c->n++] = ref;
	return true;
}

static void
collect_matches(IndexScanDesc scan, Collect *c)
{
	FtsScan    *so = scan->opaque;

	memset(c, 0, sizeof(*c));
	c->cxt = so->cxt;
	if (so->match == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a vlake_bm25 index scan needs a @@@ condition or an ORDER BY <@>")));
	if (!fts_query_matches(so->match, so->s->sources, so->s->nsources, &so->mem,
						   collect_ref, c))
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
}

bool
fts_am_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	FtsScan    *so = scan->opaque;
	uint64		ref;
	double		score = 0;

	if (so->nothing)
		return false;
	if (!so->ordered)
	{
		if (!so->started)
		{
			Collect		c;

			collect_matches(scan, &c);
			so->refs = c.refs;
			so->nrefs = c.n;
			so->started = true;
		}
		if (so->rpos >= so->nrefs)
			return false;
		lake_rowref_to_tid(so->refs[so->rpos++], &scan->xs_heaptid);
		scan->xs_recheck = so->recheck;
		return true;
	}
	so->started = true;
	if (so->sparse ? so->sq == NULL : so->rank == NULL)
		return false;			/* ORDER BY doc <@> NULL: nothing is ordered */
	if (!next_ranked(scan, &ref, &score))
	{
		/* with a match condition only matches come back; else the rest */
		if ((!so->sparse && so->rank == so->match) || !next_zero(scan, &ref))
			return false;
		score = 0;
	}
	lake_rowref_to_tid(ref, &scan->xs_heaptid);
	scan->xs_recheck = so->recheck;
	scan->xs_recheckorderby = false;
	scan->xs_orderbyvals[0] = Float8GetDatum(score == 0 ? 0.0 : -score);
	scan->xs_orderbynulls[0] = false;
	return true;
}

int64
fts_am_getbitmap(IndexScanDesc scan, TIDBitmap *tbm)
{
	FtsScan    *so = scan->opaque;
	Collect		c;

	if (so->nothing)
		return 0;
	collect_matches(scan, &c);
	for (uint64 i = 0; i < c.n; i++)
	{
		ItemPointerData tid;

		lake_rowref_to_tid(c.refs[i], &tid);
		tbm_add_tuples(tbm, &tid, 1, so->recheck);
	}
	return (int64) c.n;
}

void
fts_am_endscan(IndexScanDesc scan)
{
	FtsScan    *so = scan->opaque;

	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}
