/*
 * vltab_am.c — the vlake table access method: heap's routine for the delta,
 * with every callback that meets a lake row (a TID at or past
 * LAKE_ROWID_BLOCK0, lake_rowref.h) or must see lake rows (scans, index
 * builds, size estimates, TRUNCATE) overridden.
 *
 * Why heap for the delta (docs/design/tables.md): its MVCC, row locks,
 * multixacts, update chains and WAL are correct and replicated already.
 * Heap code that insists on a heap relation (heap_getnext) runs through
 * VLTAB_AS_HEAP, which presents the relation as heap for the call only.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/parallel.h"
#include "pgstat.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/tsmapi.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/tidbitmap.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "access/xloginsert.h"
#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "catalog/pg_class.h"

#include "lake/lake_rowref.h"
#include "tableam/vltab.h"
#include "tableam/vltab_index.h"
#include "vector/half.h"

static void ensure_delta_block(Relation rel);
static VltabSegmentReader *cached_reader(Relation rel, const char *root, VltabSegment *seg);

static TableAmRoutine routine;
static bool routine_ready = false;
static const TableAmRoutine *heap;

/* ------------------------------------------------------------- scans -- */

typedef struct VltabParallelScan
{
	ParallelBlockTableScanDescData heap;	/* first: heap's code casts */
	pg_atomic_uint64 next_segment;
} VltabParallelScan;

typedef struct VltabScanDesc
{
	TableScanDescData base;
	TableScanDesc delta;		/* heap's scan of the main fork */
	bool		delta_done;
	bool		lake_started;
	bool		travel;			/* a past version (vltab_travel.c): no delta */
	MemoryContext cxt;			/* lake state */
	VltabSegmentList *segs;
	int64	   *deleted;		/* sorted deleted row IDs (snapshot's view) */
	int64		ndeleted;
	int			seg_next;		/* serial: next segment index */
	VltabSegmentReader *reader;
	VltabSegmentScan *sscan;
	Bitmapset  *attrs;			/* columns the scan needs, if projected */
	bool		projected;		/* else: every column */
	Bitmapset  *want;			/* attrs, or all columns (in cxt) */
	List	   *bounds;			/* VltabBound: skip segments and pages */
	VltabScanCounts counts;		/* of the current segment's reader */
	bool		count_only;		/* no column wanted: rows from row ranges */
	int64		next_row;		/* count_only: position in the segment */
	int64		end_row;
	Datum	   *values;
	bool	   *isnull;
	TupleDesc	rowdesc;		/* lake rows are read as (see lake_row_desc) */
	/* ANALYZE's sample of lake rows */
	int64	   *an_rows;
	int64		an_n;
	int64		an_i;
	double		an_weight;
	bool		an_done;
	bool		an_block_done;	/* heap's tuples of this block are over */
	/*
	 * Lake rows fetched a batch at a time (bitmap, TID range and sample
	 * scans, ANALYZE): bm_rows[bm_i .. bm_n) are still to be returned, their
	 * values in bt_values / bt_isnull (natts per row, in bt_cxt).
	 */
	int64		bm_rows[LAKE_ROWS_PER_BLOCK];
	int			bm_n;
	int			bm_i;
	MemoryContext bt_cxt;
	Datum	   *bt_values;
	bool	   *bt_isnull;
	/* TID range scans of lake rows: row IDs [tr_next, tr_end) remain */
	int64		tr_next;
	int64		tr_end;
	/* TABLESAMPLE: lake blocks are numbered after the delta's (see there) */
	bool		sm_lake;		/* the delta's blocks are over */
	BlockNumber sm_dblocks;		/* delta blocks: the first lake block's number */
	BlockNumber sm_nblocks;		/* lake blocks, from sm_first */
	int64		sm_first;		/* row ID of the first lake block's row 0 */
	BlockNumber sm_block;		/* the current lake block (its index) */
	BlockNumber sm_seq;			/* next lake block without NextSampleBlock */
} VltabScanDesc;

/* Is row_id among the n sorted deleted row IDs? (row IDs are >= 0: they
 * sort as the unsigned row references of lake_rowref.h) */
static bool
rowid_deleted(const int64 *deleted, int64 n, int64 row_id)
{
	return n > 0 && bsearch(&row_id, deleted, n, sizeof(int64), lake_rowref_cmp) != NULL;
}

/* The catalog's view: MVCC snapshots as they are; others see the latest. */
static Snapshot
catalog_snapshot_for(Snapshot snapshot)
{
	if (snapshot && IsMVCCSnapshot(snapshot))
		return snapshot;
	/*
	 * In parallel mode (a parallel index build's leader) there is no latest
	 * snapshot; the catalog snapshot, renewed when the relation's lock was
	 * taken, sees every lake writer that committed before it (they all hold
	 * a conflicting lock while they write).
	 */
	if (IsInParallelMode())
		return GetCatalogSnapshot(InvalidOid);
	return GetLatestSnapshot();
}

/* The NOT NULL columns of desc, as attnums. */
static Bitmapset *
not_null_attrs(TupleDesc desc)
{
	Bitmapset  *attrs = NULL;

	for (int i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->attnotnull && !TupleDescAttr(desc, i)->attisdropped)
			attrs = bms_add_member(attrs, i + 1);
	return attrs;
}

static void
lake_scan_start(VltabScanDesc *s)
{
	MemoryContext old = MemoryContextSwitchTo(s->cxt);
	Snapshot	snap = catalog_snapshot_for(s->base.rs_snapshot);
	Relation	rel = s->base.rs_rd;

	if (s->travel)
		s->segs = vltab_travel_segments(rel, snap, &s->deleted, &s->ndeleted);
	else
	{
		s->segs = vltab_segments_visible(RelationGetRelid(rel), snap);
		if (s->segs->nsegments > 0)
			s->deleted = vltab_rowstate_deleted(RelationGetRelid(rel), snap, &s->ndeleted);
	}
	vltab_scan_totals.scans++;
	s->values = palloc(sizeof(Datum) * RelationGetDescr(rel)->natts);
	s->isnull = palloc(sizeof(bool) * RelationGetDescr(rel)->natts);
	s->want = s->projected ? s->attrs : vltab_all_attrs(RelationGetDescr(rel));
	s->count_only = bms_is_empty(s->want);
	s->lake_started = true;
	MemoryContextSwitchTo(old);
}

static void
lake_scan_reset(VltabScanDesc *s)
{
	if (s->cxt)
		MemoryContextReset(s->cxt);
	s->segs = NULL;
	s->want = NULL;
	s->deleted = NULL;
	s->ndeleted = 0;
	s->seg_next = 0;
	s->reader = NULL;
	s->sscan = NULL;
	s->lake_started = false;
	s->delta_done = false;
	s->bm_n = s->bm_i = 0;
	s->bt_cxt = NULL;			/* a child of cxt: gone with its reset */
	s->an_rows = NULL;
	s->an_n = s->an_i = 0;
	s->an_done = false;
	s->tr_next = s->tr_end = 0;
	s->sm_lake = false;
	s->sm_nblocks = s->sm_seq = 0;
}

static int
claim_segment(VltabScanDesc *s)
{
	if (s->base.rs_parallel)
	{
		VltabParallelScan *p = (VltabParallelScan *) s->base.rs_parallel;

		return (int) pg_atomic_fetch_add_u64(&p->next_segment, 1);
	}
	return s->seg_next++;
}

/*
 * A delta tuple a flush moved to the lake is deleted by the flush; a
 * snapshot older than the flush still sees it.  If that snapshot's own
 * transaction then updated or deleted the row (its write went to the lake
 * copy, moved_to_lake), the delta tuple must not show up any more: it is
 * shadowed when the snapshot sees a row_states entry of the lake copy
 * other than the update whose new version the tuple is (a fold's origin).
 * Only tuples with a deleter the snapshot does not see are looked up.
 */
static bool
moved_and_changed(Relation rel, TupleTableSlot *slot, Snapshot snapshot)
{
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
	HeapTupleHeader h;
	TransactionId xmax;
	int64		row_id;

	if (snapshot == NULL || !IsMVCCSnapshot(snapshot) || bslot->base.tuple == NULL)
		return false;
	h = bslot->base.tuple->t_data;
	if ((h->t_infomask & HEAP_XMAX_INVALID) || HEAP_XMAX_IS_LOCKED_ONLY(h->t_infomask))
		return false;
	xmax = HeapTupleHeaderGetUpdateXid(h);
	if (!TransactionIdIsValid(xmax) || TransactionIdIsCurrentTransactionId(xmax))
		return false;
	row_id = vltab_moved_row(rel, &slot->tts_tid, xmax);
	if (row_id < 0)
		return false;
	/* not the update this tuple came from (a flush folded it back into
	 * row_id): that entry is older than the move, not a change after it */
	return vltab_rowstate_changed_besides(RelationGetRelid(rel), row_id, snapshot,
										  &slot->tts_tid);
}

VltabScanTotals vltab_scan_totals;

/* Add what the current segment scan read to the backend's counters. */
static void
count_segment_scan(VltabScanDesc *s)
{
	if (s->sscan && !s->count_only)
		vltab_segment_scan_counts(s->sscan, &s->counts);
}

/* Close the segment reader, counting the bytes its files read. */
static void
close_reader(VltabScanDesc *s)
{
	count_segment_scan(s);
	s->sscan = NULL;
	if (s->reader)
	{
		s->counts.bytes_read += vltab_segment_bytes_read(s->reader);
		vltab_segment_close(s->reader);
		s->reader = NULL;
	}
	vltab_scan_totals.io.pages_read += s->counts.pages_read;
	vltab_scan_totals.io.pages_skipped += s->counts.pages_skipped;
	vltab_scan_totals.io.rows_skipped += s->counts.rows_skipped;
	vltab_scan_totals.io.bytes_read += s->counts.bytes_read;
	memset(&s->counts, 0, sizeof(s->counts));
}

/* A scan of seg, skipping the pages its bounds exclude. */
static void
open_segment(VltabScanDesc *s, VltabSegment *seg)
{
	Relation	rel = s->base.rs_rd;
	MemoryContext old = MemoryContextSwitchTo(s->cxt);
	VltabRange *ranges;
	int			nranges;

	close_reader(s);
	ranges = vltab_prune_ranges(seg, s->bounds, &nranges);
	s->reader = vltab_segment_open(s->segs->root, s->rowdesc ? s->rowdesc : RelationGetDescr(rel),
								   seg->first_row_id, seg->row_count,
								   seg->files, seg->nfiles);
	s->sscan = vltab_segment_scan_begin_pruned(s->reader, s->want, ranges, nranges);
	MemoryContextSwitchTo(old);
}

