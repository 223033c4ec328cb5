/*
 * parquet_meta_test.c — unit test of the Thrift compact protocol and the
 * Parquet metadata model, run without a server (test/fuzz/pg_standin.c).
 *
 * Oracles: hand-assembled compact-protocol bytes from the specification
 * (not produced by our writer), encode/decode round trips, and the rule
 * that every truncation or corruption of a valid footer either decodes or
 * raises an ERROR — never crashes (run under ASan by the fuzz target).
 */
#include "postgres.h"

#include <stdio.h>

#include "parquet/parquet_meta.h"
#include "parquet/thrift.h"
#include "pg_standin.h"

static int	failures = 0;

#define CHECK(cond) do { if (!(cond)) { failures++; \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

/* Bytes written by hand from the compact protocol specification. */
static void
test_spec_bytes(void)
{
	/*
	 * struct { 1: i32 = -1 (zigzag 1), 3: binary "ab", 20: i64 = 300
	 * (zigzag 600 = 0xd8 0x04, long form header), 21: bool true,
	 * 22: list<i32> [1,2] }
	 */
	static const uint8 buf[] = {
		0x15, 0x01,				/* delta 1, i32, zigzag(-1)=1 */
		0x28, 0x02, 'a', 'b',	/* delta 2, binary len 2 */
		0x06, 0x28, 0xd8, 0x04, /* long form: type i64, id zigzag(20)=40 */
		0x11,					/* delta 1, bool true */
		0x19, 0x25, 0x02, 0x04, /* delta 1, list: 2 x i32 (zigzag 1,2) */
		0x00
	};
	ThriftReader r;
	ThriftFieldHeader fh;
	int16		last = 0;
	uint32		len;
	const uint8 *p;
	uint8		et;
	int32		n;

	thrift_reader_init(&r, buf, sizeof(buf), "test", "spec bytes");
	thrift_struct_enter(&r);
	CHECK(thrift_read_field(&r, &last, &fh) && fh.id == 1 && fh.type == THRIFT_I32);
	CHECK(thrift_read_i32(&r, &fh) == -1);
	CHECK(thrift_read_field(&r, &last, &fh) && fh.id == 3);
	p = thrift_read_binary(&r, &fh, &len);
	CHECK(len == 2 && memcmp(p, "ab", 2) == 0);
	CHECK(thrift_read_field(&r, &last, &fh) && fh.id == 20 && fh.type == THRIFT_I64);
	CHECK(thrift_read_i64(&r, &fh) == 300);
	CHECK(thrift_read_field(&r, &last, &fh) && fh.id == 21);
	CHECK(thrift_read_bool(&r, &fh) == true);
	CHECK(thrift_read_field(&r, &last, &fh) && fh.id == 22);
	thrift_read_list(&r, &fh, &et, &n);
	CHECK(et == THRIFT_I32 && n == 2);
	CHECK(thrift_read_i32_elem(&r) == 1);
	CHECK(thrift_read_i32_elem(&r) == 2);
	CHECK(!thrift_read_field(&r, &last, &fh));
	CHECK(thrift_remaining(&r) == 0);

	/* and our writer produces exactly these bytes */
	{
		ThriftWriter w;

		thrift_writer_init(&w);
		thrift_write_struct_begin(&w);
		thrift_write_i32_field(&w, 1, -1);
		thrift_write_binary_field(&w, 3, "ab", 2);
		thrift_write_i64_field(&w, 20, 300);
		thrift_write_bool_field(&w, 21, true);
		thrift_write_list_field(&w, 22, THRIFT_I32, 2);
		thrift_write_i32_elem(&w, 1);
		thrift_write_i32_elem(&w, 2);
		thrift_write_struct_end(&w);
		CHECK(w.len == sizeof(buf) && memcmp(w.data, buf, sizeof(buf)) == 0);
	}
}

static bool
decode_fails(const uint8 *buf, size_t len, const char *expect)
{
	bool		err = STANDIN_CATCH((void) parquet_decode_file_metadata(buf, len, "hostile.parquet"));

	if (err && expect && strstr(standin_last_error, expect) == NULL)
	{
		fprintf(stderr, "unexpected message: %s (wanted %s)\n", standin_last_error, expect);
		return false;
	}
	if (err && strstr(standin_last_error, "hostile.parquet") == NULL)
	{
		fprintf(stderr, "message does not name the file: %s\n", standin_last_error);
		return false;
	}
	return err;
}

