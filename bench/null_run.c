/*
 * null_run: the smallest libkrun client, for bench_vmm: boot KERNEL (an ELF)
 * with COMMAND_LINE in a 1-vCPU VM of RAM_MIB, COM1 on stdin/stdout, no
 * other device; the process becomes the VM and exits with its status.
 *
 *   null_run KERNEL RAM_MIB COMMAND_LINE
 */
#include <libkrun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int ctx, rc;

    if (argc != 4) {
        fprintf(stderr, "usage: null_run KERNEL RAM_MIB COMMAND_LINE\n");
        return 2;
    }
    ctx = krun_create_ctx();
    if (ctx < 0)
        return 3;
    rc = krun_set_vm_config((uint32_t)ctx, 1, (uint32_t)atoi(argv[2]));
    if (rc == 0)
        rc = krun_set_kernel((uint32_t)ctx, argv[1], KRUN_KERNEL_FORMAT_ELF,
                             NULL, argv[3]);
    if (rc == 0)
        rc = krun_set_env((uint32_t)ctx, (const char *const[]){NULL});
    if (rc == 0)
        rc = krun_disable_implicit_console((uint32_t)ctx);
    if (rc == 0)
        rc = krun_add_serial_console_default((uint32_t)ctx, 0, 1);
    if (rc == 0)
        rc = krun_start_enter((uint32_t)ctx);
    fprintf(stderr, "null_run: krun_*: %s\n", strerror(-rc));
    return 3;
}
