/*
 * pt_meta.c: what the guest may set that the host must not honour is kept
 * in a private xattr, PT_META_XATTR, and presented to the guest as if the
 * host file had it (docs/FUSE-THREAT-MODEL.md, "What the guest plants"):
 *
 *  - device nodes the guest makes are empty regular files on the host
 *    (mode 0600, the VMM's user); the xattr holds their type, rdev, mode,
 *    uid and gid;
 *  - set-user-id and set-group-id bits of regular files are never set on
 *    the host file; the xattr holds them.
 *
 * The xattr lives in the user.* namespace under PT_XATTR_PRIVATE, which the
 * guest's own xattr names can never reach (pt_xattr.c escapes them).
 *
 * A regular host file that has the xattr (or a private file capability) is
 * marked with the sticky bit, which means nothing on a regular file to
 * Linux: so presenting a file costs no xattr read unless it is marked
 * (an extra getxattr per GETATTR made it 8x slower).  The guest's own
 * sticky bit of a marked file is in the xattr too.
 */
#define LOG_TAG "fuse-pt"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fuse/pt.h"
#include "log.h"

#define META_MAGIC 0x6e726b63u /* "ckrn" */
#define MARK       S_ISVTX /* on a regular host file: it has PT_META_XATTR */

struct meta {
    uint32_t magic;
    uint32_t mode; /* S_IFCHR/S_IFBLK + 07777, or S_IFREG + set-id bits */
    uint64_t rdev;
    uint32_t uid, gid; /* device nodes only */
};

/* "/proc/self/fd/N" (the inode of fd itself, follow it) or
 * "/proc/self/fd/N/name" (name in directory fd, do not follow name). */
static void meta_path(char buf[300], int fd, const char *name)
{
    if (name)
        snprintf(buf, 300, "/proc/self/fd/%d/%s", fd, name);
    else
        snprintf(buf, 300, "/proc/self/fd/%d", fd);
}

static int meta_get(int fd, const char *name, struct meta *m)
{
    char path[300];
    ssize_t n;

    meta_path(path, fd, name);
    n = name ? lgetxattr(path, PT_META_XATTR, m, sizeof(*m))
             : getxattr(path, PT_META_XATTR, m, sizeof(*m));
    if (n < 0)
        return errno == ERANGE ? -EINVAL : -errno;
    if (n != sizeof(*m) || m->magic != META_MAGIC)
        return -EINVAL; /* not ours: ignored */
    return 0;
}

static int meta_set(int fd, const struct meta *m)
{
    char path[300];

    meta_path(path, fd, NULL);
    return setxattr(path, PT_META_XATTR, m, sizeof(*m), 0) < 0 ? -errno : 0;
}

static bool is_dev(mode_t mode)
{
    return S_ISCHR(mode) || S_ISBLK(mode);
}

void pt_present(int fd, const char *name, struct stat *st)
{
    struct meta m;

    if (!S_ISREG(st->st_mode) || !(st->st_mode & MARK) ||
        meta_get(fd, name, &m) < 0)
        return;
    if (is_dev(m.mode)) {
        st->st_mode = m.mode & (S_IFMT | 07777);
        st->st_rdev = (dev_t)m.rdev;
        st->st_uid = m.uid;
        st->st_gid = m.gid;
        st->st_size = 0;
        st->st_blocks = 0;
    } else if (S_ISREG(m.mode)) {
        st->st_mode = (st->st_mode & ~(mode_t)07000) | (m.mode & 07000);
    }
}

int pt_make_dev(struct pt_fs *p, const struct fs_req *r, int dirfd,
                const char *name, mode_t mode, dev_t rdev)
{
    struct stat dst;
    struct meta m = {.magic = META_MAGIC,
                     .mode = (mode & S_IFMT) | (mode & 07777),
                     .rdev = rdev,
                     .uid = p->as_root ? r->uid : geteuid(),
                     .gid = p->as_root ? r->gid : getegid()};
    int fd, rc = 0;

    if (fstatat(dirfd, "", &dst, AT_EMPTY_PATH) < 0)
        return -errno;
    if (p->as_root && (dst.st_mode & S_ISGID))
        m.gid = dst.st_gid;
    fd =
        inode_openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY, 0600);
    if (fd < 0)
        return fd;
    if (meta_set(fd, &m) < 0 || fchmod(fd, 0600 | MARK) < 0)
        rc = -errno;
    close(fd);
    if (rc < 0) {
        /* No user xattrs here: refuse rather than plant a real node. */
        unlinkat(dirfd, name, 0);
        log_ratelimited(LOG_INFO, "cannot store device node %s: %s", name,
                        strerror(-rc));
        return -EPERM;
    }
    return 0;
}

