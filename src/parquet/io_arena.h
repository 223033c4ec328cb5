/*
 * io_arena.h — memory for the destinations of one synchronous read (a
 * take's pages and values), kept by the backend between uses.
 *
 * Fresh memory costs a page fault (and zeroing) per 4 kB page on first
 * touch; a take of 1,000 rows reads a few MB into new buffers every call,
 * and those faults were a quarter of its time.  The arena keeps its blocks
 * (up to PARQUET_ARENA_KEEP bytes) for the next use.  Memory from it is valid
 * until parquet_arena_end() or until the memory context given to
 * parquet_arena_begin() is reset or deleted (so an ERROR releases it too).
 * One user at a time: parquet_arena_begin() returns NULL while the arena is in
 * use, and callers then allocate as usual.
 */
#ifndef VLAKE_IO_ARENA_H
#define VLAKE_IO_ARENA_H

#include "postgres.h"

#define PARQUET_ARENA_KEEP	(64 * 1024 * 1024)

typedef struct IoArena IoArena;

extern IoArena *parquet_arena_begin(MemoryContext owner);
/* len bytes, MAXALIGNed; from owner's context when a is NULL or full */
extern char *parquet_arena_alloc(IoArena *a, MemoryContext owner, size_t len);
extern void parquet_arena_end(IoArena *a);

#endif							/* VLAKE_IO_ARENA_H */
