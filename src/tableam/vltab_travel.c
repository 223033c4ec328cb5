/*
 * vltab_travel.c — time travel: queries read a retained version of vlake
 * tables (docs/tables.md, "Time travel").
 *
 * SET vlake.as_of_version = N reads every vlake table a query scans as its
 * version N; SET vlake.as_of_timestamp = '...' as its latest version
 * committed at or before that time.  A version's state is its published
 * manifest: the segments, the ColumnGroup files (read as the manifest names
 * them: size and ETag checked) and the delete vectors.  The delta is part of
 * no version, so it is not read.  The latest version, if the lake does not
 * have its manifest yet (a publication to be repaired), is read from the
 * catalog as the query's snapshot sees it.
 *
 * Scans under a setting are sequential (also parallel) and TID range
 * scans: the planner is given no index of a vlake table (the
 * get_relation_info hook), and fetches by TID (index and TID scans of plans
 * made before the setting) are refused, as are writes of vlake tables (a
 * past version is read-only).  The scan still goes through the relation, so
 * privileges and row-level security apply as to a current read.
 *
 * A manifest and its delete vectors are decoded once per transaction and
 * table version (rescans of a nested loop reuse them); the cache goes at
 * transaction end.
 */
#include "postgres.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "lake/lake_delvec.h"
#include "lake/lake_rowref.h"
#include "manifest/manifest.h"
#include "objstore/objstore.h"
#include "tableam/vltab.h"

/* GUCs */
int			vltab_as_of_version = 0;
char	   *vltab_as_of_timestamp = NULL;

/* Statements that scan tables for themselves (ALTER TABLE, CREATE INDEX):
 * their scans read the present (tableam_init.c's utility hook). */
int			vltab_travel_suspended = 0;

static get_relation_info_hook_type prev_get_relation_info = NULL;

bool
vltab_travel_active(void)
{
	if (vltab_travel_suspended > 0)
		return false;
	return vltab_as_of_version > 0 ||
		(vltab_as_of_timestamp != NULL && vltab_as_of_timestamp[0] != '\0');
}

/* The setting in force, for messages. */
static const char *
travel_setting(void)
{
	return vltab_as_of_version > 0 ? "vlake.as_of_version" : "vlake.as_of_timestamp";
}

void
vltab_travel_refuse_write(Relation rel, const char *action)
{
	if (!vltab_travel_active())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
			 errmsg("cannot %s vlake table \"%s\" while %s is set",
					action, RelationGetRelationName(rel), travel_setting()),
			 errdetail("Under vlake.as_of_version or vlake.as_of_timestamp, vlake tables are read as a past version, which is read-only."),
			 errhint("RESET %s first.", travel_setting())));
}

void
vltab_travel_refuse_fetch(Relation rel)
{
	if (!vltab_travel_active())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot fetch rows of vlake table \"%s\" by TID while %s is set",
					RelationGetRelationName(rel), travel_setting()),
			 errdetail("A past version is read by sequential scans only; this plan was made before the setting (an index or TID scan)."),
			 errhint("Plan the query again under the setting (a prepared statement: prepare it again).")));
}

/* --------------------------------------------------- resolving versions -- */

/* The setting's timestamp, parsed in the session's time zone. */
static TimestampTz
travel_timestamp(void)
{
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
												   CStringGetDatum(vltab_as_of_timestamp),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
}

/*
 * The version of rel the setting names, as snap sees the catalog; ERROR
 * (naming the table) when it has none or it has expired.
 */
