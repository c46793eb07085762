/* test_mmio.c: virtio-mmio registers, status machine, negotiation, queues. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake_driver.h"
#include "t.h"
#include "util.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define RAM_BASE 0x0ULL
#define RAM_SIZE 0x40000ULL
#define S_ACK    VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV    VIRTIO_CONFIG_S_DRIVER
#define S_FEAT   VIRTIO_CONFIG_S_FEATURES_OK
#define S_OK     VIRTIO_CONFIG_S_DRIVER_OK
#define S_RESET  VIRTIO_CONFIG_S_NEEDS_RESET
#define V1       (1ULL << VIRTIO_F_VERSION_1)

/* A device that only records what the transport asks of it. */
struct test_dev {
    struct virtio_dev vdev;
    uint8_t config[8];
    int activated, notified, resets, cfg_writes;
};

static void t_notify(struct virtio_dev *dev, struct virtq *vq)
{
    container_of(dev, struct test_dev, vdev)->notified++;
}

static int t_activate(struct virtio_dev *dev)
{
    container_of(dev, struct test_dev, vdev)->activated++;
    return 0;
}

static void t_reset(struct virtio_dev *dev)
{
    container_of(dev, struct test_dev, vdev)->resets++;
}

static void t_config_write(struct virtio_dev *dev, uint32_t off,
                           const void *data, uint32_t len)
{
    struct test_dev *t = container_of(dev, struct test_dev, vdev);

    memcpy(t->config + off, data, len);
    t->cfg_writes++;
}

static const struct virtio_dev_ops test_ops = {
    .name = "test",
    .device_id = VIRTIO_ID_CONSOLE,
    .queue_max = 16,
    .features = 1ULL << 3 | 1ULL << VIRTIO_RING_F_EVENT_IDX,
    .config_write = t_config_write,
    .activate = t_activate,
    .notify = t_notify,
    .reset = t_reset,
};

static struct fake_mem mem;
static struct test_dev *td;
static struct virtio_dev *dev;
static struct fake_vq *fq;
static int irqfd;

static void setup(void)
{
    fake_mem_init(&mem, RAM_BASE, RAM_SIZE);
    td = calloc(1, sizeof(*td));
    CHECK_EQ(virtio_dev_init(&td->vdev, &test_ops, 2, &mem.gm, NULL), 0);
    dev = &td->vdev;
    memcpy(td->config, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    dev->config = td->config;
    dev->config_len = sizeof(td->config);
    irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK_EQ(mmio_setup(dev, 0xd0000000, 5, irqfd), 0);
    fake_vq_init(fq, &mem, 16, 0x1000);
}

static void teardown(void)
{
    virtio_dev_destroy(dev);
    free(td);
    close(irqfd);
    fake_mem_free(&mem);
}

static uint64_t drain(int fd)
{
    uint64_t v = 0;

    return read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

static uint32_t rd(uint64_t off)
{
    return fake_mmio_read(dev, off);
}

static void wr(uint64_t off, uint32_t v)
{
    fake_mmio_write(dev, off, v);
}

static void test_identity(void)
{
    setup();
    CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
    CHECK_EQ(rd(VIRTIO_MMIO_VENDOR_ID), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES),
             1U << 3 | 1U << VIRTIO_RING_F_EVENT_IDX);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1); /* VERSION_1 */
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
    wr(VIRTIO_MMIO_QUEUE_SEL, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 16);
    wr(VIRTIO_MMIO_QUEUE_SEL, 2); /* no such queue */
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
    CHECK_EQ(rd(0x0f8), 0); /* unknown register */
    wr(0x0f8, 1);           /* ignored */
    teardown();
}

