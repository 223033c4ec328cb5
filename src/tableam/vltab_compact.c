/*
 * vltab_compact.c — compaction of a vlake table's lake segments
 * (vlake.compact(), and the compaction task of the database workers).
 *
 * What it does, keeping every row ID (file row k of a segment is row ID
 * first_row_id + k, always; a lake row's TID derives from its row ID, so no
 * index entry changes):
 *   - merges runs of small segments that are adjacent in row-ID space (one
 *     segment's end_row_id is the next one's first_row_id) into one new
 *     segment covering the same range; segments separated by a gap (row IDs
 *     an aborted writer reserved) are not merged;
 *   - erases ("purges") the values of deleted lake rows in the files it
 *     rewrites: the row stays in the file as a row of NULLs, so the row IDs
 *     of the rows after it do not move, and it stays deleted (its
 *     vlake.row_states entry is not touched; delete vectors keep it);
 *   - rewrites a ColumnGroup file of a segment it does not merge only when
 *     that saves at least vlake.compact_min_savings of the file: the share
 *     of rows it would newly erase, and of its columns a later file of the
 *     segment supersedes (a file every column of which is superseded is
 *     dropped without writing).  vlake.files.purged_rows remembers how many
 *     rows a file already has erased.
 *
 * Steps: (1) with the transaction snapshot, read the segments and the
 * purgeable rows, plan, and write every new file under new lake parts,
 * without the dataset lock (readers and writers go on); (2) take the
 * dataset lock, check that the input segments and files are still what the
 * plan read (ShareUpdateExclusiveLock keeps TRUNCATE and other compactions
 * out, the check anything else), and swap the catalog rows in one
 * transaction, which commits one version "compact"; pre-commit refreshes
 * the delete vectors (merged segments get one; see vltab_publish.c).
 * A crash or ERROR before the commit leaves the catalog as it was: the new
 * files are parts nothing names, which the table GC removes.
 *
 * Why no snapshot ever sees an erased row as live.  A row is erased only if
 * (a) a 'd' or 'u' entry of vlake.row_states for it is visible to the
 * compacting transaction's snapshot (so its writer committed before that
 * snapshot was taken), and (b) that entry's xmin precedes
 * GetOldestNonRemovableTransactionId(rel): every snapshot that exists when
 * compaction starts has an xmin above the deleter, so it sees the deleter
 * committed (the same horizon rule VACUUM uses to remove a dead tuple).
 * Then:
 *   - an MVCC snapshot reads the files the vlake.files rows it sees name.
 *     One that does not see the compaction reads the old files, unchanged.
 *     One that sees the compaction committed was taken after it committed,
 *     hence after the deleter committed: it sees the deletion (row_states
 *     entries of 'd' are never removed while the table lives — TRUNCATE
 *     and DROP remove segments with them; a 'u' whose changed columns are
 *     recorded may be folded back into its row ID by a flush, so such rows
 *     are never erased), so it skips the row;
 *   - non-MVCC readers (an index build's SnapshotAny scan indexes deleted
 *     rows "only an old snapshot sees"; unique checks' dirty snapshots):
 *     by (b) no snapshot that could see the row live exists any more, nor
 *     can one be taken, so an index entry made from the erased values is
 *     never used to return the row;
 *   - a concurrent DELETE or UPDATE of another lake row writes row_states
 *     keyed by row ID, which compaction keeps; its delete vector is written
 *     at its pre-commit under the dataset lock, against the segments as
 *     they are then (compaction's, if it committed first).
 * Readers of published manifests (other engines) read the old files until
 * GC removes them (vlake.table_gc_min_age).
 *
 * Old files: a merge's input parts become unnamed and go by the part GC
 * (vltab_gc.c).  A rewritten or dropped file whose part other files still
 * use is listed in vlake.retired_files by the compaction's transaction;
 * vltab_retired_gc deletes it once that transaction is committed and
 * precedes every snapshot's xmin (then no snapshot reads the catalog rows
 * that named it), no retained version names it (time travel: the version
 * before the compaction's is the last one that does) and
 * vlake.table_gc_min_age has passed (readers of the published manifests).
 *
 * Progress: vlake.stat_progress_compact, from a small array in shared
 * memory (PG15 has no custom progress command).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/indexing.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "lake/lake_fault.h"
#include "lake/lake_part.h"
#include "objstore/objstore.h"
#include "tableam/vltab.h"

double		vltab_compact_min_savings = 0.2;
int			vltab_compact_small_rows = 100000;

/* ------------------------------------------------------------ progress -- */

