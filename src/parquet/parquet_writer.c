/*
 * parquet_writer.c — streaming Parquet writer: columns of physical values
 * (their PLAIN bytes) in, a Parquet file out.  Postgres values are mapped
 * to these by the pgmap layer (pgmap_writer.c).
 *
 * Written from parquet-format (README "File format", Encodings.md,
 * Compression.md, PageIndex.md, LogicalTypes.md).  The metadata structs and
 * their Thrift encoding come from parquet_meta.h; value encodings and
 * compression from parquet_encoding.h / parquet_codec.h.
 *
 * Shape of a file we write:
 *   "PAR1"
 *   row group 0: column chunk 0 [dictionary page] data pages ... column chunk N
 *   row group 1 ...
 *   ColumnIndex of every chunk, then OffsetIndex of every chunk
 *   FileMetaData, its length (le32), "PAR1"
 * Data pages are v1 (levels RLE with length prefix, values PLAIN or
 * RLE_DICTIONARY); pages always start at a row boundary, so OffsetIndex
 * first_row_index values are exact.  See docs/parquet-layout.md.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "parquet/parquet_writer.h"
#include "parquet/parquet_codec.h"
#include "parquet/parquet_encoding.h"
#include "vlake.h"

#define STAT_TRUNCATE_BYTES 64	/* longest byte-array min/max we store */

/* ================================================================ sinks === */

/*
 * Object store: a streamed upload (multipart on S3) that becomes visible at
 * finish; objstore aborts writers left open at transaction end.
 */
typedef struct ObjSink
{
	PqSink		base;
	ObjWriter  *ow;
	PqBuf		buf;
} ObjSink;

#define OBJ_SINK_BUFFER (1024 * 1024)

static void
obj_sink_flush(ObjSink *os)
{
	if (os->buf.len > 0)
		objstore_writer_write(os->ow, os->buf.data, os->buf.len);
	os->buf.len = 0;
}

static void
obj_sink_write(PqSink *s, const char *data, size_t len)
{
	ObjSink    *os = (ObjSink *) s;

	if (os->buf.len + len > OBJ_SINK_BUFFER)
		obj_sink_flush(os);
	if (len >= OBJ_SINK_BUFFER)
		objstore_writer_write(os->ow, data, len);
	else
		parquet_buf_append(&os->buf, data, len);
	s->offset += len;
}

static void
obj_sink_finish(PqSink *s)
{
	ObjSink    *os = (ObjSink *) s;

	obj_sink_flush(os);
	objstore_writer_finish(os->ow);
	s->done = true;
}

static void
obj_sink_abort(PqSink *s)
{
	ObjSink    *os = (ObjSink *) s;

	if (!s->done)
		objstore_writer_abort(os->ow);
	s->done = true;
}

PqSink *
parquet_sink_open_objstore(ObjStore *store, const char *key)
{
	ObjSink    *os = palloc0(sizeof(ObjSink));
	ObjStat		st;

	os->base.name = objstore_uri(store, key);
	if (objstore_head(store, key, &st))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_FILE),
				 errmsg("Parquet file \"%s\" already exists", os->base.name),
				 errhint("vlake never overwrites a file; choose a new name.")));
	os->base.write = obj_sink_write;
	os->base.finish = obj_sink_finish;
	os->base.abort = obj_sink_abort;
	parquet_buf_init(&os->buf, OBJ_SINK_BUFFER);
	os->ow = objstore_writer_begin(store, key);
	return &os->base;
}

/* ============================================================== columns === */

typedef struct PqwStat
{
	bool		has;
	char	   *min;
	int			minlen;
	char	   *max;
	int			maxlen;
} PqwStat;

typedef struct PqwPage
{
	int64		offset;			/* within the chunk's data pages */
	int32		size;			/* header + compressed body */
	int64		first_row;		/* within the row group */
	int64		null_count;
	bool		null_page;
	PqBytes		min;
	PqBytes		max;
} PqwPage;

typedef struct PqwDict
{
	PqBuf		data;			/* PLAIN-encoded dictionary page body */
	uint32		count;
	uint32	   *slots;			/* open addressing: entry index + 1, 0 = empty */
	uint32		nslots;
	uint32	   *off;			/* entry value offset in data */
	uint32	   *len;			/* entry value length */
	uint32		cap;
} PqwDict;

/* Index data of one chunk, kept until the footer. */
typedef struct PqwChunkIndex
{
	int32		npages;
	PqwPage    *pages;			/* absolute offsets */
} PqwChunkIndex;

typedef struct PqwColumn
{
	char	   *name;
	PqSchemaElement elem;		/* the leaf's type (PqWriterColumn.elem) */
	PqType		phys;
	int32		type_length;
	bool		is_list;
	bool		signed_flba;	/* FIXED_LEN_BYTE_ARRAY DECIMAL: signed order */
	bool		nullable;
	int			max_def;
	int			max_rep;
	PqCodec		codec;
	bool		dict_wanted;
	PqEncoding	value_encoding; /* of non-dictionary pages */
	int32		field_id;
	int			rows_per_page;	/* page_rows option in force, 0 = by bytes */

	/* current page */
	uint32	   *def;
	uint32	   *rep;
	int64		nlevels;
	int64		levels_cap;
	PqBuf		values;			/* PLAIN values (booleans: one byte each) */
	uint32	   *idx;			/* dictionary indices */
	int64		nidx;
	int64		idx_cap;
	int64		page_rows;
	int64		page_nulls;
	int64		page_values;
	PqwStat		page_stat;

	/* current chunk */
	PqBuf		chunk;			/* data pages (headers + bodies) */
	PqwPage    *pages;
	int32		npages;
	int32		pages_cap;
	int64		chunk_rows;
	int64		chunk_levels;
	int64		chunk_nulls;
	int64		chunk_uncompressed;
	bool		used_plain;
	bool		used_value_encoding;	/* pages in value_encoding */
	bool		used_dict;
	bool		dict_on;
	PqwDict		dict;
	PqwStat		chunk_stat;
} PqwColumn;

