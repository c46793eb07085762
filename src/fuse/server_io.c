/*
 * server_io.c: FUSE requests on open files and directories: OPEN, CREATE,
 * TMPFILE, READ, WRITE, RELEASE, FLUSH, FSYNC, the directory requests, the
 * xattr requests, FALLOCATE, LSEEK, COPY_FILE_RANGE and locks.
 */
#define LOG_TAG "fuse"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <linux/limits.h>

#include "fuse/server_int.h"
#include "log.h"
#include "util.h"

#define NO_OP(q, op)                                                           \
    (!FS_OPS(q)->op ? (fuse_reply_err(q, -ENOSYS), true) : false)

/* Guest buffer segments we hand a backend for one READ or WRITE: enough
 * for max_pages page-sized virtio segments plus slack. */
#define MAX_SEGS 512

struct fs_dirbuf {
    uint8_t *buf;
    size_t size;
    size_t used;
    bool plus;
};

static void reply_open(struct fuse_req_ctx *q, int rc, const struct fs_open *o)
{
    struct fuse_open_out out = {.fh = o->fh, .open_flags = o->open_flags};

    if (rc < 0)
        fuse_reply_err(q, rc);
    else
        fuse_reply_ok(q, &out, sizeof(out));
}

static bool open_writes(uint32_t flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

void fuse_do_open(struct fuse_req_ctx *q)
{
    struct fuse_open_in in;
    struct fs_open o = {0};

    memcpy(&in, q->arg, sizeof(in));
    if (fuse_read_only(q) && open_writes(in.flags)) {
        fuse_reply_err(q, -EROFS);
        return;
    }
    if (NO_OP(q, open))
        return;
    if (in.open_flags & FUSE_OPEN_KILL_SUIDGID)
        in.flags |= FS_OPEN_KILL_PRIV;
    reply_open(q, FS_OPS(q)->open(FS(q), &q->req, q->nodeid, in.flags, &o), &o);
}

static void reply_create(struct fuse_req_ctx *q, int rc,
                         const struct fs_entry *e, const struct fs_open *o)
{
    struct {
        struct fuse_entry_out e;
        struct fuse_open_out o;
    } out;

    if (rc < 0) {
        fuse_reply_err(q, rc);
        return;
    }
    fuse_fill_entry(&out.e, e);
    out.o = (struct fuse_open_out){.fh = o->fh, .open_flags = o->open_flags};
    fuse_reply_ok(q, &out, sizeof(out));
}

void fuse_do_create(struct fuse_req_ctx *q)
{
    struct fuse_create_in in;
    struct fs_entry e = {0};
    struct fs_open o = {0};
    size_t pos = sizeof(in);
    int rc;
    const char *name;

    memcpy(&in, q->arg, sizeof(in));
    name = fuse_arg_name(q, &pos, false);
    if (!name)
        return;
    if (NO_OP(q, create))
        return;
    if (in.open_flags & FUSE_OPEN_KILL_SUIDGID)
        in.flags |= FS_OPEN_KILL_PRIV;
    rc = FS_OPS(q)->create(FS(q), &q->req, q->nodeid, name, in.mode, in.flags,
                           &e, &o);
    reply_create(q, rc, &e, &o);
}

void fuse_do_tmpfile(struct fuse_req_ctx *q)
{
    struct fuse_create_in in;
    struct fs_entry e = {0};
    struct fs_open o = {0};
    int rc;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, tmpfile))
        return;
    rc = FS_OPS(q)->tmpfile(FS(q), &q->req, q->nodeid, in.mode, in.flags, &e,
                            &o);
    reply_create(q, rc, &e, &o);
}

void fuse_do_read(struct fuse_req_ctx *q)
{
    struct fuse_read_in in;
    struct iovec segs[MAX_SEGS];
    struct iov_iter data = q->out;
    unsigned int n;
    ssize_t rc;

    memcpy(&in, q->arg, sizeof(in));
    if (in.size > q->srv->max_write) {
        fuse_reply_err(q, -EINVAL);
        return;
    }
    if (NO_OP(q, read))
        return;
    if (iov_skip_all(&data, sizeof(struct fuse_out_header)) < 0)
        return;
    n = iov_slice(&data, in.size, segs, MAX_SEGS);
    rc = FS_OPS(q)->read(FS(q), &q->req, q->nodeid, in.fh, in.offset, segs, n);
    if (rc < 0)
        fuse_reply_err(q, (int)rc);
    else
        fuse_reply_written(q, (size_t)rc);
}