static void test_negotiation_and_activation(void)
{
    setup();
    CHECK_EQ(fake_mmio_negotiate(dev, V1 | 1ULL << 3), S_ACK | S_DRV | S_FEAT);
    CHECK(virtio_dev_has_feature(dev, 3));
    CHECK(!virtio_dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX));
    fake_mmio_setup_queue(dev, 0, fq);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FEAT | S_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FEAT | S_OK);
    CHECK_EQ(td->activated, 1);
    /* Activation looks at ready queues once, on the device's loop. */
    CHECK_EQ(drain(virtio_dev_kick_fd(dev, 0)), 1);
    virtio_dev_kick(dev, 0);
    CHECK_EQ(td->notified, 1);
    /* Queue registers are frozen now. */
    wr(VIRTIO_MMIO_QUEUE_NUM, 4);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM), 16);
    /* Reset returns everything to the initial state. */
    wr(VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(td->resets, 2); /* fake_mmio_negotiate() reset it too */
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    virtio_dev_kick(dev, 0);
    CHECK_EQ(td->notified, 1);
    teardown();
}

static void test_unoffered_features_rejected(void)
{
    setup();
    CHECK_EQ(fake_mmio_negotiate(dev, V1 | 1ULL << 5), S_ACK | S_DRV);
    CHECK_EQ(fake_mmio_negotiate(dev, V1 | 1ULL << 40), S_ACK | S_DRV);
    CHECK_EQ(fake_mmio_negotiate(dev, 1ULL << 3), S_ACK | S_DRV); /* no V1 */
    /* Bits in a selector page beyond 1. */
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, S_ACK);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FEAT);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
    /* A retry with an acceptable set works. */
    CHECK_EQ(fake_mmio_negotiate(dev, V1), S_ACK | S_DRV | S_FEAT);
    /* Features cannot change after FEATURES_OK. */
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1U << 3);
    CHECK(!virtio_dev_has_feature(dev, 3));
    teardown();
}

static void test_status_out_of_order(void)
{
    setup();
    wr(VIRTIO_MMIO_STATUS, S_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    wr(VIRTIO_MMIO_STATUS, S_ACK);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_FEAT); /* skipped DRIVER */
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_OK); /* skipped FEATURES_OK */
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK);
    CHECK_EQ(td->activated, 0);
    wr(VIRTIO_MMIO_STATUS, S_ACK | VIRTIO_CONFIG_S_FAILED);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | VIRTIO_CONFIG_S_FAILED);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | VIRTIO_CONFIG_S_FAILED);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | VIRTIO_CONFIG_S_FAILED);
    wr(VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    /* Removing bits is not a transition either. */
    CHECK_EQ(fake_mmio_negotiate(dev, V1), S_ACK | S_DRV | S_FEAT);
    wr(VIRTIO_MMIO_STATUS, S_ACK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FEAT);
    teardown();
}

/* Program queue 0 with (fq) after tweaking one field; expect NEEDS_RESET. */
static void expect_bad_queue(uint64_t off, uint32_t val, const char *what)
{
    t_diag("bad queue: %s", what);
    CHECK_EQ(fake_mmio_negotiate(dev, V1), S_ACK | S_DRV | S_FEAT);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, 0);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_NUM, fq->size);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)fq->desc);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)fq->avail);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)fq->used);
    fake_mmio_write(dev, off, val);
    fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FEAT | S_RESET);
    CHECK_EQ(drain(irqfd), 0); /* no DRIVER_OK yet: no interrupt */
    wr(VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
}