/*
 * The row type lake rows of a scan are read as: the slot's when it has the
 * relation's number of columns (ALTER TABLE's rewrite reads the old rows
 * with the old row type, while the relation already has the new one; heap
 * reads its bytes through the slot's descriptor too), else the relation's.
 */
static TupleDesc
lake_row_desc(Relation rel, TupleTableSlot *slot)
{
	TupleDesc	sd = slot->tts_tupleDescriptor;

	return (sd && sd->natts == RelationGetDescr(rel)->natts) ? sd : RelationGetDescr(rel);
}

/* Form the lake row's tuple in slot: frozen-looking header, lake TID. */
static void
store_lake_row(Relation rel, int64 row_id, Datum *values, bool *isnull,
			   TupleTableSlot *slot)
{
	HeapTuple	tup;
	MemoryContext old;

	/*
	 * Formed in the slot's memory and handed to it as its own (what
	 * ExecForceStoreHeapTuple does for a buffer slot, without its copy of
	 * every row: scans of lake rows form one tuple per row).
	 */
	ExecClearTuple(slot);
	old = MemoryContextSwitchTo(slot->tts_mcxt);
	tup = heap_form_tuple(lake_row_desc(rel, slot), values, isnull);
	MemoryContextSwitchTo(old);
	HeapTupleHeaderSetXmin(tup->t_data, FrozenTransactionId);
	HeapTupleHeaderSetXminFrozen(tup->t_data);
	HeapTupleHeaderSetXmax(tup->t_data, InvalidTransactionId);
	tup->t_data->t_infomask |= HEAP_XMAX_INVALID;
	lake_rowid_to_tid((uint64) row_id, &tup->t_self);
	tup->t_data->t_ctid = tup->t_self;
	tup->t_tableOid = RelationGetRelid(rel);
	if (TTS_IS_BUFFERTUPLE(slot))
	{
		BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;

		bslot->base.tuple = tup;
		bslot->base.off = 0;
		slot->tts_nvalid = 0;
		slot->tts_flags &= ~TTS_FLAG_EMPTY;
		slot->tts_flags |= TTS_FLAG_SHOULDFREE;
	}
	else
		ExecForceStoreHeapTuple(tup, slot, true);
	slot->tts_tableOid = RelationGetRelid(rel);
	slot->tts_tid = tup->t_self;
}

static bool
lake_scan_next(VltabScanDesc *s, TupleTableSlot *slot)
{
	Relation	rel = s->base.rs_rd;

	if (!s->lake_started)
		lake_scan_start(s);
	if (s->rowdesc == NULL)
		s->rowdesc = lake_row_desc(rel, slot);
	for (;;)
	{
		int64		row_id;
		MemoryContext old;
		bool		got;

		CHECK_FOR_INTERRUPTS();
		if (s->sscan == NULL)
		{
			int			i = claim_segment(s);
			VltabSegment *seg;

			if (i >= s->segs->nsegments)
				return false;
			seg = &s->segs->segments[i];
			vltab_scan_totals.segments_total++;
			if (s->bounds && vltab_prune_segment(seg, s->bounds))
			{
				vltab_scan_totals.segments_skipped++;
				continue;
			}
			if (s->count_only)
			{
				s->next_row = seg->first_row_id;
				s->end_row = seg->end_row_id;
				s->sscan = (VltabSegmentScan *) seg;	/* a mark: in a segment */
				continue;
			}
			open_segment(s, seg);
		}
		if (s->count_only)
		{
			/* no column needed (count(*)): the catalog's row range suffices */
			got = s->next_row < s->end_row;
			row_id = s->next_row++;
			memset(s->isnull, true, sizeof(bool) * RelationGetDescr(rel)->natts);
		}
		else
		{
			old = MemoryContextSwitchTo(s->cxt);
			got = vltab_segment_scan_next(s->sscan, &row_id, s->values, s->isnull);
			MemoryContextSwitchTo(old);
		}
		if (!got)
		{
			if (!s->count_only)
			{
				count_segment_scan(s);
				vltab_segment_scan_end(s->sscan);
			}
			s->sscan = NULL;
			continue;
		}
		if (rowid_deleted(s->deleted, s->ndeleted, row_id))
			continue;
		store_lake_row(rel, row_id, s->values, s->isnull, slot);
		pgstat_count_heap_getnext(rel);
		return true;
	}
}

/* ------------------------------------ projections of parallel scans -- */

typedef struct ProjectionNote
{
	void	   *owner;			/* the query's EState */
	Oid			relid;
	bool		projected;
	Bitmapset  *attrs;
	List	   *bounds;
} ProjectionNote;

static List *projection_notes = NIL;	/* in TopMemoryContext */

/* vltab_check_scan_note: ALTER TABLE's NOT NULL check of check_relid */
static Oid	check_relid = InvalidOid;
static int	check_depth;			/* vltab_executor_depth at the note */

static List *
copy_bounds(List *bounds)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, bounds)
	{
		VltabBound *b = palloc(sizeof(VltabBound));

		memcpy(b, lfirst(lc), sizeof(VltabBound));
		out = lappend(out, b);
	}
	return out;
}

void
vltab_projection_note(void *owner, Oid relid, Bitmapset *attrs, bool projected, List *bounds)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	ProjectionNote *n = palloc0(sizeof(ProjectionNote));

	n->owner = owner;
	n->relid = relid;
	n->projected = projected;
	n->attrs = bms_copy(attrs);
	n->bounds = copy_bounds(bounds);
	projection_notes = lappend(projection_notes, n);
	MemoryContextSwitchTo(old);
}

void
vltab_projection_forget(void *owner)
{
	ListCell   *lc;

	foreach(lc, projection_notes)
	{
		ProjectionNote *n = lfirst(lc);

		if (owner == NULL || n->owner == owner)
			projection_notes = foreach_delete_current(projection_notes, lc);
	}
}

/* The union of the noted columns of relid (NULL, *projected false: every
 * column, also when nothing is noted). */
static Bitmapset *
noted_attrs(Oid relid, bool *projected)
{
	ListCell   *lc;
	Bitmapset  *attrs = NULL;
	int			found = 0;

	*projected = false;
	foreach(lc, projection_notes)
	{
		ProjectionNote *n = lfirst(lc);

		if (n->relid != relid)
			continue;
		if (!n->projected)
			return NULL;
		found++;
		attrs = bms_union(attrs, n->attrs);
	}
	*projected = found > 0;
	return attrs;
}

/* Apply the notes on s's relation: the union of their columns; bounds only
 * when a single scan of the relation was noted. */
static void
apply_projection_notes(VltabScanDesc *s)
{
	ListCell   *lc;
	int			found = 0;

	foreach(lc, projection_notes)
	{
		ProjectionNote *n = lfirst(lc);

		if (n->relid != RelationGetRelid(s->base.rs_rd))
			continue;
		if (!n->projected)
			return;				/* one of them reads every column */
		found++;
		s->attrs = bms_union(s->attrs, n->attrs);
		s->bounds = (found == 1) ? copy_bounds(n->bounds) : NIL;
	}
	s->projected = found > 0;
	if (!s->projected)
	{
		s->attrs = NULL;
		s->bounds = NIL;
	}
}

static TableScanDesc
vltab_scan_begin(Relation rel, Snapshot snapshot, int nkeys, struct ScanKeyData *key,
				 ParallelTableScanDesc pscan, uint32 flags)
{
	VltabScanDesc *s = palloc0(sizeof(VltabScanDesc));

	s->delta = heap->scan_begin(rel, snapshot, nkeys, key, pscan, flags);
	s->base = *s->delta;
	s->cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake table scan",
								   ALLOCSET_DEFAULT_SIZES);
	/* a query's scans under vlake.as_of_*: ANALYZE reads the present */
	if ((flags & (SO_TYPE_SEQSCAN | SO_TYPE_TIDRANGESCAN | SO_TYPE_BITMAPSCAN |
				  SO_TYPE_SAMPLESCAN)) && vltab_travel_active())
	{
		if (flags & SO_TYPE_SAMPLESCAN)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("TABLESAMPLE of vlake table \"%s\" is not supported under vlake.as_of_version or vlake.as_of_timestamp",
							RelationGetRelationName(rel))));
		s->travel = true;
	}
	if (pscan != NULL && (flags & SO_TYPE_SEQSCAN) && projection_notes != NIL)
		apply_projection_notes(s);
	else if (pscan == NULL && (flags & SO_TYPE_SEQSCAN) && OidIsValid(check_relid) &&
			 RelationGetRelid(rel) == check_relid && vltab_executor_depth == check_depth)
	{
		s->attrs = not_null_attrs(RelationGetDescr(rel));
		s->projected = true;
	}
	return &s->base;
}

/* A nested ALTER TABLE replaces the note: the outer one then reads all. */
void
vltab_check_scan_note(Oid relid)
{
	check_depth = vltab_executor_depth;
	check_relid = relid;
}

void
vltab_check_scan_forget(void)
{
	check_relid = InvalidOid;
}

/* A scan that reads only attrs of lake rows (the executor hook's). */
TableScanDesc
vltab_scan_begin_projected(Relation rel, Snapshot snapshot, Bitmapset *attrs, List *bounds)
{
	VltabScanDesc *s;

	s = (VltabScanDesc *) table_beginscan(rel, snapshot, 0, NULL);
	s->attrs = bms_copy(attrs);
	s->projected = true;
	s->bounds = bounds;
	return &s->base;
}

void
vltab_scan_set_projection(TableScanDesc sscan, Bitmapset *attrs)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	Assert(!s->lake_started);
	s->attrs = bms_copy(attrs);
	s->projected = true;
}

static void
vltab_scan_end(TableScanDesc sscan)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	heap->scan_end(s->delta);
	close_reader(s);
	MemoryContextDelete(s->cxt);
	pfree(s);
}

