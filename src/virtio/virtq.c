/*
 * virtq.c: split virtqueue, device side (virtio 1.2 §2.7).  Every descriptor
 * is copied out of guest memory before use; chains are bounded by the table
 * they live in, so a cycle ends as "too long" instead of looping.
 */
#define LOG_TAG "virtq"
#include "virtio/virtq.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "iov.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#include "virtio/virtio.h"

/* Bytes of each ring part for (n) entries, including the event-index field
 * (§2.7: "Queue Part" sizes), so EVENT_IDX never reads past the mapping. */
#define DESC_BYTES(n)  (16ULL * (n))
#define AVAIL_BYTES(n) (6ULL + 2ULL * (n))
#define USED_BYTES(n)  (6ULL + 8ULL * (n))

int virtq_validate(struct virtq *vq, const struct guest_mem *gm, bool event_idx)
{
    uint64_t n = vq->size;

    vq->desc = NULL;
    vq->avail = NULL;
    vq->used = NULL;
    if (!IS_POW2(n) || n > vq->max_size)
        return -EINVAL;
    if (!IS_ALIGNED(vq->desc_gpa, VRING_DESC_ALIGN_SIZE) ||
        !IS_ALIGNED(vq->avail_gpa, VRING_AVAIL_ALIGN_SIZE) ||
        !IS_ALIGNED(vq->used_gpa, VRING_USED_ALIGN_SIZE))
        return -EINVAL;
    vq->desc = gm_ptr(gm, vq->desc_gpa, DESC_BYTES(n));
    vq->avail = gm_ptr(gm, vq->avail_gpa, AVAIL_BYTES(n));
    vq->used = gm_ptr(gm, vq->used_gpa, USED_BYTES(n));
    if (!vq->desc || !vq->avail || !vq->used) {
        vq->desc = NULL;
        vq->avail = NULL;
        vq->used = NULL;
        return -EINVAL;
    }
    vq->gm = gm;
    vq->event_idx = event_idx;
    vq->next_avail = 0;
    vq->next_used = 0;
    vq->signalled_used = 0;
    vq->signalled_valid = false;
    return 0;
}

void virtq_reset(struct virtq *vq)
{
    vq->ready = false;
    vq->size = 0;
    vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
    vq->desc = NULL;
    vq->avail = NULL;
    vq->used = NULL;
    vq->event_idx = false;
    vq->next_avail = vq->next_used = 0;
    vq->signalled_used = 0;
    vq->signalled_valid = false;
}

/*
 * The driver's avail->idx.  Acquire: the ring entries it publishes must be
 * read after the index (pairs with the driver's write barrier before it
 * stores idx, §2.7.13).
 */
static uint16_t avail_idx(const struct virtq *vq)
{
    return le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
}

/* used_event, at the end of the avail ring (§2.7.10). */
static uint16_t used_event(const struct virtq *vq)
{
    return le16toh(READ_ONCE(vq->avail->ring[vq->size]));
}

/* avail_event, at the end of the used ring (§2.7.10). */
static void set_avail_event(struct virtq *vq, uint16_t val)
{
    uint16_t *p = (uint16_t *)(void *)&vq->used->ring[vq->size];

    WRITE_ONCE(*p, htole16(val));
}

/* Append one guest buffer to (req), split where it crosses RAM regions. */
static int req_add_buf(const struct virtq *vq, struct virtq_req *req,
                       uint64_t addr, uint32_t len, bool writable)
{
    uint64_t end;

    if (add_overflow(addr, (uint64_t)len, &end))
        return -EINVAL;
    if (!writable && req->nr_wr > 0)
        return -EINVAL; /* §2.7.4.2: readable descriptors come first */
    if (len == 0)
        return gm_ptr(vq->gm, addr, 0) ? 0 : -EINVAL;
    while (len > 0) {
        unsigned int n = req->nr_rd + req->nr_wr;
        uint64_t got;
        void *host = gm_ptr_prefix(vq->gm, addr, len, &got);

        if (!host || n >= VIRTQ_REQ_MAX_SEGS)
            return -EINVAL;
        req->iov[n].iov_base = host;
        req->iov[n].iov_len = (size_t)got;
        if (writable) {
            req->nr_wr++;
            req->wr_len += got;
        } else {
            req->nr_rd++;
            req->rd_len += got;
        }
        addr += got;
        len -= (uint32_t)got;
    }
    return 0;
}

/*
 * Switch the walk to the indirect table described by (d) (§2.7.5.3): length a
 * non-zero multiple of 16, wholly in RAM, no NEXT alongside, not nested.
 */
static int enter_indirect(const struct virtq *vq, const struct vring_desc *d,
                          const struct vring_desc **table, uint32_t *len)
{
    uint32_t bytes = le32toh(d->len);
    const void *p;

    if (le16toh(d->flags) & VRING_DESC_F_NEXT)
        return -EINVAL;
    if (bytes == 0 || bytes % sizeof(struct vring_desc) != 0 ||
        bytes / sizeof(struct vring_desc) > VIRTQ_MAX_SIZE)
        return -EINVAL;
    p = gm_ptr(vq->gm, le64toh(d->addr), bytes);
    if (!p)
        return -EINVAL;
    *table = p;
    *len = bytes / (uint32_t)sizeof(struct vring_desc);
    return 0;
}

