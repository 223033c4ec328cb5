/*
 * parquet_meta.c — decode and encode Parquet metadata (see parquet_meta.h).
 *
 * Written from parquet-format's parquet.thrift.  Each decoder walks the
 * struct's fields, reads the ones vlake models, skips the rest, and checks
 * that the required ones were present.  Like thrift.c this file only uses
 * palloc and ereport so the fuzz harness can link it.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "parquet/parquet_meta.h"

#define SEEN(id)		(UINT64CONST(1) << (id))

static void
require_fields(ThriftReader *r, uint64 seen, uint64 required, const char *structname)
{
	uint64		missing = required & ~seen;

	if (missing)
	{
		int			id = 0;

		while (!(missing & SEEN(id)))
			id++;
		thrift_error(r, "%s lacks required field %d", structname, id);
	}
}

static inline void
mark(uint64 *seen, int16 id)
{
	if (id >= 0 && id < 64)
		*seen |= SEEN(id);
}

static PqBytes
read_bytes(ThriftReader *r, const ThriftFieldHeader *fh)
{
	PqBytes		b;
	uint32		len;
	const uint8 *p = thrift_read_binary(r, fh, &len);

	b.data = thrift_alloc_array(r, (int64) len + 1, 1);
	memcpy(b.data, p, len);
	b.len = (int32) len;
	return b;
}

static int32
read_enum(ThriftReader *r, const ThriftFieldHeader *fh, int32 maxval, const char *what)
{
	int32		v = thrift_read_i32(r, fh);

	/* unknown values are kept (they may be newer enum members) but must be
	 * non-negative and small; consumers reject what they cannot handle */
	if (v < 0 || v > maxval)
		thrift_error(r, "%s has out-of-range value %d", what, v);
	return v;
}

static int32
read_nonneg_i32(ThriftReader *r, const ThriftFieldHeader *fh, const char *what)
{
	int32		v = thrift_read_i32(r, fh);

	if (v < 0)
		thrift_error(r, "%s is negative (%d)", what, v);
	return v;
}

static int64
read_nonneg_i64(ThriftReader *r, const ThriftFieldHeader *fh, const char *what)
{
	int64		v = thrift_read_i64(r, fh);

	if (v < 0)
		thrift_error(r, "%s is negative (%lld)", what, (long long) v);
	return v;
}

/* ------------------------------------------------------------ Statistics */

static void
decode_statistics(ThriftReader *r, PqStatistics *s)
{
	int16		last = 0;
	ThriftFieldHeader fh;

	memset(s, 0, sizeof(*s));
	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		switch (fh.id)
		{
			case 1:
				s->max = read_bytes(r, &fh);
				s->has_max = true;
				break;
			case 2:
				s->min = read_bytes(r, &fh);
				s->has_min = true;
				break;
			case 3:
				s->null_count = read_nonneg_i64(r, &fh, "Statistics.null_count");
				s->has_null_count = true;
				break;
			case 4:
				s->distinct_count = read_nonneg_i64(r, &fh, "Statistics.distinct_count");
				s->has_distinct_count = true;
				break;
			case 5:
				s->max_value = read_bytes(r, &fh);
				s->has_max_value = true;
				break;
			case 6:
				s->min_value = read_bytes(r, &fh);
				s->has_min_value = true;
				break;
			default:
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
}

/* ---------------------------------------------------------- LogicalType */

/* Read a struct whose fields we ignore (the empty marker structs). */
static void
skip_struct(ThriftReader *r, const ThriftFieldHeader *fh)
{
	thrift_expect(r, fh, THRIFT_STRUCT);
	thrift_skip(r, THRIFT_STRUCT);
}

static PqTimeUnit
decode_time_unit(ThriftReader *r)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	PqTimeUnit	unit = 0;

	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		if (fh.id >= 1 && fh.id <= 3)
		{
			skip_struct(r, &fh);
			unit = (PqTimeUnit) fh.id;
		}
		else
			thrift_skip(r, fh.type);
	}
	thrift_struct_leave(r);
	if (unit == 0)
		thrift_error(r, "TimeUnit has no known member");
	return unit;
}

static void
decode_logical_member(ThriftReader *r, PqLogicalType *lt, int16 member)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;

	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		mark(&seen, fh.id);
		if (member == PARQUET_LT_DECIMAL && fh.id == 1)
			lt->scale = thrift_read_i32(r, &fh);
		else if (member == PARQUET_LT_DECIMAL && fh.id == 2)
			lt->precision = thrift_read_i32(r, &fh);
		else if ((member == PARQUET_LT_TIME || member == PARQUET_LT_TIMESTAMP) && fh.id == 1)
			lt->is_adjusted_to_utc = thrift_read_bool(r, &fh);
		else if ((member == PARQUET_LT_TIME || member == PARQUET_LT_TIMESTAMP) && fh.id == 2)
		{
			thrift_expect(r, &fh, THRIFT_STRUCT);
			lt->unit = decode_time_unit(r);
		}
		else if (member == PARQUET_LT_INTEGER && fh.id == 1)
			lt->bit_width = thrift_read_i8(r, &fh);
		else if (member == PARQUET_LT_INTEGER && fh.id == 2)
			lt->is_signed = thrift_read_bool(r, &fh);
		else
			thrift_skip(r, fh.type);
	}
	thrift_struct_leave(r);

	switch (member)
	{
		case PARQUET_LT_DECIMAL:
			require_fields(r, seen, SEEN(1) | SEEN(2), "DecimalType");
			if (lt->precision < 1 || lt->scale < 0 || lt->scale > lt->precision)
				thrift_error(r, "DecimalType has invalid precision %d / scale %d",
							 lt->precision, lt->scale);
			break;
		case PARQUET_LT_TIME:
		case PARQUET_LT_TIMESTAMP:
			require_fields(r, seen, SEEN(1) | SEEN(2), "TimestampType");
			break;
		case PARQUET_LT_INTEGER:
			require_fields(r, seen, SEEN(1) | SEEN(2), "IntType");
			if (lt->bit_width != 8 && lt->bit_width != 16 &&
				lt->bit_width != 32 && lt->bit_width != 64)
				thrift_error(r, "IntType has invalid bitWidth %d", lt->bit_width);
			break;
		default:
			break;
	}
}

