/*
 * virtq.h: the split virtqueue (virtio 1.2 §2.7) as the device side sees it.
 * The transport programs and validates the rings; the device pops bounded,
 * validated requests, completes them and decides whether to interrupt.
 *
 * The guest can rewrite any ring byte at any time: every descriptor is copied
 * out of shared memory before it is looked at, and every index is range
 * checked.  All memory barriers of the ring protocol live in virtq.c.
 */
#ifndef KRUN_VIRTIO_VIRTQ_H
#define KRUN_VIRTIO_VIRTQ_H

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "evloop.h"

struct guest_mem;
struct virtio_dev;
struct iov_iter;

/* Largest queue size any device may offer. */
#define VIRTQ_MAX_SIZE 1024
/*
 * Most buffers one request may hold.  A chain has at most queue-size
 * descriptors; a buffer straddling two guest RAM regions takes two entries.
 */
#define VIRTQ_REQ_MAX_SEGS (VIRTQ_MAX_SIZE + 16)

struct virtq {
    /* Owner: the transport lock.  Programmed by the driver; frozen while
     * (ready) is set. */
    uint16_t size;      /* QueueNum */
    uint16_t max_size;  /* QueueNumMax; immutable */
    uint64_t desc_gpa;  /* QueueDesc */
    uint64_t avail_gpa; /* QueueDriver */
    uint64_t used_gpa;  /* QueueDevice */
    bool ready;         /* QueueReady, set only after virtq_validate() */

    /* Set by virtq_validate(); read by the device thread while ready. */
    const struct guest_mem *gm;
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */

    /* Owner: the device loop thread (qlock).  Reset by virtq_validate(). */
    uint16_t next_avail;     /* next avail ring slot to pop */
    uint16_t next_used;      /* our copy of used->idx */
    uint16_t signalled_used; /* used idx at the last notify decision */
    bool signalled_valid;    /* signalled_used means something */

    /* Immutable after virtio_dev_init(). */
    struct virtio_dev *dev;
    unsigned int index;
    struct ev_source kick; /* eventfd the driver's QueueNotify signals */
};

/*
 * One popped request: the head descriptor index, the readable (driver ->
 * device) buffers iov[0..nr_rd), then the writable ones iov[nr_rd..nr_rd +
 * nr_wr), and their byte totals.  Large: allocate it once per device.
 */
struct virtq_req {
    uint16_t head;
    unsigned int nr_rd, nr_wr;
    size_t rd_len, wr_len;
    struct iovec iov[VIRTQ_REQ_MAX_SEGS];
};

/*
 * Check the programmed rings of (vq) against guest memory (gm): size a power
 * of two in [1, max_size], descriptor table 16-byte, avail ring 2-byte, used
 * ring 4-byte aligned (§2.7), all three wholly inside guest RAM.  On success
 * map them, record (event_idx), reset the ring indices and return 0;
 * otherwise return -EINVAL and leave (vq) unusable.  Transport, both locks.
 */
int virtq_validate(struct virtq *vq, const struct guest_mem *gm,
                   bool event_idx);

/* Forget the programmed rings (device reset).  Transport, both locks. */
void virtq_reset(struct virtq *vq);

/*
 * Pop the next available chain of (vq) into (req).  Returns 1 if one was
 * popped, 0 if the ring is empty, -EINVAL if the guest published something
 * malformed (avail index running ahead, head out of range, a cycle or a chain
 * longer than the queue, a buffer outside RAM or overflowing, a writable
 * buffer before a readable one, a nested or misaligned indirect table): the
 * caller must then virtio_dev_fail().  With EVENT_IDX, also asks the driver
 * for a kick on the next buffer.  Device loop thread.
 */
int virtq_pop(struct virtq *vq, struct virtq_req *req);

/*
 * Put (head) back in the used ring with (written) bytes written to its
 * writable buffers.  Device loop thread.
 */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t written);

/*
 * Should the device interrupt the driver now for the used buffers pushed
 * since the last interrupt?  Honours VRING_AVAIL_F_NO_INTERRUPT or, with
 * EVENT_IDX, used_event (§2.7.10).  Records the decision.  Device loop thread.
 */
bool virtq_should_notify(struct virtq *vq);

/*
 * Interrupt the driver (VIRTIO_MMIO_INT_VRING + irqfd) if
 * virtq_should_notify() says so.  Device loop thread.
 */
void virtq_notify(struct virtq *vq);

/*
 * Ask the driver not to kick for new buffers (batching).  Device loop thread.
 */
void virtq_disable_notify(struct virtq *vq);

/*
 * Ask the driver to kick again for new buffers.  Returns true if buffers
 * arrived meanwhile (pop again before sleeping).  Device loop thread.
 */
bool virtq_enable_notify(struct virtq *vq);

/* Cursor over the readable / writable buffers of (req).  Any thread. */
void virtq_req_reader(const struct virtq_req *req, struct iov_iter *it);
void virtq_req_writer(const struct virtq_req *req, struct iov_iter *it);

#endif /* KRUN_VIRTIO_VIRTQ_H */
