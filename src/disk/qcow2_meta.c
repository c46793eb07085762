/*
 * qcow2_meta.c: qcow2 metadata: bounded LRU caches of L2 tables and
 * refcount blocks, refcount reads and updates for every refcount_order,
 * cluster allocation (reusing freed clusters, new refcount blocks that
 * describe themselves, refcount table growth), deferred frees and the
 * ordered flush that keeps the image consistent across a crash:
 *
 *   refcount increments and data  ->  sync  ->  L2 tables  ->  sync  ->
 *   L1 entries  ->  sync  ->  refcount decrements (reusable from then on)
 *
 * so that no table ever points at a cluster whose refcount is not yet on
 * disk, and no cluster is reused while a durable table still points at it.
 * Everything here runs with q->lock held.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LOG_TAG "disk-qcow2"
#include "disk/qcow2.h"
#include "log.h"

int qcow2_cache_init(struct qcow2_cache *c, unsigned n, uint64_t cs)
{
    void *mem;

    memset(c, 0, sizeof(*c));
    c->t = calloc(n, sizeof(*c->t));
    if (!c->t || posix_memalign(&mem, 4096, (size_t)n * cs)) {
        free(c->t);
        c->t = NULL;
        return -ENOMEM;
    }
    c->mem = mem;
    c->n = n;
    for (unsigned i = 0; i < n; i++)
        c->t[i].data = c->mem + (size_t)i * cs;
    return 0;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
    free(c->t);
    free(c->mem);
    c->t = NULL;
    c->mem = NULL;
}

bool qcow2_overlaps_fixed(const struct qcow2 *q, uint64_t off, uint64_t len)
{
    uint64_t end = off + len;
    uint64_t l1_end = q->l1_off + (uint64_t)q->l1_size * 8;
    uint64_t rt_end = q->rt_off + (uint64_t)q->rt_clusters * q->cs;

    if (end < off)
        return true;
    if (off < q->cs)
        return true;
    if (q->l1_size && off < l1_end && end > q->l1_off)
        return true;
    return off < rt_end && end > q->rt_off;
}

static int write_table(struct qcow2 *q, struct qcow2_table *t)
{
    int rc = disk_file_pwrite(&q->f, t->data, q->cs, t->off);

    if (rc == 0)
        t->dirty = false;
    return rc;
}

static int write_dirty(struct qcow2 *q, struct qcow2_cache *c, bool *any)
{
    int rc;

    for (unsigned i = 0; i < c->n; i++) {
        if (!c->t[i].off || !c->t[i].dirty)
            continue;
        if (any)
            *any = true;
        rc = write_table(q, &c->t[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int sync_file(struct qcow2 *q)
{
    q->need_sync = false;
    return disk_file_sync(&q->f, q->d.sync);
}

/*
 * Find (off) in (c) or load it into the least recently used slot.  A dirty
 * L2 victim is written only after the refcounts and data it points at are
 * durable.
 */
static int cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t off,
                     bool fresh, struct qcow2_table **out)
{
    struct qcow2_table *v = NULL;
    int rc;

    for (unsigned i = 0; i < c->n; i++) {
        struct qcow2_table *t = &c->t[i];

        if (t->off == off) {
            v = t;
            goto found;
        }
        if (!v || (v->off && (!t->off || t->used < v->used)))
            v = t;
    }
    if (v->off && v->dirty) {
        if (c == &q->l2c) {
            if ((rc = write_dirty(q, &q->rbc, NULL)) < 0 ||
                (q->need_sync && (rc = sync_file(q)) < 0))
                return rc;
        }
        if ((rc = write_table(q, v)) < 0)
            return rc;
    }
    v->off = 0;
    if (!fresh && (rc = disk_file_pread(&q->f, v->data, q->cs, off)) < 0)
        return rc;
    v->off = off;
    v->dirty = false;
found:
    if (fresh) {
        memset(v->data, 0, q->cs);
        v->dirty = true;
    }
    v->used = ++c->tick;
    *out = v;
    return 0;
}

int qcow2_l2_get(struct qcow2 *q, uint64_t off, bool fresh,
                 struct qcow2_table **out)
{
    return cache_get(q, &q->l2c, off, fresh, out);
}