struct PqWriter
{
	MemoryContext cxt;
	PqSink	   *sink;
	PqWriterOptions opts;
	int			ncols;
	PqwColumn  *cols;
	int64		rg_rows;
	int64		total_rows;
	/* footer data */
	List	   *row_groups;		/* of PqRowGroup* */
	List	   *chunk_indexes;	/* of PqwChunkIndex*, row group major */
	bool		finished;
};

void
parquet_writer_default_options(PqWriterOptions *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->codec = PARQUET_CODEC_ZSTD;
	opts->codec_level = -1;
	opts->dictionary = true;
	opts->dictionary_max_bytes = 1024 * 1024;
	opts->page_bytes = 1024 * 1024;
	opts->page_rows = 0;
	opts->row_group_rows = 1000000;
	opts->row_group_bytes = 64 * 1024 * 1024;
	opts->statistics = true;
	opts->created_by = "vlake version " VLAKE_VERSION_STR;
}

/* ----------------------------------------------------------- statistics --- */

static int
cmp_values(PqwColumn *c, const char *a, int alen, const char *b, int blen)
{
	switch (c->phys)
	{
		case PARQUET_BOOLEAN:
			return (int) (uint8) a[0] - (int) (uint8) b[0];
		case PARQUET_INT32:
			{
				int32		x,
							y;

				memcpy(&x, a, 4);
				memcpy(&y, b, 4);
				return x < y ? -1 : x > y;
			}
		case PARQUET_INT64:
			{
				int64		x,
							y;

				memcpy(&x, a, 8);
				memcpy(&y, b, 8);
				return x < y ? -1 : x > y;
			}
		case PARQUET_FLOAT:
			{
				float		x,
							y;

				memcpy(&x, a, 4);
				memcpy(&y, b, 4);
				return x < y ? -1 : x > y;
			}
		case PARQUET_DOUBLE:
			{
				double		x,
							y;

				memcpy(&x, a, 8);
				memcpy(&y, b, 8);
				return x < y ? -1 : x > y;
			}
		default:
			{
				int			r;

				if (c->signed_flba && alen > 0 && blen > 0 &&
					((int8) a[0]) != ((int8) b[0]))
					return (int8) a[0] < (int8) b[0] ? -1 : 1;
				r = memcmp(a, b, Min(alen, blen));
				if (r != 0)
					return r;
				return alen < blen ? -1 : alen > blen;
			}
	}
}

static void
stat_set(char **dst, int *dstlen, const char *v, int len)
{
	if (*dst)
		pfree(*dst);
	*dst = palloc(Max(len, 1));
	memcpy(*dst, v, len);
	*dstlen = len;
}

static void
stat_update(PqwColumn *c, PqwStat *st, const char *v, int len)
{
	if (c->phys == PARQUET_FLOAT)
	{
		float		f;

		memcpy(&f, v, 4);
		if (isnan(f))
			return;
	}
	else if (c->phys == PARQUET_DOUBLE)
	{
		double		d;

		memcpy(&d, v, 8);
		if (isnan(d))
			return;
	}
	if (!st->has)
	{
		stat_set(&st->min, &st->minlen, v, len);
		stat_set(&st->max, &st->maxlen, v, len);
		st->has = true;
		return;
	}
	if (cmp_values(c, v, len, st->min, st->minlen) < 0)
		stat_set(&st->min, &st->minlen, v, len);
	if (cmp_values(c, v, len, st->max, st->maxlen) > 0)
		stat_set(&st->max, &st->maxlen, v, len);
}

static void
stat_reset(PqwStat *st)
{
	if (st->min)
		pfree(st->min);
	if (st->max)
		pfree(st->max);
	memset(st, 0, sizeof(*st));
}

/*
 * The bytes to store for a min or max: floats' zeros normalised as the spec
 * asks (min -0.0, max +0.0); long byte arrays truncated, the max rounded up
 * so it stays an upper bound (or kept whole when it cannot be).
 */
static PqBytes
stat_bytes(PqwColumn *c, const char *v, int len, bool is_max)
{
	PqBytes		out;

	out.len = len;
	out.data = palloc(Max(len, 1));
	memcpy(out.data, v, len);
	if (c->phys == PARQUET_FLOAT)
	{
		float		f;

		memcpy(&f, v, 4);
		if (f == 0.0f)
		{
			f = is_max ? 0.0f : -0.0f;
			memcpy(out.data, &f, 4);
		}
	}
	else if (c->phys == PARQUET_DOUBLE)
	{
		double		d;

		memcpy(&d, v, 8);
		if (d == 0.0)
		{
			d = is_max ? 0.0 : -0.0;
			memcpy(out.data, &d, 8);
		}
	}
	else if (c->phys == PARQUET_BYTE_ARRAY && len > STAT_TRUNCATE_BYTES)
	{
		if (!is_max)
			out.len = STAT_TRUNCATE_BYTES;
		else
		{
			int			n = STAT_TRUNCATE_BYTES;

			while (n > 0 && out.data[n - 1] == 0xff)
				n--;
			if (n > 0)
			{
				out.data[n - 1]++;
				out.len = n;
			}
		}
	}
	return out;
}

/* ----------------------------------------------------------- dictionary --- */

