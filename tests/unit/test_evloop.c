/* test_evloop.c: sources, stop from another thread, worker-thread loops. */
#include "evloop.h"
#include "sandbox/sandbox.h"
#include "t.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct counter {
    struct ev_source src;
    struct evloop *loop;
    int hits;
    int stop_after;
};

static void on_event(struct ev_source *src, uint32_t events)
{
    struct counter *c = container_of(src, struct counter, src);
    uint64_t v;

    if (read(src->fd, &v, sizeof(v)) == sizeof(v))
        c->hits++;
    if (c->hits == c->stop_after)
        evloop_stop(c->loop);
}

static void test_source_fires_and_stop(void)
{
    struct evloop l;
    struct counter c = {.stop_after = 1};
    uint64_t one = 1;

    CHECK_EQ(evloop_init(&l, "t-loop"), 0);
    c.loop = &l;
    c.src = (struct ev_source){.fd = eventfd(0, EFD_NONBLOCK), .fn = on_event};
    CHECK_EQ(evloop_add(&l, &c.src, EPOLLIN), 0);
    CHECK_EQ(evloop_add(&l, &c.src, EPOLLIN), -EEXIST);
    for (int round = 1; round <= 3; round++) { /* the loop can be re-run */
        CHECK(write(c.src.fd, &one, sizeof(one)) == sizeof(one));
        c.stop_after = round;
        CHECK_EQ(evloop_run(&l), 0);
        CHECK_EQ(c.hits, round);
    }
    CHECK_EQ(evloop_del(&l, &c.src), 0);
    CHECK_EQ(evloop_del(&l, &c.src), -ENOENT);
    close(c.src.fd);
    evloop_destroy(&l);
}

static void test_bad_sources(void)
{
    struct evloop l;
    struct ev_source bad = {.fd = -1, .fn = on_event};
    struct ev_source nofn = {.fd = 0, .fn = NULL};

    CHECK_EQ(evloop_init(&l, "t-loop"), 0);
    CHECK_EQ(evloop_add(&l, &bad, EPOLLIN), -EINVAL);
    CHECK_EQ(evloop_add(&l, &nofn, EPOLLIN), -EINVAL);
    CHECK_EQ(evloop_add(&l, NULL, EPOLLIN), -EINVAL);
    evloop_destroy(&l);
}

static void *stopper(void *arg)
{
    usleep(20000);
    evloop_stop(arg);
    return NULL;
}

static void test_stop_from_other_thread(void)
{
    struct evloop l;
    pthread_t t;

    CHECK_EQ(evloop_init(&l, "t-loop"), 0);
    pthread_create(&t, NULL, stopper, &l);
    CHECK_EQ(evloop_run(&l), 0); /* returns only because of the stop */
    pthread_join(t, NULL);
    evloop_destroy(&l);
}

static void test_worker_thread(void)
{
    struct evloop l;
    struct counter c = {.stop_after = -1};
    uint64_t one = 1;

    CHECK_EQ(evloop_init(&l, "t-worker"), 0);
    c.loop = &l;
    c.src = (struct ev_source){.fd = eventfd(0, EFD_NONBLOCK), .fn = on_event};
    CHECK_EQ(evloop_add(&l, &c.src, EPOLLIN), 0);
    CHECK_EQ(evloop_start_thread(&l, SANDBOX_FS_LOOP), 0);
    CHECK(write(c.src.fd, &one, sizeof(one)) == sizeof(one));
    for (int i = 0; i < 1000 && __atomic_load_n(&c.hits, __ATOMIC_ACQUIRE) == 0;
         i++)
        usleep(1000);
    evloop_destroy(&l); /* stops and joins */
    CHECK_EQ(c.hits, 1);
    close(c.src.fd);
}

int main(void)
{
    RUN(test_source_fires_and_stop);
    RUN(test_bad_sources);
    RUN(test_stop_from_other_thread);
    RUN(test_worker_thread);
    return t_done();
}
