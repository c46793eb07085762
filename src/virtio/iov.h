/*
 * iov.h: a cursor over an array of buffers (one side of a virtqueue request).
 * Headers the guest sends are read through it, never by indexing iov[0]: a
 * header may be split across descriptors at any byte.
 */
#ifndef KRUN_VIRTIO_IOV_H
#define KRUN_VIRTIO_IOV_H

#include <stddef.h>
#include <sys/uio.h>

struct iov_iter {
    const struct iovec *iov; /* remaining buffers; iov[0] is partly used */
    unsigned int nr;         /* entries left in iov */
    size_t off;              /* bytes already consumed of iov[0] */
    size_t remaining;        /* bytes left in total */
};

/* Start a cursor over (nr) buffers at (iov).  Any thread. */
void iov_iter_init(struct iov_iter *it, const struct iovec *iov,
                   unsigned int nr);

/* Bytes left under the cursor. */
size_t iov_remaining(const struct iov_iter *it);

/*
 * Copy up to (len) bytes from the cursor into (dst) and advance.  Returns the
 * number copied (less than len only at the end).
 */
size_t iov_read(struct iov_iter *it, void *dst, size_t len);

/*
 * Copy up to (len) bytes from (src) to the cursor and advance.  Returns the
 * number copied (less than len only at the end).
 */
size_t iov_write(struct iov_iter *it, const void *src, size_t len);

/* Advance by up to (len) bytes.  Returns the number skipped. */
size_t iov_skip(struct iov_iter *it, size_t len);

/*
 * The next contiguous chunk under the cursor, at most (max) bytes, without
 * advancing: stores its address in (*ptr) and returns its length (0 at the
 * end).  For syscalls that fill guest buffers directly; iov_skip() after.
 */
size_t iov_peek(const struct iov_iter *it, void **ptr, size_t max);

#endif /* KRUN_VIRTIO_IOV_H */