static void
dict_init(PqwDict *d)
{
	parquet_buf_init(&d->data, 4096);
	d->count = 0;
	d->nslots = 1024;
	d->slots = palloc0(sizeof(uint32) * d->nslots);
	d->cap = 512;
	d->off = palloc(sizeof(uint32) * d->cap);
	d->len = palloc(sizeof(uint32) * d->cap);
}

static void
dict_free(PqwDict *d)
{
	if (d->slots == NULL)
		return;
	parquet_buf_free(&d->data);
	pfree(d->slots);
	pfree(d->off);
	pfree(d->len);
	memset(d, 0, sizeof(*d));
}

static void dict_grow(PqwDict *d);

/*
 * Index of v in the dictionary, adding it if absent; -1 if adding it would
 * take the dictionary page past max_bytes.
 */
static int64
dict_lookup_add(PqwColumn *c, PqwDict *d, const char *v, int len, size_t max_bytes)
{
	uint32		h = hash_bytes((const unsigned char *) v, len);
	uint32		mask = d->nslots - 1;
	uint32		s = h & mask;
	bool		ba = (c->phys == PARQUET_BYTE_ARRAY);

	while (d->slots[s] != 0)
	{
		uint32		e = d->slots[s] - 1;

		if (d->len[e] == (uint32) len && memcmp(d->data.data + d->off[e], v, len) == 0)
			return e;
		s = (s + 1) & mask;
	}
	if (d->data.len + len + (ba ? 4 : 0) > max_bytes)
		return -1;
	if (d->count == d->cap)
	{
		d->cap *= 2;
		d->off = repalloc(d->off, sizeof(uint32) * d->cap);
		d->len = repalloc(d->len, sizeof(uint32) * d->cap);
	}
	if (ba)
		parquet_buf_put_le32(&d->data, (uint32) len);
	d->off[d->count] = (uint32) d->data.len;
	d->len[d->count] = (uint32) len;
	parquet_buf_append(&d->data, v, len);
	d->slots[s] = d->count + 1;
	d->count++;
	if (d->count * 2 > d->nslots)
		dict_grow(d);
	return d->count - 1;
}

static void
dict_grow(PqwDict *d)
{
	uint32		n = d->nslots * 2;
	uint32	   *slots = palloc0(sizeof(uint32) * n);

	for (uint32 e = 0; e < d->count; e++)
	{
		uint32		s = hash_bytes((const unsigned char *) d->data.data + d->off[e], d->len[e]) & (n - 1);

		while (slots[s] != 0)
			s = (s + 1) & (n - 1);
		slots[s] = e + 1;
	}
	pfree(d->slots);
	d->slots = slots;
	d->nslots = n;
}

/* ------------------------------------------------------------- pages ---- */

static void
levels_push(PqwColumn *c, uint32 def, uint32 rep)
{
	if (c->nlevels == c->levels_cap)
	{
		c->levels_cap = Max(1024, c->levels_cap * 2);
		if (c->def)
		{
			c->def = repalloc_huge(c->def, sizeof(uint32) * c->levels_cap);
			c->rep = repalloc_huge(c->rep, sizeof(uint32) * c->levels_cap);
		}
		else
		{
			c->def = palloc(sizeof(uint32) * c->levels_cap);
			c->rep = palloc(sizeof(uint32) * c->levels_cap);
		}
	}
	c->def[c->nlevels] = def;
	c->rep[c->nlevels] = rep;
	c->nlevels++;
}

static void
idx_push(PqwColumn *c, uint32 v)
{
	if (c->nidx == c->idx_cap)
	{
		c->idx_cap = Max(1024, c->idx_cap * 2);
		c->idx = c->idx ? repalloc_huge(c->idx, sizeof(uint32) * c->idx_cap)
			: palloc(sizeof(uint32) * c->idx_cap);
	}
	c->idx[c->nidx++] = v;
}

static size_t
page_estimate(PqwColumn *c)
{
	return c->values.len + c->nidx * 3 + (c->max_def + c->max_rep > 0 ? c->nlevels / 4 : 0);
}

static void
append_page(PqwColumn *c, PqPageHeader *h, const char *body, size_t bodylen,
			PqCodec codec, int level, int32 *stored_size)
{
	ThriftWriter hw;
	size_t		clen;
	char	   *comp;

	if (bodylen > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Parquet page of column \"%s\" is too large (%zu bytes)", c->name, bodylen)));
	comp = parquet_compress(codec, level, body, bodylen, &clen);
	h->uncompressed_page_size = (int32) bodylen;
	h->compressed_page_size = (int32) clen;
	thrift_writer_init(&hw);
	parquet_encode_page_header(&hw, h);
	parquet_buf_append(&c->chunk, hw.data, hw.len);
	parquet_buf_append(&c->chunk, comp, clen);
	c->chunk_uncompressed += hw.len + bodylen;
	*stored_size = (int32) (hw.len + clen);
	pfree(comp);
	pfree(hw.data);
}

/*
 * The page's PLAIN values (c->values) re-encoded in the column's value
 * encoding: DELTA_BINARY_PACKED (INT32/INT64), BYTE_STREAM_SPLIT (fixed
 * width), DELTA_LENGTH_BYTE_ARRAY (BYTE_ARRAY).
 */
static void
encode_values(PqwColumn *c, PqBuf *body)
{
	int			width = parquet_plain_width(c->phys, c->type_length);

	switch (c->value_encoding)
	{
		case PARQUET_ENC_DELTA_BINARY_PACKED:
			if (c->phys == PARQUET_INT32)
				parquet_delta_encode_int32(body, (const int32 *) c->values.data, c->page_values);
			else
				parquet_delta_encode_int64(body, (const int64 *) c->values.data, c->page_values);
			break;
		case PARQUET_ENC_BYTE_STREAM_SPLIT:
			parquet_bss_encode(body, c->values.data, width, c->page_values);
			break;
		case PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY:
			{
				PqByteArray *vals = palloc(sizeof(PqByteArray) * Max(c->page_values, 1));

				parquet_plain_decode_byte_array((const uint8 *) c->values.data, c->values.len,
										   c->page_values, vals);
				parquet_delta_length_encode(body, vals, c->page_values);
				pfree(vals);
				break;
			}
		default:
			elog(ERROR, "unexpected Parquet value encoding %d", c->value_encoding);
	}
}

