/*
 * lake_part.c — the lifecycle of lake parts and their garbage collection,
 * exact with respect to snapshots (contract: lake_part.h).
 *
 * A part (the objects under one key prefix) may be deleted only when
 * nothing can still read it: no catalog names it, no writer is about to
 * publish it, and no snapshot that could have read a catalog naming it is
 * still held anywhere.  Time is not the measure; transaction IDs are,
 * exactly as nbtree recycles a deleted page once its "safexid" is older than
 * every snapshot (GlobalVisCheckRemovableFullXid).
 *
 * Facts the rule rests on (argued in docs/index.md, "Garbage collection"):
 *  (W) every writer of a part holds, from before lake_part_new_prefix()
 *      until it has published the part or given up, an assigned xid or an
 *      advertised xmin that is <= the "birth xid" B recorded in the prefix
 *      (CREATE INDEX / REINDEX hold their xid, vlake.merge() the xmin of its
 *      statement snapshot).  So "B is removable" implies the writer is gone,
 *      and only a part's own writer ever makes a catalog name it.
 *  (S) a reader reads the catalog once, after taking the snapshot it keeps
 *      for the whole read; so its xmin is <= the next xid at the moment it
 *      read a catalog naming the part.
 *  (D) a part of database D is written by a backend connected to D, so D
 *      was committed in pg_database before the part could be listed; once
 *      DROP DATABASE D has committed, no backend is connected to D (the drop
 *      refuses or ends them), and nothing can name or read D's parts again.
 *
 * One pass, in this order (the order is the proof):
 *  1. LIST <kind dir>/db and group by part; keep this cluster's parts of
 *     this database, and of databases that a pg_database read taken *after*
 *     the listing no longer has (by (D) such a database was dropped; a
 *     database created after the read has no part in the listing);
 *  2. read the marks and evaluate the horizon for every part: writer gone?
 *     mark expired?
 *  3. collect what the catalogs of this database name (the kind's
 *     collect_refs, fresh catalog snapshot), taken *after* 2, so a writer
 *     that was gone at 2 has published by then (a relation locked
 *     exclusively by someone protects all its parts);
 *  4. X = next xid, read after 3; then per part:
 *     - referenced: remove a stale mark;
 *     - retired mark expired at 2 (its xid older than every snapshot): delete
 *       the part's objects, its writes' temporaries, and the mark last;
 *     - writer gone at 2, not referenced at 3 (a dropped database's parts
 *       never are): it is unreferenced for good, and every reader that used
 *       it read a catalog before 3, so its xmin is <= X: write a retired
 *       mark with X (deleted by a later pass once X is older than every
 *       snapshot, and vlake.index_gc_min_age has passed);
 *     - writer unknown (prefix written before birth xids existed, this
 *       database only): write a pending mark with X first (a bound on that
 *       writer's xid/xmin).
 *  5. assign this transaction an xid if anything is waiting, so the horizon
 *     can move past X even on an otherwise idle server.
 * One pass per kind runs at a time per database (transaction advisory
 * lock).  Passes of two databases may meet on a dropped database's part:
 * both may mark it and both may delete it; deleting a missing object is no
 * error, and a mark left alone in an emptied prefix is itself deleted by a
 * later pass, so they converge.
 */
#include "postgres.h"

#include <sys/time.h>
#include <time.h>

#include "access/heapam.h"
#include "access/relation.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "datatype/timestamp.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "lake/lake_location.h"
#include "lake/lake_part.h"
#include "objstore/objstore.h"

/* ------------------------------------------------------------ prefixes -- */

