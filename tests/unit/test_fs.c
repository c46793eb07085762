/*
 * test_fs.c: the virtio-fs device on fake guest memory, with its real loop
 * and worker threads, over a test backend whose GETATTR blocks until the test
 * opens a gate.  The driver side is tests/lib/fake_driver: queue 0 is hiprio,
 * queue 1 the request queue (virtio 1.2 §5.11.2).
 *
 * The case here is starvation: when every job is busy the loop leaves
 * requests on a ring, and a finishing worker must re-kick every queue that
 * was left, not only its own.
 */
#include <errno.h>
#include <poll.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "fake_driver.h"
#include "t.h"
#include "virtio/fs.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define RAM_SIZE   0x400000ULL /* 4 MiB at guest 0 */
#define QSIZE      128         /* the device's QueueNumMax */
#define REQ_BASE   0x100000ULL /* request i: in at +i*PAGE, out at +0x800 */
#define PAGE       0x1000ULL
#define JOBS       32 /* FS_JOBS in src/virtio/fs.c */
#define WORKERS    16 /* FS_MAX_WORKERS */
#define HIPRIO_INO 2  /* GETATTR of ino 2 blocks on gate 0, ino 3 on gate 1 */
#define REQ_INO    3
#define S_ALL                                                                  \
    (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |                    \
     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)

/* ---- the slow backend --------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned int inside; /* GETATTRs blocked in the backend now */
    bool open[2];        /* gate per ino: HIPRIO_INO, REQ_INO */
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0}};

static int slow_getattr(void *fs, const struct fs_req *r, uint64_t ino,
                        bool has_fh, uint64_t fh, struct stat *st,
                        uint64_t *timeout)
{
    unsigned int g = ino == HIPRIO_INO ? 0 : 1;

    pthread_mutex_lock(&gate.lock);
    gate.inside++;
    pthread_cond_broadcast(&gate.changed);
    while (!gate.open[g])
        pthread_cond_wait(&gate.changed, &gate.lock);
    gate.inside--;
    pthread_mutex_unlock(&gate.lock);
    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    st->st_mode = S_IFREG | 0644;
    st->st_nlink = 1;
    *timeout = 1;
    return 0;
}

static const struct fs_ops slow_ops = {.getattr = slow_getattr};

static void gate_open(unsigned int g)
{
    pthread_mutex_lock(&gate.lock);
    gate.open[g] = true;
    pthread_cond_broadcast(&gate.changed);
    pthread_mutex_unlock(&gate.lock);
}

/* Wait up to 5 s until (n) GETATTRs are blocked in the backend. */
static bool wait_inside(unsigned int n)
{
    struct timespec dl;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&gate.lock);
    while (gate.inside != n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&gate.changed, &gate.lock, &dl);
    n = gate.inside == n;
    pthread_mutex_unlock(&gate.lock);
    return n;
}

/* ---- the driver side ---------------------------------------------------- */

static struct fake_mem mem;
static struct fake_vq fq[2];
static struct virtio_dev *dev;
static int irqfd;
static unsigned int nreq; /* requests laid out so far (buffer slots) */

static void setup(void)
{
    struct fs_dev_config cfg = {
        .tag = "t",
        .backend = {.ops = &slow_ops, .fs = NULL},
        .workers = WORKERS,
    };

    fake_mem_init(&mem, 0, RAM_SIZE);
    CHECK_EQ(fs_create(&mem.gm, &cfg, &dev), 0);
    irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK_EQ(mmio_setup(dev, 0xd0000000, 5, irqfd), 0);
    /* What vm_add_virtio does besides KVM: kicks are served on the fs loop. */
    for (unsigned int q = 0; q < 2; q++)
        CHECK_EQ(evloop_add(fs_loop(dev), &dev->vqs[q].kick, EPOLLIN), 0);
    CHECK_EQ(fs_start(dev), 0);
    CHECK_EQ(fake_mmio_negotiate(dev, 1ULL << VIRTIO_F_VERSION_1),
             S_ALL & ~VIRTIO_CONFIG_S_DRIVER_OK);
    for (unsigned int q = 0; q < 2; q++) {
        fake_vq_init(&fq[q], &mem, QSIZE, 0x10000 * (q + 1));
        fake_mmio_setup_queue(dev, q, &fq[q]);
    }
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, S_ALL);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_STATUS), S_ALL);
}

static void teardown(void)
{
    gate_open(0);
    gate_open(1);
    virtio_dev_destroy(dev);
    close(irqfd);
    fake_mem_free(&mem);
}

/*
 * Lay out request (opcode, nodeid, body) in the next buffer slot and publish
 * it on queue (q) as a two-descriptor chain (readable, writable); the kick is
 * separate.  Returns the slot, which is also the unique id.
 */
static unsigned int publish(unsigned int q, uint32_t opcode, uint64_t nodeid,
                            const void *body, uint32_t len)
{
    unsigned int slot = nreq++;
    uint64_t in = REQ_BASE + slot * PAGE, out = in + 0x800;
    struct fuse_in_header h = {
        .len = (uint32_t)sizeof(h) + len,
        .opcode = opcode,
        .unique = slot,
        .nodeid = nodeid,
    };
    struct fake_vq *f = &fq[q];
    uint16_t d = (uint16_t)(2 * (f->avail_idx % (QSIZE / 2)));

    memset(fake_mem_at(&mem, out), 0xff, 0x800); /* no reply yet */
    memcpy(fake_mem_at(&mem, in), &h, sizeof(h));
    memcpy(fake_mem_at(&mem, in + sizeof(h)), body, len);
    fake_vq_desc(f, d, in, h.len, VRING_DESC_F_NEXT, (uint16_t)(d + 1));
    fake_vq_desc(f, (uint16_t)(d + 1), out, 0x800, VRING_DESC_F_WRITE, 0);
    fake_vq_publish(f, d);
    return slot;
}

