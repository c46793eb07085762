/*
 * libkrunfw.so.5: the guest kernel as a shared library, ABI-compatible with
 * upstream libkrunfw (ABI 5).  The flat image (kernel/flatten) is embedded by
 * kernel/blob.S in a writable, 64 KiB-aligned section so that a VMM can map
 * the library's pages straight into the guest as a memslot instead of copying
 * them (the mapping is private, so guest writes stay copy-on-write).
 */
#include <stddef.h>

#include "kernel-layout.h"

#define KRUNFW_API         __attribute__((visibility("default")))
#define KRUNFW_ABI_VERSION 5

extern char krunfw_image[];
extern char krunfw_image_end[];

KRUNFW_API char *krunfw_get_kernel(size_t *load_addr, size_t *entry_addr,
                                   size_t *size);
KRUNFW_API int krunfw_get_version(void);

char *krunfw_get_kernel(size_t *load_addr, size_t *entry_addr, size_t *size)
{
    if (load_addr)
        *load_addr = KRUNFW_LOAD_ADDR;
    if (entry_addr)
        *entry_addr = KRUNFW_ENTRY_ADDR;
    if (size)
        *size = (size_t)(krunfw_image_end - krunfw_image);
    return krunfw_image;
}

int krunfw_get_version(void)
{
    return KRUNFW_ABI_VERSION;
}
