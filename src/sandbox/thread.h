/*
 * thread.h: how the library starts its threads (vCPUs, the virtio-fs loop
 * and workers, later the blk/net/vsock workers).  Every such thread starts
 * with every asynchronous signal blocked, so that a process-directed signal
 * (kill -INT, SIGWINCH, SIGTERM, ...) reaches only the VMM loop (the
 * caller's thread of krun_start_enter), where the host-signal code reads
 * SIGINT and SIGWINCH from a signalfd and the fatal-signal handlers restore
 * the terminal.  A thread that needs a signal unblocks it itself (the vCPUs
 * their kick signal).  Synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGTRAP, SIGSYS) stay open: they are delivered to the faulting thread.
 */
#ifndef KRUN_SANDBOX_THREAD_H
#define KRUN_SANDBOX_THREAD_H

#include <pthread.h>
#include <signal.h>

/*
 * Start (fn)(arg) on a new thread named (name) (at most 15 characters) with
 * the mask above; the caller's own mask is unchanged.  Returns 0 or -errno.
 */
int thread_start(pthread_t *thread, const char *name, void *(*fn)(void *),
                 void *arg);

/* The mask thread_start() gives: every signal but the synchronous ones. */
void thread_blocked_set(sigset_t *set);

#endif /* KRUN_SANDBOX_THREAD_H */
