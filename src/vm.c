/*
 * vm.c: build one VM from a struct vm_config and run it on the calling
 * thread.  vm_start() reads as the list of build steps (build_steps[]); the
 * VM ends through vm_exit(), which restores the terminal and _exit()s with
 * the guest's status, as upstream libkrun does (libkrun-behaviour.md §3.9).
 */
#define LOG_TAG "vm"
#include "vm.h"
#include "bus.h"
#include "cmdline.h"
#include "config.h"
#include "drain.h"
#include "evloop.h"
#include "fwlib.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "kvm/x86/boot.h"
#include "kvm/x86/cpu.h"
#include "kvm/x86/elf.h"
#include "kvm/x86/layout.h"
#include "kvm/x86/legacy.h"
#include "hostfd.h"
#include "log.h"
#include "mem.h"
#include "hostsig.h"
#include "sandbox/sandbox.h"
#include "term.h"
#include "bundle/bundle.h"
#include "fuse/passthrough.h"
#include "fuse/server.h"
#include "fuse/virtual.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/fs.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/virtio.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libkrun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VM_STATUS_NONE (-1)
#define VM_MAX_VIRTIO  (LAYOUT_IRQ_VIRTIO_MAX - LAYOUT_IRQ_VIRTIO_MIN + 1)

struct vm {
    struct vm_config *cfg;
    struct kvm kvm;
    struct guest_mem gm;
    struct boot_layout layout;
    struct bus pio, mmio;
    struct evloop loop; /* the VMM loop: the calling thread */
    struct legacy *legacy;
    struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
    struct vcpu *vcpus;
    unsigned int nr_vcpus;
    struct vcpu_env vcpu_env;

    /* The kernel: a libkrunfw bundle (mapped) or an ELF file (copied). */
    void *bundle;
    uint64_t bundle_load;
    size_t bundle_size;
    uint8_t *elf_data;
    size_t elf_len;
    struct elf_image elf;
    uint64_t entry;
    char *cmdline;

    /* virtio-mmio devices in attach order (§3.8), one window + IRQ each. */
    struct virtio_dev *virtio[VM_MAX_VIRTIO];
    int virtio_irqfd[VM_MAX_VIRTIO];
    unsigned int nr_virtio;

    int exit_efd;              /* written when the VM must end */
    struct ev_source exit_src; /* owner: the VMM loop */
    int vcpu_status;           /* atomic; first vCPU to stop sets it */
    /* The workload's status, stored by the guest init through virtio-fs
     * (FUSE ioctl 0x7602); shared by every fs device.  Atomic. */
    struct fuse_exit_code exit_code;
    struct virtio_dev *console; /* the implicit console, if any */
    struct hostsig sig;
    struct blk_disk *disks; /* opened before setuid, until a device owns it */
    size_t nr_disks;
};

/* ---- exit path ----------------------------------------------------------- */

static void vm_request_exit(struct vm *vm)
{
    uint64_t one = 1;

    /* EAGAIN only when the counter is already huge: exit already pending. */
    if (write(vm->exit_efd, &one, sizeof(one)) < 0)
        (void)0;
}

/* A vCPU stopped on its own (vCPU thread). */
static void vm_vcpu_stopped(void *opaque, unsigned int index, int status)
{
    struct vm *vm = opaque;
    int none = VM_STATUS_NONE;

    __atomic_compare_exchange_n(&vm->vcpu_status, &none, status, false,
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    vm_request_exit(vm);
}

/* The guest wrote 0xFE to the i8042 (vCPU thread). */
static void vm_guest_reset(void *opaque)
{
    vm_request_exit(opaque);
}

/* Stop the vCPUs and wait (at most 1 s) for their threads: from then on the
 * guest no longer changes its rings, so the drain sees all it wrote. */
static void vm_stop_vcpus(struct vm *vm)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        vcpu_kick(&vm->vcpus[i]);
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        if (vm->vcpus[i].started &&
            pthread_timedjoin_np(vm->vcpus[i].thread, NULL, &until) == 0)
            vm->vcpus[i].started = false;
}

