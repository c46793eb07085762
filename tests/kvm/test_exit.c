/*
 * test_exit.c: every way a VM ends ends the process, promptly, with the
 * right status and a clear message: i8042 reset (0), halt with interrupts
 * off (0), triple fault (1); bad kernel files fail krun_start_enter cleanly.
 */
#include "guest_run.h"
#include "t.h"

#include <elf.h>
#include <fcntl.h>
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
    RUN(test_hlt_stops_cleanly);
    RUN(test_triple_fault_is_an_error);
    RUN(test_smp_boots);
    RUN(test_bad_kernels);
    return t_done();
}
