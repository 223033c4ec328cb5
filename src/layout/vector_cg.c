/*
 * vector_cg.c — take by row number from take-able Parquet columns (the
 * vector ColumnGroup layout); see vector_cg.h for the arithmetic and
 * docs/parquet-layout.md for the layout.
 *
 * Built on the generic reader: it opens the file, keeps the column's
 * OffsetIndexes, and takes rows (offset-computed where the layout allows,
 * else by decoding the pages).  This file adds what the layout promises:
 * the column's shape, take-able chunks, and a scan that hands out whole
 * runs of pages without decoding them.  Everything read from the file is
 * checked before use (OffsetIndex locations inside the file, increasing,
 * pages large enough for their rows).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "lake/lake_error.h"
#include "layout/layout_keys.h"
#include "layout/vector_cg.h"
#include "parquet/parquet_encoding.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_takeable.h"

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
	PqReader   *r;
	const char *uri;
	LakeErrorContext take_ctx;	/* for not_takeable */
	uint64		size;
	PqFileMetaData *fm;
	int			col;			/* reader column */
	int			leaf;			/* leaf column index */
	bool		is_list;
	PqType		phys;
	int			width;			/* bytes per leaf value */
	int			k;				/* leaf values per row */
	int			max_def;
	int			max_rep;
	int64		nrows;
	int			npages;
	VcgPage    *pages;
};

/*
 * Errors go through lake_report: "invalid Parquet file "<uri>": <reason>"
 * for a broken file (bad_file), "cannot read Parquet file "<uri>": not laid
 * out for take by row: <reason>" for a valid file of another layout.
 */
#define bad_file(cg, ...) lake_corrupt("Parquet file", (cg)->uri, __VA_ARGS__)
#define not_takeable(cg, ...) lake_report(LAKE_UNSUPPORTED, &(cg)->take_ctx, __VA_ARGS__)
#define NOT_LAID_OUT "not laid out for take by row: "

/*
 * The top-level field named column (or the only suitable one) and its
 * shape: a fixed-width scalar, or a 3-level list of them with a declared
 * dimension.
 */
static void
find_column(VectorCG *cg, const char *column)
{
	PqReader   *r = cg->r;
	PqFileMetaData *fm = cg->fm;
	int			found = -1;
	int			nfound = 0;

	if (r->ncolumns == 0)
		bad_file(cg, "the schema has no columns");
	for (int c = 0; c < r->ncolumns; c++)
	{
		PqSchemaElement *e = &fm->schema[r->columns[c].top_schema_index];

		if (column ? strcmp(e->name, column) == 0
			: (e->num_children > 0 || r->ncolumns == 1))
		{
			if (found < 0)
				found = c;
			nfound++;
		}
	}
	if (nfound == 0)
		not_takeable(cg, column ? NOT_LAID_OUT "it has no column \"%s\""
					 : NOT_LAID_OUT "it has no list column%s",
					 column ? column : "");
	if (nfound > 1 && column == NULL)
		not_takeable(cg, NOT_LAID_OUT "it has several list columns; name one");
	cg->col = found;
	cg->leaf = r->columns[found].leaf;

	{
		int			top_index = r->columns[found].top_schema_index;
		PqSchemaElement *top = &fm->schema[top_index];
		PqSchemaElement *lf = top;

		if (top->repetition == PARQUET_REPEATED)
			not_takeable(cg, NOT_LAID_OUT "column \"%s\" is a repeated field", top->name);
		if (top->num_children > 0)
		{
			PqSchemaElement *mid = &fm->schema[top_index + 1];

			if (top->num_children != 1 || mid->repetition != PARQUET_REPEATED ||
				mid->num_children != 1 || fm->schema[top_index + 2].num_children != 0)
				not_takeable(cg, NOT_LAID_OUT "column \"%s\" is not a list of a primitive type", top->name);
			lf = &fm->schema[top_index + 2];
			if (lf->repetition == PARQUET_REPEATED)
				not_takeable(cg, NOT_LAID_OUT "column \"%s\" is a two-level list", top->name);
			cg->is_list = true;
		}
		if (r->columns[found].unsupported)
			not_takeable(cg, NOT_LAID_OUT "column \"%s\" cannot be read: %s", top->name,
						 r->columns[found].unsupported);
		cg->phys = lf->type;
		switch (lf->type)
		{
			case PARQUET_INT32:
			case PARQUET_FLOAT:
			case PARQUET_INT64:
			case PARQUET_DOUBLE:
			case PARQUET_FIXED_LEN_BYTE_ARRAY:
				cg->width = parquet_plain_width(lf->type, lf->type_length);
				break;
			default:
				not_takeable(cg, NOT_LAID_OUT "column \"%s\" has no fixed-width values", top->name);
		}
		if (cg->width <= 0)
			bad_file(cg, "column \"%s\" has an invalid type length", top->name);
		if (!cg->is_list)
			cg->k = 1;
		else
		{
			int			d = layout_declared_dim(fm, top->name, cg->uri);

			if (d < 0)
				not_takeable(cg, NOT_LAID_OUT "column \"%s\" is a list of no declared dimension", top->name);
			cg->k = d;
		}
		if ((int64) cg->k * cg->width > MaxAllocSize / 1024)
			bad_file(cg, "rows of %d values of %d bytes are too large", cg->k, cg->width);
	}
}

