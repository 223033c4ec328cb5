/*
 * planner_init.c — the planner layer's initialisation: the hybrid custom
 * scan (docs/hybrid.md).
 */
#include "postgres.h"

#include "planner/hyb_scan.h"
#include "vlake.h"

void
vlake_planner_init(void)
{
	hyb_scan_init();
}
