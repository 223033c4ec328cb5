/*
 * lake_delvec.h — delete vectors: sets of deleted 64-bit row IDs (layer
 * "lake").
 *
 * A delete vector marks the rows of a dataset that are deleted (see
 * docs/delete-vectors.md).  In memory it is a sorted array of buckets, one
 * per distinct value of a row ID's high 32 bits, each holding a CRoaring
 * 32-bit bitmap (Debian's libroaring 0.2.66 has no 64-bit C API) of the
 * low 32 bits.
 *
 * File format — exactly the "portable" 64-bit Roaring serialization of the
 * RoaringFormatSpec ("Extension for 64-bit implementations",
 * https://github.com/RoaringBitmap/RoaringFormatSpec), all integers
 * little-endian:
 *
 *   uint64  number of buckets B
 *   B times, by strictly increasing high 32 bits (as unsigned):
 *     uint32  high 32 bits of the bucket's row IDs
 *     a standard 32-bit Roaring bitmap in the portable format (cookie
 *     12346/12347, descriptive header, offsets, array/bitset/run
 *     containers) of their low 32 bits
 *
 * and nothing else: no magic, no trailer, so the file is the byte string
 * CRoaring's roaring64 / Roaring64Map portable serialization, pyroaring's
 * BitMap64, Go's roaring64 and Java's Roaring64NavigableMap
 * (serializePortable, unsigned keys) read, and the bitmap payload of an
 * Iceberg v3 deletion vector.  vlake writes run-optimized containers and no
 * empty bucket; it reads empty buckets from other writers (and drops them).
 * Integrity beyond the structure (size, checksum) is the manifest's job.
 *
 * Memory.  CRoaring allocates with malloc, outside Postgres memory
 * contexts.  A LakeDelvec belongs to the memory context that was current at
 * lake_delvec_create() (or lake_delvec_deserialize()): a reset callback on
 * it frees every bitmap when the context is reset or deleted, so an ERROR
 * anywhere (even halfway through a deserialization) leaks nothing beyond
 * the context's lifetime.  lake_delvec_free() releases the bitmaps at once;
 * the small owner struct (about 100 bytes) stays in its context until then.
 * Do not keep a LakeDelvec beyond its context, and do not create one in a
 * long-lived context (TopMemoryContext) unless you free it.
 *
 * Row IDs are unsigned 64-bit; vlake assigns them below 2^63 (they are
 * bigint in SQL), which keeps every engine's ordering the same (Java's
 * Roaring64NavigableMap with signed longs orders buckets >= 2^31 first).
 */
#ifndef VLAKE_LAKE_DELVEC_H
#define VLAKE_LAKE_DELVEC_H

#include "postgres.h"

#include "objstore/objstore.h"

typedef struct LakeDelvec LakeDelvec;
typedef struct LakeDelvecIter LakeDelvecIter;

/* Buckets (distinct high 32 bits) one delete vector may hold: bounds the
 * memory an add_range or a hostile file can make us allocate. */
#define LAKE_DELVEC_MAX_BUCKETS (1 << 22)

/* What lake_report() calls the file. */
#define LAKE_DELVEC_WHAT "vlake delete vector"

extern LakeDelvec *lake_delvec_create(void);
extern void lake_delvec_free(LakeDelvec *dv);

extern void lake_delvec_add(LakeDelvec *dv, uint64 rowid);
/* Adds the row IDs in [start, end); nothing when end <= start. */
extern void lake_delvec_add_range(LakeDelvec *dv, uint64 start, uint64 end);
extern bool lake_delvec_contains(const LakeDelvec *dv, uint64 rowid);
extern uint64 lake_delvec_cardinality(const LakeDelvec *dv);
extern bool lake_delvec_is_empty(const LakeDelvec *dv);
/* dst := dst ∪ src. */
extern void lake_delvec_union(LakeDelvec *dst, const LakeDelvec *src);

/*
 * Ascending iteration.  The iterator is palloc'd (no malloc); the delete
 * vector must not change while it is in use.
 */
extern LakeDelvecIter *lake_delvec_iter_begin(const LakeDelvec *dv);
extern bool lake_delvec_iter_next(LakeDelvecIter *it, uint64 *rowid);
/* Up to n row IDs into out; returns how many (0 when done). */
extern size_t lake_delvec_iter_next_many(LakeDelvecIter *it, uint64 *out, size_t n);
extern void lake_delvec_iter_end(LakeDelvecIter *it);

/*
 * The file format above.  serialize() run-optimizes the bitmaps first (so
 * dv is not const; its contents do not change) and returns a palloc'd
 * buffer; ERROR when it would exceed MaxAllocSize.
 */
extern char *lake_delvec_serialize(LakeDelvec *dv, size_t *len);

/*
 * Parses buf[0..len) strictly: every length, count, key order, container
 * content and the cardinalities are checked before CRoaring sees the
 * bytes; trailing bytes are an error.  A bad file raises
 * lake_report(LAKE_CORRUPT) naming uri and the byte offset.
 */
extern LakeDelvec *lake_delvec_deserialize(const char *buf, size_t len,
										   const char *uri);

/*
 * Lake I/O (lake_delvec_io.c).  write() creates the immutable object key
 * (put-if-absent: ERROR if it exists) and returns its size.  read() reads
 * key whole; with known (size and ETag from a manifest) it reads exactly
 * that version without a HEAD request.
 */
extern uint64 lake_delvec_write(ObjStore *store, const char *key, LakeDelvec *dv);
extern LakeDelvec *lake_delvec_read(ObjStore *store, const char *key,
									const ObjStat *known);

#endif							/* VLAKE_LAKE_DELVEC_H */