static void kick(unsigned int q)
{
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static unsigned int getattr(unsigned int q, uint64_t ino)
{
    struct fuse_getattr_in in = {0};

    return publish(q, FUSE_GETATTR, ino, &in, sizeof(in));
}

/* Wait up to (ms) for queue (q)'s used index to reach (idx). */
static bool wait_used(unsigned int q, uint16_t idx, unsigned int ms)
{
    struct timespec tick = {0, 1000000};

    for (unsigned int i = 0; i < ms; i++) {
        if (fake_vq_used_idx(&fq[q]) == idx)
            return true;
        nanosleep(&tick, NULL);
    }
    return fake_vq_used_idx(&fq[q]) == idx;
}

/* The reply header of the request in (slot). */
static struct fuse_out_header reply(unsigned int slot)
{
    struct fuse_out_header o;

    memcpy(&o, fake_mem_at(&mem, REQ_BASE + slot * PAGE + 0x800), sizeof(o));
    return o;
}

/* Wait until the loop has taken queue (q)'s pending kick and finished the
 * notify it started (it runs under qlock). */
static void wait_kick_served(unsigned int q)
{
    struct timespec tick = {0, 1000000};
    struct pollfd p = {.fd = dev->vqs[q].kick.fd, .events = POLLIN};

    /* The loop drains the eventfd first: while it is readable the kick is
     * still pending (poll, so as not to steal it). */
    for (unsigned int i = 0; i < 5000 && poll(&p, 1, 0) == 1; i++)
        nanosleep(&tick, NULL);
    tick.tv_nsec = 50000000; /* the drain comes just before the qlock */
    nanosleep(&tick, NULL);
    pthread_mutex_lock(&dev->qlock);
    pthread_mutex_unlock(&dev->qlock);
}

/* ---- cases -------------------------------------------------------------- */

static void test_init(void)
{
    struct fuse_init_in in = {
        .major = FUSE_KERNEL_VERSION,
        .minor = FUSE_KERNEL_MINOR_VERSION,
    };
    unsigned int s;

    setup();
    s = publish(1, FUSE_INIT, 0, &in, sizeof(in));
    kick(1);
    CHECK(wait_used(1, 1, 5000));
    CHECK_EQ(reply(s).error, 0);
    CHECK_EQ(reply(s).unique, s);
    CHECK_EQ(fake_vq_used_elem(&fq[1], 0).len,
             sizeof(struct fuse_out_header) + sizeof(struct fuse_init_out));
    /* An ordinary GETATTR through a worker. */
    gate_open(1);
    s = getattr(1, REQ_INO);
    kick(1);
    CHECK(wait_used(1, 2, 5000));
    CHECK_EQ(reply(s).error, 0);
    CHECK_EQ(fake_vq_used_elem(&fq[1], 1).len,
             sizeof(struct fuse_out_header) + sizeof(struct fuse_attr_out));
    teardown();
}

/*
 * 32 busy jobs, one of them from hiprio; one more request waits on the
 * request queue because no job is free.  When the hiprio job finishes first,
 * the request queue must be re-kicked: its request is served without another
 * guest kick.  (With one starvation flag per device, the finishing hiprio
 * worker re-kicked hiprio only and cleared the flag: the request waited
 * forever.)
 */
static void test_starved_queue_rekicked_by_other_queue(void)
{
    struct fuse_init_in in = {
        .major = FUSE_KERNEL_VERSION,
        .minor = FUSE_KERNEL_MINOR_VERSION,
    };
    unsigned int hi, last;

    memset(gate.open, 0, sizeof(gate.open));
    nreq = 0;
    setup();
    publish(1, FUSE_INIT, 0, &in, sizeof(in));
    kick(1);
    CHECK(wait_used(1, 1, 5000));

    hi = getattr(0, HIPRIO_INO);
    kick(0);
    CHECK(wait_inside(1)); /* a worker holds the hiprio job */
    for (unsigned int i = 0; i < JOBS - 1; i++)
        getattr(1, REQ_INO);
    kick(1);
    CHECK(wait_inside(WORKERS)); /* 16 in the backend, 16 jobs queued */
    wait_kick_served(1);
    last = getattr(1, REQ_INO); /* no free job: the loop leaves it */
    kick(1);
    wait_kick_served(1);
    CHECK_EQ(fake_vq_used_idx(&fq[1]), 1);

    gate_open(0); /* the hiprio job finishes first */
    CHECK(wait_used(0, 1, 5000));
    CHECK_EQ(reply(hi).error, 0);
    gate_open(1); /* then all the others; no guest kick from here on */
    CHECK(wait_used(1, 1 + JOBS, 5000));
    CHECK_EQ(fake_vq_used_idx(&fq[1]), 1 + JOBS);
    CHECK_EQ(reply(last).error, 0);
    CHECK_EQ(reply(last).unique, last);
    CHECK_EQ(reply(last).len,
             sizeof(struct fuse_out_header) + sizeof(struct fuse_attr_out));
    teardown();
}

int main(void)
{
    RUN(test_init);
    RUN(test_starved_queue_rekicked_by_other_queue);
    return t_done();
}
