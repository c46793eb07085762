/*
 * fuse.h: the few FUSE wire definitions the test guest speaks, written from
 * the protocol as <linux/fuse.h> documents it (7.x, little endian; the guest
 * is freestanding, so the host header is not included) and virtio 1.2
 * §5.11 (virtio-fs carries one FUSE request per descriptor chain: the
 * device-readable in-header and arguments, then the device-writable
 * out-header and reply).
 */
#ifndef KRUN_TESTS_GUEST_FUSE_H
#define KRUN_TESTS_GUEST_FUSE_H

#include <stdint.h>

#define FUSE_KERNEL_VERSION 7
#define FUSE_ROOT_ID        1

enum fuse_opcode {
    FUSE_LOOKUP = 1,
    FUSE_GETATTR = 3,
    FUSE_OPEN = 14,
    FUSE_READ = 15,
    FUSE_WRITE = 16,
    FUSE_RELEASE = 18,
    FUSE_INIT = 26,
    FUSE_CREATE = 35,
    FUSE_IOCTL = 39,
};

/* The exit-code ioctl of libkrun's init (libkrun-behaviour.md §4.6). */
#define KRUN_EXIT_CODE_IOCTL 0x7602

/* open(2) flags and errno values as the x86_64 Linux ABI numbers them. */
#define G_O_RDONLY 0
#define G_O_WRONLY 1
#define G_O_CREAT  0100
#define G_O_EXCL   0200
#define G_ENOENT   2
#define G_EIO      5
#define G_EINVAL   22
#define G_ENOSYS   38
#define G_S_IFMT   0170000
#define G_S_IFREG  0100000
#define G_S_IFDIR  0040000

struct fuse_in_header {
    uint32_t len, opcode;
    uint64_t unique, nodeid;
    uint32_t uid, gid, pid;
    uint16_t total_extlen, padding;
};
_Static_assert(sizeof(struct fuse_in_header) == 40, "fuse_in_header");

struct fuse_out_header {
    uint32_t len;
    int32_t error; /* 0 or -errno */
    uint64_t unique;
};
_Static_assert(sizeof(struct fuse_out_header) == 16, "fuse_out_header");

struct fuse_attr {
    uint64_t ino, size, blocks, atime, mtime, ctime;
    uint32_t atimensec, mtimensec, ctimensec;
    uint32_t mode, nlink, uid, gid, rdev, blksize, flags;
};
_Static_assert(sizeof(struct fuse_attr) == 88, "fuse_attr");

struct fuse_entry_out {
    uint64_t nodeid, generation, entry_valid, attr_valid;
    uint32_t entry_valid_nsec, attr_valid_nsec;
    struct fuse_attr attr;
};
_Static_assert(sizeof(struct fuse_entry_out) == 128, "fuse_entry_out");

struct fuse_init_in {
    uint32_t major, minor, max_readahead, flags, flags2, unused[11];
};
_Static_assert(sizeof(struct fuse_init_in) == 64, "fuse_init_in");

struct fuse_init_out {
    uint32_t major, minor, max_readahead, flags;
    uint16_t max_background, congestion_threshold;
    uint32_t max_write, time_gran;
    uint16_t max_pages, map_alignment;
    uint32_t flags2, unused[7];
};
_Static_assert(sizeof(struct fuse_init_out) == 64, "fuse_init_out");

struct fuse_getattr_in {
    uint32_t getattr_flags, dummy;
    uint64_t fh;
};

struct fuse_attr_out {
    uint64_t attr_valid;
    uint32_t attr_valid_nsec, dummy;
    struct fuse_attr attr;
};
_Static_assert(sizeof(struct fuse_attr_out) == 104, "fuse_attr_out");

struct fuse_open_in {
    uint32_t flags, open_flags;
};

struct fuse_open_out {
    uint64_t fh;
    uint32_t open_flags, padding;
};

struct fuse_create_in {
    uint32_t flags, mode, umask, open_flags;
};

/* READ and WRITE share this layout (fuse_read_in / fuse_write_in). */
struct fuse_rw_in {
    uint64_t fh, offset;
    uint32_t size, rw_flags;
    uint64_t lock_owner;
    uint32_t flags, padding;
};
_Static_assert(sizeof(struct fuse_rw_in) == 40, "fuse_read_in");

struct fuse_write_out {
    uint32_t size, padding;
};

struct fuse_release_in {
    uint64_t fh;
    uint32_t flags, release_flags;
    uint64_t lock_owner;
};

struct fuse_ioctl_in {
    uint64_t fh;
    uint32_t flags, cmd;
    uint64_t arg;
    uint32_t in_size, out_size;
};
_Static_assert(sizeof(struct fuse_ioctl_in) == 32, "fuse_ioctl_in");

struct fuse_ioctl_out {
    int32_t result;
    uint32_t flags, in_iovs, out_iovs;
};

#endif /* KRUN_TESTS_GUEST_FUSE_H */