static void test_bad_queue_setup(void)
{
    setup();
    expect_bad_queue(VIRTIO_MMIO_QUEUE_NUM, 32, "size above max");
    expect_bad_queue(VIRTIO_MMIO_QUEUE_NUM, 12, "size not a power of 2");
    expect_bad_queue(VIRTIO_MMIO_QUEUE_NUM, 0, "size 0");
    expect_bad_queue(VIRTIO_MMIO_QUEUE_NUM, 0x10010, "size > 16 bits");
    expect_bad_queue(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1008, "desc alignment");
    expect_bad_queue(VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x1101, "avail alignment");
    expect_bad_queue(VIRTIO_MMIO_QUEUE_USED_LOW, 0x2002, "used alignment");
    expect_bad_queue(VIRTIO_MMIO_QUEUE_USED_LOW, RAM_SIZE - 8, "past RAM");
    expect_bad_queue(VIRTIO_MMIO_QUEUE_DESC_HIGH, 1, "desc above 4G");
    /* Queue registers before FEATURES_OK are ignored. */
    wr(VIRTIO_MMIO_STATUS, S_ACK);
    wr(VIRTIO_MMIO_QUEUE_NUM, 8);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM), 0);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    teardown();
}

static void test_notify_not_ready(void)
{
    setup();
    CHECK_EQ(fake_mmio_negotiate(dev, V1), S_ACK | S_DRV | S_FEAT);
    fake_mmio_setup_queue(dev, 0, fq);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FEAT | S_OK);
    drain(virtio_dev_kick_fd(dev, 0));
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* queue 1 never set up */
    CHECK_EQ(drain(virtio_dev_kick_fd(dev, 1)), 0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 7); /* no such queue */
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
    virtio_dev_kick(dev, 1); /* as if an ioeventfd had fired anyway */
    virtio_dev_kick(dev, 99);
    CHECK_EQ(td->notified, 0);
    CHECK_EQ(virtio_dev_kick_fd(dev, 2), -1);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    CHECK_EQ(drain(virtio_dev_kick_fd(dev, 0)), 1);
    /* The queue's own ev_source is what an evloop would call. */
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    dev->vqs[0].kick.fn(&dev->vqs[0].kick, 1);
    CHECK_EQ(td->notified, 1);
    CHECK_EQ(drain(virtio_dev_kick_fd(dev, 0)), 0); /* drained by the kick */
    teardown();
}

static void test_interrupts_and_needs_reset(void)
{
    setup();
    CHECK_EQ(fake_mmio_negotiate(dev, V1), S_ACK | S_DRV | S_FEAT);
    fake_mmio_setup_queue(dev, 0, fq);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FEAT | S_OK);
    virtio_dev_interrupt(dev, VIRTIO_MMIO_INT_VRING);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    CHECK_EQ(drain(irqfd), 1);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    virtio_dev_fail(dev, "test");
    virtio_dev_fail(dev, "test again"); /* idempotent */
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FEAT | S_OK | S_RESET);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    CHECK_EQ(drain(irqfd), 1);
    /* A failed device processes nothing until reset. */
    drain(virtio_dev_kick_fd(dev, 0));
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    virtio_dev_kick(dev, 0);
    CHECK_EQ(td->notified, 0);
    /* The driver echoing NEEDS_RESET back does not confuse the machine. */
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FEAT | S_OK | S_RESET);
    CHECK(virtio_dev_failed(dev));
    wr(VIRTIO_MMIO_STATUS, 0);
    CHECK(!virtio_dev_failed(dev));
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    teardown();
}

