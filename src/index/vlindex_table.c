/*
 * vlindex_table.c — the vlake index on vlake tables: where its parts go by
 * default, and recording each new part in the table's catalog so that the
 * table's manifest lists it (src/tableam/vltab_index.h; docs/manifest.md,
 * "Indexes"; docs/index.md, "On vlake tables").
 *
 * A part is recorded by the transaction that makes it current (a build; a
 * merge before its metapage switch) with the row-ID range it covers:
 * [0, end_row_id), where end_row_id is the table's next row ID read before
 * the build's scan or before the merge sealed the delta it folds (see the
 * rules of vltab_index.h).  Expression and partial indexes are not
 * recorded: a reader outside Postgres could not tell which rows they hold.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_index.h"
#include "utils/rel.h"

#include "index/vlindex.h"
#include "tableam/vltab_index.h"

/* The manifest type of vlake index parts (docs/manifest.md, "Indexes"). */
#define VLINDEX_MANIFEST_TYPE "vlake_ivf"

/*
 * The default location of index's parts when the index has no location
 * option: the dataset root of its table if that is a vlake table, else NULL.
 * The caller holds a lock on the table (build, merge).
 */
char *
vlindex_table_location(Relation index)
{
	Relation	heap = relation_open(index->rd_index->indrelid, NoLock);
	char	   *root = vltab_index_default_location(heap);

	relation_close(heap, NoLock);
	return root;
}

/* The next row ID of the index's table (0 for a table that is not vlake). */
int64
vlindex_table_next_row_id(Relation heap)
{
	return vltab_index_next_row_id(heap);
}

/* The row-ID range recorded for the index's current part: its end. */
int64
vlindex_table_recorded_end(Relation heap, Relation index)
{
	return vltab_index_part_end(heap, RelationGetRelid(index));
}

/*
 * The column of the index's table whose values the exact re-rank reads
 * (vltab_index.h, vltab_index_take), or 0 when the part keeps its own copy
 * of the vectors (vectors.bin): a vlake table's index on a plain column
 * keeps none, so the lake holds its vectors once (docs/index.md, "On vlake
 * tables"); expression indexes and indexes of other tables keep theirs.
 * The caller holds a lock on the table.
 */
AttrNumber
vlindex_table_rerank_column(Relation index)
{
	Relation	heap;
	bool		vlake;

	if (index->rd_index->indnatts != 1 || index->rd_index->indkey.values[0] <= 0)
		return 0;
	heap = relation_open(index->rd_index->indrelid, NoLock);
	vlake = vltab_index_table_is_vlake(heap);
	relation_close(heap, NoLock);
	return vlake ? index->rd_index->indkey.values[0] : 0;
}

/* The indexed column, or 0 when the index is not listed in the manifest. */
static AttrNumber
listed_attnum(Relation index)
{
	if (index->rd_index->indnatts != 1 || index->rd_index->indkey.values[0] <= 0)
		return 0;				/* an expression */
	if (!heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL))
		return 0;				/* partial */
	return index->rd_index->indkey.values[0];
}

/*
 * Record the part the index's metapage is about to name (prefix "" or
 * lists 0: no part) in the catalog of heap, if heap is a vlake table.
 * meta_blob: the bytes of the part's index.meta.
 */
void
vlindex_table_record(Relation heap, Relation index, const char *location, const char *prefix,
					 IvfMetric metric, int dim, int lists, uint64 nvec, uint64 meta_size,
					 const char *meta_etag, const char *meta_blob, int64 end_row_id)
{
	VltabIndexPart part;
	AttrNumber	attnum;
	int			k = 0;
	bool		table_vectors = false;

	if (!vltab_index_table_is_vlake(heap))
		return;
	attnum = listed_attnum(index);
	if (attnum == 0 || prefix == NULL || prefix[0] == '\0' || lists <= 0 || nvec == 0)
	{
		vltab_index_part_clear(heap, index);
		return;
	}
	memset(&part, 0, sizeof(part));
	part.type = VLINDEX_MANIFEST_TYPE;
	part.attnum = attnum;
	part.location = location;
	part.prefix = prefix;
	part.end_row_id = end_row_id;
	part.bytes = (int64) meta_size;
	if (meta_blob != NULL && meta_size >= sizeof(VlIndexFileMetaHeader))
	{
		VlIndexFileMetaHeader mh;

		memcpy(&mh, meta_blob, sizeof(mh));
		part.bytes += (int64) (mh.codes_size + mh.vectors_size);
		table_vectors = (mh.vectors_size == 0);
	}
	/* docs/manifest.md, "Indexes": what a reader needs to read the part */
#define PARAM(n, v) (part.param_names[k] = (n), part.param_values[k++] = (v))
	PARAM("code_bits", "1");
	PARAM("dim", psprintf("%d", dim));
	PARAM("index_meta_etag", pstrdup(meta_etag ? meta_etag : ""));
	PARAM("index_meta_size", psprintf(UINT64_FORMAT, meta_size));
	PARAM("lists", psprintf("%d", lists));
	PARAM("metric", vlindex_metric_name(metric));
	/* no vectors.bin: re-rank reads field field_id of the version */
	if (table_vectors)
		PARAM("rerank", "table");
	PARAM("row_refs", "tid");
	PARAM("vectors", psprintf(UINT64_FORMAT, nvec));
#undef PARAM
	part.nparams = k;
	vltab_index_part_set(heap, index, &part);
}
