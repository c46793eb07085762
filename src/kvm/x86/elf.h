/*
 * elf.h: loader for an ELF64 x86_64 kernel given with krun_set_kernel
 * (KRUN_KERNEL_FORMAT_ELF).  The file is untrusted input: every header,
 * offset and size is checked before use.  Segments are placed at their
 * physical address (p_paddr) and the vCPU enters at e_entry in 64-bit mode,
 * as for a flattened kernel.  A PVH note is recognised but not used.
 */
#ifndef KRUN_KVM_X86_ELF_H
#define KRUN_KVM_X86_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS  16
#define ELF_MAX_FILE_SIZE (1ULL << 30)

struct elf_segment {
    uint64_t paddr;  /* guest-physical load address */
    uint64_t offset; /* file offset; [offset, offset+filesz) is in the file */
    uint64_t filesz; /* bytes copied from the file */
    uint64_t memsz;  /* bytes occupied; the rest after filesz is zeroed */
};

struct elf_image {
    uint64_t entry;     /* e_entry, inside one of the segments */
    uint64_t pvh_entry; /* XEN_ELFNOTE_PHYS32_ENTRY if has_pvh */
    bool has_pvh;
    unsigned int nr;
    struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/*
 * Validate the ELF file in (buf, len) and describe its PT_LOAD segments in
 * (out).  Returns 0, or -ENOEXEC for anything malformed, unsupported
 * (not ELF64/little-endian/x86_64/ET_EXEC) or out of bounds; the reason is
 * logged.  Pure apart from logging; never reads outside (buf, len).
 */
int elf_parse(const uint8_t *buf, size_t len, struct elf_image *out);

/*
 * Read the file at (path) (at most ELF_MAX_FILE_SIZE bytes) and parse it.
 * On success *data and *len hold the malloc'd contents (the caller frees them)
 * and (out) describes it.  Returns 0, -errno from open/read, -EFBIG, or
 * -ENOEXEC.
 */
int elf_read_file(const char *path, uint8_t **data, size_t *len,
                  struct elf_image *out);

#endif /* KRUN_KVM_X86_ELF_H */
