/*
 * vmdk.c: VMDK descriptor files with FLAT (and VMFS, also flat) and ZERO
 * extents: createType monolithicFlat, twoGbMaxExtentFlat or vmfs (VMware
 * Virtual Disk Format 1.1, "The Descriptor File").  FLAT extents opened RW
 * are read-write (unless the disk is read-only); RDONLY extents refuse
 * writes, NOACCESS extents refuse everything, ZERO extents read zeroes and
 * refuse data writes.  Sparse VMDK (hosted sparse, ESX COWD,
 * streamOptimized, SPARSE extents) and delta links (a parent) are -ENOTSUP,
 * named.  The descriptor is hostile text: at most 64 KiB, 1024 extents,
 * sizes overflow-checked, each flat file long enough for its extent.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_TAG "disk-vmdk"
#include "disk/disk_int.h"
#include "log.h"
#include "util.h"

#define VMDK_MAX_DESC    (64u << 10)
#define VMDK_MAX_EXTENTS 1024u

enum ext_access { EXT_RW, EXT_RDONLY, EXT_NOACCESS };

struct vmdk_extent {
    uint64_t start, len; /* virtual bytes */
    uint64_t file_off;   /* FLAT: bytes into the file */
    enum ext_access access;
    bool zero;
    struct disk_file f; /* FLAT only */
};

struct vmdk {
    struct disk d;
    unsigned n;
    struct vmdk_extent *e;
};

static struct vmdk *to_vmdk(struct disk *d)
{
    return container_of(d, struct vmdk, d);
}

/* The extent holding virtual byte (off) (< disk size). */
static struct vmdk_extent *find(struct vmdk *v, uint64_t off)
{
    unsigned lo = 0, hi = v->n;

    while (hi - lo > 1) {
        unsigned mid = (lo + hi) / 2;

        if (v->e[mid].start <= off)
            lo = mid;
        else
            hi = mid;
    }
    return &v->e[lo];
}

enum vmdk_op { OP_READ, OP_WRITE, OP_ZERO, OP_UNMAP, OP_DISCARD };

/* Run (op) over [off, off+len), extent by extent. */
static int each_extent(struct vmdk *v, enum vmdk_op op, const struct iovec *iov,
                       int iovcnt, uint64_t off, uint64_t len)
{
    struct iovec local[32], *sl = local;
    uint64_t done = 0;
    int rc = 0;

    if (iovcnt > (int)ARRAY_SIZE(local) &&
        !(sl = malloc(sizeof(*sl) * (size_t)iovcnt)))
        return -ENOMEM;
    while (done < len && rc == 0) {
        struct vmdk_extent *e = find(v, off + done);
        uint64_t in = off + done - e->start, n = MIN(len - done, e->len - in);
        uint64_t at = e->file_off + in;
        int cnt = 0;

        if (iov)
            cnt = disk_iov_slice(iov, iovcnt, done, n, sl);
        if (e->access == EXT_NOACCESS)
            rc = -EIO;
        else if (op != OP_READ && e->access == EXT_RDONLY)
            rc = -EROFS;
        else if (e->zero && op == OP_READ)
            disk_iov_zero(sl, cnt, 0, n);
        else if (e->zero)
            rc = op == OP_WRITE ? -EIO : 0; /* zeroing a ZERO extent: done */
        else if (op == OP_READ)
            rc = disk_file_preadv(&e->f, sl, cnt, at);
        else if (op == OP_WRITE)
            rc = disk_file_pwritev(&e->f, sl, cnt, at);
        else if (op == OP_DISCARD)
            rc = (rc = disk_file_punch(&e->f, at, n)) == -EOPNOTSUPP ? 0 : rc;
        else
            rc = disk_file_zero(&e->f, at, n, op == OP_UNMAP);
        done += n;
    }
    if (sl != local)
        free(sl);
    return rc;
}

static int vmdk_preadv(struct disk *d, const struct iovec *iov, int iovcnt,
                       uint64_t off)
{
    uint64_t len;

    disk_iov_len(iov, iovcnt, &len);
    return each_extent(to_vmdk(d), OP_READ, iov, iovcnt, off, len);
}

static int vmdk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt,
                        uint64_t off)
{
    uint64_t len;

    disk_iov_len(iov, iovcnt, &len);
    return each_extent(to_vmdk(d), OP_WRITE, iov, iovcnt, off, len);
}

static int vmdk_discard(struct disk *d, uint64_t off, uint64_t len)
{
    return each_extent(to_vmdk(d), OP_DISCARD, NULL, 0, off, len);
}

static int vmdk_write_zeroes(struct disk *d, uint64_t off, uint64_t len,
                             bool unmap)
{
    return each_extent(to_vmdk(d), unmap ? OP_UNMAP : OP_ZERO, NULL, 0, off,
                       len);
}

