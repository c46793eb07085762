/*
 * pt_file.c: passthrough requests on open files: OPEN, CREATE, TMPFILE,
 * READ, WRITE, RELEASE, FLUSH, FSYNC, FALLOCATE, LSEEK and COPY_FILE_RANGE
 * (locks: pt_lock.c).  Only regular files are ever opened for I/O.
 */
#define LOG_TAG "fuse-pt"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/inode.h"
#include "fuse/pt.h"
#include "log.h"
#include "util.h"

/* Guest open flags we pass on; O_CREAT/O_EXCL are ours to decide, O_DIRECT
 * and O_NOATIME could fail where the guest's would not, and nothing may
 * make us follow a link or acquire a terminal. */
#define PT_OPEN_FLAGS                                                          \
    (O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC | O_NONBLOCK)

static int open_flags(const struct pt_fs *p, uint32_t flags)
{
    int f = (int)(flags & PT_OPEN_FLAGS);

    if ((f & O_ACCMODE) == O_ACCMODE)
        f = (f & ~O_ACCMODE) | O_RDWR;
    return f | O_CLOEXEC | O_NOCTTY;
}

int pt_open(void *fs, const struct fs_req *r, uint64_t id, uint32_t flags,
            struct fs_open *o)
{
    struct pt_fs *p = fs;
    struct pt_node n;
    char name[16];
    int fd, rc;

    if (p->read_only && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)))
        return -EROFS;
    rc = pt_node_get(p, id, &n);
    if (rc < 0)
        return rc;
    if (n.ino->type != S_IFREG) {
        rc = n.ino->type == S_IFDIR ? -EISDIR : -EACCES;
        goto out;
    }
    pt_fdname(name, n.fd);
    fd = openat(p->proc_fd, name, open_flags(p, flags));
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = pt_handle_add(p, n.ino, fd, false, &o->fh);
out:
    pt_node_put(p, &n);
    return rc;
}

/* Open handle for a just-created entry (e); undoes the lookup on failure. */
static int handle_for_entry(struct pt_fs *p, const struct fs_entry *e, int fd,
                            struct fs_open *o)
{
    struct inode *ino = itab_get(&p->itab, e->ino);
    int rc = -ESTALE;

    if (ino)
        rc = pt_handle_add(p, ino, fd, false, &o->fh);
    else
        close(fd);
    itab_put(&p->itab, ino);
    if (rc < 0)
        itab_forget(&p->itab, e->ino, 1);
    return rc;
}

int pt_create(void *fs, const struct fs_req *r, uint64_t parent,
              const char *name, uint32_t mode, uint32_t flags,
              struct fs_entry *e, struct fs_open *o)
{
    struct pt_fs *p = fs;
    struct pt_node d;
    struct stat dst;
    int fd, rc;

    if (p->read_only)
        return -EROFS;
    rc = pt_node_get(p, parent, &d);
    if (rc < 0)
        return rc;
    fd = inode_openat(d.fd, name,
                      open_flags(p, flags) | O_CREAT | (flags & O_EXCL),
                      pt_create_mode(p, r, mode));
    if (fd < 0) {
        rc = fd;
        goto out;
    }
    if (fstatat(d.fd, "", &dst, AT_EMPTY_PATH) < 0 ||
        (rc = pt_fix_new(p, r, fd, &dst, mode)) < 0 ||
        (rc = pt_lookup_at(p, d.ino, d.fd, name, e)) < 0) {
        rc = rc < 0 ? rc : -errno;
        close(fd);
        goto out;
    }
    rc = handle_for_entry(p, e, fd, o);
out:
    pt_node_put(p, &d);
    return rc;
}

int pt_tmpfile(void *fs, const struct fs_req *r, uint64_t parent, uint32_t mode,
               uint32_t flags, struct fs_entry *e, struct fs_open *o)
{
    struct pt_fs *p = fs;
    struct pt_node d;
    struct stat dst;
    char name[16];
    int fd, pfd, rc;

    if (p->read_only)
        return -EROFS;
    rc = pt_node_get(p, parent, &d);
    if (rc < 0)
        return rc;
    fd = inode_openat(d.fd, ".", open_flags(p, flags) | O_TMPFILE,
                      pt_create_mode(p, r, mode));
    if (fd < 0) {
        rc = fd;
        goto out;
    }
    pt_fdname(name, fd);
    pfd = openat(p->proc_fd, name, O_PATH | O_CLOEXEC);
    if (pfd < 0 || fstatat(d.fd, "", &dst, AT_EMPTY_PATH) < 0 ||
        (rc = pt_fix_new(p, r, fd, &dst, mode)) < 0 || fstat(fd, &e->st) < 0) {
        rc = rc < 0 ? rc : -errno;
        if (pfd >= 0)
            close(pfd);
        close(fd);
        goto out;
    }
    pt_present(fd, NULL, &e->st);
    e->ino = itab_lookup_fd(&p->itab, d.ino, pfd, &e->st);
    e->entry_timeout = e->attr_timeout = p->timeout;
    rc = e->ino ? handle_for_entry(p, e, fd, o) : -ENOMEM;
out:
    pt_node_put(p, &d);
    return rc;
}

