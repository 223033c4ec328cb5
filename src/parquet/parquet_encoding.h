/*
 * parquet_encoding.h — Parquet value and level encodings (parquet-format
 * Encodings.md): PLAIN, RLE/bit-packed hybrid, dictionary indices,
 * DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY,
 * BYTE_STREAM_SPLIT.
 *
 * Contract shared by the writer (parquet-codec) and the reader (parquet-meta):
 *
 *  - Decoders work on one whole (decompressed) page buffer and decode exactly
 *    the number of values the caller asks for (from the page header), which
 *    bounds all output: the caller sizes "out" arrays, checking the count
 *    against its own limits first.  Every length, count, varint and bit width
 *    is checked against the buffer; malformed input ERRORs through
 *    lake_report (lake/lake_error.h): "invalid Parquet file "<uri>": corrupt
 *    <encoding> data: <reason>", DETAIL the place, both taken from the
 *    innermost parquet_decode_begin() scope of the caller (the reader opens
 *    one per page; without one the data is "(unnamed)").
 *  - Decoders return the number of bytes of input they consumed, so a
 *    caller can decode several sections of one buffer in sequence.
 *  - Byte arrays are returned as PqByteArray slices pointing into the input
 *    buffer (zero copy), except DELTA_BYTE_ARRAY, which must materialise
 *    values into one palloc'd arena (bounded by max_bytes).
 *  - Values are little-endian on the wire; vlake assumes a little-endian host
 *    (checked at compile time below).
 *  - Encoders append to a PqBuf (a growable palloc'd byte buffer).
 *
 * Backend independence: only palloc/repalloc/pfree and ereport(ERROR) are
 * used; test/fuzz/pg_standin.c provides them for stand-alone programs (unit
 * tests, the fuzz harness).  No CHECK_FOR_INTERRUPTS here: work is bounded by a
 * page; callers check for interrupts between pages.
 */
#ifndef VLAKE_PARQUET_ENCODING_H
#define VLAKE_PARQUET_ENCODING_H

#include "postgres.h"

#include "lake/lake_error.h"
#include "parquet/parquet_meta.h"

#ifdef WORDS_BIGENDIAN
#error "vlake's Parquet code assumes a little-endian host"
#endif

/* PqEncoding and PqType (Thrift enums) come from parquet_meta.h. */

/* A byte-array value: a slice of some buffer. */
typedef struct PqByteArray
{
	const char *ptr;
	uint32		len;
} PqByteArray;

/* Growable output buffer (palloc'd in CurrentMemoryContext). */
typedef struct PqBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} PqBuf;

extern void parquet_buf_init(PqBuf *b, size_t initial);
extern void parquet_buf_reserve(PqBuf *b, size_t more);
extern void parquet_buf_append(PqBuf *b, const void *data, size_t len);
extern void parquet_buf_free(PqBuf *b);
static inline void
parquet_buf_reset(PqBuf *b)
{
	b->len = 0;
}
extern void parquet_buf_put_uleb(PqBuf *b, uint64 v);
extern void parquet_buf_put_zigzag(PqBuf *b, int64 v);
extern void parquet_buf_put_le32(PqBuf *b, uint32 v);

/*
 * The file and place that decoders (here and parquet_codec.h) name when
 * they find corrupt data: describe(arg) is called only then, so a scope
 * costs nothing on the good path.  A scope is an entry of PostgreSQL's
 * error_context_stack, so an ERROR unwinds it with the rest; its callback
 * adds nothing to messages.
 */
typedef const LakeErrorContext *(*ParquetDescribeFn) (void *arg);

typedef struct ParquetDecodeScope
{
	ErrorContextCallback cb;
	ParquetDescribeFn describe;
} ParquetDecodeScope;

extern void parquet_decode_begin(ParquetDecodeScope *scope, ParquetDescribeFn describe,
								 void *arg);
extern void parquet_decode_end(ParquetDecodeScope *scope);
/* The innermost scope's context, or an "(unnamed)" one. */
extern const LakeErrorContext *parquet_decode_context(void);

/* Bits needed to represent v (0 for v == 0). */
extern int	parquet_bit_width(uint64 v);

/* ULEB128 / zigzag readers on [*p, end): ERROR on overrun or > 64 bits. */
extern uint64 parquet_read_uleb(const uint8 **p, const uint8 *end);
extern int64 parquet_read_zigzag(const uint8 **p, const uint8 *end);

/* --------------------------------------------------------------- PLAIN -- */

