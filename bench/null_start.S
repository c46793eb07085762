/*
 * null_start.S: entry points of the benchmark's null guest, one image for
 * both VMMs.
 *   _start     64-bit direct boot (ckrun, like a Linux bzImage's 64-bit
 *              entry): long mode, paging on, RSI = zero page, whose
 *              hdr.cmd_line_ptr (offset 0x228) holds the command line.
 *   pvh_start  PVH boot (QEMU -kernel with an ELF, via the PHYS32_ENTRY note
 *              below): 32-bit protected mode, paging off, EBX = struct
 *              hvm_start_info, whose cmdline_paddr is at offset 24.  We build
 *              an identity map of the first GiB and enter long mode
 *              (Intel SDM vol. 3 §9.8.5), then join the 64-bit path.
 * Both call null_main(cmdline) on our own stack.
 */
#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define CR0_PG     0x80000000
#define CR4_PAE    0x20
#define MSR_EFER   0xc0000080
#define EFER_LME   0x100

    /* Xen ELF note 18 (XEN_ELFNOTE_PHYS32_ENTRY): name "Xen", 32-bit entry. */
    .section .note.pvh, "a", @note
    .balign 4
    .long 4, 4, 18
    .asciz "Xen"
    .long pvh_start

    .section .text.start, "ax"
    .globl _start
    .code64
_start:
    mov 0x228(%rsi), %edi               /* hdr.cmd_line_ptr */
    jmp common64

    .code32
pvh_start:
    mov 24(%ebx), %esi                  /* hvm_start_info.cmdline_paddr */
    lgdt gdtr
    mov $pml4, %edi                     /* PML4[0] -> PDPT, PDPT[0] -> PD */
    movl $(pdpt + 3), (%edi)
    movl $(pd + 3), pdpt
    mov $pd, %edi
    mov $0x83, %eax                     /* 2 MiB pages: present|rw|PS */
    mov $512, %ecx
1:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 1b
    mov $pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0
    mov %esi, %edi
    ljmp $SEL_CODE64, $pvh64

    .code64
pvh64:
    mov $SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
common64:
    lea stack_top(%rip), %rsp
    call null_main                      /* void null_main(const char *) */
2:  cli
    hlt
    jmp 2b

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00af9b000000ffff            /* 0x08: 64-bit code */
    .quad 0x00cf93000000ffff            /* 0x10: data */
gdtr:
    .word gdtr - gdt - 1
    .long gdt

    .bss
    .balign 4096
pml4: .space 4096
pdpt: .space 4096
pd:   .space 4096
    .space 8192
stack_top:

    .section .note.GNU-stack, "", @progbits
