/*
 * parquet_meta.h — the Parquet metadata model (parquet-format's
 * parquet.thrift) as C structs, with decoders and encoders over the Thrift
 * compact protocol (thrift.h).
 *
 * Decoding
 *   PqFileMetaData *pq_decode_file_metadata(buf, len, source)
 *       the footer (the bytes between the data and the 4-byte length +
 *       "PAR1"); checks the schema tree shape and that every row group has
 *       one column chunk per leaf.
 *   void pq_decode_page_header(ThriftReader *r, PqPageHeader *out)
 *       one page header at r->pos; r->pos ends just after it.
 *   PqColumnIndex *pq_decode_column_index(buf, len, source)
 *   PqOffsetIndex *pq_decode_offset_index(buf, len, source)
 *   Errors are ERRCODE_DATA_CORRUPTED and name the source.  Binary/string
 *   fields are copied (nothing points into the input buffer).  Memory:
 *   CurrentMemoryContext, bounded by a small multiple of the input size.
 *
 * Encoding (used by the writer)
 *   pq_encode_file_metadata(ThriftWriter *w, const PqFileMetaData *m) etc.
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
	PQ_BOOLEAN = 0,
	PQ_INT32 = 1,
	PQ_INT64 = 2,
	PQ_INT96 = 3,
	PQ_FLOAT = 4,
	PQ_DOUBLE = 5,
	PQ_BYTE_ARRAY = 6,
	PQ_FIXED_LEN_BYTE_ARRAY = 7
} PqType;

typedef enum PqRepetition
{
	PQ_REQUIRED = 0,
	PQ_OPTIONAL = 1,
	PQ_REPEATED = 2
} PqRepetition;

typedef enum PqConvertedType
{
	PQ_CT_UTF8 = 0,
	PQ_CT_MAP = 1,
	PQ_CT_MAP_KEY_VALUE = 2,
	PQ_CT_LIST = 3,
	PQ_CT_ENUM = 4,
	PQ_CT_DECIMAL = 5,
	PQ_CT_DATE = 6,
	PQ_CT_TIME_MILLIS = 7,
	PQ_CT_TIME_MICROS = 8,
	PQ_CT_TIMESTAMP_MILLIS = 9,
	PQ_CT_TIMESTAMP_MICROS = 10,
	PQ_CT_UINT_8 = 11,
	PQ_CT_UINT_16 = 12,
	PQ_CT_UINT_32 = 13,
	PQ_CT_UINT_64 = 14,
	PQ_CT_INT_8 = 15,
	PQ_CT_INT_16 = 16,
	PQ_CT_INT_32 = 17,
	PQ_CT_INT_64 = 18,
	PQ_CT_JSON = 19,
	PQ_CT_BSON = 20,
	PQ_CT_INTERVAL = 21
} PqConvertedType;

typedef enum PqEncoding
{
	PQ_ENC_PLAIN = 0,
	PQ_ENC_PLAIN_DICTIONARY = 2,
	PQ_ENC_RLE = 3,
	PQ_ENC_BIT_PACKED = 4,
	PQ_ENC_DELTA_BINARY_PACKED = 5,
	PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
	PQ_ENC_DELTA_BYTE_ARRAY = 7,
	PQ_ENC_RLE_DICTIONARY = 8,
	PQ_ENC_BYTE_STREAM_SPLIT = 9
} PqEncoding;

typedef enum PqCodec
{
	PQ_CODEC_UNCOMPRESSED = 0,
	PQ_CODEC_SNAPPY = 1,
	PQ_CODEC_GZIP = 2,
	PQ_CODEC_LZO = 3,
	PQ_CODEC_BROTLI = 4,
	PQ_CODEC_LZ4 = 5,
	PQ_CODEC_ZSTD = 6,
	PQ_CODEC_LZ4_RAW = 7
} PqCodec;

typedef enum PqPageType
{
	PQ_PAGE_DATA = 0,
	PQ_PAGE_INDEX = 1,
	PQ_PAGE_DICTIONARY = 2,
	PQ_PAGE_DATA_V2 = 3
} PqPageType;

typedef enum PqBoundaryOrder
{
	PQ_BOUNDARY_UNORDERED = 0,
	PQ_BOUNDARY_ASCENDING = 1,
	PQ_BOUNDARY_DESCENDING = 2
} PqBoundaryOrder;

/* LogicalType union: which member is set (field id in parquet.thrift). */
typedef enum PqLogicalKind
{
	PQ_LT_NONE = 0,
	PQ_LT_STRING = 1,
	PQ_LT_MAP = 2,
	PQ_LT_LIST = 3,
	PQ_LT_ENUM = 4,
	PQ_LT_DECIMAL = 5,
	PQ_LT_DATE = 6,
	PQ_LT_TIME = 7,
	PQ_LT_TIMESTAMP = 8,
	PQ_LT_INTEGER = 10,
	PQ_LT_UNKNOWN = 11,			/* "NullType": always null */
	PQ_LT_JSON = 12,
	PQ_LT_BSON = 13,
	PQ_LT_UUID = 14,
	PQ_LT_FLOAT16 = 15,
	PQ_LT_OTHER = 1000			/* a member we do not know */
} PqLogicalKind;

typedef enum PqTimeUnit
{
	PQ_UNIT_MILLIS = 1,
	PQ_UNIT_MICROS = 2,
	PQ_UNIT_NANOS = 3
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
	PqLogicalType logical_type; /* kind PQ_LT_NONE when absent */
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
extern PqFileMetaData *pq_decode_file_metadata(const uint8 *buf, size_t len,
											   const char *source);
extern void pq_decode_page_header(ThriftReader *r, PqPageHeader *out);
extern PqColumnIndex *pq_decode_column_index(const uint8 *buf, size_t len,
											 const char *source);
extern PqOffsetIndex *pq_decode_offset_index(const uint8 *buf, size_t len,
											 const char *source);

/* Encoders */
extern void pq_encode_file_metadata(ThriftWriter *w, const PqFileMetaData *m);
extern void pq_encode_page_header(ThriftWriter *w, const PqPageHeader *h);
extern void pq_encode_column_index(ThriftWriter *w, const PqColumnIndex *ci);
extern void pq_encode_offset_index(ThriftWriter *w, const PqOffsetIndex *oi);
extern void pq_encode_statistics(ThriftWriter *w, const PqStatistics *s);
extern void pq_encode_logical_type(ThriftWriter *w, const PqLogicalType *lt);

/* Names for messages and the SQL metadata functions. */
extern const char *pq_type_name(int type);
extern const char *pq_codec_name(int codec);
extern const char *pq_encoding_name(int enc);
extern const char *pq_repetition_name(int rep);
extern const char *pq_converted_type_name(int ct);
/* palloc'd, e.g. "TIMESTAMP(MICROS,UTC)"; "" when none */
extern char *pq_logical_type_string(const PqLogicalType *lt);

#endif							/* VLAKE_PARQUET_META_H */
