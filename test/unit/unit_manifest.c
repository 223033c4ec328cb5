/*
 * unit_manifest — the dataset manifest codec (src/manifest/manifest_json.c,
 * docs/manifest.md):
 *  - keys of the _manifest/ directory;
 *  - the spec's example (test/data/manifest/example.json, the same text as
 *    in docs/manifest.md) decodes, and re-encodes byte for byte;
 *  - generated manifests of every field type round-trip (encode -> decode
 *    -> encode byte-identical), and node's JSON.parse plus an independent
 *    checker (test/tools/manifest_check.mjs) accept what the encoder wrote;
 *  - every validation rule refuses a document breaking it, naming the JSON
 *    path of the bad value;
 *  - hostile input: every truncation, random byte mutations (fixed seed),
 *    deep nesting, huge numbers, bad UTF-8, bad escapes, duplicate keys —
 *    each decodes or raises, never crashes (run it under valgrind: inputs
 *    are exact-size heap copies), within the documented memory bound.
 *
 * `unit_manifest --canon FILE` prints FILE's canonical encoding.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "lib/stringinfo.h"

#include "manifest/manifest.h"
#include "pg_standin.h"

static int	failures = 0;
static int	checks = 0;

static void
check(bool cond, const char *what)
{
	checks++;
	if (!cond)
	{
		fprintf(stderr, "FAIL %s\n", what);
		failures++;
	}
	else if (getenv("VERBOSE"))
		printf("ok %s\n", what);
}

static const char *src_dir;

static char *
read_whole(const char *rel, size_t *len)
{
	char		path[1024];
	FILE	   *f;
	long		n;
	char	   *buf;

	snprintf(path, sizeof(path), "%s/%s", src_dir, rel);
	f = fopen(path, "rb");
	if (!f)
	{
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	if (fread(buf, 1, n, f) != (size_t) n)
		exit(2);
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return buf;
}

/* Decode an exact-size heap copy (valgrind sees overreads); NULL on ERROR. */
static Manifest *
try_decode(const char *doc, size_t len)
{
	char	   *copy = malloc(len ? len : 1);
	Manifest   *volatile m = NULL;
	bool		err;

	memcpy(copy, doc, len);
	err = STANDIN_CATCH(m = manifest_decode(copy, len, "file:///lake/clips/_manifest/x.json"));
	free(copy);
	return err ? NULL : m;
}

static size_t
memory_bound(size_t len)
{
	return MANIFEST_DECODE_MEMORY_FACTOR * len + 65536;
}

/* decode must raise or succeed; success implies a valid model that
 * re-encodes to a document decoding to the same bytes */
static void
decode_or_raise(const char *doc, size_t len, const char *what)
{
	Manifest   *m;
	char	   *e1 = NULL;
	size_t		l1 = 0;
	bool		ok = true;

	standin_reset();
	m = try_decode(doc, len);
	if (standin_peak_allocated() > memory_bound(len))
	{
		fprintf(stderr, "%s: %zu bytes allocated for %zu bytes of input\n", what,
				standin_peak_allocated(), len);
		ok = false;
	}
	if (m)
	{
		Manifest   *m2;
		char	   *e2 = NULL;
		size_t		l2 = 0;

		if (STANDIN_CATCH(e1 = manifest_encode(m, &l1)))
			ok = false;
		else if ((m2 = try_decode(e1, l1)) == NULL ||
				 STANDIN_CATCH(e2 = manifest_encode(m2, &l2)) ||
				 l1 != l2 || memcmp(e1, e2, l1) != 0)
			ok = false;
	}
	if (!ok)
		check(false, what);
	else
		checks++;
	standin_reset();
}

/* ---------------------------------------------------------------- keys -- */

static void
test_keys(void)
{
	char		k[MANIFEST_KEY_LEN];
	int64		v = 0;

	manifest_key(42, k);
	check(strcmp(k, "_manifest/00000000000000000042.json") == 0, "key of version 42");
	check(manifest_parse_key(k, &v) && v == 42, "parse key of version 42");
	manifest_key(MANIFEST_MAX_INT, k);
	check(manifest_parse_key(k, &v) && v == MANIFEST_MAX_INT, "key of the largest version");
	check(!manifest_parse_key("_manifest/_latest", &v), "hint is not a version key");
	check(!manifest_parse_key("_manifest/00000000000000000000.json", &v), "version 0 is not a key");
	check(!manifest_parse_key("_manifest/0000000000000000042.json", &v), "19 digits is not a key");
	check(!manifest_parse_key("_manifest/0000000000000000004a.json", &v), "non-digit is not a key");
	check(!manifest_parse_key("_manifest/00000000000000000042.json.tmp", &v), "suffix is not a key");
	check(!manifest_parse_key("_manifest/99999999999999999999.json", &v), "beyond 2^53-1 is not a key");
	check(!manifest_parse_key("_manifest/.vlake-tmp.1.2.3", &v), "temporary is not a key");
}

/* ------------------------------------------------------------ example -- */

static char *example;
static size_t example_len;

static void
test_example(void)
{
	Manifest   *m;
	char	   *enc = NULL;
	size_t		len = 0;
	size_t		dlen;
	char	   *doc = read_whole("docs/manifest.md", &dlen);

	standin_reset();
	m = try_decode(example, example_len);
	check(m != NULL, "the spec's example decodes");
	if (!m)
	{
		fprintf(stderr, "  %s\n", standin_last_error);
		return;
	}
	check(m->version == 4 && m->parent_version == 3 && m->next_row_id == 1500,
		  "example: version, parent, next_row_id");
	check(m->nfields == 7 && m->fields[5].type == MANIFEST_T_VECTOR &&
		  m->fields[5].dim == 768 && m->fields[6].element == MANIFEST_E_FLOAT16,
		  "example: schema with vector fields");
	check(m->nsegments == 2 && m->segments[0].ngroups == 4 &&
		  m->segments[0].deletes && m->segments[0].deletes->cardinality == 2 &&
		  m->segments[1].deletes == NULL, "example: segments, groups, deletes");
	check(strcmp(m->segments[0].groups[0].etag, "\"9b2cf535f27731c974343645a3985328\"") == 0,
		  "example: etag with quotes");
	check(strcmp(m->segments[1].groups[0].stats[4].max, "\xE5\xA4\x9C\xE3\x81\xAE\xE6\xB8\x8B\xE8\xB0\xB7") == 0,
		  "example: UTF-8 statistics");
	check(m->nindexes == 1 && m->indexes[0].nparams == 8, "example: index");
	check(m->lineage.nmodels == 2 && m->lineage.models[1].field_id == 8, "example: lineage models");
	check(!STANDIN_CATCH(enc = manifest_encode(m, &len)) &&
		  len == example_len && memcmp(enc, example, len) == 0,
		  "example.json is canonical: encode(decode(example)) is byte-identical");
	check(strstr(doc, example) != NULL,
		  "docs/manifest.md holds test/data/manifest/example.json verbatim");
	free(doc);
	standin_reset();
}

