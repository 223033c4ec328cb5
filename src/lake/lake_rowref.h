/*
 * lake_rowref.h — row references: how lake files name table rows (layer
 * "lake").
 *
 * A lake file that points at rows (an index part's lists) stores a 64-bit
 * row reference: the TID, (block << 16) | offset: blocks fit 32 bits and
 * offsets 16, so every TID has one reference and back.  On a vlake table a
 * lake row's TID derives from its row ID (below), so the reference of a
 * lake row (block >= LAKE_ROWID_BLOCK0) decodes to its row ID; a smaller
 * block is a row of the table's delta (docs/manifest.md tells readers
 * outside Postgres to skip those).  Delete vectors hold row IDs.
 *
 * Row IDs and TIDs of vlake tables (docs/design/tables.md): block numbers
 * below LAKE_ROWID_BLOCK0 are the table's delta (heap pages); a row in the
 * lake with row ID r has the TID (LAKE_ROWID_BLOCK0 + r / 256, 1 + r % 256).
 * 256 rows per block keep offsets within MaxHeapTuplesPerPage, which TID
 * bitmaps require.  Row IDs therefore run from 0 to LAKE_ROWID_MAX
 * (2^31 - 1 blocks of 256: about 5.5 * 10^11 rows per table).
 */
#ifndef VLAKE_LAKE_ROWREF_H
#define VLAKE_LAKE_ROWREF_H

#include "postgres.h"

#include "access/htup_details.h"
#include "storage/block.h"
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

#define LAKE_ROWID_BLOCK0		((BlockNumber) 0x80000000)
#define LAKE_ROWS_PER_BLOCK		256
#define LAKE_ROWID_MAX \
	((uint64) (MaxBlockNumber - LAKE_ROWID_BLOCK0 + 1) * LAKE_ROWS_PER_BLOCK - 1)

StaticAssertDecl(LAKE_ROWS_PER_BLOCK <= MaxHeapTuplesPerPage,
				 "lake row offsets must fit a TID bitmap page");

/* Does tid name a lake row (rather than a delta heap tuple)? */
static inline bool
lake_tid_is_lake(ItemPointer tid)
{
	return ItemPointerGetBlockNumberNoCheck(tid) >= LAKE_ROWID_BLOCK0;
}

/* The TID of the lake row rowid; ERROR past LAKE_ROWID_MAX. */
static inline void
lake_rowid_to_tid(uint64 rowid, ItemPointer tid)
{
	if (rowid > LAKE_ROWID_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row ID %llu is beyond the largest a vlake table can address",
						(unsigned long long) rowid),
				 errdetail("Row IDs run from 0 to %llu.", (unsigned long long) LAKE_ROWID_MAX)));
	ItemPointerSet(tid, LAKE_ROWID_BLOCK0 + (BlockNumber) (rowid / LAKE_ROWS_PER_BLOCK),
				   (OffsetNumber) (1 + rowid % LAKE_ROWS_PER_BLOCK));
}

/* The row ID of a lake row's TID (lake_tid_is_lake(tid)); ERROR otherwise. */
static inline uint64
lake_tid_to_rowid(ItemPointer tid)
{
	BlockNumber blk = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);

	if (blk < LAKE_ROWID_BLOCK0 || blk > MaxBlockNumber ||
		off < 1 || off > LAKE_ROWS_PER_BLOCK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("(%u,%u) is not the TID of a row in the lake", blk, off)));
	return (uint64) (blk - LAKE_ROWID_BLOCK0) * LAKE_ROWS_PER_BLOCK + (off - 1);
}

#endif							/* VLAKE_LAKE_ROWREF_H */
