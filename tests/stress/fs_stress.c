/*
 * fs_stress.c: concurrent stress of the FUSE server and the passthrough
 * backend on a scratch directory, meant for the ThreadSanitizer build
 * (make check-tsan: short; make stress: long).  Prints TAP.
 *
 * Part 1, direct: STRESS_THREADS threads (4) call fuse_server_handle() at
 * once for STRESS_SECONDS (3), each sending a random mix of LOOKUP, CREATE,
 * MKDIR, OPEN, READ, WRITE, SETATTR (size), GETATTR, OPENDIR + READDIRPLUS +
 * RELEASEDIR, RENAME, UNLINK, RMDIR, RELEASE, FORGET and BATCH_FORGET over
 * the same 16 names, so that every inode is shared: one thread forgets its
 * references while another looks the same name up again, renames and
 * unlinks race with I/O through other handles, and the inode fd budget (8)
 * forces evictions and reopens.  Each thread keeps the guest's rules the way
 * a kernel does: it forgets only the references it got, and releases a
 * handle only when no request of its own uses it.  STRESS_HOSTILE=1 drops
 * those rules (handles shared and released under other threads' I/O,
 * double RELEASE, FORGET of more than was looked up): what a hostile guest
 * may send.
 *
 * Part 2, the device: the same server behind the virtio-fs device (its loop
 * thread and 4 workers, the vqpool), driven through the fake driver with
 * batches of requests on the request queue and FORGETs on hiprio.
 *
 * Every reply must be well formed (header length = bytes returned, unique
 * echoed, error 0 or a negative errno); at the end every reference is
 * forgotten and every handle released, and the backend holds no more inode
 * fds than before the run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "fake_driver.h"
#include "fuse/passthrough.h"
#include "fuse/server.h"
#include "t.h"
#include "util.h"
#include "virtio/fs.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define NAMES      16
#define MAX_REFS   64 /* distinct inodes a thread tracks */
#define MAX_FH     8  /* handles a thread holds */
#define SHARED_FH  32 /* hostile mode: the shared handle table */
#define IO_MAX     16384
#define OUT_MAX    (IO_MAX + 4096)
#define MAX_THREAD 16

static unsigned int nthreads = 4, seconds = 3;
static bool hostile;
static struct fuse_server *srv;
static struct fs_backend be;
static char scratch[] = "/tmp/ckrun-stress-XXXXXX";
static uint64_t unique_seq;

static unsigned int env_uint(const char *name, unsigned int def,
                             unsigned int max)
{
    const char *s = getenv(name);
    char *end;
    unsigned long v;

    if (!s || !*s)
        return def;
    v = strtoul(s, &end, 10);
    if (*end || v == 0 || v > max) {
        fprintf(stderr, "fs_stress: bad %s=%s (1..%u)\n", name, s, max);
        exit(2);
    }
    return (unsigned int)v;
}

/* ---- one request -------------------------------------------------------- */

struct ref {
    uint64_t ino, n; /* references this thread holds on ino */
};

struct fh {
    uint64_t fh, ino;
    bool dir;
};

struct worker {
    pthread_t tid;
    unsigned int seed;
    uint8_t in[OUT_MAX];
    uint8_t out[OUT_MAX];
    uint8_t data[IO_MAX];
    struct ref refs[MAX_REFS];
    struct fh fhs[MAX_FH];
    unsigned int nfh;
    uint64_t requests, bad_replies, errors;
};

/* Hostile mode: handles any thread may use or release. */
static struct {
    pthread_mutex_t lock;
    struct fh fh[SHARED_FH];
} shared = {.lock = PTHREAD_MUTEX_INITIALIZER};

/*
 * Send (opcode) on (nodeid) with body (a, alen) and an optional second part
 * (b, blen: a name or data) through fuse_server_handle.  Returns the reply's
 * error (0 or -errno) and points (*body) at what follows the header; a
 * malformed reply counts as bad and returns -EBADMSG.  FORGET-like opcodes
 * expect no reply and return 0.
 */
static int call(struct worker *w, uint32_t opcode, uint64_t nodeid,
                const void *a, size_t alen, const void *b, size_t blen,
                const void **body, size_t *bodylen)
{
    struct fuse_in_header h = {
        .len = (uint32_t)(sizeof(h) + alen + blen),
        .opcode = opcode,
        .unique = __atomic_add_fetch(&unique_seq, 1, __ATOMIC_RELAXED),
        .nodeid = nodeid,
    };
    struct iovec in = {w->in, h.len};
    struct iovec out = {w->out, sizeof(w->out)};
    bool noreply = opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET;
    struct fuse_out_header o;
    size_t n;

    memcpy(w->in, &h, sizeof(h));
    if (alen)
        memcpy(w->in + sizeof(h), a, alen);
    if (blen)
        memcpy(w->in + sizeof(h) + alen, b, blen);
    n = fuse_server_handle(srv, &in, 1, &out, 1);

    w->requests++;
    if (noreply) {
        if (n != 0)
            w->bad_replies++;
        return 0;
    }
    memcpy(&o, w->out, sizeof(o));
    if (n < sizeof(o) || o.len != n || o.unique != h.unique || o.error > 0 ||
        o.error < -4095 || (o.error && n != sizeof(o))) {
        w->bad_replies++;
        return -EBADMSG;
    }
    if (body)
        *body = w->out + sizeof(o);
    if (bodylen)
        *bodylen = n - sizeof(o);
    if (o.error)
        w->errors++;
    return o.error;
}

