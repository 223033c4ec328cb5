/*
 * parquet_reader.c — Parquet reader core (see parquet_reader.h).
 *
 * Written from the Parquet format specification (parquet.thrift,
 * Encodings.md, PageIndex.md).  Produces values in their physical
 * representation; pgmap_datum.c maps them to Postgres types.  Uses only
 * palloc, memory contexts and ereport so the fuzz harness can link it.
 *
 * Structure
 *   open:     magic + footer length + FileMetaData; schema -> PqColumnDesc.
 *   Cursor:   one column chunk of one row group.  Either "chunk mode" (the
 *             whole chunk fetched, pages decoded in order) or "page mode"
 *             (OffsetIndex known; only the pages needed are fetched).  A
 *             cursor seeks forward to a row and appends rows to a vector.
 *   Page:     decompress, decode repetition/definition levels (RLE /
 *             bit-packed hybrid), decode values (PLAIN or dictionary).
 *   Scan:     per row group: statistics pruning, ColumnIndex page pruning
 *             into row ranges, then batches of rows from the cursors.
 *   Take:     rows sorted, grouped per row group, pages located with the
 *             OffsetIndex, fetched in one call, rows returned in the
 *             caller's order.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "parquet/io_arena.h"
#include "parquet/parquet_page_cache.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_codec.h"
#include "parquet/parquet_encoding.h"
#include "parquet/parquet_takeable.h"

#ifdef WORDS_BIGENDIAN
#error "the Parquet reader assumes a little-endian host"
#endif

/* ------------------------------------------------------------------ errors */

/*
 * Every problem with the file goes through lake_report (lake/lake_error.h):
 * "invalid Parquet file "<uri>": <reason>" (LAKE_CORRUPT) or "cannot read
 * Parquet file "<uri>": <reason>" (LAKE_UNSUPPORTED), DETAIL the column, row
 * group and page when known (cursor_ctx).
 */
#define PARQUET_FILE "Parquet file"

/* ------------------------------------------------------------------ schema */

typedef struct LeafInfo
{
	int			schema_index;
	int			top;			/* schema index of the top-level field */
	int16		def;
	int16		rep;
	char	   *path;
} LeafInfo;

typedef struct SchemaWalk
{
	PqReader   *r;
	int			next;			/* next schema element to visit */
	LeafInfo   *leaves;
	int			nleaves;
	int		   *first_child;	/* per schema element */
} SchemaWalk;

static void
walk_schema(SchemaWalk *w, int idx, int top, int16 def, int16 rep, const char *prefix)
{
	PqSchemaElement *e = &w->r->meta->schema[idx];
	char	   *path = prefix ? psprintf("%s.%s", prefix, e->name) : pstrdup(e->name);

	if (e->repetition == PARQUET_OPTIONAL)
		def++;
	else if (e->repetition == PARQUET_REPEATED)
	{
		def++;
		rep++;
	}
	w->next = idx + 1;
	if (e->num_children == 0)
	{
		LeafInfo   *l = &w->leaves[w->nleaves++];

		l->schema_index = idx;
		l->top = top;
		l->def = def;
		l->rep = rep;
		l->path = path;
		return;
	}
	w->first_child[idx] = idx + 1;
	for (int i = 0; i < e->num_children; i++)
		walk_schema(w, w->next, top, def, rep, path);
}

static bool
is_list_group(const PqSchemaElement *e)
{
	return e->logical_type.kind == PARQUET_LT_LIST ||
		(e->has_converted_type && e->converted_type == PARQUET_CT_LIST);
}

static void
classify_column(PqReader *r, PqColumnDesc *c, int top, int nleaves_in_field,
				const LeafInfo *leaf, const int *first_child)
{
	PqSchemaElement *schema = r->meta->schema;
	PqSchemaElement *t = &schema[top];
	int16		tdef = (t->repetition == PARQUET_REQUIRED) ? 0 : 1;

	c->name = t->name;
	c->top_schema_index = top;
	c->has_field_id = t->has_field_id;
	c->field_id = t->field_id;
	if (leaf == NULL)
	{
		c->unsupported = "group without leaf columns";
		c->leaf = -1;
		return;
	}
	c->path = leaf->path;
	c->schema_index = leaf->schema_index;
	c->leaf_elem = &schema[leaf->schema_index];
	c->type = c->leaf_elem->type;
	c->type_length = c->leaf_elem->type_length;
	c->max_def = leaf->def;
	c->max_rep = leaf->rep;

	if (nleaves_in_field > 1)
	{
		c->unsupported = (t->logical_type.kind == PARQUET_LT_MAP ||
						  (t->has_converted_type && t->converted_type == PARQUET_CT_MAP))
			? "map columns are not supported" : "struct columns are not supported";
		return;
	}
	if (t->num_children == 0)
	{
		if (t->repetition == PARQUET_REPEATED)
		{
			/* bare repeated primitive: a list of required elements */
			c->is_list = true;
			c->list_def = 0;
			c->elem_def = 1;
		}
		return;
	}
	if (!is_list_group(t))
	{
		c->unsupported = "struct columns are not supported";
		return;
	}
	if (t->repetition == PARQUET_REPEATED || t->num_children != 1)
	{
		c->unsupported = "malformed LIST group";
		return;
	}
	{
		int			ridx = first_child[top];
		PqSchemaElement *rep = &schema[ridx];

		if (rep->repetition != PARQUET_REPEATED)
		{
			c->unsupported = "malformed LIST group (child is not repeated)";
			return;
		}
		if (rep->num_children > 1 ||
			(rep->num_children == 1 &&
			 (schema[ridx + 1].num_children > 0 || schema[ridx + 1].repetition == PARQUET_REPEATED)))
		{
			c->unsupported = "lists of structs or nested lists are not supported";
			return;
		}
	}
	if (c->max_rep != 1)
	{
		c->unsupported = "nested lists are not supported";
		return;
	}
	c->is_list = true;
	c->list_def = tdef;
	c->elem_def = tdef + 1;
	if (c->max_def != c->elem_def && c->max_def != c->elem_def + 1)
		c->unsupported = "unexpected definition levels for a list";
}

static void
build_columns(PqReader *r)
{
	PqFileMetaData *m = r->meta;
	PqSchemaElement *root = &m->schema[0];
	SchemaWalk	w = {0};
	int			nleaf_seen = 0;
	LakeErrorContext fctx = {PARQUET_FILE, r->name, NULL, NULL};

	w.r = r;
	w.leaves = palloc0(sizeof(LeafInfo) * Max(m->num_leaves, 1));
	w.first_child = palloc0(sizeof(int) * m->num_schema);
	w.next = 1;
	r->ncolumns = root->num_children;
	r->columns = palloc0(sizeof(PqColumnDesc) * Max(r->ncolumns, 1));
	for (int i = 0; i < root->num_children; i++)
	{
		int			top = w.next;
		int			before = w.nleaves;

		walk_schema(&w, top, top, 0, 0, NULL);
		if (m->schema[top].repetition == PARQUET_REPEATED && m->schema[top].num_children > 0)
		{
			r->columns[i].name = m->schema[top].name;
			r->columns[i].unsupported = "repeated groups are not supported";
			r->columns[i].leaf = before;
			continue;
		}
		classify_column(r, &r->columns[i], top, w.nleaves - before,
						w.nleaves > before ? &w.leaves[before] : NULL, w.first_child);
		r->columns[i].leaf = w.nleaves > before ? before : -1;
		nleaf_seen = w.nleaves;
	}
	(void) nleaf_seen;
	Assert(w.nleaves == m->num_leaves);

	/* column chunks must agree with the schema */
	for (int g = 0; g < m->num_row_groups; g++)
	{
		for (int l = 0; l < m->num_leaves; l++)
		{
			PqColumnChunk *cc = &m->row_groups[g].columns[l];
			PqSchemaElement *leaf = &m->schema[w.leaves[l].schema_index];

			if (cc->encrypted || !cc->has_meta_data)
				lake_report(LAKE_UNSUPPORTED, &fctx, "encrypted column chunks are not supported");
			if (cc->file_path != NULL)
				lake_report(LAKE_UNSUPPORTED, &fctx,
							"column data in another file (\"%s\") is not supported", cc->file_path);
			if (cc->meta_data.type != leaf->type)
				lake_corrupt(PARQUET_FILE, r->name, "column chunk %d of row group %d has type %s but the schema says %s",
							  l, g, parquet_type_name(cc->meta_data.type), parquet_type_name(leaf->type));
		}
	}
}

/* -------------------------------------------------------------------- open */

#define PARQUET_TAIL_GUESS	(64 * 1024)

int			parquet_chunk_window = 16 * 1024 * 1024;

PqReader *
parquet_reader_open(ByteSource *src)
{
	PqReader   *r = palloc0(sizeof(PqReader));
	char	   *tail;
	char	   *tail_buf;
	uint64		tail_len;
	bool		footer_in_tail;
	char	   *head;
	uint32		footer_len;
	char	   *footer;
	int64		row = 0;
	LakeErrorContext fctx = {PARQUET_FILE, src->name, NULL, NULL};

	r->src = src;
	r->name = src->name;
	if (src->version != NULL && src->version[0] != '\0')
		r->page_cache_file = parquet_page_cache_file_hash(src->name, src->version) | 1;
	r->cxt = CurrentMemoryContext;
	if (src->size < 12)
		lake_corrupt(PARQUET_FILE, r->name, "file is %llu bytes, too small to be Parquet",
					  (unsigned long long) src->size);
	/*
	 * One request for the leading magic and the last PARQUET_TAIL_GUESS bytes,
	 * which hold the whole footer of most files; a second only for bigger
	 * footers.
	 */
	{
		ByteRange	rr[2];

		tail_len = Min(src->size - 4, PARQUET_TAIL_GUESS);
		rr[0].offset = 0;
		rr[0].length = 4;
		rr[0].dest = head = palloc(4);
		rr[1].offset = src->size - tail_len;
		rr[1].length = tail_len;
		rr[1].dest = tail_buf = palloc(tail_len);
		parquet_source_read_ranges(src, rr, 2);
		tail = tail_buf + tail_len - 8;
	}
	if (memcmp(tail + 4, "PARE", 4) == 0)
		lake_report(LAKE_UNSUPPORTED, &fctx, "encrypted footers are not supported");
	if (memcmp(tail + 4, "PAR1", 4) != 0)
		lake_corrupt(PARQUET_FILE, r->name, "missing \"PAR1\" magic at the end of the file");
	if (memcmp(head, "PAR1", 4) != 0)
		lake_corrupt(PARQUET_FILE, r->name, "missing \"PAR1\" magic at the start of the file");
	footer_len = (uint32) (uint8) tail[0] | (uint32) (uint8) tail[1] << 8 |
		(uint32) (uint8) tail[2] << 16 | (uint32) (uint8) tail[3] << 24;
	if (footer_len == 0 || (uint64) footer_len > src->size - 12)
		lake_corrupt(PARQUET_FILE, r->name, "footer length %u does not fit in a file of %llu bytes",
					  footer_len, (unsigned long long) src->size);
	if (footer_len > PARQUET_MAX_FOOTER_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Parquet file \"%s\" has a footer of %u bytes, more than the limit of %d",
						r->name, footer_len, PARQUET_MAX_FOOTER_BYTES)));
	r->footer_len = footer_len;
	footer_in_tail = ((uint64) footer_len + 8 <= tail_len);
	if (footer_in_tail)
		footer = tail_buf + tail_len - 8 - footer_len;
	else
		footer = parquet_source_read(src, src->size - 8 - footer_len, footer_len);
	r->meta = parquet_decode_file_metadata((const uint8 *) footer, footer_len, r->name);
	if (!footer_in_tail)
		pfree(footer);
	r->tail = tail_buf;
	r->tail_len = tail_len;
	if (r->meta->encrypted)
		lake_report(LAKE_UNSUPPORTED, &fctx, "encrypted files are not supported");
	build_columns(r);

	r->rg_first_row = palloc0(sizeof(int64) * (r->meta->num_row_groups + 1));
	for (int g = 0; g < r->meta->num_row_groups; g++)
	{
		r->rg_first_row[g] = row;
		if (r->meta->row_groups[g].num_rows > PG_INT64_MAX - row)
			lake_corrupt(PARQUET_FILE, r->name, "row counts overflow");
		row += r->meta->row_groups[g].num_rows;
	}
	r->rg_first_row[r->meta->num_row_groups] = row;
	if (row != r->meta->num_rows)
		lake_corrupt(PARQUET_FILE, r->name, "row groups hold %lld rows but the footer says %lld",
					  (long long) row, (long long) r->meta->num_rows);
	return r;
}

