/*
 * vlake.h — module-wide contract: initialisation of each layer and the
 * shared_preload_libraries check.
 *
 * Each layer exposes one <layer>_init() that defines its vlake.* GUCs and
 * hooks; _PG_init() calls them in layer order.
 */
#ifndef VLAKE_H
#define VLAKE_H

#include "postgres.h"

#define VLAKE_VERSION_STR "0.1.0"

/* True when vlake was loaded through shared_preload_libraries. */
extern bool vlake_preloaded;

/*
 * ERROR out (with a hint saying how to fix it) when a feature that needs
 * shared memory or background workers is used without preloading vlake.
 */
extern void vlake_require_preload(const char *feature);

/* Per-layer initialisation, called once from _PG_init(). */
extern void vlake_vector_init(void);
extern void vlake_objstore_init(void);
extern void vlake_lake_init(void);
extern void vlake_objref_init(void);
extern void vlake_pgmap_init(void);
extern void vlake_tableam_init(void);
extern void vlake_index_init(void);
extern void vlake_fulltext_init(void);
extern void vlake_planner_init(void);
extern void vlake_workers_init(void);

#endif							/* VLAKE_H */
