/*
 * file.c: host I/O for disk images: full preadv/pwritev straight into the
 * caller's buffers, zero-fill past end of file, O_DIRECT with an aligned
 * bounce buffer only when the caller's offset, length or memory is not
 * aligned, and zeroing by hole punching / FALLOC_FL_ZERO_RANGE with a
 * write-zeroes fallback.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/disk_int.h"
#include "util.h"

/* O_DIRECT bounce buffers are at most this large (the request is split). */
#define BOUNCE_MAX (1u << 20)
/*
 * Alignment for O_DIRECT on regular files: 4096 covers every logical block
 * size in use (statx STATX_DIOALIGN is not in bookworm's glibc headers).
 */
#define DIRECT_ALIGN_FILE 4096u

const uint8_t disk_zero_buf[1u << 18] __attribute__((aligned(4096)));

int disk_err(char *err, size_t errlen, int rc, const char *path,
             const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!err || errlen == 0)
        return rc;
    n = snprintf(err, errlen, "%s: ", path);
    if (n >= 0 && (size_t)n < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

bool disk_iov_len(const struct iovec *iov, int iovcnt, uint64_t *len)
{
    uint64_t total = 0;

    for (int i = 0; i < iovcnt; i++)
        if (add_overflow(total, (uint64_t)iov[i].iov_len, &total))
            return false;
    *len = total;
    return true;
}

int disk_file_open(struct disk_file *f, const char *path, bool read_only,
                   bool direct, char *err, size_t errlen)
{
    int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    struct stat st;
    int rc;

    memset(f, 0, sizeof(*f));
    f->fd = open(path, flags | (direct ? O_DIRECT : 0));
    if (f->fd < 0)
        return disk_err(err, errlen, -errno, path, "cannot open%s%s: %s",
                        read_only ? " read-only" : " read-write",
                        direct ? " with O_DIRECT" : "", strerror(errno));
    if (fstat(f->fd, &st) < 0) {
        rc = disk_err(err, errlen, -errno, path, "fstat: %s", strerror(errno));
        goto err_close;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        rc = disk_err(err, errlen, -EINVAL, path,
                      "not a regular file or block device");
        goto err_close;
    }
    f->blockdev = S_ISBLK(st.st_mode);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->direct = direct;
    f->align = 1;
    if (direct) {
        int ssz = 0;

        f->align = DIRECT_ALIGN_FILE;
        if (f->blockdev && ioctl(f->fd, BLKSSZGET, &ssz) == 0 && ssz >= 512 &&
            IS_POW2((unsigned)ssz) && (unsigned)ssz > f->align)
            f->align = (unsigned)ssz;
    }
    pthread_mutex_init(&f->rmw_lock, NULL);
    return 0;

err_close:
    close(f->fd);
    f->fd = -1;
    return rc;
}

void disk_file_close(struct disk_file *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        pthread_mutex_destroy(&f->rmw_lock);
    }
    f->fd = -1;
}

