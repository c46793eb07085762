/*
 * test_fuse_ops.c: real programs' system calls on a ckrun-fuse mount: the
 * results and the bytes on the host must be what the same calls give on a
 * plain directory.  Also: read-only shares (EROFS) and the exit-code ioctl.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fusetest.h"
#include "t.h"

#define UID_NOBODY 65534
#define GID_NOBODY 65534

static struct ftmount m;
static char P[4][256]; /* paths in the mount / on the host, round robin */
static unsigned int np;

static const char *mp(const char *rel)
{
    char *p = P[np++ % 4];

    snprintf(p, sizeof(P[0]), "%s/%s", m.mnt, rel);
    return p;
}

static const char *hp(const char *rel)
{
    char *p = P[np++ % 4];

    snprintf(p, sizeof(P[0]), "%s/%s", m.share, rel);
    return p;
}

static void test_files(void)
{
    char buf[4096];
    struct stat st;
    int fd;

    CHECK_EQ(ft_write(mp("f"), "hello world"), 0);
    CHECK_EQ(ft_read(hp("f"), buf, sizeof(buf)), 11);
    CHECK(!strcmp(buf, "hello world"));
    CHECK_EQ(truncate(mp("f"), 5), 0);
    CHECK_EQ(ft_read(mp("f"), buf, sizeof(buf)), 5);
    CHECK_EQ(chmod(mp("f"), 0640), 0);
    CHECK(stat(hp("f"), &st) == 0 && (st.st_mode & 07777) == 0640);
    CHECK_EQ(chown(mp("f"), 1234, 5678), 0);
    CHECK(stat(hp("f"), &st) == 0 && st.st_uid == 1234 && st.st_gid == 5678);
    struct timespec ts[2] = {{1000, 5}, {2000, 7}};
    CHECK_EQ(utimensat(AT_FDCWD, mp("f"), ts, 0), 0);
    CHECK(stat(hp("f"), &st) == 0 && st.st_mtim.tv_sec == 2000 &&
          st.st_atim.tv_sec == 1000);
    CHECK_EQ(rename(mp("f"), mp("g")), 0);
    CHECK(access(hp("g"), F_OK) == 0 && access(hp("f"), F_OK) != 0);
    CHECK_EQ(link(mp("g"), mp("h")), 0);
    CHECK(stat(hp("h"), &st) == 0 && st.st_nlink == 2);
    CHECK_EQ(symlink("g", mp("s")), 0);
    CHECK(readlink(mp("s"), buf, sizeof(buf)) == 1 && buf[0] == 'g');
    CHECK_EQ(mkfifo(mp("fifo"), 0600), 0);
    CHECK(stat(hp("fifo"), &st) == 0 && S_ISFIFO(st.st_mode));
    fd = open(mp("g"), O_RDWR);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, "XY", 2, 1 << 20), 2);
    int hfd = open(hp("g"), O_RDONLY);

    CHECK_EQ(lseek(fd, 0, SEEK_HOLE), lseek(hfd, 0, SEEK_HOLE));
    close(hfd);
    CHECK_EQ(lseek(fd, 4096, SEEK_DATA), 1 << 20);
    CHECK_EQ(fallocate(fd, 0, 0, 8192), 0);
    CHECK_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096),
             0);
    CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096) < 0);
    close(fd);
    CHECK_EQ(unlink(mp("h")), 0);
    CHECK(access(hp("h"), F_OK) != 0);
}

static void test_rename2_xattr(void)
{
    char buf[64];

    ft_write(mp("r1"), "one");
    ft_write(mp("r2"), "two");
    CHECK(renameat2(AT_FDCWD, mp("r1"), AT_FDCWD, mp("r2"), RENAME_NOREPLACE) <
              0 &&
          errno == EEXIST);
    CHECK_EQ(renameat2(AT_FDCWD, mp("r1"), AT_FDCWD, mp("r2"), RENAME_EXCHANGE),
             0);
    CHECK(ft_read(hp("r1"), buf, sizeof(buf)) == 3 && !strcmp(buf, "two"));
    CHECK_EQ(setxattr(mp("r1"), "user.k", "val", 3, 0), 0);
    CHECK_EQ(getxattr(hp("r1"), "user.k", buf, sizeof(buf)), 3);
    CHECK_EQ(getxattr(mp("r1"), "user.k", buf, sizeof(buf)), 3);
    CHECK(listxattr(mp("r1"), buf, sizeof(buf)) > 0);
    CHECK_EQ(removexattr(mp("r1"), "user.k"), 0);
    CHECK(getxattr(hp("r1"), "user.k", buf, sizeof(buf)) < 0);
    CHECK_EQ(mkdir(mp("dir"), 0750), 0);
    CHECK_EQ(rmdir(mp("dir")), 0);
}

