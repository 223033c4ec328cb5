/*
 * unit_parquet_encoding — tests of the Parquet codecs and encodings against the
 * hand-made examples of parquet-format Encodings.md (an independent oracle)
 * and round-trips over random data, plus malformed input that must ERROR.
 * Exit status 0 = all passed.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "parquet/parquet_codec.h"
#include "parquet/parquet_encoding.h"
#include "pg_standin.h"

static int	failures = 0;
static int	checks = 0;

#define CHECK(cond, ...) do { \
	checks++; \
	if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

#define CHECK_RAISES(stmt, what) do { \
	bool r_ = STANDIN_CATCH(stmt); \
	CHECK(r_, "expected ERROR: %s", what); \
	if (r_ && getenv("VERBOSE")) fprintf(stderr, "  ok error: %s\n", standin_last_error); } while (0)

static uint64 rng_state = 0x9e3779b97f4a7c15ULL;
static uint64
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ------------------------------------------------------------- codecs -- */

static void
test_codecs(void)
{
	const PqCodec codecs[] = {PARQUET_CODEC_UNCOMPRESSED, PARQUET_CODEC_SNAPPY, PARQUET_CODEC_GZIP,
	PARQUET_CODEC_ZSTD, PARQUET_CODEC_LZ4_RAW};
	size_t		n = 100000;
	char	   *src = palloc(n);
	char	   *dst = palloc(n + 16);

	for (size_t i = 0; i < n; i++)	/* compressible: runs and text */
		src[i] = (i % 1000 < 500) ? (char) ('a' + (i % 7)) : (char) (rnd() & 0xff);
	for (int c = 0; c < (int) lengthof(codecs); c++)
	{
		size_t		clen;
		char	   *comp = parquet_compress(codecs[c], -1, src, n, &clen);
		static const char *const nm[] = {"none", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd", "lz4_raw"};
		const char *name = nm[codecs[c]];

		memset(dst, 0, n);
		parquet_decompress(codecs[c], comp, clen, dst, n);
		CHECK(memcmp(src, dst, n) == 0, "%s round trip", name);
		if (codecs[c] != PARQUET_CODEC_UNCOMPRESSED)
			CHECK(clen < n, "%s compresses (%zu)", name, clen);
		/* declared size too small / too large */
		CHECK_RAISES(parquet_decompress(codecs[c], comp, clen, dst, n - 1), name);
		CHECK_RAISES(parquet_decompress(codecs[c], comp, clen, dst, n + 1), name);
		/* truncated input */
		if (codecs[c] != PARQUET_CODEC_UNCOMPRESSED)
			CHECK_RAISES(parquet_decompress(codecs[c], comp, clen / 2, dst, n), name);
		/* garbage input */
		{
			char		junk[64];

			for (int i = 0; i < 64; i++)
				junk[i] = (char) rnd();
			if (codecs[c] != PARQUET_CODEC_UNCOMPRESSED)
				CHECK_RAISES(parquet_decompress(codecs[c], junk, 64, dst, n), name);
		}
		/* empty page */
		{
			size_t		elen;
			char	   *e = parquet_compress(codecs[c], -1, src, 0, &elen);

			parquet_decompress(codecs[c], e, elen, dst, 0);
		}
		pfree(comp);
	}
	/* gzip members concatenated decode as one stream */
	{
		size_t		l1,
					l2;
		char	   *a = parquet_compress(PARQUET_CODEC_GZIP, -1, src, 1000, &l1);
		char	   *b = parquet_compress(PARQUET_CODEC_GZIP, -1, src + 1000, 2000, &l2);
		char	   *ab = palloc(l1 + l2);

		memcpy(ab, a, l1);
		memcpy(ab + l1, b, l2);
		parquet_decompress(PARQUET_CODEC_GZIP, ab, l1 + l2, dst, 3000);
		CHECK(memcmp(dst, src, 3000) == 0, "gzip multi-member");
	}
	/* unsupported codecs */
	CHECK_RAISES(parquet_decompress(PARQUET_CODEC_BROTLI, src, 10, dst, 10), "brotli");
	CHECK_RAISES(parquet_decompress(99, src, 10, dst, 10), "codec 99");
	{
		PqCodec		c;

		CHECK(parquet_codec_from_name("ZSTD", &c) && c == PARQUET_CODEC_ZSTD, "name zstd");
		CHECK(parquet_codec_from_name("none", &c) && c == PARQUET_CODEC_UNCOMPRESSED, "name none");
		CHECK(!parquet_codec_from_name("brotli", &c), "name brotli");
	}
	pfree(src);
	pfree(dst);
}

/* -------------------------------------------------------------- PLAIN -- */

static void
test_plain(void)
{
	PqBuf		b;
	int32		i32[5] = {1, -2, 3, PG_INT32_MIN, PG_INT32_MAX};
	int32		o32[5];
	bool		bo[11] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1};
	bool		bi[11];
	PqByteArray ba[3];
	size_t		used;

	parquet_buf_init(&b, 16);
	parquet_plain_encode_fixed(&b, i32, 4, 5);
	CHECK(b.len == 20, "int32 plain size");
	CHECK((uint8) b.data[4] == 0xfe && (uint8) b.data[7] == 0xff, "int32 little endian");
	used = parquet_plain_decode_fixed((uint8 *) b.data, b.len, 4, 5, o32);
	CHECK(used == 20 && memcmp(i32, o32, 20) == 0, "int32 plain round trip");
	CHECK_RAISES(parquet_plain_decode_fixed((uint8 *) b.data, 19, 4, 5, o32), "short int32 page");

	parquet_buf_reset(&b);
	parquet_plain_encode_bool(&b, bo, 11);
	/* LSB first: 1,0,1,1,0,0,0,1 -> 0b10001101 = 0x8d; then 1,0,1 -> 0x05 */
	CHECK(b.len == 2 && (uint8) b.data[0] == 0x8d && (uint8) b.data[1] == 0x05, "bool packing");
	used = parquet_plain_decode_bool((uint8 *) b.data, b.len, 11, bi);
	CHECK(used == 2 && memcmp(bo, bi, 11) == 0, "bool round trip");
	CHECK_RAISES(parquet_plain_decode_bool((uint8 *) b.data, 1, 11, bi), "short bool page");

	parquet_buf_reset(&b);
	parquet_plain_encode_byte_array(&b, "hello", 5);
	parquet_plain_encode_byte_array(&b, "", 0);
	parquet_plain_encode_byte_array(&b, "parquet", 7);
	CHECK(b.len == 4 + 5 + 4 + 4 + 7, "byte array size");
	used = parquet_plain_decode_byte_array((uint8 *) b.data, b.len, 3, ba);
	CHECK(used == b.len && ba[0].len == 5 && memcmp(ba[0].ptr, "hello", 5) == 0 &&
		  ba[1].len == 0 && ba[2].len == 7 && memcmp(ba[2].ptr, "parquet", 7) == 0,
		  "byte array round trip");
	CHECK_RAISES(parquet_plain_decode_byte_array((uint8 *) b.data, b.len - 1, 3, ba), "truncated byte array");
	CHECK_RAISES(parquet_plain_decode_byte_array((uint8 *) b.data, b.len, 4, ba), "missing byte array");
	CHECK_RAISES(parquet_plain_decode_byte_array((uint8 *) b.data, 2, 1, ba), "truncated length");
	{
		uint8		huge[8] = {0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd'};

		CHECK_RAISES(parquet_plain_decode_byte_array(huge, 8, 1, ba), "length beyond page");
	}
	CHECK(parquet_plain_width(PARQUET_FIXED_LEN_BYTE_ARRAY, 16) == 16 && parquet_plain_width(PARQUET_INT96, 0) == 12,
		  "plain widths");
	parquet_buf_free(&b);
}

/* ---------------------------------------------------------------- RLE -- */

static void
test_rle(void)
{
	/* Encodings.md: 0..7 bit-packed with width 3 is 10001000 11000110 11111010 */
	uint8		spec[] = {0x03, 0x88, 0xc6, 0xfa};
	uint32		out[4096];
	uint32		in[4096];
	PqBuf		b;

	parquet_rle_decode(spec, sizeof(spec), 3, 8, out);
	for (int i = 0; i < 8; i++)
		CHECK(out[i] == (uint32) i, "spec bit-packed example value %d", i);
	/* an RLE run: 100 times value 5 at width 3 */
	{
		uint8		run[] = {0xc8, 0x01, 0x05};	/* uleb(200) = c8 01 */

		parquet_rle_decode(run, 3, 3, 100, out);
		CHECK(out[0] == 5 && out[99] == 5, "rle run");
		CHECK_RAISES(parquet_rle_decode(run, 3, 3, 101, out), "run too short for count");
		CHECK_RAISES(parquet_rle_decode(run, 3, 2, 100, out), "value wider than bit width");
		CHECK_RAISES(parquet_rle_decode(run, 2, 3, 100, out), "truncated value");
	}
	CHECK_RAISES(parquet_rle_decode(spec, 3, 3, 8, out), "truncated bit-packed run");
	CHECK_RAISES(parquet_rle_decode(spec, sizeof(spec), 33, 8, out), "bit width 33");
	{
		uint8		bad[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

		CHECK_RAISES(parquet_rle_decode(bad, sizeof(bad), 1, 8, out), "overlong varint");
	}
	/* bit width 0 with no data: all zeros */
	parquet_rle_decode(NULL, 0, 0, 10, out);
	CHECK(out[9] == 0, "bit width 0");

	parquet_buf_init(&b, 64);
	for (int bw = 0; bw <= 32; bw++)
	{
		int			n = 1 + (int) (rnd() % 4000);
		uint64		mask = bw == 32 ? 0xffffffffULL : ((1ULL << bw) - 1);
		size_t		used;

		for (int i = 0; i < n;)
		{
			uint32		v = (uint32) (rnd() & mask);
			int			r = (rnd() % 3 == 0) ? (int) (rnd() % 40) + 1 : 1;

			for (int k = 0; k < r && i < n; k++)
				in[i++] = v;
		}
		parquet_buf_reset(&b);
		parquet_rle_encode_prefixed(&b, in, n, bw);
		memset(out, 0xab, sizeof(out));
		used = parquet_rle_decode_prefixed((uint8 *) b.data, b.len, bw, n, out);
		CHECK(used == b.len, "prefixed length bw=%d", bw);
		CHECK(memcmp(in, out, n * sizeof(uint32)) == 0, "rle round trip bw=%d n=%d", bw, n);
	}
	/* dictionary indices */
	for (int i = 0; i < 1000; i++)
		in[i] = (uint32) (rnd() % 37);
	parquet_buf_reset(&b);
	parquet_dict_indices_encode(&b, in, 1000, 37);
	CHECK((uint8) b.data[0] == 6, "dict bit width byte");
	parquet_dict_indices_decode((uint8 *) b.data, b.len, 1000, 37, out);
	CHECK(memcmp(in, out, 1000 * sizeof(uint32)) == 0, "dict indices round trip");
	CHECK_RAISES(parquet_dict_indices_decode((uint8 *) b.data, b.len, 1000, 36, out), "index out of dictionary");
	{
		uint8		bw40[] = {40, 0x02, 0x00};

		CHECK_RAISES(parquet_dict_indices_decode(bw40, 3, 1, 100, out), "dict bit width 40");
	}
	parquet_buf_free(&b);
}

/* -------------------------------------------------------------- DELTA -- */

static void
test_delta(void)
{
	int64		o64[2000];
	int32		o32[2000];
	int64		n;
	size_t		used;
	PqBuf		b;

	/* Encodings.md example 1 (1,2,3,4,5), with a valid block size of 128 */
	{
		uint8		ex1[] = {0x80, 0x01, 0x04, 0x05, 0x02, /* block */ 0x02, 0, 0, 0, 0};

		used = parquet_delta_decode_int32(ex1, sizeof(ex1), 100, o32, &n);
		CHECK(n == 5 && used == sizeof(ex1), "example 1 count/size");
		for (int i = 0; i < 5; i++)
			CHECK(o32[i] == i + 1, "example 1 value %d", i);
	}
	/* Example 2 (7,5,3,1,2,3,4,5): min delta -2, width 2, 0,0,0,3,3,3,3 */
	{
		uint8		ex2[5 + 1 + 4 + 8] = {0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 2, 0, 0, 0,
		0xc0, 0x3f, 0, 0, 0, 0, 0, 0};
		int64		want[] = {7, 5, 3, 1, 2, 3, 4, 5};

		used = parquet_delta_decode_int64(ex2, sizeof(ex2), 8, o64, &n);
		CHECK(n == 8 && used == sizeof(ex2), "example 2 count/size %zu", used);
		CHECK(memcmp(o64, want, sizeof(want)) == 0, "example 2 values");
		CHECK_RAISES(parquet_delta_decode_int64(ex2, sizeof(ex2), 7, o64, &n), "count above max");
		CHECK_RAISES(parquet_delta_decode_int64(ex2, sizeof(ex2) - 7, 8, o64, &n), "truncated miniblock");
		ex2[6] = 65;
		CHECK_RAISES(parquet_delta_decode_int64(ex2, sizeof(ex2), 8, o64, &n), "bit width 65");
		ex2[6] = 33;
		CHECK_RAISES(parquet_delta_decode_int32(ex2, sizeof(ex2), 8, o32, &n), "int32 bit width 33");
		ex2[0] = 0x08;
		ex2[1] = 0x01;
		CHECK_RAISES(parquet_delta_decode_int64(ex2, sizeof(ex2), 8, o64, &n), "block size 8");
	}
	/* round trips incl. extreme values that overflow every delta */
	parquet_buf_init(&b, 64);
	{
		int64		v[2000];
		int			sizes[] = {0, 1, 2, 31, 32, 33, 128, 129, 130, 257, 2000};

		for (int s = 0; s < (int) lengthof(sizes); s++)
		{
			int			cnt = sizes[s];

			for (int i = 0; i < cnt; i++)
			{
				switch (rnd() % 5)
				{
					case 0:
						v[i] = PG_INT64_MIN;
						break;
					case 1:
						v[i] = PG_INT64_MAX;
						break;
					case 2:
						v[i] = (int64) rnd();
						break;
					default:
						v[i] = i > 0 ? v[i - 1] + (int64) (rnd() % 100) : 0;
				}
			}
			parquet_buf_reset(&b);
			parquet_delta_encode_int64(&b, v, cnt);
			parquet_buf_append(&b, "tail", 4);
			used = parquet_delta_decode_int64((uint8 *) b.data, b.len, cnt, o64, &n);
			CHECK(n == cnt && used == b.len - 4, "int64 delta size n=%d", cnt);
			CHECK(cnt == 0 || memcmp(v, o64, cnt * 8) == 0, "int64 delta values n=%d", cnt);
		}
		{
			int32		v32[1000];

			for (int i = 0; i < 1000; i++)
				v32[i] = (i % 3 == 0) ? PG_INT32_MIN : (i % 3 == 1 ? PG_INT32_MAX : (int32) rnd());
			parquet_buf_reset(&b);
			parquet_delta_encode_int32(&b, v32, 1000);
			used = parquet_delta_decode_int32((uint8 *) b.data, b.len, 1000, o32, &n);
			CHECK(n == 1000 && used == b.len && memcmp(v32, o32, 4000) == 0, "int32 delta wrap");
		}
	}
	/* DELTA_LENGTH_BYTE_ARRAY: Encodings.md example */
	{
		PqByteArray vals[4] = {{"Hello", 5}, {"World", 5}, {"Foobar", 6}, {"ABCDEF", 6}};
		PqByteArray out[4];
		int64		lens[4];

		parquet_buf_reset(&b);
		parquet_delta_length_encode(&b, vals, 4);
		used = parquet_delta_decode_int64((uint8 *) b.data, b.len, 4, lens, &n);
		CHECK(n == 4 && lens[0] == 5 && lens[1] == 5 && lens[2] == 6 && lens[3] == 6,
			  "DLBA lengths");
		CHECK(b.len - used == 22 && memcmp(b.data + used, "HelloWorldFoobarABCDEF", 22) == 0,
			  "DLBA data");
		used = parquet_delta_length_decode((uint8 *) b.data, b.len, 4, out, &n);
		CHECK(n == 4 && used == b.len && out[2].len == 6 && memcmp(out[2].ptr, "Foobar", 6) == 0,
			  "DLBA round trip");
		CHECK_RAISES(parquet_delta_length_decode((uint8 *) b.data, b.len - 1, 4, out, &n), "DLBA truncated");
	}
	/* DELTA_BYTE_ARRAY: Encodings.md example */
	{
		PqByteArray vals[4] = {{"axis", 4}, {"axle", 4}, {"babble", 6}, {"babyhood", 8}};
		PqByteArray out[4];
		int64		pre[4],
					suf[4];
		char	   *arena;
		size_t		u2;

		parquet_buf_reset(&b);
		parquet_delta_byte_array_encode(&b, vals, 4);
		used = parquet_delta_decode_int64((uint8 *) b.data, b.len, 4, pre, &n);
		CHECK(pre[0] == 0 && pre[1] == 2 && pre[2] == 0 && pre[3] == 3, "DBA prefix lengths");
		u2 = parquet_delta_decode_int64((uint8 *) b.data + used, b.len - used, 4, suf, &n);
		CHECK(suf[0] == 4 && suf[1] == 2 && suf[2] == 6 && suf[3] == 5, "DBA suffix lengths");
		CHECK(b.len - used - u2 == 17 && memcmp(b.data + used + u2, "axislebabbleyhood", 17) == 0,
			  "DBA suffix data");
		used = parquet_delta_byte_array_decode((uint8 *) b.data, b.len, 4, 1000, out, &n, &arena);
		CHECK(n == 4 && used == b.len, "DBA decode size");
		for (int i = 0; i < 4; i++)
			CHECK(out[i].len == vals[i].len && memcmp(out[i].ptr, vals[i].ptr, vals[i].len) == 0,
				  "DBA value %d", i);
		CHECK_RAISES(parquet_delta_byte_array_decode((uint8 *) b.data, b.len, 4, 10, out, &n, &arena),
					 "DBA over memory bound");
	}
	/* DBA whose prefix is longer than the previous value */
	{
		int32		pre[2] = {0, 5};
		PqByteArray suf[2] = {{"ab", 2}, {"c", 1}};
		PqByteArray out[2];
		char	   *arena;

		parquet_buf_reset(&b);
		parquet_delta_encode_int32(&b, pre, 2);
		parquet_delta_length_encode(&b, suf, 2);
		CHECK_RAISES(parquet_delta_byte_array_decode((uint8 *) b.data, b.len, 2, 1000, out, &n, &arena),
					 "DBA prefix too long");
	}
	parquet_buf_free(&b);
}

/* ------------------------------------------------------ BYTE_STREAM_SPLIT -- */

static void
test_bss(void)
{
	uint8		in[12] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
	uint8		want[12] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
	uint8		back[12];
	PqBuf		b;

	parquet_buf_init(&b, 16);
	parquet_bss_encode(&b, in, 4, 3);
	CHECK(b.len == 12 && memcmp(b.data, want, 12) == 0, "BSS spec example");
	parquet_bss_decode(want, 12, 4, 3, back);
	CHECK(memcmp(back, in, 12) == 0, "BSS decode");
	parquet_bss_decode(want, 12, 6, 2, back);	/* FLBA(6) */
	CHECK(back[0] == 0xAA && back[1] == 0xA3 && back[2] == 0x11, "BSS FLBA");
	CHECK_RAISES(parquet_bss_decode(want, 11, 4, 3, back), "BSS short");
	CHECK_RAISES(parquet_bss_decode(want, 12, 4, 2, back), "BSS count mismatch");
	parquet_buf_free(&b);
}

/* Random garbage through every decoder: ERROR or success, never a crash. */
static void
test_garbage(void)
{
	uint8		buf[256];
	uint32		o32[4096];
	int64		o64[4096];
	PqByteArray ba[4096];
	int64		n;
	char	   *arena;

	for (int iter = 0; iter < 20000; iter++)
	{
		size_t		len = rnd() % sizeof(buf);

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8) rnd();
		if (len > 0 && (rnd() & 1))
			buf[0] = 0x80;		/* plausible delta header */
		if (len > 1 && (rnd() & 1))
			buf[1] = 0x01;
		(void) STANDIN_CATCH(parquet_rle_decode(buf, len, (int) (rnd() % 33), 4096, o32));
		(void) STANDIN_CATCH(parquet_delta_decode_int64(buf, len, 4096, o64, &n));
		(void) STANDIN_CATCH(parquet_delta_length_decode(buf, len, 4096, ba, &n));
		(void) STANDIN_CATCH(parquet_delta_byte_array_decode(buf, len, 4096, 1 << 20, ba, &n, &arena));
		(void) STANDIN_CATCH(parquet_plain_decode_byte_array(buf, len, 4, ba));
		(void) STANDIN_CATCH(parquet_dict_indices_decode(buf, len, 4096, 100, o32));
		standin_reset();		/* what the failed decoders left allocated */
	}
	CHECK(true, "garbage survived");
}

int
main(void)
{
	test_codecs();
	test_plain();
	test_rle();
	test_delta();
	test_bss();
	test_garbage();
	printf("unit_parquet_encoding: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
