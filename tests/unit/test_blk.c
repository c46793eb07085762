/*
 * test_blk.c: virtio-blk on fake guest memory over a raw image in a
 * temporary file: negotiation and config through the mmio registers, every
 * request type checked byte for byte against the host file, hostile
 * requests (IOERR / UNSUPP / NEEDS_RESET, the file untouched), and the
 * worker pool with many requests in flight.
 */
#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_driver.h"
#include "t.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define RAM_SIZE  (4ULL << 20)
#define QBASE     0x1000ULL
#define QSIZE     64
#define HDR       0x10000ULL /* request headers, 64 bytes apart */
#define STATUS    0x18000ULL /* status bytes, 64 bytes apart */
#define DATA      0x100000ULL
#define SECTORS   2048ULL /* 1 MiB disk */
#define DISK_SIZE (SECTORS * 512)
#define S_ALL                                                                  \
    (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |                    \
     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)
#define F(bit) (1ULL << (bit))
#define BASE_FEATURES                                                          \
    (F(VIRTIO_F_VERSION_1) | F(VIRTIO_BLK_F_SEG_MAX) |                         \
     F(VIRTIO_BLK_F_DISCARD) | F(VIRTIO_BLK_F_WRITE_ZEROES) |                  \
     F(VIRTIO_RING_F_EVENT_IDX))

static struct fake_mem mem;
static struct fake_vq fq;
static struct virtio_dev *dev;
static int irqfd, fd;
static char path[64];
static uint8_t pattern[DISK_SIZE];

/* A buffer of the chain: guest address, length, device-writable. */
struct seg {
    uint64_t gpa;
    uint32_t len;
    bool wr;
};

static uint8_t pat(uint64_t off)
{
    return (uint8_t)(off * 7 + off / 512 + 1);
}

static void make_image(void)
{
    snprintf(path, sizeof(path), "/tmp/test_blk.XXXXXX");
    fd = mkstemp(path);
    CHECK(fd >= 0);
    for (uint64_t i = 0; i < DISK_SIZE; i++)
        pattern[i] = pat(i);
    CHECK_EQ(pwrite(fd, pattern, DISK_SIZE, 0), (long long)DISK_SIZE);
}

/* Open the image as a device with (opts) and (workers); DRIVER_OK with
 * (features) acked. */
static void setup_opts(struct disk_opts opts, unsigned int workers,
                       uint64_t features)
{
    struct blk_disk d;

    make_image();
    fake_mem_init(&mem, 0, RAM_SIZE);
    CHECK_EQ(blk_open(path, &opts, 0, &d), 0);
    CHECK_EQ(blk_create(&mem.gm, &d, workers, &dev), 0);
    CHECK(d.disk == NULL);
    irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK_EQ(mmio_setup(dev, 0xd0004000, 9, irqfd), 0);
    CHECK_EQ(blk_start(dev), 0);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
    CHECK_EQ(fake_mmio_negotiate(dev, features),
             S_ALL & ~VIRTIO_CONFIG_S_DRIVER_OK);
    fake_vq_init(&fq, &mem, QSIZE, QBASE);
    fake_mmio_setup_queue(dev, 0, &fq);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, S_ALL);
    CHECK_EQ(fake_mmio_read(dev, VIRTIO_MMIO_STATUS), S_ALL);
}

static void setup(void)
{
    struct disk_opts o = {.format = DISK_FMT_RAW, .sync = DISK_SYNC_FULL};

    setup_opts(o, 0, BASE_FEATURES | F(VIRTIO_BLK_F_FLUSH));
}

static void teardown(void)
{
    virtio_dev_destroy(dev);
    close(irqfd);
    close(fd);
    unlink(path);
    fake_mem_free(&mem);
}

static bool file_is(const uint8_t *want)
{
    static uint8_t got[DISK_SIZE];

    return pread(fd, got, DISK_SIZE, 0) == (ssize_t)DISK_SIZE &&
           memcmp(got, want, DISK_SIZE) == 0;
}

/* Write the request header for slot (n). */
static uint64_t hdr(unsigned int n, uint32_t type, uint64_t sector)
{
    struct virtio_blk_outhdr h = {.type = htole32(type),
                                  .sector = htole64(sector)};
    uint64_t gpa = HDR + 64ULL * n;

    memcpy(fake_mem_at(&mem, gpa), &h, sizeof(h));
    return gpa;
}

