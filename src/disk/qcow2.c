/*
 * qcow2.c: opening a qcow2 image (v2 and v3): every header field checked
 * against the file and the limits before anything is allocated from it,
 * header extensions (backing format, feature names), the backing chain,
 * and the ops table.  Unsupported features are -ENOTSUP with the feature
 * named; malformed fields are -EINVAL with the field named.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_TAG "disk-qcow2"
#include "disk/qcow2.h"
#include "log.h"

#define EXT_BACKING_FORMAT 0xe2792acau
#define EXT_FEATURE_NAMES  0x6803f857u
#define V2_HEADER_LEN      72u
#define V3_HEADER_LEN      104u

struct qcow2_header {
    uint32_t magic, version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size, cluster_bits;
    uint64_t size;
    uint32_t crypt_method, l1_size;
    uint64_t l1_table_offset, refcount_table_offset;
    uint32_t refcount_table_clusters, nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompatible, compatible, autoclear;
    uint32_t refcount_order, header_length;
    uint8_t compression_type;
};

static uint32_t be32_load(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void parse_header(const uint8_t *b, struct qcow2_header *h)
{
    h->magic = be32_load(b);
    h->version = be32_load(b + 4);
    h->backing_file_offset = be64_load(b + 8);
    h->backing_file_size = be32_load(b + 16);
    h->cluster_bits = be32_load(b + 20);
    h->size = be64_load(b + 24);
    h->crypt_method = be32_load(b + 32);
    h->l1_size = be32_load(b + 36);
    h->l1_table_offset = be64_load(b + 40);
    h->refcount_table_offset = be64_load(b + 48);
    h->refcount_table_clusters = be32_load(b + 56);
    h->nb_snapshots = be32_load(b + 60);
    h->snapshots_offset = be64_load(b + 64);
    if (h->version < 3) {
        h->incompatible = h->compatible = h->autoclear = 0;
        h->refcount_order = 4;
        h->header_length = V2_HEADER_LEN;
        h->compression_type = 0;
        return;
    }
    h->incompatible = be64_load(b + 72);
    h->compatible = be64_load(b + 80);
    h->autoclear = be64_load(b + 88);
    h->refcount_order = be32_load(b + 96);
    h->header_length = be32_load(b + 100);
    h->compression_type = h->header_length > 104 ? b[104] : 0;
}

struct open_ctx {
    const char *path;
    char *err;
    size_t errlen;
    uint64_t fsize;
    const uint8_t *names; /* feature name table, or NULL */
    uint32_t names_len;
    int backing_fmt; /* -1: not given */
};

#define FAIL(o, rc, ...)                                                       \
    disk_err((o)->err, (o)->errlen, rc, (o)->path, __VA_ARGS__)

static const char *feature_name(const struct open_ctx *o, unsigned type,
                                unsigned bit, char *buf, size_t len)
{
    for (uint32_t i = 0; o->names && i + 48 <= o->names_len; i += 48) {
        if (o->names[i] == type && o->names[i + 1] == bit) {
            snprintf(buf, len, "%.46s", (const char *)o->names + i + 2);
            return buf;
        }
    }
    return "unnamed";
}

/* Header extensions between the header and (end). */
static int parse_extensions(struct open_ctx *o, const uint8_t *c, uint64_t off,
                            uint64_t end)
{
    while (off + 8 <= end) {
        uint32_t type = be32_load(c + off), len = be32_load(c + off + 4);

        off += 8;
        if (type == 0)
            return 0;
        if (len > end - off)
            return FAIL(o, -EINVAL,
                        "qcow2 header extension %#x: length %u runs past the "
                        "header area (%" PRIu64 " bytes left)",
                        type, len, end - off);
        if (type == EXT_BACKING_FORMAT) {
            char fmt[17];

            snprintf(fmt, sizeof(fmt), "%.*s", (int)MIN(len, 16u),
                     (const char *)c + off);
            if (strcmp(fmt, "raw") == 0 && len == 3)
                o->backing_fmt = DISK_FMT_RAW;
            else if (strcmp(fmt, "qcow2") == 0 && len == 5)
                o->backing_fmt = DISK_FMT_QCOW2;
            else
                return FAIL(o, -ENOTSUP,
                            "backing file format '%s' not supported (raw "
                            "and qcow2 are)",
                            fmt);
        } else if (type == EXT_FEATURE_NAMES) {
            o->names = c + off;
            o->names_len = len;
        }
        off += ALIGN_UP((uint64_t)len, 8);
    }
    return 0;
}

