/*
 * mmio.c: virtio-mmio v2 register file (virtio 1.2 §4.2.2), the device status
 * state machine (§3.1.1, §2.1), feature negotiation and queue setup.
 */
#define LOG_TAG "virtio-mmio"
#include "virtio/mmio.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "virtio/virtio.h"

#define S_ACK    VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV    VIRTIO_CONFIG_S_DRIVER
#define S_FEAT   VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRV_OK VIRTIO_CONFIG_S_DRIVER_OK
#define S_FAILED VIRTIO_CONFIG_S_FAILED

static bool check_features(struct virtio_dev *dev);
static bool activate(struct virtio_dev *dev);

/*
 * virtio 1.2 §3.1.1: the driver sets status bits only in this order.  (step)
 * decides whether the transition is accepted.  Writing 0 (reset) and adding
 * FAILED are allowed from any state; everything else is ignored.
 */
static const struct {
    uint8_t from, to;
    bool (*step)(struct virtio_dev *dev);
} status_steps[] = {
    {0, S_ACK, NULL},
    {S_ACK, S_ACK | S_DRV, NULL},
    {S_ACK | S_DRV, S_ACK | S_DRV | S_FEAT, check_features},
    {S_ACK | S_DRV | S_FEAT, S_ACK | S_DRV | S_FEAT | S_DRV_OK, activate},
};

static uint64_t offered_features(const struct virtio_dev *dev)
{
    return dev->features | (1ULL << VIRTIO_F_VERSION_1);
}

static void set_status(struct virtio_dev *dev, uint32_t status)
{
    /* Atomic: virtio_dev_fail() reads it from the device thread. */
    __atomic_store_n(&dev->status, status, __ATOMIC_SEQ_CST);
}

int mmio_setup(struct virtio_dev *dev, uint64_t base, uint32_t irq, int irqfd)
{
    if (!IS_ALIGNED(base, MMIO_WINDOW_SIZE))
        return -EINVAL;
    dev->mmio_base = base;
    dev->irq = irq;
    dev->irqfd = irqfd;
    return 0;
}

void mmio_set_shm(struct virtio_dev *dev, uint64_t base, uint64_t len)
{
    dev->shm_base = base;
    dev->shm_len = len;
}

/* §3.1.1 step 5: the device refuses FEATURES_OK for bits it never offered;
 * a version 2 transport also requires VIRTIO_F_VERSION_1 (§4.2.2). */
static bool check_features(struct virtio_dev *dev)
{
    uint64_t unoffered = dev->driver_features & ~offered_features(dev);

    if (unoffered || dev->driver_features_extra ||
        !virtio_dev_has_feature(dev, VIRTIO_F_VERSION_1)) {
        log_ratelimited(LOG_WARN,
                        "%s: driver features %#" PRIx64 " not acceptable",
                        dev->name, dev->driver_features);
        return false;
    }
    return true;
}

/* DRIVER_OK: start the device, then look at queues kicked before it. */
static bool activate(struct virtio_dev *dev)
{
    uint64_t one = 1;

    if (dev->ops->activate && dev->ops->activate(dev) < 0) {
        virtio_dev_fail(dev, "activation failed");
        return true; /* DRIVER_OK stays set, with NEEDS_RESET */
    }
    dev->active = true;
    for (unsigned int i = 0; i < dev->num_queues; i++)
        if (dev->vqs[i].ready &&
            write(dev->vqs[i].kick.fd, &one, sizeof(one)) < 0)
            log_ratelimited(LOG_WARN, "%s: kick write: %m", dev->name);
    return true;
}

/* §2.4 device reset: back to the initial state.  Both locks held. */
static void device_reset(struct virtio_dev *dev)
{
    if (dev->ops->reset)
        dev->ops->reset(dev);
    for (unsigned int i = 0; i < dev->num_queues; i++)
        virtq_reset(&dev->vqs[i]);
    dev->active = false;
    dev->driver_features = 0;
    dev->driver_features_extra = false;
    dev->dev_features_sel = dev->drv_features_sel = 0;
    dev->queue_sel = dev->shm_sel = 0;
    __atomic_store_n(&dev->isr, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&dev->needs_reset, 0, __ATOMIC_SEQ_CST);
    set_status(dev, 0);
}

static void status_write(struct virtio_dev *dev, uint32_t val)
{
    uint32_t cur = dev->status;

    if (val == 0) {
        device_reset(dev);
        return;
    }
    /* The driver may echo back NEEDS_RESET; only the device sets it. */
    val &= ~(uint32_t)VIRTIO_CONFIG_S_NEEDS_RESET;
    if (val == cur)
        return;
    if (!(cur & S_FAILED) && val == (cur | S_FAILED)) {
        set_status(dev, val); /* sticky until reset */
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(status_steps) && !(cur & S_FAILED); i++) {
        if (status_steps[i].from != cur || status_steps[i].to != val)
            continue;
        if (!status_steps[i].step || status_steps[i].step(dev))
            set_status(dev, val);
        return;
    }
    log_ratelimited(LOG_WARN, "%s: status %#x -> %#x out of order, ignored",
                    dev->name, cur, val);
}

