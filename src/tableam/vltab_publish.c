/*
 * vltab_publish.c — every lake version of a vlake table is published as a
 * manifest (docs/manifest.md) under its dataset root: the catalog is the
 * source of truth, the lake gets "_manifest/<version>.json" after the
 * commit.
 *
 * When (docs/tables.md, "Publication"):
 *  - vltab_version_note() registers the table with this transaction
 *    (vltab_publish_note_version); a deletion or update of a lake row
 *    registers it too (vltab_publish_note_delete), without a version yet.
 *  - XACT_EVENT_PRE_COMMIT (the transaction can still read and write the
 *    catalog, and holds the dataset lock of every table it gave a version):
 *      1. a transaction that deleted lake rows takes its version now, under
 *         the dataset lock (held only from here to the end of the commit,
 *         not for the whole transaction), and writes the delete vector of
 *         each segment whose deletions changed (vlake.delete_files);
 *      2. the manifest of the table's new version N is built from the
 *         catalog as this transaction leaves it, validated and encoded into
 *         memory; if this backend does not know that N-1 is in the lake, it
 *         checks, and when N-1 is missing (its writer crashed before its
 *         put) builds N-1 too, from the committed catalog without this
 *         transaction's changes (the same catalog tuples, a command ID that
 *         sees none of ours);
 *      3. the object store is opened (S3 credentials come from the catalog).
 *  - XACT_EVENT_COMMIT (the commit is durable; no catalog access): the
 *    documents are put with put-if-absent ("exists with the same bytes" is
 *    success), then the "_manifest/_latest" hint.  Failures are WARNINGs:
 *    the commit happened, the version is only unpublished.
 *
 * Why this is safe: every file a manifest names (segment files, delete
 * vectors) was written and made durable before the catalog commit that
 * names it, and the manifest is put only after that commit, so a published
 * manifest never names a missing file and never names an uncommitted
 * version.  A crash (or a failed put) between the commit and the put leaves
 * version N committed and unpublished; it is repaired by the next writer of
 * the table (step 2), by vlake.table_publish() or by the publication task
 * of the database workers.  The manifest is a pure function of the catalog
 * (canonical encoding, content-addressed delete vector names), so a repair
 * racing the original put produces the same bytes.
 *
 * Only the latest version is reconstructible at any time (TRUNCATE removes
 * segments, a new delete vector replaces the old one): a version that was
 * not published before its successor committed stays missing, and
 * vlake.table_publish() reports it.
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lake/lake_delvec.h"
#include "lake/lake_error.h"
#include "manifest/manifest.h"
#include "objref/objref.h"
#include "objstore/objstore.h"
#include "lake/lake_fault.h"
#include "tableam/vltab.h"
#include "vector/vector.h"
#include "vlake.h"


#define DELETES_DIR "deletes/"

/* ------------------------------------------------------ transaction state */

/* A table this transaction changed (TopTransactionContext). */
typedef struct PubRel
{
	Oid			relid;
	bool		deletes;		/* inserted d/u entries into vlake.row_states */
	bool		indexes;		/* dropped an index listed in its manifest */
	bool		segments;		/* compaction replaced segments */
} PubRel;

/* Documents ready to put after the commit (TopTransactionContext). */
typedef struct PubReady
{
	Oid			relid;
	char	   *name;			/* for messages */
	ObjStore   *store;			/* opened before the commit */
	int64		version;
	char	   *doc;
	size_t		len;
	int64		parent_version; /* 0: no parent document to put */
	char	   *parent_doc;
	size_t		parent_len;
} PubReady;

static List *pub_rels = NIL;
static List *pub_ready = NIL;

/* Highest version this backend put for a table (TopMemoryContext). */
typedef struct KnownPublished
{
	Oid			relid;
	int64		version;
} KnownPublished;

static List *known_published = NIL;

static int64
known_get(Oid relid)
{
	ListCell   *lc;

	foreach(lc, known_published)
	{
		KnownPublished *k = lfirst(lc);

		if (k->relid == relid)
			return k->version;
	}
	return 0;
}

