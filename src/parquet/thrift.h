/*
 * thrift.h — Thrift compact protocol: a bounds-checked reader and a writer.
 *
 * Written from the Thrift compact protocol specification
 * (doc/specs/thrift-compact-protocol.md).  Only what Parquet metadata needs:
 * structs, lists/sets, maps (skipped), binary, bool, i8/i16/i32/i64, double,
 * uuid.  Messages (RPC framing) are not supported.
 *
 * Reader
 *   ThriftReader r;
 *   thrift_reader_init(&r, buf, len, "s3://b/f.parquet", "file footer");
 *   int16 last = 0; ThriftFieldHeader fh;
 *   thrift_struct_enter(&r);
 *   while (thrift_read_field(&r, &last, &fh)) {
 *       switch (fh.id) { case 1: x = thrift_read_i32(&r, &fh); break;
 *                        default: thrift_skip(&r, fh.type); }
 *   }
 *   thrift_struct_leave(&r);
 *
 *   Every read checks the remaining bytes; varints are checked for overflow
 *   of their declared width; list counts are bounded by the bytes left
 *   (every element takes at least one byte); nesting is bounded by
 *   THRIFT_MAX_DEPTH; decoded arrays are charged to an allocation budget
 *   proportional to the input (thrift_alloc_array), so a hostile buffer
 *   cannot make the decoder allocate more than a small multiple of its own
 *   size.  Any violation ERRORs through lake_report (ERRCODE_DATA_CORRUPTED)
 *   naming the source (the file URI), what was being decoded ("file
 *   footer") and the byte offset.
 *   Memory is palloc'd in CurrentMemoryContext.
 *
 * Writer
 *   ThriftWriter w; thrift_writer_init(&w);
 *   thrift_write_struct_begin(&w);
 *   thrift_write_i32_field(&w, 1, 42); ...
 *   thrift_write_struct_end(&w);       -> w.data / w.len
 *   Nested struct fields: thrift_write_field_begin(&w, id, THRIFT_STRUCT)
 *   then thrift_write_struct_begin/end.  Lists:
 *   thrift_write_list_field(&w, id, elemtype, n) then n elements with
 *   thrift_write_i32/i64/binary/bool_elem or struct_begin/end.
 */
#ifndef VLAKE_THRIFT_H
#define VLAKE_THRIFT_H

#include "postgres.h"

/* Compact protocol type ids (field types; list element types are the same
 * except that booleans use THRIFT_BOOL_FALSE... any of 1/2 for "bool"). */
typedef enum ThriftType
{
	THRIFT_STOP = 0,
	THRIFT_BOOL_TRUE = 1,
	THRIFT_BOOL_FALSE = 2,
	THRIFT_I8 = 3,
	THRIFT_I16 = 4,
	THRIFT_I32 = 5,
	THRIFT_I64 = 6,
	THRIFT_DOUBLE = 7,
	THRIFT_BINARY = 8,
	THRIFT_LIST = 9,
	THRIFT_SET = 10,
	THRIFT_MAP = 11,
	THRIFT_STRUCT = 12,
	THRIFT_UUID = 13
} ThriftType;

#define THRIFT_MAX_DEPTH 32

typedef struct ThriftReader
{
	const uint8 *buf;
	size_t		len;
	size_t		pos;
	int			depth;
	const char *source;			/* object name for messages (file URI) */
	const char *what;			/* what is being decoded ("file footer") */
	size_t		alloc_budget;	/* bytes thrift_alloc_array may still hand out */
} ThriftReader;

typedef struct ThriftFieldHeader
{
	int16		id;
	uint8		type;			/* ThriftType */
} ThriftFieldHeader;

extern void thrift_reader_init(ThriftReader *r, const void *buf, size_t len,
							   const char *source, const char *what);
extern size_t thrift_remaining(const ThriftReader *r);

/* ERROR through lake_report: "invalid Parquet file "<source>": <msg>",
 * DETAIL what was being decoded and the byte offset. */
extern void thrift_error(const ThriftReader *r, const char *fmt,...)
			pg_attribute_printf(2, 3) pg_attribute_noreturn();

extern void thrift_struct_enter(ThriftReader *r);
extern void thrift_struct_leave(ThriftReader *r);
/* Next field header of the current struct; false at the stop field. */
extern bool thrift_read_field(ThriftReader *r, int16 *last_id, ThriftFieldHeader *fh);

