/*
 * parquet_reader.h — reading Parquet files: schema, projection, pruning,
 * batches for scans and take by row number.
 *
 *   PqReader *r = parquet_reader_open(byte_source);       footer, magic, schema
 *   int c = parquet_reader_column(r, "embedding");         -1 if absent
 *   PqScan *s = parquet_scan_begin(r, ncols, cols, preds, npreds, 1024);
 *   while ((b = parquet_scan_next(s)) != NULL)             b valid until next call
 *       ... b->cols[i].row_null[k], values ...
 *   parquet_scan_end(s);
 *   PqBatch *t = parquet_take(r, ncols, cols, rows, nrows);  rows in given order
 *
 * Columns are the top-level fields of the schema.  A column is readable
 * when it is a primitive (REQUIRED/OPTIONAL) or a list of primitives
 * (3-level LIST, legacy 2-level LIST, or a bare REPEATED primitive); other
 * shapes (structs, maps, nested lists) are listed with a reason and refuse
 * to be projected.
 *
 * Values come out in the file's physical representation (PqColumnVector);
 * pgmap_datum.c turns them into Postgres Datums.
 *
 * I/O: a scan fetches, per row group, the byte ranges of the projected
 * column chunks in one ByteSource call (nothing else).  When a predicate
 * leaves only some pages of a row group (ColumnIndex) and every projected
 * column has an OffsetIndex, only those pages (and dictionary pages) are
 * fetched.  parquet_take uses the OffsetIndex to fetch only the pages holding the
 * requested rows, all in one call.
 *
 * Untrusted input: every offset, length, count, level and dictionary index
 * is checked; decompressed sizes must match the header; pages are limited
 * to PARQUET_MAX_PAGE_BYTES and PARQUET_MAX_PAGE_VALUES.  Errors are
 * ERRCODE_DATA_CORRUPTED (or FEATURE_NOT_SUPPORTED) and name the file, the
 * column, the row group and the page.
 */
#ifndef VLAKE_PARQUET_READER_H
#define VLAKE_PARQUET_READER_H

#include "postgres.h"

#include "parquet/byte_source.h"
#include "parquet/parquet_meta.h"

#define PARQUET_MAX_PAGE_BYTES	(256 * 1024 * 1024)
#define PARQUET_MAX_PAGE_VALUES	(16 * 1024 * 1024)
#define PARQUET_MAX_FOOTER_BYTES (256 * 1024 * 1024)
/* Scan read window for big column chunks (GUC vlake.parquet_scan_window). */
extern int	parquet_chunk_window;
#define PARQUET_MAX_PAGE_HEADER	(1024 * 1024)	/* a page header must fit in this */

typedef struct PqColumnDesc
{
	char	   *name;			/* top-level field name */
	char	   *path;			/* dotted path of the leaf */
	int			leaf;			/* index of the leaf (= column chunk index) */
	int			schema_index;	/* the leaf's SchemaElement */
	int			top_schema_index;	/* the top-level field's SchemaElement */
	PqType		type;
	int32		type_length;
	const PqSchemaElement *leaf_elem;
	int16		max_def;
	int16		max_rep;
	bool		is_list;
	int16		list_def;		/* def level at which the list is present */
	int16		elem_def;		/* def level at which an element slot exists */
	bool		has_field_id;
	int32		field_id;		/* of the top-level field */
	const char *unsupported;	/* NULL if readable, else why not */
} PqColumnDesc;

typedef struct PqReader
{
	ByteSource *src;
	const char *name;
	PqFileMetaData *meta;
	int			ncolumns;
	PqColumnDesc *columns;
	int64	   *rg_first_row;	/* file row number of each row group's row 0 */
	uint64		footer_len;
	MemoryContext cxt;			/* where the reader lives */
	char	   *tail;			/* the file's last tail_len bytes (footer read) */
	uint64		tail_len;
	PqOffsetIndex ***oi_cache;	/* [leaf][row group], parquet_reader_offset_indexes */
	struct PqFixedPlan **fixed;	/* [leaf], parquet_take_fixed's cursors */
	uint64		page_cache_file;	/* source has a version: its hash, else 0 */

	/*
	 * Set by the reader's user when it knows that every row of LIST column
	 * col holds the same number of values (a layout declares it, e.g.
	 * layout_reader_init): returns that number, or -1.  parquet_take then
	 * locates a row's values without decoding pages.  NULL: unknown.
	 */
	int			(*list_length) (const struct PqReader *r, const PqColumnDesc *col);
} PqReader;

/* One column's values for a batch of rows. */
typedef struct PqColumnVector
{
	int64		nrows;
	bool	   *row_null;		/* [nrows] */
	int64	   *offsets;		/* lists: [nrows+1] element offsets */
	bool	   *elem_null;		/* lists: [nvalues] */
	int64		nvalues;		/* value slots: nrows (flat) or elements (list) */
	int			width;			/* bytes per fixed value (bool: 1, INT96: 12) */
	uint8	   *fixed;			/* [nvalues * width] for non-binary types */
	PqBytes    *bin;			/* [nvalues] for BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY */
	int64		cap;			/* (internal) allocated value slots */
} PqColumnVector;

