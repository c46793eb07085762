/*
 * pattern.h: the test data the host and the test guest agree on (the
 * guest's copy is in tests/guest/guest.h and lib.c): byte (i) of the
 * pattern, and the guest's cheap checksum (Fletcher-style sums of
 * little-endian 64-bit words, the tail padded with zeros).
 */
#ifndef KRUN_TESTS_KVM_PATTERN_H
#define KRUN_TESTS_KVM_PATTERN_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static inline uint8_t pattern_byte(uint64_t i)
{
    return (uint8_t)((i * 131) ^ (i >> 9));
}

/* Fill (buf) with (n) pattern bytes starting at stream offset (off). */
static inline void pattern_fill(uint8_t *buf, size_t n, uint64_t off)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern_byte(off + i);
}

/* The guest's "bytes=N sum=0xA/0xB" for the (len) bytes at (p). */
static inline void csum_line(const uint8_t *p, size_t len, char *out,
                             size_t size)
{
    uint64_t a = 0, b = 0;

    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = 0;

        for (size_t k = 0; k < 8 && i + k < len; k++)
            w |= (uint64_t)p[i + k] << (8 * k);
        a += w;
        b += a;
    }
    snprintf(out, size, "bytes=%zu sum=0x%" PRIx64 "/0x%" PRIx64, len, a, b);
}

/*
 * The guest's console output stream (tests/guest/console_tests.c): chains
 * of an 8-byte le64 sequence number and OUT_REPEAT copies of the first
 * OUT_BLOCK pattern bytes.  The byte at stream offset (pos):
 */
#define OUT_BLOCK  16384
#define OUT_REPEAT 3
#define OUT_CHAIN  (8 + OUT_REPEAT * OUT_BLOCK)

static inline uint8_t out_stream_byte(uint64_t pos)
{
    uint64_t chain = pos / OUT_CHAIN, off = pos % OUT_CHAIN;

    if (off < 8)
        return (uint8_t)(chain >> (8 * off));
    return pattern_byte((off - 8) % OUT_BLOCK);
}

#endif /* KRUN_TESTS_KVM_PATTERN_H */
