/*
 * vlindex_files.c — the lake files of a vlake index, and the warm tier.
 *
 * Writing: vlindex_write_part() turns assigned vectors into the three immutable
 * files of one index part (index.meta, codes.bin, vectors.bin) under a key
 * prefix that is unique to this build.  index.meta is written last, so a
 * part whose meta file exists is complete.  An index of a column of a vlake
 * table writes no vectors.bin (vectors_size 0 in index.meta): its re-rank
 * reads the table's own vector ColumnGroup (vlindex_table_rerank_column),
 * so the lake holds the vectors once.
 *
 * Reading: vlindex_part_get() returns the part for the file set the metapage
 * names, from the per-backend cache when it is current.  Centroids come with
 * the meta file (one request); codes are loaded per list on first use, all
 * lists a query needs in one ranged request; re-rank vectors are fetched per
 * query, again in one ranged request per batch.  Every file is validated
 * (magic, version, sizes, offsets, counts, CRC-32C) before use; a bad file is
 * an ERROR naming its URI.
 */
#include "postgres.h"

#include <math.h>
#include <sys/time.h>

#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "index/vlindex.h"
#include "objstore/objstore.h"

VlIndexScanStats vlindex_stats;

/* ---------------------------------------------------------------- write */

static char *
part_key(const char *prefix, const char *file)
{
	return psprintf("%s/%s", prefix, file);
}

static void
group_tick(void *arg, int64_t done)
{
	CHECK_FOR_INTERRUPTS();
}

#define VLINDEX_GROUP_KMEANS_ITERS 10

/*
 * The second level of a part with many lists: its centroids clustered into
 * ceil(4 sqrt(lists)) groups (ivf_default_groups, ivf_group_lists).  Appended to meta after the
 * list directory; returns the number of groups (0 = one level).  Memory:
 * the group centroids, O(lists) integers and groups x dim doubles.
 */
static int
append_groups(StringInfo meta, Relation index, const float *centroids,
			  int lists, int dim, uint64 seed)
{
	int			want,
				groups;
	float	   *gcent;
	uint32	   *gstart,
			   *members;
	IvfKmeansScratch ks;

	if (lists <= vlindex_hierarchy_threshold(index))
		return 0;
	want = ivf_default_groups(lists);
	gcent = palloc(sizeof(float) * want * dim);
	gstart = palloc0(sizeof(uint32) * (want + 1));
	members = palloc(sizeof(uint32) * lists);
	ks.assign = palloc(sizeof(int) * lists);
	ks.sums = palloc_extended(sizeof(double) * want * dim, MCXT_ALLOC_HUGE);
	ks.counts = palloc(sizeof(int64) * want);
	ks.mind = palloc(sizeof(float) * lists);
	ks.blocks = palloc_extended(sizeof(float) * ivf_block_floats(want, dim), MCXT_ALLOC_HUGE);
	groups = ivf_group_lists(centroids, lists, dim, want, VLINDEX_GROUP_KMEANS_ITERS,
							 seed ^ UINT64_C(0x67726F757073), gcent, gstart,
							 members, &ks, group_tick, NULL);
	appendBinaryStringInfo(meta, (const char *) gcent, sizeof(float) * groups * dim);
	appendBinaryStringInfo(meta, (const char *) gstart, sizeof(uint32) * (groups + 1));
	appendBinaryStringInfo(meta, (const char *) members, sizeof(uint32) * lists);
	pfree(gcent);
	pfree(gstart);
	pfree(members);
	pfree(ks.assign);
	pfree(ks.sums);
	pfree(ks.counts);
	pfree(ks.mind);
	pfree(ks.blocks);
	return groups;
}

/*
 * Write one index part.  assign[seq] is the list of vector seq; refs[seq]
 * its row reference; src->get(seq) the (normalised, for cosine) vector —
 * or, when csrc is given, csrc->get(seq) returns the vector with its code,
 * factors and row reference already computed.
 */