static uint8_t *status_at(unsigned int n)
{
    return fake_mem_at(&mem, STATUS + 64ULL * n);
}

/* Chain (segs) at descriptors [first, first + n) and publish it. */
static void publish(uint16_t first, const struct seg *segs, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        fake_vq_desc(&fq, (uint16_t)(first + i), segs[i].gpa, segs[i].len,
                     (uint16_t)((segs[i].wr ? VRING_DESC_F_WRITE : 0) |
                                (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
                     (uint16_t)(first + i + 1));
    fake_vq_publish(&fq, first);
}

static void kick(void)
{
    uint64_t one = 1;

    CHECK(write(virtio_dev_kick_fd(dev, 0), &one, sizeof(one)) == 8);
    virtio_dev_kick(dev, 0);
}

/*
 * Submit one request (inline device) and return its status byte; the used
 * length goes to (*used_len).  0xEE: no used entry appeared.
 */
static uint8_t submit(const struct seg *segs, unsigned int n,
                      uint32_t *used_len)
{
    uint16_t before = fake_vq_used_idx(&fq);
    struct vring_used_elem e;

    *status_at(0) = 0xEE;
    publish(0, segs, n);
    kick();
    if (fake_vq_used_idx(&fq) != (uint16_t)(before + 1))
        return 0xEE;
    e = fake_vq_used_elem(&fq, before);
    CHECK_EQ(e.id, 0);
    if (used_len)
        *used_len = e.len;
    return *status_at(0);
}

static bool needs_reset(void)
{
    return fake_mmio_read(dev, VIRTIO_MMIO_STATUS) &
           VIRTIO_CONFIG_S_NEEDS_RESET;
}

static uint32_t config32(uint32_t off)
{
    return fake_mmio_read(dev, VIRTIO_MMIO_CONFIG + off);
}

static uint64_t offered(void)
{
    uint64_t lo, hi;

    fake_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    lo = fake_mmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES);
    fake_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    hi = fake_mmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES);
    return lo | hi << 32;
}

#define STATUS_SEG(n)                                                          \
    {                                                                          \
        STATUS + 64ULL * (n), 1, true                                          \
    }

/* ---- features and config ------------------------------------------------ */

static void test_features_config(void)
{
    setup();
    CHECK_EQ(offered(), BASE_FEATURES | F(VIRTIO_BLK_F_FLUSH));
    CHECK_EQ(config32(0), SECTORS); /* capacity, low half */
    CHECK_EQ(config32(4), 0);
    CHECK_EQ(config32(8), 0);            /* size_max */
    CHECK_EQ(config32(12), BLK_SEG_MAX); /* seg_max */
    CHECK_EQ(config32(20), 0);           /* blk_size */
    CHECK_EQ(config32(36), 0xFFFFFFFFu); /* max_discard_sectors */
    CHECK_EQ(config32(40), 1);           /* max_discard_seg */
    CHECK(config32(44) >= 1);            /* discard_sector_alignment */
    CHECK_EQ(config32(48), 0xFFFFFFFFu); /* max_write_zeroes_sectors */
    CHECK_EQ(config32(52), 1);           /* max_write_zeroes_seg */
    CHECK_EQ(config32(56) & 0xFF, 1);    /* write_zeroes_may_unmap */
    teardown();
}

static void test_features_ro_nosync(void)
{
    struct disk_opts o = {
        .format = DISK_FMT_RAW, .sync = DISK_SYNC_NONE, .read_only = true};

    setup_opts(o, 0, BASE_FEATURES | F(VIRTIO_BLK_F_RO));
    CHECK_EQ(offered(), BASE_FEATURES | F(VIRTIO_BLK_F_RO));
    /* FLUSH was not offered: the request is unsupported. */
    {
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_FLUSH, 0), 16, false},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 2, NULL), VIRTIO_BLK_S_UNSUPP);
    }
    teardown();
}

/* A disk whose size is not a multiple of 512 hides the tail. */
static void test_capacity_tail(void)
{
    struct disk_opts o = {.format = DISK_FMT_RAW, .sync = DISK_SYNC_FULL};
    struct blk_disk d;

    make_image();
    CHECK_EQ(ftruncate(fd, DISK_SIZE + 100), 0);
    fake_mem_init(&mem, 0, RAM_SIZE);
    CHECK_EQ(blk_open(path, &o, 27, &d), 0);
    CHECK(strcmp(d.name, "vdab") == 0);
    CHECK_EQ(blk_create(&mem.gm, &d, 0, &dev), 0);
    CHECK_EQ(config32(0), SECTORS);
    virtio_dev_destroy(dev);
    close(fd);
    unlink(path);
    fake_mem_free(&mem);
}

