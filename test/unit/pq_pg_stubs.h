/* pq_pg_stubs.h — see pq_pg_stubs.c */
#ifndef VLAKE_PQ_PG_STUBS_H
#define VLAKE_PQ_PG_STUBS_H
#include <setjmp.h>

extern sigjmp_buf *pq_stub_error_jmp;
extern char pq_stub_last_error[1024];

/* Evaluates to true if stmt raised ERROR (the message is in pq_stub_last_error). */
#define PQ_RAISES(stmt) \
	({ sigjmp_buf jb_; volatile bool raised_ = false; \
	   if (sigsetjmp(jb_, 0) == 0) { pq_stub_error_jmp = &jb_; stmt; } \
	   else raised_ = true; \
	   pq_stub_error_jmp = NULL; raised_; })

#endif
