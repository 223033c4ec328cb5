/*
 * unit_lake_delvec.c — unit test of delete vectors (src/lake/lake_delvec.c),
 * run without a server (test/fuzz/pg_standin.c).
 *
 * Oracles:
 *  - a sorted, de-duplicated array of the same row IDs (built independently
 *    of the bitmaps) for cardinality, contains, iteration order, union and
 *    round trips, over empty, sparse, dense, run-heavy and mixed sets that
 *    span several 2^32 buckets, up to row IDs around 2^63 and 2^64 - 1;
 *  - bytes written by hand from the RoaringFormatSpec
 *    (https://github.com/RoaringBitmap/RoaringFormatSpec: "Standard 32-bit
 *    Roaring Bitmap" and "Extension for 64-bit implementations"), not by
 *    our writer;
 *  - hostile input: every truncation, bounded random mutations (fixed
 *    seed), huge bucket counts, unsorted and duplicate highs, bad
 *    containers — each must deserialize into a self-consistent set or raise
 *    an ERROR naming the object and a byte offset; never crash (scripts run
 *    it once under valgrind).
 *
 *   unit_lake_delvec                   the tests
 *   unit_lake_delvec --samples DIR     also writes DIR/<name>.bin (a delete
 *                                      vector) and DIR/<name>.txt (its row
 *                                      IDs, one per line) for the
 *                                      independent reader in
 *                                      test/tools/delvec_roaring.mjs
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake/lake_delvec.h"
#include "pg_standin.h"

static int	failures = 0;
static int	checks = 0;

#define CHECK(cond) do { checks++; if (!(cond)) { failures++; \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

/* xorshift64*: fixed seeds, same sequence everywhere */
static uint64 rng_state = 0x9E3779B97F4A7C15ULL;
static uint64
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* ------------------------------------------------------------ oracle ---- */

typedef struct Oracle
{
	uint64	   *v;
	size_t		n;
	size_t		cap;
} Oracle;

