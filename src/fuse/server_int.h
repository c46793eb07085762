/*
 * server_int.h: what the FUSE server's source files share (server.c: core,
 * INIT, dispatch; server_ops.c: namespace and attribute requests;
 * server_io.c: open files, data, directories, locks, xattrs).
 */
#ifndef KRUN_FUSE_SERVER_INT_H
#define KRUN_FUSE_SERVER_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "fuse/server.h"
#include "iov.h"

struct fuse_server {
    struct fuse_server_config cfg; /* read-only after create */
    uint32_t max_write;            /* read-only after create */
    _Atomic int initialized;       /* set once by INIT */
    _Atomic int destroyed;         /* set by DESTROY */
    _Atomic uint32_t minor;        /* negotiated protocol minor */
    _Atomic uint64_t flags;        /* negotiated INIT flags */
    _Atomic int blocked_locks;     /* SETLKW waiting right now */
};

/* One request being handled; lives on the calling thread's stack. */
struct fuse_req_ctx {
    struct fuse_server *srv;
    struct fs_req req;
    uint64_t nodeid;
    struct iov_iter in;  /* after the fixed part of a raw op */
    struct iov_iter out; /* the reply buffers, from their start */
    const uint8_t *arg;  /* the request body (copied), minus header */
    size_t arglen;       /* its length */
    size_t reply_len;    /* set by the reply helpers */
};

/* The backend shortcut. */
#define FS_OPS(q) ((q)->srv->cfg.backend.ops)
#define FS(q)     ((q)->srv->cfg.backend.fs)

/* Reply with (err) (negative errno, 0 = success without body). */
void fuse_reply_err(struct fuse_req_ctx *q, int err);
/* Reply success with (len) bytes of (body); -ENOSPC from the out cursor
 * becomes an error reply if even that does not fit. */
void fuse_reply_ok(struct fuse_req_ctx *q, const void *body, size_t len);
/* Reply success whose body of (len) bytes was already written after the
 * header by the handler (READ, READDIR). */
void fuse_reply_written(struct fuse_req_ctx *q, size_t len);
/* Reply with a fuse_entry_out for (e). */
void fuse_reply_entry(struct fuse_req_ctx *q, const struct fs_entry *e);
/* Fill a fuse_attr from a struct stat. */
void fuse_fill_attr(struct fuse_attr *a, const struct stat *st);
/* Fill a fuse_entry_out from (e). */
void fuse_fill_entry(struct fuse_entry_out *o, const struct fs_entry *e);
/* A name at (*pos) of the body: NUL-terminated inside it, 1..NAME_MAX bytes,
 * no '/'; "." and ".." only if (dots).  Advances *pos past the NUL.
 * Returns the name, or NULL after replying to (q) with the error (EINVAL,
 * ENAMETOOLONG): the handler just returns. */
const char *fuse_arg_name(struct fuse_req_ctx *q, size_t *pos, bool dots);
/* Like fuse_arg_name for a symlink target or xattr name: any bytes but NUL,
 * 1..(max) bytes. */
const char *fuse_arg_str(struct fuse_req_ctx *q, size_t *pos, size_t max);
/* True if the server is read-only (for handlers of conditional writes). */
bool fuse_read_only(const struct fuse_req_ctx *q);

/* Handlers: each gets the request (q) with the body in q->arg. */
typedef void fuse_handler_fn(struct fuse_req_ctx *q);
fuse_handler_fn fuse_do_lookup, fuse_do_forget, fuse_do_batch_forget,
    fuse_do_getattr, fuse_do_setattr, fuse_do_readlink, fuse_do_symlink,
    fuse_do_mknod, fuse_do_mkdir, fuse_do_unlink, fuse_do_rmdir, fuse_do_rename,
    fuse_do_rename2, fuse_do_link, fuse_do_statfs, fuse_do_access,
    fuse_do_syncfs;
fuse_handler_fn fuse_do_open, fuse_do_create, fuse_do_tmpfile, fuse_do_read,
    fuse_do_write, fuse_do_release, fuse_do_fsync, fuse_do_flush,
    fuse_do_opendir, fuse_do_readdir, fuse_do_readdirplus, fuse_do_releasedir,
    fuse_do_fsyncdir, fuse_do_setxattr, fuse_do_getxattr, fuse_do_listxattr,
    fuse_do_removexattr, fuse_do_fallocate, fuse_do_lseek,
    fuse_do_copy_file_range, fuse_do_getlk, fuse_do_setlk, fuse_do_setlkw;

#endif /* KRUN_FUSE_SERVER_INT_H */
