/*
 * kvm.h: the KVM system and VM file descriptors: API version and capability
 * checks, VM creation with the in-kernel irqchip and PIT, memslots, and the
 * irqfd/ioeventfd/irq-line helpers devices use.  x86_64 only.
 */
#ifndef KRUN_KVM_KVM_H
#define KRUN_KVM_KVM_H

#include <stdbool.h>
#include <stdint.h>

struct kvm {
    int sysfd;             /* /dev/kvm */
    int vmfd;              /* KVM_CREATE_VM */
    int run_size;          /* KVM_GET_VCPU_MMAP_SIZE */
    unsigned int nr_slots; /* memslots registered so far (numbered from 0) */
};

/*
 * Open /dev/kvm, check API version 12 and the capabilities we need (a missing
 * one is logged by name), create the VM, set the TSS address, create the
 * in-kernel irqchip (PIC+IOAPIC+LAPIC) and PIT.  Returns 0; -ENOENT/-EACCES
 * when /dev/kvm cannot be opened; -ENOTSUP on a wrong version or missing
 * capability; other -errno.  On failure nothing stays open.
 */
int kvm_create(struct kvm *k);

/* Close the VM and system fds (vCPU fds are closed by their owners). */
void kvm_destroy(struct kvm *k);

/*
 * Register [gpa, gpa+size) backed by (host) as the next memslot.  (gpa),
 * (size) and (host) must be page-aligned.  Returns 0 or -errno.
 */
int kvm_add_memslot(struct kvm *k, uint64_t gpa, uint64_t size, void *host);

/* Inject a pulse/level on GSI (gsi) with (efd) (KVM_IRQFD); (deassign) undoes
 * it.  Returns 0 or -errno.  Any thread. */
int kvm_irqfd(struct kvm *k, int efd, uint32_t gsi, bool deassign);

/*
 * Signal (efd) when the guest writes (len) bytes equal to (datamatch) at MMIO
 * address (addr) (KVM_IOEVENTFD; (deassign) undoes it).  Returns 0 or -errno.
 */
int kvm_ioeventfd(struct kvm *k, int efd, uint64_t addr, uint32_t len,
                  uint64_t datamatch, bool deassign);

/* Set ISA/IOAPIC input (irq) to (level) (KVM_IRQ_LINE).  Returns 0 or -errno.
 * Any thread. */
int kvm_irq_line(struct kvm *k, uint32_t irq, int level);

/*
 * Why this host's KVM may be unable to run the guest, for the log after an
 * emulation failure or a failed entry: a sentence naming the loaded KVM
 * module and what to do, or NULL when nothing is known to be wrong.  Today:
 * kvm_pvm (PVM, a software hypervisor) without kvm_intel/kvm_amd runs only
 * guests built for PVM, not libkrunfw's Linux.  (sysmodule) is the
 * /sys/module directory to look in (tests pass their own).  Any thread.
 */
const char *kvm_host_hint(const char *sysmodule);

#endif /* KRUN_KVM_KVM_H */
