/*
 * vltab_refresh.c — versions that other engines commit to a vlake table's
 * manifest chain (docs/manifest.md, "Commits by other engines"; docs/tables.md,
 * "Adopting other engines' versions").
 *
 * Another engine commits version N+1 of a vlake table's dataset by the
 * manifest protocol: it writes its files, then "_manifest/<N+1>.json" with a
 * put-if-absent.  vlake.table_refresh() (and the publication task of the
 * database workers) adopt such versions: under the dataset lock, each
 * manifest after the catalog's latest version is decoded, checked as a
 * successor of its parent that vlake can record (new segments, ColumnGroups
 * of new fields or new values of fields on existing segments, grown delete
 * vectors; nothing removed or rewritten), its new files are checked (size, ETag) and read
 * through the segment reader, and the difference is applied to the catalog:
 * ALTER TABLE ADD COLUMN for each new field (its attnum is its field id),
 * vlake.segments / vlake.files rows, row_states 'd' rows and the segment's
 * delete_files row for deletions, index entries for the new rows, and a
 * vlake.versions row with the other engine's lineage (vlake.foreign_versions
 * keeps its writer verbatim).  Nothing is published: the lake already has
 * those documents.
 *
 * A race vlake lost: its catalog committed version V and its put of
 * "_manifest/<V>.json" found another engine's document.  The refresh then
 * renumbers vlake's V to the version after the other engine's (catalog rows
 * of version V: versions, segments, delete_files, column_models,
 * table_indexes, retired_files), adopts the other engine's versions below it, and the
 * commit publishes the renumbered version, built from the catalog, so it
 * includes both.  When both appended rows at the same row IDs, vlake's rows
 * keep theirs and the other engine's new segment takes the next free ones
 * (its files are positional; the manifest's range is authoritative); both
 * deleting rows of one segment gives the union.  Changes that cannot both
 * hold (both patched one column of a segment, a segment vlake's version
 * removed) are refused with an ERROR; nothing is renumbered then.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lake/lake_delvec.h"
#include "lake/lake_fault.h"
#include "lake/lake_rowref.h"
#include "manifest/manifest.h"
#include "objref/objref.h"
#include "objstore/objstore.h"
#include "tableam/vltab.h"
#include "vector/vector.h"

/* ------------------------------------------------------------ catalog -- */

static SysScanDesc
scan_relid(Relation cat, const char *index, Oid relid, int nkeys2, ScanKey key2)
{
	ScanKeyData keys[2];

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	if (nkeys2 > 0)
		keys[1] = *key2;
	return systable_beginscan(cat, vltab_catalog_relid(index), true, GetLatestSnapshot(),
							  1 + nkeys2, keys);
}

bool
vltab_refresh_adopted(Oid relid, int64 version)
{
	Oid			nsp = get_namespace_oid("vlake", true);
	Relation	cat;
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("foreign_versions", nsp)))
		return false;
	cat = table_open(vltab_catalog_relid("foreign_versions"), AccessShareLock);
	ScanKeyInit(&key, 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(version));
	scan = scan_relid(cat, "foreign_versions_pkey", relid, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return found;
}

/* In catalog `table`, rows of relid whose int8 column attno is `from` get `to`. */
static void
renumber(const char *table, const char *index, Oid relid, int attno, int64 from, int64 to)
{
	Relation	cat = table_open(vltab_catalog_relid(table), RowExclusiveLock);
	SysScanDesc scan = scan_relid(cat, index, relid, 0, NULL);
	TupleDesc	desc = RelationGetDescr(cat);
	HeapTuple	tup;
	List	   *hits = NIL;
	ListCell   *lc;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, attno, desc, &isnull);

		if (!isnull && DatumGetInt64(d) == from)
			hits = lappend(hits, heap_copytuple(tup));
	}
	systable_endscan(scan);
	foreach(lc, hits)
	{
		HeapTuple	old = lfirst(lc);
		Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
		bool	   *nulls = palloc0(sizeof(bool) * desc->natts);
		bool	   *repl = palloc0(sizeof(bool) * desc->natts);

		values[attno - 1] = Int64GetDatum(to);
		repl[attno - 1] = true;
		CatalogTupleUpdate(cat, &old->t_self, heap_modify_tuple(old, desc, values, nulls, repl));
	}
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

/* A catalog row of n leading columns; any later column is null (catalog
 * tables grow columns: a row written here must not read past n). */
