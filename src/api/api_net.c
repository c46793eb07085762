/*
 * api_net.c: krun_add_net_{unixstream,unixgram,tap} and the deprecated single
 * interface of krun_set_passt_fd / krun_set_gvproxy_path / krun_set_net_mac.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libkrun.h"

#include "api/api.h"
#include "api/args.h"
#include "api/ctx.h"
#include "util.h"

#define NET_ALL_FEATURES                                                       \
    (NET_FEATURE_CSUM | NET_FEATURE_GUEST_CSUM | NET_FEATURE_GUEST_TSO4 |      \
     NET_FEATURE_GUEST_TSO6 | NET_FEATURE_GUEST_UFO | NET_FEATURE_HOST_TSO4 |  \
     NET_FEATURE_HOST_TSO6 | NET_FEATURE_HOST_UFO)
#define NET_GUEST_OFFLOADS                                                     \
    (NET_FEATURE_GUEST_TSO4 | NET_FEATURE_GUEST_TSO6 | NET_FEATURE_GUEST_UFO)

/* Flags each backend accepts. */
static const uint32_t net_allowed_flags[] = {
    [VM_NET_UNIXSTREAM] = NET_FLAG_DHCP_CLIENT,
    [VM_NET_UNIXGRAM] = NET_FLAG_VFKIT | NET_FLAG_DHCP_CLIENT,
    [VM_NET_TAP] = NET_FLAG_DHCP_CLIENT,
};

/* Check (n) (path not yet copied) per libkrun-behaviour.md §2.7. */
static int net_check(const struct vm_net *n, const char *path,
                     const uint8_t *mac)
{
    if (!mac || (n->features & ~(uint32_t)NET_ALL_FEATURES) ||
        (n->flags & ~net_allowed_flags[n->backend]))
        return -EINVAL;
    if (n->backend == VM_NET_TAP)
        return path && ((n->features & NET_GUEST_OFFLOADS) == 0 ||
                        (n->features & NET_FEATURE_GUEST_CSUM))
                   ? 0
                   : -EINVAL;
    /* Exactly one of a socket path and a connected fd. */
    return (path != NULL) != (n->fd >= 0) ? 0 : -EINVAL;
}

static int add_net(uint32_t ctx_id, enum vm_net_backend backend,
                   const char *path, int fd, const uint8_t *mac,
                   uint32_t features, uint32_t flags)
{
    struct vm_net n = {
        .backend = backend, .fd = fd, .features = features, .flags = flags};
    struct vm_net *slot = NULL;
    struct ctx *ctx;
    int rc;

    rc = net_check(&n, path, mac);
    if (rc == 0)
        rc = args_str_opt(path, &n.path);
    if (rc < 0)
        return rc;
    memcpy(n.mac, mac, sizeof(n.mac));
    ctx = ctx_get(ctx_id);
    if (ctx) {
        slot = ARGS_PUSH(ctx->cfg.nets, ctx->cfg.nr_nets);
        if (slot)
            *slot = n;
        ctx_put(ctx);
    }
    if (!slot)
        free(n.path);
    return slot ? 0 : ctx ? -ENOMEM : -ENOENT;
}

KRUN_API int32_t krun_add_net_unixstream(uint32_t ctx_id, const char *c_path,
                                         int fd, uint8_t *const c_mac,
                                         uint32_t features, uint32_t flags)
{
    return add_net(ctx_id, VM_NET_UNIXSTREAM, c_path, fd, c_mac, features,
                   flags);
}

KRUN_API int32_t krun_add_net_unixgram(uint32_t ctx_id, const char *c_path,
                                       int fd, uint8_t *const c_mac,
                                       uint32_t features, uint32_t flags)
{
    return add_net(ctx_id, VM_NET_UNIXGRAM, c_path, fd, c_mac, features, flags);
}

KRUN_API int32_t krun_add_net_tap(uint32_t ctx_id, char *c_tap_name,
                                  uint8_t *const c_mac, uint32_t features,
                                  uint32_t flags)
{
    return add_net(ctx_id, VM_NET_TAP, c_tap_name, -1, c_mac, features, flags);
}

/* Set the legacy interface; (path) is owned (freed on failure). */
static int set_legacy_net(uint32_t ctx_id, enum vm_legacy_net_kind kind, int fd,
                          char *path)
{
    struct ctx *ctx = ctx_get(ctx_id);
    int rc = -ENOENT;

    if (ctx) {
        struct vm_legacy_net *l = &ctx->cfg.legacy_net;

        rc = ctx->cfg.nr_nets ? -EINVAL : 0;
        if (rc == 0) {
            free(l->path);
            l->kind = kind;
            l->fd = fd;
            l->path = path;
        }
        ctx_put(ctx);
    }
    if (rc < 0)
        free(path);
    return rc;
}

KRUN_API int32_t krun_set_passt_fd(uint32_t ctx_id, int fd)
{
    if (fd < 0)
        return -EINVAL;
    return set_legacy_net(ctx_id, VM_LEGACY_NET_PASST, fd, NULL);
}

KRUN_API int32_t krun_set_gvproxy_path(uint32_t ctx_id, char *c_path)
{
    char *path;
    int rc = args_str(c_path, &path);

    if (rc < 0)
        return rc;
    return set_legacy_net(ctx_id, VM_LEGACY_NET_GVPROXY, -1, path);
}

KRUN_API int32_t krun_set_net_mac(uint32_t ctx_id, uint8_t *const c_mac)
{
    struct ctx *ctx;

    if (!c_mac)
        return -EINVAL;
    ctx = ctx_get(ctx_id);
    if (!ctx)
        return -ENOENT;
    memcpy(ctx->cfg.legacy_net.mac, c_mac, sizeof(ctx->cfg.legacy_net.mac));
    ctx_put(ctx);
    return 0;
}
