/*
 * test_boot.c: the test guest boots through /dev/kvm via the public API,
 * reports on COM1, and its i8042 reset ends the VM with status 0.
 */
#include "guest_run.h"
#include "t.h"

#include <string.h>

static void test_serial_pass(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=serial"};

    CHECK(guest_run(&o, &r) == 0);
    CHECK(!r.timed_out);
    CHECK(strstr(r.serial, "hello from the test guest\n") != NULL);
    CHECK(strstr(r.serial, "PASS serial\n") != NULL);
    CHECK_EQ(r.status, 0); /* i8042 reset -> exit 0 */
}

int main(void)
{
    guest_require_kvm();
    RUN(test_serial_pass);
    return t_done();
}