static void
decode_logical_type(ThriftReader *r, PqLogicalType *lt)
{
	int16		last = 0;
	ThriftFieldHeader fh;

	memset(lt, 0, sizeof(*lt));
	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		if (lt->kind != PARQUET_LT_NONE)
			thrift_error(r, "LogicalType union has more than one member");
		if (fh.type != THRIFT_STRUCT)
			thrift_error(r, "LogicalType member %d is not a struct", fh.id);
		switch (fh.id)
		{
			case PARQUET_LT_STRING:
			case PARQUET_LT_MAP:
			case PARQUET_LT_LIST:
			case PARQUET_LT_ENUM:
			case PARQUET_LT_DECIMAL:
			case PARQUET_LT_DATE:
			case PARQUET_LT_TIME:
			case PARQUET_LT_TIMESTAMP:
			case PARQUET_LT_INTEGER:
			case PARQUET_LT_UNKNOWN:
			case PARQUET_LT_JSON:
			case PARQUET_LT_BSON:
			case PARQUET_LT_UUID:
			case PARQUET_LT_FLOAT16:
				lt->kind = (PqLogicalKind) fh.id;
				decode_logical_member(r, lt, fh.id);
				break;
			default:
				lt->kind = PARQUET_LT_OTHER;
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
}

/* ------------------------------------------------------------ KeyValue */

static void
decode_key_value_list(ThriftReader *r, const ThriftFieldHeader *lfh,
					  int32 *count, PqKeyValue **out)
{
	uint8		et;
	int32		n;

	thrift_read_list(r, lfh, &et, &n);
	thrift_expect_elem(r, et, THRIFT_STRUCT, "key_value_metadata");
	*out = thrift_alloc_array(r, n, sizeof(PqKeyValue));
	*count = n;
	for (int32 i = 0; i < n; i++)
	{
		int16		last = 0;
		ThriftFieldHeader fh;
		uint64		seen = 0;

		thrift_struct_enter(r);
		while (thrift_read_field(r, &last, &fh))
		{
			mark(&seen, fh.id);
			if (fh.id == 1)
				(*out)[i].key = thrift_read_string(r, &fh, NULL);
			else if (fh.id == 2)
				(*out)[i].value = thrift_read_string(r, &fh, NULL);
			else
				thrift_skip(r, fh.type);
		}
		thrift_struct_leave(r);
		require_fields(r, seen, SEEN(1), "KeyValue");
	}
}

/* -------------------------------------------------------- SchemaElement */

static void
decode_schema_element(ThriftReader *r, PqSchemaElement *e)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;

	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				e->type = (PqType) read_enum(r, &fh, PARQUET_FIXED_LEN_BYTE_ARRAY, "SchemaElement.type");
				e->has_type = true;
				break;
			case 2:
				e->type_length = read_nonneg_i32(r, &fh, "SchemaElement.type_length");
				break;
			case 3:
				e->repetition = (PqRepetition) read_enum(r, &fh, PARQUET_REPEATED, "SchemaElement.repetition_type");
				e->has_repetition = true;
				break;
			case 4:
				e->name = thrift_read_string(r, &fh, NULL);
				break;
			case 5:
				e->num_children = read_nonneg_i32(r, &fh, "SchemaElement.num_children");
				break;
			case 6:
				e->converted_type = (PqConvertedType) read_enum(r, &fh, 1000, "SchemaElement.converted_type");
				e->has_converted_type = true;
				break;
			case 7:
				e->scale = thrift_read_i32(r, &fh);
				e->has_scale = true;
				break;
			case 8:
				e->precision = thrift_read_i32(r, &fh);
				e->has_precision = true;
				break;
			case 9:
				e->field_id = thrift_read_i32(r, &fh);
				e->has_field_id = true;
				break;
			case 10:
				thrift_expect(r, &fh, THRIFT_STRUCT);
				decode_logical_type(r, &e->logical_type);
				break;
			default:
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
	require_fields(r, seen, SEEN(4), "SchemaElement");
}

/* ------------------------------------------------------ ColumnMetaData */

static void
decode_column_meta(ThriftReader *r, PqColumnMetaData *m)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;
	uint8		et;
	int32		n;

	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				m->type = (PqType) read_enum(r, &fh, PARQUET_FIXED_LEN_BYTE_ARRAY, "ColumnMetaData.type");
				break;
			case 2:
				thrift_read_list(r, &fh, &et, &n);
				thrift_expect_elem(r, et, THRIFT_I32, "ColumnMetaData.encodings");
				m->encodings = thrift_alloc_array(r, n, sizeof(PqEncoding));
				m->num_encodings = n;
				for (int32 i = 0; i < n; i++)
					m->encodings[i] = (PqEncoding) thrift_read_i32_elem(r);
				break;
			case 3:
				thrift_read_list(r, &fh, &et, &n);
				thrift_expect_elem(r, et, THRIFT_BINARY, "ColumnMetaData.path_in_schema");
				m->path_in_schema = thrift_alloc_array(r, n, sizeof(char *));
				m->path_len = n;
				for (int32 i = 0; i < n; i++)
				{
					uint32		len;
					const uint8 *p = thrift_read_binary_elem(r, &len);
					char	   *s = thrift_alloc_array(r, (int64) len + 1, 1);

					memcpy(s, p, len);
					m->path_in_schema[i] = s;
				}
				break;
			case 4:
				m->codec = (PqCodec) read_enum(r, &fh, 1000, "ColumnMetaData.codec");
				break;
			case 5:
				m->num_values = read_nonneg_i64(r, &fh, "ColumnMetaData.num_values");
				break;
			case 6:
				m->total_uncompressed_size = read_nonneg_i64(r, &fh, "ColumnMetaData.total_uncompressed_size");
				break;
			case 7:
				m->total_compressed_size = read_nonneg_i64(r, &fh, "ColumnMetaData.total_compressed_size");
				break;
			case 8:
				decode_key_value_list(r, &fh, &m->num_key_value, &m->key_value);
				break;
			case 9:
				m->data_page_offset = read_nonneg_i64(r, &fh, "ColumnMetaData.data_page_offset");
				break;
			case 10:
				m->index_page_offset = read_nonneg_i64(r, &fh, "ColumnMetaData.index_page_offset");
				m->has_index_page_offset = true;
				break;
			case 11:
				m->dictionary_page_offset = read_nonneg_i64(r, &fh, "ColumnMetaData.dictionary_page_offset");
				m->has_dictionary_page_offset = true;
				break;
			case 12:
				thrift_expect(r, &fh, THRIFT_STRUCT);
				decode_statistics(r, &m->statistics);
				m->has_statistics = true;
				break;
			case 14:
				m->bloom_filter_offset = read_nonneg_i64(r, &fh, "ColumnMetaData.bloom_filter_offset");
				m->has_bloom_filter_offset = true;
				break;
			case 15:
				m->bloom_filter_length = read_nonneg_i32(r, &fh, "ColumnMetaData.bloom_filter_length");
				m->has_bloom_filter_length = true;
				break;
			default:
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
	require_fields(r, seen, SEEN(1) | SEEN(2) | SEEN(3) | SEEN(4) | SEEN(5) | SEEN(6) |
				   SEEN(7) | SEEN(9), "ColumnMetaData");
}

