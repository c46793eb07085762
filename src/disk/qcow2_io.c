/*
 * qcow2_io.c: guest requests on a qcow2 image: map each cluster through
 * L1/L2 (validating the entries), read allocated clusters with preadv
 * outside the metadata lock, zero / backing / compressed clusters from
 * memory; write allocated clusters in place outside the lock, allocate and
 * copy-on-write everything else under it; discard and write-zeroes as
 * zero clusters (v3) or unallocated clusters (v2 without backing).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define LOG_TAG "disk-qcow2"
#include "disk/qcow2.h"
#include "log.h"

enum cl_type { CL_UNALLOC, CL_ZERO, CL_NORMAL, CL_COMPRESSED };

struct cl_map {
    enum cl_type type;
    uint64_t l2e;   /* the raw entry */
    uint64_t host;  /* data offset (NORMAL, COMPRESSED, preallocated ZERO) */
    uint64_t csize; /* COMPRESSED: bytes of compressed data */
    struct qcow2_table *t; /* the L2 table (NULL: none) */
    uint64_t i;            /* entry index in it */
};

/* Slices of a request's iovec array. */
struct req {
    const struct iovec *iov;
    int iovcnt;
    struct iovec *sl;
    struct iovec local[32];
};

static int req_init(struct req *r, const struct iovec *iov, int iovcnt)
{
    r->iov = iov;
    r->iovcnt = iovcnt;
    r->sl = r->local;
    if (iovcnt > (int)ARRAY_SIZE(r->local)) {
        r->sl = malloc(sizeof(*r->sl) * (size_t)iovcnt);
        if (!r->sl)
            return -ENOMEM;
    }
    return 0;
}

static void req_fini(struct req *r)
{
    if (r->sl != r->local)
        free(r->sl);
}

static int bad(struct qcow2 *q, const char *what, uint64_t idx, uint64_t v)
{
    log_ratelimited(LOG_ERROR, "%s: invalid %s %" PRIu64 ": %#" PRIx64, q->path,
                    what, idx, v);
    return -EIO;
}

static int decode(struct qcow2 *q, uint64_t vc, uint64_t e, struct cl_map *m)
{
    m->l2e = e;
    if (e & QCOW2_OFLAG_COMPRESSED) {
        unsigned x = 62 - (q->cluster_bits - 8);
        uint64_t nsec = (e >> x) & ((1ULL << (q->cluster_bits - 8)) - 1);

        m->type = CL_COMPRESSED;
        m->host = e & ((1ULL << x) - 1);
        m->csize = (nsec + 1) * 512 - (m->host & 511);
        if (m->host < q->cs || m->host >= q->file_end)
            return bad(q, "compressed L2 entry for cluster", vc, e);
        return 0;
    }
    m->host = e & QCOW2_OFFSET_MASK;
    if ((e & QCOW2_L2_RESERVED) || (q->version < 3 && (e & QCOW2_OFLAG_ZERO)))
        return bad(q, "L2 entry for cluster", vc, e);
    if (m->host && (m->host % q->cs || m->host >= q->file_end ||
                    qcow2_overlaps_fixed(q, m->host, q->cs)))
        return bad(q, "L2 entry for cluster", vc, e);
    if (e & QCOW2_OFLAG_ZERO)
        m->type = CL_ZERO;
    else
        m->type = m->host ? CL_NORMAL : CL_UNALLOC;
    return 0;
}

/*
 * Map virtual cluster (vc).  (alloc): make sure an L2 table exists and is
 * writable (m->t set).  Lock held.
 */
