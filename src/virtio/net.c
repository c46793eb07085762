/*
 * net.c: virtio-net.  Everything runs on the interface's loop thread under
 * the device's qlock: queue kicks (virtio_dev_kick -> net_notify) and the
 * backend fd (net_backend_ready).  Frames move between descriptor chains and
 * the backend with readv/writev-style calls on the chain's own iovecs; the
 * only copies are a frame with more than NET_TX_MAX_SEGS segments, the tail
 * of a stream frame half-written when the driver resets, and stream frames
 * that must be skipped.  Nothing is allocated per frame.
 *
 * Back-pressure: with no rx buffer the backend fd loses EPOLLIN and waits for
 * the driver's rx kick; a backend that cannot take a tx frame keeps it (the
 * chain stays popped) and the loop waits for EPOLLOUT before the next one.
 */
#define LOG_TAG "virtio-net"
#include "virtio/net.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libkrun.h>
#include <limits.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "evloop.h"
#include "iov.h"
#include "log.h"
#include "sandbox/sandbox.h"
#include "util.h"
#include "virtio/net_backend.h"
#include "virtio/virtio.h"

#define NET_RXQ 0
#define NET_TXQ 1
/* Frames per wakeup and direction, so one side cannot starve the other. */
#define NET_BUDGET 256
/* A tx frame in more segments than this is copied into one buffer. */
#define NET_TX_MAX_SEGS 64
#define ETH_HDR_LEN     14

#define NET_GUEST_GSO                                                          \
    (NET_FEATURE_GUEST_TSO4 | NET_FEATURE_GUEST_TSO6 | NET_FEATURE_GUEST_UFO)
#define NET_HOST_GSO                                                           \
    (NET_FEATURE_HOST_TSO4 | NET_FEATURE_HOST_TSO6 | NET_FEATURE_HOST_UFO)

/* virtio 1.2 §5.1.4; all fields little-endian. */
struct net_config {
    uint8_t mac[6];
    uint16_t status;              /* le16, VIRTIO_NET_S_LINK_UP */
    uint16_t max_virtqueue_pairs; /* le16, 0: no VIRTIO_NET_F_MQ */
} __attribute__((packed));
_Static_assert(sizeof(struct net_config) == 10, "virtio 1.2 §5.1.4");
_Static_assert(sizeof(struct virtio_net_hdr_v1) == NET_HDR_LEN,
               "virtio 1.2 §5.1.6");

struct net_dev {
    struct virtio_dev vdev;
    struct net_config config;
    uint32_t offloads; /* NET_FEATURE_* offered; immutable */
    struct evloop loop;
    bool loop_ok, started;

    /* Owner: the loop thread, under qlock (activation adds the source). */
    struct net_backend be;
    struct ev_source be_src;
    uint32_t be_events; /* EPOLLIN/EPOLLOUT currently watched */
    bool be_added;
    bool dead; /* atomic: the backend is gone */

    /* rx, owner: the loop thread under qlock (reset: both locks). */
    struct virtq_req rx_req;
    bool rx_held;         /* rx_req popped and not pushed yet */
    bool rx_in_frame;     /* stream: inside a frame's payload */
    bool rx_discard;      /* stream: skipping the current frame */
    uint8_t rx_prefix[4]; /* stream: the next frame's length */
    unsigned int rx_prefix_have;
    uint32_t rx_len, rx_done; /* stream: current frame size, bytes read */
    struct iovec rx_iov[VIRTQ_REQ_MAX_SEGS + 1];

    /* tx, same owner. */
    struct virtq_req tx_req;
    bool tx_busy;  /* a frame is being written (tx_it) */
    bool tx_chain; /* ... and it is tx_req's (push when done) */
    bool tx_begun; /* ... and some of its bytes are already out */
    struct iov_iter tx_it;
    uint8_t tx_prefix[4]; /* stream: big-endian frame length */
    struct virtio_net_hdr_v1 tx_hdr;
    uint8_t tx_csum[2]; /* the completed checksum, big-endian */
    struct iovec tx_iov[NET_TX_MAX_SEGS + 8];
    struct iovec tx_slice[NET_TX_MAX_SEGS + 8];
    unsigned int tx_nr;

