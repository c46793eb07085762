/*
 * mptable.h: Intel MultiProcessor Specification 1.4 tables (floating pointer +
 * configuration table) describing N vCPUs, one ISA bus, one IOAPIC and the
 * 16 ISA IRQs, as upstream writes them at LAYOUT_EBDA (§3.4).
 */
#ifndef KRUN_KVM_X86_MPTABLE_H
#define KRUN_KVM_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/* Largest vCPU count an MP table can describe (the IOAPIC takes id N+1). */
#define MPTABLE_MAX_CPUS 254u

/* Bytes the tables for (nr_cpus) vCPUs occupy. */
size_t mptable_size(unsigned int nr_cpus);

/*
 * Write the tables for (nr_cpus) vCPUs into (buf) of (len) bytes, which the
 * guest sees at guest-physical (gpa).  Returns the number of bytes written, or
 * -EINVAL if nr_cpus is 0 or too large, or the tables do not fit.  Pure.
 */
long mptable_write(uint8_t *buf, size_t len, uint32_t gpa,
                   unsigned int nr_cpus);

#endif /* KRUN_KVM_X86_MPTABLE_H */
