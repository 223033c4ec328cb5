/*
 * unit_s3_xml — the S3 XML reader (src/objstore/s3_xml.c) on valid
 * answers (expected values written by hand), and on hostile input: every
 * truncation of a valid document, random byte mutations, deep nesting,
 * bad entities.  Each input must either parse or raise the reader's error;
 * never crash or read out of bounds (run it under valgrind: the buffers are
 * allocated exactly, so an overread is reported).
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "objstore/s3_xml.h"
#include "pg_standin.h"

static int	failures = 0;

static void
check(bool cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "FAIL %s\n", what);
		failures++;
	}
	else
		printf("ok %s\n", what);
}

/* An exact-size heap copy, so valgrind sees any read past the end. */
static S3XmlSpan
span_copy(const char *s, size_t len)
{
	char	   *p = malloc(len ? len : 1);

	memcpy(p, s, len);
	return (S3XmlSpan) {p, len};
}

static const char *list_doc =
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
"<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>"
"<IsTruncated>true</IsTruncated>"
"<NextContinuationToken>1/x+y==</NextContinuationToken>"
"<Contents><Key>p/a&amp;b &lt;c&gt; &#233;&#x4E2D;</Key><Size>12</Size>"
"<ETag>&quot;abc&quot;</ETag><Owner><ID>o</ID></Owner></Contents>"
"<!-- a comment <Contents> -->"
"<Contents><Key>p/empty</Key><Size>0</Size><ETag/></Contents>"
"</ListBucketResult>";

/* Walk a listing the way s3_backend.c does; returns number of entries. */
static int
walk_listing(S3XmlSpan doc)
{
	S3XmlSpan	lbr,
				c;
	size_t		pos = 0;
	int			n = 0;

	if (!s3xml_find(doc, "ListBucketResult", &lbr, "t"))
		return -1;
	while (s3xml_next(lbr, &pos, "Contents", &c, "t"))
	{
		char	   *k = s3xml_child_text(c, "Key", "t");
		char	   *sz = s3xml_child_text(c, "Size", "t");
		char	   *e = s3xml_child_text(c, "ETag", "t");

		if (k)
			pfree(k);
		if (sz)
			pfree(sz);
		if (e)
			pfree(e);
		n++;
	}
	{
		char	   *t = s3xml_child_text(lbr, "IsTruncated", "t");

		if (t)
			pfree(t);
	}
	return n;
}

static void
test_valid(void)
{
	S3XmlSpan	doc = span_copy(list_doc, strlen(list_doc));
	S3XmlSpan	lbr,
				c;
	size_t		pos = 0;
	char	   *v;

	check(s3xml_find(doc, "ListBucketResult", &lbr, "t"), "finds the root");
	check(s3xml_next(lbr, &pos, "Contents", &c, "t"), "first Contents");
	v = s3xml_child_text(c, "Key", "t");
	check(strcmp(v, "p/a&b <c> \xc3\xa9\xe4\xb8\xad") == 0, "entities and character references decoded to UTF-8");
	v = s3xml_child_text(c, "ETag", "t");
	check(strcmp(v, "\"abc\"") == 0, "&quot; decoded");
	check(s3xml_next(lbr, &pos, "Contents", &c, "t"), "second Contents (comment skipped)");
	v = s3xml_child_text(c, "ETag", "t");
	check(v != NULL && v[0] == '\0', "empty element <ETag/>");
	check(!s3xml_next(lbr, &pos, "Contents", &c, "t"), "no third Contents");
	v = s3xml_child_text(lbr, "NextContinuationToken", "t");
	check(strcmp(v, "1/x+y==") == 0, "continuation token");
	check(s3xml_child_text(lbr, "Missing", "t") == NULL, "missing element is NULL");
	pos = 0;
	check(!s3xml_next(lbr, &pos, "ID", &c, "t"), "next() does not descend into children");
	check(s3xml_find(lbr, "ID", &c, "t"), "find() does");
	check(walk_listing(doc) == 2, "walk finds two entries");
	free((void *) doc.p);
}

