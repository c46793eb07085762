/*
 * test_balloon.c: virtio-balloon on fake guest memory: guest RAM is real
 * anonymous memory (gm_map_anon), so pages given back read as zero, and a
 * second, caller-owned region stands for the kernel bundle, which must never
 * be given back.  Negotiation, queue indices per feature set (§5.5.2),
 * config space, free page reporting, inflate, and hostile buffers.
 */
#include <linux/virtio_balloon.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_driver.h"
#include "t.h"
#include "virtio/balloon.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define RAM_SIZE 0x100000ULL /* [0, 1 MiB): anonymous, given back */
#define KSIZE    0x10000ULL  /* [1 MiB, +64 KiB): the "kernel bundle" */
#define DATA     0x80000ULL  /* test pages */
#define ARRAY    0x70000ULL  /* PFN arrays */
#define S_ALL                                                                  \
    (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |                    \
     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)
#define F_ALL                                                                  \
    (1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BALLOON_F_STATS_VQ |          \
     1ULL << VIRTIO_BALLOON_F_FREE_PAGE_HINT |                                 \
     1ULL << VIRTIO_BALLOON_F_REPORTING)
#define F_REPORT                                                               \
    (1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BALLOON_F_REPORTING)

static struct fake_mem mem;
static uint8_t kbuf[KSIZE] __attribute__((aligned(4096)));
static struct fake_vq *fq[5];
static struct virtio_dev *dev;
static int irqfd;

/* Queues the features define: inflate, deflate, then one per feature. */
static unsigned int nr_queues(uint64_t features)
{
    return 2 + !!(features & 1ULL << VIRTIO_BALLOON_F_STATS_VQ) +
           !!(features & 1ULL << VIRTIO_BALLOON_F_FREE_PAGE_HINT) +
           !!(features & 1ULL << VIRTIO_BALLOON_F_REPORTING);
}

static void setup(uint64_t features)
{
    gm_init(&mem.gm);
    CHECK_EQ(gm_map_anon(&mem.gm, 0, RAM_SIZE), 0);
    mem.buf = mem.gm.regions[0].host;
    mem.base = 0;
    mem.size = RAM_SIZE;
    CHECK_EQ(gm_add_region(&mem.gm, RAM_SIZE, KSIZE, kbuf), 0);
    memset(kbuf, 0x55, sizeof(kbuf));
    CHECK_EQ(balloon_create(&mem.gm, &dev), 0);
    irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK_EQ(mmio_setup(dev, 0xd0000000, 5, irqfd), 0);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
    CHECK_EQ(fake_mmio_negotiate(dev, features),
             S_ALL & ~VIRTIO_CONFIG_S_DRIVER_OK);
    for (unsigned int q = 0; q < nr_queues(features); q++) {
        fake_vq_init(fq[q], &mem, 256, 0x10000 * (q + 1));
        fake_mmio_setup_queue(dev, q, fq[q]);
    }
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, S_ALL);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_STATUS), S_ALL);
}

static void teardown(void)
{
    virtio_dev_destroy(dev);
    close(irqfd);
    gm_destroy(&mem.gm);
}

static void fill(uint64_t gpa, uint64_t len, uint8_t v)
{
    memset(gpa < RAM_SIZE ? fake_mem_at(&mem, gpa) : kbuf + (gpa - RAM_SIZE), v,
           len);
}

static bool all(uint64_t gpa, uint64_t len, uint8_t v)
{
    const uint8_t *p =
        gpa < RAM_SIZE ? fake_mem_at(&mem, gpa) : kbuf + (gpa - RAM_SIZE);

    for (uint64_t i = 0; i < len; i++)
        if (p[i] != v)
            return false;
    return true;
}

/* Pages of [gpa, gpa+len) resident in the host (mincore), before reading. */
static unsigned int resident(uint64_t gpa, uint64_t len)
{
    unsigned char vec[64];
    unsigned int n = 0;

    if (len / 4096 > sizeof(vec) ||
        mincore(fake_mem_at(&mem, gpa), len, vec) < 0)
        return ~0u;
    for (uint64_t i = 0; i < len / 4096; i++)
        n += vec[i] & 1;
    return n;
}

