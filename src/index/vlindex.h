/*
 * vlindex.h — internals of the vlake index access method (layer "index").
 *
 * The index relation holds only small, WAL-logged state:
 *   block 0          metapage: which lake files form the index (VlIndexMetaData)
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
#include "lake/lake_location.h"
#include "lake/lake_part.h"
#include "lake/lake_rowref.h"

#define VLINDEX_META_MAGIC		0x564C4958	/* "VLIX" */
#define VLINDEX_META_VERSION		2		/* 2: page stamps, retired chains */
#define VLINDEX_METAPAGE_BLKNO	0
#define VLINDEX_LOCATION_MAX		LAKE_LOCATION_MAX
#define VLINDEX_PREFIX_MAX		LAKE_PREFIX_MAX
#define VLINDEX_MAX_DIM			16000	/* the vector and halfvec types' limit */

/*
 * Bit strings.  Up to VLINDEX_MAX_DIM bits an index stores one float 0/1 per
 * bit (squared L2 = Hamming; the only layout before wide bit strings, so
 * those indexes read as they are).  Longer strings, up to VLINDEX_MAX_BITS,
 * are "wide": the index's vector (what the delta, the build spill, merges
 * and vectors.bin keep; meta dim counts its floats) is
 *   [0, VLINDEX_BITS_SAMPLE)   a fixed sample of the bits, each 0 or
 *                              sqrt(bits / sample): the coarse stage
 *                              (k-means, RaBitQ codes) works on this, and
 *                              its squared L2 estimates the Hamming distance;
 *   [VLINDEX_BITS_SAMPLE, ..)  the whole string packed 24 bits per float as
 *                              the exact value k * 2^-VLINDEX_BITS_SCALE
 *                              (k < 2^24), so small that it adds nothing
 *                              measurable to any L2, yet read back exactly
 *                              for the exact re-rank (popcount).
 * 64,000 bits take 3,691 floats (14.8 kB) instead of 256 kB, and the coarse
 * stage works in 3,691 dimensions instead of 64,000.  The metapage's bitlen
 * holds the bit length of a wide index (0 otherwise).
 */
#define VLINDEX_MAX_BITS			350000
#define VLINDEX_BITS_SAMPLE		1024
#define VLINDEX_BITS_PER_FLOAT	24
#define VLINDEX_BITS_SCALE		60
#define VLINDEX_BITS_WIDE(n)		((n) > VLINDEX_MAX_DIM)
/* Floats of the index vector of an n-bit string. */
#define VLINDEX_BITS_FLOATS(n) \
	(VLINDEX_BITS_WIDE(n) ? VLINDEX_BITS_SAMPLE + \
	 ((n) + VLINDEX_BITS_PER_FLOAT - 1) / VLINDEX_BITS_PER_FLOAT : (n))

/* Strategy numbers of the ORDER BY operators (one per opclass). */
#define VLINDEX_STRATEGY_L2		1
#define VLINDEX_STRATEGY_IP		2
#define VLINDEX_STRATEGY_COSINE	3
#define VLINDEX_STRATEGY_L1		4
#define VLINDEX_STRATEGY_HAMMING	5
#define VLINDEX_STRATEGY_JACCARD	6
#define VLINDEX_NSTRATEGIES		6

/*
 * The distance an index orders by (its operator class).  The codes and the
 * lists are built in the geometry of the IvfMetric vlindex_metric() returns:
 * its own for L2 / IP / cosine; squared L2 for the other three, over the
 * raw floats (bits as 0 and 1, so squared L2 = Hamming), and the scan
 * turns the squared-L2 lower bounds into lower bounds of the distance it
 * orders by (vlindex_scan.c), then re-ranks with that exact distance.
 */
typedef enum VlIndexDist
{
	VLINDEX_DIST_L2 = 0,
	VLINDEX_DIST_IP = 1,
	VLINDEX_DIST_COSINE = 2,
	VLINDEX_DIST_L1 = 3,
	VLINDEX_DIST_HAMMING = 4,
	VLINDEX_DIST_JACCARD = 5
} VlIndexDist;

