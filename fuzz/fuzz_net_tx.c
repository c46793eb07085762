/*
 * fuzz_net_tx.c: virtio-net's tx (and rx) path behind the mmio transport on
 * fake guest memory, with a socketpair peer.  Input: a 4-byte header
 * {backend (bit 0: datagram) and acked offloads (bits 1-4: CSUM,
 * GUEST_CSUM, GUEST_TSO4, EVENT_IDX), queue size 2^(n%7), kick mask (bit 0
 * tx, bit 1 rx, bit 2 tx again), peer bytes n*16} then up to n*16 bytes the
 * peer sends (rx), then guest RAM from address 0 (tx rings at 0, rx rings
 * at 0x2000, buffers).  Checks that a stream peer receives well-formed
 * length-prefixed frames only.
 */
#include <arpa/inet.h>
#include <libkrun.h>
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_driver.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/virtio.h"

#define RAM_SIZE 0x20000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_mem mem;
static struct fake_vq fq[2];
static uint8_t wire[1 << 20];

/* What the stream peer got must be whole frames of at most 65550 bytes. */
static void check_stream(int peer)
{
    size_t n = 0, at = 0;
    ssize_t r;

    while (n < sizeof(wire) &&
           (r = recv(peer, wire + n, sizeof(wire) - n, MSG_DONTWAIT)) > 0)
        n += (size_t)r;
    while (at + 4 <= n) {
        uint32_t len;

        memcpy(&len, wire + at, 4);
        len = ntohl(len);
        if (len < 14 || len > NET_MAX_FRAME)
            abort();
        at += 4 + len;
    }
    /* A torn last frame only when the socket filled up mid-frame. */
    if (at != n && n < (256u << 10))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vm_net cfg = {.features = COMPAT_NET_FEATURES};
    uint64_t ack = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC;
    struct virtio_dev *dev;
    size_t npeer;
    uint16_t qsize;
    int sv[2];

    if (size < 4)
        return 0;
    if (!mem.buf)
        fake_mem_init(&mem, 0, RAM_SIZE);
    memset(mem.buf, 0, RAM_SIZE);
    cfg.backend = data[0] & 1 ? VM_NET_UNIXGRAM : VM_NET_UNIXSTREAM;
    if (socketpair(AF_UNIX,
                   (data[0] & 1 ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0,
                   sv) < 0)
        return 0;
    cfg.fd = sv[0];
    if (net_create(&mem.gm, &cfg, "eth0", &dev) < 0)
        abort();
    mmio_setup(dev, 0xd0000000, 5, -1);
    if (data[0] & 2)
        ack |= 1ULL << VIRTIO_NET_F_CSUM;
    if (data[0] & 4)
        ack |= 1ULL << VIRTIO_NET_F_GUEST_CSUM;
    if (data[0] & 8)
        ack |= 1ULL << VIRTIO_NET_F_GUEST_TSO4;
    if (data[0] & 16)
        ack |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
    qsize = (uint16_t)(1u << (data[1] % 7));
    fake_mmio_negotiate(dev, ack);
    for (unsigned int q = 0; q < 2; q++) {
        fake_vq_init(&fq[q], &mem, qsize, q ? 0 : 0x2000);
        fake_mmio_setup_queue(dev, q, &fq[q]);
    }
    npeer = (size_t)data[3] * 16;
    if (npeer > size - 4)
        npeer = size - 4;
    if (npeer && send(sv[1], data + 4, npeer, MSG_DONTWAIT) < 0)
        (void)0;
    gm_write(&mem.gm, 0, data + 4 + npeer,
             size - 4 - npeer < RAM_SIZE ? size - 4 - npeer : (size_t)RAM_SIZE);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                        VIRTIO_CONFIG_S_FEATURES_OK |
                        VIRTIO_CONFIG_S_DRIVER_OK);
    if (data[2] & 1)
        virtio_dev_kick(dev, 1);
    if (data[2] & 2)
        virtio_dev_kick(dev, 0);
    if (data[2] & 4)
        virtio_dev_kick(dev, 1);
    if (!(data[0] & 1))
        check_stream(sv[1]);
    net_stop(dev);
    virtio_dev_destroy(dev); /* closes sv[0] */
    close(sv[1]);
    return 0;
}
