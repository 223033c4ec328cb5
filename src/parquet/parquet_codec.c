/*
 * parquet_codec.c — Parquet page compression: UNCOMPRESSED, SNAPPY, GZIP, ZSTD,
 * LZ4_RAW (and reading of the deprecated Hadoop-framed LZ4).
 *
 * Written from parquet-format Compression.md.  Decompression is always into a
 * caller-sized buffer and must produce exactly that many bytes: the page
 * header's uncompressed size is the only allocation bound a reader has, so a
 * codec that would produce more (or less) is treated as corruption.
 */
#include "postgres.h"

#include <limits.h>
#include <strings.h>

#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "parquet/parquet_codec.h"
#include "parquet/parquet_encoding.h"


static const char *const codec_names[] = {
	"uncompressed", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd", "lz4_raw"
};

static const char *
codec_label(int codec)
{
	if (codec < 0 || codec >= (int) lengthof(codec_names))
		return "unknown";
	return codec_names[codec];
}

bool
parquet_codec_from_name(const char *name, PqCodec *codec)
{
	if (pg_strcasecmp(name, "none") == 0 ||
		pg_strcasecmp(name, "uncompressed") == 0)
		*codec = PARQUET_CODEC_UNCOMPRESSED;
	else if (pg_strcasecmp(name, "snappy") == 0)
		*codec = PARQUET_CODEC_SNAPPY;
	else if (pg_strcasecmp(name, "gzip") == 0)
		*codec = PARQUET_CODEC_GZIP;
	else if (pg_strcasecmp(name, "zstd") == 0)
		*codec = PARQUET_CODEC_ZSTD;
	else if (pg_strcasecmp(name, "lz4_raw") == 0 ||
			 pg_strcasecmp(name, "lz4") == 0)
		*codec = PARQUET_CODEC_LZ4_RAW;	/* "lz4" means the modern raw codec */
	else
		return false;
	return true;
}

bool
parquet_codec_supported(int codec)
{
	switch (codec)
	{
		case PARQUET_CODEC_UNCOMPRESSED:
		case PARQUET_CODEC_SNAPPY:
		case PARQUET_CODEC_GZIP:
		case PARQUET_CODEC_LZ4:
		case PARQUET_CODEC_ZSTD:
		case PARQUET_CODEC_LZ4_RAW:
			return true;
		default:
			return false;
	}
}

/*
 * Errors name the file and page of the caller's parquet_decode_begin()
 * scope: "invalid Parquet file "<uri>": corrupt <codec> data: <reason>".
 */
static void pg_attribute_noreturn()
size_mismatch(const char *codec, size_t got, size_t want)
{
	lake_report(LAKE_CORRUPT, parquet_decode_context(),
				"corrupt %s data: decompressed size is %zu bytes but the page header says %zu",
				codec, got, want);
}

static void pg_attribute_noreturn()
corrupt(const char *codec, const char *reason)
{
	lake_report(LAKE_CORRUPT, parquet_decode_context(), "corrupt %s data: %s", codec, reason);
}

static void
decompress_snappy(const char *src, size_t srclen, char *dst, size_t dstlen)
{
	size_t		ulen;
	size_t		outlen = dstlen;

	if (snappy_uncompressed_length(src, srclen, &ulen) != SNAPPY_OK)
		corrupt("snappy", "the length preamble is invalid");
	if (ulen != dstlen)
		size_mismatch("snappy", ulen, dstlen);
	if (snappy_uncompress(src, srclen, dst, &outlen) != SNAPPY_OK)
		corrupt("snappy", "the compressed stream is invalid");
	if (outlen != dstlen)
		size_mismatch("snappy", outlen, dstlen);
}

/*
 * One decompression context for the life of the process: ZSTD_decompress()
 * creates and frees one per call, which dominated taking rows from many
 * small zstd pages (~14 us per page).  ZSTD_decompressDCtx() resets it at
 * the start of each call, so an error in one page cannot leak state into
 * the next.
 */
static ZSTD_DCtx *zstd_dctx = NULL;

