/*
 * util.h: small helpers shared by the whole library: container_of, ARRAY_SIZE,
 * MIN/MAX, alignment, overflow-checked arithmetic and single-copy accesses to
 * memory another party (a guest, another thread) may change concurrently.
 */
#ifndef KRUN_UTIL_H
#define KRUN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KRUN_API __attribute__((visibility("default")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member)                                        \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Round (x) up / down to a multiple of (a), a power of two. */
#define ALIGN_UP(x, a)   (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define IS_POW2(x)       ((x) != 0 && ((x) & ((x)-1)) == 0)

/* *res = a + b / a * b; true if the result overflowed (*res is then unusable).
 */
#define add_overflow(a, b, res) __builtin_add_overflow(a, b, res)
#define mul_overflow(a, b, res) __builtin_mul_overflow(a, b, res)

/* One load/store the compiler may not tear, merge or repeat. */
#define READ_ONCE(x)     (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#endif /* KRUN_UTIL_H */
