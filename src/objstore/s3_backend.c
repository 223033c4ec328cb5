/*
 * s3_backend.c — the s3:// backend of the objstore layer.
 *
 * Maps the backend contract (objstore_backend.h) onto S3 requests
 * (s3_client.c), with configuration and credentials from the catalogs
 * (s3_config.c).  A store rooted at s3://bucket/prefix/ addresses the key
 * K as the object "prefix/K" of the bucket.
 *
 * Conditional writes and lost responses.  put_if_absent sends
 * If-None-Match: * and put_if_match If-Match: "etag".  They are retried
 * like idempotent requests, which raises one question: an attempt whose
 * answer was lost (reset, timeout, 5xx) may have been applied, and then the
 * retry is refused with 412 by our own write.  So a 412 that follows such an
 * ambiguous attempt is checked: the object is read back, and if its bytes
 * are exactly the bytes we wrote, the write is ours and succeeds.  Another
 * writer that put byte-identical content is indistinguishable from us and
 * equivalent for immutable content, so treating that as our success is
 * safe.  Any other content means someone else won: false.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

#include "objstore/objstore_backend.h"
#include "objstore/s3_client.h"
#include "objstore/s3_config.h"
#include "objstore/s3_xml.h"

typedef struct S3State
{
	S3Target   *target;
	char	   *root_uri;		/* s3://bucket/prefix/ */
	char	   *prefix;			/* "" or "prefix/" */
} S3State;

typedef struct S3Writer
{
	S3Target   *target;			/* own copy: writers outlive stores */
	char	   *full_key;
	char	   *uri;
	char	   *buf;			/* parts being filled (up to `parallel`) */
	size_t		buf_len;
	size_t		buf_cap;
	size_t		part_size;
	int			parallel;		/* parts uploaded at once */
	char	   *upload_id;		/* NULL until the first part is sent */
	List	   *part_etags;		/* char *, in part order */
	StringInfoData part_md5s;	/* raw MD5 of each part, concatenated */
	void	   *whole_md5;		/* running MD5 of every byte written */
	char		whole_md5_hex[33];
	uint64		total;
	bool		closed;
} S3Writer;

#define S3_DELETE_BATCH 1000

static char *
full_key(S3State *st, const char *key)
{
	return psprintf("%s%s", st->prefix, key);
}

static char *
key_uri(S3State *st, const char *key)
{
	return psprintf("%s%s", st->root_uri, key);
}

static void
init_request(S3Request *r, const char *method, const char *key)
{
	memset(r, 0, sizeof(S3Request));
	r->method = method;
	r->key = key;
	r->retry = S3_RETRY_IDEMPOTENT;
}

/* One request, no parallelism. */
static void
run1(const S3Target *t, S3Request *req, S3Response *resp)
{
	s3_execute(t, req, resp, 1);
}

static void
ensure_status(const S3Target *t, const char *verb, const char *uri,
			  const S3Response *resp, long lo, long hi)
{
	if (resp->failed || resp->status < lo || resp->status > hi)
		s3_report_error(t, verb, uri, resp);
}

/* --------------------------------------------------------------- open -- */

static void *
s3_open(const char *root_uri)
{
	S3State    *st = palloc0(sizeof(S3State));
	char	   *bucket;
	size_t		n = strlen(root_uri);

	st->root_uri = (n > 0 && root_uri[n - 1] == '/') ? pstrdup(root_uri)
		: psprintf("%s/", root_uri);
	st->target = s3_target_for_uri(st->root_uri, &bucket, &st->prefix);
	return st;
}

static void
s3_close(void *state)
{
	S3State    *st = state;

	if (st == NULL)
		return;
	/* scrub the credentials before the memory goes back to the pool */
	explicit_bzero(st->target->secret_key, strlen(st->target->secret_key));
	if (st->target->session_token)
		explicit_bzero(st->target->session_token, strlen(st->target->session_token));
}

/* --------------------------------------------------------------- head -- */

