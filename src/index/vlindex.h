/*
 * vlindex.h — internals of the vlake index access method (layer "index").
 *
 * The index relation holds only small, WAL-logged state:
 *   block 0          metapage: which lake files form the index (VlMetaData)
 *   delta pages      vectors inserted after the build (searched exhaustively)
 *   tombstone pages  row references of lake-part rows VACUUM removed
 * The bulk of the index — centroids, per-list codes, re-rank vectors — lives
 * in immutable lake files under the index location (docs/index-format.md).
 */
#ifndef VLAKE_VLINDEX_H
#define VLAKE_VLINDEX_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "common/relpath.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

#include "index/ivf.h"

#define VL_META_MAGIC		0x564C4958	/* "VLIX" */
#define VL_META_VERSION		2		/* 2: page stamps, retired chains */
#define VL_METAPAGE_BLKNO	0
#define VL_LOCATION_MAX		512
#define VL_PREFIX_MAX		160
#define VL_MAX_DIM			2000		/* a delta item must fit a page */

/* Strategy numbers of the ORDER BY operators (one per opclass). */
#define VL_STRATEGY_L2		1
#define VL_STRATEGY_IP		2
#define VL_STRATEGY_COSINE	3

/* Element type of the indexed column. */
typedef enum VlElemType
{
	VL_ELEM_FLOAT4 = 0,			/* vector */
	VL_ELEM_HALF = 1			/* halfvec */
} VlElemType;

/* Page special space, on delta and tombstone pages. */
#define VL_PAGE_DELTA		1
#define VL_PAGE_TOMB		2
#define VL_PAGE_BLOB		3
#define VL_PAGE_FREE		4			/* recycled, in the free space map */
#define VL_BLOB_CHUNK		8000		/* bytes of a blob per page */
typedef struct VlPageOpaque
{
	BlockNumber next;			/* next page of the chain, or InvalidBlockNumber */
	uint16		kind;			/* VL_PAGE_DELTA / TOMB / BLOB / FREE */
	uint16		page_id;		/* constant, identifies vlake pages */
	uint64		stamp;			/* metapage generation when the page joined its
								 * chain: a scan of generation G never needs a
								 * page stamped later (it was recycled) */
} VlPageOpaque;
#define VL_PAGE_ID 0xFD1C

/*
 * A page chain a merge replaced (sealed delta, tombstones, index.meta copy):
 * scans that read the metapage before the merge may still follow it, so its
 * pages are recycled only when no snapshot is older than xid
 * (FullTransactionId, ReadNextFullTransactionId() at the switch).
 */
typedef struct VlRetiredChain
{
	BlockNumber head;
	uint32		kind;
	uint64		xid;
} VlRetiredChain;
#define VL_MAX_RETIRED		48

/* Contents of block 0 (after the page header). */
typedef struct VlMetaData
{
	uint32		magic;
	uint32		version;
	uint32		metric;			/* IvfMetric */
	uint32		elemtype;		/* VlElemType */
	uint32		dim;			/* 0 until the first vector is seen */
	uint32		lists;			/* lists in the lake part, 0 = no lake part */
	uint64		nvec;			/* vectors in the lake part */
	uint64		generation;		/* bumped each time the file set changes */
	char		location[VL_LOCATION_MAX];	/* root URI of the lake files */
	char		prefix[VL_PREFIX_MAX];	/* key prefix of the current part */
	BlockNumber delta_head;
	BlockNumber delta_tail;
	uint64		delta_count;
	BlockNumber tomb_head;
	BlockNumber tomb_tail;
	uint64		tomb_count;
	/* delta chain being folded by vlake.merge() (still searched) */
	BlockNumber sealed_head;
	uint64		sealed_count;
	/* version of index.meta (size, ETag): read without a validating HEAD */
	uint64		meta_size;
	char		meta_etag[128];
	/* a copy of index.meta in index pages (saves a cold round trip) */
	BlockNumber meta_blob_head;
	/* chains replaced by merges, waiting to be recycled */
	uint32		nretired;
	VlRetiredChain retired[VL_MAX_RETIRED];
} VlMetaData;

