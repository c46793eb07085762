/* test_console: virtio-console multiport on fake guest memory. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <linux/virtio_console.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "evloop.h"
#include "log.h"
#include "hostsig.h"
#include "fake_driver.h"
#include "fake_mem.h"
#include "slow_reader.h"
#include "t.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define NPORTS 3
#define NQ     (2 + 2 * NPORTS)
#define BUF0   0x100000ULL /* driver buffers start here, 256 bytes each */
#define V1     (1ULL << VIRTIO_F_VERSION_1)
#define MP     (1ULL << VIRTIO_CONSOLE_F_MULTIPORT)

struct msg {
    uint32_t id;
    uint16_t event, value;
    char payload[64];
};

static struct fake_mem mem;
static struct fake_vq fq[NQ];
static struct evloop loop;
static struct virtio_dev *dev;
static int irqfd;
static int out_pipe[2], in_pipe[2], log_pipe[2];
static uint16_t next_desc[NQ];

/* Ports: 0 console -> log pipe, 1 krun-stdout -> out pipe, 2 krun-stdin
 * <- (in_fd). */
static void setup_with_input(int in_fd)
{
    struct console_port_cfg ports[NPORTS] = {
        {.name = "",
         .in_fd = -1,
         .out_fd = -1,
         .console = true,
         .cols = 80,
         .rows = 25},
        {.name = "krun-stdout", .in_fd = -1, .out_fd = -1},
        {.name = "krun-stdin", .in_fd = -1, .out_fd = -1},
    };

    fake_mem_init(&mem, 0, 4 << 20);
    CHECK_EQ(evloop_init(&loop, "test"), 0);
    CHECK_EQ(pipe(out_pipe), 0);
    CHECK_EQ(pipe(in_pipe), 0);
    CHECK_EQ(pipe(log_pipe), 0);
    ports[0].out_fd = log_pipe[1];
    ports[1].out_fd = out_pipe[1];
    ports[2].in_fd = in_fd == -2 ? in_pipe[0] : in_fd;
    if (in_fd != -2)
        close(in_pipe[0]);
    CHECK_EQ(console_create(&mem.gm, &loop, ports, NPORTS, &dev), 0);
    irqfd = eventfd(0, EFD_NONBLOCK);
    CHECK_EQ(mmio_setup(dev, 0xd0000000, 5, irqfd), 0);
    CHECK_EQ(fake_mmio_negotiate(dev, V1 | MP), 1 | 2 | 8);
    for (unsigned int q = 0; q < NQ; q++) {
        fake_vq_init(&fq[q], &mem, 32, 0x10000 + q * 0x4000ULL);
        fake_mmio_setup_queue(dev, q, &fq[q]);
        next_desc[q] = 0;
    }
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, 1 | 2 | 8 | 4);
    CHECK(dev->active);
}

static void setup(void)
{
    setup_with_input(-2);
}

/* Everything but the device (already destroyed). */
static void teardown_rest(void)
{
    evloop_destroy(&loop);
    close(irqfd);
    close(out_pipe[0]);
    close(in_pipe[1]);
    close(log_pipe[0]);
    fake_mem_free(&mem);
}

static void teardown(void)
{
    virtio_dev_destroy(dev);
    teardown_rest();
}

/* Guest address of a fresh 256-byte buffer for queue (q). */
static uint64_t buf_of(unsigned int q, uint16_t d)
{
    return BUF0 + (q * 32ULL + d) * 256;
}

/* The driver posts one buffer on queue (q): readable (data, len) or, with
 * data == NULL, writable of (len) bytes. */
static void post(unsigned int q, const void *data, uint32_t len)
{
    uint16_t d = next_desc[q]++ % 32;
    uint64_t gpa = buf_of(q, d);

    if (data)
        memcpy(fake_mem_at(&mem, gpa), data, len);
    fake_vq_desc(&fq[q], d, gpa, len, data ? 0 : VRING_DESC_F_WRITE, 0);
    fake_vq_publish(&fq[q], d);
}

static void kick(unsigned int q)
{
    virtio_dev_kick(dev, q);
}

static void send_ctrl(uint32_t id, uint16_t event, uint16_t value)
{
    struct msg m = {.id = id, .event = event, .value = value};
    uint16_t d = next_desc[3] % 32;

    post(3, &m, 8);
    kick(3);
    /* The device gives back exactly the buffer it was sent (a regression:
     * handling a message once reused the request and returned another). */
    CHECK_EQ(
        fake_vq_used_elem(&fq[3], (uint16_t)(fake_vq_used_idx(&fq[3]) - 1) % 32)
            .id,
        d);
}