    struct net_stats stats; /* atomics */

    uint8_t tx_bounce[4 + NET_HDR_LEN + NET_MAX_FRAME];
    uint8_t scratch[NET_MAX_FRAME];
};

static struct net_dev *to_net(struct virtio_dev *dev)
{
    return container_of(dev, struct net_dev, vdev);
}

static void count(uint64_t *c)
{
    __atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static bool is_stream(const struct net_dev *n)
{
    return n->be.kind == VM_NET_UNIXSTREAM;
}

static void set_events(struct net_dev *n, uint32_t ev)
{
    if (!n->be_added || ev == n->be_events)
        return;
    if (evloop_mod(&n->loop, &n->be_src, ev) < 0)
        log_ratelimited(LOG_WARN, "%s: epoll: %m", n->vdev.name);
    n->be_events = ev;
}

/* The backend is gone: stop watching it, report the link down. */
static void backend_died(struct net_dev *n, int err)
{
    uint16_t down = 0;

    if (__atomic_load_n(&n->dead, __ATOMIC_SEQ_CST)) /* loop thread only */
        return;
    log_error("%s: network backend %s %s; the interface carries no more "
              "traffic",
              n->vdev.name, n->be.path ? n->be.path : "(fd)",
              err ? strerror(-err) : "closed the connection");
    if (n->be_added)
        evloop_del(&n->loop, &n->be_src);
    n->be_added = false;
    n->be_events = 0;
    /* Queue lock held, transport lock not: config_update may take it. */
    virtio_dev_config_update(&n->vdev, offsetof(struct net_config, status),
                             &down, sizeof(down));
    __atomic_store_n(&n->dead, true, __ATOMIC_SEQ_CST); /* link down first */
}

/* ---- tx ------------------------------------------------------------------ */

/* One's complement sum of (len) bytes at (p), as 16-bit big-endian words
 * counted from byte parity (*odd); updates the parity. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len, bool *odd)
{
    size_t i = 0;

    if (len && *odd) {
        sum += p[0];
        i = 1;
        *odd = false;
    }
    for (; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (i < len) {
        sum += (uint32_t)p[i] << 8;
        *odd = true;
    }
    return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/*
 * Complete a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) for a peer that
 * expects finished frames: sum the frame from (start) with the guest's
 * pseudo-header sum in the field, and send the field from tx_csum instead of
 * the guest's buffer (which is device-readable only).  (iov, nr) is the
 * frame; the result replaces it in tx_iov from index (base).  Returns the new
 * number of entries, or 0 if they do not fit.
 */
static unsigned int tx_complete_csum(struct net_dev *n, const struct iovec *iov,
                                     unsigned int nr, size_t start,
                                     size_t field, unsigned int base)
{
    unsigned int out = base, max = ARRAY_SIZE(n->tx_iov);
    size_t pos = 0;
    uint64_t sum = 0;
    bool odd = false;

    for (unsigned int i = 0; i < nr; i++) {
        size_t len = iov[i].iov_len, skip = start > pos ? start - pos : 0;

        if (skip < len)
            sum = csum_add(sum, (const uint8_t *)iov[i].iov_base + skip,
                           len - skip, &odd);
        pos += len;
    }
    {
        uint16_t c = csum_fold(sum);

        n->tx_csum[0] = (uint8_t)(c >> 8);
        n->tx_csum[1] = (uint8_t)c;
    }
    /* Copy the entries, cutting [field, field + 2) out and tx_csum in. */
    pos = 0;
    for (unsigned int i = 0; i < nr; i++) {
        uint8_t *b = iov[i].iov_base;
        size_t len = iov[i].iov_len, end = pos + len;

        if (end <= field || pos >= field + 2) {
            if (out == max)
                return 0;
            n->tx_iov[out++] = iov[i];
        } else {
            if (field > pos) {
                if (out == max)
                    return 0;
                n->tx_iov[out++] =
                    (struct iovec){.iov_base = b, .iov_len = field - pos};
            }
            if (pos <= field) {
                if (out == max)
                    return 0;
                n->tx_iov[out++] =
                    (struct iovec){.iov_base = n->tx_csum, .iov_len = 2};
            }
            if (end > field + 2) {
                size_t off = field + 2 - pos;

                if (out == max)
                    return 0;
                n->tx_iov[out++] =
                    (struct iovec){.iov_base = b + off, .iov_len = len - off};
            }
        }
        pos = end;
    }
    return out;
}

/* Check the guest's header copy (hdr) of a (len)-byte frame.  NULL: fine. */
static const char *tx_hdr_problem(struct net_dev *n,
                                  const struct virtio_net_hdr_v1 *h, size_t len)
{
    struct virtio_dev *d = &n->vdev;
    uint8_t gso = h->gso_type;

    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        size_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);

        if (!virtio_dev_has_feature(d, VIRTIO_NET_F_CSUM))
            return "partial checksum without VIRTIO_NET_F_CSUM";
        if (start + off + 2 > len)
            return "checksum field past the frame";
    }
    if (gso == VIRTIO_NET_HDR_GSO_NONE)
        return NULL;
    if (gso == VIRTIO_NET_HDR_GSO_TCPV4
            ? !virtio_dev_has_feature(d, VIRTIO_NET_F_HOST_TSO4)
        : gso == VIRTIO_NET_HDR_GSO_TCPV6
            ? !virtio_dev_has_feature(d, VIRTIO_NET_F_HOST_TSO6)
        : gso == VIRTIO_NET_HDR_GSO_UDP
            ? !virtio_dev_has_feature(d, VIRTIO_NET_F_HOST_UFO)
            : true)
        return "GSO type not negotiated";
    if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        return "GSO frame without a partial checksum";
    if (le16toh(h->gso_size) == 0 || le16toh(h->hdr_len) > len)
        return "GSO sizes out of range";
    return NULL;
}

