/*
 * test_fuse_handles.c: hostile lifetimes of the passthrough backend's open
 * files, driven through fuse_server_handle() from several threads as the
 * virtio-fs workers do: CREATE / OPEN / SYNCFS on existing device nodes and
 * FIFOs (refused without opening them, never blocking a worker), RELEASE /
 * RELEASEDIR racing READ / READDIRPLUS and each other (no use after free,
 * no I/O landing on a reused fd), double RELEASE, DESTROY while requests
 * are in flight, and the open-handle budget under RLIMIT_NOFILE = 1024.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fuse/passthrough.h"
#include "fuse/server.h"
#include "t.h"

#define DATA_LEN (64 * 1024)

static char base[64], share[96];
static struct fs_backend be;
static struct fuse_server *srv;

/* One request from this thread; returns the reply's error (1: no reply)
 * and copies up to (rlen) bytes of its body to (reply), *got its length. */
static int call(uint32_t op, uint64_t node, const void *body, size_t blen,
                void *reply, size_t rlen, size_t *got)
{
    static __thread uint8_t in[1024], out[DATA_LEN + 4096];
    struct fuse_in_header h = {.len = (uint32_t)(sizeof(h) + blen),
                               .opcode = op,
                               .unique = 5,
                               .nodeid = node};
    struct iovec iv = {in, sizeof(h) + blen}, ov = {out, sizeof(out)};
    struct fuse_out_header oh;
    size_t n, b;

    memcpy(in, &h, sizeof(h));
    if (blen)
        memcpy(in + sizeof(h), body, blen);
    n = fuse_server_handle(srv, &iv, 1, &ov, 1);
    if (n < sizeof(oh))
        return 1;
    memcpy(&oh, out, sizeof(oh));
    b = n - sizeof(oh);
    if (reply)
        memcpy(reply, out + sizeof(oh), b < rlen ? b : rlen);
    if (got)
        *got = b;
    return oh.error;
}

static void init(void)
{
    struct fuse_init_in i = {.major = 7, .minor = 38, .flags = 0xffffffff};

    call(FUSE_INIT, 0, &i, sizeof(i), NULL, 0, NULL);
}

static uint64_t lookup(uint64_t parent, const char *name)
{
    struct fuse_entry_out eo = {0};

    if (call(FUSE_LOOKUP, parent, name, strlen(name) + 1, &eo, sizeof(eo),
             NULL))
        return 0;
    return eo.nodeid;
}

static int open_node(uint32_t op, uint64_t node, uint32_t flags, uint64_t *fh)
{
    struct fuse_open_in oi = {.flags = flags};
    struct fuse_open_out oo = {0};
    int err = call(op, node, &oi, sizeof(oi), &oo, sizeof(oo), NULL);

    *fh = oo.fh;
    return err;
}

static int release(uint32_t op, uint64_t node, uint64_t fh)
{
    struct fuse_release_in ri = {.fh = fh};

    return call(op, node, &ri, sizeof(ri), NULL, 0, NULL);
}

/* CREATE (name) in the root; *node and *fh on success. */
static int create(const char *name, uint32_t flags, uint32_t mode,
                  uint64_t *node, uint64_t *fh)
{
    uint8_t b[300];
    struct fuse_create_in ci = {.flags = flags, .mode = S_IFREG | mode};
    struct {
        struct fuse_entry_out e;
        struct fuse_open_out o;
    } r = {0};
    int err;

    memcpy(b, &ci, sizeof(ci));
    memcpy(b + sizeof(ci), name, strlen(name) + 1);
    err = call(FUSE_CREATE, 1, b, sizeof(ci) + strlen(name) + 1, &r, sizeof(r),
               NULL);
    *node = r.e.nodeid;
    *fh = r.o.fh;
    return err;
}

static void host_path(char *p, size_t size, const char *rel)
{
    snprintf(p, size, "%s/%s", share, rel);
}

