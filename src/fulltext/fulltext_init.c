/*
 * fulltext_init.c — initialisation of the fulltext layer: its settings and
 * the reloptions of the vlake_bm25 index.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "fulltext/fts_am_internal.h"
#include "vlake.h"

char	   *fts_default_config = NULL;

void
vlake_fulltext_init(void)
{
	fts_am_init_reloptions();
	DefineCustomStringVariable("vlake.fts_config",
							   "Full-text configuration of a bm25query that names no index.",
							   "'simple' (SQLite FTS5 tokens) or a Snowball language (SELECT config FROM vlake.fts_configs()).  "
							   "A query made by to_bm25query(query, index) uses its index's configuration.",
							   &fts_default_config, "english",
							   PGC_USERSET, 0, NULL, NULL, NULL);
}
