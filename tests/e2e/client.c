/*
 * e2e-client: a minimal libkrun client for the end-to-end tests, using only
 * the public header.  It reaches what the ckrun CLI does not offer:
 * krun_set_rlimits, and a VM without krun_set_exec (the guest init then
 * takes the workload from /.krun_config.json, as with crun).
 *
 *   e2e-client [-c CPUS] [-m MIB] [-r RLIMIT]... [-e K=V]... [-w DIR]
 *              [-l LEVEL] [-d IMAGE[:ro]]... [-R DEV:FSTYPE[:OPTIONS]]
 *              ROOTDIR [CMD [ARGS...]]
 *
 * Without CMD no krun_set_exec is made; -e entries then go through
 * krun_set_env (none: no call at all).  -d adds a raw disk with
 * krun_add_disk (ids vd0, vd1, ...); -R boots from a disk with
 * krun_set_root_disk_remount (FSTYPE "-" for NULL: probe) and ROOTDIR must
 * be "-" (no krun_set_root).  Exits like the VM, or 1 with a message when
 * the VM could not be set up.
 *
 *   e2e-client --chroot-vm NEWROOT CMD [ARGS...]
 *
 * replays the call sequence of libkrun's examples/chroot_vm.c (default TSI
 * networking, no vhost-user devices; 2 vCPUs and 512 MiB instead of 4 and
 * 4096): krun_init_log(stderr, WARN), krun_create_ctx, krun_set_vm_config,
 * RLIMIT_NOFILE raised to its hard limit, krun_set_root(NEWROOT),
 * krun_set_gpu_options(EGL|DRM|THREAD_SYNC|ASYNC_FENCE_CB) (must succeed),
 * krun_set_port_map({"18000:8000"}), krun_set_rlimits({"6=4096:8192"}),
 * krun_set_workdir("/"), krun_set_exec(CMD, ARGS, {"TEST=works"}),
 * krun_split_irqchip(false), krun_start_enter.  krun_set_port_map must
 * return -ENOTSUP (vsock/TSI is not built yet, docs/API-STATUS.md); the
 * replay then goes on without it.
 */
#include <errno.h>
#include <libkrun.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_LIST 32

static int fail(const char *what, int err)
{
    fprintf(stderr, "e2e-client: %s: %s\n", what, strerror(-err));
    return 1;
}

static void add(const char **list, unsigned *n, const char *s)
{
    if (*n == MAX_LIST) {
        fprintf(stderr, "e2e-client: too many entries at '%s'\n", s);
        exit(2);
    }
    list[(*n)++] = s;
}

static int chroot_vm(int argc, char **argv)
{
    static const char *const port_map[] = {"18000:8000", NULL};
    static const char *const rlimits[] = {"6=4096:8192", NULL};
    static const char *const envp[] = {"TEST=works", NULL};
    const uint32_t virgl = VIRGLRENDERER_USE_EGL | VIRGLRENDERER_DRM |
                           VIRGLRENDERER_THREAD_SYNC |
                           VIRGLRENDERER_USE_ASYNC_FENCE_CB;
    struct rlimit rl;
    int32_t ctx;
    int err;

    if (argc < 4) {
        fprintf(stderr, "usage: e2e-client --chroot-vm NEWROOT CMD "
                        "[ARGS...]\n");
        return 2;
    }
    err = krun_init_log(KRUN_LOG_TARGET_DEFAULT, KRUN_LOG_LEVEL_WARN,
                        KRUN_LOG_STYLE_AUTO, 0);
    if (err < 0)
        return fail("krun_init_log", err);
    ctx = krun_create_ctx();
    if (ctx < 0)
        return fail("krun_create_ctx", ctx);
    if ((err = krun_set_vm_config((uint32_t)ctx, 2, 512)) < 0)
        return fail("krun_set_vm_config", err);
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return fail("getrlimit", -errno);
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        return fail("setrlimit", -errno);
    if ((err = krun_set_root((uint32_t)ctx, argv[2])) < 0)
        return fail("krun_set_root", err);
    if ((err = krun_set_gpu_options((uint32_t)ctx, virgl)) != 0)
        return fail("krun_set_gpu_options", err < 0 ? err : -EPROTO);
    err = krun_set_port_map((uint32_t)ctx, port_map);
    if (err != -ENOTSUP) {
        fprintf(stderr,
                "e2e-client: krun_set_port_map returned %d, expected "
                "-ENOTSUP (TSI not built)\n",
                err);
        return 1;
    }
    if ((err = krun_set_rlimits((uint32_t)ctx, rlimits)) < 0)
        return fail("krun_set_rlimits", err);
    if ((err = krun_set_workdir((uint32_t)ctx, "/")) < 0)
        return fail("krun_set_workdir", err);
    err = krun_set_exec((uint32_t)ctx, argv[3], (const char *const *)&argv[4],
                        envp);
    if (err < 0)
        return fail("krun_set_exec", err);
    if ((err = krun_split_irqchip((uint32_t)ctx, false)) < 0)
        return fail("krun_split_irqchip", err);
    err = krun_start_enter((uint32_t)ctx);
    return fail("krun_start_enter", err);
}

