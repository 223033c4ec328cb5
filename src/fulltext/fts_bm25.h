/*
 * fts_bm25.h — BM25 scoring and the top-k search over posting lists: the
 * backend-independent core of vlake's full-text ranking (docs/bm25.md).
 *
 * No postgres.h here: unit tests link fts_bm25.c directly.  Nothing here
 * allocates except fts_topk (through the allocator it is given) and does
 * I/O: posting lists are read through cursors the caller implements (the
 * index access method over its lake files and delta; the unit test over
 * arrays).
 *
 * Scores are "larger is better" (SQLite FTS5 returns their negation).
 *
 * The formula, for a document d and query terms t (a term given twice in a
 * query counts twice, as FTS5's phrases do):
 *
 *   score(d) = sum_t idf(t) * w_t * f(t,d) * (k1 + 1) / (f(t,d) + k1 * (1 - b + b * |d| / avgdl))
 *
 *   f(t,d)  occurrences of t in d (with per-column weights: sum over columns
 *           of weight(c) * occurrences in c; w_t is the query weight, 1)
 *   |d|     tokens of d (every indexed column), avgdl = tokens / documents
 *   idf     FTS_IDF_FTS5:   ln((N - n + 0.5) / (n + 0.5)), and 1e-6 when that
 *                           is <= 0 (SQLite FTS5's bm25())
 *           FTS_IDF_LUCENE: ln(1 + (N - n + 0.5) / (n + 0.5)) (never <= 0)
 *           N documents, n of them containing t.
 */
#ifndef VLAKE_FTS_BM25_H
#define VLAKE_FTS_BM25_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum FtsIdf
{
	FTS_IDF_FTS5 = 0,
	FTS_IDF_LUCENE = 1
} FtsIdf;

typedef struct FtsBm25
{
	double		k1;				/* 1.2 */
	double		b;				/* 0.75 */
	FtsIdf		idf;
	double		ndocs;			/* N */
	double		avgdl;			/* tokens / documents (> 0) */

	/*
	 * Impact mode (the sparse-vector index): f is a posting's impact (a
	 * non-negative weight) and idf the query's weight for the term; a term
	 * contributes idf * f, k1, b and lengths play no part.  Scores are
	 * binary32 like sparsevec's <#>: each product is rounded to float and
	 * fts_topk rounds each partial sum (query-term order) to float, which
	 * equals pgvector's float accumulation bit for bit (a binary64 result of
	 * one sum or product of floats rounds to the float the binary32 operation gives).
	 * Bounds are inflated by FTS_IMPACT_SLACK to cover that rounding.
	 */
	bool		impact;
} FtsBm25;

/* (1 + 2^-24)^(FTS_MAX_TERMS + 1) < 1 + 4e-6: float rounding of a score of up to 64 terms */
#define FTS_IMPACT_SLACK (1.0 + 1e-5)

extern double fts_bm25_idf(const FtsBm25 *p, double df);
/* One term's contribution: idf * f * (k1 + 1) / (f + k1 * (1 - b + b * dl / avgdl)); impact mode: (float) (idf * f). */
extern double fts_bm25_term(const FtsBm25 *p, double idf, double f, double dl);

/*
 * An upper bound of fts_bm25_term over documents with f <= max_f and
 * dl >= min_dl (the contribution grows with f and shrinks with dl): a
 * block's bound from the block's largest f and smallest length.
 */
extern double fts_bm25_bound(const FtsBm25 *p, double idf, double max_f, double min_dl);

/*
 * A term's postings for the top-k search, implemented by the caller.
 * Documents are 64-bit ids in increasing order (row IDs or TIDs as one
 * number); postings are grouped in blocks whose bound is known without
 * decoding them (block-max metadata).
 *
 *  - next(c, target): move to the first posting with doc >= target;
 *    false at the end of the list.  Sets c->doc and c->f.  Never moves
 *    backwards (target <= c->doc leaves it where it is).
 *  - shallow(c, target, &block_last, &block_bound): the block that holds
 *    target, or the next block after it (without decoding postings): its
 *    last doc and an upper bound of the term's contribution in it.  false
 *    when no block holds a doc >= target.
 *  - max_bound: an upper bound of the term's contribution to any document.
 */
typedef struct FtsCursor FtsCursor;
struct FtsCursor
{
	bool		(*next) (FtsCursor *c, uint64_t target);
	bool		(*shallow) (FtsCursor *c, uint64_t target, uint64_t *block_last,
							double *block_bound);
	double		max_bound;
	double		idf;			/* the term's idf (from fts_bm25_idf) */
	double		weight;			/* query weight (1; per-term boosts later) */
	void	   *state;			/* the implementation's */
	/* set by next() */
	uint64_t	doc;
	double		f;				/* occurrences, column weights applied */

	/*
	 * The positions of the term in the current document (after a next()
	 * that returned true): *pos gets n positions in increasing order, each
	 * FTS_POSITION(field, token index); valid until the cursor moves.  NULL
	 * when the postings keep no positions (phrases then cannot be asked).
	 */
	int			(*positions) (FtsCursor *c, const uint32_t **pos);
};