static bool
s3_head(void *state, const char *key, ObjStat *stat)
{
	S3State    *st = state;
	S3Request	req;
	S3Response	resp;
	char	   *uri = key_uri(st, key);

	init_request(&req, "HEAD", full_key(st, key));
	run1(st->target, &req, &resp);
	if (!resp.failed && resp.status == 404)
		return false;
	if (!resp.failed && resp.status >= 400 && resp.status < 500)
	{
		/*
		 * An answer to HEAD has no body, so no S3 error code: ask again
		 * with a one-byte GET to report why (InvalidAccessKeyId,
		 * SignatureDoesNotMatch, ...).
		 */
		S3Request	diag;
		S3Response	dresp;

		init_request(&diag, "GET", full_key(st, key));
		s3_request_add_header(&diag, "range", "bytes=0-0");
		diag.retry = S3_RETRY_UNSENT_ONLY;
		run1(st->target, &diag, &dresp);
		if (!dresp.failed && dresp.status == resp.status && dresp.body_len > 0)
			s3_report_error(st->target, "stat", uri, &dresp);
	}
	ensure_status(st->target, "stat", uri, &resp, 200, 200);
	if (resp.content_length < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("could not stat \"%s\": the answer has no Content-Length", uri)));
	memset(stat, 0, sizeof(ObjStat));
	stat->size = (uint64) resp.content_length;
	strlcpy(stat->etag, resp.etag, sizeof(stat->etag));
	if (resp.last_modified[0])
	{
		time_t		t = curl_getdate(resp.last_modified, NULL);

		stat->mtime = t > 0 ? (int64) t : 0;
	}
	return true;
}

/* ---------------------------------------------------------------- get -- */

static char *
s3_get(void *state, const char *key, uint64 *len)
{
	S3State    *st = state;
	S3Request	req;
	S3Response	resp;
	char	   *uri = key_uri(st, key);

	init_request(&req, "GET", full_key(st, key));
	req.verify_md5 = true;
	run1(st->target, &req, &resp);
	ensure_status(st->target, "read", uri, &resp, 200, 200);
	*len = resp.body_len;
	return resp.body ? resp.body : palloc0(1);
}

/*
 * Ranges closer than this are read in one request, the bytes between them
 * dropped: a request costs a round trip, and in a new backend a connection
 * (a TLS handshake on S3) and a share of a wave's parallel slots, while
 * this many bytes more on an open connection cost well under a
 * millisecond.  A cold index query's lists, numbered along a path through
 * their centroids, mostly lie this close in codes.bin (docs/index.md).
 */
#define S3_RANGE_GAP ((uint64) 128 * 1024)

/* A run of ranges read as one: [offset, offset + length), segs[nsegs]. */
typedef struct RangeRun
{
	uint64		offset;
	uint64		length;
	S3Segment  *segs;
	int			nsegs;
} RangeRun;

static int
cmp_seg_offset(const void *a, const void *b)
{
	uint64		x = ((const S3Segment *) a)->offset;
	uint64		y = ((const S3Segment *) b)->offset;

	return (x > y) - (x < y);
}

/* The non-empty ranges, by offset, joined into runs with gaps <= S3_RANGE_GAP. */
static int
range_runs(const char *uri, ObjRange *ranges, int n, RangeRun *runs)
{
	S3Segment  *segs = palloc(sizeof(S3Segment) * Max(n, 1));
	int			nsegs = 0,
				nruns = 0;

	for (int i = 0; i < n; i++)
	{
		if (ranges[i].offset + ranges[i].length < ranges[i].offset)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid range of \"%s\"", uri)));
		if (ranges[i].length == 0)
			continue;
		segs[nsegs].offset = ranges[i].offset;
		segs[nsegs].len = (size_t) ranges[i].length;
		segs[nsegs].dest = ranges[i].dest;
		nsegs++;
	}
	qsort(segs, nsegs, sizeof(S3Segment), cmp_seg_offset);
	for (int k = 0; k < nsegs; k++)
	{
		RangeRun   *last = nruns > 0 ? &runs[nruns - 1] : NULL;
		uint64		end = segs[k].offset + segs[k].len;

		if (last && segs[k].offset <= last->offset + last->length + S3_RANGE_GAP)
		{
			last->length = Max(last->offset + last->length, end) - last->offset;
			last->nsegs++;
			continue;
		}
		runs[nruns].offset = segs[k].offset;
		runs[nruns].length = segs[k].len;
		runs[nruns].segs = &segs[k];
		runs[nruns].nsegs = 1;
		nruns++;
	}
	return nruns;
}

/*
 * Ranges in parallel, up to vlake.s3_max_parallel requests at a time over
 * kept-alive connections: one request per run of nearby ranges
 * (S3_RANGE_GAP), each range's bytes written straight into its own buffer.
 * With etag: every request carries If-Match, so all bytes come from that
 * version; false on 412.
 */