/* Copy the frame in tx_iov[0..tx_nr) into the bounce buffer. */
static void tx_linearize(struct net_dev *n)
{
    size_t len = 0;

    for (unsigned int i = 0; i < n->tx_nr; i++) {
        memcpy(n->tx_bounce + len, n->tx_iov[i].iov_base, n->tx_iov[i].iov_len);
        len += n->tx_iov[i].iov_len;
    }
    n->tx_iov[0] = (struct iovec){.iov_base = n->tx_bounce, .iov_len = len};
    n->tx_nr = 1;
}

/*
 * Turn the popped tx_req into the bytes the backend wants in tx_iov.
 * Returns NULL or why the frame must be dropped.
 */
static const char *tx_build(struct net_dev *n)
{
    const struct virtq_req *r = &n->tx_req;
    struct iovec frame[NET_TX_MAX_SEGS + 1];
    struct iov_iter it;
    size_t len;
    unsigned int nr, base = 0;
    bool tap = n->be.kind == VM_NET_TAP;

    if (r->rd_len < NET_HDR_LEN + ETH_HDR_LEN)
        return "chain shorter than a header and an Ethernet header";
    len = r->rd_len - NET_HDR_LEN;
    if (len > NET_MAX_FRAME)
        return "frame larger than 65550 bytes";
    virtq_req_reader(r, &it);
    if (iov_read_all(&it, &n->tx_hdr, NET_HDR_LEN) < 0)
        return "short header";
    {
        const char *bad = tx_hdr_problem(n, &n->tx_hdr, len);

        if (bad)
            return bad;
    }
    /* Only a tap carries GSO (we never offered host GSO to the others). */
    nr = iov_slice(&it, len, frame, ARRAY_SIZE(frame));
    if (nr == ARRAY_SIZE(frame)) {
        /* Too many segments to send in place: gather into the bounce
         * (then short enough that tx_linearize never runs on it). */
        size_t got = iov_read(&it, n->tx_bounce, len);

        frame[0] = (struct iovec){.iov_base = n->tx_bounce, .iov_len = got};
        nr = 1;
    }
    if (is_stream(n)) {
        uint32_t be32 = htonl((uint32_t)len);

        memcpy(n->tx_prefix, &be32, 4);
        n->tx_iov[base++] = (struct iovec){n->tx_prefix, 4};
    } else if (tap) {
        n->tx_iov[base++] = (struct iovec){&n->tx_hdr, NET_HDR_LEN};
    }
    if (!tap && (n->tx_hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        size_t start = le16toh(n->tx_hdr.csum_start);

        n->tx_nr = tx_complete_csum(
            n, frame, nr, start, start + le16toh(n->tx_hdr.csum_offset), base);
        if (n->tx_nr == 0)
            return "too many segments";
    } else {
        memcpy(n->tx_iov + base, frame, nr * sizeof(frame[0]));
        n->tx_nr = base + nr;
    }
    if (n->tx_nr > NET_TX_MAX_SEGS)
        tx_linearize(n);
    iov_iter_init(&n->tx_it, n->tx_iov, n->tx_nr);
    return NULL;
}

/*
 * Write what is left of the current frame.  Returns 0 when it is all out,
 * -EAGAIN if the backend is full (wait for EPOLLOUT), -errno otherwise (the
 * frame is lost; the caller decides whether the backend is dead).
 */
static int tx_flush(struct net_dev *n)
{
    while (iov_remaining(&n->tx_it)) {
        unsigned int k = iov_slice(&n->tx_it, iov_remaining(&n->tx_it),
                                   n->tx_slice, ARRAY_SIZE(n->tx_slice));
        ssize_t w = net_backend_write(&n->be, n->tx_slice, k);

        if (w < 0)
            return (int)w;
        n->tx_begun = true;
        if (!is_stream(n)) /* a datagram or tap write is all or nothing */
            return 0;
        iov_skip(&n->tx_it, (size_t)w);
    }
    return 0;
}

/* The current frame is done (sent or lost). */
static void tx_finish(struct net_dev *n, bool sent)
{
    struct virtq *vq = &n->vdev.vqs[NET_TXQ];

    if (n->tx_chain && vq->ready)
        virtq_push(vq, n->tx_req.head, 0);
    n->tx_busy = n->tx_chain = n->tx_begun = false;
    count(sent ? &n->stats.tx_frames : &n->stats.tx_dropped);
}

/* Push out the frame in flight.  Returns false if it must wait. */
static bool tx_resume(struct net_dev *n)
{
    int rc;

    if (!n->tx_busy)
        return true;
    rc = tx_flush(n);
    if (rc == -EAGAIN) {
        set_events(n, n->be_events | EPOLLOUT);
        return false;
    }
    if (rc < 0 &&
        (is_stream(n) && n->tx_begun ? true
                                     : net_backend_err_is_fatal(&n->be, rc))) {
        /* A stream broken mid-frame cannot be resynchronised. */
        backend_died(n, rc);
    } else if (rc < 0) {
        log_ratelimited(LOG_WARN, "%s: tx frame dropped: %s", n->vdev.name,
                        strerror(-rc));
    }
    tx_finish(n, rc == 0);
    return true;
}

static void net_tx(struct net_dev *n)
{
    struct virtq *vq = &n->vdev.vqs[NET_TXQ];
    unsigned int done = 0;
    int rc = 0;

    if (!tx_resume(n))
        return;
    set_events(n, n->be_events & ~(uint32_t)EPOLLOUT);
    while (done < NET_BUDGET && (rc = virtq_pop(vq, &n->tx_req)) > 0) {
        const char *bad = __atomic_load_n(&n->dead, __ATOMIC_SEQ_CST)
                              ? "backend gone"
                              : tx_build(n);

        done++;
        n->tx_busy = n->tx_chain = true;
        if (bad) {
            if (!n->dead)
                log_ratelimited(LOG_WARN, "%s: tx frame dropped: %s",
                                n->vdev.name, bad);
            tx_finish(n, false);
            continue;
        }
        if (!tx_resume(n))
            break;
    }
    if (rc < 0)
        virtio_dev_fail(&n->vdev, "malformed tx chain");
    else if (done == NET_BUDGET && !n->tx_busy) {
        uint64_t one = 1; /* more may wait: come back after rx had a turn */

        if (write(vq->kick.fd, &one, sizeof(one)) < 0)
            log_ratelimited(LOG_WARN, "%s: re-kick: %m", n->vdev.name);
    }
    virtq_notify(vq);
}

/* ---- rx ------------------------------------------------------------------ */

/* Pop an rx chain into rx_req unless one is held.  Returns 1, 0 (none: the
 * fd stops being watched until the driver adds buffers) or -1 (broken). */
static int rx_get(struct net_dev *n)
{
    struct virtq *vq = &n->vdev.vqs[NET_RXQ];
    int rc;

    for (;;) {
        if (n->rx_held)
            return 1;
        rc = virtq_pop(vq, &n->rx_req);
        if (rc < 0) {
            virtio_dev_fail(&n->vdev, "malformed rx chain");
            return -1;
        }
        if (rc > 0) {
            n->rx_held = true;
            if (n->rx_req.wr_len >= NET_HDR_LEN + ETH_HDR_LEN)
                return 1;
            log_ratelimited(LOG_WARN,
                            "%s: rx buffer of %zu bytes is too "
                            "small for any frame",
                            n->vdev.name, n->rx_req.wr_len);
            virtq_push(vq, n->rx_req.head, 0);
            n->rx_held = false;
            continue;
        }
        set_events(n, n->be_events & ~(uint32_t)EPOLLIN);
        if (!virtq_enable_notify(vq))
            return 0;
        set_events(n, n->be_events | EPOLLIN);
    }
}

/* Give the held chain to the guest with (len) frame bytes after a zeroed
 * header (num_buffers 1) written at its start. */
static void rx_deliver(struct net_dev *n, size_t len, bool write_hdr)
{
    struct virtq *vq = &n->vdev.vqs[NET_RXQ];
    struct virtio_net_hdr_v1 h = {.num_buffers = htole16(1)};
    struct iov_iter w;

    virtq_req_writer(&n->rx_req, &w);
    if (write_hdr)
        iov_write(&w, &h, NET_HDR_LEN);
    else if (iov_skip(&w, 10) == 10) /* tap wrote the first 10 bytes */
        iov_write(&w, &h.num_buffers, 2);
    virtq_push(vq, n->rx_req.head, (uint32_t)(NET_HDR_LEN + len));
    n->rx_held = false;
    count(&n->stats.rx_frames);
}

/* The writable buffers of the held chain from byte (skip), (len) bytes,
 * as rx_iov entries (fewer than IOV_MAX, so one more fits).  Returns the
 * count; (*covered) = the bytes they hold (less than len if capped). */
static unsigned int rx_slice(struct net_dev *n, size_t skip, size_t len,
                             size_t *covered)
{
    struct iov_iter w;
    unsigned int k;

    virtq_req_writer(&n->rx_req, &w);
    iov_skip(&w, skip);
    k = iov_slice(&w, len, n->rx_iov, MIN(IOV_MAX - 1, VIRTQ_REQ_MAX_SEGS));
    *covered = 0;
    for (unsigned int i = 0; i < k; i++)
        *covered += n->rx_iov[i].iov_len;
    return k;
}

/* Read a datagram or a tap frame into the next chain.  Returns false when
 * the fd is drained or cannot be read now. */
static bool rx_one_packet(struct net_dev *n)
{
    bool tap = n->be.kind == VM_NET_TAP, trunc;
    size_t skip = tap ? 0 : NET_HDR_LEN; /* a tap writes the header itself */
    size_t hdr = tap ? NET_HDR_LEN : 0;  /* header bytes in what we read */
    size_t covered;
    unsigned int k;
    ssize_t r;

    if (rx_get(n) <= 0)
        return false;
    k = rx_slice(n, skip, n->rx_req.wr_len - skip, &covered);
    r = net_backend_read(&n->be, n->rx_iov, k, &trunc);
    if (r < 0) {
        if (net_backend_err_is_fatal(&n->be, (int)r))
            backend_died(n, (int)r);
        return false;
    }
    if (trunc || (size_t)r <= hdr || (size_t)r - hdr > NET_MAX_FRAME) {
        /* The chain stays held for the next frame. */
        log_ratelimited(LOG_WARN, "%s: rx frame of %zd bytes dropped%s",
                        n->vdev.name, r,
                        trunc ? " (larger than the buffer)" : "");
        count(&n->stats.rx_dropped);
        return true;
    }
    rx_deliver(n, (size_t)r - hdr, !tap);
    return true;
}

/* A stream frame's length arrived in rx_prefix: start the frame. */
static void rx_stream_start(struct net_dev *n)
{
    uint32_t be32;

    memcpy(&be32, n->rx_prefix, 4);
    n->rx_prefix_have = 0;
    n->rx_len = ntohl(be32);
    n->rx_done = 0;
    n->rx_in_frame = n->rx_len != 0;
    n->rx_discard = n->rx_len > NET_MAX_FRAME;
    if (n->rx_discard) {
        log_ratelimited(LOG_WARN,
                        "%s: rx frame of %u bytes from the stream "
                        "skipped (largest %d)",
                        n->vdev.name, n->rx_len, NET_MAX_FRAME);
        count(&n->stats.rx_dropped);
    }
}

/*
 * One read of the stream: the length prefix, or payload into the held chain
 * (or the scratch buffer when skipping) together with the next prefix, so a
 * stream of frames costs one read per frame.  Returns false when drained.
 */
static bool rx_stream_step(struct net_dev *n)
{
    unsigned int k;
    size_t left, covered;
    ssize_t r;
    bool trunc;

    if (!n->rx_in_frame) {
        struct iovec p = {n->rx_prefix + n->rx_prefix_have,
                          4 - n->rx_prefix_have};

        r = net_backend_read(&n->be, &p, 1, &trunc);
        if (r <= 0)
            goto fail;
        n->rx_prefix_have += (unsigned int)r;
        if (n->rx_prefix_have == 4)
            rx_stream_start(n);
        return true;
    }
    left = n->rx_len - n->rx_done;
    if (n->rx_discard) {
        covered = MIN(left, sizeof(n->scratch));
        n->rx_iov[0] = (struct iovec){n->scratch, covered};
        k = 1;
    } else {
        int got = rx_get(n);

        if (got <= 0)
            return false;
        if (n->rx_req.wr_len < NET_HDR_LEN + (size_t)n->rx_len) {
            log_ratelimited(LOG_WARN,
                            "%s: rx frame of %u bytes does not fit "
                            "a %zu-byte buffer",
                            n->vdev.name, n->rx_len, n->rx_req.wr_len);
            count(&n->stats.rx_dropped);
            n->rx_discard = true;
            return true; /* the held chain waits for the next frame */
        }
        k = rx_slice(n, NET_HDR_LEN + n->rx_done, left, &covered);
    }
    if (covered == left) /* the whole rest in view: read the next prefix too */
        n->rx_iov[k++] = (struct iovec){n->rx_prefix, 4};
    r = net_backend_read(&n->be, n->rx_iov, k, &trunc);
    if (r <= 0)
        goto fail;
    if ((size_t)r > left) {
        n->rx_prefix_have = (unsigned int)((size_t)r - left);
        r = (ssize_t)left;
    }
    n->rx_done += (uint32_t)r;
    if (n->rx_done < n->rx_len)
        return true;
    if (!n->rx_discard)
        rx_deliver(n, n->rx_len, true);
    n->rx_in_frame = n->rx_discard = false;
    if (n->rx_prefix_have == 4)
        rx_stream_start(n);
    return true;

fail:
    if (r == 0 || net_backend_err_is_fatal(&n->be, (int)r))
        backend_died(n, (int)r);
    return false;
}

static void net_rx(struct net_dev *n)
{
    struct virtq *vq = &n->vdev.vqs[NET_RXQ];
    uint64_t before = __atomic_load_n(&n->stats.rx_frames, __ATOMIC_RELAXED);

    for (unsigned int i = 0; i < NET_BUDGET && n->be_added; i++)
        if (!(is_stream(n) ? rx_stream_step(n) : rx_one_packet(n)))
            break;
    if (__atomic_load_n(&n->stats.rx_frames, __ATOMIC_RELAXED) != before)
        virtq_notify(vq);
}

/* ---- events -------------------------------------------------------------- */

static bool live(struct net_dev *n)
{
    struct virtio_dev *d = &n->vdev;

    return d->active && !virtio_dev_failed(d) && d->vqs[NET_RXQ].ready &&
           d->vqs[NET_TXQ].ready;
}

/* The backend fd is ready (loop thread). */
static void net_backend_ready(struct ev_source *src, uint32_t events)
{
    struct net_dev *n = container_of(src, struct net_dev, be_src);

    pthread_mutex_lock(&n->vdev.qlock);
    if (!n->be_added)
        goto out;
    if (!live(n)) {
        /* Reset: finish a half-written stream frame, read nothing. */
        if (events & EPOLLOUT)
            tx_resume(n);
        set_events(n, n->tx_busy ? EPOLLOUT : 0);
        if ((events & (EPOLLHUP | EPOLLERR)) && n->be_added)
            backend_died(n, 0);
        goto out;
    }
    if (events & EPOLLOUT)
        net_tx(n);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (n->be_events & EPOLLIN)
            net_rx(n);
        else if (events & (EPOLLHUP | EPOLLERR))
            backend_died(n, 0);
    }
out:
    pthread_mutex_unlock(&n->vdev.qlock);
}

