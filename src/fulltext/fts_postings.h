/*
 * fts_postings.h — the postings engine of the BM25 index: a builder that
 * turns analyzed documents into one image (postings.bin, the byte layout in
 * docs/bm25-format.md), a reader that validates an image and serves it as an
 * FtsSource (fts_bm25.h) to the query core, and a merge of several images
 * into one without the documents a callback marks deleted.
 *
 * Backend-free like fts_bm25.c: no postgres.h, no I/O, no ereport.  Memory
 * comes from the FtsAlloc the caller passes (palloc in a memory context in
 * the backend, malloc in the tests); errors are FTSP_* codes with a message
 * in an FtsPostingsError (every function's err argument must not be NULL).
 *
 * Documents of an image are numbered 0..N-1 in the order they were added;
 * each carries the 64-bit row reference the caller gave (any order).  A
 * term's f in a document is sum over fields of weight(field) x occurrences
 * in the field, summed in field order; the weights are fixed when the
 * builder is created and recorded in the image.
 */
#ifndef VLAKE_FTS_POSTINGS_H
#define VLAKE_FTS_POSTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fulltext/fts_bm25.h"

/* Status codes (0 = success). */
typedef enum FtsPostingsStatus
{
	FTSP_OK = 0,
	FTSP_NOMEM = 1,				/* the allocator returned NULL */
	FTSP_LIMIT = 2,				/* the memory limit given at creation was exceeded */
	FTSP_BAD_ARGUMENT = 3,		/* a call out of order or an invalid value */
	FTSP_TOO_LARGE = 4,			/* beyond the format's limits (2^32-1 documents...) */
	FTSP_CORRUPT = 5,			/* the image failed validation */
	FTSP_VERSION = 6			/* an image of a format version this build does not read */
} FtsPostingsStatus;

typedef struct FtsPostingsError
{
	int			code;			/* FtsPostingsStatus */
	char		message[256];	/* for FTSP_CORRUPT: names the section and the reason */
} FtsPostingsError;

/*
 * Memory.  alloc returns NULL on failure (or does not return: palloc's
 * ereport is fine, nothing here holds resources other than memory).
 * realloc gets the old size; free may be NULL (a memory context reset
 * frees everything).  In a backend, use the huge variants
 * (MemoryContextAllocHuge, repalloc_huge): the builder's buffers and an
 * image may pass 1 GB.
 */
typedef struct FtsAlloc
{
	void	   *(*alloc) (void *arg, size_t size);
	void	   *(*realloc) (void *arg, void *ptr, size_t old_size, size_t new_size);
	void		(*free) (void *arg, void *ptr);
	void	   *arg;
} FtsAlloc;

/* The image's magic and the format version this build writes and reads. */
#define FTSP_MAGIC "VLBM25P"	/* 8 bytes with the NUL */
#define FTSP_VERSION_CURRENT 1
#define FTSP_BLOCK_SIZE 128		/* postings per block */

/* ------------------------------------------------------------ builder -- */

typedef struct FtsPostingsBuilder FtsPostingsBuilder;

/*
 * A builder for documents with nfields fields (1..FTS_MAX_FIELDS) weighted
 * field_weights[nfields] (finite, >= 0).  mem_limit: the bytes the builder
 * may hold (0 = no limit); past it, calls fail with FTSP_LIMIT.  NULL on
 * error (err set).
 */
extern FtsPostingsBuilder *fts_postings_builder_create(const FtsAlloc *a, int nfields,
													   const double *field_weights,
													   size_t mem_limit,
													   FtsPostingsError *err);

/*
 * Impact mode (the sparse-vector index, docs/bm25-format.md): one field of
 * weight 1, and per document each term given once with an impact (finite,
 * >= 0, stored as the f64 given) instead of positions.  A posting's f is its
 * impact; cursors have no positions (positions() returns 0 and NULL).
 * add_token is refused on such a builder and add_impact on the other kind.
 */
extern FtsPostingsBuilder *fts_postings_builder_create_impact(const FtsAlloc *a, size_t mem_limit,
															  FtsPostingsError *err);
extern int	fts_postings_add_impact(FtsPostingsBuilder *b, const char *term, size_t len,
									double value, FtsPostingsError *err);

/*
 * One document: begin_doc with its row reference, then its tokens (term
 * bytes, len >= 1, and FTS_POSITION(field, token index) with field <
 * nfields; in any order, but a term never twice at one position), then end_doc with |d| (the tokens of the document
 * over all fields as the analyzer counts them, stop words included: the
 * caller's number, used as is).  A document with no tokens is fine (it
 * counts in N and in the total length).
 */
extern int	fts_postings_begin_doc(FtsPostingsBuilder *b, uint64_t ref, FtsPostingsError *err);
extern int	fts_postings_add_token(FtsPostingsBuilder *b, const char *term, size_t len,
								   uint32_t position, FtsPostingsError *err);
extern int	fts_postings_end_doc(FtsPostingsBuilder *b, uint32_t doclen, FtsPostingsError *err);

