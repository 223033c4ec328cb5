/*
 * pgmap_init.c — initialisation of the formats layer (GUCs, hooks).
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "parquet/parquet_page_cache.h"
#include "parquet/parquet_reader.h"
#include "vlake.h"

void
vlake_pgmap_init(void)
{
	/* ---- parquet-meta: reader ---- */
	DefineCustomIntVariable("vlake.parquet_scan_window",
							"Bytes a Parquet scan reads at once from a column chunk too big to read whole.",
							"Chunks up to this size are read whole, together with the row group's other projected chunks.",
							&parquet_chunk_window, 16 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024,
							PGC_USERSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.page_cache_size",
							"Memory each backend may use to keep decoded pages of lake files between row lookups.",
							"Index fetches of vlake tables decode a page of each column they read; kept pages are neither read nor decompressed again. Only immutable file versions named by a catalog are kept. 0 turns the cache off.",
							&parquet_page_cache_kb, 64 * 1024, 0, INT_MAX / 1024,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	/* ---- end parquet-meta ---- */
}
