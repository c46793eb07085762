/* virtual.c: virtual entries stacked over another backend (see virtual.h). */
#include "fuse/virtual.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iov.h"
#include "util.h"

#define VFS_TIMEOUT (86400ull * 365)

struct ventry {
    uint64_t parent;
    char *name;
    const void *data;
    size_t len;
    uint32_t mode; /* with S_IFREG or S_IFDIR */
    bool one_shot;
    bool hidden; /* a one-shot entry after its lookup */
};

struct vfs {
    struct fs_backend inner;
    pthread_mutex_t lock; /* protects hidden */
    struct ventry *e;
    size_t n;
};

#define IS_V(id) (((id)&VFS_ID_BIT) != 0)

static struct ventry *ventry(struct vfs *v, uint64_t id)
{
    uint64_t i = (id & ~VFS_ID_BIT) - 1;

    return IS_V(id) && i < v->n ? &v->e[i] : NULL;
}

static void vstat(const struct ventry *e, uint64_t id, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = id;
    st->st_mode = e->mode;
    st->st_nlink = S_ISDIR(e->mode) ? 2 : 1;
    st->st_size = (off_t)e->len;
    st->st_blocks = (blkcnt_t)((e->len + 511) / 512);
    st->st_blksize = 4096;
}

/* Null backend: an empty root. */
static int null_lookup(void *fs, const struct fs_req *r, uint64_t parent,
                       const char *name, struct fs_entry *e)
{
    return parent == FUSE_ROOT_ID ? -ENOENT : -ESTALE;
}

static int null_getattr(void *fs, const struct fs_req *r, uint64_t ino,
                        bool has_fh, uint64_t fh, struct stat *st,
                        uint64_t *timeout)
{
    if (ino != FUSE_ROOT_ID)
        return -ESTALE;
    memset(st, 0, sizeof(*st));
    st->st_ino = 1;
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    *timeout = VFS_TIMEOUT;
    return 0;
}

static int null_opendir(void *fs, const struct fs_req *r, uint64_t ino,
                        uint32_t flags, struct fs_open *o)
{
    return ino == FUSE_ROOT_ID ? 0 : -ENOTDIR;
}

/* A virtual or null directory lists only "." and "..". */
static int empty_readdir(void *fs, const struct fs_req *r, uint64_t ino,
                         uint64_t fh, uint64_t off, struct fs_dirbuf *db)
{
    struct fs_entry e = {.st = {.st_mode = S_IFDIR}};

    if (off == 0 && fs_dirbuf_add(db, ".", 1, ino, 4, 1, &e) < 0)
        return 0;
    if (off <= 1)
        fs_dirbuf_add(db, "..", 2, 1, 4, 2, &e);
    return 0;
}

static int ok_release(void *fs, const struct fs_req *r, uint64_t ino,
                      uint64_t fh)
{
    return 0;
}

static int null_statfs(void *fs, const struct fs_req *r, uint64_t ino,
                       struct statvfs *sv)
{
    memset(sv, 0, sizeof(*sv));
    sv->f_bsize = sv->f_frsize = 4096;
    sv->f_namemax = 255;
    return 0;
}

const struct fs_ops vfs_null_ops = {
    .lookup = null_lookup,
    .getattr = null_getattr,
    .opendir = null_opendir,
    .readdir = empty_readdir,
    .releasedir = ok_release,
    .statfs = null_statfs,
};

#define INNER(v, op, ...)                                                      \
    ((v)->inner.ops->op ? (v)->inner.ops->op((v)->inner.fs, __VA_ARGS__)       \
                        : -ENOSYS)

static int v_lookup(void *fs, const struct fs_req *r, uint64_t parent,
                    const char *name, struct fs_entry *e)
{
    struct vfs *v = fs;

    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; i < v->n; i++) {
        struct ventry *x = &v->e[i];

        if (x->parent != parent || x->hidden || strcmp(x->name, name))
            continue;
        x->hidden = x->one_shot;
        pthread_mutex_unlock(&v->lock);
        e->ino = VFS_ID_BIT | (i + 1);
        vstat(x, e->ino, &e->st);
        e->entry_timeout = e->attr_timeout = x->one_shot ? 0 : VFS_TIMEOUT;
        return 0;
    }
    pthread_mutex_unlock(&v->lock);
    if (IS_V(parent))
        return ventry(v, parent) ? -ENOENT : -ESTALE;
    return INNER(v, lookup, r, parent, name, e);
}

