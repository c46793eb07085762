/*
 * fwlib.h: the guest kernel bundle, libkrunfw.so.5 (ABI 5).  Loaded with
 * dlopen() once per process, by a constructor when libkrun.so.1 is loaded
 * (beyond upstream, which loads it in the first krun_create_ctx()), so that
 * clients which change mount namespace or root before creating a context
 * (crun <= 1.20) still find it.  A failed load is remembered, not reported,
 * until the kernel is needed.  Loading starts no thread and keeps no fd
 * besides the mapping.
 */
#ifndef KRUN_FWLIB_H
#define KRUN_FWLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The soname that is loaded. */
#define FWLIB_SONAME "libkrunfw.so.5"

/* Load the library and resolve krunfw_get_kernel, once per process.  Any
 * thread. */
void fwlib_load(void);

/* True if fwlib_load() found the library and its krunfw_get_kernel. */
bool fwlib_available(void);

/*
 * Get the flattened kernel: host pointer (*host) to (*size) bytes, to be
 * placed at guest-physical (*load) and entered at (*entry).  -ENOENT if the
 * library was not loaded (fwlib_load is called first if it has not been).
 */
int fwlib_get_kernel(void **host, uint64_t *load, uint64_t *entry,
                     size_t *size);

#endif /* KRUN_FWLIB_H */
