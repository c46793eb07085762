/*
 * sandbox.c: the per-role seccomp allow-lists and their loading
 * (sandbox.h).  libseccomp compiles the tables (architecture check, x32
 * rejection, argument comparisons, a binary search over the numbers) into
 * one BPF program per role at sandbox_prepare(); a thread then loads its
 * program with one seccomp(2) call, without libseccomp or malloc.
 *
 * Each list is what the code running on that thread calls after its set-up,
 * read from the code and checked under the kvm, fuse and e2e suites; a
 * syscall it lacks shows up as the logged trap.  Shared by every role: the
 * "common" table (memory, futexes, time, logging, thread exit, the SIGSYS
 * handler's own write/ioctl/exit_group).  Nothing may execute new code
 * (mmap/mprotect never with PROT_EXEC), create processes or threads, open
 * sockets, mount, ptrace or load filters of its own.
 */
#define LOG_TAG "sandbox"
#include "sandbox/sandbox.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "term.h"
#include "util.h"

/* ---- the tables ---------------------------------------------------------- */

/* One allowed syscall, with at most one argument comparison
 * ((args[arg] & mask) == value); (self): value is our pid. */
struct sandbox_rule {
    int nr;
    bool has_arg, self;
    unsigned int arg;
    uint64_t mask, value;
};

#define ALLOW(name)                                                            \
    {                                                                          \
        .nr = SCMP_SYS(name)                                                   \
    }
#define ALLOW_IF(name, a, m, v)                                                \
    {                                                                          \
        .nr = SCMP_SYS(name), .has_arg = true, .arg = a, .mask = m, .value = v \
    }
/* ioctl's command is an unsigned int: compare the low 32 bits only. */
#define ALLOW_IOCTL(cmd)    ALLOW_IF(ioctl, 1, 0xffffffffu, cmd)
#define ALLOW_NO_EXEC(name) ALLOW_IF(name, 2, PROT_EXEC, 0)
#define ALLOW_SELF(name, a)                                                    \
    {                                                                          \
        .nr = SCMP_SYS(name), .has_arg = true, .self = true, .arg = a,         \
        .mask = 0xffffffffu                                                    \
    }

/* Every role: memory, locks, time, logging, signals, thread exit. */
static const struct sandbox_rule common_rules[] = {
    ALLOW(futex),
    ALLOW(exit),
    ALLOW(exit_group),
    ALLOW(rt_sigreturn),
    ALLOW(rt_sigprocmask),
    ALLOW(restart_syscall),
    ALLOW(sched_yield),
    ALLOW(getpid),
    ALLOW(gettid),
    /* pthread_kill (vCPU kicks), raise and abort: this process only. */
    ALLOW_SELF(tgkill, 0),
    ALLOW(clock_gettime), /* the vDSO falls back to them */
    ALLOW(clock_getres),
    ALLOW(gettimeofday),
    ALLOW(clock_nanosleep),
    ALLOW(nanosleep),
    ALLOW_NO_EXEC(mmap), /* malloc, FUSE buffers; never PROT_EXEC */
    ALLOW_NO_EXEC(mprotect),
    ALLOW(munmap),
    ALLOW(mremap),
    ALLOW(madvise), /* free(), thread exit, balloon pages */
    ALLOW(brk),
    ALLOW(sigaltstack), /* thread exit under ASan */
    ALLOW(write),       /* log records (and each role's own fds) */
    ALLOW(writev),
    ALLOW(close),
    /* term_restore_all() (tcsetattr TCSANOW) in the SIGSYS handler. */
    ALLOW_IOCTL(TCSETS),
};

static const struct sandbox_rule vcpu_rules[] = {
    ALLOW_IOCTL(KVM_RUN),
    ALLOW_IOCTL(KVM_GET_REGS),     /* error dumps */
    ALLOW_IOCTL(KVM_GET_MP_STATE), /* the halt check */
    ALLOW_IOCTL(KVM_IRQ_LINE),     /* 16550/i8042 interrupts */
    ALLOW(read),                   /* CMOS/serial state, eventfds */
    ALLOW(epoll_ctl), /* devices (re)watching fds on register writes */
    ALLOW(timer_delete),
    /* virtio-net connects its backend lazily, at DRIVER_OK, on the vCPU
     * that writes the status (net_backend_connect): a unix socket to
     * passt/gvproxy, or the tap's offloads.  unixgram binds a fresh
     * $TMPDIR/krun-net-PID-N.sock after unlinking a stale one: the price of
     * connecting there rather than on the net loop. */
    ALLOW_IF(socket, 0, 0xffffffffu, AF_UNIX),
    ALLOW(bind),
    ALLOW(unlinkat),
    ALLOW(connect),
    ALLOW(sendto),
    ALLOW(setsockopt),
    ALLOW(fcntl),
    ALLOW_IOCTL(TUNSETOFFLOAD),
};

