/*
 * vector_cg.c — take by row number from take-able Parquet columns (the
 * vector ColumnGroup layout); see vector_cg.h for the arithmetic and
 * docs/parquet-layout.md for the layout.
 *
 * Everything read from the file is checked before use: footer length,
 * OffsetIndex locations (inside the file, increasing, page sizes large
 * enough for their rows), page headers of pages decoded on the slow path.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "parquet/parquet_meta.h"
#include "parquet/parquet_encoding.h"
#include "parquet/parquet_takeable.h"
#include "layout/layout_keys.h"
#include "layout/vector_cg.h"

#define TAIL_READ_BYTES (64 * 1024)
#define SCAN_READ_BYTES (8 * 1024 * 1024)

typedef struct VcgPage
{
	int64		first_row;		/* row number within the file */
	int32		nrows;
	int64		offset;
	int32		size;			/* header + body */
	bool		must_decode;	/* nulls possible, or offsets not computable */
} VcgPage;

struct VectorCG
{
	ObjStore   *store;
	char	   *key;
	char	   *uri;
	uint64		size;
	PqFileMetaData *fm;
	int			leaf;			/* leaf column index */
	PqType		phys;
	int			width;			/* bytes per leaf value */
	int			k;				/* leaf values per row */
	int			max_def;
	int			max_rep;
	int64		nrows;
	int			npages;
	VcgPage    *pages;
};

static void pg_attribute_noreturn()
bad_file(VectorCG *cg, const char *fmt,...) pg_attribute_printf(2, 3);

static void
bad_file(VectorCG *cg, const char *fmt,...)
{
	char		detail[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid Parquet file \"%s\"", cg->uri),
			 errdetail("%s", detail)));
	pg_unreachable();
}

static void pg_attribute_noreturn()
not_takeable(VectorCG *cg, const char *fmt,...) pg_attribute_printf(2, 3);

static void
not_takeable(VectorCG *cg, const char *fmt,...)
{
	char		detail[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("Parquet file \"%s\" is not laid out for take by row", cg->uri),
			 errdetail("%s", detail),
			 errhint("Write it with vlake.parquet_write(..., '{\"layout\": \"vector\"}').")));
	pg_unreachable();
}

static const char *
kv_get(PqFileMetaData *fm, const char *key)
{
	for (int i = 0; i < fm->num_key_value; i++)
		if (fm->key_value[i].key && strcmp(fm->key_value[i].key, key) == 0)
			return fm->key_value[i].value;
	return NULL;
}

/*
 * Walk the schema tree to the top-level field named column (or the only
 * suitable one) and work out its leaf index, levels and shape.
 */
