/*
 * packed_reader.c — one table over a segment's ColumnGroups (see
 * packed_reader.h).
 *
 * Scans run one parquet_scan per touched group with the same batch size; since
 * parquet_scan_next fills every batch but the last completely, across row-group
 * boundaries, the groups' batches line up row for row and are zipped into
 * one batch.  Takes run parquet_take per touched group and zip the results.
 */
#include "postgres.h"

#include <errno.h>
#include <stdlib.h>

#include "utils/memutils.h"

#include "lake/lake_error.h"
#include "layout/layout_keys.h"
#include "layout/packed_reader.h"

PackedReader *
layout_packed_open(ByteSource **srcs, int ngroups, int64 first_row_id)
{
	return layout_packed_open_patched(srcs, ngroups, first_row_id, false);
}

PackedReader *
layout_packed_open_patched(ByteSource **srcs, int ngroups, int64 first_row_id, bool patched)
{
	PackedReader *p = palloc0(sizeof(PackedReader));
	int			total = 0;

	if (ngroups < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a segment needs at least one ColumnGroup file")));
	p->ngroups = ngroups;
	p->groups = palloc(sizeof(PqReader *) * ngroups);
	for (int g = 0; g < ngroups; g++)
	{
		int64		declared;

		p->groups[g] = parquet_reader_open(srcs[g]);
		layout_reader_init(p->groups[g]);
		/*
		 * the writer records the row ID of row 0 (footer key
		 * vlake.first_row_id).  A table's segment (patched) has its range in
		 * the catalog and manifest, which are authoritative for another
		 * engine's file: a merge may have given its rows other row IDs than
		 * the file says (docs/manifest.md); a file vlake wrote must agree.
		 */
		declared = layout_first_row_id(p->groups[g]->meta, p->groups[g]->name);
		if (patched && declared >= 0 && !layout_written_by_vlake(p->groups[g]->meta))
			declared = -1;
		if (declared >= 0)
		{
			if (first_row_id < 0)
				first_row_id = declared;
			else if (declared != first_row_id)
				lake_corrupt("ColumnGroup", p->groups[g]->name, "it starts at row ID %lld, not %lld",
							 (long long) declared, (long long) first_row_id);
		}
		if (g > 0 && p->groups[g]->meta->num_rows != p->nrows)
			lake_corrupt("ColumnGroup", p->groups[g]->name,
						 "it has %lld rows but \"%s\" has %lld; the groups of a segment must cover the same rows",
						 (long long) p->groups[g]->meta->num_rows, p->groups[0]->name, (long long) p->nrows);
		p->nrows = p->groups[g]->meta->num_rows;
		total += p->groups[g]->ncolumns;
	}
	if (first_row_id < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the segment's first row ID is unknown"),
				 errhint("Pass it, or write the ColumnGroups with the first_row_id option.")));
	p->first_row_id = first_row_id;
	if (p->nrows > PG_INT64_MAX - first_row_id)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("row IDs of the segment overflow")));
	p->columns = palloc(sizeof(PackedColumn) * Max(total, 1));
	for (int g = 0; g < ngroups; g++)
	{
		for (int c = 0; c < p->groups[g]->ncolumns; c++)
		{
			const char *name = p->groups[g]->columns[c].name;

			if (!patched && layout_packed_column(p, name) >= 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" appears in more than one ColumnGroup (\"%s\" and \"%s\")",
								name, layout_packed_column_reader(p, layout_packed_column(p, name))->name,
								p->groups[g]->name)));
			p->columns[p->ncolumns].group = g;
			p->columns[p->ncolumns].column = c;
			p->ncolumns++;
		}
	}
	return p;
}

int
layout_packed_column(PackedReader *p, const char *name)
{
	/* the last: a later group's column shadows an earlier one (patched) */
	for (int i = p->ncolumns - 1; i >= 0; i--)
		if (strcmp(layout_packed_column_desc(p, i)->name, name) == 0)
			return i;
	return -1;
}

const PqColumnDesc *
layout_packed_column_desc(PackedReader *p, int column)
{
	PackedColumn *pc = &p->columns[column];

	return &p->groups[pc->group]->columns[pc->column];
}

PqReader *
layout_packed_column_reader(PackedReader *p, int column)
{
	return p->groups[p->columns[column].group];
}

/* Per touched group: which projected columns it serves. */
typedef struct GroupPart
{
	int			group;
	int			ncols;
	int		   *cols;			/* column indexes in the group's file */
	int		   *out;			/* their positions in the projection */
} GroupPart;