static bool
get_ranges_common(S3State *st, const char *key, ObjRange *ranges, int n,
				  const char *etag)
{
	S3Request  *reqs;
	S3Response *resps;
	RangeRun   *runs = palloc(sizeof(RangeRun) * Max(n, 1));
	int			nruns,
				m = 0;
	char	   *fk = full_key(st, key);
	char	   *uri = key_uri(st, key);
	char	   *if_match = etag ? psprintf("\"%s\"", etag) : NULL;
	bool		ok = true;

	/*
	 * With a known version (If-Match), a long run is split into pieces of
	 * vlake.s3_read_part_size fetched in parallel: one S3 connection
	 * carries far less than a machine can take.  Without one, a run stays
	 * one request, so its bytes cannot come from two versions.
	 */
	uint64		piece = (etag && s3_read_part_size_kb > 0) ?
		(uint64) s3_read_part_size_kb * 1024 : 0;
	int			total = 0;

	nruns = range_runs(uri, ranges, n, runs);
	for (int r = 0; r < nruns; r++)
		total += piece ? (int) ((runs[r].length + piece - 1) / piece) : 1;
	reqs = palloc0(sizeof(S3Request) * Max(total, 1));
	resps = palloc0(sizeof(S3Response) * Max(total, 1));
	for (int r = 0; r < nruns; r++)
	{
		RangeRun   *run = &runs[r];

		for (uint64 done = 0; done < run->length;)
		{
			uint64		off = run->offset + done;
			uint64		len = run->length - done;

			if (piece && len > piece)
				len = piece;
			init_request(&reqs[m], "GET", fk);
			s3_request_add_header(&reqs[m], "range",
								  psprintf("bytes=" UINT64_FORMAT "-" UINT64_FORMAT,
										   off, off + len - 1));
			if (if_match)
				s3_request_add_header(&reqs[m], "if-match", if_match);
			if (run->nsegs == 1)
				reqs[m].dest = run->segs[0].dest + done;
			else
			{
				/* the pieces clip the run's segments by offset */
				reqs[m].segs = run->segs;
				reqs[m].nsegs = run->nsegs;
			}
			reqs[m].dest_len = len;
			reqs[m].range_offset = off;
			m++;
			done += len;
		}
	}
	s3_execute(st->target, reqs, resps, m);
	for (int i = 0; i < m; i++)
	{
		if (!resps[i].failed && resps[i].status == 412 && etag)
		{
			ok = false;
			continue;
		}
		ensure_status(st->target, "read", uri, &resps[i], 206, 206);
	}
	pfree(reqs);
	pfree(resps);
	pfree(runs);
	return ok;
}

static void
s3_get_ranges(void *state, const char *key, ObjRange *ranges, int n)
{
	(void) get_ranges_common(state, key, ranges, n, NULL);
}

static bool
s3_get_ranges_if_match(void *state, const char *key, ObjRange *ranges, int n,
					   const char *etag)
{
	return get_ranges_common(state, key, ranges, n, etag);
}

/* ---------------------------------------------------------------- put -- */

static void
add_body_md5(S3Request *req, const char *data, uint64 len, unsigned char *raw_md5_out)
{
	unsigned char raw[16];
	char	   *md5 = palloc(25);

	req->body = data;
	req->body_len = (size_t) len;
	s3_md5_raw(data, (size_t) len, raw);
	s3_base64_of_md5(raw, md5);
	s3_request_add_header(req, "content-md5", md5);
	if (raw_md5_out)
		memcpy(raw_md5_out, raw, 16);
}

static void
add_body(S3Request *req, const char *data, uint64 len)
{
	add_body_md5(req, data, len, NULL);
}

static void
s3_put(void *state, const char *key, const char *data, uint64 len)
{
	S3State    *st = state;
	S3Request	req;
	S3Response	resp;

	init_request(&req, "PUT", full_key(st, key));
	add_body(&req, data, len);
	run1(st->target, &req, &resp);
	ensure_status(st->target, "write", key_uri(st, key), &resp, 200, 299);
}

/* After an ambiguous attempt: is the object there exactly our bytes? */
static bool
object_is_ours(S3State *st, const char *key, const char *data, uint64 len)
{
	S3Request	req;
	S3Response	resp;

	init_request(&req, "GET", full_key(st, key));
	req.verify_md5 = true;
	run1(st->target, &req, &resp);
	if (!resp.failed && resp.status == 404)
		return false;
	ensure_status(st->target, "read back", key_uri(st, key), &resp, 200, 200);
	return resp.body_len == len && (len == 0 || memcmp(resp.body, data, len) == 0);
}

