/*
 * index_init.c — initialisation of the index layer: GUCs, reloptions and
 * the EXPLAIN hook of the vlake index access method.
 */
#include "postgres.h"

#include <float.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"

#include "index/vlindex.h"
#include "index/vlindex_gc.h"
#include "utils/varlena.h"
#include "vlake.h"

int			vl_probes = 0;
double		vl_epsilon = 1.9;
int			vl_rerank_min = 0;
char	   *vl_default_location = NULL;
int			vl_iterative = VL_ITERATIVE_EXHAUSTIVE;
double		vl_hierarchy_cover = 8.0;
int			vl_exhaustive_after = 100;

/* "on" (and its spellings) keeps meaning what it meant: keep searching */
static const struct config_enum_entry iterative_options[] = {
	{"exhaustive", VL_ITERATIVE_EXHAUSTIVE, false},
	{"rounds", VL_ITERATIVE_ROUNDS, false},
	{"off", VL_ITERATIVE_OFF, false},
	{"on", VL_ITERATIVE_EXHAUSTIVE, true},
	{"true", VL_ITERATIVE_EXHAUSTIVE, true},
	{"yes", VL_ITERATIVE_EXHAUSTIVE, true},
	{"1", VL_ITERATIVE_EXHAUSTIVE, true},
	{"false", VL_ITERATIVE_OFF, true},
	{"no", VL_ITERATIVE_OFF, true},
	{"0", VL_ITERATIVE_OFF, true},
	{NULL, 0, false}
};
char	   *vl_merge_database = NULL;
int			vl_merge_naptime = 60;
int			vl_merge_threshold = 10000;

/*
 * The merge worker's code lives in src/workers/index_merge_worker.c; it is
 * registered here, by name, because the index layer owns its settings.
 * One worker per database listed in vlake.index_merge_database (each
 * connects to one database); the database name travels in bgw_extra.
 */
#define VL_MAX_MERGE_DATABASES 32

static void
register_merge_workers(void)
{
	char	   *names = pstrdup(vl_merge_database);
	List	   *dbs = NIL;
	ListCell   *lc;

	if (!SplitIdentifierString(names, ',', &dbs))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vlake.index_merge_database must be a comma-separated list of database names")));
	if (list_length(dbs) > VL_MAX_MERGE_DATABASES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vlake.index_merge_database lists %d databases, at most %d are supported",
						list_length(dbs), VL_MAX_MERGE_DATABASES)));
	foreach(lc, dbs)
	{
		const char *db = lfirst(lc);
		BackgroundWorker w;

		if (strlen(db) >= BGW_EXTRALEN)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("database name \"%s\" in vlake.index_merge_database is too long", db)));
		memset(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = 30;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "vlake");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "vlake_index_merge_worker_main");
		snprintf(w.bgw_name, BGW_MAXLEN, "vlake index merge worker for %s", db);
		snprintf(w.bgw_type, BGW_MAXLEN, "vlake index merge");
		strlcpy(w.bgw_extra, db, BGW_EXTRALEN);
		RegisterBackgroundWorker(&w);
	}
}

void
vlake_index_init(void)
{
	DefineCustomIntVariable("vlake.probes",
							"Lists a vlake index scan probes first (0 = automatic: max(8, lists/16)).",
							"More lists: higher recall, slower queries.",
							&vl_probes, 0, 0, 1 << 20,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("vlake.rerank_epsilon",
							 "Width of the RaBitQ error bound, in standard deviations, used to decide which candidates are re-ranked exactly.",
							 "Larger values re-rank more candidates (higher recall, slower); 0 re-ranks by estimate only.",
							 &vl_epsilon, 1.9, 0.0, 10.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.rerank_min",
							"Minimum number of candidates (in lower-bound order) re-ranked exactly in the first batch of a vlake index scan.",
							NULL,
							&vl_rerank_min, 0, 0, 100000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("vlake.iterative_scan",
							 "What a vlake index scan does when the first probed lists are exhausted (filtered queries).",
							 "exhaustive (default, also \"on\"): probe every remaining list at once and return the rest in exact order; "
							 "rounds: probe the next vlake.probes lists at a time; off: stop.",
							 &vl_iterative, VL_ITERATIVE_EXHAUSTIVE, iterative_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.exhaustive_after",
							"Rows a vlake index scan returns before it turns exhaustive (with vlake.iterative_scan = exhaustive); at least 1/8 of the rows of the first probed lists.",
							"Past this many rows a filter is taken to be rejecting them: every remaining list is probed and the rest comes out in exact order.  0: only when the first probed lists run out.",
							&vl_exhaustive_after, 100, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("vlake.hierarchy_cover",
							 "Lists whose centroids a query compares on an index with a second level, as a multiple of the lists it probes.",
							 "The lists of the nearest groups are taken until this many (past 16 probes the multiple shrinks with sqrt(16 / probes), down to 2); 0 ignores the second level and compares every centroid.",
							 &vl_hierarchy_cover, 8.0, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("vlake.default_location",
							   "Root URI under which vlake indexes write their lake files when no location reloption is given.",
							   NULL,
							   &vl_default_location, "",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	/* a PGC_POSTMASTER setting can only be defined while preloading */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("vlake.index_merge_database",
								   "Databases whose vlake indexes background merge workers maintain, comma-separated (empty: none).",
								   "One worker per database; needs vlake in shared_preload_libraries.",
								   &vl_merge_database, "",
								   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.index_merge_naptime",
							"Seconds between two passes of the vlake index merge worker.",
							NULL,
							&vl_merge_naptime, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.index_merge_threshold",
							"Delta rows plus tombstones at which the merge worker folds a vlake index.",
							NULL,
							&vl_merge_threshold, 10000, 1, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.index_gc_min_age",
							"Minimum time a retired vlake index part is kept after garbage collection retired it.",
							"A floor on top of the snapshot rule, for point-in-time recovery windows and standbys without hot_standby_feedback; used by the merge worker and by vlake.index_gc() without min_age.",
							&vl_gc_min_age, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress &&
		vl_merge_database && vl_merge_database[0] != '\0')
		register_merge_workers();

	vl_init_reloptions();
	vl_explain_init();
}
