/*
 * test_console.c: virtio-console through the real /dev/kvm, driven by the
 * test guest's own multiport driver (tests/guest/console.c): the ports and
 * names the control queue announces (krun_add_virtio_console_default and the
 * implicit console on non-tty stdio), 10 MiB guest -> host byte-exact,
 * 4 MiB queued by a guest that exits at once, through a slow late reader,
 * host -> guest with EOF delivered as PORT_OPEN 0 (pipe and /dev/null).
 */
#include "guest_run.h"
#include "pattern.h"
#include "t.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libkrun.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One host pipe the guest writes to or reads from, with a thread on the
 * parent's end that writes the pattern or checks the guest's stream. */
struct stream {
    int fds[2];    /* the pipe; the child keeps only its end */
    bool to_guest; /* host writes fds[1], guest reads fds[0] */
    uint64_t len;  /* bytes to write (to_guest) */
    uint64_t got;  /* bytes read (from guest) */
    uint64_t bad;  /* bytes that differ from out_stream_byte() */
    uint64_t first_bad;
    unsigned int delay_ms; /* from guest: start reading this late */
    unsigned int pause_us; /* from guest: pause after each read */
    int pipe_size;         /* 0: the default */
    pthread_t thread;
};

static void die(const char *what)
{
    t_diag("%s: %m", what);
    exit(1);
}

static void *stream_main(void *arg)
{
    struct stream *s = arg;
    uint8_t buf[65536];

    if (s->to_guest) {
        for (uint64_t off = 0; off < s->len;) {
            size_t n = s->len - off < sizeof(buf) ? s->len - off : sizeof(buf);
            ssize_t w;

            pattern_fill(buf, n, off);
            w = write(s->fds[1], buf, n);
            if (w <= 0)
                break;
            off += (uint64_t)w;
        }
        close(s->fds[1]); /* EOF for the guest */
        return NULL;
    }
    usleep(s->delay_ms * 1000);
    for (ssize_t n; (n = read(s->fds[0], buf, sizeof(buf))) > 0;) {
        for (ssize_t i = 0; i < n; i++, s->got++) {
            if (buf[i] != out_stream_byte(s->got) && !s->bad++)
                s->first_bad = s->got;
        }
        usleep(s->pause_us);
    }
    close(s->fds[0]);
    return NULL;
}

static void stream_init(struct stream *s, bool to_guest, uint64_t len)
{
    *s = (struct stream){.to_guest = to_guest, .len = len};
    if (pipe2(s->fds, O_CLOEXEC) < 0)
        die("pipe");
}

/* A guest -> host stream through a one-page pipe whose reader starts
 * (delay_ms) late and pauses after each read. */
static void stream_init_slow(struct stream *s, unsigned int delay_ms,
                             unsigned int pause_us)
{
    stream_init(s, false, 0);
    s->delay_ms = delay_ms;
    s->pause_us = pause_us;
    if (fcntl(s->fds[1], F_SETPIPE_SZ, 4096) != 4096)
        die("F_SETPIPE_SZ");
}

/* The child's end of the pipe. */
static int stream_child_fd(const struct stream *s)
{
    return s->to_guest ? s->fds[0] : s->fds[1];
}

/* In the child: close the parent's end, so the guest sees EOF. */
static void stream_child(struct stream *s)
{
    close(s->to_guest ? s->fds[1] : s->fds[0]);
}

/* In the parent after fork: drop the child's end and start the thread. */
static void stream_forked(void *arg)
{
    struct stream *s = arg;

    close(stream_child_fd(s));
    if (pthread_create(&s->thread, NULL, stream_main, s) != 0)
        die("pthread_create");
}

static void stream_join(struct stream *s)
{
    pthread_join(s->thread, NULL);
}

static bool run_ok(struct guest_opts *o, struct guest_result *r,
                   const char *pass)
{
    bool ok = guest_run(o, r) == 0 && !r->timed_out && r->status == 0 &&
              strstr(r->serial, pass) != NULL;

    if (!ok)
        t_diag("serial: %s", r->serial);
    return ok;
}

