/*
 * objref.c — the objref type: text input and output, validation, ordering,
 * hashing, accessors (docs/objref.md).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/json.h"

#include "objref/objref.h"
#include "vector/vector.h"
#include "objstore/objstore.h"

/* ------------------------------------------------------------ building --- */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
objref_sha256_hex(const uint8 *sha, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < OBJREF_SHA256_LEN; i++)
	{
		out[2 * i] = digits[sha[i] >> 4];
		out[2 * i + 1] = digits[sha[i] & 15];
	}
	out[2 * OBJREF_SHA256_LEN] = '\0';
}

/* 64 hex digits (either case) into sha; ERROR otherwise. */
static void
parse_sha256(const char *hex, uint8 *sha)
{
	size_t		len = strlen(hex);

	if (len != 2 * OBJREF_SHA256_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid object reference: sha256 must be 64 hexadecimal digits, not %zu characters", len)));
	for (int i = 0; i < OBJREF_SHA256_LEN; i++)
	{
		int			hi = hex_value(hex[2 * i]);
		int			lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid object reference: sha256 must be 64 hexadecimal digits"),
					 errdetail("Character %d is not a hexadecimal digit.", 2 * i + (hi < 0 ? 1 : 2))));
		sha[i] = (uint8) (hi << 4 | lo);
	}
}

/*
 * The URI names one object of a scheme the object store serves: file:// with
 * an absolute path or s3://bucket/key, not a prefix (no trailing '/').  The
 * store's own rules (objstore_uri_valid) refuse empty, "." and ".."
 * segments, backslashes and control characters.
 */
static void
check_uri(const char *uri)
{
	size_t		len = strlen(uri);
	char	   *why = NULL;
	const char *path;

	if (len == 0 || len > OBJREF_MAX_URI)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid object reference: the uri must have 1 to %d bytes, not %zu",
						OBJREF_MAX_URI, len)));
	if (!objstore_uri_valid(uri, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid object reference: uri \"%s\" is not an object the store can read", uri),
				 errdetail("%s", why),
				 errhint("Use file:///absolute/path or s3://bucket/key.")));
	path = strncmp(uri, "s3://", 5) == 0 ? strchr(uri + 5, '/') : uri + 7;
	if (path == NULL || path[1] == '\0' || uri[len - 1] == '/')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid object reference: uri \"%s\" names a prefix, not an object", uri),
				 errhint("Use file:///absolute/path or s3://bucket/key.")));
}

/* type/subtype[; parameters]: printable ASCII, one '/', bounded. */
static void
check_mime(const char *mime)
{
	size_t		len = strlen(mime);
	const char *slash = strchr(mime, '/');

	if (len == 0 || len > OBJREF_MAX_MIME)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid object reference: the mime type must have 1 to %d bytes, not %zu",
						OBJREF_MAX_MIME, len)));
	for (size_t i = 0; i < len; i++)
		if (mime[i] < 0x20 || mime[i] > 0x7e)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid object reference: mime type \"%s\" has a character outside printable ASCII",
							mime)));
	if (slash == NULL || slash == mime || slash[1] == '\0' || slash[1] == ';' ||
		slash[1] == ' ' || mime[0] == ' ' || strchr(slash + 1, '/') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid object reference: mime type \"%s\" is not of the form type/subtype", mime)));
}

ObjRef *
objref_make(const char *uri, int64 size, const uint8 *sha256, const char *mime)
{
	size_t		ulen,
				mlen;
	ObjRef	   *r;

	check_uri(uri);
	if (mime)
		check_mime(mime);
	if (size < 0 || size > OBJREF_MAX_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("invalid object reference: size " INT64_FORMAT " is outside [0, 2^53-1]", size)));
	ulen = strlen(uri);
	mlen = mime ? strlen(mime) : 0;
	r = palloc0(offsetof(ObjRef, data) + ulen + mlen);
	SET_VARSIZE(r, offsetof(ObjRef, data) + ulen + mlen);
	r->uri_len = (uint16) ulen;
	r->mime_len = mime ? (int16) mlen : -1;
	r->size = size;
	memcpy(r->sha256, sha256, OBJREF_SHA256_LEN);
	memcpy(r->data, uri, ulen);
	if (mime)
		memcpy(r->data + ulen, mime, mlen);
	return r;
}

char *
objref_uri(const ObjRef *r)
{
	return pnstrdup(r->data, r->uri_len);
}

char *
objref_mime(const ObjRef *r)
{
	return r->mime_len < 0 ? NULL : pnstrdup(r->data + r->uri_len, r->mime_len);
}

