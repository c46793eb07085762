/*
 * smp.c: the BSP brings up every other CPU of the MP table itself, one at a
 * time, with INIT + SIPI through its xAPIC (Intel SDM vol. 3 §9.4.4 and
 * §10.6).  Each AP runs ap_tramp.S into long mode, reads its APIC id from
 * its own LAPIC and from CPUID, records them, bumps a shared counter and
 * halts.  The BSP prints what every AP reported.
 */
#include "guest.h"
#include "tests.h"

#include <stdbool.h>

#define AP_TRAMP   0x10000 /* free low page (src/kvm/x86/layout.h); in .S */
#define LAPIC      0xfee00000ULL
#define LAPIC_ID   0x20
#define LAPIC_SVR  0xf0
#define LAPIC_ICRL 0x300
#define LAPIC_ICRH 0x310
#define SVR_ENABLE 0x100
#define ICR_INIT   0x4500 /* delivery mode INIT, level assert */
#define ICR_SIPI   0x4600 /* delivery mode start-up; vector in bits 7-0 */
#define ICR_BUSY   0x1000 /* delivery status: send pending */
#define MAX_CPUS   16
#define AP_WAIT    4000000000ULL /* TSC cycles to wait for one AP (~1 s) */

extern const uint8_t ap_tramp[], ap_tramp_end[];
extern const uint8_t ap_tramp_gdtr[], ap_tramp_cr3[], ap_tramp_stack[],
    ap_tramp_entry[];

static uint8_t ap_stacks[MAX_CPUS][4096] __attribute__((aligned(16)));
/* APs start one at a time: the last one to arrive wrote these before it
 * bumped the counter. */
static uint32_t ap_count; /* APs that reached ap_main */
static volatile uint32_t ap_lapic_id, ap_cpuid_id;

static uint32_t lapic_rd(uint32_t reg)
{
    return mmio_read32(LAPIC + reg);
}

static void lapic_wr(uint32_t reg, uint32_t v)
{
    mmio_write32(LAPIC + reg, v);
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* CPUID.1:EBX[31:24], the initial APIC id. */
static uint32_t cpuid_apic_id(void)
{
    uint32_t a = 1, b, c = 0, d;

    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return b >> 24;
}

void ap_main(void);

void ap_main(void)
{
    ap_lapic_id = lapic_rd(LAPIC_ID) >> 24;
    ap_cpuid_id = cpuid_apic_id();
    __atomic_fetch_add(&ap_count, 1, __ATOMIC_RELEASE); /* lock xadd */
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void send_ipi(uint32_t apic_id, uint32_t icr)
{
    lapic_wr(LAPIC_ICRH, apic_id << 24);
    lapic_wr(LAPIC_ICRL, icr); /* the write to the low half sends */
    while (lapic_rd(LAPIC_ICRL) & ICR_BUSY)
        ;
}

static bool wait_count(uint32_t want, uint64_t cycles)
{
    uint64_t t0 = rdtsc();

    while (__atomic_load_n(&ap_count, __ATOMIC_ACQUIRE) < want)
        if (rdtsc() - t0 > cycles)
            return false;
    return true;
}

/* Copy the trampoline low and point it at our GDT, page tables and C. */
static void tramp_install(void)
{
    uint8_t *t = (uint8_t *)AP_TRAMP;
    uint64_t cr3, entry = (uint64_t)ap_main;
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr;

    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    memcpy(t, ap_tramp, (size_t)(ap_tramp_end - ap_tramp));
    memcpy(t + (ap_tramp_gdtr - ap_tramp), &gdtr.limit, 2);
    memcpy(t + (ap_tramp_gdtr - ap_tramp) + 2, &gdtr.base, 4);
    memcpy(t + (ap_tramp_cr3 - ap_tramp), &cr3, 8);
    memcpy(t + (ap_tramp_entry - ap_tramp), &entry, 8);
}

/* INIT, then SIPI (again if the AP is slow, as the SDM's sequence does). */
static bool start_ap(uint32_t id, uint32_t n)
{
    uint64_t stack = (uint64_t)(ap_stacks[id] + sizeof(ap_stacks[id]));

    memcpy((uint8_t *)AP_TRAMP + (ap_tramp_stack - ap_tramp), &stack, 8);
    send_ipi(id, ICR_INIT);
    for (int i = 0; i < 2; i++) {
        send_ipi(id, ICR_SIPI | (AP_TRAMP >> 12));
        if (wait_count(n, AP_WAIT))
            return true;
    }
    return false;
}

GUEST_TEST(test_smp)
{
    const volatile uint8_t *t = mp_config_table();
    uint32_t bsp, cpus = 0, started = 0;
    uint16_t count, pos = 44;

    if (!t)
        return "no MP table";
    map_mmio_window();
    lapic_wr(LAPIC_SVR, SVR_ENABLE | 0xff);
    bsp = lapic_rd(LAPIC_ID) >> 24;
    tramp_install();
    put_str("smp bsp=");
    put_dec(bsp);
    put_str(" cpuid=");
    put_dec(cpuid_apic_id());
    put_char('\n');
    count = (uint16_t)(t[34] | t[35] << 8);
    for (uint16_t i = 0; i < count; i++, pos += t[pos] == 0 ? 20 : 8) {
        uint32_t id = t[pos + 1];

        if (t[pos] != 0 || !(t[pos + 3] & 1))
            continue; /* not an enabled processor */
        cpus++;
        if (t[pos + 3] & 2) {
            if (id != bsp)
                return "MP table BSP is not this CPU";
            continue;
        }
        if (id >= MAX_CPUS)
            return "APIC id too large for this test";
        if (!start_ap(id, started + 1)) {
            put_str("smp ap=");
            put_dec(id);
            put_str(" did not start\n");
            return "an AP did not start";
        }
        started++;
        put_str("smp ap=");
        put_dec(id);
        put_str(" lapic=");
        put_dec(ap_lapic_id);
        put_str(" cpuid=");
        put_dec(ap_cpuid_id);
        put_char('\n');
        if (ap_lapic_id != id || ap_cpuid_id != id)
            return "an AP's APIC id differs from its MP table entry";
    }
    put_str("smp cpus=");
    put_dec(cpus);
    put_str(" started=");
    put_dec(started);
    put_str(" count=");
    put_dec(__atomic_load_n(&ap_count, __ATOMIC_ACQUIRE));
    put_char('\n');
    return started + 1 == cpus ? NULL : "not every CPU started";
}
