/*
 * s3_xml.c — see s3_xml.h.
 *
 * The reader works on (pointer, length) spans and checks every index
 * against the span end before use.  Element matching walks tags with a
 * depth counter (bounded) so that an element's content is exactly the span
 * between its start tag and the matching end tag.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"

#include "objstore/s3_xml.h"

#define S3XML_MAX_DEPTH 64

static void pg_attribute_noreturn()
xml_error(const char *what, const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_XML_DOCUMENT),
			 errmsg("invalid XML in the S3 response for \"%s\": %s", what, reason)));
}

/* Offset of needle in s[from, len), or -1. */
static ssize_t
span_find(const char *s, size_t len, size_t from, const char *needle)
{
	size_t		nlen = strlen(needle);

	if (nlen == 0 || from > len)
		return -1;
	for (size_t i = from; i + nlen <= len; i++)
		if (s[i] == needle[0] && memcmp(s + i, needle, nlen) == 0)
			return (ssize_t) i;
	return -1;
}

typedef enum TagKind
{
	TAG_NONE,					/* no more tags */
	TAG_START,
	TAG_EMPTY,					/* <name/> */
	TAG_END
} TagKind;

typedef struct Tag
{
	TagKind		kind;
	size_t		begin;			/* offset of '<' */
	size_t		end;			/* offset just past '>' */
	size_t		name_off;
	size_t		name_len;
} Tag;

static bool
is_name_char(char c)
{
	return !(c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' ||
			 c == '/' || c == '\0');
}

/* The next start/empty/end tag at or after pos, skipping <?...?> and comments. */
static Tag
next_tag(const char *s, size_t len, size_t pos, const char *what)
{
	Tag			t = {TAG_NONE, 0, 0, 0, 0};

	for (;;)
	{
		ssize_t		lt = span_find(s, len, pos, "<");
		size_t		i;
		char		quote = 0;

		if (lt < 0)
			return t;
		i = (size_t) lt + 1;
		if (i >= len)
			xml_error(what, "document ends inside a tag");
		if (s[i] == '?')
		{
			ssize_t		e = span_find(s, len, i, "?>");

			if (e < 0)
				xml_error(what, "unterminated processing instruction");
			pos = (size_t) e + 2;
			continue;
		}
		if (s[i] == '!')
		{
			ssize_t		e;

			if (i + 2 < len && s[i + 1] == '-' && s[i + 2] == '-')
			{
				e = span_find(s, len, i + 3, "-->");
				if (e < 0)
					xml_error(what, "unterminated comment");
				pos = (size_t) e + 3;
				continue;
			}
			xml_error(what, "DTD and CDATA sections are not accepted");
		}
		t.begin = (size_t) lt;
		t.kind = TAG_START;
		if (s[i] == '/')
		{
			t.kind = TAG_END;
			i++;
		}
		t.name_off = i;
		while (i < len && is_name_char(s[i]))
			i++;
		t.name_len = i - t.name_off;
		if (t.name_len == 0)
			xml_error(what, "tag without a name");
		/* skip attributes up to '>' (quoted values may contain '>') */
		for (; i < len; i++)
		{
			if (s[i] == '\0')
				xml_error(what, "NUL byte in a tag");
			if (quote)
			{
				if (s[i] == quote)
					quote = 0;
			}
			else if (s[i] == '"' || s[i] == '\'')
				quote = s[i];
			else if (s[i] == '>')
				break;
		}
		if (i >= len)
			xml_error(what, "document ends inside a tag");
		if (t.kind == TAG_START && s[i - 1] == '/')
			t.kind = TAG_EMPTY;
		t.end = i + 1;
		return t;
	}
}

static bool
tag_is(const char *s, const Tag *t, const char *name)
{
	size_t		n = strlen(name);

	return t->name_len == n && memcmp(s + t->name_off, name, n) == 0;
}

/*
 * Given a start tag, find its matching end tag; returns the offset of the
 * end tag's '<' and sets *after to just past it.
 */
static size_t
match_end(const char *s, size_t len, const Tag *start, size_t *after, const char *what)
{
	int			depth = 1;
	size_t		pos = start->end;

	for (;;)
	{
		Tag			t = next_tag(s, len, pos, what);

		if (t.kind == TAG_NONE)
			xml_error(what, "element not closed");
		pos = t.end;
		if (t.kind == TAG_START)
		{
			if (++depth > S3XML_MAX_DEPTH)
				xml_error(what, "elements nested too deeply");
		}
		else if (t.kind == TAG_END)
		{
			if (--depth == 0)
			{
				if (t.name_len != start->name_len ||
					memcmp(s + t.name_off, s + start->name_off, t.name_len) != 0)
					xml_error(what, "mismatched end tag");
				*after = t.end;
				return t.begin;
			}
		}
	}
}