static void
insert_row(const char *table, const Datum *values, const bool *nulls, int n)
{
	Relation	cat = table_open(vltab_catalog_relid(table), RowExclusiveLock);
	int			natts = RelationGetDescr(cat)->natts;
	Datum	   *v = palloc0(sizeof(Datum) * Max(natts, n));
	bool	   *isnull = palloc(sizeof(bool) * Max(natts, n));

	for (int i = 0; i < natts; i++)
	{
		v[i] = i < n ? values[i] : (Datum) 0;
		isnull[i] = i < n ? nulls[i] : true;
	}
	CatalogTupleInsert(cat, heap_form_tuple(RelationGetDescr(cat), v, isnull));
	table_close(cat, RowExclusiveLock);
}

/* vlake.versions and vlake.foreign_versions rows of an adopted version. */
static void
record_version(Oid relid, int64 version, const ManifestLineage *l, const ManifestLineage *parent)
{
	Datum		values[8];
	bool		nulls[8] = {0};
	TimestampTz ts = l->timestamp_us - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = Int64GetDatum(version);
	values[2] = CStringGetTextDatum(l->operation);
	values[3] = CStringGetTextDatum(l->writer);
	values[4] = TimestampTzGetDatum(ts);
	values[5] = Int64GetDatum(l->rows_added);
	values[6] = Int64GetDatum(l->rows_deleted);
	values[7] = Int64GetDatum(l->bytes_written);
	insert_row("versions", values, nulls, 8);
	values[2] = CStringGetTextDatum(l->writer);
	insert_row("foreign_versions", values, nulls, 3);

	/* embedding models it declares for fields (new or changed) */
	for (int i = 0; i < l->nmodels; i++)
	{
		const ManifestModel *m = &l->models[i];
		bool		same = false;

		for (int k = 0; k < parent->nmodels && !same; k++)
			same = parent->models[k].field_id == m->field_id &&
				strcmp(parent->models[k].model, m->model) == 0 &&
				strcmp(parent->models[k].model_version, m->model_version) == 0;
		if (same)
			continue;
		values[0] = ObjectIdGetDatum(relid);
		values[1] = Int16GetDatum((int16) m->field_id);
		values[2] = Int64GetDatum(version);
		values[3] = CStringGetTextDatum(m->model);
		values[4] = CStringGetTextDatum(m->model_version);
		insert_row("column_models", values, nulls, 5);
	}
	CommandCounterIncrement();
}

/* A lake row deleted by an adopted version (no version of ours: the
 * deletion is already in the lake). */
static void
record_deleted_row(Oid relid, int64 row_id)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, true};

	values[0] = ObjectIdGetDatum(relid);
	values[1] = Int64GetDatum(row_id);
	values[2] = CharGetDatum('d');
	values[3] = (Datum) 0;
	insert_row("row_states", values, nulls, 4);
}

/* ------------------------------------------------------------- the lake -- */

/* Version v of the dataset, decoded; NULL when it is not there. */
static Manifest *
lake_manifest(ObjStore *store, int64 v, char **uri)
{
	char		key[MANIFEST_KEY_LEN];
	ObjStat		st;
	char	   *buf;
	uint64		len;

	manifest_key(v, key);
	*uri = objstore_uri(store, key);
	if (!objstore_head(store, key, &st))
		return NULL;
	buf = objstore_get(store, key, &len);
	return manifest_decode(buf, len, *uri);
}

/* A file a version names exists with its size (and ETag when both have one). */
static void
check_file(ObjStore *store, const char *path, int64 size, const char *etag, const char *uri)
{
	ObjStat		st;

	if (!objstore_head(store, path, &st))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("cannot adopt vlake manifest \"%s\": file \"%s\" does not exist",
						uri, objstore_uri(store, path)),
				 errdetail("A version names only files written completely before it was committed.")));
	if ((int64) st.size != size || (etag[0] && st.etag[0] && strcmp(etag, st.etag) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("cannot adopt vlake manifest \"%s\": file \"%s\" has %llu bytes (ETag %s), the manifest says " INT64_FORMAT " (ETag %s)",
						uri, objstore_uri(store, path), (unsigned long long) st.size,
						st.etag[0] ? st.etag : "none", size, etag[0] ? etag : "none")));
}

/* ------------------------------------------------------------ checking -- */

#define REFUSE(uri, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), \
			 errmsg("cannot adopt vlake manifest \"%s\"", uri), \
			 errdetail(__VA_ARGS__), \
			 errhint("vlake adopts versions that add segments, add ColumnGroups (of new nullable fields, or new values of fields) to existing segments and grow delete vectors (docs/manifest.md, \"Commits by other engines\").")))

static bool
groups_equal(const ManifestGroup *a, const ManifestGroup *b)
{
	if (strcmp(a->path, b->path) != 0 || a->layout != b->layout || a->size != b->size ||
		strcmp(a->etag, b->etag) != 0 || a->row_count != b->row_count ||
		a->nfield_ids != b->nfield_ids)
		return false;
	for (int i = 0; i < a->nfield_ids; i++)
		if (a->field_ids[i] != b->field_ids[i])
			return false;
	/* an object list belongs to its group: kept as it is, never added later */
	if ((a->objects == NULL) != (b->objects == NULL))
		return false;
	return a->objects == NULL ||
		(strcmp(a->objects->path, b->objects->path) == 0 &&
		 a->objects->size == b->objects->size && a->objects->count == b->objects->count &&
		 strcmp(a->objects->etag, b->objects->etag) == 0);
}

