/*
 * layout.h: the x86_64 guest-physical memory map, identical to upstream
 * libkrun's (libkrun-behaviour.md §3.3) so that the same kernel boots the same
 * way.  Everything here is a guest-physical address or a size in bytes.
 */
#ifndef KRUN_KVM_X86_LAYOUT_H
#define KRUN_KVM_X86_LAYOUT_H

/* Low-memory boot structures (all below 1 MiB). */
#define LAYOUT_GDT         0x500ULL  /* 4 entries */
#define LAYOUT_IDT         0x520ULL  /* one zero entry, limit 7 */
#define LAYOUT_PVH_INFO    0x6000ULL /* hvm_start_info */
#define LAYOUT_PVH_MODS    0x6040ULL /* PVH module list */
#define LAYOUT_ZERO_PAGE   0x7000ULL /* struct boot_params */
#define LAYOUT_BOOT_STACK  0x8ff0ULL /* initial RSP/RBP */
#define LAYOUT_PML4        0x9000ULL
#define LAYOUT_PDPT        0xa000ULL
#define LAYOUT_PD          0xb000ULL
#define LAYOUT_CMDLINE     0x20000ULL  /* NUL-terminated kernel command line */
#define LAYOUT_CMDLINE_MAX 0x10000ULL  /* capacity, including the NUL */
#define LAYOUT_EBDA        0x9fc00ULL  /* MP table; end of low RAM in e820 */
#define LAYOUT_HIMEM       0x100000ULL /* first byte of "high" RAM */

/* Default load address of a flattened kernel (libkrunfw) and its alignment. */
#define LAYOUT_KERNEL_ALIGN 0x1000000ULL

/* The 32-bit MMIO gap: virtio-mmio windows, IOAPIC, LAPIC, KVM's TSS. */
#define LAYOUT_MMIO_START 0xd0000000ULL
#define LAYOUT_4G         0x100000000ULL
#define LAYOUT_MMIO_SIZE  (LAYOUT_4G - LAYOUT_MMIO_START)
#define LAYOUT_TSS        0xfffbd000ULL /* KVM_SET_TSS_ADDR, 3 pages */
#define LAYOUT_IOAPIC     0xfec00000ULL
#define LAYOUT_LAPIC      0xfee00000ULL

/* Legacy ISA IRQs and the range handed to virtio-mmio devices (§3.6). */
#define LAYOUT_IRQ_KBD        1
#define LAYOUT_IRQ_COM2_4     3
#define LAYOUT_IRQ_COM1_3     4
#define LAYOUT_IRQ_VIRTIO_MIN 5
#define LAYOUT_IRQ_VIRTIO_MAX 15

#endif /* KRUN_KVM_X86_LAYOUT_H */
