/*
 * workers_index.c — the "index maintenance" task of vlake's database
 * workers (lake_worker.h): keeps vlake index deltas small and their lake
 * locations clean.  Every vlake.index_merge_naptime seconds it looks at the
 * vlake indexes of its database, runs vlake.merge() on those whose delta +
 * tombstones reached vlake.index_merge_threshold rows, then runs one
 * garbage-collection pass (bounded) over every location it has seen an
 * index use and the default location (vlake.default_location, or the
 * embedded lake).  A pass also retires and removes the parts of dropped
 * databases at those locations (src/lake/lake_part.c).
 *
 * Each merge and each location's GC runs in its own transaction; an ERROR
 * in a merge ends the pass (the worker logs it and retries at the next
 * turn); an ERROR in GC (an unreachable location, say) is logged as a
 * WARNING and the pass goes on.
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

#include "fulltext/fts_am.h"
#include "index/vlindex.h"
#include "lake/lake_location.h"
#include "lake/lake_part.h"
#include "lake/lake_worker.h"
#include "workers/workers.h"

int			workers_index_naptime = 60;
int			workers_index_threshold = 10000;

/* most marks written + parts deleted per location and pass */
#define GC_ACTIONS_PER_PASS 64

/*
 * Locations GC visits (in TopMemoryContext): those this database's indexes
 * use, the default location, and every root this cluster has written parts
 * to (lake_locations_known(): the parts of dropped databases are found
 * there).  A location stays after its last index was dropped, so the
 * dropped parts go too, until a pass finds nothing left there for this
 * database, or it failed GC_MAX_FAILURES passes in a row while no index and
 * not the default location used it; a known root given up that way is not
 * visited again by this worker.
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
static List *given_up = NIL;	/* URIs (char *) of known roots given up */

/* set by merge_pass(): CREATE EXTENSION vlake ran in the database */
static bool extension_present = false;