/* A queue kick (loop thread, qlock held). */
static void net_notify(struct virtio_dev *dev, struct virtq *vq)
{
    struct net_dev *n = to_net(dev);

    if (!live(n))
        return;
    if (vq->index == NET_TXQ) {
        net_tx(n);
        return;
    }
    if (!n->be_added)
        return;
    set_events(n, n->be_events | EPOLLIN);
    net_rx(n);
}

/* DRIVER_OK: connect the backend now (§2.7: lazily).  vCPU, both locks. */
static int net_activate(struct virtio_dev *dev)
{
    struct net_dev *n = to_net(dev);
    uint32_t guest = (uint32_t)dev->driver_features & n->offloads;
    int rc;

    if (n->dead)
        return 0; /* carries nothing, but the guest keeps a working device */
    rc = net_backend_connect(&n->be);
    if (rc < 0)
        return rc;
    rc = net_backend_set_offload(&n->be, guest);
    if (rc < 0)
        log_warn("%s: TUNSETOFFLOAD %#x: %s", dev->name, guest, strerror(-rc));
    if (!n->be_added) {
        n->be_src = (struct ev_source){.fd = n->be.fd, .fn = net_backend_ready};
        rc = evloop_add(&n->loop, &n->be_src, EPOLLIN);
        if (rc < 0)
            return rc;
        n->be_added = true;
        n->be_events = EPOLLIN;
    }
    return 0;
}

