/*
 * fts_am.c — the vlake_bm25 index access method (docs/bm25.md).
 * Being built: for now only the entry the operators call.
 */
#include "postgres.h"

#include "fulltext/fts_am.h"

int
fts_am_sources(Oid indexoid, FtsIndexSettings *settings, FtsSource ***sources)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("the vlake_bm25 index access method is not built yet")));
	return 0;
}
