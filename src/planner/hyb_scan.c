/*
 * hyb_scan.c — hybrid retrieval in one custom scan (docs/hybrid.md).
 *
 *   SELECT id FROM docs WHERE lang = 'en'
 *   ORDER BY vlake.rrf(embedding <=> $1, body <@> to_bm25query($2, 'idx'))
 *   LIMIT 10;
 *
 * Planning (set_rel_pathlist_hook): when a single-table SELECT with a LIMIT
 * is ordered by nothing but vlake.rrf(...) or vlake.fuse(...) ascending, the
 * relation gets one CustomPath "VlakeHybrid" whose children are, per branch
 * expression, an index scan ordered by that expression (amcanorderbyop) or
 * else a Sort over the relation's cheapest scan.  Every child is a scan of
 * the same relation, so create_plan gives each the relation's
 * baserestrictinfo (the WHERE clauses and RLS quals): filters hold in every
 * branch.  The custom path replaces the relation's other paths: the fusion
 * functions cannot be evaluated outside this scan (they ERROR), so no other
 * plan of the query could run.
 *
 * Execution: pull each branch in batches (the fusion core chooses which),
 * keep every pulled row by ctid, stop when the core says the fused top-k is
 * final, return it in fused order with the fused value (minus the fused
 * score: ascending order = best first) in place of the fusion call.  k is
 * LIMIT + OFFSET evaluated at executor start (the Limit node does not pass
 * its bound to a custom scan: ExecSetTupleBound ignores them); if the
 * consumer asks for more rows than k, the scan starts over with 2k and skips
 * what it returned (still exact).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "catalog/namespace.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/rel.h"

#include "lake/lake_rowref.h"
#include "planner/hyb_fusion.h"
#include "planner/hyb_scan.h"

#define HYB_SCAN_NAME "VlakeHybrid"

/* Argument layout of vlake.rrf / vlake.fuse (src/planner/planner.sql):
 * b1 .. b8, weights, k (rrf) or bounds (fuse), rerank, rerank_window. */
#define HYB_ARG_WEIGHTS HYB_MAX_BRANCHES
#define HYB_ARG_OPTION (HYB_MAX_BRANCHES + 1)
#define HYB_ARG_RERANK (HYB_MAX_BRANCHES + 2)
#define HYB_ARG_WINDOW (HYB_MAX_BRANCHES + 3)
#define HYB_NARGS (HYB_MAX_BRANCHES + 4)

/* custom_exprs layout: B branch expressions, weights, option, limit, offset,
 * rerank, rerank window */
#define CE_WEIGHTS(nb) (nb)
#define CE_OPTION(nb) ((nb) + 1)
#define CE_LIMIT(nb) ((nb) + 2)
#define CE_OFFSET(nb) ((nb) + 3)
#define CE_RERANK(nb) ((nb) + 4)
#define CE_WINDOW(nb) ((nb) + 5)

/* custom_private: method, nbranches, exact_scores, ncols (child columns),
 * ctid column (1-based in the child tlist), rerank present, then per branch
 * its default bound as a Float (NaN: none), its operator name, and whether
 * its child returns ties in ctid order (a Sort on (value, ctid)). */
enum
{
	CP_METHOD, CP_NBRANCHES, CP_EXACT, CP_NCOLS, CP_CTIDCOL, CP_RERANK,
	CP_FIXED
};

static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;

static Plan *hyb_plan_path(PlannerInfo *root, RelOptInfo *rel,
						   CustomPath *best_path, List *tlist,
						   List *clauses, List *custom_plans);
static Node *hyb_create_state(CustomScan *cscan);
static void hyb_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *hyb_exec(CustomScanState *node);
static void hyb_end(CustomScanState *node);
static void hyb_rescan(CustomScanState *node);
static void hyb_explain(CustomScanState *node, List *ancestors, ExplainState *es);

static const CustomPathMethods hyb_path_methods = {
	.CustomName = HYB_SCAN_NAME,
	.PlanCustomPath = hyb_plan_path,
};

static const CustomScanMethods hyb_scan_methods = {
	.CustomName = HYB_SCAN_NAME,
	.CreateCustomScanState = hyb_create_state,
};

static const CustomExecMethods hyb_exec_methods = {
	.CustomName = HYB_SCAN_NAME,
	.BeginCustomScan = hyb_begin,
	.ExecCustomScan = hyb_exec,
	.EndCustomScan = hyb_end,
	.ReScanCustomScan = hyb_rescan,
	.ExplainCustomScan = hyb_explain,
};

/* ------------------------------------------------------------------------
 * The SQL functions: only meaningful as the ORDER BY of the scan.
 * ------------------------------------------------------------------------ */

static void
hyb_outside_scan(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("vlake.%s() can only be used as the ORDER BY of a hybrid query", name),
			 errdetail("The fused value is computed by the hybrid scan; it does not exist outside it."),
			 errhint("Write SELECT ... FROM one_table [WHERE ...] ORDER BY vlake.%s(...) LIMIT n, "
					 "ascending, with nothing else in the ORDER BY, and no GROUP BY, aggregate, DISTINCT, window function or FOR UPDATE.",
					 name)));
}

