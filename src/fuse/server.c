/*
 * server.c: FUSE wire protocol core: request framing checks, the opcode
 * table with minimum sizes, INIT negotiation, reply helpers.
 */
#define LOG_TAG "fuse"
#include "fuse/server.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fuse/server_int.h"
#include "log.h"
#include "util.h"

/* Protocol minors below this are refused (Linux 5.4 speaks 7.31; 6.1 7.37).
 * 7.27 is what upstream accepts; nothing we reply depends on 7.28+. */
#define FUSE_MIN_MINOR 27
#define PAGE           4096u
/* Largest non-WRITE request body we copy: an xattr value plus its name. */
#define FUSE_MAX_ARG (65536u + 4096u)
#define STACK_ARG    1024u

enum {
    OPF_MUTATE = 1 << 0, /* EROFS on a read-only share */
    OPF_RAW = 1 << 1,    /* only the fixed part is copied (WRITE, BATCH) */
    OPF_NOREPLY = 1 << 2,
};

struct fuse_opdesc {
    const char *name;
    uint32_t min_size; /* bytes of body the opcode needs at least */
    uint8_t flags;
    fuse_handler_fn *fn;
};

static fuse_handler_fn do_init, do_destroy, do_ioctl, do_interrupt;

#define OP(code, nm, min, fl, f) [code] = {nm, min, fl, f}
#define M                        OPF_MUTATE
/* Names are checked by each handler; min_size counts the fixed part plus
 * one byte for a name's NUL where a name is required. */
