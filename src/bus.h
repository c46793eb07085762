/*
 * bus.h: guest address -> device handler lookup for vCPU MMIO and port-IO
 * exits.  Devices register before the vCPUs start; bus_freeze() sorts the
 * table and from then on lookups need no lock (the table never changes).
 */
#ifndef KRUN_BUS_H
#define KRUN_BUS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A device's access handler: (offset) is relative to the registered base,
 * (data) holds (len) bytes (1..8) to write, or receives them on a read.
 * Called on a vCPU thread; the handler does its own locking.
 */
typedef void bus_handler_fn(void *opaque, uint64_t offset, uint8_t *data,
                            uint32_t len, bool is_write);

struct bus_range {
    uint64_t base;
    uint64_t len;
    bus_handler_fn *fn;
    void *opaque;
};

struct bus {
    const char *name;         /* "mmio" or "pio", for logs */
    struct bus_range *ranges; /* sorted by base once frozen */
    unsigned int nr, cap;
    bool frozen;
};

/* Initialise an empty bus called (name). */
void bus_init(struct bus *bus, const char *name);

/*
 * Add [base, base+len) -> (fn, opaque).  Returns 0, -EINVAL for an empty,
 * overflowing or overlapping range, -EBUSY once frozen, -ENOMEM.
 * Build thread only.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
                 bus_handler_fn *fn, void *opaque);

/* Sort the table and forbid further registration.  Build thread only. */
void bus_freeze(struct bus *bus);

/*
 * Route one access to the device covering [addr, addr+len).  Returns 0, or
 * -ENOENT if no single device covers it (reads then return all-ones bytes).
 * Any thread, after bus_freeze().
 */
int bus_dispatch(const struct bus *bus, uint64_t addr, uint8_t *data,
                 uint32_t len, bool is_write);

/* Free the table. */
void bus_destroy(struct bus *bus);

#endif /* KRUN_BUS_H */
