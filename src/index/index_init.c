/*
 * index_init.c — initialisation of the index layer: GUCs, reloptions and
 * the EXPLAIN hook of the vlake index access method.
 */
#include "postgres.h"

#include <float.h>

#include "utils/guc.h"

#include "index/vlindex.h"
#include "vlake.h"

int			vlindex_probes = 0;
double		vlindex_epsilon = 1.9;
int			vlindex_rerank_min = 0;
int			vlindex_iterative = VLINDEX_ITERATIVE_EXHAUSTIVE;
double		vlindex_hierarchy_cover = 8.0;
int			vlindex_exhaustive_after = 100;
int			vlindex_probe_patience = 4;
bool		vlindex_rerank_from_heap = true;

/* "on" (and its spellings) keeps meaning what it meant: keep searching */
static const struct config_enum_entry iterative_options[] = {
	{"exhaustive", VLINDEX_ITERATIVE_EXHAUSTIVE, false},
	{"rounds", VLINDEX_ITERATIVE_ROUNDS, false},
	{"off", VLINDEX_ITERATIVE_OFF, false},
	/* pgvector's values (docs/migrate-from-pgvector.md) */
	{"strict_order", VLINDEX_ITERATIVE_STRICT, false},
	{"relaxed_order", VLINDEX_ITERATIVE_EXHAUSTIVE, false},
	{"on", VLINDEX_ITERATIVE_EXHAUSTIVE, true},
	{"true", VLINDEX_ITERATIVE_EXHAUSTIVE, true},
	{"yes", VLINDEX_ITERATIVE_EXHAUSTIVE, true},
	{"1", VLINDEX_ITERATIVE_EXHAUSTIVE, true},
	{"false", VLINDEX_ITERATIVE_OFF, true},
	{"no", VLINDEX_ITERATIVE_OFF, true},
	{"0", VLINDEX_ITERATIVE_OFF, true},
	{NULL, 0, false}
};

void
vlake_index_init(void)
{
	DefineCustomIntVariable("vlake.probes",
							"Lists a vlake index scan probes first (0 = automatic: decided per query).",
							"More lists: higher recall, slower queries.  Automatic: at least max(8, 0.55 sqrt(lists)) lists, then more while they keep contributing (vlake.probe_patience), at most 4 times that.",
							&vlindex_probes, 0, 0, 1 << 20,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.probe_patience",
							"With vlake.probes = 0: lists in a row that added nothing to the 10 best estimates after which a vlake index scan stops probing.",
							"Larger: more lists for queries between clusters (higher recall, slower).  0: always the floor, max(8, 0.55 sqrt(lists)).",
							&vlindex_probe_patience, 4, 0, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("vlake.rerank_from_heap",
							 "Re-rank the candidates of a vlake index whose files are on a remote object store (not file://), or that indexes bit strings over 16,000 bits stored in the heap's pages (STORAGE PLAIN), with the values of the heap table, not those of its vectors.bin.",
							 "The heap pages are local, vectors.bin costs a round trip per re-rank batch; a wide bit string is compared in place, its vectors.bin row is a third larger and copied first; the values, hence the answers, are the same.  Indexes of an expression, and of vlake tables, always use their own source.",
							 &vlindex_rerank_from_heap, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("vlake.rerank_epsilon",
							 "Width of the RaBitQ error bound, in standard deviations, used to decide which candidates are re-ranked exactly.",
							 "Larger values re-rank more candidates (higher recall, slower); 0 re-ranks by estimate only.",
							 &vlindex_epsilon, 1.9, 0.0, 10.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.rerank_min",
							"Minimum number of candidates (in lower-bound order) re-ranked exactly in the first batch of a vlake index scan.",
							NULL,
							&vlindex_rerank_min, 0, 0, 100000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("vlake.iterative_scan",
							 "What a vlake index scan does when the first probed lists are exhausted (filtered queries).",
							 "exhaustive (default, also \"on\"): probe every remaining list at once and return the rest in exact order; "
							 "rounds: probe the next vlake.probes lists at a time; off: stop; "
							 "strict_order: exhaustive, dropping rows closer than one already returned; relaxed_order: exhaustive.",
							 &vlindex_iterative, VLINDEX_ITERATIVE_EXHAUSTIVE, iterative_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.exhaustive_after",
							"Rows a vlake index scan returns before it turns exhaustive (with vlake.iterative_scan = exhaustive); at least 1/8 of the rows of the first probed lists.",
							"Past this many rows a filter is taken to be rejecting them: every remaining list is probed and the rest comes out in exact order.  0: only when the first probed lists run out.",
							&vlindex_exhaustive_after, 100, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("vlake.hierarchy_cover",
							 "Lists whose centroids a query compares on an index with a second level, as a multiple of the lists it probes.",
							 "The lists of the nearest groups are taken until this many (past 16 probes the multiple shrinks with sqrt(16 / probes), down to 2); 0 ignores the second level and compares every centroid.",
							 &vlindex_hierarchy_cover, 8.0, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.index_gc_min_age",
							"Minimum time a retired vlake index part is kept after garbage collection retired it.",
							"A floor on top of the snapshot rule, for point-in-time recovery windows and standbys without hot_standby_feedback; used by the index maintenance task and by vlake.index_gc() without min_age.",
							&vlindex_gc_min_age, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	vlindex_init_reloptions();
	vlindex_explain_init();
}
