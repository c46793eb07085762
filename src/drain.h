/*
 * drain.h: writing out, when the VM ends, what a device still holds for a
 * host fd (vm.c's exit path: console ports and serial consoles).  The fds
 * are non-blocking (the devices share them with the VMM loop), so a full fd
 * is waited for with poll().  A write gives up only on a write error
 * (EPIPE, EIO, ...) or when the fd took nothing for DRAIN_STALL_MS.
 */
#ifndef KRUN_DRAIN_H
#define KRUN_DRAIN_H

#include <stddef.h>

/*
 * How long the exit path waits for an output fd that accepts nothing (a
 * reader that stopped reading but did not close), per fd: 10 s.  A slow
 * reader that keeps reading is waited for as long as it takes.  Documented
 * in docs/ARCHITECTURE.md ("Exit path") and ckrun(1).
 */
#define DRAIN_STALL_MS 10000

struct drain {
    int stall_ms; /* give up after this long without progress */
    int err;      /* 0, or the errno that stopped writing (ETIMEDOUT) */
};

/*
 * Write (len) bytes of (buf) to (fd), waiting in poll() while it is full.
 * Returns the number of bytes written: (len), unless a write error or
 * (d->stall_ms) without progress (ETIMEDOUT) set (d->err); once d->err is
 * set, nothing more is written.  Any thread; blocks.
 */
size_t drain_write(struct drain *d, int fd, const void *buf, size_t len);

/*
 * Log that (dropped) bytes of (who)'s output ("console port 1", ...) were
 * lost at exit and why (d->err): an error after a stall (the reader may have
 * wanted them), a warning after a write error (EPIPE: it did not).  Nothing
 * if (dropped) is 0.
 */
void drain_report(const struct drain *d, const char *who, size_t dropped);

#endif /* KRUN_DRAIN_H */