static void
known_set(Oid relid, int64 version)
{
	ListCell   *lc;
	KnownPublished *k;
	MemoryContext old;

	foreach(lc, known_published)
	{
		k = lfirst(lc);
		if (k->relid == relid)
		{
			k->version = Max(k->version, version);
			return;
		}
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	k = palloc(sizeof(KnownPublished));
	k->relid = relid;
	k->version = version;
	known_published = lappend(known_published, k);
	MemoryContextSwitchTo(old);
}

void
vltab_publish_forget_known(Oid relid)
{
	ListCell   *lc;

	foreach(lc, known_published)
		if (((KnownPublished *) lfirst(lc))->relid == relid)
			((KnownPublished *) lfirst(lc))->version = 0;
}

static PubRel *
pub_rel(Oid relid)
{
	ListCell   *lc;
	PubRel	   *p;
	MemoryContext old;

	foreach(lc, pub_rels)
	{
		p = lfirst(lc);
		if (p->relid == relid)
			return p;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	p = palloc0(sizeof(PubRel));
	p->relid = relid;
	pub_rels = lappend(pub_rels, p);
	MemoryContextSwitchTo(old);
	return p;
}

void
vltab_publish_note_version(Oid relid)
{
	(void) pub_rel(relid);
}

/* Whether this transaction registered relid (a version or a deletion). */
bool
vltab_publish_noted(Oid relid)
{
	ListCell   *lc;

	foreach(lc, pub_rels)
		if (((PubRel *) lfirst(lc))->relid == relid)
			return true;
	return false;
}

void
vltab_publish_note_delete(Relation rel)
{
	pub_rel(RelationGetRelid(rel))->deletes = true;
}

void
vltab_publish_note_segments(Relation rel)
{
	pub_rel(RelationGetRelid(rel))->segments = true;
}

void
vltab_publish_note_index(Oid relid)
{
	pub_rel(relid)->indexes = true;
}

/* ------------------------------------------------------- catalog access -- */

enum
{
	DF_RELID = 1, DF_SEGMENT_ID, DF_VERSION, DF_PATH, DF_CARDINALITY, DF_SIZE, DF_ETAG,
	DF_NATTS = DF_ETAG
};

enum
{
	FL_RELID = 1, FL_SEGMENT_ID, FL_GROUP_NO, FL_KIND, FL_PATH, FL_ATTNUMS, FL_SIZE, FL_ETAG,
	FL_ROW_COUNT, FL_STAT_ATTNUMS, FL_NULL_COUNTS, FL_MINS, FL_MAXS, FL_PURGED_ROWS,
	FL_OBJECTS_PATH, FL_OBJECTS_SIZE, FL_OBJECTS_ETAG, FL_OBJECTS_COUNT
};

enum
{
	VR_RELID = 1, VR_VERSION, VR_OPERATION, VR_WRITER, VR_COMMITTED, VR_ROWS_ADDED,
	VR_ROWS_DELETED, VR_BYTES_WRITTEN
};

static SysScanDesc
scan_relid(Relation cat, const char *index, Oid relid, Snapshot snap)
{
	ScanKeyData key;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	return systable_beginscan(cat, vltab_catalog_relid(index), true, snap, 1, &key);
}

static int64
att_int64(HeapTuple tup, Relation cat, int attno)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attno, RelationGetDescr(cat), &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

static char *
att_text(HeapTuple tup, Relation cat, int attno)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attno, RelationGetDescr(cat), &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* One vlake.delete_files row. */
typedef struct DeleteFile
{
	int64		segment_id;
	int64		version;
	ManifestDeletes d;
	ItemPointerData tid;
} DeleteFile;

static DeleteFile *
delete_files_read(Oid relid, Snapshot snap, int *n)
{
	Relation	cat = table_open(vltab_catalog_relid("delete_files"), AccessShareLock);
	SysScanDesc scan = scan_relid(cat, "delete_files_pkey", relid, snap);
	HeapTuple	tup;
	int			cap = 8;
	DeleteFile *out = palloc(sizeof(DeleteFile) * cap);

	*n = 0;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		DeleteFile *f;

		if (*n == cap)
		{
			cap *= 2;
			out = repalloc(out, sizeof(DeleteFile) * cap);
		}
		f = &out[(*n)++];
		f->segment_id = att_int64(tup, cat, DF_SEGMENT_ID);
		f->version = att_int64(tup, cat, DF_VERSION);
		f->d.path = att_text(tup, cat, DF_PATH);
		f->d.cardinality = att_int64(tup, cat, DF_CARDINALITY);
		f->d.size = att_int64(tup, cat, DF_SIZE);
		f->d.etag = att_text(tup, cat, DF_ETAG);
		f->tid = tup->t_self;
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return out;
}

/* The paths of relid's current delete vectors as snap sees the catalog
 * (retention keeps them: vltab_retention.c). */
List *
vltab_publish_delete_paths(Oid relid, Snapshot snap)
{
	int			n;
	DeleteFile *files = delete_files_read(relid, snap, &n);
	List	   *out = NIL;

	for (int i = 0; i < n; i++)
		out = lappend(out, files[i].d.path);
	return out;
}

static DeleteFile *
delete_file_find(DeleteFile *files, int n, int64 segment_id)
{
	for (int i = 0; i < n; i++)
		if (files[i].segment_id == segment_id)
			return &files[i];
	return NULL;
}

/* One vlake.files row with its statistics, as a manifest group. */
typedef struct GroupRow
{
	int64		segment_id;
	int			group_no;
	ManifestGroup g;
} GroupRow;

static int
group_row_cmp(const void *a, const void *b)
{
	const GroupRow *x = a,
			   *y = b;

	if (x->segment_id != y->segment_id)
		return x->segment_id < y->segment_id ? -1 : 1;
	return (x->group_no > y->group_no) - (x->group_no < y->group_no);
}

static void
group_from_tuple(HeapTuple tup, Relation cat, GroupRow *r)
{
	TupleDesc	desc = RelationGetDescr(cat);
	bool		isnull;
	char	   *kind = att_text(tup, cat, FL_KIND);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Datum		d;

	memset(r, 0, sizeof(*r));
	r->segment_id = att_int64(tup, cat, FL_SEGMENT_ID);
	r->group_no = DatumGetInt32(heap_getattr(tup, FL_GROUP_NO, desc, &isnull));
	if (strcmp(kind, "vector_cg") == 0)
		r->g.layout = MANIFEST_L_VECTOR_CG;
	else if (strcmp(kind, "long_text") == 0)
		r->g.layout = MANIFEST_L_LONG_TEXT;
	else
		r->g.layout = MANIFEST_L_PARQUET;
	r->g.path = att_text(tup, cat, FL_PATH);
	deconstruct_array(DatumGetArrayTypeP(heap_getattr(tup, FL_ATTNUMS, desc, &isnull)),
					  INT2OID, 2, true, TYPALIGN_SHORT, &elems, &nulls, &n);
	r->g.nfield_ids = n;
	r->g.field_ids = palloc(sizeof(int32) * Max(n, 1));
	for (int i = 0; i < n; i++)
		r->g.field_ids[i] = DatumGetInt16(elems[i]);
	r->g.size = att_int64(tup, cat, FL_SIZE);
	r->g.etag = att_text(tup, cat, FL_ETAG);
	if (r->g.etag == NULL)
		r->g.etag = "";
	r->g.row_count = att_int64(tup, cat, FL_ROW_COUNT);
	(void) heap_getattr(tup, FL_OBJECTS_PATH, desc, &isnull);
	if (!isnull)
	{
		r->g.objects = palloc0(sizeof(ManifestObjects));
		r->g.objects->path = att_text(tup, cat, FL_OBJECTS_PATH);
		r->g.objects->size = att_int64(tup, cat, FL_OBJECTS_SIZE);
		r->g.objects->etag = att_text(tup, cat, FL_OBJECTS_ETAG);
		if (r->g.objects->etag == NULL)
			r->g.objects->etag = "";
		r->g.objects->count = att_int64(tup, cat, FL_OBJECTS_COUNT);
	}

	d = heap_getattr(tup, FL_STAT_ATTNUMS, desc, &isnull);
	if (!isnull)
	{
		Datum	   *nc,
				   *mn,
				   *mx;
		bool	   *ncn,
				   *mnn,
				   *mxn;
		int			nn,
					nmin,
					nmax;

		deconstruct_array(DatumGetArrayTypeP(d), INT2OID, 2, true, TYPALIGN_SHORT,
						  &elems, &nulls, &n);
		deconstruct_array(DatumGetArrayTypeP(heap_getattr(tup, FL_NULL_COUNTS, desc, &isnull)),
						  INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &nc, &ncn, &nn);
		deconstruct_array(DatumGetArrayTypeP(heap_getattr(tup, FL_MINS, desc, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &mn, &mnn, &nmin);
		deconstruct_array(DatumGetArrayTypeP(heap_getattr(tup, FL_MAXS, desc, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &mx, &mxn, &nmax);
		if (nn != n || nmin != n || nmax != n)
			elog(ERROR, "vlake.files row of segment " INT64_FORMAT " group %d: statistics arrays of different lengths",
				 r->segment_id, r->group_no);
		r->g.stats = palloc0(sizeof(ManifestStat) * Max(n, 1));
		for (int i = 0; i < n; i++)
		{
			ManifestStat *s = &r->g.stats[r->g.nstats];
			int			att = DatumGetInt16(elems[i]);
			bool		held = false;

			for (int k = 0; k < r->g.nfield_ids; k++)
				held |= r->g.field_ids[k] == att;
			if (!held || nulls[i] || ncn[i])
				continue;
			s->field_id = att;
			s->null_count = DatumGetInt64(nc[i]);
			if (!mnn[i] && !mxn[i])
			{
				s->min = TextDatumGetCString(mn[i]);
				s->max = TextDatumGetCString(mx[i]);
			}
			r->g.nstats++;
		}
	}
}

static GroupRow *
groups_read(Oid relid, Snapshot snap, int *n)
{
	Relation	cat = table_open(vltab_catalog_relid("files"), AccessShareLock);
	SysScanDesc scan = scan_relid(cat, "files_pkey", relid, snap);
	HeapTuple	tup;
	int			cap = 16;
	GroupRow   *out = palloc(sizeof(GroupRow) * cap);

	*n = 0;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		CHECK_FOR_INTERRUPTS();
		if (*n == cap)
		{
			cap *= 2;
			out = repalloc_huge(out, sizeof(GroupRow) * cap);
		}
		group_from_tuple(tup, cat, &out[(*n)++]);
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	qsort(out, *n, sizeof(GroupRow), group_row_cmp);
	return out;
}

/* The lineage of version from vlake.versions; false when it has no row. */
static bool
lineage_read(Oid relid, int64 version, Snapshot snap, ManifestLineage *l)
{
	Relation	cat = table_open(vltab_catalog_relid("versions"), AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&keys[0], VR_RELID, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], VR_VERSION, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(version));
	scan = systable_beginscan(cat, vltab_catalog_relid("versions_pkey"), true, snap, 2, keys);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		TimestampTz ts = DatumGetTimestampTz(heap_getattr(tup, VR_COMMITTED,
														  RelationGetDescr(cat), &isnull));

		memset(l, 0, sizeof(*l));
		l->operation = att_text(tup, cat, VR_OPERATION);
		/* deterministic: from the catalog only, so a repair writes the same */
		if (vltab_refresh_adopted(relid, version))
			l->writer = att_text(tup, cat, VR_WRITER);	/* another engine's, verbatim */
		else
			l->writer = psprintf("vlake %s (database %u, role %s)", VLAKE_VERSION_STR,
								 MyDatabaseId, att_text(tup, cat, VR_WRITER));
		l->timestamp_us = Max(ts + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY, 0);
		l->rows_added = Max(att_int64(tup, cat, VR_ROWS_ADDED), 0);
		l->rows_deleted = Max(att_int64(tup, cat, VR_ROWS_DELETED), 0);
		l->bytes_written = Max(att_int64(tup, cat, VR_BYTES_WRITTEN), 0);
		{
			int			nm;
			VltabModel *models = vltab_column_models(relid, version, snap, &nm);

			l->nmodels = nm;
			l->models = nm > 0 ? palloc0(sizeof(ManifestModel) * nm) : NULL;
			for (int i = 0; i < nm; i++)
			{
				l->models[i].field_id = models[i].attnum;
				l->models[i].model = models[i].model;
				l->models[i].model_version = models[i].model_version;
			}
		}
		found = true;
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return found;
}

/* ------------------------------------------------------------- schema -- */

/*
 * The manifest type of a column: how vltab_segment.c stores it (types
 * pgmap maps natively keep their type, everything else is its text
 * output).  false: the column's storage has no manifest type (a vector
 * without a declared dimension is a plain list): it is left out of the
 * manifest.
 */
static bool
field_type(Form_pg_attribute att, ManifestField *f)
{
	int32		typmod = att->atttypmod;
	Oid			base = getBaseTypeAndTypmod(att->atttypid, &typmod);
	Oid			vec = vector_type_oid();
	Oid			half = halfvec_type_oid();

	f->element = MANIFEST_E_NONE;
	if (OidIsValid(objref_type_oid()) && base == objref_type_oid())
	{
		f->type = MANIFEST_T_OBJECT_REF;	/* JSON text (docs/objref.md) */
		return true;
	}
	if (OidIsValid(vec) && base == vec)
	{
		if (typmod <= 0 || typmod > MANIFEST_MAX_VECTOR_DIM)
			return false;
		f->type = MANIFEST_T_VECTOR;
		f->dim = typmod;
		f->element = MANIFEST_E_FLOAT32;
		return true;
	}
	if (OidIsValid(half) && base == half)
	{
		if (typmod <= 0 || typmod > MANIFEST_MAX_VECTOR_DIM)
		{
			f->type = MANIFEST_T_STRING;	/* stored as its text output */
			return true;
		}
		f->type = MANIFEST_T_VECTOR;
		f->dim = typmod;
		f->element = MANIFEST_E_FLOAT16;
		return true;
	}
	switch (base)
	{
		case BOOLOID:
			f->type = MANIFEST_T_BOOLEAN;
			break;
		case INT2OID:
			f->type = MANIFEST_T_INT16;
			break;
		case INT4OID:
			f->type = MANIFEST_T_INT32;
			break;
		case INT8OID:
			f->type = MANIFEST_T_INT64;
			break;
		case FLOAT4OID:
			f->type = MANIFEST_T_FLOAT32;
			break;
		case FLOAT8OID:
			f->type = MANIFEST_T_FLOAT64;
			break;
		case DATEOID:
			f->type = MANIFEST_T_DATE;
			break;
		case TIMESTAMPOID:
			f->type = MANIFEST_T_TIMESTAMP;
			break;
		case TIMESTAMPTZOID:
			f->type = MANIFEST_T_TIMESTAMPTZ;
			break;
		case UUIDOID:
			f->type = MANIFEST_T_UUID;
			break;
		case BYTEAOID:
			f->type = MANIFEST_T_BINARY;
			break;
		case JSONOID:
		case JSONBOID:
			f->type = MANIFEST_T_JSON;
			break;
		default:
			/* text, varchar, char, numeric (as text: NaN, no fixed scale), and
			 * every other type as its text output */
			f->type = MANIFEST_T_STRING;
			break;
	}
	return true;
}

/* ------------------------------------------------------------ building -- */

/*
 * The manifest of version `version` of rel as snap sees the catalog (which
 * must be the catalog state of that version: its writer's own view at
 * pre-commit, or a later one under the dataset lock when it is the
 * latest).  NULL with *why set when it cannot be built.
 */
static Manifest *
build_manifest(Relation rel, VltabDataset *ds, int64 version, Snapshot snap, char **why)
{
	Oid			relid = RelationGetRelid(rel);
	TupleDesc	desc = RelationGetDescr(rel);
	Manifest   *m = palloc0(sizeof(Manifest));
	VltabSegmentList *segs;
	GroupRow   *groups;
	int			ngroups;
	DeleteFile *dfiles;
	int			ndfiles;
	bool	   *in_schema;
	StringInfoData omitted;

	strlcpy(m->dataset_id, ds->dataset_id, sizeof(m->dataset_id));
	m->version = version;
	m->parent_version = version > 1 ? version - 1 : 0;
	m->next_row_id = ds->next_row_id;
	if (!lineage_read(relid, version, snap, &m->lineage))
	{
		*why = psprintf("vlake.versions has no row for version " INT64_FORMAT, version);
		return NULL;
	}

	/* schema: field id = attnum (never reused: dropped columns keep theirs) */
	m->next_field_id = desc->natts + 1;
	m->fields = palloc0(sizeof(ManifestField) * Max(desc->natts, 1));
	in_schema = palloc0(sizeof(bool) * (desc->natts + 1));
	initStringInfo(&omitted);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ManifestField *f = &m->fields[m->nfields];
		char	   *pgtype;

		if (att->attisdropped)
			continue;
		if (!field_type(att, f))
		{
			appendStringInfo(&omitted, "%s%d", omitted.len ? "," : "", att->attnum);
			continue;
		}
		f->id = att->attnum;
		f->name = pstrdup(NameStr(att->attname));
		f->nullable = !att->attnotnull;
		pgtype = format_type_with_typemod(att->atttypid, att->atttypmod);
		f->pg_type = strlen(pgtype) <= MANIFEST_MAX_TEXT ? pgtype : NULL;
		in_schema[att->attnum] = true;
		m->nfields++;
	}

	/* segments, their groups and delete vectors */
	segs = vltab_segments_visible(relid, snap);
	groups = groups_read(relid, snap, &ngroups);
	dfiles = delete_files_read(relid, snap, &ndfiles);
	m->segments = palloc0(sizeof(ManifestSegment) * Max(segs->nsegments, 1));
	for (int s = 0; s < segs->nsegments; s++)
	{
		VltabSegment *vs = &segs->segments[s];
		ManifestSegment *ms;
		DeleteFile *df;
		int			lo = 0,
					hi = ngroups;

		CHECK_FOR_INTERRUPTS();
		if (vs->version > version)
			continue;			/* not in this version (cannot happen for the latest) */
		ms = &m->segments[m->nsegments++];
		ms->id = vs->segment_id;
		ms->first_row_id = vs->first_row_id;
		ms->end_row_id = vs->end_row_id;
		ms->row_count = vs->row_count;
		/* first group row of the segment */
		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (groups[mid].segment_id < vs->segment_id)
				lo = mid + 1;
			else
				hi = mid;
		}
		ms->groups = palloc0(sizeof(ManifestGroup) * Max(vs->nfiles, 1));
		for (int g = lo; g < ngroups && groups[g].segment_id == vs->segment_id; g++)
		{
			ManifestGroup *mg = &ms->groups[ms->ngroups];
			int			k = 0;

			*mg = groups[g].g;
			/* only the fields of the schema */
			for (int i = 0; i < mg->nfield_ids; i++)
				if (mg->field_ids[i] > 0 && mg->field_ids[i] <= desc->natts &&
					in_schema[mg->field_ids[i]])
					mg->field_ids[k++] = mg->field_ids[i];
			mg->nfield_ids = k;
			k = 0;
			for (int i = 0; i < mg->nstats; i++)
				if (mg->stats[i].field_id <= desc->natts && in_schema[mg->stats[i].field_id])
				{
					ManifestStat st = mg->stats[i];
					ManifestField *f = NULL;

					for (int x = 0; x < m->nfields; x++)
						if (m->fields[x].id == st.field_id)
							f = &m->fields[x];
					if (f && f->type == MANIFEST_T_VECTOR)
						st.min = st.max = NULL;
					mg->stats[k++] = st;
				}
			mg->nstats = k;
			if (mg->nfield_ids > 0)
				ms->ngroups++;
		}
		if (ms->ngroups == 0)
		{
			*why = psprintf("segment " INT64_FORMAT " has no file holding a column the manifest can describe",
							vs->segment_id);
			return NULL;
		}
		df = delete_file_find(dfiles, ndfiles, vs->segment_id);
		if (df != NULL && df->d.cardinality > 0)
		{
			ms->deletes = palloc(sizeof(ManifestDeletes));
			*ms->deletes = df->d;
		}
	}

	/* a NOT NULL column some segment has no file of (added later) reads as
	 * null there: the manifest must call it nullable */
	for (int i = 0; i < m->nfields; i++)
	{
		ManifestField *f = &m->fields[i];

		for (int s = 0; s < m->nsegments && !f->nullable; s++)
		{
			bool		held = false;

			for (int g = 0; g < m->segments[s].ngroups && !held; g++)
				for (int k = 0; k < m->segments[s].groups[g].nfield_ids; k++)
					held |= m->segments[s].groups[g].field_ids[k] == f->id;
			if (!held)
				f->nullable = true;
		}
	}
	/* the lake parts of its indexes (vltab_index.c) */
	m->indexes = vltab_index_manifest(rel, ds->root, version, m->next_row_id, snap, in_schema,
									  &m->nindexes);

	if (omitted.len > 0)
	{
		m->nproperties = 1;
		m->properties = palloc(sizeof(ManifestKV));
		m->properties[0].key = "vlake.omitted_field_ids";
		m->properties[0].value = omitted.data;
	}
	/* the oldest format that holds the document: the schema's types and the
	 * groups' object lists (docs/manifest.md, Compatibility) */
	m->format_version = manifest_format_needed(m);
	return m;
}

/* ------------------------------------------------------- delete vectors -- */

typedef struct DeletedRow
{
	int64		row_id;
	bool		own;			/* inserted by this transaction */
} DeletedRow;

static int
deleted_row_cmp(const void *a, const void *b)
{
	int64		x = ((const DeletedRow *) a)->row_id,
				y = ((const DeletedRow *) b)->row_id;

	return (x > y) - (x < y);
}

/* d/u entries of relid in vlake.row_states (latest snapshot), sorted. */
static DeletedRow *
deleted_rows_read(Oid relid, int64 *n)
{
	Relation	cat = table_open(vltab_catalog_relid("row_states"), AccessShareLock);
	SysScanDesc scan = scan_relid(cat, "row_states_pkey", relid, GetLatestSnapshot());
	HeapTuple	tup;
	int64		cap = 64;
	DeletedRow *out = palloc(sizeof(DeletedRow) * cap);

	*n = 0;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		char		kind = DatumGetChar(heap_getattr(tup, 3, RelationGetDescr(cat), &isnull));

		CHECK_FOR_INTERRUPTS();
		if (kind != 'd' && kind != 'u')
			continue;
		if (*n == cap)
		{
			cap *= 2;
			out = repalloc_huge(out, sizeof(DeletedRow) * cap);
		}
		out[*n].row_id = DatumGetInt64(heap_getattr(tup, 2, RelationGetDescr(cat), &isnull));
		out[*n].own = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data));
		(*n)++;
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	qsort(out, *n, sizeof(DeletedRow), deleted_row_cmp);
	return out;
}

/* lowercase hex of the first nbytes of the SHA-256 of buf */
static char *
sha256_hex(const char *buf, size_t len, int nbytes)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(nbytes * 2 + 1);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) buf, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	for (int i = 0; i < nbytes; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

/*
 * Write the delete vector of one segment (ids sorted, n >= 1).  The key is
 * content-addressed ("deletes/<segment>-v<version>-<sha256 prefix>.bin"):
 * an attempt that crashed before its commit may have left a file under the
 * name this version would use only if it held the same bytes, so an
 * existing object is this file (its size is checked).
 */
static void
delete_vector_write(ObjStore *store, int64 segment_id, int64 version, const int64 *ids,
					int64 n, ManifestDeletes *out)
{
	LakeDelvec *dv = lake_delvec_create();
	size_t		len;
	char	   *buf;
	char	   *key;
	ObjStat		st;

	for (int64 i = 0; i < n; i++)
		lake_delvec_add(dv, (uint64) ids[i]);
	buf = lake_delvec_serialize(dv, &len);
	lake_delvec_free(dv);
	key = psprintf(DELETES_DIR INT64_FORMAT "-v" INT64_FORMAT "-%s.bin", segment_id, version,
				   sha256_hex(buf, len, 16));
	(void) objstore_put_if_absent(store, key, buf, len);
	if (!objstore_head(store, key, &st))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("delete vector \"%s\" is missing after it was written",
						objstore_uri(store, key))));
	if (st.size != len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("delete vector \"%s\" has %llu bytes, expected %zu",
						objstore_uri(store, key), (unsigned long long) st.size, len),
				 errdetail("Delete vectors are immutable and named by their content.")));
	out->path = key;
	out->cardinality = n;
	out->size = (int64) len;
	out->etag = pstrdup(st.etag);
	pfree(buf);
}

