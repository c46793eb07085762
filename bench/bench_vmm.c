/*
 * bench_vmm: ckrun (bench/null_run, a minimal libkrun client) against QEMU
 * microvm, both booting the same null guest (bench/null_guest.c) on this
 * machine's /dev/kvm.  For each VMM, RUNS times, alternating the VMMs:
 *
 *   boot  spawn -> first console byte, spawn -> process exit (fork to wait4)
 *   wait  the guest waits for a byte on COM1 after its first one: meanwhile
 *         the guest RAM mapping's Rss is read from /proc/PID/smaps; the
 *         overhead is ru_maxrss minus that guest-touched memory
 *   pio   the guest does PIO_N port writes (COM1 scratch register): VMM user
 *         CPU per exit = (ru_utime(pio) - ru_utime(boot)) / PIO_N
 *
 * Prints median/min/max and the ckrun/QEMU ratio of the medians.  The
 * kernel's tick-based CPU accounting (4 ms at HZ=250) makes single-run user
 * times coarse, so the pooled figure (sum over all runs) is printed too.
 *
 *   bench_vmm NULL_RUN NULL_GUEST QEMU RUNS PIO_N
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RAM_MIB    64
#define MAX_RUNS   1000
#define TIMEOUT_MS 30000

enum { CKRUN, QEMU, NR_VMM };
enum { M_FIRST, M_EXIT, M_OVERHEAD, M_UCPU, NR_METRIC };

static const char *const vmm_name[NR_VMM] = {"ckrun", "QEMU microvm"};
/* ckrun ends on the i8042 reset (0); QEMU on isa-debug-exit (value 0 -> 1) */
static const int vmm_status[NR_VMM] = {0, 1};

struct run {
    double first_ms, exit_ms; /* from just before fork */
    long maxrss_kib, guest_kib;
    double utime_s, stime_s;
    int status;
};

static const char *null_run, *guest, *qemu;
static double samples[NR_VMM][NR_METRIC][MAX_RUNS];
static double pooled_user[NR_VMM], pooled_sys[NR_VMM];

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_vmm: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* argv for (vmm) booting the null guest with (cmdline). */
static void vmm_argv(int vmm, const char *cmdline, const char **argv)
{
    static char ram[16];
    int i = 0;

    snprintf(ram, sizeof(ram), "%d", RAM_MIB);
    if (vmm == CKRUN) {
        argv[i++] = null_run;
        argv[i++] = guest;
        argv[i++] = ram;
        argv[i++] = cmdline;
    } else {
        const char *q[] = {qemu,
                           "-M",
                           "microvm,x-option-roms=off,rtc=off",
                           "-accel",
                           "kvm",
                           "-cpu",
                           "host,-arch-capabilities",
                           "-m",
                           ram,
                           "-smp",
                           "1",
                           "-nodefaults",
                           "-no-user-config",
                           "-display",
                           "none",
                           "-serial",
                           "stdio",
                           "-no-reboot",
                           "-device",
                           "isa-debug-exit,iobase=0xf4,iosize=1",
                           "-kernel",
                           guest,
                           "-append",
                           cmdline};

        for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++)
            argv[i++] = q[k];
    }
    argv[i] = NULL;
}

/* Rss of the anonymous mapping of exactly the guest's RAM size, in KiB. */
static long guest_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long size = -1, best = -1, v;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "Size: %ld kB", &v) == 1)
            size = v;
        else if (sscanf(line, "Rss: %ld kB", &v) == 1 &&
                 size == RAM_MIB * 1024L && v > best)
            best = v;
    }
    fclose(f);
    return best;
}

/* Read from (fd) until one byte came or the deadline; true if it did. */
static bool read_byte(int fd, double deadline)
{
    struct pollfd p = {fd, POLLIN, 0};
    char c;

    while (now_ms() < deadline) {
        if (poll(&p, 1, 100) <= 0)
            continue;
        return read(fd, &c, 1) == 1;
    }
    return false;
}