#define VlPageGetMeta(page) ((VlMetaData *) PageGetContents(page))

/* A delta item: heap TID + the vector as float4 (cosine: normalised). */
typedef struct VlDeltaItem
{
	ItemPointerData tid;
	uint16		pad;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} VlDeltaItem;
#define VL_DELTA_ITEM_SIZE(dim) (offsetof(VlDeltaItem, x) + sizeof(float) * (dim))

/* Reloptions. */
typedef struct VlOptions
{
	int32		vl_len_;
	int			lists;			/* 0 = sqrt(rows) */
	int			location_offset;	/* string reloption */
	int			hierarchy_threshold;	/* second level when lists exceed it */
} VlOptions;

/* ---- index pages (vlindex_pages.c) ---- */
/* A page for a chain, exclusively locked: a recycled one, else a new one. */
extern Buffer vl_new_buffer(Relation index);
extern void vl_init_chain_page(Page page, uint16 kind, uint64 stamp);
/* A vlake page freed or reused after a scan of this generation began. */
extern bool vl_chain_page_recycled(Page page, uint64 generation);
/* ERROR unless page blk is a page of a chain of kind as of generation. */
extern void vl_check_chain_page(Relation index, BlockNumber blk, Page page, uint16 kind,
								uint64 generation);
/* Recycle retired chains no snapshot can need; returns pages freed. */
extern int64 vl_recycle_retired(Relation index);
/* VACUUM: every free page into the free space map; returns their count. */
extern BlockNumber vl_vacuum_free_pages(Relation index);

/* ---- row references: the table-facing side ----
 * Lake parts refer to rows by a 64-bit row reference.  For heap tables it
 * is the TID; vlake tables will use their row IDs. */
static inline uint64
vl_rowref_from_tid(ItemPointer tid)
{
	return ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);
}

static inline void
vl_rowref_to_tid(uint64 ref, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (ref >> 16), (OffsetNumber) (ref & 0xFFFF));
}

/* ---- lake file format (docs/index-format.md) ---- */
#define VL_FILE_META	"index.meta"
#define VL_FILE_CODES	"codes.bin"
#define VL_FILE_VECS	"vectors.bin"

#define VL_MAGIC_META	UINT64_C(0x4154454D58494C56)	/* "VLIXMETA" */
#define VL_MAGIC_CODES	UINT64_C(0x5345444F4358494C)	/* "LIXCODES" */
#define VL_MAGIC_VECS	UINT64_C(0x5343455658494C56)	/* "VLIXVECS" */
/*
 * Format versions.  codes.bin and vectors.bin are at version 2.  index.meta
 * is written at version 2 when the part has one level (byte for byte what
 * earlier builds wrote, so they can still read it) and at version 3 when it
 * has a second level (groups of lists, after the list directory).  Readers
 * accept both.
 */
#define VL_FORMAT_VERSION 2
#define VL_META_VERSION_GROUPS 3
/* Default of the hierarchy_threshold reloption: two levels above it. */
#define VL_HIERARCHY_THRESHOLD_DEFAULT 1024

typedef struct VlFileMetaHeader
{
	uint64		magic;
	uint32		version;
	uint32		metric;
	uint32		dim;
	uint32		pdim;
	uint32		lists;
	uint32		groups;			/* v3: groups of the second level; v2: 0 */
	uint64		nvec;
	uint64		seed;
	uint64		codes_size;		/* expected size of codes.bin */
	uint64		vectors_size;	/* expected size of vectors.bin */
	char		codes_etag[128];	/* ETag of codes.bin as written */
	char		vectors_etag[128];	/* ETag of vectors.bin as written */
} VlFileMetaHeader;

typedef struct VlListDir
{
	uint64		codes_off;		/* list block in codes.bin */
	uint64		vecs_off;		/* first vector in vectors.bin */
	uint32		count;
	uint32		codes_crc;		/* CRC-32C of the list block payload */
} VlListDir;

