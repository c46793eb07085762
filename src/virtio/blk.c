/*
 * blk.c: virtio-blk.  A request is a 16-byte header (readable), data
 * (readable for OUT, DISCARD and WRITE_ZEROES, writable for IN and GET_ID)
 * and a status byte, the last writable byte of the chain (§5.2.6).  Every
 * request is checked before any host I/O: direction of its data, length (a
 * multiple of 512 for IN/OUT), the sector range against the capacity, the
 * read-only flag.  A chain with no writable byte cannot carry a status: the
 * device needs a reset.  The status byte is written after the data.
 */
#define LOG_TAG "virtio-blk"
#include "virtio/blk.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iov.h"
#include "log.h"
#include "sandbox/sandbox.h"
#include "util.h"
#include "virtio/virtio.h"
#include "virtio/vqpool.h"

#define SECTOR 512ULL

/* The config space (§5.2.4) up to write_zeroes_may_unmap, as upstream. */
struct blk_config {
    uint64_t capacity;
    uint32_t size_max;
    uint32_t seg_max;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;
    uint32_t blk_size;
    uint8_t physical_block_exp;
    uint8_t alignment_offset;
    uint16_t min_io_size;
    uint32_t opt_io_size;
    uint8_t writeback;
    uint8_t unused0;
    uint16_t num_queues;
    uint32_t max_discard_sectors;
    uint32_t max_discard_seg;
    uint32_t discard_sector_alignment;
    uint32_t max_write_zeroes_sectors;
    uint32_t max_write_zeroes_seg;
    uint8_t write_zeroes_may_unmap;
    uint8_t unused1[3];
} __attribute__((packed));

_Static_assert(sizeof(struct blk_config) == 60, "virtio 1.2 §5.2.4");
_Static_assert(offsetof(struct blk_config, max_discard_sectors) == 36,
               "virtio 1.2 §5.2.4");

struct blk_dev {
    struct virtio_dev vdev;
    struct virtio_dev_ops ops; /* features depend on the disk */
    struct blk_config config;
    struct blk_disk d;
    uint64_t size; /* bytes, a multiple of 512 */
    bool read_only;
    struct vqpool pool;
};

/* What one request asks, once parsed. */
struct blk_req {
    uint32_t type;
    uint64_t sector;
    struct iov_iter rd; /* readable bytes after the header */
    struct iov_iter wr; /* writable bytes before the status byte */
    size_t written;     /* data bytes written to (wr) */
};

static struct blk_dev *to_blk(struct virtio_dev *dev)
{
    return container_of(dev, struct blk_dev, vdev);
}

/* [sector, +bytes) inside the disk?  Stores the byte offset in (*off). */
static bool in_range(const struct blk_dev *blk, uint64_t sector, uint64_t bytes,
                     uint64_t *off)
{
    if (sector > blk->size / SECTOR)
        return false;
    *off = sector * SECTOR;
    return bytes <= blk->size - *off;
}

/*
 * The bytes of (it) as at most IOV_MAX iovecs in (out); false if they need
 * more (preadv/pwritev could not take them).
 */
static bool slice_all(const struct iov_iter *it, struct iovec *out,
                      unsigned int *n)
{
    size_t len = iov_remaining(it), got = 0;

    *n = iov_slice(it, len, out, IOV_MAX);
    for (unsigned int i = 0; i < *n; i++)
        got += out[i].iov_len;
    return got == len;
}

static uint8_t io_status(struct blk_dev *blk, const char *what, uint64_t off,
                         int rc)
{
    if (rc == 0)
        return VIRTIO_BLK_S_OK;
    log_ratelimited(LOG_WARN, "%s: %s at %" PRIu64 ": %s", blk->d.name, what,
                    off, strerror(-rc));
    return VIRTIO_BLK_S_IOERR;
}

/* IN and OUT: data only in the direction of the transfer, whole sectors. */
static uint8_t do_rw(struct blk_dev *blk, struct blk_req *r, bool write)
{
    struct iovec iov[IOV_MAX];
    struct iov_iter *data = write ? &r->rd : &r->wr;
    struct iov_iter *other = write ? &r->wr : &r->rd;
    uint64_t len = iov_remaining(data), off;
    unsigned int n;
    int rc;

    if (iov_remaining(other) != 0 || len % SECTOR != 0 ||
        !in_range(blk, r->sector, len, &off))
        return VIRTIO_BLK_S_IOERR;
    if (write && blk->read_only)
        return VIRTIO_BLK_S_IOERR;
    if (!slice_all(data, iov, &n))
        return VIRTIO_BLK_S_IOERR;
    if (len == 0)
        return VIRTIO_BLK_S_OK;
    if (write)
        return io_status(blk, "write", off,
                         disk_pwritev(blk->d.disk, iov, (int)n, off));
    rc = disk_preadv(blk->d.disk, iov, (int)n, off);
    if (rc == 0)
        r->written = len;
    return io_status(blk, "read", off, rc);
}

