/*
 * vltab_segment_sql.c — SQL-callable debug functions over vltab_segment.h
 * (tableam_segment.sql): write every row of a table as one segment, and
 * read a segment back as rows of a table's row type (scan or take by row
 * ID), so the regress and TAP suites can check the segment files against
 * the heap table they came from.  Superuser only (REVOKEd from PUBLIC).
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "tableam/vltab_segment.h"

static const char *
kind_name(VltabGroupKind k)
{
	switch (k)
	{
		case VLTAB_GROUP_SCALAR:
			return "scalar";
		case VLTAB_GROUP_VECTOR:
			return "vector_cg";
		case VLTAB_GROUP_LONG_TEXT:
			return "long_text";
	}
	return "?";
}

static Datum
stats_jsonb(const VltabSegmentFile *f)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	for (int i = 0; i < f->nstats; i++)
	{
		const VltabColumnStats *st = &f->stats[i];

		appendStringInfo(&s, "%s{\"field_id\": %d, \"null_count\": " INT64_FORMAT,
						 i ? ", " : "", st->attnum, st->null_count);
		if (st->min)
		{
			appendStringInfoString(&s, ", \"min\": ");
			escape_json(&s, st->min);
			appendStringInfoString(&s, ", \"max\": ");
			escape_json(&s, st->max);
		}
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoChar(&s, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data));
}

/* Write every row of source (heap scan order) and return its files. */
static VltabSegmentFile *
write_table(Relation rel, const char *root, const char *prefix, int64 first_row_id, int *nfiles)
{
	VltabSegmentWriter *w = vltab_segment_begin(root, prefix, RelationGetDescr(rel), first_row_id);
	VltabSegmentFile *files = NULL;

	PG_TRY();
	{
		Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
		/* no synchronized scan: row IDs follow the heap's order from block 0 */
		TableScanDesc scan = table_beginscan_strat(rel, snap, 0, NULL, true, false);
		TupleTableSlot *slot = table_slot_create(rel, NULL);

		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			slot_getallattrs(slot);
			vltab_segment_add(w, slot->tts_values, slot->tts_isnull);
		}
		ExecDropSingleTupleTableSlot(slot);
		table_endscan(scan);
		UnregisterSnapshot(snap);
		files = vltab_segment_finish(w, nfiles);
	}
	PG_CATCH();
	{
		vltab_segment_abort(w);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return files;
}

PG_FUNCTION_INFO_V1(vlake_segment_write);
Datum
vlake_segment_write(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = PG_GETARG_OID(0);
	char	   *root;
	char	   *prefix;
	int64		first_row_id;
	Relation	rel;
	VltabSegmentFile *files;
	int			nfiles;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the arguments of vlake.segment_write must not be null")));
	root = text_to_cstring(PG_GETARG_TEXT_PP(1));
	prefix = text_to_cstring(PG_GETARG_TEXT_PP(2));
	first_row_id = PG_GETARG_INT64(3);
	InitMaterializedSRF(fcinfo, 0);

	rel = relation_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table or materialized view", RelationGetRelationName(rel))));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));
	files = write_table(rel, root, prefix, first_row_id, &nfiles);
	relation_close(rel, AccessShareLock);

	for (int i = 0; i < nfiles; i++)
	{
		VltabSegmentFile *f = &files[i];
		Datum		out[8];
		bool		nulls[8] = {0};
		Datum	   *atts = palloc(sizeof(Datum) * Max(f->natts, 1));

		for (int k = 0; k < f->natts; k++)
			atts[k] = Int16GetDatum(f->attnums[k]);
		out[0] = Int32GetDatum(f->group_no);
		out[1] = CStringGetTextDatum(kind_name(f->kind));
		out[2] = CStringGetTextDatum(f->path);
		out[3] = PointerGetDatum(construct_array(atts, f->natts, INT2OID, 2, true, TYPALIGN_SHORT));
		out[4] = Int64GetDatum(f->size);
		out[5] = CStringGetTextDatum(f->etag);
		out[6] = Int64GetDatum(f->row_count);
		out[7] = stats_jsonb(f);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
	}
	return (Datum) 0;
}

/* ------------------------------------------------------------ reading -- */

static JsonbValue *
member(JsonbContainer *obj, const char *key, enum jbvType type, int i)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL || v->type != type)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("segment file %d: \"%s\" is missing or has the wrong JSON type", i, key),
				 errhint("Pass the rows of vlake.segment_write as jsonb_agg(to_jsonb(w)).")));
	return v;
}

static int64
jnum(JsonbValue *v)
{
	return DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v->val.numeric)));
}

