/*
 * index_merge_worker.c — background worker that keeps vlake index deltas
 * small: every vlake.index_merge_naptime seconds it looks at the vlake
 * indexes of vlake.index_merge_database and runs vlake.merge() on those
 * whose delta + tombstones reached vlake.index_merge_threshold rows.
 *
 * Registered at server start (shared_preload_libraries) by the index layer
 * when vlake.index_merge_database is set.  Each merge runs in its own
 * transaction; an ERROR ends the worker, which the postmaster restarts
 * after bgw_restart_time.
 */
#include "postgres.h"

#include "access/xact.h"
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

#include "vlake.h"

/* GUCs, defined by the index layer (index_init.c) */
extern char *vl_merge_database;
extern int	vl_merge_naptime;
extern int	vl_merge_threshold;

PGDLLEXPORT void vlake_index_merge_worker_main(Datum arg);

/*
 * vlake.index_merge_worker(): the database the worker serves; ERRORs with
 * a hint when the worker cannot run (not preloaded, or not configured).
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
	if (SPI_execute("SELECT 1 FROM pg_extension WHERE extname = 'vlake'", true, 1) != SPI_OK_SELECT ||
		SPI_processed == 0)
	{
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		return 0;
	}
	if (SPI_execute(psprintf("SELECT c.oid FROM pg_class c JOIN pg_am a ON a.oid = c.relam, "
							 "LATERAL vlake.index_info(c.oid) i "
							 "WHERE a.amname = 'vlake' AND c.relkind = 'i' "
							 "AND i.delta_vectors + i.tombstones >= %d", vl_merge_threshold),
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "vlake index merge worker: catalog query failed");
	n = (int) SPI_processed;
	oids = palloc(sizeof(Oid) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		oids[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
												 SPI_tuptable->tupdesc, 1, &isnull));
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
	pgstat_report_activity(STATE_IDLE, NULL);
	return merged;
}

void
vlake_index_merge_worker_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(vl_merge_database, NULL, 0);
	elog(LOG, "vlake index merge worker started for database \"%s\"", vl_merge_database);

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
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) vl_merge_naptime * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