static void
write_part(Relation index, const char *location, IvfMetric metric,
		   int dim, int lists, const float *centroids, uint64 seed,
		   int64 nvec, const int *assign, const uint64 *refs,
		   VlIndexVecSource *src, VlIndexCodeSource *csrc, char *prefix_out,
		   uint64 *meta_size_out, char *meta_etag_out,
		   char **meta_blob_out)
{
	int			pdim = ivf_padded_dim(dim),
				words = pdim / 64;
	ObjStore   *store = objstore_open(location);
	char	   *prefix = lake_part_new_prefix(&vlindex_part_kind, RelationGetRelid(index));
	int64	   *start = palloc0(sizeof(int64) * (lists + 1));
	int64	   *order = palloc_extended(sizeof(int64) * Max(nvec, 1), MCXT_ALLOC_HUGE);
	int64	   *fill = palloc0(sizeof(int64) * lists);
	VlIndexListDir  *dir = palloc0(sizeof(VlIndexListDir) * lists);
	uint8	   *signs = palloc(3 * pdim);
	IvfRotation rot;
	float	   *vec = palloc(sizeof(float) * dim);
	float	   *tmp = palloc(sizeof(float) * 2 * pdim);
	float	   *vbuf;
	int			vcap,
				vfill = 0;
	uint64		codes_size,
				vecs_size,
				maxblock = 0;
	char	   *block;
	StringInfoData meta;
	VlIndexFileHeader fh;
	VlIndexFileMetaHeader mh;
	ObjWriter  *cw,
			   *vw = NULL;
	pg_crc32c	crc;
	bool		table_vectors = vlindex_table_rerank_column(index) != 0;
	bool		vec_elsewhere = false;	/* csrc writes vectors.bin itself */

	/* counting sort of the vectors by list */
	for (int64 i = 0; i < nvec; i++)
		start[assign[i] + 1]++;
	for (int c = 0; c < lists; c++)
		start[c + 1] += start[c];
	for (int64 i = 0; i < nvec; i++)
		order[start[assign[i]] + fill[assign[i]]++] = i;

	codes_size = sizeof(VlIndexFileHeader);
	vecs_size = sizeof(VlIndexFileHeader);
	for (int c = 0; c < lists; c++)
	{
		uint64		cnt = start[c + 1] - start[c];

		dir[c].count = (uint32) cnt;
		dir[c].codes_off = codes_size;
		dir[c].vecs_off = table_vectors ? 0 : vecs_size;
		codes_size += vlindex_list_block_size(words, cnt);
		vecs_size += cnt * dim * sizeof(float);
		maxblock = Max(maxblock, vlindex_list_block_size(words, cnt));
	}

	ivf_make_signs(seed, pdim, signs);
	rot.dim = dim;
	rot.pdim = pdim;
	rot.signs = signs;

	memset(&fh, 0, sizeof(fh));
	fh.version = VLINDEX_FORMAT_VERSION;
	fh.lists = lists;
	fh.nvec = nvec;

	/* before any other object of the part: GC can find a crashed write */
	lake_part_begin(store, prefix, &vlindex_part_kind);
	cw = objstore_writer_begin(store, part_key(prefix, VLINDEX_FILE_CODES));
	fh.magic = VLINDEX_MAGIC_CODES;
	objstore_writer_write(cw, (const char *) &fh, sizeof(fh));
	if (!table_vectors)
	{
		vw = objstore_writer_begin(store, part_key(prefix, VLINDEX_FILE_VECS));
		fh.magic = VLINDEX_MAGIC_VECS;
		objstore_writer_write(vw, (const char *) &fh, sizeof(fh));
		if (csrc && csrc->vectors_begin)
		{
			const char *name = objstore_writer_shared_name(vw);

			if (name == NULL)
				elog(ERROR, "vlake index part under \"%s\": positional writes are not supported there",
					 objstore_uri(store, prefix));
			csrc->vectors_begin(csrc, name, objstore_uri(store, part_key(prefix, VLINDEX_FILE_VECS)),
								dir);
			vec_elsewhere = true;
		}
	}
	else
		vecs_size = 0;

	block = palloc_extended(Max(maxblock, 1), MCXT_ALLOC_HUGE);
	/* vectors.bin goes out VLINDEX_WRITE_CHUNK at a time, not one row per write() */
	vcap = Max(1, VLINDEX_WRITE_CHUNK / ((int) sizeof(float) * dim));
	vbuf = palloc(sizeof(float) * dim * vcap);
	for (int c = 0; c < lists; c++)
	{
		int64		cnt = dir[c].count;
		uint64	   *codes = (uint64 *) block;
		uint64	   *lrefs = codes + cnt * words;
		IvfFactor  *fac = (IvfFactor *) (lrefs + cnt);
		const float *cen = centroids + (size_t) c * dim;

		for (int64 j = 0; j < cnt; j++)
		{
			int64		seq = order[start[c] + j];

			CHECK_FOR_INTERRUPTS();
			if (csrc)
			{
				/* encoded elsewhere (parallel build workers) */
				csrc->get(csrc, seq, vw && !vec_elsewhere ? vec : NULL,
						  codes + j * words, &fac[j], &lrefs[j]);
			}
			else
			{
				src->get(src, seq, vec);
				ivf_encode(&rot, metric, vec, cen, codes + j * words, &fac[j], tmp);
				lrefs[j] = refs[seq];
			}
			if (vw && !vec_elsewhere)
			{
				if (vfill == vcap)
				{
					objstore_writer_write(vw, (const char *) vbuf, sizeof(float) * dim * vfill);
					vfill = 0;
				}
				memcpy(vbuf + (size_t) vfill++ * dim, vec, sizeof(float) * dim);
			}
		}
		INIT_CRC32C(crc);
		COMP_CRC32C(crc, block, vlindex_list_block_size(words, cnt));
		FIN_CRC32C(crc);
		dir[c].codes_crc = crc;
		objstore_writer_write(cw, block, vlindex_list_block_size(words, cnt));
	}
	objstore_writer_finish(cw);
	if (vw)
	{
		if (vec_elsewhere)
			objstore_writer_shared_written(vw, csrc->vectors_end(csrc));
		else
			objstore_writer_write(vw, (const char *) vbuf, sizeof(float) * dim * vfill);
		objstore_writer_finish(vw);
	}

	/* index.meta last: its presence means the part is complete */
	memset(&mh, 0, sizeof(mh));
	mh.magic = VLINDEX_MAGIC_META;
	mh.version = VLINDEX_FORMAT_VERSION;
	mh.metric = metric;
	mh.dim = dim;
	mh.pdim = pdim;
	mh.lists = lists;
	mh.nvec = nvec;
	mh.seed = seed;
	mh.codes_size = codes_size;
	mh.vectors_size = vecs_size;
	/* record the versions written, so readers can skip validating HEADs */
	{
		ObjStat		st;

		if (!objstore_head(store, part_key(prefix, VLINDEX_FILE_CODES), &st) || st.size != codes_size ||
			(vw && (!objstore_head(store, part_key(prefix, VLINDEX_FILE_VECS), &st) ||
					st.size != vecs_size)))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("vlake index files under \"%s\" do not have the size just written",
							objstore_uri(store, prefix))));
		objstore_head(store, part_key(prefix, VLINDEX_FILE_CODES), &st);
		strlcpy(mh.codes_etag, st.etag, sizeof(mh.codes_etag));
		if (vw)
		{
			objstore_head(store, part_key(prefix, VLINDEX_FILE_VECS), &st);
			strlcpy(mh.vectors_etag, st.etag, sizeof(mh.vectors_etag));
		}
	}
	initStringInfo(&meta);
	appendBinaryStringInfo(&meta, (const char *) &mh, sizeof(mh));
	appendBinaryStringInfo(&meta, (const char *) centroids, sizeof(float) * (size_t) lists * dim);
	appendBinaryStringInfo(&meta, (const char *) dir, sizeof(VlIndexListDir) * lists);
	mh.groups = append_groups(&meta, index, centroids, lists, dim, seed);
	if (mh.groups > 0)
	{
		/* version 3 only when there is a second level (see vlindex.h) */
		mh.version = VLINDEX_META_VERSION_GROUPS;
		memcpy(meta.data, &mh, sizeof(mh));
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, meta.data, meta.len);
	FIN_CRC32C(crc);
	appendBinaryStringInfo(&meta, (const char *) &crc, sizeof(crc));
	objstore_put(store, part_key(prefix, VLINDEX_FILE_META), meta.data, meta.len);
	{
		ObjStat		st;

		if (!objstore_head(store, part_key(prefix, VLINDEX_FILE_META), &st))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("vlake index file \"%s\" vanished after it was written",
							objstore_uri(store, part_key(prefix, VLINDEX_FILE_META)))));
		*meta_size_out = st.size;
		strlcpy(meta_etag_out, st.etag, 128);
		if (st.size != (uint64) meta.len)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("vlake index file \"%s\" does not have the size just written",
							objstore_uri(store, part_key(prefix, VLINDEX_FILE_META)))));
	}
	*meta_blob_out = palloc(meta.len);
	memcpy(*meta_blob_out, meta.data, meta.len);

	strlcpy(prefix_out, prefix, VLINDEX_PREFIX_MAX);
	objstore_close(store);
	pfree(block);
	pfree(vbuf);
	pfree(order);
	pfree(meta.data);
}