static const struct sandbox_rule vmm_loop_rules[] = {
    ALLOW(epoll_wait),
    ALLOW(epoll_pwait),
    ALLOW(epoll_ctl),
    ALLOW(read), /* console/serial input, eventfds, the signalfd */
    ALLOW(readv),
    ALLOW(poll), /* the exit drain waits for full output fds */
    ALLOW(ppoll),
    ALLOW(fcntl),
    ALLOW(getrandom), /* virtio-rng */
    ALLOW_IOCTL(KVM_IRQ_LINE),
    ALLOW_IOCTL(TIOCGWINSZ), /* SIGWINCH -> console resize */
    ALLOW_IOCTL(TCGETS),
};

static const struct sandbox_rule fs_loop_rules[] = {
    ALLOW(epoll_wait), ALLOW(epoll_pwait), ALLOW(epoll_ctl),
    ALLOW(read), /* queue kicks */
};

/* The passthrough backend (src/fuse): *at() calls on O_PATH fds, open
 * handles, xattrs, locks; nothing outside file systems. */
static const struct sandbox_rule fs_worker_rules[] = {
    ALLOW(read),
    ALLOW(pread64),
    ALLOW(preadv),
    ALLOW(preadv2),
    ALLOW(readv),
    ALLOW(pwrite64),
    ALLOW(pwritev),
    ALLOW(pwritev2),
    ALLOW(lseek),
    ALLOW(openat),
    ALLOW(openat2),
    ALLOW(fstat),
    ALLOW(newfstatat),
    ALLOW(statx),
    ALLOW(fstatfs),
    ALLOW(statfs),
    ALLOW(getdents64),
    ALLOW(readlinkat),
    ALLOW(faccessat),
    ALLOW(faccessat2),
    ALLOW(mkdirat),
    ALLOW(mknodat),
    ALLOW(symlinkat),
    ALLOW(linkat),
    ALLOW(unlinkat),
    ALLOW(renameat),
    ALLOW(renameat2),
    ALLOW(fchmod),
    ALLOW(fchmodat),
    ALLOW(fchown),
    ALLOW(fchownat),
    ALLOW(utimensat),
    ALLOW(ftruncate),
    ALLOW(fallocate),
    ALLOW(fsync),
    ALLOW(fdatasync),
    ALLOW(syncfs),
    ALLOW(flock),
    ALLOW(fcntl), /* OFD locks, flags */
    ALLOW(dup),
    ALLOW(dup3),
    ALLOW(copy_file_range),
    ALLOW(getxattr),
    ALLOW(lgetxattr),
    ALLOW(fgetxattr),
    ALLOW(setxattr),
    ALLOW(lsetxattr),
    ALLOW(fsetxattr),
    ALLOW(listxattr),
    ALLOW(llistxattr),
    ALLOW(flistxattr),
    ALLOW(removexattr),
    ALLOW(lremovexattr),
    ALLOW(fremovexattr),
    ALLOW(geteuid),
    ALLOW(getegid),
    ALLOW_IF(prlimit64, 2, ~0ull, 0), /* getrlimit: read only */
};

/* Disk images (src/disk): positioned vector I/O, flushes, discard. */
static const struct sandbox_rule blk_worker_rules[] = {
    ALLOW(pread64),   ALLOW(preadv),    ALLOW(preadv2), ALLOW(pwrite64),
    ALLOW(pwritev),   ALLOW(pwritev2),  ALLOW(fsync),   ALLOW(fdatasync),
    ALLOW(fallocate), ALLOW(ftruncate), ALLOW(fstat),   ALLOW(lseek),
};

/* Frames between the rings and the backend fd (tap, unix stream/dgram). */
static const struct sandbox_rule net_loop_rules[] = {
    ALLOW(epoll_wait), ALLOW(epoll_pwait), ALLOW(epoll_ctl), ALLOW(read),
    ALLOW(readv),      ALLOW(recvmsg),     ALLOW(sendmsg),
};

#define ROLE(n, t)                                                             \
    {                                                                          \
        .name = n, .rules = t, .nr_rules = ARRAY_SIZE(t)                       \
    }

static const struct {
    const char *name;
    const struct sandbox_rule *rules;
    size_t nr_rules;
} roles[SANDBOX_NR_ROLES] = {
    [SANDBOX_VMM_LOOP] = ROLE("VMM loop", vmm_loop_rules),
    [SANDBOX_VCPU] = ROLE("vCPU", vcpu_rules),
    [SANDBOX_FS_LOOP] = ROLE("virtio-fs loop", fs_loop_rules),
    [SANDBOX_FS_WORKER] = ROLE("virtio-fs worker", fs_worker_rules),
    [SANDBOX_BLK_WORKER] = ROLE("virtio-blk worker", blk_worker_rules),
    [SANDBOX_NET_LOOP] = ROLE("virtio-net loop", net_loop_rules),
};