static void
flush_page(PqWriter *w, PqwColumn *c)
{
	PqBuf		body;
	PqPageHeader h;
	PqwPage    *pg;
	bool		dict_page = c->dict_on && c->nidx > 0;

	if (c->nlevels == 0)
		return;
	parquet_buf_init(&body, page_estimate(c) + 64);
	if (c->max_rep > 0)
		parquet_rle_encode_prefixed(&body, c->rep, c->nlevels, parquet_bit_width(c->max_rep));
	if (c->max_def > 0)
		parquet_rle_encode_prefixed(&body, c->def, c->nlevels, parquet_bit_width(c->max_def));
	if (dict_page)
		parquet_dict_indices_encode(&body, c->idx, c->nidx, Max(c->dict.count, 1));
	else if (c->phys == PARQUET_BOOLEAN)
		parquet_plain_encode_bool(&body, (const bool *) c->values.data, c->values.len);
	else if (c->value_encoding != PARQUET_ENC_PLAIN)
		encode_values(c, &body);
	else
		parquet_buf_append(&body, c->values.data, c->values.len);

	memset(&h, 0, sizeof(h));
	h.type = PARQUET_PAGE_DATA;
	h.has_data_page_header = true;
	h.data_page_header.num_values = (int32) c->nlevels;
	h.data_page_header.encoding = dict_page ? PARQUET_ENC_RLE_DICTIONARY : c->value_encoding;
	h.data_page_header.definition_level_encoding = PARQUET_ENC_RLE;
	h.data_page_header.repetition_level_encoding = PARQUET_ENC_RLE;
	if (dict_page)
		c->used_dict = true;
	else if (c->value_encoding != PARQUET_ENC_PLAIN)
		c->used_value_encoding = true;
	else
		c->used_plain = true;

	if (c->npages == c->pages_cap)
	{
		c->pages_cap = Max(16, c->pages_cap * 2);
		c->pages = c->pages ? repalloc(c->pages, sizeof(PqwPage) * c->pages_cap)
			: palloc(sizeof(PqwPage) * c->pages_cap);
	}
	pg = &c->pages[c->npages++];
	memset(pg, 0, sizeof(*pg));
	pg->offset = c->chunk.len;
	pg->first_row = c->chunk_rows;
	pg->null_count = c->page_nulls;
	pg->null_page = (c->page_values == 0);
	if (c->page_stat.has)
	{
		pg->min = stat_bytes(c, c->page_stat.min, c->page_stat.minlen, false);
		pg->max = stat_bytes(c, c->page_stat.max, c->page_stat.maxlen, true);
		stat_update(c, &c->chunk_stat, c->page_stat.min, c->page_stat.minlen);
		stat_update(c, &c->chunk_stat, c->page_stat.max, c->page_stat.maxlen);
	}
	append_page(c, &h, body.data, body.len, c->codec, w->opts.codec_level, &pg->size);
	parquet_buf_free(&body);

	c->chunk_rows += c->page_rows;
	c->chunk_levels += c->nlevels;
	c->chunk_nulls += c->page_nulls;
	c->nlevels = 0;
	c->nidx = 0;
	c->values.len = 0;
	c->page_rows = c->page_nulls = c->page_values = 0;
	stat_reset(&c->page_stat);
}

/* ------------------------------------------------------------ values ---- */

/*
 * A dictionary that holds nearly every value of the first page only costs
 * space (the values once in the dictionary plus an index each).
 */
static bool
dict_ineffective(PqwColumn *c)
{
	return c->npages == 0 && c->dict.count >= 1024 &&
		(int64) c->dict.count * 10 > (c->page_values + 1) * 9;
}

/*
 * Stop dictionary encoding for the rest of the chunk.  If no page has been
 * written yet, the current page's indices are turned back into PLAIN values
 * and the dictionary is dropped; otherwise the current page is written with
 * its indices (the dictionary page will precede it) and later pages are
 * PLAIN, as Encodings.md allows.
 */
static void
dict_fall_back(PqWriter *w, PqwColumn *c)
{
	if (c->npages == 0 && !c->used_dict)
	{
		c->values.len = 0;
		for (int64 i = 0; i < c->nidx; i++)
		{
			uint32		e = c->idx[i];
			const char *v = c->dict.data.data + c->dict.off[e];

			if (c->phys == PARQUET_BYTE_ARRAY)
				parquet_plain_encode_byte_array(&c->values, v, c->dict.len[e]);
			else
				parquet_buf_append(&c->values, v, c->dict.len[e]);
		}
		c->nidx = 0;
		dict_free(&c->dict);
		dict_init(&c->dict);
	}
	else
		flush_page(w, c);
	c->dict_on = false;
}

/* Page boundary after a value: rows_per_page rows, or (0) page_bytes. */
static void
value_added(PqWriter *w, PqwColumn *c)
{
	if (c->rows_per_page > 0 ? c->page_rows >= c->rows_per_page
		: page_estimate(c) >= w->opts.page_bytes)
		flush_page(w, c);
}

static PqwColumn *
writer_column(PqWriter *w, int col)
{
	if (col < 0 || col >= w->ncols)
		elog(ERROR, "Parquet writer has no column %d", col);
	return &w->cols[col];
}

