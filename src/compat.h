/*
 * compat.h — the seams between PostgreSQL major versions.
 *
 * vlake targets PostgreSQL 15 first.  Anything that differs between major
 * versions goes behind a macro here, so 16 and 17 only need this file.
 */
#ifndef VLAKE_COMPAT_H
#define VLAKE_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "vlake requires PostgreSQL 15 or later"
#endif

/* Reserve the "vlake." GUC prefix so typos in vlake.* settings are reported. */
#if PG_VERSION_NUM >= 150000
#define VLAKE_RESERVE_GUC_PREFIX(prefix) MarkGUCPrefixReserved(prefix)
#else
#define VLAKE_RESERVE_GUC_PREFIX(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

#endif							/* VLAKE_COMPAT_H */
