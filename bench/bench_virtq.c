/*
 * bench_virtq: the device side of the split virtqueue (virtq_pop +
 * virtq_push + virtq_should_notify) on fake guest memory, against a peer
 * loop that memcpy's the same ring bytes a request touches (the avail entry,
 * its descriptors, the used element) with no checks.  Prints ns/request and
 * the ratio for 1- and 4-descriptor chains.
 *
 * The driver side publishes a batch of BATCH chains (not timed); the device
 * side pops and completes the whole batch (timed), so the clock is read once
 * per batch.  Each configuration runs ROUNDS times; the best round counts
 * (the least disturbed by the rest of the machine).
 *
 *   bench_virtq [-n REQUESTS_PER_ROUND] [-r ROUNDS]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_driver.h"
#include "fake_mem.h"
#include "virtio/virtq.h"

#define RAM_BASE 0x100000ULL
#define RAM_SIZE (4ULL << 20)
#define RING     RAM_BASE
#define DATA     (RAM_BASE + 0x10000ULL)
#define QSIZE    256
#define BATCH    64

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Keeps the compiler from dropping the peer's work. */
static volatile uint64_t sink;

/*
 * Chains of (ndesc) descriptors: head h owns descriptors h*ndesc ..
 * h*ndesc+ndesc-1; the first ndesc-1 are readable 64-byte buffers, the last
 * a writable 64-byte buffer (a FUSE-like request/reply shape; 1 descriptor:
 * one writable buffer, like rng).
 */
static unsigned int layout(struct fake_vq *f, unsigned int ndesc)
{
    unsigned int heads = QSIZE / ndesc;

    for (unsigned int h = 0; h < heads; h++) {
        for (unsigned int d = 0; d < ndesc; d++) {
            uint16_t idx = (uint16_t)(h * ndesc + d);
            bool last = d + 1 == ndesc;
            fake_vq_desc(f, idx, DATA + 64ULL * idx, 64,
                         last ? VRING_DESC_F_WRITE : VRING_DESC_F_NEXT,
                         last ? 0 : (uint16_t)(idx + 1));
        }
    }
    return heads;
}

static double run_virtq(struct fake_mem *mem, unsigned int ndesc, long total)
{
    static struct fake_vq f; /* holds a large virtq_req */
    uint64_t t = 0;
    long done = 0;
    unsigned int heads, next = 0;

    fake_vq_init(&f, mem, QSIZE, RING);
    if (fake_vq_validate(&f, 0) != 0) {
        fprintf(stderr, "bench_virtq: virtq_validate failed\n");
        exit(2);
    }
    heads = layout(&f, ndesc);
    while (done < total) {
        unsigned int n = BATCH < heads ? BATCH : heads;
        uint64_t t0;

        for (unsigned int i = 0; i < n; i++) {
            fake_vq_publish(&f, (uint16_t)(next * ndesc));
            next = (next + 1) % heads;
        }
        t0 = now_ns();
        for (unsigned int i = 0; i < n; i++) {
            if (virtq_pop(&f.vq, &f.req) != 1) {
                fprintf(stderr, "bench_virtq: virtq_pop failed\n");
                exit(2);
            }
            virtq_push(&f.vq, f.req.head, 16);
        }
        (void)virtq_should_notify(&f.vq);
        t += now_ns() - t0;
        done += n;
    }
    return (double)t / (double)done;
}

/*
 * The peer: per request, read the avail entry, copy its (ndesc) descriptors
 * out (following next, no checks), write the used element and the used idx:
 * the same ring bytes, nothing else.
 */
static double run_memcpy(struct fake_mem *mem, unsigned int ndesc, long total)
{
    static struct fake_vq f;
    uint64_t t = 0;
    long done = 0;
    unsigned int heads, next = 0;
    uint16_t last_avail = 0, used_idx = 0;
    struct vring_desc copy[4];
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;

    fake_vq_init(&f, mem, QSIZE, RING);
    heads = layout(&f, ndesc);
    desc = fake_mem_at(mem, f.desc);
    avail = fake_mem_at(mem, f.avail);
    used = fake_mem_at(mem, f.used);
    while (done < total) {
        unsigned int n = BATCH < heads ? BATCH : heads;
        uint64_t t0, acc = 0;

        for (unsigned int i = 0; i < n; i++) {
            fake_vq_publish(&f, (uint16_t)(next * ndesc));
            next = (next + 1) % heads;
        }
        t0 = now_ns();
        for (unsigned int i = 0; i < n; i++) {
            uint16_t head, idx;
            struct vring_used_elem e;

            memcpy(&head, &avail->ring[last_avail++ & (QSIZE - 1)],
                   sizeof(head));
            idx = head;
            for (unsigned int d = 0; d < ndesc; d++) {
                memcpy(&copy[d], &desc[idx], sizeof(copy[d]));
                idx = copy[d].next;
                acc += copy[d].len;
            }
            e.id = head;
            e.len = 16;
            memcpy(&used->ring[used_idx++ & (QSIZE - 1)], &e, sizeof(e));
            __atomic_store_n(&used->idx, used_idx, __ATOMIC_RELEASE);
        }
        t += now_ns() - t0;
        sink += acc;
        done += n;
    }
    return (double)t / (double)done;
}

int main(int argc, char **argv)
{
    static const unsigned int shapes[] = {1, 4};
    long total = 2000000;
    int rounds = 5, opt;
    struct fake_mem mem;

    while ((opt = getopt(argc, argv, "n:r:")) != -1) {
        if (opt == 'n')
            total = strtol(optarg, NULL, 10);
        else if (opt == 'r')
            rounds = atoi(optarg);
        else {
            fprintf(stderr, "usage: bench_virtq [-n REQUESTS] [-r ROUNDS]\n");
            return 2;
        }
    }
    if (total < BATCH || rounds < 1) {
        fprintf(stderr, "bench_virtq: -n must be >= %d, -r >= 1\n", BATCH);
        return 2;
    }

    fake_mem_init(&mem, RAM_BASE, RAM_SIZE);
    printf("## virtqueue: device-side pop + push, queue size %d, batches of "
           "%d, %ld requests x %d rounds (best round)\n\n",
           QSIZE, BATCH, total, rounds);
    printf("| chain | virtq ns/req | virtq Mreq/s | memcpy peer ns/req "
           "| virtq/peer ratio |\n");
    printf("|---|---|---|---|---|\n");
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        double best_v = 1e30, best_m = 1e30;

        for (int r = 0; r < rounds; r++) {
            double v = run_virtq(&mem, shapes[s], total);
            double m = run_memcpy(&mem, shapes[s], total);
            if (v < best_v)
                best_v = v;
            if (m < best_m)
                best_m = m;
        }
        printf("| %u desc | %.1f | %.1f | %.1f | %.2f |\n", shapes[s], best_v,
               1000.0 / best_v, best_m, best_v / best_m);
    }
    printf("\n(peer: the same avail entry, descriptors and used element "
           "copied with memcpy, no validation; includes the clock "
           "read per batch of %d in both columns)\n",
           BATCH);
    fake_mem_free(&mem);
    return 0;
}