static void
or_add(Oracle *o, uint64 x)
{
	if (o->n == o->cap)
	{
		o->cap = o->cap ? o->cap * 2 : 1024;
		o->v = realloc(o->v, o->cap * sizeof(uint64));
	}
	o->v[o->n++] = x;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a,
				y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

static void
or_finish(Oracle *o)
{
	size_t		j = 0;

	qsort(o->v, o->n, sizeof(uint64), cmp_u64);
	for (size_t i = 0; i < o->n; i++)
		if (j == 0 || o->v[i] != o->v[j - 1])
			o->v[j++] = o->v[i];
	o->n = j;
}

static bool
or_contains(const Oracle *o, uint64 x)
{
	return bsearch(&x, o->v, o->n, sizeof(uint64), cmp_u64) != NULL;
}

/* A test set: built into the delete vector and the oracle side by side. */
typedef struct Sample
{
	const char *name;
	LakeDelvec *dv;
	Oracle		o;
} Sample;

static void
s_add(Sample *s, uint64 x)
{
	lake_delvec_add(s->dv, x);
	or_add(&s->o, x);
}

static void
s_range(Sample *s, uint64 start, uint64 end)
{
	lake_delvec_add_range(s->dv, start, end);
	for (uint64 x = start; x < end; x++)
		or_add(&s->o, x);
}

#define B(h) ((uint64) (h) << 32)

static void
build(Sample *s, int which)
{
	s->dv = lake_delvec_create();
	memset(&s->o, 0, sizeof(s->o));
	switch (which)
	{
		case 0:
			s->name = "empty";
			break;
		case 1:
			s->name = "single";
			s_add(s, 0);
			break;
		case 2:
			s->name = "sparse";
			/* a few random row IDs in each of several buckets, to 2^64-1 */
			{
				static const uint64 highs[] = {0, 1, 2, 7, 1000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF};

				for (int h = 0; h < lengthof(highs); h++)
					for (int k = 0; k < 300; k++)
						s_add(s, B(highs[h]) | (uint32) rnd());
				s_add(s, (UINT64CONST(1) << 63) - 1);
				s_add(s, UINT64CONST(1) << 63);
				s_add(s, PG_UINT64_MAX);
				s_add(s, B(1) - 1);
			}
			break;
		case 3:
			s->name = "dense";
			/* every row of a range crossing a bucket boundary, plus one
			 * just below 2^63 */
			s_range(s, B(1) - 100000, B(1) + 100000);
			s_range(s, (UINT64CONST(1) << 63) - 70000, UINT64CONST(1) << 63);
			break;
		case 4:
			s->name = "mixed";
			/* every other row (bitset containers), short runs, random
			 * singles, in buckets 0, 3 and 2^31 - 1 */
			for (uint64 x = 0; x < 200000; x += 2)
				s_add(s, x);
			for (int r = 0; r < 200; r++)
			{
				uint64		st = B(3) + (rnd() % 100000000);

				s_range(s, st, st + 1 + rnd() % 300);
			}
			for (int k = 0; k < 5000; k++)
				s_add(s, B(0x7FFFFFFF) + (rnd() % 1000000));
			break;
		case 5:
			s->name = "random";
			/* 50,000 row IDs uniform over 2^36 (16 buckets) */
			for (int k = 0; k < 50000; k++)
				s_add(s, rnd() >> 28);
			break;
	}
	or_finish(&s->o);
}
#define NSAMPLES 6

/* Equal to the oracle: cardinality, iteration (one by one and in chunks),
 * contains of every member and of random probes. */
static void
check_equal(const LakeDelvec *dv, const Oracle *o, const char *name)
{
	LakeDelvecIter *it;
	uint64		x;
	size_t		i = 0;
	bool		ok = true;
	uint64	   *buf;
	size_t		got,
				chunk;

	CHECK(lake_delvec_cardinality(dv) == o->n);
	CHECK(lake_delvec_is_empty(dv) == (o->n == 0));

	it = lake_delvec_iter_begin(dv);
	while (lake_delvec_iter_next(it, &x))
	{
		if (i >= o->n || o->v[i] != x)
		{
			ok = false;
			break;
		}
		i++;
	}
	lake_delvec_iter_end(it);
	CHECK(ok && i == o->n);

	/* chunks of odd sizes, smaller and larger than the internal buffer */
	buf = palloc(sizeof(uint64) * 3000);
	i = 0;
	ok = true;
	chunk = 1;
	it = lake_delvec_iter_begin(dv);
	while ((got = lake_delvec_iter_next_many(it, buf, chunk)) > 0)
	{
		for (size_t k = 0; k < got; k++, i++)
			if (i >= o->n || o->v[i] != buf[k])
				ok = false;
		chunk = (chunk * 7 + 3) % 2999 + 1;
	}
	lake_delvec_iter_end(it);
	pfree(buf);
	CHECK(ok && i == o->n);

	ok = true;
	for (size_t k = 0; k < o->n; k++)
		if (!lake_delvec_contains(dv, o->v[k]))
			ok = false;
	for (int k = 0; k < 20000; k++)
	{
		uint64		p = (k % 2) ? rnd() : (o->n ? o->v[rnd() % o->n] + (rnd() % 5) - 2 : rnd());

		if (lake_delvec_contains(dv, p) != or_contains(o, p))
			ok = false;
	}
	CHECK(ok);
	if (!ok || lake_delvec_cardinality(dv) != o->n)
		fprintf(stderr, "  (sample %s)\n", name);
}

/* ---------------------------------------------------------- the tests ---- */

static void
test_samples(const char *samples_dir)
{
	for (int w = 0; w < NSAMPLES; w++)
	{
		Sample		s;
		char	   *bytes,
				   *bytes2;
		size_t		len,
					len2;
		LakeDelvec *back;

		build(&s, w);
		check_equal(s.dv, &s.o, s.name);

		/* round trip; the second serialization is byte-identical */
		bytes = lake_delvec_serialize(s.dv, &len);
		check_equal(s.dv, &s.o, s.name);	/* run-optimizing changed nothing */
		back = lake_delvec_deserialize(bytes, len, "mem://sample");
		check_equal(back, &s.o, s.name);
		bytes2 = lake_delvec_serialize(back, &len2);
		CHECK(len2 == len && memcmp(bytes, bytes2, len) == 0);
		printf("  %-8s %9zu row IDs -> %8zu bytes\n", s.name, s.o.n, len);

		if (samples_dir)
		{
			char		path[1024];
			FILE	   *f;

			snprintf(path, sizeof(path), "%s/%s.bin", samples_dir, s.name);
			f = fopen(path, "wb");
			CHECK(f && fwrite(bytes, 1, len, f) == len && fclose(f) == 0);
			snprintf(path, sizeof(path), "%s/%s.txt", samples_dir, s.name);
			f = fopen(path, "w");
			CHECK(f != NULL);
			for (size_t k = 0; f && k < s.o.n; k++)
				fprintf(f, "%llu\n", (unsigned long long) s.o.v[k]);
			CHECK(f && fclose(f) == 0);
		}

		/* union: two random halves give the whole; union with self and
		 * with an empty vector changes nothing */
		{
			LakeDelvec *a = lake_delvec_create();
			LakeDelvec *b = lake_delvec_create();
			LakeDelvec *e = lake_delvec_create();

			for (size_t k = 0; k < s.o.n; k++)
				lake_delvec_add((rnd() & 1) ? a : b, s.o.v[k]);
			lake_delvec_union(a, b);
			check_equal(a, &s.o, s.name);
			lake_delvec_union(a, a);
			lake_delvec_union(a, e);
			lake_delvec_union(e, a);
			check_equal(a, &s.o, s.name);
			check_equal(e, &s.o, s.name);
			lake_delvec_free(a);
			lake_delvec_free(b);
			lake_delvec_free(e);
		}

		lake_delvec_free(back);
		lake_delvec_free(s.dv);
		/* a freed vector is empty and usable */
		CHECK(lake_delvec_cardinality(s.dv) == 0);
		lake_delvec_add(s.dv, 42);
		CHECK(lake_delvec_contains(s.dv, 42));
		free(s.o.v);
		standin_reset();		/* runs the reset callback: frees s.dv's bitmap */
	}
}

/* add_range edge cases against the oracle. */
static void
test_ranges(void)
{
	LakeDelvec *dv = lake_delvec_create();

	lake_delvec_add_range(dv, 10, 10);	/* empty */
	lake_delvec_add_range(dv, 10, 5);	/* empty */
	CHECK(lake_delvec_is_empty(dv));
	lake_delvec_add_range(dv, PG_UINT64_MAX - 3, PG_UINT64_MAX);	/* to 2^64 - 2 */
	CHECK(lake_delvec_cardinality(dv) == 3);
	CHECK(!lake_delvec_contains(dv, PG_UINT64_MAX));
	CHECK(lake_delvec_contains(dv, PG_UINT64_MAX - 1));
	/* a range over three whole buckets and two partial ones */
	lake_delvec_add_range(dv, B(5) - 1, B(8) + 1);
	CHECK(lake_delvec_cardinality(dv) == 3 + 2 + 3 * B(1));
	CHECK(lake_delvec_contains(dv, B(7) + 0xFFFFFFFFu));
	CHECK(!lake_delvec_contains(dv, B(8) + 1));
	/* a range too wide for the bucket limit raises */
	CHECK(STANDIN_CATCH(lake_delvec_add_range(dv, 0, UINT64CONST(1) << 63)));
	standin_reset();
}

/*
 * Bytes written by hand from the RoaringFormatSpec, for the set
 * {5, 1000, 2^32 + 7, 5 * 2^32 + [0, 100)}: uint64 bucket count, then per
 * bucket uint32 high bits + a 32-bit portable bitmap.  Buckets 0 and 1 are
 * array containers (cookie 12346 = 0x303A, container count, descriptive
 * header key/card-1, offset header, values); bucket 5 is one run container
 * (cookie 12347 = 0x303B with count-1 = 0 in the high 16 bits, run flags,
 * descriptive header, no offsets under 4 containers, nruns, start/len-1).
 */
static const uint8 spec_bytes[] = {
	0x03, 0, 0, 0, 0, 0, 0, 0,	/* 3 buckets */
	0x00, 0, 0, 0,				/* high 0 */
	0x3A, 0x30, 0, 0, 0x01, 0, 0, 0,	/* cookie, 1 container */
	0x00, 0x00, 0x01, 0x00,		/* key 0, cardinality 2 */
	0x10, 0, 0, 0,				/* container 0 at byte 16 */
	0x05, 0x00, 0xE8, 0x03,		/* 5, 1000 */
	0x01, 0, 0, 0,				/* high 1 */
	0x3A, 0x30, 0, 0, 0x01, 0, 0, 0,
	0x00, 0x00, 0x00, 0x00,		/* key 0, cardinality 1 */
	0x10, 0, 0, 0,
	0x07, 0x00,					/* 7 */
	0x05, 0, 0, 0,				/* high 5 */
	0x3B, 0x30, 0x00, 0x00,		/* cookie with runs, 1 container */
	0x01,						/* container 0 is a run container */
	0x00, 0x00, 0x63, 0x00,		/* key 0, cardinality 100 */
	0x01, 0x00,					/* 1 run */
	0x00, 0x00, 0x63, 0x00		/* from 0, 99 more */
};

static void
test_spec_bytes(void)
{
	LakeDelvec *dv = lake_delvec_create();
	Oracle		o = {0};
	char	   *bytes;
	size_t		len;
	LakeDelvec *back;

	lake_delvec_add(dv, 1000);
	lake_delvec_add(dv, 5);
	lake_delvec_add(dv, B(1) + 7);
	lake_delvec_add_range(dv, B(5), B(5) + 100);
	bytes = lake_delvec_serialize(dv, &len);
	CHECK(len == sizeof(spec_bytes) && memcmp(bytes, spec_bytes, len) == 0);

	or_add(&o, 5);
	or_add(&o, 1000);
	or_add(&o, B(1) + 7);
	for (int k = 0; k < 100; k++)
		or_add(&o, B(5) + k);
	back = lake_delvec_deserialize((const char *) spec_bytes, sizeof(spec_bytes), "mem://spec");
	check_equal(back, &o, "spec");

	/* an empty vector is the 8-byte count 0 */
	{
		LakeDelvec *e = lake_delvec_create();
		static const char zero[8] = {0};

		bytes = lake_delvec_serialize(e, &len);
		CHECK(len == 8 && memcmp(bytes, zero, 8) == 0);
		CHECK(lake_delvec_is_empty(lake_delvec_deserialize(zero, 8, "mem://zero")));
	}

	/* another writer's empty bucket (cookie 12346, 0 containers) is read
	 * and dropped: {high 1: empty, high 2: {7}} */
	{
		static const uint8 with_empty[] = {
			0x02, 0, 0, 0, 0, 0, 0, 0,
			0x01, 0, 0, 0, 0x3A, 0x30, 0, 0, 0, 0, 0, 0,
			0x02, 0, 0, 0, 0x3A, 0x30, 0, 0, 0x01, 0, 0, 0,
			0x00, 0x00, 0x00, 0x00, 0x10, 0, 0, 0, 0x07, 0x00
		};
		LakeDelvec *d = lake_delvec_deserialize((const char *) with_empty,
												sizeof(with_empty), "mem://e");

		CHECK(lake_delvec_cardinality(d) == 1 && lake_delvec_contains(d, B(2) + 7));
		bytes = lake_delvec_serialize(d, &len);
		CHECK(len == 8 + 4 + 18 && bytes[0] == 1);
	}
	free(o.v);
	standin_reset();
}

/* Deserialize; on success the result must be self-consistent. */
static bool
try_parse(const char *buf, size_t len, bool *consistent)
{
	LakeDelvec *volatile dv = NULL;
	bool		err;

	*consistent = true;
	err = STANDIN_CATCH(dv = lake_delvec_deserialize(buf, len, "mem://hostile"));
	if (err)
	{
		/* the message names the object and a byte offset */
		if (strstr(standin_last_error, "mem://hostile") == NULL ||
			(strstr(standin_last_error, "byte offset") == NULL &&
			 strstr(standin_last_error, "buckets (at most") == NULL))
		{
			fprintf(stderr, "  unexpected message: %s\n", standin_last_error);
			*consistent = false;
		}
		return false;
	}
	else
	{
		LakeDelvecIter *it = lake_delvec_iter_begin(dv);
		uint64		x,
					prev = 0,
					n = 0;
		bool		ok = true;
		char	   *again;
		size_t		alen;
		LakeDelvec *back;

		while (lake_delvec_iter_next(it, &x))
		{
			if ((n > 0 && x <= prev) || !lake_delvec_contains(dv, x))
				ok = false;
			prev = x;
			n++;
		}
		if (n != lake_delvec_cardinality(dv))
			ok = false;
		/* what we read, we write and read back identically */
		again = lake_delvec_serialize(dv, &alen);
		if (STANDIN_CATCH(back = lake_delvec_deserialize(again, alen, "mem://again")))
			ok = false;
		else if (lake_delvec_cardinality(back) != n)
			ok = false;
		*consistent = ok;
		return true;
	}
}

static void
put64(uint8 *p, uint64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8) (v >> (8 * i));
}