static const char names_out[] = "ports=4\n"
                                "port 0 console=1 open=1 name=[]\n"
                                "port 1 console=0 open=1 name=[krun-stdin]\n"
                                "port 2 console=0 open=1 name=[krun-stdout]\n"
                                "port 3 console=0 open=1 name=[krun-stderr]\n"
                                "PASS con_names\n";

#define NAMES_CMDLINE "test=con_names names=krun-stdin,krun-stdout,krun-stderr"

static int setup_default_pipes(uint32_t ctx, void *arg)
{
    int *fds = arg; /* in, out, err: pipes, so not terminals */

    return krun_add_virtio_console_default(ctx, fds[0], fds[1], fds[2]);
}

/* krun_add_virtio_console_default on three pipes: port 0 is the console,
 * ports 1-3 are named krun-stdin/stdout/stderr (§5.1). */
static void test_names_default(void)
{
    struct guest_result r;
    int p[2], fds[3];
    struct guest_opts o = {
        .cmdline = NAMES_CMDLINE, .setup = setup_default_pipes, .arg = fds};

    if (pipe2(p, O_CLOEXEC) < 0)
        die("pipe");
    fds[0] = p[0];
    fds[1] = fds[2] = p[1];
    CHECK(run_ok(&o, &r, "PASS con_names\n"));
    CHECK(strstr(r.serial, names_out) != NULL);
    close(p[0]);
    close(p[1]);
}

static int setup_stdio_pipes(uint32_t ctx, void *arg)
{
    int *p = arg;

    /* stdin and stdout become pipes; stderr is already the log pipe. */
    if (dup2(p[0], 0) < 0 || dup2(p[1], 1) < 0)
        return -1;
    return 0;
}

/* The implicit console on non-tty stdio gets the same named ports. */
static void test_names_implicit(void)
{
    struct guest_result r;
    int p[2];
    struct guest_opts o = {.cmdline = NAMES_CMDLINE,
                           .implicit_console = true,
                           .setup = setup_stdio_pipes,
                           .arg = p};

    if (pipe2(p, O_CLOEXEC) < 0)
        die("pipe");
    CHECK(run_ok(&o, &r, "PASS con_names\n"));
    CHECK(strstr(r.serial, names_out) != NULL);
    close(p[0]);
    close(p[1]);
}

/* The guest received (len) pattern bytes: its checksum line matches. */
static void check_in_line(const struct guest_result *r, uint64_t len)
{
    uint8_t *buf = malloc(len + 1);
    char line[128], want[160];

    if (!buf)
        die("malloc");
    pattern_fill(buf, len, 0);
    csum_line(buf, len, line, sizeof(line));
    free(buf);
    snprintf(want, sizeof(want), "in %s\nin eof=1\n", line);
    if (!strstr(r->serial, want))
        t_diag("want [%s]", want);
    CHECK(strstr(r->serial, want) != NULL);
}

/* The host read exactly the (chains) chains the guest says it sent. */
static void check_out(const struct guest_result *r, const struct stream *s,
                      uint64_t chains)
{
    char line[96];

    snprintf(line, sizeof(line), "out chains=%" PRIu64 " bytes=%" PRIu64 "\n",
             chains, chains * OUT_CHAIN);
    CHECK(strstr(r->serial, line) != NULL);
    CHECK_EQ(s->got, chains * OUT_CHAIN);
    CHECK_EQ(s->bad, 0);
    if (s->bad)
        t_diag("first bad byte at %" PRIu64, s->first_bad);
}

static int setup_out_only(uint32_t ctx, void *arg)
{
    struct stream *s = arg;

    stream_child(s);
    return krun_add_virtio_console_default(ctx, -1, stream_child_fd(s), -1);
}

/* (mib) MiB from the guest through krun-stdout (cmdline options (extra)),
 * read through (s): byte-exact. */
