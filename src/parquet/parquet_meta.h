/*
 * parquet_meta.h — the Parquet metadata model (parquet-format's
 * parquet.thrift) as C structs, with decoders and encoders over the Thrift
 * compact protocol (thrift.h).
 *
 * Decoding
 *   PqFileMetaData *parquet_decode_file_metadata(buf, len, source)
 *       the footer (the bytes between the data and the 4-byte length +
 *       "PAR1"); checks the schema tree shape and that every row group has
 *       one column chunk per leaf.
 *   void parquet_decode_page_header(ThriftReader *r, PqPageHeader *out)
 *       one page header at r->pos; r->pos ends just after it.
 *   PqColumnIndex *parquet_decode_column_index(buf, len, source)
 *   PqOffsetIndex *parquet_decode_offset_index(buf, len, source)
 *   Errors are ERRCODE_DATA_CORRUPTED and name the source.  Binary/string
 *   fields are copied (nothing points into the input buffer).  Memory:
 *   CurrentMemoryContext, bounded by a small multiple of the input size.
 *
 * Encoding (used by the writer)
 *   parquet_encode_file_metadata(ThriftWriter *w, const PqFileMetaData *m) etc.
 *   Optional fields are written only when their has_* flag is set.
 *
 * Field numbers and enum values follow parquet.thrift; only the fields vlake
 * uses are modelled, everything else is skipped on read.
 */
#ifndef VLAKE_PARQUET_META_H
#define VLAKE_PARQUET_META_H

#include "postgres.h"

#include "parquet/thrift.h"

/* Physical types */
typedef enum PqType
{
	PARQUET_BOOLEAN = 0,
	PARQUET_INT32 = 1,
	PARQUET_INT64 = 2,
	PARQUET_INT96 = 3,
	PARQUET_FLOAT = 4,
	PARQUET_DOUBLE = 5,
	PARQUET_BYTE_ARRAY = 6,
	PARQUET_FIXED_LEN_BYTE_ARRAY = 7
} PqType;

typedef enum PqRepetition
{
	PARQUET_REQUIRED = 0,
	PARQUET_OPTIONAL = 1,
	PARQUET_REPEATED = 2
} PqRepetition;

typedef enum PqConvertedType
{
	PARQUET_CT_UTF8 = 0,
	PARQUET_CT_MAP = 1,
	PARQUET_CT_MAP_KEY_VALUE = 2,
	PARQUET_CT_LIST = 3,
	PARQUET_CT_ENUM = 4,
	PARQUET_CT_DECIMAL = 5,
	PARQUET_CT_DATE = 6,
	PARQUET_CT_TIME_MILLIS = 7,
	PARQUET_CT_TIME_MICROS = 8,
	PARQUET_CT_TIMESTAMP_MILLIS = 9,
	PARQUET_CT_TIMESTAMP_MICROS = 10,
	PARQUET_CT_UINT_8 = 11,
	PARQUET_CT_UINT_16 = 12,
	PARQUET_CT_UINT_32 = 13,
	PARQUET_CT_UINT_64 = 14,
	PARQUET_CT_INT_8 = 15,
	PARQUET_CT_INT_16 = 16,
	PARQUET_CT_INT_32 = 17,
	PARQUET_CT_INT_64 = 18,
	PARQUET_CT_JSON = 19,
	PARQUET_CT_BSON = 20,
	PARQUET_CT_INTERVAL = 21
} PqConvertedType;

typedef enum PqEncoding
{
	PARQUET_ENC_PLAIN = 0,
	PARQUET_ENC_PLAIN_DICTIONARY = 2,
	PARQUET_ENC_RLE = 3,
	PARQUET_ENC_BIT_PACKED = 4,
	PARQUET_ENC_DELTA_BINARY_PACKED = 5,
	PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
	PARQUET_ENC_DELTA_BYTE_ARRAY = 7,
	PARQUET_ENC_RLE_DICTIONARY = 8,
	PARQUET_ENC_BYTE_STREAM_SPLIT = 9
} PqEncoding;

typedef enum PqCodec
{
	PARQUET_CODEC_UNCOMPRESSED = 0,
	PARQUET_CODEC_SNAPPY = 1,
	PARQUET_CODEC_GZIP = 2,
	PARQUET_CODEC_LZO = 3,
	PARQUET_CODEC_BROTLI = 4,
	PARQUET_CODEC_LZ4 = 5,
	PARQUET_CODEC_ZSTD = 6,
	PARQUET_CODEC_LZ4_RAW = 7
} PqCodec;

typedef enum PqPageType
{
	PARQUET_PAGE_DATA = 0,
	PARQUET_PAGE_INDEX = 1,
	PARQUET_PAGE_DICTIONARY = 2,
	PARQUET_PAGE_DATA_V2 = 3
} PqPageType;