static bool
conditional_put(S3State *st, const char *key, const char *data, uint64 len,
				const char *header, const char *value)
{
	S3Request	req;
	S3Response	resp;
	char	   *uri = key_uri(st, key);

	init_request(&req, "PUT", full_key(st, key));
	add_body(&req, data, len);
	s3_request_add_header(&req, header, value);
	run1(st->target, &req, &resp);
	if (!resp.failed && (resp.status == 412 || (resp.status == 404 && strcmp(header, "if-match") == 0)))
	{
		if (resp.ambiguous && resp.status == 412)
		{
			bool		ours = object_is_ours(st, key, data, len);

			elog(DEBUG1, "vlake: conditional write of \"%s\" refused after an ambiguous attempt: %s",
				 uri, ours ? "the object is ours" : "another writer won");
			return ours;
		}
		return false;
	}
	ensure_status(st->target, "write", uri, &resp, 200, 299);
	return true;
}

static bool
s3_put_if_absent(void *state, const char *key, const char *data, uint64 len)
{
	return conditional_put(state, key, data, len, "if-none-match", "*");
}

static bool
s3_put_if_match(void *state, const char *key, const char *data, uint64 len,
				const char *etag)
{
	return conditional_put(state, key, data, len, "if-match", psprintf("\"%s\"", etag));
}

/* -------------------------------------------------------------- writer -- */

static void *
s3_writer_begin(void *state, const char *key)
{
	S3State    *st = state;
	S3Writer   *w = palloc0(sizeof(S3Writer));

	w->target = s3_target_copy(st->target);
	w->full_key = full_key(st, key);
	w->uri = key_uri(st, key);
	w->part_size = (size_t) s3_part_size_kb * 1024;
	w->parallel = Max(s3_upload_parallel, 1);
	w->buf_cap = w->part_size;
	w->buf = MemoryContextAllocHuge(CurrentMemoryContext, w->buf_cap);
	initStringInfo(&w->part_md5s);
	w->whole_md5 = s3_md5_begin();
	return w;
}

static void
writer_create_upload(S3Writer *w)
{
	S3Request	req;
	S3Response	resp;
	S3XmlSpan	doc;
	char	   *id;

	init_request(&req, "POST", w->full_key);
	s3_request_add_query(&req, "uploads", "");
	/* a retry after a lost answer would leave an orphan upload behind */
	req.retry = S3_RETRY_UNSENT_ONLY;
	run1(w->target, &req, &resp);
	ensure_status(w->target, "start the multipart upload of", w->uri, &resp, 200, 200);
	doc.p = resp.body ? resp.body : "";
	doc.len = resp.body_len;
	id = s3xml_child_text(doc, "UploadId", w->uri);
	if (id == NULL || id[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("could not start the multipart upload of \"%s\": no UploadId in the answer",
						w->uri)));
	w->upload_id = id;
}

/*
 * Upload the buffered parts, in parallel: every full part, and with
 * final also the last, shorter one.  The buffer holds up to
 * vlake.s3_upload_parallel parts, so that many UploadParts are in flight
 * at once (S3 throughput grows with connections, not with one stream).
 */
static void
writer_flush_parts(S3Writer *w, bool final)
{
	int			nparts = (int) (w->buf_len / w->part_size);
	int			first = list_length(w->part_etags) + 1;
	S3Request  *reqs;
	S3Response *resps;

	if (final && w->buf_len % w->part_size != 0)
		nparts++;
	if (nparts == 0)
		return;
	if (w->upload_id == NULL)
		writer_create_upload(w);
	reqs = palloc0(sizeof(S3Request) * nparts);
	resps = palloc0(sizeof(S3Response) * nparts);
	for (int i = 0; i < nparts; i++)
	{
		size_t		off = (size_t) i * w->part_size;
		size_t		len = Min(w->part_size, w->buf_len - off);
		unsigned char raw[16];

		init_request(&reqs[i], "PUT", w->full_key);
		s3_request_add_query(&reqs[i], "partNumber", psprintf("%d", first + i));
		s3_request_add_query(&reqs[i], "uploadId", w->upload_id);
		add_body_md5(&reqs[i], w->buf + off, len, raw);
		appendBinaryStringInfo(&w->part_md5s, (char *) raw, 16);
	}
	s3_execute(w->target, reqs, resps, nparts);
	for (int i = 0; i < nparts; i++)
	{
		ensure_status(w->target, "upload a part of", w->uri, &resps[i], 200, 200);
		if (resps[i].etag[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("could not upload part %d of \"%s\": no ETag in the answer",
							first + i, w->uri)));
		w->part_etags = lappend(w->part_etags, pstrdup(resps[i].etag));
	}
	/* only ever called with whole parts or at the end: nothing remains */
	w->buf_len = 0;
	pfree(reqs);
	pfree(resps);
}

