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

/*
 * Types the extension script creates, by name: their OIDs are looked up in
 * the extension's schema once and kept until a pg_type change invalidates
 * them.  A name not found (CREATE EXTENSION still running) is asked again.
 */
#define EXT_TYPES_MAX 8

static struct
{
	const char *name;
	Oid			oid;
}			ext_types[EXT_TYPES_MAX];
static int	n_ext_types = 0;
static bool callback_registered = false;

static void
invalidate_type_cache(Datum arg, int cacheid, uint32 hashvalue)
{
	for (int i = 0; i < n_ext_types; i++)
		ext_types[i].oid = InvalidOid;
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

Oid
vector_extension_type_oid(const char *name)
{
	int			i;
	Oid			nsp;

	for (i = 0; i < n_ext_types; i++)
		if (strcmp(ext_types[i].name, name) == 0)
			break;
	if (i < n_ext_types && OidIsValid(ext_types[i].oid))
		return ext_types[i].oid;
	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(TYPEOID, invalidate_type_cache, (Datum) 0);
		callback_registered = true;
	}
	if (i == n_ext_types)
	{
		if (n_ext_types == EXT_TYPES_MAX)
			elog(ERROR, "too many vlake types looked up by name");
		ext_types[n_ext_types].name = name;
		ext_types[n_ext_types++].oid = InvalidOid;
	}
	nsp = extension_namespace();
	ext_types[i].oid = OidIsValid(nsp) ?
		GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
						ObjectIdGetDatum(nsp)) : InvalidOid;
	return ext_types[i].oid;
}

Oid
vector_type_oid(void)
{
	return vector_extension_type_oid("vector");
}

Oid
halfvec_type_oid(void)
{
	return vector_extension_type_oid("halfvec");
}
