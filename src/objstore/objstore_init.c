/*
 * objstore_init.c — initialisation of the objstore layer (GUCs, hooks).
 */
#include "postgres.h"

#include "vlake.h"

void
vlake_objstore_init(void)
{
}