/* Walk the chain starting at (head) into (req). */
static int walk_chain(const struct virtq *vq, uint16_t head,
                      struct virtq_req *req)
{
    const struct vring_desc *table = vq->desc;
    uint32_t table_len = vq->size, hops = 0, idx = head;
    bool indirect = false;

    req->head = head;
    req->nr_rd = req->nr_wr = 0;
    req->rd_len = req->wr_len = 0;
    for (;;) {
        struct vring_desc d;
        uint16_t flags;
        int rc;

        /* Each table is walked at most once per entry: a cycle or a chain
         * longer than the table ends here. */
        if (idx >= table_len || ++hops > table_len)
            return -EINVAL;
        /* The guest may rewrite the descriptor: use only this copy. */
        memcpy(&d, &table[idx], sizeof(d));
        flags = le16toh(d.flags);
        if (flags & VRING_DESC_F_INDIRECT) {
            if (indirect)
                return -EINVAL; /* §2.7.5.3.1: no nested tables */
            rc = enter_indirect(vq, &d, &table, &table_len);
            if (rc < 0)
                return rc;
            indirect = true;
            hops = 0;
            idx = 0;
            continue;
        }
        rc = req_add_buf(vq, req, le64toh(d.addr), le32toh(d.len),
                         flags & VRING_DESC_F_WRITE);
        if (rc < 0)
            return rc;
        if (!(flags & VRING_DESC_F_NEXT))
            return 0;
        idx = le16toh(d.next);
    }
}

int virtq_pop(struct virtq *vq, struct virtq_req *req)
{
    uint16_t idx = avail_idx(vq), pending, head;
    int rc;

    pending = (uint16_t)(idx - vq->next_avail);
    if (pending == 0 && vq->event_idx) {
        /*
         * Ask for a kick on the next buffer, then look again.  Full barrier:
         * our avail_event store must be visible before we re-read avail->idx,
         * or the driver may skip the kick while we miss its new buffer
         * (pairs with the driver's barrier between its idx store and its
         * avail_event load).
         */
        set_avail_event(vq, vq->next_avail);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        idx = avail_idx(vq);
        pending = (uint16_t)(idx - vq->next_avail);
    }
    if (pending == 0)
        return 0;
    if (pending > vq->size) {
        log_ratelimited(LOG_WARN, "avail idx %u ran ahead of %u by %u", idx,
                        vq->next_avail, pending);
        return -EINVAL;
    }
    head = le16toh(READ_ONCE(vq->avail->ring[vq->next_avail & (vq->size - 1)]));
    rc = walk_chain(vq, head, req);
    if (rc < 0) {
        log_ratelimited(LOG_WARN, "malformed descriptor chain at head %u",
                        head);
        return rc;
    }
    vq->next_avail++;
    return 1;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
    struct vring_used_elem e = {
        .id = htole32(head),
        .len = htole32(written),
    };

    memcpy(&vq->used->ring[vq->next_used & (vq->size - 1)], &e, sizeof(e));
    vq->next_used++;
    /* Release: the element must be visible before the index publishing it. */
    __atomic_store_n(&vq->used->idx, htole16(vq->next_used), __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *vq)
{
    uint16_t old = vq->signalled_used, new = vq->next_used;
    bool valid = vq->signalled_valid;

    /*
     * Full barrier: our used->idx store must be visible before we read the
     * driver's suppression state, or we may read a stale used_event/flags
     * while the driver reads a stale used->idx and sleeps (§2.7.10).
     */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vq->signalled_used = new;
    vq->signalled_valid = true;
    if (old == new)
        return false; /* nothing used since the last decision */
    if (vq->event_idx)
        return !valid || vring_need_event(used_event(vq), new, old);
    return !(le16toh(READ_ONCE(vq->avail->flags)) & VRING_AVAIL_F_NO_INTERRUPT);
}

void virtq_notify(struct virtq *vq)
{
    if (virtq_should_notify(vq) && vq->dev)
        virtio_dev_interrupt(vq->dev, VIRTIO_MMIO_INT_VRING);
}

void virtq_disable_notify(struct virtq *vq)
{
    /* With EVENT_IDX, leaving avail_event behind suppresses kicks. */
    if (!vq->event_idx)
        WRITE_ONCE(vq->used->flags, htole16(VRING_USED_F_NO_NOTIFY));
}

bool virtq_enable_notify(struct virtq *vq)
{
    if (vq->event_idx)
        set_avail_event(vq, vq->next_avail);
    else
        WRITE_ONCE(vq->used->flags, 0);
    /* Full barrier: publish the request for kicks before re-checking. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return avail_idx(vq) != vq->next_avail;
}

void virtq_req_reader(const struct virtq_req *req, struct iov_iter *it)
{
    iov_iter_init(it, req->iov, req->nr_rd);
}

void virtq_req_writer(const struct virtq_req *req, struct iov_iter *it)
{
    iov_iter_init(it, req->iov + req->nr_rd, req->nr_wr);
}