int
parquet_reader_column(PqReader *r, const char *name)
{
	for (int i = 0; i < r->ncolumns; i++)
		if (strcmp(r->columns[i].name, name) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------------ cursor */

typedef struct DecodedPage
{
	int32		nlevels;
	uint8	   *def;			/* NULL when max_def == 0 */
	uint8	   *rep;			/* NULL when max_rep == 0 */
	int32		nvalues;		/* non-null values */
	uint8	   *fixed;
	PqBytes    *bin;
	int64		nrows;
	int32		lpos;			/* next level */
	int32		vpos;			/* next value */
} DecodedPage;

/* A page of a page-mode cursor that is at hand: fetched bytes or cached. */
typedef struct PageSlot
{
	int32		page;
	char	   *buf;			/* fetched page (header + body), or NULL */
	void	   *hit;			/* the cached decoded page, or NULL */
} PageSlot;

typedef struct Cursor
{
	PqReader   *r;
	PqColumnDesc *col;
	int			rg;
	PqColumnChunk *chunk;
	int			width;			/* fixed value width, 0 for binary */
	uint64		chunk_start;
	uint64		chunk_len;
	MemoryContext cxt;			/* chunk buffers, dictionary: per row group */
	MemoryContext page_cxt;		/* current decoded page */
	/* chunk mode */
	char	   *chunk_buf;		/* chunk bytes [win_off, win_off + win_len) */
	uint64		win_off;
	uint64		win_len;
	uint64		pos;			/* next page header, from the chunk start */
	int64		values_seen;	/* level entries decoded so far (vs num_values) */
	/* page mode */
	PqOffsetIndex *oi;
	PageSlot   *slots;			/* pages fetched or found cached, by page */
	int			nslots;
	int			slots_cap;
	bool		use_cache;		/* takes of a versioned source: page cache */
	bool	   *row_hit;		/* offset-computed take: rows found cached */
	bool		dict_fetched;
	char	   *dict_buf;
	uint64		dict_len;
	/* dictionary */
	bool		has_dict;
	int32		dict_n;
	uint8	   *dict_fixed;
	PqBytes    *dict_bin;
	/* position */
	int			page_no;		/* pages loaded so far (chunk mode) / current (page mode) */
	bool		have_page;
	DecodedPage page;
	int64		page_first_row; /* row (within the row group) of page row 0 */
	int64		next_row;		/* next row (within the row group) */
	int64		*pages_read;
	IoArena    *arena;			/* page buffers from here if not NULL */
	LakeErrorContext ectx;		/* cursor_ctx() */
	char		where[NAMEDATALEN * 2 + 64];
} Cursor;

/* The file and the cursor's place in it, for lake_report. */
static const LakeErrorContext *
cursor_ctx(Cursor *c)
{
	snprintf(c->where, sizeof(c->where), "Column \"%s\", row group %d, page %d.",
			 c->col->path, c->rg, c->page_no);
	c->ectx.what = PARQUET_FILE;
	c->ectx.object = c->r->name;
	c->ectx.where = c->where;
	c->ectx.hint = NULL;
	return &c->ectx;
}

static const LakeErrorContext *
describe_cursor(void *arg)
{
	return cursor_ctx((Cursor *) arg);
}

/* Bytes per value in PqColumnVector.fixed (booleans: one); 0 for the
 * binary types, whose values are PqBytes. */
static int
vector_width(const PqColumnDesc *col)
{
	if (col->type == PARQUET_BOOLEAN)
		return 1;
	if (col->type == PARQUET_FIXED_LEN_BYTE_ARRAY)
		return 0;
	return Max(parquet_plain_width(col->type, col->type_length), 0);
}

/* ------------------------------------------------------------ decompress */

static void
decompress(Cursor *c, PqCodec codec, const char *src, size_t srclen, char *dst, size_t dstlen)
{
	if (!parquet_codec_supported(codec))
		lake_report(LAKE_UNSUPPORTED, cursor_ctx(c), "compression codec %s is not supported",
					parquet_codec_name(codec));
	parquet_decompress(codec, src, srclen, dst, dstlen);
}

/* ----------------------------------------------------------- RLE / levels */

/*
 * RLE / bit-packed hybrid (Encodings.md) without length prefix, decoded by
 * parquet_encoding.c; here every value is also checked against maxval.
 */
static void
rle_decode(Cursor *c, const uint8 *buf, size_t len, int bit_width, uint32 maxval,
		   int64 n, uint32 *out, const char *what)
{
	parquet_rle_decode(buf, len, bit_width, n, out);
	for (int64 i = 0; i < n; i++)
		if (out[i] > maxval)
			lake_report(LAKE_CORRUPT, cursor_ctx(c), "%s value %u exceeds the maximum %u", what, out[i], maxval);
}

/* Levels into uint8 (max level <= 255 is guaranteed by the schema depth). */
static void
decode_levels(Cursor *c, const uint8 *buf, size_t len, int16 maxlevel, int32 n,
			  uint8 *out, const char *what)
{
	uint32	   *tmp = palloc(sizeof(uint32) * Max(n, 1));

	rle_decode(c, buf, len, parquet_bit_width(maxlevel), maxlevel, n, tmp, what);
	for (int32 i = 0; i < n; i++)
		out[i] = (uint8) tmp[i];
	pfree(tmp);
}

/* ----------------------------------------------------------------- values */

/* PLAIN: n values into fixed (n*width) or bin; returns bytes consumed. */
static size_t
decode_plain(Cursor *c, const uint8 *buf, size_t len, int32 n, uint8 *fixed, PqBytes *bin)
{
	PqColumnDesc *col = c->col;

	switch (col->type)
	{
		case PARQUET_BOOLEAN:
			if ((size_t) (n + 7) / 8 > len)
				lake_report(LAKE_CORRUPT, cursor_ctx(c), "truncated PLAIN booleans (%d values, %zu bytes)", n, len);
			for (int32 i = 0; i < n; i++)
				fixed[i] = (buf[i / 8] >> (i % 8)) & 1;
			return (n + 7) / 8;
		case PARQUET_INT32:
		case PARQUET_FLOAT:
		case PARQUET_INT64:
		case PARQUET_DOUBLE:
		case PARQUET_INT96:
			{
				size_t		need = (size_t) n * c->width;

				if (need > len)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "truncated PLAIN values (%d values need %zu bytes, %zu present)",
								 n, need, len);
				memcpy(fixed, buf, need);
				return need;
			}
		case PARQUET_FIXED_LEN_BYTE_ARRAY:
			{
				size_t		need = (size_t) n * col->type_length;

				if (need > len)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "truncated PLAIN values (%d values need %zu bytes, %zu present)",
								 n, need, len);
				for (int32 i = 0; i < n; i++)
				{
					bin[i].data = (uint8 *) buf + (size_t) i * col->type_length;
					bin[i].len = col->type_length;
				}
				return need;
			}
		case PARQUET_BYTE_ARRAY:
			{
				size_t		pos = 0;

				for (int32 i = 0; i < n; i++)
				{
					uint32		l;

					if (len - pos < 4)
						lake_report(LAKE_CORRUPT, cursor_ctx(c), "truncated PLAIN byte array length at value %d", i);
					memcpy(&l, buf + pos, 4);
					pos += 4;
					if (l > len - pos)
						lake_report(LAKE_CORRUPT, cursor_ctx(c), "byte array value %d of %u bytes overruns the page", i, l);
					bin[i].data = (uint8 *) buf + pos;
					bin[i].len = (int32) l;
					pos += l;
				}
				return pos;
			}
	}
	lake_report(LAKE_CORRUPT, cursor_ctx(c), "unknown physical type %d", col->type);
}

/* PLAIN data of len bytes cannot hold more values than this. */
static void
check_plain_count(Cursor *c, int32 n, size_t len)
{
	size_t		per = c->col->type == PARQUET_BYTE_ARRAY ? 4 :
		c->col->type == PARQUET_FIXED_LEN_BYTE_ARRAY ? (size_t) c->col->type_length : (size_t) c->width;
	size_t		max = c->col->type == PARQUET_BOOLEAN ? len * 8 : len / Max(per, 1);

	if ((size_t) n > max)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "%d PLAIN values cannot fit in %zu bytes", n, len);
}

static void
alloc_values(Cursor *c, int32 n, uint8 **fixed, PqBytes **bin)
{
	*fixed = NULL;
	*bin = NULL;
	if (c->width > 0)
		*fixed = palloc(Max((size_t) n * c->width, 1));
	else
		*bin = palloc(sizeof(PqBytes) * Max(n, 1));
}

static void
load_dictionary(Cursor *c, const PqPageHeader *h, const char *body, size_t len)
{
	const PqDictionaryPageHeader *dh = &h->dictionary_page_header;
	MemoryContext old;

	if (c->has_dict)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "more than one dictionary page");
	if (dh->encoding != PARQUET_ENC_PLAIN && dh->encoding != PARQUET_ENC_PLAIN_DICTIONARY)
		lake_report(LAKE_UNSUPPORTED, cursor_ctx(c), "dictionary encoding %s is not supported",
						   parquet_encoding_name(dh->encoding));
	if (dh->num_values > PARQUET_MAX_PAGE_VALUES)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "dictionary of %d values exceeds the limit of %d",
					 dh->num_values, PARQUET_MAX_PAGE_VALUES);
	check_plain_count(c, dh->num_values, len);
	old = MemoryContextSwitchTo(c->cxt);
	alloc_values(c, dh->num_values, &c->dict_fixed, &c->dict_bin);
	/* body is in c->cxt already (binary values point into it) */
	decode_plain(c, (const uint8 *) body, len, dh->num_values, c->dict_fixed, c->dict_bin);
	MemoryContextSwitchTo(old);
	c->dict_n = dh->num_values;
	c->has_dict = true;
}

static void
decode_values(Cursor *c, PqEncoding enc, const uint8 *buf, size_t len, int32 n,
			  DecodedPage *p)
{
	if (enc == PARQUET_ENC_PLAIN)
		check_plain_count(c, n, len);
	alloc_values(c, n, &p->fixed, &p->bin);
	p->nvalues = n;
	if (n == 0)
		return;
	switch (enc)
	{
		case PARQUET_ENC_PLAIN:
			decode_plain(c, buf, len, n, p->fixed, p->bin);
			return;
		case PARQUET_ENC_PLAIN_DICTIONARY:
		case PARQUET_ENC_RLE_DICTIONARY:
			{
				uint32	   *idx;

				if (!c->has_dict)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "dictionary-encoded page without a dictionary page");
				if (c->dict_n == 0)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "dictionary-encoded values but the dictionary is empty");
				idx = palloc(sizeof(uint32) * n);
				parquet_dict_indices_decode(buf, len, n, (uint32) c->dict_n, idx);
				for (int32 i = 0; i < n; i++)
				{
					if (idx[i] >= (uint32) c->dict_n)	/* defensive: checked above too */
						lake_report(LAKE_CORRUPT, cursor_ctx(c), "dictionary index %u out of range (%d entries)",
									 idx[i], c->dict_n);
					if (c->width > 0)
						memcpy(p->fixed + (size_t) i * c->width,
							   c->dict_fixed + (size_t) idx[i] * c->width, c->width);
					else
						p->bin[i] = c->dict_bin[idx[i]];
				}
				pfree(idx);
				return;
			}
		case PARQUET_ENC_DELTA_BINARY_PACKED:
			{
				int64		got = 0;

				if (c->col->type == PARQUET_INT32)
					parquet_delta_decode_int32(buf, len, n, (int32 *) p->fixed, &got);
				else if (c->col->type == PARQUET_INT64)
					parquet_delta_decode_int64(buf, len, n, (int64 *) p->fixed, &got);
				else
					break;
				if (got != n)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "DELTA_BINARY_PACKED holds %lld values, the levels say %d",
								 (long long) got, n);
				return;
			}
		case PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY:
		case PARQUET_ENC_DELTA_BYTE_ARRAY:
			{
				PqByteArray *ba;
				int64		got = 0;
				char	   *arena = NULL;

				if (c->col->type != PARQUET_BYTE_ARRAY &&
					!(enc == PARQUET_ENC_DELTA_BYTE_ARRAY && c->col->type == PARQUET_FIXED_LEN_BYTE_ARRAY))
					break;
				ba = palloc(sizeof(PqByteArray) * n);
				if (enc == PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY)
					parquet_delta_length_decode(buf, len, n, ba, &got);
				else
					parquet_delta_byte_array_decode(buf, len, n, PARQUET_MAX_PAGE_BYTES, ba, &got, &arena);
				if (got != n)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "%s holds %lld values, the levels say %d",
								 parquet_encoding_name(enc), (long long) got, n);
				for (int32 i = 0; i < n; i++)
				{
					if (c->col->type == PARQUET_FIXED_LEN_BYTE_ARRAY && ba[i].len != (uint32) c->col->type_length)
						lake_report(LAKE_CORRUPT, cursor_ctx(c), "value %d has %u bytes, the column is FIXED_LEN_BYTE_ARRAY(%d)",
									 i, ba[i].len, c->col->type_length);
					p->bin[i].data = (uint8 *) ba[i].ptr;
					p->bin[i].len = (int32) ba[i].len;
				}
				return;
			}
		case PARQUET_ENC_BYTE_STREAM_SPLIT:
			if (c->width > 0 && c->col->type != PARQUET_BOOLEAN && c->col->type != PARQUET_INT96)
			{
				parquet_bss_decode(buf, len, c->width, n, p->fixed);
				return;
			}
			if (c->col->type == PARQUET_FIXED_LEN_BYTE_ARRAY)
			{
				uint8	   *raw = palloc((size_t) n * c->col->type_length);

				parquet_bss_decode(buf, len, c->col->type_length, n, raw);
				for (int32 i = 0; i < n; i++)
				{
					p->bin[i].data = raw + (size_t) i * c->col->type_length;
					p->bin[i].len = c->col->type_length;
				}
				return;
			}
			break;
		case PARQUET_ENC_RLE:
			if (c->col->type == PARQUET_BOOLEAN)
			{
				uint32	   *tmp = palloc(sizeof(uint32) * n);
				uint32		blen;

				if (len < 4)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "truncated RLE boolean values");
				memcpy(&blen, buf, 4);
				if (blen > len - 4)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "RLE boolean length %u overruns the page", blen);
				rle_decode(c, buf + 4, blen, 1, 1, n, tmp, "boolean");
				for (int32 i = 0; i < n; i++)
					p->fixed[i] = (uint8) tmp[i];
				pfree(tmp);
				return;
			}
			break;
		default:
			break;
	}
	lake_report(LAKE_UNSUPPORTED, cursor_ctx(c), "value encoding %s is not supported for %s",
					   parquet_encoding_name(enc), parquet_type_name(c->col->type));
}

static int64
count_rows(Cursor *c, DecodedPage *p)
{
	int64		rows = 0;

	if (p->rep == NULL)
		return p->nlevels;
	if (p->nlevels > 0 && p->rep[0] != 0)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "page does not start at a row boundary");
	for (int32 i = 0; i < p->nlevels; i++)
		if (p->rep[i] == 0)
			rows++;
	return rows;
}

static int32
count_present(Cursor *c, DecodedPage *p)
{
	int32		n = 0;

	if (p->def == NULL)
		return p->nlevels;
	for (int32 i = 0; i < p->nlevels; i++)
		if (p->def[i] == c->col->max_def)
			n++;
	return n;
}

/*
 * Decode one page (header already parsed, body = compressed_page_size
 * bytes).  Dictionary pages are loaded into the cursor; returns false for
 * pages that carry no rows (dictionary, index pages).
 */
