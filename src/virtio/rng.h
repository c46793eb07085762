/*
 * rng.h: virtio entropy device (virtio 1.2 §5.4, device id 4): one queue of
 * 256; fills the driver's writable buffers from getrandom().  The template
 * every other device follows.
 */
#ifndef KRUN_VIRTIO_RNG_H
#define KRUN_VIRTIO_RNG_H

struct guest_mem;
struct virtio_dev;

/* Bytes of entropy handed out per request at most. */
#define RNG_MAX_PER_REQ (64 * 1024)

/*
 * Create an rng device on guest memory (gm) and store it in (*out); free it
 * with virtio_dev_destroy().  Returns 0 or -errno.  Build thread.
 */
int rng_create(const struct guest_mem *gm, struct virtio_dev **out);

#endif /* KRUN_VIRTIO_RNG_H */
