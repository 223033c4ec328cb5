/*
 * vltab_catalog.c — the catalog tables of vlake tables (tableam.sql):
 * datasets, segments, files, versions.
 *
 * Rules this file keeps:
 *  - Catalog rows change only inside the writing transaction, through
 *    heap_insert/update/delete with their indexes (CatalogTuple*), so they
 *    are WAL-logged, replicated and MVCC: a reader that scans them with its
 *    own snapshot sees exactly the segments committed before it.
 *  - Lake writers of one table serialize on a lock of the dataset
 *    (vltab_dataset_lock, to the end of the transaction) and then read the
 *    latest committed datasets row, so row IDs, segment IDs and versions
 *    are handed out once.  Each transaction that writes to the lake takes
 *    one new version number, whatever number of segments it writes.
 *  - After each change the command counter is advanced, so the same
 *    transaction reads (and may change again) what it wrote.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "lake/lake_location.h"
#include "manifest/manifest.h"
#include "objstore/objstore.h"
#include "tableam/vltab.h"

Oid
vltab_catalog_relid(const char *name)
{
	Oid			nsp = get_namespace_oid("vlake", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(name, nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("vlake catalog table vlake.%s is missing", name),
				 errhint("Is the vlake extension installed in this database?")));
	return relid;
}

/* Scan catalog `table` by its index `index` on relid (and more keys). */
static SysScanDesc
scan_by_relid(Relation cat, const char *index, Oid relid, Snapshot snapshot,
			  int nextra, ScanKeyData *extra)
{
	ScanKeyData keys[3];

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	for (int i = 0; i < nextra; i++)
		keys[1 + i] = extra[i];
	return systable_beginscan(cat, vltab_catalog_relid(index), true, snapshot,
							  1 + nextra, keys);
}

static Datum
getattr(HeapTuple tup, Relation cat, int attno, bool *isnull)
{
	return heap_getattr(tup, attno, RelationGetDescr(cat), isnull);
}

static int64
getint64(HeapTuple tup, Relation cat, int attno)
{
	bool		isnull;
	Datum		d = getattr(tup, cat, attno, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

static char *
get_text(HeapTuple tup, Relation cat, int attno)
{
	bool		isnull;
	Datum		d = getattr(tup, cat, attno, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* ------------------------------------------------------------ datasets -- */

enum
{
	DS_RELID = 1, DS_DATASET_ID, DS_ROOT, DS_VERSION, DS_NEXT_ROW_ID, DS_NEXT_SEGMENT_ID,
	DS_CREATED, DS_ROW_ID_LIMIT, DS_NATTS = DS_ROW_ID_LIMIT
};

static VltabDataset *
dataset_from_tuple(HeapTuple tup, Relation cat)
{
	VltabDataset *ds = palloc0(sizeof(VltabDataset));
	bool		isnull;

	ds->relid = DatumGetObjectId(getattr(tup, cat, DS_RELID, &isnull));
	ds->dataset_id = DatumGetCString(DirectFunctionCall1(uuid_out,
														 getattr(tup, cat, DS_DATASET_ID, &isnull)));
	ds->root = get_text(tup, cat, DS_ROOT);
	ds->version = getint64(tup, cat, DS_VERSION);
	ds->next_row_id = getint64(tup, cat, DS_NEXT_ROW_ID);
	ds->next_segment_id = getint64(tup, cat, DS_NEXT_SEGMENT_ID);
	ds->mine = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data));
	ds->tup_xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
	ds->tup_tid = tup->t_self;
	return ds;
}

VltabDataset *
vltab_dataset_get(Oid relid, Snapshot snapshot)
{
	Relation	cat = table_open(vltab_catalog_relid("datasets"), AccessShareLock);
	SysScanDesc scan = scan_by_relid(cat, "datasets_pkey", relid, snapshot, 0, NULL);
	HeapTuple	tup = systable_getnext(scan);
	VltabDataset *ds = HeapTupleIsValid(tup) ? dataset_from_tuple(tup, cat) : NULL;

	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return ds;
}

static char *
new_uuid(pg_uuid_t *uuid)
{
	if (!pg_strong_random(uuid->data, UUID_LEN))
		ereport(ERROR, (errmsg("could not generate a random dataset ID")));
	uuid->data[6] = (uuid->data[6] & 0x0f) | 0x40;	/* version 4 */
	uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(uuid)));
}

/* A new table's dataset root: its location, or <default>/tables/<uuid>/. */
static char *
dataset_root(const char *explicit, const char *uuid)
{
	char	   *loc = lake_location_choose(explicit);
	size_t		len = strlen(loc);
	const char *slash = (len > 0 && loc[len - 1] == '/') ? "" : "/";

	if (explicit && explicit[0])
		return psprintf("%s%s", loc, slash);
	return psprintf("%s%stables/%s/", loc, slash, uuid);
}

