/*
 * half.h — IEEE 754 binary16 <-> binary32 conversion in portable C.
 *
 * Backend-independent (no postgres.h) so the distance kernels, unit tests
 * and benchmarks share one definition with the SQL types.
 *
 * float -> half rounds to nearest, ties to even, produces subnormal halves
 * for tiny values and reports overflow instead of returning infinity: the
 * halfvec type refuses values it cannot represent (SQLSTATE 22003).
 */
#ifndef VLAKE_HALF_H
#define VLAKE_HALF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define VL_HALF_MAX 65504.0f

static inline float
vl_half_to_float(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t	exp = (h >> 10) & 0x1f;
	uint32_t	mant = h & 0x3ff;
	uint32_t	bits;
	float		f;

	if (exp == 0x1f)			/* Inf / NaN */
		bits = sign | 0x7f800000 | (mant << 13);
	else if (exp != 0)			/* normal: rebias 15 -> 127 */
		bits = sign | ((exp + 112) << 23) | (mant << 13);
	else if (mant == 0)			/* signed zero */
		bits = sign;
	else
	{
		/* subnormal half: value = mant * 2^-24, exact in float */
		f = (float) mant * (1.0f / 16777216.0f);
		return sign ? -f : f;
	}
	memcpy(&f, &bits, sizeof(f));
	return f;
}

/*
 * Convert with round-to-nearest-even.  Returns false (and leaves *out
 * untouched) when |f| rounds to a value above the largest finite half, or
 * when f is NaN/Inf.
 */
static inline bool
vl_float_to_half(float f, uint16_t *out)
{
	uint32_t	bits;
	uint32_t	sign;
	uint32_t	absbits;
	int32_t		exp;
	uint32_t	mant;
	uint16_t	h;

	memcpy(&bits, &f, sizeof(bits));
	sign = (bits >> 16) & 0x8000;
	absbits = bits & 0x7fffffff;

	if (absbits >= 0x7f800000)	/* Inf or NaN */
		return false;

	exp = (int32_t) (absbits >> 23) - 127 + 15;	/* half exponent field */
	mant = absbits & 0x7fffff;

	if (exp >= 0x1f)			/* certainly too big */
		return false;

	if (exp <= 0)
	{
		/* subnormal half (or zero): shift the implicit-1 mantissa right */
		uint32_t	full;
		uint32_t	shift;
		uint32_t	rest;
		uint32_t	halfway;

		if (exp < -10)			/* below half the smallest subnormal */
		{
			*out = (uint16_t) sign;
			return true;
		}
		full = mant | 0x800000;
		shift = (uint32_t) (14 - exp);	/* 24-bit significand -> 10-bit field */
		h = (uint16_t) (full >> shift);
		rest = full & ((1u << shift) - 1);
		halfway = 1u << (shift - 1);
		if (rest > halfway || (rest == halfway && (h & 1)))
			h++;				/* may carry into the smallest normal: fine */
		*out = (uint16_t) (sign | h);
		return true;
	}

	/* normal: keep 10 of the 23 mantissa bits, round on the other 13 */
	h = (uint16_t) ((exp << 10) | (mant >> 13));
	{
		uint32_t	rest = mant & 0x1fff;

		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++;				/* carry may bump the exponent: still right */
	}
	if ((h & 0x7c00) == 0x7c00)	/* rounded up to infinity */
		return false;
	*out = (uint16_t) (sign | h);
	return true;
}

#endif							/* VLAKE_HALF_H */