typedef struct VlFileHeader		/* codes.bin and vectors.bin */
{
	uint64		magic;
	uint32		version;
	uint32		lists;
	uint64		nvec;
	uint64		reserved;
} VlFileHeader;

/* Bytes of one list block in codes.bin for count vectors: codes, then row
 * references, then factors (so every array stays naturally aligned). */
static inline uint64
vl_list_block_size(int words, uint64 count)
{
	return count * (words * sizeof(uint64) + sizeof(IvfFactor) + sizeof(uint64));
}

/* ---- the warm tier: an index's lake part held in backend memory ---- */
typedef struct VlList
{
	bool		loaded;
	int			count;
	uint64	   *codes;			/* [count][words] */
	IvfFactor  *factors;		/* [count] */
	uint64	   *refs;			/* [count] */
} VlList;

typedef struct VlPart
{
	Oid			indexoid;
	uint64		generation;
	char		location[VL_LOCATION_MAX];
	char		prefix[VL_PREFIX_MAX];
	MemoryContext cxt;
	IvfMetric	metric;
	int			dim;
	int			pdim;
	int			words;
	int			lists;
	uint64		nvec;
	IvfRotation rot;
	float	   *centroids;		/* [lists][dim] */
	float	   *crot;			/* [lists][pdim] rotated centroids */
	VlListDir  *dir;
	VlList	   *list;
	/* second level (0 groups: one level, every centroid is compared) */
	int			groups;
	float	   *gcent;			/* [groups][dim] */
	uint32	   *gstart;			/* [groups + 1] into gmembers */
	uint32	   *gmembers;		/* [lists]: list numbers, grouped */
	float	   *gradius;		/* [groups]: derived on load (IP ranking) */
	Size		mem_bytes;		/* bytes held for this part */
	struct ObjStore *store;
	/* versions of codes.bin / vectors.bin: ranged reads skip the HEAD */
	uint64		codes_size;
	uint64		vectors_size;
	char		codes_etag[128];
	char		vectors_etag[128];
} VlPart;

/* Per-backend counters, shown by EXPLAIN ANALYZE (vlindex_explain.c). */
typedef struct VlScanStats
{
	int64		scans;
	int64		centroids_compared;	/* list and group centroids */
	int64		lists_probed;
	int64		codes_scanned;
	int64		reranked;
	int64		delta_scanned;
	int64		bytes_memory;	/* codes read from the warm tier */
	int64		bytes_fetched;	/* bytes requested through ObjStore */
	int64		round_trips;	/* ObjStore calls */
} VlScanStats;
extern VlScanStats vl_stats;

/* GUCs (index_init.c) */
extern int	vl_probes;
extern double vl_epsilon;
extern int	vl_rerank_min;
extern char *vl_default_location;
extern int	vl_iterative;
extern double vl_hierarchy_cover;
extern int	vl_exhaustive_after;

/* vlake.iterative_scan */
typedef enum VlIterativeMode
{
	VL_ITERATIVE_OFF = 0,		/* stop after the first probes lists */
	VL_ITERATIVE_ROUNDS = 1,	/* then the next probes lists, round by round */
	VL_ITERATIVE_EXHAUSTIVE = 2	/* then every remaining list at once */
} VlIterativeMode;

/* vlindex_am.c */
extern bytea *vl_options(Datum reloptions, bool validate);
extern void vl_init_reloptions(void);
extern IvfMetric vl_index_metric(Relation index, VlElemType *elemtype);
extern int	vl_hierarchy_threshold(Relation index);
extern int	vl_default_probes(int lists);
extern void vl_datum_to_floats(Datum d, VlElemType et, IvfMetric metric,
							   int expect_dim, float *out, int *dim_out,
							   Relation index);
extern void vl_costestimate(struct PlannerInfo *root, struct IndexPath *path,
							double loop_count, Cost *startup, Cost *total,
							Selectivity *selectivity, double *correlation,
							double *pages);

