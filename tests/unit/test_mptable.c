/* test_mptable.c: MP tables for 1..254 vCPUs: checksums, entries, limits. */
#include "kvm/x86/layout.h"
#include "kvm/x86/mptable.h"
#include "t.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void check_table(unsigned int n)
{
    size_t size = mptable_size(n);
    uint8_t *buf = malloc(size);
    const uint8_t *t = buf + 16;
    unsigned int cpus = 0, irqs = 0, bsp = 0;
    size_t pos = 44;

    CHECK_EQ(mptable_write(buf, size, 0x9fc00, n), (long)size);
    CHECK(memcmp(buf, "_MP_", 4) == 0);
    CHECK_EQ(sum(buf, 16), 0);
    CHECK_EQ(le32(buf + 4), 0x9fc10);
    CHECK(memcmp(t, "PCMP", 4) == 0);
    CHECK_EQ(t[4] | t[5] << 8, size - 16);
    CHECK_EQ(sum(t, size - 16), 0);
    CHECK_EQ(le32(t + 36), LAYOUT_LAPIC);
    for (unsigned int i = 0; i < (unsigned)(t[34] | t[35] << 8); i++) {
        if (t[pos] == 0) {
            CHECK_EQ(t[pos + 1], cpus); /* APIC id = index */
            bsp += (t[pos + 3] & 2) != 0;
            cpus++;
        } else if (t[pos] == 2) {
            CHECK_EQ(t[pos + 1], n + 1);
            CHECK_EQ(le32(t + pos + 4), LAYOUT_IOAPIC);
        } else if (t[pos] == 3) {
            CHECK_EQ(t[pos + 5], t[pos + 7]); /* ISA irq i -> pin i */
            irqs++;
        }
        pos += t[pos] == 0 ? 20 : 8;
    }
    CHECK_EQ(pos, size - 16);
    CHECK_EQ(cpus, n);
    CHECK_EQ(bsp, 1);
    CHECK_EQ(irqs, 16);
    free(buf);
}

static void test_one_cpu(void)
{
    check_table(1);
}

static void test_many_cpus(void)
{
    check_table(16);
    check_table(MPTABLE_MAX_CPUS);
}

static void test_limits(void)
{
    uint8_t buf[4096];

    CHECK_EQ(mptable_write(buf, sizeof(buf), 0x9fc00, 0), -EINVAL);
    CHECK_EQ(mptable_write(buf, sizeof(buf), 0x9fc00, MPTABLE_MAX_CPUS + 1),
             -EINVAL);
    CHECK_EQ(mptable_write(buf, mptable_size(2) - 1, 0x9fc00, 2), -EINVAL);
    CHECK_EQ(mptable_write(buf, sizeof(buf), 0xffffff00u, 2), -EINVAL);
}

int main(void)
{
    RUN(test_one_cpu);
    RUN(test_many_cpus);
    RUN(test_limits);
    return t_done();
}
