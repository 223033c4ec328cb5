/*
 * s3_sigv4.h — AWS Signature Version 4 for S3, and the encodings it needs.
 *
 * Pure functions over strings (OpenSSL for the hashes): no I/O, no catalog
 * access, no GUCs, so that a stand-alone unit test (build/bin/unit_s3_sigv4)
 * checks them against the worked examples of the AWS documentation.
 * Outside a server (the unit test) it runs over the backend stand-in,
 * test/fuzz/pg_standin.c.
 */
#ifndef VLAKE_S3_SIGV4_H
#define VLAKE_S3_SIGV4_H

#include "lib/stringinfo.h"

#define S3_SHA256_HEX_LEN 64

/* The SHA-256 of an empty payload, hex (every bodiless request sends it). */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct S3Header
{
	const char *name;			/* lower case */
	const char *value;
} S3Header;

typedef struct S3SignRequest
{
	const char *method;			/* "GET", "PUT", ... */
	const char *canonical_uri;	/* already URI-encoded path, "/" at least */
	const char *canonical_query;	/* from s3_canonical_query(), "" if none */
	const S3Header *headers;	/* the headers to sign (host included) */
	int			nheaders;
	const char *payload_sha256; /* hex */
	const char *amz_date;		/* YYYYMMDD'T'HHMMSS'Z' */
	const char *region;
	const char *access_key;
	const char *secret_key;
} S3SignRequest;

/* Query parameter, unencoded; value "" is sent as "name=". */
typedef struct S3QueryParam
{
	const char *name;
	const char *value;
} S3QueryParam;

/* RFC 3986 percent-encoding with upper-case hex; '/' kept when keep_slash. */
extern void s3_uri_encode(StringInfo out, const char *s, bool keep_slash);

/* Canonical (and wire) query string: encoded, sorted by name then value. */
extern void s3_canonical_query(StringInfo out, const S3QueryParam *params, int n);

/* Lower-case hex SHA-256 of data; out has room for 65 bytes. */
extern void s3_sha256_hex(const void *data, size_t len, char *out);

/* Base64 MD5 of data (Content-MD5); out has room for 25 bytes. */
extern void s3_md5_base64(const void *data, size_t len, char *out);

/* Base64 of a raw MD5 (Content-MD5); out has room for 25 bytes. */
extern void s3_base64_of_md5(const unsigned char *raw, char *out);

/* Raw 16-byte MD5 of data. */
extern void s3_md5_raw(const void *data, size_t len, unsigned char *out);

/* Lower-case hex MD5 of data; out has room for 33 bytes. */
extern void s3_md5_hex(const void *data, size_t len, char *out);

/* Streaming MD5 (OpenSSL context; s3_md5_end frees it). */
extern void *s3_md5_begin(void);
extern void s3_md5_update(void *ctx, const void *data, size_t len);
extern void s3_md5_end(void *ctx, char *hex_out);	/* 33 bytes; ctx may be NULL */

/*
 * The Authorization header value for a request.  When canonical_out is not
 * NULL it receives the canonical request (for tests only: it holds no
 * secret, but the signature that follows from it must not be logged either).
 */
extern void s3_sigv4_authorization(const S3SignRequest *req, StringInfo out,
								   StringInfo canonical_out);

#endif							/* VLAKE_S3_SIGV4_H */