/* The page table the scan reads by: every page's rows and bytes. */
static void
load_pages(VectorCG *cg)
{
	PqFileMetaData *fm = cg->fm;
	PqOffsetIndex **ois;
	int64		row_base = 0;
	int			cap = 64;

	for (int g = 0; g < fm->num_row_groups; g++)
	{
		PqColumnChunk *cc = &fm->row_groups[g].columns[cg->leaf];

		if (!cc->has_offset_index)
			not_takeable(cg, NOT_LAID_OUT "row group %d has no OffsetIndex", g);
		if (cc->offset_index_offset < 0 || cc->offset_index_length <= 0 ||
			(uint64) cc->offset_index_offset + cc->offset_index_length > cg->size)
			bad_file(cg, "the OffsetIndex of row group %d lies outside the file", g);
	}
	cg->pages = palloc(sizeof(VcgPage) * cap);
	if (fm->num_row_groups == 0)
		return;
	/* one read for every chunk's OffsetIndex (usually inside the footer read) */
	ois = parquet_reader_offset_indexes(cg->r, cg->col);

	for (int g = 0; g < fm->num_row_groups; g++)
	{
		PqRowGroup *rg = &fm->row_groups[g];
		PqColumnChunk *cc = &rg->columns[cg->leaf];
		PqColumnMetaData *m = &cc->meta_data;
		PqOffsetIndex *oi = ois[g];
		bool		must_decode;
		int64		chunk_end;

		{
			char		why[128];

			if (!parquet_chunk_takeable(cc, &must_decode, why, sizeof(why)))
				not_takeable(cg, NOT_LAID_OUT "row group %d %s", g, why);
		}
		chunk_end = m->data_page_offset + m->total_compressed_size;
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
				bad_file(cg, "OffsetIndex of row group %d has invalid first_row_index values", g);
			if (loc->offset < m->data_page_offset || loc->compressed_page_size <= 0 ||
				loc->offset + loc->compressed_page_size > chunk_end ||
				(uint64) (loc->offset + loc->compressed_page_size) > cg->size)
				bad_file(cg, "OffsetIndex of row group %d locates page %d outside its column chunk", g, p);
			if (next_first - loc->first_row_index > PG_INT32_MAX ||
				(!must_decode &&
				 (next_first - loc->first_row_index) * cg->k * cg->width > loc->compressed_page_size))
				bad_file(cg, "page %d of row group %d is too small for its rows", p, g);
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
		row_base += rg->num_rows;
	}
	cg->nrows = row_base;
}