void fuse_do_write(struct fuse_req_ctx *q)
{
    struct fuse_write_in in;
    struct fuse_write_out out = {0};
    struct iovec segs[MAX_SEGS];
    unsigned int n;
    ssize_t rc;

    memcpy(&in, q->arg, sizeof(in));
    if (in.size > q->srv->max_write || in.size > iov_remaining(&q->in)) {
        log_ratelimited(LOG_WARN, "WRITE of %u bytes, %zu present", in.size,
                        iov_remaining(&q->in));
        fuse_reply_err(q, -EINVAL);
        return;
    }
    if (NO_OP(q, write))
        return;
    n = iov_slice(&q->in, in.size, segs, MAX_SEGS);
    rc = FS_OPS(q)->write(FS(q), &q->req, q->nodeid, in.fh, in.offset, segs, n,
                          in.write_flags);
    if (rc < 0) {
        fuse_reply_err(q, (int)rc);
        return;
    }
    out.size = (uint32_t)rc;
    fuse_reply_ok(q, &out, sizeof(out));
}

void fuse_do_release(struct fuse_req_ctx *q)
{
    struct fuse_release_in in;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, release))
        return;
    fuse_reply_err(q, FS_OPS(q)->release(FS(q), &q->req, q->nodeid, in.fh,
                                         in.flags, in.release_flags,
                                         in.lock_owner));
}

void fuse_do_releasedir(struct fuse_req_ctx *q)
{
    struct fuse_release_in in;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, releasedir))
        return;
    fuse_reply_err(q, FS_OPS(q)->releasedir(FS(q), &q->req, q->nodeid, in.fh));
}

void fuse_do_fsync(struct fuse_req_ctx *q)
{
    struct fuse_fsync_in in;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, fsync))
        return;
    fuse_reply_err(q, FS_OPS(q)->fsync(FS(q), &q->req, q->nodeid, in.fh,
                                       in.fsync_flags & FUSE_FSYNC_FDATASYNC));
}

void fuse_do_fsyncdir(struct fuse_req_ctx *q)
{
    struct fuse_fsync_in in;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, fsyncdir))
        return;
    fuse_reply_err(q,
                   FS_OPS(q)->fsyncdir(FS(q), &q->req, q->nodeid, in.fh,
                                       in.fsync_flags & FUSE_FSYNC_FDATASYNC));
}

void fuse_do_flush(struct fuse_req_ctx *q)
{
    struct fuse_flush_in in;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, flush))
        return;
    fuse_reply_err(
        q, FS_OPS(q)->flush(FS(q), &q->req, q->nodeid, in.fh, in.lock_owner));
}

void fuse_do_opendir(struct fuse_req_ctx *q)
{
    struct fuse_open_in in;
    struct fs_open o = {0};

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, opendir))
        return;
    reply_open(q, FS_OPS(q)->opendir(FS(q), &q->req, q->nodeid, in.flags, &o),
               &o);
}

bool fs_dirbuf_plus(const struct fs_dirbuf *db)
{
    return db->plus;
}

static size_t dirent_size(const struct fs_dirbuf *db, size_t namelen)
{
    size_t fixed =
        db->plus ? sizeof(struct fuse_direntplus) : sizeof(struct fuse_dirent);

    return ALIGN_UP(fixed + namelen, sizeof(uint64_t));
}

bool fs_dirbuf_fits(const struct fs_dirbuf *db, size_t namelen)
{
    return namelen > 0 && namelen <= NAME_MAX &&
           dirent_size(db, namelen) <= db->size - db->used;
}

