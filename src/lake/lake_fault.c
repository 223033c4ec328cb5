/*
 * lake_fault.c — fault points for crash tests (lake_fault.h).
 */
#include "postgres.h"

#include <stdlib.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "utils/guc.h"

#include "lake/lake_fault.h"

char	   *lake_fault_points = NULL;

/* The action armed for point in the setting, or NULL. */
static const char *
armed(const char *point)
{
	size_t		len = strlen(point);
	const char *p = lake_fault_points;

	while (p && *p)
	{
		while (*p == ' ' || *p == ',')
			p++;
		if (strncmp(p, point, len) == 0 && p[len] == ':')
		{
			const char *a = p + len + 1;

			if (strncmp(a, "crash", 5) == 0)
				return "crash";
			if (strncmp(a, "error", 5) == 0)
				return "error";
			if (strncmp(a, "sleep", 5) == 0)
				return "sleep";
		}
		p = strchr(p, ',');
	}
	return NULL;
}

void
lake_fault(const char *point)
{
	const char *action;

	if (lake_fault_points == NULL || lake_fault_points[0] == '\0')
		return;
	action = armed(point);
	if (action == NULL)
		return;
	if (strcmp(action, "error") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("vlake fault point %s reached", point)));
	if (strcmp(action, "sleep") == 0)
	{
		elog(LOG, "vlake fault point %s reached", point);
		for (;;)
		{
			CHECK_FOR_INTERRUPTS();
			if (!PostmasterIsAlive())
				proc_exit(1);	/* the test killed the postmaster */
			pg_usleep(100000L);
		}
	}
	elog(LOG, "vlake fault point %s reached: crashing", point);
	abort();
}

void
lake_fault_init(void)
{
	DefineCustomStringVariable("vlake.fault_points",
							   "Fault points armed for crash tests (point:crash|error|sleep, comma-separated).",
							   "For tests only: crash aborts the backend, which restarts the server.",
							   &lake_fault_points, "",
							   PGC_SUSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
}