static void
delete_file_replace(Oid relid, DeleteFile *old, int64 segment_id, int64 version,
					const ManifestDeletes *d)
{
	Relation	cat = table_open(vltab_catalog_relid("delete_files"), RowExclusiveLock);

	if (old != NULL)
		CatalogTupleDelete(cat, &old->tid);
	if (d != NULL)
	{
		Datum		values[DF_NATTS];
		bool		nulls[DF_NATTS] = {0};

		values[DF_RELID - 1] = ObjectIdGetDatum(relid);
		values[DF_SEGMENT_ID - 1] = Int64GetDatum(segment_id);
		values[DF_VERSION - 1] = Int64GetDatum(version);
		values[DF_PATH - 1] = CStringGetTextDatum(d->path);
		values[DF_CARDINALITY - 1] = Int64GetDatum(d->cardinality);
		values[DF_SIZE - 1] = Int64GetDatum(d->size);
		values[DF_ETAG - 1] = CStringGetTextDatum(d->etag);
		CatalogTupleInsert(cat, heap_form_tuple(RelationGetDescr(cat), values, nulls));
	}
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

/*
 * Bring vlake.delete_files up to date for the version this transaction
 * commits: a new delete vector for every segment whose deleted rows this
 * transaction changed (or whose recorded vector does not match its deleted
 * rows), none for a segment without deleted rows.  Runs at pre-commit,
 * under the dataset lock.  Returns the number of rows this transaction
 * deleted or updated.
 */
static int64
delete_vectors_refresh(Relation rel, VltabDataset *ds, ObjStore *store, bool count_only)
{
	Oid			relid = RelationGetRelid(rel);
	int64		n,
				own = 0;
	DeletedRow *rows = deleted_rows_read(relid, &n);
	VltabSegmentList *segs;
	DeleteFile *dfiles;
	int			ndfiles;
	int64		r = 0;

	for (int64 i = 0; i < n; i++)
		own += rows[i].own;
	if (count_only)
		return own;
	CommandCounterIncrement();
	segs = vltab_segments_visible(relid, GetLatestSnapshot());
	dfiles = delete_files_read(relid, GetLatestSnapshot(), &ndfiles);
	/* vectors of segments a compaction removed go with them */
	for (int i = 0; i < ndfiles; i++)
	{
		bool		live = false;

		for (int s = 0; s < segs->nsegments && !live; s++)
			live = segs->segments[s].segment_id == dfiles[i].segment_id;
		if (!live)
			delete_file_replace(relid, &dfiles[i], dfiles[i].segment_id, ds->version, NULL);
	}
	for (int s = 0; s < segs->nsegments; s++)
	{
		VltabSegment *seg = &segs->segments[s];
		DeleteFile *df = delete_file_find(dfiles, ndfiles, seg->segment_id);
		int64		first,
					cnt;
		bool		changed = false;
		int64	   *ids;

		CHECK_FOR_INTERRUPTS();
		while (r < n && rows[r].row_id < seg->first_row_id)
			r++;
		first = r;
		while (r < n && rows[r].row_id < seg->end_row_id)
			changed |= rows[r++].own;
		cnt = r - first;
		if (cnt == 0)
		{
			if (df != NULL)
				delete_file_replace(relid, df, seg->segment_id, ds->version, NULL);
			continue;
		}
		if (!changed && df != NULL && df->d.cardinality == cnt)
			continue;
		ids = palloc(sizeof(int64) * cnt);
		for (int64 i = 0; i < cnt; i++)
			ids[i] = rows[first + i].row_id;
		{
			ManifestDeletes d;

			delete_vector_write(store, seg->segment_id, ds->version, ids, cnt, &d);
			delete_file_replace(relid, df, seg->segment_id, ds->version, &d);
		}
		pfree(ids);
	}
	return own;
}

void
vltab_publish_set_delete_file(Oid relid, int64 segment_id, int64 version,
							  const ManifestDeletes *d)
{
	int			n;
	DeleteFile *files;

	CommandCounterIncrement();
	files = delete_files_read(relid, GetLatestSnapshot(), &n);
	delete_file_replace(relid, delete_file_find(files, n, segment_id), segment_id, version, d);
}

/*
 * Write vlake's own delete vector of a segment from the deleted rows the
 * catalog has in [first_row_id, end_row_id) (latest snapshot) and record it
 * as of version (none when the segment has no deleted row).  The refresh
 * uses it where another engine's vector cannot be named: a segment it gave
 * other row IDs, or a segment both deleted rows of (the union).
 */
void
vltab_publish_write_delete_file(Oid relid, ObjStore *store, int64 segment_id,
								int64 first_row_id, int64 end_row_id, int64 version)
{
	int64		n,
				lo,
				hi;
	DeletedRow *rows;
	int64	   *ids;
	ManifestDeletes d;

	CommandCounterIncrement();
	rows = deleted_rows_read(relid, &n);
	for (lo = 0; lo < n && rows[lo].row_id < first_row_id; lo++)
		;
	for (hi = lo; hi < n && rows[hi].row_id < end_row_id; hi++)
		;
	if (hi == lo)
	{
		vltab_publish_set_delete_file(relid, segment_id, version, NULL);
		return;
	}
	ids = palloc(sizeof(int64) * (hi - lo));
	for (int64 i = lo; i < hi; i++)
		ids[i - lo] = rows[i].row_id;
	delete_vector_write(store, segment_id, version, ids, hi - lo, &d);
	vltab_publish_set_delete_file(relid, segment_id, version, &d);
	pfree(ids);
	pfree(rows);
}

/* ------------------------------------------------------------ publishing -- */

static bool manifest_exists(ObjStore *store, int64 version);

/*
 * Is the published document of `version` the one this catalog committed?
 * Compared by lineage (operation, writer, commit time to the microsecond):
 * a schema change since (a rename, ADD COLUMN: no version) changes what the
 * catalog would build now, not what it built then.  Versions adopted from
 * another engine match by definition.  A missing document: true.
 */
static bool
lake_version_is_ours(Relation rel, ObjStore *store, int64 version, Snapshot snap)
{
	char		key[MANIFEST_KEY_LEN];
	char	   *buf;
	uint64		len;
	Manifest   *lake;
	ManifestLineage mine;
	bool		same;
	MemoryContext cxt,
				old;

	if (vltab_refresh_adopted(RelationGetRelid(rel), version))
		return true;
	manifest_key(version, key);
	if (!manifest_exists(store, version))
		return true;
	if (!lineage_read(RelationGetRelid(rel), version, snap, &mine))
		return true;			/* nothing to compare with */
	buf = objstore_get(store, key, &len);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake manifest", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	lake = manifest_decode(buf, len, objstore_uri(store, key));
	same = lake->version == version &&
		strcmp(lake->lineage.operation, mine.operation) == 0 &&
		strcmp(lake->lineage.writer, mine.writer) == 0 &&
		lake->lineage.timestamp_us == mine.timestamp_us;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	pfree(buf);
	return same;
}

bool
vltab_publish_latest_lost(Relation rel, VltabDataset *ds, ObjStore *store)
{
	bool		ours;
	Snapshot	snap;

	if (ds->version == 0 || known_get(ds->relid) >= ds->version)
		return false;
	if (!manifest_exists(store, ds->version))
		return false;			/* unpublished: the repair's business */
	snap = RegisterSnapshot(GetLatestSnapshot());
	ours = lake_version_is_ours(rel, store, ds->version, snap);
	UnregisterSnapshot(snap);
	if (ours)
		known_set(ds->relid, ds->version);	/* the next pass need not look */
	return !ours;
}

static void
refuse_foreign_version(Relation rel, ObjStore *store, int64 version, bool committed)
{
	char		key[MANIFEST_KEY_LEN];

	manifest_key(version, key);
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not commit to vlake table \"%s\": version " INT64_FORMAT " of its dataset was committed by another engine",
					RelationGetRelationName(rel), version),
			 committed ?
			 errdetail("\"%s\" is not the version the catalog committed (this table lost a race for it); vlake.table_refresh() merges the two.",
					   objstore_uri(store, key)) :
			 errdetail("\"%s\" exists; vlake adopts it before it commits a later version.",
					   objstore_uri(store, key)),
			 errhint("Call vlake.table_refresh('%s') (or wait for the database workers' publication task), then retry the transaction.",
					 RelationGetRelationName(rel))));
}

