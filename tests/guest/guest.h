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

/* End the VM through the i8042 reset line, as Linux does with reboot=k. */
__attribute__((noreturn)) void guest_reset(void);

#endif /* KRUN_TESTS_GUEST_H */
