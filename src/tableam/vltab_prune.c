/*
 * vltab_prune.c — skipping lake segments whose statistics exclude a scan's
 * quals, and the page-skipping ranges of the segments that remain.
 *
 * From a sequential scan's quals the executor hook (tableam_init.c) keeps
 * the conjuncts "column op constant" (and "constant op column") whose
 * operator is a btree comparison of the column's type (or a cross-type one
 * inside the integer or the float family), for the types whose
 * file statistics are numbers in the manifest's text forms (integers,
 * floats, dates as days, timestamps as microseconds since 1970-01-01,
 * booleans).  A segment is skipped when, for one such conjunct, no value
 * inside its [min, max] satisfies it, or when the column holds only NULLs
 * (btree comparisons are strict).  Skipping is an optimisation only: a
 * missing or unparsable statistic never skips.  The same bounds, as ranges
 * (vltab_prune_ranges), let the segment reader skip pages by their
 * ColumnIndex.  The quals are still evaluated on every row returned.
 */
#include "postgres.h"

#include <math.h>

#include "access/stratnum.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "nodes/nodeFuncs.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "tableam/vltab.h"

#define EPOCH_DAYS ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE))
#define EPOCH_USECS (EPOCH_DAYS * USECS_PER_DAY)

/* The constant as the statistics' number; false if the type is not one. */
static bool
const_number(Oid type, Datum d, bool *is_float, int64 *i, double *f)
{
	*is_float = false;
	switch (type)
	{
		case BOOLOID:
			*i = DatumGetBool(d) ? 1 : 0;
			return true;
		case INT2OID:
			*i = DatumGetInt16(d);
			return true;
		case INT4OID:
			*i = DatumGetInt32(d);
			return true;
		case INT8OID:
			*i = DatumGetInt64(d);
			return true;
		case FLOAT4OID:
			*is_float = true;
			*f = DatumGetFloat4(d);
			return !isnan(*f);
		case FLOAT8OID:
			*is_float = true;
			*f = DatumGetFloat8(d);
			return !isnan(*f);
		case DATEOID:
			if (DATE_NOT_FINITE(DatumGetDateADT(d)))
				return false;
			*i = (int64) DatumGetDateADT(d) + EPOCH_DAYS;
			return true;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:

			/*
			 * The last days of the range overflow µs since 1970: no bound
			 * then (saturating would meet the writer's stand-in for
			 * 'infinity', PG_INT64_MAX, and skip segments holding it).
			 */
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)))
				return false;
			return !pg_add_s64_overflow(DatumGetTimestamp(d), EPOCH_USECS, i);
		default:
			return false;
	}
}

static bool
is_int_type(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID;
}

/*
 * May the constant's type differ from the column's?  Only inside the
 * integer and the float families, whose cross-type comparisons compare the
 * exact values (as int64, as double): int2col < 100000::int8 bounds like
 * int2col < 100000.  Anything else (int4col < 2.5::numeric, date against
 * timestamp, timestamp against timestamptz) makes no bound.
 */
static bool
types_comparable(Oid coltype, Oid consttype)
{
	if (coltype == consttype)
		return true;
	if (is_int_type(coltype) && is_int_type(consttype))
		return true;
	return (coltype == FLOAT4OID || coltype == FLOAT8OID) &&
		(consttype == FLOAT4OID || consttype == FLOAT8OID);
}

static int
commute_strategy(int s)
{
	switch (s)
	{
		case BTLessStrategyNumber:
			return BTGreaterStrategyNumber;
		case BTLessEqualStrategyNumber:
			return BTGreaterEqualStrategyNumber;
		case BTGreaterStrategyNumber:
			return BTLessStrategyNumber;
		case BTGreaterEqualStrategyNumber:
			return BTLessEqualStrategyNumber;
		default:
			return s;
	}
}

List *
vltab_prune_bounds(List *quals, Index scanrelid)
{
	List	   *bounds = NIL;
	ListCell   *lc;

	foreach(lc, quals)
	{
		OpExpr	   *op = lfirst(lc);
		Node	   *l,
				   *r;
		Var		   *var;
		Const	   *cst;
		bool		var_left;
		TypeCacheEntry *tc;
		int			strategy;
		VltabBound *b;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			continue;
		l = strip_implicit_coercions(linitial(op->args));
		r = strip_implicit_coercions(lsecond(op->args));
		var_left = IsA(l, Var) && IsA(r, Const);
		if (!var_left && !(IsA(r, Var) && IsA(l, Const)))
			continue;
		var = (Var *) (var_left ? l : r);
		cst = (Const *) (var_left ? r : l);
		if (var->varno != scanrelid || var->varattno <= 0 || cst->constisnull ||
			!types_comparable(var->vartype, cst->consttype))
			continue;
		tc = lookup_type_cache(var->vartype, TYPECACHE_BTREE_OPFAMILY);
		if (!OidIsValid(tc->btree_opf))
			continue;
		strategy = get_op_opfamily_strategy(op->opno, tc->btree_opf);
		if (strategy == 0)
			continue;
		if (!var_left)
			strategy = commute_strategy(strategy);
		b = palloc0(sizeof(VltabBound));
		if (!const_number(cst->consttype, cst->constvalue, &b->is_float, &b->i, &b->f))
		{
			pfree(b);
			continue;
		}
		b->attnum = var->varattno;
		b->coltype = var->vartype;
		b->strategy = strategy;
		bounds = lappend(bounds, b);
	}
	return bounds;
}

