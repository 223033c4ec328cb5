/*
 * bit.c — binary vectors on PostgreSQL's core bit type, as pgvector has them:
 * binary_quantize(vector | halfvec) -> bit, hamming_distance / <~> and
 * jaccard_distance / <%> (docs/vector.md, "Binary vectors").
 *
 * A bit string's bytes hold its bits most significant first and its pad
 * bits are zero (varbit.c guarantees both), so the kernels count whole
 * bytes.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/varbit.h"

#include "vector/distance.h"
#include "vector/half.h"
#include "vector/vector.h"

static void
bit_check_same_len(const VarBit *a, const VarBit *b)
{
	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %d and %d", VARBITLEN(a), VARBITLEN(b))));
}

/* Number of differing bits, as float8. */
PG_FUNCTION_INFO_V1(vlake_hamming_distance);
Datum
vlake_hamming_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);

	bit_check_same_len(a, b);
	PG_RETURN_FLOAT8((double) vec_hamming_bits(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
}

/*
 * 1 - |a & b| / |a | b|; 1 when no bit is set in both (two all-zero strings
 * included), as pgvector defines it.
 */
PG_FUNCTION_INFO_V1(vlake_jaccard_distance);
Datum
vlake_jaccard_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);
	uint64		c[3];

	bit_check_same_len(a, b);
	vec_jaccard_bits(VARBITS(a), VARBITS(b), VARBITBYTES(a), c);
	if (c[0] == 0)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(1.0 - (double) c[0] / (double) (c[1] + c[2] - c[0]));
}

/* A bit string of dim bits, all zero. */
static VarBit *
bit_new(int dim)
{
	Size		size = VARBITTOTALLEN(dim);
	VarBit	   *r = palloc0(size);

	SET_VARSIZE(r, size);
	VARBITLEN(r) = dim;
	return r;
}

/* Bit i is set when element i is > 0 (NaN cannot occur in either type). */
PG_FUNCTION_INFO_V1(vlake_binary_quantize);
Datum
vlake_binary_quantize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	VarBit	   *r = bit_new(v->dim);
	bits8	   *rx = VARBITS(r);

	for (int i = 0; i < v->dim; i++)
		if (v->x[i] > 0)
			rx[i / 8] |= (bits8) (0x80 >> (i % 8));
	PG_RETURN_VARBIT_P(r);
}

PG_FUNCTION_INFO_V1(vlake_halfvec_binary_quantize);
Datum
vlake_halfvec_binary_quantize(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	VarBit	   *r = bit_new(v->dim);
	bits8	   *rx = VARBITS(r);

	/* a half is > 0 when its sign bit is clear and it is not +0 */
	for (int i = 0; i < v->dim; i++)
		if ((v->x[i] & 0x8000) == 0 && v->x[i] != 0)
			rx[i / 8] |= (bits8) (0x80 >> (i % 8));
	PG_RETURN_VARBIT_P(r);
}
