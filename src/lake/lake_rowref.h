/*
 * lake_rowref.h — row references: how lake files name table rows (layer
 * "lake").
 *
 * A lake file that points at rows (an index part's lists, a delete vector)
 * stores a 64-bit row reference.  For a heap table it is the TID,
 * (block << 16) | offset: blocks fit 32 bits and offsets 16, so every TID
 * has one reference and back.  vlake tables will use their row IDs, from
 * which their TIDs derive.
 */
#ifndef VLAKE_LAKE_ROWREF_H
#define VLAKE_LAKE_ROWREF_H

#include "postgres.h"

#include "storage/itemptr.h"

static inline uint64
lake_rowref_from_tid(ItemPointer tid)
{
	return ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);
}

static inline void
lake_rowref_to_tid(uint64 ref, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (ref >> 16), (OffsetNumber) (ref & 0xFFFF));
}

/* Ascending order of row references (qsort, bsearch). */
static inline int
lake_rowref_cmp(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

#endif							/* VLAKE_LAKE_ROWREF_H */