/* Control messages the device wrote since (*seen), into (out). */
static unsigned int recv_ctrl(uint16_t *seen, struct msg *out, unsigned max)
{
    unsigned int n = 0;

    while (*seen != fake_vq_used_idx(&fq[2]) && n < max) {
        struct vring_used_elem e = fake_vq_used_elem(&fq[2], *seen % 32);

        memset(&out[n], 0, sizeof(out[n]));
        memcpy(&out[n], fake_mem_at(&mem, buf_of(2, (uint16_t)e.id)),
               e.len < sizeof(out[n]) ? e.len : sizeof(out[n]));
        n++;
        (*seen)++;
    }
    return n;
}

/* Dispatch the loop's ready sources once (what evloop_run does). */
static void pump(void)
{
    struct epoll_event evs[8];
    int n = epoll_wait(loop.epfd, evs, 8, 100);

    for (int i = 0; i < n; i++) {
        struct ev_source *src = evs[i].data.ptr;

        if (src)
            src->fn(src, evs[i].events);
    }
}

static void test_port_discovery(void)
{
    struct msg m[16];
    uint16_t seen = 0;
    unsigned int n;

    setup();
    for (int i = 0; i < 8; i++)
        post(2, NULL, 64);
    kick(2);
    send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    n = recv_ctrl(&seen, m, 16);
    CHECK_EQ(n, NPORTS);
    for (unsigned int i = 0; i < n; i++) {
        CHECK_EQ(m[i].event, VIRTIO_CONSOLE_PORT_ADD);
        CHECK_EQ(m[i].id, i);
    }
    /* The console port: CONSOLE_PORT, RESIZE 80x25, PORT_OPEN. */
    send_ctrl(0, VIRTIO_CONSOLE_PORT_READY, 1);
    n = recv_ctrl(&seen, m, 16);
    CHECK_EQ(n, 3);
    CHECK_EQ(m[0].event, VIRTIO_CONSOLE_CONSOLE_PORT);
    CHECK_EQ(m[1].event, VIRTIO_CONSOLE_RESIZE);
    CHECK(memcmp(m[1].payload, "\x50\x00\x19\x00", 4) == 0);
    CHECK_EQ(m[2].event, VIRTIO_CONSOLE_PORT_OPEN);
    CHECK_EQ(m[2].value, 1);
    /* A named port: PORT_OPEN then PORT_NAME. */
    send_ctrl(1, VIRTIO_CONSOLE_PORT_READY, 1);
    n = recv_ctrl(&seen, m, 16);
    CHECK_EQ(n, 2);
    CHECK_EQ(m[1].event, VIRTIO_CONSOLE_PORT_NAME);
    CHECK(strcmp(m[1].payload, "krun-stdout") == 0);
    /* Messages wait for control buffers and are delivered in order. */
    send_ctrl(2, VIRTIO_CONSOLE_PORT_READY, 1);
    CHECK_EQ(recv_ctrl(&seen, m, 16), 0); /* all 8 rx buffers used */
    post(2, NULL, 64);
    post(2, NULL, 64);
    kick(2);
    n = recv_ctrl(&seen, m, 16);
    CHECK_EQ(n, 2);
    CHECK_EQ(m[0].event, VIRTIO_CONSOLE_PORT_OPEN);
    CHECK(strcmp(m[1].payload, "krun-stdin") == 0);
    CHECK(!virtio_dev_failed(dev));
    teardown();
}

