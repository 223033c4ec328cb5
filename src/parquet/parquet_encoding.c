/*
 * parquet_encoding.c — Parquet encodings, written from parquet-format Encodings.md.
 *
 * Decoders treat their input as hostile: every header field is checked
 * against the remaining bytes and the caller's value count before use, all
 * integer arithmetic on decoded values wraps in unsigned types (DELTA
 * encodings), and nothing is allocated from a size read from the input
 * without a caller-provided bound.
 */
#include "postgres.h"

#include "parquet/parquet_encoding.h"
#include "utils/memutils.h"

#define RLE_MAX_RUN		((uint64) PG_INT32_MAX)	/* Encodings.md: runs < 2^31 */
#define DELTA_BLOCK		128		/* values per block we write */
#define DELTA_MINIBLOCKS 4		/* miniblocks per block we write */
#define DELTA_MB_VALUES (DELTA_BLOCK / DELTA_MINIBLOCKS)

/* ------------------------------------------------------------- errors -- */

static const LakeErrorContext unnamed_data = {"Parquet data", "(unnamed)", NULL, NULL};

/* Innermost scope's callback: a marker (the place goes into DETAIL). */
static void
decode_scope_marker(void *arg)
{
}

void
parquet_decode_begin(ParquetDecodeScope *scope, ParquetDescribeFn describe, void *arg)
{
	scope->describe = describe;
	scope->cb.callback = decode_scope_marker;
	scope->cb.arg = arg;
	scope->cb.previous = error_context_stack;
	error_context_stack = &scope->cb;
}

void
parquet_decode_end(ParquetDecodeScope *scope)
{
	error_context_stack = scope->cb.previous;
}

const LakeErrorContext *
parquet_decode_context(void)
{
	for (ErrorContextCallback *cb = error_context_stack; cb; cb = cb->previous)
		if (cb->callback == decode_scope_marker)
			return ((ParquetDecodeScope *) cb)->describe(cb->arg);
	return &unnamed_data;
}

static void pg_attribute_noreturn()
corrupt(const char *encoding, const char *fmt,...) pg_attribute_printf(2, 3);