static void
vltab_scan_rescan(TableScanDesc sscan, struct ScanKeyData *key, bool set_params,
				  bool allow_strat, bool allow_sync, bool allow_pagemode)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	heap->scan_rescan(s->delta, key, set_params, allow_strat, allow_sync, allow_pagemode);
	s->base.rs_flags = s->delta->rs_flags;
	s->base.rs_snapshot = s->delta->rs_snapshot;
	close_reader(s);
	lake_scan_reset(s);
}

/* Lake rows are read forward only (segment readers and takes have no
 * backward cursor). */
static void
refuse_backward(ScanDirection direction)
{
	if (ScanDirectionIsBackward(direction))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("backward scans of vlake tables are not supported"),
				 errhint("Declare the cursor without SCROLL.")));
}

static bool
vltab_scan_getnextslot(TableScanDesc sscan, ScanDirection direction, TupleTableSlot *slot)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	if (!s->delta_done && !s->travel)
	{
		while (heap->scan_getnextslot(s->delta, direction, slot))
		{
			if (!moved_and_changed(s->base.rs_rd, slot, s->base.rs_snapshot))
				return true;
		}
		s->delta_done = true;
	}
	refuse_backward(direction);
	if (lake_scan_next(s, slot))
		return true;
	ExecClearTuple(slot);
	return false;
}

static Size
vltab_parallelscan_estimate(Relation rel)
{
	return sizeof(VltabParallelScan);
}

static Size
vltab_parallelscan_initialize(Relation rel, ParallelTableScanDesc pscan)
{
	VltabParallelScan *p = (VltabParallelScan *) pscan;

	heap->parallelscan_initialize(rel, pscan);
	pg_atomic_init_u64(&p->next_segment, 0);
	return sizeof(VltabParallelScan);
}

static void
vltab_parallelscan_reinitialize(Relation rel, ParallelTableScanDesc pscan)
{
	VltabParallelScan *p = (VltabParallelScan *) pscan;

	heap->parallelscan_reinitialize(rel, pscan);
	pg_atomic_write_u64(&p->next_segment, 0);
}

/*
 * Lake rows by row ID, a batch at a time (bitmap, TID range and sample
 * scans, ANALYZE).  Of rows (at most LAKE_ROWS_PER_BLOCK, any order), those
 * the scan's snapshot sees (in a visible segment, not deleted) are taken in
 * row-ID order with one request per ColumnGroup and segment (one row at a
 * time, a table on S3 paid a round trip per row and group); lake_batch_next
 * returns them.  Returns how many of rows were deleted (ANALYZE counts
 * them).
 */
static int
lake_batch_load(VltabScanDesc *s, int64 *rows, int n)
{
	Relation	rel = s->base.rs_rd;
	int			natts = RelationGetDescr(rel)->natts;
	int			ndeleted = 0;
	MemoryContext old;

	Assert(n <= LAKE_ROWS_PER_BLOCK);
	if (s->bt_cxt == NULL)
		s->bt_cxt = AllocSetContextCreate(s->cxt, "vlake table batch", ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(s->bt_cxt);
	s->bm_n = s->bm_i = 0;
	qsort(rows, n, sizeof(int64), lake_rowref_cmp);
	for (int k = 0; k < n; k++)
	{
		if (vltab_segment_find(s->segs, rows[k]) == NULL)
			continue;
		if (rowid_deleted(s->deleted, s->ndeleted, rows[k]))
			ndeleted++;
		else
			s->bm_rows[s->bm_n++] = rows[k];
	}
	old = MemoryContextSwitchTo(s->bt_cxt);
	s->bt_values = palloc(sizeof(Datum) * Max(s->bm_n * natts, 1));
	s->bt_isnull = palloc(sizeof(bool) * Max(s->bm_n * natts, 1));
	for (int k = 0, j; k < s->bm_n; k = j)
	{
		VltabSegment *seg = vltab_segment_find(s->segs, s->bm_rows[k]);

		for (j = k + 1; j < s->bm_n && s->bm_rows[j] < seg->end_row_id; j++)
			;
		vltab_segment_take_rows(cached_reader(rel, s->segs->root, seg), s->want,
								&s->bm_rows[k], j - k,
								&s->bt_values[k * natts], &s->bt_isnull[k * natts]);
	}
	MemoryContextSwitchTo(old);
	return ndeleted;
}

static bool
lake_batch_next(VltabScanDesc *s, TupleTableSlot *slot)
{
	Relation	rel = s->base.rs_rd;
	int			natts = RelationGetDescr(rel)->natts;
	int			k;

	if (s->bm_i >= s->bm_n)
		return false;
	k = s->bm_i++;
	store_lake_row(rel, s->bm_rows[k], &s->bt_values[k * natts], &s->bt_isnull[k * natts], slot);
	pgstat_count_heap_fetch(rel);
	return true;
}

/* ------------------------------------------------------ TID range scan -- */

/* The first lake row ID at or after tid (the executor passes offsets 0 and
 * past the block's end, e.g. for ctid > '(b,65535)'). */
static int64
tidrange_first_rowid(ItemPointer tid)
{
	BlockNumber blk = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);
	int64		base;

	if (blk < LAKE_ROWID_BLOCK0)
		return 0;
	base = (int64) (blk - LAKE_ROWID_BLOCK0) * LAKE_ROWS_PER_BLOCK;
	if (off == 0)
		return base;
	return base + Min(off, LAKE_ROWS_PER_BLOCK + 1) - 1;
}

/* One past the last lake row ID at or before tid. */
static int64
tidrange_end_rowid(ItemPointer tid)
{
	BlockNumber blk = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);

	if (blk < LAKE_ROWID_BLOCK0)
		return 0;
	return (int64) (blk - LAKE_ROWID_BLOCK0) * LAKE_ROWS_PER_BLOCK +
		Min(off, LAKE_ROWS_PER_BLOCK);
}

/*
 * TID range scans (ctid >= ... AND ctid < ...): heap's over the delta, then
 * the lake rows whose TIDs fall in the range, in row-ID order (which is TID
 * order), fetched a block of row IDs at a time (lake_batch_load).
 */
static void
vltab_scan_set_tidrange(TableScanDesc sscan, ItemPointer mintid, ItemPointer maxtid)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	heap->scan_set_tidrange(s->delta, mintid, maxtid);
	s->delta_done = false;
	s->bm_n = s->bm_i = 0;
	s->tr_next = tidrange_first_rowid(mintid);
	s->tr_end = tidrange_end_rowid(maxtid);
}

static bool
vltab_scan_getnextslot_tidrange(TableScanDesc sscan, ScanDirection direction,
								TupleTableSlot *slot)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	refuse_backward(direction);
	if (!s->delta_done && !s->travel)
	{
		while (heap->scan_getnextslot_tidrange(s->delta, direction, slot))
		{
			if (!moved_and_changed(s->base.rs_rd, slot, s->base.rs_snapshot))
				return true;
		}
		s->delta_done = true;
	}
	if (s->tr_next < s->tr_end && !s->lake_started)
		lake_scan_start(s);
	while (!lake_batch_next(s, slot))
	{
		int64		rows[LAKE_ROWS_PER_BLOCK];
		int			n = 0;
		int64		end;
		VltabSegment *seg;

		CHECK_FOR_INTERRUPTS();
		if (s->tr_next >= s->tr_end ||
			(seg = vltab_segment_next_at(s->segs, s->tr_next)) == NULL)
		{
			s->tr_next = s->tr_end;
			ExecClearTuple(slot);
			return false;
		}
		s->tr_next = Max(s->tr_next, seg->first_row_id);
		end = Min(s->tr_end, seg->end_row_id);
		while (s->tr_next < end && n < LAKE_ROWS_PER_BLOCK)
			rows[n++] = s->tr_next++;
		lake_batch_load(s, rows, n);
	}
	return true;
}

/* --------------------------------------------------------- bitmap scan -- */

static bool
vltab_scan_bitmap_next_block(TableScanDesc sscan, TBMIterateResult *tbmres)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;
	int64		base;
	int64		rows[LAKE_ROWS_PER_BLOCK];
	int			n = 0;
	int			i;

	if (tbmres->blockno < LAKE_ROWID_BLOCK0)
		return !s->travel && heap->scan_bitmap_next_block(s->delta, tbmres);
	if (!s->lake_started)
		lake_scan_start(s);
	base = (int64) (tbmres->blockno - LAKE_ROWID_BLOCK0) * LAKE_ROWS_PER_BLOCK;
	if (tbmres->ntuples >= 0)
	{
		for (i = 0; i < tbmres->ntuples; i++)
		{
			OffsetNumber off = tbmres->offsets[i];

			if (off >= 1 && off <= LAKE_ROWS_PER_BLOCK)
				rows[n++] = base + off - 1;
		}
	}
	else
	{
		for (i = 0; i < LAKE_ROWS_PER_BLOCK; i++)
			rows[n++] = base + i;
	}
	lake_batch_load(s, rows, n);
	return s->bm_n > 0;
}

static bool
vltab_scan_bitmap_next_tuple(TableScanDesc sscan, TBMIterateResult *tbmres,
							 TupleTableSlot *slot)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	if (tbmres->blockno < LAKE_ROWID_BLOCK0)
	{
		while (heap->scan_bitmap_next_tuple(s->delta, tbmres, slot))
		{
			if (!moved_and_changed(sscan->rs_rd, slot, sscan->rs_snapshot))
				return true;
		}
		return false;
	}
	return lake_batch_next(s, slot);
}

/* ------------------------------------------------- sample and analyze -- */

/*
 * TABLESAMPLE: heap's sampling of the delta's blocks, then of the lake's.
 * The lake's rows are cut into blocks of LAKE_ROWS_PER_BLOCK row IDs (a
 * TID's block), from the first visible segment's block to the last one's,
 * numbered after the delta's: the sampling method sees one table of
 * sm_dblocks + sm_nblocks blocks and picks blocks (SYSTEM) or rows
 * (BERNOULLI) by its hash of these numbers, so a REPEATABLE seed gives the
 * same sample while the table does not change.  Only the built-in methods
 * are known to start a second pass cleanly; others (tsm_system_rows keeps a
 * stride chosen for the delta's block count) are refused.
 */
static void
sample_check_method(SampleScanState *scanstate)
{
	Oid			handler = ((SampleScan *) scanstate->ss.ps.plan)->tablesample->tsmhandler;

	if (handler != F_BERNOULLI && handler != F_SYSTEM)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("TABLESAMPLE method %s is not supported on vlake tables",
						get_func_name(handler)),
				 errhint("Use BERNOULLI or SYSTEM.")));
}