static void test_output_reaches_host(void)
{
    char buf[64] = {0};
    struct msg m[4];
    uint16_t seen = 0;

    setup();
    /* The guest opens the output-only port: no PORT_OPEN 0 ("host gone"),
     * which would block the guest's writes forever (a regression). */
    for (int i = 0; i < 4; i++)
        post(2, NULL, 64);
    kick(2);
    send_ctrl(1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    CHECK_EQ(recv_ctrl(&seen, m, 4), 0);
    post(5, "hello, ", 7); /* port 1 tx = queue 3 + 2 */
    post(5, "world\n", 6);
    kick(5);
    CHECK_EQ(read(out_pipe[0], buf, sizeof(buf)), 13);
    CHECK(strcmp(buf, "hello, world\n") == 0);
    CHECK_EQ(fake_vq_used_idx(&fq[5]), 2);
    teardown();
}

static void test_input_and_eof(void)
{
    struct msg m[16];
    uint16_t seen = 0;
    struct vring_used_elem e;

    setup();
    for (int i = 0; i < 8; i++)
        post(2, NULL, 64);
    kick(2);
    CHECK_EQ(write(in_pipe[1], "abc", 3), 3);
    pump(); /* port closed by the guest: nothing is read */
    CHECK_EQ(fake_vq_used_idx(&fq[6]), 0);
    post(6, NULL, 16); /* port 2 rx */
    kick(6);
    send_ctrl(2, VIRTIO_CONSOLE_PORT_OPEN, 1);
    pump();
    CHECK_EQ(fake_vq_used_idx(&fq[6]), 1);
    e = fake_vq_used_elem(&fq[6], 0);
    CHECK_EQ(e.len, 3);
    CHECK(memcmp(fake_mem_at(&mem, buf_of(6, 0)), "abc", 3) == 0);
    /* EOF on the host side: the driver hears PORT_OPEN 0. */
    close(in_pipe[1]);
    in_pipe[1] = open("/dev/null", O_RDONLY);
    pump();
    recv_ctrl(&seen, m, 16);
    CHECK_EQ(m[0].event, VIRTIO_CONSOLE_PORT_OPEN);
    CHECK_EQ(m[0].id, 2);
    CHECK_EQ(m[0].value, 0);
    teardown();
}

/* Files and /dev/null cannot be polled: they are read directly. */
static void test_file_input(void)
{
    char path[] = "/tmp/ckrun-console-XXXXXX";
    int fd = mkstemp(path);
    struct msg m[16];
    uint16_t seen = 0;

    CHECK(fd >= 0 && write(fd, "from a file", 11) == 11);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    setup_with_input(fd);
    for (int i = 0; i < 8; i++)
        post(2, NULL, 64);
    kick(2);
    post(6, NULL, 64);
    kick(6);
    send_ctrl(2, VIRTIO_CONSOLE_PORT_OPEN, 1);
    CHECK_EQ(fake_vq_used_idx(&fq[6]), 1);
    CHECK_EQ(fake_vq_used_elem(&fq[6], 0).len, 11);
    CHECK(memcmp(fake_mem_at(&mem, buf_of(6, 0)), "from a file", 11) == 0);
    /* Then EOF, without any event loop turn. */
    recv_ctrl(&seen, m, 16);
    CHECK_EQ(m[0].event, VIRTIO_CONSOLE_PORT_OPEN);
    CHECK_EQ(m[0].value, 0);
    teardown();
    unlink(path);

    /* /dev/null: EOF as soon as the guest opens the port. */
    setup_with_input(open("/dev/null", O_RDONLY));
    seen = 0;
    for (int i = 0; i < 8; i++)
        post(2, NULL, 64);
    kick(2);
    send_ctrl(2, VIRTIO_CONSOLE_PORT_OPEN, 1);
    CHECK_EQ(recv_ctrl(&seen, m, 16), 1);
    CHECK_EQ(m[0].event, VIRTIO_CONSOLE_PORT_OPEN);
    CHECK_EQ(m[0].value, 0);
    teardown();
}

/* A host SIGINT (stdin not a tty) becomes ^C on the console's input, and
 * SIGPIPE no longer kills the VMM. */
static void test_sigint_forwarded(void)
{
    struct hostsig hs = {0};
    sigset_t pending;

    setup();
    post(0, NULL, 16); /* port 0 rx */
    kick(0);
    send_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    CHECK_EQ(hostsig_setup(&hs, &loop, dev, true), 0);
    raise(SIGINT); /* blocked: goes to the signalfd */
    raise(SIGPIPE);
    pump();
    CHECK_EQ(fake_vq_used_idx(&fq[0]), 1);
    CHECK_EQ(fake_vq_used_elem(&fq[0], 0).len, 1);
    CHECK_EQ(*(uint8_t *)fake_mem_at(&mem, buf_of(0, 0)), 0x03);
    hostsig_undo(&hs, &loop);
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGINT));
    CHECK(signal(SIGPIPE, SIG_DFL) == SIG_DFL); /* restored by undo */
    teardown();
}

