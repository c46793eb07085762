/* iov.c: a read/write/skip cursor over an array of buffers. */
#include "virtio/iov.h"

#include <stdint.h>
#include <string.h>

#include "util.h"

void iov_iter_init(struct iov_iter *it, const struct iovec *iov,
                   unsigned int nr)
{
    it->iov = iov;
    it->nr = nr;
    it->off = 0;
    it->remaining = 0;
    for (unsigned int i = 0; i < nr; i++)
        it->remaining += iov[i].iov_len; /* fits: totals come from u32s */
}

size_t iov_remaining(const struct iov_iter *it)
{
    return it->remaining;
}

/* Drop exhausted entries so that iov[0] has bytes left (or nr == 0). */
static void iov_settle(struct iov_iter *it)
{
    while (it->nr > 0 && it->off >= it->iov[0].iov_len) {
        it->iov++;
        it->nr--;
        it->off = 0;
    }
}

size_t iov_peek(const struct iov_iter *it, void **ptr, size_t max)
{
    struct iov_iter tmp = *it;

    iov_settle(&tmp);
    if (tmp.nr == 0) {
        *ptr = NULL;
        return 0;
    }
    *ptr = (uint8_t *)tmp.iov[0].iov_base + tmp.off;
    return MIN(max, tmp.iov[0].iov_len - tmp.off);
}

size_t iov_skip(struct iov_iter *it, size_t len)
{
    size_t done = 0;

    while (done < len) {
        size_t n;

        iov_settle(it);
        if (it->nr == 0)
            break;
        n = MIN(len - done, it->iov[0].iov_len - it->off);
        it->off += n;
        it->remaining -= n;
        done += n;
    }
    return done;
}

size_t iov_read(struct iov_iter *it, void *dst, size_t len)
{
    uint8_t *p = dst;
    size_t done = 0;

    while (done < len) {
        void *src;
        size_t n = iov_peek(it, &src, len - done);

        if (n == 0)
            break;
        memcpy(p + done, src, n);
        iov_skip(it, n);
        done += n;
    }
    return done;
}

size_t iov_write(struct iov_iter *it, const void *src, size_t len)
{
    const uint8_t *p = src;
    size_t done = 0;

    while (done < len) {
        void *dst;
        size_t n = iov_peek(it, &dst, len - done);

        if (n == 0)
            break;
        memcpy(dst, p + done, n);
        iov_skip(it, n);
        done += n;
    }
    return done;
}
