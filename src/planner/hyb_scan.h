/*
 * hyb_scan.h — the hybrid custom scan (hyb_scan.c, docs/hybrid.md): the
 * planner hook that plans ORDER BY vlake.rrf(...) / vlake.fuse(...) LIMIT k
 * as one scan over ranked branches, and its executor.
 */
#ifndef VLAKE_HYB_SCAN_H
#define VLAKE_HYB_SCAN_H

/* Registers the custom scan and the set_rel_pathlist hook (_PG_init). */
extern void hyb_scan_init(void);

#endif							/* VLAKE_HYB_SCAN_H */
