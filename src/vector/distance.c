/*
 * distance.c — distance kernels and their runtime dispatch.
 *
 * Backend-independent: no postgres.h, no palloc, no ereport.  The unit test
 * (test/unit/unit_distance.c) and the benchmark (bench/kernels.c) compile
 * this file directly.
 *
 * Every kernel accumulates in float32.  The scalar loop uses four
 * independent accumulators (so the compiler may keep them in registers and
 * the summation error grows like n/4 rather than n); the SIMD variants use
 * 8 or 16 lanes, times two registers.  The error bounds derived from that
 * are in docs/vector.md and enforced by the unit test.
 */
#include "vector/distance.h"
#include "vector/half.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define VEC_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#define VEC_NEON 1
#include <arm_neon.h>
#endif

/* ------------------------------------------------------------ scalar --- */

static float
l2sq_f32_scalar(const float *a, const float *b, int n)
{
	float		s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		float		d0 = a[i] - b[i];
		float		d1 = a[i + 1] - b[i + 1];
		float		d2 = a[i + 2] - b[i + 2];
		float		d3 = a[i + 3] - b[i + 3];

		s0 += d0 * d0;
		s1 += d1 * d1;
		s2 += d2 * d2;
		s3 += d3 * d3;
	}
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		s0 += d * d;
	}
	return (s0 + s1) + (s2 + s3);
}

static float
dot_f32_scalar(const float *a, const float *b, int n)
{
	float		s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < n; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

static float
l1_f32_scalar(const float *a, const float *b, int n)
{
	float		s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		s0 += fabsf(a[i] - b[i]);
		s1 += fabsf(a[i + 1] - b[i + 1]);
		s2 += fabsf(a[i + 2] - b[i + 2]);
		s3 += fabsf(a[i + 3] - b[i + 3]);
	}
	for (; i < n; i++)
		s0 += fabsf(a[i] - b[i]);
	return (s0 + s1) + (s2 + s3);
}

/*
 * binary16 kernels without SIMD intrinsics: convert a block of halves to
 * floats (a simple branch-free loop the compiler vectorises with the
 * baseline instruction set, SSE2 on x86-64), then run the float32 loop on
 * the block.  Block sums are added in order.
 */
#define F16_BLOCK 64

/*
 * Convert one block.  The loop always runs F16_BLOCK times (a short last
 * block is zero-padded first; zeros add nothing to any of the sums) so the
 * compiler sees a fixed trip count and vectorises it.
 */
static inline void
halves_to_floats(const uint16_t *h, float *f, int n)
{
	uint16_t	padded[F16_BLOCK];

	if (n < F16_BLOCK)
	{
		memset(padded, 0, sizeof(padded));
		memcpy(padded, h, sizeof(uint16_t) * n);
		h = padded;
	}
	for (int i = 0; i < F16_BLOCK; i++)
		f[i] = vec_half_to_float(h[i]);
}

static float
l2sq_f16_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	float		fa[F16_BLOCK],
				fb[F16_BLOCK];
	float		s = 0;

	for (int i = 0; i < n; i += F16_BLOCK)
	{
		int			c = n - i < F16_BLOCK ? n - i : F16_BLOCK;

		halves_to_floats(a + i, fa, c);
		halves_to_floats(b + i, fb, c);
		s += l2sq_f32_scalar(fa, fb, c);
	}
	return s;
}

static float
dot_f16_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	float		fa[F16_BLOCK],
				fb[F16_BLOCK];
	float		s = 0;

	for (int i = 0; i < n; i += F16_BLOCK)
	{
		int			c = n - i < F16_BLOCK ? n - i : F16_BLOCK;

		halves_to_floats(a + i, fa, c);
		halves_to_floats(b + i, fb, c);
		s += dot_f32_scalar(fa, fb, c);
	}
	return s;
}

static float
l1_f16_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	float		fa[F16_BLOCK],
				fb[F16_BLOCK];
	float		s = 0;

	for (int i = 0; i < n; i += F16_BLOCK)
	{
		int			c = n - i < F16_BLOCK ? n - i : F16_BLOCK;

		halves_to_floats(a + i, fa, c);
		halves_to_floats(b + i, fb, c);
		s += l1_f32_scalar(fa, fb, c);
	}
	return s;
}

