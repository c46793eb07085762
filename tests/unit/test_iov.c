/*
 * test_iov.c: the iovec cursor: partial and all-or-nothing operations across
 * segment boundaries, zero-length entries, truncation, slices, totals that
 * overflow size_t, and every way of running past the end.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "iov.h"
#include "t.h"

static char a[5], b[0], c[7];
static struct iovec segs[] = {
    {a, sizeof(a)},
    {b, sizeof(b)}, /* zero-length entries are skipped */
    {c, sizeof(c)},
};

/* Fill segs with "hello world!" and start (it) over them. */
static void hello_world(struct iov_iter *it)
{
    memcpy(a, "hello", 5);
    memcpy(c, " world!", 7);
    iov_iter_init(it, segs, 3);
}

static void test_read_across(void)
{
    struct iov_iter it;
    char out[16];

    hello_world(&it);
    CHECK_EQ(iov_remaining(&it), 12);
    CHECK_EQ(iov_read(&it, out, 3), 3);
    CHECK_EQ(iov_read(&it, out + 3, 6), 6);
    CHECK(memcmp(out, "hello wor", 9) == 0);
    CHECK_EQ(iov_remaining(&it), 3);
    CHECK_EQ(iov_read(&it, out, sizeof(out)), 3); /* short at the end */
    CHECK(memcmp(out, "ld!", 3) == 0);
    CHECK_EQ(iov_read(&it, out, 1), 0);
    CHECK_EQ(iov_remaining(&it), 0);
}

static void test_write_skip_peek(void)
{
    struct iov_iter it;
    void *p;

    memset(a, 0, sizeof(a));
    memset(c, 0, sizeof(c));
    iov_iter_init(&it, segs, 3);
    CHECK_EQ(iov_skip(&it, 4), 4);
    CHECK_EQ(iov_peek(&it, &p, 100), 1);
    CHECK(p == a + 4);
    CHECK_EQ(iov_write(&it, "XYZ", 3), 3);
    CHECK(a[4] == 'X' && c[0] == 'Y' && c[1] == 'Z');
    CHECK_EQ(iov_peek(&it, &p, 2), 2);
    CHECK(p == c + 2);
    CHECK_EQ(iov_skip(&it, 100), 5);
    CHECK_EQ(iov_write(&it, "Q", 1), 0);
    CHECK_EQ(iov_peek(&it, &p, 1), 0);
    CHECK(p == NULL);
}

static void test_empty(void)
{
    struct iov_iter it;
    char x;

    iov_iter_init(&it, NULL, 0);
    CHECK_EQ(iov_remaining(&it), 0);
    CHECK_EQ(iov_read(&it, &x, 1), 0);
    CHECK_EQ(iov_skip(&it, 1), 0);
    iov_iter_init(&it, &segs[1], 1); /* only a zero-length segment */
    CHECK_EQ(iov_write(&it, "x", 1), 0);
}

/* The all-or-nothing variants: whole or nothing, position kept on failure. */
static void test_all_or_nothing(void)
{
    struct iov_iter it;
    char out[16];

    hello_world(&it);
    CHECK_EQ(iov_read_all(&it, out, 4), 0);
    CHECK(memcmp(out, "hell", 4) == 0);
    CHECK_EQ(iov_skip_all(&it, 2), 0); /* "o " across the empty entry */
    memset(out, '-', sizeof(out));
    CHECK_EQ(iov_read_all(&it, out, 7), -EINVAL); /* 6 left */
    CHECK(out[0] == '-');                         /* nothing copied */
    CHECK_EQ(iov_remaining(&it), 6);              /* position kept */
    CHECK_EQ(iov_skip_all(&it, 7), -EINVAL);
    CHECK_EQ(iov_remaining(&it), 6);
    CHECK_EQ(iov_write_all(&it, "ABCDEFG", 7), -ENOSPC);
    CHECK(memcmp(c, " world!", 7) == 0); /* nothing written */
    CHECK_EQ(iov_write_all(&it, "ABCDEF", 6), 0);
    CHECK(memcmp(c, " ABCDEF", 7) == 0);
    CHECK_EQ(iov_remaining(&it), 0);
    CHECK_EQ(iov_read_all(&it, out, 0), 0); /* zero bytes always fit */
    CHECK_EQ(iov_write_all(&it, "x", 1), -ENOSPC);
    CHECK_EQ(iov_read_all(&it, out, SIZE_MAX), -EINVAL);
    CHECK_EQ(iov_skip_all(&it, SIZE_MAX), -EINVAL);
}

/* A copy of a cursor is an independent cursor at the same position. */
static void test_copy_is_independent(void)
{
    struct iov_iter it, copy;
    char x;

    memcpy(a, "hello", 5);
    iov_iter_init(&it, segs, 3);
    iov_skip(&it, 1);
    copy = it;
    CHECK_EQ(iov_skip(&copy, 5), 5);
    CHECK_EQ(iov_remaining(&it), 11);
    CHECK_EQ(iov_read(&it, &x, 1), 1);
    CHECK(x == 'e');
}

