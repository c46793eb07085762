/*
 * ap_tramp.S: where an application processor starts after INIT + SIPI.
 * smp.c copies this block to AP_TRAMP (a free page below 1 MiB), fills in
 * the four data words at its end, and sends a SIPI with vector
 * AP_TRAMP >> 12: the AP then runs here in real mode with CS = AP_TRAMP >> 4
 * and IP = 0 (Intel SDM vol. 3 §9.4.4, §10.6.1).  It borrows the BSP's GDT
 * (64-bit code at 0x08, data at 0x10) and page tables, turns protection,
 * PAE paging and long mode on (SDM vol. 3 §9.8.5), far-jumps into 64-bit
 * code and calls the C entry on the stack the BSP chose for it.
 *
 * Everything is addressed relative to ap_tramp: in real mode through
 * DS = CS, in 64-bit mode RIP-relative, so the copy runs wherever it lands.
 */
#define AP_TRAMP  0x10000 /* keep in sync with smp.c */
#define SEL_CODE  0x08    /* the BSP's GDT (src/kvm/x86/cpu.c) */
#define SEL_DATA  0x10
#define CR0_PE    0x00000001
#define CR0_NW_CD 0x60000000
#define CR0_PG    0x80000000
#define CR4_PAE   0x20
#define MSR_EFER  0xc0000080
#define EFER_LME  0x100
#define OFF(sym)  ((sym) - ap_tramp)

    .section .rodata.ap_tramp, "a"
    .globl ap_tramp, ap_tramp_end
    .globl ap_tramp_gdtr, ap_tramp_cr3, ap_tramp_stack, ap_tramp_entry

    .code16
ap_tramp:
    cli
    mov %cs, %ax
    mov %ax, %ds
    lgdtl OFF(ap_tramp_gdtr)        /* 32-bit base: the GDT at 0x500 */
    mov OFF(ap_tramp_cr3), %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax                  /* after INIT: CD and NW set, PE clear */
    and $~CR0_NW_CD, %eax
    or $(CR0_PE | CR0_PG), %eax     /* protected + paging: EFER.LMA = 1 */
    mov %eax, %cr0
    ljmpl $SEL_CODE, $(AP_TRAMP + OFF(ap_tramp64))

    .code64
ap_tramp64:
    mov $SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov ap_tramp_stack(%rip), %rsp
    call *ap_tramp_entry(%rip)      /* void ap_main(void), never returns */
1:  cli
    hlt
    jmp 1b

    .balign 8
ap_tramp_gdtr:                      /* limit, 32-bit base: from sgdt */
    .word 0
    .long 0
    .word 0
ap_tramp_cr3:
    .quad 0
ap_tramp_stack:
    .quad 0
ap_tramp_entry:
    .quad 0
ap_tramp_end:

    .section .note.GNU-stack, "", @progbits