static bool
deletes_equal(const ManifestDeletes *a, const ManifestDeletes *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a->path, b->path) == 0 && a->size == b->size &&
		a->cardinality == b->cardinality && strcmp(a->etag, b->etag) == 0;
}

static const char *
kv_find(const ManifestKV *kv, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

static bool
kvs_equal(const ManifestKV *a, int na, const ManifestKV *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
	{
		const char *v = kv_find(b, nb, a[i].key);

		if (v == NULL || strcmp(v, a[i].value) != 0)
			return false;
	}
	return true;
}

static const ManifestField *
field_find(const Manifest *m, int32 id)
{
	for (int i = 0; i < m->nfields; i++)
		if (m->fields[i].id == id)
			return &m->fields[i];
	return NULL;
}

/* The Postgres type of a new field (docs/tables.md "What a version holds",
 * in reverse). */
static char *
pg_type_of(const ManifestField *f)
{
	switch (f->type)
	{
		case MANIFEST_T_BOOLEAN:
			return "boolean";
		case MANIFEST_T_INT16:
			return "smallint";
		case MANIFEST_T_INT32:
			return "integer";
		case MANIFEST_T_INT64:
			return "bigint";
		case MANIFEST_T_FLOAT32:
			return "real";
		case MANIFEST_T_FLOAT64:
			return "double precision";
		case MANIFEST_T_DECIMAL:
			return psprintf("numeric(%d,%d)", f->precision, f->scale);
		case MANIFEST_T_STRING:
			return "text";
		case MANIFEST_T_BINARY:
			return "bytea";
		case MANIFEST_T_JSON:
			return "jsonb";
		case MANIFEST_T_UUID:
			return "uuid";
		case MANIFEST_T_DATE:
			return "date";
		case MANIFEST_T_TIMESTAMP:
			return "timestamp";
		case MANIFEST_T_TIMESTAMPTZ:
			return "timestamptz";
		case MANIFEST_T_OBJECT_REF:
			return OidIsValid(objref_type_oid()) ? format_type_be_qualified(objref_type_oid()) : NULL;
		case MANIFEST_T_VECTOR:
			{
				Oid			t = f->element == MANIFEST_E_FLOAT16 ? halfvec_type_oid() : vector_type_oid();

				if (!OidIsValid(t))
					return NULL;
				return psprintf("%s(%d)", format_type_be_qualified(t), f->dim);
			}
	}
	return NULL;
}

/* ------------------------------------------------------------ applying -- */

/*
 * Read every row of the given files of a segment (the adopted ones): vlake
 * reads what it adopts, or refuses it now rather than at a query.
 */
static void
read_segment(Relation rel, const char *root, int64 first_row_id, int64 row_count,
			 VltabSegmentFile *files, int nfiles, Bitmapset *attrs, const char *uri)
{
	TupleDesc	desc = RelationGetDescr(rel);
	VltabSegmentReader *r = vltab_segment_open(root, desc, first_row_id, row_count, files, nfiles);
	VltabSegmentScan *s = vltab_segment_scan_begin(r, attrs);
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *isnull = palloc(sizeof(bool) * desc->natts);
	int64		row_id,
				n = 0;

	while (vltab_segment_scan_next(s, &row_id, values, isnull))
	{
		CHECK_FOR_INTERRUPTS();
		if (row_id != first_row_id + n)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("cannot adopt vlake manifest \"%s\": the files of its segment at row ID " INT64_FORMAT " are out of order",
							uri, first_row_id)));
		n++;
	}
	vltab_segment_scan_end(s);
	vltab_segment_close(r);
	if (n != row_count)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("cannot adopt vlake manifest \"%s\": the segment at row ID " INT64_FORMAT " has " INT64_FORMAT " rows in its files, " INT64_FORMAT " in the manifest",
						uri, first_row_id, n, row_count)));
}