/*
 * Put a manifest with put-if-absent.  true: this call created it; false: it
 * existed with the same bytes.  ERROR when it exists with other bytes.
 */
static bool
manifest_put(ObjStore *store, int64 version, const char *doc, size_t len)
{
	char		key[MANIFEST_KEY_LEN];
	char	   *have;
	uint64		hlen;

	manifest_key(version, key);
	if (objstore_put_if_absent(store, key, doc, len))
		return true;
	have = objstore_get(store, key, &hlen);
	if (hlen != len || memcmp(have, doc, len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("vlake manifest \"%s\" already exists with different content",
						objstore_uri(store, key)),
				 errdetail("Version " INT64_FORMAT " of the dataset was published by another writer, or the catalog changed since it was published (%llu bytes there, %zu built from the catalog).",
						   version, (unsigned long long) hlen, len),
				 errhint("A dataset root belongs to one vlake table; check that no other table or engine writes under it.")));
	pfree(have);
	return false;
}

static bool
manifest_exists(ObjStore *store, int64 version)
{
	char		key[MANIFEST_KEY_LEN];
	ObjStat		st;

	manifest_key(version, key);
	return objstore_head(store, key, &st);
}

static void
hint_put(ObjStore *store, int64 version)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), INT64_FORMAT "\n", version);
	objstore_put(store, MANIFEST_HINT_KEY, buf, strlen(buf));
}

