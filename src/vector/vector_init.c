/*
 * vector_init.c — initialisation of the vector layer: pick the distance
 * kernels for this CPU once per process.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "vector/distance.h"
#include "vlake.h"

void
vlake_vector_init(void)
{
	distance_init();
}

/* vlake.distance_kernels(): the kernel level this backend uses. */
PG_FUNCTION_INFO_V1(vlake_distance_kernels);
Datum
vlake_distance_kernels(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(distance_level()));
}
