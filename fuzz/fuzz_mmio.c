/*
 * fuzz_mmio.c: the virtio-mmio transport and the rng device behind it, on
 * fake guest memory.  Input: 8-byte records {op, len, offset le16, value
 * le32}: register reads and writes of any size at any offset, queue kicks as
 * the device loop would run them, and pokes into guest RAM (to build rings).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fake_mem.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"
#include "virtio/virtio.h"

#define RAM_SIZE 0x10000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_op(struct virtio_dev *dev, struct fake_mem *mem,
                   const uint8_t *rec)
{
    static const uint32_t lens[] = {4, 4, 1, 2, 8, 4, 3, 0};
    uint16_t off;
    uint32_t val;
    uint64_t buf = 0;
    uint32_t len = lens[rec[1] & 7];

    memcpy(&off, rec + 2, 2);
    memcpy(&val, rec + 4, 4);
    buf = val;
    switch (rec[0] & 3) {
    case 0:
        mmio_write(dev, off & 0x1fff, &buf, len);
        break;
    case 1:
        mmio_read(dev, off & 0x1fff, &buf, len);
        break;
    case 2:
        virtio_dev_kick(dev, val & 1);
        break;
    default:
        gm_write(&mem->gm, (uint64_t)off * 4 % RAM_SIZE, &val, 4);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fake_mem mem;
    struct virtio_dev *dev;

    if (!mem.buf)
        fake_mem_init(&mem, 0, RAM_SIZE);
    memset(mem.buf, 0, RAM_SIZE);
    if (rng_create(&mem.gm, &dev) < 0)
        return 0;
    mmio_setup(dev, 0xd0000000, 5, -1);
    for (size_t i = 0; i + 8 <= size && i < 8 * 4096; i += 8)
        run_op(dev, &mem, data + i);
    virtio_dev_destroy(dev);
    return 0;
}
