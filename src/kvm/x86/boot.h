/*
 * boot.h: the x86_64 guest-physical RAM plan and the direct 64-bit boot
 * structures in low memory: zero page (boot_params with e820), command line,
 * GDT/IDT/page tables and MP table (libkrun-behaviour.md §3.3, §3.4).
 */
#ifndef KRUN_KVM_X86_BOOT_H
#define KRUN_KVM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct boot_params;

enum boot_range_kind {
    BOOT_RANGE_RAM,    /* anonymous guest RAM */
    BOOT_RANGE_KERNEL, /* a kernel bundle's own pages, mapped not copied */
};

struct boot_range {
    uint64_t gpa, size;
    enum boot_range_kind kind;
};

/* Guest-physical memory plan, in ascending address order. */
struct boot_layout {
    struct boot_range r[4];
    unsigned int nr;
    uint64_t low_end;  /* exclusive end of RAM below the MMIO gap */
    uint64_t high_end; /* exclusive end of RAM above 4 GiB, 0 if none */
};

/*
 * Plan RAM of (ram_size) bytes (page-aligned, >= 2 MiB) around the MMIO gap,
 * leaving [kernel_load, +kernel_size) for a kernel bundle when kernel_size is
 * not 0 (then RAM below and after it, as upstream does).  Returns 0, or
 * -EINVAL for sizes/addresses that do not fit or are unaligned.  Pure.
 */
int boot_plan_memory(uint64_t ram_size, uint64_t kernel_load,
                     uint64_t kernel_size, struct boot_layout *out);

struct boot_info {
    const char *cmdline;  /* NUL-terminated; copied to LAYOUT_CMDLINE */
    uint64_t initrd_addr; /* 0 if none */
    uint64_t initrd_size;
    unsigned int nr_vcpus; /* for the MP table, >= 1 */
};

/*
 * Fill (bp) for the direct 64-bit entry: loader 0xff, boot_flag, "HdrS",
 * command-line pointer and size, kernel_alignment, initrd, and the e820 map
 * from (layout).  Returns 0 or -EINVAL (command line too long).  Pure.
 */
int boot_fill_zero_page(struct boot_params *bp,
                        const struct boot_layout *layout,
                        const struct boot_info *bi);

/*
 * Write every low-memory boot structure into (low), the host view of guest
 * RAM [0, LAYOUT_HIMEM) (low_size must be >= LAYOUT_HIMEM): GDT/IDT/page
 * tables, zero page, command line, MP table.  Returns 0 or -EINVAL.
 */
int boot_write_low_mem(uint8_t *low, size_t low_size,
                       const struct boot_layout *layout,
                       const struct boot_info *bi);

#endif /* KRUN_KVM_X86_BOOT_H */