void
vlindex_write_part(Relation index, const char *location, IvfMetric metric,
			  int dim, int lists, const float *centroids, uint64 seed,
			  int64 nvec, const int *assign, const uint64 *refs,
			  VlIndexVecSource *src, char *prefix_out,
			  uint64 *meta_size_out, char *meta_etag_out,
			  char **meta_blob_out)
{
	write_part(index, location, metric, dim, lists, centroids, seed, nvec,
			   assign, refs, src, NULL, prefix_out, meta_size_out,
			   meta_etag_out, meta_blob_out);
}

/*
 * The same part from rows already encoded against these centroids and this
 * seed (the parallel build): csrc->get() is called list by list, in
 * ascending seq within a list, for every seq with assign[seq] = list.
 */
void
vlindex_write_part_encoded(Relation index, const char *location, IvfMetric metric,
					  int dim, int lists, const float *centroids, uint64 seed,
					  int64 nvec, const int *assign, VlIndexCodeSource *csrc,
					  char *prefix_out, uint64 *meta_size_out,
					  char *meta_etag_out, char **meta_blob_out)
{
	write_part(index, location, metric, dim, lists, centroids, seed, nvec,
			   assign, NULL, NULL, csrc, prefix_out, meta_size_out,
			   meta_etag_out, meta_blob_out);
}