static struct virtq *selected_vq(struct virtio_dev *dev)
{
    return dev->queue_sel < dev->num_queues ? &dev->vqs[dev->queue_sel] : NULL;
}

/* Queue registers may change after FEATURES_OK, before DRIVER_OK, while the
 * queue is not ready (§4.2.3.2). */
static struct virtq *writable_vq(struct virtio_dev *dev)
{
    struct virtq *vq = selected_vq(dev);

    if (vq && !vq->ready &&
        (dev->status & (S_FEAT | S_DRV_OK | S_FAILED)) == S_FEAT)
        return vq;
    log_ratelimited(LOG_WARN, "%s: queue %u not writable now", dev->name,
                    dev->queue_sel);
    return NULL;
}

static void set_lo(uint64_t *v, uint32_t lo)
{
    *v = (*v & ~0xffffffffULL) | lo;
}

static void set_hi(uint64_t *v, uint32_t hi)
{
    *v = (*v & 0xffffffffULL) | ((uint64_t)hi << 32);
}

static void queue_ready_write(struct virtio_dev *dev, uint32_t val)
{
    struct virtq *vq = selected_vq(dev);
    bool event_idx;

    if (vq && val == 0) {
        vq->ready = false; /* §4.2.2: the driver stops using the queue */
        return;
    }
    vq = writable_vq(dev);
    if (!vq)
        return;
    event_idx = virtio_dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
    if (virtq_validate(vq, dev->gm, event_idx) < 0) {
        virtio_dev_fail(dev, "queue size, alignment or placement invalid");
        return;
    }
    vq->ready = true;
}

/* QueueNotify from an MMIO exit: hand it to the device's loop thread. */
static void queue_notify_write(struct virtio_dev *dev, uint32_t q)
{
    uint64_t one = 1;

    if (q >= dev->num_queues || !dev->vqs[q].ready) {
        log_ratelimited(LOG_WARN, "%s: notify for queue %u not ready",
                        dev->name, q);
        return;
    }
    if (write(dev->vqs[q].kick.fd, &one, sizeof(one)) < 0)
        log_ratelimited(LOG_WARN, "%s: kick write: %m", dev->name);
}

static void features_write(struct virtio_dev *dev, uint32_t val)
{
    if (dev->status != (S_ACK | S_DRV)) {
        log_ratelimited(LOG_WARN, "%s: features written in status %#x",
                        dev->name, dev->status);
        return;
    }
    if (dev->drv_features_sel == 0)
        set_lo(&dev->driver_features, val);
    else if (dev->drv_features_sel == 1)
        set_hi(&dev->driver_features, val);
    else if (val)
        dev->driver_features_extra = true;
}

static void queue_addr_write(struct virtio_dev *dev, uint64_t off, uint32_t val)
{
    struct virtq *vq = writable_vq(dev);
    uint64_t *reg;

    if (!vq)
        return;
    if (off < VIRTIO_MMIO_QUEUE_AVAIL_LOW)
        reg = &vq->desc_gpa;
    else if (off < VIRTIO_MMIO_QUEUE_USED_LOW)
        reg = &vq->avail_gpa;
    else
        reg = &vq->used_gpa;
    if (off & 4)
        set_hi(reg, val);
    else
        set_lo(reg, val);
}

static void reg_write(struct virtio_dev *dev, uint64_t off, uint32_t val)
{
    struct virtq *vq;

    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        dev->dev_features_sel = val;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        features_write(dev, val);
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        dev->drv_features_sel = val;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        dev->queue_sel = val;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        vq = writable_vq(dev);
        if (vq) /* an impossible size fails validation at QueueReady */
            vq->size = val > UINT16_MAX ? 0 : (uint16_t)val;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        queue_ready_write(dev, val);
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        queue_notify_write(dev, val);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        __atomic_fetch_and(&dev->isr, ~val, __ATOMIC_SEQ_CST);
        break;
    case VIRTIO_MMIO_STATUS:
        status_write(dev, val);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
        queue_addr_write(dev, off, val);
        break;
    case VIRTIO_MMIO_SHM_SEL:
        dev->shm_sel = val;
        break;
    default:
        log_ratelimited(LOG_WARN, "%s: write to register %#" PRIx64 " ignored",
                        dev->name, off);
    }
}

static uint32_t shm_reg(const struct virtio_dev *dev, uint64_t off)
{
    bool present = dev->shm_len != 0 && dev->shm_sel <= 1;
    uint64_t len = present ? dev->shm_len : UINT64_MAX;
    uint64_t base = present ? dev->shm_base : 0;

    switch (off) {
    case VIRTIO_MMIO_SHM_LEN_LOW:
        return (uint32_t)len;
    case VIRTIO_MMIO_SHM_LEN_HIGH:
        return (uint32_t)(len >> 32);
    case VIRTIO_MMIO_SHM_BASE_LOW:
        return (uint32_t)base;
    default:
        return (uint32_t)(base >> 32);
    }
}