/* Element type of the indexed column. */
typedef enum VlIndexElemType
{
	VLINDEX_ELEM_FLOAT4 = 0,			/* vector */
	VLINDEX_ELEM_HALF = 1,			/* halfvec */
	VLINDEX_ELEM_BIT = 2,			/* bit: one float 0 or 1 per bit, or wide
									 * (VLINDEX_BITS_WIDE) */
	VLINDEX_ELEM_SPARSE = 3			/* sparsevec: densified, dim <= VLINDEX_MAX_DIM */
} VlIndexElemType;

/* Page special space, on delta and tombstone pages. */
#define VLINDEX_PAGE_DELTA		1
#define VLINDEX_PAGE_TOMB		2
#define VLINDEX_PAGE_BLOB		3
#define VLINDEX_PAGE_FREE		4			/* recycled, in the free space map */
#define VLINDEX_BLOB_CHUNK		8000		/* bytes of a blob per page */
typedef struct VlIndexPageOpaque
{
	BlockNumber next;			/* next page of the chain, or InvalidBlockNumber */
	uint16		kind;			/* VLINDEX_PAGE_DELTA / TOMB / BLOB / FREE */
	uint16		page_id;		/* constant, identifies vlake pages */
	uint64		stamp;			/* metapage generation when the page joined its
								 * chain: a scan of generation G never needs a
								 * page stamped later (it was recycled) */
} VlIndexPageOpaque;
#define VLINDEX_PAGE_ID 0xFD1C

/*
 * A page chain a merge replaced (sealed delta, tombstones, index.meta copy):
 * scans that read the metapage before the merge may still follow it, so its
 * pages are recycled only when no snapshot is older than xid
 * (FullTransactionId, ReadNextFullTransactionId() at the switch).
 */
typedef struct VlIndexRetiredChain
{
	BlockNumber head;
	uint32		kind;
	uint64		xid;
} VlIndexRetiredChain;
#define VLINDEX_MAX_RETIRED		48

/* Contents of block 0 (after the page header). */
typedef struct VlIndexMetaData
{
	uint32		magic;
	uint32		version;
	uint32		metric;			/* IvfMetric */
	uint32		elemtype;		/* VlIndexElemType */
	uint32		dim;			/* 0 until the first vector is seen */
	uint32		lists;			/* lists in the lake part, 0 = no lake part */
	uint64		nvec;			/* vectors in the lake part */
	uint64		generation;		/* bumped each time the file set changes */
	char		location[VLINDEX_LOCATION_MAX];	/* root URI of the lake files */
	char		prefix[VLINDEX_PREFIX_MAX];	/* key prefix of the current part */
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
	VlIndexRetiredChain retired[VLINDEX_MAX_RETIRED];
	/*
	 * Bit length of a wide bit index (VLINDEX_BITS_WIDE), else 0.  Last, and
	 * zero on metapages written before it: vlindex_meta_set_dim() extends
	 * pd_lower over it when it sets it.
	 */
	uint32		bitlen;
} VlIndexMetaData;

#define VlIndexPageGetMeta(page) ((VlIndexMetaData *) PageGetContents(page))

/* A delta item: heap TID + the vector as float4 (cosine: normalised). */
typedef struct VlIndexDeltaItem
{
	ItemPointerData tid;
	uint16		pad;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} VlIndexDeltaItem;
#define VLINDEX_DELTA_ITEM_SIZE(dim) (offsetof(VlIndexDeltaItem, x) + sizeof(float) * (dim))

/*
 * Up to this many dimensions a delta item fits an empty page and is one
 * VlIndexDeltaItem (the only layout before 16,000 dimensions, so existing
 * indexes read as they are).  Above it, an item is a run of chunks, in
 * chain order, that may span pages (vlindex_delta.c).
 */