static void run_out(unsigned int mib, const char *extra, struct stream *s)
{
    const uint64_t chains = (((uint64_t)mib << 20) + OUT_CHAIN - 1) / OUT_CHAIN;
    char cmdline[96];
    struct guest_result r;
    struct guest_opts o = {.cmdline = cmdline,
                           .setup = setup_out_only,
                           .forked = stream_forked,
                           .arg = s,
                           .timeout_ms = 60000};

    snprintf(cmdline, sizeof(cmdline), "test=con_out%s chains=%" PRIu64, extra,
             chains);
    CHECK(run_ok(&o, &r, "PASS con_out\n"));
    stream_join(s);
    check_out(&r, s, chains);
}

/* At least 10 MiB from the guest through krun-stdout, byte-exact. */
static void test_out_10mib(void)
{
    struct stream s;

    stream_init(&s, false, 0);
    run_out(10, "", &s);
}

/*
 * The guest queues 4 MiB on krun-stdout and exits at once, without waiting
 * for the host to take it, while the host's reader (a one-page pipe) starts
 * 500 ms late and reads slowly: the VMM drains the ring at exit and every
 * byte arrives.  Before the exit drain the last chains in the ring (and
 * the one a full pipe interrupted) were lost.
 */
static void test_out_at_exit_slow_reader(void)
{
    struct stream s;

    stream_init_slow(&s, 500, 200);
    run_out(4, " flush=0", &s);
}

/* The same, but the guest resets the device before it exits, as Linux does
 * on reboot (virtio_dev_shutdown): what the ring held at the reset must
 * still arrive. */
static void test_out_reset_at_exit(void)
{
    struct stream s;

    stream_init_slow(&s, 500, 200);
    run_out(4, " flush=0 reset=1", &s);
}

static int setup_named_port(uint32_t ctx, void *arg)
{
    struct stream *s = arg;
    int id = krun_add_virtio_console_multiport(ctx);

    stream_child(s);
    if (id < 0)
        return id;
    return krun_add_console_port_inout(ctx, (uint32_t)id, "ckrun-data", -1,
                                       stream_child_fd(s));
}

/* A multiport device with one named port (port 0: queues 0/1). */
static void test_out_named_port(void)
{
    struct guest_result r;
    struct stream s;
    struct guest_opts o = {.cmdline = "test=con_out port=ckrun-data chains=7",
                           .setup = setup_named_port,
                           .forked = stream_forked,
                           .arg = &s};

    stream_init(&s, false, 0);
    CHECK(run_ok(&o, &r, "PASS con_out\n"));
    stream_join(&s);
    check_out(&r, &s, 7);
}

static int setup_in_only(uint32_t ctx, void *arg)
{
    struct stream *s = arg;

    stream_child(s);
    return krun_add_virtio_console_default(ctx, stream_child_fd(s), -1, -1);
}

/* Host -> guest through krun-stdin; closing the pipe is PORT_OPEN 0. */
static void test_in_pipe(uint64_t len)
{
    struct guest_result r;
    struct stream s;
    struct guest_opts o = {.cmdline = "test=con_in",
                           .setup = setup_in_only,
                           .forked = stream_forked,
                           .arg = &s};

    stream_init(&s, true, len);
    CHECK(run_ok(&o, &r, "PASS con_in\n"));
    stream_join(&s);
    check_in_line(&r, len);
}

static void test_in_1mib(void)
{
    test_in_pipe(1u << 20);
}

static void test_in_empty(void)
{
    test_in_pipe(0);
}

static int setup_in_devnull(uint32_t ctx, void *arg)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    return fd < 0 ? -1 : krun_add_virtio_console_default(ctx, fd, -1, -1);
}

/* /dev/null cannot be polled: it is read directly and gives EOF at once. */
static void test_in_devnull(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=con_in", .setup = setup_in_devnull};

    CHECK(run_ok(&o, &r, "PASS con_in\n"));
    check_in_line(&r, 0);
}

int main(void)
{
    guest_require_kvm();
    /* A guest that dies early must fail a check, not kill us via SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    RUN(test_names_default);
    RUN(test_names_implicit);
    RUN(test_out_10mib);
    RUN(test_out_named_port);
    RUN(test_out_at_exit_slow_reader);
    RUN(test_out_reset_at_exit);
    RUN(test_in_1mib);
    RUN(test_in_empty);
    RUN(test_in_devnull);
    return t_done();
}