static void
find_column(VectorCG *cg, const char *column)
{
	PqFileMetaData *fm = cg->fm;
	int			pos = 1;
	int			leaf = 0;
	int			found_pos = -1;
	int			found_leaf = -1;
	int			nfound = 0;

	if (fm->num_schema < 2)
		bad_file(cg, "The schema has no columns.");
	for (int child = 0; child < fm->schema[0].num_children; child++)
	{
		PqSchemaElement *e;
		int			nleaves = 0;
		int			end = pos;
		int			pending = 1;

		if (pos >= fm->num_schema)
			bad_file(cg, "The schema tree is truncated.");
		e = &fm->schema[pos];
		/* extent of this subtree (depth-first) */
		while (pending > 0)
		{
			if (end >= fm->num_schema)
				bad_file(cg, "The schema tree is truncated.");
			pending += fm->schema[end].num_children - 1;
			if (fm->schema[end].num_children == 0)
				nleaves++;
			end++;
		}
		if (column ? strcmp(e->name, column) == 0
			: (e->num_children > 0 || fm->schema[0].num_children == 1))
		{
			found_pos = pos;
			found_leaf = leaf;
			nfound++;
		}
		leaf += nleaves;
		pos = end;
	}
	if (nfound == 0)
		not_takeable(cg, column ? "It has no column \"%s\"." : "It has no list column%s.",
					 column ? column : "");
	if (nfound > 1)
		not_takeable(cg, "It has several list columns; name one.");
	cg->leaf = found_leaf;

	{
		PqSchemaElement *top = &fm->schema[found_pos];
		PqSchemaElement *lf = top;
		int			def = (top->repetition == PARQUET_OPTIONAL) ? 1 : 0;
		int			rep = 0;

		if (top->repetition == PARQUET_REPEATED)
			not_takeable(cg, "Column \"%s\" is a repeated field.", top->name);
		if (top->num_children > 0)
		{
			PqSchemaElement *mid = &fm->schema[found_pos + 1];

			if (top->num_children != 1 || mid->repetition != PARQUET_REPEATED ||
				mid->num_children != 1 || fm->schema[found_pos + 2].num_children != 0)
				not_takeable(cg, "Column \"%s\" is not a list of a primitive type.", top->name);
			lf = &fm->schema[found_pos + 2];
			def += 1;
			rep = 1;
			if (lf->repetition == PARQUET_OPTIONAL)
				def += 1;
			else if (lf->repetition == PARQUET_REPEATED)
				not_takeable(cg, "Column \"%s\" is a two-level list.", top->name);
		}
		cg->max_def = def;
		cg->max_rep = rep;
		cg->phys = lf->type;
		switch (lf->type)
		{
			case PARQUET_INT32:
			case PARQUET_FLOAT:
				cg->width = 4;
				break;
			case PARQUET_INT64:
			case PARQUET_DOUBLE:
				cg->width = 8;
				break;
			case PARQUET_FIXED_LEN_BYTE_ARRAY:
				cg->width = lf->type_length;
				break;
			default:
				not_takeable(cg, "Column \"%s\" has no fixed-width values.", top->name);
		}
		if (cg->width <= 0)
			bad_file(cg, "Column \"%s\" has an invalid type length.", top->name);
		if (rep == 0)
			cg->k = 1;
		else
		{
			int			d = layout_declared_dim(fm, top->name, cg->uri);

			if (d < 0)
				not_takeable(cg, "Column \"%s\" is a list of no declared dimension.", top->name);
			cg->k = d;
		}
		if ((int64) cg->k * cg->width > MaxAllocSize / 1024)
			bad_file(cg, "Rows of %d values of %d bytes are too large.", cg->k, cg->width);
	}
}

/* Read [off, off+len) of the object into a palloc'd buffer. */
static char *
read_range(VectorCG *cg, uint64 off, uint64 len)
{
	char	   *buf = palloc_extended(Max(len, 1), MCXT_ALLOC_HUGE);

	if (len > 0)
		objstore_get_range(cg->store, cg->key, off, len, buf);
	return buf;
}