static void
decode_column_chunk(ThriftReader *r, PqColumnChunk *c)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;

	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				c->file_path = thrift_read_string(r, &fh, NULL);
				break;
			case 2:
				c->file_offset = thrift_read_i64(r, &fh);
				break;
			case 3:
				thrift_expect(r, &fh, THRIFT_STRUCT);
				decode_column_meta(r, &c->meta_data);
				c->has_meta_data = true;
				break;
			case 4:
				c->offset_index_offset = read_nonneg_i64(r, &fh, "ColumnChunk.offset_index_offset");
				break;
			case 5:
				c->offset_index_length = read_nonneg_i32(r, &fh, "ColumnChunk.offset_index_length");
				break;
			case 6:
				c->column_index_offset = read_nonneg_i64(r, &fh, "ColumnChunk.column_index_offset");
				break;
			case 7:
				c->column_index_length = read_nonneg_i32(r, &fh, "ColumnChunk.column_index_length");
				break;
			case 8:
			case 9:
				c->encrypted = true;
				thrift_skip(r, fh.type);
				break;
			default:
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
	/* file_offset (2) is required by the spec but some writers set it to 0
	 * or omit it; it is never used for reading. */
	c->has_offset_index = (seen & SEEN(4)) && (seen & SEEN(5));
	c->has_column_index = (seen & SEEN(6)) && (seen & SEEN(7));
}

/* ------------------------------------------------------------ RowGroup */

static void
decode_row_group(ThriftReader *r, PqRowGroup *g)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;
	uint8		et;
	int32		n;

	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				thrift_read_list(r, &fh, &et, &n);
				thrift_expect_elem(r, et, THRIFT_STRUCT, "RowGroup.columns");
				g->columns = thrift_alloc_array(r, n, sizeof(PqColumnChunk));
				g->num_columns = n;
				for (int32 i = 0; i < n; i++)
					decode_column_chunk(r, &g->columns[i]);
				break;
			case 2:
				g->total_byte_size = read_nonneg_i64(r, &fh, "RowGroup.total_byte_size");
				break;
			case 3:
				g->num_rows = read_nonneg_i64(r, &fh, "RowGroup.num_rows");
				break;
			case 4:
				thrift_read_list(r, &fh, &et, &n);
				thrift_expect_elem(r, et, THRIFT_STRUCT, "RowGroup.sorting_columns");
				g->sorting_columns = thrift_alloc_array(r, n, sizeof(PqSortingColumn));
				g->num_sorting_columns = n;
				for (int32 i = 0; i < n; i++)
				{
					int16		l2 = 0;
					ThriftFieldHeader f2;

					thrift_struct_enter(r);
					while (thrift_read_field(r, &l2, &f2))
					{
						if (f2.id == 1)
							g->sorting_columns[i].column_idx = thrift_read_i32(r, &f2);
						else if (f2.id == 2)
							g->sorting_columns[i].descending = thrift_read_bool(r, &f2);
						else if (f2.id == 3)
							g->sorting_columns[i].nulls_first = thrift_read_bool(r, &f2);
						else
							thrift_skip(r, f2.type);
					}
					thrift_struct_leave(r);
				}
				break;
			case 5:
				g->file_offset = thrift_read_i64(r, &fh);
				g->has_file_offset = true;
				break;
			case 6:
				g->total_compressed_size = read_nonneg_i64(r, &fh, "RowGroup.total_compressed_size");
				g->has_total_compressed_size = true;
				break;
			case 7:
				g->ordinal = thrift_read_i16(r, &fh);
				g->has_ordinal = true;
				break;
			default:
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
	require_fields(r, seen, SEEN(1) | SEEN(2) | SEEN(3), "RowGroup");
}

/* -------------------------------------------------------- FileMetaData */

#define PARQUET_MAX_SCHEMA_DEPTH 64

/*
 * Check the depth-first schema list forms one tree rooted at schema[0]
 * and count its leaves.
 */
static void
check_schema_tree(ThriftReader *r, PqFileMetaData *m)
{
	int32		stack[PARQUET_MAX_SCHEMA_DEPTH];	/* children still expected per level */
	int			depth = 0;
	int32		leaves = 0;

	if (m->num_schema < 1)
		thrift_error(r, "schema is empty");
	if (m->schema[0].num_children < 1 && m->num_schema > 1)
		thrift_error(r, "schema root has no children");
	stack[0] = m->schema[0].num_children;
	for (int32 i = 1; i < m->num_schema; i++)
	{
		PqSchemaElement *e = &m->schema[i];

		while (depth >= 0 && stack[depth] == 0)
			depth--;
		if (depth < 0)
			thrift_error(r, "schema has %d elements but the tree ends at element %d",
						 m->num_schema, i);
		stack[depth]--;
		if (!e->has_repetition)
			thrift_error(r, "schema element \"%s\" has no repetition_type", e->name);
		if (e->num_children > 0)
		{
			if (depth + 1 >= PARQUET_MAX_SCHEMA_DEPTH)
				thrift_error(r, "schema nested deeper than %d levels", PARQUET_MAX_SCHEMA_DEPTH);
			stack[++depth] = e->num_children;
		}
		else
		{
			if (!e->has_type)
				thrift_error(r, "schema leaf \"%s\" has no physical type", e->name);
			if (e->type == PARQUET_FIXED_LEN_BYTE_ARRAY && e->type_length <= 0)
				thrift_error(r, "schema leaf \"%s\" is FIXED_LEN_BYTE_ARRAY without a positive type_length",
							 e->name);
			leaves++;
		}
	}
	while (depth >= 0 && stack[depth] == 0)
		depth--;
	if (depth >= 0)
		thrift_error(r, "schema declares more children than the %d elements present",
					 m->num_schema);
	m->num_leaves = leaves;
}

