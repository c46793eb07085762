/*
 * mptable.c: MP floating pointer + configuration table (Intel MultiProcessor
 * Specification 1.4, chapter 4).  All multi-byte fields are little-endian,
 * which is also the host's byte order (x86_64 only).
 */
#include "kvm/x86/mptable.h"
#include "kvm/x86/layout.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#define MP_APIC_VERSION  0x14
#define MP_CPU_SIGNATURE 0x600           /* family 6 */
#define MP_CPU_FEATURES  ((1u << 9) | 1) /* APIC | FPU */

enum mp_entry_type {
    MP_PROCESSOR = 0,
    MP_BUS = 1,
    MP_IOAPIC = 2,
    MP_IOINTR = 3,
    MP_LINTR = 4,
};

enum mp_irq_type { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

struct mpf {            /* floating pointer, §4.1 */
    char signature[4];  /* "_MP_" */
    uint32_t physptr;   /* configuration table address */
    uint8_t length;     /* in 16-byte units: 1 */
    uint8_t spec_rev;   /* 4 = version 1.4 */
    uint8_t checksum;   /* all 16 bytes sum to 0 */
    uint8_t feature[5]; /* 0: a configuration table is present */
} __attribute__((packed));
static_assert(sizeof(struct mpf) == 16, "MP spec 1.4 §4.1");

struct mpc_header {    /* configuration table header, §4.2 */
    char signature[4]; /* "PCMP" */
    uint16_t length;   /* base table length, header included */
    uint8_t spec_rev;
    uint8_t checksum; /* base table sums to 0 */
    char oem[8];
    char product[12];
    uint32_t oem_ptr;
    uint16_t oem_size;
    uint16_t count; /* number of entries */
    uint32_t lapic; /* LAPIC address */
    uint16_t ext_length;
    uint8_t ext_checksum;
    uint8_t reserved;
} __attribute__((packed));
static_assert(sizeof(struct mpc_header) == 44, "MP spec 1.4 §4.2");

struct mpc_cpu {
    uint8_t type, apic_id, apic_ver, flags; /* flags: 1 enabled, 2 BSP */
    uint32_t signature, features, reserved[2];
} __attribute__((packed));
static_assert(sizeof(struct mpc_cpu) == 20, "MP spec 1.4 §4.3.1");

struct mpc_bus {
    uint8_t type, bus_id;
    char bus_type[6];
} __attribute__((packed));
static_assert(sizeof(struct mpc_bus) == 8, "MP spec 1.4 §4.3.2");

struct mpc_ioapic {
    uint8_t type, apic_id, apic_ver, flags; /* flags: 1 enabled */
    uint32_t address;
} __attribute__((packed));
static_assert(sizeof(struct mpc_ioapic) == 8, "MP spec 1.4 §4.3.3");

struct mpc_intr { /* I/O and local interrupt assignment, §4.3.4-5 */
    uint8_t type, irq_type;
    uint16_t flags; /* polarity/trigger: 0 = conforms to the bus */
    uint8_t src_bus, src_irq, dst_apic, dst_pin;
} __attribute__((packed));
static_assert(sizeof(struct mpc_intr) == 8, "MP spec 1.4 §4.3.4");

#define MP_ISA_IRQS 16

size_t mptable_size(unsigned int nr_cpus)
{
    return sizeof(struct mpf) + sizeof(struct mpc_header) +
           nr_cpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
           sizeof(struct mpc_ioapic) +
           (MP_ISA_IRQS + 2) * sizeof(struct mpc_intr);
}

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    while (len--)
        sum += *p++;
    return (uint8_t)-sum;
}

/* Append (len) bytes of (src) at *pos. */
static void put(uint8_t *buf, size_t *pos, const void *src, size_t len)
{
    memcpy(buf + *pos, src, len);
    *pos += len;
}

static void put_intr(uint8_t *buf, size_t *pos, uint8_t type, uint8_t irq_type,
                     uint8_t src_irq, uint8_t dst_apic, uint8_t dst_pin)
{
    struct mpc_intr e = {type, irq_type, 0, 0, src_irq, dst_apic, dst_pin};

    put(buf, pos, &e, sizeof(e));
}

/* Entries after the header; returns how many. */
static uint16_t put_entries(uint8_t *buf, size_t *pos, unsigned int nr_cpus)
{
    uint8_t ioapic_id = (uint8_t)(nr_cpus + 1);
    struct mpc_bus bus = {MP_BUS, 0, {'I', 'S', 'A', ' ', ' ', ' '}};
    struct mpc_ioapic io = {MP_IOAPIC, ioapic_id, MP_APIC_VERSION, 1,
                            (uint32_t)LAYOUT_IOAPIC};

    for (unsigned int i = 0; i < nr_cpus; i++) {
        struct mpc_cpu c = {MP_PROCESSOR,
                            (uint8_t)i,
                            MP_APIC_VERSION,
                            (uint8_t)(1 | (i == 0 ? 2 : 0)),
                            MP_CPU_SIGNATURE,
                            MP_CPU_FEATURES,
                            {0, 0}};

        put(buf, pos, &c, sizeof(c));
    }
    put(buf, pos, &bus, sizeof(bus));
    put(buf, pos, &io, sizeof(io));
    for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++)
        put_intr(buf, pos, MP_IOINTR, MP_INT, irq, ioapic_id, irq);
    put_intr(buf, pos, MP_LINTR, MP_EXTINT, 0, 0, 0); /* LAPIC 0 LINT0 */
    put_intr(buf, pos, MP_LINTR, MP_NMI, 0, 0xff, 1); /* all LINT1 */
    return (uint16_t)(nr_cpus + 2 + MP_ISA_IRQS + 2);
}

long mptable_write(uint8_t *buf, size_t len, uint32_t gpa, unsigned int nr_cpus)
{
    size_t size = mptable_size(nr_cpus), pos = sizeof(struct mpf);
    struct mpf mpf = {{'_', 'M', 'P', '_'}, 0, 1, 4, 0, {0}};
    struct mpc_header h;
    uint16_t count;

    if (nr_cpus == 0 || nr_cpus > MPTABLE_MAX_CPUS || len < size ||
        gpa > UINT32_MAX - size)
        return -EINVAL;
    memset(buf, 0, size);
    pos += sizeof(h);
    count = put_entries(buf, &pos, nr_cpus);

    memset(&h, 0, sizeof(h));
    memcpy(h.signature, "PCMP", 4);
    h.length = (uint16_t)(size - sizeof(mpf));
    h.spec_rev = 4;
    memcpy(h.oem, "FC      ", 8);
    memcpy(h.product, "000000000000", 12);
    h.count = count;
    h.lapic = (uint32_t)LAYOUT_LAPIC;
    memcpy(buf + sizeof(mpf), &h, sizeof(h));
    buf[sizeof(mpf) + offsetof(struct mpc_header, checksum)] =
        mp_checksum(buf + sizeof(mpf), h.length);

    mpf.physptr = gpa + (uint32_t)sizeof(mpf);
    mpf.checksum = mp_checksum((const uint8_t *)&mpf, sizeof(mpf));
    memcpy(buf, &mpf, sizeof(mpf));
    return (long)size;
}
