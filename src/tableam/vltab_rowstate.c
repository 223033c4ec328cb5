/*
 * vltab_rowstate.c — deleting, updating and locking lake rows.
 *
 * A lake row is immutable in its segment; what happens to it is a row of
 * vlake.row_states (relid, row_id, kind, new_tid), inserted by the
 * transaction that deletes ('d'), updates ('u', new_tid = the new version
 * in the delta) or locks ('l') the row.  Why this is heap's behaviour:
 *
 *  (V) Visibility.  The entry is an ordinary heap tuple, so "snapshot S
 *      sees the deletion" is exactly "S sees the entry" (HeapTupleSatisfies-
 *      MVCC on its xmin/cmin), including subtransactions, aborts and the
 *      deleting command not seeing its own deletion (entries are inserted
 *      with the writing command's cid).
 *  (W) Writers meet.  Two writers of one row serialize first on the
 *      heavyweight tuple lock of the lake TID (as heap_delete does), then on
 *      the entry: one that finds an entry of a transaction in progress waits
 *      for it (XactLockTableWait), then looks again.  The unique key
 *      (relid, row_id) makes a missed meeting an ERROR, never two entries.
 *  (R) Results.  A committed 'd'/'u' entry is TM_Deleted/TM_Updated with
 *      the entry's xid as xmax and new_tid as ctid, so the executor's
 *      READ COMMITTED re-check (EvalPlanQual on the new version) and
 *      REPEATABLE READ serialization failure follow as on heap.  Own
 *      entries are TM_SelfModified.  A lock entry of a finished transaction
 *      means nothing and is replaced.
 *
 * Limits: every lock mode is exclusive on lake rows (FOR SHARE and
 * FOR KEY SHARE of one lake row by two transactions wait for each other).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "storage/itemptr.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "lake/lake_rowref.h"
#include "tableam/vltab.h"

enum
{
	RS_RELID = 1, RS_ROW_ID, RS_KIND, RS_NEW_TID, RS_ATTRS, RS_NATTS = RS_ATTRS
};

static SysScanDesc
probe(Relation cat, Oid relid, int64 row_id, Snapshot snapshot)
{
	ScanKeyData keys[2];

	ScanKeyInit(&keys[0], RS_RELID, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], RS_ROW_ID, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(row_id));
	return systable_beginscan(cat, vltab_catalog_relid("row_states_pkey"), true, snapshot,
							  2, keys);
}

/* Every entry of relid snapshot sees, in row-ID order. */
static SysScanDesc
scan_table(Relation cat, Oid relid, Snapshot snapshot)
{
	ScanKeyData key;

	ScanKeyInit(&key, RS_RELID, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	return systable_beginscan(cat, vltab_catalog_relid("row_states_pkey"), true, snapshot,
							  1, &key);
}

static int64
entry_row_id(HeapTuple tup, Relation cat)
{
	bool		isnull;

	return DatumGetInt64(heap_getattr(tup, RS_ROW_ID, RelationGetDescr(cat), &isnull));
}

static char
entry_kind(HeapTuple tup, Relation cat)
{
	bool		isnull;

	return DatumGetChar(heap_getattr(tup, RS_KIND, RelationGetDescr(cat), &isnull));
}

static void
entry_new_tid(HeapTuple tup, Relation cat, ItemPointer out)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, RS_NEW_TID, RelationGetDescr(cat), &isnull);

	if (isnull)
		ItemPointerSetInvalid(out);
	else
		*out = *((ItemPointer) DatumGetPointer(d));
}