static void
test_hostile(void)
{
	Sample		s;
	char	   *good;
	size_t		len;
	bool		consistent;
	int			accepted = 0,
				raised = 0,
				inconsistent = 0;
	uint8	   *m;

	/* a small vector with array, bitset and run containers in 3 buckets,
	 * 4+ containers in one bitmap (offset header with runs) */
	s.dv = lake_delvec_create();
	memset(&s.o, 0, sizeof(s.o));
	for (uint64 x = 0; x < 12000; x += 2)
		s_add(&s, x);			/* bitset */
	s_range(&s, 70000, 70100);	/* run */
	s_add(&s, 140000);			/* array */
	s_add(&s, 200000);			/* array */
	s_add(&s, B(1) + 3);
	s_add(&s, B(1) + 9);
	s_range(&s, B(0x7FFFFFFF) + 5, B(0x7FFFFFFF) + 50);
	or_finish(&s.o);
	good = lake_delvec_serialize(s.dv, &len);
	CHECK(try_parse(good, len, &consistent) && consistent);
	good = memcpy(malloc(len), good, len);
	standin_reset();

	/* every truncation raises */
	for (size_t cut = 0; cut < len; cut++)
	{
		char	   *b = malloc(cut + 1);	/* exact size: valgrind sees overreads */

		memcpy(b, good, cut);
		CHECK(!try_parse(b, cut, &consistent) && consistent);
		free(b);
		standin_reset();
	}
	/* a trailing byte raises */
	m = malloc(len + 1);
	memcpy(m, good, len);
	m[len] = 0;
	CHECK(!try_parse((char *) m, len + 1, &consistent));
	free(m);

	/* bounded random mutations: 1-4 bytes changed, or a byte set to an
	 * edge value; accepted ones must be self-consistent */
	rng_state = 12345;
	m = malloc(len);
	for (int t = 0; t < 6000; t++)
	{
		int			nb = 1 + rnd() % 4;

		memcpy(m, good, len);
		for (int k = 0; k < nb; k++)
		{
			size_t		at = (rnd() % 4 == 0) ? rnd() % Min(len, 64) : rnd() % len;
			static const uint8 edge[] = {0x00, 0xFF, 0x01, 0x80, 0x7F};

			m[at] = (rnd() & 1) ? (uint8) rnd() : edge[rnd() % lengthof(edge)];
		}
		if (try_parse((char *) m, len, &consistent))
			accepted++;
		else
			raised++;
		if (!consistent)
			inconsistent++;
		standin_reset();
	}
	CHECK(inconsistent == 0);
	CHECK(raised > 0);
	printf("  mutations: %d accepted (self-consistent), %d raised\n", accepted, raised);

	/* huge and impossible bucket counts */
	{
		static const uint64 counts[] = {PG_UINT64_MAX, UINT64CONST(1) << 40, 1u << 23, 4, 1000000};

		memcpy(m, good, len);
		for (int k = 0; k < lengthof(counts); k++)
		{
			put64(m, counts[k]);
			CHECK(!try_parse((char *) m, len, &consistent) && consistent);
			standin_reset();
		}
	}

	/* unsorted and duplicate highs: {high 2: {7}, high 1: {7}} and {1, 1} */
	{
		uint8		b[] = {
			0x02, 0, 0, 0, 0, 0, 0, 0,
			0x02, 0, 0, 0, 0x3A, 0x30, 0, 0, 0x01, 0, 0, 0,
			0x00, 0x00, 0x00, 0x00, 0x10, 0, 0, 0, 0x07, 0x00,
			0x01, 0, 0, 0, 0x3A, 0x30, 0, 0, 0x01, 0, 0, 0,
			0x00, 0x00, 0x00, 0x00, 0x10, 0, 0, 0, 0x07, 0x00
		};

		CHECK(!try_parse((char *) b, sizeof(b), &consistent) && consistent);
		CHECK(strstr(standin_last_error, "byte offset 30") != NULL);
		b[8] = 0x01;
		CHECK(!try_parse((char *) b, sizeof(b), &consistent) && consistent);
		b[30] = 0x03;			/* sorted again */
		CHECK(try_parse((char *) b, sizeof(b), &consistent) && consistent);
		standin_reset();
	}

	/* bad containers, each alone in bucket 0 */
	{
		/* bitset container whose header cardinality (4097) is not its
		 * population count (4098) */
		size_t		n = 8 + 4 + 16 + 8192;
		uint8	   *b = calloc(1, n);

		put64(b, 1);
		b[12] = 0x3A;
		b[13] = 0x30;
		b[16] = 1;				/* 1 container */
		b[22] = 0x00;
		b[23] = 0x10;			/* card - 1 = 4096 */
		b[24] = 16;				/* offset */
		memset(b + 28, 0xFF, 4096 / 8);
		b[28 + 4096 / 8] = 0x03;	/* 4098 bits */
		CHECK(!try_parse((char *) b, n, &consistent) && consistent);
		CHECK(strstr(standin_last_error, "bits set") != NULL);
		b[28 + 4096 / 8] = 0x01;	/* 4097: valid */
		CHECK(try_parse((char *) b, n, &consistent) && consistent);
		free(b);
		standin_reset();
	}
	{
		/* run containers: overlapping runs, a run past 65535, a wrong
		 * header cardinality */
		uint8		b[] = {
			0x01, 0, 0, 0, 0, 0, 0, 0, 0x00, 0, 0, 0,
			0x3B, 0x30, 0x00, 0x00, 0x01,	/* runs, 1 container */
			0x00, 0x00, 0x09, 0x00, /* key 0, card 10 */
			0x02, 0x00,			/* 2 runs */
			0x00, 0x00, 0x04, 0x00, /* 0..4 */
			0x05, 0x00, 0x04, 0x00	/* 5..9 (adjacent: valid) */
		};

		CHECK(try_parse((char *) b, sizeof(b), &consistent) && consistent);
		b[27] = 0x04;			/* 4..8: overlaps */
		CHECK(!try_parse((char *) b, sizeof(b), &consistent) && consistent);
		b[27] = 0xFE;
		b[28] = 0xFF;			/* 65534 + 5 */
		CHECK(!try_parse((char *) b, sizeof(b), &consistent) && consistent);
		b[27] = 0x05;
		b[28] = 0x00;
		b[19] = 0x0A;			/* card 11 */
		CHECK(!try_parse((char *) b, sizeof(b), &consistent) && consistent);
		CHECK(strstr(standin_last_error, "in its runs") != NULL);
		standin_reset();
	}
	{
		/* array values not ascending; a wrong offset; a bad cookie */
		uint8		b[] = {
			0x01, 0, 0, 0, 0, 0, 0, 0, 0x00, 0, 0, 0,
			0x3A, 0x30, 0, 0, 0x01, 0, 0, 0,
			0x00, 0x00, 0x01, 0x00, 0x10, 0, 0, 0,
			0x07, 0x00, 0x05, 0x00
		};

		CHECK(!try_parse((char *) b, sizeof(b), &consistent) && consistent);
		CHECK(strstr(standin_last_error, "byte offset 30") != NULL);
		b[28] = 0x03;
		CHECK(try_parse((char *) b, sizeof(b), &consistent) && consistent);
		b[24] = 0x11;
		CHECK(!try_parse((char *) b, sizeof(b), &consistent) && consistent);
		b[24] = 0x10;
		b[12] = 0x3C;
		CHECK(!try_parse((char *) b, sizeof(b), &consistent) && consistent);
		CHECK(strstr(standin_last_error, "cookie") != NULL);
		standin_reset();
	}
	free(m);
	free(good);
	free(s.o.v);
}