static void
test_hostile(void)
{
	/* varint overflow in an i32 */
	static const uint8 ovf[] = {0x15, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00};
	/* list claiming 2^31-1 structs */
	static const uint8 huge[] = {0x15, 0x02, 0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00};
	/* binary longer than the buffer */
	static const uint8 longbin[] = {0x68, 0x10, 'x', 0x00};
	uint8		deep[200];

	CHECK(decode_fails(ovf, sizeof(ovf), "overflows"));
	CHECK(decode_fails(huge, sizeof(huge), "exceeds"));
	CHECK(decode_fails(longbin, sizeof(longbin), "truncated"));
	/* unknown field 9 = list of lists of lists ... nested past the limit */
	deep[0] = 0x99;
	for (int i = 1; i < (int) sizeof(deep); i++)
		deep[i] = 0x19;			/* list of 1 element of type list */
	CHECK(decode_fails(deep, sizeof(deep), "nested"));
	CHECK(decode_fails((const uint8 *) "", 0, "truncated"));
	standin_reset();
}

static PqFileMetaData *
sample_metadata(void)
{
	PqFileMetaData *m = palloc0(sizeof(PqFileMetaData));
	PqSchemaElement *s;
	PqRowGroup *g;
	static char *path_id[] = {"id"};
	static char *path_name[] = {"name"};
	static char *path_vec[] = {"vec", "list", "element"};
	static PqEncoding encs[] = {PARQUET_ENC_PLAIN, PARQUET_ENC_RLE, PARQUET_ENC_RLE_DICTIONARY};
	static PqKeyValue kv[] = {{"vlake.version", "0.1.0"}, {"no-value", NULL}};

	m->version = 2;
	m->num_schema = 6;
	m->schema = s = palloc0(sizeof(PqSchemaElement) * 6);
	s[0].name = "schema";
	s[0].num_children = 3;
	s[1] = (PqSchemaElement) {.has_type = true, .type = PARQUET_INT64, .has_repetition = true,
	.repetition = PARQUET_REQUIRED, .name = "id", .has_field_id = true, .field_id = 1};
	s[2] = (PqSchemaElement) {.has_type = true, .type = PARQUET_BYTE_ARRAY, .has_repetition = true,
		.repetition = PARQUET_OPTIONAL, .name = "name", .has_converted_type = true,
	.converted_type = PARQUET_CT_UTF8, .logical_type = {.kind = PARQUET_LT_STRING}};
	s[3] = (PqSchemaElement) {.has_repetition = true, .repetition = PARQUET_OPTIONAL, .name = "vec",
	.num_children = 1, .logical_type = {.kind = PARQUET_LT_LIST}};
	s[4] = (PqSchemaElement) {.has_repetition = true, .repetition = PARQUET_REPEATED, .name = "list",
	.num_children = 1};
	s[5] = (PqSchemaElement) {.has_type = true, .type = PARQUET_FLOAT, .has_repetition = true,
	.repetition = PARQUET_REQUIRED, .name = "element"};
	m->num_rows = 1000;
	m->num_row_groups = 1;
	m->row_groups = g = palloc0(sizeof(PqRowGroup));
	g->num_columns = 3;
	g->num_rows = 1000;
	g->total_byte_size = 123456;
	g->columns = palloc0(sizeof(PqColumnChunk) * 3);
	for (int i = 0; i < 3; i++)
	{
		PqColumnChunk *c = &g->columns[i];
		PqColumnMetaData *cm = &c->meta_data;

		c->file_offset = 4 + i * 1000;
		c->has_meta_data = true;
		cm->type = s[i == 2 ? 5 : i + 1].type;
		cm->num_encodings = 3;
		cm->encodings = encs;
		cm->path_len = i == 2 ? 3 : 1;
		cm->path_in_schema = i == 0 ? path_id : i == 1 ? path_name : path_vec;
		cm->codec = PARQUET_CODEC_ZSTD;
		cm->num_values = 1000 + i;
		cm->total_uncompressed_size = 2000 + i;
		cm->total_compressed_size = 1000 - i;
		cm->data_page_offset = 4 + i * 1000;
		cm->has_statistics = true;
		cm->statistics.has_null_count = true;
		cm->statistics.null_count = i;
		cm->statistics.has_min_value = true;
		cm->statistics.min_value = (PqBytes) {(uint8 *) "\x01\x00\x00\x00\x00\x00\x00\x00", 8};
		cm->statistics.has_max_value = true;
		cm->statistics.max_value = (PqBytes) {(uint8 *) "\xe8\x03\x00\x00\x00\x00\x00\x00", 8};
		c->has_offset_index = true;
		c->offset_index_offset = 50000 + i;
		c->offset_index_length = 30;
		c->has_column_index = true;
		c->column_index_offset = 60000 + i;
		c->column_index_length = 40;
	}
	m->num_key_value = 2;
	m->key_value = kv;
	m->created_by = "vlake test";
	m->num_column_orders = 3;
	return m;
}

