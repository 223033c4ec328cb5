/*
 * vltab_patch.h — column patches of a vlake table's segments (layer
 * "tableam"; used by the backfill function and the flush that folds
 * UPDATEs of lake rows back into their row IDs).
 *
 * A patch writes new files for some columns of one segment, for every row
 * of it, and records them in the catalog with group numbers above the
 * segment's; the segment's other files are not touched and row IDs do not
 * change (vltab_patch.c says why readers stay right).
 *
 * Memory: the patch owns a child of CurrentMemoryContext at begin, freed
 * by finish.  Errors: an ERROR between begin and finish leaves files no
 * catalog row names (a lake part GC removes; the object store aborts the
 * open streams at transaction end).  The caller holds the dataset lock
 * (vltab_dataset_lock) and notes the version (vltab_version_note).
 */
#ifndef VLAKE_VLTAB_PATCH_H
#define VLAKE_VLTAB_PATCH_H

#include "postgres.h"

#include "nodes/bitmapset.h"
#include "utils/relcache.h"

#include "tableam/vltab.h"

typedef struct VltabPatch VltabPatch;

/* A patch of the columns attrs (attnums) of seg, which must stay valid. */
extern VltabPatch *vltab_patch_begin(Relation rel, VltabDataset *ds, const VltabSegment *seg,
									 Bitmapset *attrs);
/* New values of row_id (values/isnull: the row type's natts entries; only
 * attrs are used).  Row IDs ascending, each at most once (else ERROR). */
extern void vltab_patch_set(VltabPatch *p, int64 row_id, Datum *values, bool *isnull);
/* Write the rest of the rows, record the files; returns bytes written. */
extern int64 vltab_patch_finish(VltabPatch *p);

#endif							/* VLAKE_VLTAB_PATCH_H */