static void test_console_port_to_log(void)
{
    struct console_port_cfg ports[CONSOLE_MAX_PORTS];
    int p[2];
    int n;

    /* Not ttys: a console logging to the log plus stdin/stdout/stderr. */
    CHECK_EQ(pipe(p), 0);
    n = console_autoconfig(p[0], p[1], p[1], ports);
    CHECK_EQ(n, 4);
    CHECK(ports[0].console && ports[0].out_to_log);
    CHECK(strcmp(ports[1].name, "krun-stdin") == 0 && ports[1].in_fd > 2);
    CHECK(strcmp(ports[2].name, "krun-stdout") == 0 && ports[2].out_fd > 2);
    CHECK(strcmp(ports[3].name, "krun-stderr") == 0);
    for (int i = 0; i < n; i++) {
        if (ports[i].in_fd >= 0)
            close(ports[i].in_fd);
        if (ports[i].out_fd >= 0)
            close(ports[i].out_fd);
    }
    /* No fds at all: just the console. */
    CHECK_EQ(console_autoconfig(-1, -1, -1, ports), 1);
    close(p[0]);
    close(p[1]);
}

static void test_hostile_control(void)
{
    struct msg m[16];
    uint16_t seen = 0;

    setup();
    for (int i = 0; i < 4; i++)
        post(2, NULL, 64);
    kick(2);
    send_ctrl(99, VIRTIO_CONSOLE_PORT_READY, 1); /* no such port */
    send_ctrl(0xffffffff, VIRTIO_CONSOLE_PORT_OPEN, 1);
    post(3, "\x01\x02", 2); /* short message */
    kick(3);
    CHECK_EQ(recv_ctrl(&seen, m, 16), 0);
    /* A flood of DEVICE_READY without rx buffers: bounded, no crash. */
    for (int i = 0; i < 200; i++)
        send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    CHECK(!virtio_dev_failed(dev));
    /* A tx descriptor pointing outside RAM marks the device broken. */
    fake_vq_desc(&fq[5], 0, 0xfffff000ULL, 64, 0, 0);
    fake_vq_publish(&fq[5], 0);
    kick(5);
    CHECK(virtio_dev_failed(dev));
    teardown();
}

/* ---- exit drain ---------------------------------------------------------- */

#define BIG0     0x200000ULL /* big tx buffers: 32 KiB each */
#define BIG_LEN  32768u
#define STREAM_N 32u /* buffers: a full ring */
#define STREAM_B (STREAM_N * BIG_LEN)
#define PIPE_B   4096u /* the host pipe's capacity */

/* Byte (i) of the guest's output stream: not periodic in 256 or in any
 * buffer size, so a lost, repeated or reordered chunk shows. */
static uint8_t stream_byte(uint64_t i)
{
    return (uint8_t)(i * 7 + i / 251 + i / 65521);
}

/* Post buffer (n) of the stream on port 1's tx queue (5). */
static void post_stream_buf(unsigned int n)
{
    uint16_t d = next_desc[5]++ % 32;
    uint64_t gpa = BIG0 + (uint64_t)d * BIG_LEN;
    uint8_t *b = fake_mem_at(&mem, gpa);

    for (uint32_t i = 0; i < BIG_LEN; i++)
        b[i] = stream_byte((uint64_t)n * BIG_LEN + i);
    fake_vq_desc(&fq[5], d, gpa, BIG_LEN, 0, 0);
    fake_vq_publish(&fq[5], d);
}

/*
 * What the device holds when the VM ends: port 1's pipe shrunk to one page;
 * the guest queued 24 buffers and kicked (the device wrote one page of the
 * first and waits for EPOLLOUT), then queued 8 more and stopped before its
 * kick was served.
 */
static void queue_stream_at_exit(void)
{
    CHECK_EQ(fcntl(out_pipe[1], F_SETPIPE_SZ, PIPE_B), (int)PIPE_B);
    for (unsigned int i = 0; i < 24; i++)
        post_stream_buf(i);
    kick(5);
    CHECK_EQ(fake_vq_used_idx(&fq[5]), 0); /* the first one is half out */
    for (unsigned int i = 24; i < STREAM_N; i++)
        post_stream_buf(i);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Log records at (level) go to a 1 MiB pipe; returns its read end. */
static int capture_log_at(enum log_level level)
{
    int p[2];

    CHECK_EQ(pipe2(p, O_NONBLOCK), 0);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 1 << 20) >= (1 << 20));
    log_configure(level, p[1], false); /* the logger owns p[1] */
    return p[0];
}

static int capture_log(void)
{
    return capture_log_at(LOG_WARN);
}

