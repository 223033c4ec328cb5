/*
 * fuzz_fts_postings.c — libFuzzer harness for the reader of the BM25
 * postings image (src/fulltext/fts_postings.c, docs/bm25-format.md).
 *
 * The first input byte is a mode, the rest the data:
 *   bit 0: recompute the header and section CRCs before opening, so that
 *          mutations reach the structural checks behind them;
 *   bit 1: open with FTSP_OPEN_VALIDATE_ALL (else lists are checked on
 *          their first open_term);
 *   bit 2: the data are documents, not an image: build them, and the
 *          image must open with every list valid; then merge it with
 *          itself dropping the documents the data's bits say, and that
 *          image must open too.
 * A refused image is a normal outcome.  A failure is a crash, a sanitizer
 * report, a leak, or a broken promise of an image that opened: every
 * cursor yields df postings with doc ids increasing below N, f >= 0 and
 * positions increasing and in the index's fields; shallow() at a posting
 * gives a block that holds it with a bound >= its contribution; doclen and
 * doc_ref answer for every posting's document.
 * With VLAKE_FUZZ_SEED_DIR set, a few valid images (mode 3) are written
 * there first, as seeds.
 * Build: make build/bin/fuzz_fts_postings.  Run: build/bin/unit_fuzz_fts_postings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fulltext/fts_postings.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int			LLVMFuzzerInitialize(int *argc, char ***argv);

static void *
f_alloc(void *arg, size_t n)
{
	return malloc(n);
}

static void *
f_realloc(void *arg, void *p, size_t old, size_t n)
{
	return realloc(p, n);
}

static void
f_free(void *arg, void *p)
{
	free(p);
}

static const FtsAlloc falloc = {f_alloc, f_realloc, f_free, NULL};

/* CRC-32C, byte-table form (the harness's own, not the engine's) */
static uint32_t
crc32c(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	uint32_t	crc = 0xFFFFFFFFu;

	if (table[1] == 0)
		for (uint32_t i = 0; i < 256; i++)
		{
			uint32_t	c = i;

			for (int k = 0; k < 8; k++)
				c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
			table[i] = c;
		}
	for (size_t i = 0; i < n; i++)
		crc = (crc >> 8) ^ table[(crc ^ p[i]) & 0xff];
	return crc ^ 0xFFFFFFFFu;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t) rd32(p) | (uint64_t) rd32(p + 4) << 32;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void
fix_crcs(uint8_t *img, size_t size)
{
	uint32_t	hsize;

	if (size < 168)
		return;
	for (int s = 0; s < 4; s++)
	{
		uint64_t	o = rd64(img + 64 + 24 * s),
					n = rd64(img + 64 + 24 * s + 8);

		if (o <= size && n <= size - o)
			wr32(img + 64 + 24 * s + 16, crc32c(img + o, n));
	}
	hsize = rd32(img + 12);
	if (hsize >= 168 && hsize <= size)
		wr32(img + hsize - 4, crc32c(img, hsize - 4));
}

static void
broken(const char *what)
{
	fprintf(stderr, "broken promise: %s\n", what);
	abort();
}

/* Walk every list of an image that opened. */
static void
walk(FtsPostingsReader *r)
{
	FtsSource  *s = fts_postings_source(r);
	FtsBm25		p = {1.2, 0.75, FTS_IDF_FTS5, (double) (s->ndocs ? s->ndocs : 1),
	s->ndocs && s->ntokens > 0 ? s->ntokens / s->ndocs : 1.0};

	for (uint64_t t = 0; t < fts_postings_nterms(r); t++)
	{
		size_t		len;
		uint64_t	df,
					n = 0;
		const char *term = fts_postings_term(r, t, &len, &df);
		FtsCursor  *c;
		double		idf = fts_bm25_idf(&p, (double) df);
		bool		first = true;
		uint64_t	prev = 0;

		if (s->term_df(s, term, len) != df)
			broken("term_df differs from the dictionary");
		c = s->open_term(s, term, len, &p, idf);
		if (!c)
		{
			if (fts_postings_reader_error(r)->code != FTSP_CORRUPT)
				broken("a list refused without FTSP_CORRUPT");
			continue;
		}
		while (c->next(c, first ? 0 : c->doc + 1))
		{
			const uint32_t *pos;
			int			np = c->positions(c, &pos);
			uint64_t	last;
			double		bound,
						dl;

			if ((!first && c->doc <= prev) || c->doc >= s->ndocs)
				broken("doc ids not increasing below N");
			if (!(c->f >= 0))
				broken("a negative f");
			if (np <= 0)
				broken("a posting without positions");
			for (int i = 0; i < np; i++)
				if ((i > 0 && pos[i] <= pos[i - 1]) || FTS_POSITION_FIELD(pos[i]) >= (uint32_t) s->nfields)
					broken("positions not increasing or in a field the index lacks");
			dl = s->doclen(s, c->doc);
			(void) s->doc_ref(s, c->doc);
			if (!c->shallow(c, c->doc, &last, &bound) || last < c->doc)
				broken("shallow() misses a posting's block");
			if (fts_bm25_term(&p, idf, c->f, dl) > bound || bound > c->max_bound)
				broken("a bound below a contribution");
			prev = c->doc;
			first = false;
			n++;
		}
		if (n != df)
			broken("a list with other than df postings");
	}
}