PG_FUNCTION_INFO_V1(vlake_rrf);
Datum
vlake_rrf(PG_FUNCTION_ARGS)
{
	hyb_outside_scan("rrf");
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(vlake_fuse);
Datum
vlake_fuse(PG_FUNCTION_ARGS)
{
	hyb_outside_scan("fuse");
	PG_RETURN_NULL();
}

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------ */

/* HYB_RRF or HYB_WSUM when fn is vlake.rrf / vlake.fuse; -1 otherwise. */
static int
hyb_fusion_method(Oid fn)
{
	Oid			nsp = get_func_namespace(fn);
	char	   *name;
	int			m = -1;

	if (!OidIsValid(nsp) || strcmp(get_namespace_name(nsp), "vlake") != 0)
		return -1;
	name = get_func_name(fn);
	if (name && strcmp(name, "rrf") == 0)
		m = HYB_RRF;
	else if (name && strcmp(name, "fuse") == 0)
		m = HYB_WSUM;
	return m;
}

/* The default weighted-sum bound of a branch's operator: the worst score it
 * can return (docs/hybrid.md); NaN when the operator has none (L2). */
static double
hyb_default_bound(Oid opno)
{
	char	   *name = get_opname(opno);

	if (name == NULL)
		return NAN;
	if (strcmp(name, "<=>") == 0)
		return 2.0;				/* cosine distance */
	if (strcmp(name, "<@>") == 0 || strcmp(name, "<#>") == 0)
		return 0.0;				/* minus BM25, negative inner product */
	return NAN;
}

/* An index scan of rel ordered by branch (an OpExpr "indexed expr op
 * constant"), or NULL when no index can order by it. */
static Path *
hyb_index_branch(PlannerInfo *root, RelOptInfo *rel, OpExpr *op, List *pathkeys)
{
	Node	   *left = linitial(op->args);
	Node	   *right = lsecond(op->args);
	ListCell   *lc;

	if (contain_var_clause(right) || contain_volatile_functions(right))
		return NULL;
	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = lfirst(lc);

		if (!index->amcanorderbyop || (index->indpred != NIL && !index->predOK))
			continue;
		for (int col = 0; col < index->nkeycolumns; col++)
		{
			if (!match_index_to_operand(left, col, index))
				continue;
			if (!OidIsValid(get_op_opfamily_sortfamily(op->opno, index->opfamily[col])))
				continue;
			return (Path *) create_index_path(root, index, NIL,
											  list_make1(op), list_make1_int(col),
											  pathkeys, ForwardScanDirection,
											  false, NULL, 1.0, false);
		}
	}
	return NULL;
}

/* Is e (or a subexpression) equal to target? */
static bool
hyb_contains_walker(Node *node, void *target)
{
	if (node == NULL)
		return false;
	if (equal(node, target))
		return true;
	return expression_tree_walker(node, hyb_contains_walker, target);
}

/* LIMIT/OFFSET that can be evaluated in the scan: constants and parameters. */
static bool
hyb_limit_ok(Node *n)
{
	return n == NULL || (!contain_var_clause(n) && !contain_volatile_functions(n) &&
						 !contain_subplans(n) && !checkExprHasSubLink(n) &&
						 !contain_exec_param(n, NULL));
}

