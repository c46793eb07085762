/* test_elf.c: the ELF64 kernel parser on valid and hostile files. */
#include "kvm/x86/elf.h"
#include "log.h"
#include "t.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ELF header, two program headers, a note and some code. */
struct img {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[2];
    Elf64_Nhdr nh;
    char name[4];
    uint32_t desc;
    uint8_t code[32];
};

static struct img good(void)
{
    struct img m;

    memset(&m, 0, sizeof(m));
    memcpy(m.eh.e_ident, ELFMAG, SELFMAG);
    m.eh.e_ident[EI_CLASS] = ELFCLASS64;
    m.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    m.eh.e_type = ET_EXEC;
    m.eh.e_machine = EM_X86_64;
    m.eh.e_entry = 0x1000010;
    m.eh.e_phoff = offsetof(struct img, ph);
    m.eh.e_phentsize = sizeof(Elf64_Phdr);
    m.eh.e_phnum = 2;
    m.ph[0].p_type = PT_LOAD;
    m.ph[0].p_offset = offsetof(struct img, code);
    m.ph[0].p_paddr = 0x1000000;
    m.ph[0].p_filesz = sizeof(m.code);
    m.ph[0].p_memsz = 0x10000; /* bss after the code */
    m.ph[1].p_type = PT_NOTE;
    m.ph[1].p_offset = offsetof(struct img, nh);
    m.ph[1].p_filesz = sizeof(m.nh) + 4 + 4;
    m.nh.n_namesz = 4;
    m.nh.n_descsz = 4;
    m.nh.n_type = 18; /* XEN_ELFNOTE_PHYS32_ENTRY */
    memcpy(m.name, "Xen", 4);
    m.desc = 0x1000020;
    return m;
}

static int parse(const struct img *m, size_t len)
{
    struct elf_image out;

    return elf_parse((const uint8_t *)m, len, &out);
}

static void test_valid(void)
{
    struct img m = good();
    struct elf_image out;

    CHECK_EQ(elf_parse((const uint8_t *)&m, sizeof(m), &out), 0);
    CHECK_EQ(out.entry, 0x1000010);
    CHECK_EQ(out.nr, 1);
    CHECK_EQ(out.seg[0].paddr, 0x1000000);
    CHECK_EQ(out.seg[0].filesz, 32);
    CHECK_EQ(out.seg[0].memsz, 0x10000);
    CHECK(out.has_pvh);
    CHECK_EQ(out.pvh_entry, 0x1000020);
}

static void test_bad_headers(void)
{
    struct img m = good();

    CHECK_EQ(parse(&m, 0), -ENOEXEC);
    CHECK_EQ(parse(&m, sizeof(Elf64_Ehdr) - 1), -ENOEXEC);
    m.eh.e_ident[EI_MAG1] = 'X';
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.eh.e_ident[EI_CLASS] = ELFCLASS32;
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.eh.e_type = ET_DYN;
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.eh.e_phentsize = 32;
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.eh.e_phnum = 0;
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.eh.e_phnum = 0xffff;
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
}

static void test_table_out_of_bounds(void)
{
    struct img m = good();

    m.eh.e_phoff = UINT64_MAX - 8; /* offset + size overflows */
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m.eh.e_phoff = sizeof(m) - sizeof(Elf64_Phdr); /* table runs off the end */
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    CHECK_EQ(parse(&m, offsetof(struct img, ph[1])), -ENOEXEC);
}

static void test_bad_segments(void)
{
    struct img m = good();

    m.ph[0].p_filesz = m.ph[0].p_memsz + 1;
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.ph[0].p_offset = UINT64_MAX - 4;
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.ph[0].p_offset = sizeof(m) - 8; /* data past the end of the file */
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.ph[0].p_paddr = UINT64_MAX - 0x100; /* paddr + memsz overflows */
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.eh.e_entry = 0x2000000; /* not inside the segment */
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
    m = good();
    m.ph[0].p_type = PT_NULL; /* no loadable segment at all */
    CHECK_EQ(parse(&m, sizeof(m)), -ENOEXEC);
}

static void test_too_many_segments(void)
{
    size_t n = ELF_MAX_SEGMENTS + 1;
    size_t len = sizeof(Elf64_Ehdr) + n * sizeof(Elf64_Phdr);
    uint8_t *buf = calloc(1, len);
    struct img m = good();
    struct elf_image out;

    m.eh.e_phoff = sizeof(Elf64_Ehdr);
    m.eh.e_phnum = (uint16_t)n;
    m.ph[0].p_offset = 0;
    m.ph[0].p_filesz = 0;
    memcpy(buf, &m.eh, sizeof(m.eh));
    for (size_t i = 0; i < n; i++) {
        m.ph[0].p_paddr = 0x1000000 + i * 0x100000;
        memcpy(buf + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr), &m.ph[0],
               sizeof(Elf64_Phdr));
    }
    CHECK_EQ(elf_parse(buf, len, &out), -ENOEXEC);
    free(buf);
}

static void test_hostile_notes(void)
{
    struct img m = good();
    struct elf_image out;

    m.nh.n_namesz = 0xfffffff0; /* name runs past the segment */
    CHECK_EQ(elf_parse((const uint8_t *)&m, sizeof(m), &out), 0);
    CHECK(!out.has_pvh);
    m = good();
    m.nh.n_descsz = 0xffffffff;
    CHECK_EQ(elf_parse((const uint8_t *)&m, sizeof(m), &out), 0);
    CHECK(!out.has_pvh);
    m = good();
    m.ph[1].p_filesz = UINT64_MAX; /* note segment past the file */
    CHECK_EQ(elf_parse((const uint8_t *)&m, sizeof(m), &out), 0);
    CHECK(!out.has_pvh);
}

static void test_read_file_errors(void)
{
    uint8_t *data;
    size_t len;
    struct elf_image out;

    CHECK_EQ(elf_read_file("/nonexistent/kernel", &data, &len, &out), -ENOENT);
    CHECK_EQ(elf_read_file("/", &data, &len, &out), -EFBIG);
    CHECK_EQ(elf_read_file("/dev/null", &data, &len, &out), -EFBIG);
}

int main(void)
{
    log_configure(LOG_OFF, -1, false); /* every case here logs an error */
    RUN(test_valid);
    RUN(test_bad_headers);
    RUN(test_table_out_of_bounds);
    RUN(test_bad_segments);
    RUN(test_too_many_segments);
    RUN(test_hostile_notes);
    RUN(test_read_file_errors);
    return t_done();
}
