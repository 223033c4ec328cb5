/*
 * lake_explain.h — EXPLAIN of one query for vlake's ExplainOneQuery_hooks.
 *
 * PostgreSQL 15 gives table and index AMs no way to add lines to their plan
 * nodes, so the index and tableam layers each install an ExplainOneQuery_hook
 * that explains the query as PostgreSQL would and then prints what its scans
 * counted.  "As PostgreSQL would" is the hook installed before theirs, or,
 * without one, the body of ExplainOneQuery (static in explain.c): this.
 */
#ifndef VLAKE_LAKE_EXPLAIN_H
#define VLAKE_LAKE_EXPLAIN_H

#include "postgres.h"

#include "commands/explain.h"

extern void lake_explain_one_query(ExplainOneQuery_hook_type prev, Query *query,
								   int cursorOptions, IntoClause *into, ExplainState *es,
								   const char *queryString, ParamListInfo params,
								   QueryEnvironment *queryEnv);

#endif							/* VLAKE_LAKE_EXPLAIN_H */
