/*
 * vltab_index.c — the lake parts of the indexes of vlake tables
 * (vltab_index.h): the catalog table vlake.table_indexes, and the
 * "indexes" array of the manifest built from it.
 *
 * Rules this file keeps:
 *  - A row changes only with a lake version of its table: recording or
 *    clearing a part takes the dataset lock and notes a version (lineage
 *    "index") in the same transaction; a drop of the index (or of the
 *    table's lake contents) removes the row and the commit takes the
 *    version (vltab_publish_note_index, or the truncate version of
 *    vltab_catalog_forget).  So every manifest a reader can see lists the
 *    part the catalog named at its version, and the part stays named by
 *    the catalog (and kept by GC, vltab_index_prefixes) until a later
 *    version stops listing it.
 *  - The manifest entry is a function of the catalog as the building
 *    snapshot sees it: the row, the index's name in pg_class and the
 *    dataset root, nothing read from the index itself, so a repair
 *    rebuilds the same bytes.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "manifest/manifest.h"
#include "tableam/vltab.h"
#include "tableam/vltab_index.h"

enum
{
	TI_RELID = 1, TI_INDEXRELID, TI_TYPE, TI_ATTNUM, TI_PARAM_NAMES, TI_PARAM_VALUES,
	TI_DATA_VERSION, TI_FIRST_ROW_ID, TI_END_ROW_ID, TI_LOCATION, TI_PREFIX,
	TI_NATTS = TI_PREFIX
};

/* During CREATE EXTENSION, DROP EXTENSION, or before the catalog exists. */
static bool
catalog_present(void)
{
	Oid			nsp = get_namespace_oid("vlake", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("table_indexes", nsp));
}

static SysScanDesc
scan_rows(Relation cat, Oid relid, Oid indexrelid, Snapshot snap)
{
	ScanKeyData keys[2];

	ScanKeyInit(&keys[0], TI_RELID, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], TI_INDEXRELID, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(indexrelid));
	return systable_beginscan(cat, vltab_catalog_relid("table_indexes_pkey"), true, snap,
							  OidIsValid(indexrelid) ? 2 : 1, keys);
}

static char *
att_text(HeapTuple tup, Relation cat, int attno)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attno, RelationGetDescr(cat), &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static int64
att_int64(HeapTuple tup, Relation cat, int attno)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attno, RelationGetDescr(cat), &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/* Delete the rows of (relid, indexrelid) (every index of relid when
 * indexrelid is invalid); returns how many. */
static int
delete_rows(Oid relid, Oid indexrelid)
{
	Relation	cat = table_open(vltab_catalog_relid("table_indexes"), RowExclusiveLock);
	SysScanDesc scan;
	HeapTuple	tup;
	int			n = 0;

	CommandCounterIncrement();
	scan = scan_rows(cat, relid, indexrelid, GetLatestSnapshot());
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		CatalogTupleDelete(cat, &tup->t_self);
		n++;
	}
	systable_endscan(scan);
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
	return n;
}

/* ------------------------------------------------------------ contract -- */

bool
vltab_index_table_is_vlake(Relation heap)
{
	return heap != NULL && vltab_is_vlake(heap);
}

char *
vltab_index_default_location(Relation heap)
{
	VltabDataset *ds;

	if (!vltab_index_table_is_vlake(heap))
		return NULL;
	ds = vltab_dataset_get(RelationGetRelid(heap), GetLatestSnapshot());

	/*
	 * No dataset yet: indexes built inside CREATE TABLE (LIKE ... INCLUDING
	 * INDEXES) or ALTER TABLE ... SET ACCESS METHOD vlake, before the
	 * utility hook creates it with the statement's location.  Creating it
	 * here would lose that location: the caller uses the default location.
	 */
	return ds ? ds->root : NULL;
}

int64
vltab_index_next_row_id(Relation heap)
{
	VltabDataset *ds;

	if (!vltab_index_table_is_vlake(heap))
		return 0;
	ds = vltab_dataset_get(RelationGetRelid(heap), GetLatestSnapshot());
	return ds ? ds->next_row_id : 0;
}

int64
vltab_index_part_end(Relation heap, Oid indexrelid)
{
	Relation	cat;
	SysScanDesc scan;
	HeapTuple	tup;
	int64		end = 0;

	if (!vltab_index_table_is_vlake(heap) || !catalog_present())
		return 0;
	cat = table_open(vltab_catalog_relid("table_indexes"), AccessShareLock);
	scan = scan_rows(cat, RelationGetRelid(heap), indexrelid, GetLatestSnapshot());
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		end = att_int64(tup, cat, TI_END_ROW_ID);
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return end;
}