static const struct fuse_opdesc fuse_opdescs[] = {
    OP(FUSE_LOOKUP, "LOOKUP", 2, 0, fuse_do_lookup),
    OP(FUSE_FORGET, "FORGET", sizeof(struct fuse_forget_in), OPF_NOREPLY,
       fuse_do_forget),
    OP(FUSE_GETATTR, "GETATTR", sizeof(struct fuse_getattr_in), 0,
       fuse_do_getattr),
    OP(FUSE_SETATTR, "SETATTR", sizeof(struct fuse_setattr_in), M,
       fuse_do_setattr),
    OP(FUSE_READLINK, "READLINK", 0, 0, fuse_do_readlink),
    OP(FUSE_SYMLINK, "SYMLINK", 4, M, fuse_do_symlink),
    OP(FUSE_MKNOD, "MKNOD", sizeof(struct fuse_mknod_in) + 2, M, fuse_do_mknod),
    OP(FUSE_MKDIR, "MKDIR", sizeof(struct fuse_mkdir_in) + 2, M, fuse_do_mkdir),
    OP(FUSE_UNLINK, "UNLINK", 2, M, fuse_do_unlink),
    OP(FUSE_RMDIR, "RMDIR", 2, M, fuse_do_rmdir),
    OP(FUSE_RENAME, "RENAME", sizeof(struct fuse_rename_in) + 4, M,
       fuse_do_rename),
    OP(FUSE_LINK, "LINK", sizeof(struct fuse_link_in) + 2, M, fuse_do_link),
    OP(FUSE_OPEN, "OPEN", sizeof(struct fuse_open_in), 0, fuse_do_open),
    OP(FUSE_READ, "READ", sizeof(struct fuse_read_in), 0, fuse_do_read),
    OP(FUSE_WRITE, "WRITE", sizeof(struct fuse_write_in), M | OPF_RAW,
       fuse_do_write),
    OP(FUSE_STATFS, "STATFS", 0, 0, fuse_do_statfs),
    OP(FUSE_RELEASE, "RELEASE", sizeof(struct fuse_release_in), 0,
       fuse_do_release),
    OP(FUSE_FSYNC, "FSYNC", sizeof(struct fuse_fsync_in), 0, fuse_do_fsync),
    OP(FUSE_SETXATTR, "SETXATTR", FUSE_COMPAT_SETXATTR_IN_SIZE + 2, M,
       fuse_do_setxattr),
    OP(FUSE_GETXATTR, "GETXATTR", sizeof(struct fuse_getxattr_in) + 2, 0,
       fuse_do_getxattr),
    OP(FUSE_LISTXATTR, "LISTXATTR", sizeof(struct fuse_getxattr_in), 0,
       fuse_do_listxattr),
    OP(FUSE_REMOVEXATTR, "REMOVEXATTR", 2, M, fuse_do_removexattr),
    OP(FUSE_FLUSH, "FLUSH", sizeof(struct fuse_flush_in), 0, fuse_do_flush),
    OP(FUSE_INIT, "INIT", 16, 0, do_init),
    OP(FUSE_OPENDIR, "OPENDIR", sizeof(struct fuse_open_in), 0,
       fuse_do_opendir),
    OP(FUSE_READDIR, "READDIR", sizeof(struct fuse_read_in), 0,
       fuse_do_readdir),
    OP(FUSE_RELEASEDIR, "RELEASEDIR", sizeof(struct fuse_release_in), 0,
       fuse_do_releasedir),
    OP(FUSE_FSYNCDIR, "FSYNCDIR", sizeof(struct fuse_fsync_in), 0,
       fuse_do_fsyncdir),
    OP(FUSE_GETLK, "GETLK", sizeof(struct fuse_lk_in), 0, fuse_do_getlk),
    OP(FUSE_SETLK, "SETLK", sizeof(struct fuse_lk_in), 0, fuse_do_setlk),
    OP(FUSE_SETLKW, "SETLKW", sizeof(struct fuse_lk_in), 0, fuse_do_setlkw),
    OP(FUSE_ACCESS, "ACCESS", sizeof(struct fuse_access_in), 0, fuse_do_access),
    OP(FUSE_CREATE, "CREATE", sizeof(struct fuse_create_in) + 2, M,
       fuse_do_create),
    OP(FUSE_INTERRUPT, "INTERRUPT", sizeof(struct fuse_interrupt_in),
       OPF_NOREPLY, do_interrupt),
    OP(FUSE_DESTROY, "DESTROY", 0, 0, do_destroy),
    OP(FUSE_IOCTL, "IOCTL", sizeof(struct fuse_ioctl_in), 0, do_ioctl),
    OP(FUSE_BATCH_FORGET, "BATCH_FORGET", sizeof(struct fuse_batch_forget_in),
       OPF_RAW | OPF_NOREPLY, fuse_do_batch_forget),
    OP(FUSE_FALLOCATE, "FALLOCATE", sizeof(struct fuse_fallocate_in), M,
       fuse_do_fallocate),
    OP(FUSE_READDIRPLUS, "READDIRPLUS", sizeof(struct fuse_read_in), 0,
       fuse_do_readdirplus),
    OP(FUSE_RENAME2, "RENAME2", sizeof(struct fuse_rename2_in) + 4, M,
       fuse_do_rename2),
    OP(FUSE_LSEEK, "LSEEK", sizeof(struct fuse_lseek_in), 0, fuse_do_lseek),
    OP(FUSE_COPY_FILE_RANGE, "COPY_FILE_RANGE",
       sizeof(struct fuse_copy_file_range_in), M, fuse_do_copy_file_range),
    OP(FUSE_SYNCFS, "SYNCFS", sizeof(struct fuse_syncfs_in), 0, fuse_do_syncfs),
    OP(FUSE_TMPFILE, "TMPFILE", sizeof(struct fuse_create_in), M,
       fuse_do_tmpfile),
};
#undef M
#undef OP

int fuse_server_create(const struct fuse_server_config *cfg,
                       struct fuse_server **out)
{
    struct fuse_server *srv = calloc(1, sizeof(*srv));

    if (!srv)
        return -ENOMEM;
    srv->cfg = *cfg;
    srv->max_write = cfg->max_write ? cfg->max_write : 1u << 20;
    srv->max_write = MIN(ALIGN_UP(srv->max_write, PAGE), 1u << 24);
    *out = srv;
    return 0;
}