static void test_open_missing(void)
{
    struct disk_opts o = {.format = DISK_FMT_RAW, .sync = DISK_SYNC_FULL};
    struct blk_disk d;

    CHECK(blk_open("/nonexistent/disk.img", &o, 0, &d) < 0);
    CHECK(d.disk == NULL);
}

/* ---- requests ------------------------------------------------------------ */

static void test_read(void)
{
    uint32_t len = 0;

    setup();
    memset(fake_mem_at(&mem, DATA), 0xAA, 4096);
    {
        /* 3 sectors from sector 5, split unevenly over two buffers. */
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_IN, 5), 16, false},
                          {DATA, 700, true},
                          {DATA + 2048, 836, true},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 4, &len), VIRTIO_BLK_S_OK);
        CHECK_EQ(len, 1536 + 1);
        CHECK(memcmp(fake_mem_at(&mem, DATA), pattern + 5 * 512, 700) == 0);
        CHECK(memcmp(fake_mem_at(&mem, DATA + 2048), pattern + 5 * 512 + 700,
                     836) == 0);
        CHECK(*(uint8_t *)fake_mem_at(&mem, DATA + 700) == 0xAA);
    }
    {
        /* The last sector. */
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_IN, SECTORS - 1), 16, false},
                          {DATA, 512, true},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 3, &len), VIRTIO_BLK_S_OK);
        CHECK(memcmp(fake_mem_at(&mem, DATA), pattern + DISK_SIZE - 512, 512) ==
              0);
    }
    {
        /* Header and status split over descriptors, status in the same
         * buffer as the data's tail. */
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_IN, 1), 5, false},
                          {HDR + 5, 11, false},
                          {DATA, 513, true}};

        memset(fake_mem_at(&mem, DATA), 0, 513);
        publish(0, s, 3);
        kick();
        CHECK_EQ(*(uint8_t *)fake_mem_at(&mem, DATA + 512), VIRTIO_BLK_S_OK);
        CHECK(memcmp(fake_mem_at(&mem, DATA), pattern + 512, 512) == 0);
    }
    CHECK(file_is(pattern));
    CHECK(!needs_reset());
    teardown();
}

static void test_write(void)
{
    static uint8_t want[DISK_SIZE];
    uint32_t len = 0;
    uint8_t *data;

    setup();
    data = fake_mem_at(&mem, DATA);
    for (unsigned int i = 0; i < 2048; i++)
        data[i] = (uint8_t)(i ^ 0x5C);
    {
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_OUT, 100), 16, false},
                          {DATA, 1000, false},
                          {DATA + 1000, 1048, false},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 4, &len), VIRTIO_BLK_S_OK);
        CHECK_EQ(len, 1);
    }
    memcpy(want, pattern, DISK_SIZE);
    memcpy(want + 100 * 512, data, 2048);
    CHECK(file_is(want));
    {
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_FLUSH, 0), 16, false},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 2, &len), VIRTIO_BLK_S_OK);
        CHECK_EQ(len, 1);
    }
    teardown();
}

static void test_get_id(void)
{
    uint8_t want[BLK_ID_BYTES];
    struct stat st;
    uint32_t len = 0;

    setup();
    CHECK_EQ(fstat(fd, &st), 0);
    blk_make_id(&st, want);
    memset(fake_mem_at(&mem, DATA), 0xAA, 64);
    {
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_GET_ID, 0), 16, false},
                          {DATA, 20, true},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 3, &len), VIRTIO_BLK_S_OK);
        CHECK_EQ(len, 21);
        CHECK(memcmp(fake_mem_at(&mem, DATA), want, 20) == 0);
    }
    {
        /* A larger buffer gets 20 bytes, no more. */
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_GET_ID, 0), 16, false},
                          {DATA + 100, 40, true},
                          STATUS_SEG(0)};

        memset(fake_mem_at(&mem, DATA + 100), 0xAA, 40);
        CHECK_EQ(submit(s, 3, &len), VIRTIO_BLK_S_OK);
        CHECK_EQ(len, 21);
        CHECK(*(uint8_t *)fake_mem_at(&mem, DATA + 120) == 0xAA);
    }
    teardown();
}

