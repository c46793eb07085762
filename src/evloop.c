/* evloop.c: epoll loop with embedded sources and an eventfd for stop. */
#define LOG_TAG "evloop"
#include "evloop.h"
#include "log.h"
#include "sandbox/sandbox.h"
#include "sandbox/thread.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EVLOOP_BATCH 32

int evloop_init(struct evloop *l, const char *name)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    int rc;

    memset(l, 0, sizeof(*l));
    l->name = name;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        return -errno;
    l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->wakefd < 0) {
        rc = -errno;
        goto err_close_ep;
    }
    /* data.ptr == NULL marks the wake fd. */
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0) {
        rc = -errno;
        goto err_close_wake;
    }
    return 0;

err_close_wake:
    close(l->wakefd);
err_close_ep:
    close(l->epfd);
    l->epfd = l->wakefd = -1;
    return rc;
}

static int evloop_ctl(struct evloop *l, int op, struct ev_source *src,
                      uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = src};

    if (!src || src->fd < 0 || (op != EPOLL_CTL_DEL && !src->fn))
        return -EINVAL;
    return epoll_ctl(l->epfd, op, src->fd, &ev) < 0 ? -errno : 0;
}

int evloop_add(struct evloop *l, struct ev_source *src, uint32_t events)
{
    return evloop_ctl(l, EPOLL_CTL_ADD, src, events);
}

int evloop_mod(struct evloop *l, struct ev_source *src, uint32_t events)
{
    return evloop_ctl(l, EPOLL_CTL_MOD, src, events);
}

int evloop_del(struct evloop *l, struct ev_source *src)
{
    return evloop_ctl(l, EPOLL_CTL_DEL, src, 0);
}

int evloop_run(struct evloop *l)
{
    struct epoll_event evs[EVLOOP_BATCH];
    uint64_t v;

    l->stop = false; /* a stop requested earlier is still in wakefd */
    while (!l->stop) {
        int n = epoll_wait(l->epfd, evs, EVLOOP_BATCH, -1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_error("%s: epoll_wait: %s", l->name, strerror(errno));
            return -errno;
        }
        for (int i = 0; i < n && !l->stop; i++) {
            struct ev_source *src = evs[i].data.ptr;

            if (src)
                src->fn(src, evs[i].events);
            else if (read(l->wakefd, &v, sizeof(v)) >= 0 || errno == EAGAIN)
                l->stop = true;
        }
    }
    return 0;
}

void evloop_stop(struct evloop *l)
{
    uint64_t one = 1;

    /* Only fails with EAGAIN when the counter is already huge: still woken. */
    if (write(l->wakefd, &one, sizeof(one)) < 0)
        (void)0;
}

static void *evloop_main(void *arg)
{
    struct evloop *l = arg;

    sandbox_enter_thread(l->sandbox_role);
    evloop_run(l);
    return NULL;
}

int evloop_start_thread(struct evloop *l, int sandbox_role)
{
    int rc;

    l->sandbox_role = sandbox_role;
    rc = thread_start(&l->thread, l->name, evloop_main, l);

    l->has_thread = rc == 0;
    return rc;
}

void evloop_destroy(struct evloop *l)
{
    if (l->epfd < 0)
        return;
    if (l->has_thread) {
        evloop_stop(l);
        pthread_join(l->thread, NULL);
        l->has_thread = false;
    }
    close(l->wakefd);
    close(l->epfd);
    l->epfd = l->wakefd = -1;
}
