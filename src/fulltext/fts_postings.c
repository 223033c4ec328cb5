/*
 * fts_postings.c — the postings engine of the BM25 index (fts_postings.h;
 * the byte layout is docs/bm25-format.md, which this file must match).
 *
 * Builder: tokens of the current document are collected as (term id,
 * position) pairs, sorted at end_doc and appended to each term's raw
 * stream (doc gap, position count, position gaps: varints).  finish
 * re-encodes every term, in byte order, into blocks of 128 postings with
 * their block-max metadata, and writes the image: header, postings,
 * dictionary, term bytes, documents.  The postings come first so that both
 * the builder and the merge can write them as they go and append the small
 * sections after (no second copy of the large one).
 *
 * Reader: checks the header, every section's bounds and CRC-32C, the
 * dictionary and the document table at open; a posting list is checked in
 * full (every varint, doc ids, block metadata, positions) before its first
 * cursor is made, so cursors decode trusted bytes.  Decoding still never
 * reads past the list it was given (every read is bounded by an end
 * pointer).
 *
 * Everything little-endian, read with memcpy (no alignment assumed).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fulltext/fts_postings.h"

#define HEADER_FIXED 160		/* bytes before the field weights */
#define NSECTIONS 4
#define SEC_POSTINGS 0
#define SEC_DICT 1
#define SEC_TERMS 2
#define SEC_DOCS 3
#define DICT_ENTRY 40
#define SKIP_ENTRY 24
#define DOC_ENTRY 12			/* ref (8) + |d| (4) */
#define FLAG_POSITIONS 0x1
#define FLAG_IMPACTS 0x2		/* an f64 impact per posting, no positions (sparse vectors) */
#define VARINT_MAX 5

static const char *const section_names[NSECTIONS] = {"postings", "dictionary", "terms", "documents"};

/* ------------------------------------------------------------ helpers -- */

static int	set_error(FtsPostingsError *err, int code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

static int
set_error(FtsPostingsError *err, int code, const char *fmt,...)
{
	if (err)
	{
		va_list		ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t) v);
	put32(p + 4, (uint32_t) (v >> 32));
}

static inline void
putf64(uint8_t *p, double d)
{
	uint64_t	v;

	memcpy(&v, &d, 8);
	put64(p, v);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline uint64_t
get64(const uint8_t *p)
{
	return (uint64_t) get32(p) | (uint64_t) get32(p + 4) << 32;
}

static inline double
getf64(const uint8_t *p)
{
	uint64_t	v = get64(p);
	double		d;

	memcpy(&d, &v, 8);
	return d;
}

static inline int
varint_put(uint8_t *p, uint32_t v)
{
	int			n = 0;

	while (v >= 0x80)
	{
		p[n++] = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t) v;
	return n;
}

/* A LEB128 uint32 at *pp (< end): false when truncated, overlong or > 2^32-1. */
static inline bool
varint_get(const uint8_t **pp, const uint8_t *end, uint32_t *out)
{
	const uint8_t *p = *pp;
	uint64_t	v = 0;

	for (int i = 0; i < VARINT_MAX; i++)
	{
		if (p >= end)
			return false;
		v |= (uint64_t) (*p & 0x7f) << (7 * i);
		if (!(*p++ & 0x80))
		{
			if (v > UINT32_MAX)
				return false;
			*pp = p;
			*out = (uint32_t) v;
			return true;
		}
	}
	return false;
}

/* ----------------------------------------------------------- CRC-32C -- */

/*
 * CRC-32C (Castagnoli), the checksum PostgreSQL's pg_crc32c and the vector
 * index use (initial and final XOR 0xFFFFFFFF), here without postgres.h:
 * SSE 4.2's crc32 instruction when the CPU has it, else slicing by 8.
 */
static uint32_t crc_table[8][256];
static bool crc_table_ready = false;

static void
crc_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++)
	{
		uint32_t	c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
	crc_table_ready = true;
}

