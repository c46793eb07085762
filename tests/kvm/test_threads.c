/*
 * test_threads.c: the threads a running VM has, seen from the host through
 * /proc/PID/task while the test guest waits: every library thread (vCPU,
 * virtio-fs loop and workers) blocks the host signals, only the vCPUs have
 * their kick signal open, every thread (the caller's too) runs under a
 * seccomp filter, and a process-directed SIGINT (kill, not raise) with
 * stdin a pipe reaches the guest as ^C instead of killing the VMM.
 */
#include "guest_run.h"
#include "t.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkrun.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 32

struct task {
    char comm[32];
    unsigned long long sigblk; /* SigBlk: bit (n - 1) for signal n */
    int seccomp;               /* Seccomp: 0 none, 2 filter */
    bool main;                 /* the caller's thread (tid == pid) */
};

struct watch {
    pid_t pid;
    pthread_t thread;
    struct task tasks[MAX_THREADS];
    int nr;
    bool ready;  /* every expected thread was there */
    int sigs_ok; /* SIGINTs sent */
    bool stop;   /* atomic: the VM is over */
};

static char share[64];

static void die(const char *what)
{
    t_diag("%s: %m", what);
    exit(1);
}

static unsigned long long mask_of(int sig)
{
    return 1ull << (sig - 1);
}

/* Fill (t) from /proc/PID/task/TID/{comm,status}; false if it is gone. */
static bool read_task(pid_t pid, const char *tid, struct task *t)
{
    char path[320], line[256];
    FILE *f;

    memset(t, 0, sizeof(*t));
    t->seccomp = -1;
    t->main = atoi(tid) == pid;
    snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", pid, tid);
    f = fopen(path, "re");
    if (!f || !fgets(t->comm, sizeof(t->comm), f)) {
        if (f)
            fclose(f);
        return false;
    }
    fclose(f);
    t->comm[strcspn(t->comm, "\n")] = 0;
    snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, tid);
    f = fopen(path, "re");
    if (!f)
        return false;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "SigBlk:", 7))
            t->sigblk = strtoull(line + 7, NULL, 16);
        else if (!strncmp(line, "Seccomp:", 8))
            t->seccomp = atoi(line + 8);
    }
    fclose(f);
    return true;
}

static int read_tasks(pid_t pid, struct task *tasks)
{
    char path[64];
    struct dirent *d;
    DIR *dir;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    dir = opendir(path);
    if (!dir)
        return 0;
    while ((d = readdir(dir)) && n < MAX_THREADS) {
        if (d->d_name[0] != '.' && read_task(pid, d->d_name, &tasks[n]))
            n++;
    }
    closedir(dir);
    return n;
}

/* The VM is fully built and serving: vCPU 0 exists, the caller's thread has
 * the host signals blocked (the last steps of the build), and every thread
 * has loaded its seccomp filter (each does so once its set-up is done). */
static bool vm_ready(const struct task *tasks, int n)
{
    bool vcpu = false, loop = false;

    for (int i = 0; i < n; i++) {
        if (strncmp(tasks[i].comm, "kvm-", 4) && tasks[i].seccomp != 2)
            return false;
        vcpu = vcpu || !strcmp(tasks[i].comm, "krun-vcpu0");
        loop = loop || (tasks[i].main && (tasks[i].sigblk & mask_of(SIGINT)) &&
                        tasks[i].seccomp == 2);
    }
    return vcpu && loop;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* Parent thread: wait for the VM, record its threads, then SIGINT it (by
 * pidfd, so a reaped and reused pid is never hit) until it ends. */
static void *watch_main(void *arg)
{
    struct watch *w = arg;
    int pidfd = (int)syscall(SYS_pidfd_open, w->pid, 0);

    if (pidfd < 0)
        return NULL;
    for (int i = 0; i < 1000 && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);
         i++) {
        w->nr = read_tasks(w->pid, w->tasks);
        if (vm_ready(w->tasks, w->nr)) {
            w->ready = true;
            break;
        }
        nap_ms(10);
    }
    for (int i = 0;
         w->ready && i < 100 && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);
         i++) {
        if (syscall(SYS_pidfd_send_signal, pidfd, SIGINT, NULL, 0) < 0)
            break;
        w->sigs_ok++;
        nap_ms(100);
    }
    close(pidfd);
    return NULL;
}