static struct balloon_stats stats(void)
{
    struct balloon_stats st;

    balloon_get_stats(dev, &st);
    return st;
}

static bool needs_reset(void)
{
    return fake_mmio_read(dev, VIRTIO_MMIO_STATUS) &
           VIRTIO_CONFIG_S_NEEDS_RESET;
}

static void test_features_and_config(void)
{
    setup(F_ALL);
    fake_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES),
             1u << VIRTIO_BALLOON_F_STATS_VQ |
                 1u << VIRTIO_BALLOON_F_FREE_PAGE_HINT |
                 1u << VIRTIO_BALLOON_F_REPORTING);
    fake_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES), 1);
    for (unsigned int q = 0; q < 5; q++) {
        fake_mmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, q);
        CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
    }
    for (unsigned int off = 0; off < 16; off += 4)
        CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_CONFIG + off), 0);
    /* actual is the driver's; num_pages, the command id, poison are not. */
    fake_mmio_write(dev, VIRTIO_MMIO_CONFIG + 4, 77);
    fake_mmio_write(dev, VIRTIO_MMIO_CONFIG + 0, 5);
    fake_mmio_write(dev, VIRTIO_MMIO_CONFIG + 8, 6);
    fake_mmio_write(dev, VIRTIO_MMIO_CONFIG + 12, 7);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_CONFIG + 4), 77);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_CONFIG + 0), 0);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_CONFIG + 8), 0);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_CONFIG + 12), 0);
    teardown();
}

/* A reported range comes back to the host: not resident, reads zero. */
static void test_reporting(void)
{
    setup(F_ALL);
    fill(DATA, 0x4000, 0xaa);
    CHECK_EQ(resident(DATA, 0x4000), 4);
    fake_vq_desc(fq[4], 0, DATA, 0x4000, VRING_DESC_F_WRITE, 0);
    fake_vq_publish(fq[4], 0);
    virtio_dev_kick(dev, 4);
    CHECK_EQ(fake_vq_used_idx(fq[4]), 1);
    CHECK_EQ(fake_vq_used_elem(fq[4], 0).id, 0);
    CHECK_EQ(fake_vq_used_elem(fq[4], 0).len, 0);
    CHECK(fake_mmio_read(dev, VIRTIO_MMIO_INTERRUPT_STATUS) &
          VIRTIO_MMIO_INT_VRING);
    CHECK_EQ(resident(DATA, 0x4000), 0);
    CHECK(all(DATA, 0x4000, 0));
    CHECK_EQ(stats().reported_bytes, 0x4000);
    CHECK(!needs_reset());
    teardown();
}

/* Without STATS_VQ and FREE_PAGE_HINT the reporting queue is index 2. */
static void test_reporting_queue_index(void)
{
    setup(F_REPORT);
    fill(DATA, 0x1000, 0xaa);
    fake_vq_desc(fq[2], 0, DATA, 0x1000, VRING_DESC_F_WRITE, 0);
    fake_vq_publish(fq[2], 0);
    virtio_dev_kick(dev, 2);
    CHECK_EQ(fake_vq_used_idx(fq[2]), 1);
    CHECK(all(DATA, 0x1000, 0));
    CHECK_EQ(stats().reported_bytes, 0x1000);
    teardown();
}

