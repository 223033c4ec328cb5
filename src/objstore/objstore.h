/*
 * objstore.h — the object-store contract: one interface over lake URIs.
 *
 * Every lake file vlake reads or writes goes through here.  A store is
 * opened on a root URI ("file:///var/lib/lake/ds1/" or "s3://bucket/prefix/");
 * keys are relative to that root ("seg/000001/vec.parquet").
 *
 * Conventions:
 *  - All memory is palloc'd in CurrentMemoryContext.
 *  - Failures ERROR (never return garbage) with errmsg naming the full URI
 *    of the object and the cause; credentials never appear in messages.
 *  - Reads go through the local tiered cache (memory, then disk) and are
 *    counted in the per-backend / per-prefix counters.
 *  - Writes are atomic: a reader sees the whole object or no object.
 */
#ifndef VLAKE_OBJSTORE_H
#define VLAKE_OBJSTORE_H

#include "postgres.h"
#include "nodes/pg_list.h"

typedef struct ObjStore ObjStore;
typedef struct ObjWriter ObjWriter;

typedef struct ObjStat
{
	uint64		size;
	char		etag[128];		/* opaque validator; "" if the backend has none */
	int64		mtime;			/* seconds since epoch, 0 if unknown */
} ObjStat;

typedef struct ObjRange
{
	uint64		offset;
	uint64		length;
	char	   *dest;			/* caller-provided buffer of length bytes */
} ObjRange;

typedef struct ObjListEntry
{
	char	   *key;			/* relative to the store root */
	uint64		size;
	char		etag[128];
} ObjListEntry;

/*
 * The embedded lake: the directory OBJSTORE_EMBEDDED_DIR under the data
 * directory.  file:// confinement always allows it (it needs no setting),
 * and it is where lake assets go when no location is configured.  Returns
 * its root URI, "file://<data directory>/vlake_lake/".
 */
#define OBJSTORE_EMBEDDED_DIR "vlake_lake"
extern char *objstore_embedded_root_uri(void);

/* Is uri a root this build can open (a supported scheme, a valid path)?
 * false with *why set (palloc'd) when not; never ERRORs, never does I/O. */
extern bool objstore_uri_valid(const char *uri, char **why);

/* Open a store on a root URI.  Checks file:// roots against the embedded
 * lake and vlake.allowed_file_roots, and resolves s3:// credentials. */
extern ObjStore *objstore_open(const char *root_uri);
extern void objstore_close(ObjStore *store);
extern const char *objstore_root_uri(ObjStore *store);

/* Is every read of this store a round trip to a server (s3://), rather
 * than a local file read (file://)?  Callers plan fewer, larger reads. */
extern bool objstore_is_remote(ObjStore *store);

/* Full URI of a key, for messages and catalogs. */
extern char *objstore_uri(ObjStore *store, const char *key);

/* Whole object; *len receives its size.  ERROR if missing. */
extern char *objstore_get(ObjStore *store, const char *key, uint64 *len);

/* One range into dest; ERROR if the object is shorter than off+len. */
extern void objstore_get_range(ObjStore *store, const char *key,
							   uint64 offset, uint64 length, char *dest);

/* Several ranges of one object in one call (coalesced / pipelined). */
extern void objstore_get_ranges(ObjStore *store, const char *key,
								ObjRange *ranges, int nranges);

/* Read ranges of the version of an object named by its size and etag
 * (from objstore_head, objstore_list or a manifest), without the validating
 * head request.  Bytes of that version still in the local cache are served
 * from it; if some must come from the store and the store no longer holds
 * that version, the call ERRORs (ERRCODE_T_R_SERIALIZATION_FAILURE).  It
 * never returns bytes of two versions.  With known->etag empty it behaves
 * like objstore_get_ranges. */
extern void objstore_get_ranges_known(ObjStore *store, const char *key,
									  const ObjStat *known,
									  ObjRange *ranges, int nranges);

/* objstore_get_ranges_known for ranges that are fixed units of the object
 * (an index's lists): the disk tier keeps each range as one entry, found
 * again only by the same (offset, length), so a miss fetches exactly the
 * range rather than the cache blocks around it (vlake.cache_block_size).
 * All misses are fetched together, in one wave of requests. */
