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

uint64_t parse_num(const char **p, unsigned base)
{
    uint64_t v = 0;

    for (;; (*p)++) {
        char c = **p;
        unsigned d;

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return v;
        v = v * base + d;
    }
}

const char *cmdline_next(const char *p, const char *key, char *val, size_t size)
{
    size_t klen = str_len(key);

    for (const char *s = p; *s; s++) {
        if ((s == p || s[-1] == ' ') && str_ncmp(s, key, klen) == 0) {
            size_t n = 0;

            s += klen;
            while (s[n] && s[n] != ' ' && n + 1 < size) {
                val[n] = s[n];
                n++;
            }
            val[n] = 0;
            return s + n;
        }
    }
    return NULL;
}

const char *cmdline_arg(const char *c, const char *key, char *buf, size_t size)
{
    return cmdline_next(c, key, buf, size) ? buf : NULL;
}

uint64_t cmdline_num(const char *c, const char *key, uint64_t dflt)
{
    char buf[24];
    const char *p = buf;

    return cmdline_arg(c, key, buf, sizeof(buf)) ? parse_num(&p, 10) : dflt;
}

static void csum_word(struct csum *s, uint64_t w)
{
    s->a += w;
    s->b += s->a;
}

void csum_add(struct csum *s, const uint8_t *p, size_t n)
{
    while (n && (s->len & 7)) { /* finish the pending word */
        s->word |= (uint64_t)*p++ << (8 * (s->len & 7));
        n--;
        if ((++s->len & 7) == 0) {
            csum_word(s, s->word);
            s->word = 0;
        }
    }
    for (; n >= 8; n -= 8, p += 8, s->len += 8) {
        uint64_t w;

        __builtin_memcpy(&w, p, 8); /* unaligned load, x86 allows it */
        csum_word(s, w);
    }
    for (; n; n--, s->len++)
        s->word |= (uint64_t)*p++ << (8 * (s->len & 7));
}

void csum_put(struct csum *s)
{
    if (s->len & 7) {
        csum_word(s, s->word);
        s->word = 0;
    }
    put_str("bytes=");
    put_dec(s->len);
    put_str(" sum=");
    put_hex(s->a);
    put_char('/');
    put_hex(s->b);
}