static void
test_roundtrip(void)
{
	PqFileMetaData *m = sample_metadata();
	PqFileMetaData *d = NULL;
	ThriftWriter w;
	int			errors_in_truncation = 0;

	thrift_writer_init(&w);
	parquet_encode_file_metadata(&w, m);
	CHECK(!STANDIN_CATCH(d = parquet_decode_file_metadata(w.data, w.len, "rt")));
	if (d == NULL)
	{
		fprintf(stderr, "decode failed: %s\n", standin_last_error);
		return;
	}
	CHECK(d->version == 2 && d->num_rows == 1000 && d->num_schema == 6 && d->num_leaves == 3);
	CHECK(strcmp(d->schema[1].name, "id") == 0 && d->schema[1].has_field_id && d->schema[1].field_id == 1);
	CHECK(d->schema[2].logical_type.kind == PARQUET_LT_STRING && d->schema[2].converted_type == PARQUET_CT_UTF8);
	CHECK(d->schema[3].logical_type.kind == PARQUET_LT_LIST && d->schema[4].repetition == PARQUET_REPEATED);
	CHECK(d->num_row_groups == 1 && d->row_groups[0].num_columns == 3);
	CHECK(d->row_groups[0].columns[2].meta_data.path_len == 3 &&
		  strcmp(d->row_groups[0].columns[2].meta_data.path_in_schema[1], "list") == 0);
	CHECK(d->row_groups[0].columns[1].meta_data.statistics.null_count == 1);
	CHECK(d->row_groups[0].columns[0].meta_data.statistics.max_value.len == 8 &&
		  d->row_groups[0].columns[0].meta_data.statistics.max_value.data[0] == 0xe8);
	CHECK(d->row_groups[0].columns[2].has_column_index &&
		  d->row_groups[0].columns[2].column_index_offset == 60002);
	CHECK(d->num_key_value == 2 && strcmp(d->key_value[0].value, "0.1.0") == 0 &&
		  d->key_value[1].value == NULL);
	CHECK(strcmp(d->created_by, "vlake test") == 0 && d->num_column_orders == 3);

	/* every truncation errors cleanly (the last byte is the stop field) */
	for (size_t len = 0; len < w.len; len++)
	{
		uint8	   *copy = palloc(len + 1);

		memcpy(copy, w.data, len);
		if (STANDIN_CATCH((void) parquet_decode_file_metadata(copy, len, "trunc")))
			errors_in_truncation++;
	}
	CHECK(errors_in_truncation == (int) w.len);

	/* every single-byte corruption either decodes or errors */
	for (size_t pos = 0; pos < w.len; pos++)
	{
		uint8	   *copy = palloc(w.len);

		memcpy(copy, w.data, w.len);
		copy[pos] ^= 0x5a;
		(void) STANDIN_CATCH((void) parquet_decode_file_metadata(copy, w.len, "corrupt"));
	}

	/* logical types round trip */
	{
		PqLogicalType lts[] = {
			{.kind = PARQUET_LT_DECIMAL, .precision = 18, .scale = 4},
			{.kind = PARQUET_LT_TIMESTAMP, .is_adjusted_to_utc = true, .unit = PARQUET_UNIT_NANOS},
			{.kind = PARQUET_LT_INTEGER, .bit_width = 16, .is_signed = false},
			{.kind = PARQUET_LT_UUID}, {.kind = PARQUET_LT_FLOAT16}, {.kind = PARQUET_LT_JSON}, {.kind = PARQUET_LT_DATE}
		};

		for (int i = 0; i < (int) lengthof(lts); i++)
		{
			PqFileMetaData *m2 = sample_metadata();

			m2->schema[1].logical_type = lts[i];
			thrift_writer_init(&w);
			parquet_encode_file_metadata(&w, m2);
			d = NULL;
			CHECK(!STANDIN_CATCH(d = parquet_decode_file_metadata(w.data, w.len, "lt")));
			CHECK(d && memcmp(&d->schema[1].logical_type, &lts[i], sizeof(PqLogicalType)) == 0);
		}
	}
	standin_reset();
}

