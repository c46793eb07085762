/*
 * test_krunfw: libkrunfw.so.5 keeps upstream's ABI 5.
 *
 *   test_krunfw LIB VMLINUX FIRST_LOAD_OFFSET FIRST_LOAD_FILESZ ENTRY
 *
 * dlopen()s LIB, calls krunfw_get_kernel() and krunfw_get_version(), and
 * compares the image's first bytes with vmlinux's first PT_LOAD segment
 * (offset and size as readelf reports them).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

typedef char *(*get_kernel_fn)(size_t *, size_t *, size_t *);
typedef int (*get_version_fn)(void);

static const char *lib_path, *vmlinux_path;
static unsigned long long seg_off, seg_size, elf_entry;

static void test_abi(void)
{
    void *lib = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    get_kernel_fn get_kernel;
    get_version_fn get_version;
    size_t load = 0, entry = 0, size = 0, cmp;
    unsigned char *seg;
    char *img;
    FILE *f;

    if (!CHECK(lib != NULL)) {
        t_diag("dlopen: %s", dlerror());
        return;
    }
    get_kernel = (get_kernel_fn)dlsym(lib, "krunfw_get_kernel");
    get_version = (get_version_fn)dlsym(lib, "krunfw_get_version");
    if (!CHECK(get_kernel != NULL) || !CHECK(get_version != NULL))
        return;
    CHECK_EQ(get_version(), 5);

    img = get_kernel(&load, &entry, &size);
    CHECK(img != NULL);
    CHECK(((uintptr_t)img & 0xfff) == 0);
    CHECK(((uintptr_t)img & 0xffff) == 0); /* upstream aligns to 64 KiB */
    CHECK_EQ(load, 0x1000000);
    CHECK_EQ(entry, elf_entry);
    CHECK(size > 0 && size % 4096 == 0);
    CHECK(size >= seg_size);
    t_diag("image %zu bytes at load 0x%zx entry 0x%zx", size, load, entry);

    /* The image starts with the first PT_LOAD segment, byte for byte. */
    seg = malloc(seg_size);
    f = fopen(vmlinux_path, "rb");
    CHECK(seg && f && fseek(f, (long)seg_off, SEEK_SET) == 0 &&
          fread(seg, 1, seg_size, f) == seg_size);
    cmp = size < seg_size ? size : seg_size;
    CHECK(img && seg && memcmp(img, seg, cmp) == 0);
    if (f)
        fclose(f);
    free(seg);

    /* Writable, as VMMs map it as guest memory (copy-on-write). */
    if (img) {
        char saved = img[size - 1];

        img[size - 1] = 0x5a;
        CHECK(img[size - 1] == 0x5a);
        img[size - 1] = saved;
    }

    /* Only the two ABI symbols are exported. */
    CHECK(dlsym(lib, "krunfw_image") == NULL);
    dlclose(lib);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s LIB VMLINUX OFFSET FILESZ ENTRY\n", argv[0]);
        return 2;
    }
    lib_path = argv[1];
    vmlinux_path = argv[2];
    seg_off = strtoull(argv[3], NULL, 0);
    seg_size = strtoull(argv[4], NULL, 0);
    elf_entry = strtoull(argv[5], NULL, 0);
    RUN(test_abi);
    return t_done();
}
