/*
 * fiov.h: a byte cursor over an array of iovecs, the one shape both FUSE
 * transports hand the server: /dev/fuse gives one read() buffer (one iovec),
 * virtio-fs gives the readable and writable halves of a descriptor chain.
 * The same idea as virtio/iov.h's iov_iter; kept separate so that src/fuse
 * depends on nothing in src/virtio.  Not thread-safe; one cursor per request.
 */
#ifndef KRUN_FUSE_FIOV_H
#define KRUN_FUSE_FIOV_H

#include <stddef.h>
#include <sys/uio.h>

struct fiov {
    const struct iovec *iov; /* the caller's array; never modified */
    unsigned int cnt;        /* entries in iov */
    unsigned int idx;        /* current entry */
    size_t off;              /* offset inside iov[idx] */
    size_t left;             /* bytes from the position to the end */
};

/* Start a cursor at the first byte of (iov, cnt).  The total is capped at
 * SIZE_MAX; entries of length 0 are allowed. */
void fiov_init(struct fiov *c, const struct iovec *iov, unsigned int cnt);
/* Bytes between the position and the end. */
size_t fiov_remaining(const struct fiov *c);
/* Shrink the cursor so that at most (len) bytes remain. */
void fiov_truncate(struct fiov *c, size_t len);
/* Copy (len) bytes out and advance.  Returns 0, or -EINVAL (nothing copied,
 * position unchanged) if fewer than (len) bytes remain. */
int fiov_read(struct fiov *c, void *dst, size_t len);
/* Copy (len) bytes in and advance; 0 or -ENOSPC as fiov_read. */
int fiov_write(struct fiov *c, const void *src, size_t len);
/* Advance (len) bytes; 0 or -EINVAL if fewer remain (position unchanged). */
int fiov_skip(struct fiov *c, size_t len);
/* Describe the next (len) bytes as at most (max) iovecs in (out) without
 * advancing.  Returns the number of iovecs used; the bytes they cover are
 * MIN(len, remaining) unless (max) entries were not enough (then fewer). */
unsigned int fiov_slice(const struct fiov *c, size_t len, struct iovec *out,
                        unsigned int max);
/* Copy (len) bytes of (src) into an iovec array (dst, cnt).  Returns the
 * number of bytes copied, MIN(len, total of dst). */
size_t fiov_copy_to(const struct iovec *dst, unsigned int cnt, const void *src,
                    size_t len);

#endif /* KRUN_FUSE_FIOV_H */
