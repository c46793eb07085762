/*
 * vqpool.c: the virtqueue worker pool (see vqpool.h).
 */
#define LOG_TAG "vqpool"
#include "virtio/vqpool.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "sandbox/sandbox.h"
#include "sandbox/thread.h"
#include "util.h"
#include "virtio/virtio.h"

int vqpool_init(struct vqpool *pool, struct virtio_dev *dev, vqpool_fn *fn,
                unsigned int nr_jobs, unsigned int nr_workers,
                const char *thread_name)
{
    if (nr_jobs == 0 || nr_workers > VQPOOL_MAX_WORKERS)
        return -EINVAL;
    pool->jobs = calloc(nr_jobs, sizeof(*pool->jobs));
    if (!pool->jobs)
        return -ENOMEM;
    pool->dev = dev;
    pool->fn = fn;
    pool->thread_name = thread_name;
    pool->nr_jobs = nr_jobs;
    pool->nr_workers = nr_workers;
    pool->queue = NULL;
    pool->queue_tail = &pool->queue;
    pool->free = NULL;
    for (unsigned int i = 0; i < nr_jobs; i++) {
        pool->jobs[i].next = pool->free;
        pool->free = &pool->jobs[i];
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work, NULL);
    pool->inited = true;
    return 0;
}

/* ---- workers ------------------------------------------------------------ */

static struct vqpool_job *take_job(struct vqpool *pool)
{
    struct vqpool_job *job;

    pthread_mutex_lock(&pool->lock);
    while (!pool->queue && !pool->stop)
        pthread_cond_wait(&pool->work, &pool->lock);
    job = pool->queue;
    if (job) {
        pool->queue = job->next;
        if (!pool->queue)
            pool->queue_tail = &pool->queue;
    }
    pthread_mutex_unlock(&pool->lock);
    return job;
}

/*
 * Return (job) to the free list; re-kick every queue the loop left requests
 * on for want of a job.  Not only (job)'s own queue: a hiprio job finishing
 * while the request queue starved must wake the request queue.
 */
static void release_job(struct vqpool *pool, struct vqpool_job *job)
{
    uint64_t starved, one = 1;

    pthread_mutex_lock(&pool->lock);
    job->next = pool->free;
    pool->free = job;
    starved = pool->starved;
    pool->starved = 0;
    pthread_mutex_unlock(&pool->lock);
    for (unsigned int q = 0; starved; q++, starved >>= 1)
        if ((starved & 1) &&
            write(virtio_dev_kick_fd(pool->dev, q), &one, sizeof(one)) < 0)
            log_ratelimited(LOG_WARN, "re-kick of queue %u: %m", q);
}

/* Push the reply of (job), unless the device was reset or broken.  qlock. */
static void push_reply(struct vqpool *pool, struct vqpool_job *job, size_t n)
{
    const struct virtq_req *r = &job->req;

    if (job->generation == pool->generation && job->vq->ready &&
        !virtio_dev_failed(pool->dev)) {
        virtq_push(job->vq, r->head, (uint32_t)MIN(n, r->wr_len));
        virtq_notify(job->vq);
    }
}

static void *worker_main(void *arg)
{
    struct vqpool *pool = arg;
    struct vqpool_job *job;

    sandbox_enter_thread(pool->sandbox_role);
    while ((job = take_job(pool))) {
        size_t n = pool->fn(pool, &job->req);

        pthread_mutex_lock(&pool->dev->qlock);
        push_reply(pool, job, n);
        pthread_mutex_unlock(&pool->dev->qlock);
        release_job(pool, job);
    }
    return NULL;
}

int vqpool_start(struct vqpool *pool, int sandbox_role)
{
    pool->sandbox_role = sandbox_role;
    for (unsigned int i = 0; i < pool->nr_workers; i++) {
        int rc = thread_start(&pool->workers[i], pool->thread_name, worker_main,
                              pool);

        if (rc < 0)
            return rc;
        pool->nr_started++;
    }
    return 0;
}

/* ---- the loop thread ---------------------------------------------------- */

/* Serve (job) on the loop thread (no workers): qlock is already held. */
static void run_inline(struct vqpool *pool, struct vqpool_job *job)
{
    push_reply(pool, job, pool->fn(pool, &job->req));
    job->next = pool->free;
    pool->free = job;
}

void vqpool_notify(struct vqpool *pool, struct virtq *vq)
{
    struct vqpool_job *job;
    int rc;

    while (!virtio_dev_failed(pool->dev)) {
        pthread_mutex_lock(&pool->lock);
        job = pool->free;
        if (job)
            pool->free = job->next;
        else
            pool->starved |= 1ULL << vq->index; /* index < 64: virtio.c */
        pthread_mutex_unlock(&pool->lock);
        if (!job)
            return;
        rc = virtq_pop(vq, &job->req);
        if (rc <= 0) {
            release_job(pool, job);
            if (rc < 0)
                virtio_dev_fail(pool->dev, "malformed request chain");
            return;
        }
        job->vq = vq;
        job->generation = pool->generation;
        job->next = NULL;
        if (pool->nr_workers == 0) {
            run_inline(pool, job);
            continue;
        }
        pthread_mutex_lock(&pool->lock);
        *pool->queue_tail = job;
        pool->queue_tail = &job->next;
        pthread_cond_signal(&pool->work);
        pthread_mutex_unlock(&pool->lock);
    }
}

void vqpool_reset(struct vqpool *pool)
{
    pool->generation++;
}

void vqpool_destroy(struct vqpool *pool)
{
    if (!pool->inited)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stop = true;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned int i = 0; i < pool->nr_started; i++)
        pthread_join(pool->workers[i], NULL);
    pool->nr_started = 0;
    pthread_cond_destroy(&pool->work);
    pthread_mutex_destroy(&pool->lock);
    free(pool->jobs);
    pool->jobs = NULL;
    pool->inited = false;
}