/* Insert an entry with the writing command's cid, and its index entries. */
static void
insert_entry(Relation cat, Oid relid, int64 row_id, char kind, ItemPointer new_tid,
			 CommandId cid)
{
	Datum		values[RS_NATTS];
	bool		nulls[RS_NATTS] = {0};
	HeapTuple	tup;
	List	   *indexes;
	ListCell   *lc;

	values[RS_RELID - 1] = ObjectIdGetDatum(relid);
	values[RS_ROW_ID - 1] = Int64GetDatum(row_id);
	values[RS_KIND - 1] = CharGetDatum(kind);
	if (new_tid && ItemPointerIsValid(new_tid))
	{
		ItemPointer t = palloc(sizeof(ItemPointerData));

		*t = *new_tid;
		values[RS_NEW_TID - 1] = PointerGetDatum(t);
	}
	else
		nulls[RS_NEW_TID - 1] = true;
	nulls[RS_ATTRS - 1] = true;
	tup = heap_form_tuple(RelationGetDescr(cat), values, nulls);
	heap_insert(cat, tup, cid, 0, NULL);

	indexes = RelationGetIndexList(cat);
	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), RowExclusiveLock);
		IndexInfo  *ii = BuildIndexInfo(idx);
		Datum		iv[INDEX_MAX_KEYS];
		bool		in[INDEX_MAX_KEYS];

		for (int k = 0; k < ii->ii_NumIndexAttrs; k++)
			iv[k] = heap_getattr(tup, ii->ii_IndexAttrNumbers[k], RelationGetDescr(cat), &in[k]);
		index_insert(idx, iv, in, &tup->t_self, cat,
					 idx->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, ii);
		index_close(idx, RowExclusiveLock);
	}
}

/* Replace an entry that no longer counts (a lock) by a new one. */
static void
replace_entry(Relation cat, ItemPointer old, Oid relid, int64 row_id, char kind,
			  ItemPointer new_tid, CommandId cid)
{
	CommandCounterIncrement();
	simple_heap_delete(cat, old);
	CommandCounterIncrement();
	insert_entry(cat, relid, row_id, kind, new_tid, cid);
}

/* What a writer that met entry tup learns (heap's TM_FailureData). */
static void
fill_failure(TM_FailureData *tmfd, HeapTuple tup, Relation cat, TransactionId xmax,
			 CommandId cmax, ItemPointer self)
{
	tmfd->xmax = xmax;
	tmfd->cmax = cmax;
	entry_new_tid(tup, cat, &tmfd->ctid);
	if (!ItemPointerIsValid(&tmfd->ctid))
		tmfd->ctid = *self;
	tmfd->traversed = false;
}

/* Has this transaction an entry for the row (live, as a dirty snapshot sees)? */
static bool
own_entry(Relation cat, Oid relid, int64 row_id)
{
	SnapshotData dirty;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		own = false;

	InitDirtySnapshot(dirty);
	scan = probe(cat, relid, row_id, &dirty);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
			own = true;
	}
	systable_endscan(scan);
	return own;
}

static void
lock_failed(Relation rel, ItemPointer tid)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not obtain lock on row in relation \"%s\"",
					RelationGetRelationName(rel))));
}