static void
hyb_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	Query	   *parse = root->parse;
	PathKey    *pk;
	EquivalenceMember *em;
	FuncExpr   *fusion;
	Node	   *rerank;
	int			method;
	int			nbranches = 0;
	List	   *branches = NIL;
	List	   *children = NIL;
	List	   *private = NIL;
	List	   *exprs = NIL;
	List	   *childvars = NIL;
	List	   *ties_ordered = NIL;
	PathTarget *childtarget;
	CustomPath *cpath;
	ListCell   *lc;
	int			ctidcol = 0;
	bool		exact = false;
	double		k_est;
	Cost		startup = 0,
				total = 0;

	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);

	/* a single-table SELECT ... ORDER BY <one fusion call> LIMIT */
	if (parse->commandType != CMD_SELECT || parse->limitCount == NULL ||
		rel->reloptkind != RELOPT_BASEREL || rte->rtekind != RTE_RELATION ||
		rte->inh ||
		bms_membership(root->all_baserels) != BMS_SINGLETON ||
		parse->groupClause || parse->groupingSets || parse->hasAggs ||
		parse->hasWindowFuncs || parse->distinctClause || parse->setOperations ||
		parse->hasTargetSRFs || parse->rowMarks || parse->havingQual ||
		list_length(root->query_pathkeys) != 1 ||
		!hyb_limit_ok(parse->limitCount) || !hyb_limit_ok(parse->limitOffset))
		return;
	pk = linitial(root->query_pathkeys);
	if (pk->pk_strategy != BTLessStrategyNumber || pk->pk_nulls_first ||
		list_length(pk->pk_eclass->ec_members) != 1)
		return;
	em = linitial(pk->pk_eclass->ec_members);
	if (!IsA(em->em_expr, FuncExpr))
		return;
	fusion = (FuncExpr *) em->em_expr;
	if (list_length(fusion->args) != HYB_NARGS ||
		(method = hyb_fusion_method(fusion->funcid)) < 0)
		return;

	/* the branches: every non-NULL b_i, each "expr op constant" of float8 */
	for (int i = 0; i < HYB_MAX_BRANCHES; i++)
	{
		Node	   *arg = list_nth(fusion->args, i);

		if (IsA(arg, Const) && ((Const *) arg)->constisnull)
			continue;
		if (!IsA(arg, OpExpr) || list_length(((OpExpr *) arg)->args) != 2 ||
			exprType(arg) != FLOAT8OID ||
			!bms_equal(pull_varnos(root, arg), rel->relids) ||
			contain_var_clause(lsecond(((OpExpr *) arg)->args)) ||
			contain_volatile_functions(arg))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("argument %d of vlake.%s() is not a branch", i + 1,
							method == HYB_RRF ? "rrf" : "fuse"),
					 errdetail("A branch is an ordering expression \"column operator constant\" of type double precision "
							   "over the queried table, whose ascending order is the branch's ranking "
							   "(embedding <=> $1, body <@> to_bm25query(...), sparse <#> $2).")));
		branches = lappend(branches, arg);
	}
	nbranches = list_length(branches);
	rerank = list_nth(fusion->args, HYB_ARG_RERANK);
	if (IsA(rerank, Const) && ((Const *) rerank)->constisnull)
		rerank = NULL;
	else if (!bms_is_subset(pull_varnos(root, rerank), rel->relids) ||
			 contain_volatile_functions(rerank) || contain_subplans(rerank) ||
			 checkExprHasSubLink(rerank))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the rerank expression of vlake.%s() must be computed from the row",
						method == HYB_RRF ? "rrf" : "fuse"),
				 errdetail("It may use the table's columns, constants, parameters and stable functions; "
						   "not volatile functions or sub-selects.")));
	if (nbranches == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vlake.%s() needs at least one branch", method == HYB_RRF ? "rrf" : "fuse")));
	for (int i = HYB_ARG_WEIGHTS; i < HYB_NARGS; i++)
		if (i != HYB_ARG_RERANK && !hyb_limit_ok(list_nth(fusion->args, i)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the options of vlake.%s() must be constants or parameters",
							method == HYB_RRF ? "rrf" : "fuse")));

	/* the columns every child returns: the relation's target, plus ctid */
	foreach(lc, rel->reltarget->exprs)
	{
		Node	   *e = lfirst(lc);

		if (!IsA(e, Var))
			return;				/* a PlaceHolderVar: not a plain scan */
		childvars = lappend(childvars, e);
		if (((Var *) e)->varattno == SelfItemPointerAttributeNumber)
			ctidcol = list_length(childvars);
	}
	if (ctidcol == 0)
	{
		childvars = lappend(childvars, makeVar(rel->relid, SelfItemPointerAttributeNumber,
											   TIDOID, -1, InvalidOid, 0));
		ctidcol = list_length(childvars);
	}
	childtarget = create_empty_pathtarget();
	foreach(lc, childvars)
		add_column_to_pathtarget(childtarget, lfirst(lc), 0);
	set_pathtarget_cost_width(root, childtarget);

	/*
	 * The fused value is output (not only sorted by), or a rerank adds to it:
	 * ask for exact scores.
	 */
	exact = (rerank != NULL);
	foreach(lc, root->processed_tlist)
	{
		TargetEntry *te = lfirst(lc);

		if (!te->resjunk && hyb_contains_walker((Node *) te->expr, fusion))
			exact = true;
	}

	k_est = root->limit_tuples > 0 ? root->limit_tuples : 10;

	/* one child per branch: an ordered index scan, else a Sort */
	foreach(lc, branches)
	{
		OpExpr	   *op = lfirst(lc);
		List	   *pathkeys = build_expression_pathkey(root, (Expr *) op, NULL,
														Float8LessOperator,
														rel->relids, true);
		Path	   *child = hyb_index_branch(root, rel, op, pathkeys);
		Path	   *scan = NULL;
		double		frac;

		if (child)
		{
			child->pathtarget = childtarget;
			ties_ordered = lappend_int(ties_ordered, 0);
		}
		else
		{
			ListCell   *lc2;

			/*
			 * A Sort on (value, ctid): ties come in ctid order, so a batch
			 * need not read on through a group of ties (a sparse branch's
			 * rows without a common dimension are one large group).
			 */
			pathkeys = list_concat_copy(pathkeys,
										build_expression_pathkey(root, list_nth(childvars, ctidcol - 1),
																 NULL, TIDLessOperator,
																 rel->relids, true));
			ties_ordered = lappend_int(ties_ordered, 1);
			foreach(lc2, rel->pathlist)
			{
				Path	   *p = lfirst(lc2);

				if (p->param_info == NULL &&
					(scan == NULL || p->total_cost < scan->total_cost))
					scan = p;
			}
			if (scan == NULL)
				return;
			child = (Path *) create_projection_path(root, rel, scan, childtarget);
			child = (Path *) create_sort_path(root, rel, child, pathkeys, -1.0);
		}
		children = lappend(children, child);
		/* a branch is read to a few times k in the typical case */
		frac = child->rows > 0 ? Min(1.0, 4.0 * k_est / child->rows) : 1.0;
		startup += child->startup_cost;
		total += child->startup_cost + frac * (child->total_cost - child->startup_cost);
	}

	private = list_make4(makeInteger(method), makeInteger(nbranches),
						 makeInteger(exact), makeInteger(list_length(childvars)));
	private = lappend(private, makeInteger(ctidcol));
	private = lappend(private, makeInteger(rerank != NULL));
	foreach(lc, branches)
	{
		OpExpr	   *op = lfirst(lc);

		private = lappend(private, makeFloat(psprintf("%.17g", hyb_default_bound(op->opno))));
		private = lappend(private, makeString(get_opname(op->opno)));
		private = lappend(private, makeInteger(list_nth_int(ties_ordered, foreach_current_index(lc))));
	}

	exprs = list_copy(branches);
	exprs = lappend(exprs, list_nth(fusion->args, HYB_ARG_WEIGHTS));
	exprs = lappend(exprs, list_nth(fusion->args, HYB_ARG_OPTION));
	exprs = lappend(exprs, parse->limitCount);
	exprs = lappend(exprs, parse->limitOffset ? parse->limitOffset :
					(Node *) makeNullConst(INT8OID, -1, InvalidOid));
	exprs = lappend(exprs, rerank ? rerank : (Node *) makeNullConst(FLOAT8OID, -1, InvalidOid));
	exprs = lappend(exprs, list_nth(fusion->args, HYB_ARG_WINDOW));

	cpath = makeNode(CustomPath);
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = rel;
	cpath->path.pathtarget = rel->reltarget;
	cpath->path.param_info = NULL;
	cpath->path.parallel_aware = false;
	cpath->path.parallel_safe = false;
	cpath->path.parallel_workers = 0;
	cpath->path.rows = Min(k_est, rel->rows);
	cpath->path.startup_cost = startup;
	cpath->path.total_cost = total;
	cpath->path.pathkeys = root->query_pathkeys;
	cpath->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	cpath->custom_paths = children;
	/* the fusion call travels in custom_private's tail as an expression list */
	cpath->custom_private = list_make3(private, exprs, fusion);
	cpath->methods = &hyb_path_methods;

	/*
	 * The only path: any other plan would evaluate the fusion function, which
	 * raises an ERROR.  Not add_path(): it could free the scan a Sort child
	 * sits on.
	 */
	rel->pathlist = list_make1(cpath);
	rel->partial_pathlist = NIL;
}

