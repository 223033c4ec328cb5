/*
 * vltab_flush.c — rows entering the lake: the flush of the delta, and
 * COPY batches written as segments directly.
 *
 * Flush (one transaction X, the dataset locked):
 *   1. read the delta with the latest snapshot; a row qualifies when its
 *      inserter committed and nobody deletes or locks it;
 *   2. delete it from the delta without waiting (a row someone is changing
 *      stays for the next flush);
 *   3. write the deleted rows as one segment, record it in the catalog,
 *      point every index at the new lake TIDs, and note each move in
 *      vlake.moved_rows.
 * Exactly-once: a snapshot that sees X sees the segment and not the delta
 * tuple (deleted by X); one that does not see X sees the delta tuple if it
 * sees its inserter (committed before X read it) and not the segment.
 * A crash before X commits leaves files no catalog names (lake GC removes
 * them) and the delta as it was.
 *
 * COPY: the first vlake.copy_lake_threshold rows of a COPY go to the delta
 * like any insert; later batches stream into segments of the copying
 * transaction (at most vlake.segment_rows rows each), with the COPY's
 * transaction as the segment's writer.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "storage/itemptr.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "access/table.h"
#include "access/genam.h"
#include "access/htup_details.h"

#include "lake/lake_fault.h"
#include "lake/lake_part.h"
#include "lake/lake_rowref.h"
#include "objstore/objstore.h"
#include "tableam/vltab.h"
#include "tableam/vltab_patch.h"

int			vltab_max_segment_rows = 1000000;
int			vltab_copy_threshold = 10000;

/* ------------------------------------------------- one segment written -- */

typedef struct SegmentBuild
{
	VltabDataset *ds;
	VltabSegmentWriter *w;
	int64		first_row_id;
	int64		rows;
	int64		reserved_end;	/* row IDs below are this writer's */
	int64		chunk;			/* next reservation */
	char	   *prefix;
} SegmentBuild;

#define ROWID_CHUNK_FIRST	4096
#define ROWID_CHUNK_MAX		(1024 * 1024)

static void
segment_start(SegmentBuild *b, Relation rel, VltabDataset *ds)
{
	ObjStore   *store;

	b->ds = ds;
	b->rows = 0;
	b->chunk = ROWID_CHUNK_FIRST;
	b->first_row_id = vltab_rowids_reserve(ds, b->chunk);
	b->reserved_end = b->first_row_id + b->chunk;
	b->prefix = lake_part_new_prefix(&vltab_part_kind, RelationGetRelid(rel));
	store = objstore_open(ds->root);
	lake_part_begin(store, b->prefix, &vltab_part_kind);
	objstore_close(store);
	b->w = vltab_segment_begin_grouped(ds->root, b->prefix, RelationGetDescr(rel),
									   b->first_row_id, vltab_column_groups(rel));
}

static int64
segment_add(SegmentBuild *b, Datum *values, bool *isnull)
{
	int64		row_id = b->first_row_id + b->rows;

	if (row_id >= b->reserved_end)
	{
		int64		more;

		b->chunk = Min(b->chunk * 2, ROWID_CHUNK_MAX);
		more = vltab_rowids_reserve(b->ds, b->chunk);
		if (more != b->reserved_end)
			elog(ERROR, "vlake row IDs of \"%s\" were reserved by another writer",
				 b->prefix);
		b->reserved_end += b->chunk;
	}
	if ((uint64) row_id > LAKE_ROWID_MAX)
	{
		ItemPointerData t;

		lake_rowid_to_tid((uint64) row_id, &t);	/* ERRORs */
	}
	vltab_segment_add(b->w, values, isnull);
	b->rows++;
	return row_id;
}

/* Finish the files and record the segment; returns bytes written. */
static int64
segment_finish(SegmentBuild *b, const char *operation)
{
	VltabSegment seg;
	int64		bytes = 0;

	memset(&seg, 0, sizeof(seg));
	seg.files = vltab_segment_finish(b->w, &seg.nfiles);
	b->w = NULL;
	/* the IDs reserved but not used go back (nothing can name them) */
	vltab_rowids_release(b->ds, b->first_row_id + b->rows);
	lake_fault(strcmp(operation, "flush") == 0 ? "flush_after_files" : "copy_after_files");
	for (int i = 0; i < seg.nfiles; i++)
		bytes += seg.files[i].size + seg.files[i].objects_size;
	vltab_version_note(b->ds, operation, b->rows, 0, bytes);
	seg.segment_id = b->ds->next_segment_id++;
	seg.first_row_id = b->first_row_id;
	seg.end_row_id = b->first_row_id + b->rows;
	seg.row_count = b->rows;
	seg.version = b->ds->version;
	b->ds->next_row_id = seg.end_row_id;
	vltab_segment_insert(b->ds, &seg, operation);
	vltab_dataset_update(b->ds);
	lake_fault(strcmp(operation, "flush") == 0 ? "flush_after_catalog" : "copy_after_catalog");
	return bytes;
}