static int lookup(struct qcow2 *q, uint64_t vc, bool alloc, struct cl_map *m)
{
    uint64_t l1i = vc / q->l2_entries, l1e, off;
    int rc;

    memset(m, 0, sizeof(*m));
    m->i = vc % q->l2_entries;
    if (l1i >= q->l1_size)
        return bad(q, "L1 index for cluster", vc, l1i);
    l1e = q->l1[l1i];
    off = l1e & QCOW2_OFFSET_MASK;
    if ((l1e & QCOW2_L1_RESERVED) ||
        (off && (off % q->cs || off >= q->file_end ||
                 qcow2_overlaps_fixed(q, off, q->cs))))
        return bad(q, "L1 entry", l1i, l1e);
    if (!off) {
        if (!alloc)
            return 0; /* unallocated */
        if ((rc = qcow2_alloc_cluster(q, &off)) < 0 ||
            (rc = qcow2_l2_get(q, off, true, &m->t)) < 0)
            return rc;
        q->l1[l1i] = off | QCOW2_OFLAG_COPIED;
        q->l1_dirty_lo = MIN(q->l1_dirty_lo, (uint32_t)l1i);
        q->l1_dirty_hi = MAX(q->l1_dirty_hi, (uint32_t)l1i + 1);
        return 0;
    }
    if (alloc && !(l1e & QCOW2_OFLAG_COPIED)) {
        log_ratelimited(LOG_ERROR,
                        "%s: L2 table %" PRIu64 " is shared "
                        "(snapshot); writing it is not supported",
                        q->path, l1i);
        return -EIO;
    }
    if ((rc = qcow2_l2_get(q, off, false, &m->t)) < 0)
        return rc;
    return decode(q, vc, be64_load(m->t->data + m->i * 8), m);
}

/* The compressed cluster (m) into q->comp_buf.  Lock held. */
static int decompress(struct qcow2 *q, const struct cl_map *m)
{
    z_stream z;
    int rc, zr;

    if (q->comp_l2e == m->l2e)
        return 0;
    q->comp_l2e = 0;
    rc = disk_file_pread(&q->f, q->zbuf, m->csize, m->host);
    if (rc < 0)
        return rc;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -15) != Z_OK)
        return -ENOMEM;
    z.next_in = q->zbuf;
    z.avail_in = (uInt)m->csize;
    z.next_out = q->comp_buf;
    z.avail_out = (uInt)q->cs;
    zr = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR && zr != Z_OK) ||
        z.avail_out != 0)
        return bad(q, "compressed cluster at", m->host, m->l2e);
    q->comp_l2e = m->l2e;
    return 0;
}

/* Virtual [pos, pos+n) from the backing file (zeroes past its end). */
static int read_backing(struct qcow2 *q, struct iovec *v, int cnt, uint64_t pos,
                        uint64_t n)
{
    uint64_t bsize = q->backing ? disk_size(q->backing) : 0, m = 0;
    int rc = 0;

    if (pos < bsize) {
        uint64_t left = m = MIN(n, bsize - pos);
        int k = 0;
        size_t saved;

        /* (v) is our own slice: cut it at m bytes for the call */
        while (left > v[k].iov_len)
            left -= v[k++].iov_len;
        saved = v[k].iov_len;
        v[k].iov_len = left;
        rc = disk_preadv(q->backing, v, k + 1, pos);
        v[k].iov_len = saved;
    }
    if (rc == 0)
        disk_iov_zero(v, cnt, m, n - m);
    return rc;
}

/* True if (b) continues the run that (a) starts, (k) clusters later. */
static bool same_run(const struct qcow2 *q, const struct cl_map *a,
                     const struct cl_map *b, uint64_t k, bool write)
{
    if (a->type != b->type || a->type == CL_COMPRESSED)
        return false;
    if (a->type != CL_NORMAL)
        return !write;
    if (write && (!(b->l2e & QCOW2_OFLAG_COPIED) || b->host >= q->file_end))
        return false;
    return b->host == a->host + k * q->cs;
}

/*
 * Extend the run of (m) (starting (in) bytes into its cluster (vc)) over
 * following clusters of the same kind, up to (max) bytes; returns its
 * length.  Lock held.
 */