PqFileMetaData *
parquet_decode_file_metadata(const uint8 *buf, size_t len, const char *source)
{
	ThriftReader r;
	PqFileMetaData *m = palloc0(sizeof(PqFileMetaData));
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;
	uint8		et;
	int32		n;

	thrift_reader_init(&r, buf, len, source, "file footer");
	thrift_struct_enter(&r);
	while (thrift_read_field(&r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				m->version = thrift_read_i32(&r, &fh);
				break;
			case 2:
				thrift_read_list(&r, &fh, &et, &n);
				thrift_expect_elem(&r, et, THRIFT_STRUCT, "FileMetaData.schema");
				m->schema = thrift_alloc_array(&r, n, sizeof(PqSchemaElement));
				m->num_schema = n;
				for (int32 i = 0; i < n; i++)
					decode_schema_element(&r, &m->schema[i]);
				break;
			case 3:
				m->num_rows = read_nonneg_i64(&r, &fh, "FileMetaData.num_rows");
				break;
			case 4:
				thrift_read_list(&r, &fh, &et, &n);
				thrift_expect_elem(&r, et, THRIFT_STRUCT, "FileMetaData.row_groups");
				m->row_groups = thrift_alloc_array(&r, n, sizeof(PqRowGroup));
				m->num_row_groups = n;
				for (int32 i = 0; i < n; i++)
				{
					CHECK_FOR_INTERRUPTS();
					decode_row_group(&r, &m->row_groups[i]);
				}
				break;
			case 5:
				decode_key_value_list(&r, &fh, &m->num_key_value, &m->key_value);
				break;
			case 6:
				m->created_by = thrift_read_string(&r, &fh, NULL);
				break;
			case 7:
				thrift_read_list(&r, &fh, &et, &n);
				m->num_column_orders = n;
				for (int32 i = 0; i < n; i++)
					thrift_skip(&r, et);
				break;
			case 8:
				m->encrypted = true;
				thrift_skip(&r, fh.type);
				break;
			default:
				thrift_skip(&r, fh.type);
		}
	}
	thrift_struct_leave(&r);
	require_fields(&r, seen, SEEN(1) | SEEN(2) | SEEN(3) | SEEN(4), "FileMetaData");
	check_schema_tree(&r, m);

	for (int32 g = 0; g < m->num_row_groups; g++)
	{
		if (m->row_groups[g].num_columns != m->num_leaves)
			thrift_error(&r, "row group %d has %d column chunks but the schema has %d leaf columns",
						 g, m->row_groups[g].num_columns, m->num_leaves);
	}
	return m;
}

/* ---------------------------------------------------------- PageHeader */

static void
decode_data_page_header(ThriftReader *r, PqDataPageHeader *h)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;

	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				h->num_values = read_nonneg_i32(r, &fh, "DataPageHeader.num_values");
				break;
			case 2:
				h->encoding = (PqEncoding) read_enum(r, &fh, 1000, "DataPageHeader.encoding");
				break;
			case 3:
				h->definition_level_encoding = (PqEncoding) read_enum(r, &fh, 1000, "DataPageHeader.definition_level_encoding");
				break;
			case 4:
				h->repetition_level_encoding = (PqEncoding) read_enum(r, &fh, 1000, "DataPageHeader.repetition_level_encoding");
				break;
			case 5:
				thrift_expect(r, &fh, THRIFT_STRUCT);
				decode_statistics(r, &h->statistics);
				h->has_statistics = true;
				break;
			default:
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
	require_fields(r, seen, SEEN(1) | SEEN(2) | SEEN(3) | SEEN(4), "DataPageHeader");
}

static void
decode_data_page_header_v2(ThriftReader *r, PqDataPageHeaderV2 *h)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;

	h->is_compressed = true;
	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				h->num_values = read_nonneg_i32(r, &fh, "DataPageHeaderV2.num_values");
				break;
			case 2:
				h->num_nulls = read_nonneg_i32(r, &fh, "DataPageHeaderV2.num_nulls");
				break;
			case 3:
				h->num_rows = read_nonneg_i32(r, &fh, "DataPageHeaderV2.num_rows");
				break;
			case 4:
				h->encoding = (PqEncoding) read_enum(r, &fh, 1000, "DataPageHeaderV2.encoding");
				break;
			case 5:
				h->definition_levels_byte_length = read_nonneg_i32(r, &fh, "DataPageHeaderV2.definition_levels_byte_length");
				break;
			case 6:
				h->repetition_levels_byte_length = read_nonneg_i32(r, &fh, "DataPageHeaderV2.repetition_levels_byte_length");
				break;
			case 7:
				h->is_compressed = thrift_read_bool(r, &fh);
				break;
			case 8:
				thrift_expect(r, &fh, THRIFT_STRUCT);
				decode_statistics(r, &h->statistics);
				h->has_statistics = true;
				break;
			default:
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
	require_fields(r, seen, SEEN(1) | SEEN(2) | SEEN(3) | SEEN(4) | SEEN(5) | SEEN(6),
				   "DataPageHeaderV2");
	if (h->num_nulls > h->num_values)
		thrift_error(r, "DataPageHeaderV2 has more nulls (%d) than values (%d)",
					 h->num_nulls, h->num_values);
}

static void
decode_dictionary_page_header(ThriftReader *r, PqDictionaryPageHeader *h)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;

	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				h->num_values = read_nonneg_i32(r, &fh, "DictionaryPageHeader.num_values");
				break;
			case 2:
				h->encoding = (PqEncoding) read_enum(r, &fh, 1000, "DictionaryPageHeader.encoding");
				break;
			case 3:
				h->is_sorted = thrift_read_bool(r, &fh);
				h->has_is_sorted = true;
				break;
			default:
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
	require_fields(r, seen, SEEN(1) | SEEN(2), "DictionaryPageHeader");
}