static VltabDataset *
dataset_insert(Relation rel, const char *location)
{
	Relation	cat = table_open(vltab_catalog_relid("datasets"), RowExclusiveLock);
	Datum		values[DS_NATTS];
	bool		nulls[DS_NATTS] = {0};
	pg_uuid_t  *uuid = palloc(sizeof(pg_uuid_t));
	VltabDataset *ds = palloc0(sizeof(VltabDataset));
	HeapTuple	tup;

	ds->relid = RelationGetRelid(rel);
	ds->mine = true;
	ds->dataset_id = new_uuid(uuid);
	ds->root = dataset_root(location, ds->dataset_id);
	ds->next_segment_id = 1;
	values[DS_RELID - 1] = ObjectIdGetDatum(ds->relid);
	values[DS_DATASET_ID - 1] = UUIDPGetDatum(uuid);
	values[DS_ROOT - 1] = CStringGetTextDatum(ds->root);
	values[DS_VERSION - 1] = Int64GetDatum(0);
	values[DS_NEXT_ROW_ID - 1] = Int64GetDatum(0);
	values[DS_NEXT_SEGMENT_ID - 1] = Int64GetDatum(1);
	values[DS_CREATED - 1] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[DS_ROW_ID_LIMIT - 1] = Int64GetDatum(0);
	tup = heap_form_tuple(RelationGetDescr(cat), values, nulls);
	CatalogTupleInsert(cat, tup);
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
	return ds;
}

/*
 * A root holds one dataset: two tables publishing into one _manifest/ chain
 * would corrupt it for every reader.  Refuse a root another table of this
 * database uses, or one whose _manifest/ already has objects (another
 * database, another cluster, an earlier incarnation).
 */
static void
check_root_free_except(const char *root, Oid self)
{
	Relation	cat = table_open(vltab_catalog_relid("datasets"), AccessShareLock);
	SysScanDesc scan = systable_beginscan(cat, InvalidOid, false, GetLatestSnapshot(), 0, NULL);
	HeapTuple	tup;
	ObjStore   *store;
	List	   *found;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		char	   *other = get_text(tup, cat, DS_ROOT);
		bool		isnull;

		if (DatumGetObjectId(getattr(tup, cat, DS_RELID, &isnull)) == self)
			continue;
		if (strcmp(other, root) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("location \"%s\" is the dataset root of another vlake table", root),
					 errdetail("Table \"%s\" uses it.",
							   get_rel_name(DatumGetObjectId(getattr(tup, cat, DS_RELID, &isnull)))),
					 errhint("Give each vlake table a location of its own.")));
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	store = objstore_open(root);
	found = objstore_list(store, MANIFEST_DIR);
	objstore_close(store);
	if (found != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("location \"%s\" already holds a dataset", root),
				 errdetail("Its %s directory is not empty.", MANIFEST_DIR),
				 errhint("Give each vlake table a location of its own.")));
}

void
vltab_dataset_create(Relation rel, const char *location)
{
	LockDatabaseObject(RelationRelationId, RelationGetRelid(rel), 1, ExclusiveLock);
	CommandCounterIncrement();
	if (vltab_dataset_get(RelationGetRelid(rel), GetLatestSnapshot()) == NULL)
	{
		VltabDataset *ds = dataset_insert(rel, location);

		if (location && location[0])
			check_root_free_except(ds->root, RelationGetRelid(rel));
	}
}

VltabDataset *
vltab_dataset_lock(Relation rel)
{
	VltabDataset *ds;

	/* every lake writer comes here: flush, COPY to segments, TRUNCATE */
	vltab_travel_refuse_write(rel, "write to");
	LockDatabaseObject(RelationRelationId, RelationGetRelid(rel), 1, ExclusiveLock);
	CommandCounterIncrement();
	ds = vltab_dataset_get(RelationGetRelid(rel), GetLatestSnapshot());
	if (ds == NULL)
		ds = dataset_insert(rel, NULL);
	return ds;
}

void
vltab_dataset_update(VltabDataset *ds)
{
	Relation	cat = table_open(vltab_catalog_relid("datasets"), RowExclusiveLock);
	SysScanDesc scan;
	HeapTuple	tup;

	CommandCounterIncrement();
	scan = scan_by_relid(cat, "datasets_pkey", ds->relid, GetLatestSnapshot(), 0, NULL);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "vlake dataset of relation %u vanished", ds->relid);
	{
		Datum		values[DS_NATTS];
		bool		nulls[DS_NATTS] = {0};
		bool		repl[DS_NATTS] = {0};
		HeapTuple	newtup;

		values[DS_VERSION - 1] = Int64GetDatum(ds->version);
		values[DS_NEXT_ROW_ID - 1] = Int64GetDatum(ds->next_row_id);
		values[DS_NEXT_SEGMENT_ID - 1] = Int64GetDatum(ds->next_segment_id);
		repl[DS_VERSION - 1] = repl[DS_NEXT_ROW_ID - 1] = repl[DS_NEXT_SEGMENT_ID - 1] = true;
		newtup = heap_modify_tuple(tup, RelationGetDescr(cat), values, nulls, repl);
		CatalogTupleUpdate(cat, &tup->t_self, newtup);
	}
	systable_endscan(scan);
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

/*
 * Row IDs are handed out from row_id_limit, which is raised in place on
 * every version of the datasets row that may be (or become) the current
 * one: the committed one and this transaction's own.  So the raise
 * survives an abort of the writer, and a row ID is never given twice, even
 * though index entries of an aborted COPY may still name it.  The caller
 * holds the dataset lock (vltab_dataset_lock): nobody else raises it
 * meanwhile, so consecutive reservations are contiguous.
 */
/* May this version of a datasets row be, or become, the current one? */
static bool
may_be_current(HeapTuple tup)
{
	HeapTupleHeader h = tup->t_data;
	TransactionId xmin = HeapTupleHeaderGetXmin(h);

	if (!TransactionIdIsCurrentTransactionId(xmin) && !TransactionIdDidCommit(xmin))
		return false;			/* aborted (nobody else writes: we hold the lock) */
	if (!(h->t_infomask & HEAP_XMAX_INVALID) && !HEAP_XMAX_IS_LOCKED_ONLY(h->t_infomask))
	{
		TransactionId xmax = HeapTupleHeaderGetUpdateXid(h);

		if (TransactionIdIsValid(xmax) && !TransactionIdIsCurrentTransactionId(xmax) &&
			TransactionIdDidCommit(xmax))
			return false;		/* superseded for good */
	}
	return true;
}

