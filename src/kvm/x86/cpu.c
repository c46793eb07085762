/* cpu.c: CPUID, MSRs, FPU, registers and LAPIC for 64-bit direct boot. */
#define LOG_TAG "cpu"
#include "kvm/x86/cpu.h"
#include "kvm/x86/layout.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CPUID_MAX_ENTRIES 256

/* Leaf 1 bits. */
#define CPUID_1_ECX_HYPERVISOR   (1u << 31)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_EDX_HTT          (1u << 28)

/* MSR numbers (Intel SDM vol. 4). */
#define MSR_TSC            0x10
#define MSR_SYSENTER_CS    0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176
#define MSR_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE  0x2ff
#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_SFMASK         0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

/* Control register bits. */
#define CR0_PE   1ull
#define CR0_PG   (1ull << 31)
#define CR4_PAE  (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* LAPIC register offsets and LVT delivery modes (SDM vol. 3 §11.5.1). */
#define APIC_LVT_LINT0   0x350
#define APIC_LVT_LINT1   0x360
#define APIC_MODE_NMI    0x4
#define APIC_MODE_EXTINT 0x7

/* GDT: null, 64-bit code, data, TSS (§3.5); selector = index * 8. */
static const struct {
    uint16_t flags;
    uint32_t base, limit;
} boot_gdt[] = {
    {0, 0, 0},
    {0xa09b, 0, 0xfffff},
    {0xc093, 0, 0xfffff},
    {0x808b, 0, 0xfffff},
};
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS  0x18

int cpu_supported_cpuid(int sysfd, struct kvm_cpuid2 **out)
{
    for (uint32_t n = 80; n <= CPUID_MAX_ENTRIES; n *= 2) {
        struct kvm_cpuid2 *c =
            calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));

        if (!c)
            return -ENOMEM;
        c->nent = n;
        if (ioctl(sysfd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            *out = c;
            return 0;
        }
        free(c);
        if (errno != E2BIG) {
            log_error("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
            return -errno;
        }
    }
    return -E2BIG;
}

static bool cpuid_is_amd(const struct kvm_cpuid2 *c)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == 0)
            return c->entries[i].ebx == 0x68747541; /* "Auth"enticAMD */
    return false;
}