void
parquet_decode_page_header(ThriftReader *r, PqPageHeader *h)
{
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;

	memset(h, 0, sizeof(*h));
	thrift_struct_enter(r);
	while (thrift_read_field(r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				h->type = (PqPageType) read_enum(r, &fh, 1000, "PageHeader.type");
				break;
			case 2:
				h->uncompressed_page_size = read_nonneg_i32(r, &fh, "PageHeader.uncompressed_page_size");
				break;
			case 3:
				h->compressed_page_size = read_nonneg_i32(r, &fh, "PageHeader.compressed_page_size");
				break;
			case 4:
				h->crc = thrift_read_i32(r, &fh);
				h->has_crc = true;
				break;
			case 5:
				thrift_expect(r, &fh, THRIFT_STRUCT);
				decode_data_page_header(r, &h->data_page_header);
				h->has_data_page_header = true;
				break;
			case 7:
				thrift_expect(r, &fh, THRIFT_STRUCT);
				decode_dictionary_page_header(r, &h->dictionary_page_header);
				h->has_dictionary_page_header = true;
				break;
			case 8:
				thrift_expect(r, &fh, THRIFT_STRUCT);
				decode_data_page_header_v2(r, &h->data_page_header_v2);
				h->has_data_page_header_v2 = true;
				break;
			default:
				thrift_skip(r, fh.type);
		}
	}
	thrift_struct_leave(r);
	require_fields(r, seen, SEEN(1) | SEEN(2) | SEEN(3), "PageHeader");
	if (h->type == PARQUET_PAGE_DATA && !h->has_data_page_header)
		thrift_error(r, "DATA_PAGE without data_page_header");
	if (h->type == PARQUET_PAGE_DATA_V2 && !h->has_data_page_header_v2)
		thrift_error(r, "DATA_PAGE_V2 without data_page_header_v2");
	if (h->type == PARQUET_PAGE_DICTIONARY && !h->has_dictionary_page_header)
		thrift_error(r, "DICTIONARY_PAGE without dictionary_page_header");
}

/* -------------------------------------------------- Column/OffsetIndex */

PqColumnIndex *
parquet_decode_column_index(const uint8 *buf, size_t len, const char *source)
{
	ThriftReader r;
	PqColumnIndex *ci = palloc0(sizeof(PqColumnIndex));
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;
	uint8		et;
	int32		n;
	int32		nmin = -1,
				nmax = -1,
				nnull = -1;

	thrift_reader_init(&r, buf, len, source, "column index");
	thrift_struct_enter(&r);
	while (thrift_read_field(&r, &last, &fh))
	{
		mark(&seen, fh.id);
		switch (fh.id)
		{
			case 1:
				thrift_read_list(&r, &fh, &et, &n);
				thrift_expect_elem(&r, et, THRIFT_BOOL_TRUE, "ColumnIndex.null_pages");
				ci->null_pages = thrift_alloc_array(&r, n, sizeof(bool));
				ci->num_pages = n;
				for (int32 i = 0; i < n; i++)
					ci->null_pages[i] = thrift_read_bool_elem(&r);
				break;
			case 2:
			case 3:
				{
					PqBytes    *arr;

					thrift_read_list(&r, &fh, &et, &n);
					thrift_expect_elem(&r, et, THRIFT_BINARY,
									   fh.id == 2 ? "ColumnIndex.min_values" : "ColumnIndex.max_values");
					arr = thrift_alloc_array(&r, n, sizeof(PqBytes));
					for (int32 i = 0; i < n; i++)
					{
						uint32		blen;
						const uint8 *p = thrift_read_binary_elem(&r, &blen);

						arr[i].data = thrift_alloc_array(&r, (int64) blen + 1, 1);
						memcpy(arr[i].data, p, blen);
						arr[i].len = (int32) blen;
					}
					if (fh.id == 2)
					{
						ci->min_values = arr;
						nmin = n;
					}
					else
					{
						ci->max_values = arr;
						nmax = n;
					}
					break;
				}
			case 4:
				ci->boundary_order = (PqBoundaryOrder) read_enum(&r, &fh, PARQUET_BOUNDARY_DESCENDING,
																 "ColumnIndex.boundary_order");
				break;
			case 5:
				thrift_read_list(&r, &fh, &et, &n);
				thrift_expect_elem(&r, et, THRIFT_I64, "ColumnIndex.null_counts");
				ci->null_counts = thrift_alloc_array(&r, n, sizeof(int64));
				for (int32 i = 0; i < n; i++)
					ci->null_counts[i] = thrift_read_i64_elem(&r);
				ci->has_null_counts = true;
				nnull = n;
				break;
			default:
				thrift_skip(&r, fh.type);
		}
	}
	thrift_struct_leave(&r);
	require_fields(&r, seen, SEEN(1) | SEEN(2) | SEEN(3) | SEEN(4), "ColumnIndex");
	if (nmin != ci->num_pages || nmax != ci->num_pages ||
		(nnull >= 0 && nnull != ci->num_pages))
		thrift_error(&r, "ColumnIndex lists disagree on the number of pages (%d null_pages, %d min, %d max)",
					 ci->num_pages, nmin, nmax);
	return ci;
}

