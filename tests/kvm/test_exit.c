/*
 * test_exit.c: every way a VM ends ends the process, promptly, with the
 * right status and a clear message: i8042 reset (0), halt with interrupts
 * off (0), triple fault (1), a status the guest chose through the virtio-fs
 * exit-code IOCTL (0, 1, 42), instructions nothing handles (int3: emulation
 * failure on kvm_pvm; ud2, divide error: triple fault); bad kernel files
 * fail krun_start_enter cleanly.
 */
#include "guest_run.h"
#include "kvm/kvm.h"
#include "t.h"

#include <elf.h>
#include <fcntl.h>
#include <libkrun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The child exits 200 when krun_start_enter returned (guest_run.c). */
#define START_FAILED 200

static void test_reset_exits_0(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=serial"};

    CHECK(guest_run(&o, &r) == 0);
    CHECK_EQ(r.status, 0);
}

/* The VM's host fds come back as the caller gave them: a serial console on
 * a pipe the caller still holds is blocking again after the exit (the UART
 * makes its dup non-blocking, which changes the shared description: before
 * hostfd_restore() the caller's pipe stayed O_NONBLOCK after the VM). */
static int held_pipe[2];

static int add_held_serial(uint32_t ctx, void *arg)
{
    return krun_add_serial_console_default(ctx, -1, held_pipe[1]);
}

static void test_exit_restores_fd_flags(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=serial", .setup = add_held_serial};

    CHECK_EQ(pipe(held_pipe), 0);
    CHECK(guest_run(&o, &r) == 0);
    CHECK_EQ(r.status, 0);
    CHECK_EQ(fcntl(held_pipe[1], F_GETFL) & O_NONBLOCK, 0);
    close(held_pipe[0]);
    close(held_pipe[1]);
}

static void test_hlt_stops_cleanly(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=hlt", .timeout_ms = 10000};

    CHECK(guest_run(&o, &r) == 0);
    CHECK(!r.timed_out);
    CHECK(strstr(r.serial, "halting\n") != NULL);
    CHECK_EQ(r.status, 0);
}

static void test_triple_fault_is_an_error(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=triple", .timeout_ms = 10000};

    CHECK(guest_run(&o, &r) == 0);
    CHECK(!r.timed_out);
    CHECK_EQ(r.status, 1);
    CHECK(strstr(r.log, "triple fault") != NULL);
}

static int setup_exit_share(uint32_t ctx, void *dir)
{
    return krun_add_virtiofs(ctx, "ckrun-exit", dir);
}

/* The guest picks its status; it comes out as the process's. */
static void test_chosen_status(void)
{
    static const int codes[] = {0, 1, 42};
    char dir[] = "/tmp/ckrun-exit-XXXXXX", cmdline[64];

    if (!CHECK(mkdtemp(dir) != NULL))
        return;
    for (unsigned int i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        struct guest_result r;
        struct guest_opts o = {.cmdline = cmdline,
                               .setup = setup_exit_share,
                               .arg = dir,
                               .timeout_ms = 10000};

        snprintf(cmdline, sizeof(cmdline), "test=exit code=%d", codes[i]);
        CHECK(guest_run(&o, &r) == 0);
        CHECK(!r.timed_out);
        CHECK(strstr(r.serial, "PASS exit\n") != NULL);
        if (!CHECK_EQ(r.status, codes[i]))
            t_diag("serial: %s", r.serial);
    }
    rmdir(dir);
}

/* An instruction the guest cannot survive: status 1, a log line naming the
 * cause and where the vCPU was, within the timeout. */
static void expect_bad_insn(const char *insn, const char *why_hw,
                            const char *why_emul)
{
    struct guest_result r;
    char cmdline[64];
    struct guest_opts o = {.cmdline = cmdline, .timeout_ms = 10000};

    snprintf(cmdline, sizeof(cmdline), "test=bad_insn insn=%s", insn);
    CHECK(guest_run(&o, &r) == 0);
    CHECK(!r.timed_out);
    CHECK_EQ(r.status, 1);
    CHECK(strstr(r.serial, "executing ") != NULL);
    CHECK(strstr(r.serial, "still running") == NULL);
    if (!CHECK(strstr(r.log, why_hw) || strstr(r.log, why_emul)))
        t_diag("log: %s", r.log);
    CHECK(strstr(r.log, "vCPU 0: rip=0x") != NULL);
}

/* On kvm_pvm (no kvm_intel/kvm_amd), an emulation failure says what the
 * host's KVM module is and what to do, not only the registers. */
