/*
 * fuzz_fuse_mt.c: sequences of raw FUSE requests spread over 4 threads
 * calling the wire server at once, over a fresh passthrough backend per
 * input (so node ids and handles start at the same numbers every time and
 * RELEASE / FORGET / DESTROY meet requests on other threads using the same
 * handles and inodes).  The input is a sequence of records: one byte whose
 * low 2 bits pick the thread, then a request as long as its header's len
 * says (bounded by what is left).  After an INIT, the 4 threads send their
 * requests concurrently; a DESTROY ends the input.
 *
 * The scratch share is tests/lib/fuse_scratch.c's (a private tmpfs where
 * the process may mount one).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuse/passthrough.h"
#include "fuse/server.h"
#include "fuse_scratch.h"

#define THREADS  4
#define MAX_REQS 256 /* per thread and input */

struct slice {
    const uint8_t *req[MAX_REQS];
    size_t len[MAX_REQS];
    unsigned int n;
};

static struct fuse_scratch scratch;
static struct fuse_server *srv;
static struct slice slices[THREADS];
static pthread_barrier_t start, done;

/* Reply buffers, one per thread. */
static uint8_t outs[THREADS][1 << 20];

static void send_one(int t, const uint8_t *d, size_t len)
{
    fuse_scratch_send(&scratch, srv, d, len, outs[t], sizeof(outs[t]));
}

static void run_slice(int t)
{
    const struct slice *s = &slices[t];

    for (unsigned int i = 0; i < s->n; i++)
        send_one(t, s->req[i], s->len[i]);
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;

    for (;;) {
        pthread_barrier_wait(&start);
        run_slice(t);
        pthread_barrier_wait(&done);
    }
    return NULL;
}

static int setup(void)
{
    pthread_t t;

    if (fuse_scratch_setup(&scratch, "fuzz-fuse-mt") < 0)
        return -1;
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_barrier_init(&done, NULL, THREADS);
    for (int i = 1; i < THREADS; i++) {
        if (pthread_create(&t, NULL, worker, (void *)(intptr_t)i) != 0)
            return -1;
        pthread_detach(t);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct fs_backend be;
    struct {
        struct fuse_in_header h;
        struct fuse_init_in i;
    } init = {{.len = sizeof(init), .opcode = FUSE_INIT},
              {.major = 7, .minor = 38, .flags = 0xffffffff}};
    struct fuse_in_header destroy = {.len = sizeof(destroy),
                                     .opcode = FUSE_DESTROY};
    struct fuse_exit_code ec;

    if (!ready)
        ready = setup() == 0 ? 1 : -1;
    if (ready < 0 ||
        passthrough_create(&(struct passthrough_config){.root = scratch.root},
                           &be) < 0)
        return 0;
    if (fuse_server_create(&(struct fuse_server_config){.backend = be,
                                                        .workers = THREADS,
                                                        .exit_code = &ec},
                           &srv) < 0) {
        passthrough_free(&be);
        return 0;
    }
    for (int i = 0; i < THREADS; i++)
        slices[i].n = 0;
    while (size > sizeof(struct fuse_in_header)) {
        struct slice *s = &slices[data[0] % THREADS];
        uint32_t len;
        size_t n;

        data++;
        size--;
        memcpy(&len, data, sizeof(len));
        n = len < sizeof(struct fuse_in_header) || len > size ? size : len;
        if (s->n < MAX_REQS) {
            s->req[s->n] = data;
            s->len[s->n++] = n;
        }
        data += n;
        size -= n;
    }
    send_one(0, (const uint8_t *)&init, sizeof(init));
    pthread_barrier_wait(&start);
    run_slice(0);
    pthread_barrier_wait(&done);
    send_one(0, (const uint8_t *)&destroy, sizeof(destroy));
    fuse_server_destroy(srv);
    srv = NULL;
    passthrough_free(&be);
    return 0;
}
