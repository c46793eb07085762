/*
 * conform.c: a POSIX/Linux filesystem conformance script.
 *
 *   conform DIR
 *
 * Performs a fixed sequence of operations inside DIR (which must be empty)
 * and prints one canonical line per operation: what was done, its result (a
 * number or the errno name) and, where relevant, the normalised state of
 * the objects involved (type, mode, link count, size, owner, and whether
 * atime/mtime/ctime changed).  Nothing host-specific (inode numbers, device
 * numbers, absolute times, the directory's own path) is printed, so the
 * output for a plain host directory and for a FUSE mount of another
 * directory on the same host filesystem must be identical; test_fuse_conform
 * compares the two.  Needs root (chown, trusted.* xattrs, mknod, whiteouts,
 * privilege drops for the permission checks).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* Unprivileged identity for the permission checks. */
#define UID 1234
#define GID 5678

static int line_no;

static const char *ename(int e)
{
    const char *n = strerrorname_np(e);

    return n ? n : "E?";
}

/* Print "desc = result" (result: the value, or the errno name when < 0). */
static void res(const char *desc, long r, int e)
{
    line_no++;
    if (r < 0)
        printf("%s = %s\n", desc, ename(e));
    else
        printf("%s = %ld\n", desc, r);
    fflush(stdout);
}

#define R(desc, expr)                                                          \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(expr);                                                \
        res(desc, r_, errno);                                                  \
    } while (0)

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("  ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    fflush(stdout);
}

static char ftype(mode_t m)
{
    switch (m & S_IFMT) {
    case S_IFREG:
        return 'f';
    case S_IFDIR:
        return 'd';
    case S_IFLNK:
        return 'l';
    case S_IFIFO:
        return 'p';
    case S_IFCHR:
        return 'c';
    case S_IFBLK:
        return 'b';
    case S_IFSOCK:
        return 's';
    }
    return '?';
}

/* "  st NAME: TYPE MODE n=NLINK sz=SIZE u=UID g=GID [rdev=MA:MI]" (lstat);
 * directory sizes are left out (they depend on the history of the host
 * directory, not on the server). */
static void st(const char *path)
{
    struct stat s;

    if (lstat(path, &s) < 0) {
        note("st %s: %s", path, ename(errno));
        return;
    }
    char sz[32] = "";

    if (!S_ISDIR(s.st_mode))
        snprintf(sz, sizeof(sz), " sz=%lld", (long long)s.st_size);
    if (S_ISCHR(s.st_mode) || S_ISBLK(s.st_mode))
        note("st %s: %c %04o n=%lu%s u=%u g=%u rdev=%u:%u", path,
             ftype(s.st_mode), s.st_mode & 07777, (unsigned long)s.st_nlink, sz,
             s.st_uid, s.st_gid, major(s.st_rdev), minor(s.st_rdev));
    else
        note("st %s: %c %04o n=%lu%s u=%u g=%u", path, ftype(s.st_mode),
             s.st_mode & 07777, (unsigned long)s.st_nlink, sz, s.st_uid,
             s.st_gid);
}

/* Contents of a small file, printed escaped. */
static void content(const char *path)
{
    char buf[256], out[600];
    int fd = open(path, O_RDONLY | O_NOATIME);
    ssize_t n;
    size_t o = 0;

    if (fd < 0)
        fd = open(path, O_RDONLY);
    if (fd < 0) {
        note("content %s: %s", path, ename(errno));
        return;
    }
    n = read(fd, buf, sizeof(buf));
    close(fd);
    for (ssize_t i = 0; i < n && o < sizeof(out) - 5; i++) {
        unsigned char c = (unsigned char)buf[i];

        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
    }
    out[o] = 0;
    note("content %s: %zd \"%s\"", path, n, out);
}

/* ---- time changes ---------------------------------------------------- */

#define MAXT 3
struct tsnap {
    const char *p[MAXT];
    struct stat s[MAXT];
    bool ok[MAXT];
};

static int tscmp(const struct timespec *a, const struct timespec *b)
{
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    if (a->tv_nsec != b->tv_nsec)
        return a->tv_nsec < b->tv_nsec ? -1 : 1;
    return 0;
}

static void tbegin(struct tsnap *t, const char *p0, const char *p1,
                   const char *p2)
{
    t->p[0] = p0;
    t->p[1] = p1;
    t->p[2] = p2;
    for (int i = 0; i < MAXT; i++)
        t->ok[i] = t->p[i] && lstat(t->p[i], &t->s[i]) == 0;
    /* Past the coarse clock's granularity (one jiffy). */
    usleep(20000);
}

static const char *tch(const struct timespec *before,
                       const struct timespec *after)
{
    int c = tscmp(before, after);

    return c == 0 ? "=" : c < 0 ? "+" : "-";
}

/* "  t NAME: a=+ m== c=+" (+ later, = same, - earlier). */
static void tend(struct tsnap *t)
{
    struct stat s;

    for (int i = 0; i < MAXT; i++) {
        if (!t->ok[i])
            continue;
        if (lstat(t->p[i], &s) < 0) {
            note("t %s: %s", t->p[i], ename(errno));
            continue;
        }
        note("t %s: a%s m%s c%s", t->p[i], tch(&t->s[i].st_atim, &s.st_atim),
             tch(&t->s[i].st_mtim, &s.st_mtim),
             tch(&t->s[i].st_ctim, &s.st_ctim));
    }
}

/* An operation whose time effects on up to three paths are reported. */
#define TR(desc, expr, p0, p1, p2)                                             \
    do {                                                                       \
        struct tsnap t_;                                                       \
        tbegin(&t_, p0, p1, p2);                                               \
        R(desc, expr);                                                         \
        tend(&t_);                                                             \
    } while (0)

/* Set a path's atime and mtime to fixed old values (atime < mtime, so that
 * relatime would update atime on the next read). */