static bool decode_page_body(Cursor *c, const PqPageHeader *h, const char *body, PqCodec codec,
							 size_t clen, size_t ulen, PqColumnDesc *col, DecodedPage *p);

static bool
decode_page(Cursor *c, const PqPageHeader *h, const char *body)
{
	PqColumnDesc *col = c->col;
	PqCodec		codec = c->chunk->meta_data.codec;
	DecodedPage *p = &c->page;
	size_t		clen = h->compressed_page_size;
	size_t		ulen = h->uncompressed_page_size;

	ParquetDecodeScope scope;
	bool		result;

	if (ulen > PARQUET_MAX_PAGE_BYTES)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "page of %zu bytes exceeds the limit of %d", ulen, PARQUET_MAX_PAGE_BYTES);
	/* the codecs and encodings name the file and page from this scope */
	parquet_decode_begin(&scope, describe_cursor, c);
	result = decode_page_body(c, h, body, codec, clen, ulen, col, p);
	parquet_decode_end(&scope);
	return result;
}

static bool
decode_page_body(Cursor *c, const PqPageHeader *h, const char *body, PqCodec codec,
				 size_t clen, size_t ulen, PqColumnDesc *col, DecodedPage *p)
{
	if (h->type == PARQUET_PAGE_DICTIONARY)
	{
		char	   *buf = MemoryContextAlloc(c->cxt, Max(ulen, 1));

		decompress(c, codec, body, clen, buf, ulen);
		load_dictionary(c, h, buf, ulen);
		return false;
	}
	if (h->type == PARQUET_PAGE_INDEX)
		return false;
	if (h->type != PARQUET_PAGE_DATA && h->type != PARQUET_PAGE_DATA_V2)
		return false;			/* unknown page types are skipped, as the spec allows */

	MemoryContextReset(c->page_cxt);
	{
		MemoryContext old = MemoryContextSwitchTo(c->page_cxt);

		memset(p, 0, sizeof(*p));
		if (h->type == PARQUET_PAGE_DATA)
		{
			const PqDataPageHeader *dh = &h->data_page_header;
			const char *buf;
			size_t		pos = 0;

			if (dh->num_values > PARQUET_MAX_PAGE_VALUES)
				lake_report(LAKE_CORRUPT, cursor_ctx(c), "page of %d values exceeds the limit of %d",
							 dh->num_values, PARQUET_MAX_PAGE_VALUES);
			if (codec == PARQUET_CODEC_UNCOMPRESSED && clen == ulen)
				buf = body;		/* the fetched bytes outlive the decoded page */
			else
			{
				char	   *dbuf = palloc(Max(ulen, 1));

				decompress(c, codec, body, clen, dbuf, ulen);
				buf = dbuf;
			}
			p->nlevels = dh->num_values;
			if (col->max_rep > 0)
			{
				uint32		l;

				if (dh->repetition_level_encoding != PARQUET_ENC_RLE)
					lake_report(LAKE_UNSUPPORTED, cursor_ctx(c), "repetition level encoding %s is not supported",
									   parquet_encoding_name(dh->repetition_level_encoding));
				if (ulen - pos < 4)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "truncated repetition levels");
				memcpy(&l, buf + pos, 4);
				pos += 4;
				if (l > ulen - pos)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "repetition levels length %u overruns the page", l);
				p->rep = palloc(Max(p->nlevels, 1));
				decode_levels(c, (uint8 *) buf + pos, l, col->max_rep, p->nlevels, p->rep,
							  "repetition level");
				pos += l;
			}
			if (col->max_def > 0)
			{
				uint32		l;

				if (dh->definition_level_encoding != PARQUET_ENC_RLE)
					lake_report(LAKE_UNSUPPORTED, cursor_ctx(c), "definition level encoding %s is not supported",
									   parquet_encoding_name(dh->definition_level_encoding));
				if (ulen - pos < 4)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "truncated definition levels");
				memcpy(&l, buf + pos, 4);
				pos += 4;
				if (l > ulen - pos)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "definition levels length %u overruns the page", l);
				p->def = palloc(Max(p->nlevels, 1));
				decode_levels(c, (uint8 *) buf + pos, l, col->max_def, p->nlevels, p->def,
							  "definition level");
				pos += l;
			}
			decode_values(c, dh->encoding, (uint8 *) buf + pos, ulen - pos,
						  count_present(c, p), p);
			p->nrows = count_rows(c, p);
		}
		else
		{
			const PqDataPageHeaderV2 *dh = &h->data_page_header_v2;
			size_t		levlen = (size_t) dh->repetition_levels_byte_length +
				dh->definition_levels_byte_length;
			char	   *vals;
			size_t		vlen;

			if (dh->num_values > PARQUET_MAX_PAGE_VALUES)
				lake_report(LAKE_CORRUPT, cursor_ctx(c), "page of %d values exceeds the limit of %d",
							 dh->num_values, PARQUET_MAX_PAGE_VALUES);
			if (levlen > clen || levlen > ulen)
				lake_report(LAKE_CORRUPT, cursor_ctx(c), "level lengths (%zu bytes) exceed the page size", levlen);
			p->nlevels = dh->num_values;
			if (col->max_rep > 0)
			{
				p->rep = palloc(Max(p->nlevels, 1));
				decode_levels(c, (const uint8 *) body, dh->repetition_levels_byte_length,
							  col->max_rep, p->nlevels, p->rep, "repetition level");
			}
			if (col->max_def > 0)
			{
				p->def = palloc(Max(p->nlevels, 1));
				decode_levels(c, (const uint8 *) body + dh->repetition_levels_byte_length,
							  dh->definition_levels_byte_length, col->max_def, p->nlevels,
							  p->def, "definition level");
			}
			vlen = ulen - levlen;
			if (dh->is_compressed && codec != PARQUET_CODEC_UNCOMPRESSED)
			{
				vals = palloc(Max(vlen, 1));
				decompress(c, codec, body + levlen, clen - levlen, vals, vlen);
			}
			else
			{
				if (clen != ulen)
					lake_report(LAKE_CORRUPT, cursor_ctx(c), "uncompressed page of %zu bytes declares %zu bytes", clen, ulen);
				vals = (char *) body + levlen;
			}
			decode_values(c, dh->encoding, (uint8 *) vals, vlen, count_present(c, p), p);
			p->nrows = count_rows(c, p);
			if (p->nrows != dh->num_rows)
				lake_report(LAKE_CORRUPT, cursor_ctx(c), "page holds %lld rows but its header says %d",
							 (long long) p->nrows, dh->num_rows);
			if (p->nlevels - p->nvalues != dh->num_nulls && col->max_rep == 0)
				lake_report(LAKE_CORRUPT, cursor_ctx(c), "page holds %d nulls but its header says %d",
							 p->nlevels - p->nvalues, dh->num_nulls);
		}
		MemoryContextSwitchTo(old);
	}
	if (c->pages_read)
		(*c->pages_read)++;
	return true;
}

/*
 * Parse the page header at buf[0..len); returns header size.  The page body
 * must fit in the chunk_left bytes that follow the header's start.
 */
static size_t
parse_page_header(Cursor *c, const char *buf, size_t len, PqPageHeader *h, size_t chunk_left)
{
	ThriftReader tr;
	char		what[128];

	snprintf(what, sizeof(what), "page header of column \"%s\", row group %d, page %d",
			 c->col->path, c->rg, c->page_no);
	thrift_reader_init(&tr, buf, len, c->r->name, what);
	parquet_decode_page_header(&tr, h);
	if ((size_t) h->compressed_page_size > chunk_left - tr.pos)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "page of %d bytes overruns its column chunk (%zu bytes left)",
					 h->compressed_page_size, chunk_left - tr.pos);
	return tr.pos;
}

/* ------------------------------------------------------- cursor lifecycle */

static void
chunk_range(PqReader *r, PqColumnChunk *cc, int rg, uint64 *start, uint64 *len)
{
	PqColumnMetaData *m = &cc->meta_data;
	uint64		s = m->data_page_offset;
	uint64		data_end = r->src->size - 8 - r->footer_len;

	if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0 &&
		(uint64) m->dictionary_page_offset < s)
		s = m->dictionary_page_offset;
	if (s < 4 || s > data_end || (uint64) m->total_compressed_size > data_end - s)
		lake_corrupt(PARQUET_FILE, r->name, "column chunk \"%s\" of row group %d (offset %llu, %lld bytes) lies outside the data area (4..%llu)",
					  m->path_len > 0 ? m->path_in_schema[m->path_len - 1] : "?", rg,
					  (unsigned long long) s, (long long) m->total_compressed_size,
					  (unsigned long long) data_end);
	*start = s;
	*len = m->total_compressed_size;
}

static Cursor *
cursor_create(PqReader *r, PqColumnDesc *col, int rg, MemoryContext parent, int64 *pages_read)
{
	Cursor	   *c = MemoryContextAllocZero(parent, sizeof(Cursor));

	c->r = r;
	c->col = col;
	c->rg = rg;
	c->chunk = &r->meta->row_groups[rg].columns[col->leaf];
	c->width = vector_width(col);
	c->cxt = AllocSetContextCreate(parent, "parquet column chunk", ALLOCSET_DEFAULT_SIZES);
	c->page_cxt = AllocSetContextCreate(c->cxt, "parquet page", ALLOCSET_DEFAULT_SIZES);
	c->pages_read = pages_read;
	chunk_range(r, c->chunk, rg, &c->chunk_start, &c->chunk_len);
	return c;
}

/*
 * Chunk mode: make chunk bytes [pos, pos + need) available in chunk_buf.
 * Small chunks arrive whole with the row group's other chunks; big ones are
 * read in windows of vlake.parquet_scan_window bytes (or one page, if larger), so a
 * scan never holds a whole large chunk.
 */
static void
cursor_window(Cursor *c, uint64 pos, uint64 need)
{
	uint64		len;

	if (c->chunk_buf != NULL && pos >= c->win_off && pos + need <= c->win_off + c->win_len)
		return;
	len = Min(c->chunk_len - pos, Max(need, (uint64) parquet_chunk_window));
	if (c->chunk_buf != NULL)
		pfree(c->chunk_buf);
	c->chunk_buf = NULL;
	c->chunk_buf = MemoryContextAllocHuge(c->cxt, Max(len, 1));
	{
		ByteRange	br;

		br.offset = c->chunk_start + pos;
		br.length = len;
		br.dest = c->chunk_buf;
		parquet_source_read_ranges(c->r->src, &br, 1);
	}
	c->win_off = pos;
	c->win_len = len;
}

/* Chunk mode: load the next data page. */
static void
cursor_next_page_chunk(Cursor *c)
{
	for (;;)
	{
		PqPageHeader h;
		size_t		hlen;
		const char *body;

		CHECK_FOR_INTERRUPTS();
		if (c->pos >= c->chunk_len)
			lake_report(LAKE_CORRUPT, cursor_ctx(c), "column chunk ends before row %lld of %lld",
						 (long long) c->next_row,
						 (long long) c->r->meta->row_groups[c->rg].num_rows);
		/* the header: up to PARQUET_MAX_PAGE_HEADER bytes from pos */
		cursor_window(c, c->pos, Min(c->chunk_len - c->pos, PARQUET_MAX_PAGE_HEADER));
		hlen = parse_page_header(c, c->chunk_buf + (c->pos - c->win_off),
								 c->win_off + c->win_len - c->pos, &h, c->chunk_len - c->pos);
		/* the body, refetching from pos if it runs past the window */
		cursor_window(c, c->pos, hlen + h.compressed_page_size);
		body = c->chunk_buf + (c->pos - c->win_off) + hlen;
		c->pos += hlen + h.compressed_page_size;
		if (decode_page(c, &h, body))
		{
			c->page_first_row = c->next_row;
			c->page_no++;
			c->have_page = true;
			c->values_seen += c->page.nlevels;
			if (c->values_seen > c->chunk->meta_data.num_values)
				lake_report(LAKE_CORRUPT, cursor_ctx(c), "pages hold more values than the column chunk's %lld",
							 (long long) c->chunk->meta_data.num_values);
			return;
		}
		c->page_no++;
	}
}

static int64
page_rows(Cursor *c, int p)
{
	int64		end = (p + 1 < c->oi->num_pages) ? c->oi->page_locations[p + 1].first_row_index
		: c->r->meta->row_groups[c->rg].num_rows;

	return end - c->oi->page_locations[p].first_row_index;
}

static int
page_for_row(Cursor *c, int64 row)
{
	int			lo = 0,
				hi = c->oi->num_pages - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi + 1) / 2;

		if (c->oi->page_locations[mid].first_row_index <= row)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/*
 * The slot of page p (sorted by page; binary search), made if create.
 * Takes touch a few of a chunk's pages and scans append in page order, so
 * slots cost what is touched, not the chunk's page count.
 */
static PageSlot *
page_slot(Cursor *c, int p, bool create)
{
	int			lo = 0,
				hi = c->nslots;

	if (c->nslots > 0 && c->slots[c->nslots - 1].page < p)
		lo = c->nslots;			/* the common case: appending */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (c->slots[mid].page < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nslots && c->slots[lo].page == p)
		return &c->slots[lo];
	if (!create)
		return NULL;
	if (c->nslots == c->slots_cap)
	{
		c->slots_cap = Max(8, c->slots_cap * 2);
		c->slots = c->slots ?
			repalloc(c->slots, sizeof(PageSlot) * c->slots_cap) :
			MemoryContextAlloc(c->cxt, sizeof(PageSlot) * c->slots_cap);
	}
	memmove(&c->slots[lo + 1], &c->slots[lo], sizeof(PageSlot) * (c->nslots - lo));
	c->nslots++;
	c->slots[lo].page = p;
	c->slots[lo].buf = NULL;
	c->slots[lo].hit = NULL;
	return &c->slots[lo];
}

/* ------------------------------------------------ decoded page cache */

/*
 * Cache slots: page p of a chunk is slot p; the values of row rr (within
 * the row group) of an offset-computed take are slot -(rr + 1).
 */