static Datum
text_array(const char *const *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

void
vltab_index_part_set(Relation heap, Relation index, const VltabIndexPart *part)
{
	VltabDataset *ds;
	Relation	cat;
	Datum		values[TI_NATTS];
	bool		nulls[TI_NATTS] = {0};
	int64		end;

	if (!vltab_index_table_is_vlake(heap))
		return;
	if (part->nparams < 0 || part->nparams > VLTAB_INDEX_MAX_PARAMS ||
		part->type == NULL || part->location == NULL || part->prefix == NULL ||
		part->prefix[0] == '\0' || part->attnum <= 0)
		elog(ERROR, "invalid lake part of index \"%s\"", RelationGetRelationName(index));

	ds = vltab_dataset_lock(heap);
	vltab_version_note(ds, "index", 0, 0, Max(part->bytes, 0));
	/* next_row_id never decreases: a promise made earlier still holds */
	end = Max(0, Min(part->end_row_id, ds->next_row_id));

	(void) delete_rows(RelationGetRelid(heap), RelationGetRelid(index));
	values[TI_RELID - 1] = ObjectIdGetDatum(RelationGetRelid(heap));
	values[TI_INDEXRELID - 1] = ObjectIdGetDatum(RelationGetRelid(index));
	values[TI_TYPE - 1] = CStringGetTextDatum(part->type);
	values[TI_ATTNUM - 1] = Int16GetDatum(part->attnum);
	values[TI_PARAM_NAMES - 1] = text_array(part->param_names, part->nparams);
	values[TI_PARAM_VALUES - 1] = text_array(part->param_values, part->nparams);
	values[TI_DATA_VERSION - 1] = Int64GetDatum(ds->version);
	values[TI_FIRST_ROW_ID - 1] = Int64GetDatum(0);
	values[TI_END_ROW_ID - 1] = Int64GetDatum(end);
	values[TI_LOCATION - 1] = CStringGetTextDatum(part->location);
	values[TI_PREFIX - 1] = CStringGetTextDatum(part->prefix);
	cat = table_open(vltab_catalog_relid("table_indexes"), RowExclusiveLock);
	CatalogTupleInsert(cat, heap_form_tuple(RelationGetDescr(cat), values, nulls));
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

void
vltab_index_part_clear(Relation heap, Relation index)
{
	if (!vltab_index_table_is_vlake(heap) || !catalog_present())
		return;
	if (delete_rows(RelationGetRelid(heap), RelationGetRelid(index)) > 0)
	{
		VltabDataset *ds = vltab_dataset_lock(heap);

		vltab_version_note(ds, "index", 0, 0, 0);
	}
}

List *
vltab_index_prefixes(void)
{
	Relation	cat;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *out = NIL;

	if (!catalog_present())
		return NIL;
	cat = table_open(vltab_catalog_relid("table_indexes"), AccessShareLock);
	scan = systable_beginscan(cat, InvalidOid, false, GetLatestSnapshot(), 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		out = lappend(out, att_text(tup, cat, TI_PREFIX));
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return out;
}

/* ------------------------------------------------- for the table AM -- */

/*
 * DROP INDEX (the object access hook): the index's row goes, and the
 * commit gives its table a version without it.  Any index: only vlake
 * indexes of vlake tables have a row.
 */
void
vltab_index_dropped(Oid indexrelid)
{
	Relation	cat;
	SysScanDesc scan;
	HeapTuple	tup;
	ScanKeyData key;
	List	   *tables = NIL;
	ListCell   *lc;

	if (!catalog_present())
		return;
	cat = table_open(vltab_catalog_relid("table_indexes"), RowExclusiveLock);
	ScanKeyInit(&key, TI_INDEXRELID, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(indexrelid));
	CommandCounterIncrement();
	scan = systable_beginscan(cat, InvalidOid, false, GetLatestSnapshot(), 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;

		tables = lappend_oid(tables, DatumGetObjectId(heap_getattr(tup, TI_RELID,
																   RelationGetDescr(cat),
																   &isnull)));
		CatalogTupleDelete(cat, &tup->t_self);
	}
	systable_endscan(scan);
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
	foreach(lc, tables)
		vltab_publish_note_index(lfirst_oid(lc));
}

/* TRUNCATE, SET ACCESS METHOD heap, DROP TABLE: every row of relid goes. */
int
vltab_index_forget(Oid relid)
{
	if (!catalog_present())
		return 0;
	return delete_rows(relid, InvalidOid);
}

/* relname of relid as snap sees pg_class (NULL: no such relation). */
static char *
relname_as_of(Oid relid, Snapshot snap)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *name = NULL;

	ScanKeyInit(&key, Anum_pg_class_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, ClassOidIndexId, true, snap, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		name = pstrdup(NameStr(((Form_pg_class) GETSTRUCT(tup))->relname));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return name;
}

/*
 * The manifest's location of a part: relative to the dataset root when the
 * part lies under it, else the absolute URI; NULL when neither form is
 * valid in a manifest (docs/manifest.md, "Paths").
 */
static char *
manifest_location(const char *root, const char *location, const char *prefix)
{
	size_t		llen = strlen(location);
	char	   *full = psprintf("%s%s%s/", location,
								(llen > 0 && location[llen - 1] == '/') ? "" : "/", prefix);
	size_t		rlen = strlen(root);

	if (strlen(full) > MANIFEST_MAX_PATH)
		return NULL;
	if (rlen > 0 && strncmp(full, root, rlen) == 0 && full[rlen] != '\0')
	{
		char	   *rel = full + rlen;

		if (rel[0] != '/' && strstr(rel, "//") == NULL &&
			strncmp(rel, MANIFEST_DIR, strlen(MANIFEST_DIR)) != 0 &&
			strstr(rel, "/./") == NULL && strstr(rel, "/../") == NULL &&
			strncmp(rel, "./", 2) != 0 && strncmp(rel, "../", 3) != 0)
			return rel;
	}
	if (strncmp(full, "s3://", 5) == 0 || strncmp(full, "file:///", 8) == 0)
		return full;
	return NULL;
}

static int
index_name_cmp(const void *a, const void *b)
{
	return strcmp(((const ManifestIndex *) a)->name, ((const ManifestIndex *) b)->name);
}

/*
 * The "indexes" array of version `version` of rel's manifest, from the
 * catalog as snap sees it.  in_schema[attnum] (attnum <= natts): the field
 * is in the manifest's schema; an index on another column is left out, as
 * is a row the manifest could not hold (see manifest_location).
 */
ManifestIndex *
vltab_index_manifest(Relation rel, const char *root, int64 version, int64 next_row_id,
					 Snapshot snap, const bool *in_schema, int *n)
{
	Relation	cat;
	SysScanDesc scan;
	HeapTuple	tup;
	ManifestIndex *out = NULL;
	int			cap = 0;
	int			natts = RelationGetDescr(rel)->natts;

	*n = 0;
	if (!catalog_present())
		return NULL;
	cat = table_open(vltab_catalog_relid("table_indexes"), AccessShareLock);
	scan = scan_rows(cat, RelationGetRelid(rel), InvalidOid, snap);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(cat);
		bool		isnull;
		Oid			indexrelid = DatumGetObjectId(heap_getattr(tup, TI_INDEXRELID, desc, &isnull));
		int			attnum = DatumGetInt16(heap_getattr(tup, TI_ATTNUM, desc, &isnull));
		int64		data_version = att_int64(tup, cat, TI_DATA_VERSION);
		char	   *name;
		char	   *location;
		Datum	   *names,
				   *vals;
		bool	   *nn,
				   *vn;
		int			nnames,
					nvals;
		ManifestIndex *x;

		CHECK_FOR_INTERRUPTS();
		if (attnum < 1 || attnum > natts || !in_schema[attnum] ||
			data_version < 1 || data_version > version)
			continue;
		name = relname_as_of(indexrelid, snap);
		if (name == NULL || strlen(name) > MANIFEST_MAX_NAME)
			continue;
		location = manifest_location(root, att_text(tup, cat, TI_LOCATION),
									 att_text(tup, cat, TI_PREFIX));
		if (location == NULL)
			continue;
		deconstruct_array(DatumGetArrayTypeP(heap_getattr(tup, TI_PARAM_NAMES, desc, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &names, &nn, &nnames);
		deconstruct_array(DatumGetArrayTypeP(heap_getattr(tup, TI_PARAM_VALUES, desc, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &vals, &vn, &nvals);
		if (nnames != nvals || nnames > MANIFEST_MAX_PARAMS)
			continue;
		if (*n == cap)
		{
			cap = Max(4, cap * 2);
			out = out ? repalloc(out, sizeof(ManifestIndex) * cap) :
				palloc(sizeof(ManifestIndex) * cap);
		}
		x = &out[(*n)++];
		memset(x, 0, sizeof(*x));
		x->name = name;
		x->type = att_text(tup, cat, TI_TYPE);
		x->field_id = attnum;
		x->params = palloc0(sizeof(ManifestKV) * Max(nnames, 1));
		for (int i = 0; i < nnames; i++)
		{
			if (nn[i] || vn[i])
				continue;
			x->params[x->nparams].key = TextDatumGetCString(names[i]);
			x->params[x->nparams].value = TextDatumGetCString(vals[i]);
			x->nparams++;
		}
		x->data_version = data_version;
		x->end_row_id = Max(0, Min(att_int64(tup, cat, TI_END_ROW_ID), next_row_id));
		x->first_row_id = Max(0, Min(att_int64(tup, cat, TI_FIRST_ROW_ID), x->end_row_id));
		x->location = location;
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	if (*n > 1)
		qsort(out, *n, sizeof(ManifestIndex), index_name_cmp);
	return out;
}
