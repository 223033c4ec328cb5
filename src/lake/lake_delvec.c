/*
 * lake_delvec.c — delete vectors over 64-bit row IDs (lake_delvec.h):
 * buckets of CRoaring 32-bit bitmaps, the portable 64-bit Roaring format,
 * and a strict validator that runs before CRoaring parses any byte.
 *
 * Backend-light (palloc, ereport, memory-context callbacks), so the unit
 * test links it with the stand-in.  The object-store helpers are in
 * lake_delvec_io.c.
 */
#include "postgres.h"

#include <string.h>

#include "utils/memutils.h"

#include "lake/lake_delvec.h"
#include "lake/lake_error.h"

#include <roaring/roaring.h>

#ifdef WORDS_BIGENDIAN
#error "lake_delvec.c: CRoaring's portable format functions assume a little-endian host"
#endif

struct LakeDelvec
{
	MemoryContext cxt;			/* where highs[] and bitmaps[] live */
	MemoryContextCallback cb;	/* frees the bitmaps at reset/delete */
	int			nbuckets;
	int			capacity;
	uint32	   *highs;			/* strictly ascending */
	roaring_bitmap_t **bitmaps; /* malloc'd by CRoaring; owned here */
	int			last;			/* bucket of the last lookup (sequential adds) */
};

struct LakeDelvecIter
{
	const LakeDelvec *dv;
	int			bucket;
	roaring_uint32_iterator_t it;
};

/* ---------------------------------------------------------- memory ---- */

static void
delvec_release(LakeDelvec *dv)
{
	for (int i = 0; i < dv->nbuckets; i++)
	{
		if (dv->bitmaps[i])
			roaring_bitmap_free(dv->bitmaps[i]);
		dv->bitmaps[i] = NULL;
	}
	dv->nbuckets = 0;
	dv->last = -1;
}

static void
delvec_reset_callback(void *arg)
{
	delvec_release((LakeDelvec *) arg);
}

LakeDelvec *
lake_delvec_create(void)
{
	LakeDelvec *dv = palloc0(sizeof(LakeDelvec));

	dv->cxt = CurrentMemoryContext;
	dv->last = -1;
	dv->cb.func = delvec_reset_callback;
	dv->cb.arg = dv;
	MemoryContextRegisterResetCallback(dv->cxt, &dv->cb);
	return dv;
}

/* Frees the bitmaps and arrays now.  The owner struct stays (its callback
 * is registered and PostgreSQL 15 cannot unregister one) until its context
 * goes; it is then an empty delete vector, and using it again is allowed. */
void
lake_delvec_free(LakeDelvec *dv)
{
	if (dv == NULL)
		return;
	delvec_release(dv);
	if (dv->highs)
		pfree(dv->highs);
	if (dv->bitmaps)
		pfree(dv->bitmaps);
	dv->highs = NULL;
	dv->bitmaps = NULL;
	dv->capacity = 0;
}

/* Room for one more bucket, allocated before CRoaring mallocs anything so
 * that a new bitmap is always stored the moment it exists. */
static void
delvec_reserve(LakeDelvec *dv, int need)
{
	int			cap;

	if (need <= dv->capacity)
		return;
	if (need > LAKE_DELVEC_MAX_BUCKETS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a delete vector cannot span more than %d distinct 2^32 row-ID ranges",
						LAKE_DELVEC_MAX_BUCKETS)));
	cap = Max(8, dv->capacity);
	while (cap < need)
		cap *= 2;
	cap = Min(cap, LAKE_DELVEC_MAX_BUCKETS);
	if (dv->highs == NULL)
	{
		dv->highs = MemoryContextAlloc(dv->cxt, sizeof(uint32) * cap);
		dv->bitmaps = MemoryContextAllocZero(dv->cxt, sizeof(roaring_bitmap_t *) * cap);
	}
	else
	{
		dv->highs = repalloc(dv->highs, sizeof(uint32) * cap);
		dv->bitmaps = repalloc(dv->bitmaps, sizeof(roaring_bitmap_t *) * cap);
	}
	dv->capacity = cap;
}

