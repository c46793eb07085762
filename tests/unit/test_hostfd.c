/*
 * test_hostfd: the caller's fds that consoles and serial ports make
 * non-blocking get their flags back at exit, also when several fd numbers
 * share one file description (0, 1, 2 on a terminal).  Before hostfd.c the
 * console left O_NONBLOCK set on the caller's terminal or pipe for good.
 */
#include <fcntl.h>
#include <unistd.h>

#include "evloop.h"
#include "hostfd.h"
#include "t.h"
#include "virtio/console.h"
#include "virtio/virtio.h"
#include "fake_mem.h"

static bool nonblocking(int fd)
{
    return fcntl(fd, F_GETFL) & O_NONBLOCK;
}

/* Two fd numbers, one description: the restore ends with the first's
 * original flags, whatever the second saw. */
static void test_shared_description(void)
{
    int p[2], d;

    CHECK_EQ(pipe(p), 0);
    d = dup(p[1]);
    CHECK(d >= 0);
    hostfd_set_nonblock(p[1]);
    CHECK(nonblocking(p[1]) && nonblocking(d));
    hostfd_set_nonblock(d);    /* records O_NONBLOCK as "before" */
    hostfd_set_nonblock(p[1]); /* seen already: no new record */
    hostfd_restore();
    CHECK(!nonblocking(p[1]) && !nonblocking(d));
    close(d);
    close(p[0]);
    close(p[1]);
}

/* An fd that was non-blocking before stays so. */
static void test_keeps_nonblocking(void)
{
    int p[2];

    CHECK_EQ(pipe2(p, O_NONBLOCK), 0);
    hostfd_set_nonblock(p[1]);
    hostfd_restore();
    CHECK(nonblocking(p[1]));
    close(p[0]);
    close(p[1]);
}

/* Through a real console device: its ports' fds come back blocking. */
static void test_console_ports(void)
{
    struct fake_mem mem;
    struct evloop loop;
    struct virtio_dev *dev;
    int in[2], out[2];
    struct console_port_cfg ports[2] = {
        {.name = "", .console = true, .cols = 80, .rows = 25},
        {.name = "krun-stdout", .in_fd = -1},
    };

    fake_mem_init(&mem, 0, 1 << 20);
    CHECK_EQ(evloop_init(&loop, "test"), 0);
    CHECK_EQ(pipe(in), 0);
    CHECK_EQ(pipe(out), 0);
    ports[0].in_fd = in[0];
    ports[0].out_fd = out[1];
    ports[1].out_fd = out[1];
    CHECK_EQ(console_create(&mem.gm, &loop, ports, 2, &dev), 0);
    CHECK(nonblocking(in[0]) && nonblocking(out[1]));
    CHECK_EQ(console_drain(dev, 100), 0);
    hostfd_restore();
    CHECK(!nonblocking(in[0]) && !nonblocking(out[1]));
    virtio_dev_destroy(dev);
    evloop_destroy(&loop);
    fake_mem_free(&mem);
    for (int i = 0; i < 2; i++) {
        close(in[i]);
        close(out[i]);
    }
}

int main(void)
{
    RUN(test_shared_description);
    RUN(test_keeps_nonblocking);
    RUN(test_console_ports);
    return t_done();
}