#define COMPACT_SLOTS 32

enum
{
	PH_PLANNING, PH_WRITING, PH_SWAPPING, PH_NPHASES
};
static const char *const phase_names[PH_NPHASES] = {
	"planning", "writing files", "swapping catalog"
};

typedef struct CompactProgress
{
	int			pid;			/* 0: free */
	Oid			datid;
	Oid			relid;
	int			phase;
	int64		segments_total;
	int64		segments_done;
	int64		groups_rewritten;
	int64		rows_purged;
	int64		bytes_read;
	int64		bytes_written;
} CompactProgress;

typedef struct CompactShared
{
	slock_t		mutex;
	CompactProgress slots[COMPACT_SLOTS];
} CompactShared;

static CompactShared *compact_shared = NULL;
static int	my_slot = -1;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
compact_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CompactShared)));
}

static void
compact_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	compact_shared = ShmemInitStruct("vlake compaction progress", sizeof(CompactShared), &found);
	if (!found)
	{
		memset(compact_shared, 0, sizeof(CompactShared));
		SpinLockInit(&compact_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
vltab_compact_shmem_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = compact_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = compact_shmem_startup;
}

static void
progress_end(void)
{
	if (compact_shared == NULL || my_slot < 0)
		return;
	SpinLockAcquire(&compact_shared->mutex);
	compact_shared->slots[my_slot].pid = 0;
	SpinLockRelease(&compact_shared->mutex);
	my_slot = -1;
}

static void
progress_exit(int code, Datum arg)
{
	progress_end();
}

static void
progress_begin(Oid relid)
{
	static bool exit_registered = false;

	if (compact_shared == NULL)
		return;
	if (!exit_registered)
	{
		before_shmem_exit(progress_exit, (Datum) 0);
		exit_registered = true;
	}
	progress_end();
	SpinLockAcquire(&compact_shared->mutex);
	for (int i = 0; i < COMPACT_SLOTS; i++)
	{
		CompactProgress *p = &compact_shared->slots[i];

		if (p->pid != 0)
			continue;
		memset(p, 0, sizeof(*p));
		p->pid = MyProcPid;
		p->datid = MyDatabaseId;
		p->relid = relid;
		my_slot = i;
		break;
	}
	SpinLockRelease(&compact_shared->mutex);
}

/* Publish the counters of res and the phase (no slot: nothing). */
static void
progress_set(int phase, int64 total, int64 done, const VltabCompactResult *res)
{
	CompactProgress *p;

	if (compact_shared == NULL || my_slot < 0)
		return;
	p = &compact_shared->slots[my_slot];
	SpinLockAcquire(&compact_shared->mutex);
	p->phase = phase;
	p->segments_total = total;
	p->segments_done = done;
	p->groups_rewritten = res->groups_rewritten;
	p->rows_purged = res->rows_purged;
	p->bytes_read = res->bytes_read;
	p->bytes_written = res->bytes_written;
	SpinLockRelease(&compact_shared->mutex);
}

/* ------------------------------------------------------------ planning -- */

/* Purgeable rows in [first, end): index range [*lo, return) of ids. */
static int64
purge_range(const int64 *ids, int64 n, int64 first, int64 end, int64 *lo)
{
	int64		a = 0,
				b = n;

	while (a < b)
	{
		int64		m = a + (b - a) / 2;

		if (ids[m] < first)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (b < n && ids[b] < end)
		b++;
	return b;
}

/* Does a later file of seg than f hold attnum (f's copy is superseded)? */
static bool
superseded(const VltabSegment *seg, const VltabSegmentFile *f, AttrNumber attnum)
{
	for (int i = 0; i < seg->nfiles; i++)
	{
		const VltabSegmentFile *o = &seg->files[i];

		if (o->group_no <= f->group_no)
			continue;
		for (int k = 0; k < o->natts; k++)
			if (o->attnums[k] == attnum)
				return true;
	}
	return false;
}

/* ------------------------------------------------------------- writing -- */

/* A new part under ds's root for one writer. */
static char *
new_part(Relation rel, VltabDataset *ds)
{
	char	   *prefix = lake_part_new_prefix(&vltab_part_kind, RelationGetRelid(rel));
	ObjStore   *store = objstore_open(ds->root);

	lake_part_begin(store, prefix, &vltab_part_kind);
	objstore_close(store);
	return prefix;
}

/* desc with only the columns in keep (NULL: every live one). */
static TupleDesc
writer_desc(TupleDesc desc, Bitmapset *keep)
{
	TupleDesc	d = CreateTupleDescCopy(desc);

	for (int i = 0; i < d->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(d, i);

		if (keep && !bms_is_member(i + 1, keep))
			att->attisdropped = true;
	}
	return d;
}

/* One file of a segment to rewrite. */
typedef struct FileJob
{
	VltabSegmentFile *old;
	Bitmapset  *keep;			/* its columns no later file supersedes */
	VltabSegmentWriter *w;
	VltabSegmentFile *out;		/* written; NULL: drop the row */
} FileJob;

/* The work on one segment, or on one run of merged segments. */
typedef struct SegJob
{
	int			first;			/* index in the segment list */
	int			nsegs;			/* > 1: a merge */
	int			nfiles;
	FileJob    *files;			/* rewrites (no merge) */
	VltabSegmentWriter *w;		/* the merge's writer */
	VltabSegment merged;		/* the merge's result */
	int64		purged;			/* purgeable rows in its range */
} SegJob;

/* Read the rows of seg (attrs) and add them to the writers, erasing ids. */
static void
copy_rows(Relation rel, const char *root, VltabSegment *seg, Bitmapset *attrs,
		  const int64 *ids, int64 nids, VltabSegmentWriter **ws, int nws,
		  VltabCompactResult *res)
{
	TupleDesc	desc = RelationGetDescr(rel);
	VltabSegmentReader *r = vltab_segment_open(root, desc, seg->first_row_id, seg->row_count,
											   seg->files, seg->nfiles);
	VltabSegmentScan *s = vltab_segment_scan_begin(r, attrs);
	Datum	   *values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	bool	   *isnull = palloc(sizeof(bool) * Max(desc->natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	int64		row_id,
				expect = seg->first_row_id,
				k = 0;

	/* NOT NULL columns keep their values (the manifest says they have no
	 * NULLs, deleted rows included) */
	while (vltab_segment_scan_next(s, &row_id, values, isnull))
	{
		bool		erase;

		CHECK_FOR_INTERRUPTS();
		if (row_id != expect)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("segment " INT64_FORMAT " of vlake table \"%s\" returned row ID " INT64_FORMAT ", expected " INT64_FORMAT,
							seg->segment_id, RelationGetRelationName(rel), row_id, expect)));
		expect++;
		while (k < nids && ids[k] < row_id)
			k++;
		erase = k < nids && ids[k] == row_id;
		if (erase)
			for (int i = 0; i < desc->natts; i++)
				nulls[i] = isnull[i] || !TupleDescAttr(desc, i)->attnotnull;
		for (int i = 0; i < nws; i++)
			vltab_segment_add(ws[i], values, erase ? nulls : isnull);
	}
	vltab_segment_scan_end(s);
	if (expect != seg->end_row_id)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("segment " INT64_FORMAT " of vlake table \"%s\" has " INT64_FORMAT " rows, expected " INT64_FORMAT,
						seg->segment_id, RelationGetRelationName(rel),
						expect - seg->first_row_id, seg->end_row_id - seg->first_row_id)));
	res->bytes_read += vltab_segment_bytes_read(r);
	vltab_segment_close(r);
	pfree(values);
	pfree(isnull);
	pfree(nulls);
}