/* Smallest power of two >= n (n >= 1), without popcnt-style builtins. */
static uint32_t pow2_ceil(uint32_t n)
{
    uint32_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

static void cpuid_fix_entry(struct kvm_cpuid_entry2 *e, bool amd,
                            unsigned int index, unsigned int count)
{
    switch (e->function) {
    case 0x1:
        e->ecx |= CPUID_1_ECX_HYPERVISOR;
        if (!amd)
            e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
        e->ebx = (index << 24) | (pow2_ceil(count) << 16) | (8u << 8) |
                 (e->ebx & 0xff);
        e->edx =
            count > 1 ? e->edx | CPUID_1_EDX_HTT : e->edx & ~CPUID_1_EDX_HTT;
        break;
    case 0x4: /* cores per package: count - 1; no SMT sharing below L3 */
        e->eax &= 0x3fff;
        e->eax |= (count - 1) << 26;
        if (((e->eax >> 5) & 7) == 3)
            e->eax |= (count - 1) << 14;
        break;
    case 0xa: /* no PMU */
        e->eax = e->ebx = e->ecx = e->edx = 0;
        break;
    case 0xb:
    case 0x1f: /* x2APIC topology: 1 thread per core, count cores */
        e->edx = index;
        if (e->index == 0) {
            e->eax = 0;
            e->ebx = 1;
            e->ecx = (count > 1 ? 1u : 2u) << 8;
        } else if (e->index == 1 && count > 1) {
            e->eax = 6;
            e->ebx = count;
            e->ecx = (2u << 8) | 1;
        } else {
            e->eax = e->ebx = 0;
            e->ecx = e->index;
        }
        break;
    case 0x80000008:
        if (amd)
            e->ecx = (e->ecx & ~0xf0ffu) | (6u << 12) | (count - 1);
        break;
    case 0x8000001e:
        if (amd) {
            e->eax = index;
            e->ebx = index & 0xff;
            e->ecx = 0;
        }
        break;
    default:
        break;
    }
}

struct kvm_cpuid2 *cpu_cpuid_for(const struct kvm_cpuid2 *supported,
                                 unsigned int index, unsigned int count)
{
    size_t size =
        sizeof(*supported) + supported->nent * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *c = malloc(size);
    bool amd = cpuid_is_amd(supported);

    if (!c)
        return NULL;
    memcpy(c, supported, size);
    for (uint32_t i = 0; i < c->nent; i++)
        cpuid_fix_entry(&c->entries[i], amd, index, count);
    return c;
}

static int cpu_set_cpuid(int fd, const struct kvm_cpuid2 *supported,
                         unsigned int index, unsigned int count)
{
    struct kvm_cpuid2 *c = cpu_cpuid_for(supported, index, count);
    int rc;

    if (!c)
        return -ENOMEM;
    rc = ioctl(fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
    free(c);
    return rc;
}

static int cpu_set_msrs(int fd)
{
    static const struct {
        uint32_t index;
        uint64_t data;
    } boot_msrs[] = {
        {MSR_SYSENTER_CS, 0},
        {MSR_SYSENTER_ESP, 0},
        {MSR_SYSENTER_EIP, 0},
        {MSR_STAR, 0},
        {MSR_CSTAR, 0},
        {MSR_KERNEL_GS_BASE, 0},
        {MSR_SFMASK, 0},
        {MSR_LSTAR, 0},
        {MSR_TSC, 0},
        {MSR_MISC_ENABLE, 1},
        {MSR_MTRR_DEF_TYPE, 0x806},
    };
    struct kvm_msrs *m =
        calloc(1, sizeof(*m) + sizeof(boot_msrs) / sizeof(boot_msrs[0]) *
                                   sizeof(m->entries[0]));
    int n;

    if (!m)
        return -ENOMEM;
    m->nmsrs = ARRAY_SIZE(boot_msrs);
    for (unsigned int i = 0; i < ARRAY_SIZE(boot_msrs); i++) {
        m->entries[i].index = boot_msrs[i].index;
        m->entries[i].data = boot_msrs[i].data;
    }
    n = ioctl(fd, KVM_SET_MSRS, m);
    if (n >= 0 && n != (int)ARRAY_SIZE(boot_msrs))
        log_error("KVM_SET_MSRS: MSR %#x rejected", m->entries[n].index);
    free(m);
    if (n < 0)
        return -errno;
    return n == (int)ARRAY_SIZE(boot_msrs) ? 0 : -EINVAL;
}

static int cpu_set_fpu(int fd)
{
    struct kvm_fpu fpu;

    memset(&fpu, 0, sizeof(fpu));
    fpu.fcw = 0x37f;
    fpu.mxcsr = 0x1f80;
    return ioctl(fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

static int cpu_set_regs(int fd, uint64_t entry)
{
    struct kvm_regs r;

    memset(&r, 0, sizeof(r));
    r.rflags = 2;
    r.rip = entry;
    r.rsp = r.rbp = LAYOUT_BOOT_STACK;
    r.rsi = LAYOUT_ZERO_PAGE;
    return ioctl(fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

/* The hidden part of a segment register, matching boot_gdt[sel / 8]. */
static struct kvm_segment segment_from_gdt(uint16_t sel)
{
    uint16_t f = boot_gdt[sel / 8].flags;
    uint32_t limit = boot_gdt[sel / 8].limit;

    return (struct kvm_segment){
        .base = boot_gdt[sel / 8].base,
        .limit = (f & 0x8000) ? (limit << 12) | 0xfff : limit,
        .selector = sel,
        .type = f & 0xf,
        .present = (f >> 7) & 1,
        .dpl = (f >> 5) & 3,
        .db = (f >> 14) & 1,
        .s = (f >> 4) & 1,
        .l = (f >> 13) & 1,
        .g = (f >> 15) & 1,
    };
}

static int cpu_set_sregs(int fd)
{
    struct kvm_sregs s;

    if (ioctl(fd, KVM_GET_SREGS, &s) < 0)
        return -errno;
    s.gdt.base = LAYOUT_GDT;
    s.gdt.limit = sizeof(uint64_t) * ARRAY_SIZE(boot_gdt) - 1;
    s.idt.base = LAYOUT_IDT;
    s.idt.limit = sizeof(uint64_t) - 1;
    s.cs = segment_from_gdt(SEL_CODE);
    s.ds = s.es = s.fs = s.gs = s.ss = segment_from_gdt(SEL_DATA);
    s.tr = segment_from_gdt(SEL_TSS);
    s.cr0 |= CR0_PE | CR0_PG;
    s.cr3 = LAYOUT_PML4;
    s.cr4 |= CR4_PAE;
    s.efer |= EFER_LME | EFER_LMA;
    return ioctl(fd, KVM_SET_SREGS, &s) < 0 ? -errno : 0;
}

static void lapic_set_lvt_mode(struct kvm_lapic_state *l, unsigned int reg,
                               uint32_t mode)
{
    uint32_t v;

    memcpy(&v, &l->regs[reg], sizeof(v));
    v = (v & ~0x700u) | (mode << 8);
    memcpy(&l->regs[reg], &v, sizeof(v));
}

static int cpu_set_lapic(int fd)
{
    struct kvm_lapic_state l;

    if (ioctl(fd, KVM_GET_LAPIC, &l) < 0)
        return -errno;
    lapic_set_lvt_mode(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
    lapic_set_lvt_mode(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
    return ioctl(fd, KVM_SET_LAPIC, &l) < 0 ? -errno : 0;
}

int cpu_setup(int vcpufd, const struct kvm_cpuid2 *supported,
              unsigned int index, unsigned int count, uint64_t entry)
{
    int rc;

    if ((rc = cpu_set_cpuid(vcpufd, supported, index, count)) < 0)
        log_error("vCPU %u: KVM_SET_CPUID2: %s", index, strerror(-rc));
    else if ((rc = cpu_set_msrs(vcpufd)) < 0)
        log_error("vCPU %u: KVM_SET_MSRS: %s", index, strerror(-rc));
    else if ((rc = cpu_set_regs(vcpufd, entry)) < 0)
        log_error("vCPU %u: KVM_SET_REGS: %s", index, strerror(-rc));
    else if ((rc = cpu_set_fpu(vcpufd)) < 0)
        log_error("vCPU %u: KVM_SET_FPU: %s", index, strerror(-rc));
    else if ((rc = cpu_set_sregs(vcpufd)) < 0)
        log_error("vCPU %u: KVM_SET_SREGS: %s", index, strerror(-rc));
    else if ((rc = cpu_set_lapic(vcpufd)) < 0)
        log_error("vCPU %u: KVM_SET_LAPIC: %s", index, strerror(-rc));
    return rc;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Pack a descriptor: flags = G D/B L AVL in bits 15-12, access byte 7-0. */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
    return ((uint64_t)(base & 0xff000000u) << 32) |
           ((uint64_t)(flags & 0xf0ffu) << 40) |
           ((uint64_t)(limit & 0x000f0000u) << 32) |
           ((uint64_t)(base & 0x00ffffffu) << 16) | (limit & 0xffffu);
}

void cpu_write_boot_tables(uint8_t *low)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(boot_gdt); i++)
        put_le64(
            low + LAYOUT_GDT + 8 * i,
            gdt_entry(boot_gdt[i].flags, boot_gdt[i].base, boot_gdt[i].limit));
    put_le64(low + LAYOUT_IDT, 0);
    memset(low + LAYOUT_PML4, 0, 3 * 4096);
    put_le64(low + LAYOUT_PML4, LAYOUT_PDPT | 0x3); /* present, writable */
    put_le64(low + LAYOUT_PDPT, LAYOUT_PD | 0x3);
    for (uint64_t i = 0; i < 512; i++) /* 2 MiB pages: present|rw|PS */
        put_le64(low + LAYOUT_PD + 8 * i, (i << 21) | 0x83);
}