/* Sizes of a few typical delete vectors (informational). */
static void
report_sizes(void)
{
	struct
	{
		const char *what;
		LakeDelvec *dv;
	}			c[4];
	char	   *bytes;
	size_t		len;

	rng_state = 777;
	c[0].what = "1,000,000 consecutive rows";
	c[0].dv = lake_delvec_create();
	lake_delvec_add_range(c[0].dv, 5000000, 6000000);
	c[1].what = "1% of 10,000,000 rows, random";
	c[1].dv = lake_delvec_create();
	for (int k = 0; k < 100000; k++)
		lake_delvec_add(c[1].dv, rnd() % 10000000);
	c[2].what = "every other row of 1,000,000";
	c[2].dv = lake_delvec_create();
	for (uint64 x = 0; x < 1000000; x += 2)
		lake_delvec_add(c[2].dv, x);
	c[3].what = "1,000 random rows over 2^40";
	c[3].dv = lake_delvec_create();
	for (int k = 0; k < 1000; k++)
		lake_delvec_add(c[3].dv, rnd() >> 24);
	for (int k = 0; k < lengthof(c); k++)
	{
		bytes = lake_delvec_serialize(c[k].dv, &len);
		pfree(bytes);
		printf("  size: %-32s %8llu row IDs -> %8zu bytes\n", c[k].what,
			   (unsigned long long) lake_delvec_cardinality(c[k].dv), len);
	}
	standin_reset();
}

int
main(int argc, char **argv)
{
	const char *samples = NULL;

	if (argc == 3 && strcmp(argv[1], "--samples") == 0)
		samples = argv[2];
	else if (argc != 1)
	{
		fprintf(stderr, "usage: %s [--samples DIR]\n", argv[0]);
		return 2;
	}
	test_spec_bytes();
	test_ranges();
	test_samples(samples);
	test_hostile();
	report_sizes();
	standin_reset();
	if (failures)
	{
		fprintf(stderr, "unit_lake_delvec: %d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("unit_lake_delvec: %d checks passed\n", checks);
	return 0;
}
