/*
 * pg_standin.h — just enough of the backend (palloc, ereport) to run the
 * formats layer's decoders outside a server: in unit tests and under
 * libFuzzer.  ereport(ERROR) longjmps back to the innermost STANDIN_TRY.
 */
#ifndef VLAKE_PG_STANDIN_H
#define VLAKE_PG_STANDIN_H

#include <setjmp.h>

extern jmp_buf *standin_error_jmp;
extern char standin_last_error[1024];

/* Free everything palloc'd since the last reset. */
extern void standin_reset(void);
/* Bytes currently allocated (for bounded-memory assertions). */
extern size_t standin_allocated(void);
extern size_t standin_peak_allocated(void);

/* Run stmt; evaluates to true when it raised an ERROR. */
#define STANDIN_CATCH(stmt) \
	({ jmp_buf _jb; jmp_buf *_save = standin_error_jmp; bool _err = false; \
	   standin_error_jmp = &_jb; \
	   if (setjmp(_jb) == 0) { stmt; } else _err = true; \
	   standin_error_jmp = _save; _err; })

#endif
