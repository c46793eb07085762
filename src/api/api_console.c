/*
 * api_console.c: the implicit console, explicit virtio-console devices and
 * their ports, legacy serial ports and the kernel's console= value.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "libkrun.h"

#include "api/api.h"
#include "api/args.h"
#include "api/ctx.h"
#include "util.h"

KRUN_API int32_t krun_disable_implicit_console(uint32_t ctx_id)
{
    return API_SET_BOOL(ctx_id, no_implicit_console, true);
}

KRUN_API int32_t krun_set_console_output(uint32_t ctx_id,
                                         const char *c_filepath)
{
    struct ctx *ctx;
    char *path;
    int rc;

    rc = args_str(c_filepath, &path);
    if (rc < 0)
        return rc;
    ctx = ctx_get(ctx_id);
    if (!ctx) {
        free(path);
        return -ENOENT;
    }
    if (ctx->cfg.console_output) {
        free(path);
        rc = -EINVAL; /* only one output file */
    } else {
        ctx->cfg.console_output = path;
    }
    ctx_put(ctx);
    return rc;
}

KRUN_API int32_t krun_set_kernel_console(uint32_t ctx_id,
                                         const char *console_id)
{
    return API_SET_STR(ctx_id, kernel_console, console_id);
}

/* Append console (con) to the context; returns its console_id. */
static int32_t add_console(uint32_t ctx_id, struct vm_console con)
{
    struct vm_console *slot;
    struct ctx *ctx;
    int32_t id;

    ctx = ctx_get(ctx_id);
    if (!ctx)
        return -ENOENT;
    slot = ARGS_PUSH(ctx->cfg.consoles, ctx->cfg.nr_consoles);
    if (slot)
        *slot = con;
    id = slot ? (int32_t)(ctx->cfg.nr_consoles - 1) : -ENOMEM;
    ctx_put(ctx);
    return id;
}

KRUN_API int32_t krun_add_virtio_console_default(uint32_t ctx_id, int input_fd,
                                                 int output_fd, int err_fd)
{
    struct vm_console con = {.kind = VM_CONSOLE_DEFAULT,
                             .in_fd = input_fd,
                             .out_fd = output_fd,
                             .err_fd = err_fd};
    int32_t rc = add_console(ctx_id, con);

    return rc < 0 ? rc : 0;
}

KRUN_API int32_t krun_add_virtio_console_multiport(uint32_t ctx_id)
{
    struct vm_console con = {
        .kind = VM_CONSOLE_MULTIPORT, .in_fd = -1, .out_fd = -1, .err_fd = -1};

    return add_console(ctx_id, con);
}

/* Add (port) (its name owned) to multiport console (console_id). */
static int add_port(uint32_t ctx_id, uint32_t console_id,
                    struct vm_console_port port)
{
    struct vm_console_port *slot = NULL;
    struct vm_console *con;
    struct ctx *ctx;
    int rc = -ENOENT;

    ctx = ctx_get(ctx_id);
    if (ctx) {
        con = console_id < ctx->cfg.nr_consoles ? &ctx->cfg.consoles[console_id]
                                                : NULL;
        rc = -EINVAL;
        if (con && con->kind == VM_CONSOLE_MULTIPORT) {
            slot = ARGS_PUSH(con->ports, con->nr_ports);
            rc = slot ? 0 : -ENOMEM;
        }
        /* Checked last, as upstream looks at the device first. */
        if (slot && port.is_tty && !isatty(port.in_fd)) {
            con->nr_ports--;
            slot = NULL;
            rc = -ENOTTY;
        }
        if (slot)
            *slot = port;
        ctx_put(ctx);
    }
    if (!slot)
        free(port.name);
    return rc;
}

KRUN_API int32_t krun_add_console_port_tty(uint32_t ctx_id, uint32_t console_id,
                                           const char *name, int tty_fd)
{
    struct vm_console_port port = {
        .is_tty = true, .in_fd = tty_fd, .out_fd = tty_fd};
    int rc;

    if (tty_fd < 0)
        return -EINVAL;
    rc = args_str(name ? name : "", &port.name);
    if (rc < 0)
        return rc;
    return add_port(ctx_id, console_id, port);
}

KRUN_API int32_t krun_add_console_port_inout(uint32_t ctx_id,
                                             uint32_t console_id,
                                             const char *name, int input_fd,
                                             int output_fd)
{
    struct vm_console_port port = {.in_fd = input_fd, .out_fd = output_fd};
    int rc;

    rc = args_str(name ? name : "", &port.name);
    if (rc < 0)
        return rc;
    return add_port(ctx_id, console_id, port);
}

KRUN_API int32_t krun_add_serial_console_default(uint32_t ctx_id, int input_fd,
                                                 int output_fd)
{
    struct vm_serial *slot;
    struct ctx *ctx;

    ctx = ctx_get(ctx_id);
    if (!ctx)
        return -ENOENT;
    slot = ARGS_PUSH(ctx->cfg.serials, ctx->cfg.nr_serials);
    if (slot) {
        slot->in_fd = input_fd;
        slot->out_fd = output_fd;
    }
    ctx_put(ctx);
    return slot ? 0 : -ENOMEM;
}
