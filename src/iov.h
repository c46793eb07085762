/*
 * iov.h: a byte cursor over an array of iovecs, the one shape in which both
 * virtqueue requests (the readable and writable halves of a descriptor chain)
 * and FUSE requests (one /dev/fuse read() buffer, or a virtio-fs chain) reach
 * their parsers.  Headers are read through it, never by indexing iov[0]: a
 * header may be split across entries at any byte.
 *
 * Two kinds of operations: iov_read/iov_write/iov_skip do what fits and return
 * the bytes done (short only at the end); the _all variants do all or nothing
 * and return 0 or a negative errno.  Entries of length 0 are allowed anywhere.
 *
 * The cursor points into the caller's array, which must outlive it and is
 * never modified; copying a struct iov_iter by value gives an independent
 * cursor at the same position.  No locking: one cursor, one thread.
 */
#ifndef KRUN_IOV_H
#define KRUN_IOV_H

#include <stddef.h>
#include <sys/uio.h>

struct iov_iter {
    const struct iovec *iov; /* entries not used up yet; iov[0] partly used */
    unsigned int nr;         /* entries left at iov */
    size_t off;              /* bytes already consumed of iov[0] */
    size_t remaining;        /* bytes left: the entries' total, capped at
                                SIZE_MAX and by iov_truncate() */
};

/*
 * Start a cursor (it) at the first byte of (nr) entries at (iov).  The total
 * saturates at SIZE_MAX.  Any thread.
 */
void iov_iter_init(struct iov_iter *it, const struct iovec *iov,
                   unsigned int nr);

/* Bytes left between the position of (it) and its end. */
size_t iov_remaining(const struct iov_iter *it);

/*
 * Move the end of (it) so that at most (len) bytes remain; a larger (len)
 * changes nothing.  The bytes past the new end are never touched.
 */
void iov_truncate(struct iov_iter *it, size_t len);

/*
 * Copy up to (len) bytes from the cursor (it) into (dst) and advance.
 * Returns the number copied (less than len only at the end).
 */
size_t iov_read(struct iov_iter *it, void *dst, size_t len);

/*
 * Copy up to (len) bytes from (src) to the cursor (it) and advance.  Returns
 * the number copied (less than len only at the end).
 */
size_t iov_write(struct iov_iter *it, const void *src, size_t len);

/* Advance (it) by up to (len) bytes.  Returns the number skipped. */
size_t iov_skip(struct iov_iter *it, size_t len);

/*
 * Copy exactly (len) bytes from (it) into (dst) and advance.  Returns 0, or
 * -EINVAL if fewer than (len) bytes remain (nothing copied, position kept).
 */
int iov_read_all(struct iov_iter *it, void *dst, size_t len);

/*
 * Copy exactly (len) bytes from (src) to (it) and advance.  Returns 0, or
 * -ENOSPC if fewer than (len) bytes remain (nothing copied, position kept).
 */
int iov_write_all(struct iov_iter *it, const void *src, size_t len);

/*
 * Advance (it) by exactly (len) bytes.  Returns 0, or -EINVAL if fewer
 * remain (position kept).
 */
int iov_skip_all(struct iov_iter *it, size_t len);

/*
 * The next contiguous chunk under (it), at most (max) bytes, without
 * advancing: stores its address in (*ptr) and returns its length (0 and
 * *ptr == NULL at the end).  For syscalls that fill or drain the buffers in
 * place; iov_skip() after.
 */
size_t iov_peek(const struct iov_iter *it, void **ptr, size_t max);

/*
 * Describe the next (len) bytes under (it) as at most (max) non-empty iovecs
 * in (out), without advancing.  Returns the number of iovecs stored; they
 * cover MIN(len, iov_remaining(it)) bytes unless (max) entries were not
 * enough (then fewer).
 */
unsigned int iov_slice(const struct iov_iter *it, size_t len, struct iovec *out,
                       unsigned int max);

/*
 * Copy (len) bytes of (src) into the (nr) entries at (dst), from their start.
 * Returns the number copied: MIN(len, total of dst).
 */
size_t iov_copy_to(const struct iovec *dst, unsigned int nr, const void *src,
                   size_t len);

#endif /* KRUN_IOV_H */
