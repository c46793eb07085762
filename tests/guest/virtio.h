/*
 * virtio.h: the test guest's minimal virtio-mmio v2 driver (virtio 1.2
 * §4.2): find a device among the command line's virtio_mmio.device=
 * entries, negotiate features, set up split virtqueues (§2.7) in static
 * memory, publish buffers and poll the used rings.  No interrupts: the
 * guest runs with IF=0 and polls.
 */
#ifndef KRUN_TESTS_GUEST_VIRTIO_H
#define KRUN_TESTS_GUEST_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device IDs (virtio 1.2 §5). */
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4
#define VIRTIO_ID_FS      26

/* Device status bits (virtio 1.2 §2.1). */
#define VIRTIO_S_NEEDS_RESET 0x40

/* Interrupt status bits (virtio 1.2 §4.2.2, InterruptStatus). */
#define VIRTIO_INT_VRING  1
#define VIRTIO_INT_CONFIG 2

/* Descriptors per queue: small, every test keeps few buffers in flight. */
#define VQ_SIZE 16

struct vring_mem;

struct vdev {
    uint64_t base; /* MMIO window */
    uint32_t irq;
};

struct vq {
    struct vdev *dev;
    uint16_t index;     /* queue number on the device */
    uint16_t free_head; /* first free descriptor */
    uint16_t nr_free;
    uint16_t avail_idx; /* our copy of avail->idx */
    uint16_t last_used; /* next used element to consume */
    struct vring_mem *ring;
};

/* One buffer of a chain: device-readable unless (write). */
struct vbuf {
    void *addr;
    uint32_t len;
    bool write;
};

/*
 * Find the (nth) (0-based) device with (device_id) among the
 * "virtio_mmio.device=4K@0xADDR:IRQ" entries of (cmdline); maps the MMIO
 * window.  NULL, or why not.
 */
const char *vdev_find(const char *cmdline, uint32_t device_id, unsigned nth,
                      struct vdev *d);

/*
 * Reset (d), acknowledge it and negotiate VERSION_1 plus the device feature
 * bits (feat_lo) (bits 0-31).  NULL, or why it failed.
 */
const char *vdev_negotiate(struct vdev *d, uint32_t feat_lo);

/* Set up queue (index) of (d) into (q) from the static ring pool. */
const char *vq_setup(struct vdev *d, struct vq *q, uint16_t index);

/* Set DRIVER_OK.  NULL, or why the device refused. */
const char *vdev_ready(struct vdev *d);

/* Write 0 to Status: the device forgets all queues. */
void vdev_reset(struct vdev *d);

/* Return every ring to the pool (after vdev_reset of all devices). */
void vq_pool_reset(void);

uint32_t vdev_status(struct vdev *d);
uint32_t vdev_isr(struct vdev *d);
void vdev_isr_ack(struct vdev *d, uint32_t bits);
uint8_t vdev_cfg8(struct vdev *d, uint32_t off);
uint32_t vdev_cfg32(struct vdev *d, uint32_t off);

/*
 * Publish a chain of (n) buffers (readable ones first); returns its head
 * descriptor, or -1 if the queue has too few free descriptors.  Does not
 * notify the device.
 */
int vq_add(struct vq *q, const struct vbuf *b, unsigned n);

/* Tell the device (QueueNotify) that (q) has new buffers. */
void vq_kick(struct vq *q);

/*
 * Consume the next used element: its head (its descriptors are freed) and
 * the bytes the device wrote in (*len).  -1 if none is there yet.
 */
int vq_used(struct vq *q, uint32_t *len);

/* vq_used, spinning for at most (spins) polls. */
int vq_wait(struct vq *q, uint32_t *len, uint64_t spins);

/* Publish (b, n), kick and wait for it: the bytes written or -1. */
int64_t vq_call(struct vq *q, const struct vbuf *b, unsigned n);

/* A generous spin bound: the host times the whole VM out anyway. */
#define VQ_SPINS (1ULL << 30)

#endif /* KRUN_TESTS_GUEST_VIRTIO_H */
