/*
 * test_net.c: virtio-net on fake guest memory with its real loop thread,
 * against a socketpair peer: the framing of the stream and datagram
 * backends both ways, checksum completion, back-pressure, hostile headers
 * and chains, the peer going away.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libkrun.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "fake_driver.h"
#include "t.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/virtio.h"

#define RAM_SIZE (8ULL << 20)
#define RXQ_BASE 0x1000ULL
#define TXQ_BASE 0x4000ULL
#define RX_DATA  0x100000ULL /* rx buffers: 64 KiB + 4 KiB apart */
#define TX_DATA  0x500000ULL
#define QSIZE    16
#define S_ALL                                                                  \
    (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |                    \
     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)
#define BASE_FEATURES                                                          \
    (1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC |                   \
     1ULL << VIRTIO_NET_F_STATUS)

static struct fake_mem mem;
static struct fake_vq *rxq, *txq;
static struct virtio_dev *dev;
static int irqfd, peer, devfd;
static uint16_t rx_next, tx_next; /* next free descriptor */
static uint64_t tx_gpa;

static const uint8_t mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xee};

/* Wire (dev) like vm.c, start its loop and drive the driver through
 * DRIVER_OK acking (ack).  Returns the status read back, -1 if FEATURES_OK
 * was refused. */
static int start_dev(uint64_t ack)
{
    irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK_EQ(mmio_setup(dev, 0xd0000000, 5, irqfd), 0);
    for (unsigned int q = 0; q < 2; q++)
        CHECK_EQ(evloop_add(net_loop(dev), &dev->vqs[q].kick, EPOLLIN), 0);
    CHECK_EQ(net_start(dev), 0);
    if (fake_mmio_negotiate(dev, ack) != (S_ALL & ~VIRTIO_CONFIG_S_DRIVER_OK))
        return -1;
    fake_vq_init(rxq, &mem, QSIZE, RXQ_BASE);
    fake_vq_init(txq, &mem, QSIZE, TXQ_BASE);
    fake_mmio_setup_queue(dev, 0, rxq);
    fake_mmio_setup_queue(dev, 1, txq);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, S_ALL);
    rx_next = tx_next = 0;
    tx_gpa = TX_DATA;
    return (int)fake_mmio_read(dev, VIRTIO_MMIO_STATUS);
}

