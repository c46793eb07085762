/*
 * disk_int.h: what the format backends (raw.c, qcow2*.c, vmdk.c) share with
 * the dispatcher (disk.c): the ops table, the common part of every open disk
 * and the host-file layer (file.c) that does all host I/O.
 */
#ifndef KRUN_DISK_DISK_INT_H
#define KRUN_DISK_DISK_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "disk/disk.h"

/*
 * A format's entry points.  disk.c has already checked the range against
 * disk_size() and rejected writes to a read-only disk, so backends see only
 * in-range requests.  NULL discard/write_zeroes: not supported (-EOPNOTSUPP).
 */
struct disk_ops {
    const char *name;
    int (*preadv)(struct disk *d, const struct iovec *iov, int iovcnt,
                  uint64_t off);
    int (*pwritev)(struct disk *d, const struct iovec *iov, int iovcnt,
                   uint64_t off);
    int (*flush)(struct disk *d);
    int (*discard)(struct disk *d, uint64_t off, uint64_t len);
    int (*write_zeroes)(struct disk *d, uint64_t off, uint64_t len, bool unmap);
    void (*close)(struct disk *d);
};

/* Embedded first in every backend's struct; immutable after open. */
struct disk {
    const struct disk_ops *ops;
    uint64_t size; /* virtual size, multiple of 512 */
    enum disk_sync sync;
    bool read_only;
    bool can_discard;
};

/* Error message for disk_open: "PATH: ..." into (err), returns (rc). */
int disk_err(char *err, size_t errlen, int rc, const char *path,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * The images above a backing file being opened (for the depth limit and
 * loop detection): (up) NULL at the top image.
 */
struct disk_chain {
    const struct disk_chain *up;
    dev_t dev;
    ino_t ino;
    unsigned depth; /* 0 = the top image */
};

/* Backends' open functions (opts already validated by disk_open). */
int raw_open(const char *path, const struct disk_opts *opts, struct disk **out,
             char *err, size_t errlen);
int qcow2_open(const char *path, const struct disk_opts *opts,
               const struct disk_chain *chain, struct disk **out, char *err,
               size_t errlen);
int vmdk_open(const char *path, const struct disk_opts *opts, struct disk **out,
              char *err, size_t errlen);

/*
 * Open a backing image of a qcow2 file read-only: (fmt) DISK_FMT_RAW or
 * DISK_FMT_QCOW2, (chain) the images above it (depth limit, loops).
 */
int disk_open_backing(const char *path, enum disk_format fmt,
                      const struct disk_opts *opts,
                      const struct disk_chain *chain, struct disk **out,
                      char *err, size_t errlen);

/* ---------------------------------------------------------------------- */
/* Host files (file.c). */

struct disk_file {
    int fd;
    bool direct;    /* opened O_DIRECT */
    bool blockdev;  /* a block device, not a regular file */
    uint32_t align; /* O_DIRECT offset/length/memory alignment (or 1) */
    dev_t dev;
    ino_t ino;
    pthread_mutex_t rmw_lock; /* serialises O_DIRECT read-modify-writes */
};

/*
 * Open (path) (read-only or read-write, O_DIRECT if (direct)) into (f).
 * Fills (err) on failure.
 */
int disk_file_open(struct disk_file *f, const char *path, bool read_only,
                   bool direct, char *err, size_t errlen);
void disk_file_close(struct disk_file *f);
/* Current size in bytes (st_size, or the device size). */
int disk_file_size(struct disk_file *f, uint64_t *size);

/*
 * Read / write all of (iov) at (off).  Reads past the end of the file read
 * zeroes.  Straight into the caller's buffers unless O_DIRECT needs an
 * aligned bounce.  0 or -errno (-EIO for a short write).
 */
int disk_file_preadv(struct disk_file *f, const struct iovec *iov, int iovcnt,
                     uint64_t off);
int disk_file_pwritev(struct disk_file *f, const struct iovec *iov, int iovcnt,
                      uint64_t off);
int disk_file_pread(struct disk_file *f, void *buf, size_t len, uint64_t off);
int disk_file_pwrite(struct disk_file *f, const void *buf, size_t len,
                     uint64_t off);
/* Zeroes at [off, off+len): punch (if unmap) or zero-range, else writes. */
int disk_file_zero(struct disk_file *f, uint64_t off, uint64_t len, bool unmap);
/* Free [off, off+len) (punch hole, size kept); -EOPNOTSUPP if impossible. */
int disk_file_punch(struct disk_file *f, uint64_t off, uint64_t len);
/* fdatasync (RELAXED), fsync (FULL), nothing (NONE). */
int disk_file_sync(struct disk_file *f, enum disk_sync sync);

/* Bytes of a struct iovec array; false if it overflows. */
bool disk_iov_len(const struct iovec *iov, int iovcnt, uint64_t *len);
/* Zero (len) bytes of (iov) from byte (skip) of it. */
void disk_iov_zero(const struct iovec *iov, int iovcnt, uint64_t skip,
                   uint64_t len);
/* Copy (len) bytes between (buf) and (iov) from byte (skip) of the iov. */
void disk_iov_copy(const struct iovec *iov, int iovcnt, uint64_t skip,
                   void *buf, uint64_t len, bool to_iov);
/*
 * (out) = the part [skip, skip+len) of (iov); (out) has room for (iovcnt)
 * entries.  Returns the number of entries used.
 */
int disk_iov_slice(const struct iovec *iov, int iovcnt, uint64_t skip,
                   uint64_t len, struct iovec *out);
/* A read-only buffer of zeroes, (size) bytes. */
extern const uint8_t disk_zero_buf[1u << 18];

#endif /* KRUN_DISK_DISK_INT_H */