static void
decompress_zstd(const char *src, size_t srclen, char *dst, size_t dstlen)
{
	size_t		r;

	if (zstd_dctx == NULL)
	{
		zstd_dctx = ZSTD_createDCtx();
		if (zstd_dctx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a zstd decompression context.")));
	}
	r = ZSTD_decompressDCtx(zstd_dctx, dst, dstlen, src, srclen);

	if (ZSTD_isError(r))
	{
		if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
			lake_report(LAKE_CORRUPT, parquet_decode_context(),
						"corrupt zstd data: decompressed data is larger than the %zu bytes the page header says",
						dstlen);
		corrupt("zstd", ZSTD_getErrorName(r));
	}
	if (r != dstlen)
		size_mismatch("zstd", r, dstlen);
}

/*
 * GZIP: RFC 1952 members (zlib streams accepted too).  Several concatenated
 * members are decoded one after another, as gzip(1) does.
 */
static void
decompress_gzip(const char *src, size_t srclen, char *dst, size_t dstlen)
{
	z_stream	zs;
	int			rc;

	if (srclen > UINT_MAX || dstlen > UINT_MAX)
		corrupt("gzip", "page is too large");
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 32) != Z_OK)	/* 32: detect gzip or zlib header */
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not initialise zlib for a Parquet page")));
	zs.next_in = (Bytef *) src;
	zs.avail_in = (uInt) srclen;
	zs.next_out = (Bytef *) dst;
	zs.avail_out = (uInt) dstlen;
	for (;;)
	{
		rc = inflate(&zs, Z_FINISH);
		if (rc == Z_STREAM_END)
		{
			/* another member follows? (skip trailing zero padding) */
			while (zs.avail_in > 0 && *zs.next_in == 0)
			{
				zs.next_in++;
				zs.avail_in--;
			}
			if (zs.avail_in == 0)
				break;
			if (inflateReset(&zs) != Z_OK)
				break;
			continue;
		}
		if (rc == Z_BUF_ERROR && zs.avail_out == 0)
		{
			inflateEnd(&zs);
			lake_report(LAKE_CORRUPT, parquet_decode_context(),
						"corrupt gzip data: decompressed data is larger than the %zu bytes the page header says",
						dstlen);
		}
		{
			const char *msg = zs.msg ? zs.msg : "truncated stream";
			char		buf[256];

			strlcpy(buf, msg, sizeof(buf));
			inflateEnd(&zs);
			corrupt("gzip", buf);
		}
	}
	inflateEnd(&zs);
	/* total_out restarts with each member: measure the output pointer */
	if ((size_t) ((char *) zs.next_out - dst) != dstlen)
		size_mismatch("gzip", (char *) zs.next_out - dst, dstlen);
}

static void
decompress_lz4_raw(const char *src, size_t srclen, char *dst, size_t dstlen)
{
	int			r;

	if (srclen > INT_MAX || dstlen > INT_MAX)
		corrupt("lz4_raw", "page is too large");
	r = LZ4_decompress_safe(src, dst, (int) srclen, (int) dstlen);
	if (r < 0)
		corrupt("lz4_raw", "the compressed block is invalid or decodes to more than the page header says");
	if ((size_t) r != dstlen)
		size_mismatch("lz4_raw", r, dstlen);
}

static uint32
read_be32(const unsigned char *p)
{
	return ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | p[3];
}

/*
 * Deprecated LZ4 (codec 5): parquet-mr wrote Hadoop framing, a sequence of
 * <be32 uncompressed size><be32 compressed size><lz4 block>.  Some writers
 * wrote raw blocks under this id instead, so fall back to that.
 */
static void
decompress_lz4_hadoop(const char *src, size_t srclen, char *dst, size_t dstlen)
{
	const unsigned char *p = (const unsigned char *) src;
	size_t		in = 0,
				out = 0;
	bool		ok = true;

	while (in < srclen)
	{
		uint32		ulen,
					clen;
		int			r;

		if (srclen - in < 8)
		{
			ok = false;
			break;
		}
		ulen = read_be32(p + in);
		clen = read_be32(p + in + 4);
		in += 8;
		if (clen > srclen - in || ulen > dstlen - out || clen > INT_MAX)
		{
			ok = false;
			break;
		}
		r = LZ4_decompress_safe(src + in, dst + out, (int) clen, (int) ulen);
		if (r < 0 || (uint32) r != ulen)
		{
			ok = false;
			break;
		}
		in += clen;
		out += ulen;
	}
	if (ok && out == dstlen)
		return;
	decompress_lz4_raw(src, srclen, dst, dstlen);
}

