/*
 * vector_internal.h — helpers shared by the vector layer's SQL functions
 * (vector.c, halfvec.c, sparsevec.c, vector_cast.c, vector_agg.c).  Not a contract for
 * other layers: use vector.h and distance.h.
 */
#ifndef VLAKE_VECTOR_INTERNAL_H
#define VLAKE_VECTOR_INTERNAL_H

#include "utils/array.h"
#include "vector/vector.h"

/* dimension count is between 1 and VECTOR_MAX_DIM, else ERROR 22023 */
extern void vec_check_dim(int dim, const char *typname);
/* A one-dimensional SQL array without NULLs as floats (vector_cast.c);
 * sparse: up to sparsevec's dimension limit rather than vector's. */
extern float *vec_array_to_floats(ArrayType *arr, const char *typname, bool sparse, int *dim);

/* both operands of a binary operator have the same dimension count */
extern void vec_check_same_dim(int adim, int bdim);

/* a declared vector(n) accepts only n-dimensional values */
extern void vec_check_typmod(int dim, int32 typmod, const char *typname);

/* element is finite (no NaN, no Infinity), else ERROR 22000 */
extern void vec_check_element(float v, const char *typname);

/* typmod_in shared by vector(n) and halfvec(n) (max VECTOR_MAX_DIM) and
 * sparsevec(n) (max SPARSEVEC_MAX_DIM) */
extern int32 vec_typmod_in(ArrayType *ta, const char *typname);
extern int32 vec_typmod_in_max(ArrayType *ta, const char *typname, int32 maxdim);

/* the literal as quoted in an error message (long literals are cut) */
extern char *vec_literal_for_message(const char *str);

/* Read one element of a literal at p with strtof into *out, *end after it.
 * False when no number starts at p; ERRORs 22003 (out of range of real)
 * and 22000 (NaN, Infinity). */
extern bool vec_parse_element(const char *p, char **end, const char *typname,
							  float *out);

/*
 * Parse a '[1,2,3]' literal.  Returns a palloc'd array of *dim floats,
 * every one finite.  ERRORs (22P02, 22003, 22000, 22023) on bad input.
 */
extern float *vec_parse_literal(const char *str, const char *typname, int *dim);

/* Append the shortest decimal that reads back to exactly v. */
extern int	vec_format_float(float v, char *buf);

/* overflow / underflow of an element-wise result */
extern void vec_check_result(float r, float a, float b, bool is_mul);

/* float -> binary16, ERROR 22003 when out of range */
extern half vec_to_half_checked(float f);

/* 1 - dot / sqrt(na * nb), clamped; NaN when a norm is zero */
extern double vec_cosine_from_parts(double dot, double na, double nb);

/* aggregate state (float8[]: count, then per-dimension sums) */
extern ArrayType *vec_agg_accum(FunctionCallInfo fcinfo, ArrayType *state,
							   const float *x, int dim);
/* the state's count and dimension; pointer to its sums in *sums */
extern double vec_agg_state(ArrayType *state, int *dim, double **sums);

#endif							/* VLAKE_VECTOR_INTERNAL_H */
