/*
 * parquet_page_cache.h — decoded pages of immutable file versions, kept by
 * the backend between takes (parquet_take) so that repeated lookups of rows
 * in the same pages neither read nor decompress nor decode them again.
 *
 * Rules:
 *  - Only pages of a source that names its version (ByteSource.version, an
 *    ETag the catalog recorded) are cached: a version's bytes never change,
 *    so a cached page can never be stale; the key is (URI, version, leaf,
 *    row group, page).  Sources without a version are never cached.
 *  - A blob is one allocation owned by the cache (parquet_page_cache_alloc,
 *    then parquet_page_cache_put); it is read-only once put.
 *  - Budget: vlake.page_cache_size (kB, per backend; 0 turns the cache off).
 *    Least recently used entries go first, except entries used in the
 *    current round (parquet_page_cache_round() starts one: a take's pages
 *    stay valid until its next round begins).
 *  - Memory lives in a child of TopMemoryContext; nothing is shared between
 *    backends.
 * Not a contract outside the parquet layer, except the counters and the
 * GUC variable.
 */
#ifndef VLAKE_PARQUET_PAGE_CACHE_H
#define VLAKE_PARQUET_PAGE_CACHE_H

#include "postgres.h"

extern int	parquet_page_cache_kb;

typedef struct PqPageCacheStats
{
	int64		hits;
	int64		misses;
	int64		inserts;
	int64		evictions;
	int64		entries;
	int64		bytes;
} PqPageCacheStats;

/* The hash of a file version's identity (name and version). */
extern uint64 parquet_page_cache_file_hash(const char *name, const char *version);

extern void parquet_page_cache_round(void);
extern void *parquet_page_cache_get(uint64 file_hash, const char *name, const char *version,
									int32 leaf, int32 rg, int32 page);
extern void *parquet_page_cache_alloc(Size size);
extern void parquet_page_cache_put(uint64 file_hash, const char *name, const char *version,
								   int32 leaf, int32 rg, int32 page, void *blob, Size size);
extern void parquet_page_cache_stats(PqPageCacheStats *out);
extern void parquet_page_cache_reset(void);

#endif							/* VLAKE_PARQUET_PAGE_CACHE_H */