/* Set row_id_limit in place on every version that may be current. */
static void
set_row_id_limit(Relation cat, List *versions, int64 limit)
{
	ListCell   *lc;

	foreach(lc, versions)
	{
		HeapTuple	old = lfirst(lc);
		Datum		values[DS_NATTS] = {0};
		bool		nulls[DS_NATTS] = {0};
		bool		repl[DS_NATTS] = {0};
		HeapTuple	newtup;

		values[DS_ROW_ID_LIMIT - 1] = Int64GetDatum(limit);
		repl[DS_ROW_ID_LIMIT - 1] = true;
		newtup = heap_modify_tuple(old, RelationGetDescr(cat), values, nulls, repl);
		newtup->t_self = old->t_self;
		heap_inplace_update(cat, newtup);
	}
}

/* The versions of ds's row that may be current (copies), and their limit. */
static List *
current_versions(Relation cat, VltabDataset *ds, int64 *limit)
{
	SysScanDesc scan = scan_by_relid(cat, "datasets_pkey", ds->relid, SnapshotAny, 0, NULL);
	HeapTuple	tup;
	List	   *versions = NIL;

	*limit = ds->next_row_id;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		if (!may_be_current(tup))
			continue;
		*limit = Max(*limit, getint64(tup, cat, DS_ROW_ID_LIMIT));
		versions = lappend(versions, heap_copytuple(tup));
	}
	systable_endscan(scan);
	if (versions == NIL)
		elog(ERROR, "vlake dataset of relation %u has no current catalog row", ds->relid);
	return versions;
}

/*
 * A writer that used row IDs below end only gives the rest of its
 * reservation back: no index entry can name them.
 */
void
vltab_rowids_release(VltabDataset *ds, int64 end)
{
	Relation	cat = table_open(vltab_catalog_relid("datasets"), RowExclusiveLock);
	int64		limit;
	List	   *versions = current_versions(cat, ds, &limit);

	if (end < limit)
		set_row_id_limit(cat, versions, end);
	table_close(cat, RowExclusiveLock);
}

int64
vltab_rowids_reserve(VltabDataset *ds, int64 n)
{
	Relation	cat = table_open(vltab_catalog_relid("datasets"), RowExclusiveLock);
	int64		first;
	List	   *versions = current_versions(cat, ds, &first);

	set_row_id_limit(cat, versions, first + n);
	table_close(cat, RowExclusiveLock);
	return first;
}

/* ------------------------------------------------------------ segments -- */

enum
{
	SG_RELID = 1, SG_SEGMENT_ID, SG_FIRST_ROW_ID, SG_END_ROW_ID, SG_ROW_COUNT, SG_VERSION,
	SG_OPERATION, SG_NATTS = SG_OPERATION
};

enum
{
	FL_RELID = 1, FL_SEGMENT_ID, FL_GROUP_NO, FL_KIND, FL_PATH, FL_ATTNUMS, FL_SIZE, FL_ETAG,
	FL_ROW_COUNT, FL_STAT_ATTNUMS, FL_NULL_COUNTS, FL_MINS, FL_MAXS, FL_PURGED_ROWS,
	FL_OBJECTS_PATH, FL_OBJECTS_SIZE, FL_OBJECTS_ETAG, FL_OBJECTS_COUNT,
	FL_NATTS = FL_OBJECTS_COUNT
};

static const char *const kind_names[] = {"parquet", "vector_cg", "long_text"};

static int
segment_cmp(const void *a, const void *b)
{
	const VltabSegment *x = a,
			   *y = b;

	return (x->first_row_id > y->first_row_id) - (x->first_row_id < y->first_row_id);
}

static int16 *
int2_array(Datum d, int *n)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int16	   *out;

	deconstruct_array(a, INT2OID, 2, true, TYPALIGN_SHORT, &elems, &nulls, n);
	out = palloc(sizeof(int16) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		out[i] = nulls[i] ? 0 : DatumGetInt16(elems[i]);
	return out;
}

static Datum *
text_array(Datum d, int *n, bool **nulls)
{
	Datum	   *elems;

	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, nulls, n);
	return elems;
}

/* The statistics arrays of a files row (for segment skipping). */
static void
file_stats_from_tuple(HeapTuple tup, Relation cat, VltabSegmentFile *f)
{
	bool		isnull;
	Datum		att = getattr(tup, cat, FL_STAT_ATTNUMS, &isnull);
	int16	   *atts;
	int			n,
				nn,
				nmin,
				nmax;
	Datum	   *nc,
			   *mins,
			   *maxs;
	bool	   *ncn,
			   *minn,
			   *maxn;

	if (isnull)
		return;
	atts = int2_array(att, &n);
	deconstruct_array(DatumGetArrayTypeP(getattr(tup, cat, FL_NULL_COUNTS, &isnull)), INT8OID, 8,
					  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &nc, &ncn, &nn);
	mins = text_array(getattr(tup, cat, FL_MINS, &isnull), &nmin, &minn);
	maxs = text_array(getattr(tup, cat, FL_MAXS, &isnull), &nmax, &maxn);
	if (nn != n || nmin != n || nmax != n)
		return;					/* inconsistent: use no statistics */
	f->nstats = n;
	f->stats = palloc0(sizeof(VltabColumnStats) * n);
	for (int i = 0; i < n; i++)
	{
		f->stats[i].attnum = atts[i];
		f->stats[i].null_count = ncn[i] ? 0 : DatumGetInt64(nc[i]);
		f->stats[i].min = minn[i] ? NULL : TextDatumGetCString(mins[i]);
		f->stats[i].max = maxn[i] ? NULL : TextDatumGetCString(maxs[i]);
	}
}