/* List a file this transaction stops naming in vlake.retired_files. */
static void
retire_file(Oid relid, const char *path, int64 version)
{
	Relation	cat = table_open(vltab_catalog_relid("retired_files"), RowExclusiveLock);
	Datum		values[5];
	bool		nulls[5] = {0};

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(path);
	values[2] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	values[3] = Int64GetDatum(version);
	values[4] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	CatalogTupleInsert(cat, heap_form_tuple(RelationGetDescr(cat), values, nulls));
	table_close(cat, RowExclusiveLock);
}

int64
vltab_retired_gc(Oid relid, int64 min_age_s)
{
	TransactionId horizon = GetOldestNonRemovableTransactionId(NULL);
	FullTransactionId next = ReadNextFullTransactionId();
	FullTransactionId fhorizon;
	TimestampTz cutoff = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), -min_age_s * 1000);
	Relation	cat;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	VltabDataset *ds = vltab_dataset_get(relid, GetLatestSnapshot());
	VltabSegmentList *segs;
	ObjStore   *store = NULL;
	int64		n = 0;
	int64		oldest;

	if (ds == NULL)
		return 0;
	/* time travel: versions from the oldest retained one on may be read */
	oldest = vltab_oldest_retained(relid, ds->version, GetLatestSnapshot());
	/* the horizon as a full xid: it is at most 2^31 behind next */
	fhorizon = FullTransactionIdFromEpochAndXid(EpochFromFullTransactionId(next) -
												(horizon > XidFromFullTransactionId(next) ? 1 : 0),
												horizon);
	segs = vltab_segments_visible(relid, GetLatestSnapshot());
	cat = table_open(vltab_catalog_relid("retired_files"), RowExclusiveLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(cat, vltab_catalog_relid("retired_files_pkey"), true,
							  GetLatestSnapshot(), 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		char	   *path = TextDatumGetCString(heap_getattr(tup, 2, RelationGetDescr(cat), &isnull));
		FullTransactionId xid = DatumGetFullTransactionId(heap_getattr(tup, 3, RelationGetDescr(cat), &isnull));
		int64		version = DatumGetInt64(heap_getattr(tup, 4, RelationGetDescr(cat), &isnull));
		TimestampTz when = DatumGetTimestampTz(heap_getattr(tup, 5, RelationGetDescr(cat), &isnull));
		bool		named = false;

		CHECK_FOR_INTERRUPTS();
		/* version - 1 is the last that names it */
		if (!FullTransactionIdPrecedes(xid, fhorizon) || when > cutoff || version - 1 >= oldest)
			continue;
		/* never a file the catalog names (cannot happen: paths are unique) */
		for (int s = 0; s < segs->nsegments && !named; s++)
			for (int f = 0; f < segs->segments[s].nfiles && !named; f++)
				named = strcmp(segs->segments[s].files[f].path, path) == 0;
		if (!named)
		{
			if (store == NULL)
				store = objstore_open(ds->root);
			objstore_delete(store, path);
		}
		CatalogTupleDelete(cat, &tup->t_self);
		n++;
	}
	systable_endscan(scan);
	table_close(cat, RowExclusiveLock);
	if (store)
		objstore_close(store);
	return n;
}