static roaring_bitmap_t *
delvec_check_alloc(roaring_bitmap_t *bm)
{
	if (bm == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed to allocate a delete vector bitmap.")));
	return bm;
}

/* Index of the bucket of high, or -(insertion point) - 1. */
static int
delvec_find(const LakeDelvec *dv, uint32 high)
{
	int			lo = 0,
				hi = dv->nbuckets - 1;

	if (dv->last >= 0 && dv->last < dv->nbuckets && dv->highs[dv->last] == high)
		return dv->last;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (dv->highs[mid] == high)
			return mid;
		if (dv->highs[mid] < high)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -lo - 1;
}

/* The bucket of high, created (empty, or a copy of init) if missing. */
static roaring_bitmap_t *
delvec_bucket(LakeDelvec *dv, uint32 high, const roaring_bitmap_t *init, bool *created)
{
	int			i = delvec_find(dv, high);

	*created = false;
	if (i < 0)
	{
		i = -i - 1;
		delvec_reserve(dv, dv->nbuckets + 1);
		memmove(&dv->highs[i + 1], &dv->highs[i], sizeof(uint32) * (dv->nbuckets - i));
		memmove(&dv->bitmaps[i + 1], &dv->bitmaps[i],
				sizeof(roaring_bitmap_t *) * (dv->nbuckets - i));
		dv->highs[i] = high;
		dv->bitmaps[i] = NULL;
		dv->nbuckets++;
	}
	dv->last = i;
	if (dv->bitmaps[i] == NULL)
	{
		/* the slot exists before the malloc: an ERROR here leaves a NULL
		 * bitmap, which every reader tolerates and the next call fills */
		dv->bitmaps[i] = delvec_check_alloc(init ? roaring_bitmap_copy(init)
											: roaring_bitmap_create());
		*created = true;
	}
	return dv->bitmaps[i];
}

/* ---------------------------------------------------------- set ops ---- */

void
lake_delvec_add(LakeDelvec *dv, uint64 rowid)
{
	bool		created;

	roaring_bitmap_add(delvec_bucket(dv, (uint32) (rowid >> 32), NULL, &created),
					   (uint32) rowid);
}

void
lake_delvec_add_range(LakeDelvec *dv, uint64 start, uint64 end)
{
	uint64		last;
	uint32		h0,
				h1;

	if (end <= start)
		return;
	last = end - 1;
	h0 = (uint32) (start >> 32);
	h1 = (uint32) (last >> 32);
	if ((uint64) h1 - h0 + 1 > LAKE_DELVEC_MAX_BUCKETS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a delete vector cannot span more than %d distinct 2^32 row-ID ranges",
						LAKE_DELVEC_MAX_BUCKETS)));
	for (uint64 h = h0; h <= h1; h++)
	{
		uint32		lo = (h == h0) ? (uint32) start : 0;
		uint32		hi = (h == h1) ? (uint32) last : PG_UINT32_MAX;
		bool		created;

		roaring_bitmap_add_range_closed(delvec_bucket(dv, (uint32) h, NULL, &created), lo, hi);
	}
}

bool
lake_delvec_contains(const LakeDelvec *dv, uint64 rowid)
{
	int			i = delvec_find(dv, (uint32) (rowid >> 32));

	return i >= 0 && dv->bitmaps[i] && roaring_bitmap_contains(dv->bitmaps[i], (uint32) rowid);
}

uint64
lake_delvec_cardinality(const LakeDelvec *dv)
{
	uint64		n = 0;

	for (int i = 0; i < dv->nbuckets; i++)
		if (dv->bitmaps[i])
			n += roaring_bitmap_get_cardinality(dv->bitmaps[i]);
	return n;
}

bool
lake_delvec_is_empty(const LakeDelvec *dv)
{
	for (int i = 0; i < dv->nbuckets; i++)
		if (dv->bitmaps[i] && !roaring_bitmap_is_empty(dv->bitmaps[i]))
			return false;
	return true;
}

void
lake_delvec_union(LakeDelvec *dst, const LakeDelvec *src)
{
	if (dst == src)
		return;
	for (int i = 0; i < src->nbuckets; i++)
	{
		roaring_bitmap_t *s = src->bitmaps[i];
		roaring_bitmap_t *d;
		bool		created;

		if (s == NULL || roaring_bitmap_is_empty(s))
			continue;
		d = delvec_bucket(dst, src->highs[i], s, &created);
		if (!created)
			roaring_bitmap_or_inplace(d, s);
	}
}

/* -------------------------------------------------------- iteration ---- */

static void
iter_seek(LakeDelvecIter *it)
{
	const LakeDelvec *dv = it->dv;

	while (it->bucket < dv->nbuckets)
	{
		if (dv->bitmaps[it->bucket])
		{
			roaring_init_iterator(dv->bitmaps[it->bucket], &it->it);
			if (it->it.has_value)
				return;
		}
		it->bucket++;
	}
	it->it.has_value = false;
}

