/*
 * vlindex_sql.c — SQL-callable administration of vlake indexes:
 * vlake.prewarm(), vlake.index_info(), vlake.index_gc().
 */
#include "postgres.h"

#include <time.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "datatype/timestamp.h"
#include "storage/bufmgr.h"
#include "funcapi.h"
#include "utils/timestamp.h"
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
vlindex_check_access(Oid relid, bool need_owner)
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
vlindex_open_checked(Oid relid, LOCKMODE lock, bool need_owner)
{
	vlindex_check_access(relid, need_owner);
	return vlindex_open(relid, lock);
}

Relation
vlindex_open(Oid relid, LOCKMODE lock)
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
	Relation	index = vlindex_open_checked(PG_GETARG_OID(0), AccessShareLock, false);
	VlIndexMetaData meta;
	int64		bytes = 0;

	vlindex_meta_read(index, &meta);
	if (meta.lists > 0 && meta.nvec > 0)
	{
		VlIndexPart	   *part = vlindex_part_get(index, &meta);
		int		   *all = palloc(sizeof(int) * part->lists);

		for (int c = 0; c < part->lists; c++)
			all[c] = c;
		vlindex_part_load_lists(part, all, part->lists);
		bytes = part->mem_bytes;
	}
	relation_close(index, AccessShareLock);
	PG_RETURN_INT64(bytes);
}

const char *
vlindex_metric_name(uint32 m)
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
	Relation	index = vlindex_open_checked(PG_GETARG_OID(0), AccessShareLock, false);
	VlIndexMetaData meta;
	TupleDesc	tupdesc;
	Datum		values[10];
	bool		nulls[10] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	vlindex_meta_read(index, &meta);
	values[9] = Int32GetDatum((int32) meta.nretired);
	values[0] = CStringGetTextDatum(vlindex_dist_name(vlindex_dist(index)));
	values[1] = Int32GetDatum(VLINDEX_USER_DIM(&meta));
	values[2] = Int32GetDatum(meta.lists);
	values[3] = Int64GetDatum(meta.nvec);
	values[4] = Int64GetDatum(meta.delta_count + meta.sealed_count);
	values[5] = Int64GetDatum(meta.tomb_count);
	values[6] = Int64GetDatum(meta.generation);
	values[7] = CStringGetTextDatum(meta.location);
	if (meta.prefix[0] != '\0')
	{
		Datum		f[3];
		int			nf = 2;

		f[0] = CStringGetTextDatum(psprintf("%s/%s", meta.prefix, VLINDEX_FILE_META));
		f[1] = CStringGetTextDatum(psprintf("%s/%s", meta.prefix, VLINDEX_FILE_CODES));
		/* a part of a vlake table's index has no vectors file */
		if (meta.lists == 0 || meta.nvec == 0 || !vlindex_part_get(index, &meta)->table_vectors)
			f[nf++] = CStringGetTextDatum(psprintf("%s/%s", meta.prefix, VLINDEX_FILE_VECS));
		values[8] = PointerGetDatum(construct_array(f, nf, TEXTOID, -1, false, TYPALIGN_INT));
	}
	else
		nulls[8] = true;
	relation_close(index, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * The arguments vlake.index_gc() and vlake.index_gc_parts() share, checked
 * in this order: superuser (both delete or expose every index's parts),
 * then the location (NULL: the default location), then min_age (NULL:
 * vlake.index_gc_min_age; never negative).
 */
static void
gc_arguments(FunctionCallInfo fcinfo, const char *denied, char **location, int64 *age_s)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s", denied)));
	*location = lake_location_choose(PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0)));
	*age_s = vlindex_gc_min_age;
	if (!PG_ARGISNULL(1))
		*age_s = lake_min_age_seconds(PG_GETARG_INTERVAL_P(1));
}

/*
 * vlake.index_gc(location, min_age, dry_run): one garbage-collection pass
 * over the index parts of this database (and of dropped databases) under
 * location (src/lake/lake_part.c has
 * the rule and its proof).  Returns the URIs of the objects deleted (in a
 * dry run: that this pass would delete).  Superuser only: it deletes lake
 * objects, and reading every index's metapage bypasses table privileges.
 */
PG_FUNCTION_INFO_V1(vlake_index_gc);
Datum
vlake_index_gc(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *location;
	bool		dry_run = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	int64		age_s;
	List	   *removed = NIL;
	ListCell   *lc;
	LakeGcStats stats;

	gc_arguments(fcinfo, "only superusers may remove vlake index files", &location, &age_s);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	lake_gc_location(&vlindex_part_kind, location, age_s, dry_run, 0, &removed, &stats);
	elog(DEBUG1, "vlake index gc of \"%s\": %lld parts, %lld referenced, %lld in progress, "
		 "%lld retired now, %lld waiting, %lld removed (%lld objects), %lld unmarked",
		 location, (long long) stats.parts_seen, (long long) stats.referenced,
		 (long long) stats.in_progress, (long long) stats.retired, (long long) stats.waiting,
		 (long long) stats.removed_parts, (long long) stats.removed_files,
		 (long long) stats.unmarked);
	foreach(lc, removed)
	{
		Datum		v = CStringGetTextDatum((char *) lfirst(lc));
		bool		n = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &n);
	}
	return (Datum) 0;
}

/*
 * vlake.index_gc_parts(location, min_age): every index part of this
 * database under location and what a GC pass would do with it now, without
 * changing anything.  Superuser, like vlake.index_gc().
 */
PG_FUNCTION_INFO_V1(vlake_index_gc_parts);
Datum
vlake_index_gc_parts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *location;
	int64		age_s;
	ListCell   *lc;
	ObjStore   *store;

	gc_arguments(fcinfo, "only superusers may inspect vlake index garbage collection", &location, &age_s);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	store = objstore_open(location);
	foreach(lc, lake_gc_status(&vlindex_part_kind, location, age_s))
	{
		LakePartStatus *st = lfirst(lc);
		Datum		v[7];
		bool		n[7] = {0};

		v[0] = CStringGetTextDatum(objstore_uri(store, st->prefix));
		v[1] = CStringGetTextDatum(st->state);
		v[2] = Int32GetDatum(st->objects);
		v[3] = Int64GetDatum((int64) st->bytes);
		v[4] = UInt64GetDatum(st->birth_xid);
		n[4] = !st->has_birth;
		v[5] = UInt64GetDatum(st->mark_xid);
		n[5] = !st->has_mark;
		v[6] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) st->mark_time));
		n[6] = !st->has_mark;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	objstore_close(store);
	return (Datum) 0;
}
