/*
 * index_init.c — initialisation of the index layer: GUCs, reloptions and
 * the EXPLAIN hook of the vlake index access method.
 */
#include "postgres.h"

#include <float.h>

#include "utils/guc.h"

#include "index/vlindex.h"
#include "vlake.h"

int			vl_probes = 0;
double		vl_epsilon = 1.9;
int			vl_rerank_min = 0;
char	   *vl_default_location = NULL;
bool		vl_iterative = true;

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
	DefineCustomBoolVariable("vlake.iterative_scan",
							 "Probe further lists when the first ones are exhausted (filtered queries).",
							 NULL,
							 &vl_iterative, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("vlake.default_location",
							   "Root URI under which vlake indexes write their lake files when no location reloption is given.",
							   NULL,
							   &vl_default_location, "",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	vl_init_reloptions();
	vl_explain_init();
}