/* --------------------------------------------------------- round trip -- */

static uint64 rng_state = 0x9E3779B97F4A7C15;

static uint32
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32) (rng_state >> 11);
}

static char *
rnd_text(int maxlen)
{
	static const char *const pieces[] = {"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t",
	"\x01", "\x1f", "\xC3\xA9", "\xE5\xA4\x9C", "\xF0\x9F\x98\x80", "x_y", "\x7f"};
	StringInfoData s;

	initStringInfo(&s);
	while (s.len < maxlen - 4 && rnd() % 8)
		appendStringInfoString(&s, pieces[rnd() % lengthof(pieces)]);
	if (s.len == 0)
		appendStringInfoChar(&s, 'q');
	return s.data;
}

/* a min <= max pair for a field */
static void
rnd_stat(const ManifestField *f, ManifestStat *st, int64 rows)
{
	char		a[128],
				b[128];

	st->field_id = f->id;
	st->null_count = f->nullable ? rnd() % (rows + 1) : 0;
	if (f->type == MANIFEST_T_VECTOR || rnd() % 5 == 0)
		return;
	switch (f->type)
	{
		case MANIFEST_T_BOOLEAN:
			st->min = pstrdup("false");
			st->max = pstrdup(rnd() % 2 ? "true" : "false");
			return;
		case MANIFEST_T_INT16:
		case MANIFEST_T_INT32:
		case MANIFEST_T_DATE:
			snprintf(a, sizeof(a), "%d", -(int) (rnd() % 30000));
			snprintf(b, sizeof(b), "%d", (int) (rnd() % 30000));
			break;
		case MANIFEST_T_INT64:
		case MANIFEST_T_TIMESTAMP:
		case MANIFEST_T_TIMESTAMPTZ:
			if (rnd() % 3 == 0)
			{
				snprintf(a, sizeof(a), INT64_FORMAT, PG_INT64_MIN);
				snprintf(b, sizeof(b), INT64_FORMAT, PG_INT64_MAX);
			}
			else
			{
				snprintf(a, sizeof(a), "%u", rnd());
				snprintf(b, sizeof(b), INT64_FORMAT, (int64) rnd() * 1000000 + INT64CONST(4294967296));
			}
			break;
		case MANIFEST_T_FLOAT32:
		case MANIFEST_T_FLOAT64:
			if (rnd() % 4 == 0)
			{
				strcpy(a, "-Infinity");
				strcpy(b, "Infinity");
			}
			else
			{
				snprintf(a, sizeof(a), "%.9g", -(double) rnd() / 7.0);
				snprintf(b, sizeof(b), "%.17g", (double) rnd() * 1e10);
			}
			break;
		case MANIFEST_T_DECIMAL:
			snprintf(a, sizeof(a), "-%u.%0*d", rnd() % 1000, f->scale, 0);
			snprintf(b, sizeof(b), "%u.%0*d", rnd() % 1000, f->scale, 5);
			if (f->scale == 0)
			{
				snprintf(a, sizeof(a), "-%u", rnd() % 1000 + 1);
				snprintf(b, sizeof(b), "%u", rnd() % 1000);
			}
			break;
		case MANIFEST_T_BINARY:
			strcpy(a, "00ff");
			strcpy(b, "ff");
			break;
		case MANIFEST_T_UUID:
			strcpy(a, "00000000-0000-0000-0000-000000000000");
			strcpy(b, "ffffffff-ffff-ffff-ffff-ffffffffffff");
			break;
		default:				/* string, json */
			{
				char	   *x = rnd_text(60),
						   *y = rnd_text(60);

				st->min = strcmp(x, y) <= 0 ? x : y;
				st->max = strcmp(x, y) <= 0 ? y : x;
				return;
			}
	}
	st->min = pstrdup(a);
	st->max = pstrdup(b);
}

