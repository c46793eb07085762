/*
 * pt_dir.c: passthrough directories (OPENDIR, READDIR, READDIRPLUS,
 * RELEASEDIR, FSYNCDIR) and SYNCFS.
 */
#define LOG_TAG "fuse-pt"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/inode.h"
#include "fuse/pt.h"
#include "log.h"
#include "util.h"

int pt_opendir(void *fs, const struct fs_req *r, uint64_t id, uint32_t flags,
               struct fs_open *o)
{
    struct pt_fs *p = fs;
    struct pt_node n;
    char name[16];
    int fd, rc;

    rc = pt_node_get(p, id, &n);
    if (rc < 0)
        return rc;
    if (n.ino->type != S_IFDIR) {
        rc = -ENOTDIR;
        goto out;
    }
    pt_fdname(name, n.fd);
    fd = openat(p->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = fd < 0 ? -errno : pt_handle_add(p, n.ino, fd, true, &o->fh);
out:
    pt_node_put(p, &n);
    return rc;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Add one host entry; returns 0, 1 (skip it) or -ENOSPC (stop). */
static int add_entry(struct pt_fs *p, struct pt_handle *h,
                     const struct linux_dirent64 *d, struct fs_dirbuf *db)
{
    size_t len = strlen(d->d_name);
    struct fs_entry e = {0};
    bool dots = !strcmp(d->d_name, ".") || !strcmp(d->d_name, "..");

    if (!fs_dirbuf_fits(db, len))
        return -ENOSPC;
    if (fs_dirbuf_plus(db) && !dots) {
        if (pt_lookup_at(p, h->ino, h->fd, d->d_name, &e) < 0)
            return 1; /* gone since getdents */
    } else {
        e.st.st_ino = d->d_ino;
        e.st.st_mode = DTTOIF(d->d_type);
    }
    /* Plus entries: the type as presented (inert device nodes). */
    if (fs_dirbuf_add(db, d->d_name, len, d->d_ino,
                      e.ino ? IFTODT(e.st.st_mode) : d->d_type,
                      (uint64_t)d->d_off, &e) < 0) {
        if (e.ino)
            itab_forget(&p->itab, e.ino, 1);
        return -ENOSPC;
    }
    return 0;
}

static int fill_dir(struct pt_fs *p, struct pt_handle *h, struct fs_dirbuf *db)
{
    char buf[16384];

    for (;;) {
        long n = getdents64(h->fd, buf, sizeof(buf));

        if (n <= 0)
            return n < 0 ? -errno : 0;
        for (long pos = 0; pos < n;) {
            const struct linux_dirent64 *d = (const void *)(buf + pos);

            if (add_entry(p, h, d, db) == -ENOSPC) {
                /* Resume at this entry next time. */
                return 0;
            }
            pos += d->d_reclen;
        }
    }
}

int pt_readdir(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
               uint64_t off, struct fs_dirbuf *db)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = pt_handle_get(p, fh, true);
    int rc;

    if (!h || h->ino->id != id)
        return -EBADF;
    if (off > INT64_MAX)
        return -EINVAL;
    pthread_mutex_lock(&h->lock);
    if (lseek(h->fd, (off_t)off, SEEK_SET) < 0)
        rc = -errno;
    else
        rc = fill_dir(p, h, db);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

int pt_releasedir(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh)
{
    return pt_handle_del(fs, fh, true);
}

int pt_fsyncdir(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                bool datasync)
{
    struct pt_handle *h = pt_handle_get(fs, fh, true);

    if (!h)
        return -EBADF;
    return (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0 ? -errno : 0;
}

int pt_syncfs(void *fs, const struct fs_req *r, uint64_t id)
{
    struct pt_fs *p = fs;
    struct pt_node n;
    char name[16];
    int fd, rc = pt_node_get(p, id, &n);

    if (rc < 0)
        return rc;
    pt_fdname(name, n.fd);
    fd = openat(p->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        fd = openat(p->proc_fd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    rc = fd < 0 || syncfs(fd) < 0 ? -errno : 0;
    if (fd >= 0)
        close(fd);
    pt_node_put(p, &n);
    return rc;
}