static bool
sample_lake_start(VltabScanDesc *s)
{
	VltabSegment *first;
	VltabSegment *last;
	int64		end;

	if (!s->lake_started)
		lake_scan_start(s);
	s->sm_lake = true;
	s->sm_dblocks = ((HeapScanDesc) s->delta)->rs_nblocks;
	if (s->segs->nsegments == 0)
		return false;
	first = &s->segs->segments[0];
	last = &s->segs->segments[s->segs->nsegments - 1];
	s->sm_first = first->first_row_id - first->first_row_id % LAKE_ROWS_PER_BLOCK;
	end = last->end_row_id;
	s->sm_nblocks = (BlockNumber) ((end - s->sm_first + LAKE_ROWS_PER_BLOCK - 1) /
								   LAKE_ROWS_PER_BLOCK);
	return s->sm_nblocks > 0;
}

/* The rows of the current lake block the method picks, fetched. */
static void
sample_lake_block(VltabScanDesc *s, SampleScanState *scanstate)
{
	TsmRoutine *tsm = scanstate->tsmroutine;
	int64		base = s->sm_first + (int64) s->sm_block * LAKE_ROWS_PER_BLOCK;
	int64		rows[LAKE_ROWS_PER_BLOCK];
	int			n = 0;
	OffsetNumber off = InvalidOffsetNumber;

	/* the method's state runs to the block's end (InvalidOffsetNumber) */
	for (;;)
	{
		if (tsm->NextSampleTuple)
			off = tsm->NextSampleTuple(scanstate, s->sm_dblocks + s->sm_block,
									   LAKE_ROWS_PER_BLOCK);
		else
			off = (off < LAKE_ROWS_PER_BLOCK) ? off + 1 : InvalidOffsetNumber;
		if (!OffsetNumberIsValid(off))
			break;
		if (off <= LAKE_ROWS_PER_BLOCK && n < LAKE_ROWS_PER_BLOCK)
			rows[n++] = base + off - 1;
	}
	lake_batch_load(s, rows, n);
}

static bool
vltab_scan_sample_next_block(TableScanDesc sscan, struct SampleScanState *scanstate)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;
	TsmRoutine *tsm = scanstate->tsmroutine;
	BlockNumber total;
	BlockNumber b;

	if (!s->sm_lake)
	{
		sample_check_method(scanstate);
		if (heap->scan_sample_next_block(s->delta, scanstate))
			return true;
		if (!sample_lake_start(s))
			return false;
	}
	if (s->sm_nblocks == 0)
		return false;
	if (tsm->NextSampleBlock == NULL)
	{
		if (s->sm_seq >= s->sm_nblocks)
			return false;
		s->sm_block = s->sm_seq++;
	}
	else
	{
		/* the method's pass over the delta's numbers is over; this one skips them */
		total = s->sm_dblocks + s->sm_nblocks;
		do
			b = tsm->NextSampleBlock(scanstate, total);
		while (BlockNumberIsValid(b) && b < s->sm_dblocks);
		if (!BlockNumberIsValid(b))
		{
			s->sm_nblocks = 0;
			return false;
		}
		s->sm_block = b - s->sm_dblocks;
	}
	sample_lake_block(s, scanstate);
	return true;
}

static bool
vltab_scan_sample_next_tuple(TableScanDesc sscan, struct SampleScanState *scanstate,
							 TupleTableSlot *slot)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	if (!s->sm_lake)
	{
		while (heap->scan_sample_next_tuple(s->delta, scanstate, slot))
		{
			if (!moved_and_changed(sscan->rs_rd, slot, sscan->rs_snapshot))
				return true;
		}
		return false;
	}
	if (lake_batch_next(s, slot))
		return true;
	ExecClearTuple(slot);
	return false;
}

/*
 * ANALYZE samples blocks of the delta (heap's code); the lake rows join the
 * sample when the first sampled block is exhausted: up to
 * 300 x default_statistics_target rows in runs spread evenly over the visible
 * segments (analyze_lake_plan), each counted in liverows with the weight of
 * the rows it stands for, so reltuples covers the lake (exact when every delta block is
 * sampled).  The delta always has a block (ensure_delta_block) so that
 * ANALYZE reaches this callback.
 */
static bool
vltab_scan_analyze_next_block(TableScanDesc sscan, BlockNumber blockno,
							  BufferAccessStrategy bstrategy)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	s->an_block_done = false;
	return heap->scan_analyze_next_block(s->delta, blockno, bstrategy);
}

/*
 * The lake's sample: runs of ANALYZE_RUN_ROWS consecutive rows spread
 * evenly over the row positions of the visible segments (a systematic
 * sample of runs, as heap samples blocks and reads every row of each).  A
 * run's rows share their pages, so a table on S3 costs a request per run
 * and ColumnGroup and reads a few percent of its vector files, where single
 * rows spread evenly read every page.
 */
#define ANALYZE_RUN_ROWS 64

static void
analyze_lake_plan(VltabScanDesc *s)
{
	int64		want = (int64) 300 * default_statistics_target;
	int64		total;
	int64		nruns;
	int			seg = 0;
	int64		seg_pos = 0;	/* row position of segment seg's first row */
	MemoryContext old;

	lake_scan_start(s);
	total = s->segs->nrows;
	s->an_n = s->an_i = 0;
	s->an_weight = 0;
	if (total == 0)
		return;
	want = Min(want, total);
	nruns = (want + ANALYZE_RUN_ROWS - 1) / ANALYZE_RUN_ROWS;
	old = MemoryContextSwitchTo(s->cxt);
	s->an_rows = palloc(sizeof(int64) * want);
	for (int64 r = 0; r < nruns; r++)
	{
		int64		start = (int64) ((double) r * total / nruns);
		int64		next = (r + 1 < nruns) ? (int64) ((double) (r + 1) * total / nruns) : total;
		int64		len = Min(Min(ANALYZE_RUN_ROWS, want - s->an_n), next - start);

		for (int64 pos = start; pos < start + len; pos++)
		{
			/* positions ascend: walk the segments along */
			while (pos >= seg_pos + s->segs->segments[seg].row_count)
				seg_pos += s->segs->segments[seg++].row_count;
			s->an_rows[s->an_n++] = s->segs->segments[seg].first_row_id + (pos - seg_pos);
		}
	}
	s->an_weight = (double) total / s->an_n;
	MemoryContextSwitchTo(old);
}

static bool
vltab_scan_analyze_next_tuple(TableScanDesc sscan, TransactionId OldestXmin,
							  double *liverows, double *deadrows, TupleTableSlot *slot)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	/* heap's callback must not be called again once it returned false */
	if (!s->an_block_done)
	{
		if (heap->scan_analyze_next_tuple(s->delta, OldestXmin, liverows, deadrows, slot))
			return true;
		s->an_block_done = true;
	}
	if (s->an_done)
		return false;
	if (s->an_rows == NULL)
		analyze_lake_plan(s);
	while (!lake_batch_next(s, slot))
	{
		int			n = (int) Min(LAKE_ROWS_PER_BLOCK, s->an_n - s->an_i);

		CHECK_FOR_INTERRUPTS();
		if (n == 0)
		{
			s->an_done = true;
			return false;
		}
		*deadrows += s->an_weight * lake_batch_load(s, &s->an_rows[s->an_i], n);
		s->an_i += n;
	}
	*liverows += s->an_weight;
	return true;
}

/* ------------------------------------------------- segment reader cache -- */

/*
 * Fetches by TID (index and bitmap scans) open a segment's files and read
 * their footers and offset indexes; across statements that would be paid
 * per lookup.  Segment files are immutable and named by their part prefix,
 * so a reader opened once serves every later fetch of the same files in
 * this backend, as long as the table's row type is the one it was opened
 * with.  A small LRU in TopMemoryContext.
 */
#define READER_CACHE_SIZE 32

typedef struct ReaderEntry
{
	Oid			relid;
	char	   *path0;			/* the segment's files, '\n'-joined: its identity
								 * (a column patch adds a file to a segment) */
	TupleDesc	desc;
	VltabSegmentReader *reader;
	uint64		used;
} ReaderEntry;

static ReaderEntry reader_cache[READER_CACHE_SIZE];
static uint64 reader_clock = 0;

static void
reader_entry_free(ReaderEntry *e)
{
	if (e->reader)
		vltab_segment_close(e->reader);
	if (e->path0)
		pfree(e->path0);
	if (e->desc)
		FreeTupleDesc(e->desc);
	memset(e, 0, sizeof(*e));
}

static char *
segment_identity(VltabSegment *seg)
{
	StringInfoData b;

	initStringInfo(&b);
	for (int f = 0; f < seg->nfiles; f++)
		appendStringInfo(&b, "%s\n", seg->files[f].path);
	return b.data;
}

/* Is ident segment_identity(seg)?  (Compared in place: a lookup allocates nothing.) */
static bool
segment_identity_is(const char *ident, VltabSegment *seg)
{
	for (int f = 0; f < seg->nfiles; f++)
	{
		size_t		len = strlen(seg->files[f].path);

		if (strncmp(ident, seg->files[f].path, len) != 0 || ident[len] != '\n')
			return false;
		ident += len + 1;
	}
	return *ident == '\0';
}

static VltabSegmentReader *
cached_reader(Relation rel, const char *root, VltabSegment *seg)
{
	TupleDesc	desc = RelationGetDescr(rel);
	ReaderEntry *victim = &reader_cache[0];
	MemoryContext old;

	if (seg->nfiles == 0)
		return vltab_segment_open(root, desc, seg->first_row_id, seg->row_count,
								  seg->files, seg->nfiles);
	for (int i = 0; i < READER_CACHE_SIZE; i++)
	{
		ReaderEntry *e = &reader_cache[i];

		if (e->reader && e->relid == RelationGetRelid(rel) &&
			segment_identity_is(e->path0, seg))
		{
			if (equalTupleDescs(e->desc, desc))
			{
				e->used = ++reader_clock;
				return e->reader;
			}
			reader_entry_free(e);	/* the table changed shape */
			victim = e;
			break;
		}
		if (e->used < victim->used)
			victim = e;
	}
	reader_entry_free(victim);
	old = MemoryContextSwitchTo(TopMemoryContext);
	victim->relid = RelationGetRelid(rel);
	victim->path0 = segment_identity(seg);
	victim->desc = CreateTupleDescCopyConstr(desc);	/* equalTupleDescs compares constraints */
	victim->reader = vltab_segment_open(root, desc, seg->first_row_id, seg->row_count,
										seg->files, seg->nfiles);
	victim->used = ++reader_clock;
	MemoryContextSwitchTo(old);
	return victim->reader;
}

