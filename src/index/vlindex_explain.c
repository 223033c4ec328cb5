/*
 * vlindex_explain.c — what a vlake index scan did, in EXPLAIN ANALYZE.
 *
 * PostgreSQL 15 gives an index AM no way to add lines to its plan node, so
 * the scan counts its work in per-backend counters (vlindex_stats) and an
 * ExplainOneQuery_hook prints the difference the statement made, after the
 * plan (explain_counters below).
 */
#include "postgres.h"

#include "commands/explain.h"

#include "lake/lake_explain.h"

#include "index/vlindex.h"
#include "objstore/objstore.h"

static ExplainOneQuery_hook_type prev_explain_hook = NULL;

#define DIFF(field) ((int64) (vlindex_stats.field - before->field))

/*
 * After the plan: what the statement's vlake index scans did, and the
 * bytes the statement read by tier — the index's warm tier (codes in
 * backend memory), then ObjStore's memory tier, local disk cache and the
 * lake itself.  Text: two lines; other formats: a "vlake" object after the
 * plan (a second element of the top-level array in JSON).
 */
static void
explain_counters(ExplainState *es, const VlIndexScanStats *before, const ObjIoTotals *io_before)
{
	ObjIoTotals io;

	objstore_io_totals(&io);
	if (es->format == EXPLAIN_FORMAT_TEXT)
	{
		appendStringInfo(es->str,
						 "vlake index: scans=%lld centroids compared=%lld lists probed=%lld codes scanned=%lld re-ranked=%lld delta rows=%lld",
						 (long long) DIFF(scans), (long long) DIFF(centroids_compared),
						 (long long) DIFF(lists_probed),
						 (long long) DIFF(codes_scanned), (long long) DIFF(reranked),
						 (long long) DIFF(delta_scanned));
		/* only when it happened: remote indexes (vlake.rerank_from_heap) */
		if (DIFF(heap_reranked) > 0)
			appendStringInfo(es->str, " (re-ranked from the heap=%lld)",
							 (long long) DIFF(heap_reranked));
		appendStringInfoChar(es->str, '\n');
		appendStringInfo(es->str,
						 "vlake bytes: warm tier=%lld object store memory=%lld local cache=%lld lake=%lld (GET requests=%lld, index round trips=%lld)\n",
						 (long long) DIFF(bytes_memory),
						 (long long) (io.bytes_memory - io_before->bytes_memory),
						 (long long) (io.bytes_disk - io_before->bytes_disk),
						 (long long) (io.bytes_lake - io_before->bytes_lake),
						 (long long) (io.get_requests - io_before->get_requests),
						 (long long) DIFF(round_trips));
		return;
	}
	ExplainOpenGroup("vlake", NULL, true, es);
	ExplainPropertyInteger("Index Scans", NULL, DIFF(scans), es);
	ExplainPropertyInteger("Centroids Compared", NULL, DIFF(centroids_compared), es);
	ExplainPropertyInteger("Lists Probed", NULL, DIFF(lists_probed), es);
	ExplainPropertyInteger("Codes Scanned", NULL, DIFF(codes_scanned), es);
	ExplainPropertyInteger("Re-ranked", NULL, DIFF(reranked), es);
	ExplainPropertyInteger("Delta Rows", NULL, DIFF(delta_scanned), es);
	if (DIFF(heap_reranked) > 0)
		ExplainPropertyInteger("Re-ranked From Heap", NULL, DIFF(heap_reranked), es);
	ExplainPropertyInteger("Warm Tier Bytes", NULL, DIFF(bytes_memory), es);
	ExplainPropertyInteger("Object Store Memory Bytes", NULL,
						   (int64) (io.bytes_memory - io_before->bytes_memory), es);
	ExplainPropertyInteger("Local Cache Bytes", NULL,
						   (int64) (io.bytes_disk - io_before->bytes_disk), es);
	ExplainPropertyInteger("Lake Bytes", NULL, (int64) (io.bytes_lake - io_before->bytes_lake), es);
	ExplainPropertyInteger("GET Requests", NULL,
						   (int64) (io.get_requests - io_before->get_requests), es);
	ExplainPropertyInteger("Index Round Trips", NULL, DIFF(round_trips), es);
	ExplainCloseGroup("vlake", NULL, true, es);
}

static void
vlindex_explain_one_query(Query *query, int cursorOptions, IntoClause *into,
					 ExplainState *es, const char *queryString,
					 ParamListInfo params, QueryEnvironment *queryEnv)
{
	VlIndexScanStats before = vlindex_stats;
	ObjIoTotals io_before;

	objstore_io_totals(&io_before);

	lake_explain_one_query(prev_explain_hook, query, cursorOptions, into, es, queryString,
						   params, queryEnv);

	if (es->analyze && vlindex_stats.scans > before.scans)
		explain_counters(es, &before, &io_before);
}

void
vlindex_explain_init(void)
{
	prev_explain_hook = ExplainOneQuery_hook;
	ExplainOneQuery_hook = vlindex_explain_one_query;
}