static Manifest *
gen_manifest(int nsegments)
{
	Manifest   *m = palloc0(sizeof(Manifest));
	int64		row = rnd() % 100;

	m->format_version = 1;
	strcpy(m->dataset_id, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
	m->version = 1 + rnd() % 1000;
	m->parent_version = m->version == 1 ? 0 : m->version - 1;
	/* every type; half the documents add object_ref (so are format 2) */
	m->nfields = MANIFEST_T_VECTOR + 1 + rnd() % 2;
	m->fields = palloc0(sizeof(ManifestField) * m->nfields);
	for (int i = 0; i < m->nfields; i++)
	{
		ManifestField *f = &m->fields[i];

		f->id = i * 2 + 1;		/* gaps: dropped fields */
		f->name = psprintf("f%d_%s", i, rnd_text(20));
		if (strlen(f->name) > MANIFEST_MAX_NAME)
			f->name[MANIFEST_MAX_NAME - 4] = '\0';
		if (!STANDIN_CATCH(f->name = f->name))
		{
			/* cut on a UTF-8 boundary */
			while (strlen(f->name) > 0 &&
				   ((unsigned char) f->name[strlen(f->name) - 1] & 0x80))
				f->name[strlen(f->name) - 1] = '\0';
		}
		f->type = (ManifestType) i;
		f->nullable = i != 0;
		if (f->type == MANIFEST_T_VECTOR)
		{
			f->dim = 1 + rnd() % MANIFEST_MAX_VECTOR_DIM;
			f->element = rnd() % 2 ? MANIFEST_E_FLOAT16 : MANIFEST_E_FLOAT32;
		}
		if (f->type == MANIFEST_T_DECIMAL)
		{
			f->precision = 1 + rnd() % 38;
			f->scale = rnd() % (f->precision + 1);
			if (f->precision - f->scale < 4)
				f->scale = 0, f->precision = 38;
		}
		if (rnd() % 2)
			f->pg_type = rnd_text(40);
	}
	m->format_version = manifest_format_needed(m);
	m->next_field_id = m->nfields * 2 + rnd() % 5;
	m->nsegments = nsegments;
	m->segments = palloc0(sizeof(ManifestSegment) * Max(nsegments, 1));
	for (int s = 0; s < nsegments; s++)
	{
		ManifestSegment *seg = &m->segments[s];
		int			f = 0;

		seg->id = 1000 - s * 3;
		seg->first_row_id = row + rnd() % 3;
		seg->row_count = 1 + rnd() % 100000;
		seg->end_row_id = seg->first_row_id + seg->row_count;
		row = seg->end_row_id;
		seg->groups = palloc0(sizeof(ManifestGroup) * m->nfields);
		while (f < m->nfields)
		{
			ManifestGroup *g = &seg->groups[seg->ngroups];
			int			n = 1 + rnd() % 4;

			if (m->fields[f].type == MANIFEST_T_VECTOR)
			{
				g->layout = MANIFEST_L_VECTOR_CG;
				n = 1;
			}
			else if (m->fields[f].type == MANIFEST_T_STRING && rnd() % 2)
			{
				g->layout = MANIFEST_L_LONG_TEXT;
				n = 1;
			}
			else
				g->layout = MANIFEST_L_PARQUET;
			n = Min(n, m->nfields - f);
			if (f > 0 && rnd() % 7 == 0)
			{
				f++;			/* a nullable field this segment lacks */
				continue;
			}
			g->path = psprintf("data/seg-%d/%s/g%d.parquet", s, rnd() % 2 ? "a b" : "\xC3\xA9t\xC3\xA9", seg->ngroups);
			g->field_ids = palloc(sizeof(int32) * n);
			g->stats = palloc0(sizeof(ManifestStat) * n);
			for (int k = 0; k < n; k++)
			{
				g->field_ids[g->nfield_ids++] = m->fields[f + k].id;
				if (rnd() % 4)
					rnd_stat(&m->fields[f + k], &g->stats[g->nstats++], seg->row_count);
			}
			g->size = rnd() % 2 ? MANIFEST_MAX_INT : rnd();
			g->etag = rnd() % 3 ? psprintf("\"%08x%08x\"", rnd(), rnd()) : pstrdup("");
			g->row_count = seg->row_count;
			seg->ngroups++;
			f += n;
		}
		if (rnd() % 2)
		{
			seg->deletes = palloc0(sizeof(ManifestDeletes));
			seg->deletes->path = psprintf("deletes/%d.roaring", s);
			seg->deletes->cardinality = 1 + rnd() % seg->row_count;
			seg->deletes->size = rnd();
			seg->deletes->etag = pstrdup("e");
		}
	}
	m->next_row_id = row + rnd() % 10;
	m->nindexes = nsegments > 0 ? 2 : 0;
	m->indexes = palloc0(sizeof(ManifestIndex) * 2);
	for (int i = 0; i < m->nindexes; i++)
	{
		ManifestIndex *x = &m->indexes[i];

		x->name = psprintf("idx_%d", i);
		x->type = pstrdup("vlake_ivf");
		x->field_id = m->fields[14].id;
		x->nparams = 3;
		x->params = palloc(sizeof(ManifestKV) * 3);
		x->params[0] = (ManifestKV) {"metric", "l2"};
		x->params[1] = (ManifestKV) {"lists", "100"};
		x->params[2] = (ManifestKV) {rnd_text(20), rnd_text(200)};
		if (strcmp(x->params[2].key, "metric") == 0 || strcmp(x->params[2].key, "lists") == 0)
			x->params[2].key = "zz";
		x->data_version = 1 + rnd() % m->version;
		x->first_row_id = 0;
		x->end_row_id = m->next_row_id;
		x->location = i ? pstrdup("s3://bucket/idx/") : psprintf("vlake_index/p%d/", i);
	}
	m->lineage.operation = pstrdup("append");
	m->lineage.writer = rnd_text(100);
	m->lineage.timestamp_us = 1796338800123456LL;
	m->lineage.rows_added = row;
	m->lineage.bytes_written = MANIFEST_MAX_INT;
	m->lineage.nmodels = 1;
	m->lineage.models = palloc(sizeof(ManifestModel));
	m->lineage.models[0] = (ManifestModel) {m->fields[14].id, rnd_text(50), ""};
	m->nproperties = rnd() % 5;
	m->properties = palloc0(sizeof(ManifestKV) * Max(m->nproperties, 1));
	for (int i = 0; i < m->nproperties; i++)
	{
		m->properties[i].key = psprintf("k%d%s", i, rnd_text(30));
		m->properties[i].value = rnd_text(300);
	}
	return m;
}

static const char *out_dir;

static void
test_round_trip(void)
{
	int			written = 0;

	for (int iter = 0; iter < 60; iter++)
	{
		Manifest   *m,
				   *d;
		char	   *e1 = NULL,
				   *e2 = NULL;
		size_t		l1 = 0,
					l2 = 0;
		char		what[64];

		standin_reset();
		m = gen_manifest(iter % 7 == 0 ? 0 : 1 + rnd() % 20);
		snprintf(what, sizeof(what), "round trip %d: encode", iter);
		if (STANDIN_CATCH(e1 = manifest_encode(m, &l1)))
		{
			fprintf(stderr, "  %s\n", standin_last_error);
			check(false, what);
			continue;
		}
		d = try_decode(e1, l1);
		snprintf(what, sizeof(what), "round trip %d: decode", iter);
		check(d != NULL, what);
		if (!d)
		{
			fprintf(stderr, "  %s\n", standin_last_error);
			continue;
		}
		snprintf(what, sizeof(what), "round trip %d: byte-identical", iter);
		check(!STANDIN_CATCH(e2 = manifest_encode(d, &l2)) && l1 == l2 &&
			  memcmp(e1, e2, l1) == 0, what);
		check(d->nsegments == m->nsegments && d->nfields == m->nfields &&
			  d->nproperties == m->nproperties, "round trip: counts");
		if (out_dir && iter < 10)
		{
			char		path[1200];
			FILE	   *f;

			snprintf(path, sizeof(path), "%s/rt%02d.json", out_dir, iter);
			f = fopen(path, "wb");
			if (f && fwrite(e1, 1, l1, f) == l1)
				written++;
			if (f)
				fclose(f);
		}
	}
	standin_reset();
	/* node's JSON.parse and an independent checker accept the encoder's output */
	if (out_dir && written > 0)
	{
		char		cmd[2400];
		FILE	   *f;
		char		path[1200];

		snprintf(path, sizeof(path), "%s/example.json", out_dir);
		f = fopen(path, "wb");
		if (f)
		{
			fwrite(example, 1, example_len, f);
			fclose(f);
		}
		if (system("command -v node >/dev/null 2>&1") == 0)
		{
			snprintf(cmd, sizeof(cmd), "node %s/test/tools/manifest_check.mjs %s/*.json",
					 src_dir, out_dir);
			check(system(cmd) == 0, "node: JSON.parse and manifest_check.mjs accept the encoder's output");
		}
		else
			printf("skip: node not installed, the encoder's output is not checked by JSON.parse\n");
	}
}

/* --------------------------------------------------------- validation -- */

/* The example with the first occurrence of from after anchor replaced by to. */
static char *
mutate(const char *anchor, const char *from, const char *to, size_t *len)
{
	const char *a = anchor ? strstr(example, anchor) : example;
	const char *p = a ? strstr(a, from) : NULL;
	StringInfoData s;

	if (p == NULL)
	{
		fprintf(stderr, "test bug: \"%s\" not found after \"%s\"\n", from, anchor ? anchor : "");
		exit(2);
	}
	initStringInfo(&s);
	appendBinaryStringInfo(&s, example, p - example);
	appendStringInfoString(&s, to);
	appendStringInfoString(&s, p + strlen(from));
	*len = s.len;
	return s.data;
}

typedef struct Rule
{
	const char *anchor;
	const char *from;
	const char *to;
	const char *expect;			/* in the error: JSON path and reason */
} Rule;

static const Rule rules[] = {
	{NULL, "\"vlake.manifest\"", "\"vlake.other\"", "invalid vlake manifest \"file:///lake/clips/_manifest/x.json\": format: must be \"vlake.manifest\""},
	{NULL, "\"format_version\": 1", "\"format_version\": 4", "cannot read vlake manifest \"file:///lake/clips/_manifest/x.json\": format_version: format_version 4 is newer"},
	/* object_ref (format 2) needs format_version 2; a format 1 document may be read as 2 */
	{NULL, "\"type\": \"string\"", "\"type\": \"object_ref\"", "schema.fields[4].type: type \"object_ref\" needs format_version 2"},
	{NULL, "\"type\": \"string\"", "\"type\": \"objectref\"", "schema.fields[4].type: unknown value \"objectref\""},
	{NULL, "\"format_version\": 1", "\"format_version\": 0", "format_version: must be a positive integer"},
	{NULL, "\"format_version\": 1", "\"format_version\": \"1\"", "format_version: must be a positive integer"},
	{NULL, "6f1c2a4e-8b3d", "6F1C2A4E-8b3d", "dataset_id: must be a lowercase UUID"},
	{NULL, "6f1c2a4e-8b3d", "6f1c2a4e8b3d", "dataset_id: must be a lowercase UUID"},
	{NULL, "\"version\": 4", "\"version\": 0", "version: must be an integer in [1, 9007199254740991]"},
	{NULL, "\"version\": 4", "\"version\": 9007199254740992", "version: must be an integer in [1, 9007199254740991]"},
	{NULL, "\"version\": 4", "\"version\": 99999999999999999999", "version: number at byte 144 is out of the range of a 64-bit integer"},
	{NULL, "\"version\": 4", "\"version\": -9223372036854775809", "version: number at byte 144 is out of the range"},
	{NULL, "\"version\": 4", "\"version\": 4.0", "version: must be an integer in [1, 9007199254740991], not a non-integer number"},
	{NULL, "\"version\": 4", "\"version\": 4e0", "version: must be an integer"},
	{NULL, "\"version\": 4", "\"version\": 1", "parent_version: must be null for version 1"},
	{NULL, "\"parent_version\": 3", "\"parent_version\": 2", "parent_version: must be version - 1 (3)"},
	{NULL, "\"parent_version\": 3", "\"parent_version\": null", "parent_version: must be version - 1 (3)"},
	{NULL, "\"parent_version\": 3", "\"parent_version\": \"3\"", "parent_version: must be null or an integer"},
	{NULL, "\"next_row_id\": 1500", "\"next_row_id\": 1400", "segments[1].end_row_id: must be in [1001, 1400], not 1500"},
	{NULL, "\"next_row_id\": 1500,", "", "next_row_id: required key is missing"},
	{NULL, "\"next_field_id\": 9", "\"next_field_id\": 8", "schema.fields[6].id: must be in [1, 7], not 8"},
	{NULL, "\"id\": 2,", "\"id\": 1,", "schema.fields[1].id: field id 1 is used twice"},
	{NULL, "\"name\": \"video_id\"", "\"name\": \"clip_id\"", "schema.fields[1].name: field name \"clip_id\" is used twice"},
	{NULL, "\"name\": \"video_id\"", "\"name\": \"\"", "schema.fields[1].name: must be 1 to 63 bytes long, not 0"},
	{NULL, "\"name\": \"video_id\"", "\"name\": \"v234567890123456789012345678901234567890123456789012345678901234\"", "schema.fields[1].name: must be 1 to 63 bytes long, not 64"},
	{NULL, "\"type\": \"int64\"", "\"type\": \"int128\"", "schema.fields[0].type: unknown value \"int128\""},
	{NULL, "\"type\": \"int64\"", "\"type\": \"int64\", \"dim\": 3", "schema.fields[0].dim: only a vector field has this key"},
	{NULL, "\"dim\": 768", "\"dim\": 0", "schema.fields[5].dim: must be an integer in [1, 16000]"},
	{NULL, "\"dim\": 768", "\"dim\": 16001", "schema.fields[5].dim: must be an integer in [1, 16000]"},
	{NULL, "\"element\": \"float32\",", "", "schema.fields[5].element: required key is missing"},
	{NULL, "\"element\": \"float32\"", "\"element\": \"int8\"", "schema.fields[5].element: unknown value"},
	{NULL, "\"element\": \"float32\"", "\"elem\": \"float32\"", "schema.fields[5].elem: unknown key"},
	{NULL, "\"scale\": 2", "\"scale\": 11", "schema.fields[3].scale: must be an integer in [0, 10]"},
	{NULL, "\"precision\": 10", "\"precision\": 39", "schema.fields[3].precision: must be an integer in [1, 38]"},
	{NULL, "\"nullable\": false", "\"nullable\": 0", "schema.fields[0].nullable: must be a boolean, not an integer"},
	{NULL, "\"first_row_id\": 1000", "\"first_row_id\": 999", "segments[1].first_row_id: row-ID range overlaps or precedes"},
	{"\"id\": 2,\n      \"first_row_id\"", "\"id\": 2", "\"id\": 1", "segments: segment id 1 is used twice"},
	{NULL, "\"end_row_id\": 1000", "\"end_row_id\": 0", "segments[0].end_row_id: must be in [1, 1500], not 0"},
	{"\"end_row_id\": 1500", "\"row_count\": 500", "\"row_count\": 499", "segments[1].row_count: must be end_row_id - first_row_id (500)"},
	{"9b2cf535", "\"row_count\": 1000", "\"row_count\": 999", "segments[0].groups[0].row_count: is 999, not the segment's row_count 1000"},
	{NULL, "\"size\": 21873", "\"size\": -1", "segments[0].groups[0].size: must be an integer in [0, 9007199254740991]"},
	{NULL, "\"size\": 21873", "\"size\": 9007199254740992", "segments[0].groups[0].size: must be an integer in [0, 9007199254740991]"},
	{NULL, "\"size\": 21873", "\"size\": \"21873\"", "segments[0].groups[0].size: must be an integer in [0, 9007199254740991], not a string"},
	{NULL, "\"data/s00000001/scalars.parquet\"", "\"data/../x.parquet\"", "segments[0].groups[0].path: must not contain \".\" or \"..\" segments"},
	{NULL, "\"data/s00000001/scalars.parquet\"", "\"/etc/passwd\"", "segments[0].groups[0].path: must be a relative path"},
	{NULL, "\"data/s00000001/scalars.parquet\"", "\"data//x.parquet\"", "segments[0].groups[0].path: must be a relative path"},
	{NULL, "\"data/s00000001/scalars.parquet\"", "\"data/\"", "segments[0].groups[0].path: must be a relative path"},
	{NULL, "\"data/s00000001/scalars.parquet\"", "\"_manifest/00000000000000000003.json\"", "segments[0].groups[0].path: must not name an object under _manifest/"},
	{NULL, "\"data/s00000001/scalars.parquet\"", "\"data\\\\x.parquet\"", "segments[0].groups[0].path: must not contain control characters or backslashes"},
	{NULL, "\"data/s00000001/scalars.parquet\"", "\"\"", "segments[0].groups[0].path: must be 1 to 1024 bytes long"},
	{NULL, "\"data/s00000002/scalars.parquet\"", "\"data/s00000001/scalars.parquet\"", "segments: the path \"data/s00000001/scalars.parquet\" is named twice"},
	{NULL, "\"deletes/s00000001-v3.roaring\"", "\"data/s00000001/caption.parquet\"", "is named twice"},
	{NULL, "\"layout\": \"parquet\"", "\"layout\": \"orc\"", "segments[0].groups[0].layout: unknown value \"orc\""},
	{NULL, "[1, 2, 3, 4]", "[1, 2, 3, 4, 1]", "segments[0].groups[0].field_ids[4]: field id 1 is held twice by this group"},
	{NULL, "[1, 2, 3, 4]", "[1, 2, 3, 7]", "segments[0].groups[0].field_ids[3]: field id 7 is not in the schema"},
	{NULL, "[1, 2, 3, 4]", "[]", "segments[0].groups[0].field_ids: must list 1 to 1600 field ids"},
	{NULL, "[1, 2, 3, 4]", "[1, 2, 3, 0]", "segments[0].groups[0].field_ids[3]: must be a field id"},
	{"embedding.parquet", "[6]", "[5]", "segments[0].groups[2].field_ids[0]: a vector_cg group holds a vector field, not string"},
	{"caption.parquet", "[5]", "[5, 4]", "segments[0].groups[1].field_ids: a long_text group holds exactly one field"},
	{"caption.parquet", "[5]", "[4]", "segments[0].groups[1].field_ids[0]: a long_text group holds a string, json, binary or object_ref field, not decimal"},
	{NULL, "{\"field_id\": 2, \"null_count\": 0", "{\"field_id\": 5, \"null_count\": 0", "segments[0].groups[0].stats[1].field_id: field id 5 is not one of the group's field_ids"},
	{NULL, "{\"field_id\": 2, \"null_count\": 0", "{\"field_id\": 1, \"null_count\": 0", "segments[0].groups[0].stats[1].field_id: field id 1 has statistics twice"},
	{NULL, "\"null_count\": 12", "\"null_count\": 1001", "segments[0].groups[0].stats[2].null_count: must be in [0, 1000], not 1001"},
	{NULL, "{\"field_id\": 1, \"null_count\": 0", "{\"field_id\": 1, \"null_count\": 1", "segments[0].groups[0].stats[0].null_count: must be 0 for a non-nullable field"},
	{NULL, "\"min\": \"0\", \"max\": \"999\"", "\"min\": \"1000\", \"max\": \"999\"", "segments[0].groups[0].stats[0].max: max is less than min"},
	{NULL, "\"min\": \"0\"", "\"min\": \"00\"", "segments[0].groups[0].stats[0].min: must be a canonical decimal integer in the range of int64"},
	{NULL, "\"min\": \"0\"", "\"min\": \"-9223372036854775809\"", "segments[0].groups[0].stats[0].min: must be a canonical decimal integer"},
	{NULL, ", \"max\": \"999\"", "", "segments[0].groups[0].stats[0].max: min and max are given together or not at all"},
	{NULL, "\"min\": \"0.5\"", "\"min\": \"NaN\"", "segments[0].groups[0].stats[2].min: must be a JSON number, \"Infinity\" or \"-Infinity\""},
	{NULL, "\"min\": \"0.5\"", "\"min\": \"60\"", "segments[0].groups[0].stats[2].max: max is less than min"},
	{NULL, "\"min\": \"-3.50\"", "\"min\": \"-3.5\"", "segments[0].groups[0].stats[3].min: must be a canonical decimal(10,2) text"},
	{NULL, "\"min\": \"-3.50\"", "\"min\": \"-0.00\"", "segments[0].groups[0].stats[3].min: must be a canonical decimal(10,2) text"},
	{NULL, "\"max\": \"1999.99\"", "\"max\": \"123456789.00\"", "segments[0].groups[0].stats[3].max: must be a canonical decimal(10,2) text"},
	{NULL, "\"max\": \"1999.99\"", "\"max\": \"-4.00\"", "segments[0].groups[0].stats[3].max: max is less than min"},
	{NULL, "\"max\": \"zebra", "\"max\": \"0zebra", "segments[0].groups[1].stats[0].max: max is less than min"},
	{NULL, "{\"field_id\": 6, \"null_count\": 0}", "{\"field_id\": 6, \"null_count\": 0, \"min\": \"1\", \"max\": \"2\"}", "segments[0].groups[2].stats[0].min: a vector field has no min/max statistics"},
	{NULL, "{\"field_id\": 6, \"null_count\": 0}", "{\"field_id\": 6, \"null_count\": 0, \"avg\": 1}", "segments[0].groups[2].stats[0].avg: unknown key"},
	{NULL, "\"cardinality\": 2", "\"cardinality\": 1001", "segments[0].deletes.cardinality: must be in [1, 1000], not 1001"},
	{NULL, "\"cardinality\": 2", "\"cardinality\": 0", "segments[0].deletes.cardinality: must be in [1, 1000], not 0"},
	{NULL, "\"deletes/s00000001-v3.roaring\"", "\"deletes/\"", "segments[0].deletes.path: must be a relative path"},
	{NULL, "\"etag\": \"\\\"9b2cf535f27731c974343645a3985328\\\"\"", "\"etag\": \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\"", "segments[0].groups[0].etag: must be 0 to 127 bytes long, not 130"},
	{NULL, "\"data_version\": 3", "\"data_version\": 5", "indexes[0].data_version: must be in [1, 4], not 5"},
	{"vlake_ivf", "\"field_id\": 6", "\"field_id\": 7", "indexes[0].field_id: field id 7 is not in the schema"},
	{"vlake_ivf", "\"end_row_id\": 1500", "\"end_row_id\": 1501", "indexes[0].end_row_id: must be in [0, 1500], not 1501"},
	{"clips_embedding_idx", "\"type\": \"vlake_ivf\"", "\"type\": \"IVF\"", "indexes[0].type: must be a lowercase identifier"},
	{NULL, "\"location\": \"vlake_index/", "\"location\": \"../vlake_index/", "indexes[0].location: must not contain \".\" or \"..\" segments"},
	{NULL, "\"location\": \"vlake_index/", "\"location\": \"http://x/", "indexes[0].location: must be a relative path"},
	{NULL, "\"lists\": \"32\"", "\"lists\": 32", "indexes[0].params.lists: must be a string, not an integer"},
	{NULL, "\"operation\": \"add_columns\"", "\"operation\": \"Add Columns\"", "lineage.operation: must be a lowercase identifier"},
	{NULL, "\"writer\": \"spark", "\"writer\": \"\", \"x\": \"", "lineage.x: unknown key"},
	{NULL, "\"rows_added\": 0", "\"rows_added\": -1", "lineage.rows_added: must be an integer in [0, 9007199254740991]"},
	{NULL, "\"timestamp_us\": 1796338800123456", "\"timestamp_us\": null", "lineage.timestamp_us: must be an integer in [0, 9007199254740991], not null"},
	{"\"models\"", "\"field_id\": 6", "\"field_id\": 5", "lineage.models[0].field_id: field id 5 is not a vector field of the schema"},
	{"\"models\"", "\"field_id\": 8", "\"field_id\": 6", "lineage.models[1].field_id: field id 6 has two models"},
	{"\"models\"", "\"model\": \"openai/clip-vit-large-patch14\"", "\"model\": \"\"", "lineage.models[0].model: must be 1 to 256 bytes long, not 0"},
	{NULL, "\"properties\"", "\"propertiez\"", "propertiez: unknown key"},
	{NULL, "\"team\": \"media-ml\"", "\"team\": 1", "properties.team: must be a string, not an integer"},
	{NULL, "\"team\": \"media-ml\"", "\"\": \"media-ml\"", "properties.<?>: must be 1 to 256 bytes long, not 0"},
	{NULL, "\"lineage\": {", "\"lineage\": [", "lineage: JSON syntax error"},
	{NULL, "\"field_ids\": [1, 2, 3, 4]", "\"field_ids\": {}", "segments[0].groups[0].field_ids: must be an array, not an object"},
	/* duplicate keys, at the root, nested, in maps, with more than 8 keys */
	{NULL, "\"version\": 4,", "\"version\": 4, \"version\": 4,", "version: duplicate key"},
	{NULL, "\"team\": \"media-ml\"", "\"team\": \"media-ml\", \"team\": \"x\"", "properties.team: duplicate key"},
	{NULL, "\"size\": 21873,", "\"size\": 21873, \"etag\": \"x\",", "segments[0].groups[0].etag: duplicate key"},
	{NULL, "\"team\": \"media-ml\"", "\"a\": \"\", \"b\": \"\", \"c\": \"\", \"d\": \"\", \"e\": \"\", \"f\": \"\", \"g\": \"\", \"h\": \"\", \"b\": \"\", \"team\": \"media-ml\"", "properties.b: duplicate key"},
	/* syntax, strings, UTF-8 */
	{NULL, "\"media-ml\"", "\"\xC0\x80\"", "properties.team: JSON syntax error at byte"},
	{NULL, "\"media-ml\"", "\"\xED\xA0\x80\"", "invalid UTF-8"},
	{NULL, "\"media-ml\"", "\"\xF4\x90\x80\x80\"", "invalid UTF-8"},
	{NULL, "\"media-ml\"", "\"\xF5\x80\x80\x80\"", "invalid UTF-8"},
	{NULL, "\"media-ml\"", "\"\xE2\x82\"", "invalid UTF-8"},
	{NULL, "\"media-ml\"", "\"\x80\"", "invalid UTF-8"},
	{NULL, "\"media-ml\"", "\"\\udc00\"", "lone low surrogate"},
	{NULL, "\"media-ml\"", "\"\\ud800x\"", "high surrogate not followed by a low surrogate"},
	{NULL, "\"media-ml\"", "\"\\ud800\\u0041\"", "high surrogate not followed by a low surrogate"},
	{NULL, "\"media-ml\"", "\"\\u0000\"", "\\u0000 is not allowed"},
	{NULL, "\"media-ml\"", "\"\\u12\"", "bad \\u escape"},
	{NULL, "\"media-ml\"", "\"\\x\"", "bad escape"},
	{NULL, "\"media-ml\"", "\"a\x01\"", "control character in string"},
	{NULL, "\"media-ml\"", "\"a\tb\"", "control character in string"},
	{NULL, "\"media-ml\"", "'media-ml'", "properties.team: JSON syntax error at byte"},
	{NULL, "\"media-ml\"", "\"media-ml\",", "properties: JSON syntax error"},
	{NULL, "\"media-ml\"", "tru", "bad literal"},
	{NULL, "\"media-ml\"", "01", "leading zero"},
	{NULL, "\"media-ml\"", "-", "bad number"},
	{NULL, "\"media-ml\"", "1.", "no digit after the decimal point"},
	{NULL, "\"media-ml\"", "1e", "no digit in the exponent"},
	{NULL, "\"format\"", "\xEF\xBB\xBF\"format\"", "JSON syntax error at byte 4"},
};

static void
test_rules(void)
{
	for (int i = 0; i < (int) lengthof(rules); i++)
	{
		const Rule *r = &rules[i];
		size_t		len;
		char	   *doc;
		char		what[300];
		Manifest   *m;

		if (r->expect == NULL)
			continue;
		standin_reset();
		doc = mutate(r->anchor, r->from, r->to, &len);
		m = try_decode(doc, len);
		snprintf(what, sizeof(what), "rule %d refused: %s", i, r->expect);
		if (m != NULL)
		{
			check(false, what);
			continue;
		}
		if (strstr(standin_last_error, r->expect) == NULL)
		{
			fprintf(stderr, "  rule %d: got: %s\n", i, standin_last_error);
			check(false, what);
			continue;
		}
		check(true, what);
		if (getenv("VERBOSE"))
			printf("   %s\n", standin_last_error);
	}
	/* the version in the key and in the document agree */
	{
		char	   *copy = malloc(example_len);

		memcpy(copy, example, example_len);
		standin_reset();
		check(STANDIN_CATCH(manifest_decode(copy, example_len, "s3://b/clips/_manifest/00000000000000000005.json")) &&
			  strstr(standin_last_error, "\"s3://b/clips/_manifest/00000000000000000005.json\": version: is 4, but the document's key names version 5") != NULL,
			  "a document under another version's key is refused");
		standin_reset();
		check(!STANDIN_CATCH(manifest_decode(copy, example_len, "s3://b/clips/_manifest/00000000000000000004.json")),
			  "a document under its own version's key decodes");
		free(copy);
	}
	/* a NUL byte inside the document */
	{
		char	   *doc = malloc(example_len);

		memcpy(doc, example, example_len);
		doc[20] = '\0';
		standin_reset();
		check(try_decode(doc, example_len) == NULL &&
			  strstr(standin_last_error, "JSON syntax error") != NULL, "NUL byte refused");
		free(doc);
	}
	/* the valid escapes decode */
	{
		size_t		len;
		char	   *doc;
		Manifest   *m;

		standin_reset();
		doc = mutate(NULL, "\"media-ml\"", "\"\\ud83d\\ude00 \\u00e9\\/\\\"\\\\\\b\\f\\n\\r\\t\xC3\xA9\"", &len);
		m = try_decode(doc, len);
		check(m != NULL && strcmp(m->properties[0].value,
								  "\xF0\x9F\x98\x80 \xC3\xA9/\"\\\b\f\n\r\t\xC3\xA9") == 0,
			  "escapes and surrogate pairs decode");
	}
}

/* Rules checked on the model (not reachable by a one-spot text edit). */
static void
test_model_rules(void)
{
	Manifest   *m;
	Manifest   *c;
	char	   *enc = NULL;

#define FRESH() (standin_reset(), m = try_decode(example, example_len), c = try_decode(example, example_len))
#define REFUSED(stmt, expect, what) \
	do { bool _e = STANDIN_CATCH(stmt); \
		 if (_e && strstr(standin_last_error, expect) == NULL) \
			 fprintf(stderr, "  %s: got: %s\n", what, standin_last_error); \
		 check(_e && strstr(standin_last_error, expect) != NULL, what); } while (0)

	FRESH();
	m->segments[1].groups[0].nfield_ids = 4;	/* [1, 2, 3, 4]: caption gone */
	m->segments[1].groups[0].nstats = 4;
	m->segments[0].groups[1].stats[0].null_count = 0;
	m->fields[4].nullable = false;
	REFUSED(manifest_validate(m, "u"), "segments[1].groups: no group holds field 5 (\"caption\"), which is not nullable",
			"a non-nullable field must be in every segment");

	FRESH();
	m->segments[1].ngroups = 0;
	m->fields[0].nullable = true;
	REFUSED(manifest_validate(m, "u"), "segments[1].groups: must hold 1 to 1600 groups", "a segment holds a group");

	FRESH();
	m->nindexes = 2;
	m->indexes = repalloc(m->indexes, sizeof(ManifestIndex) * 2);
	m->indexes[1] = m->indexes[0];
	REFUSED(manifest_validate(m, "u"), "indexes[1].name: index name \"clips_embedding_idx\" is used twice",
			"index names are unique");

	FRESH();
	m->properties[0].key = m->properties[1].key;
	REFUSED(manifest_validate(m, "u"), "properties.vlake.table: duplicate key", "property keys are unique (model)");

	FRESH();
	m->lineage.writer = "\xFF";
	REFUSED(manifest_validate(m, "u"), "lineage.writer: is not valid UTF-8", "strings of the model are UTF-8");

	FRESH();
	m->version = 0;
	REFUSED(enc = manifest_encode(m, NULL), "invalid vlake manifest \"(new manifest)\": version: must be in [1,",
			"encode validates first");
	(void) enc;

	FRESH();
	m->format_version = 4;
	REFUSED(manifest_validate(m, "u"), "cannot read vlake manifest \"u\": format_version: format_version 4 is not in [1, 3]",
			"the model's format_version");

	/* format 2: an object_ref field (field 5, a string held by a long_text
	 * group in the example) round-trips; format 1 cannot hold it */
	FRESH();
	m->fields[4].type = MANIFEST_T_OBJECT_REF;
	check(manifest_format_needed(m) == 2 && manifest_format_needed(c) == 1, "format needed: 2 with object_ref");
	REFUSED(manifest_validate(m, "u"), "type \"object_ref\" needs format_version 2", "object_ref in format 1");
	m->format_version = manifest_format_needed(m);
	{
		size_t		len2 = 0;
		Manifest   *back = NULL;

		check(!STANDIN_CATCH(enc = manifest_encode(m, &len2)) &&
			  !STANDIN_CATCH(back = manifest_decode(enc, len2, "u")) &&
			  back->format_version == 2 && back->fields[4].type == MANIFEST_T_OBJECT_REF &&
			  strstr(enc, "\"type\": \"object_ref\"") != NULL,
			  "format 2 with an object_ref field round-trips");
	}

	/* format 3: the object list of a group holding an object_ref field
	 * (segment 1's caption group) round-trips; format 2 cannot hold it, nor
	 * can a group without an object_ref field, and its count is bounded */
	{
		ManifestGroup *g = &m->segments[0].groups[1];
		ManifestObjects o = {"data/s00000001/caption.objects.parquet", 4321, "\"e1\"", 997};
		size_t		len3 = 0;
		Manifest   *back = NULL;

		g->objects = &o;
		check(manifest_format_needed(m) == 3, "format needed: 3 with an object list");
		REFUSED(manifest_validate(m, "u"), "segments[0].groups[1].objects: an object list needs format_version 3",
				"object list in format 2");
		m->format_version = 3;
		check(!STANDIN_CATCH(enc = manifest_encode(m, &len3)) &&
			  !STANDIN_CATCH(back = manifest_decode(enc, len3, "u")) &&
			  back->format_version == 3 && back->segments[0].groups[1].objects != NULL &&
			  strcmp(back->segments[0].groups[1].objects->path, o.path) == 0 &&
			  back->segments[0].groups[1].objects->size == 4321 &&
			  strcmp(back->segments[0].groups[1].objects->etag, "\"e1\"") == 0 &&
			  back->segments[0].groups[1].objects->count == 997 &&
			  back->segments[0].groups[0].objects == NULL &&
			  strstr(enc, "\"objects\": {") != NULL,
			  "format 3 with an object list round-trips");
		o.count = 1001;
		REFUSED(manifest_validate(m, "u"), "segments[0].groups[1].objects.count: ", "object list count above row_count");
		o.count = 1;
		o.path = "data/s00000001/caption.parquet";
		REFUSED(manifest_validate(m, "u"), "is named twice", "object list path named twice");
		o.path = "../x.parquet";
		REFUSED(manifest_validate(m, "u"), "segments[0].groups[1].objects.path: ", "object list path rules");
		o.path = "data/s00000001/caption.objects.parquet";
		g->objects = NULL;
		m->segments[0].groups[0].objects = &o;
		REFUSED(manifest_validate(m, "u"), "segments[0].groups[0].objects: only a group holding an object_ref field",
				"object list of a group without object_ref");
		m->segments[0].groups[0].objects = NULL;
	}

	/* successor rules */
	FRESH();
	c->version = 5;
	c->parent_version = 4;
	check(!STANDIN_CATCH(manifest_validate_successor(m, c, "u")), "version 5 follows version 4");
	c->version = 6;
	REFUSED(manifest_validate_successor(m, c, "u"), "version: is 6, the parent's is 4", "successor: version = parent + 1");
	FRESH();
	c->version = 5;
	c->dataset_id[0] = '7';
	REFUSED(manifest_validate_successor(m, c, "u"), "dataset_id: is 7f1c2a4e", "successor: same dataset");
	FRESH();
	c->version = 5;
	c->next_row_id = 1499;
	REFUSED(manifest_validate_successor(m, c, "u"), "next_row_id: decreased from 1500 to 1499", "successor: next_row_id");
	FRESH();
	c->version = 5;
	c->next_field_id = 8;
	REFUSED(manifest_validate_successor(m, c, "u"), "schema.next_field_id: decreased from 9 to 8", "successor: next_field_id");
	FRESH();
	c->version = 5;
	c->fields[1].id = 7;		/* 7 was dropped before version 4 */
	REFUSED(manifest_validate_successor(m, c, "u"), "schema.fields[1]: field id 7 was used by an earlier version",
			"successor: field ids are never reused");
	FRESH();
	c->version = 5;
	c->fields[5].dim = 512;
	REFUSED(manifest_validate_successor(m, c, "u"), "schema.fields[5]: field id 6 changed its type",
			"successor: a field keeps its type");
	standin_reset();
#undef FRESH
#undef REFUSED
}

/* ------------------------------------------------------------ hostile -- */

static void
test_hostile(void)
{
	char		what[96];
	int			raised = 0;

	/* every truncation: only dropping the final newline leaves a document */
	for (size_t n = 0; n < example_len; n++)
	{
		Manifest   *m;

		standin_reset();
		m = try_decode(example, n);
		if ((m != NULL) != (n == example_len - 1) ||
			standin_peak_allocated() > memory_bound(n))
		{
			snprintf(what, sizeof(what), "truncation to %zu bytes", n);
			check(false, what);
		}
		else
			checks++;
		raised += m == NULL;
	}
	printf("truncations: %zu, raised %d\n", example_len, raised);

	/* random mutations, fixed seed */
	{
		static const char interesting[] = "{}[]\",:0123456789-+.eE\\u \n\xC3\xA9\xFF\x80tfn";
		int			iters = getenv("MANIFEST_MUTATIONS") ? atoi(getenv("MANIFEST_MUTATIONS")) : 4000;
		char	   *buf = malloc(example_len + 16);

		rng_state = 12345;
		for (int it = 0; it < iters; it++)
		{
			size_t		len = example_len;
			int			nmut = 1 + rnd() % 4;

			memcpy(buf, example, example_len);
			for (int k = 0; k < nmut; k++)
			{
				size_t		pos = rnd() % len;
				int			op = rnd() % 4;
				char		ch = rnd() % 2 ? interesting[rnd() % (sizeof(interesting) - 1)] : (char) rnd();

				if (op == 0 && len < example_len + 15)
				{
					memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = ch;
					len++;
				}
				else if (op == 1 && len > 1)
				{
					memmove(buf + pos, buf + pos + 1, len - pos - 1);
					len--;
				}
				else
					buf[pos] = ch;
			}
			snprintf(what, sizeof(what), "mutation %d decodes or raises, within the memory bound", it);
			decode_or_raise(buf, len, what);
		}
		free(buf);
		printf("mutations: %d\n", iters);
	}

	/* deep nesting, at the root and inside a value */
	{
		int			depth = 100000;
		char	   *deep = malloc(depth * 2);
		size_t		len;
		char	   *doc;

		for (int i = 0; i < depth; i++)
		{
			deep[i] = '[';
			deep[depth * 2 - 1 - i] = ']';
		}
		standin_reset();
		check(try_decode(deep, depth * 2) == NULL &&
			  strstr(standin_last_error, "nesting deeper than 16 levels") != NULL,
			  "100,000 nested arrays refused");
		deep[50] = '\0';
		deep[49] = ']';
		standin_reset();
		doc = mutate(NULL, "\"media-ml\"", "[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]", &len);
		check(try_decode(doc, len) == NULL &&
			  strstr(standin_last_error, "properties.team[0][0][0]") != NULL &&
			  strstr(standin_last_error, "nesting deeper than 16 levels") != NULL,
			  "deep nesting in a value refused, with its path");
		free(deep);
		decode_or_raise("{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{", 36, "open objects");
	}

	/* inputs that are nothing like a manifest */
	{
		static const char *const junk[] = {"", " ", "null", "[]", "{}", "0", "\"x\"",
			"{\"format\": \"vlake.manifest\"}", "{\"format\": \"vlake.manifest\", \"format_version\": 1}",
			"{\"format\": \"vlake.manifest\", \"format_version\": 99}", "[1,2,3,]", "{\"a\":1,}",
		"{\"a\" 1}", "{1: 2}", "\xEF\xBB\xBF{}", "-0", "1e999999", "123456789012345678901234567890"};

		for (int i = 0; i < (int) lengthof(junk); i++)
		{
			snprintf(what, sizeof(what), "junk input %d raises", i);
			standin_reset();
			check(try_decode(junk[i], strlen(junk[i])) == NULL, what);
		}
		standin_reset();
		try_decode(junk[9], strlen(junk[9]));
		check(strstr(standin_last_error, "cannot read vlake manifest") != NULL &&
			  strstr(standin_last_error, "format_version 99 is newer") != NULL,
			  "a newer format_version is LAKE_UNSUPPORTED, checked before the keys");
	}

	/* a document over the size limit is refused before parsing */
	{
		standin_reset();
		check(STANDIN_CATCH(manifest_decode("{}", MANIFEST_MAX_BYTES + 1, "big")) &&
			  strstr(standin_last_error, "more than the limit") != NULL,
			  "documents over 64 MiB refused");
	}

	/* memory: long arrays of tiny values stay within the bound */
	{
		StringInfoData s;
		static const char *const unit[] = {"1,", "[],", "{},", "\"\",", "[1],", "{\"a\":[]},"};

		for (int u = 0; u < (int) lengthof(unit); u++)
		{
			initStringInfo(&s);
			appendStringInfoString(&s, "[");
			while (s.len < 200000)
				appendStringInfoString(&s, unit[u]);
			appendStringInfoString(&s, "0]");
			snprintf(what, sizeof(what), "200 kB array of %s within the memory bound", unit[u]);
			{
				char	   *copy = malloc(s.len);
				size_t		len = s.len;

				memcpy(copy, s.data, len);
				standin_reset();
				check(try_decode(copy, len) == NULL &&
					  standin_peak_allocated() <= memory_bound(len), what);
				if (getenv("VERBOSE"))
					printf("   peak %zu for %zu bytes\n", standin_peak_allocated(), len);
				free(copy);
			}
		}
		standin_reset();
	}
}

int
main(int argc, char **argv)
{
	char		outbuf[1024];

	src_dir = getenv("VLAKE_SRC") ? getenv("VLAKE_SRC") : ".";

	if (argc == 3 && strcmp(argv[1], "--canon") == 0)
	{
		size_t		len;
		char	   *in;
		FILE	   *f = fopen(argv[2], "rb");
		Manifest   *m;
		char	   *out;

		if (!f)
			return 2;
		in = malloc(MANIFEST_MAX_BYTES);
		len = fread(in, 1, MANIFEST_MAX_BYTES, f);
		fclose(f);
		m = try_decode(in, len);
		if (!m)
		{
			fprintf(stderr, "%s\n", standin_last_error);
			return 1;
		}
		out = manifest_encode(m, &len);
		fwrite(out, 1, len, stdout);
		return 0;
	}

	example = read_whole("test/data/manifest/example.json", &example_len);
	snprintf(outbuf, sizeof(outbuf), "%s/manifest_docs",
			 getenv("VLAKE_TEST_WORK") ? getenv("VLAKE_TEST_WORK") : "build");
	mkdir(outbuf, 0777);
	out_dir = access(outbuf, W_OK) == 0 ? outbuf : NULL;

	test_keys();
	test_example();
	test_round_trip();
	test_rules();
	test_model_rules();
	test_hostile();

	printf("unit_manifest: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