static void
s3_writer_write(void *wstate, const char *data, uint64 len)
{
	S3Writer   *w = wstate;

	if (w->closed)
		elog(ERROR, "write to a closed S3 writer of \"%s\"", w->uri);
	while (len > 0)
	{
		size_t		n;

		if (w->buf_len == w->buf_cap)
		{
			if (w->buf_cap < w->part_size * w->parallel)
			{
				/* grow up to parallel parts, one part at a time */
				w->buf_cap += w->part_size;
				w->buf = repalloc_huge(w->buf, w->buf_cap);
			}
			else
				writer_flush_parts(w, false);
		}
		n = Min((uint64) (w->buf_cap - w->buf_len), len);
		memcpy(w->buf + w->buf_len, data, n);
		s3_md5_update(w->whole_md5, data, n);
		w->buf_len += n;
		w->total += n;
		data += n;
		len -= n;
		CHECK_FOR_INTERRUPTS();
	}
}

static void
append_xml_escaped(StringInfo out, const char *s, const char *uri)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		switch (c)
		{
			case '&':
				appendStringInfoString(out, "&amp;");
				break;
			case '<':
				appendStringInfoString(out, "&lt;");
				break;
			case '>':
				appendStringInfoString(out, "&gt;");
				break;
			case '"':
				appendStringInfoString(out, "&quot;");
				break;
			case '\'':
				appendStringInfoString(out, "&apos;");
				break;
			case '\t':
			case '\n':
			case '\r':
				appendStringInfo(out, "&#%d;", c);
				break;
			default:
				if (c < 0x20)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("key under \"%s\" contains a control character S3 cannot take in XML", uri)));
				appendStringInfoChar(out, (char) c);
		}
	}
}

/*
 * After an ambiguous CompleteMultipartUpload (lost answer, then NoSuchUpload
 * or errors): is the object now ours?  Its ETag is either S3's multipart
 * form md5(part md5s)-N or, on servers that hash the whole body, the MD5 of
 * every byte we wrote; either one identifies our content.
 */
static bool
completed_after_all(S3Writer *w)
{
	S3Request	h;
	S3Response	hr;
	char		composite[33];
	char	   *multipart_etag;

	init_request(&h, "HEAD", w->full_key);
	run1(w->target, &h, &hr);
	if (hr.failed || hr.status != 200 || hr.content_length != (int64) w->total)
		return false;
	s3_md5_hex(w->part_md5s.data, w->part_md5s.len, composite);
	multipart_etag = psprintf("%s-%d", composite, list_length(w->part_etags));
	if (strcmp(hr.etag, multipart_etag) == 0 || strcmp(hr.etag, w->whole_md5_hex) == 0)
	{
		elog(DEBUG1, "vlake: multipart upload of \"%s\" completed although its answer was lost", w->uri);
		return true;
	}
	return false;
}

static void
writer_complete(S3Writer *w)
{
	S3Request	req;
	S3Response	resp;
	StringInfoData xml;
	ListCell   *lc;
	S3XmlSpan	doc;
	S3XmlSpan	err;

	initStringInfo(&xml);
	appendStringInfoString(&xml, "<CompleteMultipartUpload>");
	foreach(lc, w->part_etags)
	{
		appendStringInfo(&xml, "<Part><PartNumber>%d</PartNumber><ETag>\"",
						 foreach_current_index(lc) + 1);
		append_xml_escaped(&xml, lfirst(lc), w->uri);
		appendStringInfoString(&xml, "\"</ETag></Part>");
	}
	appendStringInfoString(&xml, "</CompleteMultipartUpload>");

	init_request(&req, "POST", w->full_key);
	s3_request_add_query(&req, "uploadId", w->upload_id);
	add_body(&req, xml.data, xml.len);
	run1(w->target, &req, &resp);
	if ((resp.failed || resp.status != 200) && resp.ambiguous &&
		completed_after_all(w))
		return;
	ensure_status(w->target, "complete the multipart upload of", w->uri, &resp, 200, 200);
	/* S3 may answer 200 with an error document */
	doc.p = resp.body ? resp.body : "";
	doc.len = resp.body_len;
	if (s3xml_find(doc, "Error", &err, w->uri))
	{
		resp.status = 500;
		s3_report_error(w->target, "complete the multipart upload of", w->uri, &resp);
	}
}

