/*
 * index_merge_worker.c — background worker that keeps vlake index deltas
 * small and their lake locations clean: every vlake.index_merge_naptime
 * seconds it looks at the vlake indexes of its database (one worker per
 * database listed in vlake.index_merge_database), runs
 * vlake.merge() on those whose delta + tombstones reached
 * vlake.index_merge_threshold rows, then runs one garbage-collection pass
 * (bounded) over every location it has seen an index use, and
 * vlake.default_location.
 *
 * Registered at server start (shared_preload_libraries) by the index layer
 * when vlake.index_merge_database is set.  Each merge and each location's
 * GC runs in its own transaction; an ERROR in a merge ends the worker, which
 * the postmaster restarts after bgw_restart_time; an ERROR in GC (an
 * unreachable location, say) is logged as a WARNING and the worker goes on.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "index/vlindex_gc.h"
#include "vlake.h"

/* GUCs, defined by the index layer (index_init.c) */
extern char *vl_merge_database;
extern int	vl_merge_naptime;
extern int	vl_merge_threshold;
extern char *vl_default_location;

/* most marks written + parts deleted per location and pass */
#define GC_ACTIONS_PER_PASS 64

/*
 * Locations GC visits (in TopMemoryContext).  A location stays after its
 * last index was dropped, so the dropped parts go too, until a pass finds
 * nothing of this database left there, or it failed GC_MAX_FAILURES passes
 * in a row while no index and not vlake.default_location used it.
 */
typedef struct GcLocation
{
	char	   *uri;
	bool		current;		/* used by an index or the default, this pass */
	bool		empty;			/* the last pass saw no part there */
	int			failures;		/* consecutive failed passes */
} GcLocation;

#define GC_MAX_FAILURES 10

static List *gc_locations = NIL;

/* set by merge_pass(): CREATE EXTENSION vlake ran in the database */
static bool extension_present = false;

static void
remember_location(const char *location)
{
	MemoryContext old;
	GcLocation *l;

	if (location == NULL || location[0] == '\0')
		return;
	for (int i = 0; i < list_length(gc_locations); i++)
	{
		l = list_nth(gc_locations, i);
		if (strcmp(l->uri, location) == 0)
		{
			l->current = true;
			return;
		}
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	l = palloc0(sizeof(GcLocation));
	l->uri = pstrdup(location);
	l->current = true;
	gc_locations = lappend(gc_locations, l);
	MemoryContextSwitchTo(old);
}

PGDLLEXPORT void vlake_index_merge_worker_main(Datum arg);

/*
 * vlake.index_merge_worker(): the databases merge workers serve (the
 * setting); ERRORs with a hint when no worker can run (not preloaded, or
 * not configured).
 */
PG_FUNCTION_INFO_V1(vlake_index_merge_worker);
Datum
vlake_index_merge_worker(PG_FUNCTION_ARGS)
{
	vlake_require_preload("the vlake index merge worker");
	if (vl_merge_database == NULL || vl_merge_database[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the vlake index merge worker is not configured"),
				 errhint("Set vlake.index_merge_database in postgresql.conf and restart the server.")));
	PG_RETURN_TEXT_P(cstring_to_text(vl_merge_database));
}

/* One pass: merge every vlake index whose pending work reached the threshold. */
static int
merge_pass(void)
{
	int			merged = 0;
	int			n;
	Oid		   *oids;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "vlake index merge: scanning");
	/* nothing to do until CREATE EXTENSION vlake ran in this database */
	extension_present =
		SPI_execute("SELECT 1 FROM pg_extension WHERE extname = 'vlake'", true, 1) == SPI_OK_SELECT &&
		SPI_processed > 0;
	if (!extension_present)
	{
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		return 0;
	}
	if (SPI_execute(psprintf("SELECT c.oid, i.location, "
							 "i.delta_vectors + i.tombstones >= %d "
							 "FROM pg_class c JOIN pg_am a ON a.oid = c.relam, "
							 "LATERAL vlake.index_info(c.oid) i "
							 "WHERE a.amname = 'vlake' AND c.relkind = 'i'", vl_merge_threshold),
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "vlake index merge worker: catalog query failed");
	/* outlives SPI_finish() and the transaction (SPI memory would not) */
	oids = MemoryContextAlloc(TopMemoryContext, sizeof(Oid) * Max(SPI_processed, 1));
	n = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		due = SPI_getbinval(tup, desc, 3, &isnull);

		remember_location(SPI_getvalue(tup, desc, 2));
		if (!isnull && DatumGetBool(due))
			oids[n++] = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();

	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "vlake index merge: merging");
		/* the index may have been dropped meanwhile: look it up again */
		if (SPI_execute(psprintf("SELECT vlake.merge(c.oid) FROM pg_class c WHERE c.oid = %u", oids[i]),
						false, 0) != SPI_OK_SELECT)
			elog(ERROR, "vlake index merge worker: merge of index %u failed", oids[i]);
		merged += SPI_processed > 0;
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
	}
	pfree(oids);
	pgstat_report_activity(STATE_IDLE, NULL);
	return merged;
}

