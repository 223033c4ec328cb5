/*
 * vector.h — the vector, halfvec and sparsevec types (on-disk layout and accessors).
 *
 * The layout matches pgvector's so binary send/recv and dumps interoperate:
 * a varlena header, int16 dimension count, int16 reserved (zero), then the
 * elements (float4 for vector, IEEE binary16 for halfvec).
 */
#ifndef VLAKE_VECTOR_H
#define VLAKE_VECTOR_H

#include "postgres.h"
#include "fmgr.h"

#define VECTOR_MAX_DIM 16000

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;
	int16		unused;			/* reserved, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

typedef uint16 half;			/* IEEE 754 binary16, stored bits */

typedef struct HalfVector
{
	int32		vl_len_;
	int16		dim;
	int16		unused;
	half		x[FLEXIBLE_ARRAY_MEMBER];
} HalfVector;

/*
 * sparsevec: the non-zero elements only.  Layout (pgvector's, so values
 * move between the two unchanged): varlena header, int32 dim, int32 nnz,
 * int32 reserved (zero), int32 indices[nnz] (0-based, strictly increasing),
 * then float4 values[nnz] (finite, never zero).
 */
#define SPARSEVEC_MAX_DIM 1000000000
#define SPARSEVEC_MAX_NNZ 16000

typedef struct SparseVector
{
	int32		vl_len_;
	int32		dim;
	int32		nnz;
	int32		unused;			/* reserved, always zero */
	int32		indices[FLEXIBLE_ARRAY_MEMBER];
	/* float values[nnz] follow the indices */
} SparseVector;

#define SPARSEVEC_SIZE(nnz)		(offsetof(SparseVector, indices) + (sizeof(int32) + sizeof(float)) * (Size) (nnz))
#define SPARSEVEC_VALUES(v)		((float *) ((v)->indices + (v)->nnz))

#define VECTOR_SIZE(dim)		(offsetof(Vector, x) + sizeof(float) * (dim))
#define HALFVEC_SIZE(dim)		(offsetof(HalfVector, x) + sizeof(half) * (dim))

#define DatumGetVector(d)		((Vector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_VECTOR_P(n)	DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(v)	PG_RETURN_POINTER(v)
#define DatumGetHalfVector(d)	((HalfVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_HALFVEC_P(n)	DatumGetHalfVector(PG_GETARG_DATUM(n))
#define PG_RETURN_HALFVEC_P(v)	PG_RETURN_POINTER(v)
#define DatumGetSparseVector(d)	((SparseVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_SPARSEVEC_P(n) DatumGetSparseVector(PG_GETARG_DATUM(n))
#define PG_RETURN_SPARSEVEC_P(v) PG_RETURN_POINTER(v)

extern Vector *vector_new(int dim);
extern HalfVector *halfvec_new(int dim);
extern SparseVector *sparsevec_new(int dim, int nnz);

/* OIDs of vlake's vector and halfvec types (in the extension's schema);
 * InvalidOid when the extension is not installed in this database. */
/* The OID of a type the extension script creates (in vlake's schema), or
 * InvalidOid; name must outlive the backend (a string literal). */
extern Oid	vector_extension_type_oid(const char *name);
extern Oid	vector_type_oid(void);
extern Oid	halfvec_type_oid(void);

#endif							/* VLAKE_VECTOR_H */
