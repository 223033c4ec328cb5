/*
 * s3_backend.c — the s3:// backend (placeholder until the S3 client lands).
 */
#include "postgres.h"

#include "objstore/objstore_backend.h"

static void *
s3_open(const char *root_uri)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("s3:// lakes are not supported by this build: \"%s\"", root_uri)));
	return NULL;
}

const ObjBackendOps objstore_s3_ops = {
	.open = s3_open,
};