static bool
scan_for(S3XmlSpan within, size_t *pos, const char *name, S3XmlSpan *content,
		 const char *what, bool any_depth)
{
	const char *s = within.p;
	size_t		len = within.len;
	size_t		p = *pos;

	for (;;)
	{
		Tag			t;

		CHECK_FOR_INTERRUPTS();
		t = next_tag(s, len, p, what);
		if (t.kind == TAG_NONE)
			return false;
		if (t.kind == TAG_END)
		{
			p = t.end;
			continue;
		}
		if (tag_is(s, &t, name))
		{
			if (t.kind == TAG_EMPTY)
			{
				content->p = s + t.end;
				content->len = 0;
				*pos = t.end;
				return true;
			}
			else
			{
				size_t		after;
				size_t		endtag = match_end(s, len, &t, &after, what);

				content->p = s + t.end;
				content->len = endtag - t.end;
				*pos = after;
				return true;
			}
		}
		if (t.kind == TAG_START && !any_depth)
		{
			size_t		after;

			(void) match_end(s, len, &t, &after, what);
			p = after;
		}
		else
			p = t.end;
	}
}

bool
s3xml_next(S3XmlSpan within, size_t *pos, const char *name, S3XmlSpan *content,
		   const char *what)
{
	return scan_for(within, pos, name, content, what, false);
}

bool
s3xml_find(S3XmlSpan within, const char *name, S3XmlSpan *content, const char *what)
{
	size_t		pos = 0;

	return scan_for(within, &pos, name, content, what, true);
}

/* Decode one entity starting after '&' at s[i]; returns the index past ';'. */
static size_t
decode_entity(const char *s, size_t len, size_t i, StringInfo out, const char *what)
{
	static const struct
	{
		const char *name;
		char		c;
	}			named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
	ssize_t		semi = span_find(s, len, i, ";");
	size_t		n;

	if (semi < 0 || (size_t) semi - i > 10)
		xml_error(what, "unterminated character reference");
	n = (size_t) semi - i;
	if (n >= 2 && s[i] == '#')
	{
		uint32		cp = 0;
		bool		hex = (s[i + 1] == 'x');
		size_t		j = hex ? i + 2 : i + 1;
		unsigned char utf8[8];

		if (j >= (size_t) semi)
			xml_error(what, "empty character reference");
		for (; j < (size_t) semi; j++)
		{
			int			d;
			char		c = s[j];

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (hex && c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				xml_error(what, "bad character reference");
			cp = cp * (hex ? 16 : 10) + d;
			if (cp > 0x10FFFF)
				xml_error(what, "character reference out of range");
		}
		if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
			xml_error(what, "character reference out of range");
		unicode_to_utf8(cp, utf8);
		appendBinaryStringInfo(out, (char *) utf8, pg_utf_mblen(utf8));
		return (size_t) semi + 1;
	}
	for (size_t k = 0; k < lengthof(named); k++)
		if (strlen(named[k].name) == n && memcmp(s + i, named[k].name, n) == 0)
		{
			appendStringInfoChar(out, named[k].c);
			return (size_t) semi + 1;
		}
	xml_error(what, "unknown entity");
}

char *
s3xml_text(S3XmlSpan content, const char *what)
{
	StringInfoData out;
	const char *s = content.p;
	size_t		len = content.len;
	size_t		i = 0;

	initStringInfo(&out);
	while (i < len)
	{
		char		c = s[i];

		if (c == '<')
			xml_error(what, "element found where text was expected");
		if (c == '\0')
			xml_error(what, "NUL byte in text");
		if (c == '&')
			i = decode_entity(s, len, i + 1, &out, what);
		else
		{
			appendStringInfoChar(&out, c);
			i++;
		}
	}
	return out.data;
}

char *
s3xml_child_text(S3XmlSpan within, const char *name, const char *what)
{
	S3XmlSpan	c;

	if (!s3xml_find(within, name, &c, what))
		return NULL;
	return s3xml_text(c, what);
}