/* Odd ranges: only whole pages of RAM go, never the kernel bundle. */
static void test_reporting_odd_ranges(void)
{
    setup(F_ALL);
    fill(DATA, 0x3000, 0xaa);
    fill(RAM_SIZE - 0x1000, 0x1000, 0xaa);
    /* Unaligned start and length: only the page wholly inside goes. */
    fake_vq_desc(fq[4], 0, DATA + 0x100, 0x2000, VRING_DESC_F_WRITE, 0);
    /* Zero length. */
    fake_vq_desc(fq[4], 1, DATA + 0x2000, 0, VRING_DESC_F_WRITE, 0);
    /* Straddling the end of RAM into the kernel bundle. */
    fake_vq_desc(fq[4], 2, RAM_SIZE - 0x1000, 0x2000, VRING_DESC_F_WRITE, 0);
    /* Wholly inside the kernel bundle, and readable rather than writable. */
    fake_vq_desc(fq[4], 3, RAM_SIZE, KSIZE, 0, 0);
    for (uint16_t h = 0; h < 4; h++)
        fake_vq_publish(fq[4], h);
    virtio_dev_kick(dev, 4);
    CHECK_EQ(fake_vq_used_idx(fq[4]), 4);
    for (uint16_t i = 0; i < 4; i++)
        CHECK_EQ(fake_vq_used_elem(fq[4], i).len, 0);
    CHECK(all(DATA, 0x1000, 0xaa));
    CHECK(all(DATA + 0x1000, 0x1000, 0));
    CHECK(all(DATA + 0x2000, 0x1000, 0xaa));
    CHECK(all(RAM_SIZE - 0x1000, 0x1000, 0));
    CHECK(all(RAM_SIZE, KSIZE, 0x55));
    CHECK_EQ(stats().reported_bytes, 0x2000);
    CHECK(!needs_reset());
    teardown();
}

/* A buffer past all memory or overflowing: NEEDS_RESET, nothing given back. */
static void test_reporting_malformed(void)
{
    static const struct {
        uint64_t addr;
        uint32_t len;
    } bad[] = {
        {RAM_SIZE + KSIZE - 0x1000, 0x2000}, /* past the last region */
        {RAM_SIZE + KSIZE, 0x1000},          /* wholly outside */
        {0xfffffffffffff000ULL, 0x2000},     /* gpa + len overflows */
        {0, 0xffffffffu},                    /* longer than all memory */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setup(F_ALL);
        fill(DATA, 0x1000, 0xaa);
        fake_vq_desc(fq[4], 0, DATA, 0x1000,
                     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
        fake_vq_desc(fq[4], 1, bad[i].addr, bad[i].len, VRING_DESC_F_WRITE, 0);
        fake_vq_publish(fq[4], 0);
        virtio_dev_kick(dev, 4);
        CHECK_EQ(fake_vq_used_idx(fq[4]), 0);
        CHECK(needs_reset());
        CHECK(all(DATA, 0x1000, 0xaa));
        CHECK_EQ(stats().reported_bytes, 0);
        teardown();
    }
}

/* The longest chain the queue allows is fine; a cycle is malformed. */
static void test_reporting_huge_chain(void)
{
    setup(F_ALL);
    fill(DATA, 0x40000, 0xaa);
    for (uint16_t i = 0; i < 256; i++)
        fake_vq_desc(fq[4], i, DATA + (i % 64) * 0x1000ULL, 0x1000,
                     VRING_DESC_F_WRITE | (i < 255 ? VRING_DESC_F_NEXT : 0),
                     (uint16_t)(i + 1));
    fake_vq_publish(fq[4], 0);
    virtio_dev_kick(dev, 4);
    CHECK_EQ(fake_vq_used_idx(fq[4]), 1);
    CHECK(all(DATA, 0x40000, 0));
    CHECK_EQ(stats().reported_bytes, 256 * 0x1000);
    CHECK(!needs_reset());
    fake_vq_desc(fq[4], 0, DATA, 0x1000, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
                 1);
    fake_vq_desc(fq[4], 1, DATA, 0x1000, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
                 0);
    fake_vq_publish(fq[4], 0);
    virtio_dev_kick(dev, 4);
    CHECK_EQ(fake_vq_used_idx(fq[4]), 1);
    CHECK(needs_reset());
    teardown();
}

static void put_pfns(uint64_t gpa, const uint32_t *pfns, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        uint32_t le = htole32(pfns[i]);

        memcpy(fake_mem_at(&mem, gpa + 4ULL * i), &le, 4);
    }
}

