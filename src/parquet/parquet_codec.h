/*
 * parquet_codec.h — Parquet page compression codecs (parquet-format Compression.md).
 *
 * Contract shared by the writer (parquet-codec) and the reader (parquet-meta):
 *
 *  - Codec ids are the Thrift CompressionCodec enum values, so a value read
 *    from ColumnMetaData.codec can be passed straight in.
 *  - parquet_decompress() never writes more than dstlen bytes and ERRORs unless the
 *    compressed input decodes to EXACTLY dstlen bytes (the page header's
 *    uncompressed_page_size, or for v2 pages that size minus the level bytes).
 *    The caller allocates dst after checking dstlen against its own limits,
 *    so a hostile header can never make this code allocate.
 *  - Errors go through lake_report (lake/lake_error.h) and name the file and
 *    page of the caller's parquet_decode_begin() scope (parquet_encoding.h).
 *
 * Backend independence: this file and parquet_encoding.c only use palloc/repalloc/
 * pfree and ereport(ERROR) with errcode/errmsg/errdetail.  Stand-alone
 * programs (unit tests, the fuzz harness) link test/fuzz/pg_standin.c, which
 * provides those symbols outside a server (ERROR longjmps to the innermost
 * STANDIN_CATCH, or aborts).
 */
#ifndef VLAKE_PARQUET_CODEC_H
#define VLAKE_PARQUET_CODEC_H

#include "postgres.h"

#include "parquet/parquet_meta.h"

/* PqCodec (the Thrift CompressionCodec enum) comes from parquet_meta.h.
 * Supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW; LZ4 (Hadoop framing) on
 * read only; LZO and BROTLI ERROR. */

/* Default compression level per codec (used when level < 0). */
#define PARQUET_ZSTD_DEFAULT_LEVEL	3
#define PARQUET_GZIP_DEFAULT_LEVEL	6

/* Parse a user-facing codec name (case-insensitive; "none" = uncompressed).
 * Returns false for an unknown or write-unsupported name. */
extern bool parquet_codec_from_name(const char *name, PqCodec *codec);

/* True if parquet_decompress() handles this codec id. */
extern bool parquet_codec_supported(int codec);

/*
 * Decompress src[0..srclen) into dst, which must decode to exactly dstlen
 * bytes.  ERRORs (ERRCODE_DATA_CORRUPTED) on corrupt input, output of any
 * other size, or an unsupported codec (ERRCODE_FEATURE_NOT_SUPPORTED).
 */
extern void parquet_decompress(int codec, const char *src, size_t srclen,
						  char *dst, size_t dstlen);

/*
 * Compress src into a palloc'd buffer; *outlen receives its size.
 * level < 0 means the codec's default.  For UNCOMPRESSED returns a copy.
 */
extern char *parquet_compress(PqCodec codec, int level, const char *src,
						 size_t srclen, size_t *outlen);

#endif							/* VLAKE_PARQUET_CODEC_H */