typedef enum PqBoundaryOrder
{
	PARQUET_BOUNDARY_UNORDERED = 0,
	PARQUET_BOUNDARY_ASCENDING = 1,
	PARQUET_BOUNDARY_DESCENDING = 2
} PqBoundaryOrder;

/* LogicalType union: which member is set (field id in parquet.thrift). */
typedef enum PqLogicalKind
{
	PARQUET_LT_NONE = 0,
	PARQUET_LT_STRING = 1,
	PARQUET_LT_MAP = 2,
	PARQUET_LT_LIST = 3,
	PARQUET_LT_ENUM = 4,
	PARQUET_LT_DECIMAL = 5,
	PARQUET_LT_DATE = 6,
	PARQUET_LT_TIME = 7,
	PARQUET_LT_TIMESTAMP = 8,
	PARQUET_LT_INTEGER = 10,
	PARQUET_LT_UNKNOWN = 11,			/* "NullType": always null */
	PARQUET_LT_JSON = 12,
	PARQUET_LT_BSON = 13,
	PARQUET_LT_UUID = 14,
	PARQUET_LT_FLOAT16 = 15,
	PARQUET_LT_OTHER = 1000			/* a member we do not know */
} PqLogicalKind;

typedef enum PqTimeUnit
{
	PARQUET_UNIT_MILLIS = 1,
	PARQUET_UNIT_MICROS = 2,
	PARQUET_UNIT_NANOS = 3
} PqTimeUnit;

typedef struct PqLogicalType
{
	PqLogicalKind kind;
	int32		scale;			/* DECIMAL */
	int32		precision;		/* DECIMAL */
	bool		is_adjusted_to_utc; /* TIME, TIMESTAMP */
	PqTimeUnit	unit;			/* TIME, TIMESTAMP */
	int8		bit_width;		/* INTEGER */
	bool		is_signed;		/* INTEGER */
} PqLogicalType;

typedef struct PqBytes
{
	uint8	   *data;
	int32		len;
} PqBytes;

typedef struct PqStatistics
{
	bool		has_max;		/* deprecated max/min (field 1/2): signed order */
	PqBytes		max;
	bool		has_min;
	PqBytes		min;
	bool		has_null_count;
	int64		null_count;
	bool		has_distinct_count;
	int64		distinct_count;
	bool		has_max_value;	/* field 5/6: column order of the type */
	PqBytes		max_value;
	bool		has_min_value;
	PqBytes		min_value;
} PqStatistics;

typedef struct PqKeyValue
{
	char	   *key;
	char	   *value;			/* NULL when absent */
} PqKeyValue;

typedef struct PqSchemaElement
{
	bool		has_type;
	PqType		type;
	int32		type_length;	/* FIXED_LEN_BYTE_ARRAY width (0 if absent) */
	bool		has_repetition;
	PqRepetition repetition;
	char	   *name;
	int32		num_children;	/* 0 for leaves */
	bool		has_converted_type;
	PqConvertedType converted_type;
	bool		has_scale;
	int32		scale;
	bool		has_precision;
	int32		precision;
	bool		has_field_id;
	int32		field_id;
	PqLogicalType logical_type; /* kind PARQUET_LT_NONE when absent */
} PqSchemaElement;

typedef struct PqColumnMetaData
{
	PqType		type;
	int32		num_encodings;
	PqEncoding *encodings;
	int32		path_len;
	char	  **path_in_schema;
	PqCodec		codec;
	int64		num_values;
	int64		total_uncompressed_size;
	int64		total_compressed_size;
	int32		num_key_value;
	PqKeyValue *key_value;
	int64		data_page_offset;
	bool		has_index_page_offset;
	int64		index_page_offset;
	bool		has_dictionary_page_offset;
	int64		dictionary_page_offset;
	bool		has_statistics;
	PqStatistics statistics;
	bool		has_bloom_filter_offset;
	int64		bloom_filter_offset;
	bool		has_bloom_filter_length;
	int32		bloom_filter_length;
} PqColumnMetaData;

typedef struct PqColumnChunk
{
	char	   *file_path;		/* NULL: same file */
	int64		file_offset;
	bool		has_meta_data;
	PqColumnMetaData meta_data;
	bool		has_offset_index;
	int64		offset_index_offset;
	int32		offset_index_length;
	bool		has_column_index;
	int64		column_index_offset;
	int32		column_index_length;
	bool		encrypted;		/* crypto_metadata or encrypted_column_metadata seen */
} PqColumnChunk;

typedef struct PqSortingColumn
{
	int32		column_idx;
	bool		descending;
	bool		nulls_first;
} PqSortingColumn;

