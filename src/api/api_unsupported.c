/*
 * api_unsupported.c: entry points of features ckrun does not have (GPU,
 * display, input, vhost-user, TEE).  They exist so that every libkrun 1.x
 * symbol resolves, and fail with -ENOTSUP as upstream builds without those
 * features do.  Exception: krun_set_gpu_options{,2} record the flags and
 * succeed, as upstream always does (its chroot_vm example aborts otherwise).
 */
#include <errno.h>

#include "libkrun.h"

#include "api/ctx.h"
#include "util.h"

KRUN_API int32_t krun_set_gpu_options2(uint32_t ctx_id, uint32_t virgl_flags,
                                       uint64_t shm_size)
{
    struct ctx *ctx = ctx_get(ctx_id);

    if (!ctx)
        return -ENOENT;
    ctx->cfg.gpu_flags = virgl_flags;
    ctx->cfg.gpu_shm_size = shm_size;
    ctx_put(ctx);
    return 0;
}

KRUN_API int32_t krun_set_gpu_options(uint32_t ctx_id, uint32_t virgl_flags)
{
    /* Upstream's default host window: 8 GiB. */
    return krun_set_gpu_options2(ctx_id, virgl_flags, 1ULL << 33);
}

KRUN_API int32_t krun_add_display(uint32_t ctx_id, uint32_t width,
                                  uint32_t height)
{
    return -ENOTSUP;
}

KRUN_API int32_t krun_display_set_edid(uint32_t ctx_id, uint32_t display_id,
                                       const uint8_t *edid_blob,
                                       size_t blob_size)
{
    return -ENOTSUP;
}

KRUN_API int32_t krun_display_set_dpi(uint32_t ctx_id, uint32_t display_id,
                                      uint32_t dpi)
{
    return -ENOTSUP;
}

KRUN_API int32_t krun_display_set_physical_size(uint32_t ctx_id,
                                                uint32_t display_id,
                                                uint16_t width_mm,
                                                uint16_t height_mm)
{
    return -ENOTSUP;
}

KRUN_API int32_t krun_display_set_refresh_rate(uint32_t ctx_id,
                                               uint32_t display_id,
                                               uint32_t refresh_rate)
{
    return -ENOTSUP;
}

KRUN_API int32_t krun_set_display_backend(uint32_t ctx_id,
                                          const void *display_backend,
                                          size_t backend_size)
{
    return -ENOTSUP;
}

KRUN_API int krun_add_input_device(uint32_t ctx_id, const void *config_backend,
                                   size_t config_backend_size,
                                   const void *events_backend,
                                   size_t events_backend_size)
{
    return -ENOTSUP;
}

KRUN_API int krun_add_input_device_fd(uint32_t ctx_id, int input_fd)
{
    return -ENOTSUP;
}

KRUN_API int32_t krun_add_vhost_user_device(
    uint32_t ctx_id, uint32_t device_type, const char *socket_path,
    const char *name, uint16_t num_queues, const uint16_t *queue_sizes)
{
    return -ENOTSUP;
}

KRUN_API int32_t krun_set_tee_config_file(uint32_t ctx_id, const char *filepath)
{
    return -ENOTSUP;
}
