/*
 * exitcode.h: run the workload as PID 1's child, reap orphans, and hand its
 * exit code to the host (libkrun-behaviour.md §3.9, §4.2 step 16, §4.6).
 */
#ifndef KRUN_INIT_EXITCODE_H
#define KRUN_INIT_EXITCODE_H

#include "config.h"

#define EXIT_SETUP_FAILED 125 /* init could not fork or set up stdio */
#define EXIT_CANNOT_EXEC  126 /* the program exists but exec failed */
#define EXIT_NOT_FOUND    127 /* the program does not exist */

#define FUSE_SUPER_MAGIC_    0x65735546 /* statfs f_type of fuse/virtio-fs */
#define KRUN_EXIT_CODE_IOCTL 0x7602     /* _IO('v', 2): arg = the exit code */

/* The code for a waitpid() status: the exit status, or 128 + signal. */
int exit_code_from_status(int wstatus);

/* The code a failed execvp() exits with: 127 for ENOENT, else 126. */
int exit_code_from_exec_errno(int err);

/*
 * Fork; in the child redirect stdio to the krun-* ports, install the
 * environment and execvp (cfg->argv); in the parent reap every child until
 * the workload ends. Returns its exit code (125 if fork failed).
 */
int exitcode_run_workload(const struct init_config *cfg);

/* Exec (cfg->argv) in place (KRUN_INIT_PID1). Returns only on failure. */
int exitcode_exec_pid1(const struct init_config *cfg);

/*
 * Before switching to a block-device root: keep an fd on the virtio-fs root
 * (if "/" is one), so that the exit code still reaches the host.
 */
void exitcode_keep_root(void);

/*
 * Store (code) as the VM's exit status through the virtio-fs root's ioctl
 * (nothing happens if "/" is not virtio-fs), sync and reboot. If reboot
 * returns (not PID 1 of the initial namespace) exit with (code).
 */
__attribute__((noreturn)) void exitcode_report_and_reboot(int code);

#endif /* KRUN_INIT_EXITCODE_H */