/* ALTER TABLE ... ADD COLUMN of a new field; its attnum must be its id. */
static void
add_column(Relation *relp, const ManifestField *f, const char *uri)
{
	Relation	rel = *relp;
	Oid			relid = RelationGetRelid(rel);
	char	   *type = pg_type_of(f);
	char	   *sql;

	if (type == NULL)
		REFUSE(uri, "Field %d (\"%s\") has a type this database has no Postgres type for.",
			   f->id, f->name);
	sql = psprintf("ALTER TABLE %s ADD COLUMN %s %s",
				   quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											  RelationGetRelationName(rel)),
				   quote_identifier(f->name), type);
	/* ALTER TABLE refuses a table this session has open: close it (the
	 * lock stays) and open it again, with its new column */
	relation_close(rel, NoLock);
	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run \"%s\"", sql);
	SPI_finish();
	CommandCounterIncrement();
	*relp = rel = relation_open(relid, NoLock);
	if (get_attnum(RelationGetRelid(rel), f->name) != f->id)
		REFUSE(uri, "Field %d (\"%s\") became column number %d of \"%s\": a field id must be the next attnum of the table.",
			   f->id, f->name, get_attnum(RelationGetRelid(rel), f->name),
			   RelationGetRelationName(rel));
}

/* Does catalog segment vs hold the file at path (relative to the root)? */
static bool
segment_holds(const VltabSegment *vs, const char *path)
{
	for (int f = 0; f < vs->nfiles; f++)
		if (strcmp(vs->files[f].path, path) == 0)
			return true;
	return false;
}

/*
 * The catalog segment of segment a of an adopted parent.  Usually the one
 * of the same id and range; but a segment of another engine that a refresh
 * gave other row IDs (and maybe another id: vlake had taken them for its
 * own rows in a race it lost) is found by its files, which keep their
 * paths.  A segment whose files a compaction rewrote keeps id and range.
 */
static VltabSegment *
cat_segment_of(VltabSegmentList *cat, const ManifestSegment *a)
{
	VltabSegment *same = NULL;

	for (int s = 0; s < cat->nsegments && same == NULL; s++)
		if (cat->segments[s].segment_id == a->id &&
			cat->segments[s].first_row_id == a->first_row_id &&
			cat->segments[s].row_count == a->row_count)
			same = &cat->segments[s];
	if (a->ngroups == 0 || (same != NULL && segment_holds(same, a->groups[0].path)))
		return same;
	for (int s = 0; s < cat->nsegments; s++)
		if (cat->segments[s].row_count == a->row_count &&
			segment_holds(&cat->segments[s], a->groups[0].path))
			return &cat->segments[s];
	return same;
}

/*
 * Before new ColumnGroups of segment vs (the parent's a) holding the columns
 * attrs are recorded:
 *  - vlake's version of a race it lost must not have patched one of them in
 *    this segment (its files not in the parent): both replaced the same
 *    values, which cannot both hold;
 *  - rows of the segment whose update waits in the delta keep their values:
 *    the other engine wrote the lake row, which the update had already
 *    ended, so the columns are added to the update's changed columns and a
 *    flush that folds it back writes them from the new version (not from
 *    the other engine's file, which would change a visible value).
 */
static void
check_patch(Relation rel, const VltabSegment *vs, const ManifestSegment *a, Bitmapset *attrs,
			VltabRowUpdate *upd, int nupd, const char *uri)
{
	for (int f = 0; f < vs->nfiles; f++)
	{
		bool		parents = false;

		for (int g = 0; g < a->ngroups && !parents; g++)
			parents = strcmp(a->groups[g].path, vs->files[f].path) == 0;
		if (parents)
			continue;
		for (int x = 0; x < vs->files[f].natts; x++)
			if (bms_is_member(vs->files[f].attnums[x], attrs))
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("cannot adopt vlake manifest \"%s\": table \"%s\" changed column \"%s\" of segment " INT64_FORMAT " too",
								uri, RelationGetRelationName(rel),
								get_attname(RelationGetRelid(rel), vs->files[f].attnums[x], false),
								vs->segment_id),
						 errdetail("Both wrote new values of the column in the segment since the other engine's parent version.")));
	}
	for (int i = 0; i < nupd; i++)
		if (upd[i].row_id >= vs->first_row_id && upd[i].row_id < vs->end_row_id &&
			!bms_is_subset(attrs, upd[i].attrs))
			vltab_rowstate_set_new_tid(rel, upd[i].row_id, &upd[i].new_tid,
									   bms_union(upd[i].attrs, attrs));
}

/*
 * Apply the difference between version P (the parent, as published) and C
 * (another engine's version `version`) to the catalog of rel.
 */
