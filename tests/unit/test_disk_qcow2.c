/*
 * test_disk_qcow2.c: hostile qcow2 images.  A minimal valid v3 image is
 * built byte by byte (header, refcount table, one refcount block, L1), then
 * every header field is broken in turn: open must fail with the expected
 * errno and a message naming the field.  Broken table entries must fail
 * the request with -EIO and never write outside the image.  Also: backing
 * loops and depth, dirty / corrupt images read-only only, autoclear bits
 * cleared on a read-write open, unknown incompatible bits named.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/disk.h"
#include "t.h"

#define CS   65536u
#define NCL  4u /* header, refcount table, refcount block, L1 */
#define SIZE (1u << 20)

static char dir[] = "/tmp/test_disk_qcow2.XXXXXX";
static char path[256];
static uint8_t img[NCL * CS];

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void build(unsigned version)
{
    memset(img, 0, sizeof(img));
    put32(img, 0x514649fb);
    put32(img + 4, version);
    put32(img + 20, 16); /* cluster_bits */
    put64(img + 24, SIZE);
    put32(img + 36, 1);      /* l1_size */
    put64(img + 40, 3 * CS); /* l1_table_offset */
    put64(img + 48, 1 * CS); /* refcount_table_offset */
    put32(img + 56, 1);      /* refcount_table_clusters */
    if (version >= 3) {
        put32(img + 96, 4);    /* refcount_order */
        put32(img + 100, 104); /* header_length */
    }
    put64(img + CS, 2 * CS); /* refcount table -> block */
    for (unsigned c = 0; c < NCL; c++)
        img[2 * CS + c * 2 + 1] = 1; /* 16-bit refcounts of 1 */
}

static void save(const char *p, const uint8_t *b, size_t len)
{
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);

    if (fd < 0 || write(fd, b, len) != (ssize_t)len)
        abort();
    close(fd);
}

static int try_open(const char *p, bool ro, struct disk **d, char *err,
                    size_t errlen)
{
    struct disk_opts o = {
        .format = DISK_FMT_QCOW2, .sync = DISK_SYNC_NONE, .read_only = ro};

    *d = NULL;
    return disk_open(p, &o, d, err, errlen);
}

/* Open (img) as saved; expect (rc) and (msg) in the error. */
static void expect(const char *what, bool ro, int rc, const char *msg)
{
    struct disk *d;
    char err[512] = "";
    int got;

    save(path, img, sizeof(img));
    got = try_open(path, ro, &d, err, sizeof(err));
    if (!t_check(got == rc && (!msg || strstr(err, msg)), what, __FILE__,
                 __LINE__))
        t_diag("  got %d '%s', want %d '%s'", got, err, rc, msg ? msg : "");
    if (d)
        disk_close(d);
}

static void test_valid_images_open(void)
{
    struct disk *d;
    char err[256];
    uint8_t buf[4096];
    struct iovec v = {buf, sizeof(buf)};

    for (unsigned ver = 2; ver <= 3; ver++) {
        build(ver);
        save(path, img, sizeof(img));
        CHECK_EQ(try_open(path, false, &d, err, sizeof(err)), 0);
        if (!d)
            continue;
        CHECK_EQ(disk_size(d), SIZE);
        CHECK(disk_can_discard(d));
        memset(buf, 0xee, sizeof(buf));
        CHECK_EQ(disk_preadv(d, &v, 1, 8192), 0);
        CHECK(buf[0] == 0 && buf[4095] == 0);
        memset(buf, 0x42, sizeof(buf));
        CHECK_EQ(disk_pwritev(d, &v, 1, SIZE - 4096), 0);
        CHECK_EQ(disk_pwritev(d, &v, 1, SIZE - 2048), -EINVAL);
        CHECK_EQ(disk_flush(d), 0);
        disk_close(d);
        CHECK_EQ(try_open(path, true, &d, err, sizeof(err)), 0);
        memset(buf, 0, sizeof(buf));
        if (d) {
            CHECK_EQ(disk_preadv(d, &v, 1, SIZE - 4096), 0);
            CHECK(buf[0] == 0x42 && buf[4095] == 0x42);
            CHECK_EQ(disk_pwritev(d, &v, 1, 0), -EROFS);
            disk_close(d);
        }
    }
}

