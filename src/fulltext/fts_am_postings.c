/*
 * fts_am_postings.c — the vlake_bm25 access method over the postings
 * engine: memory and errors in a backend, lake parts, the delta decoded into
 * an image, tombstones, and the per-backend cache of an index's sources.
 */
#include "postgres.h"

#include "access/genam.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "objstore/objstore.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fulltext/fts_am_postings.h"
#include "lake/lake_error.h"
#include "lake/lake_rowref.h"

/* ---- memory and errors ---- */

static void *
am_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, Max(size, 1), MCXT_ALLOC_HUGE);
}

static void *
am_realloc(void *arg, void *ptr, size_t old_size, size_t new_size)
{
	if (ptr == NULL)
		return am_alloc(arg, new_size);
	return repalloc_huge(ptr, Max(new_size, 1));
}

static void
am_free(void *arg, void *ptr)
{
	if (ptr)
		pfree(ptr);
}

/* Memory of whatever context is current at the call: a search's cursors. */
static void *
current_alloc(void *arg, size_t size)
{
	return palloc_extended(Max(size, 1), MCXT_ALLOC_HUGE);
}

static const FtsAlloc current_cxt_alloc = {current_alloc, am_realloc, am_free, NULL};

void
fts_am_alloc_init(FtsAlloc *a, MemoryContext cxt)
{
	a->alloc = am_alloc;
	a->realloc = am_realloc;
	a->free = am_free;
	a->arg = cxt;
}

void
fts_am_postings_error(Relation index, const char *what, const FtsPostingsError *err)
{
	switch (err->code)
	{
		case FTSP_LIMIT:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("vlake_bm25 index \"%s\" needs more memory than maintenance_work_mem",
							RelationGetRelationName(index)),
					 errdetail("%s", err->message),
					 errhint("Raise maintenance_work_mem.")));
			break;
		case FTSP_CORRUPT:
		case FTSP_VERSION:
			lake_corrupt("vlake_bm25 postings", what, "%s", err->message);
			break;
		case FTSP_NOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory in vlake_bm25 index \"%s\"", RelationGetRelationName(index)),
					 errdetail("%s", err->message)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("vlake_bm25 index \"%s\": %s", RelationGetRelationName(index),
							err->message)));
	}
}

/* ---- building images ---- */

static void
builder_token(FtsDocSink *s, const char *term, size_t len, uint32 position)
{
	FtsAmBuilder *b = (FtsAmBuilder *) s;
	FtsPostingsError err;
	int			rc;

	if (b->impact)
	{
		/* a sparsevec element: position holds the float's bits */
		float		v;

		memcpy(&v, &position, sizeof(v));
		rc = fts_postings_add_impact(b->b, term, len, (double) v, &err);
	}
	else
		rc = fts_postings_add_token(b->b, term, len, position, &err);
	if (rc != FTSP_OK)
		fts_am_postings_error(b->index, RelationGetRelationName(b->index), &err);
}

/* Memory a build may hold: maintenance_work_mem, at least 256 MB. */
static size_t
build_mem_limit(void)
{
	return Max((size_t) maintenance_work_mem * 1024, (size_t) 256 * 1024 * 1024);
}

FtsAmBuilder *
fts_am_builder_create(Relation index, const FtsIndexSettings *s)
{
	FtsAmBuilder *b = palloc0(sizeof(FtsAmBuilder));
	FtsPostingsError err;

	b->sink.token = builder_token;
	b->index = index;
	fts_am_alloc_init(&b->alloc, CurrentMemoryContext);
	b->impact = s->params.impact;
	if (b->impact)
		b->b = fts_postings_builder_create_impact(&b->alloc, build_mem_limit(), &err);
	else
		b->b = fts_postings_builder_create(&b->alloc, s->nfields, s->weights, build_mem_limit(), &err);
	if (b->b == NULL)
		fts_am_postings_error(index, RelationGetRelationName(index), &err);
	return b;
}

