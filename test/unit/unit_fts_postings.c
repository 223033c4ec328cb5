/*
 * unit_fts_postings — the postings engine of the BM25 index
 * (src/fulltext/fts_postings.c) against an independent oracle: the raw
 * token lists of random corpora, kept here as plain arrays.
 *
 *   - random corpora: Zipf-distributed terms (with terms that are prefixes
 *     of others and non-ASCII bytes), 1 to 3 fields weighted like 2 / 1 /
 *     0.5, document lengths 0 to 300, gaps in positions (stop words),
 *     arbitrary row references, tokens fed in text order or shuffled;
 *   - every term's df (and 0 / no cursor for absent terms), its postings by
 *     exhaustive next(): doc ids, f (bit-identical: sum over fields in field
 *     order of weight x occurrences) and positions; next(target) seeks to
 *     random targets; shallow(): the block that holds the first posting >=
 *     target (blocks of 128), and its bound >= every posting's contribution
 *     in the block; max_bound >= every contribution; doclen and doc_ref of
 *     every document; N, total tokens, fields and weights;
 *   - fts_topk over the image's cursors equals brute-force scoring of every
 *     document (same documents, same order, bit-identical scores);
 *   - merge: 1 to 3 images of consecutive document ranges with random
 *     deletions give the image built from the surviving documents (byte for
 *     byte), which passes the same oracle checks;
 *   - corrupt images: targeted damage (magic, version, sizes, offsets,
 *     order, varints, block metadata, positions), each refused with the
 *     section it names, and random damage (bytes flipped, CRCs then fixed
 *     so the structural checks are reached, truncation): never a crash
 *     (run under ASan by the fuzzer);
 *   - builder errors: a field beyond the index's, a term twice at one
 *     position, tokens outside a document, the memory limit;
 *   - CRC-32C against an independent bitwise implementation and the
 *     standard check value; no allocation left behind.
 * Exit status 0 = pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fulltext/fts_postings.h"

static int	failures = 0;
static int	checks = 0;

#define CHECK(cond, ...) do { checks++; \
	if (!(cond)) { failures++; if (failures < 50) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); printf("\n"); } } } while (0)

/* ----------------------------------------------------------- allocator -- */

static long live_allocs = 0;

static void *
t_alloc(void *arg, size_t n)
{
	live_allocs++;
	return malloc(n);
}

static void *
t_realloc(void *arg, void *p, size_t old, size_t n)
{
	return realloc(p, n);
}

static void
t_free(void *arg, void *p)
{
	live_allocs--;
	free(p);
}

static const FtsAlloc talloc = {t_alloc, t_realloc, t_free, NULL};

