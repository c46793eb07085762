/*
 * disk.c: the format-independent half of the disk library: option checks,
 * dispatch to the backend, and the range / read-only checks every request
 * passes before a backend sees it.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "disk/disk_int.h"
#include "util.h"

/* Deepest backing chain accepted (the top image is depth 0). */
#define DISK_MAX_DEPTH 16

int disk_open(const char *path, const struct disk_opts *opts, struct disk **out,
              char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path || !opts || !out)
        return -EINVAL;
    if (opts->sync > DISK_SYNC_FULL)
        return disk_err(err, errlen, -EINVAL, path, "unknown sync mode %u",
                        (unsigned)opts->sync);
    switch (opts->format) {
    case DISK_FMT_RAW:
        return raw_open(path, opts, out, err, errlen);
    case DISK_FMT_QCOW2:
        return qcow2_open(path, opts, NULL, out, err, errlen);
    case DISK_FMT_VMDK:
        return vmdk_open(path, opts, out, err, errlen);
    }
    return disk_err(err, errlen, -EINVAL, path, "unknown disk format %u",
                    (unsigned)opts->format);
}

int disk_open_backing(const char *path, enum disk_format fmt,
                      const struct disk_opts *opts,
                      const struct disk_chain *chain, struct disk **out,
                      char *err, size_t errlen)
{
    struct disk_opts o = *opts;

    if (chain->depth + 1 > DISK_MAX_DEPTH)
        return disk_err(err, errlen, -EINVAL, path,
                        "backing chain deeper than %u images", DISK_MAX_DEPTH);
    for (const struct disk_chain *c = chain; c; c = c->up) {
        struct stat st;

        if (stat(path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
            return disk_err(err, errlen, -EINVAL, path,
                            "backing file loop (the file is its own "
                            "ancestor at depth %u)",
                            c->depth);
    }
    o.read_only = true;
    o.format = fmt;
    if (fmt == DISK_FMT_QCOW2)
        return qcow2_open(path, &o, chain, out, err, errlen);
    return raw_open(path, &o, out, err, errlen);
}

void disk_close(struct disk *d)
{
    if (d)
        d->ops->close(d);
}

uint64_t disk_size(const struct disk *d)
{
    return d->size;
}

bool disk_read_only(const struct disk *d)
{
    return d->read_only;
}

bool disk_can_discard(const struct disk *d)
{
    return d->can_discard && !d->read_only;
}

static int check_range(const struct disk *d, uint64_t off, uint64_t len)
{
    uint64_t end;

    if (add_overflow(off, len, &end) || end > d->size)
        return -EINVAL;
    return 0;
}

static int check_iov(const struct disk *d, const struct iovec *iov, int iovcnt,
                     uint64_t off)
{
    uint64_t len;

    if (iovcnt < 0 || (iovcnt > 0 && !iov) || !disk_iov_len(iov, iovcnt, &len))
        return -EINVAL;
    return check_range(d, off, len);
}

int disk_preadv(struct disk *d, const struct iovec *iov, int iovcnt,
                uint64_t off)
{
    int rc = check_iov(d, iov, iovcnt, off);

    return rc < 0 ? rc : d->ops->preadv(d, iov, iovcnt, off);
}

int disk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt,
                 uint64_t off)
{
    int rc = check_iov(d, iov, iovcnt, off);

    if (rc < 0)
        return rc;
    if (d->read_only)
        return -EROFS;
    return d->ops->pwritev(d, iov, iovcnt, off);
}

int disk_flush(struct disk *d)
{
    if (d->read_only)
        return 0;
    return d->ops->flush(d);
}

/* 1: go ahead; 0: nothing to do; < 0: the error. */
static int check_modify(const struct disk *d, uint64_t off, uint64_t len)
{
    int rc = check_range(d, off, len);

    if (rc < 0)
        return rc;
    if (d->read_only)
        return -EROFS;
    return len != 0;
}

int disk_discard(struct disk *d, uint64_t off, uint64_t len)
{
    int rc = check_modify(d, off, len);

    if (rc <= 0)
        return rc;
    return d->ops->discard ? d->ops->discard(d, off, len) : -EOPNOTSUPP;
}

int disk_write_zeroes(struct disk *d, uint64_t off, uint64_t len, bool unmap)
{
    int rc = check_modify(d, off, len);

    if (rc <= 0)
        return rc;
    return d->ops->write_zeroes ? d->ops->write_zeroes(d, off, len, unmap)
                                : -EOPNOTSUPP;
}