static GroupPart *
split_projection(PackedReader *p, int ncols, const int *cols, int *nparts)
{
	GroupPart  *parts = palloc0(sizeof(GroupPart) * p->ngroups);
	int			n = 0;

	for (int g = 0; g < p->ngroups; g++)
	{
		GroupPart  *gp = &parts[n];

		gp->group = g;
		gp->cols = palloc(sizeof(int) * Max(ncols, 1));
		gp->out = palloc(sizeof(int) * Max(ncols, 1));
		for (int i = 0; i < ncols; i++)
		{
			if (cols[i] < 0 || cols[i] >= p->ncolumns)
				elog(ERROR, "packed reader: column %d out of range", cols[i]);
			if (p->columns[cols[i]].group == g)
			{
				gp->cols[gp->ncols] = p->columns[cols[i]].column;
				gp->out[gp->ncols++] = i;
			}
		}
		if (gp->ncols > 0)
			n++;
	}
	*nparts = n;
	return parts;
}

struct PackedScan
{
	PackedReader *p;
	int			ncols;
	int			nparts;
	GroupPart  *parts;
	PqScan	  **scans;
	MemoryContext cxt;
	PqBatch    *batch;
	PqScanStats prune;			/* of parquet_prune_rows */
};

PackedScan *
layout_packed_scan_begin(PackedReader *p, int ncols, const int *cols, int batch_rows)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "packed scan",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	PackedScan *s = palloc0(sizeof(PackedScan));

	s->p = p;
	s->cxt = cxt;
	s->ncols = ncols;
	s->parts = split_projection(p, ncols, cols, &s->nparts);
	s->scans = palloc(sizeof(PqScan *) * Max(s->nparts, 1));
	for (int i = 0; i < s->nparts; i++)
		s->scans[i] = parquet_scan_begin(p->groups[s->parts[i].group], s->parts[i].ncols,
									s->parts[i].cols, NULL, 0, batch_rows);
	s->batch = palloc0(sizeof(PqBatch));
	s->batch->ncols = ncols;
	s->batch->cols = palloc0(sizeof(PqColumnVector) * Max(ncols, 1));
	MemoryContextSwitchTo(old);
	return s;
}

/* The predicates on group g's columns, as columns of its file (*n);
 * preds[].column checked by the caller. */
static PqPredicate *
group_predicates(PackedReader *p, int g, const PqPredicate *preds, int npreds, int *n)
{
	PqPredicate *mine = palloc(sizeof(PqPredicate) * Max(npreds, 1));

	*n = 0;
	for (int i = 0; i < npreds; i++)
	{
		if (p->columns[preds[i].column].group != g)
			continue;
		mine[*n] = preds[i];
		mine[(*n)++].column = p->columns[preds[i].column].column;
	}
	return mine;
}

/*
 * The rows every group holding predicate columns may match (file rows).
 * exact: then also drop the rows of kept pages whose values fail a
 * predicate (reading those pages of the predicate columns once more), so
 * that groups without predicate columns read only matching rows.
 */
static PqRowRanges *
prune_groups(PackedReader *p, const PqPredicate *preds, int npreds, bool exact,
			 PqScanStats *stats)
{
	PqRowRanges *all = NULL;

	for (int g = 0; g < p->ngroups; g++)
	{
		int			n;
		PqPredicate *mine = group_predicates(p, g, preds, npreds, &n);
		PqRowRanges *rows;

		if (n == 0)
			continue;
		rows = parquet_prune_rows(p->groups[g], mine, n, stats);
		if (all == NULL)
			all = rows;
		else
			parquet_row_ranges_intersect(all, rows);
	}
	for (int g = 0; exact && all != NULL && g < p->ngroups; g++)
	{
		int			n;
		PqPredicate *mine = group_predicates(p, g, preds, npreds, &n);

		if (n > 0)
			all = parquet_match_rows(p->groups[g], mine, n, all, stats);
	}
	return all;
}

/* Does a projected group hold none of the predicate columns? */
static bool
reads_other_groups(PackedScan *s, const PqPredicate *preds, int npreds)
{
	for (int i = 0; i < s->nparts; i++)
	{
		bool		has = false;

		for (int k = 0; k < npreds && !has; k++)
			has = (s->p->columns[preds[k].column].group == s->parts[i].group);
		if (!has)
			return true;
	}
	return false;
}

