/*
 * disktool.c: drive the disk library from shell tests (the tests/disk scripts),
 * with qemu-img as the oracle.
 *
 *   disktool read FMT IMG OUT [CHUNK]   whole disk -> raw file OUT
 *   disktool size FMT IMG               print disk_size
 *   disktool gen RAW SIZE SEED          a raw file: random data, holes
 *   disktool workload FMT IMG RAW SEED N
 *       N random writes (multi-segment iovecs), write-zeroes (unmap or
 *       not), discards, flushes and read-backs on IMG through the library,
 *       the same on RAW with plain POSIX calls; read-backs compare both.
 *   disktool threads FMT IMG RAW SEED N
 *       8 threads, each N random 512..4096-byte writes (and read-backs) of
 *       its own sectors (sector % 8 == thread), so clusters are shared and
 *       allocations race; then the same writes serially on RAW
 *   disktool ops FMT IMG CMDS           run a qemu-io command file on IMG:
 *       "write -P BYTE OFF LEN", "read OFF LEN", "flush" (bench/)
 *   disktool copy RAW FMT IMG           RAW's bytes written over IMG in order
 *   disktool durable FMT IMG LOG        write, flush, log; until killed
 *   disktool verify LOG RAW             every logged write is in RAW
 *
 * FMT: raw, qcow2 or vmdk.  DISKTOOL_SYNC=none: flush without fdatasync;
 * DISKTOOL_DIRECT=1: O_DIRECT.  Exit 0 on success, 1 on any failure.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/disk.h"

static int fmt_of(const char *s)
{
    if (!strcmp(s, "raw"))
        return DISK_FMT_RAW;
    if (!strcmp(s, "qcow2"))
        return DISK_FMT_QCOW2;
    if (!strcmp(s, "vmdk"))
        return DISK_FMT_VMDK;
    fprintf(stderr, "unknown format %s\n", s);
    exit(1);
}

static struct disk *open_disk(const char *fmt, const char *path, bool ro)
{
    const char *sync = getenv("DISKTOOL_SYNC");
    struct disk_opts o = {.format = (enum disk_format)fmt_of(fmt),
                          .sync = sync && !strcmp(sync, "none")
                                      ? DISK_SYNC_NONE
                                      : DISK_SYNC_RELAXED,
                          .read_only = ro,
                          .direct_io = getenv("DISKTOOL_DIRECT") != NULL};
    struct disk *d;
    char err[512];
    int rc = disk_open(path, &o, &d, err, sizeof(err));

    if (rc < 0) {
        fprintf(stderr, "disk_open: %d: %s\n", rc, err);
        exit(1);
    }
    return d;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Deterministic contents for (seed) at byte offset (off): verify regrows it. */
static void fill(uint8_t *p, size_t len, uint64_t seed, uint64_t off)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t x = (off + i) / 8 * 0x9e3779b97f4a7c15ULL ^ seed;

        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 32;
        p[i] = (uint8_t)(x >> ((off + i) % 8 * 8));
    }
}

static int cmd_read(const char *fmt, const char *img, const char *out,
                    size_t chunk)
{
    struct disk *d = open_disk(fmt, img, true);
    uint64_t size = disk_size(d);
    uint8_t *buf = malloc(chunk);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (!buf || fd < 0 || ftruncate(fd, (off_t)size) < 0)
        return 1;
    for (uint64_t off = 0; off < size;) {
        size_t n = (size_t)(size - off < chunk ? size - off : chunk);
        /* two segments, split at an odd place, to exercise slicing */
        struct iovec v[2] = {{buf, n / 3}, {buf + n / 3, n - n / 3}};
        int rc = disk_preadv(d, v, 2, off);

        if (rc < 0) {
            fprintf(stderr, "read at %" PRIu64 ": %d\n", off, rc);
            return 1;
        }
        if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
            return 1;
        off += n;
    }
    close(fd);
    free(buf);
    disk_close(d);
    return 0;
}

