/*
 * packed_reader.h — read a segment stored as several ColumnGroups.
 *
 * A segment covers a contiguous range of row IDs [first_row_id,
 * first_row_id + nrows); it is stored as ColumnGroup files (Parquet), each
 * holding some of the columns for every row of the range, in row-ID order
 * (file row number i is row ID first_row_id + i).  The packed reader
 * presents them as one table:
 *
 *   PackedReader *p = layout_packed_open(srcs, ngroups, first_row_id);
 *       first_row_id < 0: taken from the footers' vlake.first_row_id key;
 *       when both are known they must agree
 *   int c = layout_packed_column(p, "embedding");
 *   PackedScan *s = layout_packed_scan_begin(p, ncols, cols, 1024);
 *   while ((b = layout_packed_scan_next(s)))   b->row_numbers are row IDs
 *   PqBatch *t = layout_packed_take(p, ncols, cols, row_ids, n);
 *
 * Only the groups holding projected columns are scanned or taken from, and
 * within them only the projected columns' byte ranges (take: only the pages
 * holding the rows, via the OffsetIndex).  Opening reads each group's footer.
 *
 * Checks: every group has the same row count; a column name appears in one
 * group only (unless opened as patched); row IDs must fall inside the segment.  Errors name the files.
 */
#ifndef VLAKE_PACKED_READER_H
#define VLAKE_PACKED_READER_H

#include "postgres.h"

#include "parquet/parquet_reader.h"

typedef struct PackedColumn
{
	int			group;			/* index of the ColumnGroup */
	int			column;			/* column index within that group's file */
} PackedColumn;

typedef struct PackedReader
{
	int			ngroups;
	PqReader  **groups;
	int64		first_row_id;
	int64		nrows;
	int			ncolumns;
	PackedColumn *columns;		/* readable and unreadable columns, group order */
} PackedReader;

typedef struct PackedScan PackedScan;

extern PackedReader *layout_packed_open(ByteSource **srcs, int ngroups, int64 first_row_id);
/* patched: a column may appear in several groups (a column patch of a vlake
 * table's segment); every copy is a packed column, and layout_packed_column
 * names the last group's.  The caller's first_row_id is then authoritative
 * for files another engine wrote: their vlake.first_row_id key is not
 * checked against it (files vlake wrote must agree with it). */
extern PackedReader *layout_packed_open_patched(ByteSource **srcs, int ngroups,
												int64 first_row_id, bool patched);
extern int	layout_packed_column(PackedReader *p, const char *name);
extern const PqColumnDesc *layout_packed_column_desc(PackedReader *p, int column);
extern PqReader *layout_packed_column_reader(PackedReader *p, int column);

extern PackedScan *layout_packed_scan_begin(PackedReader *p, int ncols, const int *cols, int batch_rows);

/*
 * A scan of the rows whose pages may match every predicate (preds[].column:
 * packed columns, of any groups): each group holding predicate columns
 * prunes with its statistics and page index (parquet_prune_rows), and every
 * projected group reads only the rows that survive in all of them (only
 * their pages, when the group has an OffsetIndex).  When a projected group
 * holds no predicate column (a vector ColumnGroup), the rows of the kept
 * pages are first checked against the predicates (parquet_match_rows), so
 * that it reads only the matching rows' values.  Rows of skipped pages are
 * not returned; returned rows may still fail the predicates (no exact check
 * when every projected group holds predicate columns).
 */
extern PackedScan *layout_packed_scan_begin_pruned(PackedReader *p, int ncols, const int *cols,
												   const PqPredicate *preds, int npreds,
												   int batch_rows);
/* What the scan did so far: row groups and pages of its groups read and
 * skipped, rows skipped by pruning. */
extern void layout_packed_scan_stats(PackedScan *s, PqScanStats *out);
extern PqBatch *layout_packed_scan_next(PackedScan *s);
extern void layout_packed_scan_end(PackedScan *s);

extern PqBatch *layout_packed_take(PackedReader *p, int ncols, const int *cols,
							const int64 *row_ids, int64 n);

/* One column's stored bytes for row IDs, rowbytes each (parquet_take_fixed:
 * false, nothing read, when the column's file does not allow it). */
extern bool layout_packed_take_fixed(PackedReader *p, int col, const int64 *row_ids,
									 int64 n, size_t rowbytes, char *out);

#endif							/* VLAKE_PACKED_READER_H */
