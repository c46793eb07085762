/*
 * test_sandbox.c: the seccomp filters of every thread role, each in a forked
 * child: what the role needs still works, a forbidden syscall (socket, an
 * executable mmap) ends the process with status 159 and a log line naming
 * the role, the thread and the syscall, another ABI's syscall (x32) kills it
 * with SIGSYS, KRUN_SECCOMP switches the filters off or to log mode, and
 * the filters stack on an outer one loaded with NoNewPrivs (crun's way).
 */
#include "sandbox/sandbox.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define X32_SYSCALL_BIT 0x40000000

enum action { DO_ALLOWED, DO_SOCKET, DO_MMAP_EXEC, DO_X32 };

struct outcome {
    int status; /* exit status, or -1 */
    int signal; /* killing signal, or 0 */
    char log[1024];
};

/* The child: prepare, enter (role), do (what); its stderr is the log. */
/* What crun leaves us: NoNewPrivs and an allow-by-default filter of its own
 * (podman's default profile refuses a list of calls with EPERM). */
static bool outer_filter;

static void load_outer_filter(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

    if (!ctx ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(acct), 0) < 0 ||
        seccomp_load(ctx) < 0) /* sets NO_NEW_PRIVS itself */
        _exit(105);
    seccomp_release(ctx);
}

static void child(enum sandbox_role role, enum action what)
{
    void *p;

    prctl(PR_SET_NAME, "sbx-test");
    if (outer_filter)
        load_outer_filter();
    if (sandbox_prepare() < 0)
        _exit(101);
    if (sandbox_enter(role) < 0)
        _exit(102);
    switch (what) {
    case DO_ALLOWED: /* the common table: memory, time, write, getpid */
        p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || getpid() <= 0)
            _exit(103);
        memset(p, 1, 1 << 20);
        munmap(p, 1 << 20);
        free(malloc(1 << 22)); /* mmap/munmap through malloc */
        _exit(0);
    case DO_SOCKET:
        syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
        break;
    case DO_MMAP_EXEC:
        mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
             0);
        break;
    case DO_X32:
        syscall(X32_SYSCALL_BIT | SYS_getpid);
        break;
    }
    _exit(104); /* the forbidden call returned */
}

static void run(enum sandbox_role role, enum action what, struct outcome *o)
{
    int err[2], ws;
    ssize_t n, len = 0;
    pid_t pid;

    memset(o, 0, sizeof(*o));
    o->status = -1;
    if (pipe2(err, O_CLOEXEC) < 0)
        t_skip_all("pipe: %m");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        dup2(err[1], STDERR_FILENO);
        child(role, what);
    }
    close(err[1]);
    while ((n = read(err[0], o->log + len, sizeof(o->log) - 1 - (size_t)len)) >
           0)
        len += n;
    close(err[0]);
    waitpid(pid, &ws, 0);
    if (WIFEXITED(ws))
        o->status = WEXITSTATUS(ws);
    else if (WIFSIGNALED(ws))
        o->signal = WTERMSIG(ws);
}

static void test_allowed(void)
{
    struct outcome o;

    for (int r = 0; r < SANDBOX_NR_ROLES; r++) {
        run(r, DO_ALLOWED, &o);
        if (!CHECK_EQ(o.status, 0))
            t_diag("%s: %s", sandbox_role_name(r), o.log);
    }
}

/* Each role: socket traps, the log line says who and what. */
static void test_forbidden_socket(void)
{
    char want[160];
    struct outcome o;

    for (int r = 0; r < SANDBOX_NR_ROLES; r++) {
        run(r, DO_SOCKET, &o);
        CHECK_EQ(o.status, SANDBOX_EXIT_STATUS);
        snprintf(want, sizeof(want),
                 "[ckrun ERROR sandbox] seccomp: %s thread sbx-test made "
                 "forbidden syscall %d (socket); ending the VM\n",
                 sandbox_role_name(r), SYS_socket);
        if (!CHECK(strstr(o.log, want)))
            t_diag("log: [%s], want [%s]", o.log, want);
    }
}