static void test_emulation_failure_hint(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=bad_insn insn=int3",
                           .timeout_ms = 10000};

    if (!kvm_host_hint("/sys/module")) {
        t_diag("skip: the host's KVM module runs Linux guests");
        return;
    }
    CHECK(guest_run(&o, &r) == 0 && !r.timed_out);
    CHECK_EQ(r.status, 1);
    CHECK(strstr(r.log, "instruction emulation failed") != NULL);
    if (!CHECK(strstr(r.log, "/dev/kvm is the kvm_pvm module") &&
               strstr(r.log, "kvm_intel or kvm_amd")))
        t_diag("log: %s", r.log);
}

static void test_bad_instructions(void)
{
    /* int3: kvm_pvm cannot emulate it; hardware KVM finds no IDT entry. */
    expect_bad_insn("int3", "triple fault", "instruction emulation failed");
    expect_bad_insn("ud2", "triple fault", "triple fault");
    expect_bad_insn("div0", "triple fault", "triple fault");
}

static void test_smp_boots(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=serial", .vcpus = 8};

    CHECK(guest_run(&o, &r) == 0);
    CHECK(strstr(r.serial, "PASS serial\n") != NULL);
    CHECK_EQ(r.status, 0);
}

/* Write (len) bytes to a temporary file; returns its path (static). */
static const char *tmp_kernel(const void *data, size_t len)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/ckrun-badelf-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        t_diag("cannot write %s", path);
    close(fd);
    return path;
}

static void expect_start_fails(const void *data, size_t len, const char *msg)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=serial",
                           .kernel = tmp_kernel(data, len)};

    CHECK(guest_run(&o, &r) == 0);
    CHECK_EQ(r.status, START_FAILED);
    CHECK(strstr(r.serial, "PASS") == NULL);
    if (!CHECK(strstr(r.log, msg) != NULL))
        t_diag("log: %s", r.log);
    unlink(o.kernel);
}

/* A minimal ELF header + one PT_LOAD, to be broken by each case. */
struct mini_elf {
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    uint8_t code[16];
};

static struct mini_elf mini_elf(void)
{
    struct mini_elf m;

    memset(&m, 0, sizeof(m));
    memcpy(m.eh.e_ident, ELFMAG, SELFMAG);
    m.eh.e_ident[EI_CLASS] = ELFCLASS64;
    m.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    m.eh.e_ident[EI_VERSION] = EV_CURRENT;
    m.eh.e_type = ET_EXEC;
    m.eh.e_machine = EM_X86_64;
    m.eh.e_version = EV_CURRENT;
    m.eh.e_entry = 0x1000000;
    m.eh.e_phoff = offsetof(struct mini_elf, ph);
    m.eh.e_ehsize = sizeof(Elf64_Ehdr);
    m.eh.e_phentsize = sizeof(Elf64_Phdr);
    m.eh.e_phnum = 1;
    m.ph.p_type = PT_LOAD;
    m.ph.p_offset = offsetof(struct mini_elf, code);
    m.ph.p_paddr = m.ph.p_vaddr = 0x1000000;
    m.ph.p_filesz = m.ph.p_memsz = sizeof(m.code);
    return m;
}

static void test_bad_kernels(void)
{
    struct mini_elf m = mini_elf();
    char junk[128];

    memset(junk, 'x', sizeof(junk));
    expect_start_fails("", 0, "ELF header");
    expect_start_fails(junk, sizeof(junk), "not an ELF file");
    m.eh.e_machine = EM_AARCH64;
    expect_start_fails(&m, sizeof(m), "not an x86_64 executable");
    m = mini_elf();
    m.eh.e_phoff = 1ULL << 62;
    expect_start_fails(&m, sizeof(m), "program header table");
    m = mini_elf();
    m.ph.p_filesz = 1 << 20; /* past the end of the file */
    m.ph.p_memsz = 1 << 20;
    expect_start_fails(&m, sizeof(m), "outside the file");
    m = mini_elf();
    m.ph.p_paddr = 0x7fff0000; /* far past 64 MiB of RAM */
    m.eh.e_entry = 0x7fff0000;
    expect_start_fails(&m, sizeof(m), "not in guest RAM");
    m = mini_elf();
    m.ph.p_paddr = 0x7000; /* over the zero page */
    m.eh.e_entry = 0x7000;
    expect_start_fails(&m, sizeof(m), "not in guest RAM");
    m = mini_elf();
    m.eh.e_entry = 0x2000000;
    expect_start_fails(&m, sizeof(m), "entry point");
}

int main(void)
{
    guest_require_kvm();
    RUN(test_reset_exits_0);
    RUN(test_exit_restores_fd_flags);
    RUN(test_hlt_stops_cleanly);
    RUN(test_triple_fault_is_an_error);
    RUN(test_chosen_status);
    RUN(test_bad_instructions);
    RUN(test_emulation_failure_hint);
    RUN(test_smp_boots);
    RUN(test_bad_kernels);
    return t_done();
}
