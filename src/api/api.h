/*
 * api.h: helpers shared by the api_*.c files (the krun_* entry points).
 * Each returns 0 or a negative errno; those taking a config are called with
 * the context table locked (between ctx_get and ctx_put).
 */
#ifndef KRUN_API_API_H
#define KRUN_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * Replace the string at byte (offset) of context (ctx_id)'s vm_config (a
 * char * field) with a copy of (s).  -EINVAL for NULL or non-UTF-8 (s),
 * -ENOENT for an unknown context, -ENOMEM.  Use API_SET_STR.
 */
int api_set_str(uint32_t ctx_id, size_t offset, const char *s);
#define API_SET_STR(ctx_id, field, s)                                          \
    api_set_str(ctx_id, offsetof(struct vm_config, field), s)

/*
 * Like api_set_str for a char ** field: a deep copy of NULL-terminated array
 * (v) (-EINVAL for NULL, > VM_MAX_ARGS entries or non-UTF-8).  Use
 * API_SET_STRV.
 */
int api_set_strv(uint32_t ctx_id, size_t offset, const char *const *v);
#define API_SET_STRV(ctx_id, field, v)                                         \
    api_set_strv(ctx_id, offsetof(struct vm_config, field), v)

/*
 * Set the bool at byte (offset) of context (ctx_id)'s vm_config to (value).
 * -ENOENT for an unknown context.  Use API_SET_BOOL.
 */
int api_set_bool(uint32_t ctx_id, size_t offset, bool value);
#define API_SET_BOOL(ctx_id, field, value)                                     \
    api_set_bool(ctx_id, offsetof(struct vm_config, field), value)

/* The first filesystem tagged (tag), or NULL. */
struct vm_fs *api_fs_find(struct vm_config *cfg, const char *tag);

/*
 * Append a virtio-fs device to (cfg), taking ownership of (path) (may be
 * NULL) also on failure.  A KRUN_FS_ROOT_TAG device gets /init.krun unless
 * implicit init was disabled.  -ENOMEM.
 */
int api_fs_add(struct vm_config *cfg, const char *tag, char *path,
               uint64_t shm_size, bool read_only);

/*
 * Add overlay entry (path) to (fs) (see krun_fs_add_overlay_file for the
 * rules); (mode)'s type bits are replaced by (type) (S_IFREG or S_IFDIR).
 */
int api_fs_add_overlay(struct vm_fs *fs, const char *path, uint32_t type,
                       uint32_t mode, const uint8_t *data, size_t len,
                       bool one_shot);

/* What upstream offers that ckrun does not have yet (docs/API-STATUS.md). */
enum api_pending {
    PENDING_NET,      /* virtio-net: krun_add_net_*, passt/gvproxy */
    PENDING_VSOCK,    /* virtio-vsock and TSI: ports, port map */
    PENDING_FIRMWARE, /* firmware boot */
    PENDING_BOOT,     /* initramfs, non-ELF kernels, split irqchip, nested */
    PENDING_COUNT,
};

/*
 * -ENOTSUP, with one log line per kind naming (fn), since (what) is not
 * implemented; 0 if a unit test allowed recording (api_pending_allow).  The
 * entry points call it first, so nothing is silently ignored.
 */
int api_pending(enum api_pending what, const char *fn);
/* First statement of a pending entry point. */
#define API_PENDING(what)                                                      \
    do {                                                                       \
        int api_pending_rc_ = api_pending(what, __func__);                     \
        if (api_pending_rc_)                                                   \
            return api_pending_rc_;                                            \
    } while (0)

/* Tests only: let pending entry points validate and record as upstream. */
void api_pending_allow(bool allow);

#endif /* KRUN_API_API_H */
