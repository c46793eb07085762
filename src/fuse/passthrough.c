/*
 * passthrough.c: the host-directory backend: setup, handles, lookup and
 * attributes.  Confinement rules (docs/FUSE-THREAT-MODEL.md): a host path is
 * only ever one guest-supplied name relative to an fd we verified, resolved
 * without following symlinks; everything else goes through an inode's O_PATH
 * fd, directly (AT_EMPTY_PATH) or as /proc/self/fd/N, a magic link that
 * lands on that very inode (for a symlink: the symlink itself).
 */
#define LOG_TAG "fuse-pt"
#include "fuse/passthrough.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fuse/pt.h"
#include "log.h"
#include "util.h"

int pt_node_get(struct pt_fs *p, uint64_t id, struct pt_node *n)
{
    n->ino = itab_get(&p->itab, id);
    if (!n->ino)
        return -ESTALE;
    n->fd = itab_fd(&p->itab, n->ino);
    if (n->fd < 0) {
        int rc = n->fd;

        itab_put(&p->itab, n->ino);
        return rc;
    }
    return 0;
}

void pt_node_put(struct pt_fs *p, struct pt_node *n)
{
    itab_fd_put(&p->itab, n->ino);
    itab_put(&p->itab, n->ino);
}

void pt_fdname(char buf[16], int fd)
{
    snprintf(buf, 16, "%d", fd);
}

static int stat_fd(int fd, struct stat *st)
{
    return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno
                                                                        : 0;
}