/* ---------------------------------------------------------------- flush -- */

typedef struct MovedRow
{
	ItemPointerData delta_tid;
	int64		row_id;
} MovedRow;

static void
record_moves(Relation rel, MovedRow *moved, int64 n)
{
	Relation	cat = table_open(vltab_catalog_relid("moved_rows"), RowExclusiveLock);
	CatalogIndexState ind = CatalogOpenIndexes(cat);
	Datum		xid = UInt64GetDatum(U64FromFullTransactionId(GetTopFullTransactionId()));

	for (int64 i = 0; i < n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};
		HeapTuple	tup;

		values[0] = ObjectIdGetDatum(RelationGetRelid(rel));
		values[1] = PointerGetDatum(&moved[i].delta_tid);
		values[2] = xid;
		values[3] = Int64GetDatum(moved[i].row_id);
		tup = heap_form_tuple(RelationGetDescr(cat), values, nulls);
		CatalogTupleInsertWithInfo(cat, tup, ind);
		heap_freetuple(tup);
	}
	CatalogCloseIndexes(ind);
	table_close(cat, RowExclusiveLock);
}

/* rel's indexes, opened to point them at moved rows' lake TIDs (NULL: none). */
static ResultRelInfo *
open_indexes(Relation rel, EState **estate)
{
	ResultRelInfo *rri;

	*estate = NULL;
	if (!RelationGetForm(rel)->relhasindex)
		return NULL;
	*estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	return rri;
}

/*
 * Folding updates back.  A lake row updated by a committed transaction has
 * its new version in the delta and a 'u' entry (vltab_rowstate.c) naming
 * it and the columns it changed.  When none of those columns is indexed,
 * the flush writes the new values as a column patch of the row's segment
 * (vltab_patch.h: only the changed columns' files) and drops the entry, so
 * the row keeps its row ID and TID: every index entry of that TID still
 * holds the row's key values, and the delta tuple's entries die with it.
 * Snapshots that do not see the flush see the entry and the delta tuple,
 * the others the patched row: the same exactly-once argument as a move.
 */
typedef struct FoldRow
{
	int64		row_id;
	Bitmapset  *attrs;
	HeapTuple	tup;
} FoldRow;

typedef struct FoldState
{
	VltabRowUpdate *upd;		/* by new_tid */
	int			nupd;
	Bitmapset  *indexed;		/* offset by FirstLowInvalidHeapAttributeNumber */
	FoldRow    *rows;
	int			nrows;
	int			cap;
} FoldState;

static int
upd_tid_cmp(const void *a, const void *b)
{
	return ItemPointerCompare(&((VltabRowUpdate *) a)->new_tid, &((VltabRowUpdate *) b)->new_tid);
}

static int
fold_row_cmp(const void *a, const void *b)
{
	int64		x = ((const FoldRow *) a)->row_id,
				y = ((const FoldRow *) b)->row_id;

	return (x > y) - (x < y);
}

static void
fold_start(FoldState *fs, Relation rel, Snapshot snap)
{
	memset(fs, 0, sizeof(*fs));
	fs->upd = vltab_rowstate_updates(RelationGetRelid(rel), snap, &fs->nupd);
	qsort(fs->upd, fs->nupd, sizeof(VltabRowUpdate), upd_tid_cmp);
	fs->indexed = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_ALL);
}

/* The update whose new version is slot's tuple, if it can be folded back. */
static VltabRowUpdate *
fold_candidate(FoldState *fs, TupleTableSlot *slot)
{
	VltabRowUpdate key;
	VltabRowUpdate *u;
	int			a = -1;

	if (fs->nupd == 0)
		return NULL;
	key.new_tid = slot->tts_tid;
	u = bsearch(&key, fs->upd, fs->nupd, sizeof(VltabRowUpdate), upd_tid_cmp);
	if (u == NULL || bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, fs->indexed))
		return NULL;
	while ((a = bms_next_member(u->attrs, a)) >= 0)
		if (bms_is_member(a - FirstLowInvalidHeapAttributeNumber, fs->indexed))
			return NULL;		/* an indexed column changed: a new row ID */
	return u;
}

