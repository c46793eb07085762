/*
 * test_fuse_hostile.c: resource attacks on the passthrough backend by a
 * guest that drives fuse_server_handle() with crafted request sequences:
 * a directory chain 100 000 deep under a small fd budget (the reopen walk
 * must not recurse), and create/remove loops that never send FORGET (the
 * inode table and the pinned fds of unlinked files must stay bounded).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/passthrough.h"
#include "fuse/pt.h"
#include "fuse/server.h"
#include "t.h"

#define FD_BUDGET 16
#define DEPTH     100000

static uint8_t out[1 << 17];
static char base[64];
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
    RUN(test_no_forget);
    RUN(test_deep_chain);
    fuse_server_destroy(srv);
    passthrough_free(&be);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        t_diag("cleanup failed");
    return t_done();
}