/* The published versions under store (a listing of _manifest/), sorted. */
static int64 *
published_versions(ObjStore *store, int *n)
{
	List	   *keys = objstore_list(store, MANIFEST_DIR);
	ListCell   *lc;
	int64	   *out = palloc(sizeof(int64) * Max(list_length(keys), 1));

	*n = 0;
	foreach(lc, keys)
	{
		ObjListEntry *e = lfirst(lc);
		int64		v;

		if (manifest_parse_key(e->key, &v))
			out[(*n)++] = v;
	}
	for (int i = 1; i < *n; i++)	/* listings are sorted; be sure */
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--)
		{
			int64		t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return out;
}

/* ---------------------------------------------------------- pre-commit -- */

static void
prepare_rel(PubRel *p, bool publish)
{
	Relation	rel = try_relation_open(p->relid, AccessShareLock);
	VltabDataset *ds;
	ObjStore   *store;
	Manifest   *m;
	char	   *why = NULL;
	PubReady   *ready;
	MemoryContext old;
	Snapshot	snap;
	int64		own;

	if (rel == NULL)
		return;					/* dropped by this transaction */
	if (!vltab_is_vlake(rel))
	{
		relation_close(rel, AccessShareLock);
		return;
	}
	CommandCounterIncrement();
	ds = vltab_dataset_get(p->relid, GetLatestSnapshot());
	if (ds == NULL)
	{
		relation_close(rel, AccessShareLock);
		return;
	}

	/* 1. deletions of lake rows take this transaction's version now */
	own = p->deletes ? delete_vectors_refresh(rel, ds, NULL, true) : 0;
	if (own > 0)
	{
		ds = vltab_dataset_lock(rel);
		vltab_version_note(ds, "delete", 0, own, 0);
		CommandCounterIncrement();
		ds = vltab_dataset_get(p->relid, GetLatestSnapshot());
	}
	/* 1b. a dropped index (DROP INDEX, not DROP TABLE: rel still exists) */
	if (p->indexes)
	{
		ds = vltab_dataset_lock(rel);
		vltab_version_note(ds, "index", 0, 0, 0);
		CommandCounterIncrement();
		ds = vltab_dataset_get(p->relid, GetLatestSnapshot());
	}
	if (!ds->mine || ds->version == 0)
	{
		/* no version of ours (e.g. its subtransaction rolled back) */
		relation_close(rel, AccessShareLock);
		return;
	}
	store = objstore_open(ds->root);
	/* p->deletes without own deletions: a flush folded updated rows back
	 * (vltab_rowstate_forget), their segments' vectors shrink */
	if (own > 0 || p->segments || p->deletes)
		(void) delete_vectors_refresh(rel, ds, store, false);
	if (!publish)
	{
		objstore_close(store);
		relation_close(rel, AccessShareLock);
		return;
	}

	/*
	 * 2. another engine may have committed this version number meanwhile
	 * (docs/manifest.md, "Commits by other engines"): refuse rather than
	 * lose it; the caller adopts it (vlake.table_refresh) and retries.  A
	 * put racing this check after it is caught by the put-if-absent and
	 * merged by the refresh.
	 */
	lake_fault("publish_before_check");
	if (manifest_exists(store, ds->version))
		refuse_foreign_version(rel, store, ds->version, false);

	/* 3. the documents, built now, put after the commit */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	m = build_manifest(rel, ds, ds->version, snap, &why);
	UnregisterSnapshot(snap);
	if (m == NULL)
	{
		ereport(WARNING,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("version " INT64_FORMAT " of vlake table \"%s\" is not published",
						ds->version, RelationGetRelationName(rel)),
				 errdetail("%s.", why)));
		objstore_close(store);
		relation_close(rel, AccessShareLock);
		return;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	ready = palloc0(sizeof(PubReady));
	ready->relid = p->relid;
	ready->name = pstrdup(RelationGetRelationName(rel));
	ready->store = store;
	ready->version = ds->version;
	ready->doc = manifest_encode(m, &ready->len);
	MemoryContextSwitchTo(old);

	/*
	 * The parent: published by another writer of this table, or lost to
	 * another engine (its put found other bytes: building on it would drop
	 * that engine's version), or unpublished (its writer crashed before its
	 * put: publish it first).
	 */
	if (ds->version > 1 && known_get(p->relid) < ds->version - 1 &&
		manifest_exists(store, ds->version - 1))
	{
		snap = RegisterSnapshot(GetLatestSnapshot());
		snap->curcid = FirstCommandId;
		if (!lake_version_is_ours(rel, store, ds->version - 1, snap))
			refuse_foreign_version(rel, store, ds->version - 1, true);
		UnregisterSnapshot(snap);
		known_set(p->relid, ds->version - 1);
	}
	else if (ds->version > 1 && known_get(p->relid) < ds->version - 1)
	{
		VltabDataset *pds;

		/* the committed catalog without this transaction's changes */
		snap = RegisterSnapshot(GetLatestSnapshot());
		snap->curcid = FirstCommandId;
		pds = vltab_dataset_get(p->relid, snap);
		m = NULL;
		if (pds != NULL && pds->version == ds->version - 1)
			m = build_manifest(rel, pds, pds->version, snap, &why);
		UnregisterSnapshot(snap);
		if (m != NULL)
		{
			old = MemoryContextSwitchTo(TopTransactionContext);
			ready->parent_version = ds->version - 1;
			ready->parent_doc = manifest_encode(m, &ready->parent_len);
			MemoryContextSwitchTo(old);
		}
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	pub_ready = lappend(pub_ready, ready);
	MemoryContextSwitchTo(old);
	relation_close(rel, AccessShareLock);
}

static void
pre_commit(bool publish)
{
	/* prepare_rel may add entries (version notes): iterate by index */
	for (int i = 0; i < list_length(pub_rels); i++)
	{
		CHECK_FOR_INTERRUPTS();
		prepare_rel(list_nth(pub_rels, i), publish);
	}
}

/* ------------------------------------------------------------ post-commit */

static void
post_commit(void)
{
	ListCell   *lc;

	foreach(lc, pub_ready)
	{
		PubReady   *r = lfirst(lc);
		MemoryContext cxt = CurrentMemoryContext;

		/* tests: die between the commit and the put (crash or sleep only:
		 * an ERROR after the commit would be a PANIC) */
		lake_fault("publish_before_put");
		PG_TRY();
		{
			if (r->parent_version > 0)
				(void) manifest_put(r->store, r->parent_version, r->parent_doc, r->parent_len);
			(void) manifest_put(r->store, r->version, r->doc, r->len);
			known_set(r->relid, r->version);
			hint_put(r->store, r->version);
			objstore_close(r->store);
		}
		PG_CATCH();
		{
			ErrorData  *e;

			MemoryContextSwitchTo(cxt);
			e = CopyErrorData();
			FlushErrorState();
			ereport(WARNING,
					(errcode(e->sqlerrcode),
					 errmsg("version " INT64_FORMAT " of vlake table \"%s\" is committed but not published: %s",
							r->version, r->name, e->message),
					 e->sqlerrcode == ERRCODE_DUPLICATE_OBJECT ?
					 errdetail("Another engine committed this version number first; vlake.table_refresh() (or the publication task of the database workers) adopts it and publishes this commit as the next version.") :
					 errdetail("The publication task of the database workers, or vlake.table_publish(), publishes it.")));
			FreeErrorData(e);
		}
		PG_END_TRY();
	}
}

static void
publish_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (pub_rels != NIL)
				pre_commit(true);
			break;
		case XACT_EVENT_PRE_PREPARE:
			/* versions and delete vectors yes; the manifest is published by
			 * the repair once COMMIT PREPARED ran (maybe in another session) */
			if (pub_rels != NIL)
				pre_commit(false);
			break;
		case XACT_EVENT_COMMIT:
			if (pub_ready != NIL)
				post_commit();
			pub_rels = NIL;
			pub_ready = NIL;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
			pub_rels = NIL;
			pub_ready = NIL;
			break;
		default:
			break;
	}
}

