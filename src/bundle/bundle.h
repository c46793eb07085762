/*
 * bundle.h: the static guest init embedded in the library (the bytes of
 * build/init/init.krun, see mk/init.mk and init/). Served to the guest as
 * the virtual file /init.krun and returned by krun_get_default_init.
 */
#ifndef KRUN_BUNDLE_BUNDLE_H
#define KRUN_BUNDLE_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The init executable: returns a pointer to its bytes (read-only, valid for
 * the life of the process) and stores its size in (*len). Any thread.
 */
const uint8_t *init_blob(size_t *len);

#endif /* KRUN_BUNDLE_BUNDLE_H */
