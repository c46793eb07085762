/*
 * fake_mem.h: guest memory for tests and fuzzers: one zeroed, page-aligned
 * heap buffer registered as a single guest RAM region.
 */
#ifndef KRUN_TESTS_FAKE_MEM_H
#define KRUN_TESTS_FAKE_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

struct fake_mem {
    struct guest_mem gm;
    uint8_t *buf;
    uint64_t base;
    size_t size;
};

/* (size) bytes of zeroed RAM at guest physical (base).  Aborts on OOM. */
void fake_mem_init(struct fake_mem *fm, uint64_t base, size_t size);

/* Free the buffer. */
void fake_mem_free(struct fake_mem *fm);

/* Host address of guest (gpa), which must lie inside the buffer (aborts). */
void *fake_mem_at(const struct fake_mem *fm, uint64_t gpa);

#endif /* KRUN_TESTS_FAKE_MEM_H */
