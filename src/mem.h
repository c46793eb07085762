/*
 * mem.h: guest RAM as a small, fixed list of regions {guest physical base,
 * size, host pointer}, and the ONLY checked accessors for it.  Nothing else in
 * the tree turns a guest physical address into a host pointer.
 *
 * Threads: regions are added on the build thread before the vCPUs start; from
 * then on the list never changes, so any thread may call the lookups without a
 * lock.  The guest may change the bytes behind any pointer at any time: copy
 * what you validate (CONVENTIONS.md rule 5).
 */
#ifndef KRUN_MEM_H
#define KRUN_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 16

struct gm_region {
    uint64_t gpa;  /* guest physical base */
    uint64_t size; /* bytes, > 0 */
    void *host;    /* host address of gpa */
    bool owned;    /* mapped by gm_map_anon(); gm_destroy() unmaps it */
};

struct guest_mem {
    unsigned int nr_regions;
    struct gm_region regions[GM_MAX_REGIONS]; /* sorted by gpa */
};

/* Initialise (gm) with no regions. */
void gm_init(struct guest_mem *gm);

/*
 * Add [gpa, gpa+size) backed by the caller's mapping at (host), which must stay
 * valid until gm_destroy() (e.g. the libkrunfw kernel image); (host) and
 * (gpa) must agree modulo 16.  Returns 0, -EINVAL for an empty, overflowing
 * or overlapping range or a misaligned host, -ENOSPC when the table is full.
 * Build thread only.
 */
int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t size,
                  void *host);

/*
 * mmap (size) bytes of anonymous, lazily touched memory and add it at (gpa);
 * (gpa) and (size) must be page-aligned.  Returns 0 or -errno (-EINVAL,
 * -ENOSPC, -ENOMEM).  Build thread only.
 */
int gm_map_anon(struct guest_mem *gm, uint64_t gpa, uint64_t size);

/*
 * Add (size) bytes of anonymous RAM starting at (gpa), skipping the guest
 * physical hole [hole_start, hole_end): the part that would fall into the hole
 * continues at (hole_end).  Used for the x86 0xD0000000..4 GiB MMIO gap.
 * Returns 0 or -errno like gm_map_anon().  Build thread only.
 */
int gm_add_ram(struct guest_mem *gm, uint64_t gpa, uint64_t size,
               uint64_t hole_start, uint64_t hole_end);

/* Unmap the regions gm_map_anon() created and forget all regions. */
void gm_destroy(struct guest_mem *gm);

/*
 * Host pointer for [gpa, gpa+len) if the whole range lies inside one region
 * (overflow-safe), else NULL.  len == 0 still requires gpa inside a region or
 * at its end.  Any thread.
 */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/*
 * Host pointer for the longest prefix of [gpa, gpa+len) that lies in one
 * region; its length is stored in (*got) (1..len).  NULL if gpa is in no
 * region or len == 0.  For buffers that may straddle two adjacent regions.
 * Any thread.
 */
void *gm_ptr_prefix(const struct guest_mem *gm, uint64_t gpa, uint64_t len,
                    uint64_t *got);

/*
 * Copy (len) bytes from guest (gpa) to (dst) / from (src) to guest (gpa); the
 * range may span adjacent regions.  Returns 0, or -EFAULT (nothing copied) if
 * any byte is outside guest RAM.  Any thread.
 */
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src,
             size_t len);

/*
 * Give the whole host pages inside [host, host+len) back to the host kernel
 * (madvise MADV_DONTNEED: RAM is private anonymous memory, so the guest reads
 * zeroes there next time).  The range must lie inside one region that
 * gm_map_anon() created; other regions (the kernel bundle, caller mappings)
 * and partial pages at either end are left alone.  Returns the bytes given
 * back (0 if none) or -errno from madvise().  Any thread.
 */
int64_t gm_discard(const struct guest_mem *gm, void *host, uint64_t len);

/* One past the highest guest physical address backed by a region (0 if none).
 */
uint64_t gm_end(const struct guest_mem *gm);

#endif /* KRUN_MEM_H */
