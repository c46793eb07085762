/*
 * fsops: timed file-system workloads for bench/bench_fuse.sh.  Each mode does
 * one workload and prints its wall time in seconds (one line, "%.6f") on
 * stdout; errors go to stderr with exit status 1.
 *
 *   fsops create DIR N        N files DIR/fNNNNNN, 100 bytes each
 *   fsops stat DIR N          stat() each of them
 *   fsops unlink DIR N        unlink() each of them
 *   fsops mkfiles DIR N       create N empty files (setup, fast)
 *   fsops readdir DIR         read every entry of DIR (getdents64 via readdir)
 *   fsops seqwrite FILE MIB   write MIB MiB in 1 MiB blocks, then fsync
 *   fsops seqread FILE        read FILE to the end in 1 MiB blocks
 *   fsops randread FILE N     N preads of 4 KiB at random 4 KiB-aligned offsets
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, const char *path)
{
    fprintf(stderr, "fsops: %s %s: %s\n", what, path, strerror(errno));
    return 1;
}

static void name(char *buf, size_t len, const char *dir, long i)
{
    snprintf(buf, len, "%s/f%06ld", dir, i);
}

static int do_create(const char *dir, long n, size_t size)
{
    static const char data[100] = "0123456789abcdef";
    char p[4096];

    for (long i = 0; i < n; i++) {
        int fd;

        name(p, sizeof(p), dir, i);
        fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0)
            return fail("open", p);
        if (size && write(fd, data, size) != (ssize_t)size) {
            close(fd);
            return fail("write", p);
        }
        if (close(fd) < 0)
            return fail("close", p);
    }
    return 0;
}

static int do_stat(const char *dir, long n)
{
    char p[4096];
    struct stat st;

    for (long i = 0; i < n; i++) {
        name(p, sizeof(p), dir, i);
        if (stat(p, &st) < 0)
            return fail("stat", p);
    }
    return 0;
}

static int do_unlink(const char *dir, long n)
{
    char p[4096];

    for (long i = 0; i < n; i++) {
        name(p, sizeof(p), dir, i);
        if (unlink(p) < 0)
            return fail("unlink", p);
    }
    return 0;
}

static int do_readdir(const char *dir)
{
    DIR *d = opendir(dir);
    long n = 0;

    if (!d)
        return fail("opendir", dir);
    errno = 0;
    while (readdir(d))
        n++;
    if (errno) {
        closedir(d);
        return fail("readdir", dir);
    }
    closedir(d);
    fprintf(stderr, "fsops: %ld entries\n", n);
    return 0;
}

static int do_seqwrite(const char *file, long mib)
{
    char *buf = malloc(MIB);
    int fd = open(file, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);

    if (!buf || fd < 0)
        return fail("open", file);
    for (size_t i = 0; i < MIB; i++)
        buf[i] = (char)(i * 31 + 7);
    for (long i = 0; i < mib; i++) {
        if (write(fd, buf, MIB) != MIB)
            return fail("write", file);
    }
    if (fsync(fd) < 0 || close(fd) < 0)
        return fail("fsync", file);
    free(buf);
    return 0;
}

static int do_seqread(const char *file)
{
    char *buf = malloc(MIB);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    ssize_t r;

    if (!buf || fd < 0)
        return fail("open", file);
    while ((r = read(fd, buf, MIB)) > 0)
        ;
    if (r < 0)
        return fail("read", file);
    close(fd);
    free(buf);
    return 0;
}

static int do_randread(const char *file, long n)
{
    char buf[4096];
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint64_t x = 88172645463325252ULL, blocks;

    if (fd < 0 || fstat(fd, &st) < 0)
        return fail("open", file);
    blocks = (uint64_t)st.st_size / sizeof(buf);
    if (!blocks) {
        fprintf(stderr, "fsops: %s is smaller than 4 KiB\n", file);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        x ^= x << 13; /* xorshift64: the same offsets in every run */
        x ^= x >> 7;
        x ^= x << 17;
        if (pread(fd, buf, sizeof(buf), (off_t)((x % blocks) * sizeof(buf))) !=
            (ssize_t)sizeof(buf))
            return fail("pread", file);
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    long n = argc > 3 ? atol(argv[3]) : 0;
    double t0;
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: fsops MODE PATH [N]\n");
        return 2;
    }
    t0 = now();
    if (!strcmp(mode, "create"))
        rc = do_create(argv[2], n, 100);
    else if (!strcmp(mode, "mkfiles"))
        rc = do_create(argv[2], n, 0);
    else if (!strcmp(mode, "stat"))
        rc = do_stat(argv[2], n);
    else if (!strcmp(mode, "unlink"))
        rc = do_unlink(argv[2], n);
    else if (!strcmp(mode, "readdir"))
        rc = do_readdir(argv[2]);
    else if (!strcmp(mode, "seqwrite"))
        rc = do_seqwrite(argv[2], n);
    else if (!strcmp(mode, "seqread"))
        rc = do_seqread(argv[2]);
    else if (!strcmp(mode, "randread"))
        rc = do_randread(argv[2], n);
    else {
        fprintf(stderr, "fsops: unknown mode %s\n", mode);
        return 2;
    }
    if (rc == 0)
        printf("%.6f\n", now() - t0);
    return rc;
}