static uint64_t extend_run(struct qcow2 *q, uint64_t vc, uint64_t in,
                           uint64_t max, const struct cl_map *m, bool write)
{
    uint64_t n = MIN(max, q->cs - in);

    for (uint64_t k = 1; n < max; k++) {
        struct cl_map b;

        if (lookup(q, vc + k, false, &b) < 0 || !same_run(q, m, &b, k, write))
            break;
        n = MIN(max, n + q->cs);
    }
    return n;
}

int qcow2_preadv(struct disk *d, const struct iovec *iov, int iovcnt,
                 uint64_t off)
{
    struct qcow2 *q = to_qcow2(d);
    uint64_t len, done = 0;
    struct req r;
    int rc;

    if (!disk_iov_len(iov, iovcnt, &len))
        return -EINVAL;
    if ((rc = req_init(&r, iov, iovcnt)) < 0)
        return rc;
    while (done < len && rc == 0) {
        uint64_t pos = off + done, vc = pos >> q->cluster_bits;
        uint64_t in = pos & (q->cs - 1), n;
        struct cl_map m;
        int cnt;

        pthread_mutex_lock(&q->lock);
        rc = lookup(q, vc, false, &m);
        if (rc < 0) {
            pthread_mutex_unlock(&q->lock);
            break;
        }
        n = m.type == CL_COMPRESSED
                ? MIN(len - done, q->cs - in)
                : extend_run(q, vc, in, len - done, &m, false);
        cnt = disk_iov_slice(iov, iovcnt, done, n, r.sl);
        switch (m.type) {
        case CL_NORMAL:
            pthread_rwlock_rdlock(&q->io_lock);
            pthread_mutex_unlock(&q->lock);
            rc = disk_file_preadv(&q->f, r.sl, cnt, m.host + in);
            pthread_rwlock_unlock(&q->io_lock);
            break;
        case CL_COMPRESSED:
            rc = decompress(q, &m);
            if (rc == 0)
                disk_iov_copy(r.sl, cnt, 0, q->comp_buf + in, n, true);
            pthread_mutex_unlock(&q->lock);
            break;
        case CL_ZERO:
            pthread_mutex_unlock(&q->lock);
            disk_iov_zero(r.sl, cnt, 0, n);
            break;
        case CL_UNALLOC:
            pthread_mutex_unlock(&q->lock);
            rc = read_backing(q, r.sl, cnt, pos, n);
            break;
        }
        done += n;
    }
    req_fini(&r);
    return rc;
}

/* What cluster (vc) reads as now, into (buf) (one cluster).  Lock held. */
static int read_old(struct qcow2 *q, uint64_t vc, const struct cl_map *m,
                    uint8_t *buf)
{
    struct iovec v = {buf, q->cs};
    int rc;

    switch (m->type) {
    case CL_NORMAL:
        return disk_file_pread(&q->f, buf, q->cs, m->host);
    case CL_COMPRESSED:
        if ((rc = decompress(q, m)) == 0)
            memcpy(buf, q->comp_buf, q->cs);
        return rc;
    case CL_ZERO:
        memset(buf, 0, q->cs);
        return 0;
    case CL_UNALLOC:
        return read_backing(q, &v, 1, vc << q->cluster_bits, q->cs);
    }
    return -EIO;
}

/* Drop the old mapping (m)'s reference to its host clusters. */
static int release(struct qcow2 *q, const struct cl_map *m)
{
    uint64_t first, last;

    switch (m->type) {
    case CL_COMPRESSED:
        first = m->host / q->cs;
        last = (m->host + m->csize - 1) / q->cs;
        return qcow2_free_later(q, first * q->cs, last - first + 1);
    case CL_NORMAL:
    case CL_ZERO:
        return m->host ? qcow2_free_later(q, m->host, 1) : 0;
    case CL_UNALLOC:
        break;
    }
    return 0;
}

static void set_entry(struct qcow2 *q, struct cl_map *m, uint64_t e)
{
    be64_store(m->t->data + m->i * 8, e);
    m->t->dirty = true;
    q->comp_l2e = m->l2e == q->comp_l2e ? 0 : q->comp_l2e;
}

