/*
 * test_fuse_locks.c: the passthrough backend's locks per lock owner, called
 * directly: one owner's locks through two handles do not conflict, other
 * owners' do; FLUSH with an owner drops all of its locks whichever handle
 * took them; GETLK names the holder's pid (0 for a host process); RELEASE
 * drops the owners first used through the handle and flock(2) locks;
 * SETLKW wakes when the holder's locks go; owner fds are capped (ENOLCK)
 * and none is left open afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuse/passthrough.h"
#include "t.h"

#define A   0x1111aaaaull
#define B   0x2222bbbbull
#define C   0x3333ccccull
#define D   0x4444ddddull
#define END 0x7fffffffffffffffull

static struct fs_backend be;
static const struct fs_req rq = {.pid = 1};
static uint64_t node;
static char share[64], file[96];

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

static uint64_t do_open(uint32_t flags)
{
    struct fs_open o = {0};

    return be.ops->open(be.fs, &rq, node, flags, &o) == 0 ? o.fh : 0;
}

static int setlk(uint64_t fh, uint64_t owner, uint32_t type, uint64_t start,
                 uint64_t end, uint32_t pid, bool sleep)
{
    struct fuse_file_lock lk = {
        .start = start, .end = end, .type = type, .pid = pid};

    return be.ops->setlk(be.fs, &rq, node, fh, owner, &lk, sleep, false);
}

static int flck(uint64_t fh, uint32_t type)
{
    struct fuse_file_lock lk = {.end = END, .type = type};

    return be.ops->setlk(be.fs, &rq, node, fh, 0, &lk, false, true);
}

/* GETLK for a write lock on (start, end); returns the type, *pid the pid. */
static int getlk(uint64_t fh, uint64_t owner, uint64_t start, uint64_t end,
                 uint32_t *pid)
{
    struct fuse_file_lock lk = {.start = start, .end = end, .type = F_WRLCK};

    if (be.ops->getlk(be.fs, &rq, node, fh, owner, &lk) < 0)
        return -1;
    *pid = lk.pid;
    return (int)lk.type;
}

static void setup(void)
{
    struct passthrough_config cfg = {.lock_fds = 3};
    struct fs_entry e;
    int fd;

    snprintf(share, sizeof(share), "/tmp/ckrun-lk.XXXXXX");
    if (!mkdtemp(share))
        t_skip_all("mkdtemp");
    snprintf(file, sizeof(file), "%s/f", share);
    fd = open(file, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0 && write(fd, "0123456789", 10) == 10);
    close(fd);
    cfg.root = share;
    CHECK_EQ(passthrough_create(&cfg, &be), 0);
    CHECK_EQ(be.ops->lookup(be.fs, &rq, 1, "f", &e), 0);
    node = e.ino;
}

