/*
 * pg_standin.c — backend stand-ins for unit tests and fuzzers (see
 * pg_standin.h).  Allocations are chained so one reset frees them all.
 */
#include "postgres.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "pg_standin.h"

jmp_buf    *standin_error_jmp = NULL;
ErrorContextCallback *error_context_stack = NULL;
char		standin_last_error[1024];

volatile sig_atomic_t InterruptPending = false;
MemoryContext CurrentMemoryContext = NULL;
MemoryContext TopMemoryContext = NULL;

typedef struct Chunk
{
	struct Chunk *next;
	struct Chunk *prev;
	size_t		size;
	max_align_t align[];
} Chunk;

static Chunk *chunks = NULL;
static size_t allocated = 0;
static size_t peak = 0;

/* like the backend: refuse requests over the limit */
static void *
standin_alloc(size_t size, bool zero, bool huge)
{
	Chunk	   *c;

	if (size > (huge ? MaxAllocHugeSize : MaxAllocSize))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	c = zero ? calloc(1, sizeof(Chunk) + size) : malloc(sizeof(Chunk) + size);
	if (c == NULL)
	{
		fprintf(stderr, "out of memory (%zu bytes)\n", size);
		abort();
	}
	c->size = size;
	c->prev = NULL;
	c->next = chunks;
	if (chunks)
		chunks->prev = c;
	chunks = c;
	allocated += size;
	if (allocated > peak)
		peak = allocated;
	return c->align;
}

static Chunk *
chunk_of(void *p)
{
	return (Chunk *) ((char *) p - offsetof(Chunk, align));
}

static void
unlink_chunk(Chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		chunks = c->next;
	if (c->next)
		c->next->prev = c->prev;
	allocated -= c->size;
}

void *
palloc(Size size)
{
	return standin_alloc(size, false, false);
}

void *
palloc0(Size size)
{
	return standin_alloc(size, true, false);
}

void *
palloc_extended(Size size, int flags)
{
	return standin_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0, (flags & MCXT_ALLOC_HUGE) != 0);
}

void *
MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return standin_alloc(size, false, true);
}

void
pfree(void *p)
{
	Chunk	   *c = chunk_of(p);

	unlink_chunk(c);
	free(c);
}

static void *
standin_realloc(void *p, Size size, bool huge)
{
	Chunk	   *c = chunk_of(p);
	void	   *n = standin_alloc(size, false, huge);

	memcpy(n, p, Min(size, c->size));
	pfree(p);
	return n;
}

void *
repalloc(void *p, Size size)
{
	return standin_realloc(p, size, false);
}

void *
repalloc_huge(void *p, Size size)
{
	return standin_realloc(p, size, true);
}

char *
pstrdup(const char *s)
{
	size_t		n = strlen(s);
	char	   *d = palloc(n + 1);

	memcpy(d, s, n + 1);
	return d;
}

/* psprintf and StringInfo come from libpgcommon, over the palloc above */

static void standin_run_callbacks(void);

void
standin_reset(void)
{
	standin_run_callbacks();
	while (chunks)
	{
		Chunk	   *c = chunks;

		chunks = c->next;
		free(c);
	}
	allocated = 0;
	peak = 0;
}

size_t
standin_allocated(void)
{
	return allocated;
}

size_t
standin_peak_allocated(void)
{
	return peak;
}

void
ProcessInterrupts(void)
{
}

/* ---- ereport ---- */

static int	cur_elevel;

bool
errstart(int elevel, const char *domain)
{
	cur_elevel = elevel;
	standin_last_error[0] = '\0';
	return elevel >= ERROR || getenv("STANDIN_VERBOSE") != NULL;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

int
errcode(int sqlerrcode)
{
	return 0;
}

static void append_msg(const char *fmt, va_list ap) pg_attribute_printf(1, 0);

static void
append_msg(const char *fmt, va_list ap)
{
	size_t		len = strlen(standin_last_error);

	if (len > 0 && len < sizeof(standin_last_error) - 3)
	{
		strcat(standin_last_error, " | ");
		len += 3;
	}
	vsnprintf(standin_last_error + len, sizeof(standin_last_error) - len, fmt, ap);
}

#define DEFINE_ERRFN(name) \
int name(const char *fmt,...) \
{ va_list ap; va_start(ap, fmt); append_msg(fmt, ap); va_end(ap); return 0; }

DEFINE_ERRFN(errmsg)
DEFINE_ERRFN(errmsg_internal)
DEFINE_ERRFN(errdetail)
DEFINE_ERRFN(errdetail_internal)
DEFINE_ERRFN(errhint)

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (cur_elevel < ERROR)
	{
		if (getenv("STANDIN_VERBOSE"))
			fprintf(stderr, "log: %s\n", standin_last_error);
		return;
	}
	/* run the error context callbacks, as the backend does */
	for (ErrorContextCallback *cb = error_context_stack; cb; cb = cb->previous)
		cb->callback(cb->arg);
	error_context_stack = NULL;
	if (getenv("STANDIN_VERBOSE"))
		fprintf(stderr, "ERROR: %s\n", standin_last_error);
	if (standin_error_jmp == NULL)
	{
		fprintf(stderr, "uncaught ERROR: %s\n", standin_last_error);
		abort();
	}
	longjmp(*standin_error_jmp, 1);
}

/* ---- memory contexts: allocation goes to the chunk list; reset/delete
 * free nothing until standin_reset() (per fuzz input / test). ---- */

static struct MemoryContextData standin_context;

/* Reset callbacks (one list: there is one context) run by every reset or
 * delete and by standin_reset(), before memory is freed, as in the
 * backend. */
static MemoryContextCallback *standin_callbacks = NULL;

void
MemoryContextRegisterResetCallback(MemoryContext context, MemoryContextCallback *cb)
{
	cb->next = standin_callbacks;
	standin_callbacks = cb;
}

static void
standin_run_callbacks(void)
{
	while (standin_callbacks)
	{
		MemoryContextCallback *cb = standin_callbacks;

		standin_callbacks = cb->next;
		cb->func(cb->arg);
	}
}

MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name,
							  Size minContextSize, Size initBlockSize, Size maxBlockSize)
{
	return &standin_context;
}

void
MemoryContextReset(MemoryContext context)
{
	standin_run_callbacks();
}

void
MemoryContextDelete(MemoryContext context)
{
	standin_run_callbacks();
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return palloc(size);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return palloc0(size);
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out = palloc(len + 1);

	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}


int
errcontext_msg(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	append_msg(fmt, ap);
	va_end(ap);
	return 0;
}

int
set_errcontext_domain(const char *domain)
{
	return 0;
}
