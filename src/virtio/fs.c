/*
 * fs.c: virtio-fs.  The loop thread pops requests into jobs; workers run
 * them through the FUSE server and push the replies.  Jobs are allocated up
 * front (FS_JOBS), so a request never waits for memory; when all are busy
 * the loop stops popping and a finishing worker re-kicks the queue.
 */
#define LOG_TAG "virtio-fs"
#include "virtio/fs.h"

#include <errno.h>
#include <linux/virtio_fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evloop.h"
#include "fuse/server.h"
#include "log.h"
#include "util.h"
#include "virtio/virtio.h"

#define FS_QUEUE_SIZE      128
#define FS_REQUEST_QUEUES  1
#define FS_DEFAULT_WORKERS 4
#define FS_MAX_WORKERS     16
#define FS_JOBS            32

_Static_assert(sizeof(struct virtio_fs_config) == 40, "virtio 1.2 §5.11.4");

struct fs_job {
    struct fs_job *next;  /* on the free list or the work queue */
    struct virtq *vq;     /* where the request came from */
    uint32_t generation;  /* the device's generation when popped */
    struct virtq_req req; /* the popped chain */
};

struct fs_dev {
    struct virtio_dev vdev;
    struct virtio_fs_config config;
    struct fuse_server *srv;
    struct evloop loop;

    /* Protected by (lock): the job lists and the stop flag. */
    pthread_mutex_t lock;
    pthread_cond_t work; /* signalled when (queue) gets a job or on stop */
    struct fs_job *free, *queue, **queue_tail;
    bool starved; /* the loop left requests on a ring: no free job */
    bool stop;

    uint32_t generation; /* bumped on reset; written under qlock */
    unsigned int nr_workers;
    pthread_t workers[FS_MAX_WORKERS];
    bool loop_ok; /* evloop_init succeeded */
    bool started; /* worker threads were created */
    struct fs_job jobs[FS_JOBS];
};

static struct fs_dev *to_fs(struct virtio_dev *dev)
{
    return container_of(dev, struct fs_dev, vdev);
}

/* ---- workers ------------------------------------------------------------ */

static struct fs_job *take_job(struct fs_dev *fs)
{
    struct fs_job *job;

    pthread_mutex_lock(&fs->lock);
    while (!fs->queue && !fs->stop)
        pthread_cond_wait(&fs->work, &fs->lock);
    job = fs->queue;
    if (job) {
        fs->queue = job->next;
        if (!fs->queue)
            fs->queue_tail = &fs->queue;
    }
    pthread_mutex_unlock(&fs->lock);
    return job;
}

/* Return (job) to the free list; re-kick its queue if the loop starved. */
static void release_job(struct fs_dev *fs, struct fs_job *job)
{
    bool kick;

    pthread_mutex_lock(&fs->lock);
    job->next = fs->free;
    fs->free = job;
    kick = fs->starved;
    fs->starved = false;
    pthread_mutex_unlock(&fs->lock);
    if (kick) {
        uint64_t one = 1;

        if (write(virtio_dev_kick_fd(&fs->vdev, job->vq->index), &one,
                  sizeof(one)) < 0)
            log_ratelimited(LOG_WARN, "re-kick: %m");
    }
}

/* Serve one request and push its reply, unless the device was reset. */
static void run_job(struct fs_dev *fs, struct fs_job *job)
{
    const struct virtq_req *r = &job->req;
    size_t n = fuse_server_handle(fs->srv, r->iov, r->nr_rd, r->iov + r->nr_rd,
                                  r->nr_wr);

    pthread_mutex_lock(&fs->vdev.qlock);
    if (job->generation == fs->generation && job->vq->ready &&
        !virtio_dev_failed(&fs->vdev)) {
        virtq_push(job->vq, r->head, (uint32_t)MIN(n, r->wr_len));
        virtq_notify(job->vq);
    }
    pthread_mutex_unlock(&fs->vdev.qlock);
}

static void *worker_main(void *arg)
{
    struct fs_dev *fs = arg;
    struct fs_job *job;

    while ((job = take_job(fs))) {
        run_job(fs, job);
        release_job(fs, job);
    }
    return NULL;
}

/* ---- the loop thread ---------------------------------------------------- */

static void fs_notify(struct virtio_dev *dev, struct virtq *vq)
{
    struct fs_dev *fs = to_fs(dev);
    struct fs_job *job;
    int rc;

    for (;;) {
        pthread_mutex_lock(&fs->lock);
        job = fs->free;
        if (job)
            fs->free = job->next;
        else
            fs->starved = true;
        pthread_mutex_unlock(&fs->lock);
        if (!job)
            return;
        rc = virtq_pop(vq, &job->req);
        if (rc <= 0) {
            release_job(fs, job);
            if (rc < 0)
                virtio_dev_fail(dev, "malformed request chain");
            return;
        }
        job->vq = vq;
        job->generation = fs->generation;
        job->next = NULL;
        pthread_mutex_lock(&fs->lock);
        *fs->queue_tail = job;
        fs->queue_tail = &job->next;
        pthread_cond_signal(&fs->work);
        pthread_mutex_unlock(&fs->lock);
    }
}