TM_Result
vltab_rowstate_mark(Relation rel, int64 row_id, char kind, ItemPointer new_tid,
					CommandId cid, Snapshot snapshot, Snapshot crosscheck, bool wait,
					LockWaitPolicy policy, TM_FailureData *tmfd)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), RowExclusiveLock);
	Oid			relid = RelationGetRelid(rel);
	ItemPointerData tid;
	TM_Result	result = TM_Ok;
	bool		tuple_locked = true;

	lake_rowid_to_tid((uint64) row_id, &tid);

	/*
	 * A row this transaction already locked, deleted or updated is ours: no
	 * tuple lock (a waiter for our row lock holds it, as on heap, and would
	 * deadlock with us).  Nobody else can change our entry meanwhile.
	 */
	if (own_entry(cat, RelationGetRelid(rel), row_id))
		tuple_locked = false;
	else if (!wait || policy != LockWaitBlock)
	{
		if (!ConditionalLockTuple(rel, &tid, ExclusiveLock))
		{
			table_close(cat, RowExclusiveLock);
			if (policy == LockWaitError)
				lock_failed(rel, &tid);
			return TM_WouldBlock;
		}
	}
	else
		LockTuple(rel, &tid, ExclusiveLock);

	for (;;)
	{
		SnapshotData dirty;
		SysScanDesc scan;
		HeapTuple	tup;
		TransactionId xmin;
		char		k;

		CHECK_FOR_INTERRUPTS();
		InitDirtySnapshot(dirty);
		scan = probe(cat, relid, row_id, &dirty);
		tup = systable_getnext(scan);
		if (!HeapTupleIsValid(tup))
		{
			systable_endscan(scan);
			insert_entry(cat, relid, row_id, kind, new_tid, cid);
			break;
		}
		xmin = HeapTupleHeaderGetXmin(tup->t_data);
		k = entry_kind(tup, cat);
		if (TransactionIdIsCurrentTransactionId(xmin))
		{
			CommandId	cmin = HeapTupleHeaderGetRawCommandId(tup->t_data);

			if (k == 'l')
			{
				/* our own lock: nothing to do for a lock, else replace it */
				ItemPointerData self = tup->t_self;

				systable_endscan(scan);
				if (kind != 'l')
					replace_entry(cat, &self, relid, row_id, kind, new_tid, cid);
				break;
			}
			/* deleted or updated by this transaction (maybe by this command) */
			fill_failure(tmfd, tup, cat, xmin, cmin >= cid ? cid : cmin, &tid);
			systable_endscan(scan);
			result = TM_SelfModified;
			break;
		}
		if (TransactionIdIsValid(dirty.xmin))
		{
			/* a writer in progress: wait for it, then look again */
			TransactionId other = dirty.xmin;

			systable_endscan(scan);
			if (!wait || policy == LockWaitSkip)
			{
				result = TM_WouldBlock;
				break;
			}
			if (policy == LockWaitError)
			{
				if (!ConditionalXactLockTableWait(other))
					lock_failed(rel, &tid);
			}
			else
				XactLockTableWait(other, rel, &tid, XLTW_Delete);
			continue;
		}
		if (k == 'l')
		{
			/* the lock of a finished transaction: replace it */
			ItemPointerData self = tup->t_self;

			systable_endscan(scan);
			replace_entry(cat, &self, relid, row_id, kind, new_tid, cid);
			break;
		}
		/* deleted or updated by a committed transaction */
		fill_failure(tmfd, tup, cat, xmin, InvalidCommandId, &tid);
		result = (k == 'u') ? TM_Updated : TM_Deleted;
		systable_endscan(scan);
		break;
	}
	if (tuple_locked)
		UnlockTuple(rel, &tid, ExclusiveLock);
	table_close(cat, RowExclusiveLock);
	if (result == TM_Ok && kind != 'l')
		vltab_publish_note_delete(rel);
	if (result == TM_Ok)
		CommandCounterIncrement();
	(void) snapshot;
	(void) crosscheck;
	return result;
}

void
vltab_rowstate_set_new_tid(Relation rel, int64 row_id, ItemPointer new_tid, Bitmapset *attrs)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), RowExclusiveLock);
	SysScanDesc scan;
	HeapTuple	tup;

	CommandCounterIncrement();
	scan = probe(cat, RelationGetRelid(rel), row_id, GetLatestSnapshot());
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		Datum		values[RS_NATTS] = {0};
		bool		nulls[RS_NATTS] = {0};
		bool		repl[RS_NATTS] = {0};
		ItemPointer t = palloc(sizeof(ItemPointerData));

		*t = *new_tid;
		values[RS_NEW_TID - 1] = PointerGetDatum(t);
		repl[RS_NEW_TID - 1] = true;
		repl[RS_ATTRS - 1] = true;
		{
			Datum	   *d = palloc(sizeof(Datum) * (bms_num_members(attrs) + 1));
			int			a = -1,
						k = 0;

			while ((a = bms_next_member(attrs, a)) >= 0)
				d[k++] = Int16GetDatum((int16) a);
			values[RS_ATTRS - 1] = PointerGetDatum(construct_array(d, k, INT2OID, 2, true,
																   TYPALIGN_SHORT));
		}
		CatalogTupleUpdate(cat, &tup->t_self,
						   heap_modify_tuple(tup, RelationGetDescr(cat), values, nulls, repl));
	}
	systable_endscan(scan);
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