/* ----------------------------------------------------------------- read */

typedef struct VlIndexCacheEntry
{
	Oid			indexoid;
	VlIndexPart	   *part;
} VlIndexCacheEntry;

static MemoryContext vlindex_cache_cxt = NULL;
static List *vlindex_cache = NIL;	/* of VlIndexCacheEntry*, few entries */

static void
corrupt(VlIndexPart *part, const char *file, const char *detail)
{
	char	   *uri = objstore_uri(part->store, part_key(part->prefix, file));

	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("vlake index file \"%s\" is corrupt", uri),
			 errdetail("%s", detail),
			 errhint("REINDEX the index to rebuild its lake files.")));
}

static void
part_free(VlIndexPart *part)
{
	if (part->store)
		objstore_close(part->store);
	MemoryContextDelete(part->cxt);
}

void
vlindex_part_forget(Oid indexoid)
{
	ListCell   *lc;

	foreach(lc, vlindex_cache)
	{
		VlIndexCacheEntry *e = lfirst(lc);

		if (e->indexoid == indexoid)
		{
			VlIndexPart	   *part = e->part;

			vlindex_cache = foreach_delete_current(vlindex_cache, lc);
			pfree(e);
			part_free(part);
		}
	}
}

/*
 * The second level of a version 3 index.meta, at p (its size was checked):
 * group_centroids[groups][dim], group_start[groups + 1], members[lists].
 * Every list must belong to exactly one group, or scans could miss rows.
 */