static void test_make_id(void)
{
    struct stat st = {.st_dev = 2049, .st_rdev = 0, .st_ino = 1234567};
    uint8_t id[BLK_ID_BYTES];

    blk_make_id(&st, id);
    CHECK(memcmp(id, "204901234567\0\0\0\0\0\0\0\0", 20) == 0);
    st.st_dev = 18446744073709551615ULL;
    st.st_ino = 99;
    blk_make_id(&st, id);
    CHECK(memcmp(id, "18446744073709551615", 20) == 0);
}

/* One DISCARD / WRITE_ZEROES segment request in slot 0. */
static uint8_t discard(uint32_t type, uint64_t sector, uint32_t num,
                       uint32_t flags)
{
    struct virtio_blk_discard_write_zeroes d = {.sector = htole64(sector),
                                                .num_sectors = htole32(num),
                                                .flags = htole32(flags)};
    struct seg s[] = {{hdr(0, type, 0), 16, false},
                      {DATA + 8192, sizeof(d), false},
                      STATUS_SEG(0)};

    memcpy(fake_mem_at(&mem, DATA + 8192), &d, sizeof(d));
    return submit(s, 3, NULL);
}

static void test_discard_write_zeroes(void)
{
    static uint8_t want[DISK_SIZE];
    struct stat st0, st1;

    setup();
    memcpy(want, pattern, DISK_SIZE);
    CHECK_EQ(fsync(fd), 0);
    CHECK_EQ(fstat(fd, &st0), 0);
    /* 256 KiB discarded, 4 KiB aligned: holes punched, zeroes read. */
    CHECK_EQ(discard(VIRTIO_BLK_T_DISCARD, 512, 512, 0), VIRTIO_BLK_S_OK);
    memset(want + 512 * 512, 0, 512 * 512);
    CHECK(file_is(want));
    CHECK_EQ(fstat(fd, &st1), 0);
    CHECK(st1.st_size == (off_t)DISK_SIZE);
    CHECK(st1.st_blocks <= st0.st_blocks - 512);
    /* Zeroes without unmap, then with unmap. */
    CHECK_EQ(discard(VIRTIO_BLK_T_WRITE_ZEROES, 3, 2, 0), VIRTIO_BLK_S_OK);
    memset(want + 3 * 512, 0, 1024);
    CHECK_EQ(discard(VIRTIO_BLK_T_WRITE_ZEROES, 1500, 9,
                     VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
             VIRTIO_BLK_S_OK);
    memset(want + 1500 * 512, 0, 9 * 512);
    CHECK(file_is(want));
    /* Zero sectors: nothing to do. */
    CHECK_EQ(discard(VIRTIO_BLK_T_DISCARD, 0, 0, 0), VIRTIO_BLK_S_OK);
    /* §5.2.6.2: UNMAP on a discard and unknown flags are unsupported. */
    CHECK_EQ(
        discard(VIRTIO_BLK_T_DISCARD, 0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
        VIRTIO_BLK_S_UNSUPP);
    CHECK_EQ(discard(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2), VIRTIO_BLK_S_UNSUPP);
    /* Past the end, or overflowing. */
    CHECK_EQ(discard(VIRTIO_BLK_T_DISCARD, SECTORS - 1, 2, 0),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(discard(VIRTIO_BLK_T_WRITE_ZEROES, SECTORS, 1, 0),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(discard(VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX, 0xFFFFFFFF, 0),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(discard(VIRTIO_BLK_T_DISCARD, 1ULL << 55, 1, 0),
             VIRTIO_BLK_S_IOERR);
    CHECK(file_is(want));
    {
        /* Two segments (max_discard_seg is 1), and a short one. */
        struct seg s2[] = {{hdr(0, VIRTIO_BLK_T_DISCARD, 0), 16, false},
                           {DATA + 8192, 32, false},
                           STATUS_SEG(0)};
        struct seg s3[] = {{hdr(0, VIRTIO_BLK_T_DISCARD, 0), 16, false},
                           {DATA + 8192, 15, false},
                           STATUS_SEG(0)};

        memset(fake_mem_at(&mem, DATA + 8192), 0, 32);
        CHECK_EQ(submit(s2, 3, NULL), VIRTIO_BLK_S_IOERR);
        CHECK_EQ(submit(s3, 3, NULL), VIRTIO_BLK_S_IOERR);
    }
    CHECK(file_is(want));
    CHECK(!needs_reset());
    teardown();
}

static void test_unknown_type(void)
{
    setup();
    {
        struct seg s[] = {{hdr(0, 99, 0), 16, false}, STATUS_SEG(0)};

        CHECK_EQ(submit(s, 2, NULL), VIRTIO_BLK_S_UNSUPP);
    }
    {
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_SCSI_CMD, 0), 16, false},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 2, NULL), VIRTIO_BLK_S_UNSUPP);
    }
    teardown();
}

/* ---- hostile requests -----------------------------------------------------
 */

static uint8_t rw(uint32_t type, uint64_t sector, uint32_t len)
{
    struct seg s[] = {{hdr(0, type, sector), 16, false},
                      {DATA, len, type == VIRTIO_BLK_T_IN},
                      STATUS_SEG(0)};

    return submit(s, 3, NULL);
}

static void test_hostile_ranges(void)
{
    setup();
    memset(fake_mem_at(&mem, DATA), 0xAA, 8192);
    for (int t = 0; t < 2; t++) {
        uint32_t type = t ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;

        CHECK_EQ(rw(type, SECTORS, 512), VIRTIO_BLK_S_IOERR);
        CHECK_EQ(rw(type, SECTORS - 1, 1024), VIRTIO_BLK_S_IOERR);
        CHECK_EQ(rw(type, UINT64_MAX, 512), VIRTIO_BLK_S_IOERR);
        CHECK_EQ(rw(type, 1ULL << 55, 512),
                 VIRTIO_BLK_S_IOERR); /* *512 wraps */
        CHECK_EQ(rw(type, (UINT64_MAX / 512) + 1, 512), VIRTIO_BLK_S_IOERR);
        CHECK_EQ(rw(type, 0, 513), VIRTIO_BLK_S_IOERR);
        CHECK_EQ(rw(type, 0, 100), VIRTIO_BLK_S_IOERR);
        CHECK_EQ(rw(type, 0, 511), VIRTIO_BLK_S_IOERR);
    }
    /* Nothing was read into guest memory, nothing written to the file. */
    for (unsigned int i = 0; i < 8192; i++)
        if (((uint8_t *)fake_mem_at(&mem, DATA))[i] != 0xAA) {
            CHECK(!"guest buffer written by a failed read");
            break;
        }
    CHECK(file_is(pattern));
    CHECK(!needs_reset());
    teardown();
}

static void test_hostile_direction(void)
{
    setup();
    memset(fake_mem_at(&mem, DATA), 0xAA, 4096);
    {
        /* IN whose data buffer is device-readable. */
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_IN, 0), 16, false},
                          {DATA, 512, false},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 3, NULL), VIRTIO_BLK_S_IOERR);
        CHECK(*(uint8_t *)fake_mem_at(&mem, DATA) == 0xAA);
    }
    {
        /* OUT whose data buffer is device-writable. */
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_OUT, 0), 16, false},
                          {DATA, 512, true},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 3, NULL), VIRTIO_BLK_S_IOERR);
        CHECK(*(uint8_t *)fake_mem_at(&mem, DATA) == 0xAA);
    }
    {
        /* GET_ID with readable data; DISCARD with writable data. */
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_GET_ID, 0), 16, false},
                          {DATA, 20, false},
                          STATUS_SEG(0)};
        struct seg d[] = {{hdr(0, VIRTIO_BLK_T_DISCARD, 0), 16, false},
                          {DATA, 16, true},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 3, NULL), VIRTIO_BLK_S_IOERR);
        memset(fake_mem_at(&mem, DATA), 0, 16);
        CHECK_EQ(submit(d, 3, NULL), VIRTIO_BLK_S_IOERR);
    }
    {
        /* A header shorter than 16 bytes. */
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_IN, 0), 8, false},
                          {DATA, 512, true},
                          STATUS_SEG(0)};

        memset(fake_mem_at(&mem, DATA), 0xAA, 512);
        CHECK_EQ(submit(s, 3, NULL), VIRTIO_BLK_S_IOERR);
        CHECK(*(uint8_t *)fake_mem_at(&mem, DATA) == 0xAA);
    }
    CHECK(file_is(pattern));
    CHECK(!needs_reset());
    teardown();
}