/* ---------------------------------------------------------------- repair -- */

/*
 * Publish the committed versions of rel the lake does not have.  full:
 * list every published version and report each missing one that cannot be
 * rebuilt any more; else only check (HEAD) the latest.  Returns the number
 * of manifests written.
 */
int64
vltab_publish_repair(Relation rel, bool full)
{
	Oid			relid = RelationGetRelid(rel);
	VltabDataset *ds = vltab_dataset_get(relid, GetLatestSnapshot());
	ObjStore   *store;
	int64		written = 0;
	int64		latest;
	bool		have_latest;

	if (ds == NULL || ds->version == 0)
		return 0;
	/* the latest version stays the latest while we build it */
	ds = vltab_dataset_lock(rel);
	latest = ds->version;
	store = objstore_open(ds->root);
	if (full)
	{
		int			npub;
		int64	   *pub = published_versions(store, &npub);
		int			j = 0;
		int64		unrecoverable = 0;
		int64		first_missing = 0;

		have_latest = npub > 0 && pub[npub - 1] >= latest;
		for (int64 v = 1; v < latest; v++)
		{
			while (j < npub && pub[j] < v)
				j++;
			if (j < npub && pub[j] == v)
				continue;
			if (unrecoverable++ == 0)
				first_missing = v;
		}
		if (unrecoverable > 0)
			ereport(WARNING,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%lld older version(s) of vlake table \"%s\" are missing from the lake and cannot be published any more (the first: " INT64_FORMAT ")",
							(long long) unrecoverable, RelationGetRelationName(rel), first_missing),
					 errdetail("Only the latest version (" INT64_FORMAT ") can be rebuilt from the catalog.",
							   latest)));
		for (int i = 0; i < npub; i++)
			if (pub[i] == latest)
				have_latest = true;
	}
	else
		have_latest = manifest_exists(store, latest);

	if (!have_latest)
	{
		Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
		char	   *why = NULL;
		Manifest   *m = build_manifest(rel, ds, latest, snap, &why);

		UnregisterSnapshot(snap);
		if (m == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot publish version " INT64_FORMAT " of vlake table \"%s\"",
							latest, RelationGetRelationName(rel)),
					 errdetail("%s.", why)));
		else
		{
			size_t		len;
			char	   *doc = manifest_encode(m, &len);

			if (manifest_put(store, latest, doc, len))
				written++;
		}
	}
	if (full || written > 0)
		hint_put(store, latest);
	known_set(relid, latest);
	objstore_close(store);
	return written;
}

