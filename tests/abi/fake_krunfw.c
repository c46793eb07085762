/*
 * fake_krunfw.c: a stand-in libkrunfw.so.5 (ABI 5) for check-abi: one
 * page-aligned page of "kernel", so that the library's bundle checks pass
 * without the real kernel build.
 */
#include <stddef.h>

static char fake_kernel[4096] __attribute__((aligned(4096)));

char *krunfw_get_kernel(size_t *load_addr, size_t *entry_addr, size_t *size);
int krunfw_get_version(void);

char *krunfw_get_kernel(size_t *load_addr, size_t *entry_addr, size_t *size)
{
    *load_addr = 0x1000000;
    *entry_addr = 0x1000000;
    *size = sizeof(fake_kernel);
    return fake_kernel;
}

int krunfw_get_version(void)
{
    return 5;
}
