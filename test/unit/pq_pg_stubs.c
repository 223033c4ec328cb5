/*
 * pq_pg_stubs.c — the few backend symbols the Parquet codec/encoding code
 * (src/formats/pq_codec.c, pq_encoding.c) uses, for stand-alone programs:
 * unit tests and fuzz harnesses.  Link with libpgport (pg_strcasecmp,
 * strlcpy).
 *
 * ereport(ERROR) ends in errfinish(): if pq_stub_error_jmp is set the
 * message is kept in pq_stub_last_error and control longjmps there (a test
 * expecting an error, or a fuzz iteration), otherwise the program prints the
 * message and aborts.
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "pq_pg_stubs.h"

sigjmp_buf *pq_stub_error_jmp = NULL;
char		pq_stub_last_error[1024];
static int	cur_elevel;

static void *
checked(void *p, Size size)
{
	if (p == NULL && size > 0)
	{
		fprintf(stderr, "out of memory (%zu bytes)\n", (size_t) size);
		abort();
	}
	return p;
}

void *
palloc(Size size)
{
	return checked(malloc(size ? size : 1), size);
}

void *
palloc0(Size size)
{
	return checked(calloc(1, size ? size : 1), size);
}

void *
palloc_extended(Size size, int flags)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL && (flags & MCXT_ALLOC_NO_OOM))
		return NULL;
	checked(p, size);
	if (flags & MCXT_ALLOC_ZERO)
		memset(p, 0, size);
	return p;
}

void *
repalloc(void *pointer, Size size)
{
	return checked(realloc(pointer, size ? size : 1), size);
}

void *
repalloc_huge(void *pointer, Size size)
{
	return repalloc(pointer, size);
}

void
pfree(void *pointer)
{
	free(pointer);
}

bool
errstart(int elevel, const char *domain)
{
	cur_elevel = elevel;
	pq_stub_last_error[0] = '\0';
	return elevel >= ERROR;		/* drop notices and debug output */
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

static void
append_msg(const char *fmt, va_list ap)
{
	size_t		l = strlen(pq_stub_last_error);

	if (l > 0 && l < sizeof(pq_stub_last_error) - 2)
	{
		strcat(pq_stub_last_error, " | ");
		l += 3;
	}
	vsnprintf(pq_stub_last_error + l, sizeof(pq_stub_last_error) - l, fmt, ap);
}

#define STUB_MSG_FN(name) \
int name(const char *fmt,...) \
{ \
	va_list ap; \
	va_start(ap, fmt); \
	append_msg(fmt, ap); \
	va_end(ap); \
	return 0; \
}
STUB_MSG_FN(errmsg)
STUB_MSG_FN(errmsg_internal)
STUB_MSG_FN(errdetail)
STUB_MSG_FN(errhint)

int
errcode(int sqlerrcode)
{
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (cur_elevel < ERROR)
		return;
	if (pq_stub_error_jmp)
		siglongjmp(*pq_stub_error_jmp, 1);
	fprintf(stderr, "ERROR: %s (%s:%d)\n", pq_stub_last_error, filename, lineno);
	abort();
}
