/*
 * parquet_writer.h — a streaming Parquet writer for Postgres tuples.
 *
 *   PqSink *sink = parquet_sink_open_objstore(store, key);   (or parquet_sink_open_memory)
 *   PqWriterOptions opts; parquet_writer_default_options(&opts);
 *   PqWriter *w = parquet_writer_begin(sink, tupdesc, &opts);
 *   for each row: parquet_writer_add_row(w, values, isnull);
 *   parquet_writer_finish(w);     -> footer written, sink finished (file visible)
 *
 * Memory is bounded: a row group is buffered (encoded and compressed pages)
 * until it reaches opts.row_group_bytes or opts.row_group_rows, then
 * streamed to the sink; only the small per-page index entries are kept
 * until the footer.  On ERROR before parquet_writer_finish the caller aborts the
 * sink (objstore also aborts streamed writers left open at transaction end),
 * so the object never becomes visible.  Type mapping and the file layout: docs/parquet-layout.md.
 */
#ifndef VLAKE_PARQUET_WRITER_H
#define VLAKE_PARQUET_WRITER_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "nodes/pg_list.h"

#include "parquet/parquet_meta.h"
#include "objstore/objstore.h"

/* ------------------------------------------------------------------ sink -- */

typedef struct PqSink PqSink;
struct PqSink
{
	void		(*write) (PqSink *s, const char *data, size_t len);
	void		(*finish) (PqSink *s);	/* make the object visible */
	void		(*abort) (PqSink *s);	/* leave nothing visible */
	uint64		offset;			/* bytes written so far */
	char	   *name;			/* URI or path, for messages */
	bool		done;			/* finished or aborted */
};

/*
 * An object of a store (objstore.h): a streamed upload, multipart on S3,
 * visible only after finish.  ERROR if the object already exists.
 */
extern PqSink *parquet_sink_open_objstore(ObjStore *store, const char *key);

/* An in-memory sink (tests, small files); data in *buf after finish. */
extern PqSink *parquet_sink_open_memory(void);
extern const char *parquet_sink_memory_data(PqSink *s, size_t *len);

/* -------------------------------------------------------------- options -- */

typedef struct PqColumnOptions
{
	char	   *name;			/* column this applies to */
	int			codec;			/* PqCodec, or -1 = file default */
	int			dictionary;		/* 1 on, 0 off, -1 = file default */
	int32		field_id;		/* -1 = default (attribute number) */
	int			encoding;		/* PqEncoding of non-dictionary pages, -1 = PLAIN */
	int			page_rows;		/* rows per page, 0 = file default */
} PqColumnOptions;

typedef struct PqWriterOptions
{
	PqCodec		codec;			/* default zstd */
	int			codec_level;	/* -1 = codec default */
	bool		dictionary;		/* default true */
	size_t		dictionary_max_bytes;	/* fall back to PLAIN above (1 MB) */
	size_t		page_bytes;		/* target uncompressed page size (1 MB) */
	int			page_rows;		/* if > 0: exactly this many rows per page */
	int64		row_group_rows; /* default 1,000,000 */
	size_t		row_group_bytes;	/* buffered bytes per row group (64 MB) */
	bool		statistics;		/* chunk statistics + page index (true) */
	List	   *columns;		/* of PqColumnOptions* */
	List	   *key_values;		/* of PqKeyValue*, added to the footer */
	bool		vector_layout;	/* vector ColumnGroup (see vector_cg.h) */
	int64		first_row_id;	/* row ID of row 0, recorded when >= 0 (-1) */
} PqWriterOptions;

extern void parquet_writer_default_options(PqWriterOptions *opts);

/* ---------------------------------------------------------------- writer -- */

typedef struct PqWriter PqWriter;

extern PqWriter *parquet_writer_begin(PqSink *sink, TupleDesc tupdesc,
								 const PqWriterOptions *opts);
extern void parquet_writer_add_row(PqWriter *w, Datum *values, bool *isnull);
extern uint64 parquet_writer_finish(PqWriter *w);	/* returns the file size */
extern int64 parquet_writer_rows(PqWriter *w);

/* Key-value metadata keys vlake writes. */
#define LAYOUT_KV_WRITER		"vlake.writer"
#define LAYOUT_KV_LAYOUT		"vlake.layout"	/* "vector_cg/1" for vector CGs */
#define LAYOUT_KV_VECTOR_DIM	"vlake.vector_dim"
#define LAYOUT_KV_PAGE_ROWS		"vlake.page_rows"
#define LAYOUT_KV_FIRST_ROW_ID	"vlake.first_row_id"	/* row ID of row 0 */
#define LAYOUT_KV_VECTOR_ELEMENT "vlake.vector_element"	/* "float16": halfvec CG */

#endif							/* VLAKE_PARQUET_WRITER_H */
