/* boot.c: RAM plan, zero page, command line and low-memory boot tables. */
#define LOG_TAG "boot"
#include "kvm/x86/boot.h"
#include "kvm/x86/cpu.h"
#include "kvm/x86/layout.h"
#include "kvm/x86/mptable.h"
#include "log.h"
#include "util.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <string.h>

#define E820_TYPE_RAM 1
#define BOOT_MIN_RAM  (2ULL << 20)
#define BOOT_PAGE     4096ULL

static void layout_add(struct boot_layout *l, uint64_t gpa, uint64_t size,
                       enum boot_range_kind kind)
{
    if (size)
        l->r[l->nr++] = (struct boot_range){gpa, size, kind};
}

/* RAM of (size) bytes starting at (gpa) < gap, split around the gap. */
static int layout_add_ram(struct boot_layout *l, uint64_t gpa, uint64_t size)
{
    uint64_t below = MIN(size, LAYOUT_MMIO_START - gpa);

    layout_add(l, gpa, below, BOOT_RANGE_RAM);
    l->low_end = gpa + below;
    if (size > below) {
        if (add_overflow(LAYOUT_4G, size - below, &l->high_end))
            return -EINVAL;
        layout_add(l, LAYOUT_4G, size - below, BOOT_RANGE_RAM);
    }
    return 0;
}

int boot_plan_memory(uint64_t ram_size, uint64_t kernel_load,
                     uint64_t kernel_size, struct boot_layout *out)
{
    uint64_t kend;

    memset(out, 0, sizeof(*out));
    if (ram_size < BOOT_MIN_RAM || !IS_ALIGNED(ram_size, BOOT_PAGE) ||
        ram_size > (1ULL << 46))
        return -EINVAL;
    if (kernel_size == 0)
        return layout_add_ram(out, 0, ram_size);
    /* The bundle sits in RAM above the low structures and below the gap. */
    if (!IS_ALIGNED(kernel_load | kernel_size, BOOT_PAGE) ||
        kernel_load < LAYOUT_HIMEM ||
        add_overflow(kernel_load, kernel_size, &kend) ||
        kend > LAYOUT_MMIO_START)
        return -EINVAL;
    layout_add(out, 0, kernel_load, BOOT_RANGE_RAM);
    layout_add(out, kernel_load, kernel_size, BOOT_RANGE_KERNEL);
    /* Upstream: S bytes after the bundle, but S in total when S is larger
     * than the gap (then the gap's end minus kend, plus S - gap above 4 GiB).
     */
    if (ram_size > LAYOUT_MMIO_START)
        ram_size -= kend;
    return layout_add_ram(out, kend, ram_size);
}

static void e820_add(struct boot_params *bp, uint64_t start, uint64_t end)
{
    struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

    e->addr = start;
    e->size = end - start;
    e->type = E820_TYPE_RAM;
}

int boot_fill_zero_page(struct boot_params *bp,
                        const struct boot_layout *layout,
                        const struct boot_info *bi)
{
    size_t len = strnlen(bi->cmdline, LAYOUT_CMDLINE_MAX);

    if (len >= LAYOUT_CMDLINE_MAX || layout->low_end <= LAYOUT_HIMEM)
        return -EINVAL;
    memset(bp, 0, sizeof(*bp));
    bp->hdr.type_of_loader = 0xff;
    bp->hdr.boot_flag = 0xaa55;
    bp->hdr.header = 0x53726448; /* "HdrS" */
    bp->hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
    bp->hdr.cmdline_size = (uint32_t)len + 1;
    bp->hdr.kernel_alignment = (uint32_t)LAYOUT_KERNEL_ALIGN;
    if (bi->initrd_size) {
        bp->hdr.ramdisk_image = (uint32_t)bi->initrd_addr;
        bp->hdr.ramdisk_size = (uint32_t)bi->initrd_size;
    }
    e820_add(bp, 0, LAYOUT_EBDA);
    e820_add(bp, LAYOUT_HIMEM, layout->low_end);
    if (layout->high_end)
        e820_add(bp, LAYOUT_4G, layout->high_end);
    return 0;
}

int boot_write_low_mem(uint8_t *low, size_t low_size,
                       const struct boot_layout *layout,
                       const struct boot_info *bi)
{
    struct boot_params bp;
    long n;
    int rc;

    if (low_size < LAYOUT_HIMEM)
        return -EINVAL;
    rc = boot_fill_zero_page(&bp, layout, bi);
    if (rc < 0) {
        log_error("kernel command line longer than %llu bytes",
                  (unsigned long long)LAYOUT_CMDLINE_MAX - 1);
        return rc;
    }
    n = mptable_write(low + LAYOUT_EBDA, LAYOUT_HIMEM - LAYOUT_EBDA,
                      (uint32_t)LAYOUT_EBDA, bi->nr_vcpus);
    if (n < 0) {
        log_error("no MP table for %u vCPUs", bi->nr_vcpus);
        return (int)n;
    }
    cpu_write_boot_tables(low);
    memcpy(low + LAYOUT_ZERO_PAGE, &bp, sizeof(bp));
    memcpy(low + LAYOUT_CMDLINE, bi->cmdline, bp.hdr.cmdline_size);
    return 0;
}
