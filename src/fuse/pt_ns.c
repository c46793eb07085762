/*
 * pt_ns.c: passthrough requests that create, remove and rename names.
 * Every host call names one checked component relative to a verified
 * directory fd and never follows a symlink.
 */
#define LOG_TAG "fuse-pt"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/inode.h"
#include "fuse/pt.h"
#include "log.h"

/* After (name) was created in (dir): identity, exact mode, lookup. */
static int finish_new(struct pt_fs *p, const struct fs_req *r,
                      const struct pt_node *dir, const char *name, mode_t mode,
                      struct fs_entry *e)
{
    struct stat dst;
    int fd, rc;

    if (fstatat(dir->fd, "", &dst, AT_EMPTY_PATH) < 0)
        return -errno;
    fd = inode_openat(dir->fd, name, O_PATH | O_NOFOLLOW, 0);
    if (fd < 0)
        return fd;
    rc = pt_fix_new(p, r, fd, &dst, mode);
    close(fd);
    if (rc < 0) {
        log_ratelimited(LOG_WARN, "cannot set owner/mode of new %s: %d", name,
                        rc);
        return rc;
    }
    return pt_lookup_at(p, dir->ino, dir->fd, name, e);
}

/* A real device node would give whoever can reach the share on the host
 * access to a host device.  Only the inert 0:0 character device (an
 * overlayfs whiteout) is made for real; other device nodes become inert
 * files that the guest sees as the node (pt_make_dev). */
static bool is_inert_dev(mode_t mode, dev_t rdev)
{
    return S_ISBLK(mode) || (S_ISCHR(mode) && rdev != 0);
}

int pt_mknod(void *fs, const struct fs_req *r, uint64_t parent,
             const char *name, uint32_t mode, uint32_t rdev, struct fs_entry *e)
{
    struct pt_fs *p = fs;
    struct pt_node d;
    int rc;

    if (p->read_only)
        return -EROFS;
    switch (mode & S_IFMT) {
    case 0: /* a regular file, as for mknod(2) */
    case S_IFREG:
    case S_IFIFO:
    case S_IFSOCK:
    case S_IFCHR:
    case S_IFBLK:
        break;
    default:
        return -EINVAL;
    }
    rc = pt_node_get(p, parent, &d);
    if (rc < 0)
        return rc;
    if (is_inert_dev(mode, rdev)) {
        rc = pt_make_dev(p, r, d.fd, name, mode, rdev);
        if (rc == 0)
            rc = pt_lookup_at(p, d.ino, d.fd, name, e);
    } else if (mknodat(d.fd, name, (mode & S_IFMT) | pt_create_mode(p, r, mode),
                       rdev) < 0) {
        rc = -errno;
    } else {
        rc = finish_new(p, r, &d, name, mode, e);
    }
    pt_node_put(p, &d);
    return rc;
}

int pt_mkdir(void *fs, const struct fs_req *r, uint64_t parent,
             const char *name, uint32_t mode, struct fs_entry *e)
{
    struct pt_fs *p = fs;
    struct pt_node d;
    int rc;

    if (p->read_only)
        return -EROFS;
    rc = pt_node_get(p, parent, &d);
    if (rc < 0)
        return rc;
    if (mkdirat(d.fd, name, pt_create_mode(p, r, mode)) < 0) {
        rc = -errno;
    } else {
        struct stat dst;

        /* A directory in a set-group-id directory inherits the bit. */
        if (fstatat(d.fd, "", &dst, AT_EMPTY_PATH) == 0 &&
            (dst.st_mode & S_ISGID))
            mode |= S_ISGID;
        rc = finish_new(p, r, &d, name, mode, e);
    }
    pt_node_put(p, &d);
    return rc;
}

int pt_symlink(void *fs, const struct fs_req *r, uint64_t parent,
               const char *name, const char *target, struct fs_entry *e)
{
    struct pt_fs *p = fs;
    struct pt_node d;
    int rc;

    if (p->read_only)
        return -EROFS;
    rc = pt_node_get(p, parent, &d);
    if (rc < 0)
        return rc;
    /* The target is only text for the guest to resolve. */
    if (symlinkat(target, d.fd, name) < 0)
        rc = -errno;
    else
        rc = finish_new(p, r, &d, name, 0777, e);
    pt_node_put(p, &d);
    return rc;
}