static void
adopt_one(Relation *relp, VltabDataset *ds, ObjStore *store, const Manifest *P,
		  const Manifest *C, int64 version, const char *uri, bool *new_rows)
{
	Relation	rel = *relp;
	Oid			relid = RelationGetRelid(rel);
	VltabSegmentList *cat;
	int			nnew = 0;
	const ManifestField **newf = palloc(sizeof(ManifestField *) * Max(C->nfields, 1));
	int			ci;
	int64		max_segment_id = 0;
	int64		next_row = ds->next_row_id;
	int64		next_seg;
	int64	   *place_first = palloc(sizeof(int64) * Max(C->nsegments, 1));
	int64	   *place_id = palloc(sizeof(int64) * Max(C->nsegments, 1));
	VltabRowUpdate *upd = NULL;
	int			nupd = 0;

	manifest_validate_successor(P, C, uri);
	if (!kvs_equal(P->properties, P->nproperties, C->properties, C->nproperties))
		REFUSE(uri, "It changes \"properties\".");
	if (P->nindexes != C->nindexes)
		REFUSE(uri, "It changes \"indexes\".");
	for (int i = 0; i < P->nindexes; i++)
	{
		const ManifestIndex *a = &P->indexes[i],
				   *b = &C->indexes[i];

		if (strcmp(a->name, b->name) != 0 || strcmp(a->type, b->type) != 0 ||
			a->field_id != b->field_id || a->data_version != b->data_version ||
			a->first_row_id != b->first_row_id || a->end_row_id != b->end_row_id ||
			strcmp(a->location, b->location) != 0 ||
			!kvs_equal(a->params, a->nparams, b->params, b->nparams))
			REFUSE(uri, "It changes index \"%s\".", a->name);
	}

	/* schema: the parent's fields unchanged, new fields nullable, numbered
	 * as Postgres numbers the columns ADD COLUMN adds */
	for (int i = 0; i < P->nfields; i++)
	{
		const ManifestField *a = &P->fields[i],
				   *b = field_find(C, a->id);

		if (b == NULL)
			REFUSE(uri, "It drops field %d (\"%s\").", a->id, a->name);
		if (strcmp(a->name, b->name) != 0 || a->type != b->type || a->dim != b->dim ||
			a->element != b->element || a->precision != b->precision || a->scale != b->scale)
			REFUSE(uri, "It changes field %d (\"%s\").", a->id, a->name);
	}
	for (int i = 0; i < C->nfields; i++)
		if (field_find(P, C->fields[i].id) == NULL)
			newf[nnew++] = &C->fields[i];
	for (int i = 0; i < nnew; i++)
	{
		int			want = RelationGetDescr(rel)->natts + 1 + i;

		for (int k = i + 1; k < nnew; k++)
			if (newf[k]->id < newf[i]->id)
			{
				const ManifestField *t = newf[i];

				newf[i] = newf[k];
				newf[k] = t;
			}
		if (!newf[i]->nullable)
			REFUSE(uri, "New field %d (\"%s\") is not nullable.", newf[i]->id, newf[i]->name);
		if (newf[i]->id != want)
			REFUSE(uri, "New field %d (\"%s\") should have id %d: the next field ids of the table are %d and up (its columns were added or dropped since the parent was published, or ids were skipped).",
				   newf[i]->id, newf[i]->name, want, RelationGetDescr(rel)->natts + 1);
		if (get_attnum(relid, newf[i]->name) != InvalidAttrNumber)
			REFUSE(uri, "New field %d is named \"%s\", as an existing column of \"%s\".",
				   newf[i]->id, newf[i]->name, RelationGetRelationName(rel));
	}
	if (C->next_field_id != (nnew > 0 ? newf[nnew - 1]->id + 1 : P->next_field_id))
		REFUSE(uri, "Its next_field_id is %d: it must be %d (the highest new field id + 1, or the parent's).",
			   C->next_field_id, nnew > 0 ? newf[nnew - 1]->id + 1 : P->next_field_id);

	/* segments: the parent's, each kept with its groups (maybe more), then
	 * new ones; check every file before changing anything */
	cat = vltab_segments_visible(relid, GetLatestSnapshot());
	ci = 0;
	for (int i = 0; i < P->nsegments; i++)
	{
		const ManifestSegment *a = &P->segments[i];
		const ManifestSegment *b = NULL;

		while (ci < C->nsegments && C->segments[ci].first_row_id < a->first_row_id)
			ci++;
		if (ci < C->nsegments && C->segments[ci].id == a->id)
			b = &C->segments[ci];
		if (b == NULL || b->first_row_id != a->first_row_id || b->end_row_id != a->end_row_id)
			REFUSE(uri, "It removes or changes segment " INT64_FORMAT ".", a->id);
		if (b->ngroups < a->ngroups)
			REFUSE(uri, "It removes a ColumnGroup of segment " INT64_FORMAT ".", a->id);
		for (int g = 0; g < a->ngroups; g++)
			if (!groups_equal(&a->groups[g], &b->groups[g]))
				REFUSE(uri, "It changes ColumnGroup %d of segment " INT64_FORMAT " (new groups go after the existing ones).",
					   g, a->id);
		/* new groups: of fields the segment did not hold, or a column
		 * patch of fields it holds (the last group holding a field
		 * supersedes the earlier ones) */
		for (int g = a->ngroups; g < b->ngroups; g++)
		{
			check_file(store, b->groups[g].path, b->groups[g].size, b->groups[g].etag, uri);
			if (b->groups[g].objects)
				check_file(store, b->groups[g].objects->path, b->groups[g].objects->size,
						   b->groups[g].objects->etag, uri);
		}
		if (a->deletes != NULL && b->deletes == NULL)
			REFUSE(uri, "It removes the delete vector of segment " INT64_FORMAT ".", a->id);
		if (!deletes_equal(a->deletes, b->deletes))
		{
			if (a->deletes != NULL && b->deletes->cardinality < a->deletes->cardinality)
				REFUSE(uri, "The delete vector of segment " INT64_FORMAT " has fewer rows than its parent's.", a->id);
			check_file(store, b->deletes->path, b->deletes->size, b->deletes->etag, uri);
		}
	}
	for (int i = 0; i < C->nsegments; i++)
		max_segment_id = Max(max_segment_id, C->segments[i].id);
	next_seg = Max(ds->next_segment_id, max_segment_id + 1);
	for (int i = 0; i < C->nsegments; i++)
	{
		const ManifestSegment *b = &C->segments[i];
		bool		old = false;
		bool		taken = false;

		for (int k = 0; k < P->nsegments && !old; k++)
			old = P->segments[k].id == b->id;
		if (old)
			continue;
		if (b->first_row_id < P->next_row_id)
			REFUSE(uri, "New segment " INT64_FORMAT " starts at row ID " INT64_FORMAT ", below the parent's next_row_id " INT64_FORMAT ".",
				   b->id, b->first_row_id, P->next_row_id);

		/*
		 * Row IDs below the catalog's next_row_id are vlake's (its version
		 * of a race it lost appended rows there) or were given to an
		 * earlier segment: this one takes the next free ones.  vlake's rows
		 * cannot be renumbered (their row IDs are in TIDs, indexes and the
		 * catalog); a segment's files are positional and the manifest's
		 * range is authoritative, so the other engine's rows can
		 * (docs/manifest.md, "When vlake and another engine both want
		 * N+1").  Its id stays unless vlake's catalog has it.
		 */
		place_first[i] = Max(b->first_row_id, next_row);
		next_row = place_first[i] + b->row_count;
		for (int s = 0; s < cat->nsegments && !taken; s++)
			taken = cat->segments[s].segment_id == b->id;
		for (int k = 0; k < i && !taken; k++)
			taken = place_id[k] == b->id;
		place_id[i] = taken ? next_seg++ : b->id;
		for (int g = 0; g < b->ngroups; g++)
		{
			check_file(store, b->groups[g].path, b->groups[g].size, b->groups[g].etag, uri);
			if (b->groups[g].objects)
				check_file(store, b->groups[g].objects->path, b->groups[g].objects->size,
						   b->groups[g].objects->etag, uri);
		}
		if (b->deletes)
			check_file(store, b->deletes->path, b->deletes->size, b->deletes->etag, uri);
	}

	/* apply: columns first (the segment reader reads by the table's desc) */
	for (int i = 0; i < nnew; i++)
		add_column(relp, newf[i], uri);
	rel = *relp;
	cat = vltab_segments_visible(relid, GetLatestSnapshot());

	for (int i = 0; i < C->nsegments; i++)
	{
		const ManifestSegment *b = &C->segments[i];
		const ManifestSegment *a = NULL;
		VltabSegment *vs = NULL;
		int64		seg_id,
					shift;

		CHECK_FOR_INTERRUPTS();

		for (int k = 0; k < P->nsegments && a == NULL; k++)
			if (P->segments[k].id == b->id)
				a = &P->segments[k];
		if (a != NULL)
			vs = cat_segment_of(cat, a);
		if (a != NULL && vs == NULL)
			REFUSE(uri, "Segment " INT64_FORMAT " of its parent is not a segment of table \"%s\".",
				   b->id, RelationGetRelationName(rel));
		/* the catalog's id and row IDs of the segment (the lake's + shift) */
		seg_id = vs ? vs->segment_id : place_id[i];
		shift = (vs ? vs->first_row_id : place_first[i]) - b->first_row_id;
		if (a == NULL)
		{
			/* a new segment, its rows indexed */
			VltabSegment seg;

			memset(&seg, 0, sizeof(seg));
			seg.segment_id = seg_id;
			seg.first_row_id = b->first_row_id + shift;
			seg.end_row_id = b->end_row_id + shift;
			seg.row_count = b->row_count;
			seg.version = version;
			seg.nfiles = b->ngroups;
			seg.files = palloc(sizeof(VltabSegmentFile) * b->ngroups);
			for (int g = 0; g < b->ngroups; g++)
				vltab_file_from_manifest(&b->groups[g], g, &seg.files[g]);
			read_segment(rel, ds->root, seg.first_row_id, seg.row_count, seg.files, seg.nfiles,
						 vltab_all_attrs(RelationGetDescr(rel)), uri);
			*new_rows = true;
			vltab_segment_insert(ds, &seg, "foreign");
		}
		else if (b->ngroups > a->ngroups)
		{
			/* ColumnGroups after the segment's files (new fields, patches) */
			int			next = 0;
			int			n = b->ngroups - a->ngroups;
			VltabSegmentFile *files = palloc(sizeof(VltabSegmentFile) * n);
			Bitmapset  *attrs = NULL;
			Bitmapset  *held = NULL;

			for (int f = 0; f < vs->nfiles; f++)
				next = Max(next, vs->files[f].group_no + 1);
			for (int g = 0; g < a->ngroups; g++)
				for (int x = 0; x < a->groups[g].nfield_ids; x++)
					held = bms_add_member(held, a->groups[g].field_ids[x]);

			for (int g = 0; g < n; g++)
			{
				vltab_file_from_manifest(&b->groups[a->ngroups + g], next + g, &files[g]);
				for (int x = 0; x < files[g].natts; x++)
					attrs = bms_add_member(attrs, files[g].attnums[x]);
			}
			/* the table's pending updates, read once per version (each
			 * segment changes only its own rows' entries) */
			if (upd == NULL)
				upd = vltab_rowstate_updates(relid, GetLatestSnapshot(), &nupd);
			check_patch(rel, vs, a, attrs, upd, nupd, uri);
			read_segment(rel, ds->root, b->first_row_id + shift, b->row_count, files, n, attrs, uri);
			vltab_files_patch(ds, seg_id, files, n, NULL, 0);
			/* new values of indexed columns: the indexes are rebuilt */
			if (bms_overlap(attrs, held))
				*new_rows = true;
		}

		/* deletions */
		if (b->deletes != NULL && !deletes_equal(a ? a->deletes : NULL, b->deletes))
		{
			char	   *buf;
			uint64		len;
			LakeDelvec *dv;
			LakeDelvecIter *it;
			uint64		rid;
			int64		card = 0;
			Snapshot	snap;

			/*
			 * The other engine's vector names its row IDs: a segment at
			 * other row IDs in the catalog gets a vector of vlake's.  So
			 * does a segment whose rows vlake deleted too in its version of
			 * a race it lost (the catalog's deletions of the segment are not
			 * the parent's): the union of both deletions.
			 */
			bool		own_vector = shift != 0;

			if (a != NULL)
			{
				int64		nd;
				int64	   *del = vltab_rowstate_deleted(relid, GetLatestSnapshot(), &nd);
				int64		in_seg = 0;

				for (int64 k = 0; k < nd; k++)
					in_seg += del[k] >= b->first_row_id + shift && del[k] < b->end_row_id + shift;
				if (in_seg != (a->deletes ? a->deletes->cardinality : 0))
					own_vector = true;
			}
			buf = objstore_get(store, b->deletes->path, &len);
			dv = lake_delvec_deserialize(buf, len, objstore_uri(store, b->deletes->path));
			it = lake_delvec_iter_begin(dv);
			snap = RegisterSnapshot(GetLatestSnapshot());
			while (lake_delvec_iter_next(it, &rid))
			{
				CHECK_FOR_INTERRUPTS();
				if ((int64) rid < b->first_row_id || (int64) rid >= b->end_row_id)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("cannot adopt vlake manifest \"%s\": delete vector \"%s\" holds row ID " UINT64_FORMAT ", outside its segment",
									uri, b->deletes->path, rid)));
				card++;
				if (!vltab_rowstate_is_deleted(relid, (int64) rid + shift, snap, NULL))
					record_deleted_row(relid, (int64) rid + shift);
			}
			lake_delvec_iter_end(it);
			UnregisterSnapshot(snap);
			if (card != b->deletes->cardinality)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("cannot adopt vlake manifest \"%s\": delete vector \"%s\" holds " INT64_FORMAT " row IDs, the manifest says " INT64_FORMAT,
								uri, b->deletes->path, card, b->deletes->cardinality)));
			CommandCounterIncrement();
			if (own_vector)
				vltab_publish_write_delete_file(relid, store, seg_id, b->first_row_id + shift,
												b->end_row_id + shift, version);
			else
				vltab_publish_set_delete_file(relid, seg_id, version, b->deletes);
		}
	}
	record_version(relid, version, &C->lineage, &P->lineage);

	ds->next_row_id = Max(Max(ds->next_row_id, next_row), C->next_row_id);
	ds->next_segment_id = Max(next_seg, max_segment_id + 1);
	/* the datasets row becomes this transaction's: segment lists are not
	 * served from the cache of the committed row any more */
	ds->version = Max(ds->version, version);
	vltab_dataset_update(ds);
}

