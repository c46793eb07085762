/*
 * server_ops.c: FUSE requests about names and attributes: LOOKUP, FORGET,
 * GETATTR, SETATTR, the creating and removing requests, RENAME, LINK,
 * READLINK, STATFS, ACCESS, SYNCFS.
 */
#define LOG_TAG "fuse"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fuse/server_int.h"
#include "log.h"
#include "util.h"

/* Reply ENOSYS and return true if the backend lacks (op). */
#define NO_OP(q, op)                                                           \
    (!FS_OPS(q)->op ? (fuse_reply_err(q, -ENOSYS), true) : false)

static void reply_entry_rc(struct fuse_req_ctx *q, int rc,
                           const struct fs_entry *e)
{
    if (rc < 0)
        fuse_reply_err(q, rc);
    else
        fuse_reply_entry(q, e);
}

static void reply_attr(struct fuse_req_ctx *q, const struct stat *st,
                       uint64_t timeout)
{
    struct fuse_attr_out o = {.attr_valid = timeout};

    fuse_fill_attr(&o.attr, st);
    fuse_reply_ok(q, &o, sizeof(o));
}

void fuse_do_lookup(struct fuse_req_ctx *q)
{
    struct fs_entry e = {0};
    size_t pos = 0;
    const char *name = fuse_arg_name(q, &pos, true);

    if (!name || NO_OP(q, lookup))
        return;
    reply_entry_rc(q, FS_OPS(q)->lookup(FS(q), &q->req, q->nodeid, name, &e),
                   &e);
}

void fuse_do_forget(struct fuse_req_ctx *q)
{
    struct fuse_forget_in in;

    memcpy(&in, q->arg, sizeof(in));
    if (FS_OPS(q)->forget)
        FS_OPS(q)->forget(FS(q), q->nodeid, in.nlookup);
}

/* The entries follow the fixed part in q->in; read them one at a time so a
 * large batch needs no buffer.  A count beyond the body is cut short. */
void fuse_do_batch_forget(struct fuse_req_ctx *q)
{
    struct fuse_batch_forget_in in;
    struct fuse_forget_one one;

    memcpy(&in, q->arg, sizeof(in));
    for (uint32_t i = 0; i < in.count; i++) {
        if (iov_read_all(&q->in, &one, sizeof(one)) < 0) {
            log_ratelimited(LOG_WARN, "BATCH_FORGET: count %u too big",
                            in.count);
            break;
        }
        if (FS_OPS(q)->forget)
            FS_OPS(q)->forget(FS(q), one.nodeid, one.nlookup);
    }
}

void fuse_do_getattr(struct fuse_req_ctx *q)
{
    struct fuse_getattr_in in;
    struct stat st;
    uint64_t timeout = 0;
    int rc;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, getattr))
        return;
    rc = FS_OPS(q)->getattr(FS(q), &q->req, q->nodeid,
                            (in.getattr_flags & FUSE_GETATTR_FH) != 0, in.fh,
                            &st, &timeout);
    if (rc < 0)
        fuse_reply_err(q, rc);
    else
        reply_attr(q, &st, timeout);
}

void fuse_do_setattr(struct fuse_req_ctx *q)
{
    struct fuse_setattr_in in;
    struct fs_setattr sa;
    struct stat st;
    uint64_t timeout = 0;
    int rc;

    memcpy(&in, q->arg, sizeof(in));
    sa = (struct fs_setattr){
        .valid = in.valid,
        .fh = in.fh,
        .mode = in.mode,
        .uid = in.uid,
        .gid = in.gid,
        .size = in.size,
        .atime = {(time_t)in.atime, in.atimensec},
        .mtime = {(time_t)in.mtime, in.mtimensec},
    };
    if (in.atimensec >= 1000000000u || in.mtimensec >= 1000000000u) {
        fuse_reply_err(q, -EINVAL);
        return;
    }
    if (in.valid & FATTR_ATIME_NOW)
        sa.atime.tv_nsec = UTIME_NOW;
    if (in.valid & FATTR_MTIME_NOW)
        sa.mtime.tv_nsec = UTIME_NOW;
    if (NO_OP(q, setattr))
        return;
    rc = FS_OPS(q)->setattr(FS(q), &q->req, q->nodeid, &sa, &st, &timeout);
    if (rc < 0)
        fuse_reply_err(q, rc);
    else
        reply_attr(q, &st, timeout);
}

void fuse_do_readlink(struct fuse_req_ctx *q)
{
    char buf[PATH_MAX];
    int rc;

    if (NO_OP(q, readlink))
        return;
    rc = FS_OPS(q)->readlink(FS(q), &q->req, q->nodeid, buf, sizeof(buf));
    if (rc < 0)
        fuse_reply_err(q, rc);
    else
        fuse_reply_ok(q, buf, (size_t)rc);
}

/* SYMLINK's body is "name\0target\0". */
void fuse_do_symlink(struct fuse_req_ctx *q)
{
    struct fs_entry e = {0};
    size_t pos = 0;
    const char *name = fuse_arg_name(q, &pos, false);
    const char *target = name ? fuse_arg_str(q, &pos, PATH_MAX - 1) : NULL;

    if (!target)
        return;
    if (NO_OP(q, symlink))
        return;
    reply_entry_rc(
        q, FS_OPS(q)->symlink(FS(q), &q->req, q->nodeid, name, target, &e), &e);
}

