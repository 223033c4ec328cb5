/*
 * vlindex_pgvector.c — pgvector's query settings in a session that scans a
 * vlake index.
 *
 * A script written for pgvector sets hnsw.ef_search or ivfflat.probes to
 * tune recall; on a vlake index they do nothing (without pgvector loaded
 * they are mere placeholders, and SET succeeds silently either way).  So
 * the first vlake scan that runs while one of them holds a value other than
 * pgvector's default says so with a WARNING naming the vlake setting to use
 * instead — once per session for each setting and value, so a loop of
 * queries is not flooded but a new value is reported again.  The mapping is
 * documented in docs/migrate-from-pgvector.md.
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "index/vlindex.h"

typedef struct PgvectorSetting
{
	const char *name;
	const char *deflt;			/* pgvector 0.8.6's default, as SHOW prints it */
	const char *instead;		/* what to use on a vlake index */
} PgvectorSetting;

static const PgvectorSetting pgvector_settings[] = {
	{"hnsw.ef_search", "40",
	"Set vlake.probes (lists a scan probes first; 0 = automatic) to trade speed for recall."},
	{"hnsw.iterative_scan", "off",
	"Set vlake.iterative_scan (it accepts strict_order and relaxed_order)."},
	{"hnsw.max_scan_tuples", "20000",
	"vlake has no such cap: vlake.iterative_scan and vlake.exhaustive_after decide how far a filtered scan goes."},
	{"hnsw.scan_mem_multiplier", "1",
	"vlake's iterative scan is not bounded by work_mem (12 bytes per remaining candidate); see vlake.iterative_scan."},
	{"ivfflat.probes", "1",
	"Set vlake.probes (lists a scan probes first; 0 = automatic) to trade speed for recall."},
	{"ivfflat.iterative_scan", "off",
	"Set vlake.iterative_scan (it accepts strict_order and relaxed_order)."},
	{"ivfflat.max_probes", "32768",
	"vlake has no such cap: vlake.iterative_scan = off stops after vlake.probes lists, rounds adds vlake.probes lists at a time."},
};

/* "name=value" pairs already reported in this session */
static List *warned = NIL;

void
vlindex_warn_pgvector_settings(Relation index)
{
	for (int i = 0; i < (int) lengthof(pgvector_settings); i++)
	{
		const PgvectorSetting *s = &pgvector_settings[i];
		const char *value = GetConfigOption(s->name, true, false);
		char	   *key;
		ListCell   *lc;
		bool		seen = false;
		MemoryContext old;

		/* unset (no placeholder, pgvector not loaded) or pgvector's default */
		if (value == NULL || pg_strcasecmp(value, s->deflt) == 0)
			continue;
		key = psprintf("%s=%s", s->name, value);
		foreach(lc, warned)
		{
			if (strcmp((const char *) lfirst(lc), key) == 0)
			{
				seen = true;
				break;
			}
		}
		if (seen)
		{
			pfree(key);
			continue;
		}
		old = MemoryContextSwitchTo(TopMemoryContext);
		warned = lappend(warned, pstrdup(key));
		MemoryContextSwitchTo(old);
		pfree(key);
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("%s = %s has no effect on vlake index \"%s\"",
						s->name, value, RelationGetRelationName(index)),
				 errdetail("%s is a setting of pgvector's %s index; vlake indexes have their own settings.",
						   s->name, strncmp(s->name, "hnsw.", 5) == 0 ? "HNSW" : "IVFFlat"),
				 errhint("%s See docs/migrate-from-pgvector.md.", s->instead)));
	}
}