static void test_owners(void)
{
    uint64_t f1 = do_open(O_RDWR), f2 = do_open(O_RDWR), f3 = do_open(0);
    uint32_t pid = 0;

    CHECK(f1 && f2 && f3);
    /* (1) One owner, two handles: no conflict with itself. */
    CHECK_EQ(setlk(f1, A, F_WRLCK, 0, 9, 101, false), 0);
    CHECK_EQ(setlk(f2, A, F_WRLCK, 5, 14, 101, false), 0);
    CHECK_EQ(setlk(f2, B, F_WRLCK, 12, 12, 202, false), -EAGAIN);
    CHECK_EQ(setlk(f3, B, F_RDLCK, 20, 29, 202, false), 0);
    CHECK_EQ(setlk(f3, C, F_RDLCK, 25, 25, 303, false), 0);
    /* (3) GETLK names the holder; an owner's own locks never conflict. */
    CHECK_EQ(getlk(f3, B, 0, END, &pid), F_WRLCK);
    CHECK_EQ(pid, 101);
    CHECK_EQ(getlk(f1, A, 0, 19, &pid), F_UNLCK);
    CHECK_EQ(getlk(f1, A, 20, 22, &pid), F_RDLCK);
    CHECK_EQ(pid, 202);
    /* Shared by B and C: no single holder. */
    CHECK_EQ(getlk(f1, A, 25, 25, &pid), F_RDLCK);
    CHECK_EQ(pid, 0);
    /* An owner without locks (no fd made) sees everything. */
    CHECK_EQ(getlk(f1, D, 0, 0, &pid), F_WRLCK);
    CHECK_EQ(pid, 101);
    /* Three owners are the cap here. */
    CHECK_EQ(setlk(f1, D, F_WRLCK, 40, 40, 404, false), -ENOLCK);
    CHECK_EQ(setlk(f1, D, F_UNLCK, 0, END, 0, false), 0);
    /* A host process conflicts with the guest's locks and they with it. */
    {
        int hfd = open(file, O_RDWR);
        struct flock fl = {
            .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};

        CHECK(hfd >= 0 && fcntl(hfd, F_OFD_GETLK, &fl) == 0);
        CHECK_EQ(fl.l_type, F_WRLCK);
        fl = (struct flock){
            .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 50, .l_len = 1};
        CHECK_EQ(fcntl(hfd, F_OFD_SETLK, &fl), 0);
        CHECK_EQ(setlk(f1, A, F_RDLCK, 50, 50, 101, false), -EAGAIN);
        CHECK_EQ(getlk(f1, A, 50, 50, &pid), F_WRLCK);
        CHECK_EQ(pid, 0);
        close(hfd);
    }
    /* (2) close(2) of any descriptor drops all of the owner's locks. */
    CHECK_EQ(be.ops->flush(be.fs, &rq, node, f3, A), 0);
    CHECK_EQ(getlk(f3, B, 0, 19, &pid), F_UNLCK);
    CHECK_EQ(setlk(f2, B, F_WRLCK, 0, 9, 202, false), 0);
    /* A's fd went with its locks: D fits now; a whole unlock frees it. */
    CHECK_EQ(setlk(f1, D, F_WRLCK, 40, 40, 404, false), 0);
    CHECK_EQ(setlk(f1, D, F_UNLCK, 0, END, 0, false), 0);
    CHECK_EQ(setlk(f1, A, F_WRLCK, 40, 40, 101, false), 0);
    CHECK_EQ(setlk(f1, A, F_UNLCK, 0, END, 0, false), 0);
    /* A failed attempt does not keep an fd either. */
    CHECK_EQ(setlk(f1, D, F_WRLCK, 0, 0, 404, false), -EAGAIN);
    CHECK_EQ(setlk(f1, A, F_WRLCK, 0, 0, 101, false), -EAGAIN);
    CHECK_EQ(setlk(f1, A, F_WRLCK, 60, 60, 101, false), 0);
    /* RELEASE drops the owners first used through the handle (the guest
     * file's own OFD locks: C came through f3; B is a process that closed
     * it, with its FLUSH first). */
    CHECK_EQ(be.ops->flush(be.fs, &rq, node, f3, B), 0);
    CHECK_EQ(be.ops->release(be.fs, &rq, node, f3, 0, 0, 0), 0);
    CHECK_EQ(setlk(f1, D, F_WRLCK, 70, 70, 404, false), 0);
    CHECK_EQ(setlk(f2, B, F_WRLCK, 80, 80, 202, false), 0);
    CHECK_EQ(be.ops->flush(be.fs, &rq, node, f1, A), 0);
    CHECK_EQ(be.ops->flush(be.fs, &rq, node, f1, D), 0);
    CHECK_EQ(be.ops->flush(be.fs, &rq, node, f2, B), 0);
    CHECK_EQ(be.ops->release(be.fs, &rq, node, f1, 0, 0, 0), 0);
    CHECK_EQ(be.ops->release(be.fs, &rq, node, f2, 0, 0, 0), 0);
}

