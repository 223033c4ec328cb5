/*
 * vltab_segment.h — the files of one segment of a vlake table: writing a
 * batch of rows as ColumnGroup files, and reading them back (scan of the
 * projected columns, take by row ID).  Layer "tableam".
 *
 * A segment holds the rows with row IDs [first_row_id, first_row_id + n),
 * in row-ID order, split into ColumnGroups (vltab_group_plan):
 *   - group 0 "scalar": every fixed-width and short variable-width column
 *     (zstd Parquet, statistics, page index);
 *   - one vector ColumnGroup per vector/halfvec column (layout/vector_cg.h:
 *     take by row ID in a few small range reads);
 *   - one "long_text" group per text/varchar/bytea/json(b) column with no
 *     declared length limit or a limit above VLTAB_SHORT_TEXT_BYTES, per
 *     column of any other varlena type of unbounded size (arrays,
 *     composites, ...), and per vector/halfvec column without a dimension
 *     (a plain Parquet file: a vector ColumnGroup needs a fixed dimension).
 * The plan is automatic; a user may move a variable-width column into the
 * scalar group or give it a file of its own (vlake.set_column_group, kept
 * in vlake.column_groups, passed as vltab_segment_begin_grouped's groups).
 * Details: docs/tables.md, "Segment files".
 * Every file is a valid Parquet file (DuckDB reads it); the Parquet field
 * id of a column is its attnum, so renames never break old files.  Every
 * Postgres type round-trips exactly: types pgmap maps exactly are stored
 * natively (docs/parquet-layout.md; infinite dates and timestamps as
 * DuckDB's sentinels); other types (numeric, enums, composites, arrays,
 * jsonb, ...) as their text output, listed in the footer key
 * "vlake.text_output" and read back with the input function.
 * Dropped columns are not written.  A column the segment's files do not
 * have (added after the segment was written) reads as NULL.  The database
 * must be UTF8.
 *
 * File names: "<segment prefix>/<group name>.parquet" where the segment
 * prefix is a lake part (lake_part.h) under the dataset root; paths
 * returned are relative to the dataset root.
 *
 * Memory: everything in CurrentMemoryContext at the call; the writer and
 * the reader own a child context each, freed by finish / close.
 * Errors: unreadable or inconsistent files ERROR through lake_report
 * (layout/parquet readers), naming the file.
 */
#ifndef VLAKE_VLTAB_SEGMENT_H
#define VLAKE_VLTAB_SEGMENT_H

#include "postgres.h"

#include "access/attnum.h"
#include "access/tupdesc.h"
#include "nodes/bitmapset.h"

#define VLTAB_SHORT_TEXT_BYTES 256	/* varchar(n) with n <= this is "short" */
#define VLTAB_PAGE_BYTES (16 * 1024)	/* target page size of non-vector groups */
extern int	vltab_page_bytes;	/* GUC vlake.segment_page_bytes (tests: many pages) */

typedef enum VltabGroupKind
{
	VLTAB_GROUP_SCALAR,			/* manifest layout "parquet" */
	VLTAB_GROUP_VECTOR,			/* "vector_cg" */
	VLTAB_GROUP_LONG_TEXT		/* "long_text" */
} VltabGroupKind;

/*
 * Statistics of one column in one file (manifest "stats"): every column has
 * its null count; natively stored scalar-group columns also min/max, in the
 * text forms of docs/manifest.md (dates: days, timestamps: µs since 1970;
 * none for a float column holding NaN).
 */
typedef struct VltabColumnStats
{
	AttrNumber	attnum;
	int64		null_count;
	char	   *min;			/* NULL: none; text per docs/manifest.md */
	char	   *max;			/* set iff min is */
} VltabColumnStats;

/* One ColumnGroup file of a segment (catalog vlake.files, manifest group). */
typedef struct VltabSegmentFile
{
	int			group_no;		/* 0.. in the segment */
	VltabGroupKind kind;
	char	   *path;			/* relative to the dataset root */
	int			natts;
	AttrNumber *attnums;		/* columns it holds, ascending */
	int64		size;
	char	   *etag;			/* "" when the store gives none */
	int64		row_count;
	int64		purged_rows;	/* deleted rows a compaction erased (NULL
								 * placeholders); vlake.files only */
	int			nstats;
	VltabColumnStats *stats;	/* one per column of the file (attnums order);
								 * the reader ignores them */
	/*
	 * The file's object list (manifest group "objects"): written beside a
	 * file holding objref columns, one row per non-null reference, sorted by
	 * (uri, row_id); NULL objects_path: none (a file without objref
	 * columns, or one another engine wrote without a list).
	 */
	char	   *objects_path;	/* relative to the dataset root */
	int64		objects_size;
	char	   *objects_etag;
	int64		objects_count;
} VltabSegmentFile;

/*
 * A segment's files may hold a column more than once: a column patch (a
 * backfill, an UPDATE folded back into its rows) adds a file with a higher
 * group_no, whose copy supersedes the earlier ones.  The index of the file
 * whose copy of attnum is read, or -1 when no file holds it.
 */
extern int	vltab_segment_file_of(const VltabSegmentFile *files, int nfiles, AttrNumber attnum);

/* ---- writing ---- */
typedef struct VltabSegmentWriter VltabSegmentWriter;

/*
 * root: dataset root URI ending in '/'; prefix: the segment's part prefix
 * relative to root (no trailing '/').  The writer opens one file per group
 * and streams rows into them; nothing is visible until finish.  Rows get
 * row IDs first_row_id, first_row_id + 1, ... in the order added; values
 * may be TOASTed.  On an ERROR during add or finish, call abort (files
 * finished before the error stay; they are unreferenced parts for GC).
 * The ETag of each file comes from a head request after it is finished
 * (objstore_writer_finish returns none).
 */
