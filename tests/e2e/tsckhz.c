/*
 * tsckhz: print this machine's TSC frequency in kHz, measured against
 * CLOCK_MONOTONIC over 200 ms.  QEMU TCG hands the host's TSC to its guest, so
 * the test host is told this value (tsc_early_khz=): its own PIT calibration
 * is unreliable under TCG and a failed one hangs a microvm boot.
 */
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

int main(void)
{
    struct timespec a, b, pause = {0, 200000000};
    unsigned long long t0, t1;
    double ns;

    clock_gettime(CLOCK_MONOTONIC, &a);
    t0 = __rdtsc();
    nanosleep(&pause, NULL);
    t1 = __rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &b);
    ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("%.0f\n", (double)(t1 - t0) / ns * 1e6);
    return 0;
}