/* ---- state ----------------------------------------------------------------
 */

#define SANDBOX_NAMES    512 /* syscall numbers with a name for the log */
#define SANDBOX_NAME_MAX 24

static struct {
    bool prepared; /* programs built: sandbox_enter loads them */
    struct sock_fprog prog[SANDBOX_NR_ROLES];
    struct sigaction old_sigsys;
    char names[SANDBOX_NAMES][SANDBOX_NAME_MAX];
} sb;

/* The calling thread's role and name, for the SIGSYS handler (set before its
 * filter is loaded, so the handler never allocates TLS). */
static __thread int thread_role = -1;
static __thread char thread_name[16];

const char *sandbox_role_name(enum sandbox_role role)
{
    return (unsigned int)role < SANDBOX_NR_ROLES ? roles[role].name : "?";
}

/* ---- the SIGSYS handler (async-signal-safe) ---------------------------- */

struct sbuf {
    char b[256];
    size_t n;
};

static void sbuf_put(struct sbuf *s, const char *str)
{
    while (*str && s->n < sizeof(s->b) - 1)
        s->b[s->n++] = *str++;
}

static void sbuf_num(struct sbuf *s, long v)
{
    char d[24];
    int i = 0;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

    do
        d[i++] = (char)('0' + u % 10);
    while ((u /= 10) && i < (int)sizeof(d));
    if (v < 0)
        sbuf_put(s, "-");
    while (i > 0 && s->n < sizeof(s->b) - 1)
        s->b[s->n++] = d[--i];
}

static void sandbox_sigsys(int sig, siginfo_t *si, void *uc)
{
    struct sbuf s = {.n = 0};
    int nr = si->si_syscall;

    (void)sig;
    (void)uc;
    sbuf_put(&s, "[ckrun ERROR sandbox] seccomp: ");
    if (si->si_code != 1 /* SYS_SECCOMP */) {
        sbuf_put(&s, "SIGSYS from outside the filter (pid ");
        sbuf_num(&s, si->si_pid);
        sbuf_put(&s, ")");
    } else {
        sbuf_put(&s, thread_role >= 0 ? roles[thread_role].name : "library");
        sbuf_put(&s, " thread ");
        sbuf_put(&s, thread_name[0] ? thread_name : "?");
        sbuf_put(&s, " made forbidden syscall ");
        sbuf_num(&s, nr);
        sbuf_put(&s, " (");
        sbuf_put(&s, nr >= 0 && nr < SANDBOX_NAMES && sb.names[nr][0]
                         ? sb.names[nr]
                         : "unknown");
        sbuf_put(&s, ")");
    }
    sbuf_put(&s, "; ending the VM\n");
    if (log_enabled(LOG_ERROR) && write(log_fd(), s.b, s.n) < 0)
        (void)0; /* nowhere left to say it */
    term_restore_all();
    _exit(SANDBOX_EXIT_STATUS);
}

/* ---- building the programs ---------------------------------------------- */

static int add_rules(scmp_filter_ctx ctx, const struct sandbox_rule *r,
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct scmp_arg_cmp cmp = {
            .arg = r[i].arg,
            .op = SCMP_CMP_MASKED_EQ,
            .datum_a = r[i].mask,
            .datum_b = r[i].self ? (uint64_t)getpid() : r[i].value,
        };
        int rc = r[i].has_arg
                     ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 1, cmp)
                     : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 0);

        if (rc < 0) {
            log_error("seccomp rule for syscall %d: %s", r[i].nr,
                      strerror(-rc));
            return rc;
        }
    }
    return 0;
}

