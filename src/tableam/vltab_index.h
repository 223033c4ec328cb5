/*
 * vltab_index.h — what an index access method whose data lives in the lake
 * tells the vlake table access method about its parts (layer "tableam"; a
 * contract for the layers above it: the vlake index calls it).
 *
 * The manifest of a vlake table lists the lake parts of its indexes
 * (docs/manifest.md, "Indexes"), so that engines outside Postgres find the
 * ANN index of a dataset.  The manifest is a pure function of the catalog
 * (vltab_publish.c), so the index does not write it: it records its current
 * part in the catalog table vlake.table_indexes through these functions, in
 * the transaction that makes the part current, and the commit of that
 * transaction publishes a new version of the table.
 *
 * Rules for callers:
 *  - Only indexes of vlake tables are recorded: every function below does
 *    nothing (or returns "nothing recorded") for another table, so callers
 *    need not check first; vltab_index_table_is_vlake() says which.
 *  - vltab_index_part_set() is called once every object of the part is
 *    durable (a published manifest never names a missing file), in the
 *    transaction that makes the part the index's current one: the build's
 *    (CREATE INDEX, REINDEX), or a merge's BEFORE it switches the index to
 *    the part, so that an ERROR before the switch undoes both.  It replaces
 *    the index's row and gives the table a new lake version (lineage
 *    operation "index", unless this transaction already made one), which is
 *    data_version.  It takes the table's dataset lock to the end of the
 *    transaction, i.e. waits for lake writers in progress (COPY, flush).
 *  - part->end_row_id is the caller's promise to readers: every row of the
 *    table with a row ID below it that is live in the version being
 *    committed, and whose indexed value is not NULL, has an entry in the
 *    part.  vltab_index_next_row_id() read before the build's table scan,
 *    or before a merge seals the entries it folds, keeps it: every row
 *    committed before that moment had its entry in what the part is made of
 *    (the caller holds a lock that keeps builds and merges of the index
 *    apart: ShareLock or ShareUpdateExclusiveLock on the table).
 *  - vltab_index_part_clear() when the index no longer has a part (built on
 *    an empty table, merged down to nothing); it makes a version only when
 *    a row was removed.
 *  - Nothing to call when the index is dropped: the table AM's DROP hook
 *    removes the row and the commit publishes a version without it.
 *  - A part the catalog names stays published until the next version: the
 *    index's garbage collection keeps every prefix vltab_index_prefixes()
 *    returns, even when the index itself names another part (a merge that
 *    switched and then aborted, or crashed before its commit).
 *
 * Memory: results are palloc'd in CurrentMemoryContext.  Errors: ERROR
 * (the catalog missing: the extension is not installed).
 */
#ifndef VLAKE_VLTAB_INDEX_H
#define VLAKE_VLTAB_INDEX_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "storage/itemptr.h"
#include "utils/snapshot.h"
#include "utils/relcache.h"

#define VLTAB_INDEX_MAX_PARAMS	16

/* One index part, as the manifest lists it. */
typedef struct VltabIndexPart
{
	const char *type;			/* manifest index type: "vlake_ivf" */
	AttrNumber	attnum;			/* the indexed column (the manifest field id) */
	int			nparams;		/* build parameters, name -> value */
	const char *param_names[VLTAB_INDEX_MAX_PARAMS];
	const char *param_values[VLTAB_INDEX_MAX_PARAMS];
	const char *location;		/* root URI of the index's lake files */
	const char *prefix;			/* the part's key prefix under location */
	int64		end_row_id;		/* row IDs covered: [0, end_row_id) (rules) */
	int64		bytes;			/* bytes of the part's objects (lineage) */
} VltabIndexPart;

/* Is heap a vlake table (whose vlake indexes are recorded)? */
extern bool vltab_index_table_is_vlake(Relation heap);

/*
 * Where an index of the vlake table heap that was given no location writes
 * its parts: the table's dataset root, so the dataset and its index travel
 * together and the manifest names the part by a relative path.  NULL for
 * another table, and for a vlake table whose dataset does not exist yet
 * (an index built inside CREATE TABLE or ALTER TABLE ... SET ACCESS METHOD).
 */
extern char *vltab_index_default_location(Relation heap);

/* The next row ID of heap as the latest snapshot sees it (0 for another
 * table): every row committed so far, or written by this transaction's
 * earlier commands, has a smaller one. */
extern int64 vltab_index_next_row_id(Relation heap);

/* end_row_id recorded for the index (0 when none). */
extern int64 vltab_index_part_end(Relation heap, Oid indexrelid);

extern void vltab_index_part_set(Relation heap, Relation index, const VltabIndexPart *part);
extern void vltab_index_part_clear(Relation heap, Relation index);

/*
 * Re-ranking from the table (docs/index.md, "On vlake tables"): an index of
 * a vlake table keeps no copy of the vectors; its exact re-rank reads the
 * indexed column of the candidate rows through these functions.
 *
 *  - vltab_index_take_begin(heap, snapshot, attnum): for a vlake table only
 *    (NULL for another table: the caller keeps its own copy).  snapshot is
 *    the index scan's; a non-MVCC one sees the latest committed state.
 *  - vltab_index_take(t, tids, n, values, isnull, found): the values of
 *    column attnum of the rows tids[0..n) (any order, lake and delta rows
 *    mixed) as the snapshot sees them.  found[i] is false for a row the
 *    snapshot does not see (deleted, updated, not committed, moved by a
 *    flush it does not see): the caller skips it (the executor re-checks
 *    visibility of what it returns anyway).  Lake rows are taken with one
 *    request per ColumnGroup of each segment the batch touches (the segment
 *    reader's batched take, through the per-backend page cache; the newest
 *    file holding the column wins, as for every read), delta rows with
 *    heap's fetch.  values[i] (copied) stay valid until the next call or
 *    the end.
 *  - vltab_index_take_vectors(t, tids, n, dim, vecs, values, isnull, found):
 *    the same for a vector or halfvec column, except that a lake row held
 *    by a vector ColumnGroup of dim values comes as dim floats in
 *    vecs[i * dim ..] (halfvec widened), read as stored with no Datum in
 *    between (the re-rank's hot path), and values[i] is then (Datum) 0
 *    with isnull[i] false; other rows come as values[i].
 *  - vltab_index_take_end(t).
 * Memory: t and the values live in a child of CurrentMemoryContext at
 * begin.  Errors: unreadable segment files ERROR (lake_report).
 */
typedef struct VltabIndexTake VltabIndexTake;

extern VltabIndexTake *vltab_index_take_begin(Relation heap, Snapshot snapshot,
											  AttrNumber attnum);
extern void vltab_index_take(VltabIndexTake *t, const ItemPointerData *tids, int n,
							 Datum *values, bool *isnull, bool *found);
extern void vltab_index_take_vectors(VltabIndexTake *t, const ItemPointerData *tids, int n,
									 int dim, float *vecs,
									 Datum *values, bool *isnull, bool *found);
extern void vltab_index_take_end(VltabIndexTake *t);

/* Every part prefix vlake.table_indexes names (latest snapshot; NIL when
 * the catalog does not exist). */
extern List *vltab_index_prefixes(void);

#endif							/* VLAKE_VLTAB_INDEX_H */