/* Guest output the devices still hold goes out before we leave (drain.h). */
static void vm_drain_output(struct vm *vm)
{
    for (unsigned int i = 0; i < vm->nr_virtio; i++)
        if (vm->virtio[i]->ops->device_id == VIRTIO_ID_CONSOLE)
            console_drain(vm->virtio[i], DRAIN_STALL_MS);
    legacy_drain(vm->legacy, DRAIN_STALL_MS);
}

/*
 * The VM is over: pick the status (the workload's as init reported it, else
 * the first stopped vCPU's, else 0: §3.9), stop the vCPUs, write out the
 * guest's pending console output, restore the terminal and leave.
 * _exit, not exit: no atexit handlers, no stdio flush of the caller's buffers,
 * as upstream.  The kernel tears the VM down.
 */
static void vm_exit(struct ev_source *src, uint32_t events)
{
    struct vm *vm = container_of(src, struct vm, exit_src);
    int status = __atomic_load_n(&vm->vcpu_status, __ATOMIC_ACQUIRE);

    if (__atomic_load_n(&vm->exit_code.set, __ATOMIC_ACQUIRE))
        status = __atomic_load_n(&vm->exit_code.code, __ATOMIC_RELAXED);
    else if (status == VM_STATUS_NONE)
        status = 0;
    log_debug("VM exit, status %d", status);
    vm_stop_vcpus(vm);
    vm_drain_output(vm);
    hostfd_restore();
    term_restore_all();
    _exit(status);
}

/* ---- build steps -----------------------------------------------------------
 */

/*
 * The disks in guest order (vda, vdb, ...: §2.6): the krun_add_disk* calls,
 * else the deprecated root then data disk.  Opened before setuid.
 */
static int vm_open_disks(struct vm *vm)
{
    const struct vm_config *cfg = vm->cfg;
    size_t n = cfg->nr_disks ? cfg->nr_disks
                             : (size_t) !!cfg->root_disk + !!cfg->data_disk;
    int rc = 0;

    vm->disks = calloc(n ? n : 1, sizeof(*vm->disks));
    if (!vm->disks)
        return -ENOMEM;
    vm->nr_disks = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct vm_disk *d = cfg->nr_disks ? &cfg->disks[i] : NULL;
        struct disk_opts o = {.format = DISK_FMT_RAW, .sync = DISK_SYNC_FULL};
        const char *path =
            i == 0 && cfg->root_disk ? cfg->root_disk : cfg->data_disk;

        if (d) {
            o = (struct disk_opts){.format = (enum disk_format)d->format,
                                   .sync = (enum disk_sync)d->sync_mode,
                                   .read_only = d->read_only,
                                   .direct_io = d->direct_io};
            path = d->path;
        }
        rc = blk_open(path, &o, (unsigned int)i, &vm->disks[i]);
    }
    return rc;
}

static int vm_set_ids(struct vm *vm)
{
    if (vm->cfg->set_gid && setgid(vm->cfg->gid) < 0)
        return -errno;
    if (vm->cfg->set_uid && setuid(vm->cfg->uid) < 0)
        return -errno;
    return 0;
}

static int vm_load_bundle(struct vm *vm)
{
    long page = sysconf(_SC_PAGESIZE);
    int rc = fwlib_get_kernel(&vm->bundle, &vm->bundle_load, &vm->entry,
                              &vm->bundle_size);

    if (rc < 0) {
        log_error("no kernel: %s could not be loaded", FWLIB_SONAME);
        return rc;
    }
    /* Mapped as its own memslot: everything must be page-aligned. */
    if (!IS_ALIGNED((uintptr_t)vm->bundle, page) ||
        !IS_ALIGNED(vm->bundle_load, page) ||
        !IS_ALIGNED(vm->bundle_size, page) || vm->bundle_size == 0) {
        log_error("kernel bundle not page-aligned (host %p, load %#llx)",
                  vm->bundle, (unsigned long long)vm->bundle_load);
        return -EINVAL;
    }
    return 0;
}