/* Every vlake table of this database (relids of vlake.datasets). */
List *
vltab_publish_tables(void)
{
	Relation	cat = table_open(vltab_catalog_relid("datasets"), AccessShareLock);
	SysScanDesc scan = systable_beginscan(cat, InvalidOid, false, GetLatestSnapshot(), 0, NULL);
	HeapTuple	tup;
	List	   *out = NIL;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;

		out = lappend_oid(out, DatumGetObjectId(heap_getattr(tup, 1, RelationGetDescr(cat),
															 &isnull)));
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return out;
}

/* TRUNCATE and DROP TABLE: the delete vectors go with the segments. */
void
vltab_publish_forget(Oid relid)
{
	Oid			nsp = get_namespace_oid("vlake", true);
	Relation	cat;
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("delete_files", nsp)))
		return;
	cat = table_open(vltab_catalog_relid("delete_files"), RowExclusiveLock);
	scan = scan_relid(cat, "delete_files_pkey", relid, GetLatestSnapshot());
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		CatalogTupleDelete(cat, &tup->t_self);
	systable_endscan(scan);
	table_close(cat, RowExclusiveLock);
}

/* ------------------------------------------------------------------ SQL -- */

PG_FUNCTION_INFO_V1(vlake_table_publish);
Datum
vlake_table_publish(PG_FUNCTION_ARGS)
{
	Relation	rel = vltab_open_checked(PG_GETARG_OID(0), 0, AccessShareLock);
	int64		n = vltab_publish_repair(rel, true);

	table_close(rel, AccessShareLock);
	PG_RETURN_INT64(n);
}

