/*
 * vltab_backfill.c — vlake.backfill(tbl, col, source, key): new values of
 * one column for many rows, written as that column's ColumnGroup only.
 *
 * The source is a query giving (key, value) pairs; each row of tbl whose
 * key column equals a pair's key gets the value, as
 * UPDATE tbl SET col = s.value FROM (source) s WHERE tbl.key = s.key would
 * give it, but a lake row keeps its row ID and only col is written: per
 * segment holding such rows one column patch (vltab_patch.h) of col; every
 * other ColumnGroup is untouched.  Rows the source does not name keep
 * their value (NULL, or the default, for a column just added).
 *
 * Steps, in the caller's transaction: lock the table against other writers
 * (SHARE ROW EXCLUSIVE: readers go on), flush the delta so the rows are in
 * the lake, lock the dataset, run the join once into a sort by row ID,
 * write the patches segment by segment, record one version "backfill";
 * rows still in the delta (written by this transaction) are updated with
 * an ordinary UPDATE; indexes that use col are rebuilt (their entries name
 * the row IDs, whose col value changed).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "catalog/pg_operator.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplesort.h"

#include "lake/lake_rowref.h"
#include "tableam/vltab.h"
#include "tableam/vltab_patch.h"

/* The single-column primary key of rel, or ERROR. */
static AttrNumber
primary_key_attnum(Relation rel)
{
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	Relation	ind;
	AttrNumber	an;

	if (!OidIsValid(pk))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" has no primary key", RelationGetRelationName(rel)),
				 errhint("Name the key column: vlake.backfill(tbl, col, source, key => 'column').")));
	ind = index_open(pk, AccessShareLock);
	if (ind->rd_index->indnkeyatts != 1 || ind->rd_index->indkey.values[0] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the primary key of \"%s\" is not one column", RelationGetRelationName(rel)),
				 errhint("Name the key column: vlake.backfill(tbl, col, source, key => 'column').")));
	an = ind->rd_index->indkey.values[0];
	index_close(ind, AccessShareLock);
	return an;
}

/* Does the index use attnum (key, INCLUDE, expression or predicate)? */
static bool
index_uses(Relation rel, Oid indexoid, AttrNumber attnum)
{
	Relation	ind = index_open(indexoid, AccessShareLock);
	bool		r = bms_is_member(attnum, vltab_index_attrs(rel, BuildIndexInfo(ind)));

	index_close(ind, AccessShareLock);
	return r;
}

static void
reindex_users(Relation rel, AttrNumber attnum)
{
	ListCell   *lc;
	List	   *indexes = RelationGetIndexList(rel);

	foreach(lc, indexes)
	{
		Oid			ind = lfirst_oid(lc);
		ReindexParams params = {0};

		if (index_uses(rel, ind, attnum))
			reindex_index(ind, false, rel->rd_rel->relpersistence, &params);
	}
}

static char *
join_query(Relation rel, AttrNumber col, AttrNumber key, const char *source)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Form_pg_attribute c = TupleDescAttr(desc, col - 1);
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfo(&q,
					 "SELECT t.ctid, s.v::%s FROM ONLY %s t JOIN (%s\n) AS s(k, v) ON t.%s = s.k",
					 format_type_with_typemod(c->atttypid, c->atttypmod),
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												RelationGetRelationName(rel)),
					 source,
					 quote_identifier(NameStr(TupleDescAttr(desc, key - 1)->attname)));
	return q.data;
}