static int vm_load_kernel(struct vm *vm)
{
    const struct vm_config *cfg = vm->cfg;

    if (cfg->firmware_path) {
        log_error("firmware boot is not implemented");
        return -EINVAL;
    }
    if (cfg->initramfs) {
        log_error("an initramfs is not supported yet");
        return -EINVAL;
    }
    if (!cfg->kernel_path)
        return vm_load_bundle(vm);
    if (cfg->kernel_format != KRUN_KERNEL_FORMAT_ELF) {
        log_error("kernel format %u is not implemented (only ELF)",
                  cfg->kernel_format);
        return -EINVAL;
    }
    return elf_read_file(cfg->kernel_path, &vm->elf_data, &vm->elf_len,
                         &vm->elf);
}

static int vm_create_kvm(struct vm *vm)
{
    return kvm_create(&vm->kvm);
}

/* RAM (and the bundle) as guest memory regions, each one a memslot. */
static int vm_create_memory(struct vm *vm)
{
    uint64_t ram = ALIGN_UP((uint64_t)vm->cfg->ram_mib << 20,
                            (uint64_t)sysconf(_SC_PAGESIZE));
    int rc =
        boot_plan_memory(ram, vm->bundle_load, vm->bundle_size, &vm->layout);

    if (rc < 0) {
        log_error("cannot lay out %u MiB of RAM", vm->cfg->ram_mib);
        return rc;
    }
    for (unsigned int i = 0; rc == 0 && i < vm->layout.nr; i++) {
        const struct boot_range *r = &vm->layout.r[i];

        rc = r->kind == BOOT_RANGE_KERNEL
                 ? gm_add_region(&vm->gm, r->gpa, r->size, vm->bundle)
                 : gm_map_anon(&vm->gm, r->gpa, r->size);
    }
    for (unsigned int i = 0; rc == 0 && i < vm->gm.nr_regions; i++)
        rc = kvm_add_memslot(&vm->kvm, vm->gm.regions[i].gpa,
                             vm->gm.regions[i].size, vm->gm.regions[i].host);
    return rc;
}

static int vm_create_loop(struct vm *vm)
{
    int rc = evloop_init(&vm->loop, "krun-vmm");

    if (rc < 0)
        return rc;
    vm->exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vm->exit_efd < 0)
        return -errno;
    vm->exit_src = (struct ev_source){.fd = vm->exit_efd, .fn = vm_exit};
    return evloop_add(&vm->loop, &vm->exit_src, EPOLLIN);
}

/* i8042, CMOS and COM1-4; serial consoles in call order (§2.9). */
static int vm_create_legacy(struct vm *vm)
{
    struct vm_config *cfg = vm->cfg;
    struct legacy_cfg lc = {
        .low_end = vm->layout.low_end,
        .high_end = vm->layout.high_end,
        .reset = vm_guest_reset,
        .opaque = vm,
    };

    for (unsigned int i = 0; i < 4; i++) {
        bool used = i < cfg->nr_serials;

        lc.com_in[i] = used ? cfg->serials[i].in_fd : -1;
        lc.com_out[i] = used ? cfg->serials[i].out_fd : -1;
    }
    if (cfg->nr_serials > 4)
        log_warn("only 4 serial consoles; %zu ignored", cfg->nr_serials - 4);
    cfg->nr_serials = MIN(cfg->nr_serials, (size_t)4);
    for (size_t i = 0; i < cfg->nr_serials; i++) /* legacy owns them now */
        cfg->serials[i].in_fd = cfg->serials[i].out_fd = -1;
    return legacy_create(&vm->legacy, &vm->kvm, &vm->pio, &vm->loop, &lc);
}

/*
 * Place (dev) in the next MMIO window with the next IRQ (§3.6, §3.8) and wire
 * it: an irqfd for its interrupt, and per queue an ioeventfd whose kicks are
 * served on (loop).  Takes (dev) in every case: vm_destroy frees it, or it is
 * freed here if no window is left.
 */
static int vm_add_virtio(struct vm *vm, struct virtio_dev *dev,
                         struct evloop *loop)
{
    unsigned int i = vm->nr_virtio;
    uint64_t base = LAYOUT_MMIO_START + (uint64_t)i * MMIO_WINDOW_SIZE;
    uint32_t irq = LAYOUT_IRQ_VIRTIO_MIN + i;
    int rc;