/* What was logged since capture_log(); logging goes back to stderr. */
static void captured_log(int fd, char *buf, size_t size)
{
    ssize_t n = read(fd, buf, size - 1);

    buf[n > 0 ? n : 0] = '\0';
    log_configure(LOG_ERROR, -1, false);
    close(fd);
}

/* The VM ends with output queued and a slow reader: every byte arrives, in
 * order, and the ring gives every buffer back.  Before the exit drain the
 * reader got 4096 of 1048576 bytes. */
static void test_drain_slow_reader(void)
{
    struct slow_reader r = {
        .byte = stream_byte, .start_ms = 300, .chunk = 1000, .pause_us = 100};

    setup();
    r.fd = out_pipe[0];
    queue_stream_at_exit();
    CHECK_EQ(slow_reader_start(&r), 0);
    CHECK_EQ(console_drain(dev, 5000), 0);
    CHECK_EQ(fake_vq_used_idx(&fq[5]), STREAM_N);
    virtio_dev_destroy(dev); /* closes the write end: EOF */
    slow_reader_join(&r);
    CHECK_EQ(r.got, STREAM_B);
    CHECK_EQ(r.bad, 0);
    teardown_rest();
}

/* The reader goes away: the drain stops at EPIPE at once and says how much
 * it dropped. */
static void test_drain_epipe(void)
{
    uint64_t dropped = STREAM_B - PIPE_B;
    char log[512], want[128];
    int64_t t0;
    int lfd;

    signal(SIGPIPE, SIG_IGN); /* as hostsig does in the VMM */
    setup();
    queue_stream_at_exit();
    close(out_pipe[0]);
    out_pipe[0] = open("/dev/null", O_RDONLY); /* for teardown */
    lfd = capture_log();
    t0 = mono_ms();
    CHECK_EQ(console_drain(dev, 2000), dropped);
    CHECK(mono_ms() - t0 < 1000);
    CHECK_EQ(fake_vq_used_idx(&fq[5]), STREAM_N);
    captured_log(lfd, log, sizeof(log));
    snprintf(want, sizeof(want),
             "port 1: %" PRIu64 " bytes of guest output dropped at exit: %s",
             dropped, strerror(EPIPE));
    CHECK(strstr(log, want) != NULL);
    teardown();
    signal(SIGPIPE, SIG_DFL);
}

/* A reader that never reads (nor closes): the drain gives up after the
 * stall timeout, not before, and says so. */
static void test_drain_stalled_reader(void)
{
    uint64_t dropped = STREAM_B - PIPE_B;
    char log[512], want[160];
    int64_t t;
    int lfd;

    setup();
    queue_stream_at_exit();
    lfd = capture_log();
    t = mono_ms();
    CHECK_EQ(console_drain(dev, 200), dropped);
    t = mono_ms() - t;
    CHECK(t >= 200 && t < 1500);
    captured_log(lfd, log, sizeof(log));
    snprintf(want, sizeof(want),
             "port 1: %" PRIu64 " bytes of guest output dropped at exit: "
             "the output fd took nothing for 200 ms",
             dropped);
    CHECK(strstr(log, want) != NULL);
    teardown();
}

/* A reader that keeps reading but takes longer in all than the stall
 * timeout is not cut off: the timeout is per stall, not for the whole drain
 * (16 reads 150 ms apart, 2.4 s in all, stall timeout 1 s). */
static void test_drain_timeout_is_per_stall(void)
{
    struct slow_reader r = {
        .byte = stream_byte, .start_ms = 50, .chunk = 4096, .pause_us = 150000};

    setup();
    CHECK_EQ(fcntl(out_pipe[1], F_SETPIPE_SZ, PIPE_B), (int)PIPE_B);
    r.fd = out_pipe[0];
    for (unsigned int i = 0; i < 2; i++) /* 64 KiB: 16 pipefuls */
        post_stream_buf(i);
    CHECK_EQ(slow_reader_start(&r), 0);
    CHECK_EQ(console_drain(dev, 1000), 0);
    virtio_dev_destroy(dev);
    slow_reader_join(&r);
    CHECK_EQ(r.got, 2 * BIG_LEN);
    CHECK_EQ(r.bad, 0);
    teardown_rest();
}

/* Linux resets every virtio device on its way to reboot, right after the
 * workload's last write: what the ring held at the reset is kept and still
 * written, by the loop on EPOLLOUT while the VM runs.  Before, the reset
 * dropped it (the reader got 4096 of 1048576 bytes). */