extern void objstore_get_ranges_exact(ObjStore *store, const char *key,
									  const ObjStat *known,
									  ObjRange *ranges, int nranges);

/* false if the object does not exist. */
extern bool objstore_head(ObjStore *store, const char *key, ObjStat *stat);

/* Whole-object put (atomic replace). */
extern void objstore_put(ObjStore *store, const char *key,
						 const char *data, uint64 len);

/* Atomic create: true if this call created the object, false if it existed. */
extern bool objstore_put_if_absent(ObjStore *store, const char *key,
								   const char *data, uint64 len);

/* Conditional replace (If-Match): true if the object existed with exactly
 * this etag (from objstore_head / objstore_list) and has been replaced;
 * false if it is missing or has another etag.  Atomic against every other
 * write to the same key. */
extern bool objstore_put_if_match(ObjStore *store, const char *key,
								  const char *data, uint64 len, const char *etag);

/* Streamed upload for large objects (multipart on S3); the object becomes
 * visible only at finish, and abort leaves nothing visible. */
extern ObjWriter *objstore_writer_begin(ObjStore *store, const char *key);
extern void objstore_writer_write(ObjWriter *w, const char *data, uint64 len);
extern void objstore_writer_finish(ObjWriter *w);
extern void objstore_writer_abort(ObjWriter *w);

/*
 * Positional writes from other processes into a streamed write under way
 * (a parallel index build: each participant writes its rows' vectors into
 * its own ranges of vectors.bin).  Only where a streamed write goes to a
 * local temporary file (file://): objstore_shared_writes() says so before
 * a writer exists, objstore_writer_shared_name() gives the file's name
 * (NULL elsewhere: s3:// streams through objstore_writer_write only).
 * A process of the same cluster opens the name with objstore_shared_open()
 * (uri for messages; the name must be a temporary file in an allowed
 * root), writes past the bytes the writer itself wrote, and closes it,
 * which also starts the write-back of what it wrote.  Every positional
 * write must be complete (closed) before objstore_writer_finish(), whose
 * fsync makes them durable with the rest; the object's size is the file's
 * then.  objstore_writer_shared_written() counts them in the statistics.
 * Abort, or a crash, leaves nothing visible, whoever wrote.
 */
typedef struct ObjSharedFile ObjSharedFile;
extern bool objstore_shared_writes(ObjStore *store);
extern const char *objstore_writer_shared_name(ObjWriter *w);
extern void objstore_writer_shared_written(ObjWriter *w, uint64 len);
extern ObjSharedFile *objstore_shared_open(const char *name, const char *uri);
extern void objstore_shared_pwrite(ObjSharedFile *f, const char *data, uint64 len,
								   uint64 offset);
extern void objstore_shared_close(ObjSharedFile *f);

/* All keys under a prefix (relative), across pages; List of ObjListEntry*. */
extern List *objstore_list(ObjStore *store, const char *prefix);

/* Garbage collection of interrupted writes (kill -9 during a streamed
 * upload): removes leftovers under prefix older than min_age_secs and
 * returns how many; 0 when the backend keeps none it can find. */
extern int64 objstore_reclaim_temporaries(ObjStore *store, const char *prefix,
										  int64 min_age_secs);

/* Delete; deleting a missing object is not an error. */
extern void objstore_delete(ObjStore *store, const char *key);
extern void objstore_delete_many(ObjStore *store, List *keys);	/* List of char* */

/*
 * This backend's read totals over every store root: bytes served by the
 * memory tier, by the local disk cache, and read from the stores (lake),
 * and GET requests sent.  For before/after differences (EXPLAIN).
 */
typedef struct ObjIoTotals
{
	uint64		bytes_memory;
	uint64		bytes_disk;
	uint64		bytes_lake;
	uint64		get_requests;
} ObjIoTotals;

extern void objstore_io_totals(ObjIoTotals *out);

#endif							/* VLAKE_OBJSTORE_H */