/* vlindex_meta.c */
extern void vl_meta_init_page(Page page, IvfMetric metric, VlElemType et,
							  const char *location);
extern void vl_meta_read(Relation index, VlMetaData *out);
extern BlockNumber vl_blob_write(Relation index, ForkNumber fork, const char *data, uint64 len,
								 uint64 stamp);
extern char *vl_blob_read(Relation index, BlockNumber head, uint64 len, uint64 generation);

/* vlindex_build.c */
extern IndexBuildResult *vl_build(Relation heap, Relation index, struct IndexInfo *info);
extern void vl_buildempty(Relation index);
extern char *vl_build_phasename(int64 phase);
extern char *vl_location_for(Relation index);
extern char *vl_location_resolve(Relation index, bool missing_ok);

/* Where the part writer gets vector number seq (0..nvec-1) from. */
typedef struct VlVecSource
{
	void		(*get) (struct VlVecSource *src, int64 seq, float *out);
	void	   *arg;
} VlVecSource;

/* Rows already encoded (parallel build): row seq's vector, its code
 * (pdim/64 words), factors and row reference. */
typedef struct VlCodeSource
{
	void		(*get) (struct VlCodeSource *src, int64 seq, float *vec,
						uint64 *code, IvfFactor *f, uint64 *ref);
	void	   *arg;
} VlCodeSource;

/* vlindex_files.c */
extern VlPart *vl_part_get(Relation index, const VlMetaData *meta);
extern void vl_part_load_lists(VlPart *part, const int *lists, int n);
extern void vl_part_fetch_vectors(VlPart *part, const int *list,
								  const int *idx, int n, float *out);
extern void vl_part_forget(Oid indexoid);
extern void vl_write_part(Relation index, const char *location, IvfMetric metric,
						  int dim, int lists, const float *centroids, uint64 seed,
						  int64 nvec, const int *assign, const uint64 *refs,
						  VlVecSource *src, char *prefix_out,
						  uint64 *meta_size_out, char *meta_etag_out,
						  char **meta_blob_out);
extern void vl_write_part_encoded(Relation index, const char *location,
								  IvfMetric metric, int dim, int lists,
								  const float *centroids, uint64 seed,
								  int64 nvec, const int *assign,
								  VlCodeSource *csrc, char *prefix_out,
								  uint64 *meta_size_out, char *meta_etag_out,
								  char **meta_blob_out);
extern char *vl_new_prefix(Relation index);

/* vlindex_scan.c */
extern IndexScanDesc vl_beginscan(Relation index, int nkeys, int norderbys);
extern void vl_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
					  ScanKey orderbys, int norderbys);
extern bool vl_gettuple(IndexScanDesc scan, ScanDirection dir);
extern void vl_endscan(IndexScanDesc scan);

/* vlindex_insert.c */
extern bool vl_insert(Relation index, Datum *values, bool *isnull,
					  ItemPointer heap_tid, Relation heap,
					  IndexUniqueCheck checkUnique, bool indexUnchanged,
					  struct IndexInfo *indexInfo);
extern IndexBulkDeleteResult *vl_bulkdelete(IndexVacuumInfo *info,
											IndexBulkDeleteResult *stats,
											IndexBulkDeleteCallback callback,
											void *callback_state);
extern IndexBulkDeleteResult *vl_vacuumcleanup(IndexVacuumInfo *info,
											   IndexBulkDeleteResult *stats);
extern uint64 *vl_tombstones_load(Relation index, const VlMetaData *meta, int *n);
extern int	vl_cmp_u64(const void *a, const void *b);

/* vlindex_sql.c */
extern Relation vl_open_index(Oid relid, LOCKMODE lock);
extern Relation vl_open_index_checked(Oid relid, LOCKMODE lock, bool need_owner);
extern Oid	vl_check_index_access(Oid relid, bool need_owner);

/* vlindex_explain.c */
extern void vl_explain_init(void);

#endif							/* VLAKE_VLINDEX_H */
