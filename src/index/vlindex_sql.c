/*
 * vlindex_sql.c — SQL-callable administration of vlake indexes:
 * vlake.prewarm(), vlake.index_info().
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "index/vlindex.h"
#include "objstore/objstore.h"

/*
 * Open an index and check it is a vlake index.  need_owner: the caller
 * must own the table (merge, like REINDEX); otherwise SELECT on the table
 * is enough (prewarm, info).
 */
Oid
vl_check_index_access(Oid relid, bool need_owner)
{
	Oid			heapoid = IndexGetRelation(relid, true);

	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation with OID %u is not an index", relid)));
	if (need_owner ? !pg_class_ownercheck(heapoid, GetUserId()) :
		pg_class_aclcheck(heapoid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(heapoid)),
				 errdetail(need_owner ? "Only the owner of the table may merge its vlake index." :
						   "SELECT on the table is required.")));
	return heapoid;
}

Relation
vl_open_index_checked(Oid relid, LOCKMODE lock, bool need_owner)
{
	vl_check_index_access(relid, need_owner);
	return vl_open_index(relid, lock);
}

Relation
vl_open_index(Oid relid, LOCKMODE lock)
{
	Relation	index = relation_open(relid, lock);

	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_rel->relam != get_index_am_oid("vlake", false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vlake index", RelationGetRelationName(index))));
	return index;
}

PG_FUNCTION_INFO_V1(vlake_index_prewarm);
Datum
vlake_index_prewarm(PG_FUNCTION_ARGS)
{
	Relation	index = vl_open_index_checked(PG_GETARG_OID(0), AccessShareLock, false);
	VlMetaData meta;
	int64		bytes = 0;

	vl_meta_read(index, &meta);
	if (meta.lists > 0 && meta.nvec > 0)
	{
		VlPart	   *part = vl_part_get(index, &meta);
		int		   *all = palloc(sizeof(int) * part->lists);

		for (int c = 0; c < part->lists; c++)
			all[c] = c;
		vl_part_load_lists(part, all, part->lists);
		bytes = part->mem_bytes;
	}
	relation_close(index, AccessShareLock);
	PG_RETURN_INT64(bytes);
}

static const char *
metric_name(uint32 m)
{
	switch (m)
	{
		case IVF_L2:
			return "l2";
		case IVF_IP:
			return "inner_product";
		case IVF_COSINE:
			return "cosine";
	}
	return "?";
}

PG_FUNCTION_INFO_V1(vlake_index_info);
Datum
vlake_index_info(PG_FUNCTION_ARGS)
{
	Relation	index = vl_open_index_checked(PG_GETARG_OID(0), AccessShareLock, false);
	VlMetaData meta;
	TupleDesc	tupdesc;
	Datum		values[9];
	bool		nulls[9] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	vl_meta_read(index, &meta);
	values[0] = CStringGetTextDatum(metric_name(meta.metric));
	values[1] = Int32GetDatum(meta.dim);
	values[2] = Int32GetDatum(meta.lists);
	values[3] = Int64GetDatum(meta.nvec);
	values[4] = Int64GetDatum(meta.delta_count + meta.sealed_count);
	values[5] = Int64GetDatum(meta.tomb_count);
	values[6] = Int64GetDatum(meta.generation);
	values[7] = CStringGetTextDatum(meta.location);
	if (meta.prefix[0] != '\0')
	{
		Datum		f[3];

		f[0] = CStringGetTextDatum(psprintf("%s/%s", meta.prefix, VL_FILE_META));
		f[1] = CStringGetTextDatum(psprintf("%s/%s", meta.prefix, VL_FILE_CODES));
		f[2] = CStringGetTextDatum(psprintf("%s/%s", meta.prefix, VL_FILE_VECS));
		values[8] = PointerGetDatum(construct_array(f, 3, TEXTOID, -1, false, TYPALIGN_INT));
	}
	else
		nulls[8] = true;
	relation_close(index, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
