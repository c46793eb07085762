/* test_virtq.c: split virtqueue parsing, hostile chains, EVENT_IDX. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake_driver.h"
#include "iov.h"
#include "t.h"
#include "virtio/virtq.h"

#define RAM_BASE 0x10000ULL
#define RAM_SIZE 0x40000ULL
#define RING     0x10000ULL /* rings at the start of RAM */
#define DATA     0x20000ULL /* buffers */
#define RAM_END  (RAM_BASE + RAM_SIZE)

#define F_NEXT  VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE
#define F_IND   VRING_DESC_F_INDIRECT

static struct fake_mem mem;
static struct fake_vq *f;

/* A fresh queue of (size) entries on fresh RAM. */
static void setup(uint16_t size, int event_idx)
{
    fake_mem_free(&mem);
    fake_mem_init(&mem, RAM_BASE, RAM_SIZE);
    fake_vq_init(f, &mem, size, RING);
    CHECK_EQ(fake_vq_validate(f, event_idx), 0);
}

static void test_validate_rejects(void)
{
    static const uint16_t bad_sizes[] = {0, 3, 6, 100, 512};

    fake_mem_init(&mem, RAM_BASE, RAM_SIZE);
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        fake_vq_init(f, &mem, 8, RING);
        f->vq.max_size = 256;
        f->vq.size = bad_sizes[i];
        CHECK_EQ(fake_vq_validate(f, 0), -EINVAL);
    }
    fake_vq_init(f, &mem, 8, RING);
    f->vq.desc_gpa += 8; /* descriptor table needs 16-byte alignment */
    CHECK_EQ(fake_vq_validate(f, 0), -EINVAL);
    fake_vq_init(f, &mem, 8, RING);
    f->vq.avail_gpa += 1;
    CHECK_EQ(fake_vq_validate(f, 0), -EINVAL);
    fake_vq_init(f, &mem, 8, RING);
    f->vq.used_gpa += 2;
    CHECK_EQ(fake_vq_validate(f, 0), -EINVAL);
    fake_vq_init(f, &mem, 8, RING);
    f->vq.used_gpa = RAM_END - 16; /* used ring runs past RAM */
    CHECK_EQ(fake_vq_validate(f, 0), -EINVAL);
    fake_vq_init(f, &mem, 8, RING);
    f->vq.desc_gpa = 0xfffffffffffffff0ULL; /* wraps around */
    CHECK_EQ(fake_vq_validate(f, 0), -EINVAL);
    fake_vq_init(f, &mem, 8, RING);
    CHECK_EQ(fake_vq_validate(f, 0), 0);
}

static void test_pop_simple_chain(void)
{
    struct iov_iter r, w;
    char out[16] = {0};

    setup(8, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 0); /* empty */
    memcpy(fake_mem_at(&mem, DATA), "hello, ", 7);
    memcpy(fake_mem_at(&mem, DATA + 0x100), "world", 5);
    fake_vq_desc(f, 2, DATA, 7, F_NEXT, 5);
    fake_vq_desc(f, 5, DATA + 0x100, 5, F_NEXT, 1);
    fake_vq_desc(f, 1, DATA + 0x200, 64, F_WRITE, 0);
    fake_vq_publish(f, 2);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    CHECK_EQ(f->req.head, 2);
    CHECK_EQ(f->req.nr_rd, 2);
    CHECK_EQ(f->req.nr_wr, 1);
    CHECK_EQ(f->req.rd_len, 12);
    CHECK_EQ(f->req.wr_len, 64);
    virtq_req_reader(&f->req, &r);
    CHECK_EQ(iov_read(&r, out, sizeof(out)), 12);
    CHECK(memcmp(out, "hello, world", 12) == 0);
    virtq_req_writer(&f->req, &w);
    CHECK_EQ(iov_write(&w, "ok", 2), 2);
    virtq_push(&f->vq, f->req.head, 2);
    CHECK_EQ(fake_vq_used_idx(f), 1);
    CHECK_EQ(fake_vq_used_elem(f, 0).id, 2);
    CHECK_EQ(fake_vq_used_elem(f, 0).len, 2);
    CHECK(memcmp(fake_mem_at(&mem, DATA + 0x200), "ok", 2) == 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 0);
}

static void test_ring_wraps(void)
{
    setup(4, 0);
    for (unsigned int i = 0; i < 70000; i++) { /* past the u16 wrap */
        fake_vq_desc(f, (uint16_t)(i % 4), DATA, 8, F_WRITE, 0);
        fake_vq_publish(f, (uint16_t)(i % 4));
        if (virtq_pop(&f->vq, &f->req) != 1 || f->req.head != i % 4) {
            CHECK(!"pop failed while wrapping");
            return;
        }
        virtq_push(&f->vq, f->req.head, 8);
    }
    CHECK_EQ(fake_vq_used_idx(f), (uint16_t)70000);
}