struct field_case {
    const char *what;
    unsigned off, width; /* width 4 or 8 (big-endian), 1 = a byte */
    uint64_t value;
    int rc;
    const char *msg;
};

static const struct field_case fields[] = {
    {"magic", 0, 4, 0x514649fa, -EINVAL, "not a qcow2 image"},
    {"version 1", 4, 4, 1, -ENOTSUP, "version 1"},
    {"version 4", 4, 4, 4, -ENOTSUP, "version 4"},
    {"cluster_bits 8", 20, 4, 8, -EINVAL, "cluster_bits 8"},
    {"cluster_bits 22", 20, 4, 22, -EINVAL, "cluster_bits 22"},
    {"cluster_bits 0xffffffff", 20, 4, 0xffffffff, -EINVAL, "cluster_bits"},
    {"size 2^63", 24, 8, 1ULL << 63, -EINVAL, "size"},
    {"size needing 2 L1 entries", 24, 8, (512ULL << 20) + 512, -EINVAL,
     "l1_size 1 too small"},
    {"crypt_method 1", 32, 4, 1, -ENOTSUP, "crypt_method 1"},
    {"l1_size huge", 36, 4, 0x10000000, -EINVAL, "l1_size 268435456 too large"},
    {"l1_table_offset unaligned", 40, 8, 3 * CS + 8, -EINVAL,
     "l1_table_offset"},
    {"l1_table_offset past the file", 40, 8, 64 * CS, -EINVAL,
     "l1_table_offset"},
    {"l1_table_offset in the header", 40, 8, 0, -EINVAL,
     "l1_table_offset 0 overlaps the header"},
    {"l1_table_offset on the refcount table", 40, 8, 1 * CS, -EINVAL,
     "overlaps refcount_table_offset"},
    {"refcount_table_offset unaligned", 48, 8, CS + 512, -EINVAL,
     "refcount_table_offset"},
    {"refcount_table_offset past the file", 48, 8, 1ULL << 40, -EINVAL,
     "refcount_table_offset"},
    {"refcount_table_offset in the header", 48, 8, 0, -EINVAL,
     "refcount_table_offset 0 overlaps the header"},
    {"refcount_table_clusters 0", 56, 4, 0, -EINVAL,
     "refcount_table_clusters 0"},
    {"refcount_table_clusters huge", 56, 4, 0xffffffff, -EINVAL,
     "refcount_table_clusters 4294967295"},
    {"nb_snapshots huge", 60, 4, 1u << 20, -EINVAL, "nb_snapshots"},
    {"snapshots_offset bad", 60, 4, 1, -EINVAL, "snapshots_offset"},
    {"incompatible bit 5", 72, 8, 1ULL << 5, -ENOTSUP,
     "incompatible feature bit 5"},
    {"incompatible bit 63", 72, 8, 1ULL << 63, -ENOTSUP,
     "incompatible feature bit 63"},
    {"external data file", 72, 8, 1ULL << 2, -ENOTSUP, "external data file"},
    {"extended L2", 72, 8, 1ULL << 4, -ENOTSUP, "extended L2"},
    {"compression bit, short header", 72, 8, 1ULL << 3, -EINVAL,
     "compression_type"},
    {"dirty, read-write", 72, 8, 1, -EINVAL, "dirty"},
    {"corrupt, read-write", 72, 8, 2, -EINVAL, "corrupt"},
    {"refcount_order 7", 96, 4, 7, -EINVAL, "refcount_order 7"},
    {"header_length 72 in v3", 100, 4, 72, -EINVAL, "header_length 72"},
    {"header_length 0", 100, 4, 0, -EINVAL, "header_length 0"},
    {"header_length past the cluster", 100, 4, CS + 8, -EINVAL,
     "header_length 65544"},
    {"backing_file_offset past the cluster", 8, 8, CS + 16, -EINVAL,
     "backing_file_offset"},
    {"backing_file_offset inside the header", 8, 8, 16, -EINVAL,
     "backing_file_offset"},
};

