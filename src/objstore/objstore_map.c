/*
 * objstore_map.c — read-only file mappings and SIGBUS-guarded copies out of
 * them (see objstore_map.h for why and the rules).
 *
 * The guard: a copy sets a jump target, copies, clears it.  A SIGBUS in
 * between (the only memory the copy reads is the mapping; dest is ordinary
 * memory) enters on_sigbus, which jumps back and the copy returns false.
 * The handler is installed with SA_NODEFER and the target set with
 * sigsetjmp(.., 0): jumping out of the handler then leaves SIGBUS unblocked
 * without a signal-mask system call on every copy.  Between setting the
 * target and the jump nothing but the copy runs, so no state is left half
 * changed; the locals the caller reads afterwards are not modified in the
 * protected region.
 */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "objstore/objstore_map.h"

static sigjmp_buf *volatile copy_target = NULL;
static struct sigaction previous;
static bool installed = false;

static void
on_sigbus(int signo, siginfo_t *info, void *context)
{
	sigjmp_buf *target = copy_target;

	if (target != NULL)
	{
		copy_target = NULL;
		siglongjmp(*target, 1);
	}
	/* not a guarded copy: the old disposition handles the repeated fault */
	sigaction(SIGBUS, &previous, NULL);
}

static bool
install_handler(void)
{
	struct sigaction sa;

	if (installed)
		return true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &previous) != 0)
		return false;
	installed = true;
	return true;
}

const char *
objstore_map_open(int fd, uint64_t len)
{
	void	   *p;

	if (len == 0 || len > (uint64_t) SIZE_MAX || !install_handler())
		return NULL;
	p = mmap(NULL, (size_t) len, PROT_READ, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : (const char *) p;
}

void
objstore_map_close(const char *base, uint64_t len)
{
	if (base != NULL)
		munmap((void *) base, (size_t) len);
}

bool
objstore_map_copy(void *dest, const char *src, size_t len)
{
	sigjmp_buf	target;

	if (sigsetjmp(target, 0) != 0)
		return false;
	copy_target = &target;
	memcpy(dest, src, len);
	copy_target = NULL;
	return true;
}
