/*
 * api_disk.c: krun_add_disk{,2,3}, the deprecated krun_set_root_disk /
 * krun_set_data_disk, and krun_set_root_disk_remount.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libkrun.h"

#include "api/api.h"
#include "api/args.h"
#include "api/ctx.h"
#include "util.h"

KRUN_API int32_t krun_add_disk3(uint32_t ctx_id, const char *block_id,
                                const char *disk_path, uint32_t disk_format,
                                bool read_only, bool direct_io,
                                uint32_t sync_mode)
{
    struct vm_disk d = {
        .format = disk_format,
        .sync_mode = sync_mode,
        .read_only = read_only,
        .direct_io = direct_io,
    };
    struct vm_disk *slot = NULL;
    struct ctx *ctx = NULL;
    int rc;

    if (disk_format > KRUN_DISK_FORMAT_VMDK || sync_mode > KRUN_SYNC_FULL)
        return -EINVAL;
    rc = args_str(block_id, &d.id);
    if (rc == 0)
        rc = args_str(disk_path, &d.path);
    if (rc == 0) {
        ctx = ctx_get(ctx_id);
        rc = ctx ? 0 : -ENOENT;
    }
    if (ctx) {
        slot = ARGS_PUSH(ctx->cfg.disks, ctx->cfg.nr_disks);
        if (slot)
            *slot = d;
        else
            rc = -ENOMEM;
        ctx_put(ctx);
    }
    if (!slot) {
        free(d.id);
        free(d.path);
    }
    return rc;
}

KRUN_API int32_t krun_add_disk2(uint32_t ctx_id, const char *block_id,
                                const char *disk_path, uint32_t disk_format,
                                bool read_only)
{
    return krun_add_disk3(ctx_id, block_id, disk_path, disk_format, read_only,
                          false, KRUN_SYNC_FULL);
}

KRUN_API int32_t krun_add_disk(uint32_t ctx_id, const char *block_id,
                               const char *disk_path, bool read_only)
{
    return krun_add_disk2(ctx_id, block_id, disk_path, KRUN_DISK_FORMAT_RAW,
                          read_only);
}

KRUN_API int32_t krun_set_root_disk(uint32_t ctx_id, const char *disk_path)
{
    return API_SET_STR(ctx_id, root_disk, disk_path);
}

KRUN_API int32_t krun_set_data_disk(uint32_t ctx_id, const char *disk_path)
{
    return API_SET_STR(ctx_id, data_disk, disk_path);
}

/* The mount points init needs in the empty root before switching to the
 * block device. */
static const char *const remount_dirs[] = {"dev", "proc", "sys", "newroot"};

/* Create the null /dev/root filesystem of a block-device root. */
static int add_remount_root(struct vm_config *cfg)
{
    struct vm_fs *fs;
    int rc;

    if (api_fs_find(cfg, KRUN_FS_ROOT_TAG) || cfg->nr_disks == 0)
        return -EINVAL;
    rc = api_fs_add(cfg, KRUN_FS_ROOT_TAG, NULL, VM_ROOT_SHM_SIZE, false);
    if (rc < 0)
        return rc;
    fs = &cfg->fs[cfg->nr_fs - 1];
    for (size_t i = 0; i < ARRAY_SIZE(remount_dirs) && rc == 0; i++)
        rc = api_fs_add_overlay(fs, remount_dirs[i], S_IFDIR, 0755, NULL, 0,
                                false);
    return rc;
}

KRUN_API int32_t krun_set_root_disk_remount(uint32_t ctx_id, const char *device,
                                            const char *fstype,
                                            const char *options)
{
    char *dev = NULL, *type = NULL, *opts = NULL;
    struct ctx *ctx = NULL;
    int rc;

    rc = args_str(device, &dev);
    if (rc == 0 && fstype && strcmp(fstype, "auto") != 0)
        rc = args_str(fstype, &type);
    if (rc == 0)
        rc = args_str_opt(options, &opts);
    if (rc == 0) {
        ctx = ctx_get(ctx_id);
        rc = ctx ? add_remount_root(&ctx->cfg) : -ENOENT;
    }
    if (rc == 0) {
        ctx->cfg.block_root = true;
        ctx->cfg.block_root_device = dev;
        ctx->cfg.block_root_fstype = type;
        ctx->cfg.block_root_options = opts;
    } else {
        free(dev);
        free(type);
        free(opts);
    }
    if (ctx)
        ctx_put(ctx);
    return rc;
}
