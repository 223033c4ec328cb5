/*
 * objref_init.c — initialisation of the objref layer: its settings.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "objref/objref.h"
#include "vlake.h"

void
vlake_objref_init(void)
{
	DefineCustomIntVariable("vlake.objref_read_max_bytes",
							"Most bytes one call of vlake.objref_read returns.",
							"Larger objects are read in ranges (offset, length).",
							&objref_read_max_bytes, 64 * 1024 * 1024, 0, 1024 * 1024 * 1024 - 1024,
							PGC_USERSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
}