PackedScan *
layout_packed_scan_begin_pruned(PackedReader *p, int ncols, const int *cols,
								const PqPredicate *preds, int npreds, int batch_rows)
{
	PackedScan *s = layout_packed_scan_begin(p, ncols, cols, batch_rows);
	MemoryContext old = MemoryContextSwitchTo(s->cxt);
	PqRowRanges *rows;

	if (npreds == 0)
	{
		MemoryContextSwitchTo(old);
		return s;
	}
	for (int i = 0; i < npreds; i++)
		if (preds[i].column < 0 || preds[i].column >= p->ncolumns)
			elog(ERROR, "packed reader: column %d out of range", preds[i].column);
	rows = prune_groups(p, preds, npreds, reads_other_groups(s, preds, npreds), &s->prune);
	/* the scans read the same rows: their batches stay aligned */
	for (int i = 0; i < s->nparts; i++)
		parquet_scan_restrict(s->scans[i], rows);
	MemoryContextSwitchTo(old);
	return s;
}

void
layout_packed_scan_stats(PackedScan *s, PqScanStats *out)
{
	*out = s->prune;
	for (int i = 0; i < s->nparts; i++)
	{
		const PqScanStats *st = parquet_scan_stats(s->scans[i]);

		out->row_groups_total += st->row_groups_total;
		out->row_groups_skipped += st->row_groups_skipped;
		out->pages_read += st->pages_read;
	}
}

PqBatch *
layout_packed_scan_next(PackedScan *s)
{
	PqBatch    *out = s->batch;

	if (s->nparts == 0)
		return NULL;			/* nothing projected */
	for (int i = 0; i < s->nparts; i++)
	{
		PqBatch    *b = parquet_scan_next(s->scans[i]);
		int64		n = b ? b->nrows : 0;

		if (i == 0)
		{
			if (b == NULL)
				return NULL;
			out->nrows = n;
			out->row_numbers = b->row_numbers;	/* rewritten to row IDs below */
		}
		else if (n != out->nrows)
			lake_corrupt("ColumnGroup", s->p->groups[s->parts[i].group]->name,
						 "it went out of step with \"%s\" during a scan",
						 s->p->groups[s->parts[0].group]->name);
		for (int k = 0; k < s->parts[i].ncols; k++)
			out->cols[s->parts[i].out[k]] = b->cols[k];
	}
	for (int64 k = 0; k < out->nrows; k++)
		out->row_numbers[k] += s->p->first_row_id;
	return out;
}

void
layout_packed_scan_end(PackedScan *s)
{
	for (int i = 0; i < s->nparts; i++)
		parquet_scan_end(s->scans[i]);
	MemoryContextDelete(s->cxt);
}

/* Row IDs to file row numbers, ERROR for one outside the segment. */
static int64 *
file_rows(PackedReader *p, const int64 *row_ids, int64 n)
{
	int64	   *rows = palloc(sizeof(int64) * Max(n, 1));

	for (int64 k = 0; k < n; k++)
	{
		if (row_ids[k] < p->first_row_id || row_ids[k] - p->first_row_id >= p->nrows)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("row ID %lld is outside the segment's rows %lld..%lld",
							(long long) row_ids[k], (long long) p->first_row_id,
							(long long) (p->first_row_id + p->nrows - 1))));
		rows[k] = row_ids[k] - p->first_row_id;
	}
	return rows;
}

bool
layout_packed_take_fixed(PackedReader *p, int col, const int64 *row_ids, int64 n,
						 size_t rowbytes, char *out)
{
	int64	   *rows;
	bool		ok;

	if (col < 0 || col >= p->ncolumns)
		elog(ERROR, "packed reader: column %d out of range", col);
	rows = file_rows(p, row_ids, n);
	ok = parquet_take_fixed(p->groups[p->columns[col].group], p->columns[col].column,
							rows, n, rowbytes, out);
	pfree(rows);
	return ok;
}

PqBatch *
layout_packed_take(PackedReader *p, int ncols, const int *cols, const int64 *row_ids, int64 n)
{
	int			nparts;
	GroupPart  *parts = split_projection(p, ncols, cols, &nparts);
	int64	   *rows = file_rows(p, row_ids, n);
	PqBatch    *out = palloc0(sizeof(PqBatch));

	out->nrows = n;
	out->ncols = ncols;
	out->cols = palloc0(sizeof(PqColumnVector) * Max(ncols, 1));
	out->row_numbers = palloc(sizeof(int64) * Max(n, 1));
	for (int64 k = 0; k < n; k++)
		out->row_numbers[k] = row_ids[k];
	for (int i = 0; i < nparts; i++)
	{
		PqBatch    *b = parquet_take(p->groups[parts[i].group], parts[i].ncols, parts[i].cols, rows, n);

		for (int k = 0; k < parts[i].ncols; k++)
			out->cols[parts[i].out[k]] = b->cols[k];
	}
	return out;
}