/* Visit location from now on; current: an index or the default uses it. */
static void
remember_location(const char *location, bool current)
{
	MemoryContext old;
	GcLocation *l;
	ListCell   *lc;

	if (location == NULL || location[0] == '\0')
		return;
	foreach(lc, gc_locations)
	{
		l = lfirst(lc);
		if (strcmp(l->uri, location) == 0)
		{
			l->current |= current;
			return;
		}
	}
	if (!current)
	{
		foreach(lc, given_up)
			if (strcmp(lfirst(lc), location) == 0)
				return;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	l = palloc0(sizeof(GcLocation));
	l->uri = pstrdup(location);
	l->current = current;
	gc_locations = lappend(gc_locations, l);
	MemoryContextSwitchTo(old);
}

/* One pass: merge every vlake index whose pending work reached the threshold. */
static int
merge_pass(void)
{
	int			merged = 0;
	int			n;
	Oid		   *oids;
	bool	   *bm25;

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
	/* vlake indexes, then vlake_bm25 indexes (fourth column) */
	if (SPI_execute(psprintf("SELECT c.oid, i.location, "
							 "i.delta_vectors + i.tombstones >= %d, false "
							 "FROM pg_class c JOIN pg_am a ON a.oid = c.relam, "
							 "LATERAL vlake.index_info(c.oid) i "
							 "WHERE a.amname = 'vlake' AND c.relkind = 'i' "
							 "UNION ALL "
							 "SELECT c.oid, i.location, i.delta_docs + i.tombstones >= %d, true "
							 "FROM pg_class c JOIN pg_am a ON a.oid = c.relam, "
							 "LATERAL vlake.bm25_index_info(c.oid) i "
							 "WHERE a.amname IN ('vlake_bm25', 'vlake_sparse') AND c.relkind = 'i'",
							 workers_index_threshold, workers_index_threshold),
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "vlake index maintenance: catalog query failed");
	/* outlives SPI_finish() and the transaction (SPI memory would not) */
	oids = MemoryContextAlloc(TopMemoryContext, sizeof(Oid) * Max(SPI_processed, 1));
	bm25 = MemoryContextAlloc(TopMemoryContext, sizeof(bool) * Max(SPI_processed, 1));
	n = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		due = SPI_getbinval(tup, desc, 3, &isnull);

		remember_location(SPI_getvalue(tup, desc, 2), true);
		if (!isnull && DatumGetBool(due))
		{
			bm25[n] = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
			oids[n++] = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		}
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
		if (SPI_execute(psprintf("SELECT vlake.%s(c.oid) FROM pg_class c WHERE c.oid = %u",
								 bm25[i] ? "bm25_merge" : "merge", oids[i]),
						false, 0) != SPI_OK_SELECT)
			elog(ERROR, "vlake index maintenance: merge of index %u failed", oids[i]);
		merged += SPI_processed > 0;
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
	}
	pfree(oids);
	pfree(bm25);
	pgstat_report_activity(STATE_IDLE, NULL);
	return merged;
}

/*
 * One bounded GC pass over a location, in its own transaction.  An ERROR is
 * reported as a WARNING (the location may be unreachable for a while) and
 * rolled back; nothing GC does needs to be undone (docs/index.md).
 */
static void
gc_location_step(void *arg)
{
	GcLocation *loc = arg;
	LakeGcStats stats;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	lake_gc_location(&vlindex_part_kind, loc->uri, vlindex_gc_min_age, false,
					 GC_ACTIONS_PER_PASS, NULL, &stats);
	{
		/* the parts of vlake_bm25 indexes at the same location */
		LakeGcStats fstats;

		lake_gc_location(&fts_part_kind, loc->uri, vlindex_gc_min_age, false,
						 GC_ACTIONS_PER_PASS, NULL, &fstats);
		stats.parts_seen += fstats.parts_seen;
		stats.retired += fstats.retired;
		stats.removed_parts += fstats.removed_parts;
	}
	if (stats.removed_parts + stats.retired > 0)
		elog(DEBUG1, "vlake index gc of \"%s\": %lld part(s) retired, %lld removed",
			 loc->uri, (long long) stats.retired, (long long) stats.removed_parts);
	PopActiveSnapshot();
	CommitTransactionCommand();
	loc->empty = stats.parts_seen == 0;
}

static void
gc_location(GcLocation *loc)
{
	pgstat_report_activity(STATE_RUNNING, "vlake index gc");
	if (lake_worker_try(gc_location_step, loc,
						psprintf("index garbage collection of \"%s\"", loc->uri)))
		loc->failures = 0;
	else
		loc->failures++;
	pgstat_report_activity(STATE_RUNNING, "index maintenance");
}

/* GC after the merges: every location seen, the default, the known roots. */
static void
gc_pass(void)
{
	ListCell   *lc;

	remember_location(lake_location_choose(NULL), true);
	foreach(lc, lake_locations_known())
		remember_location(lfirst(lc), false);
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
			{
				MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

				ereport(LOG,
						(errmsg("vlake index garbage collection stops visiting \"%s\" after %d failed passes",
								l->uri, l->failures)));
				if (l->failures >= GC_MAX_FAILURES)
					given_up = lappend(given_up, pstrdup(l->uri));
				MemoryContextSwitchTo(old);
			}
			gc_locations = foreach_delete_current(gc_locations, lc);
			pfree(l->uri);
			pfree(l);
		}
		else
			l->current = false;		/* merge_pass() sets it again */
	}
}

/* The task: merges, then GC once the extension is there. */
static void
index_pass(void)
{
	int			merged = merge_pass();

	if (merged > 0)
		elog(DEBUG1, "vlake index maintenance merged %d index(es)", merged);
	if (extension_present)
		gc_pass();
}

static const LakeWorkerTask index_task = {
	.name = "index maintenance",
	.run = index_pass,
	.interval_s = &workers_index_naptime,
};

void
workers_index_register(void)
{
	lake_worker_register(&index_task);
}
