/*
 * fts_am_internal.h — internals of the vlake_bm25 index access method (not a
 * contract; the rest of the layer uses fts_am.h).
 *
 * The index relation holds only small, WAL-logged state:
 *   block 0      metapage: settings, the lake part (postings.bin), and the
 *                delta and tombstone logs
 *   log pages    two append-only byte logs, each a chain of pages holding
 *                FTS_LOG_CHUNK bytes apiece: the delta (one record per
 *                document inserted since the part was written: its row
 *                reference, length and tokens) and the tombstones (rows
 *                VACUUM removed)
 * The bulk — the term dictionary, postings with positions and block maxima,
 * the document table — is one immutable lake file per part
 * (docs/bm25-format.md).  Every change of block 0 and of log pages goes
 * through GenericXLog, so crash recovery and physical standbys see what the
 * primary sees; a lake part is written completely before the metapage
 * names it.
 */
#ifndef VLAKE_FTS_AM_INTERNAL_H
#define VLAKE_FTS_AM_INTERNAL_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "common/relpath.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "storage/bufpage.h"
#include "utils/relcache.h"

#include "fulltext/fts_am.h"
#include "lake/lake_location.h"
#include "lake/lake_part.h"

#define FTS_AM_NAME			"vlake_bm25"
/*
 * The sparse-vector index (docs/bm25-index.md, "Sparse vectors"): the same
 * access method over a sparsevec column, its postings in impact mode
 * (dimension i as the term of 4 big-endian bytes, weight as impact).
 */
#define FTS_SPARSE_AM_NAME	"vlake_sparse"
#define FTS_META_MAGIC		0x564C424D	/* "VLBM" */
#define FTS_META_VERSION	1
#define FTS_METAPAGE_BLKNO	0
#define FTS_FILE_POSTINGS	"postings.bin"

/* A byte log: chain of pages, page k holds bytes [k * CHUNK, (k+1) * CHUNK). */
typedef struct FtsLog
{
	BlockNumber head;
	BlockNumber tail;
	uint64		bytes;			/* bytes of complete records */
	uint64		start;			/* bytes before this are folded into the part */
	uint64		records;		/* records in [start, bytes) */
} FtsLog;

#define FTS_LOG_DELTA	1
#define FTS_LOG_TOMB	2
#define FTS_PAGE_FREE	3			/* recycled, in the free space map */

typedef struct FtsPageOpaque
{
	BlockNumber next;
	uint16		kind;			/* FTS_LOG_DELTA / FTS_LOG_TOMB / FTS_PAGE_FREE */
	uint16		page_id;
	uint64		stamp;			/* metapage generation when the page joined its log */
} FtsPageOpaque;

/*
 * A log chain a part switch emptied: scans that read the metapage before
 * may still follow it, so its pages are recycled only once no snapshot can
 * be older than xid (ReadNextFullTransactionId() at the switch).
 */
typedef struct FtsRetired
{
	BlockNumber head;
	uint32		kind;
	uint64		xid;
} FtsRetired;
#define FTS_MAX_RETIRED 32
#define FTS_PAGE_ID 0xFD2B
#define FTS_LOG_CHUNK (BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(FtsPageOpaque)))

/* Contents of block 0. */
typedef struct FtsMetaData
{
	uint32		magic;
	uint32		version;
	uint64		generation;		/* bumped when the part changes */
	/* settings fixed at build (the terms depend on them) */
	char		config[FTS_CONFIG_NAME_MAX];
	uint32		nfields;
	double		weights[FTS_MAX_FIELDS];
	/* the lake part: empty prefix = none yet */
	char		location[LAKE_LOCATION_MAX];
	char		prefix[LAKE_PREFIX_MAX];
	uint64		part_size;
	uint64		part_docs;
	char		part_etag[128];
	FtsLog		delta;
	FtsLog		tomb;
	uint32		nretired;
	FtsRetired	retired[FTS_MAX_RETIRED];
} FtsMetaData;

#define FtsPageGetMeta(page) ((FtsMetaData *) PageGetContents(page))

/* A tombstone: a part document's row reference, or a delta record's offset. */
#define FTS_TOMB_DELTA		(UINT64_C(1) << 63)

/* Reloptions. */
typedef struct FtsIndexOptions
{
	int32		vl_len_;
	int			config_offset;
	double		k1;
	double		b;
	int			idf;			/* FtsIdf */
	int			weights_offset;
	int			location_offset;
} FtsIndexOptions;

/* fts_am.c */
extern void fts_am_init_reloptions(void);
/* The index is on a sparsevec column (a vlake_sparse index). */
extern bool fts_am_is_sparse(Relation index);
/* amoid is vlake_bm25 or vlake_sparse. */
extern bool fts_am_is_ours(Oid amoid);
extern void fts_am_settings(Relation index, const FtsMetaData *meta, FtsIndexSettings *s);

/* fts_am_meta.c: metapage and logs */
extern void fts_meta_read(Relation index, FtsMetaData *out);
extern void fts_meta_init(Relation index, ForkNumber fork, const FtsMetaData *m);
/* Append one record to a log; the caller holds no buffer lock. */
extern void fts_log_append(Relation index, int which, const char *rec, uint32 len);
/* Bytes [log->start, log->bytes) of a log as of the metapage copy. */
extern char *fts_log_read(Relation index, const FtsLog *log, int which, uint64 generation);
/* Recycle retired chains no snapshot can need; returns the pages freed. */
extern int64 fts_log_recycle(Relation index);
/* VACUUM: every free page into the free space map. */
extern void fts_log_vacuum_free_pages(Relation index);
/* Switch the metapage to a new part folding delta/tombstone bytes up to the given offsets. */
extern void fts_meta_switch_part(Relation index, const char *location, const char *prefix,
								 uint64 size, const char *etag, uint64 docs,
								 uint64 delta_upto, uint64 delta_records,
								 uint64 tomb_upto, uint64 tomb_records);

/* fts_am_build.c */
extern IndexBuildResult *fts_am_build(Relation heap, Relation index, IndexInfo *info);
extern void fts_am_buildempty(Relation index);
extern bool fts_am_insert(Relation index, Datum *values, bool *isnull, ItemPointer tid,
						  Relation heap, IndexUniqueCheck check, bool unchanged,
						  IndexInfo *info);
extern char *fts_am_location(Relation index);

/* fts_am_scan.c */
extern IndexScanDesc fts_am_beginscan(Relation index, int nkeys, int norderbys);
extern void fts_am_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
extern bool fts_am_gettuple(IndexScanDesc scan, ScanDirection dir);
extern int64 fts_am_getbitmap(IndexScanDesc scan, TIDBitmap *tbm);
extern void fts_am_endscan(IndexScanDesc scan);

/* fts_am_vacuum.c */
extern IndexBulkDeleteResult *fts_am_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
												IndexBulkDeleteCallback callback, void *state);
extern IndexBulkDeleteResult *fts_am_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

#endif							/* VLAKE_FTS_AM_INTERNAL_H */
