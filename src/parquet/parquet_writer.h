/*
 * parquet_writer.h — a streaming Parquet writer of physical values.
 *
 *   PqSink *sink = parquet_sink_open_objstore(store, key);
 *   PqWriterOptions opts; parquet_writer_default_options(&opts);
 *   PqWriter *w = parquet_writer_begin(sink, ncols, cols, &opts);
 *   for each row, for each column i in order:
 *       parquet_writer_value(w, i, plain_bytes, len) / parquet_writer_null(w, i)
 *       / parquet_writer_list(w, i, elements, n)
 *     then parquet_writer_end_row(w);
 *   parquet_writer_finish(w, key_values);  -> footer written, sink finished (file visible)
 *
 * Values are given as their PLAIN bytes (BOOLEAN: one byte 0 or 1;
 * BYTE_ARRAY: the bytes without length prefix).  The writer knows nothing of
 * Postgres types: pgmap/pgmap_writer.h maps tuples onto it.
 *
 * Memory is bounded: a row group is buffered (encoded and compressed pages)
 * until it reaches opts.row_group_bytes or opts.row_group_rows, then
 * streamed to the sink; only the small per-page index entries are kept
 * until the footer.  On ERROR before parquet_writer_finish the caller aborts the
 * sink (objstore also aborts streamed writers left open at transaction end),
 * so the object never becomes visible.  The file layout: docs/parquet-layout.md.
 */
#ifndef VLAKE_PARQUET_WRITER_H
#define VLAKE_PARQUET_WRITER_H

#include "postgres.h"

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
	List	   *key_values;		/* of PqKeyValue*, added to the footer last */
	const char *created_by;		/* FileMetaData.created_by ("vlake version ...") */
} PqWriterOptions;

extern void parquet_writer_default_options(PqWriterOptions *opts);

/* ---------------------------------------------------------------- writer -- */

typedef struct PqWriter PqWriter;

/* A column: a primitive, or a 3-level LIST of required primitives. */
typedef struct PqWriterColumn
{
	const char *name;
	/* the primitive's type: type, type_length, converted and logical type,
	 * scale, precision (name, repetition and field id are the writer's) */
	PqSchemaElement elem;
	bool		nullable;
	bool		is_list;		/* LIST of elem; elements fixed-width, never null */
	int32		field_id;		/* unless a column option gives one */
} PqWriterColumn;

extern PqWriter *parquet_writer_begin(PqSink *sink, int ncols, const PqWriterColumn *cols,
									  const PqWriterOptions *opts);
/* One value of column col of the current row: its PLAIN bytes. */
extern void parquet_writer_value(PqWriter *w, int col, const void *value, int len);
extern void parquet_writer_null(PqWriter *w, int col);
/* A list column's value: n fixed-width elements (n = 0: an empty list). */
extern void parquet_writer_list(PqWriter *w, int col, const void *values, int n);
/* After a value for every column. */
extern void parquet_writer_end_row(PqWriter *w);
/* Writes key_values (of PqKeyValue*), then opts->key_values, into the
 * footer; returns the file size. */
extern uint64 parquet_writer_finish(PqWriter *w, List *key_values);
extern int64 parquet_writer_rows(PqWriter *w);

#endif							/* VLAKE_PARQUET_WRITER_H */