/* Compile (ctx) into a BPF program we own: libseccomp exports to an fd. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
    int fd = memfd_create("krun-seccomp", MFD_CLOEXEC);
    off_t size;
    int rc;

    if (fd < 0)
        return -errno;
    rc = seccomp_export_bpf(ctx, fd);
    size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (rc == 0 && (size <= 0 || size % sizeof(struct sock_filter) ||
                    size / sizeof(struct sock_filter) > BPF_MAXINSNS))
        rc = -E2BIG;
    if (rc == 0 && !(prog->filter = malloc((size_t)size)))
        rc = -ENOMEM;
    if (rc == 0 && pread(fd, prog->filter, (size_t)size, 0) != size)
        rc = -EIO;
    if (rc == 0)
        prog->len = (unsigned short)(size / sizeof(struct sock_filter));
    close(fd);
    return rc;
}

static int build_role(enum sandbox_role role, uint32_t deflt)
{
    scmp_filter_ctx ctx = seccomp_init(deflt);
    int rc;

    if (!ctx)
        return -ENOMEM;
    /* i386 (int 0x80) and x32 numbers: killed, never looked up. */
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0) /* each thread sets it itself in sandbox_enter */
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc == 0)
        rc = add_rules(ctx, common_rules, ARRAY_SIZE(common_rules));
    if (rc == 0)
        rc = add_rules(ctx, roles[role].rules, roles[role].nr_rules);
    if (rc == 0)
        rc = export_prog(ctx, &sb.prog[role]);
    seccomp_release(ctx);
    return rc;
}

/* Names for the handler, looked up now: it cannot allocate. */
static void load_names(void)
{
    for (int nr = 0; nr < SANDBOX_NAMES; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);

        if (name)
            snprintf(sb.names[nr], sizeof(sb.names[nr]), "%s", name);
        free(name);
    }
}

unsigned int sandbox_allowed(enum sandbox_role role)
{
    const struct sandbox_rule *lists[2] = {common_rules, roles[role].rules};
    size_t lens[2] = {ARRAY_SIZE(common_rules), roles[role].nr_rules};
    unsigned int n = 0;

    /* Distinct numbers: a syscall may appear with several argument rules. */
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < lens[l]; i++) {
            bool seen = false;

            for (int m = 0; m <= l && !seen; m++)
                for (size_t j = 0; j < (m == l ? i : lens[m]) && !seen; j++)
                    seen = lists[m][j].nr == lists[l][i].nr;
            n += !seen;
        }
    }
    return n;
}

int sandbox_prepare(void)
{
    const char *env = getenv("KRUN_SECCOMP");
    uint32_t deflt = SCMP_ACT_TRAP, trap = SECCOMP_RET_TRAP;
    struct sigaction sa = {.sa_sigaction = sandbox_sigsys,
                           .sa_flags = SA_SIGINFO};
    int rc = 0;

    if (env && !strcmp(env, "0")) {
        log_info("seccomp filters disabled (KRUN_SECCOMP=0)");
        return 0;
    }
    if (env && !strcmp(env, "log"))
        deflt = SCMP_ACT_LOG;
    else if (env && strcmp(env, "1")) {
        log_error("KRUN_SECCOMP=%s: expected 0, 1 or log", env);
        return -EINVAL;
    }
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &trap) < 0) {
        rc = -errno;
        log_error("this kernel has no seccomp filters (%s); KRUN_SECCOMP=0 "
                  "runs without them",
                  strerror(errno));
        return rc;
    }
    for (int r = 0; rc == 0 && r < SANDBOX_NR_ROLES; r++) {
        rc = build_role(r, deflt);
        if (rc < 0)
            log_error("seccomp filter for the %s: %s", roles[r].name,
                      strerror(-rc));
    }
    if (rc == 0) {
        load_names();
        /* glibc translates strerror() texts: load the message catalog of
         * the caller's locale now, no thread may open it later. */
        (void)strerror(EINVAL);
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, &sb.old_sigsys) < 0)
            rc = -errno;
    }
    sb.prepared = rc == 0;
    if (rc < 0) {
        for (int r = 0; r < SANDBOX_NR_ROLES; r++)
            free(sb.prog[r].filter);
        memset(sb.prog, 0, sizeof(sb.prog));
    }
    return rc;
}

int sandbox_enter(enum sandbox_role role)
{
    int rc;

    if (!sb.prepared)
        return 0;
    thread_role = (int)role;
    if (prctl(PR_GET_NAME, thread_name) < 0)
        thread_name[0] = 0;
    /* Unprivileged filters need no_new_privs; crun has set it already. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sb.prog[role]) < 0) {
        rc = -errno;
        log_error("cannot load the seccomp filter of the %s thread %s: %s",
                  roles[role].name, thread_name, strerror(errno));
        return rc;
    }
    return 0;
}

void sandbox_enter_thread(enum sandbox_role role)
{
    if (sandbox_enter(role) < 0) {
        term_restore_all();
        _exit(1);
    }
}

void sandbox_undo(void)
{
    if (!sb.prepared)
        return;
    sigaction(SIGSYS, &sb.old_sigsys, NULL);
    /* Threads that entered may still run (they are being joined): their
     * filters live in the kernel, the programs are only our copies. */
    for (int r = 0; r < SANDBOX_NR_ROLES; r++)
        free(sb.prog[r].filter);
    memset(sb.prog, 0, sizeof(sb.prog));
    sb.prepared = false;
}