static void add_ref(struct worker *w, uint64_t ino)
{
    struct ref *free_slot = NULL;

    if (ino == 0 || ino == FUSE_ROOT_ID)
        return;
    for (unsigned int i = 0; i < MAX_REFS; i++) {
        if (w->refs[i].ino == ino) {
            w->refs[i].n++;
            return;
        }
        if (!w->refs[i].ino && !free_slot)
            free_slot = &w->refs[i];
    }
    if (free_slot) {
        free_slot->ino = ino;
        free_slot->n = 1;
        return;
    }
    /* Table full: give the reference back at once. */
    struct fuse_forget_in f = {.nlookup = 1};
    call(w, FUSE_FORGET, ino, &f, sizeof(f), NULL, 0, NULL, NULL);
}

/* A random inode this thread holds a reference on, or the root. */
static uint64_t some_ino(struct worker *w)
{
    unsigned int i = (unsigned int)rand_r(&w->seed) % MAX_REFS;

    return w->refs[i].ino ? w->refs[i].ino : FUSE_ROOT_ID;
}

static void name_of(struct worker *w, char *buf, bool dir)
{
    snprintf(buf, 16, "%s%u", dir ? "d" : "f",
             (unsigned int)rand_r(&w->seed) % NAMES);
}

static void keep_fh(struct worker *w, uint64_t fh, uint64_t ino, bool dir)
{
    struct fh f = {fh, ino, dir};

    if (hostile) {
        pthread_mutex_lock(&shared.lock);
        shared.fh[(unsigned int)rand_r(&w->seed) % SHARED_FH] = f;
        pthread_mutex_unlock(&shared.lock);
        return;
    }
    if (w->nfh < MAX_FH) {
        w->fhs[w->nfh++] = f;
        return;
    }
    struct fuse_release_in r = {.fh = fh};
    call(w, dir ? FUSE_RELEASEDIR : FUSE_RELEASE, ino, &r, sizeof(r), NULL, 0,
         NULL, NULL);
}

/* A handle to use; (take): remove it from the table (to release it). */
static bool pick_fh(struct worker *w, bool take, struct fh *out)
{
    if (hostile) {
        unsigned int i = (unsigned int)rand_r(&w->seed) % SHARED_FH;

        pthread_mutex_lock(&shared.lock);
        *out = shared.fh[i];
        /* Hostile: often leave it for others, to release it twice. */
        if (take && rand_r(&w->seed) % 2)
            memset(&shared.fh[i], 0, sizeof(shared.fh[i]));
        pthread_mutex_unlock(&shared.lock);
        return out->ino != 0;
    }
    if (w->nfh == 0)
        return false;
    unsigned int i = (unsigned int)rand_r(&w->seed) % w->nfh;
    *out = w->fhs[i];
    if (take)
        w->fhs[i] = w->fhs[--w->nfh];
    return true;
}

/* ---- the operations ----------------------------------------------------- */

static void op_lookup(struct worker *w)
{
    char name[16];
    const void *b;

    name_of(w, name, rand_r(&w->seed) % 4 == 0);
    if (call(w, FUSE_LOOKUP, FUSE_ROOT_ID, name, strlen(name) + 1, NULL, 0, &b,
             NULL) == 0)
        add_ref(w, ((const struct fuse_entry_out *)b)->nodeid);
}

static void op_create(struct worker *w)
{
    struct fuse_create_in c = {
        .flags = O_RDWR | O_CREAT,
        .mode = S_IFREG | 0644,
    };
    char name[16];
    const void *b;

    name_of(w, name, false);
    if (call(w, FUSE_CREATE, FUSE_ROOT_ID, &c, sizeof(c), name,
             strlen(name) + 1, &b, NULL) == 0) {
        const struct fuse_entry_out *e = b;
        const struct fuse_open_out *o = (const void *)(e + 1);

        add_ref(w, e->nodeid);
        keep_fh(w, o->fh, e->nodeid, false);
    }
}

