/*
 * elf.c: bounds-checked ELF64 parser for krun_set_kernel (System V gABI,
 * "ELF-64 Object File Format").  Multi-byte fields are little-endian like the
 * host, so headers are memcpy'd into aligned locals and then checked.
 */
#define LOG_TAG "elf"
#include "kvm/x86/elf.h"
#include "log.h"
#include "util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ELF_MAX_PHDRS            256
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* Copy (size) bytes at (off) of the file into (dst) if they are in bounds. */
static bool elf_get(const uint8_t *buf, size_t len, uint64_t off, void *dst,
                    size_t size)
{
    uint64_t end;

    if (add_overflow(off, (uint64_t)size, &end) || end > len)
        return false;
    memcpy(dst, buf + off, size);
    return true;
}

static int elf_check_ehdr(const Elf64_Ehdr *eh, size_t len)
{
    uint64_t tbl;

    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        log_error("not an ELF file");
    else if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
             eh->e_ident[EI_DATA] != ELFDATA2LSB)
        log_error("not a little-endian ELF64 file");
    else if (eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC)
        log_error("not an x86_64 executable (machine %u, type %u)",
                  eh->e_machine, eh->e_type);
    else if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
             eh->e_phnum > ELF_MAX_PHDRS)
        log_error("bad program header table (entsize %u, count %u)",
                  eh->e_phentsize, eh->e_phnum);
    else if (add_overflow(eh->e_phoff,
                          (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), &tbl) ||
             tbl > len)
        log_error("program header table outside the file");
    else
        return 0;
    return -ENOEXEC;
}

/* Look for XEN_ELFNOTE_PHYS32_ENTRY in one PT_NOTE segment. */
static void elf_scan_note(const uint8_t *buf, size_t len, const Elf64_Phdr *ph,
                          struct elf_image *out)
{
    uint64_t pos = ph->p_offset, end;

    if (add_overflow(ph->p_offset, ph->p_filesz, &end) || end > len)
        return;
    while (end - pos >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        uint64_t name_sz, desc_sz, desc;

        memcpy(&nh, buf + pos, sizeof(nh));
        name_sz = ALIGN_UP((uint64_t)nh.n_namesz, 4);
        desc_sz = ALIGN_UP((uint64_t)nh.n_descsz, 4);
        desc = pos + sizeof(nh) + name_sz;
        if (desc > end || desc_sz > end - desc)
            return;
        if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
            memcmp(buf + pos + sizeof(nh), "Xen", 4) == 0 && nh.n_descsz >= 4) {
            uint32_t e;

            memcpy(&e, buf + desc, sizeof(e));
            out->pvh_entry = e;
            out->has_pvh = true;
        }
        pos = desc + desc_sz;
    }
}

static int elf_add_load(const Elf64_Phdr *ph, size_t len, struct elf_image *out)
{
    uint64_t fend, mend;

    if (ph->p_memsz == 0)
        return 0;
    if (out->nr == ELF_MAX_SEGMENTS)
        log_error("more than %d PT_LOAD segments", ELF_MAX_SEGMENTS);
    else if (ph->p_filesz > ph->p_memsz)
        log_error("segment file size %#llx > memory size %#llx",
                  (unsigned long long)ph->p_filesz,
                  (unsigned long long)ph->p_memsz);
    else if (add_overflow(ph->p_offset, ph->p_filesz, &fend) || fend > len)
        log_error("segment data outside the file");
    else if (add_overflow(ph->p_paddr, ph->p_memsz, &mend))
        log_error("segment address range overflows");
    else {
        out->seg[out->nr++] = (struct elf_segment){ph->p_paddr, ph->p_offset,
                                                   ph->p_filesz, ph->p_memsz};
        return 0;
    }
    return -ENOEXEC;
}

static bool elf_entry_mapped(const struct elf_image *img)
{
    for (unsigned int i = 0; i < img->nr; i++)
        if (img->entry >= img->seg[i].paddr &&
            img->entry - img->seg[i].paddr < img->seg[i].memsz)
            return true;
    return false;
}

int elf_parse(const uint8_t *buf, size_t len, struct elf_image *out)
{
    Elf64_Ehdr eh;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!elf_get(buf, len, 0, &eh, sizeof(eh))) {
        log_error("file too short for an ELF header");
        return -ENOEXEC;
    }
    rc = elf_check_ehdr(&eh, len);
    for (unsigned int i = 0; rc == 0 && i < eh.e_phnum; i++) {
        Elf64_Phdr ph;

        memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_LOAD)
            rc = elf_add_load(&ph, len, out);
        else if (ph.p_type == PT_NOTE)
            elf_scan_note(buf, len, &ph, out);
    }
    if (rc < 0)
        return rc;
    out->entry = eh.e_entry;
    if (out->nr == 0 || !elf_entry_mapped(out)) {
        log_error("entry point %#llx is not in a loadable segment",
                  (unsigned long long)out->entry);
        return -ENOEXEC;
    }
    return 0;
}

static int read_all(int fd, uint8_t *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO; /* the file shrank under us */
        done += (size_t)n;
    }
    return 0;
}

int elf_read_file(const char *path, uint8_t **data, size_t *len,
                  struct elf_image *out)
{
    struct stat st;
    uint8_t *buf = NULL;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        log_error("cannot open kernel %s: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out_close;
    }
    rc = -EFBIG;
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > ELF_MAX_FILE_SIZE)
        goto out_close;
    rc = -ENOMEM;
    buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf)
        goto out_close;
    rc = read_all(fd, buf, (size_t)st.st_size);
    if (rc == 0)
        rc = elf_parse(buf, (size_t)st.st_size, out);
    if (rc == 0) {
        *data = buf;
        *len = (size_t)st.st_size;
        buf = NULL;
    }
out_close:
    if (rc == -EFBIG)
        log_error("kernel %s is not a regular file of at most 1 GiB", path);
    free(buf);
    close(fd);
    return rc;
}
