/*
 * console.h: virtio-console with the multiport feature (virtio 1.2 §5.3).
 * Port 0 is the console port (/dev/hvcN in the guest); further ports are
 * generic streams (/dev/vportNpM, named through the control queue, e.g.
 * krun-stdin/krun-stdout/krun-stderr, libkrun-behaviour.md §5.1).
 *
 * Everything runs on one event loop, the VMM loop: the queues' kicks, the
 * host input fds and, when a host output fd is full, its EPOLLOUT.
 */
#ifndef KRUN_VIRTIO_CONSOLE_H
#define KRUN_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct evloop;
struct guest_mem;
struct virtio_dev;

#define CONSOLE_MAX_PORTS  31 /* 2 + 2 * ports queues, at most 64 */
#define CONSOLE_NAME_MAX   64
#define CONSOLE_QUEUE_SIZE 32

/* Where a port's bytes come from and go to.  The device owns the fds. */
struct console_port_cfg {
    char name[CONSOLE_NAME_MAX]; /* "" for none; sent as PORT_NAME */
    int in_fd;                   /* host -> guest, -1: none (EOF at once) */
    int out_fd;                  /* guest -> host, -1: discarded */
    bool console;                /* a console port (hvc, resizable) */
    bool out_to_log;             /* out_fd unused: lines go to the log */
    unsigned short cols, rows;   /* console: initial window size */
};

/*
 * Create a console device with (nports) ports described by (ports) on guest
 * memory (gm); input is watched on (loop).  The fds become the device's and
 * are set O_NONBLOCK.  Returns 0 and the device in (*out), or -EINVAL /
 * -ENOMEM.  Build thread.
 */
int console_create(const struct guest_mem *gm, struct evloop *loop,
                   const struct console_port_cfg *ports, unsigned int nports,
                   struct virtio_dev **out);

/*
 * The console port's terminal changed size to (cols) x (rows): update the
 * config space and tell the driver.  VMM loop thread (SIGWINCH handler).
 */
void console_resize(struct virtio_dev *dev, unsigned short cols,
                    unsigned short rows);

/*
 * Put (len) bytes (at most 4 KiB) into the console port's input, as if the
 * host had typed them (a forwarded ^C).  Dropped if earlier input is still
 * waiting for guest buffers.  VMM loop thread.
 */
void console_inject(struct virtio_dev *dev, const void *buf, size_t len);

/*
 * The VM is over: write out everything the guest handed to (dev)'s ports
 * and the host has not written yet, port by port in port order, each in
 * the order the guest queued it: what a device reset took off the ring
 * (the guest kernel resets its devices before it reboots), the request a
 * full fd interrupted, then
 * every request still on the port's transmit queue (kicked or not, at most
 * one queue's worth), then a console line not yet ended by a newline.
 * Waits while an fd is full; gives up on a port at a write error (EPIPE,
 * EIO) or after (stall_ms) without progress, logging how many bytes it
 * dropped.  Returns the number of bytes dropped.
 *
 * VMM loop thread (vm.c's exit path), after the vCPUs were stopped, so the
 * rings no longer change; qlock is held throughout, which also keeps a
 * late reset out.  The device must not be used afterwards except to
 * destroy it.
 */
size_t console_drain(struct virtio_dev *dev, int stall_ms);

/*
 * Fill (ports) (room for CONSOLE_MAX_PORTS) the way libkrun auto-configures a
 * console from a process's (in, out, err) fds (-1: absent): port 0 is the
 * console (its input/output are dups of in/out when they are ttys, else no
 * input and output to the log), plus krun-stdin/krun-stdout/krun-stderr ports
 * for whichever of them is not a tty.  Ttys are put in raw mode (term.h).
 * Returns the number of ports, or -errno (dup failed).  Build thread.
 */
int console_autoconfig(int in, int out, int err,
                       struct console_port_cfg *ports);

#endif /* KRUN_VIRTIO_CONSOLE_H */
