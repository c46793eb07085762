/*
 * evloop.h: an epoll event loop.  A source is a struct embedded in its owner;
 * the callback gets the source back and recovers the owner with container_of,
 * so there are no lookup tables and no allocations per event.  The VMM loop
 * (on the thread that called krun_start_enter) and worker loops (own thread,
 * evloop_start_thread) are the same code.
 */
#ifndef KRUN_EVLOOP_H
#define KRUN_EVLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct ev_source;

/* Called on the loop's thread with the ready (events) (EPOLLIN, ...). */
typedef void ev_fn(struct ev_source *src, uint32_t events);

struct ev_source {
    int fd; /* watched fd; the owner keeps it open while it is added */
    ev_fn *fn;
};

struct evloop {
    const char *name; /* thread name for evloop_start_thread */
    int sandbox_role; /* its enum sandbox_role (evloop_start_thread) */
    int epfd;
    int wakefd; /* eventfd: evloop_stop() from any thread */
    bool stop;  /* owner: the loop thread (set by the wake handler) */
    bool has_thread;
    pthread_t thread;
};

/* Create the epoll set and wake eventfd.  Returns 0 or -errno. */
int evloop_init(struct evloop *l, const char *name);

/*
 * Watch (src->fd) for (events) (EPOLLIN/EPOLLOUT/...); (src->fn) runs on the
 * loop thread.  Returns 0 or -errno.  Any thread.
 */
int evloop_add(struct evloop *l, struct ev_source *src, uint32_t events);

/* Change the events watched for (src).  Returns 0 or -errno.  Any thread. */
int evloop_mod(struct evloop *l, struct ev_source *src, uint32_t events);

/*
 * Stop watching (src).  Returns 0 or -errno.  Call it on the loop thread (or
 * before the loop runs) if the source is freed afterwards: an event already
 * collected in the current batch may otherwise still be delivered.
 */
int evloop_del(struct evloop *l, struct ev_source *src);

/*
 * Dispatch events until evloop_stop() (the loop may be run again
 * afterwards).  Returns 0 when stopped, -errno if
 * epoll_wait fails.  On the loop's own thread.
 */
int evloop_run(struct evloop *l);

/* Make evloop_run() return soon.  Any thread, async-signal-safe. */
void evloop_stop(struct evloop *l);

/* Run the loop on a new thread named (l->name), host signals blocked
 * (sandbox/thread.h), under the seccomp filter of (sandbox_role) (an enum
 * sandbox_role; sandbox/sandbox.h).  Returns 0 or -errno. */
int evloop_start_thread(struct evloop *l, int sandbox_role);

/* Stop the loop, join its thread if it has one, close its fds. */
void evloop_destroy(struct evloop *l);

#endif /* KRUN_EVLOOP_H */