static void
load_pages(VectorCG *cg, const char *tail, uint64 tail_off)
{
	PqFileMetaData *fm = cg->fm;
	int64		lo = PG_INT64_MAX,
				hi = 0;
	char	   *span;
	uint64		span_off;
	int64		row_base = 0;
	int			cap = 64;

	/* one read for every chunk's OffsetIndex (usually inside the tail) */
	for (int g = 0; g < fm->num_row_groups; g++)
	{
		PqColumnChunk *cc = &fm->row_groups[g].columns[cg->leaf];

		if (!cc->has_offset_index)
			not_takeable(cg, "Row group %d has no OffsetIndex.", g);
		if (cc->offset_index_offset < 0 || cc->offset_index_length <= 0 ||
			(uint64) cc->offset_index_offset + cc->offset_index_length > cg->size)
			bad_file(cg, "The OffsetIndex of row group %d lies outside the file.", g);
		lo = Min(lo, cc->offset_index_offset);
		hi = Max(hi, cc->offset_index_offset + cc->offset_index_length);
	}
	if (fm->num_row_groups == 0)
	{
		cg->pages = palloc(sizeof(VcgPage));
		return;
	}
	if ((uint64) lo >= tail_off)
	{
		span = (char *) tail + (lo - tail_off);
		span_off = lo;
	}
	else
	{
		span = read_range(cg, lo, hi - lo);
		span_off = lo;
	}

	cg->pages = palloc(sizeof(VcgPage) * cap);
	for (int g = 0; g < fm->num_row_groups; g++)
	{
		PqRowGroup *rg = &fm->row_groups[g];
		PqColumnChunk *cc = &rg->columns[cg->leaf];
		PqColumnMetaData *m = &cc->meta_data;
		PqOffsetIndex *oi;
		bool		must_decode;
		int64		chunk_end;

		{
			char		why[128];

			if (!parquet_chunk_takeable(cc, &must_decode, why, sizeof(why)))
				not_takeable(cg, "Row group %d %s.", g, why);
		}
		chunk_end = m->data_page_offset + m->total_compressed_size;

		oi = parquet_decode_offset_index((const uint8 *) span + (cc->offset_index_offset - span_off),
									cc->offset_index_length, cg->uri);
		/* pages of another shape (or a damaged index) are decoded, not computed */
		if (!parquet_offset_index_uniform(oi, m->data_page_offset, chunk_end, rg->num_rows))
			must_decode = true;
		for (int p = 0; p < oi->num_pages; p++)
		{
			PqPageLocation *loc = &oi->page_locations[p];
			int64		next_first = (p + 1 < oi->num_pages) ?
				oi->page_locations[p + 1].first_row_index : rg->num_rows;
			VcgPage    *pg;

			if (loc->first_row_index < 0 || next_first <= loc->first_row_index ||
				next_first > rg->num_rows || (p == 0 && loc->first_row_index != 0))
				bad_file(cg, "OffsetIndex of row group %d has invalid first_row_index values.", g);
			if (loc->offset < m->data_page_offset || loc->compressed_page_size <= 0 ||
				loc->offset + loc->compressed_page_size > chunk_end ||
				(uint64) (loc->offset + loc->compressed_page_size) > cg->size)
				bad_file(cg, "OffsetIndex of row group %d locates page %d outside its column chunk.", g, p);
			if (next_first - loc->first_row_index > PG_INT32_MAX ||
				(!must_decode &&
				 (next_first - loc->first_row_index) * cg->k * cg->width > loc->compressed_page_size))
				bad_file(cg, "Page %d of row group %d is too small for its rows.", p, g);
			if (cg->npages == cap)
			{
				cap *= 2;
				cg->pages = repalloc_huge(cg->pages, sizeof(VcgPage) * cap);
			}
			pg = &cg->pages[cg->npages++];
			pg->first_row = row_base + loc->first_row_index;
			pg->nrows = (int32) (next_first - loc->first_row_index);
			pg->offset = loc->offset;
			pg->size = loc->compressed_page_size;
			pg->must_decode = must_decode;
		}
		if (oi->num_pages == 0 && rg->num_rows > 0)
			bad_file(cg, "OffsetIndex of row group %d has no pages.", g);
		row_base += rg->num_rows;
	}
	cg->nrows = row_base;
}

VectorCG *
layout_vcg_open(ObjStore *store, const char *key, const char *column)
{
	VectorCG   *cg = palloc0(sizeof(VectorCG));
	ObjStat		st;
	uint64		tail_len,
				tail_off;
	char	   *tail;
	uint32		flen;
	const char *footer;

	cg->store = store;
	cg->key = pstrdup(key);
	cg->uri = objstore_uri(store, key);
	if (!objstore_head(store, key, &st))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("Parquet file \"%s\" does not exist", cg->uri)));
	cg->size = st.size;
	if (cg->size < 12)
		bad_file(cg, "The file is %llu bytes long, too short for Parquet.",
				 (unsigned long long) cg->size);
	tail_len = Min(cg->size, TAIL_READ_BYTES);
	tail_off = cg->size - tail_len;
	tail = read_range(cg, tail_off, tail_len);
	if (memcmp(tail + tail_len - 4, "PAR1", 4) != 0)
		bad_file(cg, "The file does not end with the Parquet magic \"PAR1\".");
	memcpy(&flen, tail + tail_len - 8, 4);
	if ((uint64) flen > cg->size - 12)
		bad_file(cg, "Footer length %u exceeds the file size %llu.", flen,
				 (unsigned long long) cg->size);
	if (flen + 8 <= tail_len)
		footer = tail + tail_len - 8 - flen;
	else
		footer = read_range(cg, cg->size - 8 - flen, flen);
	cg->fm = parquet_decode_file_metadata((const uint8 *) footer, flen, cg->uri);
	if (cg->fm->encrypted)
		not_takeable(cg, "The file is encrypted.");
	find_column(cg, column);
	load_pages(cg, tail, tail_off);
	return cg;
}

void
layout_vcg_close(VectorCG *cg)
{
	/* everything is palloc'd in the caller's context */
}

