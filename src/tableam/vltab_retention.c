/*
 * vltab_retention.c — how long the versions of a vlake table stay readable
 * (docs/tables.md, "Retention" and "Lineage").
 *
 * A table's retention is its `retention` option (kept in
 * vlake.table_retention) or vlake.table_retention.  The retained versions
 * are the latest and every version from the oldest one committed within the
 * retention on: a suffix of the chain (commit times are transaction starts,
 * so they are not monotonic in versions; a suffix keeps "retained" closed
 * under "newer").  What expired versions alone need goes:
 *
 *  - segment files (lake parts): by the lake GC (lake_part.h), whose
 *    collect_refs names what vlake.files and the retained versions'
 *    manifests name (vltab_gc.c); running snapshots are the lake GC's
 *    business;
 *  - manifests of expired versions: removed by vltab_retention_expire;
 *  - delete vectors ("deletes/<segment>-v<N>-<hash>.bin"): a vector is
 *    named by a contiguous run of versions from N (it is replaced, never
 *    named again), so one that a retained version names either has N at or
 *    after the oldest retained version, or is named by that version's
 *    manifest (or the catalog): the others are removed.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lake/lake_part.h"
#include "manifest/manifest.h"
#include "objstore/objstore.h"
#include "tableam/vltab.h"
#include "vlake.h"

/* GUC vlake.table_retention, seconds */
int			vltab_table_retention = 7 * 24 * 3600;

/* ------------------------------------------------------------- catalog -- */

static SysScanDesc
scan_relid(Relation cat, const char *index, Oid relid, Snapshot snap)
{
	ScanKeyData key;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	return systable_beginscan(cat, vltab_catalog_relid(index), true, snap, 1, &key);
}

VltabVersionRow *
vltab_versions_read(Oid relid, Snapshot snap, int *n)
{
	Relation	cat = table_open(vltab_catalog_relid("versions"), AccessShareLock);
	SysScanDesc scan = scan_relid(cat, "versions_pkey", relid, snap);
	TupleDesc	desc = RelationGetDescr(cat);
	HeapTuple	tup;
	int			cap = 16;
	VltabVersionRow *out = palloc(sizeof(VltabVersionRow) * cap);

	*n = 0;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		VltabVersionRow *r;
		bool		isnull;

		if (*n == cap)
		{
			cap *= 2;
			out = repalloc(out, sizeof(VltabVersionRow) * cap);
		}
		r = &out[(*n)++];
		r->version = DatumGetInt64(heap_getattr(tup, 2, desc, &isnull));
		r->operation = TextDatumGetCString(heap_getattr(tup, 3, desc, &isnull));
		r->writer = TextDatumGetCString(heap_getattr(tup, 4, desc, &isnull));
		r->committed = DatumGetTimestampTz(heap_getattr(tup, 5, desc, &isnull));
		r->rows_added = DatumGetInt64(heap_getattr(tup, 6, desc, &isnull));
		r->rows_deleted = DatumGetInt64(heap_getattr(tup, 7, desc, &isnull));
		r->bytes_written = DatumGetInt64(heap_getattr(tup, 8, desc, &isnull));
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return out;
}

/* The table's own retention (NULL: none, the setting applies). */
static Interval *
retention_option(Oid relid, Snapshot snap)
{
	Relation	cat = table_open(vltab_catalog_relid("table_retention"), AccessShareLock);
	SysScanDesc scan = scan_relid(cat, "table_retention_pkey", relid, snap);
	HeapTuple	tup = systable_getnext(scan);
	Interval   *iv = NULL;

	if (HeapTupleIsValid(tup))
	{
		bool		isnull;

		iv = palloc(sizeof(Interval));
		*iv = *DatumGetIntervalP(heap_getattr(tup, 2, RelationGetDescr(cat), &isnull));
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return iv;
}


int64
vltab_retention_seconds(Oid relid, Snapshot snap)
{
	Interval   *iv = retention_option(relid, snap);

	return iv ? lake_interval_seconds(iv) : vltab_table_retention;
}

char *
vltab_retention_text(Oid relid, Snapshot snap)
{
	Interval   *iv = retention_option(relid, snap);

	if (iv)
		return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv)));
	return psprintf("vlake.table_retention = %ds", vltab_table_retention);
}

int64
vltab_oldest_retained(Oid relid, int64 latest, Snapshot snap)
{
	TimestampTz cutoff = GetCurrentTimestamp() -
		vltab_retention_seconds(relid, snap) * USECS_PER_SEC;
	int			n;
	VltabVersionRow *rows = vltab_versions_read(relid, snap, &n);
	int64		oldest = latest;

	for (int i = 0; i < n; i++)
		if (rows[i].version <= latest && rows[i].committed > cutoff)
			oldest = Min(oldest, rows[i].version);
	return oldest;
}

