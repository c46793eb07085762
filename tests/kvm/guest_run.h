/*
 * guest_run.h: boot the test guest (tests/guest) through the public API in a
 * forked child, the way any libkrun client would, and collect its serial
 * output, log output and exit status.
 */
#ifndef KRUN_TESTS_KVM_GUEST_RUN_H
#define KRUN_TESTS_KVM_GUEST_RUN_H

#include <stdbool.h>
#include <stddef.h>

struct guest_result {
    char serial[8192]; /* COM1 output, NUL-terminated (truncated) */
    char log[8192];    /* the child's stderr (library log) */
    int status;        /* exit status, or -1 if killed/timed out */
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
};

/* Skip the whole program (exit 77) if /dev/kvm cannot be used. */
void guest_require_kvm(void);

/* Run one VM; returns 0 if it could be run (see res for the outcome). */
int guest_run(const struct guest_opts *o, struct guest_result *res);

/* The test guest's path (GUEST_ELF from the build). */
const char *guest_elf(void);

#endif /* KRUN_TESTS_KVM_GUEST_RUN_H */
