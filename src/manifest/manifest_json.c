/*
 * manifest_json.c — the dataset manifest document: strict JSON parser,
 * mapping onto the model, validation, canonical encoder (manifest.h,
 * docs/manifest.md).
 *
 * Decoding is two passes.  The parser turns the bytes into a tree of JVal
 * nodes: UTF-8 validated, nesting bounded (MANIFEST_MAX_DEPTH, checked
 * before descending), integers range-checked into int64, duplicate keys
 * refused, and every decoded string copied into one arena of the
 * document's size (a decoded string is never longer than its quoted
 * source, so the arena cannot overflow).  The mapper then walks the tree
 * with the document's JSON path at hand, checks format_version before
 * anything else (a newer version is LAKE_UNSUPPORTED, not corrupt), refuses
 * unknown keys, and fills the model; manifest_validate() applies the rules
 * between values.  Every error names the URI and the JSON path.
 */
#include "postgres.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/stringinfo.h"

#include "lake/lake_error.h"
#include "manifest/manifest.h"

/* ------------------------------------------------------------ errors ---- */

#define PATH_MAX_LEN 200

typedef struct MCtx
{
	const char *uri;
	char		path[PATH_MAX_LEN + 16];
	int			len;
} MCtx;

static void mfail(const MCtx *c, LakeProblem problem, const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();

static void
mfail(const MCtx *c, LakeProblem problem, const char *fmt,...)
{
	char		reason[512];
	va_list		ap;
	LakeErrorContext ctx = {"vlake manifest",
		c->uri ? c->uri : "(new manifest)", NULL, NULL};

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	lake_report(problem, &ctx, "%s: %s", c->len > 0 ? c->path : "(document)", reason);
}

#define CORRUPT(c, ...) mfail((c), LAKE_CORRUPT, __VA_ARGS__)

/* Append ".key" (or "key" at the root); returns the length to restore. */
static int
path_key(MCtx *c, const char *key, size_t keylen)
{
	int			save = c->len;
	bool		plain = keylen > 0 && keylen <= 64;

	for (size_t i = 0; plain && i < keylen; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
			  (key[i] >= '0' && key[i] <= '9') || key[i] == '_' || key[i] == '.' ||
			  key[i] == '-'))
			plain = false;
	if (c->len >= PATH_MAX_LEN)
		return save;			/* deep enough: keep the prefix */
	c->len += snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%.*s",
					   c->len > 0 ? "." : "", plain ? (int) keylen : 3,
					   plain ? key : "<?>");
	if (c->len > PATH_MAX_LEN)
		c->len = PATH_MAX_LEN;
	c->path[c->len] = '\0';
	return save;
}

static int
path_index(MCtx *c, int64 i)
{
	int			save = c->len;

	if (c->len >= PATH_MAX_LEN)
		return save;
	c->len += snprintf(c->path + c->len, sizeof(c->path) - c->len, "[" INT64_FORMAT "]", i);
	if (c->len > PATH_MAX_LEN)
		c->len = PATH_MAX_LEN;
	c->path[c->len] = '\0';
	return save;
}

static void
path_restore(MCtx *c, int save)
{
	c->len = save;
	c->path[save] = '\0';
}

