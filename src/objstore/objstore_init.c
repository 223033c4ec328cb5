/*
 * objstore_init.c — initialisation of the objstore layer (GUCs, hooks).
 */
#include "postgres.h"

#include "vlake.h"
#include "objstore/s3_config.h"

void
vlake_objstore_init(void)
{
	s3_define_gucs();			/* objstore-s3: vlake.s3_* */
}
