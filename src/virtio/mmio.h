/*
 * mmio.h: the virtio-mmio version 2 transport (virtio 1.2 §4.2.2): one 4 KiB
 * register window per device, config space at 0x100.
 *
 * Wiring, done by the KVM layer for each device:
 *  - mmio_setup(dev, base, irq, irqfd) with an eventfd it registers with
 *    KVM_IRQFD for (irq);
 *  - bus_register(mmio_bus, base, MMIO_WINDOW_SIZE, mmio_bus_handler, dev):
 *    vCPU MMIO exits land in mmio_read()/mmio_write();
 *  - for each queue q: KVM_IOEVENTFD with fd virtio_dev_kick_fd(dev, q),
 *    addr base + VIRTIO_MMIO_QUEUE_NOTIFY, len 4, datamatch q; and
 *    evloop_add(loop, &dev->vqs[q].kick, EPOLLIN) on the device's loop.
 *    Without the ioeventfd, a QueueNotify exit signals the same eventfd, so
 *    queues are always processed on the device's loop thread;
 *  - mmio_cmdline() for the kernel's "virtio_mmio.device=" parameter.
 */
#ifndef KRUN_VIRTIO_MMIO_H
#define KRUN_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct virtio_dev;

#define MMIO_WINDOW_SIZE 0x1000
#define MMIO_MAGIC       0x74726976 /* "virt" */
#define MMIO_VERSION     2

/*
 * Place (dev) at guest physical (base) with interrupt line (irq), signalled
 * through (irqfd), an eventfd the caller keeps owning (-1: no interrupts).
 * Returns 0 or -EINVAL (base not 4 KiB aligned).  Build thread.
 */
int mmio_setup(struct virtio_dev *dev, uint64_t base, uint32_t irq, int irqfd);

/*
 * Give (dev) the shared memory region [base, base+len) (virtio-fs DAX), shown
 * for SHM selectors 0 and 1 (libkrun-behaviour.md §5.0).  Build thread.
 */
void mmio_set_shm(struct virtio_dev *dev, uint64_t base, uint64_t len);

/*
 * A guest read of (len) bytes at (offset) in the window into (data).  Bad
 * offsets, sizes or alignments read as zeros.  vCPU thread.
 */
void mmio_read(struct virtio_dev *dev, uint64_t offset, void *data,
               uint32_t len);

/*
 * A guest write of (len) bytes from (data) at (offset) in the window.  Writes
 * the spec does not allow in the current state are ignored (rate-limited
 * log); a ring that fails validation marks the device NEEDS_RESET.  vCPU
 * thread.
 */
void mmio_write(struct virtio_dev *dev, uint64_t offset, const void *data,
                uint32_t len);

/*
 * bus_handler_fn adapter: (opaque) is the struct virtio_dev.  vCPU thread.
 */
void mmio_bus_handler(void *opaque, uint64_t offset, uint8_t *data,
                      uint32_t len, bool is_write);

/*
 * Render "virtio_mmio.device=4K@0x<base %08x>:<irq>" into (buf) of (size)
 * bytes.  Returns its length, or -ENOSPC if it does not fit.
 */
int mmio_cmdline(const struct virtio_dev *dev, char *buf, size_t size);

#endif /* KRUN_VIRTIO_MMIO_H */
