/*
 * lake_fault.c — fault points for crash tests (lake_fault.h).
 */
#include "postgres.h"

#include <stdlib.h>
#include <unistd.h>

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
			if (strncmp(a, "wait", 4) == 0)
				return "wait";
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
	if (strcmp(action, "wait") == 0)
	{
		/*
		 * Race tests: hold here until the test creates "<point>.go" in the
		 * data directory (at most a minute), then go on.  Interrupts are not
		 * served: the point may be past a commit, where an ERROR is a PANIC.
		 */
		char	   *go = psprintf("%s/%s.go", DataDir, point);

		elog(LOG, "vlake fault point %s reached: waiting for %s", point, go);
		for (int i = 0; i < 600 && access(go, F_OK) != 0; i++)
		{
			if (!PostmasterIsAlive())
				proc_exit(1);
			pg_usleep(100000L);
		}
		(void) unlink(go);
		pfree(go);
		return;
	}
	elog(LOG, "vlake fault point %s reached: crashing", point);
	abort();
}

void
lake_fault_init(void)
{
	DefineCustomStringVariable("vlake.fault_points",
							   "Fault points armed for crash and race tests (point:crash|error|sleep|wait, comma-separated).",
							   "For tests only: crash aborts the backend, which restarts the server.",
							   &lake_fault_points, "",
							   PGC_SUSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
}