/* Returns true when parsing raised the reader's error. */
static bool
raises(const char *s, size_t len)
{
	S3XmlSpan	doc = span_copy(s, len);
	bool		raised;

	raised = STANDIN_CATCH((void) walk_listing(doc));
	free((void *) doc.p);
	return raised;
}

static void
test_hostile(void)
{
	size_t		len = strlen(list_doc);
	int			raised = 0;
	char		buf[4096];
	unsigned int seed = 12345;

	/* every truncation: parse or error, never crash or overread */
	for (size_t cut = 0; cut <= len; cut++)
		raised += raises(list_doc, cut);
	check(raised > 0, "truncated documents are refused");
	printf("  (%d of %zu truncations refused)\n", raised, len + 1);

	/* random mutations */
	for (int round = 0; round < 3000; round++)
	{
		memcpy(buf, list_doc, len);
		for (int k = 0; k < 4; k++)
		{
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % len] = "<>&;/#x\"'a\0"[(seed >> 20) % 11];
		}
		(void) raises(buf, len);
	}
	check(true, "3000 mutated documents parsed or refused without a crash");

	check(raises("<ListBucketResult><Contents><Key>a</Key></Contents>", sizeof("<ListBucketResult><Contents><Key>a</Key></Contents>") - 1), "unclosed element");
	check(raises("<ListBucketResult><Contents><Key>a</Size></Contents></ListBucketResult>", sizeof("<ListBucketResult><Contents><Key>a</Size></Contents></ListBucketResult>") - 1), "mismatched end tag");
	check(raises("<ListBucketResult><Contents><Key>a&bogus;</Key></Contents></ListBucketResult>", sizeof("<ListBucketResult><Contents><Key>a&bogus;</Key></Contents></ListBucketResult>") - 1), "unknown entity");
	check(raises("<ListBucketResult><Contents><Key>&#0;</Key></Contents></ListBucketResult>", sizeof("<ListBucketResult><Contents><Key>&#0;</Key></Contents></ListBucketResult>") - 1), "NUL character reference");
	check(raises("<ListBucketResult><Contents><Key>&#x110000;</Key></Contents></ListBucketResult>", sizeof("<ListBucketResult><Contents><Key>&#x110000;</Key></Contents></ListBucketResult>") - 1), "out-of-range reference");
	check(raises("<ListBucketResult><Contents><Key>&#xD800;</Key></Contents></ListBucketResult>", sizeof("<ListBucketResult><Contents><Key>&#xD800;</Key></Contents></ListBucketResult>") - 1), "surrogate reference");
	check(raises("<!DOCTYPE x [<!ENTITY a \"b\">]><ListBucketResult/>", sizeof("<!DOCTYPE x [<!ENTITY a \"b\">]><ListBucketResult/>") - 1), "DTD refused");
	check(raises("<ListBucketResult><Contents><Key><![CDATA[x]]></Key></Contents></ListBucketResult>", sizeof("<ListBucketResult><Contents><Key><![CDATA[x]]></Key></Contents></ListBucketResult>") - 1), "CDATA refused");
	check(raises("<ListBucketResult><Contents><Key><b>x</b></Key></Contents></ListBucketResult>", sizeof("<ListBucketResult><Contents><Key><b>x</b></Key></Contents></ListBucketResult>") - 1), "markup where text belongs");
	{
		/* nesting deeper than the bound */
		StringInfoData deep;

		initStringInfo(&deep);
		appendStringInfoString(&deep, "<ListBucketResult>");
		for (int i = 0; i < 100; i++)
			appendStringInfoString(&deep, "<a>");
		check(raises(deep.data, deep.len), "nesting bound");
	}
	check(raises("<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult\0>", sizeof("<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult\0>") - 1),
		  "NUL inside a tag");
}

int
main(void)
{
	test_valid();
	test_hostile();
	if (failures)
	{
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("all XML reader checks passed\n");
	return 0;
}
