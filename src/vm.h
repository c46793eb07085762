/*
 * vm.h: build and run one VM from a recorded configuration.  The only way
 * from the API layer (src/api/) into the VMM.
 */
#ifndef KRUN_VM_H
#define KRUN_VM_H

struct vm_config;

/*
 * Build the VM described by (cfg) and run it on the calling thread.  Called
 * by krun_start_enter() after it removed the context from the table and, when
 * no kernel or firmware was configured, checked that libkrunfw is loaded
 * (fwlib.h).  On success it does not return: the process _exit()s with the
 * guest workload's status.  On failure it returns a negative errno (-EINVAL
 * for a VM that cannot be built, -errno of setgid/setuid) and leaves (cfg)
 * owned by the caller, which frees it; vm_start() may have moved fields out
 * of (cfg) (setting them to NULL/0) but never leaves dangling pointers.
 */
int vm_start(struct vm_config *cfg);

#endif /* KRUN_VM_H */
