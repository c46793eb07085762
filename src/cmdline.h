/*
 * cmdline.h: the guest kernel command line, composed the way libkrun does it
 * (libkrun-behaviour.md §3.7).  The command line is the host -> guest
 * transport of the workload description: the guest kernel turns K=V tokens
 * into init's environment and the words after "--" into init's arguments.
 * Unlike upstream, what the guest kernel would truncate or panic on is
 * rejected here, with a message naming the bad value.
 */
#ifndef KRUN_CMDLINE_H
#define KRUN_CMDLINE_H

#include <stddef.h>

struct vm_config;

/* x86 COMMAND_LINE_SIZE, including the NUL. */
#define CMDLINE_GUEST_MAX 2048
/* CONFIG_INIT_ENV_ARG_LIMIT: init's environment (HOME and TERM included)
 * and its argv (argv[0] included). */
#define CMDLINE_MAX_INIT_ENVS 32
#define CMDLINE_MAX_INIT_ARGS 32

/* Default base, then "init=/init.krun" (§3.7). */
#define CMDLINE_DEFAULT_BASE                                                   \
    "reboot=k panic=-1 panic_print=0 nomodule console=hvc0 "                   \
    "rootfstype=virtiofs rw quiet no-kvmapf"

/*
 * Compose the command line for (cfg) with the (n) virtio_mmio.device=
 * entries in (devices), in attach order; store a malloc'ed string in (*out).
 * (environ) is the host environment used when the workload's envp was NULL.
 * Returns 0, -EINVAL (a non-printable character or a '"' in a value that
 * must be quoted; the message names it), -E2BIG (over the guest's 2048-byte
 * line or 32 environment / argument limits) or -ENOMEM.  Build thread.
 */
int cmdline_compose(const struct vm_config *cfg, const char *const *devices,
                    size_t n, char *const *environ_, char **out);

#endif /* KRUN_CMDLINE_H */