/*
 * Cosine parts in one pass: out[0] = a.b, out[1] = a.a, out[2] = b.b.
 * Four accumulators per quantity, like the loops above.
 */
static void
cos_f32_scalar(const float *a, const float *b, int n, float out[3])
{
	float		d[4] = {0}, aa[4] = {0}, bb[4] = {0};
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		for (int l = 0; l < 4; l++)
		{
			d[l] += a[i + l] * b[i + l];
			aa[l] += a[i + l] * a[i + l];
			bb[l] += b[i + l] * b[i + l];
		}
	}
	for (; i < n; i++)
	{
		d[0] += a[i] * b[i];
		aa[0] += a[i] * a[i];
		bb[0] += b[i] * b[i];
	}
	out[0] = (d[0] + d[1]) + (d[2] + d[3]);
	out[1] = (aa[0] + aa[1]) + (aa[2] + aa[3]);
	out[2] = (bb[0] + bb[1]) + (bb[2] + bb[3]);
}

static void
cos_f16_scalar(const uint16_t *a, const uint16_t *b, int n, float out[3])
{
	float		fa[F16_BLOCK],
				fb[F16_BLOCK];

	out[0] = out[1] = out[2] = 0;
	for (int i = 0; i < n; i += F16_BLOCK)
	{
		int			c = n - i < F16_BLOCK ? n - i : F16_BLOCK;
		float		part[3];

		halves_to_floats(a + i, fa, c);
		halves_to_floats(b + i, fb, c);
		cos_f32_scalar(fa, fb, c, part);
		out[0] += part[0];
		out[1] += part[1];
		out[2] += part[2];
	}
}

/* -------------------------------------------------------------- x86 --- */
#ifdef VEC_X86

#define VEC_AVX2 __attribute__((target("avx2,fma,f16c")))
#define VEC_AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))

VEC_AVX2 static inline float
hsum256(__m256 v)
{
	__m128		lo = _mm256_castps256_ps128(v);
	__m128		hi = _mm256_extractf128_ps(v, 1);

	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
	return _mm_cvtss_f32(lo);
}

/*
 * AVX2 + FMA: two 8-lane accumulators over 16 elements per step, one more
 * 8-wide step, then a scalar tail of at most 7 elements.
 */
VEC_AVX2 static float
l2sq_f32_avx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	int			i = 0;
	float		r;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	if (i + 8 <= n)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		i += 8;
	}
	r = hsum256(_mm256_add_ps(s0, s1));
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		r += d * d;
	}
	return r;
}

VEC_AVX2 static float
dot_f32_avx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	int			i = 0;
	float		r;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
	}
	if (i + 8 <= n)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		i += 8;
	}
	r = hsum256(_mm256_add_ps(s0, s1));
	for (; i < n; i++)
		r += a[i] * b[i];
	return r;
}

VEC_AVX2 static float
l1_f32_avx2(const float *a, const float *b, int n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	int			i = 0;
	float		r;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, d0));
		s1 = _mm256_add_ps(s1, _mm256_andnot_ps(sign, d1));
	}
	if (i + 8 <= n)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, d0));
		i += 8;
	}
	r = hsum256(_mm256_add_ps(s0, s1));
	for (; i < n; i++)
		r += fabsf(a[i] - b[i]);
	return r;
}

/* 8 halves -> 8 floats (F16C, exact) */
VEC_AVX2 static inline __m256
load8_f16(const uint16_t *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) p));
}

/* the last n % 8 halves, zero-padded to 8 (zeros add nothing to any sum) */
VEC_AVX2 static inline __m256
load_tail_f16(const uint16_t *p, int count)
{
	uint16_t	buf[8] = {0};

	memcpy(buf, p, sizeof(uint16_t) * count);
	return load8_f16(buf);
}

