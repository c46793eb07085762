/*
 * api_fs.c: krun_set_root, krun_add_virtiofs{,2,3}, implicit init, overlay
 * files and directories, krun_get_default_init.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libkrun.h"

#include "api/api.h"
#include "api/args.h"
#include "api/ctx.h"
#include "bundle/bundle.h"
#include "util.h"

struct vm_fs *api_fs_find(struct vm_config *cfg, const char *tag)
{
    for (size_t i = 0; i < cfg->nr_fs; i++) {
        if (strcmp(cfg->fs[i].tag, tag) == 0)
            return &cfg->fs[i];
    }
    return NULL;
}

int api_fs_add(struct vm_config *cfg, const char *tag, char *path,
               uint64_t shm_size, bool read_only)
{
    struct vm_fs *fs = ARGS_PUSH(cfg->fs, cfg->nr_fs);

    if (!fs) {
        free(path);
        return -ENOMEM;
    }
    strcpy(fs->tag, tag); /* callers checked its length */
    fs->path = path;
    fs->shm_size = shm_size;
    fs->read_only = read_only;
    fs->add_init = strcmp(tag, KRUN_FS_ROOT_TAG) == 0 && !cfg->no_implicit_init;
    return 0;
}

static struct vm_overlay *ovl_find(struct vm_fs *fs, const char *path,
                                   size_t len)
{
    for (size_t i = 0; i < fs->nr_ovl; i++) {
        struct vm_overlay *o = &fs->ovl[i];

        if (strlen(o->path) == len && memcmp(o->path, path, len) == 0)
            return o;
    }
    return NULL;
}

/*
 * Check every component of (path) is a non-empty name (not "." or "..") and
 * every parent an overlay directory of (fs).
 */
static int ovl_check_path(struct vm_fs *fs, const char *path)
{
    const char *c = path;

    for (;;) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        struct vm_overlay *parent;

        if (n == 0 || (n == 1 && c[0] == '.') ||
            (n == 2 && c[0] == '.' && c[1] == '.'))
            return -EINVAL;
        if (!slash)
            return 0;
        parent = ovl_find(fs, path, (size_t)(slash - path));
        if (!parent)
            return -ENOENT;
        if (!S_ISDIR(parent->mode))
            return -ENOTDIR;
        c = slash + 1;
    }
}

int api_fs_add_overlay(struct vm_fs *fs, const char *path, uint32_t type,
                       uint32_t mode, const uint8_t *data, size_t len,
                       bool one_shot)
{
    struct vm_overlay *o;
    char *copy;
    int rc;

    while (*path == '/')
        path++;
    rc = ovl_check_path(fs, path);
    if (rc < 0)
        return rc;
    if (ovl_find(fs, path, strlen(path)))
        return -EEXIST;
    rc = args_str(path, &copy);
    if (rc < 0)
        return rc;
    o = ARGS_PUSH(fs->ovl, fs->nr_ovl);
    if (!o) {
        free(copy);
        return -ENOMEM;
    }
    o->path = copy;
    o->data = data;
    o->len = len;
    o->mode = type | (mode & 07777);
    o->one_shot = one_shot;
    return 0;
}

KRUN_API int32_t krun_add_virtiofs3(uint32_t ctx_id, const char *c_tag,
                                    const char *c_path, uint64_t shm_size,
                                    bool read_only)
{
    struct ctx *ctx;
    char *path;
    int rc;

    if (!c_tag || strlen(c_tag) > VM_FS_TAG_MAX || !args_utf8_ok(c_tag))
        return -EINVAL;
    rc = args_str_opt(c_path, &path);
    if (rc < 0)
        return rc;
    ctx = ctx_get(ctx_id);
    if (!ctx) {
        free(path);
        return -ENOENT;
    }
    rc = api_fs_add(&ctx->cfg, c_tag, path, shm_size, read_only);
    ctx_put(ctx);
    return rc;
}

KRUN_API int32_t krun_add_virtiofs2(uint32_t ctx_id, const char *c_tag,
                                    const char *c_path, uint64_t shm_size)
{
    return krun_add_virtiofs3(ctx_id, c_tag, c_path, shm_size, false);
}

KRUN_API int32_t krun_add_virtiofs(uint32_t ctx_id, const char *c_tag,
                                   const char *c_path)
{
    return krun_add_virtiofs3(ctx_id, c_tag, c_path, 0, false);
}

KRUN_API int32_t krun_set_root(uint32_t ctx_id, const char *root_path)
{
    if (!root_path)
        return -EINVAL;
    return krun_add_virtiofs3(ctx_id, KRUN_FS_ROOT_TAG, root_path,
                              VM_ROOT_SHM_SIZE, false);
}

KRUN_API int32_t krun_disable_implicit_init(uint32_t ctx_id)
{
    return API_SET_BOOL(ctx_id, no_implicit_init, true);
}

KRUN_API int32_t krun_get_default_init(const uint8_t **data_out,
                                       size_t *len_out)
{
    if (!data_out || !len_out)
        return -EINVAL;
    *data_out = init_blob(len_out);
    return 0;
}

static int add_overlay(uint32_t ctx_id, const char *fs_tag, const char *path,
                       uint32_t type, uint32_t mode, const uint8_t *data,
                       size_t len, bool one_shot)
{
    struct ctx *ctx;
    struct vm_fs *fs;
    int rc;

    if (!fs_tag || !path || (!data && len))
        return -EINVAL;
    ctx = ctx_get(ctx_id);
    if (!ctx)
        return -ENOENT;
    fs = api_fs_find(&ctx->cfg, fs_tag);
    rc = fs ? api_fs_add_overlay(fs, path, type, mode, data, len, one_shot)
            : -ENOENT;
    ctx_put(ctx);
    return rc;
}

KRUN_API int32_t krun_fs_add_overlay_file(uint32_t ctx_id, const char *fs_tag,
                                          const char *path, const uint8_t *data,
                                          size_t data_len, uint32_t mode,
                                          bool one_shot)
{
    return add_overlay(ctx_id, fs_tag, path, S_IFREG, mode, data, data_len,
                       one_shot);
}

KRUN_API int32_t krun_fs_add_overlay_dir(uint32_t ctx_id, const char *fs_tag,
                                         const char *path, uint32_t mode)
{
    return add_overlay(ctx_id, fs_tag, path, S_IFDIR, mode, NULL, 0, false);
}

KRUN_API int32_t krun_set_mapped_volumes(uint32_t ctx_id,
                                         const char *const mapped_volumes[])
{
    /* No longer supported upstream: always rejected. */
    (void)ctx_id;
    (void)mapped_volumes;
    return -EINVAL;
}
