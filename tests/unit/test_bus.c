/* test_bus.c: registration rules and dispatch of the MMIO/PIO bus. */
#include "bus.h"
#include "t.h"

#include <errno.h>
#include <string.h>

struct dev {
    uint64_t last_off;
    uint32_t last_len;
    int calls;
};

static void dev_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    struct dev *d = opaque;

    d->last_off = off;
    d->last_len = len;
    d->calls++;
    if (!is_write)
        memset(data, 0x5a, len);
}

static void test_register_rules(void)
{
    struct bus b;
    struct dev d = {0};

    bus_init(&b, "test");
    CHECK_EQ(bus_register(&b, 0x1000, 0x100, dev_io, &d), 0);
    CHECK_EQ(bus_register(&b, 0x10ff, 1, dev_io, &d), -EINVAL); /* overlap */
    CHECK_EQ(bus_register(&b, 0xf00, 0x101, dev_io, &d), -EINVAL);
    CHECK_EQ(bus_register(&b, 0x2000, 0, dev_io, &d), -EINVAL);
    CHECK_EQ(bus_register(&b, UINT64_MAX, 2, dev_io, &d), -EINVAL);
    CHECK_EQ(bus_register(&b, 0x2000, 1, NULL, &d), -EINVAL);
    CHECK_EQ(bus_register(&b, UINT64_MAX, 1, dev_io, &d), 0); /* last byte */
    bus_freeze(&b);
    CHECK_EQ(bus_register(&b, 0x3000, 1, dev_io, &d), -EBUSY);
    bus_destroy(&b);
}

static void test_dispatch(void)
{
    struct bus b;
    struct dev d[20];
    uint8_t data[8];

    memset(d, 0, sizeof(d));
    bus_init(&b, "test");
    /* Registered out of order; freeze sorts. */
    for (int i = 19; i >= 0; i--)
        CHECK_EQ(
            bus_register(&b, 0x1000 * (uint64_t)(i + 1), 0x10, dev_io, &d[i]),
            0);
    bus_freeze(&b);
    CHECK_EQ(bus_dispatch(&b, 0x5004, data, 4, false), 0);
    CHECK_EQ(d[4].calls, 1);
    CHECK_EQ(d[4].last_off, 4);
    CHECK_EQ(data[0], 0x5a);
    CHECK_EQ(bus_dispatch(&b, 0x500c, data, 4, true), 0);
    CHECK_EQ(d[4].last_off, 0xc);
    /* Straddling the end, in a hole, below everything, bad sizes. */
    CHECK_EQ(bus_dispatch(&b, 0x500d, data, 4, false), -ENOENT);
    CHECK_EQ(data[0], 0xff);
    CHECK_EQ(bus_dispatch(&b, 0x5010, data, 1, true), -ENOENT);
    CHECK_EQ(bus_dispatch(&b, 0x10, data, 1, true), -ENOENT);
    CHECK_EQ(bus_dispatch(&b, 0x5000, data, 0, false), -ENOENT);
    CHECK_EQ(bus_dispatch(&b, 0x5000, data, 9, true), -ENOENT);
    CHECK_EQ(bus_dispatch(&b, UINT64_MAX, data, 8, false), -ENOENT);
    CHECK_EQ(d[4].calls, 2);
    bus_destroy(&b);
}

static void test_not_frozen_routes_nothing(void)
{
    struct bus b;
    struct dev d = {0};
    uint8_t data[1];

    bus_init(&b, "test");
    bus_register(&b, 0x60, 5, dev_io, &d);
    CHECK_EQ(bus_dispatch(&b, 0x60, data, 1, false), -ENOENT);
    CHECK_EQ(d.calls, 0);
    bus_destroy(&b);
}

int main(void)
{
    RUN(test_register_rules);
    RUN(test_dispatch);
    RUN(test_not_frozen_routes_nothing);
    return t_done();
}
