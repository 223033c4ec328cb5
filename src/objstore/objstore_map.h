/*
 * objstore_map.h — read-only mappings of local files, and copies out of
 * them that survive the file shrinking underneath (objstore layer only; not
 * a contract for other layers).
 *
 * Why: the file:// backend serves small scattered reads of immutable lake
 * objects (an index's re-rank reads one vector per candidate, hundreds per
 * query).  A pread per range costs a system call each, about half of a warm
 * query's CPU at 1M rows; a copy from a mapping of the same page cache costs
 * a memcpy.  The price of mappings is SIGBUS: touching a mapped page past the
 * end of a file that was truncated after it was mapped.  Lake objects are
 * never truncated in place (writers publish by rename), so this takes an
 * outside hand or a broken disk — and the standard is still an ERROR naming
 * the object, never a crash.  Hence objstore_map_copy: the copy runs under a
 * SIGBUS handler that jumps back out of it, and the caller raises the ERROR.
 *
 * Rules:
 *  - No backend dependency (no palloc, no ereport): unit-tested on its own.
 *  - Single-threaded processes only (one jump target per process), which is
 *    what a backend is.
 *  - The first objstore_map_open installs the SIGBUS handler for the life of
 *    the process.  A SIGBUS outside a copy goes to the disposition that was
 *    there before (a crash, as without this code).
 *  - A mapping covers [0, len) of the file at open time; copies must stay
 *    inside it (the caller checks ranges against that size).
 */
#ifndef VLAKE_OBJSTORE_MAP_H
#define VLAKE_OBJSTORE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Map [0, len) of fd read-only; NULL when it cannot (the caller reads). */
extern const char *objstore_map_open(int fd, uint64_t len);
extern void objstore_map_close(const char *base, uint64_t len);

/* Copy len bytes at src (inside a mapping) to dest; false when the pages
 * behind src are gone (the file shrank): nothing else is touched. */
extern bool objstore_map_copy(void *dest, const char *src, size_t len);

#endif							/* VLAKE_OBJSTORE_MAP_H */