void
parquet_writer_null(PqWriter *w, int col)
{
	PqwColumn  *c = writer_column(w, col);
	MemoryContext old;

	if (!c->nullable)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("null value in non-null Parquet column \"%s\"", c->name)));
	old = MemoryContextSwitchTo(w->cxt);
	c->page_rows++;
	levels_push(c, 0, 0);
	c->page_nulls++;
	value_added(w, c);
	MemoryContextSwitchTo(old);
}

void
parquet_writer_list(PqWriter *w, int col, const void *values, int n)
{
	PqwColumn  *c = writer_column(w, col);
	int			width = parquet_plain_width(c->phys, c->type_length);
	const char *v = values;
	MemoryContext old;

	if (!c->is_list || width <= 0 || c->phys == PARQUET_BOOLEAN)
		elog(ERROR, "Parquet column \"%s\" is not a list of fixed-width values", c->name);
	old = MemoryContextSwitchTo(w->cxt);
	c->page_rows++;
	if (n == 0)
	{
		/* empty list: defined up to the list, no element */
		levels_push(c, c->max_def - 1, 0);
		c->page_nulls++;
	}
	else
	{
		for (int i = 0; i < n; i++)
			levels_push(c, c->max_def, i == 0 ? 0 : 1);
		parquet_buf_append(&c->values, v, (size_t) width * n);
		c->page_values += n;
		if (w->opts.statistics && c->phys == PARQUET_FLOAT)
		{
			/* the common case (vectors): one min and one max per row */
			const float *x = values;
			float		lo = NAN,
						hi = NAN;

			for (int i = 0; i < n; i++)
			{
				if (isnan(x[i]))
					continue;
				if (isnan(lo) || x[i] < lo)
					lo = x[i];
				if (isnan(hi) || x[i] > hi)
					hi = x[i];
			}
			stat_update(c, &c->page_stat, (const char *) &lo, 4);
			stat_update(c, &c->page_stat, (const char *) &hi, 4);
		}
		else if (w->opts.statistics)
			for (int i = 0; i < n; i++)
				stat_update(c, &c->page_stat, v + (size_t) i * width, width);
	}
	value_added(w, c);
	MemoryContextSwitchTo(old);
}

void
parquet_writer_value(PqWriter *w, int col, const void *value, int len)
{
	PqwColumn  *c = writer_column(w, col);
	const char *bytes = value;
	int64		e = -1;
	MemoryContext old;

	if (c->is_list)
		elog(ERROR, "Parquet column \"%s\" is a list", c->name);
	old = MemoryContextSwitchTo(w->cxt);
	if (c->dict_on)
	{
		e = dict_lookup_add(c, &c->dict, bytes, len, w->opts.dictionary_max_bytes);
		if (e < 0 || dict_ineffective(c))
			dict_fall_back(w, c);
	}
	c->page_rows++;
	levels_push(c, c->max_def, 0);
	if (c->dict_on)
		idx_push(c, (uint32) e);
	else if (c->phys == PARQUET_BYTE_ARRAY)
		parquet_plain_encode_byte_array(&c->values, bytes, (uint32) len);
	else
		parquet_buf_append(&c->values, bytes, len);
	c->page_values++;
	if (w->opts.statistics)
		stat_update(c, &c->page_stat, bytes, len);
	value_added(w, c);
	MemoryContextSwitchTo(old);
}

/* ------------------------------------------------------------ row groups -- */

static PqwChunkIndex *
finish_chunk(PqWriter *w, PqwColumn *c, PqColumnChunk *cc)
{
	PqColumnMetaData *m = &cc->meta_data;
	uint64		start = w->sink->offset;
	int64		dict_size = 0;
	PqwChunkIndex *ci = palloc0(sizeof(PqwChunkIndex));
	int			nenc = 0;

	flush_page(w, c);
	memset(cc, 0, sizeof(*cc));
	cc->has_meta_data = true;
	m->type = c->phys;
	m->codec = c->codec;
	m->num_values = c->chunk_levels;

	if (c->used_dict)
	{
		PqPageHeader h;
		PqwColumn	tmp = *c;
		int32		size;

		/* the dictionary page goes first; build it in a scratch chunk */
		memset(&h, 0, sizeof(h));
		h.type = PARQUET_PAGE_DICTIONARY;
		h.has_dictionary_page_header = true;
		h.dictionary_page_header.num_values = (int32) c->dict.count;
		h.dictionary_page_header.encoding = PARQUET_ENC_PLAIN;
		parquet_buf_init(&tmp.chunk, c->dict.data.len + 64);
		tmp.chunk_uncompressed = 0;
		append_page(&tmp, &h, c->dict.data.data, c->dict.data.len, c->codec,
					w->opts.codec_level, &size);
		w->sink->write(w->sink, tmp.chunk.data, tmp.chunk.len);
		dict_size = tmp.chunk.len;
		c->chunk_uncompressed += tmp.chunk_uncompressed;
		parquet_buf_free(&tmp.chunk);
		m->has_dictionary_page_offset = true;
		m->dictionary_page_offset = start;
	}
	m->data_page_offset = start + dict_size;
	w->sink->write(w->sink, c->chunk.data, c->chunk.len);
	m->total_compressed_size = dict_size + c->chunk.len;
	m->total_uncompressed_size = c->chunk_uncompressed;
	cc->file_offset = start;

	m->encodings = palloc(sizeof(PqEncoding) * 4);
	if (c->used_dict)
		m->encodings[nenc++] = PARQUET_ENC_RLE_DICTIONARY;
	if (c->used_value_encoding)
		m->encodings[nenc++] = c->value_encoding;
	if (c->used_plain || c->used_dict)
		m->encodings[nenc++] = PARQUET_ENC_PLAIN;
	if (c->max_def > 0 || c->max_rep > 0 || c->used_dict)
		m->encodings[nenc++] = PARQUET_ENC_RLE;
	m->num_encodings = nenc;

	if (c->is_list)
	{
		m->path_len = 3;
		m->path_in_schema = palloc(sizeof(char *) * 3);
		m->path_in_schema[0] = c->name;
		m->path_in_schema[1] = "list";
		m->path_in_schema[2] = "element";
	}
	else
	{
		m->path_len = 1;
		m->path_in_schema = palloc(sizeof(char *));
		m->path_in_schema[0] = c->name;
	}
	if (w->opts.statistics)
	{
		m->has_statistics = true;
		m->statistics.has_null_count = true;
		m->statistics.null_count = c->chunk_nulls;
		if (c->chunk_stat.has)
		{
			m->statistics.has_min_value = m->statistics.has_max_value = true;
			m->statistics.min_value = stat_bytes(c, c->chunk_stat.min, c->chunk_stat.minlen, false);
			m->statistics.max_value = stat_bytes(c, c->chunk_stat.max, c->chunk_stat.maxlen, true);
		}
	}

	/* page locations become absolute */
	ci->npages = c->npages;
	ci->pages = palloc(sizeof(PqwPage) * Max(c->npages, 1));
	for (int i = 0; i < c->npages; i++)
	{
		ci->pages[i] = c->pages[i];
		ci->pages[i].offset += m->data_page_offset;
	}

	/* reset chunk state */
	c->chunk.len = 0;
	c->npages = 0;
	c->chunk_rows = c->chunk_levels = c->chunk_nulls = c->chunk_uncompressed = 0;
	c->used_plain = c->used_dict = c->used_value_encoding = false;
	stat_reset(&c->chunk_stat);
	if (c->dict_wanted)
	{
		dict_free(&c->dict);
		dict_init(&c->dict);
		c->dict_on = true;
	}
	return ci;
}