int fs_dirbuf_add(struct fs_dirbuf *db, const char *name, size_t namelen,
                  uint64_t d_ino, uint32_t type, uint64_t next_off,
                  const struct fs_entry *e)
{
    uint8_t *p = db->buf + db->used;
    size_t sz = dirent_size(db, namelen);
    struct fuse_dirent d = {.ino = d_ino,
                            .off = next_off,
                            .namelen = (uint32_t)namelen,
                            .type = type};

    if (!fs_dirbuf_fits(db, namelen))
        return -ENOSPC;
    memset(p, 0, sz);
    if (db->plus) {
        struct fuse_entry_out eo = {0};

        if (e && e->ino)
            fuse_fill_entry(&eo, e);
        else if (e)
            fuse_fill_attr(&eo.attr, &e->st);
        memcpy(p, &eo, sizeof(eo));
        p += sizeof(eo);
    }
    memcpy(p, &d, sizeof(d));
    memcpy(p + sizeof(d), name, namelen);
    db->used += sz;
    return 0;
}

static void do_readdir_common(struct fuse_req_ctx *q, bool plus)
{
    struct fuse_read_in in;
    struct fs_dirbuf db = {.plus = plus};
    struct iov_iter data = q->out;
    int rc;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, readdir))
        return;
    if (iov_skip_all(&data, sizeof(struct fuse_out_header)) < 0)
        return;
    db.size = MIN(MIN(in.size, q->srv->max_write), iov_remaining(&data));
    db.buf = malloc(db.size ? db.size : 1);
    if (!db.buf) {
        fuse_reply_err(q, -ENOMEM);
        return;
    }
    rc = FS_OPS(q)->readdir(FS(q), &q->req, q->nodeid, in.fh, in.offset, &db);
    if (rc < 0 && db.used == 0) {
        fuse_reply_err(q, rc);
    } else {
        iov_write_all(&data, db.buf, db.used);
        fuse_reply_written(q, db.used);
    }
    free(db.buf);
}

void fuse_do_readdir(struct fuse_req_ctx *q)
{
    do_readdir_common(q, false);
}

void fuse_do_readdirplus(struct fuse_req_ctx *q)
{
    do_readdir_common(q, true);
}

void fuse_do_setxattr(struct fuse_req_ctx *q)
{
    struct fuse_setxattr_in in = {0};
    size_t pos = FUSE_COMPAT_SETXATTR_IN_SIZE;
    const char *name;

    memcpy(&in, q->arg, FUSE_COMPAT_SETXATTR_IN_SIZE);
    name = fuse_arg_str(q, &pos, XATTR_NAME_MAX);
    if (!name)
        return;
    if (in.size > XATTR_SIZE_MAX || in.size > q->arglen - pos) {
        fuse_reply_err(q, in.size > XATTR_SIZE_MAX ? -E2BIG : -EINVAL);
        return;
    }
    if (NO_OP(q, setxattr))
        return;
    fuse_reply_err(q, FS_OPS(q)->setxattr(FS(q), &q->req, q->nodeid, name,
                                          q->arg + pos, in.size, in.flags));
}

/* Shared tail of GETXATTR and LISTXATTR: size 0 asks for the length. */
static void reply_xattr(struct fuse_req_ctx *q, uint32_t size, const char *name)
{
    struct fuse_getxattr_out o = {0};
    size_t cap = MIN(size, XATTR_SIZE_MAX);
    void *buf = malloc(cap ? cap : 1);
    int rc;

    if (!buf) {
        fuse_reply_err(q, -ENOMEM);
        return;
    }
    rc = name ? FS_OPS(q)->getxattr(FS(q), &q->req, q->nodeid, name, buf, cap)
              : FS_OPS(q)->listxattr(FS(q), &q->req, q->nodeid, buf, cap);
    if (rc < 0) {
        fuse_reply_err(q, rc);
    } else if (size == 0) {
        o.size = (uint32_t)rc;
        fuse_reply_ok(q, &o, sizeof(o));
    } else {
        fuse_reply_ok(q, buf, MIN((size_t)rc, cap));
    }
    free(buf);
}

void fuse_do_getxattr(struct fuse_req_ctx *q)
{
    struct fuse_getxattr_in in;
    size_t pos = sizeof(in);
    const char *name;

    memcpy(&in, q->arg, sizeof(in));
    name = fuse_arg_str(q, &pos, XATTR_NAME_MAX);
    if (!name)
        return;
    if (NO_OP(q, getxattr))
        return;
    reply_xattr(q, in.size, name);
}