static Plan *
hyb_plan_path(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			  List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *private = linitial(best_path->custom_private);
	List	   *exprs = lsecond(best_path->custom_private);
	Node	   *fusion = lthird(best_path->custom_private);
	List	   *scan_tlist = NIL;
	Plan	   *first = linitial(custom_plans);
	int			ncols = intVal(list_nth(private, CP_NCOLS));
	int			resno = 1;
	ListCell   *lc;

	/* the children's first ncols columns, then the fused value */
	foreach(lc, first->targetlist)
	{
		TargetEntry *te = lfirst(lc);

		if (resno > ncols)
			break;
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry(copyObject(te->expr), resno++, NULL, false));
	}
	scan_tlist = lappend(scan_tlist,
						 makeTargetEntry((Expr *) copyObject(fusion), resno, NULL, false));

	cscan->scan.plan.targetlist = tlist;
	/* every child applies the relation's restrictions (and RLS quals) */
	cscan->scan.plan.qual = NIL;
	cscan->scan.scanrelid = rel->relid;
	cscan->flags = best_path->flags;
	cscan->custom_plans = custom_plans;
	cscan->custom_exprs = exprs;
	cscan->custom_private = private;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->methods = &hyb_scan_methods;
	return &cscan->scan.plan;
}

/* ------------------------------------------------------------------------
 * Execution
 * ------------------------------------------------------------------------ */

typedef struct HybCand
{
	uint64		key;			/* hash key: the row's ctid as a row reference */
	char		status;
	MinimalTuple tuple;			/* the child columns (fused value NULL) */
} HybCand;

#define SH_PREFIX hybrows
#define SH_ELEMENT_TYPE HybCand
#define SH_KEY_TYPE uint64
#define SH_KEY key
#define SH_HASH_KEY(tb, key) hash_bytes_uint32((uint32) ((key) ^ ((key) >> 32)))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "common/hashfn.h"
#include "lib/simplehash.h"

typedef struct HybBranchRun
{
	PlanState  *ps;
	ExprState  *score;
	const char *opname;
	bool		match_only;		/* <@>: a row scoring 0 does not match */
	bool		ties_ordered;	/* the child returns ties in ctid order */
	int			batch;			/* size of the next batch */
	bool		ended;
	bool		has_peek;		/* a row read past the last batch */
	uint64		peek_key;
	double		peek_score;
	bool		any;
	double		last;			/* the last score handed to the core */
} HybBranchRun;