LakeDelvecIter *
lake_delvec_iter_begin(const LakeDelvec *dv)
{
	LakeDelvecIter *it = palloc0(sizeof(LakeDelvecIter));

	it->dv = dv;
	it->bucket = 0;
	iter_seek(it);
	return it;
}

bool
lake_delvec_iter_next(LakeDelvecIter *it, uint64 *rowid)
{
	if (it->bucket >= it->dv->nbuckets)
		return false;
	*rowid = ((uint64) it->dv->highs[it->bucket] << 32) | it->it.current_value;
	if (!roaring_advance_uint32_iterator(&it->it))
	{
		it->bucket++;
		iter_seek(it);
	}
	return true;
}

size_t
lake_delvec_iter_next_many(LakeDelvecIter *it, uint64 *out, size_t n)
{
	size_t		done = 0;
	uint32		tmp[1024];

	while (done < n && it->bucket < it->dv->nbuckets)
	{
		uint64		high = (uint64) it->dv->highs[it->bucket] << 32;
		uint32		want = (uint32) Min(n - done, lengthof(tmp));
		uint32		got = roaring_read_uint32_iterator(&it->it, tmp, want);

		for (uint32 k = 0; k < got; k++)
			out[done + k] = high | tmp[k];
		done += got;
		if (!it->it.has_value)
		{
			it->bucket++;
			iter_seek(it);
		}
	}
	return done;
}

void
lake_delvec_iter_end(LakeDelvecIter *it)
{
	if (it)
		pfree(it);
}

/* ------------------------------------------------------ serialization ---- */

static inline void
put_le32(char *p, uint32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char) (v >> (8 * i));
}

static inline void
put_le64(char *p, uint64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (char) (v >> (8 * i));
}

static inline uint16
get_le16(const unsigned char *p)
{
	return (uint16) (p[0] | (p[1] << 8));
}