static void
file_from_tuple(HeapTuple tup, Relation cat, VltabSegmentFile *f)
{
	bool		isnull;
	char	   *kind = get_text(tup, cat, FL_KIND);
	int16	   *att;
	int			n;

	memset(f, 0, sizeof(*f));
	f->group_no = DatumGetInt32(getattr(tup, cat, FL_GROUP_NO, &isnull));
	f->kind = VLTAB_GROUP_SCALAR;
	for (int k = 0; k < lengthof(kind_names); k++)
		if (strcmp(kind, kind_names[k]) == 0)
			f->kind = (VltabGroupKind) k;
	f->path = get_text(tup, cat, FL_PATH);
	att = int2_array(getattr(tup, cat, FL_ATTNUMS, &isnull), &n);
	f->natts = n;
	f->attnums = palloc(sizeof(AttrNumber) * Max(n, 1));
	for (int i = 0; i < n; i++)
		f->attnums[i] = att[i];
	f->size = getint64(tup, cat, FL_SIZE);
	f->etag = get_text(tup, cat, FL_ETAG);
	f->row_count = getint64(tup, cat, FL_ROW_COUNT);
	f->purged_rows = getint64(tup, cat, FL_PURGED_ROWS);
	(void) getattr(tup, cat, FL_OBJECTS_PATH, &isnull);
	if (!isnull)
	{
		f->objects_path = get_text(tup, cat, FL_OBJECTS_PATH);
		f->objects_size = getint64(tup, cat, FL_OBJECTS_SIZE);
		f->objects_etag = get_text(tup, cat, FL_OBJECTS_ETAG);
		f->objects_count = getint64(tup, cat, FL_OBJECTS_COUNT);
	}
	file_stats_from_tuple(tup, cat, f);
}

