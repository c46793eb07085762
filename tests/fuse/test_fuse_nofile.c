/*
 * test_fuse_nofile.c: ckrun-fuse with RLIMIT_NOFILE = 1024 serving 100 000
 * files: every file is looked up and stat'ed (and some read) through the
 * mount; the server's fd count stays under its budget.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fusetest.h"
#include "t.h"

#define NFILES 100000
#define NDIRS  100

static int count_fds(pid_t pid)
{
    char p[64];
    DIR *d;
    int n = 0;

    snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
    d = opendir(p);
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n - 2;
}

static long walk(const char *mnt, int *max_fds, pid_t pid)
{
    char p[256];
    long n = 0;

    for (int i = 0; i < NDIRS; i++) {
        struct dirent *e;
        struct stat st;
        DIR *d;
        int dfd;

        snprintf(p, sizeof(p), "%s/d%03d", mnt, i);
        d = opendir(p);
        if (!d)
            return -1;
        dfd = dirfd(d);
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                n++;
            if (n % 997 == 0)
                close(openat(dfd, e->d_name, O_RDONLY));
        }
        closedir(d);
        if (i % 10 == 0) {
            int c = count_fds(pid);

            *max_fds = c > *max_fds ? c : *max_fds;
        }
    }
    return n;
}

int main(void)
{
    struct ftmount m;
    char cmd[256];
    struct timespec t0, t1;
    int max_fds = 0;
    long n;

    ft_require();
    if (!getenv("FUSE_MKTREE"))
        t_skip_all("FUSE_MKTREE not set");
    ft_scratch(&m);
    snprintf(cmd, sizeof(cmd), "%s %s %d %d", getenv("FUSE_MKTREE"), m.share,
             NDIRS, NFILES);
    if (!CHECK(system(cmd) == 0))
        return t_done();
    if (!ft_mount(&m, NULL, 1024))
        t_skip_all("cannot mount");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    n = walk(m.mnt, &max_fds, m.pid);
    CHECK_EQ(n, NFILES);
    /* Again, now that the guest holds 100 000 lookups. */
    n = walk(m.mnt, &max_fds, m.pid);
    CHECK_EQ(n, NFILES);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    t_diag("two walks of %d files: %.1f s; server fds at most %d (limit "
           "1024)",
           NFILES,
           (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
           max_fds);
    CHECK(max_fds > 0 && max_fds < 1024);
    CHECK_EQ(ft_umount(&m), 0);
    ft_cleanup(&m);
    return t_done();
}
