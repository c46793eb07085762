/*
 * test_fuse_hostile.c: resource attacks on the passthrough backend by a
 * guest that drives fuse_server_handle() with crafted request sequences:
 * a directory chain 100 000 deep under a small fd budget (the reopen walk
 * must not recurse), and create/remove loops that never send FORGET (the
 * inode table and the pinned fds of unlinked files must stay bounded);
 * and what guest root may plant on the host: set-id bits, trusted.* and
 * security.* xattrs and device nodes must reach the guest as it made them
 * but never the host file (which must stay inert).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fuse/passthrough.h"
#include "fuse/pt.h"
#include "fuse/server.h"
#include "t.h"
#include "util.h"

#define FD_BUDGET 16
#define DEPTH     100000

static uint8_t out[1 << 17];
static char base[64], hpath[160];
static uint32_t init_flags;
static struct fuse_server *srv;
static struct fs_backend be;

static int req(uint32_t opcode, uint64_t nodeid, const void *body, size_t blen)
{
    static __thread uint8_t in[1 << 12];
    struct fuse_in_header h = {.len = (uint32_t)(sizeof(h) + blen),
                               .opcode = opcode,
                               .unique = 9,
                               .nodeid = nodeid};
    struct iovec iv = {in, sizeof(h) + blen}, ov = {out, sizeof(out)};
    struct fuse_out_header oh;

    memcpy(in, &h, sizeof(h));
    memcpy(in + sizeof(h), body, blen);
    if (fuse_server_handle(srv, &iv, 1, &ov, 1) < sizeof(oh))
        return 1;
    memcpy(&oh, out, sizeof(oh));
    return oh.error;
}

/* A body of (fixed) followed by the NUL-terminated (name). */
static size_t named(uint8_t *b, const void *fixed, size_t flen,
                    const char *name)
{
    memcpy(b, fixed, flen);
    memcpy(b + flen, name, strlen(name) + 1);
    return flen + strlen(name) + 1;
}

static struct fuse_entry_out *entry(void)
{
    return (struct fuse_entry_out *)(out + sizeof(struct fuse_out_header));
}

static uint64_t mkdir_in(uint64_t parent, const char *name)
{
    struct fuse_mkdir_in mi = {.mode = 0755};
    uint8_t b[300];

    if (req(FUSE_MKDIR, parent, b, named(b, &mi, sizeof(mi), name)) != 0)
        return 0;
    return entry()->nodeid;
}

/* CREATE (name) in (parent): node id, with the handle in *fh. */
static uint64_t create_in(uint64_t parent, const char *name, uint64_t *fh)
{
    struct fuse_create_in ci = {.flags = O_RDWR | O_CREAT, .mode = 0644};
    uint8_t b[300];
    struct fuse_open_out oo;

    if (req(FUSE_CREATE, parent, b, named(b, &ci, sizeof(ci), name)) != 0)
        return 0;
    memcpy(&oo,
           out + sizeof(struct fuse_out_header) + sizeof(struct fuse_entry_out),
           sizeof(oo));
    *fh = oo.fh;
    return entry()->nodeid;
}

static int remove_in(uint32_t opcode, uint64_t parent, const char *name)
{
    return req(opcode, parent, name, strlen(name) + 1);
}

static int release(uint64_t node, uint64_t fh)
{
    struct fuse_release_in ri = {.fh = fh};

    return req(FUSE_RELEASE, node, &ri, sizeof(ri));
}

/* GETATTR of (node): 0 with its mode in *mode, or the error. */
static int getattr(uint64_t node, uint32_t *mode)
{
    struct fuse_getattr_in gi = {0};
    int err = req(FUSE_GETATTR, node, &gi, sizeof(gi));
    struct fuse_attr_out ao;

    memcpy(&ao, out + sizeof(struct fuse_out_header), sizeof(ao));
    *mode = err ? 0 : ao.attr.mode;
    return err;
}

static const uint8_t *payload(void)
{
    return out + sizeof(struct fuse_out_header);
}

/* The host path of (rel) in the share. */
static const char *host(const char *rel)
{
    snprintf(hpath, sizeof(hpath), "%s/%s", base, rel);
    return hpath;
}

static int setattr(uint64_t node, const struct fuse_setattr_in *si,
                   struct fuse_attr *attr)
{
    int err = req(FUSE_SETATTR, node, si, sizeof(*si));

    if (!err && attr)
        memcpy(attr, payload() + offsetof(struct fuse_attr_out, attr),
               sizeof(*attr));
    return err;
}