static int check_features(struct open_ctx *o, const struct qcow2_header *h,
                          bool ro)
{
    uint64_t known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT |
                     QCOW2_INCOMPAT_COMPRESSION;
    char name[48];

    if (h->crypt_method)
        return FAIL(o, -ENOTSUP,
                    "encrypted qcow2 (crypt_method %u) not "
                    "supported",
                    h->crypt_method);
    if (h->incompatible & QCOW2_INCOMPAT_DATA_FILE)
        return FAIL(o, -ENOTSUP,
                    "incompatible feature bit 2 (external data "
                    "file) not supported");
    if (h->incompatible & QCOW2_INCOMPAT_EXTL2)
        return FAIL(o, -ENOTSUP,
                    "incompatible feature bit 4 (extended L2 "
                    "entries) not supported");
    for (unsigned bit = 0; bit < 64; bit++)
        if ((h->incompatible & ~known) & (1ULL << bit))
            return FAIL(o, -ENOTSUP,
                        "incompatible feature bit %u (%s) not supported", bit,
                        feature_name(o, 0, bit, name, sizeof(name)));
    if (h->incompatible & QCOW2_INCOMPAT_COMPRESSION) {
        if (h->header_length <= 104)
            return FAIL(o, -EINVAL,
                        "compression type bit set but "
                        "header_length %u has no compression_type field",
                        h->header_length);
        if (h->compression_type == 1)
            return FAIL(o, -ENOTSUP,
                        "zstd compression (compression_type 1) "
                        "not supported");
    }
    if (h->compression_type != 0 &&
        !(h->incompatible & QCOW2_INCOMPAT_COMPRESSION))
        return FAIL(o, -EINVAL,
                    "compression_type %u without its "
                    "incompatible bit",
                    h->compression_type);
    if (h->compression_type > 1)
        return FAIL(o, -EINVAL, "unknown compression_type %u",
                    h->compression_type);
    if (ro)
        return 0;
    if (h->incompatible & QCOW2_INCOMPAT_DIRTY)
        return FAIL(o, -EINVAL,
                    "image is dirty (incompatible bit 0: refcounts not up to "
                    "date, lazy_refcounts after a crash); repair it with "
                    "'qemu-img check -r all' or open it read-only");
    if (h->incompatible & QCOW2_INCOMPAT_CORRUPT)
        return FAIL(o, -EINVAL,
                    "image is marked corrupt (incompatible bit "
                    "1); repair it with 'qemu-img check -r all' or open it "
                    "read-only");
    if (h->nb_snapshots)
        return FAIL(o, -ENOTSUP,
                    "writing an image with internal snapshots "
                    "(nb_snapshots %u) is not supported; open it read-only",
                    h->nb_snapshots);
    return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static int check_layout(struct open_ctx *o, const struct qcow2_header *h)
{
    uint64_t cs = 1ULL << h->cluster_bits, l2e = cs / 8, cover, need;
    uint64_t l1_bytes = (uint64_t)h->l1_size * 8;
    uint64_t rt_bytes = (uint64_t)h->refcount_table_clusters * cs;

    if (h->version >= 3 && h->header_length < V3_HEADER_LEN)
        return FAIL(o, -EINVAL, "header_length %u too small (at least %u)",
                    h->header_length, V3_HEADER_LEN);
    if (h->header_length > cs)
        return FAIL(o, -EINVAL,
                    "header_length %u larger than the cluster "
                    "size %" PRIu64,
                    h->header_length, cs);
    if (h->version >= 3 && h->refcount_order > 6)
        return FAIL(o, -EINVAL, "refcount_order %u out of range 0..6",
                    h->refcount_order);
    if (h->size > (uint64_t)INT64_MAX)
        return FAIL(o, -EINVAL, "size %" PRIu64 " too large", h->size);
    if (l1_bytes > QCOW2_MAX_L1_BYTES)
        return FAIL(o, -EINVAL, "l1_size %u too large (at most %u entries)",
                    h->l1_size, QCOW2_MAX_L1_BYTES / 8);
    cover = l2e * cs;
    need = h->size / cover + (h->size % cover != 0);
    if (h->l1_size < need)
        return FAIL(o, -EINVAL,
                    "l1_size %u too small for size %" PRIu64 " (needs %" PRIu64
                    ")",
                    h->l1_size, h->size, need);
    if (h->l1_size &&
        (h->l1_table_offset % cs || h->l1_table_offset >= o->fsize))
        return FAIL(o, -EINVAL,
                    "l1_table_offset %#" PRIx64 " is not a "
                    "cluster boundary inside the file (%" PRIu64 " bytes)",
                    h->l1_table_offset, o->fsize);
    if (h->refcount_table_clusters == 0 || rt_bytes > QCOW2_MAX_RT_BYTES)
        return FAIL(o, -EINVAL,
                    "refcount_table_clusters %u out of range "
                    "1..%" PRIu64,
                    h->refcount_table_clusters, QCOW2_MAX_RT_BYTES / cs);
    if (h->refcount_table_offset % cs || h->refcount_table_offset >= o->fsize)
        return FAIL(o, -EINVAL,
                    "refcount_table_offset %#" PRIx64 " is not "
                    "a cluster boundary inside the file (%" PRIu64 " bytes)",
                    h->refcount_table_offset, o->fsize);
    if (ranges_overlap(0, cs, h->l1_table_offset, l1_bytes))
        return FAIL(o, -EINVAL,
                    "l1_table_offset %#" PRIx64 " overlaps the "
                    "header",
                    h->l1_table_offset);
    if (ranges_overlap(0, cs, h->refcount_table_offset, rt_bytes))
        return FAIL(o, -EINVAL,
                    "refcount_table_offset %#" PRIx64 " overlaps "
                    "the header",
                    h->refcount_table_offset);
    if (ranges_overlap(h->l1_table_offset, l1_bytes, h->refcount_table_offset,
                       rt_bytes))
        return FAIL(o, -EINVAL,
                    "l1_table_offset %#" PRIx64 " (%u entries) "
                    "overlaps refcount_table_offset %#" PRIx64,
                    h->l1_table_offset, h->l1_size, h->refcount_table_offset);
    if (h->nb_snapshots > 65536)
        return FAIL(o, -EINVAL, "nb_snapshots %u too large", h->nb_snapshots);
    if (h->nb_snapshots &&
        (h->snapshots_offset % cs || h->snapshots_offset >= o->fsize))
        return FAIL(o, -EINVAL,
                    "snapshots_offset %#" PRIx64 " is not a "
                    "cluster boundary inside the file",
                    h->snapshots_offset);
    if (h->backing_file_offset &&
        (h->backing_file_size > 1023 || h->backing_file_offset > cs ||
         h->backing_file_size > cs - h->backing_file_offset ||
         h->backing_file_offset < h->header_length))
        return FAIL(o, -EINVAL,
                    "backing_file_offset %#" PRIx64 " / "
                    "backing_file_size %u outside the header cluster (or "
                    "longer than 1023)",
                    h->backing_file_offset, h->backing_file_size);
    return 0;
}

static int read_table(struct qcow2 *q, uint64_t off, uint64_t n, uint64_t **out)
{
    uint64_t *t = malloc(n ? n * 8 : 8);
    int rc;

    if (!t)
        return -ENOMEM;
    rc = disk_file_pread(&q->f, t, n * 8, off);
    if (rc < 0) {
        free(t);
        return rc;
    }
    for (uint64_t i = 0; i < n; i++)
        t[i] = __builtin_bswap64(t[i]);
    *out = t;
    return 0;
}

/* Backing file: its path relative to the image's directory, its format. */
static int open_backing(struct qcow2 *q, struct open_ctx *o,
                        const struct qcow2_header *h, const uint8_t *c,
                        const struct disk_opts *opts,
                        const struct disk_chain *chain)
{
    char name[1024], full[4096 + 1024], inner[1024];
    const char *slash = strrchr(o->path, '/');
    struct disk_chain self = {chain, q->f.dev, q->f.ino,
                              chain ? chain->depth + 1 : 0};
    int fmt = o->backing_fmt, rc;

    memcpy(name, c + h->backing_file_offset, h->backing_file_size);
    name[h->backing_file_size] = '\0';
    if (strlen(name) != h->backing_file_size || !name[0])
        return FAIL(o, -EINVAL,
                    "backing file name at %#" PRIx64 " contains "
                    "a NUL byte",
                    h->backing_file_offset);
    if (name[0] == '/' || !slash)
        snprintf(full, sizeof(full), "%s", name);
    else
        snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - o->path), o->path,
                 name);
    if (fmt < 0) { /* no backing format extension: look at the magic */
        uint8_t m[4] = {0};
        int fd = open(full, O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
            fmt = pread(fd, m, 4, 0) == 4 && be32_load(m) == QCOW2_MAGIC
                      ? DISK_FMT_QCOW2
                      : DISK_FMT_RAW;
            close(fd);
        }
    }
    rc = disk_open_backing(full, fmt < 0 ? DISK_FMT_RAW : (enum disk_format)fmt,
                           opts, &self, &q->backing, inner, sizeof(inner));
    if (rc < 0 && chain) /* the innermost message, unwrapped */
        snprintf(o->err, o->errlen, "%s", inner);
    else if (rc < 0)
        FAIL(o, rc, "backing file: %s", inner);
    return rc;
}