static int cmd_gen(const char *path, uint64_t size, uint64_t seed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint8_t *buf = malloc(1 << 20);

    rng_state = seed | 1;
    if (fd < 0 || !buf || ftruncate(fd, (off_t)size) < 0)
        return 1;
    /* random extents of data, some of them runs of a repeated byte (good
     * for compression), the rest holes */
    for (uint64_t off = 0; off < size;) {
        uint64_t n = (rnd() % 512 + 1) * 1024;

        if (n > size - off)
            n = size - off;
        if (rnd() % 3 == 0) {
            for (uint64_t k = 0; k < n; k += 1 << 20) {
                size_t m = (size_t)(n - k < (1 << 20) ? n - k : (1 << 20));

                if (rnd() % 2)
                    fill(buf, m, seed, off + k);
                else
                    memset(buf, (int)(rnd() % 255 + 1), m);
                if (pwrite(fd, buf, m, (off_t)(off + k)) != (ssize_t)m)
                    return 1;
            }
        }
        off += n;
    }
    close(fd);
    free(buf);
    return 0;
}

#define MAX_IO (4u << 20)

static int cmd_workload(const char *fmt, const char *img, const char *raw,
                        uint64_t seed, unsigned nops)
{
    struct disk *d = open_disk(fmt, img, false);
    uint64_t size = disk_size(d), sectors = size / 512;
    uint8_t *a = malloc(MAX_IO), *b = malloc(MAX_IO);
    int fd = open(raw, O_RDWR);
    unsigned stats[5] = {0};

    rng_state = seed | 1;
    if (!a || !b || fd < 0)
        return 1;
    for (unsigned i = 0; i < nops; i++) {
        unsigned op = (unsigned)(rnd() % 100);
        uint64_t maxs = rnd() % 8 == 0 ? MAX_IO / 512 : 128;
        uint64_t len = (rnd() % maxs + 1) * 512, off;
        int rc = 0;

        if (len > size)
            len = size;
        off = rnd() % (sectors - len / 512 + 1) * 512;
        if (op < 50) {
            struct iovec v[3];
            size_t c1 = (size_t)(rnd() % len),
                   c2 = (size_t)(rnd() % (len - c1 + 1));

            fill(a, len, seed + i, off);
            v[0] = (struct iovec){a, c1};
            v[1] = (struct iovec){a + c1, c2};
            v[2] = (struct iovec){a + c1 + c2, len - c1 - c2};
            rc = disk_pwritev(d, v, 3, off);
            if (pwrite(fd, a, len, (off_t)off) != (ssize_t)len)
                return 1;
            stats[0]++;
        } else if (op < 80) {
            bool discard = op >= 65, unmap = rnd() % 2;

            rc = discard ? disk_discard(d, off, len)
                         : disk_write_zeroes(d, off, len, unmap);
            memset(a, 0, len);
            if (pwrite(fd, a, len, (off_t)off) != (ssize_t)len)
                return 1;
            stats[discard ? 2 : 1]++;
        } else if (op < 85) {
            rc = disk_flush(d);
            stats[3]++;
        } else {
            struct iovec v = {a, len};

            rc = disk_preadv(d, &v, 1, off);
            if (pread(fd, b, len, (off_t)off) != (ssize_t)len)
                return 1;
            if (rc == 0 && memcmp(a, b, len)) {
                fprintf(stderr,
                        "op %u: read-back of %" PRIu64 "+%" PRIu64
                        " differs from the raw twin\n",
                        i, off, len);
                return 1;
            }
            stats[4]++;
        }
        if (rc < 0) {
            fprintf(stderr, "op %u (%u) at %" PRIu64 "+%" PRIu64 ": %d\n", i,
                    op, off, len, rc);
            return 1;
        }
    }
    if (disk_flush(d) < 0)
        return 1;
    disk_close(d);
    close(fd);
    printf("writes %u zeroes %u discards %u flushes %u reads %u\n", stats[0],
           stats[1], stats[2], stats[3], stats[4]);
    free(a);
    free(b);
    return 0;
}

struct worker {
    struct disk *d;
    int fd; /* the raw twin, or -1 */
    unsigned id, n;
    uint64_t seed;
    int rc;
};

