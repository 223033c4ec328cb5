/*
 * objstore_cache.c — the tiered read cache in front of the lake.
 *
 * Every read starts with a head of the object (objstore.c), so each tier is
 * validated by the object's current (etag, size): an object replaced under
 * the same key has another etag and is never served from a stale entry.
 *
 * Memory tier (per backend).  Whole objects no larger than
 * vlake.cache_memory_object_max, LRU within vlake.cache_memory_size.  A read
 * of any part of such an object loads all of it (small hot objects:
 * manifests, footers, centroids).
 *
 * Disk tier (shared by all backends, survives restarts).  Objects are cut
 * into aligned blocks of vlake.cache_block_size bytes; each cached block is
 * one file under vlake.cache_dir named by SHA-256 of
 * (object URI, etag, size, block size, block number).  An entry file holds a
 * header (magic, key length, data length, CRC-32C of key and data), the key
 * itself and the block; a reader checks all of it, so a hash collision, a
 * torn entry after a crash or a corrupted disk block is a miss, never wrong
 * data.  Entries are written to a temporary file and renamed into place,
 * hence are complete or absent; they are never modified after that.
 *
 * Misses are fetched in runs of consecutive blocks with the backend's
 * get_ranges_if_match(etag), so bytes that reach the cache belong to the
 * validated version even if the object is replaced during the fetch.
 *
 * Eviction.  A backend that has added more than 1/16 of vlake.cache_size
 * since its last sweep tries to sweep: it takes a non-blocking exclusive
 * flock on <cache_dir>/.evict.lock (if another backend holds it, that one is
 * sweeping and this one goes on), sums the entry sizes and unlinks the
 * least recently used entries (mtime, refreshed on a hit at most once a
 * minute) until the cache is below 90% of its bound.  Unlinking cannot hurt
 * a reader (an open entry stays readable; a vanished one is a miss), so
 * eviction needs no other coordination; between sweeps the cache can exceed
 * its bound by at most 1/16 of it per active backend.
 *
 * file:// objects bypass the disk tier unless vlake.cache_file_uris is on
 * (copying a local file to another local file buys nothing); such reads are
 * counted as direct reads from the store (bytes_read).
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "common/file_perm.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "objstore/objstore_internal.h"

#define CACHE_MAGIC 0x564c4b43	/* "VLKC" */
#define CACHE_VERSION 1
#define CACHE_BATCH_BLOCKS 64	/* blocks handled per batch of a read */
#define CACHE_TOUCH_SECS 60		/* refresh an entry's LRU time at most this often */

typedef struct CacheEntryHeader
{
	uint32		magic;
	uint32		version;
	uint32		key_len;
	uint32		data_len;
	pg_crc32c	crc;			/* over key then data */
} CacheEntryHeader;

/* ---------------------------------------------------------- helpers ---- */

static char *
full_uri(ObjStore *store, const char *key)
{
	return psprintf("%s%s", store->root_uri, key);
}

static uint64
total_length(ObjRange *ranges, int n)
{
	uint64		t = 0;

	for (int i = 0; i < n; i++)
		t += ranges[i].length;
	return t;
}

/* A counted get of ranges from the store, validated by etag when it can be. */
static bool
fetch_ranges(ObjStore *store, const char *key, const ObjStat *st,
			 ObjRange *ranges, int n)
{
	instr_time	start;
	bool		ok = true;

	INSTR_TIME_SET_CURRENT(start);
	if (store->ops->get_ranges_if_match && st->etag[0] != '\0')
		ok = store->ops->get_ranges_if_match(store->state, key, ranges, n, st->etag);
	else
		store->ops->get_ranges(store->state, key, ranges, n);
	objstats_request(store->stats, OBJ_REQ_GET, start, ok ? total_length(ranges, n) : 0);
	if (ok && !store->ops->get_ranges_if_match)
	{
		ObjStat		now;

		/* No conditional get: a second head proves nothing changed meanwhile. */
		ok = objstore_head_counted(store, key, &now) &&
			now.size == st->size && strcmp(now.etag, st->etag) == 0;
	}
	return ok;
}

static int
cmp_range_offset(const void *a, const void *b, void *arg)
{
	const ObjRange *r = arg;
	uint64		x = r[*(const int *) a].offset;
	uint64		y = r[*(const int *) b].offset;

	return (x > y) - (x < y);
}

/*
 * Fetch ranges[0..n) in one get_ranges call, touching ranges merged into
 * one range and split into their own destinations afterwards (an
 * exhaustive scan wants every list of codes.bin: a few long reads, not one
 * per list).  A remote backend also joins ranges lying close together into
 * one request (s3_backend.c), without this copy.
 */