/* Field values: fh is the header just read (type is checked). */
extern bool thrift_read_bool(ThriftReader *r, const ThriftFieldHeader *fh);
extern int8 thrift_read_i8(ThriftReader *r, const ThriftFieldHeader *fh);
extern int16 thrift_read_i16(ThriftReader *r, const ThriftFieldHeader *fh);
extern int32 thrift_read_i32(ThriftReader *r, const ThriftFieldHeader *fh);
extern int64 thrift_read_i64(ThriftReader *r, const ThriftFieldHeader *fh);
/* Binary/string: pointer into the buffer (not copied) and its length. */
extern const uint8 *thrift_read_binary(ThriftReader *r, const ThriftFieldHeader *fh,
									   uint32 *len);
/* Binary copied into palloc'd memory, NUL-terminated. */
extern char *thrift_read_string(ThriftReader *r, const ThriftFieldHeader *fh, uint32 *len);
/* Check that fh is a struct field (then call thrift_struct_enter ...). */
extern void thrift_expect(ThriftReader *r, const ThriftFieldHeader *fh, ThriftType type);

/* List (or set) header; *count is bounded by the remaining bytes. */
extern void thrift_read_list(ThriftReader *r, const ThriftFieldHeader *fh,
							 uint8 *elem_type, int32 *count);
/* Elements of a list whose element type is checked by the caller. */
extern bool thrift_read_bool_elem(ThriftReader *r);
extern int32 thrift_read_i32_elem(ThriftReader *r);
extern int64 thrift_read_i64_elem(ThriftReader *r);
extern const uint8 *thrift_read_binary_elem(ThriftReader *r, uint32 *len);
extern void thrift_expect_elem(ThriftReader *r, uint8 elem_type, ThriftType want,
							   const char *field);

/* Skip a value of the given type (unknown fields), depth-limited. */
extern void thrift_skip(ThriftReader *r, uint8 type);

/* palloc0(count * size) charged to the decode budget. */
extern void *thrift_alloc_array(ThriftReader *r, int64 count, size_t size);

/* Low level varints on raw buffers (also used by page decoders). */
extern uint64 thrift_read_uvarint(ThriftReader *r, int maxbits);

/* ---------------- writer ---------------- */

/*
 * v as a ULEB128 varint into out (at most 10 bytes); returns its length.
 * The one encoder of varints: Thrift's, and those of Parquet's RLE and
 * DELTA encodings (parquet_buf_put_uleb).
 */
static inline int
thrift_uleb128(uint8 *out, uint64 v)
{
	int			n = 0;

	do
	{
		uint8		b = v & 0x7f;

		v >>= 7;
		if (v)
			b |= 0x80;
		out[n++] = b;
	} while (v);
	return n;
}

/* Zigzag mapping of a signed integer (small magnitudes, small varints). */
static inline uint64
thrift_zigzag(int64 v)
{
	return ((uint64) v << 1) ^ (uint64) (v >> 63);
}

typedef struct ThriftWriter
{
	uint8	   *data;
	size_t		len;
	size_t		cap;
	int			depth;
	int16		last_id[THRIFT_MAX_DEPTH + 1];
} ThriftWriter;

extern void thrift_writer_init(ThriftWriter *w);
extern void thrift_write_struct_begin(ThriftWriter *w);
extern void thrift_write_struct_end(ThriftWriter *w);	/* writes the stop field */
extern void thrift_write_field_begin(ThriftWriter *w, int16 id, ThriftType type);
extern void thrift_write_bool_field(ThriftWriter *w, int16 id, bool v);
extern void thrift_write_i8_field(ThriftWriter *w, int16 id, int8 v);
extern void thrift_write_i16_field(ThriftWriter *w, int16 id, int16 v);
extern void thrift_write_i32_field(ThriftWriter *w, int16 id, int32 v);
extern void thrift_write_i64_field(ThriftWriter *w, int16 id, int64 v);
extern void thrift_write_binary_field(ThriftWriter *w, int16 id, const void *data, uint32 len);
extern void thrift_write_string_field(ThriftWriter *w, int16 id, const char *s);
/* Field header + list header; then write count elements. */
extern void thrift_write_list_field(ThriftWriter *w, int16 id, ThriftType elem, int32 count);
extern void thrift_write_bool_elem(ThriftWriter *w, bool v);
extern void thrift_write_i32_elem(ThriftWriter *w, int32 v);
extern void thrift_write_i64_elem(ThriftWriter *w, int64 v);
extern void thrift_write_binary_elem(ThriftWriter *w, const void *data, uint32 len);
extern void thrift_write_raw(ThriftWriter *w, const void *data, size_t len);
extern void thrift_write_uvarint(ThriftWriter *w, uint64 v);

#endif							/* VLAKE_THRIFT_H */