int64
layout_vcg_rows(VectorCG *cg)
{
	return cg->nrows;
}

int64
layout_vcg_first_row_id(VectorCG *cg)
{
	const char *v = kv_get(cg->fm, LAYOUT_KV_FIRST_ROW_ID);
	char	   *end;
	long long	r;

	if (v == NULL)
		return -1;
	errno = 0;
	r = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || r < 0)
		bad_file(cg, "Key-value metadata %s=\"%s\" is not a row ID.", LAYOUT_KV_FIRST_ROW_ID, v);
	return (int64) r;
}

int
layout_vcg_values_per_row(VectorCG *cg)
{
	return cg->k;
}

int
layout_vcg_value_width(VectorCG *cg)
{
	return cg->width;
}

bool
layout_vcg_is_float16(VectorCG *cg)
{
	const char *e = kv_get(cg->fm, LAYOUT_KV_VECTOR_ELEMENT);
	const char *d = kv_get(cg->fm, LAYOUT_KV_VECTOR_DIM);

	return cg->phys == PARQUET_FIXED_LEN_BYTE_ARRAY && cg->k == 1 &&
		e != NULL && strcmp(e, "float16") == 0 &&
		d != NULL && atoi(d) * 2 == cg->width;
}

int
layout_vcg_physical_type(VectorCG *cg)
{
	return cg->phys;
}

