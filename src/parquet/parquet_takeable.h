/*
 * parquet_takeable.h — when the values of a Parquet row can be located without
 * decoding its page ("offset-computed take"), shared by the vector
 * ColumnGroup reader (layout/vector_cg.h) and parquet_take (parquet_reader.h).
 *
 * A column chunk qualifies when it is UNCOMPRESSED, its data pages are
 * PLAIN (levels RLE / BIT_PACKED, no dictionary) and every row holds the
 * same number k of fixed-width values; then, for a page without nulls, the
 * values are the last page_rows * k * width bytes of the page (the levels
 * come first), and OffsetIndex.compressed_page_size includes the header:
 *
 *   end   = page.offset + page.compressed_page_size
 *   start = end - (page_rows - (row - page.first_row_index)) * k * width
 *
 * k is 1 for a required or optional scalar; for a LIST, the reader's user
 * must know it (PqReader.list_length; vlake's layouts declare it in
 * key-value metadata, layout/layout_keys.h).  No nulls: the chunk statistics
 * say null_count = 0.
 */
#ifndef VLAKE_PARQUET_TAKEABLE_H
#define VLAKE_PARQUET_TAKEABLE_H

#include "postgres.h"

#include "parquet/parquet_meta.h"

/*
 * Whether chunk cc qualifies (codec, encodings, no dictionary).  If not and
 * why != NULL, why gets a phrase completing "Row group N ...".
 * *may_have_nulls: the statistics do not promise "no nulls" (then pages
 * must be decoded).
 */
extern bool parquet_chunk_takeable(const PqColumnChunk *cc, bool *may_have_nulls,
							  char *why, size_t whylen);

/*
 * Whether a chunk's OffsetIndex has the shape a take-able writer gives it:
 * pages back to back from chunk_start to chunk_end, the first at row 0, and
 * every page but the last with the same number of rows and the same size
 * (the last no bigger).  Offsets are computed from the index only then: a
 * damaged entry breaks the pattern, and the pages are decoded (which checks
 * them against their headers) instead of bytes being taken from the wrong
 * place.
 */
extern bool parquet_offset_index_uniform(const PqOffsetIndex *oi, int64 chunk_start,
									int64 chunk_end, int64 rg_rows);

#endif							/* VLAKE_PARQUET_TAKEABLE_H */