static inline int32
row_cache_slot(int64 rr)
{
	Assert(rr >= 0 && rr < PG_INT32_MAX);
	return (int32) -(rr + 1);
}

static void *
cache_get(Cursor *c, int p)
{
	return parquet_page_cache_get(c->r->page_cache_file, c->r->name, c->r->src->version,
								  c->col->leaf, c->rg, p);
}

/*
 * Keep a copy of the cursor's freshly decoded page p: one blob holding the
 * DecodedPage (positions zero) and everything it points to, pointers into
 * the blob itself.
 */
static void
cache_put(Cursor *c, int p)
{
	DecodedPage *d = &c->page;
	Size		levels = (Size) Max(d->nlevels, 0);
	Size		nfixed = (d->fixed != NULL) ? (Size) d->nvalues * c->width : 0;
	Size		nbin = (d->bin != NULL) ? (Size) d->nvalues : 0;
	Size		data = 0;
	Size		off_def,
				off_rep,
				off_fixed,
				off_bin,
				off_data,
				total;
	char	   *blob;
	DecodedPage *out;

	for (Size i = 0; i < nbin; i++)
		data += d->bin[i].len;
	off_def = MAXALIGN(sizeof(DecodedPage));
	off_rep = off_def + (d->def ? MAXALIGN(levels) : 0);
	off_fixed = off_rep + (d->rep ? MAXALIGN(levels) : 0);
	off_bin = off_fixed + MAXALIGN(nfixed);
	off_data = off_bin + MAXALIGN(nbin * sizeof(PqBytes));
	total = off_data + data;
	blob = parquet_page_cache_alloc(total);
	out = (DecodedPage *) blob;
	*out = *d;
	out->lpos = 0;
	out->vpos = 0;
	out->def = d->def ? (uint8 *) memcpy(blob + off_def, d->def, levels) : NULL;
	out->rep = d->rep ? (uint8 *) memcpy(blob + off_rep, d->rep, levels) : NULL;
	out->fixed = d->fixed ? (uint8 *) memcpy(blob + off_fixed, d->fixed, nfixed) : NULL;
	out->bin = NULL;
	if (d->bin != NULL)
	{
		char	   *dst = blob + off_data;

		out->bin = (PqBytes *) (blob + off_bin);
		for (Size i = 0; i < nbin; i++)
		{
			memcpy(dst, d->bin[i].data, d->bin[i].len);
			out->bin[i].data = (uint8 *) dst;
			out->bin[i].len = d->bin[i].len;
			dst += d->bin[i].len;
		}
	}
	parquet_page_cache_put(c->r->page_cache_file, c->r->name, c->r->src->version,
						   c->col->leaf, c->rg, p, blob, total);
}

/* Page mode: load page p (already fetched, or cached). */
static void
cursor_load_page(Cursor *c, int p)
{
	PqPageLocation *pl = &c->oi->page_locations[p];
	PqPageHeader h;
	size_t		hlen;

	PageSlot   *slot = page_slot(c, p, false);

	if (slot != NULL && slot->hit != NULL)
	{
		c->page_no = p;
		c->page = *(DecodedPage *) slot->hit;
		c->page_first_row = pl->first_row_index;
		c->next_row = pl->first_row_index;
		c->have_page = true;
		return;
	}
	if (!c->dict_fetched)
		elog(ERROR, "parquet reader: dictionary of column \"%s\" not fetched", c->col->path);
	if (c->dict_buf && !c->has_dict)
	{
		size_t		dh = parse_page_header(c, c->dict_buf, c->dict_len, &h, c->dict_len);

		if (h.type == PARQUET_PAGE_DICTIONARY)
			decode_page(c, &h, c->dict_buf + dh);
	}
	if (slot == NULL || slot->buf == NULL)
		elog(ERROR, "parquet reader: page %d of column \"%s\" not fetched", p, c->col->path);
	c->page_no = p;
	hlen = parse_page_header(c, slot->buf, pl->compressed_page_size, &h,
							 pl->compressed_page_size);
	if (h.type != PARQUET_PAGE_DATA && h.type != PARQUET_PAGE_DATA_V2)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "offset index points at a page of type %d, not a data page", h.type);
	decode_page(c, &h, slot->buf + hlen);
	if (c->page.nrows != page_rows(c, p))
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "page holds %lld rows but the offset index says %lld",
					 (long long) c->page.nrows, (long long) page_rows(c, p));
	if (c->use_cache)
		cache_put(c, p);
	c->page_first_row = pl->first_row_index;
	c->next_row = pl->first_row_index;
	c->have_page = true;
}

/* Advance over one row of the current page; returns first level index. */
static inline int32
page_skip_row(Cursor *c)
{
	DecodedPage *p = &c->page;
	int32		start = p->lpos;

	do
	{
		if (p->def == NULL || p->def[p->lpos] == c->col->max_def)
			p->vpos++;
		p->lpos++;
	} while (p->rep != NULL && p->lpos < p->nlevels && p->rep[p->lpos] != 0);
	return start;
}

static void
cursor_seek(Cursor *c, int64 row)
{
	if (row < c->next_row && c->oi == NULL)
		elog(ERROR, "parquet reader: cursor cannot seek backwards");
	if (c->oi != NULL)
	{
		bool		in_page = c->have_page && row >= c->next_row &&
			row < c->page_first_row + c->page.nrows;

		if (!in_page)
			cursor_load_page(c, page_for_row(c, row));
	}
	else
	{
		while (!c->have_page || row >= c->page_first_row + c->page.nrows)
		{
			if (c->have_page)
				c->next_row = c->page_first_row + c->page.nrows;
			cursor_next_page_chunk(c);
		}
	}
	if (c->page.rep == NULL && c->next_row < row)
	{
		/* flat column: a row is one level; count the values it skips */
		DecodedPage *p = &c->page;
		int32		n = (int32) (row - c->next_row);

		if (p->lpos + n > p->nlevels)
			lake_report(LAKE_CORRUPT, cursor_ctx(c), "the page holds fewer rows than its offset index says");
		if (p->def == NULL)
			p->vpos += n;
		else
		{
			const uint8 *def = p->def + p->lpos;
			const uint8 max_def = (uint8) c->col->max_def;
			int32		present = 0;

			for (int32 k = 0; k < n; k++)	/* vectorizes: no aliasing */
				present += (def[k] == max_def);
			p->vpos += present;
		}
		p->lpos += n;
		c->next_row = row;
	}
	while (c->next_row < row)
	{
		page_skip_row(c);
		c->next_row++;
	}
}

/* ------------------------------------------------------------- vectors */

static void
vector_init(PqColumnVector *v, const PqColumnDesc *col, int64 nrows_cap)
{
	memset(v, 0, sizeof(*v));
	v->width = vector_width(col);
	v->row_null = palloc0(sizeof(bool) * Max(nrows_cap, 1));
	if (col->is_list)
	{
		v->offsets = palloc0(sizeof(int64) * (nrows_cap + 1));
		v->cap = 16;
		v->elem_null = palloc0(sizeof(bool) * v->cap);
	}
	else
		v->cap = Max(nrows_cap, 1);
	if (v->width > 0)
		v->fixed = palloc0((size_t) v->cap * v->width);
	else
		v->bin = palloc0(sizeof(PqBytes) * v->cap);
}

static void
vector_grow(PqColumnVector *v, int64 need)
{
	int64		newcap = v->cap;

	if (need <= v->cap)
		return;
	while (newcap < need)
		newcap *= 2;
	if (v->width > 0)
		v->fixed = repalloc_huge(v->fixed, (size_t) newcap * v->width);
	else
		v->bin = repalloc_huge(v->bin, sizeof(PqBytes) * newcap);
	if (v->elem_null)
		v->elem_null = repalloc_huge(v->elem_null, sizeof(bool) * newcap);
	v->cap = newcap;
}

static void
vector_put_value(PqColumnVector *v, int64 slot, Cursor *c, int32 vpos)
{
	DecodedPage *p = &c->page;

	if (vpos >= p->nvalues)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "definition levels promise more values than the page holds");
	if (v->width > 0)
		memcpy(v->fixed + (size_t) slot * v->width, p->fixed + (size_t) vpos * v->width, v->width);
	else
	{
		/* copy: the page buffer is freed when the next page loads */
		PqBytes		b = p->bin[vpos];
		uint8	   *d = palloc(Max(b.len, 1));

		memcpy(d, b.data, b.len);
		v->bin[slot].data = d;
		v->bin[slot].len = b.len;
	}
}

/* Append the cursor's current row to v (row index k). */
static void
cursor_read_row(Cursor *c, PqColumnVector *v, int64 k)
{
	DecodedPage *p = &c->page;
	PqColumnDesc *col = c->col;

	if (p->lpos >= p->nlevels)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "page ends before its declared rows");
	if (!col->is_list)
	{
		bool		present = (p->def == NULL || p->def[p->lpos] == col->max_def);

		v->row_null[k] = !present;
		if (present)
			vector_put_value(v, k, c, p->vpos);
		page_skip_row(c);
	}
	else
	{
		int32		l = p->lpos;
		int32		end = l + 1;
		int64		n = v->offsets[k];
		uint8		d0 = p->def ? p->def[l] : col->max_def;
		int32		nslots = 0;
		int32		npresent = 0;

		/* the row's levels are [l, end): up to the next repetition level 0 */
		while (p->rep != NULL && end < p->nlevels && p->rep[end] != 0)
			end++;
		for (int32 i = l; i < end; i++)
		{
			uint8		d = p->def ? p->def[i] : col->max_def;

			nslots += (d >= col->elem_def);
			npresent += (d == col->max_def);
		}
		v->row_null[k] = (d0 < col->list_def);
		vector_grow(v, n + nslots);
		if (npresent == nslots && v->width > 0)
		{
			/* no null elements: one copy of the contiguous values */
			if (p->vpos + npresent > p->nvalues)
				lake_report(LAKE_CORRUPT, cursor_ctx(c), "definition levels promise more values than the page holds");
			memcpy(v->fixed + (size_t) n * v->width, p->fixed + (size_t) p->vpos * v->width,
				   (size_t) npresent * v->width);
			memset(v->elem_null + n, 0, nslots);
			p->vpos += npresent;
			n += nslots;
		}
		else
		{
			for (int32 i = l; i < end; i++)
			{
				uint8		d = p->def ? p->def[i] : col->max_def;

				if (d < col->elem_def)
					continue;
				v->elem_null[n] = (d != col->max_def);
				if (d == col->max_def)
					vector_put_value(v, n, c, p->vpos++);
				n++;
			}
		}
		p->lpos = end;
		v->offsets[k + 1] = n;
		v->nvalues = n;
	}
	c->next_row++;
}

/* ------------------------------------------------------------- fetching */

/*
 * Page locations must follow each other in the file (the decoder checked
 * their row order): a reader fetches page p at its offset and takes it for
 * the rows the index gives it, so pages listed out of file order would be
 * read as each other's rows, not fail.
 */
static void
check_oi_order(PqReader *r, const PqOffsetIndex *oi, int rg, int i)
{
	const PqPageLocation *pl = &oi->page_locations[i];
	const PqPageLocation *prev;

	if (i == 0)
		return;
	prev = &oi->page_locations[i - 1];
	if (pl->offset < prev->offset + (int64) prev->compressed_page_size)
		lake_corrupt(PARQUET_FILE, r->name, "offset index of row group %d is out of file order at page %d (offset %lld is before the end of page %d)",
					 rg, i, (long long) pl->offset, i - 1);
}

static PqOffsetIndex *
decode_oi_checked(PqReader *r, PqColumnChunk *cc, const char *buf, int rg, int64 rg_rows,
				  uint64 cstart, uint64 clen)
{
	PqOffsetIndex *oi = parquet_decode_offset_index((const uint8 *) buf, cc->offset_index_length,
											   r->name);

	for (int i = 0; i < oi->num_pages; i++)
	{
		PqPageLocation *pl = &oi->page_locations[i];

		if ((uint64) pl->offset < cstart || (uint64) pl->offset > cstart + clen ||
			(uint64) pl->compressed_page_size > cstart + clen - pl->offset)
			lake_corrupt(PARQUET_FILE, r->name, "offset index of row group %d points outside its column chunk (page %d)",
						  rg, i);
		if (pl->first_row_index >= rg_rows)
			lake_corrupt(PARQUET_FILE, r->name, "offset index of row group %d starts page %d at row %lld of %lld",
						  rg, i, (long long) pl->first_row_index, (long long) rg_rows);
		check_oi_order(r, oi, rg, i);
	}
	if (oi->num_pages == 0 && rg_rows > 0)
		lake_corrupt(PARQUET_FILE, r->name, "offset index of row group %d lists no pages", rg);
	return oi;
}

static bool
chunk_has_offset_index(PqReader *r, PqColumnChunk *cc)
{
	return cc->has_offset_index && cc->offset_index_length > 0 &&
		(uint64) cc->offset_index_offset <= r->src->size &&
		(uint64) cc->offset_index_length <= r->src->size - cc->offset_index_offset;
}

/* Fetch and attach offset indexes for cursors that have one (one request). */
static void
fetch_offset_indexes(PqReader *r, Cursor **cur, int n)
{
	ByteRange  *ranges = palloc(sizeof(ByteRange) * Max(n, 1));
	int		   *which = palloc(sizeof(int) * Max(n, 1));
	int			nr = 0;

	for (int i = 0; i < n; i++)
	{
		PqColumnChunk *cc = cur[i]->chunk;

		if (!cur[i]->oi && r->oi_cache && r->oi_cache[cur[i]->col->leaf] &&
			r->oi_cache[cur[i]->col->leaf][cur[i]->rg])
			cur[i]->oi = r->oi_cache[cur[i]->col->leaf][cur[i]->rg];
		if (cur[i]->oi || !chunk_has_offset_index(r, cc))
			continue;
		ranges[nr].offset = cc->offset_index_offset;
		ranges[nr].length = cc->offset_index_length;
		ranges[nr].dest = MemoryContextAlloc(cur[i]->cxt, cc->offset_index_length);
		which[nr++] = i;
	}
	parquet_source_read_ranges(r->src, ranges, nr);
	for (int k = 0; k < nr; k++)
	{
		Cursor	   *c = cur[which[k]];
		MemoryContext old = MemoryContextSwitchTo(c->cxt);

		c->oi = decode_oi_checked(r, c->chunk, ranges[k].dest, c->rg,
								  r->meta->row_groups[c->rg].num_rows,
								  c->chunk_start, c->chunk_len);
		MemoryContextSwitchTo(old);
	}
}