/* ------------------------------------------------------- index fetches -- */

typedef struct VltabIndexFetch
{
	IndexFetchTableData base;
	IndexFetchTableData *delta;
	MemoryContext cxt;
	Snapshot	snap;			/* the snapshot segs was read with */
	CommandId	snap_cid;
	VltabSegmentList *segs;
	Datum	   *values;
	bool	   *isnull;
	Bitmapset  *attrs;
	bool		all_columns;	/* row versions and locks: every column */
} VltabIndexFetch;

/* The columns an index fetch reads: those the running queries' index scans
 * of rel use (noted by the executor hook), else all. */
static Bitmapset *
fetch_attrs(Relation rel)
{
	bool		projected;
	Bitmapset  *attrs = noted_attrs(RelationGetRelid(rel), &projected);

	return projected ? attrs : vltab_all_attrs(RelationGetDescr(rel));
}

static IndexFetchTableData *
vltab_index_fetch_begin(Relation rel)
{
	VltabIndexFetch *f = palloc0(sizeof(VltabIndexFetch));

	f->delta = heap->index_fetch_begin(rel);
	f->base.rel = rel;
	f->cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake table fetch",
								   ALLOCSET_DEFAULT_SIZES);
	return &f->base;
}

static void
fetch_forget_lake(VltabIndexFetch *f)
{
	MemoryContextReset(f->cxt);
	f->segs = NULL;
	f->snap = NULL;
}

static void
vltab_index_fetch_reset(IndexFetchTableData *scan)
{
	VltabIndexFetch *f = (VltabIndexFetch *) scan;

	heap->index_fetch_reset(f->delta);
}

static void
vltab_index_fetch_end(IndexFetchTableData *scan)
{
	VltabIndexFetch *f = (VltabIndexFetch *) scan;

	heap->index_fetch_end(f->delta);
	fetch_forget_lake(f);
	MemoryContextDelete(f->cxt);
	pfree(f);
}

/*
 * Fetch lake row row_id as snapshot sees it into slot.  Non-MVCC snapshots
 * (SnapshotDirty from unique checks, SnapshotSelf, SnapshotAny) see the
 * latest committed catalog state; a deletion in progress makes a dirty
 * snapshot report the deleter in its xmax, as heap does.
 */
static bool
fetch_lake(VltabIndexFetch *f, Relation rel, int64 row_id, Snapshot snapshot,
		   TupleTableSlot *slot)
{
	Snapshot	snap = catalog_snapshot_for(snapshot);
	VltabSegment *seg;
	MemoryContext old;

	if (f->segs == NULL || f->snap != snapshot || f->snap_cid != snap->curcid ||
		!IsMVCCSnapshot(snapshot))
	{
		fetch_forget_lake(f);
		old = MemoryContextSwitchTo(f->cxt);
		f->segs = vltab_segments_visible(RelationGetRelid(rel), snap);
		f->values = palloc(sizeof(Datum) * RelationGetDescr(rel)->natts);
		f->isnull = palloc(sizeof(bool) * RelationGetDescr(rel)->natts);
		f->attrs = f->all_columns ? vltab_all_attrs(RelationGetDescr(rel)) : fetch_attrs(rel);
		MemoryContextSwitchTo(old);
		f->snap = snapshot;
		f->snap_cid = snap->curcid;
	}
	seg = vltab_segment_find(f->segs, row_id);
	if (seg == NULL)
		return false;
	if (snapshot && snapshot->snapshot_type == SNAPSHOT_DIRTY)
	{
		if (!vltab_lake_row_visible(rel, f->segs, row_id, snapshot))
			return false;
	}
	else if (snapshot == NULL || snapshot->snapshot_type != SNAPSHOT_ANY)
	{
		/* no_deletes: see vltab_segments_visible; our own deletions are
		 * not in it */
		if (!(f->segs->no_deletes && !vltab_publish_noted(RelationGetRelid(rel))) &&
			vltab_rowstate_is_deleted(RelationGetRelid(rel), row_id, snap, NULL))
			return false;
	}
	old = MemoryContextSwitchTo(f->cxt);
	vltab_segment_take(cached_reader(rel, f->segs->root, seg), f->attrs, row_id,
					   f->values, f->isnull);
	MemoryContextSwitchTo(old);
	store_lake_row(rel, row_id, f->values, f->isnull, slot);
	return true;
}

static bool
vltab_index_fetch_tuple(IndexFetchTableData *scan, ItemPointer tid, Snapshot snapshot,
						TupleTableSlot *slot, bool *call_again, bool *all_dead)
{
	VltabIndexFetch *f = (VltabIndexFetch *) scan;

	vltab_travel_refuse_fetch(scan->rel);
	if (!lake_tid_is_lake(tid))
	{
		if (!heap->index_fetch_tuple(f->delta, tid, snapshot, slot, call_again, all_dead))
			return false;
		if (!moved_and_changed(scan->rel, slot, snapshot))
			return true;
		*call_again = false;
		return false;
	}
	*call_again = false;
	if (all_dead)
		*all_dead = false;
	return fetch_lake(f, scan->rel, (int64) lake_tid_to_rowid(tid), snapshot, slot);
}

static bool
vltab_tuple_fetch_row_version(Relation rel, ItemPointer tid, Snapshot snapshot,
							  TupleTableSlot *slot)
{
	VltabIndexFetch *f;
	bool		found;

	vltab_travel_refuse_fetch(rel);
	if (!lake_tid_is_lake(tid))
		return heap->tuple_fetch_row_version(rel, tid, snapshot, slot) &&
			!moved_and_changed(rel, slot, snapshot);
	f = (VltabIndexFetch *) vltab_index_fetch_begin(rel);
	f->all_columns = true;		/* the executor builds new versions from it */
	found = fetch_lake(f, rel, (int64) lake_tid_to_rowid(tid), snapshot, slot);
	vltab_index_fetch_end(&f->base);
	return found;
}

/* ------------------------------------ re-rank takes (vltab_index.h) -- */

struct VltabIndexTake
{
	Relation	rel;
	Snapshot	snapshot;		/* the index scan's */
	AttrNumber	attnum;
	Bitmapset  *attrs;			/* {attnum} */
	MemoryContext cxt;			/* the take and its segment list */
	MemoryContext call_cxt;		/* values of the last call */
	VltabSegmentList *segs;		/* as snap saw them */
	CommandId	snap_cid;
	IndexFetchTableData *fetch; /* delta rows: this AM's fetch */
	TupleTableSlot *slot;
};

typedef struct TakeRow
{
	int64		row_id;
	int			i;				/* position in the caller's arrays */
} TakeRow;

static int
take_row_cmp(const void *a, const void *b)
{
	int64		x = ((const TakeRow *) a)->row_id;
	int64		y = ((const TakeRow *) b)->row_id;

	return (x > y) - (x < y);
}

VltabIndexTake *
vltab_index_take_begin(Relation heap_rel, Snapshot snapshot, AttrNumber attnum)
{
	MemoryContext cxt;
	MemoryContext old;
	VltabIndexTake *t;

	if (!vltab_index_table_is_vlake(heap_rel))
		return NULL;
	if (attnum < 1 || attnum > RelationGetDescr(heap_rel)->natts)
		elog(ERROR, "column %d of \"%s\" does not exist", attnum,
			 RelationGetRelationName(heap_rel));
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake index take",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	t = palloc0(sizeof(VltabIndexTake));
	t->rel = heap_rel;
	t->snapshot = snapshot;
	t->attnum = attnum;
	t->attrs = bms_make_singleton(attnum);
	t->cxt = cxt;
	t->call_cxt = AllocSetContextCreate(cxt, "vlake index take values",
										ALLOCSET_DEFAULT_SIZES);
	t->fetch = vltab_index_fetch_begin(heap_rel);
	t->slot = MakeSingleTupleTableSlot(RelationGetDescr(heap_rel), &TTSOpsBufferHeapTuple);
	MemoryContextSwitchTo(old);
	return t;
}

/*
 * Lake rows rows[0..m) of one segment, wanted at positions where[] of the
 * caller's arrays, as floats when the vector ColumnGroup allows it.
 */
static bool
take_vectors_fixed(VltabSegmentReader *reader, AttrNumber attnum, const int64 *rows, int m,
				   const int *where, int dim, float *vecs)
{
	bool		half;
	const char *buf = vltab_segment_take_fixed(reader, attnum, rows, m, dim, &half);

	if (buf == NULL)
		return false;
	for (int x = 0; x < m; x++)
	{
		float	   *dst = vecs + (size_t) where[x] * dim;

		if (half)
		{
			const uint16 *h = (const uint16 *) (buf + (size_t) x * dim * 2);

			for (int e = 0; e < dim; e++)
				dst[e] = vec_half_to_float(h[e]);
		}
		else
			memcpy(dst, buf + (size_t) x * dim * 4, sizeof(float) * dim);
	}
	return true;
}

static void take_common(VltabIndexTake *t, const ItemPointerData *tids, int n, int dim,
						float *vecs, Datum *values, bool *isnull, bool *found);

void
vltab_index_take(VltabIndexTake *t, const ItemPointerData *tids, int n,
				 Datum *values, bool *isnull, bool *found)
{
	take_common(t, tids, n, 0, NULL, values, isnull, found);
}

void
vltab_index_take_vectors(VltabIndexTake *t, const ItemPointerData *tids, int n, int dim,
						 float *vecs, Datum *values, bool *isnull, bool *found)
{
	take_common(t, tids, n, dim, vecs, values, isnull, found);
}