VEC_AVX2 static float
l2sq_f16_avx2(const uint16_t *a, const uint16_t *b, int n)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(load8_f16(a + i), load8_f16(b + i));
		__m256		d1 = _mm256_sub_ps(load8_f16(a + i + 8), load8_f16(b + i + 8));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	for (; i < n; i += 8)
	{
		int			c = n - i < 8 ? n - i : 8;
		__m256		d0 = _mm256_sub_ps(load_tail_f16(a + i, c), load_tail_f16(b + i, c));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
	}
	return hsum256(_mm256_add_ps(s0, s1));
}

VEC_AVX2 static float
dot_f16_avx2(const uint16_t *a, const uint16_t *b, int n)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(load8_f16(a + i), load8_f16(b + i), s0);
		s1 = _mm256_fmadd_ps(load8_f16(a + i + 8), load8_f16(b + i + 8), s1);
	}
	for (; i < n; i += 8)
	{
		int			c = n - i < 8 ? n - i : 8;

		s0 = _mm256_fmadd_ps(load_tail_f16(a + i, c), load_tail_f16(b + i, c), s0);
	}
	return hsum256(_mm256_add_ps(s0, s1));
}

VEC_AVX2 static float
l1_f16_avx2(const uint16_t *a, const uint16_t *b, int n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(load8_f16(a + i), load8_f16(b + i));
		__m256		d1 = _mm256_sub_ps(load8_f16(a + i + 8), load8_f16(b + i + 8));

		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, d0));
		s1 = _mm256_add_ps(s1, _mm256_andnot_ps(sign, d1));
	}
	for (; i < n; i += 8)
	{
		int			c = n - i < 8 ? n - i : 8;
		__m256		d0 = _mm256_sub_ps(load_tail_f16(a + i, c), load_tail_f16(b + i, c));

		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(sign, d0));
	}
	return hsum256(_mm256_add_ps(s0, s1));
}

/*
 * cosine parts: two 8-lane accumulators per quantity (six chains hide the
 * FMA latency), one more 8-wide step, scalar tail (binary32) or a
 * zero-padded last block (binary16)
 */
VEC_AVX2 static void
cos_f32_avx2(const float *a, const float *b, int n, float out[3])
{
	__m256		d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps();
	__m256		aa0 = _mm256_setzero_ps(), aa1 = _mm256_setzero_ps();
	__m256		bb0 = _mm256_setzero_ps(), bb1 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		x0 = _mm256_loadu_ps(a + i), x1 = _mm256_loadu_ps(a + i + 8);
		__m256		y0 = _mm256_loadu_ps(b + i), y1 = _mm256_loadu_ps(b + i + 8);

		d0 = _mm256_fmadd_ps(x0, y0, d0);
		d1 = _mm256_fmadd_ps(x1, y1, d1);
		aa0 = _mm256_fmadd_ps(x0, x0, aa0);
		aa1 = _mm256_fmadd_ps(x1, x1, aa1);
		bb0 = _mm256_fmadd_ps(y0, y0, bb0);
		bb1 = _mm256_fmadd_ps(y1, y1, bb1);
	}
	if (i + 8 <= n)
	{
		__m256		x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);

		d0 = _mm256_fmadd_ps(x, y, d0);
		aa0 = _mm256_fmadd_ps(x, x, aa0);
		bb0 = _mm256_fmadd_ps(y, y, bb0);
		i += 8;
	}
	out[0] = hsum256(_mm256_add_ps(d0, d1));
	out[1] = hsum256(_mm256_add_ps(aa0, aa1));
	out[2] = hsum256(_mm256_add_ps(bb0, bb1));
	for (; i < n; i++)
	{
		out[0] += a[i] * b[i];
		out[1] += a[i] * a[i];
		out[2] += b[i] * b[i];
	}
}