static void
s3_writer_finish(void *wstate)
{
	S3Writer   *w = wstate;

	if (w->closed)
		elog(ERROR, "S3 writer of \"%s\" finished twice", w->uri);
	s3_md5_end(w->whole_md5, w->whole_md5_hex);
	w->whole_md5 = NULL;
	if (w->upload_id == NULL && w->buf_len <= w->part_size)
	{
		/* small object: one atomic PUT, no multipart */
		S3Request	req;
		S3Response	resp;

		init_request(&req, "PUT", w->full_key);
		add_body(&req, w->buf, w->buf_len);
		run1(w->target, &req, &resp);
		ensure_status(w->target, "write", w->uri, &resp, 200, 299);
	}
	else
	{
		writer_flush_parts(w, true);
		writer_complete(w);
	}
	w->closed = true;
	pfree(w->buf);
	w->buf = NULL;
	explicit_bzero(w->target->secret_key, strlen(w->target->secret_key));
	if (w->target->session_token)
		explicit_bzero(w->target->session_token, strlen(w->target->session_token));
}

/*
 * Abort: nothing was visible (an upload becomes an object only at
 * Complete); drop the parts.  Called from transaction abort too, so it
 * never ERRORs: failures become a WARNING (a bucket lifecycle rule
 * AbortIncompleteMultipartUpload reclaims what is left).
 */
static void
s3_writer_abort(void *wstate)
{
	S3Writer   *w = wstate;
	MemoryContext oldcxt = CurrentMemoryContext;

	s3_md5_end(w->whole_md5, w->whole_md5_hex);	/* frees the context */
	w->whole_md5 = NULL;
	if (w->closed)
		return;
	w->closed = true;
	if (w->upload_id != NULL)
	{
		PG_TRY();
		{
			S3Request	req;
			S3Response	resp;

			init_request(&req, "DELETE", w->full_key);
			s3_request_add_query(&req, "uploadId", w->upload_id);
			run1(w->target, &req, &resp);
			if (!(!resp.failed && (resp.status == 204 || resp.status == 200 || resp.status == 404)))
				s3_report_error(w->target, "abort the multipart upload of", w->uri, &resp);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			ereport(WARNING,
					(errmsg("could not abort the multipart upload of \"%s\": %s",
							w->uri, edata->message),
					 errhint("The parts stay invisible; a lifecycle rule AbortIncompleteMultipartUpload reclaims them.")));
			FreeErrorData(edata);
		}
		PG_END_TRY();
	}
	if (w->buf)
		pfree(w->buf);
	w->buf = NULL;
	explicit_bzero(w->target->secret_key, strlen(w->target->secret_key));
	if (w->target->session_token)
		explicit_bzero(w->target->session_token, strlen(w->target->session_token));
}

/* --------------------------------------------------------------- list -- */

static uint64
parse_size(const char *s, const char *uri)
{
	uint64		v = 0;

	if (s == NULL || s[0] == '\0' || strlen(s) > 19)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("invalid object size in the S3 listing of \"%s\"", uri)));
	for (const char *p = s; *p; p++)
	{
		if (*p < '0' || *p > '9')
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("invalid object size \"%s\" in the S3 listing of \"%s\"", s, uri)));
		v = v * 10 + (*p - '0');
	}
	return v;
}