static uint32_t queue_reg(struct virtio_dev *dev, uint64_t off)
{
    const struct virtq *vq = selected_vq(dev);

    if (!vq)
        return 0;
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return vq->max_size;
    case VIRTIO_MMIO_QUEUE_NUM:
        return vq->size;
    default:
        return vq->ready;
    }
}

static uint32_t reg_read(struct virtio_dev *dev, uint64_t off)
{
    uint64_t feat = offered_features(dev);

    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return MMIO_VERSION;
    case VIRTIO_MMIO_DEVICE_ID:
        return dev->ops->device_id;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (dev->dev_features_sel > 1)
            return 0;
        return (uint32_t)(feat >> (32 * dev->dev_features_sel));
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
    case VIRTIO_MMIO_QUEUE_NUM:
    case VIRTIO_MMIO_QUEUE_READY:
        return queue_reg(dev, off);
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return __atomic_load_n(&dev->isr, __ATOMIC_SEQ_CST);
    case VIRTIO_MMIO_STATUS:
        return dev->status |
               __atomic_load_n(&dev->needs_reset, __ATOMIC_SEQ_CST);
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
        return shm_reg(dev, off);
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return dev->config_generation;
    default:
        return 0; /* vendor id 0, write-only and unknown registers */
    }
}

/* Bounds of a config-space access; false if any byte falls outside. */
static bool config_range(const struct virtio_dev *dev, uint64_t offset,
                         uint32_t len, uint32_t *cfg_off)
{
    uint64_t off = offset - VIRTIO_MMIO_CONFIG;

    if (len == 0 || len > 8 || off > dev->config_len ||
        len > dev->config_len - off) {
        log_ratelimited(LOG_WARN, "%s: config access %#" PRIx64 "+%u outside",
                        dev->name, offset, len);
        return false;
    }
    *cfg_off = (uint32_t)off;
    return true;
}

/* Register accesses are 32 bits wide and aligned (§4.2.2.2). */
static bool reg_access_ok(const struct virtio_dev *dev, uint64_t offset,
                          uint32_t len)
{
    if (len == 4 && IS_ALIGNED(offset, 4))
        return true;
    log_ratelimited(LOG_WARN, "%s: %u-byte register access at %#" PRIx64,
                    dev->name, len, offset);
    return false;
}

void mmio_read(struct virtio_dev *dev, uint64_t offset, void *data,
               uint32_t len)
{
    uint32_t cfg_off, val;

    memset(data, 0, len);
    if (offset >= MMIO_WINDOW_SIZE)
        return;
    pthread_mutex_lock(&dev->lock);
    if (offset >= VIRTIO_MMIO_CONFIG) {
        if (config_range(dev, offset, len, &cfg_off))
            memcpy(data, dev->config + cfg_off, len);
    } else if (reg_access_ok(dev, offset, len)) {
        val = reg_read(dev, offset);
        memcpy(data, &val, sizeof(val)); /* little-endian host (x86_64) */
    }
    pthread_mutex_unlock(&dev->lock);
}

static void config_write(struct virtio_dev *dev, uint64_t offset,
                         const void *data, uint32_t len)
{
    uint32_t cfg_off;

    if (!config_range(dev, offset, len, &cfg_off))
        return;
    if (!(dev->status & S_DRV) || !dev->ops->config_write) {
        log_ratelimited(LOG_WARN, "%s: config write ignored", dev->name);
        return;
    }
    dev->ops->config_write(dev, cfg_off, data, len);
}

void mmio_write(struct virtio_dev *dev, uint64_t offset, const void *data,
                uint32_t len)
{
    /* Reset, activation and queue enable/disable exclude queue processing:
     * take qlock first (lock order: qlock, then lock). */
    bool qlock =
        offset == VIRTIO_MMIO_STATUS || offset == VIRTIO_MMIO_QUEUE_READY;
    uint32_t val;

    if (offset >= MMIO_WINDOW_SIZE)
        return;
    if (qlock)
        pthread_mutex_lock(&dev->qlock);
    pthread_mutex_lock(&dev->lock);
    if (offset >= VIRTIO_MMIO_CONFIG) {
        config_write(dev, offset, data, len);
    } else if (reg_access_ok(dev, offset, len)) {
        memcpy(&val, data, sizeof(val));
        reg_write(dev, offset, val);
    }
    pthread_mutex_unlock(&dev->lock);
    if (qlock)
        pthread_mutex_unlock(&dev->qlock);
}

void mmio_bus_handler(void *opaque, uint64_t offset, uint8_t *data,
                      uint32_t len, bool is_write)
{
    if (is_write)
        mmio_write(opaque, offset, data, len);
    else
        mmio_read(opaque, offset, data, len);
}

int mmio_cmdline(const struct virtio_dev *dev, char *buf, size_t size)
{
    int n = snprintf(buf, size, "virtio_mmio.device=4K@0x%08" PRIx64 ":%u",
                     dev->mmio_base, dev->irq);

    return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}
