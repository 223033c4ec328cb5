/*
 * vector_init.c — initialisation of the vector layer (GUCs, hooks).
 */
#include "postgres.h"

#include "vlake.h"

void
vlake_vector_init(void)
{
}