char *
objref_to_text(const ObjRef *r)
{
	StringInfoData buf;
	char		hex[2 * OBJREF_SHA256_LEN + 1];
	char	   *mime = objref_mime(r);

	objref_sha256_hex(r->sha256, hex);
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"uri\":");
	escape_json(&buf, objref_uri(r));
	appendStringInfo(&buf, ",\"size\":" INT64_FORMAT ",\"sha256\":\"%s\"", r->size, hex);
	if (mime)
	{
		appendStringInfoString(&buf, ",\"mime\":");
		escape_json(&buf, mime);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* ---------------------------------------------------------- text input --- */

typedef enum
{
	OF_NONE = -1, OF_URI, OF_SIZE, OF_SHA256, OF_MIME, OF_COUNT
} ObjrefField;

static const char *const field_names[OF_COUNT] = {"uri", "size", "sha256", "mime"};

typedef struct ObjrefParse
{
	const char *input;
	int			depth;
	ObjrefField current;
	bool		seen[OF_COUNT];
	char	   *value[OF_COUNT];	/* NULL: JSON null */
	JsonTokenType type[OF_COUNT];
} ObjrefParse;

static void
bad_input(const ObjrefParse *st, const char *fmt, const char *arg)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type objref: \"%s\"", st->input),
			 errdetail(fmt, arg),
			 errhint("The form is {\"uri\":\"s3://bucket/key\",\"size\":123,\"sha256\":\"<64 hex digits>\",\"mime\":\"video/mp4\"}.")));
}

static void
on_object_start(void *arg)
{
	ObjrefParse *st = arg;

	if (++st->depth > 1)
		bad_input(st, "%s", "A value is an object; the values are strings and a number.");
}

static void
on_object_end(void *arg)
{
	((ObjrefParse *) arg)->depth--;
}

static void
on_array_start(void *arg)
{
	ObjrefParse *st = arg;

	bad_input(st, "%s", st->depth == 0 ? "It is an array, not an object." :
			  "A value is an array; the values are strings and a number.");
}

static void
on_field_start(void *arg, char *fname, bool isnull)
{
	ObjrefParse *st = arg;

	st->current = OF_NONE;
	for (int f = 0; f < OF_COUNT; f++)
		if (strcmp(fname, field_names[f]) == 0)
			st->current = f;
	if (st->current == OF_NONE)
		bad_input(st, "Unknown key \"%s\"; the keys are uri, size, sha256 and mime.", fname);
	if (st->seen[st->current])
		bad_input(st, "Key \"%s\" appears twice.", fname);
	st->seen[st->current] = true;
}

static void
on_scalar(void *arg, char *token, JsonTokenType type)
{
	ObjrefParse *st = arg;

	if (st->depth == 0)
		bad_input(st, "%s", "It is a scalar, not an object.");
	st->value[st->current] = type == JSON_TOKEN_NULL ? NULL : token;
	st->type[st->current] = type;
}

static ObjRef *
objref_parse(const char *input)
{
	ObjrefParse	st = {0};
	JsonSemAction sem = {0};
	JsonLexContext *lex;
	JsonParseErrorType err;
	uint8		sha[OBJREF_SHA256_LEN];
	int64		size;
	char	   *end;

	st.input = input;
	sem.semstate = &st;
	sem.object_start = on_object_start;
	sem.object_end = on_object_end;
	sem.array_start = on_array_start;
	sem.object_field_start = on_field_start;
	sem.scalar = on_scalar;
	lex = makeJsonLexContextCstringLen(unconstify(char *, input), strlen(input),
									   GetDatabaseEncoding(), true);
	err = pg_parse_json(lex, &sem);
	if (err != JSON_SUCCESS)
		bad_input(&st, "%s", json_errdetail(err, lex));
	if (input[strspn(input, " \t\r\n")] != '{')
		bad_input(&st, "%s", "It is not a JSON object.");
	for (int f = OF_URI; f <= OF_SHA256; f++)
		if (!st.seen[f] || st.value[f] == NULL)
			bad_input(&st, "Key \"%s\" is missing or null.", field_names[f]);
	if (st.type[OF_URI] != JSON_TOKEN_STRING)
		bad_input(&st, "%s", "\"uri\" must be a string.");
	if (st.type[OF_SHA256] != JSON_TOKEN_STRING)
		bad_input(&st, "%s", "\"sha256\" must be a string.");
	if (st.value[OF_MIME] && st.type[OF_MIME] != JSON_TOKEN_STRING)
		bad_input(&st, "%s", "\"mime\" must be a string or null.");
	if (st.type[OF_SIZE] != JSON_TOKEN_NUMBER)
		bad_input(&st, "%s", "\"size\" must be a number.");
	errno = 0;
	size = strtoi64(st.value[OF_SIZE], &end, 10);
	if (errno != 0 || *end != '\0' || end == st.value[OF_SIZE])
		bad_input(&st, "\"size\" must be an integer in [0, 2^53-1], not %s.", st.value[OF_SIZE]);
	parse_sha256(st.value[OF_SHA256], sha);
	return objref_make(st.value[OF_URI], size, sha, st.value[OF_MIME]);
}