/* Sort the join's (row ID, value) pairs; delta rows are updated at once. */
static Tuplesortstate *
collect(Relation rel, AttrNumber col, const char *query, TupleDesc pair, int64 *nrows)
{
	Oid			sortop = Int8LessOperator;
	AttrNumber	sortcol = 1;
	Oid			coll = InvalidOid;
	bool		nullsfirst = false;
	Tuplesortstate *ts = tuplesort_begin_heap(pair, 1, &sortcol, &sortop, &coll, &nullsfirst,
											  maintenance_work_mem, NULL, TUPLESORT_NONE);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(pair, &TTSOpsVirtual);
	Portal		portal;
	SPIPlanPtr	upd;
	Oid			argtypes[2] = {TupleDescAttr(RelationGetDescr(rel), col - 1)->atttypid, TIDOID};
	char	   *updsql = psprintf("UPDATE ONLY %s SET %s = $1 WHERE ctid = $2",
								  quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
															 RelationGetRelationName(rel)),
								  quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), col - 1)->attname)));

	upd = SPI_prepare(updsql, 2, argtypes);
	if (upd == NULL)
		elog(ERROR, "vlake.backfill: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	/* not read-only: a new snapshot, which sees the flush just done */
	portal = SPI_cursor_open_with_args(NULL, query, 0, NULL, NULL, NULL, false, 0);
	*nrows = 0;
	for (;;)
	{
		SPITupleTable *tt;
		uint64		n;

		SPI_cursor_fetch(portal, true, 1000);
		tt = SPI_tuptable;
		n = SPI_processed;
		if (n == 0)
			break;
		for (uint64 i = 0; i < n; i++)
		{
			HeapTuple	tup = tt->vals[i];
			bool		isnull;
			ItemPointer tid = (ItemPointer) DatumGetPointer(SPI_getbinval(tup, tt->tupdesc, 1, &isnull));
			Datum		v = SPI_getbinval(tup, tt->tupdesc, 2, &isnull);

			CHECK_FOR_INTERRUPTS();
			if (!lake_tid_is_lake(tid))
			{
				Datum		args[2] = {v, PointerGetDatum(tid)};
				char		nulls[2] = {isnull ? 'n' : ' ', ' '};

				if (SPI_execute_plan(upd, args, nulls, false, 0) != SPI_OK_UPDATE)
					elog(ERROR, "vlake.backfill: the update of a delta row failed");
				(*nrows)++;
				continue;
			}
			ExecClearTuple(slot);
			slot->tts_values[0] = Int64GetDatum((int64) lake_tid_to_rowid(tid));
			slot->tts_isnull[0] = false;
			slot->tts_values[1] = v;
			slot->tts_isnull[1] = isnull;
			ExecStoreVirtualTuple(slot);
			tuplesort_puttupleslot(ts, slot);
			(*nrows)++;
		}
		SPI_freetuptable(tt);
	}
	SPI_cursor_close(portal);
	ExecDropSingleTupleTableSlot(slot);
	tuplesort_performsort(ts);
	return ts;
}

/* Write the sorted pairs as one patch of col per segment they touch. */
static int64
write_patches(Relation rel, VltabDataset *ds, AttrNumber col, Tuplesortstate *ts,
			  TupleDesc pair)
{
	VltabSegmentList *segs = vltab_segments_visible(RelationGetRelid(rel), GetLatestSnapshot());
	TupleTableSlot *slot = MakeSingleTupleTableSlot(pair, &TTSOpsMinimalTuple);
	int			natts = RelationGetDescr(rel)->natts;
	Datum	   *values = palloc0(sizeof(Datum) * natts);
	bool	   *isnull = palloc0(sizeof(bool) * natts);
	Bitmapset  *attrs = bms_make_singleton(col);
	VltabSegment *cur = NULL;
	VltabPatch *p = NULL;
	int64		bytes = 0,
				prev = -1;

	while (tuplesort_gettupleslot(ts, true, false, slot, NULL))
	{
		int64		row_id;

		slot_getallattrs(slot);
		row_id = DatumGetInt64(slot->tts_values[0]);
		if (row_id == prev)
			ereport(ERROR,
					(errcode(ERRCODE_CARDINALITY_VIOLATION),
					 errmsg("the source gives a row of \"%s\" more than one value (row ID " INT64_FORMAT ")",
							RelationGetRelationName(rel), row_id),
					 errhint("Each key may appear at most once in the source.")));
		prev = row_id;
		if (cur == NULL || row_id >= cur->end_row_id)
		{
			if (p)
				bytes += vltab_patch_finish(p);
			cur = vltab_segment_find(segs, row_id);
			if (cur == NULL)
				elog(ERROR, "vlake.backfill: row ID " INT64_FORMAT " of \"%s\" is in no segment",
					 row_id, RelationGetRelationName(rel));
			p = vltab_patch_begin(rel, ds, cur, attrs);
		}
		values[col - 1] = slot->tts_values[1];
		isnull[col - 1] = slot->tts_isnull[1];
		vltab_patch_set(p, row_id, values, isnull);
	}
	if (p)
		bytes += vltab_patch_finish(p);
	ExecDropSingleTupleTableSlot(slot);
	return bytes;
}

