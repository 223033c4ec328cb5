/*
 * unit_lake_rowref — the row-ID <-> TID mapping of vlake tables
 * (src/lake/lake_rowref.h) against its definition computed here with plain
 * 64-bit arithmetic: round trips at every boundary and at random row IDs,
 * offsets within what TID bitmaps accept, heap TIDs never taken for lake
 * rows, and an ERROR past the last addressable row ID or for a TID that is
 * not a lake row's.
 */
#include "postgres.h"

#include <stdio.h>

#include "lake/lake_rowref.h"
#include "pg_standin.h"

static int	failures = 0;
static int	checks = 0;

static void
check(bool ok, const char *what, unsigned long long v)
{
	checks++;
	if (!ok)
	{
		failures++;
		fprintf(stderr, "FAIL %s (%llu)\n", what, v);
	}
}

static void
round_trip(uint64 rowid)
{
	ItemPointerData tid;

	lake_rowid_to_tid(rowid, &tid);
	check(ItemPointerGetBlockNumberNoCheck(&tid) == 0x80000000u + rowid / 256,
		  "block is 2^31 + rowid / 256", rowid);
	check(ItemPointerGetOffsetNumberNoCheck(&tid) == 1 + rowid % 256,
		  "offset is 1 + rowid % 256", rowid);
	check(ItemPointerGetOffsetNumberNoCheck(&tid) >= 1 &&
		  ItemPointerGetOffsetNumberNoCheck(&tid) <= MaxHeapTuplesPerPage,
		  "offset fits a TID bitmap page", rowid);
	check(ItemPointerGetBlockNumberNoCheck(&tid) <= MaxBlockNumber,
		  "block is a valid block number", rowid);
	check(lake_tid_is_lake(&tid), "a lake TID is recognised", rowid);
	check(lake_tid_to_rowid(&tid) == rowid, "round trip", rowid);
}

int
main(void)
{
	/* the largest row ID: 2^31 - 1 blocks of 256 rows, minus one */
	uint64		max = (uint64) 0x7FFFFFFF * 256 - 1;
	uint64		x = 88172645463325252ULL;
	ItemPointerData tid;

	check(LAKE_ROWID_MAX == max, "LAKE_ROWID_MAX", LAKE_ROWID_MAX);
	for (uint64 r = 0; r < 1024; r++)
		round_trip(r);
	for (uint64 r = max - 1024; r <= max; r++)
		round_trip(r);
	for (int i = 0; i < 100000; i++)
	{
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		round_trip(x % (max + 1));
	}

	/* heap TIDs of the delta are not lake rows */
	ItemPointerSet(&tid, 0, 1);
	check(!lake_tid_is_lake(&tid), "block 0 is the delta", 0);
	ItemPointerSet(&tid, 0x7FFFFFFF, MaxHeapTuplesPerPage);
	check(!lake_tid_is_lake(&tid), "the last delta block is the delta", 0x7FFFFFFF);
	check(STANDIN_CATCH((void) lake_tid_to_rowid(&tid)), "a delta TID has no row ID", 0);
	ItemPointerSet(&tid, 0x80000000u, 257);
	check(STANDIN_CATCH((void) lake_tid_to_rowid(&tid)), "offset 257 is not a lake row", 257);
	check(STANDIN_CATCH(lake_rowid_to_tid(max + 1, &tid)), "past the last row ID: ERROR", max + 1);
	check(strstr(standin_last_error, "beyond the largest") != NULL, "the ERROR says why", 0);
	check(STANDIN_CATCH(lake_rowid_to_tid(PG_UINT64_MAX, &tid)), "2^64 - 1: ERROR", 0);

	printf("unit_lake_rowref: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