VEC_AVX2 static void
cos_f16_avx2(const uint16_t *a, const uint16_t *b, int n, float out[3])
{
	__m256		d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps();
	__m256		aa0 = _mm256_setzero_ps(), aa1 = _mm256_setzero_ps();
	__m256		bb0 = _mm256_setzero_ps(), bb1 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		x0 = load8_f16(a + i), x1 = load8_f16(a + i + 8);
		__m256		y0 = load8_f16(b + i), y1 = load8_f16(b + i + 8);

		d0 = _mm256_fmadd_ps(x0, y0, d0);
		d1 = _mm256_fmadd_ps(x1, y1, d1);
		aa0 = _mm256_fmadd_ps(x0, x0, aa0);
		aa1 = _mm256_fmadd_ps(x1, x1, aa1);
		bb0 = _mm256_fmadd_ps(y0, y0, bb0);
		bb1 = _mm256_fmadd_ps(y1, y1, bb1);
	}
	for (; i < n; i += 8)
	{
		int			c = n - i < 8 ? n - i : 8;
		__m256		x = load_tail_f16(a + i, c), y = load_tail_f16(b + i, c);

		d0 = _mm256_fmadd_ps(x, y, d0);
		aa0 = _mm256_fmadd_ps(x, x, aa0);
		bb0 = _mm256_fmadd_ps(y, y, bb0);
	}
	out[0] = hsum256(_mm256_add_ps(d0, d1));
	out[1] = hsum256(_mm256_add_ps(aa0, aa1));
	out[2] = hsum256(_mm256_add_ps(bb0, bb1));
}

/*
 * AVX-512F: two 16-lane accumulators over 32 elements per step; the tail
 * (up to 31 elements) goes through masked loads, so there is no scalar loop.
 */
VEC_AVX512 static inline __mmask16
tail_mask(int count)
{
	return (__mmask16) ((1u << count) - 1);
}

VEC_AVX512 static float
l2sq_f32_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = tail_mask(n - i < 16 ? n - i : 16);
		__m512		d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

VEC_AVX512 static float
dot_f32_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = tail_mask(n - i < 16 ? n - i : 16);

		s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

VEC_AVX512 static float
l1_f32_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16))));
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = tail_mask(n - i < 16 ? n - i : 16);

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
															_mm512_maskz_loadu_ps(m, b + i))));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* 16 halves -> 16 floats (AVX-512F vcvtph2ps, exact) */
VEC_AVX512 static inline __m512
load16_f16(const uint16_t *p)
{
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) p));
}

/* zero-padded tail; a masked 16-bit load would need AVX512BW */
VEC_AVX512 static inline __m512
load16_tail_f16(const uint16_t *p, int count)
{
	uint16_t	buf[16] = {0};

	memcpy(buf, p, sizeof(uint16_t) * count);
	return load16_f16(buf);
}

VEC_AVX512 static float
l2sq_f16_avx512(const uint16_t *a, const uint16_t *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(load16_f16(a + i), load16_f16(b + i));
		__m512		d1 = _mm512_sub_ps(load16_f16(a + i + 16), load16_f16(b + i + 16));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
	}
	for (; i < n; i += 16)
	{
		int			c = n - i < 16 ? n - i : 16;
		__m512		d0 = _mm512_sub_ps(load16_tail_f16(a + i, c), load16_tail_f16(b + i, c));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

VEC_AVX512 static float
dot_f16_avx512(const uint16_t *a, const uint16_t *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(load16_f16(a + i), load16_f16(b + i), s0);
		s1 = _mm512_fmadd_ps(load16_f16(a + i + 16), load16_f16(b + i + 16), s1);
	}
	for (; i < n; i += 16)
	{
		int			c = n - i < 16 ? n - i : 16;

		s0 = _mm512_fmadd_ps(load16_tail_f16(a + i, c), load16_tail_f16(b + i, c), s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

VEC_AVX512 static float
l1_f16_avx512(const uint16_t *a, const uint16_t *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(load16_f16(a + i), load16_f16(b + i))));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(load16_f16(a + i + 16), load16_f16(b + i + 16))));
	}
	for (; i < n; i += 16)
	{
		int			c = n - i < 16 ? n - i : 16;

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(load16_tail_f16(a + i, c),
															load16_tail_f16(b + i, c))));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* cosine parts: two 16-lane accumulators per quantity, masked tail */