char *
lake_part_new_prefix(const LakePartKind *kind, Oid relid)
{
	struct timeval tv;
	uint64		rnd;
	FullTransactionId birth;

	gettimeofday(&tv, NULL);
	if (!pg_strong_random(&rnd, sizeof(rnd)))
		rnd = (uint64) random() ^ ((uint64) MyProcPid << 32);
	/*
	 * Fact (W): the writer must already hold an xid or an advertised xmin
	 * (both <= the next xid read below) and keep it until it publishes or
	 * gives up.  The first half is checked here; a writer without either
	 * could lose its files to a concurrent GC.
	 */
	if (!TransactionIdIsValid(GetTopTransactionIdIfAny()) &&
		!TransactionIdIsValid(MyProc->xmin))
		elog(ERROR, "%s part started without a transaction ID or snapshot", kind->noun);
	birth = ReadNextFullTransactionId();
	return psprintf("%s/db%u_rel%u_%lx%06lx_%016llx_c%016llx_x%llx",
					kind->dir, MyDatabaseId, relid,
					(unsigned long) tv.tv_sec, (unsigned long) tv.tv_usec,
					(unsigned long long) rnd,
					(unsigned long long) GetSystemIdentifier(),
					(unsigned long long) U64FromFullTransactionId(birth));
}

void
lake_part_begin(ObjStore *store, const char *prefix, const LakePartKind *kind)
{
	char	   *key = psprintf("%s/%s", prefix, LAKE_FILE_BIRTH);
	char	   *text = psprintf("%s part\nstarted %ld\n", kind->noun, (long) time(NULL));

	/* so GC finds this root after its relation and database are gone */
	lake_location_remember(objstore_root_uri(store));
	objstore_put(store, key, text, strlen(text));
	pfree(key);
	pfree(text);
}

/* What a part's key prefix says (<dir>/db<oid>_rel<oid>_<time>_<rnd>[_c<sysid>_x<birth>]). */
typedef struct PartName
{
	Oid			db;
	Oid			rel;
	bool		has_birth;
	uint64		sysid;
	uint64		birth;
} PartName;

/* Parse digits at *p; false if none, too many or overflow. */
static bool
take_number(const char **p, bool hex, int maxdigits, uint64 *out)
{
	uint64		v = 0;
	int			n = 0;

	for (;; n++)
	{
		char		c = (*p)[n];
		int			d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		if (n >= maxdigits || v > (PG_UINT64_MAX - d) / (hex ? 16 : 10))
			return false;
		v = v * (hex ? 16 : 10) + d;
	}
	if (n == 0)
		return false;
	*p += n;
	*out = v;
	return true;
}

static bool
take_literal(const char **p, const char *lit)
{
	size_t		n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool
parse_part_name(const LakePartKind *kind, const char *prefix, PartName *out)
{
	const char *p = prefix;
	uint64		v;

	memset(out, 0, sizeof(*out));
	if (!take_literal(&p, kind->dir) || !take_literal(&p, "/db") || !take_number(&p, false, 10, &v) || v > PG_UINT32_MAX)
		return false;
	out->db = (Oid) v;
	if (!take_literal(&p, "_rel") || !take_number(&p, false, 10, &v) || v > PG_UINT32_MAX)
		return false;
	out->rel = (Oid) v;
	if (!take_literal(&p, "_") || !take_number(&p, true, 16, &v) ||
		!take_literal(&p, "_") || !take_number(&p, true, 16, &v))
		return false;
	if (*p == '\0')
		return true;			/* written before birth xids existed */
	if (!take_literal(&p, "_c") || !take_number(&p, true, 16, &out->sysid) ||
		!take_literal(&p, "_x") || !take_number(&p, true, 16, &out->birth) || *p != '\0')
		return false;
	out->has_birth = true;
	return true;
}

/* -------------------------------------------------------------- marks -- */

static pg_crc32c
mark_crc(const LakeMark *m)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, m, offsetof(LakeMark, crc));
	FIN_CRC32C(crc);
	return crc;
}

/*
 * Read a mark in the version the listing saw.  false (with a WARNING) when
 * it is not a mark this cluster wrote: it is then treated as absent and
 * overwritten, which only delays deletion.
 */