static List *
s3_list(void *state, const char *prefix)
{
	S3State    *st = state;
	char	   *fprefix = full_key(st, prefix);
	char	   *uri = key_uri(st, prefix);
	size_t		plen = strlen(st->prefix);
	List	   *result = NIL;
	char	   *token = NULL;

	for (;;)
	{
		S3Request	req;
		S3Response	resp;
		S3XmlSpan	doc;
		S3XmlSpan	lbr;
		S3XmlSpan	c;
		size_t		pos = 0;
		char	   *truncated;
		char	   *next;

		CHECK_FOR_INTERRUPTS();
		init_request(&req, "GET", NULL);
		s3_request_add_query(&req, "list-type", "2");
		s3_request_add_query(&req, "prefix", fprefix);
		if (token)
			s3_request_add_query(&req, "continuation-token", token);
		run1(st->target, &req, &resp);
		ensure_status(st->target, "list", uri, &resp, 200, 200);
		doc.p = resp.body ? resp.body : "";
		doc.len = resp.body_len;
		if (!s3xml_find(doc, "ListBucketResult", &lbr, uri))
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("could not list \"%s\": the answer is not a ListBucketResult", uri)));
		while (s3xml_next(lbr, &pos, "Contents", &c, uri))
		{
			ObjListEntry *e = palloc0(sizeof(ObjListEntry));
			char	   *key = s3xml_child_text(c, "Key", uri);
			char	   *etag = s3xml_child_text(c, "ETag", uri);
			size_t		elen;

			if (key == NULL || strncmp(key, fprefix, strlen(fprefix)) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_PROTOCOL_VIOLATION),
						 errmsg("the S3 listing of \"%s\" returned a key outside the prefix", uri)));
			e->key = pstrdup(key + plen);
			e->size = parse_size(s3xml_child_text(c, "Size", uri), uri);
			if (etag)
			{
				elen = strlen(etag);
				if (elen >= 2 && etag[0] == '"' && etag[elen - 1] == '"')
				{
					etag[elen - 1] = '\0';
					etag++;
				}
				strlcpy(e->etag, etag, sizeof(e->etag));
			}
			result = lappend(result, e);
		}
		truncated = s3xml_child_text(lbr, "IsTruncated", uri);
		if (truncated == NULL || strcmp(truncated, "true") != 0)
			break;
		next = s3xml_child_text(lbr, "NextContinuationToken", uri);
		if (next == NULL || next[0] == '\0' || (token && strcmp(next, token) == 0))
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("could not list \"%s\": truncated page without a new continuation token", uri)));
		token = next;
	}
	return result;
}

/* ------------------------------------------------------------- delete -- */

static void
delete_one(S3State *st, const char *key)
{
	S3Request	req;
	S3Response	resp;

	init_request(&req, "DELETE", full_key(st, key));
	run1(st->target, &req, &resp);
	if (!resp.failed && resp.status == 404)
		return;
	ensure_status(st->target, "delete", key_uri(st, key), &resp, 200, 299);
}

static void
delete_batch(S3State *st, List *keys, int from, int to)
{
	StringInfoData xml;
	S3Request	req;
	S3Response	resp;
	S3XmlSpan	doc;
	S3XmlSpan	dr;
	S3XmlSpan	err;
	size_t		pos = 0;

	initStringInfo(&xml);
	appendStringInfoString(&xml, "<Delete><Quiet>true</Quiet>");
	for (int i = from; i < to; i++)
	{
		appendStringInfoString(&xml, "<Object><Key>");
		append_xml_escaped(&xml, full_key(st, list_nth(keys, i)), st->root_uri);
		appendStringInfoString(&xml, "</Key></Object>");
	}
	appendStringInfoString(&xml, "</Delete>");

	init_request(&req, "POST", NULL);
	s3_request_add_query(&req, "delete", "");
	add_body(&req, xml.data, xml.len);
	run1(st->target, &req, &resp);
	ensure_status(st->target, "delete objects under", st->root_uri, &resp, 200, 200);
	doc.p = resp.body ? resp.body : "";
	doc.len = resp.body_len;
	if (!s3xml_find(doc, "DeleteResult", &dr, st->root_uri))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("could not delete objects under \"%s\": the answer is not a DeleteResult",
						st->root_uri)));
	if (s3xml_next(dr, &pos, "Error", &err, st->root_uri))
	{
		char	   *key = s3xml_child_text(err, "Key", st->root_uri);
		char	   *code = s3xml_child_text(err, "Code", st->root_uri);
		char	   *msg = s3xml_child_text(err, "Message", st->root_uri);

		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not delete \"s3://%s/%s\": %s", st->target->bucket,
						key ? key : "?", code ? code : "error"),
				 msg ? errdetail("S3 says: %s", msg) : 0));
	}
}

static void
s3_delete_keys(void *state, List *keys)
{
	S3State    *st = state;
	int			n = list_length(keys);

	if (n == 1)
	{
		delete_one(st, linitial(keys));
		return;
	}
	for (int from = 0; from < n; from += S3_DELETE_BATCH)
	{
		CHECK_FOR_INTERRUPTS();
		delete_batch(st, keys, from, Min(n, from + S3_DELETE_BATCH));
	}
}

/* --------------------------------------------- orphaned uploads (GC) -- */

