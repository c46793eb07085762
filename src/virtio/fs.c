/*
 * fs.c: virtio-fs.  The loop thread pops requests into a worker pool
 * (virtio/vqpool.h, FS_JOBS preallocated jobs); workers run them through the
 * FUSE server and push the replies.
 */
#define LOG_TAG "virtio-fs"
#include "virtio/fs.h"

#include <errno.h>
#include <linux/virtio_fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evloop.h"
#include "fuse/server.h"
#include "log.h"
#include "sandbox/sandbox.h"
#include "util.h"
#include "virtio/virtio.h"
#include "virtio/vqpool.h"

#define FS_QUEUE_SIZE      128
#define FS_REQUEST_QUEUES  1
#define FS_DEFAULT_WORKERS 4
#define FS_MAX_WORKERS     VQPOOL_MAX_WORKERS
#define FS_JOBS            32

_Static_assert(sizeof(struct virtio_fs_config) == 40, "virtio 1.2 §5.11.4");

struct fs_dev {
    struct virtio_dev vdev;
    struct virtio_fs_config config;
    struct fuse_server *srv;
    struct evloop loop;
    struct vqpool pool;
    bool loop_ok; /* evloop_init succeeded */
};

static struct fs_dev *to_fs(struct virtio_dev *dev)
{
    return container_of(dev, struct fs_dev, vdev);
}

/* Serve one request (a worker thread). */
static size_t fs_serve(struct vqpool *pool, struct virtq_req *r)
{
    struct fs_dev *fs = container_of(pool, struct fs_dev, pool);

    return fuse_server_handle(fs->srv, r->iov, r->nr_rd, r->iov + r->nr_rd,
                              r->nr_wr);
}

static void fs_notify(struct virtio_dev *dev, struct virtq *vq)
{
    vqpool_notify(&to_fs(dev)->pool, vq);
}

/* In-flight requests finish but their replies are dropped. */
static void fs_reset(struct virtio_dev *dev)
{
    vqpool_reset(&to_fs(dev)->pool);
}

/* The loop first (nothing new is popped), then the workers finish. */
static void fs_stop(struct virtio_dev *dev)
{
    struct fs_dev *fs = to_fs(dev);

    if (fs->loop_ok)
        evloop_destroy(&fs->loop); /* joins its thread; idempotent */
    vqpool_destroy(&fs->pool);     /* joins the workers; idempotent */
}

static void fs_destroy(struct virtio_dev *dev)
{
    struct fs_dev *fs = to_fs(dev);

    fs_stop(dev);
    if (fs->srv)
        fuse_server_destroy(fs->srv);
    free(fs);
}

static const struct virtio_dev_ops fs_ops = {
    .name = "fs",
    .device_id = VIRTIO_ID_FS,
    .queue_max = FS_QUEUE_SIZE,
    .features = 1ULL << VIRTIO_F_VERSION_1,
    .notify = fs_notify,
    .reset = fs_reset,
    .stop = fs_stop,
    .destroy = fs_destroy,
};

static int fs_init_state(struct fs_dev *fs, const struct fs_dev_config *cfg)
{
    unsigned int workers =
        cfg->workers ? MIN(cfg->workers, FS_MAX_WORKERS) : FS_DEFAULT_WORKERS;
    struct fuse_server_config scfg = {
        .backend = cfg->backend,
        .read_only = cfg->read_only,
        .workers = workers,
        .exit_code = cfg->exit_code,
    };
    int rc = vqpool_init(&fs->pool, &fs->vdev, fs_serve, FS_JOBS, workers,
                         "krun-fsw");

    if (rc < 0)
        return rc;
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
    rc = virtio_dev_init(&fs->vdev, &fs_ops, 1 + FS_REQUEST_QUEUES, gm, name);
    if (rc < 0) {
        free(fs);
        return rc;
    }
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
    int rc = vqpool_start(&fs->pool, SANDBOX_FS_WORKER);

    return rc < 0 ? rc : evloop_start_thread(&fs->loop, SANDBOX_FS_LOOP);
}
