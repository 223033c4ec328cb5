/*
 * lake_init.c — initialisation of the lake layer: its settings.  The
 * database workers are started by lake_worker_start(), called last from
 * _PG_init, once every layer has registered its tasks.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "lake/lake_fault.h"
#include "lake/lake_location.h"
#include "objstore/objstore.h"
#include "vlake.h"

/* vlake.default_location: empty, or a root the object store serves */
static bool
check_default_location(char **newval, void **extra, GucSource source)
{
	char	   *why = NULL;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (strlen(*newval) >= LAKE_LOCATION_MAX)
	{
		GUC_check_errdetail("The limit is %d bytes.", LAKE_LOCATION_MAX - 1);
		return false;
	}
	if (!objstore_uri_valid(*newval, &why))
	{
		GUC_check_errdetail("%s", why);
		GUC_check_errhint("Use a file:// or s3:// URI, or '' for the embedded lake.");
		return false;
	}
	return true;
}

void
vlake_lake_init(void)
{
	lake_fault_init();
	DefineCustomStringVariable("vlake.default_location",
							   "Root URI under which new lake assets (vlake indexes) write their files when they are given no location.",
							   "Empty (the default): the embedded lake, the directory vlake_lake under the data directory.",
							   &lake_default_location, "",
							   PGC_SUSET, 0, check_default_location, NULL, NULL);
}
