/*
 * lake_fault.h — fault points for crash tests (layer "lake").
 *
 * Every lake writer calls lake_fault("<point>") at each step whose
 * interruption must be survivable (docs/tables.md lists the points).  The
 * superuser-only setting vlake.fault_points arms some of them:
 *
 *   SET vlake.fault_points = 'flush_after_files:crash, copy_after_files:sleep';
 *
 * Actions: crash (abort() here: the server restarts and recovers, as after
 * kill -9 of this backend), error (an ERROR, as if the step failed), sleep
 * (log "vlake fault point <p> reached" and sleep until killed or cancelled,
 * so a test can kill -9 the postmaster at that moment).  Unarmed points
 * cost one string comparison per armed entry (none by default).
 */
#ifndef VLAKE_LAKE_FAULT_H
#define VLAKE_LAKE_FAULT_H

extern char *lake_fault_points;	/* GUC vlake.fault_points */

extern void lake_fault(const char *point);
extern void lake_fault_init(void);

#endif							/* VLAKE_LAKE_FAULT_H */
