/*
 * objref_io.c — reading referenced objects through the object store:
 * the verifying constructor, objref_read and objref_verify (docs/objref.md).
 *
 * The object is read as one version (objstore_get_ranges_known with the
 * size and etag of one head request), in chunks, hashed as it streams, so
 * verifying an object of any size needs OBJREF_CHUNK bytes of memory.
 */
#include "postgres.h"

#include <openssl/evp.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "lake/lake_error.h"
#include "objref/objref.h"
#include "objstore/objstore.h"

#define OBJREF_CHUNK	(4 * 1024 * 1024)

int			objref_read_max_bytes = 64 * 1024 * 1024;

typedef struct ObjHandle
{
	const char *uri;
	ObjStore   *store;
	char	   *key;
	ObjStat		stat;
} ObjHandle;

/* Open the store holding uri (confinement of file:// roots happens here)
 * and look the object up; ERROR when it does not exist. */
static void
handle_open(ObjHandle *h, const char *uri)
{
	const char *slash = strrchr(uri, '/');

	h->uri = uri;
	/* objref_make validated uri: a scheme, a path, no trailing '/' */
	h->store = objstore_open(pnstrdup(uri, slash - uri + 1));
	h->key = pstrdup(slash + 1);
	if (!objstore_head(h->store, h->key, &h->stat))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("referenced object \"%s\" does not exist", uri)));
}

static void
report_mismatch(const char *uri, const char *fmt, const char *got, const char *want)
{
	LakeErrorContext ctx = {0};

	ctx.what = "referenced object";
	ctx.object = uri;
	ctx.hint = "The object changed after the reference was made; make a new reference (vlake.objref) or restore the object.";
	lake_report(LAKE_CORRUPT, &ctx, fmt, got, want);
}

static void
check_size(const ObjHandle *h, int64 want)
{
	if ((int64) h->stat.size != want)
		report_mismatch(h->uri, "its size is %s bytes, the reference says %s",
						psprintf(UINT64_FORMAT, h->stat.size), psprintf(INT64_FORMAT, want));
}

static EVP_MD_CTX *
sha_begin(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		elog(ERROR, "could not initialise SHA-256");
	return ctx;
}

static void
sha_end(EVP_MD_CTX *ctx, uint8 *out)
{
	unsigned int len = 0;
	bool		ok = EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == OBJREF_SHA256_LEN;

	EVP_MD_CTX_free(ctx);
	if (!ok)
		elog(ERROR, "could not compute SHA-256");
}

/*
 * Read [offset, offset + length) of the object's version h->stat into dest
 * (when not NULL) and/or the hash (when not NULL), chunk by chunk.
 */
static void
read_chunks(ObjHandle *h, uint64 offset, uint64 length, char *dest, EVP_MD_CTX *sha)
{
	char	   *buf = dest ? NULL : palloc(Min(length, OBJREF_CHUNK) + 1);
	uint64		done = 0;

	while (done < length)
	{
		ObjRange	range;

		CHECK_FOR_INTERRUPTS();
		range.offset = offset + done;
		range.length = Min(length - done, OBJREF_CHUNK);
		range.dest = dest ? dest + done : buf;
		objstore_get_ranges_known(h->store, h->key, &h->stat, &range, 1);
		if (sha && EVP_DigestUpdate(sha, range.dest, range.length) != 1)
			elog(ERROR, "could not compute SHA-256");
		done += range.length;
	}
	if (buf)
		pfree(buf);
}

/* The SHA-256 of the whole object (streamed). */
static void
hash_object(ObjHandle *h, uint8 *out)
{
	EVP_MD_CTX *sha = sha_begin();

	PG_TRY();
	{
		read_chunks(h, 0, h->stat.size, NULL, sha);
	}
	PG_CATCH();
	{
		EVP_MD_CTX_free(sha);
		PG_RE_THROW();
	}
	PG_END_TRY();
	sha_end(sha, out);
}