static uint32_t
crc_sw(uint32_t crc, const uint8_t *p, size_t n)
{
	if (!crc_table_ready)
		crc_init_table();
	while (n >= 8)
	{
		uint32_t	lo = crc ^ get32(p),
					hi = get32(p + 4);

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
			crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
			crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
			crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2")))
static uint32_t
crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t	c = crc;

	while (n >= 8)
	{
		uint64_t	v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	crc = (uint32_t) c;
	while (n--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#define HAVE_CRC_HW 1
#endif

static uint32_t
fts_crc32c(const uint8_t *p, size_t n)
{
#ifdef HAVE_CRC_HW
	static int	hw = -1;

	if (hw < 0)
		hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	if (hw)
		return crc_hw(0xFFFFFFFFu, p, n) ^ 0xFFFFFFFFu;
#endif
	return crc_sw(0xFFFFFFFFu, p, n) ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------- counted allocation -- */

/*
 * The caller's allocator, with the bytes held counted against a limit (the
 * builder's and the merge's maintenance_work_mem).
 */
typedef struct Mem
{
	FtsAlloc	a;
	size_t		held;
	size_t		limit;			/* 0: none */
	FtsPostingsError *err;		/* where a failure is reported */
} Mem;

static void *
mem_alloc(Mem *m, size_t n)
{
	void	   *p;

	if (m->limit && (n > m->limit || m->held > m->limit - n))
	{
		set_error(m->err, FTSP_LIMIT, "the postings need more than the memory limit of %zu bytes",
				  m->limit);
		return NULL;
	}
	p = m->a.alloc(m->a.arg, n ? n : 1);
	if (!p)
	{
		set_error(m->err, FTSP_NOMEM, "out of memory allocating %zu bytes for the postings", n);
		return NULL;
	}
	m->held += n;
	return p;
}

static void
mem_free(Mem *m, void *p, size_t n)
{
	if (!p)
		return;
	if (m->a.free)
		m->a.free(m->a.arg, p);
	m->held -= n < m->held ? n : m->held;
}

/* Grow *pp (of *cap bytes) to hold at least need bytes (doubling). */
static bool
mem_grow(Mem *m, void **pp, size_t *cap, size_t need)
{
	size_t		ncap = *cap ? *cap : 64;
	void	   *p;

	if (need <= *cap)
		return true;
	while (ncap < need)
	{
		if (ncap > SIZE_MAX / 2)
		{
			set_error(m->err, FTSP_TOO_LARGE, "the postings would need more than %zu bytes", SIZE_MAX / 2);
			return false;
		}
		ncap *= 2;
	}
	if (m->limit && (ncap - *cap > m->limit || m->held > m->limit - (ncap - *cap)))
	{
		/* try the exact size before giving up */
		ncap = need;
		if (ncap - *cap > m->limit || m->held > m->limit - (ncap - *cap))
		{
			set_error(m->err, FTSP_LIMIT, "the postings need more than the memory limit of %zu bytes",
					  m->limit);
			return false;
		}
	}
	if (*pp == NULL)
		p = m->a.alloc(m->a.arg, ncap);
	else
		p = m->a.realloc(m->a.arg, *pp, *cap, ncap);
	if (!p)
	{
		set_error(m->err, FTSP_NOMEM, "out of memory allocating %zu bytes for the postings", ncap);
		return false;
	}
	m->held += ncap - *cap;
	*pp = p;
	*cap = ncap;
	return true;
}

/* A growable byte buffer. */
typedef struct Buf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
} Buf;

static inline bool
buf_reserve(Mem *m, Buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return true;
	if (more > SIZE_MAX - b->len)
		return set_error(m->err, FTSP_TOO_LARGE, "the postings are too large"), false;
	return mem_grow(m, (void **) &b->data, &b->cap, b->len + more);
}

static void
buf_free(Mem *m, Buf *b)
{
	mem_free(m, b->data, b->cap);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* -------------------------------------------------- the list encoder -- */

/*
 * Encodes one term's postings, given in increasing doc order with their
 * positions, into the postings section (out), and its dictionary entry.
 * A list is laid out as: skip table (nblocks x 24 bytes), doc/f data of
 * every block, positions of every block.
 */
typedef struct Encoder
{
	Mem		   *m;
	int			nfields;
	const double *weights;
	Buf		   *out;			/* the image being written */
	size_t		post_start;		/* where the postings section starts in out */
	Buf			skip;
	Buf			data;
	Buf			pos;
	/* the block being filled */
	int			n;
	uint32_t	docs[FTSP_BLOCK_SIZE];
	uint32_t	base;			/* first doc id the block may hold (last of previous + 1) */
	double		block_max_f;
	uint32_t	block_min_dl;
	/* the list */
	uint32_t	df;
	double		max_f;
	uint32_t	min_dl;
	uint32_t	last_doc;
	bool		any;
	Buf			fcode;			/* the block's f codes, appended after its doc gaps */
	uint32_t	counts[FTS_MAX_FIELDS];
	bool		impact;			/* f codes are f64 impacts, no positions */
} Encoder;

static void
enc_list_begin(Encoder *e)
{
	e->skip.len = e->data.len = e->pos.len = e->fcode.len = 0;
	e->n = 0;
	e->base = 0;
	e->df = 0;
	e->max_f = 0;
	e->min_dl = UINT32_MAX;
	e->any = false;
	e->block_max_f = 0;
	e->block_min_dl = UINT32_MAX;
}

static bool
enc_block_flush(Encoder *e)
{
	uint8_t    *s;
	uint32_t	prev = e->base;

	if (e->n == 0)
		return true;
	if (!buf_reserve(e->m, &e->data, (size_t) e->n * VARINT_MAX + e->fcode.len) ||
		!buf_reserve(e->m, &e->skip, SKIP_ENTRY))
		return false;
	for (int i = 0; i < e->n; i++)
	{
		e->data.len += varint_put(e->data.data + e->data.len, e->docs[i] - prev);
		prev = e->docs[i] + 1;
	}
	memcpy(e->data.data + e->data.len, e->fcode.data, e->fcode.len);
	e->data.len += e->fcode.len;
	if (e->data.len > UINT32_MAX || e->pos.len > UINT32_MAX)
		return set_error(e->m->err, FTSP_TOO_LARGE, "a posting list exceeds 4 GB"), false;
	s = e->skip.data + e->skip.len;
	put32(s, e->docs[e->n - 1]);
	put32(s + 4, e->block_min_dl);
	put32(s + 8, (uint32_t) e->data.len);
	put32(s + 12, (uint32_t) e->pos.len);
	putf64(s + 16, e->block_max_f);
	e->skip.len += SKIP_ENTRY;
	if (e->block_max_f > e->max_f)
		e->max_f = e->block_max_f;
	if (e->block_min_dl < e->min_dl)
		e->min_dl = e->block_min_dl;
	e->base = e->docs[e->n - 1] + 1;
	e->n = 0;
	e->fcode.len = 0;
	e->block_max_f = 0;
	e->block_min_dl = UINT32_MAX;
	return true;
}

/* One posting: doc (> the previous), its |d|, npos >= 1 increasing positions. */
static bool
enc_add(Encoder *e, uint32_t doc, uint32_t dl, const uint32_t *positions, uint32_t npos)
{
	double		f = 0;
	uint32_t	prev;

	if (!buf_reserve(e->m, &e->pos, (size_t) npos * VARINT_MAX) ||
		!buf_reserve(e->m, &e->fcode, (size_t) (e->nfields == 1 ? 1 : 1 + 2 * npos) * VARINT_MAX))
		return false;
	/* per-field counts, in field order (positions are sorted by field) */
	if (e->nfields == 1)
	{
		f = e->weights[0] * (double) npos;
		e->fcode.len += varint_put(e->fcode.data + e->fcode.len, npos);
	}
	else
	{
		uint32_t	nf = 0;
		uint32_t	fields[FTS_MAX_FIELDS];

		for (uint32_t i = 0; i < npos; i++)
		{
			uint32_t	fld = FTS_POSITION_FIELD(positions[i]);

			if (nf == 0 || fields[nf - 1] != fld)
			{
				fields[nf++] = fld;
				e->counts[fld] = 0;
			}
			e->counts[fld]++;
		}
		e->fcode.len += varint_put(e->fcode.data + e->fcode.len, nf);
		for (uint32_t i = 0; i < nf; i++)
		{
			e->fcode.len += varint_put(e->fcode.data + e->fcode.len, fields[i]);
			e->fcode.len += varint_put(e->fcode.data + e->fcode.len, e->counts[fields[i]]);
			f += e->weights[fields[i]] * (double) e->counts[fields[i]];
		}
	}
	prev = 0;
	for (uint32_t i = 0; i < npos; i++)
	{
		e->pos.len += varint_put(e->pos.data + e->pos.len, i == 0 ? positions[0] : positions[i] - prev);
		prev = positions[i];
	}
	e->docs[e->n++] = doc;
	if (f > e->block_max_f)
		e->block_max_f = f;
	if (dl < e->block_min_dl)
		e->block_min_dl = dl;
	e->df++;
	e->last_doc = doc;
	e->any = true;
	if (e->n == FTSP_BLOCK_SIZE)
		return enc_block_flush(e);
	return true;
}

/* One posting of an impact list: doc (> the previous), its |d|, its impact (finite, >= 0). */
static bool
enc_add_impact(Encoder *e, uint32_t doc, uint32_t dl, double f)
{
	if (!buf_reserve(e->m, &e->fcode, 8))
		return false;
	putf64(e->fcode.data + e->fcode.len, f);
	e->fcode.len += 8;
	e->docs[e->n++] = doc;
	if (f > e->block_max_f)
		e->block_max_f = f;
	if (dl < e->block_min_dl)
		e->block_min_dl = dl;
	e->df++;
	e->last_doc = doc;
	e->any = true;
	if (e->n == FTSP_BLOCK_SIZE)
		return enc_block_flush(e);
	return true;
}

/*
 * Append the list to out and fill its dictionary entry (term offset and
 * length are the caller's).  Nothing is written for an empty list.
 */
static bool
enc_list_end(Encoder *e, uint8_t *entry)
{
	size_t		total;
	uint8_t    *o;

	if (!enc_block_flush(e))
		return false;
	if (e->df == 0)
		return true;
	total = e->skip.len + e->data.len + e->pos.len;
	if (!buf_reserve(e->m, e->out, total))
		return false;
	o = e->out->data + e->out->len;
	memcpy(o, e->skip.data, e->skip.len);
	memcpy(o + e->skip.len, e->data.data, e->data.len);
	memcpy(o + e->skip.len + e->data.len, e->pos.data, e->pos.len);
	put64(entry, e->out->len - e->post_start);
	put64(entry + 8, total);
	putf64(entry + 16, e->max_f);
	put32(entry + 32, e->df);
	put32(entry + 36, e->min_dl);
	e->out->len += total;
	return true;
}

static void
enc_free(Encoder *e)
{
	buf_free(e->m, &e->skip);
	buf_free(e->m, &e->data);
	buf_free(e->m, &e->pos);
	buf_free(e->m, &e->fcode);
}

/*
 * Write the header at the start of out (HEADER_FIXED + 8 * nfields + 4
 * bytes reserved there) once every section is in place.
 */
static void
write_header(uint8_t *h, uint32_t flags, int nfields, const double *weights, uint64_t ndocs,
			 uint64_t nterms, uint64_t ntokens, uint64_t npostings, const size_t *sec_off,
			 const size_t *sec_size, const uint8_t *base)
{
	size_t		hsize = HEADER_FIXED + 8 * (size_t) nfields + 4;

	memset(h, 0, hsize);
	memcpy(h, FTSP_MAGIC, 8);
	put32(h + 8, FTSP_VERSION_CURRENT);
	put32(h + 12, (uint32_t) hsize);
	put32(h + 16, flags);
	put32(h + 20, (uint32_t) nfields);
	put64(h + 24, ndocs);
	put64(h + 32, nterms);
	put64(h + 40, ntokens);
	put64(h + 48, npostings);
	put32(h + 56, FTSP_BLOCK_SIZE);
	for (int s = 0; s < NSECTIONS; s++)
	{
		put64(h + 64 + 24 * s, sec_off[s]);
		put64(h + 64 + 24 * s + 8, sec_size[s]);
		put32(h + 64 + 24 * s + 16, fts_crc32c(base + sec_off[s], sec_size[s]));
	}
	for (int f = 0; f < nfields; f++)
		putf64(h + HEADER_FIXED + 8 * f, weights[f]);
	put32(h + hsize - 4, fts_crc32c(h, hsize - 4));
}

static size_t
header_size(int nfields)
{
	return HEADER_FIXED + 8 * (size_t) nfields + 4;
}

/* pad out to a multiple of 8 with zeros */
static bool
pad8(Mem *m, Buf *b)
{
	size_t		pad = (8 - b->len % 8) % 8;

	if (!buf_reserve(m, b, pad))
		return false;
	memset(b->data + b->len, 0, pad);
	b->len += pad;
	return true;
}

/* Give back the slack of a doubled buffer (the image is kept as long as the index is open). */
static void
shrink(Mem *m, Buf *b)
{
	void	   *p;

	if (b->cap - b->len <= b->len / 16)
		return;
	p = m->a.realloc(m->a.arg, b->data, b->cap, b->len ? b->len : 1);
	if (!p)
		return;
	m->held -= b->cap - b->len;
	b->data = p;
	b->cap = b->len;
}

static bool
check_weights(int nfields, const double *w, FtsPostingsError *err)
{
	if (nfields < 1 || nfields > FTS_MAX_FIELDS)
		return set_error(err, FTSP_BAD_ARGUMENT, "a BM25 index has 1 to %d fields, not %d",
						 FTS_MAX_FIELDS, nfields), false;
	for (int f = 0; f < nfields; f++)
		if (!(w[f] >= 0 && isfinite(w[f])))
			return set_error(err, FTSP_BAD_ARGUMENT, "the weight of field %d is not a finite number >= 0", f + 1), false;
	return true;
}

/* ------------------------------------------------------------ builder -- */

typedef struct BTerm
{
	uint32_t	off;			/* bytes in the arena */
	uint32_t	len;
	uint32_t	hash;
	uint32_t	df;
	uint32_t	last_doc;		/* of the raw stream, valid when df > 0 */
	Buf			raw;			/* per posting: doc gap, npos, position gaps (varints);
								 * impact mode: doc gap, f64 impact */
} BTerm;

struct FtsPostingsBuilder
{
	Mem			m;
	FtsPostingsError *err_slot; /* m.err points to the current call's err */
	int			nfields;
	double		weights[FTS_MAX_FIELDS];
	bool		failed;
	bool		in_doc;
	bool		finished;
	bool		impact;			/* add_impact, not add_token */
	/* terms */
	Buf			arena;
	BTerm	   *terms;
	size_t		terms_cap;		/* bytes */
	uint32_t	nterms;
	uint32_t   *hash;			/* term id + 1, 0 empty */
	size_t		hash_cap;		/* bytes */
	uint32_t	hash_mask;
	/* documents */
	Buf			refs;			/* uint64 per doc */
	Buf			lens;			/* uint32 per doc */
	uint64_t	ndocs;
	uint64_t	ntokens;
	/* the current document's tokens: term id << 32 | position */
	uint64_t   *toks;
	size_t		toks_cap;		/* bytes */
	size_t		ntoks;
	/* impact mode: the current document's impacts; a token's low 32 bits index them */
	double	   *vals;
	size_t		vals_cap;		/* bytes */
};

static uint32_t
hash_bytes(const char *s, size_t n)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t) s[i]) * 16777619u;
	return h ^ (h >> 15);
}

static bool
b_fail(FtsPostingsBuilder *b)
{
	b->failed = true;
	return false;
}

FtsPostingsBuilder *
fts_postings_builder_create(const FtsAlloc *a, int nfields, const double *field_weights,
							size_t mem_limit, FtsPostingsError *err)
{
	Mem			m = {*a, 0, mem_limit, err};
	FtsPostingsBuilder *b;

	if (!check_weights(nfields, field_weights, err))
		return NULL;
	b = mem_alloc(&m, sizeof(FtsPostingsBuilder));
	if (!b)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->m = m;
	b->nfields = nfields;
	memcpy(b->weights, field_weights, sizeof(double) * nfields);
	b->hash_cap = 1024 * sizeof(uint32_t);
	b->hash = mem_alloc(&b->m, b->hash_cap);
	if (!b->hash)
	{
		mem_free(&b->m, b, sizeof(*b));
		return NULL;
	}
	memset(b->hash, 0, b->hash_cap);
	b->hash_mask = 1023;
	return b;
}

FtsPostingsBuilder *
fts_postings_builder_create_impact(const FtsAlloc *a, size_t mem_limit, FtsPostingsError *err)
{
	const double one = 1.0;
	FtsPostingsBuilder *b = fts_postings_builder_create(a, 1, &one, mem_limit, err);

	if (b)
		b->impact = true;
	return b;
}

static bool
b_usable(FtsPostingsBuilder *b, FtsPostingsError *err)
{
	b->m.err = err;
	if (b->failed || b->finished)
		return set_error(err, FTSP_BAD_ARGUMENT, b->finished ? "the postings builder has finished"
						 : "the postings builder failed before"), false;
	return true;
}

int
fts_postings_begin_doc(FtsPostingsBuilder *b, uint64_t ref, FtsPostingsError *err)
{
	if (!b_usable(b, err))
		return err ? err->code : FTSP_BAD_ARGUMENT;
	if (b->in_doc)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "begin_doc inside a document");
	if (b->ndocs >= UINT32_MAX)
		return b_fail(b), set_error(err, FTSP_TOO_LARGE, "an image holds at most %u documents", UINT32_MAX);
	if (!buf_reserve(&b->m, &b->refs, 8) || !buf_reserve(&b->m, &b->lens, 4))
		return b_fail(b), err->code;
	put64(b->refs.data + b->refs.len, ref);
	b->refs.len += 8;
	b->in_doc = true;
	b->ntoks = 0;
	return FTSP_OK;
}

static bool
hash_grow(FtsPostingsBuilder *b)
{
	size_t		ncap = b->hash_cap * 2;
	uint32_t   *nh = mem_alloc(&b->m, ncap);
	uint32_t	mask = (uint32_t) (ncap / sizeof(uint32_t) - 1);

	if (!nh)
		return false;
	memset(nh, 0, ncap);
	for (uint32_t t = 0; t < b->nterms; t++)
	{
		uint32_t	i = b->terms[t].hash & mask;

		while (nh[i])
			i = (i + 1) & mask;
		nh[i] = t + 1;
	}
	mem_free(&b->m, b->hash, b->hash_cap);
	b->hash = nh;
	b->hash_cap = ncap;
	b->hash_mask = mask;
	return true;
}

/* The id of a term, adding it to the dictionary when new; false on error (err set). */
static bool
b_term_id(FtsPostingsBuilder *b, const char *term, size_t len, uint32_t *out, FtsPostingsError *err)
{
	uint32_t	h,
				i,
				id;

	if (len == 0 || len > UINT32_MAX)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "a term of %zu bytes", len), false;
	h = hash_bytes(term, len);
	for (i = h & b->hash_mask;; i = (i + 1) & b->hash_mask)
	{
		uint32_t	t = b->hash[i];

		if (t == 0)
			break;
		if (b->terms[t - 1].hash == h && b->terms[t - 1].len == len &&
			memcmp(b->arena.data + b->terms[t - 1].off, term, len) == 0)
			break;
	}
	if (b->hash[i])
		id = b->hash[i] - 1;
	else
	{
		BTerm	   *t;

		if (b->nterms == UINT32_MAX - 1)
			return b_fail(b), set_error(err, FTSP_TOO_LARGE, "too many distinct terms"), false;
		if (b->arena.len + len > UINT32_MAX)
			return b_fail(b), set_error(err, FTSP_TOO_LARGE, "the terms exceed 4 GB"), false;
		if (!buf_reserve(&b->m, &b->arena, len) ||
			!mem_grow(&b->m, (void **) &b->terms, &b->terms_cap, (b->nterms + 1) * sizeof(BTerm)))
			return b_fail(b);
		id = b->nterms++;
		t = &b->terms[id];
		memset(t, 0, sizeof(*t));
		t->off = (uint32_t) b->arena.len;
		t->len = (uint32_t) len;
		t->hash = h;
		memcpy(b->arena.data + b->arena.len, term, len);
		b->arena.len += len;
		b->hash[i] = id + 1;
		if ((uint64_t) b->nterms * 2 > b->hash_mask && !hash_grow(b))
			return b_fail(b);
	}
	*out = id;
	return true;
}