void fuse_do_listxattr(struct fuse_req_ctx *q)
{
    struct fuse_getxattr_in in;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, listxattr))
        return;
    reply_xattr(q, in.size, NULL);
}

void fuse_do_removexattr(struct fuse_req_ctx *q)
{
    size_t pos = 0;
    const char *name = fuse_arg_str(q, &pos, XATTR_NAME_MAX);

    if (!name)
        return;
    if (NO_OP(q, removexattr))
        return;
    fuse_reply_err(q, FS_OPS(q)->removexattr(FS(q), &q->req, q->nodeid, name));
}

void fuse_do_fallocate(struct fuse_req_ctx *q)
{
    struct fuse_fallocate_in in;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, fallocate))
        return;
    fuse_reply_err(q, FS_OPS(q)->fallocate(FS(q), &q->req, q->nodeid, in.fh,
                                           in.mode, in.offset, in.length));
}

void fuse_do_lseek(struct fuse_req_ctx *q)
{
    struct fuse_lseek_in in;
    struct fuse_lseek_out o = {0};
    uint64_t res = 0;
    int rc;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, lseek))
        return;
    rc = FS_OPS(q)->lseek(FS(q), &q->req, q->nodeid, in.fh, in.offset,
                          in.whence, &res);
    o.offset = res;
    if (rc < 0)
        fuse_reply_err(q, rc);
    else
        fuse_reply_ok(q, &o, sizeof(o));
}

void fuse_do_copy_file_range(struct fuse_req_ctx *q)
{
    struct fuse_copy_file_range_in in;
    struct fuse_write_out o = {0};
    ssize_t rc;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, copy_file_range))
        return;
    /* The reply's size is 32 bits; a shorter copy is a valid answer. */
    rc = FS_OPS(q)->copy_file_range(
        FS(q), &q->req, q->nodeid, in.fh_in, in.off_in, in.nodeid_out,
        in.fh_out, in.off_out, MIN(in.len, 1ull << 30), in.flags);
    if (rc < 0) {
        fuse_reply_err(q, (int)rc);
        return;
    }
    o.size = (uint32_t)rc;
    fuse_reply_ok(q, &o, sizeof(o));
}

void fuse_do_getlk(struct fuse_req_ctx *q)
{
    struct fuse_lk_in in;
    struct fuse_lk_out o = {0};
    int rc;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, getlk))
        return;
    o.lk = in.lk;
    rc = FS_OPS(q)->getlk(FS(q), &q->req, q->nodeid, in.fh, in.owner, &o.lk);
    if (rc < 0)
        fuse_reply_err(q, rc);
    else
        fuse_reply_ok(q, &o, sizeof(o));
}

static void do_setlk_common(struct fuse_req_ctx *q, bool sleep)
{
    struct fuse_lk_in in;
    struct fuse_server *srv = q->srv;
    int max_blocked = (int)srv->cfg.workers - 1;
    bool counted = false;
    int rc;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, setlk))
        return;
    /* A waiting lock holds this thread; keep one worker free so that the
     * request releasing the lock can be served. */
    if (sleep) {
        if (atomic_fetch_add(&srv->blocked_locks, 1) < max_blocked)
            counted = true;
        else
            atomic_fetch_sub(&srv->blocked_locks, 1);
    }
    rc = FS_OPS(q)->setlk(FS(q), &q->req, q->nodeid, in.fh, in.owner, &in.lk,
                          counted, (in.lk_flags & FUSE_LK_FLOCK) != 0);
    if (counted)
        atomic_fetch_sub(&srv->blocked_locks, 1);
    else if (sleep && (rc == -EAGAIN || rc == -EWOULDBLOCK))
        rc = -EDEADLK;
    fuse_reply_err(q, rc);
}

void fuse_do_setlk(struct fuse_req_ctx *q)
{
    do_setlk_common(q, false);
}

void fuse_do_setlkw(struct fuse_req_ctx *q)
{
    do_setlk_common(q, true);
}
