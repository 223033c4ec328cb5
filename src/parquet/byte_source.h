/*
 * byte_source.h — random-access bytes of one immutable object, for the
 * file-format readers.
 *
 * A ByteSource has a size, reads one or several ranges (several in one call
 * so an object store can coalesce or pipeline them), and a name (the full
 * URI) that every error message uses.  Reads past the end ERROR.  Counters
 * (requests, bytes) let tests assert how much a reader touched.
 *
 * Implementations: memory (tests, fuzzing) and the ObjStore adapter
 * (objstore_get_ranges: one call for several ranges; local files are
 * file:// objects).
 */
#ifndef VLAKE_BYTE_SOURCE_H
#define VLAKE_BYTE_SOURCE_H

#include "postgres.h"

typedef struct ByteRange
{
	uint64		offset;
	uint64		length;
	char	   *dest;			/* caller buffer of length bytes */
} ByteRange;

typedef struct ByteSource ByteSource;

struct ByteSource
{
	const char *name;			/* URI for messages */
	uint64		size;
	/* the immutable version read (an ETag a catalog named; the source
	 * refuses other versions), or NULL; decoded pages of a versioned
	 * source may be cached (parquet_page_cache.h) */
	const char *version;
	/* ranges are already checked against size */
	void		(*read_ranges) (ByteSource *src, ByteRange *ranges, int n);
	void		(*close) (ByteSource *src);
	void	   *state;
	uint64		nrequests;		/* read_ranges calls */
	uint64		nranges;
	uint64		nbytes;
};

/* Read ranges; ERROR naming the source if any range is outside the object. */
extern void parquet_source_read_ranges(ByteSource *src, ByteRange *ranges, int n);
/* One range into a new palloc'd buffer. */
extern char *parquet_source_read(ByteSource *src, uint64 offset, uint64 length);
extern void parquet_source_close(ByteSource *src);

/* Wrap a buffer (not copied; must outlive the source). */
extern ByteSource *parquet_source_from_memory(const void *data, uint64 size, const char *name);

#ifndef VLAKE_FRONTEND_TOOL
/* An object by URI (file:// or s3://) through the objstore layer, which
 * enforces vlake.allowed_file_roots and uses its cache and counters. */
extern ByteSource *parquet_source_open_uri(const char *uri);
#endif

#endif							/* VLAKE_BYTE_SOURCE_H */