/* Documents added so far, and the bytes the builder holds now. */
extern uint64_t fts_postings_builder_ndocs(const FtsPostingsBuilder *b);
extern size_t fts_postings_builder_memory(const FtsPostingsBuilder *b);

/*
 * The image of everything added (not inside a document): *image gets a
 * buffer from the builder's allocator (the caller owns it), *size its
 * length.  The builder's other memory is released as it goes; after
 * finish, only fts_postings_builder_free may be called.
 */
extern int	fts_postings_builder_finish(FtsPostingsBuilder *b, uint8_t **image, size_t *size,
										FtsPostingsError *err);
extern void fts_postings_builder_free(FtsPostingsBuilder *b);

/* ------------------------------------------------------------- reader -- */

typedef struct FtsPostingsReader FtsPostingsReader;

/* open flags */
#define FTSP_OPEN_VALIDATE_ALL 0x1	/* check every posting list now, not on first use */

/*
 * Open an image (size bytes at image, not copied: it must outlive the
 * reader).  Checks the header, every section's bounds and CRC-32C, the
 * dictionary (sorted, in bounds) and the document table before returning;
 * each posting list is checked in full (doc ids increasing and < N, block
 * metadata equal to the postings, positions increasing and within limits)
 * the first time a cursor is opened on it, or now with
 * FTSP_OPEN_VALIDATE_ALL.  NULL on error (err set).
 */
extern FtsPostingsReader *fts_postings_open(const FtsAlloc *a, const uint8_t *image, size_t size,
											int flags, FtsPostingsError *err);

/*
 * The reader as an FtsSource (fts_bm25.h), owned by the reader: term_df,
 * open_term (a cursor with next, shallow, positions and max_bound; freed
 * with the reader), doclen, doc_ref; deleted is NULL, for the caller to set.
 * The callbacks find the reader through s->state (fts_postings_source_reader):
 * a caller whose deleted() needs state of its own copies the FtsSource into
 * a struct of its own (FtsSource first, state unchanged) and casts.
 *
 * A list found corrupt on its first open_term: the error callback is called
 * (in the backend it ereports and does not return); if it returns or there
 * is none, open_term returns NULL and fts_postings_reader_error() tells why.
 */
extern FtsSource *fts_postings_source(FtsPostingsReader *r);
extern FtsPostingsReader *fts_postings_source_reader(FtsSource *s);
/*
 * Where the cursors open_term makes from now on take their memory: a
 * (copied), and then the reader neither keeps nor frees them — the caller
 * does, e.g. by resetting the memory context a's functions use.  NULL:
 * the reader's own memory (cursors freed with the reader).  A reader cached
 * for many queries needs this, or each query's cursors stay until close.
 */
extern void fts_postings_set_cursor_alloc(FtsPostingsReader *r, const FtsAlloc *a);
typedef void (*FtsPostingsErrorCallback) (void *arg, const FtsPostingsError *err);
extern void fts_postings_set_error_callback(FtsPostingsReader *r, FtsPostingsErrorCallback cb,
											void *arg);
extern const FtsPostingsError *fts_postings_reader_error(const FtsPostingsReader *r);

/* What the image holds. */
extern uint64_t fts_postings_ndocs(const FtsPostingsReader *r);
extern uint64_t fts_postings_nterms(const FtsPostingsReader *r);
extern double fts_postings_ntokens(const FtsPostingsReader *r);
extern int	fts_postings_nfields(const FtsPostingsReader *r);
extern bool fts_postings_impact(const FtsPostingsReader *r);	/* an image of impacts */
extern const double *fts_postings_field_weights(const FtsPostingsReader *r);

/* Check every posting list now (what FTSP_OPEN_VALIDATE_ALL does). */
extern int	fts_postings_validate_all(FtsPostingsReader *r, FtsPostingsError *err);

/*
 * The i-th term of the dictionary (0 <= i < nterms, in byte order), its
 * bytes (not NUL-terminated, in the image) and document frequency.
 */
extern const char *fts_postings_term(const FtsPostingsReader *r, uint64_t i, size_t *len,
									 uint64_t *df);

extern void fts_postings_close(FtsPostingsReader *r);

/* -------------------------------------------------------------- merge -- */

/*
 * true when document doc (an id of input image `input`) is left out of the
 * merged image (its row was deleted).
 */
typedef bool (*FtsPostingsDeleted) (void *arg, int input, uint64_t doc);

/*
 * One image of the documents of inputs[0..ninputs) that deleted (NULL: none)
 * does not drop, renumbered in input order (input 0's documents first,
 * each input's in its own order), with their refs, lengths, postings and
 * positions; the inputs must have the same fields and weights
 * and the same mode (positions or impacts) (FTSP_BAD_ARGUMENT otherwise).  Every input list is validated as it is
 * read.  *image from a's allocator; mem_limit as for the builder.
 */
extern int	fts_postings_merge(const FtsAlloc *a, FtsPostingsReader **inputs, int ninputs,
							   FtsPostingsDeleted deleted, void *deleted_arg, size_t mem_limit,
							   uint8_t **image, size_t *size, FtsPostingsError *err);

#endif							/* VLAKE_FTS_POSTINGS_H */