int
fts_postings_add_token(FtsPostingsBuilder *b, const char *term, size_t len, uint32_t position,
					   FtsPostingsError *err)
{
	uint32_t	id;

	if (!b_usable(b, err))
		return err ? err->code : FTSP_BAD_ARGUMENT;
	if (!b->in_doc)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "a token outside a document");
	if (b->impact)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "add_token on a builder in impact mode");
	if (len == 0 || len > UINT32_MAX)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "a term of %zu bytes", len);
	if (FTS_POSITION_FIELD(position) >= (uint32_t) b->nfields)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "a token in field %u of an index with %d fields",
									FTS_POSITION_FIELD(position) + 1, b->nfields);
	if (!b_term_id(b, term, len, &id, err))
		return err->code;
	if (!mem_grow(&b->m, (void **) &b->toks, &b->toks_cap, (b->ntoks + 1) * sizeof(uint64_t)))
		return b_fail(b), err->code;
	b->toks[b->ntoks++] = (uint64_t) id << 32 | position;
	return FTSP_OK;
}

int
fts_postings_add_impact(FtsPostingsBuilder *b, const char *term, size_t len, double value,
						FtsPostingsError *err)
{
	uint32_t	id;

	if (!b_usable(b, err))
		return err ? err->code : FTSP_BAD_ARGUMENT;
	if (!b->in_doc)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "an impact outside a document");
	if (!b->impact)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "add_impact on a builder not in impact mode");
	if (!(value >= 0 && isfinite(value)))
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "an impact that is not a finite number >= 0");
	if (b->ntoks >= UINT32_MAX)
		return b_fail(b), set_error(err, FTSP_TOO_LARGE, "too many terms in a document");
	if (!b_term_id(b, term, len, &id, err))
		return err->code;
	if (!mem_grow(&b->m, (void **) &b->toks, &b->toks_cap, (b->ntoks + 1) * sizeof(uint64_t)) ||
		!mem_grow(&b->m, (void **) &b->vals, &b->vals_cap, (b->ntoks + 1) * sizeof(double)))
		return b_fail(b), err->code;
	b->vals[b->ntoks] = value;
	b->toks[b->ntoks] = (uint64_t) id << 32 | (uint32_t) b->ntoks;
	b->ntoks++;
	return FTSP_OK;
}

static int
u64_cmp(const void *x, const void *y)
{
	uint64_t	a = *(const uint64_t *) x,
				b = *(const uint64_t *) y;

	return (a > b) - (a < b);
}

int
fts_postings_end_doc(FtsPostingsBuilder *b, uint32_t doclen, FtsPostingsError *err)
{
	uint32_t	doc;

	if (!b_usable(b, err))
		return err ? err->code : FTSP_BAD_ARGUMENT;
	if (!b->in_doc)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "end_doc outside a document");
	doc = (uint32_t) b->ndocs;
	if (b->ntoks > 1)
		qsort(b->toks, b->ntoks, sizeof(uint64_t), u64_cmp);
	for (size_t i = 0; i < b->ntoks;)
	{
		uint32_t	id = (uint32_t) (b->toks[i] >> 32);
		size_t		j = i;
		BTerm	   *t = &b->terms[id];
		uint32_t	prev = 0;

		while (j < b->ntoks && (uint32_t) (b->toks[j] >> 32) == id)
			j++;
		if (b->impact)
		{
			if (j - i > 1)
				return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT,
											"term \"%.*s\" given twice in a document",
											(int) (t->len > 64 ? 64 : t->len), b->arena.data + t->off);
			if (!buf_reserve(&b->m, &t->raw, VARINT_MAX + 8))
				return b_fail(b), err->code;
			t->raw.len += varint_put(t->raw.data + t->raw.len, t->df ? doc - t->last_doc : doc);
			putf64(t->raw.data + t->raw.len, b->vals[(uint32_t) b->toks[i]]);
			t->raw.len += 8;
			t->df++;
			t->last_doc = doc;
			i = j;
			continue;
		}
		if (!buf_reserve(&b->m, &t->raw, (2 + (j - i)) * VARINT_MAX))
			return b_fail(b), err->code;
		t->raw.len += varint_put(t->raw.data + t->raw.len, t->df ? doc - t->last_doc : doc);
		t->raw.len += varint_put(t->raw.data + t->raw.len, (uint32_t) (j - i));
		for (size_t k = i; k < j; k++)
		{
			uint32_t	p = (uint32_t) b->toks[k];

			if (k > i && p == prev)
				return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT,
											"term \"%.*s\" twice at position %u of field %u of a document",
											(int) (t->len > 64 ? 64 : t->len), b->arena.data + t->off,
											p & FTS_MAX_POSITION, FTS_POSITION_FIELD(p) + 1);
			t->raw.len += varint_put(t->raw.data + t->raw.len, k == i ? p : p - prev);
			prev = p;
		}
		t->df++;
		t->last_doc = doc;
		i = j;
	}
	put32(b->lens.data + b->lens.len, doclen);
	b->lens.len += 4;
	b->ndocs++;
	b->ntokens += doclen;
	b->in_doc = false;
	return FTSP_OK;
}