static void
flush_row_group(PqWriter *w)
{
	PqRowGroup *rg;
	uint64		start = w->sink->offset;
	int64		uncompressed = 0;

	if (w->rg_rows == 0)
		return;
	rg = palloc0(sizeof(PqRowGroup));
	rg->num_columns = w->ncols;
	rg->columns = palloc0(sizeof(PqColumnChunk) * w->ncols);
	for (int i = 0; i < w->ncols; i++)
	{
		PqwChunkIndex *ci = finish_chunk(w, &w->cols[i], &rg->columns[i]);

		w->chunk_indexes = lappend(w->chunk_indexes, ci);
		uncompressed += rg->columns[i].meta_data.total_uncompressed_size;
	}
	rg->num_rows = w->rg_rows;
	rg->total_byte_size = uncompressed;
	rg->has_file_offset = true;
	rg->file_offset = start;
	rg->has_total_compressed_size = true;
	rg->total_compressed_size = w->sink->offset - start;
	rg->has_ordinal = true;
	rg->ordinal = (int16) list_length(w->row_groups);
	w->row_groups = lappend(w->row_groups, rg);
	w->rg_rows = 0;
}

static size_t
buffered_bytes(PqWriter *w)
{
	size_t		total = 0;

	for (int i = 0; i < w->ncols; i++)
		total += w->cols[i].chunk.len + page_estimate(&w->cols[i]) +
			(w->cols[i].dict_on ? w->cols[i].dict.data.len : 0);
	return total;
}

/* ---------------------------------------------------------------- API ---- */

static PqColumnOptions *
column_options(const PqWriterOptions *opts, const char *name)
{
	ListCell   *lc;

	foreach(lc, opts->columns)
	{
		PqColumnOptions *co = lfirst(lc);

		if (strcmp(co->name, name) == 0)
			return co;
	}
	return NULL;
}