static void *
xmalloc(size_t n)
{
	void	   *p = calloc(1, n ? n : 1);

	if (!p)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

static uint64_t
rnd(uint64_t *st)
{
	/* splitmix64 */
	uint64_t	z = (*st += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
unif(uint64_t *st)
{
	return (rnd(st) >> 11) * (1.0 / 9007199254740992.0);
}

static int
zipf(uint64_t *st, int n, double s)
{
	double		u = unif(st);
	double		x = pow((double) n + 1.0, 1.0 - s);
	int			r = (int) (pow(1.0 + u * (x - 1.0), 1.0 / (1.0 - s))) - 1;

	return r < 0 ? 0 : (r >= n ? n - 1 : r);
}

/* ---------------------------------------------------------- the corpus -- */

typedef struct Tok
{
	int			term;
	uint32_t	pos;
} Tok;

typedef struct Doc
{
	uint64_t	ref;
	uint32_t	len;			/* |d| */
	int			ntok;
	Tok		   *tok;
} Doc;

typedef struct Corpus
{
	int			nfields;
	double		w[3];
	int			vocab;
	char	  **term;			/* vocab names */
	size_t	   *term_len;
	int			ndocs;
	Doc		   *docs;
} Corpus;

/* Term names: some prefixes of others ("a1" < "a10"), some with bytes >= 0x80. */
static void
make_names(Corpus *c)
{
	c->term = xmalloc(sizeof(char *) * c->vocab);
	c->term_len = xmalloc(sizeof(size_t) * c->vocab);
	for (int t = 0; t < c->vocab; t++)
	{
		char		buf[64];
		int			n;

		if (t % 11 == 5)
			n = snprintf(buf, sizeof(buf), "\xc3\xa9t\xc3\xa9%d", t);
		else if (t % 13 == 7)
			n = snprintf(buf, sizeof(buf), "z\xff%d", t);
		else
			n = snprintf(buf, sizeof(buf), "a%d", t);
		c->term[t] = xmalloc(n + 1);
		memcpy(c->term[t], buf, n + 1);
		c->term_len[t] = n;
	}
}

static Corpus *
corpus_make(uint64_t seed, int ndocs, int vocab, int nfields)
{
	Corpus	   *c = xmalloc(sizeof(Corpus));
	uint64_t	st = seed;
	static const double weights[3] = {2.0, 1.0, 0.5};

	c->nfields = nfields;
	for (int f = 0; f < 3; f++)
		c->w[f] = nfields == 1 ? (seed % 2 ? 1.0 : 1.5) : weights[f];
	c->vocab = vocab;
	make_names(c);
	c->ndocs = ndocs;
	c->docs = xmalloc(sizeof(Doc) * (ndocs ? ndocs : 1));
	for (int d = 0; d < ndocs; d++)
	{
		Doc		   *doc = &c->docs[d];
		int			total = (int) (rnd(&st) % 301);
		int			cap = total;

		/* some empty documents, many short, a few long */
		if (rnd(&st) % 10 == 0)
			total = 0;
		else if (rnd(&st) % 3)
			total = total / 6;
		doc->ref = rnd(&st) % 4 ? rnd(&st) : (uint64_t) d * 3;
		doc->tok = xmalloc(sizeof(Tok) * (cap ? cap : 1));
		doc->ntok = 0;
		doc->len = (uint32_t) total;
		/* split the tokens over the fields; a position of every field counts */
		for (int f = 0, left = total; f < nfields; f++)
		{
			int			flen = f == nfields - 1 ? left : (int) (rnd(&st) % (left + 1));

			left -= flen;
			for (int i = 0; i < flen; i++)
			{
				if (rnd(&st) % 8 == 0)
					continue;	/* a stop word: a position, no token */
				doc->tok[doc->ntok].term = zipf(&st, vocab, 1.05);
				doc->tok[doc->ntok].pos = FTS_POSITION(f, i);
				doc->ntok++;
			}
		}
	}
	return c;
}

static void
corpus_free(Corpus *c)
{
	for (int d = 0; d < c->ndocs; d++)
		free(c->docs[d].tok);
	for (int t = 0; t < c->vocab; t++)
		free(c->term[t]);
	free(c->term);
	free(c->term_len);
	free(c->docs);
	free(c);
}

/* ---------------------------------------------------------- the oracle -- */

typedef struct OPost
{
	uint32_t	doc;
	double		f;
	int			npos;
	uint32_t   *pos;
} OPost;

typedef struct OTerm
{
	int			n;
	int			cap;
	OPost	   *p;
} OTerm;

typedef struct Oracle
{
	const Corpus *c;
	const bool *keep;			/* NULL: every document */
	int			ndocs;			/* surviving */
	int		   *orig;			/* new doc id -> corpus doc */
	OTerm	   *t;				/* per vocab term */
	double		ntokens;
	int			nterms;			/* terms present */
} Oracle;

static int
u32cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *) a,
				y = *(const uint32_t *) b;

	return (x > y) - (x < y);
}

/* The postings straight from the token lists (of the kept documents). */
static Oracle *
oracle_make(const Corpus *c, const bool *keep)
{
	Oracle	   *o = xmalloc(sizeof(Oracle));
	uint32_t   *tmp = xmalloc(sizeof(uint32_t) * 400);

	o->c = c;
	o->keep = keep;
	o->t = xmalloc(sizeof(OTerm) * c->vocab);
	o->orig = xmalloc(sizeof(int) * (c->ndocs ? c->ndocs : 1));
	for (int d = 0; d < c->ndocs; d++)
	{
		const Doc  *doc = &c->docs[d];
		uint32_t	nd;

		if (keep && !keep[d])
			continue;
		nd = (uint32_t) o->ndocs++;
		o->orig[nd] = d;
		o->ntokens += doc->len;
		for (int i = 0; i < doc->ntok; i++)
		{
			int			t = doc->tok[i].term;
			OTerm	   *ot = &o->t[t];
			int			n = 0;
			double		f = 0;

			if (ot->n > 0 && ot->p[ot->n - 1].doc == nd)
				continue;		/* this term of this document is done */
			for (int j = i; j < doc->ntok; j++)
				if (doc->tok[j].term == t)
					tmp[n++] = doc->tok[j].pos;
			qsort(tmp, n, sizeof(uint32_t), u32cmp);
			for (int fld = 0; fld < c->nfields; fld++)
			{
				int			cnt = 0;

				for (int j = 0; j < n; j++)
					cnt += FTS_POSITION_FIELD(tmp[j]) == (uint32_t) fld;
				f += c->w[fld] * cnt;
			}
			if (ot->n == ot->cap)
			{
				ot->cap = ot->cap ? 2 * ot->cap : 4;
				ot->p = realloc(ot->p, sizeof(OPost) * ot->cap);
			}
			ot->p[ot->n].doc = nd;
			ot->p[ot->n].f = f;
			ot->p[ot->n].npos = n;
			ot->p[ot->n].pos = xmalloc(sizeof(uint32_t) * n);
			memcpy(ot->p[ot->n].pos, tmp, sizeof(uint32_t) * n);
			ot->n++;
		}
	}
	for (int t = 0; t < c->vocab; t++)
		o->nterms += o->t[t].n > 0;
	free(tmp);
	return o;
}

static void
oracle_free(Oracle *o)
{
	for (int t = 0; t < o->c->vocab; t++)
	{
		for (int i = 0; i < o->t[t].n; i++)
			free(o->t[t].p[i].pos);
		free(o->t[t].p);
	}
	free(o->t);
	free(o->orig);
	free(o);
}

/* ----------------------------------------------------------- building -- */

static uint8_t *
build(const Corpus *c, const bool *keep, int from, int to, bool shuffle, uint64_t seed, size_t *size)
{
	FtsPostingsError err = {0};
	FtsPostingsBuilder *b = fts_postings_builder_create(&talloc, c->nfields, c->w, 0, &err);
	uint8_t    *img = NULL;
	uint64_t	st = seed;
	Tok		   *tmp = xmalloc(sizeof(Tok) * 301);

	CHECK(b != NULL, "builder: %s", err.message);
	if (!b)
		return NULL;
	for (int d = from; d < to; d++)
	{
		const Doc  *doc = &c->docs[d];

		if (keep && !keep[d])
			continue;
		memcpy(tmp, doc->tok, sizeof(Tok) * doc->ntok);
		if (shuffle)
			for (int i = doc->ntok - 1; i > 0; i--)
			{
				int			j = (int) (rnd(&st) % (i + 1));
				Tok			x = tmp[i];

				tmp[i] = tmp[j];
				tmp[j] = x;
			}
		CHECK(fts_postings_begin_doc(b, doc->ref, &err) == FTSP_OK, "begin_doc: %s", err.message);
		for (int i = 0; i < doc->ntok; i++)
			if (fts_postings_add_token(b, c->term[tmp[i].term], c->term_len[tmp[i].term], tmp[i].pos, &err) != FTSP_OK)
				CHECK(false, "add_token: %s", err.message);
		CHECK(fts_postings_end_doc(b, doc->len, &err) == FTSP_OK, "end_doc: %s", err.message);
	}
	CHECK(fts_postings_builder_memory(b) > 0, "the builder reports its memory");
	CHECK(fts_postings_builder_finish(b, &img, size, &err) == FTSP_OK, "finish: %s", err.message);
	fts_postings_builder_free(b);
	free(tmp);
	return img;
}

/* ---------------------------------------------------- checks vs oracle -- */

static double
contribution(const FtsBm25 *p, double idf, double f, double dl)
{
	return fts_bm25_term(p, idf, f, dl);
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

static void
check_image(const Oracle *o, const uint8_t *img, size_t size, bool validate_all, uint64_t seed,
			const char *what)
{
	const Corpus *c = o->c;
	FtsPostingsError err = {0};
	FtsPostingsReader *r = fts_postings_open(&talloc, img, size, validate_all ? FTSP_OPEN_VALIDATE_ALL : 0, &err);
	FtsSource  *s;
	FtsBm25		p;
	uint64_t	st = seed;

	CHECK(r != NULL, "%s: open: %s", what, err.message);
	if (!r)
		return;
	s = fts_postings_source(r);
	CHECK(s->ndocs == (uint64_t) o->ndocs && fts_postings_ndocs(r) == (uint64_t) o->ndocs,
		  "%s: N %llu, oracle %d", what, (unsigned long long) s->ndocs, o->ndocs);
	CHECK(s->ntokens == o->ntokens, "%s: tokens %g, oracle %g", what, s->ntokens, o->ntokens);
	CHECK(fts_postings_nterms(r) == (uint64_t) o->nterms, "%s: %llu terms, oracle %d", what,
		  (unsigned long long) fts_postings_nterms(r), o->nterms);
	CHECK(s->nfields == c->nfields && fts_postings_nfields(r) == c->nfields, "%s: fields", what);
	for (int f = 0; f < c->nfields; f++)
		CHECK(s->field_weights[f] == c->w[f], "%s: weight %d", what, f);
	CHECK(s->deleted == NULL, "%s: deleted is the caller's", what);
	CHECK(fts_postings_source_reader(s) == r, "%s: source -> reader", what);
	for (int d = 0; d < o->ndocs; d++)
	{
		const Doc  *doc = &c->docs[o->orig[d]];

		if (s->doclen(s, d) != doc->len || s->doc_ref(s, d) != doc->ref)
		{
			CHECK(false, "%s: doc %d: len %g ref %llu, oracle %u %llu", what, d, s->doclen(s, d),
				  (unsigned long long) s->doc_ref(s, d), doc->len, (unsigned long long) doc->ref);
			break;
		}
	}
	/* the dictionary in byte order */
	for (uint64_t i = 1; i < fts_postings_nterms(r); i++)
	{
		size_t		l1,
					l2;
		const char *t1 = fts_postings_term(r, i - 1, &l1, NULL),
				   *t2 = fts_postings_term(r, i, &l2, NULL);
		int			cmp = memcmp(t1, t2, l1 < l2 ? l1 : l2);

		CHECK(cmp < 0 || (cmp == 0 && l1 < l2), "%s: dictionary order at %llu", what, (unsigned long long) i);
	}

	p.k1 = seed % 3 == 0 ? 0.9 : 1.2;
	p.b = 0.75;
	p.idf = seed % 2 ? FTS_IDF_LUCENE : FTS_IDF_FTS5;
	p.impact = false;
	p.ndocs = o->ndocs;
	p.avgdl = o->ndocs && o->ntokens > 0 ? o->ntokens / o->ndocs : 1.0;

	for (int t = 0; t < c->vocab; t++)
	{
		const OTerm *ot = &o->t[t];
		double		idf = fts_bm25_idf(&p, ot->n ? ot->n : 1);
		FtsCursor  *cur;
		int			i;
		bool		bad = false;

		CHECK(s->term_df(s, c->term[t], c->term_len[t]) == (uint64_t) ot->n, "%s: df of %s: %llu, oracle %d",
			  what, c->term[t], (unsigned long long) s->term_df(s, c->term[t], c->term_len[t]), ot->n);
		cur = s->open_term(s, c->term[t], c->term_len[t], &p, idf);
		if (ot->n == 0)
		{
			CHECK(cur == NULL, "%s: a cursor for absent %s", what, c->term[t]);
			continue;
		}
		CHECK(cur != NULL, "%s: no cursor for %s: %s", what, c->term[t], fts_postings_reader_error(r)->message);
		if (!cur)
			continue;
		/* every posting, by next(doc + 1) */
		for (i = 0; i < ot->n && !bad; i++)
		{
			const uint32_t *pos;
			int			np;
			double		dl = s->doclen(s, ot->p[i].doc);

			if (!cur->next(cur, i == 0 ? 0 : cur->doc + 1) || cur->doc != ot->p[i].doc || cur->f != ot->p[i].f)
			{
				CHECK(false, "%s: %s posting %d: doc %llu f %g, oracle %u %g", what, c->term[t], i,
					  (unsigned long long) cur->doc, cur->f, ot->p[i].doc, ot->p[i].f);
				bad = true;
				break;
			}
			np = cur->positions(cur, &pos);
			if (np != ot->p[i].npos || memcmp(pos, ot->p[i].pos, sizeof(uint32_t) * np) != 0)
			{
				CHECK(false, "%s: %s posting %d: %d positions, oracle %d", what, c->term[t], i, np, ot->p[i].npos);
				bad = true;
			}
			/* twice: the same */
			if (cur->positions(cur, &pos) != np)
				CHECK(false, "%s: positions asked twice", what);
			if (contribution(&p, idf, ot->p[i].f, dl) > cur->max_bound)
			{
				CHECK(false, "%s: %s max_bound %g below a contribution", what, c->term[t], cur->max_bound);
				bad = true;
			}
		}
		if (!bad)
		{
			CHECK(!cur->next(cur, cur->doc + 1), "%s: %s: a posting after the last", what, c->term[t]);
			CHECK(!cur->next(cur, 0), "%s: %s: the end stays the end", what, c->term[t]);
		}

		/* shallow: the block of the first posting >= target, bounding every posting in it */
		for (int q = 0; q < 8; q++)
		{
			uint64_t	target = rnd(&st) % (o->ndocs + 2);
			uint64_t	last;
			double		bound;
			int			j = 0;
			bool		got = cur->shallow(cur, target, &last, &bound);

			while (j < ot->n && ot->p[j].doc < target)
				j++;
			CHECK(got == (j < ot->n), "%s: shallow(%llu) of %s", what, (unsigned long long) target, c->term[t]);
			if (got && j < ot->n)
			{
				int			bstart = j / FTSP_BLOCK_SIZE * FTSP_BLOCK_SIZE,
							bend = bstart + FTSP_BLOCK_SIZE < ot->n ? bstart + FTSP_BLOCK_SIZE : ot->n;

				CHECK(last == ot->p[bend - 1].doc, "%s: shallow(%llu) of %s: block last %llu, oracle %u", what,
					  (unsigned long long) target, c->term[t], (unsigned long long) last, ot->p[bend - 1].doc);
				for (int k = bstart; k < bend; k++)
					if (contribution(&p, idf, ot->p[k].f, s->doclen(s, ot->p[k].doc)) > bound)
					{
						CHECK(false, "%s: shallow bound of %s below posting %d", what, c->term[t], k);
						break;
					}
			}
		}

		/* seeks: a fresh cursor, increasing targets (some behind the current doc) */
		cur = s->open_term(s, c->term[t], c->term_len[t], &p, idf);
		{
			uint64_t	target = 0;
			int			j = 0;

			for (int q = 0; q < 20; q++)
			{
				bool		got;

				if (rnd(&st) % 4)
					target += rnd(&st) % (1 + 3 * (uint64_t) o->ndocs / (ot->n + 1));
				got = cur->next(cur, target);
				while (j < ot->n && ot->p[j].doc < target)
					j++;
				if (j >= ot->n)
				{
					CHECK(!got, "%s: %s next(%llu) past the end", what, c->term[t], (unsigned long long) target);
					break;
				}
				/* never backwards: a target behind the current doc leaves it */
				CHECK(got && cur->doc == ot->p[j].doc && cur->f == ot->p[j].f, "%s: %s next(%llu): %llu, oracle %u",
					  what, c->term[t], (unsigned long long) target, (unsigned long long) cur->doc, ot->p[j].doc);
				if (rnd(&st) % 3 == 0)
				{
					const uint32_t *pos;
					int			np = cur->positions(cur, &pos);

					CHECK(np == ot->p[j].npos && memcmp(pos, ot->p[j].pos, sizeof(uint32_t) * np) == 0,
						  "%s: %s positions after a seek", what, c->term[t]);
				}
				target = cur->doc;
			}
		}
	}

	/* top-k over the image's cursors against scoring every document */
	for (int qn = 0; qn < 40 && o->nterms > 0; qn++)
	{
		int			nq = 1 + (int) (rnd(&st) % 4);
		int			q[4];
		int			k = (int[]) {1, 5, 10, 10, 100}[rnd(&st) % 5];
		FtsCursor  *cp[4];
		FtsHit	   *got = xmalloc(sizeof(FtsHit) * k);
		FtsHit	   *all = xmalloc(sizeof(FtsHit) * (o->ndocs + 1));
		void	   *scratch = xmalloc(fts_topk_scratch(nq, k));
		int			ncur = 0,
					ngot,
					nall = 0;

		for (int i = 0; i < nq; i++)
		{
			do
				q[i] = qn % 2 ? zipf(&st, c->vocab, 1.05) : (int) (rnd(&st) % c->vocab);
			while (o->t[q[i]].n == 0);
		}
		for (int i = 0; i < nq; i++)
			cp[ncur++] = s->open_term(s, c->term[q[i]], c->term_len[q[i]], &p, fts_bm25_idf(&p, o->t[q[i]].n));
		ngot = fts_topk(&p, cp, ncur, k, (FtsDocLen) s->doclen, s, scratch, got, NULL);
		for (int d = 0; d < o->ndocs; d++)
		{
			double		score = 0;
			bool		any = false;

			for (int i = 0; i < nq; i++)
			{
				const OTerm *ot = &o->t[q[i]];

				for (int j = 0; j < ot->n; j++)
					if (ot->p[j].doc == (uint32_t) d)
					{
						score += fts_bm25_term(&p, fts_bm25_idf(&p, ot->n), ot->p[j].f, c->docs[o->orig[d]].len);
						any = true;
						break;
					}
			}
			if (any)
			{
				all[nall].doc = d;
				all[nall].score = score;
				nall++;
			}
		}
		qsort(all, nall, sizeof(FtsHit), hit_cmp);
		CHECK(ngot == (nall < k ? nall : k), "%s: top-%d: %d hits, oracle %d", what, k, ngot, nall < k ? nall : k);
		for (int i = 0; i < ngot && i < nall; i++)
			if (got[i].doc != all[i].doc || got[i].score != all[i].score)
			{
				CHECK(false, "%s: top-%d hit %d: doc %llu %.17g, oracle %llu %.17g", what, k, i,
					  (unsigned long long) got[i].doc, got[i].score, (unsigned long long) all[i].doc, all[i].score);
				break;
			}
		free(got);
		free(all);
		free(scratch);
	}
	fts_postings_close(r);
}

/* ----------------------------------------------------------- the tests -- */

static void
test_random(void)
{
	uint64_t	st = 7;
	int			rounds = 0;

	for (int round = 0; round < 12; round++)
	{
		int			nfields = 1 + round % 3;
		int			ndocs = (int[]) {0, 1, 200, 900, 2500, 1300}[round % 6];
		int			vocab = 50 + (int) (rnd(&st) % 2000);
		Corpus	   *c = corpus_make(100 + round, ndocs, vocab, nfields);
		Oracle	   *o = oracle_make(c, NULL);
		size_t		size;
		uint8_t    *img = build(c, NULL, 0, ndocs, round % 2 == 1, round, &size);
		char		what[64];

		snprintf(what, sizeof(what), "round %d (%d docs, %d fields)", round, ndocs, nfields);
		if (img)
			check_image(o, img, size, round % 4 == 0, round, what);
		t_free(NULL, img);
		oracle_free(o);
		corpus_free(c);
		rounds++;
	}
	printf("unit_fts_postings: %d random corpora checked against the oracle\n", rounds);
}

static bool
merge_deleted(void *arg, int input, uint64_t doc)
{
	bool	  **del = arg;

	return del[input][doc];
}

static void
test_merge(void)
{
	uint64_t	st = 99;

	for (int round = 0; round < 8; round++)
	{
		int			nfields = 1 + round % 3;
		int			ndocs = (int[]) {700, 1500, 300, 40}[round % 4];
		Corpus	   *c = corpus_make(500 + round, ndocs, 300 + (int) (rnd(&st) % 1500), nfields);
		int			ninputs = 1 + round % 3;
		int			cut[4];
		bool	   *keep = xmalloc(ndocs);
		bool	   *del[3];
		uint8_t    *img[3];
		size_t		size[3];
		FtsPostingsReader *in[3];
		FtsPostingsError err = {0};
		uint8_t    *merged = NULL,
				   *direct;
		size_t		msize = 0,
					dsize;
		Oracle	   *o;
		char		what[64];
		double		pdel = (double[]) {0.0, 0.2, 0.7, 1.0}[round % 4];

		cut[0] = 0;
		cut[ninputs] = ndocs;
		for (int i = 1; i < ninputs; i++)
			cut[i] = (int) (rnd(&st) % (ndocs + 1));
		for (int i = 1; i < ninputs; i++)	/* sorted */
			for (int j = i; j > 1 && cut[j - 1] > cut[j]; j--)
			{
				int			x = cut[j];

				cut[j] = cut[j - 1];
				cut[j - 1] = x;
			}
		for (int d = 0; d < ndocs; d++)
			keep[d] = unif(&st) >= pdel;
		for (int i = 0; i < ninputs; i++)
		{
			img[i] = build(c, NULL, cut[i], cut[i + 1], false, round, &size[i]);
			in[i] = fts_postings_open(&talloc, img[i], size[i], 0, &err);
			CHECK(in[i] != NULL, "merge input %d: %s", i, err.message);
			del[i] = xmalloc(cut[i + 1] - cut[i] + 1);
			for (int d = cut[i]; d < cut[i + 1]; d++)
				del[i][d - cut[i]] = !keep[d];
		}
		CHECK(fts_postings_merge(&talloc, in, ninputs, merge_deleted, del, 0, &merged, &msize, &err) == FTSP_OK,
			  "merge: %s", err.message);
		direct = build(c, keep, 0, ndocs, false, round, &dsize);
		CHECK(merged && msize == dsize && memcmp(merged, direct, dsize) == 0,
			  "round %d: the merged image differs from the image of the surviving documents (%zu vs %zu bytes)",
			  round, msize, dsize);
		o = oracle_make(c, keep);
		snprintf(what, sizeof(what), "merge round %d (%d inputs, %.0f%% deleted)", round, ninputs, 100 * pdel);
		if (merged)
			check_image(o, merged, msize, round % 2 == 0, round, what);
		/* without deletions: every document */
		if (round == 1)
		{
			uint8_t    *all = NULL,
					   *full = build(c, NULL, 0, ndocs, false, round, &dsize);

			CHECK(fts_postings_merge(&talloc, in, ninputs, NULL, NULL, 0, &all, &msize, &err) == FTSP_OK &&
				  msize == dsize && memcmp(all, full, dsize) == 0, "merge without deletions");
			t_free(NULL, all);
			t_free(NULL, full);
		}
		oracle_free(o);
		for (int i = 0; i < ninputs; i++)
		{
			fts_postings_close(in[i]);
			t_free(NULL, img[i]);
			free(del[i]);
		}
		t_free(NULL, merged);
		t_free(NULL, direct);
		free(keep);
		corpus_free(c);
	}
	/* inputs with other weights */
	{
		FtsPostingsError err = {0};
		double		w1[1] = {1.0},
					w2[1] = {2.0};
		FtsPostingsBuilder *b1 = fts_postings_builder_create(&talloc, 1, w1, 0, &err),
				   *b2 = fts_postings_builder_create(&talloc, 1, w2, 0, &err);
		uint8_t    *i1,
				   *i2,
				   *out = NULL;
		size_t		s1,
					s2,
					so;
		FtsPostingsReader *r[2];

		fts_postings_builder_finish(b1, &i1, &s1, &err);
		fts_postings_builder_finish(b2, &i2, &s2, &err);
		fts_postings_builder_free(b1);
		fts_postings_builder_free(b2);
		r[0] = fts_postings_open(&talloc, i1, s1, 0, &err);
		r[1] = fts_postings_open(&talloc, i2, s2, 0, &err);
		CHECK(r[0] && r[1], "empty images open: %s", err.message);
		CHECK(fts_postings_merge(&talloc, r, 2, NULL, NULL, 0, &out, &so, &err) == FTSP_BAD_ARGUMENT,
			  "merge of other weights refused");
		fts_postings_close(r[0]);
		fts_postings_close(r[1]);
		t_free(NULL, i1);
		t_free(NULL, i2);
	}
}

/* an independent CRC-32C: bit by bit */
static uint32_t
crc32c_ref(const uint8_t *p, size_t n)
{
	uint32_t	crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++)
	{
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return crc ^ 0xFFFFFFFFu;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t) rd32(p) | (uint64_t) rd32(p + 4) << 32;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void
wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t) v);
	wr32(p + 4, (uint32_t) (v >> 32));
}