static void test_cycle_rejected(void)
{
    setup(8, 0);
    fake_vq_desc(f, 0, DATA, 16, F_NEXT, 1);
    fake_vq_desc(f, 1, DATA, 16, F_NEXT, 0); /* 0 -> 1 -> 0 -> ... */
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
    setup(8, 0);
    fake_vq_desc(f, 3, DATA, 16, F_NEXT, 3); /* self loop */
    fake_vq_publish(f, 3);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
}

static void test_chain_longer_than_queue(void)
{
    /* A full table is fine; a "next" past the table is not. */
    setup(4, 0);
    for (uint16_t i = 0; i < 4; i++)
        fake_vq_desc(f, i, DATA + 16ULL * i, 16, i < 3 ? F_NEXT : 0,
                     (uint16_t)(i + 1));
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    CHECK_EQ(f->req.nr_rd, 4);
    setup(4, 0);
    for (uint16_t i = 0; i < 4; i++)
        fake_vq_desc(f, i, DATA, 16, F_NEXT, (uint16_t)(i + 1));
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL); /* next = 4 */
}

static void test_bad_head_and_avail_idx(void)
{
    setup(8, 0);
    fake_vq_publish(f, 8); /* head out of range */
    CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
    setup(8, 0);
    fake_vq_set_avail_idx(f, 9); /* more than a ring ahead */
    CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
}

static void test_buffer_outside_ram(void)
{
    static const struct {
        uint64_t addr;
        uint32_t len;
    } bad[] = {
        {RAM_END, 1},                       /* just past RAM */
        {RAM_END - 8, 16},                  /* runs past RAM */
        {RAM_BASE - 1, 2},                  /* starts below RAM */
        {0xfffffffffffffff0ULL, 0x20},      /* addr + len overflows */
        {0xffffffffffffffffULL, 0xffffffff} /* ditto, maximal */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setup(8, 0);
        fake_vq_desc(f, 0, bad[i].addr, bad[i].len, 0, 0);
        fake_vq_publish(f, 0);
        CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
    }
}

static void test_write_before_read_rejected(void)
{
    setup(8, 0);
    fake_vq_desc(f, 0, DATA, 16, F_NEXT | F_WRITE, 1);
    fake_vq_desc(f, 1, DATA + 16, 16, 0, 0);
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
}

static void test_indirect(void)
{
    const uint64_t table = DATA + 0x1000;

    setup(8, 0);
    fake_desc_at(&mem, table, 0, DATA, 10, F_NEXT, 2);
    fake_desc_at(&mem, table, 2, DATA + 0x100, 20, F_NEXT | F_WRITE, 1);
    fake_desc_at(&mem, table, 1, DATA + 0x200, 30, F_WRITE, 0);
    fake_vq_desc(f, 0, DATA + 0x300, 5, F_NEXT, 1); /* direct, then table */
    fake_vq_desc(f, 1, table, 3 * 16, F_IND, 0);
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    CHECK_EQ(f->req.nr_rd, 2);
    CHECK_EQ(f->req.nr_wr, 2);
    CHECK_EQ(f->req.rd_len, 15);
    CHECK_EQ(f->req.wr_len, 50);
}

static void test_indirect_rejects(void)
{
    const uint64_t table = DATA + 0x1000, inner = DATA + 0x2000;

    /* An indirect descriptor inside an indirect table. */
    setup(8, 0);
    fake_desc_at(&mem, inner, 0, DATA, 8, 0, 0);
    fake_desc_at(&mem, table, 0, inner, 16, F_IND, 0);
    fake_vq_desc(f, 0, table, 16, F_IND, 0);
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
    /* Table length not a multiple of 16, zero, outside RAM, with NEXT. */
    for (uint16_t h = 0; h < 4; h++) {
        setup(8, 0);
        fake_desc_at(&mem, table, 0, DATA, 8, 0, 0);
        fake_vq_desc(f, 0, table, 24, F_IND, 0);
        fake_vq_desc(f, 1, table, 0, F_IND, 0);
        fake_vq_desc(f, 2, RAM_END - 16, 32, F_IND, 0);
        fake_vq_desc(f, 3, table, 16, F_IND | F_NEXT, 4);
        fake_vq_desc(f, 4, DATA, 8, 0, 0);
        fake_vq_publish(f, h);
        CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
    }
    /* A cycle inside the table. */
    setup(8, 0);
    fake_desc_at(&mem, table, 0, DATA, 8, F_NEXT, 1);
    fake_desc_at(&mem, table, 1, DATA, 8, F_NEXT, 0);
    fake_vq_desc(f, 0, table, 32, F_IND, 0);
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
    /* Write-only before read-only across the table boundary. */
    setup(8, 0);
    fake_desc_at(&mem, table, 0, DATA, 8, 0, 0);
    fake_vq_desc(f, 0, DATA, 8, F_WRITE | F_NEXT, 1);
    fake_vq_desc(f, 1, table, 16, F_IND, 0);
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), -EINVAL);
}