void fuse_server_destroy(struct fuse_server *srv)
{
    free(srv);
}

size_t fuse_server_max_request(const struct fuse_server *srv)
{
    return sizeof(struct fuse_in_header) + sizeof(struct fuse_write_in) +
           srv->max_write;
}

bool fuse_server_destroyed(const struct fuse_server *srv)
{
    return atomic_load(&srv->destroyed) != 0;
}

bool fuse_read_only(const struct fuse_req_ctx *q)
{
    return q->srv->cfg.read_only;
}

/* Write the header at the start of the out buffers. */
static void reply_header(struct fuse_req_ctx *q, int err, size_t body)
{
    struct fuse_out_header h = {
        .len = (uint32_t)(sizeof(h) + body),
        .error = err,
        .unique = q->req.unique,
    };
    struct iov_iter c = q->out;

    if (iov_write_all(&c, &h, sizeof(h)) == 0)
        q->reply_len = sizeof(h) + body;
}

void fuse_reply_err(struct fuse_req_ctx *q, int err)
{
    if (err > 0 || err < -4095)
        err = -EIO;
    reply_header(q, err, 0);
}

void fuse_reply_ok(struct fuse_req_ctx *q, const void *body, size_t len)
{
    struct iov_iter c = q->out;

    if (iov_skip_all(&c, sizeof(struct fuse_out_header)) < 0 ||
        iov_write_all(&c, body, len) < 0) {
        fuse_reply_err(q, -ERANGE);
        return;
    }
    reply_header(q, 0, len);
}

void fuse_reply_written(struct fuse_req_ctx *q, size_t len)
{
    reply_header(q, 0, len);
}

void fuse_fill_attr(struct fuse_attr *a, const struct stat *st)
{
    *a = (struct fuse_attr){
        .ino = st->st_ino,
        .size = (uint64_t)st->st_size,
        .blocks = (uint64_t)st->st_blocks,
        .atime = (uint64_t)st->st_atim.tv_sec,
        .mtime = (uint64_t)st->st_mtim.tv_sec,
        .ctime = (uint64_t)st->st_ctim.tv_sec,
        .atimensec = (uint32_t)st->st_atim.tv_nsec,
        .mtimensec = (uint32_t)st->st_mtim.tv_nsec,
        .ctimensec = (uint32_t)st->st_ctim.tv_nsec,
        .mode = st->st_mode,
        .nlink = (uint32_t)st->st_nlink,
        .uid = st->st_uid,
        .gid = st->st_gid,
        .rdev = (uint32_t)st->st_rdev,
        .blksize = (uint32_t)st->st_blksize,
    };
}

void fuse_fill_entry(struct fuse_entry_out *o, const struct fs_entry *e)
{
    memset(o, 0, sizeof(*o));
    o->nodeid = e->ino;
    o->generation = e->generation;
    o->entry_valid = e->entry_timeout;
    o->attr_valid = e->attr_timeout;
    fuse_fill_attr(&o->attr, &e->st);
}

void fuse_reply_entry(struct fuse_req_ctx *q, const struct fs_entry *e)
{
    struct fuse_entry_out o;

    fuse_fill_entry(&o, e);
    fuse_reply_ok(q, &o, sizeof(o));
}

/* The NUL-terminated string at (*pos) of 1..(max) bytes, or NULL with the
 * errno in (*err). */
static const char *arg_str(struct fuse_req_ctx *q, size_t *pos, size_t max,
                           int *err)
{
    const char *s = (const char *)q->arg + *pos;
    size_t avail = q->arglen - MIN(*pos, q->arglen);
    const char *nul = memchr(s, '\0', avail);

    if (!nul) {
        *err = -EINVAL;
        return NULL;
    }
    if (nul == s || (size_t)(nul - s) > max) {
        *err = nul == s ? -EINVAL : -ENAMETOOLONG;
        return NULL;
    }
    *pos += (size_t)(nul - s) + 1;
    return s;
}

