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
#include <sys/xattr.h>
#include <unistd.h>

#include "fusetest.h"
#include "t.h"

static struct ftmount m;
static char canary[128];
static struct stat canary_st; /* as made, before any attempt */
static int attempts;

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

/* Device nodes: the guest sees the node it made (the host only an inert
 * file, checked by the caller); the nodev mount opens nothing. */
static int g_mknod(void)
{
    struct stat st;

    if (mknod("/mem", S_IFCHR | 0666, makedev(1, 1)) != 0)
        return 1;
    if (lstat("/mem", &st) != 0 || !S_ISCHR(st.st_mode) ||
        st.st_rdev != makedev(1, 1))
        return 2;
    if (mknod("/blk", S_IFBLK | 0666, makedev(8, 0)) != 0)
        return 3;
    if (open("/mem", O_RDONLY) >= 0 || reads_canary("/mem"))
        return 6;
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

/* Through symlinks that point out: every path op lands in the guest's own
 * world (ENOENT), never on the canary. */
static int g_ops_through_links(void)
{
    struct timespec ts[2] = {{1, 0}, {2, 0}};
    int bad = 0;

    bad |= truncate("/abs", 0) == 0;
    bad |= chmod("/rel", 0777) == 0;
    bad |= chown("/abs", 1234, 1234) == 0;
    bad |= setxattr("/rel", "user.x", "v", 1, 0) == 0;
    bad |= utimensat(AT_FDCWD, "/abs", ts, 0) == 0;
    bad |= link("/rel", "/hl3") == 0 && reads_canary("/hl3");
    return bad;
}

/* Links the guest makes itself, and ".." from a directory fd. */
static int g_own_links(void)
{
    int fd, bad = 0;

    symlink("../../../canary", "/mine");
    symlink("/../canary", "/mine2");
    bad |= reads_canary("/mine") || reads_canary("/mine2");
    fd = open("/dir", O_PATH | O_DIRECTORY);
    if (fd >= 0) {
        int f = openat(fd, "../../../canary", O_RDONLY);

        bad |= f >= 0;
        if (f >= 0)
            close(f);
        close(fd);
    }
    return bad;
}

/* Rename the outward symlink over a guest file and write through the new
 * name; rename the guest file over the symlink and write. */
static int g_rename_tricks(void)
{
    ft_write("/victim", "v");
    rename("/rel", "/victim");
    g_write_through_link();
    /* Lands on /canary inside the share (the guest's view of ../canary). */
    ft_write("/victim", "PWNED");
    rename("/victim", "/rel");
    return reads_canary("/rel");
}

/* FIFOs and device nodes made by the host inside the share: the guest's
 * kernel handles them; the server never opens them (no hang either). */
static int g_special(void)
{
    int fd = open("/fifo", O_RDWR | O_NONBLOCK);

    if (fd >= 0)
        close(fd);
    fd = open("/null", O_RDWR);
    return fd >= 0; /* the mount is nodev */
}

static volatile int host_stop;

/* The host swaps share/hrace (a directory) and share/hracelink (a link to
 * the canary's directory) behind the server's back. */
static void *host_swapper(void *arg)
{
    char a[256], b[256];

    snprintf(a, sizeof(a), "%s/hrace", m.share);
    snprintf(b, sizeof(b), "%s/hracelink", m.share);
    while (!host_stop)
        renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
    return NULL;
}

static int g_host_race(void)
{
    int leaks = 0;

    for (int i = 0; i < 3000; i++)
        leaks += reads_canary("/hrace/canary");
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
    snprintf(p, sizeof(p), "%s/hrace", m.share);
    mkdir(p, 0755);
    snprintf(q, sizeof(q), "%s/hrace/canary", m.share);
    ft_write(q, "inside");
    snprintf(p, sizeof(p), "%s/hracelink", m.share);
    symlink(m.base, p);
    snprintf(p, sizeof(p), "%s/fifo", m.share);
    mkfifo(p, 0666);
    snprintf(p, sizeof(p), "%s/null", m.share);
    mknod(p, S_IFCHR | 0666, makedev(1, 3));
    /* atime older than mtime: relatime would record any read. */
    utimensat(AT_FDCWD, canary,
              (struct timespec[2]){{1000000000, 0}, {0, UTIME_OMIT}}, 0);
    stat(canary, &canary_st);
}

static bool same_ts(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* After (n) attempts of one kind: the canary was neither read nor changed
 * (contents, atime, mtime, ctime, link count, mode, owner). */
static void check_canary(const char *when, int n)
{
    char buf[64] = "";
    struct stat st;
    bool same = stat(canary, &st) == 0 &&
                same_ts(st.st_atim, canary_st.st_atim) &&
                same_ts(st.st_mtim, canary_st.st_mtim) &&
                same_ts(st.st_ctim, canary_st.st_ctim) && st.st_nlink == 1 &&
                st.st_mode == canary_st.st_mode &&
                st.st_uid == canary_st.st_uid && st.st_size == 6;
    int fd = open(canary, O_RDONLY | O_NOATIME);

    if (fd >= 0) {
        (void)!read(fd, buf, sizeof(buf) - 1);
        close(fd);
    }
    attempts += n;
    if (!CHECK(same && !strcmp(buf, "CANARY")))
        t_diag("canary read or changed after %s", when);
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
    check_canary("..", 3);
    CHECK_EQ(in_guest(g_symlinks), 0);
    check_canary("symlinks", 4);
    CHECK_EQ(in_guest(g_write_through_link), 0);
    check_canary("write through link", 1);
    CHECK_EQ(in_guest(g_mknod), 0);
    snprintf(p, sizeof(p), "%s/mem", m.share);
    CHECK(lstat(p, &st) == 0 && st.st_mode == (S_IFREG | 01600) &&
          st.st_size == 0 && st.st_uid == geteuid());
    snprintf(p, sizeof(p), "%s/blk", m.share);
    CHECK(lstat(p, &st) == 0 && st.st_mode == (S_IFREG | 01600));
    check_canary("mknod", 3);
    CHECK_EQ(in_guest(g_hardlink), 0);
    check_canary("hard links", 2);
    CHECK_EQ(in_guest(g_race), 0);
    check_canary("swap race", 1);
    CHECK_EQ(in_guest(g_ops_through_links), 0);
    check_canary("truncate/chmod/chown/xattr/utimens/link through links", 6);
    CHECK_EQ(in_guest(g_own_links), 0);
    check_canary("guest-made links, .. from a dir fd", 3);
    CHECK_EQ(in_guest(g_rename_tricks), 0);
    check_canary("rename tricks", 1);
    CHECK_EQ(in_guest(g_special), 0);
    check_canary("fifo and device node", 2);
    {
        pthread_t t;

        pthread_create(&t, NULL, host_swapper, NULL);
        CHECK_EQ(in_guest(g_host_race), 0);
        host_stop = 1;
        pthread_join(t, NULL);
        check_canary("host-side swap race", 1);
    }
    t_diag("escape attempts: %d", attempts);
    CHECK(attempts >= 20);
    CHECK_EQ(ft_umount(&m), 0);
    ft_cleanup(&m);
    return t_done();
}
