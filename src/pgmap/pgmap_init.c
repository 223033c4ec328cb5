/*
 * pgmap_init.c — initialisation of the formats layer (GUCs, hooks).
 */
#include "postgres.h"

#include "utils/guc.h"

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
	/* ---- end parquet-meta ---- */
}