/* The handle (fh) of inode (id), or NULL. */
static struct pt_handle *file_handle(struct pt_fs *p, uint64_t id, uint64_t fh)
{
    struct pt_handle *h = pt_handle_get(p, fh, false);

    return h && h->ino->id == id ? h : NULL;
}

ssize_t pt_read(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                uint64_t off, const struct iovec *iov, unsigned int cnt)
{
    struct pt_handle *h = file_handle(fs, id, fh);
    struct iovec v[512];
    size_t done = 0;
    unsigned int i = 0;

    if (!h)
        return -EBADF;
    if (off > INT64_MAX)
        return -EINVAL;
    cnt = MIN(cnt, (unsigned int)ARRAY_SIZE(v));
    memcpy(v, iov, cnt * sizeof(*v));
    /* A short reply means end of file to the guest: read until full. */
    while (i < cnt) {
        ssize_t n =
            preadv(h->fd, &v[i], (int)MIN(cnt - i, 1024u), (off_t)(off + done));

        if (n < 0)
            return done ? (ssize_t)done : -errno;
        if (n == 0)
            break;
        done += (size_t)n;
        while (i < cnt && (size_t)n >= v[i].iov_len)
            n -= (ssize_t)v[i++].iov_len;
        if (i < cnt) {
            v[i].iov_base = (uint8_t *)v[i].iov_base + n;
            v[i].iov_len -= (size_t)n;
        }
    }
    return (ssize_t)done;
}

ssize_t pt_write(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                 uint64_t off, const struct iovec *iov, unsigned int cnt,
                 uint32_t write_flags)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = file_handle(p, id, fh);
    ssize_t n;

    if (p->read_only)
        return -EROFS;
    if (!h)
        return -EBADF;
    if (off > INT64_MAX)
        return -EFBIG;
    /* HANDLE_KILLPRIV_V2: the writer lacks CAP_FSETID. */
    if ((write_flags & FUSE_WRITE_KILL_SUIDGID) &&
        pt_kill_priv(p, h->fd, h->ino->type) < 0)
        return -EIO;
    n = pwritev(h->fd, iov, (int)MIN(cnt, 1024u), (off_t)off);
    return n < 0 ? -errno : n;
}

int pt_release(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
               uint32_t flags, uint32_t release_flags, uint64_t lock_owner)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = pt_handle_get(p, fh, false);

    if (h)
        pt_lock_release(p, h, fh, release_flags & FUSE_RELEASE_FLOCK_UNLOCK,
                        lock_owner);
    return pt_handle_del(p, fh, false);
}

int pt_fsync(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             bool datasync)
{
    struct pt_handle *h = file_handle(fs, id, fh);

    if (!h)
        return -EBADF;
    return (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0 ? -errno : 0;
}

/* close(2) in the guest: POSIX locks of the closing process (lock_owner)
 * on this file go away, whichever descriptor took them. */
int pt_flush(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t lock_owner)
{
    struct pt_handle *h = file_handle(fs, id, fh);

    if (!h)
        return -EBADF;
    pt_lock_flush(fs, h->ino, lock_owner);
    return 0;
}

int pt_fallocate(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                 uint32_t mode, uint64_t off, uint64_t len)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = file_handle(p, id, fh);

    if (p->read_only)
        return -EROFS;
    if (!h)
        return -EBADF;
    if (off > INT64_MAX || len > INT64_MAX)
        return -EFBIG;
    return fallocate(h->fd, (int)mode, (off_t)off, (off_t)len) < 0 ? -errno : 0;
}

int pt_lseek(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t off, uint32_t whence, uint64_t *res)
{
    struct pt_handle *h = file_handle(fs, id, fh);
    off_t o;

    if (!h)
        return -EBADF;
    if (off > INT64_MAX || (whence != SEEK_DATA && whence != SEEK_HOLE &&
                            whence != SEEK_SET && whence != SEEK_END))
        return -EINVAL;
    /* The handle's own position is never used for I/O (pread/pwrite). */
    o = lseek(h->fd, (off_t)off, (int)whence);
    if (o < 0)
        return -errno;
    *res = (uint64_t)o;
    return 0;
}

ssize_t pt_copy_file_range(void *fs, const struct fs_req *r, uint64_t ino_in,
                           uint64_t fh_in, uint64_t off_in, uint64_t ino_out,
                           uint64_t fh_out, uint64_t off_out, uint64_t len,
                           uint64_t flags)
{
    struct pt_fs *p = fs;
    struct pt_handle *hi = file_handle(p, ino_in, fh_in);
    struct pt_handle *ho = file_handle(p, ino_out, fh_out);
    loff_t oi = (loff_t)off_in, oo = (loff_t)off_out;
    ssize_t n;

    if (p->read_only)
        return -EROFS;
    if (!hi || !ho)
        return -EBADF;
    if (flags || off_in > INT64_MAX || off_out > INT64_MAX)
        return -EINVAL;
    n = copy_file_range(hi->fd, &oi, ho->fd, &oo, (size_t)len, 0);
    return n < 0 ? -errno : n;
}
