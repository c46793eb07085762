/*
 * vqpool.h: a virtqueue worker pool.  The device's loop thread pops requests
 * into preallocated jobs; worker threads serve them through the device's
 * handler and push the replies.  Jobs are allocated up front, so a request
 * never waits for memory; when all are busy the loop stops popping and the
 * next finishing worker re-kicks every queue that was left (whichever queue
 * its own job came from).  Used by virtio-fs and
 * virtio-blk.
 *
 * A device reset bumps the pool's generation: requests in flight finish but
 * their replies are dropped.  A pool with no workers serves every request
 * inline on the loop thread (deterministic: unit tests and fuzzers).
 *
 * Locks: the handler runs without any lock (inline: with the device's qlock
 * held); replies are pushed under the device's qlock.
 */
#ifndef KRUN_VIRTIO_VQPOOL_H
#define KRUN_VIRTIO_VQPOOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtq.h"

struct vqpool;
struct virtio_dev;

#define VQPOOL_MAX_WORKERS 16

/*
 * Serve one request; return the bytes written to its writable buffers (the
 * pool caps it at req->wr_len).  Call virtio_dev_fail() for a request that
 * cannot be answered: the reply is then dropped.
 */
typedef size_t vqpool_fn(struct vqpool *pool, struct virtq_req *req);

struct vqpool_job {
    struct vqpool_job *next; /* on the free list or the work queue */
    struct virtq *vq;        /* where the request came from */
    uint32_t generation;     /* the pool's generation when popped */
    struct virtq_req req;    /* the popped chain */
};

struct vqpool {
    struct virtio_dev *dev; /* immutable */
    vqpool_fn *fn;          /* immutable */
    const char *thread_name;
    int sandbox_role; /* the workers' enum sandbox_role */

    /* Protected by (lock): the job lists and the stop flag. */
    pthread_mutex_t lock;
    pthread_cond_t work; /* signalled when (queue) gets a job or on stop */
    struct vqpool_job *free, *queue, **queue_tail;
    uint64_t starved; /* bit q: the loop left requests on queue q (no job) */
    bool stop;

    uint32_t generation; /* bumped on reset; written under qlock */
    unsigned int nr_workers, nr_started;
    pthread_t workers[VQPOOL_MAX_WORKERS];
    struct vqpool_job *jobs;
    unsigned int nr_jobs;
    bool inited; /* lock and work exist */
};

/*
 * Prepare (pool) for (dev) with (nr_jobs) jobs (>= 1) and (nr_workers)
 * threads named (thread_name) (at most VQPOOL_MAX_WORKERS; 0 = inline),
 * serving requests with (fn).  Returns 0, -EINVAL or -ENOMEM.  Build thread.
 */
int vqpool_init(struct vqpool *pool, struct virtio_dev *dev, vqpool_fn *fn,
                unsigned int nr_jobs, unsigned int nr_workers,
                const char *thread_name);

/* Start the worker threads; each serves under the seccomp filter of
 * (sandbox_role) (an enum sandbox_role, sandbox/sandbox.h).  Returns 0 or
 * -errno.  Build thread. */
int vqpool_start(struct vqpool *pool, int sandbox_role);

/*
 * Pop what (vq) holds into free jobs and queue them (inline: serve them).
 * A malformed chain marks the device NEEDS_RESET.  The device's ops->notify
 * (loop thread, qlock held).
 */
void vqpool_notify(struct vqpool *pool, struct virtq *vq);

/* Drop the replies of requests in flight.  The device's ops->reset. */
void vqpool_reset(struct vqpool *pool);

/*
 * Stop and join the workers (requests in flight finish first), free the
 * jobs.  Call after the loop feeding the pool has stopped.  Safe on a pool
 * that vqpool_init() failed on or never ran, if it was zeroed.
 */
void vqpool_destroy(struct vqpool *pool);

#endif /* KRUN_VIRTIO_VQPOOL_H */
