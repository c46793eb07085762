/*
 * net.h: virtio-net (device id 1, libkrun-behaviour.md §5.4): one rx and one
 * tx queue of 1024, the MAC and link status in the config space, the
 * caller's offloads as far as the backend can carry them, virtio_net_hdr_v1
 * (12 bytes).  Each interface has its own loop thread (krun-net) watching the
 * two kick eventfds and the backend fd.
 */
#ifndef KRUN_VIRTIO_NET_H
#define KRUN_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct evloop;
struct guest_mem;
struct virtio_dev;

#define NET_QUEUE_SIZE 1024
#define NET_HDR_LEN    12
/* Largest frame (virtio header excluded): upstream's 65562-byte buffer. */
#define NET_MAX_FRAME (65562 - NET_HDR_LEN)

/* Counters of one interface; atomics, read by any thread. */
struct net_stats {
    uint64_t rx_frames, tx_frames;   /* delivered to the guest / backend */
    uint64_t rx_dropped, tx_dropped; /* frames lost (too big, malformed...) */
};

/*
 * Create the interface (name) ("eth0", for logs) for (cfg) on guest memory
 * (gm): open its backend (a tap now; sockets connect when the guest sets
 * DRIVER_OK) and decide the offered features.  Returns 0 or -errno (logged).
 * Build thread.
 */
int net_create(const struct guest_mem *gm, const struct vm_net *cfg,
               const char *name, struct virtio_dev **out);

/* The loop the device's queue kicks must be added to (vm_add_virtio). */
struct evloop *net_loop(struct virtio_dev *dev);

/* Start the loop thread.  Returns 0 or -errno.  Build thread. */
int net_start(struct virtio_dev *dev);

/*
 * Stop and join the loop thread (idempotent); virtio_dev_destroy() must
 * only run after it (it frees the queues first).  Not on the loop thread.
 */
void net_stop(struct virtio_dev *dev);

/* The NET_FEATURE_* offload bits offered to the driver. */
uint32_t net_offered_offloads(struct virtio_dev *dev);

/* A snapshot of the counters.  Any thread. */
void net_get_stats(struct virtio_dev *dev, struct net_stats *out);

/* True once the backend died (EOF or a fatal error).  Any thread. */
bool net_backend_dead(struct virtio_dev *dev);

#endif /* KRUN_VIRTIO_NET_H */