static bool
mark_read(const LakePartKind *kind, ObjStore *store, const ObjListEntry *e, LakeMark *out)
{
	ObjStat		known;
	ObjRange	r;
	const char *why = NULL;

	if (e->size != sizeof(LakeMark))
		why = psprintf("it has %llu bytes, expected %zu",
					   (unsigned long long) e->size, sizeof(LakeMark));
	else
	{
		memset(&known, 0, sizeof(known));
		known.size = e->size;
		strlcpy(known.etag, e->etag, sizeof(known.etag));
		r.offset = 0;
		r.length = sizeof(LakeMark);
		r.dest = (char *) out;
		objstore_get_ranges_known(store, e->key, &known, &r, 1);
		if (out->magic != LAKE_MARK_MAGIC || out->version != LAKE_MARK_VERSION)
			why = "bad magic or version";
		else if (out->crc != mark_crc(out))
			why = "checksum mismatch";
		else if (out->state != LAKE_MARK_PENDING && out->state != LAKE_MARK_RETIRED)
			why = psprintf("unknown state %u", out->state);
		else if (out->sysid != GetSystemIdentifier())
			return false;		/* another cluster's mark: not ours to trust */
		else if (out->xid < U64FromFullTransactionId(FirstNormalFullTransactionId) ||
				 out->xid > U64FromFullTransactionId(ReadNextFullTransactionId()))
			why = "its transaction ID is not one of this cluster's";
	}
	if (why)
	{
		ereport(WARNING,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ignoring invalid %s retirement mark \"%s\"",
						kind->noun, objstore_uri(store, e->key)),
				 errdetail("The mark is invalid: %s.", why),
				 errhint("Garbage collection writes a new mark; the part is kept until then.")));
		return false;
	}
	return true;
}

static void
mark_write(ObjStore *store, const char *prefix, uint32 state, FullTransactionId xid)
{
	LakeMark	m;
	char	   *key = psprintf("%s/%s", prefix, LAKE_FILE_MARK);

	memset(&m, 0, sizeof(m));
	m.magic = LAKE_MARK_MAGIC;
	m.version = LAKE_MARK_VERSION;
	m.state = state;
	m.xid = U64FromFullTransactionId(xid);
	m.time = (int64) time(NULL);
	m.sysid = GetSystemIdentifier();
	m.crc = mark_crc(&m);
	objstore_put(store, key, (const char *) &m, sizeof(m));
	pfree(key);
}

/*
 * True when no snapshot, running transaction, replication slot or
 * hot_standby_feedback standby of this cluster can still be at or before
 * xid (the horizon of shared relations: all databases).
 */
static bool
xid_removable(uint64 xid)
{
	if (xid < U64FromFullTransactionId(FirstNormalFullTransactionId) ||
		xid > U64FromFullTransactionId(ReadNextFullTransactionId()))
		return false;			/* not ours: never a reason to delete */
	return GlobalVisCheckRemovableFullXid(NULL, FullTransactionIdFromU64(xid));
}

/* -------------------------------------------------------------- parts -- */

typedef struct GcPart
{
	char		prefix[LAKE_PREFIX_MAX];	/* hash key */
	PartName	name;
	bool		orphaned;		/* its database was dropped */
	List	   *keys;			/* ObjListEntry* other than the mark */
	ObjListEntry *mark_entry;	/* the mark as listed, or NULL */
	bool		mark_valid;
	LakeMark	mark;
	bool		writer_gone;	/* step 2 */
	bool		expired;		/* step 2: retired mark older than every snapshot */
	bool		referenced;		/* step 3 */
} GcPart;

/*
 * The OIDs of the databases pg_database has now (fresh catalog snapshot,
 * not a cached one), sorted.
 */
static List *
live_databases(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	List	   *dbs = NIL;

	InvalidateCatalogSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		dbs = lappend_oid(dbs, ((Form_pg_database) GETSTRUCT(tup))->oid);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	list_sort(dbs, list_oid_cmp);
	return dbs;
}

/*
 * Step 1: group the listing by part prefix.  Kept: this cluster's parts of
 * this database (and this database's parts of unknown origin), and this
 * cluster's parts of databases dropped since (fact (D)).  Everything else
 * (other clusters, other live databases, foreign keys) is skipped.
 */
