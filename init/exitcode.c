/* exitcode.c: fork/exec the workload, reap, report the status, reboot. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "stdio_ports.h"

int exit_code_from_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return EXIT_SETUP_FAILED;
}

int exit_code_from_exec_errno(int err)
{
    return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}

static int exec_workload(const struct init_config *cfg)
{
    int err;

    environ = cfg->env.v; /* execvp searches this environment's PATH */
    execvp(cfg->argv.v[0], cfg->argv.v);
    err = errno;
    fprintf(stderr, "Couldn't execute '%s': %s\n", cfg->argv.v[0],
            strerror(err));
    return exit_code_from_exec_errno(err);
}

static __attribute__((noreturn)) void child(const struct init_config *cfg)
{
    if (stdio_ports_redirect() < 0)
        _exit(EXIT_SETUP_FAILED);
    _exit(exec_workload(cfg));
}

int exitcode_run_workload(const struct init_config *cfg)
{
    pid_t pid = fork(), got;
    int status;

    if (pid < 0) {
        fprintf(stderr, "init: fork: %s\n", strerror(errno));
        return EXIT_SETUP_FAILED;
    }
    if (pid == 0)
        child(cfg);
    /* As PID 1, every orphan in the VM becomes our child: reap them all. */
    for (;;) {
        got = waitpid(-1, &status, 0);
        if (got == pid)
            return exit_code_from_status(status);
        if (got < 0 && errno != EINTR) {
            fprintf(stderr, "init: waitpid: %s\n", strerror(errno));
            return EXIT_SETUP_FAILED;
        }
    }
}

int exitcode_exec_pid1(const struct init_config *cfg)
{
    if (stdio_ports_redirect() < 0)
        return EXIT_SETUP_FAILED;
    return exec_workload(cfg);
}

/* The virtio-fs root, kept across a switch to a block-device root. */
static int kept_root = -1;

void exitcode_keep_root(void)
{
    struct statfs sf;

    if (kept_root < 0 && !statfs("/", &sf) && sf.f_type == FUSE_SUPER_MAGIC_)
        kept_root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void report(int code)
{
    struct statfs sf;
    int fd;

    if (kept_root >= 0) {
        if (ioctl(kept_root, KRUN_EXIT_CODE_IOCTL, code) < 0)
            fprintf(stderr, "init: reporting exit code %d: %s\n", code,
                    strerror(errno));
        return;
    }
    if (statfs("/", &sf) || sf.f_type != FUSE_SUPER_MAGIC_) {
        fprintf(stderr, "init: / is not virtio-fs; exit code %d not reported\n",
                code);
        return;
    }
    fd = open("/", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ioctl(fd, KRUN_EXIT_CODE_IOCTL, code) < 0)
        fprintf(stderr, "init: reporting exit code %d: %s\n", code,
                strerror(errno));
    if (fd >= 0)
        close(fd);
}

void exitcode_report_and_reboot(int code)
{
    report(code);
    sync();
    reboot(RB_AUTOBOOT);
    fprintf(stderr, "init: reboot: %s\n", strerror(errno));
    exit(code);
}
