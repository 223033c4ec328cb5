/*
 * vlake.c — module entry point.
 *
 * The module works when loaded per session (CREATE EXTENSION / LOAD); the
 * parts that need shared memory or background workers check
 * vlake_preloaded and say in their ERROR hint that shared_preload_libraries
 * is required.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "compat.h"
#include "lake/lake_worker.h"
#include "vlake.h"

PG_MODULE_MAGIC;

bool		vlake_preloaded = false;

void		_PG_init(void);

void
_PG_init(void)
{
	vlake_preloaded = process_shared_preload_libraries_in_progress;

	vlake_vector_init();
	vlake_objstore_init();
	vlake_lake_init();
	vlake_objref_init();
	vlake_pgmap_init();
	vlake_tableam_init();
	vlake_index_init();
	vlake_fulltext_init();
	vlake_planner_init();
	vlake_workers_init();
	/* last: every layer has registered its tasks */
	lake_worker_start();

	VLAKE_RESERVE_GUC_PREFIX("vlake");
}

void
vlake_require_preload(const char *feature)
{
	if (!vlake_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s requires vlake to be loaded at server start", feature),
				 errhint("Add vlake to shared_preload_libraries in postgresql.conf and restart the server.")));
}

PG_FUNCTION_INFO_V1(vlake_version);
Datum
vlake_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(VLAKE_VERSION_STR));
}
