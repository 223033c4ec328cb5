/*
 * lake_worker.c — vlake's database workers (contract: lake_worker.h).
 *
 * One background worker per database in vlake.worker_databases (the name
 * travels in bgw_extra), registered at server start.  Its loop runs every
 * registered task whose interval has passed, then sleeps until the next one
 * is due or the latch is set (SIGHUP reloads the settings).  A task's ERROR
 * is caught, its transaction rolled back and the error logged as a WARNING:
 * a lake that is unreachable for a while must not stop the other tasks, and
 * the postmaster does not need to restart the process for it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "lake/lake_worker.h"

#define LAKE_MAX_TASKS		16
#define LAKE_MAX_DATABASES	32

char	   *lake_worker_databases = NULL;

static const LakeWorkerTask *tasks[LAKE_MAX_TASKS];
static int	ntasks = 0;

PGDLLEXPORT void vlake_worker_main(Datum arg);

void
lake_worker_register(const LakeWorkerTask *task)
{
	for (int i = 0; i < ntasks; i++)
		if (tasks[i] == task)
			return;
	if (ntasks >= LAKE_MAX_TASKS)
		elog(ERROR, "too many vlake worker tasks");
	tasks[ntasks++] = task;
}

static void
register_database_workers(void)
{
	char	   *names = pstrdup(lake_worker_databases);
	List	   *dbs = NIL;
	ListCell   *lc;

	if (!SplitIdentifierString(names, ',', &dbs))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vlake.worker_databases must be a comma-separated list of database names")));
	if (list_length(dbs) > LAKE_MAX_DATABASES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vlake.worker_databases lists %d databases, at most %d are supported",
						list_length(dbs), LAKE_MAX_DATABASES)));
	foreach(lc, dbs)
	{
		const char *db = lfirst(lc);
		BackgroundWorker w;

		if (strlen(db) >= BGW_EXTRALEN)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("database name \"%s\" in vlake.worker_databases is too long", db)));
		memset(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = 30;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "vlake");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "vlake_worker_main");
		snprintf(w.bgw_name, BGW_MAXLEN, "vlake worker for %s", db);
		snprintf(w.bgw_type, BGW_MAXLEN, "vlake worker");
		strlcpy(w.bgw_extra, db, BGW_EXTRALEN);
		RegisterBackgroundWorker(&w);
	}
}

void
lake_worker_start(void)
{
	/* a PGC_POSTMASTER setting can only be defined while preloading */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomStringVariable("vlake.worker_databases",
							   "Databases in which vlake's background worker runs its periodic jobs (index merge, garbage collection), comma-separated; empty: none.",
							   "One worker per database; needs vlake in shared_preload_libraries.",
							   &lake_worker_databases, "",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	if (lake_worker_databases && lake_worker_databases[0] != '\0')
		register_database_workers();
}

bool
lake_worker_try(void (*fn) (void *arg), void *arg, const char *what)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("vlake %s failed: %s", what, edata->message),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0));
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

static void
call_task(void *arg)
{
	((const LakeWorkerTask *) arg)->run();
}

/* Run one task, catching its ERROR (see the head of this file). */
static void
run_task(const LakeWorkerTask *task, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);

	pgstat_report_activity(STATE_RUNNING, task->name);
	(void) lake_worker_try(call_task, (void *) task, task->name);
	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(old);
	MemoryContextReset(cxt);
}

void
vlake_worker_main(Datum arg)
{
	char		database[BGW_EXTRALEN];
	TimestampTz due[LAKE_MAX_TASKS];
	MemoryContext cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	strlcpy(database, MyBgworkerEntry->bgw_extra, sizeof(database));
	BackgroundWorkerInitializeConnection(database, NULL, 0);
	elog(LOG, "vlake worker started for database \"%s\" (%d task(s))", database, ntasks);

	cxt = AllocSetContextCreate(TopMemoryContext, "vlake worker task",
								ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < ntasks; i++)
		due[i] = 0;				/* every task runs at start */
	for (;;)
	{
		TimestampTz now;
		TimestampTz next = 0;
		long		sleep_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		for (int i = 0; i < ntasks; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (GetCurrentTimestamp() < due[i])
				continue;
			run_task(tasks[i], cxt);
			due[i] = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												 (int64) *tasks[i]->interval_s * 1000);
		}
		now = GetCurrentTimestamp();
		for (int i = 0; i < ntasks; i++)
			if (next == 0 || due[i] < next)
				next = due[i];
		sleep_ms = next > now ? (long) ((next - now) / 1000) : 0;
		if (ntasks == 0)
			sleep_ms = 60 * 1000L;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(sleep_ms, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
