/* mem.c: guest RAM regions and the only checked guest-address accessors. */
#include "mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

void gm_init(struct guest_mem *gm)
{
    memset(gm, 0, sizeof(*gm));
}

/* True if [a, a+alen) and [b, b+blen) intersect; the ends do not overflow. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static int gm_insert(struct guest_mem *gm, uint64_t gpa, uint64_t size,
                     void *host, bool owned)
{
    uint64_t end;
    unsigned int i, pos = 0;

    if (size == 0 || !host || add_overflow(gpa, size, &end))
        return -EINVAL;
    /* Ring structures are accessed in place: keep their alignment. */
    if (((uintptr_t)host ^ gpa) & 15)
        return -EINVAL;
    if (gm->nr_regions >= GM_MAX_REGIONS)
        return -ENOSPC;
    for (i = 0; i < gm->nr_regions; i++) {
        const struct gm_region *r = &gm->regions[i];

        if (ranges_overlap(gpa, size, r->gpa, r->size))
            return -EINVAL;
        if (r->gpa < gpa)
            pos = i + 1;
    }
    memmove(&gm->regions[pos + 1], &gm->regions[pos],
            (gm->nr_regions - pos) * sizeof(gm->regions[0]));
    gm->regions[pos] = (struct gm_region){gpa, size, host, owned};
    gm->nr_regions++;
    return 0;
}

int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *host)
{
    return gm_insert(gm, gpa, size, host, false);
}

int gm_map_anon(struct guest_mem *gm, uint64_t gpa, uint64_t size)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    void *host;
    int rc;

    if (!IS_ALIGNED(gpa, page) || !IS_ALIGNED(size, page) || size == 0 ||
        size > SIZE_MAX)
        return -EINVAL;
    host = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (host == MAP_FAILED)
        return -ENOMEM;
    rc = gm_insert(gm, gpa, size, host, true);
    if (rc < 0)
        munmap(host, (size_t)size);
    return rc;
}

int gm_add_ram(struct guest_mem *gm, uint64_t gpa, uint64_t size,
               uint64_t hole_start, uint64_t hole_end)
{
    uint64_t end, below;
    int rc;

    if (hole_end < hole_start || add_overflow(gpa, size, &end))
        return -EINVAL;
    if (gpa >= hole_start && gpa < hole_end)
        return -EINVAL;
    if (gpa >= hole_end || end <= hole_start)
        return gm_map_anon(gm, gpa, size);
    below = hole_start - gpa;
    rc = gm_map_anon(gm, gpa, below);
    if (rc < 0)
        return rc;
    return gm_map_anon(gm, hole_end, size - below);
}

void gm_destroy(struct guest_mem *gm)
{
    for (unsigned int i = 0; i < gm->nr_regions; i++) {
        struct gm_region *r = &gm->regions[i];

        if (r->owned)
            munmap(r->host, (size_t)r->size);
    }
    gm_init(gm);
}

/* The region holding byte (gpa), or NULL. */
static const struct gm_region *gm_find(const struct guest_mem *gm, uint64_t gpa)
{
    for (unsigned int i = 0; i < gm->nr_regions; i++) {
        const struct gm_region *r = &gm->regions[i];

        if (gpa >= r->gpa && gpa - r->gpa < r->size)
            return r;
    }
    return NULL;
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    uint64_t end;

    if (add_overflow(gpa, len, &end))
        return NULL;
    for (unsigned int i = 0; i < gm->nr_regions; i++) {
        const struct gm_region *r = &gm->regions[i];

        /* r->gpa + r->size cannot overflow: gm_insert() checked it. */
        if (gpa >= r->gpa && end <= r->gpa + r->size)
            return (uint8_t *)r->host + (gpa - r->gpa);
    }
    return NULL;
}

void *gm_ptr_prefix(const struct guest_mem *gm, uint64_t gpa, uint64_t len,
                    uint64_t *got)
{
    const struct gm_region *r;
    uint64_t off;

    if (len == 0)
        return NULL;
    r = gm_find(gm, gpa);
    if (!r)
        return NULL;
    off = gpa - r->gpa;
    *got = MIN(len, r->size - off);
    return (uint8_t *)r->host + off;
}

/*
 * Walk [gpa, gpa+len) region by region; with (buf) == NULL only check that
 * every byte is backed.  (to_guest) picks the copy direction.
 */
static int gm_copy(const struct guest_mem *gm, uint64_t gpa, void *buf,
                   size_t len, bool to_guest)
{
    uint8_t *p = buf;
    uint64_t end;

    if (add_overflow(gpa, (uint64_t)len, &end))
        return -EFAULT;
    while (len > 0) {
        uint64_t n;
        uint8_t *host = gm_ptr_prefix(gm, gpa, len, &n);

        if (!host)
            return -EFAULT;
        if (p && to_guest)
            memcpy(host, p, n);
        else if (p)
            memcpy(p, host, n);
        if (p)
            p += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len)
{
    int rc = gm_copy(gm, gpa, NULL, len, false);

    return rc < 0 ? rc : gm_copy(gm, gpa, dst, len, false);
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src,
             size_t len)
{
    int rc = gm_copy(gm, gpa, NULL, len, true);

    /* gm_copy() only reads from (src) when copying to the guest. */
    return rc < 0 ? rc : gm_copy(gm, gpa, (void *)(uintptr_t)src, len, true);
}

uint64_t gm_end(const struct guest_mem *gm)
{
    const struct gm_region *r;

    if (gm->nr_regions == 0)
        return 0;
    r = &gm->regions[gm->nr_regions - 1];
    return r->gpa + r->size;
}

int64_t gm_discard(const struct guest_mem *gm, void *host, uint64_t len)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)host, end, lo, hi;

    if (add_overflow(start, len, &end))
        return 0;
    for (unsigned int i = 0; i < gm->nr_regions; i++) {
        const struct gm_region *r = &gm->regions[i];
        uintptr_t base = (uintptr_t)r->host;

        /* base + size cannot overflow: the mapping exists. */
        if (!r->owned || start < base || end > base + r->size)
            continue;
        lo = ALIGN_UP(start, page);
        hi = ALIGN_DOWN(end, page);
        if (lo >= hi)
            return 0;
        if (madvise((void *)lo, hi - lo, MADV_DONTNEED) < 0)
            return -errno;
        return (int64_t)(hi - lo);
    }
    return 0;
}
