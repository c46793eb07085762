/*
 * test_disk_vmdk.c: VMDK descriptors with FLAT / ZERO extents: layout,
 * per-extent access (RW, RDONLY, NOACCESS), requests spanning extents,
 * relative extent names, and hostile or unsupported descriptors (sparse,
 * delta links, bad sizes, short files, binary, too large, too many
 * extents) with the errno and a message naming the problem.
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

static char dir[] = "/tmp/test_disk_vmdk.XXXXXX";
static char desc[300];

static void write_file(const char *name, const void *buf, size_t len)
{
    char p[400];
    int fd;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
        abort();
    close(fd);
}

static void flat_file(const char *name, size_t len, uint8_t fill)
{
    uint8_t *b = malloc(len);

    memset(b, fill, len);
    write_file(name, b, len);
    free(b);
}

static int open_desc(const char *text, bool ro, struct disk **d, char *err)
{
    struct disk_opts o = {
        .format = DISK_FMT_VMDK, .sync = DISK_SYNC_FULL, .read_only = ro};

    write_file("d.vmdk", text, strlen(text));
    *d = NULL;
    return disk_open(desc, &o, d, err, 512);
}

static bool all(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static void test_extents(void)
{
    static const char text[] = "# Disk DescriptorFile\r\n"
                               "version=1\n"
                               "CID=12345678\n"
                               "parentCID=ffffffff\n"
                               "createType=\"twoGbMaxExtentFlat\"\n"
                               "\n"
                               "# Extent description\n"
                               "RW 8 FLAT \"a-flat.vmdk\" 2\n"
                               "RW 4 ZERO\n"
                               "  RDONLY 4 FLAT \"b-flat.vmdk\" 0\n"
                               "NOACCESS 2 FLAT \"b-flat.vmdk\" 4\n"
                               "RW 4 VMFS \"b-flat.vmdk\" 6\n"
                               "\n"
                               "ddb.adapterType = \"ide\"\n";
    uint8_t buf[22 * 512], back[512];
    struct iovec v = {buf, 8 * 512};
    struct disk *d;
    char err[512];
    int fd;

    flat_file("a-flat.vmdk", 10 * 512, 0xa0);
    flat_file("b-flat.vmdk", 10 * 512, 0xb0);
    if (!CHECK_EQ(open_desc(text, false, &d, err), 0)) {
        t_diag("  %s", err);
        return;
    }
    CHECK_EQ(disk_size(d), 22 * 512);
    CHECK(disk_can_discard(d));
    /* extent 0 is sectors 2..9 of a-flat */
    memset(buf, 0x11, sizeof(buf));
    CHECK_EQ(disk_pwritev(d, &v, 1, 0), 0);
    {
        char p[400];

        snprintf(p, sizeof(p), "%s/a-flat.vmdk", dir);
        fd = open(p, O_RDONLY);
        CHECK(pread(fd, back, 512, 512) == 512 && all(back, 512, 0xa0));
        CHECK(pread(fd, back, 512, 2 * 512) == 512 && all(back, 512, 0x11));
        CHECK(pread(fd, back, 512, 9 * 512) == 512 && all(back, 512, 0x11));
        close(fd);
    }
    /* reads across all extents except NOACCESS */
    v = (struct iovec){buf, 16 * 512};
    memset(buf, 0xff, sizeof(buf));
    CHECK_EQ(disk_preadv(d, &v, 1, 0), 0);
    CHECK(all(buf, 8 * 512, 0x11));
    CHECK(all(buf + 8 * 512, 4 * 512, 0));     /* ZERO */
    CHECK(all(buf + 12 * 512, 4 * 512, 0xb0)); /* RDONLY */
    v = (struct iovec){buf, 512};
    CHECK_EQ(disk_preadv(d, &v, 1, 16 * 512), -EIO); /* NOACCESS */
    CHECK_EQ(disk_preadv(d, &v, 1, 18 * 512), 0);    /* VMFS = flat */
    CHECK(all(buf, 512, 0xb0));
    /* writes: ZERO -> -EIO, RDONLY -> -EROFS, spanning into ZERO fails */
    CHECK_EQ(disk_pwritev(d, &v, 1, 8 * 512), -EIO);
    CHECK_EQ(disk_pwritev(d, &v, 1, 12 * 512), -EROFS);
    CHECK_EQ(disk_write_zeroes(d, 8 * 512, 4 * 512, true), 0);
    CHECK_EQ(disk_write_zeroes(d, 12 * 512, 512, false), -EROFS);
    CHECK_EQ(disk_write_zeroes(d, 512, 1024, false), 0);
    v = (struct iovec){buf, 3 * 512};
    CHECK_EQ(disk_preadv(d, &v, 1, 0), 0);
    CHECK(all(buf, 512, 0x11) && all(buf + 512, 1024, 0));
    CHECK_EQ(disk_discard(d, 0, 512), 0);
    CHECK_EQ(disk_flush(d), 0);
    CHECK_EQ(disk_pwritev(d, &v, 1, 21 * 512), -EINVAL); /* past the end */
    disk_close(d);
    /* read-only disk */
    CHECK_EQ(open_desc(text, true, &d, err), 0);
    if (d) {
        CHECK_EQ(disk_pwritev(d, &v, 1, 0), -EROFS);
        disk_close(d);
    }
}