/* Chains that cannot carry a status: the device needs a reset. */
static void test_hostile_no_status(void)
{
    setup();
    {
        struct seg none[] = {{hdr(0, VIRTIO_BLK_T_OUT, 0), 16, false},
                             {DATA, 512, false}};

        CHECK_EQ(submit(none, 2, NULL), 0xEE);
        CHECK(needs_reset());
        CHECK(file_is(pattern));
    }
    teardown();

    setup();
    {
        struct seg empty[] = {{hdr(0, VIRTIO_BLK_T_IN, 0), 16, false},
                              {STATUS, 0, true}};

        CHECK_EQ(submit(empty, 2, NULL), 0xEE);
        CHECK(needs_reset());
    }
    teardown();
}

/* A descriptor cycle (a chain longer than the queue) breaks the device. */
static void test_hostile_chain_too_long(void)
{
    setup();
    fake_vq_desc(&fq, 0, hdr(0, VIRTIO_BLK_T_IN, 0), 16, VRING_DESC_F_NEXT, 1);
    fake_vq_desc(&fq, 1, DATA, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
    fake_vq_publish(&fq, 0);
    kick();
    CHECK_EQ(fake_vq_used_idx(&fq), 0);
    CHECK(needs_reset());
    /* Reset and renegotiate: the device works again. */
    CHECK_EQ(fake_mmio_negotiate(dev, BASE_FEATURES | F(VIRTIO_BLK_F_FLUSH)),
             S_ALL & ~VIRTIO_CONFIG_S_DRIVER_OK);
    fake_vq_init(&fq, &mem, QSIZE, QBASE);
    fake_mmio_setup_queue(dev, 0, &fq);
    fake_mmio_write(dev, VIRTIO_MMIO_STATUS, S_ALL);
    CHECK(!needs_reset());
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
    CHECK(memcmp(fake_mem_at(&mem, DATA), pattern, 512) == 0);
    teardown();
}

static void test_hostile_read_only(void)
{
    struct disk_opts o = {
        .format = DISK_FMT_RAW, .sync = DISK_SYNC_FULL, .read_only = true};

    setup_opts(o, 0,
               BASE_FEATURES | F(VIRTIO_BLK_F_FLUSH) | F(VIRTIO_BLK_F_RO));
    memset(fake_mem_at(&mem, DATA), 0x11, 4096);
    CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 0, 4096), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(discard(VIRTIO_BLK_T_DISCARD, 0, 8, 0), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(discard(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(discard(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8,
                     VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
             VIRTIO_BLK_S_IOERR);
    /* Reads still work. */
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 8, 512), VIRTIO_BLK_S_OK);
    CHECK(memcmp(fake_mem_at(&mem, DATA), pattern + 8 * 512, 512) == 0);
    CHECK(file_is(pattern));
    teardown();
}

/* krun_add_disk3(direct_io): O_DIRECT, guest buffers and ranges not 4 KiB
 * aligned (the library bounces what it must). */
static void test_direct_io(void)
{
    struct disk_opts o = {
        .format = DISK_FMT_RAW, .sync = DISK_SYNC_FULL, .direct_io = true};
    static uint8_t want[DISK_SIZE];
    char probe[] = "/tmp/test_blk_odirect.XXXXXX";
    int pfd = mkstemp(probe), dfd;
    uint8_t *src;

    /* tmpfs has no O_DIRECT: nothing to test there. */
    dfd = pfd < 0 ? -1 : open(probe, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (pfd >= 0) {
        close(pfd);
        unlink(probe);
    }
    if (dfd < 0) {
        t_diag("O_DIRECT unsupported in /tmp: direct I/O not tested");
        return;
    }
    close(dfd);
    setup_opts(o, 0, BASE_FEATURES | F(VIRTIO_BLK_F_FLUSH));
    memcpy(want, pattern, DISK_SIZE);
    src = fake_mem_at(&mem, DATA + 512);
    for (unsigned int i = 0; i < 1536; i++)
        src[i] = (uint8_t)(i * 3 + 11);
    {
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_OUT, 3), 16, false},
                          {DATA + 512, 1536, false},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 3, NULL), VIRTIO_BLK_S_OK);
    }
    memcpy(want + 3 * 512, src, 1536);
    CHECK(file_is(want));
    {
        struct seg s[] = {{hdr(0, VIRTIO_BLK_T_IN, 1), 16, false},
                          {DATA + 0x3000 + 512, 700, true},
                          {DATA + 0x5000 + 100, 5 * 512 - 700, true},
                          STATUS_SEG(0)};

        CHECK_EQ(submit(s, 4, NULL), VIRTIO_BLK_S_OK);
        CHECK(memcmp(fake_mem_at(&mem, DATA + 0x3000 + 512), want + 512, 700) ==
              0);
        CHECK(memcmp(fake_mem_at(&mem, DATA + 0x5000 + 100), want + 512 + 700,
                     5 * 512 - 700) == 0);
    }
    CHECK_EQ(discard(VIRTIO_BLK_T_WRITE_ZEROES, 1, 1, 0), VIRTIO_BLK_S_OK);
    memset(want + 512, 0, 512);
    CHECK(file_is(want));
    teardown();
}

