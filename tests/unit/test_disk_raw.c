/*
 * test_disk_raw.c: the disk library's dispatcher and raw backend on real
 * files: range and read-only checks, sizes, discard / write-zeroes reaching
 * the file (holes), O_DIRECT with aligned and unaligned buffers, concurrent
 * unaligned O_DIRECT writes, open errors naming the path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/disk.h"
#include "t.h"

static char dir[] = "/tmp/test_disk_raw.XXXXXX";
static char path[256];

static void make_file(const char *p, size_t size, uint8_t fill)
{
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    uint8_t *buf = malloc(size ? size : 1);

    memset(buf, fill, size);
    if (fd < 0 || write(fd, buf, size) != (ssize_t)size)
        abort();
    close(fd);
    free(buf);
}

static void read_file(const char *p, void *buf, size_t len, off_t off)
{
    int fd = open(p, O_RDONLY);

    if (fd < 0 || pread(fd, buf, len, off) != (ssize_t)len)
        abort();
    close(fd);
}

static struct disk *open_raw(const char *p, bool ro, bool direct)
{
    struct disk_opts o = {.format = DISK_FMT_RAW,
                          .sync = DISK_SYNC_FULL,
                          .read_only = ro,
                          .direct_io = direct};
    struct disk *d = NULL;
    char err[256];
    int rc = disk_open(p, &o, &d, err, sizeof(err));

    if (rc < 0)
        t_diag("open %s: %d %s", p, rc, err);
    return d;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static long long blocks_of(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 ? (long long)st.st_blocks : -1;
}

static void test_size_and_tail(void)
{
    struct disk *d;

    make_file(path, 1024 * 1024 + 100, 0xaa);
    d = open_raw(path, false, false);
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_EQ(disk_size(d), 1024 * 1024); /* the 100-byte tail is hidden */
    CHECK(!disk_read_only(d));
    CHECK(disk_can_discard(d));
    disk_close(d);
}

