/*
 * tableam_init.c — initialisation of the tableam layer: settings, and the
 * hooks that make `USING vlake` name the table access method, drop a
 * table's catalog rows with it, and tell lake scans which columns a query
 * reads.
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "lake/lake_location.h"
#include "tableam/vltab.h"
#include "vlake.h"

#define VLTAB_AM_NAME "vlake_table"

static ProcessUtility_hook_type prev_utility = NULL;
static object_access_hook_type prev_object_access = NULL;
static ExecutorStart_hook_type prev_executor_start = NULL;
static ExecutorEnd_hook_type prev_executor_end = NULL;

/* Executors started and not ended (never less than those running). */
int			vltab_executor_depth = 0;

/* `USING vlake` on a table means the table access method. */
static void
translate_am(char **am)
{
	if (*am && strcmp(*am, "vlake") == 0)
		*am = pstrdup(VLTAB_AM_NAME);
}

static bool
is_vlake_am(const char *am)
{
	if (am == NULL)
		am = default_table_access_method;
	return am && (strcmp(am, VLTAB_AM_NAME) == 0 || strcmp(am, "vlake") == 0);
}

/*
 * The location option of a vlake table is taken out of the statement (heap
 * options cannot be extended) and kept in the table's dataset row, created
 * right after the table.  Elsewhere it is refused.
 */
static char *
take_location_option(List **options, const char *am)
{
	ListCell   *lc;

	foreach(lc, *options)
	{
		DefElem    *def = lfirst(lc);
		char	   *location;

		if (def->defnamespace != NULL || strcmp(def->defname, "location") != 0)
			continue;
		if (!is_vlake_am(am))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized parameter \"location\""),
					 errhint("The location option belongs to vlake tables (CREATE TABLE ... USING vlake).")));
		location = defGetString(def);
		lake_location_check(location, "vlake table location");
		*options = foreach_delete_current(*options, lc);
		return location;
	}
	return NULL;
}

/*
 * The retention option of a vlake table (docs/tables.md, "Retention"): taken
 * out of the statement like location, kept in vlake.table_retention.
 * *found: the option was there (reset: without a value).
 */
static Interval *
take_retention_option(List **options, const char *am, bool vlake_known, bool *found)
{
	ListCell   *lc;

	*found = false;
	foreach(lc, *options)
	{
		DefElem    *def = lfirst(lc);
		Interval   *iv = NULL;

		if (def->defnamespace != NULL || strcmp(def->defname, "retention") != 0)
			continue;
		if (!vlake_known && !is_vlake_am(am))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized parameter \"retention\""),
					 errhint("The retention option belongs to vlake tables (CREATE TABLE ... USING vlake).")));
		if (def->arg != NULL)
			iv = vltab_retention_parse(defGetString(def));
		*found = true;
		*options = foreach_delete_current(*options, lc);
		return iv;
	}
	return NULL;
}

static void
create_dataset(RangeVar *rv, const char *location)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	Relation	rel;

	if (!OidIsValid(relid))
		return;					/* IF NOT EXISTS skipped it, or WITH NO DATA */
	rel = table_open(relid, NoLock);
	if (vltab_is_vlake(rel))
		vltab_dataset_create(rel, location);
	table_close(rel, NoLock);
}

/*
 * After ALTER TABLE ... SET ACCESS METHOD: a table that became a vlake
 * table gets its dataset (default location); one that stopped being one
 * loses its catalog rows (its lake rows were copied into the new heap by the
 * rewrite; the files become unnamed parts for GC).
 */
static void
converted_table(RangeVar *rv)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	Relation	rel;
	bool		vlake;

	if (!OidIsValid(relid))
		return;
	rel = table_open(relid, NoLock);
	vlake = vltab_is_vlake(rel);
	if (vlake)
		vltab_dataset_create(rel, NULL);
	table_close(rel, NoLock);
	if (!vlake)
		vltab_catalog_forget(relid, false);
}

/*
 * Does the ALTER TABLE only check NOT NULL (SET NOT NULL, ADD PRIMARY KEY on
 * nullable columns)?  Then its verification scan needs only the NOT NULL
 * columns, and that of a lake table reads their ColumnGroups only.  Any other
 * subcommand may need more (a rewrite, a CHECK constraint, ...).
 */
static bool
only_checks_not_null(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		Constraint *con = (Constraint *) cmd->def;

		if (cmd->subtype == AT_SetNotNull)
			continue;
		if (cmd->subtype == AT_AddConstraint && con && IsA(con, Constraint) &&
			con->contype == CONSTR_PRIMARY && con->indexname == NULL)
			continue;
		return false;
	}
	return stmt->cmds != NIL;
}

