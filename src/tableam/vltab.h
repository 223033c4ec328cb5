/*
 * vltab.h — the vlake table access method: what its files share (layer
 * "tableam").  Not a contract for other layers: nothing above tableam
 * calls it except through SQL.
 *
 * A vlake table's rows live in two stores (docs/tables.md):
 *   - the delta: the relation's main fork in heap format, written and read
 *     through heapam (MVCC, row locks, WAL, replication are heap's);
 *   - lake segments: immutable ColumnGroup files (vltab_segment.h) listed
 *     in the catalog tables vlake.segments / vlake.files.  A segment is
 *     visible to exactly the snapshots that see its catalog row.
 * A lake row's TID derives from its row ID (lake_rowref.h); deletions,
 * updates and locks of lake rows are rows of vlake.row_states whose MVCC
 * visibility is the deletion's (vltab_rowstate.c).
 */
#ifndef VLAKE_VLTAB_H
#define VLAKE_VLTAB_H

#include "postgres.h"

#include "access/relscan.h"
#include "access/heapam.h"
#include "access/tableam.h"
#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "storage/lockdefs.h"
#include "nodes/parsenodes.h"

#include "tableam/vltab_segment.h"

/* ---- the access method (vltab_am.c) ---- */
extern const TableAmRoutine *vltab_routine(void);
extern bool vltab_is_vlake(Relation rel);

/* Run heap's own routine on rel: swaps rd_tableam for the call (heapam
 * code that insists on heap relations, e.g. heap_getnext). */
#define VLTAB_AS_HEAP(rel, stmt) \
	do { \
		const TableAmRoutine *vltab_saved_ = (rel)->rd_tableam; \
		(rel)->rd_tableam = GetHeapamTableAmRoutine(); \
		PG_TRY(); \
		{ stmt; } \
		PG_FINALLY(); \
		{ (rel)->rd_tableam = vltab_saved_; } \
		PG_END_TRY(); \
	} while (0)

/* The columns an index reads: key and INCLUDE columns and those its
 * expressions and predicate use (a whole-row reference: every column). */
struct IndexInfo;
extern Bitmapset *vltab_index_attrs(Relation rel, struct IndexInfo *ii);

/* Every live column of desc, as attnums (segment readers' attrs). */
static inline Bitmapset *
vltab_all_attrs(TupleDesc desc)
{
	Bitmapset  *attrs = NULL;

	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			attrs = bms_add_member(attrs, i + 1);
	return attrs;
}

/* Open a vlake table for a vlake.* SQL function (vltab_sql.c): mode 0 =
 * owner only, else that privilege (and no row-level security in force). */
extern Relation vltab_open_checked(Oid relid, AclMode mode, LOCKMODE lockmode);
/* A user column by name, or ERROR "[what ]column ... does not exist" (vltab_sql.c). */
extern AttrNumber vltab_column_attnum(Relation rel, const char *col, const char *what);

/* ADD COLUMN ... DEFAULT const: write the default into a column patch of
 * each segment lacking the column (vltab_backfill.c). */
extern void vltab_backfill_default(Relation rel, AttrNumber attnum);

/* ---- table rewrites (vltab_am.c) ---- */
extern void vltab_cluster_note(Oid relid);	/* CLUSTER / VACUUM FULL copied the delta */
extern void vltab_cluster_reset(void);	/* transaction end */
/* The storage of relid was swapped with its rewritten copy (object access hook). */
extern void vltab_rewrite_swapped(Oid relid);

/* ---- the catalog (vltab_catalog.c) ---- */
typedef struct VltabDataset
{
	Oid			relid;
	char	   *dataset_id;		/* text UUID */
	char	   *root;			/* ends in '/' */
	int64		version;
	int64		next_row_id;
	int64		next_segment_id;
	bool		mine;			/* row last written by this transaction */
	TransactionId tup_xmin;		/* the catalog row version read (raw xmin) */
	ItemPointerData tup_tid;
} VltabDataset;

typedef struct VltabSegment
{
	int64		segment_id;
	int64		first_row_id;
	int64		end_row_id;
	int64		row_count;
	int64		version;
	int			nfiles;
	VltabSegmentFile *files;
} VltabSegment;

/* The segments of relid visible to snapshot, by first_row_id. */
typedef struct VltabSegmentList
{
	Oid			relid;
	char	   *root;			/* NULL when the table has no dataset yet */
	int			nsegments;
	VltabSegment *segments;
	int64		nrows;			/* sum of row_count */
	bool		no_deletes;		/* no lake row is deleted or updated for the
								 * snapshot (false: unknown, ask row_states) */
} VltabSegmentList;