static void
take_common(VltabIndexTake *t, const ItemPointerData *tids, int n, int dim, float *vecs,
			Datum *values, bool *isnull, bool *found)
{
	Relation	rel = t->rel;
	Oid			relid = RelationGetRelid(rel);
	int			natts = RelationGetDescr(rel)->natts;
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), t->attnum - 1);
	Snapshot	snap = catalog_snapshot_for(t->snapshot);
	TakeRow    *lake;
	int			nlake = 0;
	bool		check_deletes;
	MemoryContext old;

	MemoryContextReset(t->call_cxt);
	old = MemoryContextSwitchTo(t->call_cxt);
	lake = palloc(sizeof(TakeRow) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		ItemPointerData tid = tids[i];

		found[i] = false;
		isnull[i] = true;
		values[i] = (Datum) 0;
		if (lake_tid_is_lake(&tid))
		{
			lake[nlake].row_id = (int64) lake_tid_to_rowid(&tid);
			lake[nlake].i = i;
			nlake++;
			continue;
		}
		else
		{
			/* a delta row: heap's fetch (and a row a flush moved and this
			 * snapshot's transaction then changed is not seen) */
			bool		call_again = false;

			CHECK_FOR_INTERRUPTS();
			if (table_index_fetch_tuple(t->fetch, &tid, t->snapshot, t->slot, &call_again, NULL))
			{
				Datum		d = slot_getattr(t->slot, t->attnum, &isnull[i]);

				found[i] = true;
				if (!isnull[i])
					values[i] = datumCopy(d, att->attbyval, att->attlen);
				ExecClearTuple(t->slot);
			}
		}
	}
	if (nlake == 0)
	{
		MemoryContextSwitchTo(old);
		return;
	}

	/* the segments the snapshot sees, read once per command */
	if (t->segs == NULL || t->snap_cid != snap->curcid || !IsMVCCSnapshot(snap))
	{
		MemoryContextSwitchTo(t->cxt);
		t->segs = vltab_segments_visible(relid, snap);
		t->snap_cid = snap->curcid;
		MemoryContextSwitchTo(t->call_cxt);
	}
	/* no_deletes: see vltab_segments_visible; our own deletions are not in it */
	check_deletes = !(t->segs->no_deletes && !vltab_publish_noted(relid));
	qsort(lake, nlake, sizeof(TakeRow), take_row_cmp);
	for (int k = 0, j; k < nlake; k = j)
	{
		VltabSegment *seg = vltab_segment_find(t->segs, lake[k].row_id);
		VltabSegmentReader *reader;
		int64	   *rows;
		Datum	   *vals;
		bool	   *nulls;
		int			m = 0;

		CHECK_FOR_INTERRUPTS();
		if (seg == NULL)
		{
			/* not in a segment this snapshot sees */
			j = k + 1;
			continue;
		}
		for (j = k + 1; j < nlake && lake[j].row_id < seg->end_row_id; j++)
			;
		rows = palloc(sizeof(int64) * (j - k));
		for (int r = k; r < j; r++)
		{
			if (check_deletes &&
				vltab_rowstate_is_deleted(relid, lake[r].row_id, snap, NULL))
			{
				lake[r].i = -1;
				continue;
			}
			if (r > k && lake[r].row_id == lake[r - 1].row_id)
				continue;		/* the same row twice: taken once */
			rows[m++] = lake[r].row_id;
		}
		if (m == 0)
			continue;
		reader = cached_reader(rel, t->segs->root, seg);
		if (vecs != NULL)
		{
			/* the caller's position of each distinct row (duplicates: after) */
			int		   *where = palloc(sizeof(int) * m);

			for (int r = k, x = -1; r < j; r++)
				if (lake[r].i >= 0 && (x < 0 || rows[x] != lake[r].row_id))
					where[++x] = lake[r].i;
			if (take_vectors_fixed(reader, t->attnum, rows, m, where, dim, vecs))
			{
				for (int r = k, x = -1; r < j; r++)
				{
					if (lake[r].i < 0)
						continue;
					if (x < 0 || rows[x] != lake[r].row_id)
						x++;
					else
						memcpy(vecs + (size_t) lake[r].i * dim,
							   vecs + (size_t) where[x] * dim, sizeof(float) * dim);
					found[lake[r].i] = true;
					isnull[lake[r].i] = false;
				}
				continue;
			}
		}
		/* one request per ColumnGroup holding the column (its newest file) */
		vals = palloc(sizeof(Datum) * m * natts);
		nulls = palloc(sizeof(bool) * m * natts);
		vltab_segment_take_rows(reader, t->attrs, rows, m, vals, nulls);
		for (int r = k, x = -1; r < j; r++)
		{
			if (lake[r].i < 0)
				continue;
			if (x < 0 || rows[x] != lake[r].row_id)
				x++;
			Assert(x < m && rows[x] == lake[r].row_id);
			found[lake[r].i] = true;
			isnull[lake[r].i] = nulls[x * natts + t->attnum - 1];
			values[lake[r].i] = vals[x * natts + t->attnum - 1];
		}
	}
	MemoryContextSwitchTo(old);
}

void
vltab_index_take_end(VltabIndexTake *t)
{
	if (t == NULL)
		return;
	ExecDropSingleTupleTableSlot(t->slot);
	table_index_fetch_end(t->fetch);
	MemoryContextDelete(t->cxt);
}

static bool
vltab_tuple_tid_valid(TableScanDesc sscan, ItemPointer tid)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;

	if (!lake_tid_is_lake(tid))
		return heap->tuple_tid_valid(s->delta, tid);
	return ItemPointerGetOffsetNumberNoCheck(tid) >= 1 &&
		ItemPointerGetOffsetNumberNoCheck(tid) <= LAKE_ROWS_PER_BLOCK;
}

static void
vltab_tuple_get_latest_tid(TableScanDesc sscan, ItemPointer tid)
{
	VltabScanDesc *s = (VltabScanDesc *) sscan;
	ItemPointerData next;

	if (lake_tid_is_lake(tid))
	{
		if (!vltab_rowstate_is_deleted(RelationGetRelid(sscan->rs_rd),
									   (int64) lake_tid_to_rowid(tid),
									   GetLatestSnapshot(), &next) ||
			!ItemPointerIsValid(&next))
			return;
		*tid = next;
	}
	heap->tuple_get_latest_tid(s->delta, tid);
}

static bool
vltab_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot, Snapshot snapshot)
{
	VltabSegmentList *segs;

	if (!lake_tid_is_lake(&slot->tts_tid))
		return heap->tuple_satisfies_snapshot(rel, slot, snapshot);
	segs = vltab_segments_visible(RelationGetRelid(rel), catalog_snapshot_for(snapshot));
	return vltab_lake_row_visible(rel, segs, (int64) lake_tid_to_rowid(&slot->tts_tid),
								  snapshot);
}

/*
 * Index AMs ask which entries they may delete (btree's simple and bottom-up
 * deletion).  Lake rows die through vlake.row_states, which an index AM
 * cannot judge: their entries are never offered to heap, which would read
 * the lake TIDs' "blocks".
 */
static TransactionId
vltab_index_delete_tuples(Relation rel, TM_IndexDeleteOp *delstate)
{
	int			n = 0;

	for (int i = 0; i < delstate->ndeltids; i++)
	{
		if (!lake_tid_is_lake(&delstate->deltids[i].tid))
			delstate->deltids[n++] = delstate->deltids[i];
	}
	delstate->ndeltids = n;
	if (n == 0)
		return InvalidTransactionId;
	return heap->index_delete_tuples(rel, delstate);
}

/* ---------------------------------------------- writes to existing rows -- */

/*
 * A delta tuple a flush moved to the lake was deleted by the flush: the
 * write goes to its lake copy (the same version of the row) instead of
 * failing as if another transaction had changed it.
 */
static bool
moved_to_lake(Relation rel, TM_Result res, TM_FailureData *tmfd, ItemPointer tid,
			  ItemPointer lake_tid)
{
	int64		row_id;

	if (res != TM_Updated && res != TM_Deleted)
		return false;
	row_id = vltab_moved_row(rel, tid, tmfd->xmax);
	if (row_id < 0)
		return false;
	lake_rowid_to_tid((uint64) row_id, lake_tid);
	return true;
}

static TM_Result
vltab_tuple_delete(Relation rel, ItemPointer tid, CommandId cid, Snapshot snapshot,
				   Snapshot crosscheck, bool wait, TM_FailureData *tmfd, bool changingPart)
{
	TM_Result	res;
	ItemPointerData lake;

	vltab_travel_refuse_write(rel, "delete from");
	if (!lake_tid_is_lake(tid))
	{
		res = heap->tuple_delete(rel, tid, cid, snapshot, crosscheck, wait, tmfd, changingPart);
		if (!moved_to_lake(rel, res, tmfd, tid, &lake))
			return res;
		tid = &lake;
	}
	vltab_refuse_published(rel, "delete a lake row of");
	return vltab_rowstate_mark(rel, (int64) lake_tid_to_rowid(tid), 'd', NULL, cid,
							   snapshot, crosscheck, wait, LockWaitBlock, tmfd);
}

/*
 * The columns whose values the new version of lake row row_id changes
 * (compared with the row in its segment): recorded with the update, they
 * let a flush write only those columns back under the same row ID.
 */
static Bitmapset *
update_changed_attrs(Relation rel, int64 row_id, TupleTableSlot *slot)
{
	TupleDesc	desc = RelationGetDescr(rel);
	VltabSegmentList *segs = vltab_segments_visible(RelationGetRelid(rel), GetLatestSnapshot());
	VltabSegment *seg = vltab_segment_find(segs, row_id);
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *isnull = palloc(sizeof(bool) * desc->natts);
	Bitmapset  *changed = NULL;

	if (seg == NULL)
		elog(ERROR, "vlake table \"%s\": updated lake row " INT64_FORMAT " is in no segment",
			 RelationGetRelationName(rel), row_id);
	vltab_segment_take(cached_reader(rel, segs->root, seg), vltab_all_attrs(desc), row_id,
					   values, isnull);
	slot_getallattrs(slot);
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (att->attisdropped)
			continue;
		if (isnull[a] != slot->tts_isnull[a] ||
			(!isnull[a] && !datum_image_eq(values[a], slot->tts_values[a], att->attbyval,
										   att->attlen)))
			changed = bms_add_member(changed, a + 1);
	}
	pfree(values);
	pfree(isnull);
	return changed;
}