static int host_stat(int fd, struct stat *st)
{
    return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno
                                                                        : 0;
}

static int host_chmod(struct pt_fs *p, int fd, mode_t mode)
{
    char n[16];

    pt_fdname(n, fd);
    return fchmodat(p->proc_fd, n, mode & 07777, 0) < 0 ? -errno : 0;
}

/* Regular file: the set-id and sticky bits go to the xattr and the file is
 * marked, once it is marked, has any of them or (mark) says so. */
static int set_reg_mode(struct pt_fs *p, int fd, mode_t mode, bool mark)
{
    struct meta m = {.magic = META_MAGIC, .mode = S_IFREG | (mode & 07000)};
    struct stat st;
    int rc = host_stat(fd, &st);

    if (rc < 0)
        return rc;
    if (!(st.st_mode & MARK) && !(mode & 07000) && !mark)
        return host_chmod(p, fd, mode & 0777);
    rc = meta_set(fd, &m);
    return rc < 0 ? rc : host_chmod(p, fd, (mode & 0777) | MARK);
}

int pt_set_mode(struct pt_fs *p, int fd, mode_t type, mode_t mode)
{
    struct meta m;

    if (is_dev(type)) {
        if (meta_get(fd, NULL, &m) < 0)
            return -EIO; /* the host removed or changed the node */
        m.mode = (m.mode & S_IFMT) | (mode & 07777);
        return meta_set(fd, &m);
    }
    if (S_ISREG(type))
        return set_reg_mode(p, fd, mode, false);
    return host_chmod(p, fd, mode);
}

bool pt_is_dev_node(int fd)
{
    struct stat st;
    struct meta m;

    return host_stat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
           (st.st_mode & MARK) && meta_get(fd, NULL, &m) == 0 && is_dev(m.mode);
}

int pt_mark_priv(struct pt_fs *p, int fd, mode_t type)
{
    struct stat st;

    if (!S_ISREG(type) || host_stat(fd, &st) < 0)
        return 0;
    return (st.st_mode & MARK) ? 0 : set_reg_mode(p, fd, st.st_mode, true);
}

int pt_kill_priv(struct pt_fs *p, int fd, mode_t type)
{
    char path[300];
    struct stat st;
    struct meta m;
    mode_t kill;

    if (!S_ISREG(type) || host_stat(fd, &st) < 0)
        return 0;
    /* As the kernel does: set-gid without group execute is not a
     * privilege (mandatory locking), it stays. */
    kill = S_ISUID | ((st.st_mode & S_IXGRP) ? S_ISGID : 0);
    if (st.st_mode & kill) { /* set on the host by someone else */
        if (host_chmod(p, fd, st.st_mode & ~kill) < 0)
            return -EIO;
    }
    if (!(st.st_mode & MARK))
        return 0;
    if (meta_get(fd, NULL, &m) == 0 && S_ISREG(m.mode) && (m.mode & kill)) {
        m.mode &= ~kill;
        if (meta_set(fd, &m) < 0)
            return -EIO;
    }
    meta_path(path, fd, NULL);
    removexattr(path, PT_XATTR_PRIVATE "security.capability");
    return 0;
}

int pt_set_owner(struct pt_fs *p, int fd, mode_t type, uid_t uid, gid_t gid)
{
    struct meta m;

    if (is_dev(type)) {
        if (meta_get(fd, NULL, &m) < 0)
            return -EIO;
        if (!p->as_root && ((uid != (uid_t)-1 && uid != m.uid) ||
                            (gid != (gid_t)-1 && gid != m.gid)))
            return -EPERM;
        m.uid = uid != (uid_t)-1 ? uid : m.uid;
        m.gid = gid != (gid_t)-1 ? gid : m.gid;
        return meta_set(fd, &m);
    }
    if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    /* chown(2) of a non-directory drops its privileges on Linux. */
    return pt_kill_priv(p, fd, type);
}
