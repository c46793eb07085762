/* api.c: the shared helpers of api.h that are not about one device. */
#include "api/api.h"

#include <errno.h>
#include <stdlib.h>

#include "api/args.h"
#include "api/ctx.h"

int api_set_str(uint32_t ctx_id, size_t offset, const char *s)
{
    struct ctx *ctx;
    char *copy, **field;
    int rc;

    rc = args_str(s, &copy);
    if (rc < 0)
        return rc;
    ctx = ctx_get(ctx_id);
    if (!ctx) {
        free(copy);
        return -ENOENT;
    }
    field = (char **)(void *)((char *)&ctx->cfg + offset);
    free(*field);
    *field = copy;
    ctx_put(ctx);
    return 0;
}

int api_set_strv(uint32_t ctx_id, size_t offset, const char *const *v)
{
    struct ctx *ctx;
    char **copy, ***field;
    int rc;

    rc = args_strv(v, &copy);
    if (rc < 0)
        return rc;
    ctx = ctx_get(ctx_id);
    if (!ctx) {
        args_strv_free(copy);
        return -ENOENT;
    }
    field = (char ***)(void *)((char *)&ctx->cfg + offset);
    args_strv_free(*field);
    *field = copy;
    ctx_put(ctx);
    return 0;
}

int api_set_bool(uint32_t ctx_id, size_t offset, bool value)
{
    struct ctx *ctx = ctx_get(ctx_id);

    if (!ctx)
        return -ENOENT;
    *(bool *)(void *)((char *)&ctx->cfg + offset) = value;
    ctx_put(ctx);
    return 0;
}
