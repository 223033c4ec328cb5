/*
 * vltab_sql.c — SQL functions over vlake tables (vlake.table_segments).
 */
#include "postgres.h"

#include "access/table.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/rls.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "manifest/manifest.h"
#include "tableam/vltab.h"
#include "vector/vector.h"

/*
 * Open a vlake table for a vlake.* function: mode 0 for what only its owner
 * may do (flush, settings, publication), else the privilege it needs
 * (ACL_SELECT for what describes its contents).  Catalog contents of a table
 * whose row-level security applies to the caller (statistics, row counts)
 * are refused, as pg_stats hides them.
 */
Relation
vltab_open_checked(Oid relid, AclMode mode, LOCKMODE lockmode)
{
	Relation	rel = table_open(relid, lockmode);

	if (!vltab_is_vlake(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vlake table", RelationGetRelationName(rel))));
	if (mode == 0)
	{
		if (!pg_class_ownercheck(relid, GetUserId()))
			aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, RelationGetRelationName(rel));
		return rel;
	}
	{
		AclResult	acl = pg_class_aclcheck(relid, GetUserId(), mode);

		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_TABLE, RelationGetRelationName(rel));
	}
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("row-level security applies to \"%s\": its lake statistics and counts are not shown",
						RelationGetRelationName(rel)),
				 errhint("The table's owner, and roles that bypass row-level security, may read them.")));
	return rel;
}

/* A user column of rel by name, or ERROR; what (may be NULL) names its role
 * in the message ("key column ..."). */
AttrNumber
vltab_column_attnum(Relation rel, const char *col, const char *what)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), col);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s%scolumn \"%s\" of relation \"%s\" does not exist",
						what ? what : "", what ? " " : "", col, RelationGetRelationName(rel))));
	return attnum;
}

PG_FUNCTION_INFO_V1(vlake_flush);
Datum
vlake_flush(PG_FUNCTION_ARGS)
{
	Relation	rel = vltab_open_checked(PG_GETARG_OID(0), 0, RowExclusiveLock);
	int64		n = vltab_flush_relation(rel, 0);

	table_close(rel, NoLock);
	PG_RETURN_INT64(n);
}

PG_FUNCTION_INFO_V1(vlake_table_segments);
Datum
vlake_table_segments(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel = vltab_open_checked(PG_GETARG_OID(0), ACL_SELECT, AccessShareLock);
	VltabSegmentList *segs;

	InitMaterializedSRF(fcinfo, 0);
	segs = vltab_segments_visible(RelationGetRelid(rel), GetActiveSnapshot());
	for (int i = 0; i < segs->nsegments; i++)
	{
		VltabSegment *seg = &segs->segments[i];
		Datum		values[7];
		bool		nulls[7] = {0};
		int64		bytes = 0;

		for (int f = 0; f < seg->nfiles; f++)
			bytes += seg->files[f].size;
		values[0] = Int64GetDatum(seg->segment_id);
		values[1] = Int64GetDatum(seg->first_row_id);
		values[2] = Int64GetDatum(seg->end_row_id);
		values[3] = Int64GetDatum(seg->row_count);
		values[4] = Int32GetDatum(seg->nfiles);
		values[5] = Int64GetDatum(bytes);
		values[6] = Int64GetDatum(seg->version);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(vlake_set_column_group);
Datum
vlake_set_column_group(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *col = NameStr(*PG_GETARG_NAME(1));
	char	   *grp = text_to_cstring(PG_GETARG_TEXT_PP(2));
	Relation	rel = vltab_open_checked(relid, 0, ShareUpdateExclusiveLock);
	AttrNumber	attnum = vltab_column_attnum(rel, col, NULL);
	char		choice;

	if (strcmp(grp, "scalar") == 0)
		choice = 's';
	else if (strcmp(grp, "own") == 0)
		choice = 'o';
	else if (strcmp(grp, "auto") == 0)
		choice = 'a';
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid ColumnGroup choice \"%s\"", grp),
				 errhint("Use scalar, own or auto.")));
	if (choice != 'a' && TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attlen != -1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" has a fixed width: it always goes to the scalar group", col),
				 errhint("Only variable-width columns (text, bytea, arrays, ...) can be placed.")));
	vltab_column_group_set(relid, attnum, choice);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(vlake_set_embedding_model);
Datum
vlake_set_embedding_model(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *col = NameStr(*PG_GETARG_NAME(1));
	char	   *model = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *version = text_to_cstring(PG_GETARG_TEXT_PP(3));
	Relation	rel = vltab_open_checked(relid, 0, ShareUpdateExclusiveLock);
	AttrNumber	attnum = vltab_column_attnum(rel, col, NULL);
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	Oid			base = getBaseType(att->atttypid);

	if ((base != vector_type_oid() && base != halfvec_type_oid()) || att->atttypmod <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("column \"%s\" is not a vector column with a dimension", col),
				 errhint("Embedding models describe vector(n) and halfvec(n) columns.")));
	if (strlen(model) < 1 || strlen(model) > MANIFEST_MAX_TEXT || strlen(version) > MANIFEST_MAX_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a model name has 1 to %d bytes and a model version at most %d",
						MANIFEST_MAX_TEXT, MANIFEST_MAX_TEXT)));
	vltab_column_model_set(rel, attnum, model, version);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/* vlake.table_scan_stats(): this session's scan counters (vltab_am.c). */
PG_FUNCTION_INFO_V1(vlake_table_scan_stats);
Datum
vlake_table_scan_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[7];
	bool		nulls[7] = {0};
	const VltabScanTotals *t = &vltab_scan_totals;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "vlake.table_scan_stats must return a record");
	values[0] = Int64GetDatum(t->scans);
	values[1] = Int64GetDatum(t->segments_total);
	values[2] = Int64GetDatum(t->segments_skipped);
	values[3] = Int64GetDatum(t->io.pages_read);
	values[4] = Int64GetDatum(t->io.pages_skipped);
	values[5] = Int64GetDatum(t->io.rows_skipped);
	values[6] = Int64GetDatum(t->io.bytes_read);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

PG_FUNCTION_INFO_V1(vlake_table_scan_stats_reset);
Datum
vlake_table_scan_stats_reset(PG_FUNCTION_ARGS)
{
	memset(&vltab_scan_totals, 0, sizeof(vltab_scan_totals));
	PG_RETURN_VOID();
}
