/*
 * unit_distance — distance kernels against a double-precision reference.
 *
 * For every kernel level this CPU runs (scalar, avx2, avx512, neon) and
 * every kernel (squared L2, inner product, L1, one-pass cosine parts;
 * float32 and binary16
 * inputs), on dimensions 1..40, 127, 128, 129, 768, 1536 and 16000:
 *
 *  1. random reals in [-1, 1]: |kernel - reference| <= gamma(m) * S, where
 *     S = sum |t_i| over the terms (|a_i b_i|, (a_i - b_i)^2, |a_i - b_i|),
 *     gamma(m) = m u / (1 - m u), u = 2^-24 and m = ceil(n / k) + 24 with k
 *     the kernel's number of independent accumulators (docs/vector.md
 *     derives this bound);
 *  2. random small integers: every partial sum is an integer below 2^24,
 *     so any correct summation order gives the exact answer — an indexing
 *     mistake cannot hide inside the rounding bound;
 *  3. one-hot vectors: each position alone contributes, so a skipped or
 *     duplicated element is caught;
 *  4. inputs end right before an unreadable page, so a kernel that reads
 *     past the last element crashes the test.
 *
 * It also checks half <-> float conversion exhaustively (every binary16
 * value round-trips; every midpoint between neighbours rounds to the even
 * one) and that the dispatcher picks a level this CPU supports and obeys
 * VLAKE_KERNELS.  Exit status 0 = pass.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vector/distance.h"
#include "vector/half.h"

static int	failures = 0;
static long checks = 0;
static double worst_fraction = 0;	/* largest |error| / bound seen on random data */

#define FAIL(...) do { failures++; if (failures <= 30) { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* ------------------------------------------------------------ helpers --- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;	/* fixed seed */