/* DISCARD and WRITE_ZEROES: one 16-byte segment (max_*_seg is 1). */
static uint8_t do_discard(struct blk_dev *blk, struct blk_req *r)
{
    struct virtio_blk_discard_write_zeroes seg;
    bool zeroes = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
    uint32_t flags;
    uint64_t off, len;
    int rc;

    if (iov_remaining(&r->wr) != 0 || iov_remaining(&r->rd) != sizeof(seg) ||
        blk->read_only)
        return VIRTIO_BLK_S_IOERR;
    iov_read(&r->rd, &seg, sizeof(seg));
    flags = le32toh(seg.flags);
    /* §5.2.6.2: unknown flags, and UNMAP on a discard, are unsupported. */
    if (flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ||
        (!zeroes && flags))
        return VIRTIO_BLK_S_UNSUPP;
    len = (uint64_t)le32toh(seg.num_sectors) * SECTOR;
    if (!in_range(blk, le64toh(seg.sector), len, &off))
        return VIRTIO_BLK_S_IOERR;
    if (len == 0)
        return VIRTIO_BLK_S_OK;
    if (zeroes)
        return io_status(
            blk, "write zeroes", off,
            disk_write_zeroes(blk->d.disk, off, len,
                              flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP));
    rc = disk_discard(blk->d.disk, off, len);
    /* A discard is a hint: a format that cannot free space ignores it. */
    if (rc == -EOPNOTSUPP)
        rc = 0;
    return io_status(blk, "discard", off, rc);
}

static uint8_t do_get_id(struct blk_dev *blk, struct blk_req *r)
{
    if (iov_remaining(&r->rd) != 0)
        return VIRTIO_BLK_S_IOERR;
    r->written = iov_write(&r->wr, blk->d.id, sizeof(blk->d.id));
    return VIRTIO_BLK_S_OK;
}

static uint8_t do_request(struct blk_dev *blk, struct blk_req *r)
{
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
        return do_rw(blk, r, false);
    case VIRTIO_BLK_T_OUT:
        return do_rw(blk, r, true);
    case VIRTIO_BLK_T_FLUSH:
        if (!blk->d.flush)
            return VIRTIO_BLK_S_UNSUPP; /* not offered */
        return io_status(blk, "flush", 0, disk_flush(blk->d.disk));
    case VIRTIO_BLK_T_GET_ID:
        return do_get_id(blk, r);
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        return do_discard(blk, r);
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
}

/* The status byte: the last byte of the last non-empty writable buffer. */
static uint8_t *status_byte(const struct virtq_req *req)
{
    for (unsigned int i = req->nr_rd + req->nr_wr; i > req->nr_rd; i--)
        if (req->iov[i - 1].iov_len)
            return (uint8_t *)req->iov[i - 1].iov_base +
                   req->iov[i - 1].iov_len - 1;
    return NULL;
}

/* Serve one request (a worker thread, or the loop thread inline). */
static size_t blk_serve(struct vqpool *pool, struct virtq_req *req)
{
    struct blk_dev *blk = container_of(pool, struct blk_dev, pool);
    struct virtio_blk_outhdr hdr;
    struct blk_req r = {0};
    uint8_t *status = status_byte(req), st;

    if (!status) {
        virtio_dev_fail(&blk->vdev, "request without a status byte");
        return 0;
    }
    virtq_req_reader(req, &r.rd);
    virtq_req_writer(req, &r.wr);
    iov_truncate(&r.wr, req->wr_len - 1);
    if (iov_read_all(&r.rd, &hdr, sizeof(hdr)) < 0) {
        st = VIRTIO_BLK_S_IOERR;
    } else {
        r.type = le32toh(hdr.type);
        r.sector = le64toh(hdr.sector);
        st = do_request(blk, &r);
    }
    /* After the data: the driver may look at the data once it sees OK. */
    __atomic_store_n(status, st, __ATOMIC_RELEASE);
    return r.written + 1;
}

static void blk_notify(struct virtio_dev *dev, struct virtq *vq)
{
    vqpool_notify(&to_blk(dev)->pool, vq);
}

static void blk_reset(struct virtio_dev *dev)
{
    vqpool_reset(&to_blk(dev)->pool);
}

/* Join the workers (idempotent): they use the queues and qlock. */
static void blk_stop(struct virtio_dev *dev)
{
    vqpool_destroy(&to_blk(dev)->pool);
}

static void blk_destroy(struct virtio_dev *dev)
{
    struct blk_dev *blk = to_blk(dev);

    blk_stop(dev);
    blk_disk_close(&blk->d);
    free(blk);
}