static void test_truncate(void)
{
    struct iov_iter it;
    char out[16];
    void *p;

    hello_world(&it);
    iov_truncate(&it, 100); /* larger: no change */
    CHECK_EQ(iov_remaining(&it), 12);
    iov_skip(&it, 3);
    iov_truncate(&it, 4); /* "lo w" */
    CHECK_EQ(iov_remaining(&it), 4);
    CHECK_EQ(iov_read_all(&it, out, 5), -EINVAL);
    CHECK_EQ(iov_read(&it, out, sizeof(out)), 4); /* stops at the new end */
    CHECK(memcmp(out, "lo w", 4) == 0);
    CHECK_EQ(iov_peek(&it, &p, 100), 0);
    CHECK(p == NULL);
    CHECK_EQ(iov_write(&it, "Z", 1), 0); /* bytes past the end untouched */
    CHECK(c[2] == 'o');
    CHECK_EQ(iov_skip(&it, 1), 0);

    iov_iter_init(&it, segs, 3);
    iov_truncate(&it, 3);
    CHECK_EQ(iov_peek(&it, &p, 100), 3); /* peek stops at the end too */
    CHECK(p == a);
    iov_truncate(&it, 0);
    CHECK_EQ(iov_peek(&it, &p, 100), 0);
}

static void test_slice(void)
{
    static char d[3], e[0];
    const struct iovec v[] = {{e, 0}, {a, 5}, {b, 0}, {c, 7}, {d, 3}, {e, 0}};
    struct iovec out[4];
    struct iov_iter it;

    iov_iter_init(&it, v, 6);
    iov_skip(&it, 2);
    CHECK_EQ(iov_slice(&it, 8, out, 4), 2); /* empty entries never appear */
    CHECK(out[0].iov_base == a + 2 && out[0].iov_len == 3);
    CHECK(out[1].iov_base == c && out[1].iov_len == 5);
    CHECK_EQ(iov_remaining(&it), 13);              /* not advanced */
    CHECK_EQ(iov_slice(&it, SIZE_MAX, out, 4), 3); /* capped at remaining */
    CHECK(out[2].iov_base == d && out[2].iov_len == 3);
    CHECK_EQ(iov_slice(&it, SIZE_MAX, out, 1), 1); /* out of room: fewer */
    CHECK(out[0].iov_len == 3);
    CHECK_EQ(iov_slice(&it, 0, out, 4), 0);
    iov_truncate(&it, 4);
    CHECK_EQ(iov_slice(&it, 100, out, 4), 2); /* capped by the truncation */
    CHECK(out[1].iov_base == c && out[1].iov_len == 1);
    iov_skip(&it, 4);
    CHECK_EQ(iov_slice(&it, 100, out, 4), 0);
}

static void test_copy_to(void)
{
    static char d[3];
    const struct iovec v[] = {{a, 5}, {b, 0}, {d, 3}};

    memset(a, 0, sizeof(a));
    memset(d, 0, sizeof(d));
    CHECK_EQ(iov_copy_to(v, 3, "abcdef", 6), 6);
    CHECK(memcmp(a, "abcde", 5) == 0 && d[0] == 'f' && d[1] == 0);
    CHECK_EQ(iov_copy_to(v, 3, "0123456789", 10), 8); /* dst total */
    CHECK(memcmp(d, "567", 3) == 0);
    CHECK_EQ(iov_copy_to(v, 0, "x", 1), 0);
    CHECK_EQ(iov_copy_to(&v[1], 1, "x", 1), 0);
}

/*
 * Lengths the guest or a caller could make add up past SIZE_MAX: the total
 * saturates, and nothing is ever touched beyond what is read or written.
 */
static void test_size_max_totals(void)
{
    const size_t half = SIZE_MAX / 2 + 1;
    const struct iovec v[] = {{a, half}, {c, half}, {b, 0}};
    struct iovec out[4];
    struct iov_iter it;
    char out4[4];

    memcpy(c, " world!", 7);
    iov_iter_init(&it, v, 3);
    CHECK(iov_remaining(&it) == SIZE_MAX);
    CHECK_EQ(iov_slice(&it, SIZE_MAX, out, 4), 2);
    CHECK(out[0].iov_len == half && out[1].iov_len == SIZE_MAX - half);
    CHECK(iov_skip(&it, half) == half); /* skipping touches nothing */
    CHECK(iov_remaining(&it) == SIZE_MAX - half);
    CHECK_EQ(iov_read_all(&it, out4, 4), 0);
    CHECK(memcmp(out4, " wor", 4) == 0);
    CHECK_EQ(iov_skip_all(&it, SIZE_MAX), -EINVAL);
    CHECK(iov_skip(&it, SIZE_MAX) == SIZE_MAX - half - 4);
    CHECK_EQ(iov_remaining(&it), 0);
    CHECK_EQ(iov_read(&it, out4, 1), 0);

    const struct iovec w[] = {{a, SIZE_MAX}, {c, 7}};

    iov_iter_init(&it, w, 2);
    CHECK(iov_remaining(&it) == SIZE_MAX);
    CHECK_EQ(iov_write_all(&it, "abc", 3), 0);
    CHECK(memcmp(a, "abc", 3) == 0);
    CHECK(iov_remaining(&it) == SIZE_MAX - 3);
}

int main(void)
{
    RUN(test_read_across);
    RUN(test_write_skip_peek);
    RUN(test_empty);
    RUN(test_all_or_nothing);
    RUN(test_copy_is_independent);
    RUN(test_truncate);
    RUN(test_slice);
    RUN(test_copy_to);
    RUN(test_size_max_totals);
    return t_done();
}
