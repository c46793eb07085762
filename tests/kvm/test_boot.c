/*
 * test_boot.c: the test guest boots through /dev/kvm via the public API and
 * sees what a Linux kernel would: command line, zero page, e820, CMOS memory
 * size, MP table for 1 and N vCPUs.  It reports on COM1; its i8042 reset ends
 * the VM with status 0.
 */
#include "guest_run.h"
#include "t.h"

#include <stdio.h>
#include <string.h>

static bool run_ok(const struct guest_opts *o, struct guest_result *r,
                   const char *pass)
{
    bool ok = guest_run(o, r) == 0 && !r->timed_out && r->status == 0 &&
              strstr(r->serial, pass) != NULL;

    if (!ok)
        t_diag("serial: %s", r->serial);
    return ok;
}

static void test_serial_pass(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=serial"};

    CHECK(run_ok(&o, &r, "PASS serial\n"));
    CHECK(strstr(r.serial, "hello from the test guest\n") == r.serial);
    CHECK_EQ(r.status, 0); /* i8042 reset -> exit 0 */
}

static void test_cmdline_arrives(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "a=1 test=cmdline b=x,y -- z"};

    CHECK(run_ok(&o, &r, "PASS cmdline\n"));
    /* Ours verbatim first, then what krun_start_enter appends (§3.7):
     * the balloon's and the rng's virtio_mmio.device= entries, in upstream's
     * attach order, and the "--" epilog. */
    CHECK(strstr(r.serial, "cmdline=[a=1 test=cmdline b=x,y -- z ") != NULL);
    CHECK(strstr(r.serial, " virtio_mmio.device=4K@0xd0000000:5"
                           " virtio_mmio.device=4K@0xd0001000:6 --]\n"));
}

static void test_zero_page(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=zeropage"};

    CHECK(run_ok(&o, &r, "PASS zeropage\n"));
}

static void test_e820_small(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=e820", .ram_mib = 64};

    CHECK(run_ok(&o, &r, "PASS e820\n"));
    CHECK(strstr(r.serial, "e820 0x0 0x9fc00 1\n"
                           "e820 0x100000 0x3f00000 1\n"
                           "PASS"));
}

/* 5000 MiB: 3.25 GiB below the MMIO gap, the rest above 4 GiB. */
static void test_e820_above_4g(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=e820", .ram_mib = 5000};

    CHECK(run_ok(&o, &r, "PASS e820\n"));
    CHECK(strstr(r.serial, "e820 0x0 0x9fc00 1\n"
                           "e820 0x100000 0xcff00000 1\n"
                           "e820 0x100000000 0x68800000 1\n"
                           "PASS"));
}

static void test_cmos_memory(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=cmos", .ram_mib = 256};

    CHECK(run_ok(&o, &r, "PASS cmos\n"));
    CHECK(strstr(r.serial, "cmos mid=3840 high=0\n")); /* (256-16)M / 64K */
    o.ram_mib = 5000;
    CHECK(run_ok(&o, &r, "PASS cmos\n"));
    /* (0xd0000000 - 16M) / 64K = 53000; 1672 MiB / 64K = 26752 */
    CHECK(strstr(r.serial, "cmos mid=52992 high=26752\n"));
}

static void test_mptable(unsigned int vcpus)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=mptable", .vcpus = vcpus};
    char want[80];

    snprintf(want, sizeof(want),
             "mp cpus=%u bsp=0 ioapic=%u irqs=16 lints=2\nPASS mptable\n",
             vcpus, vcpus + 1);
    CHECK(run_ok(&o, &r, want));
}

static void test_mptable_1(void)
{
    test_mptable(1);
}

static void test_mptable_4(void)
{
    test_mptable(4);
}

/* The guest's own virtio-mmio driver reads the rng through the transport:
 * ioeventfd notify, used ring, interrupt status (irqfd path). */
static void test_virtio_rng(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=rng"};

    CHECK(run_ok(&o, &r, "PASS rng\n"));
    CHECK(strstr(r.serial, "rng bytes=64 ") != NULL);
    CHECK(strstr(r.serial, " isr=1\n") != NULL);
}

static void test_unknown_test_fails(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=nonexistent"};

    CHECK(run_ok(&o, &r, "FAIL nonexistent: unknown test\n"));
}

int main(void)
{
    guest_require_kvm();
    RUN(test_serial_pass);
    RUN(test_cmdline_arrives);
    RUN(test_zero_page);
    RUN(test_e820_small);
    RUN(test_e820_above_4g);
    RUN(test_cmos_memory);
    RUN(test_mptable_1);
    RUN(test_mptable_4);
    RUN(test_virtio_rng);
    RUN(test_unknown_test_fails);
    return t_done();
}
