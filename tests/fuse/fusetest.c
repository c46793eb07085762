/* fusetest.c: see fusetest.h. */
#include "fusetest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"

#define FUSE_SUPER_MAGIC 0x65735546

void ft_require(void)
{
    if (geteuid() != 0)
        t_skip_all("needs root");
    if (access("/dev/fuse", R_OK | W_OK) != 0)
        t_skip_all("no /dev/fuse");
    if (!getenv("CKRUN_FUSE"))
        t_skip_all("CKRUN_FUSE not set (run through make check-fuse)");
}

void ft_scratch(struct ftmount *m)
{
    char p[160];

    snprintf(m->base, sizeof(m->base), "/tmp/ckrun-fuse-XXXXXX");
    if (!mkdtemp(m->base))
        t_skip_all("mkdtemp: %s", strerror(errno));
    snprintf(m->share, sizeof(m->share), "%s/share", m->base);
    snprintf(m->mnt, sizeof(m->mnt), "%s/mnt", m->base);
    mkdir(m->share, 0755);
    mkdir(m->mnt, 0755);
    snprintf(p, sizeof(p), "%s/canary", m->base);
    ft_write(p, "CANARY");
}

bool ft_mount(struct ftmount *m, const char *opt, long nofile)
{
    char log[128];
    struct statfs sf;

    snprintf(log, sizeof(log), "%s/log", m->base);
    m->pid = fork();
    if (m->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        dup2(fd, 2);
        if (nofile > 0) {
            struct rlimit rl = {(rlim_t)nofile, (rlim_t)nofile};

            setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (opt)
            execl(getenv("CKRUN_FUSE"), "ckrun-fuse", "-o", opt, m->share,
                  m->mnt, (char *)NULL);
        else
            execl(getenv("CKRUN_FUSE"), "ckrun-fuse", m->share, m->mnt,
                  (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (statfs(m->mnt, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC)
            return true;
        if (waitpid(m->pid, NULL, WNOHANG) == m->pid)
            return false;
        usleep(10000);
    }
    return false;
}

int ft_umount(struct ftmount *m)
{
    int st = 0;

    kill(m->pid, SIGTERM);
    if (waitpid(m->pid, &st, 0) != m->pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void ft_cleanup(struct ftmount *m)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", m->base);
    if (system(cmd) != 0)
        t_diag("cleanup of %s failed", m->base);
}

int ft_read(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = 0;
    return (int)n;
}

int ft_write(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = write(fd, s, strlen(s));
    close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -EIO;
}