/* An argument rule: mmap is allowed, but never executable. */
static void test_forbidden_exec_mapping(void)
{
    struct outcome o;

    for (int r = 0; r < SANDBOX_NR_ROLES; r++) {
        run(r, DO_MMAP_EXEC, &o);
        CHECK_EQ(o.status, SANDBOX_EXIT_STATUS);
        CHECK(strstr(o.log, "made forbidden syscall 9 (mmap)"));
    }
}

/* x32 numbers never reach the table: SIGSYS kills at once. */
static void test_x32_killed(void)
{
    struct outcome o;

    run(SANDBOX_VMM_LOOP, DO_X32, &o);
    CHECK_EQ(o.signal, SIGSYS);
    CHECK_EQ(o.status, -1);
}

static void test_env_switch(void)
{
    struct outcome o;

    setenv("KRUN_SECCOMP", "0", 1);
    run(SANDBOX_FS_WORKER, DO_SOCKET, &o);
    CHECK_EQ(o.status, 104); /* socket() just ran */
    setenv("KRUN_SECCOMP", "log", 1);
    run(SANDBOX_FS_WORKER, DO_SOCKET, &o);
    CHECK_EQ(o.status, 104); /* logged by the kernel, allowed */
    setenv("KRUN_SECCOMP", "yes", 1);
    run(SANDBOX_FS_WORKER, DO_SOCKET, &o);
    CHECK_EQ(o.status, 101);
    CHECK(strstr(o.log, "KRUN_SECCOMP=yes: expected 0, 1 or log"));
    setenv("KRUN_SECCOMP", "1", 1);
    run(SANDBOX_FS_WORKER, DO_SOCKET, &o);
    CHECK_EQ(o.status, SANDBOX_EXIT_STATUS);
    unsetenv("KRUN_SECCOMP");
}

/* Under an outer filter with NoNewPrivs (podman, crun) ours stack: the
 * roles still work and still trap. */
static void test_stacks_on_outer_filter(void)
{
    struct outcome o;

    outer_filter = true;
    for (int r = 0; r < SANDBOX_NR_ROLES; r++) {
        run(r, DO_ALLOWED, &o);
        CHECK_EQ(o.status, 0);
        run(r, DO_SOCKET, &o);
        CHECK_EQ(o.status, SANDBOX_EXIT_STATUS);
        CHECK(strstr(o.log, "made forbidden syscall 41 (socket)"));
    }
    outer_filter = false;
}

/* Without sandbox_prepare (unit tests, fuzzers) entering is a no-op. */
static void test_unprepared_is_noop(void)
{
    CHECK_EQ(sandbox_enter(SANDBOX_VCPU), 0);
    CHECK_EQ(prctl(PR_GET_SECCOMP), 0);
}

static void test_sizes(void)
{
    for (int r = 0; r < SANDBOX_NR_ROLES; r++)
        t_diag("%s: %u syscalls allowed", sandbox_role_name(r),
               sandbox_allowed(r));
    CHECK_EQ(sandbox_allowed(SANDBOX_VMM_LOOP), 35);
    CHECK_EQ(sandbox_allowed(SANDBOX_VCPU), 36);
    CHECK_EQ(sandbox_allowed(SANDBOX_FS_LOOP), 30);
    CHECK_EQ(sandbox_allowed(SANDBOX_FS_WORKER), 83);
    CHECK_EQ(sandbox_allowed(SANDBOX_BLK_WORKER), 38);
    CHECK_EQ(sandbox_allowed(SANDBOX_NET_LOOP), 33);
}

int main(void)
{
    unsetenv("KRUN_SECCOMP");
    RUN(test_unprepared_is_noop);
    RUN(test_allowed);
    RUN(test_forbidden_socket);
    RUN(test_forbidden_exec_mapping);
    RUN(test_x32_killed);
    RUN(test_env_switch);
    RUN(test_stacks_on_outer_filter);
    RUN(test_sizes);
    return t_done();
}