static void
fold_add(FoldState *fs, VltabRowUpdate *u, TupleTableSlot *slot)
{
	if (fs->nrows == fs->cap)
	{
		fs->cap = fs->cap ? fs->cap * 2 : 256;
		fs->rows = fs->rows ? repalloc_huge(fs->rows, sizeof(FoldRow) * fs->cap) :
			palloc(sizeof(FoldRow) * fs->cap);
	}
	fs->rows[fs->nrows].row_id = u->row_id;
	fs->rows[fs->nrows].attrs = u->attrs;
	fs->rows[fs->nrows].tup = ExecCopySlotHeapTuple(slot);
	fs->nrows++;
}

/* Write the folded rows as one column patch per segment; returns bytes. */
static int64
fold_finish(FoldState *fs, Relation rel, VltabDataset *ds)
{
	TupleDesc	desc = RelationGetDescr(rel);
	VltabSegmentList *segs;
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *isnull = palloc(sizeof(bool) * desc->natts);
	int64	   *ids = palloc(sizeof(int64) * Max(fs->nrows, 1));
	int64		bytes = 0;
	int			i = 0;

	if (fs->nrows == 0)
		return 0;
	qsort(fs->rows, fs->nrows, sizeof(FoldRow), fold_row_cmp);
	segs = vltab_segments_visible(RelationGetRelid(rel), GetLatestSnapshot());
	while (i < fs->nrows)
	{
		VltabSegment *seg = vltab_segment_find(segs, fs->rows[i].row_id);
		Bitmapset  *attrs = NULL;
		int			j;

		if (seg == NULL)
			elog(ERROR, "vlake flush of \"%s\": updated lake row " INT64_FORMAT " is in no segment",
				 RelationGetRelationName(rel), fs->rows[i].row_id);
		for (j = i; j < fs->nrows && fs->rows[j].row_id < seg->end_row_id; j++)
			attrs = bms_add_members(attrs, fs->rows[j].attrs);
		if (attrs != NULL)
		{
			VltabPatch *p = vltab_patch_begin(rel, ds, seg, attrs);

			for (int k = i; k < j; k++)
			{
				heap_deform_tuple(fs->rows[k].tup, desc, values, isnull);
				vltab_patch_set(p, fs->rows[k].row_id, values, isnull);
			}
			bytes += vltab_patch_finish(p);
		}
		for (int k = i; k < j; k++)
			ids[k] = fs->rows[k].row_id;
		i = j;
	}
	vltab_rowstate_forget(rel, ids, fs->nrows);
	return bytes;
}

static int64
flush_relation(Relation rel, int64 max_rows)
{
	const TableAmRoutine *heap = GetHeapamTableAmRoutine();
	VltabDataset *ds = vltab_dataset_lock(rel);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan;
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	SegmentBuild b;
	MovedRow   *moved = NULL;
	int64		n = 0,
				cap = 0;
	CommandId	cid = GetCurrentCommandId(true);
	EState	   *estate;
	ResultRelInfo *indexes = open_indexes(rel, &estate);
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "vlake flush row",
												 ALLOCSET_DEFAULT_SIZES);
	FoldState	fs;
	int64		nnew = 0,
				bytes;

	memset(&b, 0, sizeof(b));
	fold_start(&fs, rel, snap);
	scan = heap->scan_begin(rel, snap, 0, NULL, NULL,
							SO_TYPE_SEQSCAN | SO_ALLOW_STRAT | SO_ALLOW_PAGEMODE);
	while ((max_rows <= 0 || n < max_rows) &&
		   heap->scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		TM_FailureData tmfd;
		TM_Result	res;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		/* inserted by us: not settled; otherwise claim it without waiting */
		res = heap->tuple_delete(rel, &slot->tts_tid, cid, snap, InvalidSnapshot, false,
								 &tmfd, false);
		if (res != TM_Ok)
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 1024;
			moved = moved ? repalloc_huge(moved, sizeof(MovedRow) * cap) :
				palloc(sizeof(MovedRow) * cap);
		}
		slot_getallattrs(slot);
		{
			VltabRowUpdate *u = fold_candidate(&fs, slot);

			if (u)
			{
				moved[n].delta_tid = slot->tts_tid;
				moved[n++].row_id = u->row_id;
				fold_add(&fs, u, slot);
				continue;
			}
		}
		if (b.w == NULL)
			segment_start(&b, rel, ds);
		nnew++;
		old = MemoryContextSwitchTo(rowcxt);
		moved[n].delta_tid = slot->tts_tid;
		moved[n].row_id = segment_add(&b, slot->tts_values, slot->tts_isnull);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
		/*
		 * Point every index at the row's lake TID now, from the values in
		 * hand (an incremental CREATE INDEX).  A unique index meets the
		 * delta tuple's entry, deleted by this transaction: no conflict.
		 */
		if (indexes)
		{
			lake_rowid_to_tid((uint64) moved[n].row_id, &slot->tts_tid);
			ExecInsertIndexTuples(indexes, slot, estate, false, false, NULL, NIL);
			ResetPerTupleExprContext(estate);
		}
		n++;
	}
	heap->scan_end(scan);
	ExecDropSingleTupleTableSlot(slot);
	if (indexes)
	{
		ExecCloseIndices(indexes);
		FreeExecutorState(estate);
	}
	UnregisterSnapshot(snap);
	if (n == 0)
		return 0;
	lake_fault("flush_before_finish");
	if (nnew > 0)
		segment_finish(&b, "flush");
	bytes = fold_finish(&fs, rel, ds);
	if (fs.nrows > 0)
		vltab_version_note(ds, "flush", 0, 0, bytes);
	record_moves(rel, moved, n);
	CommandCounterIncrement();
	lake_fault("flush_before_commit");
	return n;
}