static void test_header_fields(void)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const struct field_case *f = &fields[i];

        build(3);
        if (f->off == 8) /* a backing name needs a size too */
            put32(img + 16, 10);
        if (f->off == 60)
            put64(img + 64, 7); /* unaligned snapshots_offset */
        if (f->width == 4)
            put32(img + f->off, (uint32_t)f->value);
        else
            put64(img + f->off, f->value);
        expect(f->what, false, f->rc, f->msg);
    }
    /* dirty / corrupt images still open read-only */
    build(3);
    put64(img + 72, 3);
    expect("dirty+corrupt, read-only", true, 0, NULL);
    /* snapshots: read-only yes, read-write no */
    build(3);
    put32(img + 60, 1);
    put64(img + 64, 3 * CS);
    expect("snapshots, read-write", false, -ENOTSUP, "nb_snapshots 1");
    expect("snapshots, read-only", true, 0, NULL);
    /* zstd */
    build(3);
    put32(img + 100, 112);
    put64(img + 72, 1ULL << 3);
    img[104] = 1;
    expect("zstd", true, -ENOTSUP, "zstd");
    img[104] = 2;
    expect("compression_type 2", true, -EINVAL, "compression_type 2");
    img[104] = 0;
    expect("zlib by compression_type 0", true, 0, NULL);
    put64(img + 72, 0);
    img[104] = 1;
    expect("compression_type without its bit", true, -EINVAL,
           "without its incompatible bit");
    /* v2: refcount_order and header_length are implied */
    build(2);
    put32(img + 96, 99);
    put32(img + 100, 1);
    expect("v2 ignores the v3 fields", false, 0, NULL);
    /* a file too short for any header */
    save(path, img, 40);
    {
        struct disk *d;
        char err[256];

        CHECK_EQ(try_open(path, true, &d, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "not a qcow2 image") != NULL);
    }
}

static void test_extensions(void)
{
    /* feature name table: the unknown bit is named */
    build(3);
    put64(img + 72, 1ULL << 9);
    put32(img + 104, 0x6803f857);
    put32(img + 108, 48);
    img[112] = 0;
    img[113] = 9;
    memcpy(img + 114, "teleportation", 13);
    expect("unknown bit named from the table", true, -ENOTSUP,
           "bit 9 (teleportation)");
    /* an extension running past the header cluster */
    build(3);
    put32(img + 104, 0x12345678);
    put32(img + 108, CS);
    expect("extension length past the cluster", true, -EINVAL,
           "header extension 0x12345678");
    /* backing format other than raw / qcow2 */
    build(3);
    put32(img + 104, 0xe2792aca);
    put32(img + 108, 4);
    memcpy(img + 112, "vmdk", 4);
    put64(img + 8, 128);
    put32(img + 16, 4);
    memcpy(img + 128, "base", 4);
    expect("backing format vmdk", true, -ENOTSUP, "backing file format 'vmdk'");
}

static void test_autoclear_cleared(void)
{
    struct disk *d;
    char err[256];
    uint8_t h[8];
    int fd;

    build(3);
    put64(img + 88, 3);
    save(path, img, sizeof(img));
    CHECK_EQ(try_open(path, true, &d, err, sizeof(err)), 0);
    disk_close(d);
    fd = open(path, O_RDONLY);
    CHECK(pread(fd, h, 8, 88) == 8 && h[7] == 3); /* read-only: untouched */
    close(fd);
    CHECK_EQ(try_open(path, false, &d, err, sizeof(err)), 0);
    disk_close(d);
    fd = open(path, O_RDONLY);
    CHECK(pread(fd, h, 8, 88) == 8 && h[7] == 0);
    close(fd);
}

static void backing_named(const char *file, const char *name)
{
    char p[300];

    build(3);
    put64(img + 8, 512);
    put32(img + 16, (uint32_t)strlen(name));
    memcpy(img + 512, name, strlen(name));
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    save(p, img, sizeof(img));
}