VEC_AVX512 static void
cos_f32_avx512(const float *a, const float *b, int n, float out[3])
{
	__m512		d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps();
	__m512		aa0 = _mm512_setzero_ps(), aa1 = _mm512_setzero_ps();
	__m512		bb0 = _mm512_setzero_ps(), bb1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		x0 = _mm512_loadu_ps(a + i), x1 = _mm512_loadu_ps(a + i + 16);
		__m512		y0 = _mm512_loadu_ps(b + i), y1 = _mm512_loadu_ps(b + i + 16);

		d0 = _mm512_fmadd_ps(x0, y0, d0);
		d1 = _mm512_fmadd_ps(x1, y1, d1);
		aa0 = _mm512_fmadd_ps(x0, x0, aa0);
		aa1 = _mm512_fmadd_ps(x1, x1, aa1);
		bb0 = _mm512_fmadd_ps(y0, y0, bb0);
		bb1 = _mm512_fmadd_ps(y1, y1, bb1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = tail_mask(n - i < 16 ? n - i : 16);
		__m512		x = _mm512_maskz_loadu_ps(m, a + i);
		__m512		y = _mm512_maskz_loadu_ps(m, b + i);

		d0 = _mm512_fmadd_ps(x, y, d0);
		aa0 = _mm512_fmadd_ps(x, x, aa0);
		bb0 = _mm512_fmadd_ps(y, y, bb0);
	}
	out[0] = _mm512_reduce_add_ps(_mm512_add_ps(d0, d1));
	out[1] = _mm512_reduce_add_ps(_mm512_add_ps(aa0, aa1));
	out[2] = _mm512_reduce_add_ps(_mm512_add_ps(bb0, bb1));
}

VEC_AVX512 static void
cos_f16_avx512(const uint16_t *a, const uint16_t *b, int n, float out[3])
{
	__m512		d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps();
	__m512		aa0 = _mm512_setzero_ps(), aa1 = _mm512_setzero_ps();
	__m512		bb0 = _mm512_setzero_ps(), bb1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		x0 = load16_f16(a + i), x1 = load16_f16(a + i + 16);
		__m512		y0 = load16_f16(b + i), y1 = load16_f16(b + i + 16);

		d0 = _mm512_fmadd_ps(x0, y0, d0);
		d1 = _mm512_fmadd_ps(x1, y1, d1);
		aa0 = _mm512_fmadd_ps(x0, x0, aa0);
		aa1 = _mm512_fmadd_ps(x1, x1, aa1);
		bb0 = _mm512_fmadd_ps(y0, y0, bb0);
		bb1 = _mm512_fmadd_ps(y1, y1, bb1);
	}
	for (; i < n; i += 16)
	{
		int			c = n - i < 16 ? n - i : 16;
		__m512		x = load16_tail_f16(a + i, c), y = load16_tail_f16(b + i, c);

		d0 = _mm512_fmadd_ps(x, y, d0);
		aa0 = _mm512_fmadd_ps(x, x, aa0);
		bb0 = _mm512_fmadd_ps(y, y, bb0);
	}
	out[0] = _mm512_reduce_add_ps(_mm512_add_ps(d0, d1));
	out[1] = _mm512_reduce_add_ps(_mm512_add_ps(aa0, aa1));
	out[2] = _mm512_reduce_add_ps(_mm512_add_ps(bb0, bb1));
}

static bool
cpu_has_avx2(void)
{
	unsigned int eax,
				ebx,
				ecx = 0,
				edx;

	/* F16C is CPUID.1:ECX bit 29 (not every compiler's builtin knows it) */
	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 29)))
		return false;
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static bool
cpu_has_avx512(void)
{
	return cpu_has_avx2() && __builtin_cpu_supports("avx512f");
}

#endif							/* VEC_X86 */

/* -------------------------------------------------------------- arm64 --- */
#ifdef VEC_NEON

/* NEON (always present on AArch64): two 4-lane accumulators. */
static float
l2sq_f32_neon(const float *a, const float *b, int n)
{
	float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
	int			i = 0;
	float		r;

	for (; i + 8 <= n; i += 8)
	{
		float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
		float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));

		s0 = vfmaq_f32(s0, d0, d0);
		s1 = vfmaq_f32(s1, d1, d1);
	}
	r = vaddvq_f32(vaddq_f32(s0, s1));
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		r += d * d;
	}
	return r;
}

