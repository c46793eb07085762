/* fiov.c: byte cursor over an iovec array (see fiov.h). */
#include "fuse/fiov.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

void fiov_init(struct fiov *c, const struct iovec *iov, unsigned int cnt)
{
    size_t total = 0;

    for (unsigned int i = 0; i < cnt; i++) {
        if (add_overflow(total, iov[i].iov_len, &total))
            total = SIZE_MAX;
    }
    c->iov = iov;
    c->cnt = cnt;
    c->idx = 0;
    c->off = 0;
    c->left = total;
}

size_t fiov_remaining(const struct fiov *c)
{
    return c->left;
}

void fiov_truncate(struct fiov *c, size_t len)
{
    if (len < c->left)
        c->left = len;
}

/* Walk (len) bytes from the position, calling copy for each piece when
 * (buf) is non-NULL.  The caller checked len <= c->left. */
static void fiov_advance(struct fiov *c, void *buf, size_t len, int to_iov)
{
    uint8_t *p = buf;

    c->left -= len;
    while (len > 0) {
        const struct iovec *v = &c->iov[c->idx];
        size_t n = MIN(len, v->iov_len - c->off);

        if (p && to_iov)
            memcpy((uint8_t *)v->iov_base + c->off, p, n);
        else if (p)
            memcpy(p, (const uint8_t *)v->iov_base + c->off, n);
        if (p)
            p += n;
        len -= n;
        c->off += n;
        if (c->off == v->iov_len) {
            c->idx++;
            c->off = 0;
        }
    }
}

int fiov_read(struct fiov *c, void *dst, size_t len)
{
    if (len > c->left)
        return -EINVAL;
    fiov_advance(c, dst, len, 0);
    return 0;
}

int fiov_write(struct fiov *c, const void *src, size_t len)
{
    if (len > c->left)
        return -ENOSPC;
    fiov_advance(c, (void *)(uintptr_t)src, len, 1);
    return 0;
}

int fiov_skip(struct fiov *c, size_t len)
{
    if (len > c->left)
        return -EINVAL;
    fiov_advance(c, NULL, len, 0);
    return 0;
}

unsigned int fiov_slice(const struct fiov *c, size_t len, struct iovec *out,
                        unsigned int max)
{
    unsigned int n = 0, idx = c->idx;
    size_t off = c->off;

    len = MIN(len, c->left);
    while (len > 0 && n < max && idx < c->cnt) {
        size_t piece = MIN(len, c->iov[idx].iov_len - off);

        if (piece > 0) {
            out[n].iov_base = (uint8_t *)c->iov[idx].iov_base + off;
            out[n].iov_len = piece;
            n++;
            len -= piece;
        }
        idx++;
        off = 0;
    }
    return n;
}

size_t fiov_copy_to(const struct iovec *dst, unsigned int cnt, const void *src,
                    size_t len)
{
    const uint8_t *p = src;
    size_t done = 0;

    for (unsigned int i = 0; i < cnt && done < len; i++) {
        size_t n = MIN(len - done, dst[i].iov_len);

        memcpy(dst[i].iov_base, p + done, n);
        done += n;
    }
    return done;
}