static void
load_groups(VlIndexPart *part, const char *p, int groups)
{
	uint8	   *seen = palloc(part->lists);
	const char *why;

	part->groups = groups;
	part->gcent = (float *) p;
	part->gstart = (uint32 *) (p + (size_t) groups * part->dim * sizeof(float));
	part->gmembers = part->gstart + groups + 1;
	why = ivf_check_groups(part->lists, groups, part->gstart, part->gmembers, seen);
	pfree(seen);
	if (why)
		corrupt(part, VLINDEX_FILE_META, psprintf("Bad second level: %s.", why));
	part->gradius = palloc(sizeof(float) * groups);
	ivf_group_radii(part->centroids, part->dim, part->gcent, groups,
					part->gstart, part->gmembers, part->gradius);
}

static VlIndexPart *
part_load(Relation index, const VlIndexMetaData *meta)
{
	MemoryContext cxt = AllocSetContextCreate(vlindex_cache_cxt, "vlake index part",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	VlIndexPart	   *part = palloc0(sizeof(VlIndexPart));
	char	   *buf;
	uint64		len,
				need,
				sum = 0;
	VlIndexFileMetaHeader mh;
	pg_crc32c	crc,
				stored;
	uint8	   *signs;

	part->cxt = cxt;
	part->indexoid = RelationGetRelid(index);
	part->generation = meta->generation;
	strlcpy(part->location, meta->location, VLINDEX_LOCATION_MAX);
	strlcpy(part->prefix, meta->prefix, VLINDEX_PREFIX_MAX);

	PG_TRY();
	{
		part->store = objstore_open(part->location);
		part->remote = objstore_is_remote(part->store);
		if (meta->meta_blob_head != InvalidBlockNumber && meta->meta_size > 0 &&
			meta->meta_size < ((uint64) 1 << 32))
		{
			/* the copy in index pages: no round trip at all */
			len = meta->meta_size;
			buf = vlindex_blob_read(index, meta->meta_blob_head, len, meta->generation);
		}
		else if (meta->meta_etag[0] != '\0' && meta->meta_size > 0 &&
			meta->meta_size < ((uint64) 1 << 32))
		{
			/* version known from the metapage: no validating HEAD */
			ObjStat		known;
			ObjRange	r;

			memset(&known, 0, sizeof(known));
			known.size = meta->meta_size;
			strlcpy(known.etag, meta->meta_etag, sizeof(known.etag));
			len = meta->meta_size;
			buf = palloc_extended(len, MCXT_ALLOC_HUGE);
			r.offset = 0;
			r.length = len;
			r.dest = buf;
			objstore_get_ranges_known(part->store, part_key(part->prefix, VLINDEX_FILE_META),
									  &known, &r, 1);
		}
		else
			buf = objstore_get(part->store, part_key(part->prefix, VLINDEX_FILE_META), &len);
		if (meta->meta_blob_head == InvalidBlockNumber)
		{
			vlindex_stats.bytes_fetched += len;
			vlindex_stats.round_trips++;
		}

		if (len < sizeof(mh) + sizeof(pg_crc32c))
			corrupt(part, VLINDEX_FILE_META, psprintf("File has %llu bytes, shorter than its header.",
												 (unsigned long long) len));
		memcpy(&mh, buf, sizeof(mh));
		if (mh.magic != VLINDEX_MAGIC_META)
			corrupt(part, VLINDEX_FILE_META, "Bad magic number.");
		if (mh.version != VLINDEX_FORMAT_VERSION && mh.version != VLINDEX_META_VERSION_GROUPS)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("vlake index file \"%s\" has format version %u, which this build of vlake cannot read",
							objstore_uri(part->store, part_key(part->prefix, VLINDEX_FILE_META)),
							mh.version),
					 errdetail("This build reads index.meta versions %d and %d.",
							   VLINDEX_FORMAT_VERSION, VLINDEX_META_VERSION_GROUPS),
					 errhint("Install the vlake version that built the index, or REINDEX it.")));
		if ((mh.version == VLINDEX_FORMAT_VERSION && mh.groups != 0) ||
			(mh.version == VLINDEX_META_VERSION_GROUPS && (mh.groups < 1 || mh.groups > mh.lists)))
			corrupt(part, VLINDEX_FILE_META, psprintf("Bad group count %u for format version %u.",
												 mh.groups, mh.version));
		if (mh.dim < 1 || mh.dim > VLINDEX_MAX_DIM || mh.pdim != (uint32) ivf_padded_dim(mh.dim))
			corrupt(part, VLINDEX_FILE_META, psprintf("Bad dimensions %u / %u.", mh.dim, mh.pdim));
		if (mh.lists < 1 || mh.lists > (1 << 20) || mh.metric > IVF_COSINE)
			corrupt(part, VLINDEX_FILE_META, psprintf("Bad list count %u or metric %u.", mh.lists, mh.metric));
		if (mh.nvec != meta->nvec || mh.lists != meta->lists || mh.dim != meta->dim)
			corrupt(part, VLINDEX_FILE_META, "File does not match the index metapage.");
		need = sizeof(mh) + (uint64) mh.lists * mh.dim * sizeof(float) +
			(uint64) mh.lists * sizeof(VlIndexListDir) + sizeof(pg_crc32c);
		if (mh.groups > 0)
			need += (uint64) mh.groups * mh.dim * sizeof(float) +
				(uint64) (mh.groups + 1) * sizeof(uint32) +
				(uint64) mh.lists * sizeof(uint32);
		if (len != need)
			corrupt(part, VLINDEX_FILE_META, psprintf("File has %llu bytes, expected %llu.",
												 (unsigned long long) len,
												 (unsigned long long) need));
		INIT_CRC32C(crc);
		COMP_CRC32C(crc, buf, len - sizeof(pg_crc32c));
		FIN_CRC32C(crc);
		memcpy(&stored, buf + len - sizeof(pg_crc32c), sizeof(stored));
		if (crc != stored)
			corrupt(part, VLINDEX_FILE_META, "Checksum mismatch.");

		part->codes_size = mh.codes_size;
		part->vectors_size = mh.vectors_size;
		/* no vectors.bin (a real one has at least its header): re-rank
		 * from the table's column (docs/index-format.md) */
		part->table_vectors = (mh.vectors_size == 0);
		part->seed = mh.seed;
		mh.codes_etag[sizeof(mh.codes_etag) - 1] = '\0';
		mh.vectors_etag[sizeof(mh.vectors_etag) - 1] = '\0';
		strlcpy(part->codes_etag, mh.codes_etag, sizeof(part->codes_etag));
		strlcpy(part->vectors_etag, mh.vectors_etag, sizeof(part->vectors_etag));
		part->metric = (IvfMetric) mh.metric;
		part->dim = mh.dim;
		part->pdim = mh.pdim;
		part->words = mh.pdim / 64;
		part->lists = mh.lists;
		part->nvec = mh.nvec;
		part->centroids = (float *) (buf + sizeof(mh));
		part->dir = (VlIndexListDir *) (buf + sizeof(mh) + (uint64) mh.lists * mh.dim * sizeof(float));
		for (int c = 0; c < part->lists; c++)
		{
			VlIndexListDir  *d = &part->dir[c];

			if (d->codes_off < sizeof(VlIndexFileHeader) ||
				d->codes_off + vlindex_list_block_size(part->words, d->count) > mh.codes_size ||
				(part->table_vectors ? d->vecs_off != 0 :
				 (d->vecs_off < sizeof(VlIndexFileHeader) ||
				  d->vecs_off + (uint64) d->count * part->dim * sizeof(float) > mh.vectors_size)))
				corrupt(part, VLINDEX_FILE_META, psprintf("List %d points outside the data files.", c));
			sum += d->count;
		}
		if (sum != part->nvec)
			corrupt(part, VLINDEX_FILE_META, "List sizes do not add up to the vector count.");
		if (mh.groups > 0)
			load_groups(part, buf + sizeof(mh) +
						(uint64) mh.lists * mh.dim * sizeof(float) +
						(uint64) mh.lists * sizeof(VlIndexListDir), mh.groups);

		signs = palloc(3 * part->pdim);
		ivf_make_signs(mh.seed, part->pdim, signs);
		part->rot.dim = part->dim;
		part->rot.pdim = part->pdim;
		part->rot.signs = signs;
		part->list = palloc0(sizeof(VlIndexList) * part->lists);
		part->mem_bytes = len;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		if (part->store)
			objstore_close(part->store);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return part;
}