static void run_once(int vmm, const char *cmdline, bool wait, struct run *r)
{
    const char *argv[32];
    int out[2], in[2], ws, null;
    double t0, deadline;
    struct rusage ru;
    char buf[256];
    pid_t pid;

    memset(r, 0, sizeof(*r));
    r->guest_kib = -1;
    vmm_argv(vmm, cmdline, argv);
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0)
        die("pipe2");
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    t0 = now_ms();
    deadline = t0 + TIMEOUT_MS;
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        dup2(wait ? in[0] : null, 0);
        dup2(out[1], 1);
        dup2(null, 2);
        execv(argv[0], (char *const *)(uintptr_t)argv); /* execv takes char * */
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    close(null);
    if (read_byte(out[0], deadline))
        r->first_ms = now_ms() - t0;
    if (wait) {
        r->guest_kib = guest_rss_kib(pid);
        if (write(in[1], "x", 1) != 1)
            die("write");
    }
    while (read(out[0], buf, sizeof(buf)) > 0)
        ;
    if (wait4(pid, &ws, 0, &ru) < 0)
        die("wait4");
    r->exit_ms = now_ms() - t0;
    close(out[0]);
    close(in[1]);
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    r->maxrss_kib = ru.ru_maxrss;
    r->utime_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    r->stime_s = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    if (r->status != vmm_status[vmm] || r->first_ms == 0) {
        fprintf(stderr, "bench_vmm: %s [%s]: status %d, first byte %s\n",
                vmm_name[vmm], cmdline, r->status,
                r->first_ms ? "seen" : "never seen");
        exit(2);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Sorts (v); returns the median. */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void row(const char *label, const char *unit, int metric, int n)
{
    double m[NR_VMM];

    printf("| %-34s |", label);
    for (int v = 0; v < NR_VMM; v++) {
        double *s = samples[v][metric];

        m[v] = median(s, n);
        printf(" %8.2f (%.2f-%.2f) %s |", m[v], s[0], s[n - 1], unit);
    }
    printf(" %.2f |\n", m[QEMU] != 0 ? m[CKRUN] / m[QEMU] : 0);
}

int main(int argc, char **argv)
{
    char pio_cmd[32];
    int runs, pio_n;

    if (argc != 6) {
        fprintf(stderr, "usage: bench_vmm NULL_RUN NULL_GUEST QEMU RUNS "
                        "PIO_N\n");
        return 2;
    }
    null_run = argv[1];
    guest = argv[2];
    qemu = argv[3];
    runs = atoi(argv[4]);
    pio_n = atoi(argv[5]);
    if (runs < 1 || runs > MAX_RUNS || pio_n < 1)
        return 2;
    snprintf(pio_cmd, sizeof(pio_cmd), "pio=%d", pio_n);
    signal(SIGPIPE, SIG_IGN);
    for (int v = 0; v < NR_VMM; v++) { /* warm up the page cache */
        struct run r;

        run_once(v, "boot", false, &r);
    }
    for (int i = 0; i < runs; i++) {
        for (int v = 0; v < NR_VMM; v++) {
            struct run boot, wait, pio;

            run_once(v, "boot", false, &boot);
            run_once(v, "wait", true, &wait);
            run_once(v, pio_cmd, false, &pio);
            samples[v][M_FIRST][i] = boot.first_ms;
            samples[v][M_EXIT][i] = boot.exit_ms;
            samples[v][M_OVERHEAD][i] =
                (double)(wait.maxrss_kib - wait.guest_kib) / 1024;
            samples[v][M_UCPU][i] = (pio.utime_s - boot.utime_s) * 1e6 / pio_n;
            pooled_user[v] += pio.utime_s - boot.utime_s;
            pooled_sys[v] += pio.stime_s - boot.stime_s;
            if (i == 0)
                printf("%s: peak RSS %ld KiB, guest RAM touched %ld KiB\n",
                       vmm_name[v], wait.maxrss_kib, wait.guest_kib);
        }
    }
    printf("\n%d runs each, alternating; null guest, 1 vCPU, %d MiB; "
           "PIO_N = %d\n\n",
           runs, RAM_MIB, pio_n);
    printf("| %-34s | %-26s | %-26s | %s |\n", "median (min-max)", "ckrun",
           "QEMU microvm", "ckrun/QEMU");
    printf("|%s|%s|%s|%s|\n", "------------------------------------",
           "----------------------------", "----------------------------",
           "------------");
    row("spawn -> first console byte", "ms", M_FIRST, runs);
    row("spawn -> process exit", "ms", M_EXIT, runs);
    row("peak RSS - guest memory touched", "MiB", M_OVERHEAD, runs);
    row("VMM user CPU per PIO exit", "us", M_UCPU, runs);
    printf("\npooled over all runs, per PIO exit: ckrun user %.3f us, sys "
           "%.2f us; QEMU user %.3f us, sys %.2f us\n",
           pooled_user[CKRUN] * 1e6 / runs / pio_n,
           pooled_sys[CKRUN] * 1e6 / runs / pio_n,
           pooled_user[QEMU] * 1e6 / runs / pio_n,
           pooled_sys[QEMU] * 1e6 / runs / pio_n);
    return 0;
}