/* Driver reset (both locks): chains are the guest's again. */
static void net_reset(struct virtio_dev *dev)
{
    struct net_dev *n = to_net(dev);

    /*
     * A stream frame half written must still be finished, or the peer loses
     * the framing: its length is out, so send the rest from where it is
     * (guest RAM stays mapped; if the guest rewrites the buffer meanwhile,
     * only that one frame's bytes change).  The chain is not pushed.
     */
    if (n->tx_busy && is_stream(n) && n->tx_begun)
        n->tx_chain = false;
    else
        n->tx_busy = n->tx_chain = false;
    n->rx_held = false;
    if (n->rx_in_frame)
        n->rx_discard = true;
}

static void net_destroy(struct virtio_dev *dev)
{
    struct net_dev *n = to_net(dev);

    if (n->loop_ok)
        evloop_destroy(&n->loop);
    net_backend_close(&n->be);
    free(n);
}

static const struct virtio_dev_ops net_ops = {
    .name = "net",
    .device_id = VIRTIO_ID_NET,
    .queue_max = NET_QUEUE_SIZE,
    .features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MAC) |
                (1ULL << VIRTIO_NET_F_STATUS) |
                (1ULL << VIRTIO_RING_F_EVENT_IDX),
    .activate = net_activate,
    .notify = net_notify,
    .reset = net_reset,
    .stop = net_stop,
    .destroy = net_destroy,
};