/*
 * The rotated centroid of list c (the codes' frame), computed when a query
 * first probes the list: a new backend then rotates the few lists it
 * probes, not all of them, and the untouched rest of the array costs no
 * memory (a large allocation is mapped lazily).
 */
const float *
vlindex_part_crot(VlIndexPart *part, int c)
{
	float	   *r;

	if (part->crot == NULL)
	{
		part->crot = MemoryContextAllocExtended(part->cxt,
												sizeof(float) * (size_t) part->lists * part->pdim,
												MCXT_ALLOC_HUGE);
		part->crot_done = MemoryContextAllocZero(part->cxt, sizeof(bool) * part->lists);
	}
	r = part->crot + (size_t) c * part->pdim;
	if (!part->crot_done[c])
	{
		ivf_rotate(&part->rot, part->centroids + (size_t) c * part->dim, r);
		part->crot_done[c] = true;
		part->mem_bytes += sizeof(float) * part->pdim;
	}
	return r;
}

VlIndexPart *
vlindex_part_get(Relation index, const VlIndexMetaData *meta)
{
	Oid			oid = RelationGetRelid(index);
	ListCell   *lc;
	VlIndexCacheEntry *e;
	VlIndexPart	   *part;

	if (vlindex_cache_cxt == NULL)
		vlindex_cache_cxt = AllocSetContextCreate(TopMemoryContext, "vlake index cache",
											 ALLOCSET_DEFAULT_SIZES);
	foreach(lc, vlindex_cache)
	{
		e = lfirst(lc);
		if (e->indexoid == oid)
		{
			if (e->part->generation == meta->generation &&
				strcmp(e->part->prefix, meta->prefix) == 0 &&
				strcmp(e->part->location, meta->location) == 0)
				return e->part;
			break;
		}
	}
	vlindex_part_forget(oid);
	part = part_load(index, meta);
	e = MemoryContextAlloc(vlindex_cache_cxt, sizeof(VlIndexCacheEntry));
	e->indexoid = oid;
	e->part = part;
	{
		MemoryContext old = MemoryContextSwitchTo(vlindex_cache_cxt);

		vlindex_cache = lappend(vlindex_cache, e);
		MemoryContextSwitchTo(old);
	}
	return part;
}