    if (i == VM_MAX_VIRTIO) {
        log_error("too many virtio devices (at most %d)", VM_MAX_VIRTIO);
        virtio_dev_destroy(dev);
        return -EINVAL;
    }
    vm->virtio[i] = dev;
    vm->nr_virtio++;
    vm->virtio_irqfd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vm->virtio_irqfd[i] < 0)
        return -errno;
    rc = mmio_setup(dev, base, irq, vm->virtio_irqfd[i]);
    if (rc == 0)
        rc = kvm_irqfd(&vm->kvm, vm->virtio_irqfd[i], irq, false);
    if (rc == 0)
        rc = bus_register(&vm->mmio, base, MMIO_WINDOW_SIZE, mmio_bus_handler,
                          dev);
    for (unsigned int q = 0; rc == 0 && q < dev->num_queues; q++) {
        rc = kvm_ioeventfd(&vm->kvm, virtio_dev_kick_fd(dev, q),
                           base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q, false);
        if (rc == 0)
            rc = evloop_add(loop, &dev->vqs[q].kick, EPOLLIN);
    }
    return rc;
}

static int vm_add_console(struct vm *vm, const struct console_port_cfg *ports,
                          int nports)
{
    struct virtio_dev *dev;
    int rc = nports < 0 ? nports
                        : console_create(&vm->gm, &vm->loop, ports,
                                         (unsigned int)nports, &dev);

    return rc < 0 ? rc : vm_add_virtio(vm, dev, &vm->loop);
}

/* The implicit console: the process's stdio, or krun_set_console_output. */
static int vm_add_implicit_console(struct vm *vm)
{
    struct console_port_cfg ports[CONSOLE_MAX_PORTS];
    const char *path = vm->cfg->console_output;

    int rc;

    if (vm->cfg->no_implicit_console)
        return 0;
    if (!path) {
        rc = vm_add_console(vm, ports,
                            console_autoconfig(STDIN_FILENO, STDOUT_FILENO,
                                               STDERR_FILENO, ports));
        if (rc == 0)
            vm->console = vm->virtio[vm->nr_virtio - 1];
        return rc;
    }
    memset(ports, 0, sizeof(ports[0]));
    ports[0].in_fd = -1;
    ports[0].console = true;
    ports[0].out_fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ports[0].out_fd < 0) {
        log_error("console output %s: %s", path, strerror(errno));
        return -errno;
    }
    return vm_add_console(vm, ports, 1);
}

/* Consoles added with krun_add_virtio_console_*, in call order. */
static int vm_add_explicit_console(struct vm *vm, const struct vm_console *c)
{
    struct console_port_cfg ports[CONSOLE_MAX_PORTS];

    if (c->kind == VM_CONSOLE_DEFAULT)
        return vm_add_console(
            vm, ports,
            console_autoconfig(c->in_fd, c->out_fd, c->err_fd, ports));
    if (c->nr_ports > CONSOLE_MAX_PORTS)
        return -EINVAL;
    memset(ports, 0, sizeof(ports));
    for (size_t i = 0; i < c->nr_ports; i++) {
        snprintf(ports[i].name, sizeof(ports[i].name), "%s", c->ports[i].name);
        ports[i].in_fd = c->ports[i].in_fd;
        ports[i].out_fd = c->ports[i].out_fd;
        ports[i].console = c->ports[i].is_tty;
    }
    return vm_add_console(vm, ports, (int)c->nr_ports);
}

/*
 * The backend of (f): its host directory (or the null backend), wrapped in
 * the virtual-entries backend when it serves /init.krun or overlays.
 */