/*
 * The offloads (NET_FEATURE_*) we can honestly offer for (req) on (be): a
 * tap carries everything it accepts; a socket peer gets finished frames (we
 * complete partial checksums, CSUM) and sends us plain ones, so the guest
 * may announce receive offloads but host GSO would need segmentation we do
 * not do.  Offload dependencies of virtio 1.2 §5.1.3.1 are kept.
 */
static uint32_t choose_offloads(struct net_backend *be, uint32_t req,
                                const char *name)
{
    uint32_t f = req;

    if (be->kind != VM_NET_TAP)
        f &= ~(uint32_t)NET_HOST_GSO;
    if (!(f & NET_FEATURE_GUEST_CSUM))
        f &= ~(uint32_t)NET_GUEST_GSO;
    if (!(f & NET_FEATURE_CSUM))
        f &= ~(uint32_t)NET_HOST_GSO;
    /* Kernels without UFO on taps refuse the whole set: retry without. */
    if (be->kind == VM_NET_TAP && net_backend_set_offload(be, f) < 0 &&
        (f & NET_FEATURE_GUEST_UFO))
        f &= ~(uint32_t)NET_FEATURE_GUEST_UFO;
    if (be->kind == VM_NET_TAP && net_backend_set_offload(be, f) < 0) {
        log_warn("%s: tap %s refuses offloads %#x: %m; receive offloads off",
                 name, be->path, f);
        f &= ~(uint32_t)(NET_GUEST_GSO | NET_FEATURE_GUEST_CSUM);
    }
    if (f != req)
        log_debug("%s: offloads %#x requested, %#x offered", name, req, f);
    return f;
}