extern Oid	vltab_catalog_relid(const char *name);	/* vlake.<name> */
extern VltabDataset *vltab_dataset_get(Oid relid, Snapshot snapshot);
/* Lock the dataset for a lake write (to the end of the transaction) and
 * return its current row, creating it on first use. */
extern VltabDataset *vltab_dataset_lock(Relation rel);
extern void vltab_dataset_update(VltabDataset *ds);
/* Hand out n new row IDs, contiguous with this writer's previous ones;
 * returns the first (dataset lock held). */
extern int64 vltab_rowids_reserve(VltabDataset *ds, int64 n);
/* ... and give back the unused rest of the reservation, above end. */
extern void vltab_rowids_release(VltabDataset *ds, int64 end);
extern VltabSegmentList *vltab_segments_visible(Oid relid, Snapshot snapshot);
/* Binary search: the segment holding row_id, or NULL. */
extern VltabSegment *vltab_segment_find(VltabSegmentList *list, int64 row_id);
/* The segment holding row_id or the first after it; NULL if none. */
extern VltabSegment *vltab_segment_next_at(VltabSegmentList *list, int64 row_id);
extern void vltab_segment_insert(VltabDataset *ds, VltabSegment *seg, const char *operation);
/* A column patch's catalog change: add files to segment segid, remove the
 * groups drop[] (whose every column the new files supersede). */
extern void vltab_files_patch(VltabDataset *ds, int64 segid, const VltabSegmentFile *add, int nadd,
							  const int *drop, int ndrop);
/* Compaction: drop a segment's rows (segments, files); replace one file's
 * row, keeping its group number (f NULL: drop it). */
extern void vltab_segment_remove(Oid relid, int64 segid);
extern void vltab_file_replace(Oid relid, int64 segid, int group_no, const VltabSegmentFile *f);
/* This transaction changes the lake: take a new version on its first
 * change (ds->version++ and a versions row), count the rest in it. */
extern void vltab_version_note(VltabDataset *ds, const char *operation, int64 rows_added,
							   int64 rows_deleted, int64 bytes_written);
/* vlake.column_groups: set a column's choice ('s', 'o'; 'a' removes it);
 * read a table's choices for vltab_segment_begin_grouped (NULL: none). */
extern void vltab_column_group_set(Oid relid, AttrNumber attnum, char choice);
extern char *vltab_column_groups(Relation rel);
/* vlake.column_models: a vector column's embedding model from the next
 * lake version on; and the models in force at a version. */
typedef struct VltabModel
{
	AttrNumber	attnum;
	char	   *model;
	char	   *model_version;
} VltabModel;
extern void vltab_column_model_set(Relation rel, AttrNumber attnum, const char *model,
								   const char *version);
extern VltabModel *vltab_column_models(Oid relid, int64 version, Snapshot snapshot, int *n);
/* Delete every catalog row of relid (keep_dataset: but its datasets row). */
extern void vltab_catalog_forget(Oid relid, bool keep_dataset);
/* A new table's dataset row, under location (NULL: the default). */
extern void vltab_dataset_create(Relation rel, const char *location);

/* Is the lake row visible to snapshot (segment visible, not deleted)?
 * A dirty snapshot gets the deleter in progress in its xmax. */
extern bool vltab_lake_row_visible(Relation rel, VltabSegmentList *segs, int64 row_id,
								   Snapshot snapshot);
/* A scan reading only attrs of lake rows (the executor hook's). */
extern TableScanDesc vltab_scan_begin_projected(Relation rel, Snapshot snapshot,
												Bitmapset *attrs, List *bounds);
/*
 * Parallel sequential scans start after ExecutorStart: the executor hook
 * notes (per query) the columns and bounds of each vlake relation's parallel
 * scans, and parallel scan descriptors of that relation take the union.
 */
extern void vltab_projection_note(void *owner, Oid relid, Bitmapset *attrs, bool projected,
								  List *bounds);
extern void vltab_projection_forget(void *owner);	/* NULL: all */
/* Restrict a scan that has not started (a bitmap scan's) to attrs. */
extern void vltab_scan_set_projection(TableScanDesc scan, Bitmapset *attrs);
/*
 * ALTER TABLE's verification scan when it only checks NOT NULL (the utility
 * hook): serial sequential scans of relid begun by the statement itself —
 * not by queries it runs (event triggers), which start executors — read
 * only the NOT NULL columns of the relation as the scan finds it (the
 * statement has set its own by then).  One at a time; forget ends it.
 */
