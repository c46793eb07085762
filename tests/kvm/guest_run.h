/*
 * guest_run.h: boot the test guest (tests/guest) through the public API in a
 * forked child, the way any libkrun client would, and collect its serial
 * output, log output and exit status.
 */
#ifndef KRUN_TESTS_KVM_GUEST_RUN_H
#define KRUN_TESTS_KVM_GUEST_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_result {
    char serial[8192]; /* COM1 output, NUL-terminated (truncated) */
    char log[8192];    /* the child's stderr (library log) */
    int status;        /* exit status, or -1 if killed/timed out */
    int signal;        /* the signal that killed it, else 0 */
    bool timed_out;
    int start_rc; /* krun_* error seen by the child, else 0 */
};

struct guest_opts {
    const char *kernel; /* default: the test guest ELF */
    const char *cmdline;
    unsigned int vcpus;    /* default 1 */
    unsigned int ram_mib;  /* default 64 */
    int timeout_ms;        /* default 20000 */
    bool implicit_console; /* keep the implicit virtio console (stdio) */
    /* In the child, after the serial console and before krun_start_enter:
     * add devices to (ctx); returns 0 or a krun_* error.  NULL: none. */
    int (*setup)(uint32_t ctx, void *arg);
    /* In the parent right after fork (e.g. close the child's pipe ends). */
    void (*forked)(void *arg);
    void *arg;
};

/* The pid of the VM guest_run() forked last (valid in o->forked and until
 * guest_run() returns; it is reaped then). */
int guest_pid(void);

/* Skip the whole program (exit 77) if /dev/kvm cannot be used. */
void guest_require_kvm(void);

/* Run one VM; returns 0 if it could be run (see res for the outcome). */
int guest_run(const struct guest_opts *o, struct guest_result *res);

/* The test guest's path (GUEST_ELF from the build). */
const char *guest_elf(void);

#endif /* KRUN_TESTS_KVM_GUEST_RUN_H */
