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

/* HANDLE_KILLPRIV_V2: an O_TRUNC open of (fd) by a caller without
 * CAP_FSETID drops the file's privileges.  Returns fd, or -errno (closed). */
static int kill_on_trunc(struct pt_fs *p, int fd, uint32_t flags)
{
    int rc;

    if (!(flags & FS_OPEN_KILL_PRIV) || !(flags & O_TRUNC))
        return fd;
    rc = pt_kill_priv(p, fd, S_IFREG);
    if (rc < 0)
        close(fd);
    return rc < 0 ? rc : fd;
}

int pt_open(void *fs, const struct fs_req *r, uint64_t id, uint32_t flags,
            struct fs_open *o)
{
    struct pt_fs *p = fs;
    struct pt_node n;
    int fd, rc;

    if (p->read_only && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)))
        return -EROFS;
    rc = pt_handle_reserve(p);
    if (rc < 0)
        return rc;
    rc = pt_node_get(p, id, &n);
    if (rc < 0)
        goto err_unreserve;
    /* The type the guest sees first (an inert device node is a regular
     * file on the host), then the host's (pt_open_fd). */
    if (n.ino->type != S_IFREG)
        fd = n.ino->type == S_IFDIR ? -EISDIR : -EACCES;
    else
        fd = pt_open_fd(p, n.fd, open_flags(p, flags), S_IFREG);
    if (fd >= 0)
        fd = kill_on_trunc(p, fd, flags);
    if (fd < 0)
        pt_handle_unreserve(p);
    rc = fd < 0 ? fd : pt_handle_add(p, n.ino, fd, false, &o->fh);
    pt_node_put(p, &n);
    return rc;

err_unreserve:
    pt_handle_unreserve(p);
    return rc;
}

/* Open handle for a just-created entry (e); undoes the lookup on failure. */
static int handle_for_entry(struct pt_fs *p, const struct fs_entry *e, int fd,
                            struct fs_open *o)
{
    struct inode *ino = itab_get(&p->itab, e->ino);
    int rc = -ESTALE;

    if (ino) {
        rc = pt_handle_add(p, ino, fd, false, &o->fh);
    } else {
        close(fd);
        pt_handle_unreserve(p);
    }
    itab_put(&p->itab, ino);
    if (rc < 0)
        itab_forget(&p->itab, e->ino, 1);
    return rc;
}

/* Open (name) in directory (d) for CREATE: an existing file only if it is
 * a regular file (through an O_PATH fd and pt_open_fd, so a FIFO or device
 * node there is never opened), else a new one made with O_EXCL.  *created
 * says which.  Returns the fd or -errno. */
static int create_open(struct pt_fs *p, const struct pt_node *d,
                       const char *name, int flags, mode_t mode, bool excl,
                       bool *created)
{
    /* A name that appears and vanishes again between the two steps (a
     * host race) is retried a few times, then EEXIST. */
    for (int tries = 0; tries < 4; tries++) {
        int fd, pfd;

        if (!excl) {
            pfd = inode_openat(d->fd, name, O_PATH | O_NOFOLLOW, 0);
            if (pfd >= 0) {
                /* Not the inert file of a device node either. */
                fd = pt_is_dev_node(pfd) ? -EACCES
                                         : pt_open_fd(p, pfd, flags, S_IFREG);
                close(pfd);
                *created = false;
                return fd;
            }
            if (pfd != -ENOENT)
                return pfd;
        }
        fd = inode_openat(d->fd, name, flags | O_CREAT | O_EXCL, mode);
        if (fd != -EEXIST || excl) {
            *created = true;
            return fd;
        }
    }
    return -EEXIST;
}

int pt_create(void *fs, const struct fs_req *r, uint64_t parent,
              const char *name, uint32_t mode, uint32_t flags,
              struct fs_entry *e, struct fs_open *o)
{
    struct pt_fs *p = fs;
    struct pt_node d;
    struct stat dst;
    bool created;
    int fd, rc;