static void age(const char *p)
{
    struct timespec ts[2] = {{1000000000, 0}, {1100000000, 0}};

    utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

static int mkfile(const char *p, const char *s)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, s, strlen(s));
    close(fd);
    return n < 0 ? -1 : 0;
}

static int wr(const char *p, int flags, const char *s)
{
    int fd = open(p, flags);
    ssize_t n;
    int e;

    if (fd < 0)
        return -1;
    n = write(fd, s, strlen(s));
    e = errno;
    close(fd);
    errno = e;
    return (int)n;
}

static int rd(const char *p)
{
    char buf[64];
    int fd = open(p, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf));
    close(fd);
    return (int)n;
}

static int openclose(const char *p, int flags, mode_t mode)
{
    int fd = open(p, flags, mode);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Run fn as UID:GID in a child; prints nothing itself. */
static void as_user(void (*fn)(void))
{
    pid_t pid;
    int stt;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) < 0 || setresgid(GID, GID, GID) < 0 ||
            setresuid(UID, UID, UID) < 0)
            _exit(99);
        fn();
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, &stt, 0);
    if (!WIFEXITED(stt) || WEXITSTATUS(stt))
        printf("as_user: child failed (%d)\n", stt);
}

/* ---- the script ------------------------------------------------------ */

static void t_open(void)
{
    puts("# open/create");
    R("open creat excl f", openclose("f", O_CREAT | O_EXCL | O_WRONLY, 0640));
    st("f");
    R("open creat excl f again",
      openclose("f", O_CREAT | O_EXCL | O_WRONLY, 0640));
    R("open noent", openclose("nope", O_RDONLY, 0));
    R("open noent/x creat", openclose("nope/x", O_CREAT | O_WRONLY, 0644));
    R("open f/x (ENOTDIR)", openclose("f/x", O_RDONLY, 0));
    R("open f O_DIRECTORY", openclose("f", O_RDONLY | O_DIRECTORY, 0));
    R("open . O_WRONLY", openclose(".", O_WRONLY, 0));
    R("open . O_RDONLY|O_DIRECTORY", openclose(".", O_RDONLY | O_DIRECTORY, 0));
    R("write f hello", wr("f", O_WRONLY, "hello"));
    content("f");
    age("f");
    TR("read f", rd("f"), "f", NULL, NULL);
    age("f");
    TR("open f O_TRUNC", openclose("f", O_WRONLY | O_TRUNC, 0), "f", NULL,
       NULL);
    st("f");
    TR("open f O_TRUNC (empty)", openclose("f", O_WRONLY | O_TRUNC, 0), "f",
       NULL, NULL);
    R("write f abc", wr("f", O_WRONLY, "abc"));
    R("write f O_APPEND de", wr("f", O_WRONLY | O_APPEND, "de"));
    content("f");
    {
        int fd = open("f", O_WRONLY | O_APPEND);

        R("pwrite O_APPEND at 0", pwrite(fd, "XY", 2, 0));
        R("lseek after append write", lseek(fd, 0, SEEK_CUR));
        close(fd);
    }
    content("f");
    R("symlink f -> sl", symlink("f", "sl"));
    R("open sl O_NOFOLLOW", openclose("sl", O_RDONLY | O_NOFOLLOW, 0));
    R("open sl O_NOFOLLOW|O_PATH",
      openclose("sl", O_RDONLY | O_NOFOLLOW | O_PATH, 0));
    R("open sl", openclose("sl", O_RDONLY, 0));
    R("symlink dangling -> dl", symlink("dtarget", "dl"));
    R("open dl creat excl", openclose("dl", O_CREAT | O_EXCL | O_WRONLY, 0644));
    R("open dl creat", openclose("dl", O_CREAT | O_WRONLY, 0600));
    st("dtarget");
    R("mkdir dir0", mkdir("dir0", 0755));
    age("dir0");
    TR("create dir0/new", openclose("dir0/new", O_CREAT | O_WRONLY, 0666),
       "dir0", NULL, NULL);
    st("dir0/new");
    R("creat mode 04755", openclose("suid", O_CREAT | O_WRONLY, 04755));
    st("suid");
    {
        int fd = open(".", O_TMPFILE | O_RDWR, 0600);
        char pp[64];

        R("open O_TMPFILE", fd < 0 ? -1 : 0);
        if (fd >= 0) {
            R("write tmpfile", write(fd, "tmp", 3));
            snprintf(pp, sizeof(pp), "/proc/self/fd/%d", fd);
            R("linkat tmpfile",
              linkat(AT_FDCWD, pp, AT_FDCWD, "tmplinked", AT_SYMLINK_FOLLOW));
            close(fd);
            st("tmplinked");
            content("tmplinked");
        }
    }
}