static int setup_with(int type, uint32_t features, uint64_t ack)
{
    struct vm_net cfg = {.backend = type == SOCK_STREAM ? VM_NET_UNIXSTREAM
                                                        : VM_NET_UNIXGRAM,
                         .features = features};
    int sv[2];

    fake_mem_init(&mem, 0, RAM_SIZE);
    CHECK_EQ(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
    peer = sv[1];
    devfd = cfg.fd = sv[0];
    memcpy(cfg.mac, mac, 6);
    CHECK_EQ(net_create(&mem.gm, &cfg, "eth0", &dev), 0);
    return start_dev(ack);
}

static void setup(int type)
{
    CHECK_EQ(setup_with(type, COMPAT_NET_FEATURES,
                        BASE_FEATURES | 1ULL << VIRTIO_NET_F_CSUM),
             S_ALL);
}

static void teardown(void)
{
    net_stop(dev); /* the loop thread first: destroy frees the queues */
    virtio_dev_destroy(dev);
    close(irqfd);
    if (peer >= 0)
        close(peer);
    fake_mem_free(&mem);
}

/* QueueNotify: the transport signals the queue's kick eventfd. */
static void kick(unsigned int q)
{
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Wait until queue (f) has (n) used entries (the loop thread works). */
static bool wait_used(struct fake_vq *f, uint16_t n)
{
    for (int i = 0; i < 5000; i++) {
        if (__atomic_load_n((uint16_t *)fake_mem_at(&mem, f->used + 2),
                            __ATOMIC_ACQUIRE) == n)
            return true;
        usleep(1000);
    }
    t_diag("used idx %u, want %u", fake_vq_used_idx(f), n);
    return false;
}

/* Post an rx buffer of (len) bytes, in (segs) descriptors. */
static uint64_t post_rx(uint32_t len, unsigned int segs)
{
    uint64_t gpa = RX_DATA + (uint64_t)(rx_next % QSIZE) * 0x11000;
    uint16_t head = rx_next;
    uint32_t per = len / segs;

    for (unsigned int i = 0; i < segs; i++) {
        uint32_t l = i + 1 == segs ? len - per * i : per;
        uint16_t idx = (uint16_t)((rx_next + i) % QSIZE);

        fake_vq_desc(rxq, idx, gpa + (uint64_t)per * i, l,
                     VRING_DESC_F_WRITE |
                         (i + 1 < segs ? VRING_DESC_F_NEXT : 0),
                     (uint16_t)((idx + 1) % QSIZE));
    }
    rx_next = (uint16_t)(rx_next + segs);
    memset(fake_mem_at(&mem, gpa), 0xaa, len);
    fake_vq_publish(rxq, head % QSIZE);
    kick(0);
    return gpa;
}

/*
 * Post a tx chain: (hdr) then (len) frame bytes, cut into descriptors at the
 * (ncuts) chain offsets (cuts) (ascending, inside the chain).
 */
static void post_tx_cut(const struct virtio_net_hdr_v1 *hdr, const void *frame,
                        size_t len, const size_t *cuts, unsigned int ncuts)
{
    size_t total = NET_HDR_LEN + len, at = 0;
    uint64_t gpa = tx_gpa;
    uint16_t head = tx_next % QSIZE;

    memcpy(fake_mem_at(&mem, gpa), hdr, NET_HDR_LEN);
    memcpy(fake_mem_at(&mem, gpa + NET_HDR_LEN), frame, len);
    for (unsigned int i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : total;
        uint16_t idx = (uint16_t)((tx_next + i) % QSIZE);

        fake_vq_desc(txq, idx, gpa + at, (uint32_t)(end - at),
                     i < ncuts ? VRING_DESC_F_NEXT : 0,
                     (uint16_t)((idx + 1) % QSIZE));
        at = end;
    }
    tx_next = (uint16_t)(tx_next + ncuts + 1);
    tx_gpa += (total + 4095) & ~4095ULL;
    if (tx_gpa + 0x11000 > RAM_SIZE)
        tx_gpa = TX_DATA;
    fake_vq_publish(txq, head);
}

/* Post a tx chain in (segs) equal descriptors. */
static void post_tx(const struct virtio_net_hdr_v1 *hdr, const void *frame,
                    size_t len, unsigned int segs)
{
    size_t cuts[16] = {0}, per = (NET_HDR_LEN + len) / segs;

    for (unsigned int i = 1; i < segs; i++)
        cuts[i - 1] = per * i;
    post_tx_cut(hdr, frame, len, cuts, segs - 1);
}

/* Read exactly (len) bytes from the peer (5 s at most). */
static bool peer_read(void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd p = {.fd = peer, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, 5000) != 1)
            return false;
        n = read(peer, (uint8_t *)buf + got, len - got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

static uint64_t stat_tx_dropped(void)
{
    struct net_stats s;

    net_get_stats(dev, &s);
    return s.tx_dropped;
}

/* ---- tests --------------------------------------------------------------- */

static void test_features_and_config(void)
{
    uint8_t cfg[10];

    setup(SOCK_STREAM);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX), 1024);
    /* COMPAT asks for host TSO/UFO: a socket peer gets none of it. */
    CHECK_EQ(net_offered_offloads(dev),
             NET_FEATURE_CSUM | NET_FEATURE_GUEST_CSUM |
                 NET_FEATURE_GUEST_TSO4 | NET_FEATURE_GUEST_UFO);
    fake_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES),
             (1u << VIRTIO_NET_F_CSUM) | (1u << VIRTIO_NET_F_GUEST_CSUM) |
                 (1u << VIRTIO_NET_F_GUEST_TSO4) |
                 (1u << VIRTIO_NET_F_GUEST_UFO) | (1u << VIRTIO_NET_F_MAC) |
                 (1u << VIRTIO_NET_F_STATUS) | (1u << VIRTIO_RING_F_EVENT_IDX));
    for (unsigned int i = 0; i < 10; i++) {
        uint8_t b;

        mmio_read(dev, VIRTIO_MMIO_CONFIG + i, &b, 1);
        cfg[i] = b;
    }
    CHECK(memcmp(cfg, mac, 6) == 0);
    CHECK_EQ(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
    teardown();
    /* Host GSO without CSUM, guest GSO without GUEST_CSUM: dropped. */
    setup_with(SOCK_STREAM, NET_FEATURE_GUEST_TSO4 | NET_FEATURE_HOST_TSO4,
               BASE_FEATURES);
    CHECK_EQ(net_offered_offloads(dev), 0);
    teardown();
}

