/*
 * vlindex_explain.c — what a vlake index scan did, in EXPLAIN ANALYZE.
 *
 * PostgreSQL 15 gives an index AM no way to add lines to its plan node, so
 * the scan counts its work in per-backend counters (vl_stats) and an
 * ExplainOneQuery_hook prints the difference the statement made, after the
 * plan, in text format:
 *   vlake index: scans=1 lists probed=16 codes scanned=3921 re-ranked=41
 *     delta rows=0 bytes: memory=612345 fetched=128600 (round trips=1)
 * "memory" are code bytes served by the backend's warm tier; "fetched" are
 * bytes asked of ObjStore (its local cache, or the lake).
 */
#include "postgres.h"

#include "commands/explain.h"
#include "executor/instrument.h"
#include "optimizer/optimizer.h"
#include "portability/instr_time.h"
#include "tcop/tcopprot.h"

#include "index/vlindex.h"

static ExplainOneQuery_hook_type prev_explain_hook = NULL;

static void
vl_explain_one_query(Query *query, int cursorOptions, IntoClause *into,
					 ExplainState *es, const char *queryString,
					 ParamListInfo params, QueryEnvironment *queryEnv)
{
	VlScanStats before = vl_stats;

	if (prev_explain_hook)
		prev_explain_hook(query, cursorOptions, into, es, queryString, params, queryEnv);
	else
	{
		/* what ExplainOneQuery() does without a hook */
		PlannedStmt *plan;
		instr_time	planstart,
					planduration;
		BufferUsage bufusage_start,
					bufusage;

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

	if (es->analyze && es->format == EXPLAIN_FORMAT_TEXT &&
		vl_stats.scans > before.scans)
	{
		appendStringInfo(es->str,
						 "vlake index: scans=%lld centroids compared=%lld lists probed=%lld codes scanned=%lld re-ranked=%lld delta rows=%lld\n",
						 (long long) (vl_stats.scans - before.scans),
						 (long long) (vl_stats.centroids_compared - before.centroids_compared),
						 (long long) (vl_stats.lists_probed - before.lists_probed),
						 (long long) (vl_stats.codes_scanned - before.codes_scanned),
						 (long long) (vl_stats.reranked - before.reranked),
						 (long long) (vl_stats.delta_scanned - before.delta_scanned));
		appendStringInfo(es->str,
						 "vlake index bytes: memory=%lld fetched=%lld round trips=%lld\n",
						 (long long) (vl_stats.bytes_memory - before.bytes_memory),
						 (long long) (vl_stats.bytes_fetched - before.bytes_fetched),
						 (long long) (vl_stats.round_trips - before.round_trips));
	}
}

void
vl_explain_init(void)
{
	prev_explain_hook = ExplainOneQuery_hook;
	ExplainOneQuery_hook = vl_explain_one_query;
}