static const VltabColumnStats *
find_stats(const VltabSegment *seg, AttrNumber attnum)
{
	/* the file whose copy of the column is read (a later group's wins) */
	int			f = vltab_segment_file_of(seg->files, seg->nfiles, attnum);

	if (f < 0)
		return NULL;
	for (int s = 0; s < seg->files[f].nstats; s++)
		if (seg->files[f].stats[s].attnum == attnum)
			return &seg->files[f].stats[s];
	return NULL;
}

/*
 * A statistic's text as a number.  A real column's text ("%.9g") names a
 * float exactly only when read back as a float: read as a double it lands
 * off the float (0.1 is not 0.1f) and could exclude the column's own max.
 */
static bool
parse_number(const char *s, Oid coltype, int64 *i, double *f)
{
	bool		is_float = (coltype == FLOAT4OID || coltype == FLOAT8OID);
	char	   *end;

	if (s == NULL)
		return false;
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
	{
		*i = (s[0] == 't');
		*f = (double) *i;
		return !is_float;
	}
	errno = 0;
	if (coltype == FLOAT4OID)
		*f = (double) strtof(s, &end);
	else if (is_float)
		*f = strtod(s, &end);
	else
		*i = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0';
}

/* -1, 0, 1: statistic x against the bound's constant. */
static int
cmp_bound(const VltabBound *b, int64 xi, double xf)
{
	if (b->is_float)
		return (xf > b->f) - (xf < b->f);
	return (xi > b->i) - (xi < b->i);
}

bool
vltab_prune_segment(const VltabSegment *seg, List *bounds)
{
	ListCell   *lc;

	foreach(lc, bounds)
	{
		VltabBound *b = lfirst(lc);
		const VltabColumnStats *st = find_stats(seg, b->attnum);
		int64		mini,
					maxi;
		double		minf,
					maxf;
		int			cmin,
					cmax;

		if (st == NULL)
			continue;
		if (st->null_count >= seg->row_count)
			return true;		/* only NULLs: no strict comparison holds */
		if (!parse_number(st->min, b->coltype, &mini, &minf) ||
			!parse_number(st->max, b->coltype, &maxi, &maxf))
			continue;
		cmin = cmp_bound(b, mini, minf);
		cmax = cmp_bound(b, maxi, maxf);
		switch (b->strategy)
		{
			case BTEqualStrategyNumber:
				if (cmin > 0 || cmax < 0)
					return true;
				break;
			case BTLessStrategyNumber:
				if (cmin >= 0)
					return true;
				break;
			case BTLessEqualStrategyNumber:
				if (cmin > 0)
					return true;
				break;
			case BTGreaterStrategyNumber:
				if (cmax <= 0)
					return true;
				break;
			case BTGreaterEqualStrategyNumber:
				if (cmax < 0)
					return true;
				break;
		}
	}
	return false;
}

/*
 * The bounds as page-skipping ranges for seg's scan.  Integers' strict
 * bounds tighten by one; floats' stay closed.  A float lower bound also
 * holds for NaN, which no page statistic admits to: it may exclude pages
 * only when the segment's statistics show the column has no NaN (the
 * writer gives a float column with a NaN no min/max).
 */
VltabRange *
vltab_prune_ranges(const VltabSegment *seg, List *bounds, int *n)
{
	VltabRange *out = palloc0(sizeof(VltabRange) * Max(list_length(bounds), 1));
	ListCell   *lc;

	*n = 0;
	foreach(lc, bounds)
	{
		VltabBound *b = lfirst(lc);
		VltabRange *r = &out[*n];
		const VltabColumnStats *st = find_stats(seg, b->attnum);
		bool		lower = (b->strategy == BTGreaterStrategyNumber ||
							 b->strategy == BTGreaterEqualStrategyNumber);
		bool		upper = (b->strategy == BTLessStrategyNumber ||
							 b->strategy == BTLessEqualStrategyNumber);
		bool		eq = (b->strategy == BTEqualStrategyNumber);

		if (!lower && !upper && !eq)
			continue;
		r->attnum = b->attnum;
		r->is_float = b->is_float;
		r->nan_matches = b->is_float && lower && (st == NULL || st->min == NULL);
		r->has_lo = lower || eq;
		r->has_hi = upper || eq;
		r->lo_i = r->hi_i = b->i;
		r->lo_f = r->hi_f = b->f;
		if (!b->is_float && b->strategy == BTGreaterStrategyNumber)
		{
			if (b->i == PG_INT64_MAX)
				continue;		/* nothing is greater: leave it to the quals */
			r->lo_i = b->i + 1;
		}
		if (!b->is_float && b->strategy == BTLessStrategyNumber)
		{
			if (b->i == PG_INT64_MIN)
				continue;
			r->hi_i = b->i - 1;
		}
		(*n)++;
	}
	return out;
}