/* Thread (w->id)'s writes: runs of sectors s with s % 8 == id. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t st = (w->seed + w->id) * 0x9e3779b97f4a7c15ULL | 1;
    uint64_t sectors = (w->fd >= 0 ? 0 : disk_size(w->d)) / 512;
    uint8_t buf[512], back[512];

    if (w->fd >= 0) {
        off_t end = lseek(w->fd, 0, SEEK_END);

        sectors = end > 0 ? (uint64_t)end / 512 : 0;
    }
    for (unsigned i = 0; i < w->n && w->rc == 0; i++) {
        uint64_t s, off;

        st ^= st << 13;
        st ^= st >> 7;
        st ^= st << 17;
        s = st % (sectors / 8) * 8 + w->id;
        off = s * 512;
        fill(buf, 512, w->seed * 131 + i, off);
        if (w->fd >= 0) {
            if (pwrite(w->fd, buf, 512, (off_t)off) != 512)
                w->rc = -EIO;
            continue;
        }
        struct iovec v = {buf, 512}, r = {back, 512};

        w->rc = disk_pwritev(w->d, &v, 1, off);
        if (w->rc == 0 && i % 3 == 0)
            w->rc = disk_preadv(w->d, &r, 1, off);
        if (w->rc == 0 && i % 3 == 0 && memcmp(buf, back, 512))
            w->rc = -EILSEQ;
        if (w->rc == 0 && i % 97 == 0)
            w->rc = disk_flush(w->d);
    }
    return NULL;
}

static int cmd_threads(const char *fmt, const char *img, const char *raw,
                       uint64_t seed, unsigned n)
{
    struct disk *d = open_disk(fmt, img, false);
    struct worker w[8];
    pthread_t th[8];
    int fd = open(raw, O_RDWR), rc = 0;

    if (fd < 0)
        return 1;
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < 8; i++) {
            w[i] = (struct worker){d, pass ? fd : -1, i, n, seed, 0};
            pthread_create(&th[i], NULL, worker_main, &w[i]);
        }
        for (unsigned i = 0; i < 8; i++) {
            pthread_join(th[i], NULL);
            if (w[i].rc) {
                fprintf(stderr, "thread %u (pass %u): %d\n", i, pass, w[i].rc);
                rc = 1;
            }
        }
    }
    if (disk_flush(d) < 0)
        rc = 1;
    disk_close(d);
    close(fd);
    return rc;
}

static int cmd_ops(const char *fmt, const char *img, const char *cmds)
{
    struct disk *d = open_disk(fmt, img, false);
    FILE *f = fopen(cmds, "r");
    uint8_t *buf = malloc(MAX_IO);
    char line[256];
    unsigned pat;
    uint64_t off, len;

    if (!f || !buf)
        return 1;
    while (fgets(line, sizeof(line), f)) {
        struct iovec v = {buf, 0};
        int rc = 0;

        if (sscanf(line, "write -P %i %" SCNu64 " %" SCNu64, &pat, &off,
                   &len) == 3 &&
            len <= MAX_IO) {
            memset(buf, (int)pat, len);
            v.iov_len = len;
            rc = disk_pwritev(d, &v, 1, off);
        } else if (sscanf(line, "read %" SCNu64 " %" SCNu64, &off, &len) == 2 &&
                   len <= MAX_IO) {
            v.iov_len = len;
            rc = disk_preadv(d, &v, 1, off);
        } else if (!strncmp(line, "flush", 5)) {
            rc = disk_flush(d);
        } else {
            fprintf(stderr, "bad command: %s", line);
            return 1;
        }
        if (rc < 0) {
            fprintf(stderr, "%s: %d\n", line, rc);
            return 1;
        }
    }
    if (disk_flush(d) < 0)
        return 1;
    disk_close(d);
    fclose(f);
    free(buf);
    return 0;
}

static int cmd_copy(const char *raw, const char *fmt, const char *img)
{
    struct disk *d = open_disk(fmt, img, false);
    uint64_t size = disk_size(d);
    uint8_t *buf = malloc(MAX_IO);
    int fd = open(raw, O_RDONLY);

    if (!buf || fd < 0)
        return 1;
    for (uint64_t off = 0; off < size; off += MAX_IO) {
        size_t n = (size_t)(size - off < MAX_IO ? size - off : MAX_IO);
        struct iovec v = {buf, n};

        if (pread(fd, buf, n, (off_t)off) != (ssize_t)n ||
            disk_pwritev(d, &v, 1, off) < 0)
            return 1;
    }
    if (disk_flush(d) < 0)
        return 1;
    disk_close(d);
    free(buf);
    close(fd);
    return 0;
}

/* Writes of 64 KiB at distinct offsets (never rewritten), flush, log. */
static int cmd_durable(const char *fmt, const char *img, const char *log)
{
    struct disk *d = open_disk(fmt, img, false);
    uint64_t slots = disk_size(d) / 65536;
    FILE *lf = fopen(log, "w");
    static uint8_t buf[65536 + 512];

    if (!lf)
        return 1;
    for (uint64_t i = 0;; i++) {
        uint64_t off = (i * 7919 % slots) * 65536 + (i % 2) * 512;
        struct iovec v = {buf, 65536 - 512 * (i % 2)};

        if (i >= slots)
            break;
        fill(buf, v.iov_len, i, off);
        if (disk_pwritev(d, &v, 1, off) < 0)
            return 1;
        if (i % 4 == 3 || i + 1 == slots) {
            if (disk_flush(d) < 0)
                return 1;
            /* everything up to i is durable now */
            fprintf(lf, "%" PRIu64 "\n", i);
            fflush(lf);
            fsync(fileno(lf));
        }
    }
    pause(); /* wait for the kill */
    return 0;
}

