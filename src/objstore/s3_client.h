/*
 * s3_client.h — S3 requests over libcurl: addressing, SigV4 signing,
 * connection reuse, parallel execution, retries, error reports.
 *
 * Parts of the objstore layer only (s3_backend.c, s3_config.c).
 */
#ifndef VLAKE_S3_CLIENT_H
#define VLAKE_S3_CLIENT_H

#include "postgres.h"

#include "objstore/s3_sigv4.h"

/* Where and as whom to send requests: resolved by s3_config.c. */
typedef struct S3Target
{
	char	   *server_name;	/* the foreign server (for hints) */
	char	   *scheme;			/* "http" or "https" */
	char	   *host;			/* host[:port] of the endpoint */
	char	   *base_path;		/* "" or "/path" in front of every request */
	char	   *region;
	bool		virtual_host;	/* bucket.host/key instead of host/bucket/key */
	char	   *bucket;
	char	   *access_key;
	char	   *secret_key;		/* never printed, never logged */
	char	   *session_token;	/* NULL when none */
	char	   *ca_file;		/* PEM bundle to trust instead of the system's; NULL */
} S3Target;

/* Retry discipline of a request. */
typedef enum S3RetryMode
{
	S3_RETRY_IDEMPOTENT,		/* any transient failure is retried */
	S3_RETRY_UNSENT_ONLY,		/* only when the request surely never arrived */
} S3RetryMode;

#define S3_MAX_EXTRA_HEADERS 6

/* A piece of a ranged GET's answer and where it goes (absolute offsets). */
typedef struct S3Segment
{
	uint64		offset;
	size_t		len;
	char	   *dest;
} S3Segment;

typedef struct S3Request
{
	const char *method;
	const char *key;			/* object key in the bucket; NULL: the bucket */
	S3QueryParam query[4];
	int			nquery;
	S3Header	extra[S3_MAX_EXTRA_HEADERS];	/* lower-case names, signed */
	int			nextra;
	const char *body;
	size_t		body_len;
	S3RetryMode retry;

	/* Response body destination: a caller buffer that must be filled
	 * exactly (range reads), else an allocated buffer. */
	char	   *dest;
	size_t		dest_len;
	uint64		range_offset;	/* with dest or segs: the Range asked for */
	/* Or, with dest NULL: the range [range_offset, + dest_len) is checked
	 * as with dest, and only the bytes of these segments (ascending, within
	 * the range) are kept, in their own buffers; the others are dropped. */
	const S3Segment *segs;
	int			nsegs;
	bool		verify_md5;		/* whole GET: check body against a plain-MD5 ETag */
} S3Request;

typedef struct S3Response
{
	long		status;			/* 0 when no HTTP answer */
	char	   *body;			/* allocated body (not with dest), NUL-terminated */
	size_t		body_len;
	int64		content_length; /* -1 when absent */
	char		etag[128];		/* without quotes */
	char		content_range[96];
	char		last_modified[64];
	char		request_id[64];
	int			attempts;
	/* an earlier attempt may have been applied by the server although we
	 * saw no success (lost response, 5xx): conditional writes check */
	bool		ambiguous;
	char		failure[256];	/* why the last attempt failed (no secrets) */
	bool		failed;			/* gave up: failure says why */
} S3Response;

extern void s3_request_add_header(S3Request *req, const char *name, const char *value);
extern void s3_request_add_query(S3Request *req, const char *name, const char *value);

/*
 * Run n requests (in parallel up to vlake.s3_max_parallel), each retried as
 * its S3RetryMode allows.  Returns when every request has a final HTTP
 * answer (2xx, 3xx or a non-retryable 4xx) or has given up (resp->failed);
 * it does not ERROR on HTTP errors, the caller decides (s3_report_error).
 */
extern void s3_execute(const S3Target *t, S3Request *reqs, S3Response *resps, int n);

/* ERROR describing a failed request: URI, HTTP status, S3 code/message. */
extern void s3_report_error(const S3Target *t, const char *verb, const char *uri,
							const S3Response *resp) pg_attribute_noreturn();

/* The S3 <Code> of an error body, or "" (palloc'd). */
extern char *s3_error_code(const S3Response *resp, const char *uri);

/* GUCs (s3_config.c defines them) */
extern int	s3_max_retries;
extern int	s3_retry_timeout_ms;
extern int	s3_retry_base_delay_ms;
extern int	s3_retry_max_delay_ms;
extern int	s3_connect_timeout_ms;
extern int	s3_request_timeout_ms;
extern int	s3_stall_timeout_s;
extern int	s3_max_parallel;
extern int	s3_part_size_kb;
extern int	s3_upload_parallel;
extern int	s3_read_part_size_kb;

#endif							/* VLAKE_S3_CLIENT_H */
