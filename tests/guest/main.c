/*
 * main.c: the test guest.  The command line says which test to run
 * ("test=NAME"); each test prints what it saw on COM1, then "PASS NAME" or
 * "FAIL NAME: why", and the guest resets through the i8042.  The host side is
 * tests/kvm/.  Some tests end the VM another way on purpose (hlt, triple).
 */
#include "guest.h"
#include "tests.h"

#include <asm/bootparam.h>

#define EBDA     0x9fc00
#define EBDA_END 0xa0000

struct guest_test {
    const char *name;
    /* Returns NULL on success, else a reason. */
    const char *(*fn)(const struct boot_params *zp, const char *cmdline);
};

static const char *test_serial(const struct boot_params *zp, const char *c)
{
    put_str("hello from the test guest\n");
    return NULL;
}

static const char *test_cmdline(const struct boot_params *zp, const char *c)
{
    put_str("cmdline=[");
    put_str(c);
    put_str("]\n");
    return zp->hdr.cmdline_size == str_len(c) + 1 ? NULL : "cmdline_size";
}

static const char *test_zeropage(const struct boot_params *zp, const char *c)
{
    if (zp->hdr.boot_flag != 0xaa55)
        return "boot_flag";
    if (zp->hdr.header != 0x53726448)
        return "header";
    if (zp->hdr.type_of_loader != 0xff)
        return "type_of_loader";
    if (zp->hdr.cmd_line_ptr != 0x20000)
        return "cmd_line_ptr";
    if (zp->hdr.kernel_alignment != 0x1000000)
        return "kernel_alignment";
    return NULL;
}

static const char *test_e820(const struct boot_params *zp, const char *c)
{
    if (zp->e820_entries == 0 || zp->e820_entries > E820_MAX_ENTRIES_ZEROPAGE)
        return "e820_entries";
    for (unsigned i = 0; i < zp->e820_entries; i++) {
        const struct boot_e820_entry *e = &zp->e820_table[i];

        put_str("e820 ");
        put_hex(e->addr);
        put_char(' ');
        put_hex(e->size);
        put_char(' ');
        put_dec(e->type);
        put_char('\n');
    }
    return NULL;
}

static const char *test_cmos(const struct boot_params *zp, const char *c)
{
    static const uint8_t regs[] = {0x34, 0x35, 0x5b, 0x5c, 0x5d};
    uint32_t v[5];

    for (unsigned i = 0; i < 5; i++) {
        outb(0x70, regs[i]);
        v[i] = inb(0x71);
    }
    put_str("cmos mid=");
    put_dec(v[0] | v[1] << 8);
    put_str(" high=");
    put_dec(v[2] | v[3] << 8 | v[4] << 16);
    put_char('\n');
    return NULL;
}

static uint8_t sum_bytes(const volatile uint8_t *p, uint32_t len)
{
    uint8_t s = 0;

    while (len--)
        s += *p++;
    return s;
}

/* Walk the MP configuration table; print what a kernel would learn. */
static const char *mp_walk(const volatile uint8_t *t)
{
    uint16_t len = (uint16_t)(t[4] | t[5] << 8);
    uint16_t count = (uint16_t)(t[34] | t[35] << 8);
    uint32_t pos = 44, cpus = 0, bsp = 0xff, ioapic = 0xff, irqs = 0, lints = 0;

    if (sum_bytes(t, len) != 0)
        return "PCMP checksum";
    for (uint16_t i = 0; i < count; i++) {
        uint8_t type = t[pos];

        if (pos >= len)
            return "entry past table end";
        if (type == 0) {
            cpus++;
            if (t[pos + 3] & 2)
                bsp = t[pos + 1];
        }
        if (type == 2)
            ioapic = t[pos + 1];
        irqs += type == 3;
        lints += type == 4;
        pos += type == 0 ? 20 : 8;
    }
    put_str("mp cpus=");
    put_dec(cpus);
    put_str(" bsp=");
    put_dec(bsp);
    put_str(" ioapic=");
    put_dec(ioapic);
    put_str(" irqs=");
    put_dec(irqs);
    put_str(" lints=");
    put_dec(lints);
    put_char('\n');
    return pos == len ? NULL : "table length";
}

const volatile uint8_t *mp_config_table(void)
{
    for (uint64_t a = EBDA; a < EBDA_END; a += 16) {
        const volatile uint8_t *p = (const volatile uint8_t *)a;

        if (p[0] != '_' || p[1] != 'M' || p[2] != 'P' || p[3] != '_')
            continue;
        if (sum_bytes(p, 16) != 0)
            return NULL;
        uint64_t tbl = p[4] | p[5] << 8 | p[6] << 16 | (uint64_t)p[7] << 24;
        const volatile uint8_t *t = (const volatile uint8_t *)tbl;
        if (t[0] != 'P' || t[1] != 'C' || t[2] != 'M' || t[3] != 'P')
            return NULL;
        return t;
    }
    return NULL;
}

static const char *test_mptable(const struct boot_params *zp, const char *c)
{
    const volatile uint8_t *t = mp_config_table();

    return t ? mp_walk(t) : "no valid MP table";
}

/* Halt with interrupts off: the VM must not hang silently. */
static const char *test_hlt(const struct boot_params *zp, const char *c)
{
    put_str("halting\n");
    __asm__ volatile("cli; hlt");
    return "still running after hlt";
}

/* Empty IDT + #UD -> #GP -> #DF -> triple fault (KVM_EXIT_SHUTDOWN). */
static const char *test_triple(const struct boot_params *zp, const char *c)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = {0, 0};

    put_str("triple faulting\n");
    __asm__ volatile("lidt %0; ud2" : : "m"(idtr));
    return "still running after triple fault";
}

static const struct guest_test tests[] = {
    {"rng", test_rng},
    {"serial", test_serial},
    {"cmdline", test_cmdline},
    {"zeropage", test_zeropage},
    {"e820", test_e820},
    {"cmos", test_cmos},
    {"mptable", test_mptable},
    {"hlt", test_hlt},
    {"triple", test_triple},
    {"con_names", test_con_names},
    {"con_out", test_con_out},
    {"con_in", test_con_in},
    {"con_intr", test_con_intr},
    {"fs", test_fs},
    {"fs_init", test_fs_init},
    {"fs_badlen", test_fs_badlen},
    {"fs_badchain", test_fs_badchain},
    {"smp", test_smp},
    {"exit", test_exit},
    {"bad_insn", test_bad_insn},
};

void guest_main(const struct boot_params *zp);

void guest_main(const struct boot_params *zp)
{
    const char *cmdline = (const char *)(uint64_t)zp->hdr.cmd_line_ptr;
    char name[32];
    const char *why = "unknown test";

    if (!cmdline_arg(cmdline, "test=", name, sizeof(name)))
        name[0] = 0;
    for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        if (str_ncmp(tests[i].name, name, sizeof(name)) == 0) {
            why = tests[i].fn(zp, cmdline);
            break;
        }
    }
    put_str(why ? "FAIL " : "PASS ");
    put_str(name);
    if (why) {
        put_str(": ");
        put_str(why);
    }
    put_char('\n');
    guest_reset();
}