static void v_forget(void *fs, uint64_t ino, uint64_t n)
{
    struct vfs *v = fs;

    if (!IS_V(ino) && v->inner.ops->forget)
        v->inner.ops->forget(v->inner.fs, ino, n);
}

static void v_destroy(void *fs)
{
    struct vfs *v = fs;

    if (v->inner.ops->destroy)
        v->inner.ops->destroy(v->inner.fs);
}

static int v_getattr(void *fs, const struct fs_req *r, uint64_t ino,
                     bool has_fh, uint64_t fh, struct stat *st,
                     uint64_t *timeout)
{
    struct vfs *v = fs;
    struct ventry *x = ventry(v, ino);

    if (IS_V(ino)) {
        if (!x)
            return -ESTALE;
        vstat(x, ino, st);
        *timeout = x->one_shot ? 0 : VFS_TIMEOUT;
        return 0;
    }
    return INNER(v, getattr, r, ino, has_fh, fh, st, timeout);
}

static int v_open(void *fs, const struct fs_req *r, uint64_t ino,
                  uint32_t flags, struct fs_open *o)
{
    struct vfs *v = fs;
    struct ventry *x = ventry(v, ino);

    if (!IS_V(ino))
        return INNER(v, open, r, ino, flags, o);
    if (!x)
        return -ESTALE;
    if (S_ISDIR(x->mode))
        return -EISDIR;
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
        return -EACCES;
    o->fh = 0;
    return 0;
}

static ssize_t v_read(void *fs, const struct fs_req *r, uint64_t ino,
                      uint64_t fh, uint64_t off, const struct iovec *iov,
                      unsigned int cnt)
{
    struct vfs *v = fs;
    struct ventry *x = ventry(v, ino);

    if (!IS_V(ino))
        return INNER(v, read, r, ino, fh, off, iov, cnt);
    if (!x || S_ISDIR(x->mode))
        return -EBADF;
    if (off >= x->len)
        return 0;
    return (ssize_t)iov_copy_to(iov, cnt, (const uint8_t *)x->data + off,
                                x->len - off);
}

static int v_release(void *fs, const struct fs_req *r, uint64_t ino,
                     uint64_t fh, uint32_t flags, uint32_t rflags,
                     uint64_t owner)
{
    struct vfs *v = fs;

    return IS_V(ino) ? 0 : INNER(v, release, r, ino, fh, flags, rflags, owner);
}

static int v_opendir(void *fs, const struct fs_req *r, uint64_t ino,
                     uint32_t flags, struct fs_open *o)
{
    struct vfs *v = fs;
    struct ventry *x = ventry(v, ino);

    if (!IS_V(ino))
        return INNER(v, opendir, r, ino, flags, o);
    return !x ? -ESTALE : S_ISDIR(x->mode) ? 0 : -ENOTDIR;
}

static int v_readdir(void *fs, const struct fs_req *r, uint64_t ino,
                     uint64_t fh, uint64_t off, struct fs_dirbuf *db)
{
    struct vfs *v = fs;

    if (IS_V(ino))
        return empty_readdir(fs, r, ino, fh, off, db);
    return INNER(v, readdir, r, ino, fh, off, db);
}

static int v_releasedir(void *fs, const struct fs_req *r, uint64_t ino,
                        uint64_t fh)
{
    struct vfs *v = fs;

    return IS_V(ino) ? 0 : INNER(v, releasedir, r, ino, fh);
}

static int v_statfs(void *fs, const struct fs_req *r, uint64_t ino,
                    struct statvfs *sv)
{
    struct vfs *v = fs;

    return INNER(v, statfs, r, IS_V(ino) ? FUSE_ROOT_ID : ino, sv);
}

