/* guest_run.c: fork + krun_* + collect output; see guest_run.h. */
#include "guest_run.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <libkrun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef GUEST_ELF
#error "GUEST_ELF must name the test guest"
#endif

const char *guest_elf(void)
{
    return GUEST_ELF;
}

static pid_t last_pid;

int guest_pid(void)
{
    return last_pid;
}

void guest_require_kvm(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd < 0)
        t_skip_all("/dev/kvm: %s", strerror(errno));
    close(fd);
    if (access(GUEST_ELF, R_OK) != 0)
        t_skip_all("test guest %s missing", GUEST_ELF);
}

/* The child: become the VM.  Exit 200+ codes mean an API call failed. */
static void guest_child(const struct guest_opts *o, int out_fd, int err_fd)
{
    int ctx, rc;

    dup2(err_fd, 2);
    if (getenv("GUEST_LOG_LEVEL"))
        krun_set_log_level((uint32_t)atoi(getenv("GUEST_LOG_LEVEL")));
    ctx = krun_create_ctx();
    if (ctx < 0)
        _exit(201);
    rc = krun_set_vm_config((uint32_t)ctx, (uint8_t)(o->vcpus ? o->vcpus : 1),
                            o->ram_mib ? o->ram_mib : 64);
    if (rc == 0)
        rc = krun_set_kernel((uint32_t)ctx, o->kernel ? o->kernel : GUEST_ELF,
                             KRUN_KERNEL_FORMAT_ELF, NULL, o->cmdline);
    if (rc == 0) /* an empty environment keeps the command line predictable */
        rc = krun_set_env((uint32_t)ctx, (const char *const[]){NULL});
    if (rc == 0 && !o->implicit_console)
        rc = krun_disable_implicit_console((uint32_t)ctx);
    if (rc == 0)
        rc = krun_add_serial_console_default((uint32_t)ctx, -1, out_fd);
    if (rc == 0 && o->setup)
        rc = o->setup((uint32_t)ctx, o->arg);
    if (rc == 0)
        rc = krun_start_enter((uint32_t)ctx);
    dprintf(2, "krun_* failed: %d (%s)\n", rc, strerror(-rc));
    _exit(200);
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read both pipes until EOF on both or the deadline. */
static void collect(int fds[2], char *bufs[2], size_t size, long deadline)
{
    size_t len[2] = {0, 0};
    struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};

    while ((p[0].fd >= 0 || p[1].fd >= 0) && now_ms() < deadline) {
        if (poll(p, 2, (int)(deadline - now_ms())) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            char tmp[4096];
            ssize_t n;

            if (p[i].fd < 0 || !p[i].revents)
                continue;
            n = read(p[i].fd, tmp, sizeof(tmp));
            if (n <= 0) {
                p[i].fd = -1;
                continue;
            }
            if ((size_t)n > size - 1 - len[i])
                n = (ssize_t)(size - 1 - len[i]);
            memcpy(bufs[i] + len[i], tmp, (size_t)n);
            len[i] += (size_t)n;
            bufs[i][len[i]] = 0;
        }
    }
}

static void reap(pid_t pid, long deadline, struct guest_result *res)
{
    int ws;

    while (waitpid(pid, &ws, WNOHANG) == 0) {
        if (now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &ws, 0);
            res->timed_out = true;
            res->status = -1;
            return;
        }
        usleep(1000);
    }
    res->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    res->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
}

int guest_run(const struct guest_opts *o, struct guest_result *res)
{
    int out[2], err[2];
    long deadline = now_ms() + (o->timeout_ms ? o->timeout_ms : 20000);
    pid_t pid;

    memset(res, 0, sizeof(*res));
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
        return -errno;
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        close(out[0]);
        close(err[0]);
        guest_child(o, out[1], err[1]);
    }
    close(out[1]);
    close(err[1]);
    last_pid = pid;
    if (o->forked)
        o->forked(o->arg);
    collect((int[2]){out[0], err[0]}, (char *[2]){res->serial, res->log},
            sizeof(res->serial), deadline);
    close(out[0]);
    close(err[0]);
    reap(pid, deadline, res);
    if (res->status != 0 || res->timed_out)
        t_diag("guest log: %s", res->log);
    return 0;
}
