/*
 * vector_cg.h — take by row number from Parquet files laid out for it: the
 * vector ColumnGroup (docs/parquet-layout.md, "Vector ColumnGroup").
 *
 * A column is "take-able" when, in every row group, its chunk is
 * UNCOMPRESSED, its data pages are PLAIN (levels RLE, no dictionary), it
 * has an OffsetIndex, and every row has the same number k of fixed-width
 * leaf values: a scalar of a fixed-width type (k = 1) or a LIST whose
 * dimension the file declares in the key-value metadata "vlake.vector_dim".
 * Then, for a page without nulls, the values of the page are the last
 * nrows * k * width bytes of the page (v1: rep levels, def levels, values;
 * OffsetIndex.compressed_page_size includes the header), so the byte range
 * of any row follows from the OffsetIndex alone:
 *
 *   end   = page.offset + page.compressed_page_size
 *   start = end - (page_rows - (row - page.first_row_index)) * k * width
 *
 * take(rows) is the reader's parquet_take_fixed, which turns rows into
 * those byte ranges and reads them with one ByteSource call straight into
 * the output (the object store coalesces near ranges of a local file); a
 * file whose chunks may hold nulls goes through the generic parquet_take.  Opening costs the reader's footer read, which usually holds the
 * OffsetIndexes too, plus one read if they lie before it; the reader keeps
 * them, so a take is one read.  Pages that hold nulls (chunk statistics say
 * so) are fetched whole and decoded by the reader.  The writer side is pgmap/pgmap_writer.h with options.vector_layout;
 * the footer keys are layout_keys.h.
 */
#ifndef VLAKE_VECTOR_CG_H
#define VLAKE_VECTOR_CG_H

#include "postgres.h"

#include "parquet/byte_source.h"

typedef struct VectorCG VectorCG;

/* column NULL: the file's only LIST column, or its only column.  src's
 * name (the URI) is used in messages. */
extern VectorCG *layout_vcg_open(ByteSource *src, const char *column);

extern int64 layout_vcg_rows(VectorCG *cg);
extern int	layout_vcg_values_per_row(VectorCG *cg);	/* k (the dimension) */
extern int	layout_vcg_value_width(VectorCG *cg);	/* bytes per leaf value */
extern int	layout_vcg_physical_type(VectorCG *cg);	/* PqType of the leaf */
/* A halfvec ColumnGroup: FIXED_LEN_BYTE_ARRAY(2*dim) of binary16 values. */
extern bool layout_vcg_is_float16(VectorCG *cg);

/*
 * Row numbers rows[0..n) (0-based within the file; duplicates and any order
 * allowed) into out (n * k * width bytes, in the order given); isnull[i] set
 * for null rows (their bytes zeroed).  ERROR for a row out of range.
 */
extern void layout_vcg_take(VectorCG *cg, const int64 *rows, int n,
						   char *out, bool *isnull);

/*
 * Every row in order: fn is called once per page with its first row number,
 * row count, the values (nrows * k * width bytes; null rows zeroed) and
 * null flags.  Reads the data in large sequential ranges.
 */
typedef void (*layout_vcg_page_fn) (void *arg, int64 first_row, int nrows,
								   const char *values, const bool *isnull);
extern void layout_vcg_scan(VectorCG *cg, layout_vcg_page_fn fn, void *arg);

#endif							/* VLAKE_VECTOR_CG_H */