/* Parse a retention value (the option's text): a non-negative interval. */
Interval *
vltab_retention_parse(const char *text)
{
	Interval   *iv = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(text),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1)));

	if (lake_interval_seconds(iv) < 0 || iv->time < 0 || iv->day < 0 || iv->month < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"retention\": \"%s\"", text),
				 errdetail("A retention is a non-negative interval, such as '7 days'.")));
	return iv;
}

/* Set (iv) or remove (NULL) rel's own retention; the caller checked rights. */
void
vltab_retention_set(Oid relid, Interval *iv)
{
	Datum		args[2];
	Oid			types[2] = {OIDOID, INTERVALOID};

	args[0] = ObjectIdGetDatum(relid);
	args[1] = iv ? IntervalPGetDatum(iv) : (Datum) 0;
	SPI_connect();
	if (iv)
		SPI_execute_with_args("INSERT INTO vlake.table_retention VALUES ($1, $2) "
							  "ON CONFLICT (relid) DO UPDATE SET retention = EXCLUDED.retention",
							  2, types, args, NULL, false, 0);
	else
		SPI_execute_with_args("DELETE FROM vlake.table_retention WHERE relid = $1",
							  1, types, args, NULL, false, 0);
	SPI_finish();
	CommandCounterIncrement();
}

/* ----------------------------------------------------------- expiration -- */

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * Remove the manifests of relid's expired versions, then the delete vectors
 * only expired versions name (see the header).  dry_run: remove nothing.
 * removed (if not NULL) gets the URIs.  Returns how many objects.
 */
int64
vltab_retention_expire(Oid relid, const char *root, bool dry_run, List **removed,
					   int64 *nmanifests, int64 *ndeletes)
{
	Snapshot	snap = GetLatestSnapshot();
	VltabDataset *ds = vltab_dataset_get(relid, snap);
	ObjStore   *store;
	List	   *keys;
	List	   *gone_manifests = NIL;
	List	   *gone_deletes = NIL;
	List	   *candidates = NIL;
	int64		oldest;
	ListCell   *lc;

	*nmanifests = *ndeletes = 0;
	if (ds == NULL || ds->version == 0 || strcmp(ds->root, root) != 0)
		return 0;
	oldest = vltab_oldest_retained(relid, ds->version, snap);
	store = objstore_open(ds->root);

	keys = objstore_list(store, MANIFEST_DIR);
	foreach(lc, keys)
	{
		ObjListEntry *e = lfirst(lc);
		int64		v;

		if (manifest_parse_key(e->key, &v) && v < oldest)
			gone_manifests = lappend(gone_manifests, pstrdup(e->key));
	}

	keys = objstore_list(store, "deletes/");
	foreach(lc, keys)
	{
		ObjListEntry *e = lfirst(lc);
		long long	seg,
					v;

		if (sscanf(e->key, "deletes/%lld-v%lld-", &seg, &v) == 2 && v < oldest)
			candidates = lappend(candidates, pstrdup(e->key));
	}
	if (candidates != NIL)
	{
		List	   *named = vltab_publish_delete_paths(relid, snap);
		char		key[MANIFEST_KEY_LEN];
		ObjStat		st;
		bool		known = true;

		/* the oldest retained version's vectors (when it is not the latest,
		 * whose vectors the catalog lists) */
		manifest_key(oldest, key);
		if (oldest < ds->version)
		{
			if (objstore_head(store, key, &st))
			{
				uint64		len;
				char	   *buf = objstore_get(store, key, &len);
				Manifest   *m = manifest_decode(buf, len, objstore_uri(store, key));

				for (int s = 0; s < m->nsegments; s++)
					if (m->segments[s].deletes)
						named = lappend(named, m->segments[s].deletes->path);
			}
			else
				known = false;	/* unpublished: keep every vector this pass */
		}
		foreach(lc, candidates)
		{
			char	   *k = lfirst(lc);
			bool		keep = !known;
			ListCell   *lc2;

			foreach(lc2, named)
				keep |= strcmp((char *) lfirst(lc2), k) == 0;
			if (!keep)
				gone_deletes = lappend(gone_deletes, k);
		}
	}

	/* manifests first: no published version may name a removed vector */
	{
		int			n = list_length(gone_manifests);
		int64	   *vs = palloc(sizeof(int64) * Max(n, 1));
		int			i = 0;

		foreach(lc, gone_manifests)
			(void) manifest_parse_key(lfirst(lc), &vs[i++]);
		qsort(vs, n, sizeof(int64), int64_cmp);
		gone_manifests = NIL;
		for (i = 0; i < n; i++)
		{
			char	   *key = palloc(MANIFEST_KEY_LEN);

			manifest_key(vs[i], key);
			gone_manifests = lappend(gone_manifests, key);
		}
	}
	foreach(lc, list_concat(list_copy(gone_manifests), gone_deletes))
	{
		if (removed)
			*removed = lappend(*removed, objstore_uri(store, lfirst(lc)));
	}
	if (!dry_run)
	{
		if (gone_manifests != NIL)
			objstore_delete_many(store, gone_manifests);
		if (gone_deletes != NIL)
			objstore_delete_many(store, gone_deletes);
	}
	*nmanifests = list_length(gone_manifests);
	*ndeletes = list_length(gone_deletes);
	objstore_close(store);
	return *nmanifests + *ndeletes;
}

