/* net_backend.c: the host fds behind virtio-net (see net_backend.h). */
#define LOG_TAG "virtio-net"
#include "virtio/net_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <libkrun.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* Socket buffer sizes of upstream (§5.4). */
#define STREAM_SNDBUF (16 << 20)
#define DGRAM_BUF     (7 << 20)
#define VNET_HDR_LEN  12

static int tap_open(struct net_backend *be)
{
    struct ifreq ifr = {0};
    int hdr = VNET_HDR_LEN;
    int fd;

    if (strlen(be->path) >= IFNAMSIZ) {
        log_error("tap name '%s' is longer than %d bytes", be->path,
                  IFNAMSIZ - 1);
        return -EINVAL;
    }
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int err = -errno;

        log_error("tap %s: cannot open /dev/net/tun: %s", be->path,
                  strerror(-err));
        return err;
    }
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", be->path);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
        ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
        int err = -errno;

        log_error("tap %s: cannot attach (TUNSETIFF/TUNSETVNETHDRSZ): %s",
                  be->path, strerror(-err));
        close(fd);
        return err;
    }
    be->fd = fd;
    be->connected = true;
    return 0;
}

int net_backend_open(struct net_backend *be, const struct vm_net *n)
{
    int rc = 0;

    memset(be, 0, sizeof(*be));
    be->kind = n->backend;
    be->fd = -1;
    be->vfkit =
        n->backend == VM_NET_UNIXGRAM && n->path && (n->flags & NET_FLAG_VFKIT);
    if (n->path && !(be->path = strdup(n->path)))
        return -ENOMEM;
    if (be->kind == VM_NET_TAP) {
        rc = tap_open(be);
    } else if (!be->path && fcntl(n->fd, F_GETFD) < 0) {
        log_error("network socket fd %d is not open", n->fd);
        rc = -EBADF;
    } else if (!be->path) {
        be->fd = n->fd; /* adopted: closed with the backend */
    }
    if (rc < 0) {
        free(be->path);
        be->path = NULL;
    }
    return rc;
}

static int sockaddr_for(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path)) {
        log_error("socket path '%s' is longer than %zu bytes", path,
                  sizeof(sun->sun_path) - 1);
        return -ENAMETOOLONG;
    }
    memcpy(sun->sun_path, path, strlen(path) + 1);
    return 0;
}

/* unixgram path mode: bind $TMPDIR/krun-net-<pid>-<n>.sock (§5.4). */
static int dgram_bind(struct net_backend *be, int fd)
{
    static unsigned int counter;
    const char *tmp = getenv("TMPDIR");
    struct sockaddr_un sun;
    char path[sizeof(sun.sun_path)];
    int rc;

    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (snprintf(path, sizeof(path), "%s/krun-net-%d-%u.sock", tmp,
                 (int)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED)) >=
        (int)sizeof(path)) {
        log_error("unixgram: TMPDIR '%s' too long for a socket path", tmp);
        return -ENAMETOOLONG;
    }
    rc = sockaddr_for(path, &sun);
    if (rc < 0)
        return rc;
    unlinkat(AT_FDCWD, path, 0); /* the syscall the seccomp lists allow */
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        rc = -errno;
        log_error("unixgram: cannot bind %s: %s", path, strerror(-rc));
        return rc;
    }
    be->bound = strdup(path);
    return be->bound ? 0 : -ENOMEM;
}

static int sock_connect_path(struct net_backend *be)
{
    int type = be->kind == VM_NET_UNIXSTREAM ? SOCK_STREAM : SOCK_DGRAM;
    struct sockaddr_un sun;
    int fd, rc = sockaddr_for(be->path, &sun);

    if (rc < 0)
        return rc;
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (type == SOCK_DGRAM && (rc = dgram_bind(be, fd)) < 0)
        goto err_close;
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        rc = -errno;
        log_error("cannot connect to network socket %s: %s", be->path,
                  strerror(-rc));
        goto err_close;
    }
    if (be->vfkit && send(fd, "VFKT", 4, MSG_NOSIGNAL) != 4) {
        rc = -errno;
        log_error("unixgram %s: VFKT greeting: %s", be->path, strerror(-rc));
        goto err_close;
    }
    be->fd = fd;
    return 0;

err_close:
    close(fd);
    return rc;
}

int net_backend_connect(struct net_backend *be)
{
    int snd = be->kind == VM_NET_UNIXSTREAM ? STREAM_SNDBUF : DGRAM_BUF;
    int rcv = DGRAM_BUF, fl, rc;

    if (be->connected)
        return 0;
    if (be->fd < 0 && (rc = sock_connect_path(be)) < 0)
        return rc;
    fl = fcntl(be->fd, F_GETFL);
    if (fl < 0 || fcntl(be->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        rc = -errno;
        log_error("network socket: O_NONBLOCK: %s", strerror(-rc));
        return rc;
    }
    /* Best effort: a smaller buffer only costs throughput. */
    if (setsockopt(be->fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd)) < 0)
        log_debug("SO_SNDBUF %d: %m", snd);
    if (be->kind == VM_NET_UNIXGRAM &&
        setsockopt(be->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) < 0)
        log_debug("SO_RCVBUF %d: %m", rcv);
    be->connected = true;
    return 0;
}

int net_backend_set_offload(struct net_backend *be, uint32_t features)
{
    unsigned int off = 0;

    if (be->kind != VM_NET_TAP)
        return 0;
    if (features & NET_FEATURE_GUEST_CSUM)
        off |= TUN_F_CSUM;
    if (features & NET_FEATURE_GUEST_TSO4)
        off |= TUN_F_TSO4;
    if (features & NET_FEATURE_GUEST_TSO6)
        off |= TUN_F_TSO6;
    if (features & NET_FEATURE_GUEST_UFO)
        off |= TUN_F_UFO;
    return ioctl(be->fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}

ssize_t net_backend_write(struct net_backend *be, struct iovec *iov,
                          unsigned int nr)
{
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = nr};
    ssize_t n;

    do {
        n = be->kind == VM_NET_TAP
                ? writev(be->fd, iov, (int)nr)
                : sendmsg(be->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

ssize_t net_backend_read(struct net_backend *be, struct iovec *iov,
                         unsigned int nr, bool *truncated)
{
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = nr};
    ssize_t n;

    *truncated = false;
    do {
        n = be->kind == VM_NET_TAP ? readv(be->fd, iov, (int)nr)
                                   : recvmsg(be->fd, &mh, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    *truncated = (mh.msg_flags & MSG_TRUNC) != 0;
    return n;
}

bool net_backend_err_is_fatal(const struct net_backend *be, int err)
{
    /* A tap that is not up refuses writes with EIO: not the end. */
    if (be->kind == VM_NET_TAP && err == -EIO)
        return false;
    return err != -EAGAIN && err != -EWOULDBLOCK && err != -EINTR &&
           err != -ENOBUFS && err != -ENOMEM;
}

void net_backend_close(struct net_backend *be)
{
    if (be->fd >= 0)
        close(be->fd);
    be->fd = -1;
    if (be->bound)
        unlinkat(AT_FDCWD, be->bound, 0);
    free(be->bound);
    free(be->path);
    be->bound = be->path = NULL;
    be->connected = false;
}