/*
 * The updates ('u' entries) of relid's lake rows snapshot sees whose new
 * version and changed columns are recorded (*n of them).
 */
VltabRowUpdate *
vltab_rowstate_updates(Oid relid, Snapshot snapshot, int *n)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;
	int			cap = 64;
	VltabRowUpdate *u = palloc(sizeof(VltabRowUpdate) * cap);

	*n = 0;
	scan = scan_table(cat, relid, snapshot);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d;
		Datum	   *elems;
		int			ne;

		if (entry_kind(tup, cat) != 'u')
			continue;
		d = heap_getattr(tup, RS_ATTRS, RelationGetDescr(cat), &isnull);
		if (isnull)
			continue;
		if (*n == cap)
		{
			cap *= 2;
			u = repalloc_huge(u, sizeof(VltabRowUpdate) * cap);
		}
		u[*n].row_id = entry_row_id(tup, cat);
		entry_new_tid(tup, cat, &u[*n].new_tid);
		u[*n].attrs = NULL;
		deconstruct_array(DatumGetArrayTypeP(d), INT2OID, 2, true, TYPALIGN_SHORT,
						  &elems, NULL, &ne);
		for (int i = 0; i < ne; i++)
			u[*n].attrs = bms_add_member(u[*n].attrs, DatumGetInt16(elems[i]));
		if (ItemPointerIsValid(&u[*n].new_tid))
			(*n)++;
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return u;
}

/* The rows live again at their row IDs (a flush folded their updates back). */
void
vltab_rowstate_forget(Relation rel, const int64 *row_ids, int n)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), RowExclusiveLock);

	for (int i = 0; i < n; i++)
	{
		SysScanDesc scan = probe(cat, RelationGetRelid(rel), row_ids[i], GetLatestSnapshot());
		HeapTuple	tup;

		while (HeapTupleIsValid(tup = systable_getnext(scan)))
			CatalogTupleDelete(cat, &tup->t_self);
		systable_endscan(scan);
	}
	table_close(cat, RowExclusiveLock);
	if (n > 0)
		vltab_publish_note_delete(rel);
	CommandCounterIncrement();
}

/*
 * Row IDs of rel whose values compaction may erase (sorted): a 'd' or 'u'
 * entry snap sees whose writer precedes horizon (every snapshot's xmin; see
 * vltab_compact.c), except an update with its changed columns recorded,
 * which a flush may fold back into the row ID keeping the other columns'
 * values (vltab_flush.c).
 */
int64 *
vltab_rowstate_purgeable(Relation rel, Snapshot snap, TransactionId horizon, int64 *n)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), AccessShareLock);
	SysScanDesc scan = scan_table(cat, RelationGetRelid(rel), snap);
	HeapTuple	tup;
	int64		cap = 64;
	int64	   *out = palloc(sizeof(int64) * cap);

	*n = 0;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		char		kind = entry_kind(tup, cat);
		TransactionId xmin = HeapTupleHeaderGetXmin(tup->t_data);

		CHECK_FOR_INTERRUPTS();
		if (kind != 'd' && kind != 'u')
			continue;
		if (kind == 'u' && !heap_attisnull(tup, RS_ATTRS, RelationGetDescr(cat)))
			continue;
		if (TransactionIdIsCurrentTransactionId(xmin) ||
			(TransactionIdIsNormal(xmin) && !TransactionIdPrecedes(xmin, horizon)))
			continue;
		if (*n == cap)
		{
			cap *= 2;
			out = repalloc_huge(out, sizeof(int64) * cap);
		}
		out[(*n)++] = entry_row_id(tup, cat);
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return out;					/* the index gives (relid, row_id) order */
}

int64 *
vltab_rowstate_deleted(Oid relid, Snapshot snapshot, int64 *n)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;
	int64		cap = 64;
	int64	   *ids = palloc(sizeof(int64) * cap);

	*n = 0;
	scan = scan_table(cat, relid, snapshot);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		if (entry_kind(tup, cat) == 'l')
			continue;
		if (*n == cap)
		{
			cap *= 2;
			ids = repalloc_huge(ids, sizeof(int64) * cap);
		}
		ids[(*n)++] = entry_row_id(tup, cat);
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	qsort(ids, *n, sizeof(int64), lake_rowref_cmp);	/* row IDs are >= 0 */
	return ids;
}

