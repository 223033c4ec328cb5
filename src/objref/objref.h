/*
 * objref.h — references to raw objects (layer "objref"): the objref type.
 *
 * A row of a table points at a source object (a video, a PDF, an image)
 * that stays in object storage; the row holds an objref: the object's URI,
 * its size, its SHA-256 and optionally its MIME type.  vlake never owns,
 * moves or deletes the object (docs/objref.md).
 *
 * Text form (stable, documented): one JSON object,
 *   {"uri":"s3://b/k.mp4","size":123,"sha256":"<64 lowercase hex>","mime":"video/mp4"}
 * keys in this order, no spaces, "mime" absent when unknown.  Input accepts
 * the keys in any order, white space, "mime": null and uppercase hex.
 *
 * Reading the object goes through the object store (objstore.h): file://
 * URIs are confined to vlake.allowed_file_roots and the embedded lake,
 * s3:// URIs use the user's S3 settings.
 */
#ifndef VLAKE_OBJREF_H
#define VLAKE_OBJREF_H

#include "postgres.h"

#define OBJREF_MAX_URI		1024	/* bytes, as manifest paths */
#define OBJREF_MAX_MIME		255		/* bytes (RFC 6838 names are <= 127+1+127) */
#define OBJREF_MAX_SIZE		INT64CONST(9007199254740991)	/* 2^53 - 1: exact in JSON */
#define OBJREF_SHA256_LEN	32

/*
 * On-disk form: a varlena holding the fields, then the URI bytes, then the
 * MIME bytes (no terminators).  Built zeroed, so equal references have equal
 * bytes (equality and hashing compare bytes).
 */
typedef struct ObjRef
{
	int32		vl_len_;
	uint16		uri_len;
	int16		mime_len;		/* -1: no MIME type */
	int64		size;
	uint8		sha256[OBJREF_SHA256_LEN];
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* uri, then mime */
} ObjRef;

#define DatumGetObjRefP(d)		((ObjRef *) PG_DETOAST_DATUM(d))
#define PG_GETARG_OBJREF_P(n)	DatumGetObjRefP(PG_GETARG_DATUM(n))
#define PG_RETURN_OBJREF_P(x)	PG_RETURN_POINTER(x)

#define OBJREF_URI(r)	((r)->data)
#define OBJREF_MIME(r)	((r)->mime_len < 0 ? NULL : (r)->data + (r)->uri_len)

/* A reference from its parts after validation (ERROR naming what is bad);
 * mime may be NULL. */
extern ObjRef *objref_make(const char *uri, int64 size, const uint8 *sha256,
						   const char *mime);

/* The text form above (palloc'd). */
extern char *objref_to_text(const ObjRef *r);

/* NUL-terminated copies of the URI and MIME type (NULL when none). */
extern char *objref_uri(const ObjRef *r);
extern char *objref_mime(const ObjRef *r);

/* 64 lowercase hex digits + NUL into out[65]. */
extern void objref_sha256_hex(const uint8 *sha, char *out);

/* The OID of the objref type in vlake's schema, InvalidOid while it does
 * not exist (during CREATE EXTENSION). */
extern Oid	objref_type_oid(void);

/* Bytes objref_read returns at most (GUC vlake.objref_read_max_bytes). */
extern int	objref_read_max_bytes;

#endif							/* VLAKE_OBJREF_H */
