/*
 * workers_tables.c — the "table maintenance" task of vlake's database
 * workers (lake_worker.h): flushes the deltas of vlake tables to lake
 * segments, by size and by age, then collects the lake parts no table
 * names any more (aborted COPYs and flushes, truncated and dropped tables).
 *
 * A table is due when its delta holds vlake.flush_threshold live rows, or
 * any live row and its last lake version (or its creation) is older than
 * vlake.flush_max_age.  Each flush runs in its own transaction and takes
 * the table's lock without waiting: a table busy with DDL is skipped this
 * pass.  An ERROR in one table's flush or one root's GC is logged as a
 * WARNING and the pass goes on (lake_worker_try).
 *
 * The "table compaction" task (every vlake.compact_naptime seconds) runs
 * vltab_compact_relation on each vlake table with the settings'
 * thresholds (vlake.compact_min_savings, vlake.compact_small_segment_rows),
 * one transaction per table, skipping a table whose lock it cannot take
 * at once (DDL, a running vlake.compact()).
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "index/vlindex.h"
#include "lake/lake_part.h"
#include "lake/lake_worker.h"
#include "tableam/vltab.h"
#include "workers/workers.h"

int			workers_flush_naptime = 10;
int			workers_flush_threshold = 100000;
int			workers_flush_max_age = 300;
int			workers_table_gc_min_age = 3600;
int			workers_compact_naptime = 300;

#define GC_ACTIONS_PER_PASS 64

typedef struct DueTable
{
	Oid			relid;
	char	   *root;
	bool		flush;
} DueTable;

/* The vlake tables of this database, and which are due for a flush. */
static List *
tables_pass(void)
{
	List	   *due = NIL;
	bool		present;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	present = SPI_execute("SELECT 1 FROM pg_extension WHERE extname = 'vlake'", true, 1) ==
		SPI_OK_SELECT && SPI_processed > 0;
	if (present &&
		SPI_execute(psprintf("SELECT c.oid, d.root, "
							 "  pg_stat_get_live_tuples(c.oid) >= %d OR "
							 "  (pg_stat_get_live_tuples(c.oid) > 0 AND "
							 "   coalesce((SELECT max(committed) FROM vlake.versions v "
							 "             WHERE v.relid = c.oid), d.created) "
							 "   < now() - make_interval(secs => %d)) "
							 "FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
							 "LEFT JOIN vlake.datasets d ON d.relid = c.oid "
							 "WHERE a.amname = 'vlake_table' AND c.relkind = 'r'",
							 workers_flush_threshold, workers_flush_max_age),
					true, 0) == SPI_OK_SELECT)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			DueTable   *t = palloc0(sizeof(DueTable));
			bool		isnull;
			Datum		d;

			t->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
			t->root = SPI_getvalue(tup, desc, 2);
			d = SPI_getbinval(tup, desc, 3, &isnull);
			t->flush = !isnull && DatumGetBool(d);
			due = lappend(due, t);
		}
		MemoryContextSwitchTo(old);
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	return due;
}

static void
flush_one(void *arg)
{
	DueTable   *t = arg;
	Relation	rel;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!ConditionalLockRelationOid(t->relid, RowExclusiveLock))
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
		return;
	}
	rel = try_relation_open(t->relid, NoLock);
	if (rel != NULL && vltab_is_vlake(rel))
	{
		int64		n;

		pgstat_report_activity(STATE_RUNNING, "vlake table flush");
		n = vltab_flush_relation(rel, 0);
		if (n > 0)
			elog(DEBUG1, "vlake flushed %lld rows of \"%s\"", (long long) n,
				 RelationGetRelationName(rel));
	}
	if (rel != NULL)
		relation_close(rel, NoLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
gc_one(void *arg)
{
	DueTable   *t = arg;
	LakeGcStats stats;
	int64		nmanifests;
	int64		ndeletes;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "vlake table GC");
	vltab_gc_table(t->relid, t->root, workers_table_gc_min_age, false, GC_ACTIONS_PER_PASS,
				   NULL, &stats, &nmanifests, &ndeletes);
	if (nmanifests > 0 || ndeletes > 0)
		elog(LOG, "vlake table GC at %s: %lld expired manifests and %lld delete vectors removed",
			 t->root, (long long) nmanifests, (long long) ndeletes);
	if (stats.retired > 0 || stats.removed_parts > 0)
		elog(LOG, "vlake table GC at %s: %lld parts retired, %lld removed (%lld files)",
			 t->root, (long long) stats.retired, (long long) stats.removed_parts,
			 (long long) stats.removed_files);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * One pass over the datasets of dropped tables whose retention has passed
 * (vltab_dropped.c): their manifests and delete vectors, their table parts
 * and their index parts (this layer owns both kinds), then the catalog row
 * of each with nothing of this database's left.
 */
static void
dropped_pass(int64 min_age_s, bool dry_run, List **removed)
{
	ListCell   *lc;

	foreach(lc, vltab_dropped_due())
	{
		VltabDropped *d = lfirst(lc);
		LakeGcStats stats;

		CHECK_FOR_INTERRUPTS();
		memset(&stats, 0, sizeof(stats));
		vltab_dropped_purge(d, min_age_s, dry_run, removed, &stats);
		lake_gc_location(&vlindex_part_kind, d->root, min_age_s, dry_run, 0, removed, &stats);
		if (!dry_run && vltab_dropped_finish(d, &vlindex_part_kind))
			elog(LOG, "vlake table GC: the dataset of a dropped table at %s is gone", d->root);
	}
}

static void
gc_dropped(void *arg)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "vlake dropped table GC");
	dropped_pass(workers_table_gc_min_age, false, NULL);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