/*
 * Write [pos, pos+n) (inside cluster vc) into a new cluster: the old
 * contents of the rest of it are copied first.  Lock held.
 */
static int write_alloc(struct qcow2 *q, uint64_t vc, uint64_t in,
                       struct iovec *sl, int cnt, uint64_t n, struct cl_map *m)
{
    uint64_t host;
    int rc = qcow2_alloc_cluster(q, &host);

    if (rc < 0)
        return rc;
    if (n == q->cs) {
        rc = disk_file_pwritev(&q->f, sl, cnt, host);
    } else if ((rc = read_old(q, vc, m, q->cow_buf)) == 0) {
        disk_iov_copy(sl, cnt, 0, q->cow_buf + in, n, false);
        rc = disk_file_pwrite(&q->f, q->cow_buf, q->cs, host);
    }
    if (rc < 0)
        return rc; /* the new cluster leaks; the image stays consistent */
    /* the table may have been evicted while allocating */
    if ((rc = lookup(q, vc, true, m)) < 0)
        return rc;
    set_entry(q, m, host | QCOW2_OFLAG_COPIED);
    return release(q, m);
}

/* Longest run of new clusters written with one pwritev. */
#define ALLOC_RUN_MAX 256

/*
 * Whole clusters from (vc) on, as many as (max) bytes cover and the
 * allocator hands out contiguously, written with one pwritev, then
 * mapped.  Sequential writes to new space take this path.  Lock held.
 */
static int write_alloc_run(struct qcow2 *q, uint64_t vc, struct req *r,
                           uint64_t done, uint64_t max, uint64_t *n_out)
{
    uint64_t host, k = 1;
    struct cl_map m;
    int rc = qcow2_alloc_cluster(q, &host), cnt;

    if (rc < 0)
        return rc;
    while (k < ALLOC_RUN_MAX && (k + 1) * q->cs <= max) {
        if (lookup(q, vc + k, false, &m) < 0 ||
            (m.type == CL_NORMAL && (m.l2e & QCOW2_OFLAG_COPIED)) ||
            qcow2_alloc_at(q, host + k * q->cs) < 0)
            break;
        k++;
    }
    *n_out = k * q->cs;
    cnt = disk_iov_slice(r->iov, r->iovcnt, done, *n_out, r->sl);
    rc = disk_file_pwritev(&q->f, r->sl, cnt, host);
    for (uint64_t j = 0; j < k && rc == 0; j++) {
        if ((rc = lookup(q, vc + j, true, &m)) < 0)
            break;
        set_entry(q, &m, (host + j * q->cs) | QCOW2_OFLAG_COPIED);
        rc = release(q, &m);
    }
    return rc; /* on failure the unmapped clusters leak: still consistent */
}

int qcow2_pwritev(struct disk *d, const struct iovec *iov, int iovcnt,
                  uint64_t off)
{
    struct qcow2 *q = to_qcow2(d);
    uint64_t len, done = 0;
    struct req r;
    int rc;

    if (!disk_iov_len(iov, iovcnt, &len))
        return -EINVAL;
    if ((rc = req_init(&r, iov, iovcnt)) < 0)
        return rc;
    while (done < len && rc == 0) {
        uint64_t pos = off + done, vc = pos >> q->cluster_bits;
        uint64_t in = pos & (q->cs - 1), n = MIN(len - done, q->cs - in);
        struct cl_map m;
        int cnt;

        pthread_mutex_lock(&q->lock);
        rc = lookup(q, vc, true, &m);
        if (rc == 0 && m.type == CL_NORMAL && (m.l2e & QCOW2_OFLAG_COPIED) &&
            m.host < q->file_end) {
            n = extend_run(q, vc, in, len - done, &m, true);
            cnt = disk_iov_slice(iov, iovcnt, done, n, r.sl);
            q->need_sync = true;
            pthread_rwlock_rdlock(&q->io_lock);
            pthread_mutex_unlock(&q->lock);
            rc = disk_file_pwritev(&q->f, r.sl, cnt, m.host + in);
            pthread_rwlock_unlock(&q->io_lock);
        } else if (rc == 0 && in == 0 && n == q->cs) {
            rc = write_alloc_run(q, vc, &r, done, len - done, &n);
            pthread_mutex_unlock(&q->lock);
        } else {
            cnt = disk_iov_slice(iov, iovcnt, done, n, r.sl);
            if (rc == 0)
                rc = write_alloc(q, vc, in, r.sl, cnt, n, &m);
            pthread_mutex_unlock(&q->lock);
        }
        done += n;
    }
    req_fini(&r);
    return rc;
}