int64
vltab_flush_relation(Relation rel, int64 max_rows)
{
	vltab_refuse_published(rel, "flush");
	return flush_relation(rel, max_rows);
}

/* ----------------------------------------------------------------- COPY -- */

typedef struct BulkState
{
	Oid			relid;
	int64		rows_seen;
	SegmentBuild b;
	MemoryContext cxt;
} BulkState;

static List *bulk_states = NIL;	/* in TopTransactionContext */

static BulkState *
bulk_state(Relation rel, bool create)
{
	ListCell   *lc;
	BulkState  *st;
	MemoryContext old;

	foreach(lc, bulk_states)
	{
		st = lfirst(lc);
		if (st->relid == RelationGetRelid(rel))
			return st;
	}
	if (!create)
		return NULL;
	old = MemoryContextSwitchTo(TopTransactionContext);
	st = palloc0(sizeof(BulkState));
	st->relid = RelationGetRelid(rel);
	st->cxt = AllocSetContextCreate(TopTransactionContext, "vlake COPY segment",
									ALLOCSET_DEFAULT_SIZES);
	bulk_states = lappend(bulk_states, st);
	MemoryContextSwitchTo(old);
	return st;
}

static bool
has_row_triggers(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;

	return td && (td->trig_insert_after_row || td->trig_insert_new_table ||
				  td->trig_insert_before_row || td->trig_insert_instead_row);
}

void
vltab_bulk_add(Relation rel, TupleTableSlot **slots, int nslots, CommandId cid, int options,
			   BulkInsertState bistate)
{
	BulkState  *st = bulk_state(rel, true);
	MemoryContext old;

	if (st->b.w == NULL &&
		(st->rows_seen + nslots <= vltab_copy_threshold || has_row_triggers(rel) ||
		 IsolationIsSerializable()))
	{
		st->rows_seen += nslots;
		GetHeapamTableAmRoutine()->multi_insert(rel, slots, nslots, cid, options, bistate);
		return;
	}
	st->rows_seen += nslots;
	old = MemoryContextSwitchTo(st->cxt);
	for (int i = 0; i < nslots; i++)
	{
		TupleTableSlot *slot = slots[i];
		int64		row_id;

		if (st->b.w == NULL)
		{
			vltab_refuse_published(rel, "copy into lake segments of");
			segment_start(&st->b, rel, vltab_dataset_lock(rel));
		}
		slot_getallattrs(slot);
		row_id = segment_add(&st->b, slot->tts_values, slot->tts_isnull);
		lake_rowid_to_tid((uint64) row_id, &slot->tts_tid);
		slot->tts_tableOid = RelationGetRelid(rel);
		if (st->b.rows >= vltab_max_segment_rows)
			segment_finish(&st->b, "copy");
	}
	MemoryContextSwitchTo(old);
	lake_fault("copy_after_batch");
}

void
vltab_bulk_finish(Relation rel, int options)
{
	BulkState  *st = bulk_state(rel, false);

	if (st == NULL)
		return;
	if (st->b.w != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(st->cxt);

		segment_finish(&st->b, "copy");
		MemoryContextSwitchTo(old);
	}
	bulk_states = list_delete_ptr(bulk_states, st);
	MemoryContextDelete(st->cxt);
}

/* Transaction end: streams of an aborted COPY are aborted by objstore. */
void
vltab_bulk_reset(void)
{
	bulk_states = NIL;
}
