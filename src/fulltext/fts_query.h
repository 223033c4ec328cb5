/*
 * fts_query.h — BM25 queries: SQLite FTS5's query syntax parsed into a tree
 * of phrases, evaluated on one document (the operators outside an index)
 * or over the FtsSources of an index (top-k and every match).  docs/bm25.md.
 *
 * Backend-independent core: plain C, no postgres.h, memory from the
 * caller's allocator, errors as codes with a message; unit-tested by
 * test/unit/unit_fts_query.c and fuzzed by test/fuzz/fuzz_fts_query.c.
 *
 * Syntax (FTS5, https://www.sqlite.org/fts5.html section 3): barewords
 * (ASCII letters, digits, '_', bytes >= 0x80), "strings" ("" is a quote),
 * '+' joining strings into one phrase, AND / OR / NOT (upper case),
 * parentheses.  Precedence, as FTS5's grammar: a run of phrases (implicit
 * AND) binds tightest, then NOT (binary: a NOT b), then AND, then OR; the
 * binary operators associate to the left.  Each string is analyzed by the
 * caller's analyzer into a phrase of terms with their relative positions
 * (stop words keep their gaps).  NEAR groups, column filters ('col:',
 * '{...}', '-'), '^' and prefix '*' are refused with an error.
 *
 * A phrase that analyzes to no term (punctuation, or only stop words) is
 * what FTS5 makes of it: it matches nothing; in an implicit AND it is
 * dropped ("the cat" is "cat"), an explicit AND with it matches nothing,
 * OR and the right side of NOT ignore it.  A query left with nothing
 * matches nothing (fts_query_empty).
 */
#ifndef VLAKE_FTS_QUERY_H
#define VLAKE_FTS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fulltext/fts_analyzer.h"
#include "fulltext/fts_bm25.h"

/* Limits (a query beyond them is an error). */
#define FTS_QUERY_MAX_PHRASES FTS_MAX_TERMS	/* 64: one cursor each */
#define FTS_QUERY_MAX_PHRASE_TERMS 32
#define FTS_QUERY_MAX_DEPTH 64	/* nested parentheses */

typedef enum FtsQueryStatus
{
	FTS_QUERY_OK = 0,
	FTS_QUERY_SYNTAX,			/* the text is not a valid query */
	FTS_QUERY_UNSUPPORTED,		/* FTS5 syntax vlake does not implement */
	FTS_QUERY_LIMIT,			/* too many phrases, terms or levels */
	FTS_QUERY_BAD_TEXT,			/* not valid UTF-8 */
	FTS_QUERY_NO_MEMORY
} FtsQueryStatus;

/* The caller's memory (the backend: a memory context). */
typedef void *(*fts_alloc_fn) (void *arg, size_t size);	/* NULL: no memory */
typedef void (*fts_free_fn) (void *arg, void *ptr);
typedef struct FtsAllocator
{
	fts_alloc_fn alloc;
	fts_free_fn free;
	void	   *arg;
} FtsAllocator;

typedef struct FtsQueryTerm
{
	const char *text;			/* UTF-8, NUL-terminated */
	uint32_t	len;
	uint32_t	offset;			/* token offset from the phrase's first term */
} FtsQueryTerm;

typedef struct FtsQueryPhrase
{
	int			nterms;			/* >= 1 */
	FtsQueryTerm *terms;
} FtsQueryPhrase;

typedef enum FtsQueryNodeType
{
	FTS_QNODE_PHRASE,
	FTS_QNODE_AND,
	FTS_QNODE_OR,
	FTS_QNODE_NOT				/* left AND NOT right */
} FtsQueryNodeType;

typedef struct FtsQueryNode
{
	FtsQueryNodeType type;
	int			phrase;			/* FTS_QNODE_PHRASE: index in phrases */
	int			left,
				right;			/* the others: indexes in nodes */
} FtsQueryNode;

/*
 * A parsed query.  phrases are numbered in the order they appear in the
 * text (a phrase given twice is two phrases, scored twice, as in FTS5);
 * root < 0: the query matches nothing.
 */
typedef struct FtsQuery
{
	int			nphrases;
	FtsQueryPhrase *phrases;
	int			nnodes;
	FtsQueryNode *nodes;
	int			root;
	FtsAllocator mem;
	void	   *chunks;			/* the allocations, freed by fts_query_free */
} FtsQuery;

/*
 * Parse text[0..len) analyzing strings with a.  *out is NULL on error, and
 * err holds a message (FTS5's wording where it has one, e.g.
 * 'syntax error near "OR"').
 */