static void test_reset_keeps_output(void)
{
    struct slow_reader r = {
        .byte = stream_byte, .start_ms = 100, .chunk = 4096, .pause_us = 0};

    setup();
    r.fd = out_pipe[0];
    queue_stream_at_exit();
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, 0);
    CHECK(!dev->active);
    CHECK_EQ(slow_reader_start(&r), 0);
    for (int64_t t0 = mono_ms();
         r.got < STREAM_B - PIPE_B && mono_ms() - t0 < 5000;)
        pump();
    virtio_dev_destroy(dev);
    slow_reader_join(&r);
    CHECK_EQ(r.got, STREAM_B);
    CHECK_EQ(r.bad, 0);
    teardown_rest();
}

/* A reset, then the VM ends: the exit drain writes the kept bytes. */
static void test_reset_then_exit(void)
{
    struct slow_reader r = {
        .byte = stream_byte, .start_ms = 300, .chunk = 1000, .pause_us = 100};

    setup();
    r.fd = out_pipe[0];
    queue_stream_at_exit();
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(slow_reader_start(&r), 0);
    CHECK_EQ(console_drain(dev, 5000), 0);
    virtio_dev_destroy(dev);
    slow_reader_join(&r);
    CHECK_EQ(r.got, STREAM_B);
    CHECK_EQ(r.bad, 0);
    teardown_rest();
}

/* A hostile ring at a reset: 32 descriptors of 1 MiB each (all the same
 * guest memory).  The device keeps 2 MiB (BACKLOG_MAX): the first two
 * buffers, of which the one-page pipe takes 4096 bytes at once; it logs
 * each dropped buffer (rate-limited), and the exit drain, its reader gone,
 * reports the rest of what it kept as dropped. */
static void test_reset_backlog_bounded(void)
{
    char log[4096], want[128];
    int lfd;

    setup();
    CHECK_EQ(fcntl(out_pipe[1], F_SETPIPE_SZ, PIPE_B), (int)PIPE_B);
    for (uint16_t d = 0; d < 32; d++) {
        fake_vq_desc(&fq[5], d, BIG0, 1u << 20, 0, 0);
        fake_vq_publish(&fq[5], d);
    }
    lfd = capture_log();
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, 0);
    captured_log(lfd, log, sizeof(log));
    snprintf(want, sizeof(want),
             "port 1: %u bytes of output dropped at a reset (backlog full)",
             1u << 20);
    CHECK(strstr(log, want) != NULL);
    close(out_pipe[0]);
    out_pipe[0] = open("/dev/null", O_RDONLY);
    signal(SIGPIPE, SIG_IGN);
    CHECK_EQ(console_drain(dev, 1000), (2u << 20) - PIPE_B);
    signal(SIGPIPE, SIG_DFL);
    teardown();
}

/* A guest flooding the control queue with events that log (at debug level:
 * every event; at warn: failed initialisation, failed port) gets a bounded
 * number of records: at most 10 per call site and second.  Before, 400
 * messages made 800 records. */
static void test_control_logs_rate_limited(void)
{
    static char log[1 << 20];
    unsigned int lines = 0;
    int lfd;

    setup();
    lfd = capture_log_at(LOG_DEBUG);
    for (int i = 0; i < 200; i++) {
        send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 0);
        send_ctrl(1, VIRTIO_CONSOLE_PORT_READY, 0);
    }
    captured_log(lfd, log, sizeof(log));
    for (const char *c = log; (c = strchr(c, '\n')); c++)
        lines++;
    CHECK(lines >= 10);
    CHECK(lines <= 3 * 2 * 10); /* 3 call sites, the run may span 2 s */
    CHECK(!virtio_dev_failed(dev));
    teardown();
}

int main(void)
{
    RUN(test_port_discovery);
    RUN(test_output_reaches_host);
    RUN(test_input_and_eof);
    RUN(test_file_input);
    RUN(test_sigint_forwarded);
    RUN(test_console_port_to_log);
    RUN(test_hostile_control);
    RUN(test_control_logs_rate_limited);
    RUN(test_drain_slow_reader);
    RUN(test_drain_epipe);
    RUN(test_drain_stalled_reader);
    RUN(test_drain_timeout_is_per_stall);
    RUN(test_reset_keeps_output);
    RUN(test_reset_then_exit);
    RUN(test_reset_backlog_bounded);
    return t_done();
}
