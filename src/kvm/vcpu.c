/* vcpu.c: one thread per vCPU, the KVM_RUN loop and its exit switch. */
#define LOG_TAG "vcpu"
#include "kvm/vcpu.h"
#include "bus.h"
#include "kvm/kvm.h"
#include "log.h"
#include "sandbox/sandbox.h"
#include "sandbox/thread.h"
#include "util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* What one exit means for the loop. */
enum { VCPU_CONTINUE = -1, VCPU_STOP_OK = 0, VCPU_STOP_ERROR = 1 };

#define VCPU_KICK_SIGNAL (SIGRTMIN + 0)
/* How often vCPU 0 checks for a halt that nothing can end (see below). */
#define VCPU_HALT_CHECK_NS 250000000L
#define RFLAGS_IF          (1ull << 9)

static void vcpu_kick_handler(int sig)
{
    (void)sig; /* only there to interrupt KVM_RUN with EINTR */
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;
static const char *host_hint; /* kvm_host_hint(), set once */

static void vcpu_install_kick_handler(void)
{
    struct sigaction sa = {.sa_handler = vcpu_kick_handler};

    host_hint = kvm_host_hint("/sys/module");

    sigemptyset(&sa.sa_mask);
    sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

int vcpu_create(struct vcpu *v, struct kvm *k, unsigned int index)
{
    int rc;

    memset(v, 0, sizeof(*v));
    v->index = index;
    v->fd = ioctl(k->vmfd, KVM_CREATE_VCPU, (unsigned long)index);
    if (v->fd < 0) {
        rc = -errno;
        log_error("KVM_CREATE_VCPU %u: %s", index, strerror(errno));
        return rc;
    }
    v->run_size = k->run_size;
    v->run = mmap(NULL, (size_t)v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                  v->fd, 0);
    if (v->run == MAP_FAILED) {
        rc = -errno;
        close(v->fd);
        v->fd = -1;
        v->run = NULL;
        return rc;
    }
    return 0;
}

/* Once per process: what the host's KVM module cannot do, if known.  Looked
 * up before the vCPUs start (the vCPU sandbox has no access()). */
static void vcpu_log_host_hint(void)
{
    static bool said;

    if (host_hint && !__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
        log_error("%s", host_hint);
}

static void vcpu_log_state(struct vcpu *v)
{
    struct kvm_regs r;

    if (ioctl(v->fd, KVM_GET_REGS, &r) == 0)
        log_error("vCPU %u: rip=%#llx rsp=%#llx rflags=%#llx", v->index,
                  (unsigned long long)r.rip, (unsigned long long)r.rsp,
                  (unsigned long long)r.rflags);
}

static int vcpu_exit_io(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    uint64_t size = run->io.size, total = size * run->io.count;
    bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    /* Filled by the kernel, but cheap to keep inside the mapping. */
    if (size == 0 || size > 8 || run->io.data_offset > (uint64_t)v->run_size ||
        total > (uint64_t)v->run_size - run->io.data_offset)
        return VCPU_STOP_ERROR;
    for (uint32_t i = 0; i < run->io.count; i++, data += size)
        if (bus_dispatch(v->env->pio, run->io.port, data, (uint32_t)size,
                         is_write) < 0)
            log_ratelimited(LOG_DEBUG, "unhandled %s port %#x",
                            is_write ? "out" : "in", run->io.port);
    return VCPU_CONTINUE;
}

static int vcpu_exit_mmio(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    uint32_t len = MIN(run->mmio.len, (uint32_t)sizeof(run->mmio.data));

    if (bus_dispatch(v->env->mmio, run->mmio.phys_addr, run->mmio.data, len,
                     run->mmio.is_write) < 0)
        log_ratelimited(LOG_DEBUG, "unhandled MMIO %s at %#llx",
                        run->mmio.is_write ? "write" : "read",
                        (unsigned long long)run->mmio.phys_addr);
    return VCPU_CONTINUE;
}

static int vcpu_exit_system_event(struct vcpu *v)
{
    uint32_t type = v->run->system_event.type;

    if (type == KVM_SYSTEM_EVENT_SHUTDOWN || type == KVM_SYSTEM_EVENT_RESET) {
        log_debug("vCPU %u: guest %s", v->index,
                  type == KVM_SYSTEM_EVENT_RESET ? "reset" : "power-off");
        return VCPU_STOP_OK;
    }
    log_error("vCPU %u: system event %u (guest crash?)", v->index, type);
    return VCPU_STOP_ERROR;
}

/* One KVM exit: handle it, or say why the vCPU stops. */
static int vcpu_handle_exit(struct vcpu *v)
{
    struct kvm_run *run = v->run;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        return vcpu_exit_io(v);
    case KVM_EXIT_MMIO:
        return vcpu_exit_mmio(v);
    case KVM_EXIT_INTR:
        return VCPU_CONTINUE;
    case KVM_EXIT_HLT:
        log_debug("vCPU %u: guest halted", v->index);
        return VCPU_STOP_OK;
    case KVM_EXIT_SYSTEM_EVENT:
        return vcpu_exit_system_event(v);
    case KVM_EXIT_SHUTDOWN:
        log_error("vCPU %u: guest triple fault (KVM_EXIT_SHUTDOWN)", v->index);
        break;
    case KVM_EXIT_FAIL_ENTRY:
        log_error(
            "vCPU %u: VM entry failed, hardware reason %#llx", v->index,
            (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        vcpu_log_host_hint();
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        log_error("vCPU %u: KVM internal error, suberror %u%s", v->index,
                  run->internal.suberror,
                  run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                      ? " (instruction emulation failed)"
                      : "");
        vcpu_log_host_hint();
        break;
    default:
        log_error("vCPU %u: unhandled exit reason %u", v->index,
                  run->exit_reason);
        break;
    }
    vcpu_log_state(v);
    return VCPU_STOP_ERROR;
}

/*
 * With the in-kernel irqchip, HLT never exits to us: a guest that halts with
 * interrupts disabled (cli; hlt, e.g. Linux's machine_halt) would hang the
 * VM forever.  vCPU 0 gets a periodic signal; when KVM_RUN is interrupted
 * while it sits in HLT with IF clear, the guest is done.  APs are not checked:
 * Linux parks offline CPUs exactly that way.
 */
static int vcpu_start_halt_timer(struct vcpu *v)
{
    struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID,
                           .sigev_signo = VCPU_KICK_SIGNAL};
    struct itimerspec its = {{0, VCPU_HALT_CHECK_NS}, {0, VCPU_HALT_CHECK_NS}};

    sev._sigev_un._tid = gettid(); /* sigev_notify_thread_id */
    if (timer_create(CLOCK_MONOTONIC, &sev, &v->halt_timer) < 0)
        return -errno;
    v->has_timer = true;
    return timer_settime(v->halt_timer, 0, &its, NULL) < 0 ? -errno : 0;
}

static bool vcpu_halted_for_good(struct vcpu *v)
{
    struct kvm_mp_state mp;
    struct kvm_regs r;

    return ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0 &&
           mp.mp_state == KVM_MP_STATE_HALTED &&
           ioctl(v->fd, KVM_GET_REGS, &r) == 0 && !(r.rflags & RFLAGS_IF);
}

static int vcpu_loop(struct vcpu *v)
{
    int action = VCPU_CONTINUE;

    while (action == VCPU_CONTINUE &&
           !__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)) {
        if (ioctl(v->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR && v->has_timer && vcpu_halted_for_good(v)) {
                log_debug("vCPU %u: halted with interrupts disabled", v->index);
                return VCPU_STOP_OK;
            }
            if (errno == EINTR || errno == EAGAIN)
                continue;
            log_error("vCPU %u: KVM_RUN: %s", v->index, strerror(errno));
            vcpu_log_state(v);
            return VCPU_STOP_ERROR;
        }
        action = vcpu_handle_exit(v);
    }
    return action;
}

static void *vcpu_main(void *arg)
{
    struct vcpu *v = arg;
    sigset_t set;
    int action;

    /* thread_start blocked every signal: open only the kick. */
    sigemptyset(&set);
    sigaddset(&set, VCPU_KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    if (v->index == 0 && vcpu_start_halt_timer(v) < 0)
        log_warn("no halt detection: timer_create: %s", strerror(errno));
    sandbox_enter_thread(SANDBOX_VCPU); /* set-up done: serve the guest */

    action = vcpu_loop(v);
    if (v->has_timer)
        timer_delete(v->halt_timer);
    if (action != VCPU_CONTINUE && !__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE))
        v->env->stopped(v->env->opaque, v->index, action);
    return NULL;
}

int vcpu_start(struct vcpu *v, const struct vcpu_env *env)
{
    char name[16];
    int rc;

    pthread_once(&kick_once, vcpu_install_kick_handler);
    v->env = env;
    snprintf(name, sizeof(name), "krun-vcpu%u", v->index);
    rc = thread_start(&v->thread, name, vcpu_main, v);
    v->started = rc == 0;
    return rc;
}

void vcpu_kick(struct vcpu *v)
{
    if (!v->run)
        return;
    __atomic_store_n(&v->stop, true, __ATOMIC_RELEASE);
    /* If the thread is outside KVM_RUN, the next KVM_RUN returns at once. */
    WRITE_ONCE(v->run->immediate_exit, 1);
    if (v->started)
        pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_destroy(struct vcpu *v)
{
    if (v->started) {
        vcpu_kick(v);
        pthread_join(v->thread, NULL);
        v->started = false;
    }
    if (v->run)
        munmap(v->run, (size_t)v->run_size);
    if (v->fd >= 0)
        close(v->fd);
    v->run = NULL;
    v->fd = -1;
}