static int
find_page(VectorCG *cg, int64 row)
{
	int			lo = 0,
				hi = cg->npages - 1;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (cg->pages[mid].first_row <= row)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/*
 * Decode one whole page (slow path: the page may hold nulls): values of
 * every row into out (nrows * k * width), null flags into isnull.
 */
static void
decode_page(VectorCG *cg, const VcgPage *pg, const char *buf, char *out, bool *isnull)
{
	ThriftReader r;
	PqPageHeader h;
	const uint8 *body;
	size_t		blen;
	int64		nlevels;
	uint32	   *def,
			   *rep;
	size_t		pos = 0;
	int64		row = -1;
	int64		vi = 0;
	int64		nvals = 0;
	size_t		rowbytes = (size_t) cg->k * cg->width;
	const uint8 *values;
	size_t		vlen;
	int64		row_nvals = 0;

	thrift_reader_init(&r, buf, pg->size, cg->uri, "page header");
	parquet_decode_page_header(&r, &h);
	body = (const uint8 *) buf + r.pos;
	blen = pg->size - r.pos;
	if (h.compressed_page_size != (int32) blen || h.uncompressed_page_size != (int32) blen)
		bad_file(cg, "Page at offset " INT64_FORMAT " has sizes that do not match its OffsetIndex entry.",
				 pg->offset);
	if (h.type == PARQUET_PAGE_DATA && h.has_data_page_header)
	{
		if (h.data_page_header.encoding != PARQUET_ENC_PLAIN)
			not_takeable(cg, "A data page uses encoding %s.", parquet_encoding_name(h.data_page_header.encoding));
		nlevels = h.data_page_header.num_values;
	}
	else if (h.type == PARQUET_PAGE_DATA_V2 && h.has_data_page_header_v2)
	{
		if (h.data_page_header_v2.encoding != PARQUET_ENC_PLAIN)
			not_takeable(cg, "A data page uses encoding %s.", parquet_encoding_name(h.data_page_header_v2.encoding));
		nlevels = h.data_page_header_v2.num_values;
	}
	else
		bad_file(cg, "Page at offset " INT64_FORMAT " is not a data page.", pg->offset);
	if (nlevels < pg->nrows || nlevels > (int64) pg->nrows * Max(cg->k, 1) + pg->nrows)
		bad_file(cg, "Page at offset " INT64_FORMAT " has " INT64_FORMAT " values for %d rows.",
				 pg->offset, nlevels, pg->nrows);
	def = palloc0(sizeof(uint32) * nlevels);
	rep = palloc0(sizeof(uint32) * nlevels);
	if (h.type == PARQUET_PAGE_DATA)
	{
		if (cg->max_rep > 0)
			pos += parquet_rle_decode_prefixed(body, blen, parquet_bit_width(cg->max_rep), nlevels, rep);
		if (cg->max_def > 0)
			pos += parquet_rle_decode_prefixed(body + pos, blen - pos, parquet_bit_width(cg->max_def), nlevels, def);
	}
	else
	{
		int32		rl = h.data_page_header_v2.repetition_levels_byte_length;
		int32		dl = h.data_page_header_v2.definition_levels_byte_length;

		if (rl < 0 || dl < 0 || (size_t) rl + dl > blen)
			bad_file(cg, "Page at offset " INT64_FORMAT " has invalid level lengths.", pg->offset);
		if (cg->max_rep > 0)
			parquet_rle_decode(body, rl, parquet_bit_width(cg->max_rep), nlevels, rep);
		if (cg->max_def > 0)
			parquet_rle_decode(body + rl, dl, parquet_bit_width(cg->max_def), nlevels, def);
		pos = rl + dl;
	}
	for (int64 i = 0; i < nlevels; i++)
		if (def[i] == (uint32) cg->max_def)
			nvals++;
	values = body + pos;
	vlen = blen - pos;
	if ((uint64) nvals * cg->width > vlen)
		bad_file(cg, "Page at offset " INT64_FORMAT " holds fewer values than its levels say.", pg->offset);

	memset(out, 0, rowbytes * pg->nrows);
	for (int64 i = 0; i < nlevels; i++)
	{
		if (rep[i] == 0)
		{
			if (row >= 0 && !isnull[row] && row_nvals != cg->k)
				bad_file(cg, "A list in page at offset " INT64_FORMAT " does not have %d values.",
						 pg->offset, cg->k);
			row++;
			if (row >= pg->nrows)
				bad_file(cg, "Page at offset " INT64_FORMAT " has more rows than its OffsetIndex says.",
						 pg->offset);
			isnull[row] = (def[i] != (uint32) cg->max_def);
			row_nvals = 0;
		}
		if (def[i] == (uint32) cg->max_def)
		{
			if (row < 0 || row_nvals >= cg->k)
				bad_file(cg, "A list in page at offset " INT64_FORMAT " has more than %d values.",
						 pg->offset, cg->k);
			memcpy(out + row * rowbytes + row_nvals * cg->width, values + vi * cg->width, cg->width);
			row_nvals++;
			vi++;
		}
	}
	if (row != pg->nrows - 1 || (!isnull[row] && row_nvals != cg->k))
		bad_file(cg, "Page at offset " INT64_FORMAT " does not hold %d whole rows.", pg->offset, pg->nrows);
	pfree(def);
	pfree(rep);
}

typedef struct TakeItem
{
	int64		row;
	int			pos;			/* index in the caller's arrays */
} TakeItem;

static int
cmp_take(const void *a, const void *b)
{
	const TakeItem *x = a,
			   *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x->pos - y->pos;
}

void
layout_vcg_take(VectorCG *cg, const int64 *rows, int n, char *out, bool *isnull)
{
	size_t		rowbytes = (size_t) cg->k * cg->width;
	TakeItem   *items;
	ObjRange   *ranges;
	int		   *first_item;		/* per range: first item it serves */
	int			nranges = 0;
	int			p = 0;
	size_t		gap;

	if (n <= 0)
		return;
	items = palloc(sizeof(TakeItem) * n);
	for (int i = 0; i < n; i++)
	{
		if (rows[i] < 0 || rows[i] >= cg->nrows)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("row " INT64_FORMAT " is out of range for \"%s\" (" INT64_FORMAT " rows)",
							rows[i], cg->uri, cg->nrows)));
		items[i].row = rows[i];
		items[i].pos = i;
		isnull[i] = false;
	}
	qsort(items, n, sizeof(TakeItem), cmp_take);

	/* pages to decode (nulls, irregular index): fetch and decode each once */
	for (int i = 0; i < n; i++)
	{
		VcgPage    *pg;

		p = find_page(cg, items[i].row);
		pg = &cg->pages[p];
		if (!pg->must_decode)
			continue;
		{
			char	   *buf = read_range(cg, pg->offset, pg->size);
			char	   *vals = palloc(rowbytes * pg->nrows);
			bool	   *nulls = palloc(sizeof(bool) * pg->nrows);
			int			j = i;

			decode_page(cg, pg, buf, vals, nulls);
			for (; j < n && items[j].row < pg->first_row + pg->nrows; j++)
			{
				int64		r = items[j].row - pg->first_row;

				memcpy(out + items[j].pos * rowbytes, vals + r * rowbytes, rowbytes);
				isnull[items[j].pos] = nulls[r];
				items[j].row = -1 - items[j].row;	/* done */
			}
			pfree(buf);
			pfree(vals);
			pfree(nulls);
			i = j - 1;
		}
	}

	/*
	 * Null-free pages: exact byte ranges, merged when the gap is at most one
	 * row (so never more than 2x the wanted bytes), or at most 4 KB for
	 * narrow rows, where the number of reads matters more than the bytes.
	 */
	gap = rowbytes >= 256 ? rowbytes : Max(rowbytes, 4096);
	ranges = palloc(sizeof(ObjRange) * n);
	first_item = palloc(sizeof(int) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		VcgPage    *pg;
		uint64		start;

		if (items[i].row < 0)
			continue;
		pg = &cg->pages[find_page(cg, items[i].row)];
		start = pg->offset + pg->size -
			(uint64) (pg->nrows - (items[i].row - pg->first_row)) * rowbytes;
		if (nranges > 0 &&
			start <= ranges[nranges - 1].offset + ranges[nranges - 1].length + gap)
		{
			ObjRange   *last = &ranges[nranges - 1];
			uint64		end = Max(last->offset + last->length, start + rowbytes);

			last->length = end - last->offset;
		}
		else
		{
			ranges[nranges].offset = start;
			ranges[nranges].length = rowbytes;
			first_item[nranges] = i;
			nranges++;
		}
	}
	first_item[nranges] = n;
	for (int i = 0; i < nranges; i++)
		ranges[i].dest = palloc_extended(ranges[i].length, MCXT_ALLOC_HUGE);
	if (nranges > 0)
		objstore_get_ranges(cg->store, cg->key, ranges, nranges);

	/* scatter to the caller's order */
	for (int ri = 0; ri < nranges; ri++)
	{
		for (int i = first_item[ri]; i < first_item[ri + 1]; i++)
		{
			VcgPage    *pg;
			uint64		start;

			if (items[i].row < 0)
				continue;
			pg = &cg->pages[find_page(cg, items[i].row)];
			start = pg->offset + pg->size -
				(uint64) (pg->nrows - (items[i].row - pg->first_row)) * rowbytes;
			memcpy(out + items[i].pos * rowbytes,
				   ranges[ri].dest + (start - ranges[ri].offset), rowbytes);
		}
		pfree(ranges[ri].dest);
	}
	pfree(ranges);
	pfree(first_item);
	pfree(items);
}