static int64
travel_version(Relation rel, VltabDataset *ds, Snapshot snap)
{
	const char *name = RelationGetRelationName(rel);
	int64		latest = ds ? ds->version : 0;
	int64		version;
	int64		oldest;

	if (vltab_as_of_version > 0 && vltab_as_of_timestamp && vltab_as_of_timestamp[0])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vlake.as_of_version and vlake.as_of_timestamp are both set"),
				 errhint("Set one of them; '' and 0 turn them off.")));
	if (vltab_as_of_version > 0)
	{
		version = vltab_as_of_version;
		if (version > latest)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("vlake table \"%s\" has no version " INT64_FORMAT, name, version),
					 latest > 0 ? errdetail("Its latest version is " INT64_FORMAT ".", latest) :
					 errdetail("It has no lake version yet.")));
	}
	else
	{
		TimestampTz ts = travel_timestamp();
		int			n;
		VltabVersionRow *rows = vltab_versions_read(RelationGetRelid(rel), snap, &n);

		version = 0;
		/* commit times follow transaction starts: not monotonic in versions */
		for (int i = 0; i < n; i++)
			if (rows[i].committed <= ts && rows[i].version <= latest)
				version = Max(version, rows[i].version);
		if (version == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("vlake table \"%s\" has no version committed at or before %s",
							name, timestamptz_to_str(ts))));
	}
	oldest = vltab_oldest_retained(RelationGetRelid(rel), latest, snap);
	if (version < oldest)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("version " INT64_FORMAT " of vlake table \"%s\" is no longer retained",
						version, name),
				 errdetail("Versions older than the oldest committed within the table's retention (%s) expire; the oldest retained version is " INT64_FORMAT ".",
						   vltab_retention_text(RelationGetRelid(rel), snap), oldest),
				 errhint("ALTER TABLE ... SET (retention = ...) keeps versions longer from now on.")));
	return version;
}

/* ------------------------------------------------ a version's lake state -- */

typedef struct TravelEntry
{
	Oid			relid;
	char		dataset_id[37];
	int64		version;
	VltabSegmentList *segs;
	int64	   *deleted;
	int64		ndeleted;
} TravelEntry;

static MemoryContext travel_cxt = NULL;
static List *travel_cache = NIL;	/* TravelEntry *, in travel_cxt */

static int
segment_cmp(const void *a, const void *b)
{
	const VltabSegment *x = a;
	const VltabSegment *y = b;

	return x->first_row_id < y->first_row_id ? -1 : x->first_row_id > y->first_row_id;
}

static int
attnum_cmp(const void *a, const void *b)
{
	return (int) *(const AttrNumber *) a - (int) *(const AttrNumber *) b;
}

/* A manifest group as a catalog file (group_no: its place in the segment). */
void
vltab_file_from_manifest(const ManifestGroup *g, int group_no, VltabSegmentFile *f)
{
	memset(f, 0, sizeof(*f));
	f->group_no = group_no;
	f->kind = g->layout == MANIFEST_L_VECTOR_CG ? VLTAB_GROUP_VECTOR :
		g->layout == MANIFEST_L_LONG_TEXT ? VLTAB_GROUP_LONG_TEXT : VLTAB_GROUP_SCALAR;
	f->path = g->path;
	f->natts = g->nfield_ids;
	f->attnums = palloc(sizeof(AttrNumber) * Max(g->nfield_ids, 1));
	for (int i = 0; i < g->nfield_ids; i++)
		f->attnums[i] = (AttrNumber) g->field_ids[i];
	qsort(f->attnums, f->natts, sizeof(AttrNumber), attnum_cmp);
	f->size = g->size;
	f->etag = g->etag;
	f->row_count = g->row_count;
	if (g->objects)
	{
		f->objects_path = g->objects->path;
		f->objects_size = g->objects->size;
		f->objects_etag = g->objects->etag;
		f->objects_count = g->objects->count;
	}
	f->nstats = g->nstats;
	f->stats = palloc0(sizeof(VltabColumnStats) * Max(g->nstats, 1));
	for (int i = 0; i < g->nstats; i++)
	{
		f->stats[i].attnum = (AttrNumber) g->stats[i].field_id;
		f->stats[i].null_count = g->stats[i].null_count;
		f->stats[i].min = g->stats[i].min;
		f->stats[i].max = g->stats[i].max;
	}
}

/*
 * A column whose type changed since the version (a rewrite that kept its
 * attnum) cannot be read from that version's files as its current type.
 */
