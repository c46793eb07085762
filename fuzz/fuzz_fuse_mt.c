/*
 * fuzz_fuse_mt.c: sequences of raw FUSE requests spread over 4 threads
 * calling the wire server at once, over a fresh passthrough backend per
 * input (so node ids and handles start at the same numbers every time and
 * RELEASE / FORGET / DESTROY meet requests on other threads using the same
 * handles and inodes).  The input is a sequence of records: one byte whose
 * low 2 bits pick the thread, then a request as long as its header's len
 * says (bounded by what is left).  After an INIT, the 4 threads send their
 * requests concurrently; a DESTROY ends the input.
 *
 * The scratch share (a file, a directory, a symlink, a FIFO and, as root,
 * a 1:3 null-device node) lives on a private 64 MiB tmpfs when the process
 * may mount one (a mount namespace of its own, in a user namespace of its
 * own when not root; detached at once, so nothing shows or stays on the
 * host); elsewhere on a plain directory, with
 * FALLOCATE requests dropped and RLIMIT_FSIZE at 64 MiB so that no input can
 * fill the host's disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fuse/passthrough.h"
#include "fuse/server.h"

#define THREADS  4
#define MAX_REQS 256 /* per thread and input */

struct slice {
    const uint8_t *req[MAX_REQS];
    size_t len[MAX_REQS];
    unsigned int n;
};

static char dir[] = "/tmp/ckrun-fuzz-fuse-mt-XXXXXX";
static char root[40]; /* what the backend is given */
static bool on_tmpfs;
static struct fuse_server *srv;
static struct slice slices[THREADS];
static pthread_barrier_t start, done;

static void make_tree(void)
{
    char p[96];
    FILE *f;

    snprintf(p, sizeof(p), "%s/file", dir);
    f = fopen(p, "w");
    if (f) {
        fputs("some data\n", f);
        fclose(f);
    }
    snprintf(p, sizeof(p), "%s/sub", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/sub/inner", dir);
    close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    snprintf(p, sizeof(p), "%s/link", dir);
    (void)!symlink("/etc/passwd", p);
    snprintf(p, sizeof(p), "%s/fifo", dir);
    mkfifo(p, 0666);
    if (geteuid() == 0) {
        snprintf(p, sizeof(p), "%s/null", dir);
        mknod(p, S_IFCHR | 0666, makedev(1, 3));
    }
}

/* Reply buffers, one per thread. */
static uint8_t outs[THREADS][1 << 20];

static void send_one(int t, const uint8_t *d, size_t len)
{
    uint8_t *out = outs[t];
    size_t cut = len ? d[0] % (len + 1) : 0;
    struct iovec in[2] = {{(void *)(uintptr_t)d, cut},
                          {(void *)(uintptr_t)(d + cut), len - cut}};
    struct iovec ov[2] = {{out, 100}, {out + 100, sizeof(outs[t]) - 100}};
    struct fuse_in_header h;

    if (len >= sizeof(h)) {
        memcpy(&h, d, sizeof(h));
        /* A lock wait for a lock nobody releases would hang the input. */
        if (h.opcode == FUSE_SETLKW ||
            (!on_tmpfs && h.opcode == FUSE_FALLOCATE))
            return;
    }
    fuse_server_handle(srv, in, 2, ov, 2);
}

static void run_slice(int t)
{
    const struct slice *s = &slices[t];

    for (unsigned int i = 0; i < s->n; i++)
        send_one(t, s->req[i], s->len[i]);
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;

    for (;;) {
        pthread_barrier_wait(&start);
        run_slice(t);
        pthread_barrier_wait(&done);
    }
    return NULL;
}

static int write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : write(fd, s, strlen(s));

    if (fd >= 0)
        close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Not root: a user namespace of our own (root in it, mapped to our ids)
 * with a mount namespace, where the tmpfs can be mounted.  Before any
 * thread exists (CLONE_NEWUSER needs a single-threaded process). */
static int own_userns(void)
{
    char map[32];
    uid_t uid = geteuid();
    gid_t gid = getegid();

    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
        return -1;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
    if (write_file("/proc/self/uid_map", map) < 0)
        return -1;
    (void)write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
    return write_file("/proc/self/gid_map", map);
}

static int setup(void)
{
    struct rlimit fsize = {64 << 20, 64 << 20};
    pthread_t t;

    if (!mkdtemp(dir))
        return -1;
    /* A private mount namespace first: the tmpfs must not propagate. */
    on_tmpfs = (unshare(CLONE_NEWNS) == 0 || own_userns() == 0) &&
               mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
               mount("fuzz", dir, "tmpfs", MS_NOSUID,
                     "size=64m,nr_inodes=8192,mode=0755") == 0;
    if (!on_tmpfs) {
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &fsize);
    }
    make_tree();
    /* The tmpfs leaves the host's /tmp at once: detached and its mount
     * point removed, it lives on through this fd for the process's life. */
    snprintf(root, sizeof(root), "%s", dir);
    if (on_tmpfs) {
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0 && umount2(dir, MNT_DETACH) == 0 && rmdir(dir) == 0)
            snprintf(root, sizeof(root), "/proc/self/fd/%d", fd);
    }
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_barrier_init(&done, NULL, THREADS);
    for (int i = 1; i < THREADS; i++) {
        if (pthread_create(&t, NULL, worker, (void *)(intptr_t)i) != 0)
            return -1;
        pthread_detach(t);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct fs_backend be;
    struct {
        struct fuse_in_header h;
        struct fuse_init_in i;
    } init = {{.len = sizeof(init), .opcode = FUSE_INIT},
              {.major = 7, .minor = 38, .flags = 0xffffffff}};
    struct fuse_in_header destroy = {.len = sizeof(destroy),
                                     .opcode = FUSE_DESTROY};
    struct fuse_exit_code ec;

    if (!ready)
        ready = setup() == 0 ? 1 : -1;
    if (ready < 0 ||
        passthrough_create(&(struct passthrough_config){.root = root}, &be) < 0)
        return 0;
    if (fuse_server_create(&(struct fuse_server_config){.backend = be,
                                                        .workers = THREADS,
                                                        .exit_code = &ec},
                           &srv) < 0) {
        passthrough_free(&be);
        return 0;
    }
    for (int i = 0; i < THREADS; i++)
        slices[i].n = 0;
    while (size > sizeof(struct fuse_in_header)) {
        struct slice *s = &slices[data[0] % THREADS];
        uint32_t len;
        size_t n;

        data++;
        size--;
        memcpy(&len, data, sizeof(len));
        n = len < sizeof(struct fuse_in_header) || len > size ? size : len;
        if (s->n < MAX_REQS) {
            s->req[s->n] = data;
            s->len[s->n++] = n;
        }
        data += n;
        size -= n;
    }
    send_one(0, (const uint8_t *)&init, sizeof(init));
    pthread_barrier_wait(&start);
    run_slice(0);
    pthread_barrier_wait(&done);
    send_one(0, (const uint8_t *)&destroy, sizeof(destroy));
    fuse_server_destroy(srv);
    srv = NULL;
    passthrough_free(&be);
    return 0;
}