static TM_Result
vltab_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot, CommandId cid,
				   Snapshot snapshot, Snapshot crosscheck, bool wait, TM_FailureData *tmfd,
				   LockTupleMode *lockmode, bool *update_indexes)
{
	TM_Result	res;
	ItemPointerData lake;

	vltab_travel_refuse_write(rel, "update");
	if (!lake_tid_is_lake(otid))
	{
		res = heap->tuple_update(rel, otid, slot, cid, snapshot, crosscheck, wait, tmfd,
								 lockmode, update_indexes);
		if (!moved_to_lake(rel, res, tmfd, otid, &lake))
			return res;
		otid = &lake;
	}

	/*
	 * A lake row is updated like heap's non-HOT update: the old version is
	 * marked (vlake.row_states, pointing at the new one), the new version
	 * goes to the delta.  Mark first so two updaters meet on the row; the
	 * new tuple is inserted only by the winner.
	 */
	vltab_refuse_published(rel, "update a lake row of");
	*lockmode = LockTupleExclusive;
	res = vltab_rowstate_mark(rel, (int64) lake_tid_to_rowid(otid), 'u', NULL, cid,
							  snapshot, crosscheck, wait, LockWaitBlock, tmfd);
	*update_indexes = (res == TM_Ok);
	if (res == TM_Ok)
	{
		int64		row_id = (int64) lake_tid_to_rowid(otid);
		Bitmapset  *changed = update_changed_attrs(rel, row_id, slot);

		heap->tuple_insert(rel, slot, cid, 0, NULL);
		vltab_rowstate_set_new_tid(rel, row_id, &slot->tts_tid, changed);
	}
	return res;
}

static TM_Result
vltab_tuple_lock(Relation rel, ItemPointer tid, Snapshot snapshot, TupleTableSlot *slot,
				 CommandId cid, LockTupleMode mode, LockWaitPolicy wait_policy, uint8 flags,
				 TM_FailureData *tmfd)
{
	TM_Result	res;
	ItemPointerData cur = *tid;
	bool		traversed = false;

	vltab_travel_refuse_write(rel, "lock rows of");
	for (;;)
	{
		if (!lake_tid_is_lake(&cur))
		{
			ItemPointerData lake;

			res = heap->tuple_lock(rel, &cur, snapshot, slot, cid, mode, wait_policy, flags, tmfd);
			if (!moved_to_lake(rel, res, tmfd, &cur, &lake))
			{
				/* the version heap locked, and whether we got there by an update */
				*tid = cur;
				if (traversed)
					tmfd->traversed = true;
				return res;
			}
			cur = lake;
		}
		res = vltab_rowstate_mark(rel, (int64) lake_tid_to_rowid(&cur), 'l', NULL, cid,
								  snapshot, InvalidSnapshot, true, wait_policy, tmfd);
		if (res == TM_Updated && (flags & TUPLE_LOCK_FLAG_FIND_LAST_VERSION) &&
			ItemPointerIsValid(&tmfd->ctid) && !ItemPointerEquals(&tmfd->ctid, &cur))
		{
			/* follow the update to the new version (in the delta) */
			cur = tmfd->ctid;
			tmfd->traversed = true;
			traversed = true;
			snapshot = GetLatestSnapshot();
			continue;
		}
		if (res == TM_Ok)
		{
			VltabIndexFetch *f = (VltabIndexFetch *) vltab_index_fetch_begin(rel);
			bool		found;

			f->all_columns = true;	/* EvalPlanQual re-evaluates on it */
			found = fetch_lake(f, rel, (int64) lake_tid_to_rowid(&cur), SnapshotAny, slot);

			vltab_index_fetch_end(&f->base);
			if (!found)
				elog(ERROR, "vlake table \"%s\": locked lake row (%u,%u) is missing",
					 RelationGetRelationName(rel), ItemPointerGetBlockNumber(&cur),
					 ItemPointerGetOffsetNumber(&cur));
			*tid = cur;
		}
		return res;
	}
}

/* ------------------------------------------------------------ inserts -- */

static void
vltab_tuple_insert(Relation rel, TupleTableSlot *slot, CommandId cid, int options,
				   BulkInsertState bistate)
{
	vltab_travel_refuse_write(rel, "insert into");
	heap->tuple_insert(rel, slot, cid, options, bistate);
}

static void
vltab_tuple_insert_speculative(Relation rel, TupleTableSlot *slot, CommandId cid, int options,
							   BulkInsertState bistate, uint32 specToken)
{
	vltab_travel_refuse_write(rel, "insert into");
	heap->tuple_insert_speculative(rel, slot, cid, options, bistate, specToken);
}

static void
vltab_multi_insert(Relation rel, TupleTableSlot **slots, int nslots, CommandId cid,
				   int options, BulkInsertState bistate)
{
	vltab_travel_refuse_write(rel, "copy into");
	vltab_bulk_add(rel, slots, nslots, cid, options, bistate);
}

static void
vltab_finish_bulk_insert(Relation rel, int options)
{
	vltab_bulk_finish(rel, options);
	if (heap->finish_bulk_insert)
		heap->finish_bulk_insert(rel, options);
}

/* ------------------------------------------------------ DDL callbacks -- */

/* The new storage's first page, empty, WAL-logged (see ensure_delta_block). */
static void
empty_first_page(const RelFileNode *rnode)
{
	SMgrRelation srel = smgropen(*rnode, InvalidBackendId);
	PGAlignedBlock page;

	PageInit(page.data, BLCKSZ, 0);
	log_newpage((RelFileNode *) rnode, MAIN_FORKNUM, 0, page.data, true);
	PageSetChecksumInplace(page.data, 0);
	smgrextend(srel, MAIN_FORKNUM, 0, page.data, false);
}

static void
vltab_relation_set_new_filenode(Relation rel, const RelFileNode *newrnode, char persistence,
								TransactionId *freezeXid, MultiXactId *minmulti)
{
	if (persistence == RELPERSISTENCE_UNLOGGED || persistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vlake tables cannot be %s", persistence == RELPERSISTENCE_TEMP ?
						"temporary" : "unlogged"),
				 errdetail("Their lake files are shared, durable objects.")));
	heap->relation_set_new_filenode(rel, newrnode, persistence, freezeXid, minmulti);
	empty_first_page(newrnode);
	/* TRUNCATE (and a rewrite): the lake rows go with the old contents */
	vltab_catalog_forget(RelationGetRelid(rel), true);
}

static void
vltab_relation_nontransactional_truncate(Relation rel)
{
	heap->relation_nontransactional_truncate(rel);
	ensure_delta_block(rel);
	vltab_catalog_forget(RelationGetRelid(rel), true);
}

static void
vltab_relation_copy_for_cluster(Relation OldTable, Relation NewTable, Relation OldIndex,
								bool use_sort, TransactionId OldestXmin,
								TransactionId *xid_cutoff, MultiXactId *multi_cutoff,
								double *num_tuples, double *tups_vacuumed,
								double *tups_recently_dead)
{
	/* the delta is rewritten; the lake rows stay where they are */
	vltab_cluster_note(RelationGetRelid(OldTable));
	VLTAB_AS_HEAP(OldTable,
				  heap->relation_copy_for_cluster(OldTable, NewTable, OldIndex, use_sort,
												  OldestXmin, xid_cutoff, multi_cutoff,
												  num_tuples, tups_vacuumed,
												  tups_recently_dead));
}

/*
 * Relations whose delta CLUSTER / VACUUM FULL copied in this transaction:
 * the swap that follows keeps their lake rows (vltab_rewrite_swapped).
 */
static List *cluster_copies = NIL;	/* of Oid, in TopTransactionContext */

void
vltab_cluster_note(Oid relid)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

	cluster_copies = list_append_unique_oid(cluster_copies, relid);
	MemoryContextSwitchTo(old);
}

void
vltab_cluster_reset(void)
{
	cluster_copies = NIL;
}

/*
 * relid's storage was swapped with its transient copy (make_new_heap's
 * "pg_temp_<relid>").  An ALTER TABLE rewrite (a volatile default, a type
 * change) filled that copy through a scan of every row, lake rows
 * included, so they now all live in the new delta: the old lake rows go
 * from the catalog (like TRUNCATE; their files become parts GC reclaims)
 * before the rewrite rebuilds the indexes.  CLUSTER and VACUUM FULL copy
 * only the delta: their lake rows stay.
 */
void
vltab_rewrite_swapped(Oid relid)
{
	if (list_member_oid(cluster_copies, relid))
		return;
	vltab_catalog_forget(relid, true);
}

/* Give an empty delta its one empty page (see the ANALYZE callbacks). */
static void
ensure_delta_block(Relation rel)
{
	Buffer		buf;

	if (RelationGetNumberOfBlocks(rel) > 0)
		return;
	LockRelationForExtension(rel, ExclusiveLock);
	if (RelationGetNumberOfBlocks(rel) == 0)
	{
		buf = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW, RBM_ZERO_AND_LOCK, NULL);
		START_CRIT_SECTION();
		PageInit(BufferGetPage(buf), BLCKSZ, 0);
		MarkBufferDirty(buf);
		log_newpage_buffer(buf, true);
		END_CRIT_SECTION();
		UnlockReleaseBuffer(buf);
	}
	UnlockRelationForExtension(rel, ExclusiveLock);
}

static void
vltab_relation_vacuum(Relation rel, struct VacuumParams *params, BufferAccessStrategy bstrategy)
{
	VltabSegmentList *segs;

	VLTAB_AS_HEAP(rel, heap->relation_vacuum(rel, params, bstrategy));
	ensure_delta_block(rel);
	/* heap counted the delta; reltuples counts the lake rows too */
	segs = vltab_segments_visible(RelationGetRelid(rel), GetLatestSnapshot());
	if (segs->nrows > 0)
	{
		HeapTuple	ctup = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(RelationGetRelid(rel)));

		if (HeapTupleIsValid(ctup))
		{
			Form_pg_class form = (Form_pg_class) GETSTRUCT(ctup);

			vac_update_relstats(rel, form->relpages, Max(form->reltuples, 0) + segs->nrows,
								form->relallvisible, form->relhasindex,
								InvalidTransactionId, InvalidMultiXactId, NULL, NULL, false);
		}
	}
}

/* ------------------------------------------------------- index builds -- */

/*
 * The columns an index build reads from lake segments: the key and INCLUDE
 * columns, and those its expressions and predicate use (a whole-row
 * reference needs them all).  Reading only their ColumnGroups keeps a btree
 * build from downloading the vector files of an S3 table.
 */