static int vm_fs_backend(const struct vm_fs *f, struct fs_backend *out)
{
    struct passthrough_config pc = {.root = f->path, .read_only = f->read_only};
    struct fs_backend inner = {.ops = &vfs_null_ops, .fs = NULL};
    size_t init_len;
    const uint8_t *init;
    int rc = 0;

    if (f->path && (rc = passthrough_create(&pc, &inner)) < 0) {
        log_error("virtio-fs %s: cannot share %s: %s", f->tag, f->path,
                  strerror(-rc));
        return rc;
    }
    if (f->path && !f->add_init && f->nr_ovl == 0) {
        *out = inner;
        return 0;
    }
    rc = vfs_create(inner, out);
    if (rc == 0 && f->add_init) {
        init = init_blob(&init_len);
        rc = vfs_add_file(out, "init.krun", init, init_len, 0755, true);
    }
    for (size_t i = 0; rc == 0 && i < f->nr_ovl; i++) {
        const struct vm_overlay *o = &f->ovl[i];

        rc = S_ISDIR(o->mode) ? vfs_add_dir(out, o->path, o->mode & 07777)
                              : vfs_add_file(out, o->path, o->data, o->len,
                                             o->mode & 07777, o->one_shot);
    }
    if (rc < 0)
        log_error("virtio-fs %s: virtual entries: %s", f->tag, strerror(-rc));
    return rc;
}

/* A virtio-fs device for (f), on its own loop and worker threads.  The
 * backends live as long as the process: the VM ends with _exit. */
static int vm_add_fs(struct vm *vm, const struct vm_fs *f)
{
    struct fs_dev_config fc = {
        .tag = f->tag, .read_only = f->read_only, .exit_code = &vm->exit_code};
    struct virtio_dev *dev;
    int rc = vm_fs_backend(f, &fc.backend);

    if (rc == 0)
        rc = fs_create(&vm->gm, &fc, &dev);
    if (rc == 0)
        rc = vm_add_virtio(vm, dev, fs_loop(dev));
    if (rc == 0)
        rc = fs_start(dev);
    if (rc == 0 && f->shm_size)
        log_debug("virtio-fs %s: DAX window of %llu bytes not offered", f->tag,
                  (unsigned long long)f->shm_size);
    return rc;
}

/* One virtio-blk device per opened disk, kicks on the VMM loop. */
static int vm_add_disks(struct vm *vm)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < vm->nr_disks; i++) {
        struct virtio_dev *dev;

        rc = blk_create(&vm->gm, &vm->disks[i], BLK_DEFAULT_WORKERS, &dev);
        if (rc == 0)
            rc = vm_add_virtio(vm, dev, &vm->loop);
        if (rc == 0)
            rc = blk_start(dev);
    }
    return rc;
}

/* A virtio-net interface (eth<index>) on its own loop thread. */
static int vm_add_net(struct vm *vm, const struct vm_net *n, unsigned int index)
{
    struct virtio_dev *dev;
    char name[16];
    int rc;

    snprintf(name, sizeof(name), "eth%u", index);
    rc = net_create(&vm->gm, n, name, &dev);
    if (rc == 0)
        rc = vm_add_virtio(vm, dev, net_loop(dev));
    if (rc == 0)
        rc = net_start(dev);
    return rc;
}

/* Interfaces in call order, then the legacy one (§2.7, §3.1 step 7). */
static int vm_add_nets(struct vm *vm)
{
    const struct vm_legacy_net *l = &vm->cfg->legacy_net;
    struct vm_net legacy = {
        .backend = l->kind == VM_LEGACY_NET_PASST ? VM_NET_UNIXSTREAM
                                                  : VM_NET_UNIXGRAM,
        .path = l->path,
        .fd = l->fd,
        .features = COMPAT_NET_FEATURES,
        .flags = l->kind == VM_LEGACY_NET_GVPROXY ? NET_FLAG_VFKIT : 0,
    };
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < vm->cfg->nr_nets; i++)
        rc = vm_add_net(vm, &vm->cfg->nets[i], (unsigned int)i);
    if (rc == 0 && l->kind != VM_LEGACY_NET_NONE) {
        memcpy(legacy.mac, l->mac, sizeof(legacy.mac));
        rc = vm_add_net(vm, &legacy, (unsigned int)i);
    }
    return rc;
}

