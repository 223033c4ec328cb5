/*
 * vlindex_gc.h — garbage collection of vlake index lake parts (the contract
 * between the index layer, vlake.index_gc() and the background worker).
 *
 * The rule (docs/index.md, "Garbage collection"): a part is deleted only
 * when no metapage of this database names it and its retirement mark's
 * transaction ID is older than every snapshot any backend, replication slot
 * or hot_standby_feedback standby can still hold.
 */
#ifndef VLAKE_VLINDEX_GC_H
#define VLAKE_VLINDEX_GC_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/relcache.h"

struct ObjStore;

/* Objects of a part besides its three data files (docs/index-format.md). */
#define VL_FILE_BIRTH	"part.birth"	/* written first by the part's writer */
#define VL_FILE_MARK	"retired.mark"	/* written by GC, deleted last */

#define VL_MARK_MAGIC	UINT64_C(0x4B4D434758494C56)	/* "VLIXGCMK" */
#define VL_MARK_VERSION 1
#define VL_MARK_PENDING 1		/* unreferenced; its writer may still run */
#define VL_MARK_RETIRED 2		/* unreferenced for good since xid */

typedef struct VlGcMark
{
	uint64		magic;
	uint32		version;
	uint32		state;			/* VL_MARK_PENDING / VL_MARK_RETIRED */
	uint64		xid;			/* FullTransactionId: next xid when marked */
	int64		time;			/* seconds since the epoch when marked */
	uint64		sysid;			/* system identifier of the marking cluster */
	uint32		crc;			/* CRC-32C of the bytes above */
	uint32		reserved;		/* 0 */
} VlGcMark;

/* What one GC pass over a location did. */
typedef struct VlGcStats
{
	int64		parts_seen;		/* parts of this database under the location */
	int64		referenced;		/* named by a metapage */
	int64		in_progress;	/* writer may still be running */
	int64		retired;		/* marks written this pass */
	int64		waiting;		/* retired, a snapshot may still need them */
	int64		removed_parts;
	int64		removed_files;
	int64		unmarked;		/* marks removed: the part is referenced */
} VlGcStats;

/* One part as a pass sees it (vlake.index_gc_parts()). */
typedef struct VlGcPartStatus
{
	char	   *prefix;
	const char *state;			/* referenced, locked, writing, unreferenced,
								 * retired, removable */
	int			objects;		/* including part.birth and retired.mark */
	uint64		bytes;
	bool		has_birth;
	uint64		birth_xid;
	bool		has_mark;
	uint64		mark_xid;
	int64		mark_time;		/* seconds since the epoch */
} VlGcPartStatus;

/*
 * Key prefix of a new part: unique, and carrying this cluster's system
 * identifier and the next transaction ID ("birth xid") so that GC knows
 * when the writer can no longer be running.
 */
extern char *vl_new_prefix(Relation index);

/* Called by a part's writer right after vl_new_prefix(), before any other
 * object of the part is written (makes crashed writes findable). */
extern void vl_gc_part_begin(struct ObjStore *store, const char *prefix);

/*
 * One GC pass over the vlake_index/db<MyDatabaseId>_ keys of location.
 * min_age_s: retired parts are kept at least this long (a floor on top of
 * the snapshot rule).  dry_run: write and delete nothing.  max_actions:
 * stop after this many marks written + parts deleted (0 = no limit).
 * removed (if not NULL) receives the URIs of the objects deleted (or that
 * would be, in a dry run).  Needs a transaction with a snapshot; ERROR
 * during recovery.
 */
extern void vl_gc_location(const char *location, int64 min_age_s, bool dry_run,
						   int max_actions, List **removed, VlGcStats *stats);

/* What a pass would do to each part, changing nothing; List of VlGcPartStatus*. */
extern List *vl_gc_status(const char *location, int64 min_age_s);

/* GUC vlake.index_gc_min_age (seconds) */
extern int	vl_gc_min_age;

#endif							/* VLAKE_VLINDEX_GC_H */