extern VltabSegmentWriter *vltab_segment_begin(const char *root, const char *prefix,
											   TupleDesc desc, int64 first_row_id);
/* The same with a user's group choice per column (groups[attnum - 1]: 'a'
 * automatic, 's' scalar group, 'o' a file of its own; NULL: all automatic;
 * see vlake.set_column_group in docs/tables.md). */
extern VltabSegmentWriter *vltab_segment_begin_grouped(const char *root, const char *prefix,
													   TupleDesc desc, int64 first_row_id,
													   const char *groups);
extern void vltab_segment_add(VltabSegmentWriter *w, Datum *values, bool *isnull);
/* Finishes every file; returns them (*nfiles set). */
extern VltabSegmentFile *vltab_segment_finish(VltabSegmentWriter *w, int *nfiles);
/* Aborts every open file (nothing visible); safe after an ERROR. */
extern void vltab_segment_abort(VltabSegmentWriter *w);

/* ---- reading ---- */
typedef struct VltabSegmentReader VltabSegmentReader;
typedef struct VltabSegmentScan VltabSegmentScan;

/*
 * files as the catalog lists them (path, attnums, size, etag, row_count;
 * stats unused).  Opens nothing: each scan or take opens, on first use, only
 * the files holding its attrs (attnums; NULL = none), and reads the
 * versions named by size and ETag (objstore_get_ranges_known: no head
 * requests; an ERROR if a file was replaced).  With size 0 a file is opened
 * by URI (one head request).
 */
extern VltabSegmentReader *vltab_segment_open(const char *root, TupleDesc desc,
											  int64 first_row_id, int64 row_count,
											  const VltabSegmentFile *files, int nfiles);
extern void vltab_segment_close(VltabSegmentReader *r);

/*
 * Scan: rows in row-ID order; fills values/isnull (desc->natts entries) for
 * the attnums in attrs, NULL for the others.  Returns false at the end.
 * Reads only the groups holding those columns.
 */
extern VltabSegmentScan *vltab_segment_scan_begin(VltabSegmentReader *r, Bitmapset *attrs);
/*
 * A condition lo <= column <= hi for page skipping, in the statistics'
 * units of VltabColumnStats (integers, booleans as 0/1, dates as days and
 * timestamps as µs since 1970; floats as doubles).  nan_matches: NaN
 * satisfies the scan's condition too (Postgres sorts NaN above every
 * number), so float pages cannot be excluded by their min/max.
 */
typedef struct VltabRange
{
	AttrNumber	attnum;
	bool		is_float;
	bool		has_lo;
	bool		has_hi;
	int64		lo_i;
	int64		hi_i;
	double		lo_f;
	double		hi_f;
	bool		nan_matches;
} VltabRange;

/* What segment scans read and skipped (page skipping, bytes). */
typedef struct VltabScanCounts
{
	int64		pages_read;
	int64		pages_skipped;
	int64		rows_skipped;
	int64		bytes_read;
} VltabScanCounts;

/*
 * A scan that skips the pages of the scalar group whose ColumnIndex
 * excludes a range (on natively stored columns of matching physical type;
 * others are ignored), and reads of the other projected groups only the
 * rows that survive.  Rows of skipped pages are not returned; returned rows
 * may still fail the ranges.
 */
extern VltabSegmentScan *vltab_segment_scan_begin_pruned(VltabSegmentReader *r, Bitmapset *attrs,
														 const VltabRange *ranges, int nranges);
/* Adds what the scan read so far (pages, rows) to *counts. */
extern void vltab_segment_scan_counts(VltabSegmentScan *s, VltabScanCounts *counts);
/* Bytes the reader's files have read from the store so far. */
extern int64 vltab_segment_bytes_read(VltabSegmentReader *r);

/* values stay valid until the next call or scan_end. */
extern bool vltab_segment_scan_next(VltabSegmentScan *s, int64 *row_id,
									Datum *values, bool *isnull);
extern void vltab_segment_scan_end(VltabSegmentScan *s);

/* Take: one row by row ID (inside the segment), same filling rules; the
 * values stay valid until the reader's next take. */
extern void vltab_segment_take(VltabSegmentReader *r, Bitmapset *attrs, int64 row_id,
							   Datum *values, bool *isnull);

/*
 * Take of n rows (row IDs inside the segment, any order) in one request per
 * ColumnGroup: row k's values at values[k * natts], isnull likewise (n x
 * natts entries), allocated in the caller's CurrentMemoryContext, so they
 * outlive the reader's next take.
 */
extern void vltab_segment_take_rows(VltabSegmentReader *r, Bitmapset *attrs,
									const int64 *row_ids, int n,
									Datum *values, bool *isnull);

/*
 * Take of a vector or halfvec column's values as stored, for row IDs inside
 * the segment (any order): returns the rows' bytes, row k's dim
 * little-endian float32 (vector) or float16 (halfvec: *half set) values at
 * k * dim * (4 or 2), held by the reader until its next take; read without
 * decoding pages or building Datums (the re-rank of a vlake index reads
 * here).  Returns NULL — nothing read — when the rows cannot be read so: no
 * file holds the column, it may hold nulls, another dimension or layout
 * than a vector ColumnGroup, a big-endian build; vltab_segment_take_rows
 * is the general path.  ERROR for NaN or infinity in a vector (as the
 * Datum path).  A later vltab_segment_take of one of these rows (ascending
 * row IDs, up to 1 MB) builds that column's Datum from the bytes kept here
 * instead of reading them again.
 */
extern const char *vltab_segment_take_fixed(VltabSegmentReader *r, AttrNumber attnum,
											const int64 *row_ids, int n, int dim,
											bool *half);

#endif							/* VLAKE_VLTAB_SEGMENT_H */
