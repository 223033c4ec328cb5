/*
 * s3_client.c — S3 requests over libcurl (see s3_client.h).
 *
 * One curl multi handle per backend process drives every request, so TCP
 * connections (and TLS sessions) are kept alive and reused across requests
 * and statements; up to vlake.s3_max_parallel requests run at once (curl
 * multi is an event loop, not threads).  While waiting we wake every 100 ms
 * for CHECK_FOR_INTERRUPTS, so a query cancel stops a slow transfer.
 *
 * Every attempt is signed afresh (x-amz-date moves on).  Retries: 5xx,
 * 429, S3's RequestTimeout, connection failures/resets, timeouts and bodies
 * that do not match their Content-Length / Content-Range / MD5 ETag are
 * retried with exponential backoff and full jitter, bounded by
 * vlake.s3_max_retries and vlake.s3_retry_timeout — only for requests whose
 * retry mode allows it (s3_client.h).  The response records whether an
 * earlier attempt may have been applied ("ambiguous") so that conditional
 * writes can tell "412 because my own lost write won" from "412 because
 * someone else won" (s3_backend.c).
 *
 * Nothing here logs a header, a URL with a query, the signature or a key.
 */
#include "postgres.h"

#include <time.h>
#include <curl/curl.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "objstore/s3_client.h"
#include "objstore/s3_xml.h"

/* GUC variables, defined in s3_config.c */
int			s3_max_retries = 5;
int			s3_retry_timeout_ms = 20000;
int			s3_retry_base_delay_ms = 50;
int			s3_retry_max_delay_ms = 2000;
int			s3_connect_timeout_ms = 5000;
int			s3_request_timeout_ms = 300000;
int			s3_stall_timeout_s = 30;
int			s3_max_parallel = 32;
int			s3_part_size_kb = 16 * 1024;
int			s3_upload_parallel = 4;
int			s3_read_part_size_kb = 8 * 1024;

#define S3_POOL_MAX 64
#define S3_ERROR_BODY_MAX (64 * 1024)

typedef struct Slot
{
	CURL	   *easy;
	bool		in_multi;
	struct curl_slist *headers;
} Slot;

static CURLM *s3_multi = NULL;
static Slot s3_pool[S3_POOL_MAX];
static bool s3_curl_initialised = false;

typedef struct Transfer
{
	S3Request  *req;
	S3Response *resp;
	MemoryContext mcxt;			/* where the response body goes */
	int			slot;			/* -1 when not running */
	bool		done;
	double		next_at_ms;		/* earliest (re)start, ms since batch start */
	double		first_ms;		/* first start, ms since batch start */
	char		payload_sha256[S3_SHA256_HEX_LEN + 1];
	size_t		upload_pos;
	size_t		received;
	size_t		cap;
	bool		overflow;		/* more body than the destination takes */
	bool		oom;
	char		errbuf[CURL_ERROR_SIZE];
} Transfer;

void
s3_request_add_header(S3Request *req, const char *name, const char *value)
{
	if (req->nextra >= S3_MAX_EXTRA_HEADERS)
		elog(ERROR, "too many S3 request headers");
	req->extra[req->nextra].name = name;
	req->extra[req->nextra].value = value;
	req->nextra++;
}

void
s3_request_add_query(S3Request *req, const char *name, const char *value)
{
	if (req->nquery >= lengthof(req->query))
		elog(ERROR, "too many S3 query parameters");
	req->query[req->nquery].name = name;
	req->query[req->nquery].value = value;
	req->nquery++;
}

/* ---------------------------------------------------------- curl state -- */

static void
ensure_curl(void)
{
	if (!s3_curl_initialised)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not initialise libcurl")));
		s3_curl_initialised = true;
	}
	if (s3_multi == NULL)
	{
		s3_multi = curl_multi_init();
		if (s3_multi == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl multi handle")));
		/* bound the connection cache; connections stay open between requests */
		curl_multi_setopt(s3_multi, CURLMOPT_MAXCONNECTS, (long) S3_POOL_MAX);
	}
}

/* Detach whatever an interrupted (ERRORed) batch left in the multi handle. */
static void
reset_pool(void)
{
	for (int i = 0; i < S3_POOL_MAX; i++)
	{
		Slot	   *s = &s3_pool[i];

		if (s->in_multi)
		{
			curl_multi_remove_handle(s3_multi, s->easy);
			s->in_multi = false;
		}
		if (s->headers)
		{
			curl_slist_free_all(s->headers);
			s->headers = NULL;
		}
	}
}