static void test_tx_stream_framing(void)
{
    struct virtio_net_hdr_v1 h = {0};
    uint8_t frame[1500], got[4 + 1500];

    setup(SOCK_STREAM);
    fill(frame, sizeof(frame), 1);
    post_tx(&h, frame, 60, 1);
    post_tx(&h, frame, 1500, 3); /* header split over descriptors */
    kick(1);
    CHECK(wait_used(txq, 2));
    CHECK(peer_read(got, 4 + 60));
    CHECK_EQ(ntohl(*(uint32_t *)got), 60);
    CHECK(memcmp(got + 4, frame, 60) == 0);
    CHECK(peer_read(got, 4 + 1500));
    CHECK_EQ(ntohl(*(uint32_t *)got), 1500);
    CHECK(memcmp(got + 4, frame, 1500) == 0);
    CHECK_EQ(fake_vq_used_elem(txq, 0).len, 0);
    CHECK_EQ(stat_tx_dropped(), 0);
    teardown();
}

static void test_tx_dgram_framing(void)
{
    struct virtio_net_hdr_v1 h = {0};
    uint8_t frame[1000], got[2000];

    setup(SOCK_DGRAM);
    fill(frame, sizeof(frame), 9);
    post_tx(&h, frame, 1000, 4);
    kick(1);
    CHECK(wait_used(txq, 1));
    CHECK_EQ(recv(peer, got, sizeof(got), MSG_DONTWAIT), 1000);
    CHECK(memcmp(got, frame, 1000) == 0);
    teardown();
}