extern void vltab_check_scan_note(Oid relid);
extern void vltab_check_scan_forget(void);
extern int	vltab_executor_depth;	/* tableam_init.c */

/* ---- segment skipping by statistics (vltab_prune.c) ---- */
typedef struct VltabBound
{
	AttrNumber	attnum;
	Oid			coltype;		/* the column's type */
	int			strategy;		/* BT*StrategyNumber: column <op> constant */
	bool		is_float;
	int64		i;				/* the constant in the statistics' units */
	double		f;
} VltabBound;

/* The usable "column op constant" conjuncts of a scan's quals (implicit AND). */
extern List *vltab_prune_bounds(List *quals, Index scanrelid);
/* Does no row of seg satisfy every bound (by its files' statistics)? */
extern bool vltab_prune_segment(const VltabSegment *seg, List *bounds);
/* The bounds as page-skipping ranges of seg's scan (*n of them). */
extern VltabRange *vltab_prune_ranges(const VltabSegment *seg, List *bounds, int *n);

/* ---- scan counters (vltab_am.c): this backend's, since the last reset ---- */
typedef struct VltabScanTotals
{
	int64		scans;
	int64		segments_total;
	int64		segments_skipped;
	VltabScanCounts io;			/* pages read/skipped, rows skipped, bytes */
} VltabScanTotals;
extern VltabScanTotals vltab_scan_totals;
/* EXPLAIN ANALYZE prints the statement's counts (vltab_explain.c). */
extern void vltab_explain_init(void);

/* ---- logical replication: refused (vltab_logical.c) ---- */
/* ERROR if rel is published (action: "flush", "copy into lake segments of", ...) */
extern void vltab_refuse_published(Relation rel, const char *action);
/* ERROR if CREATE / ALTER PUBLICATION stmt adds a vlake table */
extern void vltab_check_publication_stmt(Node *stmt, const char *pubname);

/* ---- deletions and locks of lake rows (vltab_rowstate.c) ---- */
extern TM_Result vltab_rowstate_mark(Relation rel, int64 row_id, char kind,
									 ItemPointer new_tid, CommandId cid, Snapshot snapshot,
									 Snapshot crosscheck, bool wait, LockWaitPolicy policy,
									 TM_FailureData *tmfd);
/* Sorted row IDs of relid deleted (or updated) as snapshot sees it. */
extern int64 *vltab_rowstate_deleted(Oid relid, Snapshot snapshot, int64 *n);
/* An update of a lake row: the new version's TID and the columns it changed
 * (recorded with it: a flush may fold it back into row_id). */
extern void vltab_rowstate_set_new_tid(Relation rel, int64 row_id, ItemPointer new_tid,
									   Bitmapset *attrs);
typedef struct VltabRowUpdate
{
	int64		row_id;
	ItemPointerData new_tid;
	Bitmapset  *attrs;
} VltabRowUpdate;
extern VltabRowUpdate *vltab_rowstate_updates(Oid relid, Snapshot snapshot, int *n);
/* Drop the entries of rows whose update a flush folded back (live again). */
extern void vltab_rowstate_forget(Relation rel, const int64 *row_ids, int n);
extern bool vltab_rowstate_any_deleted(Oid relid, Snapshot snapshot);
extern bool vltab_rowstate_is_deleted(Oid relid, int64 row_id, Snapshot snapshot,
									  ItemPointer new_tid);
/* Row IDs whose values compaction may erase (vltab_compact.c), sorted. */
extern int64 *vltab_rowstate_purgeable(Relation rel, Snapshot snap, TransactionId horizon,
									   int64 *n);
extern bool vltab_rowstate_changed_besides(Oid relid, int64 row_id, Snapshot snapshot,
										   ItemPointer tid);

/* ---- flush and bulk writes (vltab_flush.c) ---- */
extern int	vltab_max_segment_rows;	/* GUC vlake.segment_rows */
extern int	vltab_copy_threshold;	/* GUC vlake.copy_lake_threshold */
extern void vltab_bulk_reset(void);

/* ---- lake parts of tables (vltab_gc.c) ---- */
struct LakePartKind;
extern const struct LakePartKind vltab_part_kind;
extern int64 vltab_flush_relation(Relation rel, int64 max_rows);
/* COPY: buffer rows of a bulk insert; big batches become segments. */
extern void vltab_bulk_add(Relation rel, TupleTableSlot **slots, int nslots,
						   CommandId cid, int options, BulkInsertState bistate);