void
parquet_decompress(int codec, const char *src, size_t srclen,
			  char *dst, size_t dstlen)
{
	switch (codec)
	{
		case PARQUET_CODEC_UNCOMPRESSED:
			if (srclen != dstlen)
				lake_report(LAKE_CORRUPT, parquet_decode_context(),
							"corrupt uncompressed page: compressed size %zu differs from uncompressed size %zu",
							srclen, dstlen);
			if (dstlen > 0)
				memcpy(dst, src, dstlen);
			return;
		case PARQUET_CODEC_SNAPPY:
			decompress_snappy(src, srclen, dst, dstlen);
			return;
		case PARQUET_CODEC_GZIP:
			decompress_gzip(src, srclen, dst, dstlen);
			return;
		case PARQUET_CODEC_ZSTD:
			decompress_zstd(src, srclen, dst, dstlen);
			return;
		case PARQUET_CODEC_LZ4_RAW:
			decompress_lz4_raw(src, srclen, dst, dstlen);
			return;
		case PARQUET_CODEC_LZ4:
			decompress_lz4_hadoop(src, srclen, dst, dstlen);
			return;
		default:
			{
				LakeErrorContext ctx = *parquet_decode_context();

				ctx.hint = "vlake reads uncompressed, snappy, gzip, zstd, lz4 and lz4_raw pages.";
				lake_report(LAKE_UNSUPPORTED, &ctx, "compression codec %s (%d) is not supported",
							codec_label(codec), codec);
			}
	}
}

static char *
compress_gzip(int level, const char *src, size_t srclen, size_t *outlen)
{
	z_stream	zs;
	uLong		bound;
	char	   *out;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: gzip wrapper (RFC 1952), as Compression.md requires */
	if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not initialise zlib compression")));
	bound = deflateBound(&zs, srclen) + 32;
	out = palloc(bound);
	zs.next_in = (Bytef *) src;
	zs.avail_in = srclen;
	zs.next_out = (Bytef *) out;
	zs.avail_out = bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
	{
		deflateEnd(&zs);
		elog(ERROR, "gzip compression failed");
	}
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

char *
parquet_compress(PqCodec codec, int level, const char *src, size_t srclen,
			size_t *outlen)
{
	char	   *out;

	switch (codec)
	{
		case PARQUET_CODEC_UNCOMPRESSED:
			out = palloc(srclen > 0 ? srclen : 1);
			if (srclen > 0)
				memcpy(out, src, srclen);
			*outlen = srclen;
			return out;
		case PARQUET_CODEC_SNAPPY:
			{
				size_t		cap = snappy_max_compressed_length(srclen);

				out = palloc(cap);
				if (snappy_compress(src, srclen, out, &cap) != SNAPPY_OK)
					elog(ERROR, "snappy compression failed");
				*outlen = cap;
				return out;
			}
		case PARQUET_CODEC_GZIP:
			return compress_gzip(level < 0 ? PARQUET_GZIP_DEFAULT_LEVEL : level,
								 src, srclen, outlen);
		case PARQUET_CODEC_ZSTD:
			{
				size_t		cap = ZSTD_compressBound(srclen);
				size_t		r;

				out = palloc(cap);
				r = ZSTD_compress(out, cap, src, srclen,
								  level < 0 ? PARQUET_ZSTD_DEFAULT_LEVEL : level);
				if (ZSTD_isError(r))
					elog(ERROR, "zstd compression failed: %s", ZSTD_getErrorName(r));
				*outlen = r;
				return out;
			}
		case PARQUET_CODEC_LZ4_RAW:
			{
				int			cap;
				int			r;

				if (srclen > (size_t) LZ4_MAX_INPUT_SIZE)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("page of %zu bytes is too large for lz4_raw", srclen)));
				cap = LZ4_compressBound((int) srclen);
				out = palloc(cap);
				r = LZ4_compress_default(src, out, (int) srclen, cap);
				if (r <= 0 && srclen > 0)
					elog(ERROR, "lz4 compression failed");
				*outlen = r;
				return out;
			}
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("vlake does not write %s compression", codec_label(codec))));
	}
	return NULL;				/* keep compiler quiet */
}