static void test_config_space(void)
{
    uint8_t b = 0;
    uint16_t h = 0;
    uint64_t q = 0;
    uint32_t v = 0x11223344;

    setup();
    mmio_read(dev, 0x101, &b, 1);
    CHECK_EQ(b, 2);
    mmio_read(dev, 0x102, &h, 2);
    CHECK_EQ(h, 0x0403);
    mmio_read(dev, 0x100, &q, 8);
    CHECK_EQ(q, 0x0807060504030201ULL);
    mmio_read(dev, 0x106, &v, 4); /* runs past the 8-byte space */
    CHECK_EQ(v, 0);
    mmio_read(dev, 0xffc, &v, 4);
    CHECK_EQ(v, 0);
    mmio_read(dev, 0x1000, &v, 4); /* outside the window */
    CHECK_EQ(v, 0);
    v = 0xaabbccdd;
    mmio_write(dev, 0x100, &v, 4); /* before DRIVER: ignored */
    CHECK_EQ(td->cfg_writes, 0);
    wr(VIRTIO_MMIO_STATUS, S_ACK);
    wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
    mmio_write(dev, 0x104, &v, 4);
    CHECK_EQ(td->cfg_writes, 1);
    CHECK_EQ(td->config[4], 0xdd);
    mmio_write(dev, 0x106, &v, 4); /* out of bounds */
    mmio_write(dev, 0x100, &v, 0);
    CHECK_EQ(td->cfg_writes, 1);
    /* Registers: 32-bit aligned accesses only. */
    mmio_read(dev, VIRTIO_MMIO_MAGIC_VALUE, &h, 2);
    CHECK_EQ(h, 0);
    mmio_read(dev, VIRTIO_MMIO_MAGIC_VALUE + 1, &v, 4);
    CHECK_EQ(v, 0);
    /* Device-side updates bump the generation. */
    CHECK_EQ(virtio_dev_config_update(dev, 0, "\xff", 1), 0);
    CHECK_EQ(virtio_dev_config_update(dev, 7, "\xff\xff", 2), -EINVAL);
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
    CHECK_EQ(drain(irqfd), 0); /* not live yet: no interrupt */
    teardown();
}

static void test_shm_and_cmdline(void)
{
    char buf[64];

    setup();
    CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
    CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
    mmio_set_shm(dev, 0x100000000ULL, 0x200000000ULL);
    for (uint32_t sel = 0; sel < 2; sel++) {
        wr(VIRTIO_MMIO_SHM_SEL, sel);
        CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0);
        CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 2);
        CHECK_EQ(rd(VIRTIO_MMIO_SHM_BASE_LOW), 0);
        CHECK_EQ(rd(VIRTIO_MMIO_SHM_BASE_HIGH), 1);
    }
    wr(VIRTIO_MMIO_SHM_SEL, 2);
    CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
    CHECK_EQ(rd(VIRTIO_MMIO_SHM_BASE_HIGH), 0);
    CHECK_EQ(mmio_cmdline(dev, buf, sizeof(buf)), 34);
    CHECK(strcmp(buf, "virtio_mmio.device=4K@0xd0000000:5") == 0);
    CHECK_EQ(mmio_cmdline(dev, buf, 34), -ENOSPC);
    CHECK_EQ(mmio_setup(dev, 0xd0000800, 6, -1), -EINVAL);
    teardown();
}

static void test_bus_handler(void)
{
    uint8_t data[4] = {0};
    uint32_t v;

    setup();
    mmio_bus_handler(dev, VIRTIO_MMIO_MAGIC_VALUE, data, 4, false);
    memcpy(&v, data, 4);
    CHECK_EQ(v, 0x74726976);
    v = S_ACK;
    memcpy(data, &v, 4);
    mmio_bus_handler(dev, VIRTIO_MMIO_STATUS, data, 4, true);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK);
    teardown();
}

static void test_event_idx_negotiated(void)
{
    setup();
    CHECK_EQ(fake_mmio_negotiate(dev, V1 | 1ULL << VIRTIO_RING_F_EVENT_IDX),
             S_ACK | S_DRV | S_FEAT);
    fake_mmio_setup_queue(dev, 0, fq);
    CHECK(dev->vqs[0].event_idx);
    teardown();
}

int main(void)
{
    fq = calloc(1, sizeof(*fq));
    RUN(test_identity);
    RUN(test_negotiation_and_activation);
    RUN(test_unoffered_features_rejected);
    RUN(test_status_out_of_order);
    RUN(test_bad_queue_setup);
    RUN(test_notify_not_ready);
    RUN(test_interrupts_and_needs_reset);
    RUN(test_config_space);
    RUN(test_shm_and_cmdline);
    RUN(test_bus_handler);
    RUN(test_event_idx_negotiated);
    free(fq);
    return t_done();
}