typedef struct HybScanState
{
	CustomScanState css;
	int			method;
	int			nbranches;
	bool		exact;
	int			ncols;
	int			ctidcol;
	HybSpec		spec;
	HybBranchRun br[HYB_MAX_BRANCHES];
	ExprState  *limit;
	ExprState  *offset;
	ExprState  *rerank;			/* NULL: none */
	int64		window;			/* rerank: fuse this many, then re-rank */
	MemoryContext runcxt;		/* rows and the core's state, per run */
	HybState   *hyb;
	hybrows_hash *rows;
	HybResult  *top;
	int			ntop;
	int			next;			/* next entry of top to return */
	int64		returned;		/* rows returned since the (re)scan */
	int64		k;				/* the k of the current run */
	bool		done;			/* fused top-k computed */
	/* EXPLAIN ANALYZE */
	int64		runs;
	int64		depth[HYB_MAX_BRANCHES];
	bool		exhausted[HYB_MAX_BRANCHES];
	int64		seen;
	uint64		*keys;			/* batch buffers */
	double	   *scores;
	int			bufsize;
} HybScanState;

static Node *
hyb_create_state(CustomScan *cscan)
{
	HybScanState *st = (HybScanState *) newNode(sizeof(HybScanState), T_CustomScanState);

	st->css.methods = &hyb_exec_methods;
	return (Node *) st;
}

static void *
hyb_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
hyb_free(void *arg, void *ptr)
{
	pfree(ptr);
}

static Datum
hyb_eval_const(ExprState *es, ExprContext *econtext, bool *isnull)
{
	return ExecEvalExprSwitchContext(es, econtext, isnull);
}

static const char *
hyb_fn_name(HybScanState *st)
{
	return st->method == HYB_RRF ? "rrf" : "fuse";
}

static void
hyb_begin(CustomScanState *node, EState *estate, int eflags)
{
	HybScanState *st = (HybScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *private = cscan->custom_private;
	List	   *exprs = cscan->custom_exprs;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	ExprState  *weights,
			   *option;
	Datum		d;
	bool		isnull;
	int			nb;
	ListCell   *lc;
	int			i = 0;

	st->method = intVal(list_nth(private, CP_METHOD));
	nb = st->nbranches = intVal(list_nth(private, CP_NBRANCHES));
	st->exact = intVal(list_nth(private, CP_EXACT));
	st->ncols = intVal(list_nth(private, CP_NCOLS));
	st->ctidcol = intVal(list_nth(private, CP_CTIDCOL));

	foreach(lc, cscan->custom_plans)
		node->custom_ps = lappend(node->custom_ps, ExecInitNode(lfirst(lc), estate, eflags));
	foreach(lc, node->custom_ps)
	{
		st->br[i].ps = lfirst(lc);
		st->br[i].score = ExecInitExpr(list_nth(exprs, i), &node->ss.ps);
		st->br[i].opname = strVal(list_nth(private, CP_FIXED + 3 * i + 1));
		st->br[i].match_only = strcmp(st->br[i].opname, "<@>") == 0;
		st->br[i].ties_ordered = intVal(list_nth(private, CP_FIXED + 3 * i + 2));
		i++;
	}
	st->runcxt = AllocSetContextCreate(estate->es_query_cxt, "vlake hybrid scan",
									   ALLOCSET_DEFAULT_SIZES);
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	/* the spec: weights, rrf k or bounds, evaluated once per execution */
	memset(&st->spec, 0, sizeof(st->spec));
	st->spec.method = st->method;
	st->spec.nbranches = nb;
	st->spec.rrf_k = HYB_RRF_K_DEFAULT;
	st->spec.exact_scores = st->exact;
	st->spec.alloc = hyb_alloc;
	st->spec.free = hyb_free;
	for (i = 0; i < nb; i++)
	{
		st->spec.branch[i].weight = 1.0;
		st->spec.branch[i].ascending = true;
		st->spec.branch[i].bound = floatVal(list_nth(private, CP_FIXED + 3 * i));
	}
	weights = ExecInitExpr(list_nth(exprs, CE_WEIGHTS(nb)), &node->ss.ps);
	option = ExecInitExpr(list_nth(exprs, CE_OPTION(nb)), &node->ss.ps);
	st->limit = ExecInitExpr(list_nth(exprs, CE_LIMIT(nb)), &node->ss.ps);
	st->offset = ExecInitExpr(list_nth(exprs, CE_OFFSET(nb)), &node->ss.ps);
	if (intVal(list_nth(private, CP_RERANK)))
	{
		ExprState  *w = ExecInitExpr(list_nth(exprs, CE_WINDOW(nb)), &node->ss.ps);

		st->rerank = ExecInitExpr(list_nth(exprs, CE_RERANK(nb)), &node->ss.ps);
		d = hyb_eval_const(w, econtext, &isnull);
		st->window = isnull ? 100 : DatumGetInt32(d);
		if (st->window < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rerank_window of vlake.%s() is " INT64_FORMAT, hyb_fn_name(st), st->window),
					 errdetail("The window is the number of fused rows the rerank expression re-orders: at least 1.")));
	}

	d = hyb_eval_const(weights, econtext, &isnull);
	if (!isnull)
	{
		ArrayType  *a = DatumGetArrayTypeP(d);
		Datum	   *el;
		bool	   *nulls;
		int			n;

		deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &el, &nulls, &n);
		if (n != nb || ARR_NDIM(a) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("vlake.%s() has %d branches but %d weights", hyb_fn_name(st), nb, n),
					 errhint("Give one weight per branch, in branch order.")));
		for (i = 0; i < n; i++)
		{
			double		w = nulls[i] ? 1.0 : DatumGetFloat8(el[i]);

			if (!(w >= 0) || isinf(w))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("weight %d of vlake.%s() is %g", i + 1, hyb_fn_name(st), w),
						 errdetail("Weights are finite and not negative.")));
			st->spec.branch[i].weight = w;
		}
	}
	d = hyb_eval_const(option, econtext, &isnull);
	if (st->method == HYB_RRF && !isnull)
	{
		double		rk = DatumGetFloat8(d);

		if (!(rk >= 0) || isinf(rk))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("k of vlake.rrf() is %g", rk),
					 errdetail("k is the RRF constant in 1 / (k + rank): finite and not negative.")));
		st->spec.rrf_k = rk;
	}
	else if (st->method == HYB_WSUM && !isnull)
	{
		ArrayType  *a = DatumGetArrayTypeP(d);
		Datum	   *el;
		bool	   *nulls;
		int			n;

		deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &el, &nulls, &n);
		if (n != nb || ARR_NDIM(a) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("vlake.fuse() has %d branches but %d bounds", nb, n),
					 errhint("Give one bound per branch, in branch order; NULL keeps the operator's default.")));
		for (i = 0; i < n; i++)
			if (!nulls[i])
				st->spec.branch[i].bound = DatumGetFloat8(el[i]);
	}
	if (st->method == HYB_WSUM)
		for (i = 0; i < nb; i++)
			if (!isfinite(st->spec.branch[i].bound))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("branch %d of vlake.fuse() (operator %s) has no bound", i + 1,
								st->br[i].opname),
						 errdetail("The weighted sum normalises each branch between its best score and its bound, "
								   "the worst score that still counts (cosine <=>: 2, <@> and <#>: 0; <->: none)."),
						 errhint("Pass bounds => ARRAY[...], one finite value per branch (NULL: the default).")));
}

