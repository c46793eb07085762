/*
 * pt_xattr.c: passthrough extended attributes (SETXATTR, GETXATTR,
 * LISTXATTR, REMOVEXATTR) with the guest's privileged names kept private.
 *
 * The host kernel honours trusted.* and security.* xattrs (file
 * capabilities, overlayfs metadata, LSM labels), so the guest's names in
 * those namespaces are stored under PT_XATTR_PRIVATE ("user.ckrun.") on
 * the host: guest "security.capability" is host
 * "user.ckrun.security.capability".  The guest still sets, reads, lists
 * and removes its own names (overlayfs in the guest works), and no host
 * program takes them for what they say.  Guest names that start with
 * "user.ckrun." are escaped the same way ("user.ckrun.user.ckrun.x"), so
 * the guest can never name the private ones (PT_META_XATTR, pt_meta.c).
 * Symlinks cannot have user.* xattrs on Linux: on them, as root, the
 * private prefix is "trusted.ckrun." instead (nothing on the host reads
 * those names, and only CAP_SYS_ADMIN can read them at all).
 *
 * trusted.* and security.* xattrs a host program set itself (say, file
 * capabilities of an image unpacked on the host) are visible to the guest
 * read-only: GETXATTR falls back to them, LISTXATTR lists them; setting
 * or removing a name only ever touches the private copy.
 *
 * There are no *xattrat calls before Linux 6.13, so the path is the
 * inode's magic link, which lands on the inode itself (never on a
 * symlink's target).
 */
#define LOG_TAG "fuse-pt"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <linux/limits.h>

#include "fuse/inode.h"
#include "fuse/pt.h"

#define PRIVATE_LNK "trusted.ckrun."

static bool has_prefix(const char *s, const char *pre)
{
    return strncmp(s, pre, strlen(pre)) == 0;
}

/* Guest names that must not reach the host as they are. */
static bool remapped(const char *name)
{
    return has_prefix(name, "trusted.") || has_prefix(name, "security.") ||
           has_prefix(name, PT_XATTR_PRIVATE);
}

/* The host name of guest name (g) on an inode of (type). */
static int host_name(const struct pt_fs *p, mode_t type, const char *g,
                     char h[XATTR_NAME_MAX + 1])
{
    const char *pre = "";

    if (remapped(g))
        pre = S_ISLNK(type) && p->as_root ? PRIVATE_LNK : PT_XATTR_PRIVATE;
    if ((size_t)snprintf(h, XATTR_NAME_MAX + 1, "%s%s", pre, g) >
        XATTR_NAME_MAX)
        return -ERANGE;
    return 0;
}

/* The guest name of host name (h), or NULL if the guest must not see it. */
static const char *guest_name(const char *h)
{
    if (has_prefix(h, PT_XATTR_PRIVATE))
        h += strlen(PT_XATTR_PRIVATE);
    else if (has_prefix(h, PRIVATE_LNK))
        h += strlen(PRIVATE_LNK);
    else
        return h; /* the host's own (read-only for trusted/security) */
    return remapped(h) ? h : NULL;
}

static bool listed(const char *list, size_t len, const char *name)
{
    for (size_t i = 0; i < len; i += strlen(list + i) + 1) {
        if (!strcmp(list + i, name))
            return true;
    }
    return false;
}

/* The host's list of (path) as the guest's names. */
static ssize_t list_guest(const char *path, char *buf, size_t size)
{
    char *host = malloc(XATTR_LIST_MAX), *res = malloc(XATTR_LIST_MAX);
    ssize_t n = -ENOMEM;
    size_t len = 0;

    if (!host || !res)
        goto out;
    n = listxattr(path, host, XATTR_LIST_MAX);
    if (n < 0) {
        n = -errno;
        goto out;
    }
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(host + i) + 1) {
        const char *g = guest_name(host + i);

        if (g && !listed(res, len, g)) {
            memcpy(res + len, g, strlen(g) + 1);
            len += strlen(g) + 1;
        }
    }
    n = (ssize_t)len;
    if (size && len > size)
        n = -ERANGE;
    else if (size)
        memcpy(buf, res, len);
out:
    free(host);
    free(res);
    return n;
}

enum xop { X_GET, X_SET, X_LIST, X_REMOVE };

struct xargs {
    enum xop op;
    const char *name;
    void *buf;
    size_t size;
    int flags;
};

static ssize_t xattr_host(const char *path, const char *hname,
                          const struct xargs *a)
{
    ssize_t rc = 0;

    switch (a->op) {
    case X_GET:
        rc = getxattr(path, hname, a->buf, a->size);
        break;
    case X_SET:
        rc = setxattr(path, hname, a->buf, a->size, a->flags);
        break;
    case X_LIST:
        return list_guest(path, a->buf, a->size);
    case X_REMOVE:
        rc = removexattr(path, hname);
        break;
    }
    return rc < 0 ? -errno : rc;
}

static int xattr_call(struct pt_fs *p, uint64_t id, const struct xargs *a)
{
    char path[40], hname[XATTR_NAME_MAX + 1] = "";
    struct pt_node n;
    ssize_t rc = pt_node_get(p, id, &n);

    if (rc < 0)
        return (int)rc;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", n.fd);
    if (a->name)
        rc = host_name(p, n.ino->type, a->name, hname);
    if (rc == 0)
        rc = xattr_host(path, hname, a);
    /* A file capability must be seen by pt_kill_priv. */
    if (rc == 0 && a->op == X_SET && !strcmp(a->name, "security.capability"))
        rc = pt_mark_priv(p, n.fd, n.ino->type);
    /* The host's own trusted/security value, read-only. */
    if (rc == -ENODATA && a->op == X_GET && remapped(a->name) &&
        !has_prefix(a->name, PT_XATTR_PRIVATE)) {
        ssize_t m = getxattr(path, a->name, a->buf, a->size);

        rc = m < 0 ? -errno : m;
    }
    pt_node_put(p, &n);
    return (int)rc;
}

int pt_setxattr(void *fs, const struct fs_req *r, uint64_t id, const char *name,
                const void *value, size_t size, uint32_t flags)
{
    struct xargs a = {X_SET, name, (void *)(uintptr_t)value, size, (int)flags};

    if (((struct pt_fs *)fs)->read_only)
        return -EROFS;
    return xattr_call(fs, id, &a);
}

int pt_getxattr(void *fs, const struct fs_req *r, uint64_t id, const char *name,
                void *buf, size_t size)
{
    struct xargs a = {X_GET, name, buf, size, 0};

    return xattr_call(fs, id, &a);
}

int pt_listxattr(void *fs, const struct fs_req *r, uint64_t id, void *buf,
                 size_t size)
{
    struct xargs a = {X_LIST, NULL, buf, size, 0};

    return xattr_call(fs, id, &a);
}

int pt_removexattr(void *fs, const struct fs_req *r, uint64_t id,
                   const char *name)
{
    struct xargs a = {X_REMOVE, name, NULL, 0, 0};

    if (((struct pt_fs *)fs)->read_only)
        return -EROFS;
    return xattr_call(fs, id, &a);
}
