/*
 * io_arena.c — see io_arena.h.  A list of blocks in TopMemoryContext filled
 * in order; a use starts again at the first block.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "parquet/io_arena.h"

#define IO_ARENA_BLOCK	(1024 * 1024)

typedef struct ArenaBlock
{
	char	   *data;
	size_t		size;
} ArenaBlock;

struct IoArena
{
	ArenaBlock *blocks;
	int			nblocks;
	int			maxblocks;
	size_t		kept;			/* sum of block sizes */
	int			cur;			/* block being filled */
	size_t		used;			/* bytes used in blocks[cur] */
	bool		in_use;
	uint64		generation;		/* of the current use */
};

/* Registered on the owner's context: ends the use it belongs to. */
typedef struct ArenaRelease
{
	MemoryContextCallback cb;
	uint64		generation;
} ArenaRelease;

#ifdef VLAKE_FRONTEND_TOOL
/*
 * Unit tests and the fuzzer have no memory contexts to keep blocks in, and
 * exact allocations let AddressSanitizer see every overrun: no arena.
 */
IoArena *
parquet_arena_begin(MemoryContext owner)
{
	return NULL;
}

char *
parquet_arena_alloc(IoArena *a, MemoryContext owner, size_t len)
{
	return MemoryContextAllocHuge(owner, Max(len, 1));
}

void
parquet_arena_end(IoArena *a)
{
}

#else

static IoArena *arena = NULL;

static void
release_arena(void *arg)
{
	ArenaRelease *rel = arg;

	if (arena->generation == rel->generation)
		arena->in_use = false;
}

IoArena *
parquet_arena_begin(MemoryContext owner)
{
	ArenaRelease *rel;

	if (arena == NULL)
		arena = MemoryContextAllocZero(TopMemoryContext, sizeof(IoArena));
	if (arena->in_use)
		return NULL;
	rel = MemoryContextAlloc(owner, sizeof(ArenaRelease));
	arena->in_use = true;
	arena->generation++;
	arena->cur = 0;
	arena->used = 0;
	rel->generation = arena->generation;
	rel->cb.func = release_arena;
	rel->cb.arg = rel;
	MemoryContextRegisterResetCallback(owner, &rel->cb);
	return arena;
}

/* Move to a kept block with room for len bytes, or keep a new one; false if
 * the arena is full. */
static bool
arena_find_room(IoArena *a, size_t len)
{
	for (; a->cur < a->nblocks; a->cur++, a->used = 0)
		if (a->blocks[a->cur].size - a->used >= len)
			return true;
	if (a->kept + Max(len, IO_ARENA_BLOCK) > PARQUET_ARENA_KEEP)
		return false;
	if (a->nblocks == a->maxblocks)
	{
		a->maxblocks = Max(8, a->maxblocks * 2);
		a->blocks = a->blocks
			? repalloc(a->blocks, sizeof(ArenaBlock) * a->maxblocks)
			: MemoryContextAlloc(TopMemoryContext, sizeof(ArenaBlock) * a->maxblocks);
	}
	a->blocks[a->nblocks].size = Max(len, IO_ARENA_BLOCK);
	a->blocks[a->nblocks].data = MemoryContextAllocHuge(TopMemoryContext, a->blocks[a->nblocks].size);
	a->kept += a->blocks[a->nblocks].size;
	a->cur = a->nblocks++;
	a->used = 0;
	return true;
}

char *
parquet_arena_alloc(IoArena *a, MemoryContext owner, size_t len)
{
	char	   *p;

	len = MAXALIGN(Max(len, 1));
	if (a == NULL || !a->in_use || !arena_find_room(a, len))
		return MemoryContextAllocHuge(owner, len);
	p = a->blocks[a->cur].data + a->used;
	a->used += len;
	return p;
}

void
parquet_arena_end(IoArena *a)
{
	if (a != NULL)
	{
		a->in_use = false;
		a->generation++;
	}
}

#endif							/* VLAKE_FRONTEND_TOOL */
