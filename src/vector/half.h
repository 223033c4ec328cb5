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

#define VEC_HALF_MAX 65504.0f

/*
 * binary16 -> binary32, exact, without branches on the value class:
 * place the 15 exponent+mantissa bits where a float keeps them and
 * multiply by 2^112, which rebiases the exponent (15 -> 127) and, for a
 * subnormal half, turns the denormal float into the right normal one.
 * Results of 2^16 or more can only come from exponent 31: Inf or NaN.
 */
static inline float
vec_half_to_float(uint16_t h)
{
	uint32_t	bits = (uint32_t) (h & 0x7fff) << 13;
	const uint32_t scale_bits = 0x77800000;	/* 2^112 */
	float		f,
				scale;

	memcpy(&f, &bits, sizeof(f));
	memcpy(&scale, &scale_bits, sizeof(scale));
	f *= scale;
	memcpy(&bits, &f, sizeof(bits));
	/* Inf / NaN (payload kept); branch-free so loops of it vectorise */
	bits |= (uint32_t) -(int32_t) (f >= 65536.0f) & 0x7f800000;
	bits |= (uint32_t) (h & 0x8000) << 16;
	memcpy(&f, &bits, sizeof(f));
	return f;
}

/*
 * Convert with round-to-nearest-even.  Returns false (and leaves *out
 * untouched) when |f| rounds to a value above the largest finite half, or
 * when f is NaN/Inf.
 */
static inline bool
vec_float_to_half(float f, uint16_t *out)
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