/* -------------------------------------------------------- callbacks ---- */

static bool
header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
	size_t		nl = strlen(name);

	if (n <= nl || pg_strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return false;
	line += nl + 1;
	n -= nl + 1;
	while (n > 0 && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	*value = line;
	*vlen = n;
	return true;
}

static void
copy_header(char *dst, size_t dstsize, const char *v, size_t n)
{
	if (n >= dstsize)
		n = dstsize - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t
header_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
	Transfer   *t = userdata;
	S3Response *r = t->resp;
	size_t		n = size * nitems;
	const char *v;
	size_t		vlen;

	if (n > 5 && memcmp(buffer, "HTTP/", 5) == 0)
	{
		/* a new status line (after a 100 Continue, say): start over */
		const char *sp = memchr(buffer, ' ', n);

		r->status = 0;
		if (sp && (size_t) (sp - buffer) + 4 <= n)
			r->status = strtol(sp + 1, NULL, 10);
		r->content_length = -1;
		r->etag[0] = r->content_range[0] = r->last_modified[0] = r->request_id[0] = '\0';
		return n;
	}
	if (header_is(buffer, n, "content-length", &v, &vlen))
	{
		char		num[32];
		char	   *end;
		long long	cl;

		copy_header(num, sizeof(num), v, vlen);
		errno = 0;
		cl = strtoll(num, &end, 10);
		r->content_length = (errno == 0 && end != num && *end == '\0' && cl >= 0) ? cl : -1;
	}
	else if (header_is(buffer, n, "etag", &v, &vlen))
	{
		/* strip the quotes: ObjStat.etag is the bare validator */
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
			v++, vlen -= 2;
		copy_header(r->etag, sizeof(r->etag), v, vlen);
	}
	else if (header_is(buffer, n, "content-range", &v, &vlen))
		copy_header(r->content_range, sizeof(r->content_range), v, vlen);
	else if (header_is(buffer, n, "last-modified", &v, &vlen))
		copy_header(r->last_modified, sizeof(r->last_modified), v, vlen);
	else if (header_is(buffer, n, "x-amz-request-id", &v, &vlen))
		copy_header(r->request_id, sizeof(r->request_id), v, vlen);
	return n;
}

/* Grow the body buffer without ever ERRORing inside a curl callback. */
static bool
body_reserve(Transfer *t, size_t need)
{
	char	   *nb;
	size_t		newcap;

	if (need + 1 <= t->cap)
		return true;
	newcap = Max(t->cap * 2, need + 1);
	newcap = Max(newcap, 8192);
	if (newcap > MaxAllocHugeSize)
		return false;
	nb = MemoryContextAllocExtended(t->mcxt, newcap, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (nb == NULL)
		return false;
	if (t->resp->body)
	{
		memcpy(nb, t->resp->body, t->received);
		pfree(t->resp->body);
	}
	t->resp->body = nb;
	t->cap = newcap;
	return true;
}

/* The bytes [at, at + n) of a ranged answer into the segments they cover. */
static void
scatter(const S3Request *req, uint64 at, const char *ptr, size_t n)
{
	for (int i = 0; i < req->nsegs; i++)
	{
		const S3Segment *g = &req->segs[i];
		uint64		from = Max(at, g->offset),
					to = Min(at + n, g->offset + g->len);

		if (g->offset >= at + n)
			break;				/* ascending: the rest start later */
		if (from < to)
			memcpy(g->dest + (from - g->offset), ptr + (from - at), to - from);
	}
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	Transfer   *t = userdata;
	S3Response *r = t->resp;
	size_t		n = size * nmemb;
	bool		success = (r->status >= 200 && r->status < 300);

	if ((t->req->dest || t->req->segs) && success)
	{
		if (t->received + n > t->req->dest_len)
		{
			t->overflow = true;
			return 0;			/* aborts the transfer: CURLE_WRITE_ERROR */
		}
		if (t->req->dest)
			memcpy(t->req->dest + t->received, ptr, n);
		else
			scatter(t->req, t->req->range_offset + t->received, ptr, n);
		t->received += n;
		return n;
	}
	if (!success && t->received + n > S3_ERROR_BODY_MAX)
		return n;				/* error documents are small; drop the rest */
	if (t->received == 0 && r->content_length > 0 && success)
		(void) body_reserve(t, (size_t) r->content_length);
	if (!body_reserve(t, t->received + n))
	{
		t->oom = true;
		return 0;
	}
	memcpy(r->body + t->received, ptr, n);
	t->received += n;
	r->body[t->received] = '\0';
	return n;
}

static size_t
read_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
	Transfer   *t = userdata;
	size_t		room = size * nitems;
	size_t		left = t->req->body_len - t->upload_pos;
	size_t		n = Min(room, left);

	if (n > 0)
		memcpy(buffer, t->req->body + t->upload_pos, n);
	t->upload_pos += n;
	return n;
}

/*
 * libcurl silently re-sends a request whose reused connection died before
 * any answer byte arrived, rewinding the body through this callback.  That
 * hidden retry would hide an ambiguous attempt from us: a conditional PUT
 * applied by the server whose answer was lost would come back as a plain
 * 412, and a CreateMultipartUpload could be sent twice.  So rewinding is
 * refused: curl reports CURLE_SEND_FAIL_REWIND instead, and our own retry
 * logic, which records the ambiguity, decides.
 */
static int
seek_cb(void *userdata, curl_off_t offset, int origin)
{
	return CURL_SEEKFUNC_FAIL;
}

/* ---------------------------------------------------- one attempt ---- */

static void
append_request_path(StringInfo path, const S3Target *tg, const char *key)
{
	appendStringInfoString(path, tg->base_path);
	if (!tg->virtual_host)
	{
		appendStringInfoChar(path, '/');
		s3_uri_encode(path, tg->bucket, false);
	}
	if (key)
	{
		appendStringInfoChar(path, '/');
		s3_uri_encode(path, key, true);
	}
	else if (tg->virtual_host)
		appendStringInfoChar(path, '/');
}

static struct curl_slist *
slist_add(struct curl_slist *list, const char *name, const char *value)
{
	char	   *line = psprintf("%s: %s", name, value);
	struct curl_slist *n = curl_slist_append(list, line);

	pfree(line);
	if (n == NULL)
	{
		curl_slist_free_all(list);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	return n;
}

#define SETOPT(h, opt, val) \
	do { if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) \
			elog(ERROR, "could not set libcurl option %s", #opt); } while (0)

static void
start_attempt(const S3Target *tg, Transfer *t, int slotno, int index)
{
	Slot	   *slot = &s3_pool[slotno];
	S3Request  *req = t->req;
	S3Response *r = t->resp;
	StringInfoData path;
	StringInfoData query;
	StringInfoData url;
	StringInfoData auth;
	char	   *host;
	char		amz_date[32];
	time_t		now = time(NULL);
	struct tm	tmv;
	S3Header	sign[S3_MAX_EXTRA_HEADERS + 4];
	int			nsign = 0;
	S3SignRequest sr;
	struct curl_slist *hl = NULL;
	CURL	   *h;

	if (slot->easy == NULL)
	{
		slot->easy = curl_easy_init();
		if (slot->easy == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY),
							errmsg("could not create a libcurl handle")));
	}
	h = slot->easy;
	curl_easy_reset(h);

	/* fresh response state for this attempt */
	r->status = 0;
	r->content_length = -1;
	r->etag[0] = r->content_range[0] = r->last_modified[0] = r->request_id[0] = '\0';
	t->received = 0;
	t->upload_pos = 0;
	t->overflow = t->oom = false;
	t->errbuf[0] = '\0';
	if (r->body)
		r->body[0] = '\0';

	initStringInfo(&path);
	append_request_path(&path, tg, req->key);
	initStringInfo(&query);
	s3_canonical_query(&query, req->query, req->nquery);
	host = tg->virtual_host ? psprintf("%s.%s", tg->bucket, tg->host) : pstrdup(tg->host);
	initStringInfo(&url);
	appendStringInfo(&url, "%s://%s%s%s%s", tg->scheme, host, path.data,
					 query.len > 0 ? "?" : "", query.data);

	gmtime_r(&now, &tmv);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tmv);

	sign[nsign++] = (S3Header) {"host", host};
	sign[nsign++] = (S3Header) {"x-amz-content-sha256", t->payload_sha256};
	sign[nsign++] = (S3Header) {"x-amz-date", amz_date};
	if (tg->session_token)
		sign[nsign++] = (S3Header) {"x-amz-security-token", tg->session_token};
	for (int i = 0; i < req->nextra; i++)
		sign[nsign++] = req->extra[i];

	sr.method = req->method;
	sr.canonical_uri = path.data;
	sr.canonical_query = query.data;
	sr.headers = sign;
	sr.nheaders = nsign;
	sr.payload_sha256 = t->payload_sha256;
	sr.amz_date = amz_date;
	sr.region = tg->region;
	sr.access_key = tg->access_key;
	sr.secret_key = tg->secret_key;
	initStringInfo(&auth);
	s3_sigv4_authorization(&sr, &auth, NULL);

	for (int i = 0; i < nsign; i++)
		hl = slist_add(hl, sign[i].name, sign[i].value);
	hl = slist_add(hl, "Authorization", auth.data);
	/* no 100-continue round trip; no body compression (bytes must be exact) */
	hl = curl_slist_append(hl, "Expect:");
	if (strcmp(req->method, "POST") == 0)
		hl = curl_slist_append(hl, "Content-Type: application/xml");
	if (hl == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	explicit_bzero(auth.data, auth.len);
	pfree(auth.data);
	slot->headers = hl;

	SETOPT(h, CURLOPT_URL, url.data);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(h, CURLOPT_HTTPHEADER, hl);
	SETOPT(h, CURLOPT_PATH_AS_IS, 1L);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, (long) s3_connect_timeout_ms);
	if (s3_request_timeout_ms > 0)
		SETOPT(h, CURLOPT_TIMEOUT_MS, (long) s3_request_timeout_ms);
	if (s3_stall_timeout_s > 0)
	{
		SETOPT(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		SETOPT(h, CURLOPT_LOW_SPEED_TIME, (long) s3_stall_timeout_s);
	}
	if (tg->ca_file)
		SETOPT(h, CURLOPT_CAINFO, tg->ca_file);
	SETOPT(h, CURLOPT_ERRORBUFFER, t->errbuf);
	SETOPT(h, CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(h, CURLOPT_HEADERDATA, t);
	SETOPT(h, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(h, CURLOPT_WRITEDATA, t);
	SETOPT(h, CURLOPT_PRIVATE, (void *) (intptr_t) index);

	if (strcmp(req->method, "HEAD") == 0)
		SETOPT(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(req->method, "PUT") == 0)
	{
		SETOPT(h, CURLOPT_UPLOAD, 1L);
		SETOPT(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->body_len);
		SETOPT(h, CURLOPT_READFUNCTION, read_cb);
		SETOPT(h, CURLOPT_READDATA, t);
		SETOPT(h, CURLOPT_SEEKFUNCTION, seek_cb);
		SETOPT(h, CURLOPT_SEEKDATA, t);
	}
	else if (strcmp(req->method, "POST") == 0)
	{
		SETOPT(h, CURLOPT_POST, 1L);
		SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
		SETOPT(h, CURLOPT_READFUNCTION, read_cb);
		SETOPT(h, CURLOPT_READDATA, t);
		SETOPT(h, CURLOPT_SEEKFUNCTION, seek_cb);
		SETOPT(h, CURLOPT_SEEKDATA, t);
	}
	else if (strcmp(req->method, "DELETE") == 0)
		SETOPT(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	else if (strcmp(req->method, "GET") != 0)
		elog(ERROR, "unsupported S3 method %s", req->method);

	if (curl_multi_add_handle(s3_multi, h) != CURLM_OK)
		elog(ERROR, "could not start an S3 request");
	slot->in_multi = true;
	t->slot = slotno;
	r->attempts++;

	pfree(path.data);
	pfree(query.data);
	pfree(url.data);
	pfree(host);
}

/* ------------------------------------------------- judging an attempt -- */

static bool
is_plain_md5(const char *etag)
{
	if (strlen(etag) != 32)
		return false;
	for (int i = 0; i < 32; i++)
		if (!((etag[i] >= '0' && etag[i] <= '9') || (etag[i] >= 'a' && etag[i] <= 'f')))
			return false;
	return true;
}

/* Content-Range "bytes A-B/T" must be exactly the range asked for. */
static bool
content_range_matches(const S3Response *r, uint64 off, size_t len)
{
	unsigned long long a,
				b;
	int			consumed = 0;

	if (sscanf(r->content_range, "bytes %llu-%llu/%n", &a, &b, &consumed) != 2 || consumed == 0)
		return false;
	return a == off && b + 1 == off + len;
}

/* Code and Message of an S3 error document; NULLs when unparsable. */
static void
parse_error_body(const S3Response *resp, const char *uri, char **code, char **message)
{
	char	   *volatile c = NULL;
	char	   *volatile m = NULL;

	if (resp->body && resp->body_len > 0)
	{
		S3XmlSpan	doc = {resp->body, resp->body_len};
		MemoryContext oldcxt = CurrentMemoryContext;

		PG_TRY();
		{
			c = s3xml_child_text(doc, "Code", uri);
			m = s3xml_child_text(doc, "Message", uri);
		}
		PG_CATCH();
		{
			/* an unparsable error body is reported by its status alone */
			MemoryContextSwitchTo(oldcxt);
			FlushErrorState();
			c = m = NULL;
		}
		PG_END_TRY();
	}
	*code = c;
	*message = m;
}

char *
s3_error_code(const S3Response *resp, const char *uri)
{
	char	   *code;
	char	   *message;

	parse_error_body(resp, uri, &code, &message);
	return code ? code : pstrdup("");
}

/*
 * Decide what an attempt's outcome means: final (done), or a transient
 * failure (retryable, with a reason), and whether the server may have
 * applied the request anyway.
 */
static bool
attempt_failed(Transfer *t, CURLcode cc, bool *retryable, bool *ambiguous,
			   char *reason, size_t reasonsize)
{
	S3Request  *req = t->req;
	S3Response *r = t->resp;

	*retryable = false;
	*ambiguous = true;
	r->body_len = t->received;

	if (cc != CURLE_OK)
	{
		if (t->overflow)
		{
			snprintf(reason, reasonsize, "response body longer than the %zu bytes asked for",
					 req->dest_len);
			*retryable = true;
			return true;
		}
		if (t->oom)
		{
			snprintf(reason, reasonsize, "out of memory receiving the response");
			return true;
		}
		snprintf(reason, reasonsize, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc));
		switch (cc)
		{
			case CURLE_COULDNT_CONNECT:
			case CURLE_COULDNT_RESOLVE_HOST:
				*retryable = true;
				*ambiguous = false; /* nothing reached the server */
				break;
			case CURLE_SEND_FAIL_REWIND:	/* see seek_cb */
			case CURLE_OPERATION_TIMEDOUT:
			case CURLE_SEND_ERROR:
			case CURLE_RECV_ERROR:
			case CURLE_PARTIAL_FILE:
			case CURLE_GOT_NOTHING:
			case CURLE_HTTP2:
			case CURLE_HTTP2_STREAM:
			case CURLE_SSL_CONNECT_ERROR:
			case CURLE_WEIRD_SERVER_REPLY:
				*retryable = true;
				break;
			default:
				break;
		}
		return true;
	}

	if (r->status >= 500 || r->status == 429)
	{
		char	   *code = s3_error_code(r, "");

		snprintf(reason, reasonsize, "HTTP %ld%s%s", r->status, code[0] ? " " : "", code);
		*retryable = true;
		return true;
	}
	if (r->status == 400 || r->status == 409)
	{
		char	   *code = s3_error_code(r, "");

		/* S3 asks for these to be retried */
		if (strcmp(code, "RequestTimeout") == 0 ||
			strcmp(code, "ConditionalRequestConflict") == 0)
		{
			snprintf(reason, reasonsize, "HTTP %ld %s", r->status, code);
			*retryable = true;
			return true;
		}
		return false;
	}
	if (r->status < 200 || r->status >= 300 || strcmp(req->method, "HEAD") == 0)
		return false;

	/* a 2xx: is the body whole? */
	if (req->dest || req->segs)
	{
		if (r->status != 206 || !content_range_matches(r, req->range_offset, req->dest_len))
		{
			snprintf(reason, reasonsize, "the answer to a range request is not that range (HTTP %ld, Content-Range \"%s\")",
					 r->status, r->content_range);
			*retryable = true;
			return true;
		}
		if (t->received != req->dest_len)
		{
			snprintf(reason, reasonsize, "short body: %zu of %zu bytes", t->received, req->dest_len);
			*retryable = true;
			return true;
		}
		return false;
	}
	if (r->content_length >= 0 && (uint64) r->content_length != t->received)
	{
		snprintf(reason, reasonsize, "truncated body: %zu of %lld bytes",
				 t->received, (long long) r->content_length);
		*retryable = true;
		return true;
	}
	if (req->verify_md5 && is_plain_md5(r->etag))
	{
		char		md5[33];

		s3_md5_hex(r->body ? r->body : "", t->received, md5);
		if (strcmp(md5, r->etag) != 0)
		{
			snprintf(reason, reasonsize, "body does not match its ETag (MD5)");
			*retryable = true;
			return true;
		}
	}
	return false;
}

static double
ms_since(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_MILLISEC(now);
}

/* Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))]. */
static double
backoff_ms(int attempt)
{
	double		cap = s3_retry_base_delay_ms;

	for (int i = 1; i < attempt && cap < s3_retry_max_delay_ms; i++)
		cap *= 2;
	cap = Min(cap, (double) s3_retry_max_delay_ms);
	return pg_prng_double(&pg_global_prng_state) * cap;
}

static void
finish_attempt(Transfer *t, CURLcode cc, double now_ms)
{
	S3Response *r = t->resp;
	bool		retryable;
	bool		ambiguous;
	char		reason[256];

	if (!attempt_failed(t, cc, &retryable, &ambiguous, reason, sizeof(reason)))
	{
		r->body_len = t->received;
		t->done = true;
		return;
	}
	r->ambiguous |= ambiguous;
	strlcpy(r->failure, reason, sizeof(r->failure));
	if (retryable)
	{
		bool		allowed = (t->req->retry == S3_RETRY_IDEMPOTENT ||
							   (t->req->retry == S3_RETRY_UNSENT_ONLY && !ambiguous));
		double		delay = backoff_ms(r->attempts);

		if (allowed && r->attempts <= s3_max_retries &&
			now_ms + delay - t->first_ms <= s3_retry_timeout_ms)
		{
			elog(DEBUG1, "vlake: S3 %s attempt %d failed (%s), retrying in %.0f ms",
				 t->req->method, r->attempts, reason, delay);
			t->next_at_ms = now_ms + delay;
			return;
		}
		if (!allowed)
			strlcat(r->failure, " (not retried: the request may have been applied)",
					sizeof(r->failure));
	}
	/* a failed transfer of an HTTP answer keeps its status for the report */
	r->failed = (cc != CURLE_OK || t->overflow || retryable);
	r->body_len = t->received;
	t->done = true;
}

/* ------------------------------------------------------------ batch ---- */

void
s3_execute(const S3Target *tg, S3Request *reqs, S3Response *resps, int n)
{
	Transfer   *tr;
	instr_time	batch_start;
	int			remaining = n;
	int			max_running = Min(Max(s3_max_parallel, 1), S3_POOL_MAX);

	if (n <= 0)
		return;
	ensure_curl();
	reset_pool();
	INSTR_TIME_SET_CURRENT(batch_start);

	tr = palloc0(sizeof(Transfer) * n);
	for (int i = 0; i < n; i++)
	{
		tr[i].req = &reqs[i];
		tr[i].resp = &resps[i];
		tr[i].mcxt = CurrentMemoryContext;
		tr[i].slot = -1;
		tr[i].first_ms = -1;
		memset(&resps[i], 0, sizeof(S3Response));
		resps[i].content_length = -1;
		if (reqs[i].body_len > 0)
			s3_sha256_hex(reqs[i].body, reqs[i].body_len, tr[i].payload_sha256);
		else
			strlcpy(tr[i].payload_sha256, S3_EMPTY_SHA256, sizeof(tr[i].payload_sha256));
	}

	while (remaining > 0)
	{
		double		now_ms;
		int			running = 0;
		int			still;
		int			queued;
		CURLMsg    *msg;
		double		wait_ms = 100;

		CHECK_FOR_INTERRUPTS();
		now_ms = ms_since(batch_start);

		for (int i = 0; i < n; i++)
			if (tr[i].slot >= 0)
				running++;
		for (int i = 0; i < n && running < max_running; i++)
		{
			Transfer   *t = &tr[i];

			if (t->done || t->slot >= 0 || t->next_at_ms > now_ms)
				continue;
			for (int s = 0; s < max_running; s++)
				if (!s3_pool[s].in_multi)
				{
					if (t->first_ms < 0)
						t->first_ms = now_ms;
					start_attempt(tg, t, s, i);
					running++;
					break;
				}
		}

		if (curl_multi_perform(s3_multi, &still) != CURLM_OK)
			elog(ERROR, "libcurl multi handle failed");

		while ((msg = curl_multi_info_read(s3_multi, &queued)) != NULL)
		{
			char	   *priv = NULL;
			Transfer   *t;
			Slot	   *slot;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			t = &tr[(intptr_t) priv];
			slot = &s3_pool[t->slot];
			curl_multi_remove_handle(s3_multi, slot->easy);
			slot->in_multi = false;
			curl_slist_free_all(slot->headers);
			slot->headers = NULL;
			t->slot = -1;
			finish_attempt(t, msg->data.result, ms_since(batch_start));
			if (t->done)
				remaining--;
		}
		if (remaining == 0)
			break;

		/* nothing in flight: sleep until the next retry is due */
		running = 0;
		for (int i = 0; i < n; i++)
			if (tr[i].slot >= 0)
				running++;
		if (running == 0)
		{
			double		next = -1;

			now_ms = ms_since(batch_start);
			for (int i = 0; i < n; i++)
				if (!tr[i].done && (next < 0 || tr[i].next_at_ms < next))
					next = tr[i].next_at_ms;
			wait_ms = Min(100.0, Max(0.0, next - now_ms));
		}
		if (wait_ms > 0)
			curl_multi_poll(s3_multi, NULL, 0, (int) wait_ms + (running ? 0 : 1), NULL);
	}
	pfree(tr);
}

/* ------------------------------------------------------- reporting ---- */

/* S3 messages are shown, but only printable ASCII and bounded. */
static char *
sanitized(const char *s)
{
	StringInfoData out;

	initStringInfo(&out);
	for (; s && *s && out.len < 300; s++)
		appendStringInfoChar(&out, (*s >= 32 && *s < 127) ? *s : '?');
	return out.data;
}

void
s3_report_error(const S3Target *t, const char *verb, const char *uri,
				const S3Response *resp)
{
	char	   *code = NULL;
	char	   *message = NULL;
	int			sqlstate = ERRCODE_IO_ERROR;
	const char *hint = NULL;

	if (resp->failed && resp->status == 0)
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not %s \"%s\": %s", verb, uri, sanitized(resp->failure)),
				 errdetail("Gave up after %d attempt(s).", resp->attempts),
				 errhint("Check the endpoint of server \"%s\"; vlake.s3_max_retries and vlake.s3_retry_timeout bound the retries.",
						 t->server_name)));

	parse_error_body(resp, uri, &code, &message);
	if (resp->failed && resp->status >= 200 && resp->status < 300)
	{
		/* a 2xx whose body was wrong every time */
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not %s \"%s\": %s", verb, uri, sanitized(resp->failure)),
				 errdetail("Gave up after %d attempt(s).", resp->attempts)));
	}
	switch (resp->status)
	{
		case 401:
		case 403:
			sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
			hint = "Check the access_key, secret_key and session_token of the user mapping, and the region of the server.";
			break;
		case 301:
		case 307:
			hint = "The bucket answers from another region or endpoint: set the region and endpoint options of the server.";
			break;
		case 404:
			sqlstate = ERRCODE_UNDEFINED_FILE;
			break;
		case 412:
			sqlstate = ERRCODE_T_R_SERIALIZATION_FAILURE;
			break;
		case 416:
			sqlstate = ERRCODE_DATA_CORRUPTED;
			hint = "The object is shorter than the range asked for.";
			break;
		default:
			break;
	}
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("could not %s \"%s\": HTTP %ld%s%s", verb, uri, resp->status,
					code && code[0] ? " " : "", code ? sanitized(code) : ""),
			 message ? errdetail("S3 says: %s (request id %s, %d attempt(s)%s%s).",
								 sanitized(message),
								 resp->request_id[0] ? sanitized(resp->request_id) : "none",
								 resp->attempts,
								 resp->failed ? "; last failure: " : "",
								 resp->failed ? sanitized(resp->failure) : "")
			 : errdetail("%d attempt(s)%s%s.", resp->attempts,
						 resp->failed ? "; last failure: " : "",
						 resp->failed ? sanitized(resp->failure) : ""),
			 hint ? errhint("%s (server \"%s\")", hint, t->server_name) : 0));
}
