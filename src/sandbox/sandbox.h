/*
 * sandbox.h: seccomp-bpf allow-lists for the VMM's threads, one per thread
 * role (sandbox.c holds the tables).  Upstream libkrun has none.
 *
 * krun_start_enter builds one BPF program per role (sandbox_prepare) before
 * it starts any thread; each thread then loads its role's program itself
 * when its set-up is done and it starts serving (sandbox_enter): the vCPUs
 * before their first KVM_RUN, the virtio-fs loop and workers and the
 * virtio-blk workers and the virtio-net loop when they start, the caller's
 * thread (the VMM loop)
 * last, as the final build step.  Filters are per thread (no TSYNC), each
 * thread sets PR_SET_NO_NEW_PRIVS for itself, so they stack on whatever
 * filter the process already runs under (podman's default profile with
 * NoNewPrivs), and krun_setuid/krun_setgid (build step 1) run before any.
 *
 * A syscall outside the thread's list traps (SECCOMP_RET_TRAP): the SIGSYS
 * handler logs "seccomp: <role> thread <name> made forbidden syscall
 * <nr> (<name>)", restores the terminal and _exits with SANDBOX_EXIT_STATUS.
 * A syscall of another ABI (i386 int 0x80, x32) kills the process at once.
 *
 * KRUN_SECCOMP=0 in the environment disables the filters (debugging: strace
 * -f, ASan reports, a syscall a new code path needs); KRUN_SECCOMP=log
 * installs them with SECCOMP_RET_LOG instead of the trap (the kernel's audit
 * log names what would have been refused; the VM keeps running).
 *
 * A new thread role (vsock workers): add an enum value, its table
 * in sandbox.c and a line in roles[]; the thread calls
 * sandbox_enter(role) once its set-up is done.
 */
#ifndef KRUN_SANDBOX_SANDBOX_H
#define KRUN_SANDBOX_SANDBOX_H

enum sandbox_role {
    SANDBOX_VMM_LOOP,   /* the caller of krun_start_enter: the VMM loop */
    SANDBOX_VCPU,       /* krun-vcpuN */
    SANDBOX_FS_LOOP,    /* krun-fs: a virtio-fs device's queue loop */
    SANDBOX_FS_WORKER,  /* krun-fsw: FUSE requests on the passthrough */
    SANDBOX_BLK_WORKER, /* krun-blk: virtio-blk requests on a disk image */
    SANDBOX_NET_LOOP,   /* krun-net: virtio-net frames to/from the backend */
    SANDBOX_NR_ROLES,
};

/* What a forbidden syscall ends the VM with: 128 + SIGSYS, what a shell
 * reports for a process killed by SIGSYS. */
#define SANDBOX_EXIT_STATUS 159

/*
 * Read KRUN_SECCOMP, build every role's program and install the SIGSYS
 * handler.  Returns 0 (also when disabled) or -errno (libseccomp or the
 * kernel refused; logged).  Build thread, before any library thread starts.
 */
int sandbox_prepare(void);

/*
 * Load (role)'s filter on the calling thread.  A no-op returning 0 when
 * sandbox_prepare() did not run or KRUN_SECCOMP=0 (unit tests, fuzzers).
 * Returns 0 or -errno (logged).  A library thread that cannot load its filter
 * must not serve the guest: the callers end the process (fail closed).
 */
int sandbox_enter(enum sandbox_role role);

/* sandbox_enter() for a library thread that must not run unfiltered: on
 * failure (logged) the process ends with status 1 (fail closed). */
void sandbox_enter_thread(enum sandbox_role role);

/* Undo sandbox_prepare() when the VM does not start after all (the SIGSYS
 * disposition comes back; threads that entered keep their filters). */
void sandbox_undo(void);

/* "vCPU", "VMM loop", ... for logs and tests. */
const char *sandbox_role_name(enum sandbox_role role);

/* How many syscalls (role)'s list allows (each counted once, whatever
 * argument rules it has). */
unsigned int sandbox_allowed(enum sandbox_role role);

#endif /* KRUN_SANDBOX_SANDBOX_H */