static HTAB *
group_parts(const LakePartKind *kind, List *entries)
{
	HASHCTL		ctl;
	HTAB	   *parts;
	ListCell   *lc;
	uint64		sysid = GetSystemIdentifier();
	List	   *live = NIL;
	bool		live_read = false;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = LAKE_PREFIX_MAX;
	ctl.entrysize = sizeof(GcPart);
	ctl.hcxt = CurrentMemoryContext;
	parts = hash_create("vlake lake gc parts", 64, &ctl,
						HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	foreach(lc, entries)
	{
		ObjListEntry *e = lfirst(lc);
		const char *slash = strrchr(e->key, '/');
		char		prefix[LAKE_PREFIX_MAX];
		PartName	name;
		GcPart	   *part;
		bool		found;
		bool		orphaned = false;

		if (slash == NULL || slash - e->key >= LAKE_PREFIX_MAX)
			continue;
		memcpy(prefix, e->key, slash - e->key);
		prefix[slash - e->key] = '\0';
		if (!parse_part_name(kind, prefix, &name) ||
			(name.has_birth && name.sysid != sysid))
			continue;			/* not a part, or another cluster's */
		if (name.db != MyDatabaseId)
		{
			if (!name.has_birth)
				continue;		/* unknown origin: never another database's */
			if (!live_read)
			{
				/* read after the listing: see (D) */
				live = live_databases();
				live_read = true;
			}
			if (list_member_oid(live, name.db))
				continue;		/* a live database's: its own passes */
			orphaned = true;
		}
		part = hash_search(parts, prefix, HASH_ENTER, &found);
		if (!found)
		{
			memset(((char *) part) + LAKE_PREFIX_MAX, 0, sizeof(GcPart) - LAKE_PREFIX_MAX);
			part->name = name;
			part->orphaned = orphaned;
		}
		if (strcmp(slash + 1, LAKE_FILE_MARK) == 0)
			part->mark_entry = e;
		else
			part->keys = lappend(part->keys, e);
	}
	list_free(live);
	return parts;
}

struct LakeRefs
{
	HTAB	   *prefixes;		/* named by a catalog */
	List	   *opaque_rels;	/* relations whose catalog we cannot read */
};

void
lake_refs_add(LakeRefs *refs, const char *prefix)
{
	char		key[LAKE_PREFIX_MAX];

	strlcpy(key, prefix, LAKE_PREFIX_MAX);
	(void) hash_search(refs->prefixes, key, HASH_ENTER, NULL);
}

void
lake_refs_add_opaque(LakeRefs *refs, Oid relid)
{
	refs->opaque_rels = lappend_oid(refs->opaque_rels, relid);
}

/*
 * For kinds whose parts index metapages name: every index of access method
 * am in this database, read under a fresh catalog snapshot, adds what
 * add_prefix finds in it; indexes someone holds exclusively (REINDEX, DROP,
 * LOCK TABLE in progress) or another session's temporary indexes protect
 * all their parts this pass (never wait for a lock).
 */
void
lake_refs_add_indexes(LakeRefs *refs, Oid am, void (*add_prefix) (LakeRefs *refs, struct RelationData *index))
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	InvalidateCatalogSnapshot();
	rel = table_open(RelationRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		Relation	index;

		CHECK_FOR_INTERRUPTS();
		if (c->relkind != RELKIND_INDEX || c->relam != am)
			continue;
		if (!ConditionalLockRelationOid(c->oid, AccessShareLock))
		{
			lake_refs_add_opaque(refs, c->oid);
			continue;
		}
		index = try_relation_open(c->oid, NoLock);
		if (index == NULL)
		{
			/* dropped meanwhile: names nothing */
			UnlockRelationOid(c->oid, AccessShareLock);
			continue;
		}
		if (RELATION_IS_OTHER_TEMP(index))
			lake_refs_add_opaque(refs, c->oid);
		else if (RelationGetNumberOfBlocks(index) > 0)
			add_prefix(refs, index);
		relation_close(index, AccessShareLock);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * Step 3: every prefix a catalog of this database names, in any location
 * (prefixes are unique, and comparing locations would need URI
 * normalisation — a mismatch would delete a live part).
 */
static void
referenced_parts(const LakePartKind *kind, LakeRefs *refs)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = LAKE_PREFIX_MAX;
	ctl.entrysize = LAKE_PREFIX_MAX;
	ctl.hcxt = CurrentMemoryContext;
	refs->prefixes = hash_create("vlake lake gc refs", 64, &ctl,
								 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	refs->opaque_rels = NIL;
	kind->collect_refs(refs);
}

static void
report(List **removed, ObjStore *store, const char *key)
{
	if (removed)
		*removed = lappend(*removed, objstore_uri(store, key));
}

/*
 * Delete an unreferenced, expired part: its objects, the temporaries of
 * interrupted writes under it, and the mark last — so a pass killed midway
 * leaves the mark, and the next pass finishes the job.
 */
static void
delete_part(ObjStore *store, GcPart *part, List **removed, LakeGcStats *stats)
{
	List	   *keys = NIL;
	ListCell   *lc;

	foreach(lc, part->keys)
	{
		ObjListEntry *e = lfirst(lc);

		keys = lappend(keys, e->key);
		report(removed, store, e->key);
	}
	if (keys != NIL)
		objstore_delete_many(store, keys);
	(void) objstore_reclaim_temporaries(store, psprintf("%s/", part->prefix), 0);
	objstore_delete(store, part->mark_entry->key);
	report(removed, store, part->mark_entry->key);
	stats->removed_parts++;
	stats->removed_files += list_length(keys) + 1;
}

static void
add_status(List **status, GcPart *part, const char *state)
{
	LakePartStatus *st;
	ListCell   *lc;

	if (status == NULL)
		return;
	st = palloc0(sizeof(LakePartStatus));
	st->prefix = pstrdup(part->prefix);
	st->state = state;
	foreach(lc, part->keys)
	{
		st->objects++;
		st->bytes += ((ObjListEntry *) lfirst(lc))->size;
	}
	if (part->mark_entry)
	{
		st->objects++;
		st->bytes += part->mark_entry->size;
	}
	st->database = part->name.db;
	st->database_dropped = part->orphaned;
	st->has_birth = part->name.has_birth;
	st->birth_xid = part->name.birth;
	st->has_mark = part->mark_valid;
	st->mark_xid = part->mark.xid;
	st->mark_time = part->mark.time;
	*status = lappend(*status, st);
}

static void
gc_run(const LakePartKind *kind, const char *location, int64 min_age_s, bool dry_run,
	   int max_actions, List **removed, LakeGcStats *stats, List **status)
{
	ObjStore   *store;
	List	   *entries;
	HTAB	   *parts;
	HASH_SEQ_STATUS seq;
	GcPart	   *part;
	LakeRefs	refs;
	FullTransactionId mark_xid;
	int64		now = (int64) time(NULL);
	int			actions = 0;
	LOCKTAG		tag;

	memset(stats, 0, sizeof(*stats));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s garbage collection cannot run during recovery", kind->noun),
				 errhint("Run it on the primary; standbys read the same lake files.")));
	if (!ActiveSnapshotSet())
		elog(ERROR, "%s garbage collection needs an active snapshot", kind->noun);

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, kind->lock_key, 0, 4);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);

	/* step 1: what exists */
	store = objstore_open(location);
	entries = objstore_list(store, psprintf("%s/db", kind->dir));
	parts = group_parts(kind, entries);

	/* step 2: the horizon, before looking at any metapage */
	hash_seq_init(&seq, parts);
	while ((part = hash_seq_search(&seq)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		stats->parts_seen++;
		if (part->orphaned)
			stats->orphaned++;
		if (part->mark_entry)
			part->mark_valid = mark_read(kind, store, part->mark_entry, &part->mark);
		if (part->mark_valid && part->mark.state == LAKE_MARK_RETIRED)
		{
			part->writer_gone = true;
			part->expired = xid_removable(part->mark.xid) &&
				now - part->mark.time >= min_age_s;
		}
		else if (part->name.has_birth)
			part->writer_gone = xid_removable(part->name.birth);
		else if (part->mark_valid)
			part->writer_gone = xid_removable(part->mark.xid);
	}

	/* step 3: what the metapages name, seen after step 2 */
	referenced_parts(kind, &refs);

	/* step 4: act; marks carry the next xid as of now, after step 3 */
	mark_xid = ReadNextFullTransactionId();
	hash_seq_init(&seq, parts);
	while ((part = hash_seq_search(&seq)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		part->referenced = hash_search(refs.prefixes, part->prefix, HASH_FIND, NULL) != NULL;
		if (max_actions > 0 && actions >= max_actions)
			continue;			/* budget spent: left for the next pass */
		if (part->referenced)
		{
			stats->referenced++;
			if (part->mark_entry && !dry_run)
			{
				/* a build that was running committed: the part lives */
				objstore_delete(store, part->mark_entry->key);
				stats->unmarked++;
			}
			add_status(status, part, "referenced");
			continue;
		}
		if (!part->orphaned && list_member_oid(refs.opaque_rels, part->name.rel))
		{
			/* its index could not be read this pass: keep, mark untouched */
			stats->referenced++;
			add_status(status, part, "locked");
			continue;
		}
		if (part->expired && part->mark_entry)
		{
			add_status(status, part, "removable");
			if (dry_run)
			{
				ListCell   *lc;

				foreach(lc, part->keys)
					report(removed, store, ((ObjListEntry *) lfirst(lc))->key);
				report(removed, store, part->mark_entry->key);
				stats->removed_parts++;
				stats->removed_files += list_length(part->keys) + 1;
			}
			else
				delete_part(store, part, removed, stats);
			actions++;
		}
		else if (part->writer_gone &&
				 !(part->mark_valid && part->mark.state == LAKE_MARK_RETIRED))
		{
			if (!dry_run)
				mark_write(store, part->prefix, LAKE_MARK_RETIRED, mark_xid);
			add_status(status, part, "unreferenced");
			stats->retired++;
			actions++;
		}
		else if (!part->writer_gone && !part->name.has_birth && !part->mark_valid)
		{
			/* unknown writer: the mark's xid bounds its xid/xmin */
			if (!dry_run)
				mark_write(store, part->prefix, LAKE_MARK_PENDING, mark_xid);
			add_status(status, part, "writing");
			stats->in_progress++;
			actions++;
		}
		else if (part->writer_gone)
		{
			add_status(status, part, "retired");
			stats->waiting++;
		}
		else
		{
			add_status(status, part, "writing");
			stats->in_progress++;
		}
	}

	/* step 5: let the horizon pass mark_xid even on an idle server */
	if (!dry_run && stats->retired + stats->waiting + stats->in_progress > 0)
		(void) GetTopTransactionId();

	objstore_close(store);
	hash_destroy(parts);
	hash_destroy(refs.prefixes);
}

void
lake_gc_location(const LakePartKind *kind, const char *location, int64 min_age_s,
				 bool dry_run, int max_actions, List **removed, LakeGcStats *stats)
{
	gc_run(kind, location, min_age_s, dry_run, max_actions, removed, stats, NULL);
}

List *
lake_gc_status(const LakePartKind *kind, const char *location, int64 min_age_s)
{
	List	   *status = NIL;
	LakeGcStats stats;

	gc_run(kind, location, min_age_s, true, 0, NULL, &stats, &status);
	return status;
}

/* ------------------------------------------------------------- helpers -- */

bool
lake_has_parts(const LakePartKind *kind, ObjStore *store)
{
	char	   *mine = psprintf("%s/db%u_", kind->dir, MyDatabaseId);
	ListCell   *lc;

	foreach(lc, objstore_list(store, psprintf("%s/", kind->dir)))
		if (strncmp(((ObjListEntry *) lfirst(lc))->key, mine, strlen(mine)) == 0)
			return true;
	return false;
}

int64
lake_interval_seconds(const Interval *iv)
{
	return iv->time / USECS_PER_SEC + (int64) iv->day * SECS_PER_DAY +
		(int64) iv->month * DAYS_PER_MONTH * SECS_PER_DAY;
}

int64
lake_min_age_seconds(const Interval *iv)
{
	int64		s = lake_interval_seconds(iv);

	if (s < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_age must not be negative")));
	return s;
}