static int cmd_verify(const char *log, const char *raw)
{
    FILE *lf = fopen(log, "r");
    int fd = open(raw, O_RDONLY);
    static uint8_t a[65536], b[65536];
    uint64_t last = 0, slots, n = 0;
    off_t size;
    bool any = false;

    if (!lf || fd < 0 || (size = lseek(fd, 0, SEEK_END)) < 0)
        return 1;
    slots = (uint64_t)size / 65536;
    while (fscanf(lf, "%" SCNu64, &last) == 1)
        any = true;
    if (!any) {
        fprintf(stderr, "no flushed write logged\n");
        return 1;
    }
    for (uint64_t i = 0; i <= last; i++) {
        uint64_t off = (i * 7919 % slots) * 65536 + (i % 2) * 512;
        size_t len = 65536 - 512 * (i % 2);

        fill(a, len, i, off);
        if (pread(fd, b, len, (off_t)off) != (ssize_t)len ||
            memcmp(a, b, len)) {
            fprintf(stderr,
                    "flushed write %" PRIu64 " at %" PRIu64 " is missing\n", i,
                    off);
            return 1;
        }
        n++;
    }
    printf("%" PRIu64 " flushed writes verified\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "read"))
        return cmd_read(argv[2], argv[3], argv[4],
                        argc > 5 ? strtoul(argv[5], NULL, 0) : (1 << 20));
    if (argc == 4 && !strcmp(argv[1], "size")) {
        struct disk *d = open_disk(argv[2], argv[3], true);

        printf("%" PRIu64 "\n", disk_size(d));
        disk_close(d);
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "gen"))
        return cmd_gen(argv[2], strtoull(argv[3], NULL, 0),
                       strtoull(argv[4], NULL, 0));
    if (argc == 7 && !strcmp(argv[1], "workload"))
        return cmd_workload(argv[2], argv[3], argv[4],
                            strtoull(argv[5], NULL, 0),
                            (unsigned)strtoul(argv[6], NULL, 0));
    if (argc == 7 && !strcmp(argv[1], "threads"))
        return cmd_threads(argv[2], argv[3], argv[4],
                           strtoull(argv[5], NULL, 0),
                           (unsigned)strtoul(argv[6], NULL, 0));
    if (argc == 5 && !strcmp(argv[1], "ops"))
        return cmd_ops(argv[2], argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "copy"))
        return cmd_copy(argv[2], argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "durable"))
        return cmd_durable(argv[2], argv[3], argv[4]);
    if (argc == 4 && !strcmp(argv[1], "verify"))
        return cmd_verify(argv[2], argv[3]);
    fprintf(stderr, "usage: see tests/disk/disktool.c\n");
    return 1;
}