extern void vltab_bulk_finish(Relation rel, int options);
/* Redirect a write that met a delta tuple a flush moved: the row ID, or -1. */
extern int64 vltab_moved_row(Relation rel, ItemPointer delta_tid, TransactionId xmax);

/* ---- compaction (vltab_compact.c) ---- */
extern double vltab_compact_min_savings;	/* GUC vlake.compact_min_savings */
extern int	vltab_compact_small_rows;	/* GUC vlake.compact_small_segment_rows */
typedef struct VltabCompactResult
{
	int64		segments_merged;	/* input segments of merges */
	int64		rows_purged;	/* deleted rows erased (in rewritten files) */
	int64		groups_rewritten;	/* files written */
	int64		groups_dropped; /* files removed (every column superseded) */
	int64		bytes_read;
	int64		bytes_written;
} VltabCompactResult;
/* Compact rel (caller holds ShareUpdateExclusiveLock): merge adjacent small
 * segments, rewrite the files worth it; min_savings < 0: the setting. */
extern void vltab_compact_relation(Relation rel, double min_savings, bool merge,
								   VltabCompactResult *res);
extern void vltab_compact_shmem_init(void);
/* Delete the files compactions of relid retired (vlake.retired_files) that
 * no snapshot nor retained version can need any more and that are older
 * than min_age_s; returns how many (vltab_gc_table calls it). */
extern int64 vltab_retired_gc(Oid relid, int64 min_age_s);

/* ---- publication (vltab_publish.c) ---- */
extern void vltab_publish_init(void);
/* This transaction gave relid a lake version (from vltab_version_note). */
extern void vltab_publish_note_version(Oid relid);
/* This transaction deleted or updated a lake row of rel: it takes its
 * version at pre-commit, with the segments' new delete vectors. */
extern bool vltab_publish_noted(Oid relid);
extern void vltab_publish_note_delete(Relation rel);
/* Compaction replaced segments of rel: refresh every delete vector at
 * pre-commit (merged segments get one, removed ones lose theirs). */
extern void vltab_publish_note_segments(Relation rel);
/* DROP INDEX of an index of relid that had a lake part listed in its
 * manifest: the commit takes a version without it. */
extern void vltab_publish_note_index(Oid relid);
/* TRUNCATE / DROP: forget relid's delete vectors (vlake.delete_files). */
extern void vltab_publish_forget(Oid relid);
/* Publish the committed versions of rel the lake lacks (full: list and
 * report every missing one; else check the latest only); returns the
 * number of manifests written. */
extern int64 vltab_publish_repair(Relation rel, bool full);
/* The relids of every vlake table of the database (vlake.datasets). */
extern List *vltab_publish_tables(void);

/* The lake version of the dataset root holds other bytes than the catalog's
 * latest version (another engine won the race for it): true.  Missing or
 * the same bytes: false.  Adopted versions are never compared. */
struct ObjStore;
extern bool vltab_publish_latest_lost(Relation rel, VltabDataset *ds, struct ObjStore *store);
/* Replace segment_id's delete vector row (d NULL: none) as of version. */
struct ManifestDeletes;
extern void vltab_publish_set_delete_file(Oid relid, int64 segment_id, int64 version,
										  const struct ManifestDeletes *d);
/* Write vlake's delete vector of a segment from the catalog's deleted rows
 * in its range and record it as of version (vltab_refresh.c). */
extern void vltab_publish_write_delete_file(Oid relid, struct ObjStore *store,
											int64 segment_id, int64 first_row_id,
											int64 end_row_id, int64 version);
/* Forget that this backend published relid's versions (a renumbering). */
extern void vltab_publish_forget_known(Oid relid);

/* ---- versions of other engines (vltab_refresh.c) ---- */
/* Adopt the versions other engines committed to rel's manifest chain after
 * the catalog's latest (and merge a lost race); returns how many. */
extern int64 vltab_refresh(Oid relid);	/* opens it: not open in the caller */
/* Did version come from another engine (vlake.foreign_versions)? */
extern bool vltab_refresh_adopted(Oid relid, int64 version);

/* ---- lake parts of indexes (vltab_index.c; the contract for index AMs
 * is vltab_index.h) ---- */
struct ManifestIndex;
struct ManifestGroup;
/* A manifest's group as a catalog file (vltab_travel.c; refresh too). */
extern void vltab_file_from_manifest(const struct ManifestGroup *g, int group_no,
									 VltabSegmentFile *f);
/* DROP INDEX: its row goes, its table takes a version at commit. */
extern void vltab_index_dropped(Oid indexrelid);
/* Every row of relid goes (TRUNCATE, SET ACCESS METHOD heap, DROP TABLE);
 * returns how many. */