const char *fuse_arg_str(struct fuse_req_ctx *q, size_t *pos, size_t max)
{
    int err = 0;
    const char *s = arg_str(q, pos, max, &err);

    if (!s)
        fuse_reply_err(q, err);
    return s;
}

const char *fuse_arg_name(struct fuse_req_ctx *q, size_t *pos, bool dots)
{
    int err = 0;
    const char *s = arg_str(q, pos, NAME_MAX, &err);

    if (s &&
        (strchr(s, '/') || (!dots && (!strcmp(s, ".") || !strcmp(s, ".."))))) {
        err = -EINVAL;
        s = NULL;
    }
    if (!s)
        fuse_reply_err(q, err);
    return s;
}

/* INIT: negotiate the protocol version and features. */
static uint64_t init_wanted(const struct fuse_server *srv)
{
    uint64_t f = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
                 FUSE_HAS_IOCTL_DIR | FUSE_AUTO_INVAL_DATA |
                 FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO | FUSE_ASYNC_DIO |
                 FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS |
                 FUSE_HANDLE_KILLPRIV_V2 | FUSE_INIT_EXT;

    if (srv->cfg.workers >= 2)
        f |= FUSE_POSIX_LOCKS | FUSE_FLOCK_LOCKS;
    return f;
}

static void do_init(struct fuse_req_ctx *q)
{
    struct fuse_server *srv = q->srv;
    struct fuse_init_in in = {0};
    struct fuse_init_out o = {.major = FUSE_KERNEL_VERSION};
    uint64_t kflags, flags;

    memcpy(&in, q->arg, MIN(q->arglen, sizeof(in)));
    if (in.major > FUSE_KERNEL_VERSION) {
        /* The kernel retries with our major (fuse.h, INIT). */
        fuse_reply_ok(q, &o, sizeof(o));
        return;
    }
    if (in.major < FUSE_KERNEL_VERSION || in.minor < FUSE_MIN_MINOR) {
        log_ratelimited(LOG_WARN, "INIT: protocol %u.%u too old", in.major,
                        in.minor);
        fuse_reply_err(q, -EPROTO);
        return;
    }
    kflags = in.flags;
    if ((in.flags & FUSE_INIT_EXT) && q->arglen >= sizeof(in))
        kflags |= (uint64_t)in.flags2 << 32;
    flags = kflags & init_wanted(srv);
    o.minor = MIN(in.minor, FUSE_KERNEL_MINOR_VERSION);
    o.max_readahead = MIN(in.max_readahead, srv->max_write);
    o.flags = (uint32_t)flags;
    o.flags2 = (uint32_t)(flags >> 32);
    o.max_background = 256;
    o.congestion_threshold = 192;
    o.max_write = srv->max_write;
    o.time_gran = 1;
    o.max_pages = (uint16_t)(srv->max_write / PAGE);
    atomic_store(&srv->minor, o.minor);
    atomic_store(&srv->flags, flags);
    atomic_store(&srv->initialized, 1);
    fuse_reply_ok(q, &o, sizeof(o));
}

static void do_destroy(struct fuse_req_ctx *q)
{
    if (FS_OPS(q)->destroy)
        FS_OPS(q)->destroy(FS(q));
    atomic_store(&q->srv->destroyed, 1);
    atomic_store(&q->srv->initialized, 0);
    fuse_reply_err(q, 0);
}

static void do_interrupt(struct fuse_req_ctx *q)
{
    /* Requests are not cancellable here; the original request's reply is
     * the answer (fuse.rst, "Interrupting filesystem operations"). */
}

/* Only the exit-code ioctl: its argument is the code (§4.6). */
static void do_ioctl(struct fuse_req_ctx *q)
{
    struct fuse_ioctl_in in;
    struct fuse_ioctl_out o = {0};
    struct fuse_exit_code *ec = q->srv->cfg.exit_code;

    memcpy(&in, q->arg, sizeof(in));
    if (in.cmd != FUSE_EXIT_CODE_IOCTL || !ec) {
        fuse_reply_err(q, -ENOTTY);
        return;
    }
    __atomic_store_n(&ec->code, (int)(int32_t)in.arg, __ATOMIC_RELEASE);
    __atomic_store_n(&ec->set, 1, __ATOMIC_RELEASE);
    fuse_reply_ok(q, &o, sizeof(o));
}