static void test_backing_chain(void)
{
    struct disk *d;
    char err[512], p[300];
    int rc;

    /* a loop a -> b -> a */
    backing_named("a.qcow2", "b.qcow2");
    backing_named("b.qcow2", "a.qcow2");
    snprintf(p, sizeof(p), "%s/a.qcow2", dir);
    rc = try_open(p, true, &d, err, sizeof(err));
    CHECK_EQ(rc, -EINVAL);
    CHECK(strstr(err, "loop") != NULL);
    /* itself */
    backing_named("self.qcow2", "self.qcow2");
    snprintf(p, sizeof(p), "%s/self.qcow2", dir);
    CHECK_EQ(try_open(p, true, &d, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "loop") != NULL);
    /* 20 deep: l0 -> l1 -> ... -> l19 (raw) */
    for (int i = 0; i < 20; i++) {
        char f[32], n[32];

        snprintf(f, sizeof(f), "l%d.qcow2", i);
        snprintf(n, sizeof(n), "l%d.qcow2", i + 1);
        backing_named(f, n);
    }
    snprintf(p, sizeof(p), "%s/l20.qcow2", dir);
    memset(img, 0, 4096);
    save(p, img, 4096); /* the end: a raw file */
    snprintf(p, sizeof(p), "%s/l0.qcow2", dir);
    CHECK_EQ(try_open(p, true, &d, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "deeper than 16") != NULL);
    snprintf(p, sizeof(p), "%s/l5.qcow2", dir);
    CHECK_EQ(try_open(p, true, &d, err, sizeof(err)), 0);
    disk_close(d);
    /* a missing backing file is named */
    backing_named("m.qcow2", "missing.img");
    snprintf(p, sizeof(p), "%s/m.qcow2", dir);
    CHECK_EQ(try_open(p, true, &d, err, sizeof(err)), -ENOENT);
    CHECK(strstr(err, "missing.img") != NULL);
    /* a NUL inside the name */
    backing_named("nul.qcow2", "ab");
    img[513] = 0;
    put32(img + 16, 3);
    save(p, img, sizeof(img));
    CHECK_EQ(try_open(p, true, &d, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "NUL") != NULL);
}

/* Open the current (img) read-write; run a read and a write at 0. */
static void entry_case(const char *what, int want_read, int want_write)
{
    struct disk *d;
    char err[256];
    uint8_t buf[4096];
    struct iovec v = {buf, sizeof(buf)};
    struct stat st;
    int r, w;

    memset(buf, 0x99, sizeof(buf));
    save(path, img, sizeof(img));
    if (try_open(path, false, &d, err, sizeof(err)) < 0) {
        t_check(false, what, __FILE__, __LINE__);
        t_diag("  open: %s", err);
        return;
    }
    r = disk_preadv(d, &v, 1, 0);
    w = disk_pwritev(d, &v, 1, 0);
    disk_close(d);
    if (!t_check(r == want_read && w == want_write, what, __FILE__, __LINE__))
        t_diag("  read %d write %d, want %d %d", r, w, want_read, want_write);
    /* nothing was written past the end of the image or into its header */
    stat(path, &st);
    CHECK((uint64_t)st.st_size <= 8 * CS);
}

static void test_table_entries(void)
{
    build(3);
    put64(img + 3 * CS, 5 * CS | (1ULL << 63));
    entry_case("L1 entry past the end of the file", -EIO, -EIO);
    build(3);
    put64(img + 3 * CS, (3 * CS + 512) | (1ULL << 63));
    entry_case("L1 entry not cluster aligned", -EIO, -EIO);
    build(3);
    put64(img + 3 * CS, (1ULL << 63) | 1);
    entry_case("L1 entry with reserved bits", -EIO, -EIO);
    build(3);
    put64(img + 3 * CS, 0 | (1ULL << 63) | 0); /* offset 0: unallocated */
    entry_case("L1 entry COPIED with offset 0 (unallocated)", 0, 0);
    /* L2 table in the refcount block cluster: L2 entries are refcounts */
    build(3);
    put64(img + 3 * CS, 1 * CS | (1ULL << 63));
    entry_case("L2 table on the refcount table", -EIO, -EIO);
    /* a real L2 table in a 5th cluster */
    build(3);
    put64(img + 3 * CS, 2 * CS | (1ULL << 63));
    /* the refblock as L2: entry 0 = 0x0001000100010001: reserved bits */
    entry_case("refblock read as an L2 table", -EIO, -EIO);
}

