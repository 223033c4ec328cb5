/*
 * fts_query_sql.c — the BM25 operators evaluated outside an index scan:
 * text/text[] @@@ bm25query (match) and <@> (minus the BM25 score).
 * Stubs until the query core lands.
 */
#include "postgres.h"

#include "fmgr.h"

#include "fulltext/fts_am.h"

PG_FUNCTION_INFO_V1(vlake_bm25_match_text);
PG_FUNCTION_INFO_V1(vlake_bm25_match_array);
PG_FUNCTION_INFO_V1(vlake_bm25_score_text);
PG_FUNCTION_INFO_V1(vlake_bm25_score_array);

static void
not_built(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("BM25 operators outside a vlake_bm25 index scan are not built yet")));
}

Datum
vlake_bm25_match_text(PG_FUNCTION_ARGS)
{
	not_built();
	PG_RETURN_BOOL(false);
}

Datum
vlake_bm25_match_array(PG_FUNCTION_ARGS)
{
	not_built();
	PG_RETURN_BOOL(false);
}

Datum
vlake_bm25_score_text(PG_FUNCTION_ARGS)
{
	not_built();
	PG_RETURN_FLOAT8(0);
}

Datum
vlake_bm25_score_array(PG_FUNCTION_ARGS)
{
	not_built();
	PG_RETURN_FLOAT8(0);
}
