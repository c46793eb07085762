/*
 * runstat: run a command N times (stdin /dev/null, stdout and stderr to
 * LOG, overwritten each run), timing each run from fork to wait4 and taking
 * the child's peak RSS from wait4's ru_maxrss.  Prints one line per run and
 * a summary line:
 *
 *   RUN LABEL i STATUS MS RSS_KIB
 *   RESULT LABEL runs=N ok=K mean_ms=.. min_ms=.. max_ms=.. median_ms=..
 *          rss_max_kib=.. rss_mean_kib=..
 *
 * A run is ok when the command exits with status 0.  Statistics cover the ok
 * runs only.  Exit status: 0 iff every run was ok.
 *
 *   runstat LABEL N LOG CMD [ARG...]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *label, *log;
    int n, ok = 0;
    double *ms, sum = 0, rss_sum = 0;
    long rss_max = 0;

    if (argc < 5) {
        fprintf(stderr, "usage: runstat LABEL N LOG CMD [ARG...]\n");
        return 2;
    }
    label = argv[1];
    n = atoi(argv[2]);
    log = argv[3];
    if (n < 1) {
        fprintf(stderr, "runstat: N must be >= 1\n");
        return 2;
    }
    ms = calloc((size_t)n, sizeof(*ms));
    if (!ms)
        return 2;
    for (int i = 0; i < n; i++) {
        struct rusage ru;
        int status = 0;
        double t0 = now_ms(), t;
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid < 0) {
            perror("runstat: fork");
            return 2;
        }
        if (pid == 0) {
            int in = open("/dev/null", O_RDONLY);
            int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

            if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
                dup2(out, 2) < 0)
                _exit(126);
            execvp(argv[4], argv + 4);
            _exit(127);
        }
        if (wait4(pid, &status, 0, &ru) < 0) {
            perror("runstat: wait4");
            return 2;
        }
        t = now_ms() - t0;
        status =
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        printf("RUN %s %d %d %.1f %ld\n", label, i + 1, status, t,
               ru.ru_maxrss);
        if (status != 0)
            continue;
        ms[ok++] = t;
        sum += t;
        rss_sum += (double)ru.ru_maxrss;
        if (ru.ru_maxrss > rss_max)
            rss_max = ru.ru_maxrss;
    }
    if (ok) {
        qsort(ms, (size_t)ok, sizeof(*ms), cmp_double);
        printf("RESULT %s runs=%d ok=%d mean_ms=%.1f min_ms=%.1f max_ms=%.1f "
               "median_ms=%.1f rss_max_kib=%ld rss_mean_kib=%.0f\n",
               label, n, ok, sum / ok, ms[0], ms[ok - 1],
               ok % 2 ? ms[ok / 2] : (ms[ok / 2 - 1] + ms[ok / 2]) / 2, rss_max,
               rss_sum / ok);
    } else {
        printf("RESULT %s runs=%d ok=0\n", label, n);
    }
    free(ms);
    return ok == n ? 0 : 1;
}
