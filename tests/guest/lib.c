/* lib.c: the test guest's runtime: COM1 output, string helpers, reset. */
#include "guest.h"

#define COM1     0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20

void put_char(char c)
{
    while (!(inb(COM1_LSR) & LSR_THRE))
        ;
    outb(COM1, (uint8_t)c);
}

void put_str(const char *s)
{
    while (*s)
        put_char(*s++);
}

void put_dec(uint64_t v)
{
    char buf[21];
    int i = 0;

    do {
        buf[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        put_char(buf[--i]);
}

void put_hex(uint64_t v)
{
    put_str("0x");
    for (int shift = 60; shift >= 0; shift -= 4) {
        unsigned d = (v >> shift) & 0xf;

        if (d || shift == 0 || (v >> shift))
            put_char((char)(d < 10 ? '0' + d : 'a' + d - 10));
    }
}

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;

    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;

    while (n--)
        *p++ = *q++;
    return d;
}

size_t str_len(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

int str_ncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return (uint8_t)a[i] - (uint8_t)b[i];
        if (!a[i])
            return 0;
    }
    return 0;
}

void guest_reset(void)
{
    outb(0x64, 0xfe);
    for (;;)
        __asm__ volatile("hlt");
}