/* Refcount entry (i) of a refblock, 2^order bits wide, big-endian. */
static uint64_t rc_load(const uint8_t *b, uint64_t i, unsigned order)
{
    unsigned bits = 1u << order;
    uint64_t v = 0;

    if (bits < 8)
        return (b[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
    for (unsigned k = 0; k < bits / 8; k++)
        v = v << 8 | b[i * (bits / 8) + k];
    return v;
}

static void rc_store(uint8_t *b, uint64_t i, unsigned order, uint64_t v)
{
    unsigned bits = 1u << order;

    if (bits < 8) {
        unsigned shift = i * bits % 8, mask = ((1u << bits) - 1) << shift;

        b[i * bits / 8] = (uint8_t)((b[i * bits / 8] & ~mask) |
                                    ((unsigned)(v << shift) & mask));
        return;
    }
    for (unsigned k = bits / 8; k-- > 0; v >>= 8)
        b[i * (bits / 8) + k] = (uint8_t)v;
}

/* The refblock holding cluster (idx): NULL in *out if it does not exist. */
static int refblock_get(struct qcow2 *q, uint64_t idx, struct qcow2_table **out)
{
    uint64_t bi = idx / q->rc_per_block, off;

    *out = NULL;
    if (bi >= q->rt_entries || !(off = q->rt[bi] & ~511ULL))
        return 0;
    if ((q->rt[bi] & 511) || off % q->cs || off >= q->file_end ||
        qcow2_overlaps_fixed(q, off, q->cs)) {
        log_ratelimited(LOG_ERROR,
                        "%s: refcount table entry %" PRIu64 " = %#" PRIx64
                        " is invalid",
                        q->path, bi, q->rt[bi]);
        return -EIO;
    }
    return cache_get(q, &q->rbc, off, false, out);
}

int qcow2_refcount_get(struct qcow2 *q, uint64_t idx, uint64_t *rc)
{
    struct qcow2_table *t;
    int r = refblock_get(q, idx, &t);

    if (r < 0)
        return r;
    *rc = t ? rc_load(t->data, idx % q->rc_per_block, q->refcount_order) : 0;
    return 0;
}

/* The header's refcount table fields, at offset 48: u64 offset, u32 size. */
static int write_rt_header(struct qcow2 *q, uint64_t off, uint32_t clusters)
{
    uint8_t h[12];

    be64_store(h, off);
    h[8] = (uint8_t)(clusters >> 24);
    h[9] = (uint8_t)(clusters >> 16);
    h[10] = (uint8_t)(clusters >> 8);
    h[11] = (uint8_t)clusters;
    return disk_file_pwrite(&q->f, h, sizeof(h), 48);
}

/*
 * A bigger refcount table, covering refblock index (need_bi).  Placed past
 * everything the old table could describe: the new table's clusters, then
 * the new refblocks covering the table and themselves.  Written and synced
 * before the header points at it; the old table is freed after the next
 * flush.
 */
static int grow_rt(struct qcow2 *q, uint64_t need_bi)
{
    uint64_t cs = q->cs, rpb = q->rc_per_block, per = cs / 8;
    uint64_t s = MAX(q->file_end / cs, q->rt_entries * rpb);
    uint64_t first_b = s / rpb, want = MAX(need_bi + 1, q->rt_entries * 2);
    uint64_t t = (want + per - 1) / per, m = 1, last_b, entries;
    uint64_t *nrt = NULL;
    uint8_t *buf = NULL;
    int rc = -ENOMEM;

    for (;;) {
        uint64_t m2, need_t;

        last_b = (s + t + m - 1) / rpb;
        m2 = last_b - first_b + 1;
        need_t = (MAX(want, last_b + 1) + per - 1) / per;
        if (m2 == m && need_t <= t)
            break;
        m = m2;
        t = MAX(t, need_t);
        if (t * cs > QCOW2_MAX_RT_BYTES)
            break;
    }
    if (t * cs > QCOW2_MAX_RT_BYTES || (s + t + m) > (QCOW2_OFFSET_MASK / cs)) {
        log_error("%s: refcount table would exceed %u bytes", q->path,
                  QCOW2_MAX_RT_BYTES);
        return -ENOSPC;
    }
    entries = t * per;
    nrt = calloc(entries, 8);
    buf = calloc(1, cs);
    if (!nrt || !buf)
        goto out;
    memcpy(nrt, q->rt, q->rt_entries * 8);
    for (uint64_t j = 0; j < m; j++) {
        uint64_t b = first_b + j;

        memset(buf, 0, cs);
        for (uint64_t c = MAX(s, b * rpb); c < s + t + m && c < (b + 1) * rpb;
             c++)
            rc_store(buf, c - b * rpb, q->refcount_order, 1);
        nrt[b] = (s + t + j) * cs;
        if ((rc = disk_file_pwrite(&q->f, buf, cs, (s + t + j) * cs)) < 0)
            goto out;
    }
    for (uint64_t k = 0; k < t; k++) {
        memset(buf, 0, cs);
        for (uint64_t e = 0; e < per; e++)
            be64_store(buf + e * 8, nrt[k * per + e]);
        if ((rc = disk_file_pwrite(&q->f, buf, cs, (s + k) * cs)) < 0)
            goto out;
    }
    if ((rc = write_dirty(q, &q->rbc, NULL)) < 0 || (rc = sync_file(q)) < 0 ||
        (rc = write_rt_header(q, s * cs, (uint32_t)t)) < 0 ||
        (rc = sync_file(q)) < 0)
        goto out;
    {
        uint64_t old_off = q->rt_off, old_n = q->rt_clusters;

        free(q->rt);
        q->rt = nrt;
        nrt = NULL;
        q->rt_entries = entries;
        q->rt_off = s * cs;
        q->rt_clusters = (uint32_t)t;
        q->file_end = MAX(q->file_end, (s + t + m) * cs);
        rc = qcow2_free_later(q, old_off, old_n);
    }
out:
    free(nrt);
    free(buf);
    return rc;
}

/*
 * Refblock (bi) does not exist: put it in the first cluster of the range it
 * describes that holds no fixed metadata (all of them are free: their
 * refcounts were implicitly 0), counting itself, and hook it into the
 * table only once it is on disk.
 */
static int make_refblock(struct qcow2 *q, uint64_t bi)
{
    uint64_t base = bi * q->rc_per_block, c = base, be;
    struct qcow2_table *t;
    int rc;

    while (c < base + q->rc_per_block &&
           qcow2_overlaps_fixed(q, c * q->cs, q->cs))
        c++;
    if (c == base + q->rc_per_block)
        return -EIO;
    rc = cache_get(q, &q->rbc, c * q->cs, true, &t);
    if (rc < 0)
        return rc;
    rc_store(t->data, c - base, q->refcount_order, 1);
    if ((rc = write_table(q, t)) < 0 || (rc = sync_file(q)) < 0)
        return rc;
    be = __builtin_bswap64(c * q->cs);
    rc = disk_file_pwrite(&q->f, &be, 8, q->rt_off + bi * 8);
    if (rc < 0)
        return rc;
    q->rt[bi] = c * q->cs;
    q->file_end = MAX(q->file_end, (c + 1) * q->cs);
    q->need_sync = true;
    return 0;
}

static int refcount_set(struct qcow2 *q, uint64_t idx, uint64_t v)
{
    struct qcow2_table *t;
    int rc = refblock_get(q, idx, &t);

    if (rc < 0)
        return rc;
    if (!t)
        return -EIO;
    rc_store(t->data, idx % q->rc_per_block, q->refcount_order, v);
    t->dirty = true;
    return 0;
}

int qcow2_alloc_cluster(struct qcow2 *q, uint64_t *off)
{
    for (;;) {
        uint64_t idx = q->free_hint, bi, rc;
        int r;

        for (;; idx++) {
            if (idx >= q->file_end / q->cs)
                break;
            if (qcow2_overlaps_fixed(q, idx * q->cs, q->cs))
                continue;
            if ((r = qcow2_refcount_get(q, idx, &rc)) < 0)
                return r;
            if (rc == 0)
                break;
        }
        q->free_hint = idx;
        if (idx >= QCOW2_OFFSET_MASK / q->cs)
            return -ENOSPC;
        bi = idx / q->rc_per_block;
        if (bi >= q->rt_entries)
            r = grow_rt(q, bi);
        else if (!q->rt[bi])
            r = make_refblock(q, bi);
        else
            break;
        if (r < 0)
            return r;
    }
    {
        uint64_t idx = q->free_hint;
        int r = refcount_set(q, idx, 1);

        if (r < 0)
            return r;
        q->free_hint = idx + 1;
        q->file_end = MAX(q->file_end, (idx + 1) * q->cs);
        q->need_sync = true;
        *off = idx * q->cs;
    }
    return 0;
}

int qcow2_alloc_at(struct qcow2 *q, uint64_t off)
{
    uint64_t idx = off / q->cs, bi = idx / q->rc_per_block, rc;
    int r;

    if (off % q->cs || idx >= QCOW2_OFFSET_MASK / q->cs ||
        qcow2_overlaps_fixed(q, off, q->cs) || bi >= q->rt_entries ||
        !q->rt[bi])
        return -EBUSY;
    if ((r = qcow2_refcount_get(q, idx, &rc)) < 0)
        return r;
    if (rc)
        return -EBUSY;
    if ((r = refcount_set(q, idx, 1)) < 0)
        return r;
    if (idx == q->free_hint)
        q->free_hint = idx + 1;
    q->file_end = MAX(q->file_end, (idx + 1) * q->cs);
    q->need_sync = true;
    return 0;
}

int qcow2_free_later(struct qcow2 *q, uint64_t off, uint64_t count)
{
    uint64_t idx = off / q->cs;
    struct qcow2_run *last;
    int rc;

    if (!count)
        return 0;
    last = q->npending ? &q->pending[q->npending - 1] : NULL;
    if (last && last->cluster + last->count == idx) {
        last->count += count;
        return 0;
    }
    if (q->npending == QCOW2_MAX_PENDING && (rc = qcow2_flush_locked(q)) < 0)
        return rc;
    q->pending[q->npending++] = (struct qcow2_run){idx, count};
    return 0;
}

/* Drop the references queued by qcow2_free_later; punch what is now free. */
static int apply_frees(struct qcow2 *q)
{
    int rc = 0;

    pthread_rwlock_wrlock(&q->io_lock);
    for (unsigned i = 0; i < q->npending; i++) {
        struct qcow2_run *r = &q->pending[i];

        for (uint64_t c = r->cluster; c < r->cluster + r->count; c++) {
            uint64_t v;
            int e = qcow2_refcount_get(q, c, &v);

            if (e == 0 && v == 0) {
                log_ratelimited(LOG_ERROR,
                                "%s: refcount of cluster %" PRIu64
                                " would drop below 0",
                                q->path, c);
                e = -EIO;
            }
            if (e == 0)
                e = refcount_set(q, c, v - 1);
            if (e == 0 && v == 1) {
                q->free_hint = MIN(q->free_hint, c);
                disk_file_punch(&q->f, c * q->cs, q->cs);
            }
            if (e < 0 && rc == 0)
                rc = e;
        }
    }
    q->npending = 0;
    q->comp_l2e = 0;
    pthread_rwlock_unlock(&q->io_lock);
    return rc;
}

int qcow2_flush_locked(struct qcow2 *q)
{
    bool l2_dirty = false, l1_dirty = q->l1_dirty_lo < q->l1_dirty_hi;
    int rc;

    if ((rc = write_dirty(q, &q->rbc, NULL)) < 0 || (rc = sync_file(q)) < 0)
        return rc;
    if ((rc = write_dirty(q, &q->l2c, &l2_dirty)) < 0)
        return rc;
    if (l1_dirty) {
        uint32_t lo = q->l1_dirty_lo, n = q->l1_dirty_hi - lo;
        uint64_t *be = malloc((size_t)n * 8);

        if (!be)
            return -ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            be[i] = __builtin_bswap64(q->l1[lo + i]);
        if ((!l2_dirty || (rc = sync_file(q)) == 0))
            rc = disk_file_pwrite(&q->f, be, (size_t)n * 8,
                                  q->l1_off + (uint64_t)lo * 8);
        free(be);
        if (rc < 0)
            return rc;
        q->l1_dirty_lo = UINT32_MAX;
        q->l1_dirty_hi = 0;
    }
    if ((l2_dirty || l1_dirty) && (rc = sync_file(q)) < 0)
        return rc;
    if (q->npending) {
        rc = apply_frees(q);
        if (rc == 0)
            rc = write_dirty(q, &q->rbc, NULL);
        q->need_sync = true;
    }
    return rc;
}