static void
check_sha(const ObjHandle *h, const uint8 *got, const uint8 *want)
{
	char		g[2 * OBJREF_SHA256_LEN + 1];
	char		w[2 * OBJREF_SHA256_LEN + 1];

	if (memcmp(got, want, OBJREF_SHA256_LEN) == 0)
		return;
	objref_sha256_hex(got, g);
	objref_sha256_hex(want, w);
	report_mismatch(h->uri, "its SHA-256 is %s, the reference says %s", g, w);
}

/* vlake.objref(uri, mime DEFAULT NULL, verify DEFAULT true) */
PG_FUNCTION_INFO_V1(vlake_objref);
Datum
vlake_objref(PG_FUNCTION_ARGS)
{
	char	   *uri;
	char	   *mime = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	ObjHandle	h;
	uint8		sha[OBJREF_SHA256_LEN];

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	uri = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(2) && !PG_GETARG_BOOL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an object reference made without reading the object needs its size and sha256"),
				 errhint("Use vlake.objref(uri, size, sha256, mime).")));
	/* validate before any I/O, so a bad URI is refused as such */
	memset(sha, 0, sizeof(sha));
	(void) objref_make(uri, 0, sha, mime);
	handle_open(&h, uri);
	if (h.stat.size > (uint64) OBJREF_MAX_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("referenced object \"%s\" is larger than 2^53-1 bytes", uri)));
	hash_object(&h, sha);
	objstore_close(h.store);
	PG_RETURN_OBJREF_P(objref_make(uri, (int64) h.stat.size, sha, mime));
}

/* vlake.objref_verify(r): true, or an ERROR saying what does not match. */
PG_FUNCTION_INFO_V1(vlake_objref_verify);
Datum
vlake_objref_verify(PG_FUNCTION_ARGS)
{
	ObjRef	   *r = PG_GETARG_OBJREF_P(0);
	ObjHandle	h;
	uint8		sha[OBJREF_SHA256_LEN];

	handle_open(&h, objref_uri(r));
	check_size(&h, r->size);
	hash_object(&h, sha);
	check_sha(&h, sha, r->sha256);
	objstore_close(h.store);
	PG_RETURN_BOOL(true);
}

/* vlake.objref_read(r, offset DEFAULT 0, length DEFAULT NULL) */
PG_FUNCTION_INFO_V1(vlake_objref_read);
Datum
vlake_objref_read(PG_FUNCTION_ARGS)
{
	ObjRef	   *r = PG_GETARG_OBJREF_P(0);
	int64		offset = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	int64		length;
	ObjHandle	h;
	bytea	   *result;

	if (offset < 0 || (!PG_ARGISNULL(2) && PG_GETARG_INT64(2) < 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("offset and length of an object read must not be negative")));
	handle_open(&h, objref_uri(r));
	check_size(&h, r->size);
	if (offset > r->size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("offset " INT64_FORMAT " is beyond the end of object \"%s\" (" INT64_FORMAT " bytes)",
						offset, h.uri, r->size)));
	length = r->size - offset;
	if (!PG_ARGISNULL(2) && PG_GETARG_INT64(2) < length)
		length = PG_GETARG_INT64(2);
	if (length > objref_read_max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("reading " INT64_FORMAT " bytes of object \"%s\" exceeds vlake.objref_read_max_bytes (%d)",
						length, h.uri, objref_read_max_bytes),
				 errhint("Read it in ranges: vlake.objref_read(r, offset, length).")));
	result = palloc(VARHDRSZ + length);
	SET_VARSIZE(result, VARHDRSZ + length);
	if (offset == 0 && length == r->size)
	{
		/* a whole-object read: the bytes must be the referenced ones */
		EVP_MD_CTX *sha = sha_begin();
		uint8		got[OBJREF_SHA256_LEN];

		PG_TRY();
		{
			read_chunks(&h, 0, length, VARDATA(result), sha);
		}
		PG_CATCH();
		{
			EVP_MD_CTX_free(sha);
			PG_RE_THROW();
		}
		PG_END_TRY();
		sha_end(sha, got);
		check_sha(&h, got, r->sha256);
	}
	else
		read_chunks(&h, offset, length, VARDATA(result), NULL);
	objstore_close(h.store);
	PG_RETURN_BYTEA_P(result);
}
