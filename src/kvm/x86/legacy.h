/*
 * legacy.h: the PC devices a kernel expects on the port-IO bus
 * (libkrun-behaviour.md §3.8): i8042 (only the 0xFE reset command matters),
 * four 16550 UARTs (COM1-4, each optionally a serial console on host fds,
 * otherwise a sink) and the CMOS memory-size registers.
 */
#ifndef KRUN_KVM_X86_LEGACY_H
#define KRUN_KVM_X86_LEGACY_H

#include <stddef.h>
#include <stdint.h>

struct bus;
struct evloop;
struct kvm;
struct legacy;

struct legacy_cfg {
    int com_in[4];     /* COM1-4 input fds, -1 for none; owned */
    int com_out[4];    /* COM1-4 output fds, -1 for a sink; owned */
    uint64_t low_end;  /* exclusive end of RAM below the MMIO gap */
    uint64_t high_end; /* exclusive end of RAM above 4 GiB, 0 if none */
    /* Called on a vCPU thread when the guest asks for a CPU reset. */
    void (*reset)(void *opaque);
    void *opaque;
};

/*
 * Create the devices, register them on (pio), and watch the UARTs' input
 * fds on (loop).  Takes ownership of the fds (closed by legacy_destroy, or on
 * failure here).  Input fds that are ttys are put in raw mode
 * (term.h; term_restore_all() undoes it).  Returns 0 or -errno.  Build thread.
 */
int legacy_create(struct legacy **out, struct kvm *kvm, struct bus *pio,
                  struct evloop *loop, const struct legacy_cfg *cfg);

/*
 * The VM is over: write out what the UARTs still hold for their output fds
 * (the guest's bytes the host fd was too full to take), waiting while an fd
 * is full; gives up on a UART at a write error or after (stall_ms) without
 * progress (drain.h), logging how many bytes it dropped.  Returns the
 * number dropped.  VMM loop thread (vm.c's exit path), vCPUs stopped.
 */
size_t legacy_drain(struct legacy *lg, int stall_ms);

/* Stop watching input, close the fds and free. */
void legacy_destroy(struct legacy *lg);

/* The CMOS memory-size register (reg, 0..127) for the RAM in (cfg).
 * Exposed for unit tests. */
uint8_t legacy_cmos_mem_reg(const struct legacy_cfg *cfg, uint8_t reg);

#endif /* KRUN_KVM_X86_LEGACY_H */
