/*
 * parquet_page_cache.c — the backend's cache of decoded Parquet pages
 * (parquet_page_cache.h).
 *
 * Why it is correct: an entry is keyed by the file's name AND the version
 * the reader was told to read (an ETag from a catalog); the object store
 * refuses to return bytes of any other version under that ETag
 * (objstore_get_ranges_known), and a version's bytes never change.  So an
 * entry holds exactly what decoding that page of that version again would
 * produce.  Names and versions are compared in full on every hit (the hash
 * only chooses the bucket).
 *
 * Why a take's pages stay valid: the reader looks a page up when it plans
 * its I/O and decodes from the entry later in the same take; entries
 * touched in the current round are never evicted, and a round ends only
 * when the next take begins (the take has copied its values out by then).
 *
 * A chained hash table (grown by doubling) and an LRU list; memory in one
 * context under TopMemoryContext, accounted by blob size plus entry size.
 */
#include "postgres.h"

#include "lib/ilist.h"
#include "utils/memutils.h"

#include "parquet/parquet_page_cache.h"

int			parquet_page_cache_kb = 65536;

typedef struct PcEntry
{
	dlist_node	lru;			/* head: most recently used */
	struct PcEntry *chain;
	uint64		hash;			/* of the whole key */
	uint64		file_hash;
	int32		leaf;
	int32		rg;
	int32		page;
	char	   *name;
	char	   *version;
	void	   *blob;
	Size		size;			/* accounted bytes: blob + entry + strings */
	uint64		round;
} PcEntry;

static MemoryContext pc_cxt = NULL;
static PcEntry **pc_buckets = NULL;
static uint32 pc_nbuckets = 0;
static dlist_head pc_lru = DLIST_STATIC_INIT(pc_lru);
static uint64 pc_round = 1;
static PqPageCacheStats pc_stats;

uint64
parquet_page_cache_file_hash(const char *name, const char *version)
{
	uint64		h = UINT64CONST(0xcbf29ce484222325);	/* FNV-1a */

	for (const char *s = name; *s; s++)
		h = (h ^ (uint8) *s) * UINT64CONST(0x100000001b3);
	h = (h ^ 0xff) * UINT64CONST(0x100000001b3);
	for (const char *s = version; *s; s++)
		h = (h ^ (uint8) *s) * UINT64CONST(0x100000001b3);
	return h;
}

static uint64
key_hash(uint64 file_hash, int32 leaf, int32 rg, int32 page)
{
	uint64		h = file_hash;

	h ^= (uint64) (uint32) leaf * UINT64CONST(0x9e3779b97f4a7c15);
	h = (h ^ (h >> 29)) * UINT64CONST(0xbf58476d1ce4e5b9);
	h ^= ((uint64) (uint32) rg << 32) | (uint32) page;
	h = (h ^ (h >> 31)) * UINT64CONST(0x94d049bb133111eb);
	return h ^ (h >> 32);
}

static PcEntry **
bucket_of(uint64 hash)
{
	return &pc_buckets[hash & (pc_nbuckets - 1)];
}

static bool
key_equal(PcEntry *e, uint64 hash, const char *name, const char *version,
		  int32 leaf, int32 rg, int32 page)
{
	return e->hash == hash && e->leaf == leaf && e->rg == rg && e->page == page &&
		strcmp(e->name, name) == 0 && strcmp(e->version, version) == 0;
}

static void
grow(void)
{
	uint32		n = pc_nbuckets ? pc_nbuckets * 2 : 1024;
	PcEntry   **b = MemoryContextAllocZero(pc_cxt, sizeof(PcEntry *) * n);
	PcEntry   **old = pc_buckets;
	uint32		oldn = pc_nbuckets;

	pc_buckets = b;
	pc_nbuckets = n;
	for (uint32 i = 0; i < oldn; i++)
		for (PcEntry *e = old[i], *next; e; e = next)
		{
			PcEntry   **head = bucket_of(e->hash);

			next = e->chain;
			e->chain = *head;
			*head = e;
		}
	if (old)
		pfree(old);
}

static void
remove_entry(PcEntry *e)
{
	PcEntry   **p = bucket_of(e->hash);

	while (*p != e)
		p = &(*p)->chain;
	*p = e->chain;
	dlist_delete(&e->lru);
	pc_stats.entries--;
	pc_stats.bytes -= e->size;
	pfree(e->blob);
	pfree(e);
}

