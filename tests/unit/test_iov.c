/* test_iov.c: the buffer cursor, across segment boundaries. */
#include <string.h>

#include "t.h"
#include "virtio/iov.h"

static char a[5], b[0], c[7];
static struct iovec segs[] = {
    {a, sizeof(a)},
    {b, sizeof(b)}, /* zero-length entries are skipped */
    {c, sizeof(c)},
};

static void test_read_across(void)
{
    struct iov_iter it;
    char out[16];

    memcpy(a, "hello", 5);
    memcpy(c, " world!", 7);
    iov_iter_init(&it, segs, 3);
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

int main(void)
{
    RUN(test_read_across);
    RUN(test_write_skip_peek);
    RUN(test_empty);
    return t_done();
}