void fuse_do_mknod(struct fuse_req_ctx *q)
{
    struct fuse_mknod_in in;
    struct fs_entry e = {0};
    size_t pos = sizeof(in);
    const char *name;

    memcpy(&in, q->arg, sizeof(in));
    name = fuse_arg_name(q, &pos, false);
    if (!name)
        return;
    if (NO_OP(q, mknod))
        return;
    reply_entry_rc(
        q,
        FS_OPS(q)->mknod(FS(q), &q->req, q->nodeid, name, in.mode, in.rdev, &e),
        &e);
}

void fuse_do_mkdir(struct fuse_req_ctx *q)
{
    struct fuse_mkdir_in in;
    struct fs_entry e = {0};
    size_t pos = sizeof(in);
    const char *name;

    memcpy(&in, q->arg, sizeof(in));
    name = fuse_arg_name(q, &pos, false);
    if (!name)
        return;
    if (NO_OP(q, mkdir))
        return;
    reply_entry_rc(
        q, FS_OPS(q)->mkdir(FS(q), &q->req, q->nodeid, name, in.mode, &e), &e);
}

static void do_remove(struct fuse_req_ctx *q, bool dir)
{
    size_t pos = 0;
    int rc;
    const char *name = fuse_arg_name(q, &pos, false);

    if (!name)
        return;
    if (dir ? NO_OP(q, rmdir) : NO_OP(q, unlink))
        return;
    rc = dir ? FS_OPS(q)->rmdir(FS(q), &q->req, q->nodeid, name)
             : FS_OPS(q)->unlink(FS(q), &q->req, q->nodeid, name);
    fuse_reply_err(q, rc);
}

void fuse_do_unlink(struct fuse_req_ctx *q)
{
    do_remove(q, false);
}

void fuse_do_rmdir(struct fuse_req_ctx *q)
{
    do_remove(q, true);
}

static void do_rename_common(struct fuse_req_ctx *q, size_t pos,
                             uint64_t newdir, uint32_t flags)
{
    const char *name = fuse_arg_name(q, &pos, false);
    const char *newname = name ? fuse_arg_name(q, &pos, false) : NULL;

    if (!newname)
        return;
    if (flags &
        ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) {
        fuse_reply_err(q, -EINVAL);
        return;
    }
    if (NO_OP(q, rename))
        return;
    fuse_reply_err(q, FS_OPS(q)->rename(FS(q), &q->req, q->nodeid, name, newdir,
                                        newname, flags));
}

void fuse_do_rename(struct fuse_req_ctx *q)
{
    struct fuse_rename_in in;

    memcpy(&in, q->arg, sizeof(in));
    do_rename_common(q, sizeof(in), in.newdir, 0);
}

void fuse_do_rename2(struct fuse_req_ctx *q)
{
    struct fuse_rename2_in in;

    memcpy(&in, q->arg, sizeof(in));
    do_rename_common(q, sizeof(in), in.newdir, in.flags);
}

void fuse_do_link(struct fuse_req_ctx *q)
{
    struct fuse_link_in in;
    struct fs_entry e = {0};
    size_t pos = sizeof(in);
    const char *name;

    memcpy(&in, q->arg, sizeof(in));
    name = fuse_arg_name(q, &pos, false);
    if (!name)
        return;
    if (NO_OP(q, link))
        return;
    reply_entry_rc(
        q, FS_OPS(q)->link(FS(q), &q->req, in.oldnodeid, q->nodeid, name, &e),
        &e);
}

void fuse_do_statfs(struct fuse_req_ctx *q)
{
    struct statvfs sv;
    struct fuse_statfs_out o = {0};
    int rc;

    if (NO_OP(q, statfs))
        return;
    rc = FS_OPS(q)->statfs(FS(q), &q->req, q->nodeid, &sv);
    if (rc < 0) {
        fuse_reply_err(q, rc);
        return;
    }
    o.st = (struct fuse_kstatfs){
        .blocks = sv.f_blocks,
        .bfree = sv.f_bfree,
        .bavail = sv.f_bavail,
        .files = sv.f_files,
        .ffree = sv.f_ffree,
        .bsize = (uint32_t)sv.f_bsize,
        .namelen = (uint32_t)sv.f_namemax,
        .frsize = (uint32_t)sv.f_frsize,
    };
    fuse_reply_ok(q, &o, sizeof(o));
}

void fuse_do_access(struct fuse_req_ctx *q)
{
    struct fuse_access_in in;

    memcpy(&in, q->arg, sizeof(in));
    if (NO_OP(q, access))
        return;
    fuse_reply_err(q, FS_OPS(q)->access(FS(q), &q->req, q->nodeid, in.mask));
}

void fuse_do_syncfs(struct fuse_req_ctx *q)
{
    if (NO_OP(q, syncfs))
        return;
    fuse_reply_err(q, FS_OPS(q)->syncfs(FS(q), &q->req, q->nodeid));
}