/* k for a fresh run: LIMIT + OFFSET, or twice the last run's k. */
static int64
hyb_first_k(HybScanState *st)
{
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;
	bool		isnull;
	Datum		d = hyb_eval_const(st->limit, econtext, &isnull);
	int64		k = isnull ? 100 : DatumGetInt64(d);
	int64		off;

	d = hyb_eval_const(st->offset, econtext, &isnull);
	off = isnull ? 0 : DatumGetInt64(d);
	if (k < 1)
		k = 1;
	if (off > 0)
		k = (k > PG_INT32_MAX - off) ? PG_INT32_MAX : k + off;
	return Min(k, PG_INT32_MAX);
}

static void
hyb_start_run(HybScanState *st, int64 k)
{
	HybStatus	s;

	MemoryContextReset(st->runcxt);
	st->hyb = NULL;
	st->k = k;
	st->spec.k = (int) (st->rerank ? Max(k, st->window) : k);
	st->spec.alloc_arg = st->runcxt;
	s = hyb_create(&st->spec, &st->hyb);
	if (s != HYB_OK)
		elog(ERROR, "hybrid scan: cannot create the fusion state: %s", hyb_status_message(s));
	st->rows = hybrows_create(st->runcxt, 1024, NULL);
	st->top = NULL;
	st->ntop = 0;
	st->next = 0;
	st->done = false;
	st->bufsize = 0;
	for (int b = 0; b < st->nbranches; b++)
	{
		HybBranchRun *br = &st->br[b];

		br->batch = 8;
		br->ended = false;
		br->has_peek = false;
		br->any = false;
	}
	st->runs++;
}

/* Fetch the next ranked row of branch b into the scan slot; false at the
 * end.  Rows whose score is NULL are not in the branch's ranking. */
static bool
hyb_fetch(HybScanState *st, int b, uint64 *key, double *score)
{
	HybBranchRun *br = &st->br[b];
	TupleTableSlot *scan = st->css.ss.ss_ScanTupleSlot;
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;

	for (;;)
	{
		TupleTableSlot *slot;
		Datum		d;
		bool		isnull;
		ItemPointer tid;
		HybCand	   *row;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		slot = ExecProcNode(br->ps);
		if (TupIsNull(slot))
			return false;
		slot_getsomeattrs(slot, st->ncols);
		ExecClearTuple(scan);
		memcpy(scan->tts_values, slot->tts_values, sizeof(Datum) * st->ncols);
		memcpy(scan->tts_isnull, slot->tts_isnull, sizeof(bool) * st->ncols);
		scan->tts_isnull[st->ncols] = true;
		scan->tts_values[st->ncols] = (Datum) 0;
		ExecStoreVirtualTuple(scan);
		if (scan->tts_isnull[st->ctidcol - 1])
			elog(ERROR, "hybrid scan: branch %d returned a row without ctid", b + 1);
		tid = (ItemPointer) DatumGetPointer(scan->tts_values[st->ctidcol - 1]);
		econtext->ecxt_scantuple = scan;
		ResetExprContext(econtext);
		d = ExecEvalExprSwitchContext(br->score, econtext, &isnull);
		if (isnull)
			continue;
		*score = DatumGetFloat8(d);
		/*
		 * BM25: minus a score of 0 is a document without the query's terms.
		 * The branch comes in ascending order (an ordered index scan or a
		 * sort), so every row after it scores 0 too: the ranking ends here
		 * (reading on would fetch every remaining row of the table).
		 */
		if (br->match_only && *score >= 0)
			return false;
		if (isnan(*score))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("branch %d of vlake.%s() (operator %s) returned NaN for the row at ctid (%u,%u)",
							b + 1, hyb_fn_name(st), br->opname,
							ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid)),
					 errdetail("A branch's ranking needs comparable scores.")));
		*key = lake_rowref_from_tid(tid);
		row = hybrows_insert(st->rows, *key, &found);
		if (!found)
		{
			MemoryContext old = MemoryContextSwitchTo(st->runcxt);

			row->tuple = ExecCopySlotMinimalTuple(scan);
			MemoryContextSwitchTo(old);
		}
		return true;
	}
}

