/*
 * guest.h: the test guest's tiny runtime: port I/O, COM1 output and a few
 * string helpers.  Freestanding, integer instructions only.
 */
#ifndef KRUN_TESTS_GUEST_H
#define KRUN_TESTS_GUEST_H

#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

/* COM1 output. */
void put_char(char c);
void put_str(const char *s);
void put_dec(uint64_t v);
void put_hex(uint64_t v);

/* Byte helpers (the compiler may also call memset/memcpy itself). */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t str_len(const char *s);
int str_ncmp(const char *a, const char *b, size_t n);

/* Command line: the value of "key=" after (p) is copied into (val); returns
 * where to continue the search, or NULL when there is no further match. */
const char *cmdline_next(const char *p, const char *key, char *val,
                         size_t size);
/* The first value of "key=" in (c), copied into (buf); NULL if absent. */
const char *cmdline_arg(const char *c, const char *key, char *buf, size_t size);
/* Parse an unsigned number in (base) 10 or 16 at *p; advance *p. */
uint64_t parse_num(const char **p, unsigned base);
/* cmdline_arg parsed as a decimal number, or (dflt) if absent. */
uint64_t cmdline_num(const char *c, const char *key, uint64_t dflt);

/*
 * The test data both sides agree on (tests/kvm/pattern.h has the host's
 * copy).  This guest runs slowly under an emulating KVM (about 0.5 us per
 * instruction), so per-byte work is kept to a minimum: the checksum adds
 * little-endian 64-bit words, Fletcher style, padding the tail with zeros.
 */
static inline uint8_t pattern_byte(uint64_t i)
{
    return (uint8_t)((i * 131) ^ (i >> 9));
}

struct csum {
    uint64_t a, b; /* a = sum of words, b = sum of the running a */
    uint64_t word; /* bytes of the unfinished word */
    uint64_t len;  /* bytes added */
};

void csum_add(struct csum *s, const uint8_t *p, size_t n);
/* Flush the unfinished word; print "bytes=N sum=0xA/0xB". */
void csum_put(struct csum *s);

/* Map [3 GiB, 4 GiB) uncached (virtio-mmio windows, IOAPIC, LAPIC): the boot
 * page tables cover only the first GiB.  Idempotent; virtio.c. */
void map_mmio_window(void);

/* End the VM through the i8042 reset line, as Linux does with reboot=k. */
__attribute__((noreturn)) void guest_reset(void);

#endif /* KRUN_TESTS_GUEST_H */