/* Recompute the CRCs of a (damaged) image so the structural checks are reached. */
static void
fix_crcs(uint8_t *img, size_t size)
{
	uint32_t	hsize;

	if (size < 168)
		return;
	hsize = rd32(img + 12);
	if (hsize < 168 || hsize > size)
		return;
	for (int s = 0; s < 4; s++)
	{
		uint64_t	o = rd64(img + 64 + 24 * s),
					n = rd64(img + 64 + 24 * s + 8);

		if (o <= size && n <= size - o)
			wr32(img + 64 + 24 * s + 16, crc32c_ref(img + o, n));
	}
	wr32(img + hsize - 4, crc32c_ref(img, hsize - 4));
}

/* open with a full check; true when refused with code, message containing `needle` */
static bool
refused(const uint8_t *img, size_t size, int code, const char *needle, char *msg, size_t msglen)
{
	FtsPostingsError err = {0};
	FtsPostingsReader *r = fts_postings_open(&talloc, img, size, FTSP_OPEN_VALIDATE_ALL, &err);

	if (r)
	{
		fts_postings_close(r);
		snprintf(msg, msglen, "accepted");
		return false;
	}
	snprintf(msg, msglen, "%d %s", err.code, err.message);
	return err.code == code && strstr(err.message, needle) != NULL;
}