PqWriter *
parquet_writer_begin(PqSink *sink, int ncols, const PqWriterColumn *cols,
					 const PqWriterOptions *opts)
{
	PqWriter   *w;
	MemoryContext cxt,
				old;
	ListCell   *lc;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake parquet writer",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	w = palloc0(sizeof(PqWriter));
	w->cxt = cxt;
	w->sink = sink;
	w->opts = *opts;
	if (w->opts.page_bytes < 1024)
		w->opts.page_bytes = 1024;
	if (w->opts.row_group_rows < 1)
		w->opts.row_group_rows = 1;
	w->cols = palloc0(sizeof(PqwColumn) * Max(ncols, 1));

	/* check column options name real columns */
	foreach(lc, opts->columns)
	{
		PqColumnOptions *co = lfirst(lc);
		bool		found = false;

		for (int i = 0; i < ncols; i++)
			if (strcmp(cols[i].name, co->name) == 0)
				found = true;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("Parquet column option names unknown column \"%s\"", co->name)));
	}

	for (int i = 0; i < ncols; i++)
	{
		PqwColumn  *c = &w->cols[i];
		PqColumnOptions *co;

		c->name = pstrdup(cols[i].name);
		c->elem = cols[i].elem;
		c->phys = cols[i].elem.type;
		c->type_length = cols[i].elem.type_length;
		c->is_list = cols[i].is_list;
		c->signed_flba = c->phys == PARQUET_FIXED_LEN_BYTE_ARRAY &&
			(cols[i].elem.logical_type.kind == PARQUET_LT_DECIMAL ||
			 (cols[i].elem.has_converted_type && cols[i].elem.converted_type == PARQUET_CT_DECIMAL));
		c->nullable = cols[i].nullable;
		c->max_def = c->nullable ? 1 : 0;
		if (c->is_list)
		{
			c->max_def += 1;	/* the repeated "list" group */
			c->max_rep = 1;
		}
		c->codec = opts->codec;
		c->field_id = cols[i].field_id;
		c->rows_per_page = Max(opts->page_rows, 0);
		c->dict_wanted = opts->dictionary && c->phys != PARQUET_BOOLEAN && !c->is_list;
		co = column_options(opts, c->name);
		if (co)
		{
			if (co->codec >= 0)
				c->codec = (PqCodec) co->codec;
			if (co->dictionary >= 0)
				c->dict_wanted = co->dictionary && c->phys != PARQUET_BOOLEAN && !c->is_list;
			if (co->field_id >= 0)
				c->field_id = co->field_id;
			if (co->page_rows > 0)
				c->rows_per_page = co->page_rows;
			if (co->encoding >= 0 && co->encoding != PARQUET_ENC_PLAIN)
			{
				bool		ok;

				switch (co->encoding)
				{
					case PARQUET_ENC_DELTA_BINARY_PACKED:
						ok = (c->phys == PARQUET_INT32 || c->phys == PARQUET_INT64);
						break;
					case PARQUET_ENC_BYTE_STREAM_SPLIT:
						/* FLOAT/DOUBLE only: common readers (DuckDB) reject the
						 * INT32/INT64/FLBA variants added in parquet-format 2.11 */
						ok = (c->phys == PARQUET_FLOAT || c->phys == PARQUET_DOUBLE) && !c->is_list;
						break;
					case PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY:
						ok = (c->phys == PARQUET_BYTE_ARRAY);
						break;
					default:
						ok = false;
				}
				if (!ok)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("encoding %s cannot be used for Parquet column \"%s\" of type %s",
									parquet_encoding_name(co->encoding), c->name, parquet_type_name(c->phys))));
				c->value_encoding = (PqEncoding) co->encoding;
				c->dict_wanted = false;
			}
		}
		c->dict_on = c->dict_wanted;
		if (c->dict_on)
			dict_init(&c->dict);
		parquet_buf_init(&c->values, 4096);
		parquet_buf_init(&c->chunk, 4096);
	}
	w->ncols = ncols;
	if (ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot write a Parquet file without columns")));
	sink->write(sink, "PAR1", 4);
	MemoryContextSwitchTo(old);
	return w;
}

void
parquet_writer_end_row(PqWriter *w)
{
	MemoryContext old = MemoryContextSwitchTo(w->cxt);

	w->rg_rows++;
	w->total_rows++;
	if (w->rg_rows >= w->opts.row_group_rows ||
		buffered_bytes(w) >= w->opts.row_group_bytes)
		flush_row_group(w);
	MemoryContextSwitchTo(old);
}

int64
parquet_writer_rows(PqWriter *w)
{
	return w->total_rows;
}

static void
schema_elements(PqWriter *w, PqFileMetaData *fm)
{
	int			nschema = 1;
	int			k = 1;

	for (int i = 0; i < w->ncols; i++)
		nschema += w->cols[i].is_list ? 3 : 1;
	fm->num_schema = nschema;
	fm->schema = palloc0(sizeof(PqSchemaElement) * nschema);
	fm->schema[0].name = "schema";
	fm->schema[0].num_children = w->ncols;
	fm->num_leaves = w->ncols;
	for (int i = 0; i < w->ncols; i++)
	{
		PqwColumn  *c = &w->cols[i];
		PqSchemaElement *e = &fm->schema[k++];

		if (c->is_list)
		{
			PqSchemaElement *l = &fm->schema[k++];
			PqSchemaElement *el = &fm->schema[k++];

			/* 3-level LIST (LogicalTypes.md): group (LIST) / repeated list / element */
			e->num_children = 1;
			e->has_converted_type = true;
			e->converted_type = PARQUET_CT_LIST;
			e->logical_type.kind = PARQUET_LT_LIST;
			l->name = "list";
			l->has_repetition = true;
			l->repetition = PARQUET_REPEATED;
			l->num_children = 1;
			*el = c->elem;
			el->name = "element";
			el->has_type = true;
			el->has_repetition = true;
			el->repetition = PARQUET_REQUIRED;
		}
		else
		{
			*e = c->elem;
			e->has_type = true;
		}
		e->name = c->name;
		e->has_repetition = true;
		e->repetition = c->nullable ? PARQUET_OPTIONAL : PARQUET_REQUIRED;
		e->has_field_id = true;
		e->field_id = c->field_id;
	}
}

static void
write_thrift(PqWriter *w, void (*enc) (ThriftWriter *, const void *), const void *obj,
			 int64 *offset, int32 *length)
{
	ThriftWriter tw;

	thrift_writer_init(&tw);
	enc(&tw, obj);
	*offset = w->sink->offset;
	*length = (int32) tw.len;
	w->sink->write(w->sink, (const char *) tw.data, tw.len);
	pfree(tw.data);
}

static void
enc_ci(ThriftWriter *tw, const void *o)
{
	parquet_encode_column_index(tw, o);
}

static void
enc_oi(ThriftWriter *tw, const void *o)
{
	parquet_encode_offset_index(tw, o);
}

/*
 * Whether every page with values has min/max.  A page of only NaNs has none
 * (NaN is never a bound) and is not a null page either, so no ColumnIndex
 * entry describes it: the chunk gets no ColumnIndex (its OffsetIndex stays).
 */
static bool
pages_have_bounds(PqwChunkIndex *ci)
{
	for (int i = 0; i < ci->npages; i++)
		if (!ci->pages[i].null_page && ci->pages[i].min.data == NULL)
			return false;
	return true;
}