/* ------------------------------------------------------------------ SQL -- */

PG_FUNCTION_INFO_V1(vlake_set_retention);
Datum
vlake_set_retention(PG_FUNCTION_ARGS)
{
	Relation	rel;
	Interval   *iv = NULL;

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	rel = vltab_open_checked(PG_GETARG_OID(0), 0, ShareUpdateExclusiveLock);
	if (!PG_ARGISNULL(1))
	{
		char	   *text = DatumGetCString(DirectFunctionCall1(interval_out,
															  PG_GETARG_DATUM(1)));

		iv = vltab_retention_parse(text);
	}
	vltab_retention_set(RelationGetRelid(rel), iv);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/* The models in force at a version, as jsonb [{column, model, version}]. */
static Datum
models_jsonb(Relation rel, int64 version, Snapshot snap)
{
	int			n;
	VltabModel *m = vltab_column_models(RelationGetRelid(rel), version, snap, &n);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < n; i++)
	{
		char	   *col = get_attname(RelationGetRelid(rel), m[i].attnum, true);

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"column\": ");
		if (col)
			escape_json(&buf, col);
		else
			appendStringInfoString(&buf, "null");
		appendStringInfo(&buf, ", \"field_id\": %d, \"model\": ", m[i].attnum);
		escape_json(&buf, m[i].model);
		appendStringInfoString(&buf, ", \"model_version\": ");
		escape_json(&buf, m[i].model_version);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

PG_FUNCTION_INFO_V1(vlake_table_versions);
Datum
vlake_table_versions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel = vltab_open_checked(PG_GETARG_OID(0), ACL_SELECT, AccessShareLock);
	Snapshot	snap = GetActiveSnapshot();
	VltabDataset *ds = vltab_dataset_get(RelationGetRelid(rel), snap);
	int			n;
	VltabVersionRow *rows;
	int64		oldest;
	int64	   *published = NULL;
	int			npublished = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (ds == NULL || ds->version == 0)
	{
		table_close(rel, AccessShareLock);
		return (Datum) 0;
	}
	rows = vltab_versions_read(RelationGetRelid(rel), snap, &n);
	oldest = vltab_oldest_retained(RelationGetRelid(rel), ds->version, snap);
	/* one listing of _manifest/ */
	{
		ObjStore   *store = objstore_open(ds->root);
		List	   *keys = objstore_list(store, MANIFEST_DIR);
		ListCell   *lc;

		published = palloc(sizeof(int64) * Max(list_length(keys), 1));
		foreach(lc, keys)
		{
			ObjListEntry *e = lfirst(lc);
			int64		v;

			if (manifest_parse_key(e->key, &v))
				published[npublished++] = v;
		}
		qsort(published, npublished, sizeof(int64), int64_cmp);
		objstore_close(store);
	}
	for (int i = 0; i < n; i++)
	{
		VltabVersionRow *r = &rows[i];
		Datum		values[11];
		bool		nulls[11] = {0};

		CHECK_FOR_INTERRUPTS();
		if (r->version > ds->version)
			continue;
		values[0] = Int64GetDatum(r->version);
		values[1] = Int64GetDatum(r->version > 1 ? r->version - 1 : 0);
		nulls[1] = r->version <= 1;
		values[2] = CStringGetTextDatum(r->operation);
		values[3] = Int64GetDatum(r->rows_added);
		values[4] = Int64GetDatum(r->rows_deleted);
		values[5] = Int64GetDatum(r->bytes_written);
		/* as the manifest's lineage names it */
		values[6] = CStringGetTextDatum(psprintf("vlake %s (database %u, role %s)",
												 VLAKE_VERSION_STR, MyDatabaseId, r->writer));
		values[7] = TimestampTzGetDatum(r->committed);
		values[8] = models_jsonb(rel, r->version, snap);
		values[9] = BoolGetDatum(bsearch(&r->version, published, npublished, sizeof(int64),
										 int64_cmp) != NULL);
		values[10] = BoolGetDatum(r->version >= oldest);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}