typedef struct PqBatch
{
	int64		nrows;
	int64	   *row_numbers;	/* file row number of each row */
	int			ncols;
	PqColumnVector *cols;		/* projection order */
} PqBatch;

/*
 * lo <= column <= hi on the physical value (PLAIN encoding bytes).
 * FLOAT/DOUBLE: statistics leave NaN out (the spec's rule), so a row group
 * or page may hold NaNs whatever its min/max say; with nan_matches the
 * caller's predicate also holds for NaN (Postgres sorts NaN above every
 * number: "x > 5" holds for it) and float statistics cannot exclude rows.
 */
typedef struct PqPredicate
{
	int			column;
	bool		has_lo;
	PqBytes		lo;
	bool		has_hi;
	PqBytes		hi;
	bool		nan_matches;
} PqPredicate;

/* Sorted, disjoint file row-number ranges [start[i], end[i]). */
typedef struct PqRowRanges
{
	int			n;
	int64	   *start;
	int64	   *end;
} PqRowRanges;

typedef struct PqScanStats
{
	int64		row_groups_total;
	int64		row_groups_skipped;
	int64		pages_read;
	int64		pages_skipped;
	int64		rows_skipped;	/* rows not returned thanks to page pruning */
} PqScanStats;

typedef struct PqScan PqScan;

extern PqReader *parquet_reader_open(ByteSource *src);
extern int	parquet_reader_column(PqReader *r, const char *name);

extern PqScan *parquet_scan_begin(PqReader *r, int ncols, const int *cols,
							 const PqPredicate *preds, int npreds, int batch_rows);
/*
 * The file rows whose row group statistics and ColumnIndex pages may match
 * every predicate (a superset of the matching rows; all rows where a chunk
 * has no page index).  Reads the ColumnIndex and OffsetIndex of the
 * predicate columns' chunks; counts row groups and pages excluded into
 * *stats (may be NULL).  Files with the same rows (the ColumnGroups of a
 * segment) can restrict their scans to the result.
 */
extern PqRowRanges *parquet_prune_rows(PqReader *r, const PqPredicate *preds, int npreds,
									   PqScanStats *stats);
/*
 * The rows of within whose values satisfy every predicate (a NULL never
 * does, a NaN when nan_matches; columns statistics cannot be used on always
 * do): reads the predicate columns' pages of those rows.  Files with the
 * same rows can then read only the matching rows; counts the pages read
 * and the rows dropped into *stats (may be NULL).
 */
extern PqRowRanges *parquet_match_rows(PqReader *r, const PqPredicate *preds, int npreds,
									   const PqRowRanges *within, PqScanStats *stats);
/* a := rows in both a and b (allocated in CurrentMemoryContext). */
extern void parquet_row_ranges_intersect(PqRowRanges *a, const PqRowRanges *b);
/* Restrict a scan, before its first batch, to the rows of ranges (copied). */
extern void parquet_scan_restrict(PqScan *s, const PqRowRanges *ranges);
extern PqBatch *parquet_scan_next(PqScan *s);
extern const PqScanStats *parquet_scan_stats(PqScan *s);
extern void parquet_scan_end(PqScan *s);

/*
 * The OffsetIndex of column col's chunk in every row group (NULL where a
 * chunk has none), checked against the chunk and kept by the reader: later
 * takes of the column need no request for them.  Read from the footer read
 * when they lie there, else in one request.
 */
extern PqOffsetIndex **parquet_reader_offset_indexes(PqReader *r, int col);

/* Rows by file row number (any order, duplicates allowed). */
extern PqBatch *parquet_take(PqReader *r, int ncols, const int *cols,
						const int64 *rows, int64 nrows);

/*
 * The stored bytes of column col for rows[0..n) (file row numbers, any
 * order, duplicates allowed) when every row group the rows touch holds the
 * column offset-computed (vector_cg.h: uncompressed PLAIN, an OffsetIndex,
 * no nulls, k fixed-width values per row) with k * width = rowbytes: row i's
 * bytes land at out + i * rowbytes, each distinct row read once, in file
 * order (the store coalesces near ranges), all in one request, without
 * decoding pages or using the decoded-page cache (a re-rank reads each row
 * once; the object store's caches keep the bytes).  Returns false — nothing
 * read — when some touched row group does not qualify: parquet_take is the
 * general path.  The caller interprets the bytes (values as stored).
 */
extern bool parquet_take_fixed(PqReader *r, int col, const int64 *rows, int64 n,
							   size_t rowbytes, char *out);

/* Whether range predicates on the column can use physical order. */
extern bool parquet_column_filterable(const PqColumnDesc *col);

/* Whether [lo, hi] statistics bytes may contain values matching p. */
extern bool parquet_stats_may_match(const PqColumnDesc *col, const PqPredicate *p,
							   const PqBytes *min, const PqBytes *max);

#endif							/* VLAKE_PARQUET_READER_H */