void blk_make_id(const struct stat *st, uint8_t id[BLK_ID_BYTES])
{
    char s[3 * 20 + 1];

    snprintf(s, sizeof(s), "%ju%ju%ju", (uintmax_t)st->st_dev,
             (uintmax_t)st->st_rdev, (uintmax_t)st->st_ino);
    memset(id, 0, BLK_ID_BYTES);
    memcpy(id, s, MIN(strlen(s), (size_t)BLK_ID_BYTES));
}

int blk_open(const char *path, const struct disk_opts *opts, unsigned int index,
             struct blk_disk *out)
{
    char err[256] = "";
    struct stat st;
    int rc;

    memset(out, 0, sizeof(*out));
    if (index >= 26 * 27) {
        log_error("disk %s: too many disks", path);
        return -EINVAL;
    }
    /* vda..vdz, then vdaa..vdzz as Linux names them. */
    if (index < 26)
        snprintf(out->name, sizeof(out->name), "vd%c", 'a' + index);
    else
        snprintf(out->name, sizeof(out->name), "vd%c%c", 'a' + index / 26 - 1,
                 'a' + index % 26);
    rc = disk_open(path, opts, &out->disk, err, sizeof(err));
    if (rc < 0) {
        if (err[0])
            log_error("%s", err);
        else
            log_error("disk %s: %s", path, strerror(-rc));
        out->disk = NULL;
        return rc;
    }
    if (stat(path, &st) < 0) {
        rc = -errno;
        log_error("disk %s: stat: %s", path, strerror(errno));
        blk_disk_close(out);
        return rc;
    }
    blk_make_id(&st, out->id);
    out->flush = opts->sync != DISK_SYNC_NONE;
    out->discard_align = st.st_blksize >= (blksize_t)SECTOR
                             ? (uint32_t)(st.st_blksize / SECTOR)
                             : 1;
    return 0;
}

void blk_disk_close(struct blk_disk *d)
{
    if (d->disk)
        disk_close(d->disk);
    d->disk = NULL;
}

static void blk_init_config(struct blk_dev *blk)
{
    struct blk_config *c = &blk->config;

    c->capacity = htole64(blk->size / SECTOR);
    c->seg_max = htole32(BLK_SEG_MAX);
    c->max_discard_sectors = htole32(UINT32_MAX);
    c->max_discard_seg = htole32(1);
    c->discard_sector_alignment = htole32(blk->d.discard_align);
    c->max_write_zeroes_sectors = htole32(UINT32_MAX);
    c->max_write_zeroes_seg = htole32(1);
    c->write_zeroes_may_unmap = 1;
    blk->vdev.config = (uint8_t *)c;
    blk->vdev.config_len = sizeof(*c);
}

int blk_create(const struct guest_mem *gm, struct blk_disk *d,
               unsigned int workers, struct virtio_dev **out)
{
    struct blk_dev *blk;
    char name[VIRTIO_NAME_MAX];
    int rc;

    if (!d->disk || workers > VQPOOL_MAX_WORKERS)
        return -EINVAL;
    blk = calloc(1, sizeof(*blk));
    if (!blk)
        return -ENOMEM;
    blk->size = disk_size(d->disk) / SECTOR * SECTOR;
    blk->read_only = disk_read_only(d->disk);
    blk->ops = (struct virtio_dev_ops){
        .name = "blk",
        .device_id = VIRTIO_ID_BLOCK,
        .queue_max = BLK_QUEUE_SIZE,
        .features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_SEG_MAX |
                    1ULL << VIRTIO_BLK_F_DISCARD |
                    1ULL << VIRTIO_BLK_F_WRITE_ZEROES |
                    1ULL << VIRTIO_RING_F_EVENT_IDX,
        .notify = blk_notify,
        .reset = blk_reset,
        .stop = blk_stop,
        .destroy = blk_destroy,
    };
    if (d->flush)
        blk->ops.features |= 1ULL << VIRTIO_BLK_F_FLUSH;
    if (blk->read_only)
        blk->ops.features |= 1ULL << VIRTIO_BLK_F_RO;
    snprintf(name, sizeof(name), "blk:%s", d->name);
    rc = virtio_dev_init(&blk->vdev, &blk->ops, 1, gm, name);
    if (rc < 0) {
        free(blk);
        return rc;
    }
    blk->d = *d; /* the device owns the image from here on */
    d->disk = NULL;
    blk_init_config(blk);
    /* Inline, one request is in flight at a time: one job is enough. */
    rc = vqpool_init(&blk->pool, &blk->vdev, blk_serve, workers ? BLK_JOBS : 1,
                     workers, "krun-blk");
    if (rc < 0) {
        virtio_dev_destroy(&blk->vdev);
        return rc;
    }
    *out = &blk->vdev;
    return 0;
}

int blk_start(struct virtio_dev *dev)
{
    return vqpool_start(&to_blk(dev)->pool, SANDBOX_BLK_WORKER);
}