static void test_release_keeps(void)
{
    uint64_t f1 = do_open(O_RDWR), f2 = do_open(O_RDWR);
    uint32_t pid;

    CHECK(f1 && f2);
    /* A came through f2: releasing f1 leaves its locks, f2's drops them. */
    CHECK_EQ(setlk(f2, A, F_WRLCK, 0, 0, 101, false), 0);
    CHECK_EQ(be.ops->release(be.fs, &rq, node, f1, 0, 0, 0), 0);
    CHECK_EQ(getlk(f2, B, 0, 0, &pid), F_WRLCK);
    CHECK_EQ(be.ops->release(be.fs, &rq, node, f2, 0, 0, 0), 0);
    f1 = do_open(O_RDWR);
    CHECK_EQ(getlk(f1, B, 0, END, &pid), F_UNLCK);
    CHECK_EQ(be.ops->release(be.fs, &rq, node, f1, 0, 0, 0), 0);
}

static void test_flock(void)
{
    uint64_t f1 = do_open(O_RDWR), f2 = do_open(O_RDONLY);

    CHECK(f1 && f2);
    CHECK_EQ(flck(f1, F_WRLCK), 0);
    CHECK_EQ(flck(f2, F_RDLCK), -EWOULDBLOCK);
    /* flock and record locks are independent. */
    CHECK_EQ(setlk(f2, A, F_RDLCK, 0, END, 101, false), 0);
    CHECK_EQ(
        be.ops->release(be.fs, &rq, node, f1, 0, FUSE_RELEASE_FLOCK_UNLOCK, C),
        0);
    CHECK_EQ(flck(f2, F_WRLCK), 0);
    CHECK_EQ(be.ops->flush(be.fs, &rq, node, f2, A), 0);
    CHECK_EQ(
        be.ops->release(be.fs, &rq, node, f2, 0, FUSE_RELEASE_FLOCK_UNLOCK, D),
        0);
}

struct waiter {
    uint64_t fh;
    int rc;
};

static void *wait_lock(void *arg)
{
    struct waiter *w = arg;

    w->rc = setlk(w->fh, B, F_WRLCK, 0, 9, 202, true);
    return NULL;
}

static void test_setlkw(void)
{
    uint64_t f1 = do_open(O_RDWR), f2 = do_open(O_RDWR);
    struct waiter w = {.fh = 0, .rc = 1};
    pthread_t t;
    uint32_t pid;

    CHECK(f1 && f2);
    w.fh = f2;
    CHECK_EQ(setlk(f1, A, F_WRLCK, 5, 5, 101, false), 0);
    CHECK_EQ(pthread_create(&t, NULL, wait_lock, &w), 0);
    usleep(100000);
    CHECK_EQ(w.rc, 1); /* still waiting */
    /* The holder closes some other descriptor of the file. */
    CHECK_EQ(be.ops->flush(be.fs, &rq, node, f2, A), 0);
    pthread_join(t, NULL);
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(getlk(f1, A, 0, 0, &pid), F_WRLCK);
    CHECK_EQ(pid, 202);
    CHECK_EQ(be.ops->flush(be.fs, &rq, node, f2, B), 0);
    CHECK_EQ(be.ops->release(be.fs, &rq, node, f1, 0, 0, 0), 0);
    CHECK_EQ(be.ops->release(be.fs, &rq, node, f2, 0, 0, 0), 0);
}

int main(void)
{
    int fds = count_fds(), after;
    char cmd[128];

    setup();
    RUN(test_owners);
    RUN(test_release_keeps);
    RUN(test_flock);
    RUN(test_setlkw);
    /* Owners left with locks go at DESTROY. */
    {
        uint64_t f1 = do_open(O_RDWR);

        CHECK_EQ(setlk(f1, A, F_WRLCK, 0, 0, 101, false), 0);
    }
    passthrough_free(&be);
    after = count_fds();
    CHECK_EQ(after, fds);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", share);
    CHECK_EQ(system(cmd), 0);
    return t_done();
}