PqOffsetIndex **
parquet_reader_offset_indexes(PqReader *r, int col)
{
	int			leaf = r->columns[col].leaf;
	int			nrg = r->meta->num_row_groups;
	MemoryContext old = MemoryContextSwitchTo(r->cxt);
	PqOffsetIndex **ois;
	ByteRange  *ranges;
	int		   *which;
	int			nr = 0;
	uint64		tail_off = r->src->size - r->tail_len;

	if (r->oi_cache == NULL)
		r->oi_cache = palloc0(sizeof(PqOffsetIndex **) * Max(r->meta->num_leaves, 1));
	if (r->oi_cache[leaf])
	{
		MemoryContextSwitchTo(old);
		return r->oi_cache[leaf];
	}
	ois = palloc0(sizeof(PqOffsetIndex *) * Max(nrg, 1));
	ranges = palloc(sizeof(ByteRange) * Max(nrg, 1));
	which = palloc(sizeof(int) * Max(nrg, 1));
	for (int g = 0; g < nrg; g++)
	{
		PqColumnChunk *cc = &r->meta->row_groups[g].columns[leaf];

		if (!chunk_has_offset_index(r, cc))
			continue;
		ranges[nr].offset = cc->offset_index_offset;
		ranges[nr].length = cc->offset_index_length;
		if ((uint64) cc->offset_index_offset >= tail_off)
			ranges[nr].dest = r->tail + (cc->offset_index_offset - tail_off);
		else
			ranges[nr].dest = NULL;
		which[nr++] = g;
	}
	/* what the footer read did not cover, in one request */
	{
		ByteRange  *fetch = palloc(sizeof(ByteRange) * Max(nr, 1));
		int			nf = 0;

		for (int k = 0; k < nr; k++)
			if (ranges[k].dest == NULL)
			{
				ranges[k].dest = palloc(ranges[k].length);
				fetch[nf++] = ranges[k];
			}
		if (nf > 0)
			parquet_source_read_ranges(r->src, fetch, nf);
		pfree(fetch);
	}
	for (int k = 0; k < nr; k++)
	{
		int			g = which[k];
		uint64		cstart,
					clen;

		chunk_range(r, &r->meta->row_groups[g].columns[leaf], g, &cstart, &clen);
		ois[g] = decode_oi_checked(r, &r->meta->row_groups[g].columns[leaf], ranges[k].dest, g,
								   r->meta->row_groups[g].num_rows, cstart, clen);
	}
	r->oi_cache[leaf] = ois;
	MemoryContextSwitchTo(old);
	return ois;
}

/*
 * A batch of byte ranges to fetch in one ByteSource call; each lands in a
 * cursor slot (chunk buffer, dictionary or page).
 */
typedef struct FetchList
{
	int			n;
	int			cap;
	ByteRange  *ranges;
	char	  **dest_slot;		/* (char **) where each buffer goes */
} FetchList;

static void
fetch_init(FetchList *f)
{
	f->n = 0;
	f->cap = 16;
	f->ranges = palloc(sizeof(ByteRange) * f->cap);
	f->dest_slot = palloc(sizeof(char *) * f->cap);
}

static void
fetch_add(FetchList *f, uint64 off, uint64 len, MemoryContext cxt, char **slot)
{
	if (f->n == f->cap)
	{
		f->cap *= 2;
		f->ranges = repalloc(f->ranges, sizeof(ByteRange) * f->cap);
		f->dest_slot = repalloc(f->dest_slot, sizeof(char *) * f->cap);
	}
	f->ranges[f->n].offset = off;
	f->ranges[f->n].length = len;
	f->ranges[f->n].dest = MemoryContextAllocHuge(cxt, Max(len, 1));
	f->dest_slot[f->n] = (char *) slot;
	f->n++;
}

/* A range read straight into the caller's buffer dest (no slot). */
static void
fetch_add_into(FetchList *f, uint64 off, uint64 len, char *dest)
{
	if (f->n == f->cap)
	{
		f->cap *= 2;
		f->ranges = repalloc(f->ranges, sizeof(ByteRange) * f->cap);
		f->dest_slot = repalloc(f->dest_slot, sizeof(char *) * f->cap);
	}
	f->ranges[f->n].offset = off;
	f->ranges[f->n].length = len;
	f->ranges[f->n].dest = dest;
	f->dest_slot[f->n] = NULL;
	f->n++;
}

static void
fetch_run(PqReader *r, FetchList *f)
{
	parquet_source_read_ranges(r->src, f->ranges, f->n);
	for (int k = 0; k < f->n; k++)
		if (f->dest_slot[k] != NULL)
			*(char **) f->dest_slot[k] = f->ranges[k].dest;
	f->n = 0;
}

/*
 * Add to f the pages of page-mode cursor c overlapping the sorted row ranges
 * that it has not fetched yet.  Pages adjacent in the file are read as one
 * range into one buffer (one read, no copy), their slots pointing into it.
 * Cost: a binary search per range plus the pages it overlaps, never a walk
 * over the chunk's pages (a take of one row from a chunk of 500,000 pages
 * looks at one page).
 */
static void
collect_pages(FetchList *f, Cursor *c, const int64 *starts, const int64 *ends, int nranges)
{
	PqPageLocation *pl = c->oi->page_locations;
	int			np = c->oi->num_pages;
	int			run_first = -1,
				run_last = -1,
				last = -1;

	for (int k = 0; k <= nranges; k++)
	{
		int			q = k < nranges ? Max(page_for_row(c, starts[k]), last + 1) : np;

		for (; q <= np; q++)
		{
			bool		want = q < np && k < nranges && pl[q].first_row_index < ends[k];

			/* close the open run when q does not extend it */
			PageSlot   *slot = want ? page_slot(c, q, true) : NULL;

			if (slot != NULL && c->use_cache && slot->buf == NULL && slot->hit == NULL)
				slot->hit = cache_get(c, q);
			if (run_first >= 0 &&
				(!want || q != run_last + 1 || slot->buf != NULL || slot->hit != NULL ||
				 pl[q].offset != pl[run_last].offset + pl[run_last].compressed_page_size ||
				 (uint64) (pl[q].offset + pl[q].compressed_page_size - pl[run_first].offset) >
				 (uint64) parquet_chunk_window))
			{
				uint64		run_start = (uint64) pl[run_first].offset;
				uint64		run_len = (uint64) (pl[run_last].offset + pl[run_last].compressed_page_size) - run_start;
				char	   *buf = parquet_arena_alloc(c->arena, c->cxt, run_len);

				fetch_add_into(f, run_start, run_len, buf);
				for (int x = run_first; x <= run_last; x++)
					page_slot(c, x, true)->buf = buf + ((uint64) pl[x].offset - run_start);
				run_first = -1;
			}
			if (!want)
				break;
			last = q;
			if (slot->buf != NULL || slot->hit != NULL)
				continue;
			if (run_first < 0)
				run_first = q;
			run_last = q;
		}
	}
}

/*
 * Add what the cursors need to f: whole chunks for chunk-mode cursors that
 * have none yet, and for page-mode cursors the dictionary and the pages
 * overlapping the sorted row ranges [starts[i], ends[i]).
 */
static void
collect_for_ranges(FetchList *f, Cursor **cur, int n, const int64 *starts, const int64 *ends,
				   int nranges)
{
	for (int i = 0; i < n; i++)
	{
		Cursor	   *c = cur[i];

		if (c->oi == NULL)
		{
			/* small chunks whole, with the others; big ones in windows later */
			if (c->chunk_buf == NULL && c->chunk_len <= (uint64) parquet_chunk_window)
			{
				c->chunk_buf = (char *) 1;	/* reserved; filled by fetch_run */
				c->win_off = 0;
				c->win_len = c->chunk_len;
				fetch_add(f, c->chunk_start, c->chunk_len, c->cxt, &c->chunk_buf);
			}
			continue;
		}
		if (!c->dict_fetched)
		{
			uint64		first = c->oi->num_pages > 0 ? c->oi->page_locations[0].offset : c->chunk_start;

			c->dict_fetched = true;
			c->dict_len = first - c->chunk_start;
			if (c->dict_len > 0)
				fetch_add(f, c->chunk_start, c->dict_len, c->cxt, &c->dict_buf);
		}
		collect_pages(f, c, starts, ends, nranges);
	}
}

static void
fetch_for_ranges(PqReader *r, Cursor **cur, int n, const int64 *starts, const int64 *ends,
				 int nranges)
{
	FetchList	f;

	fetch_init(&f);
	collect_for_ranges(&f, cur, n, starts, ends, nranges);
	fetch_run(r, &f);
}

/* ------------------------------------------------------------- pruning */

static int
cmp_physical(const PqColumnDesc *col, const PqBytes *a, const PqBytes *b, bool *ok)
{
	*ok = true;
	switch (col->type)
	{
		case PARQUET_BOOLEAN:
			if (a->len < 1 || b->len < 1)
				break;
			return (int) (a->data[0] != 0) - (int) (b->data[0] != 0);
		case PARQUET_INT32:
			{
				int32		x,
							y;

				if (a->len != 4 || b->len != 4)
					break;
				memcpy(&x, a->data, 4);
				memcpy(&y, b->data, 4);
				return (x > y) - (x < y);
			}
		case PARQUET_INT64:
			{
				int64		x,
							y;

				if (a->len != 8 || b->len != 8)
					break;
				memcpy(&x, a->data, 8);
				memcpy(&y, b->data, 8);
				return (x > y) - (x < y);
			}
		case PARQUET_FLOAT:
			{
				float		x,
							y;

				if (a->len != 4 || b->len != 4)
					break;
				memcpy(&x, a->data, 4);
				memcpy(&y, b->data, 4);
				if (isnan(x) || isnan(y))
					break;
				return (x > y) - (x < y);
			}
		case PARQUET_DOUBLE:
			{
				double		x,
							y;

				if (a->len != 8 || b->len != 8)
					break;
				memcpy(&x, a->data, 8);
				memcpy(&y, b->data, 8);
				if (isnan(x) || isnan(y))
					break;
				return (x > y) - (x < y);
			}
		case PARQUET_BYTE_ARRAY:
			{
				int			n = Min(a->len, b->len);
				int			c = memcmp(a->data, b->data, n);

				if (c != 0)
					return c;
				return (a->len > b->len) - (a->len < b->len);
			}
		default:
			break;
	}
	*ok = false;
	return 0;
}

/* Can the column's statistics order be trusted for a range test? */
bool
parquet_column_filterable(const PqColumnDesc *col)
{
	const PqSchemaElement *e = col->leaf_elem;

	if (col->is_list || col->unsupported)
		return false;
	if (e->logical_type.kind == PARQUET_LT_INTEGER && !e->logical_type.is_signed)
		return false;
	if (e->has_converted_type && e->converted_type >= PARQUET_CT_UINT_8 &&
		e->converted_type <= PARQUET_CT_UINT_64)
		return false;
	if (e->logical_type.kind == PARQUET_LT_DECIMAL || e->logical_type.kind == PARQUET_LT_FLOAT16)
		return false;
	return col->type != PARQUET_INT96 && col->type != PARQUET_FIXED_LEN_BYTE_ARRAY;
}

bool
parquet_stats_may_match(const PqColumnDesc *col, const PqPredicate *p,
				   const PqBytes *min, const PqBytes *max)
{
	bool		ok;

	if (!parquet_column_filterable(col))
		return true;
	if (p->nan_matches && (col->type == PARQUET_FLOAT || col->type == PARQUET_DOUBLE))
		return true;			/* statistics never tell whether NaNs are there */
	if (p->has_lo && max != NULL && cmp_physical(col, max, &p->lo, &ok) < 0 && ok)
		return false;
	if (p->has_hi && min != NULL && cmp_physical(col, min, &p->hi, &ok) > 0 && ok)
		return false;
	return true;
}

static bool
row_group_may_match(PqReader *r, int rg, const PqPredicate *preds, int npreds)
{
	for (int i = 0; i < npreds; i++)
	{
		PqColumnDesc *col = &r->columns[preds[i].column];
		PqColumnMetaData *m = &r->meta->row_groups[rg].columns[col->leaf].meta_data;
		const PqStatistics *s = &m->statistics;
		const PqBytes *min = NULL,
				   *max = NULL;

		if (!m->has_statistics)
			continue;
		if (s->has_min_value && s->has_max_value)
		{
			min = &s->min_value;
			max = &s->max_value;
		}
		else if (s->has_min && s->has_max && col->type != PARQUET_BYTE_ARRAY)
		{
			/* deprecated fields: signed order, fine for numbers */
			min = &s->min;
			max = &s->max;
		}
		/* all nulls: a range predicate can never match */
		if (s->has_null_count && s->null_count == m->num_values && m->num_values > 0)
			return false;
		if (min && max && !parquet_stats_may_match(col, &preds[i], min, max))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- scans */

struct PqScan
{
	PqReader   *r;
	int			ncols;
	int		   *cols;
	PqPredicate *preds;
	int			npreds;
	int			batch_rows;
	MemoryContext scan_cxt;
	MemoryContext rg_cxt;
	MemoryContext batch_cxt;
	int			rg;				/* current row group, -1 before the first */
	Cursor	  **cur;
	PqRowRanges	ranges;
	PqRowRanges *restrict_to;	/* parquet_scan_restrict: file rows, or NULL */
	int			range_i;
	int64		row;			/* next row within the current range */
	PqScanStats stats;
};

static void
check_projection(PqReader *r, int ncols, const int *cols)
{
	for (int i = 0; i < ncols; i++)
	{
		PqColumnDesc *c;

		if (cols[i] < 0 || cols[i] >= r->ncolumns)
			elog(ERROR, "parquet reader: column %d out of range", cols[i]);
		c = &r->columns[cols[i]];
		if (c->unsupported)
		{
			LakeErrorContext fctx = {PARQUET_FILE, r->name, NULL, NULL};

			lake_report(LAKE_UNSUPPORTED, &fctx, "column \"%s\": %s", c->name, c->unsupported);
		}
	}
}

PqScan *
parquet_scan_begin(PqReader *r, int ncols, const int *cols,
			  const PqPredicate *preds, int npreds, int batch_rows)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "parquet scan",
											  ALLOCSET_DEFAULT_SIZES);
	PqScan	   *s = MemoryContextAllocZero(cxt, sizeof(PqScan));

	check_projection(r, ncols, cols);
	for (int i = 0; i < npreds; i++)
		check_projection(r, 1, &preds[i].column);
	s->r = r;
	s->scan_cxt = cxt;
	s->rg_cxt = AllocSetContextCreate(cxt, "parquet row group", ALLOCSET_DEFAULT_SIZES);
	s->batch_cxt = AllocSetContextCreate(cxt, "parquet batch", ALLOCSET_DEFAULT_SIZES);
	s->ncols = ncols;
	s->cols = MemoryContextAlloc(cxt, sizeof(int) * Max(ncols, 1));
	memcpy(s->cols, cols, sizeof(int) * ncols);
	s->npreds = npreds;
	s->preds = MemoryContextAlloc(cxt, sizeof(PqPredicate) * Max(npreds, 1));
	if (npreds > 0)
		memcpy(s->preds, preds, sizeof(PqPredicate) * npreds);
	s->batch_rows = Max(batch_rows, 1);
	s->rg = -1;
	s->stats.row_groups_total = r->meta->num_row_groups;
	return s;
}