static uint64_t
rng_next(void)
{
	uint64_t	x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double
rng_unit(void)					/* uniform in [-1, 1) */
{
	return (double) (rng_next() >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static int
rng_int(int lo, int hi)
{
	return lo + (int) (rng_next() % (uint64_t) (hi - lo + 1));
}

/*
 * A buffer of `bytes` whose last byte is immediately followed by a
 * PROT_NONE page: reading past the end faults.
 */
typedef struct
{
	void	   *map;
	size_t		maplen;
	void	   *data;
} Guarded;

static Guarded
guarded_alloc(size_t bytes)
{
	size_t		page = (size_t) sysconf(_SC_PAGESIZE);
	size_t		datapages = (bytes + page - 1) / page;
	Guarded		g;

	g.maplen = (datapages + 1) * page;
	g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED)
	{
		perror("mmap");
		exit(2);
	}
	if (mprotect((char *) g.map + datapages * page, page, PROT_NONE) != 0)
	{
		perror("mprotect");
		exit(2);
	}
	g.data = (char *) g.map + datapages * page - bytes;
	return g;
}

static void
guarded_free(Guarded g)
{
	munmap(g.map, g.maplen);
}

/* independent accumulators per kernel level (float32, binary16) */
static int	accumulators_for(const char *level, bool f16, bool cos);

static int
accumulators(const char *level, bool f16)
{
	return accumulators_for(level, f16, false);
}

/* the one-pass cosine kernels: x86 keeps two registers per quantity, NEON one */
static int
accumulators_for(const char *level, bool f16, bool cos)
{
	if (cos)
	{
		if (strcmp(level, "neon") == 0)
			return 4;
		return accumulators_for(level, f16, false);
	}
	if (strcmp(level, "avx512") == 0)
		return 32;
	if (strcmp(level, "avx2") == 0)
		return 16;
	if (strcmp(level, "neon") == 0)
		return f16 ? 4 : 8;
	/*
	 * scalar: 4 accumulators; the binary16 kernels run the float32 loop on
	 * blocks of 64 and add the block sums in order, at most
	 * 16 + 2 + ceil(n/64) <= ceil(n/4) + 24 additions per term
	 */
	return 4;
}

static double
gamma_bound(int n, int k)
{
	double		u = ldexp(1.0, -24);
	double		m = (double) ((n + k - 1) / k) + 24.0;

	return m * u / (1.0 - m * u);
}

/* double-precision references; s_abs gets sum |t_i| */
static double
ref_l2sq(const double *a, const double *b, int n, double *s_abs)
{
	double		s = 0;

	for (int i = 0; i < n; i++)
		s += (a[i] - b[i]) * (a[i] - b[i]);
	*s_abs = s;
	return s;
}

static double
ref_dot(const double *a, const double *b, int n, double *s_abs)
{
	double		s = 0,
				sa = 0;

	for (int i = 0; i < n; i++)
	{
		s += a[i] * b[i];
		sa += fabs(a[i] * b[i]);
	}
	*s_abs = sa;
	return s;
}

static double
ref_l1(const double *a, const double *b, int n, double *s_abs)
{
	double		s = 0;

	for (int i = 0; i < n; i++)
		s += fabs(a[i] - b[i]);
	*s_abs = s;
	return s;
}

typedef double (*ref_fn) (const double *, const double *, int, double *);

static const char *const kernel_names[3] = {"l2sq", "dot", "l1"};
static const ref_fn refs[3] = {ref_l2sq, ref_dot, ref_l1};

/* -------------------------------------------------------- kernel tests --- */

typedef enum
{
	DATA_RANDOM, DATA_INTEGER
} DataKind;

static void
check_value(const char *level, const char *kernel, bool f16, int n, const char *what,
			double got, double want, double tol)
{
	checks++;
	if (tol > 0 && fabs(got - want) / tol > worst_fraction)
		worst_fraction = fabs(got - want) / tol;
	if (!(fabs(got - want) <= tol))
		FAIL("%s %s_%s n=%d %s: got %.9g want %.9g (|diff| %.3g > tol %.3g)",
			 level, kernel, f16 ? "f16" : "f32", n, what, got, want, fabs(got - want), tol);
}

static void
test_level_dim(const VecKernelSet *ks, int n, DataKind kind)
{
	Guarded		ga = guarded_alloc(sizeof(float) * n);
	Guarded		gb = guarded_alloc(sizeof(float) * n);
	Guarded		ha = guarded_alloc(sizeof(uint16_t) * n);
	Guarded		hb = guarded_alloc(sizeof(uint16_t) * n);
	float	   *fa = ga.data,
			   *fb = gb.data;
	uint16_t   *xa = ha.data,
			   *xb = hb.data;
	double	   *da = malloc(sizeof(double) * n);
	double	   *db = malloc(sizeof(double) * n);
	double	   *dha = malloc(sizeof(double) * n);
	double	   *dhb = malloc(sizeof(double) * n);
	vec_f32_kernel f32k[3] = {ks->l2sq_f32, ks->dot_f32, ks->l1_f32};
	vec_f16_kernel f16k[3] = {ks->l2sq_f16, ks->dot_f16, ks->l1_f16};
	const char *what = kind == DATA_RANDOM ? "random" : "integer";

	for (int i = 0; i < n; i++)
	{
		if (kind == DATA_RANDOM)
		{
			fa[i] = (float) rng_unit();
			fb[i] = (float) rng_unit();
		}
		else
		{
			fa[i] = (float) rng_int(-8, 8);
			fb[i] = (float) rng_int(-8, 8);
		}
		da[i] = fa[i];
		db[i] = fb[i];
		if (!vec_float_to_half(fa[i], &xa[i]) || !vec_float_to_half(fb[i], &xb[i]))
		{
			FAIL("half conversion refused %g", fa[i]);
			exit(1);
		}
		dha[i] = vec_half_to_float(xa[i]);
		dhb[i] = vec_half_to_float(xb[i]);
	}

	for (int k = 0; k < 3; k++)
	{
		double		sabs;
		double		want = refs[k] (da, db, n, &sabs);
		double		tol = kind == DATA_INTEGER ? 0.0 : gamma_bound(n, accumulators(ks->name, false)) * sabs;

		check_value(ks->name, kernel_names[k], false, n, what, f32k[k] (fa, fb, n), want, tol);

		want = refs[k] (dha, dhb, n, &sabs);
		tol = kind == DATA_INTEGER ? 0.0 : gamma_bound(n, accumulators(ks->name, true)) * sabs;
		check_value(ks->name, kernel_names[k], true, n, what, f16k[k] (xa, xb, n), want, tol);
	}

	/* one-pass cosine parts: a.b, a.a, b.b */
	for (int f16 = 0; f16 <= 1; f16++)
	{
		float		parts[3];
		const double *x = f16 ? dha : da;
		const double *y = f16 ? dhb : db;
		const double *args[3][2] = {{x, y}, {x, x}, {y, y}};
		static const char *const part_names[3] = {"cos.ab", "cos.aa", "cos.bb"};
		double		g = gamma_bound(n, accumulators_for(ks->name, f16, true));

		if (f16)
			ks->cos_f16(xa, xb, n, parts);
		else
			ks->cos_f32(fa, fb, n, parts);
		for (int q = 0; q < 3; q++)
		{
			double		sabs;
			double		want = ref_dot(args[q][0], args[q][1], n, &sabs);

			check_value(ks->name, part_names[q], f16, n, what, parts[q], want,
						kind == DATA_INTEGER ? 0.0 : g * sabs);
		}
	}

	free(da);
	free(db);
	free(dha);
	free(dhb);
	guarded_free(ga);
	guarded_free(gb);
	guarded_free(ha);
	guarded_free(hb);
}

/* Only position p is non-zero (1.5 vs 2): exact answers 0.25, 3, 0.5. */
static void
test_one_hot(const VecKernelSet *ks, int n, int p)
{
	Guarded		ga = guarded_alloc(sizeof(float) * n);
	Guarded		gb = guarded_alloc(sizeof(float) * n);
	Guarded		ha = guarded_alloc(sizeof(uint16_t) * n);
	Guarded		hb = guarded_alloc(sizeof(uint16_t) * n);
	float	   *fa = ga.data,
			   *fb = gb.data;
	uint16_t   *xa = ha.data,
			   *xb = hb.data;
	char		what[32];

	memset(fa, 0, sizeof(float) * n);
	memset(fb, 0, sizeof(float) * n);
	memset(xa, 0, sizeof(uint16_t) * n);
	memset(xb, 0, sizeof(uint16_t) * n);
	fa[p] = 1.5f;
	fb[p] = 2.0f;
	xa[p] = 0x3e00;				/* 1.5 */
	xb[p] = 0x4000;				/* 2.0 */
	snprintf(what, sizeof(what), "one-hot@%d", p);

	check_value(ks->name, "l2sq", false, n, what, ks->l2sq_f32(fa, fb, n), 0.25, 0);
	check_value(ks->name, "dot", false, n, what, ks->dot_f32(fa, fb, n), 3.0, 0);
	check_value(ks->name, "l1", false, n, what, ks->l1_f32(fa, fb, n), 0.5, 0);
	check_value(ks->name, "l2sq", true, n, what, ks->l2sq_f16(xa, xb, n), 0.25, 0);
	check_value(ks->name, "dot", true, n, what, ks->dot_f16(xa, xb, n), 3.0, 0);
	check_value(ks->name, "l1", true, n, what, ks->l1_f16(xa, xb, n), 0.5, 0);
	{
		float		pf[3],
					ph[3];

		ks->cos_f32(fa, fb, n, pf);
		ks->cos_f16(xa, xb, n, ph);
		check_value(ks->name, "cos.ab", false, n, what, pf[0], 3.0, 0);
		check_value(ks->name, "cos.aa", false, n, what, pf[1], 2.25, 0);
		check_value(ks->name, "cos.bb", false, n, what, pf[2], 4.0, 0);
		check_value(ks->name, "cos.ab", true, n, what, ph[0], 3.0, 0);
		check_value(ks->name, "cos.aa", true, n, what, ph[1], 2.25, 0);
		check_value(ks->name, "cos.bb", true, n, what, ph[2], 4.0, 0);
	}

	guarded_free(ga);
	guarded_free(gb);
	guarded_free(ha);
	guarded_free(hb);
}

static const int extra_dims[] = {127, 128, 129, 768, 1536, 16000};

static void
test_level(const VecKernelSet *ks)
{
	int			before = failures;
	long		before_checks = checks;

	worst_fraction = 0;

	for (int n = 1; n <= 40; n++)
	{
		for (int trial = 0; trial < 4; trial++)
			test_level_dim(ks, n, DATA_RANDOM);
		test_level_dim(ks, n, DATA_INTEGER);
		for (int p = 0; p < n; p++)
			test_one_hot(ks, n, p);
	}
	for (size_t d = 0; d < sizeof(extra_dims) / sizeof(extra_dims[0]); d++)
	{
		int			n = extra_dims[d];

		for (int trial = 0; trial < 3; trial++)
			test_level_dim(ks, n, DATA_RANDOM);
		test_level_dim(ks, n, DATA_INTEGER);
		/* the first and last 40 positions, and a stride through the middle */
		for (int p = 0; p < n; p += (p < 40 || p >= n - 41) ? 1 : 97)
			test_one_hot(ks, n, p);
		test_one_hot(ks, n, n - 1);
	}
	printf("%-7s %ld checks, %d failures; worst random-data error = %.1f%% of the bound\n",
		   ks->name, checks - before_checks, failures - before, 100.0 * worst_fraction);
}

/* ------------------------------------------------- half conversion --- */

/* binary16 decoded from its definition (independent of half.h) */
static double
half_reference(uint16_t h)
{
	int			sign = h >> 15;
	int			e = (h >> 10) & 0x1f;
	int			m = h & 0x3ff;
	double		v;

	if (e == 0x1f)
		v = m ? NAN : INFINITY;
	else if (e == 0)
		v = ldexp(m, -24);
	else
		v = ldexp(1024 + m, e - 25);
	return sign ? -v : v;
}

static void
test_half_conversion(void)
{
	int			before = failures;

	for (uint32_t h = 0; h <= 0xffff; h++)
	{
		double		want = half_reference((uint16_t) h);
		float		got = vec_half_to_float((uint16_t) h);

		checks++;
		if (isnan(want) ? !isnan(got) : (got != want || !signbit(got) != !signbit(want)))
			FAIL("half 0x%04x decodes to %.10g, want %.10g", h, got, want);
	}

	for (uint32_t h = 0; h <= 0xffff; h++)
	{
		float		f = vec_half_to_float((uint16_t) h);
		uint16_t	back = 0;
		bool		special = ((h >> 10) & 0x1f) == 0x1f;

		checks++;
		if (special)
		{
			if (vec_float_to_half(f, &back))
				FAIL("Inf/NaN half 0x%04x accepted back", h);
			continue;
		}
		if (!vec_float_to_half(f, &back) || back != h)
			FAIL("half 0x%04x -> %g -> 0x%04x", h, f, back);

		/* midpoint to the next half up (same sign): ties go to even */
		if ((h & 0x7fff) < 0x7bff)
		{
			float		next = vec_half_to_float((uint16_t) (h + 1));
			float		mid = (f + next) / 2;	/* exact: halves have 11 bits */
			uint16_t	even = (h & 1) ? (uint16_t) (h + 1) : (uint16_t) h;
			uint16_t	r = 0;

			checks++;
			if (!vec_float_to_half(mid, &r) || r != even)
				FAIL("midpoint %.10g of 0x%04x/0x%04x -> 0x%04x, want 0x%04x", mid, h, h + 1, r, even);
			/* just off the midpoint: nearest */
			checks++;
			if (!vec_float_to_half(nextafterf(mid, next), &r) || r != (uint16_t) (h + 1))
				FAIL("above midpoint of 0x%04x -> 0x%04x", h, r);
			if (!vec_float_to_half(nextafterf(mid, f), &r) || r != (uint16_t) h)
				FAIL("below midpoint of 0x%04x -> 0x%04x", h, r);
		}
	}
	/* overflow: 65519.99 rounds to 65504; 65520 (the tie with 2^16) does not fit */
	{
		uint16_t	r = 0;

		checks += 3;
		if (!vec_float_to_half(65519.99f, &r) || r != 0x7bff)
			FAIL("65519.99 should round to 65504");
		if (vec_float_to_half(65520.0f, &r) || vec_float_to_half(-1e10f, &r))
			FAIL("overflow not reported");
		if (!vec_float_to_half(1e-10f, &r) || r != 0)
			FAIL("1e-10 should round to +0");
	}
	printf("half    %d failures in conversion checks\n", failures - before);
}

/* ------------------------------------------------------- dispatcher --- */

/* distance_init() in a child process with VLAKE_KERNELS=value */
static bool
child_picks(const char *value, const char *expect)
{
	pid_t		pid = fork();
	int			status;

	if (pid == 0)
	{
		const char *got;

		if (value)
			setenv("VLAKE_KERNELS", value, 1);
		else
			unsetenv("VLAKE_KERNELS");
		got = distance_init();
		_exit(strcmp(got, expect) == 0 && strcmp(distance_level(), expect) == 0 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
test_dispatcher(void)
{
	static const char *const preference[] = {"avx512", "avx2", "neon", "scalar"};
	const char *best = NULL;

	for (size_t i = 0; i < 4 && !best; i++)
		if (distance_kernel_set(preference[i]))
			best = preference[i];
	checks += 6;
	if (!best)
	{
		FAIL("no level available");
		return;
	}
	if (distance_kernel_set("scalar") == NULL)
		FAIL("scalar level missing");
	if (distance_kernel_set("bogus") != NULL)
		FAIL("unknown level accepted");
	if (!child_picks(NULL, best))
		FAIL("dispatcher did not pick the best level %s", best);
	if (!child_picks("scalar", "scalar"))
		FAIL("VLAKE_KERNELS=scalar not obeyed");
	if (!child_picks("bogus", best))
		FAIL("VLAKE_KERNELS=bogus should fall back to %s", best);
	if (distance_kernel_set("avx2") && !child_picks("avx2", "avx2"))
		FAIL("VLAKE_KERNELS=avx2 not obeyed");
	/* the process's own choice is a supported level */
	{
		const char *lvl = distance_init();

		if (distance_kernel_set(lvl) == NULL)
			FAIL("dispatcher chose %s, which this CPU does not support", lvl);
		printf("dispatch best=%s chosen=%s\n", best, lvl);
	}
}

/*
 * Bit-string kernels (Hamming; Jaccard's three counts) against a bit-by-bit
 * reference, for the portable and the POPCNT loops: every length 0 .. 300
 * bytes at every offset 0 .. 7 from an aligned buffer (word loop + byte tail,
 * unaligned reads), random bytes and all-ones.
 */
static void
test_bits(void)
{
	static uint8_t abuf[320],
				bbuf[320];

	for (int fast = 0; fast <= 1; fast++)
	{
		distance_bits_use(fast != 0);
		for (int len = 0; len <= 300; len++)
			for (int off = 0; off < 8; off++)
			{
				uint8_t    *a = abuf + off,
						   *b = bbuf + off;
				uint64_t	h = 0,
							ab = 0,
							aa = 0,
							bb = 0,
							c[3];

				for (int i = 0; i < len; i++)
				{
					a[i] = (len % 7 == 3) ? 0xff : (uint8_t) rng_next();
					b[i] = (uint8_t) rng_next();
					for (int k = 0; k < 8; k++)
					{
						int			x = (a[i] >> k) & 1,
									y = (b[i] >> k) & 1;

						h += x != y;
						ab += x & y;
						aa += x;
						bb += y;
					}
				}
				checks++;
				if (vec_hamming_bits(a, b, (size_t) len) != h)
					FAIL("%s hamming: %d bytes at offset %d", distance_bits_level(), len, off);
				vec_jaccard_bits(a, b, (size_t) len, c);
				if (c[0] != ab || c[1] != aa || c[2] != bb)
					FAIL("%s jaccard counts: %d bytes at offset %d", distance_bits_level(), len, off);
			}
		printf("bits    %s ok\n", distance_bits_level());
	}
	distance_bits_use(true);
}

int
main(void)
{
	static const char *const levels[] = {"scalar", "avx2", "avx512", "neon"};

	test_half_conversion();
	test_dispatcher();
	test_bits();
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
	{
		const VecKernelSet *ks = distance_kernel_set(levels[i]);

		if (ks == NULL)
		{
			printf("%-7s not supported here, skipped\n", levels[i]);
			continue;
		}
		test_level(ks);
	}
	printf("%ld checks, %d failures\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
