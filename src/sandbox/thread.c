/* thread.c: library threads with host signals blocked (thread.h). */
#include "sandbox/thread.h"

#include "util.h"

#include <errno.h>

void thread_blocked_set(sigset_t *set)
{
    static const int sync_signals[] = {SIGSEGV, SIGBUS,  SIGFPE,
                                       SIGILL,  SIGTRAP, SIGSYS};

    sigfillset(set);
    for (unsigned int i = 0; i < ARRAY_SIZE(sync_signals); i++)
        sigdelset(set, sync_signals[i]);
}

int thread_start(pthread_t *thread, const char *name, void *(*fn)(void *),
                 void *arg)
{
    sigset_t all, old;
    int rc;

    /* The new thread inherits the creator's mask at pthread_create: block
     * first, so it never runs a single instruction with signals open. */
    thread_blocked_set(&all);
    rc = pthread_sigmask(SIG_BLOCK, &all, &old);
    if (rc != 0)
        return -rc;
    rc = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -rc; /* pthread_create returns a positive errno */
    pthread_setname_np(*thread, name);
    return 0;
}