void
fts_am_builder_begin(FtsAmBuilder *b, uint64 ref)
{
	FtsPostingsError err;

	CHECK_FOR_INTERRUPTS();
	if (fts_postings_begin_doc(b->b, ref, &err) != FTSP_OK)
		fts_am_postings_error(b->index, RelationGetRelationName(b->index), &err);
}

void
fts_am_builder_end(FtsAmBuilder *b, uint32 doclen)
{
	FtsPostingsError err;

	if (fts_postings_end_doc(b->b, doclen, &err) != FTSP_OK)
		fts_am_postings_error(b->index, RelationGetRelationName(b->index), &err);
}

static char *
part_key(const char *prefix)
{
	return psprintf("%s/%s", prefix, FTS_FILE_POSTINGS);
}

void
fts_am_write_image(Relation index, const uint8 *image, size_t size, const char *location,
				   char *prefix_out, uint64 *size_out, char *etag_out)
{
	ObjStore   *store = objstore_open(location);
	char	   *prefix = lake_part_new_prefix(&fts_part_kind, RelationGetRelid(index));
	ObjStat		st;

	/* part.birth first: GC can find a crashed write */
	lake_part_begin(store, prefix, &fts_part_kind);
	objstore_put(store, part_key(prefix), (const char *) image, size);
	if (!objstore_head(store, part_key(prefix), &st) || st.size != (uint64) size)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("vlake_bm25 file \"%s\" does not have the size just written",
						objstore_uri(store, part_key(prefix)))));
	strlcpy(prefix_out, prefix, LAKE_PREFIX_MAX);
	strlcpy(etag_out, st.etag, 128);
	*size_out = st.size;
	objstore_close(store);
}

void
fts_am_write_part(Relation index, FtsAmBuilder *b, const char *location,
				  char *prefix_out, uint64 *size_out, char *etag_out, uint64 *docs_out)
{
	uint8	   *image;
	size_t		size;
	FtsPostingsError err;

	*docs_out = fts_postings_builder_ndocs(b->b);
	if (fts_postings_builder_finish(b->b, &image, &size, &err) != FTSP_OK)
		fts_am_postings_error(b->index, RelationGetRelationName(b->index), &err);
	fts_am_write_image(index, image, size, location, prefix_out, size_out, etag_out);
	pfree(image);
}

/* ---- the delta log ---- */

static void
bad_delta(Relation index, uint64 offset, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("delta log of index \"%s\" is corrupt at byte %llu: %s",
					RelationGetRelationName(index), (unsigned long long) offset, why),
			 errhint("REINDEX it.")));
}

/* Decode the delta log bytes into records; calls fn per document. */
typedef void (*FtsDeltaFn) (void *arg, uint64 offset, const FtsDeltaHeader *h,
							const char *tokens, size_t len);

static void
delta_decode(Relation index, const char *bytes, uint64 len, uint64 base,
			 FtsDeltaFn fn, void *arg)
{
	uint64		off = 0;

	while (off < len)
	{
		uint32		rlen;
		FtsDeltaHeader h;
		const char *p;
		uint64		need;

		CHECK_FOR_INTERRUPTS();
		if (len - off < sizeof(rlen))
			bad_delta(index, base + off, "truncated record length");
		memcpy(&rlen, bytes + off, sizeof(rlen));
		if (rlen < sizeof(h) || rlen > len - off - sizeof(rlen))
			bad_delta(index, base + off, "record length out of bounds");
		p = bytes + off + sizeof(rlen);
		memcpy(&h, p, sizeof(h));
		/* each token takes at least 2 + 1 + 4 bytes */
		need = (uint64) h.ntokens * 7;
		if (need > rlen - sizeof(h))
			bad_delta(index, base + off, "token count out of bounds");
		fn(arg, base + off, &h, p + sizeof(h), rlen - sizeof(h));
		off += sizeof(rlen) + rlen;
	}
}

typedef struct DeltaBuild
{
	Relation	index;
	FtsAmBuilder *b;
	uint64	   *offsets;
	uint64		n;
} DeltaBuild;

