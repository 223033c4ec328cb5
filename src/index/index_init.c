/*
 * index_init.c — initialisation of the index layer (GUCs, hooks).
 */
#include "postgres.h"

#include "vlake.h"

void
vlake_index_init(void)
{
}