static void test_bad_descriptors(void)
{
    static const struct {
        const char *what, *text;
        int rc;
        const char *msg;
    } c[] = {
        {"sparse magic", "KDMV\x01", -ENOTSUP, "sparse VMDK"},
        {"COWD magic", "COWD", -ENOTSUP, "COWD"},
        {"monolithicSparse", "createType=\"monolithicSparse\"\nRW 8 ZERO\n",
         -ENOTSUP, "createType \"monolithicSparse\""},
        {"streamOptimized", "createType=\"streamOptimized\"\n", -ENOTSUP,
         "streamOptimized"},
        {"SPARSE extent",
         "createType=\"monolithicFlat\"\nRW 8 SPARSE \"a-flat.vmdk\"\n",
         -ENOTSUP, "SPARSE extents"},
        {"delta link",
         "createType=\"monolithicFlat\"\nparentCID=1234\nRW 8 ZERO\n", -ENOTSUP,
         "parentCID"},
        {"no createType", "RW 8 ZERO\n", -EINVAL, "no createType"},
        {"no extents", "createType=\"monolithicFlat\"\n", -EINVAL,
         "no extents"},
        {"size 0", "createType=\"monolithicFlat\"\nRW 0 ZERO\n", -EINVAL,
         "bad size '0'"},
        {"size not a number", "createType=\"monolithicFlat\"\nRW 8x ZERO\n",
         -EINVAL, "bad size '8x'"},
        {"size overflow",
         "createType=\"monolithicFlat\"\nRW 18014398509481983 ZERO\n"
         "RW 18014398509481983 ZERO\n",
         -EINVAL, "extent 1: bad size"},
        {"flat without a name", "createType=\"monolithicFlat\"\nRW 8 FLAT\n",
         -EINVAL, "without a file name"},
        {"flat file too short",
         "createType=\"monolithicFlat\"\nRW 11 FLAT \"a-flat.vmdk\" 0\n",
         -EINVAL, "shorter than the extent"},
        {"offset past the file",
         "createType=\"monolithicFlat\"\nRW 1 FLAT \"a-flat.vmdk\" 10\n",
         -EINVAL, "shorter than the extent"},
        {"offset overflow",
         "createType=\"monolithicFlat\"\n"
         "RW 1 FLAT \"a-flat.vmdk\" 36028797018963968\n",
         -EINVAL, "bad offset"},
        {"missing flat file",
         "createType=\"monolithicFlat\"\nRW 1 FLAT \"nope-flat.vmdk\" 0\n",
         -ENOENT, "nope-flat.vmdk"},
        {"unterminated quote",
         "createType=\"monolithicFlat\"\nRW 1 FLAT \"a-flat.vmdk 0\n", -EINVAL,
         "without a file name"},
        {"garbage line", "createType=\"monolithicFlat\"\nhello\n", -EINVAL,
         "neither an extent"},
        {"unknown type", "createType=\"monolithicFlat\"\nRW 1 TELEPORT\n",
         -ENOTSUP, "TELEPORT extents"},
    };
    struct disk *d;
    char err[512];

    flat_file("a-flat.vmdk", 10 * 512, 0xa0);
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        int rc = open_desc(c[i].text, false, &d, err);

        if (!t_check(rc == c[i].rc && strstr(err, c[i].msg) && !d, c[i].what,
                     __FILE__, __LINE__))
            t_diag("  got %d '%s'", rc, err);
        if (d)
            disk_close(d);
    }
}

static void test_limits(void)
{
    size_t big = (64 << 10) + 1, len = 0;
    char *t = malloc(1100 * 16 + 64);
    struct disk *d;
    char err[512];
    char *b = malloc(big + 1);

    memset(b, '#', big);
    b[big] = '\0';
    CHECK_EQ(open_desc(b, true, &d, err), -EINVAL);
    CHECK(strstr(err, "larger than 65536") != NULL);
    b[10] = '\0';
    write_file("d.vmdk", b, 20); /* a NUL byte inside the text */
    {
        struct disk_opts o = {.format = DISK_FMT_VMDK, .read_only = true};

        CHECK_EQ(disk_open(desc, &o, &d, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "binary") != NULL);
    }
    /* NUL padding at the end (as qemu writes it) is fine */
    memcpy(b, "createType=vmfs\nRW 4 ZERO\n", 26);
    memset(b + 26, 0, 100);
    write_file("d.vmdk", b, 126);
    {
        struct disk_opts o = {.format = DISK_FMT_VMDK, .read_only = true};

        CHECK_EQ(disk_open(desc, &o, &d, err, sizeof(err)), 0);
        if (d) {
            CHECK_EQ(disk_size(d), 2048);
            disk_close(d);
        }
    }
    len = (size_t)sprintf(t, "createType=\"vmfs\"\n");
    for (int i = 0; i < 1025; i++)
        len += (size_t)sprintf(t + len, "RW 1 ZERO\n");
    CHECK_EQ(open_desc(t, true, &d, err), -EINVAL);
    CHECK(strstr(err, "more than 1024 extents") != NULL);
    len = (size_t)sprintf(t, "createType=\"vmfs\"\n");
    for (int i = 0; i < 1024; i++)
        len += (size_t)sprintf(t + len, "RW 1 ZERO\n");
    CHECK_EQ(open_desc(t, true, &d, err), 0);
    if (d) {
        CHECK_EQ(disk_size(d), 1024 * 512);
        disk_close(d);
    }
    free(t);
    free(b);
}

int main(void)
{
    if (!mkdtemp(dir))
        t_skip_all("mkdtemp");
    snprintf(desc, sizeof(desc), "%s/d.vmdk", dir);
    RUN(test_extents);
    RUN(test_bad_descriptors);
    RUN(test_limits);
    {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            t_diag("cleanup failed");
    }
    return t_done();
}