static int vmdk_flush(struct disk *d)
{
    struct vmdk *v = to_vmdk(d);
    int rc = 0;

    for (unsigned i = 0; i < v->n; i++)
        if (!v->e[i].zero && v->e[i].access == EXT_RW && rc == 0)
            rc = disk_file_sync(&v->e[i].f, d->sync);
    return rc;
}

static void vmdk_free(struct vmdk *v)
{
    for (unsigned i = 0; i < v->n; i++)
        if (!v->e[i].zero)
            disk_file_close(&v->e[i].f);
    free(v->e);
    free(v);
}

static void vmdk_close(struct disk *d)
{
    vmdk_free(to_vmdk(d));
}

static const struct disk_ops vmdk_ops = {
    .name = "vmdk",
    .preadv = vmdk_preadv,
    .pwritev = vmdk_pwritev,
    .flush = vmdk_flush,
    .discard = vmdk_discard,
    .write_zeroes = vmdk_write_zeroes,
    .close = vmdk_close,
};

struct parse {
    const char *path;
    char *err;
    size_t errlen;
    const struct disk_opts *opts;
    struct vmdk *v;
    char create_type[64];
    bool has_parent;
};

#define FAIL(p, rc, ...)                                                       \
    disk_err((p)->err, (p)->errlen, rc, (p)->path, __VA_ARGS__)

static char *skip_ws(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Next whitespace-separated token (a "quoted string" if it starts so). */
static char *token(char **s)
{
    char *t = skip_ws(*s), *end;

    if (*t == '"') {
        t++;
        end = strchr(t, '"');
        if (!end)
            return NULL;
    } else {
        end = t;
        while (*end && *end != ' ' && *end != '\t')
            end++;
    }
    *s = *end ? end + 1 : end;
    *end = '\0';
    return *t || (*s > t && t[-1] == '"') ? t : NULL;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (!s || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return !errno && !*end;
}

static int open_flat(struct parse *p, struct vmdk_extent *e, const char *name,
                     unsigned idx)
{
    const char *slash = strrchr(p->path, '/');
    char full[4096 + 256], inner[512];
    bool ro = p->opts->read_only || e->access != EXT_RW;
    uint64_t fsize, end;
    int rc;

    if (name[0] == '/' || !slash)
        snprintf(full, sizeof(full), "%s", name);
    else
        snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - p->path), p->path,
                 name);
    rc = disk_file_open(&e->f, full, ro, p->opts->direct_io, inner,
                        sizeof(inner));
    if (rc < 0)
        return FAIL(p, rc, "extent %u: %s", idx, inner);
    if ((rc = disk_file_size(&e->f, &fsize)) < 0 ||
        add_overflow(e->file_off, e->len, &end) || end > fsize) {
        disk_file_close(&e->f);
        return FAIL(p, rc < 0 ? rc : -EINVAL,
                    "extent %u: %s (%" PRIu64 " bytes) is shorter than the "
                    "extent (%" PRIu64 " sectors at sector %" PRIu64 ")",
                    idx, full, fsize, e->len / 512, e->file_off / 512);
    }
    return 0;
}

/* "RW 4192256 FLAT "name-flat.vmdk" 0" / "RW 2048 ZERO" */
static int parse_extent(struct parse *p, char *line, uint64_t *total)
{
    struct vmdk *v = p->v;
    char *acc = token(&line), *sz = token(&line), *type = token(&line);
    char *name = token(&line), *offs = token(&line);
    struct vmdk_extent *e;
    uint64_t sectors, off = 0;
    unsigned idx = v->n;
    int rc;

    if (v->n == VMDK_MAX_EXTENTS)
        return FAIL(p, -EINVAL, "more than %u extents", VMDK_MAX_EXTENTS);
    if (!parse_u64(sz, &sectors) || sectors == 0 ||
        sectors > ((uint64_t)INT64_MAX - *total) / 512)
        return FAIL(p, -EINVAL, "extent %u: bad size '%s'", idx, sz ? sz : "");
    if (!type)
        return FAIL(p, -EINVAL, "extent %u: no type", idx);
    e = &v->e[v->n];
    memset(e, 0, sizeof(*e));
    e->start = *total;
    e->len = sectors * 512;
    e->access = !strcmp(acc, "RW")       ? EXT_RW
                : !strcmp(acc, "RDONLY") ? EXT_RDONLY
                                         : EXT_NOACCESS;
    if (!strcmp(type, "ZERO")) {
        e->zero = true;
    } else if (!strcmp(type, "FLAT") || !strcmp(type, "VMFS")) {
        if (!name)
            return FAIL(p, -EINVAL,
                        "extent %u: %s extent without a file "
                        "name",
                        idx, type);
        if (offs && (!parse_u64(offs, &off) || off > UINT64_MAX / 512))
            return FAIL(p, -EINVAL, "extent %u: bad offset '%s'", idx, offs);
        e->file_off = off * 512;
        if ((rc = open_flat(p, e, name, idx)) < 0)
            return rc;
    } else {
        return FAIL(p, -ENOTSUP,
                    "extent %u: %s extents not supported "
                    "(FLAT, VMFS and ZERO are)",
                    idx, type);
    }
    v->n++;
    *total += e->len;
    return 0;
}

