/* fake_driver.c: a virtio driver's side of rings and registers, in fake RAM. */
#include "fake_driver.h"

#include <string.h>

#include "virtio/mmio.h"
#include "virtio/virtio.h"

void fake_vq_init(struct fake_vq *f, struct fake_mem *mem, uint16_t size,
                  uint64_t base)
{
    f->mem = mem;
    f->size = size;
    f->desc = base;
    f->avail = base + 16ULL * size;
    f->used = (f->avail + 6 + 2ULL * size + 4095) & ~4095ULL;
    f->avail_idx = 0;
    memset(&f->vq, 0, sizeof(f->vq));
    f->vq.size = size;
    f->vq.max_size = size;
    f->vq.desc_gpa = f->desc;
    f->vq.avail_gpa = f->avail;
    f->vq.used_gpa = f->used;
}

int fake_vq_validate(struct fake_vq *f, int event_idx)
{
    return virtq_validate(&f->vq, &f->mem->gm, event_idx != 0);
}

void fake_desc_at(struct fake_mem *mem, uint64_t table, uint16_t idx,
                  uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    struct vring_desc d = {
        .addr = addr, .len = len, .flags = flags, .next = next};

    memcpy(fake_mem_at(mem, table + 16ULL * idx), &d, sizeof(d));
}

void fake_vq_desc(struct fake_vq *f, uint16_t idx, uint64_t addr, uint32_t len,
                  uint16_t flags, uint16_t next)
{
    fake_desc_at(f->mem, f->desc, idx, addr, len, flags, next);
}

static uint16_t *avail_field(const struct fake_vq *f, unsigned int i)
{
    /* flags, idx, ring[size], used_event: consecutive le16 fields */
    return fake_mem_at(f->mem, f->avail + 2ULL * i);
}

void fake_vq_publish(struct fake_vq *f, uint16_t head)
{
    *avail_field(f, 2 + (f->avail_idx & (f->size - 1))) = head;
    f->avail_idx++;
    __atomic_store_n(avail_field(f, 1), f->avail_idx, __ATOMIC_RELEASE);
}

void fake_vq_set_avail_idx(struct fake_vq *f, uint16_t idx)
{
    f->avail_idx = idx;
    *avail_field(f, 1) = idx;
}

void fake_vq_set_avail_flags(struct fake_vq *f, uint16_t flags)
{
    *avail_field(f, 0) = flags;
}

void fake_vq_set_used_event(struct fake_vq *f, uint16_t v)
{
    *avail_field(f, 2 + f->size) = v;
}

/* Acquire, as a driver reads it (virtio_load_acquire): what the device
 * wrote before publishing the index is then visible. */
uint16_t fake_vq_used_idx(const struct fake_vq *f)
{
    return __atomic_load_n((uint16_t *)fake_mem_at(f->mem, f->used + 2),
                           __ATOMIC_ACQUIRE);
}

uint16_t fake_vq_used_flags(const struct fake_vq *f)
{
    return *(uint16_t *)fake_mem_at(f->mem, f->used);
}

struct vring_used_elem fake_vq_used_elem(const struct fake_vq *f, uint16_t i)
{
    struct vring_used_elem e;

    memcpy(&e, fake_mem_at(f->mem, f->used + 4 + 8ULL * (i & (f->size - 1))),
           sizeof(e));
    return e;
}

uint16_t fake_vq_avail_event(const struct fake_vq *f)
{
    return *(uint16_t *)fake_mem_at(f->mem, f->used + 4 + 8ULL * f->size);
}

uint32_t fake_mmio_read(struct virtio_dev *dev, uint64_t off)
{
    uint32_t v;

    mmio_read(dev, off, &v, sizeof(v));
    return v;
}

void fake_mmio_write(struct virtio_dev *dev, uint64_t off, uint32_t val)
{
    mmio_write(dev, off, &val, sizeof(val));
}

uint32_t fake_mmio_negotiate(struct virtio_dev *dev, uint64_t features)
{
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, 0);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    fake_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    fake_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    fake_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    fake_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES,
                    (uint32_t)(features >> 32));
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                        VIRTIO_CONFIG_S_FEATURES_OK);
    return fake_mmio_read(dev, VIRTIO_MMIO_STATUS);
}

void fake_mmio_setup_queue(struct virtio_dev *dev, unsigned int q,
                           const struct fake_vq *f)
{
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, q);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_NUM, f->size);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)f->desc);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH,
                    (uint32_t)(f->desc >> 32));
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)f->avail);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
                    (uint32_t)(f->avail >> 32));
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)f->used);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_USED_HIGH,
                    (uint32_t)(f->used >> 32));
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
}