/* ---- EVENT_IDX ------------------------------------------------------------
 */

static bool irq_pending(void)
{
    uint64_t v;

    return read(irqfd, &v, sizeof(v)) == sizeof(v);
}

static void test_event_idx(void)
{
    setup();
    /* used_event 0: interrupt after the first completion. */
    fake_vq_set_used_event(&fq, 0);
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
    CHECK(irq_pending());
    /* used_event far ahead: the driver wants no interrupt yet. */
    fake_vq_set_used_event(&fq, 100);
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
    CHECK(!irq_pending());
    /* The device asked for a kick on the next buffer (avail_event). */
    CHECK_EQ(fake_vq_avail_event(&fq), 2);
    teardown();
}

/* ---- worker pool ----------------------------------------------------------
 */

static void test_workers_in_flight(void)
{
    struct disk_opts o = {.format = DISK_FMT_RAW, .sync = DISK_SYNC_FULL};
    static uint8_t want[DISK_SIZE];
    struct timespec t0, t1;
    unsigned int n = 20;

    setup_opts(o, 4, BASE_FEATURES | F(VIRTIO_BLK_F_FLUSH));
    memcpy(want, pattern, DISK_SIZE);
    /* 10 writes of 8 KiB and 10 reads of 8 KiB, at once. */
    for (unsigned int i = 0; i < n; i++) {
        bool w = i % 2 == 0;
        uint64_t sector = 16ULL * i, buf = DATA + 8192ULL * i;
        struct seg s[] = {
            {hdr(i, w ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector), 16, false},
            {buf, 8192, !w},
            STATUS_SEG(i)};

        if (w) {
            memset(fake_mem_at(&mem, buf), (int)i + 1, 8192);
            memset(want + sector * 512, (int)i + 1, 8192);
        }
        *status_at(i) = 0xEE;
        /* Each request on its own 3 descriptors. */
        for (unsigned int k = 0; k < 3; k++)
            fake_vq_desc(&fq, (uint16_t)(3 * i + k), s[k].gpa, s[k].len,
                         (uint16_t)((s[k].wr ? VRING_DESC_F_WRITE : 0) |
                                    (k < 2 ? VRING_DESC_F_NEXT : 0)),
                         (uint16_t)(3 * i + k + 1));
        fake_vq_publish(&fq, (uint16_t)(3 * i));
    }
    kick();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        struct timespec ts = {0, 1000000};

        nanosleep(&ts, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while (fake_vq_used_idx(&fq) != n && t1.tv_sec - t0.tv_sec < 10);
    CHECK_EQ(fake_vq_used_idx(&fq), n);
    for (unsigned int i = 0; i < n; i++) {
        CHECK_EQ(*status_at(i), VIRTIO_BLK_S_OK);
        if (i % 2)
            CHECK(memcmp(fake_mem_at(&mem, DATA + 8192ULL * i),
                         pattern + 16ULL * i * 512, 8192) == 0);
    }
    CHECK(file_is(want));
    teardown();
}

int main(void)
{
    RUN(test_features_config);
    RUN(test_features_ro_nosync);
    RUN(test_capacity_tail);
    RUN(test_open_missing);
    RUN(test_read);
    RUN(test_write);
    RUN(test_get_id);
    RUN(test_make_id);
    RUN(test_discard_write_zeroes);
    RUN(test_unknown_type);
    RUN(test_hostile_ranges);
    RUN(test_hostile_direction);
    RUN(test_hostile_no_status);
    RUN(test_hostile_chain_too_long);
    RUN(test_hostile_read_only);
    RUN(test_direct_io);
    RUN(test_event_idx);
    RUN(test_workers_in_flight);
    return t_done();
}
