/*
 * virtio.c: the test guest's virtio-mmio v2 driver; see virtio.h.  Register
 * layout from virtio 1.2 §4.2.2, split rings from §2.7.  x86 keeps stores in
 * order, so a compiler barrier is enough between filling a descriptor and
 * publishing it, and between reading used->idx and the element.
 */
#include "virtio.h"
#include "guest.h"

/* Register offsets (virtio 1.2 §4.2.2). */
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
    R_CONFIG = 0x100,
};
#define S_ACK         1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8

#define DESC_F_NEXT  1
#define DESC_F_WRITE 2
#define POOL_RINGS   24

struct vdesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

/* One split ring with the alignment §2.7 requires (16/2/4). */
struct vring_mem {
    struct vdesc desc[VQ_SIZE] __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx, ring[VQ_SIZE], used_event;
    } avail __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx;
        struct {
            uint32_t id, len;
        } ring[VQ_SIZE];
        uint16_t avail_event;
    } used __attribute__((aligned(16)));
};

static struct vring_mem pool[POOL_RINGS];
static unsigned pool_used;
static uint64_t mmio_pd[512] __attribute__((aligned(4096)));

#define barrier() __asm__ volatile("" ::: "memory")

/*
 * The boot page tables map only the first GiB (as for Linux, which builds
 * its own).  Map [3 GiB, 4 GiB) uncached with 2 MiB pages through PDPT[3].
 */
void map_mmio_window(void)
{
    uint64_t cr3, *pml4, *pdpt;

    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    pml4 = (uint64_t *)(cr3 & ~0xfffULL);
    pdpt = (uint64_t *)(pml4[0] & ~0xfffULL);
    if (pdpt[3] == ((uint64_t)mmio_pd | 3))
        return;
    for (uint64_t i = 0; i < 512; i++) /* present|rw|PWT|PCD|PS */
        mmio_pd[i] = (0xc0000000ULL + (i << 21)) | 0x9b;
    pdpt[3] = (uint64_t)mmio_pd | 3;
    __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static void wr(struct vdev *d, uint32_t off, uint32_t v)
{
    mmio_write32(d->base + off, v);
}

static uint32_t rd(struct vdev *d, uint32_t off)
{
    return mmio_read32(d->base + off);
}

/* Parse one "4K@0xADDR:IRQ" value into (d). */
static bool parse_entry(const char *v, struct vdev *d)
{
    const char *p = v;

    if (str_ncmp(p, "4K@0x", 5) != 0)
        return false;
    p += 5;
    d->base = parse_num(&p, 16);
    if (*p++ != ':')
        return false;
    d->irq = (uint32_t)parse_num(&p, 10);
    return d->base >= 0xc0000000ULL && d->base < 0x100000000ULL;
}

const char *vdev_find(const char *cmdline, uint32_t device_id, unsigned nth,
                      struct vdev *d)
{
    static const char key[] = "virtio_mmio.device=";
    const char *p = cmdline;
    char val[48];

    map_mmio_window();
    while ((p = cmdline_next(p, key, val, sizeof(val)))) {
        if (!parse_entry(val, d))
            return "bad virtio_mmio.device= entry";
        if (rd(d, R_MAGIC) != 0x74726976 || rd(d, R_VERSION) != 2)
            return "no virtio-mmio v2 device in a listed window";
        if (rd(d, R_DEVICE_ID) == device_id && nth-- == 0)
            return NULL;
    }
    return "device not found";
}

const char *vdev_negotiate(struct vdev *d, uint32_t feat_lo)
{
    wr(d, R_STATUS, 0);
    wr(d, R_STATUS, S_ACK);
    wr(d, R_STATUS, S_ACK | S_DRIVER);
    wr(d, R_DEV_FEAT_SEL, 1);
    if (!(rd(d, R_DEV_FEAT) & 1))
        return "VERSION_1 not offered";
    wr(d, R_DEV_FEAT_SEL, 0);
    if ((rd(d, R_DEV_FEAT) & feat_lo) != feat_lo)
        return "wanted feature not offered";
    wr(d, R_DRV_FEAT_SEL, 0);
    wr(d, R_DRV_FEAT, feat_lo);
    wr(d, R_DRV_FEAT_SEL, 1);
    wr(d, R_DRV_FEAT, 1); /* VIRTIO_F_VERSION_1 */
    wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(rd(d, R_STATUS) & S_FEATURES_OK))
        return "FEATURES_OK refused";
    return NULL;
}

static void wr64(struct vdev *d, uint32_t lo, const void *p)
{
    wr(d, lo, (uint32_t)(uint64_t)p);
    wr(d, lo + 4, (uint32_t)((uint64_t)p >> 32));
}