const PqScanStats *
parquet_scan_stats(PqScan *s)
{
	return &s->stats;
}

void
parquet_row_ranges_intersect(PqRowRanges *a, const PqRowRanges *b)
{
	PqRowRanges	out;
	int			i = 0,
				j = 0;

	out.n = 0;
	out.start = palloc(sizeof(int64) * Max(a->n + b->n, 1));
	out.end = palloc(sizeof(int64) * Max(a->n + b->n, 1));
	while (i < a->n && j < b->n)
	{
		int64		s = Max(a->start[i], b->start[j]);
		int64		e = Min(a->end[i], b->end[j]);

		if (s < e)
		{
			out.start[out.n] = s;
			out.end[out.n++] = e;
		}
		if (a->end[i] < b->end[j])
			i++;
		else
			j++;
	}
	*a = out;
}

/*
 * Page pruning with the ColumnIndex of each predicate column: ranges of the
 * row group's rows whose pages may match.  Falls back to all rows.
 */
static void
page_prune(PqReader *r, const PqPredicate *preds, int npreds, int rg, MemoryContext cxt,
		   PqScanStats *stats, PqRowRanges *ranges)
{
	int64		nrows = r->meta->row_groups[rg].num_rows;

	ranges->n = 1;
	ranges->start = palloc(sizeof(int64));
	ranges->end = palloc(sizeof(int64));
	ranges->start[0] = 0;
	ranges->end[0] = nrows;
	for (int i = 0; i < npreds; i++)
	{
		PqColumnDesc *col = &r->columns[preds[i].column];
		PqColumnChunk *cc = &r->meta->row_groups[rg].columns[col->leaf];
		Cursor	   *c;
		PqColumnIndex *ci;
		PqRowRanges	keep;
		char	   *buf;

		if (!parquet_column_filterable(col) || !cc->has_column_index || cc->column_index_length <= 0 ||
			!chunk_has_offset_index(r, cc))
			continue;
		c = cursor_create(r, col, rg, cxt, NULL);
		fetch_offset_indexes(r, &c, 1);
		if (c->oi == NULL)
			continue;
		buf = parquet_source_read(r->src, cc->column_index_offset, cc->column_index_length);
		ci = parquet_decode_column_index((uint8 *) buf, cc->column_index_length, r->name);
		if (ci->num_pages != c->oi->num_pages)
			lake_corrupt(PARQUET_FILE, r->name, "column index and offset index of \"%s\" in row group %d disagree on the page count",
						  col->path, rg);
		keep.n = 0;
		keep.start = palloc(sizeof(int64) * Max(ci->num_pages, 1));
		keep.end = palloc(sizeof(int64) * Max(ci->num_pages, 1));
		for (int p = 0; p < ci->num_pages; p++)
		{
			bool		may = !ci->null_pages[p] &&
				parquet_stats_may_match(col, &preds[i], &ci->min_values[p], &ci->max_values[p]);

			CHECK_FOR_INTERRUPTS();
			if (!may)
			{
				if (stats)
					stats->pages_skipped++;
				continue;
			}
			if (keep.n > 0 && keep.end[keep.n - 1] == c->oi->page_locations[p].first_row_index)
				keep.end[keep.n - 1] += page_rows(c, p);
			else
			{
				keep.start[keep.n] = c->oi->page_locations[p].first_row_index;
				keep.end[keep.n] = keep.start[keep.n] + page_rows(c, p);
				keep.n++;
			}
		}
		parquet_row_ranges_intersect(ranges, &keep);
	}
}

/* Intersect a row group's ranges with the scan's restriction (file rows). */
static void
restrict_row_group(PqScan *s, PqRowRanges *ranges)
{
	int64		first = s->r->rg_first_row[s->rg];
	int64		last = first + s->r->meta->row_groups[s->rg].num_rows;
	const PqRowRanges *rs = s->restrict_to;
	PqRowRanges local;

	local.n = 0;
	local.start = palloc(sizeof(int64) * Max(rs->n, 1));
	local.end = palloc(sizeof(int64) * Max(rs->n, 1));
	for (int i = 0; i < rs->n; i++)
	{
		int64		a = Max(rs->start[i], first);
		int64		b = Min(rs->end[i], last);

		if (a < b)
		{
			local.start[local.n] = a - first;
			local.end[local.n++] = b - first;
		}
	}
	parquet_row_ranges_intersect(ranges, &local);
}

/* Append [start, end) to out, past its last range (merging when adjacent). */
static void
ranges_append(PqRowRanges *out, int *cap, int64 start, int64 end)
{
	if (out->n > 0 && out->end[out->n - 1] == start)
	{
		out->end[out->n - 1] = end;
		return;
	}
	if (out->n == *cap)
	{
		*cap *= 2;
		out->start = repalloc(out->start, sizeof(int64) * *cap);
		out->end = repalloc(out->end, sizeof(int64) * *cap);
	}
	out->start[out->n] = start;
	out->end[out->n++] = end;
}

void
parquet_scan_restrict(PqScan *s, const PqRowRanges *ranges)
{
	PqRowRanges *rs = MemoryContextAlloc(s->scan_cxt, sizeof(PqRowRanges));

	if (s->rg >= 0)
		elog(ERROR, "parquet_scan_restrict after the scan started");
	rs->n = ranges->n;
	rs->start = MemoryContextAlloc(s->scan_cxt, sizeof(int64) * Max(ranges->n, 1));
	rs->end = MemoryContextAlloc(s->scan_cxt, sizeof(int64) * Max(ranges->n, 1));
	memcpy(rs->start, ranges->start, sizeof(int64) * ranges->n);
	memcpy(rs->end, ranges->end, sizeof(int64) * ranges->n);
	s->restrict_to = rs;
}

PqRowRanges *
parquet_prune_rows(PqReader *r, const PqPredicate *preds, int npreds, PqScanStats *stats)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "parquet prune",
											  ALLOCSET_DEFAULT_SIZES);
	PqRowRanges *out = palloc0(sizeof(PqRowRanges));
	int			cap = 16;

	for (int i = 0; i < npreds; i++)
		check_projection(r, 1, &preds[i].column);
	out->start = palloc(sizeof(int64) * cap);
	out->end = palloc(sizeof(int64) * cap);
	for (int rg = 0; rg < r->meta->num_row_groups; rg++)
	{
		int64		nrows = r->meta->row_groups[rg].num_rows;
		int64		first = r->rg_first_row[rg];
		PqRowRanges rgr;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (stats)
			stats->row_groups_total++;
		if (nrows == 0)
			continue;
		if (!row_group_may_match(r, rg, preds, npreds))
		{
			if (stats)
			{
				stats->row_groups_skipped++;
				stats->rows_skipped += nrows;
			}
			continue;
		}
		old = MemoryContextSwitchTo(tmp);
		page_prune(r, preds, npreds, rg, tmp, stats, &rgr);
		MemoryContextSwitchTo(old);
		for (int i = 0; i < rgr.n; i++)
		{
			if (stats)
				stats->rows_skipped += (i == 0 ? rgr.start[0] : rgr.start[i] - rgr.end[i - 1]);
			ranges_append(out, &cap, first + rgr.start[i], first + rgr.end[i]);
		}
		if (stats)
			stats->rows_skipped += nrows - (rgr.n > 0 ? rgr.end[rgr.n - 1] : 0);
		MemoryContextReset(tmp);
	}
	MemoryContextDelete(tmp);
	return out;
}

/*
 * Does row k of column vector v (a flat column) satisfy p?  NULL never
 * does; NaN when p says so; a value the order cannot compare (a column
 * statistics cannot be used on) always does.
 */
static bool
value_matches(const PqColumnDesc *col, const PqPredicate *p, const PqColumnVector *v, int64 k)
{
	PqBytes		val;
	bool		ok;
	bool		unordered;
	int			c;

	if (v->row_null[k])
		return false;
	if (!parquet_column_filterable(col))
		return true;
	if (v->bin)
		val = v->bin[k];
	else
	{
		val.data = v->fixed + k * v->width;
		val.len = v->width;
	}
	/* not comparable: a NaN (matches when p says so) or an unordered value */
	unordered = p->nan_matches || !(col->type == PARQUET_FLOAT || col->type == PARQUET_DOUBLE);
	if (p->has_lo)
	{
		c = cmp_physical(col, &val, &p->lo, &ok);
		if (!ok)
			return unordered;
		if (c < 0)
			return false;
	}
	if (p->has_hi)
	{
		c = cmp_physical(col, &val, &p->hi, &ok);
		if (!ok)
			return unordered;
		if (c > 0)
			return false;
	}
	return true;
}


PqRowRanges *
parquet_match_rows(PqReader *r, const PqPredicate *preds, int npreds, const PqRowRanges *within,
				   PqScanStats *stats)
{
	PqRowRanges *out = palloc0(sizeof(PqRowRanges));
	int			cap = 16;
	int		   *cols = palloc(sizeof(int) * Max(npreds, 1));
	PqScan	   *s;
	PqBatch    *b;
	int64		nwithin = 0;

	out->start = palloc(sizeof(int64) * cap);
	out->end = palloc(sizeof(int64) * cap);
	for (int i = 0; i < npreds; i++)
		cols[i] = preds[i].column;
	for (int i = 0; i < within->n; i++)
		nwithin += within->end[i] - within->start[i];
	s = parquet_scan_begin(r, npreds, cols, NULL, 0, 4096);
	parquet_scan_restrict(s, within);
	while ((b = parquet_scan_next(s)) != NULL && b->nrows > 0)
	{
		for (int64 k = 0; k < b->nrows; k++)
		{
			bool		match = true;

			for (int i = 0; i < npreds && match; i++)
				match = value_matches(&r->columns[preds[i].column], &preds[i], &b->cols[i], k);
			if (match)
				ranges_append(out, &cap, b->row_numbers[k], b->row_numbers[k] + 1);
		}
		CHECK_FOR_INTERRUPTS();
	}
	if (stats)
	{
		int64		kept = 0;

		for (int i = 0; i < out->n; i++)
			kept += out->end[i] - out->start[i];
		stats->pages_read += parquet_scan_stats(s)->pages_read;
		stats->rows_skipped += nwithin - kept;
	}
	parquet_scan_end(s);
	return out;
}

static bool
scan_start_row_group(PqScan *s)
{
	PqReader   *r = s->r;

	for (;;)
	{
		MemoryContext old;
		bool		all_oi = true;
		int64		kept = 0;
		int64		nrows;

		s->rg++;
		if (s->rg >= r->meta->num_row_groups)
			return false;
		MemoryContextReset(s->rg_cxt);
		s->cur = NULL;
		nrows = r->meta->row_groups[s->rg].num_rows;
		if (nrows == 0)
			continue;
		if (!row_group_may_match(r, s->rg, s->preds, s->npreds))
		{
			s->stats.row_groups_skipped++;
			continue;
		}
		old = MemoryContextSwitchTo(s->rg_cxt);
		page_prune(r, s->preds, s->npreds, s->rg, s->rg_cxt, &s->stats, &s->ranges);
		if (s->restrict_to)
			restrict_row_group(s, &s->ranges);
		for (int i = 0; i < s->ranges.n; i++)
			kept += s->ranges.end[i] - s->ranges.start[i];
		if (kept == 0)
		{
			s->stats.row_groups_skipped++;
			MemoryContextSwitchTo(old);
			continue;
		}
		s->stats.rows_skipped += nrows - kept;
		s->cur = palloc(sizeof(Cursor *) * Max(s->ncols, 1));
		for (int i = 0; i < s->ncols; i++)
		{
			s->cur[i] = cursor_create(r, &r->columns[s->cols[i]], s->rg, s->rg_cxt,
									  &s->stats.pages_read);
			if (!chunk_has_offset_index(r, s->cur[i]->chunk))
				all_oi = false;
		}
		/* page mode only pays off when pages were pruned */
		if (all_oi && kept < nrows)
			fetch_offset_indexes(r, s->cur, s->ncols);
		fetch_for_ranges(r, s->cur, s->ncols, s->ranges.start, s->ranges.end, s->ranges.n);
		MemoryContextSwitchTo(old);
		s->range_i = 0;
		s->row = s->ranges.start[0];
		return true;
	}
}