#define VLINDEX_DELTA_SINGLE_MAX_DIM	2000
#define VLINDEX_DELTA_CHUNKED(dim)	((dim) > VLINDEX_DELTA_SINGLE_MAX_DIM)
typedef struct VlIndexDeltaChunk
{
	ItemPointerData tid;
	uint16		pad;
	uint32		serial;			/* the same in every chunk of one item */
	uint32		first;			/* position of x[0] in the vector */
	float		x[FLEXIBLE_ARRAY_MEMBER];	/* the rest of the item's length */
} VlIndexDeltaChunk;
#define VLINDEX_DELTA_CHUNK_HDR		offsetof(VlIndexDeltaChunk, x)

/* Every complete delta item of a chain (vlindex_delta.c). */
typedef void (*VlIndexDeltaFn) (void *arg, ItemPointer tid, const float *x);

/* Reloptions. */
typedef struct VlIndexOptions
{
	int32		vl_len_;
	int			lists;			/* 0 = sqrt(rows) */
	int			location_offset;	/* string reloption */
	int			hierarchy_threshold;	/* second level when lists exceed it */
} VlIndexOptions;

/* ---- index pages (vlindex_pages.c) ---- */
/* A page for a chain, exclusively locked: a recycled one, else a new one. */
extern Buffer vlindex_new_buffer(Relation index);
extern void vlindex_init_chain_page(Page page, uint16 kind, uint64 stamp);
/* A vlake page freed or reused after a scan of this generation began. */
extern bool vlindex_chain_page_recycled(Page page, uint64 generation);
/* ERROR unless page blk is a page of a chain of kind as of generation. */
extern void vlindex_check_chain_page(Relation index, BlockNumber blk, Page page, uint16 kind,
								uint64 generation);
/* Recycle retired chains no snapshot can need; returns pages freed. */
extern int64 vlindex_recycle_retired(Relation index);
/* VACUUM: every free page into the free space map; returns their count. */
extern BlockNumber vlindex_vacuum_free_pages(Relation index);

/* ---- lake file format (docs/index-format.md) ---- */
#define VLINDEX_FILE_META	"index.meta"
#define VLINDEX_FILE_CODES	"codes.bin"
#define VLINDEX_FILE_VECS	"vectors.bin"

#define VLINDEX_MAGIC_META	UINT64_C(0x4154454D58494C56)	/* "VLIXMETA" */
#define VLINDEX_MAGIC_CODES	UINT64_C(0x5345444F4358494C)	/* "LIXCODES" */
#define VLINDEX_MAGIC_VECS	UINT64_C(0x5343455658494C56)	/* "VLIXVECS" */
/*
 * Format versions.  codes.bin and vectors.bin are at version 2.  index.meta
 * is written at version 2 when the part has one level (byte for byte what
 * earlier builds wrote, so they can still read it) and at version 3 when it
 * has a second level (groups of lists, after the list directory).  Readers
 * accept both.
 */
#define VLINDEX_FORMAT_VERSION 2
#define VLINDEX_META_VERSION_GROUPS 3
/* Default of the hierarchy_threshold reloption: two levels above it. */
#define VLINDEX_HIERARCHY_THRESHOLD_DEFAULT 1024

typedef struct VlIndexFileMetaHeader
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
} VlIndexFileMetaHeader;

typedef struct VlIndexListDir
{
	uint64		codes_off;		/* list block in codes.bin */
	uint64		vecs_off;		/* first vector in vectors.bin */
	uint32		count;
	uint32		codes_crc;		/* CRC-32C of the list block payload */
} VlIndexListDir;

typedef struct VlIndexFileHeader		/* codes.bin and vectors.bin */
{
	uint64		magic;
	uint32		version;
	uint32		lists;
	uint64		nvec;
	uint64		reserved;
} VlIndexFileHeader;