static VltabSegmentList *
segments_read(Oid relid, VltabDataset *ds, Snapshot snapshot)
{
	VltabSegmentList *list = palloc0(sizeof(VltabSegmentList));
	Relation	cat;
	SysScanDesc scan;
	HeapTuple	tup;
	int			cap = 8;

	list->relid = relid;
	if (ds == NULL)
		return list;
	list->root = ds->root;
	list->segments = palloc(sizeof(VltabSegment) * cap);

	cat = table_open(vltab_catalog_relid("segments"), AccessShareLock);
	scan = scan_by_relid(cat, "segments_pkey", relid, snapshot, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		VltabSegment *seg;

		if (list->nsegments == cap)
		{
			cap *= 2;
			list->segments = repalloc(list->segments, sizeof(VltabSegment) * cap);
		}
		seg = &list->segments[list->nsegments++];
		memset(seg, 0, sizeof(*seg));
		seg->segment_id = getint64(tup, cat, SG_SEGMENT_ID);
		seg->first_row_id = getint64(tup, cat, SG_FIRST_ROW_ID);
		seg->end_row_id = getint64(tup, cat, SG_END_ROW_ID);
		seg->row_count = getint64(tup, cat, SG_ROW_COUNT);
		seg->version = getint64(tup, cat, SG_VERSION);
		list->nrows += seg->row_count;
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	if (list->nsegments == 0)
		return list;

	/* files: one scan over the table's rows, attached by segment ID */
	cat = table_open(vltab_catalog_relid("files"), AccessShareLock);
	scan = scan_by_relid(cat, "files_pkey", relid, snapshot, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		int64		segid = getint64(tup, cat, FL_SEGMENT_ID);

		for (int i = 0; i < list->nsegments; i++)
		{
			VltabSegment *seg = &list->segments[i];

			if (seg->segment_id != segid)
				continue;
			seg->files = seg->files ?
				repalloc(seg->files, sizeof(VltabSegmentFile) * (seg->nfiles + 1)) :
				palloc(sizeof(VltabSegmentFile));
			file_from_tuple(tup, cat, &seg->files[seg->nfiles++]);
			break;
		}
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	qsort(list->segments, list->nsegments, sizeof(VltabSegment), segment_cmp);
	return list;
}

/*
 * The segment list cache.  Reading the list costs three catalog scans per
 * statement; index lookups of a vlake table run one statement per row, so
 * the backend keeps the lists it read, keyed by the version of the table's
 * vlake.datasets row the snapshot saw (raw xmin, TID, version).  Why a list
 * is a function of that key: every transaction that changes a table's
 * segments, files or (deleting or updating lake rows) row states also
 * writes its vlake.datasets row (vltab_version_note; deletions at
 * pre-commit), and holds the dataset lock from that write until after its
 * commit is visible; so these transactions are totally ordered, and an MVCC
 * snapshot that sees the row one of them wrote sees exactly it and its
 * predecessors, never a later one.  Not cached: rows this transaction
 * wrote (its later commands may change the list without a new row
 * version), non-MVCC snapshots.  no_deletes is cached with the list for the
 * same reason; this transaction's own deletions are checked by the caller
 * (vltab_publish_noted).
 */
#define SEGCACHE_SIZE 64

typedef struct SegCacheEntry
{
	Oid			relid;			/* InvalidOid: free */
	TransactionId xmin;
	ItemPointerData tid;
	int64		version;
	uint64		used;
	MemoryContext cxt;
	VltabSegmentList *list;
} SegCacheEntry;

static SegCacheEntry segcache[SEGCACHE_SIZE];
static uint64 segcache_clock = 0;

static VltabSegmentList *
segment_list_copy(const VltabSegmentList *src)
{
	VltabSegmentList *l = palloc(sizeof(VltabSegmentList));

	*l = *src;
	l->root = src->root ? pstrdup(src->root) : NULL;
	l->segments = palloc(sizeof(VltabSegment) * Max(src->nsegments, 1));
	for (int i = 0; i < src->nsegments; i++)
	{
		VltabSegment *s = &l->segments[i];

		*s = src->segments[i];
		s->files = palloc(sizeof(VltabSegmentFile) * Max(s->nfiles, 1));
		for (int f = 0; f < s->nfiles; f++)
		{
			VltabSegmentFile *d = &s->files[f];
			const VltabSegmentFile *o = &src->segments[i].files[f];

			*d = *o;
			d->path = pstrdup(o->path);
			d->etag = pstrdup(o->etag);
			d->objects_path = o->objects_path ? pstrdup(o->objects_path) : NULL;
			d->objects_etag = o->objects_etag ? pstrdup(o->objects_etag) : NULL;
			d->attnums = palloc(sizeof(AttrNumber) * Max(o->natts, 1));
			memcpy(d->attnums, o->attnums, sizeof(AttrNumber) * o->natts);
			d->stats = palloc(sizeof(VltabColumnStats) * Max(o->nstats, 1));
			for (int k = 0; k < o->nstats; k++)
			{
				d->stats[k] = o->stats[k];
				d->stats[k].min = o->stats[k].min ? pstrdup(o->stats[k].min) : NULL;
				d->stats[k].max = o->stats[k].max ? pstrdup(o->stats[k].max) : NULL;
			}
		}
	}
	return l;
}

static SegCacheEntry *
segcache_find(VltabDataset *ds)
{
	for (int i = 0; i < SEGCACHE_SIZE; i++)
	{
		SegCacheEntry *e = &segcache[i];

		if (e->relid == ds->relid && e->xmin == ds->tup_xmin && e->version == ds->version &&
			ItemPointerEquals(&e->tid, &ds->tup_tid))
		{
			e->used = ++segcache_clock;
			return e;
		}
	}
	return NULL;
}

static void
segcache_add(VltabDataset *ds, const VltabSegmentList *list)
{
	SegCacheEntry *e = &segcache[0];
	MemoryContext old;

	for (int i = 0; i < SEGCACHE_SIZE; i++)
	{
		if (segcache[i].relid == ds->relid || segcache[i].used < e->used)
			e = &segcache[i];
		if (segcache[i].relid == ds->relid)
			break;				/* a table keeps one list: replace it */
	}
	if (e->cxt == NULL)
		e->cxt = AllocSetContextCreate(TopMemoryContext, "vlake segment list",
									   ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(e->cxt);
	e->relid = InvalidOid;		/* until the copy is complete */
	old = MemoryContextSwitchTo(e->cxt);
	e->list = segment_list_copy(list);
	MemoryContextSwitchTo(old);
	e->xmin = ds->tup_xmin;
	e->tid = ds->tup_tid;
	e->version = ds->version;
	e->used = ++segcache_clock;
	e->relid = ds->relid;
}

/* The segments of relid visible to snapshot (a new copy, by first_row_id). */
VltabSegmentList *
vltab_segments_visible(Oid relid, Snapshot snapshot)
{
	VltabDataset *ds = vltab_dataset_get(relid, snapshot);
	VltabSegmentList *list;
	SegCacheEntry *e;
	bool		cacheable = ds != NULL && !ds->mine && IsMVCCSnapshot(snapshot);

	if (ds == NULL)
	{
		list = palloc0(sizeof(VltabSegmentList));
		list->relid = relid;
		return list;
	}
	if (cacheable && (e = segcache_find(ds)) != NULL)
		return segment_list_copy(e->list);
	list = segments_read(relid, ds, snapshot);
	if (cacheable)
	{
		list->no_deletes = !vltab_rowstate_any_deleted(relid, snapshot);
		segcache_add(ds, list);
	}
	return list;
}

VltabSegment *
vltab_segment_next_at(VltabSegmentList *list, int64 row_id)
{
	int			lo = 0,
				hi = list->nsegments;

	/* segments are sorted and disjoint: the first whose end is past row_id */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (list->segments[mid].end_row_id <= row_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < list->nsegments ? &list->segments[lo] : NULL;
}

VltabSegment *
vltab_segment_find(VltabSegmentList *list, int64 row_id)
{
	VltabSegment *seg = vltab_segment_next_at(list, row_id);

	return (seg && seg->first_row_id <= row_id) ? seg : NULL;
}

static Datum
int2_array_datum(const AttrNumber *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Int16GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, INT2OID, 2, true, TYPALIGN_SHORT));
}

static void
insert_file(Relation cat, Oid relid, int64 segid, const VltabSegmentFile *f)
{
	Datum		values[FL_NATTS];
	bool		nulls[FL_NATTS] = {0};
	HeapTuple	tup;

	values[FL_RELID - 1] = ObjectIdGetDatum(relid);
	values[FL_SEGMENT_ID - 1] = Int64GetDatum(segid);
	values[FL_GROUP_NO - 1] = Int32GetDatum(f->group_no);
	values[FL_KIND - 1] = CStringGetTextDatum(kind_names[f->kind]);
	values[FL_PATH - 1] = CStringGetTextDatum(f->path);
	values[FL_ATTNUMS - 1] = int2_array_datum(f->attnums, f->natts);
	values[FL_SIZE - 1] = Int64GetDatum(f->size);
	values[FL_ETAG - 1] = CStringGetTextDatum(f->etag ? f->etag : "");
	values[FL_ROW_COUNT - 1] = Int64GetDatum(f->row_count);
	values[FL_PURGED_ROWS - 1] = Int64GetDatum(f->purged_rows);
	if (f->objects_path)
	{
		values[FL_OBJECTS_PATH - 1] = CStringGetTextDatum(f->objects_path);
		values[FL_OBJECTS_SIZE - 1] = Int64GetDatum(f->objects_size);
		values[FL_OBJECTS_ETAG - 1] = CStringGetTextDatum(f->objects_etag ? f->objects_etag : "");
		values[FL_OBJECTS_COUNT - 1] = Int64GetDatum(f->objects_count);
	}
	else
		nulls[FL_OBJECTS_PATH - 1] = nulls[FL_OBJECTS_SIZE - 1] =
			nulls[FL_OBJECTS_ETAG - 1] = nulls[FL_OBJECTS_COUNT - 1] = true;
	if (f->nstats > 0)
	{
		AttrNumber *att = palloc(sizeof(AttrNumber) * f->nstats);
		Datum	   *nc = palloc(sizeof(Datum) * f->nstats);
		Datum	   *mn = palloc(sizeof(Datum) * f->nstats);
		Datum	   *mx = palloc(sizeof(Datum) * f->nstats);
		bool	   *mnn = palloc(sizeof(bool) * f->nstats);
		bool	   *mxn = palloc(sizeof(bool) * f->nstats);
		int			dims[1] = {f->nstats};
		int			lbs[1] = {1};

		for (int i = 0; i < f->nstats; i++)
		{
			att[i] = f->stats[i].attnum;
			nc[i] = Int64GetDatum(f->stats[i].null_count);
			mnn[i] = f->stats[i].min == NULL;
			mxn[i] = f->stats[i].max == NULL;
			mn[i] = mnn[i] ? (Datum) 0 : CStringGetTextDatum(f->stats[i].min);
			mx[i] = mxn[i] ? (Datum) 0 : CStringGetTextDatum(f->stats[i].max);
		}
		values[FL_STAT_ATTNUMS - 1] = int2_array_datum(att, f->nstats);
		values[FL_NULL_COUNTS - 1] = PointerGetDatum(construct_array(nc, f->nstats, INT8OID, 8,
																	  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[FL_MINS - 1] = PointerGetDatum(construct_md_array(mn, mnn, 1, dims, lbs, TEXTOID,
																 -1, false, TYPALIGN_INT));
		values[FL_MAXS - 1] = PointerGetDatum(construct_md_array(mx, mxn, 1, dims, lbs, TEXTOID,
																 -1, false, TYPALIGN_INT));
	}
	else
		nulls[FL_STAT_ATTNUMS - 1] = nulls[FL_NULL_COUNTS - 1] =
			nulls[FL_MINS - 1] = nulls[FL_MAXS - 1] = true;
	tup = heap_form_tuple(RelationGetDescr(cat), values, nulls);
	CatalogTupleInsert(cat, tup);
}

void
vltab_segment_insert(VltabDataset *ds, VltabSegment *seg, const char *operation)
{
	Relation	cat = table_open(vltab_catalog_relid("segments"), RowExclusiveLock);
	Relation	fcat = table_open(vltab_catalog_relid("files"), RowExclusiveLock);
	Datum		values[SG_NATTS];
	bool		nulls[SG_NATTS] = {0};
	HeapTuple	tup;

	values[SG_RELID - 1] = ObjectIdGetDatum(ds->relid);
	values[SG_SEGMENT_ID - 1] = Int64GetDatum(seg->segment_id);
	values[SG_FIRST_ROW_ID - 1] = Int64GetDatum(seg->first_row_id);
	values[SG_END_ROW_ID - 1] = Int64GetDatum(seg->end_row_id);
	values[SG_ROW_COUNT - 1] = Int64GetDatum(seg->row_count);
	values[SG_VERSION - 1] = Int64GetDatum(seg->version);
	values[SG_OPERATION - 1] = CStringGetTextDatum(operation);
	tup = heap_form_tuple(RelationGetDescr(cat), values, nulls);
	CatalogTupleInsert(cat, tup);
	for (int i = 0; i < seg->nfiles; i++)
		insert_file(fcat, ds->relid, seg->segment_id, &seg->files[i]);
	table_close(fcat, RowExclusiveLock);
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

/*
 * A column patch of segment segid: its new files (group numbers set by the
 * caller, above every existing one) and the removal of the files whose
 * every column they supersede (groups drop[0..ndrop)).
 */
void
vltab_files_patch(VltabDataset *ds, int64 segid, const VltabSegmentFile *add, int nadd,
				  const int *drop, int ndrop)
{
	Relation	cat = table_open(vltab_catalog_relid("files"), RowExclusiveLock);

	for (int i = 0; i < ndrop; i++)
	{
		ScanKeyData keys[2];
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&keys[0], FL_SEGMENT_ID, BTEqualStrategyNumber, F_INT8EQ,
					Int64GetDatum(segid));
		ScanKeyInit(&keys[1], FL_GROUP_NO, BTEqualStrategyNumber, F_INT4EQ,
					Int32GetDatum(drop[i]));
		scan = scan_by_relid(cat, "files_pkey", ds->relid, GetLatestSnapshot(), 2, keys);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
			CatalogTupleDelete(cat, &tup->t_self);
		systable_endscan(scan);
	}
	for (int i = 0; i < nadd; i++)
		insert_file(cat, ds->relid, segid, &add[i]);
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

/* Delete the rows of segment segid and of its files (compaction). */
void
vltab_segment_remove(Oid relid, int64 segid)
{
	const char *const tables[2] = {"segments", "files"};

	for (int t = 0; t < 2; t++)
	{
		Relation	cat = table_open(vltab_catalog_relid(tables[t]), RowExclusiveLock);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&key, 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(segid));
		scan = scan_by_relid(cat, t == 0 ? "segments_pkey" : "files_pkey", relid,
							 GetLatestSnapshot(), 1, &key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
			CatalogTupleDelete(cat, &tup->t_self);
		systable_endscan(scan);
		table_close(cat, RowExclusiveLock);
	}
	CommandCounterIncrement();
}

/*
 * Replace the files row (relid, segid, group_no) by f (NULL: just delete
 * it); f keeps the group number, so the order of a segment's files (which
 * decides which file holds a column) does not change.
 */
void
vltab_file_replace(Oid relid, int64 segid, int group_no, const VltabSegmentFile *f)
{
	Relation	cat = table_open(vltab_catalog_relid("files"), RowExclusiveLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&keys[0], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(segid));
	ScanKeyInit(&keys[1], 3, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(group_no));
	scan = scan_by_relid(cat, "files_pkey", relid, GetLatestSnapshot(), 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		CatalogTupleDelete(cat, &tup->t_self);
	systable_endscan(scan);
	CommandCounterIncrement();
	if (f != NULL)
	{
		VltabSegmentFile copy = *f;

		copy.group_no = group_no;
		insert_file(cat, relid, segid, &copy);
	}
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

/* ------------------------------------------------------------ versions -- */

static void
version_insert(VltabDataset *ds, const char *operation, int64 rows_added,
					 int64 rows_deleted, int64 bytes_written)
{
	Relation	cat = table_open(vltab_catalog_relid("versions"), RowExclusiveLock);
	Datum		values[8];
	bool		nulls[8] = {0};
	HeapTuple	tup;

	values[0] = ObjectIdGetDatum(ds->relid);
	values[1] = Int64GetDatum(ds->version);
	values[2] = CStringGetTextDatum(operation);
	values[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[4] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	values[5] = Int64GetDatum(rows_added);
	values[6] = Int64GetDatum(rows_deleted);
	values[7] = Int64GetDatum(bytes_written);
	tup = heap_form_tuple(RelationGetDescr(cat), values, nulls);
	CatalogTupleInsert(cat, tup);
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

void
vltab_version_note(VltabDataset *ds, const char *operation, int64 rows_added,
				   int64 rows_deleted, int64 bytes_written)
{
	Relation	cat;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	vltab_publish_note_version(ds->relid);
	/* a version this transaction adopted from another engine is not ours to
	 * add to (vltab_refresh.c): take the next one */
	if (!ds->mine || ds->version == 0 || vltab_refresh_adopted(ds->relid, ds->version))
	{
		ds->version++;
		ds->mine = true;
		vltab_dataset_update(ds);
		version_insert(ds, operation, rows_added, rows_deleted, bytes_written);
		return;
	}
	/* a later change of the same transaction: add to its version's counts */
	cat = table_open(vltab_catalog_relid("versions"), RowExclusiveLock);
	ScanKeyInit(&key, 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(ds->version));
	scan = scan_by_relid(cat, "versions_pkey", ds->relid, GetLatestSnapshot(), 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		Datum		values[8] = {0};
		bool		nulls[8] = {0};
		bool		repl[8] = {0};

		values[5] = Int64GetDatum(getint64(tup, cat, 6) + rows_added);
		values[6] = Int64GetDatum(getint64(tup, cat, 7) + rows_deleted);
		values[7] = Int64GetDatum(getint64(tup, cat, 8) + bytes_written);
		repl[5] = repl[6] = repl[7] = true;
		CatalogTupleUpdate(cat, &tup->t_self,
						   heap_modify_tuple(tup, RelationGetDescr(cat), values, nulls, repl));
	}
	systable_endscan(scan);
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

/* --------------------------------------------------------- column groups -- */

void
vltab_column_group_set(Oid relid, AttrNumber attnum, char choice)
{
	Relation	cat = table_open(vltab_catalog_relid("column_groups"), RowExclusiveLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, 2, BTEqualStrategyNumber, F_INT2EQ, Int16GetDatum(attnum));
	scan = scan_by_relid(cat, "column_groups_pkey", relid, GetLatestSnapshot(), 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		CatalogTupleDelete(cat, &tup->t_self);
	systable_endscan(scan);
	if (choice != 'a')
	{
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = ObjectIdGetDatum(relid);
		values[1] = Int16GetDatum(attnum);
		values[2] = CharGetDatum(choice);
		CatalogTupleInsert(cat, heap_form_tuple(RelationGetDescr(cat), values, nulls));
	}
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

char *
vltab_column_groups(Relation rel)
{
	Relation	cat = table_open(vltab_catalog_relid("column_groups"), AccessShareLock);
	SysScanDesc scan = scan_by_relid(cat, "column_groups_pkey", RelationGetRelid(rel),
									 GetLatestSnapshot(), 0, NULL);
	HeapTuple	tup;
	char	   *groups = NULL;
	int			natts = RelationGetDescr(rel)->natts;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		int			att = DatumGetInt16(getattr(tup, cat, 2, &isnull));

		if (groups == NULL)
		{
			groups = palloc(natts + 1);
			memset(groups, 'a', natts);
			groups[natts] = '\0';
		}
		if (att >= 1 && att <= natts)
			groups[att - 1] = DatumGetChar(getattr(tup, cat, 3, &isnull));
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return groups;
}

/* --------------------------------------------------------- column models -- */

void
vltab_column_model_set(Relation rel, AttrNumber attnum, const char *model, const char *version)
{
	VltabDataset *ds = vltab_dataset_lock(rel);
	Relation	cat = table_open(vltab_catalog_relid("column_models"), RowExclusiveLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	Datum		values[5];
	bool		nulls[5] = {0};
	int64		since;

	/* a model change is a version of its own (or part of this transaction's) */
	vltab_version_note(ds, "model", 0, 0, 0);
	since = ds->version;
	/* a second choice in the same version replaces the first */
	ScanKeyInit(&keys[0], 2, BTEqualStrategyNumber, F_INT2EQ, Int16GetDatum(attnum));
	ScanKeyInit(&keys[1], 3, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(since));
	scan = scan_by_relid(cat, "column_models_pkey", ds->relid, GetLatestSnapshot(), 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		CatalogTupleDelete(cat, &tup->t_self);
	systable_endscan(scan);
	values[0] = ObjectIdGetDatum(ds->relid);
	values[1] = Int16GetDatum(attnum);
	values[2] = Int64GetDatum(since);
	values[3] = CStringGetTextDatum(model);
	values[4] = CStringGetTextDatum(version);
	CatalogTupleInsert(cat, heap_form_tuple(RelationGetDescr(cat), values, nulls));
	table_close(cat, RowExclusiveLock);
	CommandCounterIncrement();
}

VltabModel *
vltab_column_models(Oid relid, int64 version, Snapshot snapshot, int *n)
{
	Relation	cat = table_open(vltab_catalog_relid("column_models"), AccessShareLock);
	SysScanDesc scan = scan_by_relid(cat, "column_models_pkey", relid, snapshot, 0, NULL);
	HeapTuple	tup;
	VltabModel *out = NULL;

	*n = 0;
	/* index order: attnum, then since_version: the last one <= version wins */
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		AttrNumber	att = DatumGetInt16(getattr(tup, cat, 2, &isnull));
		int64		since = getint64(tup, cat, 3);
		VltabModel *m;

		if (since > version)
			continue;
		if (*n > 0 && out[*n - 1].attnum == att)
			m = &out[*n - 1];
		else
		{
			out = out ? repalloc(out, sizeof(VltabModel) * (*n + 1)) : palloc(sizeof(VltabModel));
			m = &out[(*n)++];
			m->attnum = att;
		}
		m->model = get_text(tup, cat, 4);
		m->model_version = get_text(tup, cat, 5);
	}
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	return out;
}

/* ------------------------------------------------------------- forget -- */

static int64
delete_rows(const char *table, const char *index, Oid relid)
{
	Relation	cat = table_open(vltab_catalog_relid(table), RowExclusiveLock);
	SysScanDesc scan = scan_by_relid(cat, index, relid, GetLatestSnapshot(), 0, NULL);
	HeapTuple	tup;
	int64		n = 0;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		CatalogTupleDelete(cat, &tup->t_self);
		n++;
	}
	systable_endscan(scan);
	table_close(cat, RowExclusiveLock);
	return n;
}

void
vltab_catalog_forget(Oid relid, bool keep_dataset)
{
	Oid			nsp = get_namespace_oid("vlake", true);
	int64		nsegs;
	int			nindexes;

	/* during CREATE EXTENSION's own tables, or before the catalog exists */
	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("row_states", nsp)))
		return;
	CommandCounterIncrement();
	nsegs = delete_rows("segments", "segments_pkey", relid);
	/* the index parts covered the old contents (a rebuild records anew) */
	nindexes = vltab_index_forget(relid);
	delete_rows("files", "files_pkey", relid);
	delete_rows("row_states", "row_states_pkey", relid);
	vltab_publish_forget(relid);
	delete_rows("moved_rows", "moved_rows_relid_delta_tid_idx", relid);
	if (!keep_dataset)
	{
		/* the dataset's files stay for its retention, then go (GC) */
		vltab_dropped_note(relid);
		delete_rows("column_groups", "column_groups_pkey", relid);
		delete_rows("retired_files", "retired_files_pkey", relid);
		delete_rows("column_models", "column_models_pkey", relid);
		delete_rows("table_retention", "table_retention_pkey", relid);
		delete_rows("versions", "versions_pkey", relid);
		delete_rows("foreign_versions", "foreign_versions_pkey", relid);
		delete_rows("datasets", "datasets_pkey", relid);
	}
	CommandCounterIncrement();
	/* a version without them, also when only an index part goes (the
	 * published manifest must stop naming it before GC may remove it) */
	if (keep_dataset && (nsegs > 0 || nindexes > 0))
	{
		Relation	rel = relation_open(relid, NoLock);
		VltabDataset *ds = vltab_dataset_lock(rel);

		relation_close(rel, NoLock);
		vltab_version_note(ds, "truncate", 0, nsegs, 0);
	}
}