static bool
fetch_merged(ObjStore *store, const char *key, const ObjStat *st,
			 ObjRange *ranges, int n)
{
	int		   *scratch = palloc(sizeof(int) * n);
	ObjRange   *runs = palloc(sizeof(ObjRange) * n);
	int		   *first = palloc(sizeof(int) * n);
	int			nruns = 0;

	for (int i = 0; i < n; i++)
		scratch[i] = i;
	qsort_arg(scratch, n, sizeof(int), cmp_range_offset, ranges);
	for (int k = 0; k < n; k++)
	{
		ObjRange   *r = &ranges[scratch[k]];
		ObjRange   *last = nruns > 0 ? &runs[nruns - 1] : NULL;

		if (last && r->offset <= last->offset + last->length)
			last->length = Max(last->offset + last->length, r->offset + r->length) - last->offset;
		else
		{
			runs[nruns] = *r;
			first[nruns++] = k;
		}
	}
	if (nruns == n)
		return fetch_ranges(store, key, st, ranges, n);
	for (int j = 0; j < nruns; j++)
		runs[j].dest = palloc_extended(runs[j].length, MCXT_ALLOC_HUGE);
	if (!fetch_ranges(store, key, st, runs, nruns))
		return false;
	for (int j = 0; j < nruns; j++)
	{
		int			end = j + 1 < nruns ? first[j + 1] : n;

		for (int k = first[j]; k < end; k++)
		{
			ObjRange   *r = &ranges[scratch[k]];

			memcpy(r->dest, runs[j].dest + (r->offset - runs[j].offset), r->length);
		}
		pfree(runs[j].dest);
	}
	return true;
}

static bool
direct_read(ObjStore *store, const char *key, const ObjStat *st, ObjRange *ranges, int n)
{
	return fetch_ranges(store, key, st, ranges, n);
}

/* ------------------------------------------------------ memory tier ---- */

typedef struct MemEntry
{
	char		uri[2048];		/* hash key */
	char		etag[128];
	uint64		size;
	char	   *data;
	dlist_node	lru;
} MemEntry;

static HTAB *mem_table = NULL;
static dlist_head mem_lru = DLIST_STATIC_INIT(mem_lru);
static uint64 mem_bytes = 0;
static MemoryContext mem_cxt = NULL;

static void
mem_init(void)
{
	HASHCTL		ctl;

	if (mem_table)
		return;
	mem_cxt = AllocSetContextCreate(TopMemoryContext, "vlake objstore memory cache",
									ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(((MemEntry *) 0)->uri);
	ctl.entrysize = sizeof(MemEntry);
	ctl.hcxt = mem_cxt;
	mem_table = hash_create("vlake objstore memory cache", 64, &ctl,
							HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

static void
mem_remove(MemEntry *e)
{
	dlist_delete(&e->lru);
	mem_bytes -= e->size;
	pfree(e->data);
	hash_search(mem_table, e->uri, HASH_REMOVE, NULL);
}

static bool
mem_eligible(const char *uri, const ObjStat *st)
{
	return objstore_mem_cache_kb > 0 && st->etag[0] != '\0' &&
		st->size <= (uint64) objstore_mem_object_max_kb * 1024 &&
		st->size <= (uint64) objstore_mem_cache_kb * 1024 &&
		strlen(uri) < sizeof(((MemEntry *) 0)->uri);
}

static MemEntry *
mem_lookup(const char *uri, const ObjStat *st)
{
	MemEntry   *e;

	mem_init();
	e = hash_search(mem_table, uri, HASH_FIND, NULL);
	if (e == NULL)
		return NULL;
	if (e->size != st->size || strcmp(e->etag, st->etag) != 0 || st->etag[0] == '\0')
	{
		mem_remove(e);			/* replaced in the store: drop the old copy */
		return NULL;
	}
	dlist_move_head(&mem_lru, &e->lru);
	return e;
}

static void
mem_insert(const char *uri, const ObjStat *st, const char *data)
{
	uint64		budget = (uint64) objstore_mem_cache_kb * 1024;
	MemEntry   *e;
	bool		found;

	if (st->etag[0] == '\0')
		return;					/* nothing to validate it by later */
	mem_init();
	e = hash_search(mem_table, uri, HASH_FIND, NULL);
	if (e)
		mem_remove(e);
	while (mem_bytes + st->size > budget && !dlist_is_empty(&mem_lru))
		mem_remove(dlist_container(MemEntry, lru, dlist_tail_node(&mem_lru)));
	e = hash_search(mem_table, uri, HASH_ENTER, &found);
	strlcpy(e->etag, st->etag, sizeof(e->etag));
	e->size = st->size;
	e->data = MemoryContextAllocHuge(mem_cxt, Max(st->size, 1));
	memcpy(e->data, data, st->size);
	dlist_push_head(&mem_lru, &e->lru);
	mem_bytes += st->size;
}

void
objcache_forget(ObjStore *store, const char *key)
{
	char	   *uri;
	MemEntry   *e;

	if (mem_table == NULL)
		return;
	uri = full_uri(store, key);
	if (strlen(uri) < sizeof(((MemEntry *) 0)->uri) &&
		(e = hash_search(mem_table, uri, HASH_FIND, NULL)) != NULL)
		mem_remove(e);
	pfree(uri);
}

/* -------------------------------------------------------- disk tier ---- */

char *
objcache_dir(void)
{
	if (objstore_cache_dir && objstore_cache_dir[0] != '\0')
		return pstrdup(objstore_cache_dir);
	return psprintf("%s/vlake_cache", DataDir);
}

static bool
disk_enabled(ObjStore *store, const ObjStat *st)
{
	if (objstore_cache_size_mb <= 0 || st->etag[0] == '\0')
		return false;
	if (store->scheme == OBJ_SCHEME_FILE && !objstore_cache_file_uris)
		return false;
	return true;
}

static uint64 bytes_since_sweep = 0;	/* fallback when not preloaded */

/*
 * With vlake preloaded, all backends share an estimate of the disk tier's
 * size: each fill adds to it, each sweep sets it to what it counted.  A
 * backend sweeps when the estimate passes vlake.cache_size (or, before
 * anybody has counted, 1/16 of it), so the cache overshoots its bound only
 * by the fills that race with one sweep (by 1/16 before the first count).  Without preloading, each backend sweeps after
 * adding 1/16 of the bound (overshoot up to 1/16 per active backend).
 */
typedef struct CacheShared
{
	pg_atomic_uint64 estimate;	/* bytes, as of the last sweep plus fills */
	pg_atomic_uint32 counted;	/* 0 until a sweep has counted the cache */
} CacheShared;

static CacheShared *cache_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
cache_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CacheShared)));
}

