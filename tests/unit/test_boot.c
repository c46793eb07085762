/* test_boot.c: RAM plan, zero page and e820 for the direct 64-bit boot. */
#include "kvm/x86/boot.h"
#include "kvm/x86/layout.h"
#include "t.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1ULL << 20)

static void test_plan_plain(void)
{
    struct boot_layout l;

    CHECK_EQ(boot_plan_memory(64 * MiB, 0, 0, &l), 0);
    CHECK_EQ(l.nr, 1);
    CHECK_EQ(l.r[0].gpa, 0);
    CHECK_EQ(l.r[0].size, 64 * MiB);
    CHECK_EQ(l.low_end, 64 * MiB);
    CHECK_EQ(l.high_end, 0);
}

static void test_plan_split_at_gap(void)
{
    struct boot_layout l;

    CHECK_EQ(boot_plan_memory(5000 * MiB, 0, 0, &l), 0);
    CHECK_EQ(l.nr, 2);
    CHECK_EQ(l.r[0].size, LAYOUT_MMIO_START);
    CHECK_EQ(l.r[1].gpa, LAYOUT_4G);
    CHECK_EQ(l.r[1].size, 5000 * MiB - LAYOUT_MMIO_START);
    CHECK_EQ(l.high_end, LAYOUT_4G + 5000 * MiB - LAYOUT_MMIO_START);
}

/* §3.3: [0, L) RAM, [L, L+K) bundle, [L+K, L+K+S) RAM. */
static void test_plan_bundle(void)
{
    struct boot_layout l;
    uint64_t L = 16 * MiB, K = 14 * MiB;

    CHECK_EQ(boot_plan_memory(128 * MiB, L, K, &l), 0);
    CHECK_EQ(l.nr, 3);
    CHECK(l.r[0].gpa == 0 && l.r[0].size == L && l.r[0].kind == BOOT_RANGE_RAM);
    CHECK(l.r[1].gpa == L && l.r[1].size == K &&
          l.r[1].kind == BOOT_RANGE_KERNEL);
    CHECK(l.r[2].gpa == L + K && l.r[2].size == 128 * MiB);
    CHECK_EQ(l.low_end, L + K + 128 * MiB);
    /* Above the gap upstream keeps S in total. */
    CHECK_EQ(boot_plan_memory(4096 * MiB, L, K, &l), 0);
    CHECK_EQ(l.nr, 4);
    CHECK_EQ(l.r[2].gpa + l.r[2].size, LAYOUT_MMIO_START);
    CHECK_EQ(l.r[3].size, 4096 * MiB - LAYOUT_MMIO_START);
}

static void test_plan_rejects(void)
{
    struct boot_layout l;

    CHECK_EQ(boot_plan_memory(0, 0, 0, &l), -EINVAL);
    CHECK_EQ(boot_plan_memory(1 * MiB, 0, 0, &l), -EINVAL);
    CHECK_EQ(boot_plan_memory(64 * MiB + 1, 0, 0, &l), -EINVAL);
    CHECK_EQ(boot_plan_memory(64 * MiB, 16 * MiB + 1, MiB, &l), -EINVAL);
    CHECK_EQ(boot_plan_memory(64 * MiB, 0x1000, MiB, &l), -EINVAL);
    CHECK_EQ(boot_plan_memory(64 * MiB, LAYOUT_MMIO_START - MiB, 2 * MiB, &l),
             -EINVAL);
    CHECK_EQ(boot_plan_memory(64 * MiB, 16 * MiB, UINT64_MAX & ~0xfffULL, &l),
             -EINVAL);
    CHECK_EQ(boot_plan_memory(UINT64_MAX & ~0xfffULL, 0, 0, &l), -EINVAL);
}

static void test_zero_page_fields(void)
{
    struct boot_layout l;
    struct boot_params bp;
    struct boot_info bi = {.cmdline = "console=ttyS0", .nr_vcpus = 1};

    boot_plan_memory(5000 * MiB, 0, 0, &l);
    CHECK_EQ(boot_fill_zero_page(&bp, &l, &bi), 0);
    CHECK_EQ(bp.hdr.type_of_loader, 0xff);
    CHECK_EQ(bp.hdr.boot_flag, 0xaa55);
    CHECK_EQ(bp.hdr.header, 0x53726448);
    CHECK_EQ(bp.hdr.cmd_line_ptr, 0x20000);
    CHECK_EQ(bp.hdr.cmdline_size, strlen(bi.cmdline) + 1);
    CHECK_EQ(bp.hdr.kernel_alignment, 0x1000000);
    CHECK_EQ(bp.e820_entries, 3);
    CHECK(bp.e820_table[0].addr == 0 && bp.e820_table[0].size == 0x9fc00);
    CHECK(bp.e820_table[1].addr == 0x100000 &&
          bp.e820_table[1].size == LAYOUT_MMIO_START - 0x100000);
    CHECK(bp.e820_table[2].addr == LAYOUT_4G &&
          bp.e820_table[2].size == 5000 * MiB - LAYOUT_MMIO_START);
    CHECK_EQ(bp.e820_table[2].type, 1);
}

static void test_cmdline_too_long(void)
{
    struct boot_layout l;
    struct boot_params bp;
    char *c = malloc(LAYOUT_CMDLINE_MAX + 1);
    struct boot_info bi = {.cmdline = c, .nr_vcpus = 1};

    boot_plan_memory(64 * MiB, 0, 0, &l);
    memset(c, 'a', LAYOUT_CMDLINE_MAX);
    c[LAYOUT_CMDLINE_MAX] = 0;
    CHECK_EQ(boot_fill_zero_page(&bp, &l, &bi), -EINVAL);
    c[LAYOUT_CMDLINE_MAX - 1] = 0; /* exactly the capacity with its NUL */
    CHECK_EQ(boot_fill_zero_page(&bp, &l, &bi), 0);
    free(c);
}

static void test_low_mem_written(void)
{
    struct boot_layout l;
    struct boot_info bi = {.cmdline = "hello", .nr_vcpus = 2};
    uint8_t *low = calloc(1, LAYOUT_HIMEM);
    uint64_t v;

    boot_plan_memory(64 * MiB, 0, 0, &l);
    CHECK_EQ(boot_write_low_mem(low, LAYOUT_HIMEM - 1, &l, &bi), -EINVAL);
    CHECK_EQ(boot_write_low_mem(low, LAYOUT_HIMEM, &l, &bi), 0);
    CHECK(strcmp((char *)low + LAYOUT_CMDLINE, "hello") == 0);
    CHECK(memcmp(low + LAYOUT_EBDA, "_MP_", 4) == 0);
    memcpy(&v, low + LAYOUT_GDT + 8, 8);
    CHECK_EQ(v, 0x00af9b000000ffffULL); /* 64-bit code segment */
    memcpy(&v, low + LAYOUT_PML4, 8);
    CHECK_EQ(v, LAYOUT_PDPT | 3);
    memcpy(&v, low + LAYOUT_PD + 8 * 511, 8);
    CHECK_EQ(v, (511ULL << 21) | 0x83);
    bi.nr_vcpus = 0;
    CHECK_EQ(boot_write_low_mem(low, LAYOUT_HIMEM, &l, &bi), -EINVAL);
    free(low);
}

int main(void)
{
    RUN(test_plan_plain);
    RUN(test_plan_split_at_gap);
    RUN(test_plan_bundle);
    RUN(test_plan_rejects);
    RUN(test_zero_page_fields);
    RUN(test_cmdline_too_long);
    RUN(test_low_mem_written);
    return t_done();
}
