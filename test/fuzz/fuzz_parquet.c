/*
 * fuzz_parquet.c — libFuzzer harness for the Parquet metadata and page
 * decoders, built without the backend (pg_standin.c supplies palloc and
 * ereport; ERROR longjmps back here).
 *
 * The first input byte picks a target; the rest is the data:
 *   0  a whole Parquet file: open (magic, footer, schema), then scan every
 *      readable column and take a few rows — exercises page headers,
 *      decompression, levels, PLAIN / dictionary / DELTA / BSS decoding
 *   1  FileMetaData (Thrift compact)
 *   2  PageHeader sequence
 *   3  ColumnIndex
 *   4  OffsetIndex
 * An ERROR is a normal outcome; a crash, an ASan report, a leak past the
 * per-input reset or memory beyond the bound below is a failure.
 *
 * Build: make build/bin/fuzz_parquet (clang -fsanitize=fuzzer,address).
 * Run:   build/bin/unit_fuzz_parquet  (bounded time over test/fuzz/corpus).
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "layout/layout_keys.h"
#include "parquet/byte_source.h"
#include "parquet/parquet_meta.h"
#include "parquet/parquet_reader.h"
#include "pg_standin.h"

/* Decoding must stay within this many bytes of memory per input (the
 * reader's own limits: 256 MB pages, footers bounded by 64x their size). */
#define MAX_BYTES_PER_INPUT ((size_t) 1200 * 1024 * 1024)

static void
fuzz_file(const uint8 *data, size_t size)
{
	ByteSource *src = parquet_source_from_memory(data, size, "fuzz.parquet");
	PqReader   *r = parquet_reader_open(src);

	/* as vlake opens files: lists of a declared dimension are offset-computed */
	layout_reader_init(r);

	for (int c = 0; c < r->ncolumns; c++)
	{
		PqScan	   *s;
		PqBatch    *b;
		int64		rows = 0;

		if (r->columns[c].unsupported)
			continue;
		s = parquet_scan_begin(r, 1, &c, NULL, 0, 1024);
		while ((b = parquet_scan_next(s)) != NULL && rows < 1000000)
			rows += b->nrows;
		parquet_scan_end(s);
	}
	if (r->meta->num_rows > 0)
	{
		int			ncols = 0;
		int		   *cols = palloc(sizeof(int) * Max(r->ncolumns, 1));
		int64		rows[3] = {r->meta->num_rows - 1, 0, r->meta->num_rows / 2};

		for (int c = 0; c < r->ncolumns; c++)
			if (!r->columns[c].unsupported)
				cols[ncols++] = c;
		(void) parquet_take(r, ncols, cols, rows, 3);
	}
}

static void
fuzz_page_headers(const uint8 *data, size_t size)
{
	ThriftReader tr;

	thrift_reader_init(&tr, data, size, "fuzz", "page header");
	while (thrift_remaining(&tr) > 0)
	{
		PqPageHeader h;

		parquet_decode_page_header(&tr, &h);
	}
}

/* Round trip what decoded: encode + decode must succeed and agree. */
static void
fuzz_metadata(const uint8 *data, size_t size)
{
	PqFileMetaData *m = parquet_decode_file_metadata(data, size, "fuzz");
	ThriftWriter w;
	PqFileMetaData *m2;

	/* only structurally complete models can be re-encoded */
	for (int i = 0; i < m->num_row_groups; i++)
		for (int j = 0; j < m->row_groups[i].num_columns; j++)
			if (!m->row_groups[i].columns[j].has_meta_data)
				return;
	thrift_writer_init(&w);
	parquet_encode_file_metadata(&w, m);
	m2 = parquet_decode_file_metadata(w.data, w.len, "fuzz re-encoded");
	if (m2->num_rows != m->num_rows || m2->num_schema != m->num_schema ||
		m2->num_row_groups != m->num_row_groups || m2->num_leaves != m->num_leaves)
	{
		fprintf(stderr, "metadata round trip changed the model\n");
		abort();
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8		target;

	if (size < 1)
		return 0;
	target = data[0] % 5;
	data++;
	size--;
	(void) STANDIN_CATCH(
						 switch (target)
						 {
						 case 0:
						 fuzz_file(data, size);
						 break;
						 case 1:
						 fuzz_metadata(data, size);
						 break;
						 case 2:
						 fuzz_page_headers(data, size);
						 break;
						 case 3:
						 (void) parquet_decode_column_index(data, size, "fuzz");
						 break;
						 case 4:
						 (void) parquet_decode_offset_index(data, size, "fuzz");
						 break;
						 }
	);
	if (standin_peak_allocated() > MAX_BYTES_PER_INPUT)
	{
		fprintf(stderr, "decoding %zu bytes allocated %zu bytes\n", size, standin_peak_allocated());
		abort();
	}
	standin_reset();
	return 0;
}
