/*
 * lake_init.c — initialisation of the lake layer: its settings.  The
 * database workers are started by lake_worker_start(), called last from
 * _PG_init, once every layer has registered its tasks.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "lake/lake_location.h"
#include "vlake.h"

void
vlake_lake_init(void)
{
	DefineCustomStringVariable("vlake.default_location",
							   "Root URI under which new lake assets (vlake indexes) write their files when they are given no location.",
							   "Empty (the default): the embedded lake, the directory vlake_lake under the data directory.",
							   &lake_default_location, "",
							   PGC_SUSET, 0, NULL, NULL, NULL);
}
