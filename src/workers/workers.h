/*
 * workers.h — the periodic jobs vlake's database workers run (layer
 * "workers", the top layer: it calls the index and, later, the table AM).
 * The processes themselves belong to the lake layer (lake_worker.h).
 */
#ifndef VLAKE_WORKERS_H
#define VLAKE_WORKERS_H

/* GUCs vlake.index_merge_naptime, vlake.index_merge_threshold */
extern int	workers_index_naptime;
extern int	workers_index_threshold;

/* GUCs vlake.flush_naptime, vlake.flush_threshold, vlake.flush_max_age,
 * vlake.table_gc_min_age (workers_tables.c) */
extern int	workers_flush_naptime;
extern int	workers_flush_threshold;
extern int	workers_flush_max_age;
extern int	workers_table_gc_min_age;
extern int	workers_compact_naptime;

/* Register the table maintenance task (workers_tables.c). */
extern void workers_tables_register(void);

/* Register the index maintenance task (workers_index.c). */
extern void workers_index_register(void);

/* GUC vlake.publish_naptime; register the table publication task
 * (workers_publish.c). */
extern int	workers_publish_naptime;
extern void workers_publish_register(void);

#endif							/* VLAKE_WORKERS_H */