static void op_mkdir(struct worker *w)
{
    struct fuse_mkdir_in m = {.mode = 0755};
    char name[16];
    const void *b;

    name_of(w, name, true);
    if (call(w, FUSE_MKDIR, FUSE_ROOT_ID, &m, sizeof(m), name, strlen(name) + 1,
             &b, NULL) == 0)
        add_ref(w, ((const struct fuse_entry_out *)b)->nodeid);
}

static void op_open(struct worker *w)
{
    struct fuse_open_in o = {.flags = O_RDWR};
    uint64_t ino = some_ino(w);
    bool dir = ino == FUSE_ROOT_ID;
    const void *b;

    if (dir)
        o.flags = O_RDONLY | O_DIRECTORY;
    if (call(w, dir ? FUSE_OPENDIR : FUSE_OPEN, ino, &o, sizeof(o), NULL, 0, &b,
             NULL) == 0)
        keep_fh(w, ((const struct fuse_open_out *)b)->fh, ino, dir);
}

/* READDIRPLUS takes a reference on every entry but "." and "..". */
static void count_plus(struct worker *w, const uint8_t *p, size_t len)
{
    while (len >= sizeof(struct fuse_direntplus)) {
        const struct fuse_direntplus *d = (const void *)p;
        size_t sz = FUSE_DIRENTPLUS_SIZE(d);

        if (sz > len)
            break;
        add_ref(w, d->entry_out.nodeid);
        p += sz;
        len -= sz;
    }
}

static void op_io(struct worker *w)
{
    struct fh f;
    const void *b;
    size_t n;

    if (!pick_fh(w, false, &f))
        return;
    if (f.dir) {
        struct fuse_read_in r = {.fh = f.fh, .size = IO_MAX};

        if (call(w, FUSE_READDIRPLUS, f.ino, &r, sizeof(r), NULL, 0, &b, &n) ==
            0)
            count_plus(w, b, n);
        return;
    }
    uint32_t size = 1 + (unsigned int)rand_r(&w->seed) % IO_MAX;
    uint64_t off = (unsigned int)rand_r(&w->seed) % (4 * IO_MAX);
    if (rand_r(&w->seed) % 2) {
        struct fuse_write_in wr = {.fh = f.fh, .offset = off, .size = size};

        memset(w->data, (int)(off & 0xff), size);
        call(w, FUSE_WRITE, f.ino, &wr, sizeof(wr), w->data, size, NULL, NULL);
    } else {
        struct fuse_read_in r = {.fh = f.fh, .offset = off, .size = size};

        call(w, FUSE_READ, f.ino, &r, sizeof(r), NULL, 0, NULL, NULL);
    }
}

static void op_release(struct worker *w)
{
    struct fh f;
    struct fuse_release_in r;

    if (!pick_fh(w, true, &f))
        return;
    r = (struct fuse_release_in){.fh = f.fh};
    call(w, f.dir ? FUSE_RELEASEDIR : FUSE_RELEASE, f.ino, &r, sizeof(r), NULL,
         0, NULL, NULL);
}

static void op_attr(struct worker *w)
{
    uint64_t ino = some_ino(w);

    if (rand_r(&w->seed) % 3) {
        struct fuse_getattr_in g = {0};

        call(w, FUSE_GETATTR, ino, &g, sizeof(g), NULL, 0, NULL, NULL);
    } else {
        struct fuse_setattr_in s = {
            .valid = FATTR_SIZE,
            .size = (unsigned int)rand_r(&w->seed) % (2 * IO_MAX),
        };

        call(w, FUSE_SETATTR, ino, &s, sizeof(s), NULL, 0, NULL, NULL);
    }
}

static void op_namespace(struct worker *w)
{
    char a[16], b2[32];
    unsigned int k = (unsigned int)rand_r(&w->seed) % 3;

    name_of(w, a, k == 2);
    if (k == 0) {
        struct fuse_rename2_in r = {.newdir = FUSE_ROOT_ID};
        size_t la = strlen(a) + 1;

        name_of(w, b2 + la, false);
        memcpy(b2, a, la);
        call(w, FUSE_RENAME2, FUSE_ROOT_ID, &r, sizeof(r), b2,
             la + strlen(b2 + la) + 1, NULL, NULL);
    } else {
        call(w, k == 1 ? FUSE_UNLINK : FUSE_RMDIR, FUSE_ROOT_ID, a,
             strlen(a) + 1, NULL, 0, NULL, NULL);
    }
}