/* In-flight requests finish but their replies are dropped. */
static void fs_reset(struct virtio_dev *dev)
{
    to_fs(dev)->generation++;
}

static void fs_destroy(struct virtio_dev *dev)
{
    struct fs_dev *fs = to_fs(dev);

    if (fs->started) {
        evloop_stop(&fs->loop);
        pthread_mutex_lock(&fs->lock);
        fs->stop = true;
        pthread_cond_broadcast(&fs->work);
        pthread_mutex_unlock(&fs->lock);
        for (unsigned int i = 0; i < fs->nr_workers; i++)
            pthread_join(fs->workers[i], NULL);
    }
    if (fs->loop_ok)
        evloop_destroy(&fs->loop);
    if (fs->srv)
        fuse_server_destroy(fs->srv);
    pthread_cond_destroy(&fs->work);
    pthread_mutex_destroy(&fs->lock);
    free(fs);
}

static const struct virtio_dev_ops fs_ops = {
    .name = "fs",
    .device_id = VIRTIO_ID_FS,
    .num_queues = 1 + FS_REQUEST_QUEUES,
    .queue_max = FS_QUEUE_SIZE,
    .features = 1ULL << VIRTIO_F_VERSION_1,
    .notify = fs_notify,
    .reset = fs_reset,
    .destroy = fs_destroy,
};

static int fs_init_state(struct fs_dev *fs, const struct fs_dev_config *cfg)
{
    struct fuse_server_config scfg = {
        .backend = cfg->backend,
        .read_only = cfg->read_only,
        .workers = fs->nr_workers,
        .exit_code = cfg->exit_code,
    };

    fs->queue_tail = &fs->queue;
    for (unsigned int i = 0; i < FS_JOBS; i++) {
        fs->jobs[i].next = fs->free;
        fs->free = &fs->jobs[i];
    }
    memcpy(fs->config.tag, cfg->tag, strlen(cfg->tag));
    fs->config.num_request_queues = htole32(FS_REQUEST_QUEUES);
    fs->vdev.config = (uint8_t *)&fs->config;
    fs->vdev.config_len = sizeof(fs->config);
    return fuse_server_create(&scfg, &fs->srv);
}

int fs_create(const struct guest_mem *gm, const struct fs_dev_config *cfg,
              struct virtio_dev **out)
{
    size_t taglen = cfg->tag ? strlen(cfg->tag) : 0;
    char name[VIRTIO_NAME_MAX];
    struct fs_dev *fs;
    int rc;

    if (taglen == 0 || taglen > FS_TAG_MAX)
        return -EINVAL;
    fs = calloc(1, sizeof(*fs));
    if (!fs)
        return -ENOMEM;
    /* "fs:" and as much of the tag as fits, for logs. */
    snprintf(name, sizeof(name), "fs:%.*s", (int)(sizeof(name) - 4), cfg->tag);
    rc = virtio_dev_init(&fs->vdev, &fs_ops, gm, name);
    if (rc < 0) {
        free(fs);
        return rc;
    }
    fs->nr_workers =
        cfg->workers ? MIN(cfg->workers, FS_MAX_WORKERS) : FS_DEFAULT_WORKERS;
    pthread_mutex_init(&fs->lock, NULL);
    pthread_cond_init(&fs->work, NULL);
    rc = evloop_init(&fs->loop, "krun-fs");
    fs->loop_ok = rc == 0;
    if (rc == 0)
        rc = fs_init_state(fs, cfg);
    if (rc < 0) {
        virtio_dev_destroy(&fs->vdev);
        return rc;
    }
    *out = &fs->vdev;
    return 0;
}

struct evloop *fs_loop(struct virtio_dev *dev)
{
    return &to_fs(dev)->loop;
}

int fs_start(struct virtio_dev *dev)
{
    struct fs_dev *fs = to_fs(dev);
    int rc;

    for (unsigned int i = 0; i < fs->nr_workers; i++) {
        rc = pthread_create(&fs->workers[i], NULL, worker_main, fs);
        if (rc != 0) {
            fs->nr_workers = i;
            return -rc;
        }
        fs->started = true;
        pthread_setname_np(fs->workers[i], "krun-fsw");
    }
    rc = evloop_start_thread(&fs->loop);
    return rc;
}