/* "2026-11-21T12:34:56.789Z" -> seconds since the epoch; -1 if malformed. */
static int64
parse_iso8601(const char *s)
{
	int			y,
				mo,
				d,
				h,
				mi,
				sec;
	int			consumed = 0;

	if (s == NULL ||
		sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6 ||
		y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
		h > 23 || mi > 59 || sec > 60)
		return -1;
	/* days since the epoch by the civil calendar, no time zone involved */
	return ((int64) (date2j(y, mo, d) - date2j(1970, 1, 1)) * 86400) + h * 3600 + mi * 60 + sec;
}

/*
 * Multipart uploads under prefix initiated at least min_age_secs ago are
 * aborted: they are what a crash (kill -9) in the middle of a streamed
 * write leaves behind, never visible as objects.  The age bound keeps
 * uploads that running writers still use.
 */
static int64
s3_reclaim_temporaries(void *state, const char *prefix, int64 min_age_secs)
{
	S3State    *st = state;
	char	   *fprefix = full_key(st, prefix);
	char	   *uri = key_uri(st, prefix);
	char	   *key_marker = NULL;
	char	   *id_marker = NULL;
	int64		now = (int64) time(NULL);
	int64		reclaimed = 0;

	for (;;)
	{
		S3Request	req;
		S3Response	resp;
		S3XmlSpan	doc;
		S3XmlSpan	res;
		S3XmlSpan	up;
		size_t		pos = 0;
		char	   *truncated;

		CHECK_FOR_INTERRUPTS();
		init_request(&req, "GET", NULL);
		s3_request_add_query(&req, "uploads", "");
		s3_request_add_query(&req, "prefix", fprefix);
		if (key_marker)
			s3_request_add_query(&req, "key-marker", key_marker);
		if (id_marker)
			s3_request_add_query(&req, "upload-id-marker", id_marker);
		run1(st->target, &req, &resp);
		ensure_status(st->target, "list the multipart uploads under", uri, &resp, 200, 200);
		doc.p = resp.body ? resp.body : "";
		doc.len = resp.body_len;
		if (!s3xml_find(doc, "ListMultipartUploadsResult", &res, uri))
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("could not list the multipart uploads under \"%s\": unexpected answer", uri)));
		while (s3xml_next(res, &pos, "Upload", &up, uri))
		{
			char	   *key = s3xml_child_text(up, "Key", uri);
			char	   *id = s3xml_child_text(up, "UploadId", uri);
			int64		initiated = parse_iso8601(s3xml_child_text(up, "Initiated", uri));
			S3Request	del;
			S3Response	dresp;

			if (key == NULL || id == NULL || id[0] == '\0' ||
				strncmp(key, fprefix, strlen(fprefix)) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_PROTOCOL_VIOLATION),
						 errmsg("the multipart upload listing of \"%s\" has an entry without key or id, or outside the prefix", uri)));
			if (initiated < 0 || now - initiated < min_age_secs)
				continue;		/* too young (or undated): maybe in use */
			init_request(&del, "DELETE", key);
			s3_request_add_query(&del, "uploadId", id);
			run1(st->target, &del, &dresp);
			if (!dresp.failed && dresp.status == 404)
				continue;		/* gone meanwhile */
			ensure_status(st->target, "abort a multipart upload under", uri, &dresp, 200, 299);
			reclaimed++;
		}
		truncated = s3xml_child_text(res, "IsTruncated", uri);
		if (truncated == NULL || strcmp(truncated, "true") != 0)
			break;
		key_marker = s3xml_child_text(res, "NextKeyMarker", uri);
		id_marker = s3xml_child_text(res, "NextUploadIdMarker", uri);
		if (key_marker == NULL || key_marker[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("could not list the multipart uploads under \"%s\": truncated page without a marker", uri)));
	}
	return reclaimed;
}

const ObjBackendOps objstore_s3_ops = {
	.open = s3_open,
	.close = s3_close,
	.head = s3_head,
	.get_ranges = s3_get_ranges,
	.get = s3_get,
	.put = s3_put,
	.put_if_absent = s3_put_if_absent,
	.put_if_match = s3_put_if_match,
	.writer_begin = s3_writer_begin,
	.writer_write = s3_writer_write,
	.writer_finish = s3_writer_finish,
	.writer_abort = s3_writer_abort,
	.list = s3_list,
	.delete_keys = s3_delete_keys,
	.get_ranges_if_match = s3_get_ranges_if_match,
	.reclaim_temporaries = s3_reclaim_temporaries,
};