static void test_locks(void)
{
    int fd = open(mp("lk"), O_RDWR | O_CREAT, 0644), st;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10};
    pid_t pid;

    CHECK(fd >= 0);
    CHECK_EQ(fcntl(fd, F_SETLK, &fl), 0);
    CHECK_EQ(flock(fd, LOCK_EX), 0);
    pid = fork();
    if (pid == 0) {
        int fd2 = open(mp("lk"), O_RDWR);
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

        if (fcntl(fd2, F_SETLK, &q) == 0)
            _exit(1); /* must conflict */
        if (flock(fd2, LOCK_EX | LOCK_NB) == 0)
            _exit(2);
        if (fcntl(fd2, F_GETLK, &q) < 0 || q.l_type != F_WRLCK)
            _exit(3);
        _exit(0);
    }
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    close(fd);
}

/* POSIX locks belong to the process: (1) its second open does not conflict
 * with its own lock, (2) closing any descriptor drops all of its locks on
 * the file, (3) F_GETLK in another process names it. */
static int child_getlk(off_t start, pid_t *pid)
{
    int p[2], st;
    pid_t c;
    struct flock r = {0};

    if (pipe(p) < 0)
        return -1;
    c = fork();
    if (c == 0) {
        int fd = open(mp("lk2"), O_RDWR);
        struct flock q = {
            .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start};

        if (fd < 0 || fcntl(fd, F_GETLK, &q) < 0)
            _exit(1);
        (void)!write(p[1], &q, sizeof(q));
        _exit(0);
    }
    close(p[1]);
    if (read(p[0], &r, sizeof(r)) != sizeof(r))
        r.l_type = -1;
    close(p[0]);
    waitpid(c, &st, 0);
    *pid = r.l_pid;
    return r.l_type;
}

static void test_lock_owner(void)
{
    int fd1 = open(mp("lk2"), O_RDWR | O_CREAT, 0644);
    int fd2 = open(mp("lk2"), O_RDONLY), hfd;
    struct flock wr = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10};
    struct flock rd = {
        .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 10};
    pid_t pid = 0;

    CHECK(fd1 >= 0 && fd2 >= 0);
    CHECK_EQ(fcntl(fd1, F_SETLK, &wr), 0);
    CHECK_EQ(fcntl(fd2, F_SETLK, &rd), 0); /* (1): converts its own lock */
    CHECK_EQ(child_getlk(0, &pid), F_WRLCK);
    CHECK_EQ(pid, getpid()); /* (3) */
    CHECK_EQ(child_getlk(7, &pid), F_RDLCK);
    CHECK_EQ(pid, getpid());
    /* The locks are on the host file, for host processes too. */
    hfd = open(hp("lk2"), O_RDWR);
    wr.l_start = 12;
    CHECK(hfd >= 0 && fcntl(hfd, F_OFD_SETLK, &wr) < 0 && errno == EAGAIN);
    wr.l_start = 0;
    close(fd2); /* (2): drops the lock taken through fd1 too */
    CHECK_EQ(child_getlk(0, &pid), F_UNLCK);
    CHECK_EQ(fcntl(hfd, F_OFD_SETLK, &wr), 0);
    CHECK(fcntl(fd1, F_SETLK, &wr) < 0 && errno == EAGAIN);
    close(hfd);
    CHECK_EQ(fcntl(fd1, F_SETLK, &wr), 0);
    close(fd1);
}

static void test_readdir_many(void)
{
    char name[64];
    struct dirent *d;
    DIR *dir;
    int n = 0;

    CHECK_EQ(mkdir(mp("many"), 0755), 0);
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "many/file-with-a-longish-name-%05d", i);
        close(open(mp(name), O_CREAT | O_WRONLY, 0644));
    }
    dir = opendir(mp("many"));
    while (dir && (d = readdir(dir)))
        n += d->d_name[0] != '.';
    if (dir)
        closedir(dir);
    CHECK_EQ(n, 2000);
}