uint64_t
fts_postings_builder_ndocs(const FtsPostingsBuilder *b)
{
	return b->ndocs;
}

size_t
fts_postings_builder_memory(const FtsPostingsBuilder *b)
{
	return b->m.held;
}

/* term order: bytes, then length (a prefix first) */
static int
term_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

typedef struct SortTerm
{
	const uint8_t *bytes;
	uint32_t	len;
	uint32_t	id;
} SortTerm;

static int
sort_term_cmp(const void *x, const void *y)
{
	const SortTerm *a = x,
			   *b = y;

	return term_cmp(a->bytes, a->len, b->bytes, b->len);
}

/*
 * Append the dictionary, terms and documents sections after the postings
 * (out holds header space + postings), then write the header.
 */
static int
finish_image(Mem *m, Buf *out, uint32_t flags, int nfields, const double *weights, const Buf *dict,
			 uint64_t nterms, const Buf *termbytes, const uint8_t *refs, const uint8_t *lens,
			 uint64_t ndocs, uint64_t ntokens, uint64_t npostings, size_t post_start)
{
	size_t		off[NSECTIONS],
				size[NSECTIONS];

	off[SEC_POSTINGS] = post_start;
	size[SEC_POSTINGS] = out->len - post_start;
	if (!pad8(m, out))
		return m->err->code;
	off[SEC_DICT] = out->len;
	size[SEC_DICT] = dict->len;
	if (!buf_reserve(m, out, dict->len + termbytes->len + 8 + ndocs * DOC_ENTRY))
		return m->err->code;
	if (dict->len)
		memcpy(out->data + out->len, dict->data, dict->len);
	out->len += dict->len;
	off[SEC_TERMS] = out->len;
	size[SEC_TERMS] = termbytes->len;
	if (termbytes->len)
		memcpy(out->data + out->len, termbytes->data, termbytes->len);
	out->len += termbytes->len;
	if (!pad8(m, out))
		return m->err->code;
	off[SEC_DOCS] = out->len;
	size[SEC_DOCS] = ndocs * DOC_ENTRY;
	if (ndocs)
	{
		memcpy(out->data + out->len, refs, ndocs * 8);
		memcpy(out->data + out->len + ndocs * 8, lens, ndocs * 4);
	}
	out->len += ndocs * DOC_ENTRY;
	write_header(out->data, flags, nfields, weights, ndocs, nterms, ntokens, npostings, off, size,
				 out->data);
	return FTSP_OK;
}

int
fts_postings_builder_finish(FtsPostingsBuilder *b, uint8_t **image, size_t *size,
							FtsPostingsError *err)
{
	SortTerm   *order = NULL;
	size_t		order_size = (size_t) b->nterms * sizeof(SortTerm);
	Buf			out = {0},
				dict = {0},
				tb = {0};
	Encoder		e = {0};
	uint32_t   *posbuf = NULL;
	size_t		posbuf_cap = 0;
	size_t		hsize = header_size(b->nfields);
	uint64_t	npostings = 0;
	int			rc = FTSP_OK;

	if (!b_usable(b, err))
		return err ? err->code : FTSP_BAD_ARGUMENT;
	if (b->in_doc)
		return b_fail(b), set_error(err, FTSP_BAD_ARGUMENT, "finish inside a document");
	b->finished = true;
	/* the current document's token buffer and the hash are no longer needed */
	mem_free(&b->m, b->toks, b->toks_cap);
	b->toks = NULL;
	b->toks_cap = 0;
	mem_free(&b->m, b->hash, b->hash_cap);
	b->hash = NULL;
	b->hash_cap = 0;
	mem_free(&b->m, b->vals, b->vals_cap);
	b->vals = NULL;
	b->vals_cap = 0;

	if (b->nterms && !(order = mem_alloc(&b->m, order_size)))
		goto fail;
	for (uint32_t t = 0; t < b->nterms; t++)
	{
		order[t].bytes = b->arena.data + b->terms[t].off;
		order[t].len = b->terms[t].len;
		order[t].id = t;
	}
	if (b->nterms)
		qsort(order, b->nterms, sizeof(SortTerm), sort_term_cmp);

	if (!buf_reserve(&b->m, &out, hsize + 8) || !buf_reserve(&b->m, &dict, (size_t) b->nterms * DICT_ENTRY) ||
		!buf_reserve(&b->m, &tb, b->arena.len))
		goto fail;
	memset(out.data, 0, hsize);
	out.len = hsize;
	if (!pad8(&b->m, &out))
		goto fail;
	e.m = &b->m;
	e.nfields = b->nfields;
	e.weights = b->weights;
	e.out = &out;
	e.post_start = out.len;
	e.impact = b->impact;
	for (uint32_t k = 0; k < b->nterms; k++)
	{
		BTerm	   *t = &b->terms[order[k].id];
		const uint8_t *p = t->raw.data,
				   *end = t->raw.data + t->raw.len;
		uint32_t	doc = 0;
		uint8_t    *entry;

		enc_list_begin(&e);
		for (uint32_t n = 0; n < t->df; n++)
		{
			uint32_t	gap,
						npos,
						pos = 0;

			if (b->impact)
			{
				/* our own stream: cannot fail, but stay bounded */
				if (!varint_get(&p, end, &gap) || end - p < 8)
					break;
				doc = n == 0 ? gap : doc + gap;
				if (!enc_add_impact(&e, doc, get32(b->lens.data + 4 * (size_t) doc), getf64(p)))
					goto fail;
				p += 8;
				continue;
			}
			/* our own stream: cannot fail, but stay bounded */
			if (!varint_get(&p, end, &gap) || !varint_get(&p, end, &npos))
				break;
			doc = n == 0 ? gap : doc + gap;
			if (!mem_grow(&b->m, (void **) &posbuf, &posbuf_cap, (size_t) npos * sizeof(uint32_t)))
				goto fail;
			for (uint32_t i = 0; i < npos; i++)
			{
				uint32_t	g = 0;

				varint_get(&p, end, &g);
				pos = i == 0 ? g : pos + g;
				posbuf[i] = pos;
			}
			if (!enc_add(&e, doc, get32(b->lens.data + 4 * (size_t) doc), posbuf, npos))
				goto fail;
		}
		entry = dict.data + dict.len;
		memset(entry, 0, DICT_ENTRY);
		if (!enc_list_end(&e, entry))
			goto fail;
		put32(entry + 24, (uint32_t) tb.len);
		put32(entry + 28, t->len);
		memcpy(tb.data + tb.len, b->arena.data + t->off, t->len);
		tb.len += t->len;
		dict.len += DICT_ENTRY;
		npostings += t->df;
		buf_free(&b->m, &t->raw);
	}
	rc = finish_image(&b->m, &out, b->impact ? FLAG_IMPACTS : FLAG_POSITIONS, b->nfields, b->weights, &dict, b->nterms, &tb, b->refs.data,
					  b->lens.data, b->ndocs, b->ntokens, npostings, e.post_start);
	if (rc != FTSP_OK)
		goto fail;
	enc_free(&e);
	buf_free(&b->m, &dict);
	buf_free(&b->m, &tb);
	mem_free(&b->m, order, order_size);
	mem_free(&b->m, posbuf, posbuf_cap);
	shrink(&b->m, &out);
	/* the caller owns the image now: it no longer counts as the builder's */
	b->m.held -= out.cap < b->m.held ? out.cap : b->m.held;
	*image = out.data;
	*size = out.len;
	return FTSP_OK;

fail:
	b->failed = true;
	enc_free(&e);
	buf_free(&b->m, &out);
	buf_free(&b->m, &dict);
	buf_free(&b->m, &tb);
	mem_free(&b->m, order, order_size);
	mem_free(&b->m, posbuf, posbuf_cap);
	return err ? err->code : FTSP_NOMEM;
}

void
fts_postings_builder_free(FtsPostingsBuilder *b)
{
	Mem			m;

	if (!b)
		return;
	m = b->m;
	for (uint32_t t = 0; t < b->nterms; t++)
		buf_free(&m, &b->terms[t].raw);
	mem_free(&m, b->terms, b->terms_cap);
	mem_free(&m, b->hash, b->hash_cap);
	mem_free(&m, b->toks, b->toks_cap);
	mem_free(&m, b->vals, b->vals_cap);
	buf_free(&m, &b->arena);
	buf_free(&m, &b->refs);
	buf_free(&m, &b->lens);
	mem_free(&m, b, sizeof(*b));
}

/* ------------------------------------------------------------- reader -- */

typedef struct PCursor PCursor;

