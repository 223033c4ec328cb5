/*
 * pgmap_writer.h — Postgres tuples into a Parquet file: the type mapping
 * onto the generic writer (parquet/parquet_writer.h) and vlake's layouts.
 *
 *   PgmapWriterOptions opts; pgmap_writer_default_options(&opts);
 *   PgmapWriter *w = pgmap_writer_begin(sink, tupdesc, &opts);
 *   for each row: pgmap_writer_add_row(w, values, isnull);
 *   pgmap_writer_finish(w);     -> footer written, sink finished (file visible)
 *
 * Type mapping: docs/parquet-layout.md.  Every file records vlake.writer;
 * with vector_layout the file is a vector ColumnGroup (layout/vector_cg.h),
 * with first_row_id >= 0 it records vlake.first_row_id, and every vector
 * column whose rows all have one dimension records vlake.vector_dim.<name>
 * (layout/layout_keys.h).
 */
#ifndef VLAKE_PGMAP_WRITER_H
#define VLAKE_PGMAP_WRITER_H

#include "postgres.h"

#include "access/tupdesc.h"

#include "parquet/parquet_writer.h"

typedef struct PgmapWriterOptions
{
	PqWriterOptions parquet;	/* codec, pages, row groups, columns, metadata */
	bool		vector_layout;	/* vector ColumnGroup (layout/vector_cg.h) */
	int64		first_row_id;	/* row ID of row 0, recorded when >= 0 (-1) */
	bool		infinities;		/* write +-infinity dates and timestamps as
								 * DuckDB does (+-INT32_MAX days, +-INT64_MAX
								 * units) instead of refusing them (false) */
} PgmapWriterOptions;

typedef struct PgmapWriter PgmapWriter;

extern void pgmap_writer_default_options(PgmapWriterOptions *opts);
extern PgmapWriter *pgmap_writer_begin(PqSink *sink, TupleDesc tupdesc,
									   const PgmapWriterOptions *opts);
extern void pgmap_writer_add_row(PgmapWriter *w, Datum *values, bool *isnull);
extern uint64 pgmap_writer_finish(PgmapWriter *w);	/* returns the file size */
extern int64 pgmap_writer_rows(PgmapWriter *w);

#endif							/* VLAKE_PGMAP_WRITER_H */