    if (p->read_only)
        return -EROFS;
    rc = pt_handle_reserve(p);
    if (rc < 0)
        return rc;
    rc = pt_node_get(p, parent, &d);
    if (rc < 0)
        goto err_unreserve;
    fd = create_open(p, &d, name, open_flags(p, flags),
                     pt_create_mode(p, r, mode), flags & O_EXCL, &created);
    if (fd >= 0 && !created)
        fd = kill_on_trunc(p, fd, flags);
    if (fd < 0) {
        rc = fd;
        goto err_put;
    }
    /* Only a file made here gets the caller's identity and mode; an
     * existing one is opened as it is (open(2) semantics). */
    if ((created && (fstatat(d.fd, "", &dst, AT_EMPTY_PATH) < 0 ||
                     (rc = pt_fix_new(p, r, fd, &dst, mode)) < 0)) ||
        (rc = pt_lookup_at(p, d.ino, d.fd, name, e)) < 0) {
        rc = rc < 0 ? rc : -errno;
        close(fd);
        goto err_put;
    }
    rc = handle_for_entry(p, e, fd, o);
    pt_node_put(p, &d);
    return rc;

err_put:
    pt_node_put(p, &d);
err_unreserve:
    pt_handle_unreserve(p);
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
    rc = pt_handle_reserve(p);
    if (rc < 0)
        return rc;
    rc = pt_node_get(p, parent, &d);
    if (rc < 0)
        goto err_unreserve;
    fd = inode_openat(d.fd, ".", open_flags(p, flags) | O_TMPFILE,
                      pt_create_mode(p, r, mode));
    if (fd < 0) {
        rc = fd;
        goto err_put;
    }
    pt_fdname(name, fd);
    pfd = openat(p->proc_fd, name, O_PATH | O_CLOEXEC);
    if (pfd < 0 || fstatat(d.fd, "", &dst, AT_EMPTY_PATH) < 0 ||
        (rc = pt_fix_new(p, r, fd, &dst, mode)) < 0 || fstat(fd, &e->st) < 0) {
        rc = rc < 0 ? rc : -errno;
        if (pfd >= 0)
            close(pfd);
        close(fd);
        goto err_put;
    }
    pt_present(fd, NULL, &e->st);
    e->ino = itab_lookup_fd(&p->itab, d.ino, pfd, &e->st);
    e->entry_timeout = e->attr_timeout = p->timeout;
    if (e->ino) {
        rc = handle_for_entry(p, e, fd, o);
    } else {
        rc = -ENOMEM;
        close(fd);
        pt_handle_unreserve(p);
    }
    pt_node_put(p, &d);
    return rc;

err_put:
    pt_node_put(p, &d);
err_unreserve:
    pt_handle_unreserve(p);
    return rc;
}

/* preadv until (cnt) buffers are full or end of file: a short reply means
 * end of file to the guest. */
