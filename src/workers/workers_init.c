/*
 * workers_init.c — initialisation of the workers layer: the settings of its
 * tasks, and their registration with the lake layer's database workers.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "lake/lake_worker.h"
#include "vlake.h"
#include "workers/workers.h"

void
vlake_workers_init(void)
{
	DefineCustomIntVariable("vlake.index_merge_naptime",
							"Seconds between two index maintenance passes (merges, then garbage collection) of vlake's database workers.",
							NULL,
							&workers_index_naptime, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.index_merge_threshold",
							"Delta rows plus tombstones at which the index maintenance task folds a vlake index.",
							NULL,
							&workers_index_threshold, 10000, 1, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.flush_naptime",
							"Seconds between two table maintenance passes (delta flushes, then garbage collection) of vlake's database workers.",
							NULL, &workers_flush_naptime, 10, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.flush_threshold",
							"Live delta rows at which the table maintenance task flushes a vlake table to a lake segment.",
							NULL, &workers_flush_threshold, 100000, 1, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.flush_max_age",
							"Seconds after the last lake version of a vlake table at which any delta rows are flushed.",
							NULL, &workers_flush_max_age, 300, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.table_gc_min_age",
							"Seconds a lake part of a vlake table no catalog names is kept before garbage collection removes it.",
							"Keeps files that readers of older published manifests may still use.",
							&workers_table_gc_min_age, 3600, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.compact_naptime",
							"Seconds between two compaction passes of vlake's database workers over the vlake tables.",
							NULL, &workers_compact_naptime, 300, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	workers_tables_register();
	DefineCustomIntVariable("vlake.publish_naptime",
							"Seconds between two passes of the table publication task of vlake's database workers (it publishes committed versions of vlake tables that are missing from the lake).",
							NULL,
							&workers_publish_naptime, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	workers_index_register();
	workers_publish_register();
}

/*
 * vlake.worker_databases(): the databases vlake's workers serve (the
 * setting); ERRORs with a hint when no worker can run (not preloaded, or
 * not configured).
 */
PG_FUNCTION_INFO_V1(vlake_worker_databases);
Datum
vlake_worker_databases(PG_FUNCTION_ARGS)
{
	vlake_require_preload("vlake's background workers");
	if (lake_worker_databases == NULL || lake_worker_databases[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vlake's background workers are not configured"),
				 errhint("Set vlake.worker_databases in postgresql.conf and restart the server.")));
	PG_RETURN_TEXT_P(cstring_to_text(lake_worker_databases));
}