static void
delta_doc(void *arg, uint64 offset, const FtsDeltaHeader *h, const char *tok, size_t len)
{
	DeltaBuild *d = arg;
	size_t		off = 0;

	fts_am_builder_begin(d->b, h->ref);
	for (uint32 i = 0; i < h->ntokens; i++)
	{
		uint16		tl;
		uint32		pos;

		if (len - off < sizeof(tl))
			bad_delta(d->index, offset, "truncated token");
		memcpy(&tl, tok + off, sizeof(tl));
		if (tl == 0 || len - off - sizeof(tl) < (size_t) tl + sizeof(pos))
			bad_delta(d->index, offset, "token out of bounds");
		memcpy(&pos, tok + off + sizeof(tl) + tl, sizeof(pos));
		d->b->sink.token(&d->b->sink, tok + off + sizeof(tl), tl, pos);
		off += sizeof(tl) + tl + sizeof(pos);
	}
	if (off != len)
		bad_delta(d->index, offset, "trailing bytes in record");
	fts_am_builder_end(d->b, h->doclen);
	d->offsets[d->n++] = offset;
}

/* ---- tombstones ---- */


typedef struct AmSource
{
	FtsSource	src;			/* first: the engine's callbacks cast back */
	bool		(*engine_deleted) (FtsSource *s, uint64_t doc);
	const uint64 *tombs;		/* sorted: refs (part) or log offsets (delta) */
	uint64		ntombs;
	const uint64 *delta_offsets;	/* delta: log offset per document */
} AmSource;

static bool
am_deleted(FtsSource *s, uint64_t doc)
{
	AmSource   *a = (AmSource *) s;
	uint64		key;

	/* the query core asks this for every candidate: a long search stays cancellable */
	CHECK_FOR_INTERRUPTS();
	if (a->ntombs == 0)
		return false;
	key = a->delta_offsets ? a->delta_offsets[doc] : s->doc_ref(s, doc);
	return bsearch(&key, a->tombs, a->ntombs, sizeof(uint64), lake_rowref_cmp) != NULL;
}

/* ---- the cache of sources ---- */

typedef struct CacheEntry
{
	Oid			indexoid;
	bool		valid;
	MemoryContext part_cxt;		/* the part image and reader */
	MemoryContext delta_cxt;	/* delta image, tombstones, sources */
	FtsPostingsReader *part;
	uint8	   *part_image;
	uint64		generation;
	char		prefix[LAKE_PREFIX_MAX];
	FtsAmSources s;
} CacheEntry;

#define FTS_CACHE_SIZE 8
static CacheEntry cache[FTS_CACHE_SIZE];
static MemoryContext cache_cxt = NULL;
static int	cache_clock = 0;

static void
corrupt_list(void *arg, const FtsPostingsError *err)
{
	lake_corrupt("vlake_bm25 postings", (const char *) arg, "%s", err->message);
}

static FtsPostingsReader *
open_image(Relation index, const FtsAlloc *a, const uint8 *image, size_t size, const char *what)
{
	FtsPostingsError err;
	FtsPostingsReader *r = fts_postings_open(a, image, size, 0, &err);

	if (r == NULL)
		fts_am_postings_error(index, what, &err);
	fts_postings_set_error_callback(r, corrupt_list, (void *) what);
	/*
	 * The reader is cached across queries; each search's cursors go to the
	 * memory context current while it runs (a scan's, a call's), not to the
	 * cache, where they would pile up until the part changes.
	 */
	fts_postings_set_cursor_alloc(r, &current_cxt_alloc);
	return r;
}

static void
load_part(Relation index, CacheEntry *e, const FtsMetaData *m)
{
	MemoryContext old;
	FtsAlloc	a;
	ObjStore   *store;
	char	   *key;
	char	   *uri;
	uint64		len;
	char	   *buf;

	if (e->part_cxt)
		MemoryContextDelete(e->part_cxt);
	e->part_cxt = AllocSetContextCreate(cache_cxt, "vlake_bm25 part", ALLOCSET_DEFAULT_SIZES);
	e->part = NULL;
	e->prefix[0] = '\0';
	old = MemoryContextSwitchTo(e->part_cxt);
	store = objstore_open(m->location);
	key = part_key(m->prefix);
	uri = objstore_uri(store, key);
	buf = objstore_get(store, key, &len);
	if (len != m->part_size)
		lake_corrupt("vlake_bm25 postings", uri, "it has %llu bytes, the index wrote %llu",
					 (unsigned long long) len, (unsigned long long) m->part_size);
	fts_am_alloc_init(&a, e->part_cxt);
	e->part = open_image(index, &a, (const uint8 *) buf, len, uri);
	e->part_image = (uint8 *) buf;
	objstore_close(store);
	MemoryContextSwitchTo(old);
	e->generation = m->generation;
	strlcpy(e->prefix, m->prefix, sizeof(e->prefix));
}