static bool relid_is_vlake(Oid relid);
static void added_columns(RangeVar *rv, List *names);

/*
 * ALTER TABLE ... SET (retention = ...) / RESET (retention): taken out of
 * the statement (heap's options cannot be extended); *iv the new value
 * (NULL: reset).  Returns whether a subcommand named it.
 */
static bool
take_alter_retention(AlterTableStmt *stmt, Interval **iv)
{
	ListCell   *lc;
	bool		any = false;
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	bool		vlake = OidIsValid(relid) && relid_is_vlake(relid);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		bool		found;
		Interval   *v;

		if (cmd->subtype != AT_SetRelOptions && cmd->subtype != AT_ResetRelOptions)
			continue;
		/* a table that is not a vlake one refuses it as an unknown option */
		if (!vlake)
			continue;
		v = take_retention_option((List **) &cmd->def, VLTAB_AM_NAME, true, &found);
		if (!found)
			continue;
		any = true;
		*iv = cmd->subtype == AT_SetRelOptions ? v : NULL;
		if (cmd->def == NULL || list_length((List *) cmd->def) == 0)
			stmt->cmds = foreach_delete_current(stmt->cmds, lc);
	}
	return any;
}

/* Apply a retention ALTER TABLE named: the table's owner only. */
static void
alter_retention(RangeVar *rv, Interval *iv)
{
	Oid			relid = RangeVarGetRelid(rv, ShareUpdateExclusiveLock, false);
	Relation	rel = vltab_open_checked(relid, 0, ShareUpdateExclusiveLock);

	vltab_retention_set(relid, iv);
	table_close(rel, NoLock);
}

/* Statements that scan a vlake table for themselves read its present, not
 * the version vlake.as_of_* names (their scans would rewrite, index or
 * check the past). */
static bool
reads_the_present(Node *parsetree)
{
	return IsA(parsetree, AlterTableStmt) || IsA(parsetree, IndexStmt) ||
		IsA(parsetree, ReindexStmt) || IsA(parsetree, ClusterStmt) ||
		IsA(parsetree, VacuumStmt) || IsA(parsetree, DropStmt);
}

/* Run the utility statement; an ALTER TABLE that only checks NOT NULL of a
 * vlake table has its verification scan projected to the NOT NULL columns. */
static void
run_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv,
			DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	volatile bool noted = false;
	volatile bool suspended = false;

	if (IsA(parsetree, AlterTableStmt) && only_checks_not_null((AlterTableStmt *) parsetree))
	{
		Oid			relid = RangeVarGetRelid(((AlterTableStmt *) parsetree)->relation, NoLock, true);

		if (OidIsValid(relid) && relid_is_vlake(relid))
		{
			vltab_check_scan_note(relid);
			noted = true;
		}
	}
	if (reads_the_present(parsetree))
	{
		vltab_travel_suspended++;
		suspended = true;
	}
	PG_TRY();
	{
		if (prev_utility)
			prev_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
									dest, qc);
	}
	PG_FINALLY();
	{
		if (noted)
			vltab_check_scan_forget();
		if (suspended)
			vltab_travel_suspended--;
	}
	PG_END_TRY();
}