VectorCG *
layout_vcg_open(ByteSource *src, const char *column)
{
	VectorCG   *cg = palloc0(sizeof(VectorCG));

	cg->uri = src->name;
	cg->size = src->size;
	cg->take_ctx.what = "Parquet file";
	cg->take_ctx.object = cg->uri;
	cg->take_ctx.hint = "Write it with vlake.parquet_write(..., '{\"layout\": \"vector\"}').";
	cg->r = parquet_reader_open(src);
	layout_reader_init(cg->r);
	cg->fm = cg->r->meta;
	find_column(cg, column);
	load_pages(cg);
	return cg;
}

int64
layout_vcg_rows(VectorCG *cg)
{
	return cg->nrows;
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
	const char *e = parquet_kv_value(cg->fm, LAYOUT_KV_VECTOR_ELEMENT);
	const char *d = parquet_kv_value(cg->fm, LAYOUT_KV_VECTOR_DIM);

	return cg->phys == PARQUET_FIXED_LEN_BYTE_ARRAY && cg->k == 1 &&
		e != NULL && strcmp(e, "float16") == 0 &&
		d != NULL && atoi(d) * 2 == cg->width;
}

int
layout_vcg_physical_type(VectorCG *cg)
{
	return cg->phys;
}

/*
 * Rows rows[0..n) of the column, taken by the generic reader, into out
 * (k * width bytes a row, caller's order) and isnull.  Null rows, and lists
 * without elements, are null with their bytes zeroed; a list of another
 * length, or with null elements, is not a row of this layout.
 */
static void
take_rows(VectorCG *cg, const int64 *rows, int64 n, char *out, bool *isnull)
{
	size_t		rowbytes = (size_t) cg->k * cg->width;
	PqBatch    *b;
	PqColumnVector *v;

	/* no nulls in the chunks: the values as stored, straight into out */
	if (parquet_take_fixed(cg->r, cg->col, rows, n, rowbytes, out))
	{
		memset(isnull, 0, n);
		return;
	}
	b = parquet_take(cg->r, 1, &cg->col, rows, n);
	v = &b->cols[0];

	for (int64 i = 0; i < n; i++)
	{
		char	   *dst = out + i * rowbytes;
		const char *src;

		isnull[i] = v->row_null[i];
		if (cg->is_list && !isnull[i])
		{
			int64		from = v->offsets[i],
						to = v->offsets[i + 1];

			if (to == from)
				isnull[i] = true;
			else if (to - from != cg->k ||
					 memchr(v->elem_null + from, true, cg->k) != NULL)
				bad_file(cg, "the list in row " INT64_FORMAT " does not have %d values",
						 rows[i], cg->k);
			src = (const char *) v->fixed + from * cg->width;
		}
		else if (v->width > 0)
			src = (const char *) v->fixed + i * rowbytes;
		else
		{
			if (!isnull[i] && v->bin[i].len != (int32) rowbytes)
				bad_file(cg, "the value in row " INT64_FORMAT " does not have %d bytes",
						 rows[i], cg->width);
			src = (const char *) v->bin[i].data;
		}
		if (isnull[i])
			memset(dst, 0, rowbytes);
		else
			memcpy(dst, src, rowbytes);
	}
}

void
layout_vcg_take(VectorCG *cg, const int64 *rows, int n, char *out, bool *isnull)
{
	MemoryContext cxt,
				old;

	if (n <= 0)
		return;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vector_cg take", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	take_rows(cg, rows, n, out, isnull);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
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
		buf = parquet_source_read(cg->r->src, start, end - start);
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
				/* nulls, or an irregular index: the reader decodes the page */
				char	   *vals = palloc(rowbytes * pg->nrows);
				int64	   *rows = palloc(sizeof(int64) * pg->nrows);

				for (int k = 0; k < pg->nrows; k++)
					rows[k] = pg->first_row + k;
				take_rows(cg, rows, pg->nrows, vals, nonull);
				fn(arg, pg->first_row, pg->nrows, vals, nonull);
				pfree(vals);
				pfree(rows);
			}
		}
		pfree(buf);
		p = q;
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}