typedef struct PqRowGroup
{
	int32		num_columns;
	PqColumnChunk *columns;
	int64		total_byte_size;
	int64		num_rows;
	int32		num_sorting_columns;
	PqSortingColumn *sorting_columns;
	bool		has_file_offset;
	int64		file_offset;
	bool		has_total_compressed_size;
	int64		total_compressed_size;
	bool		has_ordinal;
	int16		ordinal;
} PqRowGroup;

typedef struct PqFileMetaData
{
	int32		version;
	int32		num_schema;
	PqSchemaElement *schema;	/* depth-first, schema[0] is the root */
	int64		num_rows;
	int32		num_row_groups;
	PqRowGroup *row_groups;
	int32		num_key_value;
	PqKeyValue *key_value;
	char	   *created_by;		/* NULL when absent */
	int32		num_column_orders;	/* TYPE_ORDER for every leaf when set */
	bool		encrypted;		/* encryption_algorithm present */
	int32		num_leaves;		/* computed: leaves of the schema tree */
} PqFileMetaData;

typedef struct PqDataPageHeader
{
	int32		num_values;
	PqEncoding	encoding;
	PqEncoding	definition_level_encoding;
	PqEncoding	repetition_level_encoding;
	bool		has_statistics;
	PqStatistics statistics;
} PqDataPageHeader;

typedef struct PqDataPageHeaderV2
{
	int32		num_values;
	int32		num_nulls;
	int32		num_rows;
	PqEncoding	encoding;
	int32		definition_levels_byte_length;
	int32		repetition_levels_byte_length;
	bool		is_compressed;	/* default true */
	bool		has_statistics;
	PqStatistics statistics;
} PqDataPageHeaderV2;

typedef struct PqDictionaryPageHeader
{
	int32		num_values;
	PqEncoding	encoding;
	bool		has_is_sorted;
	bool		is_sorted;
} PqDictionaryPageHeader;

typedef struct PqPageHeader
{
	PqPageType	type;
	int32		uncompressed_page_size;
	int32		compressed_page_size;
	bool		has_crc;
	int32		crc;
	bool		has_data_page_header;
	PqDataPageHeader data_page_header;
	bool		has_dictionary_page_header;
	PqDictionaryPageHeader dictionary_page_header;
	bool		has_data_page_header_v2;
	PqDataPageHeaderV2 data_page_header_v2;
} PqPageHeader;

typedef struct PqColumnIndex
{
	int32		num_pages;
	bool	   *null_pages;
	PqBytes    *min_values;
	PqBytes    *max_values;
	PqBoundaryOrder boundary_order;
	bool		has_null_counts;
	int64	   *null_counts;
} PqColumnIndex;

typedef struct PqPageLocation
{
	int64		offset;
	int32		compressed_page_size;
	int64		first_row_index;
} PqPageLocation;

typedef struct PqOffsetIndex
{
	int32		num_pages;
	PqPageLocation *page_locations;
} PqOffsetIndex;

/* Decoders */
extern PqFileMetaData *parquet_decode_file_metadata(const uint8 *buf, size_t len,
											   const char *source);
extern void parquet_decode_page_header(ThriftReader *r, PqPageHeader *out);
extern PqColumnIndex *parquet_decode_column_index(const uint8 *buf, size_t len,
											 const char *source);
extern PqOffsetIndex *parquet_decode_offset_index(const uint8 *buf, size_t len,
											 const char *source);

/* Encoders */
extern void parquet_encode_file_metadata(ThriftWriter *w, const PqFileMetaData *m);
extern void parquet_encode_page_header(ThriftWriter *w, const PqPageHeader *h);
extern void parquet_encode_column_index(ThriftWriter *w, const PqColumnIndex *ci);
extern void parquet_encode_offset_index(ThriftWriter *w, const PqOffsetIndex *oi);
extern void parquet_encode_statistics(ThriftWriter *w, const PqStatistics *s);
extern void parquet_encode_logical_type(ThriftWriter *w, const PqLogicalType *lt);

/* Value of footer key-value metadata key, NULL if absent (or valueless). */
extern const char *parquet_kv_value(const PqFileMetaData *fm, const char *key);

/* Names for messages and the SQL metadata functions. */
extern const char *parquet_type_name(int type);
extern const char *parquet_codec_name(int codec);
extern const char *parquet_encoding_name(int enc);
extern const char *parquet_repetition_name(int rep);
extern const char *parquet_converted_type_name(int ct);
/* palloc'd, e.g. "TIMESTAMP(MICROS,UTC)"; "" when none */
extern char *parquet_logical_type_string(const PqLogicalType *lt);

#endif							/* VLAKE_PARQUET_META_H */