typedef struct HybPair
{
	uint64		key;
	double		score;
} HybPair;

static int
hyb_pair_cmp(const void *a, const void *b)
{
	const HybPair *x = a,
			   *y = b;

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return (x->key > y->key) - (x->key < y->key);
}

/*
 * One batch of branch b to the core.  The batch runs on past its size
 * through rows tied with its last score, so a group of ties is never split:
 * sorted by (score, key) it gets ranks in key order, as fusing the complete
 * ranking with ties broken by ctid does.  A row that ranks better than the
 * one before it (an approximate index) gets the score before it: its place
 * in the branch is where the branch returned it.
 */
static void
hyb_pull(HybScanState *st, int b)
{
	HybBranchRun *br = &st->br[b];
	HybPair    *pairs;
	int			n = 0,
				cap = br->batch + 16;
	bool		ended = false;
	HybStatus	s;

	pairs = MemoryContextAlloc(st->runcxt, sizeof(HybPair) * cap);
	for (;;)
	{
		uint64		key;
		double		score;

		if (br->has_peek)
		{
			key = br->peek_key;
			score = br->peek_score;
			br->has_peek = false;
		}
		else if (!hyb_fetch(st, b, &key, &score))
		{
			ended = true;
			break;
		}
		if (br->any && score < br->last)
			score = br->last;
		if (n >= br->batch && (br->ties_ordered || score != br->last))
		{
			br->has_peek = true;
			br->peek_key = key;
			br->peek_score = score;
			break;
		}
		if (n == cap)
		{
			cap *= 2;
			pairs = repalloc_huge(pairs, sizeof(HybPair) * cap);
		}
		pairs[n].key = key;
		pairs[n].score = score;
		n++;
		br->any = true;
		br->last = score;
	}
	qsort(pairs, n, sizeof(HybPair), hyb_pair_cmp);
	if (st->bufsize < n)
	{
		st->keys = MemoryContextAlloc(st->runcxt, sizeof(uint64) * Max(n, 1));
		st->scores = MemoryContextAlloc(st->runcxt, sizeof(double) * Max(n, 1));
		st->bufsize = n;
	}
	for (int i = 0; i < n; i++)
	{
		st->keys[i] = pairs[i].key;
		st->scores[i] = pairs[i].score;
	}
	s = hyb_add(st->hyb, b, st->keys, st->scores, n, ended);
	if (s != HYB_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("branch %d of vlake.%s() (operator %s): %s", b + 1, hyb_fn_name(st),
						br->opname, hyb_status_message(s))));
	br->ended = ended;
	if (br->batch < 65536)
		br->batch *= 2;
	pfree(pairs);
}

/* Order by final score, larger first, then key. */
static int
hyb_final_cmp(const void *a, const void *b)
{
	const HybResult *x = a,
			   *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->key > y->key) - (x->key < y->key);
}

/*
 * The window of fused rows re-ordered by fused score + rerank(row); a NULL
 * rerank value adds 0.  The result's score (and so the output value) is the
 * sum.
 */
static void
hyb_apply_rerank(HybScanState *st)
{
	TupleTableSlot *scan = st->css.ss.ss_ScanTupleSlot;
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;

	for (int i = 0; i < st->ntop; i++)
	{
		HybCand    *row = hybrows_lookup(st->rows, st->top[i].key);
		Datum		d;
		bool		isnull;

		if (row == NULL)
			elog(ERROR, "hybrid scan: fused row " UINT64_FORMAT " was not kept", st->top[i].key);
		ExecForceStoreMinimalTuple(row->tuple, scan, false);
		econtext->ecxt_scantuple = scan;
		ResetExprContext(econtext);
		d = ExecEvalExprSwitchContext(st->rerank, econtext, &isnull);
		if (!isnull)
		{
			double		r = DatumGetFloat8(d);

			if (isnan(r))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("the rerank expression of vlake.%s() is NaN", hyb_fn_name(st))));
			st->top[i].score = st->top[i].score + r;
		}
		st->top[i].upper = st->top[i].score;
	}
	qsort(st->top, st->ntop, sizeof(HybResult), hyb_final_cmp);
}