static int qcow2_flush(struct disk *d)
{
    struct qcow2 *q = to_qcow2(d);
    int rc;

    pthread_mutex_lock(&q->lock);
    rc = qcow2_flush_locked(q);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static void qcow2_free(struct qcow2 *q)
{
    if (q->backing)
        disk_close(q->backing);
    qcow2_cache_free(&q->l2c);
    qcow2_cache_free(&q->rbc);
    free(q->l1);
    free(q->rt);
    free(q->cow_buf);
    free(q->zbuf);
    free(q->comp_buf);
    disk_file_close(&q->f);
    pthread_mutex_destroy(&q->lock);
    pthread_rwlock_destroy(&q->io_lock);
    free(q->path);
    free(q);
}

static void qcow2_close(struct disk *d)
{
    struct qcow2 *q = to_qcow2(d);

    if (!d->read_only && qcow2_flush(d) < 0)
        log_error("%s: writing metadata at close failed", q->path);
    qcow2_free(q);
}

static const struct disk_ops qcow2_ops = {
    .name = "qcow2",
    .preadv = qcow2_preadv,
    .pwritev = qcow2_pwritev,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .close = qcow2_close,
};

/*
 * Tables and buffers.  A read-only image (every backing file) never
 * touches refcounts: no refcount table in memory, one refblock slot, no
 * copy-on-write buffer.
 */
static int setup(struct qcow2 *q, struct open_ctx *o,
                 const struct qcow2_header *h, bool ro)
{
    uint64_t cs = q->cs;
    unsigned n2 = (unsigned)MIN(64, MAX(4, (4u << 20) / cs));
    unsigned nr = ro ? 1 : (unsigned)MIN(16, MAX(4, (1u << 20) / cs));
    int rc;

    q->l2_entries = cs / 8;
    q->refcount_order = h->refcount_order;
    q->rc_per_block = cs * 8 >> h->refcount_order;
    q->l1_size = h->l1_size;
    q->l1_off = h->l1_table_offset;
    q->l1_dirty_lo = UINT32_MAX;
    q->rt_off = h->refcount_table_offset;
    q->rt_clusters = h->refcount_table_clusters;
    q->rt_entries = (uint64_t)h->refcount_table_clusters * cs / 8;
    q->file_end = ALIGN_UP(o->fsize, cs);
    if ((rc = read_table(q, q->l1_off, q->l1_size, &q->l1)) < 0 ||
        (!ro && (rc = read_table(q, q->rt_off, q->rt_entries, &q->rt)) < 0))
        return FAIL(o, rc, "cannot read the L1 / refcount tables");
    if (qcow2_cache_init(&q->l2c, n2, cs) || qcow2_cache_init(&q->rbc, nr, cs))
        return FAIL(o, -ENOMEM, "out of memory for the table caches");
    if ((!ro && posix_memalign((void **)&q->cow_buf, 4096, cs)) ||
        !(q->zbuf = malloc(2 * cs)) || !(q->comp_buf = malloc(cs)))
        return FAIL(o, -ENOMEM, "out of memory");
    return 0;
}

int qcow2_open(const char *path, const struct disk_opts *opts,
               const struct disk_chain *chain, struct disk **out, char *err,
               size_t errlen)
{
    struct open_ctx o = {path, err, errlen, 0, NULL, 0, -1};
    struct qcow2_header h;
    uint8_t hb[112] = {0}, *c = NULL;
    struct qcow2 *q;
    int rc;

    q = calloc(1, sizeof(*q));
    if (!q || !(q->path = strdup(path))) {
        free(q);
        return FAIL(&o, -ENOMEM, "out of memory");
    }
    pthread_mutex_init(&q->lock, NULL);
    pthread_rwlock_init(&q->io_lock, NULL);
    q->f.fd = -1;
    rc = disk_file_open(&q->f, path, opts->read_only, opts->direct_io, err,
                        errlen);
    if (rc < 0)
        goto err_free;
    if ((rc = disk_file_size(&q->f, &o.fsize)) < 0 ||
        (rc = disk_file_pread(&q->f, hb, sizeof(hb), 0)) < 0) {
        FAIL(&o, rc, "cannot read the header");
        goto err_free;
    }
    parse_header(hb, &h);
    rc = -EINVAL;
    if (o.fsize < V2_HEADER_LEN || h.magic != QCOW2_MAGIC) {
        FAIL(&o, rc, "not a qcow2 image (magic %#x, %" PRIu64 " bytes)",
             h.magic, o.fsize);
        goto err_free;
    }
    if (h.version != 2 && h.version != 3) {
        FAIL(&o, rc = -ENOTSUP, "qcow2 version %u not supported (2 and 3 are)",
             h.version);
        goto err_free;
    }
    if (h.cluster_bits < 9 || h.cluster_bits > 21) {
        FAIL(&o, rc, "cluster_bits %u out of range 9..21", h.cluster_bits);
        goto err_free;
    }
    q->version = h.version;
    q->cluster_bits = h.cluster_bits;
    q->cs = 1ULL << h.cluster_bits;
    if ((rc = check_layout(&o, &h)) < 0)
        goto err_free;
    c = malloc(q->cs);
    if (!c || (rc = disk_file_pread(&q->f, c, q->cs, 0)) < 0) {
        FAIL(&o, rc = c ? rc : -ENOMEM, "cannot read the header cluster");
        goto err_free;
    }
    rc =
        parse_extensions(&o, c, h.header_length,
                         h.backing_file_offset ? h.backing_file_offset : q->cs);
    if (rc < 0 || (rc = check_features(&o, &h, opts->read_only)) < 0 ||
        (rc = setup(q, &o, &h, opts->read_only)) < 0)
        goto err_free;
    if (!opts->read_only && h.autoclear) {
        /* we do not maintain what those bits vouch for (e.g. bitmaps) */
        uint64_t zero = 0;

        if ((rc = disk_file_pwrite(&q->f, &zero, 8, 88)) < 0 ||
            (rc = disk_file_sync(&q->f, opts->sync)) < 0) {
            FAIL(&o, rc, "cannot clear autoclear_features");
            goto err_free;
        }
    }
    if (h.backing_file_offset && h.backing_file_size &&
        (rc = open_backing(q, &o, &h, c, opts, chain)) < 0)
        goto err_free;
    free(c);
    q->d.ops = &qcow2_ops;
    q->d.size = ALIGN_DOWN(h.size, 512);
    q->d.sync = opts->sync;
    q->d.read_only = opts->read_only;
    q->d.can_discard = !opts->read_only;
    *out = &q->d;
    return 0;

err_free:
    free(c);
    qcow2_free(q);
    return rc;
}
