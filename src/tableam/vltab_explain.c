/*
 * vltab_explain.c — what the sequential scans of vlake tables read and
 * skipped, in EXPLAIN ANALYZE.
 *
 * A table AM cannot add lines to its plan node in PostgreSQL 15: the scans
 * count into the backend's vltab_scan_totals (vltab_am.c) and an
 * ExplainOneQuery_hook prints what the statement added, after the plan.
 * Parallel workers count in their own backends: the line shows the
 * leader's share only.
 */
#include "postgres.h"

#include "commands/explain.h"

#include "lake/lake_explain.h"

#include "tableam/vltab.h"

static ExplainOneQuery_hook_type prev_explain_hook = NULL;

#define DIFF(field) ((int64) (vltab_scan_totals.field - before->field))

static void
explain_scan_counts(ExplainState *es, const VltabScanTotals *before)
{
	if (es->format == EXPLAIN_FORMAT_TEXT)
	{
		appendStringInfo(es->str,
						 "vlake table scan: segments=%lld skipped=%lld pages read=%lld skipped=%lld rows skipped=%lld bytes=%lld\n",
						 (long long) DIFF(segments_total), (long long) DIFF(segments_skipped),
						 (long long) DIFF(io.pages_read), (long long) DIFF(io.pages_skipped),
						 (long long) DIFF(io.rows_skipped), (long long) DIFF(io.bytes_read));
		return;
	}
	ExplainOpenGroup("vlake table scan", NULL, true, es);
	ExplainPropertyInteger("Segments", NULL, DIFF(segments_total), es);
	ExplainPropertyInteger("Segments Skipped", NULL, DIFF(segments_skipped), es);
	ExplainPropertyInteger("Pages Read", NULL, DIFF(io.pages_read), es);
	ExplainPropertyInteger("Pages Skipped", NULL, DIFF(io.pages_skipped), es);
	ExplainPropertyInteger("Rows Skipped", NULL, DIFF(io.rows_skipped), es);
	ExplainPropertyInteger("Bytes Read", NULL, DIFF(io.bytes_read), es);
	ExplainCloseGroup("vlake table scan", NULL, true, es);
}

static void
vltab_explain_one_query(Query *query, int cursorOptions, IntoClause *into,
						ExplainState *es, const char *queryString,
						ParamListInfo params, QueryEnvironment *queryEnv)
{
	VltabScanTotals before = vltab_scan_totals;

	lake_explain_one_query(prev_explain_hook, query, cursorOptions, into, es, queryString,
						   params, queryEnv);
	if (es->analyze && vltab_scan_totals.scans > before.scans)
		explain_scan_counts(es, &before);
}

void
vltab_explain_init(void)
{
	prev_explain_hook = ExplainOneQuery_hook;
	ExplainOneQuery_hook = vltab_explain_one_query;
}