/* Load the codes of the given lists (those not yet in memory), in one call. */
void
vlindex_part_load_lists(VlIndexPart *part, const int *lists, int n)
{
	ObjRange   *ranges = palloc(sizeof(ObjRange) * Max(n, 1));
	int		   *which = palloc(sizeof(int) * Max(n, 1));
	int			nr = 0;
	uint64		bytes = 0;

	for (int i = 0; i < n; i++)
	{
		int			c = lists[i];
		VlIndexListDir  *d = &part->dir[c];
		uint64		sz;

		if (part->list[c].loaded)
		{
			vlindex_stats.bytes_memory += vlindex_list_block_size(part->words, d->count);
			continue;
		}
		if (d->count == 0)
		{
			part->list[c].loaded = true;
			continue;
		}
		sz = vlindex_list_block_size(part->words, d->count);
		ranges[nr].offset = d->codes_off;
		ranges[nr].length = sz;
		ranges[nr].dest = MemoryContextAllocHuge(part->cxt, sz);
		which[nr] = c;
		bytes += sz;
		nr++;
	}
	if (nr > 0)
	{
		ObjStat		known;

		memset(&known, 0, sizeof(known));
		known.size = part->codes_size;
		strlcpy(known.etag, part->codes_etag, sizeof(known.etag));
		/*
		 * Lists are cached as lists: a cold list costs its own bytes, not the
		 * 64 kB cache blocks around it (1.5-3x at 1M).  Where the disk tier
		 * is off (file:// by default) this is the plain versioned read.
		 */
		objstore_get_ranges_exact(part->store, part_key(part->prefix, VLINDEX_FILE_CODES),
								  &known, ranges, nr);
		vlindex_stats.bytes_fetched += bytes;
		vlindex_stats.round_trips++;
		for (int i = 0; i < nr; i++)
		{
			int			c = which[i];
			VlIndexListDir  *d = &part->dir[c];
			VlIndexList	   *l = &part->list[c];
			pg_crc32c	crc;

			INIT_CRC32C(crc);
			COMP_CRC32C(crc, ranges[i].dest, ranges[i].length);
			FIN_CRC32C(crc);
			if (crc != d->codes_crc)
			{
				pfree(ranges[i].dest);
				corrupt(part, VLINDEX_FILE_CODES, psprintf("Checksum mismatch in list %d.", c));
			}
			l->count = d->count;
			l->codes = (uint64 *) ranges[i].dest;
			l->refs = l->codes + (size_t) d->count * part->words;
			l->factors = (IvfFactor *) (l->refs + d->count);
			l->loaded = true;
			part->mem_bytes += ranges[i].length;
		}
	}
	pfree(ranges);
	pfree(which);
}

