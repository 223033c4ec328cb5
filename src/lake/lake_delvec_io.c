/*
 * lake_delvec_io.c — delete vectors to and from the lake (lake_delvec.h):
 * the object-store side, kept apart from lake_delvec.c so the format's unit
 * test links without an object store.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "lake/lake_delvec.h"
#include "lake/lake_error.h"
#include "objstore/objstore.h"

uint64
lake_delvec_write(ObjStore *store, const char *key, LakeDelvec *dv)
{
	size_t		len;
	char	   *buf = lake_delvec_serialize(dv, &len);

	/* lake files are immutable and uniquely named: an existing object is a
	 * naming bug, never something to overwrite */
	if (!objstore_put_if_absent(store, key, buf, len))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("delete vector \"%s\" already exists", objstore_uri(store, key))));
	pfree(buf);
	return len;
}

LakeDelvec *
lake_delvec_read(ObjStore *store, const char *key, const ObjStat *known)
{
	char	   *uri = objstore_uri(store, key);
	char	   *buf;
	uint64		len;
	LakeDelvec *dv;

	if (known != NULL)
	{
		ObjRange	r;

		if (known->size > MaxAllocSize)
			lake_report(LAKE_UNSUPPORTED,
						&(LakeErrorContext) {.what = LAKE_DELVEC_WHAT, .object = uri},
						"%llu bytes (at most %zu)", (unsigned long long) known->size,
						(size_t) MaxAllocSize);
		len = known->size;
		buf = palloc(Max(len, 1));
		r.offset = 0;
		r.length = len;
		r.dest = buf;
		if (len > 0)
			objstore_get_ranges_known(store, key, known, &r, 1);
	}
	else
		buf = objstore_get(store, key, &len);

	dv = lake_delvec_deserialize(buf, len, uri);
	pfree(buf);
	pfree(uri);
	return dv;
}