static PqBatch *
batch_alloc(PqReader *r, int ncols, const int *cols, int64 nrows)
{
	PqBatch    *b = palloc0(sizeof(PqBatch));

	b->ncols = ncols;
	b->cols = palloc0(sizeof(PqColumnVector) * Max(ncols, 1));
	b->row_numbers = palloc(sizeof(int64) * Max(nrows, 1));
	for (int i = 0; i < ncols; i++)
		vector_init(&b->cols[i], &r->columns[cols[i]], nrows);
	return b;
}

/*
 * Append rows of the current range to batch b from position n (up to the
 * batch size or the range end); returns the number of rows appended.
 */
static int64
scan_fill(PqScan *s, PqBatch *b, int64 n)
{
	int64		end = s->ranges.end[s->range_i];
	int64		take = Min(end - s->row, s->batch_rows - n);

	for (int i = 0; i < s->ncols; i++)
	{
		Cursor	   *c = s->cur[i];

		cursor_seek(c, s->row);
		for (int64 k = 0; k < take; k++)
		{
			if (c->next_row >= c->page_first_row + c->page.nrows)
				cursor_seek(c, c->next_row);
			cursor_read_row(c, &b->cols[i], n + k);
		}
	}
	for (int64 k = 0; k < take; k++)
		b->row_numbers[n + k] = s->r->rg_first_row[s->rg] + s->row + k;
	s->row += take;
	if (s->row >= end)
	{
		s->range_i++;
		if (s->range_i < s->ranges.n)
			s->row = s->ranges.start[s->range_i];
	}
	return take;
}

PqBatch *
parquet_scan_next(PqScan *s)
{
	PqBatch    *b;
	MemoryContext old;
	int64		n = 0;

	MemoryContextReset(s->batch_cxt);
	if (s->rg < 0 || s->range_i >= s->ranges.n)
	{
		if (!scan_start_row_group(s))
			return NULL;
	}
	old = MemoryContextSwitchTo(s->batch_cxt);
	b = batch_alloc(s->r, s->ncols, s->cols, s->batch_rows);

	/*
	 * Batches run across row groups: every batch but the last has exactly
	 * batch_rows rows, so scans of files with the same rows (the
	 * ColumnGroups of a segment) stay aligned batch by batch.
	 */
	while (n < s->batch_rows)
	{
		if (s->range_i >= s->ranges.n && !scan_start_row_group(s))
			break;
		n += scan_fill(s, b, n);
		CHECK_FOR_INTERRUPTS();
	}
	b->nrows = n;
	for (int i = 0; i < s->ncols; i++)
	{
		b->cols[i].nrows = n;
		if (!s->r->columns[s->cols[i]].is_list)
			b->cols[i].nvalues = n;
	}
	MemoryContextSwitchTo(old);
	return b;
}

void
parquet_scan_end(PqScan *s)
{
	MemoryContextDelete(s->scan_cxt);
}

/* ----------------------------------------------------------------- take */

typedef struct TakeItem
{
	int64		row;
	int64		out;			/* position in the caller's order */
} TakeItem;

static int
cmp_take(const void *a, const void *b)
{
	const TakeItem *x = a,
			   *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return (x->out > y->out) - (x->out < y->out);
}

/* Copy row src of vector a to row dst of vector b (same column). */
static void
vector_copy_row(PqColumnVector *dst, int64 d, const PqColumnVector *src, int64 s, bool is_list)
{
	dst->row_null[d] = src->row_null[s];
	if (!is_list)
	{
		if (dst->width > 0)
			memcpy(dst->fixed + (size_t) d * dst->width, src->fixed + (size_t) s * src->width, dst->width);
		else
			dst->bin[d] = src->bin[s];
		return;
	}
	/* lists: rows are written in order d = 0, 1, ... */
	{
		int64		from = src->offsets[s],
					to = src->offsets[s + 1];
		int64		n = dst->offsets[d];

		vector_grow(dst, n + (to - from));
		/* the elements are contiguous: one copy each for flags and values */
		memcpy(dst->elem_null + n, src->elem_null + from, to - from);
		if (dst->width > 0)
			memcpy(dst->fixed + (size_t) n * dst->width, src->fixed + (size_t) from * src->width,
				   (size_t) (to - from) * dst->width);
		else
			memcpy(dst->bin + n, src->bin + from, sizeof(PqBytes) * (to - from));
		n += to - from;
		dst->offsets[d + 1] = n;
		dst->nvalues = n;
	}
}

/*
 * Offset-computed take (parquet_takeable.h, vector_cg.h): when the cursor's chunk is
 * uncompressed PLAIN without dictionary, has an OffsetIndex, no nulls, and
 * every row holds the same number k of fixed-width values (k = 1 for a
 * scalar, for a list the reader's list_length), the values of a page are its
 * last page_rows * k * width bytes, so a row's bytes are located without
 * reading the page.  Returns k, or 0 when the page must be decoded.
 */
/* Bytes of one value located by offset: fixed-width types, and
 * FIXED_LEN_BYTE_ARRAY scalars (their values become PqBytes). */
static int
take_width(const Cursor *c)
{
	if (c->col->type == PARQUET_FIXED_LEN_BYTE_ARRAY && !c->col->is_list)
		return c->col->type_length;
	return c->width;
}

static int
take_values_per_row(PqReader *r, Cursor *c)
{
	PqColumnDesc *col = c->col;
	bool		may_have_nulls;

	if (c->oi == NULL || take_width(c) <= 0 || col->type == PARQUET_BOOLEAN)
		return 0;
	if (!parquet_chunk_takeable(c->chunk, &may_have_nulls, NULL, 0) || may_have_nulls)
		return 0;
	if (!parquet_offset_index_uniform(c->oi, (int64) c->chunk_start,
								 (int64) (c->chunk_start + c->chunk_len),
								 r->meta->row_groups[c->rg].num_rows))
		return 0;
	if (!col->is_list)
		return col->max_rep == 0 ? 1 : 0;
	if (col->max_rep != 1 || r->list_length == NULL)
		return 0;
	return Max(r->list_length(r, col), 0);
}

/*
 * The file offset of the values (rowbytes) of row rr (within the row group)
 * of an offset-computed chunk: the page's last bytes are its values.
 */
static uint64
value_offset(Cursor *c, int64 rr, uint64 rowbytes)
{
	int			p = page_for_row(c, rr);
	PqPageLocation *pl = &c->oi->page_locations[p];
	int64		nr = page_rows(c, p);

	c->page_no = p;				/* for error messages */
	if (nr <= 0 || rr < pl->first_row_index || rr - pl->first_row_index >= nr)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "offset index does not locate row %lld (page %d)", (long long) rr, p);
	if ((uint64) nr > (uint64) pl->compressed_page_size / rowbytes)
		lake_report(LAKE_CORRUPT, cursor_ctx(c), "page %d (%d bytes) is too small for its %lld rows of %llu bytes",
					 p, pl->compressed_page_size, (long long) nr,
					 (unsigned long long) rowbytes);
	return (uint64) pl->offset + pl->compressed_page_size -
		(uint64) (nr - (rr - pl->first_row_index)) * rowbytes;
}

/*
 * Add to f the byte ranges of the values of rows items[0..n) (sorted; row
 * numbers relative to the row group: items[x].row - base) of a column that
 * take_values_per_row() accepted with k values per row, each landing in
 * dest + x * rowbytes.  Consecutive rows of a page make one range.
 * Duplicates are left out (the caller copies them after the fetch).
 */
static void
collect_value_ranges(FetchList *f, Cursor *c, int k, const TakeItem *items, int64 n,
					 int64 base, char *dest)
{
	uint64		rowbytes = (uint64) k * take_width(c);
	uint64		prev_end = 0;
	char	   *prev_dest_end = NULL;

	if (c->use_cache)
		c->row_hit = palloc0(sizeof(bool) * Max(n, 1));
	for (int64 x = 0; x < n; x++)
	{
		int64		rr = items[x].row - base;
		uint64		off;
		void	   *hit;

		if (x > 0 && items[x].row == items[x - 1].row)
			continue;
		if (c->use_cache && (hit = cache_get(c, row_cache_slot(rr))) != NULL)
		{
			memcpy(dest + x * rowbytes, hit, rowbytes);
			c->row_hit[x] = true;
			prev_dest_end = NULL;
			continue;
		}
		off = value_offset(c, rr, rowbytes);
		if (prev_dest_end == dest + x * rowbytes && prev_end == off)
			f->ranges[f->n - 1].length += rowbytes;
		else
			fetch_add_into(f, off, rowbytes, dest + x * rowbytes);
		prev_end = off + rowbytes;
		prev_dest_end = dest + (x + 1) * rowbytes;
	}
}

/* Keep the rows collect_value_ranges fetched (not found cached) of cursor c. */
static void
cache_put_value_rows(Cursor *c, int k, const TakeItem *items, int64 n, int64 base,
					 const char *buf)
{
	uint64		rowbytes = (uint64) k * take_width(c);

	for (int64 x = 0; x < n; x++)
	{
		void	   *blob;

		if (c->row_hit[x] || (x > 0 && items[x].row == items[x - 1].row))
			continue;
		blob = parquet_page_cache_alloc(rowbytes);
		memcpy(blob, buf + x * rowbytes, rowbytes);
		parquet_page_cache_put(c->r->page_cache_file, c->r->name, c->r->src->version,
							   c->col->leaf, c->rg, row_cache_slot(items[x].row - base),
							   blob, rowbytes);
	}
}

/*
 * Rows items[0..n) fetched by collect_value_ranges into buf: fill in the
 * duplicates, then put each in its output row items[x].out of ov.  For a
 * list column ov's offsets already give every row k elements.  Binary
 * (FIXED_LEN_BYTE_ARRAY) values are copied to memory of ov's context.
 */
static void
scatter_value_rows(PqColumnVector *ov, const TakeItem *items, int64 n, int k, int width,
				   char *buf)
{
	size_t		rowbytes = (size_t) k * width;
	char	   *own = NULL;

	if (ov->width == 0)
		own = MemoryContextAllocHuge(GetMemoryChunkContext(ov->bin), Max(n * rowbytes, 1));
	for (int64 x = 0; x < n; x++)
	{
		const char *src = buf + x * rowbytes;

		if (x > 0 && items[x].row == items[x - 1].row)
			memcpy((char *) src, src - rowbytes, rowbytes);
		if (own)
		{
			memcpy(own + x * rowbytes, src, rowbytes);
			ov->bin[items[x].out].data = (uint8 *) own + x * rowbytes;
			ov->bin[items[x].out].len = (int32) rowbytes;
		}
		else
			memcpy(ov->fixed + (size_t) items[x].out * rowbytes, src, rowbytes);
	}
}

/*
 * Rows items[0..n) of a list column fetched by collect_value_ranges into
 * buf (k elements each): fill in the duplicates, then append them to sv
 * from sorted position first (rows of sv are appended in order).
 */
static void
append_value_rows(PqColumnVector *sv, int64 first, const TakeItem *items, int64 n, int k,
				  char *buf)
{
	size_t		rowbytes = (size_t) k * sv->width;
	int64		n0 = sv->offsets[first];

	for (int64 x = 1; x < n; x++)
		if (items[x].row == items[x - 1].row)
			memcpy(buf + x * rowbytes, buf + (x - 1) * rowbytes, rowbytes);
	vector_grow(sv, n0 + n * k);
	memcpy(sv->fixed + (size_t) n0 * sv->width, buf, n * rowbytes);
	memset(sv->elem_null + n0, 0, n * k);
	for (int64 x = 0; x < n; x++)
	{
		sv->row_null[first + x] = false;
		sv->offsets[first + x + 1] = n0 + (x + 1) * k;
	}
	sv->nvalues = n0 + n * k;
}

/* Give every row of list column v k non-null elements (values to follow). */
static void
shape_fixed_lists(PqColumnVector *v, int64 nrows, int k)
{
	vector_grow(v, Max(nrows * k, 1));
	for (int64 x = 0; x <= nrows; x++)
		v->offsets[x] = x * k;
	memset(v->elem_null, 0, nrows * k);
	v->nvalues = nrows * k;
}

/* Binary values of rows [from, to) of v copied into the current context. */
static void
own_binary_values(PqColumnVector *v, int64 from, int64 to)
{
	for (int64 e = from; e < to; e++)
	{
		uint8	   *d = palloc(Max(v->bin[e].len, 1));

		if (v->bin[e].len > 0)
			memcpy(d, v->bin[e].data, v->bin[e].len);
		v->bin[e].data = d;
	}
}

/* The rows of one row group a take touches. */
typedef struct TakeSegment
{
	int			rg;
	int64		i,
				j;				/* items[i..j) */
	int64		base;			/* first row of the row group */
	int64	   *starts,
			   *ends;			/* their row ranges, relative to base */
	int			nr;
	Cursor	  **cur;			/* a cursor per column */
	int		   *kfast;			/* values per row if offset-computed, else 0 */
	char	  **fast_buf;		/* their values, (j - i) rows */
} TakeSegment;

/* Split sorted items into segments (one per row group) with cursors. */
static TakeSegment *
take_segments(PqReader *r, int ncols, const int *cols, const TakeItem *items, int64 nrows,
			  MemoryContext work, int *nseg_out)
{
	TakeSegment *seg = palloc(sizeof(TakeSegment) * Max(r->meta->num_row_groups, 1));
	int			nseg = 0;
	int			rg = 0;
	int64		i = 0;

	while (i < nrows)
	{
		TakeSegment *sg = &seg[nseg++];
		int64		j = i;

		while (rg + 1 <= r->meta->num_row_groups && r->rg_first_row[rg + 1] <= items[i].row)
			rg++;
		while (j < nrows && items[j].row < r->rg_first_row[rg + 1])
			j++;
		sg->rg = rg;
		sg->i = i;
		sg->j = j;
		sg->base = r->rg_first_row[rg];
		sg->starts = palloc(sizeof(int64) * (j - i));
		sg->ends = palloc(sizeof(int64) * (j - i));
		sg->nr = 0;
		for (int64 k = i; k < j; k++)
		{
			int64		rr = items[k].row - sg->base;

			if (sg->nr > 0 && sg->ends[sg->nr - 1] >= rr)
				sg->ends[sg->nr - 1] = Max(sg->ends[sg->nr - 1], rr + 1);
			else
			{
				sg->starts[sg->nr] = rr;
				sg->ends[sg->nr++] = rr + 1;
			}
		}
		sg->cur = palloc(sizeof(Cursor *) * Max(ncols, 1));
		for (int c = 0; c < ncols; c++)
			sg->cur[c] = cursor_create(r, &r->columns[cols[c]], rg, work, NULL);
		sg->kfast = palloc0(sizeof(int) * Max(ncols, 1));
		sg->fast_buf = palloc0(sizeof(char *) * Max(ncols, 1));
		i = j;
	}
	*nseg_out = nseg;
	return seg;
}