/* Documents from bytes: per document a token count, then per token 1 byte of term and 1 of position step. */
static uint8_t *
build_from(const uint8_t *d, size_t n, size_t *size)
{
	FtsPostingsError err;
	double		w[3] = {2.0, 1.0, 0.5};
	int			nfields = n ? 1 + d[0] % 3 : 1;
	FtsPostingsBuilder *b = fts_postings_builder_create(&falloc, nfields, w, 0, &err);
	uint8_t    *img = NULL;
	size_t		i = 1;

	if (!b)
		broken("builder create");
	while (i < n)
	{
		int			ntok = d[i++] % 40;
		uint32_t	pos[3] = {0, 0, 0};
		uint32_t	len = 0;

		if (fts_postings_begin_doc(b, (uint64_t) i * 2654435761u, &err) != FTSP_OK)
			broken("begin_doc");
		for (int k = 0; k < ntok && i + 1 < n; k++, i += 2)
		{
			char		term[2] = {(char) ('a' + d[i] % 16), (char) d[i]};
			uint32_t	fld = (d[i + 1] >> 4) % nfields;

			pos[fld] += 1 + (d[i + 1] & 3);
			len++;
			if (fts_postings_add_token(b, term, 1 + (d[i] >> 7), FTS_POSITION(fld, pos[fld]), &err) != FTSP_OK)
				broken(err.message);
		}
		if (fts_postings_end_doc(b, len, &err) != FTSP_OK)
			broken("end_doc");
	}
	if (fts_postings_builder_finish(b, &img, size, &err) != FTSP_OK)
		broken(err.message);
	fts_postings_builder_free(b);
	return img;
}

typedef struct DelBits
{
	const uint8_t *d;
	size_t		n;
} DelBits;

static bool
del_bit(void *arg, int input, uint64_t doc)
{
	DelBits    *b = arg;
	uint64_t	bit = doc * 2 + (uint64_t) input;

	return b->n && (b->d[(bit / 8) % b->n] >> (bit % 8)) & 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FtsPostingsError err;
	FtsPostingsReader *r;
	uint8_t    *img;
	size_t		n;
	int			mode;

	if (size < 1)
		return 0;
	mode = data[0];
	if (mode & 4)
	{
		FtsPostingsReader *in[2];
		uint8_t    *merged = NULL;
		size_t		msize;
		DelBits		bits = {data + 1, size - 1};

		img = build_from(data + 1, size - 1, &n);
		r = fts_postings_open(&falloc, img, n, FTSP_OPEN_VALIDATE_ALL, &err);
		if (!r)
			broken(err.message);
		walk(r);
		in[0] = in[1] = r;
		if (fts_postings_merge(&falloc, in, 2, del_bit, &bits, 0, &merged, &msize, &err) != FTSP_OK)
			broken(err.message);
		fts_postings_close(r);
		r = fts_postings_open(&falloc, merged, msize, FTSP_OPEN_VALIDATE_ALL, &err);
		if (!r)
			broken(err.message);
		walk(r);
		fts_postings_close(r);
		free(merged);
		free(img);
		return 0;
	}
	n = size - 1;
	img = malloc(n ? n : 1);
	memcpy(img, data + 1, n);
	if (mode & 1)
		fix_crcs(img, n);
	r = fts_postings_open(&falloc, img, n, (mode & 2) ? FTSP_OPEN_VALIDATE_ALL : 0, &err);
	if (r)
	{
		walk(r);
		fts_postings_close(r);
	}
	else if (err.code != FTSP_CORRUPT && err.code != FTSP_VERSION)
		broken("an image refused without FTSP_CORRUPT or FTSP_VERSION");
	free(img);
	return 0;
}

/* Seeds: a few small valid images (mode 3). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("VLAKE_FUZZ_SEED_DIR");

	if (!dir)
		return 0;
	for (int s = 0; s < 4; s++)
	{
		uint8_t		docs[600];
		uint32_t	x = 12345 + s;
		size_t		n;
		uint8_t    *img;
		char		path[4096];
		FILE	   *f;

		for (size_t i = 0; i < sizeof(docs); i++)
		{
			x = x * 1103515245u + 12345u;
			docs[i] = (uint8_t) (x >> 16);
		}
		docs[0] = (uint8_t) s;
		img = build_from(docs, (size_t) 60 + 180 * s, &n);
		snprintf(path, sizeof(path), "%s/seed%d", dir, s);
		f = fopen(path, "wb");
		if (f)
		{
			fputc(3, f);
			fwrite(img, 1, n, f);
			fclose(f);
		}
		free(img);
	}
	return 0;
}
