/*
 * lake_explain.c — EXPLAIN of one query through the previous hook or the
 * core path (lake_explain.h).
 */
#include "postgres.h"

#include "executor/instrument.h"
#include "optimizer/optimizer.h"
#include "portability/instr_time.h"
#include "tcop/tcopprot.h"

#include "lake/lake_explain.h"

void
lake_explain_one_query(ExplainOneQuery_hook_type prev, Query *query, int cursorOptions,
					   IntoClause *into, ExplainState *es, const char *queryString,
					   ParamListInfo params, QueryEnvironment *queryEnv)
{
	PlannedStmt *plan;
	instr_time	planstart,
				planduration;
	BufferUsage bufusage_start,
				bufusage;

	if (prev)
	{
		prev(query, cursorOptions, into, es, queryString, params, queryEnv);
		return;
	}
	/* what ExplainOneQuery() does without a hook */
	if (es->buffers)
		bufusage_start = pgBufferUsage;
	INSTR_TIME_SET_CURRENT(planstart);
	plan = pg_plan_query(query, queryString, cursorOptions, params);
	INSTR_TIME_SET_CURRENT(planduration);
	INSTR_TIME_SUBTRACT(planduration, planstart);
	if (es->buffers)
	{
		memset(&bufusage, 0, sizeof(BufferUsage));
		BufferUsageAccumDiff(&bufusage, &pgBufferUsage, &bufusage_start);
	}
	ExplainOnePlan(plan, into, es, queryString, params, queryEnv,
				   &planduration, es->buffers ? &bufusage : NULL);
}
