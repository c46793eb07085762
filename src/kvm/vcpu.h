/*
 * vcpu.h: vCPU threads.  Each vCPU runs KVM_RUN on its own thread named
 * krun-vcpuN and handles port-IO and MMIO exits synchronously through the
 * buses.  Any other exit stops that vCPU with a status (0 for an orderly
 * halt/reset/poweroff, 1 for errors) reported through a callback; the VM
 * decides what to do with it.  Kicks use a signal plus immediate_exit.
 */
#ifndef KRUN_KVM_VCPU_H
#define KRUN_KVM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct bus;
struct kvm;
struct kvm_run;

/* Shared by all vCPUs of a VM; must outlive them. */
struct vcpu_env {
    struct bus *pio, *mmio; /* frozen before vcpu_start */
    /* Called once on vCPU (index)'s thread when it stops on its own, with
     * (status) 0 (guest halt/reset/poweroff) or 1 (error). */
    void (*stopped)(void *opaque, unsigned int index, int status);
    void *opaque;
};

struct vcpu {
    unsigned int index;
    int fd;              /* KVM_CREATE_VCPU */
    struct kvm_run *run; /* mmap'd shared run structure */
    int run_size;
    const struct vcpu_env *env;
    pthread_t thread;
    bool started;
    bool stop;          /* atomic: set by vcpu_kick */
    timer_t halt_timer; /* vCPU 0: periodic halt check; owner: its thread */
    bool has_timer;
};

/* Create vCPU (index) on (k) and map its run structure.  Returns 0 or
 * -errno.  Build thread. */
int vcpu_create(struct vcpu *v, struct kvm *k, unsigned int index);

/* Start the vCPU's thread running the KVM_RUN loop with (env).  Returns 0 or
 * -errno.  Build thread. */
int vcpu_start(struct vcpu *v, const struct vcpu_env *env);

/* Ask the vCPU to stop: makes KVM_RUN return and the thread end without
 * calling env->stopped.  Any thread; idempotent. */
void vcpu_kick(struct vcpu *v);

/* Kick, join the thread (if started), unmap and close.  Not on the vCPU's
 * own thread. */
void vcpu_destroy(struct vcpu *v);

#endif /* KRUN_KVM_VCPU_H */
