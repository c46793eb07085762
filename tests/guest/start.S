/*
 * start.S: entry of the test guest.  We arrive exactly as a Linux kernel does
 * on the direct 64-bit path: long mode, paging on (identity map of the first
 * GiB), interrupts off, RSI = zero page.  Set up our own stack and call C.
 */
    .section .text.start, "ax"
    .globl _start
    .code64
_start:
    lea guest_stack_top(%rip), %rsp
    mov %rsi, %rdi              /* guest_main(struct boot_params *zp) */
    call guest_main
1:  hlt
    jmp 1b

    .bss
    .balign 16
    .space 16384
guest_stack_top:

    .section .note.GNU-stack, "", @progbits