/* Opens of (rel) seen by inotify since the watch was added. */
static int watch(const char *rel)
{
    char p[160];
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

    host_path(p, sizeof(p), rel);
    if (fd >= 0 && inotify_add_watch(fd, p, IN_OPEN) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int opens_seen(int wfd)
{
    char buf[4096] __attribute__((aligned(8)));
    int n = 0;
    ssize_t len;

    while ((len = read(wfd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const void *)p;

            n += (ev->mask & IN_OPEN) != 0;
            p += sizeof(*ev) + ev->len;
        }
    }
    close(wfd);
    return n;
}

static void on_alarm(int sig)
{
    static const char msg[] = "not ok - a request blocked (alarm)\n";

    (void)sig;
    (void)!write(1, msg, sizeof(msg) - 1);
    _exit(1);
}

/* Every way to open (rel), an existing special file of type (type) made
 * with mode 0600, is refused before anything is opened (no inotify IN_OPEN
 * on it) and never blocks; SYNCFS of it works without opening it. */
static void refused_everywhere(const char *rel, mode_t type)
{
    static const uint32_t flags[] = {O_RDONLY, O_WRONLY, O_RDWR | O_TRUNC};
    uint64_t node, fh;
    struct stat st;
    char p[160];
    int w = watch(rel);

    CHECK(w >= 0);
    /* Before the fix, CREATE opened a device node and got a handle, and
     * open(O_RDONLY) of a FIFO waited for a writer forever. */
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        CHECK_EQ(create(rel, flags[i], 0644, &node, &fh), -EACCES);
    node = lookup(1, rel);
    CHECK(node != 0);
    CHECK_EQ(open_node(FUSE_OPEN, node, O_RDWR, &fh), -EACCES);
    CHECK_EQ(open_node(FUSE_OPENDIR, node, O_RDONLY, &fh), -ENOTDIR);
    CHECK_EQ(call(FUSE_SYNCFS, node, &(struct fuse_syncfs_in){0},
                  sizeof(struct fuse_syncfs_in), NULL, 0, NULL),
             0);
    CHECK_EQ(opens_seen(w), 0);
    host_path(p, sizeof(p), rel);
    CHECK(stat(p, &st) == 0 && (st.st_mode & S_IFMT) == type &&
          (st.st_mode & 07777) == 0600);
}

static void test_special_files(void)
{
    uint64_t node, fh;
    struct stat st;
    char p[160];

    alarm(20);
    if (geteuid() == 0) {
        /* 1:3 is the null device: harmless even if it were opened. */
        host_path(p, sizeof(p), "cdev");
        CHECK(mknod(p, S_IFCHR | 0600, makedev(1, 3)) == 0);
        refused_everywhere("cdev", S_IFCHR);
        CHECK(stat(p, &st) == 0 && st.st_rdev == makedev(1, 3));
    }
    host_path(p, sizeof(p), "fifo");
    CHECK(mkfifo(p, 0600) == 0);
    refused_everywhere("fifo", S_IFIFO);
    /* A directory is not a file to create either. */
    CHECK_EQ(create("d", O_RDONLY, 0644, &node, &fh), -EISDIR);
    alarm(0);
}

/* CREATE without O_EXCL of an existing regular file opens it as it is:
 * neither its owner nor its mode change (before the fix they became the
 * caller's and the CREATE mode). */
static void test_create_existing(void)
{
    uint64_t node, fh;
    struct stat st;
    char p[160];
    int fd;

    host_path(p, sizeof(p), "kept");
    fd = open(p, O_CREAT | O_WRONLY, 0640);
    CHECK(fd >= 0 && write(fd, "kept", 4) == 4);
    close(fd);
    chmod(p, 0640);
    if (geteuid() == 0)
        CHECK(chown(p, 1234, 1234) == 0);
    CHECK_EQ(create("kept", O_RDWR, 0666, &node, &fh), 0);
    CHECK(node == lookup(1, "kept"));
    CHECK(stat(p, &st) == 0 && st.st_size == 4);
    CHECK_EQ(st.st_mode & 07777, 0640);
    if (geteuid() == 0)
        CHECK(st.st_uid == 1234 && st.st_gid == 1234);
    CHECK_EQ(release(FUSE_RELEASE, node, fh), 0);
    CHECK_EQ(create("kept", O_RDWR | O_EXCL, 0666, &node, &fh), -EEXIST);
    CHECK_EQ(create("new", O_RDWR | O_EXCL, 0604, &node, &fh), 0);
    host_path(p, sizeof(p), "new");
    CHECK(stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
          (st.st_mode & 07777) == 0604);
    CHECK_EQ(release(FUSE_RELEASE, node, fh), 0);
}

/* A second RELEASE of a handle, or one of the wrong kind, is EBADF and
 * touches no other handle. */
static void test_double_release(void)
{
    uint64_t data = lookup(1, "data"), dir = lookup(1, "dir"), fh, fh2, dfh;
    struct fuse_read_in ri = {.size = 4};
    char buf[4];

    CHECK_EQ(open_node(FUSE_OPEN, data, O_RDONLY, &fh), 0);
    CHECK_EQ(open_node(FUSE_OPENDIR, dir, O_RDONLY, &dfh), 0);
    CHECK_EQ(release(FUSE_RELEASEDIR, data, fh), -EBADF);
    CHECK_EQ(release(FUSE_RELEASE, dir, dfh), -EBADF);
    CHECK_EQ(release(FUSE_RELEASE, data, fh), 0);
    CHECK_EQ(release(FUSE_RELEASE, data, fh), -EBADF);
    CHECK_EQ(release(FUSE_RELEASEDIR, dir, dfh), 0);
    CHECK_EQ(release(FUSE_RELEASEDIR, dir, dfh), -EBADF);
    CHECK_EQ(open_node(FUSE_OPEN, data, O_RDONLY, &fh2), 0);
    CHECK(fh2 != fh && fh2 != dfh);
    CHECK_EQ(release(FUSE_RELEASE, data, fh), -EBADF);
    ri.fh = fh2;
    CHECK_EQ(call(FUSE_READ, data, &ri, sizeof(ri), buf, sizeof(buf), NULL), 0);
    CHECK(!memcmp(buf, "AAAA", 4));
    CHECK_EQ(release(FUSE_RELEASE, data, fh2), 0);
}

/* Races: one thread opens and releases, one releases whatever is current
 * (double RELEASE), two read it; files and directories alike. */
struct race {
    uint32_t open_op, release_op;
    uint64_t node, other; /* other: opened meanwhile to reuse fd numbers */
    _Atomic uint64_t cur;
    _Atomic int stop;
    _Atomic unsigned int released, reads, bad;
};

static void *race_reader(void *arg)
{
    struct race *r = arg;
    static __thread uint8_t buf[DATA_LEN];

    while (!atomic_load(&r->stop)) {
        struct fuse_read_in ri = {.fh = atomic_load(&r->cur), .size = DATA_LEN};
        size_t got = 0;
        int err;

        if (r->open_op == FUSE_OPEN) {
            err = call(FUSE_READ, r->node, &ri, sizeof(ri), buf, sizeof(buf),
                       &got);
            if (err == 0) {
                atomic_fetch_add(&r->reads, 1);
                /* Only ever the data file's bytes, never another file's. */
                for (size_t i = 0; i < got; i++)
                    if (buf[i] != 'A') {
                        atomic_fetch_add(&r->bad, 1);
                        break;
                    }
                if (got != DATA_LEN)
                    atomic_fetch_add(&r->bad, 1);
            }
        } else {
            ri.size = 4096;
            err =
                call(FUSE_READDIRPLUS, r->node, &ri, sizeof(ri), NULL, 0, &got);
            if (err == 0)
                atomic_fetch_add(&r->reads, 1);
        }
        if (err != 0 && err != -EBADF)
            atomic_fetch_add(&r->bad, 1);
    }
    return NULL;
}

static void *race_releaser(void *arg)
{
    struct race *r = arg;

    while (!atomic_load(&r->stop)) {
        if (release(r->release_op, r->node, atomic_load(&r->cur)) == 0)
            atomic_fetch_add(&r->released, 1);
    }
    return NULL;
}

static void run_race(struct race *r, unsigned int rounds)
{
    pthread_t t[3];
    unsigned int opened = 0;

    CHECK(r->node != 0 && r->other != 0);
    pthread_create(&t[0], NULL, race_reader, r);
    pthread_create(&t[1], NULL, race_reader, r);
    pthread_create(&t[2], NULL, race_releaser, r);
    for (unsigned int i = 0; i < rounds; i++) {
        uint64_t fh, ofh;

        if (open_node(r->open_op, r->node, O_RDONLY, &fh) != 0)
            continue;
        opened++;
        atomic_store(&r->cur, fh);
        /* Let a read start on it (or a while pass), then release. */
        for (unsigned int seen = atomic_load(&r->reads), n = 0;
             atomic_load(&r->reads) == seen && n < 50; n++)
            sched_yield();
        if (release(r->release_op, r->node, fh) == 0)
            atomic_fetch_add(&r->released, 1);
        /* Likely to get the fd number just closed. */
        if (open_node(r->open_op, r->other, O_RDONLY, &ofh) == 0)
            release(r->release_op, r->other, ofh);
    }
    atomic_store(&r->stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    t_diag("%u opens, %u reads", opened, atomic_load(&r->reads));
    CHECK_EQ(opened, rounds);
    CHECK_EQ(atomic_load(&r->released), opened); /* each exactly once */
    CHECK_EQ(atomic_load(&r->bad), 0);
}

static void test_release_races(void)
{
    struct race f = {.open_op = FUSE_OPEN,
                     .release_op = FUSE_RELEASE,
                     .node = lookup(1, "data"),
                     .other = lookup(1, "other")};
    struct race d = {.open_op = FUSE_OPENDIR,
                     .release_op = FUSE_RELEASEDIR,
                     .node = lookup(1, "dir"),
                     .other = lookup(1, "d")};

    run_race(&f, 1000);
    run_race(&d, 500);
}

/* Host fds of the data file open in this process. */
static int data_fds(void)
{
    char want[160], p[64], target[160];
    int n = 0;

    host_path(want, sizeof(want), "data");
    for (int fd = 0; fd < 4096; fd++) {
        ssize_t len;

        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        len = readlink(p, target, sizeof(target) - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        n += !strcmp(target, want);
    }
    return n;
}

struct inflight {
    uint64_t node, fh;
    _Atomic int stop;
    _Atomic unsigned int reads;
};

static void *inflight_reader(void *arg)
{
    struct inflight *f = arg;
    static __thread uint8_t buf[DATA_LEN];

    while (!atomic_load(&f->stop)) {
        struct fuse_read_in ri = {.fh = f->fh, .size = DATA_LEN};

        if (call(FUSE_READ, f->node, &ri, sizeof(ri), buf, sizeof(buf), NULL) ==
            0)
            atomic_fetch_add(&f->reads, 1);
    }
    return NULL;
}

/* DESTROY with READs in flight on three other threads: when its reply
 * comes, no fd of the old session is open any more (it waited for the
 * requests using them), and nothing was used after being freed. */
static void test_destroy_inflight(void)
{
    unsigned int left = 0, reads = 0;

    for (int round = 0; round < 40; round++) {
        struct inflight f = {0};
        pthread_t t[3];

        init();
        f.node = lookup(1, "data");
        CHECK(open_node(FUSE_OPEN, f.node, O_RDONLY, &f.fh) == 0);
        for (int i = 0; i < 3; i++)
            pthread_create(&t[i], NULL, inflight_reader, &f);
        while (atomic_load(&f.reads) < 5)
            sched_yield();
        CHECK_EQ(call(FUSE_DESTROY, 0, NULL, 0, NULL, 0, NULL), 0);
        /* Later requests get EIO (no INIT): only what was in flight
         * before the reply could hold an fd. */
        atomic_store(&f.stop, 1);
        left += (unsigned int)data_fds();
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
        reads += atomic_load(&f.reads);
    }
    t_diag("%u reads around 40 DESTROYs", reads);
    CHECK_EQ(left, 0);
    init();
}

/* 5000 OPENs without RELEASE under RLIMIT_NOFILE 1024: the guest gets
 * EMFILE beyond the handle budget (1024 / 4), the VMM can still open
 * files, and a RELEASE makes room again. */
static void test_handle_budget(void)
{
    static uint64_t fhs[5000];
    struct rlimit old, rl;
    struct fs_backend b2;
    struct fuse_server *s1 = srv;
    unsigned int ok = 0, emfile = 0, other = 0, vmm = 0;
    uint64_t data, dir, fh;
    int fds[100];

    getrlimit(RLIMIT_NOFILE, &old);
    rl = old;
    rl.rlim_cur = 1024;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(passthrough_create(&(struct passthrough_config){.root = share},
                             &b2) == 0);
    CHECK(fuse_server_create(
              &(struct fuse_server_config){.backend = b2, .workers = 4},
              &srv) == 0);
    init();
    data = lookup(1, "data");
    dir = lookup(1, "dir");
    for (int i = 0; i < 5000; i++) {
        int err = open_node(i & 1 ? FUSE_OPENDIR : FUSE_OPEN,
                            i & 1 ? dir : data, O_RDONLY, &fhs[ok]);

        if (err == 0)
            ok++;
        else if (err == -EMFILE)
            emfile++;
        else
            other++;
    }
    t_diag("5000 opens: %u handles, %u EMFILE, %u other errors", ok, emfile,
           other);
    CHECK_EQ(ok, 256);
    CHECK_EQ(emfile, 5000 - 256);
    for (int i = 0; i < 100; i++) {
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        vmm += fds[i] >= 0;
    }
    CHECK_EQ(vmm, 100); /* the VMM keeps its reserve */
    for (int i = 0; i < 100; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    CHECK_EQ(release(FUSE_RELEASE, data, fhs[0]), 0);
    CHECK_EQ(open_node(FUSE_OPEN, data, O_RDONLY, &fh), 0);
    CHECK_EQ(open_node(FUSE_OPEN, data, O_RDONLY, &fhs[0]), -EMFILE);
    fhs[0] = fh;
    for (unsigned int i = 0; i < ok; i++)
        release(i & 1 ? FUSE_RELEASEDIR : FUSE_RELEASE, i & 1 ? dir : data,
                fhs[i]);
    CHECK_EQ(open_node(FUSE_OPEN, data, O_RDONLY, &fh), 0);
    fuse_server_destroy(srv);
    passthrough_free(&b2);
    srv = s1;
    setrlimit(RLIMIT_NOFILE, &old);
}

/* A host file (rel) of DATA_LEN bytes (c). */
static void fill(const char *rel, char c)
{
    static char buf[DATA_LEN];
    char p[160];
    int fd;

    memset(buf, c, sizeof(buf));
    host_path(p, sizeof(p), rel);
    fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
        t_skip_all("cannot write %s", p);
    close(fd);
}

static void setup(void)
{
    char p[160];

    snprintf(base, sizeof(base), "/tmp/ckrun-fuse-fh-XXXXXX");
    if (!mkdtemp(base))
        t_skip_all("mkdtemp: %s", strerror(errno));
    snprintf(share, sizeof(share), "%s/share", base);
    mkdir(share, 0755);
    fill("data", 'A');
    fill("other", 'B');
    host_path(p, sizeof(p), "d");
    mkdir(p, 0755);
    host_path(p, sizeof(p), "dir");
    mkdir(p, 0755);
    for (int i = 0; i < 40; i++) {
        snprintf(p, sizeof(p), "%s/dir/entry-%02d", share, i);
        close(open(p, O_CREAT | O_WRONLY, 0644));
    }
}

/* "test_fuse_handles NAME" runs only the tests whose names contain NAME. */
#define RUN_IF(fn)                                                             \
    do {                                                                       \
        if (argc < 2 || strstr(#fn, argv[1]))                                  \
            RUN(fn);                                                           \
    } while (0)

int main(int argc, char **argv)
{
    char cmd[160];

    signal(SIGALRM, on_alarm);
    setup();
    if (passthrough_create(&(struct passthrough_config){.root = share}, &be) <
        0)
        t_skip_all("passthrough_create failed");
    if (fuse_server_create(
            &(struct fuse_server_config){.backend = be, .workers = 4}, &srv) <
        0)
        t_skip_all("fuse_server_create failed");
    init();
    RUN_IF(test_special_files);
    RUN_IF(test_create_existing);
    RUN_IF(test_double_release);
    RUN_IF(test_release_races);
    RUN_IF(test_destroy_inflight);
    RUN_IF(test_handle_budget);
    fuse_server_destroy(srv);
    passthrough_free(&be);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        t_diag("cleanup failed");
    return t_done();
}
