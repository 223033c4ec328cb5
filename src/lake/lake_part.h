/*
 * lake_part.h — the lifecycle of lake parts and their garbage collection,
 * exact with respect to snapshots (layer "lake").
 *
 * A *part* is the set of immutable objects one writer puts under one key
 * prefix of a location: an index build's files today, a table segment's
 * ColumnGroups next.  Its prefix names what wrote it,
 *
 *   <kind dir>/db<database oid>_rel<relation oid>_<time>_<random>_c<system id>_x<birth xid>
 *
 * and its first object is "part.birth".  A part belongs to its relation for
 * as long as a catalog of that relation names it (a metapage, a manifest);
 * the owner layer says which prefixes are named through its kind's
 * collect_refs callback.  A part nobody names is retired by a mark and
 * deleted once no snapshot can still need it (lake_part.c has the rule and
 * its proof).
 *
 * Which parts a pass may touch, at a location another cluster or another
 * database may share: only parts whose prefix carries this cluster's system
 * identifier and either this database's OID, or the OID of a database that
 * no longer exists in pg_database (DROP DATABASE: nothing can name or read
 * its parts any more).  Parts of other clusters, of other live databases
 * and of unknown origin are never touched.
 *
 * Memory: results are palloc'd in CurrentMemoryContext.  Errors: ERROR
 * (object-store failures name the object); a pass needs a transaction with
 * an active snapshot and is refused during recovery.
 */
#ifndef VLAKE_LAKE_PART_H
#define VLAKE_LAKE_PART_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

struct ObjStore;

/* Longest part prefix (kind dir + name), with its terminating NUL. */
#define LAKE_PREFIX_MAX		160

/* Objects of a part besides its data files. */
#define LAKE_FILE_BIRTH		"part.birth"	/* written first by the writer */
#define LAKE_FILE_MARK		"retired.mark"	/* written by GC, deleted last */

/* The retirement mark: a fixed 48-byte little-endian record. */
#define LAKE_MARK_MAGIC		UINT64_C(0x4B4D434758494C56)	/* "VLIXGCMK" */
#define LAKE_MARK_VERSION	1
#define LAKE_MARK_PENDING	1	/* unreferenced; its writer may still run */
#define LAKE_MARK_RETIRED	2	/* unreferenced for good since xid */

typedef struct LakeMark
{
	uint64		magic;
	uint32		version;
	uint32		state;			/* LAKE_MARK_PENDING / LAKE_MARK_RETIRED */
	uint64		xid;			/* FullTransactionId: next xid when marked */
	int64		time;			/* seconds since the epoch when marked */
	uint64		sysid;			/* system identifier of the marking cluster */
	uint32		crc;			/* CRC-32C of the bytes above */
	uint32		reserved;		/* 0 */
} LakeMark;

/* The prefixes a kind's relations of this database name (collect_refs). */
typedef struct LakeRefs LakeRefs;

/* Named by a catalog of this database: the part lives. */
extern void lake_refs_add(LakeRefs *refs, const char *prefix);

/* A relation of this database whose catalog cannot be read this pass
 * (locked exclusively, another session's temporary): all its parts live. */
extern void lake_refs_add_opaque(LakeRefs *refs, Oid relid);

/*
 * For a collect_refs whose parts index metapages name: add_prefix(refs,
 * index) for every readable index of access method am in this database
 * (locked or other sessions' temporary indexes: opaque, all parts live).
 */
struct RelationData;
extern void lake_refs_add_indexes(LakeRefs *refs, Oid am,
								  void (*add_prefix) (LakeRefs *refs, struct RelationData *index));

/* A kind of part: where its prefixes live and who names them. */
typedef struct LakePartKind
{
	const char *dir;			/* key directory: "vlake_index" */
	const char *noun;			/* for messages: "vlake index" */
	uint32		lock_key;		/* advisory lock: one pass per database */

	/*
	 * Add every prefix a relation of this kind in this database names, and
	 * the relations that cannot be read now.  Called once per pass, after
	 * the pass has read the listing and evaluated the horizon; must read a
	 * fresh catalog snapshot and never wait for a lock.
	 */
	void		(*collect_refs) (LakeRefs *refs);
} LakePartKind;

/* What one pass over a location did. */
typedef struct LakeGcStats
{
	int64		parts_seen;		/* parts this pass may touch */
	int64		referenced;		/* named by a catalog */
	int64		in_progress;	/* writer may still be running */
	int64		retired;		/* marks written this pass */
	int64		waiting;		/* retired, a snapshot may still need them */
	int64		removed_parts;
	int64		removed_files;
	int64		unmarked;		/* marks removed: the part is referenced */
	int64		orphaned;		/* of these, parts of dropped databases */
} LakeGcStats;

/* One part as a pass sees it (vlake.index_gc_parts()). */
typedef struct LakePartStatus
{
	char	   *prefix;
	const char *state;			/* referenced, locked, writing, unreferenced,
								 * retired, removable */
	int			objects;		/* including part.birth and retired.mark */
	uint64		bytes;
	Oid			database;		/* from the prefix */
	bool		database_dropped;
	bool		has_birth;
	uint64		birth_xid;
	bool		has_mark;
	uint64		mark_xid;
	int64		mark_time;		/* seconds since the epoch */
} LakePartStatus;

/*
 * Key prefix of a new part of relid: unique, and carrying this cluster's
 * system identifier and the next transaction ID ("birth xid") so that GC
 * knows when the writer can no longer be running.  The caller must hold an
 * assigned xid or an advertised xmin until it has published the part or
 * given up (ERROR otherwise).
 */
extern char *lake_part_new_prefix(const LakePartKind *kind, Oid relid);

/* Called by a part's writer right after lake_part_new_prefix(), before any
 * other object of the part is written (makes crashed writes findable). */
extern void lake_part_begin(struct ObjStore *store, const char *prefix,
							const LakePartKind *kind);

/*
 * One GC pass over the parts of kind under location.  min_age_s: retired
 * parts are kept at least this long (a floor on top of the snapshot rule).
 * dry_run: write and delete nothing.  max_actions: stop after this many
 * marks written + parts deleted (0 = no limit).  removed (if not NULL)
 * receives the URIs of the objects deleted (or that would be, in a dry run).
 */
extern void lake_gc_location(const LakePartKind *kind, const char *location,
							 int64 min_age_s, bool dry_run, int max_actions,
							 List **removed, LakeGcStats *stats);

/* Does location hold a part of kind written by this database? */
extern bool lake_has_parts(const LakePartKind *kind, struct ObjStore *store);

/* An interval (a GC min_age, a retention) in seconds, a month as 30 days. */
extern int64 lake_interval_seconds(const Interval *iv);
/* The same for a min_age argument: ERROR when it is negative. */
extern int64 lake_min_age_seconds(const Interval *iv);

/* What a pass would do to each part, changing nothing; List of LakePartStatus*. */
extern List *lake_gc_status(const LakePartKind *kind, const char *location,
							int64 min_age_s);

#endif							/* VLAKE_LAKE_PART_H */