/*
 * ALTER TABLE ... ADD COLUMN ... DEFAULT <constant> on a table with lake
 * rows: Postgres reads the default for older rows from attmissingval, which
 * the segment reader applies too; other engines read the files, which do
 * not have the column.  Each segment without a file holding it gets a
 * column patch of it (the default in every row: a few bytes a segment once
 * dictionary- and run-length-encoded), so every reader of the published
 * version sees the same value.  No existing file is rewritten.
 */
void
vltab_backfill_default(Relation rel, AttrNumber attnum)
{
	VltabSegmentList *segs;
	VltabDataset *ds;
	Bitmapset  *attrs = bms_make_singleton(attnum);
	int64		bytes = 0;
	bool		any = false;

	segs = vltab_segments_visible(RelationGetRelid(rel), GetLatestSnapshot());
	for (int i = 0; i < segs->nsegments; i++)
		any |= vltab_segment_file_of(segs->segments[i].files, segs->segments[i].nfiles, attnum) < 0;
	if (!any)
		return;
	/* ALTER TABLE holds ACCESS EXCLUSIVE: no lake writer changed the list */
	ds = vltab_dataset_lock(rel);
	for (int i = 0; i < segs->nsegments; i++)
	{
		VltabSegment *seg = &segs->segments[i];

		CHECK_FOR_INTERRUPTS();
		if (vltab_segment_file_of(seg->files, seg->nfiles, attnum) >= 0)
			continue;
		bytes += vltab_patch_finish(vltab_patch_begin(rel, ds, seg, attrs));
	}
	vltab_version_note(ds, "add_column", 0, 0, bytes);
	CommandCounterIncrement();
}

PG_FUNCTION_INFO_V1(vlake_backfill);
Datum
vlake_backfill(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *colname = NameStr(*PG_GETARG_NAME(1));
	char	   *source = text_to_cstring(PG_GETARG_TEXT_PP(2));
	Relation	rel = vltab_open_checked(relid, ACL_UPDATE, ShareRowExclusiveLock);
	AttrNumber	col = vltab_column_attnum(rel, colname, "backfilled");
	AttrNumber	key = PG_ARGISNULL(3) ? primary_key_attnum(rel) :
		vltab_column_attnum(rel, NameStr(*PG_GETARG_NAME(3)), "key");
	Form_pg_attribute c = TupleDescAttr(RelationGetDescr(rel), col - 1);
	TupleDesc	pair;
	Tuplesortstate *ts;
	VltabDataset *ds;
	int64		nrows,
				bytes;

	if (c->attgenerated)
		ereport(ERROR,
				(errcode(ERRCODE_GENERATED_ALWAYS),
				 errmsg("column \"%s\" is a generated column", colname)));
	vltab_flush_relation(rel, 0);
	ds = vltab_dataset_lock(rel);
	pair = CreateTemplateTupleDesc(2);
	TupleDescInitEntry(pair, 1, "row_id", INT8OID, -1, 0);
	TupleDescInitEntry(pair, 2, "v", c->atttypid, c->atttypmod, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "vlake.backfill: SPI_connect failed");
	ts = collect(rel, col, join_query(rel, col, key, source), pair, &nrows);
	CommandCounterIncrement();
	bytes = write_patches(rel, ds, col, ts, pair);
	tuplesort_end(ts);
	SPI_finish();
	if (bytes > 0)
		vltab_version_note(ds, "backfill", 0, 0, bytes);
	CommandCounterIncrement();
	reindex_users(rel, col);
	table_close(rel, NoLock);
	PG_RETURN_INT64(nrows);
}
