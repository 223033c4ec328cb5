/*
 * thrift.c — Thrift compact protocol reader and writer (see thrift.h).
 *
 * Kept free of backend dependencies beyond palloc and ereport so that the
 * fuzz harness (test/fuzz/) can link it with small stand-ins.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "lake/lake_error.h"
#include "parquet/thrift.h"

/* Decoded metadata may take at most this many times the input size, plus a
 * fixed allowance; far above what real footers need (~10x). */
#define THRIFT_BUDGET_FACTOR	64
#define THRIFT_BUDGET_BASE		(1024 * 1024)
#define THRIFT_BUDGET_MAX		((size_t) MaxAllocSize)	/* 1 GB in all */

static const char *
thrift_type_name(uint8 t)
{
	switch (t)
	{
		case THRIFT_BOOL_TRUE:
		case THRIFT_BOOL_FALSE:
			return "bool";
		case THRIFT_I8:
			return "i8";
		case THRIFT_I16:
			return "i16";
		case THRIFT_I32:
			return "i32";
		case THRIFT_I64:
			return "i64";
		case THRIFT_DOUBLE:
			return "double";
		case THRIFT_BINARY:
			return "binary";
		case THRIFT_LIST:
			return "list";
		case THRIFT_SET:
			return "set";
		case THRIFT_MAP:
			return "map";
		case THRIFT_STRUCT:
			return "struct";
		case THRIFT_UUID:
			return "uuid";
	}
	return "unknown";
}

void
thrift_reader_init(ThriftReader *r, const void *buf, size_t len,
				   const char *source, const char *what)
{
	r->buf = (const uint8 *) buf;
	r->len = len;
	r->pos = 0;
	r->depth = 0;
	r->source = source ? source : "(unnamed)";
	r->what = what ? what : "Thrift data";
	if (len > (THRIFT_BUDGET_MAX - THRIFT_BUDGET_BASE) / THRIFT_BUDGET_FACTOR)
		r->alloc_budget = THRIFT_BUDGET_MAX;
	else
		r->alloc_budget = THRIFT_BUDGET_BASE + len * THRIFT_BUDGET_FACTOR;
}

size_t
thrift_remaining(const ThriftReader *r)
{
	return r->len - r->pos;
}

void
thrift_error(const ThriftReader *r, const char *fmt,...)
{
	char		where[160];
	LakeErrorContext ctx = {"Parquet file", r->source, where, NULL};
	va_list		ap;

	snprintf(where, sizeof(where), "Thrift compact protocol decoding of the %s failed at byte %zu of %zu.",
			 r->what, r->pos, r->len);
	va_start(ap, fmt);
	lake_vreport(LAKE_CORRUPT, &ctx, fmt, ap);
}

static inline void
need(ThriftReader *r, size_t n, const char *what)
{
	if (n > r->len - r->pos)
		thrift_error(r, "truncated %s (need %zu bytes, %zu left)",
					 what, n, r->len - r->pos);
}

static inline uint8
read_byte(ThriftReader *r, const char *what)
{
	need(r, 1, what);
	return r->buf[r->pos++];
}