static void
cache_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cache_shared = ShmemInitStruct("vlake objstore cache", sizeof(CacheShared), &found);
	if (!found)
	{
		pg_atomic_init_u64(&cache_shared->estimate, 0);
		pg_atomic_init_u32(&cache_shared->counted, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init (through vlake_objstore_init). */
void
objcache_init_shmem(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = cache_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = cache_shmem_startup;
}
static bool cache_write_warned = false;

/* Entry identity: the key string and the path of its file. */
static char *
entry_key(const char *uri, const ObjStat *st, uint64 bs, uint64 blockno)
{
	return psprintf("%s\n%s\n" UINT64_FORMAT "\n" UINT64_FORMAT "\n" UINT64_FORMAT,
					uri, st->etag, st->size, bs, blockno);
}

static void
entry_paths(const char *dir, const char *ekey, char **subdir, char **path)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char		hex[33];

	if (!EVP_Digest(ekey, strlen(ekey), md, &mdlen, EVP_sha256(), NULL) || mdlen < 16)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not hash a lake cache entry name")));
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	*subdir = psprintf("%s/%.2s", dir, hex);
	*path = psprintf("%s/%.2s/%s", dir, hex, hex + 2);
}

static pg_crc32c
entry_crc(const char *ekey, uint32 key_len, const char *data, uint32 data_len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, ekey, key_len);
	COMP_CRC32C(crc, data, data_len);
	FIN_CRC32C(crc);
	return crc;
}

/* Read a cache entry into dest (exactly len bytes); false on any mismatch. */
static bool
entry_read(const char *path, const char *ekey, char *dest, uint32 len)
{
	CacheEntryHeader hdr;
	uint32		key_len = strlen(ekey);
	struct stat sb;
	char	   *buf;
	size_t		total = sizeof(hdr) + key_len + len;
	bool		ok = false;
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);

	if (fd < 0)
		return false;
	if (fstat(fd, &sb) == 0 && (size_t) sb.st_size == total)
	{
		buf = palloc(total);
		if (pg_pread(fd, buf, total, 0) == (ssize_t) total)
		{
			memcpy(&hdr, buf, sizeof(hdr));
			if (hdr.magic == CACHE_MAGIC && hdr.version == CACHE_VERSION &&
				hdr.key_len == key_len && hdr.data_len == len &&
				memcmp(buf + sizeof(hdr), ekey, key_len) == 0 &&
				hdr.crc == entry_crc(buf + sizeof(hdr), key_len,
									 buf + sizeof(hdr) + key_len, len))
			{
				memcpy(dest, buf + sizeof(hdr) + key_len, len);
				ok = true;
				/* LRU: refresh the time of a hit entry now and then. */
				if (time(NULL) - sb.st_mtime > CACHE_TOUCH_SECS)
					(void) futimens(fd, NULL);
			}
		}
		pfree(buf);
	}
	CloseTransientFile(fd);
	return ok;
}