tables_run(void)
{
	List	   *tables = tables_pass();
	ListCell   *lc;

	foreach(lc, tables)
	{
		DueTable   *t = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (t->flush)
			lake_worker_try(flush_one, t, "table flush");
	}
	foreach(lc, tables)
	{
		DueTable   *t = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (t->root)
			lake_worker_try(gc_one, t, "table GC");
	}
	lake_worker_try(gc_dropped, NULL, "dropped table GC");
	list_free_deep(tables);
	pgstat_report_activity(STATE_IDLE, NULL);
}

static void
compact_one(void *arg)
{
	DueTable   *t = arg;
	Relation	rel;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!ConditionalLockRelationOid(t->relid, ShareUpdateExclusiveLock))
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
		return;
	}
	rel = try_relation_open(t->relid, NoLock);
	if (rel != NULL && vltab_is_vlake(rel))
	{
		VltabCompactResult res;

		pgstat_report_activity(STATE_RUNNING, "vlake table compaction");
		vltab_compact_relation(rel, -1, true, &res);
		if (res.groups_rewritten > 0 || res.groups_dropped > 0)
			elog(LOG, "vlake compacted \"%s\": %lld segments merged, %lld rows purged, %lld files rewritten (%lld bytes read, %lld written)",
				 RelationGetRelationName(rel), (long long) res.segments_merged,
				 (long long) res.rows_purged, (long long) res.groups_rewritten,
				 (long long) res.bytes_read, (long long) res.bytes_written);
	}
	if (rel != NULL)
		relation_close(rel, NoLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
compact_run(void)
{
	List	   *tables = tables_pass();
	ListCell   *lc;

	foreach(lc, tables)
	{
		DueTable   *t = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (t->root)
			lake_worker_try(compact_one, t, "table compaction");
	}
	list_free_deep(tables);
	pgstat_report_activity(STATE_IDLE, NULL);
}

static const LakeWorkerTask compact_task = {
	.name = "table compaction",
	.run = compact_run,
	.interval_s = &workers_compact_naptime,
};

static const LakeWorkerTask tables_task = {
	.name = "table maintenance",
	.run = tables_run,
	.interval_s = &workers_flush_naptime,
};

void
workers_tables_register(void)
{
	lake_worker_register(&tables_task);
	lake_worker_register(&compact_task);
}

/*
 * vlake.table_gc(tbl, min_age, dry_run): one GC pass over the table's
 * dataset root now, as the table maintenance task runs it; the URIs of the
 * objects removed (or that would be).  Superuser (the install script
 * revokes it from PUBLIC), like vlake.index_gc.
 */
PG_FUNCTION_INFO_V1(vlake_table_gc);
Datum
vlake_table_gc(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	Relation	rel;
	int64		min_age = workers_table_gc_min_age;
	bool		dry_run = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	VltabDataset *ds;
	List	   *removed = NIL;
	LakeGcStats stats;
	int64		nmanifests,
				ndeletes;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("vlake.table_gc needs a table")));
	relid = PG_GETARG_OID(0);
	if (!PG_ARGISNULL(1))
		min_age = lake_min_age_seconds(PG_GETARG_INTERVAL_P(1));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	rel = table_open(relid, AccessShareLock);
	if (!vltab_is_vlake(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vlake table", RelationGetRelationName(rel))));
	ds = vltab_dataset_get(relid, GetLatestSnapshot());
	if (ds != NULL)
		vltab_gc_table(relid, ds->root, min_age, dry_run, 0, &removed, &stats, &nmanifests,
					   &ndeletes);
	foreach(lc, removed)
	{
		Datum		v = CStringGetTextDatum((char *) lfirst(lc));
		bool		n = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &n);
	}
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * vlake.dropped_table_gc(min_age, dry_run): one pass over the datasets of
 * dropped tables now, as the table maintenance task runs it; the URIs of
 * the objects removed (or that would be).  Superuser, like vlake.table_gc.
 */
PG_FUNCTION_INFO_V1(vlake_dropped_table_gc);
Datum
vlake_dropped_table_gc(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		min_age = workers_table_gc_min_age;
	bool		dry_run = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	List	   *removed = NIL;
	ListCell   *lc;

	if (!PG_ARGISNULL(0))
		min_age = lake_min_age_seconds(PG_GETARG_INTERVAL_P(0));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	dropped_pass(min_age, dry_run, &removed);
	foreach(lc, removed)
	{
		Datum		v = CStringGetTextDatum((char *) lfirst(lc));
		bool		n = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &n);
	}
	return (Datum) 0;
}