static void
test_page_structs(void)
{
	PqPageHeader h = {0},
				h2;
	PqColumnIndex ci = {0},
			   *ci2 = NULL;
	PqOffsetIndex oi = {0},
			   *oi2 = NULL;
	ThriftWriter w;
	ThriftReader r;
	bool		nulls[20];
	PqBytes		mins[20],
				maxs[20];
	int64		nc[20];
	PqPageLocation locs[20];

	h.type = PARQUET_PAGE_DATA_V2;
	h.uncompressed_page_size = 1000;
	h.compressed_page_size = 500;
	h.has_data_page_header_v2 = true;
	h.data_page_header_v2 = (PqDataPageHeaderV2) {.num_values = 10, .num_nulls = 2, .num_rows = 10,
		.encoding = PARQUET_ENC_RLE_DICTIONARY, .definition_levels_byte_length = 4,
	.repetition_levels_byte_length = 0, .is_compressed = false};
	thrift_writer_init(&w);
	parquet_encode_page_header(&w, &h);
	thrift_write_raw(&w, "PAGEDATA", 8);
	thrift_reader_init(&r, w.data, w.len, "pages", "page header");
	CHECK(!STANDIN_CATCH(parquet_decode_page_header(&r, &h2)));
	CHECK(thrift_remaining(&r) == 8);
	CHECK(h2.type == PARQUET_PAGE_DATA_V2 && h2.compressed_page_size == 500 &&
		  h2.data_page_header_v2.num_nulls == 2 && !h2.data_page_header_v2.is_compressed &&
		  h2.data_page_header_v2.encoding == PARQUET_ENC_RLE_DICTIONARY);

	ci.num_pages = oi.num_pages = 20;
	ci.null_pages = nulls;
	ci.min_values = mins;
	ci.max_values = maxs;
	ci.null_counts = nc;
	ci.has_null_counts = true;
	ci.boundary_order = PARQUET_BOUNDARY_ASCENDING;
	oi.page_locations = locs;
	for (int i = 0; i < 20; i++)
	{
		nulls[i] = (i % 3 == 0);
		mins[i] = (PqBytes) {(uint8 *) "aa", 2};
		maxs[i] = (PqBytes) {(uint8 *) "zzz", 3};
		nc[i] = i;
		locs[i] = (PqPageLocation) {1000 + i * 100, 100, i * 50};
	}
	thrift_writer_init(&w);
	parquet_encode_column_index(&w, &ci);
	CHECK(!STANDIN_CATCH(ci2 = parquet_decode_column_index(w.data, w.len, "ci")));
	CHECK(ci2 && ci2->num_pages == 20 && ci2->null_pages[3] && !ci2->null_pages[4] &&
		  ci2->max_values[7].len == 3 && ci2->null_counts[19] == 19 &&
		  ci2->boundary_order == PARQUET_BOUNDARY_ASCENDING);
	thrift_writer_init(&w);
	parquet_encode_offset_index(&w, &oi);
	CHECK(!STANDIN_CATCH(oi2 = parquet_decode_offset_index(w.data, w.len, "oi")));
	CHECK(oi2 && oi2->num_pages == 20 && oi2->page_locations[19].offset == 2900 &&
		  oi2->page_locations[19].first_row_index == 950);
	standin_reset();
}

int
main(void)
{
	test_spec_bytes();
	test_hostile();
	test_roundtrip();
	test_page_structs();
	if (failures)
	{
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("parquet metadata: all checks passed\n");
	return 0;
}
