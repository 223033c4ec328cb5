/*
 * s3_sigv4.c — AWS Signature Version 4 (header form) for S3.
 *
 * Canonical request:
 *   METHOD \n URI \n QUERY \n (name:value \n)* \n signed;names \n payload-hash
 * String to sign:
 *   AWS4-HMAC-SHA256 \n amz-date \n date/region/s3/aws4_request \n hex(sha256(canonical))
 * Key: HMAC chain over "AWS4"+secret, date, region, "s3", "aws4_request".
 *
 * The secret key only ever enters HMAC; nothing here logs or keeps it.
 */
#include "postgres.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

#include "objstore/s3_sigv4.h"

#define s3_fail(...) elog(ERROR, __VA_ARGS__)

static const char hexdigits_upper[] = "0123456789ABCDEF";
static const char hexdigits_lower[] = "0123456789abcdef";

void
s3_uri_encode(StringInfo out, const char *s, bool keep_slash)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		unsigned char c = *p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
			c == '~' || (keep_slash && c == '/'))
			appendStringInfoChar(out, (char) c);
		else
		{
			appendStringInfoChar(out, '%');
			appendStringInfoChar(out, hexdigits_upper[c >> 4]);
			appendStringInfoChar(out, hexdigits_upper[c & 15]);
		}
	}
}

typedef struct EncodedParam
{
	char	   *name;
	char	   *value;
} EncodedParam;

static int
encoded_param_cmp(const void *a, const void *b)
{
	const EncodedParam *x = a;
	const EncodedParam *y = b;
	int			c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

static char *
uri_encoded_copy(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	s3_uri_encode(&buf, s, false);
	return buf.data;
}

void
s3_canonical_query(StringInfo out, const S3QueryParam *params, int n)
{
	EncodedParam *enc;

	if (n <= 0)
		return;
	/* sort on the encoded form: that is the byte order AWS compares */
	enc = palloc(sizeof(EncodedParam) * n);
	for (int i = 0; i < n; i++)
	{
		enc[i].name = uri_encoded_copy(params[i].name);
		enc[i].value = uri_encoded_copy(params[i].value ? params[i].value : "");
	}
	qsort(enc, n, sizeof(EncodedParam), encoded_param_cmp);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(out, '&');
		appendStringInfo(out, "%s=%s", enc[i].name, enc[i].value);
		pfree(enc[i].name);
		pfree(enc[i].value);
	}
	pfree(enc);
}

static void
to_hex(const unsigned char *bin, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = hexdigits_lower[bin[i] >> 4];
		out[2 * i + 1] = hexdigits_lower[bin[i] & 15];
	}
	out[2 * len] = '\0';
}

void
s3_sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) ||
		mdlen != SHA256_DIGEST_LENGTH)
		s3_fail("SHA-256 computation failed");
	to_hex(md, SHA256_DIGEST_LENGTH, out);
}

void
s3_md5_raw(const void *data, size_t len, unsigned char *md)
{
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) ||
		mdlen != MD5_DIGEST_LENGTH)
		s3_fail("MD5 computation failed");
}

void
s3_base64_of_md5(const unsigned char *raw, char *out)
{
	/* 16 bytes -> 24 characters plus NUL */
	if (EVP_EncodeBlock((unsigned char *) out, raw, MD5_DIGEST_LENGTH) != 24)
		s3_fail("base64 encoding failed");
}

void
s3_md5_base64(const void *data, size_t len, char *out)
{
	unsigned char md[MD5_DIGEST_LENGTH];

	s3_md5_raw(data, len, md);
	s3_base64_of_md5(md, out);
}

void
s3_md5_hex(const void *data, size_t len, char *out)
{
	unsigned char md[MD5_DIGEST_LENGTH];

	s3_md5_raw(data, len, md);
	to_hex(md, MD5_DIGEST_LENGTH, out);
}

void *
s3_md5_begin(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL))
	{
		EVP_MD_CTX_free(ctx);
		s3_fail("MD5 computation failed");
	}
	return ctx;
}

void
s3_md5_update(void *ctx, const void *data, size_t len)
{
	if (!EVP_DigestUpdate((EVP_MD_CTX *) ctx, data, len))
		s3_fail("MD5 computation failed");
}