/* The reference: the UDP checksum of RFC 768 computed from scratch. */
static uint16_t ref_udp_csum(const uint8_t *ip, const uint8_t *udp, size_t ulen)
{
    uint32_t sum = 0;

    for (int i = 12; i < 20; i += 2) /* source and destination addresses */
        sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    sum += 17 + (uint32_t)ulen;
    for (size_t i = 0; i < ulen; i += 2) {
        uint32_t w = (uint32_t)udp[i] << 8;

        if (i + 1 < ulen)
            w |= udp[i + 1];
        if (i != 6) /* the checksum field counts as zero */
            sum += w;
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void test_tx_checksum_completed(void)
{
    uint8_t frame[14 + 20 + 8 + 11] = {0}, got[4 + sizeof(frame)];
    uint8_t *ip = frame + 14, *udp = ip + 20;
    struct virtio_net_hdr_v1 h = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .csum_start = htole16(34),
        .csum_offset = htole16(6),
    };
    uint32_t pseudo = 0;
    uint16_t want;

    setup(SOCK_STREAM);
    frame[12] = 0x08;
    ip[0] = 0x45;
    ip[9] = 17;
    memcpy(ip + 12, (uint8_t[]){10, 0, 2, 15, 169, 254, 2, 2}, 8);
    udp[1] = 68, udp[3] = 67, udp[5] = 19; /* length 8 + 11 */
    memcpy(udp + 8, "hello world", 11);
    want = ref_udp_csum(ip, udp, 19);
    /* As a guest leaves it: the folded pseudo-header sum in the field. */
    for (int i = 12; i < 20; i += 2)
        pseudo += (uint32_t)ip[i] << 8 | ip[i + 1];
    pseudo += 17 + 19;
    while (pseudo >> 16)
        pseudo = (pseudo & 0xffff) + (pseudo >> 16);
    udp[6] = (uint8_t)(pseudo >> 8);
    udp[7] = (uint8_t)pseudo;
    /* Cut so the checksum field (chain bytes 52-53) straddles two
     * descriptors, after segments of odd length. */
    post_tx_cut(&h, frame, sizeof(frame), (size_t[]){5, 12, 31, 53}, 4);
    kick(1);
    CHECK(wait_used(txq, 1));
    CHECK(peer_read(got, sizeof(got)));
    CHECK_EQ(got[4 + 40] << 8 | got[4 + 41], want);
    got[4 + 40] = udp[6], got[4 + 41] = udp[7];
    CHECK(memcmp(got + 4, frame, sizeof(frame)) == 0); /* nothing else */
    /* The guest's buffer is device-readable only: left as it was. */
    CHECK_EQ(*(uint8_t *)fake_mem_at(&mem, TX_DATA + NET_HDR_LEN + 40), udp[6]);
    teardown();
}

static void test_tx_hostile(void)
{
    struct virtio_net_hdr_v1 h = {0},
                             gso = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                    .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                    .hdr_len = htole16(54),
                                    .gso_size = htole16(1448),
                                    .csum_start = htole16(34),
                                    .csum_offset = htole16(16)};
    struct virtio_net_hdr_v1 past = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                     .csum_start = htole16(90),
                                     .csum_offset = htole16(9)};
    struct virtio_net_hdr_v1 ecn = {.gso_type = VIRTIO_NET_HDR_GSO_ECN};
    uint8_t frame[100] = {0}, got[4 + 100];

    setup(SOCK_STREAM);
    post_tx(&h, frame, 5, 1);      /* shorter than an Ethernet header */
    post_tx(&gso, frame, 100, 1);  /* GSO never offered to a stream peer */
    post_tx(&past, frame, 100, 2); /* checksum field beyond the frame */
    post_tx(&ecn, frame, 100, 1);  /* nonsense GSO type */
    /* A 16-byte "header" only: chain shorter than a header + Ethernet. */
    fake_vq_desc(txq, tx_next % QSIZE, TX_DATA, 16, 0, 0);
    fake_vq_publish(txq, tx_next++ % QSIZE);
    /* A frame above 65550 bytes. */
    fake_vq_desc(txq, tx_next % QSIZE, TX_DATA, NET_HDR_LEN + NET_MAX_FRAME + 1,
                 0, 0);
    fake_vq_publish(txq, tx_next++ % QSIZE);
    fill(frame, sizeof(frame), 3);
    post_tx(&h, frame, 100, 1); /* and a good one still goes through */
    kick(1);
    CHECK(wait_used(txq, 7));
    CHECK_EQ(stat_tx_dropped(), 6);
    CHECK(peer_read(got, sizeof(got)));
    CHECK_EQ(ntohl(*(uint32_t *)got), 100);
    CHECK(memcmp(got + 4, frame, 100) == 0);
    CHECK_EQ(recv(peer, got, 1, MSG_DONTWAIT), -1); /* nothing else sent */
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_STATUS), S_ALL); /* no reset */
    teardown();
}

static void test_rx_stream(void)
{
    uint8_t wire[2 * 4 + 60 + 1400], frame[1400];
    struct virtio_net_hdr_v1 h;
    uint64_t b0, b1;

    setup(SOCK_STREAM);
    fill(frame, sizeof(frame), 5);
    *(uint32_t *)wire = htonl(60);
    memcpy(wire + 4, frame, 60);
    *(uint32_t *)(wire + 64) = htonl(1400);
    memcpy(wire + 68, frame, 1400);
    b0 = post_rx(2048, 1);
    b1 = post_rx(2048, 3);
    /* Two frames in one write, then nothing: both delivered. */
    CHECK_EQ(write(peer, wire, sizeof(wire)), (ssize_t)sizeof(wire));
    CHECK(wait_used(rxq, 2));
    CHECK_EQ(fake_vq_used_elem(rxq, 0).len, NET_HDR_LEN + 60);
    CHECK_EQ(fake_vq_used_elem(rxq, 1).len, NET_HDR_LEN + 1400);
    memcpy(&h, fake_mem_at(&mem, b0), sizeof(h));
    CHECK_EQ(h.flags | h.gso_type | h.hdr_len | h.csum_start, 0);
    CHECK_EQ(le16toh(h.num_buffers), 1);
    CHECK(memcmp(fake_mem_at(&mem, b0 + NET_HDR_LEN), frame, 60) == 0);
    CHECK(memcmp(fake_mem_at(&mem, b1 + NET_HDR_LEN), frame, 1400) == 0);
    CHECK_EQ(*(uint8_t *)fake_mem_at(&mem, b0 + NET_HDR_LEN + 60), 0xaa);
    teardown();
}