static void test_read_write_iov(void)
{
    uint8_t a[1000], b[24], c[4096], back[1024];
    struct iovec w[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
    struct iovec r[1] = {{c, 1024}};
    struct disk *d;

    make_file(path, 64 * 1024, 0);
    d = open_raw(path, false, false);
    if (!CHECK(d != NULL))
        return;
    memset(a, 0x11, sizeof(a));
    memset(b, 0x22, sizeof(b));
    CHECK_EQ(disk_pwritev(d, w, 2, 3 * 512), 0);
    CHECK_EQ(disk_flush(d), 0);
    read_file(path, back, sizeof(back), 3 * 512);
    CHECK(all_bytes(back, 1000, 0x11) && all_bytes(back + 1000, 24, 0x22));
    memset(c, 0, sizeof(c));
    CHECK_EQ(disk_preadv(d, r, 1, 3 * 512), 0);
    CHECK(memcmp(c, back, 1024) == 0);
    /* a request reaching past the end: -EINVAL, nothing done */
    r[0].iov_len = 1024;
    CHECK_EQ(disk_preadv(d, r, 1, 64 * 1024 - 512), -EINVAL);
    CHECK_EQ(disk_pwritev(d, w, 2, 64 * 1024 - 512), -EINVAL);
    CHECK_EQ(disk_pwritev(d, w, 2, UINT64_MAX - 100), -EINVAL);
    CHECK_EQ(disk_discard(d, 64 * 1024, 512), -EINVAL);
    CHECK_EQ(disk_write_zeroes(d, UINT64_MAX - 511, 1024, false), -EINVAL);
    CHECK_EQ(disk_preadv(d, r, -1, 0), -EINVAL);
    /* exactly up to the end is fine */
    CHECK_EQ(disk_preadv(d, r, 1, 63 * 1024), 0);
    disk_close(d);
}

static void test_short_file_reads_zeroes(void)
{
    uint8_t buf[4096];
    struct iovec v = {buf, sizeof(buf)};
    struct disk *d;

    make_file(path, 8192, 0x5a);
    d = open_raw(path, false, false);
    if (!CHECK(d != NULL))
        return;
    /* the file shrinks under us: the part past its end reads zeroes */
    CHECK_EQ(truncate(path, 4096 + 1000), 0);
    memset(buf, 0xff, sizeof(buf));
    CHECK_EQ(disk_preadv(d, &v, 1, 4096), 0);
    CHECK(all_bytes(buf, 1000, 0x5a) && all_bytes(buf + 1000, 3096, 0));
    disk_close(d);
}

static void test_read_only(void)
{
    uint8_t buf[512] = {0};
    struct iovec v = {buf, sizeof(buf)};
    char fdpath[300], link[300], info[600];
    struct disk *d;
    DIR *dp;
    struct dirent *e;
    int flags = -1;

    make_file(path, 4096, 0x33);
    d = open_raw(path, true, false);
    if (!CHECK(d != NULL))
        return;
    CHECK(disk_read_only(d));
    CHECK(!disk_can_discard(d));
    CHECK_EQ(disk_pwritev(d, &v, 1, 0), -EROFS);
    CHECK_EQ(disk_discard(d, 0, 512), -EROFS);
    CHECK_EQ(disk_write_zeroes(d, 0, 512, true), -EROFS);
    CHECK_EQ(disk_flush(d), 0);
    CHECK_EQ(disk_preadv(d, &v, 1, 512), 0);
    CHECK(all_bytes(buf, 512, 0x33));
    /* the descriptor really is O_RDONLY: find it in /proc/self/fd */
    dp = opendir("/proc/self/fd");
    while (dp && (e = readdir(dp))) {
        ssize_t n;
        FILE *f;

        snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%s", e->d_name);
        n = readlink(fdpath, link, sizeof(link) - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (strcmp(link, path) != 0)
            continue;
        snprintf(fdpath, sizeof(fdpath), "/proc/self/fdinfo/%s", e->d_name);
        f = fopen(fdpath, "r");
        while (f && fgets(info, sizeof(info), f))
            if (sscanf(info, "flags: %o", (unsigned *)&flags) == 1)
                break;
        if (f)
            fclose(f);
    }
    if (dp)
        closedir(dp);
    CHECK_EQ(flags & O_ACCMODE, O_RDONLY);
    disk_close(d);
}

static void test_discard_and_zeroes(void)
{
    size_t size = 4 << 20;
    uint8_t *buf = malloc(1 << 20);
    struct iovec v = {buf, 1 << 20};
    long long before, after;
    struct disk *d;

    make_file(path, size, 0x77);
    d = open_raw(path, false, false);
    if (!CHECK(d != NULL))
        goto out;
    before = blocks_of(path);
    /* discard punches: the blocks go away, the size stays */
    CHECK_EQ(disk_discard(d, 0, 1 << 20), 0);
    after = blocks_of(path);
    CHECK(after <= before - (1 << 20) / 512);
    CHECK_EQ(disk_size(d), size);
    CHECK_EQ(disk_preadv(d, &v, 1, 0), 0);
    CHECK(all_bytes(buf, 1 << 20, 0));
    /* write-zeroes with unmap punches too */
    before = blocks_of(path);
    CHECK_EQ(disk_write_zeroes(d, 1 << 20, 1 << 20, true), 0);
    CHECK(blocks_of(path) <= before - (1 << 20) / 512);
    CHECK_EQ(disk_preadv(d, &v, 1, 1 << 20), 0);
    CHECK(all_bytes(buf, 1 << 20, 0));
    /* without unmap: zeroes, at a sub-block offset, neighbours intact */
    CHECK_EQ(disk_write_zeroes(d, (2 << 20) + 512, 1536, false), 0);
    CHECK_EQ(disk_preadv(d, &v, 1, 2 << 20), 0);
    CHECK(all_bytes(buf, 512, 0x77));
    CHECK(all_bytes(buf + 512, 1536, 0));
    CHECK(all_bytes(buf + 2048, (1 << 20) - 2048, 0x77));
    disk_close(d);
out:
    free(buf);
}

static void test_bad_opts_and_paths(void)
{
    struct disk_opts o = {.format = 7, .sync = DISK_SYNC_FULL};
    struct disk *d = NULL;
    char err[256];
    char missing[300];

    make_file(path, 4096, 0);
    CHECK_EQ(disk_open(path, &o, &d, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "unknown disk format 7") != NULL);
    CHECK(strstr(err, path) != NULL);
    o.format = DISK_FMT_RAW;
    o.sync = 3;
    CHECK_EQ(disk_open(path, &o, &d, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "sync mode 3") != NULL);
    o.sync = DISK_SYNC_NONE;
    snprintf(missing, sizeof(missing), "%s/nope.img", dir);
    CHECK_EQ(disk_open(missing, &o, &d, err, sizeof(err)), -ENOENT);
    CHECK(strstr(err, missing) != NULL);
    CHECK_EQ(disk_open(dir, &o, &d, err, sizeof(err)), -EISDIR);
    CHECK(d == NULL);
}

/* O_DIRECT: aligned buffers go straight through; unaligned ones bounce. */
static void test_direct(void)
{
    uint8_t *al = aligned_alloc(4096, 4 << 20);
    uint8_t *back = malloc(8192);
    struct iovec v;
    struct disk *d;

    make_file(path, 8 << 20, 0x10);
    d = open_raw(path, false, true);
    if (!d) {
        t_diag("O_DIRECT not supported on /tmp; skipped");
        goto out;
    }
    /* aligned */
    memset(al, 0x21, 8192);
    v = (struct iovec){al, 8192};
    CHECK_EQ(disk_pwritev(d, &v, 1, 4096), 0);
    read_file(path, back, 8192, 4096);
    CHECK(all_bytes(back, 8192, 0x21));
    /* unaligned memory, 512-byte sector in the middle of a 4 KiB block */
    memset(al, 0x31, 600);
    v = (struct iovec){al + 1, 512};
    CHECK_EQ(disk_pwritev(d, &v, 1, 5 * 512), 0);
    read_file(path, back, 4096, 0);
    CHECK(all_bytes(back, 5 * 512, 0x10));
    CHECK(all_bytes(back + 5 * 512, 512, 0x31));
    CHECK(all_bytes(back + 6 * 512, 1024, 0x10));
    v = (struct iovec){al + 3, 1024};
    memset(al, 0, 1100);
    CHECK_EQ(disk_preadv(d, &v, 1, 4 * 512), 0);
    CHECK(all_bytes(al + 3, 512, 0x10) && all_bytes(al + 515, 512, 0x31));
    /* larger than the bounce buffer, unaligned start and end */
    memset(al, 0x41, 3 << 20);
    v = (struct iovec){al + 8, (3 << 20) - 1024};
    CHECK_EQ(disk_pwritev(d, &v, 1, (1 << 20) + 512), 0);
    memset(al, 0, 3 << 20);
    v = (struct iovec){al + 8, 3 << 20};
    CHECK_EQ(disk_preadv(d, &v, 1, 1 << 20), 0);
    CHECK(all_bytes(al + 8, 512, 0x10));
    CHECK(all_bytes(al + 8 + 512, (3 << 20) - 1024, 0x41));
    CHECK(all_bytes(al + 8 + (3 << 20) - 512, 512, 0x10));
    CHECK_EQ(disk_write_zeroes(d, 512, 512, false), 0);
    read_file(path, back, 1024, 0);
    CHECK(all_bytes(back, 512, 0x10) && all_bytes(back + 512, 512, 0));
    disk_close(d);
out:
    free(al);
    free(back);
}

struct writer {
    struct disk *d;
    int idx;
    int rc;
};

/* Each thread writes its own 512-byte sectors of shared 4 KiB blocks. */
static void *writer_main(void *arg)
{
    struct writer *w = arg;
    uint8_t buf[513];
    struct iovec v = {buf + 1, 512};

    memset(buf, 0x60 + w->idx, sizeof(buf));
    for (int i = 0; i < 64 && w->rc == 0; i++)
        w->rc = disk_pwritev(w->d, &v, 1, (uint64_t)i * 4096 + w->idx * 512);
    return NULL;
}

static void test_direct_concurrent_rmw(void)
{
    struct writer w[8];
    pthread_t th[8];
    uint8_t *back = malloc(64 * 4096);
    struct disk *d;
    bool ok = true;

    make_file(path, 64 * 4096, 0);
    d = open_raw(path, false, true);
    if (!d)
        goto out;
    for (int i = 0; i < 8; i++) {
        w[i] = (struct writer){d, i, 0};
        pthread_create(&th[i], NULL, writer_main, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(w[i].rc, 0);
    }
    read_file(path, back, 64 * 4096, 0);
    for (int i = 0; i < 64 * 8; i++)
        ok &= all_bytes(back + i * 512, 512, 0x60 + i % 8);
    CHECK(ok); /* no read-modify-write undid another thread's sector */
    disk_close(d);
out:
    free(back);
}

int main(void)
{
    if (!mkdtemp(dir))
        t_skip_all("mkdtemp: %s", strerror(errno));
    snprintf(path, sizeof(path), "%s/disk.img", dir);
    RUN(test_size_and_tail);
    RUN(test_read_write_iov);
    RUN(test_short_file_reads_zeroes);
    RUN(test_read_only);
    RUN(test_discard_and_zeroes);
    RUN(test_bad_opts_and_paths);
    RUN(test_direct);
    RUN(test_direct_concurrent_rmw);
    unlink(path);
    rmdir(dir);
    return t_done();
}