PG_FUNCTION_INFO_V1(vlake_table_manifest);
Datum
vlake_table_manifest(PG_FUNCTION_ARGS)
{
	Relation	rel;
	VltabDataset *ds;
	ObjStore   *store;
	int64		version;
	char		key[MANIFEST_KEY_LEN];
	char	   *buf;
	uint64		len;
	MemoryContext cxt,
				old;
	Datum		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	rel = vltab_open_checked(PG_GETARG_OID(0), ACL_SELECT, AccessShareLock);
	ds = vltab_dataset_get(RelationGetRelid(rel), GetActiveSnapshot());
	if (ds == NULL || ds->version == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("vlake table \"%s\" has no lake version yet", RelationGetRelationName(rel)),
				 errhint("A version is published when a transaction writes to the lake (COPY, vlake.flush(), TRUNCATE, a delete of lake rows).")));
	store = objstore_open(ds->root);
	if (PG_ARGISNULL(1))
	{
		int			n;
		int64	   *pub = published_versions(store, &n);

		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("vlake table \"%s\" has no published version in \"%s\"",
							RelationGetRelationName(rel), ds->root),
					 errhint("vlake.table_publish() publishes the latest committed version.")));
		version = pub[n - 1];
	}
	else
		version = PG_GETARG_INT64(1);
	if (version < 1 || version > MANIFEST_MAX_INT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("version " INT64_FORMAT " is out of range", version)));
	manifest_key(version, key);
	if (!manifest_exists(store, version))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("version " INT64_FORMAT " of vlake table \"%s\" is not published",
						version, RelationGetRelationName(rel)),
				 errdetail("There is no object \"%s\".", objstore_uri(store, key))));
	buf = objstore_get(store, key, &len);
	/* validate (the decoder's memory goes with its context) */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake manifest", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	(void) manifest_decode(buf, len, objstore_uri(store, key));
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(pnstrdup(buf, len)));
	objstore_close(store);
	table_close(rel, AccessShareLock);
	PG_RETURN_DATUM(result);
}

/* ------------------------------------------------------------------ init -- */

void
vltab_publish_init(void)
{
	RegisterXactCallback(publish_xact_callback, NULL);
}
