/*
 * test_smp.c: the test guest starts its APs itself (INIT + SIPI through the
 * xAPIC, a real-mode trampoline into long mode) and every CPU the MP table
 * lists reports in with the APIC id the table gives it, for 1, 2 and 4
 * vCPUs.
 */
#include "guest_run.h"
#include "t.h"

#include <stdio.h>
#include <string.h>

static void test_smp(unsigned int vcpus)
{
    struct guest_result r;
    struct guest_opts o = {
        .cmdline = "test=smp", .vcpus = vcpus, .timeout_ms = 15000};
    char want[64];

    CHECK(guest_run(&o, &r) == 0);
    CHECK(!r.timed_out);
    CHECK_EQ(r.status, 0);
    CHECK(strstr(r.serial, "smp bsp=0 cpuid=0\n") != NULL);
    for (unsigned int i = 1; i < vcpus; i++) {
        snprintf(want, sizeof(want), "smp ap=%u lapic=%u cpuid=%u\n", i, i, i);
        CHECK(strstr(r.serial, want) != NULL);
    }
    snprintf(want, sizeof(want), "smp cpus=%u started=%u count=%u\n", vcpus,
             vcpus - 1, vcpus - 1);
    CHECK(strstr(r.serial, want) != NULL);
    if (!CHECK(strstr(r.serial, "PASS smp\n") != NULL))
        t_diag("serial: %s", r.serial);
}

static void test_smp_1(void)
{
    test_smp(1);
}

static void test_smp_2(void)
{
    test_smp(2);
}

static void test_smp_4(void)
{
    test_smp(4);
}

int main(void)
{
    guest_require_kvm();
    RUN(test_smp_1);
    RUN(test_smp_2);
    RUN(test_smp_4);
    return t_done();
}