static void t_truncate_chmod_chown(void)
{
    int fd;

    puts("# truncate/chmod/chown");
    mkfile("t", "0123456789");
    TR("truncate t 4", truncate("t", 4), "t", NULL, NULL);
    content("t");
    TR("truncate t 4 (same size)", truncate("t", 4), "t", NULL, NULL);
    TR("truncate t 8192 (grow)", truncate("t", 8192), "t", NULL, NULL);
    st("t");
    R("truncate t -1", truncate("t", -1));
    R("truncate dir0", truncate("dir0", 0));
    R("truncate noent", truncate("noent", 0));
    fd = open("t", O_RDWR);
    TR("ftruncate t 2", ftruncate(fd, 2), "t", NULL, NULL);
    TR("ftruncate t 2 (same size)", ftruncate(fd, 2), "t", NULL, NULL);
    close(fd);
    fd = open("t", O_RDONLY);
    R("ftruncate O_RDONLY fd", ftruncate(fd, 0));
    close(fd);
    content("t");
    TR("chmod t 0600", chmod("t", 0600), "t", NULL, NULL);
    st("t");
    R("chmod t 07777", chmod("t", 07777));
    st("t");
    fd = open("t", O_RDONLY);
    R("fchmod t 0640", fchmod(fd, 0640));
    close(fd);
    st("t");
    R("fchmodat sl AT_SYMLINK_NOFOLLOW",
      fchmodat(AT_FDCWD, "sl", 0600, AT_SYMLINK_NOFOLLOW));
    R("chmod noent", chmod("noent", 0600));
    TR("chown t 1234:5678", chown("t", UID, GID), "t", NULL, NULL);
    st("t");
    R("chown t -1:0", chown("t", (uid_t)-1, 0));
    st("t");
    fd = open("t", O_RDONLY);
    R("fchown t 0:0", fchown(fd, 0, 0));
    close(fd);
    st("t");
    R("chmod t 06755", chmod("t", 06755));
    R("chown t 0:0 (clears set-id)", chown("t", 0, 0));
    st("t");
    R("chmod t 02745", chmod("t", 02745)); /* sgid without group exec */
    R("chown t 0:0", chown("t", 0, 0));
    st("t");
    R("chown sl 1234:5678 (follows)", chown("sl", UID, GID));
    st("sl");
    st("f");
    R("lchown sl 1234:5678", lchown("sl", UID, GID));
    st("sl");
    R("lchown sl 0:0", lchown("sl", 0, 0));
    R("chown f 0:0", chown("f", 0, 0));
    /* A set-uid file written by root and by its owner. */
    mkfile("sw", "x");
    chmod("sw", 06777);
    R("write sw as root", wr("sw", O_WRONLY | O_APPEND, "r"));
    st("sw");
    R("chown sw 1234:5678", chown("sw", UID, GID));
    R("chmod sw 06777", chmod("sw", 06777));
    st("sw");
}

static void u_write_suid(void)
{
    R("write sw as owner 1234", wr("sw", O_WRONLY | O_APPEND, "u"));
    st("sw");
    R("truncate sw as owner 1234", truncate("sw", 1));
    st("sw");
}

static void t_link_symlink(void)
{
    char buf[PATH_MAX];
    char target[300];

    puts("# link/symlink/readlink");
    mkfile("l1", "link");
    age(".");
    TR("link l1 l2", link("l1", "l2"), "l1", ".", NULL);
    st("l1");
    st("l2");
    R("link l1 l2 again (EEXIST)", link("l1", "l2"));
    R("link noent x", link("noent", "x"));
    R("link dir0 dirlink (EPERM)", link("dir0", "dirlink"));
    R("link l1 noent/x", link("l1", "noent/x"));
    R("link sl hsl (links the symlink)", link("sl", "hsl"));
    st("hsl");
    st("sl");
    R("linkat sl hslf AT_SYMLINK_FOLLOW",
      linkat(AT_FDCWD, "sl", AT_FDCWD, "hslf", AT_SYMLINK_FOLLOW));
    st("hslf");
    R("unlink hsl", unlink("hsl"));
    R("unlink hslf", unlink("hslf"));
    R("readlink sl", readlink("sl", buf, sizeof(buf)));
    R("readlink sl small buffer", readlink("sl", buf, 0) < 0 ? -1 : 0);
    R("readlink f (EINVAL)", readlink("f", buf, sizeof(buf)));
    R("readlink noent", readlink("noent", buf, sizeof(buf)));
    R("symlink over existing", symlink("x", "f"));
    R("symlink empty target", symlink("", "sempty"));
    memset(target, 'a', sizeof(target) - 1);
    target[sizeof(target) - 1] = 0;
    R("symlink long target (299)", symlink(target, "slong"));
    R("readlink slong", readlink("slong", buf, sizeof(buf)));
    st("slong");
    R("symlink abs target", symlink("/etc/passwd", "sabs"));
    R("readlink sabs", readlink("sabs", buf, sizeof(buf)));
    buf[11] = 0;
    note("target %s", buf);
    st("sabs");
}

static void t_rename(void)
{
    puts("# rename");
    mkfile("ra", "A");
    mkfile("rb", "B");
    link("ra", "ra.keep"); /* to see the moved inode's times */
    age(".");
    TR("rename ra rb (over file)", rename("ra", "rb"), "ra.keep", ".", NULL);
    unlink("ra.keep");
    st("ra");
    content("rb");
    mkdir("rd1", 0755);
    mkdir("rd2", 0755);
    mkdir("rd3", 0755);
    mkfile("rd3/x", "x");
    mkfile("rf", "F");
    R("rename rf rd1 (file over dir)", rename("rf", "rd1"));
    R("rename rd1 rf (dir over file)", rename("rd1", "rf"));
    R("rename rd1 rd2 (over empty dir)", rename("rd1", "rd2"));
    st("rd1");
    st("rd2");
    R("rename rd2 rd3 (over non-empty dir)", rename("rd2", "rd3"));
    mkdir("rd2/sub", 0755);
    R("rename rd2 rd2/sub/x (into own subdir)", rename("rd2", "rd2/sub/x"));
    R("rename rd2 rd2 (self)", rename("rd2", "rd2"));
    link("rf", "rf2");
    R("rename rf rf2 (hard links of one file)", rename("rf", "rf2"));
    st("rf");
    st("rf2");
    R("rename noent x", rename("noent", "x"));
    R("rename rf noent/x", rename("rf", "noent/x"));
    age("rd2");
    age("rd3");
    TR("rename rd3/x rd2/x (across dirs)", rename("rd3/x", "rd2/x"), "rd2",
       "rd3", "rd2/x");
    R("rename rd2/sub rd3/sub (dir across dirs)", rename("rd2/sub", "rd3/sub"));
    st("rd2");
    st("rd3");
    R("rename . x", rename(".", "x"));
    R("rename x .", rename("rf", "."));
    puts("# renameat2");
    mkfile("n1", "1");
    mkfile("n2", "2");
    R("RENAME_NOREPLACE n1 n2",
      renameat2(AT_FDCWD, "n1", AT_FDCWD, "n2", RENAME_NOREPLACE));
    R("RENAME_NOREPLACE n1 n3",
      renameat2(AT_FDCWD, "n1", AT_FDCWD, "n3", RENAME_NOREPLACE));
    R("RENAME_EXCHANGE n3 n2",
      renameat2(AT_FDCWD, "n3", AT_FDCWD, "n2", RENAME_EXCHANGE));
    content("n2");
    content("n3");
    R("RENAME_EXCHANGE n3 noent",
      renameat2(AT_FDCWD, "n3", AT_FDCWD, "noent", RENAME_EXCHANGE));
    R("RENAME_EXCHANGE n3 rd2 (file<->dir)",
      renameat2(AT_FDCWD, "n3", AT_FDCWD, "rd2", RENAME_EXCHANGE));
    st("n3");
    st("rd2");
    R("RENAME_EXCHANGE|NOREPLACE",
      renameat2(AT_FDCWD, "n3", AT_FDCWD, "rd2",
                RENAME_EXCHANGE | RENAME_NOREPLACE));
    R("RENAME_WHITEOUT n2 n4",
      renameat2(AT_FDCWD, "n2", AT_FDCWD, "n4", RENAME_WHITEOUT));
    st("n2");
    st("n4");
    R("rename flags 0x80 (EINVAL)",
      renameat2(AT_FDCWD, "n4", AT_FDCWD, "n5", 0x80));
}

