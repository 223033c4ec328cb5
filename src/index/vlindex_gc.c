/*
 * vlindex_gc.c — the vlake index's side of lake-part garbage collection:
 * which parts its metapages name (the rule and its proof are in
 * src/lake/lake_part.c).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "index/vlindex.h"
#include "lake/lake_part.h"
#include "tableam/vltab_index.h"

int			vlindex_gc_min_age = 0;

/*
 * Every prefix a vlake index metapage of this database names, read under a
 * fresh catalog snapshot; indexes someone holds exclusively (REINDEX, DROP,
 * LOCK TABLE in progress) or another session's temporary indexes protect all
 * their parts this pass.
 */
static void
collect_refs(LakeRefs *refs)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid			am = get_index_am_oid("vlake", false);
	ListCell   *lc;

	InvalidateCatalogSnapshot();
	rel = table_open(RelationRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		Relation	index;
		VlIndexMetaData meta;

		CHECK_FOR_INTERRUPTS();
		if (c->relkind != RELKIND_INDEX || c->relam != am)
			continue;
		/* never wait */
		if (!ConditionalLockRelationOid(c->oid, AccessShareLock))
		{
			lake_refs_add_opaque(refs, c->oid);
			continue;
		}
		index = try_relation_open(c->oid, NoLock);
		if (index == NULL)
		{
			/* dropped meanwhile: names nothing */
			UnlockRelationOid(c->oid, AccessShareLock);
			continue;
		}
		if (RELATION_IS_OTHER_TEMP(index))
			lake_refs_add_opaque(refs, c->oid);
		else if (RelationGetNumberOfBlocks(index) > 0)
		{
			vlindex_meta_read(index, &meta);
			if (meta.prefix[0] != '\0')
				lake_refs_add(refs, meta.prefix);
		}
		relation_close(index, AccessShareLock);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);

	/*
	 * The parts the manifests of vlake tables list (vlake.table_indexes):
	 * normally the metapages' own, but a merge that switched its index to a
	 * new part and then failed to commit leaves the catalog, and the latest
	 * published manifest, naming the previous part.
	 */
	foreach(lc, vltab_index_prefixes())
		lake_refs_add(refs, lfirst(lc));
}

const LakePartKind vlindex_part_kind = {
	.dir = "vlake_index",
	.noun = "vlake index",
	.lock_key = 0x564C4743,		/* "VLGC" */
	.collect_refs = collect_refs,
};