static ssize_t read_full(int fd, uint64_t off, const struct iovec *iov,
                         unsigned int cnt)
{
    struct iovec v[512];
    size_t done = 0;
    unsigned int i = 0;

    cnt = MIN(cnt, (unsigned int)ARRAY_SIZE(v));
    memcpy(v, iov, cnt * sizeof(*v));
    while (i < cnt) {
        ssize_t n =
            preadv(fd, &v[i], (int)MIN(cnt - i, 1024u), (off_t)(off + done));

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

/* Every request on an open file holds the handle (pt_handle_get) for as
 * long as it uses the fd. */
ssize_t pt_read(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                uint64_t off, const struct iovec *iov, unsigned int cnt)
{
    struct pt_fs *p = fs;
    struct pt_handle *h;
    ssize_t n;

    if (off > INT64_MAX)
        return -EINVAL;
    h = pt_handle_get(p, fh, id, false);
    if (!h)
        return -EBADF;
    n = read_full(h->fd, off, iov, cnt);
    pt_handle_put(p, h);
    return n;
}

ssize_t pt_write(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                 uint64_t off, const struct iovec *iov, unsigned int cnt,
                 uint32_t write_flags)
{
    struct pt_fs *p = fs;
    struct pt_handle *h;
    ssize_t n;

    if (p->read_only)
        return -EROFS;
    if (off > INT64_MAX)
        return -EFBIG;
    h = pt_handle_get(p, fh, id, false);
    if (!h)
        return -EBADF;
    /* HANDLE_KILLPRIV_V2: the writer lacks CAP_FSETID. */
    if ((write_flags & FUSE_WRITE_KILL_SUIDGID) &&
        pt_kill_priv(p, h->fd, h->ino->type) < 0) {
        pt_handle_put(p, h);
        return -EIO;
    }
    n = pwritev(h->fd, iov, (int)MIN(cnt, 1024u), (off_t)off);
    n = n < 0 ? -errno : n;
    pt_handle_put(p, h);
    return n;
}

/* RELEASE: the handle leaves the table at once (a second RELEASE is
 * EBADF); its fd closes when the last request using it is done. */
int pt_release(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
               uint32_t flags, uint32_t release_flags, uint64_t lock_owner)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = pt_handle_take(p, fh, false);

    if (!h)
        return -EBADF;
    pt_lock_release(p, h, fh, release_flags & FUSE_RELEASE_FLOCK_UNLOCK,
                    lock_owner);
    pt_handle_put(p, h);
    return 0;
}

int pt_fsync(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             bool datasync)
{
    return pt_handle_sync(fs, fh, id, false, datasync);
}

/* close(2) in the guest: POSIX locks of the closing process (lock_owner)
 * on this file go away, whichever descriptor took them. */
int pt_flush(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t lock_owner)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = pt_handle_get(p, fh, id, false);

    if (!h)
        return -EBADF;
    pt_lock_flush(p, h->ino, lock_owner);
    pt_handle_put(p, h);
    return 0;
}

int pt_fallocate(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                 uint32_t mode, uint64_t off, uint64_t len)
{
    struct pt_fs *p = fs;
    struct pt_handle *h;
    int rc;

    if (p->read_only)
        return -EROFS;
    if (off > INT64_MAX || len > INT64_MAX)
        return -EFBIG;
    h = pt_handle_get(p, fh, id, false);
    if (!h)
        return -EBADF;
    rc = fallocate(h->fd, (int)mode, (off_t)off, (off_t)len) < 0 ? -errno : 0;
    pt_handle_put(p, h);
    return rc;
}

int pt_lseek(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t off, uint32_t whence, uint64_t *res)
{
    struct pt_fs *p = fs;
    struct pt_handle *h;
    off_t o;

    if (off > INT64_MAX || (whence != SEEK_DATA && whence != SEEK_HOLE &&
                            whence != SEEK_SET && whence != SEEK_END))
        return -EINVAL;
    h = pt_handle_get(p, fh, id, false);
    if (!h)
        return -EBADF;
    /* The handle's own position is never used for I/O (pread/pwrite). */
    o = lseek(h->fd, (off_t)off, (int)whence);
    o = o < 0 ? -errno : o;
    pt_handle_put(p, h);
    if (o < 0)
        return (int)o;
    *res = (uint64_t)o;
    return 0;
}

ssize_t pt_copy_file_range(void *fs, const struct fs_req *r, uint64_t ino_in,
                           uint64_t fh_in, uint64_t off_in, uint64_t ino_out,
                           uint64_t fh_out, uint64_t off_out, uint64_t len,
                           uint64_t flags)
{
    struct pt_fs *p = fs;
    struct pt_handle *hi, *ho;
    loff_t oi = (loff_t)off_in, oo = (loff_t)off_out;
    ssize_t n = -EBADF;

    if (p->read_only)
        return -EROFS;
    if (flags || off_in > INT64_MAX || off_out > INT64_MAX)
        return -EINVAL;
    /* Handles are regular files only (pt_open_fd): neither end can be a
     * device or a FIFO. */
    hi = pt_handle_get(p, fh_in, ino_in, false);
    ho = pt_handle_get(p, fh_out, ino_out, false);
    if (hi && ho) {
        n = copy_file_range(hi->fd, &oi, ho->fd, &oo, (size_t)len, 0);
        n = n < 0 ? -errno : n;
    }
    if (hi)
        pt_handle_put(p, hi);
    if (ho)
        pt_handle_put(p, ho);
    return n;
}
