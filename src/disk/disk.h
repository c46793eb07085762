/*
 * disk.h: disk images (raw, qcow2, VMDK flat/ZERO extents) behind one
 * interface.  A library with no VMM dependencies: it knows files and byte
 * offsets, nothing of virtio or guest memory.  Every header field and table
 * entry of an image is hostile input.
 *
 * Thread safety: every function may be called concurrently from several
 * threads on the same struct disk (the virtio-blk worker pool does); formats
 * with metadata (qcow2) serialise internally, raw I/O does not.
 *
 * Errors: 0 or a negative errno.  disk_open fills (err) with a message
 * naming the path and the bad field or value.
 */
#ifndef KRUN_DISK_DISK_H
#define KRUN_DISK_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum disk_format {
    DISK_FMT_RAW = 0,   /* = KRUN_DISK_FORMAT_RAW */
    DISK_FMT_QCOW2 = 1, /* = KRUN_DISK_FORMAT_QCOW2 */
    DISK_FMT_VMDK = 2,  /* = KRUN_DISK_FORMAT_VMDK */
};

enum disk_sync {
    DISK_SYNC_NONE = 0,    /* = KRUN_SYNC_NONE: flush is a no-op */
    DISK_SYNC_RELAXED = 1, /* = KRUN_SYNC_RELAXED: flush = fdatasync */
    DISK_SYNC_FULL = 2,    /* = KRUN_SYNC_FULL: flush = fsync */
};

struct disk_opts {
    enum disk_format format;
    enum disk_sync sync;
    bool read_only;
    bool direct_io; /* O_DIRECT; the library aligns what it must */
};

struct disk;

int disk_open(const char *path, const struct disk_opts *opts, struct disk **out,
              char *err, size_t errlen);
void disk_close(struct disk *d);

/* Virtual size in bytes (a multiple of 512). */
uint64_t disk_size(const struct disk *d);
bool disk_read_only(const struct disk *d);
/* DISCARD / WRITE_ZEROES with unmap can free space in the image. */
bool disk_can_discard(const struct disk *d);

/*
 * Read or write exactly iov_length(iov) bytes at (off).  A range past
 * disk_size() is -EINVAL before any host I/O; a short host read of a raw
 * image past its end reads zeroes.  Returns 0 or -errno (-EIO, -EROFS, ...).
 */
int disk_preadv(struct disk *d, const struct iovec *iov, int iovcnt,
                uint64_t off);
int disk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt,
                 uint64_t off);
/* Data and metadata durable in the right order (per enum disk_sync). */
int disk_flush(struct disk *d);
/* Guest may read anything (old data or zeroes) afterwards. */
int disk_discard(struct disk *d, uint64_t off, uint64_t len);
/* Reads as zeroes afterwards; (unmap) allows freeing the space. */
int disk_write_zeroes(struct disk *d, uint64_t off, uint64_t len, bool unmap);

#endif /* KRUN_DISK_DISK_H */