static void
vltab_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			  ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv,
			  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	RangeVar   *created = NULL;
	RangeVar   *converted = NULL;
	char	   *location = NULL;
	Interval   *retention = NULL;
	bool		has_retention = false;
	bool		run = true;
	List	   *added = NIL;

	if (IsA(parsetree, CreateStmt) || IsA(parsetree, CreateTableAsStmt) ||
		IsA(parsetree, AlterTableStmt))
	{
		if (readOnlyTree)
		{
			pstmt = copyObject(pstmt);
			parsetree = pstmt->utilityStmt;
			readOnlyTree = false;
		}
		if (IsA(parsetree, CreateStmt))
		{
			CreateStmt *cs = (CreateStmt *) parsetree;

			translate_am(&cs->accessMethod);
			location = take_location_option(&cs->options, cs->accessMethod);
			retention = take_retention_option(&cs->options, cs->accessMethod, false,
											  &has_retention);
			if (is_vlake_am(cs->accessMethod) && cs->relation->relpersistence == RELPERSISTENCE_PERMANENT)
				created = cs->relation;
		}
		else if (IsA(parsetree, CreateTableAsStmt))
		{
			IntoClause *into = ((CreateTableAsStmt *) parsetree)->into;

			translate_am(&into->accessMethod);
			location = take_location_option(&into->options, into->accessMethod);
			retention = take_retention_option(&into->options, into->accessMethod, false,
											  &has_retention);
			if (is_vlake_am(into->accessMethod))
				created = into->rel;
		}
		else
		{
			ListCell   *lc;

			has_retention = take_alter_retention((AlterTableStmt *) parsetree, &retention);
			/* nothing left for ALTER TABLE itself */
			run = ((AlterTableStmt *) parsetree)->cmds != NIL;
			foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
			{
				AlterTableCmd *cmd = lfirst(lc);

				if (cmd->subtype == AT_SetAccessMethod)
				{
					translate_am(&cmd->name);
					converted = ((AlterTableStmt *) parsetree)->relation;
				}
				if (cmd->subtype == AT_AddColumn && IsA(cmd->def, ColumnDef))
					added = lappend(added, pstrdup(((ColumnDef *) cmd->def)->colname));
			}
		}
	}
	if (IsA(parsetree, CreatePublicationStmt))
		vltab_check_publication_stmt(parsetree, ((CreatePublicationStmt *) parsetree)->pubname);
	else if (IsA(parsetree, AlterPublicationStmt))
		vltab_check_publication_stmt(parsetree, ((AlterPublicationStmt *) parsetree)->pubname);
	if (run)
		run_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	if (created)
		create_dataset(created, location);
	if (created && has_retention)
	{
		Oid			relid = RangeVarGetRelid(created, NoLock, true);

		if (OidIsValid(relid) && relid_is_vlake(relid))
			vltab_retention_set(relid, retention);
	}
	else if (has_retention && IsA(parsetree, AlterTableStmt))
		alter_retention(((AlterTableStmt *) parsetree)->relation, retention);
	if (converted)
		converted_table(converted);
	if (added)
		added_columns(((AlterTableStmt *) parsetree)->relation, added);
}

/* Is relid a vlake table? */
static bool
relid_is_vlake(Oid relid)
{
	Relation	rel = RelationIdGetRelation(relid);
	bool		vlake = false;

	if (RelationIsValid(rel))
	{
		vlake = vltab_is_vlake(rel);
		RelationClose(rel);
	}
	return vlake;
}

/*
 * Columns ALTER TABLE added to a vlake table with a constant default (kept
 * in attmissingval): the lake's segments get the default written
 * (vltab_backfill_default), so other engines read it as Postgres does.
 */
static void
added_columns(RangeVar *rv, List *names)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	Relation	rel;
	ListCell   *lc;

	if (!OidIsValid(relid) || !relid_is_vlake(relid))
		return;
	rel = table_open(relid, NoLock);
	foreach(lc, names)
	{
		AttrNumber	an = get_attnum(relid, lfirst(lc));

		if (an > 0 && TupleDescAttr(RelationGetDescr(rel), an - 1)->atthasmissing)
			vltab_backfill_default(rel, an);
	}
	table_close(rel, NoLock);
}

/*
 * A post-alter of relid while its transient copy exists (make_new_heap
 * names it "pg_temp_<relid>" in relid's schema): the swap of a rewrite,
 * CLUSTER or VACUUM FULL (cluster.c's swap_relation_files).
 */
static bool
is_swap_of(Oid relid)
{
	char		name[NAMEDATALEN];

	snprintf(name, sizeof(name), "pg_temp_%u", relid);
	return OidIsValid(get_relname_relid(name, get_rel_namespace(relid)));
}

/*
 * DROP TABLE: the catalog rows go in the dropping transaction.  DROP INDEX
 * of an index of a vlake table: its lake part, if the manifest lists it,
 * goes from the catalog, and the commit publishes a version without it.
 */
static void
vltab_object_access(ObjectAccessType access, Oid classId, Oid objectId, int subId, void *arg)
{
	char		relkind;

	if (prev_object_access)
		prev_object_access(access, classId, objectId, subId, arg);
	if (access == OAT_POST_ALTER && classId == RelationRelationId && subId == 0 &&
		relid_is_vlake(objectId) && is_swap_of(objectId))
	{
		vltab_rewrite_swapped(objectId);
		return;
	}
	if (access != OAT_DROP || classId != RelationRelationId || subId != 0)
		return;
	relkind = get_rel_relkind(objectId);
	if (relkind == RELKIND_INDEX)
	{
		Oid			heapoid = IndexGetRelation(objectId, true);

		if (OidIsValid(heapoid) && relid_is_vlake(heapoid))
			vltab_index_dropped(objectId);
		return;
	}
	if (relkind == RELKIND_RELATION && relid_is_vlake(objectId))
		vltab_catalog_forget(objectId, false);
}

/* -------------------------------------------- projection of lake scans -- */

