/*
 * tablegen — reproducible rows for `make bench-tables` as a binary COPY file.
 *
 *   tablegen N SEED [FIRST_ID]  > rows.copy
 *
 * Writes PostgreSQL's binary COPY format for N rows of
 *   (id bigint, video_id bigint, duration real, aesthetic real,
 *    caption text, embedding vector(768))
 * with ids FIRST_ID .. FIRST_ID + N - 1 (default 1).  Row i is drawn from its
 * own splitmix64 stream seeded by (SEED, id), so a row does not depend on N:
 * video_id uniform in [1, 10^7]; duration uniform in [1, 600) s; aesthetic
 * uniform in [0, 10); caption ~200 bytes of words from a 96-word vocabulary
 * (compressible like English captions); embedding 768 Gaussian coordinates
 * scaled to unit length (like a real embedding model's).
 * Binary COPY keeps the server's text parsing of 768 floats out of the
 * measured COPY (the vector's binary input is a byte-swap per float).
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM 768
#define CAPTION_BYTES 200

static const char *const words[] = {
	"a", "the", "man", "woman", "child", "dog", "cat", "car", "street", "city",
	"beach", "ocean", "mountain", "forest", "river", "sunset", "night", "day",
	"walking", "running", "playing", "cooking", "dancing", "singing", "talking",
	"driving", "flying", "swimming", "reading", "writing", "sitting", "standing",
	"in", "on", "at", "with", "near", "under", "over", "through", "across", "by",
	"red", "blue", "green", "yellow", "black", "white", "old", "young", "small",
	"large", "happy", "busy", "quiet", "crowded", "sunny", "rainy", "snowy",
	"kitchen", "garden", "park", "room", "office", "stage", "field", "road",
	"bridge", "train", "boat", "bicycle", "camera", "guitar", "piano", "ball",
	"book", "phone", "table", "window", "door", "light", "shadow", "smoke",
	"crowd", "group", "friends", "family", "people", "close-up", "aerial",
	"view", "slow", "motion", "timelapse", "footage", "scene"
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static uint64_t
next(uint64_t *s)
{
	uint64_t	z = (*s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static double
unit(uint64_t *s)
{
	return (next(s) >> 11) / 9007199254740992.0;
}

static double
gauss(uint64_t *s)
{
	double		u1 = ((next(s) >> 11) + 1.0) / 9007199254740993.0;
	double		u2 = unit(s);

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static void
put16(int16_t v)
{
	uint16_t	b = htons((uint16_t) v);

	fwrite(&b, 2, 1, stdout);
}

static void
put32(int32_t v)
{
	uint32_t	b = htonl((uint32_t) v);

	fwrite(&b, 4, 1, stdout);
}

static void
put64(int64_t v)
{
	put32((int32_t) ((uint64_t) v >> 32));
	put32((int32_t) ((uint64_t) v & 0xffffffffu));
}

static void
putf(float f)
{
	uint32_t	u;

	memcpy(&u, &f, 4);
	put32((int32_t) u);
}

int
main(int argc, char **argv)
{
	long		n;
	uint64_t	seed;
	long		first = 1;
	static const char sig[11] = "PGCOPY\n\377\r\n\0";
	static char outbuf[1 << 20];
	float		v[DIM];
	char		caption[CAPTION_BYTES + 32];

	if (argc < 3)
	{
		fprintf(stderr, "usage: tablegen N SEED [FIRST_ID] > rows.copy\n");
		return 2;
	}
	n = atol(argv[1]);
	seed = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		first = atol(argv[3]);
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

	fwrite(sig, 1, 11, stdout);
	put32(0);					/* flags */
	put32(0);					/* header extension length */
	for (long i = 0; i < n; i++)
	{
		long		id = first + i;
		uint64_t	s = seed * UINT64_C(0x100000001B3) ^ ((uint64_t) id * UINT64_C(0x9E3779B97F4A7C15));
		int			len = 0;
		double		norm = 0;

		next(&s);
		put16(6);
		put32(8);
		put64(id);
		put32(8);
		put64(1 + (int64_t) (next(&s) % 10000000));
		put32(4);
		putf((float) (1 + unit(&s) * 599));
		put32(4);
		putf((float) (unit(&s) * 10));

		while (len < CAPTION_BYTES)
		{
			const char *w = words[next(&s) % NWORDS];
			int			wl = (int) strlen(w);

			if (len > 0)
				caption[len++] = ' ';
			memcpy(caption + len, w, wl);
			len += wl;
		}
		put32(len);
		fwrite(caption, 1, len, stdout);

		for (int j = 0; j < DIM; j++)
		{
			v[j] = (float) gauss(&s);
			norm += (double) v[j] * v[j];
		}
		norm = sqrt(norm);
		put32(4 + DIM * 4);
		put16(DIM);
		put16(0);
		for (int j = 0; j < DIM; j++)
			putf((float) (v[j] / norm));
	}
	put16(-1);
	if (fflush(stdout) != 0)
	{
		perror("tablegen");
		return 1;
	}
	return 0;
}
