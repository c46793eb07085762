/*
 * test_rng.c: virtio-rng end to end on fake guest memory: negotiation and
 * queue setup through the mmio registers, QueueNotify -> kick eventfd ->
 * device loop (a real evloop thread) -> used ring -> irqfd.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evloop.h"
#include "fake_driver.h"
#include "sandbox/sandbox.h"
#include "t.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"
#include "virtio/virtio.h"

#define RAM_SIZE 0x100000ULL
#define DATA     0x10000ULL
#define S_ALL                                                                  \
    (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |                    \
     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)

static struct fake_mem mem;
static struct fake_vq *fq;
static struct virtio_dev *dev;
static int irqfd;

static void setup(void)
{
    fake_mem_init(&mem, 0, RAM_SIZE);
    CHECK_EQ(rng_create(&mem.gm, &dev), 0);
    irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK_EQ(mmio_setup(dev, 0xd0001000, 6, irqfd), 0);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
    CHECK_EQ(fake_mmio_negotiate(dev, 1ULL << VIRTIO_F_VERSION_1),
             S_ALL & ~VIRTIO_CONFIG_S_DRIVER_OK);
    fake_vq_init(fq, &mem, 8, 0x1000);
    fake_mmio_setup_queue(dev, 0, fq);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, S_ALL);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_STATUS), S_ALL);
}

static void teardown(void)
{
    virtio_dev_destroy(dev);
    close(irqfd);
    fake_mem_free(&mem);
}

/* Wait for the irqfd to fire, like KVM injecting the interrupt. */
static bool wait_irq(void)
{
    struct pollfd p = {.fd = irqfd, .events = POLLIN};
    uint64_t v;

    if (poll(&p, 1, 5000) != 1)
        return false;
    return read(irqfd, &v, sizeof(v)) == sizeof(v);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void test_end_to_end(void)
{
    struct evloop loop;
    uint64_t v;

    setup();
    /* Drop the kick activation queued so only our notify wakes the loop. */
    CHECK(read(virtio_dev_kick_fd(dev, 0), &v, sizeof(v)) == sizeof(v));
    CHECK_EQ(evloop_init(&loop, "krun-test"), 0);
    CHECK_EQ(evloop_add(&loop, &dev->vqs[0].kick, EPOLLIN), 0);
    CHECK_EQ(evloop_start_thread(&loop, SANDBOX_FS_LOOP), 0);
    fake_vq_desc(fq, 0, DATA, 64, VRING_DESC_F_WRITE, 0);
    fake_vq_desc(fq, 1, DATA + 0x100, 16,
                 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    fake_vq_desc(fq, 2, DATA + 0x200, 4096, VRING_DESC_F_WRITE, 0);
    fake_vq_publish(fq, 0);
    fake_vq_publish(fq, 1);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    CHECK(wait_irq());
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_INTERRUPT_STATUS),
             VIRTIO_MMIO_INT_VRING);
    fake_mmio_write(dev, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    evloop_destroy(&loop);
    CHECK_EQ(fake_vq_used_idx(fq), 2);
    CHECK_EQ(fake_vq_used_elem(fq, 0).id, 0);
    CHECK_EQ(fake_vq_used_elem(fq, 0).len, 64);
    CHECK_EQ(fake_vq_used_elem(fq, 1).id, 1);
    CHECK_EQ(fake_vq_used_elem(fq, 1).len, 16 + 4096);
    CHECK(!all_zero(fake_mem_at(&mem, DATA), 64));
    CHECK(!all_zero(fake_mem_at(&mem, DATA + 0x200), 4096));
    CHECK(all_zero(fake_mem_at(&mem, DATA + 64), 64)); /* nothing beyond */
    teardown();
}

static void test_capped_and_readonly(void)
{
    setup();
    /* 128 KiB writable: capped at RNG_MAX_PER_REQ. */
    fake_vq_desc(fq, 0, DATA, 0x20000, VRING_DESC_F_WRITE, 0);
    fake_vq_publish(fq, 0);
    /* Only a readable buffer: completed with 0 bytes. */
    fake_vq_desc(fq, 1, DATA, 16, 0, 0);
    fake_vq_publish(fq, 1);
    virtio_dev_kick(dev, 0); /* the loop's work, done inline */
    CHECK_EQ(fake_vq_used_idx(fq), 2);
    CHECK_EQ(fake_vq_used_elem(fq, 0).len, RNG_MAX_PER_REQ);
    CHECK_EQ(fake_vq_used_elem(fq, 1).len, 0);
    CHECK(all_zero(fake_mem_at(&mem, DATA + RNG_MAX_PER_REQ), 0x1000));
    CHECK(wait_irq());
    teardown();
}

static void test_malformed_needs_reset(void)
{
    setup();
    fake_vq_desc(fq, 0, RAM_SIZE - 8, 64, VRING_DESC_F_WRITE, 0);
    fake_vq_publish(fq, 0);
    virtio_dev_kick(dev, 0);
    CHECK_EQ(fake_vq_used_idx(fq), 0);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_STATUS),
             S_ALL | VIRTIO_CONFIG_S_NEEDS_RESET);
    CHECK(fake_mmio_read(dev, VIRTIO_MMIO_INTERRUPT_STATUS) &
          VIRTIO_MMIO_INT_CONFIG);
    CHECK(wait_irq());
    /* The driver resets and starts over; the device works again. */
    fake_vq_init(fq, &mem, 8, 0x1000);
    CHECK_EQ(fake_mmio_negotiate(dev, 1ULL << VIRTIO_F_VERSION_1),
             S_ALL & ~VIRTIO_CONFIG_S_DRIVER_OK);
    memset(fake_mem_at(&mem, 0x1000), 0, 0x2000);
    fake_mmio_setup_queue(dev, 0, fq);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, S_ALL);
    fake_vq_desc(fq, 0, DATA, 32, VRING_DESC_F_WRITE, 0);
    fake_vq_publish(fq, 0);
    virtio_dev_kick(dev, 0);
    CHECK_EQ(fake_vq_used_idx(fq), 1);
    CHECK_EQ(fake_vq_used_elem(fq, 0).len, 32);
    teardown();
}

static void test_unoffered_event_idx(void)
{
    /* rng does not offer EVENT_IDX; the driver asking for it is refused. */
    fake_mem_init(&mem, 0, RAM_SIZE);
    CHECK_EQ(rng_create(&mem.gm, &dev), 0);
    CHECK_EQ(fake_mmio_negotiate(dev, 1ULL << VIRTIO_F_VERSION_1 |
                                          1ULL << VIRTIO_RING_F_EVENT_IDX),
             VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_destroy(dev);
    fake_mem_free(&mem);
}

int main(void)
{
    fq = calloc(1, sizeof(*fq));
    RUN(test_end_to_end);
    RUN(test_capped_and_readonly);
    RUN(test_malformed_needs_reset);
    RUN(test_unoffered_event_idx);
    free(fq);
    return t_done();
}