extern int	vltab_index_forget(Oid relid);
/* The manifest's "indexes" of a version, from the catalog as snap sees it;
 * in_schema[attnum]: the field is in the manifest's schema. */
extern struct ManifestIndex *vltab_index_manifest(Relation rel, const char *root, int64 version,
												  int64 next_row_id, Snapshot snap,
												  const bool *in_schema, int *n);

/* ---- time travel (vltab_travel.c) ---- */
extern int	vltab_as_of_version;	/* GUC vlake.as_of_version */
extern char *vltab_as_of_timestamp;	/* GUC vlake.as_of_timestamp */
/* > 0 while a statement that scans tables for itself runs (ALTER TABLE,
 * CREATE INDEX, CLUSTER, VACUUM): its scans read the present. */
extern int	vltab_travel_suspended;
extern void vltab_travel_init(void);
/* Is a setting on (and not suspended)? */
extern bool vltab_travel_active(void);
/* ERROR when a setting is on: a past version is read-only (action: "insert
 * into", "flush", ...). */
extern void vltab_travel_refuse_write(Relation rel, const char *action);
/* ERROR when a setting is on: fetches by TID read the present. */
extern void vltab_travel_refuse_fetch(Relation rel);
/* rel's lake state at the setting's version as snap sees the catalog:
 * segments by first_row_id and sorted deleted row IDs; owned by a cache
 * that lives to the end of the transaction.  ERROR naming rel when it has
 * no such version or the version expired. */
extern VltabSegmentList *vltab_travel_segments(Relation rel, Snapshot snap, int64 **deleted,
											   int64 *ndeleted);

/* ---- lineage and retention (vltab_retention.c) ---- */
typedef struct VltabVersionRow
{
	int64		version;
	char	   *operation;
	char	   *writer;
	TimestampTz committed;
	int64		rows_added;
	int64		rows_deleted;
	int64		bytes_written;
} VltabVersionRow;
extern int	vltab_table_retention;	/* GUC vlake.table_retention, seconds */
/* relid's vlake.versions rows, by version. */
extern VltabVersionRow *vltab_versions_read(Oid relid, Snapshot snap, int *n);
/* The table's retention (its option, else the setting), in seconds / as text. */
extern int64 vltab_retention_seconds(Oid relid, Snapshot snap);
extern char *vltab_retention_text(Oid relid, Snapshot snap);
/* The oldest retained version (latest: the table's latest version). */
extern int64 vltab_oldest_retained(Oid relid, int64 latest, Snapshot snap);
/* The retention option: parse (ERROR if invalid), set or remove (NULL). */
extern Interval *vltab_retention_parse(const char *text);
extern void vltab_retention_set(Oid relid, Interval *iv);
/* Remove the manifests of expired versions and the delete vectors only
 * they name; returns the number of objects (removed: their URIs). */
/* ---- dropped tables' datasets (vltab_dropped.c) ---- */
typedef struct VltabDropped
{
	char	   *dataset_id;		/* text UUID */
	char	   *root;
} VltabDropped;
struct LakeGcStats;
/* Record relid's dataset as dropped (the dropping transaction). */
extern void vltab_dropped_note(Oid relid);
/* The dropped datasets whose retention has passed (List of VltabDropped *). */
extern List *vltab_dropped_due(void);
/* Its manifests, delete vectors and a part GC pass over data/. */
extern void vltab_dropped_purge(const VltabDropped *d, int64 min_age_s, bool dry_run,
								List **removed, struct LakeGcStats *stats);
/* Forget it once no part of this database is left under its root (the
 * table kind's and index_kind's); true if forgotten. */
extern bool vltab_dropped_finish(const VltabDropped *d, const struct LakePartKind *index_kind);

extern int64 vltab_retention_expire(Oid relid, const char *root, bool dry_run, List **removed,
									int64 *nmanifests, int64 *ndeletes);
/* One GC pass over relid's dataset root (vltab_gc.c): expired manifests and
 * delete vectors, then the lake parts neither the catalog nor a retained
 * version's manifest names (lake_gc_location's arguments). */
struct LakeGcStats;
extern void vltab_gc_table(Oid relid, const char *root, int64 min_age_s, bool dry_run,
						   int max_actions, List **removed, struct LakeGcStats *stats,
						   int64 *nmanifests, int64 *ndeletes);
/* The paths of relid's current delete vectors (vltab_publish.c). */
extern List *vltab_publish_delete_paths(Oid relid, Snapshot snap);

#endif							/* VLAKE_VLTAB_H */