int pt_lookup_at(struct pt_fs *p, struct inode *parent, int dirfd,
                 const char *name, struct fs_entry *e)
{
    if (fstatat(dirfd, name, &e->st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    pt_present(dirfd, name, &e->st);
    e->ino = itab_lookup(&p->itab, parent, name, &e->st);
    if (!e->ino)
        return -ENOMEM;
    e->entry_timeout = e->attr_timeout = p->timeout;
    return 0;
}

mode_t pt_create_mode(const struct pt_fs *p, const struct fs_req *r,
                      mode_t mode)
{
    if (p->as_root && r->uid != 0)
        return mode & S_IRWXU;
    return mode & 01777; /* set-id bits: pt_fix_new (pt_set_mode) */
}

int pt_fix_new(struct pt_fs *p, const struct fs_req *r, int fd,
               const struct stat *dir_st, mode_t mode)
{
    struct stat st;
    gid_t gid = (dir_st->st_mode & S_ISGID) ? (gid_t)-1 : r->gid;
    int rc = stat_fd(fd, &st);

    if (rc < 0)
        return rc;
    if (p->as_root &&
        (st.st_uid != r->uid || (gid != (gid_t)-1 && st.st_gid != gid))) {
        if (fchownat(fd, "", r->uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
            return -errno;
    }
    /* chown cleared set-id bits and umask may have taken some: set the
     * exact bits (symlinks have none; set-id bits of files are stored). */
    if (!S_ISLNK(st.st_mode) && (st.st_mode & 07777) != (mode & 07777))
        return pt_set_mode(p, fd, st.st_mode & S_IFMT, mode);
    return 0;
}

int pt_open_fd(struct pt_fs *p, int path_fd, int flags, mode_t type)
{
    struct stat st, ost;
    char name[16];
    int fd, rc;

    rc = stat_fd(path_fd, &st);
    if (rc < 0)
        return rc;
    if ((st.st_mode & S_IFMT) != type) {
        if (type == S_IFDIR)
            return -ENOTDIR;
        return S_ISDIR(st.st_mode)   ? -EISDIR
               : S_ISLNK(st.st_mode) ? -ELOOP
                                     : -EACCES;
    }
    /* The O_PATH fd pins the inode, so its magic link opens this very
     * file: its type cannot have changed since the fstat. */
    pt_fdname(name, path_fd);
    fd = openat(p->proc_fd, name, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &ost) < 0 || (ost.st_mode & S_IFMT) != type ||
        ost.st_dev != st.st_dev || ost.st_ino != st.st_ino) {
        close(fd);
        return -ESTALE;
    }
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int pt_handle_reserve(struct pt_fs *p)
{
    static uint64_t rl;
    int rc = 0;

    pthread_mutex_lock(&p->hlock);
    if (p->nhandles >= p->max_handles)
        rc = -EMFILE;
    else
        p->nhandles++;
    pthread_mutex_unlock(&p->hlock);
    if (rc < 0)
        log_write_ratelimited(&rl, LOG_WARN, LOG_TAG,
                              "%u open files: handle budget reached (EMFILE)",
                              p->max_handles);
    return rc;
}

void pt_handle_unreserve(struct pt_fs *p)
{
    pthread_mutex_lock(&p->hlock);
    p->nhandles--;
    pthread_mutex_unlock(&p->hlock);
}

int pt_handle_add(struct pt_fs *p, struct inode *ino, int fd, bool dir,
                  uint64_t *fh)
{
    struct pt_handle *h = calloc(1, sizeof(*h));

    if (!h) {
        close(fd);
        pt_handle_unreserve(p);
        return -ENOMEM;
    }
    h->fd = fd;
    h->ino = ino;
    h->dir = dir;
    h->refs = 1;
    h->listed = true;
    pthread_mutex_init(&h->lock, NULL);
    itab_ref(&p->itab, ino);
    pthread_mutex_lock(&p->itab.lock);
    ino->opens++;
    pthread_mutex_unlock(&p->itab.lock);
    pthread_mutex_lock(&p->hlock);
    *fh = ++p->next_fh;
    hmap_insert(&p->handles, &h->node, *fh);
    pthread_mutex_unlock(&p->hlock);
    return 0;
}

/* The listed handle (fh) of kind (dir), or NULL (hlock held). */
static struct pt_handle *handle_find(struct pt_fs *p, uint64_t fh, bool dir)
{
    struct hnode *n = hmap_first(&p->handles, fh);
    struct pt_handle *h = n ? container_of(n, struct pt_handle, node) : NULL;

    return h && h->dir == dir ? h : NULL;
}

struct pt_handle *pt_handle_get(struct pt_fs *p, uint64_t fh, uint64_t id,
                                bool dir)
{
    struct pt_handle *h;

    pthread_mutex_lock(&p->hlock);
    h = handle_find(p, fh, dir);
    /* h->ino is fixed for the handle's life and holds a reference. */
    if (h && h->ino->id == id)
        h->refs++;
    else
        h = NULL;
    pthread_mutex_unlock(&p->hlock);
    return h;
}

void pt_handle_put(struct pt_fs *p, struct pt_handle *h)
{
    bool last, listed;

    pthread_mutex_lock(&p->hlock);
    last = --h->refs == 0;
    listed = h->listed;
    pthread_mutex_unlock(&p->hlock);
    if (!last)
        return;
    close(h->fd);
    pthread_mutex_lock(&p->itab.lock);
    h->ino->opens--;
    pthread_mutex_unlock(&p->itab.lock);
    itab_put(&p->itab, h->ino);
    pthread_mutex_destroy(&h->lock);
    free(h);
    pthread_mutex_lock(&p->hlock);
    p->nhandles--;
    if (!listed && --p->unlisted == 0)
        pthread_cond_broadcast(&p->hfreed);
    pthread_mutex_unlock(&p->hlock);
}

int pt_handle_sync(struct pt_fs *p, uint64_t fh, uint64_t id, bool dir,
                   bool datasync)
{
    struct pt_handle *h = pt_handle_get(p, fh, id, dir);
    int rc;

    if (!h)
        return -EBADF;
    rc = (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0 ? -errno : 0;
    pt_handle_put(p, h);
    return rc;
}

/* Take (h) out of the table (hlock held). */
static void handle_unlist(struct pt_fs *p, struct pt_handle *h)
{
    hmap_remove(&p->handles, &h->node);
    h->listed = false;
    p->unlisted++;
}

struct pt_handle *pt_handle_take(struct pt_fs *p, uint64_t fh, bool dir)
{
    struct pt_handle *h;

    pthread_mutex_lock(&p->hlock);
    h = handle_find(p, fh, dir);
    if (h)
        handle_unlist(p, h);
    pthread_mutex_unlock(&p->hlock);
    return h;
}

/* FUSE_DESTROY: every handle goes; requests still using one finish first
 * (they only make bounded syscalls on it: a blocking lock waits on an fd of
 * its own), so that when DESTROY is answered no fd of the session is open. */
static void pt_destroy(void *fs)
{
    struct pt_fs *p = fs;
    struct pt_handle *dead = NULL;

    pthread_mutex_lock(&p->hlock);
    for (size_t i = 0; i < p->handles.nbuckets; i++) {
        while (p->handles.buckets[i]) {
            struct pt_handle *h =
                container_of(p->handles.buckets[i], struct pt_handle, node);

            handle_unlist(p, h);
            /* The table's reference is dropped below, without hlock;
             * node.next links the unlisted handles meanwhile. */
            h->node.next = dead ? &dead->node : NULL;
            dead = h;
        }
    }
    pthread_mutex_unlock(&p->hlock);
    while (dead) {
        struct pt_handle *h = dead;

        dead = h->node.next ? container_of(h->node.next, struct pt_handle, node)
                            : NULL;
        pt_handle_put(p, h);
    }
    pthread_mutex_lock(&p->hlock);
    while (p->unlisted > 0)
        pthread_cond_wait(&p->hfreed, &p->hlock);
    pthread_mutex_unlock(&p->hlock);
    pt_lock_destroy(p);
    itab_forget_all(&p->itab);
}

static int pt_lookup(void *fs, const struct fs_req *r, uint64_t parent,
                     const char *name, struct fs_entry *e)
{
    struct pt_fs *p = fs;
    struct pt_node n;
    int rc = pt_node_get(p, parent, &n);

    if (rc < 0)
        return rc;
    if (!strcmp(name, ".") || !strcmp(name, "..")) {
        /* Only the root's own "." and ".." are answered (with the root):
         * ".." never leaves the share.  Elsewhere the kernel resolves them
         * itself (no EXPORT_SUPPORT). */
        rc = n.ino == p->itab.root ? pt_lookup_at(p, n.ino, n.fd, ".", e)
                                   : -EINVAL;
        if (rc == 0 && e->ino != FUSE_ROOT_ID)
            rc = -EIO;
    } else {
        rc = pt_lookup_at(p, n.ino, n.fd, name, e);
    }
    pt_node_put(p, &n);
    return rc;
}

static void pt_forget(void *fs, uint64_t id, uint64_t nlookup)
{
    struct pt_fs *p = fs;

    itab_forget(&p->itab, id, nlookup);
}

static int pt_getattr(void *fs, const struct fs_req *r, uint64_t id,
                      bool has_fh, uint64_t fh, struct stat *st,
                      uint64_t *timeout)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = has_fh ? pt_handle_get(p, fh, id, false) : NULL;
    struct pt_node n;
    int rc;

    *timeout = p->timeout;
    if (h) {
        rc = fstat(h->fd, st) < 0 ? -errno : 0;
        if (rc == 0)
            pt_present(h->fd, NULL, st);
        pt_handle_put(p, h);
        return rc;
    }
    rc = pt_node_get(p, id, &n);
    if (rc < 0)
        return rc;
    rc = stat_fd(n.fd, st);
    if (rc == 0)
        pt_present(n.fd, NULL, st);
    pt_node_put(p, &n);
    return rc;
}

/* Apply the size change of SETATTR: through the handle, or by opening the
 * regular file for writing (pt_open_fd: never anything else). */
static int set_size(struct pt_fs *p, const struct pt_node *n,
                    const struct pt_handle *h, uint64_t size)
{
    int fd, rc = 0;

    if (size > INT64_MAX)
        return -EFBIG;
    if (h)
        return ftruncate(h->fd, (off_t)size) < 0 ? -errno : 0;
    if (n->ino->type != S_IFREG)
        return n->ino->type == S_IFDIR ? -EISDIR : -EINVAL;
    fd = pt_open_fd(p, n->fd, O_WRONLY, S_IFREG);
    if (fd < 0)
        return fd;
    if (ftruncate(fd, (off_t)size) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

static int set_times(const struct pt_node *n, const struct fs_setattr *sa)
{
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};

    if (sa->valid & (FATTR_ATIME | FATTR_ATIME_NOW))
        ts[0] = sa->atime;
    if (sa->valid & (FATTR_MTIME | FATTR_MTIME_NOW))
        ts[1] = sa->mtime;
    if (utimensat(n->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    return 0;
}

static int apply_setattr(struct pt_fs *p, const struct pt_node *n,
                         const struct pt_handle *h, const struct fs_setattr *sa)
{
    uint32_t v = sa->valid;
    int rc;

    if (v & FATTR_MODE) {
        if (n->ino->type == S_IFLNK)
            return -EOPNOTSUPP;
        rc = pt_set_mode(p, n->fd, n->ino->type, sa->mode);
        if (rc < 0)
            return rc;
    }
    if (v & (FATTR_UID | FATTR_GID)) {
        uid_t uid = (v & FATTR_UID) ? sa->uid : (uid_t)-1;
        gid_t gid = (v & FATTR_GID) ? sa->gid : (gid_t)-1;

        rc = pt_set_owner(p, n->fd, n->ino->type, uid, gid);
        if (rc < 0)
            return rc;
    }
    if (v & FATTR_SIZE) {
        rc = set_size(p, n, h, sa->size);
        if (rc < 0)
            return rc;
    }
    /* HANDLE_KILLPRIV_V2: a truncate by a caller without CAP_FSETID. */
    if ((v & FATTR_KILL_SUIDGID) && !(v & FATTR_MODE)) {
        rc = pt_kill_priv(p, n->fd, n->ino->type);
        if (rc < 0)
            return rc;
    }
    if (v & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW))
        return set_times(n, sa);
    return 0;
}

static int pt_setattr(void *fs, const struct fs_req *r, uint64_t id,
                      const struct fs_setattr *sa, struct stat *st,
                      uint64_t *timeout)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = NULL;
    struct pt_node n;
    int rc;

    if (p->read_only)
        return -EROFS;
    rc = pt_node_get(p, id, &n);
    if (rc < 0)
        return rc;
    if (sa->valid & FATTR_FH)
        h = pt_handle_get(p, sa->fh, id, false);
    rc = apply_setattr(p, &n, h, sa);
    if (h)
        pt_handle_put(p, h);
    if (rc == 0)
        rc = stat_fd(n.fd, st);
    if (rc == 0)
        pt_present(n.fd, NULL, st);
    *timeout = p->timeout;
    pt_node_put(p, &n);
    return rc;
}

static int pt_readlink(void *fs, const struct fs_req *r, uint64_t id, char *buf,
                       size_t size)
{
    struct pt_fs *p = fs;
    struct pt_node n;
    ssize_t len;
    int rc = pt_node_get(p, id, &n);

    if (rc < 0)
        return rc;
    len = readlinkat(n.fd, "", buf, size);
    rc = len < 0 ? -errno : (int)len;
    pt_node_put(p, &n);
    return rc;
}

static int pt_statfs(void *fs, const struct fs_req *r, uint64_t id,
                     struct statvfs *sv)
{
    struct pt_fs *p = fs;
    struct pt_node n;
    int rc = pt_node_get(p, id, &n);

    if (rc < 0)
        return rc;
    rc = fstatvfs(n.fd, sv) < 0 ? -errno : 0;
    pt_node_put(p, &n);
    return rc;
}

/* ACCESS as the caller: mode bits against the caller's uid/gid (the guest
 * kernel already checked with default permissions; this answers faccessat
 * for clients that ask). */
static int pt_access(void *fs, const struct fs_req *r, uint64_t id,
                     uint32_t mask)
{
    struct stat st;
    uint64_t t;
    mode_t bits;
    int rc = pt_getattr(fs, r, id, false, 0, &st, &t);

    if (rc < 0 || (mask & 7) == 0)
        return rc;
    if ((mask & W_OK) && ((struct pt_fs *)fs)->read_only)
        return -EROFS;
    if (r->uid == 0)
        return ((mask & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
                   ? -EACCES
                   : 0;
    if (st.st_uid == r->uid)
        bits = (st.st_mode >> 6) & 7;
    else if (st.st_gid == r->gid)
        bits = (st.st_mode >> 3) & 7;
    else
        bits = st.st_mode & 7;
    return (bits & (mask & 7)) == (mask & 7) ? 0 : -EACCES;
}

static const struct fs_ops pt_ops = {
    .destroy = pt_destroy,
    .lookup = pt_lookup,
    .forget = pt_forget,
    .getattr = pt_getattr,
    .setattr = pt_setattr,
    .readlink = pt_readlink,
    .symlink = pt_symlink,
    .mknod = pt_mknod,
    .mkdir = pt_mkdir,
    .unlink = pt_unlink,
    .rmdir = pt_rmdir,
    .rename = pt_rename,
    .link = pt_link,
    .open = pt_open,
    .create = pt_create,
    .tmpfile = pt_tmpfile,
    .read = pt_read,
    .write = pt_write,
    .statfs = pt_statfs,
    .release = pt_release,
    .fsync = pt_fsync,
    .flush = pt_flush,
    .opendir = pt_opendir,
    .readdir = pt_readdir,
    .releasedir = pt_releasedir,
    .fsyncdir = pt_fsyncdir,
    .setxattr = pt_setxattr,
    .getxattr = pt_getxattr,
    .listxattr = pt_listxattr,
    .removexattr = pt_removexattr,
    .access = pt_access,
    .fallocate = pt_fallocate,
    .lseek = pt_lseek,
    .copy_file_range = pt_copy_file_range,
    .getlk = pt_getlk,
    .setlk = pt_setlk,
    .syncfs = pt_syncfs,
};

static unsigned int default_budget(void)
{
    struct rlimit rl;
    rlim_t n = 1024;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        n = rl.rlim_cur;
    return (unsigned int)MIN(MAX(n / 4, 16), 65536);
}

int passthrough_create(const struct passthrough_config *cfg,
                       struct fs_backend *out)
{
    struct pt_fs *p = calloc(1, sizeof(*p));
    int rc, root_fd;

    if (!p)
        return -ENOMEM;
    p->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    root_fd = open(cfg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (p->proc_fd < 0 || root_fd < 0) {
        rc = -errno;
        log_error("cannot open %s: %s", root_fd < 0 ? cfg->root : "/proc",
                  strerror(-rc));
        goto err;
    }
    rc = itab_init(&p->itab, root_fd,
                   cfg->fd_budget ? cfg->fd_budget : default_budget());
    if (rc < 0)
        goto err;
    p->read_only = cfg->read_only;
    p->as_root = geteuid() == 0;
    p->timeout = cfg->timeout ? cfg->timeout : 1;
    pthread_mutex_init(&p->hlock, NULL);
    pthread_cond_init(&p->hfreed, NULL);
    p->max_handles = cfg->handle_fds ? cfg->handle_fds : p->itab.fd_budget;
    pt_lock_init(p, cfg->lock_fds ? cfg->lock_fds
                                  : MAX(p->itab.fd_budget / 2, 16u));
    *out = (struct fs_backend){.ops = &pt_ops, .fs = p};
    return 0;
err:
    if (root_fd >= 0)
        close(root_fd);
    if (p->proc_fd >= 0)
        close(p->proc_fd);
    free(p);
    return rc;
}

void passthrough_free(struct fs_backend *b)
{
    struct pt_fs *p = b->fs;

    if (!p)
        return;
    pt_destroy(p);
    hmap_free(&p->handles);
    pt_lock_free(p);
    itab_destroy(&p->itab);
    close(p->proc_fd);
    pthread_cond_destroy(&p->hfreed);
    pthread_mutex_destroy(&p->hlock);
    free(p);
    b->fs = NULL;
}

void passthrough_stats(const struct fs_backend *b, unsigned int *open_fds,
                       unsigned int *peak, uint64_t *reopens)
{
    struct pt_fs *p = b->fs;

    itab_stats(&p->itab, open_fds, peak, reopens);
}
