/*
 * objstore_internal.h — what the parts of the objstore layer share with each
 * other (not a contract for other layers: use objstore.h).
 *
 *   objstore.c        URI parsing, backend dispatch, the public API, writers
 *   file_backend.c    the file:// backend
 *   objstore_map.c    read-only file mappings and SIGBUS-guarded copies
 *                     (objstore_map.h; backend-free)
 *   objstore_cache.c  the tiered read cache (per-backend memory, local disk)
 *   objstore_stats.c  exact I/O counters per backend and per root prefix
 *   objstore_sql.c    the vlake.lake_* operator functions
 *   objstore_init.c   GUCs
 */
#ifndef VLAKE_OBJSTORE_INTERNAL_H
#define VLAKE_OBJSTORE_INTERNAL_H

#include "postgres.h"

#include "objstore/objstore.h"
#include "objstore/objstore_backend.h"
#include "portability/instr_time.h"

/* ---- GUCs (objstore_init.c) ---- */
extern char *objstore_allowed_file_roots;	/* vlake.allowed_file_roots */
extern char *objstore_cache_dir;	/* vlake.cache_dir ("" = $PGDATA/vlake_cache) */
extern int	objstore_cache_size_mb; /* vlake.cache_size; 0 disables the disk tier */
extern int	objstore_cache_block_kb;	/* vlake.cache_block_size */
extern bool objstore_cache_file_uris;	/* vlake.cache_file_uris */
extern int	objstore_mem_cache_kb;	/* vlake.cache_memory_size; 0 disables */
extern int	objstore_mem_object_max_kb; /* vlake.cache_memory_object_max */
extern int	objstore_sweep_exact_max;	/* vlake.cache_sweep_exact_max */

typedef enum ObjScheme
{
	OBJ_SCHEME_FILE,
	OBJ_SCHEME_S3
} ObjScheme;

typedef struct ObjIoStats ObjIoStats;

struct ObjStore
{
	char	   *root_uri;		/* normalised, always ends with '/' */
	ObjScheme	scheme;
	const ObjBackendOps *ops;
	void	   *state;			/* backend-private */
	ObjIoStats *stats;			/* counters of this root prefix */
};

/* ---- URI and key checks (objstore.c) ---- */
extern void objstore_check_key(const char *root_uri, const char *key, bool is_prefix);
extern void objstore_split_uri(const char *uri, char **root, char **key);
extern bool objstore_head_counted(ObjStore *store, const char *key, ObjStat *st);


/* ---- file:// confinement (file_backend.c) ---- */
extern void file_check_confined(const char *path, const char *uri);

/* ---- counters (objstore_stats.c) ---- */
typedef enum ObjReqKind
{
	OBJ_REQ_HEAD,
	OBJ_REQ_GET,
	OBJ_REQ_PUT,
	OBJ_REQ_LIST,
	OBJ_REQ_DELETE,
	OBJ_REQ_NKINDS
} ObjReqKind;

/* file:// streamed writes go to "<dir>/" OBJ_TMP_PREFIX "...": never listed,
 * reclaimed after kill -9, refused as object names */
#define OBJ_TMP_PREFIX ".vlake-tmp."

#define OBJ_LAT_BUCKETS 24		/* request latency: < 2^i microseconds, last open-ended */

extern ObjIoStats *objstats_for_root(const char *root_uri);
/* A request to the store (a backend call); bytes moved over the wire. */
extern void objstats_request(ObjIoStats *s, ObjReqKind kind, instr_time start,
							 uint64 bytes);
/* Bytes callers asked the read path for. */
extern void objstats_requested(ObjIoStats *s, uint64 bytes);
/* Memory tier: a lookup (hit or miss) and, on a hit, the bytes it served. */
extern void objstats_mem(ObjIoStats *s, bool hit, uint64 bytes_served);
/* Disk tier: block lookups and the bytes served from hit blocks. */
extern void objstats_disk(ObjIoStats *s, uint64 hits, uint64 misses, uint64 bytes_served);
/* Disk tier: bytes written into cache entries. */
extern void objstats_disk_fill(ObjIoStats *s, uint64 bytes);

/* ---- tiered cache (objstore_cache.c) ---- */
extern bool objcache_read(ObjStore *store, const char *key, const ObjStat *st,
						  ObjRange *ranges, int nranges);
extern bool objcache_read_exact(ObjStore *store, const char *key, const ObjStat *st,
								ObjRange *ranges, int nranges);
extern char *objcache_read_whole(ObjStore *store, const char *key, ObjStat *st);
extern void objcache_forget(ObjStore *store, const char *key);
extern char *objcache_dir(void);
extern bool objcache_sweep(void);
extern void objcache_init_shmem(void);

#endif							/* VLAKE_OBJSTORE_INTERNAL_H */