/* Size in bytes of one PLAIN value of a fixed-width type (INT32/INT64/INT96/
 * FLOAT/DOUBLE; FLBA uses its type_length); -1 for BOOLEAN/BYTE_ARRAY. */
extern int	parquet_plain_width(int phys_type, int type_length);

/* n fixed-width values of width bytes each, copied to out. */
extern size_t parquet_plain_decode_fixed(const uint8 *buf, size_t len, int width,
									int64 n, void *out);

/* n bit-packed booleans (LSB first). */
extern size_t parquet_plain_decode_bool(const uint8 *buf, size_t len, int64 n,
								   bool *out);

/* n length-prefixed byte arrays; slices point into buf. */
extern size_t parquet_plain_decode_byte_array(const uint8 *buf, size_t len, int64 n,
										 PqByteArray *out);

extern void parquet_plain_encode_fixed(PqBuf *b, const void *vals, int width, int64 n);
extern void parquet_plain_encode_bool(PqBuf *b, const bool *vals, int64 n);
extern void parquet_plain_encode_byte_array(PqBuf *b, const char *val, uint32 len);

/* ------------------------------------------ RLE / bit-packed hybrid ---- */

/*
 * Decode n values of bit_width (0..32) bits from the hybrid encoding without
 * length prefix (dictionary indices, v2 levels).  Values are checked to fit
 * in bit_width bits by construction.
 */
extern size_t parquet_rle_decode(const uint8 *buf, size_t len, int bit_width,
							int64 n, uint32 *out);

/* Same with the 4-byte little-endian length prefix (v1 levels, RLE booleans);
 * returns 4 + the prefixed length. */
extern size_t parquet_rle_decode_prefixed(const uint8 *buf, size_t len, int bit_width,
									 int64 n, uint32 *out);

/* Dictionary-index data page body: 1 byte bit width, then the hybrid runs.
 * Every index is checked to be < dict_size. */
extern size_t parquet_dict_indices_decode(const uint8 *buf, size_t len, int64 n,
									 uint32 dict_size, uint32 *out);

extern void parquet_rle_encode(PqBuf *b, const uint32 *vals, int64 n, int bit_width);
extern void parquet_rle_encode_prefixed(PqBuf *b, const uint32 *vals, int64 n,
								   int bit_width);
extern void parquet_dict_indices_encode(PqBuf *b, const uint32 *idx, int64 n,
								   uint32 dict_size);

/* ---------------------------------------------- DELTA_BINARY_PACKED ---- */

/*
 * Decode a DELTA_BINARY_PACKED stream whose header declares its own value
 * count; ERROR if that count exceeds max_values.  *nvalues receives the
 * count.  Arithmetic wraps (two's complement) as the spec requires; the
 * int32 variant wraps in 32 bits.  Returns bytes consumed.
 */
extern size_t parquet_delta_decode_int64(const uint8 *buf, size_t len,
									int64 max_values, int64 *out, int64 *nvalues);
extern size_t parquet_delta_decode_int32(const uint8 *buf, size_t len,
									int64 max_values, int32 *out, int64 *nvalues);

extern void parquet_delta_encode_int64(PqBuf *b, const int64 *vals, int64 n);
extern void parquet_delta_encode_int32(PqBuf *b, const int32 *vals, int64 n);

/* ---------------------------------------- DELTA_LENGTH_BYTE_ARRAY ------ */

/* max_values bounds the declared count; slices point into buf. */
extern size_t parquet_delta_length_decode(const uint8 *buf, size_t len,
									 int64 max_values, PqByteArray *out,
									 int64 *nvalues);
extern void parquet_delta_length_encode(PqBuf *b, const PqByteArray *vals, int64 n);

/* -------------------------------------------------- DELTA_BYTE_ARRAY --- */

/*
 * Values are materialised into one palloc'd arena (*arena), whose total size
 * may not exceed max_bytes (the caller's memory bound).
 */
extern size_t parquet_delta_byte_array_decode(const uint8 *buf, size_t len,
										 int64 max_values, size_t max_bytes,
										 PqByteArray *out, int64 *nvalues,
										 char **arena);
extern void parquet_delta_byte_array_encode(PqBuf *b, const PqByteArray *vals, int64 n);

/* ------------------------------------------------- BYTE_STREAM_SPLIT --- */

/* n values of width bytes; the page body must be exactly n * width bytes. */
extern size_t parquet_bss_decode(const uint8 *buf, size_t len, int width, int64 n,
							void *out);
extern void parquet_bss_encode(PqBuf *b, const void *vals, int width, int64 n);

#endif							/* VLAKE_PARQUET_ENCODING_H */