/* virtio devices in upstream's attach order (§3.8). */
static int vm_create_virtio(struct vm *vm)
{
    struct virtio_dev *balloon, *rng;
    int rc = balloon_create(&vm->gm, &balloon);

    if (rc == 0)
        rc = vm_add_virtio(vm, balloon, &vm->loop);
    if (rc == 0)
        rc = rng_create(&vm->gm, &rng);
    if (rc == 0)
        rc = vm_add_virtio(vm, rng, &vm->loop);
    if (rc == 0)
        rc = vm_add_implicit_console(vm);
    for (size_t i = 0; rc == 0 && i < vm->cfg->nr_consoles; i++)
        rc = vm_add_explicit_console(vm, &vm->cfg->consoles[i]);
    for (size_t i = 0; rc == 0 && i < vm->cfg->nr_fs; i++)
        rc = vm_add_fs(vm, &vm->cfg->fs[i]);
    if (rc == 0)
        rc = vm_add_disks(vm);
    if (rc == 0)
        rc = vm_add_nets(vm);
    return rc;
}

/* Terminal resizes and, when stdin is not a terminal, ^C go to the guest. */
static int vm_handle_signals(struct vm *vm)
{
    return hostsig_setup(&vm->sig, &vm->loop, vm->console,
                         vm->console && !isatty(STDIN_FILENO));
}

/* The command line (§3.7), with one virtio_mmio.device= per device. */
static int vm_build_cmdline(struct vm *vm)
{
    extern char **environ;
    char dev[VM_MAX_VIRTIO][64];
    const char *devs[VM_MAX_VIRTIO];
    int rc;

    for (unsigned int i = 0; i < vm->nr_virtio; i++) {
        rc = mmio_cmdline(vm->virtio[i], dev[i], sizeof(dev[i]));
        if (rc < 0)
            return rc;
        devs[i] = dev[i];
    }
    return cmdline_compose(vm->cfg, devs, vm->nr_virtio, environ, &vm->cmdline);
}

/* Copy the ELF segments into RAM above the low boot structures. */
static int vm_place_elf(struct vm *vm)
{
    for (unsigned int i = 0; i < vm->elf.nr; i++) {
        const struct elf_segment *s = &vm->elf.seg[i];
        uint8_t *dst = gm_ptr(&vm->gm, s->paddr, s->memsz);

        if (!dst || s->paddr < LAYOUT_HIMEM) {
            log_error("kernel segment [%#llx, +%#llx) is not in guest RAM",
                      (unsigned long long)s->paddr,
                      (unsigned long long)s->memsz);
            return -EINVAL;
        }
        memcpy(dst, vm->elf_data + s->offset, s->filesz);
        memset(dst + s->filesz, 0, s->memsz - s->filesz);
    }
    if (vm->elf.nr)
        vm->entry = vm->elf.entry;
    free(vm->elf_data);
    vm->elf_data = NULL;
    return 0;
}

static int vm_write_boot_params(struct vm *vm)
{
    struct boot_info bi = {.cmdline = vm->cmdline, .nr_vcpus = vm->nr_vcpus};
    uint8_t *low = gm_ptr(&vm->gm, 0, LAYOUT_HIMEM);

    return low ? boot_write_low_mem(low, LAYOUT_HIMEM, &vm->layout, &bi)
               : -EINVAL;
}

