/*
 * fake_driver.h: the driver side of a split virtqueue and of the virtio-mmio
 * register protocol, written into fake guest memory the way a guest would, so
 * tests and fuzzers can feed the device side well-formed or hostile input.
 */
#ifndef KRUN_TESTS_FAKE_DRIVER_H
#define KRUN_TESTS_FAKE_DRIVER_H

#include <stdint.h>

#include "fake_mem.h"
#include "virtio/virtq.h"

struct virtio_dev;

struct fake_vq {
    struct fake_mem *mem;
    uint16_t size;
    uint64_t desc, avail, used; /* ring guest addresses */
    uint16_t avail_idx;         /* driver's next avail index */
    struct virtq vq;            /* device side, for virtq-level tests */
    struct virtq_req req;
};

/*
 * Lay out a queue of (size) entries at guest (base) (4 KiB aligned: desc,
 * then avail, then used on the next page) and program (f->vq) with it
 * (max_size = size, not yet validated).
 */
void fake_vq_init(struct fake_vq *f, struct fake_mem *mem, uint16_t size,
                  uint64_t base);

/* virtq_validate() on f->vq with (event_idx). */
int fake_vq_validate(struct fake_vq *f, int event_idx);

/* Write descriptor (idx) of the main table. */
void fake_vq_desc(struct fake_vq *f, uint16_t idx, uint64_t addr, uint32_t len,
                  uint16_t flags, uint16_t next);

/* Write entry (idx) of an indirect table at guest (table). */
void fake_desc_at(struct fake_mem *mem, uint64_t table, uint16_t idx,
                  uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);

/* Put (head) in the avail ring and publish it (avail->idx++). */
void fake_vq_publish(struct fake_vq *f, uint16_t head);

/* Set avail->idx directly (hostile tests). */
void fake_vq_set_avail_idx(struct fake_vq *f, uint16_t idx);

/* avail->flags, used_event (EVENT_IDX) as the driver writes them. */
void fake_vq_set_avail_flags(struct fake_vq *f, uint16_t flags);
void fake_vq_set_used_event(struct fake_vq *f, uint16_t v);

/* used->idx, used->ring[i], used->flags and avail_event as the device wrote. */
uint16_t fake_vq_used_idx(const struct fake_vq *f);
struct vring_used_elem fake_vq_used_elem(const struct fake_vq *f, uint16_t i);
uint16_t fake_vq_used_flags(const struct fake_vq *f);
uint16_t fake_vq_avail_event(const struct fake_vq *f);

/* 32-bit register access through the transport. */
uint32_t fake_mmio_read(struct virtio_dev *dev, uint64_t off);
void fake_mmio_write(struct virtio_dev *dev, uint64_t off, uint32_t val);

/*
 * Run the §3.1.1 init sequence up to FEATURES_OK, acking (features).
 * Returns the status read back (FEATURES_OK set iff accepted).
 */
uint32_t fake_mmio_negotiate(struct virtio_dev *dev, uint64_t features);

/* Program queue (q) with (f)'s rings and set QueueReady. */
void fake_mmio_setup_queue(struct virtio_dev *dev, unsigned int q,
                           const struct fake_vq *f);

#endif /* KRUN_TESTS_FAKE_DRIVER_H */