static void test_big_file(void)
{
    static char a[3 << 20], b[3 << 20];
    int fd;

    for (size_t i = 0; i < sizeof(a); i++)
        a[i] = (char)(i * 7 + i / 4096);
    fd = open(mp("big"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(write(fd, a, sizeof(a)) == (ssize_t)sizeof(a));
    close(fd);
    fd = open(hp("big"), O_RDONLY);
    CHECK(read(fd, b, sizeof(b)) == (ssize_t)sizeof(b));
    close(fd);
    CHECK(!memcmp(a, b, sizeof(a)));
    memset(b, 0, sizeof(b));
    fd = open(mp("big"), O_RDONLY | O_DIRECT);
    if (fd < 0)
        fd = open(mp("big"), O_RDONLY);
    CHECK(pread(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b));
    close(fd);
    CHECK(!memcmp(a, b, sizeof(a)));
}

static void test_exit_code(void)
{
    int fd = open(m.mnt, O_RDONLY | O_DIRECTORY);

    CHECK(fd >= 0);
    CHECK_EQ(ioctl(fd, 0x7602, 42), 0);
    CHECK(ioctl(fd, 0x7603, 1) < 0);
    close(fd);
}

/* What guest root plants stays out of the host file: set-id bits and
 * trusted.* xattrs are the guest's (it sees them), the host file has none;
 * a write by a user without CAP_FSETID drops set-uid (HANDLE_KILLPRIV_V2);
 * device nodes are inert files on the host. */
static void test_planted(void)
{
    char buf[64];
    struct stat st;
    pid_t pid;
    int status;

    CHECK_EQ(ft_write(mp("suid"), "#!/bin/sh\n"), 0);
    CHECK_EQ(chmod(mp("suid"), 04777), 0);
    CHECK(stat(mp("suid"), &st) == 0 && (st.st_mode & 07777) == 04777);
    CHECK(stat(hp("suid"), &st) == 0 && (st.st_mode & 07777) == 01777);
    CHECK_EQ(setxattr(mp("suid"), "trusted.overlay.opaque", "y", 1, 0), 0);
    CHECK_EQ(getxattr(mp("suid"), "trusted.overlay.opaque", buf, sizeof(buf)),
             1);
    CHECK(getxattr(hp("suid"), "trusted.overlay.opaque", buf, sizeof(buf)) <
              0 &&
          errno == ENODATA);
    CHECK_EQ(getxattr(hp("suid"), "user.ckrun.trusted.overlay.opaque", buf,
                      sizeof(buf)),
             1);
    CHECK(listxattr(mp("suid"), buf, sizeof(buf)) ==
              (ssize_t)sizeof("trusted.overlay.opaque") &&
          !strcmp(buf, "trusted.overlay.opaque"));
    pid = fork();
    if (pid == 0) {
        /* Opened as root, written as nobody: the writer lacks CAP_FSETID. */
        int fd = open(mp("suid"), O_WRONLY | O_APPEND);

        if (setgid(GID_NOBODY) < 0 || setuid(UID_NOBODY) < 0)
            _exit(2);
        _exit(fd >= 0 && write(fd, "x", 1) == 1 ? 0 : 1);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    CHECK(stat(mp("suid"), &st) == 0 && (st.st_mode & 07777) == 0777);
    CHECK_EQ(mknod(mp("tty"), S_IFCHR | 0600, makedev(4, 1)), 0);
    CHECK_EQ(chmod(mp("tty"), 0620), 0);
    CHECK(stat(mp("tty"), &st) == 0 && S_ISCHR(st.st_mode) &&
          st.st_rdev == makedev(4, 1) && (st.st_mode & 07777) == 0620);
    CHECK(lstat(hp("tty"), &st) == 0 && st.st_mode == (S_IFREG | 01600) &&
          st.st_size == 0);
    CHECK_EQ(unlink(mp("tty")), 0);
    CHECK_EQ(unlink(mp("suid")), 0);
}

static void test_read_only(void)
{
    struct ftmount ro = {0};
    char p[256], buf[256];
    struct statvfs sv;

    ft_scratch(&ro);
    snprintf(p, sizeof(p), "%s/file", ro.share);
    ft_write(p, "data");
    if (!CHECK(ft_mount(&ro, "ro", 0)))
        return;
    /* The mount itself is read-only (MS_RDONLY), not only the server. */
    CHECK(statvfs(ro.mnt, &sv) == 0 && (sv.f_flag & ST_RDONLY));
    snprintf(p, sizeof(p), "%s/file", ro.mnt);
    CHECK(access(p, W_OK) < 0 && errno == EROFS);
    CHECK_EQ(access(p, R_OK), 0);
    CHECK_EQ(ft_read(p, buf, sizeof(buf)), 4);
    CHECK_EQ(ft_write(p, "x"), -EROFS);
    CHECK(truncate(p, 0) < 0 && errno == EROFS);
    CHECK(chmod(p, 0600) < 0 && errno == EROFS);
    CHECK(setxattr(p, "user.a", "b", 1, 0) < 0 && errno == EROFS);
    snprintf(p, sizeof(p), "%s/new", ro.mnt);
    CHECK(mkdir(p, 0755) < 0 && errno == EROFS);
    CHECK(symlink("x", p) < 0 && errno == EROFS);
    CHECK_EQ(ft_write(p, "x"), -EROFS);
    snprintf(buf, sizeof(buf), "%s/file", ro.mnt);
    CHECK(rename(buf, p) < 0 && errno == EROFS);
    CHECK(unlink(buf) < 0 && errno == EROFS);
    CHECK_EQ(ft_umount(&ro), 0);
    snprintf(p, sizeof(p), "%s/file", ro.share);
    CHECK(ft_read(p, buf, sizeof(buf)) == 4 && !strcmp(buf, "data"));
    ft_cleanup(&ro);
}

int main(void)
{
    char log[128], buf[4096];

    ft_require();
    ft_scratch(&m);
    if (!ft_mount(&m, NULL, 0))
        t_skip_all("cannot mount (no FUSE here?)");
    RUN(test_files);
    RUN(test_rename2_xattr);
    RUN(test_locks);
    RUN(test_lock_owner);
    RUN(test_readdir_many);
    RUN(test_big_file);
    RUN(test_exit_code);
    RUN(test_planted);
    CHECK_EQ(ft_umount(&m), 0);
    snprintf(log, sizeof(log), "%s/log", m.base);
    CHECK(ft_read(log, buf, sizeof(buf)) > 0 && strstr(buf, "exit code: 42"));
    ft_cleanup(&m);
    RUN(test_read_only);
    return t_done();
}
