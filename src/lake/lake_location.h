/*
 * lake_location.h — where lake assets live (layer "lake").
 *
 * A location is the root URI under which one asset (an index, a table's
 * dataset) writes its objects: "file:///dir/" or "s3://bucket/prefix/".
 * A new asset takes, in order: the location its owner was given (an index's
 * or a table's `location` option), vlake.default_location, or the embedded
 * lake, file://<data directory>/vlake_lake/ (objstore.h), which needs no
 * setting — so a first CREATE INDEX works on a fresh cluster.
 *
 * Errors: ERROR with ERRCODE_INVALID_PARAMETER_VALUE naming the location.
 * Memory: results are palloc'd in CurrentMemoryContext.
 */
#ifndef VLAKE_LAKE_LOCATION_H
#define VLAKE_LAKE_LOCATION_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* Longest location URI, with its terminating NUL (index metapages store one). */
#define LAKE_LOCATION_MAX	512

/* GUC vlake.default_location ("" = the embedded lake). */
extern char *lake_default_location;

/* The location a new asset writes to: explicit when given (not NULL, not
 * ""), else vlake.default_location, else the embedded lake; checked. */
extern char *lake_location_choose(const char *explicit_location);

/* ERROR unless uri can be a location (a scheme and path the object store
 * serves, shorter than LAKE_LOCATION_MAX).  what names it in the message,
 * e.g. "vlake index location". */
extern void lake_location_check(const char *uri, const char *what);

/*
 * The roots this cluster has written lake parts to, kept in the file
 * LAKE_LOCATIONS_FILE of the data directory (one URI a line), so garbage
 * collection can visit them after the indexes and databases that used them
 * are gone.  lake_location_remember() adds a root (writers call it through
 * lake_part_begin()); a failure to record it is a WARNING, never an ERROR.
 * lake_locations_known() lists them (List of char *).
 */
#define LAKE_LOCATIONS_FILE "vlake_locations"
extern void lake_location_remember(const char *root_uri);
extern List *lake_locations_known(void);

#endif							/* VLAKE_LAKE_LOCATION_H */