static void test_rx_stream_partial_and_oversize(void)
{
    uint8_t frame[3000];
    uint32_t len = htonl(3000), big = htonl(70000);
    static uint8_t junk[70000];
    uint64_t b;

    setup(SOCK_STREAM);
    fill(frame, sizeof(frame), 11);
    b = post_rx(4096, 2);
    /* Length prefix split, then the frame in three pieces. */
    CHECK_EQ(write(peer, &len, 2), 2);
    usleep(20000);
    CHECK_EQ(write(peer, (uint8_t *)&len + 2, 2), 2);
    CHECK_EQ(write(peer, frame, 1000), 1000);
    usleep(20000);
    CHECK_EQ(fake_vq_used_idx(rxq), 0);
    CHECK_EQ(write(peer, frame + 1000, 1999), 1999);
    usleep(20000);
    CHECK_EQ(fake_vq_used_idx(rxq), 0);
    CHECK_EQ(write(peer, frame + 2999, 1), 1);
    CHECK(wait_used(rxq, 1));
    CHECK_EQ(fake_vq_used_elem(rxq, 0).len, NET_HDR_LEN + 3000);
    CHECK(memcmp(fake_mem_at(&mem, b + NET_HDR_LEN), frame, 3000) == 0);
    /* A 70000-byte frame is skipped whole; the stream stays in step. */
    b = post_rx(2048, 1);
    CHECK_EQ(write(peer, &big, 4), 4);
    CHECK_EQ(write(peer, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    /* A frame larger than the posted buffer is skipped too. */
    CHECK_EQ(write(peer, &len, 4), 4);
    CHECK_EQ(write(peer, frame, 3000), 3000);
    len = htonl(100);
    CHECK_EQ(write(peer, &len, 4), 4);
    CHECK_EQ(write(peer, frame + 7, 100), 100);
    CHECK(wait_used(rxq, 2));
    CHECK_EQ(fake_vq_used_elem(rxq, 1).len, NET_HDR_LEN + 100);
    CHECK(memcmp(fake_mem_at(&mem, b + NET_HDR_LEN), frame + 7, 100) == 0);
    teardown();
}

/* Regression guard for the rx buffer check: post a small buffer. */
static void test_rx_small_buffer(void)
{
    uint8_t frame[3000];
    uint32_t len = htonl(3000);
    struct net_stats s;

    setup(SOCK_STREAM);
    fill(frame, sizeof(frame), 2);
    post_rx(1500, 1);
    CHECK_EQ(write(peer, &len, 4), 4);
    CHECK_EQ(write(peer, frame, 3000), 3000);
    for (int i = 0; i < 5000; i++) {
        net_get_stats(dev, &s);
        if (s.rx_dropped)
            break;
        usleep(1000);
    }
    CHECK_EQ(s.rx_dropped, 1);
    CHECK_EQ(fake_vq_used_idx(rxq), 0); /* the buffer waits for the next */
    len = htonl(1000);
    CHECK_EQ(write(peer, &len, 4), 4);
    CHECK_EQ(write(peer, frame, 1000), 1000);
    CHECK(wait_used(rxq, 1));
    CHECK_EQ(fake_vq_used_elem(rxq, 0).len, NET_HDR_LEN + 1000);
    teardown();
}

static void test_rx_dgram_and_no_buffers(void)
{
    uint8_t frame[1200];
    uint64_t b;

    setup(SOCK_DGRAM);
    fill(frame, sizeof(frame), 4);
    /* No buffer yet: the datagram waits in the socket. */
    CHECK_EQ(send(peer, frame, 1200, 0), 1200);
    CHECK_EQ(send(peer, frame, 64, 0), 64);
    usleep(30000);
    CHECK_EQ(fake_vq_used_idx(rxq), 0);
    b = post_rx(2048, 1);
    CHECK(wait_used(rxq, 1));
    CHECK_EQ(fake_vq_used_elem(rxq, 0).len, NET_HDR_LEN + 1200);
    CHECK(memcmp(fake_mem_at(&mem, b + NET_HDR_LEN), frame, 1200) == 0);
    b = post_rx(2048, 2);
    CHECK(wait_used(rxq, 2));
    CHECK_EQ(fake_vq_used_elem(rxq, 1).len, NET_HDR_LEN + 64);
    teardown();
}

static void test_tx_backpressure(void)
{
    struct virtio_net_hdr_v1 h = {0};
    static uint8_t frame[60000], got[4 + 60000];
    int small = 4096;

    setup(SOCK_STREAM);
    /* The device raised it to 16 MiB at activation; shrink it again. */
    CHECK_EQ(setsockopt(devfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
             0);
    /* 12 frames of 60000 bytes: far more than the socket holds. */
    for (int i = 0; i < 12; i++) {
        fill(frame, 16, (uint8_t)i);
        post_tx(&h, frame, sizeof(frame), 1);
    }
    kick(1);
    usleep(50000);
    CHECK(fake_vq_used_idx(txq) < 12); /* blocked, not dropped */
    for (int i = 0; i < 12; i++) {
        uint8_t want[16];

        fill(want, 16, (uint8_t)i);
        CHECK(peer_read(got, sizeof(got)));
        CHECK_EQ(ntohl(*(uint32_t *)got), 60000);
        CHECK(memcmp(got + 4, want, 16) == 0);
    }
    CHECK(wait_used(txq, 12));
    CHECK_EQ(stat_tx_dropped(), 0);
    teardown();
}

static void test_peer_dies(void)
{
    struct virtio_net_hdr_v1 h = {0};
    uint8_t frame[100] = {0}, cfg[2];

    setup(SOCK_STREAM);
    post_rx(2048, 1);
    close(peer);
    peer = -1;
    for (int i = 0; i < 500 && !net_backend_dead(dev); i++)
        usleep(1000);
    CHECK(net_backend_dead(dev));
    mmio_read(dev, VIRTIO_MMIO_CONFIG + 6, cfg, 2);
    CHECK_EQ(cfg[0] | cfg[1] << 8, 0); /* link down */
    /* The guest keeps sending: its buffers come back, frames dropped. */
    post_tx(&h, frame, 100, 1);
    post_tx(&h, frame, 100, 1);
    kick(1);
    CHECK(wait_used(txq, 2));
    CHECK_EQ(stat_tx_dropped(), 2);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_STATUS), S_ALL);
    teardown();
}

/* A real tap (root and /dev/net/tun only): frames both ways through the
 * kernel, seen from a packet socket on the interface. */
static void test_tap(void)
{
    struct vm_net cfg = {
        .backend = VM_NET_TAP, .fd = -1, .features = COMPAT_NET_FEATURES};
    struct virtio_net_hdr_v1 h = {0}, got_h;
    uint8_t frame[100], got[200];
    char name[IFNAMSIZ], path[128];
    struct ifreq ifr = {0};
    struct sockaddr_ll ll = {.sll_family = AF_PACKET};
    int ps, fd;
    uint64_t b;

    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
        t_diag("tap test skipped: needs root and /dev/net/tun");
        return;
    }
    snprintf(name, sizeof(name), "ckt%d", (int)getpid() % 100000);
    cfg.path = name;
    memcpy(cfg.mac, mac, 6);
    fake_mem_init(&mem, 0, RAM_SIZE);
    if (net_create(&mem.gm, &cfg, "eth0", &dev) < 0) {
        t_diag("tap test skipped: cannot create tap %s", name);
        fake_mem_free(&mem);
        return;
    }
    peer = -1;
    CHECK_EQ(net_offered_offloads(dev) & ~(uint32_t)NET_FEATURE_GUEST_UFO,
             (COMPAT_NET_FEATURES) & ~(uint32_t)NET_FEATURE_GUEST_UFO);
    /* No IPv6 chatter from the host side, then the link up. */
    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
             name);
    fd = open(path, O_WRONLY);
    if (fd >= 0) {
        CHECK_EQ(write(fd, "1", 1), 1);
        close(fd);
    }
    ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    CHECK(ps >= 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    CHECK_EQ(ioctl(ps, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    CHECK_EQ(ioctl(ps, SIOCSIFFLAGS, &ifr), 0);
    ll.sll_protocol = htons(ETH_P_ALL);
    ll.sll_ifindex = (int)if_nametoindex(name);
    CHECK_EQ(bind(ps, (struct sockaddr *)&ll, sizeof(ll)), 0);
    CHECK_EQ(start_dev(BASE_FEATURES | 1ULL << VIRTIO_NET_F_CSUM |
                       1ULL << VIRTIO_NET_F_GUEST_CSUM),
             S_ALL);
    /* tx: the kernel receives exactly the frame (header stripped). */
    memset(frame, 0xff, 6); /* broadcast */
    memcpy(frame + 6, mac, 6);
    frame[12] = 0x88, frame[13] = 0xb5; /* local experimental EtherType */
    fill(frame + 14, sizeof(frame) - 14, 21);
    post_tx(&h, frame, sizeof(frame), 2);
    kick(1);
    CHECK(wait_used(txq, 1));
    {
        struct pollfd p = {.fd = ps, .events = POLLIN};
        ssize_t n = 0;

        while (poll(&p, 1, 2000) == 1 &&
               (n = recv(ps, got, sizeof(got), 0)) > 0 &&
               !(n >= 14 && got[12] == 0x88 && got[13] == 0xb5))
            ;
        CHECK_EQ(n, sizeof(frame));
        CHECK(memcmp(got, frame, sizeof(frame)) == 0);
    }
    /* rx: a frame sent on the interface reaches the guest behind the
     * kernel's header, with num_buffers 1. */
    b = post_rx(2048, 1);
    frame[0] = 0x5a; /* to the guest's MAC */
    memcpy(frame, mac, 6);
    CHECK_EQ(
        sendto(ps, frame, sizeof(frame), 0, (struct sockaddr *)&ll, sizeof(ll)),
        (ssize_t)sizeof(frame));
    CHECK(wait_used(rxq, 1));
    CHECK_EQ(fake_vq_used_elem(rxq, 0).len, NET_HDR_LEN + sizeof(frame));
    memcpy(&got_h, fake_mem_at(&mem, b), sizeof(got_h));
    CHECK_EQ(got_h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    CHECK_EQ(le16toh(got_h.num_buffers), 1);
    CHECK(memcmp(fake_mem_at(&mem, b + NET_HDR_LEN), frame, sizeof(frame)) ==
          0);
    close(ps);
    teardown();
}

/* Path mode (§5.4): unixgram binds its own socket under $TMPDIR, sends the
 * VFKT greeting and talks to the peer's path; unixstream connects. */
static void test_path_modes(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX}, from;
    socklen_t fl = sizeof(from);
    struct vm_net cfg = {.backend = VM_NET_UNIXGRAM,
                         .fd = -1,
                         .flags = NET_FLAG_VFKIT,
                         .features = COMPAT_NET_FEATURES};
    struct virtio_net_hdr_v1 h = {0};
    char dir[] = "/tmp/ckrun-net-XXXXXX", path[128], bound[128];
    uint8_t frame[200], got[300];
    int lsn;
    uint64_t b;

    CHECK(mkdtemp(dir) != NULL);
    setenv("TMPDIR", dir, 1);
    snprintf(path, sizeof(path), "%s/peer.sock", dir);
    memcpy(sun.sun_path, path, strlen(path) + 1);
    peer = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK_EQ(bind(peer, (struct sockaddr *)&sun, sizeof(sun)), 0);
    cfg.path = path;
    memcpy(cfg.mac, mac, 6);
    fake_mem_init(&mem, 0, RAM_SIZE);
    CHECK_EQ(net_create(&mem.gm, &cfg, "eth0", &dev), 0);
    /* Nothing connects before DRIVER_OK (lazily, §2.7). */
    CHECK_EQ(recv(peer, got, sizeof(got), MSG_DONTWAIT), -1);
    CHECK_EQ(start_dev(BASE_FEATURES | 1ULL << VIRTIO_NET_F_CSUM), S_ALL);
    CHECK_EQ(recvfrom(peer, got, sizeof(got), 0, (struct sockaddr *)&from, &fl),
             4);
    CHECK(memcmp(got, "VFKT", 4) == 0);
    snprintf(bound, sizeof(bound), "%s/krun-net-%d-", dir, (int)getpid());
    CHECK(strncmp(from.sun_path, bound, strlen(bound)) == 0);
    fill(frame, sizeof(frame), 8);
    post_tx(&h, frame, sizeof(frame), 1);
    kick(1);
    CHECK(wait_used(txq, 1));
    CHECK_EQ(recv(peer, got, sizeof(got), 0), (ssize_t)sizeof(frame));
    CHECK(memcmp(got, frame, sizeof(frame)) == 0);
    b = post_rx(2048, 1);
    CHECK_EQ(sendto(peer, frame, 150, 0, (struct sockaddr *)&from, fl), 150);
    CHECK(wait_used(rxq, 1));
    CHECK_EQ(fake_vq_used_elem(rxq, 0).len, NET_HDR_LEN + 150);
    CHECK(memcmp(fake_mem_at(&mem, b + NET_HDR_LEN), frame, 150) == 0);
    teardown();
    /* The bound socket is removed with the device. */
    CHECK(access(from.sun_path, F_OK) != 0);
    unlink(path);

    /* unixstream: connect() to a listener at the path. */
    cfg.backend = VM_NET_UNIXSTREAM;
    cfg.flags = 0;
    lsn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_EQ(bind(lsn, (struct sockaddr *)&sun, sizeof(sun)), 0);
    CHECK_EQ(listen(lsn, 1), 0);
    fake_mem_init(&mem, 0, RAM_SIZE);
    CHECK_EQ(net_create(&mem.gm, &cfg, "eth0", &dev), 0);
    CHECK_EQ(start_dev(BASE_FEATURES), S_ALL);
    peer = accept4(lsn, NULL, NULL, SOCK_CLOEXEC);
    CHECK(peer >= 0);
    post_tx(&h, frame, 60, 1);
    kick(1);
    CHECK(wait_used(txq, 1));
    CHECK(peer_read(got, 4 + 60));
    CHECK_EQ(ntohl(*(uint32_t *)got), 60);
    CHECK(memcmp(got + 4, frame, 60) == 0);
    teardown();
    close(lsn);
    unlink(path);
    rmdir(dir);
    unsetenv("TMPDIR");
}

static void test_bad_fd(void)
{
    struct vm_net cfg = {.backend = VM_NET_UNIXSTREAM, .fd = 1000};
    char longname[] = "this-name-is-too-long";

    fake_mem_init(&mem, 0, RAM_SIZE);
    CHECK_EQ(net_create(&mem.gm, &cfg, "eth0", &dev), -EBADF);
    cfg.backend = VM_NET_TAP;
    cfg.path = longname;
    CHECK_EQ(net_create(&mem.gm, &cfg, "eth0", &dev), -EINVAL);
    fake_mem_free(&mem);
}

int main(void)
{
    rxq = calloc(1, sizeof(*rxq));
    txq = calloc(1, sizeof(*txq));
    RUN(test_features_and_config);
    RUN(test_tx_stream_framing);
    RUN(test_tx_dgram_framing);
    RUN(test_tx_checksum_completed);
    RUN(test_tx_hostile);
    RUN(test_rx_stream);
    RUN(test_rx_stream_partial_and_oversize);
    RUN(test_rx_small_buffer);
    RUN(test_rx_dgram_and_no_buffers);
    RUN(test_tx_backpressure);
    RUN(test_peer_dies);
    RUN(test_tap);
    RUN(test_path_modes);
    RUN(test_bad_fd);
    free(rxq);
    free(txq);
    return t_done();
}