/* Make room for need bytes; false if the current round holds too much. */
static bool
make_room(Size need)
{
	Size		budget = (Size) parquet_page_cache_kb * 1024;
	dlist_node *cur;

	if (need > budget)
		return false;
	/* from the least recently used end; entries of this round stay */
	cur = dlist_is_empty(&pc_lru) ? NULL : dlist_tail_node(&pc_lru);
	while ((Size) pc_stats.bytes + need > budget && cur != NULL)
	{
		PcEntry    *e = dlist_container(PcEntry, lru, cur);

		cur = dlist_has_prev(&pc_lru, cur) ? dlist_prev_node(&pc_lru, cur) : NULL;
		if (e->round == pc_round)
			continue;
		remove_entry(e);
		pc_stats.evictions++;
	}
	return (Size) pc_stats.bytes + need <= budget;
}

void
parquet_page_cache_round(void)
{
	pc_round++;
	/* a lowered budget takes effect at the next round */
	if (pc_cxt != NULL && (Size) pc_stats.bytes > (Size) parquet_page_cache_kb * 1024)
		(void) make_room(0);
}

void *
parquet_page_cache_get(uint64 file_hash, const char *name, const char *version,
					   int32 leaf, int32 rg, int32 page)
{
	uint64		hash = key_hash(file_hash, leaf, rg, page);

	if (pc_nbuckets == 0 || parquet_page_cache_kb <= 0)
		return NULL;
	for (PcEntry *e = *bucket_of(hash); e; e = e->chain)
		if (key_equal(e, hash, name, version, leaf, rg, page))
		{
			e->round = pc_round;
			dlist_move_head(&pc_lru, &e->lru);
			pc_stats.hits++;
			return e->blob;
		}
	pc_stats.misses++;
	return NULL;
}

void *
parquet_page_cache_alloc(Size size)
{
	if (pc_cxt == NULL)
		pc_cxt = AllocSetContextCreate(TopMemoryContext, "vlake page cache",
									   ALLOCSET_DEFAULT_SIZES);
	return MemoryContextAllocHuge(pc_cxt, Max(size, 1));
}

void
parquet_page_cache_put(uint64 file_hash, const char *name, const char *version,
					   int32 leaf, int32 rg, int32 page, void *blob, Size size)
{
	uint64		hash = key_hash(file_hash, leaf, rg, page);
	Size		nlen = strlen(name) + 1;
	Size		vlen = strlen(version) + 1;
	Size		total = size + sizeof(PcEntry) + nlen + vlen;
	PcEntry    *e;
	PcEntry   **head;

	Assert(pc_cxt != NULL);
	if (pc_nbuckets > 0)
		for (e = *bucket_of(hash); e; e = e->chain)
			if (key_equal(e, hash, name, version, leaf, rg, page))
			{
				pfree(blob);	/* another cursor of this take decoded it */
				return;
			}
	if (parquet_page_cache_kb <= 0 || !make_room(total))
	{
		pfree(blob);
		return;
	}
	if ((uint64) pc_stats.entries >= pc_nbuckets)
		grow();
	e = MemoryContextAlloc(pc_cxt, sizeof(PcEntry) + nlen + vlen);
	e->hash = hash;
	e->file_hash = file_hash;
	e->leaf = leaf;
	e->rg = rg;
	e->page = page;
	e->name = (char *) (e + 1);
	memcpy(e->name, name, nlen);
	e->version = e->name + nlen;
	memcpy(e->version, version, vlen);
	e->blob = blob;
	e->size = total;
	e->round = pc_round;
	head = bucket_of(hash);
	e->chain = *head;
	*head = e;
	dlist_push_head(&pc_lru, &e->lru);
	pc_stats.entries++;
	pc_stats.bytes += total;
	pc_stats.inserts++;
}

void
parquet_page_cache_stats(PqPageCacheStats *out)
{
	*out = pc_stats;
}

/* Drop every entry and zero the counters. */
void
parquet_page_cache_reset(void)
{
	if (pc_cxt != NULL)
		MemoryContextDelete(pc_cxt);
	pc_cxt = NULL;
	pc_buckets = NULL;
	pc_nbuckets = 0;
	dlist_init(&pc_lru);
	memset(&pc_stats, 0, sizeof(pc_stats));
}