/*
 * One bounded GC pass over a location, in its own transaction.  An ERROR is
 * reported as a WARNING (the location may be unreachable for a while) and
 * rolled back; nothing GC does needs to be undone (docs/index.md).
 */
static void
gc_location(GcLocation *loc)
{
	MemoryContext cxt = CurrentMemoryContext;
	const char *location = loc->uri;
	VlGcStats	stats;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "vlake index gc");
	PG_TRY();
	{
		vl_gc_location(location, vl_gc_min_age, false, GC_ACTIONS_PER_PASS, NULL, &stats);
		if (stats.removed_parts + stats.retired > 0)
			elog(DEBUG1, "vlake index gc of \"%s\": %lld part(s) retired, %lld removed",
				 location, (long long) stats.retired, (long long) stats.removed_parts);
		PopActiveSnapshot();
		CommitTransactionCommand();
		loc->empty = stats.parts_seen == 0;
		loc->failures = 0;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("vlake index garbage collection of \"%s\" failed: %s",
						location, edata->message),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0));
		FreeErrorData(edata);
		loc->failures++;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* GC after the merges: every location seen, and the default location. */
static void
gc_pass(void)
{
	ListCell   *lc;

	remember_location(vl_default_location);
	foreach(lc, gc_locations)
	{
		CHECK_FOR_INTERRUPTS();
		gc_location((GcLocation *) lfirst(lc));
	}
	/* forget locations nobody uses any more once clean (or hopeless) */
	foreach(lc, gc_locations)
	{
		GcLocation *l = lfirst(lc);

		if (!l->current && (l->empty || l->failures >= GC_MAX_FAILURES))
		{
			if (l->failures > 0)
				ereport(LOG,
						(errmsg("vlake index garbage collection stops visiting \"%s\" after %d failed passes",
								l->uri, l->failures)));
			gc_locations = foreach_delete_current(gc_locations, lc);
			pfree(l->uri);
			pfree(l);
		}
		else
			l->current = false;		/* merge_pass() sets it again */
	}
}

void
vlake_index_merge_worker_main(Datum arg)
{
	char		database[BGW_EXTRALEN];

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* the database this worker serves (index_init.c: one per listed name) */
	strlcpy(database, MyBgworkerEntry->bgw_extra, sizeof(database));
	BackgroundWorkerInitializeConnection(database, NULL, 0);
	elog(LOG, "vlake index merge worker started for database \"%s\"", database);

	for (;;)
	{
		int			merged;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		merged = merge_pass();
		if (merged > 0)
			elog(DEBUG1, "vlake index merge worker merged %d index(es)", merged);
		if (extension_present)
			gc_pass();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) vl_merge_naptime * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
