/*
 * distance.h — distance kernels, chosen once at load time by CPU features.
 *
 * Backend-independent (no postgres.h): unit tests and benchmarks link the
 * kernels directly.  distance_init() picks AVX-512, AVX2+FMA or the scalar
 * loop (NEON on arm64); the pointers below are then fixed for the process.
 * Accumulation is in float32 with several independent accumulators; see
 * docs/vector.md for the error bounds the unit tests enforce.
 */
#ifndef VLAKE_DISTANCE_H
#define VLAKE_DISTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef float (*vec_f32_kernel) (const float *a, const float *b, int n);
typedef float (*vec_f16_kernel) (const uint16_t *a, const uint16_t *b, int n);

/* float32: squared L2, inner product, L1 */
extern vec_f32_kernel vec_l2sq_f32;
extern vec_f32_kernel vec_dot_f32;
extern vec_f32_kernel vec_l1_f32;
/* binary16 inputs, float32 arithmetic */
extern vec_f16_kernel vec_l2sq_f16;
extern vec_f16_kernel vec_dot_f16;
extern vec_f16_kernel vec_l1_f16;

/*
 * Cosine parts in one pass (extension of the contract): out[0] = a.b,
 * out[1] = a.a, out[2] = b.b.
 */
typedef void (*vec_f32_cos_kernel) (const float *a, const float *b, int n, float out[3]);
typedef void (*vec_f16_cos_kernel) (const uint16_t *a, const uint16_t *b, int n, float out[3]);
extern vec_f32_cos_kernel vec_cos_f32;
extern vec_f16_cos_kernel vec_cos_f16;

/* Select kernels for this CPU; idempotent.  Returns the name chosen
 * ("avx512", "avx2", "neon", "scalar").  VLAKE_KERNELS=scalar|avx2|avx512
 * in the environment forces a level (for tests and benchmarks). */
extern const char *distance_init(void);

/*
 * One level's kernels, for tests and benchmarks that compare levels.
 * distance_kernel_set() returns NULL for a level that is unknown, not
 * compiled for this architecture, or not supported by this CPU.
 */
typedef struct VecKernelSet
{
	const char *name;
	vec_f32_kernel l2sq_f32;
	vec_f32_kernel dot_f32;
	vec_f32_kernel l1_f32;
	vec_f16_kernel l2sq_f16;
	vec_f16_kernel dot_f16;
	vec_f16_kernel l1_f16;
	vec_f32_cos_kernel cos_f32;
	vec_f16_cos_kernel cos_f16;
} VecKernelSet;

extern const VecKernelSet *distance_kernel_set(const char *name);

/*
 * Bit strings (the bit type's bytes, pad bits zero): Hamming distance =
 * popcount(a ^ b); the Jaccard kernel returns popcount(a & b), popcount(a)
 * and popcount(b) in out[0..2].  POPCNT on x86 when the CPU has it
 * (chosen by distance_init(), or distance_bits_use()), else portable C.
 */
typedef uint64_t (*vec_bits_hamming_kernel) (const uint8_t *a, const uint8_t *b, size_t nbytes);
typedef void (*vec_bits_jaccard_kernel) (const uint8_t *a, const uint8_t *b, size_t nbytes,
										 uint64_t out[3]);
extern vec_bits_hamming_kernel vec_hamming_bits;
extern vec_bits_jaccard_kernel vec_jaccard_bits;
/* fast = false forces the portable loops (tests compare both). */
extern void distance_bits_use(bool fast);
extern const char *distance_bits_level(void);

/* Name of the kernel level in use. */
extern const char *distance_level(void);

#endif							/* VLAKE_DISTANCE_H */