int pt_link(void *fs, const struct fs_req *r, uint64_t id, uint64_t newparent,
            const char *newname, struct fs_entry *e)
{
    struct pt_fs *p = fs;
    struct pt_node n, d;
    char fdn[16];
    int rc;

    if (p->read_only)
        return -EROFS;
    rc = pt_node_get(p, id, &n);
    if (rc < 0)
        return rc;
    rc = pt_node_get(p, newparent, &d);
    if (rc < 0)
        goto out_n;
    /* The magic link lands on this very inode (a symlink stays a symlink),
     * which is inside the share: no link to anything outside can result. */
    pt_fdname(fdn, n.fd);
    if (n.ino->type == S_IFDIR)
        rc = -EPERM;
    else if (linkat(p->proc_fd, fdn, d.fd, newname, AT_SYMLINK_FOLLOW) < 0)
        rc = -errno;
    else
        rc = pt_lookup_at(p, d.ino, d.fd, newname, e);
    pt_node_put(p, &d);
out_n:
    pt_node_put(p, &n);
    return rc;
}

/* The inode (if known) that (name) in (dirfd) names, with a reference;
 * *last says whether (name) is its last name (a directory, or a link count
 * of 1), so that removing the name removes the file. */
static struct inode *inode_of(struct pt_fs *p, int dirfd, const char *name,
                              bool *last)
{
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return NULL;
    *last = S_ISDIR(st.st_mode) || st.st_nlink <= 1;
    return itab_find(&p->itab, st.st_dev, st.st_ino);
}

static int remove_name(struct pt_fs *p, uint64_t parent, const char *name,
                       int flags)
{
    struct pt_node d;
    struct inode *victim;
    bool last = false;
    int rc;

    if (p->read_only)
        return -EROFS;
    rc = pt_node_get(p, parent, &d);
    if (rc < 0)
        return rc;
    victim = inode_of(p, d.fd, name, &last);
    if (victim)
        itab_pin(&p->itab, victim);
    if (unlinkat(d.fd, name, flags) < 0)
        rc = -errno;
    else if (victim && last)
        itab_retire(&p->itab, victim);
    itab_put(&p->itab, victim);
    pt_node_put(p, &d);
    return rc;
}

int pt_unlink(void *fs, const struct fs_req *r, uint64_t parent,
              const char *name)
{
    return remove_name(fs, parent, name, 0);
}

int pt_rmdir(void *fs, const struct fs_req *r, uint64_t parent,
             const char *name)
{
    return remove_name(fs, parent, name, AT_REMOVEDIR);
}

static int do_rename(struct pt_fs *p, const struct pt_node *d, const char *name,
                     const struct pt_node *nd, const char *newname,
                     uint32_t flags)
{
    bool src_last, dst_last = false;
    struct inode *src = inode_of(p, d->fd, name, &src_last);
    struct inode *dst = inode_of(p, nd->fd, newname, &dst_last);
    int rc = 0;

    if (dst && !(flags & RENAME_EXCHANGE))
        itab_pin(&p->itab, dst);
    if (renameat2(d->fd, name, nd->fd, newname, flags) < 0) {
        rc = -errno;
    } else {
        if (src)
            itab_rename(&p->itab, src, nd->ino, newname);
        if (dst && (flags & RENAME_EXCHANGE))
            itab_rename(&p->itab, dst, d->ino, name);
        else if (dst && dst != src && dst_last)
            itab_retire(&p->itab, dst); /* replaced: gone */
    }
    itab_put(&p->itab, src);
    itab_put(&p->itab, dst);
    return rc;
}

int pt_rename(void *fs, const struct fs_req *r, uint64_t parent,
              const char *name, uint64_t newparent, const char *newname,
              uint32_t flags)
{
    struct pt_fs *p = fs;
    struct pt_node d, nd;
    int rc;

    if (p->read_only)
        return -EROFS;
    rc = pt_node_get(p, parent, &d);
    if (rc < 0)
        return rc;
    rc = pt_node_get(p, newparent, &nd);
    if (rc == 0) {
        rc = do_rename(p, &d, name, &nd, newname, flags);
        pt_node_put(p, &nd);
    }
    pt_node_put(p, &d);
    return rc;
}
