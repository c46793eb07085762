/*
 * balloon.h: virtio memory balloon (virtio 1.2 §5.5, device id 5), as
 * upstream offers it (libkrun-behaviour.md §5.6): VERSION_1, STATS_VQ,
 * FREE_PAGE_HINT and REPORTING; five queues of 256; a config space whose
 * num_pages stays 0, so the host never asks for memory.  What the device
 * acts on is free page reporting: every reported range of guest RAM is
 * given back to the host (gm_discard).  Inflated pages are given back too;
 * the stats buffer is held (stats are never requested); free page hints
 * and deflations are returned untouched.  Served on the VMM loop.
 */
#ifndef KRUN_VIRTIO_BALLOON_H
#define KRUN_VIRTIO_BALLOON_H

#include <stdint.h>

struct guest_mem;
struct virtio_dev;

/* What the device did, for tests and logs. */
struct balloon_stats {
    uint64_t reported_bytes; /* given back through the reporting queue */
    uint64_t inflated_pages; /* 4 KiB PFNs inflated inside guest RAM */
    uint64_t ignored_pfns;   /* inflated PFNs outside RAM */
};

/*
 * Create a balloon device on guest memory (gm) and store it in (*out); free
 * it with virtio_dev_destroy().  Returns 0 or -errno.  Build thread.
 */
int balloon_create(const struct guest_mem *gm, struct virtio_dev **out);

/*
 * Copy the counters of balloon device (dev) into (*st).  Any thread (the
 * counters are atomics; the copy is not a consistent snapshot).
 */
void balloon_get_stats(const struct virtio_dev *dev, struct balloon_stats *st);

#endif /* KRUN_VIRTIO_BALLOON_H */
