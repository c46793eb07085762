/*
 * blk.h: virtio-blk (virtio 1.2 §5.2) over a disk image (disk/disk.h).
 *
 * Two phases, because images are opened before the VMM drops privileges
 * (krun_setuid) and devices are created after guest memory exists:
 * blk_open() opens the image into a struct blk_disk; blk_create() turns it
 * into a device, which then owns the image.
 *
 * Threads: the queue's kicks are served on the loop the caller adds them to
 * (the VMM loop); that loop only pops requests into a worker pool
 * (virtio/vqpool.h, BLK_JOBS jobs, threads krun-blk), whose workers do the
 * host I/O straight into and out of guest memory and push the replies.  A
 * slow disk therefore never stalls the loop.
 */
#ifndef KRUN_VIRTIO_BLK_H
#define KRUN_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "disk/disk.h"

struct guest_mem;
struct virtio_dev;

#define BLK_ID_BYTES        20 /* VIRTIO_BLK_ID_BYTES */
#define BLK_QUEUE_SIZE      256
#define BLK_SEG_MAX         254
#define BLK_DEFAULT_WORKERS 4
#define BLK_JOBS            32

/* An opened image, waiting for its device. */
struct blk_disk {
    struct disk *disk;        /* owned; NULL once a device took it */
    char name[16];            /* "vda", ...: for logs */
    uint8_t id[BLK_ID_BYTES]; /* GET_ID answer */
    bool flush;               /* offer FLUSH (sync mode not NONE) */
    uint32_t discard_align;   /* discard_sector_alignment, sectors */
};

/*
 * Open the image at (path) with (opts) as guest disk number (index) (0 =
 * vda).  Returns 0, or -errno after logging a message naming the path.
 */
int blk_open(const char *path, const struct disk_opts *opts, unsigned int index,
             struct blk_disk *out);

/* Close an image no device took (NULL disk is fine). */
void blk_disk_close(struct blk_disk *d);

/*
 * The GET_ID string upstream answers: the decimal st_dev, st_rdev and
 * st_ino of the image concatenated, cut at 20 bytes, zero padded.
 */
void blk_make_id(const struct stat *st, uint8_t id[BLK_ID_BYTES]);

/*
 * Create the device for (d) on guest memory (gm), with (workers) worker
 * threads (0: requests are served inline on the loop thread, for tests and
 * fuzzers).  On success the device owns d->disk and d->disk is set to NULL.
 * Returns 0 or -ENOMEM/-EINVAL/-errno.  Build thread.
 */
int blk_create(const struct guest_mem *gm, struct blk_disk *d,
               unsigned int workers, struct virtio_dev **out);

/* Start the worker threads.  Returns 0 or -errno.  Build thread. */
int blk_start(struct virtio_dev *dev);

#endif /* KRUN_VIRTIO_BLK_H */