int main(int argc, char **argv)
{
    const char *env[MAX_LIST + 1] = {0}, *rlim[MAX_LIST + 1] = {0};
    const char *workdir = NULL, *disks[MAX_LIST];
    char *remount = NULL;
    unsigned nenv = 0, nrlim = 0, cpus = 1, mib = 512, level = 0, ndisks = 0;
    int32_t ctx;
    int c, err;

    if (argc > 1 && !strcmp(argv[1], "--chroot-vm"))
        return chroot_vm(argc, argv);
    while ((c = getopt(argc, argv, "+c:m:r:e:w:l:d:R:")) != -1) {
        switch (c) {
        case 'c':
            cpus = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'm':
            mib = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'r':
            add(rlim, &nrlim, optarg);
            break;
        case 'e':
            add(env, &nenv, optarg);
            break;
        case 'w':
            workdir = optarg;
            break;
        case 'l':
            level = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'd':
            add(disks, &ndisks, optarg);
            break;
        case 'R':
            remount = optarg;
            break;
        default:
            fprintf(stderr, "usage: e2e-client [-c CPUS] [-m MIB] [-r RLIMIT]"
                            "... [-e K=V]... [-w DIR] [-l LEVEL] "
                            "[-d IMAGE[:ro]]... [-R DEV:FSTYPE[:OPTIONS]] "
                            "ROOTDIR [CMD [ARGS...]]\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "e2e-client: missing ROOTDIR\n");
        return 2;
    }
    if (level)
        krun_set_log_level(level);
    ctx = krun_create_ctx();
    if (ctx < 0)
        return fail("krun_create_ctx", ctx);
    if ((err = krun_set_vm_config((uint32_t)ctx, (uint8_t)cpus, mib)) < 0)
        return fail("krun_set_vm_config", err);
    for (unsigned i = 0; i < ndisks; i++) {
        char id[16], *path = strdup(disks[i]);
        size_t len = strlen(path);
        bool ro = len > 3 && !strcmp(path + len - 3, ":ro");

        if (ro)
            path[len - 3] = '\0';
        snprintf(id, sizeof(id), "vd%u", i);
        if ((err = krun_add_disk((uint32_t)ctx, id, path, ro)) < 0)
            return fail("krun_add_disk", err);
    }
    if (remount) {
        char *type = strchr(remount, ':'), *opts = NULL;

        if (type) {
            *type++ = '\0';
            opts = strchr(type, ':');
            if (opts)
                *opts++ = '\0';
            if (!strcmp(type, "-"))
                type = NULL;
        }
        err = krun_set_root_disk_remount((uint32_t)ctx, remount, type, opts);
        if (err < 0)
            return fail("krun_set_root_disk_remount", err);
    }
    if (strcmp(argv[optind], "-") != 0 &&
        (err = krun_set_root((uint32_t)ctx, argv[optind])) < 0)
        return fail("krun_set_root", err);
    if (nrlim && (err = krun_set_rlimits((uint32_t)ctx, rlim)) < 0)
        return fail("krun_set_rlimits", err);
    if (workdir && (err = krun_set_workdir((uint32_t)ctx, workdir)) < 0)
        return fail("krun_set_workdir", err);
    if (optind + 1 < argc) {
        err = krun_set_exec((uint32_t)ctx, argv[optind + 1],
                            (const char *const *)&argv[optind + 2], env);
        if (err < 0)
            return fail("krun_set_exec", err);
    } else if (nenv && (err = krun_set_env((uint32_t)ctx, env)) < 0) {
        return fail("krun_set_env", err);
    }
    err = krun_start_enter((uint32_t)ctx);
    return fail("krun_start_enter", err);
}
