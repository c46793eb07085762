/* test_mem.c: guest memory regions and the checked accessors. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "t.h"

static uint8_t buf_a[8192] __attribute__((aligned(4096)));
static uint8_t buf_b[4096] __attribute__((aligned(4096)));

static void two_regions(struct guest_mem *gm)
{
    gm_init(gm);
    /* Adjacent regions with unrelated host addresses: [0x1000, 0x4000). */
    CHECK_EQ(gm_add_region(gm, 0x3000, sizeof(buf_b), buf_b), 0);
    CHECK_EQ(gm_add_region(gm, 0x1000, sizeof(buf_a), buf_a), 0);
}

static void test_ptr_bounds(void)
{
    struct guest_mem gm;

    two_regions(&gm);
    CHECK(gm_ptr(&gm, 0x1000, 1) == buf_a);
    CHECK(gm_ptr(&gm, 0x2fff, 1) == buf_a + 0x1fff);
    CHECK(gm_ptr(&gm, 0x3000, 4096) == buf_b);
    CHECK(gm_ptr(&gm, 0x4000, 0) == buf_b + 4096); /* empty at the end */
    CHECK(gm_ptr(&gm, 0xfff, 1) == NULL);          /* below RAM */
    CHECK(gm_ptr(&gm, 0x4000, 1) == NULL);         /* past RAM */
    CHECK(gm_ptr(&gm, 0x2fff, 2) == NULL);         /* straddles regions */
    CHECK(gm_ptr(&gm, 0x1000, UINT64_MAX) == NULL);
    CHECK(gm_ptr(&gm, UINT64_MAX, 2) == NULL); /* gpa + len overflows */
    CHECK(gm_ptr(&gm, UINT64_MAX - 0xfff, 0x2000) == NULL);
    CHECK_EQ(gm_end(&gm), 0x4000);
}

static void test_ptr_prefix(void)
{
    struct guest_mem gm;
    uint64_t got = 0;

    two_regions(&gm);
    CHECK(gm_ptr_prefix(&gm, 0x2ff0, 0x100, &got) == buf_a + 0x1ff0);
    CHECK_EQ(got, 0x10);
    CHECK(gm_ptr_prefix(&gm, 0x3000, 0x100, &got) == buf_b);
    CHECK_EQ(got, 0x100);
    CHECK(gm_ptr_prefix(&gm, 0x5000, 1, &got) == NULL);
    CHECK(gm_ptr_prefix(&gm, 0x1000, 0, &got) == NULL);
}

static void test_add_region_rejects(void)
{
    struct guest_mem gm;
    static uint8_t other[4096] __attribute__((aligned(16)));

    two_regions(&gm);
    CHECK_EQ(gm_add_region(&gm, 0x2000, 0x2000, other), -EINVAL); /* overlap */
    CHECK_EQ(gm_add_region(&gm, 0x0, 0x1001, other), -EINVAL);
    CHECK_EQ(gm_add_region(&gm, 0x8000, 0, other), -EINVAL);
    CHECK_EQ(gm_add_region(&gm, UINT64_MAX - 10, 0x100, other), -EINVAL);
    CHECK_EQ(gm_add_region(&gm, 0x8001, 0x10, other), -EINVAL); /* align */
    CHECK_EQ(gm_add_region(&gm, 0x0, 0x1000, other), 0); /* touching: fine */
    CHECK_EQ(gm.nr_regions, 3);
    CHECK_EQ(gm.regions[0].gpa, 0);
    CHECK_EQ(gm.regions[2].gpa, 0x3000);
}

static void test_read_write_span(void)
{
    struct guest_mem gm;
    uint8_t in[32], out[32];

    two_regions(&gm);
    for (unsigned int i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i + 1);
    CHECK_EQ(gm_write(&gm, 0x2ff0, in, sizeof(in)), 0);
    CHECK(buf_a[0x1fff] == 16 && buf_b[0] == 17);
    CHECK_EQ(gm_read(&gm, 0x2ff0, out, sizeof(out)), 0);
    CHECK(memcmp(in, out, sizeof(in)) == 0);
    memset(out, 0xaa, sizeof(out));
    CHECK_EQ(gm_read(&gm, 0x3ff0, out, sizeof(out)), -EFAULT);
    CHECK(out[0] == 0xaa); /* nothing copied on failure */
    buf_b[4095] = 7;
    CHECK_EQ(gm_write(&gm, 0x3ff0, in, sizeof(in)), -EFAULT);
    CHECK(buf_b[4095] == 7);
    CHECK_EQ(gm_read(&gm, UINT64_MAX - 4, out, 8), -EFAULT);
}

static void test_anon_ram_with_hole(void)
{
    struct guest_mem gm;
    uint8_t v = 0x5a, r = 0;

    gm_init(&gm);
    CHECK_EQ(gm_add_ram(&gm, 0, 0x30000, 0x20000, 0x40000), 0);
    CHECK_EQ(gm.nr_regions, 2);
    CHECK_EQ(gm.regions[0].size, 0x20000);
    CHECK_EQ(gm.regions[1].gpa, 0x40000);
    CHECK_EQ(gm.regions[1].size, 0x10000);
    CHECK(gm_ptr(&gm, 0x20000, 1) == NULL); /* the hole */
    CHECK_EQ(gm_write(&gm, 0x4ffff, &v, 1), 0);
    CHECK_EQ(gm_read(&gm, 0x4ffff, &r, 1), 0);
    CHECK_EQ(r, 0x5a);
    CHECK_EQ(gm_add_ram(&gm, 0x21000, 0x1000, 0x20000, 0x40000), -EINVAL);
    CHECK_EQ(gm_map_anon(&gm, 0x60001, 0x1000), -EINVAL);
    CHECK_EQ(gm_end(&gm), 0x50000);
    gm_destroy(&gm);
    CHECK_EQ(gm.nr_regions, 0);
}

static void test_table_full(void)
{
    struct guest_mem gm;
    static uint8_t page[16] __attribute__((aligned(16)));

    gm_init(&gm);
    for (unsigned int i = 0; i < GM_MAX_REGIONS; i++)
        CHECK_EQ(gm_add_region(&gm, 0x100ULL * i, 16, page), 0);
    CHECK_EQ(gm_add_region(&gm, 0x100000, 16, page), -ENOSPC);
}

int main(void)
{
    RUN(test_ptr_bounds);
    RUN(test_ptr_prefix);
    RUN(test_add_region_rejects);
    RUN(test_read_write_span);
    RUN(test_anon_ram_with_hole);
    RUN(test_table_full);
    return t_done();
}