/* Fetch re-rank vectors (list, index within list) into out[n][dim], all but
 * their first skip floats (left as they are). */
void
vlindex_part_fetch_vectors(VlIndexPart *part, const int *list, const int *idx, int n,
					  int skip, float *out)
{
	ObjRange   *ranges;
	size_t		vsz = sizeof(float) * part->dim,
				skipsz = sizeof(float) * skip;
	ObjStat		known;

	if (n <= 0)
		return;
	if (part->table_vectors)
		elog(ERROR, "vlake index part \"%s\" has no vectors file", part->prefix);
	ranges = palloc(sizeof(ObjRange) * n);
	for (int i = 0; i < n; i++)
	{
		ranges[i].offset = part->dir[list[i]].vecs_off + (uint64) idx[i] * vsz + skipsz;
		ranges[i].length = vsz - skipsz;
		ranges[i].dest = (char *) (out + (size_t) i * part->dim + skip);
	}
	memset(&known, 0, sizeof(known));
	known.size = part->vectors_size;
	strlcpy(known.etag, part->vectors_etag, sizeof(known.etag));
	objstore_get_ranges_known(part->store, part_key(part->prefix, VLINDEX_FILE_VECS),
							  &known, ranges, n);
	vlindex_stats.bytes_fetched += (vsz - skipsz) * n;
	vlindex_stats.round_trips++;
	pfree(ranges);
}