/* ------------------------------------------------------------- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at p (< end), 0 if invalid. */
static int
utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char b = p[0];
	int			n;
	unsigned char lo = 0x80,
				hi = 0xBF;

	if (b < 0x80)
		return 1;
	if (b >= 0xC2 && b <= 0xDF)
		n = 2;
	else if (b >= 0xE0 && b <= 0xEF)
	{
		n = 3;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;			/* no surrogates */
	}
	else if (b >= 0xF0 && b <= 0xF4)
	{
		n = 4;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;			/* <= U+10FFFF */
	}
	else
		return 0;
	if (end - p < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

static bool
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + strlen(s);

	while (p < end)
	{
		int			n = utf8_seq(p, end);

		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

/* ------------------------------------------------------------ parser ---- */

typedef enum JKind
{
	JV_NULL, JV_FALSE, JV_TRUE, JV_INT, JV_REAL, JV_STR, JV_ARR, JV_OBJ
} JKind;

typedef struct JVal
{
	uint8		kind;
	uint32		n;				/* string length, element / member count */
	union
	{
		int64		i;
		char	   *s;
		struct JVal *arr;
		struct JMember *obj;
	}			u;
} JVal;

typedef struct JMember
{
	char	   *key;
	uint32		keylen;
	JVal		v;
} JMember;

typedef struct JParser
{
	MCtx	   *c;
	const unsigned char *start;
	const unsigned char *p;
	const unsigned char *end;
	char	   *arena;
	size_t		used;
	int			depth;
} JParser;

static void jfail(JParser *P, const char *what) pg_attribute_noreturn();

static void
jfail(JParser *P, const char *what)
{
	if (P->p >= P->end)
		CORRUPT(P->c, "JSON syntax error at end of document (byte %zu): %s",
				(size_t) (P->p - P->start), what);
	CORRUPT(P->c, "JSON syntax error at byte %zu: %s",
			(size_t) (P->p - P->start), what);
}

static void
skip_ws(JParser *P)
{
	while (P->p < P->end &&
		   (*P->p == ' ' || *P->p == '\t' || *P->p == '\n' || *P->p == '\r'))
		P->p++;
}

static int
hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static uint32
parse_u4(JParser *P)
{
	uint32		v = 0;

	if (P->end - P->p < 4)
		jfail(P, "truncated \\u escape");
	for (int i = 0; i < 4; i++)
	{
		int			h = hexval(P->p[i]);

		if (h < 0)
			jfail(P, "bad \\u escape");
		v = (v << 4) | h;
	}
	P->p += 4;
	return v;
}

/* A string at P->p (the opening quote) into the arena. */
static char *
parse_string(JParser *P, uint32 *outlen)
{
	char	   *dst = P->arena + P->used;
	size_t		n = 0;

	P->p++;						/* " */
	for (;;)
	{
		unsigned char ch;

		if (P->p >= P->end)
			jfail(P, "unterminated string");
		ch = *P->p;
		if (ch == '"')
		{
			P->p++;
			break;
		}
		if (ch < 0x20)
			jfail(P, "control character in string");
		if (ch == '\\')
		{
			uint32		cp;

			P->p++;
			if (P->p >= P->end)
				jfail(P, "unterminated escape");
			ch = *P->p++;
			switch (ch)
			{
				case '"':
				case '\\':
				case '/':
					dst[n++] = ch;
					continue;
				case 'b':
					dst[n++] = '\b';
					continue;
				case 'f':
					dst[n++] = '\f';
					continue;
				case 'n':
					dst[n++] = '\n';
					continue;
				case 'r':
					dst[n++] = '\r';
					continue;
				case 't':
					dst[n++] = '\t';
					continue;
				case 'u':
					break;
				default:
					P->p--;
					jfail(P, "bad escape");
			}
			cp = parse_u4(P);
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				jfail(P, "lone low surrogate in \\u escape");
			if (cp >= 0xD800 && cp <= 0xDBFF)
			{
				uint32		lo;

				if (P->end - P->p < 2 || P->p[0] != '\\' || P->p[1] != 'u')
					jfail(P, "high surrogate not followed by a low surrogate");
				P->p += 2;
				lo = parse_u4(P);
				if (lo < 0xDC00 || lo > 0xDFFF)
					jfail(P, "high surrogate not followed by a low surrogate");
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			if (cp == 0)
				jfail(P, "\\u0000 is not allowed in strings");
			/* the escape took >= 6 source bytes, its UTF-8 at most 4 */
			if (cp < 0x80)
				dst[n++] = (char) cp;
			else if (cp < 0x800)
			{
				dst[n++] = (char) (0xC0 | (cp >> 6));
				dst[n++] = (char) (0x80 | (cp & 0x3F));
			}
			else if (cp < 0x10000)
			{
				dst[n++] = (char) (0xE0 | (cp >> 12));
				dst[n++] = (char) (0x80 | ((cp >> 6) & 0x3F));
				dst[n++] = (char) (0x80 | (cp & 0x3F));
			}
			else
			{
				dst[n++] = (char) (0xF0 | (cp >> 18));
				dst[n++] = (char) (0x80 | ((cp >> 12) & 0x3F));
				dst[n++] = (char) (0x80 | ((cp >> 6) & 0x3F));
				dst[n++] = (char) (0x80 | (cp & 0x3F));
			}
			continue;
		}
		else
		{
			int			k = utf8_seq(P->p, P->end);

			if (k == 0)
				jfail(P, "invalid UTF-8");
			memcpy(dst + n, P->p, k);
			n += k;
			P->p += k;
		}
	}
	dst[n] = '\0';
	P->used += n + 1;
	Assert(P->used <= (size_t) (P->end - P->start) + 1);
	*outlen = (uint32) n;
	return dst;
}

static void
parse_number(JParser *P, JVal *v)
{
	bool		neg = false;
	bool		real = false;
	uint64		mag = 0;
	bool		overflow = false;

	if (*P->p == '-')
	{
		neg = true;
		P->p++;
	}
	if (P->p >= P->end || *P->p < '0' || *P->p > '9')
		jfail(P, "bad number");
	if (*P->p == '0')
	{
		P->p++;
		if (P->p < P->end && *P->p >= '0' && *P->p <= '9')
			jfail(P, "leading zero in number");
	}
	else
		while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
		{
			unsigned	d = *P->p++ - '0';

			if (mag > (PG_UINT64_MAX - d) / 10)
				overflow = true;
			else
				mag = mag * 10 + d;
		}
	if (P->p < P->end && *P->p == '.')
	{
		real = true;
		P->p++;
		if (P->p >= P->end || *P->p < '0' || *P->p > '9')
			jfail(P, "bad number: no digit after the decimal point");
		while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
			P->p++;
	}
	if (P->p < P->end && (*P->p == 'e' || *P->p == 'E'))
	{
		real = true;
		P->p++;
		if (P->p < P->end && (*P->p == '+' || *P->p == '-'))
			P->p++;
		if (P->p >= P->end || *P->p < '0' || *P->p > '9')
			jfail(P, "bad number: no digit in the exponent");
		while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
			P->p++;
	}
	if (real)
	{
		v->kind = JV_REAL;
		return;
	}
	if (overflow || mag > (neg ? (uint64) PG_INT64_MAX + 1 : (uint64) PG_INT64_MAX))
		CORRUPT(P->c, "number at byte %zu is out of the range of a 64-bit integer",
				(size_t) (P->p - P->start));
	v->kind = JV_INT;
	v->u.i = neg ? (mag == (uint64) PG_INT64_MAX + 1 ? PG_INT64_MIN : -(int64) mag)
		: (int64) mag;
}

static void parse_value(JParser *P, JVal *v);

static int
member_cmp(const void *a, const void *b)
{
	const JMember *x = *(const JMember *const *) a;
	const JMember *y = *(const JMember *const *) b;
	int			r = memcmp(x->key, y->key, Min(x->keylen, y->keylen));

	if (r != 0)
		return r;
	return (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

static void
check_duplicates(JParser *P, JVal *v)
{
	const JMember *dup = NULL;

	if (v->n < 2)
		return;
	if (v->n <= 8)
	{
		for (uint32 i = 0; i < v->n && !dup; i++)
			for (uint32 j = i + 1; j < v->n && !dup; j++)
				if (v->u.obj[i].keylen == v->u.obj[j].keylen &&
					memcmp(v->u.obj[i].key, v->u.obj[j].key, v->u.obj[i].keylen) == 0)
					dup = &v->u.obj[j];
	}
	else
	{
		JMember   **s = palloc(sizeof(JMember *) * v->n);

		for (uint32 i = 0; i < v->n; i++)
			s[i] = &v->u.obj[i];
		qsort(s, v->n, sizeof(JMember *), member_cmp);
		for (uint32 i = 1; i < v->n && !dup; i++)
			if (member_cmp(&s[i - 1], &s[i]) == 0)
				dup = s[i];
		pfree(s);
	}
	if (dup)
	{
		path_key(P->c, dup->key, dup->keylen);
		CORRUPT(P->c, "duplicate key");
	}
}

static void
parse_container(JParser *P, JVal *v, bool object)
{
	uint32		cap = 0;
	unsigned char close = object ? '}' : ']';

	if (++P->depth > MANIFEST_MAX_DEPTH)
		jfail(P, "nesting deeper than " CppAsString2(MANIFEST_MAX_DEPTH) " levels");
	P->p++;
	v->kind = object ? JV_OBJ : JV_ARR;
	v->n = 0;
	v->u.arr = NULL;
	skip_ws(P);
	if (P->p < P->end && *P->p == close)
	{
		P->p++;
		P->depth--;
		return;
	}
	for (;;)
	{
		JVal	   *elem;
		int			save;

		if (v->n == cap)
		{
			cap = cap ? cap * 2 : 2;
			if (object)
				v->u.obj = v->u.obj ? repalloc(v->u.obj, sizeof(JMember) * cap)
					: palloc(sizeof(JMember) * cap);
			else
				v->u.arr = v->u.arr ? repalloc(v->u.arr, sizeof(JVal) * cap)
					: palloc(sizeof(JVal) * cap);
		}
		skip_ws(P);
		if (object)
		{
			JMember    *m = &v->u.obj[v->n];

			if (P->p >= P->end || *P->p != '"')
				jfail(P, "expected a key string");
			m->key = parse_string(P, &m->keylen);
			skip_ws(P);
			if (P->p >= P->end || *P->p != ':')
				jfail(P, "expected ':'");
			P->p++;
			elem = &m->v;
			save = path_key(P->c, m->key, m->keylen);
		}
		else
		{
			elem = &v->u.arr[v->n];
			save = path_index(P->c, v->n);
		}
		parse_value(P, elem);
		path_restore(P->c, save);
		v->n++;
		skip_ws(P);
		if (P->p < P->end && *P->p == ',')
		{
			P->p++;
			continue;
		}
		if (P->p < P->end && *P->p == close)
		{
			P->p++;
			break;
		}
		jfail(P, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	if (object)
		check_duplicates(P, v);
	P->depth--;
}

static bool
match_word(JParser *P, const char *w)
{
	size_t		n = strlen(w);

	if ((size_t) (P->end - P->p) >= n && memcmp(P->p, w, n) == 0)
	{
		P->p += n;
		return true;
	}
	return false;
}

static void
parse_value(JParser *P, JVal *v)
{
	skip_ws(P);
	if (P->p >= P->end)
		jfail(P, "expected a value");
	switch (*P->p)
	{
		case '{':
			parse_container(P, v, true);
			return;
		case '[':
			parse_container(P, v, false);
			return;
		case '"':
			v->kind = JV_STR;
			v->u.s = parse_string(P, &v->n);
			return;
		case 't':
			if (!match_word(P, "true"))
				jfail(P, "bad literal");
			v->kind = JV_TRUE;
			return;
		case 'f':
			if (!match_word(P, "false"))
				jfail(P, "bad literal");
			v->kind = JV_FALSE;
			return;
		case 'n':
			if (!match_word(P, "null"))
				jfail(P, "bad literal");
			v->kind = JV_NULL;
			return;
		default:
			if (*P->p == '-' || (*P->p >= '0' && *P->p <= '9'))
			{
				parse_number(P, v);
				return;
			}
			jfail(P, "unexpected character");
	}
}

/* ------------------------------------------------- tree -> model ---- */

static const char *
kind_name(const JVal *v)
{
	switch (v->kind)
	{
		case JV_NULL:
			return "null";
		case JV_FALSE:
		case JV_TRUE:
			return "a boolean";
		case JV_INT:
			return "an integer";
		case JV_REAL:
			return "a non-integer number";
		case JV_STR:
			return "a string";
		case JV_ARR:
			return "an array";
		default:
			return "an object";
	}
}

static const JVal *
find(const JVal *obj, const char *key)
{
	size_t		n = strlen(key);

	for (uint32 i = 0; i < obj->n; i++)
		if (obj->u.obj[i].keylen == n && memcmp(obj->u.obj[i].key, key, n) == 0)
			return &obj->u.obj[i].v;
	return NULL;
}

/* Refuse keys not in allowed (NULL-terminated). */
static void
check_keys(MCtx *c, const JVal *obj, const char *const *allowed)
{
	for (uint32 i = 0; i < obj->n; i++)
	{
		const JMember *m = &obj->u.obj[i];
		bool		ok = false;

		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strlen(*a) == m->keylen && memcmp(*a, m->key, m->keylen) == 0;
		if (!ok)
		{
			path_key(c, m->key, m->keylen);
			CORRUPT(c, "unknown key (no format_version this build reads, 1 to %d, has it; extensions go in \"properties\")",
					MANIFEST_FORMAT_VERSION);
		}
	}
}

/* Look up key in obj with the path extended by it; NULL when absent
 * (ERROR when required).  The caller restores the path with *save. */
static const JVal *
member(MCtx *c, const JVal *obj, const char *key, bool required, int *save)
{
	const JVal *v = find(obj, key);

	*save = path_key(c, key, strlen(key));
	if (v == NULL && required)
		CORRUPT(c, "required key is missing");
	return v;
}

static void
expect_kind(MCtx *c, const JVal *v, JKind kind, const char *what)
{
	if (v->kind != kind)
		CORRUPT(c, "must be %s, not %s", what, kind_name(v));
}

static int64
get_int(MCtx *c, const JVal *obj, const char *key, int64 min, int64 max)
{
	int			save;
	const JVal *v = member(c, obj, key, true, &save);

	if (v->kind != JV_INT || v->u.i < min || v->u.i > max)
		CORRUPT(c, "must be an integer in [" INT64_FORMAT ", " INT64_FORMAT "]%s%s",
				min, max, v->kind == JV_INT ? "" : ", not ",
				v->kind == JV_INT ? "" : kind_name(v));
	path_restore(c, save);
	return v->u.i;
}

static char *
get_str(MCtx *c, const JVal *obj, const char *key, bool required)
{
	int			save;
	const JVal *v = member(c, obj, key, required, &save);

	if (v)
		expect_kind(c, v, JV_STR, "a string");
	path_restore(c, save);
	return v ? v->u.s : NULL;
}

static bool
get_bool(MCtx *c, const JVal *obj, const char *key)
{
	int			save;
	const JVal *v = member(c, obj, key, true, &save);

	if (v->kind != JV_TRUE && v->kind != JV_FALSE)
		CORRUPT(c, "must be a boolean, not %s", kind_name(v));
	path_restore(c, save);
	return v->kind == JV_TRUE;
}

/* An array member; *save must be restored by the caller. */
static const JVal *
get_array(MCtx *c, const JVal *obj, const char *key, int max, int *save)
{
	const JVal *v = member(c, obj, key, true, save);

	expect_kind(c, v, JV_ARR, "an array");
	if (v->n > (uint32) max)
		CORRUPT(c, "has %u elements, more than the limit of %d", v->n, max);
	return v;
}

static void
map_kv(MCtx *c, const JVal *obj, const char *key, int max, int *n, ManifestKV **out)
{
	int			save;
	const JVal *v = member(c, obj, key, true, &save);

	expect_kind(c, v, JV_OBJ, "an object");
	if (v->n > (uint32) max)
		CORRUPT(c, "has %u keys, more than the limit of %d", v->n, max);
	*n = v->n;
	*out = palloc0(sizeof(ManifestKV) * Max(v->n, 1));
	for (uint32 i = 0; i < v->n; i++)
	{
		const JMember *m = &v->u.obj[i];
		int			s2 = path_key(c, m->key, m->keylen);

		expect_kind(c, &m->v, JV_STR, "a string");
		(*out)[i].key = m->key;
		(*out)[i].value = m->v.u.s;
		path_restore(c, s2);
	}
	path_restore(c, save);
}

static const char *const type_names[] = {
	"boolean", "int16", "int32", "int64", "float32", "float64", "decimal",
	"string", "binary", "json", "uuid", "date", "timestamp", "timestamptz",
	"vector", "object_ref"
};
static const char *const layout_names[] = {"parquet", "vector_cg", "long_text"};
static const char *const element_names[] = {"", "float32", "float16"};

int32
manifest_format_needed(const Manifest *m)
{
	for (int i = 0; i < m->nsegments; i++)
		for (int g = 0; g < m->segments[i].ngroups; g++)
			if (m->segments[i].groups[g].objects)
				return MANIFEST_FORMAT_OBJECT_LIST;
	for (int i = 0; i < m->nfields; i++)
		if (m->fields[i].type == MANIFEST_T_OBJECT_REF)
			return MANIFEST_FORMAT_OBJECT_REF;
	return 1;
}

const char *
manifest_type_name(ManifestType t)
{
	return (unsigned) t < lengthof(type_names) ? type_names[t] : "?";
}

const char *
manifest_layout_name(ManifestLayout l)
{
	return (unsigned) l < lengthof(layout_names) ? layout_names[l] : "?";
}

static int
enum_lookup(MCtx *c, const JVal *obj, const char *key, const char *const *names,
			int nnames, int first)
{
	int			save;
	const JVal *v = member(c, obj, key, true, &save);

	expect_kind(c, v, JV_STR, "a string");
	for (int i = first; i < nnames; i++)
		if (strcmp(v->u.s, names[i]) == 0)
		{
			path_restore(c, save);
			return i;
		}
	CORRUPT(c, "unknown value \"%.64s\"", v->u.s);
}

static void
map_field(MCtx *c, const JVal *f, ManifestField *out)
{
	static const char *const keys[] = {"id", "name", "type", "nullable", "dim", "element",
	"precision", "scale", "pg_type", NULL};
	bool		vec,
				dec;

	expect_kind(c, f, JV_OBJ, "an object");
	check_keys(c, f, keys);
	out->id = (int32) get_int(c, f, "id", 1, MANIFEST_MAX_FIELD_ID);
	out->name = get_str(c, f, "name", true);
	out->type = enum_lookup(c, f, "type", type_names, lengthof(type_names), 0);
	out->nullable = get_bool(c, f, "nullable");
	vec = out->type == MANIFEST_T_VECTOR;
	dec = out->type == MANIFEST_T_DECIMAL;
	if (vec)
	{
		out->dim = (int32) get_int(c, f, "dim", 1, MANIFEST_MAX_VECTOR_DIM);
		out->element = enum_lookup(c, f, "element", element_names, lengthof(element_names), 1);
	}
	if (dec)
	{
		out->precision = (int32) get_int(c, f, "precision", 1, MANIFEST_MAX_DECIMAL_PRECISION);
		out->scale = (int32) get_int(c, f, "scale", 0, out->precision);
	}
	for (int k = 4; k < 8; k++)
	{
		bool		own = k < 6 ? vec : dec;
		int			save;

		if (!own && member(c, f, keys[k], false, &save) != NULL)
			CORRUPT(c, "only a %s field has this key", k < 6 ? "vector" : "decimal");
		if (!own)
			path_restore(c, save);
	}
	out->pg_type = get_str(c, f, "pg_type", false);
}

static void
map_stat(MCtx *c, const JVal *s, ManifestStat *out)
{
	static const char *const keys[] = {"field_id", "null_count", "min", "max", NULL};

	expect_kind(c, s, JV_OBJ, "an object");
	check_keys(c, s, keys);
	out->field_id = (int32) get_int(c, s, "field_id", 1, MANIFEST_MAX_FIELD_ID);
	out->null_count = get_int(c, s, "null_count", 0, MANIFEST_MAX_INT);
	out->min = get_str(c, s, "min", false);
	out->max = get_str(c, s, "max", false);
}

static void
map_group(MCtx *c, const JVal *g, ManifestGroup *out)
{
	static const char *const keys[] = {"path", "layout", "field_ids", "size", "etag",
	"row_count", "stats", "objects", NULL};
	static const char *const okeys[] = {"path", "size", "etag", "count", NULL};
	const JVal *a;
	const JVal *o;
	int			save;

	expect_kind(c, g, JV_OBJ, "an object");
	check_keys(c, g, keys);
	out->path = get_str(c, g, "path", true);
	out->layout = enum_lookup(c, g, "layout", layout_names, lengthof(layout_names), 0);
	a = get_array(c, g, "field_ids", MANIFEST_MAX_FIELDS, &save);
	out->nfield_ids = a->n;
	out->field_ids = palloc(sizeof(int32) * Max(a->n, 1));
	for (uint32 i = 0; i < a->n; i++)
	{
		int			s2 = path_index(c, i);

		if (a->u.arr[i].kind != JV_INT || a->u.arr[i].u.i < 1 ||
			a->u.arr[i].u.i > MANIFEST_MAX_FIELD_ID)
			CORRUPT(c, "must be a field id (an integer in [1, 2147483647])");
		out->field_ids[i] = (int32) a->u.arr[i].u.i;
		path_restore(c, s2);
	}
	path_restore(c, save);
	out->size = get_int(c, g, "size", 0, MANIFEST_MAX_INT);
	out->etag = get_str(c, g, "etag", true);
	out->row_count = get_int(c, g, "row_count", 0, MANIFEST_MAX_INT);
	a = get_array(c, g, "stats", MANIFEST_MAX_FIELDS, &save);
	out->nstats = a->n;
	out->stats = palloc0(sizeof(ManifestStat) * Max(a->n, 1));
	for (uint32 i = 0; i < a->n; i++)
	{
		int			s2 = path_index(c, i);

		map_stat(c, &a->u.arr[i], &out->stats[i]);
		path_restore(c, s2);
	}
	path_restore(c, save);
	o = member(c, g, "objects", false, &save);
	if (o)
	{
		expect_kind(c, o, JV_OBJ, "an object");
		check_keys(c, o, okeys);
		out->objects = palloc0(sizeof(ManifestObjects));
		out->objects->path = get_str(c, o, "path", true);
		out->objects->size = get_int(c, o, "size", 0, MANIFEST_MAX_INT);
		out->objects->etag = get_str(c, o, "etag", true);
		out->objects->count = get_int(c, o, "count", 0, MANIFEST_MAX_INT);
	}
	path_restore(c, save);
}

static void
map_segment(MCtx *c, const JVal *s, ManifestSegment *out)
{
	static const char *const keys[] = {"id", "first_row_id", "end_row_id", "row_count",
	"groups", "deletes", NULL};
	static const char *const dkeys[] = {"path", "cardinality", "size", "etag", NULL};
	const JVal *a;
	const JVal *d;
	int			save;

	expect_kind(c, s, JV_OBJ, "an object");
	check_keys(c, s, keys);
	out->id = get_int(c, s, "id", 0, MANIFEST_MAX_INT);
	out->first_row_id = get_int(c, s, "first_row_id", 0, MANIFEST_MAX_INT);
	out->end_row_id = get_int(c, s, "end_row_id", 0, MANIFEST_MAX_INT);
	out->row_count = get_int(c, s, "row_count", 0, MANIFEST_MAX_INT);
	a = get_array(c, s, "groups", MANIFEST_MAX_GROUPS, &save);
	out->ngroups = a->n;
	out->groups = palloc0(sizeof(ManifestGroup) * Max(a->n, 1));
	for (uint32 i = 0; i < a->n; i++)
	{
		int			s2 = path_index(c, i);

		map_group(c, &a->u.arr[i], &out->groups[i]);
		path_restore(c, s2);
	}
	path_restore(c, save);
	d = member(c, s, "deletes", false, &save);
	if (d)
	{
		expect_kind(c, d, JV_OBJ, "an object");
		check_keys(c, d, dkeys);
		out->deletes = palloc0(sizeof(ManifestDeletes));
		out->deletes->path = get_str(c, d, "path", true);
		out->deletes->cardinality = get_int(c, d, "cardinality", 0, MANIFEST_MAX_INT);
		out->deletes->size = get_int(c, d, "size", 0, MANIFEST_MAX_INT);
		out->deletes->etag = get_str(c, d, "etag", true);
	}
	path_restore(c, save);
}

static void
map_index(MCtx *c, const JVal *x, ManifestIndex *out)
{
	static const char *const keys[] = {"name", "type", "field_id", "params", "data_version",
	"first_row_id", "end_row_id", "location", NULL};

	expect_kind(c, x, JV_OBJ, "an object");
	check_keys(c, x, keys);
	out->name = get_str(c, x, "name", true);
	out->type = get_str(c, x, "type", true);
	out->field_id = (int32) get_int(c, x, "field_id", 1, MANIFEST_MAX_FIELD_ID);
	map_kv(c, x, "params", MANIFEST_MAX_PARAMS, &out->nparams, &out->params);
	out->data_version = get_int(c, x, "data_version", 1, MANIFEST_MAX_INT);
	out->first_row_id = get_int(c, x, "first_row_id", 0, MANIFEST_MAX_INT);
	out->end_row_id = get_int(c, x, "end_row_id", 0, MANIFEST_MAX_INT);
	out->location = get_str(c, x, "location", true);
}

static void
map_lineage(MCtx *c, const JVal *l, ManifestLineage *out)
{
	static const char *const keys[] = {"operation", "writer", "timestamp_us", "rows_added",
	"rows_deleted", "bytes_written", "models", NULL};
	static const char *const mkeys[] = {"field_id", "model", "model_version", NULL};
	const JVal *a;
	int			save;

	expect_kind(c, l, JV_OBJ, "an object");
	check_keys(c, l, keys);
	out->operation = get_str(c, l, "operation", true);
	out->writer = get_str(c, l, "writer", true);
	out->timestamp_us = get_int(c, l, "timestamp_us", 0, MANIFEST_MAX_INT);
	out->rows_added = get_int(c, l, "rows_added", 0, MANIFEST_MAX_INT);
	out->rows_deleted = get_int(c, l, "rows_deleted", 0, MANIFEST_MAX_INT);
	out->bytes_written = get_int(c, l, "bytes_written", 0, MANIFEST_MAX_INT);
	a = get_array(c, l, "models", MANIFEST_MAX_FIELDS, &save);
	out->nmodels = a->n;
	out->models = palloc0(sizeof(ManifestModel) * Max(a->n, 1));
	for (uint32 i = 0; i < a->n; i++)
	{
		int			s2 = path_index(c, i);
		const JVal *m = &a->u.arr[i];

		expect_kind(c, m, JV_OBJ, "an object");
		check_keys(c, m, mkeys);
		out->models[i].field_id = (int32) get_int(c, m, "field_id", 1, MANIFEST_MAX_FIELD_ID);
		out->models[i].model = get_str(c, m, "model", true);
		out->models[i].model_version = get_str(c, m, "model_version", true);
		path_restore(c, s2);
	}
	path_restore(c, save);
}

static void
map_manifest(MCtx *c, const JVal *root, Manifest *m)
{
	static const char *const keys[] = {"format", "format_version", "dataset_id", "version",
		"parent_version", "next_row_id", "schema", "segments", "indexes", "lineage",
	"properties", NULL};
	static const char *const skeys[] = {"next_field_id", "fields", NULL};
	const JVal *v;
	const JVal *a;
	int			save;
	char	   *s;

	expect_kind(c, root, JV_OBJ, "an object");
	/* what the document is, and which version of the format, first */
	s = get_str(c, root, "format", true);
	if (strcmp(s, MANIFEST_FORMAT_NAME) != 0)
	{
		path_key(c, "format", 6);
		CORRUPT(c, "must be \"" MANIFEST_FORMAT_NAME "\": not a vlake manifest");
	}
	v = member(c, root, "format_version", true, &save);
	if (v->kind != JV_INT || v->u.i < 1)
		CORRUPT(c, "must be a positive integer");
	if (v->u.i > MANIFEST_FORMAT_VERSION)
		mfail(c, LAKE_UNSUPPORTED, "format_version " INT64_FORMAT " is newer than this build reads (%d)",
			  v->u.i, MANIFEST_FORMAT_VERSION);
	path_restore(c, save);
	m->format_version = (int32) v->u.i;
	check_keys(c, root, keys);

	s = get_str(c, root, "dataset_id", true);
	if (strlen(s) >= sizeof(m->dataset_id))
	{
		path_key(c, "dataset_id", 10);
		CORRUPT(c, "must be a UUID");
	}
	strcpy(m->dataset_id, s);
	m->version = get_int(c, root, "version", 1, MANIFEST_MAX_INT);
	v = member(c, root, "parent_version", true, &save);
	if (v->kind == JV_NULL)
		m->parent_version = 0;
	else if (v->kind == JV_INT && v->u.i >= 1 && v->u.i <= MANIFEST_MAX_INT)
		m->parent_version = v->u.i;
	else
		CORRUPT(c, "must be null or an integer in [1, " INT64_FORMAT "]", MANIFEST_MAX_INT);
	path_restore(c, save);
	m->next_row_id = get_int(c, root, "next_row_id", 0, MANIFEST_MAX_INT);

	v = member(c, root, "schema", true, &save);
	expect_kind(c, v, JV_OBJ, "an object");
	check_keys(c, v, skeys);
	m->next_field_id = (int32) get_int(c, v, "next_field_id", 1, MANIFEST_MAX_FIELD_ID);
	{
		int			s2;

		a = get_array(c, v, "fields", MANIFEST_MAX_FIELDS, &s2);
		m->nfields = a->n;
		m->fields = palloc0(sizeof(ManifestField) * Max(a->n, 1));
		for (uint32 i = 0; i < a->n; i++)
		{
			int			s3 = path_index(c, i);

			map_field(c, &a->u.arr[i], &m->fields[i]);
			path_restore(c, s3);
		}
		path_restore(c, s2);
	}
	path_restore(c, save);

	a = get_array(c, root, "segments", MANIFEST_MAX_SEGMENTS, &save);
	m->nsegments = a->n;
	m->segments = palloc0(sizeof(ManifestSegment) * Max(a->n, 1));
	for (uint32 i = 0; i < a->n; i++)
	{
		int			s2 = path_index(c, i);

		map_segment(c, &a->u.arr[i], &m->segments[i]);
		path_restore(c, s2);
	}
	path_restore(c, save);

	a = get_array(c, root, "indexes", MANIFEST_MAX_INDEXES, &save);
	m->nindexes = a->n;
	m->indexes = palloc0(sizeof(ManifestIndex) * Max(a->n, 1));
	for (uint32 i = 0; i < a->n; i++)
	{
		int			s2 = path_index(c, i);

		map_index(c, &a->u.arr[i], &m->indexes[i]);
		path_restore(c, s2);
	}
	path_restore(c, save);

	v = member(c, root, "lineage", true, &save);
	map_lineage(c, v, &m->lineage);
	path_restore(c, save);

	map_kv(c, root, "properties", MANIFEST_MAX_PROPERTIES, &m->nproperties, &m->properties);
}

Manifest *
manifest_decode(const char *buf, size_t len, const char *uri)
{
	MCtx		c = {uri, "", 0};
	JParser		P;
	JVal		root;
	Manifest   *m;

	if (len > MANIFEST_MAX_BYTES)
		CORRUPT(&c, "the document is %zu bytes, more than the limit of %zu",
				len, MANIFEST_MAX_BYTES);
	P.c = &c;
	P.start = P.p = (const unsigned char *) buf;
	P.end = P.start + len;
	P.arena = palloc(len + 1);
	P.used = 0;
	P.depth = 0;
	parse_value(&P, &root);
	skip_ws(&P);
	if (P.p != P.end)
		jfail(&P, "data after the document");

	m = palloc0(sizeof(Manifest));
	map_manifest(&c, &root, m);
	manifest_validate(m, uri);

	/* a document read from its version key must carry that version */
	if (uri && strlen(uri) >= MANIFEST_KEY_LEN - 1)
	{
		int64		keyv;

		if (manifest_parse_key(uri + strlen(uri) - (MANIFEST_KEY_LEN - 1), &keyv) &&
			keyv != m->version)
		{
			path_key(&c, "version", 7);
			CORRUPT(&c, "is " INT64_FORMAT ", but the document's key names version " INT64_FORMAT,
					m->version, keyv);
		}
	}
	return m;
}

/* -------------------------------------------------------- validation ---- */

static void
check_text(MCtx *c, const char *s, size_t minlen, size_t maxlen)
{
	size_t		n;

	if (s == NULL)
		CORRUPT(c, "required value is missing");
	n = strlen(s);
	if (n < minlen || n > maxlen)
		CORRUPT(c, "must be %zu to %zu bytes long, not %zu", minlen, maxlen, n);
	if (!utf8_valid(s))
		CORRUPT(c, "is not valid UTF-8");
}

static void
check_range(MCtx *c, int64 v, int64 min, int64 max)
{
	if (v < min || v > max)
		CORRUPT(c, "must be in [" INT64_FORMAT ", " INT64_FORMAT "], not " INT64_FORMAT,
				min, max, v);
}

/* A relative path: no leading '/', no empty, "." or ".." segment, no
 * backslash or control character, not under _manifest/. */
static void
check_path(MCtx *c, const char *p, bool prefix)
{
	const char *seg = p;

	check_text(c, p, 1, MANIFEST_MAX_PATH);
	if (strncmp(p, MANIFEST_DIR, strlen(MANIFEST_DIR)) == 0)
		CORRUPT(c, "must not name an object under " MANIFEST_DIR);
	for (const char *q = p;; q++)
	{
		if (*q == '/' || *q == '\0')
		{
			size_t		n = q - seg;

			if (n == 0 && !(prefix && *q == '\0' && q != p))
				CORRUPT(c, "must be a relative path without empty segments (\"%.64s\")", p);
			if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
				CORRUPT(c, "must not contain \".\" or \"..\" segments (\"%.64s\")", p);
			if (*q == '\0')
				break;
			seg = q + 1;
		}
		else if ((unsigned char) *q < 0x20 || *q == 0x7F || *q == '\\')
			CORRUPT(c, "must not contain control characters or backslashes");
	}
	if (!prefix && p[strlen(p) - 1] == '/')
		CORRUPT(c, "must name an object, not end with '/'");
}

static bool
is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static bool
is_ident(const char *s, size_t maxlen)
{
	size_t		n = strlen(s);

	if (n == 0 || n > maxlen)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return s[0] >= 'a' && s[0] <= 'z';
}

/* canonical decimal integer in [min, max] */
static bool
parse_canon_int(const char *s, int64 min, int64 max, int64 *out)
{
	const char *p = s;
	bool		neg = false;
	uint64		mag = 0;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9' || (*p == '0' && (p[1] != '\0' || neg)))
		return false;
	for (; *p; p++)
	{
		if (*p < '0' || *p > '9' || mag > (PG_UINT64_MAX - 9) / 10)
			return false;
		mag = mag * 10 + (*p - '0');
	}
	if (mag > (uint64) PG_INT64_MAX + (neg ? 1 : 0))
		return false;
	*out = neg ? (mag == (uint64) PG_INT64_MAX + 1 ? PG_INT64_MIN : -(int64) mag) : (int64) mag;
	return *out >= min && *out <= max;
}

/* a JSON number (the grammar of RFC 8259), "Infinity" or "-Infinity" */
static bool
parse_float_text(const char *s, double *out)
{
	const char *p = s;

	if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0)
	{
		*out = s[0] == '-' ? -INFINITY : INFINITY;
		return true;
	}
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.')
	{
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return false;
	*out = strtod(s, NULL);
	return true;
}

/* canonical decimal text of precision p, scale s: -?(0|[1-9][0-9]*)(.[0-9]{s})? */
static bool
decimal_valid(const char *v, int prec, int scale)
{
	const char *p = v;
	int			intdigits = 0;
	bool		allzero = true;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return false;
	while (*p >= '0' && *p <= '9')
	{
		if (*p != '0')
			allzero = false;
		intdigits++;
		p++;
	}
	if (!(intdigits == 1 && v[v[0] == '-'] == '0') && intdigits > prec - scale)
		return false;
	if (scale > 0)
	{
		if (*p != '.')
			return false;
		p++;
		for (int i = 0; i < scale; i++, p++)
		{
			if (*p < '0' || *p > '9')
				return false;
			if (*p != '0')
				allzero = false;
		}
	}
	if (*p != '\0')
		return false;
	return !(v[0] == '-' && allzero);	/* no negative zero */
}

static int
decimal_cmp(const char *a, const char *b)
{
	bool		na = a[0] == '-',
				nb = b[0] == '-';
	size_t		ia,
				ib;
	int			r;

	if (na != nb)
		return na ? -1 : 1;
	a += na;
	b += nb;
	ia = strcspn(a, ".");
	ib = strcspn(b, ".");
	r = ia != ib ? (ia < ib ? -1 : 1) : strcmp(a, b);
	r = r < 0 ? -1 : r > 0;
	return na ? -r : r;
}

static bool
is_hex(const char *s)
{
	size_t		n = strlen(s);

	if (n % 2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* One statistics value per its field's type; returns a comparable form
 * in *iv / *dv for the min <= max check (kind 0: int, 1: double, 2: bytes,
 * 3: decimal). */
static int
check_stat_value(MCtx *c, const ManifestField *f, const char *v, int64 *iv, double *dv)
{
	bool		ok;

	check_text(c, v, 0, MANIFEST_MAX_STAT);
	switch (f->type)
	{
		case MANIFEST_T_BOOLEAN:
			ok = strcmp(v, "true") == 0 || strcmp(v, "false") == 0;
			*iv = v[0] == 't';
			if (!ok)
				CORRUPT(c, "must be \"true\" or \"false\" for a boolean field");
			return 0;
		case MANIFEST_T_INT16:
			ok = parse_canon_int(v, PG_INT16_MIN, PG_INT16_MAX, iv);
			break;
		case MANIFEST_T_INT32:
		case MANIFEST_T_DATE:
			ok = parse_canon_int(v, PG_INT32_MIN, PG_INT32_MAX, iv);
			break;
		case MANIFEST_T_INT64:
		case MANIFEST_T_TIMESTAMP:
		case MANIFEST_T_TIMESTAMPTZ:
			ok = parse_canon_int(v, PG_INT64_MIN, PG_INT64_MAX, iv);
			break;
		case MANIFEST_T_FLOAT32:
		case MANIFEST_T_FLOAT64:
			if (!parse_float_text(v, dv))
				CORRUPT(c, "must be a JSON number, \"Infinity\" or \"-Infinity\" for a %s field",
						manifest_type_name(f->type));
			return 1;
		case MANIFEST_T_DECIMAL:
			if (!decimal_valid(v, f->precision, f->scale))
				CORRUPT(c, "must be a canonical decimal(%d,%d) text", f->precision, f->scale);
			return 3;
		case MANIFEST_T_BINARY:
			if (!is_hex(v))
				CORRUPT(c, "must be lowercase hexadecimal for a binary field");
			return 2;
		case MANIFEST_T_UUID:
			if (!is_uuid(v))
				CORRUPT(c, "must be a lowercase UUID for a uuid field");
			return 2;
		case MANIFEST_T_STRING:
		case MANIFEST_T_JSON:
		case MANIFEST_T_OBJECT_REF:
			return 2;
		default:
			CORRUPT(c, "a %s field has no min/max statistics", manifest_type_name(f->type));
	}
	if (!ok)
		CORRUPT(c, "must be a canonical decimal integer in the range of %s",
				manifest_type_name(f->type));
	return 0;
}

static const ManifestField *
field_by_id(const Manifest *m, int32 id)
{
	for (int i = 0; i < m->nfields; i++)
		if (m->fields[i].id == id)
			return &m->fields[i];
	return NULL;
}

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* keys of a kv map: unique, 1..MANIFEST_MAX_TEXT bytes; values bounded */
static void
check_kv(MCtx *c, const char *key, const ManifestKV *kv, int n, int max)
{
	int			save = path_key(c, key, strlen(key));
	char	  **keys;

	if (n < 0 || n > max)
		CORRUPT(c, "has %d keys, more than the limit of %d", n, max);
	keys = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		int			s2 = path_key(c, kv[i].key ? kv[i].key : "", kv[i].key ? strlen(kv[i].key) : 0);

		check_text(c, kv[i].key, 1, MANIFEST_MAX_TEXT);
		check_text(c, kv[i].value, 0, MANIFEST_MAX_VALUE);
		keys[i] = kv[i].key;
		path_restore(c, s2);
	}
	qsort(keys, n, sizeof(char *), str_ptr_cmp);
	for (int i = 1; i < n; i++)
		if (strcmp(keys[i - 1], keys[i]) == 0)
		{
			path_key(c, keys[i], strlen(keys[i]));
			CORRUPT(c, "duplicate key");
		}
	pfree(keys);
	path_restore(c, save);
}

static void
validate_group(MCtx *c, const Manifest *m, const ManifestSegment *seg,
			   const ManifestGroup *g, int32 *seen_ids, int *nseen)
{
	int			save,
				first_seen,
				j;

	save = path_key(c, "path", 4);
	check_path(c, g->path, false);
	path_restore(c, save);

	save = path_key(c, "layout", 6);
	if ((unsigned) g->layout >= lengthof(layout_names))
		CORRUPT(c, "unknown layout %d", (int) g->layout);
	path_restore(c, save);

	save = path_key(c, "field_ids", 9);
	if (g->nfield_ids < 1 || g->nfield_ids > MANIFEST_MAX_FIELDS)
		CORRUPT(c, "must list 1 to %d field ids", MANIFEST_MAX_FIELDS);
	if (g->layout != MANIFEST_L_PARQUET && g->nfield_ids != 1)
		CORRUPT(c, "a %s group holds exactly one field", manifest_layout_name(g->layout));
	first_seen = *nseen;
	for (int i = 0; i < g->nfield_ids; i++)
	{
		int			s2 = path_index(c, i);
		const ManifestField *f = field_by_id(m, g->field_ids[i]);

		if (f == NULL)
			CORRUPT(c, "field id %d is not in the schema", g->field_ids[i]);
		if (g->layout == MANIFEST_L_VECTOR_CG && f->type != MANIFEST_T_VECTOR)
			CORRUPT(c, "a vector_cg group holds a vector field, not %s", manifest_type_name(f->type));
		if (g->layout == MANIFEST_L_LONG_TEXT && f->type != MANIFEST_T_STRING &&
			f->type != MANIFEST_T_JSON && f->type != MANIFEST_T_BINARY &&
			f->type != MANIFEST_T_OBJECT_REF)
			CORRUPT(c, "a long_text group holds a string, json, binary or object_ref field, not %s",
					manifest_type_name(f->type));
		/* a later group of the segment may hold a field again: its copy
		 * supersedes the earlier one (a column patch) */
		for (int j = first_seen; j < *nseen; j++)
			if (seen_ids[j] == g->field_ids[i])
				CORRUPT(c, "field id %d is held twice by this group", g->field_ids[i]);
		for (j = 0; j < first_seen && seen_ids[j] != g->field_ids[i]; j++)
			;
		if (j == first_seen)	/* ids are in the schema: at most nfields */
			seen_ids[(*nseen)++] = g->field_ids[i];
		path_restore(c, s2);
	}
	path_restore(c, save);

	save = path_key(c, "size", 4);
	check_range(c, g->size, 0, MANIFEST_MAX_INT);
	path_restore(c, save);
	save = path_key(c, "etag", 4);
	check_text(c, g->etag, 0, MANIFEST_MAX_ETAG);
	path_restore(c, save);
	save = path_key(c, "row_count", 9);
	if (g->row_count != seg->row_count)
		CORRUPT(c, "is " INT64_FORMAT ", not the segment's row_count " INT64_FORMAT,
				g->row_count, seg->row_count);
	path_restore(c, save);

	save = path_key(c, "stats", 5);
	if (g->nstats < 0 || g->nstats > g->nfield_ids)
		CORRUPT(c, "has more entries than the group has fields");
	for (int i = 0; i < g->nstats; i++)
	{
		const ManifestStat *st = &g->stats[i];
		const ManifestField *f;
		bool		in_group = false;
		int			s2 = path_index(c, i),
					s3;

		for (int j = 0; j < g->nfield_ids; j++)
			in_group |= g->field_ids[j] == st->field_id;
		s3 = path_key(c, "field_id", 8);
		if (!in_group)
			CORRUPT(c, "field id %d is not one of the group's field_ids", st->field_id);
		for (int j = 0; j < i; j++)
			if (g->stats[j].field_id == st->field_id)
				CORRUPT(c, "field id %d has statistics twice", st->field_id);
		path_restore(c, s3);
		f = field_by_id(m, st->field_id);
		s3 = path_key(c, "null_count", 10);
		check_range(c, st->null_count, 0, g->row_count);
		if (!f->nullable && st->null_count != 0)
			CORRUPT(c, "must be 0 for a non-nullable field");
		path_restore(c, s3);
		if ((st->min == NULL) != (st->max == NULL))
		{
			s3 = path_key(c, st->min ? "max" : "min", 3);
			CORRUPT(c, "min and max are given together or not at all");
		}
		if (st->min)
		{
			int64		imin = 0,
						imax = 0;
			double		dmin = 0,
						dmax = 0;
			int			kind,
						cmp;

			s3 = path_key(c, "min", 3);
			kind = check_stat_value(c, f, st->min, &imin, &dmin);
			path_restore(c, s3);
			s3 = path_key(c, "max", 3);
			check_stat_value(c, f, st->max, &imax, &dmax);
			if (kind == 0)
				cmp = (imin > imax) - (imin < imax);
			else if (kind == 1)
				cmp = (dmin > dmax) - (dmin < dmax);
			else if (kind == 2)
				cmp = strcmp(st->min, st->max);
			else
				cmp = decimal_cmp(st->min, st->max);
			if (cmp > 0)
				CORRUPT(c, "max is less than min");
			path_restore(c, s3);
		}
		path_restore(c, s2);
	}
	path_restore(c, save);

	if (g->objects)
	{
		int			nrefs = 0;

		save = path_key(c, "objects", 7);
		if (m->format_version < MANIFEST_FORMAT_OBJECT_LIST)
			CORRUPT(c, "an object list needs format_version %d", MANIFEST_FORMAT_OBJECT_LIST);
		for (int i = 0; i < g->nfield_ids; i++)
			nrefs += field_by_id(m, g->field_ids[i])->type == MANIFEST_T_OBJECT_REF;
		if (nrefs == 0)
			CORRUPT(c, "only a group holding an object_ref field has an object list");
		{
			int			s2 = path_key(c, "path", 4);

			check_path(c, g->objects->path, false);
			path_restore(c, s2);
			s2 = path_key(c, "size", 4);
			check_range(c, g->objects->size, 0, MANIFEST_MAX_INT);
			path_restore(c, s2);
			s2 = path_key(c, "etag", 4);
			check_text(c, g->objects->etag, 0, MANIFEST_MAX_ETAG);
			path_restore(c, s2);
			/* one row per non-null reference of the group's rows */
			s2 = path_key(c, "count", 5);
			check_range(c, g->objects->count, 0,
						g->row_count > MANIFEST_MAX_INT / nrefs ? MANIFEST_MAX_INT :
						g->row_count * nrefs);
			path_restore(c, s2);
		}
		path_restore(c, save);
	}
}

void
manifest_validate(const Manifest *m, const char *uri)
{
	MCtx		c = {uri, "", 0};
	int			save;
	int32	   *ids;
	char	  **paths;
	int64	   *segids;
	int			npaths = 0,
				maxpaths = 0;

#define AT(key) (save = path_key(&c, key, strlen(key)))
#define DONE() path_restore(&c, save)

	AT("format_version");
	if (m->format_version < 1 || m->format_version > MANIFEST_FORMAT_VERSION)
		mfail(&c, LAKE_UNSUPPORTED, "format_version %d is not in [1, %d]", m->format_version,
			  MANIFEST_FORMAT_VERSION);
	DONE();
	AT("dataset_id");
	if (!is_uuid(m->dataset_id))
		CORRUPT(&c, "must be a lowercase UUID (8-4-4-4-12 hexadecimal digits)");
	DONE();
	AT("version");
	check_range(&c, m->version, 1, MANIFEST_MAX_INT);
	DONE();
	AT("parent_version");
	if (m->version == 1 && m->parent_version != 0)
		CORRUPT(&c, "must be null for version 1");
	if (m->version > 1 && m->parent_version != m->version - 1)
		CORRUPT(&c, "must be version - 1 (" INT64_FORMAT ")", m->version - 1);
	DONE();
	AT("next_row_id");
	check_range(&c, m->next_row_id, 0, MANIFEST_MAX_INT);
	DONE();

	/* schema */
	AT("schema");
	{
		int			s1 = path_key(&c, "next_field_id", 13);

		check_range(&c, m->next_field_id, 1, MANIFEST_MAX_FIELD_ID);
		path_restore(&c, s1);
		s1 = path_key(&c, "fields", 6);
		if (m->nfields < 0 || m->nfields > MANIFEST_MAX_FIELDS)
			CORRUPT(&c, "has %d fields, more than the limit of %d", m->nfields, MANIFEST_MAX_FIELDS);
		for (int i = 0; i < m->nfields; i++)
		{
			const ManifestField *f = &m->fields[i];
			int			s2 = path_index(&c, i),
						s3;

			s3 = path_key(&c, "id", 2);
			check_range(&c, f->id, 1, (int64) m->next_field_id - 1);
			for (int j = 0; j < i; j++)
				if (m->fields[j].id == f->id)
					CORRUPT(&c, "field id %d is used twice", f->id);
			path_restore(&c, s3);
			s3 = path_key(&c, "name", 4);
			check_text(&c, f->name, 1, MANIFEST_MAX_NAME);
			for (int j = 0; j < i; j++)
				if (strcmp(m->fields[j].name, f->name) == 0)
					CORRUPT(&c, "field name \"%s\" is used twice", f->name);
			path_restore(&c, s3);
			s3 = path_key(&c, "type", 4);
			if ((unsigned) f->type >= lengthof(type_names))
				CORRUPT(&c, "unknown type %d", (int) f->type);
			if (f->type == MANIFEST_T_OBJECT_REF && m->format_version < MANIFEST_FORMAT_OBJECT_REF)
				CORRUPT(&c, "type \"object_ref\" needs format_version %d", MANIFEST_FORMAT_OBJECT_REF);
			path_restore(&c, s3);
			if (f->type == MANIFEST_T_VECTOR)
			{
				s3 = path_key(&c, "dim", 3);
				check_range(&c, f->dim, 1, MANIFEST_MAX_VECTOR_DIM);
				path_restore(&c, s3);
				s3 = path_key(&c, "element", 7);
				if (f->element != MANIFEST_E_FLOAT32 && f->element != MANIFEST_E_FLOAT16)
					CORRUPT(&c, "must be \"float32\" or \"float16\"");
				path_restore(&c, s3);
			}
			if (f->type == MANIFEST_T_DECIMAL)
			{
				s3 = path_key(&c, "precision", 9);
				check_range(&c, f->precision, 1, MANIFEST_MAX_DECIMAL_PRECISION);
				path_restore(&c, s3);
				s3 = path_key(&c, "scale", 5);
				check_range(&c, f->scale, 0, f->precision);
				path_restore(&c, s3);
			}
			if (f->pg_type)
			{
				s3 = path_key(&c, "pg_type", 7);
				check_text(&c, f->pg_type, 1, MANIFEST_MAX_TEXT);
				path_restore(&c, s3);
			}
			path_restore(&c, s2);
		}
		path_restore(&c, s1);
	}
	DONE();

	/* segments */
	AT("segments");
	if (m->nsegments < 0 || m->nsegments > MANIFEST_MAX_SEGMENTS)
		CORRUPT(&c, "has %d segments, more than the limit of %d", m->nsegments, MANIFEST_MAX_SEGMENTS);
	ids = palloc(sizeof(int32) * MANIFEST_MAX_FIELDS);
	for (int i = 0; i < m->nsegments; i++)
		maxpaths += 2 * m->segments[i].ngroups + 1;
	paths = palloc(sizeof(char *) * Max(maxpaths, 1));
	segids = palloc0(sizeof(int64) * Max(m->nsegments, 1));
	for (int i = 0; i < m->nsegments; i++)
	{
		const ManifestSegment *s = &m->segments[i];
		int			s2 = path_index(&c, i),
					s3,
					nseen = 0;

		s3 = path_key(&c, "id", 2);
		check_range(&c, s->id, 0, MANIFEST_MAX_INT);
		segids[i] = s->id;
		path_restore(&c, s3);
		s3 = path_key(&c, "first_row_id", 12);
		check_range(&c, s->first_row_id, 0, MANIFEST_MAX_INT);
		if (i > 0 && s->first_row_id < m->segments[i - 1].end_row_id)
			CORRUPT(&c, "row-ID range overlaps or precedes the previous segment's (which ends at " INT64_FORMAT ")",
					m->segments[i - 1].end_row_id);
		path_restore(&c, s3);
		s3 = path_key(&c, "end_row_id", 10);
		check_range(&c, s->end_row_id, s->first_row_id + 1, m->next_row_id);
		path_restore(&c, s3);
		s3 = path_key(&c, "row_count", 9);
		if (s->row_count != s->end_row_id - s->first_row_id)
			CORRUPT(&c, "must be end_row_id - first_row_id (" INT64_FORMAT ")",
					s->end_row_id - s->first_row_id);
		path_restore(&c, s3);
		s3 = path_key(&c, "groups", 6);
		if (s->ngroups < 1 || s->ngroups > MANIFEST_MAX_GROUPS)
			CORRUPT(&c, "must hold 1 to %d groups", MANIFEST_MAX_GROUPS);
		for (int g = 0; g < s->ngroups; g++)
		{
			int			s4 = path_index(&c, g);

			validate_group(&c, m, s, &s->groups[g], ids, &nseen);
			paths[npaths++] = s->groups[g].path;
			if (s->groups[g].objects)
				paths[npaths++] = s->groups[g].objects->path;
			path_restore(&c, s4);
		}
		path_restore(&c, s3);
		/* a field that is not nullable must be in every segment */
		for (int f = 0; f < m->nfields; f++)
		{
			bool		found = false;

			for (int j = 0; j < nseen && !found; j++)
				found = ids[j] == m->fields[f].id;
			if (!found && !m->fields[f].nullable)
			{
				s3 = path_key(&c, "groups", 6);
				CORRUPT(&c, "no group holds field %d (\"%s\"), which is not nullable",
						m->fields[f].id, m->fields[f].name);
			}
		}
		if (s->deletes)
		{
			s3 = path_key(&c, "deletes", 7);
			{
				int			s4 = path_key(&c, "path", 4);

				check_path(&c, s->deletes->path, false);
				paths[npaths++] = s->deletes->path;
				path_restore(&c, s4);
				s4 = path_key(&c, "cardinality", 11);
				check_range(&c, s->deletes->cardinality, 1, s->row_count);
				path_restore(&c, s4);
				s4 = path_key(&c, "size", 4);
				check_range(&c, s->deletes->size, 0, MANIFEST_MAX_INT);
				path_restore(&c, s4);
				s4 = path_key(&c, "etag", 4);
				check_text(&c, s->deletes->etag, 0, MANIFEST_MAX_ETAG);
				path_restore(&c, s4);
			}
			path_restore(&c, s3);
		}
		path_restore(&c, s2);
	}
	qsort(segids, Max(m->nsegments, 1), sizeof(int64), int64_cmp);
	for (int i = 1; i < m->nsegments; i++)
		if (segids[i - 1] == segids[i])
			CORRUPT(&c, "segment id " INT64_FORMAT " is used twice", segids[i]);
	pfree(segids);
	qsort(paths, npaths, sizeof(char *), str_ptr_cmp);
	for (int i = 1; i < npaths; i++)
		if (strcmp(paths[i - 1], paths[i]) == 0)
			CORRUPT(&c, "the path \"%.200s\" is named twice", paths[i]);
	pfree(paths);
	pfree(ids);
	DONE();

	/* indexes */
	AT("indexes");
	if (m->nindexes < 0 || m->nindexes > MANIFEST_MAX_INDEXES)
		CORRUPT(&c, "has %d entries, more than the limit of %d", m->nindexes, MANIFEST_MAX_INDEXES);
	for (int i = 0; i < m->nindexes; i++)
	{
		const ManifestIndex *x = &m->indexes[i];
		int			s2 = path_index(&c, i),
					s3;

		s3 = path_key(&c, "name", 4);
		check_text(&c, x->name, 1, MANIFEST_MAX_NAME);
		for (int j = 0; j < i; j++)
			if (strcmp(m->indexes[j].name, x->name) == 0)
				CORRUPT(&c, "index name \"%s\" is used twice", x->name);
		path_restore(&c, s3);
		s3 = path_key(&c, "type", 4);
		if (x->type == NULL || !is_ident(x->type, MANIFEST_MAX_OPERATION))
			CORRUPT(&c, "must be a lowercase identifier ([a-z][a-z0-9_]*) of at most %d bytes",
					MANIFEST_MAX_OPERATION);
		path_restore(&c, s3);
		s3 = path_key(&c, "field_id", 8);
		if (field_by_id(m, x->field_id) == NULL)
			CORRUPT(&c, "field id %d is not in the schema", x->field_id);
		path_restore(&c, s3);
		check_kv(&c, "params", x->params, x->nparams, MANIFEST_MAX_PARAMS);
		s3 = path_key(&c, "data_version", 12);
		check_range(&c, x->data_version, 1, m->version);
		path_restore(&c, s3);
		s3 = path_key(&c, "first_row_id", 12);
		check_range(&c, x->first_row_id, 0, m->next_row_id);
		path_restore(&c, s3);
		s3 = path_key(&c, "end_row_id", 10);
		check_range(&c, x->end_row_id, x->first_row_id, m->next_row_id);
		path_restore(&c, s3);
		s3 = path_key(&c, "location", 8);
		if (x->location && (strncmp(x->location, "s3://", 5) == 0 ||
							strncmp(x->location, "file:///", 8) == 0))
			check_text(&c, x->location, 9, MANIFEST_MAX_PATH);
		else
			check_path(&c, x->location, true);
		path_restore(&c, s3);
		path_restore(&c, s2);
	}
	DONE();

	/* lineage */
	AT("lineage");
	{
		const ManifestLineage *l = &m->lineage;
		int			s3;

		s3 = path_key(&c, "operation", 9);
		if (l->operation == NULL || !is_ident(l->operation, MANIFEST_MAX_OPERATION))
			CORRUPT(&c, "must be a lowercase identifier ([a-z][a-z0-9_]*) of at most %d bytes",
					MANIFEST_MAX_OPERATION);
		path_restore(&c, s3);
		s3 = path_key(&c, "writer", 6);
		check_text(&c, l->writer, 1, MANIFEST_MAX_TEXT);
		path_restore(&c, s3);
		s3 = path_key(&c, "timestamp_us", 12);
		check_range(&c, l->timestamp_us, 0, MANIFEST_MAX_INT);
		path_restore(&c, s3);
		s3 = path_key(&c, "rows_added", 10);
		check_range(&c, l->rows_added, 0, MANIFEST_MAX_INT);
		path_restore(&c, s3);
		s3 = path_key(&c, "rows_deleted", 12);
		check_range(&c, l->rows_deleted, 0, MANIFEST_MAX_INT);
		path_restore(&c, s3);
		s3 = path_key(&c, "bytes_written", 13);
		check_range(&c, l->bytes_written, 0, MANIFEST_MAX_INT);
		path_restore(&c, s3);
		s3 = path_key(&c, "models", 6);
		if (l->nmodels < 0 || l->nmodels > MANIFEST_MAX_FIELDS)
			CORRUPT(&c, "has more than %d entries", MANIFEST_MAX_FIELDS);
		for (int i = 0; i < l->nmodels; i++)
		{
			const ManifestModel *mo = &l->models[i];
			const ManifestField *f = field_by_id(m, mo->field_id);
			int			s4 = path_index(&c, i),
						s5;

			s5 = path_key(&c, "field_id", 8);
			if (f == NULL || f->type != MANIFEST_T_VECTOR)
				CORRUPT(&c, "field id %d is not a vector field of the schema", mo->field_id);
			for (int j = 0; j < i; j++)
				if (l->models[j].field_id == mo->field_id)
					CORRUPT(&c, "field id %d has two models", mo->field_id);
			path_restore(&c, s5);
			s5 = path_key(&c, "model", 5);
			check_text(&c, mo->model, 1, MANIFEST_MAX_TEXT);
			path_restore(&c, s5);
			s5 = path_key(&c, "model_version", 13);
			check_text(&c, mo->model_version, 0, MANIFEST_MAX_TEXT);
			path_restore(&c, s5);
			path_restore(&c, s4);
		}
		path_restore(&c, s3);
	}
	DONE();

	check_kv(&c, "properties", m->properties, m->nproperties, MANIFEST_MAX_PROPERTIES);
#undef AT
#undef DONE
}

void
manifest_validate_successor(const Manifest *parent, const Manifest *child, const char *uri)
{
	MCtx		c = {uri, "", 0};

	path_key(&c, "dataset_id", 10);
	if (strcmp(parent->dataset_id, child->dataset_id) != 0)
		CORRUPT(&c, "is %s, the parent's is %s", child->dataset_id, parent->dataset_id);
	path_restore(&c, 0);
	path_key(&c, "version", 7);
	if (child->version != parent->version + 1)
		CORRUPT(&c, "is " INT64_FORMAT ", the parent's is " INT64_FORMAT,
				child->version, parent->version);
	path_restore(&c, 0);
	path_key(&c, "next_row_id", 11);
	if (child->next_row_id < parent->next_row_id)
		CORRUPT(&c, "decreased from " INT64_FORMAT " to " INT64_FORMAT,
				parent->next_row_id, child->next_row_id);
	path_restore(&c, 0);
	path_key(&c, "schema.next_field_id", 20);
	if (child->next_field_id < parent->next_field_id)
		CORRUPT(&c, "decreased from %d to %d", parent->next_field_id, child->next_field_id);
	path_restore(&c, 0);
	for (int i = 0; i < child->nfields; i++)
	{
		const ManifestField *f = &child->fields[i];
		const ManifestField *p = field_by_id(parent, f->id);

		path_key(&c, "schema.fields", 13);
		path_index(&c, i);
		if (p == NULL && f->id < parent->next_field_id)
			CORRUPT(&c, "field id %d was used by an earlier version and dropped; ids are never reused",
					f->id);
		if (p && (p->type != f->type || p->dim != f->dim || p->element != f->element ||
				  p->precision != f->precision || p->scale != f->scale))
			CORRUPT(&c, "field id %d changed its type", f->id);
		path_restore(&c, 0);
	}
}

/* ------------------------------------------------------------ encoder ---- */

static void
put_str(StringInfo out, const char *s)
{
	appendStringInfoChar(out, '"');
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				appendStringInfoString(out, "\\\"");
				break;
			case '\\':
				appendStringInfoString(out, "\\\\");
				break;
			case '\b':
				appendStringInfoString(out, "\\b");
				break;
			case '\f':
				appendStringInfoString(out, "\\f");
				break;
			case '\n':
				appendStringInfoString(out, "\\n");
				break;
			case '\r':
				appendStringInfoString(out, "\\r");
				break;
			case '\t':
				appendStringInfoString(out, "\\t");
				break;
			default:
				if (*p < 0x20)
					appendStringInfo(out, "\\u%04x", *p);
				else
					appendStringInfoChar(out, (char) *p);
		}
	}
	appendStringInfoChar(out, '"');
}

/* Writer of the canonical layout: members one per line, two-space indent. */
typedef struct Enc
{
	StringInfo	out;
	int			indent;
	bool		first;			/* no member yet in the open container */
	bool		inline_;		/* inside a one-line object */
} Enc;

static void
enc_sep(Enc *e)
{
	if (e->inline_)
	{
		if (!e->first)
			appendStringInfoString(e->out, ", ");
	}
	else
	{
		if (!e->first)
			appendStringInfoChar(e->out, ',');
		appendStringInfoChar(e->out, '\n');
		appendStringInfoSpaces(e->out, e->indent);
	}
	e->first = false;
}

static void
enc_key(Enc *e, const char *key)
{
	enc_sep(e);
	put_str(e->out, key);
	appendStringInfoString(e->out, ": ");
}

static void
enc_open(Enc *e, char ch)
{
	appendStringInfoChar(e->out, ch);
	e->indent += 2;
	e->first = true;
}

static void
enc_close(Enc *e, char ch)
{
	e->indent -= 2;
	if (!e->first && !e->inline_)
	{
		appendStringInfoChar(e->out, '\n');
		appendStringInfoSpaces(e->out, e->indent);
	}
	appendStringInfoChar(e->out, ch);
	e->first = false;
}

static void
enc_int(Enc *e, const char *key, int64 v)
{
	enc_key(e, key);
	appendStringInfo(e->out, INT64_FORMAT, v);
}

static void
enc_text(Enc *e, const char *key, const char *v)
{
	enc_key(e, key);
	put_str(e->out, v);
}

static int
kv_cmp(const void *a, const void *b)
{
	return strcmp(((const ManifestKV *) a)->key, ((const ManifestKV *) b)->key);
}

static void
enc_kv(Enc *e, const char *key, const ManifestKV *kv, int n)
{
	ManifestKV *sorted = palloc(sizeof(ManifestKV) * Max(n, 1));

	memcpy(sorted, kv, sizeof(ManifestKV) * n);
	qsort(sorted, n, sizeof(ManifestKV), kv_cmp);
	enc_key(e, key);
	enc_open(e, '{');
	for (int i = 0; i < n; i++)
		enc_text(e, sorted[i].key, sorted[i].value);
	enc_close(e, '}');
	pfree(sorted);
}

char *
manifest_encode(const Manifest *m, size_t *len)
{
	StringInfoData buf;
	Enc			e;

	manifest_validate(m, NULL);
	initStringInfo(&buf);
	e.out = &buf;
	e.indent = 0;
	e.first = true;
	e.inline_ = false;

	enc_open(&e, '{');
	enc_text(&e, "format", MANIFEST_FORMAT_NAME);
	enc_int(&e, "format_version", m->format_version);
	enc_text(&e, "dataset_id", m->dataset_id);
	enc_int(&e, "version", m->version);
	if (m->parent_version == 0)
	{
		enc_key(&e, "parent_version");
		appendStringInfoString(&buf, "null");
	}
	else
		enc_int(&e, "parent_version", m->parent_version);
	enc_int(&e, "next_row_id", m->next_row_id);

	enc_key(&e, "schema");
	enc_open(&e, '{');
	enc_int(&e, "next_field_id", m->next_field_id);
	enc_key(&e, "fields");
	enc_open(&e, '[');
	for (int i = 0; i < m->nfields; i++)
	{
		const ManifestField *f = &m->fields[i];

		enc_sep(&e);
		enc_open(&e, '{');
		enc_int(&e, "id", f->id);
		enc_text(&e, "name", f->name);
		enc_text(&e, "type", manifest_type_name(f->type));
		enc_key(&e, "nullable");
		appendStringInfoString(&buf, f->nullable ? "true" : "false");
		if (f->type == MANIFEST_T_VECTOR)
		{
			enc_int(&e, "dim", f->dim);
			enc_text(&e, "element", element_names[f->element]);
		}
		if (f->type == MANIFEST_T_DECIMAL)
		{
			enc_int(&e, "precision", f->precision);
			enc_int(&e, "scale", f->scale);
		}
		if (f->pg_type)
			enc_text(&e, "pg_type", f->pg_type);
		enc_close(&e, '}');
	}
	enc_close(&e, ']');
	enc_close(&e, '}');

	enc_key(&e, "segments");
	enc_open(&e, '[');
	for (int i = 0; i < m->nsegments; i++)
	{
		const ManifestSegment *s = &m->segments[i];

		enc_sep(&e);
		enc_open(&e, '{');
		enc_int(&e, "id", s->id);
		enc_int(&e, "first_row_id", s->first_row_id);
		enc_int(&e, "end_row_id", s->end_row_id);
		enc_int(&e, "row_count", s->row_count);
		enc_key(&e, "groups");
		enc_open(&e, '[');
		for (int g = 0; g < s->ngroups; g++)
		{
			const ManifestGroup *gr = &s->groups[g];

			enc_sep(&e);
			enc_open(&e, '{');
			enc_text(&e, "path", gr->path);
			enc_text(&e, "layout", manifest_layout_name(gr->layout));
			enc_key(&e, "field_ids");
			appendStringInfoChar(&buf, '[');
			for (int k = 0; k < gr->nfield_ids; k++)
				appendStringInfo(&buf, "%s%d", k ? ", " : "", gr->field_ids[k]);
			appendStringInfoChar(&buf, ']');
			enc_int(&e, "size", gr->size);
			enc_text(&e, "etag", gr->etag);
			enc_int(&e, "row_count", gr->row_count);
			enc_key(&e, "stats");
			enc_open(&e, '[');
			for (int k = 0; k < gr->nstats; k++)
			{
				const ManifestStat *st = &gr->stats[k];

				enc_sep(&e);
				e.inline_ = true;
				enc_open(&e, '{');
				enc_int(&e, "field_id", st->field_id);
				enc_int(&e, "null_count", st->null_count);
				if (st->min)
				{
					enc_text(&e, "min", st->min);
					enc_text(&e, "max", st->max);
				}
				enc_close(&e, '}');
				e.inline_ = false;
			}
			enc_close(&e, ']');
			if (gr->objects)
			{
				enc_key(&e, "objects");
				enc_open(&e, '{');
				enc_text(&e, "path", gr->objects->path);
				enc_int(&e, "size", gr->objects->size);
				enc_text(&e, "etag", gr->objects->etag);
				enc_int(&e, "count", gr->objects->count);
				enc_close(&e, '}');
			}
			enc_close(&e, '}');
		}
		enc_close(&e, ']');
		if (s->deletes)
		{
			enc_key(&e, "deletes");
			enc_open(&e, '{');
			enc_text(&e, "path", s->deletes->path);
			enc_int(&e, "cardinality", s->deletes->cardinality);
			enc_int(&e, "size", s->deletes->size);
			enc_text(&e, "etag", s->deletes->etag);
			enc_close(&e, '}');
		}
		enc_close(&e, '}');
	}
	enc_close(&e, ']');

	enc_key(&e, "indexes");
	enc_open(&e, '[');
	for (int i = 0; i < m->nindexes; i++)
	{
		const ManifestIndex *x = &m->indexes[i];

		enc_sep(&e);
		enc_open(&e, '{');
		enc_text(&e, "name", x->name);
		enc_text(&e, "type", x->type);
		enc_int(&e, "field_id", x->field_id);
		enc_kv(&e, "params", x->params, x->nparams);
		enc_int(&e, "data_version", x->data_version);
		enc_int(&e, "first_row_id", x->first_row_id);
		enc_int(&e, "end_row_id", x->end_row_id);
		enc_text(&e, "location", x->location);
		enc_close(&e, '}');
	}
	enc_close(&e, ']');

	enc_key(&e, "lineage");
	enc_open(&e, '{');
	enc_text(&e, "operation", m->lineage.operation);
	enc_text(&e, "writer", m->lineage.writer);
	enc_int(&e, "timestamp_us", m->lineage.timestamp_us);
	enc_int(&e, "rows_added", m->lineage.rows_added);
	enc_int(&e, "rows_deleted", m->lineage.rows_deleted);
	enc_int(&e, "bytes_written", m->lineage.bytes_written);
	enc_key(&e, "models");
	enc_open(&e, '[');
	for (int i = 0; i < m->lineage.nmodels; i++)
	{
		const ManifestModel *mo = &m->lineage.models[i];

		enc_sep(&e);
		enc_open(&e, '{');
		enc_int(&e, "field_id", mo->field_id);
		enc_text(&e, "model", mo->model);
		enc_text(&e, "model_version", mo->model_version);
		enc_close(&e, '}');
	}
	enc_close(&e, ']');
	enc_close(&e, '}');

	enc_kv(&e, "properties", m->properties, m->nproperties);
	enc_close(&e, '}');
	appendStringInfoChar(&buf, '\n');

	if ((size_t) buf.len > MANIFEST_MAX_BYTES)
	{
		MCtx		c = {NULL, "", 0};

		mfail(&c, LAKE_UNSUPPORTED, "the document would be %d bytes, more than the limit of %zu",
			  buf.len, MANIFEST_MAX_BYTES);
	}
	if (len)
		*len = buf.len;
	return buf.data;
}

/* --------------------------------------------------------------- keys ---- */

void
manifest_key(int64 version, char *buf)
{
	snprintf(buf, MANIFEST_KEY_LEN, MANIFEST_DIR "%020lld.json", (long long) version);
}

bool
manifest_parse_key(const char *key, int64 *version)
{
	size_t		dl = strlen(MANIFEST_DIR);
	int64		v = 0;

	if (strlen(key) != MANIFEST_KEY_LEN - 1 || strncmp(key, MANIFEST_DIR, dl) != 0 ||
		strcmp(key + dl + MANIFEST_VERSION_DIGITS, ".json") != 0)
		return false;
	for (int i = 0; i < MANIFEST_VERSION_DIGITS; i++)
	{
		char		ch = key[dl + i];

		if (ch < '0' || ch > '9')
			return false;
		if (v > (MANIFEST_MAX_INT - (ch - '0')) / 10)
			return false;
		v = v * 10 + (ch - '0');
	}
	if (v < 1)
		return false;
	*version = v;
	return true;
}