static void test_buffer_straddles_regions(void)
{
    static uint8_t extra[0x1000] __attribute__((aligned(4096)));
    uint8_t src[32];
    struct iov_iter r;

    setup(8, 0);
    CHECK_EQ(gm_add_region(&mem.gm, RAM_END, sizeof(extra), extra), 0);
    for (unsigned int i = 0; i < 16; i++)
        ((uint8_t *)fake_mem_at(&mem, RAM_END - 16))[i] = (uint8_t)i;
    memcpy(extra, "0123456789abcdef", 16);
    fake_vq_desc(f, 0, RAM_END - 16, 32, 0, 0);
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    CHECK_EQ(f->req.nr_rd, 2);
    CHECK_EQ(f->req.rd_len, 32);
    virtq_req_reader(&f->req, &r);
    CHECK_EQ(iov_read(&r, src, sizeof(src)), 32);
    CHECK(src[15] == 15 && memcmp(src + 16, "0123456789abcdef", 16) == 0);
}

static void test_notify_flags(void)
{
    setup(8, 0);
    fake_vq_desc(f, 0, DATA, 8, F_WRITE, 0);
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    virtq_push(&f->vq, 0, 8);
    CHECK(virtq_should_notify(&f->vq));
    CHECK(!virtq_should_notify(&f->vq)); /* nothing new since */
    fake_vq_set_avail_flags(f, VRING_AVAIL_F_NO_INTERRUPT);
    fake_vq_publish(f, 0);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    virtq_push(&f->vq, 0, 8);
    CHECK(!virtq_should_notify(&f->vq));
    virtq_disable_notify(&f->vq);
    CHECK_EQ(fake_vq_used_flags(f), VRING_USED_F_NO_NOTIFY);
    CHECK(!virtq_enable_notify(&f->vq));
    CHECK_EQ(fake_vq_used_flags(f), 0);
    fake_vq_publish(f, 0);
    CHECK(virtq_enable_notify(&f->vq)); /* arrived meanwhile */
}

static void test_event_idx(void)
{
    setup(8, 1);
    /* Empty pop asks for a kick at the next slot. */
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 0);
    CHECK_EQ(fake_vq_avail_event(f), 0);
    for (uint16_t i = 0; i < 3; i++) {
        fake_vq_desc(f, i, DATA, 8, F_WRITE, 0);
        fake_vq_publish(f, i);
    }
    /* Driver wants an interrupt only once used idx passes 2. */
    fake_vq_set_used_event(f, 2);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    virtq_push(&f->vq, f->req.head, 8);
    CHECK(virtq_should_notify(&f->vq)); /* first one always */
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    virtq_push(&f->vq, f->req.head, 8); /* used idx 2: event 2 not passed */
    CHECK(!virtq_should_notify(&f->vq));
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    virtq_push(&f->vq, f->req.head, 8); /* used idx 3: passed 2 */
    CHECK(virtq_should_notify(&f->vq));
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 0);
    CHECK_EQ(fake_vq_avail_event(f), 3);
    /* Suppressed entirely while used_event lags behind. */
    fake_vq_set_used_event(f, 0);
    fake_vq_desc(f, 3, DATA, 8, F_WRITE, 0);
    fake_vq_publish(f, 3);
    CHECK_EQ(virtq_pop(&f->vq, &f->req), 1);
    virtq_push(&f->vq, f->req.head, 8);
    CHECK(!virtq_should_notify(&f->vq));
    CHECK(!virtq_enable_notify(&f->vq));
    CHECK_EQ(fake_vq_avail_event(f), 4);
}

int main(void)
{
    f = calloc(1, sizeof(*f));
    if (!f)
        return 1;
    RUN(test_validate_rejects);
    RUN(test_pop_simple_chain);
    RUN(test_ring_wraps);
    RUN(test_cycle_rejected);
    RUN(test_chain_longer_than_queue);
    RUN(test_bad_head_and_avail_idx);
    RUN(test_buffer_outside_ram);
    RUN(test_write_before_read_rejected);
    RUN(test_indirect);
    RUN(test_indirect_rejects);
    RUN(test_buffer_straddles_regions);
    RUN(test_notify_flags);
    RUN(test_event_idx);
    fake_mem_free(&mem);
    free(f);
    return t_done();
}