static bool
pages_ascending(PqwColumn *c, PqwChunkIndex *ci, bool desc)
{
	PqwPage    *prev = NULL;

	for (int i = 0; i < ci->npages; i++)
	{
		PqwPage    *p = &ci->pages[i];

		if (p->null_page)
			continue;
		if (prev)
		{
			int			a = cmp_values(c, (char *) p->min.data, p->min.len, (char *) prev->min.data, prev->min.len);
			int			b = cmp_values(c, (char *) p->max.data, p->max.len, (char *) prev->max.data, prev->max.len);

			if (desc ? (a > 0 || b > 0) : (a < 0 || b < 0))
				return false;
		}
		prev = p;
	}
	return true;
}

/* Column indexes, then offset indexes, of every chunk (PageIndex.md). */
static void
write_page_indexes(PqWriter *w)
{
	int			rgno = 0;
	ListCell   *lc;

	if (!w->opts.statistics)
		return;
	foreach(lc, w->row_groups)
	{
		PqRowGroup *rg = lfirst(lc);

		for (int i = 0; i < w->ncols; i++)
		{
			PqwChunkIndex *ci = list_nth(w->chunk_indexes, rgno * w->ncols + i);
			PqColumnIndex cix;
			PqwColumn  *c = &w->cols[i];
			PqColumnChunk *cc = &rg->columns[i];

			if (!pages_have_bounds(ci))
				continue;
			memset(&cix, 0, sizeof(cix));
			cix.num_pages = ci->npages;
			cix.null_pages = palloc(sizeof(bool) * Max(ci->npages, 1));
			cix.min_values = palloc(sizeof(PqBytes) * Max(ci->npages, 1));
			cix.max_values = palloc(sizeof(PqBytes) * Max(ci->npages, 1));
			cix.null_counts = palloc(sizeof(int64) * Max(ci->npages, 1));
			cix.has_null_counts = true;
			for (int p = 0; p < ci->npages; p++)
			{
				cix.null_pages[p] = ci->pages[p].null_page;
				cix.min_values[p] = ci->pages[p].min;
				cix.max_values[p] = ci->pages[p].max;
				if (cix.min_values[p].data == NULL)
				{
					/* null page: empty min/max, as the spec says */
					cix.min_values[p].data = cix.max_values[p].data = (uint8 *) "";
					cix.min_values[p].len = cix.max_values[p].len = 0;
					cix.null_pages[p] = true;
				}
				cix.null_counts[p] = ci->pages[p].null_count;
			}
			cix.boundary_order = pages_ascending(c, ci, false) ? PARQUET_BOUNDARY_ASCENDING :
				pages_ascending(c, ci, true) ? PARQUET_BOUNDARY_DESCENDING : PARQUET_BOUNDARY_UNORDERED;
			cc->has_column_index = true;
			write_thrift(w, enc_ci, &cix, &cc->column_index_offset, &cc->column_index_length);
		}
		rgno++;
	}
	rgno = 0;
	foreach(lc, w->row_groups)
	{
		PqRowGroup *rg = lfirst(lc);

		for (int i = 0; i < w->ncols; i++)
		{
			PqwChunkIndex *ci = list_nth(w->chunk_indexes, rgno * w->ncols + i);
			PqOffsetIndex oi;
			PqColumnChunk *cc = &rg->columns[i];

			oi.num_pages = ci->npages;
			oi.page_locations = palloc(sizeof(PqPageLocation) * Max(ci->npages, 1));
			for (int p = 0; p < ci->npages; p++)
			{
				oi.page_locations[p].offset = ci->pages[p].offset;
				oi.page_locations[p].compressed_page_size = ci->pages[p].size;
				oi.page_locations[p].first_row_index = ci->pages[p].first_row;
			}
			cc->has_offset_index = true;
			write_thrift(w, enc_oi, &oi, &cc->offset_index_offset, &cc->offset_index_length);
		}
		rgno++;
	}
}

uint64
parquet_writer_finish(PqWriter *w, List *key_values)
{
	MemoryContext old = MemoryContextSwitchTo(w->cxt);
	PqFileMetaData fm;
	ThriftWriter tw;
	uint32		flen;
	int			nkv;
	ListCell   *lc;
	int			i;
	uint64		size;

	flush_row_group(w);
	write_page_indexes(w);

	memset(&fm, 0, sizeof(fm));
	fm.version = 1;
	schema_elements(w, &fm);
	fm.num_rows = w->total_rows;
	fm.num_row_groups = list_length(w->row_groups);
	fm.row_groups = palloc0(sizeof(PqRowGroup) * Max(fm.num_row_groups, 1));
	i = 0;
	foreach(lc, w->row_groups)
		fm.row_groups[i++] = *(PqRowGroup *) lfirst(lc);

	nkv = list_length(key_values) + list_length(w->opts.key_values);
	fm.key_value = palloc0(sizeof(PqKeyValue) * Max(nkv, 1));
	foreach(lc, key_values)
		fm.key_value[fm.num_key_value++] = *(PqKeyValue *) lfirst(lc);
	foreach(lc, w->opts.key_values)
		fm.key_value[fm.num_key_value++] = *(PqKeyValue *) lfirst(lc);
	fm.created_by = (char *) w->opts.created_by;
	fm.num_column_orders = w->opts.statistics ? fm.num_leaves : 0;

	thrift_writer_init(&tw);
	parquet_encode_file_metadata(&tw, &fm);
	w->sink->write(w->sink, (const char *) tw.data, tw.len);
	flen = (uint32) tw.len;
	w->sink->write(w->sink, (const char *) &flen, 4);
	w->sink->write(w->sink, "PAR1", 4);
	size = w->sink->offset;
	w->sink->finish(w->sink);
	w->finished = true;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(w->cxt);
	return size;
}
