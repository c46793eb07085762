/* rng.c: virtio entropy device: getrandom() into the driver's buffers. */
#define LOG_TAG "virtio-rng"
#include "virtio/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "iov.h"
#include "log.h"
#include "util.h"
#include "virtio/virtio.h"

struct rng_dev {
    struct virtio_dev vdev;
    struct virtq_req req; /* owner: the device loop thread */
};

/* Fill the writable side of (req), up to RNG_MAX_PER_REQ bytes. */
static uint32_t rng_fill(const struct virtq_req *req)
{
    struct iov_iter w;
    uint32_t done = 0;

    virtq_req_writer(req, &w);
    while (done < RNG_MAX_PER_REQ) {
        void *buf;
        size_t n = iov_peek(&w, &buf, RNG_MAX_PER_REQ - done);
        ssize_t got;

        if (n == 0)
            break;
        got = getrandom(buf, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            log_ratelimited(LOG_WARN, "getrandom: %m");
            break;
        }
        iov_skip(&w, (size_t)got);
        done += (uint32_t)got;
    }
    return done;
}

static void rng_notify(struct virtio_dev *dev, struct virtq *vq)
{
    struct rng_dev *rng = container_of(dev, struct rng_dev, vdev);
    int rc;

    while ((rc = virtq_pop(vq, &rng->req)) > 0)
        virtq_push(vq, rng->req.head, rng_fill(&rng->req));
    if (rc < 0)
        virtio_dev_fail(dev, "malformed request");
    virtq_notify(vq);
}

static void rng_destroy(struct virtio_dev *dev)
{
    free(container_of(dev, struct rng_dev, vdev));
}

static const struct virtio_dev_ops rng_ops = {
    .name = "rng",
    .device_id = VIRTIO_ID_RNG,
    .queue_max = 256,
    .features = 1ULL << VIRTIO_F_VERSION_1,
    .notify = rng_notify,
    .destroy = rng_destroy,
};

int rng_create(const struct guest_mem *gm, struct virtio_dev **out)
{
    struct rng_dev *rng;
    int rc;

    rng = calloc(1, sizeof(*rng));
    if (!rng)
        return -ENOMEM;
    rc = virtio_dev_init(&rng->vdev, &rng_ops, 1, gm, "rng");
    if (rc < 0) {
        free(rng);
        return rc;
    }
    *out = &rng->vdev;
    return 0;
}
