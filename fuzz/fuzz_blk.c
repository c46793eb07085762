/*
 * fuzz_blk.c: virtio-blk requests on fake guest memory over a raw image (a
 * memfd).  Input: a 4-byte header {features acked (bit 0 EVENT_IDX, 1
 * FLUSH, 2 RO disk, 3 sync NONE), queue size 2^(n%9), kicks 1..4, the
 * avail index published} then the bytes of guest RAM from address 0 (the
 * rings at 0, request headers, buffers, indirect tables).  Served inline
 * (no worker threads) so a run is deterministic.  Checked after every run:
 * the image file keeps its size and the 100-byte tail past the last sector
 * (hidden from the guest) is intact, and a read-only image is unchanged.
 */
#include <linux/virtio_blk.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_driver.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define RAM_SIZE 0x20000ULL
#define IMG_SIZE (32ULL * 1024 + 100)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_mem mem;
static struct fake_vq fq;
static int memfd = -1;
static char path[64];
static uint8_t image[IMG_SIZE], check[IMG_SIZE];

static void reset_image(void)
{
    if (memfd < 0) {
        memfd = memfd_create("fuzz_blk", MFD_CLOEXEC);
        if (memfd < 0)
            abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
        for (size_t i = 0; i < IMG_SIZE; i++)
            image[i] = (uint8_t)(i * 13 + 7);
    }
    if (ftruncate(memfd, 0) < 0 ||
        pwrite(memfd, image, IMG_SIZE, 0) != (ssize_t)IMG_SIZE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct disk_opts o = {.format = DISK_FMT_RAW, .sync = DISK_SYNC_FULL};
    uint64_t features =
        1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_SEG_MAX |
        1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
    struct virtio_dev *dev;
    struct blk_disk d;
    struct stat st;

    if (size < 4)
        return 0;
    if (!mem.buf)
        fake_mem_init(&mem, 0, RAM_SIZE);
    memset(mem.buf, 0, RAM_SIZE);
    reset_image();
    o.read_only = data[0] & 4;
    if (data[0] & 8)
        o.sync = DISK_SYNC_NONE;
    if (data[0] & 1)
        features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
    if ((data[0] & 2) && !(data[0] & 8))
        features |= 1ULL << VIRTIO_BLK_F_FLUSH;
    if (o.read_only)
        features |= 1ULL << VIRTIO_BLK_F_RO;
    if (blk_open(path, &o, 0, &d) < 0)
        abort();
    if (blk_create(&mem.gm, &d, 0, &dev) < 0)
        abort();
    mmio_setup(dev, 0xd0000000, 5, -1);
    fake_mmio_negotiate(dev, features);
    fake_vq_init(&fq, &mem, (uint16_t)(1u << (data[1] % 9)), 0);
    fake_mmio_setup_queue(dev, 0, &fq);
    gm_write(&mem.gm, 0, data + 4,
             size - 4 < RAM_SIZE ? size - 4 : (size_t)RAM_SIZE);
    fake_vq_set_avail_idx(&fq, data[3]);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                        VIRTIO_CONFIG_S_FEATURES_OK |
                        VIRTIO_CONFIG_S_DRIVER_OK);
    for (unsigned int k = 0; k <= (data[2] & 3u); k++)
        virtio_dev_kick(dev, 0);
    virtio_dev_destroy(dev);
    if (fstat(memfd, &st) < 0 || st.st_size != (off_t)IMG_SIZE ||
        pread(memfd, check, IMG_SIZE, 0) != (ssize_t)IMG_SIZE)
        abort(); /* the image grew or shrank */
    if (memcmp(check + IMG_SIZE - 100, image + IMG_SIZE - 100, 100))
        abort(); /* written past the guest-visible end */
    if (o.read_only && memcmp(check, image, IMG_SIZE))
        abort(); /* a read-only image changed */
    return 0;
}