/* Bytes of one list block in codes.bin for count vectors: codes, then row
 * references, then factors (so every array stays naturally aligned). */
static inline uint64
vlindex_list_block_size(int words, uint64 count)
{
	return count * (words * sizeof(uint64) + sizeof(IvfFactor) + sizeof(uint64));
}

/* ---- the warm tier: an index's lake part held in backend memory ---- */
typedef struct VlIndexList
{
	bool		loaded;
	int			count;
	uint64	   *codes;			/* [count][words] */
	IvfFactor  *factors;		/* [count] */
	uint64	   *refs;			/* [count] */
} VlIndexList;

typedef struct VlIndexPart
{
	Oid			indexoid;
	uint64		generation;
	char		location[VLINDEX_LOCATION_MAX];
	char		prefix[VLINDEX_PREFIX_MAX];
	MemoryContext cxt;
	IvfMetric	metric;
	int			dim;
	int			pdim;
	int			words;
	int			lists;
	uint64		nvec;
	IvfRotation rot;
	float	   *centroids;		/* [lists][dim] */
	float	   *crot;			/* [lists][pdim] rotated centroids, computed
								 * on first use: vlindex_part_crot() */
	bool	   *crot_done;		/* [lists]: crot[c] computed */
	VlIndexListDir  *dir;
	VlIndexList	   *list;
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
	/* no vectors.bin: re-rank reads the table's column (vlake tables) */
	bool		table_vectors;
	/* not a file:// location: each cold read is a round trip to a server */
	bool		remote;
	uint64		seed;			/* of the rotation (a merge keeps codes) */
} VlIndexPart;

/* Per-backend counters, shown by EXPLAIN ANALYZE (vlindex_explain.c). */
typedef struct VlIndexScanStats
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
	int64		heap_reranked;	/* re-ranked from the heap, not vectors.bin */
} VlIndexScanStats;
extern VlIndexScanStats vlindex_stats;

/* GUCs (index_init.c) */
extern int	vlindex_probes;
extern double vlindex_epsilon;
extern int	vlindex_rerank_min;
extern int	vlindex_iterative;
extern double vlindex_hierarchy_cover;
extern int	vlindex_exhaustive_after;
extern int	vlindex_probe_patience;
extern bool vlindex_rerank_from_heap;

/* vlake.iterative_scan */
typedef enum VlIndexIterativeMode
{
	VLINDEX_ITERATIVE_OFF = 0,		/* stop after the first probes lists */
	VLINDEX_ITERATIVE_ROUNDS = 1,	/* then the next probes lists, round by round */
	VLINDEX_ITERATIVE_EXHAUSTIVE = 2,	/* then every remaining list at once
										 * (pgvector's relaxed_order) */
	VLINDEX_ITERATIVE_STRICT = 3	/* exhaustive, never returning a row closer
									 * than one already returned
									 * (pgvector's strict_order) */
} VlIndexIterativeMode;
#define VLINDEX_ITERATIVE_GOES_EXHAUSTIVE(m) \
	((m) == VLINDEX_ITERATIVE_EXHAUSTIVE || (m) == VLINDEX_ITERATIVE_STRICT)

/* vlindex_am.c */
extern bytea *vlindex_options(Datum reloptions, bool validate);
extern void vlindex_init_reloptions(void);
extern IvfMetric vlindex_metric(Relation index, VlIndexElemType *elemtype);
extern VlIndexDist vlindex_dist(Relation index);
extern const char *vlindex_dist_name(VlIndexDist d);	/* "l2", "l1", "hamming", ... */
extern int	vlindex_hierarchy_threshold(Relation index);
extern int	vlindex_default_probes(int lists);
extern void vlindex_auto_probes(int lists, int *floor, int *ceiling);
extern int	vlindex_datum_to_floats(Datum d, VlIndexElemType et, IvfMetric metric,
							   int expect_dim, float *out, int *dim_out,
							   Relation index);