static inline uint32
get_le32(const unsigned char *p)
{
	return (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

static inline uint64
get_le64(const unsigned char *p)
{
	return (uint64) get_le32(p) | ((uint64) get_le32(p + 4) << 32);
}

char *
lake_delvec_serialize(LakeDelvec *dv, size_t *len)
{
	uint64		total = 8;
	uint64		nonempty = 0;
	char	   *buf;
	char	   *p;

	for (int i = 0; i < dv->nbuckets; i++)
	{
		roaring_bitmap_t *bm = dv->bitmaps[i];

		if (bm == NULL || roaring_bitmap_is_empty(bm))
			continue;
		roaring_bitmap_run_optimize(bm);
		total += 4 + roaring_bitmap_portable_size_in_bytes(bm);
		nonempty++;
	}
	if (total > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("delete vector too large to serialize: %llu bytes (the limit is %zu)",
						(unsigned long long) total, (size_t) MaxAllocSize)));
	buf = palloc(total);
	put_le64(buf, nonempty);
	p = buf + 8;
	for (int i = 0; i < dv->nbuckets; i++)
	{
		roaring_bitmap_t *bm = dv->bitmaps[i];
		size_t		want,
					wrote;

		if (bm == NULL || roaring_bitmap_is_empty(bm))
			continue;
		want = roaring_bitmap_portable_size_in_bytes(bm);
		put_le32(p, dv->highs[i]);
		p += 4;
		wrote = roaring_bitmap_portable_serialize(bm, p);
		if (wrote != want)
			elog(ERROR, "CRoaring wrote %zu bytes for a bitmap of %zu", wrote, want);
		p += wrote;
	}
	Assert((uint64) (p - buf) == total);
	*len = total;
	return buf;
}

/* ------------------------------------------------------ deserialization ---- */

/* RoaringFormatSpec, "Standard 32-bit Roaring Bitmap" */
#define SERIAL_COOKIE_NO_RUNCONTAINER 12346
#define SERIAL_COOKIE 12347
#define NO_OFFSET_THRESHOLD 4
#define MAX_CONTAINERS 65536
#define ARRAY_MAX_CARD 4096
#define BITSET_BYTES 8192

typedef struct DelvecParse
{
	const unsigned char *buf;
	size_t		len;
	const char *uri;
	uint64		bucket;			/* which bucket is being parsed */
	bool		in_bucket;
} DelvecParse;

static void delvec_bad(const DelvecParse *ps, size_t offset, const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();

static void
delvec_bad(const DelvecParse *ps, size_t offset, const char *fmt,...)
{
	LakeErrorContext ctx = {0};
	va_list		ap;

	ctx.what = LAKE_DELVEC_WHAT;
	ctx.object = ps->uri ? ps->uri : "(buffer)";
	if (ps->in_bucket)
		ctx.where = psprintf("at byte offset %zu, in bucket %llu", offset,
							 (unsigned long long) ps->bucket);
	else
		ctx.where = psprintf("at byte offset %zu", offset);
	va_start(ap, fmt);
	lake_vreport(LAKE_CORRUPT, &ctx, fmt, ap);
	va_end(ap);
}

/* Needs n more bytes at pos (n may be huge: no overflow). */
static inline void
need(const DelvecParse *ps, size_t pos, uint64 n, const char *what)
{
	if (pos > ps->len || n > ps->len - pos)
		delvec_bad(ps, pos, "truncated: %llu bytes of %s expected, %zu remain",
				   (unsigned long long) n, what, pos > ps->len ? 0 : ps->len - pos);
}

/*
 * Validates the 32-bit portable bitmap at pos; returns its size.  Checks
 * what the format requires and what CRoaring (and other readers) rely on
 * without checking: container count, strictly ascending keys, header
 * cardinalities, offsets, sorted unique array values, bitset population
 * counts, sorted non-overlapping in-range runs.
 */
static size_t
validate_bitmap32(const DelvecParse *ps, size_t start)
{
	const unsigned char *b = ps->buf;
	size_t		pos = start;
	uint32		cookie;
	uint32		size;
	bool		hasrun;
	const unsigned char *runflags = NULL;
	const unsigned char *desc;
	const unsigned char *offsets = NULL;

	need(ps, pos, 4, "the bitmap cookie");
	cookie = get_le32(b + pos);
	if (cookie == SERIAL_COOKIE_NO_RUNCONTAINER)
	{
		hasrun = false;
		need(ps, pos + 4, 4, "the container count");
		size = get_le32(b + pos + 4);
		if (size > MAX_CONTAINERS)
			delvec_bad(ps, pos + 4, "bitmap has %u containers (at most %d)", size, MAX_CONTAINERS);
		pos += 8;
	}
	else if ((cookie & 0xFFFF) == SERIAL_COOKIE)
	{
		hasrun = true;
		size = (cookie >> 16) + 1;
		pos += 4;
		need(ps, pos, (size + 7) / 8, "the run-container flags");
		runflags = b + pos;
		pos += (size + 7) / 8;
	}
	else
		delvec_bad(ps, pos, "not a portable Roaring bitmap (cookie 0x%08x)", cookie);

	need(ps, pos, (uint64) size * 4, "the descriptive header");
	desc = b + pos;
	pos += (size_t) size * 4;
	if (!hasrun || size >= NO_OFFSET_THRESHOLD)
	{
		need(ps, pos, (uint64) size * 4, "the offset header");
		offsets = b + pos;
		pos += (size_t) size * 4;
	}

	for (uint32 i = 0; i < size; i++)
	{
		uint16		key = get_le16(desc + 4 * i);
		uint32		card = (uint32) get_le16(desc + 4 * i + 2) + 1;
		bool		isrun = hasrun && (runflags[i / 8] & (1 << (i % 8)));
		size_t		cstart = pos;

		if (i > 0 && key <= get_le16(desc + 4 * (i - 1)))
			delvec_bad(ps, (desc - b) + 4 * i,
					   "container keys not strictly ascending (%u after %u)",
					   key, get_le16(desc + 4 * (i - 1)));
		if (offsets && get_le32(offsets + 4 * i) != cstart - start)
			delvec_bad(ps, (offsets - b) + 4 * i,
					   "container %u offset %u, but it starts at %zu", i,
					   get_le32(offsets + 4 * i), cstart - start);
		if (isrun)
		{
			uint32		nruns;
			uint32		total = 0;
			int64		prev_last = -1;

			need(ps, pos, 2, "a run count");
			nruns = get_le16(b + pos);
			if (nruns == 0)
				delvec_bad(ps, pos, "run container %u has no runs", i);
			pos += 2;
			need(ps, pos, (uint64) nruns * 4, "the runs");
			for (uint32 r = 0; r < nruns; r++)
			{
				uint32		rs = get_le16(b + pos + 4 * r);
				uint32		rl = get_le16(b + pos + 4 * r + 2);

				if ((int64) rs <= prev_last)
					delvec_bad(ps, pos + 4 * r, "runs of container %u unsorted or overlapping", i);
				if (rs + rl > 0xFFFF)
					delvec_bad(ps, pos + 4 * r, "run of container %u passes 65535", i);
				prev_last = rs + rl;
				total += rl + 1;
			}
			if (total != card)
				delvec_bad(ps, (desc - b) + 4 * i + 2,
						   "container %u has cardinality %u in the header, %u in its runs",
						   i, card, total);
			pos += (size_t) nruns * 4;
		}
		else if (card <= ARRAY_MAX_CARD)
		{
			need(ps, pos, (uint64) card * 2, "an array container");
			for (uint32 k = 1; k < card; k++)
				if (get_le16(b + pos + 2 * k) <= get_le16(b + pos + 2 * (k - 1)))
					delvec_bad(ps, pos + 2 * k,
							   "values of array container %u not strictly ascending", i);
			pos += (size_t) card * 2;
		}
		else
		{
			uint32		pop = 0;

			need(ps, pos, BITSET_BYTES, "a bitset container");
			for (int w = 0; w < BITSET_BYTES / 8; w++)
			{
				uint64		word;

				memcpy(&word, b + pos + 8 * w, 8);	/* little-endian host */
				pop += __builtin_popcountll(word);
			}
			if (pop != card)
				delvec_bad(ps, (desc - b) + 4 * i + 2,
						   "container %u has cardinality %u in the header, %u bits set",
						   i, card, pop);
			pos += BITSET_BYTES;
		}
	}
	return pos - start;
}

LakeDelvec *
lake_delvec_deserialize(const char *buf, size_t len, const char *uri)
{
	DelvecParse ps = {(const unsigned char *) buf, len, uri, 0, false};
	LakeDelvec *dv;
	uint64		count;
	size_t		pos;

	need(&ps, 0, 8, "the bucket count");
	count = get_le64(ps.buf);
	/* each bucket takes at least 4 (high bits) + 8 (empty bitmap) bytes */
	if (count > (len - 8) / 12)
		delvec_bad(&ps, 0, "%llu buckets cannot fit in %zu bytes",
				   (unsigned long long) count, len);
	if (count > LAKE_DELVEC_MAX_BUCKETS)
		lake_report(LAKE_UNSUPPORTED,
					&(LakeErrorContext) {.what = LAKE_DELVEC_WHAT, .object = uri ? uri : "(buffer)"},
					"%llu buckets (at most %d)", (unsigned long long) count,
					LAKE_DELVEC_MAX_BUCKETS);

	dv = lake_delvec_create();
	delvec_reserve(dv, (int) Max(count, 1));
	pos = 8;
	for (uint64 i = 0; i < count; i++)
	{
		uint32		high;
		size_t		sz;
		roaring_bitmap_t *bm;

		ps.bucket = i;
		ps.in_bucket = true;
		need(&ps, pos, 4, "the bucket's high bits");
		high = get_le32(ps.buf + pos);
		if (dv->nbuckets > 0 && high <= dv->highs[dv->nbuckets - 1])
			delvec_bad(&ps, pos, "bucket high bits not strictly ascending (%u after %u)",
					   high, dv->highs[dv->nbuckets - 1]);
		pos += 4;
		sz = validate_bitmap32(&ps, pos);
		/* an empty bucket (allowed, not written by vlake) is dropped, but
		 * still orders the keys */
		if (get_le32(ps.buf + pos) == SERIAL_COOKIE_NO_RUNCONTAINER &&
			get_le32(ps.buf + pos + 4) == 0)
		{
			dv->highs[dv->nbuckets] = high;
			dv->bitmaps[dv->nbuckets] = NULL;
			dv->nbuckets++;
			pos += sz;
			continue;
		}
		if (roaring_bitmap_portable_deserialize_size(buf + pos, sz) != sz)
			delvec_bad(&ps, pos, "CRoaring disagrees about the bitmap's size (%zu bytes)", sz);
		bm = roaring_bitmap_portable_deserialize_safe(buf + pos, sz);
		if (bm == NULL)
			delvec_bad(&ps, pos, "CRoaring cannot read the bitmap (%zu bytes)", sz);
		dv->highs[dv->nbuckets] = high;
		dv->bitmaps[dv->nbuckets] = bm;
		dv->nbuckets++;
		pos += sz;
	}
	ps.in_bucket = false;
	if (pos != len)
		delvec_bad(&ps, pos, "%zu trailing bytes after %llu buckets", len - pos,
				   (unsigned long long) count);

	/* drop the empty buckets */
	{
		int			j = 0;

		for (int i = 0; i < dv->nbuckets; i++)
			if (dv->bitmaps[i])
			{
				dv->highs[j] = dv->highs[i];
				dv->bitmaps[j] = dv->bitmaps[i];
				j++;
			}
		dv->nbuckets = j;
	}
	return dv;
}