void
layout_vcg_scan(VectorCG *cg, layout_vcg_page_fn fn, void *arg)
{
	size_t		rowbytes = (size_t) cg->k * cg->width;
	int			p = 0;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vector_cg scan",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	bool	   *nonull = NULL;
	int			nonull_cap = 0;

	while (p < cg->npages)
	{
		/* a run of consecutive pages up to SCAN_READ_BYTES (at least one) */
		int			q = p + 1;
		uint64		start = cg->pages[p].offset;
		uint64		end = start + cg->pages[p].size;
		char	   *buf;

		while (q < cg->npages && cg->pages[q].offset == (int64) end &&
			   end - start + cg->pages[q].size <= SCAN_READ_BYTES)
			end += cg->pages[q++].size;
		buf = read_range(cg, start, end - start);
		for (int i = p; i < q; i++)
		{
			VcgPage    *pg = &cg->pages[i];
			const char *page = buf + (pg->offset - start);

			CHECK_FOR_INTERRUPTS();
			if (pg->nrows > nonull_cap)
			{
				nonull_cap = pg->nrows;
				nonull = nonull ? repalloc(nonull, nonull_cap) : palloc(nonull_cap);
			}
			if (!pg->must_decode)
			{
				memset(nonull, 0, pg->nrows);
				fn(arg, pg->first_row, pg->nrows,
				   page + pg->size - (size_t) pg->nrows * rowbytes, nonull);
			}
			else
			{
				char	   *vals = palloc(rowbytes * pg->nrows);

				decode_page(cg, pg, page, vals, nonull);
				fn(arg, pg->first_row, pg->nrows, vals, nonull);
				pfree(vals);
			}
		}
		pfree(buf);
		p = q;
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}
