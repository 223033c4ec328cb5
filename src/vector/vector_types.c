/*
 * vector_types.c — the OIDs of the vector and halfvec types, resolved in
 * the schema vlake is installed in (not through search_path, which may not
 * include it and may hold pgvector's types of the same names) and cached
 * until pg_type changes.
 *
 * Those are vlake's own types, or pgvector's when pgvector was installed in
 * that schema first (the install script then creates no types:
 * scripts/gen-install-sql.sh, docs/pgvector.md) — either way the types of
 * vlake's schema, whose varlena layouts are the same.  vlake never calls
 * pgvector's C functions.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "utils/builtins.h"
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

/*
 * vlake_record_type_provider(): called once by the install script.  When
 * the vector type of vlake's schema belongs to pgvector, extension vlake
 * is recorded as depending on extension vector, as a `requires` would:
 * pg_dump then restores pgvector first, so the restored vlake uses its
 * types again, and DROP EXTENSION vector names vlake as what stops it.
 */
PG_FUNCTION_INFO_V1(vlake_record_type_provider);
Datum
vlake_record_type_provider(PG_FUNCTION_ARGS)
{
	Oid			pgvector = get_extension_oid("vector", true);
	Oid			typ;
	ObjectAddress self,
				provider;

	if (!creating_extension || get_extension_oid("vlake", true) != CurrentExtensionObject)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vlake_record_type_provider() runs only in vlake's install script")));
	typ = vector_type_oid();
	if (!OidIsValid(pgvector) || !OidIsValid(typ) ||
		getExtensionOfObject(TypeRelationId, typ) != pgvector)
		PG_RETURN_TEXT_P(cstring_to_text("vlake"));
	ObjectAddressSet(self, ExtensionRelationId, CurrentExtensionObject);
	ObjectAddressSet(provider, ExtensionRelationId, pgvector);
	recordDependencyOn(&self, &provider, DEPENDENCY_NORMAL);
	PG_RETURN_TEXT_P(cstring_to_text("pgvector"));
}
