/*
 * api_vsock.c: the vsock device and its TSI mode, host<->guest vsock ports,
 * and the TSI port map.
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

/* Parse "HOST:GUEST" (exactly one ':', 16-bit decimal ports). */
static int parse_port_pair(const char *s, struct vm_port_map *out)
{
    const char *colon = strchr(s, ':');
    uint64_t host, guest;

    if (!colon || strchr(colon + 1, ':'))
        return -EINVAL;
    if (args_uint(s, (size_t)(colon - s), UINT16_MAX, &host) < 0 ||
        args_uint(colon + 1, strlen(colon + 1), UINT16_MAX, &guest) < 0)
        return -EINVAL;
    out->host = (uint16_t)host;
    out->guest = (uint16_t)guest;
    return 0;
}

/* Parse (port_map) into a new array; rejects repeated host or guest ports. */
static int parse_port_map(const char *const *port_map, struct vm_port_map **out,
                          size_t *nr)
{
    struct vm_port_map *map;
    size_t count = 0;
    int rc = 0;

    while (port_map[count]) {
        if (count == VM_MAX_ARGS)
            return -EINVAL;
        count++;
    }
    map = calloc(count ? count : 1, sizeof(*map));
    if (!map)
        return -ENOMEM;
    for (size_t n = 0; n < count && rc == 0; n++) {
        rc = parse_port_pair(port_map[n], &map[n]);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (map[i].host == map[n].host || map[i].guest == map[n].guest)
                rc = -EINVAL;
        }
    }
    if (rc < 0) {
        free(map);
        return rc;
    }
    *out = map;
    *nr = count;
    return 0;
}

KRUN_API int32_t krun_set_port_map(uint32_t ctx_id,
                                   const char *const port_map[])
{
    API_PENDING(PENDING_VSOCK);
    struct vm_port_map *map = NULL;
    struct ctx *ctx;
    size_t n = 0;
    int rc = 0;

    /* NULL crashes upstream; here it clears the map ("expose all"). */
    if (port_map)
        rc = parse_port_map(port_map, &map, &n);
    if (rc < 0)
        return rc;
    ctx = ctx_get(ctx_id);
    if (!ctx) {
        free(map);
        return -ENOENT;
    }
    if (ctx->cfg.vsock_mode == VM_VSOCK_DISABLED)
        rc = -ENODEV;
    else if (ctx->cfg.nr_nets)
        rc = -EINVAL;
    if (rc == 0) {
        free(ctx->cfg.port_map);
        ctx->cfg.port_map = map;
        ctx->cfg.nr_port_map = n;
    } else {
        free(map);
    }
    ctx_put(ctx);
    return rc;
}

/* Record (port -> path) in (cfg), replacing an entry for the same port;
 * (path) is owned. */
static int set_vsock_port(struct vm_config *cfg, uint32_t port, char *path,
                          bool listen)
{
    struct vm_vsock_port *p = NULL;

    for (size_t i = 0; i < cfg->nr_vsock_ports && !p; i++) {
        if (cfg->vsock_ports[i].port == port)
            p = &cfg->vsock_ports[i];
    }
    if (p)
        free(p->path);
    else
        p = ARGS_PUSH(cfg->vsock_ports, cfg->nr_vsock_ports);
    if (!p) {
        free(path);
        return -ENOMEM;
    }
    p->port = port;
    p->path = path;
    p->listen = listen;
    return 0;
}

KRUN_API int32_t krun_add_vsock_port2(uint32_t ctx_id, uint32_t port,
                                      const char *c_filepath, bool listen)
{
    API_PENDING(PENDING_VSOCK);
    struct ctx *ctx;
    struct stat st;
    char *path;
    int rc;

    rc = args_str(c_filepath, &path);
    if (rc < 0)
        return rc;
    /* A listening socket is created at start: the path must be free. */
    if (listen && stat(path, &st) == 0)
        rc = -EEXIST;
    else if (listen && errno != ENOENT)
        rc = -EINVAL;
    ctx = rc == 0 ? ctx_get(ctx_id) : NULL;
    if (!ctx) {
        free(path);
        return rc < 0 ? rc : -ENOENT;
    }
    if (ctx->cfg.vsock_mode == VM_VSOCK_DISABLED) {
        free(path);
        rc = -ENODEV;
    } else {
        rc = set_vsock_port(&ctx->cfg, port, path, listen);
    }
    ctx_put(ctx);
    return rc;
}

KRUN_API int32_t krun_add_vsock_port(uint32_t ctx_id, uint32_t port,
                                     const char *c_filepath)
{
    return krun_add_vsock_port2(ctx_id, port, c_filepath, false);
}

KRUN_API int32_t krun_add_vsock(uint32_t ctx_id, uint32_t tsi_features)
{
    API_PENDING(PENDING_VSOCK);
    struct ctx *ctx;
    int rc = 0;

    if (tsi_features & ~(uint32_t)(KRUN_TSI_HIJACK_INET | KRUN_TSI_HIJACK_UNIX))
        return -EINVAL;
    ctx = ctx_get(ctx_id);
    if (!ctx)
        return -ENOENT;
    if (ctx->cfg.vsock_mode != VM_VSOCK_DISABLED) {
        rc = -EEXIST; /* the implicit one, or a second call */
    } else {
        ctx->cfg.vsock_mode = VM_VSOCK_EXPLICIT;
        ctx->cfg.tsi_features = tsi_features;
    }
    ctx_put(ctx);
    return rc;
}

KRUN_API int32_t krun_disable_implicit_vsock(uint32_t ctx_id)
{
    struct ctx *ctx = ctx_get(ctx_id);

    if (!ctx)
        return -ENOENT;
    ctx->cfg.vsock_mode = VM_VSOCK_DISABLED;
    ctx->cfg.tsi_features = 0;
    ctx_put(ctx);
    return 0;
}
