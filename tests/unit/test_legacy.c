/* test_legacy: the 16550 serial console's output (legacy.c) without KVM. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bus.h"
#include "evloop.h"
#include "kvm/kvm.h"
#include "kvm/x86/legacy.h"
#include "log.h"
#include "slow_reader.h"
#include "t.h"

#define COM1     0x3f8
#define THR      0
#define IER      1
#define IIR      2
#define LSR      5
#define PIPE_B   4096u
#define STREAM_B 6000u /* more than the pipe holds */

static struct kvm kvm = {.sysfd = -1, .vmfd = -1}; /* IRQ ioctls just fail */
static struct bus pio;
static struct evloop loop;
static struct legacy *lg;
static int out[2];

static void setup(void)
{
    struct legacy_cfg cfg = {.com_in = {-1, -1, -1, -1},
                             .com_out = {-1, -1, -1, -1}};

    CHECK_EQ(pipe2(out, O_CLOEXEC), 0);
    CHECK_EQ(fcntl(out[1], F_SETPIPE_SZ, PIPE_B), (int)PIPE_B);
    /* Non-blocking, as when a console port shares the file description. */
    CHECK_EQ(fcntl(out[1], F_SETFL, O_NONBLOCK), 0);
    cfg.com_out[0] = out[1];
    bus_init(&pio, "pio");
    CHECK_EQ(evloop_init(&loop, "test"), 0);
    CHECK_EQ(legacy_create(&lg, &kvm, &pio, &loop, &cfg), 0);
    bus_freeze(&pio);
}

static void teardown(void)
{
    legacy_destroy(lg);
    evloop_destroy(&loop);
    bus_destroy(&pio);
    close(out[0]);
}

static uint8_t inb(uint16_t port)
{
    uint8_t v = 0;

    bus_dispatch(&pio, port, &v, 1, false);
    return v;
}

static void outb(uint16_t port, uint8_t v)
{
    bus_dispatch(&pio, port, &v, 1, true);
}

static uint8_t stream_byte(uint64_t i)
{
    return (uint8_t)(i * 7 + i / 251);
}

/* The guest's 8250 driver: THR only while LSR says THR empty.  Returns how
 * many of (len) bytes it could write. */
static unsigned int guest_write(unsigned int from, unsigned int len)
{
    unsigned int i;

    for (i = 0; i < len && (inb(COM1 + LSR) & 0x20); i++)
        outb(COM1 + THR, stream_byte(from + i));
    return i;
}

static void pump(int timeout_ms)
{
    struct epoll_event evs[4];
    int n = epoll_wait(loop.epfd, evs, 4, timeout_ms);

    for (int i = 0; i < n; i++) {
        struct ev_source *src = evs[i].data.ptr;

        if (src)
            src->fn(src, evs[i].events);
    }
}

/* A full host fd: THR stays busy instead of the bytes being dropped, and
 * goes empty again (with a THR-empty interrupt) once the fd has room. */
static void test_flow_control(void)
{
    unsigned int n;
    uint8_t buf[PIPE_B];

    setup();
    outb(COM1 + IER, 0x02); /* THRI */
    n = guest_write(0, 10000);
    /* The pipe's 4096 plus the buffer, less one FIFO's worth of room. */
    CHECK_EQ(n, PIPE_B + 4096 - 64 + 1);
    CHECK_EQ(inb(COM1 + LSR) & 0x60, 0);    /* neither THRE nor TEMT */
    CHECK_EQ(inb(COM1 + IIR) & 0x0f, 0x01); /* no interrupt pending */
    CHECK_EQ(read(out[0], buf, sizeof(buf)), (ssize_t)PIPE_B);
    pump(100);
    CHECK_EQ(inb(COM1 + LSR) & 0x20, 0x20);
    CHECK_EQ(inb(COM1 + IIR) & 0x0f, 0x02); /* THR empty */
    teardown();
}

/* The VM ends while the UART holds output for a pipe whose reader starts
 * late and reads slowly: every byte arrives, in order.  Before, the bytes
 * the pipe could not take were dropped (got 4096 of 6000). */
static void test_drain_slow_reader(void)
{
    struct slow_reader r = {
        .byte = stream_byte, .start_ms = 200, .chunk = 512, .pause_us = 200};

    setup();
    r.fd = out[0];
    CHECK_EQ(guest_write(0, STREAM_B), STREAM_B);
    CHECK_EQ(slow_reader_start(&r), 0);
    CHECK_EQ(legacy_drain(lg, 5000), 0);
    legacy_destroy(lg); /* closes the write ends: EOF */
    lg = NULL;
    slow_reader_join(&r);
    CHECK_EQ(r.got, STREAM_B);
    CHECK_EQ(r.bad, 0);
    teardown();
}

/* The reader went away: the drain stops at once and logs the loss. */
static void test_drain_epipe(void)
{
    char log[512] = "", want[128];
    int lp[2];
    ssize_t n;

    signal(SIGPIPE, SIG_IGN);
    setup();
    CHECK_EQ(guest_write(0, STREAM_B), STREAM_B);
    close(out[0]);
    out[0] = open("/dev/null", O_RDONLY);
    CHECK_EQ(pipe2(lp, O_NONBLOCK), 0);
    log_configure(LOG_WARN, lp[1], false);
    CHECK_EQ(legacy_drain(lg, 2000), STREAM_B - PIPE_B);
    n = read(lp[0], log, sizeof(log) - 1);
    log[n > 0 ? n : 0] = '\0';
    log_configure(LOG_ERROR, -1, false);
    close(lp[0]);
    snprintf(want, sizeof(want),
             "serial 0x3f8: %u bytes of guest output dropped at exit: %s",
             STREAM_B - PIPE_B, strerror(EPIPE));
    CHECK(strstr(log, want) != NULL);
    teardown();
    signal(SIGPIPE, SIG_DFL);
}

int main(void)
{
    RUN(test_flow_control);
    RUN(test_drain_slow_reader);
    RUN(test_drain_epipe);
    return t_done();
}
