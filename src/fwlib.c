/* fwlib.c: dlopen of libkrunfw.so.5 and its krunfw_get_kernel(). */
#define LOG_TAG "fwlib"
#include "fwlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include "log.h"

/* libkrunfw ABI 5. */
typedef char *(*krunfw_get_kernel_fn)(size_t *load_addr, size_t *entry_addr,
                                      size_t *size);

static pthread_once_t fwlib_once = PTHREAD_ONCE_INIT;
/* Written once under fwlib_once, read-only afterwards. */
static void *fwlib_handle;
static krunfw_get_kernel_fn fwlib_get_kernel_fn;

static void fwlib_do_load(void)
{
    void *h = dlopen(FWLIB_SONAME, RTLD_NOW);

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
