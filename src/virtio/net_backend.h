/*
 * net_backend.h: the host side of a virtio-net interface (libkrun-behaviour.md
 * §5.4): a unix stream socket (passt, socket_vmnet: every Ethernet frame
 * behind a 4-byte big-endian length), a unix datagram socket (gvproxy, vmnet:
 * one frame per datagram, optional "VFKT" greeting) or a Linux tap device
 * (frames carry the 12-byte virtio_net_hdr_v1).  This module opens and
 * connects the fd and moves bytes; the framing state machine lives in the
 * device (net.c), which owns the backend after net_backend_open().
 */
#ifndef KRUN_VIRTIO_NET_BACKEND_H
#define KRUN_VIRTIO_NET_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "config.h"

struct net_backend {
    enum vm_net_backend kind;
    int fd;         /* -1 until connected (sockets by path) */
    char *path;     /* socket path or tap name; owned; NULL in fd mode */
    char *bound;    /* unixgram path mode: our own bound socket, unlinked
                       at close */
    bool vfkit;     /* unixgram path mode: send "VFKT" after connect */
    bool connected; /* net_backend_connect() succeeded */
};

/*
 * Fill (be) from (n) (path copied, fd adopted) and, for a tap, open
 * /dev/net/tun now and attach to interface (n->path) with
 * IFF_TAP|IFF_NO_PI|IFF_VNET_HDR and a 12-byte header: the offloads the tap
 * accepts decide the features offered to the guest, before it reads them.
 * Returns 0 or -errno (logged, naming the path; nothing to close).  Build
 * thread.
 */
int net_backend_open(struct net_backend *be, const struct vm_net *n);

/*
 * Connect the socket (path mode: connect(), unixgram also binds its own
 * socket and sends the VFKT greeting; fd mode: nothing but checks), make the
 * fd non-blocking and size its buffers.  Idempotent.  Returns 0 or -errno
 * (logged).  Called when the guest activates the device.
 */
int net_backend_connect(struct net_backend *be);

/*
 * Tell a tap which offloads the guest accepts on receive (GUEST_CSUM,
 * GUEST_TSO4/6, GUEST_UFO of (features), NET_FEATURE_* bits) with
 * TUNSETOFFLOAD.  Returns 0 or -errno; sockets: 0 (nothing to tell).
 */
int net_backend_set_offload(struct net_backend *be, uint32_t features);

/*
 * One non-blocking write of (nr) iovecs (at most IOV_MAX).  Returns the bytes
 * written or -errno (-EAGAIN when full).  Never raises SIGPIPE.
 */
ssize_t net_backend_write(struct net_backend *be, struct iovec *iov,
                          unsigned int nr);

/*
 * One non-blocking read into (nr) iovecs.  Returns the bytes read (0 = the
 * peer closed a stream), or -errno (-EAGAIN when empty).  For a datagram
 * socket or a tap, (*truncated) tells whether the frame was longer than the
 * buffers (its tail is lost).
 */
ssize_t net_backend_read(struct net_backend *be, struct iovec *iov,
                         unsigned int nr, bool *truncated);

/*
 * True if (err) (a negative errno of a read/write on (be)) means the peer is
 * gone for good; false for a full or refusing backend (retry or drop).
 */
bool net_backend_err_is_fatal(const struct net_backend *be, int err);

/* Close the fd, unlink a bound unixgram socket, free the strings. */
void net_backend_close(struct net_backend *be);

#endif /* KRUN_VIRTIO_NET_BACKEND_H */