struct FtsPostingsReader
{
	Mem			m;
	FtsPostingsError error;		/* the last error of a lazy check */
	FtsPostingsErrorCallback cb;
	void	   *cb_arg;
	const uint8_t *img;
	size_t		size;
	uint64_t	ndocs;
	uint64_t	nterms;
	uint64_t	npostings;
	uint64_t	ntokens;
	int			nfields;
	double		weights[FTS_MAX_FIELDS];
	bool		impact;			/* FLAG_IMPACTS: an f64 per posting, no positions */
	const uint8_t *post;
	size_t		post_size;
	const uint8_t *dict;
	const uint8_t *terms;
	const uint8_t *refs;		/* uint64 per doc */
	const uint8_t *lens;		/* uint32 per doc */
	uint8_t    *checked;		/* a bit per term: its list was validated */
	size_t		checked_size;
	PCursor    *cursors;		/* every cursor made, freed with the reader */
	bool		cursor_external;	/* cursors from cursor_m, not chained */
	Mem			cursor_m;
	FtsSource	src;
};

struct PCursor
{
	FtsCursor	c;				/* first: the query core's handle */
	PCursor    *chain;
	FtsPostingsReader *r;
	Mem		   *mem;			/* for posbuf */
	FtsBm25		p;
	const uint8_t *skip;
	const uint8_t *data;		/* doc/f data of block 0 */
	const uint8_t *pos;			/* positions of block 0 */
	const uint8_t *end;			/* end of the list */
	uint32_t	nblocks;
	uint32_t	df;
	int64_t		block;			/* decoded block, -1 none */
	int			n;				/* its postings */
	int			i;				/* current posting, -1 before the first */
	bool		done;
	uint32_t	docs[FTSP_BLOCK_SIZE];
	double		f[FTSP_BLOCK_SIZE];
	uint32_t	npos[FTSP_BLOCK_SIZE];
	/* positions: pptr points at the positions of posting pidx of the block */
	const uint8_t *pptr;
	const uint8_t *pend;
	int			pidx;
	uint32_t   *posbuf;
	size_t		posbuf_cap;		/* bytes */
};

static inline const uint8_t *
dict_entry(const FtsPostingsReader *r, uint64_t i)
{
	return r->dict + i * DICT_ENTRY;
}

static inline uint32_t
skip_last(const uint8_t *skip, uint32_t b)
{
	return get32(skip + (size_t) b * SKIP_ENTRY);
}

/*
 * Decode block b's doc ids and f codes: base is the first doc id it may
 * hold.  false (with what) when the bytes are not a valid block: used by
 * the validation and, on validated bytes, by the cursor.
 */
static bool
decode_block(const uint8_t *p, const uint8_t *end, int n, uint32_t base, int nfields,
			 const double *weights, bool impact, uint64_t ndocs, uint32_t *docs, double *f,
			 uint32_t *npos, const char **what)
{
	uint64_t	prev = base;

	for (int i = 0; i < n; i++)
	{
		uint32_t	g;

		if (!varint_get(&p, end, &g))
			return *what = "a truncated or invalid doc id", false;
		if (prev + g >= ndocs)
			return *what = "a doc id beyond the documents", false;
		docs[i] = (uint32_t) (prev + g);
		prev = (uint64_t) docs[i] + 1;
	}
	for (int i = 0; i < n; i++)
	{
		uint32_t	c;

		if (impact)
		{
			if (end - p < 8)
				return *what = "a truncated impact", false;
			f[i] = getf64(p);
			p += 8;
			if (!(f[i] >= 0 && isfinite(f[i])))
				return *what = "an impact that is not a finite number >= 0", false;
			npos[i] = 0;
		}
		else if (nfields == 1)
		{
			if (!varint_get(&p, end, &c) || c == 0)
				return *what = "an invalid frequency", false;
			f[i] = weights[0] * (double) c;
			npos[i] = c;
		}
		else
		{
			uint32_t	nf;
			int64_t		last = -1;
			uint64_t	total = 0;
			double		acc = 0;

			if (!varint_get(&p, end, &nf) || nf == 0 || nf > (uint32_t) nfields)
				return *what = "an invalid field count", false;
			for (uint32_t k = 0; k < nf; k++)
			{
				uint32_t	fld;

				if (!varint_get(&p, end, &fld) || (int64_t) fld <= last || fld >= (uint32_t) nfields ||
					!varint_get(&p, end, &c) || c == 0)
					return *what = "an invalid field frequency", false;
				last = fld;
				total += c;
				acc += weights[fld] * (double) c;
			}
			if (total > UINT32_MAX)
				return *what = "an invalid frequency", false;
			f[i] = acc;
			npos[i] = (uint32_t) total;
		}
	}
	if (p != end)
		return *what = "trailing bytes after the block's postings", false;
	return true;
}

/* the postings of block b: how many, where its data and positions start */
static inline int
block_count(uint32_t df, uint32_t nblocks, uint32_t b)
{
	return b + 1 < nblocks ? FTSP_BLOCK_SIZE : (int) (df - (uint64_t) FTSP_BLOCK_SIZE * (nblocks - 1));
}

static inline uint32_t
block_data_start(const uint8_t *skip, uint32_t b)
{
	return b == 0 ? 0 : get32(skip + (size_t) (b - 1) * SKIP_ENTRY + 8);
}

static inline uint32_t
block_pos_start(const uint8_t *skip, uint32_t b)
{
	return b == 0 ? 0 : get32(skip + (size_t) (b - 1) * SKIP_ENTRY + 12);
}

static inline uint32_t
block_base(const uint8_t *skip, uint32_t b)
{
	return b == 0 ? 0 : skip_last(skip, b - 1) + 1;
}

static int
list_corrupt(FtsPostingsReader *r, FtsPostingsError *err, uint64_t t, uint32_t block, const char *what)
{
	const uint8_t *e = dict_entry(r, t);
	uint32_t	len = get32(e + 28);

	return set_error(err, FTSP_CORRUPT, "invalid postings of term %llu \"%.*s\" (block %u): %s",
					 (unsigned long long) t, (int) (len > 64 ? 64 : len), r->terms + get32(e + 24),
					 block, what);
}

/*
 * Check term t's list in full: the skip table against the blocks, every doc
 * id, frequency and position, and the dictionary's bound ingredients.
 */
static int
validate_list(FtsPostingsReader *r, uint64_t t, FtsPostingsError *err)
{
	const uint8_t *e = dict_entry(r, t);
	uint64_t	off = get64(e),
				len = get64(e + 8);
	double		max_f = getf64(e + 16);
	uint32_t	df = get32(e + 32),
				min_dl = get32(e + 36);
	uint32_t	nblocks = (uint32_t) (((uint64_t) df + FTSP_BLOCK_SIZE - 1) / FTSP_BLOCK_SIZE);
	const uint8_t *list = r->post + off,
			   *skip = list,
			   *data,
			   *pos;
	uint64_t	skip_size = (uint64_t) nblocks * SKIP_ENTRY,
				data_total,
				pos_total;
	uint32_t	prev_dend = 0,
				prev_pend = 0;
	double		tmax = 0;
	uint32_t	tmin = UINT32_MAX;
	uint32_t	docs[FTSP_BLOCK_SIZE],
				npos[FTSP_BLOCK_SIZE];
	double		f[FTSP_BLOCK_SIZE];
	uint32_t	counts[FTS_MAX_FIELDS];
	uint32_t	fields[FTS_MAX_FIELDS];
	const char *what = NULL;

	if (skip_size >= len)
		return list_corrupt(r, err, t, 0, "the list is shorter than its skip table");
	data = list + skip_size;
	data_total = get32(skip + (size_t) (nblocks - 1) * SKIP_ENTRY + 8);
	if (data_total > len - skip_size)
		return list_corrupt(r, err, t, nblocks - 1, "the block data run past the list");
	pos = data + data_total;
	pos_total = len - skip_size - data_total;
	if (r->impact && pos_total != 0)
		return list_corrupt(r, err, t, nblocks - 1, "positions in a list of impacts");
	for (uint32_t b = 0; b < nblocks; b++)
	{
		const uint8_t *s = skip + (size_t) b * SKIP_ENTRY;
		int			n = block_count(df, nblocks, b);
		uint32_t	dend = get32(s + 8),
					pend = get32(s + 12),
					bmin = UINT32_MAX;
		double		bmax = 0;
		const uint8_t *pp,
				   *pe;

		if (dend <= prev_dend || dend > data_total)
			return list_corrupt(r, err, t, b, "a block's data offset out of order or past the list");
		if (pend < prev_pend || pend > pos_total)
			return list_corrupt(r, err, t, b, "a block's positions offset out of order or past the list");
		if (!decode_block(data + prev_dend, data + dend, n, b == 0 ? 0 : skip_last(skip, b - 1) + 1,
						  r->nfields, r->weights, r->impact, r->ndocs, docs, f, npos, &what))
			return list_corrupt(r, err, t, b, what);
		if (docs[n - 1] != skip_last(skip, b))
			return list_corrupt(r, err, t, b, "the block's last doc id differs from its skip entry");
		pp = pos + prev_pend;
		pe = pos + pend;
		for (int i = 0; i < n; i++)
		{
			uint32_t	nf = 0,
						p = 0;
			double		acc = 0;
			uint32_t	dl = get32(r->lens + 4 * (size_t) docs[i]);

			for (uint32_t k = 0; k < npos[i]; k++)
			{
				uint32_t	g,
							fld;

				if (!varint_get(&pp, pe, &g))
					return list_corrupt(r, err, t, b, "a truncated or invalid position");
				if (k > 0 && (g == 0 || g > UINT32_MAX - p))
					return list_corrupt(r, err, t, b, "positions not increasing");
				p = k == 0 ? g : p + g;
				fld = FTS_POSITION_FIELD(p);
				if (fld >= (uint32_t) r->nfields)
					return list_corrupt(r, err, t, b, "a position in a field the index does not have");
				if (nf == 0 || fields[nf - 1] != fld)
				{
					fields[nf++] = fld;
					counts[fld] = 0;
				}
				counts[fld]++;
			}
			/* f as the builder computes it from the positions: must be the stored one */
			if (r->nfields == 1)
				acc = r->weights[0] * (double) npos[i];
			else
				for (uint32_t k = 0; k < nf; k++)
					acc += r->weights[fields[k]] * (double) counts[fields[k]];
			if (!r->impact && acc != f[i])
				return list_corrupt(r, err, t, b, "frequencies differ from the positions");
			if (f[i] > bmax)
				bmax = f[i];
			if (dl < bmin)
				bmin = dl;
		}
		if (pp != pe)
			return list_corrupt(r, err, t, b, "trailing bytes after the block's positions");
		if (getf64(s + 16) != bmax || get32(s + 4) != bmin)
			return list_corrupt(r, err, t, b, "the block's max frequency or min length differs from its postings");
		if (bmax > tmax)
			tmax = bmax;
		if (bmin < tmin)
			tmin = bmin;
		prev_dend = dend;
		prev_pend = pend;
	}
	if (prev_dend != data_total || prev_pend != pos_total)
		return list_corrupt(r, err, t, nblocks - 1, "bytes left after the last block");
	if (max_f != tmax || min_dl != tmin)
		return list_corrupt(r, err, t, 0, "the term's max frequency or min length differs from its blocks");
	return FTSP_OK;
}