static int parse_line(struct parse *p, char *line, uint64_t *total)
{
    char *eq;

    line = skip_ws(line);
    if (!*line || *line == '#')
        return 0;
    if (!strncmp(line, "RW ", 3) || !strncmp(line, "RDONLY ", 7) ||
        !strncmp(line, "NOACCESS ", 9))
        return parse_extent(p, line, total);
    eq = strchr(line, '=');
    if (!eq)
        return FAIL(p, -EINVAL,
                    "descriptor line '%.40s' is neither an "
                    "extent nor key=value",
                    line);
    *eq = '\0';
    for (char *k = eq; k > line && (k[-1] == ' ' || k[-1] == '\t');)
        *--k = '\0';
    eq = skip_ws(eq + 1);
    if (*eq == '"') {
        char *end = strchr(++eq, '"');

        if (end)
            *end = '\0';
    }
    if (!strcmp(line, "createType"))
        snprintf(p->create_type, sizeof(p->create_type), "%s", eq);
    else if (!strcmp(line, "parentCID") && strcmp(eq, "ffffffff"))
        p->has_parent = true;
    return 0;
}

static int parse_descriptor(struct parse *p, char *text, size_t len)
{
    static const char *const flat[] = {"monolithicFlat", "twoGbMaxExtentFlat",
                                       "vmfs"};
    uint64_t total = 0;
    bool known = false;
    int rc;

    /* qemu pads a rewritten descriptor with NUL bytes: allowed at the end */
    for (size_t i = strnlen(text, len); i < len; i++)
        if (text[i])
            return FAIL(p, -EINVAL, "not a VMDK descriptor (binary data)");
    text[len] = '\0';
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line[strcspn(line, "\r")] = '\0';
        if ((rc = parse_line(p, line, &total)) < 0)
            return rc;
    }
    for (size_t i = 0; i < ARRAY_SIZE(flat); i++)
        known |= !strcmp(p->create_type, flat[i]);
    if (!p->create_type[0])
        return FAIL(p, -EINVAL, "no createType in the VMDK descriptor");
    if (!known)
        return FAIL(p, -ENOTSUP,
                    "VMDK createType \"%s\" not supported "
                    "(monolithicFlat, twoGbMaxExtentFlat and vmfs are)",
                    p->create_type);
    if (p->has_parent)
        return FAIL(p, -ENOTSUP,
                    "VMDK delta links (a parentCID) not "
                    "supported");
    if (p->v->n == 0)
        return FAIL(p, -EINVAL, "VMDK descriptor has no extents");
    p->v->d.size = total;
    return 0;
}

int vmdk_open(const char *path, const struct disk_opts *opts, struct disk **out,
              char *err, size_t errlen)
{
    struct parse p = {path, err, errlen, opts, NULL, "", false};
    struct disk_file f;
    uint64_t size = 0;
    char *text = NULL;
    size_t n;
    int rc;

    rc = disk_file_open(&f, path, true, false, err, errlen);
    if (rc < 0)
        return rc;
    rc = disk_file_size(&f, &size);
    n = (size_t)MIN(size, VMDK_MAX_DESC);
    if (rc == 0)
        rc = (text = malloc(n + 1)) ? disk_file_pread(&f, text, n, 0) : -ENOMEM;
    disk_file_close(&f);
    if (rc < 0) {
        free(text);
        return FAIL(&p, rc, "cannot read the VMDK descriptor");
    }
    if (n >= 4 && !memcmp(text, "KDMV", 4))
        rc = FAIL(&p, -ENOTSUP,
                  "sparse VMDK (hosted sparse extent, "
                  "monolithicSparse/streamOptimized) not supported");
    else if (n >= 4 && !memcmp(text, "COWD", 4))
        rc = FAIL(&p, -ENOTSUP, "ESX sparse VMDK (COWD) not supported");
    else if (size > VMDK_MAX_DESC)
        rc = FAIL(&p, -EINVAL, "VMDK descriptor larger than %u bytes",
                  VMDK_MAX_DESC);
    if (rc < 0)
        goto err_text;
    p.v = calloc(1, sizeof(*p.v));
    if (!p.v || !(p.v->e = calloc(VMDK_MAX_EXTENTS, sizeof(*p.v->e)))) {
        rc = FAIL(&p, -ENOMEM, "out of memory");
        goto err_vmdk;
    }
    rc = parse_descriptor(&p, text, n);
    if (rc < 0)
        goto err_vmdk;
    free(text);
    p.v->d.ops = &vmdk_ops;
    p.v->d.sync = opts->sync;
    p.v->d.read_only = opts->read_only;
    p.v->d.can_discard = !opts->read_only;
    *out = &p.v->d;
    return 0;

err_vmdk:
    if (p.v && p.v->e)
        vmdk_free(p.v);
    else
        free(p.v);
err_text:
    free(text);
    return rc;
}