static float
dot_f32_neon(const float *a, const float *b, int n)
{
	float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
	int			i = 0;
	float		r;

	for (; i + 8 <= n; i += 8)
	{
		s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
		s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
	}
	r = vaddvq_f32(vaddq_f32(s0, s1));
	for (; i < n; i++)
		r += a[i] * b[i];
	return r;
}

static float
l1_f32_neon(const float *a, const float *b, int n)
{
	float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
	int			i = 0;
	float		r;

	for (; i + 8 <= n; i += 8)
	{
		s0 = vaddq_f32(s0, vabdq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
		s1 = vaddq_f32(s1, vabdq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)));
	}
	r = vaddvq_f32(vaddq_f32(s0, s1));
	for (; i < n; i++)
		r += fabsf(a[i] - b[i]);
	return r;
}

static inline float32x4_t
load4_f16(const uint16_t *p)
{
	return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

static float
l2sq_f16_neon(const uint16_t *a, const uint16_t *b, int n)
{
	float32x4_t s0 = vdupq_n_f32(0);
	int			i = 0;
	float		r;

	for (; i + 4 <= n; i += 4)
	{
		float32x4_t d = vsubq_f32(load4_f16(a + i), load4_f16(b + i));

		s0 = vfmaq_f32(s0, d, d);
	}
	r = vaddvq_f32(s0);
	for (; i < n; i++)
	{
		float		d = vec_half_to_float(a[i]) - vec_half_to_float(b[i]);

		r += d * d;
	}
	return r;
}

static float
dot_f16_neon(const uint16_t *a, const uint16_t *b, int n)
{
	float32x4_t s0 = vdupq_n_f32(0);
	int			i = 0;
	float		r;

	for (; i + 4 <= n; i += 4)
		s0 = vfmaq_f32(s0, load4_f16(a + i), load4_f16(b + i));
	r = vaddvq_f32(s0);
	for (; i < n; i++)
		r += vec_half_to_float(a[i]) * vec_half_to_float(b[i]);
	return r;
}

static float
l1_f16_neon(const uint16_t *a, const uint16_t *b, int n)
{
	float32x4_t s0 = vdupq_n_f32(0);
	int			i = 0;
	float		r;

	for (; i + 4 <= n; i += 4)
		s0 = vaddq_f32(s0, vabdq_f32(load4_f16(a + i), load4_f16(b + i)));
	r = vaddvq_f32(s0);
	for (; i < n; i++)
		r += fabsf(vec_half_to_float(a[i]) - vec_half_to_float(b[i]));
	return r;
}

static void
cos_f32_neon(const float *a, const float *b, int n, float out[3])
{
	float32x4_t d = vdupq_n_f32(0), aa = vdupq_n_f32(0), bb = vdupq_n_f32(0);
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		float32x4_t x = vld1q_f32(a + i), y = vld1q_f32(b + i);

		d = vfmaq_f32(d, x, y);
		aa = vfmaq_f32(aa, x, x);
		bb = vfmaq_f32(bb, y, y);
	}
	out[0] = vaddvq_f32(d);
	out[1] = vaddvq_f32(aa);
	out[2] = vaddvq_f32(bb);
	for (; i < n; i++)
	{
		out[0] += a[i] * b[i];
		out[1] += a[i] * a[i];
		out[2] += b[i] * b[i];
	}
}

static void
cos_f16_neon(const uint16_t *a, const uint16_t *b, int n, float out[3])
{
	float32x4_t d = vdupq_n_f32(0), aa = vdupq_n_f32(0), bb = vdupq_n_f32(0);
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		float32x4_t x = load4_f16(a + i), y = load4_f16(b + i);

		d = vfmaq_f32(d, x, y);
		aa = vfmaq_f32(aa, x, x);
		bb = vfmaq_f32(bb, y, y);
	}
	out[0] = vaddvq_f32(d);
	out[1] = vaddvq_f32(aa);
	out[2] = vaddvq_f32(bb);
	for (; i < n; i++)
	{
		float		x = vec_half_to_float(a[i]), y = vec_half_to_float(b[i]);

		out[0] += x * y;
		out[1] += x * x;
		out[2] += y * y;
	}
}

