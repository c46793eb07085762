/*
 * fuzz_console_ctl.c: the multiport virtio-console behind the mmio
 * transport, on fake guest memory, driven by the fake driver: control
 * messages from the driver (any id/event/value, any length), control rx
 * buffers, port tx/rx buffers, host input, resize, ^C injection, device
 * resets, hostile raw descriptors, and at the end the exit drain.
 *
 * Input: byte 0 {bits 0-2: queue size 2^(n%6), bit 3: port 0 to the log,
 * bit 4: MULTIPORT not acked, bits 5-6: ports - 1}, then operations, each an
 * opcode byte (op % 8) and its arguments, until the input ends:
 *   0 id(le32) event(le16) value(le16) len  control message, len%13 bytes
 *   1 len                       control rx buffer of len bytes
 *   2 port len bytes...         port tx buffer (guest -> host)
 *   3 port len                  port rx buffer (host -> guest)
 *   4 port n bytes...           host input on the port's pipe, n%64 bytes
 *   5 cols(le16) rows(le16)     terminal resize
 *   6 n bytes...                ^C injection, n%16 bytes
 *   7 q addr(le64) len(le32) flags(le16) next(le16)  raw descriptor on
 *     queue q, published and kicked; q = 0xff resets the device instead
 * Checks: the device never returns more used entries than were published,
 * never an id out of range, never a used length above a writable buffer's.
 */
#include <fcntl.h>
#include <linux/virtio_console.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "evloop.h"
#include "fake_driver.h"
#include "log.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define MAX_PORTS 4
#define MAX_Q     (2 + 2 * MAX_PORTS)
#define QMAX      32
#define RINGS     0x0ULL /* queue q's rings at 0x2000 * q */
#define BUF0      0x20000ULL
#define BUF_LEN   256u /* one buffer slot per (queue, descriptor) */
#define RAM_SIZE  (BUF0 + MAX_Q * QMAX * BUF_LEN)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_mem mem;
static struct evloop loop;
static struct fake_vq fq[MAX_Q];

struct qstate {
    uint16_t next_desc;
    uint16_t published, seen_used;
    bool raw; /* a raw descriptor was published: lengths are unknown */
    uint32_t wlen[QMAX]; /* writable length posted in descriptor d */
};

struct run {
    const uint8_t *p, *end;
    struct virtio_dev *dev;
    unsigned int nports, nq;
    uint16_t qsize;
    uint64_t features;
    int in_w[MAX_PORTS]; /* write ends of the ports' input pipes */
    struct qstate q[MAX_Q];
};

static bool take(struct run *r, void *out, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    memcpy(out, r->p, n);
    r->p += n;
    return true;
}

static unsigned int rx_q(unsigned int port)
{
    return port == 0 ? 0 : 2 + 2 * port;
}

/* The queues' rings zeroed and programmed; the driver sets DRIVER_OK. */
static void bring_up(struct run *r)
{
    memset(fake_mem_at(&mem, RINGS), 0, 0x2000 * MAX_Q);
    fake_mmio_negotiate(r->dev, r->features);
    for (unsigned int q = 0; q < r->nq; q++) {
        fake_vq_init(&fq[q], &mem, r->qsize, RINGS + 0x2000ULL * q);
        fake_mmio_setup_queue(r->dev, q, &fq[q]);
        memset(&r->q[q], 0, sizeof(r->q[q]));
    }
    fake_mmio_write(r->dev, VIRTIO_MMIO_STATUS,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                        VIRTIO_CONFIG_S_FEATURES_OK |
                        VIRTIO_CONFIG_S_DRIVER_OK);
}

/* What the device returned since the last look must be plausible. */
static void check_used(struct run *r)
{
    for (unsigned int q = 0; q < r->nq; q++) {
        struct qstate *s = &r->q[q];
        uint16_t used = fake_vq_used_idx(&fq[q]);

        if ((uint16_t)(used - s->seen_used) >
            (uint16_t)(s->published - s->seen_used))
            abort(); /* more used entries than buffers published */
        for (; s->seen_used != used; s->seen_used++) {
            struct vring_used_elem e =
                fake_vq_used_elem(&fq[q], s->seen_used % r->qsize);

            if (e.id >= r->qsize)
                abort();
            if (!s->raw && e.len > s->wlen[e.id])
                abort(); /* wrote past the driver's buffer */
        }
    }
}

/* Post one buffer of (len) bytes on queue (q): readable with (bytes), or
 * writable when (bytes) is NULL; then kick. */
static void post(struct run *r, unsigned int q, const void *bytes, uint32_t len)
{
    struct qstate *s = &r->q[q];
    uint16_t d = s->next_desc++ % r->qsize;
    uint64_t gpa = BUF0 + ((uint64_t)q * QMAX + d) * BUF_LEN;

    len = len > BUF_LEN ? BUF_LEN : len;
    if (bytes)
        memcpy(fake_mem_at(&mem, gpa), bytes, len);
    s->wlen[d] = bytes ? 0 : len;
    fake_vq_desc(&fq[q], d, gpa, len, bytes ? 0 : VRING_DESC_F_WRITE, 0);
    fake_vq_publish(&fq[q], d);
    s->published++;
    virtio_dev_kick(r->dev, q);
}

/* Dispatch what the loop has ready (host input, output room). */
static void pump(void)
{
    struct epoll_event evs[8];
    int n = epoll_wait(loop.epfd, evs, 8, 0);

    for (int i = 0; i < n; i++) {
        struct ev_source *src = evs[i].data.ptr;

        if (src)
            src->fn(src, evs[i].events);
    }
}