extern FtsQueryStatus fts_query_parse(const char *text, size_t len, FtsAnalyzer *a,
									  const FtsAllocator *mem, FtsQuery **out,
									  char *err, size_t errlen);
extern void fts_query_free(FtsQuery *q);
static inline bool
fts_query_empty(const FtsQuery *q)
{
	return q->root < 0;
}

/* Does the query match when phrase i is present iff bit i of present is set? */
extern bool fts_query_eval(const FtsQuery *q, uint64_t present);

/*
 * The phrases a matching document's score sums, as SQLite FTS5's bm25()
 * does: those of the parts of the query the document matches (a phrase
 * under an AND or a NOT the document does not satisfy, or on the right of
 * a NOT, is left out).  0 when the document does not match.
 */
extern uint64_t fts_query_scored(const FtsQuery *q, uint64_t present);

/* The tree as text, for tests: (AND "a" (OR "b c" "d@2")). */
extern size_t fts_query_format(const FtsQuery *q, char *buf, size_t buflen);

/* ---- one document ---- */

/* A token of a document: term and FTS_POSITION(field, token index). */
typedef struct FtsDocToken
{
	const char *term;
	uint32_t	len;
	uint32_t	pos;
} FtsDocToken;

/*
 * Each phrase's weighted occurrences in the document (f[nphrases]: the sum
 * over the phrase's occurrences of its field's weight, weight 1 when
 * field_weights is NULL or the field >= nfields; occurrences may overlap),
 * and whether the document matches.  In a matching document the phrases
 * fts_query_scored leaves out get f = 0 (FTS5's score); in a document that
 * does not match every present phrase keeps its f.  Tokens may come in any
 * order; tok is reordered (by position).  false: no memory.
 */
extern bool fts_query_doc(const FtsQuery *q, FtsDocToken *tok, int ntok,
						  const double *field_weights, int nfields,
						  const FtsAllocator *mem, double *f, bool *match);

/*
 * The BM25 score of a document (larger is better) from its phrase
 * frequencies f, its length dl and the phrases' idf: sum over phrases, in
 * order, of fts_bm25_term(p, idf[i], f[i], dl) — SQLite FTS5's bm25()
 * negated.
 */
extern double fts_query_score(const FtsQuery *q, const FtsBm25 *p,
							  const double *idf, const double *f, double dl);

/* ---- over the sources of an index ---- */

/*
 * N and avgdl summed over the sources (into p; k1, b, idf are the
 * caller's).  An empty index gets avgdl 1.
 */
extern void fts_query_stats(FtsSource **src, int nsrc, FtsBm25 *p);

/*
 * The number of documents holding each phrase, summed over the sources
 * (df[nphrases]): term_df for one term, else the documents where the terms
 * occur at the phrase's offsets (their cursors intersected).  Deleted
 * documents count, as they do in N.  false: no memory.
 */
extern bool fts_query_df(const FtsQuery *q, FtsSource **src, int nsrc,
						 const FtsAllocator *mem, double *df);

typedef struct FtsQueryStats
{
	FtsTopkStats topk;			/* summed over the sources */
	uint64_t	rejected;		/* candidates the boolean query refused */
} FtsQueryStats;

/*
 * The k best matching documents over the sources: hits with doc = the
 * source's doc_ref, by score descending, ties by ref ascending; returns
 * how many (< k only when fewer match), -1 when out of memory.  p: k1, b,
 * idf variant (N and avgdl are computed here).  Deleted documents are
 * never returned.  Exact: equals scoring every matching document.
 */
extern int	fts_query_topk(const FtsQuery *q, FtsSource **src, int nsrc,
						   const FtsBm25 *p, int k, const FtsAllocator *mem,
						   FtsHit *out, FtsQueryStats *stats);

/*
 * Both searches call the source's deleted() (when set) for every candidate
 * document, before the query is evaluated on it: a backend can check for
 * interrupts there (the searches themselves never stop on their own).
 */

/*
 * Every matching, not deleted document, in each source's doc order (the
 * sources one after the other): fn(arg, ref); fn returns false to stop.
 * Returns false when out of memory.
 */
typedef bool (*FtsMatchFn) (void *arg, uint64_t ref);
extern bool fts_query_matches(const FtsQuery *q, FtsSource **src, int nsrc,
							  const FtsAllocator *mem, FtsMatchFn fn, void *arg);

#endif							/* VLAKE_FTS_QUERY_H */