/* Images with one L2 table (cluster 4) and hostile L2 entries. */
static void test_l2_entries(void)
{
    static uint8_t big[6 * CS];
    struct {
        const char *what;
        uint64_t e;
        int r, w;
    } c[] = {
        {"L2 entry in the header cluster", 0 | (1ULL << 63) | 0x200, -EIO,
         -EIO},
        {"L2 entry on the L1 table", 3 * CS | (1ULL << 63), -EIO, -EIO},
        {"L2 entry not aligned", (5 * CS + 4096) | (1ULL << 63), -EIO, -EIO},
        {"L2 entry reserved bits", 5 * CS | (1ULL << 63) | 0x10, -EIO, -EIO},
        {"L2 entry past the end of the file", 50 * CS | (1ULL << 63), -EIO,
         -EIO},
        {"zero entry with an offset past the end", 50 * CS | 1, -EIO, -EIO},
        {"compressed entry with garbage data",
         (1ULL << 62) | 5 * CS | (3ULL << 54), -EIO, -EIO},
        {"compressed entry in the header", (1ULL << 62) | 100, -EIO, -EIO},
        {"zero cluster", 1, 0, 0},
        {"valid data cluster", 5 * CS | (1ULL << 63), 0, 0},
    };

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct disk *d;
        char err[256];
        uint8_t buf[4096];
        struct iovec v = {buf, sizeof(buf)};
        int r, w;

        build(3);
        memset(big, 0, sizeof(big));
        memcpy(big, img, sizeof(img));
        put64(big + 3 * CS, 4 * CS | (1ULL << 63));
        for (unsigned k = 4; k < 6; k++)
            big[2 * CS + k * 2 + 1] = 1;
        put64(big + 4 * CS, c[i].e);
        memset(big + 5 * CS, 0x5a, CS);
        save(path, big, sizeof(big));
        CHECK_EQ(try_open(path, false, &d, err, sizeof(err)), 0);
        if (!d)
            continue;
        r = disk_preadv(d, &v, 1, 0);
        w = disk_pwritev(d, &v, 1, 0);
        disk_close(d);
        if (!t_check(r == c[i].r && w == c[i].w, c[i].what, __FILE__, __LINE__))
            t_diag("  read %d write %d, want %d %d", r, w, c[i].r, c[i].w);
    }
}

/* Refcount table entries that are broken: allocation fails with -EIO. */
static void test_refcount_entries(void)
{
    uint64_t bad[] = {0 + 512, 1 * CS, 3 * CS, 9 * CS, 2 * CS + 8};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        build(3);
        put64(img + CS, bad[i]);
        entry_case("broken refcount table entry: read ok, write -EIO", 0, -EIO);
    }
    /* refcount underflow: the refblock claims cluster 4 (an L2 table) is
     * free with refcount 0; discarding data that points into it */
    {
        static uint8_t big[6 * CS];
        struct disk *d;
        char err[256];

        build(3);
        memcpy(big, img, sizeof(img));
        put64(big + 3 * CS, 4 * CS | (1ULL << 63));
        put64(big + 4 * CS, 5 * CS | (1ULL << 63)); /* refcount 0 */
        save(path, big, sizeof(big));
        CHECK_EQ(try_open(path, false, &d, err, sizeof(err)), 0);
        if (d) {
            CHECK_EQ(disk_discard(d, 0, CS), 0);
            CHECK_EQ(disk_flush(d), -EIO); /* the decrement below 0 */
            disk_close(d);
        }
    }
}

int main(void)
{
    if (!mkdtemp(dir))
        t_skip_all("mkdtemp");
    snprintf(path, sizeof(path), "%s/t.qcow2", dir);
    RUN(test_valid_images_open);
    RUN(test_header_fields);
    RUN(test_extensions);
    RUN(test_autoclear_cleared);
    RUN(test_backing_chain);
    RUN(test_table_entries);
    RUN(test_l2_entries);
    RUN(test_refcount_entries);
    {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            t_diag("cleanup of %s failed", dir);
    }
    return t_done();
}
