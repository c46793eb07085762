/*
 * fuzz_balloon.c: the virtio-balloon device behind the mmio transport, on
 * fake guest memory: anonymous RAM that reported and inflated pages really
 * leave (madvise), beside a caller-owned "kernel bundle" region that must
 * stay intact.  Input: a 4-byte header {features acked (bit 0 STATS_VQ,
 * 1 FREE_PAGE_HINT, 2 REPORTING, 3 an unoffered bit), queue size 2^(n%7),
 * kick mask, actual} then the bytes of guest RAM from address 0 (queue q's
 * rings at 0x2000 * q, PFN arrays, buffers).
 */
#include <linux/virtio_balloon.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_driver.h"
#include "virtio/balloon.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define RAM_SIZE 0x20000ULL
#define KSIZE    0x4000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_mem mem;
static uint8_t kbuf[KSIZE] __attribute__((aligned(4096)));
static struct fake_vq fq[5];

static uint64_t features_of(uint8_t h)
{
    uint64_t f = 1ULL << VIRTIO_F_VERSION_1;

    if (h & 1)
        f |= 1ULL << VIRTIO_BALLOON_F_STATS_VQ;
    if (h & 2)
        f |= 1ULL << VIRTIO_BALLOON_F_FREE_PAGE_HINT;
    if (h & 4)
        f |= 1ULL << VIRTIO_BALLOON_F_REPORTING;
    if (h & 8)
        f |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM; /* not offered */
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct virtio_dev *dev;
    uint16_t qsize;

    if (size < 4)
        return 0;
    if (!mem.buf) {
        gm_init(&mem.gm);
        if (gm_map_anon(&mem.gm, 0, RAM_SIZE) < 0 ||
            gm_add_region(&mem.gm, RAM_SIZE, KSIZE, kbuf) < 0)
            abort();
        mem.buf = mem.gm.regions[0].host;
        mem.size = RAM_SIZE;
    }
    memset(mem.buf, 0, RAM_SIZE);
    memset(kbuf, 0x55, KSIZE);
    if (balloon_create(&mem.gm, &dev) < 0)
        return 0;
    mmio_setup(dev, 0xd0000000, 5, -1);
    qsize = (uint16_t)(1u << (data[1] % 7));
    fake_mmio_negotiate(dev, features_of(data[0]));
    for (unsigned int q = 0; q < 5; q++) {
        fake_vq_init(&fq[q], &mem, qsize, 0x2000ULL * q);
        fake_mmio_setup_queue(dev, q, &fq[q]);
    }
    fake_mmio_write(dev, VIRTIO_MMIO_CONFIG + 4, data[3]);
    gm_write(&mem.gm, 0, data + 4,
             size - 4 < RAM_SIZE ? size - 4 : (size_t)RAM_SIZE);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                        VIRTIO_CONFIG_S_FEATURES_OK |
                        VIRTIO_CONFIG_S_DRIVER_OK);
    for (unsigned int q = 0; q < 5; q++)
        if (data[2] & (1u << q))
            virtio_dev_kick(dev, q);
    virtio_dev_kick(dev, data[2] >> 5);
    for (size_t i = 0; i < KSIZE; i++)
        if (kbuf[i] != 0x55)
            abort(); /* the kernel bundle was given back */
    virtio_dev_destroy(dev);
    return 0;
}
