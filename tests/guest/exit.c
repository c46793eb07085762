/*
 * exit.c: ways to end the VM on purpose.  exit: report code= (default 0)
 * through the virtio-fs exit-code IOCTL, as the guest init does for its
 * workload, then reset.  bad_insn: execute insn= (int3, ud2, ...), which has
 * no handler here (the IDT has one empty entry), so the VM must stop with an
 * error on any KVM: a triple fault on hardware KVM, an emulation failure
 * where KVM emulates guest ring 0 (kvm_pvm).
 */
#include "fs.h"
#include "guest.h"
#include "tests.h"

GUEST_TEST(test_exit)
{
    uint64_t code = cmdline_num(c, "code=", 0);
    const char *why = fs_test_start(c, "ckrun-exit");

    if (!why)
        why = fs_exit_code(code);
    if (!why) {
        put_str("exit code=");
        put_dec(code);
        put_char('\n');
    }
    return why;
}

GUEST_TEST(test_bad_insn)
{
    char insn[16];

    if (!cmdline_arg(c, "insn=", insn, sizeof(insn)))
        return "no insn=";
    put_str("executing ");
    put_str(insn);
    put_char('\n');
    if (str_ncmp(insn, "int3", sizeof(insn)) == 0)
        __asm__ volatile("int3");
    else if (str_ncmp(insn, "ud2", sizeof(insn)) == 0)
        __asm__ volatile("ud2");
    else if (str_ncmp(insn, "div0", sizeof(insn)) == 0)
        __asm__ volatile("xor %%ecx, %%ecx; div %%ecx"
                         :
                         :
                         : "eax", "ecx", "edx");
    else
        return "unknown insn=";
    return "still running";
}
