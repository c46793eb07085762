/*
 * raw.c: raw images (regular files or block devices).  Requests go
 * straight to the host file: preadv/pwritev on the caller's buffers,
 * DISCARD punches a hole, WRITE_ZEROES punches (unmap) or zero-ranges.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#define LOG_TAG "disk-raw"
#include "disk/disk_int.h"
#include "log.h"
#include "util.h"

struct raw_disk {
    struct disk d;
    struct disk_file f;
};

static struct raw_disk *to_raw(struct disk *d)
{
    return container_of(d, struct raw_disk, d);
}

static int raw_preadv(struct disk *d, const struct iovec *iov, int iovcnt,
                      uint64_t off)
{
    return disk_file_preadv(&to_raw(d)->f, iov, iovcnt, off);
}

static int raw_pwritev(struct disk *d, const struct iovec *iov, int iovcnt,
                       uint64_t off)
{
    return disk_file_pwritev(&to_raw(d)->f, iov, iovcnt, off);
}

static int raw_flush(struct disk *d)
{
    return disk_file_sync(&to_raw(d)->f, d->sync);
}

static int raw_discard(struct disk *d, uint64_t off, uint64_t len)
{
    int rc = disk_file_punch(&to_raw(d)->f, off, len);

    /* A discard is a hint: a file system that cannot punch keeps the data. */
    return rc == -EOPNOTSUPP ? 0 : rc;
}

static int raw_write_zeroes(struct disk *d, uint64_t off, uint64_t len,
                            bool unmap)
{
    return disk_file_zero(&to_raw(d)->f, off, len, unmap);
}

static void raw_close(struct disk *d)
{
    struct raw_disk *r = to_raw(d);

    disk_file_close(&r->f);
    free(r);
}

static const struct disk_ops raw_ops = {
    .name = "raw",
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .close = raw_close,
};

int raw_open(const char *path, const struct disk_opts *opts, struct disk **out,
             char *err, size_t errlen)
{
    struct raw_disk *r;
    uint64_t size;
    int rc;

    r = calloc(1, sizeof(*r));
    if (!r)
        return disk_err(err, errlen, -ENOMEM, path, "out of memory");
    rc = disk_file_open(&r->f, path, opts->read_only, opts->direct_io, err,
                        errlen);
    if (rc < 0)
        goto err_free;
    rc = disk_file_size(&r->f, &size);
    if (rc < 0) {
        disk_err(err, errlen, rc, path, "cannot get the size");
        goto err_close;
    }
    if (size % 512)
        log_warn("%s: size %" PRIu64 " is not a multiple of 512; the last "
                 "%" PRIu64 " bytes are not visible",
                 path, size, size % 512);
    r->d.ops = &raw_ops;
    r->d.size = ALIGN_DOWN(size, 512);
    r->d.sync = opts->sync;
    r->d.read_only = opts->read_only;
    r->d.can_discard = !opts->read_only;
    *out = &r->d;
    return 0;

err_close:
    disk_file_close(&r->f);
err_free:
    free(r);
    return rc;
}