static void
hyb_fuse(HybScanState *st)
{
	while (!hyb_final(st->hyb))
	{
		int			b = hyb_next_branch(st->hyb);

		if (b < 0 || b >= st->nbranches)
			elog(ERROR, "hybrid scan: the fusion core chose branch %d", b);
		hyb_pull(st, b);
	}
	st->top = MemoryContextAlloc(st->runcxt, sizeof(HybResult) * Max(Min((int64) st->spec.k, hyb_rows_seen(st->hyb)), 1));
	st->ntop = hyb_topk(st->hyb, st->top);
	if (st->rerank)
		hyb_apply_rerank(st);
	for (int b = 0; b < st->nbranches; b++)
	{
		st->depth[b] += hyb_depth(st->hyb, b);
		st->exhausted[b] = hyb_exhausted(st->hyb, b);
	}
	st->seen += hyb_rows_seen(st->hyb);
	st->done = true;
}

static void
hyb_rescan_children(HybScanState *st)
{
	ListCell   *lc;

	foreach(lc, st->css.custom_ps)
	{
		PlanState  *child = lfirst(lc);

		/* parameters of an outer query changed: the branches' too */
		if (st->css.ss.ps.chgParam != NULL)
			UpdateChangedParamSet(child, st->css.ss.ps.chgParam);
		ExecReScan(child);
	}
}

static TupleTableSlot *
hyb_exec(CustomScanState *node)
{
	HybScanState *st = (HybScanState *) node;
	TupleTableSlot *scan = node->ss.ss_ScanTupleSlot;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	HybResult  *r;
	HybCand	   *row;

	if (st->hyb == NULL)
	{
		hyb_start_run(st, hyb_first_k(st));
		st->returned = 0;
	}
	if (!st->done)
		hyb_fuse(st);
	if (st->next >= st->ntop)
	{
		/*
		 * Asked for more than k: fuse again with 2k and skip what was
		 * returned.  Fewer than k rows means there are no more.
		 */
		if (st->ntop < st->k || st->k >= PG_INT32_MAX || st->rerank)
			return NULL;
		hyb_rescan_children(st);
		hyb_start_run(st, Min(st->k * 2, PG_INT32_MAX));
		hyb_fuse(st);
		st->next = st->returned;
		if (st->next >= st->ntop)
			return NULL;
	}
	r = &st->top[st->next++];
	row = hybrows_lookup(st->rows, r->key);
	if (row == NULL)
		elog(ERROR, "hybrid scan: fused row " UINT64_FORMAT " was not kept", r->key);
	ExecForceStoreMinimalTuple(row->tuple, scan, false);
	/* the fused value, negated: the ORDER BY is ascending */
	scan->tts_values[st->ncols] = Float8GetDatum(-r->score);
	scan->tts_isnull[st->ncols] = false;
	st->returned++;
	econtext->ecxt_scantuple = scan;
	ResetExprContext(econtext);
	if (node->ss.ps.ps_ProjInfo)
		return ExecProject(node->ss.ps.ps_ProjInfo);
	return scan;
}

static void
hyb_end(CustomScanState *node)
{
	ListCell   *lc;

	foreach(lc, node->custom_ps)
		ExecEndNode(lfirst(lc));
}

static void
hyb_rescan(CustomScanState *node)
{
	HybScanState *st = (HybScanState *) node;

	hyb_rescan_children(st);
	MemoryContextReset(st->runcxt);
	st->hyb = NULL;
	st->done = false;
}

static void
hyb_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	HybScanState *st = (HybScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *private = cscan->custom_private;
	int			nb = intVal(list_nth(private, CP_NBRANCHES));
	StringInfoData buf;

	initStringInfo(&buf);
	for (int b = 0; b < nb; b++)
		appendStringInfo(&buf, "%s%s", b ? ", " : "", strVal(list_nth(private, CP_FIXED + 3 * b + 1)));
	ExplainPropertyText("Fusion", intVal(list_nth(private, CP_METHOD)) == HYB_RRF ?
						"rrf" : "weighted sum", es);
	ExplainPropertyText("Branches", buf.data, es);
	if (intVal(list_nth(private, CP_EXACT)))
		ExplainPropertyBool("Exact Scores", true, es);
	if (intVal(list_nth(private, CP_RERANK)))
	{
		char	   *expr;
		List	   *ctx = set_deparse_context_plan(es->deparse_cxt, node->ss.ps.plan, ancestors);

		expr = deparse_expression(list_nth(cscan->custom_exprs, CE_RERANK(nb)), ctx, false, false);
		ExplainPropertyText("Rerank", expr, es);
		if (es->analyze && st->runs > 0)
			ExplainPropertyInteger("Rerank Window", NULL, st->window, es);
	}
	if (es->analyze && st->runs > 0)
	{
		resetStringInfo(&buf);
		for (int b = 0; b < nb; b++)
			appendStringInfo(&buf, "%s" INT64_FORMAT "%s", b ? ", " : "", st->depth[b],
							 st->exhausted[b] ? " (ended)" : "");
		ExplainPropertyInteger("Fused k", NULL, st->k, es);
		ExplainPropertyText("Branch Depths", buf.data, es);
		ExplainPropertyInteger("Candidates", NULL, st->seen, es);
		ExplainPropertyInteger("Rows Returned", NULL, st->returned, es);
		if (st->runs > 1)
			ExplainPropertyInteger("Fusion Runs", NULL, st->runs, es);
	}
}

void
hyb_scan_init(void)
{
	RegisterCustomScanMethods(&hyb_scan_methods);
	prev_set_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = hyb_set_rel_pathlist;
}
