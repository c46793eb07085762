/*
 * virtio.h: the device contract.  A device embeds struct virtio_dev, fills a
 * const struct virtio_dev_ops, and gets back to itself with container_of().
 * Devices never see MMIO offsets; the transport (mmio.c) never reads a request.
 *
 * Threads and locks (lock order: qlock before lock):
 *  - vCPU threads access the register file through mmio_read()/mmio_write(),
 *    holding (lock), the transport lock.  Status writes and QueueReady writes
 *    (reset, activation, queue enable/disable) also take (qlock) first.
 *  - The device's loop thread processes queues in ops->notify(), called from
 *    virtio_dev_kick() with (qlock) held, so a reset never races a request.
 *  - isr and the NEEDS_RESET bit are atomics any thread may set.
 */
#ifndef KRUN_VIRTIO_VIRTIO_H
#define KRUN_VIRTIO_VIRTIO_H

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtq.h"

struct guest_mem;
struct virtio_dev;

#define VIRTIO_NAME_MAX 32

/* What a device decides; NULL callbacks mean "default". */
struct virtio_dev_ops {
    const char *name;   /* "rng", "console", ...; for logs */
    uint32_t device_id; /* VIRTIO_ID_* */
    uint16_t queue_max; /* QueueNumMax of every queue: power of two */
    uint64_t features;  /* offered; VIRTIO_F_VERSION_1 is always added */
    /*
     * Guest write of (len) bytes at (offset) in the config space (bounds
     * already checked against dev->config_len).  NULL: writes are ignored
     * with a warning.  vCPU thread, transport lock held.
     */
    void (*config_write)(struct virtio_dev *dev, uint32_t offset,
                         const void *data, uint32_t len);
    /*
     * DRIVER_OK was set and every ready queue is validated.  Returns 0, or
     * -errno to mark the device NEEDS_RESET.  vCPU thread, both locks held.
     */
    int (*activate)(struct virtio_dev *dev);
    /* The driver kicked (vq).  Device loop thread, qlock held. */
    void (*notify)(struct virtio_dev *dev, struct virtq *vq);
    /* The driver reset the device: drop in-flight state.  Both locks held. */
    void (*reset)(struct virtio_dev *dev);
    /*
     * Stop the device's own threads (a loop, workers) and wait for them:
     * afterwards no thread but the caller touches the device.  Called first
     * by virtio_dev_destroy, before the queues and locks go.  Idempotent.
     * NULL: the device has no threads of its own.
     */
    void (*stop)(struct virtio_dev *dev);
    /* Free the device (the struct embedding dev). NULL: nothing to free. */
    void (*destroy)(struct virtio_dev *dev);
};

/* Common device state; the transport's register file lives here too. */
struct virtio_dev {
    const struct virtio_dev_ops *ops; /* immutable */
    const struct guest_mem *gm;       /* immutable */
    char name[VIRTIO_NAME_MAX];       /* instance name, immutable */
    pthread_mutex_t lock;             /* transport lock: fields below */
    pthread_mutex_t qlock;            /* queue lock: held around notify */

    /* Owner: the transport lock (vCPU threads). */
    uint32_t status;            /* driver-visible bits except NEEDS_RESET */
    uint64_t driver_features;   /* what the driver wrote (FEATURES_OK check) */
    bool driver_features_extra; /* the driver wrote bits above 63 */
    uint32_t dev_features_sel;
    uint32_t drv_features_sel;
    uint32_t queue_sel;
    uint32_t shm_sel;
    uint32_t config_generation;
    uint8_t *config; /* config space, set by the device */
    uint32_t config_len;

    /* Written under both locks; read under either. */
    bool active; /* DRIVER_OK accepted, queues live */

    /* Atomics: any thread. */
    uint32_t isr;         /* VIRTIO_MMIO_INT_* pending */
    uint32_t needs_reset; /* VIRTIO_CONFIG_S_NEEDS_RESET or 0 */

    /* Immutable after mmio_setup(). */
    uint64_t features;       /* offered: ops->features, which a device may
                                change after virtio_dev_init (per instance) */
    unsigned int num_queues; /* entries of vqs */
    struct virtq *vqs;
    int irqfd;          /* eventfd the KVM layer registers (irqfd) */
    uint64_t mmio_base; /* for the command line */
    uint32_t irq;       /* GSI, for the command line */
    uint64_t shm_base;  /* shared memory region 0/1, if shm_len */
    uint64_t shm_len;
};

/*
 * Initialise (dev) for (ops) with (num_queues) queues on guest memory (gm),
 * named (name): allocate the queues and their kick eventfds.  Returns 0,
 * -EINVAL for bad ops (queue_max not a power of two or above VIRTQ_MAX_SIZE)
 * or num_queues not in 1..64, -ENOMEM or -errno from eventfd().  Build thread.
 */
int virtio_dev_init(struct virtio_dev *dev, const struct virtio_dev_ops *ops,
                    unsigned int num_queues, const struct guest_mem *gm,
                    const char *name);

/*
 * Call ops->stop, release what virtio_dev_init() acquired, then call
 * ops->destroy (which may free the memory holding dev).  Call after the loop
 * serving the device's kicks has stopped if it is not the device's own.
 */
void virtio_dev_destroy(struct virtio_dev *dev);

/*
 * The eventfd signalled when the driver notifies queue (q): the KVM layer
 * registers it with KVM_IOEVENTFD at mmio_base + VIRTIO_MMIO_QUEUE_NOTIFY,
 * len 4, datamatch q; and the device's loop watches virtq->kick (an
 * ev_source).  Returns -1 if (q) is out of range.  Any thread.
 */
int virtio_dev_kick_fd(const struct virtio_dev *dev, unsigned int q);

/*
 * Handle a notification of queue (q): drain its kick eventfd, and if the
 * device is live and the queue ready, call ops->notify under qlock.  Other
 * kicks are ignored.  Device loop thread (the ev_source callback calls it).
 */
void virtio_dev_kick(struct virtio_dev *dev, unsigned int q);

/*
 * Set (bits) (VIRTIO_MMIO_INT_VRING/CONFIG) in the interrupt status and
 * signal the irqfd.  Any thread.
 */
void virtio_dev_interrupt(struct virtio_dev *dev, uint32_t bits);

/*
 * The guest broke the device (malformed ring or request we cannot complete):
 * set DEVICE_NEEDS_RESET, raise a config-change interrupt (virtio 1.2
 * §2.1.2), stop processing queues until the driver resets the device, log at
 * a rate limit.  Any thread; idempotent.
 */
void virtio_dev_fail(struct virtio_dev *dev, const char *why);

/* True once virtio_dev_fail() was called (until reset).  Any thread. */
bool virtio_dev_failed(const struct virtio_dev *dev);

/* True if the driver acknowledged feature (bit).  Any thread once active. */
bool virtio_dev_has_feature(const struct virtio_dev *dev, unsigned int bit);

/*
 * Replace (len) bytes of the config space at (offset), bump the config
 * generation and, if the driver is live, raise a config-change interrupt.
 * Returns 0 or -EINVAL (out of bounds).  Any thread except with the
 * transport lock held.
 */
int virtio_dev_config_update(struct virtio_dev *dev, uint32_t offset,
                             const void *data, uint32_t len);

#endif /* KRUN_VIRTIO_VIRTIO_H */