/*
 * Decode rows items[sg->i .. sg->j) of column c page by page into tmp (in
 * sorted order), then put them into out (direct: at their output rows) or
 * into sorted (lists, at their sorted positions, reordered later).
 */
static void
take_decoded_rows(PqReader *r, TakeSegment *sg, int c, const int *cols, const TakeItem *items,
				  PqBatch *out, PqBatch *sorted, MemoryContext result)
{
	PqColumnVector tmp;
	bool		is_list = r->columns[cols[c]].is_list;
	MemoryContext work = CurrentMemoryContext;

	vector_init(&tmp, &r->columns[cols[c]], sg->j - sg->i);
	for (int64 k = sg->i; k < sg->j; k++)
	{
		if (k > sg->i && items[k].row == items[k - 1].row)
		{
			/* duplicate row: decode once */
			vector_copy_row(&tmp, k - sg->i, &tmp, k - sg->i - 1, is_list);
			continue;
		}
		cursor_seek(sg->cur[c], items[k].row - sg->base);
		cursor_read_row(sg->cur[c], &tmp, k - sg->i);
	}
	/* into the result, binary values copied out of the work context */
	MemoryContextSwitchTo(result);
	for (int64 k = sg->i; k < sg->j; k++)
	{
		PqColumnVector *dv = is_list ? &sorted->cols[c] : &out->cols[c];
		int64		d = is_list ? k : items[k].out;

		vector_copy_row(dv, d, &tmp, k - sg->i, is_list);
		if (dv->width == 0)
			own_binary_values(dv, is_list ? dv->offsets[d] : d, is_list ? dv->offsets[d + 1] : d + 1);
	}
	MemoryContextSwitchTo(work);
}

PqBatch *
parquet_take(PqReader *r, int ncols, const int *cols, const int64 *rows, int64 nrows)
{
	TakeItem   *items;
	PqBatch    *sorted = NULL;
	PqBatch    *out;
	MemoryContext work;
	MemoryContext old;
	TakeSegment *seg;
	int			nseg;
	IoArena    *arena;
	int		   *kdirect;		/* lists: k if every segment is offset-computed */
	Cursor	  **all;
	int			nall = 0;
	FetchList	f;

	check_projection(r, ncols, cols);
	if (nrows < 0 || (size_t) nrows > MaxAllocSize / sizeof(TakeItem))
		elog(ERROR, "parquet reader: too many rows to take");
	/*
	 * The reader keeps the offset indexes of the columns it takes from (one
	 * request per column, on the first take): a reader that serves many
	 * takes (index fetches of a vlake table) decodes each only once.
	 */
	for (int i = 0; i < ncols; i++)
		(void) parquet_reader_offset_indexes(r, cols[i]);
	for (int64 k = 0; k < nrows; k++)
		if (rows[k] < 0 || rows[k] >= r->meta->num_rows)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("row %lld is out of range for Parquet file \"%s\" (%lld rows)",
							(long long) rows[k], r->name, (long long) r->meta->num_rows)));
	items = palloc(sizeof(TakeItem) * Max(nrows, 1));
	for (int64 k = 0; k < nrows; k++)
	{
		items[k].row = rows[k];
		items[k].out = k;
	}
	qsort(items, nrows, sizeof(TakeItem), cmp_take);

	out = batch_alloc(r, ncols, cols, nrows);
	out->nrows = nrows;
	for (int64 k = 0; k < nrows; k++)
		out->row_numbers[items[k].out] = items[k].row;
	for (int c = 0; c < ncols; c++)
	{
		out->cols[c].nrows = nrows;
		if (!r->columns[cols[c]].is_list)
			out->cols[c].nvalues = nrows;
	}

	/*
	 * Rows in sorted order, a segment per row group.  I/O: one request for
	 * the offset indexes of every touched column chunk, one for all the
	 * values and pages (and dictionaries) they point to; chunks without an
	 * offset index are fetched whole, per row group.  Scalars and
	 * offset-computed lists land in their output rows at once; other lists
	 * are decoded in sorted order and reordered at the end.
	 */
	work = AllocSetContextCreate(CurrentMemoryContext, "parquet take", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);
	seg = take_segments(r, ncols, cols, items, nrows, work, &nseg);
	arena = parquet_arena_begin(work);
	all = palloc(sizeof(Cursor *) * Max(nseg * ncols, 1));
	parquet_page_cache_round();
	for (int g = 0; g < nseg; g++)
		for (int c = 0; c < ncols; c++)
		{
			seg[g].cur[c]->arena = arena;
			seg[g].cur[c]->use_cache = r->page_cache_file != 0 && parquet_page_cache_kb > 0 &&
				r->meta->row_groups[seg[g].cur[c]->rg].num_rows < PG_INT32_MAX;
			all[nall++] = seg[g].cur[c];
		}
	fetch_offset_indexes(r, all, nall);
	fetch_init(&f);
	kdirect = MemoryContextAllocZero(old, sizeof(int) * Max(ncols, 1));	/* outlives work */
	for (int c = 0; c < ncols; c++)
		kdirect[c] = r->columns[cols[c]].is_list ? -1 : 0;
	for (int g = 0; g < nseg; g++)
	{
		TakeSegment *sg = &seg[g];
		Cursor	  **paged = palloc(sizeof(Cursor *) * Max(ncols, 1));
		int			np = 0;

		for (int c = 0; c < ncols; c++)
		{
			Cursor	   *cu = sg->cur[c];

			sg->kfast[c] = take_values_per_row(r, cu);
			if (kdirect[c] != 0)
				kdirect[c] = (kdirect[c] == -1 || kdirect[c] == sg->kfast[c]) ? sg->kfast[c] : 0;
			if (sg->kfast[c] > 0)
			{
				sg->fast_buf[c] = parquet_arena_alloc(arena, cu->cxt,
													  (sg->j - sg->i) * sg->kfast[c] * take_width(cu));
				collect_value_ranges(&f, cu, sg->kfast[c], &items[sg->i], sg->j - sg->i,
									 sg->base, sg->fast_buf[c]);
			}
			else if (cu->oi != NULL)
				paged[np++] = cu;
		}
		collect_for_ranges(&f, paged, np, sg->starts, sg->ends, sg->nr);
	}
	/* one request: value ranges, pages and dictionaries of every column */
	fetch_run(r, &f);
	for (int g = 0; g < nseg; g++)
		for (int c = 0; c < ncols; c++)
			if (seg[g].kfast[c] > 0 && seg[g].cur[c]->use_cache)
				cache_put_value_rows(seg[g].cur[c], seg[g].kfast[c], &items[seg[g].i],
									 seg[g].j - seg[g].i, seg[g].base, seg[g].fast_buf[c]);

	MemoryContextSwitchTo(old);
	for (int c = 0; c < ncols; c++)
	{
		if (kdirect[c] > 0)
			shape_fixed_lists(&out->cols[c], nrows, kdirect[c]);
		else if (r->columns[cols[c]].is_list && sorted == NULL)
			sorted = batch_alloc(r, ncols, cols, nrows);
	}
	MemoryContextSwitchTo(work);

	for (int g = 0; g < nseg; g++)
	{
		TakeSegment *sg = &seg[g];
		Cursor	  **decoded = palloc(sizeof(Cursor *) * Max(ncols, 1));
		int			nd = 0;

		for (int c = 0; c < ncols; c++)
			if (sg->kfast[c] == 0)
				decoded[nd++] = sg->cur[c];
		/* chunks without offset index: whole, one row group at a time */
		fetch_for_ranges(r, decoded, nd, sg->starts, sg->ends, sg->nr);
		for (int c = 0; c < ncols; c++)
		{
			bool		is_list = r->columns[cols[c]].is_list;

			if (sg->kfast[c] > 0 && (!is_list || kdirect[c] > 0))
				scatter_value_rows(&out->cols[c], &items[sg->i], sg->j - sg->i, sg->kfast[c],
								   take_width(sg->cur[c]), sg->fast_buf[c]);
			else if (sg->kfast[c] > 0)
			{
				MemoryContextSwitchTo(old);
				append_value_rows(&sorted->cols[c], sg->i, &items[sg->i], sg->j - sg->i,
								  sg->kfast[c], sg->fast_buf[c]);
				MemoryContextSwitchTo(work);
			}
			else
				take_decoded_rows(r, sg, c, cols, items, out, sorted, old);
			/* this row group's pages are no longer needed */
			MemoryContextDelete(sg->cur[c]->cxt);
		}
		CHECK_FOR_INTERRUPTS();
	}
	MemoryContextSwitchTo(old);
	parquet_arena_end(arena);
	MemoryContextDelete(work);

	/* lists decoded in sorted order: into the caller's order */
	for (int c = 0; c < ncols; c++)
	{
		int64	   *where;

		if (!r->columns[cols[c]].is_list || kdirect[c] > 0)
			continue;
		where = palloc(sizeof(int64) * Max(nrows, 1));
		for (int64 k = 0; k < nrows; k++)
			where[items[k].out] = k;
		for (int64 k = 0; k < nrows; k++)
			vector_copy_row(&out->cols[c], k, &sorted->cols[c], where[k], true);
		pfree(where);
	}
	return out;
}

/* ---------------------------------------------------------- fixed take */

/* A column's cursors for parquet_take_fixed, one per row group, made on
 * first use and kept by the reader (they hold the OffsetIndex). */
typedef struct PqFixedPlan
{
	Cursor	  **cur;			/* [row group] */
	uint64	   *rowbytes;		/* [row group]: 0 = not offset-computed */
} PqFixedPlan;

/* The row group holding file row row (binary search). */
static int
row_group_of(PqReader *r, int64 row)
{
	int			lo = 0,
				hi = r->meta->num_row_groups - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi + 1) / 2;

		if (r->rg_first_row[mid] <= row)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static Cursor *
fixed_cursor(PqReader *r, int col, int rg, uint64 *rowbytes)
{
	int			leaf = r->columns[col].leaf;
	int			nrg = r->meta->num_row_groups;
	PqFixedPlan *fp;

	if (r->fixed == NULL)
		r->fixed = MemoryContextAllocZero(r->cxt, sizeof(PqFixedPlan *) * Max(r->meta->num_leaves, 1));
	if (r->fixed[leaf] == NULL)
	{
		fp = MemoryContextAlloc(r->cxt, sizeof(PqFixedPlan));
		fp->cur = MemoryContextAllocZero(r->cxt, sizeof(Cursor *) * Max(nrg, 1));
		fp->rowbytes = MemoryContextAllocZero(r->cxt, sizeof(uint64) * Max(nrg, 1));
		r->fixed[leaf] = fp;
	}
	fp = r->fixed[leaf];
	if (fp->cur[rg] == NULL)
	{
		PqOffsetIndex **ois = parquet_reader_offset_indexes(r, col);
		Cursor	   *c = cursor_create(r, &r->columns[col], rg, r->cxt, NULL);
		int			k;

		c->oi = ois[rg];
		k = take_values_per_row(r, c);
		fp->rowbytes[rg] = (uint64) Max(k, 0) * Max(take_width(c), 0);
		fp->cur[rg] = c;
	}
	*rowbytes = fp->rowbytes[rg];
	return fp->cur[rg];
}

bool
parquet_take_fixed(PqReader *r, int col, const int64 *rows, int64 n, size_t rowbytes, char *out)
{
	TakeItem   *items;
	ByteRange  *ranges;
	int			nr = 0;
	int			rg = 0;
	bool		sorted = true;

	check_projection(r, 1, &col);
	if (n <= 0 || n > PG_INT32_MAX || rowbytes == 0 ||
		(size_t) n > MaxAllocSize / sizeof(TakeItem))
		return false;
	items = palloc(sizeof(TakeItem) * n);
	for (int64 k = 0; k < n; k++)
	{
		if (rows[k] < 0 || rows[k] >= r->meta->num_rows)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("row %lld is out of range for Parquet file \"%s\" (%lld rows)",
							(long long) rows[k], r->name, (long long) r->meta->num_rows)));
		items[k].row = rows[k];
		items[k].out = k;
		sorted &= k == 0 || rows[k] >= rows[k - 1];
	}
	/* in file order: each row read once, near rows coalesced by the store */
	if (!sorted)
		qsort(items, n, sizeof(TakeItem), cmp_take);
	ranges = palloc(sizeof(ByteRange) * n);
	for (int64 x = 0; x < n; x++)
	{
		uint64		rb;
		Cursor	   *c;
		int64		row = items[x].row;

		if (x > 0 && row == items[x - 1].row)
			continue;			/* copied below */
		if (row < r->rg_first_row[rg] || row >= r->rg_first_row[rg + 1])
			rg = row_group_of(r, row);
		c = fixed_cursor(r, col, rg, &rb);
		if (rb != rowbytes)
		{
			pfree(ranges);
			pfree(items);
			return false;
		}
		ranges[nr].offset = value_offset(c, row - r->rg_first_row[rg], rowbytes);
		ranges[nr].length = rowbytes;
		ranges[nr].dest = out + (size_t) items[x].out * rowbytes;
		nr++;
	}
	parquet_source_read_ranges(r->src, ranges, nr);
	for (int64 x = 1; x < n; x++)
		if (items[x].row == items[x - 1].row)
			memcpy(out + (size_t) items[x].out * rowbytes,
				   out + (size_t) items[x - 1].out * rowbytes, rowbytes);
	pfree(ranges);
	pfree(items);
	return true;
}