/* The bit length of a wide bit index (meta bitlen) or its dim otherwise:
 * the dimension users see, which vlindex_datum_to_floats checks. */
#define VLINDEX_USER_DIM(m) ((m)->bitlen > 0 ? (int) (m)->bitlen : (int) (m)->dim)
/* A wide index vector's packed string as 24-bit words (vlindex_am.c). */
#define VLINDEX_BITS_WORDS(n) (((n) + VLINDEX_BITS_PER_FLOAT - 1) / VLINDEX_BITS_PER_FLOAT)
extern void vlindex_bits_unpack(const float *v, int bitlen, uint32 *out);
extern void vlindex_costestimate(struct PlannerInfo *root, struct IndexPath *path,
							double loop_count, Cost *startup, Cost *total,
							Selectivity *selectivity, double *correlation,
							double *pages);

/* vlindex_meta.c */
extern void vlindex_meta_init_page(Page page, IvfMetric metric, VlIndexElemType et,
							  const char *location);
extern void vlindex_meta_read(Relation index, VlIndexMetaData *out);
extern void vlindex_meta_set_dim(Page metapage, int dim, int udim);
extern BlockNumber vlindex_blob_write(Relation index, ForkNumber fork, const char *data, uint64 len,
								 uint64 stamp);
extern char *vlindex_blob_read(Relation index, BlockNumber head, uint64 len, uint64 generation);

/* vlindex_build.c */
extern IndexBuildResult *vlindex_build(Relation heap, Relation index, struct IndexInfo *info);
extern void vlindex_buildempty(Relation index);
extern char *vlindex_build_phasename(int64 phase);
extern char *vlindex_location_for(Relation index);
extern char *vlindex_location_resolve(Relation index, bool missing_ok);

/* vectors.bin is written this many bytes at a time, not a row per write */
#define VLINDEX_WRITE_CHUNK (1024 * 1024)

/* Where the part writer gets vector number seq (0..nvec-1) from. */
typedef struct VlIndexVecSource
{
	void		(*get) (struct VlIndexVecSource *src, int64 seq, float *out);
	void	   *arg;
} VlIndexVecSource;

/* Rows already encoded (parallel build): row seq's vector, its code
 * (pdim/64 words), factors and row reference; vec is NULL when the part
 * keeps no vectors.bin or the source writes it itself (below). */
typedef struct VlIndexCodeSource
{
	void		(*get) (struct VlIndexCodeSource *src, int64 seq, float *vec,
						uint64 *code, IvfFactor *f, uint64 *ref);

	/*
	 * Optional: the source writes vectors.bin itself, by positional writes
	 * (objstore_shared_open; only where objstore_shared_writes()).
	 * vectors_begin is called once the file is begun and its header
	 * written, with the file's shared name, its URI and the part's list
	 * directory (dir[c].vecs_off: where list c starts); vectors_end before
	 * the file is finished, returning once every vector is written, with
	 * the number of bytes.
	 */
	void		(*vectors_begin) (struct VlIndexCodeSource *src, const char *name,
								  const char *uri, const VlIndexListDir *dir);
	uint64		(*vectors_end) (struct VlIndexCodeSource *src);
	void	   *arg;
} VlIndexCodeSource;

/* vlindex_files.c */
extern VlIndexPart *vlindex_part_get(Relation index, const VlIndexMetaData *meta);
extern const float *vlindex_part_crot(VlIndexPart *part, int c);
extern void vlindex_part_load_lists(VlIndexPart *part, const int *lists, int n);
extern void vlindex_part_fetch_vectors(VlIndexPart *part, const int *list,
								  const int *idx, int n, int skip, float *out);
extern void vlindex_part_forget(Oid indexoid);
extern void vlindex_write_part(Relation index, const char *location, IvfMetric metric,
						  int dim, int lists, const float *centroids, uint64 seed,
						  int64 nvec, const int *assign, const uint64 *refs,
						  VlIndexVecSource *src, char *prefix_out,
						  uint64 *meta_size_out, char *meta_etag_out,
						  char **meta_blob_out);