static int vm_create_vcpus(struct vm *vm)
{
    int rc = cpu_supported_cpuid(vm->kvm.sysfd, &vm->cpuid);

    vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
    if (rc == 0 && !vm->vcpus)
        rc = -ENOMEM;
    for (unsigned int i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
        vm->vcpus[i].fd = -1;
    for (unsigned int i = 0; rc == 0 && i < vm->nr_vcpus; i++) {
        rc = vcpu_create(&vm->vcpus[i], &vm->kvm, i);
        if (rc == 0)
            rc = cpu_setup(vm->vcpus[i].fd, vm->cpuid, i, vm->nr_vcpus,
                           vm->entry);
    }
    return rc;
}

static int vm_start_vcpus(struct vm *vm)
{
    int rc = 0;

    bus_freeze(&vm->pio);
    bus_freeze(&vm->mmio);
    vm->vcpu_env = (struct vcpu_env){
        .pio = &vm->pio,
        .mmio = &vm->mmio,
        .stopped = vm_vcpu_stopped,
        .opaque = vm,
    };
    for (unsigned int i = 0; rc == 0 && i < vm->nr_vcpus; i++)
        rc = vcpu_start(&vm->vcpus[i], &vm->vcpu_env);
    return rc;
}

/* Every thread's seccomp program, before the first library thread starts
 * (sandbox/sandbox.h); each thread loads its own when it starts serving. */
static int vm_prepare_sandbox(struct vm *vm)
{
    return sandbox_prepare();
}

/* Last: the caller's thread becomes the sandboxed VMM loop. */
static int vm_sandbox_loop(struct vm *vm)
{
    return sandbox_enter(SANDBOX_VMM_LOOP);
}

/* ---- vm_start -------------------------------------------------------------
 */

/* The build, in order.  Each step logs its own failure details. */
static const struct {
    const char *what;
    int (*fn)(struct vm *vm);
} build_steps[] = {
    {"open the disks", vm_open_disks},
    {"set user and group ids", vm_set_ids},
    {"load the kernel", vm_load_kernel},
    {"create the KVM VM", vm_create_kvm},
    {"create guest memory", vm_create_memory},
    {"create the event loop", vm_create_loop},
    {"create legacy devices", vm_create_legacy},
    {"prepare the seccomp filters", vm_prepare_sandbox},
    {"create virtio devices", vm_create_virtio},
    {"handle host signals", vm_handle_signals},
    {"compose the kernel command line", vm_build_cmdline},
    {"place the kernel", vm_place_elf},
    {"write boot parameters", vm_write_boot_params},
    {"create vCPUs", vm_create_vcpus},
    {"start vCPUs", vm_start_vcpus},
    {"confine the VMM loop", vm_sandbox_loop},
};

/* Undo whatever the build steps did (fields are zero/-1 when not done). */
static void vm_destroy(struct vm *vm)
{
    for (unsigned int i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
        vcpu_destroy(&vm->vcpus[i]);
    free(vm->vcpus);
    free(vm->cpuid);
    for (unsigned int i = 0; i < vm->nr_virtio; i++) {
        virtio_dev_destroy(vm->virtio[i]);
        if (vm->virtio_irqfd[i] >= 0)
            close(vm->virtio_irqfd[i]);
    }
    for (size_t i = 0; i < vm->nr_disks; i++)
        blk_disk_close(&vm->disks[i]);
    free(vm->disks);
    legacy_destroy(vm->legacy);
    hostsig_undo(&vm->sig, &vm->loop);
    if (vm->exit_efd >= 0)
        close(vm->exit_efd);
    if (vm->loop.epfd >= 0)
        evloop_destroy(&vm->loop);
    bus_destroy(&vm->pio);
    bus_destroy(&vm->mmio);
    gm_destroy(&vm->gm);
    kvm_destroy(&vm->kvm);
    free(vm->cmdline);
    free(vm->elf_data);
    sandbox_undo(); /* after the joins: no thread reads the programs now */
    free(vm);
}

static struct vm *vm_alloc(struct vm_config *cfg)
{
    struct vm *vm = calloc(1, sizeof(*vm));

    if (!vm)
        return NULL;
    vm->cfg = cfg;
    vm->nr_vcpus = cfg->nr_vcpus ? cfg->nr_vcpus : 1;
    vm->kvm.sysfd = vm->kvm.vmfd = -1;
    vm->loop.epfd = vm->loop.wakefd = -1;
    vm->exit_efd = -1;
    vm->vcpu_status = VM_STATUS_NONE;
    gm_init(&vm->gm);
    bus_init(&vm->pio, "pio");
    bus_init(&vm->mmio, "mmio");
    return vm;
}

int vm_start(struct vm_config *cfg)
{
    struct vm *vm = vm_alloc(cfg);
    int rc = 0;

    if (!vm)
        return -EINVAL;
    for (unsigned int i = 0; i < ARRAY_SIZE(build_steps); i++) {
        rc = build_steps[i].fn(vm);
        if (rc < 0) {
            log_error("cannot %s: %s", build_steps[i].what, strerror(-rc));
            /* Only the uid/gid step reports its own errno (vm.h). */
            rc = build_steps[i].fn == vm_set_ids ? rc : -EINVAL;
            vm_destroy(vm);
            return rc;
        }
    }
    rc = evloop_run(&vm->loop); /* returns only on an epoll error */
    log_error("VMM event loop failed: %s", strerror(-rc));
    term_restore_all();
    _exit(1);
}