/* the list of term t is known good, checking it now if needed */
static int
list_checked(FtsPostingsReader *r, uint64_t t, FtsPostingsError *err)
{
	int			rc;

	if (r->checked[t / 8] & (1 << (t % 8)))
		return FTSP_OK;
	rc = validate_list(r, t, err);
	if (rc == FTSP_OK)
		r->checked[t / 8] |= 1 << (t % 8);
	return rc;
}

static int	corrupt(FtsPostingsError *err, int section, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

static int
corrupt(FtsPostingsError *err, int section, const char *fmt,...)
{
	char		reason[200];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return set_error(err, FTSP_CORRUPT, "invalid %s: %s",
					 section < 0 ? "header" : section_names[section], reason);
}

/* the dictionary index of a term, or -1 */
static int64_t
find_term(const FtsPostingsReader *r, const char *term, size_t len)
{
	uint64_t	lo = 0,
				hi = r->nterms;

	while (lo < hi)
	{
		uint64_t	mid = lo + (hi - lo) / 2;
		const uint8_t *e = dict_entry(r, mid);
		int			c = term_cmp(r->terms + get32(e + 24), get32(e + 28), (const uint8_t *) term, len);

		if (c == 0)
			return (int64_t) mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static uint64_t src_term_df(FtsSource *s, const char *term, size_t len);
static FtsCursor *src_open_term(FtsSource *s, const char *term, size_t len, const FtsBm25 *p,
								double idf);
static double src_doclen(FtsSource *s, uint64_t doc);
static uint64_t src_doc_ref(FtsSource *s, uint64_t doc);

static int
open_checks(FtsPostingsReader *r, const uint8_t *img, size_t size, FtsPostingsError *err)
{
	uint32_t	version,
				hsize,
				nfields;
	size_t		prev_end;
	size_t		off[NSECTIONS],
				sz[NSECTIONS];
	uint64_t	tokens = 0,
				postings = 0,
				term_run = 0,
				post_run = 0;

	if (size < HEADER_FIXED + 8 + 4)
		return corrupt(err, -1, "%zu bytes is too short for an image", size);
	if (memcmp(img, FTSP_MAGIC, 8) != 0)
		return corrupt(err, -1, "not a BM25 postings image (bad magic)");
	version = get32(img + 8);
	if (version != FTSP_VERSION_CURRENT)
		return set_error(err, FTSP_VERSION, "postings image format version %u; this build reads version %d",
						 version, FTSP_VERSION_CURRENT);
	nfields = get32(img + 20);
	if (nfields < 1 || nfields > FTS_MAX_FIELDS)
		return corrupt(err, -1, "%u fields", nfields);
	hsize = get32(img + 12);
	if (hsize != header_size((int) nfields) || hsize > size)
		return corrupt(err, -1, "header size %u for %u fields in %zu bytes", hsize, nfields, size);
	if (get32(img + hsize - 4) != fts_crc32c(img, hsize - 4))
		return corrupt(err, -1, "CRC-32C mismatch");
	if (get32(img + 16) != FLAG_POSITIONS && get32(img + 16) != FLAG_IMPACTS)
		return corrupt(err, -1, "unknown flags 0x%x", get32(img + 16));
	r->impact = get32(img + 16) == FLAG_IMPACTS;
	if (r->impact && (nfields != 1 || getf64(img + HEADER_FIXED) != 1.0))
		return corrupt(err, -1, "an image of impacts with %u fields or a weight other than 1", nfields);
	if (get32(img + 56) != FTSP_BLOCK_SIZE || get32(img + 60) != 0)
		return corrupt(err, -1, "block size %u", get32(img + 56));
	r->nfields = (int) nfields;
	for (uint32_t f = 0; f < nfields; f++)
	{
		r->weights[f] = getf64(img + HEADER_FIXED + 8 * f);
		if (!(r->weights[f] >= 0 && isfinite(r->weights[f])))
			return corrupt(err, -1, "the weight of field %u is not a finite number >= 0", f + 1);
	}
	r->ndocs = get64(img + 24);
	r->nterms = get64(img + 32);
	r->ntokens = get64(img + 40);
	r->npostings = get64(img + 48);
	if (r->ndocs > UINT32_MAX)
		return corrupt(err, -1, "%llu documents", (unsigned long long) r->ndocs);
	prev_end = hsize;
	for (int s = 0; s < NSECTIONS; s++)
	{
		const uint8_t *h = img + 64 + 24 * s;
		uint64_t	o = get64(h),
					n = get64(h + 8);

		if (o < prev_end || o > size || n > size - o || get32(h + 20) != 0)
			return corrupt(err, s, "offset %llu and size %llu outside the image of %zu bytes or overlapping",
						   (unsigned long long) o, (unsigned long long) n, size);
		off[s] = (size_t) o;
		sz[s] = (size_t) n;
		prev_end = (size_t) (o + n);
	}
	if (r->nterms > sz[SEC_DICT] / DICT_ENTRY || sz[SEC_DICT] != r->nterms * DICT_ENTRY)
		return corrupt(err, SEC_DICT, "%zu bytes for %llu terms", sz[SEC_DICT], (unsigned long long) r->nterms);
	if (r->ndocs > sz[SEC_DOCS] / DOC_ENTRY || sz[SEC_DOCS] != r->ndocs * DOC_ENTRY)
		return corrupt(err, SEC_DOCS, "%zu bytes for %llu documents", sz[SEC_DOCS], (unsigned long long) r->ndocs);
	for (int s = 0; s < NSECTIONS; s++)
		if (get32(img + 64 + 24 * s + 16) != fts_crc32c(img + off[s], sz[s]))
			return corrupt(err, s, "CRC-32C mismatch");
	r->post = img + off[SEC_POSTINGS];
	r->post_size = sz[SEC_POSTINGS];
	r->dict = img + off[SEC_DICT];
	r->terms = img + off[SEC_TERMS];
	r->refs = img + off[SEC_DOCS];
	r->lens = r->refs + r->ndocs * 8;
	for (uint64_t d = 0; d < r->ndocs; d++)
		tokens += get32(r->lens + 4 * d);
	if (tokens != r->ntokens)
		return corrupt(err, SEC_DOCS, "the lengths sum to %llu, the header says %llu tokens",
					   (unsigned long long) tokens, (unsigned long long) r->ntokens);
	for (uint64_t t = 0; t < r->nterms; t++)
	{
		const uint8_t *e = dict_entry(r, t);
		uint64_t	po = get64(e),
					pl = get64(e + 8);
		double		mf = getf64(e + 16);
		uint32_t	to = get32(e + 24),
					tl = get32(e + 28),
					df = get32(e + 32);

		if (to != term_run || tl == 0 || tl > sz[SEC_TERMS] - term_run)
			return corrupt(err, SEC_DICT, "term %llu's bytes are not the next ones of the terms section",
						   (unsigned long long) t);
		if (t > 0)
		{
			const uint8_t *pe = e - DICT_ENTRY;

			if (term_cmp(r->terms + get32(pe + 24), get32(pe + 28), r->terms + to, tl) >= 0)
				return corrupt(err, SEC_DICT, "terms %llu and %llu out of order", (unsigned long long) t - 1,
							   (unsigned long long) t);
		}
		if (po != post_run || pl == 0 || pl > sz[SEC_POSTINGS] - post_run)
			return corrupt(err, SEC_DICT, "term %llu's postings are not the next ones of the postings section",
						   (unsigned long long) t);
		if (df == 0 || df > r->ndocs)
			return corrupt(err, SEC_DICT, "term %llu in %u of %llu documents", (unsigned long long) t, df,
						   (unsigned long long) r->ndocs);
		if (!(mf >= 0 && isfinite(mf)))
			return corrupt(err, SEC_DICT, "term %llu's max frequency is not a finite number >= 0",
						   (unsigned long long) t);
		term_run += tl;
		post_run += pl;
		postings += df;
	}
	if (term_run != sz[SEC_TERMS] || post_run != sz[SEC_POSTINGS])
		return corrupt(err, SEC_DICT, "the terms or postings sections hold bytes no term uses");
	if (postings != r->npostings)
		return corrupt(err, SEC_DICT, "the document frequencies sum to %llu, the header says %llu postings",
					   (unsigned long long) postings, (unsigned long long) r->npostings);
	return FTSP_OK;
}

FtsPostingsReader *
fts_postings_open(const FtsAlloc *a, const uint8_t *image, size_t size, int flags,
				  FtsPostingsError *err)
{
	Mem			m = {*a, 0, 0, err};
	FtsPostingsReader *r = mem_alloc(&m, sizeof(FtsPostingsReader));

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->m = m;
	r->m.err = &r->error;
	r->img = image;
	r->size = size;
	if (open_checks(r, image, size, err) != FTSP_OK)
	{
		mem_free(&m, r, sizeof(*r));
		return NULL;
	}
	r->checked_size = (size_t) (r->nterms / 8 + 1);
	r->checked = mem_alloc(&m, r->checked_size);
	if (!r->checked)
	{
		mem_free(&m, r, sizeof(*r));
		return NULL;
	}
	memset(r->checked, 0, r->checked_size);
	r->m.held = m.held;
	r->src.ndocs = r->ndocs;
	r->src.ntokens = (double) r->ntokens;
	r->src.nfields = r->nfields;
	r->src.field_weights = r->weights;
	r->src.term_df = src_term_df;
	r->src.open_term = src_open_term;
	r->src.doclen = src_doclen;
	r->src.doc_ref = src_doc_ref;
	r->src.deleted = NULL;
	r->src.state = r;
	if ((flags & FTSP_OPEN_VALIDATE_ALL) && fts_postings_validate_all(r, err) != FTSP_OK)
	{
		fts_postings_close(r);
		return NULL;
	}
	return r;
}

int
fts_postings_validate_all(FtsPostingsReader *r, FtsPostingsError *err)
{
	for (uint64_t t = 0; t < r->nterms; t++)
	{
		int			rc = list_checked(r, t, err);

		if (rc != FTSP_OK)
			return rc;
	}
	return FTSP_OK;
}

FtsSource *
fts_postings_source(FtsPostingsReader *r)
{
	return &r->src;
}

FtsPostingsReader *
fts_postings_source_reader(FtsSource *s)
{
	return (FtsPostingsReader *) s->state;
}

void
fts_postings_set_cursor_alloc(FtsPostingsReader *r, const FtsAlloc *a)
{
	r->cursor_external = a != NULL;
	if (a)
	{
		r->cursor_m.a = *a;
		r->cursor_m.held = 0;
		r->cursor_m.limit = 0;
		r->cursor_m.err = &r->error;
	}
}

void
fts_postings_set_error_callback(FtsPostingsReader *r, FtsPostingsErrorCallback cb, void *arg)
{
	r->cb = cb;
	r->cb_arg = arg;
}

const FtsPostingsError *
fts_postings_reader_error(const FtsPostingsReader *r)
{
	return &r->error;
}

uint64_t
fts_postings_ndocs(const FtsPostingsReader *r)
{
	return r->ndocs;
}

uint64_t
fts_postings_nterms(const FtsPostingsReader *r)
{
	return r->nterms;
}

double
fts_postings_ntokens(const FtsPostingsReader *r)
{
	return (double) r->ntokens;
}

bool
fts_postings_impact(const FtsPostingsReader *r)
{
	return r->impact;
}

int
fts_postings_nfields(const FtsPostingsReader *r)
{
	return r->nfields;
}

const double *
fts_postings_field_weights(const FtsPostingsReader *r)
{
	return r->weights;
}

const char *
fts_postings_term(const FtsPostingsReader *r, uint64_t i, size_t *len, uint64_t *df)
{
	const uint8_t *e;

	if (i >= r->nterms)
		return NULL;
	e = dict_entry(r, i);
	*len = get32(e + 28);
	if (df)
		*df = get32(e + 32);
	return (const char *) r->terms + get32(e + 24);
}

void
fts_postings_close(FtsPostingsReader *r)
{
	Mem			m;

	if (!r)
		return;
	m = r->m;
	for (PCursor *c = r->cursors, *next; c; c = next)
	{
		next = c->chain;
		mem_free(&m, c->posbuf, c->posbuf_cap);
		mem_free(&m, c, sizeof(PCursor));
	}
	mem_free(&m, r->checked, r->checked_size);
	mem_free(&m, r, sizeof(*r));
}

/* ------------------------------------------------------------ cursors -- */

/* Decode block b (validated bytes); false at the end of the list. */
static bool
cur_load(PCursor *c, uint32_t b)
{
	const char *what;
	uint32_t	ds,
				de;

	if (b >= c->nblocks)
	{
		c->done = true;
		return false;
	}
	ds = block_data_start(c->skip, b);
	de = get32(c->skip + (size_t) b * SKIP_ENTRY + 8);
	c->n = block_count(c->df, c->nblocks, b);
	if (!decode_block(c->data + ds, c->data + de, c->n, block_base(c->skip, b), c->r->nfields,
					  c->r->weights, c->r->impact, c->r->ndocs, c->docs, c->f, c->npos, &what))
	{
		/* cannot happen on a validated list; end the list rather than read garbage */
		c->done = true;
		return false;
	}
	c->block = b;
	c->i = -1;
	c->pptr = c->pos + block_pos_start(c->skip, b);
	c->pend = c->pos + get32(c->skip + (size_t) b * SKIP_ENTRY + 12);
	c->pidx = 0;
	return true;
}

/* the first block from `from` whose last doc is >= target; nblocks when none */
static uint32_t
cur_find_block(const PCursor *c, uint32_t from, uint64_t target)
{
	uint32_t	lo = from,
				hi = c->nblocks;

	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (skip_last(c->skip, mid) < target)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
cur_next(FtsCursor *fc, uint64_t target)
{
	PCursor    *c = (PCursor *) fc;
	int			i;

	if (c->done)
		return false;
	if (c->i >= 0 && c->docs[c->i] >= target)
		return true;			/* never backwards */
	if (c->block < 0 || target > skip_last(c->skip, (uint32_t) c->block))
	{
		uint32_t	b = cur_find_block(c, c->block < 0 ? 0 : (uint32_t) c->block + 1, target);

		if (!cur_load(c, b))
			return false;
	}
	for (i = c->i < 0 ? 0 : c->i + 1; i < c->n && c->docs[i] < target; i++)
		;
	/* the block's last doc is >= target, so i < n */
	c->i = i;
	fc->doc = c->docs[i];
	fc->f = c->f[i];
	return true;
}

static bool
cur_shallow(FtsCursor *fc, uint64_t target, uint64_t *block_last, double *block_bound)
{
	PCursor    *c = (PCursor *) fc;
	uint32_t	b = cur_find_block(c, 0, target);
	const uint8_t *s;

	if (b >= c->nblocks)
		return false;
	s = c->skip + (size_t) b * SKIP_ENTRY;
	*block_last = get32(s);
	*block_bound = fts_bm25_bound(&c->p, fc->idf, getf64(s + 16), (double) get32(s + 4));
	return true;
}

static int
cur_positions(FtsCursor *fc, const uint32_t **out)
{
	PCursor    *c = (PCursor *) fc;
	uint32_t	n,
				p = 0;
	const uint8_t *pp;

	*out = NULL;
	if (c->done || c->i < 0 || c->r->impact)
		return 0;
	/* skip the positions of the postings before the current one */
	while (c->pidx < c->i)
	{
		for (uint32_t k = c->npos[c->pidx]; k > 0 && c->pptr < c->pend; c->pptr++)
			if (!(*c->pptr & 0x80))
				k--;
		c->pidx++;
	}
	n = c->npos[c->i];
	if (!mem_grow(c->mem, (void **) &c->posbuf, &c->posbuf_cap, (size_t) n * sizeof(uint32_t)))
		return 0;
	pp = c->pptr;
	for (uint32_t k = 0; k < n; k++)
	{
		uint32_t	g = 0;

		if (!varint_get(&pp, c->pend, &g))
			return 0;			/* not on a validated list */
		p = k == 0 ? g : p + g;
		c->posbuf[k] = p;
	}
	*out = c->posbuf;
	return (int) n;
}

/* set up c over term t's (validated) list */
static void
cur_init(PCursor *c, FtsPostingsReader *r, uint64_t t, const FtsBm25 *p, double idf)
{
	const uint8_t *e = dict_entry(r, t);
	const uint8_t *list = r->post + get64(e);

	uint32_t   *posbuf = c->posbuf;
	size_t		posbuf_cap = c->posbuf_cap;

	memset(c, 0, sizeof(*c));
	c->posbuf = posbuf;
	c->posbuf_cap = posbuf_cap;
	c->r = r;
	c->mem = &r->m;
	if (p)
		c->p = *p;
	c->df = get32(e + 32);
	c->nblocks = (uint32_t) (((uint64_t) c->df + FTSP_BLOCK_SIZE - 1) / FTSP_BLOCK_SIZE);
	c->skip = list;
	c->data = list + (size_t) c->nblocks * SKIP_ENTRY;
	c->pos = c->data + get32(c->skip + (size_t) (c->nblocks - 1) * SKIP_ENTRY + 8);
	c->end = list + get64(e + 8);
	c->block = -1;
	c->i = -1;
	c->c.next = cur_next;
	c->c.shallow = cur_shallow;
	c->c.positions = cur_positions;
	c->c.idf = idf;
	c->c.weight = 1.0;
	c->c.state = r;
	c->c.max_bound = 0;
	if (p)
		for (uint32_t b = 0; b < c->nblocks; b++)
		{
			const uint8_t *s = c->skip + (size_t) b * SKIP_ENTRY;
			double		bound = fts_bm25_bound(p, idf, getf64(s + 16), (double) get32(s + 4));

			if (bound > c->c.max_bound)
				c->c.max_bound = bound;
		}
}

static uint64_t
src_term_df(FtsSource *s, const char *term, size_t len)
{
	FtsPostingsReader *r = s->state;
	int64_t		t = find_term(r, term, len);

	return t < 0 ? 0 : get32(dict_entry(r, (uint64_t) t) + 32);
}

static FtsCursor *
src_open_term(FtsSource *s, const char *term, size_t len, const FtsBm25 *p, double idf)
{
	FtsPostingsReader *r = s->state;
	int64_t		t = find_term(r, term, len);
	PCursor    *c;

	if (t < 0)
		return NULL;
	if (list_checked(r, (uint64_t) t, &r->error) != FTSP_OK)
	{
		if (r->cb)
			r->cb(r->cb_arg, &r->error);
		return NULL;
	}
	c = mem_alloc(r->cursor_external ? &r->cursor_m : &r->m, sizeof(PCursor));
	if (!c)
	{
		if (r->cb)
			r->cb(r->cb_arg, &r->error);
		return NULL;
	}
	c->posbuf = NULL;
	c->posbuf_cap = 0;
	cur_init(c, r, (uint64_t) t, p, idf);
	if (r->cursor_external)
	{
		/* the caller's memory: not chained, never freed by the reader */
		c->mem = &r->cursor_m;
		return &c->c;
	}
	c->chain = r->cursors;
	r->cursors = c;
	return &c->c;
}

static double
src_doclen(FtsSource *s, uint64_t doc)
{
	FtsPostingsReader *r = s->state;

	return doc < r->ndocs ? (double) get32(r->lens + 4 * doc) : 0.0;
}

static uint64_t
src_doc_ref(FtsSource *s, uint64_t doc)
{
	FtsPostingsReader *r = s->state;

	return doc < r->ndocs ? get64(r->refs + 8 * doc) : 0;
}

/* -------------------------------------------------------------- merge -- */

int
fts_postings_merge(const FtsAlloc *a, FtsPostingsReader **inputs, int ninputs,
				   FtsPostingsDeleted deleted, void *deleted_arg, size_t mem_limit,
				   uint8_t **image, size_t *size, FtsPostingsError *err)
{
	Mem			m = {*a, 0, mem_limit, err};
	uint32_t  **map = NULL;
	size_t		map_size = (size_t) (ninputs > 0 ? ninputs : 1) * sizeof(uint32_t *);
	uint64_t   *next_term = NULL;
	size_t		next_size = (size_t) (ninputs > 0 ? ninputs : 1) * sizeof(uint64_t);
	Buf			refs = {0},
				lens = {0},
				out = {0},
				dict = {0},
				tb = {0};
	Encoder		e = {0};
	PCursor    *cur = NULL;
	uint64_t	ndocs = 0,
				ntokens = 0,
				nterms = 0,
				npostings = 0;
	int			nfields,
				rc;
	size_t		hsize;

	if (ninputs < 1)
		return set_error(err, FTSP_BAD_ARGUMENT, "a merge needs at least one image");
	nfields = inputs[0]->nfields;
	for (int i = 1; i < ninputs; i++)
		if (inputs[i]->nfields != nfields || inputs[i]->impact != inputs[0]->impact ||
			memcmp(inputs[i]->weights, inputs[0]->weights, sizeof(double) * nfields) != 0)
			return set_error(err, FTSP_BAD_ARGUMENT,
							 "image %d has other fields, field weights or mode (impacts) than image 0", i);
	hsize = header_size(nfields);
	if (!(map = mem_alloc(&m, map_size)) || !(next_term = mem_alloc(&m, next_size)) ||
		!(cur = mem_alloc(&m, sizeof(PCursor))))
		goto fail;
	memset(map, 0, map_size);
	memset(next_term, 0, next_size);
	memset(cur, 0, sizeof(PCursor));

	/* the surviving documents, renumbered in input order */
	for (int i = 0; i < ninputs; i++)
	{
		FtsPostingsReader *r = inputs[i];

		if (r->ndocs && !(map[i] = mem_alloc(&m, r->ndocs * sizeof(uint32_t))))
			goto fail;
		for (uint64_t d = 0; d < r->ndocs; d++)
		{
			if (deleted && deleted(deleted_arg, i, d))
			{
				map[i][d] = UINT32_MAX;
				continue;
			}
			if (ndocs >= UINT32_MAX)
			{
				set_error(err, FTSP_TOO_LARGE, "an image holds at most %u documents", UINT32_MAX);
				goto fail;
			}
			if (!buf_reserve(&m, &refs, 8) || !buf_reserve(&m, &lens, 4))
				goto fail;
			memcpy(refs.data + refs.len, r->refs + 8 * d, 8);
			memcpy(lens.data + lens.len, r->lens + 4 * d, 4);
			refs.len += 8;
			lens.len += 4;
			ntokens += get32(r->lens + 4 * d);
			map[i][d] = (uint32_t) ndocs++;
		}
	}

	if (!buf_reserve(&m, &out, hsize + 8))
		goto fail;
	memset(out.data, 0, hsize);
	out.len = hsize;
	if (!pad8(&m, &out))
		goto fail;
	e.m = &m;
	e.nfields = nfields;
	e.weights = inputs[0]->weights;
	e.out = &out;
	e.post_start = out.len;
	e.impact = inputs[0]->impact;

	/* the terms of every input in byte order (a k-way merge of the dictionaries) */
	for (;;)
	{
		const uint8_t *tbytes = NULL;
		uint32_t	tlen = 0;
		uint8_t    *entry;

		for (int i = 0; i < ninputs; i++)
		{
			const uint8_t *de;

			if (next_term[i] >= inputs[i]->nterms)
				continue;
			de = dict_entry(inputs[i], next_term[i]);
			if (!tbytes || term_cmp(inputs[i]->terms + get32(de + 24), get32(de + 28), tbytes, tlen) < 0)
			{
				tbytes = inputs[i]->terms + get32(de + 24);
				tlen = get32(de + 28);
			}
		}
		if (!tbytes)
			break;
		enc_list_begin(&e);
		for (int i = 0; i < ninputs; i++)
		{
			FtsPostingsReader *r = inputs[i];
			const uint8_t *de;

			if (next_term[i] >= r->nterms)
				continue;
			de = dict_entry(r, next_term[i]);
			if (term_cmp(r->terms + get32(de + 24), get32(de + 28), tbytes, tlen) != 0)
				continue;
			if (list_checked(r, next_term[i], err) != FTSP_OK)
				goto fail;
			cur_init(cur, r, next_term[i], NULL, 0);
			cur->mem = &m;
			for (uint32_t b = 0; b < cur->nblocks; b++)
			{
				if (!cur_load(cur, b))
					break;
				for (int k = 0; k < cur->n; k++)
				{
					uint32_t	nd = map[i][cur->docs[k]];
					const uint32_t *pos;
					int			np;

					if (nd == UINT32_MAX)
						continue;
					if (e.impact)
					{
						if (!enc_add_impact(&e, nd, get32(lens.data + 4 * (size_t) nd), cur->f[k]))
							goto fail;
						continue;
					}
					cur->i = k;
					np = cur_positions(&cur->c, &pos);
					if (np <= 0)
					{
						set_error(err, FTSP_CORRUPT, "cannot read the positions of a validated list");
						goto fail;
					}
					if (!enc_add(&e, nd, get32(lens.data + 4 * (size_t) nd), pos, (uint32_t) np))
						goto fail;
				}
			}
			next_term[i]++;
		}
		if (!buf_reserve(&m, &dict, DICT_ENTRY) || !buf_reserve(&m, &tb, tlen))
			goto fail;
		entry = dict.data + dict.len;
		memset(entry, 0, DICT_ENTRY);
		if (!enc_list_end(&e, entry))
			goto fail;
		if (e.df == 0)
			continue;			/* every document of the term was deleted */
		if (tb.len + tlen > UINT32_MAX)
		{
			set_error(err, FTSP_TOO_LARGE, "the terms exceed 4 GB");
			goto fail;
		}
		put32(entry + 24, (uint32_t) tb.len);
		put32(entry + 28, tlen);
		memcpy(tb.data + tb.len, tbytes, tlen);
		tb.len += tlen;
		dict.len += DICT_ENTRY;
		nterms++;
		npostings += e.df;
	}
	rc = finish_image(&m, &out, inputs[0]->impact ? FLAG_IMPACTS : FLAG_POSITIONS, nfields, inputs[0]->weights, &dict, nterms, &tb, refs.data, lens.data,
					  ndocs, ntokens, npostings, e.post_start);
	if (rc != FTSP_OK)
		goto fail;
	shrink(&m, &out);
	*image = out.data;
	*size = out.len;
	out.data = NULL;
	out.cap = 0;
	rc = FTSP_OK;
	goto done;

fail:
	rc = err->code ? err->code : FTSP_NOMEM;
	buf_free(&m, &out);
done:
	for (int i = 0; i < ninputs && map; i++)
		if (map[i])
			mem_free(&m, map[i], inputs[i]->ndocs * sizeof(uint32_t));
	mem_free(&m, map, map_size);
	mem_free(&m, next_term, next_size);
	if (cur)
	{
		mem_free(&m, cur->posbuf, cur->posbuf_cap);
		mem_free(&m, cur, sizeof(PCursor));
	}
	enc_free(&e);
	buf_free(&m, &refs);
	buf_free(&m, &lens);
	buf_free(&m, &dict);
	buf_free(&m, &tb);
	return rc;
}