/* Are seg's files in cur still exactly the ones the plan read? */
static bool
segment_unchanged(VltabSegmentList *cur, const VltabSegment *seg)
{
	VltabSegment *c = vltab_segment_find(cur, seg->first_row_id);

	if (c == NULL || c->segment_id != seg->segment_id || c->nfiles != seg->nfiles)
		return false;
	for (int i = 0; i < seg->nfiles; i++)
	{
		bool		found = false;

		for (int j = 0; j < c->nfiles && !found; j++)
			found = c->files[j].group_no == seg->files[i].group_no &&
				strcmp(c->files[j].path, seg->files[i].path) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* The work of vltab_compact_relation (ds: as snap sees it). */
static void
compact_body(Relation rel, VltabDataset *ds, Snapshot snap, double min_savings, bool merge,
			 VltabCompactResult *res)
{
	Oid			relid = RelationGetRelid(rel);
	TupleDesc	desc = RelationGetDescr(rel);
	VltabSegmentList *segs;
	int64	   *ids;
	int64		nids;
	SegJob	   *jobs;
	int			njobs = 0;
	int64		segs_total = 0,
				segs_done = 0;

	segs = vltab_segments_visible(relid, snap);
	ids = vltab_rowstate_purgeable(rel, snap, GetOldestNonRemovableTransactionId(rel), &nids);
	progress_set(PH_PLANNING, segs->nsegments, 0, res);

	/* 1. plan */
	jobs = palloc0(sizeof(SegJob) * Max(segs->nsegments, 1));
	for (int i = 0; i < segs->nsegments;)
	{
		VltabSegment *seg = &segs->segments[i];
		SegJob	   *j = &jobs[njobs];
		int			n = 1;
		int64		rows = seg->row_count;
		int64		lo;

		/* a run of small segments, adjacent in row-ID space */
		while (merge && seg->row_count < vltab_compact_small_rows && i + n < segs->nsegments &&
			   segs->segments[i + n].row_count < vltab_compact_small_rows &&
			   segs->segments[i + n].first_row_id == segs->segments[i + n - 1].end_row_id &&
			   rows + segs->segments[i + n].row_count <= vltab_max_segment_rows)
			rows += segs->segments[i + n++].row_count;
		j->first = i;
		j->nsegs = n;
		j->purged = purge_range(ids, nids, seg->first_row_id,
								segs->segments[i + n - 1].end_row_id, &lo) - lo;
		i += n;
		if (n > 1)
		{
			njobs++;
			segs_total += n;
			continue;
		}
		j->files = palloc0(sizeof(FileJob) * Max(seg->nfiles, 1));
		for (int f = 0; f < seg->nfiles; f++)
		{
			VltabSegmentFile *file = &seg->files[f];
			Bitmapset  *keep = NULL;
			int			nsup = 0;
			double		purge_share,
						saving;

			for (int k = 0; k < file->natts; k++)
			{
				if (superseded(seg, file, file->attnums[k]))
					nsup++;
				else
					keep = bms_add_member(keep, file->attnums[k]);
			}
			purge_share = seg->row_count > 0 ?
				(double) Max(j->purged - file->purged_rows, 0) / seg->row_count : 0;
			saving = 1.0 - (1.0 - purge_share) *
				(1.0 - (file->natts > 0 ? (double) nsup / file->natts : 0));
			if (keep != NULL && (saving <= 0 || saving < min_savings))
				continue;
			j->files[j->nfiles].old = file;
			j->files[j->nfiles].keep = keep;
			j->nfiles++;
		}
		if (j->nfiles > 0)
		{
			njobs++;
			segs_total++;
		}
	}

	/* 2. write, without the dataset lock */
	progress_set(PH_WRITING, segs_total, 0, res);
	for (int i = 0; i < njobs; i++)
	{
		SegJob	   *j = &jobs[i];
		int64		lo;
		int64		hi;
		VltabSegment *first = &segs->segments[j->first];
		VltabSegment *last = &segs->segments[j->first + j->nsegs - 1];

		hi = purge_range(ids, nids, first->first_row_id, last->end_row_id, &lo);
		if (j->nsegs > 1)
		{
			TupleDesc	wd = writer_desc(desc, NULL);

			j->w = vltab_segment_begin_grouped(ds->root, new_part(rel, ds), wd,
											   first->first_row_id,
											   vltab_column_groups(rel));
			for (int s = 0; s < j->nsegs; s++)
			{
				copy_rows(rel, ds->root, &segs->segments[j->first + s],
						  vltab_all_attrs(desc), ids + lo, hi - lo, &j->w, 1, res);
				progress_set(PH_WRITING, segs_total, ++segs_done, res);
			}
			j->merged.files = vltab_segment_finish(j->w, &j->merged.nfiles);
			j->merged.first_row_id = first->first_row_id;
			j->merged.end_row_id = last->end_row_id;
			j->merged.row_count = last->end_row_id - first->first_row_id;
			for (int f = 0; f < j->merged.nfiles; f++)
			{
				j->merged.files[f].purged_rows = j->purged;
				res->bytes_written += j->merged.files[f].size + j->merged.files[f].objects_size;
				res->groups_rewritten++;
			}
			res->segments_merged += j->nsegs;
			res->rows_purged += j->purged;
		}
		else
		{
			VltabSegmentWriter **ws = palloc(sizeof(VltabSegmentWriter *) * j->nfiles);
			int			nws = 0;
			Bitmapset  *attrs = NULL;
			int64		newly = 0;

			for (int f = 0; f < j->nfiles; f++)
			{
				FileJob    *fj = &j->files[f];
				char	   *groups;

				if (fj->keep == NULL)
					continue;	/* every column superseded: dropped */
				/* the same grouping as the old file */
				groups = palloc(Max(desc->natts, 1));
				memset(groups, fj->old->kind == VLTAB_GROUP_SCALAR ? 's' : 'o',
					   Max(desc->natts, 1));
				fj->w = vltab_segment_begin_grouped(ds->root, new_part(rel, ds),
													writer_desc(desc, fj->keep),
													first->first_row_id, groups);
				ws[nws++] = fj->w;
				attrs = bms_union(attrs, fj->keep);
			}
			if (nws > 0)
				copy_rows(rel, ds->root, first, attrs, ids + lo, hi - lo, ws, nws, res);
			for (int f = 0; f < j->nfiles; f++)
			{
				FileJob    *fj = &j->files[f];
				int			nout;

				if (fj->w == NULL)
				{
					res->groups_dropped++;
					continue;
				}
				fj->out = vltab_segment_finish(fj->w, &nout);
				if (nout != 1)
					ereport(ERROR,
							(errcode(ERRCODE_INTERNAL_ERROR),
							 errmsg("rewriting file \"%s\" of vlake table \"%s\" gave %d files",
									fj->old->path, RelationGetRelationName(rel), nout)));
				fj->out->purged_rows = j->purged;
				res->bytes_written += fj->out->size + fj->out->objects_size;
				res->groups_rewritten++;
				newly = Max(newly, j->purged - fj->old->purged_rows);
			}
			res->rows_purged += newly;
			progress_set(PH_WRITING, segs_total, ++segs_done, res);
		}
	}
	lake_fault("compact_after_files");

	/* 3. swap the catalog rows, under the dataset lock */
	if (njobs > 0)
	{
		VltabSegmentList *cur;

		progress_set(PH_SWAPPING, segs_total, segs_done, res);
		ds = vltab_dataset_lock(rel);
		cur = vltab_segments_visible(relid, GetLatestSnapshot());
		for (int i = 0; i < njobs; i++)
			for (int s = 0; s < jobs[i].nsegs; s++)
				if (!segment_unchanged(cur, &segs->segments[jobs[i].first + s]))
					ereport(ERROR,
							(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
							 errmsg("could not compact vlake table \"%s\": segment " INT64_FORMAT " changed concurrently",
									RelationGetRelationName(rel),
									segs->segments[jobs[i].first + s].segment_id),
							 errhint("Run the compaction again.")));
		vltab_version_note(ds, "compact", 0, 0, res->bytes_written);
		for (int i = 0; i < njobs; i++)
		{
			SegJob	   *j = &jobs[i];

			if (j->nsegs > 1)
			{
				for (int s = 0; s < j->nsegs; s++)
					vltab_segment_remove(relid, segs->segments[j->first + s].segment_id);
				j->merged.segment_id = ds->next_segment_id++;
				j->merged.version = ds->version;
				vltab_segment_insert(ds, &j->merged, "compact");
			}
			else
			{
				for (int f = 0; f < j->nfiles; f++)
				{
					vltab_file_replace(relid, segs->segments[j->first].segment_id,
									   j->files[f].old->group_no, j->files[f].out);
					retire_file(relid, j->files[f].old->path, ds->version);
					/* its object list goes with it */
					if (j->files[f].old->objects_path)
						retire_file(relid, j->files[f].old->objects_path, ds->version);
				}
			}
		}
		vltab_dataset_update(ds);
		vltab_publish_note_segments(rel);
		lake_fault("compact_after_catalog");
	}
}

/* compact_body with a progress slot, freed however it ends */
static void
compact_guarded(Relation rel, VltabDataset *ds, Snapshot snap, double min_savings, bool merge,
				VltabCompactResult *res)
{
	progress_begin(RelationGetRelid(rel));
	PG_TRY();
	{
		compact_body(rel, ds, snap, min_savings, merge, res);
	}
	PG_FINALLY();
	{
		progress_end();
	}
	PG_END_TRY();
}

void
vltab_compact_relation(Relation rel, double min_savings, bool merge, VltabCompactResult *res)
{
	Oid			relid = RelationGetRelid(rel);
	Snapshot	snap;
	VltabDataset *ds;
	MemoryContext cxt,
				old;

	memset(res, 0, sizeof(*res));
	if (min_savings < 0)
		min_savings = vltab_compact_min_savings;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake compaction", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	snap = RegisterSnapshot(GetTransactionSnapshot());
	ds = vltab_dataset_get(relid, snap);
	if (ds != NULL)
		compact_guarded(rel, ds, snap, min_savings, merge, res);
	UnregisterSnapshot(snap);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/* ----------------------------------------------------------------- SQL -- */

PG_FUNCTION_INFO_V1(vlake_compact);
Datum
vlake_compact(PG_FUNCTION_ARGS)
{
	Relation	rel;
	VltabCompactResult res;
	double		min_savings = PG_ARGISNULL(1) ? -1 : PG_GETARG_FLOAT8(1);
	bool		merge = PG_ARGISNULL(2) ? true : PG_GETARG_BOOL(2);
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (!PG_ARGISNULL(1) && !(min_savings >= 0 && min_savings <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_savings must be between 0 and 1, not %g", min_savings)));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "vlake.compact must return a record");
	/* as VACUUM: readers and writers go on, a second compaction waits */
	rel = vltab_open_checked(PG_GETARG_OID(0), 0, ShareUpdateExclusiveLock);
	vltab_compact_relation(rel, min_savings, merge, &res);
	table_close(rel, NoLock);
	values[0] = Int64GetDatum(res.segments_merged);
	values[1] = Int64GetDatum(res.rows_purged);
	values[2] = Int64GetDatum(res.groups_rewritten);
	values[3] = Int64GetDatum(res.groups_dropped);
	values[4] = Int64GetDatum(res.bytes_read);
	values[5] = Int64GetDatum(res.bytes_written);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

PG_FUNCTION_INFO_V1(vlake_stat_progress_compact);
Datum
vlake_stat_progress_compact(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CompactProgress copy[COMPACT_SLOTS];

	InitMaterializedSRF(fcinfo, 0);
	if (compact_shared == NULL)
		return (Datum) 0;
	SpinLockAcquire(&compact_shared->mutex);
	memcpy(copy, compact_shared->slots, sizeof(copy));
	SpinLockRelease(&compact_shared->mutex);
	for (int i = 0; i < COMPACT_SLOTS; i++)
	{
		CompactProgress *p = &copy[i];
		Datum		values[10];
		bool		nulls[10] = {0};

		if (p->pid == 0)
			continue;
		values[0] = Int32GetDatum(p->pid);
		values[1] = ObjectIdGetDatum(p->datid);
		values[2] = ObjectIdGetDatum(p->relid);
		values[3] = CStringGetTextDatum(phase_names[p->phase]);
		values[4] = Int64GetDatum(p->segments_total);
		values[5] = Int64GetDatum(p->segments_done);
		values[6] = Int64GetDatum(p->groups_rewritten);
		values[7] = Int64GetDatum(p->rows_purged);
		values[8] = Int64GetDatum(p->bytes_read);
		values[9] = Int64GetDatum(p->bytes_written);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
