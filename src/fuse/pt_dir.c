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
    int fd, rc;

    rc = pt_handle_reserve(p);
    if (rc < 0)
        return rc;
    rc = pt_node_get(p, id, &n);
    if (rc < 0) {
        pt_handle_unreserve(p);
        return rc;
    }
    fd = pt_open_fd(p, n.fd, O_RDONLY | O_DIRECTORY, S_IFDIR);
    if (fd < 0)
        pt_handle_unreserve(p);
    rc = fd < 0 ? fd : pt_handle_add(p, n.ino, fd, true, &o->fh);
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
    struct pt_handle *h;
    int rc;

    if (off > INT64_MAX)
        return -EINVAL;
    h = pt_handle_get(p, fh, id, true);
    if (!h)
        return -EBADF;
    pthread_mutex_lock(&h->lock);
    if (lseek(h->fd, (off_t)off, SEEK_SET) < 0)
        rc = -errno;
    else
        rc = fill_dir(p, h, db);
    pthread_mutex_unlock(&h->lock);
    pt_handle_put(p, h);
    return rc;
}

int pt_releasedir(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = pt_handle_take(p, fh, true);

    if (!h)
        return -EBADF;
    pt_handle_put(p, h);
    return 0;
}

int pt_fsyncdir(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                bool datasync)
{
    return pt_handle_sync(fs, fh, id, true, datasync);
}

/* SYNCFS needs an fd that is really open (syncfs(2) of an O_PATH fd is
 * EBADF): a directory is opened itself, anything else through its parent
 * directory, so nothing but a directory is ever opened here (a device node
 * or FIFO is not even touched).  The parent is on the same file system
 * except for a file bind-mounted into the share, where this syncs the
 * parent's. */
int pt_syncfs(void *fs, const struct fs_req *r, uint64_t id)
{
    struct pt_fs *p = fs;
    struct pt_node n;
    struct inode *parent = NULL;
    int fd, rc = pt_node_get(p, id, &n);

    if (rc < 0)
        return rc;
    if (n.ino->type != S_IFDIR) {
        /* The reference is taken under the table's lock: a rename may
         * give the inode another parent at any time. */
        pthread_mutex_lock(&p->itab.lock);
        parent = n.ino->parent;
        if (parent)
            parent->refs++;
        pthread_mutex_unlock(&p->itab.lock);
        pt_node_put(p, &n);
        if (!parent)
            return -ESTALE;
        n.ino = parent;
        n.fd = itab_fd(&p->itab, parent);
        if (n.fd < 0) {
            rc = n.fd;
            itab_put(&p->itab, parent);
            return rc;
        }
    }
    fd = pt_open_fd(p, n.fd, O_RDONLY | O_DIRECTORY, S_IFDIR);
    rc = fd < 0 ? fd : syncfs(fd) < 0 ? -errno : 0;
    if (fd >= 0)
        close(fd);
    pt_node_put(p, &n);
    return rc;
}
