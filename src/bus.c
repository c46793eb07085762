/* bus.c: sorted, frozen address -> handler table for MMIO and PIO exits. */
#include "bus.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
    memset(bus, 0, sizeof(*bus));
    bus->name = name;
}

static bool ranges_overlap(const struct bus_range *r, uint64_t base,
                           uint64_t last)
{
    return base <= r->base + (r->len - 1) && r->base <= last;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
                 bus_handler_fn *fn, void *opaque)
{
    uint64_t last;

    if (bus->frozen)
        return -EBUSY;
    if (len == 0 || !fn || add_overflow(base, len - 1, &last))
        return -EINVAL;
    for (unsigned int i = 0; i < bus->nr; i++)
        if (ranges_overlap(&bus->ranges[i], base, last))
            return -EINVAL;
    if (bus->nr == bus->cap) {
        unsigned int cap = bus->cap ? bus->cap * 2 : 8;
        struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

        if (!r)
            return -ENOMEM;
        bus->ranges = r;
        bus->cap = cap;
    }
    bus->ranges[bus->nr++] = (struct bus_range){base, len, fn, opaque};
    return 0;
}

static int range_cmp(const void *a, const void *b)
{
    const struct bus_range *x = a, *y = b;

    return x->base < y->base ? -1 : x->base > y->base;
}

void bus_freeze(struct bus *bus)
{
    if (bus->nr)
        qsort(bus->ranges, bus->nr, sizeof(*bus->ranges), range_cmp);
    bus->frozen = true;
}

/* The range with the greatest base <= addr, or NULL. */
static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
    unsigned int lo = 0, hi = bus->nr;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;

        if (bus->ranges[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &bus->ranges[lo - 1] : NULL;
}

int bus_dispatch(const struct bus *bus, uint64_t addr, uint8_t *data,
                 uint32_t len, bool is_write)
{
    const struct bus_range *r = bus->frozen ? bus_find(bus, addr) : NULL;
    uint64_t off = r ? addr - r->base : 0;

    /* The whole access must fit in one device; off + len cannot overflow
     * since off < r->len <= 2^64 - base and len <= 8 is checked first. */
    if (!r || len == 0 || len > 8 || off >= r->len || len > r->len - off) {
        if (!is_write)
            memset(data, 0xff, MIN(len, 8u));
        return -ENOENT;
    }
    r->fn(r->opaque, off, data, len, is_write);
    return 0;
}

void bus_destroy(struct bus *bus)
{
    free(bus->ranges);
    bus->ranges = NULL;
    bus->nr = bus->cap = 0;
}