/* The files of a segment from the jsonb array of vlake.segment_write rows. */
static VltabSegmentFile *
files_from_jsonb(Jsonb *jb, int *nfiles)
{
	int			n;
	VltabSegmentFile *files;

	if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the segment files must be a JSON array")));
	n = JB_ROOT_COUNT(jb);
	files = palloc0(sizeof(VltabSegmentFile) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&jb->root, i);
		JsonbValue *v;
		JsonbContainer *obj;
		JsonbContainer *arr;
		VltabSegmentFile *f = &files[i];

		if (e == NULL || e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("segment file %d is not a JSON object", i)));
		obj = e->val.binary.data;
		f->group_no = i;
		v = member(obj, "path", jbvString, i);
		f->path = pnstrdup(v->val.string.val, v->val.string.len);
		f->size = jnum(member(obj, "size", jbvNumeric, i));
		f->row_count = jnum(member(obj, "row_count", jbvNumeric, i));
		v = getKeyJsonValueFromContainer(obj, "etag", 4, NULL);
		f->etag = (v && v->type == jbvString) ? pnstrdup(v->val.string.val, v->val.string.len) : "";
		v = member(obj, "attnums", jbvBinary, i);
		arr = v->val.binary.data;
		if (!JsonContainerIsArray(arr))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("segment file %d: \"attnums\" must be an array", i)));
		f->natts = JsonContainerSize(arr);
		f->attnums = palloc(sizeof(AttrNumber) * Max(f->natts, 1));
		for (int k = 0; k < f->natts; k++)
		{
			JsonbValue *a = getIthJsonbValueFromContainer(arr, k);
			int64		an;

			if (a == NULL || a->type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("segment file %d: \"attnums\" must hold numbers", i)));
			an = jnum(a);
			if (an < 1 || an > MaxAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("segment file %d: attnum " INT64_FORMAT " out of range", i, an)));
			f->attnums[k] = (AttrNumber) an;
		}
	}
	*nfiles = n;
	return files;
}

/* columns (names, NULL = all) as attnums of desc. */
static Bitmapset *
projection(TupleDesc desc, ArrayType *columns)
{
	Bitmapset  *attrs = NULL;
	Datum	   *names;
	bool	   *nulls;
	int			n;

	if (columns == NULL)
	{
		for (int a = 0; a < desc->natts; a++)
			if (!TupleDescAttr(desc, a)->attisdropped)
				attrs = bms_add_member(attrs, a + 1);
		return attrs;
	}
	deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *name;
		int			found = 0;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("column names must not be null")));
		name = TextDatumGetCString(names[i]);
		for (int a = 0; a < desc->natts; a++)
			if (!TupleDescAttr(desc, a)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(desc, a)->attname), name) == 0)
				found = a + 1;
		if (found == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" does not exist", name)));
		attrs = bms_add_member(attrs, found);
	}
	return attrs;
}

/*
 * segment_read(target, root, first_row_id, row_count, files, columns) and
 * segment_take(..., row_ids, columns): rows of target's row type.
 */
static Datum
read_segment(FunctionCallInfo fcinfo, bool take)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			colarg = take ? 6 : 5;
	char	   *root;
	int64		first_row_id,
				row_count;
	VltabSegmentFile *files;
	int			nfiles;
	TupleDesc	desc;
	Bitmapset  *attrs;
	VltabSegmentReader *r;
	Datum	   *values;
	bool	   *isnull;

	for (int i = 1; i < colarg; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("only the target and the column list of a segment read may be null")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	desc = rsinfo->setDesc;
	root = text_to_cstring(PG_GETARG_TEXT_PP(1));
	first_row_id = PG_GETARG_INT64(2);
	row_count = PG_GETARG_INT64(3);
	files = files_from_jsonb(PG_GETARG_JSONB_P(4), &nfiles);
	attrs = projection(desc, PG_ARGISNULL(colarg) ? NULL : PG_GETARG_ARRAYTYPE_P(colarg));
	values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	isnull = palloc(sizeof(bool) * Max(desc->natts, 1));

	r = vltab_segment_open(root, desc, first_row_id, row_count, files, nfiles);
	if (!take)
	{
		VltabSegmentScan *s = vltab_segment_scan_begin(r, attrs);
		int64		row_id;
		int64		expect = first_row_id;

		while (vltab_segment_scan_next(s, &row_id, values, isnull))
		{
			if (row_id != expect++)
				elog(ERROR, "segment scan returned row ID " INT64_FORMAT " out of order", row_id);
			tuplestore_putvalues(rsinfo->setResult, desc, values, isnull);
		}
		vltab_segment_scan_end(s);
	}
	else
	{
		ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(5);
		Datum	   *idv;
		bool	   *idnull;
		int			n;

		deconstruct_array(ids, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &idv, &idnull, &n);
		for (int i = 0; i < n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (idnull[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("row IDs must not be null")));
			vltab_segment_take(r, attrs, DatumGetInt64(idv[i]), values, isnull);
			tuplestore_putvalues(rsinfo->setResult, desc, values, isnull);
		}
	}
	vltab_segment_close(r);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(vlake_segment_read);
Datum
vlake_segment_read(PG_FUNCTION_ARGS)
{
	return read_segment(fcinfo, false);
}

PG_FUNCTION_INFO_V1(vlake_segment_take);
Datum
vlake_segment_take(PG_FUNCTION_ARGS)
{
	return read_segment(fcinfo, true);
}
