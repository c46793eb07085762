/*
 * cpu.h: x86_64 vCPU state for the direct 64-bit boot path: CPUID, MSRs, FPU,
 * segment/control registers, LAPIC LINT0/LINT1, and the GDT/IDT/identity page
 * tables the guest starts with (libkrun-behaviour.md §3.5).
 */
#ifndef KRUN_KVM_X86_CPU_H
#define KRUN_KVM_X86_CPU_H

#include <stddef.h>
#include <stdint.h>

struct kvm_cpuid2;

/* Number of bytes cpu_write_boot_tables() needs at the start of guest RAM. */
#define CPU_BOOT_TABLES_END 0xc000u

/*
 * Ask KVM for the host's supported CPUID (KVM_GET_SUPPORTED_CPUID on the
 * /dev/kvm fd (sysfd)).  On success *out is malloc'd; the caller frees it.
 * Returns 0 or -errno.
 */
int cpu_supported_cpuid(int sysfd, struct kvm_cpuid2 **out);

/*
 * Derive vCPU (index)'s CPUID from (supported) for a VM of (count) vCPUs:
 * hypervisor bit, initial APIC id = index, topology leaves.  Returns a
 * malloc'd copy or NULL on OOM.  Pure function (unit-tested).
 */
struct kvm_cpuid2 *cpu_cpuid_for(const struct kvm_cpuid2 *supported,
                                 unsigned int index, unsigned int count);

/*
 * Configure vCPU fd (vcpufd), number (index) of (count): CPUID, MSRs, FPU,
 * registers for 64-bit entry at (entry) with RSI = zero page, special
 * registers (long mode, GDT/IDT, CR3), LAPIC LINT0 = ExtINT, LINT1 = NMI.
 * Returns 0 or -errno (the failing step is logged).  Build thread.
 */
int cpu_setup(int vcpufd, const struct kvm_cpuid2 *supported,
              unsigned int index, unsigned int count, uint64_t entry);

/*
 * Write the GDT (0x500), IDT (0x520) and identity page tables (0x9000-0xbfff,
 * first 1 GiB with 2 MiB pages) into (low), the host view of guest RAM from
 * guest-physical 0, which must be at least CPU_BOOT_TABLES_END bytes.
 */
void cpu_write_boot_tables(uint8_t *low);

#endif /* KRUN_KVM_X86_CPU_H */
