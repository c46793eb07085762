/*
 * fs.h: virtio-fs (virtio 1.2 §5.11): FUSE requests over virtqueues, served
 * by the in-process FUSE server (src/fuse/).  Queue 0 is hiprio (FORGET,
 * INTERRUPT), queues 1..N carry requests.
 *
 * Threads: the device has its own loop thread (krun-fs) that pops requests
 * and hands them to a pool of worker threads (krun-fsw), so that one slow
 * host syscall does not stall the other requests.  Completions are pushed
 * under the device's qlock.
 */
#ifndef KRUN_VIRTIO_FS_H
#define KRUN_VIRTIO_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "fuse/fs_ops.h"

struct evloop;
struct fuse_exit_code;
struct guest_mem;
struct virtio_dev;

#define FS_TAG_MAX 36 /* bytes in the config space's tag field */

struct fs_dev_config {
    const char *tag;                  /* at most FS_TAG_MAX bytes */
    struct fs_backend backend;        /* not owned; outlives the device */
    bool read_only;                   /* EROFS for every change */
    unsigned int workers;             /* 0 = default (4) */
    struct fuse_exit_code *exit_code; /* where ioctl 0x7602 stores; or NULL */
};

/*
 * Create a virtio-fs device for (cfg) on guest memory (gm), with its loop and
 * worker threads not yet started.  Returns 0 and the device in (*out), or
 * -EINVAL (tag empty or too long) / -ENOMEM / -errno.  Build thread.
 */
int fs_create(const struct guest_mem *gm, const struct fs_dev_config *cfg,
              struct virtio_dev **out);

/* The loop the device's queue kicks must be added to.  Build thread. */
struct evloop *fs_loop(struct virtio_dev *dev);

/* Start the loop and worker threads.  Returns 0 or -errno.  Build thread. */
int fs_start(struct virtio_dev *dev);

#endif /* KRUN_VIRTIO_FS_H */