static void
cache_warn(const char *what, const char *path)
{
	/* A cache that cannot be written only costs speed: say it once. */
	if (!cache_write_warned)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not %s lake cache file \"%s\": %m", what, path),
				 errdetail("Reads continue without filling the local cache.")));
	cache_write_warned = true;
}

/* Write one entry: temporary file, then rename.  Failures only warn. */
static bool
entry_write(const char *subdir, const char *path, const char *ekey,
			const char *data, uint32 len)
{
	static uint32 seq = 0;
	CacheEntryHeader hdr;
	uint32		key_len = strlen(ekey);
	char	   *tmp = psprintf("%s/.tmp.%d.%u", subdir, MyProcPid, ++seq);
	int			fd;
	bool		ok;

	fd = OpenTransientFilePerm(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY, pg_file_create_mode);
	if (fd < 0 && errno == ENOENT)
	{
		char	   *top = pstrdup(subdir);

		*strrchr(top, '/') = '\0';
		(void) mkdir(top, pg_dir_create_mode);
		(void) mkdir(subdir, pg_dir_create_mode);
		pfree(top);
		fd = OpenTransientFilePerm(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY, pg_file_create_mode);
	}
	if (fd < 0)
	{
		cache_warn("create", tmp);
		return false;
	}
	hdr.magic = CACHE_MAGIC;
	hdr.version = CACHE_VERSION;
	hdr.key_len = key_len;
	hdr.data_len = len;
	hdr.crc = entry_crc(ekey, key_len, data, len);
	ok = write(fd, &hdr, sizeof(hdr)) == sizeof(hdr) &&
		write(fd, ekey, key_len) == (ssize_t) key_len &&
		write(fd, data, len) == (ssize_t) len;
	if (!ok)
		cache_warn("write", tmp);
	CloseTransientFile(fd);
	if (ok && rename(tmp, path) != 0)
	{
		cache_warn("rename", tmp);
		ok = false;
	}
	if (!ok)
		(void) unlink(tmp);
	pfree(tmp);
	return ok;
}

/* ---- eviction ---- */

