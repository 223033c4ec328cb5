/*
 * lake_error.h — the one reporter for lake data vlake cannot use (layer
 * "lake").
 *
 * Every reader of lake files (generic Parquet, vlake's ColumnGroup layouts,
 * index parts, manifests) reports a bad file through lake_report(), so a
 * user sees one message shape whatever the file:
 *
 *   ERROR:  invalid <what> "<object>": <reason>        SQLSTATE XX001
 *   ERROR:  cannot read <what> "<object>": <reason>    SQLSTATE 0A000
 *   DETAIL: <where>                                    (when given)
 *   HINT:   <hint>                                     (when given)
 *
 * <what> names the kind of file ("Parquet file", "vlake index file"),
 * <object> the file (its URI where known; never a credential — URIs carry
 * none), <reason> what is wrong, <where> the place inside the file (column,
 * row group, page, byte offset).  LAKE_CORRUPT is for data that breaks its
 * format's rules; LAKE_UNSUPPORTED for valid data using a feature vlake does
 * not implement.  lake_report() does not return (ereport(ERROR)).
 *
 * Backend-light: it uses only ereport, so the decoders' stand-alone unit
 * tests and fuzzers (test/fuzz/pg_standin.c) link it as it is.
 */
#ifndef VLAKE_LAKE_ERROR_H
#define VLAKE_LAKE_ERROR_H

#include "postgres.h"

#include <stdarg.h>

typedef enum LakeProblem
{
	LAKE_CORRUPT,				/* ERRCODE_DATA_CORRUPTED */
	LAKE_UNSUPPORTED			/* ERRCODE_FEATURE_NOT_SUPPORTED */
} LakeProblem;

/* Where a reader is in a file: passed down so low-level decoders can report
 * the file without knowing it.  Any field may be NULL. */
typedef struct LakeErrorContext
{
	const char *what;			/* "Parquet file", default "lake file" */
	const char *object;			/* URI or name */
	const char *where;			/* "column \"x\", row group 2, page 7" */
	const char *hint;
} LakeErrorContext;

extern void lake_report(LakeProblem problem, const LakeErrorContext *ctx,
						const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();

/* The same with a va_list, for reporters that add their own context. */
extern void lake_vreport(LakeProblem problem, const LakeErrorContext *ctx,
						 const char *fmt, va_list ap)
			pg_attribute_printf(3, 0) pg_attribute_noreturn();

/* Shorthand for the common case: a corrupt file, no place, no hint. */
extern void lake_corrupt(const char *what, const char *object, const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();

#endif							/* VLAKE_LAKE_ERROR_H */
