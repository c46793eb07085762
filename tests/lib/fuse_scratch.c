/*
 * fuse_scratch.c: the FUSE fuzzers' scratch share (see fuse_scratch.h).
 */
#include "fuse_scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

static void make_tree(const char *dir)
{
    char p[96];
    FILE *f;

    snprintf(p, sizeof(p), "%s/file", dir);
    f = fopen(p, "w");
    if (f) {
        fputs("some data\n", f);
        fclose(f);
    }
    snprintf(p, sizeof(p), "%s/sub", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/sub/inner", dir);
    close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    snprintf(p, sizeof(p), "%s/link", dir);
    (void)!symlink("/etc/passwd", p);
    snprintf(p, sizeof(p), "%s/fifo", dir);
    mkfifo(p, 0666);
    if (geteuid() == 0) {
        snprintf(p, sizeof(p), "%s/null", dir);
        mknod(p, S_IFCHR | 0666, makedev(1, 3));
    }
}

static int write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : write(fd, s, strlen(s));

    if (fd >= 0)
        close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Not root: a user namespace of our own (root in it, mapped to our ids)
 * with a mount namespace, where the tmpfs can be mounted. */
static int own_userns(void)
{
    char map[32];
    uid_t uid = geteuid();
    gid_t gid = getegid();

    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
        return -1;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
    if (write_file("/proc/self/uid_map", map) < 0)
        return -1;
    (void)write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
    return write_file("/proc/self/gid_map", map);
}

int fuse_scratch_setup(struct fuse_scratch *s, const char *tag)
{
    struct rlimit fsize = {64 << 20, 64 << 20};

    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/ckrun-%.16s-XXXXXX", tag);
    if (!mkdtemp(s->dir))
        return -errno;
    /* A private mount namespace first: the tmpfs must not propagate. */
    s->on_tmpfs = (unshare(CLONE_NEWNS) == 0 || own_userns() == 0) &&
                  mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
                  mount("fuzz", s->dir, "tmpfs", MS_NOSUID,
                        "size=64m,nr_inodes=8192,mode=0755") == 0;
    if (!s->on_tmpfs) {
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &fsize);
    }
    make_tree(s->dir);
    /* The tmpfs leaves the host's /tmp at once: detached and its mount
     * point removed, it lives on through this fd for the process's life. */
    snprintf(s->root, sizeof(s->root), "%s", s->dir);
    if (s->on_tmpfs) {
        int fd = open(s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0 && umount2(s->dir, MNT_DETACH) == 0 && rmdir(s->dir) == 0)
            snprintf(s->root, sizeof(s->root), "/proc/self/fd/%d", fd);
    }
    return 0;
}

void fuse_scratch_send(const struct fuse_scratch *s, struct fuse_server *srv,
                       const uint8_t *d, size_t len, uint8_t *out,
                       size_t out_len)
{
    size_t cut = len ? d[0] % (len + 1) : 0;
    struct iovec in[2] = {{(void *)(uintptr_t)d, cut},
                          {(void *)(uintptr_t)(d + cut), len - cut}};
    struct iovec ov[2] = {{out, 100}, {out + 100, out_len - 100}};
    struct fuse_in_header h;

    if (len >= sizeof(h)) {
        memcpy(&h, d, sizeof(h));
        if (h.opcode == FUSE_SETLKW ||
            (!s->on_tmpfs && h.opcode == FUSE_FALLOCATE))
            return;
    }
    fuse_server_handle(srv, in, 2, ov, 2);
}
