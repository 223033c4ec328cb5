/*
 * fts_am_postings.h — the vlake_bm25 access method's use of the postings
 * engine (fts_postings.h) in a backend: palloc'd memory, errors as ERROR,
 * parts written to and read from the lake, the delta log decoded into an
 * image, and the per-backend cache of an index's sources.  Internal to the
 * access method.
 */
#ifndef VLAKE_FTS_AM_POSTINGS_H
#define VLAKE_FTS_AM_POSTINGS_H

#include "fulltext/fts_am_internal.h"
#include "fulltext/fts_postings.h"

/* Where analyzed tokens go (a builder, a delta record). */
typedef struct FtsDocSink FtsDocSink;
struct FtsDocSink
{
	void		(*token) (FtsDocSink *s, const char *term, size_t len, uint32 position);
};

/*
 * A delta record: this header, then ntokens x ([uint16 len][term][uint32 position]).
 * In a vlake_sparse index a token is a nonzero element: term = the
 * dimension (0-based) as 4 big-endian bytes, the uint32 slot holds the
 * float4 weight's bits (memcpy), doclen = nnz.
 */
typedef struct FtsDeltaHeader
{
	uint64		ref;
	uint32		doclen;
	uint32		ntokens;
} FtsDeltaHeader;
#define FTS_MAX_TERM_BYTES 4096

/* A postings builder in a backend; sink adds to the open document. */
typedef struct FtsAmBuilder
{
	FtsDocSink	sink;
	FtsPostingsBuilder *b;
	Relation	index;
	FtsAlloc	alloc;
	bool		impact;			/* a vlake_sparse index: tokens carry float bits */
} FtsAmBuilder;

extern uint32 fts_am_analyze_value(Relation index, const FtsIndexSettings *s, Datum value,
								   FtsDocSink *sink);
/* A sparsevec's nonzeros as tokens (see FtsDeltaHeader); ERROR on a negative one. */
extern uint32 fts_am_sparse_value(Relation index, Datum value, ItemPointer tid, FtsDocSink *sink);

extern void fts_am_alloc_init(FtsAlloc *a, MemoryContext cxt);
extern void fts_am_postings_error(Relation index, const char *what, const FtsPostingsError *err);

extern FtsAmBuilder *fts_am_builder_create(Relation index, const FtsIndexSettings *s);
extern void fts_am_builder_begin(FtsAmBuilder *b, uint64 ref);
extern void fts_am_builder_end(FtsAmBuilder *b, uint32 doclen);

/* Write the builder's image as a new lake part under location. */
extern void fts_am_write_part(Relation index, FtsAmBuilder *b, const char *location,
							  char *prefix_out, uint64 *size_out, char *etag_out,
							  uint64 *docs_out);
/* Write an image made elsewhere (a merge) as a new lake part. */
extern void fts_am_write_image(Relation index, const uint8 *image, size_t size,
							   const char *location, char *prefix_out, uint64 *size_out,
							   char *etag_out);

/* An index's sources as of one metapage copy (cached per backend). */
typedef struct FtsAmSources
{
	int			nsources;
	FtsSource  *sources[2];		/* the part, then the delta */
	FtsPostingsReader *readers[2];
	FtsMetaData meta;
	FtsIndexSettings settings;	/* N and avgdl filled in */
	/* delta: log offset of each delta document (tombstones name them) */
	uint64	   *delta_offsets;
} FtsAmSources;

extern FtsAmSources *fts_am_get_sources(Relation index);


#endif							/* VLAKE_FTS_AM_POSTINGS_H */
