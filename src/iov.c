/* iov.c: a byte cursor over an iovec array (see iov.h). */
#include "iov.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

void iov_iter_init(struct iov_iter *it, const struct iovec *iov,
                   unsigned int nr)
{
    size_t total = 0;

    for (unsigned int i = 0; i < nr; i++) {
        if (add_overflow(total, iov[i].iov_len, &total))
            total = SIZE_MAX; /* ends are kept by remaining, never by nr */
    }
    it->iov = iov;
    it->nr = nr;
    it->off = 0;
    it->remaining = total;
}

size_t iov_remaining(const struct iov_iter *it)
{
    return it->remaining;
}

void iov_truncate(struct iov_iter *it, size_t len)
{
    if (len < it->remaining)
        it->remaining = len;
}

/*
 * The next contiguous chunk, at most (max) bytes, in (*ptr); 0 at the end.
 * Drops used-up entries first, which does not move the position, so that
 * zero-length entries never end a walk early.
 */
static size_t iov_chunk(struct iov_iter *it, void **ptr, size_t max)
{
    while (it->nr > 0 && it->off >= it->iov[0].iov_len) {
        it->iov++;
        it->nr--;
        it->off = 0;
    }
    if (it->nr == 0 || it->remaining == 0) {
        *ptr = NULL;
        return 0;
    }
    *ptr = (uint8_t *)it->iov[0].iov_base + it->off;
    return MIN(MIN(max, it->iov[0].iov_len - it->off), it->remaining);
}

/* Consume (n) bytes of the chunk iov_chunk() just returned. */
static void iov_consume(struct iov_iter *it, size_t n)
{
    it->off += n;
    it->remaining -= n;
}

size_t iov_peek(const struct iov_iter *it, void **ptr, size_t max)
{
    struct iov_iter tmp = *it;

    return iov_chunk(&tmp, ptr, max);
}

/* Which way iov_walk() copies. */
enum iov_copy { IOV_NONE, IOV_TO_BUF, IOV_FROM_BUF };

/* Advance up to (len) bytes, copying each chunk to or from (buf) as (dir)
 * says.  Returns the bytes walked. */
static size_t iov_walk(struct iov_iter *it, uint8_t *buf, size_t len,
                       enum iov_copy dir)
{
    size_t done = 0;

    while (done < len) {
        void *p;
        size_t n = iov_chunk(it, &p, len - done);

        if (n == 0)
            break;
        if (dir == IOV_TO_BUF)
            memcpy(buf + done, p, n);
        else if (dir == IOV_FROM_BUF)
            memcpy(p, buf + done, n);
        iov_consume(it, n);
        done += n;
    }
    return done;
}

size_t iov_skip(struct iov_iter *it, size_t len)
{
    return iov_walk(it, NULL, len, IOV_NONE);
}

size_t iov_read(struct iov_iter *it, void *dst, size_t len)
{
    return iov_walk(it, dst, len, IOV_TO_BUF);
}

size_t iov_write(struct iov_iter *it, const void *src, size_t len)
{
    /* iov_walk only reads through buf in this direction. */
    return iov_walk(it, (uint8_t *)(uintptr_t)src, len, IOV_FROM_BUF);
}

/* The _all variants: remaining never exceeds the bytes the entries hold, so
 * once it is checked the partial operation does the whole length. */
int iov_read_all(struct iov_iter *it, void *dst, size_t len)
{
    if (len > it->remaining)
        return -EINVAL;
    iov_read(it, dst, len);
    return 0;
}

int iov_write_all(struct iov_iter *it, const void *src, size_t len)
{
    if (len > it->remaining)
        return -ENOSPC;
    iov_write(it, src, len);
    return 0;
}

int iov_skip_all(struct iov_iter *it, size_t len)
{
    if (len > it->remaining)
        return -EINVAL;
    iov_skip(it, len);
    return 0;
}

unsigned int iov_slice(const struct iov_iter *it, size_t len, struct iovec *out,
                       unsigned int max)
{
    struct iov_iter tmp = *it;
    unsigned int n = 0;

    while (n < max) {
        void *p;
        size_t piece = iov_chunk(&tmp, &p, len);

        if (piece == 0)
            break;
        out[n].iov_base = p;
        out[n].iov_len = piece;
        n++;
        iov_consume(&tmp, piece);
        len -= piece;
    }
    return n;
}

size_t iov_copy_to(const struct iovec *dst, unsigned int nr, const void *src,
                   size_t len)
{
    struct iov_iter it;

    iov_iter_init(&it, dst, nr);
    return iov_write(&it, src, len);
}
