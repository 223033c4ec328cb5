/*
 * objstore_backend.h — what a storage backend (file://, s3://) implements.
 *
 * objstore.c owns URI parsing, the tiered cache, counters and the public
 * API; a backend only moves bytes.  Backends ERROR on failure with the URI
 * and the cause; objstore.c never retries (the S3 backend retries itself,
 * only idempotent requests).
 */
#ifndef VLAKE_OBJSTORE_BACKEND_H
#define VLAKE_OBJSTORE_BACKEND_H

#include "objstore/objstore.h"

typedef struct ObjBackend ObjBackend;

typedef struct ObjBackendOps
{
	/* root_uri is the full root; returns backend-private state. */
	void	   *(*open) (const char *root_uri);
	void		(*close) (void *state);
	bool		(*head) (void *state, const char *key, ObjStat *stat);
	void		(*get_ranges) (void *state, const char *key, ObjRange *ranges, int n);
	char	   *(*get) (void *state, const char *key, uint64 *len);
	void		(*put) (void *state, const char *key, const char *data, uint64 len);
	bool		(*put_if_absent) (void *state, const char *key, const char *data, uint64 len);
	/* If-Match style conditional replace: false if the current etag differs. */
	bool		(*put_if_match) (void *state, const char *key, const char *data, uint64 len,
								 const char *etag);
	/*
	 * Writers: writer_begin is called with CurrentMemoryContext set to a
	 * long-lived context owned by objstore.c, and so are writer_write,
	 * writer_finish and writer_abort.  The writer state must not point into
	 * the store's state: if the transaction aborts first, objstore.c calls
	 * writer_abort from its abort callback when the store may be gone.
	 */
	void	   *(*writer_begin) (void *state, const char *key);
	void		(*writer_write) (void *wstate, const char *data, uint64 len);
	void		(*writer_finish) (void *wstate);
	void		(*writer_abort) (void *wstate);
	List	   *(*list) (void *state, const char *prefix);
	void		(*delete_keys) (void *state, List *keys);

	/*
	 * Optional (NULL if not implemented).  Like get_ranges, but every byte
	 * delivered comes from the version of the object whose etag is given
	 * (S3: GET with If-Match; file: fstat of the opened descriptor); returns
	 * false, delivering nothing trustworthy, if the current etag differs.
	 * The disk cache stores fetched blocks under (etag, size) only when this
	 * exists, so that a replace racing a fetch can never poison the cache;
	 * without it the cache re-validates with a second head after the fetch.
	 */
	bool		(*get_ranges_if_match) (void *state, const char *key, ObjRange *ranges,
										int n, const char *etag);

	/*
	 * Optional.  Remove what interrupted writes left under prefix (file:
	 * ".vlake-tmp.*" files; S3: incomplete multipart uploads) that is older
	 * than min_age_secs; returns how many were removed.
	 */
	int64		(*reclaim_temporaries) (void *state, const char *prefix, int64 min_age_secs);

	/*
	 * Optional.  The local file a streamed write goes to, which other
	 * processes may open with objstore_shared_open() (file backend).
	 */
	const char *(*writer_shared_name) (void *wstate);
} ObjBackendOps;

extern const ObjBackendOps objstore_file_ops;	/* objstore/file_backend.c */
extern const ObjBackendOps objstore_s3_ops;		/* objstore/s3_backend.c */

#endif							/* VLAKE_OBJSTORE_BACKEND_H */