int net_create(const struct guest_mem *gm, const struct vm_net *cfg,
               const char *name, struct virtio_dev **out)
{
    struct net_dev *n = calloc(1, sizeof(*n));
    int rc;

    if (!n)
        return -ENOMEM;
    rc = net_backend_open(&n->be, cfg);
    if (rc < 0)
        goto err_free;
    rc = virtio_dev_init(&n->vdev, &net_ops, 2, gm, name);
    if (rc < 0)
        goto err_close;
    n->offloads = choose_offloads(&n->be, cfg->features, name);
    n->vdev.features |= n->offloads;
    memcpy(n->config.mac, cfg->mac, 6);
    n->config.status = htole16(VIRTIO_NET_S_LINK_UP);
    n->vdev.config = (uint8_t *)&n->config;
    n->vdev.config_len = sizeof(n->config);
    rc = evloop_init(&n->loop, "krun-net");
    if (rc < 0) {
        virtio_dev_destroy(&n->vdev); /* frees n through net_destroy */
        return rc;
    }
    n->loop_ok = true;
    *out = &n->vdev;
    return 0;

err_close:
    net_backend_close(&n->be);
err_free:
    free(n);
    return rc;
}

struct evloop *net_loop(struct virtio_dev *dev)
{
    return &to_net(dev)->loop;
}