void
s3_md5_end(void *ctx, char *hex_out)
{
	unsigned char md[MD5_DIGEST_LENGTH];
	unsigned int mdlen = 0;
	bool		ok;

	if (ctx == NULL)
	{
		hex_out[0] = '\0';
		return;
	}
	ok = EVP_DigestFinal_ex((EVP_MD_CTX *) ctx, md, &mdlen) && mdlen == MD5_DIGEST_LENGTH;
	EVP_MD_CTX_free((EVP_MD_CTX *) ctx);
	if (!ok)
		s3_fail("MD5 computation failed");
	to_hex(md, MD5_DIGEST_LENGTH, hex_out);
}

static void
hmac_sha256(const unsigned char *key, size_t keylen, const char *msg,
			unsigned char *out)
{
	unsigned int outlen = 0;

	if (HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) msg,
			 strlen(msg), out, &outlen) == NULL || outlen != SHA256_DIGEST_LENGTH)
		s3_fail("HMAC-SHA256 computation failed");
}

static int
header_cmp(const void *a, const void *b)
{
	return strcmp(((const S3Header *) a)->name, ((const S3Header *) b)->name);
}

/* Header values are trimmed and inner runs of spaces folded to one. */
static void
append_trimmed(StringInfo out, const char *v)
{
	bool		pending_space = false;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++)
	{
		if (*v == ' ' || *v == '\t')
			pending_space = true;
		else
		{
			if (pending_space)
				appendStringInfoChar(out, ' ');
			pending_space = false;
			appendStringInfoChar(out, *v);
		}
	}
}

void
s3_sigv4_authorization(const S3SignRequest *req, StringInfo out,
					   StringInfo canonical_out)
{
	S3Header   *hdrs;
	StringInfoData canon;
	StringInfoData signed_names;
	StringInfoData sts;
	char		canon_hash[S3_SHA256_HEX_LEN + 1];
	char		date[9];
	unsigned char k1[SHA256_DIGEST_LENGTH],
				k2[SHA256_DIGEST_LENGTH],
				k3[SHA256_DIGEST_LENGTH],
				k4[SHA256_DIGEST_LENGTH],
				sig[SHA256_DIGEST_LENGTH];
	char		sighex[2 * SHA256_DIGEST_LENGTH + 1];
	char	   *secret_key;
	size_t		secret_len;

	if (strlen(req->amz_date) != 16)
		s3_fail("invalid x-amz-date \"%s\"", req->amz_date);
	memcpy(date, req->amz_date, 8);
	date[8] = '\0';

	hdrs = palloc(sizeof(S3Header) * Max(req->nheaders, 1));
	memcpy(hdrs, req->headers, sizeof(S3Header) * req->nheaders);
	qsort(hdrs, req->nheaders, sizeof(S3Header), header_cmp);

	initStringInfo(&canon);
	initStringInfo(&signed_names);
	appendStringInfo(&canon, "%s\n%s\n%s\n", req->method, req->canonical_uri,
					 req->canonical_query ? req->canonical_query : "");
	for (int i = 0; i < req->nheaders; i++)
	{
		appendStringInfo(&canon, "%s:", hdrs[i].name);
		append_trimmed(&canon, hdrs[i].value);
		appendStringInfoChar(&canon, '\n');
		if (i > 0)
			appendStringInfoChar(&signed_names, ';');
		appendStringInfoString(&signed_names, hdrs[i].name);
	}
	appendStringInfo(&canon, "\n%s\n%s", signed_names.data, req->payload_sha256);
	s3_sha256_hex(canon.data, canon.len, canon_hash);
	if (canonical_out)
		appendBinaryStringInfo(canonical_out, canon.data, canon.len);

	initStringInfo(&sts);
	appendStringInfo(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s",
					 req->amz_date, date, req->region, canon_hash);

	secret_len = strlen(req->secret_key) + 4;
	secret_key = palloc(secret_len + 1);
	snprintf(secret_key, secret_len + 1, "AWS4%s", req->secret_key);
	hmac_sha256((unsigned char *) secret_key, secret_len, date, k1);
	/* do not leave the secret lying around in freed memory */
	explicit_bzero(secret_key, secret_len);
	pfree(secret_key);
	hmac_sha256(k1, sizeof(k1), req->region, k2);
	hmac_sha256(k2, sizeof(k2), "s3", k3);
	hmac_sha256(k3, sizeof(k3), "aws4_request", k4);
	hmac_sha256(k4, sizeof(k4), sts.data, sig);
	to_hex(sig, sizeof(sig), sighex);
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(k4, sizeof(k4));

	appendStringInfo(out,
					 "AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, SignedHeaders=%s, Signature=%s",
					 req->access_key, date, req->region, signed_names.data, sighex);

	pfree(canon.data);
	pfree(signed_names.data);
	pfree(sts.data);
	pfree(hdrs);
}