/* LOOKUP (name) in (parent): 0 with its entry, or the error. */
static int lookup(uint64_t parent, const char *name, struct fuse_entry_out *e)
{
    int err = req(FUSE_LOOKUP, parent, name, strlen(name) + 1);

    if (!err)
        memcpy(e, payload(), sizeof(*e));
    return err;
}

static int gx_setxattr(uint64_t node, const char *name, const char *value)
{
    struct fuse_setxattr_in si = {.size = (uint32_t)strlen(value)};
    uint8_t b[600];
    size_t n = FUSE_COMPAT_SETXATTR_IN_SIZE;

    memcpy(b, &si, n);
    memcpy(b + n, name, strlen(name) + 1);
    n += strlen(name) + 1;
    memcpy(b + n, value, strlen(value));
    return req(FUSE_SETXATTR, node, b, n + strlen(value));
}

/* GETXATTR (or LISTXATTR if name is NULL) into buf: length or -errno. */
static int gx_get(uint64_t node, const char *name, char *buf, size_t size)
{
    struct fuse_getxattr_in gi = {.size = (uint32_t)size};
    uint8_t b[300];
    size_t n = named(b, &gi, sizeof(gi), name ? name : "");
    int err = req(name ? FUSE_GETXATTR : FUSE_LISTXATTR, node, b,
                  name ? n : sizeof(gi));

    if (err)
        return err;
    /* The reply's length is in its header. */
    n = ((struct fuse_out_header *)out)->len - sizeof(struct fuse_out_header);
    memcpy(buf, payload(), MIN(n, size));
    return (int)n;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static struct itab *table(void)
{
    return &((struct pt_fs *)be.fs)->itab;
}

static void *deep_chain(void *arg)
{
    uint64_t node = FUSE_ROOT_ID, deepest;
    unsigned int fds, peak;
    uint64_t reopens0, reopens;
    uint32_t mode;
    char name[16];
    int i;

    for (i = 0; i < DEPTH && node; i++)
        node = mkdir_in(node, "d");
    if (!CHECK_EQ(i, DEPTH) || !CHECK(node != 0))
        return NULL;
    deepest = node;
    /* Other inodes take the budget: every fd of the chain is evicted. */
    for (i = 0; i < 4 * FD_BUDGET; i++) {
        snprintf(name, sizeof(name), "e%d", i);
        CHECK(getattr(mkdir_in(FUSE_ROOT_ID, name), &mode) == 0);
    }
    passthrough_stats(&be, &fds, &peak, &reopens0);
    /* Reopening the deepest walks 100 000 names down from the root: this
     * overflowed a worker's stack while it recursed per ancestor. */
    CHECK_EQ(getattr(deepest, &mode), 0);
    CHECK_EQ(mode & S_IFMT, S_IFDIR);
    passthrough_stats(&be, &fds, &peak, &reopens);
    CHECK_EQ(reopens - reopens0, DEPTH);
    CHECK(fds <= FD_BUDGET);
    t_diag("depth %d: %llu reopens, %u fds (peak %u)", DEPTH,
           (unsigned long long)(reopens - reopens0), fds, peak);
    /* And once more, now that the chain is evicted again. */
    CHECK_EQ(getattr(deepest, &mode), 0);
    return arg;
}

/* The walk runs on a thread with the default stack size, as a worker's. */
static void test_deep_chain(void)
{
    static int done;
    pthread_t th;
    void *res = NULL;

    CHECK_EQ(pthread_create(&th, NULL, deep_chain, &done), 0);
    CHECK_EQ(pthread_join(th, &res), 0);
    CHECK(res == &done);
}

/* CREATE + UNLINK (+ RELEASE after the unlink, which pins the open file's
 * fd) and MKDIR + RMDIR, 5000 times each, never a FORGET. */
static void test_no_forget(void)
{
    struct itab *t = table();
    uint64_t dir = mkdir_in(FUSE_ROOT_ID, "churn"), first = 0, node = 0, fh;
    unsigned int max = t->max_retired, retired;
    int fds0 = count_fds(), n;
    size_t inodes0, inodes;
    uint32_t mode;

    itab_counts(t, &inodes0, &retired);
    for (n = 0; n < 5000; n++) {
        node = create_in(dir, "f", &fh);
        if (!node || remove_in(FUSE_UNLINK, dir, "f") != 0 ||
            release(node, fh) != 0)
            break;
        first = first ? first : node;
    }
    CHECK_EQ(n, 5000);
    itab_counts(t, &inodes, &retired);
    t_diag("after %d create/unlink: %zu inodes (+%zu), %u retired (max %u), "
           "%d fds (+%d)",
           n, inodes, inodes - inodes0, retired, max, count_fds(),
           count_fds() - fds0);
    CHECK(retired <= max);
    CHECK(inodes - inodes0 <= max);
    CHECK(count_fds() - fds0 <= (int)max + FD_BUDGET);
    /* The oldest are gone for good; the newest still answers from its
     * pinned fd. */
    CHECK_EQ(getattr(first, &mode), -ESTALE);
    CHECK_EQ(getattr(node, &mode), 0);
    CHECK_EQ(mode & S_IFMT, S_IFREG);
    for (n = 0; n < 5000; n++) {
        if (!mkdir_in(dir, "s") || remove_in(FUSE_RMDIR, dir, "s") != 0)
            break;
    }
    CHECK_EQ(n, 5000);
    itab_counts(t, &inodes, &retired);
    CHECK(inodes - inodes0 <= max);
    /* A live file is not retired by removing another name of it. */
    node = create_in(dir, "a", &fh);
    CHECK(release(node, fh) == 0);
    {
        struct fuse_link_in li = {.oldnodeid = node};
        uint8_t b[300];

        CHECK_EQ(req(FUSE_LINK, dir, b, named(b, &li, sizeof(li), "b")), 0);
    }
    CHECK_EQ(remove_in(FUSE_UNLINK, dir, "a"), 0);
    CHECK_EQ(getattr(node, &mode), 0);
}

/* Guest root makes a set-uid-root executable and gives files privileged
 * xattrs: the guest sees them, the host file has none of them. */
static void test_planted_privileges(void)
{
    uint64_t fh, node = create_in(FUSE_ROOT_ID, "suid", &fh);
    struct fuse_setattr_in si = {.valid = FATTR_MODE, .mode = 06755};
    struct fuse_attr a;
    struct stat st;
    char buf[512];
    uint32_t mode;
    int n;

    CHECK(node != 0);
    CHECK_EQ(setattr(node, &si, &a), 0);
    CHECK_EQ(a.mode, S_IFREG | 06755);
    CHECK_EQ(getattr(node, &mode), 0);
    CHECK_EQ(mode, S_IFREG | 06755);
    CHECK(stat(host("suid"), &st) == 0 && st.st_mode == (S_IFREG | 01755));
    /* trusted.* and security.* (file capabilities) stay private. */
    CHECK_EQ(gx_setxattr(node, "security.capability", "CAPS"), 0);
    CHECK_EQ(gx_setxattr(node, "trusted.overlay.opaque", "y"), 0);
    CHECK_EQ(gx_setxattr(node, "user.plain", "p"), 0);
    CHECK(getxattr(host("suid"), "security.capability", buf, sizeof(buf)) < 0 &&
          errno == ENODATA);
    CHECK(getxattr(host("suid"), "trusted.overlay.opaque", buf, sizeof(buf)) <
              0 &&
          errno == ENODATA);
    CHECK_EQ(getxattr(host("suid"), "user.ckrun.security.capability", buf,
                      sizeof(buf)),
             4);
    CHECK_EQ(getxattr(host("suid"), "user.plain", buf, sizeof(buf)), 1);
    CHECK_EQ(gx_get(node, "security.capability", buf, sizeof(buf)), 4);
    CHECK(!memcmp(buf, "CAPS", 4));
    CHECK_EQ(gx_get(node, "trusted.overlay.opaque", buf, sizeof(buf)), 1);
    /* The guest's list: its own names, not the private ones. */
    n = gx_get(node, NULL, buf, sizeof(buf));
    CHECK_EQ(n, (int)sizeof("security.capability\0trusted.overlay.opaque\0"
                            "user.plain"));
    CHECK(memmem(buf, (size_t)n, "security.capability", 20) != NULL);
    CHECK(memmem(buf, (size_t)n, "user.ckrun", 10) == NULL);
    /* The guest cannot reach the private names under its own user.*. */
    CHECK_EQ(gx_get(node, "user.ckrun.meta", buf, sizeof(buf)), -ENODATA);
    CHECK_EQ(gx_setxattr(node, "user.ckrun.meta", "forged-meta-forged-meta!"),
             0);
    CHECK_EQ(gx_setxattr(node, "user.ckrun.security.capability", "X"), 0);
    CHECK_EQ(getxattr(host("suid"), "user.ckrun.security.capability", buf,
                      sizeof(buf)),
             4);
    CHECK_EQ(getattr(node, &mode), 0);
    CHECK_EQ(mode, S_IFREG | 06755);
    CHECK_EQ(gx_get(node, "user.ckrun.meta", buf, sizeof(buf)), 24);
    /* HANDLE_KILLPRIV_V2 is offered; a write by a caller without
     * CAP_FSETID drops set-uid, set-gid (group-executable) and the
     * capability, as Linux does. */
    CHECK(init_flags & FUSE_HANDLE_KILLPRIV_V2);
    {
        struct {
            struct fuse_write_in wi;
            char data[2];
        } w = {{.fh = fh, .size = 2, .write_flags = FUSE_WRITE_KILL_SUIDGID},
               "hi"};

        CHECK_EQ(req(FUSE_WRITE, node, &w, sizeof(w)), 0);
    }
    CHECK_EQ(getattr(node, &mode), 0);
    CHECK_EQ(mode, S_IFREG | 0755);
    CHECK_EQ(gx_get(node, "security.capability", buf, sizeof(buf)), -ENODATA);
    CHECK_EQ(gx_get(node, "trusted.overlay.opaque", buf, sizeof(buf)), 1);
    /* Truncate with FATTR_KILL_SUIDGID; set-gid without group execute is
     * not a privilege and stays. */
    si = (struct fuse_setattr_in){.valid = FATTR_MODE, .mode = 06745};
    CHECK_EQ(setattr(node, &si, &a), 0);
    si = (struct fuse_setattr_in){.valid = FATTR_SIZE | FATTR_KILL_SUIDGID};
    CHECK_EQ(setattr(node, &si, &a), 0);
    CHECK_EQ(a.mode, S_IFREG | 02745);
    /* chown drops set-id bits too. */
    si = (struct fuse_setattr_in){.valid = FATTR_MODE, .mode = 04755};
    CHECK_EQ(setattr(node, &si, &a), 0);
    si = (struct fuse_setattr_in){.valid = FATTR_UID, .uid = 1234};
    CHECK_EQ(setattr(node, &si, &a), 0);
    CHECK_EQ(a.mode, S_IFREG | 0755);
    CHECK(stat(host("suid"), &st) == 0 && (st.st_mode & 07777) == 01755);
    CHECK_EQ(release(node, fh), 0);
    /* A capability on a file without set-id bits marks it (sticky bit on
     * the host), so that a write still drops it; the guest's own sticky
     * bit shows as it set it. */
    node = create_in(FUSE_ROOT_ID, "capf", &fh);
    CHECK_EQ(gx_setxattr(node, "security.capability", "CAPS"), 0);
    CHECK(stat(host("capf"), &st) == 0 && st.st_mode == (S_IFREG | 01644));
    CHECK_EQ(getattr(node, &mode), 0);
    CHECK_EQ(mode, S_IFREG | 0644);
    {
        struct {
            struct fuse_write_in wi;
            char data[2];
        } w = {{.fh = fh, .size = 2, .write_flags = FUSE_WRITE_KILL_SUIDGID},
               "hi"};

        CHECK_EQ(req(FUSE_WRITE, node, &w, sizeof(w)), 0);
    }
    CHECK_EQ(gx_get(node, "security.capability", buf, sizeof(buf)), -ENODATA);
    si = (struct fuse_setattr_in){.valid = FATTR_MODE, .mode = 01600};
    CHECK_EQ(setattr(node, &si, &a), 0);
    CHECK_EQ(a.mode, S_IFREG | 01600);
    si = (struct fuse_setattr_in){.valid = FATTR_MODE, .mode = 0640};
    CHECK_EQ(setattr(node, &si, &a), 0);
    CHECK_EQ(a.mode, S_IFREG | 0640);
    CHECK(stat(host("capf"), &st) == 0 && st.st_mode == (S_IFREG | 01640));
    CHECK_EQ(release(node, fh), 0);
    /* A new file made with set-id bits. */
    {
        struct fuse_create_in ci = {.flags = O_RDWR | O_CREAT, .mode = 04711};
        uint8_t b[300];
        struct fuse_entry_out e;

        CHECK_EQ(req(FUSE_CREATE, FUSE_ROOT_ID, b,
                     named(b, &ci, sizeof(ci), "suid2")),
                 0);
        memcpy(&e, payload(), sizeof(e));
        CHECK_EQ(e.attr.mode, S_IFREG | 04711);
        CHECK(stat(host("suid2"), &st) == 0 && st.st_mode == (S_IFREG | 01711));
        node = e.nodeid;
    }
    /* O_TRUNC opens: with FUSE_OPEN_KILL_SUIDGID (caller without
     * CAP_FSETID) the set-uid bit goes, without it (root) it stays. */
    {
        struct fuse_open_in oi = {.flags = O_WRONLY | O_TRUNC};

        CHECK_EQ(req(FUSE_OPEN, node, &oi, sizeof(oi)), 0);
        CHECK_EQ(getattr(node, &mode), 0);
        CHECK_EQ(mode, S_IFREG | 04711);
        oi.open_flags = FUSE_OPEN_KILL_SUIDGID;
        CHECK_EQ(req(FUSE_OPEN, node, &oi, sizeof(oi)), 0);
        CHECK_EQ(getattr(node, &mode), 0);
        CHECK_EQ(mode, S_IFREG | 0711);
    }
}

/* MKNOD of devices: an inert 0600 regular file of the VMM's on the host,
 * the device node the guest asked for in the guest. */
static void test_device_nodes(void)
{
    struct fuse_mknod_in mi = {.mode = S_IFCHR | 0666,
                               .rdev = (uint32_t)makedev(1, 3)};
    struct fuse_setattr_in si = {.valid = FATTR_MODE, .mode = 0620};
    struct fuse_entry_out e;
    struct fuse_attr a;
    struct stat st;
    uint8_t b[300];
    uint32_t mode;
    int err;

    CHECK_EQ(
        req(FUSE_MKNOD, FUSE_ROOT_ID, b, named(b, &mi, sizeof(mi), "null")), 0);
    memcpy(&e, payload(), sizeof(e));
    CHECK_EQ(e.attr.mode, S_IFCHR | 0666);
    CHECK_EQ(e.attr.rdev, (uint32_t)makedev(1, 3));
    CHECK(lstat(host("null"), &st) == 0);
    CHECK_EQ(st.st_mode, S_IFREG | 01600);
    CHECK_EQ(st.st_uid, geteuid());
    CHECK_EQ(st.st_size, 0);
    mi = (struct fuse_mknod_in){.mode = S_IFBLK | 0600,
                                .rdev = (uint32_t)makedev(8, 0)};
    CHECK_EQ(req(FUSE_MKNOD, FUSE_ROOT_ID, b, named(b, &mi, sizeof(mi), "sda")),
             0);
    CHECK(lstat(host("sda"), &st) == 0 && S_ISREG(st.st_mode));
    /* LOOKUP and GETATTR say the same. */
    CHECK_EQ(lookup(FUSE_ROOT_ID, "sda", &e), 0);
    CHECK_EQ(e.attr.mode, S_IFBLK | 0600);
    CHECK_EQ(e.attr.rdev, (uint32_t)makedev(8, 0));
    CHECK_EQ(lookup(FUSE_ROOT_ID, "null", &e), 0);
    CHECK_EQ(getattr(e.nodeid, &mode), 0);
    CHECK_EQ(mode, S_IFCHR | 0666);
    /* chmod and chown change the node, not the host file. */
    CHECK_EQ(setattr(e.nodeid, &si, &a), 0);
    CHECK_EQ(a.mode, S_IFCHR | 0620);
    si = (struct fuse_setattr_in){
        .valid = FATTR_UID | FATTR_GID, .uid = 1234, .gid = 5};
    err = setattr(e.nodeid, &si, &a);
    if (geteuid() == 0) {
        CHECK_EQ(err, 0);
        CHECK(a.uid == 1234 && a.gid == 5 && a.mode == (S_IFCHR | 0620));
    }
    CHECK(lstat(host("null"), &st) == 0);
    CHECK_EQ(st.st_mode, S_IFREG | 01600);
    CHECK_EQ(st.st_uid, geteuid());
    /* The host file is never handed out. */
    {
        struct fuse_open_in oi = {.flags = O_RDWR};

        CHECK_EQ(req(FUSE_OPEN, e.nodeid, &oi, sizeof(oi)), -EACCES);
        si = (struct fuse_setattr_in){.valid = FATTR_SIZE, .size = 10};
        CHECK_EQ(setattr(e.nodeid, &si, &a), -EINVAL);
    }
    /* Hard links and renames keep the node. */
    {
        struct fuse_link_in li = {.oldnodeid = e.nodeid};
        struct fuse_rename_in ri = {.newdir = FUSE_ROOT_ID};
        uint8_t rb[300];
        size_t n = named(rb, &ri, sizeof(ri), "null2");

        CHECK_EQ(
            req(FUSE_LINK, FUSE_ROOT_ID, b, named(b, &li, sizeof(li), "null2")),
            0);
        memcpy(rb + n, "null3", 6);
        CHECK_EQ(req(FUSE_RENAME, FUSE_ROOT_ID, rb, n + 6), 0);
        CHECK_EQ(lookup(FUSE_ROOT_ID, "null3", &e), 0);
        CHECK_EQ(e.attr.mode, S_IFCHR | 0620);
        CHECK_EQ(e.attr.nlink, 2);
        CHECK_EQ(e.attr.rdev, (uint32_t)makedev(1, 3));
    }
    /* READDIRPLUS shows the node, with its type in the entry. */
    {
        struct fuse_open_in oi = {0};
        struct fuse_read_in ri = {.size = 65536};
        bool seen = false;
        int len;

        CHECK_EQ(req(FUSE_OPENDIR, FUSE_ROOT_ID, &oi, sizeof(oi)), 0);
        ri.fh = ((const struct fuse_open_out *)payload())->fh;
        CHECK_EQ(req(FUSE_READDIRPLUS, FUSE_ROOT_ID, &ri, sizeof(ri)), 0);
        len = (int)(((struct fuse_out_header *)out)->len -
                    sizeof(struct fuse_out_header));
        for (int off = 0; off < len;) {
            const struct fuse_direntplus *d = (const void *)(payload() + off);

            if (d->dirent.namelen == 3 && !memcmp(d->dirent.name, "sda", 3)) {
                seen = true;
                CHECK_EQ(d->dirent.type, DT_BLK);
                CHECK_EQ(d->entry_out.attr.mode, S_IFBLK | 0600);
                CHECK_EQ(d->entry_out.attr.rdev, (uint32_t)makedev(8, 0));
            }
            off += (int)FUSE_DIRENTPLUS_SIZE(d);
        }
        CHECK(seen);
        CHECK_EQ(req(FUSE_RELEASEDIR, FUSE_ROOT_ID, &ri, sizeof(ri)), 0);
    }
    /* Nor through CREATE without O_EXCL of the existing name. */
    {
        struct fuse_create_in ci = {.flags = O_RDWR | O_CREAT, .mode = 0644};

        CHECK_EQ(
            req(FUSE_CREATE, FUSE_ROOT_ID, b, named(b, &ci, sizeof(ci), "sda")),
            -EACCES);
    }
    CHECK_EQ(remove_in(FUSE_UNLINK, FUSE_ROOT_ID, "null3"), 0);
    CHECK_EQ(remove_in(FUSE_UNLINK, FUSE_ROOT_ID, "null"), 0);
    CHECK(lstat(host("null"), &st) < 0 && errno == ENOENT);
    /* The overlayfs whiteout stays a real 0:0 node (root only). */
    mi = (struct fuse_mknod_in){.mode = S_IFCHR | 0600, .rdev = 0};
    err = req(FUSE_MKNOD, FUSE_ROOT_ID, b, named(b, &mi, sizeof(mi), "wh"));
    if (geteuid() == 0) {
        CHECK_EQ(err, 0);
        CHECK(lstat(host("wh"), &st) == 0 && S_ISCHR(st.st_mode) &&
              st.st_rdev == 0);
    }
}

int main(void)
{
    struct fuse_init_in init = {.major = 7, .minor = 38, .flags = 0xffffffff};
    char cmd[160];

    /* tmpfs if there is one: 100 000 MKDIRs on a journalled disk take
     * minutes on a busy machine, on tmpfs seconds. */
    snprintf(base, sizeof(base), "%s/ckrun-hostile-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(base))
        t_skip_all("mkdtemp: %s", strerror(errno));
    if (passthrough_create(
            &(struct passthrough_config){.root = base, .fd_budget = FD_BUDGET},
            &be) < 0)
        t_skip_all("passthrough_create failed");
    if (fuse_server_create(
            &(struct fuse_server_config){.backend = be, .workers = 2}, &srv) <
        0)
        t_skip_all("fuse_server_create failed");
    req(FUSE_INIT, 0, &init, sizeof(init));
    init_flags = ((const struct fuse_init_out *)payload())->flags;
    RUN(test_planted_privileges);
    RUN(test_device_nodes);
    RUN(test_no_forget);
    RUN(test_deep_chain);
    fuse_server_destroy(srv);
    passthrough_free(&be);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        t_diag("cleanup failed");
    return t_done();
}