static FtsSource *
wrap_source(FtsSource *engine, const uint64 *tombs, uint64 ntombs, const uint64 *offsets)
{
	AmSource   *a = palloc0(sizeof(AmSource));

	a->src = *engine;
	a->src.deleted = am_deleted;
	a->tombs = tombs;
	a->ntombs = ntombs;
	a->delta_offsets = offsets;
	return &a->src;
}

static bool
entry_current(CacheEntry *e, const FtsMetaData *m)
{
	return e->valid && e->s.meta.generation == m->generation &&
		strcmp(e->s.meta.prefix, m->prefix) == 0 &&
		e->s.meta.delta.bytes == m->delta.bytes && e->s.meta.delta.start == m->delta.start &&
		e->s.meta.tomb.bytes == m->tomb.bytes && e->s.meta.tomb.start == m->tomb.start &&
		e->s.meta.delta.head == m->delta.head && e->s.meta.tomb.head == m->tomb.head;
}

/* Build the delta image, tombstones and the sources of e for meta m. */
static void
load_delta(Relation index, CacheEntry *e, const FtsMetaData *m)
{
	MemoryContext old;
	uint64	   *part_tombs,
			   *delta_tombs;
	uint64		npart_tombs = 0,
				ndelta_tombs = 0;
	FtsAmSources *s = &e->s;
	double		ndocs = 0,
				ntokens = 0;

	if (e->delta_cxt)
		MemoryContextDelete(e->delta_cxt);
	e->delta_cxt = AllocSetContextCreate(cache_cxt, "vlake_bm25 delta", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(e->delta_cxt);
	memset(s, 0, sizeof(*s));
	memcpy(&s->meta, m, sizeof(*m));
	fts_am_settings(index, m, &s->settings);

	/* tombstones: two sorted arrays */
	{
		uint64		len = m->tomb.bytes - m->tomb.start;
		char	   *bytes = fts_log_read(index, &m->tomb, FTS_LOG_TOMB, m->generation);
		uint64		off = 0;

		part_tombs = palloc(Max(len, 8));
		delta_tombs = palloc(Max(len, 8));
		while (off < len)
		{
			uint32		rlen;
			uint64		t;

			if (len - off < sizeof(rlen) + sizeof(t))
				bad_delta(index, m->tomb.start + off, "truncated tombstone");
			memcpy(&rlen, bytes + off, sizeof(rlen));
			if (rlen % sizeof(uint64) != 0 || rlen > len - off - sizeof(rlen))
				bad_delta(index, m->tomb.start + off, "tombstone record out of bounds");
			for (uint32 i = 0; i < rlen / sizeof(uint64); i++)
			{
				memcpy(&t, bytes + off + sizeof(rlen) + i * sizeof(uint64), sizeof(t));
				if (t & FTS_TOMB_DELTA)
					delta_tombs[ndelta_tombs++] = t & ~FTS_TOMB_DELTA;
				else
					part_tombs[npart_tombs++] = t;
			}
			off += sizeof(rlen) + rlen;
		}
		qsort(part_tombs, npart_tombs, sizeof(uint64), lake_rowref_cmp);
		qsort(delta_tombs, ndelta_tombs, sizeof(uint64), lake_rowref_cmp);
	}

	if (e->part)
	{
		s->readers[s->nsources] = e->part;
		s->sources[s->nsources++] = wrap_source(fts_postings_source(e->part), part_tombs,
												npart_tombs, NULL);
	}
	if (m->delta.bytes > m->delta.start)
	{
		char	   *bytes = fts_log_read(index, &m->delta, FTS_LOG_DELTA, m->generation);
		DeltaBuild	d;
		uint8	   *image;
		size_t		size;
		FtsPostingsError err;
		FtsAlloc	a;

		memset(&d, 0, sizeof(d));
		d.index = index;
		d.b = fts_am_builder_create(index, &s->settings);
		d.offsets = palloc_extended(sizeof(uint64) * Max(m->delta.records, 1), MCXT_ALLOC_HUGE);
		/* records counts what the log holds; decode checks it is not exceeded */
		delta_decode(index, bytes, m->delta.bytes - m->delta.start, m->delta.start,
							delta_doc, &d);
		if (fts_postings_builder_finish(d.b->b, &image, &size, &err) != FTSP_OK)
			fts_am_postings_error(index, RelationGetRelationName(index), &err);
		fts_am_alloc_init(&a, e->delta_cxt);
		s->readers[s->nsources] = open_image(index, &a, image, size,
											 psprintf("delta of index \"%s\"",
													  RelationGetRelationName(index)));
		s->delta_offsets = d.offsets;
		s->sources[s->nsources] = wrap_source(fts_postings_source(s->readers[s->nsources]),
											  delta_tombs, ndelta_tombs, d.offsets);
		s->nsources++;
	}
	for (int i = 0; i < s->nsources; i++)
	{
		ndocs += s->sources[i]->ndocs;
		ntokens += s->sources[i]->ntokens;
	}
	s->settings.params.ndocs = ndocs;
	s->settings.params.avgdl = ndocs > 0 && ntokens > 0 ? ntokens / ndocs : 1.0;
	MemoryContextSwitchTo(old);
}

FtsAmSources *
fts_am_get_sources(Relation index)
{
	Oid			oid = RelationGetRelid(index);
	FtsMetaData m;
	CacheEntry *e = NULL;

	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "vlake_bm25 cache",
										  ALLOCSET_DEFAULT_SIZES);
	fts_meta_read(index, &m);
	for (int i = 0; i < FTS_CACHE_SIZE; i++)
		if (cache[i].indexoid == oid)
			e = &cache[i];
	if (e == NULL)
	{
		/* evict round-robin */
		e = &cache[cache_clock++ % FTS_CACHE_SIZE];
		if (e->part_cxt)
			MemoryContextDelete(e->part_cxt);
		if (e->delta_cxt)
			MemoryContextDelete(e->delta_cxt);
		memset(e, 0, sizeof(*e));
		e->indexoid = oid;
	}
	if (entry_current(e, &m))
	{
		/* k1, b, idf may have changed (ALTER INDEX ... SET) */
		FtsIndexSettings now;

		fts_am_settings(index, &m, &now);
		e->s.settings.params.k1 = now.params.k1;
		e->s.settings.params.b = now.params.b;
		e->s.settings.params.idf = now.params.idf;
		return &e->s;
	}
	e->valid = false;
	if (m.prefix[0] == '\0')
	{
		if (e->part_cxt)
			MemoryContextDelete(e->part_cxt);
		e->part_cxt = NULL;
		e->part = NULL;
		e->prefix[0] = '\0';
	}
	else if (e->part == NULL || e->generation != m.generation || strcmp(e->prefix, m.prefix) != 0)
		load_part(index, e, &m);
	load_delta(index, e, &m);
	e->valid = true;
	return &e->s;
}

/* fts_am.h: for the operators outside an index scan. */
int
fts_am_sources(Oid indexoid, FtsIndexSettings *settings, FtsSource ***sources)
{
	Relation	index = index_open(indexoid, AccessShareLock);
	FtsAmSources *s;

	if (index->rd_rel->relam != get_index_am_oid(FTS_AM_NAME, false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vlake_bm25 index", RelationGetRelationName(index))));
	s = fts_am_get_sources(index);
	index_close(index, NoLock);
	*settings = s->settings;
	*sources = s->sources;
	return s->nsources;
}