static void watch_forked(void *arg)
{
    struct watch *w = arg;

    w->pid = guest_pid();
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0)
        die("pthread_create");
}

/* In the child: stdin becomes a pipe (not a terminal: SIGINT is forwarded)
 * and the VM gets a virtio-fs share (its loop and worker threads). */
static int setup_vm(uint32_t ctx, void *arg)
{
    int p[2];

    if (pipe(p) < 0 || dup2(p[0], STDIN_FILENO) < 0)
        return -errno;
    return krun_add_virtiofs(ctx, "ckrun-test", share);
}

static int count(const struct watch *w, const char *comm)
{
    int n = 0;

    for (int i = 0; i < w->nr; i++)
        n += !strcmp(w->tasks[i].comm, comm);
    return n;
}

static void run_watched(struct watch *w, struct guest_result *r)
{
    struct guest_opts o = {.cmdline = "test=con_intr",
                           .implicit_console = true,
                           .setup = setup_vm,
                           .forked = watch_forked,
                           .arg = w};

    memset(w, 0, sizeof(*w));
    snprintf(share, sizeof(share), "/tmp/ckrun-test-threads.XXXXXX");
    if (!mkdtemp(share))
        die("mkdtemp");
    CHECK(guest_run(&o, r) == 0);
    __atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
    pthread_join(w->thread, NULL);
    rmdir(share);
}

static void test_host_signals(void)
{
    const unsigned long long host = mask_of(SIGINT) | mask_of(SIGWINCH) |
                                    mask_of(SIGTERM) | mask_of(SIGHUP) |
                                    mask_of(SIGQUIT) | mask_of(SIGPIPE) |
                                    mask_of(SIGCHLD) | mask_of(SIGUSR1);
    struct guest_result r;
    struct watch w;

    run_watched(&w, &r);
    CHECK(w.ready);
    CHECK(!r.timed_out);
    CHECK_EQ(r.signal, 0); /* 2 (SIGINT) before the fix */
    CHECK_EQ(r.status, 0);
    CHECK(w.sigs_ok >= 1);
    if (!CHECK(strstr(r.serial, "got ^C\nPASS con_intr\n")))
        t_diag("serial: %s", r.serial);
    CHECK_EQ(count(&w, "krun-vcpu0"), 1);
    CHECK_EQ(count(&w, "krun-fs"), 1);
    CHECK_EQ(count(&w, "krun-fsw"), 4);
    for (int i = 0; i < w.nr; i++) {
        const struct task *t = &w.tasks[i];
        bool vcpu = !strncmp(t->comm, "krun-vcpu", 9);

        /* KVM's own kernel workers that the kernel attaches to the
         * process (kvm-nx-lpage-recovery) are not ours. */
        if (!strncmp(t->comm, "kvm-", 4))
            continue;
        if (!CHECK_EQ(t->seccomp, 2)) /* SECCOMP_MODE_FILTER */
            t_diag("thread %s has no seccomp filter", t->comm);
        if (t->main)
            continue;
        if (!CHECK_EQ(t->sigblk & host, host))
            t_diag("thread %s: SigBlk %016llx", t->comm, t->sigblk);
        /* The kick signal: open on vCPUs only. */
        CHECK_EQ(!(t->sigblk & mask_of(SIGRTMIN)), vcpu);
        CHECK_EQ(t->sigblk & mask_of(SIGSEGV), 0);
    }
}

int main(void)
{
    guest_require_kvm();
    RUN(test_host_signals);
    return t_done();
}
