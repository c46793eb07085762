/* fwlib.c: dlopen of libkrunfw.so.5 and its krunfw_get_kernel(). */
#define LOG_TAG "fwlib"
#include "fwlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* libkrunfw ABI 5. */
typedef char *(*krunfw_get_kernel_fn)(size_t *load_addr, size_t *entry_addr,
                                      size_t *size);

static pthread_once_t fwlib_once = PTHREAD_ONCE_INIT;
/* Written once under fwlib_once, read-only afterwards. */
static void *fwlib_handle;
static krunfw_get_kernel_fn fwlib_get_kernel_fn;

/*
 * Beyond upstream: when the library search path does not find libkrunfw,
 * look next to libkrun.so.1 itself, so that a build tree or a PREFIX/lib64
 * install (not on Debian's default search path) works without
 * LD_LIBRARY_PATH.
 */
static void *fwlib_open_beside_us(void)
{
    char path[PATH_MAX];
    const char *slash;
    Dl_info info;
    int n;

    if (!dladdr((void *)(uintptr_t)fwlib_load, &info) || !info.dli_fname)
        return NULL;
    slash = strrchr(info.dli_fname, '/');
    if (!slash)
        return NULL;
    n = snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - info.dli_fname),
                 info.dli_fname, FWLIB_SONAME);
    if (n < 0 || (size_t)n >= sizeof(path))
        return NULL;
    return dlopen(path, RTLD_NOW);
}

static void fwlib_do_load(void)
{
    void *h = dlopen(FWLIB_SONAME, RTLD_NOW);

    if (!h)
        h = fwlib_open_beside_us();
    if (!h) {
        log_debug("%s not loaded: %s", FWLIB_SONAME, dlerror());
        return;
    }
    fwlib_get_kernel_fn =
        (krunfw_get_kernel_fn)(uintptr_t)dlsym(h, "krunfw_get_kernel");
    if (!fwlib_get_kernel_fn) {
        log_debug("%s has no krunfw_get_kernel", FWLIB_SONAME);
        dlclose(h);
        return;
    }
    /* Kept for the life of the process: its pages may back guest memory. */
    fwlib_handle = h;
}

void fwlib_load(void)
{
    pthread_once(&fwlib_once, fwlib_do_load);
}

/*
 * Beyond upstream: load the bundle when libkrun.so.1 itself is loaded, while
 * the host file system is still visible.  crun <= 1.20 calls
 * krun_create_ctx() only after pivot_root into the container, where
 * libkrunfw.so.5 cannot be found by host path any more.  The bundle is
 * mapped, not read, so this costs a clean-page mapping (see the commit that
 * added it for the measured dlopen() cost); a failure is remembered and
 * reported by krun_start_enter() as before.
 */
__attribute__((constructor)) static void fwlib_load_early(void)
{
    fwlib_load();
}

bool fwlib_available(void)
{
    fwlib_load();
    return fwlib_get_kernel_fn != NULL;
}

int fwlib_get_kernel(void **host, uint64_t *load, uint64_t *entry, size_t *size)
{
    size_t l = 0, e = 0, s = 0;
    char *p;

    if (!fwlib_available())
        return -ENOENT;
    p = fwlib_get_kernel_fn(&l, &e, &s);
    if (!p || s == 0)
        return -ENOENT;
    *host = p;
    *load = l;
    *entry = e;
    *size = s;
    return 0;
}
