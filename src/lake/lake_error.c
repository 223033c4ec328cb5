/*
 * lake_error.c — the one reporter for unusable lake data (lake_error.h).
 */
#include "postgres.h"

#include <stdarg.h>

#include "lake/lake_error.h"

void
lake_vreport(LakeProblem problem, const LakeErrorContext *ctx, const char *fmt, va_list ap)
{
	char		reason[512];
	const char *what = ctx && ctx->what ? ctx->what : "lake file";
	const char *object = ctx && ctx->object ? ctx->object : "(unnamed)";

	vsnprintf(reason, sizeof(reason), fmt, ap);
	ereport(ERROR,
			(errcode(problem == LAKE_CORRUPT ? ERRCODE_DATA_CORRUPTED
					 : ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s %s \"%s\": %s",
					problem == LAKE_CORRUPT ? "invalid" : "cannot read",
					what, object, reason),
			 (ctx && ctx->where) ? errdetail("%s", ctx->where) : 0,
			 (ctx && ctx->hint) ? errhint("%s", ctx->hint) : 0));
	pg_unreachable();
}

void
lake_report(LakeProblem problem, const LakeErrorContext *ctx, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	lake_vreport(problem, ctx, fmt, ap);
}

void
lake_corrupt(const char *what, const char *object, const char *fmt,...)
{
	LakeErrorContext ctx = {what, object, NULL, NULL};
	va_list		ap;

	va_start(ap, fmt);
	lake_vreport(LAKE_CORRUPT, &ctx, fmt, ap);
}