static void
check_field_types(Relation rel, const Manifest *m)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < m->nfields; i++)
	{
		const ManifestField *f = &m->fields[i];
		Form_pg_attribute att;
		char	   *now;

		if (f->id > desc->natts || f->pg_type == NULL)
			continue;
		att = TupleDescAttr(desc, f->id - 1);
		if (att->attisdropped)
			continue;
		now = format_type_with_typemod(att->atttypid, att->atttypmod);
		if (strcmp(now, f->pg_type) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of vlake table \"%s\" was %s in version " INT64_FORMAT " and is %s now",
							NameStr(att->attname), RelationGetRelationName(rel), f->pg_type,
							m->version, now),
					 errdetail("A past version is read with the table's current columns.")));
	}
}

/* The state of version m: segments by first_row_id, sorted deleted row IDs. */
static void
state_from_manifest(Relation rel, ObjStore *store, const char *root, const Manifest *m,
					TravelEntry *e)
{
	VltabSegmentList *list = palloc0(sizeof(VltabSegmentList));
	int64		cap = 0;
	bool		sorted = true;

	list->relid = RelationGetRelid(rel);
	list->root = pstrdup(root);
	list->segments = palloc0(sizeof(VltabSegment) * Max(m->nsegments, 1));
	for (int s = 0; s < m->nsegments; s++)
	{
		const ManifestSegment *ms = &m->segments[s];
		VltabSegment *vs = &list->segments[list->nsegments++];

		vs->segment_id = ms->id;
		vs->first_row_id = ms->first_row_id;
		vs->end_row_id = ms->end_row_id;
		vs->row_count = ms->row_count;
		vs->version = m->version;
		vs->nfiles = ms->ngroups;
		vs->files = palloc0(sizeof(VltabSegmentFile) * Max(ms->ngroups, 1));
		/* the manifest lists a segment's groups in group order */
		for (int g = 0; g < ms->ngroups; g++)
			vltab_file_from_manifest(&ms->groups[g], g, &vs->files[g]);
		list->nrows += vs->row_count;
	}
	qsort(list->segments, list->nsegments, sizeof(VltabSegment), segment_cmp);

	/* delete vectors: each holds row IDs of its own segment's range */
	e->deleted = NULL;
	e->ndeleted = 0;
	for (int s = 0; s < m->nsegments; s++)
	{
		const ManifestDeletes *d = m->segments[s].deletes;
		ObjStat		known;
		LakeDelvec *dv;
		LakeDelvecIter *it;
		uint64		id;

		CHECK_FOR_INTERRUPTS();
		if (d == NULL)
			continue;
		memset(&known, 0, sizeof(known));
		known.size = d->size;
		strlcpy(known.etag, d->etag, sizeof(known.etag));
		dv = lake_delvec_read(store, d->path, &known);
		it = lake_delvec_iter_begin(dv);
		while (lake_delvec_iter_next(it, &id))
		{
			if (e->ndeleted == cap)
			{
				cap = Max(cap * 2, 1024);
				e->deleted = e->deleted ? repalloc_huge(e->deleted, sizeof(int64) * cap) :
					palloc_extended(sizeof(int64) * cap, MCXT_ALLOC_HUGE);
			}
			if (e->ndeleted > 0 && (int64) id <= e->deleted[e->ndeleted - 1])
				sorted = false;
			e->deleted[e->ndeleted++] = (int64) id;
		}
		lake_delvec_iter_end(it);
		lake_delvec_free(dv);
	}
	if (!sorted)
		qsort(e->deleted, e->ndeleted, sizeof(int64), lake_rowref_cmp);
	list->no_deletes = e->ndeleted == 0;
	e->segs = list;
}

static void
travel_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		if (travel_cxt)
			MemoryContextReset(travel_cxt);
		travel_cache = NIL;
	}
}