const char *vq_setup(struct vdev *d, struct vq *q, uint16_t index)
{
    struct vring_mem *r;

    if (pool_used == POOL_RINGS)
        return "out of rings";
    r = &pool[pool_used++];
    memset(r, 0, sizeof(*r));
    for (uint16_t i = 0; i < VQ_SIZE; i++)
        r->desc[i].next = (uint16_t)(i + 1);
    *q = (struct vq){.dev = d, .index = index, .nr_free = VQ_SIZE, .ring = r};
    wr(d, R_QUEUE_SEL, index);
    if (rd(d, R_QUEUE_NUM_MAX) < VQ_SIZE)
        return "queue too small";
    wr(d, R_QUEUE_NUM, VQ_SIZE);
    wr64(d, R_DESC_LO, &r->desc);
    wr64(d, R_AVAIL_LO, &r->avail);
    wr64(d, R_USED_LO, &r->used);
    wr(d, R_QUEUE_READY, 1);
    return rd(d, R_QUEUE_READY) == 1 ? NULL : "queue not ready";
}

const char *vdev_ready(struct vdev *d)
{
    wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    if (rd(d, R_STATUS) & VIRTIO_S_NEEDS_RESET)
        return "device needs reset after DRIVER_OK";
    return (rd(d, R_STATUS) & S_DRIVER_OK) ? NULL : "DRIVER_OK refused";
}

void vdev_reset(struct vdev *d)
{
    wr(d, R_STATUS, 0);
}

void vq_pool_reset(void)
{
    pool_used = 0;
}

uint32_t vdev_status(struct vdev *d)
{
    return rd(d, R_STATUS);
}

uint32_t vdev_isr(struct vdev *d)
{
    return rd(d, R_INT_STATUS);
}

void vdev_isr_ack(struct vdev *d, uint32_t bits)
{
    wr(d, R_INT_ACK, bits);
}

uint8_t vdev_cfg8(struct vdev *d, uint32_t off)
{
    return *(volatile uint8_t *)(d->base + R_CONFIG + off);
}

uint32_t vdev_cfg32(struct vdev *d, uint32_t off)
{
    return rd(d, R_CONFIG + off);
}

int vq_add(struct vq *q, const struct vbuf *b, unsigned n)
{
    struct vring_mem *r = q->ring;
    uint16_t head = q->free_head, i = head, last = head;

    if (n == 0 || n > q->nr_free)
        return -1;
    for (unsigned k = 0; k < n; k++) {
        r->desc[i].addr = (uint64_t)b[k].addr;
        r->desc[i].len = b[k].len;
        r->desc[i].flags = (uint16_t)((b[k].write ? DESC_F_WRITE : 0) |
                                      (k + 1 < n ? DESC_F_NEXT : 0));
        last = i;
        i = r->desc[i].next;
    }
    q->free_head = r->desc[last].next;
    q->nr_free = (uint16_t)(q->nr_free - n);
    r->avail.ring[q->avail_idx % VQ_SIZE] = head;
    barrier(); /* the ring entry before the index that publishes it */
    q->avail_idx++;
    *(volatile uint16_t *)&r->avail.idx = q->avail_idx;
    return head;
}

void vq_kick(struct vq *q)
{
    barrier();
    wr(q->dev, R_QUEUE_NOTIFY, q->index);
}

int vq_used(struct vq *q, uint32_t *len)
{
    struct vring_mem *r = q->ring;
    uint16_t head, i, n = 1;

    if (*(volatile uint16_t *)&r->used.idx == q->last_used)
        return -1;
    barrier(); /* the index before the element it covers */
    head = (uint16_t)r->used.ring[q->last_used % VQ_SIZE].id;
    *len = r->used.ring[q->last_used % VQ_SIZE].len;
    q->last_used++;
    if (head >= VQ_SIZE)
        return -1;
    for (i = head; r->desc[i].flags & DESC_F_NEXT; i = r->desc[i].next)
        n++;
    r->desc[i].next = q->free_head;
    q->free_head = head;
    q->nr_free = (uint16_t)(q->nr_free + n);
    return head;
}

int vq_wait(struct vq *q, uint32_t *len, uint64_t spins)
{
    int head;

    while ((head = vq_used(q, len)) < 0 && spins--)
        __asm__ volatile("pause");
    return head;
}

int64_t vq_call(struct vq *q, const struct vbuf *b, unsigned n)
{
    uint32_t len;

    if (vq_add(q, b, n) < 0)
        return -1;
    vq_kick(q);
    return vq_wait(q, &len, VQ_SPINS) < 0 ? -1 : (int64_t)len;
}