static void op_raw(struct run *r)
{
    struct {
        uint8_t q;
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
    } __attribute__((packed)) a;
    unsigned int q;

    if (!take(r, &a, sizeof(a)))
        return;
    if (a.q == 0xff) {
        fake_mmio_write(r->dev, VIRTIO_MMIO_STATUS, 0);
        bring_up(r);
        return;
    }
    q = a.q % r->nq;
    fake_vq_desc(&fq[q], r->q[q].next_desc % r->qsize, a.addr, a.len, a.flags,
                 a.next);
    fake_vq_publish(&fq[q], r->q[q].next_desc++ % r->qsize);
    r->q[q].published++;
    r->q[q].raw = true;
    virtio_dev_kick(r->dev, q);
}

static void op(struct run *r, uint8_t code)
{
    uint8_t b[2], buf[BUF_LEN];
    uint16_t size[2];
    struct {
        uint32_t id;
        uint16_t event, value;
        uint8_t len;
    } __attribute__((packed)) m;

    switch (code % 8) {
    case 0:
        memset(buf, 0, 16);
        if (take(r, &m, sizeof(m))) {
            memcpy(buf, &m, sizeof(m)); /* header, len byte, zeroes */
            post(r, 3, buf, m.len % 13);
        }
        break;
    case 1:
        if (take(r, b, 1))
            post(r, 2, NULL, b[0]);
        break;
    case 2:
        if (take(r, b, 2) && take(r, buf, b[1] % 64))
            post(r, rx_q(b[0] % r->nports) + 1, buf, b[1] % 64);
        break;
    case 3:
        if (take(r, b, 2))
            post(r, rx_q(b[0] % r->nports), NULL, b[1]);
        break;
    case 4:
        if (take(r, b, 2) && take(r, buf, b[1] % 64) &&
            r->in_w[b[0] % r->nports] >= 0 &&
            write(r->in_w[b[0] % r->nports], buf, b[1] % 64) < 0)
            (void)0; /* a full pipe: the device is not reading */
        pump();
        break;
    case 5:
        if (take(r, size, sizeof(size)))
            console_resize(r->dev, size[0], size[1]);
        break;
    case 6:
        if (take(r, b, 1) && take(r, buf, b[0] % 16))
            console_inject(r->dev, buf, b[0] % 16);
        break;
    default:
        op_raw(r);
        break;
    }
    check_used(r);
}

/* Ports: 0 the console (to a pipe or the log), odd ones host output into
 * a one-page pipe (so writes hit EAGAIN), even ones host input.  The pipes
 * live across runs (emptied after each); the device gets dups. */
static int pipes[MAX_PORTS][2];

static void make_pipes(void)
{
    for (unsigned int i = 0; i < MAX_PORTS; i++) {
        if (pipe2(pipes[i], O_CLOEXEC | O_NONBLOCK) < 0)
            abort();
        if (i % 2 == 1 || i == 0)
            fcntl(pipes[i][1], F_SETPIPE_SZ, 4096);
    }
}

static void make_ports(struct run *r, uint8_t h, struct console_port_cfg *pc)
{
    for (unsigned int i = 0; i < r->nports; i++) {
        bool input = i % 2 == 0 && i > 0;

        pc[i] = (struct console_port_cfg){.in_fd = -1, .out_fd = -1};
        r->in_w[i] = input ? pipes[i][1] : -1;
        if (input)
            pc[i].in_fd = fcntl(pipes[i][0], F_DUPFD_CLOEXEC, 3);
        else
            pc[i].out_fd = fcntl(pipes[i][1], F_DUPFD_CLOEXEC, 3);
        pc[i].name[0] = i ? 'p' : '\0';
        pc[i].name[1] = (char)('0' + i);
    }
    pc[0].console = true;
    pc[0].out_to_log = h & 8;
    pc[0].cols = 80;
    pc[0].rows = 25;
}

/* Empty every pipe for the next run. */
static void empty_pipes(void)
{
    uint8_t buf[4096];

    for (unsigned int i = 0; i < MAX_PORTS; i++)
        while (read(pipes[i][0], buf, sizeof(buf)) > 0)
            ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct console_port_cfg pc[MAX_PORTS];
    struct run r = {.p = data + 1, .end = data + size};
    uint8_t code;

    if (size < 1)
        return 0;
    if (!mem.buf) {
        fake_mem_init(&mem, 0, RAM_SIZE);
        if (evloop_init(&loop, "fuzz") < 0)
            abort();
        log_configure(LOG_OFF, -1, false); /* drops are expected here */
        make_pipes();
    }
    r.qsize = (uint16_t)(1u << (data[0] % 6));
    r.nports = 1 + ((data[0] >> 5) & 3);
    r.nq = 2 + 2 * r.nports;
    r.features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_CONSOLE_F_SIZE;
    if (!(data[0] & 16))
        r.features |= 1ULL << VIRTIO_CONSOLE_F_MULTIPORT;
    make_ports(&r, data[0], pc);
    if (console_create(&mem.gm, &loop, pc, r.nports, &r.dev) < 0)
        abort();
    mmio_setup(r.dev, 0xd0000000, 5, -1);
    bring_up(&r);
    while (take(&r, &code, 1))
        op(&r, code);
    console_drain(r.dev, 0); /* full pipes give up at once */
    check_used(&r);
    virtio_dev_destroy(r.dev); /* closes the dups */
    empty_pipes();
    return 0;
}
