/*
 * virtio.c: a minimal virtio-mmio v2 driver for the test guest (virtio 1.2
 * §4.2.3): probe one window, negotiate VERSION_1, set up queue 0 in static
 * memory, publish one writable buffer and poll the used ring.  Enough to
 * prove the transport, ioeventfd notify and the rng device through real KVM.
 */
#include "guest.h"

#define VIRTIO_BASE 0xd0000000ULL

/* Register offsets and status bits (virtio 1.2 §4.2.2). */
enum {
    R_MAGIC = 0x00,
    R_VERSION = 0x04,
    R_DEVICE_ID = 0x08,
    R_DEV_FEAT = 0x10,
    R_DEV_FEAT_SEL = 0x14,
    R_DRV_FEAT = 0x20,
    R_DRV_FEAT_SEL = 0x24,
    R_QUEUE_SEL = 0x30,
    R_QUEUE_NUM_MAX = 0x34,
    R_QUEUE_NUM = 0x38,
    R_QUEUE_READY = 0x44,
    R_QUEUE_NOTIFY = 0x50,
    R_INT_STATUS = 0x60,
    R_INT_ACK = 0x64,
    R_STATUS = 0x70,
    R_DESC_LO = 0x80,
    R_DESC_HI = 0x84,
    R_AVAIL_LO = 0x90,
    R_AVAIL_HI = 0x94,
    R_USED_LO = 0xa0,
    R_USED_HI = 0xa4,
};
#define S_ACK         1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define QSIZE         8

struct vdesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

/* Split ring parts with the alignment virtio 1.2 §2.7 requires (16/2/4). */
static struct {
    struct vdesc desc[QSIZE] __attribute__((aligned(16)));
    uint16_t avail_flags __attribute__((aligned(16)));
    uint16_t avail_idx, avail_ring[QSIZE], used_event;
    uint16_t used_flags __attribute__((aligned(16)));
    uint16_t used_idx;
    struct {
        uint32_t id, len;
    } used_ring[QSIZE];
} vq;

static uint8_t rng_buf[64];
static uint64_t mmio_pd[512] __attribute__((aligned(4096)));

/*
 * The boot page tables map only the first GiB (as for Linux, which builds
 * its own).  Map [3 GiB, 4 GiB) uncached with 2 MiB pages through PDPT[3].
 */
static void map_mmio_window(void)
{
    uint64_t cr3, *pml4, *pdpt;

    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    pml4 = (uint64_t *)(cr3 & ~0xfffULL);
    pdpt = (uint64_t *)(pml4[0] & ~0xfffULL);
    for (uint64_t i = 0; i < 512; i++) /* present|rw|PWT|PCD|PS */
        mmio_pd[i] = (0xc0000000ULL + (i << 21)) | 0x9b;
    pdpt[3] = (uint64_t)mmio_pd | 3;
    __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static void wr(uint32_t off, uint32_t v)
{
    mmio_write32(VIRTIO_BASE + off, v);
}

static uint32_t rd(uint32_t off)
{
    return mmio_read32(VIRTIO_BASE + off);
}

/* Probe, negotiate and set up queue 0; NULL or the reason it failed. */
static const char *virtio_setup(uint32_t want_id)
{
    map_mmio_window();
    if (rd(R_MAGIC) != 0x74726976 || rd(R_VERSION) != 2)
        return "no virtio-mmio v2 device at 0xd0000000";
    if (rd(R_DEVICE_ID) != want_id)
        return "unexpected device id";
    wr(R_STATUS, 0);
    wr(R_STATUS, S_ACK);
    wr(R_STATUS, S_ACK | S_DRIVER);
    wr(R_DEV_FEAT_SEL, 1);
    if (!(rd(R_DEV_FEAT) & 1))
        return "VERSION_1 not offered";
    wr(R_DRV_FEAT_SEL, 0);
    wr(R_DRV_FEAT, 0);
    wr(R_DRV_FEAT_SEL, 1);
    wr(R_DRV_FEAT, 1); /* VIRTIO_F_VERSION_1 */
    wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(rd(R_STATUS) & S_FEATURES_OK))
        return "FEATURES_OK refused";
    wr(R_QUEUE_SEL, 0);
    if (rd(R_QUEUE_NUM_MAX) < QSIZE)
        return "queue too small";
    wr(R_QUEUE_NUM, QSIZE);
    wr(R_DESC_LO, (uint32_t)(uint64_t)&vq.desc);
    wr(R_DESC_HI, 0);
    wr(R_AVAIL_LO, (uint32_t)(uint64_t)&vq.avail_flags);
    wr(R_AVAIL_HI, 0);
    wr(R_USED_LO, (uint32_t)(uint64_t)&vq.used_flags);
    wr(R_USED_HI, 0);
    wr(R_QUEUE_READY, 1);
    wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    return NULL;
}

const char *test_virtio_rng(void);

const char *test_virtio_rng(void)
{
    const char *why = virtio_setup(4);
    uint32_t nonzero = 0;

    if (why)
        return why;
    vq.desc[0].addr = (uint64_t)rng_buf;
    vq.desc[0].len = sizeof(rng_buf);
    vq.desc[0].flags = 2; /* VIRTQ_DESC_F_WRITE */
    vq.avail_ring[0] = 0;
    __asm__ volatile("" ::: "memory"); /* x86: stores stay in order */
    *(volatile uint16_t *)&vq.avail_idx = 1;
    wr(R_QUEUE_NOTIFY, 0);
    for (uint64_t spin = 0; *(volatile uint16_t *)&vq.used_idx == 0; spin++)
        if (spin > 1000000)
            return "no used buffer";
    if (vq.used_ring[0].id != 0 || vq.used_ring[0].len != sizeof(rng_buf))
        return "bad used element";
    for (unsigned i = 0; i < sizeof(rng_buf); i++)
        nonzero += rng_buf[i] != 0;
    put_str("rng bytes=");
    put_dec(vq.used_ring[0].len);
    put_str(" nonzero=");
    put_dec(nonzero);
    put_str(" isr=");
    put_dec(rd(R_INT_STATUS));
    put_char('\n');
    wr(R_INT_ACK, rd(R_INT_STATUS));
    return nonzero > 32 ? NULL : "buffer not random";
}