/*
 * The columns a scan node reads (NULL with *whole: every column): the
 * columns the query uses of the table (the range table entry's
 * selectedCols; the planner often gives a scan its full physical target
 * list, so the target list says nothing), plus those of the node's quals
 * (row-level security policies are not in selectedCols).
 */
static Bitmapset *
scan_attrs(PlanState *ps, EState *estate, bool *whole)
{
	Bitmapset  *attrs = NULL;
	Index		scanrelid = ((Scan *) ps->plan)->scanrelid;
	RangeTblEntry *rte = exec_rt_fetch(scanrelid, estate);
	Bitmapset  *cols = bms_copy(rte->selectedCols);
	int			x = -1;

	*whole = false;
	pull_varattnos((Node *) ps->plan->qual, scanrelid, &cols);
	if (IsA(ps, BitmapHeapScanState))
		pull_varattnos((Node *) ((BitmapHeapScan *) ps->plan)->bitmapqualorig, scanrelid, &cols);
	while ((x = bms_next_member(cols, x)) >= 0)
	{
		AttrNumber	att = x + FirstLowInvalidHeapAttributeNumber;

		if (att == 0)
			*whole = true;		/* whole-row reference */
		else if (att > 0)
			attrs = bms_add_member(attrs, att);
	}
	return attrs;
}

static bool
start_projected_scans(PlanState *ps, void *context)
{
	EState	   *estate = (EState *) context;
	bool		whole;

	if (ps == NULL)
		return false;
	if (IsA(ps, BitmapHeapScanState))
	{
		BitmapHeapScanState *bs = (BitmapHeapScanState *) ps;

		if (bs->ss.ss_currentRelation && vltab_is_vlake(bs->ss.ss_currentRelation))
		{
			Bitmapset  *attrs = scan_attrs(ps, estate, &whole);

			/* no read-ahead: it would ask md.c for lake "blocks" */
			bs->prefetch_maximum = 0;
			if (!whole && bs->ss.ss_currentScanDesc)
				vltab_scan_set_projection(bs->ss.ss_currentScanDesc, attrs);
		}
	}
	/* index scans fetch lake rows by TID: the fetches read only the
	 * columns the node uses (their descriptors start later: a note) */
	if ((IsA(ps, IndexScanState) || IsA(ps, IndexOnlyScanState)) &&
		((ScanState *) ps)->ss_currentRelation &&
		vltab_is_vlake(((ScanState *) ps)->ss_currentRelation))
	{
		Relation	rel = ((ScanState *) ps)->ss_currentRelation;
		Index		scanrelid = ((Scan *) ps->plan)->scanrelid;
		Bitmapset  *attrs = NULL;
		Bitmapset  *extra = NULL;
		int			x = -1;

		if (IsA(ps, IndexScanState))
		{
			IndexScan  *is = (IndexScan *) ps->plan;

			attrs = scan_attrs(ps, estate, &whole);
			/* lossy quals and ORDER BY are rechecked on the fetched row */
			pull_varattnos((Node *) is->indexqualorig, scanrelid, &extra);
			pull_varattnos((Node *) is->indexorderbyorig, scanrelid, &extra);
			while ((x = bms_next_member(extra, x)) >= 0)
				if (x + FirstLowInvalidHeapAttributeNumber > 0)
					attrs = bms_add_member(attrs, x + FirstLowInvalidHeapAttributeNumber);
		}
		else
			whole = false;		/* index-only: the fetch checks visibility */
		vltab_projection_note(estate, RelationGetRelid(rel), whole ? NULL : attrs, !whole, NIL);
	}
	if (IsA(ps, SeqScanState) && ps->plan->parallel_aware)
	{
		Relation	rel = ((SeqScanState *) ps)->ss.ss_currentRelation;

		/* its scan starts later (shared memory set-up): leave a note */
		if (rel && vltab_is_vlake(rel))
		{
			Bitmapset  *attrs = scan_attrs(ps, estate, &whole);

			vltab_projection_note(estate, RelationGetRelid(rel), whole ? NULL : attrs, !whole,
								  vltab_prune_bounds(ps->plan->qual, ((Scan *) ps->plan)->scanrelid));
		}
	}
	if (IsA(ps, SeqScanState) && !ps->plan->parallel_aware)
	{
		SeqScanState *ss = (SeqScanState *) ps;
		Relation	rel = ss->ss.ss_currentRelation;

		if (rel && vltab_is_vlake(rel) && ss->ss.ss_currentScanDesc == NULL)
		{
			Bitmapset  *attrs = scan_attrs(ps, estate, &whole);

			if (!whole)
				ss->ss.ss_currentScanDesc =
					vltab_scan_begin_projected(rel, estate->es_snapshot, attrs,
											   vltab_prune_bounds(ps->plan->qual,
																  ((Scan *) ps->plan)->scanrelid));
		}
	}
	return planstate_tree_walker(ps, start_projected_scans, context);
}