/*
 * A position: the field (the element of an indexed text[], 0 for a text
 * column) in the top 8 bits, the token index in the field (the analyzer's
 * position, stop words counted) in the low 24.  A phrase never spans two
 * fields because their positions differ in the top bits.
 */
#define FTS_FIELD_SHIFT 24
#define FTS_MAX_FIELDS 255
#define FTS_MAX_POSITION ((UINT32_C(1) << FTS_FIELD_SHIFT) - 1)
#define FTS_POSITION(field, pos) (((uint32_t) (field) << FTS_FIELD_SHIFT) | (uint32_t) (pos))
#define FTS_POSITION_FIELD(p) ((uint32_t) (p) >> FTS_FIELD_SHIFT)

/* The length |d| of a document, for scoring (the caller's document lengths). */
typedef double (*FtsDocLen) (void *arg, uint64_t doc);

/*
 * One set of indexed documents the search reads: the lake part of a BM25
 * index, or its delta (documents inserted since the part was written, built
 * into the same in-memory form).  Documents of a source are numbered by the
 * source (doc ids increasing in posting order); doc_ref maps one to the
 * table row it indexes (a lake_rowref.h reference).  A query over several
 * sources takes N, avgdl and every term's n summed over them, then searches
 * each and merges the results (the sources hold disjoint documents).
 */
typedef struct FtsSource FtsSource;
struct FtsSource
{
	uint64_t	ndocs;			/* documents (deleted ones included until a merge) */
	double		ntokens;		/* their tokens, sum of |d| */
	int			nfields;		/* fields per document (1 for a text column) */
	const double *field_weights;	/* [nfields], applied in f */
	/* documents holding term (n); 0 when none */
	uint64_t	(*term_df) (FtsSource *s, const char *term, size_t len);
	/*
	 * A fresh cursor over the term's postings, NULL when no document holds
	 * it; its bounds use p and idf.  Lives as long as the source.
	 */
	FtsCursor  *(*open_term) (FtsSource *s, const char *term, size_t len,
							  const FtsBm25 *p, double idf);
	/* |d| of a document of this source */
	double		(*doclen) (FtsSource *s, uint64_t doc);
	/* the table row of a document */
	uint64_t	(*doc_ref) (FtsSource *s, uint64_t doc);
	/* true when the document must not be returned (its row was vacuumed) */
	bool		(*deleted) (FtsSource *s, uint64_t doc);
	void	   *state;			/* the implementation's */
};

typedef struct FtsHit
{
	uint64_t	doc;
	double		score;
} FtsHit;

typedef struct FtsTopkStats
{
	uint64_t	scored;			/* documents fully scored */
	uint64_t	pivots;			/* candidate documents the bounds looked at */
	uint64_t	block_skips;	/* times block bounds skipped ahead */
	uint64_t	seeks;			/* next() calls */
} FtsTopkStats;

/*
 * The k best documents of the disjunction (OR) of terms[0..nterms), by
 * score descending, ties by doc ascending, into out (k entries); returns
 * how many (fewer than k only when fewer documents match).  Block-max
 * WAND: a document is scored only when the bounds of the terms it may
 * hold can beat the k-th best score so far, and runs of documents whose
 * block bounds cannot are skipped without decoding them.  The result
 * equals scoring every matching document (exact, not approximate): the
 * unit test checks it against that.  Every cursor must be fresh (before
 * its first next()).  nterms <= FTS_MAX_TERMS.  scratch: at least
 * fts_topk_scratch(nterms, k) bytes, suitably aligned for doubles.
 */
#define FTS_MAX_TERMS 64
extern size_t fts_topk_scratch(int nterms, int k);
extern int	fts_topk(const FtsBm25 *p, FtsCursor **terms, int nterms, int k,
					 FtsDocLen doclen, void *doclen_arg, void *scratch,
					 FtsHit *out, FtsTopkStats *stats);

/*
 * fts_topk keeping only the documents filter accepts (a boolean query's
 * AND / NOT, deleted rows): filter(arg, doc, present) is asked before a
 * document is scored; bit i of present is set when terms[i] holds doc.
 * The document must hold one of the terms to be a candidate.  Exact as
 * fts_topk: a refused document is never held, so theta only comes from
 * accepted ones.  stats->scored counts accepted documents.
 *
 * *scored (set to present before the call): the terms whose contributions
 * the accepted document's score sums (a subset of present; SQLite FTS5
 * leaves out the phrases of a part of the query the document does not
 * match).  The bounds stay valid: contributions are never negative.
 *
 * required (bit i: terms[i]): terms every accepted document holds (an AND's
 * operands); the search then jumps every cursor to the furthest required
 * cursor's document, and stops when a required cursor ends.  0: none.
 */
typedef bool (*FtsTopkFilter) (void *arg, uint64_t doc, uint64_t present,
							   uint64_t *scored);
extern int	fts_topk_filtered(const FtsBm25 *p, FtsCursor **terms, int nterms, int k,
							  FtsDocLen doclen, void *doclen_arg,
							  FtsTopkFilter filter, void *filter_arg, uint64_t required,
							  void *scratch, FtsHit *out, FtsTopkStats *stats);

#endif							/* VLAKE_FTS_BM25_H */