/* Check the opcode and the body; returns the descriptor or NULL after
 * replying with the error. */
static const struct fuse_opdesc *check_op(struct fuse_req_ctx *q,
                                          uint32_t opcode, size_t body)
{
    const struct fuse_opdesc *d = NULL;
    int err = 0;

    if (opcode < ARRAY_SIZE(fuse_opdescs) && fuse_opdescs[opcode].fn)
        d = &fuse_opdescs[opcode];
    if (!d)
        err = -ENOSYS;
    else if (!atomic_load(&q->srv->initialized) && opcode != FUSE_INIT)
        err = -EIO;
    else if (body < d->min_size)
        err = -EINVAL;
    else if ((d->flags & OPF_MUTATE) && q->srv->cfg.read_only)
        err = -EROFS;
    else if (!(d->flags & OPF_RAW) && body > FUSE_MAX_ARG)
        err = -E2BIG;
    if (err) {
        log_ratelimited(LOG_DEBUG, "opcode %u (%s): error %d", opcode,
                        d ? d->name : "?", err);
        if (!d || !(d->flags & OPF_NOREPLY))
            fuse_reply_err(q, err);
        return NULL;
    }
    return d;
}

/* Copy the body (or a raw op's fixed part) and run the handler. */
static void run_op(struct fuse_req_ctx *q, const struct fuse_opdesc *d,
                   size_t body)
{
    uint8_t stack[STACK_ARG];
    size_t copy = (d->flags & OPF_RAW) ? d->min_size : body;
    uint8_t *buf = stack;

    /* +1: a zero byte after the body, so that a string scan can never run
     * past it even if a handler forgets a bound. */
    if (copy + 1 > sizeof(stack)) {
        buf = malloc(copy + 1);
        if (!buf) {
            fuse_reply_err(q, -ENOMEM);
            return;
        }
    }
    if (iov_read_all(&q->in, buf, copy) < 0) {
        fuse_reply_err(q, -EINVAL);
        goto out;
    }
    buf[copy] = 0;
    q->arg = buf;
    q->arglen = copy;
    d->fn(q);
out:
    if (buf != stack)
        free(buf);
}

size_t fuse_server_handle(struct fuse_server *srv, const struct iovec *in,
                          unsigned int in_cnt, const struct iovec *out,
                          unsigned int out_cnt)
{
    struct fuse_req_ctx q = {.srv = srv};
    struct fuse_in_header h;
    const struct fuse_opdesc *d;
    size_t total;

    iov_iter_init(&q.in, in, in_cnt);
    iov_iter_init(&q.out, out, out_cnt);
    total = iov_remaining(&q.in);
    if (iov_read_all(&q.in, &h, sizeof(h)) < 0) {
        log_ratelimited(LOG_WARN, "request shorter than its header");
        return 0;
    }
    q.req = (struct fs_req){.unique = h.unique,
                            .opcode = h.opcode,
                            .uid = h.uid,
                            .gid = h.gid,
                            .pid = h.pid};
    q.nodeid = h.nodeid;
    if (h.len < sizeof(h) || h.len > total) {
        log_ratelimited(LOG_WARN, "bad request length %u (have %zu)", h.len,
                        total);
        if (h.opcode != FUSE_FORGET && h.opcode != FUSE_BATCH_FORGET)
            fuse_reply_err(&q, -EINVAL);
        return q.reply_len;
    }
    iov_truncate(&q.in, h.len - sizeof(h));
    d = check_op(&q, h.opcode, h.len - sizeof(h));
    if (d)
        run_op(&q, d, h.len - sizeof(h));
    return q.reply_len;
}
