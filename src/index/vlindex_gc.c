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

/* The prefix a vlake index's metapage names, if any. */
static void
add_metapage_prefix(LakeRefs *refs, Relation index)
{
	VlIndexMetaData meta;

	vlindex_meta_read(index, &meta);
	if (meta.prefix[0] != '\0')
		lake_refs_add(refs, meta.prefix);
}

/*
 * Every prefix a vlake index metapage of this database names
 * (lake_refs_add_indexes), and the parts vlake tables' manifests list.
 */
static void
collect_refs(LakeRefs *refs)
{
	ListCell   *lc;

	lake_refs_add_indexes(refs, get_index_am_oid("vlake", false), add_metapage_prefix);

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