/* Zeroes through the write path, for part of a cluster. */
static int write_zero_part(struct qcow2 *q, uint64_t pos, uint64_t n)
{
    struct iovec v[(2u << 20) / sizeof(disk_zero_buf) + 1];
    int cnt = 0;

    for (uint64_t left = n; left; cnt++) {
        uint64_t k = MIN(left, sizeof(disk_zero_buf));

        v[cnt] = (struct iovec){(void *)(uintptr_t)disk_zero_buf, k};
        left -= k;
    }
    return qcow2_pwritev(&q->d, v, cnt, pos);
}

/* One whole cluster (vc) made to read as zeroes.  Lock held. */
static int zero_cluster(struct qcow2 *q, uint64_t vc, bool unmap,
                        bool *need_write)
{
    struct cl_map m;
    int rc = lookup(q, vc, false, &m);
    bool keep;

    *need_write = false;
    if (rc < 0)
        return rc;
    if (m.type == CL_ZERO && (!unmap || !m.host))
        return 0;
    if (m.type == CL_UNALLOC && !q->backing)
        return 0;
    if (q->version < 3 && q->backing) {
        /* no zero flag: zeroes must be written */
        if (m.type == CL_NORMAL && (m.l2e & QCOW2_OFLAG_COPIED) &&
            m.host < q->file_end)
            return disk_file_zero(&q->f, m.host, q->cs, false);
        *need_write = true;
        return 0;
    }
    if ((rc = lookup(q, vc, true, &m)) < 0)
        return rc;
    keep = !unmap && q->version >= 3 && m.type == CL_NORMAL &&
           (m.l2e & QCOW2_OFLAG_COPIED);
    if (keep) {
        set_entry(q, &m, m.host | QCOW2_OFLAG_COPIED | QCOW2_OFLAG_ZERO);
        return 0;
    }
    set_entry(q, &m, q->version >= 3 ? QCOW2_OFLAG_ZERO : 0);
    return release(q, &m);
}

int qcow2_write_zeroes(struct disk *d, uint64_t off, uint64_t len, bool unmap)
{
    struct qcow2 *q = to_qcow2(d);
    uint64_t done = 0;
    int rc = 0;

    while (done < len && rc == 0) {
        uint64_t pos = off + done, vc = pos >> q->cluster_bits;
        uint64_t in = pos & (q->cs - 1), n = MIN(len - done, q->cs - in);
        bool need_write = n < q->cs;

        if (!need_write) {
            pthread_mutex_lock(&q->lock);
            rc = zero_cluster(q, vc, unmap, &need_write);
            pthread_mutex_unlock(&q->lock);
        } else {
            struct cl_map m;

            pthread_mutex_lock(&q->lock);
            rc = lookup(q, vc, false, &m);
            if (rc == 0 &&
                (m.type == CL_ZERO || (m.type == CL_UNALLOC && !q->backing)))
                need_write = false; /* already reads as zeroes */
            pthread_mutex_unlock(&q->lock);
        }
        if (rc == 0 && need_write)
            rc = write_zero_part(q, pos, n);
        done += n;
    }
    return rc;
}

/* Discarded ranges read as zeroes afterwards (as on a raw file). */
int qcow2_discard(struct disk *d, uint64_t off, uint64_t len)
{
    return qcow2_write_zeroes(d, off, len, true);
}
