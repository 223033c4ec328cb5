/*
 * workers_publish.c — the "table publication" task of vlake's database
 * workers (lake_worker.h): every vlake.publish_naptime seconds it checks
 * that the latest committed lake version of every vlake table of its
 * database is published in the lake, and publishes it when not (a backend
 * killed between its commit and its manifest put, an object store that
 * failed at that moment); first it adopts the versions other engines
 * committed to the table's manifest chain (vltab_refresh).  The work is the table AM's
 * (vltab_publish_repair(), docs/tables.md "Publication"); each table is
 * checked in its own transaction, and a table that fails (an unreachable
 * location) is logged as a WARNING without stopping the others.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "lake/lake_worker.h"
#include "tableam/vltab.h"
#include "workers/workers.h"

int			workers_publish_naptime = 60;

/* The vlake tables of this database, or NIL before CREATE EXTENSION. */
static List *
tables_to_check(void)
{
	List	   *relids = NIL;
	MemoryContext caller = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (SPI_execute("SELECT 1 FROM pg_extension WHERE extname = 'vlake'", true, 1) == SPI_OK_SELECT &&
		SPI_processed > 0)
	{
		List	   *found = vltab_publish_tables();
		MemoryContext old = MemoryContextSwitchTo(caller);

		relids = list_copy(found);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return relids;
}

static void
publish_step(void *arg)
{
	Oid			relid = *(Oid *) arg;
	Relation	rel;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = try_relation_open(relid, AccessShareLock);
	if (rel != NULL)
	{
		int64		n;
		char	   *name = pstrdup(RelationGetRelationName(rel));

		/*
		 * Versions other engines committed first (and a race this table
		 * lost: then the commit below publishes the merged version).  The
		 * refresh opens the table itself (ALTER TABLE ADD COLUMN of a new
		 * field refuses a table open here); the lock stays.
		 */
		relation_close(rel, NoLock);
		n = vltab_refresh(relid);
		if (n > 0)
			ereport(LOG,
					(errmsg("vlake adopted %lld version(s) of table \"%s\" that another engine committed",
							(long long) n, name)));
		rel = relation_open(relid, NoLock);
		n = vltab_publish_noted(relid) ? 0 : vltab_publish_repair(rel, false);

		if (n > 0)
			ereport(LOG,
					(errmsg("vlake published the latest version of table \"%s\", which its writer had not",
							RelationGetRelationName(rel))));
		relation_close(rel, AccessShareLock);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
publish_pass(void)
{
	List	   *relids = tables_to_check();
	ListCell   *lc;

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		CHECK_FOR_INTERRUPTS();
		pgstat_report_activity(STATE_RUNNING, "vlake table publication");
		(void) lake_worker_try(publish_step, &relid,
							   psprintf("publication of vlake table %u", relid));
	}
	pgstat_report_activity(STATE_IDLE, NULL);
}

static const LakeWorkerTask publish_task = {
	.name = "table publication",
	.run = publish_pass,
	.interval_s = &workers_publish_naptime,
};

void
workers_publish_register(void)
{
	lake_worker_register(&publish_task);
}