static void op_forget(struct worker *w)
{
    unsigned int i = (unsigned int)rand_r(&w->seed) % MAX_REFS;
    struct ref *r = &w->refs[i];

    if (hostile && rand_r(&w->seed) % 4 == 0) {
        struct fuse_forget_in f = {.nlookup = 1000};

        call(w, FUSE_FORGET, 2 + (unsigned int)rand_r(&w->seed) % 64, &f,
             sizeof(f), NULL, 0, NULL, NULL);
        return;
    }
    if (!r->ino)
        return;
    if (rand_r(&w->seed) % 2) {
        struct fuse_forget_in f = {.nlookup = r->n};

        call(w, FUSE_FORGET, r->ino, &f, sizeof(f), NULL, 0, NULL, NULL);
    } else {
        struct {
            struct fuse_batch_forget_in h;
            struct fuse_forget_one one;
        } bf = {{.count = 1}, {.nodeid = r->ino, .nlookup = r->n}};

        call(w, FUSE_BATCH_FORGET, 0, &bf, sizeof(bf), NULL, 0, NULL, NULL);
    }
    memset(r, 0, sizeof(*r));
}

static void (*const ops[])(struct worker *) = {
    op_lookup, op_lookup, op_create, op_mkdir,   op_open,   op_io,
    op_io,     op_io,     op_attr,   op_release, op_forget, op_namespace,
};

/* Give back everything this thread holds (what the kernel does at umount). */
static void drop_all(struct worker *w)
{
    struct fh f;

    while (!hostile && pick_fh(w, true, &f)) {
        struct fuse_release_in r = {.fh = f.fh};

        call(w, f.dir ? FUSE_RELEASEDIR : FUSE_RELEASE, f.ino, &r, sizeof(r),
             NULL, 0, NULL, NULL);
    }
    for (unsigned int i = 0; i < MAX_REFS; i++) {
        struct fuse_forget_in fg = {.nlookup = w->refs[i].n};

        if (w->refs[i].ino)
            call(w, FUSE_FORGET, w->refs[i].ino, &fg, sizeof(fg), NULL, 0, NULL,
                 NULL);
        memset(&w->refs[i], 0, sizeof(w->refs[i]));
    }
}

static struct timespec deadline;

static bool time_left(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec < deadline.tv_sec ||
           (now.tv_sec == deadline.tv_sec && now.tv_nsec < deadline.tv_nsec);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    while (time_left())
        for (unsigned int i = 0; i < 64; i++)
            ops[(unsigned int)rand_r(&w->seed) % ARRAY_SIZE(ops)](w);
    drop_all(w);
    return NULL;
}

static int init_server(struct worker *w)
{
    struct fuse_init_in in = {
        .major = FUSE_KERNEL_VERSION,
        .minor = FUSE_KERNEL_MINOR_VERSION,
        .max_readahead = 1 << 20,
        .flags = FUSE_DO_READDIRPLUS | FUSE_INIT_EXT,
    };

    return call(w, FUSE_INIT, 0, &in, sizeof(in), NULL, 0, NULL, NULL);
}

static unsigned int open_fds(void)
{
    unsigned int fds, peak;
    uint64_t reopens;

    passthrough_stats(&be, &fds, &peak, &reopens);
    return fds;
}

static void part_direct(void)
{
    static struct worker ws[MAX_THREAD];
    uint64_t requests = 0, bad = 0, errors = 0;
    unsigned int fds_before;

    CHECK_EQ(init_server(&ws[0]), 0);
    fds_before = open_fds();
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += seconds;
    for (unsigned int i = 0; i < nthreads; i++) {
        ws[i].seed = 1234567u * (i + 1);
        CHECK_EQ(pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]), 0);
    }
    for (unsigned int i = 0; i < nthreads; i++) {
        pthread_join(ws[i].tid, NULL);
        requests += ws[i].requests;
        bad += ws[i].bad_replies;
        errors += ws[i].errors;
    }
    t_diag("direct: %u threads, %llu requests (%llu error replies) in %u s%s",
           nthreads, (unsigned long long)requests, (unsigned long long)errors,
           seconds, hostile ? ", hostile" : "");
    CHECK(requests > 1000);
    CHECK_EQ(bad, 0);
    if (!hostile) /* everything forgotten: back to what it was */
        CHECK(open_fds() <= fds_before);
}

int main(void)
{
    struct passthrough_config pc = {.fd_budget = 8};
    struct fuse_server_config sc;

    nthreads = env_uint("STRESS_THREADS", 4, MAX_THREAD);
    seconds = env_uint("STRESS_SECONDS", 3, 86400);
    hostile =
        getenv("STRESS_HOSTILE") && !strcmp(getenv("STRESS_HOSTILE"), "1");
    if (!mkdtemp(scratch)) {
        perror("fs_stress: mkdtemp");
        return 1;
    }
    pc.root = scratch;
    CHECK_EQ(passthrough_create(&pc, &be), 0);
    sc = (struct fuse_server_config){.backend = be, .workers = nthreads};
    CHECK_EQ(fuse_server_create(&sc, &srv), 0);
    part_direct();
    fuse_server_destroy(srv);
    passthrough_free(&be);
    {
        char cmd[64];

        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", scratch);
        if (system(cmd) != 0)
            t_diag("could not remove %s", scratch);
    }
    return t_done();
}