int net_start(struct virtio_dev *dev)
{
    struct net_dev *n = to_net(dev);
    int rc = evloop_start_thread(&n->loop, SANDBOX_NET_LOOP);

    n->started = rc == 0;
    return rc;
}

void net_stop(struct virtio_dev *dev)
{
    struct net_dev *n = to_net(dev);

    if (n->loop_ok)
        evloop_destroy(&n->loop); /* idempotent; net_destroy repeats it */
}

uint32_t net_offered_offloads(struct virtio_dev *dev)
{
    return to_net(dev)->offloads;
}

void net_get_stats(struct virtio_dev *dev, struct net_stats *out)
{
    const struct net_stats *s = &to_net(dev)->stats;

    out->rx_frames = __atomic_load_n(&s->rx_frames, __ATOMIC_RELAXED);
    out->tx_frames = __atomic_load_n(&s->tx_frames, __ATOMIC_RELAXED);
    out->rx_dropped = __atomic_load_n(&s->rx_dropped, __ATOMIC_RELAXED);
    out->tx_dropped = __atomic_load_n(&s->tx_dropped, __ATOMIC_RELAXED);
}

bool net_backend_dead(struct virtio_dev *dev)
{
    return __atomic_load_n(&to_net(dev)->dead, __ATOMIC_SEQ_CST);
}