/*
 * A statement that writes or locks rows of a vlake table under
 * vlake.as_of_*: refused before it starts (its scans would read the past
 * version, its writes the present).
 */
static void
refuse_travel_writes(PlannedStmt *ps)
{
	ListCell   *lc;
	const char *action;

	if (ps->commandType == CMD_SELECT && ps->rowMarks == NIL)
		return;
	if (!vltab_travel_active())
		return;
	switch (ps->commandType)
	{
		case CMD_INSERT:
			action = "insert into";
			break;
		case CMD_UPDATE:
			action = "update";
			break;
		case CMD_DELETE:
			action = "delete from";
			break;
		case CMD_SELECT:
			action = "lock rows of";
			break;
		default:
			action = "write to";
			break;
	}
	foreach(lc, ps->resultRelations)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), ps->rtable);
		Relation	rel = RelationIdGetRelation(rte->relid);

		if (RelationIsValid(rel))
		{
			bool		vlake = vltab_is_vlake(rel);

			RelationClose(rel);
			if (vlake)
			{
				rel = relation_open(rte->relid, NoLock);
				vltab_travel_refuse_write(rel, action);
				relation_close(rel, NoLock);
			}
		}
	}
	foreach(lc, ps->rowMarks)
	{
		PlanRowMark *rm = lfirst(lc);
		RangeTblEntry *rte = rt_fetch(rm->rti, ps->rtable);

		if (rte->rtekind == RTE_RELATION && rm->markType != ROW_MARK_REFERENCE &&
			rm->markType != ROW_MARK_COPY && relid_is_vlake(rte->relid))
		{
			Relation	rel = relation_open(rte->relid, NoLock);

			vltab_travel_refuse_write(rel, "lock rows of");
			relation_close(rel, NoLock);
		}
	}
}

static void
vltab_executor_start(QueryDesc *qd, int eflags)
{
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY))
		refuse_travel_writes(qd->plannedstmt);
	vltab_executor_depth++;
	if (prev_executor_start)
		prev_executor_start(qd, eflags);
	else
		standard_ExecutorStart(qd, eflags);
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && qd->planstate)
		start_projected_scans(qd->planstate, qd->estate);
}

static void
vltab_executor_end(QueryDesc *qd)
{
	vltab_projection_forget(qd->estate);
	if (vltab_executor_depth > 0)
		vltab_executor_depth--;
	if (prev_executor_end)
		prev_executor_end(qd);
	else
		standard_ExecutorEnd(qd);
}

static void
vltab_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		vltab_bulk_reset();
		vltab_projection_forget(NULL);
		vltab_cluster_reset();
	}
}

void
vlake_tableam_init(void)
{
	DefineCustomIntVariable("vlake.segment_rows",
							"Most rows a lake segment of a vlake table holds.",
							NULL, &vltab_max_segment_rows, 1000000, 100, 100000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.segment_page_bytes",
							"Target page size of the scalar and long-text files of new lake segments.",
							"Smaller pages skip finer and make fetches by row cheaper, at some compression; tests use small pages to get many per segment.",
							&vltab_page_bytes, VLTAB_PAGE_BYTES, 1024, 64 * 1024 * 1024,
							PGC_USERSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.copy_lake_threshold",
							"Rows of one COPY into a vlake table that go to the delta before the rest is written as lake segments.",
							"0 writes every COPY row to lake segments.",
							&vltab_copy_threshold, 10000, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("vlake.compact_min_savings",
							 "Least share of a lake file's bytes a compaction must save to rewrite it.",
							 "The share of its rows newly erased (deleted) and of its columns a later file supersedes; merged segments are rewritten whole.",
							 &vltab_compact_min_savings, 0.2, 0.0, 1.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.compact_small_segment_rows",
							"Lake segments with fewer rows are merged with their neighbours in row-ID space by compaction.",
							NULL, &vltab_compact_small_rows, 100000, 0, 100000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	vltab_compact_shmem_init();
	prev_utility = ProcessUtility_hook;
	ProcessUtility_hook = vltab_utility;
	prev_object_access = object_access_hook;
	object_access_hook = vltab_object_access;
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = vltab_executor_start;
	prev_executor_end = ExecutorEnd_hook;
	ExecutorEnd_hook = vltab_executor_end;
	RegisterXactCallback(vltab_xact_callback, NULL);
	vltab_travel_init();
	vltab_publish_init();
	vltab_explain_init();
}