/* Inflate: PFNs inside RAM go; the bundle, past the end, huge ones do not. */
static void test_inflate(void)
{
    const uint32_t pfns[] = {
        DATA >> 12,     (DATA + 0x1000) >> 12,
        RAM_SIZE >> 12, (RAM_SIZE + KSIZE) >> 12,
        0xffffffffu,
    };

    setup(F_ALL);
    fill(DATA, 0x3000, 0xaa);
    put_pfns(ARRAY, pfns, 5);
    /* 5 PFNs and 2 stray bytes, which are not a PFN. */
    fake_vq_desc(fq[0], 0, ARRAY, 5 * 4 + 2, 0, 0);
    fake_vq_publish(fq[0], 0);
    virtio_dev_kick(dev, 0);
    CHECK_EQ(fake_vq_used_idx(fq[0]), 1);
    CHECK_EQ(fake_vq_used_elem(fq[0], 0).len, 0);
    CHECK(all(DATA, 0x2000, 0));
    CHECK(all(DATA + 0x2000, 0x1000, 0xaa));
    CHECK(all(RAM_SIZE, KSIZE, 0x55));
    CHECK_EQ(stats().inflated_pages, 2);
    CHECK_EQ(stats().ignored_pfns, 3);
    /* Deflate gives nothing back and changes nothing. */
    fill(DATA, 0x1000, 0xbb);
    fake_vq_desc(fq[1], 0, ARRAY, 4, 0, 0);
    fake_vq_publish(fq[1], 0);
    virtio_dev_kick(dev, 1);
    CHECK_EQ(fake_vq_used_idx(fq[1]), 1);
    CHECK(all(DATA, 0x1000, 0xbb));
    CHECK(!needs_reset());
    teardown();
}

/* At most 256 PFNs per request are looked at. */
static void test_inflate_capped(void)
{
    static uint32_t pfns[1024];

    setup(F_ALL);
    for (unsigned int i = 0; i < 1024; i++)
        pfns[i] = (uint32_t)(DATA >> 12) + i % 64;
    put_pfns(ARRAY, pfns, 1024);
    fake_vq_desc(fq[0], 0, ARRAY, sizeof(pfns), 0, 0);
    fake_vq_publish(fq[0], 0);
    virtio_dev_kick(dev, 0);
    CHECK_EQ(fake_vq_used_idx(fq[0]), 1);
    CHECK_EQ(stats().inflated_pages + stats().ignored_pfns, 256);
    teardown();
}

/* The stats buffer stays with the device; free page hints come back. */
static void test_stats_held_hints_returned(void)
{
    setup(F_ALL);
    fake_vq_desc(fq[2], 0, DATA, 16, 0, 0);
    fake_vq_publish(fq[2], 0);
    virtio_dev_kick(dev, 2);
    CHECK_EQ(fake_vq_used_idx(fq[2]), 0);
    fill(DATA, 0x1000, 0xaa);
    fake_vq_desc(fq[3], 0, DATA, 0x1000, VRING_DESC_F_WRITE, 0);
    fake_vq_publish(fq[3], 0);
    virtio_dev_kick(dev, 3);
    CHECK_EQ(fake_vq_used_idx(fq[3]), 1);
    CHECK_EQ(fake_vq_used_elem(fq[3], 0).len, 0);
    CHECK(all(DATA, 0x1000, 0xaa));
    CHECK(!needs_reset());
    teardown();
}

int main(void)
{
    for (unsigned int q = 0; q < 5; q++)
        fq[q] = calloc(1, sizeof(*fq[q]));
    RUN(test_features_and_config);
    RUN(test_reporting);
    RUN(test_reporting_queue_index);
    RUN(test_reporting_odd_ranges);
    RUN(test_reporting_malformed);
    RUN(test_reporting_huge_chain);
    RUN(test_inflate);
    RUN(test_inflate_capped);
    RUN(test_stats_held_hints_returned);
    for (unsigned int q = 0; q < 5; q++)
        free(fq[q]);
    return t_done();
}