PqOffsetIndex *
parquet_decode_offset_index(const uint8 *buf, size_t len, const char *source)
{
	ThriftReader r;
	PqOffsetIndex *oi = palloc0(sizeof(PqOffsetIndex));
	int16		last = 0;
	ThriftFieldHeader fh;
	uint64		seen = 0;
	uint8		et;
	int32		n;

	thrift_reader_init(&r, buf, len, source, "offset index");
	thrift_struct_enter(&r);
	while (thrift_read_field(&r, &last, &fh))
	{
		mark(&seen, fh.id);
		if (fh.id != 1)
		{
			thrift_skip(&r, fh.type);
			continue;
		}
		thrift_read_list(&r, &fh, &et, &n);
		thrift_expect_elem(&r, et, THRIFT_STRUCT, "OffsetIndex.page_locations");
		oi->page_locations = thrift_alloc_array(&r, n, sizeof(PqPageLocation));
		oi->num_pages = n;
		for (int32 i = 0; i < n; i++)
		{
			PqPageLocation *pl = &oi->page_locations[i];
			int16		l2 = 0;
			ThriftFieldHeader f2;
			uint64		seen2 = 0;

			thrift_struct_enter(&r);
			while (thrift_read_field(&r, &l2, &f2))
			{
				mark(&seen2, f2.id);
				if (f2.id == 1)
					pl->offset = read_nonneg_i64(&r, &f2, "PageLocation.offset");
				else if (f2.id == 2)
					pl->compressed_page_size = read_nonneg_i32(&r, &f2, "PageLocation.compressed_page_size");
				else if (f2.id == 3)
					pl->first_row_index = read_nonneg_i64(&r, &f2, "PageLocation.first_row_index");
				else
					thrift_skip(&r, f2.type);
			}
			thrift_struct_leave(&r);
			require_fields(&r, seen2, SEEN(1) | SEEN(2) | SEEN(3), "PageLocation");
			if (i > 0 && pl->first_row_index <= oi->page_locations[i - 1].first_row_index)
				thrift_error(&r, "PageLocation %d does not start after the previous page", i);
		}
	}
	thrift_struct_leave(&r);
	require_fields(&r, seen, SEEN(1), "OffsetIndex");
	if (oi->num_pages > 0 && oi->page_locations[0].first_row_index != 0)
		thrift_error(&r, "first page does not start at row 0");
	return oi;
}

/* ------------------------------------------------------------ encoders */

void
parquet_encode_statistics(ThriftWriter *w, const PqStatistics *s)
{
	thrift_write_struct_begin(w);
	if (s->has_max)
		thrift_write_binary_field(w, 1, s->max.data, s->max.len);
	if (s->has_min)
		thrift_write_binary_field(w, 2, s->min.data, s->min.len);
	if (s->has_null_count)
		thrift_write_i64_field(w, 3, s->null_count);
	if (s->has_distinct_count)
		thrift_write_i64_field(w, 4, s->distinct_count);
	if (s->has_max_value)
		thrift_write_binary_field(w, 5, s->max_value.data, s->max_value.len);
	if (s->has_min_value)
		thrift_write_binary_field(w, 6, s->min_value.data, s->min_value.len);
	thrift_write_struct_end(w);
}

static void
write_empty_struct_field(ThriftWriter *w, int16 id)
{
	thrift_write_field_begin(w, id, THRIFT_STRUCT);
	thrift_write_struct_begin(w);
	thrift_write_struct_end(w);
}

void
parquet_encode_logical_type(ThriftWriter *w, const PqLogicalType *lt)
{
	thrift_write_struct_begin(w);
	thrift_write_field_begin(w, (int16) lt->kind, THRIFT_STRUCT);
	thrift_write_struct_begin(w);
	switch (lt->kind)
	{
		case PARQUET_LT_DECIMAL:
			thrift_write_i32_field(w, 1, lt->scale);
			thrift_write_i32_field(w, 2, lt->precision);
			break;
		case PARQUET_LT_TIME:
		case PARQUET_LT_TIMESTAMP:
			thrift_write_bool_field(w, 1, lt->is_adjusted_to_utc);
			thrift_write_field_begin(w, 2, THRIFT_STRUCT);
			thrift_write_struct_begin(w);
			write_empty_struct_field(w, (int16) lt->unit);
			thrift_write_struct_end(w);
			break;
		case PARQUET_LT_INTEGER:
			thrift_write_i8_field(w, 1, lt->bit_width);
			thrift_write_bool_field(w, 2, lt->is_signed);
			break;
		default:
			break;
	}
	thrift_write_struct_end(w);
	thrift_write_struct_end(w);
}

static void
encode_key_values(ThriftWriter *w, int16 id, int32 n, const PqKeyValue *kv)
{
	thrift_write_list_field(w, id, THRIFT_STRUCT, n);
	for (int32 i = 0; i < n; i++)
	{
		thrift_write_struct_begin(w);
		thrift_write_string_field(w, 1, kv[i].key);
		if (kv[i].value)
			thrift_write_string_field(w, 2, kv[i].value);
		thrift_write_struct_end(w);
	}
}

static void
encode_schema_element(ThriftWriter *w, const PqSchemaElement *e)
{
	thrift_write_struct_begin(w);
	if (e->has_type)
		thrift_write_i32_field(w, 1, e->type);
	if (e->type_length > 0)
		thrift_write_i32_field(w, 2, e->type_length);
	if (e->has_repetition)
		thrift_write_i32_field(w, 3, e->repetition);
	thrift_write_string_field(w, 4, e->name);
	if (e->num_children > 0)
		thrift_write_i32_field(w, 5, e->num_children);
	if (e->has_converted_type)
		thrift_write_i32_field(w, 6, e->converted_type);
	if (e->has_scale)
		thrift_write_i32_field(w, 7, e->scale);
	if (e->has_precision)
		thrift_write_i32_field(w, 8, e->precision);
	if (e->has_field_id)
		thrift_write_i32_field(w, 9, e->field_id);
	if (e->logical_type.kind != PARQUET_LT_NONE && e->logical_type.kind != PARQUET_LT_OTHER)
	{
		thrift_write_field_begin(w, 10, THRIFT_STRUCT);
		parquet_encode_logical_type(w, &e->logical_type);
	}
	thrift_write_struct_end(w);
}

static void
encode_column_meta(ThriftWriter *w, const PqColumnMetaData *m)
{
	thrift_write_struct_begin(w);
	thrift_write_i32_field(w, 1, m->type);
	thrift_write_list_field(w, 2, THRIFT_I32, m->num_encodings);
	for (int32 i = 0; i < m->num_encodings; i++)
		thrift_write_i32_elem(w, m->encodings[i]);
	thrift_write_list_field(w, 3, THRIFT_BINARY, m->path_len);
	for (int32 i = 0; i < m->path_len; i++)
		thrift_write_binary_elem(w, m->path_in_schema[i], (uint32) strlen(m->path_in_schema[i]));
	thrift_write_i32_field(w, 4, m->codec);
	thrift_write_i64_field(w, 5, m->num_values);
	thrift_write_i64_field(w, 6, m->total_uncompressed_size);
	thrift_write_i64_field(w, 7, m->total_compressed_size);
	if (m->num_key_value > 0)
		encode_key_values(w, 8, m->num_key_value, m->key_value);
	thrift_write_i64_field(w, 9, m->data_page_offset);
	if (m->has_index_page_offset)
		thrift_write_i64_field(w, 10, m->index_page_offset);
	if (m->has_dictionary_page_offset)
		thrift_write_i64_field(w, 11, m->dictionary_page_offset);
	if (m->has_statistics)
	{
		thrift_write_field_begin(w, 12, THRIFT_STRUCT);
		parquet_encode_statistics(w, &m->statistics);
	}
	if (m->has_bloom_filter_offset)
		thrift_write_i64_field(w, 14, m->bloom_filter_offset);
	if (m->has_bloom_filter_length)
		thrift_write_i32_field(w, 15, m->bloom_filter_length);
	thrift_write_struct_end(w);
}