#endif							/* VEC_NEON */

/* -------------------------------------------------- bit strings --- */

/*
 * Popcount kernels over bit strings of nbytes bytes (the core bit type's
 * bytes: its pad bits are zero, so whole bytes can be counted).  Words are
 * read with memcpy: a varlena's bits need not be 8-byte aligned.  One body
 * per kernel, inlined into a portable version (the compiler picks its
 * popcount: a bit trick or a libgcc call without -mpopcnt) and into an x86
 * version compiled for POPCNT, chosen at run time.
 */
static inline __attribute__((always_inline)) uint64_t
hamming_bits_body(const uint8_t *a, const uint8_t *b, size_t nbytes)
{
	uint64_t	d = 0;
	size_t		i = 0;

	for (; i + 8 <= nbytes; i += 8)
	{
		uint64_t	x,
					y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d += (uint64_t) __builtin_popcountll(x ^ y);
	}
	for (; i < nbytes; i++)
		d += (uint64_t) __builtin_popcount((unsigned) (a[i] ^ b[i]));
	return d;
}

static inline __attribute__((always_inline)) void
jaccard_bits_body(const uint8_t *a, const uint8_t *b, size_t nbytes, uint64_t out[3])
{
	uint64_t	ab = 0,
				aa = 0,
				bb = 0;
	size_t		i = 0;

	for (; i + 8 <= nbytes; i += 8)
	{
		uint64_t	x,
					y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		ab += (uint64_t) __builtin_popcountll(x & y);
		aa += (uint64_t) __builtin_popcountll(x);
		bb += (uint64_t) __builtin_popcountll(y);
	}
	for (; i < nbytes; i++)
	{
		ab += (uint64_t) __builtin_popcount((unsigned) (a[i] & b[i]));
		aa += (uint64_t) __builtin_popcount((unsigned) a[i]);
		bb += (uint64_t) __builtin_popcount((unsigned) b[i]);
	}
	out[0] = ab;
	out[1] = aa;
	out[2] = bb;
}

static uint64_t
hamming_bits_scalar(const uint8_t *a, const uint8_t *b, size_t nbytes)
{
	return hamming_bits_body(a, b, nbytes);
}

static void
jaccard_bits_scalar(const uint8_t *a, const uint8_t *b, size_t nbytes, uint64_t out[3])
{
	jaccard_bits_body(a, b, nbytes, out);
}

#ifdef VEC_X86
#define VEC_POPCNT __attribute__((target("popcnt")))

VEC_POPCNT static uint64_t
hamming_bits_popcnt(const uint8_t *a, const uint8_t *b, size_t nbytes)
{
	return hamming_bits_body(a, b, nbytes);
}

VEC_POPCNT static void
jaccard_bits_popcnt(const uint8_t *a, const uint8_t *b, size_t nbytes, uint64_t out[3])
{
	jaccard_bits_body(a, b, nbytes, out);
}
#endif							/* VEC_X86 */

vec_bits_hamming_kernel vec_hamming_bits = hamming_bits_scalar;
vec_bits_jaccard_kernel vec_jaccard_bits = jaccard_bits_scalar;

const char *
distance_bits_level(void)
{
	return vec_hamming_bits == hamming_bits_scalar ? "scalar" : "popcnt";
}

void
distance_bits_use(bool fast)
{
	vec_hamming_bits = hamming_bits_scalar;
	vec_jaccard_bits = jaccard_bits_scalar;
#ifdef VEC_X86
	__builtin_cpu_init();
	if (fast && __builtin_cpu_supports("popcnt"))
	{
		vec_hamming_bits = hamming_bits_popcnt;
		vec_jaccard_bits = jaccard_bits_popcnt;
	}
#else
	(void) fast;
#endif
}

/* ---------------------------------------------------------- dispatch --- */

