/*
 * qcow2.h: the qcow2 backend's internal state, shared by qcow2.c (header,
 * open, close), qcow2_meta.c (table caches, refcounts, allocation, ordered
 * flush) and qcow2_io.c (cluster mapping, reads, writes, zeroing).
 *
 * Format: QEMU's docs/interop/qcow2.txt (versions 2 and 3).  All on-disk
 * integers are big-endian.  Every table entry is validated where it is used;
 * a bad one fails that request with -EIO, never the process.
 */
#ifndef KRUN_DISK_QCOW2_H
#define KRUN_DISK_QCOW2_H

#include <pthread.h>
#include <stdint.h>

#include "disk/disk_int.h"
#include "util.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

/* L1 / L2 entry bits. */
#define QCOW2_OFLAG_COPIED     (1ULL << 63) /* refcount is exactly 1 */
#define QCOW2_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW2_OFLAG_ZERO       1ULL /* v3 standard L2 entry: reads as zero */
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ULL /* bits 9..55 */
#define QCOW2_L1_RESERVED      0x7f000000000001ffULL
#define QCOW2_L2_RESERVED      0x3f000000000001feULL /* standard entries */

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY       (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT     (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2       (1ULL << 4)

/* Limits on what an image may make us allocate (QEMU's own limits). */
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)
/* Pending cluster frees (runs) before a flush is forced. */
#define QCOW2_MAX_PENDING 1024

struct qcow2_table {
    uint64_t off;  /* host offset of the cluster; 0 = slot empty */
    uint64_t used; /* LRU tick */
    bool dirty;
    uint8_t *data; /* one cluster */
};

/* A bounded LRU cache of cluster-sized tables (L2 tables or refblocks). */
struct qcow2_cache {
    unsigned n;
    uint64_t tick;
    struct qcow2_table *t;
    uint8_t *mem;
};

struct qcow2_run {
    uint64_t cluster; /* first cluster index */
    uint64_t count;
};

/* Immutable after open unless marked "lock". */
struct qcow2 {
    struct disk d;
    struct disk_file f;
    struct disk *backing; /* read-only, or NULL */
    char *path;

    unsigned version;
    unsigned cluster_bits;
    uint64_t cs;         /* cluster size */
    uint64_t l2_entries; /* cs / 8 */
    unsigned refcount_order;
    uint64_t rc_per_block; /* refcount entries per refblock */
    uint64_t max_refcount;

    pthread_mutex_t lock; /* protects everything below */
    /* Held shared by data I/O done outside (lock); taken exclusive before
     * freed clusters become reusable, so no late write lands in them. */
    pthread_rwlock_t io_lock;

    uint64_t *l1; /* host byte order */
    uint32_t l1_size;
    uint64_t l1_off;
    uint32_t l1_dirty_lo, l1_dirty_hi; /* dirty range [lo, hi) */

    uint64_t *rt; /* refcount table, host byte order */
    uint64_t rt_entries;
    uint64_t rt_off;
    uint32_t rt_clusters;

    struct qcow2_cache l2c, rbc;

    uint64_t file_end;  /* allocation ceiling: cluster-aligned */
    uint64_t free_hint; /* no free cluster below this index */
    bool need_sync;     /* data or refcounts written since the last sync */

    struct qcow2_run pending[QCOW2_MAX_PENDING]; /* frees after next flush */
    unsigned npending;

    uint8_t *cow_buf;  /* one cluster, for partial-cluster writes */
    uint8_t *zbuf;     /* compressed input, up to 2 clusters */
    uint8_t *comp_buf; /* the last decompressed cluster */
    uint64_t comp_l2e; /* its L2 entry (0 = none) */
};

static inline uint64_t be64_load(const uint8_t *p)
{
    uint64_t v;

    __builtin_memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

static inline void be64_store(uint8_t *p, uint64_t v)
{
    v = __builtin_bswap64(v);
    __builtin_memcpy(p, &v, 8);
}

/* qcow2_meta.c (all with q->lock held) */
int qcow2_cache_init(struct qcow2_cache *c, unsigned n, uint64_t cs);
void qcow2_cache_free(struct qcow2_cache *c);
/* The L2 table at host (off) (validated by the caller); (fresh): a new,
 * all-zero table (not read).  The pointer lives until the next call. */
int qcow2_l2_get(struct qcow2 *q, uint64_t off, bool fresh,
                 struct qcow2_table **out);
/* Refcount of cluster (idx) (0 where no refblock exists). */
int qcow2_refcount_get(struct qcow2 *q, uint64_t idx, uint64_t *rc);
/* A new cluster with refcount 1; its host offset in (*off). */
int qcow2_alloc_cluster(struct qcow2 *q, uint64_t *off);
/* The cluster at host (off) allocated if it is free (else -EBUSY). */
int qcow2_alloc_at(struct qcow2 *q, uint64_t off);
/* Drop one reference to (count) clusters from host (off) after the next
 * flush has made the dropping table update durable. */
int qcow2_free_later(struct qcow2 *q, uint64_t off, uint64_t count);
/* Ordered write-back: data+refcounts, sync, L2, sync, L1, sync; then the
 * pending frees. */
int qcow2_flush_locked(struct qcow2 *q);
/* True if [off, off+len) touches the header cluster, L1 or refcount table. */
bool qcow2_overlaps_fixed(const struct qcow2 *q, uint64_t off, uint64_t len);

/* qcow2_io.c */
int qcow2_preadv(struct disk *d, const struct iovec *iov, int iovcnt,
                 uint64_t off);
int qcow2_pwritev(struct disk *d, const struct iovec *iov, int iovcnt,
                  uint64_t off);
int qcow2_discard(struct disk *d, uint64_t off, uint64_t len);
int qcow2_write_zeroes(struct disk *d, uint64_t off, uint64_t len, bool unmap);

static inline struct qcow2 *to_qcow2(struct disk *d)
{
    return container_of(d, struct qcow2, d);
}

#endif /* KRUN_DISK_QCOW2_H */
