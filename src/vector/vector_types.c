/*
 * vector_types.c — the OIDs of the vector and halfvec types, resolved in
 * the schema vlake is installed in (not through search_path, which may not
 * include it and may hold pgvector's types of the same names) and cached
 * until pg_type changes.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "vector/vector.h"

static Oid	cached_vector = InvalidOid;
static Oid	cached_halfvec = InvalidOid;
static bool cache_valid = false;
static bool callback_registered = false;

static void
invalidate_type_cache(Datum arg, int cacheid, uint32 hashvalue)
{
	cache_valid = false;
}

static Oid
extension_namespace(void)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("vlake"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

static void
resolve_types(void)
{
	Oid			nsp;

	if (cache_valid)
		return;
	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(TYPEOID, invalidate_type_cache, (Datum) 0);
		callback_registered = true;
	}
	nsp = extension_namespace();
	cached_vector = OidIsValid(nsp) ?
		GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("vector"),
						ObjectIdGetDatum(nsp)) : InvalidOid;
	cached_halfvec = OidIsValid(nsp) ?
		GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("halfvec"),
						ObjectIdGetDatum(nsp)) : InvalidOid;
	/* while CREATE EXTENSION runs, the types may not exist yet: ask again */
	cache_valid = OidIsValid(cached_vector) && OidIsValid(cached_halfvec);
}

Oid
vector_type_oid(void)
{
	resolve_types();
	return cached_vector;
}

Oid
halfvec_type_oid(void)
{
	resolve_types();
	return cached_halfvec;
}
