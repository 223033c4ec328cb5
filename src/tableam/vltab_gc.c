/*
 * vltab_gc.c — the lake parts of vlake tables for the snapshot-exact GC of
 * lake_part.h, and retention (docs/tables.md, "Retention").
 *
 * A segment's files are one part under "<dataset root>/data/".  The part is
 * named for as long as a row of vlake.files names one of its files, as the
 * latest committed catalog state sees it, or a retained version's manifest
 * names one (time travel reads it: compaction, column patches and TRUNCATE
 * stop naming files in vlake.files while older versions still do); a part of
 * an aborted or crashed writer (COPY, flush) is named by nothing and carries
 * its writer's birth xid, so lake_part.c waits for that writer to end before
 * retiring it.  A segment removed by a committed transaction (TRUNCATE, DROP
 * TABLE) stops being named; lake_part.c keeps its files until no snapshot
 * that could still read the segment exists.
 *
 * The parts retained versions name: each published manifest is read once
 * per backend (they are immutable) and each part prefix remembers the
 * newest version naming it; a part is named by a retained version iff that
 * version is at or after the oldest retained one (the retained versions are
 * a suffix of the chain).  A version whose manifest appears later (a repair)
 * is read when it appears: the GC recomputes the names every pass, and a
 * retired part named again is unmarked, so only min_age must outlast a
 * repair's delay.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "lake/lake_part.h"
#include "manifest/manifest.h"
#include "objstore/objstore.h"
#include "tableam/vltab.h"

/* ------------------------------------- parts named by retained versions -- */

typedef struct PartUse
{
	char		prefix[LAKE_PREFIX_MAX];	/* hash key */
	int64		lastv;			/* newest version whose manifest names it */
} PartUse;

typedef struct TableUse
{
	Oid			relid;
	char		dataset_id[37];
	HTAB	   *parts;			/* PartUse by prefix */
	HTAB	   *done;			/* int64 versions read */
} TableUse;

static MemoryContext use_cxt = NULL;
static List *use_tables = NIL;	/* TableUse *, in use_cxt */

/* The pass in progress (vltab_gc_table): its table, for collect_refs. */
static Oid	gc_relid = InvalidOid;

static TableUse *
table_use(Oid relid, const char *dataset_id)
{
	ListCell   *lc;
	TableUse   *u;
	HASHCTL		ctl;
	MemoryContext old;

	foreach(lc, use_tables)
	{
		u = lfirst(lc);
		if (u->relid == relid && strcmp(u->dataset_id, dataset_id) == 0)
			return u;
	}
	if (use_cxt == NULL)
		use_cxt = AllocSetContextCreate(TopMemoryContext, "vlake table GC names",
										ALLOCSET_DEFAULT_SIZES);
	if (list_length(use_tables) >= 256)
	{
		/* dropped tables linger: start afresh (manifests are read again) */
		MemoryContextReset(use_cxt);
		use_tables = NIL;
	}
	old = MemoryContextSwitchTo(use_cxt);
	u = palloc0(sizeof(TableUse));
	u->relid = relid;
	strlcpy(u->dataset_id, dataset_id, sizeof(u->dataset_id));
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = LAKE_PREFIX_MAX;
	ctl.entrysize = sizeof(PartUse);
	ctl.hcxt = use_cxt;
	u->parts = hash_create("vlake part names", 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(int64);
	ctl.hcxt = use_cxt;
	u->done = hash_create("vlake versions read", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	use_tables = lappend(use_tables, u);
	MemoryContextSwitchTo(old);
	return u;
}

static void
note_path(TableUse *u, const char *path, int64 version)
{
	char		prefix[LAKE_PREFIX_MAX];
	const char *slash = strrchr(path, '/');
	PartUse    *p;
	bool		found;

	if (slash == NULL || slash - path >= LAKE_PREFIX_MAX)
		return;
	memcpy(prefix, path, slash - path);
	prefix[slash - path] = '\0';
	p = hash_search(u->parts, prefix, HASH_ENTER, &found);
	if (!found || p->lastv < version)
		p->lastv = version;
}

/*
 * Add the parts that relid's retained versions name (their published
 * manifests).  ERROR-free for missing manifests: a version the lake does not
 * have cannot be read by anyone.
 */
static void
add_retained_refs(LakeRefs *refs, Oid relid)
{
	Snapshot	snap = GetLatestSnapshot();
	VltabDataset *ds = vltab_dataset_get(relid, snap);
	TableUse   *u;
	ObjStore   *store;
	List	   *keys;
	ListCell   *lc;
	int64		oldest;
	HASH_SEQ_STATUS seq;
	PartUse    *p;

	if (ds == NULL || ds->version == 0)
		return;
	oldest = vltab_oldest_retained(relid, ds->version, snap);
	u = table_use(relid, ds->dataset_id);
	store = objstore_open(ds->root);
	keys = objstore_list(store, MANIFEST_DIR);
	foreach(lc, keys)
	{
		ObjListEntry *e = lfirst(lc);
		int64		v;
		bool		found;
		MemoryContext cxt,
					old;
		char	   *buf;
		uint64		len;
		Manifest   *m;

		CHECK_FOR_INTERRUPTS();
		if (!manifest_parse_key(e->key, &v) || v < oldest)
			continue;
		(void) hash_search(u->done, &v, HASH_FIND, &found);
		if (found)
			continue;
		cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake manifest", ALLOCSET_DEFAULT_SIZES);
		old = MemoryContextSwitchTo(cxt);
		buf = objstore_get(store, e->key, &len);
		m = manifest_decode(buf, len, objstore_uri(store, e->key));
		for (int s = 0; s < m->nsegments; s++)
			for (int g = 0; g < m->segments[s].ngroups; g++)
				note_path(u, m->segments[s].groups[g].path, v);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		(void) hash_search(u->done, &v, HASH_ENTER, NULL);
	}
	objstore_close(store);
	hash_seq_init(&seq, u->parts);
	while ((p = hash_seq_search(&seq)) != NULL)
		if (p->lastv >= oldest)
			lake_refs_add(refs, p->prefix);
}

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
	/* a pass over one table's root: what its retained versions name */
	if (OidIsValid(gc_relid))
		add_retained_refs(refs, gc_relid);
}

const LakePartKind vltab_part_kind = {
	.dir = "data",
	.noun = "vlake table",
	.lock_key = 0x564C5447,		/* "VLTG" */
	.collect_refs = collect_refs,
};

/*
 * One GC pass over relid's dataset root: the manifests and delete vectors
 * of expired versions (vltab_retention.c), then the lake parts neither the
 * catalog nor a retained version names.
 */
void
vltab_gc_table(Oid relid, const char *root, int64 min_age_s, bool dry_run, int max_actions,
			   List **removed, LakeGcStats *stats, int64 *nmanifests, int64 *ndeletes)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vlake table garbage collection cannot run during recovery"),
				 errhint("Run it on the primary; standbys read the same lake files.")));
	vltab_retention_expire(relid, root, dry_run, removed, nmanifests, ndeletes);
	gc_relid = relid;
	PG_TRY();
	{
		lake_gc_location(&vltab_part_kind, root, min_age_s, dry_run, max_actions, removed,
						 stats);
	}
	PG_FINALLY();
	{
		gc_relid = InvalidOid;
	}
	PG_END_TRY();	/* files compactions replaced inside parts still in use */
	if (!dry_run)
		(void) vltab_retired_gc(relid, min_age_s);
}
