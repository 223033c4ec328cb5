/*
 * vltab_patch.c — column patches: new values for some columns of a
 * segment's rows, written as new ColumnGroup files of that segment without
 * touching its other files.
 *
 * A patch of columns A of segment S writes one file set (the automatic
 * group plan restricted to A: scalar columns in one Parquet file, each
 * vector or long column in a file of its own) holding A for EVERY row of
 * S in row-ID order: the new values of the rows given, the current values
 * of the others (read through the segment reader, so earlier patches and
 * ADD COLUMN defaults are honoured).  The files get group numbers above
 * S's existing ones, so readers take A from them (vltab_segment_file_of);
 * a file none of whose live columns is read any more leaves the catalog.
 * Row IDs, and so TIDs and index entries, do not change.
 *
 * Why readers stay right: the new vlake.files rows (and the deletions of
 * superseded ones) are catalog rows of the writing transaction, so exactly
 * the snapshots that see it committed read A from the patch; older ones
 * keep the old file list, whose files the lake GC keeps while a snapshot
 * can still see a row naming them (lake_part.h).  A crash before the
 * commit leaves a part no catalog row names, which GC removes.
 */
#include "postgres.h"

#include "access/tupdesc.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "lake/lake_fault.h"
#include "lake/lake_part.h"
#include "objstore/objstore.h"
#include "tableam/vltab.h"
#include "tableam/vltab_patch.h"

struct VltabPatch
{
	Relation	rel;
	VltabDataset *ds;
	const VltabSegment *seg;
	Bitmapset  *attrs;
	char	   *prefix;
	VltabSegmentWriter *w;
	VltabSegmentReader *r;
	VltabSegmentScan *scan;		/* the current values of attrs */
	int64		next;			/* next row ID to write */
	Datum	   *values;
	bool	   *isnull;
	MemoryContext cxt;
};

/* rel's row type with every column but attrs marked dropped (not written) */
static TupleDesc
patch_desc(Relation rel, Bitmapset *attrs)
{
	TupleDesc	desc = CreateTupleDescCopy(RelationGetDescr(rel));

	for (int a = 0; a < desc->natts; a++)
		if (!bms_is_member(a + 1, attrs))
			TupleDescAttr(desc, a)->attisdropped = true;
	return desc;
}

VltabPatch *
vltab_patch_begin(Relation rel, VltabDataset *ds, const VltabSegment *seg, Bitmapset *attrs)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake column patch",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	VltabPatch *p = palloc0(sizeof(VltabPatch));
	int			natts = RelationGetDescr(rel)->natts;
	ObjStore   *store;

	p->cxt = cxt;
	p->rel = rel;
	p->ds = ds;
	p->seg = seg;
	p->attrs = bms_copy(attrs);
	p->next = seg->first_row_id;
	p->values = palloc(sizeof(Datum) * Max(natts, 1));
	p->isnull = palloc(sizeof(bool) * Max(natts, 1));
	p->prefix = lake_part_new_prefix(&vltab_part_kind, RelationGetRelid(rel));
	store = objstore_open(ds->root);
	lake_part_begin(store, p->prefix, &vltab_part_kind);
	objstore_close(store);
	p->w = vltab_segment_begin_grouped(ds->root, p->prefix, patch_desc(rel, attrs),
									   seg->first_row_id, vltab_column_groups(rel));
	p->r = vltab_segment_open(ds->root, RelationGetDescr(rel), seg->first_row_id,
							  seg->row_count, seg->files, seg->nfiles);
	p->scan = vltab_segment_scan_begin(p->r, p->attrs);
	MemoryContextSwitchTo(old);
	return p;
}

/* The current values of the next row (the scan's), into p->values. */
static void
read_current(VltabPatch *p)
{
	int64		row_id;

	if (!vltab_segment_scan_next(p->scan, &row_id, p->values, p->isnull) || row_id != p->next)
		elog(ERROR, "vlake column patch of \"%s\": segment " INT64_FORMAT " ended or skipped at row ID " INT64_FORMAT,
			 RelationGetRelationName(p->rel), p->seg->segment_id, p->next);
}

/* Copy the current values of the rows before end. */
static void
copy_until(VltabPatch *p, int64 end)
{
	MemoryContext old = MemoryContextSwitchTo(p->cxt);

	while (p->next < end)
	{
		CHECK_FOR_INTERRUPTS();
		read_current(p);
		vltab_segment_add(p->w, p->values, p->isnull);
		p->next++;
	}
	MemoryContextSwitchTo(old);
}

void
vltab_patch_set(VltabPatch *p, int64 row_id, Datum *values, bool *isnull)
{
	MemoryContext old;

	if (row_id < p->next || row_id >= p->seg->first_row_id + p->seg->row_count)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("row ID " INT64_FORMAT " of \"%s\" is given a new value twice, or is not in segment " INT64_FORMAT,
						row_id, RelationGetRelationName(p->rel), p->seg->segment_id),
				 errhint("A source of new column values must give each row at most one value.")));
	copy_until(p, row_id);
	old = MemoryContextSwitchTo(p->cxt);
	read_current(p);			/* the row's old values: replaced */
	vltab_segment_add(p->w, values, isnull);
	p->next++;
	MemoryContextSwitchTo(old);
}

int64
vltab_patch_finish(VltabPatch *p)
{
	const VltabSegment *seg = p->seg;
	TupleDesc	desc = RelationGetDescr(p->rel);
	VltabSegmentFile *files,
			   *all;
	int			nfiles,
				nall,
				base = 0,
				ndrop = 0;
	int		   *drop;
	int64		bytes = 0;
	MemoryContext old;

	copy_until(p, seg->first_row_id + seg->row_count);
	old = MemoryContextSwitchTo(p->cxt);
	vltab_segment_scan_end(p->scan);
	vltab_segment_close(p->r);
	files = vltab_segment_finish(p->w, &nfiles);
	p->w = NULL;
	lake_fault("patch_after_files");
	for (int f = 0; f < seg->nfiles; f++)
		base = Max(base, seg->files[f].group_no + 1);
	nall = seg->nfiles + nfiles;
	all = palloc(sizeof(VltabSegmentFile) * Max(nall, 1));
	memcpy(all, seg->files, sizeof(VltabSegmentFile) * seg->nfiles);
	for (int i = 0; i < nfiles; i++)
	{
		files[i].group_no = base + i;
		bytes += files[i].size + files[i].objects_size;
		all[seg->nfiles + i] = files[i];
	}
	/* an old file none of whose live columns is read any more goes */
	drop = palloc(sizeof(int) * Max(seg->nfiles, 1));
	for (int f = 0; f < seg->nfiles; f++)
	{
		bool		used = false;

		for (int i = 0; i < seg->files[f].natts && !used; i++)
		{
			AttrNumber	an = seg->files[f].attnums[i];

			used = an >= 1 && an <= desc->natts && !TupleDescAttr(desc, an - 1)->attisdropped &&
				vltab_segment_file_of(all, nall, an) == f;
		}
		if (!used)
			drop[ndrop++] = seg->files[f].group_no;
	}
	vltab_files_patch(p->ds, seg->segment_id, files, nfiles, drop, ndrop);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(p->cxt);
	return bytes;
}
