/* fake_mem.c: one heap buffer as guest RAM, for tests and fuzzers. */
#include "fake_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fake_mem_init(struct fake_mem *fm, uint64_t base, size_t size)
{
    fm->buf = aligned_alloc(4096, size);
    if (!fm->buf) {
        fprintf(stderr, "fake_mem: out of memory\n");
        abort();
    }
    memset(fm->buf, 0, size);
    fm->base = base;
    fm->size = size;
    gm_init(&fm->gm);
    if (gm_add_region(&fm->gm, base, size, fm->buf) < 0)
        abort();
}

void fake_mem_free(struct fake_mem *fm)
{
    gm_destroy(&fm->gm);
    free(fm->buf);
    fm->buf = NULL;
}

void *fake_mem_at(const struct fake_mem *fm, uint64_t gpa)
{
    if (gpa < fm->base || gpa - fm->base >= fm->size)
        abort();
    return fm->buf + (gpa - fm->base);
}