extern void vlindex_write_part_encoded(Relation index, const char *location,
								  IvfMetric metric, int dim, int lists,
								  const float *centroids, uint64 seed,
								  int64 nvec, const int *assign,
								  VlIndexCodeSource *csrc, char *prefix_out,
								  uint64 *meta_size_out, char *meta_etag_out,
								  char **meta_blob_out);

/* vlindex_scan.c */
extern IndexScanDesc vlindex_beginscan(Relation index, int nkeys, int norderbys);
extern void vlindex_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
					  ScanKey orderbys, int norderbys);
extern bool vlindex_gettuple(IndexScanDesc scan, ScanDirection dir);
extern void vlindex_endscan(IndexScanDesc scan);

/* vlindex_delta.c: the delta chains' items, single or chunked */
/* dim: floats of x; udim: the dimension users see (bits: the length) */
extern void vlindex_delta_append(Relation index, ItemPointer tid, const float *x, int dim,
								 int udim);
extern int64 vlindex_delta_walk(Relation index, BlockNumber head, int dim, uint64 generation,
								VlIndexDeltaFn fn, void *arg);
extern void vlindex_chain_append(Relation index, uint16 kind, const void *item, Size size,
								 int set_dim, int set_udim);
/* ERROR unless an index of metapage m takes vectors of udim dimensions as
 * users see them (dim: their floats; the index's 0: not set yet). */
extern void vlindex_check_dim(Relation index, const VlIndexMetaData *m, int dim, int udim);

/* vlindex_insert.c */
extern bool vlindex_insert(Relation index, Datum *values, bool *isnull,
					  ItemPointer heap_tid, Relation heap,
					  IndexUniqueCheck checkUnique, bool indexUnchanged,
					  struct IndexInfo *indexInfo);
extern IndexBulkDeleteResult *vlindex_bulkdelete(IndexVacuumInfo *info,
											IndexBulkDeleteResult *stats,
											IndexBulkDeleteCallback callback,
											void *callback_state);
extern IndexBulkDeleteResult *vlindex_vacuumcleanup(IndexVacuumInfo *info,
											   IndexBulkDeleteResult *stats);
extern uint64 *vlindex_tombstones_load(Relation index, const VlIndexMetaData *meta, int *n);

/* vlindex_sql.c */
extern const char *vlindex_metric_name(uint32 metric);	/* "l2", "inner_product", "cosine" */
extern Relation vlindex_open(Oid relid, LOCKMODE lock);
extern Relation vlindex_open_checked(Oid relid, LOCKMODE lock, bool need_owner);
extern Oid	vlindex_check_access(Oid relid, bool need_owner);

/* vlindex_table.c: indexes of vlake tables (their parts in the manifest) */
extern char *vlindex_table_location(Relation index);
extern int64 vlindex_table_next_row_id(Relation heap);
extern int64 vlindex_table_recorded_end(Relation heap, Relation index);
extern AttrNumber vlindex_table_rerank_column(Relation index);
extern void vlindex_table_record(Relation heap, Relation index, const char *location,
								 const char *prefix, IvfMetric metric, int dim, int lists,
								 uint64 nvec, uint64 meta_size, const char *meta_etag,
								 const char *meta_blob, int64 end_row_id);

/* vlindex_gc.c: the index's parts in the lake's part lifecycle */
extern const LakePartKind vlindex_part_kind;
extern int	vlindex_gc_min_age;		/* GUC vlake.index_gc_min_age */

/* vlindex_pgvector.c: pgvector's settings, which do nothing here */
extern void vlindex_warn_pgvector_settings(Relation index);

/* vlindex_explain.c */
extern void vlindex_explain_init(void);

#endif							/* VLAKE_VLINDEX_H */