static const VecKernelSet kernel_sets[] = {
	{"scalar", l2sq_f32_scalar, dot_f32_scalar, l1_f32_scalar,
	l2sq_f16_scalar, dot_f16_scalar, l1_f16_scalar, cos_f32_scalar, cos_f16_scalar},
#ifdef VEC_X86
	{"avx2", l2sq_f32_avx2, dot_f32_avx2, l1_f32_avx2,
	l2sq_f16_avx2, dot_f16_avx2, l1_f16_avx2, cos_f32_avx2, cos_f16_avx2},
	{"avx512", l2sq_f32_avx512, dot_f32_avx512, l1_f32_avx512,
	l2sq_f16_avx512, dot_f16_avx512, l1_f16_avx512, cos_f32_avx512, cos_f16_avx512},
#endif
#ifdef VEC_NEON
	{"neon", l2sq_f32_neon, dot_f32_neon, l1_f32_neon,
	l2sq_f16_neon, dot_f16_neon, l1_f16_neon, cos_f32_neon, cos_f16_neon},
#endif
};

static bool
level_supported(const char *name)
{
	if (strcmp(name, "scalar") == 0)
		return true;
#ifdef VEC_X86
	if (strcmp(name, "avx2") == 0)
		return cpu_has_avx2();
	if (strcmp(name, "avx512") == 0)
		return cpu_has_avx512();
#endif
#ifdef VEC_NEON
	if (strcmp(name, "neon") == 0)
		return true;
#endif
	return false;
}

const VecKernelSet *
distance_kernel_set(const char *name)
{
	for (size_t i = 0; i < sizeof(kernel_sets) / sizeof(kernel_sets[0]); i++)
		if (strcmp(kernel_sets[i].name, name) == 0)
			return level_supported(name) ? &kernel_sets[i] : NULL;
	return NULL;
}

vec_f32_kernel vec_l2sq_f32 = l2sq_f32_scalar;
vec_f32_kernel vec_dot_f32 = dot_f32_scalar;
vec_f32_kernel vec_l1_f32 = l1_f32_scalar;
vec_f16_kernel vec_l2sq_f16 = l2sq_f16_scalar;
vec_f16_kernel vec_dot_f16 = dot_f16_scalar;
vec_f16_kernel vec_l1_f16 = l1_f16_scalar;
vec_f32_cos_kernel vec_cos_f32 = cos_f32_scalar;
vec_f16_cos_kernel vec_cos_f16 = cos_f16_scalar;

static const char *current_level = NULL;

static void
use_set(const VecKernelSet *k)
{
	vec_l2sq_f32 = k->l2sq_f32;
	vec_dot_f32 = k->dot_f32;
	vec_l1_f32 = k->l1_f32;
	vec_l2sq_f16 = k->l2sq_f16;
	vec_dot_f16 = k->dot_f16;
	vec_l1_f16 = k->l1_f16;
	vec_cos_f32 = k->cos_f32;
	vec_cos_f16 = k->cos_f16;
	current_level = k->name;
}

/* The best level this CPU runs, in order of preference. */
static const VecKernelSet *
best_set(void)
{
	static const char *const preference[] = {"avx512", "avx2", "neon", "scalar"};

	for (size_t i = 0; i < sizeof(preference) / sizeof(preference[0]); i++)
	{
		const VecKernelSet *k = distance_kernel_set(preference[i]);

		if (k)
			return k;
	}
	return &kernel_sets[0];
}

const char *
distance_init(void)
{
	const char *forced;
	const VecKernelSet *k = NULL;

	if (current_level != NULL)
		return current_level;
	/* VLAKE_KERNELS forces a level; one this CPU cannot run is ignored */
	forced = getenv("VLAKE_KERNELS");
	if (forced != NULL && forced[0] != '\0')
		k = distance_kernel_set(forced);
	use_set(k ? k : best_set());
	/* VLAKE_KERNELS=scalar also keeps bit strings on the portable loop */
	distance_bits_use(strcmp(current_level, "scalar") != 0);
	return current_level;
}

const char *
distance_level(void)
{
	return current_level ? current_level : "scalar";
}
