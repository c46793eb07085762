/*
 * fuzz_virtq.c: the split virtqueue on fake guest memory.  Input: a 4-byte
 * header (queue size, flags, two ops seeds) then the bytes of guest RAM
 * (descriptor table, avail ring, indirect tables, buffers).  The device side
 * pops, reads and writes every request and completes it, as a device would.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fake_mem.h"
#include "iov.h"
#include "virtio/virtq.h"

#define RAM_HALF 0x8000ULL /* two adjacent regions: buffers may straddle */
#define DESC     0x0ULL
#define AVAIL    0x1000ULL
#define USED     0x2000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ram_lo[RAM_HALF] __attribute__((aligned(4096)));
static uint8_t ram_hi[RAM_HALF] __attribute__((aligned(4096)));
static struct virtq vq;
static struct virtq_req req;

/* Consume every request the way a device would. */
static void drain(uint8_t flags)
{
    uint8_t scratch[512];
    int rc;

    for (unsigned int i = 0; i < 2u * vq.size + 2; i++) {
        struct iov_iter r, w;
        size_t written;

        if (flags & 2)
            virtq_disable_notify(&vq);
        rc = virtq_pop(&vq, &req);
        if (rc <= 0)
            break;
        virtq_req_reader(&req, &r);
        while (iov_read(&r, scratch, sizeof(scratch)) > 0)
            ;
        virtq_req_writer(&req, &w);
        iov_skip(&w, flags & 4 ? 3 : 0);
        memset(scratch, 0xa5, sizeof(scratch));
        written = iov_write(&w, scratch, sizeof(scratch));
        virtq_push(&vq, req.head, (uint32_t)written);
        if (flags & 8)
            (void)virtq_should_notify(&vq);
        if (flags & 2)
            (void)virtq_enable_notify(&vq);
    }
    (void)virtq_should_notify(&vq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct guest_mem gm;
    uint8_t flags;

    if (size < 4)
        return 0;
    memset(ram_lo, 0, sizeof(ram_lo));
    memset(ram_hi, 0, sizeof(ram_hi));
    gm_init(&gm);
    gm_add_region(&gm, 0, RAM_HALF, ram_lo);
    gm_add_region(&gm, RAM_HALF, RAM_HALF, ram_hi);
    memset(&vq, 0, sizeof(vq));
    vq.max_size = 256;
    vq.size = (uint16_t)(1u << (data[0] % 9));
    if (data[0] & 0x80)
        vq.size = data[3]; /* possibly not a power of two */
    flags = data[1];
    vq.desc_gpa = DESC + (flags & 0x10 ? data[2] : 0);
    vq.avail_gpa = AVAIL + (flags & 0x20 ? data[2] : 0);
    vq.used_gpa = USED + (flags & 0x40 ? data[2] : 0);
    data += 4;
    size -= 4;
    gm_write(&gm, 0, data, size < 2 * RAM_HALF ? size : 2 * RAM_HALF);
    if (virtq_validate(&vq, &gm, flags & 1) < 0)
        return 0;
    drain(flags);
    return 0;
}