bool
vltab_rowstate_is_deleted(Oid relid, int64 row_id, Snapshot snapshot, ItemPointer new_tid)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), AccessShareLock);
	SysScanDesc scan = probe(cat, relid, row_id, snapshot);
	HeapTuple	tup;
	bool		deleted = false;

	if (new_tid)
		ItemPointerSetInvalid(new_tid);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		if (entry_kind(tup, cat) == 'l')
			continue;
		deleted = true;
		if (new_tid)
			entry_new_tid(tup, cat, new_tid);
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return deleted;
}

/*
 * Does snapshot see row_id deleted or updated by an entry other than the
 * update whose new version is tid (the one a flush folded back: that entry
 * is the tuple's own origin, not a later change)?
 */
bool
vltab_rowstate_changed_besides(Oid relid, int64 row_id, Snapshot snapshot, ItemPointer tid)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), AccessShareLock);
	SysScanDesc scan = probe(cat, relid, row_id, snapshot);
	HeapTuple	tup;
	bool		changed = false;

	while (!changed && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		ItemPointerData nt;

		if (entry_kind(tup, cat) == 'l')
			continue;
		entry_new_tid(tup, cat, &nt);
		changed = !(ItemPointerIsValid(&nt) && ItemPointerEquals(&nt, tid));
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return changed;
}

/* Whether snapshot sees any deleted or updated lake row of relid. */
bool
vltab_rowstate_any_deleted(Oid relid, Snapshot snapshot)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	scan = scan_table(cat, relid, snapshot);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		found = entry_kind(tup, cat) != 'l';
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return found;
}

/* Visibility of a lake row to any snapshot (dirty: reports the deleter). */
bool
vltab_lake_row_visible(Relation rel, VltabSegmentList *segs, int64 row_id, Snapshot snapshot)
{
	Relation	cat;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		visible = true;
	SnapshotData dirty;

	if (vltab_segment_find(segs, row_id) == NULL)
		return false;
	if (snapshot == NULL || snapshot->snapshot_type == SNAPSHOT_ANY)
		return true;
	if (snapshot->snapshot_type != SNAPSHOT_DIRTY)
		return !vltab_rowstate_is_deleted(RelationGetRelid(rel), row_id,
										  IsMVCCSnapshot(snapshot) ? snapshot : GetLatestSnapshot(),
										  NULL);
	/* dirty: a committed deletion hides the row, one in progress is reported */
	snapshot->xmin = snapshot->xmax = InvalidTransactionId;
	cat = table_open(vltab_catalog_relid("row_states"), AccessShareLock);
	InitDirtySnapshot(dirty);
	scan = probe(cat, RelationGetRelid(rel), row_id, &dirty);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		if (entry_kind(tup, cat) == 'l')
			continue;
		if (TransactionIdIsValid(dirty.xmin))
			snapshot->xmax = dirty.xmin;
		else if (!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
			visible = false;
		else
			visible = false;
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return visible;
}

int64
vltab_moved_row(Relation rel, ItemPointer delta_tid, TransactionId xmax)
{
	Relation	cat = table_open(vltab_catalog_relid("moved_rows"), AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	int64		row_id = -1;

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationGetRelid(rel)));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TIDEQ, PointerGetDatum(delta_tid));
	scan = systable_beginscan(cat, vltab_catalog_relid("moved_rows_relid_delta_tid_idx"), true,
							  GetLatestSnapshot(), 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		FullTransactionId fx;

		fx = FullTransactionIdFromU64(DatumGetUInt64(heap_getattr(tup, 3, RelationGetDescr(cat),
																  &isnull)));
		if (XidFromFullTransactionId(fx) == xmax)
			row_id = DatumGetInt64(heap_getattr(tup, 4, RelationGetDescr(cat), &isnull));
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return row_id;
}