static void t_dirs(void)
{
    char buf[64];

    puts("# mkdir/rmdir/unlink");
    age(".");
    TR("mkdir md 0777 (umask 022)", mkdir("md", 0777), ".", NULL, NULL);
    st("md");
    st(".");
    R("mkdir md again", mkdir("md", 0755));
    R("mkdir noent/x", mkdir("noent/x", 0755));
    R("mkdir f/x", mkdir("f/x", 0755));
    R("mkdir md/sub", mkdir("md/sub", 01777));
    st("md");
    st("md/sub");
    R("rmdir md (ENOTEMPTY)", rmdir("md"));
    R("rmdir f (ENOTDIR)", rmdir("f"));
    R("rmdir noent", rmdir("noent"));
    R("rmdir md/sub/.", rmdir("md/sub/."));
    R("rmdir md/sub", rmdir("md/sub"));
    st("md");
    R("unlink md (EISDIR)", unlink("md"));
    R("unlink noent", unlink("noent"));
    R("unlink md/noent", unlink("md/noent"));
    R("unlinkat md AT_REMOVEDIR", unlinkat(AT_FDCWD, "md", AT_REMOVEDIR));
    mkfile("ul", "x");
    link("ul", "ul2");
    TR("unlink ul", unlink("ul"), "ul2", ".", NULL);
    st("ul2");
    /* set-gid directories pass their group on. */
    R("mkdir sg", mkdir("sg", 0755));
    R("chown sg 0:5678", chown("sg", 0, GID));
    R("chmod sg 02775", chmod("sg", 02775));
    R("create sg/f", openclose("sg/f", O_CREAT | O_WRONLY, 0644));
    st("sg/f");
    R("mkdir sg/d", mkdir("sg/d", 0755));
    st("sg/d");
    /* Long names. */
    memset(buf, 0, sizeof(buf));
    {
        char n255[257];

        memset(n255, 'n', 255);
        n255[255] = 0;
        R("create 255-byte name", openclose(n255, O_CREAT | O_WRONLY, 0644));
        R("stat 255-byte name", access(n255, F_OK));
        R("unlink 255-byte name", unlink(n255));
        R("mkdir 255-byte name", mkdir(n255, 0755));
        R("rmdir 255-byte name", rmdir(n255));
        n255[255] = 'n';
        n255[256] = 0;
        R("create 256-byte name", openclose(n255, O_CREAT | O_WRONLY, 0644));
        R("stat 256-byte name", access(n255, F_OK));
        R("mkdir 256-byte name", mkdir(n255, 0755));
        R("symlink to 256-byte name", symlink("x", n255));
        R("rename to 256-byte name", rename("f", n255));
    }
}

static void u_dirs(void)
{
    R("user: mkdir in root-owned 0755 dir", mkdir("ud", 0755));
    R("user: create sg/uf (group-writable set-gid dir)",
      openclose("sg/uf", O_CREAT | O_WRONLY, 0644));
    st("sg/uf");
}

static void t_special(void)
{
    puts("# mkfifo/mknod");
    R("mkfifo fifo 0640", mkfifo("fifo", 0640));
    st("fifo");
    R("mkfifo fifo again", mkfifo("fifo", 0640));
    R("mknod reg S_IFREG", mknod("mreg", S_IFREG | 0600, 0));
    st("mreg");
    R("mknod fifo2 S_IFIFO", mknod("fifo2", S_IFIFO | 0600, 0));
    st("fifo2");
    R("mknod whiteout c 0:0", mknod("wh", S_IFCHR | 0600, makedev(0, 0)));
    st("wh");
    R("mknod sock S_IFSOCK", mknod("sock", S_IFSOCK | 0600, 0));
    st("sock");
    /* Device nodes (inert files with the node in an xattr on ckrun's
     * host side): what the guest sees must be the node it made. */
    R("mknod chr c 1:3", mknod("chr", S_IFCHR | 0640, makedev(1, 3)));
    st("chr");
    R("mknod chr again (EEXIST)", mknod("chr", S_IFCHR | 0600, makedev(1, 3)));
    R("mknod blk b 7:0", mknod("blk", S_IFBLK | 0600, makedev(7, 0)));
    st("blk");
    R("mknod chr 04755 (set-uid kept)",
      mknod("chr2", S_IFCHR | 04755, makedev(5, 1)));
    st("chr2");
    R("chmod chr 0604", chmod("chr", 0604));
    st("chr");
    R("chown chr 1234:5678", chown("chr", UID, GID));
    st("chr");
    R("chown chr -1:0", chown("chr", (uid_t)-1, 0));
    st("chr");
    R("truncate chr (EINVAL)", truncate("chr", 0));
    R("link chr chrl", link("chr", "chrl"));
    st("chrl");
    st("chr");
    R("rename chrl chrm", rename("chrl", "chrm"));
    st("chrm");
    R("rename blk over chrm", rename("blk", "chrm"));
    st("chrm");
    st("chr");
    R("unlink chrm", unlink("chrm"));
    R("unlink chr2", unlink("chr2"));
    R("unlink chr", unlink("chr"));
    st("chr");
    R("mknod bad type", mknod("bad", 0170000 | 0600, 0));
    R("mknod over existing", mknod("fifo", S_IFIFO | 0600, 0));
    {
        int fd = open("fifo", O_RDWR | O_NONBLOCK);
        char c = 0;

        R("open fifo O_RDWR", fd < 0 ? -1 : 0);
        if (fd >= 0) {
            R("write fifo", write(fd, "p", 1));
            R("read fifo", read(fd, &c, 1));
            note("got %c", c);
            close(fd);
        }
        R("open fifo O_WRONLY|O_NONBLOCK (no reader)",
          openclose("fifo", O_WRONLY | O_NONBLOCK, 0));
    }
}

