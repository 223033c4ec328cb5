/*
 * s3_config.h — s3:// configuration from the catalogs (vlake_s3 servers and
 * user mappings) and the vlake.s3_* GUCs.  Parts of the objstore layer only.
 */
#ifndef VLAKE_S3_CONFIG_H
#define VLAKE_S3_CONFIG_H

#include "objstore/s3_client.h"

/* Define the vlake.s3_* GUCs (from vlake_objstore_init). */
extern void s3_define_gucs(void);

/*
 * Resolve the server, endpoint and credentials of the current user for
 * root_uri ("s3://bucket/prefix/"); also splits it into bucket and key
 * prefix ("" or "prefix/").  ERRORs with a hint when nothing is configured
 * or the user may not use it.
 */
extern S3Target *s3_target_for_uri(const char *root_uri, char **bucket, char **prefix);

/* Deep copy (for writers, which outlive the store). */
extern S3Target *s3_target_copy(const S3Target *src);

#endif							/* VLAKE_S3_CONFIG_H */