/* "invalid Parquet file "<uri>": corrupt <encoding> data: <reason>" */
static void
corrupt(const char *encoding, const char *fmt,...)
{
	char		reason[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	lake_report(LAKE_CORRUPT, parquet_decode_context(), "corrupt %s data: %s", encoding, reason);
}

/* ---------------------------------------------------------------- PqBuf -- */

void
parquet_buf_init(PqBuf *b, size_t initial)
{
	b->cap = Max(initial, 64);
	b->data = palloc(b->cap);
	b->len = 0;
}

void
parquet_buf_reserve(PqBuf *b, size_t more)
{
	size_t		need = b->len + more;

	if (need <= b->cap)
		return;
	if (need > MaxAllocHugeSize / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Parquet buffer of %zu bytes is too large", need)));
	while (b->cap < need)
		b->cap *= 2;
	b->data = repalloc_huge(b->data, b->cap);
}

void
parquet_buf_append(PqBuf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	parquet_buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void
parquet_buf_free(PqBuf *b)
{
	if (b->data)
		pfree(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
parquet_buf_put_uleb(PqBuf *b, uint64 v)
{
	uint8		tmp[10];

	parquet_buf_append(b, tmp, thrift_uleb128(tmp, v));
}

void
parquet_buf_put_zigzag(PqBuf *b, int64 v)
{
	parquet_buf_put_uleb(b, thrift_zigzag(v));
}

void
parquet_buf_put_le32(PqBuf *b, uint32 v)
{
	parquet_buf_append(b, &v, 4);
}

int
parquet_bit_width(uint64 v)
{
	return v == 0 ? 0 : 64 - __builtin_clzll(v);
}

uint64
parquet_read_uleb(const uint8 **p, const uint8 *end)
{
	uint64		v = 0;
	int			shift = 0;
	const uint8 *q = *p;

	for (;;)
	{
		uint8		byte;

		if (q >= end)
			corrupt("varint", "a ULEB128 integer runs past the end of the data");
		byte = *q++;
		if (shift == 63 && (byte & 0x7e))
			corrupt("varint", "a ULEB128 integer does not fit in 64 bits");
		v |= (uint64) (byte & 0x7f) << shift;
		if (!(byte & 0x80))
			break;
		shift += 7;
		if (shift > 63)
			corrupt("varint", "a ULEB128 integer is longer than 10 bytes");
	}
	*p = q;
	return v;
}

int64
parquet_read_zigzag(const uint8 **p, const uint8 *end)
{
	uint64		u = parquet_read_uleb(p, end);

	return (int64) ((u >> 1) ^ (~(u & 1) + 1));
}

/* ----------------------------------------------------------- bit packing -- */

/*
 * Value number idx of width bw (0..64) from an LSB-first bit-packed area of
 * inlen bytes; the caller has checked that the bits lie inside the area.
 */
static inline uint64
get_packed(const uint8 *in, size_t inlen, uint64 idx, int bw)
{
	uint64		bitpos = idx * (uint64) bw;
	size_t		byte = bitpos >> 3;
	int			off = bitpos & 7;
	uint64		v = 0;
	int			got = 0;

	if (bw == 0)
		return 0;
	if (byte + 8 <= inlen && off + bw <= 64)
	{
		uint64		w;

		memcpy(&w, in + byte, 8);
		w >>= off;
		return bw == 64 ? w : (w & ((UINT64CONST(1) << bw) - 1));
	}
	while (got < bw)
	{
		int			take = Min(8 - off, bw - got);

		v |= (uint64) ((in[byte] >> off) & ((1u << take) - 1)) << got;
		got += take;
		byte++;
		off = 0;
	}
	return v;
}

/* Append count values of bw bits, LSB first, padded to a whole byte. */
static void
put_packed(PqBuf *b, const uint64 *vals, int64 count, int bw)
{
	uint64		acc = 0;
	int			nbits = 0;
	size_t		nbytes = ((uint64) count * bw + 7) / 8;
	uint8	   *out;
	size_t		o = 0;

	parquet_buf_reserve(b, nbytes);
	out = (uint8 *) b->data + b->len;
	for (int64 i = 0; i < count && bw > 0; i++)
	{
		uint64		v = vals[i];
		int			left = bw;

		if (bw < 64)
			v &= (UINT64CONST(1) << bw) - 1;
		while (left > 0)
		{
			int			piece = Min(left, 32);
			uint64		part = v & ((UINT64CONST(1) << piece) - 1);

			acc |= part << nbits;
			nbits += piece;
			v = piece == 64 ? 0 : v >> piece;
			left -= piece;
			while (nbits >= 8)
			{
				out[o++] = (uint8) acc;
				acc >>= 8;
				nbits -= 8;
			}
		}
	}
	if (nbits > 0)
		out[o++] = (uint8) acc;
	Assert(o == nbytes);
	b->len += nbytes;
}

/* ----------------------------------------------------------------- PLAIN -- */

int
parquet_plain_width(int phys_type, int type_length)
{
	switch (phys_type)
	{
		case PARQUET_INT32:
		case PARQUET_FLOAT:
			return 4;
		case PARQUET_INT64:
		case PARQUET_DOUBLE:
			return 8;
		case PARQUET_INT96:
			return 12;
		case PARQUET_FIXED_LEN_BYTE_ARRAY:
			return type_length;
		default:
			return -1;
	}
}

size_t
parquet_plain_decode_fixed(const uint8 *buf, size_t len, int width, int64 n, void *out)
{
	uint64		need;

	if (width <= 0 || n < 0)
		corrupt("PLAIN", "invalid value width %d or count " INT64_FORMAT, width, n);
	if ((uint64) n > len / (uint64) width)
		corrupt("PLAIN", "page holds %zu bytes, too few for " INT64_FORMAT " values of %d bytes",
				len, n, width);
	need = (uint64) n * width;
	if (need > 0)
		memcpy(out, buf, need);
	return need;
}

size_t
parquet_plain_decode_bool(const uint8 *buf, size_t len, int64 n, bool *out)
{
	uint64		need;

	if (n < 0 || (uint64) n > (uint64) len * 8)
		corrupt("PLAIN", "page holds %zu bytes, too few for " INT64_FORMAT " booleans", len, n);
	need = ((uint64) n + 7) / 8;
	for (int64 i = 0; i < n; i++)
		out[i] = (buf[i >> 3] >> (i & 7)) & 1;
	return need;
}

size_t
parquet_plain_decode_byte_array(const uint8 *buf, size_t len, int64 n, PqByteArray *out)
{
	size_t		pos = 0;

	for (int64 i = 0; i < n; i++)
	{
		uint32		l;

		if (len - pos < 4)
			corrupt("PLAIN", "byte array " INT64_FORMAT " of " INT64_FORMAT " has a truncated length prefix",
					i, n);
		memcpy(&l, buf + pos, 4);
		pos += 4;
		if (l > len - pos)
			corrupt("PLAIN", "byte array " INT64_FORMAT " claims %u bytes but only %zu remain in the page",
					i, l, len - pos);
		out[i].ptr = (const char *) buf + pos;
		out[i].len = l;
		pos += l;
	}
	return pos;
}

void
parquet_plain_encode_fixed(PqBuf *b, const void *vals, int width, int64 n)
{
	parquet_buf_append(b, vals, (size_t) width * n);
}

void
parquet_plain_encode_bool(PqBuf *b, const bool *vals, int64 n)
{
	size_t		nbytes = ((uint64) n + 7) / 8;
	uint8	   *out;

	parquet_buf_reserve(b, nbytes);
	out = (uint8 *) b->data + b->len;
	memset(out, 0, nbytes);
	for (int64 i = 0; i < n; i++)
		if (vals[i])
			out[i >> 3] |= 1 << (i & 7);
	b->len += nbytes;
}

void
parquet_plain_encode_byte_array(PqBuf *b, const char *val, uint32 len)
{
	parquet_buf_reserve(b, 4 + (size_t) len);
	parquet_buf_put_le32(b, len);
	parquet_buf_append(b, val, len);
}

/* ----------------------------------------------- RLE / bit-packed hybrid -- */

size_t
parquet_rle_decode(const uint8 *buf, size_t len, int bit_width, int64 n, uint32 *out)
{
	const uint8 *p = buf;
	const uint8 *end = buf + len;
	int64		i = 0;
	int			vbytes = (bit_width + 7) / 8;

	if (bit_width < 0 || bit_width > 32)
		corrupt("RLE", "bit width %d is outside 0..32", bit_width);
	if (n < 0)
		corrupt("RLE", "negative value count");
	if (bit_width == 0 && len == 0)
	{
		/* all values are zero; some writers emit no runs at all */
		memset(out, 0, sizeof(uint32) * n);
		return 0;
	}
	while (i < n)
	{
		uint64		hdr;

		if (p >= end)
			corrupt("RLE", "data ends after " INT64_FORMAT " of " INT64_FORMAT " values", i, n);
		hdr = parquet_read_uleb(&p, end);
		if (hdr & 1)
		{
			uint64		groups = hdr >> 1;
			uint64		count = groups * 8;
			uint64		nbytes = groups * bit_width;
			size_t		avail = end - p;
			int64		take;
			uint64		need;

			if (groups > RLE_MAX_RUN / 8)
				corrupt("RLE", "bit-packed run of " UINT64_FORMAT " groups is too long", groups);
			take = (int64) Min(count, (uint64) (n - i));
			need = ((uint64) take * bit_width + 7) / 8;
			if (need > avail)
				corrupt("RLE", "bit-packed run needs " UINT64_FORMAT " bytes but only %zu remain",
						need, avail);
			for (int64 k = 0; k < take; k++)
				out[i + k] = (uint32) get_packed(p, avail, k, bit_width);
			p += Min(nbytes, (uint64) avail);
			i += take;
		}
		else
		{
			uint64		run = hdr >> 1;
			uint32		v = 0;
			int64		take;

			if (run > RLE_MAX_RUN)
				corrupt("RLE", "run of " UINT64_FORMAT " values is too long", run);
			if (end - p < vbytes)
				corrupt("RLE", "repeated value is truncated");
			for (int k = 0; k < vbytes; k++)
				v |= (uint32) p[k] << (8 * k);
			p += vbytes;
			if (bit_width < 32 && (v >> bit_width) != 0)
				corrupt("RLE", "repeated value %u does not fit in %d bits", v, bit_width);
			take = (int64) Min(run, (uint64) (n - i));
			for (int64 k = 0; k < take; k++)
				out[i + k] = v;
			i += take;
		}
	}
	return p - buf;
}

size_t
parquet_rle_decode_prefixed(const uint8 *buf, size_t len, int bit_width, int64 n,
					   uint32 *out)
{
	uint32		l;

	if (len < 4)
		corrupt("RLE", "length prefix is truncated (%zu bytes)", len);
	memcpy(&l, buf, 4);
	if (l > len - 4)
		corrupt("RLE", "length prefix says %u bytes but only %zu remain", l, len - 4);
	parquet_rle_decode(buf + 4, l, bit_width, n, out);
	return 4 + (size_t) l;
}

size_t
parquet_dict_indices_decode(const uint8 *buf, size_t len, int64 n, uint32 dict_size,
					   uint32 *out)
{
	int			bw;
	size_t		used;

	if (n == 0)
		return Min(len, 1);
	if (len < 1)
		corrupt("RLE_DICTIONARY", "page has no bit-width byte");
	bw = buf[0];
	if (bw > 32)
		corrupt("RLE_DICTIONARY", "bit width %d exceeds 32", bw);
	used = 1 + parquet_rle_decode(buf + 1, len - 1, bw, n, out);
	for (int64 i = 0; i < n; i++)
		if (out[i] >= dict_size)
			corrupt("RLE_DICTIONARY", "index %u at position " INT64_FORMAT " is outside the dictionary of %u entries",
					out[i], i, dict_size);
	return used;
}

static void
rle_put_repeated(PqBuf *b, uint32 v, uint64 count, int bit_width)
{
	int			vbytes = (bit_width + 7) / 8;

	while (count > 0)
	{
		uint64		run = Min(count, RLE_MAX_RUN);

		parquet_buf_put_uleb(b, run << 1);
		parquet_buf_append(b, &v, vbytes);	/* little-endian host */
		count -= run;
	}
}

/* Literal run of count values (count a multiple of 8, or padded here). */
static void
rle_put_literal(PqBuf *b, const uint32 *vals, int64 count, int bit_width)
{
	while (count > 0)
	{
		int64		chunk = Min(count, (int64) 504 * 8);	/* keep headers short */
		int64		groups = (chunk + 7) / 8;
		uint64		tmp[8];

		parquet_buf_put_uleb(b, ((uint64) groups << 1) | 1);
		for (int64 g = 0; g < groups; g++)
		{
			for (int k = 0; k < 8; k++)
			{
				int64		idx = g * 8 + k;

				tmp[k] = idx < chunk ? vals[idx] : 0;
			}
			put_packed(b, tmp, 8, bit_width);
		}
		vals += chunk;
		count -= chunk;
	}
}

/*
 * Runs of 8 or more equal values become RLE runs; everything else is
 * bit-packed in groups of 8 (the last group zero-padded; readers stop at
 * their value count).
 */
void
parquet_rle_encode(PqBuf *b, const uint32 *vals, int64 n, int bit_width)
{
	int64		lit_start = 0;
	int64		i = 0;

	Assert(bit_width >= 0 && bit_width <= 32);
	while (i < n)
	{
		int64		r = 1;

		while (i + r < n && vals[i + r] == vals[i])
			r++;
		if (r >= 8)
		{
			int64		pending = i - lit_start;

			if (pending % 8 != 0)
			{
				int64		k = 8 - pending % 8;

				i += k;
				r -= k;
			}
			if (r >= 8)
			{
				if (i > lit_start)
					rle_put_literal(b, vals + lit_start, i - lit_start, bit_width);
				rle_put_repeated(b, vals[i], r, bit_width);
				i += r;
				lit_start = i;
			}
			continue;
		}
		i += r;
	}
	if (n > lit_start)
		rle_put_literal(b, vals + lit_start, n - lit_start, bit_width);
}

void
parquet_rle_encode_prefixed(PqBuf *b, const uint32 *vals, int64 n, int bit_width)
{
	size_t		at = b->len;
	uint32		l;

	parquet_buf_put_le32(b, 0);
	parquet_rle_encode(b, vals, n, bit_width);
	l = (uint32) (b->len - at - 4);
	memcpy(b->data + at, &l, 4);
}

void
parquet_dict_indices_encode(PqBuf *b, const uint32 *idx, int64 n, uint32 dict_size)
{
	uint8		bw = (uint8) parquet_bit_width(dict_size > 0 ? dict_size - 1 : 0);

	parquet_buf_append(b, &bw, 1);
	parquet_rle_encode(b, idx, n, bw);
}

/* ------------------------------------------------- DELTA_BINARY_PACKED -- */

/*
 * Core decoder: values are produced as uint64 with wrapping arithmetic; the
 * int32 variant truncates, which gives the same result as 32-bit wrapping.
 */
static size_t
delta_decode(const uint8 *buf, size_t len, int64 max_values, bool is32,
			 int64 *out64, int32 *out32, int64 *nvalues)
{
	const uint8 *p = buf;
	const uint8 *end = buf + len;
	uint64		block_size,
				mb_count,
				total,
				mb_values;
	uint64		last;
	uint64		i;

	block_size = parquet_read_uleb(&p, end);
	mb_count = parquet_read_uleb(&p, end);
	total = parquet_read_uleb(&p, end);
	last = (uint64) parquet_read_zigzag(&p, end);

	if (block_size == 0 || block_size % 128 != 0 || block_size > PG_INT32_MAX)
		corrupt("DELTA_BINARY_PACKED", "block size " UINT64_FORMAT " is not a positive multiple of 128",
				block_size);
	if (mb_count == 0 || block_size % mb_count != 0 ||
		(block_size / mb_count) % 32 != 0)
		corrupt("DELTA_BINARY_PACKED", "miniblock count " UINT64_FORMAT " does not divide block size " UINT64_FORMAT " into multiples of 32",
				mb_count, block_size);
	if (total > (uint64) max_values)
		corrupt("DELTA_BINARY_PACKED", "header declares " UINT64_FORMAT " values but at most " INT64_FORMAT " are expected",
				total, max_values);
	mb_values = block_size / mb_count;
	*nvalues = (int64) total;
	if (total == 0)
		return p - buf;

	if (is32)
		out32[0] = (int32) last;
	else
		out64[0] = (int64) last;
	i = 1;
	while (i < total)
	{
		uint64		min_delta = (uint64) parquet_read_zigzag(&p, end);
		const uint8 *widths;

		if ((uint64) (end - p) < mb_count)
			corrupt("DELTA_BINARY_PACKED", "miniblock bit widths are truncated");
		widths = p;
		p += mb_count;
		for (uint64 mb = 0; mb < mb_count && i < total; mb++)
		{
			int			bw = widths[mb];
			uint64		nbytes = mb_values * bw / 8;
			size_t		avail = end - p;
			uint64		take = Min(mb_values, total - i);
			uint64		need;

			if (bw > (is32 ? 32 : 64))
				corrupt("DELTA_BINARY_PACKED", "miniblock bit width %d exceeds the %d bits of the type",
						bw, is32 ? 32 : 64);
			need = (take * bw + 7) / 8;
			if (need > avail)
				corrupt("DELTA_BINARY_PACKED", "miniblock needs " UINT64_FORMAT " bytes but only %zu remain",
						need, avail);
			for (uint64 k = 0; k < take; k++)
			{
				last += min_delta + get_packed(p, avail, k, bw);
				if (is32)
					out32[i + k] = (int32) (uint32) last;
				else
					out64[i + k] = (int64) last;
			}
			p += Min(nbytes, (uint64) avail);
			i += take;
		}
	}
	return p - buf;
}

size_t
parquet_delta_decode_int64(const uint8 *buf, size_t len, int64 max_values,
					  int64 *out, int64 *nvalues)
{
	return delta_decode(buf, len, max_values, false, out, NULL, nvalues);
}

size_t
parquet_delta_decode_int32(const uint8 *buf, size_t len, int64 max_values,
					  int32 *out, int64 *nvalues)
{
	return delta_decode(buf, len, max_values, true, NULL, out, nvalues);
}

/* vals are given as int64; for int32 data the deltas wrap in 32 bits. */
static void
delta_encode(PqBuf *b, const int64 *vals, int64 n, bool is32)
{
	int64		deltas[DELTA_BLOCK];
	uint64		packed[DELTA_BLOCK];
	int64		i;

	parquet_buf_put_uleb(b, DELTA_BLOCK);
	parquet_buf_put_uleb(b, DELTA_MINIBLOCKS);
	parquet_buf_put_uleb(b, (uint64) n);
	parquet_buf_put_zigzag(b, n > 0 ? vals[0] : 0);

	i = 1;
	while (i < n)
	{
		int			cnt = (int) Min((int64) DELTA_BLOCK, n - i);
		int64		min_delta = PG_INT64_MAX;
		uint8		widths[DELTA_MINIBLOCKS];

		for (int k = 0; k < cnt; k++)
		{
			uint64		d = (uint64) vals[i + k] - (uint64) vals[i + k - 1];

			deltas[k] = is32 ? (int64) (int32) (uint32) d : (int64) d;
			min_delta = Min(min_delta, deltas[k]);
		}
		for (int k = 0; k < DELTA_BLOCK; k++)
		{
			if (k < cnt)
			{
				packed[k] = (uint64) deltas[k] - (uint64) min_delta;
				if (is32)
					packed[k] &= 0xffffffff;
			}
			else
				packed[k] = 0;
		}
		parquet_buf_put_zigzag(b, min_delta);
		for (int m = 0; m < DELTA_MINIBLOCKS; m++)
		{
			uint64		all = 0;

			for (int k = m * DELTA_MB_VALUES; k < (m + 1) * DELTA_MB_VALUES && k < cnt; k++)
				all |= packed[k];
			widths[m] = (uint8) parquet_bit_width(all);
		}
		parquet_buf_append(b, widths, DELTA_MINIBLOCKS);
		for (int m = 0; m < DELTA_MINIBLOCKS && m * DELTA_MB_VALUES < cnt; m++)
			put_packed(b, packed + m * DELTA_MB_VALUES, DELTA_MB_VALUES, widths[m]);
		i += cnt;
	}
}

void
parquet_delta_encode_int64(PqBuf *b, const int64 *vals, int64 n)
{
	delta_encode(b, vals, n, false);
}

void
parquet_delta_encode_int32(PqBuf *b, const int32 *vals, int64 n)
{
	int64	   *wide = palloc(sizeof(int64) * Max(n, 1));

	for (int64 i = 0; i < n; i++)
		wide[i] = vals[i];
	delta_encode(b, wide, n, true);
	pfree(wide);
}

/* -------------------------------------------- DELTA_LENGTH_BYTE_ARRAY -- */

size_t
parquet_delta_length_decode(const uint8 *buf, size_t len, int64 max_values,
					   PqByteArray *out, int64 *nvalues)
{
	int64		n;
	int32	   *lens = palloc(sizeof(int32) * Max(max_values, 1));
	size_t		pos;

	pos = parquet_delta_decode_int32(buf, len, max_values, lens, &n);
	for (int64 i = 0; i < n; i++)
	{
		if (lens[i] < 0)
			corrupt("DELTA_LENGTH_BYTE_ARRAY", "value " INT64_FORMAT " has negative length %d", i, lens[i]);
		if ((size_t) lens[i] > len - pos)
			corrupt("DELTA_LENGTH_BYTE_ARRAY", "value " INT64_FORMAT " claims %d bytes but only %zu remain",
					i, lens[i], len - pos);
		out[i].ptr = (const char *) buf + pos;
		out[i].len = (uint32) lens[i];
		pos += lens[i];
	}
	pfree(lens);
	*nvalues = n;
	return pos;
}

void
parquet_delta_length_encode(PqBuf *b, const PqByteArray *vals, int64 n)
{
	int32	   *lens = palloc(sizeof(int32) * Max(n, 1));

	for (int64 i = 0; i < n; i++)
		lens[i] = (int32) vals[i].len;
	parquet_delta_encode_int32(b, lens, n);
	pfree(lens);
	for (int64 i = 0; i < n; i++)
		parquet_buf_append(b, vals[i].ptr, vals[i].len);
}

/* ---------------------------------------------------- DELTA_BYTE_ARRAY -- */

size_t
parquet_delta_byte_array_decode(const uint8 *buf, size_t len, int64 max_values,
						   size_t max_bytes, PqByteArray *out, int64 *nvalues,
						   char **arena)
{
	int32	   *prefix = palloc(sizeof(int32) * Max(max_values, 1));
	int64		nprefix,
				nsuffix;
	size_t		pos;
	uint64		total = 0;
	uint64		prevlen = 0;
	char	   *dst;

	pos = parquet_delta_decode_int32(buf, len, max_values, prefix, &nprefix);
	pos += parquet_delta_length_decode(buf + pos, len - pos, max_values, out, &nsuffix);
	if (nprefix != nsuffix)
		corrupt("DELTA_BYTE_ARRAY", INT64_FORMAT " prefix lengths but " INT64_FORMAT " suffixes",
				nprefix, nsuffix);
	/* sizes first: each prefix must fit the previous value; bound the total */
	for (int64 i = 0; i < nprefix; i++)
	{
		if (prefix[i] < 0 || (uint64) prefix[i] > prevlen)
			corrupt("DELTA_BYTE_ARRAY", "value " INT64_FORMAT " has prefix length %d but the previous value has " UINT64_FORMAT " bytes",
					i, prefix[i], prevlen);
		prevlen = (uint64) prefix[i] + out[i].len;
		if (prevlen > PG_UINT32_MAX)
			corrupt("DELTA_BYTE_ARRAY", "value " INT64_FORMAT " is longer than 4 GB", i);
		total += prevlen;
		if (total > max_bytes)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("DELTA_BYTE_ARRAY page expands to more than %zu bytes", max_bytes)));
	}
	*arena = dst = palloc_extended(Max(total, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < nprefix; i++)
	{
		const char *suffix = out[i].ptr;
		uint32		slen = out[i].len;

		if (prefix[i] > 0)
			memcpy(dst, out[i - 1].ptr, prefix[i]);
		memcpy(dst + prefix[i], suffix, slen);
		out[i].ptr = dst;
		out[i].len = prefix[i] + slen;
		dst += out[i].len;
	}
	pfree(prefix);
	*nvalues = nprefix;
	return pos;
}

void
parquet_delta_byte_array_encode(PqBuf *b, const PqByteArray *vals, int64 n)
{
	int32	   *prefix = palloc(sizeof(int32) * Max(n, 1));
	PqByteArray *suffix = palloc(sizeof(PqByteArray) * Max(n, 1));

	for (int64 i = 0; i < n; i++)
	{
		uint32		p = 0;

		if (i > 0)
		{
			uint32		lim = Min(vals[i].len, vals[i - 1].len);

			while (p < lim && vals[i].ptr[p] == vals[i - 1].ptr[p])
				p++;
		}
		prefix[i] = (int32) p;
		suffix[i].ptr = vals[i].ptr + p;
		suffix[i].len = vals[i].len - p;
	}
	parquet_delta_encode_int32(b, prefix, n);
	parquet_delta_length_encode(b, suffix, n);
	pfree(prefix);
	pfree(suffix);
}

/* --------------------------------------------------- BYTE_STREAM_SPLIT -- */

size_t
parquet_bss_decode(const uint8 *buf, size_t len, int width, int64 n, void *out)
{
	uint8	   *o = out;

	if (width <= 0 || n < 0)
		corrupt("BYTE_STREAM_SPLIT", "invalid width %d or count " INT64_FORMAT, width, n);
	if (len % width != 0 || len / width != (uint64) n)
		corrupt("BYTE_STREAM_SPLIT", "page holds %zu bytes, expected " INT64_FORMAT " values of %d bytes",
				len, n, width);
	for (int k = 0; k < width; k++)
	{
		const uint8 *stream = buf + (size_t) k * n;

		for (int64 i = 0; i < n; i++)
			o[i * width + k] = stream[i];
	}
	return len;
}

void
parquet_bss_encode(PqBuf *b, const void *vals, int width, int64 n)
{
	const uint8 *in = vals;
	uint8	   *o;
	size_t		total = (size_t) width * n;

	parquet_buf_reserve(b, total);
	o = (uint8 *) b->data + b->len;
	for (int k = 0; k < width; k++)
		for (int64 i = 0; i < n; i++)
			o[(size_t) k * n + i] = in[i * width + k];
	b->len += total;
}