VltabSegmentList *
vltab_travel_segments(Relation rel, Snapshot snap, int64 **deleted, int64 *ndeleted)
{
	Oid			relid = RelationGetRelid(rel);
	VltabDataset *ds = vltab_dataset_get(relid, snap);
	int64		version = travel_version(rel, ds, snap);
	ListCell   *lc;
	TravelEntry *e;
	ObjStore   *store;
	char		key[MANIFEST_KEY_LEN];
	ObjStat		st;
	MemoryContext old;

	foreach(lc, travel_cache)
	{
		e = lfirst(lc);
		if (e->relid == relid && e->version == version &&
			strcmp(e->dataset_id, ds->dataset_id) == 0)
		{
			*deleted = e->deleted;
			*ndeleted = e->ndeleted;
			return e->segs;
		}
	}
	if (travel_cxt == NULL)
	{
		travel_cxt = AllocSetContextCreate(TopMemoryContext, "vlake time travel",
										   ALLOCSET_DEFAULT_SIZES);
		RegisterXactCallback(travel_xact_callback, NULL);
	}
	old = MemoryContextSwitchTo(travel_cxt);
	e = palloc0(sizeof(TravelEntry));
	e->relid = relid;
	strlcpy(e->dataset_id, ds->dataset_id, sizeof(e->dataset_id));
	e->version = version;
	store = objstore_open(ds->root);
	manifest_key(version, key);
	if (objstore_head(store, key, &st))
	{
		char	   *buf;
		uint64		len;
		Manifest   *m;

		buf = objstore_get(store, key, &len);
		m = manifest_decode(buf, len, objstore_uri(store, key));
		if (strcmp(m->dataset_id, ds->dataset_id) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("vlake manifest \"%s\" belongs to another dataset (%s, not %s)",
							objstore_uri(store, key), m->dataset_id, ds->dataset_id)));
		check_field_types(rel, m);
		state_from_manifest(rel, store, ds->root, m, e);
	}
	else if (version == ds->version)
	{
		/* the latest version, not published yet: the catalog is its state */
		e->segs = vltab_segments_visible(relid, snap);
		e->deleted = vltab_rowstate_deleted(relid, snap, &e->ndeleted);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("version " INT64_FORMAT " of vlake table \"%s\" is no longer retained",
						version, RelationGetRelationName(rel)),
				 errdetail("Its manifest \"%s\" is not in the lake (expired, or never published).",
						   objstore_uri(store, key))));
	objstore_close(store);
	travel_cache = lappend(travel_cache, e);
	MemoryContextSwitchTo(old);
	*deleted = e->deleted;
	*ndeleted = e->ndeleted;
	return e->segs;
}

/* -------------------------------------------------------------- planner -- */

/* Under a setting, a vlake table has no index the planner may use: index
 * entries point at the present rows (delta TIDs, lake rows since deleted). */
static void
travel_get_relation_info(PlannerInfo *root, Oid relationObjectId, bool inhparent,
						 RelOptInfo *rel)
{
	if (prev_get_relation_info)
		prev_get_relation_info(root, relationObjectId, inhparent, rel);
	if (rel->indexlist != NIL && vltab_travel_active())
	{
		Relation	r = RelationIdGetRelation(relationObjectId);

		if (RelationIsValid(r))
		{
			if (vltab_is_vlake(r))
				rel->indexlist = NIL;
			RelationClose(r);
		}
	}
}

void
vltab_travel_init(void)
{
	DefineCustomIntVariable("vlake.as_of_version",
							"Read vlake tables as this version of each (0: the present).",
							"Every vlake table a query reads is read as its version N, from its manifest; writes of vlake tables are refused.",
							&vltab_as_of_version, 0, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("vlake.as_of_timestamp",
							   "Read vlake tables as their latest version committed at or before this time ('': the present).",
							   "A timestamptz in the session's time zone; writes of vlake tables are refused.",
							   &vltab_as_of_timestamp, "",
							   PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.table_retention",
							"How long past versions of vlake tables stay readable, unless a table has a retention option.",
							"Versions committed within this time before now (and the latest) are retained; GC removes what only older versions need.",
							&vltab_table_retention, 7 * 24 * 3600, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_S, NULL, NULL, NULL);
	prev_get_relation_info = get_relation_info_hook;
	get_relation_info_hook = travel_get_relation_info;
}
