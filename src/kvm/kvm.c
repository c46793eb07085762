/* kvm.c: /dev/kvm, the VM fd, irqchip/PIT, memslots, irqfd/ioeventfd. */
#define LOG_TAG "kvm"
#include "kvm/kvm.h"
#include "kvm/x86/layout.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_API_VERSION_REQUIRED 12

/* What the VMM relies on (libkrun-behaviour.md §3.5), with printable names. */
static const struct {
    int cap;
    const char *name;
} required_caps[] = {
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
    {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
    {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
};

static int kvm_check_system(int sysfd)
{
    int v = ioctl(sysfd, KVM_GET_API_VERSION, 0);

    if (v != KVM_API_VERSION_REQUIRED) {
        log_error("KVM API version %d, need %d", v, KVM_API_VERSION_REQUIRED);
        return -ENOTSUP;
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(required_caps); i++) {
        if (ioctl(sysfd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
            log_error("KVM lacks required capability %s",
                      required_caps[i].name);
            return -ENOTSUP;
        }
    }
    return 0;
}

/* TSS, then irqchip, then PIT: the PIT needs the irqchip. */
static int kvm_setup_vm(struct kvm *k)
{
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};

    if (ioctl(k->vmfd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_TSS) < 0) {
        log_error("KVM_SET_TSS_ADDR: %s", strerror(errno));
        return -errno;
    }
    if (ioctl(k->vmfd, KVM_CREATE_IRQCHIP, 0) < 0) {
        log_error("KVM_CREATE_IRQCHIP: %s", strerror(errno));
        return -errno;
    }
    if (ioctl(k->vmfd, KVM_CREATE_PIT2, &pit) < 0) {
        log_error("KVM_CREATE_PIT2: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

int kvm_create(struct kvm *k)
{
    int rc;

    memset(k, 0, sizeof(*k));
    k->vmfd = -1;
    k->sysfd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (k->sysfd < 0) {
        rc = -errno;
        log_error("cannot open /dev/kvm: %s", strerror(errno));
        return rc;
    }
    rc = kvm_check_system(k->sysfd);
    if (rc < 0)
        goto err_close_sys;
    k->run_size = ioctl(k->sysfd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (k->run_size < (int)sizeof(struct kvm_run)) {
        rc = k->run_size < 0 ? -errno : -EINVAL;
        goto err_close_sys;
    }
    k->vmfd = ioctl(k->sysfd, KVM_CREATE_VM, 0);
    if (k->vmfd < 0) {
        rc = -errno;
        log_error("KVM_CREATE_VM: %s", strerror(errno));
        goto err_close_sys;
    }
    rc = kvm_setup_vm(k);
    if (rc < 0)
        goto err_close_vm;
    return 0;

err_close_vm:
    close(k->vmfd);
err_close_sys:
    close(k->sysfd);
    k->sysfd = k->vmfd = -1;
    return rc;
}

void kvm_destroy(struct kvm *k)
{
    if (k->vmfd >= 0)
        close(k->vmfd);
    if (k->sysfd >= 0)
        close(k->sysfd);
    k->vmfd = k->sysfd = -1;
}

int kvm_add_memslot(struct kvm *k, uint64_t gpa, uint64_t size, void *host)
{
    struct kvm_userspace_memory_region r = {
        .slot = k->nr_slots,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)host,
    };
    long page = sysconf(_SC_PAGESIZE);

    if (size == 0 || !IS_ALIGNED(gpa, page) || !IS_ALIGNED(size, page) ||
        !IS_ALIGNED((uintptr_t)host, page))
        return -EINVAL;
    if (ioctl(k->vmfd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        log_error("memslot %u [%#llx, +%#llx): %s", r.slot,
                  (unsigned long long)gpa, (unsigned long long)size,
                  strerror(errno));
        return -errno;
    }
    k->nr_slots++;
    return 0;
}

int kvm_irqfd(struct kvm *k, int efd, uint32_t gsi, bool deassign)
{
    struct kvm_irqfd r = {
        .fd = (uint32_t)efd,
        .gsi = gsi,
        .flags = deassign ? KVM_IRQFD_FLAG_DEASSIGN : 0,
    };

    return ioctl(k->vmfd, KVM_IRQFD, &r) < 0 ? -errno : 0;
}

int kvm_ioeventfd(struct kvm *k, int efd, uint64_t addr, uint32_t len,
                  uint64_t datamatch, bool deassign)
{
    struct kvm_ioeventfd r = {
        .datamatch = datamatch,
        .addr = addr,
        .len = len,
        .fd = efd,
        .flags = KVM_IOEVENTFD_FLAG_DATAMATCH |
                 (deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
    };

    return ioctl(k->vmfd, KVM_IOEVENTFD, &r) < 0 ? -errno : 0;
}

int kvm_irq_line(struct kvm *k, uint32_t irq, int level)
{
    struct kvm_irq_level r = {.irq = irq, .level = (uint32_t)level};

    return ioctl(k->vmfd, KVM_IRQ_LINE, &r) < 0 ? -errno : 0;
}

static bool kvm_module_loaded(const char *sysmodule, const char *name)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", sysmodule, name);
    return access(path, F_OK) == 0;
}

const char *kvm_host_hint(const char *sysmodule)
{
    if (!kvm_module_loaded(sysmodule, "kvm_pvm") ||
        kvm_module_loaded(sysmodule, "kvm_intel") ||
        kvm_module_loaded(sysmodule, "kvm_amd"))
        return NULL;
    return "this host's /dev/kvm is the kvm_pvm module (PVM) and neither "
           "kvm_intel nor kvm_amd is loaded: PVM runs only guest kernels built "
           "for PVM, not ckrun's Linux guest; run ckrun on a host with "
           "hardware virtualization (kvm_intel or kvm_amd; in a cloud VM, "
           "enable nested virtualization)";
}
