/*
 * lake_worker.h — one background worker per database for every periodic
 * lake job (layer "lake").
 *
 * Layers do not start processes of their own.  Each registers its periodic
 * jobs here from _PG_init() (index merge and index GC today; table flush,
 * compaction and refresh next), and vlake runs one background worker per
 * database listed in vlake.worker_databases, which runs every registered
 * task in turn, each when its own interval has passed.  A task that fails
 * is logged as a WARNING with its error and retried at its next turn; the
 * other tasks go on.  Needs vlake in shared_preload_libraries.
 *
 * A task runs in the worker's database, outside any transaction, with
 * CurrentMemoryContext reset after each run: it starts and commits its own
 * transactions (it may run several).  It must CHECK_FOR_INTERRUPTS in long
 * loops and keep each run short; the worker serves its tasks one at a time.
 */
#ifndef VLAKE_LAKE_WORKER_H
#define VLAKE_LAKE_WORKER_H

#include "postgres.h"

typedef struct LakeWorkerTask
{
	const char *name;			/* "index merge": logs, pg_stat_activity */
	void		(*run) (void);	/* one pass */
	int		   *interval_s;		/* seconds between passes (a GUC) */
} LakeWorkerTask;

/* Register a task (from _PG_init; the task must outlive the process). */
extern void lake_worker_register(const LakeWorkerTask *task);

/*
 * Run fn(arg); if it raises an ERROR, roll back the transaction it was in,
 * log the error as a WARNING "vlake <what> failed: <message>" (with its
 * detail) and return false.  For the steps of a task that must not stop the
 * rest of it (one unreachable location among several, say).
 */
extern bool lake_worker_try(void (*fn) (void *arg), void *arg, const char *what);

/* GUC vlake.worker_databases: the databases served, comma-separated. */
extern char *lake_worker_databases;

/* Define the GUC and register one worker per listed database; called once
 * from _PG_init after every layer registered its tasks. */
extern void lake_worker_start(void);

#endif							/* VLAKE_LAKE_WORKER_H */