static void
test_corrupt(void)
{
	Corpus	   *c = corpus_make(4242, 400, 300, 2);
	size_t		size;
	uint8_t    *img = build(c, NULL, 0, 400, false, 1, &size);
	uint8_t    *bad = xmalloc(size + 16);
	char		msg[400];
	uint64_t	st = 5;
	uint64_t	post_off = rd64(img + 64),
				dict_off = rd64(img + 64 + 24),
				terms_off = rd64(img + 64 + 48),
				docs_off = rd64(img + 64 + 72);
	FtsPostingsError err = {0};
	FtsPostingsReader *r;
	int			accepted = 0,
				lazy_refused = 0;

	/* the stored CRCs are CRC-32C */
	CHECK(crc32c_ref((const uint8_t *) "123456789", 9) == 0xE3069283u, "CRC-32C check value");
	CHECK(rd32(img + rd32(img + 12) - 4) == crc32c_ref(img, rd32(img + 12) - 4), "header CRC is CRC-32C");
	CHECK(rd32(img + 64 + 16) == crc32c_ref(img + post_off, rd64(img + 72)), "postings CRC is CRC-32C");

#define DAMAGE(stmt, code, needle) do { memcpy(bad, img, size); stmt; fix_crcs(bad, size); \
	CHECK(refused(bad, size, code, needle, msg, sizeof(msg)), "%s: %s", #stmt, msg); } while (0)

	DAMAGE(bad[0] = 'X', FTSP_CORRUPT, "bad magic");
	DAMAGE(wr32(bad + 8, 2), FTSP_VERSION, "version 2");
	DAMAGE(wr32(bad + 20, 0), FTSP_CORRUPT, "header");
	DAMAGE(wr32(bad + 12, 1000000), FTSP_CORRUPT, "header size");
	DAMAGE(wr32(bad + 16, 3), FTSP_CORRUPT, "flags");
	DAMAGE(wr64(bad + 24, rd64(img + 24) + 1), FTSP_CORRUPT, "documents");
	DAMAGE(wr64(bad + 32, rd64(img + 32) + 1), FTSP_CORRUPT, "dictionary");
	DAMAGE(wr64(bad + 40, rd64(img + 40) + 1), FTSP_CORRUPT, "invalid documents: the lengths");
	DAMAGE(wr64(bad + 48, rd64(img + 48) + 1), FTSP_CORRUPT, "postings");
	DAMAGE(wr64(bad + 64 + 24, size), FTSP_CORRUPT, "invalid dictionary: offset");
	DAMAGE(wr64(bad + 64 + 8, rd64(img + 72) + 9), FTSP_CORRUPT, "overlapping");
	DAMAGE(wr64(bad + 64 + 72 + 8, UINT64_MAX - 3), FTSP_CORRUPT, "invalid documents: offset");
	/* weights: a NaN */
	DAMAGE(wr64(bad + 160, 0x7ff8000000000000ULL), FTSP_CORRUPT, "weight of field 1");
	/* CRC only (not fixed) */
	memcpy(bad, img, size);
	bad[post_off + 3] ^= 1;
	CHECK(refused(bad, size, FTSP_CORRUPT, "invalid postings: CRC-32C mismatch", msg, sizeof(msg)), "postings CRC: %s", msg);
	memcpy(bad, img, size);
	bad[docs_off] ^= 1;
	CHECK(refused(bad, size, FTSP_CORRUPT, "invalid documents: CRC-32C mismatch", msg, sizeof(msg)), "documents CRC: %s", msg);
	/* dictionary: two terms swapped (bytes of the terms section) */
	DAMAGE({
		uint8_t t = bad[terms_off];
		bad[terms_off] = 0xfe;
		(void) t;
	}, FTSP_CORRUPT, "out of order");
	/* dictionary: a term's df beyond N, a length of 0 */
	DAMAGE(wr32(bad + dict_off + 32, 100000), FTSP_CORRUPT, "invalid dictionary");
	DAMAGE(wr32(bad + dict_off + 28, 0), FTSP_CORRUPT, "invalid dictionary");
	/* a list: first skip entry's last doc; its max f; a doc gap */
	DAMAGE(wr32(bad + post_off, rd32(img + post_off) + 1), FTSP_CORRUPT, "invalid postings of term 0");
	DAMAGE(wr64(bad + post_off + 16, 0x4090000000000000ULL), FTSP_CORRUPT, "max frequency or min length");
	DAMAGE(wr32(bad + post_off + 4, rd32(img + post_off + 4) + 1), FTSP_CORRUPT, "max frequency or min length");
	DAMAGE(wr32(bad + post_off + 8, 0), FTSP_CORRUPT, "data offset");
	DAMAGE(wr32(bad + post_off + 8, 0xffffff00u), FTSP_CORRUPT, "past the list");
	/* the term's max f in the dictionary */
	DAMAGE(wr64(bad + dict_off + 16, 0x4000000000000000ULL), FTSP_CORRUPT, "the term's max frequency");

	/* random damage, CRCs fixed half of the time: refused or consistent, never a crash */
	for (int i = 0; i < 3000; i++)
	{
		size_t		n = size;

		memcpy(bad, img, size);
		for (int k = 0, nk = 1 + (int) (rnd(&st) % 4); k < nk; k++)
		{
			size_t		at = rnd(&st) % 3 == 0 ? rnd(&st) % (docs_off - post_off) + post_off : rnd(&st) % size;

			bad[at] = rnd(&st) % 2 ? (uint8_t) rnd(&st) : bad[at] ^ (1 << (rnd(&st) % 8));
		}
		if (rnd(&st) % 8 == 0)
			n = rnd(&st) % size;
		if (i % 2)
			fix_crcs(bad, n);
		r = fts_postings_open(&talloc, bad, n, i % 3 == 0 ? FTSP_OPEN_VALIDATE_ALL : 0, &err);
		if (r)
		{
			FtsSource  *s = fts_postings_source(r);
			FtsBm25		p = {1.2, 0.75, FTS_IDF_FTS5, 400, 20};

			accepted++;
			/* walk every list that opens */
			for (uint64_t t = 0; t < fts_postings_nterms(r); t++)
			{
				size_t		len;
				const char *term = fts_postings_term(r, t, &len, NULL);
				FtsCursor  *cur = s->open_term(s, term, len, &p, 1.0);
				const uint32_t *pos;
				uint64_t	last;
				double		bound;

				if (!cur)
				{
					lazy_refused++;
					CHECK(fts_postings_reader_error(r)->code == FTSP_CORRUPT, "a lazy refusal is FTSP_CORRUPT");
					continue;
				}
				while (cur->next(cur, cur->doc + 1))
				{
					cur->positions(cur, &pos);
					cur->shallow(cur, cur->doc, &last, &bound);
					(void) s->doclen(s, cur->doc);
				}
			}
			fts_postings_close(r);
		}
	}
	printf("unit_fts_postings: 3000 damaged images: %d opened (the damage missed every checked byte, or hit lists refused on first use: %d)\n",
		   accepted, lazy_refused);
	free(bad);
	t_free(NULL, img);
	corpus_free(c);
}

static void
test_builder_errors(void)
{
	FtsPostingsError err = {0};
	double		w[2] = {1.0, 0.5};
	double		wbad[1] = {-1.0};
	FtsPostingsBuilder *b;
	uint8_t    *img;
	size_t		size;

	CHECK(fts_postings_builder_create(&talloc, 0, w, 0, &err) == NULL && err.code == FTSP_BAD_ARGUMENT, "0 fields");
	CHECK(fts_postings_builder_create(&talloc, 1, wbad, 0, &err) == NULL && err.code == FTSP_BAD_ARGUMENT, "a negative weight");

	b = fts_postings_builder_create(&talloc, 2, w, 0, &err);
	CHECK(fts_postings_add_token(b, "x", 1, 0, &err) == FTSP_BAD_ARGUMENT, "a token outside a document");
	fts_postings_builder_free(b);

	b = fts_postings_builder_create(&talloc, 2, w, 0, &err);
	fts_postings_begin_doc(b, 1, &err);
	CHECK(fts_postings_add_token(b, "x", 1, FTS_POSITION(2, 0), &err) == FTSP_BAD_ARGUMENT &&
		  strstr(err.message, "field 3"), "a field beyond the index's: %s", err.message);
	fts_postings_builder_free(b);

	b = fts_postings_builder_create(&talloc, 2, w, 0, &err);
	fts_postings_begin_doc(b, 1, &err);
	fts_postings_add_token(b, "x", 1, 4, &err);
	fts_postings_add_token(b, "x", 1, 4, &err);
	CHECK(fts_postings_end_doc(b, 5, &err) == FTSP_BAD_ARGUMENT && strstr(err.message, "twice"),
		  "a term twice at one position: %s", err.message);
	CHECK(fts_postings_begin_doc(b, 2, &err) == FTSP_BAD_ARGUMENT, "a failed builder stays failed");
	fts_postings_builder_free(b);

	b = fts_postings_builder_create(&talloc, 1, w, 0, &err);
	fts_postings_begin_doc(b, 1, &err);
	CHECK(fts_postings_builder_finish(b, &img, &size, &err) == FTSP_BAD_ARGUMENT, "finish inside a document");
	fts_postings_builder_free(b);

	/* the memory limit */
	b = fts_postings_builder_create(&talloc, 1, w, 64 * 1024, &err);
	{
		int			rc = FTSP_OK;
		char		term[32];

		for (int d = 0; d < 100000 && rc == FTSP_OK; d++)
		{
			rc = fts_postings_begin_doc(b, d, &err);
			for (int i = 0; i < 10 && rc == FTSP_OK; i++)
				rc = fts_postings_add_token(b, term, snprintf(term, sizeof(term), "t%d", d * 10 + i), i, &err);
			if (rc == FTSP_OK)
				rc = fts_postings_end_doc(b, 10, &err);
		}
		CHECK(rc == FTSP_LIMIT && strstr(err.message, "memory limit"), "the memory limit: %d %s", rc, err.message);
		CHECK(fts_postings_builder_memory(b) <= 64 * 1024, "held %zu within the limit", fts_postings_builder_memory(b));
	}
	fts_postings_builder_free(b);

	/* an image of empty documents only */
	b = fts_postings_builder_create(&talloc, 1, w, 0, &err);
	for (int d = 0; d < 3; d++)
	{
		fts_postings_begin_doc(b, 100 + d, &err);
		fts_postings_end_doc(b, d, &err);
	}
	CHECK(fts_postings_builder_finish(b, &img, &size, &err) == FTSP_OK, "empty documents: %s", err.message);
	fts_postings_builder_free(b);
	{
		FtsPostingsReader *r = fts_postings_open(&talloc, img, size, FTSP_OPEN_VALIDATE_ALL, &err);
		FtsSource  *s = r ? fts_postings_source(r) : NULL;

		CHECK(r && s->ndocs == 3 && s->ntokens == 3 && fts_postings_nterms(r) == 0 &&
			  s->doc_ref(s, 2) == 102 && s->doclen(s, 2) == 2 && s->term_df(s, "x", 1) == 0 &&
			  s->open_term(s, "x", 1, NULL, 0) == NULL, "an image without terms");
		fts_postings_close(r);
	}
	t_free(NULL, img);
}

/* ------------------------------------------------------- impact mode -- */

/*
 * The sparse-vector index's use: documents are sparse vectors (dimension ->
 * float weight >= 0), a term is the dimension as 4 big-endian bytes, a
 * posting's f its weight.  Checked against the raw vectors: postings,
 * bounds, top-k (impact mode) equal to a brute-force float inner product
 * (sparsevec's <#> arithmetic), merge equal to a rebuild of the survivors.
 */
typedef struct SVec
{
	int			nnz;
	uint32_t   *dim;			/* increasing */
	float	   *val;
} SVec;

static void
dim_term(uint32_t d, char *t)
{
	t[0] = (char) (d >> 24);
	t[1] = (char) (d >> 16);
	t[2] = (char) (d >> 8);
	t[3] = (char) d;
}

static SVec *
svec_corpus(uint64_t seed, int ndocs, int dims)
{
	SVec	   *v = xmalloc(sizeof(SVec) * (size_t) ndocs);
	uint64_t	st = seed;
	bool	   *used = xmalloc((size_t) dims);

	for (int d = 0; d < ndocs; d++)
	{
		int			want = (int) (rnd(&st) % 41);

		v[d].dim = xmalloc(sizeof(uint32_t) * (size_t) (want + 1));
		v[d].val = xmalloc(sizeof(float) * (size_t) (want + 1));
		memset(used, 0, (size_t) dims);
		for (int i = 0; i < want; i++)
			used[zipf(&st, dims, 1.1)] = true;
		for (int i = 0; i < dims; i++)
			if (used[i])
			{
				v[d].dim[v[d].nnz] = (uint32_t) i * 977u % 1000003u;	/* spread, not sorted by zipf rank */
				v[d].val[v[d].nnz] = rnd(&st) % 50 == 0 ? 0.0f : (float) (unif(&st) * 3.0);
				v[d].nnz++;
			}
		/* sort by dimension */
		for (int i = 1; i < v[d].nnz; i++)
			for (int j = i; j > 0 && v[d].dim[j - 1] > v[d].dim[j]; j--)
			{
				uint32_t	td = v[d].dim[j];
				float		tv = v[d].val[j];

				v[d].dim[j] = v[d].dim[j - 1];
				v[d].val[j] = v[d].val[j - 1];
				v[d].dim[j - 1] = td;
				v[d].val[j - 1] = tv;
			}
	}
	free(used);
	return v;
}

/* an image of the vectors [from, to) with keep (NULL: all), terms added in reverse order */
static uint8_t *
svec_build(const SVec *v, const bool *keep, int from, int to, size_t *size)
{
	FtsPostingsError err = {0};
	FtsPostingsBuilder *b = fts_postings_builder_create_impact(&talloc, 0, &err);
	uint8_t    *img = NULL;

	CHECK(b != NULL, "create_impact: %s", err.message);
	for (int d = from; d < to; d++)
	{
		if (keep && !keep[d])
			continue;
		CHECK(fts_postings_begin_doc(b, 1000 + (uint64_t) d, &err) == FTSP_OK, "begin: %s", err.message);
		for (int i = v[d].nnz - 1; i >= 0; i--)
		{
			char		t[4];

			dim_term(v[d].dim[i], t);
			CHECK(fts_postings_add_impact(b, t, 4, v[d].val[i], &err) == FTSP_OK, "add_impact: %s", err.message);
		}
		CHECK(fts_postings_end_doc(b, (uint32_t) v[d].nnz, &err) == FTSP_OK, "end: %s", err.message);
	}
	CHECK(fts_postings_builder_finish(b, &img, size, &err) == FTSP_OK, "finish: %s", err.message);
	fts_postings_builder_free(b);
	return img;
}

/* brute force, as sparsevec's <#>: float products summed in a float, by increasing dimension */
static float
svec_dot(const SVec *a, const SVec *q)
{
	float		s = 0.0f;
	int			i = 0,
				j = 0;

	while (i < a->nnz && j < q->nnz)
	{
		if (a->dim[i] == q->dim[j])
			s += a->val[i++] * q->val[j++];
		else if (a->dim[i] < q->dim[j])
			i++;
		else
			j++;
	}
	return s;
}

/* check an image of the vectors v[ids[0..n)] (doc i of the image is v[ids[i]]) */
static void
svec_check(const SVec *v, const int *ids, int n, const uint8_t *img, size_t size, uint64_t seed,
		   const char *what)
{
	FtsPostingsError err = {0};
	FtsPostingsReader *r = fts_postings_open(&talloc, img, size, FTSP_OPEN_VALIDATE_ALL, &err);
	FtsSource  *s;
	uint64_t	st = seed;
	uint64_t	npost = 0;
	FtsBm25		p = {.k1 = 1.2, .b = 0.75, .idf = FTS_IDF_FTS5, .ndocs = n, .avgdl = 1, .impact = true};

	CHECK(r != NULL, "%s: open: %s", what, err.message);
	if (!r)
		return;
	s = fts_postings_source(r);
	CHECK(fts_postings_impact(r), "%s: an image of impacts", what);
	CHECK(s->ndocs == (uint64_t) n, "%s: N %llu, %d", what, (unsigned long long) s->ndocs, n);
	for (int i = 0; i < n; i++)
	{
		CHECK(s->doc_ref(s, i) == 1000 + (uint64_t) ids[i], "%s: ref of doc %d", what, i);
		CHECK(s->doclen(s, i) == v[ids[i]].nnz, "%s: |d| of doc %d", what, i);
		npost += v[ids[i]].nnz;
	}
	/* every term: its postings, in doc order, with the raw weights, and the block bounds */
	{
		uint64_t	total = 0;
		uint32_t	prev_dim = 0;

		for (uint64_t t = 0; t < fts_postings_nterms(r); t++)
		{
			size_t		len;
			uint64_t	df;
			const char *tb = fts_postings_term(r, t, &len, &df);
			uint32_t	dim;
			FtsCursor  *c;
			uint64_t	k = 0;
			double		idf = 0.5 + unif(&st);
			double		bmax = 0,
						tmax = 0;

			CHECK(len == 4, "%s: term of %zu bytes", what, len);
			if (len != 4)
				continue;
			dim = (uint32_t) (uint8_t) tb[0] << 24 | (uint32_t) (uint8_t) tb[1] << 16 |
				(uint32_t) (uint8_t) tb[2] << 8 | (uint8_t) tb[3];
			CHECK(t == 0 || dim > prev_dim, "%s: dictionary in dimension order", what);
			prev_dim = dim;
			c = s->open_term(s, tb, 4, &p, idf);
			CHECK(c != NULL, "%s: open_term", what);
			if (!c)
				continue;
			for (int i = 0; i < n; i++)
			{
				const SVec *x = &v[ids[i]];

				for (int j = 0; j < x->nnz; j++)
					if (x->dim[j] == dim)
					{
						const uint32_t *pos = (const uint32_t *) 1;
						uint64_t	last;
						double		bound;

						CHECK(c->next(c, i) && c->doc == (uint64_t) i && c->f == (double) x->val[j],
							  "%s: posting %llu of dim %u: doc %llu f %g, want doc %d f %g", what,
							  (unsigned long long) k, dim, (unsigned long long) c->doc, c->f, i,
							  (double) x->val[j]);
						CHECK(c->positions(c, &pos) == 0 && pos == NULL, "%s: no positions", what);
						if (k % FTSP_BLOCK_SIZE == 0)
							bmax = 0;
						if (x->val[j] > bmax)
							bmax = x->val[j];
						if (x->val[j] > tmax)
							tmax = x->val[j];
						/* the block bound, checked at the block's last posting */
						if (k % FTSP_BLOCK_SIZE == FTSP_BLOCK_SIZE - 1 || k + 1 == df)
							CHECK(c->shallow(c, i, &last, &bound) && last == (uint64_t) i &&
								  bound == idf * bmax * FTS_IMPACT_SLACK,
								  "%s: block bound of dim %u at posting %llu: %g, want %g", what, dim,
								  (unsigned long long) k, bound, idf * bmax * FTS_IMPACT_SLACK);
						k++;
					}
			}
			CHECK(k == df, "%s: df of dim %u: %llu, want %llu", what, dim, (unsigned long long) df,
				  (unsigned long long) k);
			CHECK(!c->next(c, (uint64_t) n), "%s: the list of dim %u ends", what, dim);
			CHECK(c->max_bound == idf * tmax * FTS_IMPACT_SLACK, "%s: max bound of dim %u", what, dim);
			total += df;
		}
		CHECK(total == npost, "%s: %llu postings, want %llu", what, (unsigned long long) total,
			  (unsigned long long) npost);
	}
	/* top-k of random queries against the brute-force inner product */
	for (int qi = 0; qi < 60; qi++)
	{
		SVec		q;
		uint32_t	qd[FTS_MAX_TERMS];
		float		qv[FTS_MAX_TERMS];
		FtsCursor  *cur[FTS_MAX_TERMS];
		int			ncur = 0;
		int			k = 1 + (int) (rnd(&st) % 20);
		FtsHit	   *got = xmalloc(sizeof(FtsHit) * (size_t) k);
		FtsHit	   *want = xmalloc(sizeof(FtsHit) * (size_t) (n + 1));
		void	   *scratch = xmalloc(fts_topk_scratch(FTS_MAX_TERMS, k));
		int			ngot,
					nwant = 0;

		/* the query: dimensions of a random document, plus a few others */
		q.nnz = 0;
		q.dim = qd;
		q.val = qv;
		if (n > 0)
		{
			const SVec *x = &v[ids[rnd(&st) % (uint64_t) n]];

			for (int j = 0; j < x->nnz && q.nnz < FTS_MAX_TERMS - 4; j++)
				if (rnd(&st) % 2)
				{
					qd[q.nnz] = x->dim[j];
					qv[q.nnz++] = (float) (unif(&st) * 2.0);
				}
		}
		if (q.nnz == 0)
		{
			qd[0] = 0;
			qv[0] = 1.0f;
			q.nnz = 1;
		}
		for (int j = 0; j < q.nnz; j++)
		{
			char		t[4];
			FtsCursor  *c;

			dim_term(qd[j], t);
			c = s->open_term(s, t, 4, &p, qv[j]);
			if (c)
				cur[ncur++] = c;
		}
		ngot = ncur ? fts_topk(&p, cur, ncur, k, (FtsDocLen) s->doclen, s, scratch, got, NULL) : 0;
		for (int i = 0; i < n; i++)
		{
			/* a candidate holds a query dimension */
			bool		holds = false;
			const SVec *x = &v[ids[i]];

			for (int a = 0, b = 0; a < x->nnz && b < q.nnz;)
				if (x->dim[a] == qd[b])
				{
					holds = true;
					break;
				}
				else if (x->dim[a] < qd[b])
					a++;
				else
					b++;
			if (holds)
			{
				want[nwant].doc = (uint64_t) i;
				want[nwant++].score = (double) svec_dot(x, &q);
			}
		}
		qsort(want, (size_t) nwant, sizeof(FtsHit), hit_cmp);
		CHECK(ngot == (nwant < k ? nwant : k), "%s: query %d: %d hits, want %d", what, qi, ngot,
			  nwant < k ? nwant : k);
		for (int i = 0; i < ngot && i < nwant; i++)
			CHECK(got[i].doc == want[i].doc && got[i].score == want[i].score,
				  "%s: query %d hit %d: doc %llu score %.9g, want doc %llu score %.9g", what, qi, i,
				  (unsigned long long) got[i].doc, got[i].score, (unsigned long long) want[i].doc,
				  want[i].score);
		free(got);
		free(want);
		free(scratch);
	}
	fts_postings_close(r);
}

static bool
impact_deleted(void *arg, int input, uint64_t doc)
{
	const bool *keep = arg;

	/* input 0 holds docs [0, 500), input 1 the rest */
	return !keep[(input == 0 ? 0 : 500) + doc];
}

static void
test_impact(void)
{
	int			ndocs = 1300;
	SVec	   *v = svec_corpus(777, ndocs, 3000);
	int		   *ids = xmalloc(sizeof(int) * (size_t) ndocs);
	bool	   *keep = xmalloc((size_t) ndocs);
	uint64_t	st = 99;
	size_t		size,
				s0,
				s1,
				msize,
				rsize;
	uint8_t    *img,
			   *i0,
			   *i1,
			   *merged = NULL,
			   *rebuilt;
	FtsPostingsError err = {0};
	FtsPostingsReader *in[2];
	int			nkeep = 0;

	for (int i = 0; i < ndocs; i++)
		ids[i] = i;
	img = svec_build(v, NULL, 0, ndocs, &size);
	svec_check(v, ids, ndocs, img, size, 1, "impact build");

	/* merge of two images without deleted documents = the survivors built anew */
	for (int i = 0; i < ndocs; i++)
		if ((keep[i] = rnd(&st) % 4 != 0))
			ids[nkeep++] = i;
	i0 = svec_build(v, NULL, 0, 500, &s0);
	i1 = svec_build(v, NULL, 500, ndocs, &s1);
	in[0] = fts_postings_open(&talloc, i0, s0, 0, &err);
	in[1] = fts_postings_open(&talloc, i1, s1, 0, &err);
	CHECK(in[0] && in[1], "open the merge inputs: %s", err.message);
	if (in[0] && in[1])
	{
		CHECK(fts_postings_merge(&talloc, in, 2, impact_deleted, keep, 0, &merged, &msize, &err) == FTSP_OK,
			  "impact merge: %s", err.message);
		rebuilt = svec_build(v, keep, 0, ndocs, &rsize);
		CHECK(merged && msize == rsize && memcmp(merged, rebuilt, rsize) == 0,
			  "impact merge equals the rebuild of the survivors (%zu and %zu bytes)", msize, rsize);
		if (merged)
			svec_check(v, ids, nkeep, merged, msize, 2, "impact merge");
		t_free(NULL, rebuilt);
		t_free(NULL, merged);
	}

	/* a merge refuses to mix impacts and positions */
	{
		FtsPostingsBuilder *b = fts_postings_builder_create(&talloc, 1, (const double[]) {1.0}, 0, &err);
		uint8_t    *pimg = NULL;
		size_t		psize;
		FtsPostingsReader *mix[2];
		uint8_t    *out = NULL;
		size_t		osize;

		fts_postings_begin_doc(b, 1, &err);
		fts_postings_add_token(b, "\0\0\0\1", 4, 0, &err);
		CHECK(fts_postings_add_impact(b, "x", 1, 1.0, &err) == FTSP_BAD_ARGUMENT,
			  "add_impact on a positions builder refused");
		fts_postings_builder_free(b);
		b = fts_postings_builder_create(&talloc, 1, (const double[]) {1.0}, 0, &err);
		fts_postings_begin_doc(b, 1, &err);
		fts_postings_add_token(b, "\0\0\0\1", 4, 0, &err);
		fts_postings_end_doc(b, 1, &err);
		CHECK(fts_postings_builder_finish(b, &pimg, &psize, &err) == FTSP_OK, "positions image");
		fts_postings_builder_free(b);
		mix[0] = in[0];
		mix[1] = fts_postings_open(&talloc, pimg, psize, 0, &err);
		CHECK(mix[1] && !fts_postings_impact(mix[1]), "a positions image");
		if (mix[0] && mix[1])
			CHECK(fts_postings_merge(&talloc, mix, 2, NULL, NULL, 0, &out, &osize, &err) == FTSP_BAD_ARGUMENT,
				  "a merge of impacts and positions refused");
		if (mix[1])
			fts_postings_close(mix[1]);
		t_free(NULL, pimg);
	}
	if (in[0])
		fts_postings_close(in[0]);
	if (in[1])
		fts_postings_close(in[1]);

	/* builder errors */
	{
		FtsPostingsBuilder *b;
		double		bad[] = {-1.0, NAN, INFINITY};

		for (int i = 0; i < 3; i++)
		{
			b = fts_postings_builder_create_impact(&talloc, 0, &err);
			fts_postings_begin_doc(b, 1, &err);
			CHECK(fts_postings_add_impact(b, "ab", 2, bad[i], &err) == FTSP_BAD_ARGUMENT,
				  "impact %g refused", bad[i]);
			fts_postings_builder_free(b);
		}
		b = fts_postings_builder_create_impact(&talloc, 0, &err);
		fts_postings_begin_doc(b, 1, &err);
		CHECK(fts_postings_add_token(b, "ab", 2, 0, &err) == FTSP_BAD_ARGUMENT, "add_token in impact mode refused");
		fts_postings_builder_free(b);
		b = fts_postings_builder_create_impact(&talloc, 0, &err);
		fts_postings_begin_doc(b, 1, &err);
		fts_postings_add_impact(b, "ab", 2, 1.0, &err);
		fts_postings_add_impact(b, "ab", 2, 2.0, &err);
		CHECK(fts_postings_end_doc(b, 2, &err) == FTSP_BAD_ARGUMENT && strstr(err.message, "twice"),
			  "a dimension twice in a document refused: %s", err.message);
		fts_postings_builder_free(b);
	}

	/* damage: a negative impact, a changed impact (block max differs), positions after impacts */
	{
		uint8_t    *bad = xmalloc(size + 8);
		char		msg[400];
		uint64_t	post_off = rd64(img + 64);
		uint32_t	dfirst = 0;
		double		nf = -1.0;
		uint64_t	bits;
		FtsPostingsReader *r = fts_postings_open(&talloc, img, size, 0, &err);
		size_t		tlen;
		uint64_t	df;

		uint64_t	t = 0;

		/* a term of one block: one skip entry, doc varints, then f64 impacts */
		for (t = 0; t < fts_postings_nterms(r); t++)
		{
			fts_postings_term(r, t, &tlen, &df);
			if (df <= FTSP_BLOCK_SIZE)
				break;
		}
		fts_postings_close(r);
		if (df <= FTSP_BLOCK_SIZE)
		{
			uint64_t	list = post_off + rd64(img + rd64(img + 64 + 24) + 40 * t); /* its dict entry: offset */
			uint32_t	dend = rd32(img + list + 8);	/* end of block 0's data */
			uint64_t	f0 = list + 24 + dend - 8 * df; /* the first impact */

			(void) dfirst;
			memcpy(&bits, &nf, 8);
			memcpy(bad, img, size);
			wr64(bad + f0, bits);
			fix_crcs(bad, size);
			CHECK(refused(bad, size, FTSP_CORRUPT, "not a finite number >= 0", msg, sizeof(msg)),
				  "a negative impact: %s", msg);
			nf = 1e6;
			memcpy(&bits, &nf, 8);
			memcpy(bad, img, size);
			wr64(bad + f0, bits);
			fix_crcs(bad, size);
			CHECK(refused(bad, size, FTSP_CORRUPT, "max frequency", msg, sizeof(msg)),
				  "an impact above the block max: %s", msg);
		}
		else
			CHECK(false, "no term of one block for the damage test");
		memcpy(bad, img, size);
		wr32(bad + 16, 3);
		fix_crcs(bad, size);
		CHECK(refused(bad, size, FTSP_CORRUPT, "flags", msg, sizeof(msg)), "flags 3: %s", msg);
		free(bad);
	}

	t_free(NULL, img);
	t_free(NULL, i0);
	t_free(NULL, i1);
	for (int d = 0; d < ndocs; d++)
	{
		free(v[d].dim);
		free(v[d].val);
	}
	free(v);
	free(ids);
	free(keep);
}

int
main(void)
{
	test_builder_errors();
	test_random();
	test_merge();
	test_corrupt();
	test_impact();
	CHECK(live_allocs == 0, "%ld allocations left behind", live_allocs);
	printf("unit_fts_postings: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
