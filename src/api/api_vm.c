/*
 * api_vm.c: context lifecycle, VM shape, kernel/firmware override, host
 * queries (nested virtualisation, vCPU limit) and krun_start_enter.
 */
#define LOG_TAG "api"
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libkrun.h"

#include "api/api.h"
#include "api/args.h"
#include "api/ctx.h"
#include "fwlib.h"
#include "log.h"
#include "util.h"
#include "vm.h"

KRUN_API int32_t krun_create_ctx(void)
{
    /* Before anything else, so crun can switch namespaces afterwards. */
    fwlib_load();
    return ctx_create();
}

KRUN_API int32_t krun_free_ctx(uint32_t ctx_id)
{
    struct ctx *ctx = ctx_take(ctx_id);

    if (!ctx)
        return -ENOENT;
    ctx_destroy(ctx);
    return 0;
}

KRUN_API int32_t krun_set_vm_config(uint32_t ctx_id, uint8_t num_vcpus,
                                    uint32_t ram_mib)
{
    struct ctx *ctx;

    if (num_vcpus == 0 || ram_mib == 0)
        return -EINVAL;
    ctx = ctx_get(ctx_id);
    if (!ctx)
        return -ENOENT;
    ctx->cfg.nr_vcpus = num_vcpus;
    ctx->cfg.ram_mib = ram_mib;
    ctx_put(ctx);
    return 0;
}

KRUN_API int32_t krun_set_nested_virt(uint32_t ctx_id, bool enabled)
{
    if (enabled)
        API_PENDING(PENDING_BOOT); /* no VMX/SVM in the guest's CPUID yet */
    return API_SET_BOOL(ctx_id, nested_virt, enabled);
}

KRUN_API int32_t krun_split_irqchip(uint32_t ctx_id, bool enable)
{
    if (enable)
        API_PENDING(PENDING_BOOT); /* only the in-kernel irqchip */
    return API_SET_BOOL(ctx_id, split_irqchip, enable);
}

KRUN_API int32_t krun_setuid(uint32_t ctx_id, uid_t uid)
{
    struct ctx *ctx = ctx_get(ctx_id);

    if (!ctx)
        return -ENOENT;
    ctx->cfg.set_uid = true;
    ctx->cfg.uid = uid;
    ctx_put(ctx);
    return 0;
}

KRUN_API int32_t krun_setgid(uint32_t ctx_id, gid_t gid)
{
    struct ctx *ctx = ctx_get(ctx_id);

    if (!ctx)
        return -ENOENT;
    ctx->cfg.set_gid = true;
    ctx->cfg.gid = gid;
    ctx_put(ctx);
    return 0;
}

KRUN_API int32_t krun_set_smbios_oem_strings(uint32_t ctx_id,
                                             const char *const oem_strings[])
{
    /* Recorded for completeness; x86_64 has no SMBIOS tables (as upstream). */
    return API_SET_STRV(ctx_id, oem_strings, oem_strings);
}

KRUN_API int32_t krun_set_kernel(uint32_t ctx_id, const char *kernel_path,
                                 uint32_t kernel_format, const char *initramfs,
                                 const char *cmdline)
{
    char *path = NULL, *initrd = NULL, *cmd = NULL;
    struct ctx *ctx;
    struct stat st;
    int rc;

    if (kernel_format > KRUN_KERNEL_FORMAT_IMAGE_ZSTD)
        return -EINVAL;
    if (initramfs && stat(initramfs, &st) < 0)
        return -EINVAL;
    /* The loader reads ELF kernels; initramfs and compressed images: not yet.
     */
    if (kernel_format != KRUN_KERNEL_FORMAT_ELF || initramfs)
        API_PENDING(PENDING_BOOT);
    rc = args_str(kernel_path, &path);
    if (rc == 0)
        rc = args_str_opt(initramfs, &initrd);
    if (rc == 0)
        rc = args_str_opt(cmdline, &cmd);
    ctx = rc == 0 ? ctx_get(ctx_id) : NULL;
    if (!ctx) {
        free(path);
        free(initrd);
        free(cmd);
        return rc < 0 ? rc : -ENOENT;
    }
    free(ctx->cfg.kernel_path);
    free(ctx->cfg.initramfs);
    free(ctx->cfg.kernel_cmdline);
    ctx->cfg.kernel_path = path;
    ctx->cfg.kernel_format = kernel_format;
    ctx->cfg.initramfs = initrd;
    ctx->cfg.kernel_cmdline = cmd;
    ctx_put(ctx);
    return 0;
}

KRUN_API int32_t krun_set_firmware(uint32_t ctx_id, const char *firmware_path)
{
    API_PENDING(PENDING_FIRMWARE);
    return API_SET_STR(ctx_id, firmware_path, firmware_path);
}

KRUN_API int32_t krun_get_shutdown_eventfd(uint32_t ctx_id)
{
    struct ctx *ctx = ctx_get(ctx_id);

    if (!ctx)
        return -ENOENT;
    ctx_put(ctx);
    /* Only macOS/aarch64 upstream has one (a virtual power button). */
    return -EINVAL;
}

/* True if sysfs file (path) holds "1", "Y" or "y" (surrounding blanks ok). */
static bool sysfs_flag_set(const char *path)
{
    char buf[16] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    char *s;

    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    for (s = buf; *s == ' ' || *s == '\t' || *s == '\n'; s++)
        ;
    if (*s != '1' && *s != 'Y' && *s != 'y')
        return false;
    for (s++; *s == ' ' || *s == '\t' || *s == '\n'; s++)
        ;
    return *s == '\0';
}

KRUN_API int32_t krun_check_nested_virt(void)
{
    return sysfs_flag_set("/sys/module/kvm_intel/parameters/nested") ||
           sysfs_flag_set("/sys/module/kvm_amd/parameters/nested");
}

KRUN_API int32_t krun_get_max_vcpus(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int n;

    if (fd < 0)
        return -EINVAL;
    n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (n <= 0)
        n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    close(fd);
    return n > 0 ? n : -EINVAL;
}

/* Name the calling thread (the process's comm) as upstream does. */
static void name_vmm_thread(void)
{
    const char *host = getenv("HOSTNAME");
    char name[16]; /* the kernel keeps 15 bytes */

    if (host)
        snprintf(name, sizeof(name), "VM:%s", host);
    else
        snprintf(name, sizeof(name), "libkrun VM");
    prctl(PR_SET_NAME, name, 0, 0, 0);
}

KRUN_API int32_t krun_start_enter(uint32_t ctx_id)
{
    struct ctx *ctx;
    int rc;

    name_vmm_thread();
    ctx = ctx_take(ctx_id);
    if (!ctx)
        return -ENOENT;
    if (!ctx->cfg.kernel_path && !ctx->cfg.firmware_path &&
        !fwlib_available()) {
        fprintf(stderr, "Couldn't find or load %s\n", FWLIB_SONAME);
        log_error("no kernel: %s could not be loaded", FWLIB_SONAME);
        ctx_destroy(ctx);
        return -ENOENT;
    }
    rc = vm_start(&ctx->cfg);
    /* vm_start returns only on failure. */
    ctx_destroy(ctx);
    return rc < 0 ? rc : -EINVAL;
}