static void
encode_column_chunk(ThriftWriter *w, const PqColumnChunk *c)
{
	thrift_write_struct_begin(w);
	if (c->file_path)
		thrift_write_string_field(w, 1, c->file_path);
	thrift_write_i64_field(w, 2, c->file_offset);
	if (c->has_meta_data)
	{
		thrift_write_field_begin(w, 3, THRIFT_STRUCT);
		encode_column_meta(w, &c->meta_data);
	}
	if (c->has_offset_index)
	{
		thrift_write_i64_field(w, 4, c->offset_index_offset);
		thrift_write_i32_field(w, 5, c->offset_index_length);
	}
	if (c->has_column_index)
	{
		thrift_write_i64_field(w, 6, c->column_index_offset);
		thrift_write_i32_field(w, 7, c->column_index_length);
	}
	thrift_write_struct_end(w);
}

static void
encode_row_group(ThriftWriter *w, const PqRowGroup *g)
{
	thrift_write_struct_begin(w);
	thrift_write_list_field(w, 1, THRIFT_STRUCT, g->num_columns);
	for (int32 i = 0; i < g->num_columns; i++)
		encode_column_chunk(w, &g->columns[i]);
	thrift_write_i64_field(w, 2, g->total_byte_size);
	thrift_write_i64_field(w, 3, g->num_rows);
	if (g->num_sorting_columns > 0)
	{
		thrift_write_list_field(w, 4, THRIFT_STRUCT, g->num_sorting_columns);
		for (int32 i = 0; i < g->num_sorting_columns; i++)
		{
			thrift_write_struct_begin(w);
			thrift_write_i32_field(w, 1, g->sorting_columns[i].column_idx);
			thrift_write_bool_field(w, 2, g->sorting_columns[i].descending);
			thrift_write_bool_field(w, 3, g->sorting_columns[i].nulls_first);
			thrift_write_struct_end(w);
		}
	}
	if (g->has_file_offset)
		thrift_write_i64_field(w, 5, g->file_offset);
	if (g->has_total_compressed_size)
		thrift_write_i64_field(w, 6, g->total_compressed_size);
	if (g->has_ordinal)
		thrift_write_i16_field(w, 7, g->ordinal);
	thrift_write_struct_end(w);
}

void
parquet_encode_file_metadata(ThriftWriter *w, const PqFileMetaData *m)
{
	thrift_write_struct_begin(w);
	thrift_write_i32_field(w, 1, m->version);
	thrift_write_list_field(w, 2, THRIFT_STRUCT, m->num_schema);
	for (int32 i = 0; i < m->num_schema; i++)
		encode_schema_element(w, &m->schema[i]);
	thrift_write_i64_field(w, 3, m->num_rows);
	thrift_write_list_field(w, 4, THRIFT_STRUCT, m->num_row_groups);
	for (int32 i = 0; i < m->num_row_groups; i++)
		encode_row_group(w, &m->row_groups[i]);
	if (m->num_key_value > 0)
		encode_key_values(w, 5, m->num_key_value, m->key_value);
	if (m->created_by)
		thrift_write_string_field(w, 6, m->created_by);
	if (m->num_column_orders > 0)
	{
		/* ColumnOrder union with TYPE_ORDER (field 1, empty struct) */
		thrift_write_list_field(w, 7, THRIFT_STRUCT, m->num_column_orders);
		for (int32 i = 0; i < m->num_column_orders; i++)
		{
			thrift_write_struct_begin(w);
			write_empty_struct_field(w, 1);
			thrift_write_struct_end(w);
		}
	}
	thrift_write_struct_end(w);
}

static void
encode_data_page_header(ThriftWriter *w, const PqDataPageHeader *h)
{
	thrift_write_struct_begin(w);
	thrift_write_i32_field(w, 1, h->num_values);
	thrift_write_i32_field(w, 2, h->encoding);
	thrift_write_i32_field(w, 3, h->definition_level_encoding);
	thrift_write_i32_field(w, 4, h->repetition_level_encoding);
	if (h->has_statistics)
	{
		thrift_write_field_begin(w, 5, THRIFT_STRUCT);
		parquet_encode_statistics(w, &h->statistics);
	}
	thrift_write_struct_end(w);
}

static void
encode_data_page_header_v2(ThriftWriter *w, const PqDataPageHeaderV2 *h)
{
	thrift_write_struct_begin(w);
	thrift_write_i32_field(w, 1, h->num_values);
	thrift_write_i32_field(w, 2, h->num_nulls);
	thrift_write_i32_field(w, 3, h->num_rows);
	thrift_write_i32_field(w, 4, h->encoding);
	thrift_write_i32_field(w, 5, h->definition_levels_byte_length);
	thrift_write_i32_field(w, 6, h->repetition_levels_byte_length);
	thrift_write_bool_field(w, 7, h->is_compressed);
	if (h->has_statistics)
	{
		thrift_write_field_begin(w, 8, THRIFT_STRUCT);
		parquet_encode_statistics(w, &h->statistics);
	}
	thrift_write_struct_end(w);
}