uint64
thrift_read_uvarint(ThriftReader *r, int maxbits)
{
	uint64		v = 0;
	int			shift = 0;

	for (;;)
	{
		uint8		b = read_byte(r, "varint");

		if (shift >= maxbits || (shift > 0 && maxbits - shift < 7 &&
								 (b & 0x7f) >> (maxbits - shift) != 0))
			thrift_error(r, "varint overflows %d bits", maxbits);
		v |= (uint64) (b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			break;
		shift += 7;
	}
	return v;
}

static inline int64
unzigzag(uint64 v)
{
	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

static int64
read_zigzag(ThriftReader *r, int bits)
{
	return unzigzag(thrift_read_uvarint(r, bits));
}

void
thrift_struct_enter(ThriftReader *r)
{
	if (++r->depth > THRIFT_MAX_DEPTH)
		thrift_error(r, "structures nested deeper than %d levels", THRIFT_MAX_DEPTH);
}

void
thrift_struct_leave(ThriftReader *r)
{
	Assert(r->depth > 0);
	r->depth--;
}

bool
thrift_read_field(ThriftReader *r, int16 *last_id, ThriftFieldHeader *fh)
{
	uint8		b = read_byte(r, "field header");
	uint8		delta = b >> 4;
	uint8		type = b & 0x0f;

	if (type == THRIFT_STOP)
	{
		if (delta != 0)
			thrift_error(r, "malformed stop field 0x%02x", b);
		return false;
	}
	if (type > THRIFT_UUID)
		thrift_error(r, "unknown field type %d", type);
	if (delta != 0)
	{
		int32		id = (int32) *last_id + delta;

		if (id > PG_INT16_MAX)
			thrift_error(r, "field id overflows i16");
		fh->id = (int16) id;
	}
	else
		fh->id = (int16) read_zigzag(r, 16);
	fh->type = type;
	*last_id = fh->id;
	return true;
}

void
thrift_expect(ThriftReader *r, const ThriftFieldHeader *fh, ThriftType type)
{
	bool		ok;

	if (type == THRIFT_BOOL_TRUE || type == THRIFT_BOOL_FALSE)
		ok = (fh->type == THRIFT_BOOL_TRUE || fh->type == THRIFT_BOOL_FALSE);
	else
		ok = (fh->type == type);
	if (!ok)
		thrift_error(r, "field %d has type %s, expected %s",
					 fh->id, thrift_type_name(fh->type), thrift_type_name(type));
}

bool
thrift_read_bool(ThriftReader *r, const ThriftFieldHeader *fh)
{
	thrift_expect(r, fh, THRIFT_BOOL_TRUE);
	return fh->type == THRIFT_BOOL_TRUE;
}

int8
thrift_read_i8(ThriftReader *r, const ThriftFieldHeader *fh)
{
	thrift_expect(r, fh, THRIFT_I8);
	return (int8) read_byte(r, "i8");
}

int16
thrift_read_i16(ThriftReader *r, const ThriftFieldHeader *fh)
{
	thrift_expect(r, fh, THRIFT_I16);
	return (int16) read_zigzag(r, 16);
}

int32
thrift_read_i32(ThriftReader *r, const ThriftFieldHeader *fh)
{
	thrift_expect(r, fh, THRIFT_I32);
	return (int32) read_zigzag(r, 32);
}

int64
thrift_read_i64(ThriftReader *r, const ThriftFieldHeader *fh)
{
	thrift_expect(r, fh, THRIFT_I64);
	return read_zigzag(r, 64);
}

const uint8 *
thrift_read_binary_elem(ThriftReader *r, uint32 *len)
{
	uint64		n = thrift_read_uvarint(r, 32);
	const uint8 *p;

	if (n > PG_INT32_MAX)
		thrift_error(r, "negative binary length");
	need(r, n, "binary value");
	p = r->buf + r->pos;
	r->pos += n;
	*len = (uint32) n;
	return p;
}

const uint8 *
thrift_read_binary(ThriftReader *r, const ThriftFieldHeader *fh, uint32 *len)
{
	thrift_expect(r, fh, THRIFT_BINARY);
	return thrift_read_binary_elem(r, len);
}

char *
thrift_read_string(ThriftReader *r, const ThriftFieldHeader *fh, uint32 *len)
{
	uint32		n;
	const uint8 *p = thrift_read_binary(r, fh, &n);
	char	   *s = thrift_alloc_array(r, (int64) n + 1, 1);

	memcpy(s, p, n);
	s[n] = '\0';
	if (len)
		*len = n;
	return s;
}

static void
read_list_header(ThriftReader *r, uint8 *elem_type, int32 *count)
{
	uint8		b = read_byte(r, "list header");
	uint64		n = b >> 4;
	size_t		minsize;

	*elem_type = b & 0x0f;
	if (n == 15)
	{
		n = thrift_read_uvarint(r, 32);
		if (n > PG_INT32_MAX)
			thrift_error(r, "negative list size");
	}
	if (*elem_type == THRIFT_STOP || *elem_type > THRIFT_UUID)
		thrift_error(r, "unknown list element type %d", *elem_type);
	/* every element takes at least one byte (doubles 8, uuids 16) */
	minsize = (*elem_type == THRIFT_DOUBLE) ? 8 : (*elem_type == THRIFT_UUID) ? 16 : 1;
	if (n > thrift_remaining(r) / minsize)
		thrift_error(r, "list of %llu elements exceeds the %zu bytes left",
					 (unsigned long long) n, thrift_remaining(r));
	*count = (int32) n;
}

void
thrift_read_list(ThriftReader *r, const ThriftFieldHeader *fh,
				 uint8 *elem_type, int32 *count)
{
	if (fh->type != THRIFT_LIST && fh->type != THRIFT_SET)
		thrift_error(r, "field %d has type %s, expected list",
					 fh->id, thrift_type_name(fh->type));
	read_list_header(r, elem_type, count);
}

void
thrift_expect_elem(ThriftReader *r, uint8 elem_type, ThriftType want, const char *field)
{
	bool		ok;

	if (want == THRIFT_BOOL_TRUE || want == THRIFT_BOOL_FALSE)
		ok = (elem_type == THRIFT_BOOL_TRUE || elem_type == THRIFT_BOOL_FALSE);
	else
		ok = (elem_type == want);
	if (!ok)
		thrift_error(r, "list %s has elements of type %s, expected %s",
					 field, thrift_type_name(elem_type), thrift_type_name(want));
}

bool
thrift_read_bool_elem(ThriftReader *r)
{
	/* the spec writes 1 for true; writers use 0 or 2 for false */
	return read_byte(r, "bool") == 1;
}

int32
thrift_read_i32_elem(ThriftReader *r)
{
	return (int32) read_zigzag(r, 32);
}

int64
thrift_read_i64_elem(ThriftReader *r)
{
	return read_zigzag(r, 64);
}

void
thrift_skip(ThriftReader *r, uint8 type)
{
	CHECK_FOR_INTERRUPTS();
	switch (type)
	{
		case THRIFT_BOOL_TRUE:
		case THRIFT_BOOL_FALSE:
			/* as a field the value is in the type; as an element, one byte.
			 * Callers skipping list elements pass the element type and we
			 * consume the byte in skip_elements(). */
			break;
		case THRIFT_I8:
			(void) read_byte(r, "i8");
			break;
		case THRIFT_I16:
		case THRIFT_I32:
		case THRIFT_I64:
			(void) thrift_read_uvarint(r, 64);
			break;
		case THRIFT_DOUBLE:
			need(r, 8, "double");
			r->pos += 8;
			break;
		case THRIFT_UUID:
			need(r, 16, "uuid");
			r->pos += 16;
			break;
		case THRIFT_BINARY:
			{
				uint32		len;

				(void) thrift_read_binary_elem(r, &len);
				break;
			}
		case THRIFT_STRUCT:
			{
				int16		last = 0;
				ThriftFieldHeader fh;

				thrift_struct_enter(r);
				while (thrift_read_field(r, &last, &fh))
					thrift_skip(r, fh.type);
				thrift_struct_leave(r);
				break;
			}
		case THRIFT_LIST:
		case THRIFT_SET:
			{
				uint8		et;
				int32		n;

				thrift_struct_enter(r);
				read_list_header(r, &et, &n);
				for (int32 i = 0; i < n; i++)
				{
					if (et == THRIFT_BOOL_TRUE || et == THRIFT_BOOL_FALSE)
						(void) read_byte(r, "bool");
					else
						thrift_skip(r, et);
				}
				thrift_struct_leave(r);
				break;
			}
		case THRIFT_MAP:
			{
				uint64		n = thrift_read_uvarint(r, 32);
				uint8		kt = 0,
							vt = 0;

				if (n > PG_INT32_MAX)
					thrift_error(r, "negative map size");
				if (n > 0)
				{
					uint8		b = read_byte(r, "map header");

					kt = b >> 4;
					vt = b & 0x0f;
					if (kt == 0 || kt > THRIFT_UUID || vt == 0 || vt > THRIFT_UUID)
						thrift_error(r, "unknown map element types 0x%02x", b);
				}
				if (n > thrift_remaining(r) / 2)
					thrift_error(r, "map of %llu entries exceeds the bytes left",
								 (unsigned long long) n);
				thrift_struct_enter(r);
				for (uint64 i = 0; i < n; i++)
				{
					if (kt <= THRIFT_BOOL_FALSE)
						(void) read_byte(r, "bool");
					else
						thrift_skip(r, kt);
					if (vt <= THRIFT_BOOL_FALSE)
						(void) read_byte(r, "bool");
					else
						thrift_skip(r, vt);
				}
				thrift_struct_leave(r);
				break;
			}
		default:
			thrift_error(r, "cannot skip value of unknown type %d", type);
	}
}

void *
thrift_alloc_array(ThriftReader *r, int64 count, size_t size)
{
	size_t		bytes;

	if (count < 0 || (count > 0 && (size_t) count > r->alloc_budget / Max(size, 1)))
		thrift_error(r, "decoded metadata would exceed %zu bytes (%lld elements of %zu bytes)",
					 r->alloc_budget, (long long) count, size);
	bytes = (size_t) count * size;
	r->alloc_budget -= bytes;
	return palloc0(Max(bytes, 1));
}

/* ---------------------------------------------------------------- writer */

void
thrift_writer_init(ThriftWriter *w)
{
	w->cap = 256;
	w->data = palloc(w->cap);
	w->len = 0;
	w->depth = 0;
	w->last_id[0] = 0;
}

void
thrift_write_raw(ThriftWriter *w, const void *data, size_t len)
{
	if (len > w->cap - w->len)
	{
		size_t		newcap = w->cap;

		while (len > newcap - w->len)
		{
			if (newcap > MaxAllocHugeSize / 2)
				elog(ERROR, "Thrift output exceeds the maximum allocation size");
			newcap *= 2;
		}
		w->data = repalloc_huge(w->data, newcap);
		w->cap = newcap;
	}
	memcpy(w->data + w->len, data, len);
	w->len += len;
}

static inline void
write_byte(ThriftWriter *w, uint8 b)
{
	thrift_write_raw(w, &b, 1);
}

void
thrift_write_uvarint(ThriftWriter *w, uint64 v)
{
	uint8		buf[10];

	thrift_write_raw(w, buf, thrift_uleb128(buf, v));
}

static inline void
write_zigzag(ThriftWriter *w, int64 v)
{
	thrift_write_uvarint(w, thrift_zigzag(v));
}

void
thrift_write_struct_begin(ThriftWriter *w)
{
	if (w->depth >= THRIFT_MAX_DEPTH)
		elog(ERROR, "Thrift structures nested deeper than %d levels", THRIFT_MAX_DEPTH);
	w->last_id[++w->depth] = 0;
}

void
thrift_write_struct_end(ThriftWriter *w)
{
	Assert(w->depth > 0);
	write_byte(w, THRIFT_STOP);
	w->depth--;
}

void
thrift_write_field_begin(ThriftWriter *w, int16 id, ThriftType type)
{
	int16		last = w->last_id[w->depth];

	if (id > last && id - last <= 15)
		write_byte(w, (uint8) (((id - last) << 4) | type));
	else
	{
		write_byte(w, (uint8) type);
		write_zigzag(w, id);
	}
	w->last_id[w->depth] = id;
}

void
thrift_write_bool_field(ThriftWriter *w, int16 id, bool v)
{
	thrift_write_field_begin(w, id, v ? THRIFT_BOOL_TRUE : THRIFT_BOOL_FALSE);
}

void
thrift_write_i8_field(ThriftWriter *w, int16 id, int8 v)
{
	thrift_write_field_begin(w, id, THRIFT_I8);
	write_byte(w, (uint8) v);
}

void
thrift_write_i16_field(ThriftWriter *w, int16 id, int16 v)
{
	thrift_write_field_begin(w, id, THRIFT_I16);
	write_zigzag(w, v);
}

void
thrift_write_i32_field(ThriftWriter *w, int16 id, int32 v)
{
	thrift_write_field_begin(w, id, THRIFT_I32);
	write_zigzag(w, v);
}

void
thrift_write_i64_field(ThriftWriter *w, int16 id, int64 v)
{
	thrift_write_field_begin(w, id, THRIFT_I64);
	write_zigzag(w, v);
}

void
thrift_write_binary_elem(ThriftWriter *w, const void *data, uint32 len)
{
	thrift_write_uvarint(w, len);
	thrift_write_raw(w, data, len);
}

void
thrift_write_binary_field(ThriftWriter *w, int16 id, const void *data, uint32 len)
{
	thrift_write_field_begin(w, id, THRIFT_BINARY);
	thrift_write_binary_elem(w, data, len);
}

void
thrift_write_string_field(ThriftWriter *w, int16 id, const char *s)
{
	thrift_write_binary_field(w, id, s, (uint32) strlen(s));
}

void
thrift_write_list_field(ThriftWriter *w, int16 id, ThriftType elem, int32 count)
{
	thrift_write_field_begin(w, id, THRIFT_LIST);
	if (elem == THRIFT_BOOL_TRUE)
		elem = THRIFT_BOOL_FALSE;	/* the spec's element type for bool is 2 */
	if (count < 15)
		write_byte(w, (uint8) ((count << 4) | elem));
	else
	{
		write_byte(w, (uint8) (0xf0 | elem));
		thrift_write_uvarint(w, (uint32) count);
	}
}

void
thrift_write_bool_elem(ThriftWriter *w, bool v)
{
	write_byte(w, v ? 1 : 2);
}

void
thrift_write_i32_elem(ThriftWriter *w, int32 v)
{
	write_zigzag(w, v);
}

void
thrift_write_i64_elem(ThriftWriter *w, int64 v)
{
	write_zigzag(w, v);
}
