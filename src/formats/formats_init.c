/*
 * formats_init.c — initialisation of the formats layer (GUCs, hooks).
 */
#include "postgres.h"

#include "vlake.h"

void
vlake_formats_init(void)
{
}