/* Requests that change or need a host object: virtual ids get (err). */
#define FWD1(fn, op, err, T, ...)                                              \
    static T fn(void *fs, const struct fs_req *r, uint64_t a, ARGS_##op)       \
    {                                                                          \
        struct vfs *v = fs;                                                    \
        return IS_V(a) ? (err) : INNER(v, op, r, a, __VA_ARGS__);              \
    }
#define ARGS_setattr  const struct fs_setattr *sa, struct stat *st, uint64_t *t
#define ARGS_readlink char *buf, size_t size
#define ARGS_symlink  const char *name, const char *target, struct fs_entry *e
#define ARGS_mknod                                                             \
    const char *name, uint32_t mode, uint32_t rdev, struct fs_entry *e
#define ARGS_mkdir  const char *name, uint32_t mode, struct fs_entry *e
#define ARGS_unlink const char *name
#define ARGS_rmdir  const char *name
#define ARGS_create                                                            \
    const char *name, uint32_t mode, uint32_t flags, struct fs_entry *e,       \
        struct fs_open *o
#define ARGS_tmpfile                                                           \
    uint32_t mode, uint32_t flags, struct fs_entry *e, struct fs_open *o
#define ARGS_write                                                             \
    uint64_t fh, uint64_t off, const struct iovec *iov, unsigned int cnt,      \
        uint32_t wf
#define ARGS_fsync    uint64_t fh, bool ds
#define ARGS_fsyncdir uint64_t fh, bool ds
#define ARGS_flush    uint64_t fh, uint64_t owner
#define ARGS_setxattr                                                          \
    const char *name, const void *value, size_t size, uint32_t flags
#define ARGS_getxattr    const char *name, void *buf, size_t size
#define ARGS_listxattr   void *buf, size_t size
#define ARGS_removexattr const char *name
#define ARGS_access      uint32_t mask
#define ARGS_fallocate   uint64_t fh, uint32_t mode, uint64_t off, uint64_t len
#define ARGS_lseek       uint64_t fh, uint64_t off, uint32_t whence, uint64_t *res
#define ARGS_getlk       uint64_t fh, uint64_t owner, struct fuse_file_lock *lk
#define ARGS_setlk                                                             \
    uint64_t fh, uint64_t owner, const struct fuse_file_lock *lk, bool sleep,  \
        bool is_flock
#define ARGS_syncfs int unused_

FWD1(v_setattr, setattr, -EROFS, int, sa, st, t)
FWD1(v_readlink, readlink, -EINVAL, int, buf, size)
FWD1(v_symlink, symlink, -EROFS, int, name, target, e)
FWD1(v_mknod, mknod, -EROFS, int, name, mode, rdev, e)
FWD1(v_mkdir, mkdir, -EROFS, int, name, mode, e)
FWD1(v_unlink, unlink, -EROFS, int, name)
FWD1(v_rmdir, rmdir, -EROFS, int, name)
FWD1(v_create, create, -EROFS, int, name, mode, flags, e, o)
FWD1(v_tmpfile, tmpfile, -EROFS, int, mode, flags, e, o)
FWD1(v_write, write, -EBADF, ssize_t, fh, off, iov, cnt, wf)
FWD1(v_fsync, fsync, 0, int, fh, ds)
FWD1(v_fsyncdir, fsyncdir, 0, int, fh, ds)
FWD1(v_flush, flush, 0, int, fh, owner)
FWD1(v_setxattr, setxattr, -EROFS, int, name, value, size, flags)
FWD1(v_getxattr, getxattr, -ENODATA, int, name, buf, size)
FWD1(v_listxattr, listxattr, 0, int, buf, size)
FWD1(v_removexattr, removexattr, -EROFS, int, name)
FWD1(v_access, access, (mask & W_OK) ? -EROFS : 0, int, mask)
FWD1(v_fallocate, fallocate, -EROFS, int, fh, mode, off, len)
FWD1(v_lseek, lseek, -EINVAL, int, fh, off, whence, res)
FWD1(v_getlk, getlk, -ENOLCK, int, fh, owner, lk)
FWD1(v_setlk, setlk, -ENOLCK, int, fh, owner, lk, sleep, is_flock)

static int v_syncfs(void *fs, const struct fs_req *r, uint64_t ino)
{
    struct vfs *v = fs;

    return IS_V(ino) ? 0 : INNER(v, syncfs, r, ino);
}

static int v_rename(void *fs, const struct fs_req *r, uint64_t parent,
                    const char *name, uint64_t np, const char *newname,
                    uint32_t flags)
{
    struct vfs *v = fs;

    if (IS_V(parent) || IS_V(np))
        return -EROFS;
    return INNER(v, rename, r, parent, name, np, newname, flags);
}

static int v_link(void *fs, const struct fs_req *r, uint64_t ino, uint64_t np,
                  const char *newname, struct fs_entry *e)
{
    struct vfs *v = fs;

    if (IS_V(ino) || IS_V(np))
        return IS_V(ino) ? -EPERM : -EROFS;
    return INNER(v, link, r, ino, np, newname, e);
}

static ssize_t v_copy_file_range(void *fs, const struct fs_req *r, uint64_t ii,
                                 uint64_t fi, uint64_t oi, uint64_t io,
                                 uint64_t fo, uint64_t oo, uint64_t len,
                                 uint64_t flags)
{
    struct vfs *v = fs;

    if (IS_V(ii) || IS_V(io))
        return -EXDEV; /* the guest kernel falls back to read + write */
    return INNER(v, copy_file_range, r, ii, fi, oi, io, fo, oo, len, flags);
}

static const struct fs_ops vfs_ops = {
    .destroy = v_destroy,
    .lookup = v_lookup,
    .forget = v_forget,
    .getattr = v_getattr,
    .setattr = v_setattr,
    .readlink = v_readlink,
    .symlink = v_symlink,
    .mknod = v_mknod,
    .mkdir = v_mkdir,
    .unlink = v_unlink,
    .rmdir = v_rmdir,
    .rename = v_rename,
    .link = v_link,
    .open = v_open,
    .create = v_create,
    .tmpfile = v_tmpfile,
    .read = v_read,
    .write = v_write,
    .statfs = v_statfs,
    .release = v_release,
    .fsync = v_fsync,
    .flush = v_flush,
    .opendir = v_opendir,
    .readdir = v_readdir,
    .releasedir = v_releasedir,
    .fsyncdir = v_fsyncdir,
    .setxattr = v_setxattr,
    .getxattr = v_getxattr,
    .listxattr = v_listxattr,
    .removexattr = v_removexattr,
    .access = v_access,
    .fallocate = v_fallocate,
    .lseek = v_lseek,
    .copy_file_range = v_copy_file_range,
    .getlk = v_getlk,
    .setlk = v_setlk,
    .syncfs = v_syncfs,
};

int vfs_create(struct fs_backend inner, struct fs_backend *out)
{
    struct vfs *v = calloc(1, sizeof(*v));

    if (!v)
        return -ENOMEM;
    v->inner = inner;
    pthread_mutex_init(&v->lock, NULL);
    *out = (struct fs_backend){.ops = &vfs_ops, .fs = v};
    return 0;
}

void vfs_free(struct fs_backend *b)
{
    struct vfs *v = b->fs;

    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        free(v->e[i].name);
    free(v->e);
    pthread_mutex_destroy(&v->lock);
    free(v);
    b->fs = NULL;
}

/* Resolve the directories of (path) to a parent id; *leaf gets the rest. */
static int walk_parent(struct vfs *v, const char *path, uint64_t *parent,
                       const char **leaf)
{
    const char *p = path + (path[0] == '/'), *slash;

    *parent = FUSE_ROOT_ID;
    while ((slash = strchr(p, '/'))) {
        size_t i, len = (size_t)(slash - p);

        for (i = 0; i < v->n; i++) {
            if (v->e[i].parent == *parent && strlen(v->e[i].name) == len &&
                !memcmp(v->e[i].name, p, len))
                break;
        }
        if (i == v->n)
            return -ENOENT;
        if (!S_ISDIR(v->e[i].mode))
            return -ENOTDIR;
        *parent = VFS_ID_BIT | (i + 1);
        p = slash + 1;
    }
    *leaf = p;
    return *p && strcmp(p, ".") && strcmp(p, "..") ? 0 : -EINVAL;
}

static int add(struct fs_backend *b, const char *path, const void *data,
               size_t len, uint32_t mode, bool one_shot)
{
    struct vfs *v = b->fs;
    struct ventry *ne;
    const char *leaf;
    uint64_t parent;
    int rc = walk_parent(v, path, &parent, &leaf);

    if (rc < 0)
        return rc;
    if (strlen(leaf) > 255)
        return -ENAMETOOLONG;
    for (size_t i = 0; i < v->n; i++) {
        if (v->e[i].parent == parent && !strcmp(v->e[i].name, leaf))
            return -EEXIST;
    }
    ne = realloc(v->e, (v->n + 1) * sizeof(*ne));
    if (!ne)
        return -ENOMEM;
    v->e = ne;
    ne[v->n] = (struct ventry){.parent = parent,
                               .name = strdup(leaf),
                               .data = data,
                               .len = len,
                               .mode = mode,
                               .one_shot = one_shot};
    if (!ne[v->n].name)
        return -ENOMEM;
    v->n++;
    return 0;
}

int vfs_add_file(struct fs_backend *b, const char *path, const void *data,
                 size_t len, uint32_t mode, bool one_shot)
{
    return add(b, path, data, len, S_IFREG | (mode & 07777), one_shot);
}

int vfs_add_dir(struct fs_backend *b, const char *path, uint32_t mode)
{
    return add(b, path, NULL, 0, S_IFDIR | (mode & 07777), false);
}
