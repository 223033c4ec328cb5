/*
 * vltab_objects.c — lineage of source objects in SQL: which raw objects a
 * table's rows reference (vlake.table_objects) and which rows reference an
 * object (vlake.object_rows).  docs/objref.md, "Lineage".
 *
 * Both are one query over the table's objref columns, run through SPI as
 * the caller: so SELECT on the table (or on those columns) is required, the
 * rows are exactly the ones the caller's snapshot sees (delta rows not yet
 * flushed, lake rows minus deleted ones, vlake.as_of_version /
 * as_of_timestamp for a retained version), and a vlake table reads only the
 * ColumnGroups holding its objref columns (projection).  The per-group
 * object lists in the lake (vltab_segment.c) are for readers outside
 * Postgres, which have no row states or delta to merge.
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "lake/lake_rowref.h"
#include "objref/objref.h"
#include "tableam/vltab.h"

/*
 * The objref columns of relid (names, quoted), and its qualified name;
 * ERROR when it cannot be queried or has none.
 */
static List *
objref_columns(Oid relid, char **qualname, bool need_ctid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			reftype = objref_type_oid();
	char		kind = rel->rd_rel->relkind;
	List	   *cols = NIL;

	if (!(kind == RELKIND_RELATION || kind == RELKIND_MATVIEW ||
		  kind == RELKIND_PARTITIONED_TABLE ||
		  (!need_ctid && (kind == RELKIND_VIEW || kind == RELKIND_FOREIGN_TABLE))))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel)),
				 errdetail("Referenced objects are listed for tables%s.",
						   need_ctid ? " and materialized views" :
						   ", materialized views, views and foreign tables")));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && OidIsValid(reftype) && getBaseType(att->atttypid) == reftype)
			cols = lappend(cols, pstrdup(NameStr(att->attname)));
	}
	if (cols == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" has no column of type objref", RelationGetRelationName(rel)),
				 errhint("Referenced objects are the values of a table's objref columns (docs/objref.md).")));
	*qualname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										   RelationGetRelationName(rel));
	relation_close(rel, AccessShareLock);
	return cols;
}

/*
 * Run q (params: nargs of argtypes/values) as the caller; rows into the
 * function's tuplestore.  rowid_of >= 0: output column rowid_of + 1 is the
 * row ID of the lake row whose TID is output column rowid_of (NULL for a
 * delta row or when lake is false), the query's columns filling the others.
 */
static void
run_into(FunctionCallInfo fcinfo, const char *q, int nargs, Oid *argtypes, Datum *args,
		 int rowid_of, bool lake)
{
	ReturnSetInfo *rsinfo;
	Portal		portal;
	Datum	   *values;
	bool	   *nulls;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	values = palloc(sizeof(Datum) * rsinfo->setDesc->natts);
	nulls = palloc(sizeof(bool) * rsinfo->setDesc->natts);
	SPI_connect();
	/* a cursor: the result streams into the tuplestore (which spills to
	 * disk past work_mem), not all of it into SPI's memory first */
	portal = SPI_cursor_open_with_args(NULL, q, nargs, argtypes, args, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			int			n = rsinfo->setDesc->natts;
			int			k = 0;

			CHECK_FOR_INTERRUPTS();
			for (int o = 0; o < n; o++)
			{
				if (o == rowid_of + 1 && rowid_of >= 0)
				{
					ItemPointer tid = (ItemPointer) DatumGetPointer(values[rowid_of]);

					nulls[o] = nulls[rowid_of] || !lake || !lake_tid_is_lake(tid);
					values[o] = nulls[o] ? (Datum) 0 :
						Int64GetDatum((int64) (ItemPointerGetBlockNumberNoCheck(tid) - LAKE_ROWID_BLOCK0) *
									  LAKE_ROWS_PER_BLOCK + ItemPointerGetOffsetNumberNoCheck(tid) - 1);
					continue;
				}
				values[o] = SPI_getbinval(tup, SPI_tuptable->tupdesc, ++k, &nulls[o]);
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
}

/*
 * vlake.table_objects(tbl) → (uri, size, sha256, mime, rows): the distinct
 * references of the rows the caller sees, with how many (row, column)
 * values hold each.
 */
PG_FUNCTION_INFO_V1(vlake_table_objects);
Datum
vlake_table_objects(PG_FUNCTION_ARGS)
{
	char	   *qualname;
	List	   *cols = objref_columns(PG_GETARG_OID(0), &qualname, false);
	StringInfoData q;
	ListCell   *lc;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT vlake.objref_uri(r), vlake.objref_size(r), "
						   "vlake.objref_sha256(r), vlake.objref_mime(r), count(*) FROM (");
	foreach(lc, cols)
	{
		const char *c = quote_identifier(lfirst(lc));

		appendStringInfo(&q, "%sSELECT %s AS r FROM %s WHERE %s IS NOT NULL",
						 foreach_current_index(lc) > 0 ? " UNION ALL " : "", c, qualname, c);
	}
	appendStringInfoString(&q, ") s GROUP BY r ORDER BY r");
	run_into(fcinfo, q.data, 0, NULL, NULL, -1, false);
	return (Datum) 0;
}

/*
 * vlake.object_rows(tbl, uri) → (ctid, row_id, col, ref): the rows whose
 * objref columns reference the object uri (any size, checksum or MIME
 * type); row_id for rows in the lake (NULL for rows of a vlake table's
 * delta, and for other tables).
 */
PG_FUNCTION_INFO_V1(vlake_object_rows);
Datum
vlake_object_rows(PG_FUNCTION_ARGS)
{
	char	   *qualname;
	List	   *cols = objref_columns(PG_GETARG_OID(0), &qualname, true);
	Relation	rel = relation_open(PG_GETARG_OID(0), AccessShareLock);
	bool		lake = vltab_is_vlake(rel);
	StringInfoData q;
	ListCell   *lc;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {PG_GETARG_DATUM(1)};

	relation_close(rel, AccessShareLock);
	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT t, c, r FROM (");
	foreach(lc, cols)
	{
		const char *c = quote_identifier(lfirst(lc));

		appendStringInfo(&q, "%sSELECT ctid AS t, %s::name AS c, %s AS r FROM %s "
						 "WHERE vlake.objref_uri(%s) = $1",
						 foreach_current_index(lc) > 0 ? " UNION ALL " : "",
						 quote_literal_cstr(lfirst(lc)), c, qualname, c);
	}
	appendStringInfoString(&q, ") s ORDER BY 1, 2");
	run_into(fcinfo, q.data, 1, argtypes, args, 0, lake);
	return (Datum) 0;
}