/* ------------------------------------------------------------- refresh -- */

int64
vltab_refresh(Oid relid)
{
	Relation	rel;
	VltabDataset *ds;
	ObjStore   *store;
	int64		base,
				lost = 0,
				k = 0;
	char	   *uri;
	Manifest   *parent;
	List	   *docs = NIL;
	List	   *uris = NIL;
	bool		new_rows = false;
	MemoryContext cxt,
				old;

	rel = relation_open(relid, AccessShareLock);
	if (vltab_publish_noted(relid))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot refresh vlake table \"%s\" in a transaction that changed its lake",
						RelationGetRelationName(rel))));
	ds = vltab_dataset_get(relid, GetLatestSnapshot());
	if (ds == NULL || ds->version == 0)
	{
		relation_close(rel, NoLock);
		return 0;
	}
	/* the next version stays free of vlake's own writers while we adopt */
	ds = vltab_dataset_lock(rel);
	store = objstore_open(ds->root);
	base = ds->version;
	if (vltab_publish_latest_lost(rel, ds, store))
	{
		lost = ds->version;
		base = lost - 1;
	}
	/* the other engines' versions after base */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake refresh", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	for (;;)
	{
		Manifest   *m = lake_manifest(store, base + k + 1, &uri);

		if (m == NULL)
			break;
		docs = lappend(docs, m);
		uris = lappend(uris, uri);
		k++;
	}
	if (k == 0)
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		objstore_close(store);
		relation_close(rel, NoLock);
		return 0;
	}
	parent = lake_manifest(store, base, &uri);
	if (parent == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("cannot adopt vlake manifest \"%s\": its parent \"%s\" is missing",
						(char *) linitial(uris), uri),
				 errhint("vlake.table_publish('%s') publishes the catalog's latest version.",
						 RelationGetRelationName(rel))));
	if (strcmp(parent->dataset_id, ds->dataset_id) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("vlake manifest \"%s\" is of dataset %s, not of table \"%s\" (%s)",
						uri, parent->dataset_id, RelationGetRelationName(rel), ds->dataset_id)));

	/* vlake's lost version goes after them (its catalog rows renumbered) */
	if (lost > 0)
	{
		int64		to = base + k + 1;

		renumber("versions", "versions_pkey", relid, 2, lost, to);
		renumber("segments", "segments_pkey", relid, 6, lost, to);
		renumber("delete_files", "delete_files_pkey", relid, 3, lost, to);
		renumber("column_models", "column_models_pkey", relid, 3, lost, to);
		renumber("table_indexes", "table_indexes_pkey", relid, 7, lost, to);
		renumber("retired_files", "retired_files_pkey", relid, 4, lost, to);
		vltab_publish_forget_known(relid);
	}
	for (int i = 0; i < k; i++)
	{
		Manifest   *m = list_nth(docs, i);

		adopt_one(&rel, ds, store, parent, m, base + i + 1, list_nth(uris, i), &new_rows);
		parent = m;
	}
	MemoryContextSwitchTo(old);

	ds = vltab_dataset_get(relid, GetLatestSnapshot());
	ds->version = base + k + (lost > 0 ? 1 : 0);
	vltab_dataset_update(ds);
	if (lost > 0)
		vltab_publish_note_version(relid);	/* publish it at commit */

	/*
	 * Index entries for the new rows: a rebuild of the table's indexes.
	 * Entries inserted one by one would survive an abort of this
	 * transaction (index entries are not rolled back) and name these row IDs
	 * a second time on the next attempt; a rebuild is transactional, and
	 * also drops entries that an aborted vlake writer left for row IDs the
	 * other engine has now taken.  (A vlake index's new part makes a vlake
	 * version after the adopted ones, or joins the merged one.)
	 */
	if (new_rows && RelationGetForm(rel)->relhasindex)
	{
		ReindexParams params = {0};

		(void) reindex_relation(relid, 0, &params);
		CommandCounterIncrement();
	}
	lake_fault("refresh_before_commit");
	objstore_close(store);
	relation_close(rel, NoLock);
	return k;
}

/* ------------------------------------------------------------------ SQL -- */

PG_FUNCTION_INFO_V1(vlake_table_refresh);
Datum
vlake_table_refresh(PG_FUNCTION_ARGS)
{
	Relation	rel = vltab_open_checked(PG_GETARG_OID(0), 0, AccessShareLock);
	Oid			relid = RelationGetRelid(rel);

	/* closed (still locked): ALTER TABLE ADD COLUMN refuses an open table */
	table_close(rel, NoLock);
	PG_RETURN_INT64(vltab_refresh(relid));
}