int disk_file_size(struct disk_file *f, uint64_t *size)
{
    struct stat st;

    if (f->blockdev)
        return ioctl(f->fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
    if (fstat(f->fd, &st) < 0)
        return -errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

void disk_iov_zero(const struct iovec *iov, int iovcnt, uint64_t skip,
                   uint64_t len)
{
    for (int i = 0; i < iovcnt && len; i++) {
        uint64_t n = iov[i].iov_len;

        if (skip >= n) {
            skip -= n;
            continue;
        }
        n = MIN(n - skip, len);
        memset((uint8_t *)iov[i].iov_base + skip, 0, n);
        len -= n;
        skip = 0;
    }
}

void disk_iov_copy(const struct iovec *iov, int iovcnt, uint64_t skip,
                   void *buf, uint64_t len, bool to_iov)
{
    uint8_t *p = buf;

    for (int i = 0; i < iovcnt && len; i++) {
        uint64_t n = iov[i].iov_len;
        uint8_t *base = iov[i].iov_base;

        if (skip >= n) {
            skip -= n;
            continue;
        }
        n = MIN(n - skip, len);
        if (to_iov)
            memcpy(base + skip, p, n);
        else
            memcpy(p, base + skip, n);
        p += n;
        len -= n;
        skip = 0;
    }
}

/*
 * The plain path: preadv/pwritev until done.  A read hitting end of file
 * zero-fills the rest.  (iov) is copied so short transfers can advance it.
 */
static int rw_full(struct disk_file *f, const struct iovec *iov, int iovcnt,
                   uint64_t off, bool write)
{
    struct iovec local[64], *v = local;
    uint64_t total, done = 0;
    int cnt = iovcnt, first = 0, rc = 0;

    if (!disk_iov_len(iov, iovcnt, &total) || total > INT64_MAX - off)
        return -EINVAL;
    if (iovcnt > (int)ARRAY_SIZE(local)) {
        v = malloc(sizeof(*v) * (size_t)iovcnt);
        if (!v)
            return -ENOMEM;
    }
    memcpy(v, iov, sizeof(*v) * (size_t)iovcnt);
    while (done < total) {
        ssize_t r;
        int n;

        while (first < cnt && v[first].iov_len == 0)
            first++;
        n = MIN(cnt - first, IOV_MAX);
        r = write ? pwritev(f->fd, v + first, n, (off_t)(off + done))
                  : preadv(f->fd, v + first, n, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (r == 0) {
            if (write) {
                rc = -EIO;
                break;
            }
            disk_iov_zero(iov, iovcnt, done, total - done);
            break;
        }
        done += (uint64_t)r;
        if (!write && f->direct && !IS_ALIGNED(off + done, f->align)) {
            /* O_DIRECT reads short only at end of file */
            disk_iov_zero(iov, iovcnt, done, total - done);
            break;
        }
        while (r > 0 && first < cnt) {
            size_t k = MIN((size_t)r, v[first].iov_len);

            v[first].iov_base = (uint8_t *)v[first].iov_base + k;
            v[first].iov_len -= k;
            r -= (ssize_t)k;
            if (v[first].iov_len == 0)
                first++;
        }
    }
    if (v != local)
        free(v);
    return rc;
}

int disk_iov_slice(const struct iovec *iov, int iovcnt, uint64_t skip,
                   uint64_t len, struct iovec *out)
{
    int n = 0;

    for (int i = 0; i < iovcnt && len; i++) {
        uint64_t l = iov[i].iov_len;

        if (skip >= l) {
            skip -= l;
            continue;
        }
        l = MIN(l - skip, len);
        out[n++] = (struct iovec){(uint8_t *)iov[i].iov_base + skip, l};
        len -= l;
        skip = 0;
    }
    return n;
}

static bool iov_aligned(const struct disk_file *f, const struct iovec *iov,
                        int iovcnt, uint64_t off)
{
    if (!f->direct)
        return true;
    if (!IS_ALIGNED(off, f->align))
        return false;
    for (int i = 0; i < iovcnt; i++)
        if (!IS_ALIGNED((uintptr_t)iov[i].iov_base, f->align) ||
            !IS_ALIGNED(iov[i].iov_len, f->align))
            return false;
    return true;
}

/*
 * O_DIRECT with unaligned caller buffers or range: go through an aligned
 * bounce, one aligned window of at most BOUNCE_MAX at a time.  A write that
 * covers a block only partly reads it first, under rmw_lock so two partial
 * writes to one block cannot undo each other.
 */
static int rw_bounce(struct disk_file *f, const struct iovec *iov, int iovcnt,
                     uint64_t off, uint64_t len, bool write)
{
    uint64_t a = f->align, done = 0;
    bool rmw = write && (!IS_ALIGNED(off, a) || !IS_ALIGNED(len, a));
    uint8_t *buf;
    int rc = 0;

    buf = aligned_alloc(a, BOUNCE_MAX);
    if (!buf)
        return -ENOMEM;
    if (rmw)
        pthread_mutex_lock(&f->rmw_lock);
    while (done < len) {
        uint64_t pos = off + done, wstart = ALIGN_DOWN(pos, a);
        uint64_t skip = pos - wstart;
        uint64_t n = MIN(len - done, BOUNCE_MAX - skip);
        uint64_t wlen = ALIGN_UP(skip + n, a);
        struct iovec bv = {buf, wlen}; /* wlen <= BOUNCE_MAX: n <= it - skip */

        if (!write || skip || (skip + n) % a) {
            /* reads, or the partial head/tail blocks of a write */
            if (write) {
                struct iovec hv = {buf, a};

                if (skip && (rc = rw_full(f, &hv, 1, wstart, false)) < 0)
                    break;
                hv.iov_base = buf + wlen - a;
                if ((skip + n) % a &&
                    (rc = rw_full(f, &hv, 1, wstart + wlen - a, false)) < 0)
                    break;
            } else if ((rc = rw_full(f, &bv, 1, wstart, false)) < 0) {
                break;
            }
        }
        if (write) {
            disk_iov_copy(iov, iovcnt, done, buf + skip, n, false);
            if ((rc = rw_full(f, &bv, 1, wstart, true)) < 0)
                break;
        } else {
            disk_iov_copy(iov, iovcnt, done, buf + skip, n, true);
        }
        done += n;
    }
    if (rmw)
        pthread_mutex_unlock(&f->rmw_lock);
    free(buf);
    return rc;
}

static int rw(struct disk_file *f, const struct iovec *iov, int iovcnt,
              uint64_t off, bool write)
{
    uint64_t len;

    if (!disk_iov_len(iov, iovcnt, &len) || len > INT64_MAX - off)
        return -EINVAL;
    if (len == 0)
        return 0;
    if (iov_aligned(f, iov, iovcnt, off))
        return rw_full(f, iov, iovcnt, off, write);
    return rw_bounce(f, iov, iovcnt, off, len, write);
}

int disk_file_preadv(struct disk_file *f, const struct iovec *iov, int iovcnt,
                     uint64_t off)
{
    return rw(f, iov, iovcnt, off, false);
}

int disk_file_pwritev(struct disk_file *f, const struct iovec *iov, int iovcnt,
                      uint64_t off)
{
    return rw(f, iov, iovcnt, off, true);
}

int disk_file_pread(struct disk_file *f, void *buf, size_t len, uint64_t off)
{
    struct iovec v = {buf, len};

    return rw(f, &v, 1, off, false);
}

int disk_file_pwrite(struct disk_file *f, const void *buf, size_t len,
                     uint64_t off)
{
    struct iovec v = {(void *)(uintptr_t)buf, len};

    return rw(f, &v, 1, off, true);
}

static int do_fallocate(struct disk_file *f, int mode, uint64_t off,
                        uint64_t len)
{
    if (off > INT64_MAX || len > INT64_MAX - off)
        return -EINVAL;
    while (fallocate(f->fd, mode, (off_t)off, (off_t)len) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

int disk_file_punch(struct disk_file *f, uint64_t off, uint64_t len)
{
    int rc;

    if (len == 0)
        return 0;
    rc = do_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
    return rc == -ENOSYS ? -EOPNOTSUPP : rc;
}

static bool unsupported(int rc)
{
    return rc == -EOPNOTSUPP || rc == -ENOSYS || rc == -ENOTTY;
}

int disk_file_zero(struct disk_file *f, uint64_t off, uint64_t len, bool unmap)
{
    int rc = -EOPNOTSUPP;

    if (len == 0)
        return 0;
    if (unmap)
        rc = disk_file_punch(f, off, len);
    if (unsupported(rc))
        rc = do_fallocate(f, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off,
                          len);
    if (!unsupported(rc))
        return rc;
    while (len) {
        size_t n = (size_t)MIN(len, sizeof(disk_zero_buf));

        rc = disk_file_pwrite(f, disk_zero_buf, n, off);
        if (rc < 0)
            return rc;
        off += n;
        len -= n;
    }
    return 0;
}

int disk_file_sync(struct disk_file *f, enum disk_sync sync)
{
    int r;

    if (sync == DISK_SYNC_NONE)
        return 0;
    r = sync == DISK_SYNC_FULL ? fsync(f->fd) : fdatasync(f->fd);
    return r < 0 ? -errno : 0;
}
