/*
 * s3_xml.h — a small, bounds-checked reader for the XML documents S3
 * answers with (ListBucketResult, Error, InitiateMultipartUploadResult,
 * DeleteResult).  It finds elements by name inside a span and decodes the
 * text of leaf elements; it never reads outside the span it is given, never
 * recurses, and ERRORs naming the object on malformed input.
 * No DTDs, no CDATA, no namespaces prefixes: S3 uses none of them.
 */
#ifndef VLAKE_S3_XML_H
#define VLAKE_S3_XML_H

#include "postgres.h"

typedef struct S3XmlSpan
{
	const char *p;
	size_t		len;
} S3XmlSpan;

/*
 * Next element called name at nesting depth 0 of `within`, starting the
 * scan at *pos (an offset into within).  On success *content is the
 * element's inner span and *pos moves past its end tag.  `what` names the
 * object in error messages.
 */
extern bool s3xml_next(S3XmlSpan within, size_t *pos, const char *name,
					   S3XmlSpan *content, const char *what);

/* Like s3xml_next from the start, searching at any depth: the first one. */
extern bool s3xml_find(S3XmlSpan within, const char *name, S3XmlSpan *content,
					   const char *what);

/* Decoded text of a leaf element (entities resolved); palloc'd. */
extern char *s3xml_text(S3XmlSpan content, const char *what);

/* Decoded text of the first `name` element anywhere in within, or NULL. */
extern char *s3xml_child_text(S3XmlSpan within, const char *name, const char *what);

#endif							/* VLAKE_S3_XML_H */
