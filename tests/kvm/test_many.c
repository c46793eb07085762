/*
 * test_many.c: 200 VMs back to back, each krun_start_enter in its own forked
 * child (guest_run), alternating 1 and 2 vCPUs.  Every child must exit 0
 * with the guest's PASS line; afterwards this process must hold the same
 * open fds, no unreaped child, and about the same RSS as after the first VM.
 */
#include "guest_run.h"
#include "t.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define VMS     200
#define WARM_UP 10 /* first-use allocations (stdio, libc) are no leak */
/* Anonymous RSS (heap, stacks) is what a leak grows: 1 KiB per VM would
 * exceed its slack.  File-backed RSS grows as this process first runs
 * code paths of its own binary and libc (measuring, printing). */
#define ANON_SLACK_KB 64
#define RSS_SLACK_KB  512

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own fd */
}

/* A "Key:   N kB" line of a /proc file, in kB; -1 if missing. */
static long proc_kb(const char *path, const char *key)
{
    char line[256];
    size_t klen = strlen(key);
    long v = -1;
    FILE *f = fopen(path, "re");

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            v = strtol(line + klen + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool run_one(unsigned int i)
{
    static struct guest_result r;
    struct guest_opts o = {
        .cmdline = "test=serial", .vcpus = 1 + i % 2, .timeout_ms = 10000};

    if (guest_run(&o, &r) == 0 && !r.timed_out && r.status == 0 &&
        strstr(r.serial, "PASS serial\n"))
        return true;
    t_diag("VM %u: status %d%s, serial: %s", i, r.status,
           r.timed_out ? " (timed out)" : "", r.serial);
    return false;
}

static void test_200_vms(void)
{
    long rss0, rss1, anon0, anon1, slab0, slab1;
    int fds0, fds1, failed = 0;
    double t0;

    for (unsigned int i = 0; i < WARM_UP; i++)
        failed += !run_one(i);
    t_diag("warmed up with %d VMs", WARM_UP);
    fds0 = open_fds();
    rss0 = proc_kb("/proc/self/status", "VmRSS");
    anon0 = proc_kb("/proc/self/status", "RssAnon");
    slab0 = proc_kb("/proc/meminfo", "Slab");
    t0 = now_s();
    for (unsigned int i = WARM_UP; i < WARM_UP + VMS; i++)
        failed += !run_one(i);
    t_diag("%d VMs in %.2f s (%.1f ms each)", VMS, now_s() - t0,
           (now_s() - t0) * 1000 / VMS);
    fds1 = open_fds();
    rss1 = proc_kb("/proc/self/status", "VmRSS");
    anon1 = proc_kb("/proc/self/status", "RssAnon");
    slab1 = proc_kb("/proc/meminfo", "Slab");
    CHECK_EQ(failed, 0);
    CHECK_EQ(fds1, fds0);
    t_diag("RSS %ld -> %ld kB (anonymous %ld -> %ld kB); host Slab %ld -> "
           "%ld kB (not checked: other processes share it)",
           rss0, rss1, anon0, anon1, slab0, slab1);
    CHECK(anon0 > 0 && anon1 - anon0 <= ANON_SLACK_KB);
    CHECK(rss0 > 0 && rss1 - rss0 <= RSS_SLACK_KB);
    /* every child was reaped */
    CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
}

int main(void)
{
    guest_require_kvm();
    RUN(test_200_vms);
    return t_done();
}
