/*
 * test_fuse_escape.c: attempts to reach the host outside the share through
 * a ckrun-fuse mount.  The "guest" is a child chrooted into the mount, so
 * that the mount is its whole world as in a VM; a canary file outside the
 * share must never be read or changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fusetest.h"
#include "t.h"

static struct ftmount m;
static char canary[128];

/* Run fn in a child chrooted into the mount; returns its exit status. */
static int in_guest(int (*fn)(void))
{
    int st;
    pid_t pid = fork();

    if (pid == 0) {
        if (chroot(m.mnt) < 0 || chdir("/") < 0)
            _exit(99);
        _exit(fn());
    }
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

/* 1 if (path) can be read and holds the canary. */
static int reads_canary(const char *path)
{
    char buf[64];

    return ft_read(path, buf, sizeof(buf)) > 0 && strstr(buf, "CANARY");
}

static int g_dotdot(void)
{
    char p[256];

    snprintf(p, sizeof(p), "/../../../..%s", canary);
    return reads_canary(p) || reads_canary("/../canary") ||
           reads_canary("../../canary");
}

static int g_symlinks(void)
{
    /* Host-made links pointing out: resolved in the guest's world. */
    return reads_canary("/abs") || reads_canary("/rel") ||
           reads_canary("/dir/x/canary") || reads_canary("/procfd");
}

static int g_write_through_link(void)
{
    int fd = open("/abs", O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd >= 0) {
        (void)!write(fd, "PWNED", 5);
        close(fd);
    }
    return 0;
}

static int g_mknod(void)
{
    if (mknod("/mem", S_IFCHR | 0666, makedev(1, 1)) == 0)
        return 1;
    if (errno != EPERM)
        return 2;
    if (mknod("/blk", S_IFBLK | 0666, makedev(8, 0)) == 0)
        return 3;
    if (mknod("/whiteout", S_IFCHR | 0600, makedev(0, 0)) != 0)
        return 4; /* the inert whiteout is allowed */
    return open("/whiteout", O_RDONLY) >= 0 ? 5 : 0;
}

static int g_hardlink(void)
{
    /* Linking the outward symlink links the symlink itself. */
    if (link("/abs", "/hl") == 0 && reads_canary("/hl"))
        return 1;
    return linkat(AT_FDCWD, "/abs", AT_FDCWD, "/hl2", AT_SYMLINK_FOLLOW) == 0;
}

static volatile int stop;

static void *swapper(void *arg)
{
    while (!stop) {
        renameat2(AT_FDCWD, "/race", AT_FDCWD, "/racelink", RENAME_EXCHANGE);
    }
    return NULL;
}

static int g_race(void)
{
    pthread_t t;
    int leaks = 0;

    pthread_create(&t, NULL, swapper, NULL);
    for (int i = 0; i < 3000; i++) {
        leaks += reads_canary("/race/canary");
        leaks += reads_canary("/racelink/canary");
    }
    stop = 1;
    pthread_join(t, NULL);
    return leaks ? 1 : 0;
}

static void host_setup(void)
{
    char p[256], q[256];

    snprintf(canary, sizeof(canary), "%s/canary", m.base);
    snprintf(p, sizeof(p), "%s/abs", m.share);
    symlink(canary, p);
    snprintf(p, sizeof(p), "%s/rel", m.share);
    symlink("../canary", p);
    snprintf(p, sizeof(p), "%s/dir", m.share);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/dir/x", m.share);
    symlink(m.base, p);
    snprintf(p, sizeof(p), "%s/procfd", m.share);
    symlink("/proc/self/root/tmp", p);
    snprintf(p, sizeof(p), "%s/race", m.share);
    mkdir(p, 0755);
    snprintf(q, sizeof(q), "%s/race/canary", m.share);
    ft_write(q, "inside");
    snprintf(p, sizeof(p), "%s/racelink", m.share);
    symlink(m.base, p);
}

static void check_canary(const char *when)
{
    char buf[64];
    struct stat st;

    if (!CHECK(ft_read(canary, buf, sizeof(buf)) == 6 &&
               !strcmp(buf, "CANARY") && stat(canary, &st) == 0 &&
               st.st_nlink == 1))
        t_diag("canary changed after %s", when);
}

int main(void)
{
    char p[256];
    struct stat st;

    ft_require();
    ft_scratch(&m);
    host_setup();
    if (!ft_mount(&m, NULL, 0))
        t_skip_all("cannot mount");
    CHECK_EQ(in_guest(g_dotdot), 0);
    check_canary("..");
    CHECK_EQ(in_guest(g_symlinks), 0);
    check_canary("symlinks");
    CHECK_EQ(in_guest(g_write_through_link), 0);
    check_canary("write through link");
    CHECK_EQ(in_guest(g_mknod), 0);
    snprintf(p, sizeof(p), "%s/mem", m.share);
    CHECK(lstat(p, &st) < 0);
    CHECK_EQ(in_guest(g_hardlink), 0);
    check_canary("hard links");
    CHECK_EQ(in_guest(g_race), 0);
    check_canary("swap race");
    CHECK_EQ(ft_umount(&m), 0);
    ft_cleanup(&m);
    return t_done();
}