static bool
is_hex_name(const char *name, size_t len)
{
	if (strlen(name) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

typedef struct SweepItem
{
	char	   *path;
	uint64		size;
	time_t		mtime;
} SweepItem;

static int
cmp_sweep(const void *a, const void *b)
{
	const SweepItem *x = a;
	const SweepItem *y = b;

	return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

/*
 * Scan one bucket directory: returns the bytes of its entries, removes
 * temporary files older than ten minutes (left by a crash), and, if items
 * is not NULL, collects the entries (palloc'd in the current context).
 */
static uint64
scan_bucket(const char *sub, time_t now, SweepItem **items, int *nitems)
{
	DIR		   *d = AllocateDir(sub);
	struct dirent *fe;
	uint64		total = 0;
	int			maxitems = 0;

	if (nitems)
		*nitems = 0;
	while (d && (fe = ReadDir(d, sub)) != NULL)
	{
		char	   *p;
		struct stat sb;

		CHECK_FOR_INTERRUPTS();
		if (strncmp(fe->d_name, ".tmp.", 5) != 0 && !is_hex_name(fe->d_name, 30))
			continue;			/* not ours (or "." / ".."): never touch it */
		p = psprintf("%s/%s", sub, fe->d_name);
		if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
		{
			pfree(p);
			continue;
		}
		if (fe->d_name[0] == '.')
		{
			if (now - sb.st_mtime > 600)
				(void) unlink(p);
			pfree(p);
			continue;
		}
		total += sb.st_size;
		if (items == NULL)
		{
			if (nitems)
				(*nitems)++;
			pfree(p);
			continue;
		}
		if (*nitems >= maxitems)
		{
			maxitems = Max(64, *nitems * 2);
			*items = *items ? repalloc_huge(*items, sizeof(SweepItem) * maxitems)
				: palloc(sizeof(SweepItem) * maxitems);
		}
		(*items)[*nitems].path = p;
		(*items)[*nitems].size = sb.st_size;
		(*items)[*nitems].mtime = sb.st_mtime;
		(*nitems)++;
	}
	if (d)
		FreeDir(d);
	return total;
}

/*
 * Bring the disk tier under 90% of vlake.cache_size; returns false if
 * another backend is sweeping.
 *
 * Up to vlake.cache_sweep_exact_max entries (65536) the sweep is an exact LRU over all of
 * them.  Beyond, entries being spread uniformly over the 256 buckets by
 * their hash, each bucket gives up its share of the excess, oldest first:
 * an LRU approximation whose memory is one bucket's listing, so a cache of
 * millions of entries sweeps in bounded memory.
 */
bool
objcache_sweep(void)
{
	char	   *dir = objcache_dir();
	char	   *lockpath = psprintf("%s/.evict.lock", dir);
	uint64		limit = (uint64) objstore_cache_size_mb * 1024 * 1024;
	uint64		target = limit / 10 * 9;
	uint64		bucket_bytes[256];
	uint64		total = 0;
	int			nentries = 0;
	int			lockfd;
	time_t		now = time(NULL);

	(void) mkdir(dir, pg_dir_create_mode);
	lockfd = OpenTransientFilePerm(lockpath, O_RDWR | O_CREAT | PG_BINARY, pg_file_create_mode);
	if (lockfd < 0)
		return false;
	if (flock(lockfd, LOCK_EX | LOCK_NB) != 0)
	{
		CloseTransientFile(lockfd);
		return false;
	}

	/* Pass 1: how much is there, per bucket. */
	for (int b = 0; b < 256; b++)
	{
		char	   *sub = psprintf("%s/%02x", dir, b);

		int			n = 0;

		bucket_bytes[b] = scan_bucket(sub, now, NULL, &n);
		total += bucket_bytes[b];
		nentries += n;
		pfree(sub);
	}

	/* Pass 2, small caches: exact LRU over all entries. */
	if (total > target && nentries <= objstore_sweep_exact_max)
	{
		MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake cache sweep",
												  ALLOCSET_DEFAULT_SIZES);
		MemoryContext old = MemoryContextSwitchTo(cxt);
		SweepItem  *all = NULL;
		int			nall = 0;

		for (int b = 0; b < 256; b++)
		{
			SweepItem  *items = NULL;
			int			nitems = 0;

			if (bucket_bytes[b] == 0)
				continue;
			(void) scan_bucket(psprintf("%s/%02x", dir, b), now, &items, &nitems);
			if (nitems == 0)
				continue;
			all = all ? repalloc_huge(all, sizeof(SweepItem) * (nall + nitems))
				: palloc(sizeof(SweepItem) * nitems);
			memcpy(all + nall, items, sizeof(SweepItem) * nitems);
			nall += nitems;
		}
		/* Entries may have come and gone since pass 1: recount. */
		total = 0;
		for (int i = 0; i < nall; i++)
			total += all[i].size;
		if (nall > 0)
			qsort(all, nall, sizeof(SweepItem), cmp_sweep);
		for (int i = 0; i < nall && total > target; i++)
			if (unlink(all[i].path) == 0)
				total -= all[i].size;
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
	}
	/* Pass 2, large caches: each bucket sheds its share, oldest first. */
	else if (total > target)
	{
		uint64		excess = total - target;

		for (int b = 0; b < 256; b++)
		{
			MemoryContext cxt;
			MemoryContext old;
			SweepItem  *items = NULL;
			int			nitems = 0;
			uint64		quota;
			uint64		freed = 0;
			char	   *sub;

			if (bucket_bytes[b] == 0)
				continue;
			/* ceil(excess * share), without overflowing 64 bits */
			quota = (uint64) ((double) excess * bucket_bytes[b] / total) + 1;
			cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake cache sweep",
										ALLOCSET_DEFAULT_SIZES);
			old = MemoryContextSwitchTo(cxt);
			sub = psprintf("%s/%02x", dir, b);
			(void) scan_bucket(sub, now, &items, &nitems);
			if (nitems > 0)
				qsort(items, nitems, sizeof(SweepItem), cmp_sweep);
			for (int i = 0; i < nitems && freed < quota; i++)
			{
				if (unlink(items[i].path) == 0)
					freed += items[i].size;
			}
			total -= Min(freed, total);
			MemoryContextSwitchTo(old);
			MemoryContextDelete(cxt);
		}
	}
	if (cache_shared)
	{
		/* Still under the sweep lock: no other sweep can interleave. */
		pg_atomic_write_u64(&cache_shared->estimate, total);
		pg_atomic_write_u32(&cache_shared->counted, 1);
	}
	CloseTransientFile(lockfd);
	bytes_since_sweep = 0;
	return true;
}

static void
note_fill(uint64 bytes)
{
	uint64		limit = (uint64) objstore_cache_size_mb * 1024 * 1024;

	if (cache_shared)
	{
		uint64		est = pg_atomic_add_fetch_u64(&cache_shared->estimate, bytes);

		/*
		 * Nobody has counted the cache since the server started: count it
		 * once 1/16 of the bound has been added, not at the first fill,
		 * so the first cold query after a start does not scan the cache
		 * directory (the overshoot stays within the 1/16 documented for
		 * backends that are not preloaded).
		 */
		if (est > limit ||
			(pg_atomic_read_u32(&cache_shared->counted) == 0 && est > limit / 16))
			(void) objcache_sweep();
		return;
	}
	bytes_since_sweep += bytes;
	if (bytes_since_sweep > limit / 16)
		(void) objcache_sweep();
}

/* ---- the disk-tier read ---- */

typedef struct BlockSlot
{
	uint64		blockno;
	uint32		len;			/* block length (the last block may be short) */
	char	   *data;
	bool		hit;
} BlockSlot;

static int
cmp_u64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

/* Copy the parts of the given blocks that the ranges ask for. */
static void
copy_out(BlockSlot *slots, int nslots, uint64 bs, ObjRange *ranges, int nranges)
{
	for (int s = 0; s < nslots; s++)
	{
		uint64		bstart = slots[s].blockno * bs;
		uint64		bend = bstart + slots[s].len;

		for (int r = 0; r < nranges; r++)
		{
			uint64		rstart = ranges[r].offset;
			uint64		rend = rstart + ranges[r].length;
			uint64		lo = Max(bstart, rstart);
			uint64		hi = Min(bend, rend);

			if (lo < hi)
				memcpy(ranges[r].dest + (lo - rstart), slots[s].data + (lo - bstart), hi - lo);
		}
	}
}

/* Bytes of the ranges that fall in one block. */
static uint64
bytes_wanted(const BlockSlot *slot, uint64 bs, ObjRange *ranges, int nranges)
{
	uint64		bstart = slot->blockno * bs;
	uint64		bend = bstart + slot->len;
	uint64		t = 0;

	for (int r = 0; r < nranges; r++)
	{
		uint64		lo = Max(bstart, ranges[r].offset);
		uint64		hi = Min(bend, ranges[r].offset + ranges[r].length);

		if (lo < hi)
			t += hi - lo;
	}
	return t;
}

/* One batch of blocks: look up, fetch the misses in runs, fill, copy out. */
static bool
disk_read_batch(ObjStore *store, const char *key, const char *uri, const ObjStat *st,
				uint64 *blocks, int nblocks, ObjRange *ranges, int nranges)
{
	uint64		bs = (uint64) objstore_cache_block_kb * 1024;
	char	   *dir = objcache_dir();
	BlockSlot  *slots = palloc0(sizeof(BlockSlot) * nblocks);
	char	  **ekeys = palloc(sizeof(char *) * nblocks);
	char	  **paths = palloc(sizeof(char *) * nblocks);
	char	  **subdirs = palloc(sizeof(char *) * nblocks);
	ObjRange   *runs = palloc(sizeof(ObjRange) * nblocks);
	int			nruns = 0;
	uint64		hits = 0;
	uint64		misses = 0;
	uint64		served = 0;

	for (int i = 0; i < nblocks; i++)
	{
		BlockSlot  *s = &slots[i];

		s->blockno = blocks[i];
		s->len = (uint32) Min(bs, st->size - s->blockno * bs);
		s->data = palloc(s->len);
		ekeys[i] = entry_key(uri, st, bs, s->blockno);
		entry_paths(dir, ekeys[i], &subdirs[i], &paths[i]);
		s->hit = entry_read(paths[i], ekeys[i], s->data, s->len);
		if (s->hit)
		{
			hits++;
			served += bytes_wanted(s, bs, ranges, nranges);
			continue;
		}
		misses++;
		/* Extend the current run when this block follows the previous miss. */
		if (nruns > 0 && i > 0 && !slots[i - 1].hit && slots[i - 1].blockno + 1 == s->blockno)
			runs[nruns - 1].length += s->len;
		else
		{
			runs[nruns].offset = s->blockno * bs;
			runs[nruns].length = s->len;
			runs[nruns].dest = NULL;
			nruns++;
		}
	}
	objstats_disk(store->stats, hits, misses, served);

	if (nruns > 0)
	{
		/* Fetch each run into one buffer, then split it into the slots. */
		int			slot = 0;

		for (int r = 0; r < nruns; r++)
			runs[r].dest = palloc(runs[r].length);
		if (!fetch_ranges(store, key, st, runs, nruns))
			return false;
		for (int r = 0; r < nruns; r++)
		{
			uint64		off = 0;

			while (off < runs[r].length)
			{
				while (slots[slot].hit || slots[slot].blockno * bs != runs[r].offset + off)
					slot++;
				memcpy(slots[slot].data, runs[r].dest + off, slots[slot].len);
				if (entry_write(subdirs[slot], paths[slot], ekeys[slot],
								slots[slot].data, slots[slot].len))
				{
					objstats_disk_fill(store->stats, slots[slot].len);
					note_fill(sizeof(CacheEntryHeader) + strlen(ekeys[slot]) + slots[slot].len);
				}
				off += slots[slot].len;
				slot++;
			}
		}
	}
	copy_out(slots, nblocks, bs, ranges, nranges);
	return true;
}

/* false if the object no longer has st's etag (nothing wrong was cached). */
static bool
disk_read(ObjStore *store, const char *key, const ObjStat *st, ObjRange *ranges, int nranges)
{
	uint64		bs = (uint64) objstore_cache_block_kb * 1024;
	char	   *uri = full_uri(store, key);
	uint64	   *blocks = NULL;
	int			nblocks = 0;
	int			maxblocks = 16;
	MemoryContext cxt;
	MemoryContext old;
	bool		ok = true;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake cache read",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* The distinct blocks the ranges touch, in order. */
	blocks = palloc(sizeof(uint64) * maxblocks);
	for (int r = 0; r < nranges; r++)
	{
		if (ranges[r].length == 0)
			continue;
		for (uint64 b = ranges[r].offset / bs;
			 b <= (ranges[r].offset + ranges[r].length - 1) / bs; b++)
		{
			if (nblocks == maxblocks)
			{
				maxblocks *= 2;
				blocks = repalloc_huge(blocks, sizeof(uint64) * maxblocks);
			}
			blocks[nblocks++] = b;
		}
	}
	qsort(blocks, nblocks, sizeof(uint64), cmp_u64);
	{
		int			u = 0;

		for (int i = 0; i < nblocks; i++)
			if (u == 0 || blocks[u - 1] != blocks[i])
				blocks[u++] = blocks[i];
		nblocks = u;
	}

	for (int i = 0; ok && i < nblocks; i += CACHE_BATCH_BLOCKS)
	{
		MemoryContext batch = AllocSetContextCreate(cxt, "vlake cache batch",
													ALLOCSET_DEFAULT_SIZES);

		MemoryContextSwitchTo(batch);
		CHECK_FOR_INTERRUPTS();
		ok = disk_read_batch(store, key, uri, st, blocks + i,
							 Min(CACHE_BATCH_BLOCKS, nblocks - i), ranges, nranges);
		MemoryContextSwitchTo(cxt);
		MemoryContextDelete(batch);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return ok;
}

/* ------------------------------------------------------- entry points ---- */

/* Read ranges through the disk tier or straight from the store. */
static bool
lower_read(ObjStore *store, const char *key, const ObjStat *st, ObjRange *ranges, int n)
{
	if (disk_enabled(store, st))
		return disk_read(store, key, st, ranges, n);
	return direct_read(store, key, st, ranges, n);
}

/* Load a whole small object into the memory tier; returns the entry. */
static MemEntry *
mem_fill(ObjStore *store, const char *key, const char *uri, const ObjStat *st)
{
	ObjRange	r;

	r.offset = 0;
	r.length = st->size;
	r.dest = palloc(Max(st->size, 1));
	if (!lower_read(store, key, st, &r, 1))
	{
		pfree(r.dest);
		return NULL;
	}
	mem_insert(uri, st, r.dest);
	pfree(r.dest);
	return hash_search(mem_table, uri, HASH_FIND, NULL);
}

/*
 * Read ranges of the version (size, etag) in st through the tiers.  Returns
 * false if bytes had to come from the store and it no longer holds that
 * version; the caller then re-validates (or reports it).
 */
bool
objcache_read(ObjStore *store, const char *key, const ObjStat *st,
			  ObjRange *ranges, int nranges)
{
	char	   *uri = full_uri(store, key);
	uint64		want = total_length(ranges, nranges);

	objstats_requested(store->stats, want);
	if (mem_eligible(uri, st))
	{
		MemEntry   *e = mem_lookup(uri, st);

		objstats_mem(store->stats, e != NULL, want);
		if (e == NULL)
		{
			e = mem_fill(store, key, uri, st);
			if (e == NULL)
			{
				pfree(uri);
				return false;
			}
		}
		for (int i = 0; i < nranges; i++)
			memcpy(ranges[i].dest, e->data + ranges[i].offset, ranges[i].length);
		pfree(uri);
		return true;
	}
	pfree(uri);
	return lower_read(store, key, st, ranges, nranges);
}

/*
 * Exact-range entries: the name carries "range", offset and length where a
 * block entry has its block size and number, so the two never share a
 * name.  Ranges longer than this are fetched but not kept.
 */
#define CACHE_RANGE_MAX ((uint64) 16 << 20)

static char *
range_entry_key(const char *uri, const ObjStat *st, const ObjRange *r)
{
	return psprintf("%s\n%s\n" UINT64_FORMAT "\nrange\n" UINT64_FORMAT "\n" UINT64_FORMAT,
					uri, st->etag, st->size, r->offset, r->length);
}

static bool
disk_read_exact(ObjStore *store, const char *key, const ObjStat *st,
				ObjRange *ranges, int nranges)
{
	char	   *uri = full_uri(store, key);
	char	   *dir = objcache_dir();
	char	  **ekeys = palloc0(sizeof(char *) * nranges);
	char	  **paths = palloc0(sizeof(char *) * nranges);
	char	  **subdirs = palloc0(sizeof(char *) * nranges);
	ObjRange   *miss = palloc(sizeof(ObjRange) * nranges);
	int		   *which = palloc(sizeof(int) * nranges);
	int			nmiss = 0;
	uint64		hits = 0,
				served = 0;

	for (int i = 0; i < nranges; i++)
	{
		if (ranges[i].length == 0)
			continue;
		if (ranges[i].length <= CACHE_RANGE_MAX)
		{
			ekeys[i] = range_entry_key(uri, st, &ranges[i]);
			entry_paths(dir, ekeys[i], &subdirs[i], &paths[i]);
			if (entry_read(paths[i], ekeys[i], ranges[i].dest, (uint32) ranges[i].length))
			{
				hits++;
				served += ranges[i].length;
				continue;
			}
		}
		miss[nmiss] = ranges[i];
		which[nmiss++] = i;
	}
	objstats_disk(store->stats, hits, nmiss, served);
	if (nmiss > 0)
	{
		/* a remote backend joins nearby ranges itself, without a copy */
		if (!(objstore_is_remote(store) ? fetch_ranges(store, key, st, miss, nmiss)
			  : fetch_merged(store, key, st, miss, nmiss)))
			return false;
		for (int m = 0; m < nmiss; m++)
		{
			int			i = which[m];

			if (ekeys[i] != NULL &&
				entry_write(subdirs[i], paths[i], ekeys[i], ranges[i].dest,
							(uint32) ranges[i].length))
			{
				objstats_disk_fill(store->stats, ranges[i].length);
				note_fill(sizeof(CacheEntryHeader) + strlen(ekeys[i]) + ranges[i].length);
			}
		}
	}
	return true;
}

/* objcache_read, with the disk tier keeping each range as one entry. */
bool
objcache_read_exact(ObjStore *store, const char *key, const ObjStat *st,
					ObjRange *ranges, int nranges)
{
	char	   *uri = full_uri(store, key);
	bool		small = mem_eligible(uri, st);

	pfree(uri);
	/* objects the memory tier holds whole are read as before */
	if (small || !disk_enabled(store, st))
		return objcache_read(store, key, st, ranges, nranges);
	objstats_requested(store->stats, total_length(ranges, nranges));
	return disk_read_exact(store, key, st, ranges, nranges);
}

/* The whole object of version st, or NULL as objcache_read returns false. */
char *
objcache_read_whole(ObjStore *store, const char *key, ObjStat *st)
{
	char	   *uri = full_uri(store, key);
	ObjRange	r;
	bool		ok = true;

	r.offset = 0;
	r.length = st->size;
	r.dest = palloc_extended(st->size + 1, MCXT_ALLOC_HUGE);
	r.dest[st->size] = '\0';

	/* Large objects read whole bypass the disk tier: they would flush it. */
	if (!mem_eligible(uri, st) && disk_enabled(store, st) &&
		st->size > (uint64) objstore_cache_size_mb * 1024 * 1024 / 4)
	{
		objstats_requested(store->stats, st->size);
		ok = direct_read(store, key, st, &r, 1);
	}
	else if (st->size > 0)
		ok = objcache_read(store, key, st, &r, 1);
	pfree(uri);
	if (!ok)
	{
		pfree(r.dest);
		return NULL;
	}
	return r.dest;
}