Bitmapset *
vltab_index_attrs(Relation rel, IndexInfo *ii)
{
	Bitmapset  *used = NULL;
	Bitmapset  *attrs = NULL;
	int			x = -1;

	for (int i = 0; i < ii->ii_NumIndexAttrs; i++)
		if (ii->ii_IndexAttrNumbers[i] > 0)
			attrs = bms_add_member(attrs, ii->ii_IndexAttrNumbers[i]);
	pull_varattnos((Node *) ii->ii_Expressions, 1, &used);
	pull_varattnos((Node *) ii->ii_Predicate, 1, &used);
	while ((x = bms_next_member(used, x)) >= 0)
	{
		AttrNumber	attno = x + FirstLowInvalidHeapAttributeNumber;

		if (attno == InvalidAttrNumber)
			return vltab_all_attrs(RelationGetDescr(rel));
		if (attno > 0)
			attrs = bms_add_member(attrs, attno);
	}
	return attrs;
}

static double
build_lake_rows(Relation rel, Relation index, IndexInfo *ii, Snapshot snapshot,
				IndexBuildCallback callback, void *state)
{
	Snapshot	snap = catalog_snapshot_for(snapshot);
	VltabSegmentList *segs = vltab_segments_visible(RelationGetRelid(rel), snap);
	int64		ndeleted = 0;
	int64	   *deleted;
	EState	   *estate;
	ExprContext *econtext;
	ExprState  *predicate;
	TupleTableSlot *slot;
	Bitmapset  *attrs;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	double		n = 0;

	if (segs->nsegments == 0)
		return 0;
	deleted = vltab_rowstate_deleted(RelationGetRelid(rel), snap, &ndeleted);

	estate = CreateExecutorState();
	econtext = GetPerTupleExprContext(estate);
	slot = table_slot_create(rel, NULL);
	econtext->ecxt_scantuple = slot;
	predicate = ExecPrepareQual(ii->ii_Predicate, estate);
	attrs = vltab_index_attrs(rel, ii);

	for (int i = 0; i < segs->nsegments; i++)
	{
		VltabSegment *seg = &segs->segments[i];
		VltabSegmentReader *r = vltab_segment_open(segs->root, RelationGetDescr(rel),
												   seg->first_row_id, seg->row_count,
												   seg->files, seg->nfiles);
		VltabSegmentScan *sc = vltab_segment_scan_begin(r, attrs);
		Datum	   *rv = palloc(sizeof(Datum) * RelationGetDescr(rel)->natts);
		bool	   *rn = palloc(sizeof(bool) * RelationGetDescr(rel)->natts);
		int64		row_id;

		while (vltab_segment_scan_next(sc, &row_id, rv, rn))
		{
			bool		alive = !rowid_deleted(deleted, ndeleted, row_id);

			CHECK_FOR_INTERRUPTS();
			/* a deleted row only an old snapshot sees: only non-unique builds */
			if (!alive && (IsMVCCSnapshot(snapshot) || ii->ii_Unique))
				continue;
			MemoryContextReset(econtext->ecxt_per_tuple_memory);
			store_lake_row(rel, row_id, rv, rn, slot);
			if (predicate != NULL && !ExecQual(predicate, econtext))
				continue;
			FormIndexDatum(ii, slot, estate, values, isnull);
			callback(index, &slot->tts_tid, values, isnull, alive, state);
			n++;
		}
		vltab_segment_scan_end(sc);
		vltab_segment_close(r);
	}
	ExecDropSingleTupleTableSlot(slot);
	FreeExecutorState(estate);
	return n;
}

static double
vltab_index_build_range_scan(Relation rel, Relation index, IndexInfo *ii, bool allow_sync,
							 bool anyvisible, bool progress, BlockNumber start_blockno,
							 BlockNumber numblocks, IndexBuildCallback callback,
							 void *state, TableScanDesc scan)
{
	double		n;
	Snapshot	snapshot = scan ? scan->rs_snapshot : NULL;

	if (index->rd_rel->relam == BRIN_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("BRIN indexes are not supported on vlake tables"),
				 errdetail("Lake segments keep their own per-page statistics; use a btree index for lookups.")));
	if (scan)
	{
		/* a parallel build's worker scan: its delta part is heap's */
		VltabScanDesc *s = (VltabScanDesc *) scan;

		VLTAB_AS_HEAP(rel, n = heap->index_build_range_scan(rel, index, ii, allow_sync,
															anyvisible, progress,
															start_blockno, numblocks,
															callback, state, s->delta));
		/* lake rows: the leader of a parallel build, or the serial build */
		if (!IsParallelWorker())
			n += build_lake_rows(rel, index, ii, snapshot, callback, state);
		return n;
	}
	VLTAB_AS_HEAP(rel, n = heap->index_build_range_scan(rel, index, ii, allow_sync, anyvisible,
														progress, start_blockno, numblocks,
														callback, state, NULL));
	if (start_blockno == 0 && numblocks == InvalidBlockNumber)
		n += build_lake_rows(rel, index, ii, snapshot ? snapshot : SnapshotAny, callback, state);
	return n;
}

static void
vltab_index_validate_scan(Relation rel, Relation index, IndexInfo *ii, Snapshot snapshot,
						  ValidateIndexState *state)
{
	VltabSegmentList *segs = vltab_segments_visible(RelationGetRelid(rel), snapshot);

	if (segs->nsegments > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("CREATE INDEX CONCURRENTLY is not supported on vlake tables with lake segments"),
				 errhint("Use CREATE INDEX without CONCURRENTLY.")));
	VLTAB_AS_HEAP(rel, heap->index_validate_scan(rel, index, ii, snapshot, state));
}

/* ------------------------------------------------------------- sizes -- */

/*
 * Planner sizes.  pg_class.reltuples of a vlake table counts delta and lake
 * rows (ANALYZE weighs its lake sample so; VACUUM adds the lake rows after
 * heap's count, vltab_relation_vacuum), so heap's density estimate over the
 * delta pages already covers the lake; the lake rows are added only before
 * the first ANALYZE or VACUUM.  Pages: the delta's plus the lake's bytes.
 */
static void
vltab_relation_estimate_size(Relation rel, int32 *attr_widths, BlockNumber *pages,
							 double *tuples, double *allvisfrac)
{
	VltabSegmentList *segs;

	int32		width;
	double		lake_rows;
	double		lake_pages;

	heap->relation_estimate_size(rel, attr_widths, pages, tuples, allvisfrac);
	width = get_rel_data_width(rel, attr_widths);
	if (rel->rd_rel->reltuples >= 0)
	{
		/* analyzed or vacuumed: reltuples counts the lake; no catalog read
		 * (planning a point query stays as cheap as on heap) */
		lake_rows = Max(*tuples - (double) *pages * BLCKSZ / (width + 24), 0);
	}
	else
	{
		segs = vltab_segments_visible(RelationGetRelid(rel),
									  GetCatalogSnapshot(RelationGetRelid(rel)));
		lake_rows = segs->nrows;
		*tuples += lake_rows;
	}
	lake_pages = ceil(lake_rows * (width + 24) / BLCKSZ);
	*pages += (BlockNumber) Min(lake_pages, (double) (MaxBlockNumber / 2));
}

static uint64
vltab_relation_size(Relation rel, ForkNumber fork)
{
	return heap->relation_size(rel, fork);
}

/* ------------------------------------------------------------ handler -- */

const TableAmRoutine *
vltab_routine(void)
{
	if (routine_ready)
		return &routine;
	heap = GetHeapamTableAmRoutine();
	routine = *heap;
	routine.scan_begin = vltab_scan_begin;
	routine.scan_end = vltab_scan_end;
	routine.scan_rescan = vltab_scan_rescan;
	routine.scan_getnextslot = vltab_scan_getnextslot;
	routine.scan_set_tidrange = vltab_scan_set_tidrange;
	routine.scan_getnextslot_tidrange = vltab_scan_getnextslot_tidrange;
	routine.parallelscan_estimate = vltab_parallelscan_estimate;
	routine.parallelscan_initialize = vltab_parallelscan_initialize;
	routine.parallelscan_reinitialize = vltab_parallelscan_reinitialize;
	routine.index_fetch_begin = vltab_index_fetch_begin;
	routine.index_fetch_reset = vltab_index_fetch_reset;
	routine.index_fetch_end = vltab_index_fetch_end;
	routine.index_fetch_tuple = vltab_index_fetch_tuple;
	routine.tuple_fetch_row_version = vltab_tuple_fetch_row_version;
	routine.tuple_tid_valid = vltab_tuple_tid_valid;
	routine.tuple_get_latest_tid = vltab_tuple_get_latest_tid;
	routine.tuple_satisfies_snapshot = vltab_tuple_satisfies_snapshot;
	routine.index_delete_tuples = vltab_index_delete_tuples;
	routine.tuple_insert = vltab_tuple_insert;
	routine.tuple_insert_speculative = vltab_tuple_insert_speculative;
	routine.multi_insert = vltab_multi_insert;
	routine.finish_bulk_insert = vltab_finish_bulk_insert;
	routine.tuple_delete = vltab_tuple_delete;
	routine.tuple_update = vltab_tuple_update;
	routine.tuple_lock = vltab_tuple_lock;
	routine.relation_set_new_filenode = vltab_relation_set_new_filenode;
	routine.relation_nontransactional_truncate = vltab_relation_nontransactional_truncate;
	routine.relation_copy_for_cluster = vltab_relation_copy_for_cluster;
	routine.relation_vacuum = vltab_relation_vacuum;
	routine.scan_analyze_next_block = vltab_scan_analyze_next_block;
	routine.scan_analyze_next_tuple = vltab_scan_analyze_next_tuple;
	routine.index_build_range_scan = vltab_index_build_range_scan;
	routine.index_validate_scan = vltab_index_validate_scan;
	routine.relation_size = vltab_relation_size;
	routine.relation_estimate_size = vltab_relation_estimate_size;
	routine.scan_bitmap_next_block = vltab_scan_bitmap_next_block;
	routine.scan_bitmap_next_tuple = vltab_scan_bitmap_next_tuple;
	routine.scan_sample_next_block = vltab_scan_sample_next_block;
	routine.scan_sample_next_tuple = vltab_scan_sample_next_tuple;
	routine_ready = true;
	return &routine;
}

bool
vltab_is_vlake(Relation rel)
{
	return rel->rd_tableam == vltab_routine();
}

PG_FUNCTION_INFO_V1(vlake_table_handler);
Datum
vlake_table_handler(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(vltab_routine());
}