static void t_utimens(void)
{
    struct timespec ts[2] = {{1000, 5}, {2000, 7}};
    struct stat s, s2;
    time_t now = time(NULL);

    puts("# utimensat");
    mkfile("u", "u");
    R("utimensat u 1000.5 2000.7", utimensat(AT_FDCWD, "u", ts, 0));
    lstat("u", &s);
    note("a=%lld.%09ld m=%lld.%09ld", (long long)s.st_atim.tv_sec,
         s.st_atim.tv_nsec, (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
    ts[0].tv_nsec = UTIME_NOW;
    ts[1].tv_nsec = UTIME_OMIT;
    TR("utimensat u NOW OMIT", utimensat(AT_FDCWD, "u", ts, 0), "u", NULL,
       NULL);
    lstat("u", &s);
    note("a recent=%d m=%lld.%09ld", s.st_atim.tv_sec >= now - 5,
         (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
    ts[0] = (struct timespec){3000, UTIME_OMIT};
    ts[1] = (struct timespec){4000, 9};
    TR("utimensat u OMIT 4000.9", utimensat(AT_FDCWD, "u", ts, 0), "u", NULL,
       NULL);
    lstat("u", &s2);
    note("a kept=%d m=%lld.%09ld", !tscmp(&s.st_atim, &s2.st_atim),
         (long long)s2.st_mtim.tv_sec, s2.st_mtim.tv_nsec);
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_nsec = UTIME_OMIT;
    TR("utimensat u OMIT OMIT", utimensat(AT_FDCWD, "u", ts, 0), "u", NULL,
       NULL);
    TR("utimensat u NULL (now)", utimensat(AT_FDCWD, "u", NULL, 0), "u", NULL,
       NULL);
    lstat("u", &s);
    note("a recent=%d m recent=%d", s.st_atim.tv_sec >= now - 5,
         s.st_mtim.tv_sec >= now - 5);
    symlink("u", "usl");
    ts[0] = (struct timespec){5000, 0};
    ts[1] = (struct timespec){6000, 0};
    TR("utimensat usl AT_SYMLINK_NOFOLLOW",
       utimensat(AT_FDCWD, "usl", ts, AT_SYMLINK_NOFOLLOW), "usl", "u", NULL);
    lstat("usl", &s);
    note("link m=%lld", (long long)s.st_mtim.tv_sec);
    R("utimensat usl (follows)", utimensat(AT_FDCWD, "usl", ts, 0));
    lstat("u", &s);
    note("target m=%lld", (long long)s.st_mtim.tv_sec);
    ts[1].tv_nsec = 1000000000;
    R("utimensat bad nsec", utimensat(AT_FDCWD, "u", ts, 0));
    R("utimensat noent", utimensat(AT_FDCWD, "noent", NULL, 0));
    {
        int fd = open("u", O_RDONLY);
        struct timeval tv[2] = {{7000, 0}, {8000, 0}};

        R("futimens fd NULL", futimens(fd, NULL));
        R("futimes 7000 8000", futimes(fd, tv));
        fstat(fd, &s);
        note("a=%lld m=%lld", (long long)s.st_atim.tv_sec,
             (long long)s.st_mtim.tv_sec);
        close(fd);
    }
    chown("u", UID, GID);
    chmod("u", 0644);
}

static void u_utimens(void)
{
    struct timespec ts[2] = {{1, 0}, {2, 0}};

    R("user: utimensat NULL on root's file (EACCES)",
      utimensat(AT_FDCWD, "f", NULL, 0));
    R("user: utimensat times on root's file (EPERM)",
      utimensat(AT_FDCWD, "f", ts, 0));
    R("user: utimensat times on own file", utimensat(AT_FDCWD, "u", ts, 0));
}

static void t_xattr(void)
{
    char buf[256];
    ssize_t n;

    puts("# xattrs");
    mkfile("x", "x");
    R("getxattr user.a (ENODATA)", getxattr("x", "user.a", buf, sizeof(buf)));
    TR("setxattr user.a", setxattr("x", "user.a", "value", 5, 0), "x", NULL,
       NULL);
    R("setxattr user.a XATTR_CREATE (EEXIST)",
      setxattr("x", "user.a", "v", 1, XATTR_CREATE));
    R("setxattr user.b XATTR_REPLACE (ENODATA)",
      setxattr("x", "user.b", "v", 1, XATTR_REPLACE));
    R("setxattr user.a XATTR_REPLACE",
      setxattr("x", "user.a", "vv", 2, XATTR_REPLACE));
    R("setxattr user.b XATTR_CREATE",
      setxattr("x", "user.b", "", 0, XATTR_CREATE));
    R("setxattr user.c both flags",
      setxattr("x", "user.c", "v", 1, XATTR_CREATE | XATTR_REPLACE));
    R("getxattr user.a", n = getxattr("x", "user.a", buf, sizeof(buf)));
    note("value %.*s", n > 0 ? (int)n : 0, buf);
    R("getxattr user.a size 0", getxattr("x", "user.a", NULL, 0));
    R("getxattr user.a size 1 (ERANGE)", getxattr("x", "user.a", buf, 1));
    R("getxattr user.b (empty)", getxattr("x", "user.b", buf, sizeof(buf)));
    R("setxattr trusted.t", setxattr("x", "trusted.t", "tt", 2, 0));
    R("getxattr trusted.t", getxattr("x", "trusted.t", buf, sizeof(buf)));
    R("listxattr size 0", listxattr("x", NULL, 0));
    R("listxattr", n = listxattr("x", buf, sizeof(buf)));
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
        note("name %s", buf + i);
    R("listxattr size 3 (ERANGE)", listxattr("x", buf, 3));
    R("removexattr user.a", removexattr("x", "user.a"));
    R("removexattr user.a again (ENODATA)", removexattr("x", "user.a"));
    R("removexattr trusted.t", removexattr("x", "trusted.t"));
    R("getxattr bad namespace", getxattr("x", "bogus.a", buf, sizeof(buf)));
    R("setxattr bad namespace", setxattr("x", "bogus.a", "v", 1, 0));
    R("setxattr empty name", setxattr("x", "", "v", 1, 0));
    memset(buf, 'k', 255);
    memcpy(buf, "user.", 5);
    buf[255] = 0;
    R("setxattr 255-byte name", setxattr("x", buf, "v", 1, 0));
    R("removexattr 255-byte name", removexattr("x", buf));
    {
        char big[300];

        memset(big, 'k', 299);
        memcpy(big, "user.", 5);
        big[299] = 0;
        R("setxattr 299-byte name (ERANGE)", setxattr("x", big, "v", 1, 0));
    }
    {
        static char val[70000];

        R("setxattr 4000-byte value", setxattr("x", "user.big", val, 4000, 0));
        R("getxattr 4000-byte value",
          getxattr("x", "user.big", val, sizeof(val)));
        R("setxattr 70000-byte value (E2BIG)",
          setxattr("x", "user.huge", val, sizeof(val), 0));
    }
    R("lsetxattr user.* on symlink (EPERM)",
      lsetxattr("sl", "user.a", "v", 1, 0));
    R("lsetxattr trusted.* on symlink",
      lsetxattr("sl", "trusted.a", "v", 1, 0));
    R("lgetxattr trusted.* on symlink",
      lgetxattr("sl", "trusted.a", buf, sizeof(buf)));
    R("getxattr trusted.* through symlink (target)",
      getxattr("sl", "trusted.a", buf, sizeof(buf)));
    R("setxattr user.* on dir", setxattr("dir0", "user.d", "d", 1, 0));
    R("setxattr user.* on fifo (EPERM)", setxattr("fifo", "user.p", "p", 1, 0));
    R("getxattr noent", getxattr("noent", "user.a", buf, sizeof(buf)));
    {
        int fd = open("x", O_RDONLY);

        R("fsetxattr user.f", fsetxattr(fd, "user.f", "f", 1, 0));
        R("fgetxattr user.f", fgetxattr(fd, "user.f", buf, sizeof(buf)));
        R("flistxattr", flistxattr(fd, buf, sizeof(buf)));
        R("fremovexattr user.f", fremovexattr(fd, "user.f"));
        close(fd);
    }
}

static void u_xattr(void)
{
    char buf[64];

    R("user: setxattr user.* on root's 0644 file (EACCES)",
      setxattr("x", "user.u", "u", 1, 0));
    R("user: getxattr user.b on root's 0644 file",
      getxattr("x", "user.b", buf, sizeof(buf)));
    R("user: setxattr trusted.* (EPERM)",
      setxattr("u", "trusted.u", "u", 1, 0));
    R("user: getxattr trusted.t hidden",
      getxattr("x", "trusted.t", buf, sizeof(buf)));
}

static void fa(int fd, const char *desc, int mode, off_t off, off_t len)
{
    struct stat s;

    R(desc, fallocate(fd, mode, off, len));
    fstat(fd, &s);
    note("sz=%lld blocks=%lld", (long long)s.st_size, (long long)s.st_blocks);
}

static void t_fallocate_seek(void)
{
    static char blk[8192];
    int fd;

    puts("# fallocate/lseek");
    fd = open("fa", O_RDWR | O_CREAT | O_TRUNC, 0644);
    memset(blk, 'D', sizeof(blk));
    fa(fd, "fallocate 0 0+16384", 0, 0, 16384);
    fa(fd, "fallocate KEEP_SIZE 16384+16384", FALLOC_FL_KEEP_SIZE, 16384,
       16384);
    R("pwrite 8192 at 0", pwrite(fd, blk, 8192, 0));
    fa(fd, "fallocate PUNCH_HOLE|KEEP_SIZE 0+4096",
       FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096);
    fa(fd, "fallocate PUNCH_HOLE alone (EOPNOTSUPP)", FALLOC_FL_PUNCH_HOLE, 0,
       4096);
    fa(fd, "fallocate ZERO_RANGE 4096+4096", FALLOC_FL_ZERO_RANGE, 4096, 4096);
    fa(fd, "fallocate ZERO_RANGE 16384+8192", FALLOC_FL_ZERO_RANGE, 16384,
       8192);
    fa(fd, "fallocate ZERO_RANGE|KEEP_SIZE 65536+4096",
       FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 65536, 4096);
    fa(fd, "fallocate len 0 (EINVAL)", 0, 0, 0);
    fa(fd, "fallocate bad mode", 0x4000, 0, 4096);
    close(fd);
    /* Modes the Linux FUSE client does not forward (see conform.allow). */
    fd = open("fc", O_RDWR | O_CREAT | O_TRUNC, 0644);
    R("pwrite 8192 at 0", pwrite(fd, blk, 8192, 0));
    R("fallocate COLLAPSE_RANGE 0+4096",
      fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096));
    R("fallocate INSERT_RANGE 0+8192",
      fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 8192));
    R("fallocate COLLAPSE_RANGE 4096+4096",
      fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 4096, 4096));
    close(fd);
    fd = open("fa", O_RDONLY);
    R("fallocate on O_RDONLY fd (EBADF)", fallocate(fd, 0, 0, 4096));
    close(fd);
    fd = open("dir0", O_RDONLY | O_DIRECTORY);
    R("fallocate on dir", fallocate(fd, 0, 0, 4096));
    close(fd);

    fd = open("sk", O_RDWR | O_CREAT | O_TRUNC, 0644);
    R("pwrite 4096 at 0", pwrite(fd, blk, 4096, 0));
    R("pwrite 4096 at 1 MiB", pwrite(fd, blk, 4096, 1 << 20));
    fsync(fd);
    R("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
    R("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
    R("SEEK_DATA 8192", lseek(fd, 8192, SEEK_DATA));
    R("SEEK_HOLE 1 MiB", lseek(fd, 1 << 20, SEEK_HOLE));
    R("SEEK_DATA at EOF (ENXIO)", lseek(fd, (1 << 20) + 4096, SEEK_DATA));
    R("SEEK_HOLE past EOF (ENXIO)", lseek(fd, 1 << 21, SEEK_HOLE));
    R("SEEK_END -10", lseek(fd, -10, SEEK_END));
    R("SEEK_SET -1 (EINVAL)", lseek(fd, -1, SEEK_SET));
    R("SEEK_SET beyond EOF", lseek(fd, 1 << 30, SEEK_SET));
    close(fd);
    {
        int a = open("sk", O_RDONLY), b = open("cfr", O_WRONLY | O_CREAT, 0644);
        loff_t ia = (1 << 20) + 100, ib = 0;

        R("copy_file_range 100 bytes", copy_file_range(a, &ia, b, &ib, 100, 0));
        R("copy_file_range at EOF", copy_file_range(a, &ia, b, &ib, 100000, 0));
        close(a);
        close(b);
        content("cfr");
    }
}

static void lk_res(const char *desc, int fd, int cmd, short type, off_t start,
                   off_t len)
{
    struct flock fl = {
        .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

    R(desc, fcntl(fd, cmd, &fl));
}

static void lk_get(const char *desc, int fd, int cmd, off_t start, off_t len,
                   pid_t holder)
{
    struct flock fl = {.l_type = F_WRLCK,
                       .l_whence = SEEK_SET,
                       .l_start = start,
                       .l_len = len};

    R(desc, fcntl(fd, cmd, &fl));
    note("type=%s start=%lld len=%lld pid=%s",
         fl.l_type == F_UNLCK   ? "UN"
         : fl.l_type == F_RDLCK ? "RD"
                                : "WR",
         (long long)fl.l_start, (long long)fl.l_len,
         fl.l_pid == holder ? "holder"
         : fl.l_pid == 0    ? "0"
         : fl.l_pid == -1   ? "-1"
                            : "other");
}

static void t_locks(void)
{
    int fd, a, b, stt;
    pid_t parent = getpid(), pid;
    int pipefd[2];

    puts("# locks");
    mkfile("lk", "0123456789abcdefghij");
    fd = open("lk", O_RDWR);
    lk_res("F_SETLK WR 0+10", fd, F_SETLK, F_WRLCK, 0, 10);
    lk_res("F_SETLK RD 12+4", fd, F_SETLK, F_RDLCK, 12, 4);
    fflush(stdout);
    if (pipe(pipefd) < 0)
        return;
    pid = fork();
    if (pid == 0) {
        int c = open("lk", O_RDWR);
        char x;

        lk_res("child F_SETLK WR 0+10 (conflict)", c, F_SETLK, F_WRLCK, 0, 10);
        lk_res("child F_SETLK RD 5+1 (conflict)", c, F_SETLK, F_RDLCK, 5, 1);
        lk_res("child F_SETLK WR 10+2 (free)", c, F_SETLK, F_WRLCK, 10, 2);
        lk_res("child F_SETLK RD 12+4 (shared)", c, F_SETLK, F_RDLCK, 12, 4);
        lk_res("child F_SETLK WR 12+4 (conflict)", c, F_SETLK, F_WRLCK, 12, 4);
        lk_get("child F_GETLK 0+0", c, F_GETLK, 0, 0, parent);
        lk_get("child F_GETLK 20+5", c, F_GETLK, 20, 5, parent);
        /* Tell the parent we're about to wait, then wait. */
        (void)!write(pipefd[1], "w", 1);
        lk_res("child F_SETLKW WR 0+10 (waits for unlock)", c, F_SETLKW,
               F_WRLCK, 0, 10);
        (void)!read(pipefd[0], &x, 0);
        close(c);
        fflush(stdout);
        _exit(0);
    }
    {
        char x;

        (void)!read(pipefd[0], &x, 1);
    }
    usleep(200000);
    /* The child's waiting line prints after the unlock. */
    {
        struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET};

        fcntl(fd, F_SETLK, &fl);
    }
    waitpid(pid, &stt, 0);
    close(pipefd[0]);
    close(pipefd[1]);
    lk_res("F_SETLK WR 0+10 after child exit", fd, F_SETLK, F_WRLCK, 0, 10);
    /* POSIX locks belong to the process, not to the open file: a second
     * open of the file in the same process does not conflict, and closing
     * any descriptor of the file drops all of the process's locks. */
    a = open("lk", O_RDWR);
    lk_res("F_SETLK WR 0+10 on a second fd (same process)", a, F_SETLK, F_WRLCK,
           0, 10);
    close(a);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int c = open("lk", O_RDWR);

        lk_get("child F_GETLK after parent closed another fd", c, F_GETLK, 0, 0,
               parent);
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, &stt, 0);
    close(fd);

    /* OFD locks: per open file description, within one process. */
    a = open("lk", O_RDWR);
    b = open("lk", O_RDWR);
    lk_res("F_OFD_SETLK WR a 0+10", a, F_OFD_SETLK, F_WRLCK, 0, 10);
    lk_res("F_OFD_SETLK WR b 5+10 (conflict)", b, F_OFD_SETLK, F_WRLCK, 5, 10);
    lk_get("F_OFD_GETLK b 0+0", b, F_OFD_GETLK, 0, 0, parent);
    lk_res("F_OFD_SETLK WR a 5+10 (own, merges)", a, F_OFD_SETLK, F_WRLCK, 5,
           10);
    lk_res("F_OFD_SETLK UN a", a, F_OFD_SETLK, F_UNLCK, 0, 0);
    lk_res("F_OFD_SETLK WR b 5+10", b, F_OFD_SETLK, F_WRLCK, 5, 10);
    close(a);
    close(b);

    /* flock. */
    a = open("lk", O_RDWR);
    b = open("lk", O_RDWR);
    R("flock a LOCK_EX", flock(a, LOCK_EX));
    R("flock b LOCK_EX|LOCK_NB (conflict)", flock(b, LOCK_EX | LOCK_NB));
    R("flock b LOCK_SH|LOCK_NB (conflict)", flock(b, LOCK_SH | LOCK_NB));
    R("flock a LOCK_SH (downgrade)", flock(a, LOCK_SH));
    R("flock b LOCK_SH|LOCK_NB", flock(b, LOCK_SH | LOCK_NB));
    R("flock a LOCK_EX|LOCK_NB (conflict)", flock(a, LOCK_EX | LOCK_NB));
    R("flock b LOCK_UN", flock(b, LOCK_UN));
    R("flock a LOCK_EX|LOCK_NB", flock(a, LOCK_EX | LOCK_NB));
    lk_res("fcntl WR lock beside flock", b, F_SETLK, F_WRLCK, 0, 0);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int c = open("lk", O_RDWR);

        R("child flock LOCK_SH|LOCK_NB (conflict)",
          flock(c, LOCK_SH | LOCK_NB));
        close(a); /* the parent's flock survives: b's description shared */
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, &stt, 0);
    close(a);
    close(b);
    a = open("lk", O_RDWR);
    R("flock after close LOCK_EX|LOCK_NB", flock(a, LOCK_EX | LOCK_NB));
    close(a);
}

static void t_access_statfs(void)
{
    struct statfs sf;

    puts("# access/statfs/readdir");
    mkfile("ac", "a");
    chmod("ac", 0444);
    R("access ac F_OK", access("ac", F_OK));
    R("access ac W_OK (root)", access("ac", W_OK));
    R("access ac X_OK (root, no x bit)", access("ac", X_OK));
    chmod("ac", 0744);
    R("access ac X_OK (owner x)", access("ac", X_OK));
    R("access noent", access("noent", F_OK));
    R("access ac/x", access("ac/x", F_OK));
    R("faccessat ac AT_EACCESS", faccessat(AT_FDCWD, "ac", R_OK, AT_EACCESS));
    R("faccessat sl AT_SYMLINK_NOFOLLOW",
      faccessat(AT_FDCWD, "sl", R_OK, AT_SYMLINK_NOFOLLOW));
    R("faccessat bad mode", faccessat(AT_FDCWD, "ac", 0100, 0));
    chmod("ac", 0600);
    R("statfs", statfs(".", &sf));
    note("bsize>0=%d namelen=%ld blocks>0=%d bfree<=blocks=%d bavail<=bfree=%d "
         "files>=ffree=%d",
         sf.f_bsize > 0, (long)sf.f_namelen, sf.f_blocks > 0,
         sf.f_bfree <= sf.f_blocks, sf.f_bavail <= sf.f_bfree,
         sf.f_files >= sf.f_ffree);
    {
        DIR *d;
        struct dirent *e;
        char names[64][32];
        int n = 0;

        mkdir("rdir", 0755);
        mkfile("rdir/file", "");
        mkdir("rdir/dir", 0755);
        symlink("x", "rdir/link");
        mkfifo("rdir/fifo", 0600);
        d = opendir("rdir");
        while (d && (e = readdir(d)) && n < 64)
            snprintf(names[n++], sizeof(names[0]), "%.24s:%d", e->d_name,
                     e->d_type);
        if (d)
            closedir(d);
        qsort(names, (size_t)n, sizeof(names[0]),
              (int (*)(const void *, const void *))strcmp);
        R("readdir rdir entries", n);
        for (int i = 0; i < n; i++)
            note("%s", names[i]);
    }
}

static void u_access(void)
{
    R("user: access ac R_OK (0600 root)", access("ac", R_OK));
    R("user: open ac (EACCES)", openclose("ac", O_RDONLY, 0));
    R("user: access u W_OK (own 0644)", access("u", W_OK));
    R("user: access u X_OK", access("u", X_OK));
    R("user: unlink in root 0755 dir", unlink("u"));
    R("user: chmod root's file", chmod("ac", 0666));
    R("user: chown own file to root", chown("u", 0, 0));
    R("user: chown own file to own group", chown("u", UID, GID));
    R("user: chmod own file 02644 (not in group 0)", chmod("u", 02644));
    R("user: chown own file to other group", chown("u", (uid_t)-1, 0));
    st("u");
}

int main(int argc, char **argv)
{
    if (argc != 2 || chdir(argv[1]) < 0) {
        fprintf(stderr, "usage: conform DIR (an empty directory; as root)\n");
        return 2;
    }
    umask(022);
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_open();
    t_truncate_chmod_chown();
    as_user(u_write_suid);
    t_link_symlink();
    t_rename();
    t_dirs();
    chmod(".", 0755);
    as_user(u_dirs);
    t_special();
    t_utimens();
    as_user(u_utimens);
    t_xattr();
    as_user(u_xattr);
    t_fallocate_seek();
    t_locks();
    t_access_statfs();
    as_user(u_access);
    printf("# %d operations\n", line_no);
    return 0;
}
