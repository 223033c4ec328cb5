/*
 * vltab_gc.c — the lake parts of vlake tables for the snapshot-exact GC of
 * lake_part.h.
 *
 * A segment's files are one part under "<dataset root>/data/".  The part is
 * named for as long as a row of vlake.files names one of its files, as the
 * latest committed catalog state sees it; a part of an aborted or crashed
 * writer (COPY, flush) is named by nothing and carries its writer's birth
 * xid, so lake_part.c waits for that writer to end before retiring it.
 * A segment removed by a committed transaction (TRUNCATE, DROP TABLE) stops
 * being named; lake_part.c keeps its files until no snapshot that could
 * still read the segment exists.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "lake/lake_part.h"
#include "tableam/vltab.h"

static void
collect_refs(LakeRefs *refs)
{
	Oid			nsp = get_namespace_oid("vlake", true);
	Relation	cat;
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("files", nsp)))
		return;
	cat = table_open(vltab_catalog_relid("files"), AccessShareLock);
	scan = systable_beginscan(cat, InvalidOid, false, GetLatestSnapshot(), 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		char	   *path = TextDatumGetCString(heap_getattr(tup, 5, RelationGetDescr(cat),
														   &isnull));
		char	   *slash = strrchr(path, '/');

		if (slash)
		{
			*slash = '\0';
			lake_refs_add(refs, path);
		}
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
}

const LakePartKind vltab_part_kind = {
	.dir = "data",
	.noun = "vlake table",
	.lock_key = 0x564C5447,		/* "VLTG" */
	.collect_refs = collect_refs,
};
