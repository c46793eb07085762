/*
 * balloon.c: virtio memory balloon: free page reporting and inflated pages
 * go back to the host; nothing is ever requested of the guest.
 */
#define LOG_TAG "virtio-balloon"
#include "virtio/balloon.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_balloon.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "iov.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#include "virtio/virtio.h"

/* Queue roles, in the order of virtio 1.2 §5.5.2. */
enum balloon_role {
    BQ_INFLATE,
    BQ_DEFLATE,
    BQ_STATS,
    BQ_HINT,
    BQ_REPORTING,
    BQ_NONE, /* a queue index past the ones the features define */
    BQ_NR = BQ_NONE,
};

/* PFNs looked at per inflate request: Linux sends at most 256. */
#define BALLOON_MAX_PFNS 256

struct balloon_dev {
    struct virtio_dev vdev;
    struct virtio_balloon_config config; /* le32 fields; transport lock */
    uint8_t role[BQ_NR];        /* queue index -> role; set at activation */
    struct virtq_req req;       /* owner: the VMM loop (qlock) */
    struct balloon_stats stats; /* atomics */
};

static void count(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* Inflate: an array of le32 page frame numbers (4 KiB units) to give back. */
static void balloon_inflate(struct balloon_dev *b, const struct virtq_req *req)
{
    struct iov_iter r;
    uint32_t pfn;

    virtq_req_reader(req, &r);
    for (int i = 0; i < BALLOON_MAX_PFNS && iov_read_all(&r, &pfn, 4) == 0;
         i++) {
        uint64_t gpa = (uint64_t)le32toh(pfn) << VIRTIO_BALLOON_PFN_SHIFT;
        void *host = gm_ptr(b->vdev.gm, gpa, 1u << VIRTIO_BALLOON_PFN_SHIFT);

        if (host &&
            gm_discard(b->vdev.gm, host, 1u << VIRTIO_BALLOON_PFN_SHIFT) > 0)
            count(&b->stats.inflated_pages, 1);
        else
            count(&b->stats.ignored_pfns, 1);
    }
}

/*
 * Free page reporting (§5.5.6.7): each buffer is a range of free guest
 * pages.  virtq_pop() already checked every range against guest RAM and
 * split the ones straddling two regions; gm_discard() keeps to whole pages
 * of RAM we mapped, so the kernel bundle is never touched.
 */
static void balloon_report(struct balloon_dev *b, const struct virtq_req *req)
{
    for (unsigned int i = 0; i < req->nr_rd + req->nr_wr; i++) {
        int64_t n =
            gm_discard(b->vdev.gm, req->iov[i].iov_base, req->iov[i].iov_len);

        if (n < 0)
            log_ratelimited(LOG_WARN, "madvise: %s", strerror((int)-n));
        else
            count(&b->stats.reported_bytes, (uint64_t)n);
    }
}

/* What each role does with a buffer; (hold): buffers stay with the device. */
static const struct balloon_queue {
    int feature; /* the queue exists only with this feature; -1: always */
    bool hold;
    void (*handle)(struct balloon_dev *b, const struct virtq_req *req);
} balloon_queues[] = {
    [BQ_INFLATE] = {-1, false, balloon_inflate},
    [BQ_DEFLATE] = {-1, false, NULL},
    /* §5.5.6.3: the device returns the stats buffer to request stats. */
    [BQ_STATS] = {VIRTIO_BALLOON_F_STATS_VQ, true, NULL},
    /* Hints only flow after a command id we never set; consume them. */
    [BQ_HINT] = {VIRTIO_BALLOON_F_FREE_PAGE_HINT, false, NULL},
    [BQ_REPORTING] = {VIRTIO_BALLOON_F_REPORTING, false, balloon_report},
    [BQ_NONE] = {-1, true, NULL},
};

/* §5.5.2: a queue whose feature was not negotiated takes no index. */
static int balloon_activate(struct virtio_dev *dev)
{
    struct balloon_dev *b = container_of(dev, struct balloon_dev, vdev);
    unsigned int q = 0;

    for (unsigned int r = 0; r < BQ_NR; r++) {
        int f = balloon_queues[r].feature;

        if (f < 0 || virtio_dev_has_feature(dev, (unsigned int)f))
            b->role[q++] = (uint8_t)r;
    }
    while (q < BQ_NR)
        b->role[q++] = BQ_NONE;
    return 0;
}

static void balloon_notify(struct virtio_dev *dev, struct virtq *vq)
{
    struct balloon_dev *b = container_of(dev, struct balloon_dev, vdev);
    const struct balloon_queue *bq = &balloon_queues[b->role[vq->index]];
    int rc;

    if (bq->hold)
        return;
    while ((rc = virtq_pop(vq, &b->req)) > 0) {
        if (bq->handle)
            bq->handle(b, &b->req);
        virtq_push(vq, b->req.head, 0);
    }
    if (rc < 0)
        virtio_dev_fail(dev, "malformed request");
    virtq_notify(vq);
}

/* Only `actual` is the driver's to write (§5.5.4). */
static void balloon_config_write(struct virtio_dev *dev, uint32_t offset,
                                 const void *data, uint32_t len)
{
    const uint32_t lo = offsetof(struct virtio_balloon_config, actual);

    if (offset < lo || offset + len > lo + 4) {
        log_ratelimited(LOG_WARN, "read-only config write at %u ignored",
                        offset);
        return;
    }
    memcpy(dev->config + offset, data, len);
}

static void balloon_destroy(struct virtio_dev *dev)
{
    free(container_of(dev, struct balloon_dev, vdev));
}

static const struct virtio_dev_ops balloon_ops = {
    .name = "balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .queue_max = 256,
    .features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BALLOON_F_STATS_VQ |
                1ULL << VIRTIO_BALLOON_F_FREE_PAGE_HINT |
                1ULL << VIRTIO_BALLOON_F_REPORTING,
    .config_write = balloon_config_write,
    .activate = balloon_activate,
    .notify = balloon_notify,
    .destroy = balloon_destroy,
};

int balloon_create(const struct guest_mem *gm, struct virtio_dev **out)
{
    struct balloon_dev *b;
    int rc;

    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    rc = virtio_dev_init(&b->vdev, &balloon_ops, BQ_NR, gm, "balloon");
    if (rc < 0) {
        free(b);
        return rc;
    }
    b->vdev.config = (uint8_t *)&b->config;
    b->vdev.config_len = sizeof(b->config);
    for (unsigned int q = 0; q < BQ_NR; q++)
        b->role[q] = BQ_NONE;
    *out = &b->vdev;
    return 0;
}

void balloon_get_stats(const struct virtio_dev *dev, struct balloon_stats *st)
{
    const struct balloon_dev *b =
        (const struct balloon_dev *)(const void *)((const char *)dev -
                                                   offsetof(struct balloon_dev,
                                                            vdev));

    st->reported_bytes =
        __atomic_load_n(&b->stats.reported_bytes, __ATOMIC_RELAXED);
    st->inflated_pages =
        __atomic_load_n(&b->stats.inflated_pages, __ATOMIC_RELAXED);
    st->ignored_pfns =
        __atomic_load_n(&b->stats.ignored_pfns, __ATOMIC_RELAXED);
}
