/*
 * virtio.c: state common to every virtio device: queues and their kick
 * eventfds, interrupts, the NEEDS_RESET path and config-space updates.
 */
#define LOG_TAG "virtio"
#include "virtio/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* The kick eventfd of a queue became readable (device loop thread). */
static void virtq_kick_ready(struct ev_source *src, uint32_t events)
{
    struct virtq *vq = container_of(src, struct virtq, kick);

    virtio_dev_kick(vq->dev, vq->index);
}

static void close_kicks(struct virtio_dev *dev, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        if (dev->vqs[i].kick.fd >= 0)
            close(dev->vqs[i].kick.fd);
}

int virtio_dev_init(struct virtio_dev *dev, const struct virtio_dev_ops *ops,
                    unsigned int num_queues, const struct guest_mem *gm,
                    const char *name)
{
    unsigned int i;
    int rc;

    if (num_queues == 0 || num_queues > 64 || !IS_POW2(ops->queue_max) ||
        ops->queue_max > VIRTQ_MAX_SIZE)
        return -EINVAL;
    memset(dev, 0, sizeof(*dev));
    dev->ops = ops;
    dev->gm = gm;
    dev->num_queues = num_queues;
    dev->irqfd = -1;
    dev->features = ops->features;
    snprintf(dev->name, sizeof(dev->name), "%s", name ? name : ops->name);
    dev->vqs = calloc(num_queues, sizeof(*dev->vqs));
    if (!dev->vqs)
        return -ENOMEM;
    for (i = 0; i < num_queues; i++) {
        struct virtq *vq = &dev->vqs[i];

        vq->dev = dev;
        vq->index = i;
        vq->max_size = ops->queue_max;
        vq->kick.fn = virtq_kick_ready;
        vq->kick.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (vq->kick.fd < 0) {
            rc = -errno;
            goto err_close;
        }
    }
    pthread_mutex_init(&dev->lock, NULL);
    pthread_mutex_init(&dev->qlock, NULL);
    return 0;

err_close:
    close_kicks(dev, i);
    free(dev->vqs);
    dev->vqs = NULL;
    return rc;
}

void virtio_dev_destroy(struct virtio_dev *dev)
{
    if (!dev)
        return;
    /* Threads still running would use the queues and qlock freed below. */
    if (dev->ops->stop)
        dev->ops->stop(dev);
    if (dev->vqs) {
        close_kicks(dev, dev->num_queues);
        free(dev->vqs);
        dev->vqs = NULL;
        pthread_mutex_destroy(&dev->lock);
        pthread_mutex_destroy(&dev->qlock);
    }
    if (dev->ops->destroy)
        dev->ops->destroy(dev);
}

int virtio_dev_kick_fd(const struct virtio_dev *dev, unsigned int q)
{
    return q < dev->num_queues ? dev->vqs[q].kick.fd : -1;
}

void virtio_dev_kick(struct virtio_dev *dev, unsigned int q)
{
    struct virtq *vq;
    uint64_t count;

    if (q >= dev->num_queues)
        return;
    vq = &dev->vqs[q];
    /* Drain first: a kick arriving while we process is seen next time. */
    if (read(vq->kick.fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        log_ratelimited(LOG_WARN, "%s: kick read: %m", dev->name);
    pthread_mutex_lock(&dev->qlock);
    if (dev->active && vq->ready && !virtio_dev_failed(dev) && dev->ops->notify)
        dev->ops->notify(dev, vq);
    pthread_mutex_unlock(&dev->qlock);
}

void virtio_dev_interrupt(struct virtio_dev *dev, uint32_t bits)
{
    uint64_t one = 1;

    /* The status bit must be set before the guest can take the interrupt. */
    __atomic_fetch_or(&dev->isr, bits, __ATOMIC_SEQ_CST);
    if (dev->irqfd >= 0 && write(dev->irqfd, &one, sizeof(one)) < 0)
        log_ratelimited(LOG_WARN, "%s: irqfd write: %m", dev->name);
}

void virtio_dev_fail(struct virtio_dev *dev, const char *why)
{
    if (__atomic_exchange_n(&dev->needs_reset, VIRTIO_CONFIG_S_NEEDS_RESET,
                            __ATOMIC_SEQ_CST))
        return;
    log_ratelimited(LOG_WARN, "%s: %s; device needs reset", dev->name, why);
    /* §2.1.2: with DRIVER_OK set, tell the driver by a config change. */
    if (__atomic_load_n(&dev->status, __ATOMIC_SEQ_CST) &
        VIRTIO_CONFIG_S_DRIVER_OK)
        virtio_dev_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
}

bool virtio_dev_failed(const struct virtio_dev *dev)
{
    return __atomic_load_n(&dev->needs_reset, __ATOMIC_SEQ_CST) != 0;
}

bool virtio_dev_has_feature(const struct virtio_dev *dev, unsigned int bit)
{
    return bit < 64 && (dev->driver_features >> bit) & 1;
}

int virtio_dev_config_update(struct virtio_dev *dev, uint32_t offset,
                             const void *data, uint32_t len)
{
    bool live;

    pthread_mutex_lock(&dev->lock);
    if (offset > dev->config_len || len > dev->config_len - offset) {
        pthread_mutex_unlock(&dev->lock);
        return -EINVAL;
    }
    memcpy(dev->config + offset, data, len);
    dev->config_generation++;
    live = dev->status & VIRTIO_CONFIG_S_DRIVER_OK;
    pthread_mutex_unlock(&dev->lock);
    if (live)
        virtio_dev_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
    return 0;
}