void
parquet_encode_page_header(ThriftWriter *w, const PqPageHeader *h)
{
	thrift_write_struct_begin(w);
	thrift_write_i32_field(w, 1, h->type);
	thrift_write_i32_field(w, 2, h->uncompressed_page_size);
	thrift_write_i32_field(w, 3, h->compressed_page_size);
	if (h->has_crc)
		thrift_write_i32_field(w, 4, h->crc);
	if (h->has_data_page_header)
	{
		thrift_write_field_begin(w, 5, THRIFT_STRUCT);
		encode_data_page_header(w, &h->data_page_header);
	}
	if (h->has_dictionary_page_header)
	{
		thrift_write_field_begin(w, 7, THRIFT_STRUCT);
		thrift_write_struct_begin(w);
		thrift_write_i32_field(w, 1, h->dictionary_page_header.num_values);
		thrift_write_i32_field(w, 2, h->dictionary_page_header.encoding);
		if (h->dictionary_page_header.has_is_sorted)
			thrift_write_bool_field(w, 3, h->dictionary_page_header.is_sorted);
		thrift_write_struct_end(w);
	}
	if (h->has_data_page_header_v2)
	{
		thrift_write_field_begin(w, 8, THRIFT_STRUCT);
		encode_data_page_header_v2(w, &h->data_page_header_v2);
	}
	thrift_write_struct_end(w);
}

void
parquet_encode_column_index(ThriftWriter *w, const PqColumnIndex *ci)
{
	thrift_write_struct_begin(w);
	thrift_write_list_field(w, 1, THRIFT_BOOL_TRUE, ci->num_pages);
	for (int32 i = 0; i < ci->num_pages; i++)
		thrift_write_bool_elem(w, ci->null_pages[i]);
	thrift_write_list_field(w, 2, THRIFT_BINARY, ci->num_pages);
	for (int32 i = 0; i < ci->num_pages; i++)
		thrift_write_binary_elem(w, ci->min_values[i].data, ci->min_values[i].len);
	thrift_write_list_field(w, 3, THRIFT_BINARY, ci->num_pages);
	for (int32 i = 0; i < ci->num_pages; i++)
		thrift_write_binary_elem(w, ci->max_values[i].data, ci->max_values[i].len);
	thrift_write_i32_field(w, 4, ci->boundary_order);
	if (ci->has_null_counts)
	{
		thrift_write_list_field(w, 5, THRIFT_I64, ci->num_pages);
		for (int32 i = 0; i < ci->num_pages; i++)
			thrift_write_i64_elem(w, ci->null_counts[i]);
	}
	thrift_write_struct_end(w);
}

void
parquet_encode_offset_index(ThriftWriter *w, const PqOffsetIndex *oi)
{
	thrift_write_struct_begin(w);
	thrift_write_list_field(w, 1, THRIFT_STRUCT, oi->num_pages);
	for (int32 i = 0; i < oi->num_pages; i++)
	{
		thrift_write_struct_begin(w);
		thrift_write_i64_field(w, 1, oi->page_locations[i].offset);
		thrift_write_i32_field(w, 2, oi->page_locations[i].compressed_page_size);
		thrift_write_i64_field(w, 3, oi->page_locations[i].first_row_index);
		thrift_write_struct_end(w);
	}
	thrift_write_struct_end(w);
}

/* ---------------------------------------------------------------- names */

const char *
parquet_type_name(int type)
{
	static const char *const names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT",
	"DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};

	return (type >= 0 && type < (int) lengthof(names)) ? names[type] : "UNKNOWN";
}

const char *
parquet_codec_name(int codec)
{
	static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI",
	"LZ4", "ZSTD", "LZ4_RAW"};

	return (codec >= 0 && codec < (int) lengthof(names)) ? names[codec] : "UNKNOWN";
}

const char *
parquet_encoding_name(int enc)
{
	static const char *const names[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE",
		"BIT_PACKED", "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
	"RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};

	return (enc >= 0 && enc < (int) lengthof(names)) ? names[enc] : "UNKNOWN";
}

const char *
parquet_repetition_name(int rep)
{
	static const char *const names[] = {"REQUIRED", "OPTIONAL", "REPEATED"};

	return (rep >= 0 && rep < (int) lengthof(names)) ? names[rep] : "UNKNOWN";
}

const char *
parquet_converted_type_name(int ct)
{
	static const char *const names[] = {"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM",
		"DECIMAL", "DATE", "TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS",
		"TIMESTAMP_MICROS", "UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16",
	"INT_32", "INT_64", "JSON", "BSON", "INTERVAL"};

	return (ct >= 0 && ct < (int) lengthof(names)) ? names[ct] : "UNKNOWN";
}

char *
parquet_logical_type_string(const PqLogicalType *lt)
{
	static const char *const units[] = {"?", "MILLIS", "MICROS", "NANOS"};
	const char *unit = (lt->unit >= 1 && lt->unit <= 3) ? units[lt->unit] : "?";

	switch (lt->kind)
	{
		case PARQUET_LT_NONE:
			return pstrdup("");
		case PARQUET_LT_STRING:
			return pstrdup("STRING");
		case PARQUET_LT_MAP:
			return pstrdup("MAP");
		case PARQUET_LT_LIST:
			return pstrdup("LIST");
		case PARQUET_LT_ENUM:
			return pstrdup("ENUM");
		case PARQUET_LT_DECIMAL:
			return psprintf("DECIMAL(%d,%d)", lt->precision, lt->scale);
		case PARQUET_LT_DATE:
			return pstrdup("DATE");
		case PARQUET_LT_TIME:
			return psprintf("TIME(%s,%s)", unit, lt->is_adjusted_to_utc ? "UTC" : "LOCAL");
		case PARQUET_LT_TIMESTAMP:
			return psprintf("TIMESTAMP(%s,%s)", unit, lt->is_adjusted_to_utc ? "UTC" : "LOCAL");
		case PARQUET_LT_INTEGER:
			return psprintf("INTEGER(%d,%s)", lt->bit_width, lt->is_signed ? "signed" : "unsigned");
		case PARQUET_LT_UNKNOWN:
			return pstrdup("UNKNOWN");
		case PARQUET_LT_JSON:
			return pstrdup("JSON");
		case PARQUET_LT_BSON:
			return pstrdup("BSON");
		case PARQUET_LT_UUID:
			return pstrdup("UUID");
		case PARQUET_LT_FLOAT16:
			return pstrdup("FLOAT16");
		case PARQUET_LT_OTHER:
			return pstrdup("OTHER");
	}
	return pstrdup("?");
}

const char *
parquet_kv_value(const PqFileMetaData *fm, const char *key)
{
	for (int i = 0; i < fm->num_key_value; i++)
		if (fm->key_value[i].key && strcmp(fm->key_value[i].key, key) == 0)
			return fm->key_value[i].value;
	return NULL;
}