PG_FUNCTION_INFO_V1(vlake_objref_in);
Datum
vlake_objref_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_OBJREF_P(objref_parse(PG_GETARG_CSTRING(0)));
}

PG_FUNCTION_INFO_V1(vlake_objref_out);
Datum
vlake_objref_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(objref_to_text(PG_GETARG_OBJREF_P(0)));
}

/* Binary I/O: the text form as bytes (binary COPY, the binary protocol);
 * receive validates as input does. */
PG_FUNCTION_INFO_V1(vlake_objref_send);
Datum
vlake_objref_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	char	   *text = objref_to_text(PG_GETARG_OBJREF_P(0));

	pq_begintypsend(&buf);
	pq_sendtext(&buf, text, strlen(text));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(vlake_objref_recv);
Datum
vlake_objref_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			nbytes = buf->len - buf->cursor;

	PG_RETURN_OBJREF_P(objref_parse(pq_getmsgtext(buf, nbytes, &nbytes)));
}

/* A reference from its fields, without reading the object. */
PG_FUNCTION_INFO_V1(vlake_objref_from_parts);
Datum
vlake_objref_from_parts(PG_FUNCTION_ARGS)
{
	uint8		sha[OBJREF_SHA256_LEN];
	char	   *mime = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an object reference needs a uri, a size and a sha256")));
	parse_sha256(text_to_cstring(PG_GETARG_TEXT_PP(2)), sha);
	PG_RETURN_OBJREF_P(objref_make(text_to_cstring(PG_GETARG_TEXT_PP(0)),
								   PG_GETARG_INT64(1), sha, mime));
}

/* ----------------------------------------------------------- accessors --- */

PG_FUNCTION_INFO_V1(vlake_objref_uri);
Datum
vlake_objref_uri(PG_FUNCTION_ARGS)
{
	ObjRef	   *r = PG_GETARG_OBJREF_P(0);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(r->data, r->uri_len));
}

PG_FUNCTION_INFO_V1(vlake_objref_size);
Datum
vlake_objref_size(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(PG_GETARG_OBJREF_P(0)->size);
}

PG_FUNCTION_INFO_V1(vlake_objref_sha256);
Datum
vlake_objref_sha256(PG_FUNCTION_ARGS)
{
	char		hex[2 * OBJREF_SHA256_LEN + 1];

	objref_sha256_hex(PG_GETARG_OBJREF_P(0)->sha256, hex);
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}

PG_FUNCTION_INFO_V1(vlake_objref_mime);
Datum
vlake_objref_mime(PG_FUNCTION_ARGS)
{
	ObjRef	   *r = PG_GETARG_OBJREF_P(0);

	if (r->mime_len < 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(r->data + r->uri_len, r->mime_len));
}

/* ------------------------------------------------- ordering and hashing --- */

static int
bytes_cmp(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* By uri (bytewise), size, sha256, then mime (none first). */
static int
objref_cmp_internal(const ObjRef *a, const ObjRef *b)
{
	int			c = bytes_cmp(a->data, a->uri_len, b->data, b->uri_len);

	if (c != 0)
		return c;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	c = memcmp(a->sha256, b->sha256, OBJREF_SHA256_LEN);
	if (c != 0)
		return c;
	if (a->mime_len < 0 || b->mime_len < 0)
		return (a->mime_len >= 0) - (b->mime_len >= 0);
	return bytes_cmp(a->data + a->uri_len, a->mime_len, b->data + b->uri_len, b->mime_len);
}

#define OBJREF_CMP_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int c = objref_cmp_internal(PG_GETARG_OBJREF_P(0), PG_GETARG_OBJREF_P(1)); \
	expr; \
}

OBJREF_CMP_FN(vlake_objref_cmp, PG_RETURN_INT32(c))
OBJREF_CMP_FN(vlake_objref_eq, PG_RETURN_BOOL(c == 0))
OBJREF_CMP_FN(vlake_objref_ne, PG_RETURN_BOOL(c != 0))
OBJREF_CMP_FN(vlake_objref_lt, PG_RETURN_BOOL(c < 0))
OBJREF_CMP_FN(vlake_objref_le, PG_RETURN_BOOL(c <= 0))
OBJREF_CMP_FN(vlake_objref_gt, PG_RETURN_BOOL(c > 0))
OBJREF_CMP_FN(vlake_objref_ge, PG_RETURN_BOOL(c >= 0))

/* Equal references have equal bytes (built zeroed, one layout). */
PG_FUNCTION_INFO_V1(vlake_objref_hash);
Datum
vlake_objref_hash(PG_FUNCTION_ARGS)
{
	ObjRef	   *r = PG_GETARG_OBJREF_P(0);

	return hash_any((const unsigned char *) r + VARHDRSZ, VARSIZE(r) - VARHDRSZ);
}

/* ---------------------------------------------------------- the type OID --- */

Oid
objref_type_oid(void)
{
	return vector_extension_type_oid("objref");
}
