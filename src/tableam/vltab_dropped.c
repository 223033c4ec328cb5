/*
 * vltab_dropped.c — the lake files of dropped vlake tables (docs/tables.md,
 * "Dropping a table").
 *
 * DROP TABLE (or ALTER TABLE … SET ACCESS METHOD to another AM) removes the
 * table's catalog rows in that transaction; its dataset stays in the lake
 * exactly as published, so engines reading the manifest chain keep it for
 * the table's retention (its option, else vlake.table_retention), recorded
 * with the dataset in vlake.dropped_datasets by the same transaction (a DROP
 * that rolls back records nothing).  Once that retention has passed, a
 * purge removes what vlake wrote under the root, in this order:
 *
 *   1. every manifest, oldest first, then "_manifest/_latest", then every
 *      delete vector: the dataset is gone for its readers (expiration of
 *      versions goes in the same order), and the root may hold a new table;
 *   2. the lake parts under "data/": nothing names them any more, so the
 *      snapshot-exact part GC (lake_part.c) retires and then removes them,
 *      over two passes at least; the index parts under the root are the
 *      same for the index kind, which the workers layer runs (it owns both);
 *   3. the catalog row, once no part of this database is left under the root.
 *
 * Each step only removes, and the next pass repeats whatever a crash or an
 * error interrupted, so kill -9 at any point leaves a state the next pass
 * finishes.  Objects vlake did not write — a referenced object kept inside
 * the root (objref.md) — are never touched: only manifest keys, "deletes/"
 * keys and this database's parts are (lake_part.h says which parts a pass
 * may touch).  A root whose newest manifest belongs to another dataset
 * (taken over by someone else) loses no manifest or delete vector.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lake/lake_part.h"
#include "manifest/manifest.h"
#include "objstore/objstore.h"
#include "tableam/vltab.h"

static bool
catalog_exists(void)
{
	Oid			nsp = get_namespace_oid("vlake", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("dropped_datasets", nsp));
}

void
vltab_dropped_note(Oid relid)
{
	VltabDataset *ds;
	Datum		args[4];
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	char	   *relname = get_rel_name(relid);

	if (!catalog_exists())
		return;
	ds = vltab_dataset_get(relid, GetLatestSnapshot());
	if (ds == NULL)
		return;
	args[0] = CStringGetTextDatum(ds->dataset_id);
	args[1] = CStringGetTextDatum(ds->root);
	args[2] = CStringGetTextDatum(relname ? relname : "?");
	args[3] = Int64GetDatum(vltab_retention_seconds(relid, GetLatestSnapshot()));
	SPI_connect();
	SPI_execute_with_args("INSERT INTO vlake.dropped_datasets "
						  "(dataset_id, root, relname, dropped_at, retention) "
						  "VALUES ($1::uuid, $2, $3, now(), make_interval(secs => $4)) "
						  "ON CONFLICT (dataset_id) DO NOTHING",
						  4, types, args, NULL, false, 0);
	SPI_finish();
	CommandCounterIncrement();
}

List *
vltab_dropped_due(void)
{
	List	   *due = NIL;
	MemoryContext outer = CurrentMemoryContext;

	if (!catalog_exists())
		return NIL;
	SPI_connect();
	SPI_execute("SELECT dataset_id::text, root FROM vlake.dropped_datasets "
				"WHERE dropped_at + retention <= now() ORDER BY dropped_at",
				true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(outer);
		VltabDropped *d = palloc0(sizeof(VltabDropped));

		d->dataset_id = SPI_getvalue(tup, desc, 1);
		d->root = SPI_getvalue(tup, desc, 2);
		due = lappend(due, d);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return due;
}

/* Is the newest manifest under the root one of dataset_id's (or none)? */
static bool
root_still_ours(ObjStore *store, List *manifests, const char *dataset_id)
{
	int64		newest = -1;
	ListCell   *lc;
	char		key[MANIFEST_KEY_LEN];
	uint64		len;
	char	   *buf;
	Manifest   *m;

	foreach(lc, manifests)
	{
		int64		v;

		if (manifest_parse_key(((ObjListEntry *) lfirst(lc))->key, &v))
			newest = Max(newest, v);
	}
	if (newest < 0)
		return true;
	manifest_key(newest, key);
	buf = objstore_get(store, key, &len);
	m = manifest_decode(buf, len, objstore_uri(store, key));
	return strcmp(m->dataset_id, dataset_id) == 0;
}

static int
version_cmp(const ListCell *a, const ListCell *b)
{
	int64		x,
				y;

	(void) manifest_parse_key(lfirst(a), &x);
	(void) manifest_parse_key(lfirst(b), &y);
	return (x > y) - (x < y);
}

/*
 * Steps 1 and 2 for one dropped dataset (see the header): its manifests and
 * delete vectors, then a part GC pass over "data/".
 */
void
vltab_dropped_purge(const VltabDropped *d, int64 min_age_s, bool dry_run, List **removed,
					LakeGcStats *stats)
{
	ObjStore   *store = objstore_open(d->root);
	List	   *manifests = objstore_list(store, MANIFEST_DIR);
	List	   *gone = NIL;
	List	   *deletes = NIL;
	ListCell   *lc;

	if (root_still_ours(store, manifests, d->dataset_id))
	{
		foreach(lc, manifests)
		{
			ObjListEntry *e = lfirst(lc);
			int64		v;

			if (manifest_parse_key(e->key, &v))
				gone = lappend(gone, pstrdup(e->key));
		}
		list_sort(gone, version_cmp);
		foreach(lc, manifests)
		{
			ObjListEntry *e = lfirst(lc);
			int64		v;

			if (!manifest_parse_key(e->key, &v) && strcmp(e->key, MANIFEST_HINT_KEY) == 0)
				gone = lappend(gone, pstrdup(e->key));
		}
		foreach(lc, objstore_list(store, "deletes/"))
			deletes = lappend(deletes, pstrdup(((ObjListEntry *) lfirst(lc))->key));
		gone = list_concat(gone, deletes);
	}
	foreach(lc, gone)
	{
		if (removed)
			*removed = lappend(*removed, objstore_uri(store, lfirst(lc)));
	}
	/* one at a time, in order: a crash leaves a chain with a gap at its
	 * old end only, as expiration does */
	if (!dry_run)
		foreach(lc, gone)
			objstore_delete(store, lfirst(lc));
	objstore_close(store);
	/* no relation: the kind's collect_refs names no part of this root */
	lake_gc_location(&vltab_part_kind, d->root, min_age_s, dry_run, 0, removed, stats);
}

bool
vltab_dropped_finish(const VltabDropped *d, const LakePartKind *index_kind)
{
	ObjStore   *store = objstore_open(d->root);
	bool		done = !lake_has_parts(&vltab_part_kind, store) &&
		!lake_has_parts(index_kind, store);
	Datum		arg = CStringGetTextDatum(d->dataset_id);
	Oid			type = TEXTOID;

	List	   *manifests = done ? objstore_list(store, MANIFEST_DIR) : NIL;

	if (manifests != NIL && root_still_ours(store, manifests, d->dataset_id))
		done = false;			/* a manifest of ours is left: step 1 again */
	objstore_close(store);
	if (!done)
		return false;
	SPI_connect();
	SPI_execute_with_args("DELETE FROM vlake.dropped_datasets WHERE dataset_id = $1::uuid",
						  1, &type, &arg, NULL, false, 0);
	SPI_finish();
	return true;
}
